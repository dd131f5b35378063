#include "quota_restore.h"

#include "db.h"
#include "log.h"

#include "berlin_time.h"
#include "quota.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>

#define CONNECT_TIMEOUT_MS   1000
#define COMMAND_TIMEOUT_MS   3000
#define WARN_EVERY_SECONDS   60

/* The Berlin month of the instant $1 (unix seconds), by PostgreSQL's time
 * zone database; compared with llmoin_berlin_month's, which the gateway
 * uses, so that sums and keys are of the same month. */
static const char month_sql[] =
    "SELECT to_char(to_timestamp($1::float8) AT TIME ZONE 'Europe/Berlin', 'YYYY-MM')";

/*
 * The month's tokens of every tenant with a monthly_tokens limit, per
 * tenant, user, key and group: rows (tenant_id, scope, subject, tokens).
 * The bounds are plain expressions of $1, so the planner prunes usage_events
 * to the month's partition. A group named twice in one row counts once.
 */
static const char sums_sql[] =
    "WITH usage AS MATERIALIZED ("
    "  SELECT u.tenant_id, u.user_id, u.key_id, u.groups,"
    "         u.prompt_tokens::bigint + u.completion_tokens AS tokens"
    "    FROM usage_events u"
    "   WHERE u.ts >= (date_trunc('month', to_timestamp($1::float8) AT TIME ZONE 'Europe/Berlin')"
    "                  AT TIME ZONE 'Europe/Berlin')"
    "     AND u.ts < ((date_trunc('month', to_timestamp($1::float8) AT TIME ZONE 'Europe/Berlin')"
    "                  + interval '1 month') AT TIME ZONE 'Europe/Berlin')"
    "     AND u.tenant_id IN (SELECT tenant_id FROM limits"
    "                          WHERE monthly_tokens IS NOT NULL))"
    " SELECT tenant_id, 'tenant', '', sum(tokens) FROM usage GROUP BY tenant_id"
    " UNION ALL"
    " SELECT tenant_id, 'user', user_id, sum(tokens) FROM usage GROUP BY tenant_id, user_id"
    " UNION ALL"
    " SELECT tenant_id, 'key', key_id, sum(tokens) FROM usage"
    "  WHERE key_id IS NOT NULL GROUP BY tenant_id, key_id"
    " UNION ALL"
    " SELECT u.tenant_id, 'group', g.name, sum(u.tokens)"
    "   FROM usage u CROSS JOIN LATERAL"
    "        (SELECT DISTINCT name FROM unnest(string_to_array(u.groups, ',')) name"
    "          WHERE name <> '') g"
    "  WHERE u.groups <> ''"
    "  GROUP BY u.tenant_id, g.name";

typedef struct redis_address {
    bool enabled;
    bool unix_socket;
    char path[sizeof(((struct sockaddr_un *) 0)->sun_path)];
    char host[INET6_ADDRSTRLEN];
    int  port;
} redis_address_t;

typedef struct restore_result {
    long long counters;     /* counters added to */
    long long tenants;      /* tenants among them */
    long long skipped;      /* subjects too long for a quota key */
} restore_result_t;

static const tenantd_config_t *restore_config;
static redis_address_t         restore_address;
static pthread_t               restore_thread;
static bool                    restore_running;
static atomic_bool             restore_stopping;
static pthread_mutex_t         wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t          wake_signal = PTHREAD_COND_INITIALIZER;

/* What was last warned about, and when: the same warning at most once a
 * WARN_EVERY_SECONDS while the problem lasts. */
static char   warned_event[64];
static time_t warned_at;

/* --- configuration ------------------------------------------------------ */

