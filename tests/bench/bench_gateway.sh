#!/bin/bash
# tests/bench/bench_gateway.sh — what the llmoin gateway costs compared with
# a plain nginx proxy_pass in front of the same inference server.
#
#   tests/bench/bench_gateway.sh [--build DIR] [--duration S] [--connections N]
#                                [--threads N] [--rounds N] [--workers N]
#                                [--load F] [--quiet-wait S] [--pause-ingest]
#                                [--credential key|jwt] [--quotas]
#                                [--keep]
#
# Starts its own node (ops/stack) in a temporary directory, onboards a tenant
# "bench" with one API key, adds a plain proxy_pass server to the same nginx
# (same workers, same upstream keepalive, same proxy settings, no llmoin),
# warms both up and then measures with wrk, alternating plain/gateway:
#
#   1. throughput: closed loop, --connections connections, --rounds rounds
#      of --duration seconds each per side;
#   2. latency at a fixed rate of --load (default 0.5) times the plain
#      proxy's mean throughput from step 1, same rounds; p50/p99 per side
#      and what the gateway adds.
#
# Between rounds it waits until tenantd has ingested the usage journal, so
# no round pays for the previous one. At the end it checks that every
# request got a 2xx, that infer-sim saw no failures and no Authorization
# header, that the usage ledger (llmoinctl usage) counts exactly the
# requests infer-sim saw for tenant "bench", and that nginx logged no
# errors or crashes. Exit status 0 only if all that holds.
#
# Options (defaults in brackets):
#   --build DIR        build tree with nginx module, tenantd, infer-sim [build]
#   --duration S       seconds per wrk run [6]
#   --connections N    wrk connections [64]
#   --threads N        wrk threads [2]
#   --rounds N         rounds per phase, each one plain and one gateway run [3]
#   --workers N        nginx worker processes [2]
#   --load F           latency phase rate as a share of plain throughput [0.5]
#   --quiet-wait S     before each run, wait up to S seconds for other jobs
#                      on the machine to use less than 10% of the CPUs [30]
#   --pause-ingest     diagnosis only: stop tenantd (SIGSTOP) while wrk runs
#                      against the gateway and let it ingest afterwards, to
#                      tell the module's own cost from the ledger's; nginx
#                      still writes the journal, the CPU figures still
#                      include the ingestion
#   --credential key|jwt  an API key [key], or an ES256 token of the
#                      development identity provider (a token-cache hit
#                      after the first request)
#   --quotas           give tenant and users limits that are never reached,
#                      so every request is admitted and settled in Redis
#                      (Redis's CPU shows as "other jobs")
#   --keep             leave the node running (and its directory) at the end
#
# The node's directory (logs, wrk output in bench/) is kept when the run
# fails, removed otherwise unless --keep.
set -euo pipefail

SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_DIR=$SOURCE/tests/bench
LUA=$BENCH_DIR/bench.lua

BUILD=$SOURCE/build
DURATION=6
CONNECTIONS=64
THREADS=2
ROUNDS=3
WORKERS=2
LOAD=0.5
PAUSE_INGEST=0
QUIET_WAIT=30
QUIET_PCT=10
KEEP=0
WARMUP=2
CREDENTIAL=key
QUOTAS=0

die() { echo "bench_gateway: $*" >&2; exit 1; }
say() { echo "bench_gateway: $*"; }

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --build) BUILD=${2:?--build needs a directory}; shift 2 ;;
        --duration) DURATION=${2:?--duration needs seconds}; shift 2 ;;
        --connections) CONNECTIONS=${2:?--connections needs a number}; shift 2 ;;
        --threads) THREADS=${2:?--threads needs a number}; shift 2 ;;
        --rounds) ROUNDS=${2:?--rounds needs a number}; shift 2 ;;
        --workers) WORKERS=${2:?--workers needs a number}; shift 2 ;;
        --load) LOAD=${2:?--load needs a share like 0.5}; shift 2 ;;
        --pause-ingest) PAUSE_INGEST=1; shift ;;
        --quiet-wait) QUIET_WAIT=${2:?--quiet-wait needs seconds}; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --credential) CREDENTIAL=${2:?--credential needs key or jwt}; shift 2 ;;
        --quotas) QUOTAS=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done

