"""Usage reports from the daily and monthly rollups that ingestion keeps.

Journal lines are appended to the node's usage journal (as nginx writes
them) or come from real requests through the gateway; the reports
(`llmoinctl usage --by ...`, `llmoinctl report monthly`, the management API
behind them) must give exactly the sums computed here from the lines, per
value of every grouping. Each test uses months of its own, so that the
operators' report over all tenants stays predictable.

Migration 0009 (the entry function plain_language) is checked in a
database of its own that holds usage stored before it.
"""

import csv
import datetime
import io
import json
import os
import signal
import uuid
import zoneinfo

import psycopg2
import pytest

from llmoin_stack import SOURCE, UnixHTTPConnection, SIM_MODEL, database_up_to, wait_until

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
COUNTERS = ("requests", "estimated_requests", "failed_requests", "prompt_tokens",
            "completion_tokens", "total_tokens")


def utc(text):
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.timezone.utc)


def line(tenant, user, when, model=SIM_MODEL, groups="", function=None, first_byte=None,
         status=200, usage="reported", prompt=3, completion=4, request_id=None):
    """A journal line as the gateway writes it; function and first_byte
    None leave those fields out, as an older gateway does."""
    record = {"v": "1", "ts": f"{when.timestamp():.3f}",
              "request_id": request_id or uuid.uuid4().hex, "tenant_id": str(tenant),
              "user": user, "key_id": "", "model": model, "pool": "default",
              "status": str(status), "upstream_status": str(status),
              "prompt_tokens": str(prompt), "completion_tokens": str(completion),
              "usage": usage, "stream": "0", "request_time": "0.250", "groups": groups,
              "quota": "none"}
    if function is not None:
        record["function"] = function
    if first_byte is not None:
        record["first_byte_time"] = first_byte
    return record


def journal(stack):
    return stack.state / "log" / "usage.journal"


def append(stack, records):
    """Appends the lines and waits until tenantd has read past them."""
    path = journal(stack)
    with path.open("a") as handle:
        for record in records:
            handle.write((record if isinstance(record, str) else json.dumps(record)) + "\n")
    size = path.stat().st_size
    wait_until(lambda: stack.sql(
        "SELECT 1 FROM ingest_offsets WHERE path = %s AND \"offset\" >= %s",
        str(path), size), timeout=10, what="journal lines ingested")


def new_tenant(stack, slug):
    stack.create_tenant(slug)
    return stack.sql("SELECT id FROM tenants WHERE slug = %s", slug)[0][0]


def berlin_day(record):
    return datetime.datetime.fromtimestamp(float(record["ts"]), BERLIN).date().isoformat()


def keys_of(record, by):
    if by == "day":
        return [berlin_day(record)]
    if by == "month":
        return [berlin_day(record)[:7]]
    if by == "group":
        return sorted({name for name in record["groups"].split(",") if name}) or [""]
    return [{"user": record["user"], "model": record["model"],
             "function": record.get("function", "")}[by]]


