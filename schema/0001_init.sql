-- llmoin schema, migration 0001: the walking skeleton's tables.
--
-- Applied by tenantd at start inside one transaction (see tenantd/migrations.c).
-- PostgreSQL is the source of truth; Redis only holds rebuildable counters.
-- Time zone for every calendar computation (days, months): Europe/Berlin.

CREATE TABLE tenants (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug             text NOT NULL UNIQUE
                     CHECK (slug ~ '^[a-z][a-z0-9-]{1,31}$'),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    status           text NOT NULL DEFAULT 'active'
                     CHECK (status IN ('active', 'suspended')),
    -- Key of the HMAC that turns a user id into the pseudonym sent upstream.
    -- gen_random_uuid() draws from pg_strong_random(); two of them give
    -- 244 random bits.
    pseudonym_secret bytea NOT NULL DEFAULT sha256(
                         convert_to(gen_random_uuid()::text
                                    || gen_random_uuid()::text, 'UTF8')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Identity providers a tenant trusts. An issuer belongs to exactly one tenant.
CREATE TABLE tenant_issuers (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    issuer       text NOT NULL UNIQUE,
    audience     text NOT NULL,
    jwks_uri     text,
    jwks         jsonb,
    user_claim   text NOT NULL DEFAULT 'sub',
    groups_claim text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (jwks_uri IS NOT NULL OR jwks IS NOT NULL)
);

-- API keys: only the SHA-256 of the key is kept; the key is shown once.
CREATE TABLE api_keys (
    id           text PRIMARY KEY CHECK (id ~ '^key_[0-9a-f]{16}$'),
    tenant_id    bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id      text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 200),
    name         text CHECK (length(name) <= 200),
    key_hash     text NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
    prefix       text NOT NULL,
    models       text[],
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

-- Inference pools: each is an nginx upstream named llmoin_pool_<name>.
CREATE TABLE pools (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,31}$'),
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO pools (name, description) VALUES ('default', 'shared pool');

-- Model aliases clients ask for, and the pool that serves each.
CREATE TABLE models (
    alias          text PRIMARY KEY CHECK (length(alias) BETWEEN 1 AND 200),
    pool_name      text NOT NULL REFERENCES pools (name),
    upstream_model text,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- A tenant's allow-list; a row may send the tenant to a dedicated pool.
-- A tenant without rows may use every model.
CREATE TABLE tenant_models (
    tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    model_alias text NOT NULL REFERENCES models (alias) ON DELETE CASCADE,
    pool_name   text REFERENCES pools (name),
    PRIMARY KEY (tenant_id, model_alias)
);

-- Limits per tenant, group, user or key (enforced from the quota issue on).
CREATE TABLE limits (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id      bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    scope          text NOT NULL CHECK (scope IN ('tenant', 'group', 'user', 'key')),
    subject        text NOT NULL DEFAULT '',
    rpm            integer CHECK (rpm >= 0),
    tpm            bigint CHECK (tpm >= 0),
    concurrent     integer CHECK (concurrent >= 0),
    monthly_tokens bigint CHECK (monthly_tokens >= 0),
    UNIQUE (tenant_id, scope, subject)
);

-- One row per request that reached the gateway with a valid credential.
-- No prompt or answer text, ever. Partitioned by Berlin calendar month;
-- request_id is unique (a journal line always carries the same ts for the
-- same request_id, so the key (request_id, ts) is unique per request).
CREATE TABLE usage_events (
    request_id        text NOT NULL,
    ts                timestamptz NOT NULL,
    tenant_id         bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id           text NOT NULL,
    key_id            text,
    model             text NOT NULL,
    pool              text,
    status            integer NOT NULL,
    upstream_status   text,
    prompt_tokens     integer NOT NULL CHECK (prompt_tokens >= 0),
    completion_tokens integer NOT NULL CHECK (completion_tokens >= 0),
    usage_source      text NOT NULL
                      CHECK (usage_source IN ('reported', 'estimated', 'none')),
    stream            boolean NOT NULL,
    request_time_ms   integer,
    node              text NOT NULL,
    PRIMARY KEY (request_id, ts)
) PARTITION BY RANGE (ts);
CREATE INDEX usage_events_tenant_ts ON usage_events (tenant_id, ts);

-- Creates the partition holding a given instant's Berlin month, if missing.
CREATE FUNCTION llmoin_ensure_usage_partition(at timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    month_start date := date_trunc('month', at AT TIME ZONE 'Europe/Berlin')::date;
    part_name   text := format('usage_events_%s', to_char(month_start, 'YYYY_MM'));
BEGIN
    IF to_regclass(part_name) IS NULL THEN
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF usage_events FOR VALUES FROM (%L) TO (%L)',
            part_name,
            (month_start::timestamp AT TIME ZONE 'Europe/Berlin'),
            ((month_start + interval '1 month')::timestamp AT TIME ZONE 'Europe/Berlin'));
    END IF;
    RETURN part_name;
END;
$$;

-- How far tenantd has read each journal file: advanced in the same
-- transaction as the rows it read, so every line is counted exactly once.
CREATE TABLE ingest_offsets (
    node        text NOT NULL,
    path        text NOT NULL,
    inode       bigint NOT NULL,
    "offset"    bigint NOT NULL CHECK ("offset" >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (node, path)
);

-- Journal lines that could not be read as a usage record. Kept, not dropped,
-- so nothing is lost silently; they hold module variables only, no content.
CREATE TABLE ingest_rejects (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    node        text NOT NULL,
    path        text NOT NULL,
    "offset"    bigint NOT NULL,
    reason      text NOT NULL,
    line        text NOT NULL,
    rejected_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (node, path, "offset")
);

-- Append-only, hash-chained record of every change.
CREATE TABLE audit_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor      text NOT NULL,
    tenant_id  bigint,
    action     text NOT NULL,
    object     text NOT NULL,
    before     jsonb,
    after      jsonb,
    prev_hash  text NOT NULL,
    hash       text NOT NULL
);

CREATE FUNCTION llmoin_audit_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Serialise appenders so each row links to the one before it.
    PERFORM pg_advisory_xact_lock(hashtext('llmoin_audit_log'));
    SELECT coalesce((SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), '')
      INTO NEW.prev_hash;
    NEW.hash := encode(sha256(convert_to(concat_ws('|',
        NEW.prev_hash, extract(epoch FROM NEW.at)::text, NEW.actor, NEW.tenant_id::text,
        NEW.action, NEW.object, NEW.before::text, NEW.after::text), 'UTF8')), 'hex');
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION llmoin_audit_chain();

CREATE FUNCTION llmoin_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
    ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION llmoin_audit_append_only();

-- Any change to what the snapshot holds wakes tenantd's snapshot renderer.
CREATE FUNCTION llmoin_notify_config() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('llmoin_config', TG_TABLE_NAME);
    RETURN NULL;
END;
$$;
CREATE TRIGGER tenants_changed AFTER INSERT OR UPDATE OR DELETE ON tenants
    FOR EACH STATEMENT EXECUTE FUNCTION llmoin_notify_config();
CREATE TRIGGER tenant_issuers_changed AFTER INSERT OR UPDATE OR DELETE ON tenant_issuers
    FOR EACH STATEMENT EXECUTE FUNCTION llmoin_notify_config();
-- last_used_at is bookkeeping from ingestion, not configuration.
CREATE TRIGGER api_keys_changed
    AFTER INSERT OR DELETE OR UPDATE OF tenant_id, user_id, key_hash, models,
                                         expires_at, revoked_at ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION llmoin_notify_config();
CREATE TRIGGER pools_changed AFTER INSERT OR UPDATE OR DELETE ON pools
    FOR EACH STATEMENT EXECUTE FUNCTION llmoin_notify_config();
CREATE TRIGGER models_changed AFTER INSERT OR UPDATE OR DELETE ON models
    FOR EACH STATEMENT EXECUTE FUNCTION llmoin_notify_config();
CREATE TRIGGER tenant_models_changed AFTER INSERT OR UPDATE OR DELETE ON tenant_models
    FOR EACH STATEMENT EXECUTE FUNCTION llmoin_notify_config();
CREATE TRIGGER limits_changed AFTER INSERT OR UPDATE OR DELETE ON limits
    FOR EACH STATEMENT EXECUTE FUNCTION llmoin_notify_config();

-- How the management API shows things: one JSON document per row, built in
-- one place so every endpoint renders an object the same way.
CREATE FUNCTION llmoin_time(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

CREATE VIEW api_tenant_docs AS
SELECT t.id AS tenant_id, t.slug,
       json_build_object('slug', t.slug, 'name', t.name, 'status', t.status,
                         'created_at', llmoin_time(t.created_at),
                         'updated_at', llmoin_time(t.updated_at)) AS doc
  FROM tenants t;

CREATE VIEW api_key_docs AS
SELECT k.id, k.tenant_id, t.slug AS tenant_slug, k.created_at,
       json_build_object('id', k.id, 'tenant', t.slug, 'user', k.user_id,
                         'name', k.name, 'prefix', k.prefix, 'models', k.models,
                         'created_at', llmoin_time(k.created_at),
                         'expires_at', llmoin_time(k.expires_at),
                         'revoked_at', llmoin_time(k.revoked_at),
                         'last_used_at', llmoin_time(k.last_used_at)) AS doc
  FROM api_keys k JOIN tenants t ON t.id = k.tenant_id;

CREATE VIEW api_model_docs AS
SELECT m.alias,
       json_build_object('alias', m.alias, 'pool', m.pool_name,
                         'upstream_model', m.upstream_model,
                         'created_at', llmoin_time(m.created_at)) AS doc
  FROM models m;
