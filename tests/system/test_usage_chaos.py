"""Every request is accounted exactly once while everything around the
gateway fails: 2,000 mixed requests of three tenants (plain answers,
streams with stream_options.include_usage, clients that leave in the middle
of a stream, upstream errors and streams cut by infer-sim) run while tenantd
is killed with SIGKILL twice, PostgreSQL and Redis are restarted once each
and nginx is reloaded once.

What "exactly" means, request by request (the answer's X-Request-Id is the
key of its usage row):

  answered by the upstream: a complete answer, an injected 500/503, a stream
  the upstream cut or the client left
      -> one row in usage_events, and one request at infer-sim
  refused by the gateway: 503 quota_unavailable while Redis is away (the
  tenant with a limit fails closed)
      -> no row, nothing at infer-sim

and per tenant, against infer-sim's own record (GET /sim/stats, split into
complete and cut requests by its per-request access log):

  rows with usage "reported"  = infer-sim's requests that ended ok:
                                count, prompt and completion tokens
  rows with usage "none"      = infer-sim's failed requests (no tokens)
  rows with usage "estimated" = infer-sim's cut streams, the same requests;
                                their tokens are the gateway's estimate and
                                are listed beside what infer-sim sent
"""

import collections
import concurrent.futures
import dataclasses
import datetime
import http.client
import json
import random
import re
import subprocess
import threading
import time
import urllib.parse
from zoneinfo import ZoneInfo

import pytest
import requests

from llmoin_stack import BUILD, SIM_MODEL, reload_nginx, set_limit, sim_config, wait_until

TOTAL = 2000
THREADS = 24
TENANTS = ("chaos-hamburg", "chaos-bremen", "chaos-limited")
LIMITED = "chaos-limited"
# Paced so that a client leaving after a few chunks leaves long before the
# answer's end (at least 17 more tokens, 68 ms), fast enough for 2,000 requests.
SIM_CHAOS = {"tokens_per_second": 250, "ttft_ms": 0, "fail_rate": 0.04, "fail_status": "mixed",
             "cut_rate": 0.04, "cut_after": 3, "answer_tokens": None}
WORDS = ("Haushalt", "Antrag", "Bescheid", "Frist", "Verwaltung", "Bürgeramt", "Gebühr",
         "Stellungnahme", "Vorlage", "Senat", "Referat", "Zuständigkeit", "Akte", "Termin")


# --- infer-sim with a per-request record ----------------------------------------

@pytest.fixture(scope="module")
def sim_log(stack):
    """The node's infer-sim, restarted on its port with --access-log: one
    line per request with its outcome and tokens, so its totals can be split
    into complete and cut requests. The pid file is the stack's, so that
    ops/stack leaves it running and stops it at the end."""
    pid_file = stack.state / "sim" / "infer-sim.pid"
    log = stack.state / "sim" / "access.log"
    stack.ops("stop", "infer-sim")
    subprocess.run(["/bin/sh", "-c",
                    'setsid "$0" --port "$1" --access-log </dev/null >>"$2" 2>&1 & echo $! >"$3"',
                    str(BUILD / "tests" / "infer-sim" / "infer-sim"),
                    stack.env["LLMOIN_SIM_PORT"], str(log), str(pid_file)], check=True, timeout=10)
    wait_until(lambda: _answers(f"{stack.sim_url}/health"), timeout=5, what="infer-sim up")
    yield log
    stack.ops("stop", "infer-sim")
    stack.ops("start")


def _answers(url):
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


SIM_LINE = re.compile(r'tenant="([^"]*)" stream=(\w+) outcome=(\w+)'
                      r' prompt_tokens=(\d+) completion_tokens=(\d+)')


def sim_requests(log):
    """Per tenant and outcome: [requests, prompt tokens, completion tokens]."""
    sums = collections.defaultdict(lambda: [0, 0, 0])
    for tenant, _, outcome, prompt, completion in SIM_LINE.findall(log.read_text()):
        row = sums[tenant, outcome]
        row[0] += 1
        row[1] += int(prompt)
        row[2] += int(completion)
    return sums


# --- the requests -----------------------------------------------------------------

def fnv1a32(text):
    value = 2166136261
    for byte in text.encode():
        value = ((value ^ byte) * 16777619) % 2**32
    return value


