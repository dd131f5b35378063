/*
 * sim_options — the command line of infer-sim. Every value is validated
 * here, so a bad invocation fails at once with a message naming the option
 * (the caller exits 2); nothing later has to re-check it.
 */
#ifndef SIM_OPTIONS_H
#define SIM_OPTIONS_H

#include "sim_config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define SIM_OPTIONS_MAX_MODELS 64u

typedef struct sim_options {
    char listen_text[64];                   /* as printed in the banner */
    struct sockaddr_storage listen_address; /* port filled in too */
    bool listen_ipv6;
    uint16_t port;                          /* 0 = let the kernel pick */
    const char *port_file;                  /* NULL = do not write one */
    char *models[SIM_OPTIONS_MAX_MODELS];   /* malloc'd names */
    size_t model_count;
    uint64_t seed;
    unsigned threads;
    bool access_log;
    sim_runtime_config runtime;             /* initial live settings */
} sim_options;

typedef enum sim_options_result {
    SIM_OPTIONS_RUN,
    SIM_OPTIONS_HELP,
    SIM_OPTIONS_INVALID,
} sim_options_result;

sim_options_result sim_options_parse(int argc, char **argv,
                                     sim_options *options, char *error,
                                     size_t capacity);
void sim_options_release(sim_options *options);
void sim_options_print_help(FILE *out);

#endif
