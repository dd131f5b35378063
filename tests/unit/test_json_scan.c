/*
 * json_scan: every document is scanned whole, split in two at every
 * position, split in three at every pair of positions (short documents) and
 * byte by byte; all runs must agree exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_scan.h"

#define S(lit) lit, sizeof(lit) - 1

typedef struct {
    int rc;
    uint64_t err_offset;
    size_t nkeys;
    llmoin_json_slot_t slots[LLMOIN_JSON_MAX_KEYS];
} result_t;

static llmoin_json_scan_t scanner;

/* Feeds doc in pieces ending at cuts[0..ncuts) then the rest. */
static void run(const char *doc, size_t len, const char *const *keys,
                size_t nkeys, const size_t *cuts, size_t ncuts, result_t *r)
{
    size_t from = 0;
    int rc = 0;

    assert_int_equal(llmoin_json_scan_init(&scanner, keys, nkeys), 0);
    for (size_t i = 0; i <= ncuts && rc == 0; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        rc = llmoin_json_scan_feed(&scanner, doc + from, to - from);
        from = to;
    }
    if (rc == 0)
        rc = llmoin_json_scan_finish(&scanner);
    memset(r, 0, sizeof *r);
    r->rc = rc;
    r->err_offset = llmoin_json_scan_error_offset(&scanner);
    r->nkeys = nkeys;
    for (size_t k = 0; k < nkeys; k++)
        r->slots[k] = *llmoin_json_scan_slot(&scanner, k);
}

static void run_bytewise(const char *doc, size_t len, const char *const *keys,
                         size_t nkeys, result_t *r)
{
    int rc = 0;

    assert_int_equal(llmoin_json_scan_init(&scanner, keys, nkeys), 0);
    for (size_t i = 0; i < len && rc == 0; i++)
        rc = llmoin_json_scan_feed(&scanner, doc + i, 1);
    if (rc == 0)
        rc = llmoin_json_scan_finish(&scanner);
    memset(r, 0, sizeof *r);
    r->rc = rc;
    r->err_offset = llmoin_json_scan_error_offset(&scanner);
    r->nkeys = nkeys;
    for (size_t k = 0; k < nkeys; k++)
        r->slots[k] = *llmoin_json_scan_slot(&scanner, k);
}

static void assert_same(const result_t *a, const result_t *b)
{
    assert_int_equal(a->rc, b->rc);
    assert_int_equal(a->err_offset, b->err_offset);
    for (size_t k = 0; k < a->nkeys; k++) {
        const llmoin_json_slot_t *x = &a->slots[k], *y = &b->slots[k];
        assert_int_equal(x->status, y->status);
        assert_int_equal(x->offset, y->offset);
        assert_int_equal(x->length, y->length);
        assert_int_equal(x->len, y->len);
        assert_memory_equal(x->buf, y->buf, x->len);
    }
}

/* Scans doc whole into *whole and checks every split agrees with it. */
static void scan_all_ways(const char *doc, size_t len,
                          const char *const *keys, size_t nkeys,
                          result_t *whole)
{
    result_t *other = malloc(sizeof *other);
    assert_non_null(other);

    run(doc, len, keys, nkeys, NULL, 0, whole);
    for (size_t i = 0; i <= len; i++) {
        run(doc, len, keys, nkeys, &i, 1, other);
        assert_same(whole, other);
    }
    if (len <= 200) {
        for (size_t i = 0; i <= len; i++) {
            for (size_t j = i; j <= len; j++) {
                size_t cuts[2] = {i, j};
                run(doc, len, keys, nkeys, cuts, 2, other);
                assert_same(whole, other);
            }
        }
    }
    run_bytewise(doc, len, keys, nkeys, other);
    assert_same(whole, other);
    free(other);
}

static result_t *result_new(void)
{
    result_t *r = malloc(sizeof *r);
    assert_non_null(r);
    return r;
}

