/*
 * Turns a parsed command line into the HTTP request the command's table row
 * describes: path from the template, query and JSON body from the values
 * marked DEST_QUERY / DEST_BODY.
 */
#ifndef LLMOINCTL_REQUEST_H
#define LLMOINCTL_REQUEST_H

#include <jansson.h>
#include <time.h>

#include "commands.h"
#include "sbuf.h"

struct request {
    const char *method;
    struct sbuf path; /* with query string */
    json_t *body;     /* NULL for GET and DELETE; an object (maybe empty) otherwise */
};

/* `now` is the clock for values given as durations (--expires 90d). Fails
 * with CTL_EXIT_USAGE when a value cannot be used (an unreadable file),
 * CTL_EXIT_API when out of memory. request_free is needed either way. */
int request_build(const struct ctl_invocation *inv, time_t now, struct request *rq,
                  struct ctl_error *err);
void request_free(struct request *rq);

#endif
