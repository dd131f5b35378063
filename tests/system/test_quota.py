"""Quotas at the gateway: every request is reserved atomically in Redis
before it goes upstream (requests and tokens per minute, requests in flight,
tokens per Berlin month, per tenant, group, user and key), settled by its
real usage when it ends, and refused with OpenAI-shaped 429s.

Every count here is exact where the contract is exact: a limit of N admits
N, infer-sim's ledger (GET /sim/stats) is the independent witness of what
was served, and the usage journal (usage_events) of what was admitted.
Limits are set with SQL (the limits table; a trigger re-renders the tenant
snapshot) and a change is waited for until every nginx worker logged the
new snapshot. Each test uses its own tenant, so Redis counters never mix.

The reservation rule the budget tests check (nginx-module/
ngx_http_llmoin_quota.c): estimate = ceil(request body bytes / 4) +
max_tokens (the tenant's cap when the request names none); a request is
admitted only if used + estimate <= limit for every limit that applies;
when the answer is complete (or the request ends otherwise) the real usage
replaces the estimate and the request's in-flight slot is freed, and an
answer that frees a slot reaches the client only after Redis confirmed it.
"""

import collections
import concurrent.futures
import contextlib
import datetime
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from zoneinfo import ZoneInfo

import pytest
import requests

from llmoin_stack import (BUILD, SIM_DEFAULTS, SIM_MODEL, ExtraNginx, quota_key, quota_status,
                          redis_client, set_clock_offset, set_limit, sim_config,
                          snapshot_tenant, tenant_id, wait_snapshot_applied, wait_until)

BERLIN = ZoneInfo("Europe/Berlin")


# --- helpers -------------------------------------------------------------------

def chat_body(content, **fields):
    """A chat request body as the exact bytes sent (so its estimate is known)."""
    body = {"model": SIM_MODEL, "messages": [{"role": "user", "content": content}], **fields}
    return json.dumps(body, separators=(",", ":")).encode()


