"""The Redis Lua quota scripts (common/quota_script.c, contract in
common/quota_script.h), run directly against a real redis-server with
synthetic clocks, so every rule is checked to the millisecond:

  * the sliding window of 60 one-second buckets for requests and tokens:
    exact remaining, reset and retry-after values, and the window hash
    ("n" the sum of the per-second fields, "o" the oldest second with a
    field) kept consistent after every script run, pruned when read, and
    deleted whole after a long idle gap;
  * settlement: the token estimate replaced by the real usage in the bucket
    of the admitted second, refunds, and nothing done to buckets that left
    the window;
  * requests in flight held by leases that settle releases or that run out;
  * the monthly counter and the restore generation (LLMOIN_QUOTA_RESTORE_MARKER):
    no admission before the rebuild, and settlement by generation;
  * the read script, and that a refusal changes nothing, whichever entity
    and limit refuses.

Each test module run starts its own redis-server on a unix socket (no
persistence); each test starts from an empty database. The scripts come
from the quota-scripts program of the build ($LLMOIN_BUILD), so the text
tested is the text the gateway loads.
"""

import os
import pathlib
import subprocess
import time
from dataclasses import dataclass

import pytest
import redis

BUILD = pathlib.Path(os.environ.get("LLMOIN_BUILD",
                                    pathlib.Path(__file__).resolve().parents[2] / "build"))
QUOTA_SCRIPTS = BUILD / "tests" / "system" / "quota-scripts"
REDIS_SERVER = "/usr/bin/redis-server"

MARKER = "llmoin:restored"          # LLMOIN_QUOTA_RESTORE_MARKER
LEASE_MS = 900000                   # LLMOIN_QUOTA_LEASE_MS
UNLIMITED = -1
T = 1_800_000_000                   # the synthetic clock starts at this second
MONTH_END_MS = (T + 20 * 86400) * 1000


def at(seconds, millis=0):
    """The synthetic clock in ms, `seconds` (and `millis`) after T."""
    return (T + seconds) * 1000 + millis


@dataclass(frozen=True)
class Entity:
    """One entity of a quota plan: its limits (-1 unlimited) and its four keys."""
    name: str
    rpm: int = UNLIMITED
    tpm: int = UNLIMITED
    concurrent: int = UNLIMITED
    monthly: int = UNLIMITED

    @property
    def requests(self):
        return f"quota:{self.name}:requests"

    @property
    def tokens(self):
        return f"quota:{self.name}:tokens"

    @property
    def in_flight(self):
        return f"quota:{self.name}:in-flight"

    @property
    def month(self):
        return f"quota:{self.name}:month"

    @property
    def keys(self):
        return [self.requests, self.tokens, self.in_flight, self.month]

    @property
    def limits(self):
        return [self.rpm, self.tpm, self.concurrent, self.monthly]

    @property
    def flags(self):
        return [1 if limit >= 0 else 0 for limit in self.limits]


def admitted(requests=None, tokens=None, monthly=None, generation=""):
    """The admit script's reply on admission; requests and tokens are
    (remaining, limit, reset ms), monthly is (remaining, limit)."""
    return [1, *(requests or (-1, -1, -1)), *(tokens or (-1, -1, -1)),
            *(monthly or (-1, -1)), generation]


def refused(entity, kind, retry_ms, limit, used):
    return [0, entity, kind, retry_ms, limit, used]


def window_hash(oldest, buckets):
    """A window hash as Redis holds it: buckets maps second -> amount."""
    fields = {str(second): str(amount) for second, amount in buckets.items()}
    return {"n": str(sum(buckets.values())), "o": str(oldest), **fields}


