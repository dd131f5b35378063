/*
 * tenantd: the llmoin tenant daemon. Applies the schema migrations, then
 * runs these duties side by side until SIGTERM or SIGINT (with --agent, on
 * a node that runs only nginx, the snapshot and the ingestion only):
 *   - the management API (http.c, api.c and the handlers),
 *   - the tenant snapshot for the nginx module (snapshot.c),
 *   - ingestion of the usage journal (usage_ingest.c),
 *   - keys of issuers with a jwks_uri (jwks_fetch.c),
 *   - the monthly quota counters, rebuilt in Redis when it lost them
 *     (quota_restore.c; only with `redis` set).
 */
#include "api.h"
#include "config.h"
#include "db.h"
#include "dev_idp.h"
#include "http.h"
#include "jwks_fetch.h"
#include "log.h"
#include "migrations.h"
#include "quota_restore.h"
#include "snapshot.h"
#include "usage_ingest.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_CONFIG_ERROR 2

static sigset_t stop_signals;

/* Waits for PostgreSQL (it may start after us), then migrates. */
static int
prepare_database(const tenantd_config_t *config)
{
    struct timespec  pause = { 1, 0 };
    db_error_t       error;
    PGconn          *conn;
    int              applied;

    while ((conn = db_connect(config->database, &error)) == NULL) {
        log_warn("event=database_unavailable reason=\"%s\" retry_in=1s", error.message);
        if (sigtimedwait(&stop_signals, NULL, &pause) > 0) {
            return -1;
        }
    }
    applied = migrations_apply(conn, config->schema_dir, &error);
    PQfinish(conn);
    if (applied < 0) {
        log_error("event=migration_failed reason=\"%s\"", error.message);
        return -1;
    }
    log_info("event=schema_ready migrations_applied=%d", applied);
    return 0;
}

static void
stop_duties(const tenantd_config_t *config)
{
    if (!config->agent) {
        http_stop();
        jwks_fetch_stop();
        quota_restore_stop();
    }
    snapshot_stop();
    usage_ingest_stop();
}

static void
write_pid_file(const char *path)
{
    FILE *file;

    if (path[0] == '\0') {
        return;
    }
    file = fopen(path, "w");
    if (file == NULL) {
        log_warn("event=pid_file_failed path=%s reason=\"%s\"", path, strerror(errno));
        return;
    }
    fprintf(file, "%ld\n", (long) getpid());
    fclose(file);
}

/* The duties of an agent (a node that runs only nginx): its snapshot and
 * its journal. The management API, key fetching and the quota counters
 * are the central tenantd's. */
static int
start_duties(const tenantd_config_t *config, char *error, size_t error_size)
{
    if (!config->agent) {
        api_init(config);
        if (http_start(config, error, error_size) != 0) {
            return -1;
        }
    }
    if (snapshot_start(config) != 0 || usage_ingest_start(config) != 0
        || (!config->agent
            && (jwks_fetch_start(config) != 0 || quota_restore_start(config) != 0)))
    {
        snprintf(error, error_size, "cannot start threads");
        if (!config->agent) {
            http_stop();
        }
        return -1;
    }
    return 0;
}

static int
run(const tenantd_config_t *config)
{
    char error[512];
    int  signal_number = 0;

    if (start_duties(config, error, sizeof(error)) != 0) {
        log_error("event=start_failed reason=\"%s\"", error);
        return EXIT_FAILURE;
    }
    log_info("event=started mode=%s listen=%s socket=%s snapshot=%s journal=%s node=%s"
             " redis=%s",
             config->agent ? "agent" : "central",
             config->listen[0] && !config->agent ? config->listen : "off",
             config->agent ? "off" : config->socket_path, config->snapshot_path,
             config->journal, config->node,
             config->redis[0] && !config->agent ? config->redis : "off");

    sigwait(&stop_signals, &signal_number);
    log_info("event=stopping signal=%d", signal_number);
    stop_duties(config);
    return EXIT_SUCCESS;
}

/* `tenantd --routes`: the management API's routes, "METHOD PATTERN<tab>summary"
 * per line, for the test that keeps docs/openapi.yaml complete. */
static int
print_routes(void)
{
    const api_route_t *routes;
    size_t             count, i;

    routes = api_routes(&count);
    for (i = 0; i < count; i++) {
        printf("%s %s\t%s\n", routes[i].method, routes[i].pattern, routes[i].summary);
    }
    return EXIT_SUCCESS;
}

int
main(int argc, char **argv)
{
    static tenantd_config_t config;
    char                    error[1024];
    int                     rc;

    if (argc == 2 && strcmp(argv[1], "--routes") == 0) {
        return print_routes();
    }

    switch (config_load(&config, argc, argv, error, sizeof(error))) {
    case CONFIG_HELP:
        config_print_help(argv[0]);
        return EXIT_SUCCESS;
    case CONFIG_INVALID:
        fprintf(stderr, "tenantd: %s\n", error);
        return EXIT_CONFIG_ERROR;
    case CONFIG_OK:
        break;
    }

    dev_idp_init(&config);
    if (dev_idp_check_config(&config, error, sizeof(error)) != 0
        || quota_restore_check_config(&config, error, sizeof(error)) != 0)
    {
        fprintf(stderr, "tenantd: %s\n", error);
        return EXIT_CONFIG_ERROR;
    }

    /* Blocked in every thread; only main() takes them, with sigwait. */
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    write_pid_file(config.pid_file);
    if (prepare_database(&config) != 0) {
        return EXIT_FAILURE;
    }
    if (config.migrate_only) {
        return EXIT_SUCCESS;
    }
    rc = run(&config);
    if (config.pid_file[0] != '\0') {
        unlink(config.pid_file);
    }
    curl_global_cleanup();
    return rc;
}
