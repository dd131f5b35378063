/*
 * jwk: JWKs and JWK Sets built from keys generated here with OpenSSL (so
 * the tests need no fixtures): the pinning rule for every kty/crv/alg
 * combination, the usability rules (use, key_ops, sizes, curves, kid), the
 * set rules (skipped keys are counted, private key material and duplicate
 * kids refuse the set), the text limits (1 MiB, nesting, duplicate
 * members) and lookups. Every refusal also runs under ASan/LSan in the
 * sanitizer build.
 */
#include <openssl/err.h>

#include "jwt_test_support.h"

#define S(lit) lit, sizeof(lit) - 1

typedef struct keys {
    EVP_PKEY *rsa, *rsa2, *rsa1024, *rsa4096, *p256, *p384;
} keys_t;

static keys_t K;

/* --- helpers -------------------------------------------------------------- */

/* (JWKs of generated keys, sets and JSON text: jwt_test_support.h) */

/* Parses one JWK (reference stolen); returns the code, frees the key. */
static int parse_one(json_t *jwk, llmoin_jwt_alg_t *alg)
{
    llmoin_jwk_t key;
    char error[160];
    int rc = llmoin_jwk_parse(jwk, &key, error, sizeof error);

    json_decref(jwk);
    if (alg != NULL)
        *alg = key.alg;
    assert_true(rc == 0 ? key.key != NULL : key.key == NULL);
    assert_true(rc == 0 ? error[0] == '\0' : error[0] != '\0');
    llmoin_jwk_free(&key);
    assert_int_equal(ERR_peek_error(), 0); /* no OpenSSL errors left behind */
    return rc;
}

/* Parses a set (reference stolen) into *out; returns the code. */
static int parse_set(json_t *jwks, llmoin_jwks_t *out, size_t *skipped,
                     char *error, size_t error_size)
{
    int rc = llmoin_jwks_parse(jwks, out, skipped, error, error_size);

    json_decref(jwks);
    assert_int_equal(ERR_peek_error(), 0);
    return rc;
}

static int setup(void **state)
{
    (void)state;
    K.rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    K.rsa2 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    K.rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    K.rsa4096 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
    K.p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    K.p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    return K.rsa && K.rsa2 && K.rsa1024 && K.rsa4096 && K.p256 && K.p384 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(K.rsa);
    EVP_PKEY_free(K.rsa2);
    EVP_PKEY_free(K.rsa1024);
    EVP_PKEY_free(K.rsa4096);
    EVP_PKEY_free(K.p256);
    EVP_PKEY_free(K.p384);
    return 0;
}

/* --- algorithm names --------------------------------------------------------- */

static void test_alg_names(void **state)
{
    (void)state;
    assert_int_equal(llmoin_jwt_alg_from_name(S("RS256")), LLMOIN_JWT_ALG_RS256);
    assert_int_equal(llmoin_jwt_alg_from_name(S("PS256")), LLMOIN_JWT_ALG_PS256);
    assert_int_equal(llmoin_jwt_alg_from_name(S("ES256")), LLMOIN_JWT_ALG_ES256);
    static const char *const unknown[] = {
        "none", "None", "HS256", "RS384", "RS512", "PS384", "ES384", "ES512",
        "EdDSA", "rs256", "Rs256", "RS256 ", " RS256", "RS25", "RS2566", "",
        "ES256K",
    };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        assert_int_equal(llmoin_jwt_alg_from_name(unknown[i], strlen(unknown[i])),
                         LLMOIN_JWT_ALG_UNKNOWN);
    assert_int_equal(llmoin_jwt_alg_from_name(NULL, 5), LLMOIN_JWT_ALG_UNKNOWN);
    /* the length counts, not a NUL */
    assert_int_equal(llmoin_jwt_alg_from_name("RS2567", 5), LLMOIN_JWT_ALG_RS256);
    assert_int_equal(llmoin_jwt_alg_from_name("RS256\0", 6), LLMOIN_JWT_ALG_UNKNOWN);
    assert_string_equal(llmoin_jwt_alg_name(LLMOIN_JWT_ALG_RS256), "RS256");
    assert_string_equal(llmoin_jwt_alg_name(LLMOIN_JWT_ALG_PS256), "PS256");
    assert_string_equal(llmoin_jwt_alg_name(LLMOIN_JWT_ALG_ES256), "ES256");
    assert_string_equal(llmoin_jwt_alg_name(LLMOIN_JWT_ALG_UNKNOWN), "unknown");
    assert_string_equal(llmoin_jwt_alg_name((llmoin_jwt_alg_t)42), "unknown");
}

/* --- single keys: pinning ---------------------------------------------------- */

