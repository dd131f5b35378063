/*
 * jwt: tokens signed here with keys generated here (RS256, PS256, ES256
 * with the JOSE r||s form), verified against a JWKS built from the same
 * keys; RFC 7515 Appendix A known answers; the classic forgeries
 * ("alg":"none", HS256 keyed with the RSA public key, RS/PS confusion, DER
 * ECDSA signatures, keys named by the token); every decoding rule; every
 * claim rule at its boundaries; and the promise that error messages never
 * echo the token or a claim value. After every failure the OpenSSL error
 * queue must be empty.
 */
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "jwt.h"
#include "jwt_test_support.h"

#define S(lit) lit, sizeof(lit) - 1

#define ISS "https://login.example.de/realms/hamburg"
#define AUD "llmoin"
#define NOW 1750000000LL
#define LEEWAY 60
#define RS LLMOIN_JWT_ALG_RS256
#define PS LLMOIN_JWT_ALG_PS256
#define ES LLMOIN_JWT_ALG_ES256

static const llmoin_jwt_expect_t EXPECT = {
    .issuer = ISS, .audience = AUD, .now = NOW, .leeway = LEEWAY,
    .user_claim = "preferred_username", .groups_claim = "groups",
};

static struct {
    EVP_PKEY *rsa, *rsa_other, *ec, *ec_other;
    llmoin_jwks_t jwks; /* "rs": rsa RS256, "ps": rsa PS256, "es": ec ES256 */
} F;

/* --- keys, JWKS (helpers: jwt_test_support.h) ---------------------------------- */

static int setup(void **state)
{
    (void)state;
    json_t *set;
    size_t skipped;
    char error[200];
    int rc;

    F.rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    F.rsa_other = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    F.ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    F.ec_other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (!F.rsa || !F.rsa_other || !F.ec || !F.ec_other)
        return -1;
    set = json_pack("{s:[o,o,o]}", "keys", public_jwk(F.rsa, "rs", NULL),
                    public_jwk(F.rsa, "ps", "PS256"), public_jwk(F.ec, "es", NULL));
    rc = llmoin_jwks_parse(set, &F.jwks, &skipped, error, sizeof error);
    json_decref(set);
    return rc == 0 && F.jwks.count == 3 && skipped == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    llmoin_jwks_free(&F.jwks);
    EVP_PKEY_free(F.rsa);
    EVP_PKEY_free(F.rsa_other);
    EVP_PKEY_free(F.ec);
    EVP_PKEY_free(F.ec_other);
    return 0;
}

/* --- tokens --------------------------------------------------------------------- */

static json_t *claims(void)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:[s,s]}", "iss", ISS,
                     "aud", AUD, "exp", (json_int_t)(NOW + 300), "iat",
                     (json_int_t)(NOW - 10), "nbf", (json_int_t)(NOW - 10),
                     "sub", "f81d4fae-7dec-11d0", "preferred_username", "alice",
                     "groups", "/hamburg/bsb", "llm-users");
}

/* --- running ---------------------------------------------------------------------- */

/* authenticate() against the fixture set, with the invariants of every
 * outcome checked. */
static int auth_with(const char *token, const llmoin_jwt_expect_t *expect,
                     llmoin_jwt_identity_t *id)
{
    char error[256];
    llmoin_jwt_identity_t scratch;
    int rc;

    if (id == NULL)
        id = &scratch;
    memset(error, 'X', sizeof error);
    rc = llmoin_jwt_authenticate(token, strlen(token), &F.jwks, expect, id,
                                 error, sizeof error);
    assert_int_equal(rc == 0, error[0] == '\0');
    assert_non_null(memchr(error, '\0', sizeof error));
    if (rc != 0) {
        assert_string_equal(id->user, "");
        assert_string_equal(id->groups, "");
    }
    assert_no_echo(error, token);
    assert_int_equal(ERR_peek_error(), 0);
    return rc;
}

static int auth(const char *token)
{
    return auth_with(token, &EXPECT, NULL);
}

/* auth() of a token, freeing it. */
static int auth_free(char *token)
{
    int rc = auth(token);

    free(token);
    return rc;
}

/* decode() only, with its invariants; frees token. */
static int decode_free(char *token)
{
    llmoin_jwt_t jwt;
    char error[256];
    int rc = llmoin_jwt_decode(token, strlen(token), &jwt, error, sizeof error);

    assert_int_equal(rc == 0, error[0] == '\0');
    if (rc != 0) {
        assert_null(jwt.header);
        assert_null(jwt.payload);
    }
    assert_no_echo(error, token);
    llmoin_jwt_free(&jwt);
    free(token);
    return rc;
}

/* A token whose signature is a placeholder: for decoding and claims. */
static char *unsigned_token(const char *header_text, const char *payload_text)
{
    static const unsigned char sig[64] = {1};

    return append_signature(signing_input(header_text, payload_text), sig, sizeof sig);
}

/* check_claims() on payload (stolen) with expect; id gets the result. */
static int claims_with(json_t *payload, const llmoin_jwt_expect_t *expect,
                       llmoin_jwt_identity_t *id, char *error, size_t error_size)
{
    char *p = dump(payload);
    char *token = unsigned_token("{\"alg\":\"ES256\",\"kid\":\"es\"}", p);
    llmoin_jwt_t jwt;
    int rc;

    assert_int_equal(llmoin_jwt_decode(token, strlen(token), &jwt, NULL, 0), 0);
    memset(id, 'X', sizeof *id);
    rc = llmoin_jwt_check_claims(&jwt, expect, id, error, error_size);
    assert_int_equal(rc == 0, error[0] == '\0');
    if (rc != 0) {
        assert_string_equal(id->user, "");
        assert_string_equal(id->groups, "");
        assert_int_equal(id->group_count, 0);
        assert_int_equal(id->expires_at, 0);
    }
    llmoin_jwt_free(&jwt);
    free(token);
    free(p);
    return rc;
}

static int claims_rc(json_t *payload)
{
    llmoin_jwt_identity_t id;
    char error[256];

    return claims_with(payload, &EXPECT, &id, error, sizeof error);
}

static int claims_leeway(json_t *payload, long leeway)
{
    llmoin_jwt_expect_t expect = EXPECT;
    llmoin_jwt_identity_t id;
    char error[256];

    expect.leeway = leeway;
    return claims_with(payload, &expect, &id, error, sizeof error);
}

/* --- valid tokens ---------------------------------------------------------------- */

static void check_valid(EVP_PKEY *key, llmoin_jwt_alg_t alg, const char *name,
                        const char *kid, size_t sig_len)
{
    char *token = token_json(jws_header(name, kid), claims(), key, alg);
    llmoin_jwt_identity_t id;
    llmoin_jwt_t jwt;
    char error[256];

    assert_int_equal(llmoin_jwt_decode(token, strlen(token), &jwt, error,
                                       sizeof error), 0);
    assert_int_equal(jwt.alg, alg);
    assert_string_equal(jwt.kid, kid);
    assert_string_equal(jwt.issuer, ISS);
    assert_ptr_equal(jwt.signing_input, token);
    assert_int_equal(jwt.signing_input_len, strrchr(token, '.') - token);
    assert_int_equal(jwt.signature_len, sig_len);
    assert_int_equal(llmoin_jwt_verify_signature(
                         &jwt, llmoin_jwks_find(&F.jwks, kid), error, sizeof error),
                     0);
    assert_string_equal(error, "");
    assert_int_equal(llmoin_jwt_check_claims(&jwt, &EXPECT, &id, error,
                                             sizeof error), 0);
    llmoin_jwt_free(&jwt);
    llmoin_jwt_free(&jwt);

    memset(&id, 'X', sizeof id);
    assert_int_equal(auth_with(token, &EXPECT, &id), 0);
    assert_string_equal(id.user, "alice");
    assert_string_equal(id.groups, "/hamburg/bsb,llm-users");
    assert_int_equal(id.group_count, 2);
    assert_int_equal(id.expires_at, NOW + 300);
    free(token);
}

