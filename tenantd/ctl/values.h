/*
 * Values from the command line by their parameter's kind: the check done
 * while parsing (nothing sent yet), and the JSON each becomes in a request.
 * Most kinds are strings sent as given; lists become arrays, a JSON file its
 * object, durations a computed time or a number of seconds, limits a number
 * or null.
 */
#ifndef LLMOINCTL_VALUES_H
#define LLMOINCTL_VALUES_H

#include <jansson.h>
#include <time.h>

#include "commands.h"

/* Largest file --jwks-file and its kind read. */
#define VALUE_FILE_MAX (1u << 20)
/* Furthest an expiry given as a duration may lie ahead. */
#define VALUE_EXPIRY_MAX_DAYS 3650

/* Checks one value against its parameter's kind, without touching files:
 * CTL_EXIT_USAGE with the reason in err. */
int value_check(const struct ctl_param *p, const char *value, struct ctl_error *err);

/* The JSON the value stands for in a request body (a new reference in
 * *out). `now` is the clock for durations. Reads KIND_JSON_FILE files: their
 * problems are CTL_EXIT_USAGE; out of memory is CTL_EXIT_API. */
int value_to_json(const struct ctl_param *p, const char *value, time_t now, json_t **out,
                  struct ctl_error *err);

/* The pieces, exposed for the unit tests. `label` names the value in
 * messages ("--expires"). */

/* "a,b,c" -> ["a","b","c"]; entries are checked as kind `item`. */
int value_list(const char *label, const char *value, enum ctl_kind item, json_t **out,
               struct ctl_error *err);
/* A file ("-": standard input) of at most VALUE_FILE_MAX bytes holding a
 * JSON object. */
int value_json_file(const char *label, const char *path, json_t **out, struct ctl_error *err);
/* 90d/12h/30m -> now + that as YYYY-MM-DDTHH:MM:SSZ; a date or an RFC 3339
 * time is copied as given. out needs 32 bytes. */
int value_expiry(const char *label, const char *value, time_t now, char out[32],
                 struct ctl_error *err);
/* N, Ns, Nm, Nh -> seconds in [min, max]. */
int value_seconds(const char *label, const char *value, long long min, long long max,
                  long long *seconds, struct ctl_error *err);

/* A whole number (digits only) in [min, max]. */
int value_number(const char *label, const char *value, long long min, long long max,
                 long long *number, struct ctl_error *err);
/* A whole number in [0, max] -> that integer; "none" -> null (no limit). */
int value_limit(const char *label, const char *value, long long max, json_t **out,
                struct ctl_error *err);

#endif