@dataclasses.dataclass
class Request:
    """One request of the run and what its client saw."""
    index: int
    tenant: str
    kind: str                # json | stream | leave (a stream its client leaves)
    content: str
    max_tokens: int | None
    leave_after: int | None  # content chunks read before leaving
    status: int = 0
    request_id: str | None = None
    error_code: str | None = None
    # done | failed (upstream error) | refused (by the gateway) | cut (by the
    # upstream) | left (by the client) | unexpected | no answer
    ending: str = ""
    usage: dict | None = None
    chunks: int = 0
    detail: str = ""

    @property
    def body(self):
        fields = {"model": SIM_MODEL, "messages": [{"role": "user", "content": self.content}]}
        if self.kind != "json":
            fields.update(stream=True, stream_options={"include_usage": True})
        if self.max_tokens:
            fields["max_tokens"] = self.max_tokens
        return json.dumps(fields, separators=(",", ":")).encode()

    @property
    def rule_usage(self):
        """prompt and completion tokens by infer-sim's documented token rule."""
        natural = 20 + fnv1a32(self.content) % 41
        return (len(self.content.split()) + 1,
                min(natural, self.max_tokens) if self.max_tokens else natural)

    @property
    def upstream_answered(self):
        return self.ending in ("done", "failed", "cut", "left")


def plan(seed=20261129):
    rng = random.Random(seed)
    planned = []
    for index in range(TOTAL):
        kind = rng.choices(("json", "stream", "leave"), weights=(40, 45, 15))[0]
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 25)))
        max_tokens = rng.choice((None, None, rng.randint(5, 60))) if kind != "leave" else None
        planned.append(Request(index, TENANTS[index % len(TENANTS)], kind,
                               f"Chaos-Anfrage {index}: {words}", max_tokens,
                               rng.randint(1, 3) if kind == "leave" else None))
    return planned


def read_stream(response, request):
    """Reads SSE events up to [DONE], or until the client means to leave."""
    try:
        while line := response.readline():
            if not line.startswith(b"data: "):
                continue
            data = line[len(b"data: "):].strip()
            if data == b"[DONE]":
                request.ending = "done"
                return
            event = json.loads(data)
            if event.get("usage"):
                request.usage = event["usage"]
            if event["choices"] and event["choices"][0]["delta"].get("content"):
                request.chunks += 1
            if request.leave_after and request.chunks >= request.leave_after:
                request.ending = "left"  # the caller closes the connection now
                return
    except (http.client.HTTPException, OSError, ValueError) as error:
        request.detail = repr(error)
    request.ending = "cut"


def send(url, secret, request):
    """Sends one request on a connection of its own and records what came back."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("POST", "/v1/chat/completions", body=request.body,
                           headers={"Authorization": f"Bearer {secret}",
                                    "Content-Type": "application/json"})
        response = connection.getresponse()
        request.status = response.status
        request.request_id = response.getheader("X-Request-Id")
        if response.status == 200 and request.kind == "json":
            request.usage = json.loads(response.read())["usage"]
            request.ending = "done"
        elif response.status == 200:
            read_stream(response, request)
        else:
            request.error_code = (json.loads(response.read()).get("error") or {}).get("code")
            request.ending = {"injected_fault": "failed",
                              "quota_unavailable": "refused"}.get(request.error_code, "unexpected")
    except (http.client.HTTPException, OSError, ValueError) as error:
        request.ending = request.ending or "no answer"
        request.detail = repr(error)
    finally:
        connection.close()
    return request


# --- the chaos --------------------------------------------------------------------

class Chaos:
    """The faults, one after another, each when enough requests finished.
    A request this far past a fault's start waits for the fault to be over,
    so that every fault happens while requests run, however slow the machine."""

    LEAD = 300

    def __init__(self, stack, planned):
        self.stack = stack
        self.planned = planned
        self.finished = 0
        self.lock = threading.Lock()
        self.steps = [(150, "kill -9 tenantd", stack.kill_tenantd),
                      (450, "restart PostgreSQL", lambda: stack.restart("postgres")),
                      (800, "restart Redis", self.restart_redis),
                      (1150, "reload nginx", lambda: reload_nginx(stack)),
                      (1500, "kill -9 tenantd", stack.kill_tenantd)]
        self.done = [threading.Event() for _ in self.steps]
        self.log = []

    def refused(self):
        return sum(1 for request in self.planned if request.ending == "refused")

    def restart_redis(self):
        """Stops Redis until the gateway refused a few requests of the tenant
        with a limit, then starts it again."""
        before = self.refused()
        self.stack.ops("stop", "redis")
        try:
            wait_until(lambda: self.refused() >= before + 5, timeout=10,
                       what="requests refused while Redis is away")
        finally:
            self.stack.ops("start")

    def request_finished(self):
        with self.lock:
            self.finished += 1

    def wait_turn(self, index):
        for (threshold, name, _), done in zip(self.steps, self.done):
            if index >= threshold + self.LEAD:
                assert done.wait(timeout=120), f"{name} did not end"

    def run(self):
        for (threshold, name, action), done in zip(self.steps, self.done):
            wait_until(lambda: self.finished >= threshold, timeout=120,
                       what=f"{threshold} requests finished before {name}")
            started, at = time.monotonic(), self.finished
            try:
                action()
            finally:
                self.log.append((name, at, self.finished, time.monotonic() - started))
                done.set()


def run_requests(stack, secrets, planned):
    chaos = Chaos(stack, planned)

    def one(request):
        chaos.wait_turn(request.index)
        send(stack.url, secrets[request.tenant], request)
        chaos.request_finished()

    with concurrent.futures.ThreadPoolExecutor(1) as chaos_thread:
        faults = chaos_thread.submit(chaos.run)
        with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(one, planned))
        faults.result()
    return chaos.log


# --- the ledger -------------------------------------------------------------------

def ledger_rows(stack):
    """(request id, tenant, status, usage source, prompt, completion) per row."""
    return stack.sql("SELECT u.request_id, t.slug, u.status, u.usage_source, u.prompt_tokens,"
                     " u.completion_tokens FROM usage_events u JOIN tenants t"
                     " ON t.id = u.tenant_id WHERE t.slug = ANY(%s)", list(TENANTS))


def ledger_sums(rows):
    """Per tenant and usage source: [rows, prompt tokens, completion tokens]."""
    sums = collections.defaultdict(lambda: [0, 0, 0])
    for _, tenant, _, source, prompt, completion in rows:
        row = sums[tenant, source]
        row[0] += 1
        row[1] += prompt
        row[2] += completion
    return sums


def row_contradiction(request, row):
    """What in a request's row contradicts what its client saw, or None."""
    _, tenant, status, source, prompt, completion = row
    seen = (tenant, status, source)
    if request.ending == "done":
        reported = (request.usage["prompt_tokens"], request.usage["completion_tokens"])
        expected = (request.tenant, 200, "reported", *request.rule_usage)
        if (tenant, status, source, prompt, completion) == expected \
                and reported == request.rule_usage:
            return None
        return f"complete answer with usage {request.usage}, token rule {request.rule_usage}"
    if request.ending == "failed":
        expected = (request.tenant, request.status, "none", 0, 0)
        return None if (*seen, prompt, completion) == expected else "upstream error"
    if request.ending == "cut":
        # billed from the chunks the gateway saw, which are those it passed on
        if (*seen, completion) == (request.tenant, 200, "estimated", request.chunks):
            return None
        return f"cut by the upstream after {request.chunks} chunks"
    # the gateway passed on at least the chunks this client read
    if seen == (request.tenant, 200, "estimated") and completion >= request.chunks:
        return None
    if left_after_the_answer(request, row):
        return None
    return f"left by the client after {request.chunks} chunks"


