/* Health: is tenantd up, can it reach PostgreSQL, which snapshot is out. */
#include "handlers.h"

#include "db.h"
#include "snapshot.h"

void
health_show(api_request_t *request, api_response_t *response)
{
    db_error_t  error;
    PGconn     *conn;
    PGresult   *result = NULL;
    bool        database_ok;

    (void) request;
    conn = api_database(&error);
    if (conn != NULL) {
        result = db_query(conn, "SELECT 1", 0, NULL, &error);
    }
    database_ok = result != NULL;
    PQclear(result);

    api_ok(response, database_ok ? 200 : 503,
           json_pack("{s:s,s:s,s:I}", "status", database_ok ? "ok" : "degraded",
                     "database", database_ok ? "ok" : "unavailable",
                     "snapshot_version", (json_int_t) snapshot_current_version()));
}
