/* Model aliases: what clients ask for, and which inference pool serves it. */
#include "audit.h"
#include "change.h"
#include "handlers.h"
#include "validate.h"

#include <stdio.h>

static const field_spec_t model_fields[] = {
    { "alias", JSON_STRING, true, false, 200, "^[A-Za-z0-9][A-Za-z0-9._:/-]*$",
      "a model name of letters, digits and . _ : / -", 0 },
    { "pool", JSON_STRING, true, false, 32, "^[a-z][a-z0-9_]{0,31}$",
      "a pool name of lowercase letters, digits and underscores", 0 },
    { "upstream_model", JSON_STRING, false, true, 200, "^[^[:cntrl:]]+$",
      "the model name the pool's servers know, without control characters", 0 },
    FIELD_SPEC_END
};

static const char list_sql[] =
    "SELECT json_build_object('data', coalesce(json_agg(doc ORDER BY alias), '[]'))"
    " FROM api_model_docs";

static const char document_sql[] =
    "SELECT '', doc FROM api_model_docs WHERE alias = $1";

/* $4 says whether the body named upstream_model: absent keeps the current
 * one, null clears it. */
static const char upsert_sql[] =
    "INSERT INTO models (alias, pool_name, upstream_model) VALUES ($1, $2, $3)"
    " ON CONFLICT (alias) DO UPDATE SET pool_name = EXCLUDED.pool_name,"
    " upstream_model = CASE WHEN $4::boolean THEN EXCLUDED.upstream_model"
    "                       ELSE models.upstream_model END";

void
models_list(api_request_t *request, api_response_t *response)
{
    api_answer_query(request, response, 200, list_sql, 0, NULL);
}

static void
store_model(api_request_t *request, api_response_t *response, const char *params[4])
{
    char        object[300], ignored[24];
    json_t     *before = NULL, *after = NULL;
    db_error_t  error;

    snprintf(object, sizeof(object), "model:%s", params[0]);
    if (api_begin(request, &error) != 0
        || change_read_document(request->db, document_sql, params[0], ignored,
                                &before, &error) < 0
        || db_exec(request->db, upsert_sql, 4, params, &error) != 0
        || change_read_document(request->db, document_sql, params[0], ignored,
                                &after, &error) != 1
        || audit_record(request->db, &request->caller, NULL,
                        before == NULL ? "model.create" : "model.update", object,
                        before, after, &error) != 0
        || api_commit(request, &error) != 0)
    {
        api_rollback(request);
        json_decref(before);
        json_decref(after);
        if (db_error_is(&error, DB_FOREIGN_KEY_VIOLATION)) {
            api_error(response, 400, "invalid_request_error", "pool_not_found",
                      "pool '%s' does not exist", params[1]);
            return;
        }
        api_database_error(response, &error);
        return;
    }
    api_ok(response, before == NULL ? 201 : 200, after);
    json_decref(before);
}

void
models_create(api_request_t *request, api_response_t *response)
{
    char        message[512];
    const char *params[4];
    json_t     *body;

    body = validate_body(request->body, request->body_length, model_fields,
                         message, sizeof(message));
    if (body == NULL) {
        api_error(response, 400, "invalid_request_error", "invalid_body", "%s", message);
        return;
    }
    params[0] = json_string_value(json_object_get(body, "alias"));
    params[1] = json_string_value(json_object_get(body, "pool"));
    params[2] = json_string_value(json_object_get(body, "upstream_model"));
    params[3] = json_object_get(body, "upstream_model") != NULL ? "true" : "false";
    store_model(request, response, params);
    json_decref(body);
}
