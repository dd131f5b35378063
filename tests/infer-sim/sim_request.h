/*
 * sim_request — turns a POST /v1/chat/completions body into the few facts
 * infer-sim needs (model, stream flags, max tokens, prompt token count, hash
 * of the last message), or into a precise, OpenAI-worded 400 message.
 * Pure: no I/O, keeps no text of the prompt.
 */
#ifndef SIM_REQUEST_H
#define SIM_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longer model names are rejected; keeps every SSE event bounded. */
#define SIM_REQUEST_MODEL_MAX 256u

typedef struct sim_chat_request {
    char *model_json;         /* malloc'd JSON string of the model, quotes included */
    bool stream;
    bool include_usage;       /* stream_options.include_usage */
    uint64_t max_tokens;      /* 0 = no limit given */
    uint64_t prompt_tokens;   /* the token rule, see sim_answer.h */
    uint32_t last_message_hash;
} sim_chat_request;

typedef struct sim_request_error {
    const char *code;         /* OpenAI-style error code */
    char message[400];
} sim_request_error;

/*
 * Returns 0 and fills request (release it with sim_request_release), or -1
 * and fills error; nothing to release then. default_model is used when the
 * body has no model.
 */
int sim_request_parse(const char *body, size_t length,
                      const char *default_model, sim_chat_request *request,
                      sim_request_error *error);

void sim_request_release(sim_chat_request *request);

#endif