static void test_valid_rs256(void **state)
{
    (void)state;
    check_valid(F.rsa, RS, "RS256", "rs", 256);
}

static void test_valid_ps256(void **state)
{
    (void)state;
    check_valid(F.rsa, PS, "PS256", "ps", 256);
}

static void test_valid_es256(void **state)
{
    (void)state;
    check_valid(F.ec, ES, "ES256", "es", 64);
}

/* RFC 7515 A.2 (RS256) and A.3 (ES256): tokens and keys from the RFC. */
#define RFC_PAYLOAD                                                            \
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"         \
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"

static void verify_rfc(const char *jwk_text, const char *token,
                       llmoin_jwt_alg_t alg)
{
    json_t *json = json_loads(jwk_text, 0, NULL);
    llmoin_jwk_t key;
    llmoin_jwt_t jwt;
    char error[200];

    assert_non_null(json);
    assert_int_equal(llmoin_jwk_parse(json, &key, error, sizeof error), 0);
    assert_int_equal(key.alg, alg);
    assert_int_equal(llmoin_jwt_decode(token, strlen(token), &jwt, error,
                                       sizeof error), 0);
    assert_int_equal(jwt.alg, alg);
    assert_null(jwt.kid);
    assert_string_equal(jwt.issuer, "joe");
    assert_int_equal(llmoin_jwt_verify_signature(&jwt, &key, error, sizeof error), 0);
    llmoin_jwt_free(&jwt);
    llmoin_jwk_free(&key);
    json_decref(json);
}

static void test_rfc7515_vectors(void **state)
{
    (void)state;
    llmoin_jwt_t jwt;

    verify_rfc(
        "{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"ofgWCuLjybRlzo0tZWJjNiuSfb4p4f"
        "Akd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-y"
        "RT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf6"
        "3kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY"
        "4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2"
        "ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ\"}",
        "eyJhbGciOiJSUzI1NiJ9." RFC_PAYLOAD
        ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7"
        "AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4"
        "BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"
        "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv"
        "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB"
        "p0igcN_IoypGlUPQGe77Rw",
        RS);
    verify_rfc("{\"kty\":\"EC\",\"crv\":\"P-256\","
               "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
               "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}",
               "eyJhbGciOiJFUzI1NiJ9." RFC_PAYLOAD
               ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSA"
               "pmWQxfKTUJqPP3-Kg6NU1Q",
               ES);
    /* A.1 (HS256, with "typ":"JWT" and CRLF in the header) decodes to an
     * algorithm that no key can have */
    assert_int_equal(llmoin_jwt_decode(S("eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
                                         RFC_PAYLOAD
                                         ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
                                       &jwt, NULL, 0),
                     0);
    assert_int_equal(jwt.alg, LLMOIN_JWT_ALG_UNKNOWN);
    llmoin_jwt_free(&jwt);
    /* A.5: unsecured, empty signature */
    assert_int_equal(llmoin_jwt_decode(S("eyJhbGciOiJub25lIn0." RFC_PAYLOAD "."),
                                       &jwt, NULL, 0),
                     LLMOIN_JWT_EMALFORMED);
}

/* --- forgeries ------------------------------------------------------------------------ */

static void test_alg_none(void **state)
{
    (void)state;
    static const char *const names[] = {"none", "None", "NONE", "nOnE"};
    char *p = dump(claims());

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char h[64];
        llmoin_jwt_t jwt;
        char *input, *token;

        snprintf(h, sizeof h, "{\"alg\":\"%s\",\"kid\":\"rs\"}", names[i]);
        /* the unsecured form: "header.payload." */
        input = signing_input(h, p);
        token = malloc(strlen(input) + 2);
        sprintf(token, "%s.", input);
        free(input);
        assert_int_equal(auth_free(token), LLMOIN_JWT_EMALFORMED);

        /* with some signature: decodes, never verifies */
        token = unsigned_token(h, p);
        assert_int_equal(llmoin_jwt_decode(token, strlen(token), &jwt, NULL, 0), 0);
        assert_int_equal(jwt.alg, LLMOIN_JWT_ALG_UNKNOWN);
        for (size_t k = 0; k < F.jwks.count; k++)
            assert_int_equal(llmoin_jwt_verify_signature(&jwt, &F.jwks.keys[k],
                                                         NULL, 0),
                             LLMOIN_JWT_EALG);
        llmoin_jwt_free(&jwt);
        assert_int_equal(auth_free(token), LLMOIN_JWT_EALG);
    }
    free(p);
}

/* HS256 "signed" with the RSA public key as the HMAC secret: the textbook
 * key-confusion forgery. No key can be HS256, and oct keys are skipped. */
static void test_hs256_with_public_key(void **state)
{
    (void)state;
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem, *input, *token, *p = dump(claims());
    long pem_len;
    unsigned char mac[32];
    size_t mac_len;
    llmoin_jwt_t jwt;
    llmoin_jwks_t set;
    size_t skipped;
    json_t *oct;

    assert_int_equal(PEM_write_bio_PUBKEY(bio, F.rsa), 1);
    pem_len = BIO_get_mem_data(bio, &pem);
    input = signing_input("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"rs\"}", p);
    assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, pem,
                              (size_t)pem_len, (const unsigned char *)input,
                              strlen(input), mac, sizeof mac, &mac_len));
    token = append_signature(input, mac, mac_len);

    assert_int_equal(llmoin_jwt_decode(token, strlen(token), &jwt, NULL, 0), 0);
    assert_int_equal(jwt.alg, LLMOIN_JWT_ALG_UNKNOWN);
    assert_int_equal(llmoin_jwt_verify_signature(&jwt, llmoin_jwks_find(&F.jwks, "rs"),
                                                 NULL, 0),
                     LLMOIN_JWT_EALG);
    llmoin_jwt_free(&jwt);
    assert_int_equal(auth(token), LLMOIN_JWT_EALG);

    /* the PEM published as an oct key is skipped, not used */
    char *k = b64(pem, (size_t)pem_len);
    oct = json_pack("{s:[{s:s, s:s, s:s, s:s}]}", "keys", "kty", "oct", "kid",
                    "rs", "alg", "HS256", "k", k);
    assert_int_equal(llmoin_jwks_parse(oct, &set, &skipped, NULL, 0), 0);
    assert_int_equal(set.count, 0);
    assert_int_equal(skipped, 1);
    llmoin_jwks_free(&set);
    json_decref(oct);
    free(k);
    free(token);
    free(p);
    BIO_free(bio);
}