static void test_rsa_pinning(void **state)
{
    (void)state;
    llmoin_jwt_alg_t alg;

    assert_int_equal(parse_one(public_jwk(K.rsa, "k", NULL), &alg), 0);
    assert_int_equal(alg, LLMOIN_JWT_ALG_RS256); /* no alg: RS256 only */
    assert_int_equal(parse_one(public_jwk(K.rsa, "k", "RS256"), &alg), 0);
    assert_int_equal(alg, LLMOIN_JWT_ALG_RS256);
    assert_int_equal(parse_one(public_jwk(K.rsa, "k", "PS256"), &alg), 0);
    assert_int_equal(alg, LLMOIN_JWT_ALG_PS256);

    static const char *const refused[] = {
        "ES256", "HS256", "none", "RS384", "RS512", "PS512", "rs256", "",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        assert_int_equal(parse_one(public_jwk(K.rsa, "k", refused[i]), NULL),
                         LLMOIN_JWK_EUNSUPPORTED);
    json_t *jwk = public_jwk(K.rsa, "k", NULL);
    json_object_set_new(jwk, "alg", json_integer(256));
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EMALFORMED);
}

static void test_ec_pinning(void **state)
{
    (void)state;
    llmoin_jwt_alg_t alg;

    assert_int_equal(parse_one(public_jwk(K.p256, "e", NULL), &alg), 0);
    assert_int_equal(alg, LLMOIN_JWT_ALG_ES256);
    assert_int_equal(parse_one(public_jwk(K.p256, "e", "ES256"), &alg), 0);
    assert_int_equal(alg, LLMOIN_JWT_ALG_ES256);

    static const char *const refused[] = {"RS256", "PS256", "ES384", "ES512",
                                          "HS256", "none", "es256"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        assert_int_equal(parse_one(public_jwk(K.p256, "e", refused[i]), NULL),
                         LLMOIN_JWK_EUNSUPPORTED);
    /* P-384 is not supported, with or without a matching alg */
    assert_int_equal(parse_one(public_jwk(K.p384, "e", NULL), NULL),
                     LLMOIN_JWK_EUNSUPPORTED);
    assert_int_equal(parse_one(public_jwk(K.p384, "e", "ES384"), NULL),
                     LLMOIN_JWK_EUNSUPPORTED);
    assert_int_equal(parse_one(public_jwk(K.p384, "e", "ES256"), NULL),
                     LLMOIN_JWK_EUNSUPPORTED);
    json_t *jwk = public_jwk(K.p256, "e", NULL);
    json_object_del(jwk, "crv");
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EMALFORMED);
    jwk = public_jwk(K.p256, "e", NULL);
    json_object_set_new(jwk, "alg", json_pack("[s]", "ES256"));
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EMALFORMED);
}

static void test_parsed_key_is_the_key(void **state)
{
    (void)state;
    llmoin_jwk_t key;
    json_t *jwk = public_jwk(K.rsa, "kid-1", "PS256");

    assert_int_equal(llmoin_jwk_parse(jwk, &key, NULL, 0), 0);
    assert_string_equal(key.kid, "kid-1");
    assert_int_equal(key.alg, LLMOIN_JWT_ALG_PS256);
    assert_int_equal(EVP_PKEY_eq(key.key, K.rsa), 1);
    assert_int_equal(EVP_PKEY_eq(key.key, K.rsa2), 0);
    llmoin_jwk_free(&key);
    llmoin_jwk_free(&key); /* twice is fine */
    json_decref(jwk);

    jwk = public_jwk(K.p256, NULL, NULL);
    assert_int_equal(llmoin_jwk_parse(jwk, &key, NULL, 0), 0);
    assert_string_equal(key.kid, ""); /* kid is optional for a single key */
    assert_int_equal(EVP_PKEY_eq(key.key, K.p256), 1);
    llmoin_jwk_free(&key);
    json_decref(jwk);
}

/* --- single keys: usability ---------------------------------------------------- */

static void test_key_sizes(void **state)
{
    (void)state;
    unsigned char n[520];
    json_t *jwk;

    assert_int_equal(parse_one(public_jwk(K.rsa1024, "k", NULL), NULL),
                     LLMOIN_JWK_EUNSUPPORTED);
    assert_int_equal(parse_one(public_jwk(K.rsa4096, "k", NULL), NULL), 0);

    /* 4097 and 8192 bits (odd junk moduli: refused on size alone) */
    memset(n, 0xab, sizeof n);
    n[0] = 0x01;
    jwk = public_jwk(K.rsa, "k", NULL);
    json_object_set_new(jwk, "n", b64_bytes(n, 513));
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EUNSUPPORTED);
    jwk = public_jwk(K.rsa, "k", NULL);
    json_object_set_new(jwk, "n", b64_bytes(n, 520));
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EUNSUPPORTED);
    /* zero */
    jwk = public_jwk(K.rsa, "k", NULL);
    json_object_set_new(jwk, "n", json_string("AAAA"));
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EUNSUPPORTED);
    /* 2047 bits */
    n[0] = 0x7f;
    jwk = public_jwk(K.rsa, "k", NULL);
    json_object_set_new(jwk, "n", b64_bytes(n, 256));
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EUNSUPPORTED);
}

