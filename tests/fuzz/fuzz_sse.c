/*
 * fuzz_sse: the payload is parsed whole, in two and three pieces and byte
 * by byte, with an event buffer size chosen by the fuzzer; every run must
 * yield the same events as a deliberately naive reference parser that looks
 * at the whole stream at once (WHATWG rules, unbounded buffer).
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz_common.h"
#include "sse.h"

#define MAX_INPUT (1 << 16)

typedef struct {
    llmoin_sse_kind_t kind;
    size_t data_off, data_len; /* into the trace's byte pool */
    uint64_t size, start, end;
} rec_t;

typedef struct {
    rec_t *ev;
    size_t n, cap;
    char *pool;
    size_t pool_len, pool_cap;
    int finish_rc;
} trace_t;

static void trace_reset(trace_t *t)
{
    t->n = 0;
    t->pool_len = 0;
    t->finish_rc = 0;
}

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    p = realloc(p, c * elem);
    FUZZ_CHECK(p != NULL, "out of memory");
    *cap = c;
    return p;
}

static void trace_add(trace_t *t, llmoin_sse_kind_t kind, const char *data,
                      size_t len, uint64_t size, uint64_t start, uint64_t end)
{
    t->ev = grow(t->ev, &t->cap, t->n + 1, sizeof *t->ev);
    t->pool = grow(t->pool, &t->pool_cap, t->pool_len + len + 1, 1);
    rec_t *r = &t->ev[t->n++];
    r->kind = kind;
    r->data_off = t->pool_len;
    r->data_len = len;
    r->size = size;
    r->start = start;
    r->end = end;
    if (len)
        memcpy(t->pool + t->pool_len, data, len);
    t->pool_len += len;
}

static void check_same(const trace_t *a, const trace_t *b, const char *what)
{
    FUZZ_CHECK(a->n == b->n, what);
    FUZZ_CHECK(a->finish_rc == b->finish_rc, what);
    for (size_t i = 0; i < a->n; i++) {
        const rec_t *x = &a->ev[i], *y = &b->ev[i];
        FUZZ_CHECK(x->kind == y->kind, what);
        FUZZ_CHECK(x->size == y->size, what);
        FUZZ_CHECK(x->start == y->start && x->end == y->end, what);
        FUZZ_CHECK(x->data_len == y->data_len, what);
        FUZZ_CHECK(memcmp(a->pool + x->data_off, b->pool + y->data_off,
                          x->data_len) == 0,
                   what);
    }
}

/* ---- the parser under test ---- */

static char *event_buf;

static void drain(llmoin_sse_t *p, trace_t *t, size_t cap)
{
    llmoin_sse_event_t ev;
    int rc;

    while ((rc = llmoin_sse_next(p, &ev)) == 1) {
        FUZZ_CHECK(ev.start < ev.end, "empty span");
        if (ev.kind == LLMOIN_SSE_DATA) {
            FUZZ_CHECK(ev.data_len < cap && ev.data[ev.data_len] == '\0',
                       "payload bound / terminator");
        } else {
            FUZZ_CHECK(ev.data == NULL && ev.size > cap - 1, "skip size");
        }
        trace_add(t, ev.kind, ev.data, ev.data_len, ev.size, ev.start,
                  ev.end);
    }
    FUZZ_CHECK(rc == 0, "next() error");
}

static void run(const uint8_t *d, size_t len, size_t cap, const size_t *cuts,
                size_t ncuts, trace_t *t)
{
    llmoin_sse_t p;
    size_t from = 0;

    trace_reset(t);
    FUZZ_CHECK(llmoin_sse_init(&p, event_buf, cap) == 0, "init");
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        FUZZ_CHECK(llmoin_sse_feed(&p, d + from, to - from) == 0, "feed");
        drain(&p, t, cap);
        from = to;
    }
    t->finish_rc = llmoin_sse_finish(&p);
    drain(&p, t, cap);
    FUZZ_CHECK(llmoin_sse_offset(&p) == len, "offset");
}

