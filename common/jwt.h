/*
 * jwt: JWS compact tokens (RFC 7515/7519) as sent by an identity provider's
 * users: decode (no trust), verify the signature with a key whose algorithm
 * is pinned by the JWKS (jwk.h), then check the claims. Nothing here is
 * trusted before llmoin_jwt_verify_signature() returned LLMOIN_JWT_OK.
 *
 * Decode rules (llmoin_jwt_decode)
 *   - At most LLMOIN_JWT_MAX_LEN bytes (ETOOLONG, before any decoding).
 *   - Exactly two dots; header, payload and signature non-empty and strict
 *     base64url (base64url.h: no '=', canonical); signature at most 512
 *     bytes. So "alg":"none" tokens with an empty signature are EMALFORMED.
 *   - Header and payload are JSON objects, nesting at most
 *     LLMOIN_JSON_NESTING_MAX levels (checked before jansson parses, so
 *     deeply nested JSON cannot exhaust the stack), parsed with
 *     JSON_REJECT_DUPLICATES (a duplicated claim is refused: parsers that
 *     disagree on "first or last wins" must not see different tokens).
 *   - Header "alg" is a string. "none" and every name other than RS256,
 *     PS256, ES256 give alg UNKNOWN; decoding still succeeds so that the
 *     caller can answer precisely, and verification refuses it.
 *   - A "crit" header member is EMALFORMED: no extension is supported.
 *   - "jku", "x5u", "jwk", "x5c" header members are IGNORED: keys come only
 *     from the configured JWKS, never from the token.
 *   - "kid", when present, is a string of at most 128 bytes.
 *   - "typ", when present, is "JWT" or "at+jwt" (ASCII case-insensitive).
 *
 * Signature rules (llmoin_jwt_verify_signature)
 *   - The token's alg must equal the key's pinned alg, else EALG. This is
 *     the only place the token's alg is used.
 *   - RS256: RSASSA-PKCS1-v1_5 with SHA-256. PS256: RSASSA-PSS, SHA-256,
 *     MGF1 with SHA-256, salt length exactly 32 (RFC 7518 §3.5). Both need
 *     a signature exactly as long as the modulus.
 *   - ES256: ECDSA P-256 with SHA-256 over the JOSE form: exactly 64 bytes,
 *     r || s big-endian (RFC 7518 §3.4). A DER signature, or any other
 *     length, is ESIGNATURE.
 *   - Every verification failure gives the same code and message (no
 *     oracle about why).
 *
 * Claim rules (llmoin_jwt_check_claims), in this order; the error code
 * names the claim that failed:
 *   - "iss" a string equal to expect->issuer (EISSUER);
 *   - "aud" a string, or an array of strings, containing expect->audience
 *     (EAUDIENCE; a missing "aud" is refused);
 *   - "exp" required; expired when now >= exp + leeway (EEXPIRED);
 *   - "nbf" optional; not yet valid when now + leeway < nbf (ENOTYET);
 *   - "iat" optional; refused when iat > now + leeway (ENOTYET);
 *     exp/nbf/iat are JSON integers or reals, finite, within 0..2^53 (a
 *     claim outside that is refused with its code);
 *   - the user claim (expect->user_claim) a non-empty string of fewer than
 *     LLMOIN_JWT_USER_MAX bytes without control characters (C0, DEL, C1)
 *     (EUSER);
 *   - the groups claim (expect->groups_claim, NULL = none), optional: an
 *     array of strings or one string; each group non-empty, without commas
 *     or control characters; at most LLMOIN_JWT_GROUPS_COUNT groups and
 *     LLMOIN_JWT_GROUPS_MAX - 1 bytes joined (EGROUPS). Absent -> "".
 *   A NULL expect->issuer, ->audience or ->user_claim refuses every token
 *   (fails closed). A negative leeway counts as 0.
 *
 * Messages: the error buffer gets one line that names the part or claim
 * and says what was expected. It never contains the token, the signature
 * or any claim value (they are meant to be returned to API clients); claim
 * NAMES from expect (configuration) are quoted, truncated to 64 bytes.
 *
 * Memory: a decoded token owns two jansson objects; llmoin_jwt_free()
 * releases them (it accepts a zeroed struct and may be called twice).
 * signing_input points into the caller's token, which must outlive the
 * verification. kid and issuer point into the owned JSON. After an error,
 * decode leaves *out zeroed. Identity fields are fixed-size arrays.
 * Thread safety: no global state; a decoded token and a key may be shared
 * read-only between threads. OpenSSL errors raised by a failed verification
 * are removed from the thread's error queue again.
 */
