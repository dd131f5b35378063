#include "help.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

#define LEFT_MIN 18 /* first column width in help listings */
#define LEFT_MAX 40 /* wider command synopses get a line of their own */

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

/* "(--a A | --b)" for the first option of an exclusive group. */
static void synopsis_group(struct sbuf *sb, const struct ctl_command *cmd,
                           const struct ctl_rule *rule)
{
    bool required = rule->kind == RULE_EXACTLY_ONE;

    sbuf_add(sb, required ? " (" : " [");
    for (size_t i = 0; i < rule_noptions(rule); i++) {
        if (i)
            sbuf_add(sb, " | ");
        help_param_label(sb, command_option(cmd, rule->options[i]));
    }
    sbuf_addc(sb, required ? ')' : ']');
}

void help_synopsis(struct sbuf *sb, const struct ctl_command *cmd, bool full)
{
    sbuf_addf(sb, "llmoinctl %s", cmd->words);
    for (size_t k = 0; k < command_nargs(cmd); k++)
        sbuf_addf(sb, " %s%s%s", cmd->args[k].optional ? "[" : "", cmd->args[k].name,
                  cmd->args[k].optional ? "]" : "");
    for (size_t k = 0; k < command_nopts(cmd); k++) {
        const struct ctl_param *p = &cmd->options[k];
        const struct ctl_rule *group = command_option_group(cmd, p->name);

        if (group) {
            /* Shown once, where its first option is. */
            if (strcmp(group->options[0], p->name) == 0 &&
                (full || group->kind == RULE_EXACTLY_ONE))
                synopsis_group(sb, cmd, group);
            continue;
        }
        if (!p->required && !full)
            continue;
        sbuf_add(sb, p->required ? " " : " [");
        help_param_label(sb, p);
        if (!p->required)
            sbuf_addc(sb, ']');
    }
}

void help_rule_names(struct sbuf *sb, const struct ctl_rule *rule, const char *conjunction)
{
    size_t n = rule_noptions(rule);

    for (size_t i = 0; i < n; i++)
        sbuf_addf(sb, "%s%s", i == 0 ? "" : i + 1 < n ? ", " : conjunction, rule->options[i]);
}

void help_rules(struct sbuf *sb, const struct ctl_command *cmd)
{
    for (size_t k = 0; k < command_nrules(cmd); k++) {
        const struct ctl_rule *rule = &cmd->rules[k];
        bool two = rule_noptions(rule) == 2;

        if (k)
            sbuf_addc(sb, '\n');
        switch (rule->kind) {
        case RULE_EXACTLY_ONE:
            sbuf_add(sb, two ? "Give either " : "Give exactly one of ");
            help_rule_names(sb, rule, " or ");
            break;
        case RULE_AT_MOST_ONE:
            sbuf_add(sb, two ? "" : "Give at most one of ");
            help_rule_names(sb, rule, two ? " and " : " or ");
            sbuf_add(sb, two ? " exclude each other" : "");
            break;
        case RULE_AT_LEAST_ONE:
            sbuf_add(sb, "Give at least one of ");
            help_rule_names(sb, rule, " or ");
            break;
        case RULE_NONE:
            break;
        }
        sbuf_addc(sb, '.');
    }
}

/* What a value looks like in the request: the positional's name, the
 * option's metavar, or the JSON the table sends for it. */
static void request_value(struct sbuf *sb, const struct ctl_param *p, bool positional)
{
    if (positional) {
        sbuf_add(sb, p->name);
    } else if (p->json_values && p->kind == KIND_FLAG) {
        sbuf_add(sb, p->json_values[0]);
    } else if (p->json_values) {
        for (size_t i = 0; p->choices[i]; i++)
            sbuf_addf(sb, "%s%s", i ? "|" : "", p->json_values[i]);
    } else if (p->kind == KIND_LIST) {
        sbuf_addc(sb, '[');
        help_metavar(sb, p);
        sbuf_addc(sb, ']');
    } else if (p->kind == KIND_LIMIT) {
        help_metavar(sb, p);
        sbuf_add(sb, "|null");
    } else if (p->kind == KIND_JSON_FILE) {
        sbuf_addc(sb, '<');
        help_metavar(sb, p);
        sbuf_addc(sb, '>');
    } else {
        help_metavar(sb, p);
    }
}

/* What one parameter or preset sends for a name, in the order the request
 * is built: the row's presets, then each argument and option's .also pairs
 * and value. */
struct sent {
    const char *name;
    const struct ctl_param *p; /* NULL: a preset pair */
    const char *text;          /* a pair's value; NULL: p's own value */
    bool positional;
};

/* The k-th thing the row sends to dest; false past the last. */
static bool sent_at(const struct ctl_command *cmd, enum ctl_dest dest, size_t k,
                    struct sent *out)
{
    size_t nargs = command_nargs(cmd), n = nargs + command_nopts(cmd);
    enum ctl_dest preset_dest = command_has_body(cmd) ? DEST_BODY : DEST_QUERY;

