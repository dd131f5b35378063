#include "caller.h"

#include "db.h"
#include "dev_idp.h"
#include "handlers.h"
#include "log.h"

#include "jwt.h"
#include "token.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

/* Clock skew tolerated on operator tokens (tenant issuers have their own). */
#define OPERATOR_LEEWAY_SECONDS 60

static const tenantd_config_t *caller_config;

/* The operator issuer's keys, read again when the file changes. */
static pthread_mutex_t operator_keys_lock = PTHREAD_MUTEX_INITIALIZER;
static llmoin_jwks_t   operator_keys;
static struct timespec operator_keys_mtime;

/* The issuer a token names, with its tenant and that tenant's admin role. */
static const char issuer_sql[] =
    "SELECT t.id::text, t.slug, t.admin_claim, t.admin_value, i.audience,"
    " i.jwks::text, i.user_claim, i.leeway_seconds, t.status = 'suspended'"
    " FROM tenant_issuers i JOIN tenants t ON t.id = i.tenant_id WHERE i.issuer = $1";

static void
refuse(api_caller_t *caller, int status, const char *code, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static void
refuse(api_caller_t *caller, int status, const char *code, const char *format, ...)
{
    va_list args;

    caller->role = API_ROLE_NONE;
    caller->refusal_status = status;
    caller->refusal_code = code;
    va_start(args, format);
    vsnprintf(caller->reason, sizeof(caller->reason), format, args);
    va_end(args);
}

static int
read_operator_keys(char *error, size_t error_size)
{
    struct stat   info;
    FILE         *file;
    char         *text;
    long          length;
    llmoin_jwks_t keys;
    int           rc;

    if (stat(caller_config->operator_jwks, &info) != 0) {
        llmoin_jwks_free(&operator_keys);
        memset(&operator_keys_mtime, 0, sizeof(operator_keys_mtime));
        snprintf(error, error_size, "cannot read the file");
        return -1;
    }
    if (info.st_mtim.tv_sec == operator_keys_mtime.tv_sec
        && info.st_mtim.tv_nsec == operator_keys_mtime.tv_nsec)
    {
        return 0;
    }
    file = fopen(caller_config->operator_jwks, "r");
    if (file == NULL || info.st_size > LLMOIN_JWKS_TEXT_MAX) {
        snprintf(error, error_size, "%s", file != NULL ? "larger than 1 MiB"
                                                       : "cannot read the file");
        if (file != NULL) {
            fclose(file);
        }
        return -1;
    }
    text = malloc((size_t) info.st_size + 1);
    length = text != NULL ? (long) fread(text, 1, (size_t) info.st_size, file) : -1;
    fclose(file);
    if (length < 0) {
        free(text);
        snprintf(error, error_size, "out of memory reading operator_jwks");
        return -1;
    }
    rc = llmoin_jwks_parse_text(text, (size_t) length, &keys, NULL, error, error_size);
    free(text);
    operator_keys_mtime = info.st_mtim;
    llmoin_jwks_free(&operator_keys);
    if (rc != LLMOIN_JWK_OK) {
        /* A file replaced to revoke a key must not leave the old keys in
         * force because the new one is broken: no key verifies until it is
         * fixed (logged once per change of the file). */
        return -1;
    }
    operator_keys = keys;
    return 0;
}

int
caller_init(const tenantd_config_t *config, char *error, size_t error_size)
{
    char reason[256];

    caller_config = config;
    if (config->operator_issuer[0] == '\0') {
        return 0;
    }
    if (read_operator_keys(reason, sizeof(reason)) != 0) {
        snprintf(error, error_size, "operator_jwks %s: %s", config->operator_jwks, reason);
        return -1;
    }
    return 0;
}

void
caller_done(void)
{
    llmoin_jwks_free(&operator_keys);
}

/* Whether the verified token's claim is the value, or a list holding it. */
static bool
has_role(const json_t *payload, const char *claim, const char *value)
{
    const json_t *found = json_object_get(payload, claim);
    const json_t *entry;
    size_t        i;

    if (json_is_string(found)) {
        return strcmp(json_string_value(found), value) == 0;
    }
    json_array_foreach(found, i, entry) {
        if (json_is_string(entry) && strcmp(json_string_value(entry), value) == 0) {
            return true;
        }
    }
    return false;
}

static void
identify_operator(const char *token, size_t length, const llmoin_jwt_t *jwt,
                  api_caller_t *caller)
{
    llmoin_jwt_expect_t   expect = {
        .issuer = caller_config->operator_issuer,
        .audience = caller_config->operator_audience,
        .now = (long long) time(NULL),
        .leeway = OPERATOR_LEEWAY_SECONDS,
        .user_claim = "sub",
    };
    llmoin_jwt_identity_t identity;
    char                  reason[256];
    int                   rc;

    pthread_mutex_lock(&operator_keys_lock);
    if (read_operator_keys(reason, sizeof(reason)) != 0) {
        log_error("event=operator_jwks_unreadable reason=\"%s\"", reason);
    }
    rc = llmoin_jwt_authenticate(token, length, &operator_keys, &expect, &identity,
                                 reason, sizeof(reason));
    pthread_mutex_unlock(&operator_keys_lock);
    if (rc != LLMOIN_JWT_OK) {
        refuse(caller, 401, "invalid_token", "%s", reason);
        return;
    }
    if (!has_role(jwt->payload, caller_config->operator_role_claim,
                  caller_config->operator_role_value))
    {
        refuse(caller, 403, "not_an_operator",
               "the token's '%.64s' claim does not grant the operator role",
               caller_config->operator_role_claim);
        return;
    }
    caller->role = API_ROLE_OPERATOR;
    snprintf(caller->name, sizeof(caller->name), "operator:%.200s", identity.user);
}

static void
verify_tenant_admin(const char *token, size_t length, const llmoin_jwt_t *jwt,
                    PGresult *issuer, api_caller_t *caller)
{
    llmoin_jwt_expect_t   expect = {
        .issuer = jwt->issuer,
        .audience = PQgetvalue(issuer, 0, 4),
        .now = (long long) time(NULL),
        .leeway = atol(PQgetvalue(issuer, 0, 7)),
        .user_claim = PQgetvalue(issuer, 0, 6),
    };
    llmoin_jwt_identity_t identity;
    llmoin_jwks_t         keys;
    char                  reason[256];
    int                   rc;

    if (PQgetisnull(issuer, 0, 5)) {
        refuse(caller, 401, "invalid_token",
               "the keys of this token's issuer have not been fetched yet");
        return;
    }
    rc = llmoin_jwks_parse_text(PQgetvalue(issuer, 0, 5), (size_t) PQgetlength(issuer, 0, 5),
                                &keys, NULL, reason, sizeof(reason));
    if (rc == LLMOIN_JWK_OK) {
        rc = llmoin_jwt_authenticate(token, length, &keys, &expect, &identity, reason,
                                     sizeof(reason));
        llmoin_jwks_free(&keys);
    }
    if (rc != LLMOIN_JWT_OK) {
        refuse(caller, 401, "invalid_token", "%s", reason);
        return;
    }
    if (!has_role(jwt->payload, PQgetvalue(issuer, 0, 2), PQgetvalue(issuer, 0, 3))) {
        refuse(caller, 403, "not_a_tenant_admin",
               "the token signs a user of tenant '%s' in, but its '%.64s' claim does not "
               "make them an admin", PQgetvalue(issuer, 0, 1), PQgetvalue(issuer, 0, 2));
        return;
    }
    caller->role = API_ROLE_TENANT_ADMIN;
    caller->tenant_suspended = strcmp(PQgetvalue(issuer, 0, 8), "t") == 0;
    snprintf(caller->tenant_id, sizeof(caller->tenant_id), "%s", PQgetvalue(issuer, 0, 0));
    snprintf(caller->tenant_slug, sizeof(caller->tenant_slug), "%s",
             PQgetvalue(issuer, 0, 1));
    snprintf(caller->name, sizeof(caller->name), "admin:%s:%.200s",
             caller->tenant_slug, identity.user);
}

static void
identify_tenant_admin(const char *token, size_t length, const llmoin_jwt_t *jwt,
                      api_caller_t *caller)
{
    db_error_t  error;
    PGconn     *conn;
    PGresult   *issuer;

    conn = api_database(&error);
    issuer = conn != NULL ? db_query(conn, issuer_sql, 1, &jwt->issuer, &error) : NULL;
    if (issuer == NULL) {
        log_error("event=database_error message=\"%s\"", error.message);
        refuse(caller, 401, "invalid_token",
               "the token cannot be checked now: the database is unavailable");
        return;
    }
    if (PQntuples(issuer) == 0) {
        refuse(caller, 401, "invalid_token",
               "the token's issuer is neither the provider's nor one a tenant trusts");
    } else {
        verify_tenant_admin(token, length, jwt, issuer, caller);
    }
    PQclear(issuer);
}

const char *
caller_reserved_issuer(const api_caller_t *caller, const char *issuer)
{
    char dev_prefix[CONFIG_STRING_MAX + 16];

    if (caller_config->operator_issuer[0] != '\0'
        && strcmp(issuer, caller_config->operator_issuer) == 0)
    {
        return "it is the provider's operator issuer";
    }
    dev_idp_issuer("", dev_prefix, sizeof(dev_prefix));
    if (caller->role != API_ROLE_OPERATOR
        && strncmp(issuer, dev_prefix, strlen(dev_prefix)) == 0)
    {
        return "it belongs to the development identity provider (operators turn it on "
               "per tenant)";
    }
    return NULL;
}

void
caller_from_authorization(const char *authorization, api_caller_t *caller)
{
    llmoin_jwt_t jwt;
    const char  *token;
    size_t       length;
    char         reason[256];

    if (authorization == NULL) {
        return;
    }
    if (strncasecmp(authorization, "Bearer ", 7) != 0) {
        refuse(caller, 401, "invalid_token",
               "the Authorization header must be 'Bearer <token>'");
        return;
    }
    token = authorization + 7;
    length = strlen(token);
    if (!llmoin_token_looks_like_jwt(token, length)) {
        refuse(caller, 401, "invalid_token",
               "API keys cannot manage tenants: send an admin's or operator's token");
        return;
    }
    if (llmoin_jwt_decode(token, length, &jwt, reason, sizeof(reason)) != LLMOIN_JWT_OK) {
        refuse(caller, 401, "invalid_token", "the token is malformed: %s", reason);
        return;
    }
    if (jwt.issuer == NULL) {
        refuse(caller, 401, "invalid_token", "the token has no 'iss' claim");
    } else if (caller_config->operator_issuer[0] != '\0'
               && strcmp(jwt.issuer, caller_config->operator_issuer) == 0)
    {
        identify_operator(token, length, &jwt, caller);
    } else {
        identify_tenant_admin(token, length, &jwt, caller);
    }
    llmoin_jwt_free(&jwt);
}

void
caller_show(api_request_t *request, api_response_t *response)
{
    const api_caller_t *caller = &request->caller;

    if (caller->role == API_ROLE_OPERATOR) {
        api_ok(response, 200, json_pack("{s:s,s:s,s:n}", "caller", caller->name,
                                        "role", "operator", "tenant"));
        return;
    }
    api_ok(response, 200, json_pack("{s:s,s:s,s:s}", "caller", caller->name,
                                    "role", "tenant_admin", "tenant", caller->tenant_slug));
}
