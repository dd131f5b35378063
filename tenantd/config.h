/*
 * tenantd configuration: one table of settings, read from a file of
 * `key = value` lines (`--config FILE`) and from the command line
 * (`--key value`, dashes or underscores), the command line winning.
 *
 * config_load() fills a tenantd_config_t with defaults first, so every field
 * is always set. Errors name the setting, the source (file:line or the
 * option) and the reason, in `error` (never NULL on failure).
 */
#ifndef TENANTD_CONFIG_H
#define TENANTD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_STRING_MAX 512

typedef struct tenantd_config {
    char database[CONFIG_STRING_MAX];
    char listen[CONFIG_STRING_MAX];
    char socket_path[CONFIG_STRING_MAX];
    char socket_group[CONFIG_STRING_MAX];
    char snapshot_path[CONFIG_STRING_MAX];
    char snapshot_group[CONFIG_STRING_MAX];
    char journal[CONFIG_STRING_MAX];
    char node[CONFIG_STRING_MAX];
    char schema_dir[CONFIG_STRING_MAX];
    char operator_issuer[CONFIG_STRING_MAX];
    char operator_audience[CONFIG_STRING_MAX];
    char operator_jwks[CONFIG_STRING_MAX];
    char operator_role_claim[CONFIG_STRING_MAX];
    char operator_role_value[CONFIG_STRING_MAX];
    char tls_cert[CONFIG_STRING_MAX];
    char tls_key[CONFIG_STRING_MAX];
    char pid_file[CONFIG_STRING_MAX];
    char jwks_hints[CONFIG_STRING_MAX];
    char dev_idp_url[CONFIG_STRING_MAX];
    long jwks_refresh_seconds;
    long dev_token_max_ttl;
    bool dev_idp;
    long ingest_interval_ms;
    long ingest_batch_lines;
    long max_body_bytes;
    char redis[CONFIG_STRING_MAX];
    long redis_check_interval_ms;
    bool migrate_only;
    bool agent;
} tenantd_config_t;

typedef enum config_result {
    CONFIG_OK = 0,
    CONFIG_HELP = 1,
    CONFIG_INVALID = -1
} config_result_t;

config_result_t config_load(tenantd_config_t *config, int argc, char **argv,
                            char *error, size_t error_size);

void config_print_help(const char *program);

/* "127.0.0.1:8090" -> host "127.0.0.1", port 8090. Empty string: disabled
 * (port 0). Returns 0 or -1 with a message. */
int config_split_listen(const char *listen, char *host, size_t host_size,
                        int *port, char *error, size_t error_size);

#endif
