"""One real llmoin node for the system tests: PostgreSQL, Redis, tenantd,
infer-sim and nginx with the module, started by ops/stack in a temporary
directory on free ports, and helpers to drive it (llmoinctl, HTTP, SQL).

Every test module gets its own node through the `stack` fixture in
conftest.py; nothing here is mocked.
"""

import json
import os
import pathlib
import shlex
import signal
import subprocess
import time
import uuid

import psycopg2
import requests

SOURCE = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("LLMOIN_BUILD", SOURCE / "build")).resolve()
SIM_MODEL = "llmoin-sim"


def wait_until(predicate, timeout=5.0, interval=0.05, what="condition"):
    """Polls predicate() until it returns a truthy value; returns that value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout} s (last: {last!r})")


def read_env(path):
    env = {}
    for line in path.read_text().splitlines():
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, value = line.split("=", 1)
        env[name] = " ".join(shlex.split(value)) if value.startswith('"') else value
    return env


class Stack:
    def __init__(self, state):
        self.state = pathlib.Path(state)
        self.env = {}

    # --- lifecycle ----------------------------------------------------------

    def ops(self, *args):
        command = [str(SOURCE / "ops" / "stack"), *args, "--state", str(self.state),
                   "--build", str(BUILD)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def start(self):
        self.ops("start")
        self.env = read_env(self.state / "stack.env")
        return self

    def stop(self):
        self.ops("stop")

    def restart(self, *services):
        self.ops("restart", *services)

    def kill_tenantd(self):
        """Kills tenantd without warning (SIGKILL) and starts it again."""
        pid = int((self.state / "tenantd" / "tenantd.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not _alive(pid), what="tenantd gone")
        (self.state / "tenantd" / "tenantd.pid").unlink(missing_ok=True)
        self.ops("start")

    @property
    def url(self):
        return self.env["LLMOIN_URL"]

    @property
    def sim_url(self):
        return self.env["LLMOIN_SIM_URL"]

    # --- llmoinctl ----------------------------------------------------------

    def ctl(self, *args, check=True):
        command = [str(BUILD / "tenantd" / "ctl" / "llmoinctl"), "--socket",
                   self.env["LLMOIN_SOCKET"], *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
        if check and result.returncode != 0:
            raise AssertionError(f"llmoinctl {' '.join(args)} exited {result.returncode}:"
                                 f"\n{result.stdout}\n{result.stderr}")
        return result

    def ctl_json(self, *args):
        return json.loads(self.ctl(*args, "--output", "json").stdout)

    def create_tenant(self, slug, name=None):
        return self.ctl_json("tenant", "create", slug, "--name", name or slug.title())

    def create_key(self, tenant, user):
        """Returns (key id, secret key)."""
        key = self.ctl_json("key", "create", tenant, "--user", user)
        return key["id"], key["key"]

    def add_model(self, alias=SIM_MODEL, pool="default"):
        return self.ctl_json("model", "add", alias, "--pool", pool)

    def onboard(self, slug, user="alice"):
        """A tenant with one key that works at the gateway (waits for the
        snapshot to reach nginx). Returns (key id, secret key)."""
        self.create_tenant(slug)
        key_id, secret = self.create_key(slug, user)
        self.wait_key_works(secret)
        return key_id, secret

    def wait_key_works(self, secret, timeout=3.0):
        wait_until(lambda: self.models(secret).status_code == 200, timeout=timeout,
                   what="key accepted by the gateway")

    # --- the gateway --------------------------------------------------------

    def models(self, secret):
        return requests.get(f"{self.url}/v1/models", timeout=10,
                            headers={"Authorization": f"Bearer {secret}"})

    def chat(self, secret, content="Hallo", model=SIM_MODEL, stream=False,
             headers=None, timeout=30, **fields):
        body = {"model": model, "messages": [{"role": "user", "content": content}],
                "stream": stream, **fields}
        all_headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        all_headers.update(headers or {})
        return requests.post(f"{self.url}/v1/chat/completions", json=body,
                             headers=all_headers, timeout=timeout, stream=stream)

    # --- the independent ledger and the database ----------------------------

    def sim_stats(self):
        return requests.get(f"{self.sim_url}/sim/stats", timeout=5).json()

    def sim_tenant(self, slug):
        empty = {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0}
        return self.sim_stats()["tenants"].get(slug, empty)

    def sql(self, query, *params):
        with psycopg2.connect(self.env["LLMOIN_PG_DSN"]) as connection:
            with connection.cursor() as cursor:
                cursor.execute(query, params)
                rows = cursor.fetchall() if cursor.description else []
        connection.close()
        return rows

    def ledger(self, slug):
        """(requests, prompt tokens, completion tokens) in usage_events."""
        return self.sql(
            "SELECT count(*), coalesce(sum(prompt_tokens), 0),"
            " coalesce(sum(completion_tokens), 0) FROM usage_events u"
            " JOIN tenants t ON t.id = u.tenant_id WHERE t.slug = %s", slug)[0]

    def files(self):
        """Every file under the state directory: logs, journal, snapshot,
        and PostgreSQL's data and WAL."""
        return [path for path in self.state.rglob("*") if path.is_file()]


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def marker():
    """A string that must never be stored or logged anywhere."""
    return f"LLMOIN-MARKER-{uuid.uuid4().hex}"


SANITIZER_SIGNS = (b"ERROR: AddressSanitizer", b"ERROR: LeakSanitizer", b"runtime error:")


def sanitizer_reports(state):
    """Sanitizer findings in a node's logs: ASan/UBSan write them to the
    servers' stderr logs, or to asan.*/ubsan.* files for nginx."""
    found = []
    for path in pathlib.Path(state).rglob("*"):
        if not path.is_file() or "pg" in path.relative_to(state).parts[:1]:
            continue
        if path.name.startswith(("asan.", "ubsan.")):
            found.append(f"{path}: {path.read_text(errors='replace')[:2000]}")
        elif path.suffix == ".log" and any(sign in path.read_bytes() for sign in SANITIZER_SIGNS):
            found.append(f"{path}: {path.read_text(errors='replace')[-2000:]}")
    return found
