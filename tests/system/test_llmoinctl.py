"""llmoinctl against a real tenantd: output formats, messages, exit codes."""

import csv
import io
import json


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

    from llmoin_stack import wait_until
    rows = wait_until(report, timeout=2, what="usage row")
    assert rows[0]["user"] == "carol"
    assert int(rows[0]["requests"]) == 1
    assert int(rows[0]["total_tokens"]) == answer["total_tokens"]
