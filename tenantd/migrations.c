#include "migrations.h"

#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char create_table_sql[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY,"
    " name text NOT NULL,"
    " checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

static const char applied_checksum_sql[] =
    "SELECT checksum = encode(sha256(convert_to($2, 'UTF8')), 'hex')"
    " FROM schema_migrations WHERE version = $1";

static const char record_sql[] =
    "INSERT INTO schema_migrations (version, name, checksum)"
    " VALUES ($1, $3, encode(sha256(convert_to($2, 'UTF8')), 'hex'))";

static int
is_migration_name(const char *name)
{
    regex_t pattern;
    int     matches;

    if (regcomp(&pattern, "^[0-9]{4}_[a-z0-9_]+\\.sql$", REG_EXTENDED | REG_NOSUB) != 0) {
        return 0;
    }
    matches = regexec(&pattern, name, 0, NULL, 0) == 0;
    regfree(&pattern);
    return matches;
}

static int
select_migration(const struct dirent *entry)
{
    return is_migration_name(entry->d_name);
}

static char *
read_whole_file(const char *path, db_error_t *error)
{
    FILE *file;
    char *text;
    long  size;

    file = fopen(path, "rb");
    if (file == NULL) {
        snprintf(error->message, sizeof(error->message), "cannot read %.300s: %s",
                 path, strerror(errno));
        return NULL;
    }
    fseek(file, 0, SEEK_END);
    size = ftell(file);
    rewind(file);
    text = malloc((size_t) size + 1);
    if (text == NULL || fread(text, 1, (size_t) size, file) != (size_t) size) {
        snprintf(error->message, sizeof(error->message), "cannot read %.300s", path);
        free(text);
        fclose(file);
        return NULL;
    }
    text[size] = '\0';
    fclose(file);
    return text;
}

/* 1: applied before with the same content; 0: not applied; -1: error. */
static int
check_applied(PGconn *conn, const char *version, const char *name,
              const char *sql, db_error_t *error)
{
    const char *params[2] = { version, sql };
    PGresult   *result;
    int         state;

    result = db_query(conn, applied_checksum_sql, 2, params, error);
    if (result == NULL) {
        return -1;
    }
    if (PQntuples(result) == 0) {
        state = 0;
    } else if (strcmp(PQgetvalue(result, 0, 0), "t") == 0) {
        state = 1;
    } else {
        error->sqlstate[0] = '\0';
        snprintf(error->message, sizeof(error->message),
                 "migration %s was changed after it was applied; add a new "
                 "migration instead", name);
        state = -1;
    }
    PQclear(result);
    return state;
}

static int
apply_one(PGconn *conn, const char *schema_dir, const char *name,
          db_error_t *error)
{
    char        path[1024], version[8];
    const char *params[3];
    char       *sql;
    int         state;
    PGresult   *result;

    snprintf(path, sizeof(path), "%s/%s", schema_dir, name);
    snprintf(version, sizeof(version), "%.4s", name);
    sql = read_whole_file(path, error);
    if (sql == NULL) {
        return -1;
    }

    state = check_applied(conn, version, name, sql, error);
    if (state != 0) {
        free(sql);
        return state < 0 ? -1 : 0;
    }

    if (db_begin(conn, error) != 0) {
        free(sql);
        return -1;
    }
    result = PQexec(conn, sql);
    if (PQresultStatus(result) != PGRES_COMMAND_OK
        && PQresultStatus(result) != PGRES_TUPLES_OK)
    {
        snprintf(error->message, sizeof(error->message), "%s: %s", name,
                 PQresultErrorMessage(result));
        PQclear(result);
        db_rollback(conn);
        free(sql);
        return -1;
    }
    PQclear(result);

    params[0] = version;
    params[1] = sql;
    params[2] = name;
    state = db_exec(conn, record_sql, 3, params, error);
    free(sql);
    if (state != 0 || db_commit(conn, error) != 0) {
        db_rollback(conn);
        return -1;
    }
    log_info("event=migration_applied name=%s", name);
    return 1;
}

int
migrations_apply(PGconn *conn, const char *schema_dir, db_error_t *error)
{
    struct dirent **entries;
    int             count, i, applied = 0, rc = 0;

    count = scandir(schema_dir, &entries, select_migration, alphasort);
    if (count < 0) {
        error->sqlstate[0] = '\0';
        snprintf(error->message, sizeof(error->message),
                 "cannot list schema directory %s: %s", schema_dir, strerror(errno));
        return -1;
    }

    if (db_exec(conn, "SELECT pg_advisory_lock(hashtext('llmoin_migrations'))",
                0, NULL, error) != 0
        || db_exec(conn, create_table_sql, 0, NULL, error) != 0)
    {
        rc = -1;
    }

    for (i = 0; i < count; i++) {
        if (rc == 0) {
            rc = apply_one(conn, schema_dir, entries[i]->d_name, error);
            applied += rc > 0 ? 1 : 0;
            rc = rc < 0 ? -1 : 0;
        }
        free(entries[i]);
    }
    free(entries);

    PQclear(PQexec(conn, "SELECT pg_advisory_unlock(hashtext('llmoin_migrations'))"));
    return rc == 0 ? applied : -1;
}
