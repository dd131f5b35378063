"""One request end to end: onboarded with llmoinctl, answered by infer-sim
through nginx and the module, counted by tenantd in PostgreSQL."""

import json

import requests

from llmoin_stack import wait_until


def usage_rows(stack, tenant, by):
    report = stack.ctl_json("usage", tenant, "--by", by)
    return report["rows"], report["totals"]


def test_completion_is_answered_by_infer_sim_and_counted_within_2s(stack):
    stack.create_tenant("hamburg", "Freie und Hansestadt Hamburg")
    _, secret = stack.create_key("hamburg", "alice")
    stack.wait_key_works(secret)
    before = stack.sim_tenant("hamburg")

    response = stack.chat(secret, "Bitte fasse den Vermerk zusammen.")

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["object"] == "chat.completion"
    assert answer["choices"][0]["message"]["content"].startswith("Gerne helfe ich")
    usage = answer["usage"]
    after = stack.sim_tenant("hamburg")
    assert after["requests"] == before["requests"] + 1
    assert after["prompt_tokens"] - before["prompt_tokens"] == usage["prompt_tokens"]
    assert after["completion_tokens"] - before["completion_tokens"] == usage["completion_tokens"]

    rows, totals = wait_until(
        lambda: (lambda r: r if r[1]["requests"] == 1 else None)(usage_rows(stack, "hamburg", "model")),
        timeout=2.0, what="usage visible in llmoinctl")
    assert rows == [{"key": "llmoin-sim", "requests": 1, "estimated_requests": 0,
                     "failed_requests": 0, "prompt_tokens": usage["prompt_tokens"],
                     "completion_tokens": usage["completion_tokens"],
                     "total_tokens": usage["total_tokens"]}]
    assert totals["total_tokens"] == usage["total_tokens"]

    by_user, _ = usage_rows(stack, "hamburg", "user")
    assert [row["key"] for row in by_user] == ["alice"]


def test_streamed_completion_arrives_as_sse_and_its_reported_usage_is_counted(stack):
    _, secret = stack.onboard("bremen", "bob")

    response = stack.chat(secret, "Schreibe eine E-Mail.", stream=True,
                          stream_options={"include_usage": True}, max_tokens=7)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    events = [line[len("data: "):] for line in response.iter_lines(decode_unicode=True)
              if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    usage = [chunk["usage"] for chunk in chunks if chunk.get("usage")]
    assert len(usage) == 1 and usage[0]["completion_tokens"] == 7
    text = "".join(chunk["choices"][0]["delta"].get("content", "")
                   for chunk in chunks if chunk["choices"])
    assert len(text.split()) == 7

    requests_, prompt, completion = wait_until(
        lambda: (lambda row: row if row[0] == 1 else None)(stack.ledger("bremen")),
        timeout=2.0, what="streamed request in the ledger")
    assert (prompt, completion) == (usage[0]["prompt_tokens"], 7)
    assert stack.sql("SELECT usage_source, stream FROM usage_events u JOIN tenants t"
                     " ON t.id = u.tenant_id WHERE t.slug = 'bremen'") == [("reported", True)]


def test_upstream_never_sees_the_clients_credential(stack):
    _, secret = stack.onboard("niedersachsen")

    assert stack.chat(secret).status_code == 200

    stats = stack.sim_stats()
    assert stats["authorization_headers"] == 0
    assert stats["tenants"]["niedersachsen"]["requests"] == 1


def test_request_errors_are_openai_shaped_and_never_reach_the_pool(stack):
    _, secret = stack.onboard("rheinland-pfalz")
    before = stack.sim_stats()["total"]["requests"]
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    url = f"{stack.url}/v1/chat/completions"

    cases = [
        (b'{"model": "gpt-4", "messages": []}', 404, "model_not_found"),
        (b'{"messages": []}', 400, "missing_model"),
        (b'{"model": 7}', 400, "invalid_model"),
        (b'{"model": "llmoin-sim", "stream": "yes"}', 400, "invalid_stream"),
        (b'this is not json', 400, "invalid_json"),
        (b'[1, 2]', 400, "invalid_json"),
    ]
    for body, status, code in cases:
        response = requests.post(url, data=body, headers=headers, timeout=10)
        assert response.status_code == status, (body, response.text)
        error = response.json()["error"]
        assert error["code"] == code
        assert error["message"]

    assert stack.sim_stats()["total"]["requests"] == before


def test_configuration_changes_reach_nginx_without_a_reload(stack):
    pid_before = (stack.state / "nginx" / "nginx.pid").read_text()
    _, secret = stack.onboard("sachsen-anhalt")

    assert stack.chat(secret).status_code == 200
    assert (stack.state / "nginx" / "nginx.pid").read_text() == pid_before


def test_chunked_request_body_is_read_like_any_other(stack):
    _, secret = stack.onboard("chunked")
    body = json.dumps({"model": "llmoin-sim", "messages": [{"role": "user", "content": "Hallo"}]})

    def pieces():
        yield body[:10].encode()
        yield body[10:].encode()

    response = requests.post(f"{stack.url}/v1/chat/completions", data=pieces(), timeout=10,
                             headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code == 200, response.text
    assert response.json()["usage"]["prompt_tokens"] > 0
    assert "exited on signal" not in (stack.state / "nginx" / "logs" / "error.log").read_text()


def test_refusals_after_the_body_answer_once_and_keep_the_connection(stack):
    _, secret = stack.onboard("keepalive")
    session = requests.Session()
    headers = {"Authorization": f"Bearer {secret}"}
    url = f"{stack.url}/v1/chat/completions"

    statuses = [session.post(url, data=body, headers=headers, timeout=10).status_code
                for body in (b"kaputt", b'{"messages": []}', b'{"model": "llmoin-sim", "stream": "ja"}',
                             json.dumps({"model": "llmoin-sim", "messages": [
                                 {"role": "user", "content": "x"}]}).encode())]

    assert statuses == [400, 400, 400, 200]
    log = (stack.state / "nginx" / "logs" / "error.log").read_text()
    assert "[alert]" not in log and "header already sent" not in log


def test_one_model_is_answered_by_the_gateway(stack):
    _, secret = stack.onboard("einzeln")
    headers = {"Authorization": f"Bearer {secret}"}

    found = requests.get(f"{stack.url}/v1/models/llmoin-sim", headers=headers, timeout=5)
    missing = requests.get(f"{stack.url}/v1/models/gpt-4", headers=headers, timeout=5)
    bodyless = requests.get(f"{stack.url}/v1/files", headers=headers, timeout=5)

    assert found.status_code == 200
    assert found.json() == {"id": "llmoin-sim", "object": "model", "created": 0, "owned_by": "llmoin"}
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"
    assert bodyless.status_code == 400 and bodyless.json()["error"]["code"] == "missing_model"
