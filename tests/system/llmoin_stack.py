"""One real llmoin node for the system tests: PostgreSQL, Redis, tenantd,
infer-sim and nginx with the module, started by ops/stack in a temporary
directory on free ports, and helpers to drive it (llmoinctl, HTTP, SQL).

Every test module gets its own node through the `stack` fixture in
conftest.py; nothing here is mocked.
"""

import contextlib
import http.client
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

    def start(self, *args):
        self.ops("start", *args)
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

    def wait_key_works(self, secret, timeout=10.0):
        """Until the key is accepted, and every nginx worker has the
        snapshot that holds it (one worker accepting it is not all)."""
        wait_until(lambda: self.models(secret).status_code == 200, timeout=timeout,
                   what="key accepted by the gateway")
        wait_snapshot_applied(self, lambda snapshot: True, timeout=timeout)

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


@contextlib.contextmanager
def database_up_to(stack, name, last):
    """A scratch database NAME on the node's PostgreSQL with the migrations
    schema/0001 to schema/LAST only (a migration test starts from there);
    yields an autocommit cursor and drops the database afterwards."""
    dsn = stack.env["LLMOIN_PG_DSN"]
    admin = psycopg2.connect(dsn.replace("dbname=llmoin", "dbname=postgres"))
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    connection = psycopg2.connect(dsn.replace("dbname=llmoin", f"dbname={name}"))
    connection.autocommit = True
    try:
        for path in sorted((SOURCE / "schema").glob("[0-9][0-9][0-9][0-9]_*.sql")):
            if int(path.name[:4]) <= last:
                with connection:
                    connection.cursor().execute(path.read_text())
        yield connection.cursor()
    finally:
        connection.close()
        admin.cursor().execute(f'DROP DATABASE "{name}"')
        admin.close()


def places_holding(stack, text):
    """The node's files, and a data dump of its database, that contain
    text (after a CHECKPOINT, so PostgreSQL's files are current too)."""
    stack.sql("CHECKPOINT")
    needle = text.encode()
    found = [str(path) for path in stack.files() if needle in path.read_bytes()]
    dump = subprocess.run(["pg_dump", "--data-only", stack.env["LLMOIN_PG_DSN"]],
                          capture_output=True, check=True).stdout
    assert b"usage_events" in dump
    if needle in dump:
        found.append("pg_dump --data-only")
    return found


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


# --- quotas: limits, Redis, nginx workers, a second gateway, the clock -------
# (used by test_quota.py)

import re as _re
import socket as _socket


def redis_client(stack):
    """The node's Redis (the quota counters), over its unix socket."""
    import redis
    return redis.Redis(unix_socket_path=stack.env["LLMOIN_REDIS_SOCKET"],
                       decode_responses=True, socket_timeout=5)


def tenant_id(stack, slug):
    return stack.sql("SELECT id FROM tenants WHERE slug = %s", slug)[0][0]


def quota_key(tenant, kind, scope, subject="", month=None):
    """The Redis key of a counter, as common/quota.h names it."""
    key = f"llmoin:{{t{tenant}}}:{kind}:{scope}:{subject}"
    return f"{key}:{month}" if month else key


def read_snapshot(stack):
    return json.loads(pathlib.Path(stack.env["LLMOIN_SNAPSHOT"]).read_text())


def snapshot_tenant(snapshot, slug):
    return next((t for t in snapshot["tenants"] if t["slug"] == slug), None)


def nginx_workers(prefix):
    """Pids of the running (not shutting down) workers of the nginx whose
    prefix directory is given."""
    try:
        master = int((pathlib.Path(prefix) / "nginx.pid").read_text())
    except (FileNotFoundError, ValueError):
        return []
    workers = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").strip()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == master and cmdline == b"nginx: worker process":
            workers.append(int(entry.name))
    return sorted(workers)


_SNAPSHOT_LOADED = _re.compile(rb"(\d+)#\d+: llmoin: snapshot version (\d+) loaded")


def _workers_loaded(prefix, version):
    """True when every running worker of that nginx logged a snapshot of
    at least that version."""
    workers = nginx_workers(prefix)
    if not workers:
        return False
    log = (pathlib.Path(prefix) / "logs" / "error.log").read_bytes()
    seen = {}
    for pid, loaded in _SNAPSHOT_LOADED.findall(log):
        seen[int(pid)] = max(seen.get(int(pid), 0), int(loaded))
    return all(seen.get(pid, 0) >= version for pid in workers)


