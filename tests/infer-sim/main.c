/*
 * infer-sim — OpenAI-compatible inference simulator for llmoin's tests,
 * demos and benchmarks. Not a model: answers are deterministic German filler
 * text with an exact, documented token count (docs/infer-sim.md).
 *
 * main: options, startup, the port file, signals, orderly shutdown.
 */
#include "sim_control.h"
#include "sim_http.h"
#include "sim_options.h"
#include "sim_server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXIT_USAGE 2

/* Written to a temporary name and renamed, so a harness never reads half a port. */
static int write_port_file(const char *path, uint16_t port)
{
    size_t length = strlen(path) + 16;
    char *temporary = malloc(length);
    if (temporary == NULL)
        return -1;
    snprintf(temporary, length, "%s.tmp", path);
    FILE *file = fopen(temporary, "w");
    int status = file != NULL ? 0 : -1;
    if (file != NULL) {
        if (fprintf(file, "%u\n", port) < 0)
            status = -1;
        if (fclose(file) != 0)
            status = -1;
    }
    if (status == 0 && rename(temporary, path) != 0)
        status = -1;
    if (status != 0)
        fprintf(stderr, "infer-sim: cannot write port file %s: %s\n", path,
                strerror(errno));
    free(temporary);
    return status;
}

/* Blocked in every thread, so only the sigwait below ever sees them. */
static void block_stop_signals(sigset_t *signals)
{
    sigemptyset(signals);
    sigaddset(signals, SIGINT);
    sigaddset(signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, signals, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int server_open(sim_server *server, const sim_options *options)
{
    memset(server, 0, sizeof *server);
    server->options = options;
    server->started_at = (long long)time(NULL);
    sim_live_config_init(&server->config, &options->runtime);
    atomic_init(&server->last_sequence, 0);
    server->stats = sim_stats_create();
    server->timer = sim_timer_start();
    if (server->stats == NULL || server->timer == NULL ||
        sim_control_prepare(server) != 0) {
        fprintf(stderr, "infer-sim: out of memory or threads at startup\n");
        return -1;
    }
    return 0;
}

/* The timer must let go of every suspended connection before MHD stops. */
static void server_close(sim_server *server)
{
    if (server->timer != NULL)
        sim_timer_shutdown(server->timer);
    sim_http_stop(server);
    sim_timer_destroy(server->timer);
    sim_control_release(server);
    sim_stats_destroy(server->stats);
    sim_live_config_destroy(&server->config);
}

static void print_banner(const sim_options *options, uint16_t port)
{
    if (options->listen_ipv6)
        printf("infer-sim listening on [%s]:%u\n", options->listen_text, port);
    else
        printf("infer-sim listening on %s:%u\n", options->listen_text, port);
    fflush(stdout);
}

static int run(const sim_options *options)
{
    sigset_t signals;
    block_stop_signals(&signals);
    sim_server server;
    int status = server_open(&server, options);
    uint16_t port = 0;
    char error[256];
    if (status == 0 && sim_http_start(&server, &port, error, sizeof error) != 0) {
        fprintf(stderr, "infer-sim: %s\n", error);
        status = -1;
    }
    if (status == 0 && options->port_file != NULL)
        status = write_port_file(options->port_file, port);
    if (status == 0) {
        print_banner(options, port);
        int received;
        sigwait(&signals, &received);
    }
    server_close(&server);
    return status == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int main(int argc, char **argv)
{
    sim_options options;
    char error[300];
    sim_options_result parsed =
        sim_options_parse(argc, argv, &options, error, sizeof error);
    int exit_code;
    if (parsed == SIM_OPTIONS_HELP) {
        sim_options_print_help(stdout);
        exit_code = EXIT_SUCCESS;
    } else if (parsed == SIM_OPTIONS_INVALID) {
        fprintf(stderr, "infer-sim: %s\nTry 'infer-sim --help'.\n", error);
        exit_code = EXIT_USAGE;
    } else {
        exit_code = run(&options);
    }
    sim_options_release(&options);
    return exit_code;
}
