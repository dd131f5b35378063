/*
 * sim_stats — the independent ledger of what infer-sim answered, per tenant
 * (value of the X-LLMoin-Tenant header, "" when absent) and in total. It is
 * what the gateway's usage accounting is checked against, so every counter
 * is updated under one lock and a snapshot is always self-consistent.
 */
#ifndef SIM_STATS_H
#define SIM_STATS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum sim_outcome {
    SIM_OUTCOME_NONE,     /* only "received": the answer is still on its way */
    SIM_OUTCOME_OK,       /* answered completely */
    SIM_OUTCOME_FAILED,   /* injected 500/503 */
    SIM_OUTCOME_CUT,      /* stream ended early: injected cut or client gone */
    SIM_OUTCOME_REJECTED, /* 400/413: invalid body, not counted as a request */
} sim_outcome;

typedef struct sim_stats_event {
    const char *tenant;        /* NULL is recorded as "" */
    bool received;             /* a chat request with a valid body arrived */
    bool stream;               /* ... and it asked for a stream */
    bool authorization;        /* it carried an Authorization header */
    sim_outcome outcome;
    uint64_t prompt_tokens;    /* counted for OK and CUT only */
    uint64_t completion_tokens;
} sim_stats_event;

typedef struct sim_stats sim_stats;

sim_stats *sim_stats_create(void);
void sim_stats_destroy(sim_stats *stats);
/* Returns -1 only when a new tenant could not be allocated. */
int sim_stats_record(sim_stats *stats, const sim_stats_event *event);
void sim_stats_reset(sim_stats *stats);
/* {"total":{...},"tenants":{"name":{...}},"authorization_headers":N} */
json_t *sim_stats_to_json(sim_stats *stats);

#endif
