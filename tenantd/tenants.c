/* Tenants: list, create, show, change (name, host names, model restriction,
 * quota settings), suspend, resume. */
#include "audit.h"
#include "change.h"
#include "handlers.h"
#include "validate.h"

#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>

#define SLUG_PATTERN "^[a-z][a-z0-9-]{1,31}$"
#define SLUG_HELP    "2 to 32 lowercase letters, digits or dashes, starting with a letter"

static const field_spec_t create_fields[] = {
    { "slug", JSON_STRING, true, false, 32, SLUG_PATTERN, SLUG_HELP, 0 },
    { "name", JSON_STRING, true, false, 200, "^[^[:cntrl:]]+$",
      "a non-empty name without control characters", 0 },
    FIELD_SPEC_END
};

const struct field_spec *const tenants_create_fields = create_fields;

#define HOST_PATTERN "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
#define HOST_HELP    "a host name in lowercase, e.g. llmoin.hamburg.de (labels of 1 to 63 letters, " \
                     "digits or dashes, no dash first or last)"

static const field_spec_t update_fields[] = {
    { "name", JSON_STRING, false, false, 200, "^[^[:cntrl:]]+$",
      "a non-empty name without control characters", 0 },
    { "hosts", JSON_ARRAY, false, false, 253, HOST_PATTERN, HOST_HELP, 16 },
    { "models_restricted", JSON_TRUE, false, false, 0, NULL, NULL, 0 },
    { "max_tokens_cap", JSON_INTEGER, false, false, 0, NULL, NULL, 0 },
    { "quota_fail_mode", JSON_STRING, false, false, 6, "^(closed|open)$", "closed or open", 0 },
    { "admin_claim", JSON_STRING, false, false, 64, "^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$",
      "a claim name: a letter or _, then letters, digits, _ . : or -", 0 },
    { "admin_value", JSON_STRING, false, false, 200, "^[^[:cntrl:]]+$",
      "a non-empty value without control characters", 0 },
    FIELD_SPEC_END
};

const struct field_spec *const tenants_update_fields = update_fields;

/* schema/0004_quotas.sql: tenants.max_tokens_cap */
#define MAX_TOKENS_CAP_MIN 1
#define MAX_TOKENS_CAP_MAX 1000000

/* $4 is the body: the settings it names (models_restricted, max_tokens_cap,
 * quota_fail_mode, admin_claim, admin_value) change, the others stay. */
static const char update_sql[] =
    "UPDATE tenants SET name = coalesce($2, name),"
    " hosts = coalesce($3::text[], hosts),"
    " models_restricted = coalesce(($4::jsonb->>'models_restricted')::boolean,"
    "                              models_restricted),"
    " max_tokens_cap = coalesce(($4::jsonb->>'max_tokens_cap')::integer, max_tokens_cap),"
    " quota_fail_mode = coalesce($4::jsonb->>'quota_fail_mode', quota_fail_mode),"
    " admin_claim = coalesce($4::jsonb->>'admin_claim', admin_claim),"
    " admin_value = coalesce($4::jsonb->>'admin_value', admin_value),"
    " updated_at = now() WHERE slug = $1";

/* A host name narrows requests to one tenant: it cannot belong to two. */
static const char host_owner_sql[] =
    "SELECT t.slug, h FROM tenants t, unnest(t.hosts) h"
    " WHERE h = ANY($1::text[]) AND t.slug <> $2 LIMIT 1";

static const char list_sql[] =
    "SELECT json_build_object('data', coalesce(json_agg(doc ORDER BY slug), '[]'))"
    " FROM api_tenant_docs";

static const char document_sql[] =
    "SELECT tenant_id::text, doc FROM api_tenant_docs WHERE slug = $1";

static const char document_locked_sql[] =
    "SELECT t.id::text, d.doc FROM tenants t"
    " JOIN api_tenant_docs d ON d.tenant_id = t.id"
    " WHERE t.slug = $1 FOR UPDATE OF t";

static const char insert_sql[] =
    "INSERT INTO tenants (slug, name) VALUES ($1, $2)";

static const char set_status_sql[] =
    "UPDATE tenants SET status = $2, updated_at = now()"
    " WHERE slug = $1 AND status <> $2";

static const char id_sql[] = "SELECT id::text FROM tenants WHERE slug = $1";

int
tenants_find(api_request_t *request, api_response_t *response, char tenant_id[24])
{
    PGresult   *result;
    db_error_t  error;
    int         found;

    result = db_query(request->db, id_sql, 1, &request->params[0], &error);
    if (result == NULL) {
        api_database_error(response, &error);
        return -1;
    }
    found = PQntuples(result) > 0;
    if (found) {
        snprintf(tenant_id, 24, "%s", PQgetvalue(result, 0, 0));
    } else {
        api_error(response, 404, "invalid_request_error", "tenant_not_found",
                  "tenant '%s' not found", request->params[0]);
    }
    PQclear(result);
    return found;
}

void
tenants_answer_list(api_request_t *request, api_response_t *response, const char *sql)
{
    char        tenant_id[24];
    const char *params[1] = { tenant_id };

    if (tenants_find(request, response, tenant_id) == 1) {
        api_answer_query(request, response, 200, sql, 1, params);
    }
}

void
tenants_list(api_request_t *request, api_response_t *response)
{
    api_answer_query(request, response, 200, list_sql, 0, NULL);
}

void
tenants_show(api_request_t *request, api_response_t *response)
{
    db_error_t  error;
    json_t     *document;
    char        tenant_id[24];
    int         state;

    state = change_read_document(request->db, document_sql, request->params[0],
                                 tenant_id, &document, &error);
    if (state < 0) {
        api_database_error(response, &error);
    } else if (state == 0) {
        api_error(response, 404, "invalid_request_error", "tenant_not_found",
                  "tenant '%s' not found", request->params[0]);
    } else {
        api_ok(response, 200, document);
    }
}

