#include "journal.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct reader {
    json_t *object;
    char   *reason;
    size_t  reason_size;
} reader_t;

static const char *
field(reader_t *reader, const char *name)
{
    json_t *value = json_object_get(reader->object, name);

    if (!json_is_string(value)) {
        snprintf(reader->reason, reader->reason_size,
                 "field '%s' is missing or not a string", name);
        return NULL;
    }
    return json_string_value(value);
}

static int
copy_text(reader_t *reader, const char *name, char *out, size_t size,
          bool may_be_empty)
{
    const char *value = field(reader, name);

    if (value == NULL) {
        return -1;
    }
    if (strlen(value) >= size || (!may_be_empty && value[0] == '\0')) {
        snprintf(reader->reason, reader->reason_size,
                 "field '%s' is empty or longer than %zu bytes", name, size - 1);
        return -1;
    }
    memcpy(out, value, strlen(value) + 1);
    return 0;
}

/* A field that later journal versions added: a line without it reads as
 * `fallback`; present, it must be a string like any other field. */
static int
copy_optional_text(reader_t *reader, const char *name, char *out, size_t size,
                   bool may_be_empty, const char *fallback)
{
    json_t *value = json_object_get(reader->object, name);

    if (value == NULL) {
        snprintf(out, size, "%s", fallback);
        return 0;
    }
    if (!json_is_string(value)) {
        snprintf(reader->reason, reader->reason_size, "field '%s' is not a string",
                 name);
        return -1;
    }
    return copy_text(reader, name, out, size, may_be_empty);
}

/* No control characters (C0, DEL and C1, U+0080..U+009F, which UTF-8 writes
 * as C2 80..C2 9F): the text ends up in Redis keys and in reports. */
static int
check_no_controls(reader_t *reader, const char *name, const char *value)
{
    const unsigned char *p;

    for (p = (const unsigned char *) value; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)) {
            snprintf(reader->reason, reader->reason_size,
                     "field '%s' contains a control character", name);
            return -1;
        }
    }
    return 0;
}

static int
read_integer(reader_t *reader, const char *name, long long *out)
{
    const char *value = field(reader, name);
    char       *end;

    if (value == NULL) {
        return -1;
    }
    errno = 0;
    *out = strtoll(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || *out < 0 || !isdigit((unsigned char) value[0])) {
        snprintf(reader->reason, reader->reason_size,
                 "field '%s' is not a non-negative whole number", name);
        return -1;
    }
    return 0;
}

static int
parse_seconds(reader_t *reader, const char *name, const char *value, char *out,
              size_t size, double *seconds)
{
    char *end;

    /* plain decimals only: strtod would also take hex floats and "inf",
     * which the database refuses */
    if (strspn(value, "0123456789.") != strlen(value)) {
        snprintf(reader->reason, reader->reason_size,
                 "field '%s' is not a time in seconds", name);
        return -1;
    }
    *seconds = strtod(value, &end);
    if (end == value || *end != '\0' || *seconds < 0 || strlen(value) >= size
        || !isdigit((unsigned char) value[0]))
    {
        snprintf(reader->reason, reader->reason_size,
                 "field '%s' is not a time in seconds", name);
        return -1;
    }
    memcpy(out, value, strlen(value) + 1);
    return 0;
}

static int
read_seconds(reader_t *reader, const char *name, char *out, size_t size,
             double *seconds)
{
    const char *value = field(reader, name);

    if (value == NULL) {
        return -1;
    }
    return parse_seconds(reader, name, value, out, size, seconds);
}

/* At most a week: larger values would overflow the integer columns (and
 * the conversion of a huge double to long is undefined). */
static int
to_milliseconds(reader_t *reader, const char *name, double seconds,
                long *milliseconds)
{
    if (seconds > LLMOIN_JOURNAL_REQUEST_TIME_MAX) {
        snprintf(reader->reason, reader->reason_size,
                 "field '%s' is longer than a week", name);
        return -1;
    }
    *milliseconds = (long) (seconds * 1000.0 + 0.5);
    return 0;
}

/* A time that may be missing or "" (nothing happened): *milliseconds -1. */
static int
read_optional_milliseconds(reader_t *reader, const char *name, long *milliseconds)
{
    char   text[32], ignored[32];
    double seconds;

    *milliseconds = -1;
    if (copy_optional_text(reader, name, text, sizeof(text), true, "") != 0) {
        return -1;
    }
    if (text[0] == '\0') {
        return 0;
    }
    if (parse_seconds(reader, name, text, ignored, sizeof(ignored), &seconds) != 0) {
        return -1;
    }
    return to_milliseconds(reader, name, seconds, milliseconds);
}

static int
check_request_id(reader_t *reader, const char *id)
{
    size_t i;

    for (i = 0; id[i] != '\0'; i++) {
        if (!isxdigit((unsigned char) id[i])) {
            break;
        }
    }
    if (i != 32 || id[i] != '\0') {
        snprintf(reader->reason, reader->reason_size,
                 "field 'request_id' is not 32 hexadecimal digits");
        return -1;
    }
    return 0;
}

