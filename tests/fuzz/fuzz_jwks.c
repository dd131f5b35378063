/*
 * fuzz_jwks: the payload is parsed as a JWK Set, with an error buffer of
 * knob + 1 bytes (heap-allocated to its exact size, so ASan sees any
 * overrun).
 *
 * Invariants: a refusal leaves an empty set, a zero skip count and a
 * terminated, non-empty message. An accepted set holds only keys that
 * jwk.h calls usable: a kid of at most 128 bytes without control
 * characters, unique in the set and found by llmoin_jwks_find() unless it
 * is empty (then never found); an alg of RS256 or
 * PS256 on an RSA key of 2048..4096 bits, or ES256 on a P-256 key. Every
 * entry of "keys" is either kept or counted as skipped. Verifying a fixed
 * token (signed at start-up by a key the input cannot know) with any
 * parsed key never succeeds. No OpenSSL error is left queued. The slice
 * between the cuts is used as a kid probe.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <string.h>

#include "base64url.h"
#include "fuzz_common.h"
#include "jwk.h"
#include "jwt.h"

static llmoin_jwt_t tokens[2]; /* RS256 and ES256, kid "k" */
static char *texts[2];

static char *make_token(EVP_PKEY *key, const char *header)
{
    static const char payload[] = "eyJzdWIiOiJ4In0"; /* {"sub":"x"} */
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char sig[512];
    size_t n = sizeof sig;
    char *token = malloc(2048), *o;

    FUZZ_CHECK(md != NULL && token != NULL, "malloc");
    o = token + sprintf(token, "%s.%s", header, payload);
    FUZZ_CHECK(EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL) == 1 &&
                   EVP_DigestSign(md, sig, &n, (const unsigned char *)token,
                                  (size_t)(o - token)) == 1,
               "sign");
    EVP_MD_CTX_free(md);
    *o++ = '.';
    /* any bytes of the right length will do for ES256: nothing verifies */
    FUZZ_CHECK(llmoin_base64url_encode(sig, EVP_PKEY_is_a(key, "EC") ? 64 : n, o,
                                       2048 - (size_t)(o - token), NULL) == 0,
               "encode");
    return token;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

    (void)argc;
    (void)argv;
    FUZZ_CHECK(rsa != NULL && ec != NULL, "keygen");
    texts[0] = make_token(rsa, "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ"); /* RS256, k */
    texts[1] = make_token(ec, "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsifQ");  /* ES256, k */
    for (int i = 0; i < 2; i++)
        FUZZ_CHECK(llmoin_jwt_decode(texts[i], strlen(texts[i]), &tokens[i], NULL, 0) == 0,
                   "fixed token");
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
    return 0;
}

/* Entries of "keys" when jansson reads the text as jwk.c does, or -1. */
static long entries(const uint8_t *text, size_t len)
{
    json_t *doc;
    long n = -1;

    if (len > LLMOIN_JWKS_TEXT_MAX || !llmoin_json_nesting_within((const char *)text, len,
                                                                  LLMOIN_JSON_NESTING_MAX))
        return -1;
    doc = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, NULL);
    if (json_is_array(json_object_get(doc, "keys")))
        n = (long)json_array_size(json_object_get(doc, "keys"));
    json_decref(doc);
    return n;
}

static void check_key(const llmoin_jwks_t *set, size_t i)
{
    const llmoin_jwk_t *k = &set->keys[i];
    size_t kid_len = strnlen(k->kid, sizeof k->kid);
    int bits;

    FUZZ_CHECK(kid_len <= LLMOIN_JWK_KID_MAX, "kid length");
    for (size_t j = 0; j < kid_len; j++)
        FUZZ_CHECK((unsigned char)k->kid[j] >= 0x20 && k->kid[j] != 0x7f,
                   "control character in kid");
    FUZZ_CHECK(llmoin_jwks_find(set, k->kid) == (kid_len > 0 ? k : NULL),
               "kid not unique or not found");
    FUZZ_CHECK(k->key != NULL, "no key");
    bits = EVP_PKEY_get_bits(k->key);
    switch (k->alg) {
    case LLMOIN_JWT_ALG_RS256:
    case LLMOIN_JWT_ALG_PS256:
        FUZZ_CHECK(EVP_PKEY_is_a(k->key, "RSA") && bits >= LLMOIN_JWK_RSA_MIN_BITS &&
                       bits <= LLMOIN_JWK_RSA_MAX_BITS,
                   "RSA key");
        break;
    case LLMOIN_JWT_ALG_ES256:
        FUZZ_CHECK(EVP_PKEY_is_a(k->key, "EC") && bits == 256, "EC key");
        break;
    default:
        FUZZ_CHECK(0, "key without a pinned alg");
    }
    for (int t = 0; t < 2; t++) {
        int rc = llmoin_jwt_verify_signature(&tokens[t], k, NULL, 0);

        FUZZ_CHECK(rc == LLMOIN_JWT_EALG || rc == LLMOIN_JWT_ESIGNATURE,
                   "an unknown key verified the fixed token");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_t in;
    llmoin_jwks_t set;
    size_t skipped = 12345, error_size;
    char *error, probe[LLMOIN_JWK_KID_MAX + 2];
    const llmoin_jwk_t *found;
    long n;
    int rc;

    if (!fuzz_input(data, size, &in))
        return 0;
    error_size = (size_t)in.knob + 1;
    error = malloc(error_size);
    FUZZ_CHECK(error != NULL, "malloc");
    memset(error, 'X', error_size);

    rc = llmoin_jwks_parse_text((const char *)in.data, in.len, &set, &skipped, error,
                                error_size);
    FUZZ_CHECK(memchr(error, '\0', error_size) != NULL, "error not terminated");
    FUZZ_CHECK(ERR_peek_error() == 0, "OpenSSL error left queued");
    n = entries(in.data, in.len);
    if (rc != 0) {
        FUZZ_CHECK(rc >= LLMOIN_JWK_ENOMEM, "result");
        FUZZ_CHECK(set.keys == NULL && set.count == 0 && skipped == 0,
                   "refusal leaves keys");
        FUZZ_CHECK(error_size == 1 || error[0] != '\0', "refused without a reason");
        free(error);
        return 0;
    }
    free(error);
    FUZZ_CHECK(n >= 0 && (size_t)n == set.count + skipped, "entries kept or skipped");
    FUZZ_CHECK((set.keys == NULL) == (set.count == 0), "keys array");
    for (size_t i = 0; i < set.count; i++)
        check_key(&set, i);

    n = (long)(in.cuts[1] - in.cuts[0]);
    if ((size_t)n < sizeof probe) {
        memcpy(probe, in.data + in.cuts[0], (size_t)n);
        probe[n] = '\0';
        found = llmoin_jwks_find(&set, probe);
        FUZZ_CHECK(found == NULL || strcmp(found->kid, probe) == 0, "probe");
    }
    FUZZ_CHECK(ERR_peek_error() == 0, "OpenSSL error left queued");
    llmoin_jwks_free(&set);
    return 0;
}
