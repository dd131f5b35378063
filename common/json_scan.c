/*
 * json_scan: see json_scan.h. The scanner is a byte-driven state machine;
 * every handler returns how many bytes it consumed (0 means "re-dispatch this
 * byte in the new state", used where a number ends) or a negative error.
 * Captures are copied as byte ranges of the fed buffer, not byte by byte.
 */
#include "json_scan.h"

#include <stddef.h>
#include <string.h>

enum {
    S_START,     /* before the top-level value */
    S_VALUE,     /* a value is required (after ':' or ',' in an array) */
    S_ARR_FIRST, /* after '[': a value or ']' */
    S_OBJ_FIRST, /* after '{': a key or '}' */
    S_OBJ_KEY,   /* after ',' in an object: a key is required */
    S_COLON,     /* after a key */
    S_AFTER,     /* after a value inside a container */
    S_STR,
    S_STR_ESC,
    S_STR_U,
    S_NUM_MINUS,
    S_NUM_ZERO,
    S_NUM_INT,
    S_NUM_DOT,
    S_NUM_FRAC,
    S_NUM_E,
    S_NUM_ESIGN,
    S_NUM_EXP,
    S_LIT,
    S_DONE, /* top-level value complete: only whitespace may follow */
};

static const char *const literals[] = {"true", "false", "null"};

/* The buffer of the current feed() call; never stored in the state. */
typedef struct {
    const unsigned char *buf;
    size_t len;
    uint64_t base; /* absolute offset of buf[0] */
    size_t cap_from; /* first byte of buf not yet copied into the capture */
} chunk_t;

static bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t llmoin_json_utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static void reset(llmoin_json_scan_t *s, uint8_t top)
{
    /* The capture buffers are large and need no clearing: len says what is
     * valid. Everything before them is reset. */
    memset(s, 0, offsetof(llmoin_json_scan_t, slots));
    for (size_t i = 0; i < LLMOIN_JSON_MAX_KEYS; i++) {
        s->slots[i].status = LLMOIN_JSON_ABSENT;
        s->slots[i].offset = 0;
        s->slots[i].length = 0;
        s->slots[i].len = 0;
    }
    s->top = top;
    s->pending = -1;
    s->capturing = -1;
}

static int set_keys(llmoin_json_scan_t *s, const char *const *keys,
                    size_t nkeys)
{
    if (nkeys > LLMOIN_JSON_MAX_KEYS || (nkeys > 0 && keys == NULL))
        return LLMOIN_JSON_EINVAL;
    for (size_t i = 0; i < nkeys; i++) {
        if (keys[i] == NULL)
            return LLMOIN_JSON_EINVAL;
        size_t n = strlen(keys[i]);
        if (n > LLMOIN_JSON_KEY_MAX)
            return LLMOIN_JSON_EINVAL;
        memcpy(s->watch[i], keys[i], n);
        s->watch_len[i] = (uint8_t)n;
    }
    s->nkeys = (uint8_t)nkeys;
    return 0;
}

int llmoin_json_scan_init(llmoin_json_scan_t *s, const char *const *keys,
                          size_t nkeys)
{
    if (s == NULL)
        return LLMOIN_JSON_EINVAL;
    reset(s, '{');
    int rc = set_keys(s, keys, nkeys);
    if (rc < 0)
        s->err = rc;
    return rc;
}

/* ---- captures ---- */

static void capture_copy(llmoin_json_scan_t *s, chunk_t *c, size_t end)
{
    llmoin_json_slot_t *slot = &s->slots[s->capturing];
    size_t n = end - c->cap_from;

    if (!s->spans_only && !s->cap_overflow) {
        if (n > LLMOIN_JSON_VALUE_MAX - slot->len) {
            s->cap_overflow = 1;
            slot->len = 0;
        } else {
            memcpy(slot->buf + slot->len, c->buf + c->cap_from, n);
            slot->len += n;
        }
    }
    c->cap_from = end;
}

