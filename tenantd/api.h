/*
 * The management API (/admin/v1/...): the request/response types handlers
 * see, the route table, and dispatch.
 *
 * A handler fills an api_response_t: a status and a JSON body it owns.
 * Errors are OpenAI-shaped: {"error":{"message","type","code"}}; use
 * api_error(). Handlers run on the HTTP server's thread and get a
 * PostgreSQL connection owned by that thread (request->db).
 */
#ifndef TENANTD_API_H
#define TENANTD_API_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "db.h"

#define API_MAX_PATH_PARAMS 4

typedef enum api_role {
    API_ROLE_NONE = 0,
    API_ROLE_OPERATOR,       /* the whole platform */
    API_ROLE_TENANT_ADMIN    /* one tenant: caller.tenant_id */
} api_role_t;

typedef struct api_caller {
    api_role_t role;
    char       name[300];        /* who, for the audit log: "unix:uid=0",
                                  * "admin:hamburg:alice" */
    char       tenant_id[24];    /* tenant admins: their tenant's id */
    char       tenant_slug[40];  /* tenant admins: their tenant's slug */
    bool       tenant_suspended; /* tenant admins: their tenant is suspended */
    /* role NONE after a credential was refused: 401 or 403, a code and why */
    int        refusal_status;
    const char *refusal_code;
    char       reason[200];
} api_caller_t;

typedef struct api_request {
    const char   *method;
    const char   *path;
    const char   *body;
    size_t        body_length;
    const char   *params[API_MAX_PATH_PARAMS];
    api_caller_t  caller;
    bool          via_unix_socket;
    PGconn       *db;
    /* Query string lookup; NULL when absent. */
    const char *(*query)(void *context, const char *name);
    void         *query_context;
} api_request_t;

typedef struct api_response {
    int         status;
    json_t     *body;           /* JSON answer, or ... */
    char       *raw;            /* ... another body (malloc'd), e.g. HTML */
    size_t      raw_length;
    const char *content_type;   /* of raw */
    char       *location;       /* Location header (malloc'd), or NULL */
    char        allow[48];      /* Allow header of a 405: "GET, PATCH" */
    /* Called once the request's transaction committed (e.g. to wake a
     * thread that must see the new rows), or NULL. */
    void      (*after_commit)(void);
} api_response_t;

typedef void (*api_handler_t)(api_request_t *request, api_response_t *response);

typedef struct api_route {
    const char    *method;
    const char    *pattern;     /* "/admin/v1/tenants/{slug}/keys" */
    api_handler_t  handler;
    bool           needs_database;
    const char    *summary;
    bool           anonymous;   /* no credential needed (health, dev IdP) */
    bool           tenant_admins; /* tenant admins may call it, for their
                                   * own tenant only; else operators only */
} api_route_t;

void api_init(const tenantd_config_t *config);

/*
 * Routes the request and fills the response; never fails to answer.
 *
 * A request to a route with credentials runs in one transaction as the
 * database role llmoin_api, with app.role and app.tenant_id set (SET
 * LOCAL) from the caller: row-level security then shows a tenant admin
 * its own tenant's rows only, whatever a handler's SQL says. The
 * transaction commits when the handler answered below 400, else it rolls
 * back: a failed request leaves nothing behind.
 */
void api_dispatch(api_request_t *request, api_response_t *response);

const api_route_t *api_routes(size_t *count);

void api_error(api_response_t *response, int status, const char *type,
               const char *code, const char *format, ...)
    __attribute__((format(printf, 5, 6)));

/* Maps a database failure to 503 (unreachable) or 500, logging it. */
struct db_error;
void api_database_error(api_response_t *response, const struct db_error *error);

/* This thread's database connection, reconnecting if needed; NULL if the
 * database cannot be reached (reason in error). */
PGconn *api_database(struct db_error *error);

const char *api_query(api_request_t *request, const char *name);

/* Whether the caller may act on the tenant with this id (text): operators
 * on every tenant, tenant admins on their own. The code layer of tenant
 * isolation; row-level security is the other. */
bool api_may_act_on(const api_request_t *request, const char *tenant_id);

/* True for operators; for others answers 403 operators_only saying that
 * what ("a dedicated pool") is the operators' to set. */
bool api_require_operator(const api_request_t *request, api_response_t *response,
                          const char *what);

/* A change inside the request's transaction: a savepoint, so a failed
 * change is undone without ending the transaction. 0 or -1 with error. */
int api_begin(api_request_t *request, db_error_t *error);
int api_commit(api_request_t *request, db_error_t *error);
void api_rollback(api_request_t *request);

void api_ok(api_response_t *response, int status, json_t *body);

/* Answers status with the one JSON value sql makes of params, or the
 * database's error. */
void api_answer_query(api_request_t *request, api_response_t *response, int status,
                      const char *sql, int param_count, const char *const *params);

/* A non-JSON answer; takes ownership of text (malloc'd). */
void api_raw(api_response_t *response, int status, const char *content_type,
             char *text, size_t length);

/* Frees what a response holds. */
void api_response_clear(api_response_t *response);

#endif
