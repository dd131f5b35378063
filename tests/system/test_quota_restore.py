"""Monthly quota counters come back after Redis lost them: tenantd rebuilds
them from usage_events (the source of truth) within seconds, for tenants
with a monthly_tokens limit only, and marks Redis as restored.

Usage rows are written straight into PostgreSQL (or through the journal),
so the sums are known exactly; Redis is emptied with redis-cli FLUSHALL."""

import json
import re
import subprocess
import time
import uuid

import redis

from llmoin_stack import wait_until

MARKER = "llmoin:restored"
RESTORE_SECONDS = 5.0
FORTY_DAYS = 40 * 24 * 3600


def redis_client(stack):
    return redis.Redis(unix_socket_path=stack.env["LLMOIN_REDIS_SOCKET"],
                       decode_responses=True)


def flushall(stack):
    subprocess.run(["redis-cli", "-s", stack.env["LLMOIN_REDIS_SOCKET"], "FLUSHALL"],
                   check=True, capture_output=True, timeout=10)


def berlin_month(stack):
    return stack.sql("SELECT to_char(now() AT TIME ZONE 'Europe/Berlin', 'YYYY-MM')")[0][0]


def key(tenant_id, scope, subject, month):
    return f"llmoin:{{t{tenant_id}}}:m:{scope}:{subject}:{month}"


def tenant(stack, slug, monthly=None, scope="tenant", subject="", rpm=None):
    """A tenant, with a limits row when monthly or rpm is given."""
    stack.create_tenant(slug)
    tenant_id = stack.sql("SELECT id FROM tenants WHERE slug = %s", slug)[0][0]
    if monthly is not None or rpm is not None:
        stack.sql("INSERT INTO limits (tenant_id, scope, subject, monthly_tokens, rpm)"
                  " VALUES (%s, %s, %s, %s, %s)", tenant_id, scope, subject, monthly, rpm)
    return tenant_id


def add_usage(stack, tenant_id, user, prompt, completion, key_id=None, groups="",
              ts="now()"):
    """One usage row; ts is an SQL expression."""
    stack.sql(f"SELECT llmoin_ensure_usage_partition({ts})")
    stack.sql("INSERT INTO usage_events (request_id, ts, tenant_id, user_id, key_id, model,"
              " status, prompt_tokens, completion_tokens, usage_source, stream, node,"
              " groups, quota)"
              f" VALUES (%s, {ts}, %s, %s, %s, 'llmoin-sim', 200, %s, %s, 'reported',"
              " false, 'test', %s, 'checked')",
              uuid.uuid4().hex, tenant_id, user, key_id, prompt, completion, groups)


MONTH_START = ("(date_trunc('month', now() AT TIME ZONE 'Europe/Berlin')"
               " AT TIME ZONE 'Europe/Berlin')")


def monthly_keys(client, tenant_id):
    return {name: int(client.get(name))
            for name in client.scan_iter(match=f"llmoin:{{t{tenant_id}}}:m:*", count=1000)}


def wait_restored(client, timeout=RESTORE_SECONDS):
    return wait_until(lambda: client.get(MARKER), timeout=timeout, interval=0.02,
                      what="llmoin:restored set again")


def restore_lines(stack):
    log = (stack.state / "tenantd" / "tenantd.log").read_text()
    return re.findall(r"event=quota_restored counters=(\d+) tenants=(\d+) ", log)