static int
parse_address(const char *text, redis_address_t *address, char *error, size_t error_size)
{
    unsigned char ignored[sizeof(struct in6_addr)];
    const char   *colon, *host = text;
    size_t        host_length;
    char         *end;
    long          port;

    memset(address, 0, sizeof(*address));
    if (text[0] == '\0') {
        return 0;
    }
    address->enabled = true;
    if (strncmp(text, "unix:", 5) == 0) {
        if (text[5] != '/' || strlen(text + 5) >= sizeof(address->path)) {
            snprintf(error, error_size,
                     "redis: unix: needs an absolute socket path shorter than %zu bytes,"
                     " got '%s'", sizeof(address->path), text);
            return -1;
        }
        address->unix_socket = true;
        snprintf(address->path, sizeof(address->path), "%s", text + 5);
        return 0;
    }
    colon = strrchr(text, ':');
    if (colon == NULL) {
        snprintf(error, error_size,
                 "redis must be unix:/path/to/redis.sock or IP:PORT, got '%s'", text);
        return -1;
    }
    host_length = (size_t) (colon - text);
    if (host_length >= 2 && text[0] == '[' && colon[-1] == ']') {
        host = text + 1;
        host_length -= 2;
    }
    if (host_length == 0 || host_length >= sizeof(address->host)) {
        snprintf(error, error_size, "redis: '%s' names no IP address", text);
        return -1;
    }
    memcpy(address->host, host, host_length);
    address->host[host_length] = '\0';
    if (inet_pton(AF_INET, address->host, ignored) != 1
        && inet_pton(AF_INET6, address->host, ignored) != 1)
    {
        snprintf(error, error_size,
                 "redis: '%s' is not an IP address (host names are not looked up)",
                 address->host);
        return -1;
    }
    port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end != '\0' || port < 1 || port > 65535) {
        snprintf(error, error_size, "redis: port must be 1..65535, got '%s'", colon + 1);
        return -1;
    }
    address->port = (int) port;
    return 0;
}

int
quota_restore_check_config(const tenantd_config_t *config, char *error, size_t error_size)
{
    redis_address_t address;

    return parse_address(config->redis, &address, error, error_size);
}

/* --- warnings ----------------------------------------------------------- */

static void
warn_limited(const char *event, const char *reason)
{
    char   safe[300], *quote;
    time_t now = time(NULL);

    if (strcmp(warned_event, event) == 0 && now - warned_at < WARN_EVERY_SECONDS) {
        return;
    }
    /* reason="..." as elsewhere: no quote or line end may come through */
    snprintf(safe, sizeof(safe), "%s", reason);
    for (quote = safe; *quote != '\0'; quote++) {
        if (*quote == '"' || *quote == '\\' || (unsigned char) *quote < 0x20) {
            *quote = '\'';
        }
    }
    log_warn("event=%s redis=%s reason=\"%s\" retry_every_ms=%ld", event,
             restore_config->redis, safe, restore_config->redis_check_interval_ms);
    snprintf(warned_event, sizeof(warned_event), "%s", event);
    warned_at = now;
}

/* Redis answered: a warning that it could not be reached is over. */
static void
redis_answered(void)
{
    if (strcmp(warned_event, "quota_store_unavailable") == 0) {
        log_info("event=quota_store_reachable redis=%s", restore_config->redis);
        warned_event[0] = '\0';
    }
}

/* --- Redis -------------------------------------------------------------- */

static struct timeval
milliseconds(long ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

    return tv;
}

/* A connection with the connect and command timeouts set; NULL with the
 * reason when there is none. */
static redisContext *
connect_address(const redis_address_t *address, char *reason, size_t reason_size)
{
    redisContext *redis;

    if (address->unix_socket) {
        redis = redisConnectUnixWithTimeout(address->path, milliseconds(CONNECT_TIMEOUT_MS));
    } else {
        redis = redisConnectWithTimeout(address->host, address->port,
                                        milliseconds(CONNECT_TIMEOUT_MS));
    }
    if (redis == NULL) {
        snprintf(reason, reason_size, "out of memory");
        return NULL;
    }
    if (redis->err == 0 && redisSetTimeout(redis, milliseconds(COMMAND_TIMEOUT_MS)) != REDIS_OK
        && redis->err == 0)
    {
        redis->err = REDIS_ERR_IO;
        snprintf(redis->errstr, sizeof(redis->errstr), "cannot set the command timeout");
    }
    if (redis->err != 0) {
        snprintf(reason, reason_size, "%s", redis->errstr);
        redisFree(redis);
        return NULL;
    }
    return redis;
}

