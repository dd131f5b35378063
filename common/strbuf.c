#include "strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
reserve(llmoin_strbuf_t *buffer, size_t extra)
{
    size_t  needed, capacity;
    char   *data;

    if (extra > SIZE_MAX - buffer->length - 1) {
        return -1;
    }
    needed = buffer->length + extra + 1;
    if (needed <= buffer->capacity) {
        return 0;
    }
    capacity = buffer->capacity > 0 ? buffer->capacity : 256;
    while (capacity < needed) {
        capacity = capacity > SIZE_MAX / 2 ? needed : capacity * 2;
    }
    data = realloc(buffer->data, capacity);
    if (data == NULL) {
        return -1;
    }
    buffer->data = data;
    buffer->capacity = capacity;
    return 0;
}

int
llmoin_strbuf_append(llmoin_strbuf_t *buffer, const char *bytes, size_t length)
{
    if (reserve(buffer, length) != 0) {
        return -1;
    }
    memcpy(buffer->data + buffer->length, bytes, length);
    buffer->length += length;
    buffer->data[buffer->length] = '\0';
    return 0;
}

int
llmoin_strbuf_append_string(llmoin_strbuf_t *buffer, const char *text)
{
    return llmoin_strbuf_append(buffer, text, strlen(text));
}

int
llmoin_strbuf_append_char(llmoin_strbuf_t *buffer, char c)
{
    return llmoin_strbuf_append(buffer, &c, 1);
}

int
llmoin_strbuf_printf(llmoin_strbuf_t *buffer, const char *format, ...)
{
    va_list args;
    int     length;

    va_start(args, format);
    length = vsnprintf(NULL, 0, format, args);
    va_end(args);
    if (length < 0 || reserve(buffer, (size_t) length) != 0) {
        return -1;
    }
    va_start(args, format);
    vsnprintf(buffer->data + buffer->length, (size_t) length + 1, format, args);
    va_end(args);
    buffer->length += (size_t) length;
    return 0;
}

void
llmoin_strbuf_reset(llmoin_strbuf_t *buffer)
{
    buffer->length = 0;
    if (buffer->data != NULL) {
        buffer->data[0] = '\0';
    }
}

void
llmoin_strbuf_free(llmoin_strbuf_t *buffer)
{
    free(buffer->data);
    buffer->data = NULL;
    buffer->length = 0;
    buffer->capacity = 0;
}

const char *
llmoin_strbuf_text(const llmoin_strbuf_t *buffer)
{
    return buffer->data != NULL ? buffer->data : "";
}
