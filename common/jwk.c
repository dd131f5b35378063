/*
 * jwk: see jwk.h.
 */
#include "jwk.h"

#include "errors.h"

#include "base64url.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RSA_N_MAX (LLMOIN_JWK_RSA_MAX_BITS / 8 + 1) /* one leading zero */
#define RSA_E_MAX 8     /* bytes */
#define RSA_E_MIN 65537 /* what every IdP uses; small e is legacy */
#define P256_COORD 32


const char *llmoin_jwt_alg_name(llmoin_jwt_alg_t alg)
{
    switch (alg) {
    case LLMOIN_JWT_ALG_RS256:
        return "RS256";
    case LLMOIN_JWT_ALG_PS256:
        return "PS256";
    case LLMOIN_JWT_ALG_ES256:
        return "ES256";
    default:
        return "unknown";
    }
}

llmoin_jwt_alg_t llmoin_jwt_alg_from_name(const char *name, size_t len)
{
    static const llmoin_jwt_alg_t algs[] = {
        LLMOIN_JWT_ALG_RS256, LLMOIN_JWT_ALG_PS256, LLMOIN_JWT_ALG_ES256};

    if (name == NULL || len != 5)
        return LLMOIN_JWT_ALG_UNKNOWN;
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        if (memcmp(name, llmoin_jwt_alg_name(algs[i]), 5) == 0)
            return algs[i];
    return LLMOIN_JWT_ALG_UNKNOWN;
}

bool llmoin_json_nesting_within(const char *text, size_t len, size_t max_depth)
{
    size_t depth = 0;
    bool in_string = false, escaped = false;

    for (size_t i = 0; i < len; i++) {
        char c = text[i];

        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth)
                return false;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--; /* unbalanced input is jansson's to refuse */
        }
    }
    return true;
}

/* A JSON string member as bytes, or NULL if absent or not a string. */
static const char *string_member(const json_t *object, const char *name,
                                 size_t *len)
{
    const json_t *v = json_object_get(object, name);

    if (!json_is_string(v))
        return NULL;
    *len = json_string_length(v);
    return json_string_value(v);
}

static bool string_is(const char *s, size_t len, const char *lit)
{
    return s != NULL && len == strlen(lit) && memcmp(s, lit, len) == 0;
}

static bool has_private_members(const json_t *jwk)
{
    static const char *const names[] = {"d", "p", "q", "dp", "dq", "qi", "oth"};

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (json_object_get(jwk, names[i]) != NULL)
            return true;
    return false;
}

static int parse_kid(const json_t *jwk, llmoin_jwk_t *out, char *error,
                     size_t error_size)
{
    const json_t *v = json_object_get(jwk, "kid");
    const char *kid;
    size_t len;

    if (v == NULL)
        return 0;
    if (!json_is_string(v))
        return llmoin_fail(error, error_size, LLMOIN_JWK_EMALFORMED,
                    "'kid' must be a string");
    kid = json_string_value(v);
    len = json_string_length(v);
    if (len == 0 || len > LLMOIN_JWK_KID_MAX)
        return llmoin_fail(error, error_size, LLMOIN_JWK_EMALFORMED,
                    "'kid' must be 1..%d bytes", LLMOIN_JWK_KID_MAX);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)kid[i] < 0x20 || kid[i] == 0x7f)
            return llmoin_fail(error, error_size, LLMOIN_JWK_EMALFORMED,
                        "'kid' contains a control character");
    memcpy(out->kid, kid, len);
    out->kid[len] = '\0';
    return 0;
}

/* "use" and "key_ops" (RFC 7517 §4.2, §4.3): the key must be meant for
 * verifying signatures, if it says what it is meant for. */
static int check_purpose(const json_t *jwk, char *error, size_t error_size)
{
    const json_t *use = json_object_get(jwk, "use");
    const json_t *ops = json_object_get(jwk, "key_ops");
    const json_t *op;
    size_t i;
    bool verify = false;

    if (use != NULL && !json_is_string(use))
        return llmoin_fail(error, error_size, LLMOIN_JWK_EMALFORMED,
                    "'use' must be a string");
    if (use != NULL && strcmp(json_string_value(use), "sig") != 0)
        return llmoin_fail(error, error_size, LLMOIN_JWK_EUNSUPPORTED,
                    "'use' is not \"sig\"");
    if (ops == NULL)
        return 0;
    if (!json_is_array(ops))
        return llmoin_fail(error, error_size, LLMOIN_JWK_EMALFORMED,
                    "'key_ops' must be an array of strings");
    json_array_foreach(ops, i, op) {
        if (!json_is_string(op))
            return llmoin_fail(error, error_size, LLMOIN_JWK_EMALFORMED,
                        "'key_ops' must be an array of strings");
        if (strcmp(json_string_value(op), "verify") == 0)
            verify = true;
    }
    return verify ? 0
                  : llmoin_fail(error, error_size, LLMOIN_JWK_EUNSUPPORTED,
                         "'key_ops' does not contain \"verify\"");
}

