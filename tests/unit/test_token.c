/*
 * token: signing in with an OIDC token against a tenant snapshot, the way
 * the gateway does it. The snapshot is built as JSON text (three tenants,
 * five issuers, keys generated here) and read with llmoin_snapshot_parse(),
 * so issuers, keys and tenants are exactly what the gateway would hold.
 *
 * Covered: valid RS256/PS256/ES256 tokens; iss picking the issuer and with
 * it the only tenant (never another tenant's keys, audience or claims); key
 * choice by kid, and without kid only for an issuer with exactly one key;
 * `refetch` exactly when a token names a kid its issuer has not published;
 * pinned algorithms ("none", HS256, RS/PS/ES mix-ups); each claim failure
 * with its code and the issuer's own leeway, audience, user and groups
 * claims; and that `message` never echoes the token. Every call runs
 * through verify_at(), which checks the invariants of every outcome.
 */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "jwt_test_support.h"
#include "snapshot.h"
#include "token.h"

#define NOW 1750000000LL
#define RS LLMOIN_JWT_ALG_RS256
#define PS LLMOIN_JWT_ALG_PS256
#define ES LLMOIN_JWT_ALG_ES256

/* hamburg: three keys, leeway 60, user "preferred_username", groups "groups" */
#define ISS_HAMBURG "https://login.hamburg.de/realms/llmoin"
/* bremen: one key "b1", leeway 0, user "sub", no groups claim */
#define ISS_BREMEN "https://idp.bremen.de/realms/bremen"
/* bremen: one key without kid, leeway 600, user "upn" */
#define ISS_BREMEN_ADFS "https://adfs.bremen.de/adfs"
/* kiel (suspended): two keys, leeway 5, user "sub", groups "roles" */
#define ISS_KIEL "https://sso.kiel.de"
/* kiel: no usable key (an oct key, left out) */
#define ISS_KIEL_NEXT "https://sso-next.kiel.de"

#define SECRET "000102030405060708090a0b0c0d0e0f"

static struct {
    EVP_PKEY *rsa;      /* hamburg "rs" (RS256) and "ps" (PS256) */
    EVP_PKEY *ec;       /* hamburg "es" */
    EVP_PKEY *bremen;   /* bremen "b1" */
    EVP_PKEY *adfs;     /* bremen ADFS, no kid */
    EVP_PKEY *kiel1;    /* kiel "k1" */
    EVP_PKEY *kiel2;    /* kiel "k2" */
    EVP_PKEY *stranger; /* published by no one */
    llmoin_snapshot_t *snapshot;
} F;

static llmoin_token_result_t R; /* the result of the last verify_at() */

/* --- the snapshot ----------------------------------------------------------- */

static json_t *issuer_entry(const char *issuer, const char *audience,
                            const char *user_claim, const char *groups_claim,
                            int leeway, json_t *jwks)
{
    json_t *entry = json_pack("{s:s, s:s, s:s, s:s?, s:i, s:o}", "issuer", issuer,
                              "audience", audience, "user_claim", user_claim,
                              "groups_claim", groups_claim, "leeway", leeway,
                              "jwks", jwks);

    assert_non_null(entry);
    return entry;
}

static json_t *tenant_entry(int id, const char *slug, const char *status,
                            json_t *issuers)
{
    json_t *tenant = json_pack("{s:i, s:s, s:s, s:s, s:[], s:[s], s:o}", "id", id,
                               "slug", slug, "status", status, "pseudonym_secret",
                               SECRET, "models", "hosts", slug, "issuers", issuers);

    assert_non_null(tenant);
    return tenant;
}

/* The snapshot as tenantd renders it, as text. */
static char *snapshot_text(void)
{
    json_t *hamburg = json_pack(
        "[o]", issuer_entry(ISS_HAMBURG, "llmoin", "preferred_username", "groups", 60,
                            set_of(public_jwk(F.rsa, "rs", NULL),
                                   public_jwk(F.rsa, "ps", "PS256"),
                                   public_jwk(F.ec, "es", "ES256"), NULL)));
    json_t *bremen = json_pack(
        "[o, o]",
        issuer_entry(ISS_BREMEN, "gateway-bremen", "sub", NULL, 0,
                     set_of(public_jwk(F.bremen, "b1", NULL), NULL)),
        issuer_entry(ISS_BREMEN_ADFS, "microsoft:identityserver:llmoin", "upn", NULL,
                     600, set_of(public_jwk(F.adfs, NULL, NULL), NULL)));
    json_t *kiel = json_pack(
        "[o, o]",
        issuer_entry(ISS_KIEL, "llmoin", "sub", "roles", 5,
                     set_of(public_jwk(F.kiel1, "k1", NULL),
                            public_jwk(F.kiel2, "k2", NULL), NULL)),
        issuer_entry(ISS_KIEL_NEXT, "llmoin", "sub", NULL, 60,
                     json_pack("{s:[{s:s, s:s, s:s}]}", "keys", "kty", "oct", "kid",
                               "n1", "k", "c2VjcmV0")));

    return dump(json_pack("{s:i, s:I, s:[o, o, o], s:[], s:[]}", "format", 1,
                          "version", (json_int_t)1764456000123LL, "tenants",
                          tenant_entry(1, "hamburg", "active", hamburg),
                          tenant_entry(2, "bremen", "active", bremen),
                          tenant_entry(3, "kiel", "suspended", kiel), "models",
                          "keys"));
}

