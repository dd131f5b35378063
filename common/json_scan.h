/*
 * json_scan: a resumable scanner that validates one JSON document whose top
 * level is an object and captures the raw bytes of the values of up to
 * LLMOIN_JSON_MAX_KEYS watched top-level keys.
 *
 * Why a scanner and not a parser: response bodies can be large and arrive in
 * arbitrary pieces, and all the gateway needs from them is one or two small
 * top-level values (usage). The scanner keeps no tree, no stack (one bit per
 * nesting level) and never allocates; its state survives any buffer split.
 *
 * Promises
 *   - Feeding a document in any split (byte by byte included) gives the same
 *     captures, the same error code and the same error offset as feeding it
 *     whole.
 *   - Only keys of the top-level object match. A watched key inside a nested
 *     value or inside a string never matches. Keys are compared after
 *     unescaping (so "us\u0061ge" is "usage").
 *   - If a watched key occurs several times at top level, the LAST occurrence
 *     wins: its capture replaces the earlier one (this is what jansson,
 *     Python and JavaScript do with duplicate keys).
 *   - A captured value is the exact byte range of the value in the document:
 *     it starts at its first byte (no leading whitespace) and ends after its
 *     last byte. Values longer than LLMOIN_JSON_VALUE_MAX are reported as
 *     LLMOIN_JSON_TOO_LONG with their offset and length, never truncated.
 *   - The whole document is validated against RFC 8259 syntax, except that
 *     bytes >= 0x80 are not checked for UTF-8 validity and lone surrogate
 *     escapes are accepted (the grammar allows them). Nesting deeper than
 *     LLMOIN_JSON_MAX_DEPTH is an error.
 *
 * Memory: the state is a plain struct meant to be embedded or allocated by
 * the caller (e.g. from an nginx pool); it owns its capture buffers. It keeps
 * no pointer to fed data once feed() returns.
 *
 * Errors are negative LLMOIN_JSON_E* values; the first error is sticky and
 * llmoin_json_scan_error_offset() gives the absolute offset of the byte that
 * revealed it. llmoin_json_strerror() gives a message. The value helpers in usage.h use the same codes.
 */
#ifndef LLMOIN_JSON_SCAN_H
#define LLMOIN_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LLMOIN_JSON_MAX_KEYS 8
#define LLMOIN_JSON_KEY_MAX 32     /* bytes of a watched key (unescaped) */
#define LLMOIN_JSON_VALUE_MAX 1024 /* bytes of one captured value */
#define LLMOIN_JSON_MAX_DEPTH 256  /* nesting levels, top-level object = 1 */

enum {
    LLMOIN_JSON_OK = 0,
    LLMOIN_JSON_EINVAL = -1,    /* bad argument (NULL, too many/long keys) */
    LLMOIN_JSON_ESYNTAX = -2,   /* not JSON */
    LLMOIN_JSON_ENOTOBJ = -3,   /* the top-level value is not an object */
    LLMOIN_JSON_EDEPTH = -4,    /* nested deeper than LLMOIN_JSON_MAX_DEPTH */
    LLMOIN_JSON_ETRUNC = -5,    /* input ended inside the document */
    LLMOIN_JSON_ETRAILING = -6, /* non-whitespace after the document */
    LLMOIN_JSON_ETOOLONG = -7,  /* value does not fit the given buffer */
    LLMOIN_JSON_ERANGE = -8,    /* number out of the accepted range */
    LLMOIN_JSON_ETYPE = -9,     /* value has the wrong JSON type */
    LLMOIN_JSON_EMISSING = -10, /* a required member is absent */
};

typedef enum {
    LLMOIN_JSON_ABSENT = 0,  /* key not seen */
    LLMOIN_JSON_PARTIAL,     /* value started but the input ended inside it */
    LLMOIN_JSON_FOUND,       /* value complete; buf/len hold its bytes */
    LLMOIN_JSON_TOO_LONG,    /* value complete but longer than VALUE_MAX */
} llmoin_json_status_t;