static void test_rsa_members(void **state)
{
    (void)state;
    BIGNUM *bn = NULL;
    unsigned char n[260];
    json_t *jwk;
    int len;

    assert_int_equal(EVP_PKEY_get_bn_param(K.rsa, OSSL_PKEY_PARAM_RSA_N, &bn), 1);
    n[0] = 0;
    len = BN_bn2bin(bn, n + 1);
    BN_free(bn);

    /* a leading zero octet is tolerated (some IdPs send one) */
    jwk = public_jwk(K.rsa, "k", NULL);
    json_object_set_new(jwk, "n", b64_bytes(n, (size_t)len + 1));
    assert_int_equal(parse_one(jwk, NULL), 0);
    /* an even modulus */
    n[len] ^= 1;
    jwk = public_jwk(K.rsa, "k", NULL);
    json_object_set_new(jwk, "n", b64_bytes(n + 1, (size_t)len));
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EMALFORMED);
    /* e below 65537 (3, 1, 65535) is refused; an even e too */
    static const char *const small_e[] = {"Aw", "AQ", "__8"};
    for (size_t i = 0; i < sizeof small_e / sizeof small_e[0]; i++) {
        jwk = public_jwk(K.rsa, "k", NULL);
        json_object_set_new(jwk, "e", json_string(small_e[i]));
        assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EUNSUPPORTED);
    }
    jwk = public_jwk(K.rsa, "k", NULL);
    json_object_set_new(jwk, "e", json_string("AQAC")); /* 65538 */
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EMALFORMED);
    jwk = public_jwk(K.rsa, "k", NULL);
    json_object_set_new(jwk, "e", json_string("AAEAAQ")); /* 65537, leading 0 */
    assert_int_equal(parse_one(jwk, NULL), 0);
    /* e of more than 64 bits */
    jwk = public_jwk(K.rsa, "k", NULL);
    json_object_set_new(jwk, "e", json_string("AQEBAQEBAQEB"));
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EUNSUPPORTED);

    /* not strict base64url: padding, standard alphabet, non-canonical */
    static const char *const bad_e[] = {"AQAB==", "AQA+", "AQB", ""};
    for (size_t i = 0; i < sizeof bad_e / sizeof bad_e[0]; i++) {
        jwk = public_jwk(K.rsa, "k", NULL);
        json_object_set_new(jwk, "e", json_string(bad_e[i]));
        assert_int_not_equal(parse_one(jwk, NULL), 0);
    }
    jwk = public_jwk(K.rsa, "k", NULL);
    json_object_del(jwk, "n");
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EMALFORMED);
    jwk = public_jwk(K.rsa, "k", NULL);
    json_object_set_new(jwk, "e", json_integer(65537));
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EMALFORMED);
}

static void test_ec_members(void **state)
{
    (void)state;
    static const unsigned char junk[33] = {1, 2, 3};
    json_t *jwk;
    unsigned char y[32];
    BIGNUM *bn = NULL;

    /* coordinates must be exactly 32 bytes */
    jwk = public_jwk(K.p256, "e", NULL);
    json_object_set_new(jwk, "x", b64_bytes(junk, 31));
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EMALFORMED);
    jwk = public_jwk(K.p256, "e", NULL);
    json_object_set_new(jwk, "y", b64_bytes(junk, 33));
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EMALFORMED);
    /* a point that is not on the curve */
    assert_int_equal(EVP_PKEY_get_bn_param(K.p256, OSSL_PKEY_PARAM_EC_PUB_Y, &bn), 1);
    BN_bn2binpad(bn, y, 32);
    BN_free(bn);
    y[31] ^= 1;
    jwk = public_jwk(K.p256, "e", NULL);
    json_object_set_new(jwk, "y", b64_bytes(y, 32));
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EMALFORMED);
    jwk = public_jwk(K.p256, "e", NULL);
    json_object_del(jwk, "y");
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EMALFORMED);
}