static void capture_begin(llmoin_json_scan_t *s, chunk_t *c, size_t at)
{
    llmoin_json_slot_t *slot = &s->slots[s->pending];

    s->capturing = s->pending;
    s->cap_overflow = 0;
    slot->status = LLMOIN_JSON_PARTIAL;
    slot->offset = c->base + at;
    slot->length = 0;
    slot->len = 0;
    c->cap_from = at;
}

static void capture_end(llmoin_json_scan_t *s, chunk_t *c, size_t end)
{
    llmoin_json_slot_t *slot = &s->slots[s->capturing];

    capture_copy(s, c, end);
    slot->length = c->base + end - slot->offset;
    slot->status = s->cap_overflow ? LLMOIN_JSON_TOO_LONG : LLMOIN_JSON_FOUND;
    s->capturing = -1;
}

/* ---- structure ---- */

static bool top_is_array(const llmoin_json_scan_t *s)
{
    unsigned d = s->depth - 1u;
    return (s->kinds[d >> 3] >> (d & 7)) & 1;
}

static int push(llmoin_json_scan_t *s, bool array)
{
    if (s->depth >= LLMOIN_JSON_MAX_DEPTH)
        return LLMOIN_JSON_EDEPTH;
    unsigned d = s->depth++;
    uint8_t bit = (uint8_t)(1u << (d & 7));
    if (array)
        s->kinds[d >> 3] |= bit;
    else
        s->kinds[d >> 3] &= (uint8_t)~bit;
    s->state = array ? S_ARR_FIRST : S_OBJ_FIRST;
    /* In array mode the watched "key" is element 0 of the top array. */
    if (array && s->depth == 1 && s->top == '[')
        s->pending = 0;
    return 1;
}

/* A value ended just before buf[end]. */
static void value_done(llmoin_json_scan_t *s, chunk_t *c, size_t end)
{
    if (s->depth == 0) {
        s->state = S_DONE;
        s->done = 1;
        return;
    }
    if (s->depth == 1 && s->capturing >= 0)
        capture_end(s, c, end);
    s->state = S_AFTER;
}

static int pop(llmoin_json_scan_t *s, chunk_t *c, size_t i, bool array)
{
    if (top_is_array(s) != array)
        return LLMOIN_JSON_ESYNTAX;
    s->depth--;
    value_done(s, c, i + 1);
    return 1;
}

static int begin_string(llmoin_json_scan_t *s, bool key)
{
    s->state = S_STR;
    s->str_is_key = key;
    s->str_decode = key && s->depth == 1 && s->top == '{' && s->nkeys > 0;
    s->key_len = 0;
    s->key_bad = 0;
    s->hi_surrogate = 0;
    return 1;
}

static int begin_value(llmoin_json_scan_t *s, chunk_t *c, size_t i)
{
    unsigned char ch = c->buf[i];

    if (s->depth == 1 && s->pending >= 0)
        capture_begin(s, c, i);
    s->pending = -1;
    switch (ch) {
    case '{':
        return push(s, false);
    case '[':
        return push(s, true);
    case '"':
        return begin_string(s, false);
    case '-':
        s->state = S_NUM_MINUS;
        return 1;
    case '0':
        s->state = S_NUM_ZERO;
        return 1;
    case 't':
    case 'f':
    case 'n':
        s->lit = ch == 't' ? 0 : ch == 'f' ? 1 : 2;
        s->lit_pos = 1;
        s->state = S_LIT;
        return 1;
    default:
        if (ch >= '1' && ch <= '9') {
            s->state = S_NUM_INT;
            return 1;
        }
        return LLMOIN_JSON_ESYNTAX;
    }
}

static int on_start(llmoin_json_scan_t *s, chunk_t *c, size_t i)
{
    unsigned char ch = c->buf[i];

    if (ch == s->top)
        return push(s, ch == '[');
    return s->top == '{' ? LLMOIN_JSON_ENOTOBJ : LLMOIN_JSON_ETYPE;
}

static int on_after(llmoin_json_scan_t *s, chunk_t *c, size_t i)
{
    switch (c->buf[i]) {
    case ',':
        s->state = top_is_array(s) ? S_VALUE : S_OBJ_KEY;
        return 1;
    case '}':
        return pop(s, c, i, false);
    case ']':
        return pop(s, c, i, true);
    default:
        return LLMOIN_JSON_ESYNTAX;
    }
}

