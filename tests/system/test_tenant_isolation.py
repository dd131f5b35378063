"""Tenant admins see and change their own tenant only: the cross-tenant matrix.

Two states, land-a and land-b, each with an admin whose token comes from the
state's own identity provider. land-b has one of everything (API key, issuer,
allowed model, limits, development identity provider, usage rows, audit
rows). Then, over HTTPS:

  - for EVERY route of `tenantd --routes` (read from the binary, so a new
    route is in the matrix by itself) and its method, land-a's admin aims at
    land-b's objects: tenant routes answer 404 exactly as for a tenant or
    object that does not exist, operator routes answer 403 operators_only;
    the answers name nothing of land-b beyond what the caller sent; and
    afterwards every row of land-b in every table is as before;
  - land-a's admin can do its own work on its own tenant (the positive
    control: otherwise the matrix would pass on an API that refuses all);
  - the same isolation with row-level security alone: the API's database
    role with land-a's scope, by direct SQL, reads no row of land-b in any
    table that has a tenant_id, cannot change or delete one, and cannot
    write one; without a scope it sees nothing at all;
  - who may call: tokens without the role, expired, for another audience,
    of an unknown issuer, API keys, operator tokens with and without the
    operator role, each with its exact status and code.

The development identity provider's routes (/dev-idp/...) are public OIDC
endpoints of development tenants, the same for everyone: outside the matrix.
"""

import subprocess
import time

import psycopg2
import pytest
import requests

from llmoin_stack import BUILD, SIM_MODEL, tenant_id, wait_until
from management import ManagementAPI, on_socket

A, B = "land-a", "land-b"


@pytest.fixture(scope="module")
def api(stack, tmp_path_factory):
    return ManagementAPI(stack, tmp_path_factory.mktemp("https"))


@pytest.fixture(scope="module")
def world(stack, api):
    """land-a and land-b with their admins; land-b with one of everything."""
    ids = {}
    for slug in (A, B):
        stack.create_tenant(slug)
        api.trust_tenant_idp(slug)
    key_b, secret_b = stack.create_key(B, "bob")
    stack.wait_key_works(secret_b)
    assert stack.chat(secret_b).status_code == 200
    stack.ctl_json("model", "allow", B, SIM_MODEL)
    stack.ctl_json("limits", "set", B, "--user", "bob", "--rpm", "100")
    assert on_socket(stack, "POST", f"/admin/v1/tenants/{B}/dev-idp")[0] == 200
    wait_until(lambda: stack.ledger(B)[0] == 1, timeout=15, what="land-b's usage row")
    ids["key_b"] = key_b
    ids["secret_b"] = secret_b
    ids["issuer_b"] = str(api.idps[B][1])
    ids["a"], ids["b"] = tenant_id(stack, A), tenant_id(stack, B)
    return ids


def tenant_tables(stack):
    """Every table (not partition) with a tenant_id column, and tenants."""
    rows = stack.sql(
        "SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
        " WHERE a.attname = 'tenant_id' AND c.relkind IN ('r', 'p')"
        " AND NOT c.relispartition AND c.relnamespace = 'public'::regnamespace"
        " ORDER BY 1")
    return [name for (name,) in rows]


def fingerprint(stack, tenant):
    """Every row of the tenant in every table, as text, and its audit count."""
    rows = {"tenants": stack.sql("SELECT t::text FROM tenants t WHERE id = %s", tenant)}
    for table in tenant_tables(stack):
        rows[table] = sorted(r for (r,) in stack.sql(
            f"SELECT t::text FROM {table} t WHERE tenant_id = %s", tenant))
    return rows


# --- the matrix -------------------------------------------------------------------

def routes():
    output = subprocess.run([str(BUILD / "tenantd" / "tenantd"), "--routes"],
                            capture_output=True, text=True, check=True).stdout
    return [tuple(line.split("\t")[0].split(" ", 1)) for line in output.splitlines()]


ANONYMOUS = {("GET", "/admin/v1/health")}
OWN_ONLY = {("GET", "/admin/v1/me")}     # about the caller, no tenant named

