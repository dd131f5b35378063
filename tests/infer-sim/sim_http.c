#include "sim_http.h"

#include "sim_chat.h"
#include "sim_control.h"
#include "sim_log.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define MODELS_PREFIX "/v1/models/"

typedef struct route_entry {
    const char *path;
    const char *method;
    sim_route route;
} route_entry;

static const route_entry routes[] = {
    {"/v1/chat/completions", "POST", SIM_ROUTE_CHAT},
    {"/v1/models", "GET", SIM_ROUTE_MODELS},
    {"/health", "GET", SIM_ROUTE_HEALTH},
    {"/sim/config", "GET", SIM_ROUTE_CONFIG_GET},
    {"/sim/config", "POST", SIM_ROUTE_CONFIG_SET},
    {"/sim/stats", "GET", SIM_ROUTE_STATS},
    {"/sim/reset", "POST", SIM_ROUTE_RESET},
};
#define ROUTE_COUNT (sizeof routes / sizeof routes[0])

/* HEAD is answered like GET; MHD leaves the body out by itself. */
static bool method_matches(const char *wanted, const char *method)
{
    return strcmp(wanted, method) == 0 ||
           (strcmp(wanted, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

static sim_route route_for(const char *method, const char *url)
{
    bool path_known = false;
    for (size_t i = 0; i < ROUTE_COUNT; i++) {
        if (strcmp(routes[i].path, url) != 0)
            continue;
        path_known = true;
        if (method_matches(routes[i].method, method))
            return routes[i].route;
    }
    if (strncmp(url, MODELS_PREFIX, strlen(MODELS_PREFIX)) == 0 &&
        url[strlen(MODELS_PREFIX)] != '\0') {
        if (method_matches("GET", method))
            return SIM_ROUTE_MODEL;
        path_known = true;
    }
    return path_known ? SIM_ROUTE_BAD_METHOD : SIM_ROUTE_NOT_FOUND;
}

static bool takes_body(sim_route route)
{
    return route == SIM_ROUTE_CHAT || route == SIM_ROUTE_CONFIG_SET ||
           route == SIM_ROUTE_RESET;
}

/* Paths end up in error messages and the log; keep them printable ASCII. */
static void copy_printable(char *out, size_t capacity, const char *text)
{
    size_t i = 0;
    for (; text[i] != '\0' && i + 1 < capacity; i++) {
        unsigned char byte = (unsigned char)text[i];
        out[i] = (byte < 0x20 || byte >= 0x7f) ? '?' : (char)byte;
    }
    out[i] = '\0';
}

static sim_exchange *exchange_create(const char *method, const char *url)
{
    sim_exchange *exchange = calloc(1, sizeof *exchange);
    if (exchange == NULL)
        return NULL;
    exchange->route = route_for(method, url);
    exchange->started = sim_clock_now();
    copy_printable(exchange->method, sizeof exchange->method, method);
    copy_printable(exchange->path, sizeof exchange->path, url);
    return exchange;
}

static void exchange_free(sim_exchange *exchange)
{
    if (exchange->held_response != NULL)
        MHD_destroy_response(exchange->held_response);
    free(exchange->body);
    free(exchange->tenant);
    free(exchange);
}

/* Past the limit the rest is read and dropped; the 413 goes out at the end. */
static void collect_body(sim_exchange *exchange, const char *data, size_t size)
{
    if (exchange->body_too_large)
        return;
    if (size > SIM_HTTP_BODY_LIMIT - exchange->body_length) {
        exchange->body_too_large = true;
        return;
    }
    size_t needed = exchange->body_length + size;
    if (needed > exchange->body_capacity) {
        size_t capacity = exchange->body_capacity ? exchange->body_capacity : 1024;
        while (capacity < needed)
            capacity *= 2;
        char *grown = realloc(exchange->body, capacity);
        if (grown == NULL) {
            exchange->body_too_large = true; /* answered with 413 */
            return;
        }
        exchange->body = grown;
        exchange->body_capacity = capacity;
    }
    memcpy(exchange->body + exchange->body_length, data, size);
    exchange->body_length = needed;
}

static bool declared_too_large(struct MHD_Connection *connection)
{
    const char *length = MHD_lookup_connection_value(
        connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return length != NULL && strtoull(length, NULL, 10) > SIM_HTTP_BODY_LIMIT;
}

static enum MHD_Result send_not_found(sim_exchange *exchange,
                                      struct MHD_Connection *connection)
{
    char message[300];
    snprintf(message, sizeof message,
             "Unknown path '%s'. infer-sim serves /v1/chat/completions, "
             "/v1/models, /health and /sim/{config,stats,reset}.",
             exchange->path);
    return sim_http_send_error(exchange, connection, MHD_HTTP_NOT_FOUND,
                               "invalid_request_error", "not_found", message);
}

static enum MHD_Result send_bad_method(sim_exchange *exchange,
                                       struct MHD_Connection *connection)
{
    const char *allowed = NULL;
    for (size_t i = 0; i < ROUTE_COUNT && allowed == NULL; i++) {
        if (strcmp(routes[i].path, exchange->path) == 0)
            allowed = routes[i].method;
    }
    if (strcmp(exchange->path, "/sim/config") == 0)
        allowed = "GET, POST";
    if (allowed == NULL)
        allowed = "GET"; /* /v1/models/{id} */
    char message[300];
    snprintf(message, sizeof message,
             "Method '%s' is not allowed on %s; use %s.", exchange->method,
             exchange->path, allowed);
    json_t *error = json_pack("{s:{s:s, s:s, s:n, s:s}}", "error", "message",
                              message, "type", "invalid_request_error", "param",
                              "code", "method_not_allowed");
    char *body = error ? json_dumps(error, JSON_COMPACT) : NULL;
    json_decref(error);
    struct MHD_Response *response =
        sim_http_body_response(body, body ? strlen(body) : 0, "application/json");
    if (response != NULL)
        MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, allowed);
    return sim_http_queue(exchange, connection, MHD_HTTP_METHOD_NOT_ALLOWED,
                          response);
}

static enum MHD_Result send_too_large(sim_exchange *exchange,
                                      struct MHD_Connection *connection)
{
    char message[160];
    snprintf(message, sizeof message,
             "Request body too large: infer-sim accepts at most %u bytes.",
             SIM_HTTP_BODY_LIMIT);
    return sim_http_send_error(exchange, connection,
                               MHD_HTTP_CONTENT_TOO_LARGE,
                               "invalid_request_error", "request_too_large",
                               message);
}

static enum MHD_Result dispatch(sim_server *server,
                                struct MHD_Connection *connection,
                                sim_exchange *exchange, const char *url)
{
    /* Chat answers its own 413s: they count as rejected in the ledger. */
    if (exchange->body_too_large && exchange->route != SIM_ROUTE_CHAT)
        return send_too_large(exchange, connection);
    switch (exchange->route) {
    case SIM_ROUTE_CHAT:
        return sim_chat_handle(server, connection, exchange);
    case SIM_ROUTE_MODELS:
        return sim_control_models(server, connection, exchange);
    case SIM_ROUTE_MODEL:
        return sim_control_model(server, connection, exchange,
                                 url + strlen(MODELS_PREFIX));
    case SIM_ROUTE_HEALTH:
        return sim_control_health(server, connection, exchange);
    case SIM_ROUTE_CONFIG_GET:
        return sim_control_config_get(server, connection, exchange);
    case SIM_ROUTE_CONFIG_SET:
        return sim_control_config_set(server, connection, exchange);
    case SIM_ROUTE_STATS:
        return sim_control_stats(server, connection, exchange);
    case SIM_ROUTE_RESET:
        return sim_control_reset(server, connection, exchange);
    case SIM_ROUTE_NOT_FOUND:
        return send_not_found(exchange, connection);
    case SIM_ROUTE_BAD_METHOD:
        return send_bad_method(exchange, connection);
    }
    return MHD_NO;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size,
                                  void **request_context)
{
    (void)version;
    sim_server *server = cls;
    sim_exchange *exchange = *request_context;
    if (exchange == NULL) {
        exchange = exchange_create(method, url);
        if (exchange == NULL)
            return MHD_NO;
        *request_context = exchange;
        if (!takes_body(exchange->route))
            return dispatch(server, connection, exchange, url);
        if (!declared_too_large(connection))
            return MHD_YES; /* the body follows */
        exchange->body_too_large = true;
        return dispatch(server, connection, exchange, url);
    }
    if (*upload_data_size != 0) {
        collect_body(exchange, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (exchange->status != 0)
        return MHD_YES; /* answered early (413); MHD drops the rest */
    return dispatch(server, connection, exchange, url);
}

static void on_completed(void *cls, struct MHD_Connection *connection,
                         void **request_context,
                         enum MHD_RequestTerminationCode termination)
{
    (void)connection;
    (void)termination;
    const sim_server *server = cls;
    sim_exchange *exchange = *request_context;
    if (exchange == NULL)
        return;
    *request_context = NULL;
    if (server->options->access_log && !exchange->logs_itself) {
        sim_log_entry entry = {
            .method = exchange->method,
            .path = exchange->path,
            .status = exchange->status,
            .started = exchange->started,
            .chat = exchange->chat,
            .tenant = exchange->tenant,
            .stream = exchange->stream,
            .outcome = exchange->outcome ? exchange->outcome : "aborted",
            .prompt_tokens = exchange->prompt_tokens,
            .completion_tokens = exchange->completion_tokens,
        };
        sim_log_request(&entry);
    }
    exchange_free(exchange);
}

/* Benchmarks open thousands of keep-alive connections; lift the fd limit. */
static unsigned connection_limit(void)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return 1000;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
        getrlimit(RLIMIT_NOFILE, &limit);
    }
    rlim_t usable = limit.rlim_cur > 128 ? limit.rlim_cur - 64 : 64;
    return usable > 60000 ? 60000 : (unsigned)usable;
}

static struct sockaddr_storage listen_address(const sim_options *options)
{
    struct sockaddr_storage address = options->listen_address;
    if (options->listen_ipv6)
        ((struct sockaddr_in6 *)&address)->sin6_port = htons(options->port);
    else
        ((struct sockaddr_in *)&address)->sin_port = htons(options->port);
    return address;
}

int sim_http_start(sim_server *server, uint16_t *bound_port, char *error,
                   size_t capacity)
{
    const sim_options *options = server->options;
    struct sockaddr_storage address = listen_address(options);
    /*
     * No MHD_USE_TURBO: it skips shutdown(SHUT_WR) when closing, and MHD
     * 0.9.75 only close()s a connection whose content reader failed at its
     * next socket event, so an injected cut would leave the client hanging.
     */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                     MHD_ALLOW_SUSPEND_RESUME;
    if (options->listen_ipv6)
        flags |= MHD_USE_IPv6;
    /* A pool of one is just the listening thread; MHD wants 0 then. */
    unsigned pool = options->threads > 1 ? options->threads : 0;
    server->daemon = MHD_start_daemon(
        flags, options->port, NULL, NULL, on_request, server,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&address,
        MHD_OPTION_THREAD_POOL_SIZE, pool,
        MHD_OPTION_CONNECTION_LIMIT, connection_limit(),
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096u,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, server,
        MHD_OPTION_END);
    if (server->daemon == NULL) {
        snprintf(error, capacity,
                 "cannot listen on %s port %u (address in use, or not local?)",
                 options->listen_text, options->port);
        return -1;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
    *bound_port = info != NULL ? info->port : options->port;
    return 0;
}

void sim_http_stop(sim_server *server)
{
    if (server->daemon != NULL)
        MHD_stop_daemon(server->daemon);
    server->daemon = NULL;
}

enum MHD_Result sim_http_queue(sim_exchange *exchange,
                               struct MHD_Connection *connection,
                               unsigned status, struct MHD_Response *response)
{
    if (response == NULL)
        return MHD_NO; /* out of memory: MHD closes the connection */
    enum MHD_Result result = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    if (result == MHD_YES)
        exchange->status = status;
    return result;
}

enum MHD_Result sim_http_queue_shared(sim_exchange *exchange,
                                      struct MHD_Connection *connection,
                                      unsigned status,
                                      struct MHD_Response *response)
{
    enum MHD_Result result = MHD_queue_response(connection, status, response);
    if (result == MHD_YES)
        exchange->status = status;
    return result;
}

struct MHD_Response *sim_http_body_response(char *body, size_t length,
                                            const char *content_type)
{
    if (body == NULL)
        return NULL;
    struct MHD_Response *response =
        MHD_create_response_from_buffer(length, body, MHD_RESPMEM_MUST_FREE);
    if (response == NULL) {
        free(body);
        return NULL;
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    return response;
}

enum MHD_Result sim_http_send_json(sim_exchange *exchange,
                                   struct MHD_Connection *connection,
                                   unsigned status, json_t *value)
{
    char *body = value ? json_dumps(value, JSON_COMPACT | JSON_REAL_PRECISION(15))
                       : NULL;
    json_decref(value);
    struct MHD_Response *response = sim_http_body_response(
        body, body ? strlen(body) : 0, "application/json");
    return sim_http_queue(exchange, connection, status, response);
}

enum MHD_Result sim_http_send_error(sim_exchange *exchange,
                                    struct MHD_Connection *connection,
                                    unsigned status, const char *type,
                                    const char *code, const char *message)
{
    json_t *error = json_pack("{s:{s:s, s:s, s:n, s:s}}", "error", "message",
                              message, "type", type, "param", "code", code);
    if (error == NULL) /* message was not UTF-8; say something still */
        error = json_pack("{s:{s:s, s:s, s:n, s:s}}", "error", "message",
                          "Invalid request.", "type", type, "param", "code",
                          code);
    return sim_http_send_json(exchange, connection, status, error);
}
