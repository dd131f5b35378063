"""The employees' web page (web/) in a real browser against a real node:
Debian's chromium, driven headless by playwright-core from npm, runs
tests/web/web_page.mjs, which signs in through the development identity
provider, streams answers, stops one, copies one, checks that injected
markup in an answer is shown as text and never runs, shows a 429 and an
expired sign-in in German, runs axe-core on each view and saves
screenshots to tests/artifacts/web/ (LLMOIN_WEB_ARTIFACTS to change).

infer-sim answers only with its own word list, so the injection case uses a
second inference pool, `scripted`: a small server in this process that
streams a fixed answer full of markup, added to this node's nginx through
the nginx/conf/extra/ include of ops/templates/nginx.conf.in.

Skipped, with the reason, when node, npm's packages (npm ci in tests/web)
or /usr/bin/chromium are not available."""

import http.server
import json
import os
import pathlib
import shutil
import subprocess
import threading

import pytest

from llmoin_stack import BUILD, SOURCE, wait_until

WEB_TESTS = SOURCE / "tests" / "web"
CHROMIUM = "/usr/bin/chromium"
TENANT = "hamburg"
SCRIPTED_MODEL = "scripted-model"

# Split across chunks on purpose: the page must not be fooled by a tag that
# arrives in pieces.
SCRIPTED_PIECES = [
    "Hier ist **fett** gedruckter Text mit einem ",
    "[gefährlichen Link](javascript:window.__llmoinInjected='link') und einem ",
    "[sicheren Link](https://example.org/).\n\n<scr",
    "ipt>window.__llmoinInjected='script'</script>\n\n",
    "<img src=x onerror=\"window.__llmoinInjected='img'\">\n\n",
    "- erster Punkt\n- zweiter Punkt",
]


class ScriptedUpstream:
    """An OpenAI-compatible inference server that streams SCRIPTED_PIECES."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for piece in SCRIPTED_PIECES:
                    self.chunk({"choices": [{"index": 0, "delta": {"content": piece},
                                             "finish_reason": None}]})
                self.chunk({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                self.chunk({"choices": [], "usage": {"prompt_tokens": 10,
                                                     "completion_tokens": 40,
                                                     "total_tokens": 50}})
                self.send_event("[DONE]")
                self.wfile.write(b"0\r\n\r\n")

            def chunk(self, fields):
                self.send_event(json.dumps({"id": "chatcmpl-scripted",
                                            "object": "chat.completion.chunk", "created": 0,
                                            "model": SCRIPTED_MODEL, **fields}))

            def send_event(self, data):
                event = f"data: {data}\n\n".encode()
                self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
                self.wfile.flush()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.address = f"127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def browser_tools_missing():
    """Why the browser test cannot run here, or None. Installs the npm
    packages of tests/web (npm ci) when they are missing."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are not installed"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (apt-get install chromium; ops/lib/packages.sh lists it)"
    if not (WEB_TESTS / "node_modules" / "playwright-core").is_dir():
        result = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=WEB_TESTS,
                                capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            return f"npm ci in tests/web failed: {result.stderr.strip()[-500:]}"
    return None


@pytest.fixture(scope="module")
def web_node(stack):
    """The stack with the scripted pool and the tenant hamburg, signing in
    with the development identity provider."""
    scripted = ScriptedUpstream()
    (stack.state / "nginx" / "conf" / "extra" / "web_page.conf").write_text(
        f"# written by tests/system/test_web_page.py\n"
        f"upstream llmoin_pool_scripted {{\n    server {scripted.address};\n}}\n")
    stack.ops("reload-nginx")
    stack.ctl("pool", "set", "scripted", "--description", "scripted answers for the web test")
    stack.ctl("model", "add", SCRIPTED_MODEL, "--pool", "scripted")
    stack.create_tenant(TENANT)
    stack.ctl("limits", "set", TENANT, "--default-user", "--rpm", "60",
              "--monthly-tokens", "2000000")
    stack.ctl("tenant", "dev-idp", TENANT, "--enable")
    token = stack.ctl("dev-token", TENANT, "--user", "probe", "--ttl", "10m").stdout.strip()
    wait_until(lambda: stack.models(token).status_code == 200, timeout=5,
               what="a development token accepted by the gateway")
    yield stack
    scripted.close()


def test_web_page_in_chromium(web_node):
    missing = browser_tools_missing()
    if missing is not None:
        pytest.skip(missing)
    artifacts = pathlib.Path(os.environ.get("LLMOIN_WEB_ARTIFACTS",
                                            SOURCE / "tests" / "artifacts" / "web"))
    artifacts.mkdir(parents=True, exist_ok=True)
    environment = dict(os.environ,
                       LLMOIN_URL=web_node.url, LLMOIN_SIM_URL=web_node.sim_url,
                       LLMOIN_TENANT=TENANT, LLMOIN_SCRIPTED_MODEL=SCRIPTED_MODEL,
                       LLMOIN_CTL=str(BUILD / "tenantd" / "ctl" / "llmoinctl"),
                       LLMOIN_SOCKET=web_node.env["LLMOIN_SOCKET"],
                       LLMOIN_WEB_ARTIFACTS=str(artifacts), CHROMIUM=CHROMIUM)
    result = subprocess.run(["node", str(WEB_TESTS / "web_page.mjs")], env=environment,
                            capture_output=True, text=True, timeout=300)
    print(result.stdout)
    assert result.returncode == 0, f"web_page.mjs failed:\n{result.stdout}\n{result.stderr}"
