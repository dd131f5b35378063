"""The audit log: every change through tenantd's API is one row, chained.

What is checked, against a real node:
  - each kind of change (tenant create, update, suspend, resume; key create,
    revoke; issuer add, remove; model allow, remove; limits set, clear;
    model aliases) writes exactly one row naming the caller, the tenant,
    the action, the object and the object before and after; a change that
    changes nothing and a refused request (4xx) write none;
  - no secret reaches the log: not the API key shown once, not its hash,
    not the development identity provider's private key or a dev token,
    not a tenant's pseudonym secret;
  - 30 changes from parallel threads leave one chain: seq 1..N without
    gaps, every link right, time never running backwards along it;
  - the table is append-only even for its owner (UPDATE, DELETE,
    TRUNCATE), and the API's role cannot move the chain's head;
  - `llmoinctl audit verify` exits 1 naming the row for a changed row, a
    row rewritten with its hash, a removed row in the middle and a removed
    newest row (the tampering done as the database superuser with the
    triggers off, and undone again);
  - paging (limit, before, next_before), the tenant filter (which still
    finds a tenant that is gone), each query parameter's 400, table and
    csv output;
  - migration 0007 on a log written by 0001's trigger (in a database of
    its own): old rows numbered by their links, also where 0001 forked the
    chain, checked with 0001's hash; new rows chained after them;
  - a tenant admin (over HTTPS) reads its own tenant's log only, and its
    changes join the one chain.
"""

import concurrent.futures
import contextlib
import csv
import datetime
import io
import json
import os
import re

import psycopg2
import pytest

from identity import Idp
from llmoin_stack import SOURCE, database_up_to
from management import ManagementAPI, on_socket

ACTOR = f"unix:uid={os.getuid()}"


def last_seq(stack):
    return stack.sql("SELECT coalesce(max(seq), 0) FROM audit_log")[0][0]


def rows_after(stack, seq):
    """The audit rows after seq, oldest first, as dicts of their columns."""
    columns = ("seq", "actor", "tenant", "action", "object", "before", "after")
    return [dict(zip(columns, row)) for row in stack.sql(
        f"SELECT {', '.join(columns)} FROM audit_log WHERE seq > %s ORDER BY seq", seq)]


def one_row(stack, *args):
    """Runs `llmoinctl ARGS --output json`; returns (its answer, the one
    audit row it wrote), which the API lists as the newest."""
    before = last_seq(stack)
    answer = stack.ctl_json(*args)
    written = rows_after(stack, before)
    assert len(written) == 1, written
    newest = stack.ctl_json("audit", "--limit", "1")["data"]
    assert [(r["seq"], r["action"], r["before"], r["after"]) for r in newest] == [
        (written[0]["seq"], written[0]["action"], written[0]["before"], written[0]["after"])]
    return answer, written[0]


def expect(row, action, obj, tenant, before, after):
    assert (row["actor"], row["tenant"], row["action"], row["object"]) == (
        ACTOR, tenant, action, obj), row
    assert (row["before"], row["after"]) == (before, after), row


def verify(stack):
    """(exit code, verdict, stderr) of `llmoinctl audit verify`."""
    result = stack.ctl("--output", "json", "audit", "verify", check=False)
    return result.returncode, json.loads(result.stdout), result.stderr


