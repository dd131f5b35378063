/*
 * Schema migrations: applies the numbered files NNNN_name.sql of the schema
 * directory in order, each in its own transaction together with its row in
 * schema_migrations. Already applied files are skipped, so a second start
 * changes nothing; an applied file whose content changed since is refused.
 * Concurrent tenantd starts serialise on an advisory lock.
 */
#ifndef TENANTD_MIGRATIONS_H
#define TENANTD_MIGRATIONS_H

#include "db.h"

/* Returns the number of migrations applied now (0 when up to date), or -1. */
int migrations_apply(PGconn *conn, const char *schema_dir, db_error_t *error);

#endif
