"""The entry function and the time to the first answer byte in the usage
journal: the web page names its function (chat, summarize, write, research,
plain_language) with X-LLMoin-Function, the one X-LLMoin-* header a client
may send; the gateway checks it and writes it, and when the answer's first
byte went out, into the journal line (tenantd stores both with the usage
row)."""

import http.client
import json
from types import SimpleNamespace

import pytest

from llmoin_stack import SIM_MODEL, wait_until

FUNCTIONS = ("chat", "summarize", "write", "research", "plain_language")


def post(stack, secret, headers=(), stream=False):
    """A chat request with exactly these extra headers (a name may repeat)."""
    body = json.dumps({"model": SIM_MODEL, "max_tokens": 5, "stream": stream,
                       "messages": [{"role": "user", "content": "Fasse zusammen."}]})
    host, port = stack.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.putrequest("POST", "/v1/chat/completions")
        for name, value in (("Authorization", f"Bearer {secret}"),
                            ("Content-Type", "application/json"),
                            ("Content-Length", str(len(body))), *headers):
            connection.putheader(name, value)
        connection.endheaders(body.encode())
        response = connection.getresponse()
        text = response.read().decode()
        return SimpleNamespace(status_code=response.status, headers=response.headers, text=text,
                               json=lambda: json.loads(text))
    finally:
        connection.close()


def journal_line(stack, request_id):
    def find():
        for line in (stack.state / "log" / "usage.journal").read_text().splitlines():
            record = json.loads(line)
            if record["request_id"] == request_id:
                return record
        return None
    return wait_until(find, timeout=3, what=f"journal line of {request_id}")


@pytest.fixture(scope="module")
def secret(stack):
    return stack.onboard("funktionen", "alice")[1]


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("stream", [False, True])
def test_a_named_function_and_the_first_byte_time_are_journaled(stack, secret, function, stream):
    response = post(stack, secret, [("X-LLMoin-Function", function)], stream=stream)
    assert response.status_code == 200, response.text
    record = journal_line(stack, response.headers["X-Request-Id"])
    assert record["function"] == function
    first, total = float(record["first_byte_time"]), float(record["request_time"])
    assert 0 <= first <= total
    assert record["first_byte_time"].count(".") == 1 and len(record["first_byte_time"].split(".")[1]) == 3


def test_without_the_header_the_function_is_empty(stack, secret):
    response = post(stack, secret)
    assert response.status_code == 200
    record = journal_line(stack, response.headers["X-Request-Id"])
    assert record["function"] == ""
    assert float(record["first_byte_time"]) <= float(record["request_time"])


@pytest.mark.parametrize("headers", [
    [("X-LLMoin-Function", "Chat")],
    [("X-LLMoin-Function", "translate")],
    [("X-LLMoin-Function", "")],
    [("X-LLMoin-Function", "chat,write")],
    [("X-LLMoin-Function", "plain-language")],
    [("X-LLMoin-Function", "plain_languages")],
    [("X-LLMoin-Function", "chat"), ("X-LLMoin-Function", "write")],
])
def test_another_value_or_the_header_twice_is_refused_before_anything_runs(stack, secret, headers):
    before = stack.sim_tenant("funktionen")["requests"]
    response = post(stack, secret, headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == {
        "message": "The header X-LLMoin-Function must be given at most once, as chat, "
                   "summarize, write, research or plain_language.",
        "type": "invalid_request_error", "param": None, "code": "invalid_function"}
    assert stack.sim_tenant("funktionen")["requests"] == before


def test_other_x_llmoin_headers_stay_reserved(stack, secret):
    response = post(stack, secret, [("X-LLMoin-Function", "chat"), ("X-LLMoin-User", "mallory")])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "reserved_header"