/* A strictly base64url-encoded member decoded into out[0..cap); a longer
 * value is reported as too_long (unsupported for RSA sizes, malformed for
 * fixed-size EC coordinates). */
static int decode_member(const json_t *jwk, const char *name,
                         unsigned char *out, size_t cap, size_t *out_len,
                         int too_long, char *error, size_t error_size)
{
    size_t len;
    const char *s = string_member(jwk, name, &len);

    if (s == NULL)
        return llmoin_fail(error, error_size, LLMOIN_JWK_EMALFORMED,
                    "'%s' must be a base64url string", name);
    if (llmoin_base64url_decoded_max(len) > cap)
        return llmoin_fail(error, error_size, too_long, "'%s' is too long", name);
    if (llmoin_base64url_decode(s, len, out, cap, out_len) != 0)
        return llmoin_fail(error, error_size, LLMOIN_JWK_EMALFORMED,
                    "'%s' is not strict unpadded base64url", name);
    return 0;
}

/* The pinned algorithm of a key of kty RSA (see the rule in jwk.h). */
static int pin_rsa_alg(const json_t *jwk, llmoin_jwt_alg_t *alg, char *error,
                       size_t error_size)
{
    const json_t *v = json_object_get(jwk, "alg");

    *alg = LLMOIN_JWT_ALG_RS256;
    if (v == NULL)
        return 0;
    if (!json_is_string(v))
        return llmoin_fail(error, error_size, LLMOIN_JWK_EMALFORMED,
                    "'alg' must be a string");
    *alg = llmoin_jwt_alg_from_name(json_string_value(v), json_string_length(v));
    if (*alg == LLMOIN_JWT_ALG_RS256 || *alg == LLMOIN_JWT_ALG_PS256)
        return 0;
    return llmoin_fail(error, error_size, LLMOIN_JWK_EUNSUPPORTED,
                "'alg' \"%.16s\" is not RS256 or PS256 (kty RSA)",
                json_string_value(v));
}

static int pin_ec_alg(const json_t *jwk, llmoin_jwt_alg_t *alg, char *error,
                      size_t error_size)
{
    const json_t *v = json_object_get(jwk, "alg");
    size_t len;
    const char *crv = string_member(jwk, "crv", &len);

    *alg = LLMOIN_JWT_ALG_ES256;
    if (crv == NULL)
        return llmoin_fail(error, error_size, LLMOIN_JWK_EMALFORMED,
                    "'crv' must be a string");
    if (!string_is(crv, len, "P-256"))
        return llmoin_fail(error, error_size, LLMOIN_JWK_EUNSUPPORTED,
                    "curve \"%.16s\" is not P-256", crv);
    if (v == NULL)
        return 0;
    if (!json_is_string(v))
        return llmoin_fail(error, error_size, LLMOIN_JWK_EMALFORMED,
                    "'alg' must be a string");
    if (llmoin_jwt_alg_from_name(json_string_value(v), json_string_length(v)) ==
        LLMOIN_JWT_ALG_ES256)
        return 0;
    return llmoin_fail(error, error_size, LLMOIN_JWK_EUNSUPPORTED,
                "'alg' \"%.16s\" is not ES256 (kty EC, crv P-256)",
                json_string_value(v));
}

/* EVP_PKEY_fromdata, and OpenSSL's public key validation if validate. */
static int make_pkey(const char *type, const OSSL_PARAM *params, bool validate,
                     EVP_PKEY **out, char *error, size_t error_size)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY_CTX *check = NULL;
    int rc = 0;

    if (ctx == NULL)
        return llmoin_fail(error, error_size, LLMOIN_JWK_ENOMEM, "out of memory");
    if (EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY,
                          (OSSL_PARAM *)params) != 1) {
        rc = llmoin_fail(error, error_size, LLMOIN_JWK_EMALFORMED,
                  "OpenSSL does not accept the %s key", type);
        goto done;
    }
    if (!validate)
        goto done;
    check = EVP_PKEY_CTX_new_from_pkey(NULL, *out, NULL);
    if (check == NULL) {
        rc = llmoin_fail(error, error_size, LLMOIN_JWK_ENOMEM, "out of memory");
        goto done;
    }
    if (EVP_PKEY_public_check(check) != 1)
        rc = llmoin_fail(error, error_size, LLMOIN_JWK_EMALFORMED,
                  "the %s public key fails validation", type);
