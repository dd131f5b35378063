#include "values.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"
#include "validate.h"

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static int out_of_memory(struct ctl_error *err)
{
    return ctl_fail(err, CTL_EXIT_API, "out of memory");
}

/* JSON strings are UTF-8: a value in another encoding is the operator's to fix. */
static int string_json(const char *label, const char *value, json_t **out,
                       struct ctl_error *err)
{
    json_t *probe;

    if ((*out = json_string(value)))
        return 0;
    if (!(probe = json_string("x")))
        return out_of_memory(err);
    json_decref(probe);
    return ctl_fail(err, CTL_EXIT_USAGE, "invalid %s: the text is not valid UTF-8", label);
}

/* ---- lists ---------------------------------------------------------------- */

static bool list_has(const json_t *list, const char *s, size_t n)
{
    const json_t *v;
    size_t i;

    json_array_foreach(list, i, v)
        if (json_string_length(v) == n && memcmp(json_string_value(v), s, n) == 0)
            return true;
    return false;
}

static int list_entry(const char *label, const char *value, const char *entry, size_t n,
                      size_t index, enum ctl_kind item, json_t *list, struct ctl_error *err)
{
    struct ctl_param p = { .kind = item };
    char name[64];
    char *text;
    json_t *s = NULL;
    int rc;

    if (n == 0)
        return ctl_fail(err, CTL_EXIT_USAGE,
                        "invalid %s '%s': entry %zu is empty (separate entries with ',' only)",
                        label, value, index);
    if (entry[0] == ' ' || entry[n - 1] == ' ')
        return ctl_fail(err, CTL_EXIT_USAGE,
                        "invalid %s '%s': entry '%.*s' starts or ends with a blank "
                        "(separate entries with ',' only)",
                        label, value, (int)n, entry);
    if (list_has(list, entry, n))
        return ctl_fail(err, CTL_EXIT_USAGE, "invalid %s '%s': '%.*s' is given twice", label,
                        value, (int)n, entry);
    if (!(text = strndup(entry, n)))
        return out_of_memory(err);
    snprintf(name, sizeof name, "%s entry", label);
    p.name = name;
    rc = value_check(&p, text, err);
    if (rc == 0)
        rc = string_json(name, text, &s, err);
    if (rc == 0 && json_array_append_new(list, s) != 0)
        rc = out_of_memory(err);
    free(text);
    return rc;
}

int value_list(const char *label, const char *value, enum ctl_kind item, json_t **out,
               struct ctl_error *err)
{
    json_t *list = json_array();
    const char *p = value;
    size_t index = 1;
    int rc = 0;

    *out = NULL;
    if (!list)
        return out_of_memory(err);
    if (!value[0]) {
        json_decref(list);
        return ctl_fail(err, CTL_EXIT_USAGE,
                        "invalid %s: must not be empty; give entries separated by ','", label);
    }
    for (;; index++) {
        size_t n = strcspn(p, ",");

        if ((rc = list_entry(label, value, p, n, index, item, list, err)))
            break;
        if (!p[n])
            break;
        p += n + 1;
    }
    if (rc) {
        json_decref(list);
        return rc;
    }
    *out = list;
    return 0;
}

/* ---- JSON files ------------------------------------------------------------ */

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "true or false";
    case JSON_NULL:
        return "null";
    case JSON_OBJECT:
        break;
    }
    return "an object";
}

/* Reads at most max + 1 bytes, so that "too large" can be told apart. */
static int read_file(const char *label, const char *path, struct sbuf *data,
                     struct ctl_error *err)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    char chunk[8192];
    size_t n;
    int rc = 0;

    if (!f)
        return ctl_fail(err, CTL_EXIT_USAGE, "cannot read %s '%s': %s", label, path,
                        strerror(errno));
    while (data->len <= VALUE_FILE_MAX && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        sbuf_addn(data, chunk, n);
    if (ferror(f))
        rc = ctl_fail(err, CTL_EXIT_USAGE, "cannot read %s '%s': %s", label, path,
                      strerror(errno));
    else if (data->failed)
        rc = out_of_memory(err);
    else if (data->len > VALUE_FILE_MAX)
        rc = ctl_fail(err, CTL_EXIT_USAGE, "%s '%s' is larger than %u MiB", label, path,
                      VALUE_FILE_MAX >> 20);
    if (!is_stdin)
        fclose(f);
    return rc;
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr(" \t\r\n", s[i]))
            return false;
    return true;
}

