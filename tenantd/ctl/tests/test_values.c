/*
 * Values that become more than a string in the request: durations turned
 * into times against a fixed clock, comma lists into arrays, JSON files into
 * objects (with every way a file can be unusable), choices and flags into
 * the JSON the table says.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "values.h"

/* 2026-11-29T22:05:00Z */
#define NOW ((time_t)1795989900)

static void expect_json(const json_t *got, const char *expected)
{
    char *text = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);

    assert_non_null(text);
    assert_string_equal(text, expected);
    free(text);
}

static void expiry_durations_count_from_now(void **state)
{
    struct ctl_error err;
    char out[32];
    (void)state;

    assert_int_equal(value_expiry("--expires", "90d", NOW, out, &err), 0);
    assert_string_equal(out, "2027-02-27T22:05:00Z");
    assert_int_equal(value_expiry("--expires", "12h", NOW, out, &err), 0);
    assert_string_equal(out, "2026-11-30T10:05:00Z");
    assert_int_equal(value_expiry("--expires", "30m", NOW, out, &err), 0);
    assert_string_equal(out, "2026-11-29T22:35:00Z");
    assert_int_equal(value_expiry("--expires", "1m", NOW, out, &err), 0);
    assert_string_equal(out, "2026-11-29T22:06:00Z");
    /* The limit itself is fine, across leap days. */
    assert_int_equal(value_expiry("--expires", "3650d", NOW, out, &err), 0);
    assert_string_equal(out, "2036-11-26T22:05:00Z");
    assert_int_equal(value_expiry("--expires", "87600h", NOW, out, &err), 0);
    assert_string_equal(out, "2036-11-26T22:05:00Z");
    assert_int_equal(value_expiry("--expires", "5256001m", NOW, out, &err), CTL_EXIT_USAGE);
    assert_string_equal(err.msg, "invalid --expires '5256001m': at most 3650 days (10 years) ahead");
}

static void expiry_dates_and_times_pass_through(void **state)
{
    struct ctl_error err;
    char out[32];
    (void)state;

    assert_int_equal(value_expiry("--expires", "2027-02-27", NOW, out, &err), 0);
    assert_string_equal(out, "2027-02-27");
    assert_int_equal(value_expiry("--expires", "2027-02-27T12:00:00+01:00", NOW, out, &err), 0);
    assert_string_equal(out, "2027-02-27T12:00:00+01:00");
    assert_int_equal(value_expiry("--expires", "2027-02-27T12:00Z", NOW, out, &err), 0);
    assert_string_equal(out, "2027-02-27T12:00Z");
    assert_int_equal(value_expiry("--expires", "", NOW, out, &err), CTL_EXIT_USAGE);
    assert_string_equal(err.msg, "invalid --expires '': expected a duration (90d, 12h or 30m), "
                                 "a date (2027-02-27) or an RFC 3339 time (2027-02-27T12:00:00Z)");
}

static void seconds_in_units_and_range(void **state)
{
    struct ctl_error err;
    long long s = -1;
    (void)state;

    assert_int_equal(value_seconds("--ttl", "3600", 60, 604800, &s, &err), 0);
    assert_int_equal(s, 3600);
    assert_int_equal(value_seconds("--ttl", "3600s", 60, 604800, &s, &err), 0);
    assert_int_equal(s, 3600);
    assert_int_equal(value_seconds("--ttl", "30m", 60, 604800, &s, &err), 0);
    assert_int_equal(s, 1800);
    assert_int_equal(value_seconds("--ttl", "168h", 60, 604800, &s, &err), 0);
    assert_int_equal(s, 604800);
    assert_int_equal(value_seconds("--leeway", "0", 0, 600, &s, &err), 0);
    assert_int_equal(s, 0);
    assert_int_equal(value_seconds("--leeway", "10m", 0, 600, &s, &err), 0);
    assert_int_equal(s, 600);
    assert_int_equal(value_seconds("--leeway", "9999999999", 0, 600, &s, &err), CTL_EXIT_USAGE);
    assert_string_equal(err.msg, "invalid --leeway '9999999999': must be at most 600 seconds");
    assert_int_equal(value_seconds("--ttl", "1h30m", 60, 600, &s, &err), CTL_EXIT_USAGE);
    assert_int_equal(value_seconds("--ttl", "", 60, 600, &s, &err), CTL_EXIT_USAGE);
    assert_int_equal(value_seconds("--ttl", "m", 60, 600, &s, &err), CTL_EXIT_USAGE);
}

