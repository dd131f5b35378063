/*
 * stream_usage: see stream_usage.h. A chunk is small and complete in memory
 * once sse.c hands it over, so it is examined with the one-shot helpers of
 * json_scan (a few passes over a few hundred bytes), never a tree.
 */
#include "stream_usage.h"

#include <string.h>

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_done_marker(const char *v, size_t len)
{
    while (len > 0 && is_ws(*v)) {
        v++;
        len--;
    }
    while (len > 0 && is_ws(v[len - 1]))
        len--;
    return len == 6 && memcmp(v, "[DONE]", 6) == 0;
}

static bool present(llmoin_json_span_t v)
{
    return v.ptr != NULL && !llmoin_json_is_null(v.ptr, v.len);
}

/* Spans are exact values, so "" is the only empty string. */
static bool nonempty_string(llmoin_json_span_t v)
{
    return v.ptr != NULL && v.len > 2 && v.ptr[0] == '"';
}

static bool nonneg_int(llmoin_json_span_t v, int64_t *out)
{
    return v.ptr != NULL && llmoin_json_parse_int64(v.ptr, v.len, out) == 0 &&
           *out >= 0;
}

/* llama.cpp's timings count only the prompt tokens it had to evaluate in
 * prompt_n; cache_n are the ones reused from its KV cache. */
static bool usage_from_timings(llmoin_json_span_t t, llmoin_usage_t *u)
{
    static const char *const keys[] = {"prompt_n", "predicted_n", "cache_n"};
    llmoin_json_span_t v[3];
    int64_t prompt, predicted, cached = 0;

    if (llmoin_json_get_top(t.ptr, t.len, keys, 3, v) < 0 ||
        !nonneg_int(v[0], &prompt) || !nonneg_int(v[1], &predicted))
        return false;
    if (v[2].ptr != NULL && !nonneg_int(v[2], &cached))
        cached = 0;
    if (prompt > INT64_MAX - cached || prompt + cached > INT64_MAX - predicted)
        return false;
    u->prompt_tokens = prompt + cached;
    u->completion_tokens = predicted;
    u->total_tokens = u->prompt_tokens + predicted;
    u->present = true;
    return true;
}

static void classify_delta(llmoin_json_span_t delta, unsigned *flags)
{
    static const char *const keys[] = {"content", "reasoning_content",
                                       "reasoning"};
    llmoin_json_span_t v[3];

    if (delta.ptr == NULL || delta.ptr[0] != '{' ||
        llmoin_json_get_top(delta.ptr, delta.len, keys, 3, v) < 0)
        return;
    if (nonempty_string(v[0]))
        *flags |= LLMOIN_STREAM_CONTENT;
    if (nonempty_string(v[1]) || nonempty_string(v[2]))
        *flags |= LLMOIN_STREAM_REASONING;
}

/* Returns whether choices is empty; a malformed one flags the event. */
static bool classify_choices(llmoin_json_span_t choices, unsigned *flags)
{
    static const char *const keys[] = {"delta", "text"};
    llmoin_json_span_t first, v[2];

    if (!present(choices))
        return true;
    if (llmoin_json_array_first(choices.ptr, choices.len, &first) < 0) {
        *flags |= LLMOIN_STREAM_BAD;
        return false;
    }
    if (first.ptr == NULL)
        return true;
    /* Other shapes of choices[0] are not ours to judge: no content. */
    if (first.ptr[0] == '{' &&
        llmoin_json_get_top(first.ptr, first.len, keys, 2, v) == 0) {
        classify_delta(v[0], flags);
        if (nonempty_string(v[1]))
            *flags |= LLMOIN_STREAM_CONTENT;
    }
    return false;
}

static void classify_usage(llmoin_json_span_t usage, llmoin_json_span_t timings,
                           llmoin_stream_event_t *ev)
{
    if (present(usage)) {
        if (llmoin_usage_parse(usage.ptr, usage.len, &ev->usage) == 0)
            ev->flags |= LLMOIN_STREAM_USAGE;
        else
            ev->flags |= LLMOIN_STREAM_BAD;
        return;
    }
    if (present(timings) && usage_from_timings(timings, &ev->usage))
        ev->flags |= LLMOIN_STREAM_USAGE | LLMOIN_STREAM_TIMINGS;
}

void llmoin_stream_classify(const char *data, size_t len,
                            llmoin_stream_event_t *ev)
{
    static const char *const keys[] = {"usage", "choices", "timings", "error"};
    llmoin_json_span_t v[4];

    memset(ev, 0, sizeof *ev);
    if (data == NULL)
        return;
    if (is_done_marker(data, len)) {
        ev->flags = LLMOIN_STREAM_DONE;
        return;
    }
    if (llmoin_json_get_top(data, len, keys, 4, v) < 0) {
        ev->flags = LLMOIN_STREAM_BAD;
        return;
    }
    classify_usage(v[0], v[2], ev);
    bool no_choices = classify_choices(v[1], &ev->flags);
    if (present(v[3]))
        ev->flags |= LLMOIN_STREAM_ERROR;
    if ((ev->flags & LLMOIN_STREAM_USAGE) && no_choices &&
        !(ev->flags & (LLMOIN_STREAM_ERROR | LLMOIN_STREAM_BAD)))
        ev->flags |= LLMOIN_STREAM_USAGE_ONLY;
}

