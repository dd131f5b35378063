"""Usage is counted exactly once, whatever happens to tenantd: the journal
offset and the rows it covers commit together."""

import concurrent.futures
import re
import threading

from llmoin_stack import wait_until


def test_tenantd_killed_mid_run_counts_every_request_once(stack):
    _, secret = stack.onboard("hamburg")
    total = 200
    done = []
    lock = threading.Lock()
    halfway = threading.Event()

    def one(i):
        response = stack.chat(secret, f"Anfrage Nummer {i} zum Thema Haushalt", max_tokens=5 + i % 20)
        with lock:
            done.append(response.status_code)
            if len(done) == total // 2:
                halfway.set()
        return response.json()["usage"]

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(one, i) for i in range(total)]
        halfway.wait(timeout=60)
        stack.kill_tenantd()
        usages = [future.result() for future in futures]

    assert done.count(200) == total
    sim = stack.sim_tenant("hamburg")
    assert sim["requests"] == total
    expected = (total, sum(u["prompt_tokens"] for u in usages),
                sum(u["completion_tokens"] for u in usages))
    assert (sim["requests"], sim["prompt_tokens"], sim["completion_tokens"]) == expected

    wait_until(lambda: stack.ledger("hamburg")[0] >= total, timeout=10,
               what="all requests ingested")
    assert stack.ledger("hamburg") == expected
    assert stack.sql("SELECT count(DISTINCT request_id) FROM usage_events")[0][0] == total


def test_a_second_start_applies_no_migration(stack):
    before = stack.sql("SELECT version, checksum, applied_at FROM schema_migrations ORDER BY 1")

    stack.restart("tenantd")

    assert stack.sql("SELECT version, checksum, applied_at FROM schema_migrations ORDER BY 1") == before
    log = (stack.state / "tenantd" / "tenantd.log").read_text()
    starts = re.findall(r"event=schema_ready migrations_applied=(\d+)", log)
    assert starts[0] != "0" and starts[-1] == "0"


def test_unreadable_journal_lines_are_kept_as_rejects_not_lost(stack):
    journal = stack.state / "log" / "usage.journal"
    with journal.open("a") as handle:
        handle.write('{"v":"1","ts":"oops"}\n')

    rows = wait_until(lambda: stack.sql("SELECT reason, line FROM ingest_rejects"),
                      timeout=3, what="reject stored")
    assert rows == [("field 'ts' is not a time in seconds", '{"v":"1","ts":"oops"}')]


def journal_line(tenant_id, user="alice", request_id=None):
    import json
    import time
    import uuid
    return json.dumps({
        "v": "1", "ts": f"{time.time():.3f}", "request_id": request_id or uuid.uuid4().hex,
        "tenant_id": str(tenant_id), "user": user, "key_id": "", "model": "llmoin-sim",
        "pool": "default", "status": "200", "upstream_status": "200",
        "prompt_tokens": "3", "completion_tokens": "4", "usage": "reported",
        "stream": "0", "request_time": "0.010"}) + "\n"


def test_usage_of_a_tenant_that_no_longer_exists_is_kept_as_a_reject(stack):
    journal = stack.state / "log" / "usage.journal"
    with journal.open("a") as handle:
        handle.write(journal_line(999))

    rows = wait_until(lambda: stack.sql("SELECT reason FROM ingest_rejects"
                                        " WHERE reason LIKE 'tenant 999%%'"),
                      timeout=3, what="reject stored")
    assert rows == [("tenant 999 does not exist",)]


def test_a_line_the_database_refuses_is_isolated_and_the_rest_ingested(stack):
    tenant_id = stack.sql("SELECT id FROM tenants WHERE slug = 'hamburg'")[0][0]
    stack.sql("ALTER TABLE usage_events ADD CONSTRAINT test_refuse_evil CHECK (user_id <> 'evil')")
    try:
        before = stack.ledger("hamburg")[0]
        with (stack.state / "log" / "usage.journal").open("a") as handle:
            handle.write(journal_line(tenant_id, "good-1") + journal_line(tenant_id, "evil")
                         + journal_line(tenant_id, "good-2"))

        wait_until(lambda: stack.ledger("hamburg")[0] == before + 2, timeout=5,
                   what="the good lines ingested")
        rejects = stack.sql("SELECT line FROM ingest_rejects WHERE reason LIKE '%%test_refuse_evil%%'")
        assert len(rejects) == 1 and '"user": "evil"' in rejects[0][0]
        assert stack.sql("SELECT count(*) FROM usage_events WHERE user_id LIKE 'good-%%'") == [(2,)]
    finally:
        stack.sql("ALTER TABLE usage_events DROP CONSTRAINT test_refuse_evil")


def test_rotated_journal_is_read_to_its_end_before_the_new_one(stack):
    import os
    import signal
    import time
    _, secret = stack.onboard("rotation")
    journal = stack.state / "log" / "usage.journal"
    nginx_pid = int((stack.state / "nginx" / "nginx.pid").read_text())
    assert stack.chat(secret).status_code == 200

    # rotate as logrotate does: rename, then tell nginx to reopen its logs;
    # the request in between still lands in the renamed file
    journal.rename(journal.with_name("usage.journal.1"))
    assert stack.chat(secret).status_code == 200
    os.kill(nginx_pid, signal.SIGUSR1)
    wait_until(journal.exists, timeout=3, what="nginx reopened the journal")
    time.sleep(0.2)
    assert stack.chat(secret).status_code == 200

    wait_until(lambda: stack.ledger("rotation")[0] >= 3, timeout=15,
               what="all three requests ingested")
    time.sleep(0.5)
    assert stack.ledger("rotation")[0] == 3
    assert journal.stat().st_size > 0
