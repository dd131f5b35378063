#include "sim_options.h"

#include "sim_request.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_PORT 8091u
#define DEFAULT_MODEL "llmoin-sim"
#define MAX_THREADS 256u

enum option_id {
    OPTION_LISTEN = 1000,
    OPTION_PORT,
    OPTION_PORT_FILE,
    OPTION_MODELS,
    OPTION_SEED,
    OPTION_THREADS,
    OPTION_ACCESS_LOG,
    OPTION_HELP,
    OPTION_TOKENS_PER_SECOND,
    OPTION_TTFT_MS,
    OPTION_ANSWER_TOKENS,
    OPTION_FAIL_RATE,
    OPTION_FAIL_STATUS,
    OPTION_CUT_RATE,
    OPTION_CUT_AFTER,
};

static const struct option long_options[] = {
    {"listen", required_argument, NULL, OPTION_LISTEN},
    {"port", required_argument, NULL, OPTION_PORT},
    {"port-file", required_argument, NULL, OPTION_PORT_FILE},
    {"models", required_argument, NULL, OPTION_MODELS},
    {"seed", required_argument, NULL, OPTION_SEED},
    {"threads", required_argument, NULL, OPTION_THREADS},
    {"access-log", no_argument, NULL, OPTION_ACCESS_LOG},
    {"help", no_argument, NULL, OPTION_HELP},
    {"tokens-per-second", required_argument, NULL, OPTION_TOKENS_PER_SECOND},
    {"ttft-ms", required_argument, NULL, OPTION_TTFT_MS},
    {"answer-tokens", required_argument, NULL, OPTION_ANSWER_TOKENS},
    {"fail-rate", required_argument, NULL, OPTION_FAIL_RATE},
    {"fail-status", required_argument, NULL, OPTION_FAIL_STATUS},
    {"cut-rate", required_argument, NULL, OPTION_CUT_RATE},
    {"cut-after", required_argument, NULL, OPTION_CUT_AFTER},
    {NULL, 0, NULL, 0},
};

void sim_options_print_help(FILE *out)
{
    fputs(
        "Usage: infer-sim [OPTION]...\n"
        "OpenAI-compatible inference simulator for llmoin tests, demos and\n"
        "benchmarks. Answers with deterministic German filler text; not a model.\n"
        "\n"
        "  --listen ADDR            address to bind (default 127.0.0.1; IPv4 or IPv6)\n"
        "  --port N                 port (default 8091; 0 = any free port)\n"
        "  --port-file PATH         write the bound port to PATH once listening\n"
        "  --models A,B             model ids for /v1/models (default llmoin-sim)\n"
        "  --threads N              HTTP worker threads (default: online CPUs)\n"
        "  --seed S                 seed of the fault PRNG (default 1)\n"
        "  --access-log             one key=value line per request on stderr\n"
        "  --tokens-per-second R    pace answers at R tokens/s (default 0 = unpaced)\n"
        "  --ttft-ms N              delay before the first token (default 0)\n"
        "  --answer-tokens N        fixed answer length instead of the token rule\n"
        "  --fail-rate F            share 0..1 of chat requests answered with an error\n"
        "  --fail-status S          500, 503 or mixed (default mixed)\n"
        "  --cut-rate F             share 0..1 of streams cut off before [DONE]\n"
        "  --cut-after N            token chunks sent before a cut (default 3)\n"
        "  --help                   show this help\n"
        "\n"
        "Endpoints: GET /v1/models, GET /health, POST /v1/chat/completions,\n"
        "GET|POST /sim/config, GET /sim/stats, POST /sim/reset.\n"
        "See docs/infer-sim.md for the token rule and the stats fields.\n",
        out);
}

