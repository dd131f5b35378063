/* A tenant's limits (schema/0004_quotas.sql, common/quota.h): rows of
 * requests per minute, tokens per minute, requests in flight and tokens per
 * Berlin month for the tenant as a whole, a group, a user or an API key;
 * subject "" of group, user or key is the default for every one without a
 * row of its own. null in a kind means no limit; a row whose kinds are all
 * null is no row. The gateway reads them from the snapshot (a trigger on
 * limits re-renders it). */
#include "audit.h"
#include "handlers.h"
#include "validate.h"

#include "quota.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUBJECT_MAX 200 /* limits_subject_length in schema/0004_quotas.sql; put_fields */
#define KEY_ID_PATTERN "^key_[0-9a-f]{16}$"

/* What tenantd accepts, in the order documents show them. */
static const field_spec_t put_fields[] = {
    { "scope", JSON_STRING, true, false, 6, "^(tenant|group|user|key)$",
      "tenant, group, user or key", 0 },
    { "subject", JSON_STRING, true, false, 200, "^[^[:cntrl:]]*$",
      "a name without control characters, or \"\" for the default", 0 },
    { "rpm", JSON_INTEGER, false, true, 0, NULL, NULL, 0 },
    { "tpm", JSON_INTEGER, false, true, 0, NULL, NULL, 0 },
    { "concurrent", JSON_INTEGER, false, true, 0, NULL, NULL, 0 },
    { "monthly_tokens", JSON_INTEGER, false, true, 0, NULL, NULL, 0 },
    FIELD_SPEC_END
};

const struct field_spec *const limits_put_fields = put_fields;

/* The four kinds and the largest value each column holds. */
static const struct limit_kind {
    const char *name;
    long long   max;
} kinds[] = {
    { "rpm", 2147483647LL },
    { "tpm", 9223372036854775807LL },
    { "concurrent", 2147483647LL },
    { "monthly_tokens", 9223372036854775807LL },
};

#define KIND_COUNT (sizeof(kinds) / sizeof(kinds[0]))

/* Tenant first, then groups, users and keys (common/quota.h's order); the
 * default ("") first within each. */
static const char list_sql[] =
    "SELECT json_build_object('tenant', t.slug, 'max_tokens_cap', t.max_tokens_cap,"
    " 'quota_fail_mode', t.quota_fail_mode,"
    " 'data', coalesce((SELECT json_agg(d.doc ORDER BY"
    "     array_position(ARRAY['tenant', 'group', 'user', 'key'], d.scope), d.subject)"
    "   FROM api_limit_docs d WHERE d.tenant_id = t.id), '[]'))"
    " FROM tenants t WHERE t.id = $1::bigint";

/* Changes to one tenant's limits take turns, so that the audit log's
 * before is what each change found. */
static const char lock_tenant_sql[] =
    "SELECT 1 FROM tenants WHERE id = $1::bigint FOR NO KEY UPDATE";

static const char document_sql[] =
    "SELECT doc::text FROM api_limit_docs"
    " WHERE tenant_id = $1::bigint AND scope = $2 AND subject = $3";

static const char key_sql[] =
    "SELECT 1 FROM api_keys WHERE id = $1 AND tenant_id = $2::bigint";

/* $4 is the body: a kind it names is set (null lifts it), one it leaves
 * out stays as it is (unlimited on a new row). */
static const char upsert_sql[] =
    "INSERT INTO limits (tenant_id, scope, subject, rpm, tpm, concurrent, monthly_tokens)"
    " VALUES ($1::bigint, $2, $3, ($4::jsonb->>'rpm')::integer, ($4::jsonb->>'tpm')::bigint,"
    "         ($4::jsonb->>'concurrent')::integer, ($4::jsonb->>'monthly_tokens')::bigint)"
    " ON CONFLICT (tenant_id, scope, subject) DO UPDATE SET"
    "  rpm = CASE WHEN $4::jsonb ? 'rpm' THEN EXCLUDED.rpm ELSE limits.rpm END,"
    "  tpm = CASE WHEN $4::jsonb ? 'tpm' THEN EXCLUDED.tpm ELSE limits.tpm END,"
    "  concurrent = CASE WHEN $4::jsonb ? 'concurrent' THEN EXCLUDED.concurrent"
    "                    ELSE limits.concurrent END,"
    "  monthly_tokens = CASE WHEN $4::jsonb ? 'monthly_tokens' THEN EXCLUDED.monthly_tokens"
    "                        ELSE limits.monthly_tokens END";

