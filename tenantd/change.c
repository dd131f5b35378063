#include "change.h"

#include "audit.h"
#include "db.h"

#include <stdio.h>
#include <string.h>

int
change_read_document(PGconn *conn, const char *sql, const char *key,
                     char *tenant_id, json_t **document, db_error_t *error)
{
    PGresult     *result;
    json_error_t  parse_error;

    *document = NULL;
    result = db_query(conn, sql, 1, &key, error);
    if (result == NULL) {
        return -1;
    }
    if (PQntuples(result) == 0) {
        PQclear(result);
        return 0;
    }
    snprintf(tenant_id, 24, "%s", PQgetvalue(result, 0, 0));
    *document = json_loads(PQgetvalue(result, 0, 1), 0, &parse_error);
    PQclear(result);
    if (*document == NULL) {
        error->sqlstate[0] = '\0';
        snprintf(error->message, sizeof(error->message), "bad document JSON: %s",
                 parse_error.text);
        return -1;
    }
    return 1;
}

void
change_apply(api_request_t *request, api_response_t *response,
             const change_t *change)
{
    json_t     *before = NULL, *after = NULL;
    char        tenant_id[24];
    int         state;
    db_error_t  error;
    PGconn     *conn = request->db;

    if (api_begin(request, &error) != 0) {
        api_database_error(response, &error);
        return;
    }
    state = change_read_document(conn, change->document_sql, change->params[0],
                                 tenant_id, &before, &error);
    if (state > 0 && !api_may_act_on(request, tenant_id)) {
        json_decref(before);
        state = 0;
    }
    if (state <= 0) {
        if (state < 0) {
            api_database_error(response, &error);
        } else {
            api_error(response, 404, "invalid_request_error", change->not_found_code,
                      "%s", change->not_found_message);
        }
        api_rollback(request);
        return;
    }
    if (db_exec(conn, change->update_sql, change->param_count, change->params,
                &error) != 0
        || (!change->removes
            && change_read_document(conn, change->document_sql, change->params[0],
                                    tenant_id, &after, &error) != 1)
        || (!json_equal(before, after)
            && audit_record(conn, &request->caller, tenant_id[0] != '\0' ? tenant_id : NULL,
                            change->action, change->object, before, after, &error) != 0)
        || api_commit(request, &error) != 0)
    {
        api_rollback(request);
        json_decref(before);
        json_decref(after);
        if (change->in_use_code != NULL && db_error_is(&error, DB_FOREIGN_KEY_VIOLATION)) {
            api_error(response, 409, "invalid_request_error", change->in_use_code, "%s",
                      change->in_use_message);
            return;
        }
        api_database_error(response, &error);
        return;
    }
    if (change->removes) {
        api_ok(response, 200, before);
        return;
    }
    json_decref(before);
    api_ok(response, 200, after);
}