def estimate(body, max_tokens):
    """The gateway's reservation for a body that asks for max_tokens."""
    return -(-len(body) // 4) + max_tokens


def post(url, credential, body, stream=False, timeout=30):
    return requests.post(f"{url}/v1/chat/completions", data=body, stream=stream, timeout=timeout,
                         headers={"Authorization": f"Bearer {credential}",
                                  "Content-Type": "application/json"})


def error_of(response, status, kind, code):
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert (error["type"], error["code"], error["param"]) == (kind, code, None), error
    return error


def read_stream(response):
    """The data events of an SSE answer and the usage it reported."""
    events = [line[len("data: "):] for line in response.iter_lines(decode_unicode=True)
              if line.startswith("data: ")]
    assert events and events[-1] == "[DONE]", events[-3:]
    usage = [json.loads(event)["usage"] for event in events[:-1]
             if json.loads(event).get("usage")]
    assert len(usage) == 1, usage
    return usage[0]


def read_until_done(response):
    """Reads an SSE answer up to data: [DONE], as OpenAI's clients do, and
    leaves the rest unread."""
    for line in response.iter_lines(decode_unicode=True):
        if line == "data: [DONE]":
            return True
    return False


def window_sum(rds, key):
    """What a per-minute window holds: the sum of its per-second buckets,
    which must be the running total "n" the scripts keep beside them."""
    fields = rds.hgetall(key)
    buckets = sum(int(value) for field, value in fields.items() if field.isdigit())
    assert int(fields.get("n", 0)) == buckets, fields
    return buckets


def counter(rds, key):
    return int(rds.get(key) or 0)


def limits_of(stack, credential):
    answer = quota_status(stack, credential)
    assert answer.status_code == 200, answer.text
    return answer.json(), {(row["scope"], row["subject"], row["kind"]): row
                           for row in answer.json()["limits"]}


def journal_rows(stack, slug, columns="u.status, u.quota"):
    return stack.sql(f"SELECT {columns} FROM usage_events u JOIN tenants t ON t.id = u.tenant_id"
                     " WHERE t.slug = %s ORDER BY u.ts", slug)


def wait_ledger(stack, slug, count, timeout=10):
    wait_until(lambda: stack.ledger(slug)[0] >= count, timeout=timeout,
               what=f"{count} usage rows of {slug} ingested")
    time.sleep(0.3)  # a row too many would show up now
    assert stack.ledger(slug)[0] == count


def berlin_month(unix_seconds):
    return datetime.datetime.fromtimestamp(unix_seconds, BERLIN).strftime("%Y-%m")


def month_start(year, month):
    """The instant a Berlin calendar month begins."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return int(datetime.datetime(year, month, 1, tzinfo=BERLIN).timestamp())


def concurrently(count, threads, task):
    """Runs task(i) for i in range(count) on `threads` threads, the first
    `threads` of them released together."""
    barrier = threading.Barrier(min(threads, count))

    def run(i):
        if i < threads:
            barrier.wait(timeout=30)
        return task(i)
    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(run, range(count)))


def wait_tenant_applied(stack, slug, **settings):
    """Waits until every nginx worker has a snapshot with these tenant settings."""
    wait_snapshot_applied(stack, lambda snapshot: all(
        (snapshot_tenant(snapshot, slug) or {}).get(name) == value
        for name, value in settings.items()))


@pytest.fixture(autouse=True)
def plain_sim(stack):
    """infer-sim unpaced and without faults before and after every test."""
    sim_config(stack, **SIM_DEFAULTS)
    yield
    sim_config(stack, **SIM_DEFAULTS)


@pytest.fixture
def rds(stack):
    client = redis_client(stack)
    yield client
    client.close()


# --- 1. a burst against a per-user requests-per-minute limit --------------------

def test_200_concurrent_requests_against_10_per_minute_admit_exactly_10(stack, rds):
    slug = "rpm-burst"
    _, secret = stack.onboard(slug, "alice")
    set_limit(stack, slug, "user", "alice", rpm=10)
    body = chat_body("Wie wird das Wetter morgen?", max_tokens=5)

    responses = concurrently(200, 50, lambda i: post(stack.url, secret, body))

    statuses = collections.Counter(response.status_code for response in responses)
    assert statuses == {200: 10, 429: 190}
    admitted = [r for r in responses if r.status_code == 200]
    # one atomic reservation each: every admitted request saw its own place
    assert sorted(int(r.headers["x-ratelimit-remaining-requests"]) for r in admitted) == list(range(10))
    assert {r.headers["x-ratelimit-limit-requests"] for r in admitted} == {"10"}
    for response in responses:
        if response.status_code != 429:
            continue
        error = error_of(response, 429, "requests", "rate_limit_exceeded")
        assert "requests per minute (user alice): limit 10, in use 10." in error["message"]
        retry = int(response.headers["Retry-After"])
        assert 1 <= retry <= 60
        assert response.headers["x-ratelimit-limit-requests"] == "10"
        assert response.headers["x-ratelimit-remaining-requests"] == "0"
        assert response.headers["x-ratelimit-reset-requests"] == f"{retry}s"
        assert "x-ratelimit-limit-tokens" not in response.headers

    assert stack.sim_tenant(slug)["requests"] == 10
    tenant = tenant_id(stack, slug)
    assert window_sum(rds, quota_key(tenant, "r", "user", "alice")) == 10
    wait_ledger(stack, slug, 10)
    assert set(journal_rows(stack, slug)) == {(200, "checked")}


# --- 2. two gateways share one Redis ------------------------------------------

def test_two_gateways_on_one_redis_admit_exactly_the_limit_together(stack, rds):
    slug = "two-gateways"
    _, secret = stack.onboard(slug, "alice")
    tenant = tenant_id(stack, slug)
    second = ExtraNginx(stack).start()
    try:
        set_limit(stack, slug, "user", "alice", rpm=15, prefixes=[second.prefix])
        assert second.url != stack.url
        urls = [stack.url, second.url]
        body = chat_body("Zwei Gateways, ein Kontingent.", max_tokens=5)

        responses = concurrently(100, 50, lambda i: (i % 2, post(urls[i % 2], secret, body)))
    finally:
        second.stop()

    by_gateway = collections.Counter((gateway, r.status_code) for gateway, r in responses)
    admitted = [r for _, r in responses if r.status_code == 200]
    assert len(admitted) == 15, by_gateway
    assert sum(1 for _, r in responses if r.status_code == 429) == 85, by_gateway
    assert sorted(int(r.headers["x-ratelimit-remaining-requests"]) for r in admitted) == list(range(15))
    for _, response in responses:
        if response.status_code == 429:
            error_of(response, 429, "requests", "rate_limit_exceeded")
    assert stack.sim_tenant(slug)["requests"] == 15
    assert window_sum(rds, quota_key(tenant, "r", "user", "alice")) == 15

    # each gateway journaled exactly what it admitted
    def journaled(path):
        return sum(1 for line in path.read_text().splitlines()
                   if json.loads(line)["tenant_id"] == str(tenant))
    assert journaled(second.journal) == by_gateway[(1, 200)]
    assert journaled(stack.state / "log" / "usage.journal") == by_gateway[(0, 200)]
    wait_ledger(stack, slug, by_gateway[(0, 200)])


# --- 3. concurrent streams against a monthly budget -----------------------------

@pytest.mark.parametrize("shape", ["prose", "dense"])
def test_concurrent_streams_spend_no_more_of_a_monthly_budget_than_the_rule_allows(stack, rds, shape):
    """prose: infer-sim counts fewer tokens than the estimate, so what it
    serves never exceeds the budget. dense (one-letter words): the real
    prompt exceeds the estimate by d tokens, so the overshoot is at most d
    for each request in flight when the last one was admitted."""
    slug = f"budget-{shape}"
    budget, max_tokens, threads, count = 600, 8, 16, 80
    _, secret = stack.onboard(slug, "alice")
    tenant = tenant_id(stack, slug)
    set_limit(stack, slug, "tenant", "", monthly_tokens=budget)
    month = limits_of(stack, secret)[0]["month"]
    month_key = quota_key(tenant, "m", "tenant", "", month)
    sim_config(stack, tokens_per_second=20, ttft_ms=100)

    def body(i):
        content = f"Bitte kurz antworten {i:03d}" if shape == "prose" else "a " * 100 + f"{i:03d}"
        return chat_body(content, stream=True, stream_options={"include_usage": True},
                         max_tokens=max_tokens)
    reserved = estimate(body(0), max_tokens)
    assert {estimate(body(i), max_tokens) for i in range(count + 100)} == {reserved}

    def one(i):
        response = post(stack.url, secret, body(i), stream=True)
        if response.status_code == 200:
            return 200, read_stream(response)
        return response.status_code, response

    results = concurrently(count, threads, one)

    refused = [r for status, r in results if status == 429]
    usages = [usage for status, usage in results if status == 200]
    assert len(refused) + len(usages) == count, collections.Counter(s for s, _ in results)
    assert refused and usages
    for response in refused:
        error = error_of(response, 429, "insufficient_quota", "insufficient_quota")
        assert f"tokens this month (tenant): limit {budget}" in error["message"]
        assert int(response.headers["Retry-After"]) >= 1
    real = {usage["total_tokens"] for usage in usages}
    excess = max(real) - reserved
    if shape == "prose":
        assert excess <= 0, (real, reserved)
    else:
        assert excess > 0 and len(real) == 1, (real, reserved)

    served = stack.sim_tenant(slug)
    spent = served["prompt_tokens"] + served["completion_tokens"]
    assert served["requests"] == len(usages)
    assert spent == sum(usage["total_tokens"] for usage in usages)
    assert spent <= budget + threads * max(0, excess), (spent, budget, excess)
    # settlement replaced every estimate by the real usage
    wait_until(lambda: counter(rds, month_key) == spent, timeout=2,
               what=f"monthly counter settled at {spent}")

    # one at a time, the rule is exact: admitted iff used + estimate <= budget
    used, admitted = spent, 0
    for i in range(count, count + 100):
        response = post(stack.url, secret, body(i), stream=True)
        if used + reserved > budget:
            error_of(response, 429, "insufficient_quota", "insufficient_quota")
            assert f"limit {budget}, in use {used}." in response.json()["error"]["message"]
            break
        assert response.status_code == 200, (used, reserved, response.text)
        used += read_stream(response)["total_tokens"]
        admitted += 1
        wait_until(lambda: counter(rds, month_key) == used, timeout=2, what="settled")
    else:
        pytest.fail("the budget was never spent")

    served = stack.sim_tenant(slug)
    assert served["prompt_tokens"] + served["completion_tokens"] == used
    if shape == "prose":
        assert used <= budget
    _, rows = limits_of(stack, secret)
    assert rows[("tenant", "", "monthly_tokens")] == {
        "scope": "tenant", "subject": "", "kind": "monthly_tokens", "limit": budget,
        "used": used, "remaining": max(0, budget - used)}
    wait_ledger(stack, slug, len(usages) + admitted)
    assert sum(stack.ledger(slug)[1:]) == used


# --- 4. in-flight slots come back on every ending ---------------------------------

def open_stream(stack, secret, body, chunks=3):
    """A raw HTTP/1.1 streaming request; returns the socket once `chunks`
    content chunks arrived."""
    host, port = stack.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: " + host.encode()
                 + b"\r\nAuthorization: Bearer " + secret.encode()
                 + b"\r\nContent-Type: application/json\r\nContent-Length: "
                 + str(len(body)).encode() + b"\r\n\r\n" + body)
    received = b""
    while received.count(b'"content":"') < chunks + 1:  # the role chunk has content ""
        data = sock.recv(65536)
        assert data, received
        received += data
    assert received.startswith(b"HTTP/1.1 200"), received[:200]
    return sock


def test_in_flight_slots_are_released_on_every_ending(stack, rds):
    slug, limit = "slots", 3
    _, secret = stack.onboard(slug, "alice")
    tenant = tenant_id(stack, slug)
    # a budget too large to matter: its counter shows what each ending settled
    set_limit(stack, slug, "user", "alice", concurrent=limit, monthly_tokens=10**9)
    slots = quota_key(tenant, "c", "user", "alice")
    month = quota_key(tenant, "m", "user", "alice", limits_of(stack, secret)[0]["month"])
    body = chat_body("Wie viele gleichzeitig?", max_tokens=20)
    stream_body = chat_body("Eine lange Antwort bitte.", stream=True, max_tokens=200)

    def in_flight():
        return rds.zcard(slots)

    admitted = [0]

    def released(after, count):
        admitted[0] += count
        wait_until(lambda: in_flight() == 0, timeout=2, what=f"every slot free after {after}")
        _, rows = limits_of(stack, secret)
        assert rows[("user", "alice", "concurrent_requests")]["used"] == 0, after
        # every estimate was replaced by what the journal says was used:
        # reported, estimated for cut streams, the prompt for 499, 0 for errors
        wait_until(lambda: stack.ledger(slug)[0] == admitted[0], timeout=10,
                   what=f"{admitted[0]} usage rows after {after}")
        _, prompt, completion = stack.ledger(slug)
        assert counter(rds, month) == prompt + completion, after

    def fill_and_refuse_one_more():
        wait_until(lambda: in_flight() == limit, timeout=5, what=f"{limit} requests in flight")
        error = error_of(post(stack.url, secret, body), 429, "concurrent", "rate_limit_exceeded")
        assert f"requests at the same time (user alice): limit {limit}, in use {limit}." \
            in error["message"]

    # (a) successful requests; the limit holds while they run
    sim_config(stack, ttft_ms=1500)
    with concurrent.futures.ThreadPoolExecutor(limit) as pool:
        running = [pool.submit(post, stack.url, secret, body) for _ in range(limit)]
        fill_and_refuse_one_more()
        assert [future.result().status_code for future in running] == [200] * limit
    released("successful requests", limit)

    # (b) upstream errors
    sim_config(stack, ttft_ms=0, fail_rate=1.0)
    for _ in range(limit + 2):
        assert post(stack.url, secret, body).status_code in (500, 503)
    released("upstream errors", limit + 2)

    # (c) clients that go away in the middle of a stream
    sim_config(stack, fail_rate=0.0, tokens_per_second=5, answer_tokens=200)
    cut_before = stack.sim_tenant(slug)["cut"]
    sockets = [open_stream(stack, secret, stream_body) for _ in range(limit)]
    fill_and_refuse_one_more()
    for sock in sockets:
        sock.close()
    released("clients gone mid-stream", limit)
    wait_until(lambda: stack.sim_tenant(slug)["cut"] == cut_before + limit, timeout=3,
               what="infer-sim saw the streams end early")

    # (d) streams cut by the upstream
    sim_config(stack, tokens_per_second=0, cut_rate=1.0, cut_after=3)
    for _ in range(limit + 1):
        response = post(stack.url, secret, stream_body, stream=True)
        assert response.status_code == 200
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            list(response.iter_lines())
    released("streams cut by the upstream", limit + 1)

    # (e) clients that time out before any answer
    sim_config(stack, cut_rate=0.0, ttft_ms=3000)

    def impatient(_):
        with pytest.raises(requests.exceptions.Timeout):
            post(stack.url, secret, body, timeout=0.5)
    concurrently(limit, limit, impatient)
    released("client timeouts", limit)

    # (f) the pool unreachable (502 from nginx's error page)
    stack.ops("stop", "infer-sim")
    try:
        for _ in range(limit + 1):
            error_of(post(stack.url, secret, body), 502, "server_error", "upstream_unavailable")
    finally:
        stack.ops("start")
    released("502 answers", limit + 1)

    # the whole allowance is usable again
    sim_config(stack, ttft_ms=1000)
    with concurrent.futures.ThreadPoolExecutor(limit) as pool:
        running = [pool.submit(post, stack.url, secret, body) for _ in range(limit)]
        fill_and_refuse_one_more()
        assert [future.result().status_code for future in running] == [200] * limit
    released("the last round", limit)


# --- 5. the month rolls over at midnight in Berlin -------------------------------

def month_boundary(summer):
    """The first Berlin month start at least two months ahead at which
    Berlin is UTC+2 (summer) or UTC+1: the month that ends there differs
    from the real one, so answers of reloaded workers are recognisable."""
    today = datetime.datetime.now(BERLIN)
    for ahead in range(2, 16):
        start = month_start(today.year, today.month + ahead)
        offset = datetime.datetime.fromtimestamp(start, BERLIN).utcoffset()
        if offset == datetime.timedelta(hours=2 if summer else 1):
            return start
    raise AssertionError("no such month start")


@pytest.mark.parametrize("season", ["winter", "summer"])
def test_monthly_budget_starts_afresh_at_midnight_in_berlin(stack, rds, season):
    slug = f"rollover-{season}"
    _, secret = stack.onboard(slug, "alice")
    tenant = tenant_id(stack, slug)
    body = chat_body("Ein kleines Budget, bitte.", max_tokens=5)
    reserved = estimate(body, 5)
    # room for exactly one request: it settles at its real usage (> 0), and
    # then used + estimate exceeds the budget until the month ends
    set_limit(stack, slug, "user", "alice", monthly_tokens=reserved)

    midnight = month_boundary(season == "summer")
    old_month, new_month = berlin_month(midnight - 1), berlin_month(midnight)
    following = month_start(int(new_month[:4]), int(new_month[5:]) + 1)
    # UTC still has the old month for an hour or two: only Berlin's counts
    assert datetime.datetime.fromtimestamp(midnight, datetime.timezone.utc).month \
        == int(old_month[5:])
    lead = 8.0
    offset = round(midnight - lead - time.time())
    try:
        set_clock_offset(stack, offset)
        shifted_midnight = midnight - offset  # real time at which the gateway's month ends

        status, rows = limits_of(stack, secret)
        assert (status["month"], status["month_ends_at"]) == (old_month, midnight)
        first = post(stack.url, secret, body)
        assert first.status_code == 200, first.text
        spent = first.json()["usage"]["total_tokens"]
        assert 0 < spent < reserved
        old_key = quota_key(tenant, "m", "user", "alice", old_month)
        wait_until(lambda: counter(rds, old_key) == spent, timeout=2, what="first request settled")

        refused = post(stack.url, secret, body)
        assert time.time() < shifted_midnight, "the setup took longer than the lead of the clock"
        error = error_of(refused, 429, "insufficient_quota", "insufficient_quota")
        assert f"tokens this month (user alice): limit {reserved}, in use {spent}." in error["message"]
        assert 1 <= int(refused.headers["Retry-After"]) <= lead + 1

        # the same user is admitted again once the (shifted) clock passes midnight
        answers = []

        def admitted():
            response = post(stack.url, secret, body)
            answers.append((time.time(), response))
            return response.status_code == 200
        wait_until(admitted, timeout=lead + 5, interval=0.2, what="admitted in the new month")
        for _, response in answers[:-1]:
            error_of(response, 429, "insufficient_quota", "insufficient_quota")
        assert answers[-1][0] >= shifted_midnight - 0.05
        again = answers[-1][1].json()["usage"]["total_tokens"]

        new_key = quota_key(tenant, "m", "user", "alice", new_month)
        wait_until(lambda: counter(rds, new_key) == again, timeout=2, what="new month settled")
        assert counter(rds, old_key) == spent
        status, rows = limits_of(stack, secret)
        assert (status["month"], status["month_ends_at"]) == (new_month, following)
        assert rows[("user", "alice", "monthly_tokens")]["used"] == again
    finally:
        set_clock_offset(stack, 0)
    assert limits_of(stack, secret)[0]["month"] == berlin_month(time.time())


# --- 6. limits changed while traffic runs ---------------------------------------

def test_a_limit_changed_with_llmoinctl_applies_within_2s(stack):
    slug = "limit-change"
    _, secret = stack.onboard(slug, "alice")
    set_limit(stack, slug, "user", "alice", rpm=100)
    body = chat_body("Grenzen ändern sich.", max_tokens=5)
    for _ in range(5):
        assert post(stack.url, secret, body).status_code == 200

    def change(rpm):
        stack.ctl("limits", "set", slug, "--user", "alice", "--rpm", str(rpm))
        return time.monotonic()

    def first(status, since):
        # (a Response with an error status is falsy: wrap it)
        response, = wait_until(lambda: (lambda r: (r,) if r.status_code == status else None)(
            post(stack.url, secret, body)), timeout=2.0, interval=0.05,
            what=f"a {status} after the change")
        assert time.monotonic() - since <= 2.0
        return response

    lowered = change(2)
    refusal = first(429, lowered)
    error_of(refusal, 429, "requests", "rate_limit_exceeded")
    assert refusal.headers["x-ratelimit-limit-requests"] == "2"
    time.sleep(max(0.0, lowered + 2.0 - time.monotonic()))
    for _ in range(10):
        response = post(stack.url, secret, body)
        error_of(response, 429, "requests", "rate_limit_exceeded")
        assert response.headers["x-ratelimit-limit-requests"] == "2"

    raised = change(100)
    admitted = first(200, raised)
    assert admitted.headers["x-ratelimit-limit-requests"] == "100"
    time.sleep(max(0.0, raised + 2.0 - time.monotonic()))
    for _ in range(10):
        response = post(stack.url, secret, body)
        assert response.status_code == 200, response.text
        assert response.headers["x-ratelimit-limit-requests"] == "100"


# --- 7. Redis goes away in the middle of a run ----------------------------------

def run_through_redis_outage(stack, secret, slug, while_down=lambda: None):
    """Four clients send requests while Redis is stopped and started again.
    Returns [(monotonic time answered, response)], and the times Redis was
    stopped, was being started, was up again and the gateway checked again."""
    body = chat_body("Läuft Redis noch?", max_tokens=5)
    results, stop = [], threading.Event()
    lock = threading.Lock()

    def client():
        while not stop.is_set():
            response = post(stack.url, secret, body, timeout=10)
            with lock:
                results.append((time.monotonic(), response))
            time.sleep(0.01)

    def answered_since(moment):
        with lock:
            return [r for t, r in results if t > moment]

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: len(answered_since(0)) >= 20, timeout=10, what="traffic running")
        stack.ops("stop", "redis")
        stopped = time.monotonic()
        wait_until(lambda: len(answered_since(stopped)) >= 40, timeout=10,
                   what="answers while Redis is down")
        while_down()
        time.sleep(max(0.0, stopped + 1.5 - time.monotonic()))
        starting = time.monotonic()
        stack.ops("start")
        up = time.monotonic()
        wait_until(lambda: any(r.status_code == 200 and "x-ratelimit-limit-requests" in r.headers
                               for r in answered_since(up)), timeout=5,
                   what="requests checked against Redis again")
        recovered = time.monotonic()
        time.sleep(max(0.0, up + 3.5 - time.monotonic()))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    return results, stopped, starting, up, recovered


def test_redis_down_fails_closed_with_503_and_recovers(stack, rds):
    slug = "redis-closed"
    _, secret = stack.onboard(slug, "alice")
    set_limit(stack, slug, "user", "alice", rpm=100000)

    shown = []
    results, stopped, starting, up, recovered = run_through_redis_outage(
        stack, secret, slug, while_down=lambda: shown.append(quota_status(stack, secret)))

    error_of(shown[0], 503, "server_error", "quota_unavailable")
    assert shown[0].headers["Retry-After"] == "1"
    statuses = collections.Counter(response.status_code for _, response in results)
    assert set(statuses) == {200, 503}, statuses
    for _, response in results:
        if response.status_code == 503:
            error_of(response, 503, "server_error", "quota_unavailable")
            assert response.headers["Retry-After"] == "1"
        else:
            assert response.headers["x-ratelimit-limit-requests"] == "100000"
    # every answer while Redis was surely away is a refusal ...
    assert {r.status_code for t, r in results if stopped + 0.2 < t < starting} == {503}
    # ... and a few seconds after it is back, every answer is an admission
    assert recovered - up < 3.0
    assert {r.status_code for t, r in results if t > up + 2.5} == {200}

    # nothing lost: every 200 is in the ledger once, every 503 is not
    assert stack.sim_tenant(slug)["requests"] == statuses[200]
    wait_ledger(stack, slug, statuses[200])
    assert set(journal_rows(stack, slug)) == {(200, "checked")}
    assert stack.sql("SELECT count(DISTINCT request_id) FROM usage_events u JOIN tenants t"
                     " ON t.id = u.tenant_id WHERE t.slug = %s", slug) == [(statuses[200],)]


def test_redis_down_fails_open_when_the_tenant_says_so_and_marks_usage_unchecked(stack, rds):
    slug = "redis-open"
    _, secret = stack.onboard(slug, "alice")
    set_limit(stack, slug, "user", "alice", rpm=100000)
    stack.ctl("tenant", "update", slug, "--quota-fail-mode", "open")
    wait_tenant_applied(stack, slug, quota_fail_mode="open")

    results, stopped, starting, up, recovered = run_through_redis_outage(stack, secret, slug)

    statuses = collections.Counter(response.status_code for _, response in results)
    assert statuses == {200: len(results)}
    unchecked = sum(1 for _, r in results if "x-ratelimit-limit-requests" not in r.headers)
    assert unchecked >= 40
    assert {"x-ratelimit-limit-requests" in r.headers
            for t, r in results if stopped + 0.2 < t < starting} == {False}
    assert {"x-ratelimit-limit-requests" in r.headers for t, r in results if t > up + 2.5} == {True}

    assert stack.sim_tenant(slug)["requests"] == len(results)
    wait_ledger(stack, slug, len(results))
    marks = collections.Counter(quota for _, quota in journal_rows(stack, slug))
    assert marks == {"unchecked": unchecked, "checked": len(results) - unchecked}
    assert set(status for status, _ in journal_rows(stack, slug)) == {200}


def test_requests_refused_while_redis_stalled_hold_no_slot_afterwards(stack, rds):
    slug, limit = "redis-stall", 3
    _, secret = stack.onboard(slug, "alice")
    tenant = tenant_id(stack, slug)
    set_limit(stack, slug, "user", "alice", concurrent=limit)
    body = chat_body("Redis hängt kurz.", max_tokens=5)
    redis_pid = int((stack.state / "redis" / "redis.pid").read_text())

    os.kill(redis_pid, signal.SIGSTOP)  # Redis stalls (a long fork, a slow disk, ...)
    try:
        answers = [post(stack.url, secret, body, timeout=10) for _ in range(limit)]
    finally:
        os.kill(redis_pid, signal.SIGCONT)

    for answer in answers:
        error_of(answer, 503, "server_error", "quota_unavailable")
    assert stack.sim_tenant(slug)["requests"] == 0
    wait_until(lambda: rds.zcard(quota_key(tenant, "c", "user", "alice")) == 0, timeout=2,
               what="no slot held for requests that never ran")
    assert post(stack.url, secret, body).status_code == 200


def test_a_request_in_flight_while_redis_restarts_is_counted_once_in_the_rebuilt_budget(stack, rds):
    slug = "redis-restart-budget"
    _, secret = stack.onboard(slug, "alice")
    tenant = tenant_id(stack, slug)
    budget = 10**6
    set_limit(stack, slug, "user", "alice", monthly_tokens=budget)
    month = quota_key(tenant, "m", "user", "alice", limits_of(stack, secret)[0]["month"])
    body = chat_body("Während Redis neu startet.", max_tokens=1000)
    reserved = estimate(body, 1000)
    for _ in range(3):
        assert post(stack.url, secret, body).status_code == 200
    wait_ledger(stack, slug, 3)
    before = sum(stack.ledger(slug)[1:])
    wait_until(lambda: counter(rds, month) == before, timeout=2, what="settled")

    sim_config(stack, ttft_ms=5000)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(post, stack.url, secret, body)
        wait_until(lambda: counter(rds, month) == before + reserved, timeout=3,
                   what="the slow request reserved")
        stack.restart("redis")
        fresh = redis_client(stack)
        # tenantd rebuilds the month's counters from the ledger (quota_restore)
        wait_until(lambda: fresh.exists("llmoin:restored") and counter(fresh, month) == before,
                   timeout=5, what="the month counter rebuilt from PostgreSQL")
        assert not in_flight.done(), "the request ended before the rebuild; too fast to tell"
        answer = in_flight.result()
    assert answer.status_code == 200, answer.text

    wait_ledger(stack, slug, 4)
    spent = sum(stack.ledger(slug)[1:])
    assert spent == before + answer.json()["usage"]["total_tokens"]
    time.sleep(0.5)  # settlement of the slow request
    _, rows = limits_of(stack, secret)
    assert (counter(fresh, month), rows[("user", "alice", "monthly_tokens")]["used"]) \
        == (spent, spent)


def test_a_monthly_budget_waits_for_its_counters_to_be_rebuilt(stack, rds):
    """Redis emptied and tenantd not there to rebuild the month's counters
    from PostgreSQL: a request under a monthly budget is not admitted
    against a counter that forgot the month (503, the store counts as
    unavailable); limits per minute need no history and go on."""
    slug, other = "unrestored", "unrestored-rpm"
    _, secret = stack.onboard(slug, "alice")
    _, other_secret = stack.onboard(other, "alice")
    tenant = tenant_id(stack, slug)
    set_limit(stack, slug, "tenant", "", monthly_tokens=10**6)
    set_limit(stack, other, "tenant", "", rpm=1000)
    month = quota_key(tenant, "m", "tenant", "", limits_of(stack, secret)[0]["month"])
    body = chat_body("Wer zählt nach dem Leeren?", max_tokens=5)
    assert post(stack.url, secret, body).status_code == 200
    # in the ledger before tenantd stops: the rebuild reads what is ingested
    # (a usage line still in the journal when it reads is missing from the
    # rebuilt counter, docs/quotas.md "Redis emptied")
    wait_ledger(stack, slug, 1)

    stack.ops("stop", "tenantd")
    try:
        rds.flushall()
        refused = post(stack.url, secret, body)
        error_of(refused, 503, "server_error", "quota_unavailable")
        assert refused.headers["Retry-After"] == "1"
        assert post(stack.url, other_secret, body).status_code == 200
        assert not rds.exists(month)
    finally:
        stack.ops("start")
    wait_until(lambda: rds.exists("llmoin:restored"), timeout=5, what="counters rebuilt")
    assert post(stack.url, secret, body).status_code == 200
    wait_ledger(stack, slug, 2)
    spent = sum(stack.ledger(slug)[1:])
    wait_until(lambda: counter(rds, month) == spent, timeout=2,
               what=f"the rebuilt counter at {spent}, the ledger's sum")


# --- 8. the token cap, headers, groups, tenants without limits --------------------

def test_request_without_max_tokens_gets_the_cap_written_and_one_above_it_is_refused(stack, rds):
    slug, cap, tpm = "token-cap", 7, 100000
    _, secret = stack.onboard(slug, "alice")
    tenant = tenant_id(stack, slug)
    stack.ctl("tenant", "update", slug, "--max-tokens-cap", str(cap))
    wait_tenant_applied(stack, slug, max_tokens_cap=cap)
    set_limit(stack, slug, "user", "alice", tpm=tpm)
    sim_config(stack, answer_tokens=50)

    body = chat_body("Antworte ausführlich.")
    response = post(stack.url, secret, body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["usage"]["completion_tokens"] == cap
    assert answer["choices"][0]["finish_reason"] == "length"
    assert stack.sim_tenant(slug)["completion_tokens"] == cap
    # the reservation counted the body as sent upstream: with "max_tokens":7,
    written = len(body) + len(f'"max_tokens":{cap},')
    assert int(response.headers["x-ratelimit-remaining-tokens"]) == tpm - (-(-written // 4) + cap)

    stream = post(stack.url, secret, chat_body("Und als Strom?", stream=True,
                                               stream_options={"include_usage": True}), stream=True)
    assert stream.status_code == 200
    assert read_stream(stream)["completion_tokens"] == cap

    before = stack.sim_stats()["total"]["requests"]
    for fields in ({"max_tokens": cap + 1}, {"max_completion_tokens": cap + 1},
                   {"max_tokens": 4096}):
        refused = post(stack.url, secret, chat_body("Zu lang.", **fields))
        error = error_of(refused, 400, "invalid_request_error", "max_tokens_too_large")
        assert f"allows at most {cap} answer tokens" in error["message"]
    assert stack.sim_stats()["total"]["requests"] == before
    # nothing was reserved for the refusals
    _, rows = limits_of(stack, secret)
    assert window_sum(rds, quota_key(tenant, "t", "user", "alice")) \
        == rows[("user", "alice", "tokens_per_minute")]["used"] \
        == stack.sim_tenant(slug)["prompt_tokens"] + stack.sim_tenant(slug)["completion_tokens"]

    # at the cap, or the smaller of two limits at most the cap: admitted as asked
    for fields, expected in (({"max_tokens": cap}, cap), ({"max_tokens": 3}, 3),
                             ({"max_tokens": cap + 5, "max_completion_tokens": 2}, 2)):
        response = post(stack.url, secret, chat_body("Genau so.", **fields))
        assert response.status_code == 200, (fields, response.text)
        assert response.json()["usage"]["completion_tokens"] == expected


def test_remaining_requests_and_tokens_count_down_on_successive_answers(stack, rds):
    slug = "countdown"
    key_id, secret = stack.onboard(slug, "alice")
    tenant = tenant_id(stack, slug)
    rpm, tpm = 5, 100000
    # the default row for every key of the tenant
    set_limit(stack, slug, "key", "", rpm=rpm, tpm=tpm)
    body = chat_body("Wie viel bleibt?", max_tokens=6)
    reserved = estimate(body, 6)
    tokens = quota_key(tenant, "t", "key", key_id)

    used = 0
    for expected in range(rpm - 1, -1, -1):
        response = post(stack.url, secret, body)
        assert response.status_code == 200, response.text
        assert response.headers["x-ratelimit-limit-requests"] == str(rpm)
        assert response.headers["x-ratelimit-remaining-requests"] == str(expected)
        assert re.fullmatch(r"\d+s", response.headers["x-ratelimit-reset-requests"])
        assert response.headers["x-ratelimit-limit-tokens"] == str(tpm)
        assert int(response.headers["x-ratelimit-remaining-tokens"]) == tpm - used - reserved
        used += response.json()["usage"]["total_tokens"]
        wait_until(lambda: window_sum(rds, tokens) == used, timeout=2, what="settled")

    refused = post(stack.url, secret, body)
    error = error_of(refused, 429, "requests", "rate_limit_exceeded")
    assert f"(key {key_id}): limit {rpm}, in use {rpm}." in error["message"]
    assert refused.headers["x-ratelimit-remaining-requests"] == "0"


def test_a_tokens_per_minute_limit_refuses_what_would_not_fit(stack, rds):
    slug = "tpm"
    _, secret = stack.onboard(slug, "alice")
    tenant = tenant_id(stack, slug)
    body = chat_body("Token für Token.", max_tokens=10)
    reserved = estimate(body, 10)
    tpm = 3 * reserved
    set_limit(stack, slug, "user", "alice", tpm=tpm)
    tokens = quota_key(tenant, "t", "user", "alice")

    used = 0
    while used + reserved <= tpm:
        response = post(stack.url, secret, body)
        assert response.status_code == 200, (used, response.text)
        assert int(response.headers["x-ratelimit-remaining-tokens"]) == tpm - used - reserved
        used += response.json()["usage"]["total_tokens"]
        wait_until(lambda: window_sum(rds, tokens) == used, timeout=2, what="settled")
    refused = post(stack.url, secret, body)
    error = error_of(refused, 429, "tokens", "rate_limit_exceeded")
    assert f"tokens per minute (user alice): limit {tpm}, in use {used}." in error["message"]
    retry = int(refused.headers["Retry-After"])
    assert 1 <= retry <= 60
    assert refused.headers["x-ratelimit-limit-tokens"] == str(tpm)
    assert refused.headers["x-ratelimit-remaining-tokens"] == str(tpm - used)
    assert refused.headers["x-ratelimit-reset-tokens"] == f"{retry}s"
    assert "x-ratelimit-limit-requests" not in refused.headers


def test_a_request_refused_by_one_limit_reserves_nothing_anywhere(stack, rds):
    """Tenant, user and key limits together: the smallest remaining one is
    reported, the first one hit refuses, and a refusal changes no counter."""
    slug = "layers"
    alice_key, alice = stack.onboard(slug, "alice")
    bob_key, bob = stack.create_key(slug, "bob")
    stack.wait_key_works(bob)
    tenant = tenant_id(stack, slug)
    set_limit(stack, slug, "tenant", "", rpm=6, monthly_tokens=10**9)
    set_limit(stack, slug, "user", "alice", rpm=2)
    set_limit(stack, slug, "key", bob_key, rpm=10, tpm=10**6)
    body = chat_body("Wer zählt hier?", max_tokens=5)
    month = quota_key(tenant, "m", "tenant", "", limits_of(stack, alice)[0]["month"])

    answers = [post(stack.url, alice, body) for _ in range(5)]
    assert [r.status_code for r in answers] == [200, 200, 429, 429, 429]
    assert [r.headers["x-ratelimit-remaining-requests"] for r in answers[:2]] == ["1", "0"]
    for refused in answers[2:]:
        error = error_of(refused, 429, "requests", "rate_limit_exceeded")
        assert "(user alice): limit 2, in use 2." in error["message"]
        assert refused.headers["x-ratelimit-limit-requests"] == "2"
    assert window_sum(rds, quota_key(tenant, "r", "tenant")) == 2
    spent = sum(r.json()["usage"]["total_tokens"] for r in answers[:2])
    wait_until(lambda: counter(rds, month) == spent, timeout=2, what="settled")

    answers = [post(stack.url, bob, body) for _ in range(6)]
    assert [r.status_code for r in answers] == [200] * 4 + [429] * 2
    assert [r.headers["x-ratelimit-remaining-requests"] for r in answers[:4]] == ["3", "2", "1", "0"]
    assert {r.headers["x-ratelimit-limit-tokens"] for r in answers[:4]} == {str(10**6)}
    for refused in answers[4:]:
        error = error_of(refused, 429, "requests", "rate_limit_exceeded")
        assert "(tenant): limit 6, in use 6." in error["message"]
    assert window_sum(rds, quota_key(tenant, "r", "tenant")) == 6
    assert window_sum(rds, quota_key(tenant, "r", "user", "alice")) == 2
    assert window_sum(rds, quota_key(tenant, "r", "key", bob_key)) == 4
    spent += sum(r.json()["usage"]["total_tokens"] for r in answers[:4])
    wait_until(lambda: counter(rds, month) == spent, timeout=2, what="settled")
    assert window_sum(rds, quota_key(tenant, "t", "key", bob_key)) \
        == sum(r.json()["usage"]["total_tokens"] for r in answers[:4])
    # no row for bob as a user, none for alice's key: no counters for them
    assert not rds.exists(quota_key(tenant, "r", "user", "bob"),
                          quota_key(tenant, "r", "key", alice_key))
    assert stack.sim_tenant(slug)["requests"] == 6


def test_a_client_that_waits_for_each_answer_is_never_refused_by_a_concurrent_limit_of_1(stack):
    slug = "one-at-a-time"
    _, secret = stack.onboard(slug, "alice")
    set_limit(stack, slug, "user", "alice", concurrent=1)
    body = chat_body("Eins nach dem anderen.", max_tokens=5)

    for attempt in range(1000):
        # a new connection each time, as many HTTP clients and scripts do
        response = post(stack.url, secret, body)
        assert response.status_code == 200, (attempt, response.text)


class SlowSettlements:
    """A unix socket between a gateway and Redis that keeps every write
    running the settle script `delay` seconds before passing it on (and
    what follows on that connection after it); all else passes at once:
    a gateway whose connection to the store is slow, while another
    gateway's is not."""

    def __init__(self, stack, delay):
        self.target = stack.env["LLMOIN_REDIS_SOCKET"]
        self.delay = delay
        script = subprocess.run([str(BUILD / "tests" / "system" / "quota-scripts"), "settle"],
                                capture_output=True, check=True).stdout
        self.settle = hashlib.sha1(script).hexdigest().encode()
        directory = stack.state / "slow-settlements"
        directory.mkdir(exist_ok=True)
        os.chmod(directory, 0o755)
        self.path = directory / "redis.sock"
        self.path.unlink(missing_ok=True)
        self.listener = socket.socket(socket.AF_UNIX)
        self.listener.bind(str(self.path))
        os.chmod(self.path, 0o777)  # nginx's workers run as nobody
        self.listener.listen()
        self.delayed = 0
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.socket(socket.AF_UNIX)
            server.connect(self.target)
            threading.Thread(target=self.pass_on, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self.pass_on, args=(server, client, False), daemon=True).start()

    def pass_on(self, source, sink, commands):
        try:
            while data := source.recv(65536):
                if commands and self.settle in data:
                    self.delayed += 1
                    time.sleep(self.delay)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def close(self):
        self.listener.close()


@contextlib.contextmanager
def gateway_with_slow_settlements(stack, delay, timeout):
    """A second gateway for the node whose settlements reach Redis `delay`
    seconds late; `timeout`: its llmoin_redis_timeout."""
    proxy = SlowSettlements(stack, delay)
    redis_line = f"llmoin_redis unix:{stack.state}/redis/redis.sock;"
    gateway = ExtraNginx(stack, "nginx-slow-settlements", changes=[
        (redis_line, f"llmoin_redis unix:{proxy.path};\n    llmoin_redis_timeout {timeout};")])
    gateway.start()
    try:
        yield gateway, proxy
    finally:
        gateway.stop()
        proxy.close()


def test_a_client_sent_to_another_gateway_next_finds_its_slot_free_though_the_first_settles_slowly(stack, rds):
    """A load balancer may send the next request to another gateway, whose
    admission reaches Redis on another connection than the settlement:
    the answer's end waits until Redis confirmed that the slot is free."""
    slug = "slow-settlement"
    _, secret = stack.onboard(slug, "alice")
    tenant = tenant_id(stack, slug)
    with gateway_with_slow_settlements(stack, delay=0.5, timeout="2s") as (slow, proxy):
        set_limit(stack, slug, "user", "alice", concurrent=1, prefixes=[slow.prefix])
        body = chat_body("Erst hier, dann dort.", max_tokens=5)
        streamed = chat_body("Erst hier, dann dort.", max_tokens=5, stream=True)

        for round in range(3):
            answer = post(slow.url, secret, body)
            assert answer.status_code == 200, (round, answer.text)
            assert answer.json()["usage"]["completion_tokens"] > 0
            next_one = post(stack.url, secret, body)
            assert next_one.status_code == 200, (round, next_one.text)

            # a stream's client is done at data: [DONE] and may not wait
            # for the end of the chunked body
            with post(slow.url, secret, streamed, stream=True) as stream:
                assert stream.status_code == 200, stream.text
                assert read_until_done(stream)
            next_one = post(stack.url, secret, body)
            assert next_one.status_code == 200, (round, next_one.text)
        assert proxy.delayed == 6

        # a client that leaves while its answer's end waits (nginx ends the
        # request, 499, before Redis answers) takes nothing with it
        with pytest.raises(requests.exceptions.ReadTimeout):
            post(slow.url, secret, body, timeout=0.1)
        wait_until(lambda: slow.journal.exists()
                   and len(slow.journal.read_text().splitlines()) == 7,
                   timeout=5, what="the left request journaled")
        assert json.loads(slow.journal.read_text().splitlines()[-1])["status"] == "499"
        wait_until(lambda: rds.zcard(quota_key(tenant, "c", "user", "alice")) == 0,
                   timeout=5, what="slot freed after the client left")
        assert post(stack.url, secret, body).status_code == 200


def test_an_answer_goes_out_whole_when_the_store_does_not_confirm_its_settlement_in_time(stack, rds):
    slug = "unconfirmed-settlement"
    _, secret = stack.onboard(slug, "alice")
    tenant = tenant_id(stack, slug)
    with gateway_with_slow_settlements(stack, delay=1.5, timeout="200ms") as (slow, proxy):
        set_limit(stack, slug, "user", "alice", concurrent=1, prefixes=[slow.prefix])
        answer = post(slow.url, secret, chat_body("Nicht warten.", max_tokens=5))
        assert answer.status_code == 200, answer.text
        assert answer.json()["choices"][0]["message"]["content"]
        assert proxy.delayed == 1

        # the settlement arrives late, but it arrives
        wait_until(lambda: rds.zcard(quota_key(tenant, "c", "user", "alice")) == 0,
                   timeout=5, what="slot freed by the late settlement")
    assert post(stack.url, secret, chat_body("Jetzt.", max_tokens=5)).status_code == 200


def test_a_group_limit_is_shared_by_the_users_of_the_group(stack, rds):
    slug = "gruppen"
    stack.create_tenant(slug)
    tenant = tenant_id(stack, slug)
    stack.ctl("tenant", "dev-idp", slug, "--enable")

    def token(user, groups):
        credential = stack.ctl("dev-token", slug, "--user", user, "--groups", groups).stdout.strip()
        wait_until(lambda: stack.models(credential).status_code == 200, timeout=3,
                   what=f"token of {user} accepted")
        return credential
    bob, carol, dave = (token("bob", "referat-1"), token("carol", "referat-2,referat-1"),
                        token("dave", "referat-2"))
    set_limit(stack, slug, "group", "referat-1", rpm=3)
    body = chat_body("Für das ganze Referat.", max_tokens=5)

    answers = [post(stack.url, credential, body) for credential in (bob, carol, bob)]
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert [r.headers["x-ratelimit-remaining-requests"] for r in answers] == ["2", "1", "0"]
    for credential in (carol, bob):
        error = error_of(post(stack.url, credential, body), 429, "requests", "rate_limit_exceeded")
        assert "(group referat-1): limit 3, in use 3." in error["message"]
    # referat-2 has no row and there is no default row: dave is not limited
    for _ in range(4):
        response = post(stack.url, dave, body)
        assert response.status_code == 200
        assert "x-ratelimit-limit-requests" not in response.headers
    assert window_sum(rds, quota_key(tenant, "r", "group", "referat-1")) == 3
    assert sorted(rds.keys(f"llmoin:{{t{tenant}}}:*")) == [quota_key(tenant, "r", "group", "referat-1")]

    status, rows = limits_of(stack, carol)
    assert status["user"] == "carol"
    assert list(rows) == [("group", "referat-1", "requests_per_minute")]
    assert rows[("group", "referat-1", "requests_per_minute")]["used"] == 3

    # a default group row gives every other group an allowance of its own
    set_limit(stack, slug, "group", "", rpm=2)
    assert [post(stack.url, dave, body).status_code for _ in range(2)] == [200, 200]
    error = error_of(post(stack.url, dave, body), 429, "requests", "rate_limit_exceeded")
    assert "(group referat-2): limit 2, in use 2." in error["message"]
    assert window_sum(rds, quota_key(tenant, "r", "group", "referat-1")) == 3

    wait_ledger(stack, slug, 3 + 4 + 2)
    groups = collections.Counter(stack.sql(
        "SELECT user_id, groups FROM usage_events WHERE tenant_id = %s", tenant))
    assert groups == {("bob", "referat-1"): 2, ("carol", "referat-2,referat-1"): 1,
                      ("dave", "referat-2"): 6}


def test_a_tenant_without_limits_touches_no_redis_key(stack, rds):
    slug = "unlimited"
    _, secret = stack.onboard(slug, "alice")
    tenant = tenant_id(stack, slug)
    body = chat_body("Ohne Grenzen.", max_tokens=5)

    for _ in range(5):
        response = post(stack.url, secret, body)
        assert response.status_code == 200
        assert not [name for name in response.headers if name.lower().startswith("x-ratelimit")]
    stream = post(stack.url, secret, chat_body("Strom.", stream=True, max_tokens=5), stream=True)
    assert stream.status_code == 200
    list(stream.iter_lines())

    status, rows = limits_of(stack, secret)
    assert status["limits"] == [] and status["tenant"] == slug and status["user"] == "alice"
    assert rds.keys(f"llmoin:{{t{tenant}}}:*") == []
    wait_ledger(stack, slug, 6)
    assert set(journal_rows(stack, slug)) == {(200, "none")}
