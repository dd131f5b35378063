"""Onboarding a state with one file (`llmoinctl tenant apply`, POST
/admin/v1/apply) and offboarding one (`llmoinctl tenant offboard`, POST
/admin/v1/tenants/{slug}/offboard).

The five documents in docs/examples/ are applied as they are, with one
exception: their issuers' jwks_uri point to the states' real identity
providers, which this machine cannot reach. Each issuer is rewritten to an
identity provider made here (same issuer URL and audience, keys inline as
`jwks`, from python-cryptography), whose tokens the tests then sign.
Everything else of a file is applied and checked as written.

Offboarding is checked on a state of its own with everything a tenant can
have: issuers, API keys, models, limits, usage rows from real requests and
their rollups, quota counters in Redis, the development identity provider,
and a journal line ingestion could not read. Afterwards no table holding a
tenant_id has a row of it (the append-only audit log keeps its history),
Redis has no key of it, the snapshot no trace, its credentials are refused,
and the other states are as they were.
"""

import copy
import json
import pathlib
import time
import uuid

import pytest
import requests

from identity import Idp
from llmoin_stack import SOURCE, read_snapshot, redis_client, wait_until
from management import on_socket as api

EXAMPLES = SOURCE / "docs" / "examples"
STATES = ("hamburg", "niedersachsen", "bremen", "sachsen-anhalt", "rheinland-pfalz")
# One demo user per state, each signing in with a token of the state's issuer.
DEMO_USERS = {"hamburg": "hanna.hansen", "niedersachsen": "niklas.meyer",
              "bremen": "bente.brinkmann", "sachsen-anhalt": "sandra.schulze",
              "rheinland-pfalz": "robert.becker"}
MODEL = "llama-3.3-70b-instruct"
LIMIT_KINDS = ("rpm", "tpm", "concurrent", "monthly_tokens")


# --- plumbing ----------------------------------------------------------------

def audit_rows(stack):
    return stack.sql("SELECT count(*) FROM audit_log")[0][0]


def apply_file(stack, path, *options, check=True):
    """`llmoinctl tenant apply -f path`: its output lines."""
    result = stack.ctl("tenant", "apply", "-f", str(path), *options, check=check)
    return result


def write_document(directory, document):
    path = directory / f"{document['slug']}-{uuid.uuid4().hex[:8]}.json"
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2))
    return path


def with_test_issuers(document):
    """The document with each issuer's keys from an identity provider made
    here (the examples' jwks_uri hosts cannot be reached from the tests):
    (document, {issuer URL: Idp})."""
    document = copy.deepcopy(document)
    idps = {}
    for entry in document.get("issuers", []):
        idp = Idp(entry["issuer"], entry["audience"])
        idp.add_key(f"{document['slug']}-{len(idps) + 1}", "RS256")
        entry.pop("jwks_uri", None)
        entry["jwks"] = idp.jwks()
        idps[entry["issuer"]] = idp
    return document, idps


def state_view(stack, slug):
    """What GET shows of a tenant: its document, issuers, models, limits
    (timestamps and ids left out, which say when, not what)."""
    status, tenant = api(stack, "GET", f"/admin/v1/tenants/{slug}")
    if status == 404:
        return None
    assert status == 200, tenant
    views = {"tenant": {k: v for k, v in tenant.items() if k != "updated_at"}}
    for part in ("issuers", "models", "limits"):
        status, listed = api(stack, "GET", f"/admin/v1/tenants/{slug}/{part}")
        assert status == 200, listed
        views[part] = [{k: v for k, v in entry.items()
                        if k not in ("id", "created_at", "jwks_fetched_at")}
                       for entry in listed["data"]]
    return views


def limit_rows(document):
    """The document's limits as the API lists them."""
    rows = []
    for entry in document.get("limits", []):
        row = {"scope": entry["scope"], "subject": entry.get("subject", "")}
        row.update({kind: entry.get(kind) for kind in LIMIT_KINDS})
        rows.append(row)
    return sorted(rows, key=lambda r: (r["scope"], r["subject"]))


