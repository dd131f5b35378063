#include "audit.h"

#include <stdlib.h>

static const char insert_sql[] =
    "INSERT INTO audit_log (actor, tenant_id, action, object, before, after)"
    " VALUES ($1, $2::bigint, $3, $4, $5::jsonb, $6::jsonb)";

int
audit_record(PGconn *conn, const api_caller_t *caller, const char *tenant_id,
             const char *action, const char *object, const json_t *before,
             const json_t *after, db_error_t *error)
{
    char       *before_text, *after_text;
    const char *params[6];
    int         rc;

    before_text = before != NULL ? json_dumps(before, JSON_COMPACT) : NULL;
    after_text = after != NULL ? json_dumps(after, JSON_COMPACT) : NULL;

    params[0] = caller->name;
    params[1] = tenant_id;
    params[2] = action;
    params[3] = object;
    params[4] = before_text;
    params[5] = after_text;
    rc = db_exec(conn, insert_sql, 6, params, error);

    free(before_text);
    free(after_text);
    return rc;
}
