/*
 * The audit log: every change made through the management API, in the same
 * transaction as the change itself, so a change without its audit row (or
 * the reverse) cannot exist. The table is append-only and hash-chained by
 * triggers in schema/ (tamper-evident). Secrets never go into before/after.
 */
#ifndef TENANTD_AUDIT_H
#define TENANTD_AUDIT_H

#include "api.h"
#include "db.h"

/* tenant_id: decimal text, or NULL for platform-wide changes. before/after
 * may be NULL; they are not consumed. */
int audit_record(PGconn *conn, const api_caller_t *caller, const char *tenant_id,
                 const char *action, const char *object, const json_t *before,
                 const json_t *after, db_error_t *error);

#endif
