/*
 * Field-by-field validation of management API request bodies.
 *
 * A body must be one JSON object whose members are all declared in a
 * field table; every problem yields one message naming the field and the
 * reason ("field 'slug' must match ..."), fit to show to an admin as is.
 * Values JSON allows but tenantd cannot hold (integers beyond 64 bits,
 * \u0000 in a string) are refused naming their field too.
 */
#ifndef TENANTD_VALIDATE_H
#define TENANTD_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct field_spec {
    const char *name;
    json_type   type;           /* JSON_STRING, JSON_INTEGER, ... */
    bool        required;
    bool        nullable;
    size_t      max_length;     /* strings: characters; 0 = no limit */
    const char *pattern;        /* strings: POSIX extended regex, or NULL */
    const char *pattern_help;   /* what the pattern means, in words */
    size_t      max_items;      /* arrays of strings: most elements; each
                                   element is checked like a string field,
                                   and none may be there twice */
} field_spec_t;

#define FIELD_SPEC_END { NULL, JSON_NULL, false, false, 0, NULL, NULL, 0 }

/* Parses and checks a body. Returns the object (caller owns it) or NULL with
 * the message in `message`. */
json_t *validate_body(const char *body, size_t length, const field_spec_t *fields,
                      char *message, size_t message_size);

/* Parses a body that must be a JSON object, whatever its members (the
 * caller checks them); the same messages as validate_body for what is not
 * one. The object (caller owns it) or NULL with the message. */
json_t *validate_json_object(const char *body, size_t length, char *message,
                             size_t message_size);

/* Checks one string against a spec's pattern and length (also used for
 * path parameters). Returns true when it fits. */
bool validate_string(const field_spec_t *field, const char *value,
                     char *message, size_t message_size);

#endif
