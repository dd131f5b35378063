#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef LLMOIN_SCHEMA_DIR
#define LLMOIN_SCHEMA_DIR "/usr/share/llmoin/schema"
#endif

typedef enum setting_type { SETTING_STRING, SETTING_NUMBER, SETTING_FLAG } setting_type_t;

typedef struct setting {
    const char     *name;
    setting_type_t  type;
    size_t          offset;
    const char     *default_value;
    long            minimum;
    long            maximum;
    const char     *help;
} setting_t;

#define STRING_SETTING(field, default_value, help)                          \
    { #field, SETTING_STRING, offsetof(tenantd_config_t, field),            \
      default_value, 0, 0, help }
#define NUMBER_SETTING(field, default_value, minimum, maximum, help)        \
    { #field, SETTING_NUMBER, offsetof(tenantd_config_t, field),            \
      default_value, minimum, maximum, help }

static const setting_t settings[] = {
    STRING_SETTING(database, "dbname=llmoin",
                   "libpq connection string of the PostgreSQL database"),
    STRING_SETTING(listen, "127.0.0.1:8090",
                   "address:port of the management API over HTTP (empty: off)"),
    STRING_SETTING(socket_path, "/run/llmoin/tenantd.sock",
                   "unix socket for llmoinctl (operators)"),
    STRING_SETTING(socket_group, "",
                   "group that may use the socket besides root (e.g. llmoin-admin)"),
    STRING_SETTING(snapshot_path, "/run/llmoin/snapshot.json",
                   "tenant snapshot file read by the nginx module"),
    STRING_SETTING(snapshot_group, "",
                   "group of the snapshot file (the nginx workers' group)"),
    STRING_SETTING(journal, "/var/log/llmoin/usage.journal",
                   "usage journal written by nginx and ingested here"),
    STRING_SETTING(node, "local",
                   "name of this node in ingestion offsets and usage rows"),
    STRING_SETTING(schema_dir, LLMOIN_SCHEMA_DIR,
                   "directory with the numbered SQL migrations"),
    STRING_SETTING(operator_issuer, "",
                   "the provider's identity provider (iss) whose tokens carry the"
                   " operator role over HTTP; empty: operators use the socket only"),
    STRING_SETTING(operator_audience, "llmoin-admin",
                   "aud that operator tokens must carry"),
    STRING_SETTING(operator_jwks, "",
                   "file with the public keys (JWKS) of operator_issuer; read again"
                   " when it changes"),
    STRING_SETTING(operator_role_claim, "roles",
                   "claim of an operator token that holds the role"),
    STRING_SETTING(operator_role_value, "llmoin-operator",
                   "value operator_role_claim must have (or contain)"),
    STRING_SETTING(tls_cert, "",
                   "PEM certificate (chain) for HTTPS on listen; with tls_key"),
    STRING_SETTING(tls_key, "", "PEM private key for HTTPS on listen"),
    STRING_SETTING(pid_file, "", "write the process id here"),
    STRING_SETTING(jwks_hints, "",
                   "file where nginx notes issuers whose token named an unknown key"),
    NUMBER_SETTING(jwks_refresh_seconds, "600", 10, 86400,
                   "how often keys are fetched again from each jwks_uri"),
    { "dev_idp", SETTING_FLAG, offsetof(tenantd_config_t, dev_idp), "false", 0, 0,
      "serve the development identity provider (loopback only; never in production)" },
    STRING_SETTING(dev_idp_url, "",
                   "base URL browsers reach the development identity provider at"),
    NUMBER_SETTING(dev_token_max_ttl, "86400", 60, 604800,
                   "longest lifetime of a development token, in seconds"),
    NUMBER_SETTING(ingest_interval_ms, "200", 10, 60000,
                   "how often the journal is read, in milliseconds"),
    NUMBER_SETTING(ingest_batch_lines, "5000", 1, 100000,
                   "most journal lines per ingestion transaction"),
    NUMBER_SETTING(max_body_bytes, "1048576", 1024, 67108864,
                   "largest accepted management API request body"),
    STRING_SETTING(redis, "",
                   "Redis of the quota counters, unix:/path/to/redis.sock or"
                   " IP:PORT; monthly counters are rebuilt from PostgreSQL"
                   " whenever it was emptied (empty: off)"),
    NUMBER_SETTING(redis_check_interval_ms, "1000", 100, 60000,
                   "how often Redis is checked for having been emptied, in milliseconds"),
    { "migrate_only", SETTING_FLAG, offsetof(tenantd_config_t, migrate_only),
      "false", 0, 0, "apply the migrations, then exit" },
    { "agent", SETTING_FLAG, offsetof(tenantd_config_t, agent), "false", 0, 0,
      "on a node that runs only nginx: write its snapshot and ingest its journal"
      " into the shared PostgreSQL; no management API, key fetching or Redis" },
};

