/*
 * sse: every stream is parsed whole, split in two at every position, in
 * three at every pair of positions (short streams) and byte by byte; all
 * runs must yield the same events, spans and end-of-stream result.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sse.h"

#define S(lit) lit, sizeof(lit) - 1
#define MAX_EVENTS 64

typedef struct {
    llmoin_sse_kind_t kind;
    char data[256];
    size_t len;
    uint64_t size, start, end;
} rec_t;

typedef struct {
    rec_t ev[MAX_EVENTS];
    size_t n;
    int finish_rc;
} trace_t;

static size_t event_cap = 128;

static void record(trace_t *t, const llmoin_sse_event_t *ev)
{
    assert_true(t->n < MAX_EVENTS);
    rec_t *r = &t->ev[t->n++];
    r->kind = ev->kind;
    r->len = ev->data_len;
    r->size = ev->size;
    r->start = ev->start;
    r->end = ev->end;
    assert_true(ev->data_len < sizeof r->data);
    if (ev->kind == LLMOIN_SSE_DATA) {
        assert_non_null(ev->data);
        assert_int_equal(ev->data[ev->data_len], '\0');
        assert_int_equal(ev->size, ev->data_len);
        memcpy(r->data, ev->data, ev->data_len);
    } else {
        assert_null(ev->data);
        assert_int_equal(ev->data_len, 0);
        assert_true(ev->size > event_cap - 1);
    }
    assert_true(ev->start < ev->end);
}

static void drain(llmoin_sse_t *p, trace_t *t)
{
    llmoin_sse_event_t ev;
    int rc;

    while ((rc = llmoin_sse_next(p, &ev)) == 1)
        record(t, &ev);
    assert_int_equal(rc, 0);
}

static void run(const char *in, size_t len, const size_t *cuts, size_t ncuts,
                trace_t *t)
{
    llmoin_sse_t p;
    char *buf = malloc(event_cap);
    size_t from = 0;

    assert_non_null(buf);
    memset(t, 0, sizeof *t);
    assert_int_equal(llmoin_sse_init(&p, buf, event_cap), 0);
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        assert_int_equal(llmoin_sse_feed(&p, in + from, to - from), 0);
        drain(&p, t);
        from = to;
    }
    t->finish_rc = llmoin_sse_finish(&p);
    drain(&p, t);
    assert_int_equal(llmoin_sse_offset(&p), len);
    free(buf);
}

static void run_bytewise(const char *in, size_t len, trace_t *t)
{
    size_t *cuts = malloc((len + 1) * sizeof *cuts);
    assert_non_null(cuts);
    for (size_t i = 0; i < len; i++)
        cuts[i] = i;
    run(in, len, cuts, len, t);
    free(cuts);
}

static void assert_same(const trace_t *a, const trace_t *b)
{
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->finish_rc, b->finish_rc);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal(a->ev[i].kind, b->ev[i].kind);
        assert_int_equal(a->ev[i].len, b->ev[i].len);
        assert_memory_equal(a->ev[i].data, b->ev[i].data, a->ev[i].len);
        assert_int_equal(a->ev[i].size, b->ev[i].size);
        assert_int_equal(a->ev[i].start, b->ev[i].start);
        assert_int_equal(a->ev[i].end, b->ev[i].end);
    }
}

static trace_t *parse_all_ways(const char *in, size_t len)
{
    trace_t *whole = malloc(sizeof *whole), *other = malloc(sizeof *other);
    assert_non_null(whole);
    assert_non_null(other);

    run(in, len, NULL, 0, whole);
    for (size_t i = 0; i <= len; i++) {
        run(in, len, &i, 1, other);
        assert_same(whole, other);
    }
    if (len <= 160) {
        for (size_t i = 0; i <= len; i++) {
            for (size_t j = i; j <= len; j++) {
                size_t cuts[2] = {i, j};
                run(in, len, cuts, 2, other);
                assert_same(whole, other);
            }
        }
    }
    run_bytewise(in, len, other);
    assert_same(whole, other);
    free(other);
    return whole;
}

static void check_event(const trace_t *t, size_t i, const char *data,
                        size_t len, uint64_t start, uint64_t end)
{
    assert_true(i < t->n);
    assert_int_equal(t->ev[i].kind, LLMOIN_SSE_DATA);
    assert_int_equal(t->ev[i].len, len);
    assert_memory_equal(t->ev[i].data, data, len);
    assert_int_equal(t->ev[i].start, start);
    assert_int_equal(t->ev[i].end, end);
}

static void test_single_event(void **state)
{
    (void)state;
    trace_t *t = parse_all_ways(S("data: hello\n\n"));
    assert_int_equal(t->n, 1);
    check_event(t, 0, S("hello"), 0, 13);
    assert_int_equal(t->finish_rc, 0);
    free(t);

    t = parse_all_ways(S("data:hello\n\ndata:  two\n\n"));
    assert_int_equal(t->n, 2);
    check_event(t, 0, S("hello"), 0, 12);
    check_event(t, 1, S(" two"), 12, 24);
    free(t);
}

static void test_multiline_data(void **state)
{
    (void)state;
    trace_t *t = parse_all_ways(S("data: a\ndata:b\ndata\ndata: \ndata: c\n\n"));
    assert_int_equal(t->n, 1);
    check_event(t, 0, S("a\nb\n\n\nc"), 0, 36);
    free(t);

    /* data lines with empty values still make an event */
    t = parse_all_ways(S("data\n\ndata:\n\ndata\ndata\n\n"));
    assert_int_equal(t->n, 3);
    check_event(t, 0, S(""), 0, 6);
    check_event(t, 1, S(""), 6, 13);
    check_event(t, 2, S("\n"), 13, 24);
    free(t);
}