/* ---- stream tracker ---- */

int llmoin_stream_usage_init(llmoin_stream_usage_t *s, char *buf, size_t cap)
{
    if (s == NULL)
        return LLMOIN_SSE_EINVAL;
    memset(s, 0, sizeof *s);
    return llmoin_sse_init(&s->sse, buf, cap);
}

int llmoin_stream_usage_feed(llmoin_stream_usage_t *s, const void *data,
                             size_t len)
{
    return s ? llmoin_sse_feed(&s->sse, data, len) : LLMOIN_SSE_EINVAL;
}

static void account(llmoin_stream_usage_t *s, const llmoin_stream_event_t *ev)
{
    unsigned f = ev->flags;

    s->events++;
    if (f & LLMOIN_STREAM_DONE)
        s->done = true;
    if (f & LLMOIN_STREAM_USAGE) {
        llmoin_usage_source_t src = (f & LLMOIN_STREAM_TIMINGS)
                                        ? LLMOIN_USAGE_SOURCE_TIMINGS
                                        : LLMOIN_USAGE_SOURCE_USAGE;
        if (src >= s->usage_source) {
            s->usage = ev->usage;
            s->usage_source = src;
        }
    }
    s->content_chunks += !!(f & LLMOIN_STREAM_CONTENT);
    s->reasoning_chunks += !!(f & LLMOIN_STREAM_REASONING);
    s->usage_only_chunks += !!(f & LLMOIN_STREAM_USAGE_ONLY);
    s->error_chunks += !!(f & LLMOIN_STREAM_ERROR);
    s->bad_events += !!(f & LLMOIN_STREAM_BAD);
    s->skipped_events += !!(f & LLMOIN_STREAM_SKIPPED);
}

int llmoin_stream_usage_next(llmoin_stream_usage_t *s,
                             llmoin_stream_event_t *ev)
{
    llmoin_sse_event_t se;

    if (s == NULL || ev == NULL)
        return LLMOIN_SSE_EINVAL;
    int rc = llmoin_sse_next(&s->sse, &se);
    if (rc <= 0)
        return rc;
    if (se.kind == LLMOIN_SSE_SKIPPED) {
        memset(ev, 0, sizeof *ev);
        ev->flags = LLMOIN_STREAM_SKIPPED;
    } else {
        llmoin_stream_classify(se.data, se.data_len, ev);
    }
    ev->start = se.start;
    ev->end = se.end;
    account(s, ev);
    return 1;
}

static int drain(llmoin_stream_usage_t *s)
{
    llmoin_stream_event_t ev;
    int rc;

    while ((rc = llmoin_stream_usage_next(s, &ev)) == 1)
        ;
    return rc;
}

int llmoin_stream_usage_consume(llmoin_stream_usage_t *s, const void *data,
                                size_t len)
{
    int rc = llmoin_stream_usage_feed(s, data, len);
    return rc < 0 ? rc : drain(s);
}

int llmoin_stream_usage_finish(llmoin_stream_usage_t *s)
{
    return s ? llmoin_sse_finish(&s->sse) : LLMOIN_SSE_EINVAL;
}

/* ---- non-streaming bodies ---- */

int llmoin_body_usage_init(llmoin_body_usage_t *b)
{
    static const char *const keys[] = {"usage", "timings"};

    if (b == NULL)
        return LLMOIN_JSON_EINVAL;
    return llmoin_json_scan_init(&b->scan, keys, 2);
}

int llmoin_body_usage_feed(llmoin_body_usage_t *b, const void *data,
                           size_t len)
{
    return b ? llmoin_json_scan_feed(&b->scan, data, len) : LLMOIN_JSON_EINVAL;
}

static llmoin_json_span_t slot_span(const llmoin_json_slot_t *slot)
{
    llmoin_json_span_t v = {NULL, 0};

    if (slot->status == LLMOIN_JSON_FOUND) {
        v.ptr = slot->buf;
        v.len = slot->len;
    }
    return v;
}

int llmoin_body_usage_finish(llmoin_body_usage_t *b, llmoin_usage_t *out,
                             llmoin_usage_source_t *source)
{
    llmoin_usage_source_t src = LLMOIN_USAGE_SOURCE_NONE;
    int rc;

    if (b == NULL || out == NULL)
        return LLMOIN_JSON_EINVAL;
    memset(out, 0, sizeof *out);
    int doc_rc = llmoin_json_scan_finish(&b->scan);
    const llmoin_json_slot_t *usage = llmoin_json_scan_slot(&b->scan, 0);
    llmoin_json_span_t u = slot_span(usage);
    llmoin_json_span_t t = slot_span(llmoin_json_scan_slot(&b->scan, 1));

    if (usage->status == LLMOIN_JSON_TOO_LONG) {
        rc = LLMOIN_JSON_ETOOLONG;
    } else if (present(u)) {
        rc = llmoin_usage_parse(u.ptr, u.len, out);
        src = rc == 0 ? LLMOIN_USAGE_SOURCE_USAGE : src;
    } else {
        rc = 0;
        if (present(t) && usage_from_timings(t, out))
            src = LLMOIN_USAGE_SOURCE_TIMINGS;
    }
    if (source)
        *source = src;
    return rc < 0 ? rc : doc_rc;
}
