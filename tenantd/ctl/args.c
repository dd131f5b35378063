#include "args.h"

#include <string.h>

#include "help.h"
#include "sbuf.h"
#include "validate.h"
#include "values.h"

static const char FLAG_SET[] = "true";

static bool is_option(const char *tok)
{
    return tok[0] == '-' && tok[1] != '\0';
}

static bool is_negative_number(const char *tok)
{
    return tok[0] == '-' && tok[1] >= '0' && tok[1] <= '9';
}

/* --help wins over everything but a wrong command word, wherever it is. */
static bool wants_help(int argc, const char *const argv[])
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    }
    return false;
}

/* Index of the parameter called tok[0..len) in ps[0..n), or -1. */
static int find_param(const struct ctl_param *ps, size_t n, const char *tok, size_t len)
{
    for (size_t k = 0; k < n && ps[k].name; k++)
        if (strncmp(ps[k].name, tok, len) == 0 && ps[k].name[len] == '\0')
            return (int)k;
    return -1;
}

/* "<problem> <name>; usage: llmoinctl <synopsis>": the synopsis usually
 * shows the fix. Values the user typed are quoted, names from the table not. */
static int fail_with_usage(const struct ctl_command *cmd, const char *problem, const char *name,
                           bool quote, struct ctl_error *err)
{
    struct sbuf syn = SBUF_INIT;

    help_synopsis(&syn, cmd, true);
    ctl_fail(err, CTL_EXIT_USAGE, quote ? "%s '%s'; usage: %s" : "%s %s; usage: %s", problem, name,
             sbuf_str(&syn));
    sbuf_free(&syn);
    return CTL_EXIT_USAGE;
}

/* "usage verify": a command's subcommand, typed before any of its arguments
 * and options, wins over taking the word as its first argument. */
static bool names_subcommand(const struct ctl_invocation *inv, const char *word)
{
    char words[sizeof inv->words];
    int n;

    if (inv->nargs)
        return false;
    for (size_t k = 0; k < CTL_MAX_OPTS; k++)
        if (inv->opts[k])
            return false; /* already taken as the command's own options */
    n = snprintf(words, sizeof words, "%s %s", inv->words, word);
    return n > 0 && (size_t)n < sizeof words && command_find(words);
}

static int take_word(struct ctl_invocation *inv, const char *word, struct ctl_error *err)
{
    char words[sizeof inv->words];
    const char *sep = inv->words[0] ? " " : "";
    int n;

    if (inv->cmd && !names_subcommand(inv, word)) {
        if (inv->nargs < command_nargs(inv->cmd)) {
            inv->args[inv->nargs++] = word;
            return 0;
        }
        return fail_with_usage(inv->cmd, "unexpected argument", word, true, err);
    }
    n = snprintf(words, sizeof words, "%s%s%s", inv->words, sep, word);
    if (n > 0 && (size_t)n < sizeof words) {
        const struct ctl_command *cmd = command_find(words);

        if (cmd || command_is_group(words)) {
            memcpy(inv->words, words, (size_t)n + 1);
            inv->cmd = cmd;
            return 0;
        }
    }
    inv->unknown_command = true;
    return ctl_fail(err, CTL_EXIT_USAGE, "unknown command '%s%s%s'; see llmoinctl --help",
                    inv->words, sep, word);
}

static bool some_command_has(const char *tok, size_t len)
{
    for (const struct ctl_command *c = ctl_commands; c->words; c++)
        if (find_param(c->options, CTL_MAX_OPTS, tok, len) >= 0)
            return true;
    return false;
}

static int unknown_option(const struct ctl_invocation *inv, const char *tok, size_t len,
                          struct ctl_error *err)
{
    if (inv->cmd)
        return ctl_fail(err, CTL_EXIT_USAGE, "unknown option '%.*s'; see llmoinctl %s --help",
                        (int)len, tok, inv->cmd->words);
    if (some_command_has(tok, len))
        return ctl_fail(err, CTL_EXIT_USAGE,
                        "option '%.*s' must come after the command words; see llmoinctl --help",
                        (int)len, tok);
    return ctl_fail(err, CTL_EXIT_USAGE, "unknown option '%.*s'; see llmoinctl --help",
                    (int)len, tok);
}

/* Short forms: -h for --help, -f for --file (tenant apply). */
static const char *long_form(const char *tok)
{
    if (strcmp(tok, "-h") == 0)
        return "--help";
    return strcmp(tok, "-f") == 0 ? "--file" : tok;
}

static int take_option(struct ctl_invocation *inv, int argc, const char *const argv[], int *i,
                       struct ctl_error *err)
{
    const char *tok = long_form(argv[*i]);
    const char *eq = strncmp(tok, "--", 2) == 0 ? strchr(tok, '=') : NULL;
    size_t len = eq ? (size_t)(eq - tok) : strlen(tok);
    const struct ctl_param *p;
    const char **slot;
    int k;