static void test_purpose(void **state)
{
    (void)state;
    json_t *jwk;

    jwk = public_jwk(K.rsa, "k", NULL);
    json_object_set_new(jwk, "use", json_string("sig"));
    assert_int_equal(parse_one(jwk, NULL), 0);
    jwk = public_jwk(K.rsa, "k", NULL);
    json_object_set_new(jwk, "use", json_string("enc"));
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EUNSUPPORTED);
    jwk = public_jwk(K.p256, "k", NULL);
    json_object_set_new(jwk, "use", json_string("SIG"));
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EUNSUPPORTED);
    jwk = public_jwk(K.rsa, "k", NULL);
    json_object_set_new(jwk, "use", json_true());
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EMALFORMED);

    jwk = public_jwk(K.rsa, "k", NULL);
    json_object_set_new(jwk, "key_ops", json_pack("[s,s]", "sign", "verify"));
    assert_int_equal(parse_one(jwk, NULL), 0);
    jwk = public_jwk(K.rsa, "k", NULL);
    json_object_set_new(jwk, "key_ops", json_pack("[s]", "encrypt"));
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EUNSUPPORTED);
    jwk = public_jwk(K.rsa, "k", NULL);
    json_object_set_new(jwk, "key_ops", json_array());
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EUNSUPPORTED);
    jwk = public_jwk(K.rsa, "k", NULL);
    json_object_set_new(jwk, "key_ops", json_string("verify"));
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EMALFORMED);
    jwk = public_jwk(K.rsa, "k", NULL);
    json_object_set_new(jwk, "key_ops", json_pack("[s,i]", "verify", 1));
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EMALFORMED);
}

static void test_key_types(void **state)
{
    (void)state;
    json_t *jwk;

    /* a symmetric key in a JWKS: never used for anything */
    jwk = json_pack("{s:s, s:s, s:s, s:s}", "kty", "oct", "kid", "h", "alg",
                    "HS256", "k", "c2VjcmV0");
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EUNSUPPORTED);
    jwk = json_pack("{s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519", "x",
                    "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EUNSUPPORTED);
    jwk = public_jwk(K.rsa, "k", NULL);
    json_object_set_new(jwk, "kty", json_string("rsa"));
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EUNSUPPORTED);
    jwk = public_jwk(K.rsa, "k", NULL);
    json_object_del(jwk, "kty");
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EMALFORMED);
    /* an EC key's coordinates under kty RSA */
    jwk = public_jwk(K.p256, "k", NULL);
    json_object_set_new(jwk, "kty", json_string("RSA"));
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EMALFORMED);
    assert_int_equal(parse_one(json_string("RSA"), NULL), LLMOIN_JWK_EMALFORMED);
    assert_int_equal(parse_one(json_array(), NULL), LLMOIN_JWK_EMALFORMED);
}

static void test_private_members(void **state)
{
    (void)state;
    static const char *const members[] = {"d", "p", "q", "dp", "dq", "qi", "oth"};
    json_t *jwk;

    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
        jwk = public_jwk(K.rsa, "k", NULL);
        json_object_set_new(jwk, members[i], json_string("AQAB"));
        assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EPRIVATE);
    }
    /* the real private exponent; and on a key that would be skipped anyway */
    jwk = public_jwk(K.rsa, "k", NULL);
    json_object_set_new(jwk, "d", b64_param(K.rsa, OSSL_PKEY_PARAM_RSA_D, 0));
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EPRIVATE);
    jwk = public_jwk(K.p384, "k", NULL);
    json_object_set_new(jwk, "d", b64_param(K.p384, OSSL_PKEY_PARAM_PRIV_KEY, 48));
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EPRIVATE);
}

static void test_kid(void **state)
{
    (void)state;
    char kid[LLMOIN_JWK_KID_MAX + 2];
    llmoin_jwk_t key;
    json_t *jwk;

    memset(kid, 'k', sizeof kid - 1);
    kid[LLMOIN_JWK_KID_MAX] = '\0';
    jwk = public_jwk(K.rsa, kid, NULL);
    assert_int_equal(llmoin_jwk_parse(jwk, &key, NULL, 0), 0);
    assert_string_equal(key.kid, kid);
    llmoin_jwk_free(&key);
    json_decref(jwk);

    kid[LLMOIN_JWK_KID_MAX] = 'k';
    kid[LLMOIN_JWK_KID_MAX + 1] = '\0';
    assert_int_equal(parse_one(public_jwk(K.rsa, kid, NULL), NULL),
                     LLMOIN_JWK_EMALFORMED);
    assert_int_equal(parse_one(public_jwk(K.rsa, "", NULL), NULL),
                     LLMOIN_JWK_EMALFORMED);
    assert_int_equal(parse_one(public_jwk(K.rsa, "a\tb", NULL), NULL),
                     LLMOIN_JWK_EMALFORMED);
    jwk = public_jwk(K.rsa, NULL, NULL);
    json_object_set_new(jwk, "kid", json_integer(1));
    assert_int_equal(parse_one(jwk, NULL), LLMOIN_JWK_EMALFORMED);
}

