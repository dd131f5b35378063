#!/usr/bin/python3
"""tests/bench/bench_usage_reports.py — how fast the usage reports answer for a
month of a large tenant, and how fast tenantd ingests the usage journal.

  tests/bench/bench_usage_reports.py [--build DIR] [--users N] [--per-day N]
                                     [--month YYYY-MM] [--tenants N]
                                     [--rollups-only] [--runs N]
                                     [--ingest-lines N] [--ingest-users N]
                                     [--keep]

Starts its own node (ops/stack, through tests/system/llmoin_stack.py) in a
temporary directory and:

1. generates a calendar month (Europe/Berlin; default: the previous month)
   for tenant "bench": --users users (40,000) with --per-day requests each
   (20) on every day, directly in PostgreSQL: usage_events rows, then the
   rollups from them with the statement ingestion uses (grouped per tenant,
   Berlin day, user, groups, model and function, and per month, model and
   function). Each user has one model (of 3), one or two groups (of 60),
   and uses chat and one other entry function a day; some requests fail or
   are estimated. --tenants (4) more tenants get 2,000 users each.
   --rollups-only skips the usage_events rows (the reports never read them;
   about 5 GB and several minutes saved) and aggregates the same generated
   requests straight into the rollups;
2. times, over tenantd's unix socket, GET /admin/v1/reports/monthly for
   that month (--runs times, after 3 warm-ups) and the tenant's report by
   user, day, group, model and function over the whole month, and
   `llmoinctl report monthly` and `llmoinctl usage bench --by user --output
   csv` end to end;
3. measures ingestion: stops tenantd (SIGSTOP), appends --ingest-lines
   journal lines (200,000; --ingest-users users, today) to the node's
   journal, lets tenantd go on and times until its offset reaches the end
   of the file: lines per second into PostgreSQL, rows and rollups
   included;
4. checks that the rollups of the generated month and of the ingested lines
   equal the sums over usage_events (not with --rollups-only for the
   generated month), and exits 1 if not.

Prints the figures. The node's directory is removed at the end unless
--keep (then the node keeps running: `ops/stack stop --state DIR`).
Needs what ops/stack needs, psycopg2 and about 6 GB of disk without
--rollups-only.
"""

import argparse
import calendar
import datetime
import json
import os
import pathlib
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

SOURCE = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(SOURCE / "tests" / "system"))

# besides chat, one a day per user
FUNCTIONS = ["summarize", "write", "research", "plain_language", None]

# One generated request per (day d, user u, request r): the columns of
# usage_events. %(tenant)s, %(prefix)s (one per tenant, keeps request ids
# apart), %(month)s (first day), %(users)s, %(per_day)s are filled in.
REQUESTS_SQL = """
SELECT lpad(to_hex(%(prefix)s), 8, '0') || lpad(to_hex(d), 8, '0')
         || lpad(to_hex(u), 8, '0') || lpad(to_hex(r), 8, '0') AS request_id,
       ((%(month)s::date + d)::timestamp + interval '7 hours'
          + ((u * 37 + r * 1777) %% 39600) * interval '1 second')
         AT TIME ZONE 'Europe/Berlin' AS ts,
       %(tenant)s::bigint AS tenant_id,
       'user-' || lpad(u::text, 5, '0') AS user_id,
       (ARRAY['llama-3.1-8b', 'mistral-7b', 'qwen-2.5-14b'])[u %% 3 + 1] AS model,
       CASE WHEN (u + d + r) %% 97 = 0 THEN 502 ELSE 200 END AS status,
       50 + (u * 7 + r * 13) %% 900 AS prompt_tokens,
       CASE WHEN (u + d + r) %% 97 = 0 THEN 0 ELSE 20 + (u * 11 + r * 17) %% 600 END
         AS completion_tokens,
       CASE WHEN (u + r) %% 53 = 0 THEN 'estimated' ELSE 'reported' END AS usage_source,
       'amt-' || (u %% 60) || CASE WHEN u %% 7 = 0 THEN ',it' ELSE '' END AS groups,
       CASE WHEN r %% 2 = 0 THEN 'chat'
            ELSE (ARRAY['summarize', 'write', 'research', 'plain_language', NULL])
                   [(u + d) %% 5 + 1] END
         AS function,
       100 + (u + r) %% 400 AS first_byte_ms
  FROM generate_series(%(first_day)s, %(last_day)s) d,
       generate_series(0, %(users)s - 1) u,
       generate_series(0, %(per_day)s - 1) r
"""

