#include "snapshot.h"

#include "db.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <libgen.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define SNAPSHOT_FORMAT          1
#define PERIODIC_RENDER_SECONDS  30
#define DEBOUNCE_MICROSECONDS    20000

static const char render_sql[] =
    "SELECT json_build_object("
    " 'tenants', coalesce((SELECT json_agg(json_build_object("
    "     'id', t.id, 'slug', t.slug, 'status', t.status,"
    "     'pseudonym_secret', encode(t.pseudonym_secret, 'hex'),"
    "     'models_restricted', t.models_restricted,"
    "     'hosts', to_json(t.hosts),"
    "     'max_tokens_cap', t.max_tokens_cap, 'quota_fail_mode', t.quota_fail_mode,"
    "     'limits', coalesce((SELECT json_agg(json_build_object("
    "         'scope', l.scope, 'subject', l.subject, 'rpm', l.rpm, 'tpm', l.tpm,"
    "         'concurrent', l.concurrent, 'monthly_tokens', l.monthly_tokens)"
    "         ORDER BY l.scope, l.subject)"
    "       FROM limits l WHERE l.tenant_id = t.id), '[]'),"
    "     'models', coalesce((SELECT json_agg(json_build_object("
    "         'alias', tm.model_alias, 'pool', coalesce(tm.pool_name, m.pool_name))"
    "         ORDER BY tm.model_alias)"
    "       FROM tenant_models tm JOIN models m ON m.alias = tm.model_alias"
    "      WHERE tm.tenant_id = t.id), '[]'),"
    "     'issuers', coalesce((SELECT json_agg(json_build_object("
    "         'issuer', i.issuer, 'audience', i.audience,"
    "         'user_claim', i.user_claim, 'groups_claim', i.groups_claim,"
    "         'leeway', i.leeway_seconds,"
    "         'jwks', coalesce(i.jwks, '{\"keys\":[]}'::jsonb)) ORDER BY i.id)"
    "       FROM tenant_issuers i WHERE i.tenant_id = t.id), '[]'))"
    "     ORDER BY t.id) FROM tenants t), '[]'),"
    " 'models', coalesce((SELECT json_agg(json_build_object("
    "     'alias', m.alias, 'pool', m.pool_name, 'upstream_model', m.upstream_model)"
    "     ORDER BY m.alias) FROM models m), '[]'),"
    " 'keys', coalesce((SELECT json_agg(json_build_object("
    "     'id', k.id, 'hash', k.key_hash, 'tenant_id', k.tenant_id, 'user', k.user_id,"
    "     'expires_at', floor(extract(epoch FROM k.expires_at))::bigint,"
    "     'models', k.models) ORDER BY k.key_hash)"
    "   FROM api_keys k"
    "  WHERE k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())),"
    "  '[]'))";

static const tenantd_config_t *snapshot_config;
static pthread_t               snapshot_thread;
static atomic_bool             snapshot_stopping;
static atomic_llong            snapshot_version;
static char                   *last_rendering;

long long
snapshot_current_version(void)
{
    return atomic_load(&snapshot_version);
}

static long long
now_milliseconds(void)
{
    struct timeval now;

    gettimeofday(&now, NULL);
    return (long long) now.tv_sec * 1000 + now.tv_usec / 1000;
}

static int
set_file_access(int fd, const char *group_name)
{
    struct group  entry, *group = NULL;
    char          buffer[4096];

    if (fchmod(fd, group_name[0] != '\0' ? 0640 : 0600) != 0) {
        return -1;
    }
    if (group_name[0] == '\0') {
        return 0;
    }
    if (getgrnam_r(group_name, &entry, buffer, sizeof(buffer), &group) != 0
        || group == NULL)
    {
        errno = ENOENT;
        return -1;
    }
    return fchown(fd, (uid_t) -1, group->gr_gid);
}

static int
sync_directory_of(const char *path)
{
    char copy[CONFIG_STRING_MAX];
    int  fd, rc;

    snprintf(copy, sizeof(copy), "%s", path);
    fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        return -1;
    }
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* Temporary file in the same directory, fsync, rename: readers see the old
 * file or the new one, never a half-written one. */
static int
write_atomically(const char *path, const char *group, const char *text)
{
    char    temporary[CONFIG_STRING_MAX + 32];
    size_t  length = strlen(text), written = 0;
    ssize_t n;
    int     fd;

    snprintf(temporary, sizeof(temporary), "%s.tmp.%ld", path, (long) getpid());
    unlink(temporary);
    fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        return -1;
    }
    while (written < length) {
        n = write(fd, text + written, length - written);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            break;
        }
        written += (size_t) n;
    }
    if (written != length || set_file_access(fd, group) != 0 || fsync(fd) != 0) {
        close(fd);
        unlink(temporary);
        return -1;
    }
    close(fd);
    if (rename(temporary, path) != 0) {
        unlink(temporary);
        return -1;
    }
    return sync_directory_of(path);
}

