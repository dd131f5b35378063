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
