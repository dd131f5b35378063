/*
 * journal: a valid line parses into every field; each field's failure is
 * reported with a reason naming that field; bounds, non-object lines,
 * trailing garbage and fields the parser does not know.
 *
 * Invalid lines are made from the valid one by changing one field with
 * jansson, so that each case fails for exactly one reason. valid_line is a
 * line as nginx wrote it before "groups" and "quota" came (still valid);
 * valid_line_quota has both; valid_line_function also has "function" and
 * "first_byte_time".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "journal.h"

#define S(lit) lit, sizeof(lit) - 1

static const char valid_line[] =
    "{\"v\":\"1\",\"ts\":\"1764456000.123\","
    "\"request_id\":\"0123456789abcdef0123456789abcdef\","
    "\"tenant_id\":\"1\",\"user\":\"alice\",\"key_id\":\"key_0123456789abcdef\","
    "\"model\":\"llama\",\"pool\":\"default\",\"status\":\"200\","
    "\"upstream_status\":\"200\",\"prompt_tokens\":\"12\","
    "\"completion_tokens\":\"40\",\"usage\":\"reported\",\"stream\":\"0\","
    "\"request_time\":\"0.042\"}";

static const char valid_line_quota[] =
    "{\"v\":\"1\",\"ts\":\"1764456000.123\","
    "\"request_id\":\"0123456789abcdef0123456789abcdef\","
    "\"tenant_id\":\"1\",\"user\":\"alice\",\"key_id\":\"\","
    "\"model\":\"llama\",\"pool\":\"default\",\"status\":\"200\","
    "\"upstream_status\":\"200\",\"prompt_tokens\":\"12\","
    "\"completion_tokens\":\"40\",\"usage\":\"reported\",\"stream\":\"0\","
    "\"request_time\":\"0.042\",\"groups\":\"staff,lab\",\"quota\":\"checked\"}";

static const char valid_line_function[] =
    "{\"v\":\"1\",\"ts\":\"1764456000.123\","
    "\"request_id\":\"0123456789abcdef0123456789abcdef\","
    "\"tenant_id\":\"1\",\"user\":\"alice\",\"key_id\":\"\","
    "\"model\":\"llama\",\"pool\":\"default\",\"status\":\"200\","
    "\"upstream_status\":\"200\",\"prompt_tokens\":\"12\","
    "\"completion_tokens\":\"40\",\"usage\":\"reported\",\"stream\":\"1\","
    "\"request_time\":\"0.942\",\"groups\":\"staff\",\"quota\":\"checked\","
    "\"function\":\"summarize\",\"first_byte_time\":\"0.123\"}";

static void parse_ok(const char *line, size_t length, llmoin_journal_record_t *r)
{
    char reason[256] = "";

    if (llmoin_journal_parse(line, length, r, reason, sizeof reason) != 0)
        fail_msg("line refused: %s: %.*s", reason, (int)length, line);
}

static void expect_refused(const char *line, size_t length, const char *want)
{
    llmoin_journal_record_t r;
    char reason[256];

    memset(reason, 'X', sizeof reason);
    if (llmoin_journal_parse(line, length, &r, reason, sizeof reason) == 0)
        fail_msg("accepted, wanted '%s': %.*s", want, (int)length, line);
    assert_non_null(memchr(reason, '\0', sizeof reason));
    if (strstr(reason, want) == NULL)
        fail_msg("reason '%s' lacks '%s' for %.*s", reason, want, (int)length, line);
}

/* The valid line with one field set to a JSON value (NULL: removed), in a
 * static buffer (valid until the next call), so that a failing assertion
 * leaks nothing LeakSanitizer would report. */
static const char *line_with(const char *name, json_t *value)
{
    static char line[8192];
    json_error_t e;
    json_t *root = json_loads(valid_line, 0, &e);
    char *text;

    assert_non_null(root);
    if (value == NULL)
        assert_int_equal(json_object_del(root, name), 0);
    else
        assert_int_equal(json_object_set_new(root, name, value), 0);
    text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    assert_non_null(text);
    assert_true(strlen(text) < sizeof line);
    memcpy(line, text, strlen(text) + 1);
    free(text);
    return line;
}

static json_t *json_value(const char *text)
{
    json_error_t e;
    json_t *value = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);

    if (value == NULL)
        fail_msg("bad test value %s: %s", text, e.text);
    return value;
}

static void expect_field_refused(const char *name, const char *value,
                                 const char *want)
{
    const char *line = line_with(name, value ? json_value(value) : NULL);
    expect_refused(line, strlen(line), want);
}

static void expect_field_ok(const char *name, const char *value,
                            llmoin_journal_record_t *r)
{
    const char *line = line_with(name, json_value(value));
    parse_ok(line, strlen(line), r);
}

static json_t *repeated(char c, size_t n)
{
    char *text = malloc(n + 1);
    json_t *value;

    assert_non_null(text);
    memset(text, c, n);
    text[n] = '\0';
    value = json_string(text);
    free(text);
    assert_non_null(value);
    return value;
}

/* ---- valid lines -------------------------------------------------------- */