static void test_line_endings(void **state)
{
    (void)state;
    trace_t *t = parse_all_ways(S("data: a\r\n\r\ndata: b\r\rdata: c\n\n"
                                  "data: d\r\ndata: e\r\n\n"
                                  "data: f\n\r\n"));
    assert_int_equal(t->n, 5);
    check_event(t, 0, S("a"), 0, 11);
    check_event(t, 1, S("b"), 11, 20);
    check_event(t, 2, S("c"), 20, 29);
    check_event(t, 3, S("d\ne"), 29, 48);
    check_event(t, 4, S("f"), 48, 58);
    assert_int_equal(t->finish_rc, 0);
    free(t);
}

static void test_final_cr(void **state)
{
    (void)state;
    /* the CR ending the stream completes the event only at finish() */
    trace_t *t = parse_all_ways(S("data: x\r\r"));
    assert_int_equal(t->n, 1);
    check_event(t, 0, S("x"), 0, 9);
    assert_int_equal(t->finish_rc, 0);
    free(t);
}

static void test_comments_and_fields(void **state)
{
    (void)state;
    trace_t *t = parse_all_ways(
        S(": ping\n\n:\n\nevent: foo\nid: 7\nretry: 100\n\n"
          ": keep\nevent: chunk\ndata: x\nid: 8\n: more\nfoo: bar\n\n"
          "dataX: 1\nDATA: 2\ndat: 3\n data: 4\n\n"));
    assert_int_equal(t->n, 1);
    check_event(t, 0, S("x"), 40, 91);
    assert_int_equal(t->finish_rc, 0);
    free(t);
}

static void test_empty_blocks_between_events(void **state)
{
    (void)state;
    trace_t *t = parse_all_ways(S("\n\n\ndata: a\n\n\n\n: c\n\ndata: b\n\n\n"));
    assert_int_equal(t->n, 2);
    check_event(t, 0, S("a"), 3, 12);
    check_event(t, 1, S("b"), 19, 28);
    assert_int_equal(t->finish_rc, 0);
    free(t);
}

static void test_done_and_nul(void **state)
{
    (void)state;
    trace_t *t = parse_all_ways(S("data: a\0b\n\ndata: [DONE]\n\n"));
    assert_int_equal(t->n, 2);
    check_event(t, 0, "a\0b", 3, 0, 11);
    check_event(t, 1, S("[DONE]"), 11, 25);
    free(t);
}

static void test_bom(void **state)
{
    (void)state;
    trace_t *t = parse_all_ways(S("\xEF\xBB\xBF" "data: x\n\n"));
    assert_int_equal(t->n, 1);
    check_event(t, 0, S("x"), 3, 12);
    free(t);

    /* only one BOM, only at the start */
    t = parse_all_ways(S("\xEF\xBB\xBF\xEF\xBB\xBF" "data: x\n\ndata: y\n\n"));
    assert_int_equal(t->n, 1);
    check_event(t, 0, S("y"), 15, 24);
    free(t);

    /* a partial BOM is ordinary bytes (here: part of a field name) */
    t = parse_all_ways(S("\xEF\xBB" "data: x\n\ndata: y\n\n"));
    assert_int_equal(t->n, 1);
    check_event(t, 0, S("y"), 11, 20);
    free(t);

    t = parse_all_ways(S("\xEF"));
    assert_int_equal(t->n, 0);
    assert_int_equal(t->finish_rc, LLMOIN_SSE_ETRUNC);
    free(t);
    t = parse_all_ways(S("\xEF\xBB\xBF"));
    assert_int_equal(t->finish_rc, 0);
    free(t);
}

