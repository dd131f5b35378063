/*
 * The tenant snapshot: one JSON file rendered from PostgreSQL for the nginx
 * module, which re-reads it when it changes (see common/snapshot.h for the
 * format and docs/architecture.md). A thread LISTENs on the llmoin_config
 * channel (schema triggers notify on every configuration change), renders
 * within milliseconds of a change, and re-renders every 30 s so that keys
 * whose expiry passed drop out. Writes are atomic: temporary file, fsync,
 * rename, fsync of the directory. An unchanged rendering is not rewritten.
 */
#ifndef TENANTD_SNAPSHOT_H
#define TENANTD_SNAPSHOT_H

#include "config.h"

int snapshot_start(const tenantd_config_t *config);
void snapshot_stop(void);

/* Version of the last snapshot written (milliseconds since the epoch at
 * rendering), 0 before the first. */
long long snapshot_current_version(void);

#endif
