#include "db.h"

#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
error_from_connection(db_error_t *error, PGconn *conn)
{
    const char *message = conn != NULL ? PQerrorMessage(conn) : "out of memory";
    size_t      length;

    error->sqlstate[0] = '\0';
    snprintf(error->message, sizeof(error->message), "%s", message);
    length = strlen(error->message);
    while (length > 0 && (error->message[length - 1] == '\n')) {
        error->message[--length] = '\0';
    }
}

static void
error_from_result(db_error_t *error, PGconn *conn, const PGresult *result)
{
    const char *state, *message;

    if (result == NULL) {
        error_from_connection(error, conn);
        return;
    }
    state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    message = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
    snprintf(error->sqlstate, sizeof(error->sqlstate), "%s", state ? state : "");
    snprintf(error->message, sizeof(error->message), "%s",
             message ? message : PQresultErrorMessage(result));
}

PGconn *
db_connect(const char *conninfo, db_error_t *error)
{
    PGconn   *conn;
    PGresult *result;

    conn = PQconnectdb(conninfo);
    if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
        error_from_connection(error, conn);
        PQfinish(conn);
        return NULL;
    }
    result = PQexec(conn, "SET TIME ZONE 'UTC'");
    if (PQresultStatus(result) != PGRES_COMMAND_OK) {
        error_from_result(error, conn, result);
        PQclear(result);
        PQfinish(conn);
        return NULL;
    }
    PQclear(result);
    return conn;
}

int
db_ensure_connected(PGconn **conn, const char *conninfo, db_error_t *error)
{
    if (*conn != NULL && PQstatus(*conn) == CONNECTION_OK) {
        return 0;
    }
    PQfinish(*conn);
    *conn = db_connect(conninfo, error);
    return *conn != NULL ? 1 : -1;
}

PGresult *
db_query(PGconn *conn, const char *sql, int param_count,
         const char *const *params, db_error_t *error)
{
    PGresult       *result;
    ExecStatusType  status;

    result = PQexecParams(conn, sql, param_count, NULL, params, NULL, NULL, 0);
    status = PQresultStatus(result);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        error_from_result(error, conn, result);
        PQclear(result);
        return NULL;
    }
    return result;
}

int
db_exec(PGconn *conn, const char *sql, int param_count,
        const char *const *params, db_error_t *error)
{
    PGresult *result = db_query(conn, sql, param_count, params, error);

    if (result == NULL) {
        return -1;
    }
    PQclear(result);
    return 0;
}

int
db_changed(PGconn *conn, const char *sql, int param_count, const char *const *params,
           db_error_t *error)
{
    PGresult *result = db_query(conn, sql, param_count, params, error);
    int       changed;

    if (result == NULL) {
        return -1;
    }
    changed = atoi(PQcmdTuples(result));
    PQclear(result);
    return changed;
}

json_t *
db_query_json(PGconn *conn, const char *sql, int param_count,
              const char *const *params, bool *found, db_error_t *error)
{
    PGresult     *result;
    json_t       *value;
    json_error_t  parse_error;

    *found = false;
    result = db_query(conn, sql, param_count, params, error);
    if (result == NULL) {
        return NULL;
    }
    if (PQntuples(result) == 0 || PQgetisnull(result, 0, 0)) {
        PQclear(result);
        error->sqlstate[0] = '\0';
        snprintf(error->message, sizeof(error->message), "no row");
        return NULL;
    }
    value = json_loads(PQgetvalue(result, 0, 0), 0, &parse_error);
    PQclear(result);
    if (value == NULL) {
        error->sqlstate[0] = '\0';
        snprintf(error->message, sizeof(error->message),
                 "database returned invalid JSON: %s", parse_error.text);
        return NULL;
    }
    *found = true;
    return value;
}

int
db_begin(PGconn *conn, db_error_t *error)
{
    return db_exec(conn, "BEGIN", 0, NULL, error);
}

int
db_commit(PGconn *conn, db_error_t *error)
{
    return db_exec(conn, "COMMIT", 0, NULL, error);
}

void
db_rollback(PGconn *conn)
{
    PGresult *result;

    if (conn == NULL || PQtransactionStatus(conn) == PQTRANS_IDLE) {
        return;
    }
    result = PQexec(conn, "ROLLBACK");
    PQclear(result);
}

bool
db_error_is(const db_error_t *error, const char *sqlstate)
{
    return strcmp(error->sqlstate, sqlstate) == 0;
}

void
db_array_append(llmoin_strbuf_t *array, const char *value)
{
    llmoin_strbuf_append_char(array, array->length == 0 ? '{' : ',');
    if (value == NULL) {
        llmoin_strbuf_append_string(array, "NULL");
        return;
    }
    llmoin_strbuf_append_char(array, '"');
    for (; *value != '\0'; value++) {
        if (*value == '"' || *value == '\\') {
            llmoin_strbuf_append_char(array, '\\');
        }
        llmoin_strbuf_append_char(array, *value);
    }
    llmoin_strbuf_append_char(array, '"');
}

void
db_array_close(llmoin_strbuf_t *array)
{
    llmoin_strbuf_append_string(array, array->length == 0 ? "{}" : "}");
}

const char *
db_array_from_json(llmoin_strbuf_t *array, const json_t *strings)
{
    const json_t *element;
    size_t        index;

    if (strings == NULL || json_is_null(strings)) {
        return NULL;
    }
    llmoin_strbuf_reset(array);
    json_array_foreach(strings, index, element) {
        db_array_append(array, json_string_value(element));
    }
    db_array_close(array);
    return llmoin_strbuf_text(array);
}
