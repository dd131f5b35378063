/*
 * The one way the management API changes a row: inside a transaction, read
 * the object's document (locking it), apply the change, read it again, write
 * the audit row, commit. Any failure rolls everything back, so a change is
 * either complete with its audit row or absent.
 */
#ifndef TENANTD_CHANGE_H
#define TENANTD_CHANGE_H

#include "api.h"
#include "db.h"

typedef struct change {
    const char *document_sql;   /* SELECT tenant_id::text, doc ... WHERE key = $1 */
    const char *update_sql;     /* statement with $1 = key (and more params) */
    const char *params[4];      /* params[0] is the key */
    int         param_count;
    const char *action;         /* "tenant.suspend" */
    const char *object;         /* "tenant:hamburg" */
    const char *not_found_code;
    const char *not_found_message;
    bool        removes;          /* update_sql deletes the object */
    const char *in_use_message;   /* a foreign key keeps it: 409 in_use_code */
    const char *in_use_code;
} change_t;

/* On success answers 200 with the document after the change (for a
 * removal: as it was). The audit row's tenant is the document's tenant_id,
 * none when that is empty (platform objects). */
void change_apply(api_request_t *request, api_response_t *response,
                  const change_t *change);

/* Reads "tenant_id, doc" of one object into *document (caller owns it) and
 * tenant_id (as text, at least 24 bytes). Returns 1 found, 0 absent, -1 on
 * a database error. */
int change_read_document(PGconn *conn, const char *sql, const char *key,
                         char *tenant_id, json_t **document, db_error_t *error);

#endif
