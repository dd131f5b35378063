#include "dev_idp_keys.h"

#include "base64url.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P256_COORDINATE 32

static int
encode(const unsigned char *bytes, size_t length, char *out, size_t out_size)
{
    size_t written;

    return llmoin_base64url_encode(bytes, length, out, out_size, &written) == 0 ? 0 : -1;
}

static char *
private_key_pem(EVP_PKEY *key)
{
    BIO  *bio = BIO_new(BIO_s_mem());
    char *data, *pem = NULL;
    long  length;

    if (bio != NULL && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1) {
        length = BIO_get_mem_data(bio, &data);
        pem = strndup(data, (size_t) length);
    }
    BIO_free(bio);
    return pem;
}

static json_t *
public_jwk(EVP_PKEY *key, const char *kid)
{
    unsigned char point[1 + 2 * P256_COORDINATE];
    size_t        length = 0;
    char          x[64], y[64];

    /* the uncompressed point: 0x04 || x || y */
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point),
                                        &length) != 1
        || length != sizeof(point) || point[0] != 0x04
        || encode(point + 1, P256_COORDINATE, x, sizeof(x)) != 0
        || encode(point + 1 + P256_COORDINATE, P256_COORDINATE, y, sizeof(y)) != 0)
    {
        return NULL;
    }
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "kty", "EC", "crv", "P-256", "x", x,
                     "y", y, "kid", kid, "alg", "ES256", "use", "sig");
}

int
dev_idp_key_create(char **private_pem, json_t **jwk, char kid[DEV_IDP_KID_SIZE])
{
    unsigned char random[8];
    EVP_PKEY     *key;
    size_t        i;

    *private_pem = NULL;
    *jwk = NULL;
    if (RAND_bytes(random, sizeof(random)) != 1) {
        return -1;
    }
    for (i = 0; i < sizeof(random); i++) {
        snprintf(kid + 2 * i, 3, "%02x", random[i]);
    }
    key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (key == NULL) {
        return -1;
    }
    *private_pem = private_key_pem(key);
    *jwk = public_jwk(key, kid);
    EVP_PKEY_free(key);
    if (*private_pem == NULL || *jwk == NULL) {
        free(*private_pem);
        json_decref(*jwk);
        return -1;
    }
    return 0;
}

static EVP_PKEY *
read_private_key(const char *pem)
{
    BIO      *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;

    BIO_free(bio);
    return key;
}

/* ECDSA gives DER; JWS wants r || s, 32 bytes each. */
static int
der_to_jose(const unsigned char *der, size_t der_length, unsigned char out[64])
{
    ECDSA_SIG    *signature = d2i_ECDSA_SIG(NULL, &der, (long) der_length);
    const BIGNUM *r, *s;
    int           ok;

    if (signature == NULL) {
        return -1;
    }
    ECDSA_SIG_get0(signature, &r, &s);
    ok = BN_bn2binpad(r, out, 32) == 32 && BN_bn2binpad(s, out + 32, 32) == 32;
    ECDSA_SIG_free(signature);
    return ok ? 0 : -1;
}

static int
sign_input(EVP_PKEY *key, const char *input, unsigned char jose[64])
{
    EVP_MD_CTX    *context = EVP_MD_CTX_new();
    unsigned char  der[128];
    size_t         der_length = sizeof(der);
    int            ok;

    ok = context != NULL
         && EVP_DigestSignInit(context, NULL, EVP_sha256(), NULL, key) == 1
         && EVP_DigestSign(context, der, &der_length, (const unsigned char *) input,
                           strlen(input)) == 1;
    EVP_MD_CTX_free(context);
    return ok ? der_to_jose(der, der_length, jose) : -1;
}

static char *
encode_json(const json_t *value)
{
    char   *text = json_dumps(value, JSON_COMPACT), *encoded;
    size_t  size;

    if (text == NULL) {
        return NULL;
    }
    size = llmoin_base64url_encoded_len(strlen(text)) + 1;
    encoded = malloc(size);
    if (encoded != NULL && encode((unsigned char *) text, strlen(text), encoded, size) != 0) {
        free(encoded);
        encoded = NULL;
    }
    free(text);
    return encoded;
}

int
dev_idp_sign(const char *private_pem, const char *kid, const json_t *claims, char **token)
{
    json_t        *header = json_pack("{s:s,s:s,s:s}", "alg", "ES256", "typ", "JWT",
                                      "kid", kid);
    char          *head = encode_json(header), *body = encode_json(claims);
    char           signature[128];
    unsigned char  jose[64];
    EVP_PKEY      *key = read_private_key(private_pem);
    size_t         size;
    int            rc = -1;

    *token = NULL;
    if (head != NULL && body != NULL && key != NULL) {
        size = strlen(head) + strlen(body) + sizeof(signature) + 3;
        *token = malloc(size);
        if (*token != NULL) {
            snprintf(*token, size, "%s.%s", head, body);
            if (sign_input(key, *token, jose) == 0
                && encode(jose, sizeof(jose), signature, sizeof(signature)) == 0)
            {
                strcat(*token, ".");
                strcat(*token, signature);
                rc = 0;
            }
        }
    }
    if (rc != 0) {
        free(*token);
        *token = NULL;
    }
    EVP_PKEY_free(key);
    json_decref(header);
    free(head);
    free(body);
    return rc;
}
