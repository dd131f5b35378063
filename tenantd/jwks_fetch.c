#include "jwks_fetch.h"

#include "db.h"
#include "log.h"

#include "jwk.h"
#include "strbuf.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define JWKS_MAX_BYTES           (1024 * 1024)
#define RETRY_AFTER_ERROR        30
#define HINT_MIN_INTERVAL        10
#define MAX_HINTS                64
#define HINT_LINE_MAX            1024

static const char due_sql[] =
    "SELECT id::text, issuer, jwks_uri,"
    " floor(extract(epoch FROM now() - coalesce(jwks_fetched_at, 'epoch')))::bigint,"
    " jwks_error IS NOT NULL"
    " FROM tenant_issuers WHERE jwks_uri IS NOT NULL ORDER BY id";

static const char success_sql[] =
    "UPDATE tenant_issuers SET jwks = $2::jsonb, jwks_fetched_at = now(),"
    " jwks_error = NULL WHERE id = $1::bigint";

static const char failure_sql[] =
    "UPDATE tenant_issuers SET jwks_fetched_at = now(), jwks_error = $2"
    " WHERE id = $1::bigint";

typedef struct hints {
    char   issuers[MAX_HINTS][HINT_LINE_MAX];
    size_t count;
    long   offset;          /* how far the hints file was read */
    long   inode;
} hints_t;

static const tenantd_config_t *fetch_config;
static pthread_t               fetch_thread;
static atomic_bool             fetch_stopping;
static pthread_mutex_t         wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t          wake_signal = PTHREAD_COND_INITIALIZER;
static bool                    wake_requested;

void
jwks_fetch_wake(void)
{
    pthread_mutex_lock(&wake_lock);
    wake_requested = true;
    pthread_cond_signal(&wake_signal);
    pthread_mutex_unlock(&wake_lock);
}

static void
wait_a_second(void)
{
    struct timespec deadline;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 1;
    pthread_mutex_lock(&wake_lock);
    while (!wake_requested && !atomic_load(&fetch_stopping)) {
        if (pthread_cond_timedwait(&wake_signal, &wake_lock, &deadline) != 0) {
            break;
        }
    }
    wake_requested = false;
    pthread_mutex_unlock(&wake_lock);
}

/* --- hints from the gateway: issuers whose token named an unknown kid --- */

static void
remember_hint(hints_t *hints, const char *line)
{
    json_t     *object = json_loads(line, 0, NULL);
    const char *issuer = json_string_value(json_object_get(object, "iss"));
    size_t      i;

    if (issuer != NULL && issuer[0] != '\0' && strlen(issuer) < HINT_LINE_MAX) {
        for (i = 0; i < hints->count && strcmp(hints->issuers[i], issuer) != 0; i++) {
        }
        if (i == hints->count && hints->count < MAX_HINTS) {
            strcpy(hints->issuers[hints->count++], issuer);
        }
    }
    json_decref(object);
}

/* Reads what nginx appended since last time; starts at the end of the file
 * (old hints are stale), and over again when the file is replaced. */
static void
read_hints(hints_t *hints)
{
    struct stat  info;
    FILE        *file;
    char         line[HINT_LINE_MAX];

    hints->count = 0;
    if (fetch_config->jwks_hints[0] == '\0' || stat(fetch_config->jwks_hints, &info) != 0) {
        return;
    }
    if (hints->inode != (long) info.st_ino || info.st_size < hints->offset) {
        hints->offset = hints->inode == -1 ? (long) info.st_size : 0;
        hints->inode = (long) info.st_ino;
    }
    if (info.st_size == hints->offset || (file = fopen(fetch_config->jwks_hints, "r")) == NULL) {
        return;
    }
    fseek(file, hints->offset, SEEK_SET);
    while (fgets(line, sizeof(line), file) != NULL && strchr(line, '\n') != NULL) {
        remember_hint(hints, line);
        hints->offset = ftell(file);
    }
    fclose(file);
}

static bool
was_hinted(const hints_t *hints, const char *issuer)
{
    size_t i;

    for (i = 0; i < hints->count; i++) {
        if (strcmp(hints->issuers[i], issuer) == 0) {
            return true;
        }
    }
    return false;
}

/* --- fetching ----------------------------------------------------------- */

static size_t
collect_body(char *data, size_t size, size_t count, void *context)
{
    llmoin_strbuf_t *body = context;

    if (body->length + size * count > JWKS_MAX_BYTES
        || llmoin_strbuf_append(body, data, size * count) != 0)
    {
        return 0;
    }
    return size * count;
}