static const char drop_unlimited_sql[] =
    "DELETE FROM limits WHERE tenant_id = $1::bigint AND scope = $2 AND subject = $3"
    " AND rpm IS NULL AND tpm IS NULL AND concurrent IS NULL AND monthly_tokens IS NULL";

static const char delete_sql[] =
    "DELETE FROM limits WHERE tenant_id = $1::bigint AND scope = $2 AND subject = $3";

/* What a tenant lacks when a row is absent, in words: "limits for user
 * 'alice'", "default limits for users", "limits for the tenant as a whole". */
static void
describe_absent(char *out, size_t size, const char *scope, const char *subject)
{
    if (strcmp(scope, "tenant") == 0) {
        snprintf(out, size, "limits for the tenant as a whole");
    } else if (subject[0] == '\0') {
        snprintf(out, size, "default limits for %ss", scope);
    } else {
        snprintf(out, size, "limits for %s '%s'", scope, subject);
    }
}

/* The audit log's object: tenant:hamburg/limit:user:alice, and
 * tenant:hamburg/limit:user for the default (limit:tenant for the tenant). */
static void
audit_object(char *out, size_t size, const char *slug, const char *scope, const char *subject)
{
    snprintf(out, size, "tenant:%s/limit:%s%s%s", slug, scope, subject[0] ? ":" : "", subject);
}

static bool
is_key_id(const char *text)
{
    const field_spec_t spec = { "subject", JSON_STRING, true, false, 20, KEY_ID_PATTERN,
                                "a key id", 0 };
    char               ignored[128];

    return validate_string(&spec, text, ignored, sizeof(ignored));
}

/* What a subject must be for its scope (beyond put_fields): NULL when it
 * fits, else why not. `what` names it: "field 'subject'". */
static const char *
subject_problem(const char *scope, const char *subject, const char *what, char *message,
                size_t size)
{
    if (strlen(subject) >= LLMOIN_QUOTA_SUBJECT_MAX) {
        /* The gateway leaves longer names out of its plans (common/quota.c). */
        snprintf(message, size, "%s must be at most %d bytes long in UTF-8", what,
                 LLMOIN_QUOTA_SUBJECT_MAX - 1);
    } else if (strcmp(scope, "tenant") == 0 && subject[0] != '\0') {
        snprintf(message, size, "%s must be \"\" for scope 'tenant' (the tenant as a whole)",
                 what);
    } else if (strcmp(scope, "group") == 0 && strchr(subject, ',') != NULL) {
        snprintf(message, size, "%s must be a group name without commas", what);
    } else if (strcmp(scope, "key") == 0 && subject[0] != '\0' && !is_key_id(subject)) {
        snprintf(message, size, "%s must be a key id (key_ and 16 lowercase hex digits) "
                 "or \"\" for the default of every key", what);
    } else {
        return NULL;
    }
    return message;
}

/* NULL when every kind in the body is null or in range, else why not; at
 * least one kind must be there. */
static const char *
kinds_problem(const json_t *body, char *message, size_t size)
{
    const json_t *value;
    size_t        i, given = 0;

    for (i = 0; i < KIND_COUNT; i++) {
        value = json_object_get(body, kinds[i].name);
        if (value == NULL) {
            continue;
        }
        given++;
        if (json_is_integer(value)
            && (json_integer_value(value) < 0 || json_integer_value(value) > kinds[i].max))
        {
            snprintf(message, size, "field '%s' must be an integer from 0 to %lld, "
                     "or null to lift the limit", kinds[i].name, kinds[i].max);
            return message;
        }
    }
    if (given == 0) {
        snprintf(message, size, "nothing to set: give rpm, tpm, concurrent or "
                 "monthly_tokens (null lifts one)");
        return message;
    }
    return NULL;
}

