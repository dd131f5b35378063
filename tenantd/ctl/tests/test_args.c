/*
 * Command line parsing and every local validation message, word for word:
 * operators and scripts read these.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "args.h"
#include "commands.h"

static int parse(struct ctl_invocation *inv, struct ctl_error *err, const char *const *args)
{
    const char *argv[32] = { "llmoinctl" };
    int argc = 1;

    memset(err, 0, sizeof *err);
    while (args[argc - 1])
        argv[argc] = args[argc - 1], argc++;
    return args_parse(argc, argv, inv, err);
}

#define PARSE(inv, err, ...) parse(inv, err, (const char *const[]){ __VA_ARGS__, NULL })

/* Parsing the words must fail with exit code 2 and exactly `expected`. */
#define EXPECT_USAGE(expected, ...)                                                 \
    do {                                                                       \
        struct ctl_invocation inv_;                                            \
        struct ctl_error err_;                                                 \
        assert_int_equal(PARSE(&inv_, &err_, __VA_ARGS__), CTL_EXIT_USAGE);    \
        assert_int_equal(err_.code, CTL_EXIT_USAGE);                           \
        assert_string_equal(err_.msg, expected);                               \
    } while (0)

static void parses_command_args_and_options(void **state)
{
    struct ctl_invocation inv;
    struct ctl_error err;
    (void)state;

    assert_int_equal(PARSE(&inv, &err, "tenant", "create", "hamburg", "--name", "Freie und Hansestadt Hamburg"), 0);
    assert_string_equal(inv.cmd->words, "tenant create");
    assert_int_equal(inv.nargs, 1);
    assert_string_equal(inv.args[0], "hamburg");
    assert_string_equal(inv_option(&inv, "--name"), "Freie und Hansestadt Hamburg");
}

static void globals_anywhere(void **state)
{
    struct ctl_invocation inv;
    struct ctl_error err;
    (void)state;

    assert_int_equal(PARSE(&inv, &err, "--output", "json", "tenant", "--socket", "/tmp/s", "list"), 0);
    assert_string_equal(inv.cmd->words, "tenant list");
    assert_string_equal(inv.globals[GLOBAL_OUTPUT], "json");
    assert_string_equal(inv.globals[GLOBAL_SOCKET], "/tmp/s");
    assert_int_equal(PARSE(&inv, &err, "tenant", "list", "--output=csv"), 0);
    assert_string_equal(inv.globals[GLOBAL_OUTPUT], "csv");
}

static void equals_form_and_defaults(void **state)
{
    struct ctl_invocation inv;
    struct ctl_error err;
    (void)state;

    assert_int_equal(PARSE(&inv, &err, "usage", "hamburg", "--from=2026-11-01"), 0);
    assert_string_equal(inv_option(&inv, "--from"), "2026-11-01");
    assert_string_equal(inv_option(&inv, "--by"), "day");
    assert_null(inv_option(&inv, "--to"));
    assert_int_equal(PARSE(&inv, &err, "usage", "hamburg", "--by", "model", "--to", "2028-02-29"), 0);
    assert_string_equal(inv_option(&inv, "--by"), "model");
}

static void double_dash_ends_options(void **state)
{
    struct ctl_invocation inv;
    struct ctl_error err;
    (void)state;

    /* After "--" a dash-leading word is an argument (and here a bad slug). */
    EXPECT_USAGE("tenant show: invalid SLUG '--x': must match ^[a-z][a-z0-9-]{1,31}$ "
                 "(a lowercase letter, then 1-31 lowercase letters, digits or '-')",
                 "tenant", "show", "--", "--x");
    assert_int_equal(PARSE(&inv, &err, "tenant", "show", "--", "hamburg"), 0);
}

static void help_wins_over_other_errors(void **state)
{
    struct ctl_invocation inv;
    struct ctl_error err;
    (void)state;

    assert_int_equal(PARSE(&inv, &err, "tenant", "create", "--help"), 0);
    assert_non_null(inv.globals[GLOBAL_HELP]);
    assert_string_equal(inv.cmd->words, "tenant create");
    assert_int_equal(PARSE(&inv, &err, "tenant", "create", "--bogus", "-h"), 0);
    assert_string_equal(inv.cmd->words, "tenant create");
    assert_int_equal(PARSE(&inv, &err, "key", "--help"), 0);
    assert_null(inv.cmd);
    assert_string_equal(inv.words, "key");
    assert_int_equal(PARSE(&inv, &err, "--help"), 0);
    assert_null(inv.cmd);
    assert_string_equal(inv.words, "");
    EXPECT_USAGE("unknown command 'bogus'; see llmoinctl --help", "bogus", "--help");
}

