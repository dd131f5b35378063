#include "api.h"

#include "db.h"
#include "handlers.h"
#include "log.h"
#include "validate.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Operators' routes need an operator and the database. */
#define OPERATOR_ROUTE(method, pattern, handler, summary)                    \
    { method, pattern, handler, true, summary, false, false }

/* Tenant routes: operators, and tenant admins for their own tenant. */
#define TENANT_ROUTE(method, pattern, handler, summary)                      \
    { method, pattern, handler, true, summary, false, true }

/* The development identity provider answers browsers: no credential. It
 * reads the database on its own, outside a caller's scope. */
#define DEV_IDP_ROUTE(method, pattern, handler, summary)                     \
    { method, pattern, handler, false, summary, true, false }

static const api_route_t routes[] = {
    { "GET",  "/admin/v1/health", health_show, false,
      "Liveness of tenantd and its database", true, false },
    TENANT_ROUTE("GET", "/admin/v1/me", caller_show,
      "Who the caller is: operator, or admin of which tenant" ),
    OPERATOR_ROUTE("GET", "/admin/v1/tenants", tenants_list,
      "List tenants" ),
    OPERATOR_ROUTE("POST", "/admin/v1/tenants", tenants_create,
      "Create a tenant" ),
    TENANT_ROUTE("GET", "/admin/v1/tenants/{slug}", tenants_show,
      "Show a tenant" ),
    OPERATOR_ROUTE("PATCH", "/admin/v1/tenants/{slug}", tenants_update,
      "Change a tenant's name, host names, model restriction or quota settings" ),
    OPERATOR_ROUTE("POST", "/admin/v1/tenants/{slug}/suspend", tenants_suspend,
      "Suspend a tenant: its users get 403 within 2 s" ),
    OPERATOR_ROUTE("POST", "/admin/v1/tenants/{slug}/resume", tenants_resume,
      "Resume a suspended tenant" ),
    OPERATOR_ROUTE("POST", "/admin/v1/tenants/{slug}/offboard", tenants_offboard,
      "Offboard a tenant: delete every row, key and counter it has (needs confirm)" ),
    OPERATOR_ROUTE("POST", "/admin/v1/apply", tenant_apply,
      "Create or update a tenant with its issuers, models and limits from one document" ),
    TENANT_ROUTE("GET", "/admin/v1/tenants/{slug}/audit", audit_tenant_list,
      "The audit log of one tenant, newest first" ),
    OPERATOR_ROUTE("GET", "/admin/v1/audit", audit_list,
      "The audit log of the whole platform, newest first" ),
    OPERATOR_ROUTE("GET", "/admin/v1/audit/verify", audit_verify,
      "Check the audit log's hash chain: a changed or removed row is named" ),
    TENANT_ROUTE("GET", "/admin/v1/tenants/{slug}/keys", keys_list,
      "List a tenant's API keys (never the keys themselves)" ),
    TENANT_ROUTE("POST", "/admin/v1/tenants/{slug}/keys", keys_create,
      "Create an API key; the key is in this answer only" ),
    TENANT_ROUTE("POST", "/admin/v1/keys/{key_id}/revoke", keys_revoke,
      "Revoke an API key: rejected within 2 s" ),
    TENANT_ROUTE("GET", "/admin/v1/tenants/{slug}/issuers", issuers_list,
      "The identity providers a tenant trusts" ),
    TENANT_ROUTE("POST", "/admin/v1/tenants/{slug}/issuers", issuers_add,
      "Trust an identity provider for a tenant (one tenant per issuer)" ),
    TENANT_ROUTE("DELETE", "/admin/v1/issuers/{issuer_id}", issuers_remove,
      "Stop trusting an identity provider: its tokens are refused within 2 s" ),
    TENANT_ROUTE("GET", "/admin/v1/tenants/{slug}/models", tenant_models_list,
      "A tenant's model allow-list" ),
    TENANT_ROUTE("POST", "/admin/v1/tenants/{slug}/models", tenant_models_allow,
      "Allow a model for a tenant, optionally on a dedicated pool" ),
    TENANT_ROUTE("DELETE", "/admin/v1/tenants/{slug}/models", tenant_models_remove,
      "Take a model off a tenant's allow-list (?alias=...)" ),
    TENANT_ROUTE("GET", "/admin/v1/tenants/{slug}/limits", limits_list,
      "A tenant's limits, its max_tokens cap and quota fail mode" ),
    TENANT_ROUTE("PUT", "/admin/v1/tenants/{slug}/limits", limits_set,
      "Set or lift limits of a tenant, a group, a user or an API key" ),
    TENANT_ROUTE("DELETE", "/admin/v1/tenants/{slug}/limits", limits_clear,
      "Remove a row of a tenant's limits (?scope=...&subject=...)" ),
    OPERATOR_ROUTE("GET", "/admin/v1/models", models_list,
      "List model aliases" ),
    OPERATOR_ROUTE("POST", "/admin/v1/models", models_create,
      "Add or change a model alias and its pool" ),
    OPERATOR_ROUTE("GET", "/admin/v1/pools", pools_list,
      "List inference pools" ),
    OPERATOR_ROUTE("PUT", "/admin/v1/pools/{pool}", pools_set,
      "Register an inference pool (an nginx upstream llmoin_pool_<name>) or describe it anew" ),
    OPERATOR_ROUTE("DELETE", "/admin/v1/pools/{pool}", pools_remove,
      "Remove an inference pool that serves no model" ),
    TENANT_ROUTE("GET", "/admin/v1/tenants/{slug}/usage", usage_report,
      "Usage of a tenant grouped by day, month, user, group, model or function" ),
    OPERATOR_ROUTE("GET", "/admin/v1/reports/monthly", usage_report_monthly,
      "Usage of every tenant in a calendar month, per tenant and per model" ),
    OPERATOR_ROUTE("POST", "/admin/v1/tenants/{slug}/dev-idp", dev_idp_enable,
      "Sign the tenant's users in with the development identity provider" ),
    OPERATOR_ROUTE("DELETE", "/admin/v1/tenants/{slug}/dev-idp", dev_idp_disable,
      "Stop the development identity provider for the tenant" ),
    OPERATOR_ROUTE("POST", "/admin/v1/tenants/{slug}/dev-token", dev_idp_mint_token,
      "Mint a token for a user of a development tenant" ),
    DEV_IDP_ROUTE("GET", "/dev-idp/{slug}/.well-known/openid-configuration",
      dev_idp_discovery, "OpenID discovery document of a development tenant" ),
    DEV_IDP_ROUTE("GET", "/dev-idp/{slug}/jwks", dev_idp_jwks,
      "Public keys of a development tenant's identity provider" ),
    DEV_IDP_ROUTE("GET", "/dev-idp/{slug}/authorize", dev_idp_authorize_form,
      "Sign-in form (authorization code flow with PKCE)" ),
    DEV_IDP_ROUTE("POST", "/dev-idp/{slug}/authorize", dev_idp_authorize_submit,
      "Sign in and return to the client with a code" ),
    DEV_IDP_ROUTE("POST", "/dev-idp/{slug}/token", dev_idp_token,
      "Exchange a code and its PKCE verifier for tokens" ),
};