#define SETTING_COUNT (sizeof(settings) / sizeof(settings[0]))

static const setting_t *
find_setting(const char *name, size_t length)
{
    char   normalised[64];
    size_t i;

    if (length >= sizeof(normalised)) {
        return NULL;
    }
    for (i = 0; i < length; i++) {
        normalised[i] = name[i] == '-' ? '_' : name[i];
    }
    normalised[length] = '\0';

    for (i = 0; i < SETTING_COUNT; i++) {
        if (strcmp(settings[i].name, normalised) == 0) {
            return &settings[i];
        }
    }
    return NULL;
}

static int
assign_setting(tenantd_config_t *config, const setting_t *setting,
               const char *value, const char *source, char *error,
               size_t error_size)
{
    char *field = (char *) config + setting->offset;
    char *end;
    long  number;

    switch (setting->type) {
    case SETTING_STRING:
        if (strlen(value) >= CONFIG_STRING_MAX) {
            snprintf(error, error_size, "%s: %s is longer than %d bytes",
                     source, setting->name, CONFIG_STRING_MAX - 1);
            return -1;
        }
        strcpy(field, value);
        return 0;

    case SETTING_NUMBER:
        errno = 0;
        number = strtol(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0') {
            snprintf(error, error_size, "%s: %s must be a whole number, got '%s'",
                     source, setting->name, value);
            return -1;
        }
        if (number < setting->minimum || number > setting->maximum) {
            snprintf(error, error_size, "%s: %s must be between %ld and %ld, got %ld",
                     source, setting->name, setting->minimum, setting->maximum,
                     number);
            return -1;
        }
        *(long *) (void *) field = number;
        return 0;

    case SETTING_FLAG:
        if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0) {
            *(bool *) (void *) field = value[0] == 't';
            return 0;
        }
        snprintf(error, error_size, "%s: %s must be true or false, got '%s'",
                 source, setting->name, value);
        return -1;
    }
    return -1;
}

static char *
trim(char *text)
{
    char *end;

    while (isspace((unsigned char) *text)) {
        text++;
    }
    end = text + strlen(text);
    while (end > text && isspace((unsigned char) end[-1])) {
        *--end = '\0';
    }
    return text;
}

static int
load_file(tenantd_config_t *config, const char *path, char *error,
          size_t error_size)
{
    FILE            *file;
    char             line[2048], source[600];
    char            *key, *value, *equals;
    const setting_t *setting;
    int              line_number = 0, rc = 0;

    file = fopen(path, "r");
    if (file == NULL) {
        snprintf(error, error_size, "cannot open config file %s: %s", path,
                 strerror(errno));
        return -1;
    }

    while (rc == 0 && fgets(line, sizeof(line), file) != NULL) {
        line_number++;
        snprintf(source, sizeof(source), "%s:%d", path, line_number);
        key = trim(line);
        if (*key == '\0' || *key == '#') {
            continue;
        }
        equals = strchr(key, '=');
        if (equals == NULL) {
            snprintf(error, error_size, "%s: expected 'key = value'", source);
            rc = -1;
            break;
        }
        *equals = '\0';
        key = trim(key);
        value = trim(equals + 1);
        setting = find_setting(key, strlen(key));
        if (setting == NULL) {
            snprintf(error, error_size, "%s: unknown setting '%s'", source, key);
            rc = -1;
            break;
        }
        rc = assign_setting(config, setting, value, source, error, error_size);
    }
    fclose(file);
    return rc;
}

static void
apply_defaults(tenantd_config_t *config)
{
    size_t i;
    char   unused[8];

    memset(config, 0, sizeof(*config));
    for (i = 0; i < SETTING_COUNT; i++) {
        assign_setting(config, &settings[i], settings[i].default_value,
                       "default", unused, sizeof(unused));
    }
}

/* The config file is read before the other options, wherever it stands on
 * the command line, so that options always override it. */
static int
find_config_file(int argc, char **argv, const char **path, char *error,
                 size_t error_size)
{
    int i;

    *path = NULL;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc) {
                snprintf(error, error_size, "--config needs a file name");
                return -1;
            }
            *path = argv[i + 1];
        }
    }
    return 0;
}

