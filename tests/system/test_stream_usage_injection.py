"""Streams are billed from the usage the server reports: when a client did
not ask for it (stream_options.include_usage), the gateway asks in its
place and takes the extra usage chunk out of what the client receives. A
client that asked sees the chunk. Everything else reaches the client as the
server sent it, without waiting for the end of the stream."""

import json
import time

import pytest
import requests

from llmoin_stack import SIM_DEFAULTS, SIM_MODEL, sim_config, wait_until

PROMPT = "Bitte einen Satz über Hamburg."


@pytest.fixture(scope="module")
def secret(stack):
    return stack.onboard("stroeme", "alice")[1]


@pytest.fixture(autouse=True)
def plain_sim(stack):
    sim_config(stack, **SIM_DEFAULTS)
    yield
    sim_config(stack, **SIM_DEFAULTS)


def stream(stack, secret, **fields):
    body = {"model": SIM_MODEL, "messages": [{"role": "user", "content": PROMPT}],
            "max_tokens": 12, "stream": True, **fields}
    return requests.post(f"{stack.url}/v1/chat/completions", json=body, stream=True, timeout=30,
                         headers={"Authorization": f"Bearer {secret}"})


def events(response):
    """The data payloads the client received, [DONE] included."""
    assert response.status_code == 200, response.text
    lines = (line.decode() for line in response.iter_lines())
    return [line[len("data: "):] for line in lines if line.startswith("data: ")]


def chunks(payloads):
    assert payloads[-1] == "[DONE]"
    return [json.loads(payload) for payload in payloads[:-1]]


def text_of(parsed):
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in parsed if c["choices"])


def usage_rows(stack, request_id):
    return wait_until(lambda: stack.sql(
        "SELECT usage_source, prompt_tokens, completion_tokens FROM usage_events"
        " WHERE request_id = %s", request_id), timeout=5, what="usage row ingested")


def the_answer(stack, secret):
    body = {"model": SIM_MODEL, "messages": [{"role": "user", "content": PROMPT}],
            "max_tokens": 12}
    response = requests.post(f"{stack.url}/v1/chat/completions", json=body, timeout=30,
                             headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("options", [None, {}, {"include_usage": False},
                                     {"include_usage": None}, "null"])
def test_usage_asked_for_the_client_is_billed_as_reported_and_the_chunk_is_hidden(
        stack, secret, options):
    fields = {} if options is None else {"stream_options": None if options == "null" else options}
    response = stream(stack, secret, **fields)
    parsed = chunks(events(response))

    assert [c for c in parsed if c.get("usage")] == []
    assert all(c["choices"] for c in parsed)
    expected = the_answer(stack, secret)
    assert text_of(parsed) == expected["choices"][0]["message"]["content"]
    rows = usage_rows(stack, response.headers["X-Request-Id"])
    usage = expected["usage"]
    assert rows == [("reported", usage["prompt_tokens"], usage["completion_tokens"])]


def test_a_client_that_asked_sees_the_usage_chunk(stack, secret):
    response = stream(stack, secret, stream_options={"include_usage": True})
    parsed = chunks(events(response))
    reported = [c for c in parsed if c.get("usage")]
    assert len(reported) == 1 and reported[0]["choices"] == []
    assert parsed[-1] is reported[0]
    rows = usage_rows(stack, response.headers["X-Request-Id"])
    usage = reported[0]["usage"]
    assert rows == [("reported", usage["prompt_tokens"], usage["completion_tokens"])]


def test_malformed_stream_options_reach_the_server_unchanged(stack, secret):
    response = stream(stack, secret, stream_options="include_usage")
    assert response.status_code == 400
    assert "stream_options" in response.json()["error"]["message"]


def test_chunks_arrive_as_they_are_made(stack, secret):
    """infer-sim makes 5 tokens a second: the first content chunk must reach
    the client long before the stream ends."""
    sim_config(stack, tokens_per_second=5)
    started = time.monotonic()
    response = stream(stack, secret)
    arrivals = []
    for line in response.iter_lines(decode_unicode=True):
        if line.startswith("data: {"):
            chunk = json.loads(line[len("data: "):])
            if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                arrivals.append(time.monotonic() - started)
    assert len(arrivals) >= 5
    assert arrivals[0] < 0.6, arrivals
    assert arrivals[-1] - arrivals[0] > 1.0, arrivals
    # evenly spread: no chunk waited for the next one
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    assert max(gaps) < 0.5, gaps


def test_a_stream_cut_by_the_server_is_estimated_and_what_came_reaches_the_client(stack, secret):
    sim_config(stack, cut_rate=1.0, cut_after=3)
    response = stream(stack, secret)
    received = []
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        for line in response.iter_lines(decode_unicode=True):
            if line.startswith("data: "):
                received.append(line)
    assert len(received) >= 3
    rows = usage_rows(stack, response.headers["X-Request-Id"])
    assert rows[0][0] == "estimated"
