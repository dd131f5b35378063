/*
 * PostgreSQL access for tenantd: connecting, and running parameterised SQL.
 * User input only ever goes in as parameters.
 *
 * Every call that can fail fills a db_error_t: the SQLSTATE (empty when the
 * failure was not reported by the server, e.g. a lost connection) and the
 * server's message. Results returned to the caller are owned by the caller
 * (PQclear / json_decref).
 */
#ifndef TENANTD_DB_H
#define TENANTD_DB_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

typedef struct db_error {
    char sqlstate[6];
    char message[512];
} db_error_t;

#define DB_UNIQUE_VIOLATION      "23505"
#define DB_FOREIGN_KEY_VIOLATION "23503"
#define DB_CHECK_VIOLATION       "23514"

/* Connects; returns NULL with the reason in error. Sets the session time zone
 * to UTC so timestamps render the same everywhere. */
PGconn *db_connect(const char *conninfo, db_error_t *error);

/* Returns a usable connection in *conn, reconnecting if it was lost:
 * 1 after a new connection (session settings need setting again), 0 when
 * the old one is fine, -1 when the database cannot be reached. */
int db_ensure_connected(PGconn **conn, const char *conninfo, db_error_t *error);

/* Runs a statement that returns no rows we need. 0 or -1. */
int db_exec(PGconn *conn, const char *sql, int param_count,
            const char *const *params, db_error_t *error);

/* Runs a statement; returns how many rows it changed, or -1. */
int db_changed(PGconn *conn, const char *sql, int param_count,
               const char *const *params, db_error_t *error);

/* Runs a query; returns its result (TUPLES_OK or COMMAND_OK) or NULL. */
PGresult *db_query(PGconn *conn, const char *sql, int param_count,
                   const char *const *params, db_error_t *error);

/* Runs a query whose first row's first column is JSON text and parses it.
 * No row: returns NULL with error->sqlstate empty and *found false. */
json_t *db_query_json(PGconn *conn, const char *sql, int param_count,
                      const char *const *params, bool *found,
                      db_error_t *error);

int db_begin(PGconn *conn, db_error_t *error);
int db_commit(PGconn *conn, db_error_t *error);
/* Rolls back if a transaction is open; never fails visibly. */
void db_rollback(PGconn *conn);

bool db_error_is(const db_error_t *error, const char *sqlstate);

/* PostgreSQL array literals for parameters ("{...}"): append one element
 * (NULL -> NULL), then close. An array that got no element closes as "{}". */
struct llmoin_strbuf;
void db_array_append(struct llmoin_strbuf *array, const char *value);
void db_array_close(struct llmoin_strbuf *array);

/* A JSON array of strings (or NULL) as an array literal; NULL for NULL. The
 * returned text lives in `array`. */
const char *db_array_from_json(struct llmoin_strbuf *array, const json_t *strings);

#endif