def test_each_change_writes_one_row(stack, tmp_path):
    tenant, row = one_row(stack, "tenant", "create", "hamburg", "--name", "Hamburg")
    expect(row, "tenant.create", "tenant:hamburg", "hamburg", None, tenant)

    renamed, row = one_row(stack, "tenant", "update", "hamburg", "--name", "FHH")
    expect(row, "tenant.update", "tenant:hamburg", "hamburg", tenant, renamed)
    assert (row["before"]["name"], row["after"]["name"]) == ("Hamburg", "FHH")

    suspended, row = one_row(stack, "tenant", "suspend", "hamburg")
    expect(row, "tenant.suspend", "tenant:hamburg", "hamburg", renamed, suspended)
    seq = last_seq(stack)
    stack.ctl("tenant", "suspend", "hamburg")
    assert last_seq(stack) == seq, "suspending a suspended tenant changes nothing"
    resumed, row = one_row(stack, "tenant", "resume", "hamburg")
    expect(row, "tenant.resume", "tenant:hamburg", "hamburg", suspended, resumed)

    alias = "audit/probe-1"
    model, row = one_row(stack, "model", "add", alias, "--pool", "default")
    expect(row, "model.create", f"model:{alias}", None, None, model)
    allowed, row = one_row(stack, "model", "allow", "hamburg", alias)
    assert row["action"] == "tenant.model.allow" and row["before"] is None
    assert row["after"]["alias"] == alias and row["object"] == f"tenant:hamburg/model:{alias}"
    assert (row["actor"], row["tenant"]) == (ACTOR, "hamburg")
    _, row = one_row(stack, "model", "disallow", "hamburg", alias)
    expect(row, "tenant.model.remove", f"tenant:hamburg/model:{alias}", "hamburg",
           allowed["data"][0], None)

    key, row = one_row(stack, "key", "create", "hamburg", "--user", "alice")
    listed = {k: v for k, v in key.items() if k != "key"}
    expect(row, "key.create", f"key:{key['id']}", "hamburg", None, listed)
    revoked, row = one_row(stack, "key", "revoke", key["id"])
    expect(row, "key.revoke", f"key:{key['id']}", "hamburg", listed, revoked)
    assert row["before"]["revoked_at"] is None and row["after"]["revoked_at"] is not None

    idp = Idp("https://login.hamburg.example/realms/audit", "llmoin")
    idp.add_key("audit-1", "ES256")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(idp.jwks()))
    issuer, row = one_row(stack, "issuer", "add", "hamburg", "--issuer", idp.issuer,
                          "--audience", "llmoin", "--jwks-file", str(jwks))
    expect(row, "issuer.add", f"issuer:{idp.issuer}", "hamburg", None, issuer)
    _, row = one_row(stack, "issuer", "remove", str(issuer["id"]))
    expect(row, "issuer.remove", f"issuer:{issuer['id']}", "hamburg", issuer, None)

    limits, row = one_row(stack, "limits", "set", "hamburg", "--user", "alice", "--rpm", "10")
    alice = next(r for r in limits["data"] if r["subject"] == "alice")
    expect(row, "tenant.limit.set", "tenant:hamburg/limit:user:alice", "hamburg", None, alice)
    _, row = one_row(stack, "limits", "clear", "hamburg", "--user", "alice")
    expect(row, "tenant.limit.clear", "tenant:hamburg/limit:user:alice", "hamburg", alice, None)

    assert verify(stack)[:2] == (0, {"ok": True, "rows": last_seq(stack),
                                     "head": stack.sql("SELECT hash FROM audit_head")[0][0]})


def test_a_refused_request_writes_no_row(stack):
    stack.create_tenant("bremen")
    seq = last_seq(stack)
    refused = [
        ("POST", "/admin/v1/tenants", {"slug": "bremen", "name": "Bremen"}, 409),
        ("POST", "/admin/v1/tenants", {"slug": "Bremen!", "name": "Bremen"}, 400),
        ("PATCH", "/admin/v1/tenants/bremen", {"max_tokens_cap": 0}, 400),
        ("POST", "/admin/v1/tenants/atlantis/suspend", None, 404),
        ("POST", "/admin/v1/tenants/bremen/keys", {"user": "alice", "models": ["nope-1"]}, 400),
        ("POST", "/admin/v1/keys/key_0000000000000000/revoke", None, 404),
        ("PUT", "/admin/v1/tenants/bremen/limits", {"scope": "user", "subject": "a", "rpm": -1},
         400),
        ("POST", "/admin/v1/models", {"alias": "x", "pool": "nirgendwo"}, 400),
    ]
    for method, path, body, status in refused:
        got, answer = on_socket(stack, method, path, body)
        assert got == status, (method, path, answer)
    assert last_seq(stack) == seq