static int setup(void **state)
{
    (void)state;
    char error[256], *text;

    F.rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    F.ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    F.bremen = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    F.adfs = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    F.kiel1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    F.kiel2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    F.stranger = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (!F.rsa || !F.ec || !F.bremen || !F.adfs || !F.kiel1 || !F.kiel2 || !F.stranger)
        return -1;
    text = snapshot_text();
    F.snapshot = llmoin_snapshot_parse(text, strlen(text), error, sizeof error);
    free(text);
    if (F.snapshot == NULL) {
        print_error("snapshot refused: %s\n", error);
        return -1;
    }
    return F.snapshot->issuer_count == 5 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    llmoin_snapshot_free(F.snapshot);
    EVP_PKEY_free(F.rsa);
    EVP_PKEY_free(F.ec);
    EVP_PKEY_free(F.bremen);
    EVP_PKEY_free(F.adfs);
    EVP_PKEY_free(F.kiel1);
    EVP_PKEY_free(F.kiel2);
    EVP_PKEY_free(F.stranger);
    return 0;
}

static const llmoin_snapshot_issuer_t *issuer(const char *iss)
{
    const llmoin_snapshot_issuer_t *found = llmoin_snapshot_find_issuer(F.snapshot, iss);

    assert_non_null(found);
    return found;
}

/* --- claims -------------------------------------------------------------------- */

/* What each provider puts into its access tokens. */
static json_t *hamburg_claims(void)
{
    json_t *p = json_object();

    json_object_set_new(p, "iss", json_string(ISS_HAMBURG));
    json_object_set_new(p, "aud", json_pack("[s, s]", "account", "llmoin"));
    json_object_set_new(p, "exp", json_integer(NOW + 300));
    json_object_set_new(p, "iat", json_integer(NOW - 5));
    json_object_set_new(p, "sub", json_string("0b5c2a7e-1d2f-4c3b"));
    json_object_set_new(p, "preferred_username", json_string("alice"));
    json_object_set_new(p, "groups", json_pack("[s, s]", "/hamburg/bsb", "llm-users"));
    return p;
}

static json_t *bremen_claims(void)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:s, s:[s]}", "iss", ISS_BREMEN, "aud",
                     "gateway-bremen", "exp", (json_int_t)(NOW + 600), "nbf",
                     (json_int_t)(NOW - 60), "sub", "bob", "groups", "/bremen/all");
}

static json_t *kiel_claims(void)
{
    return json_pack("{s:s, s:s, s:I, s:s, s:s}", "iss", ISS_KIEL, "aud", "llmoin",
                     "exp", (json_int_t)(NOW + 120), "sub", "carol", "roles",
                     "kiel-admins");
}

static json_t *adfs_claims(void)
{
    return json_pack("{s:s, s:s, s:I, s:s}", "iss", ISS_BREMEN_ADFS, "aud",
                     "microsoft:identityserver:llmoin", "exp",
                     (json_int_t)(NOW + 3600), "upn", "dave@bremen.de");
}

/* --- running ------------------------------------------------------------------- */

/* llmoin_token_verify() at now into R, with the invariants of every
 * outcome: code exactly on failure, a terminated message that is empty
 * exactly on success and never echoes the token, refetch only for an
 * unknown key, no identity after a failure, no OpenSSL error left. */
static int verify_at(const char *token, size_t length, long long now)
{
    int rc;

    memset(&R, 'X', sizeof R); /* everything must be (re)set */
    rc = llmoin_token_verify(F.snapshot, token, length, now, &R);
    assert_non_null(memchr(R.message, '\0', sizeof R.message));
    if (rc == 0) {
        assert_null(R.code);
        assert_string_equal(R.message, "");
        assert_false(R.refetch);
        assert_non_null(R.issuer);
        assert_ptr_equal(R.issuer, llmoin_snapshot_find_issuer(F.snapshot,
                                                               R.issuer->issuer));
    } else {
        assert_int_equal(rc, -1);
        assert_non_null(R.code);
        assert_true(R.message[0] != '\0');
        assert_null(strchr(R.message, '\n'));
        assert_true(!R.refetch || strcmp(R.code, "unknown_key") == 0);
        assert_string_equal(R.identity.user, "");
        assert_string_equal(R.identity.groups, "");
    }
    assert_no_echo(R.message, token);
    assert_int_equal(ERR_peek_error(), 0);
    return rc;
}

/* verify_at(NOW) of a token, freeing it. */
static int verify_free(char *token)
{
    int rc = verify_at(token, strlen(token), NOW);

    free(token);
    return rc;
}

/* The token (freed) is refused with code; returns whether refetch was set. */
static bool refused(char *token, const char *code)
{
    if (verify_free(token) == 0)
        fail_msg("accepted, wanted %s", code);
    if (strcmp(R.code, code) != 0)
        fail_msg("code %s (%s), wanted %s", R.code, R.message, code);
    return R.refetch;
}

