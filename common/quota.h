/*
 * quota: which limits apply to a request, and the Redis keys that count it.
 *
 * A request is counted against up to LLMOIN_QUOTA_MAX_ENTITIES entities:
 * its tenant (all users together), its user, its API key, and each of its
 * groups (a group shares one allowance). For user, key and group the
 * tenant's row for that very subject applies, else the tenant's default row
 * (subject ""), else nothing. An entity whose kinds are all unlimited is
 * left out: a tenant without limits costs no Redis round trip.
 *
 * Keys: llmoin:{t<tenant>}:<kind>:<scope>:<subject>[:<YYYY-MM>], kind r
 * (requests per second bucket), t (tokens per second bucket), c (requests
 * in flight) or m (tokens in a Berlin month). The {t<tenant>} hash tag keeps
 * every key of one request on one Redis Cluster slot, so one Lua script can
 * touch them all atomically.
 */
#ifndef LLMOIN_QUOTA_H
#define LLMOIN_QUOTA_H

#include <stdbool.h>
#include <stddef.h>

#define LLMOIN_QUOTA_MAX_ENTITIES 16
#define LLMOIN_QUOTA_SUBJECT_MAX  256
#define LLMOIN_QUOTA_KEY_MAX      (LLMOIN_QUOTA_SUBJECT_MAX + 64)
#define LLMOIN_QUOTA_UNLIMITED    (-1LL)

typedef enum llmoin_scope {
    LLMOIN_SCOPE_TENANT = 0,
    LLMOIN_SCOPE_GROUP,
    LLMOIN_SCOPE_USER,
    LLMOIN_SCOPE_KEY
} llmoin_scope_t;

/* A row of the tenant's limits (as the snapshot carries it). */
typedef struct llmoin_limit {
    llmoin_scope_t scope;
    char          *subject;        /* "" = default for every group/user/key */
    long long      rpm;            /* LLMOIN_QUOTA_UNLIMITED when not set */
    long long      tpm;
    long long      concurrent;
    long long      monthly_tokens;
} llmoin_limit_t;

typedef struct llmoin_quota_entity {
    llmoin_scope_t scope;
    char           subject[LLMOIN_QUOTA_SUBJECT_MAX];
    long long      rpm;
    long long      tpm;
    long long      concurrent;
    long long      monthly_tokens;
} llmoin_quota_entity_t;

typedef struct llmoin_quota_plan {
    long long              tenant_id;
    size_t                 count;
    llmoin_quota_entity_t  entities[LLMOIN_QUOTA_MAX_ENTITIES];
} llmoin_quota_plan_t;

/* Fills the plan for a caller. groups is comma-separated ("" for none);
 * key_id "" for a token. Groups beyond the capacity are left out (the plan
 * says how many it took). */
void llmoin_quota_plan(long long tenant_id, const llmoin_limit_t *limits, size_t limit_count,
                       const char *user, const char *groups, const char *key_id,
                       llmoin_quota_plan_t *out);

/* The subject as counters name it: itself, or — when it does not fit
 * LLMOIN_QUOTA_SUBJECT_MAX — "#" and the hex SHA-256 of it, so a long user
 * id is still limited (and the gateway and tenantd name it alike). */
void llmoin_quota_counter_subject(const char *subject, size_t length,
                                  char out[LLMOIN_QUOTA_SUBJECT_MAX]);

const char *llmoin_scope_name(llmoin_scope_t scope);

/* Parses "tenant", "group", "user", "key"; -1 for anything else. */
int llmoin_scope_from_name(const char *name);

/* The Redis key of an entity's counter of one kind ('r', 't', 'c', 'm');
 * month only for 'm'. Returns 0, or -1 when it does not fit. */
int llmoin_quota_key(char *out, size_t size, long long tenant_id, char kind,
                     llmoin_scope_t scope, const char *subject, const char *month);

#endif
