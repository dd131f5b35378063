/* Inference pools: the nginx upstreams (llmoin_pool_<name>) model aliases
 * and tenants' dedicated allow-list entries are served by. Operators only. */
#include "audit.h"
#include "change.h"
#include "handlers.h"
#include "validate.h"

#include <stdio.h>

static const field_spec_t pool_fields[] = {
    { "description", JSON_STRING, true, false, 200, "^[^[:cntrl:]]*$",
      "a description without control characters", 0 },
    FIELD_SPEC_END
};

static const char list_sql[] =
    "SELECT json_build_object('data', coalesce(json_agg(doc ORDER BY name), '[]'))"
    " FROM api_pool_docs";

static const char document_sql[] =
    "SELECT '', doc FROM api_pool_docs WHERE name = $1";

static const char upsert_sql[] =
    "INSERT INTO pools (name, description) VALUES ($1, $2)"
    " ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description";

static const char delete_sql[] = "DELETE FROM pools WHERE name = $1";

void
pools_list(api_request_t *request, api_response_t *response)
{
    api_answer_query(request, response, 200, list_sql, 0, NULL);
}

void
pools_set(api_request_t *request, api_response_t *response)
{
    char         message[512], object[64], ignored[24];
    const char  *params[2];
    json_t      *body, *before = NULL, *after = NULL;
    db_error_t   error;

    body = validate_body(request->body, request->body_length, pool_fields, message,
                         sizeof(message));
    if (body == NULL) {
        api_error(response, 400, "invalid_request_error", "invalid_body", "%s", message);
        return;
    }
    params[0] = request->params[0];
    params[1] = json_string_value(json_object_get(body, "description"));
    snprintf(object, sizeof(object), "pool:%s", params[0]);
    if (api_begin(request, &error) != 0
        || change_read_document(request->db, document_sql, params[0], ignored, &before,
                                &error) < 0
        || db_exec(request->db, upsert_sql, 2, params, &error) != 0
        || change_read_document(request->db, document_sql, params[0], ignored, &after,
                                &error) != 1
        || (!json_equal(before, after)
            && audit_record(request->db, &request->caller, NULL,
                            before == NULL ? "pool.create" : "pool.update", object, before,
                            after, &error) != 0)
        || api_commit(request, &error) != 0)
    {
        api_rollback(request);
        json_decref(after);
        api_database_error(response, &error);
    } else {
        api_ok(response, before == NULL ? 201 : 200, after);
    }
    json_decref(before);
    json_decref(body);
}

void
pools_remove(api_request_t *request, api_response_t *response)
{
    char     object[64], not_found[100], in_use[200];
    change_t change = {
        .document_sql = document_sql,
        .update_sql = delete_sql,
        .params = { request->params[0] },
        .param_count = 1,
        .action = "pool.remove",
        .object = object,
        .not_found_code = "pool_not_found",
        .not_found_message = not_found,
        .removes = true,
        .in_use_code = "pool_in_use",
        .in_use_message = in_use,
    };

    snprintf(object, sizeof(object), "pool:%s", request->params[0]);
    snprintf(not_found, sizeof(not_found), "pool '%s' does not exist", request->params[0]);
    snprintf(in_use, sizeof(in_use), "pool '%s' still serves a model or a tenant's "
             "allow-list entry: move them to another pool first", request->params[0]);
    change_apply(request, response, &change);
}
