/* A tenant's model allow-list: which model aliases its users may use, and
 * optionally a dedicated pool for one. Allowing a model restricts the
 * tenant to its list (models_restricted); from then on an empty list allows
 * nothing. PATCH the tenant with models_restricted=false to lift it. */
#include "audit.h"
#include "handlers.h"
#include "validate.h"

#include <stdio.h>

static const field_spec_t allow_fields[] = {
    { "alias", JSON_STRING, true, false, 200, "^[A-Za-z0-9][A-Za-z0-9._:/-]*$",
      "a model name of letters, digits and . _ : / -", 0 },
    { "pool", JSON_STRING, false, true, 32, "^[a-z][a-z0-9_]{0,31}$",
      "a pool name of lowercase letters, digits and underscores", 0 },
    FIELD_SPEC_END
};

const struct field_spec *const tenant_models_allow_fields = allow_fields;

static const char list_sql[] =
    "SELECT json_build_object('tenant', t.slug, 'models_restricted', t.models_restricted,"
    " 'data', coalesce((SELECT json_agg(d.doc ORDER BY d.model_alias)"
    "   FROM api_tenant_model_docs d WHERE d.tenant_id = t.id), '[]'))"
    " FROM tenants t WHERE t.id = $1::bigint";

/* A tenant admin allowing a model again keeps the dedicated pool an
 * operator gave it; an operator's call says the pool (none: the shared one). */
static const char allow_sql[] =
    "WITH allowed AS ("
    "  INSERT INTO tenant_models (tenant_id, model_alias, pool_name)"
    "  VALUES ($1::bigint, $2, $3)"
    "  ON CONFLICT (tenant_id, model_alias) DO UPDATE SET pool_name = CASE"
    "    WHEN llmoin_is_operator() THEN EXCLUDED.pool_name ELSE tenant_models.pool_name END"
    "  RETURNING 1)"
    " UPDATE tenants SET models_restricted = true, updated_at = now()"
    " WHERE id = $1::bigint AND EXISTS (SELECT 1 FROM allowed)";

static const char remove_sql[] =
    "DELETE FROM tenant_models WHERE tenant_id = $1::bigint AND model_alias = $2";

static const char document_sql[] =
    "SELECT doc::text FROM api_tenant_model_docs WHERE tenant_id = $1::bigint"
    " AND model_alias = $2";

static void
answer_list(api_request_t *request, api_response_t *response, const char *tenant_id,
            int status)
{
    api_answer_query(request, response, status, list_sql, 1, &tenant_id);
}

void
tenant_models_list(api_request_t *request, api_response_t *response)
{
    tenants_answer_list(request, response, list_sql);
}

static json_t *
read_entry(PGconn *conn, const char *tenant_id, const char *alias, db_error_t *error)
{
    const char *params[2] = { tenant_id, alias };
    bool        found;

    return db_query_json(conn, document_sql, 2, params, &found, error);
}

static void
store_allowed(api_request_t *request, api_response_t *response, const char *tenant_id,
              const char *alias, const char *pool)
{
    const char *params[3] = { tenant_id, alias, pool };
    char        object[300];
    json_t     *before, *after = NULL;
    db_error_t  error;

    snprintf(object, sizeof(object), "tenant:%s/model:%s", request->params[0], alias);
    if (api_begin(request, &error) != 0) {
        api_database_error(response, &error);
        return;
    }
    before = read_entry(request->db, tenant_id, alias, &error);
    if (db_exec(request->db, allow_sql, 3, params, &error) != 0
        || (after = read_entry(request->db, tenant_id, alias, &error)) == NULL
        || audit_record(request->db, &request->caller, tenant_id, "tenant.model.allow",
                        object, before, after, &error) != 0
        || api_commit(request, &error) != 0)
    {
        api_rollback(request);
        if (db_error_is(&error, DB_FOREIGN_KEY_VIOLATION) && pool != NULL) {
            api_error(response, 400, "invalid_request_error", "model_or_pool_not_found",
                      "model '%s' or pool '%s' does not exist", alias, pool);
        } else if (db_error_is(&error, DB_FOREIGN_KEY_VIOLATION)) {
            api_error(response, 400, "invalid_request_error", "model_not_found",
                      "model '%s' does not exist", alias);
        } else {
            api_database_error(response, &error);
        }
    } else {
        answer_list(request, response, tenant_id, 200);
    }
    json_decref(before);
    json_decref(after);
}

void
tenant_models_allow(api_request_t *request, api_response_t *response)
{
    char    message[512], tenant_id[24];
    json_t *body;

    body = validate_body(request->body, request->body_length, allow_fields, message,
                         sizeof(message));
    if (body == NULL) {
        api_error(response, 400, "invalid_request_error", "invalid_body", "%s", message);
        return;
    }
    if ((json_object_get(body, "pool") == NULL || json_is_null(json_object_get(body, "pool"))
         || api_require_operator(request, response, "field 'pool' (a dedicated pool)"))
        && tenants_find(request, response, tenant_id) == 1)
    {
        store_allowed(request, response, tenant_id,
                      json_string_value(json_object_get(body, "alias")),
                      json_string_value(json_object_get(body, "pool")));
    }
    json_decref(body);
}

void
tenant_models_remove(api_request_t *request, api_response_t *response)
{
    const char *alias = api_query(request, "alias"), *params[2];
    char        tenant_id[24], object[300];
    json_t     *before;
    db_error_t  error;

    if (alias == NULL || alias[0] == '\0') {
        api_error(response, 400, "invalid_request_error", "invalid_parameter",
                  "parameter 'alias' names the model to take off the list");
        return;
    }
    if (tenants_find(request, response, tenant_id) != 1) {
        return;
    }
    params[0] = tenant_id;
    params[1] = alias;
    snprintf(object, sizeof(object), "tenant:%s/model:%.200s", request->params[0], alias);
    if (api_begin(request, &error) != 0) {
        api_database_error(response, &error);
        return;
    }
    before = read_entry(request->db, tenant_id, alias, &error);
    if (before == NULL) {
        api_rollback(request);
        api_error(response, 404, "invalid_request_error", "model_not_allowed",
                  "model '%.200s' is not on the list of tenant '%s'", alias,
                  request->params[0]);
        return;
    }
    if (db_exec(request->db, remove_sql, 2, params, &error) != 0
        || audit_record(request->db, &request->caller, tenant_id,
                        "tenant.model.remove", object, before, NULL, &error) != 0
        || api_commit(request, &error) != 0)
    {
        api_rollback(request);
        api_database_error(response, &error);
    } else {
        answer_list(request, response, tenant_id, 200);
    }
    json_decref(before);
}
