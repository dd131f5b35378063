/* Operators' side of the development identity provider: mark a tenant as a
 * dev tenant (a key pair and a trusted issuer appear), unmark it, and mint
 * a token for a user without the browser dance (llmoinctl dev-token). */
#include "audit.h"
#include "dev_idp.h"
#include "dev_idp_keys.h"
#include "handlers.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const field_spec_t token_fields[] = {
    { "user", JSON_STRING, true, false, 64, "^[A-Za-z0-9._@-]+$",
      "a user name of letters, digits and . _ @ -", 0 },
    { "groups", JSON_ARRAY, false, false, 64, "^[^,[:cntrl:]]+$",
      "a list of group names without commas", 32 },
    { "ttl_seconds", JSON_INTEGER, false, false, 0, NULL, NULL, 0 },
    FIELD_SPEC_END
};

static const char mark_sql[] =
    "UPDATE tenants SET dev_idp = $2::boolean, updated_at = now() WHERE id = $1::bigint";

static const char has_key_sql[] = "SELECT 1 FROM dev_idp_keys WHERE tenant_id = $1::bigint";

static const char insert_key_sql[] =
    "INSERT INTO dev_idp_keys (tenant_id, kid, private_pem, public_jwk)"
    " VALUES ($1::bigint, $2, $3, $4::jsonb)";

/* The issuer row carries the public key inline: no fetching needed. The
 * issuer URL may already be bound to another tenant (anyone may add any
 * issuer): then nothing is written, and enabling is refused. */
static const char trust_sql[] =
    "INSERT INTO tenant_issuers (tenant_id, issuer, audience, jwks, user_claim, groups_claim)"
    " SELECT $1::bigint, $2, $3, jsonb_build_object('keys', jsonb_build_array(public_jwk)),"
    "        'preferred_username', 'groups'"
    "   FROM dev_idp_keys WHERE tenant_id = $1::bigint"
    " ON CONFLICT (issuer) DO UPDATE SET jwks = EXCLUDED.jwks"
    "   WHERE tenant_issuers.tenant_id = EXCLUDED.tenant_id";

static const char untrust_sql[] =
    "DELETE FROM tenant_issuers WHERE tenant_id = $1::bigint AND issuer = $2";

static const char forget_key_sql[] = "DELETE FROM dev_idp_keys WHERE tenant_id = $1::bigint";

static bool
provider_is_on(api_response_t *response)
{
    if (!dev_idp_enabled()) {
        api_error(response, 400, "invalid_request_error", "dev_idp_off",
                  "the development identity provider is off: start tenantd with "
                  "dev_idp = true (loopback only, never in production)");
        return false;
    }
    return true;
}

static int
ensure_key(PGconn *conn, const char *tenant_id, db_error_t *error)
{
    PGresult   *result = db_query(conn, has_key_sql, 1, &tenant_id, error);
    char       *pem = NULL, *jwk_text = NULL, kid[DEV_IDP_KID_SIZE];
    json_t     *jwk = NULL;
    const char *params[4];
    int         rc;

    if (result == NULL) {
        return -1;
    }
    rc = PQntuples(result) > 0 ? 0 : 1;
    PQclear(result);
    if (rc == 0) {
        return 0;
    }
    if (dev_idp_key_create(&pem, &jwk, kid) != 0) {
        snprintf(error->message, sizeof(error->message), "cannot create a key pair");
        snprintf(error->sqlstate, sizeof(error->sqlstate), "XX000");
        return -1;
    }
    jwk_text = json_dumps(jwk, JSON_COMPACT);
    params[0] = tenant_id;
    params[1] = kid;
    params[2] = pem;
    params[3] = jwk_text;
    rc = db_exec(conn, insert_key_sql, 4, params, error);
    free(pem);
    free(jwk_text);
    json_decref(jwk);
    return rc;
}

static json_t *
provider_document(const char *issuer)
{
    char discovery[CONFIG_STRING_MAX + 160];

    snprintf(discovery, sizeof(discovery), "%s/.well-known/openid-configuration", issuer);
    return json_pack("{s:s,s:s,s:s,s:s,s:s}", "issuer", issuer, "audience", DEV_IDP_AUDIENCE,
                     "discovery", discovery, "user_claim", "preferred_username",
                     "groups_claim", "groups");
}

void
dev_idp_enable(api_request_t *request, api_response_t *response)
{
    char        tenant_id[24], issuer[CONFIG_STRING_MAX + 64], object[64];
    const char *params[3];
    json_t     *after;
    db_error_t  error;
    int         trusted;

    if (!provider_is_on(response) || tenants_find(request, response, tenant_id) != 1) {
        return;
    }
    dev_idp_issuer(request->params[0], issuer, sizeof(issuer));
    params[0] = tenant_id;
    params[1] = issuer;
    params[2] = DEV_IDP_AUDIENCE;
    after = provider_document(issuer);
    snprintf(object, sizeof(object), "tenant:%s/dev-idp", request->params[0]);
    if (api_begin(request, &error) != 0
        || ensure_key(request->db, tenant_id, &error) != 0
        || db_exec(request->db, mark_sql, 2, (const char *[]) { tenant_id, "true" }, &error) != 0
        || (trusted = db_changed(request->db, trust_sql, 3, params, &error)) < 0)
    {
        api_rollback(request);
        json_decref(after);
        api_database_error(response, &error);
        return;
    }
    if (trusted == 0) {
        api_rollback(request);
        json_decref(after);
        api_error(response, 409, "invalid_request_error", "issuer_taken",
                  "issuer '%s' is already bound to another tenant", issuer);
        return;
    }
    if (audit_record(request->db, &request->caller, tenant_id, "tenant.dev_idp.enable",
                        object, NULL, after, &error) != 0
        || api_commit(request, &error) != 0)
    {
        api_rollback(request);
        json_decref(after);
        api_database_error(response, &error);
        return;
    }
    api_ok(response, 200, after);
}

