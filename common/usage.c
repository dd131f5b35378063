/*
 * usage: see usage.h. Objects are read with llmoin_json_get_top, so the
 * member rules (top-level only, last duplicate wins, full validation) are
 * exactly those of json_scan.
 */
#include "usage.h"

#include "json_scan.h"

#include <string.h>

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Narrows [*v, *v + *len) to the value without surrounding whitespace. */
static void trim(const char **v, size_t *len)
{
    while (*len > 0 && is_ws(**v)) {
        (*v)++;
        (*len)--;
    }
    while (*len > 0 && is_ws((*v)[*len - 1]))
        (*len)--;
}

static bool equals(const char *v, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    return len == n && memcmp(v, lit, n) == 0;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Accumulates the digits of a JSON integer; limit is the magnitude bound. */
static int parse_magnitude(const char *v, size_t len, uint64_t limit,
                           uint64_t *out)
{
    uint64_t acc = 0;
    size_t i = 0;

    if (len == 0 || !is_digit(v[0]))
        return LLMOIN_JSON_ESYNTAX;
    if (v[0] == '0' && len > 1 && is_digit(v[1]))
        return LLMOIN_JSON_ESYNTAX; /* leading zero */
    for (; i < len && is_digit(v[i]); i++) {
        unsigned d = (unsigned)(v[i] - '0');
        if (acc > (limit - d) / 10)
            return LLMOIN_JSON_ERANGE;
        acc = acc * 10 + d;
    }
    if (i < len)
        return (v[i] == '.' || v[i] == 'e' || v[i] == 'E')
                   ? LLMOIN_JSON_ETYPE /* a number, but not an integer */
                   : LLMOIN_JSON_ESYNTAX;
    *out = acc;
    return 0;
}

int llmoin_json_parse_int64(const char *v, size_t len, int64_t *out)
{
    uint64_t mag;
    bool neg;
    int rc;

    if ((v == NULL && len > 0) || out == NULL)
        return LLMOIN_JSON_EINVAL;
    *out = 0;
    trim(&v, &len);
    if (len == 0 || (v[0] != '-' && !is_digit(v[0])))
        return LLMOIN_JSON_ETYPE;
    neg = v[0] == '-';
    rc = parse_magnitude(v + neg, len - neg,
                         neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX,
                         &mag);
    if (rc < 0)
        return rc;
    if (!neg)
        *out = (int64_t)mag;
    else if (mag == (uint64_t)INT64_MAX + 1)
        *out = INT64_MIN;
    else
        *out = -(int64_t)mag;
    return 0;
}

int llmoin_json_parse_bool(const char *v, size_t len, bool *out)
{
    if ((v == NULL && len > 0) || out == NULL)
        return LLMOIN_JSON_EINVAL;
    *out = false;
    trim(&v, &len);
    if (equals(v, len, "true")) {
        *out = true;
        return 0;
    }
    return equals(v, len, "false") ? 0 : LLMOIN_JSON_ETYPE;
}

bool llmoin_json_is_null(const char *v, size_t len)
{
    if (v == NULL)
        return false;
    trim(&v, &len);
    return equals(v, len, "null");
}

/* ---- strings ---- */

typedef struct {
    char *out;
    size_t cap, len;
} sink_t;

static int sink_put(sink_t *k, const char *p, size_t n)
{
    if (n >= k->cap - k->len) /* keep room for the NUL */
        return LLMOIN_JSON_ETOOLONG;
    memcpy(k->out + k->len, p, n);
    k->len += n;
    return 0;
}

static int read_hex4(const char *p, size_t avail, uint32_t *cp)
{
    uint32_t acc = 0;

    if (avail < 4)
        return LLMOIN_JSON_ESYNTAX;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = is_digit(c)               ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (d < 0)
            return LLMOIN_JSON_ESYNTAX;
        acc = (acc << 4) | (uint32_t)d;
    }
    *cp = acc;
    return 0;
}

/* Decodes \uXXXX (p points after the 'u'), pairing surrogates; returns the
 * bytes consumed after the 'u' or a negative error. */
static int unescape_u(const char *p, size_t avail, sink_t *k)
{
    uint32_t cp, lo;
    int used = 4;
    char utf8[4];

    if (read_hex4(p, avail, &cp) < 0)
        return LLMOIN_JSON_ESYNTAX;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return LLMOIN_JSON_ESYNTAX;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (avail < 10 || p[4] != '\\' || p[5] != 'u' ||
            read_hex4(p + 6, avail - 6, &lo) < 0 || lo < 0xDC00 ||
            lo > 0xDFFF)
            return LLMOIN_JSON_ESYNTAX;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        used = 10;
    }
    int rc = sink_put(k, utf8, llmoin_json_utf8_encode(cp, utf8));
    return rc < 0 ? rc : used;
}

