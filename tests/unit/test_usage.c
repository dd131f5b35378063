/*
 * usage: the usage object and the raw-value helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "json_scan.h"
#include "usage.h"

#define S(lit) lit, sizeof(lit) - 1

static void check_usage(const char *v, size_t len, int64_t p, int64_t c,
                        int64_t t)
{
    llmoin_usage_t u;

    assert_int_equal(llmoin_usage_parse(v, len, &u), 0);
    assert_true(u.present);
    assert_int_equal(u.prompt_tokens, p);
    assert_int_equal(u.completion_tokens, c);
    assert_int_equal(u.total_tokens, t);
}

static void check_usage_error(const char *v, size_t len, int err)
{
    llmoin_usage_t u;

    memset(&u, 0x55, sizeof u);
    assert_int_equal(llmoin_usage_parse(v, len, &u), err);
    assert_false(u.present);
    assert_int_equal(u.prompt_tokens, 0);
    assert_int_equal(u.completion_tokens, 0);
    assert_int_equal(u.total_tokens, 0);
}

static void test_usage_openai(void **state)
{
    (void)state;
    check_usage(S("{\"prompt_tokens\":19,\"completion_tokens\":10,"
                  "\"total_tokens\":29,\"prompt_tokens_details\":"
                  "{\"cached_tokens\":0,\"audio_tokens\":0},"
                  "\"completion_tokens_details\":{\"reasoning_tokens\":0,"
                  "\"accepted_prediction_tokens\":0}}"),
                19, 10, 29);
    /* vLLM puts null details */
    check_usage(S("{\"prompt_tokens\":7,\"total_tokens\":9,"
                  "\"completion_tokens\":2,\"prompt_tokens_details\":null}"),
                7, 2, 9);
    check_usage(S(" \n{ \"completion_tokens\" : 0 , \"prompt_tokens\" : 0 } "),
                0, 0, 0);
}

static void test_usage_total(void **state)
{
    (void)state;
    llmoin_usage_t u;

    /* missing or null total: computed */
    check_usage(S("{\"prompt_tokens\":5,\"completion_tokens\":6}"), 5, 6, 11);
    check_usage(S("{\"prompt_tokens\":5,\"completion_tokens\":6,"
                  "\"total_tokens\":null}"),
                5, 6, 11);
    /* inconsistent total: kept as given, detectable */
    assert_int_equal(llmoin_usage_parse(S("{\"prompt_tokens\":5,"
                                          "\"completion_tokens\":6,"
                                          "\"total_tokens\":100}"),
                                        &u),
                     0);
    assert_int_equal(u.total_tokens, 100);
    assert_false(llmoin_usage_consistent(&u));
    check_usage(S("{\"prompt_tokens\":5,\"completion_tokens\":6,"
                  "\"total_tokens\":11}"),
                5, 6, 11);
    assert_int_equal(llmoin_usage_parse(S("{\"prompt_tokens\":5,"
                                          "\"completion_tokens\":6}"),
                                        &u),
                     0);
    assert_true(llmoin_usage_consistent(&u));
    assert_true(llmoin_usage_consistent(NULL));
}

static void test_usage_null_and_duplicates(void **state)
{
    (void)state;
    llmoin_usage_t u;

    memset(&u, 0x55, sizeof u);
    assert_int_equal(llmoin_usage_parse(S("null"), &u), 0);
    assert_false(u.present);
    assert_int_equal(u.prompt_tokens, 0);
    assert_int_equal(llmoin_usage_parse(S("  null \n"), &u), 0);
    assert_false(u.present);
    /* last duplicate member wins, nested members are not ours */
    check_usage(S("{\"prompt_tokens\":1,\"completion_tokens\":2,"
                  "\"prompt_tokens\":3,\"x\":{\"prompt_tokens\":99}}"),
                3, 2, 5);
}