static void version(void **state)
{
    struct ctl_invocation inv;
    struct ctl_error err;
    (void)state;

    assert_int_equal(PARSE(&inv, &err, "--version"), 0);
    assert_non_null(inv.globals[GLOBAL_VERSION]);
}

static void command_errors(void **state)
{
    (void)state;
    EXPECT_USAGE("unknown command 'x'; see llmoinctl --help", "x");
    EXPECT_USAGE("unknown command 'tenant bogus'; see llmoinctl --help", "tenant", "bogus");
    EXPECT_USAGE("missing command; see llmoinctl --help", "--output", "json");
    EXPECT_USAGE("'tenant' needs a subcommand (create, list, show, update, suspend, resume, "
                 "dev-idp, apply, offboard); see llmoinctl tenant --help", "tenant");
    EXPECT_USAGE("'issuer' needs a subcommand (add, list, remove); see llmoinctl issuer --help",
                 "issuer");
    EXPECT_USAGE("'key' needs a subcommand (create, list, revoke); see llmoinctl key --help", "key");
}

static void argument_count_errors(void **state)
{
    (void)state;
    EXPECT_USAGE("tenant create: missing argument SLUG; usage: llmoinctl tenant create SLUG "
                 "--name NAME", "tenant", "create", "--name", "X");
    EXPECT_USAGE("tenant list: unexpected argument 'extra'; usage: llmoinctl tenant list",
                 "tenant", "list", "extra");
    EXPECT_USAGE("usage: missing argument TENANT; usage: llmoinctl usage TENANT "
                 "[--by day|month|user|group|model|function] [--from YYYY-MM-DD] [--to YYYY-MM-DD]", "usage");
    EXPECT_USAGE("key revoke: unexpected argument 'key_2'; usage: llmoinctl key revoke KEYID",
                 "key", "revoke", "key_1", "key_2");
    EXPECT_USAGE("completion: missing argument SHELL; usage: llmoinctl completion SHELL",
                 "completion");
}

/* The last positional may be optional: "audit [TENANT]". */
static void optional_argument(void **state)
{
    struct ctl_invocation inv;
    struct ctl_error err;
    (void)state;

    assert_int_equal(PARSE(&inv, &err, "audit"), 0);
    assert_string_equal(inv.cmd->words, "audit");
    assert_int_equal(inv.nargs, 0);
    assert_int_equal(PARSE(&inv, &err, "audit", "hamburg", "--limit", "5"), 0);
    assert_int_equal(inv.nargs, 1);
    assert_string_equal(inv.args[0], "hamburg");
    assert_int_equal(PARSE(&inv, &err, "audit", "verify"), 0);
    assert_string_equal(inv.cmd->words, "audit verify");
    EXPECT_USAGE("audit: unexpected argument 'bremen'; usage: llmoinctl audit [TENANT] "
                 "[--limit N] [--before SEQ]", "audit", "hamburg", "bremen");
}

static void option_errors(void **state)
{
    (void)state;
    EXPECT_USAGE("unknown option '--bogus'; see llmoinctl --help", "--bogus", "health");
    EXPECT_USAGE("unknown option '-x'; see llmoinctl --help", "-x");
    EXPECT_USAGE("tenant list: unknown option '--nmae'; see llmoinctl tenant list --help",
                 "tenant", "list", "--nmae");
    EXPECT_USAGE("tenant list: unknown option '--name'; see llmoinctl tenant list --help",
                 "tenant", "list", "--name=x");
    EXPECT_USAGE("option '--name' must come after the command words; see llmoinctl --help",
                 "--name", "X", "tenant", "create", "hamburg");
    EXPECT_USAGE("tenant create: missing option --name; usage: llmoinctl tenant create SLUG "
                 "--name NAME", "tenant", "create", "hamburg");
    EXPECT_USAGE("key create: missing option --user; usage: llmoinctl key create TENANT "
                 "--user USER [--name LABEL] [--expires WHEN] [--models ALIAS,...]", "key",
                 "create", "hamburg", "--name", "CI");
    EXPECT_USAGE("tenant create: option --name needs a value", "tenant", "create", "hamburg",
                 "--name");
    EXPECT_USAGE("tenant create: option --name needs a value", "tenant", "create", "hamburg",
                 "--name", "--output", "json");
    EXPECT_USAGE("option --socket needs a value", "--socket");
    EXPECT_USAGE("tenant list: option --output given more than once", "tenant", "list",
                 "--output", "json", "--output", "csv");
    EXPECT_USAGE("option --version takes no value", "--version=1");
}