def assert_as_written(stack, document):
    view = state_view(stack, document["slug"])
    assert view is not None, f"{document['slug']} was not created"
    tenant = view["tenant"]
    assert tenant["name"] == document["name"]
    assert tenant["hosts"] == document.get("hosts", [])
    for setting, value in document.get("settings", {}).items():
        assert tenant[setting] == value, setting
    assert tenant["models_restricted"] is True, "a models section holds the tenant to it"
    assert tenant["status"] == "active"
    issuers = {i["issuer"]: i for i in view["issuers"]}
    assert set(issuers) == {e["issuer"] for e in document["issuers"]}
    for entry in document["issuers"]:
        stored = issuers[entry["issuer"]]
        assert stored["audience"] == entry["audience"]
        assert stored["jwks_uri"] is None and stored["keys"] == len(entry["jwks"]["keys"])
        assert stored["user_claim"] == entry.get("user_claim", "sub")
        assert stored["groups_claim"] == entry.get("groups_claim")
        assert stored["leeway_seconds"] == entry.get("leeway_seconds", 60)
    assert sorted(m["alias"] for m in view["models"]) == sorted(
        m["alias"] for m in document["models"])
    assert all(not m["dedicated_pool"] for m in view["models"])
    listed = sorted(view["limits"], key=lambda r: (r["scope"], r["subject"]))
    assert listed == limit_rows(document)


def change_lines(result):
    return result.stdout.splitlines()


# --- fixtures ----------------------------------------------------------------

@pytest.fixture(scope="module")
def examples():
    """{slug: the example document as docs/examples/ has it}."""
    return {slug: json.loads((EXAMPLES / f"{slug}.json").read_text(encoding="utf-8"))
            for slug in STATES}


@pytest.fixture(scope="module")
def states(stack, examples, tmp_path_factory):
    """The five states, applied from their example files with test issuers:
    {slug: (document as applied, {issuer: Idp}, path of the file)}."""
    directory = tmp_path_factory.mktemp("examples")
    for alias in sorted({m["alias"] for d in examples.values() for m in d["models"]}):
        stack.add_model(alias)
    applied = {}
    for slug, example in examples.items():
        document, idps = with_test_issuers(example)
        path = directory / f"{slug}.json"
        path.write_text(json.dumps(document, ensure_ascii=False, indent=2))
        applied[slug] = (document, idps, path)
    return applied


@pytest.fixture(scope="module")
def applied(stack, states):
    """The five states after their first apply: {slug: its output lines}."""
    return {slug: change_lines(apply_file(stack, path))
            for slug, (_, _, path) in states.items()}


# --- the examples ---------------------------------------------------------------

def test_examples_are_the_five_states_of_the_press_release():
    assert sorted(path.stem for path in EXAMPLES.glob("*.json")) == sorted(STATES)
    for slug in STATES:
        document = json.loads((EXAMPLES / f"{slug}.json").read_text(encoding="utf-8"))
        assert document["slug"] == slug
        assert document["hosts"] == [f"llmoin.{slug}.de"]
        assert all(i["issuer"].startswith("https://") and i["jwks_uri"].startswith(i["issuer"])
                   for i in document["issuers"])
        assert {"tenant", "user"} <= {limit["scope"] for limit in document["limits"]}


# --- applying -----------------------------------------------------------------------

def test_apply_creates_each_state_as_written(stack, states, applied):
    for slug, (document, _, _) in states.items():
        lines = applied[slug]
        assert lines[0] == f"+ tenant {slug}"
        for entry in document["issuers"]:
            assert f"+ issuer {entry['issuer']}" in lines
        for entry in document["models"]:
            assert f"+ model {entry['alias']}" in lines
        assert len([line for line in lines if line.startswith("+ limit ")]) == len(
            document["limits"])
        assert f"~ tenant {slug} hosts (none) -> llmoin.{slug}.de" in lines
        assert_as_written(stack, document)