static void accepted(char *token)
{
    if (verify_free(token) != 0)
        fail_msg("refused: %s (%s)", R.code, R.message);
}

/* --- valid tokens ---------------------------------------------------------------- */

static void check_valid(EVP_PKEY *key, llmoin_jwt_alg_t alg, const char *name,
                        const char *kid)
{
    accepted(token_json(jws_header(name, kid), hamburg_claims(), key, alg));
    assert_ptr_equal(R.issuer, issuer(ISS_HAMBURG));
    assert_ptr_equal(R.issuer->tenant, &F.snapshot->tenants[0]);
    assert_string_equal(R.issuer->tenant->slug, "hamburg");
    assert_string_equal(R.identity.user, "alice");
    assert_string_equal(R.identity.groups, "/hamburg/bsb,llm-users");
    assert_int_equal(R.identity.group_count, 2);
    assert_int_equal(R.identity.expires_at, NOW + 300);
}

static void test_valid_rs256(void **state)
{
    (void)state;
    check_valid(F.rsa, RS, "RS256", "rs");
}

static void test_valid_ps256(void **state)
{
    (void)state;
    check_valid(F.rsa, PS, "PS256", "ps");
}

static void test_valid_es256(void **state)
{
    (void)state;
    check_valid(F.ec, ES, "ES256", "es");
}

/* Each issuer signs into its own tenant, with its own user and groups
 * claims: bremen has no groups claim, kiel's is "roles". */
static void test_issuer_picks_the_tenant(void **state)
{
    (void)state;
    accepted(token_json(jws_header("ES256", "b1"), bremen_claims(), F.bremen, ES));
    assert_ptr_equal(R.issuer, issuer(ISS_BREMEN));
    assert_ptr_equal(R.issuer->tenant, llmoin_snapshot_find_tenant(F.snapshot, 2));
    assert_string_equal(R.identity.user, "bob");
    assert_string_equal(R.identity.groups, "");
    assert_int_equal(R.identity.group_count, 0);

    accepted(token_json(jws_header("ES256", "k2"),
                        with(kiel_claims(), "groups", json_string("ignored")),
                        F.kiel2, ES));
    assert_ptr_equal(R.issuer->tenant, llmoin_snapshot_find_tenant(F.snapshot, 3));
    assert_string_equal(R.identity.user, "carol");
    assert_string_equal(R.identity.groups, "kiel-admins");

    accepted(token_json(jws_header("ES256", NULL), adfs_claims(), F.adfs, ES));
    assert_ptr_equal(R.issuer, issuer(ISS_BREMEN_ADFS));
    assert_ptr_equal(R.issuer->tenant, llmoin_snapshot_find_tenant(F.snapshot, 2));
    assert_string_equal(R.identity.user, "dave@bremen.de");
}

/* Suspension is the caller's check: the token still names its tenant. */
static void test_suspended_tenant_is_reported(void **state)
{
    (void)state;
    accepted(token_json(jws_header("ES256", "k1"), kiel_claims(), F.kiel1, ES));
    assert_true(R.issuer->tenant->suspended);
    assert_false(issuer(ISS_HAMBURG)->tenant->suspended);
}

/* --- the issuer ---------------------------------------------------------------- */

static void test_untrusted_issuer(void **state)
{
    (void)state;
    static const char *const strangers[] = {
        "https://evil.example/realms/llmoin",
        ISS_HAMBURG "/",
        "HTTPS://LOGIN.HAMBURG.DE/realms/llmoin",
        ISS_HAMBURG " ",
        "https://login.hamburg.de/realms",
        ISS_BREMEN "/../../../../login.hamburg.de/realms/llmoin",
        "",
    };

    for (size_t i = 0; i < sizeof strangers / sizeof strangers[0]; i++) {
        /* signed by a key hamburg publishes, under its kid: still no issuer */
        assert_false(refused(token_json(jws_header("ES256", "es"),
                                        with(hamburg_claims(), "iss",
                                             json_string(strangers[i])),
                                        F.ec, ES),
                             "untrusted_issuer"));
        assert_null(R.issuer);
        assert_string_equal(R.message, "The token's issuer is not trusted here.");
    }
    /* iss missing or not a string */
    refused(token_json(jws_header("ES256", "es"), with(hamburg_claims(), "iss", NULL),
                       F.ec, ES),
            "untrusted_issuer");
    refused(token_json(jws_header("ES256", "es"),
                       with(hamburg_claims(), "iss", json_pack("[s]", ISS_HAMBURG)),
                       F.ec, ES),
            "untrusted_issuer");
    assert_null(R.issuer);
}

/* The same token under a snapshot that no longer has the issuer. */
static void test_removed_issuer(void **state)
{
    (void)state;
    char *token = token_json(jws_header("ES256", "b1"), bremen_claims(), F.bremen, ES);
    llmoin_snapshot_t *saved = F.snapshot, *without;
    char error[256];
    static const char text[] =
        "{\"format\":1,\"version\":2,\"tenants\":[{\"id\":2,\"slug\":\"bremen\","
        "\"status\":\"active\",\"pseudonym_secret\":\"" SECRET "\",\"models\":[],"
        "\"issuers\":[]}],\"models\":[],\"keys\":[]}";

    without = llmoin_snapshot_parse(text, sizeof text - 1, error, sizeof error);
    assert_non_null(without);
    assert_int_equal(verify_at(token, strlen(token), NOW), 0);
    F.snapshot = without;
    assert_int_equal(verify_at(token, strlen(token), NOW), -1);
    assert_string_equal(R.code, "untrusted_issuer");
    F.snapshot = saved;
    llmoin_snapshot_free(without);
    free(token);
}