static void
answer_list(api_request_t *request, api_response_t *response, const char *tenant_id)
{
    api_answer_query(request, response, 200, list_sql, 1, &tenant_id);
}

void
limits_list(api_request_t *request, api_response_t *response)
{
    tenants_answer_list(request, response, list_sql);
}

/* Reads the row's document into *document: 1 found, 0 absent (*document
 * NULL), -1 on a database error. */
static int
read_limit(PGconn *conn, const char *const params[3], json_t **document, db_error_t *error)
{
    PGresult     *result;
    json_error_t  parse_error;

    *document = NULL;
    result = db_query(conn, document_sql, 3, params, error);
    if (result == NULL) {
        return -1;
    }
    if (PQntuples(result) == 0) {
        PQclear(result);
        return 0;
    }
    *document = json_loads(PQgetvalue(result, 0, 0), 0, &parse_error);
    PQclear(result);
    if (*document == NULL) {
        error->sqlstate[0] = '\0';
        snprintf(error->message, sizeof(error->message), "bad document JSON: %s",
                 parse_error.text);
        return -1;
    }
    return 1;
}

/* 1 when the key belongs to the tenant, 0 when not (404 answered), -1 on
 * a database error (answered). */
static int
key_of_tenant(api_request_t *request, api_response_t *response, const char *tenant_id,
              const char *key_id)
{
    const char *params[2] = { key_id, tenant_id };
    PGresult   *result;
    db_error_t  error;
    int         found;

    result = db_query(request->db, key_sql, 2, params, &error);
    if (result == NULL) {
        api_database_error(response, &error);
        return -1;
    }
    found = PQntuples(result) > 0;
    PQclear(result);
    if (!found) {
        api_error(response, 404, "invalid_request_error", "key_not_found",
                  "tenant '%s' has no API key '%s'", request->params[0], key_id);
    }
    return found;
}

/* Records a change (nothing when it changed nothing) and commits. */
static int
record_and_commit(api_request_t *request, const char *tenant_id, const char *action,
                  const char *object, const json_t *before, const json_t *after,
                  db_error_t *error)
{
    bool same = before == NULL ? after == NULL : after != NULL && json_equal(before, after);

    if (!same && audit_record(request->db, &request->caller, tenant_id, action, object,
                              before, after, error) != 0)
    {
        return -1;
    }
    return api_commit(request, error);
}

static void
store_limit(api_request_t *request, api_response_t *response, const char *tenant_id,
            const char *scope, const char *subject, const char *body)
{
    const char *row[3] = { tenant_id, scope, subject };
    const char *params[4] = { tenant_id, scope, subject, body };
    char        object[1100];
    json_t     *before = NULL, *after = NULL;
    db_error_t  error;

    audit_object(object, sizeof(object), request->params[0], scope, subject);
    if (body == NULL) {
        error.sqlstate[0] = '\0';
        snprintf(error.message, sizeof(error.message), "out of memory");
        api_database_error(response, &error);
        return;
    }
    if (api_begin(request, &error) != 0) {
        api_database_error(response, &error);
        return;
    }
    if (db_exec(request->db, lock_tenant_sql, 1, &tenant_id, &error) != 0
        || read_limit(request->db, row, &before, &error) < 0
        || db_exec(request->db, upsert_sql, 4, params, &error) != 0
        || db_exec(request->db, drop_unlimited_sql, 3, row, &error) != 0
        || read_limit(request->db, row, &after, &error) < 0
        || record_and_commit(request, tenant_id, "tenant.limit.set", object, before, after,
                             &error) != 0)
    {
        api_rollback(request);
        api_database_error(response, &error);
    } else {
        answer_list(request, response, tenant_id);
    }
    json_decref(before);
    json_decref(after);
}