typedef struct {
    llmoin_json_status_t status;
    uint64_t offset; /* absolute offset of the value's first byte */
    uint64_t length; /* raw length of the value in the document */
    size_t len;      /* bytes in buf: all of the value when FOUND, what
                        arrived so far when PARTIAL, 0 when TOO_LONG */
    char buf[LLMOIN_JSON_VALUE_MAX];
} llmoin_json_slot_t;

/* Fields are private: read results through the functions below. */
typedef struct {
    int err;
    uint64_t err_offset;
    uint64_t offset;
    uint16_t depth;
    uint8_t state;
    uint8_t top;         /* '{' or '[': what the top-level value must be */
    uint8_t lit, lit_pos;
    uint8_t hex_left;
    uint8_t str_is_key, str_decode;
    uint8_t key_len, key_bad;
    uint8_t spans_only, cap_overflow, done;
    int8_t pending;      /* slot for the value about to start, or -1 */
    int8_t capturing;    /* slot being captured, or -1 */
    uint32_t cp, hi_surrogate;
    uint8_t kinds[LLMOIN_JSON_MAX_DEPTH / 8]; /* bit set = array */
    char key[LLMOIN_JSON_KEY_MAX];
    uint8_t nkeys;
    uint8_t watch_len[LLMOIN_JSON_MAX_KEYS];
    char watch[LLMOIN_JSON_MAX_KEYS][LLMOIN_JSON_KEY_MAX];
    llmoin_json_slot_t slots[LLMOIN_JSON_MAX_KEYS]; /* keep last: init skips buf */
} llmoin_json_scan_t;

/* A value inside a caller's buffer; ptr == NULL means absent. */
typedef struct {
    const char *ptr;
    size_t len;
} llmoin_json_span_t;

/* Resets s to watch keys[0..nkeys) (NUL-terminated, at most KEY_MAX bytes,
 * distinct). nkeys may be 0 (validation only). */
int llmoin_json_scan_init(llmoin_json_scan_t *s, const char *const *keys,
                          size_t nkeys);

/* Consumes len more bytes of the document. Returns 0 or the sticky error. */
int llmoin_json_scan_feed(llmoin_json_scan_t *s, const void *buf, size_t len);

/* Declares the end of input: 0 if a complete document (plus optional
 * whitespace) was fed, LLMOIN_JSON_ETRUNC if it ended early, or the sticky
 * error. Captures stay readable whatever the result. */
int llmoin_json_scan_finish(llmoin_json_scan_t *s);

/* Absolute offset where the sticky error was detected (the input length for
 * ETRUNC); 0 if there is none. */
uint64_t llmoin_json_scan_error_offset(const llmoin_json_scan_t *s);

/* The capture for keys[i], or NULL if i is out of range. Valid until the
 * next init/feed. */
const llmoin_json_slot_t *llmoin_json_scan_slot(const llmoin_json_scan_t *s,
                                                size_t i);

/* One pass over a complete in-memory document: out[i] = the last top-level
 * value of keys[i] as a span of doc (no copy, no size bound), or {NULL, 0}.
 * Returns 0 if doc is a valid object, else an error; on error out[] holds
 * only the values completed before the error point. */
int llmoin_json_get_top(const char *doc, size_t len, const char *const *keys,
                        size_t nkeys, llmoin_json_span_t *out);

/* The first element of a complete JSON array (surrounding whitespace
 * allowed): *first = {NULL, 0} for []. LLMOIN_JSON_ETYPE if not an array. */
int llmoin_json_array_first(const char *doc, size_t len,
                            llmoin_json_span_t *first);

/* Writes code point cp (<= 0x10FFFF) as UTF-8; returns bytes written. */
size_t llmoin_json_utf8_encode(uint32_t cp, char out[4]);

const char *llmoin_json_strerror(int err);

#endif
