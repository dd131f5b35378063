/*
 * jwt: see jwt.h.
 */
#include "jwt.h"

#include "errors.h"

#include "base64url.h"

#include <math.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ES256_SIG_LEN 64
#define ES256_DER_MAX 72 /* SEQUENCE of two INTEGERs of up to 33 bytes */
#define PS256_SALT_LEN 32
#define TIME_MAX_INT ((json_int_t)1 << 53) /* every integer up to it is an exact double */
#define TIME_MAX ((double)TIME_MAX_INT)


/* ASCII-only and locale-free, unlike strcasecmp. */
static bool ascii_case_equal(const char *s, size_t len, const char *lit)
{
    if (len != strlen(lit))
        return false;
    for (size_t i = 0; i < len; i++) {
        char a = s[i], b = lit[i];

        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (char)(b - 'A' + 'a');
        if (a != b)
            return false;
    }
    return true;
}

/* C0 controls, DEL, and C1 controls (U+0080..U+009F, UTF-8 C2 80..C2 9F);
 * jansson has already checked that strings are valid UTF-8. */
static bool has_control(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20 || c == 0x7f)
            return true;
        if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
            (unsigned char)s[i + 1] <= 0x9f)
            return true;
    }
    return false;
}

/* --- decoding ----------------------------------------------------------- */

/* Splits token into its three parts: exactly two dots, no empty part. */
static int split(const char *token, size_t len, const char *part[3],
                 size_t part_len[3], char *error, size_t error_size)
{
    const char *end = token + len, *p = token;

    for (int i = 0; i < 3; i++) {
        const char *dot = i < 2 ? memchr(p, '.', (size_t)(end - p)) : NULL;
        const char *stop = dot != NULL ? dot : end;

        if (i < 2 && dot == NULL)
            return llmoin_fail(error, error_size, LLMOIN_JWT_EMALFORMED,
                        "a token has three parts separated by dots");
        part[i] = p;
        part_len[i] = (size_t)(stop - p);
        if (part_len[i] == 0)
            return llmoin_fail(error, error_size, LLMOIN_JWT_EMALFORMED,
                        "a token part is empty");
        p = stop + (dot != NULL);
    }
    if (memchr(part[2], '.', part_len[2]) != NULL)
        return llmoin_fail(error, error_size, LLMOIN_JWT_EMALFORMED,
                    "a token has exactly two dots");
    return 0;
}

static int decode_signature(const char *s, size_t len, llmoin_jwt_t *out,
                            char *error, size_t error_size)
{
    int rc;

    if (llmoin_base64url_decoded_max(len) > sizeof out->signature)
        return llmoin_fail(error, error_size, LLMOIN_JWT_EMALFORMED,
                    "the signature is longer than %d bytes",
                    LLMOIN_JWT_SIGNATURE_MAX);
    rc = llmoin_base64url_decode(s, len, out->signature, sizeof out->signature,
                                 &out->signature_len);
    if (rc != 0)
        return llmoin_fail(error, error_size, LLMOIN_JWT_EMALFORMED,
                    "the token signature is not base64url: %s",
                    llmoin_base64url_strerror(rc));
    return 0;
}

/* base64url -> JSON object, with the nesting pre-scan. jansson's own
 * messages are not used: they quote the input. */
static int decode_object(const char *s, size_t len, const char *what,
                         json_t **out, char *error, size_t error_size)
{
    size_t cap = llmoin_base64url_decoded_max(len), n;
    unsigned char *buf = malloc(cap > 0 ? cap : 1);
    int rc;

    if (buf == NULL)
        return llmoin_fail(error, error_size, LLMOIN_JWT_ENOMEM, "out of memory");
    rc = llmoin_base64url_decode(s, len, buf, cap, &n);
    if (rc != 0)
        rc = llmoin_fail(error, error_size, LLMOIN_JWT_EMALFORMED,
                  "the token %s is not base64url: %s", what,
                  llmoin_base64url_strerror(rc));
    else if (!llmoin_json_nesting_within((const char *)buf, n,
                                         LLMOIN_JSON_NESTING_MAX))
        rc = llmoin_fail(error, error_size, LLMOIN_JWT_EMALFORMED,
                  "the token %s nests deeper than %d levels", what,
                  LLMOIN_JSON_NESTING_MAX);
    else if ((*out = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES,
                                NULL)) == NULL)
        rc = llmoin_fail(error, error_size, LLMOIN_JWT_EMALFORMED,
                  "the token %s is not JSON without duplicate members", what);
    else if (!json_is_object(*out))
        rc = llmoin_fail(error, error_size, LLMOIN_JWT_EMALFORMED,
                  "the token %s is not a JSON object", what);
    free(buf);
    return rc;
}

