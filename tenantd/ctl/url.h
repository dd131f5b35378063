/*
 * Building request paths: every value from the command line is
 * percent-encoded (RFC 3986) before it becomes part of a URL, so no value can
 * add a path segment or a query parameter.
 */
#ifndef LLMOINCTL_URL_H
#define LLMOINCTL_URL_H

#include <stddef.h>

#include "sbuf.h"

/* Appends s with everything but unreserved characters (A-Z a-z 0-9 - . _ ~)
 * percent-encoded. */
void url_encode(struct sbuf *sb, const char *s);

/* Appends tmpl with each "{NAME}" replaced by the encoded value of the
 * names[i] == NAME. Returns -1 on a placeholder without value or without
 * closing brace (a bug in the command table). */
int url_expand(struct sbuf *sb, const char *tmpl, const char *const names[],
               const char *const values[], size_t n);

/* Appends "?name=value" or "&name=value", both encoded. */
void url_query_add(struct sbuf *sb, const char *name, const char *value);

#endif