static void test_valid_line(void **state)
{
    (void)state;
    llmoin_journal_record_t r;

    memset(&r, 0x55, sizeof r);
    parse_ok(S(valid_line), &r);
    assert_string_equal(r.request_id, "0123456789abcdef0123456789abcdef");
    assert_string_equal(r.ts, "1764456000.123");
    assert_int_equal(r.tenant_id, 1);
    assert_string_equal(r.user, "alice");
    assert_string_equal(r.key_id, "key_0123456789abcdef");
    assert_string_equal(r.model, "llama");
    assert_string_equal(r.pool, "default");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.upstream_status, "200");
    assert_int_equal(r.prompt_tokens, 12);
    assert_int_equal(r.completion_tokens, 40);
    assert_string_equal(r.usage_source, "reported");
    assert_false(r.stream);
    assert_int_equal(r.request_time_ms, 42);
    /* a line from before "groups", "quota", "function" and
     * "first_byte_time": the defaults */
    assert_string_equal(r.groups, "");
    assert_string_equal(r.quota, "none");
    assert_string_equal(r.function, "");
    assert_int_equal(r.first_byte_ms, -1);
}

static void test_valid_line_variants(void **state)
{
    (void)state;
    llmoin_journal_record_t r;

    /* a token-authenticated stream nobody answered, usage estimated */
    parse_ok(S("{\"v\":\"1\",\"ts\":\"1764456000\","
               "\"request_id\":\"ffffffffffffffffffffffffffffffff\","
               "\"tenant_id\":\"42\",\"user\":\"j\\u00fcrgen@stadt.de\",\"key_id\":\"\","
               "\"model\":\"\",\"pool\":\"\",\"status\":\"502\","
               "\"upstream_status\":\"\",\"prompt_tokens\":\"0\","
               "\"completion_tokens\":\"0\",\"usage\":\"estimated\",\"stream\":\"1\","
               "\"request_time\":\"12.5\"}"),
             &r);
    assert_string_equal(r.request_id, "ffffffffffffffffffffffffffffffff");
    assert_string_equal(r.ts, "1764456000");
    assert_int_equal(r.tenant_id, 42);
    assert_string_equal(r.user, "j\xc3\xbcrgen@stadt.de");
    assert_string_equal(r.key_id, "");
    assert_string_equal(r.model, "");
    assert_string_equal(r.pool, "");
    assert_int_equal(r.status, 502);
    assert_string_equal(r.upstream_status, "");
    assert_int_equal(r.prompt_tokens, 0);
    assert_int_equal(r.completion_tokens, 0);
    assert_string_equal(r.usage_source, "estimated");
    assert_true(r.stream);
    assert_int_equal(r.request_time_ms, 12500);

    expect_field_ok("usage", "\"none\"", &r);
    assert_string_equal(r.usage_source, "none");
    /* nginx lists every upstream it tried */
    expect_field_ok("upstream_status", "\"502, 200\"", &r);
    assert_string_equal(r.upstream_status, "502, 200");
    expect_field_ok("status", "\"0\"", &r);
    assert_int_equal(r.status, 0);
    expect_field_ok("status", "\"999\"", &r);
    assert_int_equal(r.status, 999);
    expect_field_ok("prompt_tokens", "\"2000000000\"", &r);
    assert_int_equal(r.prompt_tokens, 2000000000LL);
    expect_field_ok("completion_tokens", "\"2000000000\"", &r);
    assert_int_equal(r.completion_tokens, 2000000000LL);
    expect_field_ok("tenant_id", "\"9000000000000000000\"", &r);
    assert_int_equal(r.tenant_id, 9000000000000000000LL);
}

static void test_request_time_rounding(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        long ms;
    } cases[] = {
        {"\"0\"", 0},          {"\"0.000\"", 0},     {"\"0.0004\"", 0},
        {"\"0.001\"", 1},      {"\"0.042\"", 42},    {"\"0.0426\"", 43},
        {"\"1\"", 1000},       {"\"1.5\"", 1500},    {"\"59.999\"", 59999},
        {"\"3600.25\"", 3600250},
    };
    llmoin_journal_record_t r;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        expect_field_ok("request_time", cases[i].value, &r);
        if (r.request_time_ms != cases[i].ms)
            fail_msg("request_time %s: %ld ms, want %ld", cases[i].value,
                     r.request_time_ms, cases[i].ms);
    }
}

static void test_unknown_fields_accepted(void **state)
{
    (void)state;
    llmoin_journal_record_t r;
    /* lookups are by name: fields a later journal version adds, in any
     * position and of any type, do not make a line invalid */
    const char *line = line_with("cache", json_value("{\"hit\":true,\"tokens\":[1,2]}"));

    parse_ok(line, strlen(line), &r);
    assert_int_equal(r.request_time_ms, 42);
    parse_ok(S("{\"first\":null,\"v\":\"1\",\"ts\":\"1764456000.123\","
               "\"request_id\":\"0123456789abcdef0123456789abcdef\",\"x\":1,"
               "\"tenant_id\":\"1\",\"user\":\"alice\",\"key_id\":\"\","
               "\"model\":\"llama\",\"pool\":\"default\",\"status\":\"200\","
               "\"upstream_status\":\"200\",\"prompt_tokens\":\"12\","
               "\"completion_tokens\":\"40\",\"usage\":\"reported\",\"stream\":\"0\","
               "\"request_time\":\"0.042\",\"last\":\"\"}"),
             &r);
    assert_string_equal(r.user, "alice");
}

