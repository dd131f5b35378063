/*
 * tenantd logging: one line per event on stderr, key=value pairs after a
 * timestamp and level, e.g.
 *
 *   ts=2026-11-29T22:00:00.123Z level=info event=snapshot_rendered tenants=5
 *
 * Callers pass the key=value part as a printf format. Never pass prompt or
 * answer text, API keys or tokens: tenantd never sees content, and secrets
 * must not reach a log.
 */
#ifndef TENANTD_LOG_H
#define TENANTD_LOG_H

#include <stddef.h>

void log_info(const char *format, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *format, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* A copy of untrusted text fit for a log value: control characters,
 * quotes, backslashes and spaces become \xNN, so a value can neither end a
 * line nor fake another key=value pair. Truncated to fit; returns out. */
const char *log_safe(const char *text, char *out, size_t out_size);

#endif