def test_no_secret_reaches_the_audit_log(stack):
    stack.create_tenant("bremerhaven")
    key = stack.ctl_json("key", "create", "bremerhaven", "--user", "alice", "--name", "app")
    stack.ctl_json("key", "revoke", key["id"])
    stack.ctl_json("tenant", "dev-idp", "bremerhaven", "--enable")
    token = stack.ctl_json("dev-token", "bremerhaven", "--user", "bob")["token"]
    (key_hash,) = stack.sql("SELECT key_hash FROM api_keys WHERE id = %s", key["id"])[0]
    (private_pem,) = stack.sql("SELECT private_pem FROM dev_idp_keys k JOIN tenants t"
                               " ON t.id = k.tenant_id WHERE t.slug = 'bremerhaven'")[0]
    (pseudonym,) = stack.sql("SELECT encode(pseudonym_secret, 'hex') FROM tenants"
                             " WHERE slug = 'bremerhaven'")[0]
    stack.ctl_json("tenant", "dev-idp", "bremerhaven", "--disable")

    (log,) = stack.sql("SELECT string_agg(a::text, E'\\n') FROM audit_log a")[0]
    listed = stack.ctl("--output", "json", "audit", "--limit", "1000").stdout
    pem_body = "".join(line for line in private_pem.splitlines() if "-----" not in line)
    for secret in (key["key"], key["key"][len(key["prefix"]):], key_hash, token,
                   token.split(".")[2], pem_body[:40], pem_body[-40:], pseudonym):
        assert secret not in log and secret not in listed
    actions = [r["action"] for r in stack.ctl_json("audit", "bremerhaven")["data"]]
    assert actions == ["tenant.dev_idp.disable", "dev_token.issue", "tenant.dev_idp.enable",
                       "key.revoke", "key.create", "tenant.create"]


def test_thirty_parallel_changes_keep_one_chain(stack):
    stack.create_tenant("niedersachsen")
    first = last_seq(stack) + 1

    def change(i):
        if i % 3 == 0:
            return on_socket(stack, "POST", "/admin/v1/tenants",
                             {"slug": f"kreis-{i}", "name": f"Kreis {i}"})[0]
        if i % 3 == 1:
            return on_socket(stack, "POST", "/admin/v1/tenants/niedersachsen/keys",
                             {"user": f"user-{i}"})[0]
        return on_socket(stack, "PUT", "/admin/v1/tenants/niedersachsen/limits",
                         {"scope": "user", "subject": f"user-{i}", "rpm": i})[0]

    with concurrent.futures.ThreadPoolExecutor(30) as pool:
        statuses = list(pool.map(change, range(30)))
    assert sorted(set(statuses)) == [200, 201], statuses

    chain = stack.sql("SELECT seq, prev_hash, hash, at FROM audit_log ORDER BY seq")
    assert [row[0] for row in chain] == list(range(1, len(chain) + 1))
    assert len(chain) == first + 29
    for previous, row in zip(chain, chain[1:]):
        assert row[1] == previous[2], f"row {row[0]} does not link to row {previous[0]}"
        assert row[3] >= previous[3], f"row {row[0]} is older than row {previous[0]}"
    code, verdict, _ = verify(stack)
    assert (code, verdict) == (0, {"ok": True, "rows": len(chain), "head": chain[-1][2]})


def test_the_log_is_append_only_even_for_its_owner(stack):
    stack.create_tenant("bayern")
    for statement in ("UPDATE audit_log SET actor = 'someone else'",
                      "DELETE FROM audit_log WHERE tenant = 'bayern'",
                      "TRUNCATE audit_log"):
        with pytest.raises(psycopg2.errors.RaiseException, match="append-only"):
            stack.sql(statement)
    # The API's role, with an operator's scope: neither the log nor its head.
    connection = psycopg2.connect(stack.env["LLMOIN_PG_DSN"])
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET ROLE llmoin_api")
            cursor.execute("SELECT set_config('app.role', 'operator', false)")
            for statement in ("UPDATE audit_log SET actor = 'someone else'",
                              "DELETE FROM audit_log"):
                with pytest.raises(psycopg2.errors.RaiseException, match="append-only"):
                    cursor.execute(statement)
            for statement in ("UPDATE audit_head SET seq = 0", "DELETE FROM audit_head",
                              "INSERT INTO audit_head (seq, hash, legacy_rows) VALUES (0, '', 0)"):
                with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                    cursor.execute(statement)
            cursor.execute("SELECT seq FROM audit_head")
            assert cursor.fetchone()[0] == last_seq(stack), "operators may read the head"
    finally:
        connection.close()
    assert verify(stack)[0] == 0