static void test_whitespace_and_length(void **state)
{
    (void)state;
    llmoin_journal_record_t r;
    char buffer[sizeof valid_line + 16];

    /* the newline that ends a journal line, and surrounding blanks */
    memcpy(buffer, valid_line, sizeof valid_line - 1);
    memcpy(buffer + sizeof valid_line - 1, "\n", 2);
    parse_ok(buffer, strlen(buffer), &r);
    parse_ok(S(" \t{\"v\" : \"1\", \"ts\":\"1764456000.5\",\"request_id\":"
               "\"0123456789abcdef0123456789abcdef\",\"tenant_id\":\"1\","
               "\"user\":\"u\",\"key_id\":\"\",\"model\":\"m\",\"pool\":\"p\","
               "\"status\":\"200\",\"upstream_status\":\"\",\"prompt_tokens\":\"1\","
               "\"completion_tokens\":\"2\",\"usage\":\"none\",\"stream\":\"0\","
               "\"request_time\":\"0\"}\r\n"),
             &r);
    /* only length bytes are read */
    memcpy(buffer, valid_line, sizeof valid_line - 1);
    memcpy(buffer + sizeof valid_line - 1, "{\"v\":\"2\"}", 10);
    parse_ok(buffer, sizeof valid_line - 1, &r);
    expect_refused(buffer, sizeof valid_line - 2, "not a JSON object");
}

/* ---- refusals ----------------------------------------------------------- */

static void test_not_an_object(void **state)
{
    (void)state;
    char buffer[sizeof valid_line + 16];

    expect_refused("", 0, "not a JSON object");
    expect_refused(S("\n"), "not a JSON object");
    expect_refused(S("{"), "not a JSON object");
    expect_refused(S("[]"), "not a JSON object: other JSON value");
    expect_refused(S("[{\"v\":\"1\"}]"), "not a JSON object: other JSON value");
    expect_refused(S("\"v\""), "not a JSON object");
    expect_refused(S("42"), "not a JSON object");
    expect_refused(S("null"), "not a JSON object");
    expect_refused(S("v=1 ts=1764456000.123"), "not a JSON object");
    /* trailing garbage, a second object, a cut line */
    memcpy(buffer, valid_line, sizeof valid_line - 1);
    memcpy(buffer + sizeof valid_line - 1, " x", 3);
    expect_refused(buffer, strlen(buffer), "not a JSON object");
    memcpy(buffer + sizeof valid_line - 1, "{}", 3);
    expect_refused(buffer, strlen(buffer), "not a JSON object");
    memcpy(buffer + sizeof valid_line - 1, ",", 2);
    expect_refused(buffer, strlen(buffer), "not a JSON object");
    expect_refused(valid_line, sizeof valid_line / 2, "not a JSON object");
    /* duplicate fields are ambiguous */
    memcpy(buffer, valid_line, sizeof valid_line - 2);
    memcpy(buffer + sizeof valid_line - 2, ",\"v\":\"1\"}", 10);
    expect_refused(buffer, strlen(buffer), "duplicate object key");
    /* NUL escapes are refused by jansson */
    expect_field_refused("user", "\"a\\u0000b\"", "not a JSON object");
}

static void test_missing_or_not_string(void **state)
{
    (void)state;
    static const char *const fields[] = {
        "v", "ts", "request_id", "tenant_id", "user", "key_id", "model", "pool",
        "status", "upstream_status", "prompt_tokens", "completion_tokens",
        "usage", "stream", "request_time"};
    static const char *const wrong_types[] = {"1", "null", "true", "[]", "{}", "0.5"};
    char want[96];

    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        snprintf(want, sizeof want, "field '%s' is missing or not a string", fields[i]);
        expect_field_refused(fields[i], NULL, want);
        for (size_t j = 0; j < sizeof wrong_types / sizeof wrong_types[0]; j++)
            expect_field_refused(fields[i], wrong_types[j], want);
    }
}