static int check_header(llmoin_jwt_t *jwt, char *error, size_t error_size)
{
    const json_t *alg = json_object_get(jwt->header, "alg");
    const json_t *kid = json_object_get(jwt->header, "kid");
    const json_t *typ = json_object_get(jwt->header, "typ");

    if (!json_is_string(alg))
        return llmoin_fail(error, error_size, LLMOIN_JWT_EMALFORMED,
                    "header 'alg' must be a string");
    jwt->alg = llmoin_jwt_alg_from_name(json_string_value(alg),
                                        json_string_length(alg));
    if (json_object_get(jwt->header, "crit") != NULL)
        return llmoin_fail(error, error_size, LLMOIN_JWT_EMALFORMED,
                    "header 'crit' names extensions that are not supported");
    if (kid != NULL &&
        (!json_is_string(kid) || json_string_length(kid) > LLMOIN_JWK_KID_MAX))
        return llmoin_fail(error, error_size, LLMOIN_JWT_EMALFORMED,
                    "header 'kid' must be a string of at most %d bytes",
                    LLMOIN_JWK_KID_MAX);
    if (typ != NULL &&
        (!json_is_string(typ) ||
         (!ascii_case_equal(json_string_value(typ), json_string_length(typ),
                            "JWT") &&
          !ascii_case_equal(json_string_value(typ), json_string_length(typ),
                            "at+jwt"))))
        return llmoin_fail(error, error_size, LLMOIN_JWT_EMALFORMED,
                    "header 'typ' must be \"JWT\" or \"at+jwt\"");
    jwt->kid = json_string_value(kid); /* NULL if absent */
    return 0;
}

static int decode_parts(const char *token, size_t len, llmoin_jwt_t *out,
                        char *error, size_t error_size)
{
    const char *part[3];
    size_t part_len[3];
    int rc;

    if ((rc = split(token, len, part, part_len, error, error_size)) != 0 ||
        (rc = decode_signature(part[2], part_len[2], out, error,
                               error_size)) != 0 ||
        (rc = decode_object(part[0], part_len[0], "header", &out->header,
                            error, error_size)) != 0 ||
        (rc = decode_object(part[1], part_len[1], "payload", &out->payload,
                            error, error_size)) != 0 ||
        (rc = check_header(out, error, error_size)) != 0)
        return rc;
    out->issuer = json_string_value(json_object_get(out->payload, "iss"));
    out->signing_input = token;
    out->signing_input_len = part_len[0] + 1 + part_len[1];
    return 0;
}

int llmoin_jwt_decode(const char *token, size_t len, llmoin_jwt_t *out,
                      char *error, size_t error_size)
{
    int rc;

    llmoin_clear_error(error, error_size);
    if (out == NULL)
        return llmoin_fail(error, error_size, LLMOIN_JWT_EMALFORMED, "no output");
    memset(out, 0, sizeof *out);
    if (token == NULL)
        return llmoin_fail(error, error_size, LLMOIN_JWT_EMALFORMED, "no token");
    if (len > LLMOIN_JWT_MAX_LEN)
        return llmoin_fail(error, error_size, LLMOIN_JWT_ETOOLONG,
                    "the token is longer than %d bytes", LLMOIN_JWT_MAX_LEN);
    rc = decode_parts(token, len, out, error, error_size);
    if (rc != 0)
        llmoin_jwt_free(out);
    return rc;
}