static redisContext *
redis_connect(void)
{
    redisContext *redis;
    char          reason[256];

    redis = connect_address(&restore_address, reason, sizeof(reason));
    if (redis == NULL) {
        warn_limited("quota_store_unavailable", reason);
    }
    return redis;
}

int
quota_store_connect(redisContext **redis, char *reason, size_t reason_size)
{
    redis_address_t address;

    *redis = NULL;
    if (restore_config == NULL) {
        snprintf(reason, reason_size, "tenantd is still starting");
        return -1;
    }
    if (parse_address(restore_config->redis, &address, reason, reason_size) != 0) {
        return -1;
    }
    if (!address.enabled) {
        return 0;
    }
    *redis = connect_address(&address, reason, reason_size);
    return *redis != NULL ? 1 : -1;
}

/* Runs one command; NULL (and the context is dropped) when the connection
 * failed. An error reply is returned to the caller. */
static redisReply *
redis_command(redisContext **redis, const char *format, ...)
{
    redisReply *reply;
    va_list     arguments;

    va_start(arguments, format);
    reply = redisvCommand(*redis, format, arguments);
    va_end(arguments);
    if (reply == NULL) {
        warn_limited("quota_store_unavailable",
                     (*redis)->err != 0 ? (*redis)->errstr : "no reply");
        redisFree(*redis);
        *redis = NULL;
    }
    return reply;
}

/* --- the restore -------------------------------------------------------- */

/* Queues INCRBY and EXPIRE of every counter; returns how many counters. */
static int
queue_counters(redisContext *redis, PGresult *sums, const char *month,
               restore_result_t *result)
{
    char      key[LLMOIN_QUOTA_KEY_MAX], counted[LLMOIN_QUOTA_SUBJECT_MAX];
    long long tenant_id, tokens;
    int       row, scope, queued = 0;

    for (row = 0; row < PQntuples(sums); row++) {
        const char *subject = PQgetvalue(sums, row, 2);

        tenant_id = strtoll(PQgetvalue(sums, row, 0), NULL, 10);
        scope = llmoin_scope_from_name(PQgetvalue(sums, row, 1));
        tokens = strtoll(PQgetvalue(sums, row, 3), NULL, 10);
        if (scope < 0 || tokens <= 0) {
            continue;
        }
        /* a long subject is counted under its hash, as the gateway does */
        llmoin_quota_counter_subject(subject, strlen(subject), counted);
        if (llmoin_quota_key(key, sizeof(key), tenant_id, 'm', (llmoin_scope_t) scope,
                             counted, month) != 0)
        {
            result->skipped++;
            continue;
        }
        if (redisAppendCommand(redis, "INCRBY %s %lld", key, tokens) != REDIS_OK
            || redisAppendCommand(redis, "EXPIRE %s %ld", key,
                                  QUOTA_RESTORE_TTL_SECONDS) != REDIS_OK)
        {
            return -1;
        }
        queued++;
        if (scope == LLMOIN_SCOPE_TENANT) {
            result->tenants++;
        }
    }
    result->counters = queued;
    return queued;
}

/* Sends MULTI, the counters, SET marker, EXEC as one pipeline and reads the
 * replies. 1: restored; 0: the EXEC was aborted (another node restored, the
 * marker is set); -1: failed (reason in `reason`; *redis dropped when the
 * connection broke). */