def wait_snapshot_applied(stack, predicate, prefixes=(), timeout=5.0):
    """Waits until tenantd's snapshot satisfies predicate(snapshot) and then
    until every worker of the node's nginx (and of each extra nginx prefix)
    has loaded that snapshot or a later one. Returns the snapshot."""
    def ready():
        try:
            snapshot = read_snapshot(stack)
        except (FileNotFoundError, ValueError):
            return None
        return snapshot if predicate(snapshot) else None
    snapshot = wait_until(ready, timeout=timeout, what="snapshot written")
    for prefix in (stack.state / "nginx", *prefixes):
        wait_until(lambda: _workers_loaded(prefix, snapshot["version"]), timeout=timeout,
                   what=f"snapshot {snapshot['version']} loaded by every worker of {prefix}")
    return snapshot


LIMIT_KINDS = ("rpm", "tpm", "concurrent", "monthly_tokens")


def set_limit(stack, slug, scope, subject="", wait=True, prefixes=(), **kinds):
    """Sets the limits row (tenant, scope, subject) — kinds not given are
    unlimited — and waits until the gateway applies it."""
    unknown = set(kinds) - set(LIMIT_KINDS)
    assert not unknown, f"unknown limit kinds {unknown}"
    values = [kinds.get(kind) for kind in LIMIT_KINDS]
    stack.sql("INSERT INTO limits (tenant_id, scope, subject, rpm, tpm, concurrent, monthly_tokens)"
              " SELECT id, %s, %s, %s, %s, %s, %s FROM tenants WHERE slug = %s"
              " ON CONFLICT (tenant_id, scope, subject) DO UPDATE SET rpm = EXCLUDED.rpm,"
              " tpm = EXCLUDED.tpm, concurrent = EXCLUDED.concurrent,"
              " monthly_tokens = EXCLUDED.monthly_tokens",
              scope, subject, *values, slug)
    wanted = dict(zip(LIMIT_KINDS, values), scope=scope, subject=subject)

    def applied(snapshot):
        tenant = snapshot_tenant(snapshot, slug)
        return tenant is not None and wanted in tenant.get("limits", [])
    if wait:
        wait_snapshot_applied(stack, applied, prefixes)


def set_tenant_quota(stack, slug, prefixes=(), **columns):
    """Updates max_tokens_cap and/or quota_fail_mode and waits until the
    gateway applies it."""
    assert set(columns) <= {"max_tokens_cap", "quota_fail_mode"}, columns
    assignments = ", ".join(f"{name} = %s" for name in columns)
    stack.sql(f"UPDATE tenants SET {assignments} WHERE slug = %s", *columns.values(), slug)

    def applied(snapshot):
        tenant = snapshot_tenant(snapshot, slug)
        return tenant is not None and all(tenant.get(k) == v for k, v in columns.items())
    wait_snapshot_applied(stack, applied, prefixes)


def quota_status(stack, credential, url=None):
    """GET /v1/llmoin/quota with the caller's credential."""
    return requests.get(f"{url or stack.url}/v1/llmoin/quota", timeout=10,
                        headers={"Authorization": f"Bearer {credential}"})