void llmoin_jwt_free(llmoin_jwt_t *jwt)
{
    if (jwt == NULL)
        return;
    json_decref(jwt->header);
    json_decref(jwt->payload);
    memset(jwt, 0, sizeof *jwt);
}

/* --- signature ---------------------------------------------------------- */

/* JOSE r || s (32 + 32 bytes) -> DER ECDSA-Sig-Value, which OpenSSL wants.
 * Returns the DER length, 0 on failure. */
static size_t es256_to_der(const unsigned char raw[ES256_SIG_LEN],
                           unsigned char der[ES256_DER_MAX])
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, ES256_SIG_LEN / 2, NULL);
    BIGNUM *s = BN_bin2bn(raw + ES256_SIG_LEN / 2, ES256_SIG_LEN / 2, NULL);
    unsigned char *p = der;
    int n = 0;

    if (sig != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(sig, r, s)) {
        r = s = NULL; /* owned by sig now */
        if (i2d_ECDSA_SIG(sig, NULL) <= ES256_DER_MAX)
            n = i2d_ECDSA_SIG(sig, &p);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return n > 0 ? (size_t)n : 0;
}

/* Padding parameters of the pinned RSA algorithm. */
static bool set_rsa_padding(EVP_PKEY_CTX *pctx, llmoin_jwt_alg_t alg)
{
    if (alg == LLMOIN_JWT_ALG_RS256)
        return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, "SHA256", NULL) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, PS256_SALT_LEN) == 1;
}

/* The signature in the form OpenSSL verifies, or false if its length
 * cannot be right for the key. */
static bool signature_for_key(const llmoin_jwt_t *jwt, const llmoin_jwk_t *key,
                              unsigned char der[ES256_DER_MAX],
                              const unsigned char **sig, size_t *sig_len)
{
    if (key->alg == LLMOIN_JWT_ALG_ES256) {
        if (!EVP_PKEY_is_a(key->key, "EC") || jwt->signature_len != ES256_SIG_LEN)
            return false;
        *sig = der;
        *sig_len = es256_to_der(jwt->signature, der);
        return *sig_len > 0;
    }
    *sig = jwt->signature;
    *sig_len = jwt->signature_len;
    return EVP_PKEY_is_a(key->key, "RSA") &&
           jwt->signature_len == (size_t)EVP_PKEY_get_size(key->key);
}

/* 1 = valid, 0 = invalid, LLMOIN_JWT_ENOMEM. */
static int verify_pinned(const llmoin_jwt_t *jwt, const llmoin_jwk_t *key)
{
    unsigned char der[ES256_DER_MAX];
    const unsigned char *sig;
    size_t sig_len;
    EVP_MD_CTX *md;
    EVP_PKEY_CTX *pctx = NULL;
    int ok;

    if (!signature_for_key(jwt, key, der, &sig, &sig_len))
        return 0;
    md = EVP_MD_CTX_new();
    if (md == NULL)
        return LLMOIN_JWT_ENOMEM;
    ok = EVP_DigestVerifyInit_ex(md, &pctx, "SHA256", NULL, NULL, key->key,
                                 NULL) == 1 &&
         (key->alg == LLMOIN_JWT_ALG_ES256 || set_rsa_padding(pctx, key->alg)) &&
         EVP_DigestVerify(md, sig, sig_len,
                          (const unsigned char *)jwt->signing_input,
                          jwt->signing_input_len) == 1;
    EVP_MD_CTX_free(md); /* frees pctx too */
    return ok;
}