# What tenant admins may use at all: the rest is the operators'.
TENANT_ROUTES = {
    ("GET", "/admin/v1/tenants/{slug}"),
    ("GET", "/admin/v1/tenants/{slug}/keys"), ("POST", "/admin/v1/tenants/{slug}/keys"),
    ("POST", "/admin/v1/keys/{key_id}/revoke"),
    ("GET", "/admin/v1/tenants/{slug}/issuers"), ("POST", "/admin/v1/tenants/{slug}/issuers"),
    ("DELETE", "/admin/v1/issuers/{issuer_id}"),
    ("GET", "/admin/v1/tenants/{slug}/models"), ("POST", "/admin/v1/tenants/{slug}/models"),
    ("DELETE", "/admin/v1/tenants/{slug}/models"),
    ("GET", "/admin/v1/tenants/{slug}/limits"), ("PUT", "/admin/v1/tenants/{slug}/limits"),
    ("DELETE", "/admin/v1/tenants/{slug}/limits"),
    ("GET", "/admin/v1/tenants/{slug}/usage"),
    ("GET", "/admin/v1/tenants/{slug}/audit"),
}

# A request each route would carry out for an operator, aimed at land-b.
BODIES = {
    ("POST", "/admin/v1/tenants"): {"slug": "land-x", "name": "Land X"},
    ("PATCH", "/admin/v1/tenants/{slug}"): {"name": "Übernommen"},
    ("POST", "/admin/v1/tenants/{slug}/keys"): {"user": "mallory"},
    ("POST", "/admin/v1/tenants/{slug}/issuers"): {
        "issuer": "https://evil.example/realms/x", "audience": "x",
        "jwks_uri": "https://evil.example/jwks"},
    ("POST", "/admin/v1/tenants/{slug}/models"): {"alias": SIM_MODEL},
    ("PUT", "/admin/v1/tenants/{slug}/limits"): {"scope": "user", "subject": "bob", "rpm": 1},
    ("POST", "/admin/v1/models"): {"alias": "evil-model", "pool": "default"},
    ("PUT", "/admin/v1/pools/{pool}"): {"description": "übernommen"},
    ("POST", "/admin/v1/tenants/{slug}/dev-token"): {"user": "mallory"},
    ("POST", "/admin/v1/tenants/{slug}/offboard"): {"confirm": B},
    ("POST", "/admin/v1/apply"): {"slug": B, "name": "Übernommen"},
}
QUERIES = {
    ("DELETE", "/admin/v1/tenants/{slug}/models"): {"alias": SIM_MODEL},
    ("DELETE", "/admin/v1/tenants/{slug}/limits"): {"scope": "user", "subject": "bob"},
    ("GET", "/admin/v1/audit"): {"tenant": B},
}
NOT_FOUND = {"{slug}": "tenant_not_found", "{key_id}": "key_not_found",
             "{issuer_id}": "issuer_not_found"}


def aimed_at_b(pattern, world):
    return (pattern.replace("{slug}", B).replace("{key_id}", world["key_b"])
            .replace("{issuer_id}", world["issuer_b"]).replace("{pool}", "default"))


def test_the_matrix_covers_every_route():
    """Every route is in the matrix below or named as outside it."""
    listed = {route for route in routes() if not route[1].startswith("/dev-idp/")}
    assert ANONYMOUS | OWN_ONLY | TENANT_ROUTES <= listed
    assert set(BODIES) <= listed and set(QUERIES) <= listed


def test_admin_of_a_reaches_nothing_of_b(stack, api, world):
    token = api.admin_token(A)
    before = fingerprint(stack, world["b"])
    audit_before = stack.sql("SELECT count(*) FROM audit_log")[0][0]
    secrets = (world["secret_b"], "bob", api.idps[B][0].issuer)
    checked = 0
    for method, pattern in routes():
        if pattern.startswith("/dev-idp/") or (method, pattern) in ANONYMOUS | OWN_ONLY:
            continue
        response = api.call(method, aimed_at_b(pattern, world), token,
                            body=BODIES.get((method, pattern)),
                            params=QUERIES.get((method, pattern)))
        error = response.json()["error"]
        where = f"{method} {pattern}: {response.status_code} {error}"
        if (method, pattern) in TENANT_ROUTES:
            placeholder = next(p for p in NOT_FOUND if p in pattern)
            assert response.status_code == 404, where
            assert error["code"] == NOT_FOUND[placeholder], where
        else:
            assert response.status_code == 403, where
            assert error["code"] == "operators_only", where
        assert not any(s in response.text for s in secrets), where
        checked += 1
    assert checked == len(routes()) - 7       # health, me, five /dev-idp routes
    assert fingerprint(stack, world["b"]) == before
    assert stack.sql("SELECT count(*) FROM audit_log")[0][0] == audit_before