    if ((k = find_param(ctl_globals, CTL_GLOBAL_COUNT, tok, len)) >= 0) {
        p = &ctl_globals[k];
        slot = &inv->globals[k];
    } else if (inv->cmd && (k = find_param(inv->cmd->options, CTL_MAX_OPTS, tok, len)) >= 0) {
        p = &inv->cmd->options[k];
        slot = &inv->opts[k];
    } else {
        return unknown_option(inv, tok, len, err);
    }
    if (*slot)
        return ctl_fail(err, CTL_EXIT_USAGE, "option %s given more than once", p->name);
    if (p->kind == KIND_FLAG) {
        if (eq)
            return ctl_fail(err, CTL_EXIT_USAGE, "option %s takes no value", p->name);
        *slot = FLAG_SET;
        return 0;
    }
    if (eq) {
        *slot = eq + 1;
        return 0;
    }
    /* "--name --output json" is a forgotten value, not a name "--output";
     * "--rpm -5" is a value (no option starts with a digit), for the value's
     * check to say what is wrong with it. */
    if (*i + 1 >= argc || (is_option(argv[*i + 1]) && !is_negative_number(argv[*i + 1])))
        return ctl_fail(err, CTL_EXIT_USAGE, "option %s needs a value", p->name);
    *slot = argv[++*i];
    return 0;
}

static int missing_command(const struct ctl_invocation *inv, struct ctl_error *err)
{
    struct sbuf subs = SBUF_INIT;

    if (!inv->words[0])
        return ctl_fail(err, CTL_EXIT_USAGE, "missing command; see llmoinctl --help");
    help_subcommands(&subs, inv->words);
    ctl_fail(err, CTL_EXIT_USAGE, "'%s' needs a subcommand (%s); see llmoinctl %s --help",
             inv->words, sbuf_str(&subs), inv->words);
    sbuf_free(&subs);
    return CTL_EXIT_USAGE;
}

static int check_globals(const struct ctl_invocation *inv, struct ctl_error *err)
{
    int rc;

    for (size_t k = 0; k < CTL_GLOBAL_COUNT; k++)
        if (inv->globals[k] && (rc = value_check(&ctl_globals[k], inv->globals[k], err)))
            return rc;
    return 0;
}

static bool option_given(const struct ctl_invocation *inv, const char *name)
{
    const struct ctl_param *p = command_option(inv->cmd, name);

    return p && inv->opts[p - inv->cmd->options];
}

/* One of the command's rules: "missing option --a or --b; usage: ..." or
 * "options --a and --b exclude each other; give one". */
static int check_rule(const struct ctl_invocation *inv, const struct ctl_rule *rule,
                      struct ctl_error *err)
{
    const char *given[2] = { NULL, NULL };
    size_t count = 0;
    struct sbuf names = SBUF_INIT;
    int rc = 0;

    for (size_t i = 0; i < rule_noptions(rule); i++) {
        if (!option_given(inv, rule->options[i]))
            continue;
        if (count < 2)
            given[count] = rule->options[i];
        count++;
    }
    if (count > 1 && rule->kind != RULE_AT_LEAST_ONE)
        return ctl_fail(err, CTL_EXIT_USAGE, "options %s and %s exclude each other; give one",
                        given[0], given[1]);
    if (count > 0 || rule->kind == RULE_AT_MOST_ONE)
        return 0;
    if (rule->kind == RULE_AT_LEAST_ONE)
        sbuf_add(&names, "at least one of ");
    help_rule_names(&names, rule, " or ");
    rc = fail_with_usage(inv->cmd,
                         rule->kind == RULE_AT_LEAST_ONE ? "missing option: give" : "missing option",
                         sbuf_str(&names), false, err);
    sbuf_free(&names);
    return rc;
}

/* Everything after the structure is right: counts, required options, values. */
static int check_invocation(const struct ctl_invocation *inv, struct ctl_error *err)
{
    const struct ctl_command *cmd = inv->cmd;
    int rc;

    if (!cmd)
        return missing_command(inv, err);
    if ((rc = check_globals(inv, err)))
        return rc;
    if (inv->nargs < command_nargs(cmd) && !cmd->args[inv->nargs].optional)
        return fail_with_usage(cmd, "missing argument", cmd->args[inv->nargs].name, false, err);
    for (size_t k = 0; k < inv->nargs; k++)
        if ((rc = value_check(&cmd->args[k], inv->args[k], err)))
            return rc;
    for (size_t k = 0; k < command_nopts(cmd); k++) {
        const struct ctl_param *p = &cmd->options[k];

        if (!inv->opts[k] && p->required)
            return fail_with_usage(cmd, "missing option", p->name, false, err);
        if (inv->opts[k] && (rc = value_check(p, inv->opts[k], err)))
            return rc;
    }
    for (size_t k = 0; k < command_nrules(cmd); k++)
        if ((rc = check_rule(inv, &cmd->rules[k], err)))
            return rc;
    return cmd->check ? cmd->check(inv, err) : 0;
}

int args_parse(int argc, const char *const argv[], struct ctl_invocation *inv,
               struct ctl_error *err)
{
    bool help = wants_help(argc, argv), dashdash = false;
    int rc = 0;

    memset(inv, 0, sizeof *inv);
    for (int i = 1; i < argc && rc == 0; i++) {
        if (!dashdash && strcmp(argv[i], "--") == 0)
            dashdash = true;
        else if (!dashdash && is_option(argv[i]))
            rc = take_option(inv, argc, argv, &i, err);
        else
            rc = take_word(inv, argv[i], err);
    }
    if (help && !inv->unknown_command) {
        inv->globals[GLOBAL_HELP] = FLAG_SET;
        return 0;
    }
    if (rc == 0 && !inv->globals[GLOBAL_VERSION])
        rc = check_invocation(inv, err);
    if (rc && inv->cmd)
        ctl_error_prefix(err, inv->cmd->words);
    return rc;
}
