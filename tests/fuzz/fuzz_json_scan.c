/*
 * fuzz_json_scan: the payload is scanned whole, in two and three pieces and
 * byte by byte; all runs must agree exactly. The one-shot helper must agree
 * with the streaming scanner, and both with jansson: same verdict on
 * validity (except where jansson is stricter on purpose, see
 * jansson_stricter) and, for valid documents, the same last value for every
 * watched key.
 */
#include <jansson.h>
#include <string.h>

#include "fuzz_common.h"
#include "json_scan.h"

static const char *const keys[] = {"usage", "a", "b", "", "model",
                                   "\xc3\xa9"};
#define NKEYS (sizeof keys / sizeof keys[0])

typedef struct {
    int rc;
    uint64_t err_offset;
    llmoin_json_slot_t slots[NKEYS];
} result_t;

static llmoin_json_scan_t scanner;
static result_t whole, other;

static void collect(int rc, result_t *r)
{
    r->rc = rc;
    r->err_offset = llmoin_json_scan_error_offset(&scanner);
    for (size_t k = 0; k < NKEYS; k++)
        r->slots[k] = *llmoin_json_scan_slot(&scanner, k);
}

static void run(const uint8_t *d, size_t len, const size_t *cuts,
                size_t ncuts, result_t *r)
{
    size_t from = 0;
    int rc = llmoin_json_scan_init(&scanner, keys, NKEYS);

    FUZZ_CHECK(rc == 0, "init");
    for (size_t i = 0; i <= ncuts && rc == 0; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        rc = llmoin_json_scan_feed(&scanner, d + from, to - from);
        from = to;
    }
    collect(rc ? rc : llmoin_json_scan_finish(&scanner), r);
}

static void run_bytewise(const uint8_t *d, size_t len, result_t *r)
{
    int rc = llmoin_json_scan_init(&scanner, keys, NKEYS);

    for (size_t i = 0; i < len && rc == 0; i++)
        rc = llmoin_json_scan_feed(&scanner, d + i, 1);
    collect(rc ? rc : llmoin_json_scan_finish(&scanner), r);
}

static void check_same(const result_t *a, const result_t *b)
{
    FUZZ_CHECK(a->rc == b->rc, "split changes the result");
    FUZZ_CHECK(a->err_offset == b->err_offset, "split moves the error");
    for (size_t k = 0; k < NKEYS; k++) {
        const llmoin_json_slot_t *x = &a->slots[k], *y = &b->slots[k];
        FUZZ_CHECK(x->status == y->status, "split changes a status");
        FUZZ_CHECK(x->offset == y->offset, "split moves a value");
        FUZZ_CHECK(x->length == y->length, "split changes a length");
        FUZZ_CHECK(x->len == y->len, "split changes a capture");
        FUZZ_CHECK(memcmp(x->buf, y->buf, x->len) == 0,
                   "split changes captured bytes");
    }
}

/* Captures are exact byte ranges of the document. */
static void check_slots(const uint8_t *d, size_t len, const result_t *r)
{
    for (size_t k = 0; k < NKEYS; k++) {
        const llmoin_json_slot_t *s = &r->slots[k];
        if (s->status == LLMOIN_JSON_ABSENT)
            continue;
        FUZZ_CHECK(s->offset <= len, "offset beyond input");
        FUZZ_CHECK(s->len <= LLMOIN_JSON_VALUE_MAX, "capture overflow");
        FUZZ_CHECK(memcmp(s->buf, d + s->offset, s->len) == 0,
                   "capture differs from the document");
        if (s->status == LLMOIN_JSON_FOUND)
            FUZZ_CHECK(s->len == s->length && s->len > 0, "found length");
        if (s->status == LLMOIN_JSON_TOO_LONG)
            FUZZ_CHECK(s->length > LLMOIN_JSON_VALUE_MAX && s->len == 0,
                       "too long length");
    }
}