def test_unknown_and_foreign_objects_are_answered_alike(api, world):
    """404 for land-b's objects says exactly what it says for invented ones."""
    token = api.admin_token(A)
    cases = [("GET", "/admin/v1/tenants/{}/keys", B, "land-q"),
             ("POST", "/admin/v1/keys/{}/revoke", world["key_b"], "key_0123456789abcdef"),
             ("DELETE", "/admin/v1/issuers/{}", world["issuer_b"], "999999")]
    for method, path, foreign, invented in cases:
        answers = [api.call(method, path.format(name), token) for name in (foreign, invented)]
        assert [a.status_code for a in answers] == [404, 404]
        errors = [a.json()["error"] for a in answers]
        errors[0]["message"] = errors[0]["message"].replace(foreign, invented)
        assert errors[0] == errors[1]


def test_admin_of_a_works_on_its_own_tenant(stack, api, world):
    token = api.admin_token(A)
    assert api.call("GET", "/admin/v1/me", token).json() == {
        "caller": f"admin:{A}:admin", "role": "tenant_admin", "tenant": A}
    assert api.call("GET", f"/admin/v1/tenants/{A}", token).json()["slug"] == A
    created = api.call("POST", f"/admin/v1/tenants/{A}/keys", token, body={"user": "anna"})
    assert created.status_code == 201, created.text
    key = created.json()
    stack.wait_key_works(key["key"])
    listed = api.call("GET", f"/admin/v1/tenants/{A}/keys", token).json()["data"]
    assert [k["id"] for k in listed] == [key["id"]]
    limit = api.call("PUT", f"/admin/v1/tenants/{A}/limits", token,
                     body={"scope": "user", "subject": "anna", "rpm": 30})
    assert limit.status_code == 200, limit.text
    allowed = api.call("POST", f"/admin/v1/tenants/{A}/models", token, body={"alias": SIM_MODEL})
    assert allowed.status_code == 200, allowed.text
    assert api.call("POST", f"/admin/v1/keys/{key['id']}/revoke", token).status_code == 200
    usage = api.call("GET", f"/admin/v1/tenants/{A}/usage", token)
    assert usage.status_code == 200, usage.text
    actors = {actor for (actor,) in stack.sql(
        "SELECT DISTINCT actor FROM audit_log WHERE tenant_id = %s AND actor LIKE 'admin:%%'",
        world["a"])}
    assert actors == {f"admin:{A}:admin"}


@pytest.mark.parametrize("path, body, what", [
    (f"/admin/v1/tenants/{A}/limits", {"scope": "tenant", "subject": "", "rpm": 10**6},
     "limits of scope 'tenant'"),
    (f"/admin/v1/tenants/{A}/models", {"alias": SIM_MODEL, "pool": "default"},
     "field 'pool' (a dedicated pool)"),
])
def test_what_the_provider_allots_stays_the_operators(api, world, path, body, what):
    method = "PUT" if path.endswith("limits") else "POST"
    response = api.call(method, path, api.admin_token(A), body=body)
    assert response.status_code == 403
    assert response.json()["error"] == {
        "message": f"{what}: only the provider's operators may set this",
        "type": "permission_error", "code": "operators_only"}


# --- who may call -----------------------------------------------------------------

def refused(api, token, status, code, message):
    response = api.call("GET", f"/admin/v1/tenants/{A}", token)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"] == message
    if token is not None:
        assert token not in response.text


def test_a_user_without_the_admin_role_is_403(api, world):
    refused(api, api.admin_token(A, user="erika", roles=("user",)), 403, "not_a_tenant_admin",
            f"the token signs a user of tenant '{A}' in, but its 'roles' claim does not "
            "make them an admin")


def test_expired_and_foreign_audience_tokens_are_401(api, world):
    refused(api, api.admin_token(A, exp=int(time.time()) - 3600), 401, "invalid_token",
            "the token has expired ('exp')")
    refused(api, api.admin_token(A, aud="somebody-else"), 401, "invalid_token",
            "claim 'aud' does not contain the expected audience")


def test_token_of_an_unknown_issuer_is_401(api, world):
    refused(api, api.admin_token(A, iss="https://login.elsewhere.example/"), 401,
            "invalid_token",
            "the token's issuer is neither the provider's nor one a tenant trusts")