static void test_ignored_members(void **state)
{
    (void)state;
    json_t *jwk = public_jwk(K.rsa, "k", "RS256");

    json_object_set_new(jwk, "x5c", json_pack("[s]", "MIIBIjANBgkqhkiG9w0BAQEF"));
    json_object_set_new(jwk, "x5t", json_string("abc"));
    json_object_set_new(jwk, "x5u", json_string("https://attacker.example/x"));
    json_object_set_new(jwk, "ext", json_true());
    assert_int_equal(parse_one(jwk, NULL), 0);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    llmoin_jwk_t key;
    llmoin_jwks_t set;
    char error[64];
    json_t *jwk = public_jwk(K.rsa, "k", NULL);

    assert_int_equal(llmoin_jwk_parse(NULL, &key, error, sizeof error),
                     LLMOIN_JWK_EINVAL);
    assert_null(key.key);
    assert_int_equal(llmoin_jwk_parse(jwk, NULL, error, sizeof error),
                     LLMOIN_JWK_EINVAL);
    assert_int_equal(llmoin_jwks_parse(NULL, &set, NULL, error, sizeof error),
                     LLMOIN_JWK_EINVAL);
    assert_int_equal(llmoin_jwks_parse(jwk, NULL, NULL, error, sizeof error),
                     LLMOIN_JWK_EINVAL);
    assert_int_equal(llmoin_jwks_parse_text(NULL, 3, &set, NULL, error, sizeof error),
                     LLMOIN_JWK_EINVAL);
    assert_int_equal(llmoin_jwks_parse_text(S("{}"), NULL, NULL, error, sizeof error),
                     LLMOIN_JWK_EINVAL);
    llmoin_jwk_free(NULL);
    llmoin_jwks_free(NULL);
    json_decref(jwk);
}

/* --- sets ------------------------------------------------------------------------ */

static void test_set_keeps_usable_keys(void **state)
{
    (void)state;
    llmoin_jwks_t set;
    size_t skipped = 99;
    char error[200];
    json_t *enc = public_jwk(K.rsa2, "rsa-rs", NULL); /* same kid, but skipped */

    json_object_set_new(enc, "use", json_string("enc"));
    assert_int_equal(parse_set(set_of(public_jwk(K.rsa, "rsa-rs", NULL),
                                      public_jwk(K.rsa, "rsa-ps", "PS256"),
                                      public_jwk(K.rsa1024, "small", NULL),
                                      public_jwk(K.p256, "ec", NULL),
                                      public_jwk(K.p384, "p384", NULL),
                                      json_pack("{s:s,s:s,s:s}", "kty", "oct",
                                                "kid", "hmac", "k", "c2VjcmV0"),
                                      enc,
                                      public_jwk(K.rsa2, NULL, NULL),
                                      public_jwk(K.rsa2, "mismatch", "ES256"),
                                      public_jwk(K.p256, "mismatch2", "RS256"),
                                      json_string("not a key"),
                                      NULL),
                               &set, &skipped, error, sizeof error),
                     0);
    assert_int_equal(set.count, 4);
    assert_int_equal(skipped, 7);
    /* the reason of the first skip, for the log */
    assert_non_null(strstr(error, "keys[2] skipped"));
    assert_non_null(strstr(error, "1024"));

    assert_string_equal(set.keys[0].kid, "rsa-rs");
    assert_int_equal(set.keys[0].alg, LLMOIN_JWT_ALG_RS256);
    assert_string_equal(set.keys[1].kid, "rsa-ps");
    assert_int_equal(set.keys[1].alg, LLMOIN_JWT_ALG_PS256);
    assert_string_equal(set.keys[2].kid, "ec");
    assert_int_equal(set.keys[2].alg, LLMOIN_JWT_ALG_ES256);
    assert_string_equal(set.keys[3].kid, ""); /* kept, never found */
    assert_int_equal(EVP_PKEY_eq(set.keys[0].key, K.rsa), 1);
    assert_int_equal(EVP_PKEY_eq(set.keys[3].key, K.rsa2), 1);

    assert_ptr_equal(llmoin_jwks_find(&set, "rsa-ps"), &set.keys[1]);
    assert_ptr_equal(llmoin_jwks_find(&set, "ec"), &set.keys[2]);
    assert_null(llmoin_jwks_find(&set, "small"));
    assert_null(llmoin_jwks_find(&set, "hmac"));
    assert_null(llmoin_jwks_find(&set, "EC"));
    assert_null(llmoin_jwks_find(&set, "ec "));
    assert_null(llmoin_jwks_find(&set, ""));
    assert_null(llmoin_jwks_find(&set, NULL));
    assert_null(llmoin_jwks_find(NULL, "ec"));
    llmoin_jwks_free(&set);
    assert_null(set.keys);
    assert_int_equal(set.count, 0);
    llmoin_jwks_free(&set);
}