static void test_text_lengths(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        size_t max;
        int may_be_empty;
    } fields[] = {
        {"user", 200, 0},  {"key_id", 23, 1},          {"model", 200, 1},
        {"pool", 39, 1},   {"upstream_status", 63, 1},
    };
    llmoin_journal_record_t r;
    char want[96];

    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *line = line_with(fields[i].name, repeated('a', fields[i].max));
        parse_ok(line, strlen(line), &r);

        snprintf(want, sizeof want, "field '%s' is empty or longer than %zu bytes",
                 fields[i].name, fields[i].max);
        line = line_with(fields[i].name, repeated('a', fields[i].max + 1));
        expect_refused(line, strlen(line), want);
        line = line_with(fields[i].name, repeated('a', 4096));
        expect_refused(line, strlen(line), want);

        line = line_with(fields[i].name, json_string(""));
        if (fields[i].may_be_empty)
            parse_ok(line, strlen(line), &r);
        else
            expect_refused(line, strlen(line), want);
    }
    /* the limit is in bytes, not characters: 100 x U+00FC is 200 bytes */
    const char *line = line_with("user", json_value("\"" 
        "\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc"
        "\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc"
        "\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc"
        "\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc"
        "\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc"
        "\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc"
        "\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc"
        "\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc"
        "\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc"
        "\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\""));
    parse_ok(line, strlen(line), &r);
    assert_int_equal(strlen(r.user), 200);
    line = line_with("user", json_value("\"x"
        "\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc"
        "\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc"
        "\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc"
        "\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc"
        "\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc"
        "\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc"
        "\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc"
        "\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc"
        "\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc"
        "\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\\u00fc\""));
    expect_refused(line, strlen(line), "field 'user' is empty or longer than 200 bytes");
}

static void test_version(void **state)
{
    (void)state;
    expect_field_refused("v", "\"2\"", "field 'v' has an unknown value");
    expect_field_refused("v", "\"0\"", "field 'v' has an unknown value");
    expect_field_refused("v", "\"1.0\"", "field 'v' has an unknown value");
    expect_field_refused("v", "\" 1\"", "field 'v' has an unknown value");
    expect_field_refused("v", "\"\"", "field 'v' is empty or longer than 3 bytes");
    expect_field_refused("v", "\"1000\"", "field 'v' is empty or longer than 3 bytes");
}

static void test_ts(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\"\"", "\"now\"", "\"-1\"", "\"+1764456000\"", "\" 1764456000\"",
        "\"1764456000 \"", "\"1764456000.123s\"", "\".5\"", "\"1,5\"", "\"inf\"",
        "\"nan\"",
        /* 32 characters: longer than the record keeps */
        "\"1764456000.123456789012345678901\"",
    };
    llmoin_journal_record_t r;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_field_refused("ts", bad[i], "field 'ts' is not a time in seconds");
    /* 31 characters still fit */
    expect_field_ok("ts", "\"1764456000.12345678901234567890\"", &r);
    assert_string_equal(r.ts, "1764456000.12345678901234567890");
    expect_field_ok("ts", "\"1764456000\"", &r);
    assert_string_equal(r.ts, "1764456000");
}

/* ts within LLMOIN_JOURNAL_TS_MIN..MAX (2000-01-01 to 2100-01-01), what
 * usage_events.ts and its monthly partitions hold. */
static void test_ts_range(void **state)
{
    (void)state;
    static const char *const bad[] = {"\"0\"", "\"1.5\"", "\"946684799\"",
                                      "\"4102444801\"", "\"99999999999999\""};
    llmoin_journal_record_t r;
    char value[64];

    snprintf(value, sizeof value, "\"%.3f\"", LLMOIN_JOURNAL_TS_MIN);
    expect_field_ok("ts", value, &r);
    snprintf(value, sizeof value, "\"%.3f\"", LLMOIN_JOURNAL_TS_MAX);
    expect_field_ok("ts", value, &r);
    snprintf(value, sizeof value, "\"%.3f\"", LLMOIN_JOURNAL_TS_MIN - 0.001);
    expect_field_refused("ts", value, "field 'ts' is outside");
    snprintf(value, sizeof value, "\"%.3f\"", LLMOIN_JOURNAL_TS_MAX + 0.001);
    expect_field_refused("ts", value, "field 'ts' is outside");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_field_refused("ts", bad[i], "field 'ts' is outside");
    /* infinity, and 16 s written as a hexadecimal float */
    expect_field_refused("ts", "\"1e999\"", "field 'ts'");
    expect_field_refused("ts", "\"0x1p4\"", "field 'ts'");
}

/*
 * BUG (common/journal.c:76-78, read_seconds): ts is only checked to start
 * with a digit, to be consumed whole by strtod and (since c7b36bc) to lie
 * in LLMOIN_JOURNAL_TS_MIN..MAX. strtod also reads C99 hexadecimal floats, so
 * "0x1.a5p+30" (= 1765801984, in range) is accepted and handed on as is:
 * tenantd casts the ts string to numeric, which PostgreSQL refuses
 * ("invalid input syntax for type numeric", checked on PostgreSQL 15 for
 * all four values below), so "a parsed line always fits" does not hold:
 * the batch fails and tenantd has to isolate the line. Refuse anything but
 * decimal digits with at most one '.', e.g. check
 * strspn(value, "0123456789.") == strlen(value) before strtod.
 */
static void test_ts_must_be_decimal(void **state)
{
    (void)state;
    static const char *const bad[] = {"\"0x1.a5p+30\"", "\"0x69298e00.8\"",
                                      "\"0X69298E00.8\"", "\"0x69298e00\""};
    llmoin_journal_record_t r;
    int accepted = 0;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *line = line_with("ts", json_value(bad[i]));
        char reason[256] = "";

        if (llmoin_journal_parse(line, strlen(line), &r, reason, sizeof reason) == 0) {
            print_message("ts %s accepted\n", bad[i]);
            accepted++;
        } else if (strstr(reason, "field 'ts'") == NULL) {
            fail_msg("ts %s: reason '%s' does not name the field", bad[i], reason);
        }
    }
    assert_int_equal(accepted, 0);
}