int llmoin_jwt_verify_signature(const llmoin_jwt_t *jwt,
                                const llmoin_jwk_t *key, char *error,
                                size_t error_size)
{
    int rc;

    llmoin_clear_error(error, error_size);
    if (jwt == NULL || key == NULL || key->key == NULL ||
        jwt->signing_input == NULL)
        return llmoin_fail(error, error_size, LLMOIN_JWT_ESIGNATURE,
                    "no token or no key to verify with");
    if (jwt->alg == LLMOIN_JWT_ALG_UNKNOWN)
        return llmoin_fail(error, error_size, LLMOIN_JWT_EALG,
                    "the token's 'alg' is not accepted (RS256, PS256, ES256)");
    if (jwt->alg != key->alg)
        return llmoin_fail(error, error_size, LLMOIN_JWT_EALG,
                    "the token's 'alg' does not match its key (%s)",
                    llmoin_jwt_alg_name(key->alg));
    ERR_set_mark(); /* a failed verification must not leave errors queued */
    rc = verify_pinned(jwt, key);
    ERR_pop_to_mark();
    if (rc == LLMOIN_JWT_ENOMEM)
        return llmoin_fail(error, error_size, rc, "out of memory");
    if (rc != 1)
        return llmoin_fail(error, error_size, LLMOIN_JWT_ESIGNATURE,
                    "the token signature does not verify");
    return LLMOIN_JWT_OK;
}

/* --- claims ------------------------------------------------------------- */

static int check_issuer(const json_t *payload, const char *issuer,
                        char *error, size_t error_size)
{
    const json_t *iss = json_object_get(payload, "iss");

    if (issuer == NULL)
        return llmoin_fail(error, error_size, LLMOIN_JWT_EISSUER,
                    "no issuer is configured");
    if (!json_is_string(iss))
        return llmoin_fail(error, error_size, LLMOIN_JWT_EISSUER,
                    "claim 'iss' must be a string");
    if (json_string_length(iss) != strlen(issuer) ||
        memcmp(json_string_value(iss), issuer, strlen(issuer)) != 0)
        return llmoin_fail(error, error_size, LLMOIN_JWT_EISSUER,
                    "claim 'iss' is not the expected issuer");
    return 0;
}

static bool string_equals(const json_t *v, const char *s)
{
    return json_is_string(v) && json_string_length(v) == strlen(s) &&
           memcmp(json_string_value(v), s, json_string_length(v)) == 0;
}

static int check_audience(const json_t *payload, const char *audience,
                          char *error, size_t error_size)
{
    const json_t *aud = json_object_get(payload, "aud"), *v;
    size_t i;
    bool found = false;

    if (audience == NULL)
        return llmoin_fail(error, error_size, LLMOIN_JWT_EAUDIENCE,
                    "no audience is configured");
    if (json_is_string(aud)) {
        found = string_equals(aud, audience);
    } else if (json_is_array(aud)) {
        json_array_foreach(aud, i, v) {
            if (!json_is_string(v))
                return llmoin_fail(error, error_size, LLMOIN_JWT_EAUDIENCE,
                            "claim 'aud' must be a string or an array of "
                            "strings");
            found = found || string_equals(v, audience);
        }
    } else {
        return llmoin_fail(error, error_size, LLMOIN_JWT_EAUDIENCE,
                    "claim 'aud' must be a string or an array of strings");
    }
    return found ? 0
                 : llmoin_fail(error, error_size, LLMOIN_JWT_EAUDIENCE,
                        "claim 'aud' does not contain the expected audience");
}

/* A NumericDate claim: 1 = present (in *out), 0 = absent, -1 = not a
 * finite number within 0..2^53. */
static int time_claim(const json_t *payload, const char *name, double *out)
{
    const json_t *v = json_object_get(payload, name);

    if (v == NULL)
        return 0;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);

        if (i < 0 || i > TIME_MAX_INT)
            return -1;
        *out = (double)i;
        return 1;
    }
    if (!json_is_real(v))
        return -1;
    *out = json_real_value(v);
    return isfinite(*out) && *out >= 0 && *out <= TIME_MAX ? 1 : -1;
}