[[ "$QUIET_WAIT" =~ ^[0-9]+$ ]] || die "--quiet-wait needs whole seconds, got '$QUIET_WAIT'"
[[ "$CREDENTIAL" =~ ^(key|jwt)$ ]] || die "--credential must be key or jwt, got '$CREDENTIAL'"
for n in "$DURATION" "$CONNECTIONS" "$THREADS" "$ROUNDS" "$WORKERS"; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "expected a positive whole number, got '$n'"
done
[[ "$LOAD" =~ ^(0?\.[0-9]+|1(\.0*)?)$ ]] || die "--load must be a share from 0 to 1, got '$LOAD'"
[ "$ROUNDS" -ge 2 ] || die "--rounds must be at least 2 (A/B/A/B)"
[ "$CONNECTIONS" -ge "$THREADS" ] || die "--connections must be at least --threads"
command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=$(command -v python3) || die "python3 is needed"

BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || die "build directory '$BUILD' not found"
CTL=$BUILD/tenantd/ctl/llmoinctl
for f in "$CTL" "$BUILD/tenantd/tenantd" "$BUILD/tests/infer-sim/infer-sim" \
         "$BUILD/nginx-module/nginx/objs/ngx_http_llmoin_module.so"; do
    [ -e "$f" ] || die "$f is missing; build first (cmake --build $BUILD)"
done
if ldd "$BUILD/nginx-module/nginx/objs/ngx_http_llmoin_module.so" 2>/dev/null | grep -q libasan; then
    say "WARNING: $BUILD has an AddressSanitizer build of the module; figures are not representative"
fi