int value_json_file(const char *label, const char *path, json_t **out, struct ctl_error *err)
{
    struct sbuf data = SBUF_INIT;
    json_error_t jerr;
    json_t *doc = NULL;
    int rc;

    *out = NULL;
    if ((rc = read_file(label, path, &data, err))) {
        sbuf_free(&data);
        return rc;
    }
    if (blank(data.data, data.len))
        rc = ctl_fail(err, CTL_EXIT_USAGE, "invalid %s '%s': the file is empty; expected a "
                      "JSON object", label, path);
    else if (!(doc = json_loadb(data.data, data.len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
                                &jerr)))
        rc = ctl_fail(err, CTL_EXIT_USAGE, "invalid %s '%s': not JSON: %s (line %d, column %d)",
                      label, path, jerr.text, jerr.line, jerr.column);
    else if (!json_is_object(doc))
        rc = ctl_fail(err, CTL_EXIT_USAGE,
                      "invalid %s '%s': expected a JSON object ({...}), the file holds %s", label,
                      path, json_type_name(doc));
    sbuf_free(&data);
    if (rc) {
        json_decref(doc);
        return rc;
    }
    *out = doc;
    return 0;
}

/* ---- durations ------------------------------------------------------------- */

/* "<digits><unit>" with unit one of `units`, or no unit when `bare` (then
 * *unit is '\0'). False when the shape does not match; *count is -1 when the
 * number has more than 9 digits (larger than any limit here). */
static bool duration_shape(const char *value, const char *units, bool bare, long long *count,
                           char *unit)
{
    size_t n = 0;

    while (is_digit(value[n]))
        n++;
    if (n == 0)
        return false;
    if (value[n] == '\0' && bare)
        *unit = '\0';
    else if (value[n] != '\0' && strchr(units, value[n]) && value[n + 1] == '\0')
        *unit = value[n];
    else
        return false;
    *count = n > 9 ? -1 : strtoll(value, NULL, 10);
    return true;
}

static long long unit_seconds(char unit)
{
    switch (unit) {
    case 'd':
        return 86400;
    case 'h':
        return 3600;
    case 'm':
        return 60;
    default:
        return 1;
    }
}

static bool all_digits(const char *s)
{
    for (; *s; s++)
        if (!is_digit(*s))
            return false;
    return true;
}

int value_expiry(const char *label, const char *value, time_t now, char out[32],
                 struct ctl_error *err)
{
    static const long long max = (long long)VALUE_EXPIRY_MAX_DAYS * 86400;
    long long count, seconds;
    char unit;
    struct tm tm;
    time_t at;

