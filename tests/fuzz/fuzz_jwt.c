/*
 * fuzz_jwt: JWS compact tokens through decode, verify_signature (against
 * fixed RS256, PS256 and ES256 keys generated once in
 * LLVMFuzzerInitialize), check_claims and authenticate, with an error
 * buffer of (knob & 0x1f) + 1 bytes (heap-allocated to its exact size, so
 * ASan sees any overrun).
 *
 * Input modes (fuzz_common.h layout; knob bit 7 chooses):
 *   raw (bit 7 clear): the payload is the token, byte for byte.
 *   structured (bit 7 set): the harness builds the token, so that the
 *     fuzzer works on JSON rather than on base64url:
 *       header JSON = payload[0, cut0), signature bytes = payload[cut0,
 *       cut1), claims JSON = payload[cut1, end).
 *     With bit 6 set, the signature is replaced by a real one from the
 *     fixed key the header's alg names (RSA ones only with bit 5 set too,
 *     since RSA signing is slow), so that the success path is explored.
 *
 * Invariants: a refusal leaves *out zeroed and gives a terminated message;
 * no message ever holds 32 consecutive base64url characters (it would be
 * an echo of the token); an accepted token's parts are re-derivable (the
 * signature re-encodes to exactly the token's third part: one encoding per
 * token); verification succeeds only for a token the harness signed, and
 * only with the key of its alg; accepted claims give a clean identity
 * whose expiry is in the future; no OpenSSL error is left queued. The
 * slice between the cuts is also run through the base64url decoder, whose
 * output must re-encode to the slice.
 */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <string.h>

#include "base64url.h"
#include "fuzz_common.h"
#include "jwk.h"
#include "jwt.h"

#define NOW 1750000000LL

static llmoin_jwks_t keys; /* "rs" RS256, "ps" PS256, "es" ES256 */
static EVP_PKEY *rsa, *ec;

static const llmoin_jwt_expect_t expect = {
    .issuer = "https://idp.example/realms/x",
    .audience = "llmoin",
    .now = NOW,
    .leeway = 60,
    .user_claim = "sub",
    .groups_claim = "groups",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    keys.keys = calloc(3, sizeof *keys.keys);
    FUZZ_CHECK(rsa != NULL && ec != NULL && keys.keys != NULL, "key setup");
    keys.count = 3;
    keys.keys[0] = (llmoin_jwk_t){.kid = "rs", .alg = LLMOIN_JWT_ALG_RS256, .key = rsa};
    keys.keys[1] = (llmoin_jwk_t){.kid = "ps", .alg = LLMOIN_JWT_ALG_PS256, .key = rsa};
    keys.keys[2] = (llmoin_jwk_t){.kid = "es", .alg = LLMOIN_JWT_ALG_ES256, .key = ec};
    EVP_PKEY_up_ref(rsa);
    EVP_PKEY_up_ref(ec);
    return 0;
}

static int is_b64url(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static void check_message(const char *error, size_t error_size)
{
    size_t run = 0;

    FUZZ_CHECK(memchr(error, '\0', error_size) != NULL, "message not terminated");
    for (const char *p = error; *p; p++) {
        run = is_b64url((unsigned char)*p) ? run + 1 : 0;
        FUZZ_CHECK(run < 32, "message echoes token material");
    }
}

/* --- building tokens --------------------------------------------------------- */

static char *append_b64(char *out, const void *bytes, size_t len)
{
    size_t n, cap = llmoin_base64url_encoded_len(len) + 1;

    FUZZ_CHECK(llmoin_base64url_encode(bytes, len, out, cap, &n) == 0, "encode");
    return out + n;
}

/* out must hold encoded(h) + encoded(p) + encoded(s) + 3 bytes. */
static size_t join(char *out, const uint8_t *h, size_t h_len, const uint8_t *p,
                   size_t p_len, const uint8_t *s, size_t s_len)
{
    char *o = append_b64(out, h, h_len);

    *o++ = '.';
    o = append_b64(o, p, p_len);
    *o++ = '.';
    o = append_b64(o, s, s_len);
    return (size_t)(o - out);
}

/* Signs input with the fixed key of alg, ES256 as r || s. */
static size_t sign(llmoin_jwt_alg_t alg, const char *input, size_t len,
                   unsigned char sig[512])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char der[512];
    size_t n = sizeof der;
    const unsigned char *p = der;
    ECDSA_SIG *es;
    const BIGNUM *r, *s;

    FUZZ_CHECK(md != NULL &&
                   EVP_DigestSignInit_ex(md, &pctx, "SHA256", NULL, NULL,
                                         alg == LLMOIN_JWT_ALG_ES256 ? ec : rsa,
                                         NULL) == 1,
               "sign init");
    if (alg == LLMOIN_JWT_ALG_PS256)
        FUZZ_CHECK(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1,
                   "pss");
    FUZZ_CHECK(EVP_DigestSign(md, der, &n, (const unsigned char *)input, len) == 1,
               "sign");
    EVP_MD_CTX_free(md);
    if (alg != LLMOIN_JWT_ALG_ES256) {
        memcpy(sig, der, n);
        return n;
    }
    es = d2i_ECDSA_SIG(NULL, &p, (long)n);
    FUZZ_CHECK(es != NULL, "DER");
    ECDSA_SIG_get0(es, &r, &s);
    BN_bn2binpad(r, sig, 32);
    BN_bn2binpad(s, sig + 32, 32);
    ECDSA_SIG_free(es);
    return 64;
}