#define ROUTE_COUNT (sizeof(routes) / sizeof(routes[0]))

static const tenantd_config_t *api_config;

/* Each HTTP server thread keeps its own connection; the key's destructor
 * closes it when the thread ends (at http_stop). */
static pthread_key_t           database_key;

static void
close_database(void *conn)
{
    PQfinish(conn);
}

void
api_init(const tenantd_config_t *config)
{
    api_config = config;
    pthread_key_create(&database_key, close_database);
}

/* What a path parameter must look like, by its name in the route pattern.
 * A value that cannot exist is a bad request, not an unknown object. */
static const field_spec_t path_parameters[] = {
    { "slug", JSON_STRING, true, false, 32, "^[a-z][a-z0-9-]{1,31}$",
      "a tenant slug: 2 to 32 lowercase letters, digits or dashes, starting with a letter", 0 },
    { "key_id", JSON_STRING, true, false, 20, "^key_[0-9a-f]{16}$",
      "a key id: key_ and 16 lowercase hex digits", 0 },
    { "issuer_id", JSON_STRING, true, false, 18, "^[1-9][0-9]{0,17}$",
      "an issuer id: a positive number", 0 },
    { "pool", JSON_STRING, true, false, 32, "^[a-z][a-z0-9_]{0,31}$",
      "a pool name: a lowercase letter, then up to 31 lowercase letters, digits or _", 0 },
    FIELD_SPEC_END
};