static int check_times(const json_t *payload, const llmoin_jwt_expect_t *expect,
                       llmoin_jwt_identity_t *out, char *error,
                       size_t error_size)
{
    double now = (double)expect->now;
    double leeway = expect->leeway > 0 ? (double)expect->leeway : 0;
    double exp, nbf, iat;
    int has;

    if (time_claim(payload, "exp", &exp) != 1)
        return llmoin_fail(error, error_size, LLMOIN_JWT_EEXPIRED,
                    "claim 'exp' must be a number of seconds since 1970");
    if (now >= exp + leeway)
        return llmoin_fail(error, error_size, LLMOIN_JWT_EEXPIRED,
                    "the token has expired ('exp')");
    if ((has = time_claim(payload, "nbf", &nbf)) < 0)
        return llmoin_fail(error, error_size, LLMOIN_JWT_ENOTYET,
                    "claim 'nbf' must be a number of seconds since 1970");
    if (has && now + leeway < nbf)
        return llmoin_fail(error, error_size, LLMOIN_JWT_ENOTYET,
                    "the token is not valid yet ('nbf')");
    if ((has = time_claim(payload, "iat", &iat)) < 0)
        return llmoin_fail(error, error_size, LLMOIN_JWT_ENOTYET,
                    "claim 'iat' must be a number of seconds since 1970");
    if (has && iat > now + leeway)
        return llmoin_fail(error, error_size, LLMOIN_JWT_ENOTYET,
                    "the token was issued in the future ('iat')");
    out->expires_at = (long long)exp; /* exp >= 0: truncation rounds down */
    return 0;
}

static int check_user(const json_t *payload, const char *claim,
                      llmoin_jwt_identity_t *out, char *error,
                      size_t error_size)
{
    const json_t *v;
    size_t len;

    if (claim == NULL)
        return llmoin_fail(error, error_size, LLMOIN_JWT_EUSER,
                    "no user claim is configured");
    v = json_object_get(payload, claim);
    if (!json_is_string(v) || (len = json_string_length(v)) == 0 ||
        len >= sizeof out->user || has_control(json_string_value(v), len))
        return llmoin_fail(error, error_size, LLMOIN_JWT_EUSER,
                    "claim '%.64s' must be a non-empty string of at most %zu "
                    "bytes without control characters",
                    claim, sizeof out->user - 1);
    memcpy(out->user, json_string_value(v), len + 1);
    return 0;
}

/* Appends one group to out->groups. */
static int add_group(const json_t *v, const char *claim,
                     llmoin_jwt_identity_t *out, size_t *used, char *error,
                     size_t error_size)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v), sep = out->group_count > 0;

    if (s == NULL || len == 0 || memchr(s, ',', len) != NULL ||
        has_control(s, len))
        return llmoin_fail(error, error_size, LLMOIN_JWT_EGROUPS,
                    "claim '%.64s' must hold non-empty strings without commas "
                    "or control characters", claim);
    if (out->group_count == LLMOIN_JWT_GROUPS_COUNT)
        return llmoin_fail(error, error_size, LLMOIN_JWT_EGROUPS,
                    "claim '%.64s' has more than %d groups", claim,
                    LLMOIN_JWT_GROUPS_COUNT);
    if (len + sep >= sizeof out->groups - *used)
        return llmoin_fail(error, error_size, LLMOIN_JWT_EGROUPS,
                    "claim '%.64s' is longer than %zu bytes joined", claim,
                    sizeof out->groups - 1);
    if (sep)
        out->groups[(*used)++] = ',';
    memcpy(out->groups + *used, s, len);
    *used += len;
    out->groups[*used] = '\0';
    out->group_count++;
    return 0;
}

static int check_groups(const json_t *payload, const char *claim,
                        llmoin_jwt_identity_t *out, char *error,
                        size_t error_size)
{
    const json_t *groups, *v;
    size_t i, used = 0;
    int rc;

    if (claim == NULL || (groups = json_object_get(payload, claim)) == NULL)
        return 0;
    if (json_is_string(groups))
        return add_group(groups, claim, out, &used, error, error_size);
    if (!json_is_array(groups))
        return llmoin_fail(error, error_size, LLMOIN_JWT_EGROUPS,
                    "claim '%.64s' must be a string or an array of strings",
                    claim);
    json_array_foreach(groups, i, v)
        if ((rc = add_group(v, claim, out, &used, error, error_size)) != 0)
            return rc;
    return 0;
}