static void test_rs_ps_confusion(void **state)
{
    (void)state;
    /* correctly signed, but for the other pinning of the same RSA key */
    assert_int_equal(auth_free(token_json(jws_header("RS256", "ps"), claims(), F.rsa, RS)),
                     LLMOIN_JWT_EALG);
    assert_int_equal(auth_free(token_json(jws_header("PS256", "rs"), claims(), F.rsa, PS)),
                     LLMOIN_JWT_EALG);
    /* the header matches the key, the signature is of the other scheme */
    assert_int_equal(auth_free(token_json(jws_header("RS256", "rs"), claims(), F.rsa, PS)),
                     LLMOIN_JWT_ESIGNATURE);
    assert_int_equal(auth_free(token_json(jws_header("PS256", "ps"), claims(), F.rsa, RS)),
                     LLMOIN_JWT_ESIGNATURE);
    /* EC and RSA never mix */
    assert_int_equal(auth_free(token_json(jws_header("ES256", "rs"), claims(), F.ec, ES)),
                     LLMOIN_JWT_EALG);
    assert_int_equal(auth_free(token_json(jws_header("RS256", "es"), claims(), F.rsa, RS)),
                     LLMOIN_JWT_EALG);
}

/* A PS256 signature with another salt length is not RFC 7518 PS256. */
static void test_ps256_salt_length(void **state)
{
    (void)state;
    char *p = dump(claims());
    char *input = signing_input("{\"alg\":\"PS256\",\"kid\":\"ps\"}", p);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char sig[256];
    size_t n = sizeof sig;

    assert_int_equal(EVP_DigestSignInit_ex(md, &pctx, "SHA256", NULL, NULL, F.rsa,
                                           NULL), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_MAX), 1);
    assert_int_equal(EVP_DigestSign(md, sig, &n, (const unsigned char *)input,
                                    strlen(input)), 1);
    EVP_MD_CTX_free(md);
    assert_int_equal(auth_free(append_signature(input, sig, n)),
                     LLMOIN_JWT_ESIGNATURE);
    free(p);
}

static void test_es256_signature_forms(void **state)
{
    (void)state;
    char *p = dump(claims());
    const char *h = "{\"alg\":\"ES256\",\"kid\":\"es\"}";
    unsigned char sig[600], raw[600];
    char *input;
    size_t n;

    /* DER, as OpenSSL produces it: refused */
    input = signing_input(h, p);
    n = sign(F.ec, ES, true, input, sig);
    assert_true(n >= 8 && n <= 72 && n != 64);
    assert_int_equal(auth_free(append_signature(input, sig, n)),
                     LLMOIN_JWT_ESIGNATURE);

    /* r || s with bytes missing or added */
    input = signing_input(h, p);
    memset(raw, 0, sizeof raw);
    n = sign(F.ec, ES, false, input, raw);
    assert_int_equal(n, 64);
    free(input);
    static const size_t lengths[] = {1, 32, 63, 65, 66, 72, 96, 128};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        input = signing_input(h, p);
        assert_int_equal(auth_free(append_signature(input, raw, lengths[i])),
                         LLMOIN_JWT_ESIGNATURE);
    }
    /* r or s out of range */
    /* 512 bytes decode (and fail to verify); 513 are refused unread */
    memset(raw, 0x41, sizeof raw);
    input = signing_input(h, p);
    assert_int_equal(auth_free(append_signature(input, raw, 512)),
                     LLMOIN_JWT_ESIGNATURE);
    input = signing_input(h, p);
    assert_int_equal(auth_free(append_signature(input, raw, 513)),
                     LLMOIN_JWT_EMALFORMED);
    memset(raw, 0, 32); /* r = 0 */
    input = signing_input(h, p);
    assert_int_equal(auth_free(append_signature(input, raw, 64)),
                     LLMOIN_JWT_ESIGNATURE);
    memset(raw, 0xff, 64); /* r, s > n */
    input = signing_input(h, p);
    assert_int_equal(auth_free(append_signature(input, raw, 64)),
                     LLMOIN_JWT_ESIGNATURE);
    free(p);
}

static void test_signature_of_another_key(void **state)
{
    (void)state;
    assert_int_equal(auth_free(token_json(jws_header("RS256", "rs"), claims(),
                                          F.rsa_other, RS)),
                     LLMOIN_JWT_ESIGNATURE);
    assert_int_equal(auth_free(token_json(jws_header("PS256", "ps"), claims(),
                                          F.rsa_other, PS)),
                     LLMOIN_JWT_ESIGNATURE);
    assert_int_equal(auth_free(token_json(jws_header("ES256", "es"), claims(),
                                          F.ec_other, ES)),
                     LLMOIN_JWT_ESIGNATURE);
}

/* A token's header may name keys ("jwk", "jku", "x5u", "x5c"); they are
 * never used. */
static void test_key_references_ignored(void **state)
{
    (void)state;
    json_t *h = jws_header("ES256", "es");

    json_object_set_new(h, "jwk", public_jwk(F.ec_other, "es", "ES256"));
    json_object_set_new(h, "jku", json_string("https://attacker.example/jwks"));
    json_object_set_new(h, "x5u", json_string("https://attacker.example/cert"));
    json_object_set_new(h, "x5c", json_pack("[s]", "MIIBIjANBgkqhkiG9w0BAQEF"));
    assert_int_equal(auth_free(token_json(json_incref(h), claims(), F.ec_other, ES)),
                     LLMOIN_JWT_ESIGNATURE);
    assert_int_equal(auth_free(token_json(h, claims(), F.ec, ES)), 0);
}