static void check_value(const char *doc, size_t len, const char *key,
                         const char *want)
{
    const char *keys[] = {key};
    result_t *r = result_new();

    scan_all_ways(doc, len, keys, 1, r);
    assert_int_equal(r->rc, 0);
    if (want == NULL) {
        assert_int_equal(r->slots[0].status, LLMOIN_JSON_ABSENT);
    } else {
        assert_int_equal(r->slots[0].status, LLMOIN_JSON_FOUND);
        assert_int_equal(r->slots[0].len, strlen(want));
        assert_memory_equal(r->slots[0].buf, want, strlen(want));
        assert_int_equal(r->slots[0].length, strlen(want));
        /* the offset locates the value in the document */
        assert_memory_equal(doc + r->slots[0].offset, want, strlen(want));
    }

    /* The one-shot helper must agree with the streaming scanner. */
    llmoin_json_span_t span;
    assert_int_equal(llmoin_json_get_top(doc, len, keys, 1, &span), 0);
    if (want == NULL) {
        assert_null(span.ptr);
    } else {
        assert_int_equal(span.len, strlen(want));
        assert_memory_equal(span.ptr, want, span.len);
    }
    free(r);
}

static void check_error(const char *doc, size_t len, int err,
                         uint64_t offset)
{
    const char *keys[] = {"usage"};
    result_t *r = result_new();

    scan_all_ways(doc, len, keys, 1, r);
    assert_int_equal(r->rc, err);
    assert_int_equal(r->err_offset, offset);
    llmoin_json_span_t span;
    assert_int_equal(llmoin_json_get_top(doc, len, keys, 1, &span), err);
    free(r);
}

#define USAGE_OBJ                                                             \
    "{\"prompt_tokens\":12,\"completion_tokens\":34,\"total_tokens\":46}"

static void test_value_in_middle(void **state)
{
    (void)state;
    check_value(S("{\"id\":\"c1\",\"usage\":" USAGE_OBJ ",\"model\":\"m\"}"),
                 "usage", USAGE_OBJ);
}

static void test_value_first_and_last(void **state)
{
    (void)state;
    check_value(S("{\"usage\":" USAGE_OBJ ",\"x\":[1,2,{\"y\":null}]}"),
                 "usage", USAGE_OBJ);
    check_value(S("{\"x\":[1,2,{\"y\":null}],\"usage\":" USAGE_OBJ "}"),
                 "usage", USAGE_OBJ);
    check_value(S("{\"usage\":" USAGE_OBJ "}"), "usage", USAGE_OBJ);
}

static void test_whitespace_not_captured(void **state)
{
    (void)state;
    check_value(S(" \r\n\t{ \"usage\" \n:\t [ 1 , 2 ] \r\n, \"b\" : 0 } \n"),
                 "usage", "[ 1 , 2 ]");
    check_value(S("{\"usage\" : 42 }"), "usage", "42");
    check_value(S("{\"usage\":-0.5e+10}"), "usage", "-0.5e+10");
    check_value(S("{\"usage\":0,\"x\":1}"), "usage", "0");
}

static void test_scalar_values(void **state)
{
    (void)state;
    check_value(S("{\"usage\":null}"), "usage", "null");
    check_value(S("{\"stream\":true,\"a\":false}"), "stream", "true");
    check_value(S("{\"a\":true,\"stream\":false}"), "stream", "false");
    check_value(S("{\"model\":\"llama-3\"}"), "model", "\"llama-3\"");
    check_value(S("{\"n\":123456789012345678901234567890}"), "n",
                 "123456789012345678901234567890");
    check_value(S("{\"n\":1E5}"), "n", "1E5");
    check_value(S("{\"n\":-12.25E-3}"), "n", "-12.25E-3");
}

static void test_nested_key_ignored(void **state)
{
    (void)state;
    check_value(S("{\"choices\":[{\"usage\":{\"prompt_tokens\":1}}],"
                   "\"x\":{\"usage\":5},\"y\":[[{\"usage\":6}]]}"),
                 "usage", NULL);
    check_value(S("{\"choices\":[{\"usage\":1}],\"usage\":2,"
                   "\"z\":{\"usage\":3}}"),
                 "usage", "2");
}

