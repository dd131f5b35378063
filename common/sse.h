/*
 * sse: push parser for text/event-stream (WHATWG HTML, "Server-sent events",
 * interpreting an event stream), reduced to what the gateway needs: the data
 * payload of each event and the event's byte span in the stream.
 *
 * Usage
 *     llmoin_sse_init(&p, buf, sizeof buf);
 *     for each received buffer:
 *         llmoin_sse_feed(&p, data, len);
 *         while ((rc = llmoin_sse_next(&p, &ev)) == 1) use(&ev);
 *     llmoin_sse_finish(&p);  then drain next() once more.
 *
 * Promises
 *   - Lines end in "\r\n", "\n" or "\r", wherever the buffers split. A
 *     leading UTF-8 BOM is skipped. Lines starting with ':' are comments.
 *     "data" fields (value after ':' minus one optional space; "data" without
 *     a colon is an empty value) are joined with "\n". All other fields
 *     (event, id, retry, unknown) are ignored. A blank line dispatches the
 *     event if at least one data line was seen; per the spec a block without
 *     data lines dispatches nothing.
 *   - Every event comes with its absolute span [start, end) in the stream:
 *     start = first byte of its first line (comments included), end = after
 *     the blank line that terminated it (after the "\n" of "\r\n"). Bytes
 *     that belong to no event (blank lines, data-less blocks) are in no span.
 *     Dropping one span from the stream leaves a valid stream.
 *   - Because "\r" may be followed by "\n" in the next buffer, an event
 *     terminated by a lone "\r" at the very end of a buffer is reported when
 *     the next byte arrives or at finish().
 *   - The same events and spans come out whatever the buffer split.
 *   - An event whose payload would exceed cap - 1 bytes is reported as
 *     LLMOIN_SSE_SKIPPED (with its span and full size, no data); the parser
 *     stays in sync and continues with the next event. Not an error.
 *   - At the end of the stream an unterminated block is discarded (spec);
 *     finish() says so with LLMOIN_SSE_ETRUNC.
 *
 * Memory: the caller owns the event buffer (cap bytes, one of which holds a
 * terminating NUL) and the state struct, which is embeddable. The parser
 * reads the buffer passed to feed() only inside the following next() calls:
 * the caller must drain next() until it returns 0 before feeding again (or
 * reusing that buffer); partial lines are copied, never referenced. ev.data
 * points into the event buffer and is valid until the next call on p.
 *
 * Errors: negative LLMOIN_SSE_E* (misuse only: any byte sequence is a valid
 * event stream), llmoin_sse_strerror() describes them.
 */
#ifndef LLMOIN_SSE_H
#define LLMOIN_SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LLMOIN_SSE_DEFAULT_EVENT_MAX (64 * 1024)

enum {
    LLMOIN_SSE_OK = 0,
    LLMOIN_SSE_EINVAL = -1, /* NULL argument, cap < 2, feed after finish */
    LLMOIN_SSE_EBUSY = -2,  /* feed/finish before next() returned 0 */
    LLMOIN_SSE_ETRUNC = -3, /* finish(): stream ended inside a block */
};

typedef enum {
    LLMOIN_SSE_DATA = 1, /* data/data_len hold the payload */
    LLMOIN_SSE_SKIPPED,  /* payload larger than the buffer: data == NULL */
} llmoin_sse_kind_t;

typedef struct {
    llmoin_sse_kind_t kind;
    const char *data; /* NUL-terminated payload (may contain NULs) */
    size_t data_len;
    uint64_t size;    /* payload size; > data_len only when SKIPPED */
    uint64_t start;   /* span of the event in the stream: [start, end) */
    uint64_t end;
} llmoin_sse_event_t;

/* Fields are private. */
typedef struct {
    char *buf;
    size_t cap;
    size_t data_len;
    uint64_t data_size;
    const unsigned char *in; /* set by feed, dropped when next() returns 0 */
    size_t in_len, in_pos;
    uint64_t offset;      /* absolute offset of in[in_pos] */
    uint64_t block_start; /* where the current block's first line began */
    uint8_t state;
    uint8_t name_len, name_bad;
    uint8_t bom;
    bool cr_pending, in_block, has_data, skipping, ready, finished;
    llmoin_sse_event_t ev; /* the dispatched event next() will return */
} llmoin_sse_t;

/* Resets p to parse a new stream with events of at most cap - 1 bytes
 * stored in buf (cap >= 2). */
int llmoin_sse_init(llmoin_sse_t *p, char *buf, size_t cap);

/* Hands the parser the next len bytes; consumed by next(). */
int llmoin_sse_feed(llmoin_sse_t *p, const void *data, size_t len);

/* 1: *ev is the next complete event; 0: all fed bytes consumed, feed more;
 * negative: error. */
int llmoin_sse_next(llmoin_sse_t *p, llmoin_sse_event_t *ev);

/* Declares the end of the stream. 0, or LLMOIN_SSE_ETRUNC if the stream did
 * not end on a blank line (the unterminated block, and the event it may have
 * been, is discarded). Call next() afterwards: a final "\r" may have
 * completed one more event. Idempotent. */
int llmoin_sse_finish(llmoin_sse_t *p);

/* Absolute number of bytes consumed so far. */
uint64_t llmoin_sse_offset(const llmoin_sse_t *p);

const char *llmoin_sse_strerror(int err);

#endif
