#include "sim_wire.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sim_reply_set_id(sim_reply *reply, uint64_t sequence)
{
    snprintf(reply->id, sizeof reply->id, "chatcmpl-sim-%" PRIu64, sequence);
}

static uint64_t total_tokens(const sim_reply *reply)
{
    return reply->prompt_tokens + reply->plan.completion_tokens;
}

/* snprintf that reports "did not fit" as 0 instead of a would-be length. */
static size_t format_into(char *out, size_t capacity, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static size_t format_into(char *out, size_t capacity, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    int written = vsnprintf(out, capacity, format, arguments);
    va_end(arguments);
    if (written < 0 || (size_t)written >= capacity)
        return 0;
    return (size_t)written;
}

char *sim_wire_completion(const sim_reply *reply, size_t *length)
{
    size_t model_length = strlen(reply->model_json);
    size_t capacity = 512 + model_length +
                      (size_t)reply->plan.completion_tokens *
                          SIM_ANSWER_TOKEN_CAPACITY;
    char *body = malloc(capacity);
    if (body == NULL)
        return NULL;
    size_t used = format_into(
        body, capacity,
        "{\"id\":\"%s\",\"object\":\"chat.completion\",\"created\":%lld,"
        "\"model\":%s,\"choices\":[{\"index\":0,\"message\":{\"role\":"
        "\"assistant\",\"content\":\"",
        reply->id, reply->created, reply->model_json);
    if (used == 0) {
        free(body);
        return NULL;
    }
    sim_answer_cursor cursor;
    sim_answer_cursor_start(&cursor, &reply->plan);
    /* capacity reserves a full token slot per token, so this cannot overrun */
    size_t token_length;
    while ((token_length = sim_answer_cursor_next(&cursor, body + used,
                                                  capacity - used)) != 0)
        used += token_length;
    size_t tail = format_into(
        body + used, capacity - used,
        "\"},\"finish_reason\":\"%s\"}],\"usage\":{\"prompt_tokens\":%" PRIu64
        ",\"completion_tokens\":%" PRIu32 ",\"total_tokens\":%" PRIu64
        "},\"system_fingerprint\":\"infer-sim\"}",
        sim_answer_finish_reason(&reply->plan), reply->prompt_tokens,
        reply->plan.completion_tokens, total_tokens(reply));
    if (tail == 0) {
        free(body);
        return NULL;
    }
    *length = used + tail;
    return body;
}

/* Text that closes a non-final chunk: usage:null only when usage was asked. */
static const char *chunk_end(const sim_reply *reply)
{
    return reply->include_usage ? ",\"usage\":null}\n\n" : "}\n\n";
}

static size_t format_chunk(const sim_reply *reply, const char *choice,
                           char *out, size_t capacity)
{
    return format_into(out, capacity,
                       "data: {\"id\":\"%s\",\"object\":\"chat.completion.chunk\","
                       "\"created\":%lld,\"model\":%s,\"choices\":[%s]%s",
                       reply->id, reply->created, reply->model_json, choice,
                       chunk_end(reply));
}

size_t sim_wire_chunk_role(const sim_reply *reply, char *out, size_t capacity)
{
    return format_chunk(reply,
                        "{\"index\":0,\"delta\":{\"role\":\"assistant\","
                        "\"content\":\"\"},\"finish_reason\":null}",
                        out, capacity);
}

size_t sim_wire_chunk_token(const sim_reply *reply, const char *token,
                            char *out, size_t capacity)
{
    char choice[SIM_ANSWER_TOKEN_CAPACITY + 96];
    size_t length = format_into(choice, sizeof choice,
                                "{\"index\":0,\"delta\":{\"content\":\"%s\"},"
                                "\"finish_reason\":null}",
                                token);
    if (length == 0)
        return 0;
    return format_chunk(reply, choice, out, capacity);
}

size_t sim_wire_chunk_finish(const sim_reply *reply, char *out,
                             size_t capacity)
{
    char choice[96];
    size_t length = format_into(choice, sizeof choice,
                                "{\"index\":0,\"delta\":{},\"finish_reason\":\"%s\"}",
                                sim_answer_finish_reason(&reply->plan));
    if (length == 0)
        return 0;
    return format_chunk(reply, choice, out, capacity);
}

size_t sim_wire_chunk_usage(const sim_reply *reply, char *out,
                            size_t capacity)
{
    return format_into(
        out, capacity,
        "data: {\"id\":\"%s\",\"object\":\"chat.completion.chunk\","
        "\"created\":%lld,\"model\":%s,\"choices\":[],\"usage\":{"
        "\"prompt_tokens\":%" PRIu64 ",\"completion_tokens\":%" PRIu32
        ",\"total_tokens\":%" PRIu64 "}}\n\n",
        reply->id, reply->created, reply->model_json, reply->prompt_tokens,
        reply->plan.completion_tokens, total_tokens(reply));
}

size_t sim_wire_done(char *out, size_t capacity)
{
    return format_into(out, capacity, "data: [DONE]\n\n");
}