def test_each_change_of_an_apply_has_its_audit_row(stack, states, applied):
    rows = dict(stack.sql(
        "SELECT t.slug, count(*) FROM audit_log a JOIN tenants t ON t.id = a.tenant_id"
        " GROUP BY t.slug"))
    for slug, (document, _, _) in states.items():
        # created, issuers, models, limits, and one update of the tenant's
        # host names and settings together
        expected = 1 + len(document["issuers"]) + len(document["models"]) + len(
            document["limits"]) + 1
        assert rows[slug] == expected, (slug, applied[slug])


def test_second_apply_prints_no_changes_and_writes_nothing(stack, states, applied):
    for slug, (document, _, path) in states.items():
        before, audit = state_view(stack, slug), audit_rows(stack)
        result = apply_file(stack, path)
        assert result.stdout == "no changes\n"
        assert audit_rows(stack) == audit
        assert state_view(stack, slug) == before
        answer = json.loads(apply_file(stack, path, "--output", "json").stdout)
        assert answer == {"tenant": slug, "dry_run": False, "created": False, "changes": []}


def test_dry_run_reports_the_change_and_changes_nothing(stack, states, applied, tmp_path):
    document, _, _ = states["bremen"]
    changed = copy.deepcopy(document)
    changed["limits"][1]["rpm"] = 40
    changed["settings"]["max_tokens_cap"] = 1024
    changed["models"].append({"alias": "mistral-small-3.1-24b-instruct"})
    path = write_document(tmp_path, changed)
    before, audit = state_view(stack, "bremen"), audit_rows(stack)
    snapshot = read_snapshot(stack)["tenants"]

    lines = change_lines(apply_file(stack, path, "--dry-run"))

    assert lines == ["+ model mistral-small-3.1-24b-instruct",
                     "~ limit user:default rpm 20 -> 40",
                     "~ tenant bremen max_tokens_cap 2048 -> 1024",
                     "(dry run: nothing was changed)"]
    assert state_view(stack, "bremen") == before
    assert audit_rows(stack) == audit
    assert read_snapshot(stack)["tenants"] == snapshot
    answer = json.loads(apply_file(stack, path, "--dry-run", "--output", "json").stdout)
    assert answer["dry_run"] is True and answer["created"] is False
    assert [(c["action"], c["object"], c["field"]) for c in answer["changes"]] == [
        ("tenant.model.allow", "model mistral-small-3.1-24b-instruct", None),
        ("tenant.limit.set", "limit user:default", "rpm"),
        ("tenant.update", "tenant bremen", "max_tokens_cap")]
    assert audit_rows(stack) == audit


def test_dry_run_of_a_new_state_creates_nothing(stack, states, applied, tmp_path):
    document, _ = with_test_issuers(dict(states["bremen"][0], slug="saarland",
                                         name="Saarland", hosts=["llmoin.saarland.de"]))
    document["issuers"][0]["issuer"] = "https://login.saarland.de/realms/verwaltung"
    audit = audit_rows(stack)

    answer = json.loads(apply_file(stack, write_document(tmp_path, document), "--dry-run",
                                   "--output", "json").stdout)

    assert answer["created"] is True and answer["changes"][0]["action"] == "tenant.create"
    assert state_view(stack, "saarland") is None
    assert audit_rows(stack) == audit


