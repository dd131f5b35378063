"""tenantd --agent, on a node that runs only nginx: it writes that node's
tenant snapshot from the shared PostgreSQL and ingests that node's usage
journal into it (exactly once, under its own node name), and offers
nothing else — no management API on a socket or port, no Redis."""

import json
import os
import signal
import socket
import subprocess
import time
import uuid

import pytest

from llmoin_stack import BUILD, SOURCE, free_port, wait_until


def journal_line(tenant_id, **fields):
    line = {"v": "1", "ts": f"{time.time():.3f}", "request_id": uuid.uuid4().hex,
            "tenant_id": str(tenant_id), "user": "bea", "key_id": "", "model": "llmoin-sim",
            "pool": "default", "status": "200", "upstream_status": "200",
            "prompt_tokens": "12", "completion_tokens": "30", "usage": "reported",
            "stream": "0", "request_time": "0.020", "groups": "", "quota": "none",
            "function": "write", "first_byte_time": "0.004", **fields}
    return json.dumps(line) + "\n"


@pytest.fixture
def agent(stack):
    """A second tenantd in agent mode with its own journal and snapshot."""
    home = stack.state / "agent"
    home.mkdir()
    os.chmod(home, 0o755)
    port = free_port()
    settings = {
        "database": stack.env["LLMOIN_PG_DSN"], "agent": "true", "node": "gateway-b",
        "journal": home / "usage.journal", "snapshot_path": home / "snapshot.json",
        "socket_path": home / "tenantd.sock", "listen": f"127.0.0.1:{port}",
        "pid_file": home / "tenantd.pid", "schema_dir": SOURCE / "schema",
        "redis": f"unix:{stack.env['LLMOIN_REDIS_SOCKET']}",
    }
    (home / "usage.journal").touch()
    command = [str(BUILD / "tenantd" / "tenantd")]
    for name, value in settings.items():
        command.append(f"--{name}={value}")
    with open(home / "tenantd.log", "ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    try:
        wait_until(lambda: (home / "snapshot.json").exists(), timeout=10,
                   what="the agent's snapshot")
        yield process, home, port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)


def test_the_agent_writes_the_snapshot_and_ingests_the_journal_of_its_node(stack, agent):
    process, home, port = agent
    _, secret = stack.onboard("bremen", "bea")
    tenant = stack.sql("SELECT id FROM tenants WHERE slug = 'bremen'")[0][0]

    # the snapshot follows the shared database
    wait_until(lambda: any(t["slug"] == "bremen" for t in
                           json.loads((home / "snapshot.json").read_text())["tenants"]),
               timeout=5, what="tenant bremen in the agent's snapshot")

    lines = [journal_line(tenant) for _ in range(5)]
    with open(home / "usage.journal", "a") as journal:
        journal.writelines(lines)
        journal.write(lines[0])               # a line read twice counts once
    rows = wait_until(lambda: (lambda r: r if len(r) == 5 else None)(stack.sql(
        "SELECT node, function, first_byte_ms, prompt_tokens, completion_tokens"
        " FROM usage_events WHERE tenant_id = %s", tenant)), timeout=5,
        what="the agent's journal ingested")
    assert set(rows) == {("gateway-b", "write", 4, 12, 30)}
    report = stack.ctl_json("usage", "bremen", "--by", "function")
    assert report["totals"]["requests"] == 5

    # the central tenantd did not read the agent's journal, nor the agent its
    assert stack.sql("SELECT count(*) FROM usage_events WHERE tenant_id = %s"
                     " AND node <> 'gateway-b'", tenant) == [(0,)]

    # nothing else: no socket, no port
    assert not (home / "tenantd.sock").exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    log = (home / "tenantd.log").read_text()
    assert "event=started mode=agent listen=off socket=off" in log
    assert "redis=off" in log

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