/* --- keys ------------------------------------------------------------------------ */

/* A kid published by another tenant's issuer is unknown here: iss decides
 * whose keys count. tenantd is asked to look for new keys of the token's
 * issuer. */
static void test_kid_of_another_tenants_issuer(void **state)
{
    (void)state;
    assert_true(refused(token_json(jws_header("ES256", "b1"), hamburg_claims(),
                                   F.bremen, ES),
                        "unknown_key"));
    assert_ptr_equal(R.issuer, issuer(ISS_HAMBURG));
    assert_string_equal(R.message,
                        "The token was signed with a key its issuer has not published.");

    assert_true(refused(token_json(jws_header("ES256", "es"), bremen_claims(), F.ec, ES),
                        "unknown_key"));
    assert_ptr_equal(R.issuer, issuer(ISS_BREMEN));
    assert_true(refused(token_json(jws_header("RS256", "rs"), kiel_claims(), F.rsa, RS),
                        "unknown_key"));
    assert_ptr_equal(R.issuer, issuer(ISS_KIEL));
    /* the same within one tenant: kiel's other issuer */
    assert_true(refused(token_json(jws_header("ES256", "k1"),
                                   with(kiel_claims(), "iss", json_string(ISS_KIEL_NEXT)),
                                   F.kiel1, ES),
                        "unknown_key"));
    assert_ptr_equal(R.issuer, issuer(ISS_KIEL_NEXT));
}

static void test_unknown_kid_asks_for_refetch(void **state)
{
    (void)state;
    static const char *const kids[] = {"2025-07-rotated", "ES", "rs ", "k3"};

    for (size_t i = 0; i < sizeof kids / sizeof kids[0]; i++)
        assert_true(refused(token_json(jws_header("ES256", kids[i]), hamburg_claims(),
                                       F.stranger, ES),
                            "unknown_key"));
    /* kids are exact: not a prefix, not another case */
    assert_true(refused(token_json(jws_header("ES256", "k"), kiel_claims(), F.kiel1, ES),
                        "unknown_key"));
    assert_true(refused(token_json(jws_header("ES256", "K1"), kiel_claims(), F.kiel1, ES),
                        "unknown_key"));
    /* an empty kid names no key either */
    refused(token_json(jws_header("ES256", ""), bremen_claims(), F.bremen, ES),
            "unknown_key");
}

/* Without kid, an issuer's only key is used (with or without a kid of its
 * own); with several keys nothing is guessed and no refetch helps. */
static void test_no_kid_and_one_key(void **state)
{
    (void)state;
    accepted(token_json(jws_header("ES256", NULL), bremen_claims(), F.bremen, ES));
    assert_ptr_equal(R.issuer, issuer(ISS_BREMEN));
    accepted(token_json(jws_header("ES256", NULL), adfs_claims(), F.adfs, ES));
    /* the only key must still have signed it, with its pinned alg */
    assert_false(refused(token_json(jws_header("ES256", NULL), bremen_claims(),
                                    F.stranger, ES),
                         "invalid_token"));
    refused(token_json(jws_header("RS256", NULL), bremen_claims(), F.rsa, RS),
            "invalid_token");
    /* a kid in the token must match even the only key */
    assert_true(refused(token_json(jws_header("ES256", "b2"), bremen_claims(),
                                   F.bremen, ES),
                        "unknown_key"));
    assert_true(refused(token_json(jws_header("ES256", "adfs"), adfs_claims(), F.adfs, ES),
                        "unknown_key"));
}

static void test_no_kid_and_several_keys(void **state)
{
    (void)state;
    assert_int_equal(issuer(ISS_KIEL)->jwks.count, 2);
    assert_false(refused(token_json(jws_header("ES256", NULL), kiel_claims(), F.kiel1, ES),
                         "unknown_key"));
    assert_ptr_equal(R.issuer, issuer(ISS_KIEL));
    assert_false(refused(token_json(jws_header("ES256", NULL), kiel_claims(), F.kiel2, ES),
                         "unknown_key"));
    assert_int_equal(issuer(ISS_HAMBURG)->jwks.count, 3);
    assert_false(refused(token_json(jws_header("ES256", NULL), hamburg_claims(), F.ec, ES),
                         "unknown_key"));
}

/* An issuer whose keys were all left out (here: an oct key) refuses every
 * token until usable keys arrive. */
static void test_issuer_without_usable_keys(void **state)
{
    (void)state;
    json_t *claims = with(kiel_claims(), "iss", json_string(ISS_KIEL_NEXT));

    assert_int_equal(issuer(ISS_KIEL_NEXT)->jwks.count, 0);
    assert_true(refused(token_json(jws_header("ES256", "n1"), json_incref(claims),
                                   F.kiel1, ES),
                        "unknown_key"));
    assert_false(refused(token_json(jws_header("ES256", NULL), claims, F.kiel1, ES),
                         "unknown_key"));
}