@contextlib.contextmanager
def tampered(stack, *statements):
    """Runs statements as the database superuser with audit_log's triggers
    off (as an attacker with those rights could), then puts every row and
    the head back as they were."""
    saved = stack.sql("SELECT json_agg(a) FROM audit_log a")[0][0]
    head = stack.sql("SELECT seq, hash FROM audit_head")[0]
    columns = ", ".join(saved[0])
    stack.sql("BEGIN; ALTER TABLE audit_log DISABLE TRIGGER USER; "
              + "; ".join(statements) + "; ALTER TABLE audit_log ENABLE TRIGGER USER; COMMIT")
    try:
        yield
    finally:
        stack.sql("BEGIN; ALTER TABLE audit_log DISABLE TRIGGER USER; DELETE FROM audit_log;"
                  f" INSERT INTO audit_log ({columns}) OVERRIDING SYSTEM VALUE"
                  f" SELECT {columns} FROM json_populate_recordset(NULL::audit_log, %s::json);"
                  " UPDATE audit_head SET seq = %s, hash = %s;"
                  " ALTER TABLE audit_log ENABLE TRIGGER USER; COMMIT",
                  json.dumps(saved), *head)
        assert verify(stack)[0] == 0


def broken(stack, seq, reason, message):
    code, verdict, stderr = verify(stack)
    assert code == 1, verdict
    assert verdict["ok"] is False and verdict["rows"] == stack.sql(
        "SELECT count(*) FROM audit_log")[0][0]
    assert verdict["problem"] == {"seq": seq, "reason": reason, "message": message}
    assert stderr == (f"llmoinctl: the audit log is broken at row {seq}"
                      f" ({reason}): {message}\n")
    table = stack.ctl("audit", "verify", check=False).stdout
    assert "ok: false\n" in table and f"seq: {seq}\nreason: {reason}\n" in table


@pytest.fixture(scope="module")
def logged(stack):
    """A few rows to tamper with: seq of the middle one and the newest."""
    stack.create_tenant("thueringen")
    for user in ("a", "b", "c"):
        stack.ctl_json("limits", "set", "thueringen", "--user", user, "--rpm", "5")
    newest = last_seq(stack)
    return newest - 1, newest


def test_verify_names_a_changed_row(stack, logged):
    middle, _ = logged
    with tampered(stack, "UPDATE audit_log SET after = jsonb_set(after, '{rpm}', '500')"
                         f" WHERE seq = {middle}"):
        broken(stack, middle, "changed",
               f"row {middle} does not match its hash: it was changed after it was written")
    with tampered(stack, f"UPDATE audit_log SET actor = 'unix:uid=4711' WHERE seq = {middle}",
                  f"UPDATE audit_log SET hash = llmoin_audit_hash(audit_log) WHERE seq = {middle}"):
        broken(stack, middle + 1, "unlinked",
               f"row {middle + 1} does not link to row {middle} (its prev_hash is not that"
               " row's hash): one of the two was rewritten together with its hash")


def test_verify_names_a_removed_row(stack, logged):
    middle, newest = logged
    with tampered(stack, f"DELETE FROM audit_log WHERE seq = {middle}"):
        broken(stack, middle, "removed", f"row {middle} is missing: it was removed")
    with tampered(stack, f"DELETE FROM audit_log WHERE seq IN ({middle - 1}, {middle})"):
        broken(stack, middle - 1, "removed",
               f"rows {middle - 1} to {middle} are missing: they were removed")


