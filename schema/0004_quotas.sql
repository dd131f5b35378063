-- llmoin schema, migration 0004: quotas and budgets.
--
-- Limits (table limits, since 0001) apply per tenant (all its users
-- together), per group (the token's groups claim: a group shares one
-- allowance), per user and per API key. A row with subject '' for scope
-- group, user or key is the default for every group, user or key of the
-- tenant without a row of its own. NULL in a kind means "no limit".

ALTER TABLE limits
    ADD CONSTRAINT limits_tenant_scope_has_no_subject
        CHECK (scope <> 'tenant' OR subject = ''),
    ADD CONSTRAINT limits_subject_length CHECK (length(subject) <= 200);

-- Every reservation is bounded: a request without max_tokens gets the cap,
-- one above it is refused. Redis down: 'closed' refuses (503), 'open'
-- admits and marks the usage record unchecked.
ALTER TABLE tenants
    ADD COLUMN max_tokens_cap integer NOT NULL DEFAULT 4096
        CHECK (max_tokens_cap BETWEEN 1 AND 1000000),
    ADD COLUMN quota_fail_mode text NOT NULL DEFAULT 'closed'
        CHECK (quota_fail_mode IN ('closed', 'open'));

-- What the usage journal now also says: the caller's groups (for group
-- reports and for rebuilding group counters) and whether the quota store
-- checked the request.
ALTER TABLE usage_events
    ADD COLUMN groups text NOT NULL DEFAULT '',
    ADD COLUMN quota text NOT NULL DEFAULT 'none'
        CHECK (quota IN ('checked', 'unchecked', 'none'));

CREATE OR REPLACE VIEW api_tenant_docs AS
SELECT t.id AS tenant_id, t.slug,
       json_build_object('slug', t.slug, 'name', t.name, 'status', t.status,
                         'models_restricted', t.models_restricted,
                         'hosts', to_json(t.hosts),
                         'dev_idp', t.dev_idp,
                         'max_tokens_cap', t.max_tokens_cap,
                         'quota_fail_mode', t.quota_fail_mode,
                         'created_at', llmoin_time(t.created_at),
                         'updated_at', llmoin_time(t.updated_at)) AS doc
  FROM tenants t;

CREATE VIEW api_limit_docs AS
SELECT l.tenant_id, l.scope, l.subject,
       json_build_object('scope', l.scope, 'subject', l.subject,
                         'rpm', l.rpm, 'tpm', l.tpm, 'concurrent', l.concurrent,
                         'monthly_tokens', l.monthly_tokens) AS doc
  FROM limits l;