done:
    if (rc != 0) {
        EVP_PKEY_free(*out);
        *out = NULL;
    }
    EVP_PKEY_CTX_free(check);
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

static int rsa_pkey(const unsigned char *n, size_t n_len,
                    const unsigned char *e, size_t e_len, EVP_PKEY **out,
                    char *error, size_t error_size)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *bn_n = BN_bin2bn(n, (int)n_len, NULL);
    BIGNUM *bn_e = BN_bin2bn(e, (int)e_len, NULL);
    OSSL_PARAM *params = NULL;
    int rc;

    if (bld == NULL || bn_n == NULL || bn_e == NULL ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
        rc = llmoin_fail(error, error_size, LLMOIN_JWK_ENOMEM, "out of memory");
    else
        rc = make_pkey("RSA", params, false, out, error, error_size);
    OSSL_PARAM_free(params);
    BN_free(bn_e);
    BN_free(bn_n);
    OSSL_PARAM_BLD_free(bld);
    return rc;
}

/* Modulus bits of the big-endian n[0..len) (leading zeros allowed). */
static size_t bit_length(const unsigned char *n, size_t len)
{
    size_t i = 0, bits;

    while (i < len && n[i] == 0)
        i++;
    if (i == len)
        return 0;
    bits = (len - i) * 8;
    for (unsigned char top = n[i]; !(top & 0x80); top <<= 1)
        bits--;
    return bits;
}

/* The big-endian e[0..len), len <= 8. */
static uint64_t exponent(const unsigned char *e, size_t len)
{
    uint64_t v = 0;

    for (size_t i = 0; i < len; i++)
        v = v << 8 | e[i];
    return v;
}

static int parse_rsa(const json_t *jwk, llmoin_jwk_t *out, char *error,
                     size_t error_size)
{
    unsigned char n[RSA_N_MAX], e[RSA_E_MAX];
    size_t n_len, e_len, bits;
    int rc;

    if ((rc = pin_rsa_alg(jwk, &out->alg, error, error_size)) != 0 ||
        (rc = decode_member(jwk, "n", n, sizeof n, &n_len,
                            LLMOIN_JWK_EUNSUPPORTED, error, error_size)) != 0 ||
        (rc = decode_member(jwk, "e", e, sizeof e, &e_len,
                            LLMOIN_JWK_EUNSUPPORTED, error, error_size)) != 0)
        return rc;
    if (exponent(e, e_len) < RSA_E_MIN)
        return llmoin_fail(error, error_size, LLMOIN_JWK_EUNSUPPORTED,
                    "RSA public exponent below %d", RSA_E_MIN);
    bits = bit_length(n, n_len);
    if (bits < LLMOIN_JWK_RSA_MIN_BITS || bits > LLMOIN_JWK_RSA_MAX_BITS)
        return llmoin_fail(error, error_size, LLMOIN_JWK_EUNSUPPORTED,
                    "RSA modulus of %zu bits (need %d..%d)", bits,
                    LLMOIN_JWK_RSA_MIN_BITS, LLMOIN_JWK_RSA_MAX_BITS);
    /* The cheap part of SP 800-56B's public key check. Its primality test
     * is left out: it costs ~3 ms per 2048-bit key (18 ms at 4096) in
     * every process that loads the keys, and guards nothing here, since
     * whoever controls an issuer's JWKS can publish a key of their own. */
    if (!(n[n_len - 1] & 1) || !(e[e_len - 1] & 1))
        return llmoin_fail(error, error_size, LLMOIN_JWK_EMALFORMED,
                    "RSA modulus and exponent must be odd");
    return rsa_pkey(n, n_len, e, e_len, &out->key, error, error_size);
}

static int parse_ec(const json_t *jwk, llmoin_jwk_t *out, char *error,
                    size_t error_size)
{
    unsigned char point[1 + 2 * P256_COORD] = {0x04}; /* uncompressed */
    size_t x_len, y_len;
    int rc;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                         (char *)"P-256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point,
                                          sizeof point),
        OSSL_PARAM_construct_end()};

    if ((rc = pin_ec_alg(jwk, &out->alg, error, error_size)) != 0 ||
        (rc = decode_member(jwk, "x", point + 1, P256_COORD, &x_len,
                            LLMOIN_JWK_EMALFORMED, error, error_size)) != 0 ||
        (rc = decode_member(jwk, "y", point + 1 + P256_COORD, P256_COORD,
                            &y_len, LLMOIN_JWK_EMALFORMED, error,
                            error_size)) != 0)
        return rc;
    if (x_len != P256_COORD || y_len != P256_COORD)
        return llmoin_fail(error, error_size, LLMOIN_JWK_EMALFORMED,
                    "'x' and 'y' must be %d bytes each", P256_COORD);
    return make_pkey("EC", params, true, &out->key, error, error_size);
}