static void test_tampering(void **state)
{
    (void)state;
    char *good = token_json(jws_header("ES256", "es"), claims(), F.ec, ES);
    char *dot1 = strchr(good, '.'), *dot2 = strrchr(good, '.');
    char *p = dump(with(claims(), "preferred_username", json_string("mallory")));
    char *p64 = b64(p, strlen(p));
    char *forged = malloc(strlen(good) + strlen(p64) + 1);
    llmoin_jwt_t jwt;

    assert_int_equal(auth(good), 0);
    /* another payload under the original header and signature */
    sprintf(forged, "%.*s.%s%s", (int)(dot1 - good), good, p64, dot2);
    assert_int_equal(auth(forged), LLMOIN_JWT_ESIGNATURE);
    free(forged);

    /* every single-bit change of the signature */
    assert_int_equal(llmoin_jwt_decode(good, strlen(good), &jwt, NULL, 0), 0);
    for (size_t bit = 0; bit < 64 * 8; bit++) {
        jwt.signature[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        assert_int_equal(llmoin_jwt_verify_signature(
                             &jwt, llmoin_jwks_find(&F.jwks, "es"), NULL, 0),
                         LLMOIN_JWT_ESIGNATURE);
        jwt.signature[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
    /* and of the signing input */
    for (size_t len = 0; len < jwt.signing_input_len; len += 7) {
        jwt.signing_input_len = len;
        assert_int_equal(llmoin_jwt_verify_signature(
                             &jwt, llmoin_jwks_find(&F.jwks, "es"), NULL, 0),
                         LLMOIN_JWT_ESIGNATURE);
        jwt.signing_input_len = (size_t)(dot2 - good);
    }
    assert_int_equal(llmoin_jwt_verify_signature(
                         &jwt, llmoin_jwks_find(&F.jwks, "es"), NULL, 0), 0);
    assert_int_equal(ERR_peek_error(), 0);
    llmoin_jwt_free(&jwt);
    free(p64);
    free(p);
    free(good);

    /* RSA: one flipped character in the header part */
    good = token_json(jws_header("RS256", "rs"), claims(), F.rsa, RS);
    good[3] = good[3] == 'a' ? 'b' : 'a';
    assert_int_not_equal(auth(good), 0);
    free(good);
}

/* --- decoding ------------------------------------------------------------------------ */

static void test_truncated(void **state)
{
    (void)state;
    char *good = token_json(jws_header("ES256", "es"), claims(), F.ec, ES);
    size_t len = strlen(good);

    for (size_t cut = 0; cut < len; cut++) {
        char *t = strndup(good, cut);
        int rc = auth(t);

        assert_true(rc == LLMOIN_JWT_EMALFORMED || rc == LLMOIN_JWT_ESIGNATURE);
        free(t);
    }
    free(good);
}

static char *concat(const char *a, const char *b, const char *c)
{
    char *s = malloc(strlen(a) + strlen(b) + strlen(c) + 1);

    assert_non_null(s);
    sprintf(s, "%s%s%s", a, b, c);
    return s;
}

static void test_dots(void **state)
{
    (void)state;
    char *good = token_json(jws_header("ES256", "es"), claims(), F.ec, ES);
    char *dot1 = strchr(good, '.');

    assert_int_equal(auth_free(concat(good, ".", "")), LLMOIN_JWT_EMALFORMED);
    assert_int_equal(auth_free(concat(good, ".", "AAAA")), LLMOIN_JWT_EMALFORMED);
    assert_int_equal(auth_free(concat(".", good, "")), LLMOIN_JWT_EMALFORMED);
    *dot1 = '\0';
    assert_int_equal(auth_free(concat(good, "..", dot1 + 1)), LLMOIN_JWT_EMALFORMED);
    assert_int_equal(auth_free(concat(good, "", dot1 + 1)), LLMOIN_JWT_EMALFORMED);
    *dot1 = '.';
    static const char *const junk[] = {"", ".", "..", "...", "a", "a.b", "a.b.",
                                       ".a.b", "a..b", "a.b.c.d", "eyJ9.e30.AA"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        assert_int_equal(auth(junk[i]), LLMOIN_JWT_EMALFORMED);
    free(good);
}

/* The token with character i replaced by c (or c inserted before i). */
static char *edit(const char *token, size_t i, const char *insert, bool replace)
{
    char *s = malloc(strlen(token) + strlen(insert) + 1);

    assert_non_null(s);
    sprintf(s, "%.*s%s%s", (int)i, token, insert, token + i + (replace ? 1 : 0));
    return s;
}

static void test_base64url_strictness(void **state)
{
    (void)state;
    char *p = dump(claims());
    char *good, *t, error[200];
    size_t dot1, dot2, len;
    llmoin_jwt_t jwt;

    /* lengths chosen so that every part ends in a partial group (JSON
     * allows trailing whitespace) */
    if (strlen(p) % 3 == 0) {
        t = concat(p, " ", "");
        free(p);
        p = t;
    }
    good = token_text("{\"alg\":\"ES256\",\"kid\":\"es\"}", p, F.ec, ES);
    len = strlen(good);
    dot1 = (size_t)(strchr(good, '.') - good);
    dot2 = (size_t)(strrchr(good, '.') - good);
    assert_int_not_equal(dot1 % 4, 0);
    assert_int_not_equal((dot2 - dot1 - 1) % 4, 0);
    assert_int_not_equal((len - dot2 - 1) % 4, 0);
    assert_int_equal(auth(good), 0);

    size_t ends[] = {dot1, dot2, len};
    for (size_t e = 0; e < 3; e++) {
        char last = good[ends[e] - 1], bumped[2] = {0};

        /* '=' padding after the part */
        assert_int_equal(auth_free(edit(good, ends[e], "=", false)),
                         LLMOIN_JWT_EMALFORMED);
        assert_int_equal(auth_free(edit(good, ends[e], "==", false)),
                         LLMOIN_JWT_EMALFORMED);
        /* the same bytes spelled non-canonically: next symbol up sets an
         * unused low bit */
        bumped[0] = last == 'z' ? '0' : last == 'Z' ? 'a' : last == '9' ? '-' : (char)(last + 1);
        t = edit(good, ends[e] - 1, bumped, true);
        assert_int_equal(llmoin_jwt_decode(t, strlen(t), &jwt, error, sizeof error),
                         LLMOIN_JWT_EMALFORMED);
        assert_non_null(strstr(error, "non-canonical"));
        assert_int_equal(auth_free(t), LLMOIN_JWT_EMALFORMED);
        /* standard-alphabet and whitespace characters */
        assert_int_equal(auth_free(edit(good, ends[e] - 2, "+", true)),
                         LLMOIN_JWT_EMALFORMED);
        assert_int_equal(auth_free(edit(good, ends[e] - 2, "/", true)),
                         LLMOIN_JWT_EMALFORMED);
        assert_int_equal(auth_free(edit(good, ends[e] - 2, " ", false)),
                         LLMOIN_JWT_EMALFORMED);
    }
    free(good);
    free(p);
}

static void test_not_json(void **state)
{
    (void)state;
    static const char *const headers[] = {
        "not json", "[\"alg\",\"ES256\"]", "\"ES256\"", "42", "null", "",
        "{\"alg\":\"ES256\"} x", "{\"alg\":\"ES256\"", "{alg:\"ES256\"}",
        "{}", "{\"alg\":256}", "{\"alg\":null}", "{\"alg\":[\"ES256\"]}",
        "{\"alg\":\"ES\\u0000256\"}", "{\"alg\":\"ES256\",\"x\":\"\xff\"}",
        "{\"alg\":\"ES256\",\"x\":1e999}",
    };
    static const char *const payloads[] = {
        "[]", "\"sub\"", "null", "{\"a\":", "{\"sub\":\"\xc3\"}",
        "{\"exp\":99999999999999999999999}",
    };

    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++)
        assert_int_equal(decode_free(unsigned_token(headers[i], "{}")),
                         LLMOIN_JWT_EMALFORMED);
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++)
        assert_int_equal(decode_free(unsigned_token("{\"alg\":\"ES256\"}", payloads[i])),
                         LLMOIN_JWT_EMALFORMED);
    /* the smallest acceptable token */
    assert_int_equal(decode_free(unsigned_token("{\"alg\":\"ES256\"}", "{}")), 0);
}

/* {"alg":"ES256","x":[[...]]} nested depth levels deep in total. */
static char *nested(size_t depth)
{
    char *s = malloc(2 * depth + 32);
    size_t n = (size_t)sprintf(s, "{\"alg\":\"ES256\",\"x\":");

    for (size_t i = 1; i < depth; i++)
        s[n++] = '[';
    for (size_t i = 1; i < depth; i++)
        s[n++] = ']';
    strcpy(s + n, "}");
    return s;
}

static void test_deep_nesting(void **state)
{
    (void)state;
    size_t depths[] = {LLMOIN_JSON_NESTING_MAX, LLMOIN_JSON_NESTING_MAX + 1, 1000,
                       5000};

    for (size_t i = 0; i < sizeof depths / sizeof depths[0]; i++) {
        char *json = nested(depths[i]);
        int expect = depths[i] <= LLMOIN_JSON_NESTING_MAX ? 0 : LLMOIN_JWT_EMALFORMED;

        assert_int_equal(decode_free(unsigned_token(json, "{}")), expect);
        assert_int_equal(decode_free(unsigned_token("{\"alg\":\"ES256\"}", json)),
                         expect);
        free(json);
    }
    /* brackets inside strings are not nesting */
    char str[1100] = "{\"alg\":\"ES256\",\"x\":\"";
    memset(str + strlen(str), '[', 1000);
    strcpy(str + strlen(str), "\"}");
    assert_int_equal(decode_free(unsigned_token(str, "{}")), 0);
}

static void test_duplicate_members(void **state)
{
    (void)state;
    assert_int_equal(decode_free(unsigned_token("{\"alg\":\"ES256\",\"alg\":\"none\"}",
                                                "{}")),
                     LLMOIN_JWT_EMALFORMED);
    assert_int_equal(decode_free(unsigned_token("{\"alg\":\"ES256\"}",
                                                "{\"sub\":\"a\",\"sub\":\"b\"}")),
                     LLMOIN_JWT_EMALFORMED);
    /* the same name spelled with an escape is the same name */
    assert_int_equal(decode_free(unsigned_token("{\"alg\":\"ES256\"}",
                                                "{\"sub\":\"a\",\"s\\u0075b\":\"b\"}")),
                     LLMOIN_JWT_EMALFORMED);
    /* signed by the right key: still refused */
    assert_int_equal(auth_free(token_text("{\"alg\":\"ES256\",\"kid\":\"es\"}",
                                          "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\","
                                          "\"exp\":1750000300,"
                                          "\"preferred_username\":\"alice\","
                                          "\"preferred_username\":\"admin\"}",
                                          F.ec, ES)),
                     LLMOIN_JWT_EMALFORMED);
}

static void test_crit(void **state)
{
    (void)state;
    json_t *values[] = {json_pack("[s]", "exp"), json_array(), json_null(),
                        json_string("b64")};

    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        json_t *h = jws_header("ES256", "es");

        json_object_set_new(h, "crit", values[i]);
        assert_int_equal(auth_free(token_json(h, claims(), F.ec, ES)),
                         LLMOIN_JWT_EMALFORMED);
    }
}

static void test_typ(void **state)
{
    (void)state;
    static const char *const good[] = {"JWT", "jwt", "Jwt", "at+jwt", "AT+JWT",
                                       "At+Jwt"};
    static const char *const bad[] = {"JOSE+JSON", "JOSE", "application/jwt",
                                      "", "JWT ", "at+jw", "JWS", "at+jwt\\u0000"};

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        json_t *h = jws_header("ES256", "es");

        json_object_set_new(h, "typ", json_string(good[i]));
        assert_int_equal(auth_free(token_json(h, claims(), F.ec, ES)), 0);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char h[100];

        snprintf(h, sizeof h, "{\"alg\":\"ES256\",\"kid\":\"es\",\"typ\":\"%s\"}",
                 bad[i]);
        char *p = dump(claims());
        assert_int_equal(auth_free(token_text(h, p, F.ec, ES)), LLMOIN_JWT_EMALFORMED);
        free(p);
    }
    json_t *h = jws_header("ES256", "es");
    json_object_set_new(h, "typ", json_integer(1));
    assert_int_equal(auth_free(token_json(h, claims(), F.ec, ES)), LLMOIN_JWT_EMALFORMED);
    h = jws_header("ES256", "es");
    json_object_del(h, "typ");
    assert_int_equal(auth_free(token_json(h, claims(), F.ec, ES)), 0);
}