def test_one_change_each_shows_exactly_that_change(stack, states, applied, tmp_path):
    document, _, path = states["niedersachsen"]
    working = copy.deepcopy(document)

    def apply_change(change):
        """Changes the working copy of the file, applies it: (lines, audit rows)."""
        change(working)
        audit = audit_rows(stack)
        lines = change_lines(apply_file(stack, write_document(tmp_path, working)))
        return lines, audit_rows(stack) - audit

    def more_rpm(d):
        d["limits"][1]["rpm"] = 45

    def fewer_models(d):
        d["models"] = [m for m in d["models"] if m["alias"] != "mistral-small-3.1-24b-instruct"]

    old = document["issuers"][0]["issuer"]

    def other_settings(d):
        d["issuers"][0]["audience"] = "llmoin-nds"
        d["issuers"][0]["leeway_seconds"] = 10

    new = "https://login.niedersachsen.de/realms/nds"
    replacement, _ = with_test_issuers({"slug": "niedersachsen", "issuers": [
        dict(document["issuers"][0], issuer=new)]})

    def other_issuer(d):
        d["issuers"] = replacement["issuers"]

    assert apply_change(more_rpm) == (["~ limit user:default rpm 20 -> 45"], 1)
    assert apply_change(fewer_models) == (["- model mistral-small-3.1-24b-instruct"], 1)
    # An issuer whose settings differ is replaced: removed and added again.
    assert apply_change(other_settings) == ([f"~ issuer {old} audience llmoin -> llmoin-nds",
                                             f"~ issuer {old} leeway_seconds 60 -> 10"], 2)
    # Another identity provider in place of the state's: the old one goes,
    # the new one comes.
    assert apply_change(other_issuer) == ([f"- issuer {old}", f"+ issuer {new}"], 2)

    # The file as it was brings the state back.
    lines = change_lines(apply_file(stack, path))
    assert lines == [f"- issuer {new}", f"+ issuer {old}",
                     "+ model mistral-small-3.1-24b-instruct",
                     "~ limit user:default rpm 45 -> 20"]
    assert_as_written(stack, document)
    assert apply_file(stack, path).stdout == "no changes\n"


def test_a_section_left_out_is_left_alone(stack, states, applied, tmp_path):
    document, _, _ = states["rheinland-pfalz"]
    before = state_view(stack, "rheinland-pfalz")
    only_name = {"slug": "rheinland-pfalz", "name": document["name"]}

    assert apply_file(stack, write_document(tmp_path, only_name)).stdout == "no changes\n"
    assert state_view(stack, "rheinland-pfalz") == before


def test_an_error_in_the_last_section_writes_nothing(stack, states, applied, tmp_path):
    document, _ = with_test_issuers(dict(states["hamburg"][0], slug="thueringen",
                                         name="Freistaat Thüringen",
                                         hosts=["llmoin.thueringen.de"]))
    document["issuers"][0]["issuer"] = "https://login.thueringen.de/realms/tlv"
    audit = audit_rows(stack)

    # The document's shape is checked before anything changes ...
    shape = copy.deepcopy(document)
    shape["limits"].append({"scope": "user", "subject": "anna", "rpn": 5})
    result = apply_file(stack, write_document(tmp_path, shape), check=False)
    assert result.returncode == 1
    assert f"limits[{len(shape['limits']) - 1}]: unknown field 'rpn'" in result.stderr

    # ... and what only the database can tell (an API key that does not
    # exist) undoes the tenant, its issuer, models and other limits.
    late = copy.deepcopy(document)
    late["limits"].append({"scope": "key", "subject": "key_0000000000000000", "rpm": 5})
    result = apply_file(stack, write_document(tmp_path, late), check=False)
    assert result.returncode == 1
    assert f"limits[{len(late['limits']) - 1}]: tenant 'thueringen' has no API key" \
        in result.stderr

    assert state_view(stack, "thueringen") is None
    assert stack.sql("SELECT count(*) FROM tenant_issuers WHERE issuer = %s",
                     document["issuers"][0]["issuer"])[0][0] == 0
    assert audit_rows(stack) == audit
    # The issuer is free: the document without the error applies.
    lines = change_lines(apply_file(stack, write_document(tmp_path, document)))
    assert lines[0] == "+ tenant thueringen"
    assert_as_written(stack, document)