static void value_errors(void **state)
{
    (void)state;
    EXPECT_USAGE("tenant list: invalid --output 'xml'; expected table, json or csv", "tenant",
                 "list", "--output", "xml");
    EXPECT_USAGE("tenant create: invalid --name: must not be empty", "tenant", "create",
                 "hamburg", "--name=");
    EXPECT_USAGE("key create: invalid --user: must not be empty", "key", "create", "hamburg",
                 "--user", "");
    EXPECT_USAGE("tenant list: invalid --socket: must not be empty", "tenant", "list",
                 "--socket=");
    EXPECT_USAGE("completion: invalid SHELL 'zsh'; expected bash", "completion", "zsh");
}

static void slug_errors(void **state)
{
#define SLUG_MSG(cmd, label, value)                                                     \
    cmd ": invalid " label " '" value "': must match ^[a-z][a-z0-9-]{1,31}$ (a lowercase " \
        "letter, then 1-31 lowercase letters, digits or '-')"
    (void)state;
    EXPECT_USAGE(SLUG_MSG("tenant create", "SLUG", "Hamburg"), "tenant", "create", "Hamburg",
                 "--name", "X");
    EXPECT_USAGE(SLUG_MSG("tenant show", "SLUG", "h"), "tenant", "show", "h");
    EXPECT_USAGE(SLUG_MSG("tenant show", "SLUG", "1hamburg"), "tenant", "show", "1hamburg");
    EXPECT_USAGE(SLUG_MSG("tenant show", "SLUG", "ham_burg"), "tenant", "show", "ham_burg");
    EXPECT_USAGE(SLUG_MSG("tenant show", "SLUG", "ham/../x"), "tenant", "show", "ham/../x");
    EXPECT_USAGE(SLUG_MSG("tenant show", "SLUG", "bremen-senatorin-fuer-finanzen-x1"), "tenant",
                 "show", "bremen-senatorin-fuer-finanzen-x1");
    EXPECT_USAGE(SLUG_MSG("key list", "TENANT", "Sachsen-Anhalt"), "key", "list",
                 "Sachsen-Anhalt");
    EXPECT_USAGE(SLUG_MSG("usage", "TENANT", "m\xc3\xbcnchen"), "usage", "m\xc3\xbcnchen");
#undef SLUG_MSG
}

static void slug_accepts_rule(void **state)
{
    struct ctl_invocation inv;
    struct ctl_error err;
    (void)state;

    assert_int_equal(PARSE(&inv, &err, "tenant", "show", "hb"), 0);
    assert_int_equal(PARSE(&inv, &err, "tenant", "show", "sachsen-anhalt"), 0);
    assert_int_equal(PARSE(&inv, &err, "tenant", "show", "bremen-senatorin-fuer-finanzen-1"), 0);
}

static void date_errors(void **state)
{
    (void)state;
    EXPECT_USAGE("usage: invalid --from '2026-1-5': expected a date as YYYY-MM-DD", "usage",
                 "hamburg", "--from", "2026-1-5");
    EXPECT_USAGE("usage: invalid --to '29.11.2026': expected a date as YYYY-MM-DD", "usage",
                 "hamburg", "--to", "29.11.2026");
    EXPECT_USAGE("usage: invalid --from '2026-11-01T00:00': expected a date as YYYY-MM-DD",
                 "usage", "hamburg", "--from", "2026-11-01T00:00");
    EXPECT_USAGE("usage: invalid --from '2026-13-01': there is no month 13", "usage", "hamburg",
                 "--from", "2026-13-01");
    EXPECT_USAGE("usage: invalid --from '2026-00-10': there is no month 00", "usage", "hamburg",
                 "--from", "2026-00-10");
    EXPECT_USAGE("usage: invalid --to '2026-02-29': day 29 does not exist in 2026-02 (it has 28 "
                 "days)", "usage", "hamburg", "--to", "2026-02-29");
    EXPECT_USAGE("usage: invalid --to '2026-11-31': day 31 does not exist in 2026-11 (it has 30 "
                 "days)", "usage", "hamburg", "--to", "2026-11-31");
    EXPECT_USAGE("usage: invalid --from '2026-11-00': day 00 does not exist in 2026-11 (it has "
                 "30 days)", "usage", "hamburg", "--from", "2026-11-00");
    EXPECT_USAGE("usage: invalid --from '2100-02-29': day 29 does not exist in 2100-02 (it has "
                 "28 days)", "usage", "hamburg", "--from", "2100-02-29");
    EXPECT_USAGE("usage: --from 2026-11-30 is after --to 2026-11-01", "usage", "hamburg",
                 "--from", "2026-11-30", "--to", "2026-11-01");
    /* tenantd's reports take the years 2000 to 2999 */
    EXPECT_USAGE("usage: invalid --from '1999-12-31': the year must be from 2000 to 2999",
                 "usage", "hamburg", "--from", "1999-12-31");
    EXPECT_USAGE("usage: invalid --to '3000-01-01': the year must be from 2000 to 2999",
                 "usage", "hamburg", "--to", "3000-01-01");
}

