/* The quota scripts (contract in quota_script.h), one Lua line per line. */
#include "quota_script.h"

/*
 * A window is a hash: one field per second with what was reserved in it,
 * "n" the sum of those fields, "o" the oldest second that may still have
 * one (every field before it is gone). A second whose reservations were all
 * taken back (settled at 0, refunded) loses its field, so that it does not
 * count as the oldest one for Retry-After. Reading prunes the seconds that left
 * the window and moves "o" to the oldest second that has a field: each
 * second is looked at about once, however many requests read the window.
 */
#define WINDOW_FUNCTIONS                                                          \
    "local WINDOW = 60\n"                                                         \
    "local function window(key, sec)\n"                                           \
    "  local state = redis.call('HMGET', key, 'n', 'o')\n"                        \
    "  local total, oldest = tonumber(state[1]), tonumber(state[2])\n"           \
    "  if total == nil or oldest == nil then return 0, nil end\n"                \
    "  local first = sec - WINDOW + 1\n"                                          \
    "  if oldest + WINDOW <= first then\n"                                        \
    "    redis.call('DEL', key)\n"                                                \
    "    return 0, nil\n"                                                         \
    "  end\n"                                                                     \
    "  local s = oldest\n"                                                        \
    "  while s < first do\n"                                                      \
    "    local v = redis.call('HGET', key, s)\n"                                  \
    "    if v then\n"                                                             \
    "      total = total - tonumber(v)\n"                                         \
    "      redis.call('HDEL', key, s)\n"                                          \
    "    end\n"                                                                   \
    "    s = s + 1\n"                                                             \
    "  end\n"                                                                     \
    "  while s <= sec and redis.call('HEXISTS', key, s) == 0 do s = s + 1 end\n"  \
    "  local live = s <= sec\n"                                                   \
    "  if not live then s = sec end\n"                                            \
    "  if s ~= oldest then redis.call('HSET', key, 'n', total, 'o', s) end\n"     \
    "  if live then return total, s end\n"                                        \
    "  return total, nil\n"                                                       \
    "end\n"                                                                       \
    "local function window_add(key, sec, amount)\n"                               \
    "  local fresh = redis.call('HINCRBY', key, 'n', amount) == amount\n"         \
    "  if redis.call('HINCRBY', key, sec, amount) == amount or fresh then\n"      \
    "    if fresh then redis.call('HSETNX', key, 'o', sec) end\n"                 \
    "    redis.call('EXPIRE', key, 2 * WINDOW)\n"                                 \
    "  end\n"                                                                     \
    "end\n"                                                                       \
    "local function window_adjust(key, sec, amount)\n"                            \
    "  local old = tonumber(redis.call('HGET', key, sec))\n"                      \
    "  if old == nil then return end\n"                                           \
    "  if old + amount > 0 then\n"                                                \
    "    redis.call('HINCRBY', key, sec, amount)\n"                               \
    "    redis.call('HINCRBY', key, 'n', amount)\n"                               \
    "  else\n"                                                                    \
    "    redis.call('HDEL', key, sec)\n"                                          \
    "    redis.call('HINCRBY', key, 'n', -old)\n"                                 \
    "  end\n"                                                                     \
    "end\n"                                                                       \
    "local function in_flight(key, now)\n"                                        \
    "  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)\n"                        \
    "  return redis.call('ZCARD', key)\n"                                         \
    "end\n"