static void test_request_id(void **state)
{
    (void)state;
    llmoin_journal_record_t r;

    expect_field_refused("request_id", "\"0123456789abcdef0123456789abcde\"",
                         "field 'request_id' is not 32 hexadecimal digits");
    expect_field_refused("request_id", "\"0123456789abcdef0123456789abcdeg\"",
                         "field 'request_id' is not 32 hexadecimal digits");
    expect_field_refused("request_id", "\"0123456789abcdef-123456789abcdef\"",
                         "field 'request_id' is not 32 hexadecimal digits");
    expect_field_refused("request_id", "\"0123456789abcdef0123456789abcde \"",
                         "field 'request_id' is not 32 hexadecimal digits");
    expect_field_refused("request_id", "\"x\"",
                         "field 'request_id' is not 32 hexadecimal digits");
    expect_field_refused("request_id", "\"0123456789abcdef0123456789abcdef0\"",
                         "field 'request_id' is empty or longer than 32 bytes");
    expect_field_refused("request_id", "\"\"",
                         "field 'request_id' is empty or longer than 32 bytes");
    expect_field_ok("request_id", "\"00000000000000000000000000000000\"", &r);
    assert_string_equal(r.request_id, "00000000000000000000000000000000");
}

static void test_whole_numbers(void **state)
{
    (void)state;
    static const char *const fields[] = {"tenant_id", "status", "prompt_tokens",
                                         "completion_tokens"};
    static const char *const bad[] = {
        "\"\"",  "\"-1\"", "\"-0\"", "\"+1\"", "\" 1\"", "\"1 \"", "\"1.5\"",
        "\"1e3\"", "\"0x10\"", "\"abc\"", "\"12abc\"",
        "\"99999999999999999999\"", /* beyond long long */
    };
    char want[96];

    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        snprintf(want, sizeof want, "field '%s' is not a non-negative whole number",
                 fields[i]);
        for (size_t j = 0; j < sizeof bad / sizeof bad[0]; j++)
            expect_field_refused(fields[i], bad[j], want);
    }
}

static void test_numbers_out_of_range(void **state)
{
    (void)state;
    expect_field_refused("status", "\"1000\"", "a number is out of range");
    expect_field_refused("status", "\"9223372036854775807\"", "a number is out of range");
    expect_field_refused("prompt_tokens", "\"2000000001\"", "a number is out of range");
    expect_field_refused("completion_tokens", "\"2000000001\"", "a number is out of range");
    expect_field_refused("completion_tokens", "\"9223372036854775807\"",
                         "a number is out of range");
    expect_field_refused("tenant_id", "\"9000000000000000001\"", "a number is out of range");
    expect_field_refused("tenant_id", "\"9223372036854775807\"", "a number is out of range");
}

/*
 * request_time at most LLMOIN_JOURNAL_REQUEST_TIME_MAX (a week). Before
 * c7b36bc it was unbounded: "1e300" made (long)(request_time * 1000.0 + 0.5)
 * convert an out-of-range double (undefined behaviour; fuzz_journal found it
 * within seconds), and anything above 2147483.647 s overflowed the integer
 * column usage_events.request_time_ms.
 */
static void test_request_time_out_of_range(void **state)
{
    (void)state;
    static const char *const bad[] = {"\"1e300\"", "\"1e20\"", "\"10000000000\"",
                                      "\"2147484\"", "\"604800.001\"", "\"604801\""};
    llmoin_journal_record_t r;
    char value[64];

    expect_field_ok("request_time", "\"86400\"", &r);
    assert_int_equal(r.request_time_ms, 86400000L);
    snprintf(value, sizeof value, "\"%.3f\"", LLMOIN_JOURNAL_REQUEST_TIME_MAX);
    expect_field_ok("request_time", value, &r);
    assert_int_equal(r.request_time_ms, (long)(LLMOIN_JOURNAL_REQUEST_TIME_MAX * 1000));
    assert_true(r.request_time_ms <= INT32_MAX);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_field_refused("request_time", bad[i], "field 'request_time'");
}

static void test_choices(void **state)
{
    (void)state;
    expect_field_refused("usage", "\"guessed\"", "field 'usage' has an unknown value");
    expect_field_refused("usage", "\"Reported\"", "field 'usage' has an unknown value");
    expect_field_refused("usage", "\"report\"", "field 'usage' has an unknown value");
    expect_field_refused("usage", "\"\"", "field 'usage' is empty or longer than 15 bytes");
    expect_field_refused("usage", "\"reported-by-server\"",
                         "field 'usage' is empty or longer than 15 bytes");
    expect_field_refused("stream", "\"2\"", "field 'stream' has an unknown value");
    expect_field_refused("stream", "\"01\"", "field 'stream' has an unknown value");
    expect_field_refused("stream", "\"yes\"", "field 'stream' has an unknown value");
    expect_field_refused("stream", "\"true\"", "field 'stream' is empty or longer than 3 bytes");
    expect_field_refused("stream", "\"\"", "field 'stream' is empty or longer than 3 bytes");
}

