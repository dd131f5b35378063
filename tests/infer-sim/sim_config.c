#include "sim_config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum field_kind {
    FIELD_NUMBER,
    FIELD_INTEGER,
    FIELD_FAIL_STATUS,
} field_kind;

typedef struct field {
    const char *name;
    field_kind kind;
    double minimum;
    double maximum;
    bool null_means_unset; /* JSON null stores 0, meaning "not fixed" */
    size_t offset;
} field;

#define FIELD(member, kind, minimum, maximum, nullable)                        \
    { #member, kind, minimum, maximum, nullable,                               \
      offsetof(sim_runtime_config, member) }

/* The ranges are generous but finite so nobody sets a year-long TTFT by typo. */
static const field fields[] = {
    FIELD(tokens_per_second, FIELD_NUMBER, 0, 1e6, false),
    FIELD(ttft_ms, FIELD_INTEGER, 0, 3600000, false),
    FIELD(fail_rate, FIELD_NUMBER, 0, 1, false),
    FIELD(fail_status, FIELD_FAIL_STATUS, 0, 0, false),
    FIELD(cut_rate, FIELD_NUMBER, 0, 1, false),
    FIELD(cut_after, FIELD_INTEGER, 0, 1000000, false),
    FIELD(answer_tokens, FIELD_INTEGER, 1, 100000, true),
};
#define FIELD_COUNT (sizeof fields / sizeof fields[0])

void sim_runtime_config_defaults(sim_runtime_config *config)
{
    *config = (sim_runtime_config){
        .tokens_per_second = 0,
        .ttft_ms = 0,
        .fail_rate = 0,
        .fail_status = SIM_FAIL_STATUS_MIXED,
        .cut_rate = 0,
        .cut_after = 3,
        .answer_tokens = 0,
    };
}

static const field *find_field(const char *name)
{
    for (size_t i = 0; i < FIELD_COUNT; i++) {
        if (strcmp(fields[i].name, name) == 0)
            return &fields[i];
    }
    return NULL;
}

static int fail(char *error, size_t capacity, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *error, size_t capacity, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(error, capacity, format, arguments);
    va_end(arguments);
    return -1;
}

/* Whole numbers without an exponent: "1000000", not "1e+06". */
static void format_bound(double value, char *out, size_t capacity)
{
    if (value == (double)(int64_t)value)
        snprintf(out, capacity, "%" PRId64, (int64_t)value);
    else
        snprintf(out, capacity, "%g", value);
}

/* "a number from 0 to 1"; JSON callers may also send null where allowed. */
static void describe(const field *field, bool json, char *out, size_t capacity)
{
    char minimum[32], maximum[32];
    format_bound(field->minimum, minimum, sizeof minimum);
    format_bound(field->maximum, maximum, sizeof maximum);
    switch (field->kind) {
    case FIELD_NUMBER:
        snprintf(out, capacity, "a number from %s to %s", minimum, maximum);
        break;
    case FIELD_INTEGER:
        snprintf(out, capacity, "an integer from %s to %s%s", minimum, maximum,
                 json && field->null_means_unset
                     ? " (or null for the natural length)"
                     : "");
        break;
    case FIELD_FAIL_STATUS:
        snprintf(out, capacity, "500, 503 or \"mixed\"");
        break;
    }
}

static bool in_range(const field *field, double value)
{
    return value >= field->minimum && value <= field->maximum;
}

static void store_number(sim_runtime_config *config, const field *field,
                         double value)
{
    *(double *)((char *)config + field->offset) = value;
}

static void store_integer(sim_runtime_config *config, const field *field,
                          int64_t value)
{
    *(int64_t *)((char *)config + field->offset) = value;
}

static void store_fail_status(sim_runtime_config *config, const field *field,
                              sim_fail_status value)
{
    *(sim_fail_status *)((char *)config + field->offset) = value;
}

static bool parse_fail_status(const char *text, sim_fail_status *status)
{
    if (strcmp(text, "500") == 0)
        *status = SIM_FAIL_STATUS_500;
    else if (strcmp(text, "503") == 0)
        *status = SIM_FAIL_STATUS_503;
    else if (strcmp(text, "mixed") == 0)
        *status = SIM_FAIL_STATUS_MIXED;
    else
        return false;
    return true;
}

static bool parse_number_text(const char *text, double *value)
{
    char *end;
    errno = 0;
    *value = strtod(text, &end);
    return *text != '\0' && *end == '\0' && errno == 0 && isfinite(*value);
}

static bool parse_integer_text(const char *text, int64_t *value)
{
    char *end;
    errno = 0;
    long long parsed = strtoll(text, &end, 10);
    *value = parsed;
    return *text != '\0' && *end == '\0' && errno == 0;
}

int sim_runtime_config_set_text(sim_runtime_config *config, const char *name,
                                const char *text, char *error, size_t capacity)
{
    const field *field = find_field(name);
    if (field == NULL)
        return fail(error, capacity, "unknown setting '%s'", name);
    char expected[128];
    describe(field, false, expected, sizeof expected);
    double number;
    int64_t integer;
    sim_fail_status status;
    switch (field->kind) {
    case FIELD_NUMBER:
        if (!parse_number_text(text, &number) || !in_range(field, number))
            return fail(error, capacity, "expected %s, got '%s'", expected, text);
        store_number(config, field, number);
        return 0;
    case FIELD_INTEGER:
        if (!parse_integer_text(text, &integer) ||
            !in_range(field, (double)integer))
            return fail(error, capacity, "expected %s, got '%s'", expected, text);
        store_integer(config, field, integer);
        return 0;
    case FIELD_FAIL_STATUS:
        if (!parse_fail_status(text, &status))
            return fail(error, capacity, "expected 500, 503 or mixed, got '%s'",
                        text);
        store_fail_status(config, field, status);
        return 0;
    }
    return fail(error, capacity, "unhandled setting '%s'", name);
}

