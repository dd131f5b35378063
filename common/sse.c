/*
 * sse: see sse.h. One state machine over lines; data bytes go straight from
 * the fed buffer into the event buffer, so no line buffer is needed. A "\r"
 * only ends its line when the next byte is known, so that the span of an
 * event ended by "\r\n" always includes the "\n".
 */
#include "sse.h"

#include <string.h>

enum {
    L_START,   /* at the first byte of a line */
    L_NAME,    /* inside a field name */
    L_DATA_SP, /* right after "data:" (one space may be skipped) */
    L_DATA,    /* inside a data value */
    L_IGNORE,  /* comment or a field we ignore */
};

static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};

int llmoin_sse_init(llmoin_sse_t *p, char *buf, size_t cap)
{
    if (p == NULL || buf == NULL || cap < 2)
        return LLMOIN_SSE_EINVAL;
    memset(p, 0, sizeof *p);
    p->buf = buf;
    p->cap = cap;
    p->state = L_START;
    return 0;
}

static void append(llmoin_sse_t *p, const void *src, size_t n)
{
    p->data_size += n;
    if (p->skipping)
        return;
    if (n > p->cap - 1 - p->data_len) {
        p->skipping = true;
        p->data_len = 0;
        return;
    }
    memcpy(p->buf + p->data_len, src, n);
    p->data_len += n;
}

/* The spec appends value + "\n" per data line and strips the last "\n" at
 * dispatch; joining with a separator before every line but the first gives
 * the same payload without ever needing the extra byte. */
static void data_line_begin(llmoin_sse_t *p)
{
    if (p->has_data)
        append(p, "\n", 1);
    p->has_data = true;
}

static bool name_is_data(const llmoin_sse_t *p)
{
    return !p->name_bad && p->name_len == 4;
}

static void name_feed(llmoin_sse_t *p, unsigned char c)
{
    if (p->name_len >= 4 || c != (unsigned char)"data"[p->name_len])
        p->name_bad = 1;
    else
        p->name_len++;
}

static void dispatch(llmoin_sse_t *p, uint64_t end)
{
    if (p->has_data || p->skipping) {
        llmoin_sse_event_t *ev = &p->ev;
        ev->kind = p->skipping ? LLMOIN_SSE_SKIPPED : LLMOIN_SSE_DATA;
        ev->data = p->skipping ? NULL : p->buf;
        ev->data_len = p->skipping ? 0 : p->data_len;
        ev->size = p->data_size;
        ev->start = p->block_start;
        ev->end = end;
        if (!p->skipping)
            p->buf[p->data_len] = '\0';
        p->ready = true;
    }
    p->block_start = end;
    p->has_data = p->skipping = p->in_block = false;
    p->data_len = 0;
    p->data_size = 0;
}

static void line_end(llmoin_sse_t *p, uint64_t end)
{
    if (p->state == L_START)
        dispatch(p, end); /* blank line */
    else if (p->state == L_NAME && name_is_data(p))
        data_line_begin(p); /* "data" without a colon: empty value */
    p->state = L_START;
}

static size_t run_length(const unsigned char *in, size_t avail)
{
    size_t n = 0;

    while (n < avail && in[n] != '\r' && in[n] != '\n')
        n++;
    return n;
}

/* Handles non-line-break bytes starting at in[0]; returns bytes consumed. */
static size_t field_step(llmoin_sse_t *p, const unsigned char *in,
                         size_t avail)
{
    size_t n;

    switch (p->state) {
    case L_START:
        p->in_block = true;
        p->name_len = 0;
        p->name_bad = 0;
        p->state = in[0] == ':' ? L_IGNORE : L_NAME;
        if (p->state == L_NAME)
            name_feed(p, in[0]);
        return 1;
    case L_NAME:
        if (in[0] != ':') {
            name_feed(p, in[0]);
            return 1;
        }
        if (name_is_data(p))
            data_line_begin(p);
        p->state = name_is_data(p) ? L_DATA_SP : L_IGNORE;
        return 1;
    case L_DATA_SP:
        p->state = L_DATA;
        if (in[0] == ' ')
            return 1;
        /* fall through */
    case L_DATA:
        n = run_length(in, avail);
        append(p, in, n);
        return n;
    default: /* L_IGNORE */
        return run_length(in, avail);
    }
}

