/*
 * snapshot: the tenant snapshot tenantd renders and the nginx module reads
 * (the gateway's only source of truth for authentication, so that it never
 * depends on PostgreSQL or Redis being up).
 *
 * Format 1, one JSON object:
 *   {"format":1, "version":<ms>,
 *    "tenants":[{"id":1,"slug":"hamburg","status":"active"|"suspended",
 *                "pseudonym_secret":"<hex>",
 *                "models_restricted":false,      true: only "models" below
 *                "models":[{"alias":"m","pool":"default"}],  entries may name a
 *                                                dedicated pool
 *                "hosts":["llmoin.hamburg.de"],  requests to these hosts must
 *                                                carry this tenant's credentials
 *                "issuers":[{"issuer":"https://idp/realms/x","audience":"llmoin",
 *                            "user_claim":"sub","groups_claim":"groups"|null,
 *                            "leeway":60,"jwks":{"keys":[...]}}],
 *                "max_tokens_cap":4096, "quota_fail_mode":"closed"|"open",
 *                "limits":[{"scope":"tenant"|"group"|"user"|"key","subject":"",
 *                           "rpm":N|null,"tpm":N|null,"concurrent":N|null,
 *                           "monthly_tokens":N|null}]}],
 *    "models":[{"alias":"m","pool":"default","upstream_model":null}],
 *    "keys":[{"id":"key_..","hash":"<sha256 hex>","tenant_id":1,"user":"alice",
 *             "expires_at":<unix s>|null,"models":["m"]|null}]}
 *
 * llmoin_snapshot_parse() validates all of it: a snapshot that fails any
 * check is refused as a whole (the caller keeps its last good one). The
 * returned snapshot is one malloc'd object graph, immutable, freed with
 * llmoin_snapshot_free(); lookups return pointers into it, valid until then.
 * Key lookups are by SHA-256 hex digest, compared in constant time.
 */
#ifndef LLMOIN_SNAPSHOT_H
#define LLMOIN_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "apikey.h"
#include "jwk.h"
#include "pseudonym.h"
#include "quota.h"

#define LLMOIN_SNAPSHOT_FORMAT 1

typedef struct llmoin_snapshot_model {
    char *alias;
    char *pool;
} llmoin_snapshot_model_t;

typedef struct llmoin_snapshot_tenant {
    long long                 id;
    char                     *slug;
    bool                      suspended;
    unsigned char            *pseudonym_secret;
    size_t                    pseudonym_secret_length;
    bool                      models_restricted;
    llmoin_snapshot_model_t  *models;       /* allow-list (if restricted) and
                                               dedicated pools */
    size_t                    model_count;
    char                    **hosts;
    size_t                    host_count;
    long long                 max_tokens_cap;
    bool                      quota_fail_open;
    llmoin_limit_t           *limits;
    size_t                    limit_count;
} llmoin_snapshot_tenant_t;

/* An identity provider, bound to exactly one tenant. */
typedef struct llmoin_snapshot_issuer {
    char                           *issuer;
    char                           *audience;
    char                           *user_claim;
    char                           *groups_claim;   /* NULL: none */
    long                            leeway;
    llmoin_jwks_t                   jwks;
    const llmoin_snapshot_tenant_t *tenant;
} llmoin_snapshot_issuer_t;

typedef struct llmoin_snapshot_key {
    char                            hash[LLMOIN_APIKEY_HASH_BUFSZ];
    char                           *id;
    const llmoin_snapshot_tenant_t *tenant;
    char                           *user;
    char                            pseudonym[LLMOIN_PSEUDONYM_BUFSZ];
    long long                       expires_at;  /* unix seconds, 0 = never */
    char                          **models;      /* key scope; NULL = the tenant's,
                                                    [] = nothing */
    size_t                          model_count;
} llmoin_snapshot_key_t;

typedef struct llmoin_snapshot {
    long long                 version;
    llmoin_snapshot_tenant_t *tenants;
    size_t                    tenant_count;
    llmoin_snapshot_model_t  *models;        /* sorted by alias */
    size_t                    model_count;
    llmoin_snapshot_key_t    *keys;          /* sorted by hash */
    size_t                    key_count;
    llmoin_snapshot_issuer_t *issuers;
    size_t                    issuer_count;
} llmoin_snapshot_t;

typedef enum llmoin_route_result {
    LLMOIN_ROUTE_OK = 0,
    LLMOIN_ROUTE_UNKNOWN_MODEL = -1,
    LLMOIN_ROUTE_NOT_ALLOWED = -2
} llmoin_route_result_t;

llmoin_snapshot_t *llmoin_snapshot_parse(const char *text, size_t length,
                                         char *error, size_t error_size);

void llmoin_snapshot_free(llmoin_snapshot_t *snapshot);

const llmoin_snapshot_key_t *llmoin_snapshot_find_key(
    const llmoin_snapshot_t *snapshot, const char *hash_hex);

const llmoin_snapshot_tenant_t *llmoin_snapshot_find_tenant(
    const llmoin_snapshot_t *snapshot, long long id);

/* The issuer named by a token's iss, or NULL when no tenant trusts it. */
const llmoin_snapshot_issuer_t *llmoin_snapshot_find_issuer(
    const llmoin_snapshot_t *snapshot, const char *issuer);

/* The tenant a host name belongs to, or NULL for a shared host. A port
 * ("host:8080") and upper case are ignored. */
const llmoin_snapshot_tenant_t *llmoin_snapshot_host_tenant(
    const llmoin_snapshot_t *snapshot, const char *host, size_t host_length);

/* Which pool serves `alias` for this tenant (and key, may be NULL):
 * the model must exist, be on the tenant's allow-list (when the tenant is
 * models_restricted; an empty list then allows nothing) and in the key's
 * scope (if it has one). The tenant's entry may name a dedicated pool. */
llmoin_route_result_t llmoin_snapshot_route(const llmoin_snapshot_t *snapshot,
                                            const llmoin_snapshot_tenant_t *tenant,
                                            const llmoin_snapshot_key_t *key,
                                            const char *alias, size_t alias_length,
                                            const char **pool);

#endif