static void test_request_time_format(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\"\"", "\"-0.042\"", "\"+0.042\"", "\" 0.042\"", "\"0.042 \"", "\".042\"",
        "\"0.042s\"", "\"-\"", "\"inf\"", "\"nan\"",
        /* 32 characters */
        "\"0.000000000000000000000000000001\"",
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_field_refused("request_time", bad[i],
                             "field 'request_time' is not a time in seconds");
}

/* ---- groups and quota (optional: missing reads as "" and "none") -------- */

static void test_groups_and_quota(void **state)
{
    (void)state;
    llmoin_journal_record_t r;

    memset(&r, 0x55, sizeof r);
    parse_ok(S(valid_line_quota), &r);
    assert_string_equal(r.user, "alice");
    assert_string_equal(r.key_id, "");
    assert_int_equal(r.request_time_ms, 42);
    assert_string_equal(r.groups, "staff,lab");
    assert_string_equal(r.quota, "checked");

    expect_field_ok("quota", "\"unchecked\"", &r);
    assert_string_equal(r.quota, "unchecked");
    assert_string_equal(r.groups, "");
    expect_field_ok("quota", "\"none\"", &r);
    assert_string_equal(r.quota, "none");
    expect_field_ok("quota", "\"checked\"", &r);
    assert_string_equal(r.quota, "checked");

    expect_field_ok("groups", "\"\"", &r);
    assert_string_equal(r.groups, "");
    assert_string_equal(r.quota, "none");
    expect_field_ok("groups", "\"staff\"", &r);
    assert_string_equal(r.groups, "staff");
    /* taken as written: splitting is for whoever counts per group */
    expect_field_ok("groups", "\",a,,b c,\"", &r);
    assert_string_equal(r.groups, ",a,,b c,");
    expect_field_ok("groups", "\"Stra\\u00dfenbau,\\u7814\\u7a76\"", &r);
    assert_string_equal(r.groups, "Stra\xc3\x9f" "enbau,\xe7\xa0\x94\xe7\xa9\xb6");
}

static void test_optional_fields_not_string(void **state)
{
    (void)state;
    static const char *const fields[] = {"groups", "quota", "function", "first_byte_time"};
    static const char *const wrong_types[] = {"1", "null", "true", "[]", "{}", "0.5",
                                              "[\"staff\"]"};
    char want[96];

    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        snprintf(want, sizeof want, "field '%s' is not a string", fields[i]);
        for (size_t j = 0; j < sizeof wrong_types / sizeof wrong_types[0]; j++)
            expect_field_refused(fields[i], wrong_types[j], want);
    }
}

static void test_groups_length(void **state)
{
    (void)state;
    llmoin_journal_record_t r;
    const char *line;

    assert_int_equal(LLMOIN_JOURNAL_GROUPS_MAX, 1024);
    line = line_with("groups", repeated('g', LLMOIN_JOURNAL_GROUPS_MAX));
    parse_ok(line, strlen(line), &r);
    assert_int_equal(strlen(r.groups), LLMOIN_JOURNAL_GROUPS_MAX);
    line = line_with("groups", repeated(',', LLMOIN_JOURNAL_GROUPS_MAX));
    parse_ok(line, strlen(line), &r);
    line = line_with("groups", repeated('g', LLMOIN_JOURNAL_GROUPS_MAX + 1));
    expect_refused(line, strlen(line), "field 'groups' is empty or longer than 1024 bytes");
    line = line_with("groups", repeated('g', 4096));
    expect_refused(line, strlen(line), "field 'groups' is empty or longer than 1024 bytes");

    /* bytes, not characters: 512 x U+00FC is 1024 bytes, one more is not */
    {
        char text[2 * 513 + 1];
        for (size_t i = 0; i < 513; i++)
            memcpy(text + 2 * i, "\xc3\xbc", 2);
        text[2 * 512] = '\0';
        line = line_with("groups", json_string(text));
        parse_ok(line, strlen(line), &r);
        assert_int_equal(strlen(r.groups), 1024);
        memcpy(text + 2 * 512, "\xc3\xbc", 3);
        line = line_with("groups", json_string(text));
        expect_refused(line, strlen(line), "field 'groups' is empty or longer than 1024 bytes");
    }
}

static void test_groups_control_characters(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\"a\\u0001b\"", "\"staff\\n\"", "\"\\nstaff\"", "\"a\\tb\"", "\"a\\rb\"",
        "\"a\\u001fb\"", "\"a\\u007fb\"", "\"\\u001b[31m\"",
        /* C1 controls, U+0080..U+009F */
        "\"a\\u0080b\"", "\"a\\u0085b\"", "\"a\\u009fb\"",
    };
    llmoin_journal_record_t r;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_field_refused("groups", bad[i], "field 'groups' contains a control character");
    /* neighbours of the control ranges are text */
    expect_field_ok("groups", "\"a b~\\u00a0\\u00ff\"", &r);
    assert_string_equal(r.groups, "a b~\xc2\xa0\xc3\xbf");
    /* jansson refuses a NUL escape before the field is looked at */
    expect_field_refused("groups", "\"a\\u0000b\"", "not a JSON object");
}

