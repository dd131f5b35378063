/* Identity providers a tenant trusts: list, add, remove. An issuer URL is
 * bound to exactly one tenant. Keys come inline (jwks) or from jwks_uri,
 * which jwks_fetch.c fetches and refreshes. */
#include "audit.h"
#include "caller.h"
#include "change.h"
#include "handlers.h"
#include "jwks_fetch.h"
#include "validate.h"

#include "jwk.h"

#include <stdio.h>
#include <string.h>

/* https anywhere; plain http only on this machine (the development
 * identity provider, tests). */
#define URL_PATTERN                                                          \
    "^(https://[^[:space:][:cntrl:]]+|http://(127\\.0\\.0\\.1|localhost)(:[0-9]+)?(/[^[:space:][:cntrl:]]*)?)$"
#define URL_HELP "an https URL (http only for 127.0.0.1 or localhost)"
#define CLAIM_PATTERN "^[A-Za-z0-9_.:-]{1,64}$"
#define CLAIM_HELP "a claim name of letters, digits and _ . : -"

static const field_spec_t add_fields[] = {
    { "issuer", JSON_STRING, true, false, 500, URL_PATTERN, URL_HELP, 0 },
    { "audience", JSON_STRING, true, false, 200, "^[^[:cntrl:]]+$",
      "a non-empty audience without control characters", 0 },
    { "jwks_uri", JSON_STRING, false, true, 500, URL_PATTERN, URL_HELP, 0 },
    { "jwks", JSON_OBJECT, false, true, 0, NULL, NULL, 0 },
    { "user_claim", JSON_STRING, false, false, 64, CLAIM_PATTERN, CLAIM_HELP, 0 },
    { "groups_claim", JSON_STRING, false, true, 64, CLAIM_PATTERN, CLAIM_HELP, 0 },
    { "leeway_seconds", JSON_INTEGER, false, false, 0, NULL, NULL, 0 },
    FIELD_SPEC_END
};

const struct field_spec *const issuers_add_fields = add_fields;

static const char list_sql[] =
    "SELECT json_build_object('data', coalesce(json_agg(doc ORDER BY id), '[]'))"
    " FROM api_issuer_docs WHERE tenant_id = $1::bigint";

/* The most identity providers one tenant trusts. Keys of every issuer with
 * a jwks_uri are fetched one after another (jwks_fetch.c): a tenant with
 * many slow issuers would hold up every other tenant's key rotation. */
#define ISSUERS_PER_TENANT 10

/* No row when the tenant has ISSUERS_PER_TENANT already. */
static const char insert_sql[] =
    "INSERT INTO tenant_issuers (tenant_id, issuer, audience, jwks_uri, jwks,"
    " user_claim, groups_claim, leeway_seconds)"
    " SELECT $1::bigint, $2, $3, $4, $5::jsonb, coalesce($6, 'sub'), $7,"
    " coalesce($8::integer, 60)"
    " WHERE (SELECT count(*) FROM tenant_issuers WHERE tenant_id = $1::bigint) < 10"
    " RETURNING id::text";
_Static_assert(ISSUERS_PER_TENANT == 10, "insert_sql says 10");

static const char document_sql[] =
    "SELECT tenant_id::text, doc FROM api_issuer_docs WHERE id = $1::bigint";

static const char owner_sql[] =
    "SELECT t.slug FROM tenant_issuers i JOIN tenants t ON t.id = i.tenant_id"
    " WHERE i.issuer = $1";

static const char delete_sql[] = "DELETE FROM tenant_issuers WHERE id = $1::bigint";

void
issuers_list(api_request_t *request, api_response_t *response)
{
    tenants_answer_list(request, response, list_sql);
}

/* Exactly one key source, and inline keys must hold a usable signing key. */
static bool
keys_are_valid(const json_t *body, char *message, size_t message_size)
{
    const json_t *uri = json_object_get(body, "jwks_uri");
    const json_t *jwks = json_object_get(body, "jwks");
    const json_t *leeway = json_object_get(body, "leeway_seconds");
    llmoin_jwks_t keys;
    size_t        skipped;
    char          reason[256];

    if ((uri == NULL || json_is_null(uri)) == (jwks == NULL || json_is_null(jwks))) {
        snprintf(message, message_size, "give exactly one of 'jwks_uri' and 'jwks'");
        return false;
    }
    if (leeway != NULL && (json_integer_value(leeway) < 0 || json_integer_value(leeway) > 600)) {
        snprintf(message, message_size, "field 'leeway_seconds' must be between 0 and 600");
        return false;
    }
    if (jwks == NULL || json_is_null(jwks)) {
        return true;
    }
    if (llmoin_jwks_parse(jwks, &keys, &skipped, reason, sizeof(reason)) != 0) {
        snprintf(message, message_size, "field 'jwks': %s", reason);
        return false;
    }
    if (keys.count == 0) {
        snprintf(message, message_size, "field 'jwks' holds no usable signing key "
                 "(RSA of at least 2048 bits for RS256/PS256, or EC P-256 for ES256)");
        llmoin_jwks_free(&keys);
        return false;
    }
    llmoin_jwks_free(&keys);
    return true;
}