def test_verify_names_a_removed_newest_row(stack, logged):
    _, newest = logged
    assert last_seq(stack) == newest, "nothing may be written after the fixture"
    with tampered(stack, f"DELETE FROM audit_log WHERE seq = {newest}"):
        broken(stack, newest, "removed", f"row {newest} is missing: it was the newest row"
               f" (the chain's head is at row {newest})")
    with tampered(stack, f"DELETE FROM audit_log WHERE seq >= {newest - 1}"):
        broken(stack, newest - 1, "removed", f"rows {newest - 1} to {newest} are missing:"
               f" they were the newest rows (the chain's head is at row {newest})")


def test_pages_and_the_tenant_filter(stack):
    stack.create_tenant("saarland")
    for user in ("a", "b", "c", "d", "e"):
        stack.ctl_json("limits", "set", "saarland", "--user", user, "--tpm", "100")
    everything = [r["seq"] for r in stack.ctl_json("audit", "--limit", "1000")["data"]]
    assert everything == list(range(last_seq(stack), 0, -1)), "newest first, no gaps"

    seen, before = [], []
    while True:
        page = stack.ctl_json("audit", "--limit", "4", *before)
        seen += [r["seq"] for r in page["data"]]
        if page["next_before"] is None:
            break
        assert page["next_before"] == page["data"][-1]["seq"]
        before = ["--before", str(page["next_before"])]
    assert seen == everything

    saarland = stack.ctl_json("audit", "saarland", "--limit", "3")
    assert [r["tenant"] for r in saarland["data"]] == ["saarland"] * 3
    assert [r["object"] for r in saarland["data"]] == [
        f"tenant:saarland/limit:user:{u}" for u in ("e", "d", "c")]
    rest = stack.ctl_json("audit", "saarland", "--before",
                          str(saarland["next_before"]))
    assert [r["action"] for r in rest["data"]][-1] == "tenant.create"
    assert rest["next_before"] is None
    status, own = on_socket(stack, "GET", "/admin/v1/tenants/saarland/audit?limit=3")
    assert (status, own) == (200, saarland)

    table = stack.ctl("audit", "saarland", "--limit", "2").stdout.splitlines()
    assert table[0].split() == ["SEQ", "AT", "ACTOR", "TENANT", "ACTION", "OBJECT", "CHANGES"]
    assert table[1].split()[2:6] == [ACTOR, "saarland", "tenant.limit.set",
                                     "tenant:saarland/limit:user:e"]
    assert table[-1] == f"Older entries: --before {saarland['data'][1]['seq']}"
    rows = list(csv.DictReader(io.StringIO(
        stack.ctl("--output", "csv", "audit", "saarland").stdout)))
    assert list(rows[0]) == ["seq", "at", "actor", "tenant", "action", "object", "before",
                             "after", "hash"]
    assert json.loads(rows[0]["after"])["subject"] == "e" and rows[0]["before"] == ""
    assert datetime.datetime.strptime(rows[0]["at"], "%Y-%m-%dT%H:%M:%SZ")


def test_an_offboarded_tenant_keeps_its_slug_in_the_log(stack):
    stack.create_tenant("kurzlebig")
    stack.ctl_json("key", "create", "kurzlebig", "--user", "alice")
    stack.ctl_json("tenant", "offboard", "kurzlebig", "--confirm", "kurzlebig")
    rows = stack.ctl_json("audit", "kurzlebig")["data"]
    assert [(r["tenant"], r["action"]) for r in rows] == [
        ("kurzlebig", "tenant.offboard"), ("kurzlebig", "key.create"),
        ("kurzlebig", "tenant.create")]
    assert rows[0]["before"]["tenant"]["slug"] == "kurzlebig" and rows[0]["after"] is None
    assert on_socket(stack, "GET", "/admin/v1/tenants/kurzlebig/audit")[0] == 404
    assert stack.ctl_json("audit", "atlantis") == {"data": [], "next_before": None}