static void date_accepts_leap_days(void **state)
{
    struct ctl_invocation inv;
    struct ctl_error err;
    (void)state;

    assert_int_equal(PARSE(&inv, &err, "usage", "hamburg", "--from", "2028-02-29"), 0);
    assert_int_equal(PARSE(&inv, &err, "usage", "hamburg", "--from", "2000-02-29"), 0);
    assert_int_equal(PARSE(&inv, &err, "usage", "hamburg", "--from", "2026-11-29", "--to",
                           "2026-11-29"), 0);
}

static void month_errors(void **state)
{
    struct ctl_invocation inv;
    struct ctl_error err;
    (void)state;

    assert_int_equal(PARSE(&inv, &err, "report", "monthly", "--month", "2026-11"), 0);
    assert_string_equal(inv_option(&inv, "--month"), "2026-11");
    EXPECT_USAGE("report monthly: missing option --month; usage: llmoinctl report monthly "
                 "--month YYYY-MM", "report", "monthly");
    EXPECT_USAGE("report monthly: invalid --month '2026-13': there is no month 13", "report",
                 "monthly", "--month", "2026-13");
    EXPECT_USAGE("report monthly: invalid --month '2026-00': there is no month 00", "report",
                 "monthly", "--month", "2026-00");
    EXPECT_USAGE("report monthly: invalid --month '2026-11-01': expected a month as YYYY-MM",
                 "report", "monthly", "--month", "2026-11-01");
    EXPECT_USAGE("report monthly: invalid --month '26-11': expected a month as YYYY-MM",
                 "report", "monthly", "--month", "26-11");
    EXPECT_USAGE("report monthly: invalid --month '1999-12': the year must be from 2000 to "
                 "2999", "report", "monthly", "--month", "1999-12");
    EXPECT_USAGE("'report' needs a subcommand (monthly); see llmoinctl report --help",
                 "report");
}

static void by_errors(void **state)
{
    (void)state;
    EXPECT_USAGE("usage: invalid --by 'week'; expected day, month, user, group, model or function", "usage", "hamburg",
                 "--by", "week");
    EXPECT_USAGE("usage: invalid --by 'Day'; expected day, month, user, group, model or function", "usage", "hamburg",
                 "--by=Day");
}

static void key_id_errors(void **state)
{
    (void)state;
    EXPECT_USAGE("key revoke: KEYID looks like a secret API key (lmk_...), not a key id; use the "
                 "id (key_...) shown by 'llmoinctl key list'", "key", "revoke", "lmk_AbCdSECRET");
    EXPECT_USAGE("key revoke: invalid KEYID '../../tenants/x': expected a key id like "
                 "key_0123456789abcdef (letters, digits, '_' and '-', at most 64)", "key",
                 "revoke", "../../tenants/x");
    EXPECT_USAGE("key revoke: invalid KEYID '..': expected a key id like key_0123456789abcdef "
                 "(letters, digits, '_' and '-', at most 64)", "key", "revoke", "..");
    EXPECT_USAGE("key revoke: invalid KEYID '': expected a key id like key_0123456789abcdef "
                 "(letters, digits, '_' and '-', at most 64)", "key", "revoke", "");
}

static void socket_path_too_long(void **state)
{
    char path[120];
    struct ctl_invocation inv;
    struct ctl_error err;
    (void)state;

    memset(path, 'a', sizeof path - 1);
    path[0] = '/';
    path[sizeof path - 1] = '\0';
    assert_int_equal(PARSE(&inv, &err, "--socket", path, "health"), CTL_EXIT_USAGE);
    assert_string_equal(err.msg, "health: invalid --socket: the path is 119 bytes long; unix "
                                 "sockets allow at most 107");
}

