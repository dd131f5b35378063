#include "markdown.h"

#include <jansson.h>
#include <string.h>

#include "commands.h"
#include "help.h"
#include "output.h"
#include "sbuf.h"

/* Text for a table cell: '|' would end the cell, even inside `code`. */
static void cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputc('\\', out);
        fputc(*s == '\n' ? ' ' : *s, out);
    }
}

static void param_row(FILE *out, const struct ctl_param *p)
{
    struct sbuf label = SBUF_INIT, text = SBUF_INIT;

    help_param_label(&label, p);
    help_param_text(&text, p);
    fputs("| `", out);
    cell(out, sbuf_str(&label));
    fputs("` | ", out);
    cell(out, sbuf_str(&text));
    fputs(" |\n", out);
    sbuf_free(&label);
    sbuf_free(&text);
}

static void params_table(FILE *out, const struct ctl_command *cmd)
{
    size_t nargs = command_nargs(cmd), nopts = command_nopts(cmd);

    if (nargs + nopts == 0)
        return;
    fputs("| Argument / option | Description |\n| --- | --- |\n", out);
    for (size_t k = 0; k < nargs; k++)
        param_row(out, &cmd->args[k]);
    for (size_t k = 0; k < nopts; k++)
        param_row(out, &cmd->options[k]);
    fputc('\n', out);
}

/* The example command line and, when the row has one, its canned answer
 * rendered exactly as llmoinctl would render it. */
static int example(FILE *out, const struct ctl_command *cmd, struct ctl_error *err)
{
    struct sbuf line = SBUF_INIT;
    json_error_t jerr;
    json_t *doc = NULL;
    int rc = 0;

    help_example(&line, cmd);
    fprintf(out, "Example:\n\n```console\n$ %s\n", sbuf_str(&line));
    sbuf_free(&line);
    if (cmd->example_response) {
        doc = json_loads(cmd->example_response, 0, &jerr);
        if (!doc)
            return ctl_fail(err, CTL_EXIT_API, "internal error: example for '%s': %s", cmd->words,
                            jerr.text);
        rc = output_render(out, FORMAT_TABLE, cmd->view, doc, err);
        json_decref(doc);
    }
    fputs("```\n\n", out);
    return rc;
}

static int command_section(FILE *out, const struct ctl_command *cmd, struct ctl_error *err)
{
    struct sbuf syn = SBUF_INIT;

    help_synopsis(&syn, cmd, true);
    fprintf(out, "### %s\n\n%s.\n\n```\n%s\n```\n\n", cmd->words, cmd->summary, sbuf_str(&syn));
    sbuf_reset(&syn);
    if (cmd->description)
        fprintf(out, "%s\n\n", cmd->description);
    params_table(out, cmd);
    if (command_nrules(cmd)) {
        help_rules(&syn, cmd);
        fprintf(out, "%s\n\n", sbuf_str(&syn));
        sbuf_reset(&syn);
    }
    if (cmd->method) {
        help_request(&syn, cmd);
        fprintf(out, "Request: `%s`\n\n", sbuf_str(&syn));
    }
    sbuf_free(&syn);
    return cmd->example[0] ? example(out, cmd, err) : 0;
}

/* GitHub's heading anchors: lowercase, spaces to '-'. */
static void anchor(FILE *out, const char *words)
{
    for (; *words; words++)
        fputc(*words == ' ' ? '-' : *words, out);
}

static void overview(FILE *out)
{
    fputs("## Synopsis\n\n```\nllmoinctl [GLOBAL OPTIONS] COMMAND [ARGUMENTS] [OPTIONS]\n```\n\n"
          "## Global options\n\n"
          "Global options may appear anywhere on the command line, a command's own options\n"
          "after its command words. `--opt value` and `--opt=value` both work.\n\n"
          "| Option | Description |\n| --- | --- |\n",
          out);
    for (size_t k = 0; k < CTL_GLOBAL_COUNT; k++)
        param_row(out, &ctl_globals[k]);
    fputs("\n## Commands\n\n| Command | Description |\n| --- | --- |\n", out);
    for (const struct ctl_command *c = ctl_commands; c->words; c++) {
        if (c->hidden)
            continue;
        fprintf(out, "| [`%s`](#", c->words);
        anchor(out, c->words);
        fputs(") | ", out);
        cell(out, c->summary);
        fputs(" |\n", out);
    }
    fputc('\n', out);
}

static void exit_codes(FILE *out)
{
    fputs("## Exit codes\n\n| Code | Meaning |\n| --- | --- |\n", out);
    for (const struct ctl_exit_doc *e = ctl_exit_codes; e->meaning; e++) {
        fprintf(out, "| %d | ", e->code);
        cell(out, e->meaning);
        fputs(" |\n", out);
    }
    fputs("\nEvery error is one line on standard error starting with `llmoinctl: `.\n", out);
}

int markdown_write(FILE *out, struct ctl_error *err)
{
    int rc;

    overview(out);
    for (const struct ctl_command *c = ctl_commands; c->words; c++)
        if (!c->hidden && (rc = command_section(out, c, err)))
            return rc;
    exit_codes(out);
    return 0;
}
