-- wrk script for tests/bench/bench_gateway.sh: POSTs one chat completion
-- per request and prints a parseable summary line from done().
--
-- Environment:
--   BENCH_BODY      request body (JSON), required
--   BENCH_KEY       API key; sent as "Authorization: Bearer KEY" if set
--   BENCH_DELAY_MS  mean pause in ms between a response and the next request
--                   on the same connection; 0 (default) = closed loop at full
--                   speed. The pause is drawn uniformly from 0..2*mean, so
--                   the connections do not fire in lockstep.
--   BENCH_LABEL     copied into the summary line
--
-- Summary line (one, on stdout, after wrk's own report):
--   BENCH label=L requests=N duration_us=D rps=R status_errors=S
--         connect_errors=C read_errors=R write_errors=W timeouts=T
--         mean_us=M p50_us=.. p90_us=.. p99_us=.. p999_us=.. max_us=..

local body = os.getenv("BENCH_BODY")
assert(body and body ~= "", "BENCH_BODY is not set")
local key = os.getenv("BENCH_KEY") or ""
local delay_mean = tonumber(os.getenv("BENCH_DELAY_MS") or "0") or 0
local label = os.getenv("BENCH_LABEL") or "run"

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
if key ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. key
end

local thread_number = 0

function setup(thread)
    thread_number = thread_number + 1
    thread:set("thread_number", thread_number)
end

function init(args)
    math.randomseed(os.time() * 1000 + (thread_number or 0) * 7919)
end

if delay_mean > 0 then
    local high = math.floor(2 * delay_mean + 0.5)
    function delay()
        return math.random(0, high)
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