static int
download(const char *url, llmoin_strbuf_t *body, char *error, size_t error_size)
{
    CURL     *curl = curl_easy_init();
    CURLcode  result;
    char      curl_error[CURL_ERROR_SIZE] = "";

    if (curl == NULL) {
        snprintf(error, error_size, "cannot start a download");
        return -1;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 3L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 5L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "llmoin-tenantd");
    result = curl_easy_perform(curl);
    curl_easy_cleanup(curl);
    if (result != CURLE_OK) {
        snprintf(error, error_size, "GET %.300s failed: %s", url,
                 curl_error[0] ? curl_error : curl_easy_strerror(result));
        return -1;
    }
    return 0;
}

static int
fetch_keys(const char *url, llmoin_strbuf_t *body, char *error, size_t error_size)
{
    llmoin_jwks_t keys;
    size_t        skipped, usable;
    char          reason[256];

    llmoin_strbuf_reset(body);
    if (download(url, body, error, error_size) != 0) {
        return -1;
    }
    if (llmoin_jwks_parse_text(llmoin_strbuf_text(body), body->length, &keys, &skipped,
                               reason, sizeof(reason)) != 0)
    {
        snprintf(error, error_size, "%.200s is not a usable JWKS: %.200s", url, reason);
        return -1;
    }
    usable = keys.count;
    llmoin_jwks_free(&keys);
    if (usable == 0) {
        snprintf(error, error_size, "%.300s holds no usable signing key", url);
        return -1;
    }
    return 0;
}

static void
refresh_issuer(PGconn *conn, const char *id, const char *issuer, const char *url,
               llmoin_strbuf_t *body)
{
    char        error[512];
    const char *params[2] = { id, NULL };
    db_error_t  db_error;
    bool        fetched;

    fetched = fetch_keys(url, body, error, sizeof(error)) == 0;
    params[1] = fetched ? llmoin_strbuf_text(body) : error;
    if (db_exec(conn, fetched ? success_sql : failure_sql, 2, params, &db_error) != 0) {
        log_error("event=jwks_store_failed issuer_id=%s reason=\"%s\"", id, db_error.message);
        return;
    }
    if (fetched) {
        log_info("event=jwks_fetched issuer_id=%s", id);
    } else {
        log_warn("event=jwks_fetch_failed issuer_id=%s reason=\"%s\"", id, error);
    }
    (void) issuer;
}

static bool
is_due(const hints_t *hints, const char *issuer, long long age, bool failed)
{
    if (age >= fetch_config->jwks_refresh_seconds) {
        return true;
    }
    if (failed && age >= RETRY_AFTER_ERROR) {
        return true;
    }
    return age >= HINT_MIN_INTERVAL && was_hinted(hints, issuer);
}

static void
refresh_due(PGconn *conn, const hints_t *hints, llmoin_strbuf_t *body)
{
    PGresult   *result;
    db_error_t  error;
    int         i;

    result = db_query(conn, due_sql, 0, NULL, &error);
    if (result == NULL) {
        log_warn("event=jwks_query_failed reason=\"%s\"", error.message);
        return;
    }
    for (i = 0; i < PQntuples(result) && !atomic_load(&fetch_stopping); i++) {
        if (is_due(hints, PQgetvalue(result, i, 1), atoll(PQgetvalue(result, i, 3)),
                   PQgetvalue(result, i, 4)[0] == 't'))
        {
            refresh_issuer(conn, PQgetvalue(result, i, 0), PQgetvalue(result, i, 1),
                           PQgetvalue(result, i, 2), body);
        }
    }
    PQclear(result);
}

static void *
fetch_main(void *unused)
{
    static hints_t   hints = { .inode = -1 };
    PGconn          *conn = NULL;
    llmoin_strbuf_t  body = LLMOIN_STRBUF_INIT;
    db_error_t       error;

    (void) unused;
    while (!atomic_load(&fetch_stopping)) {
        read_hints(&hints);
        if (db_ensure_connected(&conn, fetch_config->database, &error) >= 0) {
            refresh_due(conn, &hints, &body);
        }
        wait_a_second();
    }
    llmoin_strbuf_free(&body);
    PQfinish(conn);
    return NULL;
}

int
jwks_fetch_start(const tenantd_config_t *config)
{
    fetch_config = config;
    atomic_store(&fetch_stopping, false);
    return pthread_create(&fetch_thread, NULL, fetch_main, NULL);
}

void
jwks_fetch_stop(void)
{
    atomic_store(&fetch_stopping, true);
    jwks_fetch_wake();
    pthread_join(fetch_thread, NULL);
}
