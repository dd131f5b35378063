/*
 * fuzz_stream_usage: the payload is tracked as an SSE response whole, in two
 * and three pieces and byte by byte: per-event classification and the
 * totals must not depend on the split, and must equal what sse.c plus
 * llmoin_stream_classify() give on the whole stream. The same payload is
 * also scanned as a non-streaming body, whole and split.
 */
#include <string.h>

#include "fuzz_common.h"
#include "stream_usage.h"

#define MAX_INPUT (1 << 16)
#define MAX_EVENTS 4096

typedef struct {
    llmoin_stream_event_t ev[MAX_EVENTS];
    size_t n;
    int finish_rc;
    llmoin_stream_usage_t end;
} trace_t;

static char *event_buf;
static llmoin_stream_usage_t tracker;

static void drain(trace_t *t)
{
    llmoin_stream_event_t ev;
    int rc;

    while ((rc = llmoin_stream_usage_next(&tracker, &ev)) == 1) {
        if (t->n < MAX_EVENTS)
            t->ev[t->n] = ev;
        t->n++;
    }
    FUZZ_CHECK(rc == 0, "next() error");
}

static void run(const uint8_t *d, size_t len, size_t cap, const size_t *cuts,
                size_t ncuts, trace_t *t)
{
    size_t from = 0;

    t->n = 0;
    FUZZ_CHECK(llmoin_stream_usage_init(&tracker, event_buf, cap) == 0,
               "init");
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        FUZZ_CHECK(llmoin_stream_usage_feed(&tracker, d + from, to - from) ==
                       0,
                   "feed");
        drain(t);
        from = to;
    }
    t->finish_rc = llmoin_stream_usage_finish(&tracker);
    drain(t);
    t->end = tracker;
}

static void run_bytewise(const uint8_t *d, size_t len, size_t cap, trace_t *t)
{
    t->n = 0;
    FUZZ_CHECK(llmoin_stream_usage_init(&tracker, event_buf, cap) == 0,
               "init");
    for (size_t i = 0; i < len; i++) {
        FUZZ_CHECK(llmoin_stream_usage_feed(&tracker, d + i, 1) == 0, "feed");
        drain(t);
    }
    t->finish_rc = llmoin_stream_usage_finish(&tracker);
    drain(t);
    t->end = tracker;
}

static bool usage_equal(const llmoin_usage_t *a, const llmoin_usage_t *b)
{
    return a->present == b->present && a->prompt_tokens == b->prompt_tokens &&
           a->completion_tokens == b->completion_tokens &&
           a->total_tokens == b->total_tokens;
}

static void check_same(const trace_t *a, const trace_t *b, const char *what)
{
    FUZZ_CHECK(a->n == b->n && a->finish_rc == b->finish_rc, what);
    for (size_t i = 0; i < a->n && i < MAX_EVENTS; i++) {
        FUZZ_CHECK(a->ev[i].start == b->ev[i].start, what);
        FUZZ_CHECK(a->ev[i].end == b->ev[i].end, what);
        FUZZ_CHECK(a->ev[i].flags == b->ev[i].flags, what);
        FUZZ_CHECK(usage_equal(&a->ev[i].usage, &b->ev[i].usage), what);
    }
    const llmoin_stream_usage_t *x = &a->end, *y = &b->end;
    FUZZ_CHECK(usage_equal(&x->usage, &y->usage), what);
    FUZZ_CHECK(x->usage_source == y->usage_source && x->done == y->done,
               what);
    FUZZ_CHECK(x->events == y->events && x->events == a->n, what);
    FUZZ_CHECK(x->content_chunks == y->content_chunks &&
                   x->reasoning_chunks == y->reasoning_chunks &&
                   x->usage_only_chunks == y->usage_only_chunks &&
                   x->error_chunks == y->error_chunks &&
                   x->bad_events == y->bad_events &&
                   x->skipped_events == y->skipped_events,
               what);
}

