#include "validate.h"

#include <regex.h>
#include <stdio.h>
#include <string.h>

/* How every body is read: a scalar is valid JSON, just not an object, and
 * must be told apart from text that is not JSON at all. */
#define PARSE_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY)

static const char *
type_name(json_type type)
{
    switch (type) {
    case JSON_OBJECT:  return "an object";
    case JSON_ARRAY:   return "an array";
    case JSON_STRING:  return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL:    return "a number";
    case JSON_TRUE:
    case JSON_FALSE:   return "true or false";
    case JSON_NULL:    return "null";
    }
    return "a value";
}

static bool
type_matches(json_type wanted, const json_t *value)
{
    if (wanted == JSON_TRUE || wanted == JSON_FALSE) {
        return json_is_boolean(value);
    }
    return json_typeof(value) == wanted;
}

/* Characters, not bytes: "Senatorin für Finanzen" is 22 long. Continuation
 * bytes of UTF-8 (10xxxxxx) do not start a character. */
static size_t
count_characters(const char *text)
{
    size_t count = 0;

    for (; *text != '\0'; text++) {
        count += ((unsigned char) *text & 0xC0) != 0x80;
    }
    return count;
}

bool
validate_string(const field_spec_t *field, const char *value, char *message,
                size_t message_size)
{
    regex_t pattern;
    bool    matches;

    if (field->max_length > 0 && count_characters(value) > field->max_length) {
        snprintf(message, message_size, "field '%s' must be at most %zu characters long",
                 field->name, field->max_length);
        return false;
    }
    if (field->pattern == NULL) {
        return true;
    }
    if (regcomp(&pattern, field->pattern, REG_EXTENDED | REG_NOSUB) != 0) {
        snprintf(message, message_size, "internal error: bad pattern for '%s'",
                 field->name);
        return false;
    }
    matches = regexec(&pattern, value, 0, NULL, 0) == 0;
    regfree(&pattern);
    if (!matches) {
        snprintf(message, message_size, "field '%s' must be %s", field->name,
                 field->pattern_help != NULL ? field->pattern_help : field->pattern);
    }
    return matches;
}

static bool
check_string_array(const field_spec_t *field, const json_t *array, char *message,
                   size_t message_size)
{
    const json_t *element;
    size_t        index, earlier;

    if (json_array_size(array) > field->max_items) {
        snprintf(message, message_size, "field '%s' may hold at most %zu entries",
                 field->name, field->max_items);
        return false;
    }
    json_array_foreach(array, index, element) {
        if (!json_is_string(element)) {
            snprintf(message, message_size, "field '%s' must hold strings only",
                     field->name);
            return false;
        }
        if (!validate_string(field, json_string_value(element), message, message_size)) {
            return false;
        }
        /* Host names, model aliases, groups: a list names each once. */
        for (earlier = 0; earlier < index; earlier++) {
            if (json_equal(json_array_get(array, earlier), element)) {
                snprintf(message, message_size, "field '%s' lists '%s' twice", field->name,
                         json_string_value(element));
                return false;
            }
        }
    }
    return true;
}

/* The value (not absent) is of the field's type, or null where allowed. */
static bool
check_type(const field_spec_t *field, const json_t *value, char *message,
           size_t message_size)
{
    if ((json_is_null(value) && field->nullable) || type_matches(field->type, value)) {
        return true;
    }
    snprintf(message, message_size, "field '%s' must be %s%s", field->name,
             type_name(field->type), field->nullable ? " or null" : "");
    return false;
}

static bool
check_field(const field_spec_t *field, const json_t *value, char *message,
            size_t message_size)
{
    if (value == NULL) {
        if (field->required) {
            snprintf(message, message_size, "field '%s' is required", field->name);
            return false;
        }
        return true;
    }
    if (json_is_null(value) && field->nullable) {
        return true;
    }
    if (!check_type(field, value, message, message_size)) {
        return false;
    }
    if (json_is_string(value)) {
        return validate_string(field, json_string_value(value), message, message_size);
    }
    if (json_is_array(value)) {
        return check_string_array(field, value, message, message_size);
    }
    return true;
}

static const field_spec_t *
find_field(const field_spec_t *fields, const char *name)
{
    for (; fields->name != NULL; fields++) {
        if (strcmp(fields->name, name) == 0) {
            return fields;
        }
    }
    return NULL;
}

static bool
is_blank(const char *body, size_t length)
{
    size_t i;

    for (i = 0; i < length; i++) {
        if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r' && body[i] != '\n') {
            return false;
        }
    }
    return true;
}

/* --- valid JSON that jansson cannot hold ------------------------------------
 *
 * jansson refuses two things JSON allows: integers beyond 64 bits and
 * \u0000 in strings. Those are values the sender chose, not broken syntax,
 * so the body is read again with flags that take them, to name the field
 * that holds one. */

/* Integers beyond 64 bits, read as reals (JSON_DECODE_INT_AS_REAL). */
static bool
is_out_of_range(const json_t *value)
{
    double number = json_real_value(value);

    return json_is_real(value)
           && (number >= 9223372036854775808.0 || number < -9223372036854775808.0);
}

/* Strings holding \u0000, read with JSON_ALLOW_NUL. */
static bool
has_nul(const json_t *value)
{
    return json_is_string(value)
           && strlen(json_string_value(value)) != json_string_length(value);
}