static bool
check_path_parameters(const api_route_t *route, api_request_t *request,
                      api_response_t *response)
{
    const field_spec_t *spec;
    const char         *name = route->pattern;
    char                message[300];
    size_t              index = 0, length;

    while ((name = strchr(name, '{')) != NULL && index < API_MAX_PATH_PARAMS) {
        name++;
        length = strcspn(name, "}");
        for (spec = path_parameters; spec->name != NULL; spec++) {
            if (strlen(spec->name) == length && strncmp(spec->name, name, length) == 0
                && !validate_string(spec, request->params[index], message,
                                    sizeof(message)))
            {
                api_error(response, 400, "invalid_request_error", "invalid_parameter",
                          "path parameter '%s' must be %s", spec->name,
                          spec->pattern_help);
                return false;
            }
        }
        index++;
    }
    return true;
}

const api_route_t *
api_routes(size_t *count)
{
    *count = ROUTE_COUNT;
    return routes;
}

void
api_response_clear(api_response_t *response)
{
    json_decref(response->body);
    free(response->raw);
    free(response->location);
    response->body = NULL;
    response->raw = NULL;
    response->location = NULL;
}

void
api_ok(api_response_t *response, int status, json_t *body)
{
    api_response_clear(response);
    response->status = status;
    response->body = body;
}

void
api_answer_query(api_request_t *request, api_response_t *response, int status,
                 const char *sql, int param_count, const char *const *params)
{
    db_error_t  error;
    bool        found;
    json_t     *document;

    document = db_query_json(request->db, sql, param_count, params, &found, &error);
    if (document == NULL) {
        api_database_error(response, &error);
        return;
    }
    api_ok(response, status, document);
}

void
api_raw(api_response_t *response, int status, const char *content_type, char *text,
        size_t length)
{
    api_response_clear(response);
    response->status = status;
    response->raw = text;
    response->raw_length = length;
    response->content_type = content_type;
}

static void
refuse_unauthorised(const api_request_t *request, api_response_t *response)
{
    if (request->via_unix_socket) {
        api_error(response, 403, "permission_error", "not_an_operator",
                  "this socket is for operators: root, tenantd's user or "
                  "members of group '%s'", api_config->socket_group);
        return;
    }
    if (request->caller.refusal_status != 0) {
        api_error(response, request->caller.refusal_status,
                  request->caller.refusal_status == 403 ? "permission_error"
                                                        : "authentication_error",
                  request->caller.refusal_code, "%s", request->caller.reason);
        return;
    }
    api_error(response, 401, "authentication_error", "token_required",
              "send 'Authorization: Bearer <token>': an operator's token of the "
              "provider's issuer or a tenant admin's token of the tenant's issuer");
}

/* The code layer of tenant isolation, before any handler runs: a tenant
 * admin reaches tenant routes only, and only those of its own tenant. Another
 * tenant is answered exactly like a tenant that does not exist. */
static bool
authorise(const api_route_t *route, const api_request_t *request,
          api_response_t *response)
{
    if (route->anonymous || request->caller.role == API_ROLE_OPERATOR) {
        return true;
    }
    if (route->tenant_admins && request->caller.tenant_suspended
        && strcmp(route->method, "GET") != 0)
    {
        api_error(response, 403, "permission_error", "tenant_suspended",
                  "tenant '%s' is suspended: its admins may look, not change; ask the "
                  "provider's operators", request->caller.tenant_slug);
        return false;
    }
    if (!route->tenant_admins) {
        api_error(response, 403, "permission_error", "operators_only",
                  "%s %s is for the provider's operators; a tenant admin of '%s' may "
                  "not use it", route->method, route->pattern, request->caller.tenant_slug);
        return false;
    }
    if (strstr(route->pattern, "{slug}") != NULL
        && strcmp(request->params[0], request->caller.tenant_slug) != 0)
    {
        api_error(response, 404, "invalid_request_error", "tenant_not_found",
                  "tenant '%s' not found", request->params[0]);
        return false;
    }
    return true;
}

