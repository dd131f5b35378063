#include "validate.h"

#include <regex.h>
#include <stdio.h>
#include <string.h>

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
    size_t        index;

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
    }
    return true;
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
    if (!type_matches(field->type, value)) {
        snprintf(message, message_size, "field '%s' must be %s%s", field->name,
                 type_name(field->type), field->nullable ? " or null" : "");
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

json_t *
validate_body(const char *body, size_t length, const field_spec_t *fields,
              char *message, size_t message_size)
{
    json_t       *object, *value;
    json_error_t  error;
    const char   *name;

    if (length == 0) {
        snprintf(message, message_size, "the request body is empty; a JSON object is required");
        return NULL;
    }
    object = json_loadb(body, length, JSON_REJECT_DUPLICATES, &error);
    if (object == NULL) {
        snprintf(message, message_size, "the request body is not valid JSON: %s "
                 "(line %d, column %d)", error.text, error.line, error.column);
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
