"""The usage chunk the gateway asked for is taken out of a stream however
the server's bytes are split: this node's inference server is a small
scripted SSE server (not infer-sim) that writes a fixed stream in pieces of
random sizes, with pauses, so nginx receives events cut anywhere — in the
middle of a line, between "\\r" and "\\n", one byte at a time. The client must
receive exactly the server's bytes without the usage-only event, and the
gateway must bill the usage that event reported."""

import http.server
import json
import random
import socketserver
import threading
import time

import pytest
import requests

from conftest import running_node
from llmoin_stack import SIM_MODEL, wait_until

USAGE = {"prompt_tokens": 17, "completion_tokens": 4, "total_tokens": 21}


def chunk(delta=None, finish=None, **extra):
    body = {"id": "chatcmpl-split", "object": "chat.completion.chunk", "created": 1,
            "model": SIM_MODEL,
            "choices": [] if delta is None else [{"index": 0, "delta": delta,
                                                  "finish_reason": finish}], **extra}
    return "data: " + json.dumps(body, ensure_ascii=False)


def events(newline):
    """The server's stream as its events, each with its terminating blank
    line; the usage-only one marked."""
    def event(*lines):
        return newline.join(lines) + newline + newline
    return [
        (event(": keep-alive"), False),
        (event(chunk({"role": "assistant", "content": ""})), False),
        (event(chunk({"content": "Grüße "})), False),
        (event(chunk({"content": "aus "}), ), False),
        (event("event: message", chunk({"content": "Hamburg"})), False),
        (event(chunk({}, finish="stop")), False),
        (event(chunk(None, usage=USAGE)), True),
        (event("data: [DONE]"), False),
    ]


class Script:
    """What the scripted server sends next: the newline style and the seed
    of the random split."""
    newline = "\n"
    seed = 0
    bodies = []


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Script.bodies.append(json.loads(body))
        stream = "".join(text for text, _ in events(Script.newline)).encode()
        rng = random.Random(Script.seed)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        at = 0
        while at < len(stream):
            size = rng.choice([1, 1, 2, 3, 5, 8, 13, 40, 200])
            piece = stream[at:at + size]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.flush()
            at += size
            time.sleep(rng.choice([0, 0, 0.001, 0.003]))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


@pytest.fixture(scope="module")
def scripted():
    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def stack(scripted):
    """A node whose pool is the scripted server."""
    with running_node("test_stream_split", "--inference", scripted) as node:
        yield node


@pytest.fixture(scope="module")
def secret(stack):
    return stack.onboard("splits", "alice")[1]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("seed", range(8))
def test_the_client_gets_the_stream_without_the_usage_event_whatever_the_split(
        stack, secret, newline, seed):
    Script.newline, Script.seed = newline, seed
    body = {"model": SIM_MODEL, "stream": True, "max_tokens": 8,
            "messages": [{"role": "user", "content": "Hallo"}]}
    response = requests.post(f"{stack.url}/v1/chat/completions", json=body, timeout=10,
                             headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200, response.text

    expected = "".join(text for text, usage_only in events(newline) if not usage_only)
    assert response.content == expected.encode()
    assert Script.bodies[-1]["stream_options"] == {"include_usage": True}

    rows = wait_until(lambda: stack.sql(
        "SELECT usage_source, prompt_tokens, completion_tokens FROM usage_events"
        " WHERE request_id = %s", response.headers["X-Request-Id"]), timeout=5,
        what="usage row")
    assert rows == [("reported", USAGE["prompt_tokens"], USAGE["completion_tokens"])]


def test_a_client_that_asked_gets_every_byte(stack, secret):
    Script.newline, Script.seed = "\n", 99
    body = {"model": SIM_MODEL, "stream": True, "max_tokens": 8,
            "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "Hallo"}]}
    response = requests.post(f"{stack.url}/v1/chat/completions", json=body, timeout=10,
                             headers={"Authorization": f"Bearer {secret}"})
    assert response.content == "".join(text for text, _ in events("\n")).encode()
