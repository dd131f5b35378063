/*
 * jwk: the public signature keys of an identity provider's JWK Set
 * (RFC 7517), each with its algorithm PINNED by the key, never by a token.
 *
 * Why pinning: a JWS names its own algorithm ("alg" header). Trusting it is
 * the root of the classic JWT forgeries ("alg":"none"; "HS256" keyed with
 * the RSA public key; RS256 vs PS256 confusion). Here the key decides; a
 * token's "alg" is only ever compared with the key's (see jwt.h).
 *
 * Pinning rule
 *   - kty "RSA": JWK "alg" present -> must be "RS256" or "PS256";
 *                "alg" absent     -> RS256 only.
 *   - kty "EC":  "crv" must be "P-256"; "alg" present -> must be "ES256";
 *                "alg" absent -> ES256.
 *   - anything else (kty "oct", "OKP", ...; RS384, ES384, HS256, ...; an
 *     "alg" that does not fit kty/crv) -> the key is unsupported.
 *
 * Which keys are usable
 *   - "use", when present, is "sig"; "key_ops", when present, is an array
 *     of strings containing "verify";
 *   - RSA: "n" and "e" strict base64url (base64url.h rules; a leading
 *     zero octet in "n" is tolerated), modulus of 2048..4096 bits (larger
 *     ones could not fit a token's 512-byte signature), 65537 <= e < 2^64,
 *     n and e odd (no primality test: see jwk.c);
 *   - EC: "x" and "y" exactly 32 octets each, and OpenSSL's public key
 *     validation passes (a point on P-256, not at infinity);
 *   - "kid", when present, is a string of 1..128 bytes without control
 *     characters. A key without "kid" is kept (kid ""), but
 *     llmoin_jwks_find() never returns it: only a caller that decides to
 *     use an issuer's only key for tokens without kid can reach it.
 *   - Members such as "x5c", "x5t", "x5u" are ignored (never fetched).
 *   - Private key members ("d", "p", "q", "dp", "dq", "qi", "oth") are never
 *     acceptable: an IdP publishing them is misconfigured and its set is
 *     refused as a whole (llmoin must not quietly use a leaked key).
 *
 * Sets: llmoin_jwks_parse() keeps the usable keys, skips (and counts) the
 * unsupported or malformed ones, and refuses the whole set on private key
 * material, on two usable keys sharing a non-empty kid (a lookup would be
 * ambiguous; a skipped key may share a kid, e.g. a "use":"enc" twin), if
 * the document is not {"keys":[...]}, or if "keys" has more than
 * LLMOIN_JWKS_KEYS_MAX entries (validating a key costs up to a few
 * milliseconds; real sets hold 1-10 keys). Zero usable keys is not an
 * error (an issuer may be rotating); count is then 0. Skipping rather than
 * refusing keeps one odd key (e.g. a new key type) from locking out every
 * user of an issuer; a skipped key simply verifies nothing.
 *
 * Memory: a parsed key owns its EVP_PKEY (one reference), a set owns its
 * array; free them with llmoin_jwk_free / llmoin_jwks_free, which accept
 * zeroed structs and may be called twice. Outputs are zeroed on error.
 * Keys are immutable after parsing, so one set may be used by many threads
 * at once. No global state; OpenSSL errors raised while parsing are removed
 * from the thread's error queue again.
 * Errors: 0 or a negative LLMOIN_JWK_E* value, plus a human-readable
 * message (for operators: it may quote kid/kty/alg of the JWKS, which is
 * public, truncated) in error[0..error_size) when error is not NULL.
 */
#ifndef LLMOIN_JWK_H
#define LLMOIN_JWK_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <openssl/evp.h>

#define LLMOIN_JWK_KID_MAX 128                 /* bytes of a kid */
#define LLMOIN_JWKS_TEXT_MAX (1024 * 1024)     /* bytes of a JWKS document */
#define LLMOIN_JWKS_KEYS_MAX 100               /* entries of "keys" */
#define LLMOIN_JWK_RSA_MIN_BITS 2048
#define LLMOIN_JWK_RSA_MAX_BITS 4096
#define LLMOIN_JSON_NESTING_MAX 16             /* JWKS and token JSON */

