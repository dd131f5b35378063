"""No prompt and no answer is ever stored or logged: a marker sent in
prompts appears in no file of the node (logs, journal, snapshot, PostgreSQL's
data and WAL) and in no table."""

import subprocess

from llmoin_stack import marker, wait_until


def test_marker_in_prompts_appears_in_no_log_journal_or_table(stack):
    _, secret = stack.onboard("hamburg")
    secret_text = marker()

    assert stack.chat(secret, f"Vertraulich: {secret_text}").status_code == 200
    streamed = stack.chat(secret, f"Geheim {secret_text}", stream=True)
    assert streamed.status_code == 200
    assert b"[DONE]" in streamed.content
    assert stack.chat(secret, secret_text, model="no-such-model").status_code == 404
    assert stack.chat(secret, secret_text, headers={"X-LLMoin-User": secret_text}).status_code == 400
    wait_until(lambda: stack.ledger("hamburg")[0] == 2, timeout=3, what="ingestion")
    stack.sql("CHECKPOINT")

    files = stack.files()
    assert any(path.name == "usage.journal" for path in files)
    assert any(path.name == "error.log" for path in files)
    needle = secret_text.encode()
    leaked = [str(path) for path in files if needle in path.read_bytes()]
    assert leaked == []

    dump = subprocess.run(["pg_dump", "--data-only", stack.env["LLMOIN_PG_DSN"]],
                          capture_output=True, check=True).stdout
    assert b"usage_events" in dump
    assert needle not in dump