class Quota:
    """The three scripts loaded into one Redis, called as the gateway calls
    them. Every call checks afterwards that each window hash it may have
    touched is consistent."""

    def __init__(self, client, shas):
        self.client = client
        self.shas = shas

    def admit(self, now_ms, entities, request_id="r1", estimate=0, lease_ms=LEASE_MS):
        argv = [now_ms, request_id, estimate, len(entities), MONTH_END_MS, lease_ms]
        return self._run("admit", entities, argv + self._per_entity(entities, "limits"))

    def settle(self, second, entities, request_id="r1", delta=0, real=0, generation="",
               refund=False):
        argv = [second, request_id, delta, len(entities), real, generation, int(refund)]
        return self._run("settle", entities, argv + self._per_entity(entities, "flags"))

    def read(self, now_ms, entities):
        reply = self._run("read", entities, [now_ms, len(entities)])
        for entity in entities:
            self.assert_window_pruned(entity.requests, now_ms)
            self.assert_window_pruned(entity.tokens, now_ms)
        return reply

    def hash(self, key):
        return self.client.hgetall(key)

    def leases(self, entity):
        """The entity's requests in flight as (request id, lease end ms)."""
        return self.client.zrange(entity.in_flight, 0, -1, withscores=True)

    def state(self, entities):
        """Everything stored for the entities and the marker, by key."""
        keys = [key for entity in entities for key in entity.keys] + [MARKER]
        return {key: self._value(key) for key in keys if self.client.exists(key)}

    def assert_window_consistent(self, key):
        window = self.hash(key)
        if not window:
            return
        buckets = {int(field): int(amount) for field, amount in window.items()
                   if field not in ("n", "o")}
        assert int(window["n"]) == sum(buckets.values()), window
        assert all(second >= int(window["o"]) for second in buckets), window

    def assert_window_pruned(self, key, now_ms):
        first = now_ms // 1000 - 59
        stale = [field for field in self.hash(key)
                 if field not in ("n", "o") and int(field) < first]
        assert stale == [], f"{key}: seconds before {first} still there: {stale}"

    def _run(self, script, entities, argv):
        keys = [key for entity in entities for key in entity.keys]
        reply = self.client.evalsha(self.shas[script], len(keys), *keys, *argv)
        for entity in entities:
            self.assert_window_consistent(entity.requests)
            self.assert_window_consistent(entity.tokens)
        return reply

    @staticmethod
    def _per_entity(entities, attribute):
        return [value for entity in entities for value in getattr(entity, attribute)]

    def _value(self, key):
        kind = self.client.type(key)
        if kind == "hash":
            return self.client.hgetall(key)
        if kind == "zset":
            return dict(self.client.zrange(key, 0, -1, withscores=True))
        return self.client.get(key)


