/*
 * Everything derived from the command table: --help lists every command, the
 * completion script knows every word and option, the markdown has every
 * section; and the table itself is consistent (examples parse, paths and
 * arguments match), which is what keeps all of them truthful.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "completion.h"
#include "help.h"
#include "markdown.h"
#include "values.h"

static char *capture(void (*print)(FILE *, const void *), const void *arg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    print(out, arg);
    fclose(out);
    return text;
}

static void print_global(FILE *out, const void *arg)
{
    (void)arg;
    help_print_global(out);
}

static void print_command(FILE *out, const void *arg)
{
    help_print_command(out, arg);
}

static void print_group(FILE *out, const void *arg)
{
    help_print_group(out, arg);
}

static void print_completion(FILE *out, const void *arg)
{
    struct ctl_error err;

    (void)arg;
    assert_int_equal(completion_bash(out, &err), 0);
}

static void print_markdown(FILE *out, const void *arg)
{
    struct ctl_error err;

    (void)arg;
    if (markdown_write(out, &err) != 0)
        fail_msg("markdown: %s", err.msg);
}

static void assert_contains(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("missing '%s'", needle);
}

static void global_help_lists_every_visible_command(void **state)
{
    char *text = capture(print_global, NULL);
    (void)state;

    for (const struct ctl_command *c = ctl_commands; c->words; c++) {
        struct sbuf line = SBUF_INIT;

        help_synopsis(&line, c, false);
        if (c->hidden) {
            assert_null(strstr(text, c->words));
        } else {
            /* "  tenant create SLUG --name NAME  Create a tenant" */
            assert_contains(text, sbuf_str(&line) + strlen("llmoinctl "));
            assert_contains(text, c->summary);
        }
        sbuf_free(&line);
    }
    for (size_t k = 0; k < CTL_GLOBAL_COUNT; k++)
        assert_contains(text, ctl_globals[k].name);
    for (const struct ctl_exit_doc *e = ctl_exit_codes; e->meaning; e++)
        assert_contains(text, e->meaning);
    free(text);
}

static void command_help_shows_every_parameter(void **state)
{
    (void)state;
    for (const struct ctl_command *c = ctl_commands; c->words; c++) {
        char *text = capture(print_command, c);
        struct sbuf syn = SBUF_INIT;

        help_synopsis(&syn, c, true);
        assert_contains(text, sbuf_str(&syn));
        for (size_t k = 0; k < command_nargs(c); k++)
            assert_contains(text, c->args[k].help);
        for (size_t k = 0; k < command_nopts(c); k++)
            assert_contains(text, c->options[k].help);
        if (c->method)
            assert_contains(text, c->path);
        sbuf_free(&syn);
        free(text);
    }
}

static void group_help(void **state)
{
    char *text = capture(print_group, "key");
    (void)state;

    assert_contains(text, "key create TENANT --user USER");
    assert_contains(text, "key list TENANT");
    assert_contains(text, "key revoke KEYID");
    assert_null(strstr(text, "tenant list"));
    free(text);
}

static void synopsis_forms(void **state)
{
    struct sbuf sb = SBUF_INIT;
    (void)state;

    help_synopsis(&sb, command_find("usage"), true);
    assert_string_equal(sbuf_str(&sb), "llmoinctl usage TENANT [--by day|month|user|group|model|function] "
                                       "[--from YYYY-MM-DD] [--to YYYY-MM-DD]");
    sbuf_reset(&sb);
    help_synopsis(&sb, command_find("key create"), false);
    assert_string_equal(sbuf_str(&sb), "llmoinctl key create TENANT --user USER");
    sbuf_reset(&sb);
    help_request(&sb, command_find("key create"));
    assert_string_equal(sbuf_str(&sb),
                        "POST /admin/v1/tenants/{TENANT}/keys, body {\"user\":USER,\"name\":LABEL,"
                        "\"expires_at\":WHEN,\"models\":[ALIAS,...]}");
    sbuf_reset(&sb);
    help_request(&sb, command_find("usage"));
    assert_string_equal(sbuf_str(&sb), "GET /admin/v1/tenants/{TENANT}/usage"
                                       "?by=day|month|user|group|model|function&from=YYYY-MM-DD&to=YYYY-MM-DD");
    sbuf_free(&sb);
}

