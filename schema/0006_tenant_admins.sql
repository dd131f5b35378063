-- llmoin schema, migration 0006: tenant admins, and tenant isolation in the
-- database itself (row-level security).
--
-- Every management API request runs in one transaction as the role
-- llmoin_api with two settings made by tenantd (tenantd/api.c):
--   app.role       'operator' or 'tenant_admin'
--   app.tenant_id  the tenant admin's tenant id ('' for operators)
-- The policies below let an operator see and change everything and a tenant
-- admin only the rows of its own tenant, whatever a handler's SQL says; a
-- missing or unknown setting sees nothing. Ingestion, the snapshot, the quota
-- restore and migrations keep running as tenantd's own (owning) role, which
-- row-level security does not restrict.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'llmoin_api') THEN
        CREATE ROLE llmoin_api NOLOGIN;
    END IF;
END;
$$;
GRANT llmoin_api TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO llmoin_api;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO llmoin_api;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO llmoin_api;
-- Tables of later migrations get the same grants; a later table holding a
-- tenant's rows must ENABLE ROW LEVEL SECURITY with a tenant_scope policy
-- like those below.
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO llmoin_api;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO llmoin_api;

-- Which claim of a tenant's token makes its holder a tenant admin, and the
-- value it must have (the claim may be a string or an array of strings).
ALTER TABLE tenants
    ADD COLUMN admin_claim text NOT NULL DEFAULT 'roles'
        CHECK (admin_claim ~ '^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$'),
    ADD COLUMN admin_value text NOT NULL DEFAULT 'llmoin-admin'
        CHECK (length(admin_value) BETWEEN 1 AND 200);

CREATE FUNCTION llmoin_is_operator() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('app.role', true), '') = 'operator'
$$;

