"""llmoinctl against a real tenantd: output formats, messages, exit codes."""

import base64
import csv
import datetime
import io
import json
import time

from llmoin_stack import wait_until


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
    assert "give at least one of --name, --hosts, --no-hosts or --models" in nothing.stderr
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
