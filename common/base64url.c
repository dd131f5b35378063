/*
 * base64url: see base64url.h.
 */
#include "base64url.h"

#include <stdint.h>

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The 6-bit value of c, or -1 if c is not in the base64url alphabet. */
static int sextet(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

size_t llmoin_base64url_decoded_max(size_t in_len)
{
    /* a tail of 2 characters holds 1 byte, of 3 characters 2 bytes */
    return in_len / 4 * 3 + in_len % 4 * 3 / 4;
}

size_t llmoin_base64url_encoded_len(size_t in_len)
{
    size_t tail = in_len % 3;

    if (in_len / 3 > (SIZE_MAX - 4) / 4)
        return SIZE_MAX;
    return in_len / 3 * 4 + (tail ? tail + 1 : 0);
}

int llmoin_base64url_decode(const char *in, size_t in_len, unsigned char *out,
                            size_t out_cap, size_t *out_len)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;

    if (out_len == NULL || (in == NULL && in_len > 0) ||
        (out == NULL && out_cap > 0))
        return LLMOIN_BASE64URL_EINVAL;
    *out_len = 0;
    if (in_len % 4 == 1)
        return LLMOIN_BASE64URL_ELENGTH;
    if (llmoin_base64url_decoded_max(in_len) > out_cap)
        return LLMOIN_BASE64URL_ESPACE;
    for (size_t i = 0; i < in_len; i++) {
        int v = sextet((unsigned char)in[i]);

        if (v < 0)
            return LLMOIN_BASE64URL_ECHAR;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* 2 or 4 bits are left over after a 3- or 2-character tail */
    if (acc != 0)
        return LLMOIN_BASE64URL_ENONCANONICAL;
    *out_len = o;
    return LLMOIN_BASE64URL_OK;
}

int llmoin_base64url_encode(const unsigned char *in, size_t in_len, char *out,
                            size_t out_cap, size_t *out_len)
{
    size_t need = llmoin_base64url_encoded_len(in_len), o = 0;

    if (out_len != NULL)
        *out_len = 0;
    if ((in == NULL && in_len > 0) || out == NULL)
        return LLMOIN_BASE64URL_EINVAL;
    if (need == SIZE_MAX || need >= out_cap)
        return LLMOIN_BASE64URL_ESPACE;
    for (size_t i = 0; i < in_len; i += 3) {
        size_t left = in_len - i;
        uint32_t v = (uint32_t)in[i] << 16;

        if (left > 1)
            v |= (uint32_t)in[i + 1] << 8;
        if (left > 2)
            v |= in[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        if (left > 1)
            out[o++] = alphabet[(v >> 6) & 63];
        if (left > 2)
            out[o++] = alphabet[v & 63];
    }
    out[o] = '\0';
    if (out_len != NULL)
        *out_len = o;
    return LLMOIN_BASE64URL_OK;
}

const char *llmoin_base64url_strerror(int err)
{
    switch (err) {
    case LLMOIN_BASE64URL_OK:
        return "ok";
    case LLMOIN_BASE64URL_EINVAL:
        return "invalid argument";
    case LLMOIN_BASE64URL_ELENGTH:
        return "impossible base64url length";
    case LLMOIN_BASE64URL_ESPACE:
        return "output buffer too small";
    case LLMOIN_BASE64URL_ECHAR:
        return "character outside the base64url alphabet";
    case LLMOIN_BASE64URL_ENONCANONICAL:
        return "non-canonical base64url (unused bits set)";
    default:
        return "unknown base64url error";
    }
}
