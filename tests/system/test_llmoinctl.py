"""llmoinctl against a real tenantd: output formats, messages, exit codes."""

import base64
import csv
import datetime
import io
import json
import time

from llmoin_stack import UnixHTTPConnection, wait_until


def test_tenant_lifecycle_in_table_json_and_csv(stack):
    created = stack.ctl("tenant", "create", "bremen", "--name", "Freie Hansestadt Bremen")
    assert "slug: bremen" in created.stdout

    table = stack.ctl("tenant", "list").stdout.splitlines()
    assert table[0].split() == ["SLUG", "NAME", "STATUS", "CREATED"]
    assert any(line.startswith("bremen ") and "active" in line for line in table[1:])

    rows = list(csv.DictReader(io.StringIO(stack.ctl("tenant", "list", "--output", "csv").stdout)))
    assert {"slug": "bremen", "name": "Freie Hansestadt Bremen", "status": "active"}.items() \
        <= rows[0].items()

    suspended = stack.ctl_json("tenant", "suspend", "bremen")
    assert suspended["status"] == "suspended"
    assert stack.ctl_json("tenant", "resume", "bremen")["status"] == "active"


def test_key_is_printed_once_and_never_listed(stack):
    stack.create_tenant("hamburg")

    created = stack.ctl("key", "create", "hamburg", "--user", "alice").stdout
    secret = next(line.split()[-1] for line in created.splitlines() if line.startswith("key:"))
    assert secret.startswith("lmk_")

    listing = stack.ctl("key", "list", "hamburg").stdout + \
        stack.ctl("key", "list", "hamburg", "--output", "json").stdout
    assert secret not in listing
    assert secret[:8] in listing
    keys = json.loads(stack.ctl("key", "list", "hamburg", "--output", "json").stdout)["data"]
    assert [key["user"] for key in keys] == ["alice"]


def test_api_errors_exit_1_with_the_message(stack):
    stack.create_tenant("sachsen-anhalt")

    duplicate = stack.ctl("tenant", "create", "sachsen-anhalt", "--name", "x", check=False)
    missing = stack.ctl("tenant", "show", "atlantis", check=False)
    unknown_key = stack.ctl("key", "revoke", "key_0000000000000000", check=False)

    assert duplicate.returncode == 1
    assert "tenant 'sachsen-anhalt' already exists" in duplicate.stderr
    assert missing.returncode == 1 and "tenant 'atlantis' not found" in missing.stderr
    assert unknown_key.returncode == 1 and "not found" in unknown_key.stderr


def test_bad_arguments_exit_2_before_any_request(stack):
    bad_slug = stack.ctl("tenant", "create", "Hamburg!", "--name", "x", check=False)
    bad_by = stack.ctl("usage", "hamburg", "--by", "week", check=False)
    bad_date = stack.ctl("usage", "hamburg", "--from", "2026-02-30", check=False)

    assert [bad_slug.returncode, bad_by.returncode, bad_date.returncode] == [2, 2, 2]
    assert all(result.stderr.startswith("llmoinctl: ") for result in (bad_slug, bad_by, bad_date))


def test_usage_report_in_csv(stack):
    _, secret = stack.onboard("rheinland-pfalz", "carol")
    answer = stack.chat(secret, "Hallo").json()["usage"]

    def report():
        rows = list(csv.DictReader(io.StringIO(
            stack.ctl("usage", "rheinland-pfalz", "--by", "user", "--output", "csv").stdout)))
        return rows or None

    rows = wait_until(report, timeout=2, what="usage row")
    assert rows[0]["user"] == "carol"
    assert int(rows[0]["requests"]) == 1
    assert int(rows[0]["total_tokens"]) == answer["total_tokens"]


# --- sign-in, host names and model allow-lists ---------------------------------


