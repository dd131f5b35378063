-- llmoin schema, migration 0007: the audit log's hash chain in the order its
-- writers took their turn, and the tenant's slug in every row.
--
-- Until now a row's place in the chain was its id, an identity that
-- PostgreSQL assigns before any trigger runs, that is before 0001's trigger
-- took its lock; the trigger then linked the row to the row with the highest
-- id it could see. Two concurrent writers could link out of id order, three
-- could fork the chain (two rows linking to the same row), and a verifier
-- walking the ids would report a broken chain that nobody broke.
--
-- From here on a row's place is its seq, taken under the lock of the
-- chain's head: audit_head, one row holding the seq and hash of the newest
-- row. The trigger locks that row, links the new row to it, and moves it
-- on; the lock is held until the writer's transaction ends, so the next
-- writer links to a committed row, and a rolled-back row (or savepoint)
-- takes its seq back with it. seq 1, 2, 3, ... without gaps is the chain.
--
-- The hash of a new row (seq > audit_head.legacy_rows):
--   hex(sha256(utf8(text of the jsonb array
--       [prev_hash, seq, at, actor, tenant_id, tenant, action, object,
--        before, after])))
-- where at is the time in UTC with microseconds, 2026-11-29T22:00:00.123456Z,
-- tenant_id a number or null, tenant the slug or null, before and after
-- the jsonb values or null, and the text is PostgreSQL's jsonb output (so
-- every field is delimited and null is told apart from absent). prev_hash
-- is the hash of row seq - 1, '' for row 1. Rows written before this
-- migration keep 0001's hash (fields joined by '|', nulls left out);
-- llmoin_audit_hash_0001 recomputes it, llmoin_audit_hash the new one,
-- and tenantd's GET /admin/v1/audit/verify walks the chain with both
-- (docs/operator-guide.md, "Audit log").

ALTER TABLE audit_log
    ADD COLUMN seq bigint,
    -- The tenant's slug when the row was written: still there once the
    -- tenant is gone.
    ADD COLUMN tenant text;

CREATE TABLE audit_head (
    one_row     boolean PRIMARY KEY DEFAULT true CHECK (one_row),
    seq         bigint NOT NULL CHECK (seq >= 0),
    hash        text NOT NULL,
    -- Rows 1 .. legacy_rows were chained by 0001's trigger, with its hash.
    legacy_rows bigint NOT NULL CHECK (legacy_rows >= 0)
);
-- Only the chain's trigger moves the head (it runs with its owner's
-- rights); the API's role may read it, operators only.
REVOKE ALL ON audit_head FROM llmoin_api;
GRANT SELECT ON audit_head TO llmoin_api;
ALTER TABLE audit_head ENABLE ROW LEVEL SECURITY;
CREATE POLICY operators_read ON audit_head FOR SELECT USING (llmoin_is_operator());

-- 0001's hash of a row, as its trigger computed it.
CREATE FUNCTION llmoin_audit_hash_0001(a audit_log) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(concat_ws('|',
        a.prev_hash, extract(epoch FROM a.at)::text, a.actor, a.tenant_id::text,
        a.action, a.object, a.before::text, a.after::text), 'UTF8')), 'hex')
$$;

-- The hash of a row written from this migration on (formula above).
CREATE FUNCTION llmoin_audit_hash(a audit_log) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(jsonb_build_array(
        a.prev_hash, a.seq,
        to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        a.actor, a.tenant_id, a.tenant, a.action, a.object, a.before, a.after)::text,
        'UTF8')), 'hex')
$$;

-- The slug of tenant t for its audit rows: from tenants, or, once the
-- tenant is gone, from its earlier audit rows or the row itself.
CREATE FUNCTION llmoin_audit_slug(t bigint, object text, before jsonb, after jsonb)
RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN t IS NOT NULL THEN coalesce(
        (SELECT slug FROM tenants WHERE id = t),
        (SELECT a.tenant FROM audit_log a
          WHERE a.tenant_id = t AND a.tenant IS NOT NULL ORDER BY a.seq DESC LIMIT 1),
        substring(object FROM '^tenant:([a-z][a-z0-9-]{1,31})(/|$)'),
        after ->> 'tenant', before ->> 'tenant') END
$$;

-- The rows so far, in the order of the chain: following prev_hash from the
-- first row (prev_hash ''), by the number of links from it, ties (a fork
-- of 0001's trigger) by id. Rows the walk does not reach (a chain broken
-- before this migration) come last, by id, for verify to report.
ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
CREATE INDEX audit_log_prev_hash ON audit_log (prev_hash);

WITH RECURSIVE walk (id, hash, depth) AS (
    SELECT id, hash, 1 FROM audit_log WHERE prev_hash = ''
  UNION ALL
    SELECT a.id, a.hash, w.depth + 1
      FROM walk w JOIN audit_log a ON a.prev_hash = w.hash
     WHERE w.depth < (SELECT count(*) FROM audit_log)
), placed AS (
    SELECT id, min(depth) AS depth FROM walk GROUP BY id
), ordered AS (
    SELECT a.id, row_number() OVER (ORDER BY p.depth NULLS LAST, a.id) AS seq
      FROM audit_log a LEFT JOIN placed p ON p.id = a.id
)
UPDATE audit_log a SET seq = o.seq FROM ordered o WHERE a.id = o.id;

UPDATE audit_log SET tenant = llmoin_audit_slug(tenant_id, object, before, after);
-- A gone tenant's rows that did not name it take the slug its other rows do.
UPDATE audit_log a SET tenant = (
    SELECT b.tenant FROM audit_log b
     WHERE b.tenant_id = a.tenant_id AND b.tenant IS NOT NULL ORDER BY b.seq DESC LIMIT 1)
 WHERE a.tenant IS NULL AND a.tenant_id IS NOT NULL;

DROP INDEX audit_log_prev_hash;

ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;

ALTER TABLE audit_log ALTER COLUMN seq SET NOT NULL;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_seq_unique UNIQUE (seq);
CREATE INDEX audit_log_tenant_id_seq ON audit_log (tenant_id, seq);
CREATE INDEX audit_log_tenant_seq ON audit_log (tenant, seq);

INSERT INTO audit_head (seq, hash, legacy_rows)
SELECT count(*), coalesce((SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1), ''),
       count(*)
  FROM audit_log;

-- Replaces 0001's trigger function. SECURITY DEFINER as 0006 made it: a
-- tenant admin's row (written as llmoin_api, under row-level security)
-- links to the newest row of all tenants and moves the head, which only
-- the owner may write. search_path is fixed so that nobody's objects stand
-- in for these tables.
CREATE OR REPLACE FUNCTION llmoin_audit_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    head audit_head;
BEGIN
    -- The head's row lock serialises writers: seq and link are taken under it.
    SELECT * INTO STRICT head FROM audit_head FOR UPDATE;
    NEW.seq := head.seq + 1;
    NEW.prev_hash := head.hash;
    -- Taken under the lock too, so time never runs backwards along the chain.
    NEW.at := clock_timestamp();
    NEW.tenant := llmoin_audit_slug(NEW.tenant_id, NEW.object, NEW.before, NEW.after);
    NEW.hash := llmoin_audit_hash(NEW);
    UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash;
    RETURN NEW;
END;
$$;