def test_counters_rebuilt_with_exact_sums_after_flushall(stack):
    client = redis_client(stack)
    month = berlin_month(stack)
    berlin = tenant(stack, "berlin", monthly=1_000_000)
    potsdam = tenant(stack, "potsdam", rpm=100)          # limits, but none monthly
    bonn = tenant(stack, "bonn")                          # no limits at all
    cottbus = tenant(stack, "cottbus", monthly=500, scope="user")   # per-user default

    add_usage(stack, berlin, "alice", 10, 20, key_id="key_alice1", groups="staff,lab")
    add_usage(stack, berlin, "alice", 1, 2, key_id="key_alice1", groups="staff,lab")
    add_usage(stack, berlin, "alice", 100, 200, key_id="key_alice2", groups="staff")
    add_usage(stack, berlin, "bob", 5, 7, groups="staff", ts=MONTH_START)   # first instant
    add_usage(stack, berlin, "carol", 1000, 0)
    add_usage(stack, berlin, "dave", 0, 0, groups="lab")                   # nothing to add
    # last month: not this month's budget
    add_usage(stack, berlin, "alice", 50000, 50000, key_id="key_alice1", groups="staff",
              ts=f"{MONTH_START} - interval '1 millisecond'")
    add_usage(stack, potsdam, "paula", 3, 4, key_id="key_paula", groups="staff")
    add_usage(stack, bonn, "bert", 3, 4, groups="staff")
    add_usage(stack, cottbus, "clara", 8, 9, groups="team,team")            # a group once

    flushall(stack)
    flushed = time.monotonic()
    marker = wait_restored(client)
    elapsed = time.monotonic() - flushed
    assert elapsed < RESTORE_SECONDS

    assert abs(int(marker) - time.time()) < 30
    assert monthly_keys(client, berlin) == {
        key(berlin, "tenant", "", month): 30 + 3 + 300 + 12 + 1000,
        key(berlin, "user", "alice", month): 30 + 3 + 300,
        key(berlin, "user", "bob", month): 12,
        key(berlin, "user", "carol", month): 1000,
        key(berlin, "key", "key_alice1", month): 33,
        key(berlin, "key", "key_alice2", month): 300,
        key(berlin, "group", "staff", month): 30 + 3 + 300 + 12,
        key(berlin, "group", "lab", month): 33,
    }
    assert monthly_keys(client, cottbus) == {
        key(cottbus, "tenant", "", month): 17,
        key(cottbus, "user", "clara", month): 17,
        key(cottbus, "group", "team", month): 17,
    }
    # no monthly limit, no counters
    assert client.keys(f"llmoin:{{t{potsdam}}}:*") == []
    assert client.keys(f"llmoin:{{t{bonn}}}:*") == []
    # counters expire after 40 days, the marker never
    ttl = client.ttl(key(berlin, "tenant", "", month))
    assert FORTY_DAYS - 60 <= ttl <= FORTY_DAYS
    assert client.ttl(MARKER) == -1

    lines = restore_lines(stack)
    assert lines and lines[-1][:2] == ("11", "2")


def test_restored_again_after_every_emptying(stack):
    client = redis_client(stack)
    month = berlin_month(stack)
    berlin = stack.sql("SELECT id FROM tenants WHERE slug = 'berlin'")[0][0]
    before = monthly_keys(client, berlin)
    restores = len(restore_lines(stack))

    for _ in range(2):
        flushall(stack)
        assert client.get(MARKER) is None
        wait_restored(client)
        assert monthly_keys(client, berlin) == before
    assert len(restore_lines(stack)) == restores + 2

    # Redis not emptied: checked every second, never restored twice
    time.sleep(2.5)
    assert len(restore_lines(stack)) == restores + 2
    assert monthly_keys(client, berlin)[key(berlin, "tenant", "", month)] == 1345


def test_counts_made_since_the_emptying_are_kept(stack):
    """INCRBY, not SET: what the gateway counted after Redis came back (a
    reservation in flight) stays on top of the restored sums."""
    client = redis_client(stack)
    month = berlin_month(stack)
    berlin = stack.sql("SELECT id FROM tenants WHERE slug = 'berlin'")[0][0]
    tenant_key = key(berlin, "tenant", "", month)

    stack.ops("stop", "tenantd")
    flushall(stack)
    client.incrby(tenant_key, 4096)
    client.incrby(key(berlin, "user", "erin", month), 4096)
    stack.ops("start")
    wait_restored(client)

    assert int(client.get(tenant_key)) == 1345 + 4096
    assert int(client.get(key(berlin, "user", "erin", month))) == 4096
    assert int(client.get(key(berlin, "user", "alice", month))) == 333


def test_journal_groups_and_quota_are_ingested_and_counted(stack):
    client = redis_client(stack)
    month = berlin_month(stack)
    hamm = tenant(stack, "hamm", monthly=10_000)
    line = {"v": "1", "request_id": "", "tenant_id": str(hamm), "user": "hanna",
            "key_id": "", "model": "llmoin-sim", "pool": "default", "status": "200",
            "upstream_status": "200", "prompt_tokens": "11", "completion_tokens": "22",
            "usage": "reported", "stream": "0", "request_time": "0.010"}
    old = dict(line, ts=f"{time.time():.3f}", request_id=uuid.uuid4().hex)
    new = dict(line, ts=f"{time.time():.3f}", request_id=uuid.uuid4().hex,
               groups="rat,bau amt", quota="unchecked", key_id="key_hanna")
    bad = dict(new, request_id=uuid.uuid4().hex, groups="rat\u0085")
    with (stack.state / "log" / "usage.journal").open("a") as journal:
        for record in (old, new, bad):
            journal.write(json.dumps(record) + "\n")

    rows = wait_until(lambda: stack.sql(
        "SELECT request_id, groups, quota, key_id FROM usage_events WHERE tenant_id = %s"
        " ORDER BY ts, request_id", hamm) if stack.sql(
        "SELECT count(*) FROM usage_events WHERE tenant_id = %s", hamm)[0][0] == 2 else None,
        timeout=5, what="journal lines ingested")
    assert sorted(rows) == sorted([(old["request_id"], "", "none", None),
                                   (new["request_id"], "rat,bau amt", "unchecked",
                                    "key_hanna")])
    assert stack.sql("SELECT reason FROM ingest_rejects WHERE line LIKE %s",
                     f"%{bad['request_id']}%") == [
        ("field 'groups' contains a control character",)]

    flushall(stack)
    wait_restored(client)
    assert monthly_keys(client, hamm) == {
        key(hamm, "tenant", "", month): 66,
        key(hamm, "user", "hanna", month): 66,
        key(hamm, "key", "key_hanna", month): 33,
        key(hamm, "group", "rat", month): 33,
        key(hamm, "group", "bau amt", month): 33,
    }