    if (duration_shape(value, "dhm", false, &count, &unit)) {
        seconds = count < 0 ? max + 1 : count * unit_seconds(unit);
        if (seconds == 0)
            return ctl_fail(err, CTL_EXIT_USAGE, "invalid %s '%s': the duration must be positive",
                            label, value);
        if (seconds > max)
            return ctl_fail(err, CTL_EXIT_USAGE,
                            "invalid %s '%s': at most %d days (10 years) ahead", label, value,
                            VALUE_EXPIRY_MAX_DAYS);
        at = now + (time_t)seconds;
        if (!gmtime_r(&at, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
            return ctl_fail(err, CTL_EXIT_USAGE, "invalid %s '%s': the time is out of range",
                            label, value);
        return 0;
    }
    if (value[0] && all_digits(value))
        return ctl_fail(err, CTL_EXIT_USAGE,
                        "invalid %s '%s': a duration needs a unit: %sd (days), %sh (hours) or "
                        "%sm (minutes)",
                        label, value, value, value, value);
    if (strlen(value) == 10 && value[4] == '-' && value[7] == '-') {
        if (validate_date(label, value, err))
            return CTL_EXIT_USAGE;
    } else if (strlen(value) > 10 && value[4] == '-' && value[7] == '-' && value[10] == 'T') {
        if (validate_time(label, value, err))
            return CTL_EXIT_USAGE;
    } else {
        return ctl_fail(err, CTL_EXIT_USAGE,
                        "invalid %s '%s': expected a duration (90d, 12h or 30m), a date "
                        "(2027-02-27) or an RFC 3339 time (2027-02-27T12:00:00Z)",
                        label, value);
    }
    snprintf(out, 32, "%s", value);
    return 0;
}

int value_seconds(const char *label, const char *value, long long min, long long max,
                  long long *seconds, struct ctl_error *err)
{
    long long count;
    char unit;

    if (!duration_shape(value, "smh", true, &count, &unit))
        return ctl_fail(err, CTL_EXIT_USAGE,
                        "invalid %s '%s': expected seconds (3600 or 3600s), minutes (30m) or "
                        "hours (1h)",
                        label, value);
    *seconds = count < 0 ? max + 1 : count * unit_seconds(unit);
    if (*seconds < min)
        return ctl_fail(err, CTL_EXIT_USAGE, "invalid %s '%s': must be at least %lld seconds",
                        label, value, min);
    if (*seconds > max)
        return ctl_fail(err, CTL_EXIT_USAGE, "invalid %s '%s': must be at most %lld seconds",
                        label, value, max);
    return 0;
}

/* ---- limits ------------------------------------------------------------------ */

int value_number(const char *label, const char *value, long long min, long long max,
                 long long *number, struct ctl_error *err)
{
    size_t n = strlen(value);
    bool fits = n > 0 && all_digits(value);

    /* Digit by digit, so that no number is too large to compare. */
    *number = 0;
    for (size_t i = 0; fits && i < n; i++) {
        fits = *number <= (max - (value[i] - '0')) / 10;
        if (fits)
            *number = *number * 10 + (value[i] - '0');
    }
    if (!fits || *number < min)
        return ctl_fail(err, CTL_EXIT_USAGE, "invalid %s '%s': expected a whole number from %lld "
                        "to %lld", label, value, min, max);
    return 0;
}

int value_limit(const char *label, const char *value, long long max, json_t **out,
                struct ctl_error *err)
{
    long long number;

    *out = NULL;
    if (strcmp(value, "none") == 0)
        return (*out = json_null()) ? 0 : out_of_memory(err);
    if (value_number(label, value, 0, max, &number, err))
        return ctl_fail(err, CTL_EXIT_USAGE,
                        "invalid %s '%s': expected a whole number from 0 to %lld, or none to "
                        "lift the limit",
                        label, value, max);
    return (*out = json_integer(number)) ? 0 : out_of_memory(err);
}

/* ---- by kind ---------------------------------------------------------------- */

int value_check(const struct ctl_param *p, const char *value, struct ctl_error *err)
{
    json_t *list;
    long long seconds;
    char when[32];
    int rc;

    switch (p->kind) {
    case KIND_TEXT:
    case KIND_JSON_FILE:
        return validate_text(p->name, value, err);
    case KIND_SLUG:
        return validate_slug(p->name, value, err);
    case KIND_KEY_ID:
        return validate_key_id(p->name, value, err);
    case KIND_DATE:
        return validate_date(p->name, value, err);
    case KIND_MONTH:
        return validate_month(p->name, value, err);
    case KIND_CHOICE:
        return validate_choice(p->name, value, p->choices, err);
    case KIND_SOCKET:
        return validate_socket_path(p->name, value, err);
    case KIND_HOST:
        return validate_host(p->name, value, err);
    case KIND_URL:
        return validate_url(p->name, value, err);
    case KIND_ISSUER_ID:
        return validate_issuer_id(p->name, value, err);
    case KIND_LIST:
        rc = value_list(p->name, value, p->item, &list, err);
        json_decref(list);
        return rc;
    case KIND_EXPIRY:
        return value_expiry(p->name, value, 0, when, err);
    case KIND_SECONDS:
        return value_seconds(p->name, value, p->min, p->max, &seconds, err);
    case KIND_NUMBER:
        return value_number(p->name, value, p->min, p->max, &seconds, err);
    case KIND_LIMIT:
        rc = value_limit(p->name, value, p->max, &list, err);
        json_decref(list);
        return rc;
    case KIND_FLAG:
        break;
    }
    return 0;
}

/* A JSON text from the command table. */
static int table_json(const struct ctl_param *p, const char *text, json_t **out,
                      struct ctl_error *err)
{
    json_error_t jerr;

    if (!(*out = json_loads(text, JSON_DECODE_ANY, &jerr)))
        return ctl_fail(err, CTL_EXIT_API, "internal error: %s sends '%s': %s", p->name, text,
                        jerr.text);
    return 0;
}

int value_to_json(const struct ctl_param *p, const char *value, time_t now, json_t **out,
                  struct ctl_error *err)
{
    long long seconds;
    char when[32];
    int rc;

    *out = NULL;
    switch (p->kind) {
    case KIND_FLAG:
        return p->json_values ? table_json(p, p->json_values[0], out, err)
                              : (*out = json_true()) ? 0 : out_of_memory(err);
    case KIND_CHOICE:
        for (size_t i = 0; p->json_values && p->choices[i]; i++)
            if (strcmp(value, p->choices[i]) == 0)
                return table_json(p, p->json_values[i], out, err);
        break;
    case KIND_LIST:
        return value_list(p->name, value, p->item, out, err);
    case KIND_JSON_FILE:
        return value_json_file(p->name, value, out, err);
    case KIND_EXPIRY:
        if ((rc = value_expiry(p->name, value, now, when, err)))
            return rc;
        return string_json(p->name, when, out, err);
    case KIND_SECONDS:
        if ((rc = value_seconds(p->name, value, p->min, p->max, &seconds, err)))
            return rc;
        return (*out = json_integer(seconds)) ? 0 : out_of_memory(err);
    case KIND_NUMBER:
        if ((rc = value_number(p->name, value, p->min, p->max, &seconds, err)))
            return rc;
        return (*out = json_integer(seconds)) ? 0 : out_of_memory(err);
    case KIND_LIMIT:
        return value_limit(p->name, value, p->max, out, err);
    default:
        break;
    }
    return string_json(p->name, value, out, err);
}
