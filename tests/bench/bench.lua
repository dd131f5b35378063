-- wrk script for tests/bench/bench_gateway.sh: POSTs one chat completion per
-- request and prints one parseable summary line from done().
--
-- Environment:
--   BENCH_BODY     request body (JSON), required
--   BENCH_KEY      API key; sent as "Authorization: Bearer KEY" if not empty
--   BENCH_RATE     0 (default): closed loop, every connection sends its next
--                  request as soon as the previous answer is in (maximum
--                  throughput). R > 0: send R requests/s in total, evenly
--                  spaced (wrk from Debian has no -R; this paces through
--                  wrk's delay() hook, see below)
--   BENCH_THREADS  wrk's -t, to split BENCH_RATE among the threads
--   BENCH_LABEL    copied into the summary line
--
-- Pacing: each wrk thread has a schedule of send times t0 + k/r (r = its
-- share of the rate). A connection that is ready for its next request takes
-- the next slot and waits until then (delay() returns the wait in whole ms,
-- so a request goes out up to 1 ms early; the average rate is exact). If the
-- server falls behind, late slots are sent at once, so the offered load does
-- not drop because latency grows (as long as there are enough connections).
-- Latency is measured by wrk from the moment a request is written.
--
-- Summary line (one, on stdout, after wrk's own report):
--   BENCH label=L requests=N duration_us=D rps=R status_errors=S
--         connect_errors=C read_errors=R write_errors=W timeouts=T
--         mean_us=M p50_us=.. p90_us=.. p99_us=.. p999_us=.. max_us=..
-- status_errors counts answers with a status >= 400 (wrk's "Non-2xx or 3xx").

local body = os.getenv("BENCH_BODY")
assert(body and body ~= "", "BENCH_BODY is not set")
local key = os.getenv("BENCH_KEY") or ""
local rate = tonumber(os.getenv("BENCH_RATE") or "0") or 0
local threads = tonumber(os.getenv("BENCH_THREADS") or "1") or 1
local label = os.getenv("BENCH_LABEL") or "run"

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
if key ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. key
end

if rate > 0 then
    local ok, ffi = pcall(require, "ffi")
    assert(ok, "BENCH_RATE needs wrk built with LuaJIT (ffi)")
    ffi.cdef [[
        typedef struct { long tv_sec; long tv_nsec; } bench_timespec_t;
        int clock_gettime(int clock, bench_timespec_t *ts);
    ]]
    local CLOCK_MONOTONIC = 1
    local ts = ffi.new("bench_timespec_t")

    local function now_ms()
        ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
        return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
    end

    local interval = 1000 * threads / rate   -- ms between this thread's sends
    local next_slot = nil

    function delay()
        local now = now_ms()
        if next_slot == nil then
            next_slot = now
        end
        local wait = next_slot - now
        next_slot = next_slot + interval
        if wait <= 0 then
            return 0
        end
        return math.floor(wait)
    end
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "BENCH label=%s requests=%d duration_us=%d rps=%.1f status_errors=%d "
        .. "connect_errors=%d read_errors=%d write_errors=%d timeouts=%d "
        .. "mean_us=%.1f p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d\n",
        label, summary.requests, summary.duration,
        summary.requests / (summary.duration / 1e6), e.status,
        e.connect, e.read, e.write, e.timeout,
        latency.mean, latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency:percentile(99.9), latency.max))
end