static void test_kid(void **state)
{
    (void)state;
    char kid[LLMOIN_JWK_KID_MAX + 2];
    llmoin_jwt_t jwt;
    char *token;

    memset(kid, 'k', sizeof kid);
    kid[LLMOIN_JWK_KID_MAX] = '\0';
    token = token_json(jws_header("ES256", kid), claims(), F.ec, ES);
    assert_int_equal(llmoin_jwt_decode(token, strlen(token), &jwt, NULL, 0), 0);
    assert_string_equal(jwt.kid, kid);
    llmoin_jwt_free(&jwt);
    assert_int_equal(auth_free(token), LLMOIN_JWT_ENOKEY);

    kid[LLMOIN_JWK_KID_MAX] = 'k';
    kid[LLMOIN_JWK_KID_MAX + 1] = '\0';
    assert_int_equal(auth_free(token_json(jws_header("ES256", kid), claims(), F.ec, ES)),
                     LLMOIN_JWT_EMALFORMED);
    json_t *h = jws_header("ES256", NULL);
    json_object_set_new(h, "kid", json_integer(1));
    assert_int_equal(auth_free(token_json(h, claims(), F.ec, ES)), LLMOIN_JWT_EMALFORMED);
    /* with several keys: no kid, an empty kid, a kid of no key -> no key
     * is guessed */
    assert_int_equal(auth_free(token_json(jws_header("ES256", NULL), claims(), F.ec, ES)),
                     LLMOIN_JWT_ENOKEY);
    assert_int_equal(auth_free(token_json(jws_header("ES256", ""), claims(), F.ec, ES)),
                     LLMOIN_JWT_ENOKEY);
    assert_int_equal(auth_free(token_json(jws_header("ES256", "ES"), claims(), F.ec, ES)),
                     LLMOIN_JWT_ENOKEY);
}

/* An issuer with one key (with or without kid) serves tokens without kid;
 * the key's pinning still applies. */
static void test_single_key_without_kid(void **state)
{
    (void)state;
    json_t *doc = json_pack("{s:[o]}", "keys", public_jwk(F.ec, "k1", NULL));
    llmoin_jwks_t one;
    llmoin_jwt_identity_t id;
    char error[200];
    char *token;

    json_object_del(json_array_get(json_object_get(doc, "keys"), 0), "kid");
    assert_int_equal(llmoin_jwks_parse(doc, &one, NULL, NULL, 0), 0);
    assert_int_equal(one.count, 1);
    token = token_json(jws_header("ES256", NULL), claims(), F.ec, ES);
    assert_int_equal(llmoin_jwt_authenticate(token, strlen(token), &one, &EXPECT, &id,
                                             error, sizeof error), 0);
    assert_string_equal(id.user, "alice");
    free(token);
    /* a kid in the token must match, "" included */
    token = token_json(jws_header("ES256", ""), claims(), F.ec, ES);
    assert_int_equal(llmoin_jwt_authenticate(token, strlen(token), &one, &EXPECT, &id,
                                             error, sizeof error), LLMOIN_JWT_ENOKEY);
    free(token);
    /* another key's signature, another alg */
    token = token_json(jws_header("ES256", NULL), claims(), F.ec_other, ES);
    assert_int_equal(llmoin_jwt_authenticate(token, strlen(token), &one, &EXPECT, &id,
                                             error, sizeof error), LLMOIN_JWT_ESIGNATURE);
    free(token);
    token = token_json(jws_header("RS256", NULL), claims(), F.rsa, RS);
    assert_int_equal(llmoin_jwt_authenticate(token, strlen(token), &one, &EXPECT, &id,
                                             error, sizeof error), LLMOIN_JWT_EALG);
    free(token);
    llmoin_jwks_free(&one);
    json_decref(doc);
}

