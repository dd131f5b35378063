#include "http.h"

#include "api.h"
#include "caller.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <microhttpd.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

typedef enum listener_kind { LISTENER_TCP, LISTENER_UNIX } listener_kind_t;

typedef struct listener {
    listener_kind_t     kind;
    struct MHD_Daemon  *daemon;
} listener_t;

typedef struct pending_request {
    char   *path;       /* as sent: routing never sees %2F decoded to '/' */
    char   *body;
    size_t  length;
    bool    too_large;
    bool    started;
} pending_request_t;

static const tenantd_config_t *http_config;
static listener_t              tcp_listener = { LISTENER_TCP, NULL };
static listener_t              unix_listener = { LISTENER_UNIX, NULL };

/* HTTPS on the TCP listener: the PEM texts, kept while it runs. */
#define TLS_FILE_MAX 65536
static char                   *tls_cert;
static char                   *tls_key;

static const char *
lookup_query(void *context, const char *name)
{
    return MHD_lookup_connection_value(context, MHD_GET_ARGUMENT_KIND, name);
}

static bool
uid_in_group(uid_t uid, const char *group_name)
{
    struct passwd  user_entry, *user = NULL;
    struct group   group_entry, *group = NULL;
    char           user_buffer[4096], group_buffer[4096];
    gid_t          groups[256];
    int            count = 256, i;

    if (group_name[0] == '\0'
        || getgrnam_r(group_name, &group_entry, group_buffer, sizeof(group_buffer),
                      &group) != 0 || group == NULL
        || getpwuid_r(uid, &user_entry, user_buffer, sizeof(user_buffer), &user) != 0
        || user == NULL)
    {
        return false;
    }
    if (getgrouplist(user->pw_name, user->pw_gid, groups, &count) < 0) {
        return false;
    }
    for (i = 0; i < count; i++) {
        if (groups[i] == group->gr_gid) {
            return true;
        }
    }
    return false;
}

static void
identify_unix_caller(struct MHD_Connection *connection, api_caller_t *caller)
{
    const union MHD_ConnectionInfo *info;
    struct ucred                    credentials;
    socklen_t                       size = sizeof(credentials);

    info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (info == NULL
        || getsockopt(info->connect_fd, SOL_SOCKET, SO_PEERCRED, &credentials,
                      &size) != 0)
    {
        return;
    }
    snprintf(caller->name, sizeof(caller->name), "unix:uid=%ld",
             (long) credentials.uid);
    if (credentials.uid == 0 || credentials.uid == geteuid()
        || uid_in_group(credentials.uid, http_config->socket_group))
    {
        caller->role = API_ROLE_OPERATOR;
    }
}

static void
identify_tcp_caller(struct MHD_Connection *connection, api_caller_t *caller)
{
    snprintf(caller->name, sizeof(caller->name), "http:anonymous");
    caller_from_authorization(
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                    MHD_HTTP_HEADER_AUTHORIZATION),
        caller);
}