static int on_structure(llmoin_json_scan_t *s, chunk_t *c, size_t i)
{
    unsigned char ch = c->buf[i];

    if (is_ws(ch))
        return 1;
    switch (s->state) {
    case S_START:
        return on_start(s, c, i);
    case S_VALUE:
        return begin_value(s, c, i);
    case S_ARR_FIRST:
        if (ch == ']') {
            s->pending = -1;
            return pop(s, c, i, true);
        }
        return begin_value(s, c, i);
    case S_OBJ_FIRST:
        if (ch == '}')
            return pop(s, c, i, false);
        /* fall through */
    case S_OBJ_KEY:
        return ch == '"' ? begin_string(s, true) : LLMOIN_JSON_ESYNTAX;
    case S_COLON:
        if (ch != ':')
            return LLMOIN_JSON_ESYNTAX;
        s->state = S_VALUE;
        return 1;
    case S_AFTER:
        return on_after(s, c, i);
    default: /* S_DONE */
        return LLMOIN_JSON_ETRAILING;
    }
}

/* ---- strings ---- */

static void key_put(llmoin_json_scan_t *s, const char *p, size_t n)
{
    if (s->hi_surrogate) {
        s->key_bad = 1; /* a high surrogate not followed by a low one */
        s->hi_surrogate = 0;
    }
    if (n > (size_t)(LLMOIN_JSON_KEY_MAX - s->key_len)) {
        s->key_bad = 1; /* longer than any watched key: cannot match */
        return;
    }
    memcpy(s->key + s->key_len, p, n);
    s->key_len = (uint8_t)(s->key_len + n);
}

static void key_put_cp(llmoin_json_scan_t *s, uint32_t cp)
{
    char utf8[4];

    if (cp >= 0xDC00 && cp <= 0xDFFF && s->hi_surrogate) {
        cp = 0x10000 + ((s->hi_surrogate - 0xD800) << 10) + (cp - 0xDC00);
        s->hi_surrogate = 0;
    } else if (cp >= 0xD800 && cp <= 0xDBFF) {
        key_put(s, "", 0); /* flags an unpaired earlier high surrogate */
        s->hi_surrogate = cp;
        return;
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        s->key_bad = 1;
        return;
    }
    key_put(s, utf8, llmoin_json_utf8_encode(cp, utf8));
}

static void key_done(llmoin_json_scan_t *s)
{
    s->pending = -1;
    if (!s->str_decode || s->key_bad || s->hi_surrogate)
        return;
    for (uint8_t k = 0; k < s->nkeys; k++) {
        if (s->watch_len[k] == s->key_len &&
            memcmp(s->watch[k], s->key, s->key_len) == 0) {
            s->pending = (int8_t)k;
            return;
        }
    }
}

static int end_string(llmoin_json_scan_t *s, chunk_t *c, size_t i)
{
    if (s->str_is_key) {
        key_done(s);
        s->state = S_COLON;
    } else {
        value_done(s, c, i + 1);
    }
    return 1;
}

/* Plain string bytes: the hot path, so it consumes a whole run at once. */
static int on_str(llmoin_json_scan_t *s, chunk_t *c, size_t i)
{
    size_t j = i;
    size_t stop = c->len - i > (1u << 30) ? i + (1u << 30) : c->len;

    while (j < stop && c->buf[j] != '"' && c->buf[j] != '\\' &&
           c->buf[j] >= 0x20)
        j++;
    if (j > i) {
        if (s->str_decode)
            key_put(s, (const char *)c->buf + i, j - i);
        return (int)(j - i);
    }
    if (c->buf[i] == '"')
        return end_string(s, c, i);
    if (c->buf[i] == '\\') {
        s->state = S_STR_ESC;
        return 1;
    }
    return LLMOIN_JSON_ESYNTAX; /* raw control character */
}

