"""When the inference pool fails, the client gets OpenAI-shaped errors and
the usage journal still records each admitted request exactly once: with no
tokens for errors, and an estimate (marked) for a stream cut short."""

import json

import pytest
import requests

from llmoin_stack import wait_until


def sim_config(stack, **settings):
    response = requests.post(f"{stack.sim_url}/sim/config", json=settings, timeout=5)
    assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def hamburg(stack):
    return stack.onboard("hamburg")


def rows(stack):
    return stack.sql("SELECT status, usage_source, prompt_tokens, completion_tokens, stream"
                     " FROM usage_events ORDER BY ts")


@pytest.fixture(autouse=True)
def healthy_sim(stack):
    yield
    sim_config(stack, fail_rate=0.0, cut_rate=0.0)


@pytest.mark.parametrize("status", [500, 503])
def test_upstream_error_passes_through_and_is_recorded_without_tokens(stack, hamburg, status):
    _, secret = hamburg
    sim_config(stack, fail_rate=1.0, fail_status=str(status))
    before = len(rows(stack))

    response = stack.chat(secret)

    assert response.status_code == status
    assert "error" in response.json()
    recorded = wait_until(lambda: rows(stack)[before:] or None, timeout=2, what="journal row")
    assert recorded == [(status, "none", 0, 0, False)]


def test_stream_cut_by_the_upstream_is_billed_as_estimated_from_chunks_seen(stack, hamburg):
    _, secret = hamburg
    sim_config(stack, cut_rate=1.0, cut_after=4)
    before_rows = len(rows(stack))
    before = stack.sim_tenant("hamburg")

    response = stack.chat(secret, "Lange Antwort bitte", stream=True)
    received = []
    try:
        for line in response.iter_lines(decode_unicode=True):
            received.append(line)
    except requests.exceptions.ChunkedEncodingError:
        pass

    assert "data: [DONE]" not in received
    served = stack.sim_tenant("hamburg")["completion_tokens"] - before["completion_tokens"]
    assert served == 4
    recorded = wait_until(lambda: rows(stack)[before_rows:] or None, timeout=2, what="journal row")
    status, source, prompt, completion, stream = recorded[0]
    assert (status, source, completion, stream) == (200, "estimated", 4, True)
    assert prompt > 0


def test_unreachable_pool_is_502_json_and_recorded(stack, hamburg):
    _, secret = hamburg
    before = len(rows(stack))
    stack.ops("stop", "infer-sim")
    try:
        response = stack.chat(secret)
    finally:
        stack.ops("start")

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_unavailable"
    assert response.headers["Retry-After"] == "1"
    recorded = wait_until(lambda: rows(stack)[before:] or None, timeout=2, what="journal row")
    assert recorded == [(502, "none", 0, 0, False)]


def test_oversized_body_is_413_json_and_never_admitted(stack, hamburg):
    _, secret = hamburg
    before = stack.sim_stats()["total"]["requests"]
    huge = json.dumps({"model": "llmoin-sim",
                       "messages": [{"role": "user", "content": "x" * (9 * 1024 * 1024)}]})

    response = requests.post(f"{stack.url}/v1/chat/completions", data=huge, timeout=30,
                             headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert stack.sim_stats()["total"]["requests"] == before


def test_models_are_listed_by_the_gateway_not_the_pool(stack, hamburg):
    _, secret = hamburg
    before = stack.sim_stats()["total"]["requests"]

    listing = stack.models(secret)

    assert listing.status_code == 200
    assert [model["id"] for model in listing.json()["data"]] == ["llmoin-sim"]
    assert stack.models("lmk_" + "A" * 43).status_code == 401
    assert stack.sim_stats()["total"]["requests"] == before


def test_client_gone_before_the_answer_is_billed_for_its_prompt(stack, hamburg):
    _, secret = hamburg
    sim_config(stack, ttft_ms=1500)
    before = len(rows(stack))
    try:
        with pytest.raises(requests.exceptions.Timeout):
            stack.chat(secret, "Eine lange Frage " * 50, timeout=0.5)
    finally:
        sim_config(stack, ttft_ms=0)

    recorded = wait_until(lambda: rows(stack)[before:] or None, timeout=4, what="journal row")
    status, source, prompt, completion, stream = recorded[0]
    assert (status, source, completion) == (499, "estimated", 0)
    assert prompt > 100