def test_apply_refuses_documents_that_are_not_fit(stack, states, applied):
    cases = [
        (b"", "a tenant's document: the request body is empty; a JSON object is required"),
        (b"[]", "a tenant's document: the request body must be a JSON object"),
        (b'{"slug": "bremen", "name": "B", "limits": [{"scope": "tenant", "rpm": 1e999999}]}',
         "a tenant's document: the request body holds a number too large to read"),
        (json.dumps({"slug": "bremen"}).encode(), "field 'name' is required"),
        (json.dumps({"slug": "bremen", "name": "B", "owner": "x"}).encode(),
         "unknown field 'owner'"),
        (json.dumps({"slug": "bremen", "name": "B", "issuers": {}}).encode(),
         "field 'issuers' must be a list of objects"),
        (json.dumps({"slug": "bremen", "name": "B", "issuers": [
            {"issuer": "https://a.example", "audience": 7}]}).encode(),
         "issuers[0]: field 'audience' must be a string"),
        (json.dumps({"slug": "bremen", "name": "B", "models": [{"alias": "x"}, {"alias": "x"}]
                     }).encode(), "models[1]: model x is listed twice (also models[0])"),
        (json.dumps({"slug": "bremen", "name": "B", "settings": {"hosts": []}}).encode(),
         "settings: name and hosts belong at the top of the document"),
        (json.dumps({"slug": "bremen", "name": "B", "settings": {"max_tokens_cap": "x"}}
                    ).encode(), "settings: field 'max_tokens_cap' must be an integer"),
    ]
    before, audit = state_view(stack, "bremen"), audit_rows(stack)
    for body, message in cases:
        status, answer = api(stack, "POST", "/admin/v1/apply", body)
        assert status == 400, answer
        assert answer["error"]["code"] == "invalid_body"
        assert message in answer["error"]["message"], (message, answer)
    status, answer = api(stack, "POST", "/admin/v1/apply?dry_run=yes",
                         {"slug": "bremen", "name": "B"})
    assert (status, answer["error"]["code"]) == (400, "invalid_parameter")
    assert state_view(stack, "bremen") == before
    assert audit_rows(stack) == audit


# --- the states at the gateway ---------------------------------------------------------

def token_of(states, slug, user=None):
    document, idps, _ = states[slug]
    idp = idps[document["issuers"][0]["issuer"]]
    kid = next(iter(idp.keys))
    return idp.token(kid, sub=uuid.uuid4().hex, preferred_username=user or DEMO_USERS[slug],
                     groups=["fachamt"])


def chat(stack, token, host):
    return requests.post(f"{stack.url}/v1/chat/completions", timeout=30,
                         headers={"Authorization": f"Bearer {token}", "Host": host},
                         json={"model": MODEL, "messages": [
                             {"role": "user", "content": "Fasse den Vermerk zusammen."}]})


def test_each_state_signs_in_at_its_host_and_is_billed_to_itself(stack, states, applied):
    for slug in STATES:
        token = token_of(states, slug)
        wait_until(lambda: chat(stack, token, f"llmoin.{slug}.de").status_code == 200,
                   timeout=5, what=f"{slug}'s token accepted at its host")
    # A state's token is no good at another state's host name.
    refused = chat(stack, token_of(states, "hamburg"), "llmoin.bremen.de")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "wrong_tenant"

    def by_user(slug):
        return {row["key"]: row["requests"]
                for row in stack.ctl_json("usage", slug, "--by", "user")["rows"]}
    for slug in STATES:
        report = wait_until(lambda: by_user(slug), timeout=15, what=f"{slug}'s usage ingested")
        assert report == {DEMO_USERS[slug]: 1}, (slug, report)


# --- offboarding -------------------------------------------------------------------------

OFFBOARDED = "schleswig-holstein"


