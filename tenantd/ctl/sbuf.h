/*
 * A growable string. Allocation failure is sticky (`failed`) so builders can
 * append freely and check once at the end instead of after every call.
 */
#ifndef LLMOINCTL_SBUF_H
#define LLMOINCTL_SBUF_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
};

#define SBUF_INIT { NULL, 0, 0, false }

void sbuf_addn(struct sbuf *sb, const char *s, size_t n);
void sbuf_add(struct sbuf *sb, const char *s);
void sbuf_addc(struct sbuf *sb, char c);
void sbuf_addf(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text so far; "" when empty or after an allocation failure. */
const char *sbuf_str(const struct sbuf *sb);
void sbuf_reset(struct sbuf *sb);
void sbuf_free(struct sbuf *sb);

#endif
