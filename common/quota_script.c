/* The quota scripts (contract in quota_script.h), one Lua line per line. */
#include "quota_script.h"

#define WINDOW_FUNCTIONS                                                          \
    "local WINDOW = 60\n"                                                         \
    "local function window(key, sec)\n"                                           \
    "  local fields = redis.call('HGETALL', key)\n"                               \
    "  local sum, oldest, stale = 0, nil, {}\n"                                   \
    "  for j = 1, #fields, 2 do\n"                                                \
    "    local s = tonumber(fields[j])\n"                                         \
    "    if s <= sec - WINDOW then\n"                                             \
    "      stale[#stale + 1] = fields[j]\n"                                       \
    "    else\n"                                                                  \
    "      sum = sum + tonumber(fields[j + 1])\n"                                 \
    "      if oldest == nil or s < oldest then oldest = s end\n"                  \
    "    end\n"                                                                   \
    "  end\n"                                                                     \
    "  if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end\n"          \
    "  return sum, oldest\n"                                                      \
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
    "  if tonumber(ARGV[7 + 4 * i]) >= 0 then\n"
    "    redis.call('HINCRBY', KEYS[k + 1], sec, 1)\n"
    "    redis.call('EXPIRE', KEYS[k + 1], 2 * WINDOW)\n"
    "  end\n"
    "  if tonumber(ARGV[8 + 4 * i]) >= 0 then\n"
    "    redis.call('HINCRBY', KEYS[k + 2], sec, estimate)\n"
    "    redis.call('EXPIRE', KEYS[k + 2], 2 * WINDOW)\n"
    "  end\n"
    "  if tonumber(ARGV[9 + 4 * i]) >= 0 then\n"
    "    redis.call('ZADD', KEYS[k + 3], now + lease, id)\n"
    "    redis.call('PEXPIRE', KEYS[k + 3], lease)\n"
    "  end\n"
    "  if tonumber(ARGV[10 + 4 * i]) >= 0 then\n"
    "    redis.call('INCRBY', KEYS[k + 4], estimate)\n"
    "    redis.call('EXPIRE', KEYS[k + 4], 40 * 86400)\n"
    "  end\n"
    "end\n"
    "return {1, best[1], best[2], best[3], best[4], best[5], best[6], best[7], best[8],\n"
    "        generation}\n";

const char llmoin_quota_settle_lua[] =
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
    "  if refund and ARGV[f] == '1' and redis.call('HEXISTS', KEYS[k + 1], sec) == 1 then\n"
    "    redis.call('HINCRBY', KEYS[k + 1], sec, -1)\n"
    "  end\n"
    "  if delta ~= 0 and ARGV[f + 1] == '1'\n"
    "     and redis.call('HEXISTS', KEYS[k + 2], sec) == 1 then\n"
    "    redis.call('HINCRBY', KEYS[k + 2], sec, delta)\n"
    "  end\n"
    "  if ARGV[f + 2] == '1' then redis.call('ZREM', KEYS[k + 3], id) end\n"
    "  if month ~= 0 and ARGV[f + 3] == '1' then\n"
    "    redis.call('INCRBY', KEYS[k + 4], month)\n"
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
