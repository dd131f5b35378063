"""No prompt and no answer is ever stored or logged: a marker sent in
prompts appears in no file of the node (logs, journal, snapshot, PostgreSQL's
data and WAL), in no table, in no quota counter and in no report."""

from llmoin_stack import marker, places_holding, redis_client, set_limit, wait_until


def test_marker_in_prompts_appears_in_no_log_journal_or_table(stack):
    _, secret = stack.onboard("hamburg")
    secret_text = marker()
    # limits of every kind: each request passes the quota store too
    set_limit(stack, "hamburg", "user", "", rpm=10**6, tpm=10**9, concurrent=100,
              monthly_tokens=10**12)

    assert stack.chat(secret, f"Vertraulich: {secret_text}").status_code == 200
    streamed = stack.chat(secret, f"Geheim {secret_text}", stream=True)
    assert streamed.status_code == 200
    assert b"[DONE]" in streamed.content
    assert stack.chat(secret, secret_text, model="no-such-model").status_code == 404
    assert stack.chat(secret, secret_text, headers={"X-LLMoin-User": secret_text}).status_code == 400
    assert stack.chat(secret, secret_text,
                      headers={"X-LLMoin-Function": secret_text}).status_code == 400
    assert stack.chat(secret, secret_text, headers={"X-LLMoin-Function": "summarize"},
                      stream=True, stream_options={"include_usage": False}).status_code == 200
    wait_until(lambda: stack.ledger("hamburg")[0] == 3, timeout=3, what="ingestion")

    files = stack.files()
    assert any(path.name == "usage.journal" for path in files)
    assert any(path.name == "error.log" for path in files)
    assert places_holding(stack, secret_text) == []
    needle = secret_text.encode()

    rds = redis_client(stack)
    stored = [rds.dump(key) or b"" for key in rds.scan_iter(count=1000)]
    assert stored and not any(needle in value for value in stored)
    assert not any(secret_text in key for key in rds.scan_iter(count=1000))

    reports = [stack.ctl("usage", "hamburg", "--by", by, "--output", "json").stdout
               for by in ("day", "month", "user", "group", "model", "function")]
    month = stack.sql("SELECT to_char(now() AT TIME ZONE 'Europe/Berlin', 'YYYY-MM')")[0][0]
    reports.append(stack.ctl("report", "monthly", "--month", month, "--output", "json").stdout)
    assert all('"requests"' in report for report in reports)
    assert not any(secret_text in report for report in reports)