static void test_signature_of_another_key(void **state)
{
    (void)state;
    assert_false(refused(token_json(jws_header("ES256", "es"), hamburg_claims(),
                                    F.stranger, ES),
                         "invalid_token"));
    assert_string_equal(R.message, "The token's signature is invalid.");
    /* the other key of the same issuer */
    refused(token_json(jws_header("ES256", "k1"), kiel_claims(), F.kiel2, ES),
            "invalid_token");
    refused(token_json(jws_header("ES256", "b1"), bremen_claims(), F.kiel2, ES),
            "invalid_token");
}

/* hamburg's IdP cannot sign bremen's users in: re-labelling a hamburg token
 * as bremen's leaves no key that verifies it. */
static void test_no_cross_tenant_forgery(void **state)
{
    (void)state;
    char *good = token_json(jws_header("ES256", "es"), hamburg_claims(), F.ec, ES);
    char *p = dump(with(hamburg_claims(), "iss", json_string(ISS_BREMEN)));
    char *payload = b64(p, strlen(p));
    char *dot1 = strchr(good, '.'), *dot2 = strrchr(good, '.');
    char *forged = malloc(strlen(good) + strlen(payload) + 1);

    sprintf(forged, "%.*s.%s%s", (int)(dot1 - good), good, payload, dot2);
    assert_true(refused(forged, "unknown_key"));
    assert_ptr_equal(R.issuer, issuer(ISS_BREMEN));
    /* the same claims freshly signed by hamburg's key, without kid: bremen's
     * only key does not verify it */
    assert_false(refused(token_text("{\"alg\":\"ES256\"}", p, F.ec, ES), "invalid_token"));
    /* with bremen's audience and user claim as well */
    assert_false(refused(token_json(jws_header("ES256", NULL),
                                    with(bremen_claims(), "sub", json_string("admin")),
                                    F.ec, ES),
                         "invalid_token"));
    free(payload);
    free(p);
    free(good);
}

/* --- algorithms ------------------------------------------------------------------- */

static void test_algorithm_is_pinned_by_the_key(void **state)
{
    (void)state;
    static const struct {
        const char *name, *kid;
        EVP_PKEY **key;
        llmoin_jwt_alg_t alg;
    } mixups[] = {
        {"RS256", "ps", &F.rsa, RS}, {"PS256", "rs", &F.rsa, PS},
        {"ES256", "rs", &F.ec, ES},  {"RS256", "es", &F.rsa, RS},
        {"PS256", "es", &F.rsa, PS},
    };

    for (size_t i = 0; i < sizeof mixups / sizeof mixups[0]; i++) {
        refused(token_json(jws_header(mixups[i].name, mixups[i].kid), hamburg_claims(),
                           *mixups[i].key, mixups[i].alg),
                "invalid_token");
        assert_string_equal(R.message,
                            "The token's algorithm does not match its issuer's key.");
    }
    /* the header matches the key, the signature is of the other scheme */
    refused(token_json(jws_header("RS256", "rs"), hamburg_claims(), F.rsa, PS),
            "invalid_token");
    assert_string_equal(R.message, "The token's signature is invalid.");
}

static void test_alg_none(void **state)
{
    (void)state;
    char *p = dump(hamburg_claims());
    static const unsigned char junk[64] = {7};
    static const char *const names[] = {"none", "None", "NONE"};

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char h[64], *input;

        snprintf(h, sizeof h, "{\"alg\":\"%s\",\"kid\":\"es\"}", names[i]);
        /* unsecured: "header.payload." */
        input = signing_input(h, p);
        input = realloc(input, strlen(input) + 2);
        strcat(input, ".");
        refused(input, "invalid_token");
        assert_string_equal(R.message, "The token is malformed.");
        /* with some signature */
        refused(append_signature(signing_input(h, p), junk, sizeof junk),
                "invalid_token");
        assert_string_equal(R.message,
                            "The token's algorithm is not accepted (RS256, PS256, ES256).");
    }
    free(p);
}

/* HS256 keyed with the RSA public key (the key-confusion forgery), and
 * other algorithms no key can have. */
static void test_hs256_and_other_algorithms(void **state)
{
    (void)state;
    BIO *bio = BIO_new(BIO_s_mem());
    char *p = dump(hamburg_claims()), *pem;
    char *input = signing_input("{\"alg\":\"HS256\",\"kid\":\"rs\"}", p);
    unsigned char mac[32];
    size_t mac_len;
    long pem_len;

    assert_int_equal(PEM_write_bio_PUBKEY(bio, F.rsa), 1);
    pem_len = BIO_get_mem_data(bio, &pem);
    assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, pem, (size_t)pem_len,
                              (const unsigned char *)input, strlen(input), mac,
                              sizeof mac, &mac_len));
    assert_false(refused(append_signature(input, mac, mac_len), "invalid_token"));
    assert_string_equal(R.message,
                        "The token's algorithm is not accepted (RS256, PS256, ES256).");
    BIO_free(bio);

    static const char *const others[] = {"RS384", "ES512", "EdDSA", "rs256"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        refused(token_json(jws_header(others[i], "rs"), hamburg_claims(), F.rsa, RS),
                "invalid_token");
    free(p);
}

