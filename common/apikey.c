/*
 * apikey: see apikey.h.
 */
#include "apikey.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <string.h>

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char hexdigits[] = "0123456789abcdef";

/* Unpadded base64url of in[0..n); out needs ceil(n * 4 / 3) + 1 bytes. */
static void base64url(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i += 3) {
        size_t left = n - i;
        uint32_t v = (uint32_t)in[i] << 16;
        if (left > 1)
            v |= (uint32_t)in[i + 1] << 8;
        if (left > 2)
            v |= in[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        if (left > 1)
            out[o++] = b64url[(v >> 6) & 63];
        if (left > 2)
            out[o++] = b64url[v & 63];
    }
    out[o] = '\0';
}

static void hex(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexdigits[in[i] >> 4];
        out[2 * i + 1] = hexdigits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int llmoin_apikey_generate(char out[LLMOIN_APIKEY_BUFSZ])
{
    unsigned char raw[LLMOIN_APIKEY_RANDOM_BYTES];
    const size_t plen = sizeof LLMOIN_APIKEY_PREFIX - 1;

    if (out == NULL)
        return LLMOIN_APIKEY_EINVAL;
    out[0] = '\0';
    if (RAND_bytes(raw, sizeof raw) != 1) {
        OPENSSL_cleanse(raw, sizeof raw);
        return LLMOIN_APIKEY_ERAND;
    }
    memcpy(out, LLMOIN_APIKEY_PREFIX, plen);
    base64url(raw, sizeof raw, out + plen);
    OPENSSL_cleanse(raw, sizeof raw);
    return 0;
}

int llmoin_apikey_id_generate(char out[LLMOIN_APIKEY_ID_BUFSZ])
{
    unsigned char raw[8];
    const size_t plen = sizeof LLMOIN_APIKEY_ID_PREFIX - 1;

    if (out == NULL)
        return LLMOIN_APIKEY_EINVAL;
    out[0] = '\0';
    if (RAND_bytes(raw, sizeof raw) != 1)
        return LLMOIN_APIKEY_ERAND;
    memcpy(out, LLMOIN_APIKEY_ID_PREFIX, plen);
    hex(raw, sizeof raw, out + plen);
    return 0;
}

int llmoin_apikey_hash(const char *key, size_t len,
                       char hex_out[LLMOIN_APIKEY_HASH_BUFSZ])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (hex_out == NULL)
        return LLMOIN_APIKEY_EINVAL;
    hex_out[0] = '\0';
    if (key == NULL && len > 0)
        return LLMOIN_APIKEY_EINVAL;
    if (EVP_Digest(key ? key : "", len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
        mdlen * 2 != LLMOIN_APIKEY_HASH_HEX_LEN)
        return LLMOIN_APIKEY_ECRYPTO;
    hex(md, mdlen, hex_out);
    return 0;
}

bool llmoin_apikey_looks_valid(const char *key, size_t len)
{
    const size_t plen = sizeof LLMOIN_APIKEY_PREFIX - 1;
    const char *last;

    if (key == NULL || len != LLMOIN_APIKEY_LEN ||
        memcmp(key, LLMOIN_APIKEY_PREFIX, plen) != 0)
        return false;
    for (size_t i = plen; i < len; i++) {
        if (key[i] == '\0' || strchr(b64url, key[i]) == NULL)
            return false;
    }
    /* 256 bits fill 43 characters but 2: the last one has 2 zero bits. */
    last = strchr(b64url, key[len - 1]);
    return ((last - b64url) & 3) == 0;
}

bool llmoin_hex_digest_equal(const char *a, const char *b)
{
    if (a == NULL || b == NULL ||
        strnlen(a, LLMOIN_APIKEY_HASH_BUFSZ) != LLMOIN_APIKEY_HASH_HEX_LEN ||
        strnlen(b, LLMOIN_APIKEY_HASH_BUFSZ) != LLMOIN_APIKEY_HASH_HEX_LEN)
        return false;
    return CRYPTO_memcmp(a, b, LLMOIN_APIKEY_HASH_HEX_LEN) == 0;
}

const char *llmoin_apikey_strerror(int err)
{
    switch (err) {
    case LLMOIN_APIKEY_OK:
        return "ok";
    case LLMOIN_APIKEY_EINVAL:
        return "invalid argument";
    case LLMOIN_APIKEY_ERAND:
        return "random number generator failed";
    case LLMOIN_APIKEY_ECRYPTO:
        return "digest computation failed";
    default:
        return "unknown API key error";
    }
}
