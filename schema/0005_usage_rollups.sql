-- llmoin schema, migration 0005: what the journal now also says (the entry
-- function of the web page, the time to the first answer byte), and daily
-- and monthly rollups of usage_events that the reports read.
--
-- The rollups are maintained by ingestion (tenantd/usage_ingest.c) in the
-- statement that inserts the rows, from the rows actually inserted
-- (INSERT ... ON CONFLICT DO NOTHING RETURNING): a replayed journal line
-- inserts nothing and so adds nothing. Rows, rollups and the journal offset
-- commit together. Days and months are calendar days and months in
-- Europe/Berlin. No prompt or answer text, as everywhere.

-- NULL: no function (an API client, or a line from an older gateway).
ALTER TABLE usage_events
    ADD COLUMN function text
        CHECK (function IN ('chat', 'summarize', 'write', 'research')),
    ADD COLUMN first_byte_ms integer CHECK (first_byte_ms >= 0);

-- Per tenant, Berlin day, user, groups (as the journal wrote them; reports
-- by group split them), model and function ('' for none). failed: status
-- 400 and above; estimated: usage_source 'estimated'.
--
-- Ingestion upserts a row per key and batch. The key's text compares
-- bytewise (COLLATE "C": no locale rules in the index, a fifth of
-- ingestion's time saved; reports sort by code point), and pages keep room
-- for updated row versions (fillfactor), so that updating a row, which every
-- further request of the user that day does, needs no new index entry.
CREATE TABLE usage_daily (
    tenant_id          bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day                date NOT NULL,
    user_id            text COLLATE "C" NOT NULL,
    groups             text COLLATE "C" NOT NULL,
    model              text COLLATE "C" NOT NULL,
    function           text COLLATE "C" NOT NULL,
    requests           bigint NOT NULL CHECK (requests >= 0),
    prompt_tokens      bigint NOT NULL CHECK (prompt_tokens >= 0),
    completion_tokens  bigint NOT NULL CHECK (completion_tokens >= 0),
    estimated_requests bigint NOT NULL CHECK (estimated_requests >= 0),
    failed_requests    bigint NOT NULL CHECK (failed_requests >= 0),
    PRIMARY KEY (tenant_id, day, user_id, groups, model, function)
) WITH (fillfactor = 80);

-- The operators' monthly billing report over all tenants reads only this:
-- a few rows per tenant and month. month: the first day of the Berlin month.
CREATE TABLE usage_monthly (
    month              date NOT NULL CHECK (extract(day FROM month) = 1),
    tenant_id          bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    model              text COLLATE "C" NOT NULL,
    function           text COLLATE "C" NOT NULL,
    requests           bigint NOT NULL CHECK (requests >= 0),
    prompt_tokens      bigint NOT NULL CHECK (prompt_tokens >= 0),
    completion_tokens  bigint NOT NULL CHECK (completion_tokens >= 0),
    estimated_requests bigint NOT NULL CHECK (estimated_requests >= 0),
    failed_requests    bigint NOT NULL CHECK (failed_requests >= 0),
    PRIMARY KEY (month, tenant_id, model, function)
) WITH (fillfactor = 50);
CREATE INDEX usage_monthly_tenant ON usage_monthly (tenant_id);

-- The groups a report by group counts a row for: each name of the
-- comma-separated list once, empty names left out; '' for a row without any.
CREATE FUNCTION llmoin_group_names(groups text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE AS $$
    SELECT DISTINCT name FROM unnest(string_to_array(groups, ',')) name WHERE name <> ''
    UNION ALL
    SELECT '' WHERE btrim(groups, ',') = ''
$$;

-- The usage that was ingested before the rollups existed.
INSERT INTO usage_daily
SELECT tenant_id, (ts AT TIME ZONE 'Europe/Berlin')::date, user_id, groups, model,
       coalesce(function, ''), count(*), sum(prompt_tokens), sum(completion_tokens),
       count(*) FILTER (WHERE usage_source = 'estimated'),
       count(*) FILTER (WHERE status >= 400)
  FROM usage_events
 GROUP BY 1, 2, 3, 4, 5, 6;

INSERT INTO usage_monthly
SELECT date_trunc('month', day)::date, tenant_id, model, function, sum(requests),
       sum(prompt_tokens), sum(completion_tokens), sum(estimated_requests),
       sum(failed_requests)
  FROM usage_daily
 GROUP BY 1, 2, 3, 4;