enum {
    LLMOIN_JWK_OK = 0,
    LLMOIN_JWK_EINVAL = -1,      /* NULL argument */
    LLMOIN_JWK_EMALFORMED = -2,  /* not a JWK/JWKS, or a member of the wrong form */
    LLMOIN_JWK_EUNSUPPORTED = -3,/* well-formed but not usable here (skipped in a set) */
    LLMOIN_JWK_EPRIVATE = -4,    /* private key members present: the set is refused */
    LLMOIN_JWK_EDUPLICATE = -5,  /* two usable keys with the same non-empty kid */
    LLMOIN_JWK_ETOOLARGE = -6,   /* JWKS text longer than LLMOIN_JWKS_TEXT_MAX */
    LLMOIN_JWK_ENOMEM = -7,      /* allocation failed */
};

typedef enum {
    LLMOIN_JWT_ALG_UNKNOWN = 0,
    LLMOIN_JWT_ALG_RS256,
    LLMOIN_JWT_ALG_PS256,
    LLMOIN_JWT_ALG_ES256
} llmoin_jwt_alg_t;

/* "RS256", "PS256", "ES256", or "unknown". */
const char *llmoin_jwt_alg_name(llmoin_jwt_alg_t alg);

/* Exact, case-sensitive match of name[0..len) against the three supported
 * names; everything else ("none", "HS256", "RS384", "rs256", NULL)
 * -> LLMOIN_JWT_ALG_UNKNOWN. */
llmoin_jwt_alg_t llmoin_jwt_alg_from_name(const char *name, size_t len);

typedef struct llmoin_jwk {
    char             kid[LLMOIN_JWK_KID_MAX + 1]; /* "" if the JWK had none */
    llmoin_jwt_alg_t alg;                         /* pinned, never UNKNOWN */
    EVP_PKEY        *key;                         /* owned */
} llmoin_jwk_t;

/* One JWK object -> *out. EUNSUPPORTED and EMALFORMED both mean "this key
 * cannot verify anything"; EPRIVATE means "distrust the whole set". */
int llmoin_jwk_parse(const json_t *jwk, llmoin_jwk_t *out, char *error,
                     size_t error_size);
void llmoin_jwk_free(llmoin_jwk_t *jwk);

typedef struct llmoin_jwks {
    llmoin_jwk_t *keys;  /* owned; NULL when count is 0 */
    size_t        count;
} llmoin_jwks_t;

/* {"keys":[...]} -> the usable keys, in document order. *skipped (may be
 * NULL) counts the skipped entries; on success with skipped entries, error
 * holds the reason the first one was skipped (for the log), else "". */
int llmoin_jwks_parse(const json_t *jwks, llmoin_jwks_t *out, size_t *skipped,
                      char *error, size_t error_size);

/* The same from text: at most LLMOIN_JWKS_TEXT_MAX bytes, nesting at most
 * LLMOIN_JSON_NESTING_MAX levels, parsed by jansson with
 * JSON_REJECT_DUPLICATES (duplicate members are refused). */
int llmoin_jwks_parse_text(const char *text, size_t len, llmoin_jwks_t *out,
                           size_t *skipped, char *error, size_t error_size);
void llmoin_jwks_free(llmoin_jwks_t *jwks);

/* The key whose kid equals kid (exact bytes), or NULL; NULL for kid NULL
 * or "". Linear: sets hold a handful of keys. */
const llmoin_jwk_t *llmoin_jwks_find(const llmoin_jwks_t *jwks,
                                     const char *kid);

/* Whether the JSON text nests arrays/objects at most max_depth deep (the
 * top-level value is depth 1). A cheap pre-scan that tracks strings but
 * does not validate syntax: run before jansson, whose parser recurses, so
 * that hostile input cannot use up the (nginx worker's) stack. */
bool llmoin_json_nesting_within(const char *text, size_t len,
                                size_t max_depth);

const char *llmoin_jwk_strerror(int err);

#endif
