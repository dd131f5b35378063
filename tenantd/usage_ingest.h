/*
 * Usage ingestion: a thread that reads the usage journal nginx writes and
 * stores its lines in usage_events, exactly once.
 *
 * Exactly once, across crashes of nginx, tenantd or PostgreSQL: the rows of
 * a batch and the journal offset after them are committed in one
 * transaction (the offset row is locked FOR UPDATE, so two tenantd never
 * ingest the same bytes), and request_id is unique, so even a replayed line
 * cannot count twice. Only complete lines are read. A line that is not a
 * valid record goes to ingest_rejects with the reason, never silently away.
 *
 * The daily and monthly rollups the reports read (usage_daily,
 * usage_monthly; schema/0005_usage_rollups.sql) grow in the statement that
 * inserts the rows, by the rows it actually inserted: a replayed line adds
 * nothing there either.
 *
 * While the database inserts a batch, a second thread reads and parses the
 * lines after it; the next transaction takes them if they start at the
 * position it locked, in the same file, checked against the same tenants
 * (else it parses again), so the parsing costs no time of its own.
 *
 * Rotation: the offset row remembers the file's inode. When the path names
 * a new file, the old one is looked up among its siblings (usage.journal.1
 * ...) and read to its end first; the switch to the new file happens once
 * the old one has been quiet for a few seconds.
 */
#ifndef TENANTD_USAGE_INGEST_H
#define TENANTD_USAGE_INGEST_H

#include "config.h"

int usage_ingest_start(const tenantd_config_t *config);
void usage_ingest_stop(void);

#endif