bool
api_require_operator(const api_request_t *request, api_response_t *response,
                     const char *what)
{
    if (request->caller.role == API_ROLE_OPERATOR) {
        return true;
    }
    api_error(response, 403, "permission_error", "operators_only",
              "%s: only the provider's operators may set this", what);
    return false;
}

bool
api_may_act_on(const api_request_t *request, const char *tenant_id)
{
    return request->caller.role == API_ROLE_OPERATOR
           || (request->caller.role == API_ROLE_TENANT_ADMIN && tenant_id != NULL
               && strcmp(request->caller.tenant_id, tenant_id) == 0);
}

void
api_error(api_response_t *response, int status, const char *type,
          const char *code, const char *format, ...)
{
    char    message[1024];
    va_list args;

    va_start(args, format);
    vsnprintf(message, sizeof(message), format, args);
    va_end(args);

    api_ok(response, status,
           json_pack("{s:{s:s,s:s,s:s}}", "error", "message", message,
                     "type", type, "code", code));
}

void
api_database_error(api_response_t *response, const db_error_t *error)
{
    log_error("event=database_error sqlstate=%s message=\"%s\"",
              error->sqlstate[0] ? error->sqlstate : "-", error->message);
    if (strcmp(error->sqlstate, "23505") == 0) {
        api_error(response, 409, "invalid_request_error", "conflict", "%s", error->message);
        return;
    }
    if (error->sqlstate[0] == '\0' || strncmp(error->sqlstate, "08", 2) == 0) {
        api_error(response, 503, "server_error", "database_unavailable",
                  "the database is unavailable; try again shortly");
        return;
    }
    api_error(response, 500, "server_error", "database_error",
              "the database rejected the change (SQLSTATE %s)", error->sqlstate);
}

const char *
api_query(api_request_t *request, const char *name)
{
    return request->query != NULL ? request->query(request->query_context, name)
                                   : NULL;
}

/* Matches "/admin/v1/tenants/{slug}" against a path, capturing segments in
 * braces. Segments may not be empty and may not contain '/'. */
static bool
match_pattern(const char *pattern, const char *path,
              const char *params[API_MAX_PATH_PARAMS],
              char storage[API_MAX_PATH_PARAMS][256])
{
    size_t count = 0, length;

    while (*pattern != '\0' && *path != '\0') {
        if (*pattern == '{') {
            length = strcspn(path, "/");
            if (length == 0 || count == API_MAX_PATH_PARAMS) {
                return false;
            }
            /* Too long to be any parameter: kept empty, so that its check
             * refuses it (400) rather than no route matching (404). */
            memcpy(storage[count], path, length < 256 ? length : 0);
            storage[count][length < 256 ? length : 0] = '\0';
            params[count] = storage[count];
            count++;
            path += length;
            pattern = strchr(pattern, '}') + 1;
            continue;
        }
        if (*pattern++ != *path++) {
            return false;
        }
    }
    return *pattern == '\0' && *path == '\0';
}

/* One slow report or lock wait must not hold the API thread for long. */
#define API_STATEMENT_TIMEOUT "SET statement_timeout = '15s'"

PGconn *
api_database(db_error_t *error)
{
    PGconn *conn = pthread_getspecific(database_key);
    int     rc;

    rc = db_ensure_connected(&conn, api_config->database, error);
    pthread_setspecific(database_key, conn);
    if (rc == 1 && db_exec(conn, API_STATEMENT_TIMEOUT, 0, NULL, error) != 0) {
        return NULL;
    }
    return rc >= 0 ? conn : NULL;
}

static bool
connect_database(api_request_t *request, api_response_t *response)
{
    db_error_t error;

    request->db = api_database(&error);
    if (request->db == NULL) {
        api_database_error(response, &error);
        return false;
    }
    return true;
}

/* The caller's scope for row-level security (schema/0006_tenant_admins.sql):
 * every statement of the request runs as llmoin_api, which sees what
 * app.role and app.tenant_id allow. */
static const char scope_sql[] =
    "SELECT set_config('role', 'llmoin_api', true),"
    " set_config('app.role', $1, true), set_config('app.tenant_id', $2, true),"
    " set_config('app.actor', $3, true)";

