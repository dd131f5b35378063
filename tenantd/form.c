#include "form.h"

#include <ctype.h>
#include <string.h>

static int
hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = (char) tolower((unsigned char) c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool
decode_into(const char *value, size_t length, char *out, size_t out_size)
{
    size_t i, used = 0;
    int    high, low;

    for (i = 0; i < length; i++) {
        char c = value[i];

        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= length) {
                return false;
            }
            high = hex_digit(value[i + 1]);
            low = hex_digit(value[i + 2]);
            if (high < 0 || low < 0) {
                return false;
            }
            c = (char) (high << 4 | low);
            i += 2;
        }
        if (c == '\0' || used + 1 >= out_size) {
            return false;
        }
        out[used++] = c;
    }
    out[used] = '\0';
    return true;
}

/* The raw value of name=value in the body, or NULL. */
static const char *
find_pair(const char *body, size_t length, const char *name, size_t *value_length)
{
    const char *pair = body, *end = body + length, *next, *equals;
    size_t      name_length = strlen(name);

    while (pair < end) {
        next = memchr(pair, '&', (size_t) (end - pair));
        if (next == NULL) {
            next = end;
        }
        equals = memchr(pair, '=', (size_t) (next - pair));
        if (equals != NULL && (size_t) (equals - pair) == name_length
            && memcmp(pair, name, name_length) == 0)
        {
            *value_length = (size_t) (next - equals - 1);
            return equals + 1;
        }
        pair = next + 1;
    }
    return NULL;
}

bool
form_value(const char *body, size_t length, const char *name, char *out, size_t out_size)
{
    size_t      value_length;
    const char *value = find_pair(body, length, name, &value_length);

    return value != NULL && decode_into(value, value_length, out, out_size);
}

bool
form_has(const char *body, size_t length, const char *name)
{
    size_t value_length;

    return find_pair(body, length, name, &value_length) != NULL;
}

void
html_append_escaped(llmoin_strbuf_t *html, const char *text)
{
    for (; *text != '\0'; text++) {
        switch (*text) {
        case '&':  llmoin_strbuf_append_string(html, "&amp;"); break;
        case '<':  llmoin_strbuf_append_string(html, "&lt;"); break;
        case '>':  llmoin_strbuf_append_string(html, "&gt;"); break;
        case '"':  llmoin_strbuf_append_string(html, "&quot;"); break;
        case '\'': llmoin_strbuf_append_string(html, "&#39;"); break;
        default:   llmoin_strbuf_append_char(html, *text);
        }
    }
}

void
url_append_encoded(llmoin_strbuf_t *url, const char *text)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *text != '\0'; text++) {
        unsigned char c = (unsigned char) *text;

        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            llmoin_strbuf_append_char(url, (char) c);
        } else {
            llmoin_strbuf_append_char(url, '%');
            llmoin_strbuf_append_char(url, hex[c >> 4]);
            llmoin_strbuf_append_char(url, hex[c & 15]);
        }
    }
}