static void test_key_in_string_ignored(void **state)
{
    (void)state;
    check_value(S("{\"text\":\"\\\"usage\\\": 5\",\"note\":\"usage\"}"),
                 "usage", NULL);
    check_value(S("{\"text\":\"{\\\"usage\\\":{}}\\\\\",\"usage\":1}"),
                 "usage", "1");
    check_value(S("{\"t\":\"\\u0022usage\\u0022:9\",\"usage\":7}"), "usage",
                 "7");
    check_value(S("{\"a\":\"usage\",\"b\":\"\\\\\\\"\"}"), "usage", NULL);
}

static void test_escaped_keys(void **state)
{
    (void)state;
    check_value(S("{\"us\\u0061ge\":7}"), "usage", "7");
    check_value(S("{\"\\u0075\\u0073\\u0061\\u0067\\u0065\":8}"), "usage",
                 "8");
    check_value(S("{\"usage\\u0000\":1}"), "usage", NULL);
    check_value(S("{\"usag\":1,\"usagee\":2}"), "usage", NULL);
    check_value(S("{\"a\\\"b\":1}"), "a\"b", "1");
    check_value(S("{\"a\\\\b\":1}"), "a\\b", "1");
    check_value(S("{\"a\\/b\\n\":1}"), "a/b\n", "1");
    /* non-ASCII keys, raw and escaped (with a surrogate pair) */
    check_value(S("{\"caf\xc3\xa9\":1}"), "caf\xc3\xa9", "1");
    check_value(S("{\"caf\\u00e9\":2}"), "caf\xc3\xa9", "2");
    check_value(S("{\"\\ud83d\\ude00\":3}"), "\xf0\x9f\x98\x80", "3");
    check_value(S("{\"\\ud83d\":3}"), "\xed\xa0\xbd", NULL);
    check_value(S("{\"\\ude00\\ud83d\":3}"), "\xf0\x9f\x98\x80", NULL);
    check_value(S("{\"\\ud83dx\":3}"), "x", NULL);
    check_value(S("{\"\":4}"), "", "4");
}

static void test_escapes_in_value(void **state)
{
    (void)state;
    check_value(S("{\"usage\":\"a\\\"b\\\\c\\u0022}\",\"x\":1}"), "usage",
                 "\"a\\\"b\\\\c\\u0022}\"");
    check_value(S("{\"usage\":[\"]\",\"}\",{\"a\":\"[\"}],\"x\":1}"), "usage",
                 "[\"]\",\"}\",{\"a\":\"[\"}]");
    check_value(S("{\"usage\":\"\xe2\x82\xac \\ud83d\\ude00\"}"), "usage",
                 "\"\xe2\x82\xac \\ud83d\\ude00\"");
}

static void test_duplicate_last_wins(void **state)
{
    (void)state;
    check_value(S("{\"usage\":1,\"x\":0,\"usage\":{\"p\":2}}"), "usage",
                 "{\"p\":2}");
    check_value(S("{\"usage\":{\"p\":2},\"usage\":null}"), "usage", "null");
}

static void test_long_value(void **state)
{
    (void)state;
    const char *keys[] = {"usage", "after"};
    size_t n = LLMOIN_JSON_VALUE_MAX;
    char *doc = malloc(n + 64);
    result_t *r = result_new();
    assert_non_null(doc);

    /* exactly VALUE_MAX bytes: captured */
    int len = sprintf(doc, "{\"usage\":\"");
    memset(doc + len, 'a', n - 2);
    len += (int)n - 2;
    len += sprintf(doc + len, "\",\"after\":1}");
    scan_all_ways(doc, (size_t)len, keys, 2, r);
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->slots[0].status, LLMOIN_JSON_FOUND);
    assert_int_equal(r->slots[0].len, n);
    assert_int_equal(r->slots[1].status, LLMOIN_JSON_FOUND);

    /* one more byte: too long, reported with its true length */
    len = sprintf(doc, "{\"usage\":\"");
    memset(doc + len, 'a', n - 1);
    len += (int)n - 1;
    len += sprintf(doc + len, "\",\"after\":1}");
    scan_all_ways(doc, (size_t)len, keys, 2, r);
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->slots[0].status, LLMOIN_JSON_TOO_LONG);
    assert_int_equal(r->slots[0].len, 0);
    assert_int_equal(r->slots[0].length, n + 1);
    assert_int_equal(r->slots[0].offset, 9);
    assert_int_equal(r->slots[1].status, LLMOIN_JSON_FOUND);

    /* a later short duplicate replaces the long one */
    len -= (int)strlen("\"after\":1}");
    len += sprintf(doc + len, "\"usage\":5}");
    scan_all_ways(doc, (size_t)len, keys, 2, r);
    assert_int_equal(r->slots[0].status, LLMOIN_JSON_FOUND);
    assert_memory_equal(r->slots[0].buf, "5", 1);
    free(r);
    free(doc);
}