static void
insert_tenant(api_request_t *request, api_response_t *response,
              const char *slug, const char *name)
{
    const char *params[2] = { slug, name };
    char        tenant_id[24], object[64];
    json_t     *document = NULL;
    db_error_t  error;

    snprintf(object, sizeof(object), "tenant:%s", slug);
    if (api_begin(request, &error) != 0
        || db_exec(request->db, insert_sql, 2, params, &error) != 0
        || change_read_document(request->db, document_sql, slug, tenant_id,
                                &document, &error) != 1
        || audit_record(request->db, &request->caller, tenant_id, "tenant.create",
                        object, NULL, document, &error) != 0
        || api_commit(request, &error) != 0)
    {
        api_rollback(request);
        json_decref(document);
        if (db_error_is(&error, DB_UNIQUE_VIOLATION)) {
            api_error(response, 409, "invalid_request_error", "tenant_exists",
                      "tenant '%s' already exists", slug);
            return;
        }
        api_database_error(response, &error);
        return;
    }
    api_ok(response, 201, document);
}

void
tenants_create(api_request_t *request, api_response_t *response)
{
    char    message[512];
    json_t *body;

    body = validate_body(request->body, request->body_length, create_fields,
                         message, sizeof(message));
    if (body == NULL) {
        api_error(response, 400, "invalid_request_error", "invalid_body", "%s", message);
        return;
    }
    insert_tenant(request, response, json_string_value(json_object_get(body, "slug")),
                  json_string_value(json_object_get(body, "name")));
    json_decref(body);
}

static void
set_status(api_request_t *request, api_response_t *response,
           const char *status, const char *action)
{
    char     object[300], not_found[300];
    change_t change = {
        .document_sql = document_locked_sql,
        .update_sql = set_status_sql,
        .params = { request->params[0], status },
        .param_count = 2,
        .action = action,
        .object = object,
        .not_found_code = "tenant_not_found",
        .not_found_message = not_found,
    };

    snprintf(object, sizeof(object), "tenant:%s", request->params[0]);
    snprintf(not_found, sizeof(not_found), "tenant '%s' not found", request->params[0]);
    change_apply(request, response, &change);
}

void
tenants_suspend(api_request_t *request, api_response_t *response)
{
    set_status(request, response, "suspended", "tenant.suspend");
}

void
tenants_resume(api_request_t *request, api_response_t *response)
{
    set_status(request, response, "active", "tenant.resume");
}

static bool
hosts_are_free(api_request_t *request, api_response_t *response, const char *hosts)
{
    const char *params[2] = { hosts, request->params[0] };
    PGresult   *result;
    db_error_t  error;
    bool        free_hosts;

    if (hosts == NULL) {
        return true;
    }
    result = db_query(request->db, host_owner_sql, 2, params, &error);
    if (result == NULL) {
        api_database_error(response, &error);
        return false;
    }
    free_hosts = PQntuples(result) == 0;
    if (!free_hosts) {
        api_error(response, 409, "invalid_request_error", "host_taken",
                  "host '%s' already belongs to tenant '%s'", PQgetvalue(result, 0, 1),
                  PQgetvalue(result, 0, 0));
    }
    PQclear(result);
    return free_hosts;
}

void
tenants_update(api_request_t *request, api_response_t *response)
{
    char             message[512], object[64], not_found[300], *settings = NULL;
    json_t          *body, *cap;
    llmoin_strbuf_t  hosts = LLMOIN_STRBUF_INIT;
    change_t         change = {
        .document_sql = document_locked_sql,
        .update_sql = update_sql,
        .param_count = 4,
        .action = "tenant.update",
        .object = object,
        .not_found_code = "tenant_not_found",
        .not_found_message = not_found,
    };

    body = validate_body(request->body, request->body_length, update_fields,
                         message, sizeof(message));
    if (body == NULL) {
        api_error(response, 400, "invalid_request_error", "invalid_body", "%s", message);
        return;
    }
    if (json_object_size(body) == 0) {
        api_error(response, 400, "invalid_request_error", "invalid_body",
                  "nothing to change: give name, hosts, models_restricted, max_tokens_cap, "
                  "quota_fail_mode, admin_claim or admin_value");
        json_decref(body);
        return;
    }
    cap = json_object_get(body, "max_tokens_cap");
    if (cap != NULL && (json_integer_value(cap) < MAX_TOKENS_CAP_MIN
                        || json_integer_value(cap) > MAX_TOKENS_CAP_MAX))
    {
        api_error(response, 400, "invalid_request_error", "invalid_body",
                  "field 'max_tokens_cap' must be an integer from %d to %d",
                  MAX_TOKENS_CAP_MIN, MAX_TOKENS_CAP_MAX);
        json_decref(body);
        return;
    }
    settings = json_dumps(body, JSON_COMPACT);
    change.params[0] = request->params[0];
    change.params[1] = json_string_value(json_object_get(body, "name"));
    change.params[2] = db_array_from_json(&hosts, json_object_get(body, "hosts"));
    change.params[3] = settings;
    snprintf(object, sizeof(object), "tenant:%s", request->params[0]);
    snprintf(not_found, sizeof(not_found), "tenant '%s' not found", request->params[0]);
    if (hosts_are_free(request, response, change.params[2])) {
        change_apply(request, response, &change);
    }
    free(settings);
    llmoin_strbuf_free(&hosts);
    json_decref(body);
}