/* Whether value is or holds (at any depth) a value `refused` picks out. */
static bool
holds(const json_t *value, bool (*refused)(const json_t *value))
{
    const json_t *member;
    const char   *name;
    size_t        index;

    if (refused(value)) {
        return true;
    }
    json_array_foreach((json_t *) value, index, member) {
        if (holds(member, refused)) {
            return true;
        }
    }
    json_object_foreach((json_t *) value, name, member) {
        if (holds(member, refused)) {
            return true;
        }
    }
    return false;
}

/* What is wrong with field's value, which holds a refused value. */
static void
describe_refused_field(const field_spec_t *field, const json_t *value,
                       bool (*refused)(const json_t *value), char *message,
                       size_t message_size)
{
    const json_t *element;
    size_t        index;

    /* Read again, every integer is a real: an integer field holds one. */
    if (field->type == JSON_INTEGER && is_out_of_range(value)) {
        snprintf(message, message_size, "field '%s' is out of range: integers must be "
                 "from -9223372036854775808 to 9223372036854775807", field->name);
        return;
    }
    if (!check_type(field, value, message, message_size)) {
        return;
    }
    json_array_foreach((json_t *) value, index, element) {
        if (field->type == JSON_ARRAY && !json_is_string(element)) {
            snprintf(message, message_size, "field '%s' must hold strings only",
                     field->name);
            return;
        }
    }
    if (refused == has_nul) {
        snprintf(message, message_size, "field '%s' must not contain \\u0000 "
                 "(a NUL character)", field->name);
    } else {
        snprintf(message, message_size, "field '%s' holds a number beyond 64-bit integers",
                 field->name);
    }
}

/* Reads the body again with `flags` and names the first member that holds
 * a value `refused` picks out. False when none is found (the body has
 * another problem too): the caller's message stands. */
static bool
describe_refused(const char *body, size_t length, const field_spec_t *fields,
                 size_t flags, bool (*refused)(const json_t *value), char *message,
                 size_t message_size)
{
    json_t     *object, *value;
    const char *name, *culprit = NULL;

    if (fields == NULL) {
        return false;
    }
    object = json_loadb(body, length, PARSE_FLAGS | flags, NULL);
    json_object_foreach(object, name, value) {
        if (find_field(fields, name) == NULL) {
            snprintf(message, message_size, "unknown field '%s'", name);
            culprit = name;
            break;
        }
    }
    json_object_foreach(object, name, value) {
        if (culprit == NULL && holds(value, refused)) {
            describe_refused_field(find_field(fields, name), value, refused, message,
                                   message_size);
            culprit = name;
        }
    }
    json_decref(object);
    return culprit != NULL;
}

static json_t *
parse_body(const char *body, size_t length, const field_spec_t *fields, char *message,
           size_t message_size)
{
    json_t       *object;
    json_error_t  error;

    if (is_blank(body, length)) {
        snprintf(message, message_size, "the request body is empty; a JSON object is required");
        return NULL;
    }
    object = json_loadb(body, length, PARSE_FLAGS, &error);
    if (object != NULL) {
        return object;
    }
    switch (json_error_code(&error)) {
    case json_error_numeric_overflow:
        if (!describe_refused(body, length, fields, JSON_DECODE_INT_AS_REAL, is_out_of_range,
                              message, message_size))
        {
            snprintf(message, message_size, "the request body holds a number too large "
                     "to read: %s (line %d, column %d)", error.text, error.line,
                     error.column);
        }
        break;
    case json_error_null_character:
        if (describe_refused(body, length, fields, JSON_ALLOW_NUL, has_nul, message,
                             message_size))
        {
            break;
        }
        /* fall through */
    case json_error_null_byte_in_key:
        snprintf(message, message_size, "the request body must not contain \\u0000 "
                 "(a NUL character) (line %d, column %d)", error.line, error.column);
        break;
    default:
        snprintf(message, message_size, "the request body is not valid JSON: %s "
                 "(line %d, column %d)", error.text, error.line, error.column);
    }
    return NULL;
}

json_t *
validate_json_object(const char *body, size_t length, char *message, size_t message_size)
{
    json_t *object = parse_body(body, length, NULL, message, message_size);

    if (object != NULL && !json_is_object(object)) {
        snprintf(message, message_size, "the request body must be a JSON object");
        json_decref(object);
        return NULL;
    }
    return object;
}

json_t *
validate_body(const char *body, size_t length, const field_spec_t *fields,
              char *message, size_t message_size)
{
    json_t      *object, *value;
    const char  *name;

    object = parse_body(body, length, fields, message, message_size);
    if (object == NULL) {
        return NULL;
    }
    if (!json_is_object(object)) {
        snprintf(message, message_size, "the request body must be a JSON object");
        json_decref(object);
        return NULL;
    }
    json_object_foreach(object, name, value) {
        if (find_field(fields, name) == NULL) {
            snprintf(message, message_size, "unknown field '%s'", name);
            json_decref(object);
            return NULL;
        }
    }
    for (; fields->name != NULL; fields++) {
        if (!check_field(fields, json_object_get(object, fields->name), message,
                         message_size))
        {
            json_decref(object);
            return NULL;
        }
    }
    return object;
}
