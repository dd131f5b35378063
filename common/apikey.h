/*
 * apikey: generation, hashing and comparison of llmoin API keys.
 *
 * Promises
 *   - A key is "lmk_" followed by the unpadded base64url encoding of 32
 *     bytes from OpenSSL's CSPRNG (RAND_bytes): 256 bits of entropy, 47
 *     characters. The last character encodes 4 data bits followed by 2
 *     zero bits (its alphabet index is a multiple of 4); looks_valid()
 *     insists on that canonical form.
 *   - A key id is "key_" followed by 16 lowercase hex digits (8 random
 *     bytes): public, used to name a key in logs and APIs, never secret.
 *   - Only the SHA-256 of a key is ever stored: llmoin_apikey_hash() gives
 *     it as 64 lowercase hex digits, computed over the whole key string,
 *     prefix included. Compare stored and computed hashes with
 *     llmoin_hex_digest_equal(), whose time does not depend on where they
 *     differ.
 *
 * Memory: outputs go to fixed-size caller arrays, NUL-terminated. The random
 * bytes behind a key are wiped before returning.
 * Errors: 0 or a negative LLMOIN_APIKEY_E* value; outputs are then empty
 * strings. llmoin_apikey_strerror() describes them.
 */
#ifndef LLMOIN_APIKEY_H
#define LLMOIN_APIKEY_H

#include <stdbool.h>
#include <stddef.h>

#define LLMOIN_APIKEY_PREFIX "lmk_"
#define LLMOIN_APIKEY_RANDOM_BYTES 32
#define LLMOIN_APIKEY_LEN 47 /* 4 + ceil(32 * 8 / 6) */
#define LLMOIN_APIKEY_BUFSZ (LLMOIN_APIKEY_LEN + 1)

#define LLMOIN_APIKEY_ID_PREFIX "key_"
#define LLMOIN_APIKEY_ID_LEN 20 /* 4 + 16 */
#define LLMOIN_APIKEY_ID_BUFSZ (LLMOIN_APIKEY_ID_LEN + 1)

#define LLMOIN_APIKEY_HASH_HEX_LEN 64
#define LLMOIN_APIKEY_HASH_BUFSZ (LLMOIN_APIKEY_HASH_HEX_LEN + 1)

enum {
    LLMOIN_APIKEY_OK = 0,
    LLMOIN_APIKEY_EINVAL = -1,  /* NULL argument */
    LLMOIN_APIKEY_ERAND = -2,   /* the CSPRNG failed (not seeded) */
    LLMOIN_APIKEY_ECRYPTO = -3, /* OpenSSL digest failure */
};

/* A new secret key into out (LLMOIN_APIKEY_LEN chars + NUL). */
int llmoin_apikey_generate(char out[LLMOIN_APIKEY_BUFSZ]);

/* A new key id into out (LLMOIN_APIKEY_ID_LEN chars + NUL). */
int llmoin_apikey_id_generate(char out[LLMOIN_APIKEY_ID_BUFSZ]);

/* Lowercase hex SHA-256 of key[0..len) into hex_out (64 chars + NUL). */
int llmoin_apikey_hash(const char *key, size_t len,
                       char hex_out[LLMOIN_APIKEY_HASH_BUFSZ]);

/* Whether key[0..len) has the shape of a generated key: prefix, exact
 * length, base64url alphabet, canonical last character. Cheap; lets the
 * gateway reject garbage before hashing. Says nothing about existence. */
bool llmoin_apikey_looks_valid(const char *key, size_t len);

/* Whether two NUL-terminated 64-char hex digests are equal, in time
 * independent of their contents. False if either is NULL or not exactly 64
 * characters long. Hex case matters: both sides are expected lowercase. */
bool llmoin_hex_digest_equal(const char *a, const char *b);

const char *llmoin_apikey_strerror(int err);

#endif