/* Replays a partial BOM match that turned out to be payload. The bytes are
 * never line breaks, so they cannot dispatch anything. */
static void bom_replay(llmoin_sse_t *p)
{
    uint8_t n = p->bom;

    p->bom = 3;
    for (uint8_t i = 0; i < n; i++)
        field_step(p, &bom[i], 1);
}

static size_t bom_step(llmoin_sse_t *p, unsigned char c)
{
    if (c == bom[p->bom]) {
        if (++p->bom == 3)
            p->block_start = p->offset + 1;
        return 1;
    }
    bom_replay(p);
    return 0;
}

/* Processes input at in[in_pos]; returns bytes consumed (0: state changed,
 * look at the same byte again). */
static size_t step(llmoin_sse_t *p)
{
    const unsigned char *in = p->in + p->in_pos;
    size_t avail = p->in_len - p->in_pos;

    if (p->bom < 3)
        return bom_step(p, in[0]);
    if (p->cr_pending) {
        p->cr_pending = false;
        if (in[0] == '\n') {
            line_end(p, p->offset + 1);
            return 1;
        }
        line_end(p, p->offset);
        return 0;
    }
    if (in[0] == '\r') {
        p->cr_pending = true;
        return 1;
    }
    if (in[0] == '\n') {
        line_end(p, p->offset + 1);
        return 1;
    }
    return field_step(p, in, avail);
}

int llmoin_sse_feed(llmoin_sse_t *p, const void *data, size_t len)
{
    if (p == NULL || (data == NULL && len > 0) || p->finished)
        return LLMOIN_SSE_EINVAL;
    if (p->in_pos < p->in_len || p->ready)
        return LLMOIN_SSE_EBUSY;
    p->in = data;
    p->in_len = len;
    p->in_pos = 0;
    return 0;
}

int llmoin_sse_next(llmoin_sse_t *p, llmoin_sse_event_t *ev)
{
    if (p == NULL || ev == NULL)
        return LLMOIN_SSE_EINVAL;
    for (;;) {
        if (p->ready) {
            p->ready = false;
            *ev = p->ev;
            return 1;
        }
        if (p->in_pos >= p->in_len) {
            p->in = NULL;
            p->in_len = p->in_pos = 0;
            return 0;
        }
        size_t n = step(p);
        p->in_pos += n;
        p->offset += n;
    }
}

int llmoin_sse_finish(llmoin_sse_t *p)
{
    if (p == NULL)
        return LLMOIN_SSE_EINVAL;
    if (!p->finished) {
        if (p->in_pos < p->in_len || p->ready)
            return LLMOIN_SSE_EBUSY;
        p->finished = true;
        if (p->bom < 3)
            bom_replay(p);
        if (p->cr_pending) {
            p->cr_pending = false;
            line_end(p, p->offset);
        }
    }
    return p->in_block ? LLMOIN_SSE_ETRUNC : 0;
}

uint64_t llmoin_sse_offset(const llmoin_sse_t *p)
{
    return p ? p->offset : 0;
}

const char *llmoin_sse_strerror(int err)
{
    switch (err) {
    case LLMOIN_SSE_OK:
        return "ok";
    case LLMOIN_SSE_EINVAL:
        return "invalid argument";
    case LLMOIN_SSE_EBUSY:
        return "previous input not fully consumed by next()";
    case LLMOIN_SSE_ETRUNC:
        return "event stream ended inside an event";
    default:
        return "unknown event stream error";
    }
}