static void option_rules(void **state)
{
    struct ctl_invocation inv;
    struct ctl_error err;
    (void)state;

    EXPECT_USAGE("tenant update: missing option: give at least one of --name, --hosts, "
                 "--no-hosts, --models, --max-tokens-cap, --quota-fail-mode, --admin-claim "
                 "or --admin-value; usage: llmoinctl tenant update SLUG [--name NAME] "
                 "[--hosts HOST,... | --no-hosts] [--models all|allow-list] "
                 "[--max-tokens-cap N] [--quota-fail-mode closed|open] "
                 "[--admin-claim CLAIM] [--admin-value VALUE]",
                 "tenant", "update", "hamburg");
    EXPECT_USAGE("tenant update: options --hosts and --no-hosts exclude each other; give one",
                 "tenant", "update", "hamburg", "--no-hosts", "--hosts", "a.de");
    assert_int_equal(PARSE(&inv, &err, "tenant", "update", "hamburg", "--no-hosts"), 0);
    assert_int_equal(PARSE(&inv, &err, "tenant", "update", "hamburg", "--models", "all"), 0);
    EXPECT_USAGE("tenant update: invalid --models 'none'; expected all or allow-list", "tenant",
                 "update", "hamburg", "--models", "none");
    EXPECT_USAGE("tenant update: option --no-hosts takes no value", "tenant", "update",
                 "hamburg", "--no-hosts=x");

    EXPECT_USAGE("tenant dev-idp: missing option --enable or --disable; usage: llmoinctl tenant "
                 "dev-idp SLUG (--enable | --disable)", "tenant", "dev-idp", "hamburg");
    EXPECT_USAGE("tenant dev-idp: options --enable and --disable exclude each other; give one",
                 "tenant", "dev-idp", "hamburg", "--enable", "--disable");

    EXPECT_USAGE("issuer add: missing option --jwks-uri or --jwks-file; usage: llmoinctl issuer "
                 "add TENANT --issuer URL --audience AUD (--jwks-uri URL | --jwks-file FILE) "
                 "[--user-claim CLAIM] [--groups-claim CLAIM] [--leeway SECONDS]",
                 "issuer", "add", "hamburg", "--issuer", "https://idp.example", "--audience",
                 "llmoin");
    EXPECT_USAGE("issuer add: options --jwks-uri and --jwks-file exclude each other; give one",
                 "issuer", "add", "hamburg", "--issuer", "https://idp.example", "--audience",
                 "llmoin", "--jwks-file", "k.json", "--jwks-uri", "https://idp.example/certs");
    /* The file is read when the request is built, not while parsing. */
    assert_int_equal(PARSE(&inv, &err, "issuer", "add", "hamburg", "--issuer",
                           "https://idp.example", "--audience", "llmoin", "--jwks-file",
                           "/nonexistent.json"), 0);
}