static int
write_counters(redisContext **redis, PGresult *sums, const char *month, long long now,
               restore_result_t *result, char *reason, size_t reason_size)
{
    redisReply *reply = NULL;
    long long   queued, i;
    int         rc = 1;
    void       *any;

    if (redisAppendCommand(*redis, "MULTI") != REDIS_OK
        || (queued = queue_counters(*redis, sums, month, result)) < 0
        || redisAppendCommand(*redis, "SET %s %lld", QUOTA_RESTORE_MARKER, now) != REDIS_OK
        || redisAppendCommand(*redis, "EXEC") != REDIS_OK)
    {
        snprintf(reason, reason_size, "out of memory");
        goto broken;
    }
    /* MULTI, 2 per counter and SET: each +OK or +QUEUED, or an error that
     * makes EXEC fail with EXECABORT */
    for (i = 0; i < 2 * queued + 2; i++) {
        if (redisGetReply(*redis, &any) != REDIS_OK) {
            snprintf(reason, reason_size, "%s", (*redis)->errstr);
            goto broken;
        }
        reply = any;
        if (reply->type == REDIS_REPLY_ERROR && rc == 1) {
            snprintf(reason, reason_size, "%s", reply->str);
            rc = -1;
        }
        freeReplyObject(reply);
    }
    if (redisGetReply(*redis, &any) != REDIS_OK) {
        snprintf(reason, reason_size, "%s", (*redis)->errstr);
        goto broken;
    }
    reply = any;
    if (reply->type == REDIS_REPLY_NIL) {
        rc = 0;
    } else if (reply->type == REDIS_REPLY_ERROR) {
        if (rc == 1) {
            snprintf(reason, reason_size, "%s", reply->str);
        }
        rc = -1;
    } else if (reply->type != REDIS_REPLY_ARRAY
               || reply->elements != (size_t) (2 * queued + 1))
    {
        snprintf(reason, reason_size, "unexpected answer to EXEC");
        rc = -1;
    } else {
        for (i = 0; i < (long long) reply->elements && rc == 1; i++) {
            if (reply->element[i]->type == REDIS_REPLY_ERROR) {
                snprintf(reason, reason_size, "%s", reply->element[i]->str);
                rc = -1;
            }
        }
    }
    freeReplyObject(reply);
    return rc;

broken:
    redisFree(*redis);
    *redis = NULL;
    return -1;
}

static PGresult *
query_sums(PGconn **conn, long long now, const char *month, db_error_t *error)
{
    char        now_text[24];
    const char *params[1] = { now_text };
    PGresult   *result;
    bool        same_month;

    snprintf(now_text, sizeof(now_text), "%lld", now);
    if (db_ensure_connected(conn, restore_config->database, error) < 0) {
        return NULL;
    }
    result = db_query(*conn, month_sql, 1, params, error);
    if (result == NULL) {
        return NULL;
    }
    same_month = strcmp(PQgetvalue(result, 0, 0), month) == 0;
    if (!same_month) {
        snprintf(error->message, sizeof(error->message),
                 "PostgreSQL's Berlin month %s is not the gateway's %s",
                 PQgetvalue(result, 0, 0), month);
        PQclear(result);
        return NULL;
    }
    PQclear(result);
    return db_query(*conn, sums_sql, 1, params, error);
}

static void
restore(redisContext **redis, PGconn **conn)
{
    restore_result_t result = { 0, 0, 0 };
    struct timespec  started, finished;
    redisReply      *reply;
    PGresult        *sums;
    db_error_t       error;
    char             month[LLMOIN_MONTH_SIZE], reason[256];
    long long        now = (long long) time(NULL);
    int              rc;

    clock_gettime(CLOCK_MONOTONIC, &started);
    llmoin_berlin_month(now, month);
    sums = query_sums(conn, now, month, &error);
    if (sums == NULL) {
        warn_limited("quota_restore_failed", error.message);
        return;
    }

    /* Watch the marker, then look again: set since the first look (another
     * node restored), nothing to do; set between now and EXEC, EXEC aborts. */
    reply = redis_command(redis, "WATCH %s", QUOTA_RESTORE_MARKER);
    if (reply == NULL) {
        PQclear(sums);
        return;
    }
    freeReplyObject(reply);
    reply = redis_command(redis, "GET %s", QUOTA_RESTORE_MARKER);
    if (reply == NULL || reply->type != REDIS_REPLY_NIL) {
        if (reply != NULL) {
            freeReplyObject(reply);
            reply = redis_command(redis, "UNWATCH");
            if (reply != NULL) {
                freeReplyObject(reply);
            }
        }
        PQclear(sums);
        return;
    }
    freeReplyObject(reply);

    rc = write_counters(redis, sums, month, now, &result, reason, sizeof(reason));
    PQclear(sums);
    clock_gettime(CLOCK_MONOTONIC, &finished);
    if (rc < 0) {
        warn_limited("quota_restore_failed", reason);
        return;
    }
    warned_event[0] = '\0';
    if (rc == 0) {
        log_info("event=quota_restore_skipped reason=\"restored by another node\"");
        return;
    }
    log_info("event=quota_restored counters=%lld tenants=%lld month=%s skipped=%lld"
             " duration_ms=%ld", result.counters, result.tenants, month, result.skipped,
             (long) ((finished.tv_sec - started.tv_sec) * 1000
                     + (finished.tv_nsec - started.tv_nsec) / 1000000));
}

