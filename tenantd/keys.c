/* API keys: list, create (the key is returned once), revoke. */
#include "audit.h"
#include "change.h"
#include "handlers.h"
#include "validate.h"

#include "apikey.h"
#include "strbuf.h"

#include <openssl/crypto.h>

#include <stdio.h>
#include <string.h>

#define KEY_PREFIX_SHOWN 8

static const field_spec_t create_fields[] = {
    { "user", JSON_STRING, true, false, 200, "^[^[:cntrl:][:space:]]+$",
      "a non-empty user id without spaces or control characters", 0 },
    { "name", JSON_STRING, false, true, 200, "^[^[:cntrl:]]*$",
      "a label without control characters", 0 },
    { "expires_at", JSON_STRING, false, true, 40,
      "^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2})?(Z|[+-][0-9]{2}:[0-9]{2}))?$",
      "a date or an RFC 3339 time, e.g. 2027-02-27 or 2027-02-27T12:00:00Z", 0 },
    { "models", JSON_ARRAY, false, true, 200, "^[A-Za-z0-9][A-Za-z0-9._:/-]*$",
      "a list of model aliases", 64 },
    FIELD_SPEC_END
};

/* What a key may be given, checked against the database before the insert:
 * an expiry in the future (a bare date means its start in Europe/Berlin),
 * and models that exist. NULL when fine, else the first problem. */
static const char scope_check_sql[] =
    "SELECT CASE"
    "  WHEN $1::text IS NOT NULL AND llmoin_key_expiry($1) <= now()"
    "    THEN 'field ''expires_at'' must be in the future'"
    "  ELSE (SELECT format('model ''%s'' does not exist', a)"
    "          FROM unnest($2::text[]) a WHERE NOT EXISTS"
    "          (SELECT 1 FROM models m WHERE m.alias = a) LIMIT 1) END";

static const char list_sql[] =
    "SELECT json_build_object('data', coalesce(json_agg(doc ORDER BY created_at, id), '[]'))"
    " FROM api_key_docs WHERE tenant_id = $1::bigint";

static const char insert_sql[] =
    "INSERT INTO api_keys (id, tenant_id, user_id, name, key_hash, prefix,"
    " expires_at, models)"
    " VALUES ($1, $2::bigint, $3, $4, $5, $6, llmoin_key_expiry($7), $8::text[])";

static const char document_sql[] =
    "SELECT tenant_id::text, doc FROM api_key_docs WHERE id = $1";

static const char document_locked_sql[] =
    "SELECT k.tenant_id::text, d.doc FROM api_keys k"
    " JOIN api_key_docs d ON d.id = k.id WHERE k.id = $1 FOR UPDATE OF k";

static const char revoke_sql[] =
    "UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL";

void
keys_list(api_request_t *request, api_response_t *response)
{
    tenants_answer_list(request, response, list_sql);
}

typedef struct new_key {
    char id[LLMOIN_APIKEY_ID_BUFSZ];
    char secret[LLMOIN_APIKEY_BUFSZ];
    char hash[LLMOIN_APIKEY_HASH_BUFSZ];
    char prefix[KEY_PREFIX_SHOWN + 1];
} new_key_t;

static int
generate_key(new_key_t *key)
{
    if (llmoin_apikey_generate(key->secret) != 0
        || llmoin_apikey_id_generate(key->id) != 0
        || llmoin_apikey_hash(key->secret, strlen(key->secret), key->hash) != 0)
    {
        return -1;
    }
    snprintf(key->prefix, sizeof(key->prefix), "%s", key->secret);
    return 0;
}

typedef struct key_request {
    const char *user;
    const char *name;
    const char *expires_at;
    const char *models;     /* array literal or NULL */
} key_request_t;

/* true when the scope is fine; otherwise 400 is answered */
static bool
scope_is_valid(api_request_t *request, api_response_t *response,
               const key_request_t *wanted)
{
    const char *params[2] = { wanted->expires_at, wanted->models };
    PGresult   *result;
    db_error_t  error;
    bool        valid;

    result = db_query(request->db, scope_check_sql, 2, params, &error);
    if (result == NULL) {
        if (strncmp(error.sqlstate, "22", 2) == 0) {
            api_error(response, 400, "invalid_request_error", "invalid_body",
                      "field 'expires_at' is not a valid date or time");
        } else {
            api_database_error(response, &error);
        }
        return false;
    }
    valid = PQgetisnull(result, 0, 0);
    if (!valid) {
        api_error(response, 400, "invalid_request_error", "invalid_body", "%s",
                  PQgetvalue(result, 0, 0));
    }
    PQclear(result);
    return valid;
}

static void
store_key(api_request_t *request, api_response_t *response, const char *tenant_id,
          const key_request_t *wanted)
{
    new_key_t   key;
    const char *params[8];
    char        object[64], ignored[24];
    json_t     *document = NULL;
    db_error_t  error;

    if (!scope_is_valid(request, response, wanted)) {
        return;
    }

    if (generate_key(&key) != 0) {
        api_error(response, 500, "server_error", "key_generation_failed",
                  "could not draw random bytes for a new key");
        return;
    }
    params[0] = key.id;
    params[1] = tenant_id;
    params[2] = wanted->user;
    params[3] = wanted->name;
    params[4] = key.hash;
    params[5] = key.prefix;
    params[6] = wanted->expires_at;
    params[7] = wanted->models;
    snprintf(object, sizeof(object), "key:%s", key.id);

    if (api_begin(request, &error) != 0
        || db_exec(request->db, insert_sql, 8, params, &error) != 0
        || change_read_document(request->db, document_sql, key.id, ignored,
                                &document, &error) != 1
        || audit_record(request->db, &request->caller, tenant_id, "key.create",
                        object, NULL, document, &error) != 0
        || api_commit(request, &error) != 0)
    {
        api_rollback(request);
        json_decref(document);
        api_database_error(response, &error);
        return;
    }
    json_object_set_new(document, "key", json_string(key.secret));
    OPENSSL_cleanse(key.secret, sizeof(key.secret));
    api_ok(response, 201, document);
}

void
keys_create(api_request_t *request, api_response_t *response)
{
    char             message[512], tenant_id[24];
    json_t          *body;
    key_request_t    wanted;
    llmoin_strbuf_t  models = LLMOIN_STRBUF_INIT;

    body = validate_body(request->body, request->body_length, create_fields,
                         message, sizeof(message));
    if (body == NULL) {
        api_error(response, 400, "invalid_request_error", "invalid_body", "%s", message);
        return;
    }
    if (tenants_find(request, response, tenant_id) == 1) {
        wanted.user = json_string_value(json_object_get(body, "user"));
        wanted.name = json_string_value(json_object_get(body, "name"));
        wanted.expires_at = json_string_value(json_object_get(body, "expires_at"));
        wanted.models = db_array_from_json(&models, json_object_get(body, "models"));
        store_key(request, response, tenant_id, &wanted);
    }
    llmoin_strbuf_free(&models);
    json_decref(body);
}

void
keys_revoke(api_request_t *request, api_response_t *response)
{
    char     object[300], not_found[300];
    change_t change = {
        .document_sql = document_locked_sql,
        .update_sql = revoke_sql,
        .params = { request->params[0] },
        .param_count = 1,
        .action = "key.revoke",
        .object = object,
        .not_found_code = "key_not_found",
        .not_found_message = not_found,
    };

    snprintf(object, sizeof(object), "key:%s", request->params[0]);
    snprintf(not_found, sizeof(not_found), "API key '%s' not found", request->params[0]);
    change_apply(request, response, &change);
}