def test_tenant_update_hosts_and_model_restriction(stack):
    stack.create_tenant("niedersachsen")
    stack.create_tenant("thueringen")

    updated = stack.ctl_json("tenant", "update", "niedersachsen", "--name", "Niedersachsen",
                             "--hosts", "llmoin.niedersachsen.de,ki.niedersachsen.de",
                             "--models", "allow-list")
    assert updated["name"] == "Niedersachsen"
    assert updated["hosts"] == ["llmoin.niedersachsen.de", "ki.niedersachsen.de"]
    assert updated["models_restricted"] is True
    shown = stack.ctl("tenant", "show", "niedersachsen").stdout
    assert "hosts: llmoin.niedersachsen.de,ki.niedersachsen.de\n" in shown

    taken = stack.ctl("tenant", "update", "thueringen", "--hosts", "ki.niedersachsen.de",
                      check=False)
    assert taken.returncode == 1
    assert "host 'ki.niedersachsen.de' already belongs to tenant 'niedersachsen'" in taken.stderr

    cleared = stack.ctl_json("tenant", "update", "niedersachsen", "--no-hosts", "--models", "all")
    assert cleared["hosts"] == [] and cleared["models_restricted"] is False

    nothing = stack.ctl("tenant", "update", "niedersachsen", check=False)
    both = stack.ctl("tenant", "update", "niedersachsen", "--hosts", "a.de", "--no-hosts",
                     check=False)
    upper = stack.ctl("tenant", "update", "niedersachsen", "--hosts", "KI.niedersachsen.de",
                      check=False)
    assert [nothing.returncode, both.returncode, upper.returncode] == [2, 2, 2]
    assert ("give at least one of --name, --hosts, --no-hosts, --models, --max-tokens-cap, "
            "--quota-fail-mode, --admin-claim or --admin-value") in nothing.stderr
    assert "--hosts and --no-hosts exclude each other" in both.stderr
    assert "invalid --hosts entry 'KI.niedersachsen.de'" in upper.stderr


def test_model_allow_disallow_allowed(stack):
    stack.create_tenant("saarland")

    before = stack.ctl("model", "allowed", "saarland").stdout.splitlines()
    assert before[0] == "Tenant saarland may use every model (not restricted to its list)."
    assert before[2].split() == ["ALIAS", "POOL", "DEDICATED"] and before[3:] == []

    allowed = stack.ctl("model", "allow", "saarland", "llmoin-sim").stdout.splitlines()
    assert allowed[0].startswith("Tenant saarland may use only the models below")
    assert allowed[3].split() == ["llmoin-sim", "default", "false"]
    assert stack.ctl_json("tenant", "show", "saarland")["models_restricted"] is True

    rows = list(csv.DictReader(io.StringIO(
        stack.ctl("model", "allowed", "saarland", "--output", "csv").stdout)))
    assert rows == [{"alias": "llmoin-sim", "pool": "default", "dedicated_pool": "false"}]

    unknown = stack.ctl("model", "allow", "saarland", "no-such-model", check=False)
    assert unknown.returncode == 1 and "model 'no-such-model' does not exist" in unknown.stderr

    emptied = stack.ctl_json("model", "disallow", "saarland", "llmoin-sim")
    assert emptied == {"tenant": "saarland", "models_restricted": True, "data": []}
    assert stack.ctl("model", "allowed", "saarland").stdout.startswith(
        "Tenant saarland may use no model (restricted to its list).")
    again = stack.ctl("model", "disallow", "saarland", "llmoin-sim", check=False)
    assert again.returncode == 1 and "is not on the list of tenant 'saarland'" in again.stderr


def _jwks_file(tmp_path):
    """A JWKS with one fresh EC P-256 public key, as an identity provider
    publishes it."""
    from cryptography.hazmat.primitives.asymmetric import ec

    numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()

    def b64(value):
        return base64.urlsafe_b64encode(value.to_bytes(32, "big")).rstrip(b"=").decode()

    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [{"kty": "EC", "crv": "P-256", "x": b64(numbers.x),
                                          "y": b64(numbers.y), "kid": "k1", "alg": "ES256",
                                          "use": "sig"}]}))
    return path