static void
answer_conflict(api_request_t *request, api_response_t *response, const char *issuer)
{
    PGresult   *result;
    db_error_t  error;

    result = db_query(request->db, owner_sql, 1, &issuer, &error);
    /* A tenant admin does not see the other tenant (row-level security). */
    if (result != NULL && PQntuples(result) > 0) {
        api_error(response, 409, "invalid_request_error", "issuer_taken",
                  "issuer '%s' is already bound to tenant '%s'", issuer,
                  PQgetvalue(result, 0, 0));
    } else {
        api_error(response, 409, "invalid_request_error", "issuer_taken",
                  "issuer '%s' is already bound to another tenant", issuer);
    }
    PQclear(result);
}

static int
insert_issuer(PGconn *conn, const char *params[8], char id[24], db_error_t *error)
{
    PGresult *result = db_query(conn, insert_sql, 8, params, error);
    int       inserted;

    if (result == NULL) {
        return -1;
    }
    inserted = PQntuples(result);
    if (inserted == 1) {
        snprintf(id, 24, "%s", PQgetvalue(result, 0, 0));
    }
    PQclear(result);
    return inserted == 1 ? 0 : 1;
}

static void
store_issuer(api_request_t *request, api_response_t *response, const char *tenant_id,
             json_t *body)
{
    char        *jwks_text = NULL, id[24], ignored[24], object[600], leeway[24];
    const char  *params[8];
    int          inserted = -1;
    const json_t *jwks = json_object_get(body, "jwks");
    json_t      *document = NULL;
    db_error_t   error;

    if (jwks != NULL && !json_is_null(jwks)) {
        jwks_text = json_dumps(jwks, JSON_COMPACT);
    }
    snprintf(leeway, sizeof(leeway), "%lld",
             (long long) json_integer_value(json_object_get(body, "leeway_seconds")));
    params[0] = tenant_id;
    params[1] = json_string_value(json_object_get(body, "issuer"));
    params[2] = json_string_value(json_object_get(body, "audience"));
    params[3] = json_string_value(json_object_get(body, "jwks_uri"));
    params[4] = jwks_text;
    params[5] = json_string_value(json_object_get(body, "user_claim"));
    params[6] = json_string_value(json_object_get(body, "groups_claim"));
    params[7] = json_object_get(body, "leeway_seconds") != NULL ? leeway : NULL;
    snprintf(object, sizeof(object), "issuer:%.500s", params[1]);

    if (api_begin(request, &error) != 0
        || (inserted = insert_issuer(request->db, params, id, &error)) != 0
        || change_read_document(request->db, document_sql, id, ignored, &document,
                                &error) != 1
        || audit_record(request->db, &request->caller, tenant_id, "issuer.add",
                        object, NULL, document, &error) != 0
        || api_commit(request, &error) != 0)
    {
        api_rollback(request);
        json_decref(document);
        if (inserted == 1) {
            api_error(response, 409, "invalid_request_error", "issuer_limit",
                      "tenant '%s' trusts %d identity providers already, the most there "
                      "may be; remove one first", request->params[0], ISSUERS_PER_TENANT);
        } else if (db_error_is(&error, DB_UNIQUE_VIOLATION)) {
            answer_conflict(request, response, params[1]);
        } else {
            api_database_error(response, &error);
        }
    } else {
        api_ok(response, 201, document);
        response->after_commit = jwks_fetch_wake;
    }
    free(jwks_text);
}

void
issuers_add(api_request_t *request, api_response_t *response)
{
    char        message[512], tenant_id[24];
    const char *reserved, *jwks_uri;
    json_t     *body;

    body = validate_body(request->body, request->body_length, add_fields, message,
                         sizeof(message));
    if (body == NULL || !keys_are_valid(body, message, sizeof(message))) {
        api_error(response, 400, "invalid_request_error", "invalid_body", "%s", message);
        json_decref(body);
        return;
    }
    reserved = caller_reserved_issuer(&request->caller,
                                      json_string_value(json_object_get(body, "issuer")));
    jwks_uri = json_string_value(json_object_get(body, "jwks_uri"));
    if (jwks_uri != NULL && strncmp(jwks_uri, "http://", 7) == 0
        && !api_require_operator(request, response, "field 'jwks_uri' with http:// (this "
                                 "machine)"))
    {
        json_decref(body);
        return;
    }
    if (reserved != NULL) {
        api_error(response, 403, "permission_error", "issuer_reserved",
                  "field 'issuer' cannot name this issuer: %s", reserved);
    } else if (tenants_find(request, response, tenant_id) == 1) {
        store_issuer(request, response, tenant_id, body);
    }
    json_decref(body);
}

void
issuers_remove(api_request_t *request, api_response_t *response)
{
    char     object[64], not_found[64];
    change_t change = {
        .document_sql = document_sql,
        .update_sql = delete_sql,
        .params = { request->params[0] },
        .param_count = 1,
        .action = "issuer.remove",
        .object = object,
        .not_found_code = "issuer_not_found",
        .not_found_message = not_found,
        .removes = true,
    };

    snprintf(object, sizeof(object), "issuer:%s", request->params[0]);
    snprintf(not_found, sizeof(not_found), "issuer %s not found", request->params[0]);
    change_apply(request, response, &change);
}
