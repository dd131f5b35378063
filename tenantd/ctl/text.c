#include "text.h"

#include <stdbool.h>
#include <stdint.h>

/* Decodes one UTF-8 sequence; returns its length, or 0 if it is invalid. */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
    size_t n, i;
    uint32_t v, min;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xE0) == 0xC0) {
        n = 2, v = s[0] & 0x1F, min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        n = 3, v = s[0] & 0x0F, min = 0x800;
    } else if ((s[0] & 0xF8) == 0xF0) {
        n = 4, v = s[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    /* A NUL fails the continuation test, so this never reads past the end. */
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

static bool is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

static bool in(uint32_t cp, uint32_t lo, uint32_t hi)
{
    return cp >= lo && cp <= hi;
}

/* Enough of Unicode's East Asian Width and combining classes for names and
 * labels; exactness for every script is not worth a table of thousands. */
static size_t cp_width(uint32_t cp)
{
    if (in(cp, 0x0300, 0x036F) || in(cp, 0x200B, 0x200F) || in(cp, 0xFE00, 0xFE0F))
        return 0;
    if (in(cp, 0x1100, 0x115F) || in(cp, 0x2E80, 0xA4CF) || in(cp, 0xAC00, 0xD7A3) ||
        in(cp, 0xF900, 0xFAFF) || in(cp, 0xFE30, 0xFE4F) || in(cp, 0xFF00, 0xFF60) ||
        in(cp, 0xFFE0, 0xFFE6) || in(cp, 0x1F300, 0x1F64F) || in(cp, 0x1F900, 0x1F9FF) ||
        in(cp, 0x20000, 0x3FFFD))
        return 2;
    return 1;
}

size_t text_width(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t width = 0, n;
    uint32_t cp;

    while (*p) {
        n = utf8_decode(p, &cp);
        if (n == 0) {
            width++;
            p++;
            continue;
        }
        width += is_control(cp) ? 1 : cp_width(cp);
        p += n;
    }
    return width;
}

void text_sanitize(struct sbuf *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n;
    uint32_t cp;

    while (*p) {
        n = utf8_decode(p, &cp);
        if (n == 0 || is_control(cp)) {
            sbuf_addc(out, '?');
            p += n ? n : 1;
            continue;
        }
        sbuf_addn(out, (const char *)p, n);
        p += n;
    }
}