static bool
open_transaction(api_request_t *request, api_response_t *response)
{
    const char *params[3];
    db_error_t  error;

    params[0] = request->caller.role == API_ROLE_OPERATOR ? "operator" : "tenant_admin";
    params[1] = request->caller.tenant_id;
    params[2] = request->caller.name;
    if (db_begin(request->db, &error) != 0
        || db_exec(request->db, scope_sql, 3, params, &error) != 0)
    {
        db_rollback(request->db);
        api_database_error(response, &error);
        return false;
    }
    return true;
}

static void
close_transaction(api_request_t *request, api_response_t *response)
{
    db_error_t error;

    if (response->status >= 400) {
        db_rollback(request->db);
        return;
    }
    /* COMMIT of a failed transaction answers ROLLBACK without an error: a
     * handler that answered success after a failed statement wrote nothing. */
    if (PQtransactionStatus(request->db) != PQTRANS_INTRANS) {
        db_rollback(request->db);
        api_error(response, 500, "server_error", "database_error",
                  "the change could not be completed; nothing was written");
        log_error("event=transaction_failed_unnoticed");
        return;
    }
    if (db_commit(request->db, &error) != 0) {
        db_rollback(request->db);
        api_database_error(response, &error);
        return;
    }
    if (response->after_commit != NULL) {
        response->after_commit();
    }
}

int
api_begin(api_request_t *request, db_error_t *error)
{
    return db_exec(request->db, "SAVEPOINT api_change", 0, NULL, error);
}

int
api_commit(api_request_t *request, db_error_t *error)
{
    return db_exec(request->db, "RELEASE SAVEPOINT api_change", 0, NULL, error);
}

void
api_rollback(api_request_t *request)
{
    PGresult *result;

    if (request->db == NULL || PQtransactionStatus(request->db) == PQTRANS_IDLE) {
        return;
    }
    result = PQexec(request->db, "ROLLBACK TO SAVEPOINT api_change");
    PQclear(result);
}

/* "GET, PATCH": the methods of the routes whose pattern matches path. */
static void
allowed_methods(const char *path, char *allow, size_t size)
{
    static __thread char storage[API_MAX_PATH_PARAMS][256];
    const char          *params[API_MAX_PATH_PARAMS];
    size_t               i, used = 0;

    allow[0] = '\0';
    for (i = 0; i < ROUTE_COUNT; i++) {
        if (match_pattern(routes[i].pattern, path, params, storage) && used < size) {
            used += (size_t) snprintf(allow + used, size - used, "%s%s",
                                      used > 0 ? ", " : "", routes[i].method);
        }
    }
}

void
api_dispatch(api_request_t *request, api_response_t *response)
{
    static __thread char storage[API_MAX_PATH_PARAMS][256];
    const api_route_t   *route;
    bool                 path_known = false;
    size_t               i;

    memset(response, 0, sizeof(*response));
    response->status = 500;

    for (i = 0; i < ROUTE_COUNT; i++) {
        route = &routes[i];
        if (!match_pattern(route->pattern, request->path, request->params, storage)) {
            continue;
        }
        path_known = true;
        if (strcmp(route->method, request->method) != 0) {
            continue;
        }
        if (!route->anonymous && request->caller.role == API_ROLE_NONE) {
            refuse_unauthorised(request, response);
            return;
        }
        if (!check_path_parameters(route, request, response)
            || !authorise(route, request, response))
        {
            return;
        }
        if (route->needs_database && !connect_database(request, response)) {
            return;
        }
        if (route->anonymous || !route->needs_database) {
            route->handler(request, response);
            db_rollback(request->db);
            return;
        }
        if (open_transaction(request, response)) {
            route->handler(request, response);
            close_transaction(request, response);
        }
        return;
    }

    if (path_known) {
        allowed_methods(request->path, response->allow, sizeof(response->allow));
        api_error(response, 405, "invalid_request_error", "method_not_allowed",
                  "%s is not allowed on %s", request->method, request->path);
        return;
    }
    api_error(response, 404, "invalid_request_error", "not_found",
              "no such endpoint: %s %s", request->method, request->path);
}