static void limits_are_numbers_or_null(void **state)
{
    const struct ctl_command *set = command_find("limits set");
    struct ctl_error err;
    long long n = -1;
    json_t *v;
    (void)state;

    assert_int_equal(value_limit("--rpm", "none", 10, &v, &err), 0);
    expect_json(v, "null");
    json_decref(v);
    assert_int_equal(value_limit("--rpm", "0", 10, &v, &err), 0);
    expect_json(v, "0");
    json_decref(v);
    assert_int_equal(value_limit("--rpm", "010", 10, &v, &err), 0);
    expect_json(v, "10");
    json_decref(v);
    assert_int_equal(value_limit("--rpm", "11", 10, &v, &err), CTL_EXIT_USAGE);
    assert_null(v);
    assert_string_equal(err.msg, "invalid --rpm '11': expected a whole number from 0 to 10, or "
                                 "none to lift the limit");
    assert_int_equal(value_limit("--rpm", "None", 10, &v, &err), CTL_EXIT_USAGE);
    assert_int_equal(value_limit("--rpm", "+1", 10, &v, &err), CTL_EXIT_USAGE);
    assert_int_equal(value_limit("--rpm", "1 ", 10, &v, &err), CTL_EXIT_USAGE);
    assert_int_equal(value_limit("--tpm", "9223372036854775807", 9223372036854775807LL, &v, &err),
                     0);
    expect_json(v, "9223372036854775807");
    json_decref(v);
    assert_int_equal(value_limit("--tpm", "99999999999999999999", 9223372036854775807LL, &v,
                                 &err), CTL_EXIT_USAGE);
    assert_int_equal(value_number("--max-tokens-cap", "1", 1, 1000000, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(value_number("--max-tokens-cap", "0", 1, 1000000, &n, &err), CTL_EXIT_USAGE);
    assert_string_equal(err.msg, "invalid --max-tokens-cap '0': expected a whole number from 1 "
                                 "to 1000000");
    assert_int_equal(value_to_json(command_option(set, "--monthly-tokens"), "none", NOW, &v, &err),
                     0);
    expect_json(v, "null");
    json_decref(v);
    assert_int_equal(value_to_json(command_option(command_find("tenant update"),
                                                  "--max-tokens-cap"), "8192", NOW, &v, &err), 0);
    expect_json(v, "8192");
    json_decref(v);
}

static void lists_become_arrays(void **state)
{
    struct ctl_error err;
    json_t *list;
    (void)state;

    assert_int_equal(value_list("--models", "llama-3.1-8b", KIND_TEXT, &list, &err), 0);
    expect_json(list, "[\"llama-3.1-8b\"]");
    json_decref(list);
    assert_int_equal(value_list("--groups", "fachamt,it,Team A", KIND_TEXT, &list, &err), 0);
    expect_json(list, "[\"fachamt\",\"it\",\"Team A\"]");
    json_decref(list);
    assert_int_equal(value_list("--hosts", "llmoin.hamburg.de,ki.hamburg.de", KIND_HOST, &list,
                                &err), 0);
    expect_json(list, "[\"llmoin.hamburg.de\",\"ki.hamburg.de\"]");
    json_decref(list);
    assert_int_equal(value_list("--models", ",a", KIND_TEXT, &list, &err), CTL_EXIT_USAGE);
    assert_null(list);
    assert_string_equal(err.msg, "invalid --models ',a': entry 1 is empty (separate entries with "
                                 "',' only)");
    assert_int_equal(value_list("--groups", "ok,\xff", KIND_TEXT, &list, &err), CTL_EXIT_USAGE);
    assert_string_equal(err.msg, "invalid --groups entry: the text is not valid UTF-8");
}

/* A temporary file with `content` (len bytes); the caller unlinks path. */
static void temp_file(char path[64], const char *content, size_t len)
{
    int fd;

    snprintf(path, 64, "/tmp/llmoinctl-test-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    close(fd);
}

static void expect_file_error(const char *content, const char *problem)
{
    struct ctl_error err;
    char path[64], expected[256];
    json_t *doc = NULL;

    temp_file(path, content, strlen(content));
    assert_int_equal(value_json_file("--jwks-file", path, &doc, &err), CTL_EXIT_USAGE);
    assert_null(doc);
    snprintf(expected, sizeof expected, "invalid --jwks-file '%s': %s", path, problem);
    assert_string_equal(err.msg, expected);
    unlink(path);
}

static void json_file_holds_an_object(void **state)
{
    static const char jwks[] = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k1\"}]}\n";
    struct ctl_error err;
    char path[64];
    json_t *doc;
    (void)state;

    temp_file(path, jwks, strlen(jwks));
    assert_int_equal(value_json_file("--jwks-file", path, &doc, &err), 0);
    expect_json(doc, "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k1\"}]}");
    json_decref(doc);
    unlink(path);
}

static void json_file_errors(void **state)
{
    struct ctl_error err;
    json_t *doc = NULL;
    (void)state;

    expect_file_error("", "the file is empty; expected a JSON object");
    expect_file_error(" \n", "the file is empty; expected a JSON object");
    expect_file_error("[{\"kty\":\"EC\"}]", "expected a JSON object ({...}), the file holds an array");
    expect_file_error("\"keys\"", "expected a JSON object ({...}), the file holds a string");
    expect_file_error("{\"keys\":[}", "not JSON: unexpected token near '}' (line 1, column 10)");
    expect_file_error("{\"a\":1,\"a\":2}", "not JSON: duplicate object key near '\"a\"' (line 1, column 10)");
    expect_file_error("-----BEGIN PUBLIC KEY-----",
                      "not JSON: invalid token near '-' (line 1, column 1)");

    assert_int_equal(value_json_file("--jwks-file", "/nonexistent/jwks.json", &doc, &err),
                     CTL_EXIT_USAGE);
    assert_string_equal(err.msg, "cannot read --jwks-file '/nonexistent/jwks.json': No such file "
                                 "or directory");
    assert_int_equal(value_json_file("--jwks-file", "/tmp", &doc, &err), CTL_EXIT_USAGE);
    assert_string_equal(err.msg, "cannot read --jwks-file '/tmp': Is a directory");
    assert_null(doc);
}

static void json_file_size_limit(void **state)
{
    size_t n = VALUE_FILE_MAX + 1;
    char *big = malloc(n), path[64], expected[128];
    struct ctl_error err;
    json_t *doc = NULL;
    (void)state;

    /* Exactly 1 MiB is fine: {"a":"xxx..."} */
    memset(big, 'x', n);
    memcpy(big, "{\"a\":\"", 6);
    memcpy(big + VALUE_FILE_MAX - 2, "\"}", 2);
    temp_file(path, big, VALUE_FILE_MAX);
    assert_int_equal(value_json_file("--jwks-file", path, &doc, &err), 0);
    json_decref(doc);
    unlink(path);

    memcpy(big + VALUE_FILE_MAX - 1, "\"}", 2);
    temp_file(path, big, n);
    assert_int_equal(value_json_file("--jwks-file", path, &doc, &err), CTL_EXIT_USAGE);
    snprintf(expected, sizeof expected, "--jwks-file '%s' is larger than 1 MiB", path);
    assert_string_equal(err.msg, expected);
    unlink(path);
    free(big);
}

static void choices_and_flags_send_table_json(void **state)
{
    const struct ctl_command *update = command_find("tenant update");
    struct ctl_error err;
    json_t *v;
    (void)state;

    assert_int_equal(value_to_json(command_option(update, "--models"), "all", NOW, &v, &err), 0);
    expect_json(v, "false");
    json_decref(v);
    assert_int_equal(value_to_json(command_option(update, "--models"), "allow-list", NOW, &v,
                                   &err), 0);
    expect_json(v, "true");
    json_decref(v);
    assert_int_equal(value_to_json(command_option(update, "--no-hosts"), "true", NOW, &v, &err),
                     0);
    expect_json(v, "[]");
    json_decref(v);
    assert_int_equal(value_to_json(command_option(command_find("usage"), "--by"), "user", NOW, &v,
                                   &err), 0);
    expect_json(v, "\"user\"");
    json_decref(v);
    assert_int_equal(value_to_json(command_option(command_find("dev-token"), "--ttl"), "2h", NOW,
                                   &v, &err), 0);
    expect_json(v, "7200");
    json_decref(v);
    assert_int_equal(value_to_json(command_option(command_find("key create"), "--expires"), "1d",
                                   NOW, &v, &err), 0);
    expect_json(v, "\"2026-11-30T22:05:00Z\"");
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(expiry_durations_count_from_now),
        cmocka_unit_test(expiry_dates_and_times_pass_through),
        cmocka_unit_test(seconds_in_units_and_range),
        cmocka_unit_test(limits_are_numbers_or_null),
        cmocka_unit_test(lists_become_arrays),
        cmocka_unit_test(json_file_holds_an_object),
        cmocka_unit_test(json_file_errors),
        cmocka_unit_test(json_file_size_limit),
        cmocka_unit_test(choices_and_flags_send_table_json),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
