/*
 * The management API's HTTP servers (libmicrohttpd): one on a TCP address
 * (operators with the operator token; tenant admins from the admin issue
 * on), one on a unix socket for llmoinctl, where the caller is identified by
 * its peer credentials (root, tenantd's own user, or a member of
 * socket_group). Each server runs one thread that collects the request body
 * (bounded by max_body_bytes: larger bodies get 413), decides who is
 * calling, and hands the request to api_dispatch().
 */
#ifndef TENANTD_HTTP_H
#define TENANTD_HTTP_H

#include "config.h"

#include <stddef.h>

int http_start(const tenantd_config_t *config, char *error, size_t error_size);
void http_stop(void);

#endif
