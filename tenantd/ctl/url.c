#include "url.h"

#include <string.h>

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

void url_encode(struct sbuf *sb, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (is_unreserved(*p)) {
            sbuf_addc(sb, (char)*p);
            continue;
        }
        sbuf_addc(sb, '%');
        sbuf_addc(sb, hex[*p >> 4]);
        sbuf_addc(sb, hex[*p & 15]);
    }
}

static const char *lookup(const char *name, size_t len, const char *const names[],
                          const char *const values[], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strncmp(names[i], name, len) == 0 && names[i][len] == '\0')
            return values[i];
    return NULL;
}

int url_expand(struct sbuf *sb, const char *tmpl, const char *const names[],
               const char *const values[], size_t n)
{
    const char *p = tmpl, *open, *close, *value;

    while ((open = strchr(p, '{')) != NULL) {
        close = strchr(open, '}');
        if (!close)
            return -1;
        value = lookup(open + 1, (size_t)(close - open - 1), names, values, n);
        if (!value)
            return -1;
        sbuf_addn(sb, p, (size_t)(open - p));
        url_encode(sb, value);
        p = close + 1;
    }
    sbuf_add(sb, p);
    return 0;
}

void url_query_add(struct sbuf *sb, const char *name, const char *value)
{
    sbuf_addc(sb, memchr(sbuf_str(sb), '?', sb->len) ? '&' : '?');
    url_encode(sb, name);
    sbuf_addc(sb, '=');
    url_encode(sb, value);
}