INSERT_EVENTS_SQL = """
INSERT INTO usage_events (request_id, ts, tenant_id, user_id, key_id, model, pool, status,
    upstream_status, prompt_tokens, completion_tokens, usage_source, stream, request_time_ms,
    groups, quota, function, first_byte_ms, node)
SELECT request_id, ts, tenant_id, user_id, NULL, model, 'default', status, status::text,
       prompt_tokens, completion_tokens, usage_source, true, first_byte_ms + 900, groups,
       'checked', function, first_byte_ms, 'bench'
  FROM (""" + REQUESTS_SQL + ") g"

# The rollups as ingestion builds them (tenantd/usage_ingest.c), from
# %(source)s: usage_events of the month, or the generated requests.
DAILY_SQL = """
INSERT INTO usage_daily
SELECT tenant_id, (ts AT TIME ZONE 'Europe/Berlin')::date, user_id, groups, model,
       coalesce(function, ''), count(*), sum(prompt_tokens), sum(completion_tokens),
       count(*) FILTER (WHERE usage_source = 'estimated'),
       count(*) FILTER (WHERE status >= 400)
  FROM (%(source)s) s
 GROUP BY 1, 2, 3, 4, 5, 6
"""

MONTHLY_SQL = """
INSERT INTO usage_monthly
SELECT date_trunc('month', day)::date, tenant_id, model, function, sum(requests),
       sum(prompt_tokens), sum(completion_tokens), sum(estimated_requests),
       sum(failed_requests)
  FROM usage_daily WHERE tenant_id = %(tenant)s AND day >= %(month)s::date
   AND day < (%(month)s::date + interval '1 month')
 GROUP BY 1, 2, 3, 4
"""

# The usage_events rows of one generated tenant and day.
EVENTS_OF_DAY_SQL = """
SELECT * FROM usage_events
 WHERE tenant_id = %(tenant)s
   AND ts >= (%(month)s::date + %(first_day)s)::timestamp AT TIME ZONE 'Europe/Berlin'
   AND ts < (%(month)s::date + %(first_day)s + 1)::timestamp AT TIME ZONE 'Europe/Berlin'
"""

# Every rollup's counters against usage_events, per tenant and day: rows
# that differ. %(from)s, %(to)s: days.
CHECK_SQL = """
WITH events AS (
  SELECT tenant_id, (ts AT TIME ZONE 'Europe/Berlin')::date AS day, count(*) AS requests,
         sum(prompt_tokens) AS prompt, sum(completion_tokens) AS completion,
         count(*) FILTER (WHERE usage_source = 'estimated') AS estimated,
         count(*) FILTER (WHERE status >= 400) AS failed
    FROM usage_events
   WHERE ts >= %(from)s::date::timestamp AT TIME ZONE 'Europe/Berlin'
     AND ts < (%(to)s::date + 1)::timestamp AT TIME ZONE 'Europe/Berlin'
   GROUP BY 1, 2),
 daily AS (
  SELECT tenant_id, day, sum(requests) AS requests, sum(prompt_tokens) AS prompt,
         sum(completion_tokens) AS completion, sum(estimated_requests) AS estimated,
         sum(failed_requests) AS failed
    FROM usage_daily WHERE day BETWEEN %(from)s AND %(to)s GROUP BY 1, 2)
SELECT * FROM events e FULL JOIN daily d USING (tenant_id, day)
 WHERE (e.requests, e.prompt, e.completion, e.estimated, e.failed)
       IS DISTINCT FROM (d.requests, d.prompt, d.completion, d.estimated, d.failed)
"""


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=str(SOURCE / "build"))
    parser.add_argument("--users", type=int, default=40000)
    parser.add_argument("--per-day", type=int, default=20)
    parser.add_argument("--month", help="YYYY-MM (default: the previous month)")
    parser.add_argument("--tenants", type=int, default=4)
    parser.add_argument("--rollups-only", action="store_true")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--ingest-lines", type=int, default=200000)
    parser.add_argument("--ingest-users", type=int, default=40000)
    parser.add_argument("--keep", action="store_true")
    return parser.parse_args()


def say(text):
    print(f"bench_usage_reports: {text}", flush=True)