/* One look at the marker; restores when it is missing. A connection that
 * broke since the last look (Redis restarted) is made anew right away. */
static void
check(redisContext **redis, PGconn **conn)
{
    redisReply *reply;
    bool        missing, reused = *redis != NULL;

    if (*redis == NULL && (*redis = redis_connect()) == NULL) {
        return;
    }
    reply = redisCommand(*redis, "GET %s", QUOTA_RESTORE_MARKER);
    if (reply == NULL && reused) {
        redisFree(*redis);
        if ((*redis = redis_connect()) == NULL) {
            return;
        }
        reply = redisCommand(*redis, "GET %s", QUOTA_RESTORE_MARKER);
    }
    if (reply == NULL) {
        warn_limited("quota_store_unavailable",
                     (*redis)->err != 0 ? (*redis)->errstr : "no reply");
        redisFree(*redis);
        *redis = NULL;
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        /* e.g. LOADING while Redis reads its data back */
        warn_limited("quota_store_unavailable", reply->str);
        freeReplyObject(reply);
        return;
    }
    missing = reply->type == REDIS_REPLY_NIL;
    freeReplyObject(reply);
    redis_answered();
    if (missing) {
        restore(redis, conn);
    } else {
        warned_event[0] = '\0';    /* restored, maybe by another node */
    }
}

static void
wait_interval(void)
{
    struct timespec deadline;
    long            ms = restore_config->redis_check_interval_ms;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&wake_lock);
    while (!atomic_load(&restore_stopping)) {
        if (pthread_cond_timedwait(&wake_signal, &wake_lock, &deadline) != 0) {
            break;
        }
    }
    pthread_mutex_unlock(&wake_lock);
}

static void *
restore_main(void *unused)
{
    redisContext *redis = NULL;
    PGconn       *conn = NULL;

    (void) unused;
    while (!atomic_load(&restore_stopping)) {
        check(&redis, &conn);
        wait_interval();
    }
    if (redis != NULL) {
        redisFree(redis);
    }
    PQfinish(conn);
    return NULL;
}

int
quota_restore_start(const tenantd_config_t *config)
{
    char error[256];
    int  rc;

    restore_config = config;
    if (parse_address(config->redis, &restore_address, error, sizeof(error)) != 0) {
        log_error("event=quota_restore_disabled reason=\"%s\"", error);
        return -1;
    }
    if (!restore_address.enabled) {
        return 0;
    }
    atomic_store(&restore_stopping, false);
    rc = pthread_create(&restore_thread, NULL, restore_main, NULL);
    restore_running = rc == 0;
    return rc;
}

void
quota_restore_stop(void)
{
    if (!restore_running) {
        return;
    }
    pthread_mutex_lock(&wake_lock);
    atomic_store(&restore_stopping, true);
    pthread_cond_signal(&wake_signal);
    pthread_mutex_unlock(&wake_lock);
    pthread_join(restore_thread, NULL);
    restore_running = false;
}