static int
check_choice(reader_t *reader, const char *name, const char *value,
             const char *const *choices)
{
    for (; *choices != NULL; choices++) {
        if (strcmp(value, *choices) == 0) {
            return 0;
        }
    }
    snprintf(reader->reason, reader->reason_size, "field '%s' has an unknown value",
             name);
    return -1;
}

static int
read_record(reader_t *reader, llmoin_journal_record_t *record)
{
    static const char *const sources[] = { "reported", "estimated", "none", NULL };
    static const char *const flags[] = { "0", "1", NULL };
    static const char *const versions[] = { "1", NULL };
    static const char *const quotas[] = { "checked", "unchecked", "none", NULL };
    static const char *const functions[] = { "", "chat", "summarize", "write",
                                             "research", "plain_language", NULL };
    char                     stream[4], version[4], ignored[32];
    long long                status;
    double                   request_time, timestamp;

    if (copy_text(reader, "v", version, sizeof(version), false) != 0
        || check_choice(reader, "v", version, versions) != 0
        || read_seconds(reader, "ts", record->ts, sizeof(record->ts), &timestamp) != 0
        || copy_text(reader, "request_id", record->request_id,
                     sizeof(record->request_id), false) != 0
        || check_request_id(reader, record->request_id) != 0
        || read_integer(reader, "tenant_id", &record->tenant_id) != 0
        || copy_text(reader, "user", record->user, sizeof(record->user), false) != 0
        || copy_text(reader, "key_id", record->key_id, sizeof(record->key_id), true) != 0
        || copy_text(reader, "model", record->model, sizeof(record->model), true) != 0
        || copy_text(reader, "pool", record->pool, sizeof(record->pool), true) != 0
        || read_integer(reader, "status", &status) != 0
        || copy_text(reader, "upstream_status", record->upstream_status,
                     sizeof(record->upstream_status), true) != 0
        || read_integer(reader, "prompt_tokens", &record->prompt_tokens) != 0
        || read_integer(reader, "completion_tokens", &record->completion_tokens) != 0
        || copy_text(reader, "usage", record->usage_source,
                     sizeof(record->usage_source), false) != 0
        || check_choice(reader, "usage", record->usage_source, sources) != 0
        || copy_text(reader, "stream", stream, sizeof(stream), false) != 0
        || check_choice(reader, "stream", stream, flags) != 0
        || read_seconds(reader, "request_time", ignored, sizeof(ignored),
                        &request_time) != 0
        || copy_optional_text(reader, "groups", record->groups, sizeof(record->groups),
                              true, "") != 0
        || check_no_controls(reader, "groups", record->groups) != 0
        || copy_optional_text(reader, "quota", record->quota, sizeof(record->quota),
                              false, "none") != 0
        || check_choice(reader, "quota", record->quota, quotas) != 0
        || copy_optional_text(reader, "function", record->function,
                              sizeof(record->function), true, "") != 0
        || check_choice(reader, "function", record->function, functions) != 0
        || read_optional_milliseconds(reader, "first_byte_time",
                                      &record->first_byte_ms) != 0)
    {
        return -1;
    }
    /* within what PostgreSQL's columns hold, so a parsed line always fits */
    if (timestamp < LLMOIN_JOURNAL_TS_MIN || timestamp > LLMOIN_JOURNAL_TS_MAX) {
        snprintf(reader->reason, reader->reason_size,
                 "field 'ts' is outside 2000-01-01 to 2100-01-01");
        return -1;
    }
    if (to_milliseconds(reader, "request_time", request_time,
                        &record->request_time_ms) != 0)
    {
        return -1;
    }
    if (status > 999 || record->prompt_tokens > 2000000000LL
        || record->completion_tokens > 2000000000LL
        || record->tenant_id > 9000000000000000000LL)
    {
        snprintf(reader->reason, reader->reason_size, "a number is out of range");
        return -1;
    }
    record->status = (int) status;
    record->stream = stream[0] == '1';
    return 0;
}

int
llmoin_journal_parse(const char *line, size_t length,
                     llmoin_journal_record_t *record, char *reason,
                     size_t reason_size)
{
    json_error_t error;
    reader_t     reader = { NULL, reason, reason_size };
    int          rc;

    memset(record, 0, sizeof(*record));
    reader.object = json_loadb(line, length, JSON_REJECT_DUPLICATES, &error);
    if (reader.object == NULL || !json_is_object(reader.object)) {
        snprintf(reason, reason_size, "not a JSON object: %s",
                 reader.object == NULL ? error.text : "other JSON value");
        json_decref(reader.object);
        return -1;
    }
    rc = read_record(&reader, record);
    json_decref(reader.object);
    return rc;
}