@pytest.mark.parametrize("query, message", [
    ("limit=0", "parameter 'limit' must be a whole number from 1 to 1000, got '0'"),
    ("limit=1001", "parameter 'limit' must be a whole number from 1 to 1000, got '1001'"),
    ("limit=", "parameter 'limit' must be a whole number from 1 to 1000, got ''"),
    ("limit=1e3", "parameter 'limit' must be a whole number from 1 to 1000, got '1e3'"),
    ("before=0", "parameter 'before' must be a seq, a whole number from 1 (the next_before"
                 " of the page before), got '0'"),
    ("before=-5", "parameter 'before' must be a seq, a whole number from 1 (the next_before"
                  " of the page before), got '-5'"),
    ("before=99999999999999999999", "parameter 'before' must be a seq, a whole number from 1"
                                    " (the next_before of the page before), got"
                                    " '99999999999999999999'"),
    ("tenant=Hamburg", "parameter 'tenant' must be a tenant slug: 2 to 32 lowercase letters,"
                       " digits or dashes, starting with a letter, got 'Hamburg'"),
])
def test_each_query_parameter_is_checked(stack, query, message):
    status, answer = on_socket(stack, "GET", f"/admin/v1/audit?{query}")
    assert (status, answer["error"]) == (400, {"message": message, "type": "invalid_request_error",
                                               "code": "invalid_parameter"})


def test_a_tenants_log_checks_its_parameters_first(stack):
    status, answer = on_socket(stack, "GET", "/admin/v1/tenants/atlantis/audit?before=x")
    assert (status, answer["error"]["code"]) == (400, "invalid_parameter"), answer
    status, answer = on_socket(stack, "GET", "/admin/v1/tenants/atlantis/audit?before=7")
    assert (status, answer["error"]["code"]) == (404, "tenant_not_found"), answer


def test_bad_options_are_refused_before_sending(stack):
    for args, message in ((("--limit", "0"), "invalid --limit '0'"),
                          (("--before", "x"), "invalid --before 'x'"),
                          (("Hamburg",), "invalid TENANT 'Hamburg'")):
        result = stack.ctl("audit", *args, check=False)
        assert result.returncode == 2 and message in result.stderr, result.stderr


def c_statement(name):
    """The SQL of `static const char name[] = "..." "...";` in audit_api.c."""
    source = (SOURCE / "tenantd" / "audit_api.c").read_text()
    body = re.search(r"static const char " + name + r"\[\] =(.*?);\n", source, re.S).group(1)
    return "".join(json.loads(literal) for literal in re.findall(r'"(?:[^"\\]|\\.)*"', body))


@pytest.fixture
def legacy_database(stack):
    """A database of the node's PostgreSQL with migrations 0001 to 0006 only."""
    with database_up_to(stack, "audit_legacy", 6) as cursor:
        yield cursor


