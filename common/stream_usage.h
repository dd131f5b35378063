/*
 * stream_usage: token accounting for chat/completions responses, streamed
 * (SSE, see sse.h) or not (one JSON body, see json_scan.h).
 *
 * Streaming: feed the response bytes in any split; next() yields one
 * llmoin_stream_event_t per SSE event with its span and what it carried, and
 * the tracker accumulates:
 *   - usage: the last usage reported by any chunk. A chunk reports usage by a
 *     non-null top-level `usage` object (OpenAI, vLLM, llama.cpp), or failing
 *     that by llama.cpp `timings` (prompt_tokens = prompt_n + cache_n,
 *     completion_tokens = predicted_n). A timings-derived value never
 *     replaces one from a real `usage` member.
 *   - done: whether `data: [DONE]` arrived (a stream without it was cut).
 *   - content_chunks: chunks with a non-empty string choices[0].delta.content
 *     (or choices[0].text, legacy completions), to estimate the tokens of a
 *     cut stream; reasoning_chunks likewise for delta.reasoning_content /
 *     delta.reasoning.
 *   - per event, LLMOIN_STREAM_USAGE_ONLY: the chunk carries usage, its
 *     `choices` is [] (or absent) and it has no `error`. Such a chunk carries
 *     nothing for the client but the usage, so the gateway can drop its span
 *     when it injected stream_options.include_usage itself.
 * Nothing here depends on one server: chunks are classified by content only.
 * Events that are not JSON objects, or whose usage/choices are malformed,
 * are flagged LLMOIN_STREAM_BAD and counted, not fatal. Oversized events
 * (see sse.h) are flagged LLMOIN_STREAM_SKIPPED and not inspected.
 *
 * Non-streaming: llmoin_body_usage_* scans one JSON response body, in any
 * split, for top-level `usage` (or `timings`), with the same rules.
 *
 * Memory: both state structs are embeddable and allocation-free; the stream
 * tracker uses an event buffer supplied by the caller (see llmoin_sse_init;
 * LLMOIN_SSE_DEFAULT_EVENT_MAX is a good size). Feeding follows sse.h: drain
 * next() until it returns 0 before feeding again.
 * Errors: negative LLMOIN_SSE_E* from the stream functions, LLMOIN_JSON_E*
 * from the body functions.
 */
#ifndef LLMOIN_STREAM_USAGE_H
#define LLMOIN_STREAM_USAGE_H

#include "json_scan.h"
#include "sse.h"
#include "usage.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    LLMOIN_STREAM_DONE = 1u << 0,       /* data: [DONE] */
    LLMOIN_STREAM_USAGE = 1u << 1,      /* ev.usage is set */
    LLMOIN_STREAM_TIMINGS = 1u << 2,    /* ... derived from llama.cpp timings */
    LLMOIN_STREAM_USAGE_ONLY = 1u << 3, /* usage and no choices: hideable */
    LLMOIN_STREAM_CONTENT = 1u << 4,    /* non-empty choices[0] content */
    LLMOIN_STREAM_REASONING = 1u << 5,  /* non-empty choices[0] reasoning */
    LLMOIN_STREAM_ERROR = 1u << 6,      /* non-null top-level `error` */
    LLMOIN_STREAM_BAD = 1u << 7,        /* not a JSON object / bad members */
    LLMOIN_STREAM_SKIPPED = 1u << 8,    /* too large to inspect */
};

typedef enum {
    LLMOIN_USAGE_SOURCE_NONE = 0,
    LLMOIN_USAGE_SOURCE_TIMINGS = 1,
    LLMOIN_USAGE_SOURCE_USAGE = 2,
} llmoin_usage_source_t;

typedef struct {
    uint64_t start, end;  /* the event's span in the stream, see sse.h */
    unsigned flags;       /* LLMOIN_STREAM_* */
    llmoin_usage_t usage; /* what this event reported (present if USAGE) */
} llmoin_stream_event_t;

typedef struct {
    llmoin_sse_t sse;
    llmoin_usage_t usage;               /* last reported, see above */
    llmoin_usage_source_t usage_source;
    bool done;                          /* [DONE] seen */
    uint64_t events;                    /* SSE events, skipped included */
    uint64_t content_chunks;
    uint64_t reasoning_chunks;
    uint64_t usage_only_chunks;
    uint64_t error_chunks;
    uint64_t bad_events;
    uint64_t skipped_events;
} llmoin_stream_usage_t;

/* Resets s; events of up to cap - 1 bytes are buffered in buf. */
int llmoin_stream_usage_init(llmoin_stream_usage_t *s, char *buf, size_t cap);

/* Hands over the next response bytes; then drain next(). */
int llmoin_stream_usage_feed(llmoin_stream_usage_t *s, const void *data,
                             size_t len);

/* 1: *ev describes the next event (the tracker is already updated);
 * 0: need more input; negative: error. */
int llmoin_stream_usage_next(llmoin_stream_usage_t *s,
                             llmoin_stream_event_t *ev);

/* feed() + drain next(), for callers that only want the totals. */
int llmoin_stream_usage_consume(llmoin_stream_usage_t *s, const void *data,
                                size_t len);

/* End of the response: 0 or LLMOIN_SSE_ETRUNC (see llmoin_sse_finish).
 * Drain next() afterwards. */
int llmoin_stream_usage_finish(llmoin_stream_usage_t *s);

/* Classifies one complete SSE data payload (what next() does per event);
 * ev->start/end are left 0. */
void llmoin_stream_classify(const char *data, size_t len,
                            llmoin_stream_event_t *ev);

/* ---- non-streaming responses ---- */

typedef struct {
    llmoin_json_scan_t scan;
} llmoin_body_usage_t;

int llmoin_body_usage_init(llmoin_body_usage_t *b);

/* Returns 0 or the (sticky) JSON error of the body so far. */
int llmoin_body_usage_feed(llmoin_body_usage_t *b, const void *data,
                           size_t len);

/* End of the body. *out gets the usage whenever a complete top-level usage
 * (or timings) value was seen, even if the rest of the body is bad;
 * out->present is false if there was none or it was null. Returns 0, the
 * error of the usage value (ETOOLONG if it exceeded LLMOIN_JSON_VALUE_MAX),
 * or else the body's JSON error. *source (optional) tells where it came
 * from. */
int llmoin_body_usage_finish(llmoin_body_usage_t *b, llmoin_usage_t *out,
                             llmoin_usage_source_t *source);

#endif