/* --- claims ------------------------------------------------------------------------ */

static char *hamburg_token(json_t *claims)
{
    return token_json(jws_header("ES256", "es"), claims, F.ec, ES);
}

static char *bremen_token(json_t *claims)
{
    return token_json(jws_header("ES256", "b1"), claims, F.bremen, ES);
}

static char *kiel_token(json_t *claims)
{
    return token_json(jws_header("ES256", "k1"), claims, F.kiel1, ES);
}

/* hamburg's leeway is 60 s. */
static void test_expired(void **state)
{
    (void)state;
    refused(hamburg_token(with(hamburg_claims(), "exp", json_integer(NOW - 60))),
            "expired_token");
    assert_non_null(strstr(R.message, "The token was refused: "));
    assert_non_null(strstr(R.message, "'exp'"));
    assert_ptr_equal(R.issuer, issuer(ISS_HAMBURG));
    refused(hamburg_token(with(hamburg_claims(), "exp", json_integer(NOW - 3600))),
            "expired_token");
    accepted(hamburg_token(with(hamburg_claims(), "exp", json_integer(NOW - 59))));
    assert_int_equal(R.identity.expires_at, NOW - 59);
    /* exp is required */
    refused(hamburg_token(with(hamburg_claims(), "exp", NULL)), "expired_token");
    refused(hamburg_token(with(hamburg_claims(), "exp", json_string("tomorrow"))),
            "expired_token");
}

static void test_not_yet_valid(void **state)
{
    (void)state;
    refused(hamburg_token(with(hamburg_claims(), "nbf", json_integer(NOW + 61))),
            "token_not_yet_valid");
    assert_non_null(strstr(R.message, "'nbf'"));
    accepted(hamburg_token(with(hamburg_claims(), "nbf", json_integer(NOW + 60))));
    refused(hamburg_token(with(hamburg_claims(), "iat", json_integer(NOW + 61))),
            "token_not_yet_valid");
    assert_non_null(strstr(R.message, "'iat'"));
    accepted(hamburg_token(with(hamburg_claims(), "iat", json_integer(NOW + 60))));
}

/* The same token, verified at several moments: each issuer's leeway. */
static void test_leeway_is_the_issuers(void **state)
{
    (void)state;
    char *h = hamburg_token(with(hamburg_claims(), "exp", json_integer(NOW)));
    char *b = bremen_token(with(bremen_claims(), "exp", json_integer(NOW)));
    char *k = kiel_token(with(kiel_claims(), "exp", json_integer(NOW)));
    char *a = token_json(jws_header("ES256", NULL),
                         with(adfs_claims(), "exp", json_integer(NOW)), F.adfs, ES);
    static const struct {
        long long late;      /* seconds after exp */
        bool h, b, k, a;     /* accepted: hamburg 60, bremen 0, kiel 5, adfs 600 */
    } moments[] = {
        {-1, true, true, true, true},     {0, true, false, true, true},
        {4, true, false, true, true},     {5, true, false, false, true},
        {59, true, false, false, true},   {60, false, false, false, true},
        {599, false, false, false, true}, {600, false, false, false, false},
    };

    for (size_t i = 0; i < sizeof moments / sizeof moments[0]; i++) {
        long long now = NOW + moments[i].late;

        assert_int_equal(verify_at(h, strlen(h), now) == 0, moments[i].h);
        assert_int_equal(verify_at(b, strlen(b), now) == 0, moments[i].b);
        assert_int_equal(verify_at(k, strlen(k), now) == 0, moments[i].k);
        assert_int_equal(verify_at(a, strlen(a), now) == 0, moments[i].a);
        if (!moments[i].a)
            assert_string_equal(R.code, "expired_token");
    }
    /* and before nbf: bremen tolerates nothing */
    free(b);
    b = bremen_token(with(bremen_claims(), "nbf", json_integer(NOW + 1)));
    assert_int_equal(verify_at(b, strlen(b), NOW), -1);
    assert_string_equal(R.code, "token_not_yet_valid");
    assert_int_equal(verify_at(b, strlen(b), NOW + 1), 0);
    free(a);
    free(k);
    free(b);
    free(h);
}

/* Each issuer's own audience. */
static void test_wrong_audience(void **state)
{
    (void)state;
    refused(hamburg_token(with(hamburg_claims(), "aud", json_string("account"))),
            "wrong_audience");
    assert_non_null(strstr(R.message, "'aud'"));
    /* bremen's audience is not hamburg's, and the other way round */
    refused(hamburg_token(with(hamburg_claims(), "aud", json_string("gateway-bremen"))),
            "wrong_audience");
    refused(bremen_token(with(bremen_claims(), "aud", json_string("llmoin"))),
            "wrong_audience");
    refused(hamburg_token(with(hamburg_claims(), "aud", NULL)), "wrong_audience");
    refused(hamburg_token(with(hamburg_claims(), "aud", json_string("LLMOIN"))),
            "wrong_audience");
    refused(hamburg_token(with(hamburg_claims(), "aud", json_pack("[s, i]", "llmoin", 1))),
            "wrong_audience");
    accepted(hamburg_token(with(hamburg_claims(), "aud", json_string("llmoin"))));
    accepted(bremen_token(with(bremen_claims(), "aud",
                               json_pack("[s, s]", "x", "gateway-bremen"))));
}