def left_after_the_answer(request, row):
    """A client that left when the whole answer had already gone out: the
    gateway saw its usage (and infer-sim counts it complete)."""
    _, tenant, status, source, prompt, completion = row
    return request.ending == "left" and (tenant, status, source, prompt, completion) \
        == (request.tenant, 200, "reported", *request.rule_usage)


def estimated_report(planned, rows_by_id, sim):
    """The estimated rows named: per tenant and cause, the requests and
    their tokens, beside what infer-sim sent for its cut streams."""
    lines = []
    for tenant in TENANTS:
        for cause, what in (("cut", "cut by infer-sim"), ("left", "left by the client")):
            named = [r for r in planned if r.tenant == tenant and r.ending == cause
                     and rows_by_id[r.request_id][3] == "estimated"]
            prompt = sum(rows_by_id[r.request_id][4] for r in named)
            completion = sum(rows_by_id[r.request_id][5] for r in named)
            lines.append(f"{tenant}: {len(named)} estimated rows, streams {what}: prompt {prompt},"
                         f" completion {completion}: "
                         + " ".join(f"{r.request_id}({r.chunks} chunks)" for r in named))
        sent = sim[tenant, "cut"]
        lines.append(f"{tenant}: infer-sim cut {sent[0]} streams: prompt {sent[1]},"
                     f" completion {sent[2]} (tokens infer-sim sent)")
    return "\n".join(lines)


def verify(stack, tenant):
    """llmoinctl usage verify over the days around today, as JSON."""
    today = datetime.datetime.now(ZoneInfo("Europe/Berlin")).date()
    day = datetime.timedelta(days=1)
    result = stack.ctl("usage", "verify", tenant, "--from", str(today - day), "--to",
                       str(today + day), "--against", stack.sim_url, "--output", "json",
                       check=False)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


# --- the test ---------------------------------------------------------------------

@pytest.fixture
def chaos_sim(stack, sim_log):
    sim_config(stack, **SIM_CHAOS)
    yield sim_log
    sim_config(stack, tokens_per_second=0, fail_rate=0.0, cut_rate=0.0)


