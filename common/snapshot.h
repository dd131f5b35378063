/*
 * snapshot: the tenant snapshot tenantd renders and the nginx module reads
 * (the gateway's only source of truth for authentication, so that it never
 * depends on PostgreSQL or Redis being up).
 *
 * Format 1, one JSON object:
 *   {"format":1, "version":<ms>,
 *    "tenants":[{"id":1,"slug":"hamburg","status":"active"|"suspended",
 *                "pseudonym_secret":"<hex>",
 *                "models":[{"alias":"m","pool":"default"}]}],   allow-list, [] = all
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
#include "pseudonym.h"

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
    llmoin_snapshot_model_t  *models;       /* allow-list; NULL/0 = every model */
    size_t                    model_count;
} llmoin_snapshot_tenant_t;

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

/* Which pool serves `alias` for this tenant (and key, may be NULL):
 * the model must exist, be on the tenant's allow-list (if it has one) and in
 * the key's scope (if it has one). The tenant's entry may name a dedicated
 * pool. */
llmoin_route_result_t llmoin_snapshot_route(const llmoin_snapshot_t *snapshot,
                                            const llmoin_snapshot_tenant_t *tenant,
                                            const llmoin_snapshot_key_t *key,
                                            const char *alias, size_t alias_length,
                                            const char **pool);

#endif
