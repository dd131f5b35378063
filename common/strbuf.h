/*
 * strbuf: a growable, always NUL-terminated byte buffer.
 *
 * The buffer owns its memory (malloc); strbuf_free releases it. Appends
 * return 0, or -1 when memory ran out, after which the buffer keeps its
 * previous content. Not for the nginx module (which allocates from pools).
 */
#ifndef LLMOIN_STRBUF_H
#define LLMOIN_STRBUF_H

#include <stddef.h>

typedef struct llmoin_strbuf {
    char   *data;
    size_t  length;
    size_t  capacity;
} llmoin_strbuf_t;

#define LLMOIN_STRBUF_INIT { NULL, 0, 0 }

int llmoin_strbuf_append(llmoin_strbuf_t *buffer, const char *bytes, size_t length);
int llmoin_strbuf_append_string(llmoin_strbuf_t *buffer, const char *text);
int llmoin_strbuf_append_char(llmoin_strbuf_t *buffer, char c);
int llmoin_strbuf_printf(llmoin_strbuf_t *buffer, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* Empties the buffer, keeping its memory for reuse. */
void llmoin_strbuf_reset(llmoin_strbuf_t *buffer);
void llmoin_strbuf_free(llmoin_strbuf_t *buffer);

/* The content, "" for a buffer that never grew. */
const char *llmoin_strbuf_text(const llmoin_strbuf_t *buffer);

#endif