static int on_str_esc(llmoin_json_scan_t *s, unsigned char ch)
{
    static const char from[] = "\"\\/bfnrt";
    static const char to[] = "\"\\/\b\f\n\r\t";
    const char *hit = ch ? strchr(from, ch) : NULL;

    if (ch == 'u') {
        s->state = S_STR_U;
        s->hex_left = 4;
        s->cp = 0;
        return 1;
    }
    if (hit == NULL)
        return LLMOIN_JSON_ESYNTAX;
    if (s->str_decode)
        key_put(s, &to[hit - from], 1);
    s->state = S_STR;
    return 1;
}

static int on_str_u(llmoin_json_scan_t *s, unsigned char ch)
{
    int v = hex_value(ch);

    if (v < 0)
        return LLMOIN_JSON_ESYNTAX;
    s->cp = (s->cp << 4) | (uint32_t)v;
    if (--s->hex_left == 0) {
        if (s->str_decode)
            key_put_cp(s, s->cp);
        s->state = S_STR;
    }
    return 1;
}

/* ---- numbers and literals ---- */

static bool is_digit(unsigned char ch)
{
    return ch >= '0' && ch <= '9';
}

/* States where a number may legally stop. */
static bool number_can_end(uint8_t state)
{
    return state == S_NUM_ZERO || state == S_NUM_INT || state == S_NUM_FRAC ||
           state == S_NUM_EXP;
}

static int next_number_state(uint8_t state, unsigned char ch)
{
    bool digit = is_digit(ch);
    bool exp = ch == 'e' || ch == 'E';

    switch (state) {
    case S_NUM_MINUS:
        return ch == '0' ? S_NUM_ZERO : digit ? S_NUM_INT : -1;
    case S_NUM_ZERO:
        return ch == '.' ? S_NUM_DOT : exp ? S_NUM_E : -1;
    case S_NUM_INT:
        return digit ? S_NUM_INT : ch == '.' ? S_NUM_DOT : exp ? S_NUM_E : -1;
    case S_NUM_DOT:
        return digit ? S_NUM_FRAC : -1;
    case S_NUM_FRAC:
        return digit ? S_NUM_FRAC : exp ? S_NUM_E : -1;
    case S_NUM_E:
        return (ch == '+' || ch == '-') ? S_NUM_ESIGN : digit ? S_NUM_EXP : -1;
    default: /* S_NUM_ESIGN, S_NUM_EXP */
        return digit ? S_NUM_EXP : -1;
    }
}

static int on_number(llmoin_json_scan_t *s, chunk_t *c, size_t i)
{
    int next = next_number_state(s->state, c->buf[i]);

    if (next >= 0) {
        s->state = (uint8_t)next;
        return 1;
    }
    if (!number_can_end(s->state))
        return LLMOIN_JSON_ESYNTAX;
    value_done(s, c, i); /* the terminator is not part of the number */
    return 0;
}

static int on_literal(llmoin_json_scan_t *s, chunk_t *c, size_t i)
{
    const char *lit = literals[s->lit];

    if (c->buf[i] != (unsigned char)lit[s->lit_pos])
        return LLMOIN_JSON_ESYNTAX;
    if (lit[++s->lit_pos] == '\0')
        value_done(s, c, i + 1);
    return 1;
}

/* ---- driver ---- */

static int step(llmoin_json_scan_t *s, chunk_t *c, size_t i)
{
    switch (s->state) {
    case S_STR:
        return on_str(s, c, i);
    case S_STR_ESC:
        return on_str_esc(s, c->buf[i]);
    case S_STR_U:
        return on_str_u(s, c->buf[i]);
    case S_LIT:
        return on_literal(s, c, i);
    case S_NUM_MINUS:
    case S_NUM_ZERO:
    case S_NUM_INT:
    case S_NUM_DOT:
    case S_NUM_FRAC:
    case S_NUM_E:
    case S_NUM_ESIGN:
    case S_NUM_EXP:
        return on_number(s, c, i);
    default:
        return on_structure(s, c, i);
    }
}