static void test_truncated(void **state)
{
    (void)state;
    trace_t *t = parse_all_ways(S("data: a\n\ndata: b\n"));
    assert_int_equal(t->n, 1);
    check_event(t, 0, S("a"), 0, 9);
    assert_int_equal(t->finish_rc, LLMOIN_SSE_ETRUNC);
    free(t);

    t = parse_all_ways(S("data: a\n\ndata: b"));
    assert_int_equal(t->n, 1);
    assert_int_equal(t->finish_rc, LLMOIN_SSE_ETRUNC);
    free(t);

    t = parse_all_ways(S("data: a\n\n: ping\n"));
    assert_int_equal(t->finish_rc, LLMOIN_SSE_ETRUNC);
    free(t);

    t = parse_all_ways(S(""));
    assert_int_equal(t->n, 0);
    assert_int_equal(t->finish_rc, 0);
    free(t);
}

static void test_oversized(void **state)
{
    (void)state;
    char in[1024];
    size_t n = 0;

    event_cap = 16; /* payloads of at most 15 bytes */
    n += (size_t)sprintf(in + n, "data: 0123456789abcde\n\n");      /* 15 */
    n += (size_t)sprintf(in + n, "data: 0123456789abcdef\n\n");     /* 16 */
    n += (size_t)sprintf(in + n, "data: 0123456\ndata: 89abcdef\n\n"); /* 7+1+8 */
    n += (size_t)sprintf(in + n, "data: 0123456\ndata: 89abcde\n\n");  /* 15 */
    n += (size_t)sprintf(in + n, ": big comments do not count "
                                 "0123456789012345678901234567890\n"
                                 "data: ok\n\n");
    n += (size_t)sprintf(in + n, "data: %s\n\ndata: [DONE]\n\n",
                         "0123456789012345678901234567890123456789");
    trace_t *t = parse_all_ways(in, n);
    assert_int_equal(t->n, 7);
    check_event(t, 0, S("0123456789abcde"), 0, 23);
    assert_int_equal(t->ev[1].kind, LLMOIN_SSE_SKIPPED);
    assert_int_equal(t->ev[1].size, 16);
    assert_int_equal(t->ev[1].start, 23);
    assert_int_equal(t->ev[1].end, 47);
    assert_int_equal(t->ev[2].kind, LLMOIN_SSE_SKIPPED);
    assert_int_equal(t->ev[2].size, 16);
    assert_int_equal(t->ev[3].kind, LLMOIN_SSE_DATA);
    check_event(t, 3, S("0123456\n89abcde"), t->ev[3].start, t->ev[3].end);
    assert_int_equal(t->ev[4].kind, LLMOIN_SSE_DATA);
    assert_memory_equal(t->ev[4].data, "ok", 2);
    assert_int_equal(t->ev[5].kind, LLMOIN_SSE_SKIPPED);
    assert_int_equal(t->ev[5].size, 40);
    assert_memory_equal(t->ev[6].data, "[DONE]", 6);
    assert_int_equal(t->ev[6].end, n);
    free(t);
    event_cap = 128;
}

/* Spans must let the gateway drop an event: the remaining bytes parse to
 * exactly the remaining events, with spans shifted accordingly. */
static void test_dropping_spans(void **state)
{
    (void)state;
    const char in[] = ": hi\r\n\r\ndata: {\"a\":1}\r\n\r\n"
                      "event: x\ndata: two\ndata: lines\n\n\n"
                      "data: {\"choices\":[],\"usage\":{}}\r\r"
                      ": trailer\ndata: [DONE]\n\n";
    size_t len = sizeof in - 1;
    trace_t *t = parse_all_ways(in, len);
    assert_int_equal(t->n, 4);

    for (size_t drop = 0; drop < t->n; drop++) {
        char cut[sizeof in];
        uint64_t s = t->ev[drop].start, e = t->ev[drop].end;
        memcpy(cut, in, s);
        memcpy(cut + s, in + e, len - e);
        trace_t *u = parse_all_ways(cut, len - (e - s));
        assert_int_equal(u->n, t->n - 1);
        assert_int_equal(u->finish_rc, 0);
        for (size_t i = 0, j = 0; i < t->n; i++) {
            if (i == drop)
                continue;
            uint64_t shift = i > drop ? e - s : 0;
            assert_int_equal(u->ev[j].len, t->ev[i].len);
            assert_memory_equal(u->ev[j].data, t->ev[i].data, t->ev[i].len);
            assert_int_equal(u->ev[j].start + shift, t->ev[i].start);
            assert_int_equal(u->ev[j].end + shift, t->ev[i].end);
            j++;
        }
        free(u);
    }
    free(t);
}

