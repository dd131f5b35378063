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

#define API_MAX_PATH_PARAMS 4

typedef enum api_role {
    API_ROLE_NONE = 0,
    API_ROLE_OPERATOR
} api_role_t;

typedef struct api_caller {
    api_role_t role;
    char       name[128];   /* who, for the audit log: "unix:uid=0" */
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
} api_response_t;

typedef void (*api_handler_t)(api_request_t *request, api_response_t *response);

typedef struct api_route {
    const char    *method;
    const char    *pattern;     /* "/admin/v1/tenants/{slug}/keys" */
    api_handler_t  handler;
    bool           needs_database;
    const char    *summary;
    bool           anonymous;   /* no credential needed (health, dev IdP) */
} api_route_t;

void api_init(const tenantd_config_t *config);

/* Routes the request and fills the response; never fails to answer. */
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

void api_ok(api_response_t *response, int status, json_t *body);

/* A non-JSON answer; takes ownership of text (malloc'd). */
void api_raw(api_response_t *response, int status, const char *content_type,
             char *text, size_t length);

/* Frees what a response holds. */
void api_response_clear(api_response_t *response);

#endif
