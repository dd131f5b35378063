-- llmoin schema, migration 0008: inference pools as the management API
-- shows them (operators register, describe and remove pools; each is an
-- nginx upstream llmoin_pool_<name>). A pool still serving a model alias or
-- a tenant's dedicated allow-list entry cannot be removed (the foreign keys
-- of 0001 and 0002 refuse it).

CREATE VIEW api_pool_docs WITH (security_invoker = true) AS
SELECT p.name,
       json_build_object('name', p.name, 'description', p.description,
                         'models', (SELECT count(*) FROM models m WHERE m.pool_name = p.name),
                         'created_at', llmoin_time(p.created_at)) AS doc
  FROM pools p;