void
limits_set(api_request_t *request, api_response_t *response)
{
    char        message[512], tenant_id[24];
    const char *scope, *subject;
    char       *text;
    json_t     *body;

    body = validate_body(request->body, request->body_length, put_fields, message,
                         sizeof(message));
    if (body == NULL) {
        api_error(response, 400, "invalid_request_error", "invalid_body", "%s", message);
        return;
    }
    scope = json_string_value(json_object_get(body, "scope"));
    subject = json_string_value(json_object_get(body, "subject"));
    if (subject_problem(scope, subject, "field 'subject'", message, sizeof(message)) != NULL
        || kinds_problem(body, message, sizeof(message)) != NULL)
    {
        api_error(response, 400, "invalid_request_error", "invalid_body", "%s", message);
        json_decref(body);
        return;
    }
    if ((strcmp(scope, "tenant") != 0
         || api_require_operator(request, response, "limits of scope 'tenant'"))
        && tenants_find(request, response, tenant_id) == 1
        && (strcmp(scope, "key") != 0 || subject[0] == '\0'
            || key_of_tenant(request, response, tenant_id, subject) == 1))
    {
        text = json_dumps(body, JSON_COMPACT);
        store_limit(request, response, tenant_id, scope, subject, text);
        free(text);
    }
    json_decref(body);
}

void
limits_clear(api_request_t *request, api_response_t *response)
{
    const char *scope = api_query(request, "scope"), *subject = api_query(request, "subject");
    const char *row[3];
    char        message[512], tenant_id[24], object[1100], which[1024];
    json_t     *before;
    db_error_t  error;

    if (subject == NULL) {
        subject = "";
    }
    if (scope == NULL || !validate_string(&put_fields[0], scope, message, sizeof(message))) {
        api_error(response, 400, "invalid_request_error", "invalid_parameter",
                  "parameter 'scope' must be tenant, group, user or key");
        return;
    }
    if (!validate_string(&put_fields[1], subject, message, sizeof(message))) {
        api_error(response, 400, "invalid_request_error", "invalid_parameter",
                  "parameter 'subject' must be a name of at most %d characters without "
                  "control characters, or empty for the default", SUBJECT_MAX);
        return;
    }
    if (subject_problem(scope, subject, "parameter 'subject'", message, sizeof(message))
        != NULL)
    {
        api_error(response, 400, "invalid_request_error", "invalid_parameter", "%s", message);
        return;
    }
    if ((strcmp(scope, "tenant") == 0
         && !api_require_operator(request, response, "limits of scope 'tenant'"))
        || tenants_find(request, response, tenant_id) != 1)
    {
        return;
    }
    row[0] = tenant_id;
    row[1] = scope;
    row[2] = subject;
    audit_object(object, sizeof(object), request->params[0], scope, subject);
    if (api_begin(request, &error) != 0) {
        api_database_error(response, &error);
        return;
    }
    if (db_exec(request->db, lock_tenant_sql, 1, row, &error) != 0
        || read_limit(request->db, row, &before, &error) < 0)
    {
        api_rollback(request);
        api_database_error(response, &error);
        return;
    }
    if (before == NULL) {
        api_rollback(request);
        describe_absent(which, sizeof(which), scope, subject);
        api_error(response, 404, "invalid_request_error", "limit_not_found",
                  "tenant '%s' has no %s", request->params[0], which);
        return;
    }
    if (db_exec(request->db, delete_sql, 3, row, &error) != 0
        || record_and_commit(request, tenant_id, "tenant.limit.clear", object, before, NULL,
                             &error) != 0)
    {
        api_rollback(request);
        api_database_error(response, &error);
    } else {
        answer_list(request, response, tenant_id);
    }
    json_decref(before);
}
