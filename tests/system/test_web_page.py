"""The employees' web page (web/) in a real browser against a real node:
Debian's chromium, driven headless by playwright-core from npm, runs
tests/web/web_page.mjs, which signs in through the development identity
provider and uses every function of the page end to end with streamed
answers from infer-sim: Freier Prompt (stop, copy, injected markup shown as
text), Zusammenfassen (also from an uploaded file), Texte formulieren,
In Dokumenten recherchieren (a multi-page PDF, a DOCX and a TXT read in the
browser; the passages ranked to fit; an answer citing (Datei, Seite) whose
button shows the passage), Einfache Sprache; shows a 403, a 429, a 503 and
an expired sign-in in German, answers cut off by the connection or by the
max_tokens cap, renewing the sign-in in a small window (also as someone
else), signing out at the provider, a page whose files do not load; runs
axe-core on every view, checks every view at 768 and 320 px and saves
screenshots to tests/artifacts/web/
(LLMOIN_WEB_ARTIFACTS to change). Afterwards the usage of every function is
in the tenant's report, and no prompt text reached a log or the database.

infer-sim answers only with its own word list, so a second inference pool,
`scripted`, is a small server in this process: it streams markup for the
injection case, cites the passage about the Ausschlussfrist for research
requests, and keeps the last request body so the browser test can check the
prompt a function built. It is added to this node's nginx through the
nginx/conf/extra/ include of ops/templates/nginx.conf.in. Changes the test
needs at the gateway (a limit, a suspension, the sign-in provider switched
off) go through a control server here that waits until every nginx worker
has applied them.

Skipped, with the reason, when node, npm's packages (npm ci in tests/web)
or /usr/bin/chromium are not available."""

import http.server
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import threading

import pytest

from llmoin_stack import (SOURCE, marker, places_holding, read_snapshot, wait_snapshot_applied,
                          wait_until)

WEB_TESTS = SOURCE / "tests" / "web"
sys.path.insert(0, str(WEB_TESTS))
import fixtures  # noqa: E402  (tests/web/fixtures.py)

CHROMIUM = "/usr/bin/chromium"
TENANT = "hamburg"
USER = "erika"
SCRIPTED_MODEL = "scripted-model"
FUNCTIONS = ("chat", "summarize", "write", "research", "plain_language")
# In every prompt the browser test sends; must never reach a log or table.
MARKER = marker()

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

PASSAGE = re.compile(r"\[(\d+)\] \(Datei: ([^,\n]+), Seite (\d+)\)\n<<<\n(.*?)\n>>>", re.S)


def citing_pieces(prompt):
    """What a model that follows the research instructions says: the
    passage that names the Ausschlussfrist, cited by number (split across
    chunks) and once more by its heading."""
    for number, file, page, text in PASSAGE.findall(prompt):
        if "Ausschlussfrist" in text:
            return ["Die Reisekostenabrechnung ist innerhalb von sechs Monaten einzureichen [",
                    f"{number}]. Zuständig ist die Reisekostenstelle ",
                    f"(Datei: {file}, Seite {page})."]
    return ["Keine der Textstellen nennt eine Ausschlussfrist."]


def scripted_pieces(body):
    messages = body.get("messages") or [{}]
    prompt = messages[-1].get("content", "")
    if "Textstellen:" in prompt:
        return citing_pieces(prompt)
    if "Zeig mir etwas" in prompt:
        return SCRIPTED_PIECES
    return ["Ein ", "geskripteter ", "Entwurf."]


class SmallServer:
    """A threaded HTTP server on a free loopback port for one handler."""

    def __init__(self, handler):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.address = f"127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class ScriptedUpstream(SmallServer):
    """An OpenAI-compatible inference server answering with
    scripted_pieces(); GET /last returns the last request body."""

    def __init__(self):
        upstream = self
        self.last = {}

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                body = json.dumps(upstream.last).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                upstream.last = body
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for piece in scripted_pieces(body):
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

        super().__init__(Handler)