static char *
add_header(const char *rendering, long long version)
{
    json_t       *snapshot;
    json_error_t  error;
    char         *text;

    snapshot = json_loads(rendering, 0, &error);
    if (snapshot == NULL) {
        return NULL;
    }
    json_object_set_new(snapshot, "format", json_integer(SNAPSHOT_FORMAT));
    json_object_set_new(snapshot, "version", json_integer(version));
    text = json_dumps(snapshot, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(snapshot);
    return text;
}

static int
render(PGconn *conn)
{
    db_error_t  error;
    PGresult   *result;
    char       *text;
    long long   version;

    result = db_query(conn, render_sql, 0, NULL, &error);
    if (result == NULL) {
        log_error("event=snapshot_failed reason=\"%s\"", error.message);
        return -1;
    }
    if (last_rendering != NULL && strcmp(last_rendering, PQgetvalue(result, 0, 0)) == 0) {
        PQclear(result);
        return 0;
    }
    version = now_milliseconds();
    text = add_header(PQgetvalue(result, 0, 0), version);
    if (text == NULL || write_atomically(snapshot_config->snapshot_path,
                                         snapshot_config->snapshot_group, text) != 0)
    {
        log_error("event=snapshot_failed path=%s reason=\"%s\"",
                  snapshot_config->snapshot_path, strerror(errno));
        free(text);
        PQclear(result);
        return -1;
    }
    free(text);
    free(last_rendering);
    last_rendering = strdup(PQgetvalue(result, 0, 0));
    PQclear(result);
    atomic_store(&snapshot_version, version);
    log_info("event=snapshot_written path=%s version=%lld",
             snapshot_config->snapshot_path, version);
    return 0;
}

static bool
drain_notifications(PGconn *conn)
{
    PGnotify *notification;
    bool      any = false;

    if (PQconsumeInput(conn) == 0) {
        return false;
    }
    while ((notification = PQnotifies(conn)) != NULL) {
        any = true;
        PQfreemem(notification);
    }
    return any;
}

/* 1: notified, 0: timeout, -1: connection lost. */
static int
wait_for_change(PGconn *conn, int seconds)
{
    struct timeval timeout = { .tv_sec = seconds, .tv_usec = 0 };
    fd_set         readable;
    int            socket_fd = PQsocket(conn), ready;

    /* A change made while the last rendering ran was read by libpq along
     * with its result and queued: it counts before any waiting. */
    if (drain_notifications(conn)) {
        return 1;
    }

    FD_ZERO(&readable);
    FD_SET(socket_fd, &readable);
    ready = select(socket_fd + 1, &readable, NULL, NULL, &timeout);
    if (ready <= 0) {
        return ready < 0 && errno != EINTR ? -1 : 0;
    }
    if (!drain_notifications(conn) && PQstatus(conn) != CONNECTION_OK) {
        return -1;
    }
    /* Several statements of one change notify in a burst: render once. */
    usleep(DEBOUNCE_MICROSECONDS);
    drain_notifications(conn);
    return 1;
}

static PGconn *
connect_and_listen(void)
{
    db_error_t  error;
    PGconn     *conn;

    conn = db_connect(snapshot_config->database, &error);
    if (conn == NULL) {
        log_warn("event=snapshot_database_unavailable reason=\"%s\"", error.message);
        return NULL;
    }
    if (db_exec(conn, "LISTEN llmoin_config", 0, NULL, &error) != 0) {
        log_warn("event=snapshot_listen_failed reason=\"%s\"", error.message);
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

static void *
snapshot_main(void *unused)
{
    PGconn *conn = NULL;
    time_t  last_render = 0;
    int     state;

    (void) unused;
    while (!atomic_load(&snapshot_stopping)) {
        if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
            PQfinish(conn);
            conn = connect_and_listen();
            if (conn == NULL) {
                sleep(1);
                continue;
            }
            render(conn);
            last_render = time(NULL);
        }
        state = wait_for_change(conn, 1);
        if (state < 0) {
            PQfinish(conn);
            conn = NULL;
            continue;
        }
        if (state > 0 || time(NULL) - last_render >= PERIODIC_RENDER_SECONDS) {
            render(conn);
            last_render = time(NULL);
        }
    }
    PQfinish(conn);
    return NULL;
}

int
snapshot_start(const tenantd_config_t *config)
{
    snapshot_config = config;
    atomic_store(&snapshot_stopping, false);
    return pthread_create(&snapshot_thread, NULL, snapshot_main, NULL);
}

void
snapshot_stop(void)
{
    atomic_store(&snapshot_stopping, true);
    pthread_join(snapshot_thread, NULL);
    free(last_rendering);
    last_rendering = NULL;
}