def tenant_rows(stack, tenant_id):
    """{table: rows of the tenant} for every table with a tenant_id column
    (partitions too), and tenants."""
    tables = [name for (name,) in stack.sql(
        "SELECT c.table_name FROM information_schema.columns c"
        " JOIN information_schema.tables t USING (table_schema, table_name)"
        " WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id'"
        " AND t.table_type = 'BASE TABLE' ORDER BY 1")]
    rows = {table: stack.sql(f"SELECT count(*) FROM {table} WHERE tenant_id = %s",
                             tenant_id)[0][0] for table in tables}
    rows["tenants"] = stack.sql("SELECT count(*) FROM tenants WHERE id = %s", tenant_id)[0][0]
    return rows


def counters(stack, tenant_id):
    return sorted(redis_client(stack).scan_iter(match=f"llmoin:{{t{tenant_id}}}:*"))


def journal_line(tenant_id, **fields):
    record = {"v": "1", "ts": f"{time.time():.3f}", "request_id": uuid.uuid4().hex,
              "tenant_id": str(tenant_id), "user": "spaet", "key_id": "", "model": MODEL,
              "pool": "default", "status": "200", "upstream_status": "200",
              "prompt_tokens": "3", "completion_tokens": "4", "usage": "reported",
              "stream": "0", "request_time": "0.100", "groups": "", "quota": "none"}
    record.update(fields)
    return json.dumps(record, separators=(",", ":"))


def append_journal(stack, line):
    """Appends a line to the node's journal and waits until it is read."""
    path = stack.state / "log" / "usage.journal"
    with path.open("a") as handle:
        handle.write(line + "\n")
    size = path.stat().st_size
    wait_until(lambda: stack.sql("SELECT 1 FROM ingest_offsets WHERE path = %s"
                                 " AND \"offset\" >= %s", str(path), size),
               timeout=10, what="journal line read")


@pytest.fixture(scope="module")
def offboarded(stack, states, applied, tmp_path_factory):
    """A state with all a tenant can have, before it is offboarded:
    (tenant id, API key, dev token, token of its issuer, document)."""
    template = states["bremen"][0]
    document, idps = with_test_issuers(dict(
        template, slug=OFFBOARDED, name="Land Schleswig-Holstein",
        hosts=[f"llmoin.{OFFBOARDED}.de"],
        issuers=[dict(template["issuers"][0],
                      issuer="https://login.schleswig-holstein.de/realms/landesnetz")],
        limits=[{"scope": "tenant", "rpm": 1000, "monthly_tokens": 10000000},
                {"scope": "user", "rpm": 50, "concurrent": 2, "monthly_tokens": 100000}]))
    path = write_document(tmp_path_factory.mktemp("offboard"), document)
    apply_file(stack, path)
    tenant_id = stack.sql("SELECT id FROM tenants WHERE slug = %s", OFFBOARDED)[0][0]
    key = stack.ctl_json("key", "create", OFFBOARDED, "--user", "kai.karstens")
    stack.ctl_json("limits", "set", OFFBOARDED, "--key", key["id"], "--rpm", "100")
    stack.ctl_json("tenant", "dev-idp", OFFBOARDED, "--enable")
    dev_token = stack.ctl("dev-token", OFFBOARDED, "--user", "dev.user").stdout.strip()
    idp = idps[document["issuers"][0]["issuer"]]
    token = idp.token(next(iter(idp.keys)), preferred_username="kai.karstens")
    # A journal line ingestion could not read (status is not a number).
    append_journal(stack, journal_line(tenant_id, status="zweihundert"))
    return tenant_id, key["key"], dev_token, token, document


