/*
 * sim_server — the state every request handler shares: options, live
 * settings, the stats ledger, the wait timer and the request sequence.
 * Everything reachable from here is safe to use from any worker thread.
 */
#ifndef SIM_SERVER_H
#define SIM_SERVER_H

#include "sim_config.h"
#include "sim_options.h"
#include "sim_stats.h"
#include "sim_timer.h"

#include <stdatomic.h>
#include <stdint.h>

struct MHD_Daemon;
struct MHD_Response;

typedef struct sim_server {
    const sim_options *options;
    sim_live_config config;
    sim_stats *stats;
    sim_timer *timer;
    /* Numbers valid chat requests: request ids and fault draws derive from it. */
    _Atomic uint64_t last_sequence;
    long long started_at;                /* "created" of the model objects */
    struct MHD_Response *health_response; /* built once, queued many times */
    struct MHD_Response *models_response;
    struct MHD_Daemon *daemon;
} sim_server;

#endif