static void test_set_without_skips(void **state)
{
    (void)state;
    llmoin_jwks_t set;
    size_t skipped = 99;
    char error[100] = "stale";

    assert_int_equal(parse_set(set_of(public_jwk(K.p256, "a", NULL), NULL), &set,
                               &skipped, error, sizeof error),
                     0);
    assert_int_equal(set.count, 1);
    assert_int_equal(skipped, 0);
    assert_string_equal(error, "");
    llmoin_jwks_free(&set);
}

static void test_set_zero_usable_keys(void **state)
{
    (void)state;
    llmoin_jwks_t set;
    size_t skipped;
    char error[100];

    assert_int_equal(parse_set(set_of(NULL), &set, &skipped, error, sizeof error), 0);
    assert_int_equal(set.count, 0);
    assert_null(set.keys);
    assert_int_equal(skipped, 0);
    assert_int_equal(parse_set(set_of(public_jwk(K.rsa1024, "a", NULL),
                                      public_jwk(K.p384, "b", NULL), NULL),
                               &set, &skipped, error, sizeof error),
                     0);
    assert_int_equal(set.count, 0);
    assert_null(set.keys);
    assert_int_equal(skipped, 2);
    assert_null(llmoin_jwks_find(&set, "a"));
    llmoin_jwks_free(&set);
}

static void test_set_refused_on_private_key(void **state)
{
    (void)state;
    llmoin_jwks_t set;
    size_t skipped = 99;
    char error[200];
    json_t *leaked = public_jwk(K.rsa2, "leaked", NULL);

    json_object_set_new(leaked, "d", b64_param(K.rsa2, OSSL_PKEY_PARAM_RSA_D, 0));
    assert_int_equal(parse_set(set_of(public_jwk(K.rsa, "good", NULL),
                                      public_jwk(K.rsa1024, "small", NULL), leaked,
                                      public_jwk(K.p256, "good2", NULL), NULL),
                               &set, &skipped, error, sizeof error),
                     LLMOIN_JWK_EPRIVATE);
    assert_null(set.keys);
    assert_int_equal(set.count, 0);
    assert_int_equal(skipped, 0);
    assert_non_null(strstr(error, "keys[2]"));
    assert_non_null(strstr(error, "private"));

    /* even on a key type that would only have been skipped */
    leaked = json_pack("{s:s, s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519",
                       "x", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "d",
                       "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A");
    assert_int_equal(parse_set(set_of(public_jwk(K.rsa, "good", NULL), leaked, NULL),
                               &set, &skipped, error, sizeof error),
                     LLMOIN_JWK_EPRIVATE);
}

static void test_set_refused_on_duplicate_kid(void **state)
{
    (void)state;
    llmoin_jwks_t set;
    size_t skipped;
    char error[200];

    assert_int_equal(parse_set(set_of(public_jwk(K.rsa, "same", NULL),
                                      public_jwk(K.p256, "other", NULL),
                                      public_jwk(K.rsa2, "same", "PS256"), NULL),
                               &set, &skipped, error, sizeof error),
                     LLMOIN_JWK_EDUPLICATE);
    assert_null(set.keys);
    assert_int_equal(set.count, 0);
    assert_non_null(strstr(error, "keys[2]"));
    /* keys without kid never collide (find() does not return them) */
    assert_int_equal(parse_set(set_of(public_jwk(K.p256, NULL, NULL),
                                      public_jwk(K.rsa, NULL, NULL), NULL),
                               &set, &skipped, error, sizeof error),
                     0);
    assert_int_equal(set.count, 2);
    assert_null(llmoin_jwks_find(&set, ""));
    llmoin_jwks_free(&set);
    /* even the same key twice */
    assert_int_equal(parse_set(set_of(public_jwk(K.p256, "x", NULL),
                                      public_jwk(K.p256, "x", NULL), NULL),
                               &set, &skipped, error, sizeof error),
                     LLMOIN_JWK_EDUPLICATE);
}

