#!/usr/bin/python3
"""tests/bench/bench_first_token.py — what asking a stream's usage costs the
first token: time to the first content chunk of streaming requests through
the gateway, for clients that asked for their usage themselves (the gateway
passes the stream as it comes) and clients that did not (the gateway adds
stream_options.include_usage and takes the usage chunk out again), side by
side with the same requests straight to infer-sim.

  tests/bench/bench_first_token.py [--build DIR] [--requests N] [--ttft-ms N]
                                   [--tokens-per-second N]

Starts its own node (ops/stack, through tests/system/llmoin_stack.py) in a
temporary directory, onboards tenant "bench", sets infer-sim's first-token
delay (--ttft-ms, 20) and pace (--tokens-per-second, 50), and sends
--requests (300) streaming requests per kind, the kinds interleaved so that
drift hits all alike, one at a time over fresh connections. Prints the
median, p90 and p99 of the time to the first content chunk per kind and
the differences. The aim of the accounting issue: the gateway's first
token unchanged within 1 ms when it asks for the usage itself.
"""

import argparse
import json
import os
import pathlib
import shutil
import socket
import statistics
import sys
import tempfile
import time

SOURCE = pathlib.Path(__file__).resolve().parents[2]


def first_content(url, headers, body):
    """Seconds from sending to the first chunk with content, over a fresh
    connection (raw HTTP/1.1, no client library buffering)."""
    host, port = url.removeprefix("http://").split(":")
    payload = json.dumps(body).encode()
    request = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
               + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
               + "Connection: close\r\n\r\n").encode() + payload
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        started = time.perf_counter()
        sock.sendall(request)
        seen = b""
        first = None
        while True:
            data = sock.recv(65536)
            if not data:
                break
            seen += data
            if first is None and b'"content":"' in seen.replace(b'"content":""', b""):
                first = time.perf_counter() - started
        assert seen.startswith(b"HTTP/1.1 200"), seen[:200]
        assert b"[DONE]" in seen
        return first


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=str(SOURCE / "build"))
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--ttft-ms", type=int, default=20)
    parser.add_argument("--tokens-per-second", type=int, default=50)
    args = parser.parse_args()
    if args.requests < 10:
        parser.error("--requests must be at least 10")

    os.environ["LLMOIN_BUILD"] = str(pathlib.Path(args.build).resolve())
    sys.path.insert(0, str(SOURCE / "tests" / "system"))
    from llmoin_stack import SIM_MODEL, Stack, sim_config  # noqa: E402

    state = tempfile.mkdtemp(prefix="llmoin-bench-ttft-")
    os.chmod(state, 0o755)
    node = Stack(state)
    try:
        node.start()
        node.add_model()
        _, secret = node.onboard("bench", "u")
        sim_config(node, ttft_ms=args.ttft_ms, tokens_per_second=args.tokens_per_second)
        base = {"model": SIM_MODEL, "stream": True, "max_tokens": 4,
                "messages": [{"role": "user", "content": "Ein kurzer Gruß."}]}
        asked = dict(base, stream_options={"include_usage": True})
        auth = {"Authorization": f"Bearer {secret}"}
        kinds = {
            "infer-sim directly, usage asked": (node.sim_url, {}, asked),
            "gateway, client asked for usage": (node.url, auth, asked),
            "gateway, gateway asked for usage": (node.url, auth, base),
        }
        times = {kind: [] for kind in kinds}
        for _ in range(3):                                   # warm-up
            for url, headers, body in kinds.values():
                first_content(url, headers, body)
        for _ in range(args.requests):
            for kind, (url, headers, body) in kinds.items():
                times[kind].append(first_content(url, headers, body) * 1000)

        print(f"time to the first content chunk, ms ({args.requests} requests per kind, "
              f"infer-sim first token after {args.ttft_ms} ms)")
        print(f"{'':36} {'p50':>8} {'p90':>8} {'p99':>8}")
        for kind, values in times.items():
            print(f"{kind:36} {statistics.median(values):8.2f} {percentile(values, 0.9):8.2f} "
                  f"{percentile(values, 0.99):8.2f}")
        asked_ms = times["gateway, client asked for usage"]
        injected_ms = times["gateway, gateway asked for usage"]
        difference = statistics.median(injected_ms) - statistics.median(asked_ms)
        print(f"gateway asking for usage adds {difference:+.2f} ms at p50 "
              f"({percentile(injected_ms, 0.99) - percentile(asked_ms, 0.99):+.2f} ms at p99); "
              f"aim: within 1 ms: {'met' if abs(difference) < 1.0 else 'not met'}")
    finally:
        node.stop()
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