def test_migration_0007_chains_the_rows_0001_wrote(legacy_database):
    sql = legacy_database.execute
    sql("INSERT INTO tenants (slug, name) VALUES ('hamburg', 'Hamburg'), ('bremen', 'Bremen')")
    insert = ("INSERT INTO audit_log (actor, tenant_id, action, object, before, after)"
              " VALUES ('unix:uid=0', %s, %s, %s, NULL, %s)")
    for tenant, action, obj in ((1, "tenant.create", "tenant:hamburg"),
                                (2, "tenant.create", "tenant:bremen"),
                                (None, "model.create", "model:x"),
                                (2, "key.create", "key:key_0000000000000001")):
        sql(insert, (tenant, action, obj, json.dumps({"n": obj})))
    # 0001's trigger, with writers racing, could link two rows to the same
    # one (here: id 5 to id 3, as id 4 does); the next row links to id 5.
    sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_chain")
    sql("INSERT INTO audit_log (actor, tenant_id, action, object, prev_hash, hash)"
        " SELECT 'unix:uid=0', 1, 'tenant.suspend', 'tenant:hamburg', hash, '' FROM audit_log"
        " WHERE id = 3")
    sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    sql("UPDATE audit_log a SET hash = encode(sha256(convert_to(concat_ws('|', a.prev_hash,"
        " extract(epoch FROM a.at)::text, a.actor, a.tenant_id::text, a.action, a.object,"
        " a.before::text, a.after::text), 'UTF8')), 'hex') WHERE id = 5")
    sql("ALTER TABLE audit_log ENABLE TRIGGER USER")
    sql("DELETE FROM tenants WHERE slug = 'bremen'")
    sql(insert, (2, "key.revoke", "key:key_0000000000000001", None))
    sql("SELECT id, prev_hash, hash FROM audit_log ORDER BY id")
    links = legacy_database.fetchall()
    assert links[4][1] == links[3][1] == links[2][2], "the fork"
    assert links[5][1] == links[4][2]

    with legacy_database.connection:
        sql((SOURCE / "schema" / "0007_audit_chain.sql").read_text())
    sql("SELECT id, seq, tenant FROM audit_log ORDER BY seq")
    assert legacy_database.fetchall() == [
        (1, 1, "hamburg"), (2, 2, "bremen"), (3, 3, None), (4, 4, "bremen"),
        (5, 5, "hamburg"), (6, 6, "bremen")]
    sql("SELECT seq, hash, legacy_rows FROM audit_head")
    assert legacy_database.fetchall() == [(6, links[5][2], 6)]

    sql(insert, (1, "tenant.resume", "tenant:hamburg", None))
    sql(insert, (2, "key.create", "key:key_0000000000000002", None))
    sql("SELECT seq, tenant, prev_hash FROM audit_log WHERE seq > 6 ORDER BY seq")
    new = legacy_database.fetchall()
    assert [(seq, tenant) for seq, tenant, _ in new] == [(7, "hamburg"), (8, "bremen")]
    assert new[0][2] == links[5][2], "the first new row links to the newest old one"

    verify_sql = c_statement("verify_sql")
    sql(verify_sql)
    verdict = legacy_database.fetchone()[0]
    assert verdict["ok"] is True and verdict["rows"] == 8, verdict
    sql("BEGIN; ALTER TABLE audit_log DISABLE TRIGGER USER;"
        " UPDATE audit_log SET actor = 'someone' WHERE seq = 4;"
        " ALTER TABLE audit_log ENABLE TRIGGER USER; COMMIT")
    sql(verify_sql)
    assert legacy_database.fetchone()[0]["problem"] == {
        "seq": 4, "reason": "changed",
        "message": "row 4 does not match its hash: it was changed after it was written"}


def test_a_tenant_admin_reads_its_own_log_only(stack, tmp_path_factory):
    """Last in this module: restarts tenantd with HTTPS."""
    for slug in ("land-a", "land-b"):
        stack.create_tenant(slug)
        stack.ctl_json("limits", "set", slug, "--user", "x", "--rpm", "1")
    api = ManagementAPI(stack, tmp_path_factory.mktemp("https"))
    api.trust_tenant_idp("land-a")
    token = api.admin_token("land-a")
    created = api.call("POST", "/admin/v1/tenants/land-a/keys", token, body={"user": "anna"})
    assert created.status_code == 201, created.text

    own = api.call("GET", "/admin/v1/tenants/land-a/audit", token, params={"limit": "1000"})
    assert own.status_code == 200, own.text
    rows = own.json()["data"]
    assert {r["tenant"] for r in rows} == {"land-a"}
    assert [(r["actor"], r["action"]) for r in rows[:2]] == [
        ("admin:land-a:admin", "key.create"), (ACTOR, "issuer.add")]
    status, everything = on_socket(stack, "GET", "/admin/v1/audit?tenant=land-a&limit=1000")
    assert (status, everything["data"]) == (200, rows)
    other = api.call("GET", "/admin/v1/tenants/land-b/audit", token)
    assert (other.status_code, other.json()["error"]["code"]) == (404, "tenant_not_found")
    platform = api.call("GET", "/admin/v1/audit", token)
    assert (platform.status_code, platform.json()["error"]["code"]) == (403, "operators_only")
    # The admin's row links to the newest row of every tenant, and moved the head.
    assert rows[0]["seq"] == last_seq(stack)
    assert verify(stack)[:2] == (0, {"ok": True, "rows": rows[0]["seq"],
                                     "head": rows[0]["hash"]})
