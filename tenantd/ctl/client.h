/*
 * HTTP over tenantd's unix socket (libcurl). Transport only: any HTTP answer,
 * including 4xx/5xx, is a success here; api.c decides what it means.
 *
 * Failures to talk to tenantd at all are CTL_EXIT_UNREACHABLE with a message
 * naming the socket and the reason (missing, refused, permission, timeout,
 * connection dropped); anything else is CTL_EXIT_API.
 */
#ifndef LLMOINCTL_CLIENT_H
#define LLMOINCTL_CLIENT_H

#include <stddef.h>

#include "ctl.h"

#define CLIENT_CONNECT_TIMEOUT_MS 5000L
#define CLIENT_TIMEOUT_MS 60000L
#define CLIENT_MAX_BODY (16u << 20) /* no legitimate answer is larger */

struct client_response {
    long status;
    char *body; /* NUL-terminated, may contain a secret: client_response_free wipes it */
    size_t len;
};

/* Needs curl_global_init() done by main. body may be NULL (no body). */
int client_send(const char *socket_path, const char *method, const char *path,
                const char *body, struct client_response *rs, struct ctl_error *err);
void client_response_free(struct client_response *rs);

#endif