static enum MHD_Result
send_response(struct MHD_Connection *connection, api_response_t *response)
{
    struct MHD_Response *reply;
    enum MHD_Result      result;
    const char          *type = "application/json";
    char                *text;
    size_t               length;

    if (response->raw != NULL) {
        text = response->raw;
        length = response->raw_length;
        type = response->content_type;
        response->raw = NULL;
    } else {
        text = response->body != NULL ? json_dumps(response->body, JSON_COMPACT) : strdup("");
        length = text != NULL ? strlen(text) : 0;
    }
    if (text == NULL) {
        api_response_clear(response);
        return MHD_NO;
    }
    reply = MHD_create_response_from_buffer(length, text, MHD_RESPMEM_MUST_FREE);
    if (reply == NULL) {
        free(text);
        api_response_clear(response);
        return MHD_NO;
    }
    MHD_add_response_header(reply, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(reply, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (response->location != NULL) {
        MHD_add_response_header(reply, MHD_HTTP_HEADER_LOCATION, response->location);
    }
    if (response->allow[0] != '\0') {
        MHD_add_response_header(reply, MHD_HTTP_HEADER_ALLOW, response->allow);
    }
    result = MHD_queue_response(connection, (unsigned int) response->status, reply);
    MHD_destroy_response(reply);
    api_response_clear(response);
    return result;
}

static void
handle(listener_kind_t kind, struct MHD_Connection *connection, const char *url,
       const char *method, pending_request_t *pending, api_response_t *response)
{
    api_request_t request;
    char          safe_method[32], safe_path[512], safe_caller[320];

    memset(&request, 0, sizeof(request));
    request.method = method;
    request.path = url;
    request.body = pending->body != NULL ? pending->body : "";
    request.body_length = pending->length;
    request.query = lookup_query;
    request.query_context = connection;

    request.via_unix_socket = kind == LISTENER_UNIX;
    if (kind == LISTENER_UNIX) {
        identify_unix_caller(connection, &request.caller);
    } else {
        identify_tcp_caller(connection, &request.caller);
    }

    if (pending->too_large) {
        memset(response, 0, sizeof(*response));
        api_error(response, 413, "invalid_request_error", "body_too_large",
                  "the request body is larger than %ld bytes",
                  http_config->max_body_bytes);
    } else {
        api_dispatch(&request, response);
    }
    log_info("event=admin_request caller=\"%s\" method=%s path=\"%s\" status=%d",
             log_safe(request.caller.name[0] ? request.caller.name : "unknown", safe_caller,
                      sizeof(safe_caller)),
             log_safe(method, safe_method, sizeof(safe_method)),
             log_safe(url, safe_path, sizeof(safe_path)), response->status);
}

static bool
append_body(pending_request_t *pending, const char *data, size_t size)
{
    char *grown;

    if (pending->too_large || pending->length + size > (size_t) http_config->max_body_bytes) {
        pending->too_large = true;
        return true;
    }
    grown = realloc(pending->body, pending->length + size + 1);
    if (grown == NULL) {
        return false;
    }
    memcpy(grown + pending->length, data, size);
    pending->length += size;
    grown[pending->length] = '\0';
    pending->body = grown;
    return true;
}

/* libmicrohttpd hands the handler a percent-decoded path, in which
 * "hamburg%2Fkeys" would be two segments. Routes are matched against the
 * path as sent instead (their parameters never need decoding), so an
 * encoded character in a path parameter is refused as malformed. */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *connection)
{
    pending_request_t *pending = calloc(1, sizeof(*pending));

    (void) cls;
    (void) connection;
    if (pending != NULL) {
        pending->path = strndup(uri, strcspn(uri, "?"));
    }
    return pending;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *connection, const char *url,
           const char *method, const char *version, const char *upload_data,
           size_t *upload_data_size, void **request_state)
{
    listener_t        *listener = cls;
    pending_request_t *pending = *request_state;
    api_response_t     response;

    (void) version;
    if (pending == NULL || pending->path == NULL) {
        return MHD_NO;
    }
    if (!pending->started) {
        pending->started = true;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!append_body(pending, upload_data, *upload_data_size)) {
            return MHD_NO;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    (void) url;
    handle(listener->kind, connection, pending->path, method, pending, &response);
    return send_response(connection, &response);
}

static void
on_completed(void *cls, struct MHD_Connection *connection, void **request_state,
             enum MHD_RequestTerminationCode code)
{
    pending_request_t *pending = *request_state;

    (void) cls;
    (void) connection;
    (void) code;
    if (pending != NULL) {
        free(pending->path);
        free(pending->body);
        free(pending);
        *request_state = NULL;
    }
}

/* Requests of one listener are served by a few threads, so that one slow
 * report or offboarding does not hold up everybody else; each thread has
 * its own database connection (api.c). */
#define LISTENER_THREADS 4

static struct MHD_Daemon *
start_daemon(listener_t *listener, int socket_fd, const struct sockaddr *address)
{
    unsigned int          flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
    struct MHD_OptionItem options[8];
    size_t                n = 0;

    options[n++] = (struct MHD_OptionItem) { MHD_OPTION_NOTIFY_COMPLETED,
                                             (intptr_t) on_completed, NULL };
    options[n++] = (struct MHD_OptionItem) { MHD_OPTION_URI_LOG_CALLBACK,
                                             (intptr_t) on_uri, NULL };
    options[n++] = (struct MHD_OptionItem) { MHD_OPTION_CONNECTION_TIMEOUT, 30, NULL };
    options[n++] = (struct MHD_OptionItem) { MHD_OPTION_THREAD_POOL_SIZE,
                                             LISTENER_THREADS, NULL };
    if (socket_fd >= 0) {
        options[n++] = (struct MHD_OptionItem) { MHD_OPTION_LISTEN_SOCKET, socket_fd, NULL };
    } else {
        options[n++] = (struct MHD_OptionItem) { MHD_OPTION_SOCK_ADDR, 0, (void *) address };
    }
    if (socket_fd < 0 && tls_key != NULL) {
        flags |= MHD_USE_TLS;
        options[n++] = (struct MHD_OptionItem) { MHD_OPTION_HTTPS_MEM_KEY, 0, tls_key };
        options[n++] = (struct MHD_OptionItem) { MHD_OPTION_HTTPS_MEM_CERT, 0, tls_cert };
    }
    options[n] = (struct MHD_OptionItem) { MHD_OPTION_END, 0, NULL };
    return MHD_start_daemon(flags, 0, NULL, NULL, on_request, listener,
                            MHD_OPTION_ARRAY, options, MHD_OPTION_END);
}

/* A PEM file, whole (certificates and keys are a few kilobytes). */
static char *
read_pem(const char *setting, const char *path, char *error, size_t error_size)
{
    FILE   *file = fopen(path, "r");
    char   *text = NULL;
    size_t  length = 0;

    if (file != NULL) {
        text = calloc(1, TLS_FILE_MAX + 1);
        length = text != NULL ? fread(text, 1, TLS_FILE_MAX + 1, file) : 0;
        fclose(file);
    }
    if (text == NULL || length == 0 || length > TLS_FILE_MAX
        || strstr(text, "-----BEGIN ") == NULL)
    {
        snprintf(error, error_size, "%s %s: cannot read a PEM file of at most %d bytes",
                 setting, path, TLS_FILE_MAX);
        free(text);
        return NULL;
    }
    return text;
}

static int
load_tls(char *error, size_t error_size)
{
    if (http_config->tls_cert[0] == '\0') {
        return 0;
    }
    if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
        snprintf(error, error_size, "tls_cert is set, but libmicrohttpd has no TLS");
        return -1;
    }
    tls_cert = read_pem("tls_cert", http_config->tls_cert, error, error_size);
    tls_key = tls_cert != NULL ? read_pem("tls_key", http_config->tls_key, error, error_size)
                               : NULL;
    return tls_key != NULL ? 0 : -1;
}

static int
start_tcp(char *error, size_t error_size)
{
    struct sockaddr_in address;
    char               host[CONFIG_STRING_MAX];
    int                port;

    if (config_split_listen(http_config->listen, host, sizeof(host), &port, error,
                            error_size) != 0)
    {
        return -1;
    }
    if (port == 0) {
        return 0;
    }
    memset(&address, 0, sizeof(address));
    address.sin_family = AF_INET;
    address.sin_port = htons((uint16_t) port);
    if (inet_pton(AF_INET, host, &address.sin_addr) != 1) {
        snprintf(error, error_size, "listen address must be an IPv4 address, got '%s'",
                 host);
        return -1;
    }
    tcp_listener.daemon = start_daemon(&tcp_listener, -1, (struct sockaddr *) &address);
    if (tcp_listener.daemon == NULL) {
        snprintf(error, error_size, "cannot listen on %s (port in use?)",
                 http_config->listen);
        return -1;
    }
    return 0;
}

static int
bind_unix_socket(const char *path, char *error, size_t error_size)
{
    struct sockaddr_un address;
    struct group      *group;
    int                fd;

    memset(&address, 0, sizeof(address));
    address.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(address.sun_path)) {
        snprintf(error, error_size, "socket_path is longer than %zu bytes",
                 sizeof(address.sun_path) - 1);
        return -1;
    }
    strcpy(address.sun_path, path);
    unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *) &address, sizeof(address)) != 0
        || listen(fd, 64) != 0)
    {
        snprintf(error, error_size, "cannot listen on %s: %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    /* Only the owner and the operators' group may connect; the peer
     * credentials decide the rest. */
    chmod(path, 0660);
    if (http_config->socket_group[0] != '\0') {
        group = getgrnam(http_config->socket_group);
        if (group == NULL || chown(path, (uid_t) -1, group->gr_gid) != 0) {
            snprintf(error, error_size, "cannot give %s to group '%s'", path,
                     http_config->socket_group);
            close(fd);
            return -1;
        }
    }
    return fd;
}

static int
start_unix(char *error, size_t error_size)
{
    int fd;

    if (http_config->socket_path[0] == '\0') {
        return 0;
    }
    fd = bind_unix_socket(http_config->socket_path, error, error_size);
    if (fd < 0) {
        return -1;
    }
    unix_listener.daemon = start_daemon(&unix_listener, fd, NULL);
    if (unix_listener.daemon == NULL) {
        snprintf(error, error_size, "cannot serve %s", http_config->socket_path);
        close(fd);
        return -1;
    }
    return 0;
}

int
http_start(const tenantd_config_t *config, char *error, size_t error_size)
{
    http_config = config;
    if (caller_init(config, error, error_size) != 0
        || load_tls(error, error_size) != 0
        || start_tcp(error, error_size) != 0
        || start_unix(error, error_size) != 0)
    {
        http_stop();
        return -1;
    }
    return 0;
}

void
http_stop(void)
{
    if (tcp_listener.daemon != NULL) {
        MHD_stop_daemon(tcp_listener.daemon);
        tcp_listener.daemon = NULL;
    }
    free(tls_cert);
    free(tls_key);
    tls_cert = NULL;
    tls_key = NULL;
    caller_done();
    if (unix_listener.daemon != NULL) {
        MHD_stop_daemon(unix_listener.daemon);
        unix_listener.daemon = NULL;
        unlink(http_config->socket_path);
    }
}
