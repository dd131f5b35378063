/*
 * token: signing in with an OIDC token of a tenant's identity provider,
 * against the tenant snapshot.
 *
 * The token's (unverified) iss picks the issuer, and with it the only
 * tenant that may be signed into; the issuer's published keys, each with
 * its algorithm pinned, must verify the signature; then exp/nbf/iat (with
 * the issuer's leeway), aud and the user claim are checked (see jwt.h).
 * A token without kid is tried only when the issuer has exactly one key.
 *
 * On failure `code` is a short machine-readable reason and `message` a
 * sentence for the client; neither echoes the token. `refetch` is set when
 * the token names a key the issuer has not (yet) published: tenantd should
 * look for new keys (rotation).
 */
#ifndef LLMOIN_TOKEN_H
#define LLMOIN_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "jwt.h"
#include "snapshot.h"

typedef struct llmoin_token_result {
    const llmoin_snapshot_issuer_t *issuer;      /* set once iss was known */
    llmoin_jwt_identity_t           identity;    /* on success */
    const char                     *code;        /* on failure */
    char                            message[256];
    bool                            refetch;
} llmoin_token_result_t;

/* 0 when the token signs its user into out->issuer->tenant, else -1. */
int llmoin_token_verify(const llmoin_snapshot_t *snapshot, const char *token, size_t length,
                        long long now, llmoin_token_result_t *out);

/* Whether a credential has the shape of a JWS (two dots): tokens and API
 * keys take different paths. */
bool llmoin_token_looks_like_jwt(const char *credential, size_t length);

#endif
