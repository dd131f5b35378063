/*
 * bench_verify: what one uncached token verification costs, per algorithm.
 *
 * For RS256, PS256 (RSA 2048) and ES256 (P-256) it builds a snapshot with
 * one issuer and signs a token, then times llmoin_token_verify() — decode,
 * issuer lookup, signature, claims: everything the gateway does on a token
 * cache miss — and, for comparison, the SHA-256 of an API key (what every
 * request with a key costs). Not a test: run it, read the numbers.
 *
 *   build/tests/bench/bench_verify [ITERATIONS]
 */
#include "../unit/jwt_test_support.h"

#include "apikey.h"
#include "snapshot.h"
#include "token.h"

#include <time.h>

#define ISSUER "https://idp.bench.example/realms/bench"

static double
now_seconds(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double) now.tv_sec + (double) now.tv_nsec / 1e9;
}

static llmoin_snapshot_t *
snapshot_with(json_t *jwks)
{
    char               error[256], *text;
    json_t            *root;
    llmoin_snapshot_t *snapshot;

    root = json_pack("{s:i,s:i,s:[{s:i,s:s,s:s,s:s,s:b,s:[],s:[],s:[{s:s,s:s,s:s,s:n,s:i,s:o}]}],"
                     "s:[],s:[]}",
                     "format", 1, "version", 1, "tenants", "id", 1, "slug", "bench",
                     "status", "active", "pseudonym_secret",
                     "00112233445566778899aabbccddeeff", "models_restricted", 0, "models",
                     "hosts", "issuers", "issuer", ISSUER, "audience", "llmoin",
                     "user_claim", "sub", "groups_claim", "leeway", 60, "jwks", jwks,
                     "models", "keys");
    text = dump(root);
    snapshot = llmoin_snapshot_parse(text, strlen(text), error, sizeof(error));
    if (snapshot == NULL) {
        fprintf(stderr, "bench_verify: snapshot refused: %s\n", error);
        exit(1);
    }
    free(text);
    return snapshot;
}

static void
measure(const char *name, EVP_PKEY *key, llmoin_jwt_alg_t alg, long iterations)
{
    llmoin_snapshot_t     *snapshot;
    llmoin_token_result_t  result;
    char                  *token;
    double                 started;
    long                   i, now = (long) time(NULL);

    snapshot = snapshot_with(set_of(public_jwk(key, "k1", llmoin_jwt_alg_name(alg)), NULL));
    token = token_json(jws_header(llmoin_jwt_alg_name(alg), "k1"),
                       json_pack("{s:s,s:s,s:s,s:I,s:I}", "iss", ISSUER, "aud", "llmoin",
                                 "sub", "alice", "iat", (json_int_t) now,
                                 "exp", (json_int_t) now + 3600),
                       key, alg);
    started = now_seconds();
    for (i = 0; i < iterations; i++) {
        if (llmoin_token_verify(snapshot, token, strlen(token), now, &result) != 0) {
            fprintf(stderr, "bench_verify: %s token refused: %s\n", name, result.message);
            exit(1);
        }
    }
    printf("%-28s %8.1f us/op\n", name, (now_seconds() - started) * 1e6 / (double) iterations);
    free(token);
    llmoin_snapshot_free(snapshot);
}

static void
measure_key_hash(long iterations)
{
    char   key[LLMOIN_APIKEY_BUFSZ], hash[LLMOIN_APIKEY_HASH_BUFSZ];
    double started;
    long   i;

    llmoin_apikey_generate(key);
    started = now_seconds();
    for (i = 0; i < iterations; i++) {
        llmoin_apikey_hash(key, strlen(key), hash);
    }
    printf("%-28s %8.1f us/op\n", "API key (SHA-256)",
           (now_seconds() - started) * 1e6 / (double) iterations);
}

int
main(int argc, char **argv)
{
    long      iterations = argc > 1 ? atol(argv[1]) : 5000;
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

    if (iterations <= 0 || rsa == NULL || ec == NULL) {
        fprintf(stderr, "usage: bench_verify [ITERATIONS > 0]\n");
        return 2;
    }
    printf("uncached verification, %ld iterations each:\n", iterations);
    measure("RS256 (RSA 2048)", rsa, LLMOIN_JWT_ALG_RS256, iterations);
    measure("PS256 (RSA 2048)", rsa, LLMOIN_JWT_ALG_PS256, iterations);
    measure("ES256 (P-256)", ec, LLMOIN_JWT_ALG_ES256, iterations);
    measure_key_hash(iterations * 20);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
    return 0;
}