/* Options that go together or exclude each other show it in the synopsis,
 * the request and a sentence each. */
static void rules_in_synopsis_request_and_help(void **state)
{
    struct sbuf sb = SBUF_INIT;
    char *text;
    (void)state;

    help_synopsis(&sb, command_find("tenant update"), true);
    assert_string_equal(sbuf_str(&sb), "llmoinctl tenant update SLUG [--name NAME] "
                                       "[--hosts HOST,... | --no-hosts] [--models all|allow-list] "
                                       "[--max-tokens-cap N] [--quota-fail-mode closed|open] "
                                       "[--admin-claim CLAIM] [--admin-value VALUE]");
    sbuf_reset(&sb);
    help_synopsis(&sb, command_find("tenant update"), false);
    assert_string_equal(sbuf_str(&sb), "llmoinctl tenant update SLUG");
    sbuf_reset(&sb);
    help_synopsis(&sb, command_find("tenant dev-idp"), false);
    assert_string_equal(sbuf_str(&sb), "llmoinctl tenant dev-idp SLUG (--enable | --disable)");
    sbuf_reset(&sb);
    help_synopsis(&sb, command_find("issuer add"), false);
    assert_string_equal(sbuf_str(&sb), "llmoinctl issuer add TENANT --issuer URL --audience AUD "
                                       "(--jwks-uri URL | --jwks-file FILE)");
    sbuf_reset(&sb);
    help_request(&sb, command_find("tenant update"));
    assert_string_equal(sbuf_str(&sb), "PATCH /admin/v1/tenants/{SLUG}, body {\"name\":NAME,"
                                       "\"hosts\":[HOST,...]|[],\"models_restricted\":false|true,"
                                       "\"max_tokens_cap\":N,\"quota_fail_mode\":closed|open,"
                                       "\"admin_claim\":CLAIM,\"admin_value\":VALUE}");
    sbuf_reset(&sb);
    help_request(&sb, command_find("tenant dev-idp"));
    assert_string_equal(sbuf_str(&sb), "POST /admin/v1/tenants/{SLUG}/dev-idp (--enable) or "
                                       "DELETE /admin/v1/tenants/{SLUG}/dev-idp (--disable)");
    sbuf_reset(&sb);
    help_request(&sb, command_find("model disallow"));
    assert_string_equal(sbuf_str(&sb), "DELETE /admin/v1/tenants/{TENANT}/models?alias=ALIAS");
    sbuf_reset(&sb);
    help_request(&sb, command_find("issuer add"));
    assert_string_equal(sbuf_str(&sb), "POST /admin/v1/tenants/{TENANT}/issuers, body "
                                       "{\"issuer\":URL,\"audience\":AUD,\"jwks_uri\":URL,"
                                       "\"jwks\":<FILE>,\"user_claim\":CLAIM,\"groups_claim\":CLAIM,"
                                       "\"leeway_seconds\":SECONDS}");
    sbuf_reset(&sb);
    help_rules(&sb, command_find("tenant update"));
    assert_string_equal(sbuf_str(&sb), "Give at least one of --name, --hosts, --no-hosts, "
                                       "--models, --max-tokens-cap, --quota-fail-mode, "
                                       "--admin-claim or --admin-value.\n"
                                       "--hosts and --no-hosts exclude each other.");
    sbuf_free(&sb);

    text = capture(print_command, command_find("issuer add"));
    assert_contains(text, "\nGive either --jwks-uri or --jwks-file.\n");
    free(text);
    text = capture(print_markdown, NULL);
    assert_contains(text, "\nGive either --enable or --disable.\n\nRequest: `POST ");
    free(text);
}

/* The limits commands name a row by one option that sends two fields, or
 * by none (the tenant's own row, the command's preset). */
