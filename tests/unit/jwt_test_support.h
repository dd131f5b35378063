/*
 * jwt_test_support.h: keys, JWK Sets and signed tokens for the unit tests
 * that need real ones (test_jwk.c, test_jwt.c, test_token.c), made here
 * with OpenSSL so that no test needs fixture files.
 *
 * Header-only, not a unit of its own: every helper is `static inline`, so
 * each test executable gets its own copy and an unused helper raises no
 * -Wunused-function (warnings are errors). Include it after nothing or after
 * the usual cmocka prerequisites; it includes what it needs.
 *
 * Conventions
 *   - Any failure fails the running cmocka test (assert_*), so callers do
 *     not check results.
 *   - char * results are malloc'd: the caller frees them.
 *   - json_t * results are new references; json_t * arguments documented
 *     as "stolen" are consumed (decref'd or stored), like jansson's *_new.
 *   - Algorithms are the pinned ones of jwk.h; ES256 signatures come in the
 *     JOSE r || s form unless DER is asked for.
 *
 * Keys and sets
 *   b64(bytes, len)               base64url text (malloc'd)
 *   b64_bytes(bytes, len)         the same as a JSON string
 *   b64_param(key, name, pad)     a BIGNUM parameter of an EVP_PKEY, as a
 *                                 JSON string, left-padded to pad bytes if pad
 *   public_jwk(key, kid, alg)     the public JWK of an RSA or EC (P-256,
 *                                 P-384) key; kid/alg NULL leave them out
 *   set_of(jwk, ..., NULL)        {"keys":[...]} (JWKs stolen)
 *   dump(json)                    compact JSON text (json stolen)
 *
 * Tokens
 *   jws_header(alg, kid)          {"alg":alg,"typ":"JWT"[,"kid":kid]}
 *   with(payload, name, value)    sets name to value (stolen), or removes
 *                                 it for value NULL; returns payload
 *   dot_join(a, b)                "a.b"
 *   signing_input(h, p)           "<b64 h>.<b64 p>" of two JSON texts
 *   sign(key, alg, der, input, sig)   signs input; returns the length
 *   append_signature(input, sig, len) "<input>.<b64 sig>" (input freed)
 *   token_text(h, p, key, alg)    a signed token of two JSON texts
 *   token_json(h, p, key, alg)    the same of two JSON values (stolen)
 *
 * Checks
 *   assert_no_echo(message, token)  no 12-byte window of token appears in
 *                                   message
 */
#ifndef LLMOIN_JWT_TEST_SUPPORT_H
#define LLMOIN_JWT_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "base64url.h"
#include "jwk.h"

/* --- keys and sets ----------------------------------------------------------- */

static inline char *b64(const void *bytes, size_t len)
{
    size_t cap = llmoin_base64url_encoded_len(len) + 1;
    char *text = malloc(cap);

    assert_non_null(text);
    assert_int_equal(llmoin_base64url_encode(bytes, len, text, cap, NULL), 0);
    return text;
}

static inline json_t *b64_bytes(const void *bytes, size_t len)
{
    char *text = b64(bytes, len);
    json_t *json = json_string(text);

    free(text);
    assert_non_null(json);
    return json;
}

static inline json_t *b64_param(EVP_PKEY *key, const char *name, int pad)
{
    BIGNUM *bn = NULL;
    unsigned char buf[1100];
    int len;

    assert_int_equal(EVP_PKEY_get_bn_param(key, name, &bn), 1);
    assert_true(BN_num_bytes(bn) <= (int)sizeof buf && pad <= (int)sizeof buf);
    len = pad ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
    BN_clear_free(bn); /* may be a private parameter */
    assert_true(len >= 0);
    return b64_bytes(buf, (size_t)len);
}

static inline json_t *public_jwk(EVP_PKEY *key, const char *kid, const char *alg)
{
    json_t *jwk;

    if (EVP_PKEY_is_a(key, "RSA")) {
        jwk = json_pack("{s:s, s:o, s:o}", "kty", "RSA", "n",
                        b64_param(key, OSSL_PKEY_PARAM_RSA_N, 0), "e",
                        b64_param(key, OSSL_PKEY_PARAM_RSA_E, 0));
    } else {
        char group[64];
        int size = (EVP_PKEY_get_bits(key) + 7) / 8;

        assert_int_equal(EVP_PKEY_get_utf8_string_param(
                             key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                             NULL), 1);
        jwk = json_pack("{s:s, s:s, s:o, s:o}", "kty", "EC", "crv",
                        strcmp(group, "prime256v1") == 0 ? "P-256" : "P-384", "x",
                        b64_param(key, OSSL_PKEY_PARAM_EC_PUB_X, size), "y",
                        b64_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, size));
    }
    assert_non_null(jwk);
    if (kid != NULL)
        json_object_set_new(jwk, "kid", json_string(kid));
    if (alg != NULL)
        json_object_set_new(jwk, "alg", json_string(alg));
    return jwk;
}