def send_requests(stack, offboarded):
    tenant_id, key, dev_token, token, _ = offboarded
    host = f"llmoin.{OFFBOARDED}.de"
    for credential in (key, dev_token, token):
        wait_until(lambda: chat(stack, credential, host).status_code == 200, timeout=5,
                   what="a request of the state to be offboarded")
    wait_until(lambda: stack.sql("SELECT count(*) FROM usage_events WHERE tenant_id = %s",
                                 tenant_id)[0][0] >= 3 and
               stack.sql("SELECT count(*) FROM api_keys WHERE tenant_id = %s"
                         " AND last_used_at IS NOT NULL", tenant_id)[0][0] == 1,
               timeout=15, what="its usage ingested")


def test_offboard_needs_the_slug_confirmed(stack, offboarded):
    tenant_id = offboarded[0]
    rows, audit = tenant_rows(stack, tenant_id), audit_rows(stack)

    for body in ({}, {"confirm": "bremen"}, {"confirm": OFFBOARDED.upper()}):
        status, answer = api(stack, "POST", f"/admin/v1/tenants/{OFFBOARDED}/offboard", body)
        assert (status, answer["error"]["code"]) == (400, "confirmation_required"), answer
        assert "field 'confirm' must repeat the tenant's slug" in answer["error"]["message"]
    status, answer = api(stack, "POST", f"/admin/v1/tenants/{OFFBOARDED}/offboard",
                         {"confirm": 1})
    assert (status, answer["error"]["code"]) == (400, "invalid_body"), answer
    missing = stack.ctl("tenant", "offboard", OFFBOARDED, check=False)
    assert missing.returncode == 2 and "missing option --confirm" in missing.stderr
    wrong = stack.ctl("tenant", "offboard", OFFBOARDED, "--confirm", "bremen", check=False)
    assert wrong.returncode == 1 and "must repeat the tenant's slug" in wrong.stderr
    status, answer = api(stack, "POST", "/admin/v1/tenants/nirgendwo/offboard",
                         {"confirm": "nirgendwo"})
    assert (status, answer["error"]["code"]) == (404, "tenant_not_found")

    assert tenant_rows(stack, tenant_id) == rows
    assert audit_rows(stack) == audit


def test_offboard_without_the_quota_store_deletes_nothing(stack, offboarded):
    tenant_id = offboarded[0]
    rows, audit = tenant_rows(stack, tenant_id), audit_rows(stack)
    stack.ops("stop", "redis")
    try:
        status, answer = api(stack, "POST", f"/admin/v1/tenants/{OFFBOARDED}/offboard",
                             {"confirm": OFFBOARDED})
    finally:
        stack.ops("start")
    assert (status, answer["error"]["code"]) == (503, "quota_store_unavailable"), answer
    assert "nothing was deleted" in answer["error"]["message"]
    assert tenant_rows(stack, tenant_id) == rows
    assert audit_rows(stack) == audit