def sim_config(stack, **settings):
    response = requests.post(f"{stack.sim_url}/sim/config", json=settings, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


SIM_DEFAULTS = {"tokens_per_second": 0, "ttft_ms": 0, "fail_rate": 0.0, "fail_status": "mixed",
                "cut_rate": 0.0, "cut_after": 3, "answer_tokens": None}


def reload_nginx(stack, timeout=15.0):
    """Re-renders the node's nginx.conf, sends HUP, and waits until only new
    workers run (the old ones have exited), so that new connections reach
    workers with the new configuration."""
    prefix = stack.state / "nginx"
    old = set(nginx_workers(prefix))
    workers = int(stack.env.get("LLMOIN_WORKERS", "2"))
    stack.ops("reload-nginx")

    def renewed():
        current = set(nginx_workers(prefix))
        alive = {pid for pid in old if _alive(pid)}
        return len(current) == workers and not current & old and not alive
    wait_until(renewed, timeout=timeout, interval=0.1, what="nginx workers replaced")
    wait_until(lambda: _workers_loaded(prefix, 1), timeout=timeout,
               what="new workers loaded the snapshot")


CLOCK_CONF = "llmoin-test-clock.conf"


def set_clock_offset(stack, seconds):
    """Shifts the gateway's quota clock by `seconds` (llmoin_clock_offset,
    for tests only) through a file in nginx's extra/ directory, and reloads
    nginx; 0 removes the file."""
    extra = stack.state / "nginx" / "conf" / "extra" / CLOCK_CONF
    if seconds:
        extra.write_text(f"llmoin_clock_offset {int(seconds)};\n")
    else:
        extra.unlink(missing_ok=True)
    reload_nginx(stack)


def free_port():
    with _socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ExtraNginx:
    """A second nginx for the same node: a copy of the node's rendered
    nginx.conf with its own prefix (pid, logs, temp paths, journal) and
    port, and the same snapshot and Redis. Its directory is inside the
    node's state, so the sanitizer check sees its logs too. `changes`:
    further (text, replacement) pairs for its nginx.conf."""

    def __init__(self, stack, name="nginx-second", changes=()):
        self.stack = stack
        self.prefix = stack.state / name
        self.port = free_port()
        self.changes = changes

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def journal(self):
        return self.prefix / "logs" / "usage.journal"

    def render(self):
        state = str(self.stack.state)
        conf = (self.stack.state / "nginx" / "conf" / "nginx.conf").read_text()
        listen = f"listen 127.0.0.1:{self.stack.env['LLMOIN_NGINX_PORT']};"
        for needle in (listen, f"{state}/nginx/", f"{state}/log/usage.journal",
                       f"{state}/log/jwks-hints.log"):
            assert needle in conf, f"{needle!r} not in the node's nginx.conf"
        conf = conf.replace(listen, f"listen 127.0.0.1:{self.port};")
        conf = conf.replace(f"{state}/nginx/", f"{self.prefix}/")
        conf = conf.replace(f"{state}/log/usage.journal", str(self.journal))
        conf = conf.replace(f"{state}/log/jwks-hints.log", str(self.prefix / "logs" / "jwks-hints.log"))
        for text, replacement in self.changes:
            assert text in conf, f"{text!r} not in the node's nginx.conf"
            conf = conf.replace(text, replacement)
        return conf

    def environment(self):
        env = dict(os.environ)
        module = _re.search(r"load_module (\S+);", self.render()).group(1)
        linked = subprocess.run(["ldd", module], capture_output=True, text=True).stdout
        if "libasan" in linked:
            runtime = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True,
                                     text=True).stdout.strip()
            logs = self.prefix / "logs"
            env.update(LD_PRELOAD=runtime,
                       ASAN_OPTIONS=f"detect_leaks=0:abort_on_error=1:log_path={logs}/asan",
                       UBSAN_OPTIONS=f"print_stacktrace=1:halt_on_error=1:log_path={logs}/ubsan")
        return env

    def start(self):
        for sub in ("conf/extra", "logs", "temp"):
            (self.prefix / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.prefix, 0o755)
        (self.prefix / "conf" / "nginx.conf").write_text(self.render())
        command = ["/usr/sbin/nginx", "-p", str(self.prefix), "-c", "conf/nginx.conf"]
        with open(self.prefix / "logs" / "stderr.log", "ab") as stderr:
            result = subprocess.run(command, env=self.environment(), stdin=subprocess.DEVNULL,
                                    stdout=stderr, stderr=stderr, timeout=30)
        assert result.returncode == 0, (self.prefix / "logs" / "stderr.log").read_text()
        wait_until(lambda: _healthy(self.url), timeout=5, what="second nginx up")
        wait_until(lambda: _workers_loaded(self.prefix, 1), timeout=5,
                   what="second nginx loaded the snapshot")
        return self

    def stop(self):
        try:
            pid = int((self.prefix / "nginx.pid").read_text())
        except (FileNotFoundError, ValueError):
            return
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not _alive(pid), timeout=10, what="second nginx stopped")


def _healthy(url):
    try:
        return requests.get(f"{url}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a unix socket, for tenantd's management API
    (requests has no adapter for it)."""

    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self):
        self.sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)
