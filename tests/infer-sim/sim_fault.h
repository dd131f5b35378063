/*
 * sim_fault — decides, per request, whether infer-sim answers with an
 * injected error or cuts a stream short. Pure: the decision depends only on
 * the seed, the request's sequence number and the config snapshot, so the
 * same seed and the same sequence of requests give the same faults.
 */
#ifndef SIM_FAULT_H
#define SIM_FAULT_H

#include "sim_config.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct sim_fault {
    unsigned fail_status; /* 0 = answer normally, else 500 or 503 */
    int64_t cut_after;    /* -1 = no cut, else token chunks sent before the cut */
} sim_fault;

sim_fault sim_fault_decide(uint64_t seed, uint64_t sequence,
                           const sim_runtime_config *config, bool stream);

#endif
