#include "help.h"

#include <string.h>

#include "validate.h"

#define LEFT_MIN 18 /* first column width in help listings */

void help_metavar(struct sbuf *sb, const struct ctl_param *p)
{
    if (p->metavar) {
        sbuf_add(sb, p->metavar);
        return;
    }
    for (size_t i = 0; p->choices && p->choices[i]; i++)
        sbuf_addf(sb, "%s%s", i ? "|" : "", p->choices[i]);
}

void help_param_label(struct sbuf *sb, const struct ctl_param *p)
{
    sbuf_add(sb, p->name);
    if (p->name[0] == '-' && p->kind != KIND_FLAG) {
        sbuf_addc(sb, ' ');
        help_metavar(sb, p);
    }
}

void help_param_text(struct sbuf *sb, const struct ctl_param *p)
{
    sbuf_add(sb, p->help);
    if (p->required)
        sbuf_add(sb, " (required)");
    if (p->def)
        sbuf_addf(sb, " (default: %s)", p->def);
}

void help_synopsis(struct sbuf *sb, const struct ctl_command *cmd, bool full)
{
    sbuf_addf(sb, "llmoinctl %s", cmd->words);
    for (size_t k = 0; k < command_nargs(cmd); k++)
        sbuf_addf(sb, " %s", cmd->args[k].name);
    for (size_t k = 0; k < command_nopts(cmd); k++) {
        const struct ctl_param *p = &cmd->options[k];

        if (!p->required && !full)
            continue;
        sbuf_add(sb, p->required ? " " : " [");
        help_param_label(sb, p);
        if (!p->required)
            sbuf_addc(sb, ']');
    }
}

/* Where each value goes, from the same fields request.c uses. */
void help_request(struct sbuf *sb, const struct ctl_command *cmd)
{
    const struct ctl_param *p;
    size_t nargs = command_nargs(cmd), n = nargs + command_nopts(cmd), fields = 0;
    bool query = false;

    sbuf_addf(sb, "%s %s", cmd->method, cmd->path);
    for (size_t k = 0; k < n; k++) {
        p = k < nargs ? &cmd->args[k] : &cmd->options[k - nargs];
        if (p->dest != DEST_QUERY)
            continue;
        sbuf_addf(sb, "%c%s=", query ? '&' : '?', p->field);
        help_metavar(sb, p);
        query = true;
    }
    for (size_t k = 0; k < n; k++) {
        p = k < nargs ? &cmd->args[k] : &cmd->options[k - nargs];
        if (p->dest != DEST_BODY)
            continue;
        sbuf_addf(sb, "%s\"%s\":", fields++ ? "," : ", body {", p->field);
        if (k < nargs)
            sbuf_add(sb, p->name);
        else
            help_metavar(sb, p);
    }
    if (fields)
        sbuf_addc(sb, '}');
}

/* Whether cmd belongs to group, i.e. its words start with "group ". */
static bool in_group(const struct ctl_command *cmd, const char *group)
{
    size_t n = strlen(group);

    return strncmp(cmd->words, group, n) == 0 && cmd->words[n] == ' ';
}

void help_subcommands(struct sbuf *sb, const char *group)
{
    size_t n = strlen(group), count = 0;

    for (const struct ctl_command *c = ctl_commands; c->words; c++) {
        if (c->hidden || !in_group(c, group))
            continue;
        sbuf_addf(sb, "%s%s", count++ ? ", " : "", c->words + n + 1);
    }
}

void help_shell_quote(struct sbuf *sb, const char *arg)
{
    static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "0123456789_-./:=@%+,";

    if (arg[0] && strspn(arg, safe) == strlen(arg)) {
        sbuf_add(sb, arg);
        return;
    }
    sbuf_addc(sb, '\'');
    for (const char *p = arg; *p; p++)
        sbuf_add(sb, *p == '\'' ? "'\\''" : (char[]){ *p, '\0' });
    sbuf_addc(sb, '\'');
}

void help_example(struct sbuf *sb, const struct ctl_command *cmd)
{
    sbuf_add(sb, "llmoinctl");
    for (size_t i = 0; i < CTL_MAX_EXAMPLE && cmd->example[i]; i++) {
        sbuf_addc(sb, ' ');
        help_shell_quote(sb, cmd->example[i]);
    }
}

/* Prints "  left   text" rows with the left column padded to width. */
static void print_row(FILE *out, const char *left, const char *text, size_t width)
{
    fprintf(out, "  %-*s  %s\n", (int)width, left, text);
}