def test_issuer_add_list_remove(stack, tmp_path):
    stack.create_tenant("brandenburg")
    jwks = _jwks_file(tmp_path)
    issuer = "https://login.brandenburg.de/realms/llmoin"

    added = stack.ctl("issuer", "add", "brandenburg", "--issuer", issuer, "--audience", "llmoin",
                      "--jwks-file", str(jwks), "--user-claim", "preferred_username",
                      "--leeway", "2m").stdout
    assert f"issuer: {issuer}\n" in added and "keys: 1\n" in added
    assert "leeway_seconds: 120\n" in added

    listed = stack.ctl("issuer", "list", "brandenburg").stdout.splitlines()
    assert listed[0].split() == ["ID", "ISSUER", "AUDIENCE", "KEYS", "USER_CLAIM", "FETCHED",
                                 "ERROR"]
    issuer_id, url, audience, keys, claim = listed[1].split()[:5]
    assert (url, audience, keys, claim) == (issuer, "llmoin", "1", "preferred_username")

    taken = stack.ctl("issuer", "add", "brandenburg", "--issuer", issuer, "--audience", "x",
                      "--jwks-file", str(jwks), check=False)
    assert taken.returncode == 1 and "(HTTP 409, issuer_taken)" in taken.stderr

    removed = stack.ctl_json("issuer", "remove", issuer_id)
    assert removed["issuer"] == issuer and removed["id"] == int(issuer_id)
    assert stack.ctl_json("issuer", "list", "brandenburg") == {"data": []}
    gone = stack.ctl("issuer", "remove", issuer_id, check=False)
    assert gone.returncode == 1 and f"issuer {issuer_id} not found" in gone.stderr


def test_issuer_add_refuses_unusable_files_locally(stack, tmp_path):
    not_json = tmp_path / "key.pem"
    not_json.write_text("-----BEGIN PUBLIC KEY-----\n")
    array = tmp_path / "array.json"
    array.write_text("[]")
    common = ("issuer", "add", "hamburg", "--issuer", "https://idp.example", "--audience", "a")

    results = [stack.ctl(*common, "--jwks-file", str(path), check=False)
               for path in (tmp_path / "missing.json", not_json, array)]
    neither = stack.ctl(*common, check=False)

    assert [r.returncode for r in results] == [2, 2, 2]
    assert "cannot read --jwks-file" in results[0].stderr
    assert "No such file or directory" in results[0].stderr
    assert "not JSON" in results[1].stderr
    assert "expected a JSON object ({...}), the file holds an array" in results[2].stderr
    assert neither.returncode == 2
    assert "missing option --jwks-uri or --jwks-file" in neither.stderr


def test_key_create_with_expiry_and_models(stack):
    stack.create_tenant("mecklenburg")

    before = datetime.datetime.now(datetime.timezone.utc)
    key = stack.ctl_json("key", "create", "mecklenburg", "--user", "alice", "--expires", "30d",
                         "--models", "llmoin-sim")
    after = datetime.datetime.now(datetime.timezone.utc)
    expires = datetime.datetime.fromisoformat(key["expires_at"].replace("Z", "+00:00"))
    thirty_days = datetime.timedelta(days=30)
    assert before + thirty_days - datetime.timedelta(seconds=1) <= expires
    assert expires <= after + thirty_days + datetime.timedelta(seconds=1)
    assert key["models"] == ["llmoin-sim"]

    dated = stack.ctl_json("key", "create", "mecklenburg", "--user", "bob", "--expires",
                           "2099-02-27")
    assert dated["expires_at"] == "2099-02-26T23:00:00Z"  # start of the day in Berlin

    listed = stack.ctl("key", "list", "mecklenburg").stdout.splitlines()
    assert listed[0].split()[-1] == "MODELS"
    assert listed[1].split()[-1] == "llmoin-sim"

    past = stack.ctl("key", "create", "mecklenburg", "--user", "bob", "--expires", "2020-01-01",
                     check=False)
    bad = stack.ctl("key", "create", "mecklenburg", "--user", "bob", "--expires", "soon",
                    check=False)
    assert past.returncode == 1 and "must be in the future" in past.stderr
    assert bad.returncode == 2 and "invalid --expires 'soon'" in bad.stderr