static void test_vllm_stream(void **state)
{
    (void)state;
    const char in[] =
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
        "\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":"
        "{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,"
        "\"finish_reason\":null}],\"usage\":null}\n\n"
        "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":"
        "{\"content\":\"Hi\"},\"finish_reason\":null}],\"usage\":null}\n\n"
        "data: {\"id\":\"chatcmpl-1\",\"choices\":[],\"usage\":"
        "{\"prompt_tokens\":5,\"total_tokens\":6,\"completion_tokens\":1}}\n\n"
        "data: [DONE]\n\n";
    event_cap = 512;
    trace_t *t = parse_all_ways(in, sizeof in - 1);
    assert_int_equal(t->n, 4);
    assert_int_equal(t->ev[3].end, sizeof in - 1);
    assert_memory_equal(t->ev[3].data, "[DONE]", 6);
    event_cap = 128;
    free(t);
}

static void test_api_misuse(void **state)
{
    (void)state;
    llmoin_sse_t p;
    llmoin_sse_event_t ev;
    char buf[32];

    assert_int_equal(llmoin_sse_init(NULL, buf, sizeof buf), LLMOIN_SSE_EINVAL);
    assert_int_equal(llmoin_sse_init(&p, NULL, 32), LLMOIN_SSE_EINVAL);
    assert_int_equal(llmoin_sse_init(&p, buf, 1), LLMOIN_SSE_EINVAL);
    assert_int_equal(llmoin_sse_init(&p, buf, sizeof buf), 0);
    assert_int_equal(llmoin_sse_feed(&p, NULL, 1), LLMOIN_SSE_EINVAL);
    assert_int_equal(llmoin_sse_next(&p, NULL), LLMOIN_SSE_EINVAL);
    assert_int_equal(llmoin_sse_feed(&p, S("data: a\n\ndata: b\n\n")), 0);
    /* not drained: feeding or finishing now would lose input */
    assert_int_equal(llmoin_sse_feed(&p, S("data: c\n\n")), LLMOIN_SSE_EBUSY);
    assert_int_equal(llmoin_sse_finish(&p), LLMOIN_SSE_EBUSY);
    assert_int_equal(llmoin_sse_next(&p, &ev), 1);
    assert_string_equal(ev.data, "a");
    assert_int_equal(llmoin_sse_feed(&p, S("data: c\n\n")), LLMOIN_SSE_EBUSY);
    assert_int_equal(llmoin_sse_next(&p, &ev), 1);
    assert_string_equal(ev.data, "b");
    assert_int_equal(llmoin_sse_next(&p, &ev), 0);
    assert_int_equal(llmoin_sse_feed(&p, S("data: c\n\n")), 0);
    assert_int_equal(llmoin_sse_next(&p, &ev), 1);
    assert_int_equal(llmoin_sse_next(&p, &ev), 0);
    assert_int_equal(llmoin_sse_finish(&p), 0);
    assert_int_equal(llmoin_sse_finish(&p), 0);
    assert_int_equal(llmoin_sse_feed(&p, S("x")), LLMOIN_SSE_EINVAL);
    assert_string_equal(llmoin_sse_strerror(LLMOIN_SSE_EBUSY),
                        "previous input not fully consumed by next()");
    assert_non_null(llmoin_sse_strerror(-99));
}

static void test_zeroed_struct_after_init(void **state)
{
    (void)state;
    llmoin_sse_t *p = calloc(1, sizeof *p);
    char buf[LLMOIN_SSE_DEFAULT_EVENT_MAX];
    llmoin_sse_event_t ev;

    assert_non_null(p);
    assert_int_equal(llmoin_sse_init(p, buf, sizeof buf), 0);
    assert_int_equal(llmoin_sse_feed(p, S("data: x\n\n")), 0);
    assert_int_equal(llmoin_sse_next(p, &ev), 1);
    assert_string_equal(ev.data, "x");
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_event),
        cmocka_unit_test(test_multiline_data),
        cmocka_unit_test(test_line_endings),
        cmocka_unit_test(test_final_cr),
        cmocka_unit_test(test_comments_and_fields),
        cmocka_unit_test(test_empty_blocks_between_events),
        cmocka_unit_test(test_done_and_nul),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_oversized),
        cmocka_unit_test(test_dropping_spans),
        cmocka_unit_test(test_vllm_stream),
        cmocka_unit_test(test_api_misuse),
        cmocka_unit_test(test_zeroed_struct_after_init),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