def test_redis_down_is_a_warning_and_restored_when_back(stack):
    client = redis_client(stack)
    month = berlin_month(stack)
    berlin = stack.sql("SELECT id FROM tenants WHERE slug = 'berlin'")[0][0]
    log_path = stack.state / "tenantd" / "tenantd.log"
    tenantd_pid = int((stack.state / "tenantd" / "tenantd.pid").read_text())

    stack.ops("stop", "redis")
    wait_until(lambda: "event=quota_store_unavailable" in log_path.read_text(), timeout=5,
               what="warning about Redis")
    time.sleep(2)
    log = log_path.read_text()
    assert log.count("event=quota_store_unavailable") == 1     # not once a second
    assert "level=warn event=quota_store_unavailable" in log
    assert int((stack.state / "tenantd" / "tenantd.pid").read_text()) == tenantd_pid
    assert stack.ctl("tenant", "list").returncode == 0

    stack.ops("start")      # Redis comes back empty (nothing is persisted)
    back = time.monotonic()
    wait_restored(client)
    assert time.monotonic() - back < RESTORE_SECONDS
    assert int(client.get(key(berlin, "tenant", "", month))) == 1345
    assert "event=quota_store_reachable" in log_path.read_text()


def test_ten_tenants_of_a_thousand_users_restored_within_five_seconds(stack):
    client = redis_client(stack)
    month = berlin_month(stack)
    stack.sql("SELECT llmoin_ensure_usage_partition(now())")
    tenants = [tenant(stack, f"gross-{i}", monthly=10**12) for i in range(10)]
    # 5 requests a user, half of the users with a key, 20 groups and "all"
    stack.sql(
        "INSERT INTO usage_events (request_id, ts, tenant_id, user_id, key_id, model,"
        " status, prompt_tokens, completion_tokens, usage_source, stream, node, groups, quota)"
        " SELECT md5(t::text || '/' || u || '/' || r), now() - r * interval '1 millisecond',"
        "        t, 'user-' || u, CASE WHEN mod(u, 2) = 0 THEN 'key_' || t || '_' || u END,"
        "        'llmoin-sim', 200, mod(u, 97) + r, 100 + r, 'reported', false, 'test',"
        "        'g' || mod(u, 20) || ',all', 'checked'"
        "   FROM unnest(%s::bigint[]) t, generate_series(1, 1000) u, generate_series(1, 5) r",
        tenants)
    expected = dict(stack.sql(
        "SELECT 'user:' || tenant_id || ':' || user_id, sum(prompt_tokens + completion_tokens)"
        "  FROM usage_events WHERE tenant_id = ANY(%s) GROUP BY 1"
        " UNION ALL SELECT 'tenant:' || tenant_id, sum(prompt_tokens + completion_tokens)"
        "  FROM usage_events WHERE tenant_id = ANY(%s) GROUP BY 1", tenants, tenants))

    flushall(stack)
    flushed = time.monotonic()
    wait_restored(client)
    elapsed = time.monotonic() - flushed
    assert elapsed < RESTORE_SECONDS, f"restore took {elapsed:.2f} s"

    for tenant_id in tenants:
        counters = monthly_keys(client, tenant_id)
        # tenant, 1000 users, 500 keys, 21 groups
        assert len(counters) == 1 + 1000 + 500 + 21
        assert counters[key(tenant_id, "tenant", "", month)] == expected[f"tenant:{tenant_id}"]
        for user in (1, 2, 500, 1000):
            assert (counters[key(tenant_id, "user", f"user-{user}", month)]
                    == expected[f"user:{tenant_id}:user-{user}"])
        assert (counters[key(tenant_id, "group", "all", month)]
                == expected[f"tenant:{tenant_id}"])
    print(f"restore of {len(tenants)} x 1000 users: {elapsed:.2f} s after FLUSHALL;",
          restore_lines(stack)[-1])