def test_dev_token_signs_in_at_the_gateway(stack):
    stack.create_tenant("sachsen")

    not_yet = stack.ctl("dev-token", "sachsen", "--user", "alice", check=False)
    assert not_yet.returncode == 1
    assert "does not use the development identity provider" in not_yet.stderr

    provider = stack.ctl_json("tenant", "dev-idp", "sachsen", "--enable")
    assert provider["issuer"].endswith("/dev-idp/sachsen")
    assert provider["audience"] == "llmoin"

    token = stack.ctl("dev-token", "sachsen", "--user", "alice").stdout
    assert token.endswith("\n") and token.count("\n") == 1
    token = token.strip()
    assert len(token.split(".")) == 3
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["iss"] == provider["issuer"] and claims["preferred_username"] == "alice"
    wait_until(lambda: stack.models(token).status_code == 200, timeout=3,
               what="dev token accepted by the gateway")

    answer = stack.ctl_json("dev-token", "sachsen", "--user", "bob", "--groups", "it,fachamt",
                            "--ttl", "2m")
    assert answer["issuer"] == provider["issuer"]
    expires = datetime.datetime.fromisoformat(answer["expires_at"].replace("Z", "+00:00"))
    assert 100 <= expires.timestamp() - time.time() <= 125
    claims = json.loads(base64.urlsafe_b64decode(answer["token"].split(".")[1] + "=="))
    assert claims["groups"] == ["it", "fachamt"]

    assert stack.ctl_json("tenant", "dev-idp", "sachsen", "--disable")["dev_idp"] is False
    after = stack.ctl("dev-token", "sachsen", "--user", "alice", check=False)
    assert after.returncode == 1


# --- limits ----------------------------------------------------------------------

LIMITS_HEADER = ["SCOPE", "SUBJECT", "RPM", "TPM", "CONCURRENT", "MONTHLY"]
INT_MAX = 2147483647


def _limits_table(stack, tenant):
    """(first line, header, rows split on blanks) of `limits show`."""
    lines = stack.ctl("limits", "show", tenant).stdout.splitlines()
    assert lines[1] == ""
    return lines[0], lines[2].split(), [line.split() for line in lines[3:]]


def _snapshot_tenant(stack, slug):
    """The tenant's entry in the snapshot the gateway reads, or None."""
    try:
        snapshot = json.loads((stack.state / "run" / "snapshot.json").read_text())
    except (OSError, ValueError):
        return None
    return next((t for t in snapshot["tenants"] if t["slug"] == slug), None)


def _wait_snapshot(stack, slug, check, what):
    """Waits at most 2 s for the snapshot's entry of the tenant to pass check."""
    def ready():
        tenant = _snapshot_tenant(stack, slug)
        return tenant if tenant is not None and check(tenant) else None
    return wait_until(ready, timeout=2, what=what)


def _limit_rows(tenant):
    """{(scope, subject): (rpm, tpm, concurrent, monthly_tokens)} of a
    limits list or a snapshot tenant."""
    return {(row["scope"], row["subject"]): (row["rpm"], row["tpm"], row["concurrent"],
                                             row["monthly_tokens"])
            for row in tenant["limits" if "limits" in tenant else "data"]}


