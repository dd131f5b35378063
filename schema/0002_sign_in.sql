-- llmoin schema, migration 0002: per-tenant sign-in (OIDC issuers, host
-- names), API key scope, explicit model allow-lists, the development
-- identity provider.

-- A tenant's model allow-list is in force only when models_restricted is
-- set: an empty list then allows nothing (deleting the last allowed model
-- must not open every model). Host names narrow which tenant's credentials
-- a request to that host may carry.
ALTER TABLE tenants
    ADD COLUMN models_restricted boolean NOT NULL DEFAULT false,
    ADD COLUMN hosts text[] NOT NULL DEFAULT '{}'
        CHECK (array_position(hosts, NULL) IS NULL),
    ADD COLUMN dev_idp boolean NOT NULL DEFAULT false;

-- A model still allowed for some tenant cannot be deleted from under it.
ALTER TABLE tenant_models
    DROP CONSTRAINT tenant_models_model_alias_fkey,
    ADD CONSTRAINT tenant_models_model_alias_fkey
        FOREIGN KEY (model_alias) REFERENCES models (alias) ON DELETE RESTRICT;

-- Issuers: leeway for exp/nbf/iat, and what tenantd last fetched from
-- jwks_uri (jwks then holds the fetched set).
ALTER TABLE tenant_issuers
    ADD COLUMN leeway_seconds integer NOT NULL DEFAULT 60
        CHECK (leeway_seconds BETWEEN 0 AND 600),
    ADD COLUMN jwks_fetched_at timestamptz,
    ADD COLUMN jwks_error text,
    ADD CONSTRAINT tenant_issuers_user_claim CHECK (user_claim ~ '^[A-Za-z0-9_.:-]{1,64}$'),
    ADD CONSTRAINT tenant_issuers_groups_claim CHECK (groups_claim ~ '^[A-Za-z0-9_.:-]{1,64}$');
CREATE INDEX tenant_issuers_tenant ON tenant_issuers (tenant_id);

-- The development identity provider's signing key per tenant. Only for
-- tenants marked dev_idp; never for production (see docs).
CREATE TABLE dev_idp_keys (
    tenant_id   bigint PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    kid         text NOT NULL,
    private_pem text NOT NULL,
    public_jwk  jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE OR REPLACE VIEW api_tenant_docs AS
SELECT t.id AS tenant_id, t.slug,
       json_build_object('slug', t.slug, 'name', t.name, 'status', t.status,
                         'models_restricted', t.models_restricted,
                         'hosts', to_json(t.hosts),
                         'dev_idp', t.dev_idp,
                         'created_at', llmoin_time(t.created_at),
                         'updated_at', llmoin_time(t.updated_at)) AS doc
  FROM tenants t;

CREATE VIEW api_issuer_docs AS
SELECT i.id, i.tenant_id, t.slug AS tenant_slug,
       json_build_object('id', i.id, 'tenant', t.slug, 'issuer', i.issuer,
                         'audience', i.audience, 'jwks_uri', i.jwks_uri,
                         'keys', coalesce(jsonb_array_length(i.jwks -> 'keys'), 0),
                         'user_claim', i.user_claim, 'groups_claim', i.groups_claim,
                         'leeway_seconds', i.leeway_seconds,
                         'jwks_fetched_at', llmoin_time(i.jwks_fetched_at),
                         'jwks_error', i.jwks_error,
                         'created_at', llmoin_time(i.created_at)) AS doc
  FROM tenant_issuers i JOIN tenants t ON t.id = i.tenant_id;

CREATE VIEW api_tenant_model_docs AS
SELECT tm.tenant_id, tm.model_alias,
       json_build_object('alias', tm.model_alias,
                         'pool', coalesce(tm.pool_name, m.pool_name),
                         'dedicated_pool', tm.pool_name IS NOT NULL) AS doc
  FROM tenant_models tm JOIN models m ON m.alias = tm.model_alias;

-- An API key's expiry as given to the API: an RFC 3339 time, or a bare
-- date meaning the start of that day in Europe/Berlin.
CREATE FUNCTION llmoin_key_expiry(given text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN given ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
                THEN given::date::timestamp AT TIME ZONE 'Europe/Berlin'
                ELSE given::timestamptz END
$$;
