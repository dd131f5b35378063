/*
 * quota_script: the Redis Lua scripts that decide and settle quotas. Each
 * runs atomically in Redis, so every nginx worker of every node sees one
 * order of events: limits hold exactly, however many gateways share Redis.
 *
 * For each entity of a request's quota plan (quota.h) the scripts get four
 * keys in KEYS, in this order: requests per second (hash: second -> count),
 * tokens per second (hash: second -> tokens), requests in flight (sorted
 * set: request id -> lease end in ms), tokens of the Berlin month (string).
 * A sliding window of 60 one-second buckets gives requests and tokens "per
 * minute" without a burst at minute boundaries. A request in flight holds a
 * lease, so a slot whose release was lost (Redis was away when the request
 * ended) frees itself when the lease runs out.
 *
 * admit  ARGV: now_ms, request id, estimated tokens, entity count n,
 *              month_end_ms, lease_ms, then per entity rpm, tpm, concurrent,
 *              monthly (-1 = unlimited).
 *        Checks every limit first and changes nothing unless all pass.
 *        Returns {1, remaining requests, limit requests, reset requests ms,
 *                 remaining tokens, limit tokens, reset tokens ms,
 *                 remaining monthly, limit monthly, generation}
 *                 (-1: no such limit; generation: see below, "" when no
 *                 monthly limit applies)
 *             or {0, entity (1-based), kind, retry after ms, limit, used}
 *                with kind "requests", "tokens", "concurrent" or "monthly",
 *             or {0, 0, "unrestored", ...}: a monthly limit applies and the
 *                month counters are not rebuilt yet (the caller treats the
 *                store as unavailable).
 *
 * settle ARGV: admitted second, request id, token delta (real - estimate),
 *              entity count n, real tokens, generation (as admit returned
 *              it), refund (1: the request never ran: its request counts
 *              out again), then per entity four flags (0/1): rpm, tpm,
 *              concurrent, monthly limited. KEYS as for admit.
 *        Replaces the estimate by the real usage in the bucket of the second
 *        it was reserved in (if still in the window) and in the month
 *        counter, and releases the request's slot.
 *
 * The generation is the value of LLMOIN_QUOTA_RESTORE_MARKER, which tenantd
 * sets when it has rebuilt the month counters from PostgreSQL (tenantd/
 * quota_restore.c); Redis emptied loses it with the counters. Settlement
 * compares it with the generation the request was admitted in:
 *   the same        the counter holds the estimate: add real - estimate
 *   marker missing  not rebuilt yet: add nothing (the rebuild reads the
 *                   request's usage record from PostgreSQL)
 *   another one     rebuilt while the request ran, without it: add real
 * The marker is one key for all tenants: one Redis, not a Redis Cluster.
 *
 * read   ARGV: now_ms, n. Returns per entity {requests in the last minute,
 *              tokens in the last minute, requests in flight, monthly tokens}.
 */
#ifndef LLMOIN_QUOTA_SCRIPT_H
#define LLMOIN_QUOTA_SCRIPT_H

#define LLMOIN_QUOTA_KEYS_PER_ENTITY   4
#define LLMOIN_QUOTA_LEASE_MS          900000LL   /* 15 minutes */
#define LLMOIN_QUOTA_RESTORE_MARKER    "llmoin:restored"

extern const char llmoin_quota_admit_lua[];
extern const char llmoin_quota_settle_lua[];
extern const char llmoin_quota_read_lua[];

#endif