/* Finds a claim filler that makes the token exactly target bytes long. */
static char *token_of_length(size_t target)
{
    /* trailing spaces vary the header's encoded length modulo 4 */
    static const char *const headers[] = {"{\"alg\":\"ES256\",\"kid\":\"es\"}",
                                          "{\"alg\":\"ES256\",\"kid\":\"es\"} ",
                                          "{\"alg\":\"ES256\",\"kid\":\"es\"}  "};

    for (size_t h = 0; h < 3; h++)
        for (size_t fill = target * 3 / 4 - 400; fill < target * 3 / 4; fill++) {
            char *filler = malloc(fill + 1), *p, *token;

            memset(filler, 'f', fill);
            filler[fill] = '\0';
            p = dump(with(claims(), "filler", json_string(filler)));
            free(filler);
            token = token_text(headers[h], p, F.ec, ES);
            free(p);
            if (strlen(token) == target)
                return token;
            free(token);
        }
    fail_msg("no filler gives a token of %zu bytes", target);
    return NULL;
}

static void test_max_len(void **state)
{
    (void)state;
    char *token = token_of_length(LLMOIN_JWT_MAX_LEN), *longer;
    char *junk = malloc(LLMOIN_JWT_MAX_LEN + 2);

    assert_int_equal(auth(token), 0);
    longer = edit(token, 0, " ", false); /* one byte more, otherwise valid */
    assert_int_equal(auth_free(longer), LLMOIN_JWT_ETOOLONG);
    free(token);

    memset(junk, '.', LLMOIN_JWT_MAX_LEN + 1);
    junk[LLMOIN_JWT_MAX_LEN + 1] = '\0';
    assert_int_equal(auth(junk), LLMOIN_JWT_ETOOLONG);
    junk[LLMOIN_JWT_MAX_LEN] = '\0';
    assert_int_equal(auth(junk), LLMOIN_JWT_EMALFORMED);
    free(junk);
}

/* --- claims ------------------------------------------------------------------------- */

static void test_times(void **state)
{
    (void)state;
    llmoin_jwt_identity_t id;
    char error[256];

    /* exp: expired when now >= exp + leeway */
    assert_int_equal(claims_rc(with(claims(), "exp", json_integer(NOW - LEEWAY))),
                     LLMOIN_JWT_EEXPIRED);
    assert_int_equal(claims_rc(with(claims(), "exp", json_integer(NOW - LEEWAY + 1))), 0);
    assert_int_equal(claims_leeway(with(claims(), "exp", json_integer(NOW)), 0),
                     LLMOIN_JWT_EEXPIRED);
    assert_int_equal(claims_leeway(with(claims(), "exp", json_integer(NOW + 1)), 0), 0);
    /* a negative leeway counts as 0 */
    assert_int_equal(claims_leeway(with(claims(), "exp", json_integer(NOW + 1)), -100), 0);
    assert_int_equal(claims_leeway(with(claims(), "nbf", json_integer(NOW)), -100), 0);
    /* a huge leeway does not overflow */
    assert_int_equal(claims_leeway(with(claims(), "exp", json_integer(1)), LONG_MAX), 0);
    /* reals */
    assert_int_equal(claims_with(with(claims(), "exp", json_real(NOW - LEEWAY + 0.5)),
                                 &EXPECT, &id, error, sizeof error), 0);
    assert_int_equal(id.expires_at, NOW - LEEWAY);
    assert_int_equal(claims_rc(with(claims(), "exp", json_real(NOW - LEEWAY))),
                     LLMOIN_JWT_EEXPIRED);

    /* nbf: not yet when now + leeway < nbf */
    assert_int_equal(claims_rc(with(claims(), "nbf", json_integer(NOW + LEEWAY))), 0);
    assert_int_equal(claims_rc(with(claims(), "nbf", json_integer(NOW + LEEWAY + 1))),
                     LLMOIN_JWT_ENOTYET);
    assert_int_equal(claims_rc(with(claims(), "nbf", json_real(NOW + LEEWAY + 0.5))),
                     LLMOIN_JWT_ENOTYET);
    assert_int_equal(claims_rc(with(claims(), "nbf", NULL)), 0);
    /* iat: refused when iat > now + leeway */
    assert_int_equal(claims_rc(with(claims(), "iat", json_integer(NOW + LEEWAY))), 0);
    assert_int_equal(claims_rc(with(claims(), "iat", json_integer(NOW + LEEWAY + 1))),
                     LLMOIN_JWT_ENOTYET);
    assert_int_equal(claims_rc(with(claims(), "iat", NULL)), 0);
    assert_int_equal(claims_rc(with(claims(), "iat", json_integer(0))), 0);
}

static void test_time_types(void **state)
{
    (void)state;
    const json_int_t two53 = (json_int_t)1 << 53;
    llmoin_jwt_identity_t id;
    char error[256];

    assert_int_equal(claims_rc(with(claims(), "exp", NULL)), LLMOIN_JWT_EEXPIRED);
    json_t *bad[] = {json_string("1750000300"), json_true(), json_null(),
                     json_integer(-1), json_integer(two53 + 1), json_real(-0.5),
                     json_real(1e300), json_array(), json_object()};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(claims_rc(with(claims(), "exp", json_incref(bad[i]))),
                         LLMOIN_JWT_EEXPIRED);
        assert_int_equal(claims_rc(with(claims(), "nbf", json_incref(bad[i]))),
                         LLMOIN_JWT_ENOTYET);
        assert_int_equal(claims_rc(with(claims(), "iat", json_incref(bad[i]))),
                         LLMOIN_JWT_ENOTYET);
        json_decref(bad[i]);
    }
    /* 2^53 itself is fine */
    assert_int_equal(claims_with(with(claims(), "exp", json_integer(two53)), &EXPECT,
                                 &id, error, sizeof error), 0);
    assert_int_equal(id.expires_at, two53);
    assert_int_equal(claims_with(with(claims(), "exp", json_string("x")), &EXPECT, &id,
                                 error, sizeof error), LLMOIN_JWT_EEXPIRED);
    assert_non_null(strstr(error, "'exp'"));
}