/* Flags that must never appear together, and usage that must be sane. */
static void check_event(const llmoin_stream_event_t *ev)
{
    unsigned f = ev->flags;

    FUZZ_CHECK(ev->start < ev->end, "empty span");
    FUZZ_CHECK(!(f & LLMOIN_STREAM_USAGE) == !ev->usage.present,
               "usage flag vs usage");
    FUZZ_CHECK(!(f & LLMOIN_STREAM_USAGE_ONLY) || (f & LLMOIN_STREAM_USAGE),
               "usage-only without usage");
    FUZZ_CHECK(!(f & LLMOIN_STREAM_USAGE_ONLY) ||
                   !(f & (LLMOIN_STREAM_CONTENT | LLMOIN_STREAM_ERROR |
                          LLMOIN_STREAM_BAD)),
               "usage-only chunk carries more");
    FUZZ_CHECK(!(f & LLMOIN_STREAM_DONE) || f == LLMOIN_STREAM_DONE,
               "[DONE] with other flags");
    FUZZ_CHECK(!(f & LLMOIN_STREAM_SKIPPED) || f == LLMOIN_STREAM_SKIPPED,
               "skipped with other flags");
    if (ev->usage.present)
        FUZZ_CHECK(ev->usage.prompt_tokens >= 0 &&
                       ev->usage.completion_tokens >= 0 &&
                       ev->usage.total_tokens >= 0,
                   "negative usage");
}

/* What stream_usage reports per event is sse.c + classify. */
static void check_against_parts(const uint8_t *d, size_t len, size_t cap,
                                const trace_t *t)
{
    static char *buf;
    llmoin_sse_t p;
    llmoin_sse_event_t se;
    llmoin_stream_event_t ev;
    size_t i = 0;

    if (buf == NULL) {
        buf = malloc(LLMOIN_SSE_DEFAULT_EVENT_MAX);
        FUZZ_CHECK(buf != NULL, "out of memory");
    }
    FUZZ_CHECK(llmoin_sse_init(&p, buf, cap) == 0, "init");
    FUZZ_CHECK(llmoin_sse_feed(&p, d, len) == 0, "feed");
    for (int pass = 0; pass < 2; pass++) {
        while (llmoin_sse_next(&p, &se) == 1) {
            if (se.kind == LLMOIN_SSE_SKIPPED) {
                memset(&ev, 0, sizeof ev);
                ev.flags = LLMOIN_STREAM_SKIPPED;
            } else {
                llmoin_stream_classify(se.data, se.data_len, &ev);
            }
            FUZZ_CHECK(i < t->n, "missing event");
            if (i < MAX_EVENTS) {
                FUZZ_CHECK(ev.flags == t->ev[i].flags, "classification");
                FUZZ_CHECK(usage_equal(&ev.usage, &t->ev[i].usage), "usage");
                check_event(&t->ev[i]);
            }
            i++;
        }
        if (pass == 0)
            llmoin_sse_finish(&p);
    }
    FUZZ_CHECK(i == t->n, "extra event");
}

static void body_run(const uint8_t *d, size_t len, size_t cut, int *rc,
                     llmoin_usage_t *u)
{
    static llmoin_body_usage_t b;
    llmoin_usage_source_t src;

    FUZZ_CHECK(llmoin_body_usage_init(&b) == 0, "body init");
    (void)llmoin_body_usage_feed(&b, d, cut);
    (void)llmoin_body_usage_feed(&b, d + cut, len - cut);
    *rc = llmoin_body_usage_finish(&b, u, &src);
    FUZZ_CHECK(u->present == (src != LLMOIN_USAGE_SOURCE_NONE),
               "body source");
}

static void check_body(const uint8_t *d, size_t len, size_t cut)
{
    int rc1, rc2;
    llmoin_usage_t u1, u2;

    body_run(d, len, len, &rc1, &u1);
    body_run(d, len, cut, &rc2, &u2);
    FUZZ_CHECK(rc1 == rc2 && usage_equal(&u1, &u2), "body split");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static trace_t whole, other;
    fuzz_input_t in;

    if (!fuzz_input(data, size, &in) || in.len > MAX_INPUT)
        return 0;
    size_t cap = in.knob ? 2 + in.knob * 4u : LLMOIN_SSE_DEFAULT_EVENT_MAX;
    if (event_buf == NULL) {
        event_buf = malloc(LLMOIN_SSE_DEFAULT_EVENT_MAX);
        FUZZ_CHECK(event_buf != NULL, "out of memory");
    }

    run(in.data, in.len, cap, NULL, 0, &whole);
    check_against_parts(in.data, in.len, cap, &whole);
    run(in.data, in.len, cap, in.cuts, 1, &other);
    check_same(&whole, &other, "split in two changes the tracking");
    run(in.data, in.len, cap, in.cuts, 2, &other);
    check_same(&whole, &other, "split in three changes the tracking");
    run_bytewise(in.data, in.len, cap, &other);
    check_same(&whole, &other, "byte-wise feeding changes the tracking");
    check_body(in.data, in.len, in.cuts[0]);
    return 0;
}
