/*
 * application/x-www-form-urlencoded bodies and HTML escaping, for the
 * development identity provider's login form and token endpoint.
 */
#ifndef TENANTD_FORM_H
#define TENANTD_FORM_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/* The decoded value of `name` ('+' is a space, %XX a byte) into out. false
 * when absent, longer than out, or holding a NUL or bad escape. */
bool form_value(const char *body, size_t length, const char *name, char *out,
                size_t out_size);

/* Whether the body names `name` at all (whatever its value). */
bool form_has(const char *body, size_t length, const char *name);

/* Appends text with & < > " ' escaped. */
void html_append_escaped(llmoin_strbuf_t *html, const char *text);

/* Appends text percent-encoded for a URL query value. */
void url_append_encoded(llmoin_strbuf_t *url, const char *text);

#endif