static void check_one_shot(const uint8_t *d, size_t len, const result_t *r)
{
    llmoin_json_span_t spans[NKEYS];
    int rc = llmoin_json_get_top((const char *)d, len, keys, NKEYS, spans);

    FUZZ_CHECK(rc == r->rc, "one-shot verdict differs");
    for (size_t k = 0; k < NKEYS; k++) {
        const llmoin_json_slot_t *s = &r->slots[k];
        bool complete = s->status == LLMOIN_JSON_FOUND ||
                        s->status == LLMOIN_JSON_TOO_LONG;
        FUZZ_CHECK(complete == (spans[k].ptr != NULL), "one-shot presence");
        if (complete) {
            FUZZ_CHECK(spans[k].ptr == (const char *)d + s->offset,
                       "one-shot offset");
            FUZZ_CHECK(spans[k].len == s->length, "one-shot length");
        }
    }
}

/* Errors where jansson rejects what RFC 8259 syntax allows. */
static bool jansson_stricter(const json_error_t *e)
{
    static const char *const allowed[] = {
        "unable to decode byte", /* invalid UTF-8 */
        "too big",               /* integer beyond json_int_t */
        "overflow",              /* real beyond double */
        "invalid Unicode '",     /* lone surrogate escapes */
        "NUL byte in object key",
        "maximum parsing depth",
    };
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        if (strstr(e->text, allowed[i]))
            return true;
    return false;
}

static void compare_values(json_t *root, const result_t *r)
{
    for (size_t k = 0; k < NKEYS; k++) {
        const llmoin_json_slot_t *s = &r->slots[k];
        json_t *want = json_object_get(root, keys[k]);
        if (want == NULL) {
            FUZZ_CHECK(s->status == LLMOIN_JSON_ABSENT, "phantom value");
            continue;
        }
        FUZZ_CHECK(s->status == LLMOIN_JSON_FOUND ||
                       s->status == LLMOIN_JSON_TOO_LONG,
                   "missed value");
        if (s->status != LLMOIN_JSON_FOUND)
            continue;
        json_error_t e;
        json_t *got = json_loadb(s->buf, s->len,
                                 JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
        FUZZ_CHECK(got != NULL, "captured value is not JSON");
        FUZZ_CHECK(json_equal(got, want), "captured value differs");
        json_decref(got);
    }
}

static void check_jansson(const uint8_t *d, size_t len, const result_t *r)
{
    json_error_t e;

    /* A raw NUL is never valid JSON, but jansson 2.14 takes one for the end
     * of input in some positions (e.g. accepts {"a":[true<NUL>,false]}). */
    if (memchr(d, 0, len) != NULL) {
        FUZZ_CHECK(r->rc != 0, "accepted a raw NUL byte");
        return;
    }
    json_t *root = json_loadb((const char *)d, len, JSON_ALLOW_NUL, &e);

    if (root == NULL) {
        FUZZ_CHECK(r->rc != 0 || jansson_stricter(&e),
                   "accepted what jansson rejects");
        return;
    }
    if (json_is_object(root)) {
        FUZZ_CHECK(r->rc == 0 || r->rc == LLMOIN_JSON_EDEPTH,
                   "rejected a valid object");
        if (r->rc == 0)
            compare_values(root, r);
    } else {
        FUZZ_CHECK(r->rc == LLMOIN_JSON_ENOTOBJ ||
                       r->rc == LLMOIN_JSON_EDEPTH,
                   "top-level array not reported");
    }
    json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_t in;

    if (!fuzz_input(data, size, &in))
        return 0;
    run(in.data, in.len, NULL, 0, &whole);
    check_slots(in.data, in.len, &whole);
    run(in.data, in.len, in.cuts, 1, &other);
    check_same(&whole, &other);
    run(in.data, in.len, in.cuts, 2, &other);
    check_same(&whole, &other);
    run_bytewise(in.data, in.len, &other);
    check_same(&whole, &other);
    check_one_shot(in.data, in.len, &whole);
    check_jansson(in.data, in.len, &whole);
    return 0;
}