static void test_set_shape(void **state)
{
    (void)state;
    llmoin_jwks_t set;
    size_t skipped;
    char error[200];
    json_t *many = json_array();

    assert_int_equal(parse_set(json_object(), &set, &skipped, error, sizeof error),
                     LLMOIN_JWK_EMALFORMED);
    assert_int_equal(parse_set(json_pack("{s:{}}", "keys"), &set, &skipped, error,
                               sizeof error),
                     LLMOIN_JWK_EMALFORMED);
    assert_int_equal(parse_set(json_pack("[{s:[]}]", "keys"), &set, &skipped,
                               error, sizeof error),
                     LLMOIN_JWK_EMALFORMED);
    /* LLMOIN_JWKS_KEYS_MAX entries are fine, one more is not */
    for (int i = 0; i < LLMOIN_JWKS_KEYS_MAX; i++)
        json_array_append_new(many, json_pack("{s:s}", "kty", "oct"));
    assert_int_equal(parse_set(json_pack("{s:O}", "keys", many), &set, &skipped,
                               error, sizeof error),
                     0);
    assert_int_equal(skipped, LLMOIN_JWKS_KEYS_MAX);
    json_array_append_new(many, json_pack("{s:s}", "kty", "oct"));
    assert_int_equal(parse_set(json_pack("{s:o}", "keys", many), &set, &skipped,
                               error, sizeof error),
                     LLMOIN_JWK_EMALFORMED);
}

/* --- text ------------------------------------------------------------------------- */

static void test_text(void **state)
{
    (void)state;
    llmoin_jwks_t set;
    size_t skipped;
    char error[200];
    char *text = dump(set_of(public_jwk(K.rsa, "r", NULL), public_jwk(K.p256, "e", NULL),
                             NULL));

    assert_int_equal(llmoin_jwks_parse_text(text, strlen(text), &set, &skipped,
                                            error, sizeof error),
                     0);
    assert_int_equal(set.count, 2);
    assert_non_null(llmoin_jwks_find(&set, "e"));
    llmoin_jwks_free(&set);
    /* a truncated document */
    assert_int_equal(llmoin_jwks_parse_text(text, strlen(text) - 1, &set,
                                            &skipped, error, sizeof error),
                     LLMOIN_JWK_EMALFORMED);
    assert_non_null(strstr(error, "not JSON"));
    free(text);

    static const char *const bad[] = {
        "", "[]", "\"keys\"", "{\"keys\":[]} x", "{\"keys\":[],\"keys\":[]}",
        "{\"keys\":[{\"kty\":\"oct\",\"kty\":\"RSA\"}]}", "{'keys':[]}",
        "{\"keys\":[]", "{\"keys\":null}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(llmoin_jwks_parse_text(bad[i], strlen(bad[i]), &set,
                                                &skipped, error, sizeof error),
                         LLMOIN_JWK_EMALFORMED);
        assert_null(set.keys);
    }
    /* a NUL byte inside the text, and an escaped one in a kid */
    assert_int_equal(llmoin_jwks_parse_text(S("{\"keys\":[]}\0"), &set, &skipped,
                                            error, sizeof error),
                     LLMOIN_JWK_EMALFORMED);
    assert_int_equal(llmoin_jwks_parse_text(S("{\"keys\":[{\"kty\":\"oct\","
                                              "\"kid\":\"a\\u0000b\"}]}"),
                                            &set, &skipped, error, sizeof error),
                     LLMOIN_JWK_EMALFORMED);
}

static void test_text_size_limit(void **state)
{
    (void)state;
    llmoin_jwks_t set;
    size_t skipped;
    char error[200];
    char *key = dump(set_of(public_jwk(K.p256, "e", NULL), NULL));
    size_t key_len = strlen(key);
    char *text = malloc(LLMOIN_JWKS_TEXT_MAX + 2);

    assert_non_null(text);
    /* the document padded with whitespace to exactly 1 MiB */
    memset(text, ' ', LLMOIN_JWKS_TEXT_MAX + 1);
    memcpy(text, key, key_len);
    assert_int_equal(llmoin_jwks_parse_text(text, LLMOIN_JWKS_TEXT_MAX, &set,
                                            &skipped, error, sizeof error),
                     0);
    assert_int_equal(set.count, 1);
    llmoin_jwks_free(&set);
    assert_int_equal(llmoin_jwks_parse_text(text, LLMOIN_JWKS_TEXT_MAX + 1, &set,
                                            &skipped, error, sizeof error),
                     LLMOIN_JWK_ETOOLARGE);
    assert_null(set.keys);
    assert_non_null(strstr(error, "1048576"));
    free(text);
    free(key);
}