class Control(SmallServer):
    """POST /ACTION: changes the browser test needs at the gateway, answered
    once every nginx worker has the snapshot that holds the change."""

    def __init__(self, stack):
        actions = {
            "rpm-1": ("limits", "set", TENANT, "--user", USER, "--rpm", "1"),
            "rpm-clear": ("limits", "clear", TENANT, "--user", USER),
            "suspend": ("tenant", "suspend", TENANT),
            "resume": ("tenant", "resume", TENANT),
            "sign-in-off": ("tenant", "dev-idp", TENANT, "--disable"),
            "cap-5": ("tenant", "update", TENANT, "--max-tokens-cap", "5"),
            "cap-back": ("tenant", "update", TENANT, "--max-tokens-cap", "4096"),
        }

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                arguments = actions.get(self.path.strip("/"))
                if arguments is None:
                    self.send_error(404)
                    return
                before = read_snapshot(stack)["version"]
                stack.ctl(*arguments)
                wait_snapshot_applied(stack, lambda snapshot: snapshot["version"] > before,
                                      timeout=10)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(Handler)


def browser_tools_missing():
    """Why the browser test cannot run here, or None. Installs the npm
    packages of tests/web (npm ci) when they are missing."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are not installed (Node.js 20 or newer; Debian 12's is 18)"
    version = subprocess.run(["node", "-p", "process.versions.node"], capture_output=True,
                             text=True).stdout.strip()
    if int(version.split(".")[0] or 0) < 20:
        return f"node {version} is too old: playwright-core needs Node.js 20 or newer"
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
    wait_snapshot_applied(stack, lambda snapshot: True)
    control = Control(stack)
    yield stack, scripted, control
    control.close()
    scripted.close()


def write_fixtures(directory):
    """The documents the research and summary cases upload."""
    fixtures.write_pdf(directory / "Dienstreiserichtlinie.pdf", fixtures.RESEARCH_PAGES)
    haystack = [[f"Haushaltsplan Kapitel {page} Titelgruppe {line}: Ansatz der Mittel für "
                 f"Sachausgaben, Verwaltungsausgaben und Zuweisungen {page * 100 + line} Euro."
                 for line in range(30)] for page in range(1, 31)]
    fixtures.write_pdf(directory / "Haushaltsplan.pdf", haystack)
    fixtures.write_docx(directory / "Vermerk.docx",
                        [["Vermerk zur Besprechung am 3. März.", "Teilnehmende: Referat 21."],
                         ["Ergebnis: Die Vorlage wird überarbeitet."]])
    (directory / "Notiz.txt").write_text(
        "Notiz zum Bürgerbüro.\nDie Öffnungszeiten werden ab Mai verlängert.\n", encoding="utf-8")


def usage_by_function(stack):
    """Requests per entry function in the tenant's report this month."""
    report = stack.ctl_json("usage", TENANT, "--by", "function")
    return {row["key"]: row["requests"] for row in report["rows"] if row["key"] in FUNCTIONS}


def test_web_page_in_chromium(web_node, tmp_path):
    missing = browser_tools_missing()
    if missing is not None:
        pytest.skip(missing)
    stack, scripted, control = web_node
    artifacts = pathlib.Path(os.environ.get("LLMOIN_WEB_ARTIFACTS",
                                            SOURCE / "tests" / "artifacts" / "web"))
    artifacts.mkdir(parents=True, exist_ok=True)
    write_fixtures(tmp_path)
    environment = dict(os.environ,
                       LLMOIN_URL=stack.url, LLMOIN_SIM_URL=stack.sim_url,
                       LLMOIN_SCRIPTED_MODEL=SCRIPTED_MODEL,
                       LLMOIN_SCRIPTED_URL=f"http://{scripted.address}",
                       LLMOIN_CONTROL_URL=f"http://{control.address}",
                       LLMOIN_FIXTURES=str(tmp_path), LLMOIN_MARKER=MARKER,
                       LLMOIN_FUNCTIONS_DIR=str(SOURCE / "web" / "functions"),
                       LLMOIN_WEB_ARTIFACTS=str(artifacts), CHROMIUM=CHROMIUM)
    result = subprocess.run(["node", str(WEB_TESTS / "web_page.mjs")], env=environment,
                            capture_output=True, text=True, timeout=400)
    print(result.stdout)
    assert result.returncode == 0, f"web_page.mjs failed:\n{result.stdout}\n{result.stderr}"

    counts = wait_until(lambda: (lambda c: c if set(c) == set(FUNCTIONS) else None)(
        usage_by_function(stack)), timeout=20, what="usage of every function in the report")
    assert all(count >= 1 for count in counts.values()), counts
    assert places_holding(stack, MARKER) == []