static void test_usage_errors(void **state)
{
    (void)state;
    check_usage_error(S(""), LLMOIN_JSON_ESYNTAX);
    check_usage_error(S("5"), LLMOIN_JSON_ETYPE);
    check_usage_error(S("[]"), LLMOIN_JSON_ETYPE);
    check_usage_error(S("\"usage\""), LLMOIN_JSON_ETYPE);
    check_usage_error(S("true"), LLMOIN_JSON_ETYPE);
    check_usage_error(S("{}"), LLMOIN_JSON_EMISSING);
    check_usage_error(S("{\"prompt_tokens\":1}"), LLMOIN_JSON_EMISSING);
    check_usage_error(S("{\"completion_tokens\":1}"), LLMOIN_JSON_EMISSING);
    check_usage_error(S("{\"prompt_tokens\":-1,\"completion_tokens\":1}"),
                      LLMOIN_JSON_ERANGE);
    check_usage_error(S("{\"prompt_tokens\":1,\"completion_tokens\":1,"
                        "\"total_tokens\":-2}"),
                      LLMOIN_JSON_ERANGE);
    check_usage_error(S("{\"prompt_tokens\":1.5,\"completion_tokens\":1}"),
                      LLMOIN_JSON_ETYPE);
    check_usage_error(S("{\"prompt_tokens\":1e3,\"completion_tokens\":1}"),
                      LLMOIN_JSON_ETYPE);
    check_usage_error(S("{\"prompt_tokens\":\"1\",\"completion_tokens\":1}"),
                      LLMOIN_JSON_ETYPE);
    check_usage_error(S("{\"prompt_tokens\":null,\"completion_tokens\":1}"),
                      LLMOIN_JSON_ETYPE);
    check_usage_error(S("{\"prompt_tokens\":99999999999999999999,"
                        "\"completion_tokens\":1}"),
                      LLMOIN_JSON_ERANGE);
    check_usage_error(S("{\"prompt_tokens\":9223372036854775807,"
                        "\"completion_tokens\":1}"),
                      LLMOIN_JSON_ERANGE);
    check_usage_error(S("{\"prompt_tokens\":1,\"completion_tokens\":1"),
                      LLMOIN_JSON_ETRUNC);
    check_usage_error(S("{\"prompt_tokens\":1,\"completion_tokens\":1}x"),
                      LLMOIN_JSON_ETRAILING);
    check_usage_error(S("{\"prompt_tokens\":01,\"completion_tokens\":1}"),
                      LLMOIN_JSON_ESYNTAX);
    assert_int_equal(llmoin_usage_parse(NULL, 1, NULL), LLMOIN_JSON_EINVAL);
}

static void test_usage_limits(void **state)
{
    (void)state;
    check_usage(S("{\"prompt_tokens\":9223372036854775807,"
                  "\"completion_tokens\":0}"),
                INT64_MAX, 0, INT64_MAX);
    check_usage(S("{\"prompt_tokens\":9223372036854775807,"
                  "\"completion_tokens\":9223372036854775807,"
                  "\"total_tokens\":1}"),
                INT64_MAX, INT64_MAX, 1);
}

static void check_int(const char *v, size_t len, int want_rc, int64_t want)
{
    int64_t out = 77;

    assert_int_equal(llmoin_json_parse_int64(v, len, &out), want_rc);
    assert_int_equal(out, want_rc == 0 ? want : 0);
}

static void test_parse_int64(void **state)
{
    (void)state;
    check_int(S("0"), 0, 0);
    check_int(S("-0"), 0, 0);
    check_int(S(" 42 "), 0, 42);
    check_int(S("-17"), 0, -17);
    check_int(S("9223372036854775807"), 0, INT64_MAX);
    check_int(S("-9223372036854775808"), 0, INT64_MIN);
    check_int(S("9223372036854775808"), LLMOIN_JSON_ERANGE, 0);
    check_int(S("-9223372036854775809"), LLMOIN_JSON_ERANGE, 0);
    check_int(S("18446744073709551616"), LLMOIN_JSON_ERANGE, 0);
    check_int(S("1.0"), LLMOIN_JSON_ETYPE, 0);
    check_int(S("1e2"), LLMOIN_JSON_ETYPE, 0);
    check_int(S("1E2"), LLMOIN_JSON_ETYPE, 0);
    check_int(S("\"1\""), LLMOIN_JSON_ETYPE, 0);
    check_int(S("true"), LLMOIN_JSON_ETYPE, 0);
    check_int(S("null"), LLMOIN_JSON_ETYPE, 0);
    check_int(S(""), LLMOIN_JSON_ETYPE, 0);
    check_int(S("+1"), LLMOIN_JSON_ETYPE, 0);
    check_int(S("-"), LLMOIN_JSON_ESYNTAX, 0);
    check_int(S("--1"), LLMOIN_JSON_ESYNTAX, 0);
    check_int(S("01"), LLMOIN_JSON_ESYNTAX, 0);
    check_int(S("-01"), LLMOIN_JSON_ESYNTAX, 0);
    check_int(S("1x"), LLMOIN_JSON_ESYNTAX, 0);
    check_int(S("1 2"), LLMOIN_JSON_ESYNTAX, 0);
    check_int(S("12\0"), LLMOIN_JSON_ESYNTAX, 0);
}