def test_api_key_and_missing_token_are_401(api, world):
    refused(api, world["secret_b"], 401, "invalid_token",
            "API keys cannot manage tenants: send an admin's or operator's token")
    refused(api, None, 401, "token_required",
            "send 'Authorization: Bearer <token>': an operator's token of the provider's "
            "issuer or a tenant admin's token of the tenant's issuer")


def test_operator_token_reaches_everything(api, world):
    token = api.operator_token()
    assert api.call("GET", "/admin/v1/me", token).json() == {
        "caller": "operator:ops-anna", "role": "operator", "tenant": None}
    tenants = api.call("GET", "/admin/v1/tenants", token).json()["data"]
    assert {A, B} <= {t["slug"] for t in tenants}
    assert api.call("GET", f"/admin/v1/tenants/{B}/keys", token).json()["data"][0]["user"] == "bob"


def test_provider_token_without_the_operator_role_is_403(api, world):
    refused(api, api.operator_token(roles=("auditor",)), 403, "not_an_operator",
            "the token's 'roles' claim does not grant the operator role")


def test_admin_role_claim_is_configurable_per_tenant(stack, api, world):
    on_socket(stack, "PATCH", f"/admin/v1/tenants/{A}",
              {"admin_claim": "groups", "admin_value": "LLMoin-Admins"})
    try:
        grouped = api.admin_token(A, roles=(), groups=["Mitarbeitende", "LLMoin-Admins"])
        assert api.call("GET", "/admin/v1/me", grouped).status_code == 200
        refused(api, api.admin_token(A), 403, "not_a_tenant_admin",
                f"the token signs a user of tenant '{A}' in, but its 'groups' claim does "
                "not make them an admin")
    finally:
        on_socket(stack, "PATCH", f"/admin/v1/tenants/{A}",
                  {"admin_claim": "roles", "admin_value": "llmoin-admin"})


# --- row-level security alone -----------------------------------------------------

def as_api_role(stack, scope):
    """A connection as the API's database role with scope (role, tenant id)
    set the way tenantd sets it, or no scope at all."""
    connection = psycopg2.connect(stack.env["LLMOIN_PG_DSN"])
    connection.autocommit = True
    cursor = connection.cursor()
    cursor.execute("SET ROLE llmoin_api")
    if scope is not None:
        cursor.execute("SELECT set_config('app.role', %s, false),"
                       " set_config('app.tenant_id', %s::text, false)", scope)
    return connection, cursor


def test_rls_alone_shows_a_only_its_own_rows(stack, world):
    connection, cursor = as_api_role(stack, ("tenant_admin", world["a"]))
    try:
        tables = tenant_tables(stack)
        assert {"api_keys", "limits", "usage_events", "usage_daily", "audit_log"} <= set(tables)
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {table} WHERE tenant_id = %s", (world["b"],))
            assert cursor.fetchone()[0] == 0, table
            cursor.execute(f"SELECT count(DISTINCT tenant_id) FROM {table}"
                           " WHERE tenant_id IS DISTINCT FROM %s", (world["a"],))
            assert cursor.fetchone()[0] == 0, table
        cursor.execute("SELECT slug FROM tenants")
        assert cursor.fetchall() == [(A,)]
        for view in ("api_tenant_docs", "api_key_docs", "api_issuer_docs",
                     "api_tenant_model_docs", "api_limit_docs"):
            cursor.execute(f"SELECT count(*) FROM {view} WHERE tenant_id = %s", (world["b"],))
            assert cursor.fetchone()[0] == 0, view
    finally:
        connection.close()


def test_rls_alone_refuses_changes_to_b(stack, world):
    before = fingerprint(stack, world["b"])
    connection, cursor = as_api_role(stack, ("tenant_admin", world["a"]))
    try:
        for table in tenant_tables(stack):
            if table == "audit_log":      # append-only: its trigger refuses both anyway
                continue
            cursor.execute(f"UPDATE {table} SET tenant_id = tenant_id WHERE tenant_id = %s",
                           (world["b"],))
            assert cursor.rowcount == 0, table
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", (world["b"],))
            assert cursor.rowcount == 0, table
        cursor.execute("UPDATE tenants SET name = 'x' WHERE id = %s", (world["b"],))
        assert cursor.rowcount == 0
        for statement in (
                "INSERT INTO limits (tenant_id, scope, subject, rpm) VALUES (%s, 'user', 'x', 1)",
                "INSERT INTO api_keys (id, tenant_id, user_id, key_hash, prefix) VALUES"
                " ('key_00000000000000ff', %s, 'x', repeat('a', 64), 'x')",
                "UPDATE limits SET tenant_id = %s"):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege,
                               match="row-level security"):
                cursor.execute(statement, (world["b"],))
        cursor.execute("UPDATE models SET pool_name = pool_name")
        assert cursor.rowcount == 0
    finally:
        connection.close()
    assert fingerprint(stack, world["b"]) == before