def counters(records):
    prompt = sum(int(r["prompt_tokens"]) for r in records)
    completion = sum(int(r["completion_tokens"]) for r in records)
    return {"requests": len(records),
            "estimated_requests": sum(r["usage"] == "estimated" for r in records),
            "failed_requests": sum(int(r["status"]) >= 400 for r in records),
            "prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def expected_rows(records, by):
    grouped = {}
    for record in records:
        for key in keys_of(record, by):
            grouped.setdefault(key, []).append(record)
    return [{"key": key, **counters(grouped[key])} for key in sorted(grouped)]


def usage(stack, slug, by, first, last):
    return stack.ctl_json("usage", slug, "--by", by, "--from", first, "--to", last)


def rollups(stack):
    return (stack.sql("SELECT * FROM usage_daily ORDER BY 1, 2, 3, 4, 5, 6"),
            stack.sql("SELECT * FROM usage_monthly ORDER BY 1, 2, 3, 4"),
            stack.sql("SELECT count(*) FROM usage_events")[0][0])


def get(stack, path):
    """(status, JSON answer) of a GET on tenantd's unix socket."""
    connection = UnixHTTPConnection(stack.env["LLMOIN_SOCKET"])
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


# --- sums per grouping ----------------------------------------------------------

@pytest.fixture(scope="module")
def march(stack):
    """A week of March 2026 of tenant altona: 4 users, overlapping groups,
    3 models, every function (and none, and lines of an older gateway),
    failures and estimates; one line of another tenant in between."""
    altona = new_tenant(stack, "altona")
    other = new_tenant(stack, "harburg")
    users = ["anna", "bernd", "cem", "dörte"]
    group_lists = ["", "it", "it,recht", "recht,,bau amt,recht", ","]
    models = [SIM_MODEL, "llama-3.1-8b", "mistral-7b"]
    functions = [None, "", "chat", "summarize", "write", "research", "plain_language"]
    statuses = [200, 200, 200, 502, 429, 200, 499]
    records = []
    for i in range(90):
        when = utc("2026-03-02T06:00:00") + datetime.timedelta(hours=i * 2 + i % 3)
        records.append(line(
            altona, users[i % 4], when, model=models[i % 3], groups=group_lists[i % 5],
            function=functions[i % 7], first_byte=None if i % 7 == 0 else f"0.{i:03d}",
            # one step further each round of functions: each meets every status
            status=statuses[(i + i // 7) % 7],
            usage=["reported", "estimated", "reported", "none"][i % 4],
            prompt=i + 1, completion=2 * i + 3))
    append(stack, records[:40] + [line(other, "anna", utc("2026-03-04T10:00:00"))]
           + records[40:])
    return records


@pytest.mark.parametrize("by", ["day", "month", "user", "group", "model", "function"])
def test_report_sums_exactly_per_value(stack, march, by):
    report = usage(stack, "altona", by, "2026-03-01", "2026-03-31")

    assert (report["tenant"], report["by"], report["from"], report["to"]) == (
        "altona", by, "2026-03-01", "2026-03-31")
    assert report["rows"] == expected_rows(march, by)
    assert report["totals"] == counters(march), "a request counts once in the totals"


def test_rows_carry_the_function_and_the_first_byte_time(stack, march):
    stored = dict(stack.sql("SELECT request_id, row(function, first_byte_ms)::text"
                            " FROM usage_events WHERE request_id = ANY(%s)",
                            [r["request_id"] for r in march]))
    for record in march:
        function = record.get("function") or ""
        first_byte = record.get("first_byte_time")
        milliseconds = "" if first_byte is None else str(round(float(first_byte) * 1000))
        assert stored[record["request_id"]] == f"({function},{milliseconds})", record


def test_a_range_of_days_and_csv(stack, march):
    inside = [r for r in march if "2026-03-03" <= berlin_day(r) <= "2026-03-04"]
    report = usage(stack, "altona", "user", "2026-03-03", "2026-03-04")
    assert report["rows"] == expected_rows(inside, "user")

    text = stack.ctl("usage", "altona", "--by", "group", "--from", "2026-03-01", "--to",
                     "2026-03-31", "--output", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["group"] for row in rows] == [r["key"] for r in expected_rows(march, "group")]
    assert [int(row["failed_requests"]) for row in rows] == [
        r["failed_requests"] for r in expected_rows(march, "group")]

    table = stack.ctl("usage", "altona", "--by", "function", "--from", "2026-03-01", "--to",
                      "2026-03-31").stdout.splitlines()
    assert table[0].split() == ["FUNCTION", "REQUESTS", "PROMPT", "COMPLETION", "TOTAL",
                                "ESTIMATED", "FAILED"]
    assert [row.split()[0] for row in table[1:]] == [
        "(none)", "chat", "plain_language", "research", "summarize", "write", "TOTAL"]


def test_a_replayed_journal_changes_no_rollup(stack, march):
    before = rollups(stack)

    append(stack, march)
    # and within one read: the same line twice, once new, once replayed
    fresh = line(new_tenant(stack, "wandsbek"), "anna", utc("2026-03-05T12:00:00"),
                 function="chat", prompt=10, completion=20)
    append(stack, [fresh, fresh, march[0]])

    daily, monthly, events = rollups(stack)
    assert events == before[2] + 1
    assert [row for row in daily if row[0] != int(fresh["tenant_id"])] == before[0]
    assert [row for row in monthly if row[1] != int(fresh["tenant_id"])] == before[1]
    assert usage(stack, "wandsbek", "function", "2026-03-01", "2026-03-31")["rows"] == [
        {"key": "chat", **counters([fresh])}]


def test_a_backlog_of_several_batches_is_counted_exactly(stack):
    """tenantd reads 5000 lines a transaction and parses the next ones while
    the database inserts; a backlog (tenantd stopped meanwhile) with rejects
    and lines of a tenant that does not exist in between counts each valid
    line once and keeps every other one."""
    tenant = new_tenant(stack, "eimsbuettel")
    records = [line(tenant, f"u{i % 700}", utc("2026-08-03T08:00:00")
                    + datetime.timedelta(seconds=i * 7), groups=f"amt-{i % 9}",
                    function=["chat", "", "write"][i % 3], prompt=i % 50, completion=i % 70)
               for i in range(12_000)]
    bad = {i: dict(records[i], function="translate") for i in range(999, 12_000, 1000)}
    bad.update({i: dict(records[i], tenant_id="999999") for i in range(1500, 12_000, 2500)})
    lines = [bad.get(i, record) for i, record in enumerate(records)]
    pid = int((stack.state / "tenantd" / "tenantd.pid").read_text())
    os.kill(pid, signal.SIGSTOP)
    try:
        with journal(stack).open("a") as handle:
            handle.write("".join(json.dumps(record) + "\n" for record in lines))
    finally:
        os.kill(pid, signal.SIGCONT)
    append(stack, [])

    counted = [record for i, record in enumerate(records) if i not in bad]
    report = usage(stack, "eimsbuettel", "function", "2026-08-01", "2026-08-31")
    assert report["rows"] == expected_rows(counted, "function")
    assert report["totals"] == counters(counted)
    assert usage(stack, "eimsbuettel", "group", "2026-08-01", "2026-08-31")["rows"] == \
        expected_rows(counted, "group")
    reasons = stack.sql("SELECT reason, count(*) FROM ingest_rejects WHERE line LIKE %s"
                        " GROUP BY 1 ORDER BY 1", '%"user": "u%')
    assert reasons == [("field 'function' has an unknown value", 12),
                       ("tenant 999999 does not exist", 5)]


# --- Berlin calendar ----------------------------------------------------------------

def test_days_and_months_are_berlin_ones(stack):
    grenze = new_tenant(stack, "grenze")
    records = [
        line(grenze, "anna", utc("2026-10-31T22:59:59.999"), prompt=1),   # CET: Oct 31
        line(grenze, "anna", utc("2026-10-31T23:00:00"), prompt=10),      # Nov 1, 00:00
        line(grenze, "anna", utc("2026-06-30T21:59:59"), prompt=100),     # CEST: Jun 30
        line(grenze, "anna", utc("2026-06-30T22:00:00"), prompt=1000),    # Jul 1, 00:00
    ]
    append(stack, records)

    by_day = usage(stack, "grenze", "day", "2026-06-01", "2026-11-30")
    assert [(row["key"], row["prompt_tokens"]) for row in by_day["rows"]] == [
        ("2026-06-30", 100), ("2026-07-01", 1000), ("2026-10-31", 1), ("2026-11-01", 10)]
    by_month = usage(stack, "grenze", "month", "2026-06-01", "2026-11-30")
    assert [(row["key"], row["prompt_tokens"]) for row in by_month["rows"]] == [
        ("2026-06", 100), ("2026-07", 1000), ("2026-10", 1), ("2026-11", 10)]
    assert usage(stack, "grenze", "day", "2026-11-01", "2026-11-01")["totals"][
        "prompt_tokens"] == 10

    def billed(month):
        report = stack.ctl_json("report", "monthly", "--month", month)
        return next(t["prompt_tokens"] for t in report["tenants"] if t["tenant"] == "grenze")
    assert [billed(m) for m in ("2026-06", "2026-07", "2026-10", "2026-11")] == [
        100, 1000, 1, 10]


# --- rejects ----------------------------------------------------------------------------

def test_bad_function_or_first_byte_time_is_a_reject(stack):
    tenant = new_tenant(stack, "bergedorf")
    when = utc("2026-04-02T10:00:00")
    bad = [
        ("field 'function' has an unknown value", line(tenant, "anna", when, function="translate")),
        ("field 'function' has an unknown value", line(tenant, "anna", when, function="Chat")),
        ("field 'function' is not a string", dict(line(tenant, "anna", when), function=7)),
        ("field 'function' is empty or longer than 15 bytes",
         line(tenant, "anna", when, function="summarize-briefly")),
        ("field 'first_byte_time' is not a time in seconds",
         line(tenant, "anna", when, first_byte="-0.5")),
        ("field 'first_byte_time' is longer than a week",
         line(tenant, "anna", when, first_byte="604800.5")),
    ]
    good = line(tenant, "anna", when, function="plain_language", first_byte="")
    append(stack, [record for _, record in bad] + [good])

    for reason, record in bad:
        assert stack.sql("SELECT reason FROM ingest_rejects WHERE line LIKE %s",
                         f"%{record['request_id']}%") == [(reason,)]
    assert stack.sql("SELECT request_id, function, first_byte_ms FROM usage_events"
                     " WHERE tenant_id = %s", tenant) == [
        (good["request_id"], "plain_language", None)]
    assert usage(stack, "bergedorf", "function", "2026-04-01", "2026-04-30")["rows"] == [
        {"key": "plain_language", **counters([good])}]


# --- the operators' monthly report -----------------------------------------------------

def test_monthly_report_over_all_tenants(stack):
    nord, sued = new_tenant(stack, "nord"), new_tenant(stack, "sued")
    nord_llama = [line(nord, f"u{i}", utc(f"2026-09-{1 + i:02d}T08:00:00"), model="llama",
                       function="chat", prompt=i, completion=10 * i,
                       usage="estimated" if i == 3 else "reported") for i in range(6)]
    nord_sim = [line(nord, "u0", utc("2026-09-30T21:59:00"), status=503, prompt=7,
                     completion=0, function="write")]
    sued_sim = [line(sued, "v", utc("2026-09-15T12:00:00"), prompt=5, completion=6)]
    outside = [line(sued, "v", utc("2026-09-30T22:00:00"), prompt=500)]   # Oct 1 in Berlin
    append(stack, nord_llama + nord_sim + sued_sim + outside)

    report = stack.ctl_json("report", "monthly", "--month", "2026-09")
    assert report["month"] == "2026-09"
    tenants = {t["tenant"]: t for t in report["tenants"]}
    slugs = [slug for (slug,) in stack.sql("SELECT slug FROM tenants ORDER BY slug")]
    assert [t["tenant"] for t in report["tenants"]] == slugs, "every tenant, by slug"
    assert tenants["nord"] == {"tenant": "nord", "name": "Nord",
                               **counters(nord_llama + nord_sim)}
    assert tenants["sued"] == {"tenant": "sued", "name": "Sued", **counters(sued_sim)}
    for slug in set(slugs) - {"nord", "sued"}:
        assert tenants[slug] == {"tenant": slug, "name": tenants[slug]["name"],
                                 **counters([])}
    assert report["models"] == [
        {"tenant": "nord", "model": "llama", **counters(nord_llama)},
        {"tenant": "nord", "model": SIM_MODEL, **counters(nord_sim)},
        {"tenant": "sued", "model": SIM_MODEL, **counters(sued_sim)}]
    assert report["totals"] == counters(nord_llama + nord_sim + sued_sim)

    table = stack.ctl("report", "monthly", "--month", "2026-09").stdout
    assert table.startswith("Usage in 2026-09 (Europe/Berlin), per tenant:\n")
    assert "\nTOTAL " in table and "\nPer tenant and model:\n" in table
    rows = list(csv.DictReader(io.StringIO(
        stack.ctl("report", "monthly", "--month", "2026-09", "--output", "csv").stdout)))
    assert [(r["tenant"], r["model"], int(r["total_tokens"])) for r in rows] == [
        (m["tenant"], m["model"], m["total_tokens"]) for m in report["models"]]


def test_a_month_without_usage(stack):
    report = stack.ctl_json("report", "monthly", "--month", "2031-02")
    assert report["models"] == [] and report["totals"] == counters([])
    assert all(t["requests"] == 0 for t in report["tenants"])


# --- real requests --------------------------------------------------------------------------

def test_real_requests_by_function(stack):
    _, secret = stack.onboard("funk", "erika")
    sent = {"chat": 2, "summarize": 1, "plain_language": 1, "": 1}
    for function, count in sent.items():
        for _ in range(count):
            headers = {"X-LLMoin-Function": function} if function else {}
            assert stack.chat(secret, "Hallo", headers=headers).status_code == 200
    streamed = stack.chat(secret, "Hallo", stream=True, headers={"X-LLMoin-Function": "write"})
    assert streamed.status_code == 200
    streamed.content  # read to the end
    sent["write"] = 1
    tenant = stack.sql("SELECT id FROM tenants WHERE slug = 'funk'")[0][0]

    rows = wait_until(lambda: (lambda r: r if len(r) == 6 else None)(stack.sql(
        "SELECT coalesce(function, ''), prompt_tokens, completion_tokens, first_byte_ms,"
        " request_time_ms FROM usage_events WHERE tenant_id = %s", tenant)),
        timeout=10, what="6 requests ingested")
    assert all(0 <= first <= total for _, _, _, first, total in rows), rows
    report = stack.ctl_json("usage", "funk", "--by", "function")
    assert {r["key"]: r["requests"] for r in report["rows"]} == sent
    for row in report["rows"]:
        mine = [r for r in rows if r[0] == row["key"]]
        assert (row["prompt_tokens"], row["completion_tokens"]) == (
            sum(r[1] for r in mine), sum(r[2] for r in mine))
    assert report["totals"]["requests"] == 6 == stack.ledger("funk")[0]


# --- migration 0009 --------------------------------------------------------------------------

@pytest.fixture
def database_before_0009(stack):
    """A database of the node's PostgreSQL with migrations 0001 to 0008 only."""
    with database_up_to(stack, "usage_before_0009", 8) as cursor:
        yield cursor


def test_migration_0009_admits_plain_language_in_old_and_new_partitions(database_before_0009):
    sql = database_before_0009.execute
    sql("INSERT INTO tenants (slug, name) VALUES ('altona', 'Altona') RETURNING id")
    tenant = database_before_0009.fetchone()[0]

    def insert(request_id, when, function):
        sql("SELECT llmoin_ensure_usage_partition(%s)", (when,))
        sql("INSERT INTO usage_events (request_id, ts, tenant_id, user_id, model, status,"
            " prompt_tokens, completion_tokens, usage_source, stream, node, function)"
            " VALUES (%s, %s, %s, 'anna', 'm', 200, 1, 2, 'reported', false, 'n', %s)",
            (request_id, when, tenant, function))

    insert("before", "2026-03-10T10:00:00Z", "research")
    with pytest.raises(psycopg2.errors.CheckViolation):
        insert("too-early", "2026-03-10T10:00:00Z", "plain_language")

    with database_before_0009.connection:
        sql((SOURCE / "schema" / "0009_plain_language.sql").read_text())

    insert("old-partition", "2026-03-11T10:00:00Z", "plain_language")
    insert("new-partition", "2026-04-11T10:00:00Z", "plain_language")
    for when in ("2026-03-12T10:00:00Z", "2026-04-12T10:00:00Z"):
        for function in ("translate", "Plain_Language", "plain-language", ""):
            with pytest.raises(psycopg2.errors.CheckViolation):
                insert("refused", when, function)
    sql("SELECT request_id, tableoid::regclass::text, function FROM usage_events ORDER BY ts")
    assert database_before_0009.fetchall() == [
        ("before", "usage_events_2026_03", "research"),
        ("old-partition", "usage_events_2026_03", "plain_language"),
        ("new-partition", "usage_events_2026_04", "plain_language")]


# --- bad parameters --------------------------------------------------------------------------

@pytest.mark.parametrize("query, message", [
    ("by=week", "parameter 'by' must be day, month, user, group, model or function, got 'week'"),
    ("by=Day", "parameter 'by' must be day, month, user, group, model or function, got 'Day'"),
    ("by=", "parameter 'by' must be day, month, user, group, model or function, got ''"),
    ("from=2026-02-30", "parameter 'from' must be a calendar day as YYYY-MM-DD "
                        "(2000-01-01 to 2999-12-31), got '2026-02-30'"),
    ("to=2026-13-01", "parameter 'to' must be a calendar day as YYYY-MM-DD "
                      "(2000-01-01 to 2999-12-31), got '2026-13-01'"),
    ("from=2026-1-01", "parameter 'from' must be a calendar day as YYYY-MM-DD "
                       "(2000-01-01 to 2999-12-31), got '2026-1-01'"),
    ("from=2026-12-01&to=2026-11-30", "'from' (2026-12-01) is after 'to' (2026-11-30)"),
])
def test_bad_usage_parameters(stack, query, message):
    status, answer = get(stack, f"/admin/v1/tenants/altona/usage?{query}")
    assert (status, answer) == (400, {"error": {
        "message": message, "type": "invalid_request_error", "code": "invalid_parameter"}})


@pytest.mark.parametrize("query, message", [
    ("", "parameter 'month' is missing: give the calendar month as YYYY-MM"),
    ("month=2026-13", "parameter 'month' must be a calendar month as YYYY-MM "
                      "(2000-01 to 2999-12), got '2026-13'"),
    ("month=2026-1", "parameter 'month' must be a calendar month as YYYY-MM "
                     "(2000-01 to 2999-12), got '2026-1'"),
    ("month=2026-11-01", "parameter 'month' must be a calendar month as YYYY-MM "
                         "(2000-01 to 2999-12), got '2026-11-01'"),
    ("month=1999-12", "parameter 'month' must be a calendar month as YYYY-MM "
                      "(2000-01 to 2999-12), got '1999-12'"),
    ("month=%2B026-11", "parameter 'month' must be a calendar month as YYYY-MM "
                      "(2000-01 to 2999-12), got '+026-11'"),
])
def test_bad_month(stack, query, message):
    status, answer = get(stack, f"/admin/v1/reports/monthly?{query}")
    assert (status, answer) == (400, {"error": {
        "message": message, "type": "invalid_request_error", "code": "invalid_parameter"}})


def test_unknown_tenant_and_cli_errors(stack):
    status, answer = get(stack, "/admin/v1/tenants/nirgendwo/usage?by=group")
    assert status == 404 and answer["error"]["code"] == "tenant_not_found"
    status, _ = get(stack, "/admin/v1/reports/monthly/x")
    assert status == 404

    bad_by = stack.ctl("usage", "altona", "--by", "week", check=False)
    bad_month = stack.ctl("report", "monthly", "--month", "2026-13", check=False)
    no_month = stack.ctl("report", "monthly", check=False)
    assert [bad_by.returncode, bad_month.returncode, no_month.returncode] == [2, 2, 2]
    assert "invalid --month '2026-13': there is no month 13" in bad_month.stderr
    assert "missing option --month" in no_month.stderr
