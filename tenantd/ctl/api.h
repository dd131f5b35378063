/*
 * What tenantd's HTTP answers mean: 2xx carries the document; anything else
 * is an API error whose {"error":{"message","code"}} becomes the operator's
 * message (exit 1). Transport failures come from client.c (exit 3).
 */
#ifndef LLMOINCTL_API_H
#define LLMOINCTL_API_H

#include <jansson.h>
#include <stddef.h>

#include "ctl.h"
#include "request.h"

/* Decodes an answer. On success *doc is the document (NULL for an empty
 * body). On an API error (CTL_EXIT_API) *doc is still set when the body was
 * JSON without an "error" object, e.g. health's 503 {"status":"degraded"},
 * so the caller can show it. The caller owns *doc either way. */
int api_decode(long status, const char *body, size_t len, json_t **doc, struct ctl_error *err);

/* Sends rq to tenantd on socket_path and decodes the answer as above. */
int api_call(const char *socket_path, const struct request *rq, json_t **doc,
             struct ctl_error *err);

#endif