static int parse_key(const json_t *jwk, llmoin_jwk_t *out, char *error,
                     size_t error_size)
{
    size_t len;
    const char *kty;
    int rc;

    if (!json_is_object(jwk))
        return llmoin_fail(error, error_size, LLMOIN_JWK_EMALFORMED,
                    "a JWK must be an object");
    if (has_private_members(jwk))
        return llmoin_fail(error, error_size, LLMOIN_JWK_EPRIVATE,
                    "the JWK contains private key members");
    kty = string_member(jwk, "kty", &len);
    if (kty == NULL)
        return llmoin_fail(error, error_size, LLMOIN_JWK_EMALFORMED,
                    "'kty' must be a string");
    if ((rc = parse_kid(jwk, out, error, error_size)) != 0 ||
        (rc = check_purpose(jwk, error, error_size)) != 0)
        return rc;
    if (string_is(kty, len, "RSA"))
        return parse_rsa(jwk, out, error, error_size);
    if (string_is(kty, len, "EC"))
        return parse_ec(jwk, out, error, error_size);
    return llmoin_fail(error, error_size, LLMOIN_JWK_EUNSUPPORTED,
                "key type \"%.16s\" is not supported", kty);
}

int llmoin_jwk_parse(const json_t *jwk, llmoin_jwk_t *out, char *error,
                     size_t error_size)
{
    int rc;

    llmoin_clear_error(error, error_size);
    if (out == NULL)
        return llmoin_fail(error, error_size, LLMOIN_JWK_EINVAL, "no output");
    memset(out, 0, sizeof *out);
    if (jwk == NULL)
        return llmoin_fail(error, error_size, LLMOIN_JWK_EINVAL, "no JWK");
    ERR_set_mark(); /* failures below must not leak into the caller's queue */
    rc = parse_key(jwk, out, error, error_size);
    ERR_pop_to_mark();
    if (rc != 0)
        llmoin_jwk_free(out);
    return rc;
}

void llmoin_jwk_free(llmoin_jwk_t *jwk)
{
    if (jwk == NULL)
        return;
    EVP_PKEY_free(jwk->key);
    memset(jwk, 0, sizeof *jwk);
}

/* Parses entry i of the set into *key; 1 = usable, 0 = skipped, < 0 = the
 * set is refused. The reason for the first skip goes to error. */
static int parse_entry(const json_t *entry, size_t i, llmoin_jwk_t *key,
                       size_t *skipped, char *error, size_t error_size)
{
    char reason[160];
    int rc = llmoin_jwk_parse(entry, key, reason, sizeof reason);

    if (rc == 0)
        return 1;
    if (rc == LLMOIN_JWK_EPRIVATE || rc == LLMOIN_JWK_ENOMEM)
        return llmoin_fail(error, error_size, rc, "keys[%zu]: %s", i, reason);
    if ((*skipped)++ == 0)
        llmoin_fail(error, error_size, rc, "keys[%zu] skipped: %s", i, reason);
    return 0;
}

static int parse_set(const json_t *jwks, llmoin_jwks_t *out, size_t *skipped,
                     char *error, size_t error_size)
{
    const json_t *keys = json_object_get(jwks, "keys");
    const json_t *entry;
    size_t i;
    int rc;

    if (!json_is_object(jwks) || !json_is_array(keys))
        return llmoin_fail(error, error_size, LLMOIN_JWK_EMALFORMED,
                    "a JWKS must be an object with a 'keys' array");
    if (json_array_size(keys) > LLMOIN_JWKS_KEYS_MAX)
        return llmoin_fail(error, error_size, LLMOIN_JWK_EMALFORMED,
                    "a JWKS may hold at most %d keys", LLMOIN_JWKS_KEYS_MAX);
    if (json_array_size(keys) == 0)
        return 0;
    out->keys = calloc(json_array_size(keys), sizeof *out->keys);
    if (out->keys == NULL)
        return llmoin_fail(error, error_size, LLMOIN_JWK_ENOMEM, "out of memory");
    json_array_foreach(keys, i, entry) {
        llmoin_jwk_t *key = &out->keys[out->count];

        rc = parse_entry(entry, i, key, skipped, error, error_size);
        if (rc < 0)
            return rc;
        if (rc == 0)
            continue;
        if (key->kid[0] != '\0' && llmoin_jwks_find(out, key->kid) != NULL) {
            rc = llmoin_fail(error, error_size, LLMOIN_JWK_EDUPLICATE,
                      "keys[%zu]: kid \"%.32s\" is used by two keys", i,
                      key->kid);
            llmoin_jwk_free(key);
            return rc;
        }
        out->count++;
    }
    if (out->count == 0) {
        free(out->keys);
        out->keys = NULL;
    }
    return 0;
}