static void test_parse_bool_null(void **state)
{
    (void)state;
    bool b = false;

    assert_int_equal(llmoin_json_parse_bool(S("true"), &b), 0);
    assert_true(b);
    assert_int_equal(llmoin_json_parse_bool(S(" false\n"), &b), 0);
    assert_false(b);
    b = true;
    assert_int_equal(llmoin_json_parse_bool(S("True"), &b), LLMOIN_JSON_ETYPE);
    assert_false(b);
    assert_int_equal(llmoin_json_parse_bool(S("1"), &b), LLMOIN_JSON_ETYPE);
    assert_int_equal(llmoin_json_parse_bool(S("\"true\""), &b),
                     LLMOIN_JSON_ETYPE);
    assert_int_equal(llmoin_json_parse_bool(S("truex"), &b),
                     LLMOIN_JSON_ETYPE);
    assert_int_equal(llmoin_json_parse_bool(S(""), &b), LLMOIN_JSON_ETYPE);
    assert_true(llmoin_json_is_null(S("null")));
    assert_true(llmoin_json_is_null(S("\tnull ")));
    assert_false(llmoin_json_is_null(S("nul")));
    assert_false(llmoin_json_is_null(S("\"null\"")));
    assert_false(llmoin_json_is_null(NULL, 0));
}

static void check_string(const char *v, size_t len, const char *want,
                         size_t want_len)
{
    char out[64];
    size_t n = 999;

    assert_int_equal(llmoin_json_parse_string(v, len, out, sizeof out, &n), 0);
    assert_int_equal(n, want_len);
    assert_memory_equal(out, want, want_len);
    assert_int_equal(out[n], '\0');
}

static void check_string_error(const char *v, size_t len, int err)
{
    char out[64];
    size_t n = 999;

    assert_int_equal(llmoin_json_parse_string(v, len, out, sizeof out, &n),
                     err);
    assert_int_equal(n, 0);
    assert_int_equal(out[0], '\0');
}

static void test_parse_string(void **state)
{
    (void)state;
    check_string(S("\"llama-3.1-8b\""), "llama-3.1-8b", 12);
    check_string(S(" \"\" "), "", 0);
    check_string(S("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\""), "a\"b\\c/d\b\f\n\r\t",
                 12);
    check_string(S("\"\\u0041\\u00e9\\u20AC\""), "A\xc3\xa9\xe2\x82\xac", 6);
    check_string(S("\"\\ud83d\\ude00!\""), "\xf0\x9f\x98\x80!", 5);
    check_string(S("\"caf\xc3\xa9\""), "caf\xc3\xa9", 5);
    check_string(S("\"a\\u0000b\""), "a\0b", 3);

    check_string_error(S("x"), LLMOIN_JSON_ETYPE);
    check_string_error(S("42"), LLMOIN_JSON_ETYPE);
    check_string_error(S(""), LLMOIN_JSON_ETYPE);
    check_string_error(S("\""), LLMOIN_JSON_ESYNTAX);
    check_string_error(S("\"abc"), LLMOIN_JSON_ESYNTAX);
    check_string_error(S("\"a\"b\""), LLMOIN_JSON_ESYNTAX);
    check_string_error(S("\"a\\\""), LLMOIN_JSON_ESYNTAX);
    check_string_error(S("\"\\x\""), LLMOIN_JSON_ESYNTAX);
    check_string_error(S("\"\\u12\""), LLMOIN_JSON_ESYNTAX);
    check_string_error(S("\"\\u12g4\""), LLMOIN_JSON_ESYNTAX);
    check_string_error(S("\"\\ud83d\""), LLMOIN_JSON_ESYNTAX);
    check_string_error(S("\"\\ud83dx\""), LLMOIN_JSON_ESYNTAX);
    check_string_error(S("\"\\ud83d\\u0041\""), LLMOIN_JSON_ESYNTAX);
    check_string_error(S("\"\\ude00\""), LLMOIN_JSON_ESYNTAX);
    check_string_error(S("\"tab\there\""), LLMOIN_JSON_ESYNTAX);
    check_string_error(S("\"\\"), LLMOIN_JSON_ESYNTAX);
}