#ifndef LLMOIN_JWT_H
#define LLMOIN_JWT_H

#include <stddef.h>

#include <jansson.h>

#include "jwk.h"

#define LLMOIN_JWT_MAX_LEN 16384   /* longer tokens are refused before any decoding */
#define LLMOIN_JWT_SIGNATURE_MAX 512

enum {
    LLMOIN_JWT_OK = 0,
    LLMOIN_JWT_EMALFORMED = -1,
    LLMOIN_JWT_EALG = -2,
    LLMOIN_JWT_ESIGNATURE = -3,
    LLMOIN_JWT_EEXPIRED = -4,
    LLMOIN_JWT_ENOTYET = -5,
    LLMOIN_JWT_EISSUER = -6,
    LLMOIN_JWT_EAUDIENCE = -7,
    LLMOIN_JWT_EUSER = -8,
    LLMOIN_JWT_EGROUPS = -9,
    LLMOIN_JWT_ETOOLONG = -10,
    LLMOIN_JWT_ENOMEM = -11,
    LLMOIN_JWT_ENOKEY = -12, /* authenticate(): no key with the token's kid
                                (the caller may refresh its JWKS) */
};

typedef struct llmoin_jwt {
    json_t           *header;            /* owned */
    json_t           *payload;           /* owned */
    llmoin_jwt_alg_t  alg;               /* named by the header: only ever compared with the key's */
    const char       *kid;               /* into header, or NULL */
    const char       *issuer;            /* "iss" into payload, or NULL (unverified until verify) */
    const char       *signing_input;     /* the caller's token: header.payload */
    size_t            signing_input_len;
    unsigned char     signature[LLMOIN_JWT_SIGNATURE_MAX];
    size_t            signature_len;
} llmoin_jwt_t;

int llmoin_jwt_decode(const char *token, size_t len, llmoin_jwt_t *out,
                      char *error, size_t error_size);
void llmoin_jwt_free(llmoin_jwt_t *jwt);

int llmoin_jwt_verify_signature(const llmoin_jwt_t *jwt,
                                const llmoin_jwk_t *key, char *error,
                                size_t error_size);

typedef struct llmoin_jwt_expect {
    const char *issuer;
    const char *audience;
    long long   now;             /* unix seconds */
    long        leeway;          /* seconds of clock skew tolerated */
    const char *user_claim;      /* e.g. "sub", "preferred_username" */
    const char *groups_claim;    /* NULL: none */
} llmoin_jwt_expect_t;

#define LLMOIN_JWT_USER_MAX 256
#define LLMOIN_JWT_GROUPS_MAX 1024
#define LLMOIN_JWT_GROUPS_COUNT 64

typedef struct llmoin_jwt_identity {
    char      user[LLMOIN_JWT_USER_MAX];
    char      groups[LLMOIN_JWT_GROUPS_MAX];   /* comma-separated, "" if none */
    size_t    group_count;
    long long expires_at;                      /* exp, rounded down */
} llmoin_jwt_identity_t;

/* Call only after llmoin_jwt_verify_signature() succeeded. *out is zeroed
 * first and filled only on success. */
int llmoin_jwt_check_claims(const llmoin_jwt_t *jwt,
                            const llmoin_jwt_expect_t *expect,
                            llmoin_jwt_identity_t *out, char *error,
                            size_t error_size);

/* decode + alg check + key lookup + verify_signature + check_claims, in
 * that order, freeing everything it made. The key is the one with the
 * header's kid; a token without kid may only use a set's single key (with
 * several keys nothing is guessed). ENOKEY when no key fits: the caller may
 * refresh the issuer's JWKS (rotation). */
int llmoin_jwt_authenticate(const char *token, size_t len,
                            const llmoin_jwks_t *jwks,
                            const llmoin_jwt_expect_t *expect,
                            llmoin_jwt_identity_t *out, char *error,
                            size_t error_size);

const char *llmoin_jwt_strerror(int err);

#endif