int llmoin_json_scan_feed(llmoin_json_scan_t *s, const void *buf, size_t len)
{
    if (s == NULL || (buf == NULL && len > 0))
        return LLMOIN_JSON_EINVAL;
    if (s->err)
        return s->err;

    chunk_t c = {.buf = buf, .len = len, .base = s->offset, .cap_from = 0};
    size_t i = 0;
    while (i < len) {
        int n = step(s, &c, i);
        if (n < 0) {
            s->err = n;
            s->err_offset = c.base + i;
            if (s->capturing >= 0)
                capture_copy(s, &c, i);
            s->offset = c.base + i;
            return n;
        }
        i += (size_t)n;
    }
    if (s->capturing >= 0)
        capture_copy(s, &c, len);
    s->offset = c.base + len;
    return 0;
}

int llmoin_json_scan_finish(llmoin_json_scan_t *s)
{
    if (s == NULL)
        return LLMOIN_JSON_EINVAL;
    if (s->err)
        return s->err;
    if (!s->done) {
        s->err = LLMOIN_JSON_ETRUNC;
        s->err_offset = s->offset;
    }
    return s->err;
}

uint64_t llmoin_json_scan_error_offset(const llmoin_json_scan_t *s)
{
    return (s && s->err) ? s->err_offset : 0;
}

const llmoin_json_slot_t *llmoin_json_scan_slot(const llmoin_json_scan_t *s,
                                                size_t i)
{
    if (s == NULL || i >= s->nkeys)
        return NULL;
    return &s->slots[i];
}

/* ---- one-shot helpers over complete buffers ---- */

static int scan_spans(llmoin_json_scan_t *s, const char *doc, size_t len)
{
    s->spans_only = 1;
    int rc = llmoin_json_scan_feed(s, doc, len);
    return rc < 0 ? rc : llmoin_json_scan_finish(s);
}

static void span_of(const llmoin_json_scan_t *s, size_t i, const char *doc,
                    llmoin_json_span_t *out)
{
    const llmoin_json_slot_t *slot = &s->slots[i];

    out->ptr = NULL;
    out->len = 0;
    if (slot->status == LLMOIN_JSON_FOUND) {
        out->ptr = doc + slot->offset;
        out->len = (size_t)slot->length;
    }
}

int llmoin_json_get_top(const char *doc, size_t len, const char *const *keys,
                        size_t nkeys, llmoin_json_span_t *out)
{
    llmoin_json_scan_t s;

    if ((doc == NULL && len > 0) || (out == NULL && nkeys > 0))
        return LLMOIN_JSON_EINVAL;
    reset(&s, '{');
    int rc = set_keys(&s, keys, nkeys);
    if (rc < 0)
        return rc;
    rc = scan_spans(&s, doc, len);
    for (size_t i = 0; i < nkeys; i++)
        span_of(&s, i, doc, &out[i]);
    return rc;
}

int llmoin_json_array_first(const char *doc, size_t len,
                            llmoin_json_span_t *first)
{
    llmoin_json_scan_t s;

    if ((doc == NULL && len > 0) || first == NULL)
        return LLMOIN_JSON_EINVAL;
    reset(&s, '[');
    s.nkeys = 1; /* slot 0 receives element 0 */
    int rc = scan_spans(&s, doc, len);
    span_of(&s, 0, doc, first);
    return rc;
}

const char *llmoin_json_strerror(int err)
{
    switch (err) {
    case LLMOIN_JSON_OK:
        return "ok";
    case LLMOIN_JSON_EINVAL:
        return "invalid argument";
    case LLMOIN_JSON_ESYNTAX:
        return "JSON syntax error";
    case LLMOIN_JSON_ENOTOBJ:
        return "top-level JSON value is not an object";
    case LLMOIN_JSON_EDEPTH:
        return "JSON nested too deeply";
    case LLMOIN_JSON_ETRUNC:
        return "JSON document is truncated";
    case LLMOIN_JSON_ETRAILING:
        return "data after the JSON document";
    case LLMOIN_JSON_ETOOLONG:
        return "JSON value too long";
    case LLMOIN_JSON_ERANGE:
        return "JSON number out of range";
    case LLMOIN_JSON_ETYPE:
        return "JSON value has the wrong type";
    case LLMOIN_JSON_EMISSING:
        return "required JSON member missing";
    default:
        return "unknown JSON error";
    }
}