static void test_several_keys(void **state)
{
    (void)state;
    const char *keys[] = {"model", "stream", "max_tokens", "stream_options",
                          "messages", "temperature", "n", "user"};
    const char doc[] =
        "{\"model\":\"qwen2.5-7b\",\"messages\":[{\"role\":\"user\","
        "\"content\":\"hi \\\"model\\\":x\",\"model\":\"nested\"}],"
        "\"stream\":true,\"stream_options\":{\"include_usage\":true},"
        "\"max_tokens\":256,\"temperature\":0.7}";
    const char *want[] = {"\"qwen2.5-7b\"", "true", "256",
                          "{\"include_usage\":true}", NULL, "0.7", NULL,
                          NULL};
    result_t *r = result_new();
    llmoin_json_span_t spans[8];

    scan_all_ways(doc, sizeof doc - 1, keys, 8, r);
    assert_int_equal(r->rc, 0);
    assert_int_equal(llmoin_json_get_top(doc, sizeof doc - 1, keys, 8, spans),
                     0);
    for (size_t k = 0; k < 8; k++) {
        if (want[k] == NULL) {
            if (k == 4)
                continue; /* messages: present but not checked */
            assert_int_equal(r->slots[k].status, LLMOIN_JSON_ABSENT);
            assert_null(spans[k].ptr);
            continue;
        }
        assert_int_equal(r->slots[k].status, LLMOIN_JSON_FOUND);
        assert_int_equal(r->slots[k].len, strlen(want[k]));
        assert_memory_equal(r->slots[k].buf, want[k], strlen(want[k]));
        assert_int_equal(spans[k].len, strlen(want[k]));
        assert_memory_equal(spans[k].ptr, want[k], strlen(want[k]));
    }
    assert_int_equal(r->slots[4].status, LLMOIN_JSON_FOUND);
    free(r);
}