/* Each issuer's own user claim. */
static void test_user_claim(void **state)
{
    (void)state;
    /* hamburg names users by preferred_username; sub alone is not enough */
    refused(hamburg_token(with(hamburg_claims(), "preferred_username", NULL)),
            "invalid_claims");
    assert_non_null(strstr(R.message, "'preferred_username'"));
    refused(hamburg_token(with(hamburg_claims(), "preferred_username", json_string(""))),
            "invalid_claims");
    refused(hamburg_token(with(hamburg_claims(), "preferred_username",
                               json_string("ali\nce"))),
            "invalid_claims");
    refused(hamburg_token(with(hamburg_claims(), "preferred_username", json_integer(7))),
            "invalid_claims");
    /* bremen by sub */
    refused(bremen_token(with(with(bremen_claims(), "sub", NULL), "preferred_username",
                              json_string("bob"))),
            "invalid_claims");
    assert_non_null(strstr(R.message, "'sub'"));
}

static void test_groups(void **state)
{
    (void)state;
    accepted(hamburg_token(with(hamburg_claims(), "groups", json_string("one"))));
    assert_string_equal(R.identity.groups, "one");
    assert_int_equal(R.identity.group_count, 1);
    accepted(hamburg_token(with(hamburg_claims(), "groups", NULL)));
    assert_string_equal(R.identity.groups, "");
    assert_int_equal(R.identity.group_count, 0);
    accepted(hamburg_token(with(hamburg_claims(), "groups", json_array())));
    assert_string_equal(R.identity.groups, "");

    refused(hamburg_token(with(hamburg_claims(), "groups", json_string("a,b"))),
            "invalid_claims");
    assert_non_null(strstr(R.message, "'groups'"));
    refused(hamburg_token(with(hamburg_claims(), "groups", json_pack("[s, s]", "a", ""))),
            "invalid_claims");
    refused(hamburg_token(with(hamburg_claims(), "groups", json_pack("{s:s}", "a", "b"))),
            "invalid_claims");
    /* kiel reads "roles", so a bad "groups" does not matter there ... */
    accepted(kiel_token(with(kiel_claims(), "groups", json_string("a,b"))));
    assert_string_equal(R.identity.groups, "kiel-admins");
    /* ... nor anywhere for bremen, which has no groups claim */
    accepted(bremen_token(with(bremen_claims(), "groups", json_integer(42))));
    assert_string_equal(R.identity.groups, "");
    refused(kiel_token(with(kiel_claims(), "roles", json_pack("[s, n]", "x"))),
            "invalid_claims");
    assert_non_null(strstr(R.message, "'roles'"));
}

/* --- the token text ------------------------------------------------------------------ */

static void test_malformed(void **state)
{
    (void)state;
    static const char *const junk[] = {"", ".", "..", "a.b.c", "lmk_0123456789abcdef",
                                       "eyJ9.e30.AA", "Bearer a.b.c"};
    char *good = hamburg_token(hamburg_claims());

    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        assert_int_equal(verify_at(junk[i], strlen(junk[i]), NOW), -1);
        assert_string_equal(R.code, "invalid_token");
        assert_string_equal(R.message, "The token is malformed.");
        assert_false(R.refetch);
        assert_null(R.issuer);
    }
    /* every truncation of a good token */
    for (size_t cut = 0; cut < strlen(good); cut += 3) {
        assert_int_equal(verify_at(good, cut, NOW), -1);
        assert_string_equal(R.code, "invalid_token");
    }
    free(good);
}

static void test_too_long(void **state)
{
    (void)state;
    char *filler = malloc(LLMOIN_JWT_MAX_LEN);
    char *token;

    memset(filler, 'f', LLMOIN_JWT_MAX_LEN - 1);
    filler[LLMOIN_JWT_MAX_LEN - 1] = '\0';
    token = hamburg_token(with(hamburg_claims(), "filler", json_string(filler)));
    assert_true(strlen(token) > LLMOIN_JWT_MAX_LEN);
    refused(token, "invalid_token");
    assert_string_equal(R.message, "The token is too long.");
    free(filler);
}

/* The length is the token's, not a NUL: the header value may go on. */
static void test_length_is_honoured(void **state)
{
    (void)state;
    char *good = hamburg_token(hamburg_claims());
    size_t len = strlen(good);
    char *line = malloc(len + 32);

    sprintf(line, "%s, Basic Zm9vOmJhcg==", good);
    assert_int_equal(verify_at(line, len, NOW), 0);
    assert_int_equal(verify_at(line, strlen(line), NOW), -1);
    assert_string_equal(R.code, "invalid_token");
    free(line);
    free(good);
}

/* Messages go back to API clients: never the token, its signature, or a
 * value from it, for any kind of refusal. */