int llmoin_jwt_check_claims(const llmoin_jwt_t *jwt,
                            const llmoin_jwt_expect_t *expect,
                            llmoin_jwt_identity_t *out, char *error,
                            size_t error_size)
{
    int rc;

    llmoin_clear_error(error, error_size);
    if (out == NULL)
        return llmoin_fail(error, error_size, LLMOIN_JWT_EMALFORMED, "no output");
    memset(out, 0, sizeof *out);
    if (jwt == NULL || !json_is_object(jwt->payload) || expect == NULL)
        return llmoin_fail(error, error_size, LLMOIN_JWT_EMALFORMED,
                    "no decoded token or no expectations");
    if ((rc = check_issuer(jwt->payload, expect->issuer, error,
                           error_size)) != 0 ||
        (rc = check_audience(jwt->payload, expect->audience, error,
                             error_size)) != 0 ||
        (rc = check_times(jwt->payload, expect, out, error, error_size)) != 0 ||
        (rc = check_user(jwt->payload, expect->user_claim, out, error,
                         error_size)) != 0 ||
        (rc = check_groups(jwt->payload, expect->groups_claim, out, error,
                           error_size)) != 0) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    return LLMOIN_JWT_OK;
}

/* --- all of it ---------------------------------------------------------- */

static int authenticate(const llmoin_jwt_t *jwt, const llmoin_jwks_t *jwks,
                        const llmoin_jwt_expect_t *expect,
                        llmoin_jwt_identity_t *out, char *error,
                        size_t error_size)
{
    const llmoin_jwk_t *key;
    int rc;

    if (jwt->alg == LLMOIN_JWT_ALG_UNKNOWN)
        return llmoin_fail(error, error_size, LLMOIN_JWT_EALG,
                    "the token's 'alg' is not accepted (RS256, PS256, ES256)");
    if (jwt->kid != NULL)
        key = llmoin_jwks_find(jwks, jwt->kid);
    else /* no guessing among several keys */
        key = jwks != NULL && jwks->count == 1 ? &jwks->keys[0] : NULL;
    if (key == NULL)
        return llmoin_fail(error, error_size, LLMOIN_JWT_ENOKEY,
                    "no key of the issuer matches the token's 'kid'");
    if ((rc = llmoin_jwt_verify_signature(jwt, key, error, error_size)) != 0)
        return rc;
    return llmoin_jwt_check_claims(jwt, expect, out, error, error_size);
}

int llmoin_jwt_authenticate(const char *token, size_t len,
                            const llmoin_jwks_t *jwks,
                            const llmoin_jwt_expect_t *expect,
                            llmoin_jwt_identity_t *out, char *error,
                            size_t error_size)
{
    llmoin_jwt_t jwt;
    int rc;

    if (out != NULL)
        memset(out, 0, sizeof *out);
    rc = llmoin_jwt_decode(token, len, &jwt, error, error_size);
    if (rc != 0)
        return rc;
    rc = authenticate(&jwt, jwks, expect, out, error, error_size);
    llmoin_jwt_free(&jwt);
    return rc;
}

const char *llmoin_jwt_strerror(int err)
{
    switch (err) {
    case LLMOIN_JWT_OK:
        return "ok";
    case LLMOIN_JWT_EMALFORMED:
        return "malformed token";
    case LLMOIN_JWT_EALG:
        return "token algorithm not accepted";
    case LLMOIN_JWT_ESIGNATURE:
        return "invalid token signature";
    case LLMOIN_JWT_EEXPIRED:
        return "token expired";
    case LLMOIN_JWT_ENOTYET:
        return "token not valid yet";
    case LLMOIN_JWT_EISSUER:
        return "wrong token issuer";
    case LLMOIN_JWT_EAUDIENCE:
        return "wrong token audience";
    case LLMOIN_JWT_EUSER:
        return "no usable user in the token";
    case LLMOIN_JWT_EGROUPS:
        return "unusable groups in the token";
    case LLMOIN_JWT_ETOOLONG:
        return "token too long";
    case LLMOIN_JWT_ENOMEM:
        return "out of memory";
    case LLMOIN_JWT_ENOKEY:
        return "no key for the token";
    default:
        return "unknown token error";
    }
}