def test_rls_without_a_scope_sees_nothing(stack, world):
    connection, cursor = as_api_role(stack, None)
    try:
        for table in tenant_tables(stack) + ["tenants", "ingest_offsets"]:
            cursor.execute(f"SELECT count(*) FROM {table}")
            assert cursor.fetchone()[0] == 0, table
        cursor.execute("SELECT c.relname FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid"
                       " WHERE i.inhparent = 'usage_events'::regclass LIMIT 1")
        partition = cursor.fetchone()[0]
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cursor.execute(f"SELECT count(*) FROM {partition}")
    finally:
        connection.close()


# --- settings that keep tokens safe --------------------------------------------------

@pytest.mark.parametrize("arguments, message", [
    (["--listen", "0.0.0.0:8999"], "listen 0.0.0.0:8999 is not a loopback address: tokens "
     "would travel in the clear; set tls_cert and tls_key (HTTPS)"),
    (["--operator-issuer", "https://login.example/"], "operator_issuer needs operator_jwks: "
     "the file with the issuer's public keys"),
    (["--tls-cert", "/etc/hostname"], "tls_cert and tls_key: give both or neither"),
])
def test_unsafe_settings_stop_tenantd(arguments, message):
    result = subprocess.run([str(BUILD / "tenantd" / "tenantd"), *arguments],
                            capture_output=True, text=True, timeout=10)
    assert (result.returncode, result.stderr) == (2, f"tenantd: {message}\n")


def test_plain_http_to_the_https_listener_gets_no_answer(api, world):
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(api.base.replace("https:", "http:") + "/admin/v1/health", timeout=5)


# --- what review found: suspension, reserved issuers, operator-only columns -----------

def test_admins_of_a_suspended_tenant_may_look_not_change(stack, api, world):
    token = api.admin_token(A)
    stack.ctl_json("tenant", "suspend", A)
    try:
        assert api.call("GET", f"/admin/v1/tenants/{A}/keys", token).status_code == 200
        refused = api.call("POST", f"/admin/v1/tenants/{A}/keys", token, body={"user": "x"})
        assert refused.status_code == 403
        assert refused.json()["error"] == {
            "message": f"tenant '{A}' is suspended: its admins may look, not change; ask the "
                       "provider's operators",
            "type": "permission_error", "code": "tenant_suspended"}
    finally:
        stack.ctl_json("tenant", "resume", A)


def test_no_tenant_may_trust_the_operator_issuer(stack, api, world):
    body = {"issuer": api.provider.issuer, "audience": "llmoin-admin",
            "jwks": api.provider.jwks()}
    for token in (api.admin_token(A), api.operator_token()):
        answer = api.call("POST", f"/admin/v1/tenants/{A}/issuers", token, body=body)
        assert answer.status_code == 403, answer.text
        assert answer.json()["error"] == {
            "message": "field 'issuer' cannot name this issuer: it is the provider's "
                       "operator issuer",
            "type": "permission_error", "code": "issuer_reserved"}


def test_tenant_admins_cannot_claim_development_issuers_or_plain_http(stack, api, world):
    token = api.admin_token(A)
    dev = {"issuer": f"http://127.0.0.1:{stack.env['LLMOIN_NGINX_PORT']}/dev-idp/land-z",
           "audience": "x", "jwks": api.idps[A][0].jwks()}
    answer = api.call("POST", f"/admin/v1/tenants/{A}/issuers", token, body=dev)
    assert (answer.status_code, answer.json()["error"]["code"]) == (403, "issuer_reserved")
    local = {"issuer": "https://login.land-a.example/other", "audience": "x",
             "jwks_uri": f"http://127.0.0.1:{stack.env['LLMOIN_TENANTD_PORT']}/"}
    answer = api.call("POST", f"/admin/v1/tenants/{A}/issuers", token, body=local)
    assert answer.status_code == 403
    assert answer.json()["error"]["message"] == (
        "field 'jwks_uri' with http:// (this machine): only the provider's operators may "
        "set this")