int llmoin_jwks_parse(const json_t *jwks, llmoin_jwks_t *out, size_t *skipped,
                      char *error, size_t error_size)
{
    size_t ignored;
    int rc;

    if (skipped == NULL)
        skipped = &ignored;
    *skipped = 0;
    llmoin_clear_error(error, error_size);
    if (out == NULL)
        return llmoin_fail(error, error_size, LLMOIN_JWK_EINVAL, "no output");
    memset(out, 0, sizeof *out);
    if (jwks == NULL)
        return llmoin_fail(error, error_size, LLMOIN_JWK_EINVAL, "no JWKS");
    rc = parse_set(jwks, out, skipped, error, error_size);
    if (rc != 0) {
        llmoin_jwks_free(out);
        *skipped = 0;
    }
    return rc;
}

int llmoin_jwks_parse_text(const char *text, size_t len, llmoin_jwks_t *out,
                           size_t *skipped, char *error, size_t error_size)
{
    json_error_t json_error;
    json_t *jwks;
    int rc;

    if (skipped != NULL)
        *skipped = 0;
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (out == NULL || (text == NULL && len > 0))
        return llmoin_fail(error, error_size, LLMOIN_JWK_EINVAL, "no text or output");
    if (len > LLMOIN_JWKS_TEXT_MAX)
        return llmoin_fail(error, error_size, LLMOIN_JWK_ETOOLARGE,
                    "the JWKS is larger than %d bytes", LLMOIN_JWKS_TEXT_MAX);
    if (!llmoin_json_nesting_within(text, len, LLMOIN_JSON_NESTING_MAX))
        return llmoin_fail(error, error_size, LLMOIN_JWK_EMALFORMED,
                    "the JWKS nests deeper than %d levels",
                    LLMOIN_JSON_NESTING_MAX);
    jwks = json_loadb(text, len, JSON_REJECT_DUPLICATES, &json_error);
    if (jwks == NULL)
        return llmoin_fail(error, error_size, LLMOIN_JWK_EMALFORMED,
                    "the JWKS is not JSON (line %d, column %d): %.80s",
                    json_error.line, json_error.column, json_error.text);
    rc = llmoin_jwks_parse(jwks, out, skipped, error, error_size);
    json_decref(jwks);
    return rc;
}

void llmoin_jwks_free(llmoin_jwks_t *jwks)
{
    if (jwks == NULL)
        return;
    for (size_t i = 0; i < jwks->count; i++)
        llmoin_jwk_free(&jwks->keys[i]);
    free(jwks->keys);
    jwks->keys = NULL;
    jwks->count = 0;
}

const llmoin_jwk_t *llmoin_jwks_find(const llmoin_jwks_t *jwks,
                                     const char *kid)
{
    if (jwks == NULL || kid == NULL || kid[0] == '\0')
        return NULL;
    for (size_t i = 0; i < jwks->count; i++)
        if (strcmp(jwks->keys[i].kid, kid) == 0)
            return &jwks->keys[i];
    return NULL;
}

const char *llmoin_jwk_strerror(int err)
{
    switch (err) {
    case LLMOIN_JWK_OK:
        return "ok";
    case LLMOIN_JWK_EINVAL:
        return "invalid argument";
    case LLMOIN_JWK_EMALFORMED:
        return "malformed JWK or JWKS";
    case LLMOIN_JWK_EUNSUPPORTED:
        return "unsupported key";
    case LLMOIN_JWK_EPRIVATE:
        return "private key material in the JWKS";
    case LLMOIN_JWK_EDUPLICATE:
        return "duplicate kid in the JWKS";
    case LLMOIN_JWK_ETOOLARGE:
        return "JWKS too large";
    case LLMOIN_JWK_ENOMEM:
        return "out of memory";
    default:
        return "unknown JWK error";
    }
}