/* The token of a structured input; *signed_alg = the alg signed for. */
static char *structured(const fuzz_input_t *in, size_t *len,
                        llmoin_jwt_alg_t *signed_alg)
{
    const uint8_t *d = in->data;
    size_t h_len = in->cuts[0], s_len = in->cuts[1] - in->cuts[0];
    size_t p_len = in->len - in->cuts[1];
    size_t cap = llmoin_base64url_encoded_len(h_len) +
                 llmoin_base64url_encoded_len(p_len) + 700;
    char *token = malloc(cap);
    unsigned char sig[512];
    llmoin_jwt_t jwt;

    FUZZ_CHECK(token != NULL, "malloc");
    *len = join(token, d, h_len, d + in->cuts[1], p_len, d + in->cuts[0], s_len);
    *signed_alg = LLMOIN_JWT_ALG_UNKNOWN;
    if (!(in->knob & 0x40) || llmoin_jwt_decode(token, *len, &jwt, NULL, 0) != 0)
        return token;
    if (jwt.alg == LLMOIN_JWT_ALG_ES256 ||
        (jwt.alg != LLMOIN_JWT_ALG_UNKNOWN && (in->knob & 0x20))) {
        size_t n = sign(jwt.alg, token, jwt.signing_input_len, sig);

        *signed_alg = jwt.alg;
        *len = jwt.signing_input_len;
        token[(*len)++] = '.';
        *len = (size_t)(append_b64(token + *len, sig, n) - token);
    }
    llmoin_jwt_free(&jwt);
    return token;
}

/* --- checking ---------------------------------------------------------------- */

static void check_decoded(const llmoin_jwt_t *jwt, const char *token, size_t len)
{
    const char *sig_part = token + jwt->signing_input_len + 1;
    size_t sig_part_len = len - jwt->signing_input_len - 1;
    const json_t *alg = json_object_get(jwt->header, "alg");
    char *again = malloc(sig_part_len + 1);
    size_t n;

    FUZZ_CHECK(json_is_object(jwt->header) && json_is_object(jwt->payload), "objects");
    FUZZ_CHECK(jwt->signing_input == token && jwt->signing_input_len < len &&
                   token[jwt->signing_input_len] == '.',
               "signing input");
    FUZZ_CHECK(memchr(token, '.', jwt->signing_input_len) != NULL &&
                   memchr(sig_part, '.', sig_part_len) == NULL,
               "exactly two dots");
    FUZZ_CHECK(jwt->signature_len > 0 && jwt->signature_len <= sizeof jwt->signature,
               "signature length");
    FUZZ_CHECK(again != NULL &&
                   llmoin_base64url_encode(jwt->signature, jwt->signature_len, again,
                                           sig_part_len + 1, &n) == 0 &&
                   n == sig_part_len && memcmp(again, sig_part, n) == 0,
               "signature does not re-encode to the token's third part");
    free(again);
    FUZZ_CHECK(jwt->kid == NULL || strlen(jwt->kid) <= LLMOIN_JWK_KID_MAX, "kid");
    FUZZ_CHECK(json_is_string(alg), "alg");
    FUZZ_CHECK(jwt->alg == LLMOIN_JWT_ALG_UNKNOWN ||
                   strcmp(json_string_value(alg), llmoin_jwt_alg_name(jwt->alg)) == 0,
               "alg name");
    FUZZ_CHECK(json_object_get(jwt->header, "crit") == NULL, "crit accepted");
}

static void check_identity(const llmoin_jwt_identity_t *id, int rc)
{
    size_t commas = 0, ulen = strnlen(id->user, sizeof id->user);

    if (rc != 0) {
        FUZZ_CHECK(id->user[0] == '\0' && id->groups[0] == '\0' &&
                       id->group_count == 0 && id->expires_at == 0,
                   "identity not cleared on refusal");
        return;
    }
    FUZZ_CHECK(ulen > 0 && ulen < sizeof id->user, "user");
    for (size_t i = 0; i < ulen; i++)
        FUZZ_CHECK((unsigned char)id->user[i] >= 0x20 && id->user[i] != 0x7f,
                   "control character in user");
    FUZZ_CHECK(strnlen(id->groups, sizeof id->groups) < sizeof id->groups, "groups");
    for (const char *g = id->groups; *g; g++)
        commas += *g == ',';
    FUZZ_CHECK(id->group_count == (id->groups[0] ? commas + 1 : 0), "group count");
    FUZZ_CHECK(id->expires_at >= expect.now - expect.leeway, "expired identity");
}