static void test_parse_string_bounds(void **state)
{
    (void)state;
    char out[4];
    size_t n;

    assert_int_equal(llmoin_json_parse_string(S("\"abc\""), out, 4, &n), 0);
    assert_string_equal(out, "abc");
    assert_int_equal(llmoin_json_parse_string(S("\"abcd\""), out, 4, &n),
                     LLMOIN_JSON_ETOOLONG);
    assert_string_equal(out, "");
    assert_int_equal(llmoin_json_parse_string(S("\"ab\\u00e9\""), out, 4, &n),
                     LLMOIN_JSON_ETOOLONG);
    assert_int_equal(llmoin_json_parse_string(S("\"a\\u00e9\""), out, 4, NULL),
                     0);
    assert_string_equal(out, "a\xc3\xa9");
    assert_int_equal(llmoin_json_parse_string(S("\"\""), out, 1, &n), 0);
    assert_int_equal(llmoin_json_parse_string(S("\"a\""), out, 1, &n),
                     LLMOIN_JSON_ETOOLONG);
    assert_int_equal(llmoin_json_parse_string(S("\"a\""), out, 0, &n),
                     LLMOIN_JSON_EINVAL);
    assert_int_equal(llmoin_json_parse_string(S("\"a\""), NULL, 4, &n),
                     LLMOIN_JSON_EINVAL);
}

/* Values captured by json_scan feed straight into these helpers. */
static void test_with_scanner(void **state)
{
    (void)state;
    const char body[] =
        "{\"model\":\"m\\u00e9\",\"stream\":true,\"max_tokens\":512,"
        "\"stream_options\":{\"include_usage\":false},\"messages\":[]}";
    const char *keys[] = {"model", "stream", "max_tokens", "stream_options"};
    llmoin_json_span_t v[4], inc;
    const char *inc_key[] = {"include_usage"};
    char model[16];
    bool stream, include_usage = true;
    int64_t max_tokens;

    assert_int_equal(llmoin_json_get_top(body, sizeof body - 1, keys, 4, v),
                     0);
    assert_int_equal(
        llmoin_json_parse_string(v[0].ptr, v[0].len, model, sizeof model, NULL),
        0);
    assert_string_equal(model, "m\xc3\xa9");
    assert_int_equal(llmoin_json_parse_bool(v[1].ptr, v[1].len, &stream), 0);
    assert_true(stream);
    assert_int_equal(llmoin_json_parse_int64(v[2].ptr, v[2].len, &max_tokens),
                     0);
    assert_int_equal(max_tokens, 512);
    assert_int_equal(llmoin_json_get_top(v[3].ptr, v[3].len, inc_key, 1, &inc),
                     0);
    assert_int_equal(llmoin_json_parse_bool(inc.ptr, inc.len, &include_usage),
                     0);
    assert_false(include_usage);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_openai),
        cmocka_unit_test(test_usage_total),
        cmocka_unit_test(test_usage_null_and_duplicates),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_usage_limits),
        cmocka_unit_test(test_parse_int64),
        cmocka_unit_test(test_parse_bool_null),
        cmocka_unit_test(test_parse_string),
        cmocka_unit_test(test_parse_string_bounds),
        cmocka_unit_test(test_with_scanner),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