static inline json_t *set_of(json_t *first, ...)
{
    json_t *keys = json_array(), *jwk = first;
    va_list args;

    va_start(args, first);
    for (; jwk != NULL; jwk = va_arg(args, json_t *))
        json_array_append_new(keys, jwk);
    va_end(args);
    return json_pack("{s:o}", "keys", keys);
}

static inline char *dump(json_t *json)
{
    char *text = json_dumps(json, JSON_COMPACT);

    json_decref(json);
    assert_non_null(text);
    return text;
}

/* --- tokens ------------------------------------------------------------------- */

static inline json_t *jws_header(const char *alg, const char *kid)
{
    json_t *h = json_pack("{s:s, s:s}", "alg", alg, "typ", "JWT");

    assert_non_null(h);
    if (kid != NULL)
        json_object_set_new(h, "kid", json_string(kid));
    return h;
}

static inline json_t *with(json_t *payload, const char *name, json_t *value)
{
    if (value == NULL)
        json_object_del(payload, name);
    else
        json_object_set_new(payload, name, value);
    return payload;
}

/* "a.b" (malloc'd) */
static inline char *dot_join(const char *a, const char *b)
{
    char *joined = malloc(strlen(a) + strlen(b) + 2);

    assert_non_null(joined);
    sprintf(joined, "%s.%s", a, b);
    return joined;
}

static inline char *signing_input(const char *header, const char *payload)
{
    char *h = b64(header, strlen(header)), *p = b64(payload, strlen(payload));
    char *input = dot_join(h, p);

    free(h);
    free(p);
    return input;
}

/* JOSE r || s from a DER ECDSA-Sig-Value. */
static inline size_t der_to_raw(const unsigned char *der, size_t len, unsigned char *raw)
{
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &der, (long)len);
    const BIGNUM *r, *s;

    assert_non_null(sig);
    ECDSA_SIG_get0(sig, &r, &s);
    assert_int_equal(BN_bn2binpad(r, raw, 32), 32);
    assert_int_equal(BN_bn2binpad(s, raw + 32, 32), 32);
    ECDSA_SIG_free(sig);
    return 64;
}

/* Signs input with key the way alg says (PS256: MGF1-SHA256, 32-byte salt);
 * ES256 as r || s unless der. */
static inline size_t sign(EVP_PKEY *key, llmoin_jwt_alg_t alg, bool der,
                          const char *input, unsigned char sig[600])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char out[600];
    size_t n = sizeof out;

    assert_non_null(md);
    assert_int_equal(EVP_DigestSignInit_ex(md, &pctx, "SHA256", NULL, NULL, key,
                                           NULL), 1);
    if (alg == LLMOIN_JWT_ALG_PS256) {
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, "SHA256", NULL), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32), 1);
    }
    assert_int_equal(EVP_DigestSign(md, out, &n, (const unsigned char *)input,
                                    strlen(input)), 1);
    EVP_MD_CTX_free(md);
    if (alg == LLMOIN_JWT_ALG_ES256 && !der)
        return der_to_raw(out, n, sig);
    memcpy(sig, out, n);
    return n;
}

static inline char *append_signature(char *input, const unsigned char *sig, size_t len)
{
    char *s = b64(sig, len);
    char *token = dot_join(input, s);

    free(input);
    free(s);
    return token;
}

static inline char *token_text(const char *header, const char *payload, EVP_PKEY *key,
                               llmoin_jwt_alg_t alg)
{
    char *input = signing_input(header, payload);
    unsigned char sig[600];
    size_t n = sign(key, alg, false, input, sig);

    return append_signature(input, sig, n);
}

static inline char *token_json(json_t *header, json_t *payload, EVP_PKEY *key,
                               llmoin_jwt_alg_t alg)
{
    char *h = dump(header), *p = dump(payload);
    char *token = token_text(h, p, key, alg);

    free(h);
    free(p);
    return token;
}

/* --- checks ------------------------------------------------------------------- */

static inline void assert_no_echo(const char *message, const char *token)
{
    size_t len = strlen(token);

    for (size_t i = 0; i + 12 <= len; i++) {
        char window[13];

        memcpy(window, token + i, 12);
        window[12] = '\0';
        if (strstr(message, window) != NULL)
            fail_msg("the message echoes the token (\"%s\"): %s", window, message);
    }
}

#endif
