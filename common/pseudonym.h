/*
 * pseudonym: the user name the inference tier sees. It is an HMAC-SHA256 of
 * the user id under the tenant's secret, so the pool can tell users apart
 * (for caching, fairness, abuse handling) without learning who they are,
 * and the same user id in two tenants gives unrelated pseudonyms.
 *
 * Output: "u_" + the first 32 lowercase hex digits (128 bits) of the MAC,
 * NUL-terminated, in a caller array. Returns 0, or -1 if OpenSSL failed
 * (out is then "").
 */
#ifndef LLMOIN_PSEUDONYM_H
#define LLMOIN_PSEUDONYM_H

#include <stddef.h>

#define LLMOIN_PSEUDONYM_LEN   34
#define LLMOIN_PSEUDONYM_BUFSZ (LLMOIN_PSEUDONYM_LEN + 1)

int llmoin_pseudonym(const unsigned char *secret, size_t secret_length,
                     const char *user, size_t user_length,
                     char out[LLMOIN_PSEUDONYM_BUFSZ]);

#endif