def test_tenant_admins_see_that_keys_failed_not_why(stack, api, world):
    stack.sql("UPDATE tenant_issuers SET jwks_error = 'Failed to connect to 10.0.0.7 port 22'"
              " WHERE id = %s", api.idps[A][1])
    try:
        token = api.admin_token(A)
        shown = api.call("GET", f"/admin/v1/tenants/{A}/issuers", token).json()["data"]
        assert shown[0]["jwks_error"] == ("the keys could not be fetched; the provider's "
                                          "operators see why")
        shown = api.call("GET", f"/admin/v1/tenants/{A}/issuers",
                         api.operator_token()).json()["data"]
        assert shown[0]["jwks_error"] == "Failed to connect to 10.0.0.7 port 22"
    finally:
        stack.sql("UPDATE tenant_issuers SET jwks_error = NULL WHERE id = %s", api.idps[A][1])


def test_a_tenant_trusts_ten_issuers_at_most(stack, api, world):
    token = api.operator_token()
    stack.create_tenant("land-many")
    for n in range(10):
        body = {"issuer": f"https://login{n}.land-many.example/", "audience": "x",
                "jwks": api.idps[A][0].jwks()}
        assert api.call("POST", "/admin/v1/tenants/land-many/issuers", token,
                        body=body).status_code == 201
    body = {"issuer": "https://login10.land-many.example/", "audience": "x",
            "jwks": api.idps[A][0].jwks()}
    answer = api.call("POST", "/admin/v1/tenants/land-many/issuers", token, body=body)
    assert answer.status_code == 409
    assert answer.json()["error"] == {
        "message": "tenant 'land-many' trusts 10 identity providers already, the most there "
                   "may be; remove one first",
        "type": "invalid_request_error", "code": "issuer_limit"}


@pytest.mark.parametrize("statement", [
    "UPDATE tenants SET status = 'suspended' WHERE id = {a}",
    "UPDATE tenants SET max_tokens_cap = 1000000 WHERE id = {a}",
    "UPDATE tenants SET admin_claim = 'sub', admin_value = 'x' WHERE id = {a}",
    "UPDATE tenants SET hosts = '{{evil.example}}' WHERE id = {a}",
    "UPDATE tenants SET quota_fail_mode = 'open' WHERE id = {a}",
    "INSERT INTO tenants (slug, name) VALUES ('land-x', 'X')",
    "INSERT INTO limits (tenant_id, scope, subject, rpm) VALUES ({a}, 'tenant', '', 1)",
    "INSERT INTO tenant_models (tenant_id, model_alias, pool_name)"
    " VALUES ({a}, 'llmoin-sim', 'default')",
    "INSERT INTO audit_log (actor, tenant_id, action, object)"
    " VALUES ('operator:anna', {a}, 'x', 'x')",
])
def test_rls_alone_keeps_what_operators_allot(stack, world, statement):
    """Within its own tenant a tenant admin's scope cannot write what only
    operators may: the database refuses it, whatever a handler does."""
    connection, cursor = as_api_role(stack, ("tenant_admin", world["a"]))
    try:
        cursor.execute("SELECT set_config('app.actor', 'admin:land-a:admin', false)")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cursor.execute(statement.format(a=world["a"]))
        cursor.execute("DELETE FROM tenants WHERE id = %s", (world["a"],))
        assert cursor.rowcount == 0
        cursor.execute("UPDATE tenants SET models_restricted = models_restricted"
                       " WHERE id = %s", (world["a"],))
        assert cursor.rowcount == 1, "what its own routes change stays changeable"
    finally:
        connection.close()


def test_re_allowing_a_model_keeps_the_operators_dedicated_pool(stack, api, world):
    operator, admin = api.operator_token(), api.admin_token(A)
    path = f"/admin/v1/tenants/{A}/models"
    assert api.call("POST", path, operator,
                    body={"alias": SIM_MODEL, "pool": "default"}).status_code == 200
    again = api.call("POST", path, admin, body={"alias": SIM_MODEL})
    assert again.status_code == 200, again.text
    entry = next(m for m in again.json()["data"] if m["alias"] == SIM_MODEL)
    assert entry["dedicated_pool"] is True