static void test_text_nesting(void **state)
{
    (void)state;
    llmoin_jwks_t set;
    size_t skipped;
    char error[200];
    char text[4096];
    int n;

    /* depth 16 is allowed: {"keys":[{"x5c":[[...]]}]} */
    for (int depth = 15; depth <= 17; depth++) {
        n = snprintf(text, sizeof text, "{\"keys\":[{\"kty\":\"oct\",\"x\":");
        for (int i = 3; i < depth; i++)
            text[n++] = '[';
        for (int i = 3; i < depth; i++)
            text[n++] = ']';
        n += snprintf(text + n, sizeof text - (size_t)n, "}]}");
        assert_int_equal(llmoin_jwks_parse_text(text, (size_t)n, &set, &skipped,
                                                error, sizeof error),
                         depth <= LLMOIN_JSON_NESTING_MAX ? 0
                                                          : LLMOIN_JWK_EMALFORMED);
    }
    /* 100000 levels: refused by the pre-scan, not by the stack */
    char *deep = malloc(200001);
    assert_non_null(deep);
    memset(deep, '[', 100000);
    memset(deep + 100000, ']', 100000);
    assert_int_equal(llmoin_jwks_parse_text(deep, 200000, &set, &skipped, error,
                                            sizeof error),
                     LLMOIN_JWK_EMALFORMED);
    assert_non_null(strstr(error, "nests"));
    free(deep);
}

static void test_nesting_scan(void **state)
{
    (void)state;
    assert_true(llmoin_json_nesting_within(S("{}"), 1));
    assert_false(llmoin_json_nesting_within(S("{\"a\":[]}"), 1));
    assert_true(llmoin_json_nesting_within(S("{\"a\":[]}"), 2));
    assert_true(llmoin_json_nesting_within(S("[][][][]"), 1));
    /* brackets inside strings, escaped quotes and backslashes */
    assert_true(llmoin_json_nesting_within(S("{\"[[[[\":\"{{{{\"}"), 1));
    assert_true(llmoin_json_nesting_within(S("{\"a\\\"[[\":1}"), 1));
    assert_false(llmoin_json_nesting_within(S("{\"a\\\\\":[[1]]}"), 2));
    /* stray closers do not buy depth */
    assert_false(llmoin_json_nesting_within(S("]]]]{[{"), 2));
    assert_true(llmoin_json_nesting_within(S(""), 0));
    assert_false(llmoin_json_nesting_within(S("["), 0));
}

static void test_error_buffer(void **state)
{
    (void)state;
    llmoin_jwks_t set;
    char tiny[8];

    /* messages are truncated, always terminated */
    assert_int_equal(llmoin_jwks_parse_text(S("nope"), &set, NULL, tiny, sizeof tiny),
                     LLMOIN_JWK_EMALFORMED);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
    assert_int_equal(llmoin_jwks_parse_text(S("nope"), &set, NULL, tiny, 1),
                     LLMOIN_JWK_EMALFORMED);
    assert_string_equal(tiny, "");
    assert_int_equal(llmoin_jwks_parse_text(S("nope"), &set, NULL, NULL, 0),
                     LLMOIN_JWK_EMALFORMED);
}

static void test_strerror(void **state)
{
    (void)state;
    for (int e = 0; e >= LLMOIN_JWK_ENOMEM; e--) {
        assert_non_null(llmoin_jwk_strerror(e));
        for (int f = 0; f > e; f--)
            assert_string_not_equal(llmoin_jwk_strerror(e), llmoin_jwk_strerror(f));
    }
    assert_string_equal(llmoin_jwk_strerror(-99), "unknown JWK error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alg_names),
        cmocka_unit_test(test_rsa_pinning),
        cmocka_unit_test(test_ec_pinning),
        cmocka_unit_test(test_parsed_key_is_the_key),
        cmocka_unit_test(test_key_sizes),
        cmocka_unit_test(test_rsa_members),
        cmocka_unit_test(test_ec_members),
        cmocka_unit_test(test_purpose),
        cmocka_unit_test(test_key_types),
        cmocka_unit_test(test_private_members),
        cmocka_unit_test(test_kid),
        cmocka_unit_test(test_ignored_members),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_set_keeps_usable_keys),
        cmocka_unit_test(test_set_without_skips),
        cmocka_unit_test(test_set_zero_usable_keys),
        cmocka_unit_test(test_set_refused_on_private_key),
        cmocka_unit_test(test_set_refused_on_duplicate_kid),
        cmocka_unit_test(test_set_shape),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_text_size_limit),
        cmocka_unit_test(test_text_nesting),
        cmocka_unit_test(test_nesting_scan),
        cmocka_unit_test(test_error_buffer),
        cmocka_unit_test(test_strerror),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