static void test_malformed(void **state)
{
    (void)state;
    check_error(S(""), LLMOIN_JSON_ETRUNC, 0);
    check_error(S("   "), LLMOIN_JSON_ETRUNC, 3);
    check_error(S("{"), LLMOIN_JSON_ETRUNC, 1);
    check_error(S("{\"usage\":{\"a\":1"), LLMOIN_JSON_ETRUNC, 15);
    check_error(S("{\"a\":\"abc"), LLMOIN_JSON_ETRUNC, 9);
    check_error(S("{\"a\":1"), LLMOIN_JSON_ETRUNC, 6);
    check_error(S("[1]"), LLMOIN_JSON_ENOTOBJ, 0);
    check_error(S("\"usage\""), LLMOIN_JSON_ENOTOBJ, 0);
    check_error(S("x"), LLMOIN_JSON_ENOTOBJ, 0);
    check_error(S("{\"a\":}"), LLMOIN_JSON_ESYNTAX, 5);
    check_error(S("{\"a\":1,}"), LLMOIN_JSON_ESYNTAX, 7);
    check_error(S("{,}"), LLMOIN_JSON_ESYNTAX, 1);
    check_error(S("{\"a\" 1}"), LLMOIN_JSON_ESYNTAX, 5);
    check_error(S("{\"a\":1 \"b\":2}"), LLMOIN_JSON_ESYNTAX, 7);
    check_error(S("{'a':1}"), LLMOIN_JSON_ESYNTAX, 1);
    check_error(S("{a:1}"), LLMOIN_JSON_ESYNTAX, 1);
    check_error(S("{\"a\":[}"), LLMOIN_JSON_ESYNTAX, 6);
    check_error(S("{\"a\":{]}"), LLMOIN_JSON_ESYNTAX, 6);
    check_error(S("{\"a\":[1}"), LLMOIN_JSON_ESYNTAX, 7);
    check_error(S("{\"a\":[1,]}"), LLMOIN_JSON_ESYNTAX, 8);
    check_error(S("{\"a\":01}"), LLMOIN_JSON_ESYNTAX, 6);
    check_error(S("{\"a\":1.}"), LLMOIN_JSON_ESYNTAX, 7);
    check_error(S("{\"a\":.5}"), LLMOIN_JSON_ESYNTAX, 5);
    check_error(S("{\"a\":-}"), LLMOIN_JSON_ESYNTAX, 6);
    check_error(S("{\"a\":+1}"), LLMOIN_JSON_ESYNTAX, 5);
    check_error(S("{\"a\":1e}"), LLMOIN_JSON_ESYNTAX, 7);
    check_error(S("{\"a\":1e+}"), LLMOIN_JSON_ESYNTAX, 8);
    check_error(S("{\"a\":tru}"), LLMOIN_JSON_ESYNTAX, 8);
    check_error(S("{\"a\":nulll}"), LLMOIN_JSON_ESYNTAX, 9);
    check_error(S("{\"a\":True}"), LLMOIN_JSON_ESYNTAX, 5);
    check_error(S("{\"a\":\"\\x\"}"), LLMOIN_JSON_ESYNTAX, 7);
    check_error(S("{\"a\":\"\\u12G4\"}"), LLMOIN_JSON_ESYNTAX, 10);
    check_error(S("{\"a\":\"tab\there\"}"), LLMOIN_JSON_ESYNTAX, 9);
    check_error(S("{\"a\nb\":1}"), LLMOIN_JSON_ESYNTAX, 3);
    check_error(S("{\"a\":1}}"), LLMOIN_JSON_ETRAILING, 7);
    check_error(S("{} x"), LLMOIN_JSON_ETRAILING, 3);
    check_error(S("{}{}"), LLMOIN_JSON_ETRAILING, 2);
    check_error(S("{\"a\":1}\0"), LLMOIN_JSON_ETRAILING, 7);
    check_error(S("{\"a\"\0:1}"), LLMOIN_JSON_ESYNTAX, 4);
    check_error(S("{\"usage\":{\"a\":1},\"b\":x}"), LLMOIN_JSON_ESYNTAX, 21);
}

static void test_error_keeps_earlier_capture(void **state)
{
    (void)state;
    const char *keys[] = {"usage"};
    result_t *r = result_new();

    scan_all_ways(S("{\"usage\":{\"a\":1},\"b\":x}"), keys, 1, r);
    assert_int_equal(r->rc, LLMOIN_JSON_ESYNTAX);
    assert_int_equal(r->slots[0].status, LLMOIN_JSON_FOUND);
    assert_memory_equal(r->slots[0].buf, "{\"a\":1}", 7);

    /* truncated inside the value: PARTIAL with what arrived */
    scan_all_ways(S("{\"usage\":{\"a\":12"), keys, 1, r);
    assert_int_equal(r->rc, LLMOIN_JSON_ETRUNC);
    assert_int_equal(r->slots[0].status, LLMOIN_JSON_PARTIAL);
    assert_int_equal(r->slots[0].len, 7);
    assert_memory_equal(r->slots[0].buf, "{\"a\":12", 7);

    /* a number at the end of the input is not known to be complete */
    scan_all_ways(S("{\"usage\":12"), keys, 1, r);
    assert_int_equal(r->slots[0].status, LLMOIN_JSON_PARTIAL);
    free(r);
}

static void test_sticky_error(void **state)
{
    (void)state;
    const char *keys[] = {"usage"};

    assert_int_equal(llmoin_json_scan_init(&scanner, keys, 1), 0);
    assert_int_equal(llmoin_json_scan_feed(&scanner, S("{\"a\":x")),
                     LLMOIN_JSON_ESYNTAX);
    assert_int_equal(llmoin_json_scan_feed(&scanner, S("}")),
                     LLMOIN_JSON_ESYNTAX);
    assert_int_equal(llmoin_json_scan_finish(&scanner), LLMOIN_JSON_ESYNTAX);
    assert_int_equal(llmoin_json_scan_error_offset(&scanner), 5);
    assert_string_equal(llmoin_json_strerror(LLMOIN_JSON_ESYNTAX),
                        "JSON syntax error");
    assert_non_null(llmoin_json_strerror(12345));
}