static sim_options_result invalid(char *error, size_t capacity,
                                  const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static sim_options_result invalid(char *error, size_t capacity,
                                  const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(error, capacity, format, arguments);
    va_end(arguments);
    return SIM_OPTIONS_INVALID;
}

static bool parse_unsigned(const char *text, uint64_t maximum, uint64_t *value)
{
    if (*text < '0' || *text > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long parsed = strtoull(text, &end, 10);
    *value = parsed;
    return *end == '\0' && errno == 0 && parsed <= maximum;
}

static sim_options_result set_listen(sim_options *options, const char *text,
                                     char *error, size_t capacity)
{
    const char *address = strcmp(text, "localhost") == 0 ? "127.0.0.1" : text;
    struct sockaddr_in *ipv4 = (struct sockaddr_in *)&options->listen_address;
    struct sockaddr_in6 *ipv6 = (struct sockaddr_in6 *)&options->listen_address;
    memset(&options->listen_address, 0, sizeof options->listen_address);
    if (inet_pton(AF_INET, address, &ipv4->sin_addr) == 1) {
        ipv4->sin_family = AF_INET;
        options->listen_ipv6 = false;
    } else if (inet_pton(AF_INET6, address, &ipv6->sin6_addr) == 1) {
        ipv6->sin6_family = AF_INET6;
        options->listen_ipv6 = true;
    } else {
        return invalid(error, capacity,
                       "--listen: expected a numeric IPv4 or IPv6 address, got '%s'",
                       text);
    }
    snprintf(options->listen_text, sizeof options->listen_text, "%s", address);
    return SIM_OPTIONS_RUN;
}

static bool has_model(const sim_options *options, const char *name)
{
    for (size_t i = 0; i < options->model_count; i++) {
        if (strcmp(options->models[i], name) == 0)
            return true;
    }
    return false;
}

static sim_options_result add_model(sim_options *options, const char *name,
                                    char *error, size_t capacity)
{
    if (*name == '\0')
        return invalid(error, capacity, "--models: empty model name");
    if (strlen(name) > SIM_REQUEST_MODEL_MAX)
        return invalid(error, capacity,
                       "--models: model name longer than %u bytes",
                       SIM_REQUEST_MODEL_MAX);
    json_t *as_json = json_string(name); /* NULL unless valid UTF-8 */
    json_decref(as_json);
    if (as_json == NULL)
        return invalid(error, capacity, "--models: model name is not valid UTF-8");
    if (has_model(options, name))
        return invalid(error, capacity, "--models: duplicate model '%s'", name);
    if (options->model_count == SIM_OPTIONS_MAX_MODELS)
        return invalid(error, capacity, "--models: more than %u models",
                       SIM_OPTIONS_MAX_MODELS);
    options->models[options->model_count] = strdup(name);
    if (options->models[options->model_count] == NULL)
        return invalid(error, capacity, "--models: out of memory");
    options->model_count++;
    return SIM_OPTIONS_RUN;
}

static void clear_models(sim_options *options)
{
    for (size_t i = 0; i < options->model_count; i++)
        free(options->models[i]);
    options->model_count = 0;
}

static sim_options_result set_models(sim_options *options, const char *text,
                                     char *error, size_t capacity)
{
    clear_models(options); /* the last --models wins */
    char *copy = strdup(text);
    if (copy == NULL)
        return invalid(error, capacity, "--models: out of memory");
    sim_options_result result = SIM_OPTIONS_RUN;
    char *rest = copy;
    for (;;) {
        char *comma = strchr(rest, ',');
        if (comma != NULL)
            *comma = '\0';
        result = add_model(options, rest, error, capacity);
        if (result != SIM_OPTIONS_RUN || comma == NULL)
            break;
        rest = comma + 1;
    }
    free(copy);
    return result;
}

static sim_options_result set_number(uint64_t *target, const char *option,
                                     const char *text, uint64_t minimum,
                                     uint64_t maximum, char *error,
                                     size_t capacity)
{
    uint64_t value;
    if (!parse_unsigned(text, maximum, &value) || value < minimum)
        return invalid(error, capacity,
                       "--%s: expected an integer from %llu to %llu, got '%s'",
                       option, (unsigned long long)minimum,
                       (unsigned long long)maximum, text);
    *target = value;
    return SIM_OPTIONS_RUN;
}

static sim_options_result set_runtime(sim_options *options, const char *option,
                                      const char *field, const char *text,
                                      char *error, size_t capacity)
{
    char reason[200];
    if (sim_runtime_config_set_text(&options->runtime, field, text, reason,
                                    sizeof reason) != 0)
        return invalid(error, capacity, "--%s: %s", option, reason);
    return SIM_OPTIONS_RUN;
}

static unsigned default_threads(void)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (online < 1)
        return 1;
    return online > 64 ? 64 : (unsigned)online;
}

static void set_defaults(sim_options *options)
{
    memset(options, 0, sizeof *options);
    char unused[8];
    set_listen(options, "127.0.0.1", unused, sizeof unused);
    options->port = DEFAULT_PORT;
    options->seed = 1;
    options->threads = default_threads();
    sim_runtime_config_defaults(&options->runtime);
}

static sim_options_result apply_option(sim_options *options, int id,
                                       const char *argument, char *error,
                                       size_t capacity)
{
    uint64_t number = 0;
    sim_options_result result;
    switch (id) {
    case OPTION_LISTEN:
        return set_listen(options, argument, error, capacity);
    case OPTION_PORT:
        result = set_number(&number, "port", argument, 0, 65535, error, capacity);
        if (result == SIM_OPTIONS_RUN)
            options->port = (uint16_t)number;
        return result;
    case OPTION_PORT_FILE:
        if (*argument == '\0')
            return invalid(error, capacity, "--port-file: empty path");
        options->port_file = argument;
        return SIM_OPTIONS_RUN;
    case OPTION_MODELS:
        return set_models(options, argument, error, capacity);
    case OPTION_SEED:
        return set_number(&options->seed, "seed", argument, 0, UINT64_MAX,
                          error, capacity);
    case OPTION_THREADS:
        result = set_number(&number, "threads", argument, 1, MAX_THREADS, error,
                            capacity);
        if (result == SIM_OPTIONS_RUN)
            options->threads = (unsigned)number;
        return result;
    case OPTION_ACCESS_LOG:
        options->access_log = true;
        return SIM_OPTIONS_RUN;
    case OPTION_HELP:
        return SIM_OPTIONS_HELP;
    case OPTION_TOKENS_PER_SECOND:
        return set_runtime(options, "tokens-per-second", "tokens_per_second",
                           argument, error, capacity);
    case OPTION_TTFT_MS:
        return set_runtime(options, "ttft-ms", "ttft_ms", argument, error, capacity);
    case OPTION_ANSWER_TOKENS:
        return set_runtime(options, "answer-tokens", "answer_tokens", argument,
                           error, capacity);
    case OPTION_FAIL_RATE:
        return set_runtime(options, "fail-rate", "fail_rate", argument, error,
                           capacity);
    case OPTION_FAIL_STATUS:
        return set_runtime(options, "fail-status", "fail_status", argument, error,
                           capacity);
    case OPTION_CUT_RATE:
        return set_runtime(options, "cut-rate", "cut_rate", argument, error,
                           capacity);
    case OPTION_CUT_AFTER:
        return set_runtime(options, "cut-after", "cut_after", argument, error,
                           capacity);
    }
    return invalid(error, capacity, "unhandled option");
}

/* getopt's own messages are vague about which option failed; word our own. */
static sim_options_result unknown_option(char **argv, char *error,
                                         size_t capacity)
{
    const char *given = argv[optind - 1];
    if (optopt != 0) {
        for (const struct option *o = long_options; o->name; o++) {
            if (o->val == optopt)
                return invalid(error, capacity, "--%s: missing value", o->name);
        }
    }
    return invalid(error, capacity, "unknown option '%s'", given);
}

sim_options_result sim_options_parse(int argc, char **argv,
                                     sim_options *options, char *error,
                                     size_t capacity)
{
    set_defaults(options);
    opterr = 0;
    optind = 1;
    int id;
    while ((id = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
        sim_options_result result;
        if (id == '?' || id == ':')
            result = unknown_option(argv, error, capacity);
        else
            result = apply_option(options, id, optarg, error, capacity);
        if (result != SIM_OPTIONS_RUN)
            return result;
    }
    if (optind < argc)
        return invalid(error, capacity, "unexpected argument '%s'", argv[optind]);
    if (options->model_count == 0)
        return add_model(options, DEFAULT_MODEL, error, capacity);
    return SIM_OPTIONS_RUN;
}

void sim_options_release(sim_options *options)
{
    clear_models(options);
}