static void limits_subjects_in_synopsis_and_request(void **state)
{
    struct sbuf sb = SBUF_INIT;
    (void)state;

    help_synopsis(&sb, command_find("limits set"), true);
    assert_string_equal(sbuf_str(&sb), "llmoinctl limits set TENANT [--user USER | --group GROUP "
                                       "| --key KEYID | --default-user | --default-group | "
                                       "--default-key] [--rpm N] [--tpm N] [--concurrent N] "
                                       "[--monthly-tokens N]");
    sbuf_reset(&sb);
    help_request(&sb, command_find("limits set"));
    assert_string_equal(sbuf_str(&sb), "PUT /admin/v1/tenants/{TENANT}/limits, body "
                                       "{\"scope\":\"tenant\"|\"user\"|\"group\"|\"key\","
                                       "\"subject\":\"\"|USER|GROUP|KEYID,\"rpm\":N|null,"
                                       "\"tpm\":N|null,\"concurrent\":N|null,"
                                       "\"monthly_tokens\":N|null}");
    sbuf_reset(&sb);
    help_request(&sb, command_find("limits clear"));
    assert_string_equal(sbuf_str(&sb), "DELETE /admin/v1/tenants/{TENANT}/limits"
                                       "?scope=tenant|user|group|key&subject=\"\"|USER|GROUP|KEYID");
    sbuf_reset(&sb);
    help_rules(&sb, command_find("limits set"));
    assert_string_equal(sbuf_str(&sb), "Give at most one of --user, --group, --key, "
                                       "--default-user, --default-group or --default-key.\n"
                                       "Give at least one of --rpm, --tpm, --concurrent or "
                                       "--monthly-tokens.");
    sbuf_free(&sb);
}

/* A synopsis too wide for the command list's first column gets its own line. */
static void long_synopsis_on_its_own_line(void **state)
{
    char *text = capture(print_group, "issuer");
    (void)state;

    assert_contains(text, "\n  issuer add TENANT --issuer URL --audience AUD (--jwks-uri URL | "
                          "--jwks-file FILE)\n                           Trust an identity provider");
    assert_contains(text, "\n  issuer list TENANT       List the identity providers a tenant "
                          "trusts\n");
    free(text);
}

static void shell_quoting(void **state)
{
    struct sbuf sb = SBUF_INIT;
    (void)state;

    help_shell_quote(&sb, "hamburg");
    sbuf_add(&sb, " ");
    help_shell_quote(&sb, "Freie und Hansestadt Hamburg");
    sbuf_add(&sb, " ");
    help_shell_quote(&sb, "it's");
    sbuf_add(&sb, " ");
    help_shell_quote(&sb, "");
    assert_string_equal(sbuf_str(&sb), "hamburg 'Freie und Hansestadt Hamburg' 'it'\\''s' ''");
    sbuf_free(&sb);
}

static void completion_knows_every_word_and_option(void **state)
{
    char *text = capture(print_completion, NULL);
    (void)state;

    assert_contains(text, "complete -F _llmoinctl llmoinctl\n");
    for (const struct ctl_command *c = ctl_commands; c->words; c++) {
        char word[64];

        for (const char *w = c->words; *w; w += strcspn(w, " "), w += *w == ' ') {
            snprintf(word, sizeof word, "%.*s", (int)strcspn(w, " "), w);
            if (c->hidden)
                assert_null(strstr(text, word));
            else
                assert_contains(text, word);
        }
        for (size_t k = 0; !c->hidden && k < command_nopts(c); k++)
            assert_contains(text, c->options[k].name);
    }
    for (size_t k = 0; k < CTL_GLOBAL_COUNT; k++)
        assert_contains(text, ctl_globals[k].name);
    assert_contains(text, "day month user group model function");
    assert_contains(text, "table json csv");
    free(text);
}

static void markdown_has_every_section(void **state)
{
    char *text = capture(print_markdown, NULL);
    char heading[80];
    (void)state;

    for (const struct ctl_command *c = ctl_commands; c->words; c++) {
        snprintf(heading, sizeof heading, "\n### %s\n", c->words);
        if (c->hidden)
            assert_null(strstr(text, heading));
        else
            assert_contains(text, heading);
    }
    assert_contains(text, "## Exit codes");
    /* '|' inside table cells must be escaped, even in code spans. */
    assert_contains(text, "`--by day\\|month\\|user\\|group\\|model\\|function`");
    free(text);
}

