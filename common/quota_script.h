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
 *                 remaining monthly, limit monthly}   (-1: no such limit)
 *             or {0, entity (1-based), kind, retry after ms, limit, used}
 *                with kind "requests", "tokens", "concurrent" or "monthly".
 *
 * settle ARGV: admitted second, request id, token delta (real - estimate),
 *              entity count n, then per entity three flags (0/1): tpm,
 *              concurrent, monthly limited. KEYS as for admit.
 *        Replaces the estimate by the real usage in the bucket of the second
 *        it was reserved in (if still in the window) and in the month
 *        counter it was reserved in, and releases the request's slot.
 *
 * read   ARGV: now_ms, n. Returns per entity {requests in the last minute,
 *              tokens in the last minute, requests in flight, monthly tokens}.
 */
#ifndef LLMOIN_QUOTA_SCRIPT_H
#define LLMOIN_QUOTA_SCRIPT_H

#define LLMOIN_QUOTA_KEYS_PER_ENTITY   4
#define LLMOIN_QUOTA_LEASE_MS          900000LL   /* 15 minutes */

extern const char llmoin_quota_admit_lua[];
extern const char llmoin_quota_settle_lua[];
extern const char llmoin_quota_read_lua[];

#endif