static void test_quota_choices(void **state)
{
    (void)state;
    static const char *const unknown[] = {"\"Checked\"", "\"check\"", "\"yes\"",
                                          "\"0\"", "\" none\"", "\"none \"",
                                          "\"reported\""};

    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        expect_field_refused("quota", unknown[i], "field 'quota' has an unknown value");
    expect_field_refused("quota", "\"\"", "field 'quota' is empty or longer than 15 bytes");
    expect_field_refused("quota", "\"unchecked-redis-down\"",
                         "field 'quota' is empty or longer than 15 bytes");
}

/* ---- function and first_byte_time (optional: missing reads as "") ------- */

static void test_function_and_first_byte(void **state)
{
    (void)state;
    static const char *const functions[] = {"chat", "summarize", "write", "research",
                                            "plain_language", ""};
    llmoin_journal_record_t r;
    char value[32];

    memset(&r, 0x55, sizeof r);
    parse_ok(S(valid_line_function), &r);
    assert_string_equal(r.groups, "staff");
    assert_string_equal(r.quota, "checked");
    assert_string_equal(r.function, "summarize");
    assert_int_equal(r.first_byte_ms, 123);
    assert_int_equal(r.request_time_ms, 942);
    assert_true(r.stream);

    for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
        snprintf(value, sizeof value, "\"%s\"", functions[i]);
        expect_field_ok("function", value, &r);
        assert_string_equal(r.function, functions[i]);
        assert_int_equal(r.first_byte_ms, -1);
    }
    /* "" is an answer of which no byte was sent */
    expect_field_ok("first_byte_time", "\"\"", &r);
    assert_int_equal(r.first_byte_ms, -1);
    assert_string_equal(r.function, "");
}

static void test_first_byte_rounding(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        long ms;
    } cases[] = {
        {"\"0\"", 0},       {"\"0.000\"", 0},   {"\"0.0004\"", 0}, {"\"0.001\"", 1},
        {"\"0.123\"", 123}, {"\"0.1236\"", 124}, {"\"2\"", 2000},  {"\"59.999\"", 59999},
        {"\"604800\"", 604800000L},
    };
    llmoin_journal_record_t r;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        expect_field_ok("first_byte_time", cases[i].value, &r);
        if (r.first_byte_ms != cases[i].ms)
            fail_msg("first_byte_time %s: %ld ms, want %ld", cases[i].value,
                     r.first_byte_ms, cases[i].ms);
    }
}

static void test_function_unknown(void **state)
{
    (void)state;
    static const char *const unknown[] = {"\"Chat\"", "\"CHAT\"", "\"translate\"",
                                          "\" chat\"", "\"chat \"", "\"chat,write\"",
                                          "\"none\"", "\"0\"", "\"r\\u00e9sum\\u00e9\"",
                                          "\"plain-language\"", "\"Plain_Language\"",
                                          "\"plain\"", "\"plain_languages\""};

    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        expect_field_refused("function", unknown[i], "field 'function' has an unknown value");
    expect_field_refused("function", "\"summarize-briefly\"",
                         "field 'function' is empty or longer than 15 bytes");
}

static void test_first_byte_time_bad(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\"-0.1\"", "\"+0.1\"", "\" 0.1\"", "\"0.1 \"", "\".1\"", "\"0.1s\"", "\"-\"",
        "\"inf\"", "\"nan\"", "\"0x1p4\"", "\"1e3\"", "\"1.2.3\"",
    };
    static const char *const too_long[] = {"\"604800.001\"", "\"2147484\"", "\"1e300\"",
                                           "\"99999999999999999999\""};

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_field_refused("first_byte_time", bad[i],
                             "field 'first_byte_time' is not a time in seconds");
    for (size_t i = 0; i < sizeof too_long / sizeof too_long[0]; i++)
        expect_field_refused("first_byte_time", too_long[i], "field 'first_byte_time'");
    expect_field_refused("first_byte_time", "\"604800.001\"",
                         "field 'first_byte_time' is longer than a week");
    expect_field_refused("first_byte_time", "\"0.000000000000000000000000000001\"",
                         "field 'first_byte_time' is empty or longer than 31 bytes");
}