def previous_month():
    today = datetime.date.today().replace(day=1)
    return (today - datetime.timedelta(days=1)).strftime("%Y-%m")


def timed_get(stack, path):
    """(seconds, bytes of the answer) of one GET on tenantd's socket."""
    from llmoin_stack import UnixHTTPConnection
    connection = UnixHTTPConnection(stack.env["LLMOIN_SOCKET"])
    try:
        start = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - start
    finally:
        connection.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
    return elapsed, len(body)


def figures(times):
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return (f"median {statistics.median(times) * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms"
            f"  max {max(times) * 1000:7.1f} ms")


def sql(stack, query, params=None):
    import psycopg2
    connection = psycopg2.connect(stack.env["LLMOIN_PG_DSN"])
    connection.autocommit = True   # VACUUM; and each statement commits
    try:
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


def generate(stack, slug, prefix, users, args):
    """One tenant's month; returns its id."""
    stack.create_tenant(slug)
    tenant = stack.sql("SELECT id FROM tenants WHERE slug = %s", slug)[0][0]
    month = f"{args.month}-01"
    days = calendar.monthrange(*map(int, args.month.split("-")))[1]
    sql(stack, "SELECT llmoin_ensure_usage_partition(%s::date::timestamp"
               " AT TIME ZONE 'Europe/Berlin')", (month,))
    params = {"tenant": tenant, "prefix": prefix, "month": month, "users": users,
              "per_day": args.per_day}
    started = time.monotonic()
    for day in range(days):
        span = dict(params, first_day=day, last_day=day)
        if args.rollups_only:
            sql(stack, DAILY_SQL.replace("%(source)s", REQUESTS_SQL), span)
        else:
            sql(stack, INSERT_EVENTS_SQL, span)
            sql(stack, DAILY_SQL.replace("%(source)s", EVENTS_OF_DAY_SQL), span)
        if users >= 10000:
            say(f"  {slug}: day {day + 1}/{days} ({time.monotonic() - started:.0f} s)")
    sql(stack, MONTHLY_SQL, params)
    return tenant


