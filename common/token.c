#include "token.h"

#include <stdio.h>
#include <string.h>

bool
llmoin_token_looks_like_jwt(const char *credential, size_t length)
{
    const char *first = memchr(credential, '.', length);

    return first != NULL
           && memchr(first + 1, '.', length - (size_t) (first + 1 - credential)) != NULL;
}

static int
refuse(llmoin_token_result_t *out, const char *code, const char *message)
{
    out->code = code;
    snprintf(out->message, sizeof(out->message), "%s", message);
    return -1;
}

static const char *
code_for(int err)
{
    switch (err) {
    case LLMOIN_JWT_EEXPIRED:  return "expired_token";
    case LLMOIN_JWT_ENOTYET:   return "token_not_yet_valid";
    case LLMOIN_JWT_EAUDIENCE: return "wrong_audience";
    case LLMOIN_JWT_EISSUER:   return "untrusted_issuer";
    case LLMOIN_JWT_EUSER:
    case LLMOIN_JWT_EGROUPS:   return "invalid_claims";
    default:                   return "invalid_token";
    }
}

/* The key that must have signed: by kid, or the only key of the issuer. */
static const llmoin_jwk_t *
signing_key(const llmoin_jwt_t *jwt, const llmoin_snapshot_issuer_t *issuer)
{
    if (jwt->kid != NULL) {
        return llmoin_jwks_find(&issuer->jwks, jwt->kid);
    }
    return issuer->jwks.count == 1 ? &issuer->jwks.keys[0] : NULL;
}

static int
check(const llmoin_jwt_t *jwt, const llmoin_snapshot_issuer_t *issuer, long long now,
      llmoin_token_result_t *out)
{
    const llmoin_jwk_t  *key;
    llmoin_jwt_expect_t  expect;
    char                 detail[200];
    int                  rc;

    key = signing_key(jwt, issuer);
    if (key == NULL) {
        out->refetch = jwt->kid != NULL && jwt->kid[0] != '\0';
        return refuse(out, "unknown_key",
                      "The token was signed with a key its issuer has not published.");
    }
    rc = llmoin_jwt_verify_signature(jwt, key, detail, sizeof(detail));
    if (rc != 0) {
        return refuse(out, "invalid_token", rc == LLMOIN_JWT_EALG
                          ? "The token's algorithm does not match its issuer's key."
                          : "The token's signature is invalid.");
    }
    expect.issuer = issuer->issuer;
    expect.audience = issuer->audience;
    expect.now = now;
    expect.leeway = issuer->leeway;
    expect.user_claim = issuer->user_claim;
    expect.groups_claim = issuer->groups_claim;
    rc = llmoin_jwt_check_claims(jwt, &expect, &out->identity, detail, sizeof(detail));
    if (rc != 0) {
        out->code = code_for(rc);
        snprintf(out->message, sizeof(out->message), "The token was refused: %s", detail);
        return -1;
    }
    return 0;
}

int
llmoin_token_verify(const llmoin_snapshot_t *snapshot, const char *token, size_t length,
                    long long now, llmoin_token_result_t *out)
{
    llmoin_jwt_t jwt;
    char         detail[200];
    int          rc;

    memset(out, 0, sizeof(*out));
    rc = llmoin_jwt_decode(token, length, &jwt, detail, sizeof(detail));
    if (rc != 0) {
        return refuse(out, "invalid_token", rc == LLMOIN_JWT_ETOOLONG
                          ? "The token is too long." : "The token is malformed.");
    }
    if (jwt.alg == LLMOIN_JWT_ALG_UNKNOWN) {
        llmoin_jwt_free(&jwt);
        return refuse(out, "invalid_token",
                      "The token's algorithm is not accepted (RS256, PS256, ES256).");
    }
    out->issuer = jwt.issuer != NULL ? llmoin_snapshot_find_issuer(snapshot, jwt.issuer) : NULL;
    if (out->issuer == NULL) {
        llmoin_jwt_free(&jwt);
        return refuse(out, "untrusted_issuer", "The token's issuer is not trusted here.");
    }
    rc = check(&jwt, out->issuer, now, out);
    llmoin_jwt_free(&jwt);
    return rc;
}