def test_offboard_deletes_every_row_key_and_counter(stack, states, offboarded):
    tenant_id, key, dev_token, token, document = offboarded
    send_requests(stack, offboarded)
    rows, keys = tenant_rows(stack, tenant_id), counters(stack, tenant_id)
    rejects = stack.sql("SELECT count(*) FROM ingest_rejects WHERE line LIKE %s",
                        f'%"tenant_id":"{tenant_id}"%')[0][0]
    for table in ("tenant_issuers", "api_keys", "tenant_models", "limits", "dev_idp_keys",
                  "usage_events", "usage_daily", "usage_monthly", "tenants"):
        assert rows[table] > 0, f"{table}: the state has no row to offboard"
    assert keys and rejects == 1
    others = {slug: state_view(stack, slug) for slug in STATES}
    other_usage = stack.sql("SELECT count(*) FROM usage_events WHERE tenant_id <> %s",
                            tenant_id)[0][0]
    audit = audit_rows(stack)

    result = stack.ctl("--output", "json", "tenant", "offboard", OFFBOARDED,
                       "--confirm", OFFBOARDED)

    answer = json.loads(result.stdout)
    assert answer["tenant"] == OFFBOARDED
    deleted = answer["deleted"]
    assert deleted == {
        "issuers": rows["tenant_issuers"], "api_keys": rows["api_keys"],
        "models": rows["tenant_models"], "limits": rows["limits"],
        "dev_idp_keys": rows["dev_idp_keys"], "usage_events": rows["usage_events"],
        "usage_daily": rows["usage_daily"], "usage_monthly": rows["usage_monthly"],
        "ingest_rejects": 1, "quota_counters": deleted["quota_counters"]}
    assert deleted["quota_counters"] >= 1
    assert deleted["issuers"] == 2, "the state's own and the development provider's"

    # Nothing of it in any table but the append-only audit log, which keeps
    # its history and says what was deleted.
    after = tenant_rows(stack, tenant_id)
    assert {table: n for table, n in after.items() if n and table != "audit_log"} == {}
    assert set(after) >= set(rows)
    offboard_rows = stack.sql("SELECT actor, object, before, after FROM audit_log"
                              " WHERE tenant_id = %s AND action = 'tenant.offboard'", tenant_id)
    assert len(offboard_rows) == 1
    actor, object_, before, after_doc = offboard_rows[0]
    assert (object_, after_doc) == (f"tenant:{OFFBOARDED}", None)
    assert before["tenant"]["slug"] == OFFBOARDED and before["deleted"] == deleted
    assert after["audit_log"] == rows["audit_log"] + 1
    assert audit_rows(stack) == audit + 1
    assert stack.sql("SELECT count(*) FROM ingest_rejects WHERE line LIKE %s",
                     f'%"tenant_id":"{tenant_id}"%')[0][0] == 0

    assert counters(stack, tenant_id) == []
    snapshot = pathlib.Path(stack.env["LLMOIN_SNAPSHOT"])
    wait_until(lambda: OFFBOARDED not in snapshot.read_text(), timeout=5,
               what="the snapshot without the state")
    assert document["issuers"][0]["issuer"] not in snapshot.read_text()
    host = f"llmoin.{OFFBOARDED}.de"
    for credential in (key, dev_token, token):
        wait_until(lambda: chat(stack, credential, host).status_code == 401, timeout=5,
                   what="the state's credentials refused")
        wait_until(lambda: stack.chat(credential).status_code == 401, timeout=5,
                   what="the state's credentials refused at any host")
    jwks = requests.get(f"{stack.env['LLMOIN_TENANTD_URL']}/dev-idp/{OFFBOARDED}/jwks",
                        timeout=10)
    assert jwks.status_code == 404
    assert api(stack, "GET", f"/admin/v1/tenants/{OFFBOARDED}")[0] == 404

    # The other states are as they were.
    assert {slug: state_view(stack, slug) for slug in STATES} == others
    assert stack.sql("SELECT count(*) FROM usage_events WHERE tenant_id <> %s",
                     tenant_id)[0][0] == other_usage


def test_a_journal_line_of_an_offboarded_state_is_kept_as_a_reject(stack, states, offboarded):
    """Usage the gateway wrote before the offboarding but tenantd reads
    after it: ingestion keeps the line in ingest_rejects (tenant ids are
    never used again, so it cannot be counted for another state) and goes
    on with the next lines."""
    tenant_id = offboarded[0]
    assert api(stack, "GET", f"/admin/v1/tenants/{OFFBOARDED}")[0] == 404
    late = journal_line(tenant_id)

    append_journal(stack, late)

    assert stack.sql("SELECT reason FROM ingest_rejects WHERE line = %s", late) == [
        (f"tenant {tenant_id} does not exist",)]
    assert tenant_rows(stack, tenant_id)["usage_events"] == 0
    before = stack.ledger("bremen")[0]
    assert chat(stack, token_of(states, "bremen"), "llmoin.bremen.de").status_code == 200
    wait_until(lambda: stack.ledger("bremen")[0] == before + 1, timeout=10,
               what="ingestion going on after the line")