static int parse_example(const struct ctl_command *c, struct ctl_invocation *inv,
                         struct ctl_error *err)
{
    const char *argv[CTL_MAX_EXAMPLE + 1] = { "llmoinctl" };
    int argc = 1;

    for (size_t i = 0; i < CTL_MAX_EXAMPLE && c->example[i]; i++)
        argv[argc++] = c->example[i];
    return args_parse(argc, argv, inv, err);
}

static void table_examples_parse_and_render(void **state)
{
    (void)state;
    for (const struct ctl_command *c = ctl_commands; c->words; c++) {
        struct ctl_invocation inv;
        struct ctl_error err = { 0 };

        if (parse_example(c, &inv, &err) != 0)
            fail_msg("example of '%s' does not parse: %s", c->words, err.msg);
        assert_ptr_equal(inv.cmd, c);
        if (c->method)
            assert_non_null(c->example_response);
        if (c->example_response) {
            json_t *doc = json_loads(c->example_response, 0, NULL);

            if (!doc)
                fail_msg("example_response of '%s' is not JSON", c->words);
            json_decref(doc);
        }
    }
}

static bool path_has(const char *path, const char *name)
{
    char placeholder[40];

    snprintf(placeholder, sizeof placeholder, "{%s}", name);
    return strstr(path, placeholder) != NULL;
}

static void check_param(const struct ctl_command *c, const struct ctl_param *p, bool positional)
{
    assert_non_null(p->help);
    if (positional) {
        assert_true(p->name[0] >= 'A' && p->name[0] <= 'Z');
        assert_int_equal(p->dest == DEST_PATH, c->path && path_has(c->path, p->name));
        assert_false(p->required); /* meaningless for positionals */
    } else {
        assert_true(strncmp(p->name, "--", 2) == 0);
        assert_true(p->metavar || p->kind == KIND_CHOICE || p->kind == KIND_FLAG);
        assert_int_not_equal(p->dest, DEST_PATH);
    }
    assert_int_equal(p->kind == KIND_CHOICE, p->choices != NULL);
    /* A value goes to a field; only a flag may send nothing but its .also pairs. */
    if (p->dest == DEST_BODY || p->dest == DEST_QUERY || p->dest == DEST_METHOD)
        assert_true(p->field || (p->kind == KIND_FLAG && p->also));
    /* A method flag names a method; a flag in the body says what it sends. */
    if (p->dest == DEST_METHOD)
        assert_int_equal(p->kind, KIND_FLAG);
    if (p->kind == KIND_FLAG && p->dest == DEST_BODY)
        assert_true(p->json_values || (p->also && !p->field));
    if (p->kind == KIND_FLAG && p->dest == DEST_QUERY)
        assert_true(p->also && !p->field);
    /* Pairs of names and values, sent where the value goes. */
    if (p->also) {
        size_t n = 0;

        while (p->also[n])
            n++;
        assert_true(n > 0 && n % 2 == 0);
        assert_true(p->dest == DEST_BODY || p->dest == DEST_QUERY);
        for (size_t i = 0; i < n; i += 2)
            assert_true(!p->field || strcmp(p->also[i], p->field) != 0);
    }
    if (p->json_values) {
        size_t n = p->kind == KIND_FLAG ? 1 : 0;

        while (p->kind == KIND_CHOICE && p->choices[n])
            n++;
        for (size_t i = 0; i < n; i++) {
            json_t *v = json_loads(p->json_values[i], JSON_DECODE_ANY, NULL);

            if (!v)
                fail_msg("%s: json_values[%zu] is not JSON", p->name, i);
            json_decref(v);
        }
    }
    if (p->kind == KIND_LIST)
        assert_true(p->item == KIND_TEXT || p->item == KIND_HOST || p->item == KIND_SLUG ||
                    p->item == KIND_URL);
    else
        assert_int_equal(p->item, KIND_TEXT);
    if (p->kind == KIND_SECONDS || p->kind == KIND_NUMBER)
        assert_true(p->min >= 0 && p->min < p->max);
    if (p->kind == KIND_LIMIT)
        assert_true(p->min == 0 && p->max > 0);
    /* Values read from files or computed (or null) are for request bodies. */
    if (p->kind == KIND_JSON_FILE || p->kind == KIND_LIST || p->kind == KIND_SECONDS ||
        p->kind == KIND_NUMBER || p->kind == KIND_LIMIT)
        assert_int_equal(p->dest, DEST_BODY);
    if (p->dest != DEST_NONE)
        assert_non_null(c->method);
    if (p->dest == DEST_BODY) {
        assert_string_not_equal(c->method, "GET");
        assert_string_not_equal(c->method, "DELETE"); /* sent without a body */
    }
    if (p->def) {
        struct ctl_error err;

        assert_int_equal(value_check(p, p->def, &err), 0);
    }
}