static size_t params_width(const struct ctl_param *ps, size_t n)
{
    size_t width = LEFT_MIN;

    for (size_t k = 0; k < n && ps[k].name; k++) {
        struct sbuf label = SBUF_INIT;

        help_param_label(&label, &ps[k]);
        if (label.len > width)
            width = label.len;
        sbuf_free(&label);
    }
    return width;
}

static void print_params(FILE *out, const char *title, const struct ctl_param *ps, size_t n,
                         size_t width)
{
    if (n == 0 || !ps[0].name)
        return;
    fprintf(out, "\n%s:\n", title);
    for (size_t k = 0; k < n && ps[k].name; k++) {
        struct sbuf label = SBUF_INIT, text = SBUF_INIT;

        help_param_label(&label, &ps[k]);
        help_param_text(&text, &ps[k]);
        print_row(out, sbuf_str(&label), sbuf_str(&text), width);
        sbuf_free(&label);
        sbuf_free(&text);
    }
}

/* Lists the visible commands whose words start with group (all for ""),
 * each as its short synopsis without the leading "llmoinctl ". */
static void print_commands(FILE *out, const char *group)
{
    static const size_t skip = sizeof "llmoinctl " - 1;
    size_t width = LEFT_MIN;

    for (int pass = 0; pass < 2; pass++) { /* measure, then print */
        for (const struct ctl_command *c = ctl_commands; c->words; c++) {
            struct sbuf syn = SBUF_INIT;

            if (c->hidden || (group[0] && !in_group(c, group)))
                continue;
            help_synopsis(&syn, c, false);
            if (pass == 0 && syn.len > skip + width)
                width = syn.len - skip;
            if (pass == 1)
                print_row(out, sbuf_str(&syn) + (syn.len >= skip ? skip : syn.len), c->summary,
                          width);
            sbuf_free(&syn);
        }
    }
}

static void print_exit_codes(FILE *out)
{
    fputs("\nExit codes:\n", out);
    for (const struct ctl_exit_doc *e = ctl_exit_codes; e->meaning; e++)
        fprintf(out, "  %d  %s\n", e->code, e->meaning);
}

void help_print_global(FILE *out)
{
    fputs("llmoinctl - manage llmoin tenants, API keys and usage through tenantd\n\n"
          "Usage: llmoinctl [GLOBAL OPTIONS] COMMAND [ARGUMENTS] [OPTIONS]\n\n"
          "Commands:\n",
          out);
    print_commands(out, "");
    print_params(out, "Global options (anywhere on the command line)", ctl_globals,
                 CTL_GLOBAL_COUNT, params_width(ctl_globals, CTL_GLOBAL_COUNT));
    print_exit_codes(out);
    fputs("\nRun 'llmoinctl COMMAND --help' for a command's arguments, options and an example.\n",
          out);
}

void help_print_group(FILE *out, const char *group)
{
    fprintf(out, "Usage: llmoinctl %s SUBCOMMAND ...\n\nCommands:\n", group);
    print_commands(out, group);
    fprintf(out, "\nRun 'llmoinctl %s SUBCOMMAND --help' for details.\n", group);
}

void help_print_command(FILE *out, const struct ctl_command *cmd)
{
    struct sbuf sb = SBUF_INIT;
    size_t width = params_width(cmd->args, CTL_MAX_ARGS);
    size_t owidth = params_width(cmd->options, CTL_MAX_OPTS);

    if (owidth > width)
        width = owidth;
    help_synopsis(&sb, cmd, true);
    fprintf(out, "Usage: %s\n\n%s.\n", sbuf_str(&sb), cmd->summary);
    if (cmd->description)
        fprintf(out, "\n%s\n", cmd->description);
    print_params(out, "Arguments", cmd->args, command_nargs(cmd), width);
    print_params(out, "Options", cmd->options, command_nopts(cmd), width);
    if (cmd->method) {
        sbuf_reset(&sb);
        help_request(&sb, cmd);
        fprintf(out, "\nRequest: %s\n", sbuf_str(&sb));
    }
    if (cmd->example[0]) {
        sbuf_reset(&sb);
        help_example(&sb, cmd);
        fprintf(out, "\nExample:\n  %s\n", sbuf_str(&sb));
    }
    fputs("\nGlobal options --socket, --output, --help and --version work here too"
          " (see llmoinctl --help).\n",
          out);
    sbuf_free(&sb);
}