-- Whether the request's caller may see or change a row of tenant t.
CREATE FUNCTION llmoin_may_see(t bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT llmoin_is_operator()
        OR (coalesce(current_setting('app.role', true), '') = 'tenant_admin'
            AND t = nullif(current_setting('app.tenant_id', true), '')::bigint)
$$;

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_scope ON tenants
    USING (llmoin_may_see(id)) WITH CHECK (llmoin_may_see(id));
-- Tenants come and go by operators only.
CREATE POLICY operators_create ON tenants AS RESTRICTIVE FOR INSERT
    WITH CHECK (llmoin_is_operator());
CREATE POLICY operators_delete ON tenants AS RESTRICTIVE FOR DELETE
    USING (llmoin_is_operator());

-- In its own tenant row a tenant admin may change only what its own routes
-- change (allowing a model restricts the tenant to its allow-list): what
-- the provider allots or decides (status, hosts, caps, fail mode, who is
-- an admin, the pseudonym key) stays the operators', also in the database.
CREATE FUNCTION llmoin_tenant_columns_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_user = 'llmoin_api' AND NOT llmoin_is_operator()
       AND (NEW.slug, NEW.name, NEW.status, NEW.hosts, NEW.dev_idp, NEW.max_tokens_cap,
            NEW.quota_fail_mode, NEW.admin_claim, NEW.admin_value, NEW.pseudonym_secret,
            NEW.created_at)
           IS DISTINCT FROM
           (OLD.slug, OLD.name, OLD.status, OLD.hosts, OLD.dev_idp, OLD.max_tokens_cap,
            OLD.quota_fail_mode, OLD.admin_claim, OLD.admin_value, OLD.pseudonym_secret,
            OLD.created_at)
    THEN
        RAISE EXCEPTION 'only operators change this setting of a tenant'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER tenants_columns_guard BEFORE UPDATE ON tenants
    FOR EACH ROW EXECUTE FUNCTION llmoin_tenant_columns_guard();

-- A dedicated pool of an allow-list entry is the operators' to give or take.
CREATE FUNCTION llmoin_dedicated_pool_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_user = 'llmoin_api' AND NOT llmoin_is_operator()
       AND NEW.pool_name IS DISTINCT FROM
           (CASE WHEN TG_OP = 'UPDATE' THEN OLD.pool_name END)
    THEN
        RAISE EXCEPTION 'only operators give a tenant a dedicated pool'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER tenant_models_pool_guard BEFORE INSERT OR UPDATE ON tenant_models
    FOR EACH ROW EXECUTE FUNCTION llmoin_dedicated_pool_guard();

-- Every table of a tenant's rows. A tenant admin reads its tenant's audit
-- rows and appends rows of its own tenant; platform-wide audit rows
-- (tenant_id NULL) are the operators'.
DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['tenant_issuers', 'api_keys', 'tenant_models', 'limits',
                                'dev_idp_keys', 'usage_events', 'usage_daily',
                                'usage_monthly', 'audit_log'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', name);
        EXECUTE format('CREATE POLICY tenant_scope ON %I USING (llmoin_may_see(tenant_id))'
                       ' WITH CHECK (llmoin_may_see(tenant_id))', name);
    END LOOP;
END;
$$;

-- Within its own tenant a tenant admin still cannot write what the
-- provider allots: the tenant's own limits (scope tenant); dedicated pools
-- are kept by the trigger above. And every audit row a tenant admin writes names the caller
-- tenantd authenticated (app.actor).
CREATE POLICY operators_tenant_limits_insert ON limits AS RESTRICTIVE FOR INSERT
    WITH CHECK (scope <> 'tenant' OR llmoin_is_operator());
CREATE POLICY operators_tenant_limits_update ON limits AS RESTRICTIVE FOR UPDATE
    USING (scope <> 'tenant' OR llmoin_is_operator())
    WITH CHECK (scope <> 'tenant' OR llmoin_is_operator());
CREATE POLICY operators_tenant_limits_delete ON limits AS RESTRICTIVE FOR DELETE
    USING (scope <> 'tenant' OR llmoin_is_operator());
CREATE POLICY callers_own_name ON audit_log AS RESTRICTIVE FOR INSERT
    WITH CHECK (llmoin_is_operator() OR actor = current_setting('app.actor', true));

-- Models and pools are the platform's: everybody reads, operators write.
-- Ingestion's bookkeeping is the operators' only.
DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['models', 'pools', 'ingest_offsets', 'ingest_rejects',
                                'schema_migrations'] LOOP
        -- schema_migrations is tenantd's (tenantd/migrations.c): absent when
        -- the files are applied by hand
        CONTINUE WHEN to_regclass(name) IS NULL;
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', name);
        EXECUTE format('CREATE POLICY operators_write ON %I USING (llmoin_is_operator())'
                       ' WITH CHECK (llmoin_is_operator())', name);
    END LOOP;
END;
$$;
CREATE POLICY everyone_reads ON models FOR SELECT USING (true);
CREATE POLICY everyone_reads ON pools FOR SELECT USING (true);

-- Partitions are read through usage_events, whose policy applies; read
-- directly they would show every tenant's rows (policies are not inherited),
-- so the API's role gets no right on them, now or when one is created.
DO $$
DECLARE
    part regclass;
BEGIN
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits
                 WHERE inhparent = 'usage_events'::regclass LOOP
        EXECUTE format('REVOKE ALL ON %s FROM llmoin_api', part);
    END LOOP;
END;
$$;

CREATE OR REPLACE FUNCTION llmoin_ensure_usage_partition(at timestamptz) RETURNS text
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
        EXECUTE format('REVOKE ALL ON %I FROM llmoin_api', part_name);
    END IF;
    RETURN part_name;
END;
$$;

-- Views read with the caller's rights, so the policies above apply through
-- them (a view otherwise reads with its owner's).
ALTER VIEW api_tenant_docs SET (security_invoker = true);
ALTER VIEW api_key_docs SET (security_invoker = true);
ALTER VIEW api_model_docs SET (security_invoker = true);
ALTER VIEW api_issuer_docs SET (security_invoker = true);
ALTER VIEW api_tenant_model_docs SET (security_invoker = true);
ALTER VIEW api_limit_docs SET (security_invoker = true);

-- Checks that must see every tenant's rows run with the owner's rights: the
-- audit chain links to the newest row of all tenants; a host name is unique
-- across tenants.
ALTER FUNCTION llmoin_audit_chain() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION llmoin_hosts_unique() SECURITY DEFINER SET search_path = public, pg_temp;

-- Why fetching an issuer's keys failed is for operators: the reason names
-- hosts and ports tenantd reached (or not) inside the provider's network.
CREATE OR REPLACE VIEW api_issuer_docs WITH (security_invoker = true) AS
SELECT i.id, i.tenant_id, t.slug AS tenant_slug,
       json_build_object('id', i.id, 'tenant', t.slug, 'issuer', i.issuer,
                         'audience', i.audience, 'jwks_uri', i.jwks_uri,
                         'keys', coalesce(jsonb_array_length(i.jwks -> 'keys'), 0),
                         'user_claim', i.user_claim, 'groups_claim', i.groups_claim,
                         'leeway_seconds', i.leeway_seconds,
                         'jwks_fetched_at', llmoin_time(i.jwks_fetched_at),
                         'jwks_error', CASE WHEN llmoin_is_operator() OR i.jwks_error IS NULL
                                            THEN i.jwks_error
                                            ELSE 'the keys could not be fetched; the provider''s'
                                                 ' operators see why' END,
                         'created_at', llmoin_time(i.created_at)) AS doc
  FROM tenant_issuers i JOIN tenants t ON t.id = i.tenant_id;

CREATE OR REPLACE VIEW api_tenant_docs WITH (security_invoker = true) AS
SELECT t.id AS tenant_id, t.slug,
       json_build_object('slug', t.slug, 'name', t.name, 'status', t.status,
                         'models_restricted', t.models_restricted,
                         'hosts', to_json(t.hosts),
                         'dev_idp', t.dev_idp,
                         'max_tokens_cap', t.max_tokens_cap,
                         'quota_fail_mode', t.quota_fail_mode,
                         'admin_claim', t.admin_claim,
                         'admin_value', t.admin_value,
                         'created_at', llmoin_time(t.created_at),
                         'updated_at', llmoin_time(t.updated_at)) AS doc
  FROM tenants t;