# busy CPU ticks of the whole machine (all CPUs), from /proc/stat
machine_ticks() {
    awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

# Other jobs on the machine distort everything: say so before starting.
busy_before=$(machine_ticks)
sleep 2
BACKGROUND=$(awk -v a="$busy_before" -v b="$(machine_ticks)" -v hz="$(getconf CLK_TCK)" \
    -v n="$(nproc)" 'BEGIN { printf "%.0f", (b - a) / hz / 2 / n * 100 }')
if [ "$BACKGROUND" -gt 10 ]; then
    say "WARNING: other jobs use ${BACKGROUND}% of the CPUs; the figures will be noisy"
fi

# --- the node ------------------------------------------------------------------

STATE=$(mktemp -d "${TMPDIR:-/tmp}/llmoin-bench.XXXXXX")
# the servers drop privileges when started as root: the tree must be readable
chmod 755 "$STATE"
OUT=$STATE/bench
mkdir -p "$OUT"
OK=0
TENANTD_PID=""

cleanup() {
    local rc=$?
    # never leave tenantd stopped (--pause-ingest)
    [ -z "$TENANTD_PID" ] || kill -CONT "$TENANTD_PID" 2>/dev/null || true
    if [ "$KEEP" = 1 ]; then
        say "node left running; state in $STATE"
        say "stop it with: $SOURCE/ops/stack stop --state $STATE"
        return
    fi
    "$SOURCE/ops/stack" stop --state "$STATE" >"$OUT/stop.log" 2>&1 || true
    if [ "$OK" = 1 ] && [ "$rc" = 0 ]; then
        rm -rf "$STATE"
    else
        say "node stopped; logs and wrk output kept in $STATE"
    fi
}
trap cleanup EXIT

say "starting a node in $STATE (build $BUILD, $WORKERS nginx workers)"
"$SOURCE/ops/stack" start --state "$STATE" --build "$BUILD" --workers "$WORKERS" \
    >"$OUT/start.log" 2>&1 || { cat "$OUT/start.log" >&2; die "ops/stack start failed"; }
# shellcheck disable=SC1091
. "$STATE/stack.env"
[ -n "${LLMOIN_SIM_PORT:-}" ] || die "the node has no infer-sim"

ctl() { "$CTL" --socket "$LLMOIN_SOCKET" "$@"; }

# json_get EXPR: evaluates a Python expression over the JSON on stdin (as d)
json_get() { "$PYTHON" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

free_port() {
    "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

http_status() {
    curl -s -o /dev/null -w '%{http_code}' "$@" || true
}

# --- tenant, key, plain proxy ----------------------------------------------------

ctl tenant create bench --name Bench >"$OUT/onboarding.log"
ctl model add llmoin-sim --pool default >>"$OUT/onboarding.log"
if [ "$CREDENTIAL" = jwt ]; then
    # a token of the development identity provider (ES256): after its first
    # use every request is a token-cache hit, the steady state of a busy user
    ctl tenant dev-idp bench --enable >>"$OUT/onboarding.log"
    KEY=$(ctl dev-token bench --user u --ttl 1h)
else
    KEY=$(ctl key create bench --user u --output json | json_get 'd["key"]')
fi
[ -n "$KEY" ] || die "no credential"

if [ "$QUOTAS" = 1 ]; then
    # limits that are never reached, for the tenant and every user: each
    # request costs the admission script and the settlement in Redis
    ctl limits set bench --rpm 2000000000 --tpm 1000000000000 --concurrent 1000000 \
        --monthly-tokens 1000000000000000 >>"$OUT/onboarding.log"
    ctl limits set bench --default-user --rpm 2000000000 --tpm 1000000000000 \
        --concurrent 1000000 --monthly-tokens 1000000000000000 >>"$OUT/onboarding.log"
    sleep 2   # the snapshot with the limits reaches the workers
fi

for ((i = 0; ; i++)); do
    [ "$(http_status -H "Authorization: Bearer $KEY" "$LLMOIN_URL/v1/models")" = 200 ] && break
    [ "$i" -lt 100 ] || die "the new key did not become live at the gateway within 10 s"
    sleep 0.1
done

# The plain proxy mirrors the gateway's location minus "llmoin on": same
# nginx and workers, an upstream to the same infer-sim with the same
# keepalive, the same proxy settings (llmoin_proxy_params: HTTP/1.1,
# Authorization removed, unbuffered answers) and body buffer. Both inherit
# the access_log lines of http{}: both write nginx's access log, only the
# gateway's requests also the usage journal (if=$llmoin_journal).
PLAIN_PORT=$(free_port)
cat >"$STATE/nginx/conf/extra/bench_plain.conf" <<EOF
# written by tests/bench/bench_gateway.sh: the plain proxy to compare with
upstream bench_plain {
    server $LLMOIN_INFERENCE;
    keepalive 64;
}

server {
    listen 127.0.0.1:$PLAIN_PORT;

    client_max_body_size 8m;
    client_body_buffer_size 8m;

    location /v1/ {
        include $SOURCE/nginx-module/llmoin_proxy_params;
        proxy_pass http://bench_plain;
    }
}
EOF
"$SOURCE/ops/stack" reload-nginx --state "$STATE" >>"$OUT/start.log" 2>&1
PLAIN_URL=http://127.0.0.1:$PLAIN_PORT
for ((i = 0; ; i++)); do
    [ "$(http_status "$PLAIN_URL/v1/models")" = 200 ] && break
    [ "$i" -lt 100 ] || die "the plain proxy on port $PLAIN_PORT did not come up"
    sleep 0.1
done
sleep 0.5   # the old workers finish

BODY='{"model":"llmoin-sim","messages":[{"role":"user","content":"Schreibe einen kurzen Gruss an das Team."}],"max_tokens":16}'
GATEWAY_CHAT=$LLMOIN_URL/v1/chat/completions
PLAIN_CHAT=$PLAIN_URL/v1/chat/completions

for url in "$GATEWAY_CHAT" "$PLAIN_CHAT"; do
    code=$(http_status -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
        -d "$BODY" "$url")
    [ "$code" = 200 ] || die "POST $url answered $code, expected 200"
done

# --- measuring ---------------------------------------------------------------------

CLK_TCK=$(getconf CLK_TCK)
NGINX_MASTER=$(cat "$STATE/nginx/nginx.pid")
SIM_PID=$(cat "$STATE/sim/infer-sim.pid")
TENANTD_PID=$(cat "$STATE/tenantd/tenantd.pid")
PG_PID=$(head -n 1 "$STATE/pg/data/postmaster.pid")

# CPU ticks (utime + stime) used so far by the given processes
ticks() {
    local pid
    for pid in "$@"; do
        cat "/proc/$pid/stat" 2>/dev/null || true
    done | awk '{ sub(/^.*\) /, ""); t += $12 + $13 } END { print t + 0 }'
}

# ticks of the children this shell has waited for (wrk, mostly)
child_ticks() {
    awk '{ sub(/^.*\) /, ""); print $14 + $15 }' "/proc/$$/stat"
}

# one line: nginx infer-sim tenantd postgres wrk machine (CPU ticks so far)
cpu_sample() {
    # shellcheck disable=SC2046
    echo "$(ticks $(pgrep -P "$NGINX_MASTER") "$NGINX_MASTER")" \
        "$(ticks "$SIM_PID")" "$(ticks "$TENANTD_PID")" \
        "$(ticks "$PG_PID" $(pgrep -P "$PG_PID"))" "$(child_ticks)" "$(machine_ticks)"
}

sim_bench_requests() {
    curl -sf "$LLMOIN_SIM_URL/sim/stats" | json_get 'd["tenants"].get("bench", {}).get("requests", 0)'
}

# the usage report over a range that surely contains today (Berlin days)
ledger_json() {
    ctl usage bench --output json --from "$(date -u -d '-2 days' +%F)" \
        --to "$(date -u -d '+2 days' +%F)"
}

ledger_requests() {
    ledger_json | json_get 'd["totals"]["requests"]'
}

# waits until the ledger counts what infer-sim saw for tenant bench; prints
# the seconds it took, or "timeout"
LEDGER_TIMEOUT=60
wait_for_ledger() {
    local want got start now
    want=$(sim_bench_requests)
    start=$(date +%s.%N)
    while :; do
        got=$(ledger_requests)
        now=$(date +%s.%N)
        if [ "$got" = "$want" ]; then
            awk -v a="$start" -v b="$now" 'BEGIN { printf "%.1f\n", b - a }'
            return 0
        fi
        if awk -v a="$start" -v b="$now" -v t="$LEDGER_TIMEOUT" 'BEGIN { exit !(b - a > t) }'; then
            echo timeout
            return 0
        fi
        sleep 0.2
    done
}

# run_wrk LABEL URL RATE: one wrk run; the BENCH line goes to $OUT/LABEL.txt
# and its fields into the shell variables R_<field>.
run_wrk() {
    local label=$1 url=$2 rate=$3 line field
    BENCH_BODY=$BODY BENCH_KEY=$KEY BENCH_RATE=$rate BENCH_THREADS=$THREADS \
        BENCH_LABEL=$label \
        wrk -t "$THREADS" -c "$CONNECTIONS" -d "${DURATION}s" --timeout 5s \
        -s "$LUA" "$url" >"$OUT/$label.txt" 2>&1 \
        || { cat "$OUT/$label.txt" >&2; die "wrk failed ($label)"; }
    line=$(grep '^BENCH ' "$OUT/$label.txt") || { cat "$OUT/$label.txt" >&2; die "no summary from wrk ($label)"; }
    for field in $line; do
        case "$field" in
            *=*) printf -v "R_${field%%=*}" '%s' "${field#*=}" ;;
        esac
    done
}

RESULTS=$OUT/results.tsv
# cpu_*_us: CPU time per request (user + system) of nginx (master and
# workers), infer-sim, tenantd, PostgreSQL (all its processes), wrk (and this
# script's own polling); other_cpu_pct: CPU the rest of the machine used
# meanwhile, in % of all CPUs (other jobs on a shared machine: noise).
printf 'phase\tround\tside\trate\trequests\trps\tstatus_errors\tsocket_errors\tp50_us\tp90_us\tp99_us\tp999_us\tmax_us\tcpu_nginx_us\tcpu_sim_us\tcpu_tenantd_us\tcpu_pg_us\tcpu_wrk_us\tother_cpu_pct\tledger_s\n' >"$RESULTS"

# measure PHASE ROUND SIDE RATE: a run with CPU accounting; after a gateway
# run, waits for the journal to be ingested (and counts that CPU too).
# cpu_figures BEFORE AFTER REQUESTS START END: CPU per request (us) of
# nginx, infer-sim, tenantd, PostgreSQL, wrk, tab-separated, then the CPU
# the rest of the machine used, in % of all its CPUs
cpu_figures() {
    awk -v b="$1" -v a="$2" -v n="$3" -v t="$4" -v e="$5" -v hz="$CLK_TCK" \
        -v s="$(nproc)" 'BEGIN {
        split(b, x, " "); split(a, y, " "); ours = 0
        for (i = 1; i <= 5; i++) {
            printf "%.1f\t", n ? (y[i] - x[i]) * 1e6 / hz / n : 0
            ours += y[i] - x[i]
        }
        other = (y[6] - x[6]) - ours
        printf "%.0f", (other > 0 && e > t) ? other / hz / (e - t) / s * 100 : 0
    }'
}

# Waits (up to --quiet-wait seconds) until other jobs on the machine use
# less than QUIET_PCT % of the CPUs over a second.
wait_quiet() {
    local deadline=$((SECONDS + QUIET_WAIT)) a b t0 t1 other
    [ "$QUIET_WAIT" -gt 0 ] || return 0
    while :; do
        t0=$(date +%s.%N); a=$(cpu_sample)
        sleep 1
        t1=$(date +%s.%N); b=$(cpu_sample)
        other=$(cpu_figures "$a" "$b" 0 "$t0" "$t1")
        other=${other##*$'\t'}
        [ "$other" -ge "$QUIET_PCT" ] || return 0
        if [ "$SECONDS" -ge "$deadline" ]; then
            say "other jobs still use ${other}% of the CPUs after ${QUIET_WAIT} s; measuring anyway"
            return 0
        fi
    done
}

# shellcheck disable=SC2154  # R_* are set by run_wrk (printf -v)
measure() {
    local phase=$1 round=$2 side=$3 rate=$4 url before after ledger="-" socket_errors
    local start end
    url=$PLAIN_CHAT
    [ "$side" = gateway ] && url=$GATEWAY_CHAT
    wait_quiet
    before=$(cpu_sample)
    start=$(date +%s.%N)
    if [ "$side" = gateway ] && [ "$PAUSE_INGEST" = 1 ]; then
        kill -STOP "$TENANTD_PID"
        run_wrk "$phase-$round-$side" "$url" "$rate"
        kill -CONT "$TENANTD_PID"
    else
        run_wrk "$phase-$round-$side" "$url" "$rate"
    fi
    if [ "$side" = gateway ]; then
        ledger=$(wait_for_ledger)
    fi
    after=$(cpu_sample)
    end=$(date +%s.%N)
    socket_errors=$((R_connect_errors + R_read_errors + R_write_errors + R_timeouts))
    # per-request CPU in microseconds: nginx, infer-sim, tenantd, PostgreSQL,
    # wrk; then what the rest of the machine used, in % of all its CPUs
    local cpu
    cpu=$(cpu_figures "$before" "$after" "$R_requests" "$start" "$end")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$phase" "$round" "$side" "$rate" "$R_requests" "$R_rps" "$R_status_errors" \
        "$socket_errors" "$R_p50_us" "$R_p90_us" "$R_p99_us" "$R_p999_us" "$R_max_us" \
        "$cpu" "$ledger" >>"$RESULTS"
    printf '  %-10s round %s %-8s %9s rps  p50 %6s us  p99 %6s us  non-2xx %s  socket errors %s  other CPU %s%%%s\n' \
        "$phase" "$round" "$side" "$R_rps" "$R_p50_us" "$R_p99_us" "$R_status_errors" \
        "$socket_errors" "${cpu##*$'\t'}" "$([ "$ledger" = - ] || echo "  ledger caught up: $ledger s")"
}

say "warming up ($WARMUP s each side)"
saved_duration=$DURATION
DURATION=$WARMUP
run_wrk warmup-plain "$PLAIN_CHAT" 0
run_wrk warmup-gateway "$GATEWAY_CHAT" 0
DURATION=$saved_duration
wait_for_ledger >/dev/null

say "throughput: closed loop, $CONNECTIONS connections, $THREADS wrk threads, ${DURATION} s per run"
for ((round = 1; round <= ROUNDS; round++)); do
    measure throughput "$round" plain 0
    measure throughput "$round" gateway 0
done

# the median of the rounds: one round disturbed by another job does not move it
PLAIN_MAX=$("$PYTHON" -c '
import csv, statistics, sys
rows = [r for r in csv.DictReader(open(sys.argv[1]), delimiter="\t")
        if r["phase"] == "throughput" and r["side"] == "plain"]
print("%.0f" % statistics.median(float(r["rps"]) for r in rows))' "$RESULTS")
RATE=$(awk -v m="$PLAIN_MAX" -v f="$LOAD" 'BEGIN { printf "%d", m * f }')
[ "$RATE" -gt 0 ] || die "the plain proxy's throughput is 0"

say "latency: fixed rate $RATE requests/s ($LOAD x plain throughput $PLAIN_MAX rps, the median), ${DURATION} s per run"
for ((round = 1; round <= ROUNDS; round++)); do
    measure latency "$round" plain "$RATE"
    measure latency "$round" gateway "$RATE"
done

# --- checks ------------------------------------------------------------------------

FAILED=0
fail() { echo "bench_gateway: FAIL: $*" >&2; FAILED=1; }

read -r bad_status bad_socket < <(awk -F'\t' 'NR > 1 { s += $7; k += $8 } END { print s + 0, k + 0 }' "$RESULTS")
for f in "$OUT"/warmup-*.txt; do
    grep -q 'status_errors=0 connect_errors=0 read_errors=0 write_errors=0 timeouts=0' "$f" \
        || fail "errors during $(basename "$f" .txt): $(grep '^BENCH' "$f")"
done
[ "$bad_status" = 0 ] || fail "$bad_status answers with a status >= 400 (see $RESULTS)"
[ "$bad_socket" = 0 ] || fail "$bad_socket socket errors or timeouts (see $RESULTS)"

SIM_STATS=$(curl -sf "$LLMOIN_SIM_URL/sim/stats")
read -r sim_req sim_ok sim_prompt sim_completion plain_req plain_ok auth_headers < <(
    echo "$SIM_STATS" | json_get '" ".join(str(x) for x in [
        d["tenants"]["bench"]["requests"], d["tenants"]["bench"]["ok"],
        d["tenants"]["bench"]["prompt_tokens"], d["tenants"]["bench"]["completion_tokens"],
        d["tenants"].get("", {}).get("requests", 0), d["tenants"].get("", {}).get("ok", 0),
        d["authorization_headers"]])')
[ "$sim_req" = "$sim_ok" ] || fail "infer-sim: $sim_req gateway requests but only $sim_ok answered ok"
[ "$plain_req" = "$plain_ok" ] || fail "infer-sim: $plain_req plain requests but only $plain_ok answered ok"
[ "$auth_headers" = 0 ] || fail "infer-sim saw $auth_headers Authorization headers"

LEDGER_WAIT=$(wait_for_ledger)
read -r led_req led_est led_prompt led_completion < <(ledger_json | json_get '" ".join(str(d["totals"][k]) for k in
    ["requests", "estimated_requests", "prompt_tokens", "completion_tokens"])')
if [ "$LEDGER_WAIT" = timeout ]; then
    fail "the usage ledger did not catch up within $LEDGER_TIMEOUT s: $led_req requests, infer-sim saw $sim_req"
else
    say "usage ledger caught up: $led_req requests = $sim_req gateway requests at infer-sim (after ${LEDGER_WAIT} s)"
fi
# The journal, line by line: what nginx wrote is what the ledger must hold.
# Every 200 must carry the usage infer-sim reported. Requests still in
# flight when a wrk run ends are closed by wrk: nginx logs them as 499 (the
# module bills them by its own rule; they are counted, not judged here).
if [ -r "$LLMOIN_JOURNAL" ]; then
    read -r j_lines j_prompt j_completion j_ok j_ok_prompt j_ok_completion j_est j_other j_other_499 j_bad j_other_desc < <(
        "$PYTHON" - "$LLMOIN_JOURNAL" <<'PY'
import json, sys
from collections import defaultdict
groups = defaultdict(lambda: [0, 0, 0])
bad = 0
with open(sys.argv[1], "rb") as journal:
    for line in journal:
        try:
            r = json.loads(line)
            g = groups[(r["status"], r["usage"])]
            g[0] += 1
            g[1] += int(r["prompt_tokens"] or 0)
            g[2] += int(r["completion_tokens"] or 0)
        except (ValueError, KeyError):
            bad += 1
total = [sum(g[i] for g in groups.values()) for i in range(3)]
ok = groups.get(("200", "reported"), [0, 0, 0])
estimated = sum(g[0] for (status, usage), g in groups.items() if usage == "estimated")
others = {k: g for k, g in groups.items() if k != ("200", "reported")}
desc = ";".join("%s/%s:%d(prompt=%d,completion=%d)" % (k[0], k[1], g[0], g[1], g[2])
                for k, g in sorted(others.items())) or "-"
print(*total, *ok, estimated, sum(g[0] for g in others.values()),
      int(all(status == "499" for status, usage in others)), bad, desc)
PY
    )
    [ "$j_bad" = 0 ] || fail "$j_bad journal lines could not be read"
    [ "$j_lines" = "$led_req" ] || fail "the journal has $j_lines lines, the ledger $led_req requests"
    [ "$j_prompt $j_completion" = "$led_prompt $led_completion" ] \
        || fail "tokens: journal $j_prompt prompt + $j_completion completion, ledger $led_prompt + $led_completion"
    [ "$led_est" = "$j_est" ] || fail "the ledger has $led_est estimated requests, the journal $j_est"
    [ "$j_ok_prompt $j_ok_completion" = "$((j_ok * sim_prompt / sim_req)) $((j_ok * sim_completion / sim_req))" ] \
        || fail "the $j_ok answered requests were billed $j_ok_prompt + $j_ok_completion tokens, infer-sim reported $((sim_prompt / sim_req)) + $((sim_completion / sim_req)) each"
    max_aborted=$(((4 * ROUNDS + 2) * CONNECTIONS))
    if [ "$j_other" -gt "$max_aborted" ] || [ "$j_other_499" != 1 ]; then
        fail "journal lines other than 200/reported: $j_other_desc"
    fi
    say "journal: $j_lines lines = ledger; $j_ok answered (200, usage reported, tokens as infer-sim's), $j_other cut off by wrk at the end of a run: $j_other_desc"
    say "tokens: ledger $led_prompt prompt + $led_completion completion = journal; infer-sim counted $sim_prompt + $sim_completion"
else
    say "the journal $LLMOIN_JOURNAL is not readable: token checks skipped"
fi

ERROR_LOG=$STATE/nginx/logs/error.log
if grep -E '\[(emerg|alert|crit|error)\]|exited on signal' "$ERROR_LOG" >"$OUT/nginx-errors.txt"; then
    fail "nginx logged $(wc -l <"$OUT/nginx-errors.txt") errors, e.g.: $(head -n 1 "$OUT/nginx-errors.txt")"
fi

# --- summary -----------------------------------------------------------------------

echo
echo "llmoin gateway benchmark — $(nproc) CPUs ($(grep -m 1 'model name' /proc/cpuinfo | sed 's/.*: //')), $WORKERS nginx workers"
echo "wrk: $THREADS threads, $CONNECTIONS connections, $ROUNDS rounds x $DURATION s per side and phase; body $(printf %s "$BODY" | wc -c) bytes, max_tokens 16"
echo "other jobs on the machine before the start: ${BACKGROUND}% CPU"
[ "$PAUSE_INGEST" = 0 ] || echo "--pause-ingest: tenantd was stopped during the gateway runs (diagnosis, not the real cost)"
echo
"$PYTHON" - "$RESULTS" "$RATE" "$LOAD" <<'PY'
import csv, statistics, sys

rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
rate, load = sys.argv[2], sys.argv[3]

def values(phase, side, field):
    return [float(r[field]) for r in rows if r["phase"] == phase and r["side"] == side]

def med(phase, side, field):
    return statistics.median(values(phase, side, field))

def line(label, plain, gateway, third=""):
    print(("%-36s %12s %12s %14s" % (label, plain, gateway, third)).rstrip())

print("median of the rounds; in brackets the lowest and highest round")
line("", "plain", "gateway", "gateway-plain")
tp, tg = med("throughput", "plain", "rps"), med("throughput", "gateway", "rps")
line("throughput (requests/s)", "%.0f" % tp, "%.0f" % tg, "ratio %.2f" % (tg / tp))
line("", "[%.0f-%.0f]" % (min(values("throughput", "plain", "rps")), max(values("throughput", "plain", "rps"))),
     "[%.0f-%.0f]" % (min(values("throughput", "gateway", "rps")), max(values("throughput", "gateway", "rps"))))
line("rate of the latency runs (target %s)" % rate,
     "%.0f" % med("latency", "plain", "rps"), "%.0f" % med("latency", "gateway", "rps"))
added = {}
for field, name in (("p50_us", "p50"), ("p99_us", "p99")):
    a, b = med("latency", "plain", field), med("latency", "gateway", field)
    added[name] = b - a
    line("%s at %s load (us)" % (name, load), "%.0f" % a, "%.0f" % b, "%+.0f" % (b - a))
for field, name in (("cpu_nginx_us", "nginx"), ("cpu_sim_us", "infer-sim"), ("cpu_tenantd_us", "tenantd"),
                    ("cpu_pg_us", "postgres"), ("cpu_wrk_us", "wrk")):
    a, b = med("throughput", "plain", field), med("throughput", "gateway", field)
    line("CPU per request, %s (us)" % name, "%.1f" % a, "%.1f" % b, "%+.1f" % (b - a))
other = [float(r["other_cpu_pct"]) for r in rows]
print("other jobs on the machine: %.0f%% of the CPUs on average, %.0f%% at most in one run"
      % (statistics.mean(other), max(other)))
ratio = tg / tp
print("\naims (quota issue): throughput ratio >= 0.6: %.2f (%s); added p99 < 1000 us at half load: %+.0f us (%s)"
      % (ratio, "met" if ratio >= 0.6 else "not met", added["p99"], "met" if added["p99"] < 1000 else "not met"))
PY
echo
echo "per run: $RESULTS"
column -t -s $'\t' "$RESULTS" 2>/dev/null || cat "$RESULTS"
echo

if [ "$FAILED" != 0 ]; then
    die "checks failed (see above)"
fi
say "all checks passed: every request 2xx, infer-sim clean, ledger = infer-sim, nginx error.log clean"
OK=1