static char *nested(size_t depth, size_t *len)
{
    char *doc = malloc(2 * depth + 16);
    size_t n = 0;
    assert_non_null(doc);

    doc[n++] = '{';
    n += (size_t)sprintf(doc + n, "\"usage\":");
    for (size_t i = 1; i < depth; i++)
        doc[n++] = '[';
    for (size_t i = 1; i < depth; i++)
        doc[n++] = ']';
    doc[n++] = '}';
    doc[n] = '\0';
    *len = n;
    return doc;
}

static void test_depth(void **state)
{
    (void)state;
    const char *keys[] = {"usage"};
    result_t *r = result_new();
    size_t len;
    char *doc = nested(LLMOIN_JSON_MAX_DEPTH, &len);

    scan_all_ways(doc, len, keys, 1, r);
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->slots[0].length, 2 * (LLMOIN_JSON_MAX_DEPTH - 1));
    free(doc);

    doc = nested(LLMOIN_JSON_MAX_DEPTH + 1, &len);
    scan_all_ways(doc, len, keys, 1, r);
    assert_int_equal(r->rc, LLMOIN_JSON_EDEPTH);
    assert_int_equal(r->err_offset, 9 + LLMOIN_JSON_MAX_DEPTH - 1);
    free(doc);
    free(r);
}

static void test_init_errors(void **state)
{
    (void)state;
    const char *nine[9] = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
    const char *long_key[] = {"0123456789012345678901234567890123"};
    const char *null_key[] = {NULL};
    llmoin_json_span_t spans[9];

    assert_int_equal(llmoin_json_scan_init(NULL, NULL, 0), LLMOIN_JSON_EINVAL);
    assert_int_equal(llmoin_json_scan_init(&scanner, nine, 9),
                     LLMOIN_JSON_EINVAL);
    assert_int_equal(llmoin_json_scan_feed(&scanner, S("{}")),
                     LLMOIN_JSON_EINVAL);
    assert_int_equal(llmoin_json_scan_init(&scanner, long_key, 1),
                     LLMOIN_JSON_EINVAL);
    assert_int_equal(llmoin_json_scan_init(&scanner, null_key, 1),
                     LLMOIN_JSON_EINVAL);
    assert_int_equal(llmoin_json_scan_init(&scanner, NULL, 1),
                     LLMOIN_JSON_EINVAL);
    assert_int_equal(llmoin_json_get_top(S("{}"), nine, 9, spans),
                     LLMOIN_JSON_EINVAL);
    assert_int_equal(llmoin_json_scan_init(&scanner, NULL, 0), 0);
    assert_int_equal(llmoin_json_scan_feed(&scanner, NULL, 1),
                     LLMOIN_JSON_EINVAL);
    assert_int_equal(llmoin_json_scan_feed(&scanner, NULL, 0), 0);
    assert_int_equal(llmoin_json_scan_feed(&scanner, S("{\"a\":[{}]}")), 0);
    assert_int_equal(llmoin_json_scan_finish(&scanner), 0);
    assert_null(llmoin_json_scan_slot(&scanner, 0));
}

static void test_zeroed_struct_after_init(void **state)
{
    (void)state;
    const char *keys[] = {"usage"};
    llmoin_json_scan_t *s = calloc(1, sizeof *s);
    assert_non_null(s);

    assert_int_equal(llmoin_json_scan_init(s, keys, 1), 0);
    assert_int_equal(llmoin_json_scan_feed(s, S("{\"usage\":1}")), 0);
    assert_int_equal(llmoin_json_scan_finish(s), 0);
    assert_int_equal(llmoin_json_scan_slot(s, 0)->status, LLMOIN_JSON_FOUND);
    /* re-init after use starts afresh */
    assert_int_equal(llmoin_json_scan_init(s, keys, 1), 0);
    assert_int_equal(llmoin_json_scan_slot(s, 0)->status, LLMOIN_JSON_ABSENT);
    assert_int_equal(llmoin_json_scan_feed(s, S("{}")), 0);
    assert_int_equal(llmoin_json_scan_finish(s), 0);
    free(s);
}