def time_reports(stack, args):
    month = args.month
    last = calendar.monthrange(*map(int, month.split("-")))[1]
    monthly = f"/admin/v1/reports/monthly?month={month}"
    for _ in range(3):
        timed_get(stack, monthly)
    times = [timed_get(stack, monthly)[0] for _ in range(args.runs)]
    results = [("GET /admin/v1/reports/monthly", figures(times))]
    for by in ("user", "day", "group", "model", "function"):
        path = f"/admin/v1/tenants/bench/usage?by={by}&from={month}-01&to={month}-{last}"
        timed_get(stack, path)
        runs = [timed_get(stack, path) for _ in range(max(3, args.runs // 4))]
        results.append((f"GET .../tenants/bench/usage?by={by} (whole month, "
                        f"{runs[0][1] / 1e6:.1f} MB)", figures([t for t, _ in runs])))
    ctl = [str(pathlib.Path(args.build) / "tenantd" / "ctl" / "llmoinctl"),
           "--socket", stack.env["LLMOIN_SOCKET"]]
    for command in (["report", "monthly", "--month", month],
                    ["usage", "bench", "--by", "user", "--from", f"{month}-01", "--to",
                     f"{month}-{last}", "--output", "csv"]):
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run(ctl + command, check=True, stdout=subprocess.DEVNULL)
            runs.append(time.perf_counter() - start)
        results.append(("llmoinctl " + " ".join(command), figures(runs)))
    return results


def journal_lines(tenant, count, users):
    now = time.time()
    functions = ["chat", "summarize", "write", "research", "plain_language", ""]
    for i in range(count):
        user = random.randrange(users)
        status = 502 if i % 97 == 0 else 200
        yield json.dumps({
            "v": "1", "ts": f"{now - random.random() * 600:.3f}",
            "request_id": uuid.uuid4().hex, "tenant_id": str(tenant),
            "user": f"user-{user:05d}", "key_id": "",
            "model": ["llama-3.1-8b", "mistral-7b", "qwen-2.5-14b"][user % 3],
            "pool": "default", "status": str(status), "upstream_status": str(status),
            "prompt_tokens": str(50 + i % 900), "completion_tokens": str(20 + i % 600),
            "usage": "estimated" if i % 53 == 0 else "reported", "stream": "1",
            "request_time": "1.234", "groups": f"amt-{user % 60}" + (",it" if user % 7 == 0
                                                                   else ""),
            "quota": "checked", "function": functions[(user + i) % 6],
            "first_byte_time": "0.120"}) + "\n"


def wait_for_offset(stack, journal, size):
    """Until tenantd's offset in the journal reaches size: one connection,
    asked every 20 ms (a new connection each time would cost PostgreSQL
    more CPU than the question)."""
    import psycopg2
    connection = psycopg2.connect(stack.env["LLMOIN_PG_DSN"])
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            while True:
                cursor.execute("SELECT 1 FROM ingest_offsets WHERE path = %s"
                               " AND \"offset\" >= %s", (str(journal), size))
                if cursor.fetchall():
                    return
                time.sleep(0.02)
    finally:
        connection.close()


def time_ingestion(stack, tenant, args):
    journal = stack.state / "log" / "usage.journal"
    pid = int((stack.state / "tenantd" / "tenantd.pid").read_text())
    text = "".join(journal_lines(tenant, args.ingest_lines, args.ingest_users))
    before = stack.sql("SELECT count(*) FROM usage_events")[0][0]
    os.kill(pid, signal.SIGSTOP)
    try:
        with journal.open("a") as handle:
            handle.write(text)
        size = journal.stat().st_size
    finally:
        os.kill(pid, signal.SIGCONT)
    start = time.monotonic()
    wait_for_offset(stack, journal, size)
    elapsed = time.monotonic() - start
    inserted = stack.sql("SELECT count(*) FROM usage_events")[0][0] - before
    return elapsed, inserted


def check(stack, first, last):
    return sql(stack, CHECK_SQL, {"from": first, "to": last})


def main():
    args = arguments()
    args.month = args.month or previous_month()
    from llmoin_stack import Stack
    os.environ["LLMOIN_BUILD"] = args.build
    state = tempfile.mkdtemp(prefix="llmoin-bench-usage-")
    os.chmod(state, 0o755)
    stack = Stack(state)
    ok = False
    try:
        say(f"starting a node in {state}")
        stack.start()
        stack.add_model()
        say(f"generating {args.month}: bench with {args.users} users x {args.per_day}"
            f" requests/day, {args.tenants} more tenants with 2000 users"
            + (" (rollups only)" if args.rollups_only else ""))
        started = time.monotonic()
        tenant = generate(stack, "bench", 1, args.users, args)
        for n in range(args.tenants):
            generate(stack, f"other-{n + 1}", n + 2, 2000, args)
        generated = time.monotonic() - started
        sql(stack, "VACUUM ANALYZE usage_daily")
        sql(stack, "VACUUM ANALYZE usage_monthly")
        rows = stack.sql("SELECT (SELECT count(*) FROM usage_daily),"
                         " (SELECT count(*) FROM usage_monthly),"
                         " (SELECT sum(requests) FROM usage_daily)")[0]
        say(f"generated in {generated:.0f} s: {rows[2]} requests, usage_daily {rows[0]} rows,"
            f" usage_monthly {rows[1]} rows")

        results = time_reports(stack, args)
        elapsed, inserted = time_ingestion(stack, tenant, args)
        today = stack.sql("SELECT (now() AT TIME ZONE 'Europe/Berlin')::date::text")[0][0]
        problems = check(stack, today, today)
        if not args.rollups_only:
            problems += check(stack, f"{args.month}-01", f"{args.month}-"
                              f"{calendar.monthrange(*map(int, args.month.split('-')))[1]}")
        ok = not problems and inserted == args.ingest_lines

        print()
        print(f"Usage reports, month {args.month}: tenant bench {args.users} users x"
              f" {args.per_day} requests/day, {args.tenants} more tenants;"
              f" usage_daily {rows[0]} rows")
        for name, text in results:
            print(f"  {name:70s} {text}")
        print(f"Ingestion: {args.ingest_lines} journal lines ({args.ingest_users} users, today)"
              f" in {elapsed:.2f} s = {args.ingest_lines / elapsed:,.0f} lines/s"
              f" ({inserted} rows inserted)")
        print("Check: rollups equal usage_events" if not problems
              else f"CHECK FAILED: rollups differ from usage_events: {problems[:5]}")
    finally:
        if not args.keep:
            stack.stop()
            if ok:
                shutil.rmtree(state, ignore_errors=True)
            else:
                say(f"state kept in {state}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