void
dev_idp_disable(api_request_t *request, api_response_t *response)
{
    char        tenant_id[24], issuer[CONFIG_STRING_MAX + 64], object[64];
    const char *params[2];
    db_error_t  error;

    if (tenants_find(request, response, tenant_id) != 1) {
        return;
    }
    dev_idp_issuer(request->params[0], issuer, sizeof(issuer));
    params[0] = tenant_id;
    params[1] = issuer;
    snprintf(object, sizeof(object), "tenant:%s/dev-idp", request->params[0]);
    if (api_begin(request, &error) != 0
        || db_exec(request->db, mark_sql, 2, (const char *[]) { tenant_id, "false" }, &error) != 0
        || db_exec(request->db, untrust_sql, 2, params, &error) != 0
        || db_exec(request->db, forget_key_sql, 1, params, &error) != 0
        || audit_record(request->db, &request->caller, tenant_id, "tenant.dev_idp.disable",
                        object, NULL, NULL, &error) != 0
        || api_commit(request, &error) != 0)
    {
        api_rollback(request);
        api_database_error(response, &error);
        return;
    }
    api_ok(response, 200, json_pack("{s:s,s:b}", "tenant", request->params[0], "dev_idp", 0));
}

static const char *
rfc3339(long long seconds, char *out, size_t out_size)
{
    time_t    moment = (time_t) seconds;
    struct tm utc;

    gmtime_r(&moment, &utc);
    strftime(out, out_size, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return out;
}

static long
wanted_ttl(const json_t *body, long maximum, char *message, size_t message_size)
{
    const json_t *ttl = json_object_get(body, "ttl_seconds");
    long          seconds = ttl != NULL ? (long) json_integer_value(ttl) : 3600;

    if (seconds < 60 || seconds > maximum) {
        snprintf(message, message_size, "field 'ttl_seconds' must be between 60 and %ld",
                 maximum);
        return -1;
    }
    return seconds;
}

static void
mint(api_request_t *request, api_response_t *response, const json_t *body, long ttl)
{
    dev_tenant_t  tenant;
    db_error_t    error;
    char         *token = NULL, object[64], when[32];
    const char   *user = json_string_value(json_object_get(body, "user"));
    json_t       *record;
    long long     expires;
    int           state;

    state = dev_tenant_load(request->db, request->params[0], &tenant, &error);
    if (state <= 0) {
        if (state < 0) {
            api_database_error(response, &error);
        } else {
            api_error(response, 400, "invalid_request_error", "not_a_dev_tenant",
                      "tenant '%s' does not use the development identity provider",
                      request->params[0]);
        }
        return;
    }
    record = json_pack("{s:s,s:i}", "user", user, "ttl_seconds", (int) ttl);
    if (json_object_get(body, "groups") != NULL) {
        json_object_set(record, "groups", json_object_get(body, "groups"));
    }
    snprintf(object, sizeof(object), "tenant:%s/dev-token", request->params[0]);
    if (dev_idp_issue(&tenant, user, json_object_get(body, "groups"), ttl, DEV_IDP_AUDIENCE,
                      NULL, &token, &expires) != 0)
    {
        api_error(response, 500, "server_error", "signing_failed", "could not sign the token");
    } else if (audit_record(request->db, &request->caller, tenant.id, "dev_token.issue",
                            object, NULL, record, &error) != 0)
    {
        api_database_error(response, &error);
    } else {
        api_ok(response, 201, json_pack("{s:s,s:s,s:s}", "token", token, "issuer",
                                        tenant.issuer, "expires_at",
                                        rfc3339(expires, when, sizeof(when))));
    }
    json_decref(record);
    free(token);
    dev_tenant_free(&tenant);
}

void
dev_idp_mint_token(api_request_t *request, api_response_t *response)
{
    char    message[512], tenant_id[24];
    json_t *body;
    long    ttl;

    if (!provider_is_on(response) || tenants_find(request, response, tenant_id) != 1) {
        return;
    }
    body = validate_body(request->body, request->body_length, token_fields, message,
                         sizeof(message));
    ttl = body != NULL ? wanted_ttl(body, dev_token_max_ttl(), message, sizeof(message)) : -1;
    if (body == NULL || ttl < 0) {
        api_error(response, 400, "invalid_request_error", "invalid_body", "%s", message);
    } else {
        mint(request, response, body, ttl);
    }
    json_decref(body);
}
