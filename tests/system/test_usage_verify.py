"""llmoinctl usage verify: the ledger of a tenant against infer-sim's count
of the same requests (GET /sim/stats), on a real node. Equal: exit 0; a
usage row lost: exit 1 with the difference named."""

import datetime
import json
from zoneinfo import ZoneInfo

import pytest

from llmoin_stack import free_port, wait_until

SLUG = "verify-hamburg"


def window():
    """--from and --to around today in Berlin: a run at midnight stays inside."""
    today = datetime.datetime.now(ZoneInfo("Europe/Berlin")).date()
    return ["--from", str(today - datetime.timedelta(days=1)),
            "--to", str(today + datetime.timedelta(days=1))]


def verify(stack, slug, *extra, against=None):
    return stack.ctl("usage", "verify", slug, *window(), "--against", against or stack.sim_url,
                     *extra, check=False)


@pytest.fixture(scope="module")
def served(stack):
    """A tenant with ten answered requests, plain and streamed, all ingested."""
    _, secret = stack.onboard(SLUG)
    for i in range(10):
        response = stack.chat(secret, f"Prüfe die Abrechnung Nummer {i}", stream=i % 2 == 1,
                              max_tokens=5 + i, **({"stream_options": {"include_usage": True}}
                                                   if i % 2 else {}))
        assert response.status_code == 200
        assert response.content  # read to the end
    wait_until(lambda: stack.ledger(SLUG)[0] == 10, timeout=10, what="10 usage rows ingested")
    return secret


def test_a_ledger_equal_to_infer_sim_exits_0_and_shows_both(stack, served):
    sim = stack.sim_tenant(SLUG)
    requests_, prompt, completion = stack.ledger(SLUG)
    assert (sim["requests"], sim["prompt_tokens"], sim["completion_tokens"]) \
        == (requests_, prompt, completion)

    table = verify(stack, SLUG)

    assert (table.returncode, table.stderr) == (0, "")
    lines = {line.split()[0]: line.split()[1:] for line in table.stdout.splitlines()}
    assert lines["ledger"][0] == lines["infer-sim"][0] == "10"
    assert lines["difference"][:1] == ["0"] and set(lines["difference"]) <= {"0", "-"}

    document = json.loads(verify(stack, SLUG, "--output", "json").stdout)
    assert document["equal"] is True
    assert document["against"] == f"{stack.sim_url}/sim/stats"
    ledger, source, difference = document["rows"]
    assert [row["key"] for row in document["rows"]] == ["ledger", "infer-sim", "difference"]
    for row in (ledger, source):
        assert (row["requests"], row["prompt_tokens"], row["completion_tokens"]) \
            == (10, prompt, completion)
    assert (difference["requests"], difference["prompt_tokens"],
            difference["completion_tokens"]) == (0, 0, 0)


def test_a_tenant_infer_sim_never_served_is_equal_at_zero(stack, served):
    stack.create_tenant("verify-idle")

    document = json.loads(verify(stack, "verify-idle", "--output", "json").stdout)

    assert document["equal"] is True
    assert [row["requests"] for row in document["rows"]] == [0, 0, 0]


# A row and its share of the daily rollup the usage report reads
# (schema/0005_usage_rollups.sql): as if ingestion had never inserted it.
LOSE_ONE_ROW = """
WITH gone AS (
    DELETE FROM usage_events WHERE request_id = (
        SELECT u.request_id FROM usage_events u JOIN tenants t ON t.id = u.tenant_id
         WHERE t.slug = %s ORDER BY u.ts LIMIT 1)
    RETURNING *)
UPDATE usage_daily d
   SET requests = d.requests - 1, prompt_tokens = d.prompt_tokens - g.prompt_tokens,
       completion_tokens = d.completion_tokens - g.completion_tokens
  FROM gone g
 WHERE d.tenant_id = g.tenant_id AND d.day = (g.ts AT TIME ZONE 'Europe/Berlin')::date
   AND d.user_id = g.user_id AND d.groups = g.groups AND d.model = g.model
   AND d.function = coalesce(g.function, '')
RETURNING g.request_id, g.prompt_tokens, g.completion_tokens
"""


def test_a_lost_usage_row_exits_1_and_names_the_difference(stack, served):
    request_id, prompt, completion = stack.sql(LOSE_ONE_ROW, SLUG)[0]
    assert prompt > 0 and completion > 0, request_id

    table = verify(stack, SLUG)

    assert table.returncode == 1
    assert table.stderr == (f"llmoinctl: the ledger of {SLUG} differs from infer-sim (ledger minus"
                            f" infer-sim): requests -1, prompt tokens -{prompt}, completion tokens"
                            f" -{completion}\n")
    difference = next(line.split()[1:] for line in table.stdout.splitlines()
                      if line.startswith("difference"))
    assert difference[:3] == ["-1", f"-{prompt}", f"-{completion}"]

    document = json.loads(verify(stack, SLUG, "--output", "json").stdout)
    assert document["equal"] is False
    assert document["rows"][2]["total_tokens"] == -(prompt + completion)


def test_wrong_arguments_exit_2_and_an_unreachable_infer_sim_3(stack, served):
    no_against = stack.ctl("usage", "verify", SLUG, *window(), check=False)
    assert no_against.returncode == 2
    assert "missing option --against" in no_against.stderr

    remote_http = verify(stack, SLUG, against="http://sim.example.de:8091")
    assert remote_http.returncode == 2
    assert "invalid --against" in remote_http.stderr

    nobody = verify(stack, SLUG, against=f"http://127.0.0.1:{free_port()}")
    assert nobody.returncode == 3
    assert nobody.stderr.startswith("llmoinctl: cannot reach infer-sim at http://127.0.0.1:")
