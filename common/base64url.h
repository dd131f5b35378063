/*
 * base64url: RFC 4648 §5 "base64url" without padding, as used by the JWS
 * compact serialization (RFC 7515 §2) and by JWK members (RFC 7518 §6).
 *
 * Promises
 *   - Decoding is strict, so that one byte string has exactly one accepted
 *     encoding (a token cannot be altered into another valid spelling):
 *       - only A-Z a-z 0-9 '-' '_'; no '=' padding, no whitespace, no '+'
 *         or '/' (standard base64);
 *       - in_len % 4 != 1 (such a tail cannot hold a whole byte);
 *       - the unused low bits of the last character are zero (canonical).
 *     Rules are checked in this order: arguments, length, space, characters,
 *     canonical; the first one broken is reported.
 *   - Encoding produces that canonical form and NUL-terminates it.
 *   - Neither function allocates; time depends only on the lengths and, for
 *     decoding, on where the first bad character is (inputs are public:
 *     tokens and keys, never secrets).
 *
 * Memory: outputs go to caller buffers of the stated capacity; nothing is
 * written past out_cap. On error *out_len is 0 and the content of out is
 * unspecified (it may hold a partial result).
 * Errors: 0 or a negative LLMOIN_BASE64URL_E* value;
 * llmoin_base64url_strerror() describes them.
 */
#ifndef LLMOIN_BASE64URL_H
#define LLMOIN_BASE64URL_H

#include <stddef.h>

enum {
    LLMOIN_BASE64URL_OK = 0,
    LLMOIN_BASE64URL_EINVAL = -1,       /* NULL pointer with a non-zero length */
    LLMOIN_BASE64URL_ELENGTH = -2,      /* in_len % 4 == 1 */
    LLMOIN_BASE64URL_ESPACE = -3,       /* out_cap too small */
    LLMOIN_BASE64URL_ECHAR = -4,        /* a character outside the alphabet */
    LLMOIN_BASE64URL_ENONCANONICAL = -5 /* non-zero unused bits at the end */
};

/* Bytes that decoding in_len characters can produce (exact for valid input,
 * never an underestimate). */
size_t llmoin_base64url_decoded_max(size_t in_len);

/* Characters that encoding in_len bytes produces, without the NUL; SIZE_MAX
 * if that does not fit a size_t. */
size_t llmoin_base64url_encoded_len(size_t in_len);

/* Decodes in[0..in_len) into out; needs out_cap >= decoded_max(in_len).
 * in may be NULL if in_len is 0. */
int llmoin_base64url_decode(const char *in, size_t in_len, unsigned char *out,
                            size_t out_cap, size_t *out_len);

/* Encodes in[0..in_len) into out and NUL-terminates it; needs
 * out_cap >= encoded_len(in_len) + 1. *out_len (may be NULL) gets the
 * length without the NUL. */
int llmoin_base64url_encode(const unsigned char *in, size_t in_len, char *out,
                            size_t out_cap, size_t *out_len);

const char *llmoin_base64url_strerror(int err);

#endif