static void test_messages_never_echo_the_token(void **state)
{
    (void)state;
    char *tokens[] = {
        hamburg_token(with(hamburg_claims(), "iss", json_string("https://evil.example"))),
        token_json(jws_header("ES256", "kid-secret-0815"), hamburg_claims(), F.stranger, ES),
        token_json(jws_header("ES256", "es"), hamburg_claims(), F.stranger, ES),
        token_json(jws_header("RS256", "es"), hamburg_claims(), F.rsa, RS),
        hamburg_token(with(hamburg_claims(), "exp", json_integer(NOW - 999))),
        hamburg_token(with(hamburg_claims(), "nbf", json_integer(NOW + 999))),
        hamburg_token(with(hamburg_claims(), "aud", json_string("aud-secret-4711"))),
        hamburg_token(with(hamburg_claims(), "preferred_username",
                           json_string("user\x01secret"))),
        hamburg_token(with(hamburg_claims(), "groups", json_string("grp,secret"))),
    };
    static const char *const values[] = {"evil", "kid-secret", "secret", "4711",
                                         "0815", "alice", "hamburg/bsb"};

    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++) {
        const char *signature = strrchr(tokens[i], '.') + 1;

        assert_int_equal(verify_at(tokens[i], strlen(tokens[i]), NOW), -1);
        assert_null(strstr(R.message, signature));
        assert_null(strstr(R.message, ISS_HAMBURG));
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++)
            if (strstr(R.message, values[v]) != NULL)
                fail_msg("'%s' in the message: %s", values[v], R.message);
        free(tokens[i]);
    }
}

/* A result is reset by every call: no code or refetch left from before. */
static void test_result_is_reset(void **state)
{
    (void)state;
    char *unknown = token_json(jws_header("ES256", "new"), hamburg_claims(), F.stranger, ES);
    char *good = hamburg_token(hamburg_claims());
    llmoin_token_result_t out;

    assert_int_equal(llmoin_token_verify(F.snapshot, unknown, strlen(unknown), NOW, &out),
                     -1);
    assert_true(out.refetch);
    assert_int_equal(llmoin_token_verify(F.snapshot, good, strlen(good), NOW, &out), 0);
    assert_false(out.refetch);
    assert_null(out.code);
    assert_string_equal(out.message, "");
    assert_string_equal(out.identity.user, "alice");
    assert_int_equal(llmoin_token_verify(F.snapshot, "x.y.z", 5, NOW, &out), -1);
    assert_null(out.issuer);
    assert_string_equal(out.identity.user, "");
    free(good);
    free(unknown);
}

/* --- looks like a JWT ---------------------------------------------------------------- */

static void test_looks_like_jwt(void **state)
{
    (void)state;
    static const char *const yes[] = {"a.b.c", "..", "...", "a.b.c.d", ".b.",
                                      "eyJhbGciOiJFUzI1NiJ9.e30.AAAA"};
    static const char *const no[] = {"", ".", "a.b", "abc", "lmk_0123456789abcdef",
                                     "lmk_a.b", "a."};
    char *good = hamburg_token(hamburg_claims());

    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!llmoin_token_looks_like_jwt(yes[i], strlen(yes[i])))
            fail_msg("'%s' should look like a JWT", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (llmoin_token_looks_like_jwt(no[i], strlen(no[i])))
            fail_msg("'%s' should not look like a JWT", no[i]);
    assert_true(llmoin_token_looks_like_jwt(good, strlen(good)));
    /* only the given length counts */
    assert_false(llmoin_token_looks_like_jwt("a.b.c", 3));
    assert_true(llmoin_token_looks_like_jwt("a.b.c", 4));
    assert_false(llmoin_token_looks_like_jwt("a.b", 0));
    assert_false(llmoin_token_looks_like_jwt(good, (size_t)(strrchr(good, '.') - good)));
    /* not NUL-terminated, embedded NULs are just bytes */
    assert_true(llmoin_token_looks_like_jwt("a\0.\0.", 5));
    free(good);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_rs256),
        cmocka_unit_test(test_valid_ps256),
        cmocka_unit_test(test_valid_es256),
        cmocka_unit_test(test_issuer_picks_the_tenant),
        cmocka_unit_test(test_suspended_tenant_is_reported),
        cmocka_unit_test(test_untrusted_issuer),
        cmocka_unit_test(test_removed_issuer),
        cmocka_unit_test(test_kid_of_another_tenants_issuer),
        cmocka_unit_test(test_unknown_kid_asks_for_refetch),
        cmocka_unit_test(test_no_kid_and_one_key),
        cmocka_unit_test(test_no_kid_and_several_keys),
        cmocka_unit_test(test_issuer_without_usable_keys),
        cmocka_unit_test(test_signature_of_another_key),
        cmocka_unit_test(test_no_cross_tenant_forgery),
        cmocka_unit_test(test_algorithm_is_pinned_by_the_key),
        cmocka_unit_test(test_alg_none),
        cmocka_unit_test(test_hs256_and_other_algorithms),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_not_yet_valid),
        cmocka_unit_test(test_leeway_is_the_issuers),
        cmocka_unit_test(test_wrong_audience),
        cmocka_unit_test(test_user_claim),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_length_is_honoured),
        cmocka_unit_test(test_messages_never_echo_the_token),
        cmocka_unit_test(test_result_is_reset),
        cmocka_unit_test(test_looks_like_jwt),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
