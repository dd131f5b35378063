/*
 * quota_restore: brings the monthly token counters back when Redis lost
 * them. PostgreSQL (usage_events) is the source of truth; Redis only holds
 * counters that can be rebuilt from it.
 *
 * A thread checks Redis every redis_check_interval_ms for the marker key
 * llmoin:restored. Missing marker (Redis restarted, was emptied or is new):
 * the monthly token counters of the current Berlin month are rebuilt from
 * usage_events, for every tenant that has at least one monthly_tokens limit,
 * per tenant, user, API key and group (keys from llmoin_quota_key, kind
 * 'm'), and the marker is set to the unix time of the restore.
 *
 * The sums are added with INCRBY, not SET: what the gateway counted since
 * Redis came back (reservations of requests in flight) stays counted. A
 * request that was counted by the gateway after the emptying and ingested
 * into PostgreSQL before the restore is counted twice; that is bounded by
 * the traffic of the few seconds between the two (the check interval plus
 * the ingestion delay), and errs on the side of the budget.
 *
 * All counters and the marker are written in one MULTI/EXEC transaction,
 * after WATCHing the marker: Redis holds either none or all of a restore
 * (an emptying during the restore cannot leave half of it behind with the
 * marker set), and of several tenantd nodes seeing the marker missing at
 * once only one restores (the others' EXEC is aborted by the WATCH).
 *
 * While Redis cannot be reached the thread warns (at most once a minute)
 * and keeps trying; it never stops tenantd.
 */
#ifndef TENANTD_QUOTA_RESTORE_H
#define TENANTD_QUOTA_RESTORE_H

#include "config.h"
#include "quota_script.h"

#include <stddef.h>

#define QUOTA_RESTORE_MARKER      LLMOIN_QUOTA_RESTORE_MARKER
#define QUOTA_RESTORE_TTL_SECONDS (40L * 24 * 3600)

/* Checks the redis setting ("", "unix:/path" or "IP:PORT", "[IPv6]:PORT").
 * Returns 0, or -1 with a message naming the setting. */
int quota_restore_check_config(const tenantd_config_t *config, char *error,
                               size_t error_size);

/* A connection of the caller's own to the quota store, with the restore's
 * timeouts, for a one-off change from another thread (offboarding deletes
 * a tenant's counters). 1 with *redis set (the caller redisFree()s it), 0
 * when no quota store is configured (redis ""), -1 when it cannot be
 * reached (the reason in `reason`). Only after quota_restore_start. */
struct redisContext;
int quota_store_connect(struct redisContext **redis, char *reason, size_t reason_size);

/* Starts the thread (nothing when redis is ""). 0 or an errno value. */
int quota_restore_start(const tenantd_config_t *config);
void quota_restore_stop(void);

#endif
