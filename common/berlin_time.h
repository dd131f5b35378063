/*
 * berlin_time: calendar months in Europe/Berlin, without a time zone
 * database. Budgets run per Berlin calendar month, on every gateway node
 * alike, whatever TZ a process has.
 *
 * Berlin is UTC+1, and UTC+2 from the last Sunday of March 01:00 UTC to the
 * last Sunday of October 01:00 UTC (the EU rule since 1996).
 */
#ifndef LLMOIN_BERLIN_TIME_H
#define LLMOIN_BERLIN_TIME_H

#define LLMOIN_MONTH_SIZE 8   /* "2026-11" and the NUL */

/* Seconds Berlin is ahead of UTC at that instant: 3600 or 7200. */
int llmoin_berlin_utc_offset(long long unix_seconds);

/* The Berlin month of an instant, "YYYY-MM". */
void llmoin_berlin_month(long long unix_seconds, char out[LLMOIN_MONTH_SIZE]);

/* The instant the next Berlin month begins (unix seconds). */
long long llmoin_berlin_next_month(long long unix_seconds);

#endif