const char llmoin_quota_admit_lua[] =
    WINDOW_FUNCTIONS
    "local now, id = tonumber(ARGV[1]), ARGV[2]\n"
    "local estimate, n = tonumber(ARGV[3]), tonumber(ARGV[4])\n"
    "local month_end, lease = tonumber(ARGV[5]), tonumber(ARGV[6])\n"
    "local sec = math.floor(now / 1000)\n"
    "local generation = ''\n"
    "for i = 0, n - 1 do\n"
    "  if tonumber(ARGV[10 + 4 * i]) >= 0 then\n"
    "    generation = redis.call('GET', '" LLMOIN_QUOTA_RESTORE_MARKER "')\n"
    "    if not generation then return {0, 0, 'unrestored', 1000, 0, 0} end\n"
    "    break\n"
    "  end\n"
    "end\n"
    "local best = {-1, -1, -1, -1, -1, -1, -1, -1}\n"
    "local function note(slot, remaining, limit, reset)\n"
    "  if best[slot] == -1 or remaining < best[slot] then\n"
    "    best[slot], best[slot + 1], best[slot + 2] = remaining, limit, reset\n"
    "  end\n"
    "end\n"
    "local function reset_ms(oldest)\n"
    "  if oldest == nil then return WINDOW * 1000 end\n"
    "  return (oldest + WINDOW) * 1000 - now\n"
    "end\n"
    "for i = 0, n - 1 do\n"
    "  local rpm, tpm = tonumber(ARGV[7 + 4 * i]), tonumber(ARGV[8 + 4 * i])\n"
    "  local concurrent, monthly = tonumber(ARGV[9 + 4 * i]), tonumber(ARGV[10 + 4 * i])\n"
    "  local k = 4 * i\n"
    "  if rpm >= 0 then\n"
    "    local used, oldest = window(KEYS[k + 1], sec)\n"
    "    if used + 1 > rpm then return {0, i + 1, 'requests', reset_ms(oldest), rpm, used} end\n"
    "    note(1, rpm - used - 1, rpm, reset_ms(oldest))\n"
    "  end\n"
    "  if tpm >= 0 then\n"
    "    local used, oldest = window(KEYS[k + 2], sec)\n"
    "    if used + estimate > tpm then return {0, i + 1, 'tokens', reset_ms(oldest), tpm, used} end\n"
    "    note(4, tpm - used - estimate, tpm, reset_ms(oldest))\n"
    "  end\n"
    "  if concurrent >= 0 then\n"
    "    local used = in_flight(KEYS[k + 3], now)\n"
    "    if used + 1 > concurrent then return {0, i + 1, 'concurrent', 1000, concurrent, used} end\n"
    "  end\n"
    "  if monthly >= 0 then\n"
    "    local used = tonumber(redis.call('GET', KEYS[k + 4]) or '0')\n"
    "    if used + estimate > monthly then\n"
    "      return {0, i + 1, 'monthly', month_end - now, monthly, used}\n"
    "    end\n"
    "    if best[7] == -1 or monthly - used - estimate < best[7] then\n"
    "      best[7], best[8] = monthly - used - estimate, monthly\n"
    "    end\n"
    "  end\n"
    "end\n"
    "for i = 0, n - 1 do\n"
    "  local k = 4 * i\n"
    "  if tonumber(ARGV[7 + 4 * i]) >= 0 then window_add(KEYS[k + 1], sec, 1) end\n"
    "  if tonumber(ARGV[8 + 4 * i]) >= 0 then window_add(KEYS[k + 2], sec, estimate) end\n"
    "  if tonumber(ARGV[9 + 4 * i]) >= 0 then\n"
    "    redis.call('ZADD', KEYS[k + 3], now + lease, id)\n"
    "    redis.call('PEXPIRE', KEYS[k + 3], lease)\n"
    "  end\n"
    "  if tonumber(ARGV[10 + 4 * i]) >= 0\n"
    "     and redis.call('INCRBY', KEYS[k + 4], estimate) == estimate then\n"
    "    redis.call('EXPIRE', KEYS[k + 4], 40 * 86400)\n"
    "  end\n"
    "end\n"
    "return {1, best[1], best[2], best[3], best[4], best[5], best[6], best[7], best[8],\n"
    "        generation}\n";

const char llmoin_quota_settle_lua[] =
    WINDOW_FUNCTIONS
    "local sec, id = ARGV[1], ARGV[2]\n"
    "local delta, n = tonumber(ARGV[3]), tonumber(ARGV[4])\n"
    "local real, generation, refund = tonumber(ARGV[5]), ARGV[6], ARGV[7] == '1'\n"
    "local month = delta\n"
    "if generation ~= '' then\n"
    "  local now = redis.call('GET', '" LLMOIN_QUOTA_RESTORE_MARKER "')\n"
    "  if not now then month = 0\n"
    "  elseif now ~= generation then month = real end\n"
    "end\n"
    "for i = 0, n - 1 do\n"
    "  local k, f = 4 * i, 8 + 4 * i\n"
    "  if refund and ARGV[f] == '1' then window_adjust(KEYS[k + 1], sec, -1) end\n"
    "  if delta ~= 0 and ARGV[f + 1] == '1' then window_adjust(KEYS[k + 2], sec, delta) end\n"
    "  if ARGV[f + 2] == '1' then redis.call('ZREM', KEYS[k + 3], id) end\n"
    "  if month ~= 0 and ARGV[f + 3] == '1'\n"
    "     and redis.call('INCRBY', KEYS[k + 4], month) == month then\n"
    "    redis.call('EXPIRE', KEYS[k + 4], 40 * 86400)\n"
    "  end\n"
    "end\n"
    "return 1\n";

const char llmoin_quota_read_lua[] =
    WINDOW_FUNCTIONS
    "local now, n = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "local sec = math.floor(now / 1000)\n"
    "local out = {}\n"
    "for i = 0, n - 1 do\n"
    "  local k = 4 * i\n"
    "  local requests = window(KEYS[k + 1], sec)\n"
    "  local tokens = window(KEYS[k + 2], sec)\n"
    "  out[#out + 1] = {requests, tokens, in_flight(KEYS[k + 3], now),\n"
    "                   tonumber(redis.call('GET', KEYS[k + 4]) or '0')}\n"
    "end\n"
    "return out\n";