/* The first bad field is the one named; the order is the line's order. */
static void test_first_problem_reported(void **state)
{
    (void)state;
    expect_refused(S("{\"v\":\"1\"}"), "field 'ts' is missing or not a string");
    expect_refused(S("{}"), "field 'v' is missing or not a string");
    expect_refused(S("{\"v\":\"1\",\"ts\":\"1\",\"request_id\":"
                     "\"0123456789abcdef0123456789abcdef\",\"tenant_id\":\"x\","
                     "\"status\":\"y\"}"),
                   "field 'tenant_id' is not a non-negative whole number");
    /* groups and quota come after request_time, groups first */
    expect_refused(S("{\"v\":\"1\",\"ts\":\"1764456000\",\"request_id\":"
                     "\"0123456789abcdef0123456789abcdef\",\"tenant_id\":\"1\","
                     "\"user\":\"u\",\"key_id\":\"\",\"model\":\"m\",\"pool\":\"p\","
                     "\"status\":\"200\",\"upstream_status\":\"\",\"prompt_tokens\":\"1\","
                     "\"completion_tokens\":\"2\",\"usage\":\"none\",\"stream\":\"0\","
                     "\"request_time\":\"x\",\"groups\":1,\"quota\":\"x\"}"),
                   "field 'request_time' is not a time in seconds");
    expect_refused(S("{\"quota\":\"x\",\"v\":\"1\",\"ts\":\"1764456000\",\"request_id\":"
                     "\"0123456789abcdef0123456789abcdef\",\"tenant_id\":\"1\","
                     "\"user\":\"u\",\"key_id\":\"\",\"model\":\"m\",\"pool\":\"p\","
                     "\"status\":\"200\",\"upstream_status\":\"\",\"prompt_tokens\":\"1\","
                     "\"completion_tokens\":\"2\",\"usage\":\"none\",\"stream\":\"0\","
                     "\"request_time\":\"0\",\"groups\":\"a\\u0007\"}"),
                   "field 'groups' contains a control character");
    /* function and first_byte_time come after quota, function first */
    expect_refused(S("{\"first_byte_time\":\"x\",\"v\":\"1\",\"ts\":\"1764456000\","
                     "\"request_id\":\"0123456789abcdef0123456789abcdef\",\"tenant_id\":\"1\","
                     "\"user\":\"u\",\"key_id\":\"\",\"model\":\"m\",\"pool\":\"p\","
                     "\"status\":\"200\",\"upstream_status\":\"\",\"prompt_tokens\":\"1\","
                     "\"completion_tokens\":\"2\",\"usage\":\"none\",\"stream\":\"0\","
                     "\"request_time\":\"0\",\"quota\":\"x\",\"function\":\"x\"}"),
                   "field 'quota' has an unknown value");
    expect_refused(S("{\"first_byte_time\":\"x\",\"v\":\"1\",\"ts\":\"1764456000\","
                     "\"request_id\":\"0123456789abcdef0123456789abcdef\",\"tenant_id\":\"1\","
                     "\"user\":\"u\",\"key_id\":\"\",\"model\":\"m\",\"pool\":\"p\","
                     "\"status\":\"200\",\"upstream_status\":\"\",\"prompt_tokens\":\"1\","
                     "\"completion_tokens\":\"2\",\"usage\":\"none\",\"stream\":\"0\","
                     "\"request_time\":\"0\",\"function\":\"x\"}"),
                   "field 'function' has an unknown value");
}

static void test_reason_buffer(void **state)
{
    (void)state;
    llmoin_journal_record_t r;
    char reason[16];

    memset(reason, 'X', sizeof reason);
    assert_int_equal(llmoin_journal_parse(S("{}"), &r, reason, 8), -1);
    assert_string_equal(reason, "field '");
    assert_memory_equal(reason + 8, "XXXXXXXX", 8);

    memset(reason, 'X', sizeof reason);
    assert_int_equal(llmoin_journal_parse(S("]"), &r, reason, 8), -1);
    assert_string_equal(reason, "not a J");
    assert_memory_equal(reason + 8, "XXXXXXXX", 8);

    memset(reason, 'X', sizeof reason);
    assert_int_equal(llmoin_journal_parse(S("{}"), &r, reason, 1), -1);
    assert_int_equal(reason[0], '\0');
    assert_int_equal(reason[1], 'X');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_line),
        cmocka_unit_test(test_valid_line_variants),
        cmocka_unit_test(test_request_time_rounding),
        cmocka_unit_test(test_unknown_fields_accepted),
        cmocka_unit_test(test_whitespace_and_length),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_missing_or_not_string),
        cmocka_unit_test(test_text_lengths),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_ts),
        cmocka_unit_test(test_ts_range),
        cmocka_unit_test(test_ts_must_be_decimal),
        cmocka_unit_test(test_request_id),
        cmocka_unit_test(test_whole_numbers),
        cmocka_unit_test(test_numbers_out_of_range),
        cmocka_unit_test(test_request_time_out_of_range),
        cmocka_unit_test(test_choices),
        cmocka_unit_test(test_request_time_format),
        cmocka_unit_test(test_groups_and_quota),
        cmocka_unit_test(test_optional_fields_not_string),
        cmocka_unit_test(test_groups_length),
        cmocka_unit_test(test_groups_control_characters),
        cmocka_unit_test(test_quota_choices),
        cmocka_unit_test(test_function_and_first_byte),
        cmocka_unit_test(test_first_byte_rounding),
        cmocka_unit_test(test_function_unknown),
        cmocka_unit_test(test_first_byte_time_bad),
        cmocka_unit_test(test_first_problem_reported),
        cmocka_unit_test(test_reason_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