static void test_array_first(void **state)
{
    (void)state;
    llmoin_json_span_t first;

    assert_int_equal(llmoin_json_array_first(S(" [ ] "), &first), 0);
    assert_null(first.ptr);
    assert_int_equal(llmoin_json_array_first(S("[ {\"a\":[1]} , 2]"), &first),
                     0);
    assert_int_equal(first.len, 9);
    assert_memory_equal(first.ptr, "{\"a\":[1]}", 9);
    assert_int_equal(llmoin_json_array_first(S("[7]"), &first), 0);
    assert_memory_equal(first.ptr, "7", 1);
    assert_int_equal(llmoin_json_array_first(S("[\"x\",]"), &first),
                     LLMOIN_JSON_ESYNTAX);
    assert_int_equal(llmoin_json_array_first(S("{}"), &first),
                     LLMOIN_JSON_ETYPE);
    assert_null(first.ptr);
    assert_int_equal(llmoin_json_array_first(S("[1"), &first),
                     LLMOIN_JSON_ETRUNC);
}

static void test_utf8_encode(void **state)
{
    (void)state;
    char out[4];

    assert_int_equal(llmoin_json_utf8_encode(0x41, out), 1);
    assert_int_equal(llmoin_json_utf8_encode(0xE9, out), 2);
    assert_memory_equal(out, "\xc3\xa9", 2);
    assert_int_equal(llmoin_json_utf8_encode(0x20AC, out), 3);
    assert_memory_equal(out, "\xe2\x82\xac", 3);
    assert_int_equal(llmoin_json_utf8_encode(0x1F600, out), 4);
    assert_memory_equal(out, "\xf0\x9f\x98\x80", 4);
}

static void test_large_document(void **state)
{
    (void)state;
    /* a long content string before usage, fed in uneven pieces */
    const char *keys[] = {"usage"};
    size_t big = 200000;
    char *doc = malloc(big + 200);
    assert_non_null(doc);
    size_t n = (size_t)sprintf(doc, "{\"choices\":[{\"message\":{\"content\":\"");
    for (size_t i = 0; i < big; i++)
        doc[n++] = (i % 97 == 0) ? ' ' : (char)('a' + i % 26);
    n += (size_t)sprintf(doc + n, "\"}}],\"usage\":" USAGE_OBJ "}");

    assert_int_equal(llmoin_json_scan_init(&scanner, keys, 1), 0);
    for (size_t off = 0, step = 1; off < n; off += step, step = step * 7 % 4093 + 1) {
        size_t take = off + step > n ? n - off : step;
        assert_int_equal(llmoin_json_scan_feed(&scanner, doc + off, take), 0);
    }
    assert_int_equal(llmoin_json_scan_finish(&scanner), 0);
    const llmoin_json_slot_t *slot = llmoin_json_scan_slot(&scanner, 0);
    assert_int_equal(slot->status, LLMOIN_JSON_FOUND);
    assert_int_equal(slot->len, strlen(USAGE_OBJ));
    assert_memory_equal(slot->buf, USAGE_OBJ, slot->len);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_in_middle),
        cmocka_unit_test(test_value_first_and_last),
        cmocka_unit_test(test_whitespace_not_captured),
        cmocka_unit_test(test_scalar_values),
        cmocka_unit_test(test_nested_key_ignored),
        cmocka_unit_test(test_key_in_string_ignored),
        cmocka_unit_test(test_escaped_keys),
        cmocka_unit_test(test_escapes_in_value),
        cmocka_unit_test(test_duplicate_last_wins),
        cmocka_unit_test(test_long_value),
        cmocka_unit_test(test_several_keys),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_error_keeps_earlier_capture),
        cmocka_unit_test(test_sticky_error),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_init_errors),
        cmocka_unit_test(test_zeroed_struct_after_init),
        cmocka_unit_test(test_array_first),
        cmocka_unit_test(test_utf8_encode),
        cmocka_unit_test(test_large_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
