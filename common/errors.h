/*
 * errors: the one way common/ units fill a caller's error buffer.
 *
 * Units return negative codes and, where the caller passed a buffer, a
 * sentence fit to show (never a secret). Both helpers tolerate a NULL
 * buffer or a zero size.
 */
#ifndef LLMOIN_ERRORS_H
#define LLMOIN_ERRORS_H

#include <stddef.h>

/* Writes the message (printf format) and returns code, for
 * `return llmoin_fail(error, size, CODE, "...", ...);`. */
int llmoin_fail(char *error, size_t error_size, int code, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

/* Empties the buffer: a success leaves no stale message behind. */
void llmoin_clear_error(char *error, size_t error_size);

#endif
