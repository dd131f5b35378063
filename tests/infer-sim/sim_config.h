/*
 * sim_config — the settings that can change while infer-sim runs (pacing,
 * answer length, faults): their defaults, their valid ranges, and one
 * validation path shared by the command line and POST /sim/config, so both
 * accept exactly the same values and word their errors the same way.
 *
 * A change is all-or-nothing: a patch with one bad field changes nothing.
 * The live holder is thread-safe; each request takes one snapshot and keeps
 * it, so a change applies to requests that start after it.
 */
#ifndef SIM_CONFIG_H
#define SIM_CONFIG_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sim_fail_status {
    SIM_FAIL_STATUS_MIXED = 0, /* 500 or 503, chosen per request */
    SIM_FAIL_STATUS_500 = 500,
    SIM_FAIL_STATUS_503 = 503,
} sim_fail_status;

typedef struct sim_runtime_config {
    double tokens_per_second;  /* 0 = as fast as possible */
    int64_t ttft_ms;
    double fail_rate;          /* 0..1 */
    sim_fail_status fail_status;
    double cut_rate;           /* 0..1, streaming requests only */
    int64_t cut_after;         /* token chunks written before a cut */
    int64_t answer_tokens;     /* 0 = natural length from the token rule */
} sim_runtime_config;

void sim_runtime_config_defaults(sim_runtime_config *config);

/*
 * Sets one field from command-line text; name is the JSON field name
 * (e.g. "fail_rate"). Returns 0, or -1 with a message in error.
 */
int sim_runtime_config_set_text(sim_runtime_config *config, const char *name,
                                const char *text, char *error, size_t capacity);

/* Applies a JSON object of fields; unknown fields are errors. */
int sim_runtime_config_patch(sim_runtime_config *config, const json_t *patch,
                             char *error, size_t capacity);

json_t *sim_runtime_config_to_json(const sim_runtime_config *config);

typedef struct sim_live_config {
    pthread_mutex_t lock;
    sim_runtime_config current;
} sim_live_config;

void sim_live_config_init(sim_live_config *live,
                          const sim_runtime_config *initial);
void sim_live_config_destroy(sim_live_config *live);
sim_runtime_config sim_live_config_snapshot(sim_live_config *live);
/* On success stores the patched config and copies it to *result. */
int sim_live_config_patch(sim_live_config *live, const json_t *patch,
                          sim_runtime_config *result, char *error,
                          size_t capacity);

#endif