static void verify_all(const llmoin_jwt_t *jwt, llmoin_jwt_alg_t signed_alg,
                       char *error, size_t error_size)
{
    for (size_t k = 0; k < keys.count; k++) {
        int rc = llmoin_jwt_verify_signature(jwt, &keys.keys[k], error, error_size);

        check_message(error, error_size);
        FUZZ_CHECK(rc == 0 || rc == LLMOIN_JWT_EALG || rc == LLMOIN_JWT_ESIGNATURE,
                   "verify result");
        FUZZ_CHECK((rc == LLMOIN_JWT_EALG) == (jwt->alg != keys.keys[k].alg),
                   "EALG iff the algorithms differ");
        if (rc == 0)
            FUZZ_CHECK(signed_alg != LLMOIN_JWT_ALG_UNKNOWN &&
                           keys.keys[k].alg == signed_alg,
                       "a token the harness did not sign verifies");
        else if (jwt->alg == keys.keys[k].alg && signed_alg == keys.keys[k].alg)
            FUZZ_CHECK(0, "a token signed by the harness does not verify");
        FUZZ_CHECK(ERR_peek_error() == 0, "OpenSSL error left queued");
    }
}

static void check_base64url(const fuzz_input_t *in)
{
    const char *s = (const char *)in->data + in->cuts[0];
    size_t len = in->cuts[1] - in->cuts[0], n, m;
    unsigned char out[256];
    char again[345];
    int rc = llmoin_base64url_decode(s, len, out, sizeof out, &n);

    if (rc != 0)
        return;
    FUZZ_CHECK(n == llmoin_base64url_decoded_max(len), "decoded length");
    FUZZ_CHECK(llmoin_base64url_encode(out, n, again, sizeof again, &m) == 0 &&
                   m == len && memcmp(again, s, len) == 0,
               "base64url does not round-trip");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_t in;
    size_t error_size, len;
    llmoin_jwt_alg_t signed_alg = LLMOIN_JWT_ALG_UNKNOWN;
    llmoin_jwt_identity_t id;
    llmoin_jwt_t jwt;
    char *error, *token;
    int rc;

    if (!fuzz_input(data, size, &in))
        return 0;
    check_base64url(&in);
    error_size = (size_t)(in.knob & 0x1f) + 1;
    error = malloc(error_size);
    FUZZ_CHECK(error != NULL, "malloc");
    if (in.knob & 0x80) {
        token = structured(&in, &len, &signed_alg);
    } else {
        token = malloc(in.len + 1); /* exact size: ASan sees overreads */
        FUZZ_CHECK(token != NULL, "malloc");
        memcpy(token, in.data, in.len);
        len = in.len;
    }

    memset(error, 'X', error_size);
    rc = llmoin_jwt_decode(token, len, &jwt, error, error_size);
    check_message(error, error_size);
    FUZZ_CHECK(rc == 0 || rc == LLMOIN_JWT_EMALFORMED || rc == LLMOIN_JWT_ETOOLONG ||
                   rc == LLMOIN_JWT_ENOMEM,
               "decode result");
    FUZZ_CHECK((rc == LLMOIN_JWT_ETOOLONG) == (len > LLMOIN_JWT_MAX_LEN), "ETOOLONG");
    if (rc != 0) {
        FUZZ_CHECK(jwt.header == NULL && jwt.payload == NULL, "refusal leaves JSON");
        FUZZ_CHECK(error_size == 1 || error[0] != '\0', "refused without a reason");
    } else {
        check_decoded(&jwt, token, len);
        verify_all(&jwt, signed_alg, error, error_size);
        memset(&id, 'X', sizeof id);
        rc = llmoin_jwt_check_claims(&jwt, &expect, &id, error, error_size);
        check_message(error, error_size);
        FUZZ_CHECK(rc <= 0 && rc >= LLMOIN_JWT_ENOMEM, "claims result");
        check_identity(&id, rc);
        llmoin_jwt_free(&jwt);
    }

    memset(&id, 'X', sizeof id);
    rc = llmoin_jwt_authenticate(token, len, &keys, &expect, &id, error, error_size);
    check_message(error, error_size);
    check_identity(&id, rc);
    FUZZ_CHECK(rc != 0 || signed_alg != LLMOIN_JWT_ALG_UNKNOWN,
               "authenticated a token the harness did not sign");
    FUZZ_CHECK(ERR_peek_error() == 0, "OpenSSL error left queued");
    free(token);
    free(error);
    return 0;
}