static config_result_t
load_arguments(tenantd_config_t *config, int argc, char **argv, char *error,
               size_t error_size)
{
    const setting_t *setting;
    const char      *name, *value, *equals;
    size_t           name_length;
    int              i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            return CONFIG_HELP;
        }
        if (strcmp(argv[i], "--config") == 0) {
            i++;
            continue;
        }
        if (strncmp(argv[i], "--", 2) != 0) {
            snprintf(error, error_size, "unexpected argument '%s' (options start with --)",
                     argv[i]);
            return CONFIG_INVALID;
        }
        name = argv[i] + 2;
        equals = strchr(name, '=');
        name_length = equals != NULL ? (size_t) (equals - name) : strlen(name);
        setting = find_setting(name, name_length);
        if (setting == NULL) {
            snprintf(error, error_size, "unknown option '%s'; see tenantd --help",
                     argv[i]);
            return CONFIG_INVALID;
        }
        if (equals != NULL) {
            value = equals + 1;
        } else if (setting->type == SETTING_FLAG) {
            value = "true";
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            snprintf(error, error_size, "option --%s needs a value", setting->name);
            return CONFIG_INVALID;
        }
        if (assign_setting(config, setting, value, "command line", error,
                           error_size) != 0)
        {
            return CONFIG_INVALID;
        }
    }
    return CONFIG_OK;
}

static bool
is_loopback(const char *listen)
{
    return strncmp(listen, "127.", 4) == 0;
}

/* Settings that only make sense together. Tokens travel over HTTP only on
 * loopback (behind a TLS proxy on the same host) or over HTTPS. */
static int
check_together(const tenantd_config_t *config, char *error, size_t error_size)
{
    if ((config->tls_cert[0] == '\0') != (config->tls_key[0] == '\0')) {
        snprintf(error, error_size, "tls_cert and tls_key: give both or neither");
        return -1;
    }
    if (config->operator_issuer[0] != '\0' && config->operator_jwks[0] == '\0') {
        snprintf(error, error_size, "operator_issuer needs operator_jwks: the file with "
                 "the issuer's public keys");
        return -1;
    }
    if (config->listen[0] != '\0' && config->tls_cert[0] == '\0'
        && !is_loopback(config->listen))
    {
        snprintf(error, error_size, "listen %s is not a loopback address: tokens would "
                 "travel in the clear; set tls_cert and tls_key (HTTPS)", config->listen);
        return -1;
    }
    return 0;
}

config_result_t
config_load(tenantd_config_t *config, int argc, char **argv, char *error,
            size_t error_size)
{
    const char      *path;
    config_result_t  result;

    apply_defaults(config);
    if (find_config_file(argc, argv, &path, error, error_size) != 0) {
        return CONFIG_INVALID;
    }
    if (path != NULL && load_file(config, path, error, error_size) != 0) {
        return CONFIG_INVALID;
    }
    result = load_arguments(config, argc, argv, error, error_size);
    if (result == CONFIG_OK && check_together(config, error, error_size) != 0) {
        return CONFIG_INVALID;
    }
    return result;
}

void
config_print_help(const char *program)
{
    size_t i;

    printf("Usage: %s [--config FILE] [--SETTING VALUE]...\n\n"
           "The llmoin tenant daemon: management API, tenant snapshot for the\n"
           "nginx module, usage journal ingestion into PostgreSQL.\n\n"
           "Settings (in FILE as 'setting = value'; on the command line as\n"
           "--setting VALUE, which wins over the file):\n", program);
    for (i = 0; i < SETTING_COUNT; i++) {
        printf("  %-22s %s (default: %s)\n", settings[i].name, settings[i].help,
               settings[i].default_value[0] != '\0' ? settings[i].default_value
                                                    : "empty");
    }
}

int
config_split_listen(const char *listen, char *host, size_t host_size,
                    int *port, char *error, size_t error_size)
{
    const char *colon;
    char       *end;
    long        number;

    *port = 0;
    host[0] = '\0';
    if (listen[0] == '\0') {
        return 0;
    }
    colon = strrchr(listen, ':');
    if (colon == NULL || colon == listen || (size_t) (colon - listen) >= host_size) {
        snprintf(error, error_size, "listen must be ADDRESS:PORT, got '%s'", listen);
        return -1;
    }
    number = strtol(colon + 1, &end, 10);
    if (*end != '\0' || end == colon + 1 || number < 1 || number > 65535) {
        snprintf(error, error_size, "listen port must be 1..65535, got '%s'", colon + 1);
        return -1;
    }
    memcpy(host, listen, (size_t) (colon - listen));
    host[colon - listen] = '\0';
    *port = (int) number;
    return 0;
}