def test_every_request_is_accounted_once_through_kills_and_restarts(stack, chaos_sim):
    secrets = {tenant: stack.onboard(tenant)[1] for tenant in TENANTS}
    # a limit never reached: every request of this tenant goes through Redis
    set_limit(stack, LIMITED, "tenant", rpm=10**6)
    planned = plan()

    started = time.monotonic()
    chaos_log = run_requests(stack, secrets, planned)
    elapsed = time.monotonic() - started

    endings = collections.Counter((r.tenant, r.ending) for r in planned)
    summary = (f"{TOTAL} requests in {elapsed:.1f} s; faults (name, finished at start, at end,"
               f" seconds): {chaos_log}; endings: {sorted(endings.items())}")
    print(summary)
    # every fault happened while requests were still being sent
    assert len(chaos_log) == 5 and all(end < TOTAL for _, _, end, _ in chaos_log), summary
    strays = [(r.index, r.tenant, r.ending, r.status, r.error_code, r.detail) for r in planned
              if r.ending in ("unexpected", "no answer")]
    assert strays == [], summary
    refused = [r for r in planned if r.ending == "refused"]
    assert refused and {(r.tenant, r.status) for r in refused} == {(LIMITED, 503)}, summary
    assert all(r.request_id for r in planned), "an answer without X-Request-Id"
    answered = {r.request_id: r for r in planned if r.upstream_answered}

    # infer-sim knows how every request ended, and tenantd has ingested every row
    wait_until(lambda: all(s["requests"] == s["ok"] + s["failed"] + s["cut"]
                           for s in stack.sim_stats()["tenants"].values()),
               timeout=10, what="infer-sim knows how every request ended")
    wait_until(lambda: len(ledger_rows(stack)) >= len(answered), timeout=60,
               what=f"{len(answered)} usage rows ingested")
    time.sleep(1.0)  # a row too many would show up now
    rows = ledger_rows(stack)

    # every answered request once, by its request id; no refused one
    ids = collections.Counter(row[0] for row in rows)
    assert [i for i, n in ids.items() if n > 1] == [], "request ids counted twice"
    assert set(ids) == set(answered), (f"{len(set(ids) - set(answered))} rows of no answered"
                                       f" request, {len(set(answered) - set(ids))} answered"
                                       " requests without a row")
    assert not set(ids) & {r.request_id for r in refused}

    # every row says what its client saw
    rows_by_id = {row[0]: row for row in rows}
    problems = {i: row_contradiction(r, rows_by_id[i]) for i, r in answered.items()}
    wrong = [(i, rows_by_id[i], problem) for i, problem in problems.items() if problem]
    assert wrong == [], f"{len(wrong)} rows contradict their answers: {wrong[:10]}"
    left_late = [i for i, r in answered.items() if left_after_the_answer(r, rows_by_id[i])]

    # per tenant, against infer-sim's record
    sim_stats = stack.sim_stats()["tenants"]
    sim = sim_requests(chaos_sim)
    ledger = ledger_sums(rows)
    named = estimated_report(planned, rows_by_id, sim)
    print(named, f"\nclients that left after the whole answer was out: {left_late}", sep="")
    for tenant in TENANTS:
        stats = sim_stats[tenant]
        ok, failed, cut = sim[tenant, "ok"], sim[tenant, "failed"], sim[tenant, "cut"]
        # infer-sim's two records agree
        assert (stats["ok"], stats["failed"], stats["cut"]) == (ok[0], failed[0], cut[0])
        assert (stats["prompt_tokens"], stats["completion_tokens"]) \
            == (ok[1] + cut[1], ok[2] + cut[2]), tenant
        assert sim[tenant, "aborted"][0] == 0

        assert stats["requests"] == sum(1 for r in answered.values() if r.tenant == tenant)
        assert ledger[tenant, "reported"] == ok, (
            f"{tenant}: reported rows (requests, prompt, completion) {ledger[tenant, 'reported']}"
            f" but infer-sim answered {ok} completely")
        assert ledger[tenant, "none"] == [failed[0], 0, 0], tenant
        assert ledger[tenant, "estimated"][0] == cut[0], f"{tenant}:\n{named}"
        # the gateway cannot have seen more chunks than infer-sim sent
        assert ledger[tenant, "estimated"][2] <= cut[2], f"{tenant}:\n{named}"

        # llmoinctl usage verify reads the report (the rollups) and finds the
        # same: no request missing, tokens apart by the estimates alone
        verified = verify(stack, tenant)
        ledger_row, _, difference = verified["rows"]
        totals = [sum(ledger[tenant, source][k] for source in ("reported", "none", "estimated"))
                  for k in range(3)]
        assert [ledger_row[k] for k in ("requests", "prompt_tokens", "completion_tokens")] \
            == totals, f"{tenant}: the report's totals differ from usage_events"
        estimated = ledger[tenant, "estimated"]
        assert [difference[k] for k in ("requests", "prompt_tokens", "completion_tokens")] \
            == [0, estimated[1] - cut[1], estimated[2] - cut[2]]