    for (size_t i = 0; preset_dest == dest && cmd->preset && cmd->preset[i]; i += 2)
        if (k-- == 0) {
            *out = (struct sent){ cmd->preset[i], NULL, cmd->preset[i + 1], false };
            return true;
        }
    for (size_t j = 0; j < n; j++) {
        const struct ctl_param *p = j < nargs ? &cmd->args[j] : &cmd->options[j - nargs];

        if (p->dest != dest)
            continue;
        for (size_t i = 0; p->also && p->also[i]; i += 2)
            if (k-- == 0) {
                *out = (struct sent){ p->also[i], p, p->also[i + 1], j < nargs };
                return true;
            }
        if (p->field && k-- == 0) {
            *out = (struct sent){ p->field, p, NULL, j < nargs };
            return true;
        }
    }
    return false;
}

/* A fixed value as it appears in the request: a JSON string in a body,
 * the text in a query ("" when empty). */
static void fixed_value(struct sbuf *sb, const char *text, enum ctl_dest dest)
{
    json_t *s = dest == DEST_BODY ? json_string(text) : NULL;
    char *dumped = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;

    if (dumped)
        sbuf_add(sb, dumped);
    else
        sbuf_add(sb, text[0] ? text : "\"\"");
    free(dumped);
    json_decref(s);
}

/* "name=a|b" (query) or "\"name\":a|b" (body) for each name the row sends to
 * dest, in the order of first mention; alternatives for the same name
 * (--hosts, --no-hosts) share one entry, each alternative shown once. */
static void request_fields(struct sbuf *sb, const struct ctl_command *cmd, enum ctl_dest dest)
{
    struct sent a, b;
    size_t count = 0;

    for (size_t k = 0; sent_at(cmd, dest, k, &a); k++) {
        struct sbuf shown = SBUF_INIT; /* "\n"-separated, to show each once */
        bool first_mention = true;

        for (size_t j = 0; j < k && first_mention; j++)
            first_mention = sent_at(cmd, dest, j, &b) && strcmp(b.name, a.name) != 0;
        if (!first_mention)
            continue;
        if (dest == DEST_QUERY)
            sbuf_addf(sb, "%c%s=", count++ ? '&' : '?', a.name);
        else
            sbuf_addf(sb, "%s\"%s\":", count++ ? "," : ", body {", a.name);
        for (size_t j = k, alternatives = 0; sent_at(cmd, dest, j, &b); j++) {
            struct sbuf one = SBUF_INIT, key = SBUF_INIT;

            if (strcmp(b.name, a.name) != 0)
                continue;
            if (b.text)
                fixed_value(&one, b.text, dest);
            else
                request_value(&one, b.p, b.positional);
            sbuf_addf(&key, "\n%s\n", sbuf_str(&one));
            if (!strstr(sbuf_str(&shown), sbuf_str(&key))) {
                if (alternatives++)
                    sbuf_addc(sb, '|');
                sbuf_add(sb, sbuf_str(&one));
                sbuf_addf(&shown, "%s", sbuf_str(&key));
            }
            sb->failed |= one.failed || key.failed;
            sbuf_free(&one);
            sbuf_free(&key);
        }
        sb->failed |= shown.failed;
        sbuf_free(&shown);
    }
    if (count && dest == DEST_BODY)
        sbuf_addc(sb, '}');
}

/* Where each value goes, from the same fields request.c uses. */
void help_request(struct sbuf *sb, const struct ctl_command *cmd)
{
    size_t methods = 0;

    /* Flags choosing the method: "POST /path (--enable) or DELETE /path (--disable)". */
    for (size_t k = 0; k < command_nopts(cmd); k++)
        if (cmd->options[k].dest == DEST_METHOD)
            sbuf_addf(sb, "%s%s %s (%s)", methods++ ? " or " : "", cmd->options[k].field,
                      cmd->path, cmd->options[k].name);
    if (!methods)
        sbuf_addf(sb, "%s %s", cmd->method, cmd->path);
    request_fields(sb, cmd, DEST_QUERY);
    request_fields(sb, cmd, DEST_BODY);
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
 * each as its short synopsis without the leading "llmoinctl ". A synopsis
 * wider than LEFT_MAX gets a line of its own, its summary the next. */
static void print_commands(FILE *out, const char *group)
{
    static const size_t skip = sizeof "llmoinctl " - 1;
    size_t width = LEFT_MIN;

    for (int pass = 0; pass < 2; pass++) { /* measure, then print */
        for (const struct ctl_command *c = ctl_commands; c->words; c++) {
            struct sbuf syn = SBUF_INIT;
            const char *left;

            if (c->hidden || (group[0] && !in_group(c, group)))
                continue;
            help_synopsis(&syn, c, false);
            left = sbuf_str(&syn) + (syn.len >= skip ? skip : syn.len);
            if (pass == 0 && strlen(left) > width && strlen(left) <= LEFT_MAX)
                width = strlen(left);
            if (pass == 1 && strlen(left) > width) {
                fprintf(out, "  %s\n", left);
                print_row(out, "", c->summary, width);
            } else if (pass == 1) {
                print_row(out, left, c->summary, width);
            }
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
    fputs("llmoinctl - manage llmoin tenants, API keys, sign-in, models and usage through tenantd\n\n"
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
    if (command_nrules(cmd)) {
        sbuf_reset(&sb);
        help_rules(&sb, cmd);
        fprintf(out, "\n%s\n", sbuf_str(&sb));
    }
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