static const char *json_type_name(const json_t *value)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a decimal number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "an unknown value";
}

static int wrong_type(const field *field, const json_t *value, char *error,
                      size_t capacity)
{
    char expected[128];
    describe(field, true, expected, sizeof expected);
    return fail(error, capacity,
                "Invalid type for '%s': expected %s, but got %s instead.",
                field->name, expected, json_type_name(value));
}

static int out_of_range(const field *field, double value, char *error,
                        size_t capacity)
{
    char expected[128];
    describe(field, true, expected, sizeof expected);
    return fail(error, capacity, "Invalid '%s': expected %s, but got %g instead.",
                field->name, expected, value);
}

static int set_json_fail_status(sim_runtime_config *config, const field *field,
                                const json_t *value, char *error,
                                size_t capacity)
{
    sim_fail_status status;
    bool valid;
    if (json_is_string(value)) {
        valid = parse_fail_status(json_string_value(value), &status);
    } else if (json_is_integer(value)) {
        json_int_t code = json_integer_value(value);
        valid = code == 500 || code == 503;
        status = code == 503 ? SIM_FAIL_STATUS_503 : SIM_FAIL_STATUS_500;
    } else {
        return wrong_type(field, value, error, capacity);
    }
    if (!valid)
        return fail(error, capacity,
                    "Invalid 'fail_status': expected 500, 503 or \"mixed\".");
    store_fail_status(config, field, status);
    return 0;
}

static int set_json_field(sim_runtime_config *config, const field *field,
                          const json_t *value, char *error, size_t capacity)
{
    if (json_is_null(value) && field->null_means_unset) {
        store_integer(config, field, 0);
        return 0;
    }
    switch (field->kind) {
    case FIELD_NUMBER:
        if (!json_is_number(value))
            return wrong_type(field, value, error, capacity);
        if (!in_range(field, json_number_value(value)))
            return out_of_range(field, json_number_value(value), error, capacity);
        store_number(config, field, json_number_value(value));
        return 0;
    case FIELD_INTEGER:
        if (!json_is_integer(value))
            return wrong_type(field, value, error, capacity);
        if (!in_range(field, (double)json_integer_value(value)))
            return out_of_range(field, (double)json_integer_value(value), error,
                                capacity);
        store_integer(config, field, json_integer_value(value));
        return 0;
    case FIELD_FAIL_STATUS:
        return set_json_fail_status(config, field, value, error, capacity);
    }
    return fail(error, capacity, "Unhandled field '%s'.", field->name);
}

int sim_runtime_config_patch(sim_runtime_config *config, const json_t *patch,
                             char *error, size_t capacity)
{
    if (!json_is_object(patch))
        return fail(error, capacity,
                    "Invalid request body: expected a JSON object of settings, "
                    "but got %s instead.",
                    json_type_name(patch));
    sim_runtime_config candidate = *config;
    const char *name;
    const json_t *value;
    json_object_foreach((json_t *)patch, name, value) {
        const field *field = find_field(name);
        if (field == NULL)
            return fail(error, capacity,
                        "Unknown field '%.64s'. Known fields: tokens_per_second, "
                        "ttft_ms, fail_rate, fail_status, cut_rate, cut_after, "
                        "answer_tokens.",
                        name);
        if (set_json_field(&candidate, field, value, error, capacity) != 0)
            return -1;
    }
    *config = candidate;
    return 0;
}

static json_t *fail_status_json(sim_fail_status status)
{
    switch (status) {
    case SIM_FAIL_STATUS_500: return json_string("500");
    case SIM_FAIL_STATUS_503: return json_string("503");
    case SIM_FAIL_STATUS_MIXED: break;
    }
    return json_string("mixed");
}

json_t *sim_runtime_config_to_json(const sim_runtime_config *config)
{
    return json_pack("{s:f, s:I, s:f, s:o, s:f, s:I, s:o}",
                     "tokens_per_second", config->tokens_per_second,
                     "ttft_ms", (json_int_t)config->ttft_ms,
                     "fail_rate", config->fail_rate,
                     "fail_status", fail_status_json(config->fail_status),
                     "cut_rate", config->cut_rate,
                     "cut_after", (json_int_t)config->cut_after,
                     "answer_tokens",
                     config->answer_tokens == 0
                         ? json_null()
                         : json_integer(config->answer_tokens));
}

void sim_live_config_init(sim_live_config *live,
                          const sim_runtime_config *initial)
{
    pthread_mutex_init(&live->lock, NULL);
    live->current = *initial;
}

void sim_live_config_destroy(sim_live_config *live)
{
    pthread_mutex_destroy(&live->lock);
}

sim_runtime_config sim_live_config_snapshot(sim_live_config *live)
{
    pthread_mutex_lock(&live->lock);
    sim_runtime_config copy = live->current;
    pthread_mutex_unlock(&live->lock);
    return copy;
}

int sim_live_config_patch(sim_live_config *live, const json_t *patch,
                          sim_runtime_config *result, char *error,
                          size_t capacity)
{
    pthread_mutex_lock(&live->lock);
    int status = sim_runtime_config_patch(&live->current, patch, error, capacity);
    *result = live->current;
    pthread_mutex_unlock(&live->lock);
    return status;
}