/* Rules name two or more options of the command, none of them required,
 * and an option is in one synopsis group at most. */
static void check_rules(const struct ctl_command *c)
{
    for (size_t k = 0; k < command_nrules(c); k++) {
        const struct ctl_rule *rule = &c->rules[k];

        assert_true(rule_noptions(rule) >= 2);
        for (size_t i = 0; i < rule_noptions(rule); i++) {
            const struct ctl_param *p = command_option(c, rule->options[i]);

            if (!p)
                fail_msg("'%s': rule names unknown option %s", c->words, rule->options[i]);
            assert_false(p->required);
            assert_null(p->def);
            if (rule->kind != RULE_AT_LEAST_ONE)
                assert_ptr_equal(command_option_group(c, p->name), rule);
        }
    }
    /* Method flags choose between methods: exactly one of them. */
    for (size_t k = 0; k < command_nopts(c); k++) {
        const struct ctl_rule *group = command_option_group(c, c->options[k].name);

        if (c->options[k].dest == DEST_METHOD)
            assert_true(group && group->kind == RULE_EXACTLY_ONE);
    }
}

/* Preset pairs are names and values, each name one an option can replace. */
static void check_preset(const struct ctl_command *c)
{
    size_t n = 0;

    if (!c->preset)
        return;
    while (c->preset[n])
        n++;
    assert_true(n > 0 && n % 2 == 0);
    assert_non_null(c->method);
    for (size_t i = 0; i < n; i += 2) {
        bool replaced = false;

        for (size_t k = 0; k < command_nopts(c); k++)
            replaced |= param_sends(&c->options[k], c->preset[i]);
        if (!replaced)
            fail_msg("'%s': no option replaces preset %s", c->words, c->preset[i]);
    }
}

static void table_is_consistent(void **state)
{
    (void)state;
    for (const struct ctl_command *c = ctl_commands; c->words; c++) {
        check_preset(c);
        assert_non_null(c->handler);
        assert_non_null(c->summary);
        assert_true(strlen(c->words) < sizeof(((struct ctl_invocation *)0)->words));
        assert_int_equal(c->method != NULL, c->path != NULL);
        assert_int_equal(c->method != NULL, c->view != VIEW_NONE);
        for (size_t k = 0; k < command_nargs(c); k++)
            check_param(c, &c->args[k], true);
        for (size_t k = 0; k < command_nopts(c); k++)
            check_param(c, &c->options[k], false);
        check_rules(c);
        /* A command that begins another ("usage", "usage verify") comes after
         * it: the completion script takes the first command that matches. */
        for (const struct ctl_command *d = ctl_commands; d->words; d++) {
            size_t n = strlen(c->words);

            if (d > c && strncmp(d->words, c->words, n) == 0 && d->words[n] == ' ')
                fail_msg("'%s' begins '%s' but comes first", c->words, d->words);
            if (c != d)
                assert_string_not_equal(c->words, d->words);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(global_help_lists_every_visible_command),
        cmocka_unit_test(command_help_shows_every_parameter),
        cmocka_unit_test(group_help),
        cmocka_unit_test(synopsis_forms),
        cmocka_unit_test(rules_in_synopsis_request_and_help),
        cmocka_unit_test(limits_subjects_in_synopsis_and_request),
        cmocka_unit_test(long_synopsis_on_its_own_line),
        cmocka_unit_test(shell_quoting),
        cmocka_unit_test(completion_knows_every_word_and_option),
        cmocka_unit_test(markdown_has_every_section),
        cmocka_unit_test(table_examples_parse_and_render),
        cmocka_unit_test(table_is_consistent),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