/* Handles the escape at p[0] == '\\'; returns bytes consumed or error. */
static int unescape(const char *p, size_t avail, sink_t *k)
{
    static const char from[] = "\"\\/bfnrt";
    static const char to[] = "\"\\/\b\f\n\r\t";
    const char *hit;

    if (avail < 2)
        return LLMOIN_JSON_ESYNTAX;
    if (p[1] == 'u') {
        int n = unescape_u(p + 2, avail - 2, k);
        return n < 0 ? n : n + 2;
    }
    hit = p[1] ? strchr(from, p[1]) : NULL;
    if (hit == NULL)
        return LLMOIN_JSON_ESYNTAX;
    int rc = sink_put(k, &to[hit - from], 1);
    return rc < 0 ? rc : 2;
}

/* Unescapes the body of a string whose quotes are already stripped. */
static int unescape_body(const char *p, size_t n, sink_t *k)
{
    size_t i = 0;

    while (i < n) {
        size_t j = i;
        while (j < n && p[j] != '\\' && p[j] != '"' &&
               (unsigned char)p[j] >= 0x20)
            j++;
        int rc = sink_put(k, p + i, j - i);
        if (rc < 0)
            return rc;
        if (j == n)
            break;
        if (p[j] != '\\')
            return LLMOIN_JSON_ESYNTAX; /* raw quote or control char */
        rc = unescape(p + j, n - j, k);
        if (rc < 0)
            return rc;
        i = j + (size_t)rc;
    }
    return 0;
}

int llmoin_json_parse_string(const char *v, size_t len, char *out, size_t cap,
                             size_t *out_len)
{
    sink_t k = {.out = out, .cap = cap, .len = 0};

    if ((v == NULL && len > 0) || out == NULL || cap == 0)
        return LLMOIN_JSON_EINVAL;
    out[0] = '\0';
    if (out_len)
        *out_len = 0;
    trim(&v, &len);
    if (len == 0 || v[0] != '"')
        return LLMOIN_JSON_ETYPE;
    /* The closing quote must be the last byte and must not be escaped:
     * unescape_body rejects any raw quote before it. */
    if (len < 2 || v[len - 1] != '"')
        return LLMOIN_JSON_ESYNTAX;
    int rc = unescape_body(v + 1, len - 2, &k);
    if (rc < 0) {
        out[0] = '\0';
        return rc;
    }
    out[k.len] = '\0';
    if (out_len)
        *out_len = k.len;
    return 0;
}

/* ---- usage ---- */

static int parse_count(llmoin_json_span_t span, int64_t *out)
{
    int rc;

    if (span.ptr == NULL)
        return LLMOIN_JSON_EMISSING;
    rc = llmoin_json_parse_int64(span.ptr, span.len, out);
    if (rc == 0 && *out < 0)
        rc = LLMOIN_JSON_ERANGE;
    return rc;
}

static int parse_members(const char *v, size_t len, llmoin_usage_t *u)
{
    static const char *const keys[] = {"prompt_tokens", "completion_tokens",
                                       "total_tokens"};
    llmoin_json_span_t span[3];
    int rc;

    rc = llmoin_json_get_top(v, len, keys, 3, span);
    if (rc < 0)
        return rc == LLMOIN_JSON_ENOTOBJ ? LLMOIN_JSON_ETYPE : rc;
    if ((rc = parse_count(span[0], &u->prompt_tokens)) < 0 ||
        (rc = parse_count(span[1], &u->completion_tokens)) < 0)
        return rc;
    if (span[2].ptr != NULL && !llmoin_json_is_null(span[2].ptr, span[2].len))
        return parse_count(span[2], &u->total_tokens);
    if (u->prompt_tokens > INT64_MAX - u->completion_tokens)
        return LLMOIN_JSON_ERANGE;
    u->total_tokens = u->prompt_tokens + u->completion_tokens;
    return 0;
}

int llmoin_usage_parse(const char *v, size_t len, llmoin_usage_t *out)
{
    if ((v == NULL && len > 0) || out == NULL)
        return LLMOIN_JSON_EINVAL;
    memset(out, 0, sizeof *out);
    trim(&v, &len);
    if (equals(v, len, "null"))
        return 0;
    if (len == 0 || v[0] != '{')
        return len == 0 ? LLMOIN_JSON_ESYNTAX : LLMOIN_JSON_ETYPE;
    int rc = parse_members(v, len, out);
    if (rc < 0) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    out->present = true;
    return 0;
}

bool llmoin_usage_consistent(const llmoin_usage_t *u)
{
    if (u == NULL || !u->present)
        return true;
    if (u->prompt_tokens > INT64_MAX - u->completion_tokens)
        return false;
    return u->total_tokens == u->prompt_tokens + u->completion_tokens;
}
