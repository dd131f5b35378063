/*
 * sim_wire — the OpenAI wire format of an answer: the chat.completion JSON
 * body and the chat.completion.chunk server-sent events. Pure formatting,
 * no I/O.
 *
 * Promises:
 *  - the non-streaming body has a field (system_fingerprint) after "usage",
 *    so gateways cannot get away with assuming usage comes last;
 *  - every event is "data: <json>\n\n"; with include_usage every chunk but
 *    the final usage chunk carries "usage":null, without it no chunk
 *    mentions usage at all (the way OpenAI and vLLM do it);
 *  - the concatenated token deltas equal the non-streaming content.
 * Functions writing into a caller buffer return the length written, or 0
 * if it did not fit.
 */
#ifndef SIM_WIRE_H
#define SIM_WIRE_H

#include "sim_answer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Enough for any event when the model's JSON form stays below 2 KiB. */
#define SIM_WIRE_EVENT_CAPACITY 4096u
#define SIM_WIRE_MODEL_JSON_MAX 2048u

typedef struct sim_reply {
    char id[48];            /* "chatcmpl-sim-<n>" */
    long long created;      /* unix seconds */
    const char *model_json; /* model name as a JSON string, quotes included */
    uint64_t prompt_tokens;
    sim_answer_plan plan;
    bool include_usage;     /* stream_options.include_usage */
} sim_reply;

void sim_reply_set_id(sim_reply *reply, uint64_t sequence);

/* Full non-streaming body, malloc'd (caller frees); NULL if out of memory. */
char *sim_wire_completion(const sim_reply *reply, size_t *length);

size_t sim_wire_chunk_role(const sim_reply *reply, char *out, size_t capacity);
size_t sim_wire_chunk_token(const sim_reply *reply, const char *token,
                            char *out, size_t capacity);
size_t sim_wire_chunk_finish(const sim_reply *reply, char *out,
                             size_t capacity);
/* The choices:[] chunk; only sent when include_usage was requested. */
size_t sim_wire_chunk_usage(const sim_reply *reply, char *out,
                            size_t capacity);
size_t sim_wire_done(char *out, size_t capacity);

#endif