static void test_audience(void **state)
{
    (void)state;
    assert_int_equal(claims_rc(with(claims(), "aud", json_string(AUD))), 0);
    assert_int_equal(claims_rc(with(claims(), "aud", json_pack("[s,s]", "account", AUD))), 0);
    assert_int_equal(claims_rc(with(claims(), "aud", json_pack("[s]", AUD))), 0);
    json_t *bad[] = {
        NULL, json_string("account"), json_string(AUD "x"), json_string("llmoi"),
        json_string("LLMOIN"), json_string(""), json_array(), json_pack("[s]", "account"),
        json_pack("[s,i]", AUD, 1), json_pack("[i,s]", 1, AUD), json_pack("[[s]]", AUD),
        json_integer(5), json_null(), json_pack("{s:i}", AUD, 1),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(claims_rc(with(claims(), "aud", bad[i])), LLMOIN_JWT_EAUDIENCE);
}

static void test_issuer(void **state)
{
    (void)state;
    json_t *bad[] = {
        NULL, json_string("https://login.example.de/realms/bremen"),
        json_string(ISS "/"), json_string("https://login.example.de/realms/hambur"),
        json_string("HTTPS://login.example.de/realms/hamburg"), json_string(""),
        json_pack("[s]", ISS), json_integer(1), json_null(),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(claims_rc(with(claims(), "iss", bad[i])), LLMOIN_JWT_EISSUER);
    /* the issuer is checked first */
    json_t *p = with(with(claims(), "iss", json_string("x")), "aud", NULL);
    assert_int_equal(claims_rc(with(p, "exp", NULL)), LLMOIN_JWT_EISSUER);
}

static void test_user(void **state)
{
    (void)state;
    llmoin_jwt_expect_t expect = EXPECT;
    llmoin_jwt_identity_t id;
    char error[256], long_user[LLMOIN_JWT_USER_MAX + 1];

    json_t *bad[] = {
        NULL, json_string(""), json_integer(42), json_null(), json_true(),
        json_pack("[s]", "alice"), json_string("ali\nce"), json_string("alice\r"),
        json_string("ali\tce"), json_string("ali\x7f" "ce"),
        json_string("ali\xc2\x85" "ce"), /* U+0085 NEXT LINE */
        json_string("\x1b[31malice"),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(claims_with(with(claims(), "preferred_username", bad[i]),
                                     &EXPECT, &id, error, sizeof error),
                         LLMOIN_JWT_EUSER);
        assert_non_null(strstr(error, "'preferred_username'"));
        assert_null(strstr(error, "alice"));
    }
    /* at most 255 bytes */
    memset(long_user, 'u', sizeof long_user);
    long_user[LLMOIN_JWT_USER_MAX - 1] = '\0';
    assert_int_equal(claims_with(with(claims(), "preferred_username",
                                      json_string(long_user)),
                                 &EXPECT, &id, error, sizeof error), 0);
    assert_string_equal(id.user, long_user);
    long_user[LLMOIN_JWT_USER_MAX - 1] = 'u';
    long_user[LLMOIN_JWT_USER_MAX] = '\0';
    assert_int_equal(claims_rc(with(claims(), "preferred_username",
                                    json_string(long_user))),
                     LLMOIN_JWT_EUSER);
    /* non-ASCII letters are fine */
    assert_int_equal(claims_with(with(claims(), "preferred_username",
                                      json_string("j\xc3\xbcrgen.m\xc3\xbcller")),
                                 &EXPECT, &id, error, sizeof error), 0);
    assert_string_equal(id.user, "j\xc3\xbcrgen.m\xc3\xbcller");
    /* another user claim */
    expect.user_claim = "sub";
    assert_int_equal(claims_with(claims(), &expect, &id, error, sizeof error), 0);
    assert_string_equal(id.user, "f81d4fae-7dec-11d0");
    expect.user_claim = "email";
    assert_int_equal(claims_with(claims(), &expect, &id, error, sizeof error),
                     LLMOIN_JWT_EUSER);
    assert_non_null(strstr(error, "'email'"));
}

/* s = n times 'a' */
static const char *a_string(char *s, size_t n)
{
    memset(s, 'a', n);
    s[n] = '\0';
    return s;
}

static void test_groups(void **state)
{
    (void)state;
    llmoin_jwt_expect_t expect = EXPECT;
    llmoin_jwt_identity_t id;
    char error[256], group[LLMOIN_JWT_GROUPS_MAX + 1];
    json_t *many;

    assert_int_equal(claims_with(with(claims(), "groups", json_string("admins")),
                                 &EXPECT, &id, error, sizeof error), 0);
    assert_string_equal(id.groups, "admins");
    assert_int_equal(id.group_count, 1);
    assert_int_equal(claims_with(with(claims(), "groups", NULL), &EXPECT, &id, error,
                                 sizeof error), 0);
    assert_string_equal(id.groups, "");
    assert_int_equal(id.group_count, 0);
    assert_int_equal(claims_with(with(claims(), "groups", json_array()), &EXPECT, &id,
                                 error, sizeof error), 0);
    assert_string_equal(id.groups, "");

    /* LLMOIN_JWT_GROUPS_COUNT groups, then one more */
    many = json_array();
    for (int i = 0; i < LLMOIN_JWT_GROUPS_COUNT; i++) {
        char g[8];
        snprintf(g, sizeof g, "g%d", i);
        json_array_append_new(many, json_string(g));
    }
    assert_int_equal(claims_with(with(claims(), "groups", json_incref(many)), &EXPECT,
                                 &id, error, sizeof error), 0);
    assert_int_equal(id.group_count, LLMOIN_JWT_GROUPS_COUNT);
    assert_memory_equal(id.groups, "g0,g1,g2,", 9);
    json_array_append_new(many, json_string("one-too-many"));
    assert_int_equal(claims_with(with(claims(), "groups", many), &EXPECT, &id, error,
                                 sizeof error), LLMOIN_JWT_EGROUPS);
    assert_non_null(strstr(error, "'groups'"));

    /* LLMOIN_JWT_GROUPS_MAX - 1 bytes joined, then one more */
    assert_int_equal(claims_with(with(claims(), "groups",
                                      json_pack("[s,s]", "b", a_string(group, 1021))),
                                 &EXPECT, &id, error, sizeof error), 0);
    assert_int_equal(strlen(id.groups), LLMOIN_JWT_GROUPS_MAX - 1);
    assert_int_equal(claims_rc(with(claims(), "groups",
                                    json_pack("[s,s]", "b", a_string(group, 1022)))),
                     LLMOIN_JWT_EGROUPS);
    assert_int_equal(claims_rc(with(claims(), "groups",
                                    json_string(a_string(group, 1023)))), 0);
    assert_int_equal(claims_rc(with(claims(), "groups",
                                    json_string(a_string(group, 1024)))),
                     LLMOIN_JWT_EGROUPS);

    json_t *bad[] = {
        json_pack("[s]", ""), json_pack("[s,s]", "a", "b,c"), json_string("a,b"),
        json_pack("[s]", "a\tb"), json_pack("[s]", "a\nb"), json_pack("[s,i]", "a", 7),
        json_pack("[[s]]", "a"), json_pack("{s:s}", "a", "b"), json_integer(1),
        json_null(), json_true(), json_string(""),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(claims_rc(with(claims(), "groups", bad[i])), LLMOIN_JWT_EGROUPS);

    /* not configured: whatever the token holds is ignored */
    expect.groups_claim = NULL;
    assert_int_equal(claims_with(with(claims(), "groups", json_integer(1)), &expect, &id,
                                 error, sizeof error), 0);
    assert_string_equal(id.groups, "");
    /* another claim name */
    expect.groups_claim = "roles";
    assert_int_equal(claims_with(with(claims(), "roles", json_pack("[s]", "reader")),
                                 &expect, &id, error, sizeof error), 0);
    assert_string_equal(id.groups, "reader");
}

static void test_unconfigured_expectations(void **state)
{
    (void)state;
    llmoin_jwt_expect_t expect = EXPECT;
    llmoin_jwt_identity_t id;
    char error[256];

    expect.issuer = NULL;
    assert_int_equal(claims_with(claims(), &expect, &id, error, sizeof error),
                     LLMOIN_JWT_EISSUER);
    expect = EXPECT;
    expect.audience = NULL;
    assert_int_equal(claims_with(claims(), &expect, &id, error, sizeof error),
                     LLMOIN_JWT_EAUDIENCE);
    expect = EXPECT;
    expect.user_claim = NULL;
    assert_int_equal(claims_with(claims(), &expect, &id, error, sizeof error),
                     LLMOIN_JWT_EUSER);
}

/* Claim values, even short ones, never appear in messages. */
static void test_messages_do_not_echo(void **state)
{
    (void)state;
    llmoin_jwt_expect_t expect = EXPECT;
    llmoin_jwt_identity_t id;
    char error[256];
    const char *secret = "Zq7secretValue";

    expect.groups_claim = "groups";
    assert_int_equal(claims_with(with(claims(), "iss", json_string(secret)), &expect,
                                 &id, error, sizeof error), LLMOIN_JWT_EISSUER);
    assert_null(strstr(error, "Zq7"));
    assert_null(strstr(error, ISS));
    assert_int_equal(claims_with(with(claims(), "aud", json_string(secret)), &expect,
                                 &id, error, sizeof error), LLMOIN_JWT_EAUDIENCE);
    assert_null(strstr(error, "Zq7"));
    assert_null(strstr(error, AUD));
    assert_int_equal(claims_with(with(claims(), "preferred_username",
                                      json_string("Zq7\n")),
                                 &expect, &id, error, sizeof error), LLMOIN_JWT_EUSER);
    assert_null(strstr(error, "Zq7"));
    assert_int_equal(claims_with(with(claims(), "groups", json_pack("[s]", "Zq7,x")),
                                 &expect, &id, error, sizeof error), LLMOIN_JWT_EGROUPS);
    assert_null(strstr(error, "Zq7"));
}

/* --- API edges -------------------------------------------------------------------------- */

static void test_invalid_arguments(void **state)
{
    (void)state;
    char *token = token_json(jws_header("ES256", "es"), claims(), F.ec, ES);
    llmoin_jwt_identity_t id;
    llmoin_jwk_t no_key = {.kid = "es", .alg = ES, .key = NULL};
    llmoin_jwk_t rsa_as_es = {.kid = "x", .alg = ES, .key = F.rsa};
    llmoin_jwk_t ec_as_rs = {.kid = "x", .alg = RS, .key = F.ec};
    llmoin_jwt_t jwt;
    char error[100];

    assert_int_equal(llmoin_jwt_decode(NULL, 0, &jwt, error, sizeof error),
                     LLMOIN_JWT_EMALFORMED);
    assert_int_equal(llmoin_jwt_decode(token, strlen(token), NULL, error, sizeof error),
                     LLMOIN_JWT_EMALFORMED);
    assert_int_equal(llmoin_jwt_decode(token, strlen(token), &jwt, NULL, 0), 0);
    assert_int_equal(llmoin_jwt_verify_signature(NULL, &F.jwks.keys[2], error,
                                                 sizeof error),
                     LLMOIN_JWT_ESIGNATURE);
    assert_int_equal(llmoin_jwt_verify_signature(&jwt, NULL, error, sizeof error),
                     LLMOIN_JWT_ESIGNATURE);
    assert_int_equal(llmoin_jwt_verify_signature(&jwt, &no_key, error, sizeof error),
                     LLMOIN_JWT_ESIGNATURE);
    /* a hand-made key whose pinning does not fit its type verifies nothing */
    assert_int_equal(llmoin_jwt_verify_signature(&jwt, &rsa_as_es, error, sizeof error),
                     LLMOIN_JWT_ESIGNATURE);
    jwt.alg = RS;
    assert_int_equal(llmoin_jwt_verify_signature(&jwt, &ec_as_rs, error, sizeof error),
                     LLMOIN_JWT_ESIGNATURE);
    assert_int_equal(llmoin_jwt_check_claims(NULL, &EXPECT, &id, error, sizeof error),
                     LLMOIN_JWT_EMALFORMED);
    assert_int_equal(llmoin_jwt_check_claims(&jwt, NULL, &id, error, sizeof error),
                     LLMOIN_JWT_EMALFORMED);
    assert_int_equal(llmoin_jwt_check_claims(&jwt, &EXPECT, NULL, error, sizeof error),
                     LLMOIN_JWT_EMALFORMED);
    llmoin_jwt_free(&jwt);
    llmoin_jwt_free(NULL);
    /* a freed token checks as nothing */
    assert_int_equal(llmoin_jwt_check_claims(&jwt, &EXPECT, &id, error, sizeof error),
                     LLMOIN_JWT_EMALFORMED);
    assert_int_equal(llmoin_jwt_authenticate(token, strlen(token), NULL, &EXPECT, &id,
                                             error, sizeof error),
                     LLMOIN_JWT_ENOKEY);
    assert_int_equal(ERR_peek_error(), 0);
    free(token);
}

static void test_error_buffer(void **state)
{
    (void)state;
    char tiny[6];
    llmoin_jwt_identity_t id;

    assert_int_equal(llmoin_jwt_authenticate(S("a.b"), &F.jwks, &EXPECT, &id, tiny,
                                             sizeof tiny),
                     LLMOIN_JWT_EMALFORMED);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
    assert_int_equal(llmoin_jwt_authenticate(S("a.b"), &F.jwks, &EXPECT, &id, tiny, 1),
                     LLMOIN_JWT_EMALFORMED);
    assert_string_equal(tiny, "");
    assert_int_equal(llmoin_jwt_authenticate(S("a.b"), &F.jwks, &EXPECT, &id, NULL, 0),
                     LLMOIN_JWT_EMALFORMED);
    assert_int_equal(llmoin_jwt_authenticate(S("a.b"), &F.jwks, &EXPECT, NULL, NULL, 0),
                     LLMOIN_JWT_EMALFORMED);
}

static void test_strerror(void **state)
{
    (void)state;
    for (int e = 0; e >= LLMOIN_JWT_ENOKEY; e--) {
        assert_non_null(llmoin_jwt_strerror(e));
        for (int f = 0; f > e; f--)
            assert_string_not_equal(llmoin_jwt_strerror(e), llmoin_jwt_strerror(f));
    }
    assert_string_equal(llmoin_jwt_strerror(-99), "unknown token error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_rs256),
        cmocka_unit_test(test_valid_ps256),
        cmocka_unit_test(test_valid_es256),
        cmocka_unit_test(test_rfc7515_vectors),
        cmocka_unit_test(test_alg_none),
        cmocka_unit_test(test_hs256_with_public_key),
        cmocka_unit_test(test_rs_ps_confusion),
        cmocka_unit_test(test_ps256_salt_length),
        cmocka_unit_test(test_es256_signature_forms),
        cmocka_unit_test(test_signature_of_another_key),
        cmocka_unit_test(test_key_references_ignored),
        cmocka_unit_test(test_tampering),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_dots),
        cmocka_unit_test(test_base64url_strictness),
        cmocka_unit_test(test_not_json),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_duplicate_members),
        cmocka_unit_test(test_crit),
        cmocka_unit_test(test_typ),
        cmocka_unit_test(test_kid),
        cmocka_unit_test(test_single_key_without_kid),
        cmocka_unit_test(test_max_len),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_time_types),
        cmocka_unit_test(test_audience),
        cmocka_unit_test(test_issuer),
        cmocka_unit_test(test_user),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_unconfigured_expectations),
        cmocka_unit_test(test_messages_do_not_echo),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_error_buffer),
        cmocka_unit_test(test_strerror),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