def script_text(name):
    return subprocess.run([str(QUOTA_SCRIPTS), name], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture(scope="module")
def redis_client(tmp_path_factory):
    directory = tmp_path_factory.mktemp("redis")
    socket = directory / "redis.sock"
    server = subprocess.Popen(
        [REDIS_SERVER, "--port", "0", "--unixsocket", str(socket), "--save", "",
         "--appendonly", "no", "--dir", str(directory),
         "--logfile", str(directory / "redis.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = redis.Redis(unix_socket_path=str(socket), decode_responses=True)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.02)
        yield client
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def quota(redis_client):
    redis_client.flushall()
    shas = {name: redis_client.script_load(script_text(name))
            for name in ("admit", "settle", "read")}
    return Quota(redis_client, shas)


def test_quota_scripts_program_refuses_unknown_script():
    result = subprocess.run([str(QUOTA_SCRIPTS), "refund"], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "admit|settle|read" in result.stderr


class TestRequestsWindow:
    def test_fourth_request_waits_until_the_bucket_leaves_the_window(self, quota):
        tenant = Entity("tenant", rpm=3)
        for remaining in (2, 1, 0):
            assert quota.admit(at(0), [tenant]) == admitted(requests=(remaining, 3, 60000))
        assert quota.admit(at(0), [tenant]) == refused(1, "requests", 60000, 3, 3)
        assert quota.admit(at(59, 999), [tenant]) == refused(1, "requests", 1, 3, 3)
        assert quota.hash(tenant.requests) == window_hash(T, {T: 3})
        assert quota.admit(at(60), [tenant]) == admitted(requests=(2, 3, 60000))
        assert quota.hash(tenant.requests) == window_hash(T + 60, {T + 60: 1})

    def test_spread_buckets_free_one_slot_each_and_point_at_the_next(self, quota):
        tenant = Entity("tenant", rpm=3)
        assert quota.admit(at(0), [tenant]) == admitted(requests=(2, 3, 60000))
        assert quota.admit(at(10), [tenant]) == admitted(requests=(1, 3, 50000))
        assert quota.admit(at(20), [tenant]) == admitted(requests=(0, 3, 40000))
        assert quota.admit(at(59, 999), [tenant]) == refused(1, "requests", 1, 3, 3)
        assert quota.admit(at(60), [tenant]) == admitted(requests=(0, 3, 10000))
        assert quota.admit(at(60), [tenant]) == refused(1, "requests", 10000, 3, 3)
        assert quota.admit(at(65, 500), [tenant]) == refused(1, "requests", 4500, 3, 3)
        assert quota.admit(at(70), [tenant]) == admitted(requests=(0, 3, 10000))
        assert quota.hash(tenant.requests) == window_hash(
            T + 20, {T + 20: 1, T + 60: 1, T + 70: 1})

    def test_reading_prunes_the_seconds_that_left_the_window(self, quota):
        tenant = Entity("tenant", rpm=10)
        quota.admit(at(0), [tenant])
        quota.admit(at(0, 999), [tenant])
        quota.admit(at(30), [tenant])
        assert quota.hash(tenant.requests) == window_hash(T, {T: 2, T + 30: 1})
        assert quota.read(at(59, 999), [tenant]) == [[3, 0, 0, 0]]
        assert quota.hash(tenant.requests) == window_hash(T, {T: 2, T + 30: 1})
        assert quota.read(at(60), [tenant]) == [[1, 0, 0, 0]]
        assert quota.hash(tenant.requests) == window_hash(T + 30, {T + 30: 1})
        assert quota.read(at(95), [tenant]) == [[0, 0, 0, 0]]
        assert quota.hash(tenant.requests) == window_hash(T + 95, {})
        assert quota.admit(at(100), [tenant]) == admitted(requests=(9, 10, 60000))
        assert quota.hash(tenant.requests) == window_hash(T + 100, {T + 100: 1})

    def test_idle_gap_deletes_the_window_and_admission_counts_from_zero(self, quota):
        tenant = Entity("tenant", rpm=3, tpm=1000)
        for _ in range(3):
            quota.admit(at(0), [tenant], estimate=100)
        assert quota.hash(tenant.tokens) == window_hash(T, {T: 300})
        assert quota.read(at(121), [tenant]) == [[0, 0, 0, 0]]
        assert not quota.client.exists(tenant.requests, tenant.tokens)
        assert quota.admit(at(121), [tenant], estimate=100) == admitted(
            requests=(2, 3, 60000), tokens=(900, 1000, 60000))
        assert quota.hash(tenant.requests) == window_hash(T + 121, {T + 121: 1})
        assert quota.hash(tenant.tokens) == window_hash(T + 121, {T + 121: 100})

    def test_emptied_bucket_does_not_set_reset_or_retry(self, quota):
        tenant = Entity("tenant", rpm=1)
        quota.admit(at(0), [tenant])
        quota.settle(T, [tenant], refund=True)
        assert quota.admit(at(10), [tenant], request_id="r2") == admitted(
            requests=(0, 1, 60000))
        assert quota.admit(at(20), [tenant], request_id="r3") == refused(
            1, "requests", 50000, 1, 1)


class TestTokensAndSettlement:
    def test_admit_reserves_the_estimate_and_settle_replaces_it(self, quota):
        tenant = Entity("tenant", tpm=1000)
        assert quota.admit(at(0), [tenant], estimate=300) == admitted(
            tokens=(700, 1000, 60000))
        assert quota.admit(at(5), [tenant], "r2", estimate=200) == admitted(
            tokens=(500, 1000, 55000))
        assert quota.hash(tenant.tokens) == window_hash(T, {T: 300, T + 5: 200})
        quota.settle(T, [tenant], "r1", delta=50, real=350)
        assert quota.hash(tenant.tokens) == window_hash(T, {T: 350, T + 5: 200})
        quota.settle(T + 5, [tenant], "r2", delta=-150, real=50)
        assert quota.hash(tenant.tokens) == window_hash(T, {T: 350, T + 5: 50})
        assert quota.read(at(10), [tenant]) == [[0, 400, 0, 0]]
        assert quota.admit(at(10), [tenant], "r3", estimate=601) == refused(
            1, "tokens", 50000, 1000, 400)
        assert quota.admit(at(10), [tenant], "r3", estimate=600) == admitted(
            tokens=(0, 1000, 50000))

    def test_settle_for_a_pruned_second_changes_nothing(self, quota):
        tenant = Entity("tenant", rpm=10, tpm=1000)
        quota.admit(at(0), [tenant], "r1", estimate=100)
        quota.admit(at(30), [tenant], "r2", estimate=100)
        assert quota.read(at(60), [tenant]) == [[1, 100, 0, 0]]
        before = quota.state([tenant])
        quota.settle(T, [tenant], "r1", delta=400, real=500, refund=True)
        assert quota.state([tenant]) == before
        assert quota.read(at(60), [tenant]) == [[1, 100, 0, 0]]

    def test_settle_for_a_second_not_yet_pruned_leaves_the_window_total(self, quota):
        tenant = Entity("tenant", tpm=1000)
        quota.admit(at(0), [tenant], estimate=100)
        quota.settle(T, [tenant], delta=400, real=500)
        assert quota.read(at(70), [tenant]) == [[0, 0, 0, 0]]
        assert quota.hash(tenant.tokens) == window_hash(T + 70, {})

    def test_refund_takes_the_request_out_while_its_bucket_exists(self, quota):
        tenant = Entity("tenant", rpm=2, tpm=1000)
        quota.admit(at(0), [tenant], "r1", estimate=100)
        quota.admit(at(0), [tenant], "r2", estimate=100)
        assert quota.admit(at(1), [tenant], "r3", estimate=100) == refused(
            1, "requests", 59000, 2, 2)
        quota.settle(T, [tenant], "r1", delta=-100, real=0, refund=True)
        assert quota.hash(tenant.requests) == window_hash(T, {T: 1})
        assert quota.hash(tenant.tokens) == window_hash(T, {T: 100})
        assert quota.admit(at(1), [tenant], "r3", estimate=100) == admitted(
            requests=(0, 2, 59000), tokens=(800, 1000, 59000))
        assert quota.read(at(60), [tenant]) == [[1, 100, 0, 0]]
        before = quota.state([tenant])
        quota.settle(T, [tenant], "r2", delta=-100, real=0, refund=True)
        assert quota.state([tenant]) == before

    def test_settle_without_refund_keeps_the_request_count(self, quota):
        tenant = Entity("tenant", rpm=2, tpm=1000)
        quota.admit(at(0), [tenant], estimate=100)
        quota.settle(T, [tenant], delta=-100, real=0)
        assert quota.hash(tenant.requests) == window_hash(T, {T: 1})
        assert quota.hash(tenant.tokens) == window_hash(T, {})  # settled at 0: no field


class TestRequestsInFlight:
    def test_lease_holds_the_slot_until_settled(self, quota):
        tenant = Entity("tenant", concurrent=1)
        assert quota.admit(at(0), [tenant], "r1") == admitted()
        assert quota.leases(tenant) == [
            ("r1", at(0) + LEASE_MS)]
        assert quota.admit(at(1), [tenant], "r2") == refused(1, "concurrent", 1000, 1, 1)
        assert quota.read(at(1), [tenant]) == [[0, 0, 1, 0]]
        quota.settle(T, [tenant], "r1")
        assert not quota.client.exists(tenant.in_flight)
        assert quota.admit(at(2), [tenant], "r2") == admitted()
        assert quota.leases(tenant) == [
            ("r2", at(2) + LEASE_MS)]

    def test_expired_lease_no_longer_counts(self, quota):
        tenant = Entity("tenant", concurrent=1)
        lease_end = at(0) + 5000
        quota.admit(at(0), [tenant], "r1", lease_ms=5000)
        assert quota.admit(lease_end - 1, [tenant], "r2") == refused(
            1, "concurrent", 1000, 1, 1)
        assert quota.read(lease_end - 1, [tenant]) == [[0, 0, 1, 0]]
        assert quota.read(lease_end + 1, [tenant]) == [[0, 0, 0, 0]]
        assert quota.admit(lease_end + 1, [tenant], "r2") == admitted()
        assert quota.leases(tenant) == [
            ("r2", lease_end + 1 + LEASE_MS)]


def restore(client, generation, counters=None):
    """What tenantd's rebuild leaves behind: the counters and the marker."""
    for key, value in (counters or {}).items():
        client.set(key, value)
    client.set(MARKER, generation)


MONTHLY_TENANT = Entity("tenant", rpm=5, tpm=1000, concurrent=2, monthly=10000)


def rebuilt_without_the_request(client):
    """Redis emptied and rebuilt (generation G2) while the request ran."""
    client.flushall()
    restore(client, "G2", {MONTHLY_TENANT.month: 5000})


class TestMonthlyAndGeneration:
    def test_unrestored_store_refuses_and_changes_nothing(self, quota):
        tenant = MONTHLY_TENANT
        assert quota.admit(at(0), [tenant], estimate=100)[:3] == [0, 0, "unrestored"]
        assert quota.state([tenant]) == {}
        restore(quota.client, "G1")
        quota.admit(at(0), [tenant], estimate=100)
        quota.client.delete(MARKER)
        before = quota.state([tenant])
        assert quota.admit(at(1), [tenant], "r2", estimate=100)[:3] == [0, 0, "unrestored"]
        assert quota.state([tenant]) == before

    def test_admit_reserves_the_estimate_and_returns_the_generation(self, quota):
        tenant = MONTHLY_TENANT
        restore(quota.client, "G1")
        assert quota.admit(at(0), [tenant], estimate=300) == admitted(
            requests=(4, 5, 60000), tokens=(700, 1000, 60000), monthly=(9700, 10000),
            generation="G1")
        assert quota.client.get(tenant.month) == "300"
        quota.client.set(tenant.month, 9800)
        assert quota.admit(at(1), [tenant], "r2", estimate=300) == refused(
            1, "monthly", MONTH_END_MS - at(1), 10000, 9800)
        assert quota.admit(at(1), [tenant], "r2", estimate=200) == admitted(
            requests=(3, 5, 59000), tokens=(500, 1000, 59000), monthly=(0, 10000),
            generation="G1")
        assert quota.client.get(tenant.month) == "10000"

    @pytest.mark.parametrize("after_admission, month", [
        pytest.param(lambda client: None, "420", id="same-generation-adds-delta"),
        pytest.param(rebuilt_without_the_request, "5420", id="rebuilt-adds-real"),
        pytest.param(lambda client: client.delete(MARKER), "300",
                     id="marker-missing-adds-nothing"),
        pytest.param(lambda client: client.flushall(), None,
                     id="emptied-adds-nothing"),
    ])
    def test_settle_counts_the_month_by_generation(self, quota, after_admission, month):
        tenant = MONTHLY_TENANT
        restore(quota.client, "G1")
        assert quota.admit(at(0), [tenant], estimate=300)[9] == "G1"
        assert quota.client.get(tenant.month) == "300"
        after_admission(quota.client)
        quota.settle(T, [tenant], delta=120, real=420, generation="G1")
        assert quota.client.get(tenant.month) == month

    def test_no_monthly_limit_needs_no_marker(self, quota):
        tenant = Entity("tenant", rpm=5, tpm=1000, concurrent=2)
        assert quota.admit(at(0), [tenant], estimate=300) == admitted(
            requests=(4, 5, 60000), tokens=(700, 1000, 60000))
        quota.settle(T, [tenant], delta=120, real=420)
        assert quota.read(at(1), [tenant]) == [[1, 420, 0, 0]]
        assert not quota.client.exists(tenant.month, MARKER)


class TestReadAndAtomicity:
    TENANT = Entity("tenant", rpm=10, tpm=5000, concurrent=3, monthly=100000)

    def test_read_reports_each_entity(self, quota):
        tenant, key = self.TENANT, Entity("key", rpm=5, concurrent=2)
        restore(quota.client, "G1")
        quota.admit(at(0), [tenant, key], "r1", estimate=100)
        quota.admit(at(10), [tenant], "r2", estimate=250)
        assert quota.read(at(10), [tenant, key]) == [[2, 350, 2, 350], [1, 0, 1, 0]]
        quota.settle(T, [tenant, key], "r1", delta=20, real=120, generation="G1")
        assert quota.read(at(30), [tenant, key]) == [[2, 370, 1, 370], [1, 0, 0, 0]]
        assert quota.read(at(65), [tenant, key, Entity("idle")]) == [
            [1, 250, 1, 370], [0, 0, 0, 0], [0, 0, 0, 0]]
        assert quota.read(at(10) + LEASE_MS, [tenant]) == [[0, 0, 0, 370]]

    def test_admission_reports_the_tightest_entity(self, quota):
        tenant, key = self.TENANT, Entity("key", rpm=2, tpm=8000, monthly=500)
        restore(quota.client, "G1")
        assert quota.admit(at(0), [tenant, key], estimate=100) == admitted(
            requests=(1, 2, 60000), tokens=(4900, 5000, 60000), monthly=(400, 500),
            generation="G1")

    @pytest.mark.parametrize("second, refusal", [
        (Entity("key", rpm=1), refused(2, "requests", 55000, 1, 1)),
        (Entity("key", tpm=150), refused(2, "tokens", 55000, 150, 100)),
        (Entity("key", concurrent=1), refused(2, "concurrent", 1000, 1, 1)),
        (Entity("key", monthly=150), refused(2, "monthly", MONTH_END_MS - at(5), 150, 100)),
    ], ids=["requests", "tokens", "concurrent", "monthly"])
    def test_refusal_by_the_second_entity_changes_nothing(self, quota, second, refusal):
        restore(quota.client, "G1")
        assert quota.admit(at(0), [self.TENANT, second], "r1", estimate=100)[0] == 1
        before = quota.state([self.TENANT, second])
        assert quota.admit(at(5), [self.TENANT, second], "r2", estimate=100) == refusal
        assert quota.state([self.TENANT, second]) == before