static void run_bytewise(const uint8_t *d, size_t len, size_t cap, trace_t *t)
{
    llmoin_sse_t p;

    trace_reset(t);
    FUZZ_CHECK(llmoin_sse_init(&p, event_buf, cap) == 0, "init");
    for (size_t i = 0; i < len; i++) {
        FUZZ_CHECK(llmoin_sse_feed(&p, d + i, 1) == 0, "feed");
        drain(&p, t, cap);
    }
    t->finish_rc = llmoin_sse_finish(&p);
    drain(&p, t, cap);
}

/* ---- the reference: whole stream, one line at a time ---- */

typedef struct {
    char *data;
    size_t len, cap;
    bool has_data;
} ref_block_t;

static void ref_append(ref_block_t *b, const uint8_t *p, size_t n)
{
    b->data = grow(b->data, &b->cap, b->len + n + 1, 1);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void ref_line(ref_block_t *b, const uint8_t *line, size_t n)
{
    const uint8_t *colon = memchr(line, ':', n);
    size_t name_len = colon ? (size_t)(colon - line) : n;

    if (n == 0 || line[0] == ':' || name_len != 4 ||
        memcmp(line, "data", 4) != 0)
        return;
    const uint8_t *v = colon ? colon + 1 : line + n;
    size_t vlen = (size_t)(line + n - v);
    if (vlen > 0 && v[0] == ' ') {
        v++;
        vlen--;
    }
    ref_append(b, v, vlen);
    ref_append(b, (const uint8_t *)"\n", 1);
    b->has_data = true;
}

static void reference(const uint8_t *d, size_t len, size_t cap, trace_t *t)
{
    static ref_block_t b;
    size_t pos = 0, block_start;
    bool in_block = false;

    trace_reset(t);
    b.len = 0;
    b.has_data = false;
    if (len >= 3 && memcmp(d, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    block_start = pos;
    while (pos < len) {
        size_t e = pos;
        while (e < len && d[e] != '\r' && d[e] != '\n')
            e++;
        if (e == len)
            break; /* unterminated last line */
        size_t next = e + 1;
        if (d[e] == '\r' && next < len && d[next] == '\n')
            next++;
        if (e == pos) {
            if (b.has_data) {
                size_t n = b.len - 1; /* drop the last "\n" */
                if (n <= cap - 1)
                    trace_add(t, LLMOIN_SSE_DATA, b.data, n, n, block_start,
                              next);
                else
                    trace_add(t, LLMOIN_SSE_SKIPPED, NULL, 0, n,
                              block_start, next);
            }
            b.len = 0;
            b.has_data = false;
            in_block = false;
            block_start = next;
        } else {
            ref_line(&b, d + pos, e - pos);
            in_block = true;
        }
        pos = next;
    }
    t->finish_rc = (in_block || pos < len) ? LLMOIN_SSE_ETRUNC : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static trace_t whole, other, ref;
    fuzz_input_t in;

    if (!fuzz_input(data, size, &in) || in.len > MAX_INPUT)
        return 0;
    /* Small buffers exercise skipping; 0 stands for the production size. */
    size_t cap = in.knob ? 2 + in.knob % 64 : LLMOIN_SSE_DEFAULT_EVENT_MAX;
    if (event_buf == NULL) {
        event_buf = malloc(LLMOIN_SSE_DEFAULT_EVENT_MAX);
        FUZZ_CHECK(event_buf != NULL, "out of memory");
    }

    reference(in.data, in.len, cap, &ref);
    run(in.data, in.len, cap, NULL, 0, &whole);
    check_same(&ref, &whole, "differs from the reference parser");
    run(in.data, in.len, cap, in.cuts, 1, &other);
    check_same(&whole, &other, "split in two changes the events");
    run(in.data, in.len, cap, in.cuts, 2, &other);
    check_same(&whole, &other, "split in three changes the events");
    run_bytewise(in.data, in.len, cap, &other);
    check_same(&whole, &other, "byte-wise feeding changes the events");
    return 0;
}
