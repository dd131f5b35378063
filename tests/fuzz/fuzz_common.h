/*
 * Shared by the fuzz targets: how an input is cut into buffers, and how a
 * broken invariant is reported (abort, which libFuzzer records as a crash
 * and saves the input for).
 *
 * Input layout: 4 control bytes, then the payload.
 *   bytes 0-1: first cut, (b0 | b1 << 8) modulo (payload length + 1)
 *   byte 2:    second cut, at most 255 bytes after the first
 *   byte 3:    a knob the target may use (e.g. a buffer size)
 * Inputs shorter than 4 bytes are ignored.
 */
#ifndef LLMOIN_FUZZ_COMMON_H
#define LLMOIN_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    const uint8_t *data;
    size_t len;
    size_t cuts[2];
    uint8_t knob;
} fuzz_input_t;

static inline int fuzz_input(const uint8_t *d, size_t n, fuzz_input_t *in)
{
    if (n < 4)
        return 0;
    in->data = d + 4;
    in->len = n - 4;
    in->cuts[0] = ((size_t)d[0] | (size_t)d[1] << 8) % (in->len + 1);
    in->cuts[1] = in->cuts[0] + d[2] % (in->len - in->cuts[0] + 1);
    in->knob = d[3];
    return 1;
}

#define FUZZ_CHECK(cond, what)                                                \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "invariant broken: %s (%s) at %s:%d\n", what,      \
                    #cond, __FILE__, __LINE__);                               \
            abort();                                                          \
        }                                                                     \
    } while (0)

#endif