static void list_errors(void **state)
{
    struct ctl_invocation inv;
    struct ctl_error err;
    (void)state;
    EXPECT_USAGE("key create: invalid --models: must not be empty; give entries separated by ','",
                 "key", "create", "hamburg", "--user", "alice", "--models", "");
    EXPECT_USAGE("key create: invalid --models 'a,,b': entry 2 is empty (separate entries with "
                 "',' only)", "key", "create", "hamburg", "--user", "alice", "--models", "a,,b");
    EXPECT_USAGE("key create: invalid --models 'a,': entry 2 is empty (separate entries with "
                 "',' only)", "key", "create", "hamburg", "--user", "alice", "--models", "a,");
    EXPECT_USAGE("key create: invalid --models 'a, b': entry ' b' starts or ends with a blank "
                 "(separate entries with ',' only)", "key", "create", "hamburg", "--user",
                 "alice", "--models", "a, b");
    EXPECT_USAGE("key create: invalid --models 'a,b,a': 'a' is given twice", "key", "create",
                 "hamburg", "--user", "alice", "--models", "a,b,a");
    EXPECT_USAGE("tenant update: invalid --hosts entry 'LLMoin.hamburg.de': expected a host name "
                 "in lowercase such as llmoin.hamburg.de (a-z, 0-9, '.' and '-' inside, at most "
                 "253)", "tenant", "update", "hamburg", "--hosts",
                 "llmoin.hamburg.de,LLMoin.hamburg.de");
    EXPECT_USAGE("tenant update: invalid --hosts entry 'llmoin.hamburg.de:443': expected a host "
                 "name in lowercase such as llmoin.hamburg.de (a-z, 0-9, '.' and '-' inside, at "
                 "most 253)", "tenant", "update", "hamburg", "--hosts", "llmoin.hamburg.de:443");
    EXPECT_USAGE("tenant update: invalid --hosts entry '-b.de': expected a host name in "
                 "lowercase such as llmoin.hamburg.de (a-z, 0-9, '.' and '-' inside, at most "
                 "253)", "tenant", "update", "hamburg", "--hosts", "a.de,-b.de");
    /* each part between dots as RFC 1123 has it */
    EXPECT_USAGE("tenant update: invalid --hosts entry 'llmoin..hamburg.de': a part between dots "
                 "is empty", "tenant", "update", "hamburg", "--hosts", "llmoin..hamburg.de");
    EXPECT_USAGE("tenant update: invalid --hosts entry 'llmoin.-hamburg.de': a part between dots "
                 "starts or ends with '-'", "tenant", "update", "hamburg", "--hosts",
                 "llmoin.-hamburg.de");
    EXPECT_USAGE("tenant update: invalid --hosts entry 'llmoin-.hamburg.de': a part between dots "
                 "starts or ends with '-'", "tenant", "update", "hamburg", "--hosts",
                 "llmoin-.hamburg.de");
    EXPECT_USAGE("tenant update: invalid --hosts entry '"
                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.de': a part "
                 "between dots is longer than 63 characters", "tenant", "update", "hamburg",
                 "--hosts", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.de");
    assert_int_equal(PARSE(&inv, &err, "tenant", "update", "hamburg", "--hosts",
                           "a.de,x-1.b2.hamburg.de,"
                           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.de"), 0);
}

static void expiry_errors(void **state)
{
#define EXPIRES(value) "key", "create", "hamburg", "--user", "alice", "--expires", value
    struct ctl_invocation inv;
    struct ctl_error err;
    (void)state;

    EXPECT_USAGE("key create: invalid --expires 'tomorrow': expected a duration (90d, 12h or "
                 "30m), a date (2027-02-27) or an RFC 3339 time (2027-02-27T12:00:00Z)",
                 EXPIRES("tomorrow"));
    EXPECT_USAGE("key create: invalid --expires '90D': expected a duration (90d, 12h or 30m), a "
                 "date (2027-02-27) or an RFC 3339 time (2027-02-27T12:00:00Z)", EXPIRES("90D"));
    EXPECT_USAGE("key create: invalid --expires '90': a duration needs a unit: 90d (days), 90h "
                 "(hours) or 90m (minutes)", EXPIRES("90"));
    EXPECT_USAGE("key create: invalid --expires '0d': the duration must be positive",
                 EXPIRES("0d"));
    EXPECT_USAGE("key create: invalid --expires '3651d': at most 3650 days (10 years) ahead",
                 EXPIRES("3651d"));
    EXPECT_USAGE("key create: invalid --expires '87601h': at most 3650 days (10 years) ahead",
                 EXPIRES("87601h"));
    EXPECT_USAGE("key create: invalid --expires '99999999999m': at most 3650 days (10 years) "
                 "ahead", EXPIRES("99999999999m"));
    EXPECT_USAGE("key create: invalid --expires '2027-02-30': day 30 does not exist in 2027-02 "
                 "(it has 28 days)", EXPIRES("2027-02-30"));
    EXPECT_USAGE("key create: invalid --expires '2027-02-27 12:00': expected a duration (90d, "
                 "12h or 30m), a date (2027-02-27) or an RFC 3339 time (2027-02-27T12:00:00Z)",
                 EXPIRES("2027-02-27 12:00"));
    EXPECT_USAGE("key create: invalid --expires '2027-02-27T12:00:00': expected an RFC 3339 time "
                 "such as 2027-02-27T12:00:00Z or 2027-02-27T12:00:00+01:00",
                 EXPIRES("2027-02-27T12:00:00"));
    EXPECT_USAGE("key create: invalid --expires '2027-02-27T12:00:00.5Z': expected an RFC 3339 "
                 "time such as 2027-02-27T12:00:00Z or 2027-02-27T12:00:00+01:00",
                 EXPIRES("2027-02-27T12:00:00.5Z"));
    EXPECT_USAGE("key create: invalid --expires '2027-13-01T12:00Z': there is no month 13",
                 EXPIRES("2027-13-01T12:00Z"));
    EXPECT_USAGE("key create: invalid --expires '2027-02-27T24:00:00Z': there is no hour 24",
                 EXPIRES("2027-02-27T24:00:00Z"));
    EXPECT_USAGE("key create: invalid --expires '2027-02-27T12:60:00Z': there is no minute 60",
                 EXPIRES("2027-02-27T12:60:00Z"));
    EXPECT_USAGE("key create: invalid --expires '2027-02-27T12:00:61Z': there is no second 61",
                 EXPIRES("2027-02-27T12:00:61Z"));
    EXPECT_USAGE("key create: invalid --expires '2027-02-27T12:00:00+24:00': there is no UTC "
                 "offset +24:00", EXPIRES("2027-02-27T12:00:00+24:00"));
    assert_int_equal(PARSE(&inv, &err, EXPIRES("3650d")), 0);
    assert_int_equal(PARSE(&inv, &err, EXPIRES("2028-02-29")), 0);
    assert_int_equal(PARSE(&inv, &err, EXPIRES("2027-02-27T12:00Z")), 0);
    assert_int_equal(PARSE(&inv, &err, EXPIRES("2027-02-27T12:00:00-05:30")), 0);
#undef EXPIRES
}

static void seconds_errors(void **state)
{
    struct ctl_invocation inv;
    struct ctl_error err;
    (void)state;

    EXPECT_USAGE("dev-token: invalid --ttl '1.5h': expected seconds (3600 or 3600s), minutes "
                 "(30m) or hours (1h)", "dev-token", "hamburg", "--user", "alice", "--ttl", "1.5h");
    EXPECT_USAGE("dev-token: invalid --ttl '1d': expected seconds (3600 or 3600s), minutes "
                 "(30m) or hours (1h)", "dev-token", "hamburg", "--user", "alice", "--ttl", "1d");
    EXPECT_USAGE("dev-token: invalid --ttl '59s': must be at least 60 seconds", "dev-token",
                 "hamburg", "--user", "alice", "--ttl", "59s");
    EXPECT_USAGE("dev-token: invalid --ttl '169h': must be at most 604800 seconds", "dev-token",
                 "hamburg", "--user", "alice", "--ttl", "169h");
    EXPECT_USAGE("dev-token: invalid --ttl '-60': expected seconds (3600 or 3600s), minutes "
                 "(30m) or hours (1h)", "dev-token", "hamburg", "--user", "alice", "--ttl=-60");
    EXPECT_USAGE("issuer add: invalid --leeway '11m': must be at most 600 seconds", "issuer",
                 "add", "hamburg", "--issuer", "https://idp.example", "--audience", "llmoin",
                 "--jwks-uri", "https://idp.example/certs", "--leeway", "11m");
    assert_int_equal(PARSE(&inv, &err, "issuer", "add", "hamburg", "--issuer",
                           "https://idp.example", "--audience", "llmoin", "--jwks-uri",
                           "https://idp.example/certs", "--leeway", "0"), 0);
    assert_int_equal(PARSE(&inv, &err, "dev-token", "hamburg", "--user", "alice", "--ttl", "1h"),
                     0);
}

static void number_and_limit_errors(void **state)
{
    struct ctl_invocation inv;
    struct ctl_error err;
    (void)state;

    EXPECT_USAGE("tenant update: invalid --max-tokens-cap '0': expected a whole number from 1 "
                 "to 1000000", "tenant", "update", "hamburg", "--max-tokens-cap", "0");
    EXPECT_USAGE("tenant update: invalid --max-tokens-cap '1000001': expected a whole number "
                 "from 1 to 1000000", "tenant", "update", "hamburg", "--max-tokens-cap",
                 "1000001");
    EXPECT_USAGE("tenant update: invalid --max-tokens-cap '4k': expected a whole number from 1 "
                 "to 1000000", "tenant", "update", "hamburg", "--max-tokens-cap", "4k");
    EXPECT_USAGE("tenant update: invalid --quota-fail-mode 'ajar'; expected closed or open",
                 "tenant", "update", "hamburg", "--quota-fail-mode", "ajar");
    assert_int_equal(PARSE(&inv, &err, "tenant", "update", "hamburg", "--max-tokens-cap",
                           "1000000", "--quota-fail-mode", "open"), 0);

    /* A negative number is taken as the value, for its check to explain. */
    EXPECT_USAGE("limits set: invalid --rpm '-5': expected a whole number from 0 to 2147483647, "
                 "or none to lift the limit", "limits", "set", "hamburg", "--rpm", "-5");
    EXPECT_USAGE("limits set: invalid --rpm '2147483648': expected a whole number from 0 to "
                 "2147483647, or none to lift the limit", "limits", "set", "hamburg", "--rpm",
                 "2147483648");
    EXPECT_USAGE("limits set: invalid --tpm '9223372036854775808': expected a whole number from "
                 "0 to 9223372036854775807, or none to lift the limit", "limits", "set",
                 "hamburg", "--tpm", "9223372036854775808");
    EXPECT_USAGE("limits set: invalid --concurrent 'unlimited': expected a whole number from 0 "
                 "to 2147483647, or none to lift the limit", "limits", "set", "hamburg",
                 "--concurrent", "unlimited");
    EXPECT_USAGE("limits set: invalid --monthly-tokens '': expected a whole number from 0 to "
                 "9223372036854775807, or none to lift the limit", "limits", "set", "hamburg",
                 "--monthly-tokens=");
    EXPECT_USAGE("limits set: missing option: give at least one of --rpm, --tpm, --concurrent "
                 "or --monthly-tokens; usage: llmoinctl limits set TENANT [--user USER | --group "
                 "GROUP | --key KEYID | --default-user | --default-group | --default-key] "
                 "[--rpm N] [--tpm N] [--concurrent N] [--monthly-tokens N]",
                 "limits", "set", "hamburg", "--user", "alice");
    EXPECT_USAGE("limits set: options --user and --default-user exclude each other; give one",
                 "limits", "set", "hamburg", "--user", "alice", "--default-user", "--rpm", "1");
    EXPECT_USAGE("limits set: --key looks like a secret API key (lmk_...), not a key id; use the "
                 "id (key_...) shown by 'llmoinctl key list'", "limits", "set", "hamburg",
                 "--key", "lmk_AbCdSECRET", "--rpm", "1");
    EXPECT_USAGE("limits clear: options --group and --default-key exclude each other; give one",
                 "limits", "clear", "hamburg", "--group", "it", "--default-key");
    EXPECT_USAGE("limits clear: unknown option '--rpm'; see llmoinctl limits clear --help",
                 "limits", "clear", "hamburg", "--rpm", "1");
    assert_int_equal(PARSE(&inv, &err, "limits", "set", "hamburg", "--rpm", "none", "--tpm", "0",
                           "--monthly-tokens", "9223372036854775807"), 0);
    assert_int_equal(PARSE(&inv, &err, "limits", "clear", "hamburg"), 0);
    /* Elsewhere a value still cannot look like an option. */
    EXPECT_USAGE("tenant update: option --name needs a value", "tenant", "update", "hamburg",
                 "--name", "--output", "json");
}

static void url_and_issuer_id_errors(void **state)
{
#define URL_MSG(value)                                                                        \
    "issuer add: invalid --issuer '" value "': expected an https URL such as "               \
    "https://login.example.de/realms/llmoin, without blanks (http only for 127.0.0.1 or "    \
    "localhost)"
#define ISSUER(value) "issuer", "add", "hamburg", "--audience", "a", "--jwks-uri", \
                      "https://idp.example/certs", "--issuer", value
    struct ctl_invocation inv;
    struct ctl_error err;
    (void)state;

    EXPECT_USAGE(URL_MSG("http://idp.example"), ISSUER("http://idp.example"));
    EXPECT_USAGE(URL_MSG("https://"), ISSUER("https://"));
    EXPECT_USAGE(URL_MSG("https://idp.example/realms/a b"), ISSUER("https://idp.example/realms/a b"));
    EXPECT_USAGE(URL_MSG("http://localhost.evil.example"), ISSUER("http://localhost.evil.example"));
    EXPECT_USAGE(URL_MSG("idp.example"), ISSUER("idp.example"));
    assert_int_equal(PARSE(&inv, &err, ISSUER("http://127.0.0.1:8790/dev-idp/hamburg")), 0);
    assert_int_equal(PARSE(&inv, &err, ISSUER("http://localhost")), 0);
    assert_int_equal(PARSE(&inv, &err, ISSUER("https://login.hamburg.de/realms/llmoin")), 0);

    EXPECT_USAGE("issuer remove: invalid ISSUER_ID '03': expected an issuer's number as shown by "
                 "'llmoinctl issuer list', e.g. 3", "issuer", "remove", "03");
    EXPECT_USAGE("issuer remove: invalid ISSUER_ID '../tenants': expected an issuer's number as "
                 "shown by 'llmoinctl issuer list', e.g. 3", "issuer", "remove", "../tenants");
    assert_int_equal(PARSE(&inv, &err, "issuer", "remove", "17"), 0);
#undef URL_MSG
#undef ISSUER
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_command_args_and_options),
        cmocka_unit_test(globals_anywhere),
        cmocka_unit_test(equals_form_and_defaults),
        cmocka_unit_test(double_dash_ends_options),
        cmocka_unit_test(help_wins_over_other_errors),
        cmocka_unit_test(version),
        cmocka_unit_test(command_errors),
        cmocka_unit_test(argument_count_errors),
        cmocka_unit_test(optional_argument),
        cmocka_unit_test(option_errors),
        cmocka_unit_test(value_errors),
        cmocka_unit_test(slug_errors),
        cmocka_unit_test(slug_accepts_rule),
        cmocka_unit_test(date_errors),
        cmocka_unit_test(date_accepts_leap_days),
        cmocka_unit_test(month_errors),
        cmocka_unit_test(by_errors),
        cmocka_unit_test(key_id_errors),
        cmocka_unit_test(socket_path_too_long),
        cmocka_unit_test(option_rules),
        cmocka_unit_test(list_errors),
        cmocka_unit_test(expiry_errors),
        cmocka_unit_test(seconds_errors),
        cmocka_unit_test(number_and_limit_errors),
        cmocka_unit_test(url_and_issuer_id_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