def _api(stack, method, path, body):
    """(status, JSON answer) of a request llmoinctl cannot send."""
    connection = UnixHTTPConnection(stack.env["LLMOIN_SOCKET"])
    try:
        connection.request(method, path, body=json.dumps(body),
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_limits_set_show_clear(stack):
    stack.create_tenant("schleswig-holstein")
    key_id, _ = stack.create_key("schleswig-holstein", "alice")
    tenant = "schleswig-holstein"

    first, header, rows = _limits_table(stack, tenant)
    assert first == "Tenant schleswig-holstein: max_tokens_cap 4096, quota_fail_mode closed."
    assert header == LIMITS_HEADER and rows == []

    # No subject option: the tenant as a whole.
    shown = stack.ctl("limits", "set", tenant, "--rpm", "600", "--tpm", "200000").stdout
    assert shown.splitlines()[3].split() == ["tenant", "600", "200000", "-", "-"]
    stack.ctl("limits", "set", tenant, "--default-user", "--rpm", "30", "--concurrent", "4")
    stack.ctl("limits", "set", tenant, "--user", "alice", "--rpm", "60")
    stack.ctl("limits", "set", tenant, "--key", key_id, "--monthly-tokens", "100000")
    stack.ctl("limits", "set", tenant, "--group", "referat-1", "--tpm", "5000")
    stack.ctl("limits", "set", tenant, "--default-group", "--monthly-tokens", "1000000")
    stack.ctl("limits", "set", tenant, "--default-key", "--concurrent", str(INT_MAX))

    _, _, rows = _limits_table(stack, tenant)
    assert rows == [
        ["tenant", "600", "200000", "-", "-"],
        ["group", "(default)", "-", "-", "-", "1000000"],
        ["group", "referat-1", "-", "5000", "-", "-"],
        ["user", "(default)", "30", "-", "4", "-"],
        ["user", "alice", "60", "-", "-", "-"],
        ["key", "(default)", "-", "-", str(INT_MAX), "-"],
        ["key", key_id, "-", "-", "-", "100000"],
    ]
    listed = stack.ctl_json("limits", "show", tenant)
    assert (listed["tenant"], listed["max_tokens_cap"], listed["quota_fail_mode"]) == (
        tenant, 4096, "closed")
    assert listed["data"][0] == {"scope": "tenant", "subject": "", "rpm": 600, "tpm": 200000,
                                 "concurrent": None, "monthly_tokens": None}
    # csv keeps the subject as it is: "" is the default.
    csv_rows = list(csv.DictReader(io.StringIO(
        stack.ctl("limits", "show", tenant, "--output", "csv").stdout)))
    assert csv_rows[3] == {"scope": "user", "subject": "", "rpm": "30", "tpm": "",
                           "concurrent": "4", "monthly_tokens": ""}

    # The gateway's snapshot carries them within 2 s.
    expected = _limit_rows(listed)
    _wait_snapshot(stack, tenant, lambda t: _limit_rows(t) == expected,
                   what="the limits in the snapshot")

    # Limits not given keep their value; none lifts one; a row left without
    # any is gone.
    after = stack.ctl_json("limits", "set", tenant, "--rpm", "none", "--concurrent", "8")
    assert _limit_rows(after)[("tenant", "")] == (None, 200000, 8, None)
    after = stack.ctl_json("limits", "set", tenant, "--user", "alice", "--rpm", "none")
    assert ("user", "alice") not in _limit_rows(after)
    after = stack.ctl_json("limits", "set", tenant, "--default-user", "--tpm", "0")
    assert _limit_rows(after)[("user", "")] == (30, 0, 4, None)

    # Clearing a row; the tenant's own without a subject option.
    after = stack.ctl_json("limits", "clear", tenant, "--group", "referat-1")
    assert ("group", "referat-1") not in _limit_rows(after)
    again = stack.ctl("limits", "clear", tenant, "--group", "referat-1", check=False)
    assert again.returncode == 1
    assert again.stderr == ("llmoinctl: tenant 'schleswig-holstein' has no limits for group "
                            "'referat-1' (HTTP 404, limit_not_found)\n")
    stack.ctl("limits", "clear", tenant, "--default-user")
    stack.ctl("limits", "clear", tenant, "--key", key_id)
    after = stack.ctl_json("limits", "clear", tenant)
    assert sorted(_limit_rows(after)) == [("group", ""), ("key", "")]
    missing = stack.ctl("limits", "clear", tenant, check=False)
    assert missing.returncode == 1
    assert missing.stderr == ("llmoinctl: tenant 'schleswig-holstein' has no limits for the "
                              "tenant as a whole (HTTP 404, limit_not_found)\n")
    missing = stack.ctl("limits", "clear", tenant, "--default-user", check=False)
    assert missing.stderr == ("llmoinctl: tenant 'schleswig-holstein' has no default limits for "
                              "users (HTTP 404, limit_not_found)\n")
    expected = _limit_rows(after)
    _wait_snapshot(stack, tenant, lambda t: _limit_rows(t) == expected,
                   what="the cleared limits in the snapshot")

    # Every change is in the audit log, with what it was before and after.
    audit = stack.sql("SELECT action, object, before IS NULL, after IS NULL FROM audit_log a"
                      " JOIN tenants t ON t.id = a.tenant_id WHERE t.slug = %s"
                      " AND a.action LIKE 'tenant.limit.%%' ORDER BY a.id", tenant)
    assert audit[0] == ("tenant.limit.set", f"tenant:{tenant}/limit:tenant", True, False)
    assert ("tenant.limit.set", f"tenant:{tenant}/limit:user:alice", False, True) in audit
    assert audit[-1] == ("tenant.limit.clear", f"tenant:{tenant}/limit:tenant", False, True)
    assert len(audit) == 14  # 10 sets, 4 clears: a refused change leaves no row


def test_limits_errors(stack):
    stack.create_tenant("hessen")
    stack.create_tenant("bayern")
    other_key, _ = stack.create_key("bayern", "bob")

    negative = stack.ctl("limits", "set", "hessen", "--rpm", "-5", check=False)
    assert negative.returncode == 2
    assert negative.stderr == ("llmoinctl: limits set: invalid --rpm '-5': expected a whole "
                               "number from 0 to 2147483647, or none to lift the limit\n")
    too_large = stack.ctl("limits", "set", "hessen", "--concurrent", str(INT_MAX + 1),
                          check=False)
    assert too_large.returncode == 2
    assert too_large.stderr == (f"llmoinctl: limits set: invalid --concurrent '{INT_MAX + 1}': "
                                f"expected a whole number from 0 to {INT_MAX}, or none to lift "
                                "the limit\n")
    nothing = stack.ctl("limits", "set", "hessen", "--user", "alice", check=False)
    assert nothing.returncode == 2
    assert nothing.stderr.startswith(
        "llmoinctl: limits set: missing option: give at least one of --rpm, --tpm, --concurrent "
        "or --monthly-tokens; usage: llmoinctl limits set TENANT [--user USER | --group GROUP | "
        "--key KEYID | --default-user | --default-group | --default-key]")
    both = stack.ctl("limits", "set", "hessen", "--user", "alice", "--default-user", "--rpm", "1",
                     check=False)
    assert both.returncode == 2
    assert both.stderr == ("llmoinctl: limits set: options --user and --default-user exclude "
                           "each other; give one\n")

    unknown_key = stack.ctl("limits", "set", "hessen", "--key", "key_0000000000000000", "--rpm",
                            "1", check=False)
    assert unknown_key.returncode == 1
    assert unknown_key.stderr == ("llmoinctl: tenant 'hessen' has no API key "
                                  "'key_0000000000000000' (HTTP 404, key_not_found)\n")
    foreign_key = stack.ctl("limits", "set", "hessen", "--key", other_key, "--rpm", "1",
                            check=False)
    assert foreign_key.returncode == 1
    assert f"tenant 'hessen' has no API key '{other_key}'" in foreign_key.stderr
    not_a_key = stack.ctl("limits", "set", "hessen", "--key", "bob", "--rpm", "1", check=False)
    assert not_a_key.returncode == 1
    assert not_a_key.stderr == ("llmoinctl: field 'subject' must be a key id (key_ and 16 "
                                "lowercase hex digits) or \"\" for the default of every key "
                                "(HTTP 400, invalid_body)\n")
    comma = stack.ctl("limits", "set", "hessen", "--group", "a,b", "--rpm", "1", check=False)
    assert comma.returncode == 1
    assert comma.stderr == ("llmoinctl: field 'subject' must be a group name without commas "
                            "(HTTP 400, invalid_body)\n")
    unknown_tenant = stack.ctl("limits", "show", "atlantis", check=False)
    assert unknown_tenant.returncode == 1
    assert "tenant 'atlantis' not found (HTTP 404, tenant_not_found)" in unknown_tenant.stderr

    # What llmoinctl cannot send, tenantd refuses with a precise message.
    status, answer = _api(stack, "PUT", "/admin/v1/tenants/hessen/limits",
                          {"scope": "tenant", "subject": "alice", "rpm": 1})
    assert (status, answer["error"]["code"]) == (400, "invalid_body")
    assert answer["error"]["message"] == ("field 'subject' must be \"\" for scope 'tenant' "
                                          "(the tenant as a whole)")
    status, answer = _api(stack, "PUT", "/admin/v1/tenants/hessen/limits",
                          {"scope": "user", "subject": "alice", "tpm": -1})
    assert (status, answer["error"]["message"]) == (
        400, "field 'tpm' must be an integer from 0 to 9223372036854775807, or null to lift "
             "the limit")
    status, answer = _api(stack, "PUT", "/admin/v1/tenants/hessen/limits",
                          {"scope": "user", "subject": "alice"})
    assert (status, answer["error"]["message"]) == (
        400, "nothing to set: give rpm, tpm, concurrent or monthly_tokens (null lifts one)")
    # Nothing of it was stored.
    assert stack.ctl_json("limits", "show", "hessen")["data"] == []


def test_tenant_update_quota_settings(stack):
    stack.create_tenant("berlin")

    updated = stack.ctl_json("tenant", "update", "berlin", "--max-tokens-cap", "8192",
                             "--quota-fail-mode", "open")
    assert (updated["max_tokens_cap"], updated["quota_fail_mode"]) == (8192, "open")
    shown = stack.ctl("tenant", "show", "berlin").stdout
    assert "max_tokens_cap: 8192\n" in shown and "quota_fail_mode: open\n" in shown
    first, _, _ = _limits_table(stack, "berlin")
    assert first == "Tenant berlin: max_tokens_cap 8192, quota_fail_mode open."
    _wait_snapshot(stack, "berlin",
                   lambda t: (t["max_tokens_cap"], t["quota_fail_mode"]) == (8192, "open"),
                   what="max_tokens_cap and quota_fail_mode in the snapshot")

    # One setting changes, the other stays.
    updated = stack.ctl_json("tenant", "update", "berlin", "--quota-fail-mode", "closed")
    assert (updated["max_tokens_cap"], updated["quota_fail_mode"]) == (8192, "closed")
    updated = stack.ctl_json("tenant", "update", "berlin", "--max-tokens-cap", "1000000")
    assert (updated["max_tokens_cap"], updated["quota_fail_mode"]) == (1000000, "closed")

    zero = stack.ctl("tenant", "update", "berlin", "--max-tokens-cap", "0", check=False)
    ajar = stack.ctl("tenant", "update", "berlin", "--quota-fail-mode", "ajar", check=False)
    assert [zero.returncode, ajar.returncode] == [2, 2]
    assert zero.stderr == ("llmoinctl: tenant update: invalid --max-tokens-cap '0': expected a "
                           "whole number from 1 to 1000000\n")
    assert ajar.stderr == ("llmoinctl: tenant update: invalid --quota-fail-mode 'ajar'; "
                           "expected closed or open\n")
    status, answer = _api(stack, "PATCH", "/admin/v1/tenants/berlin", {"max_tokens_cap": 1000001})
    assert (status, answer["error"]["message"]) == (
        400, "field 'max_tokens_cap' must be an integer from 1 to 1000000")
    assert stack.ctl_json("tenant", "show", "berlin")["max_tokens_cap"] == 1000000


def test_pool_set_list_remove_with_audit(stack):
    created = stack.ctl_json("pool", "set", "gpu_hh", "--description", "H100 nodes in Hamburg")
    assert (created["name"], created["models"]) == ("gpu_hh", 0)
    stack.ctl_json("pool", "set", "gpu_hh", "--description", "H100 nodes, 8 GPUs")
    stack.ctl_json("model", "add", "llama-70b", "--pool", "gpu_hh")
    listed = {p["name"]: p for p in stack.ctl_json("pool", "list")["data"]}
    assert listed["gpu_hh"]["description"] == "H100 nodes, 8 GPUs"
    assert listed["gpu_hh"]["models"] == 1
    refused = stack.ctl("pool", "remove", "gpu_hh", check=False)
    assert refused.returncode == 1
    assert "pool 'gpu_hh' still serves a model" in refused.stderr
    stack.ctl_json("model", "add", "llama-70b", "--pool", "default")
    assert stack.ctl_json("pool", "remove", "gpu_hh")["name"] == "gpu_hh"
    assert "gpu_hh" not in {p["name"] for p in stack.ctl_json("pool", "list")["data"]}
    actions = [action for (action,) in stack.sql(
        "SELECT action FROM audit_log WHERE object = 'pool:gpu_hh' ORDER BY seq")]
    assert actions == ["pool.create", "pool.update", "pool.remove"]
