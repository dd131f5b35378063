#include "sim_stream.h"

#include "sim_log.h"
#include "sim_stats.h"
#include "sim_timer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef enum phase {
    PHASE_ROLE,
    PHASE_TOKENS,
    PHASE_FINISH,
    PHASE_USAGE,
    PHASE_DONE,
    PHASE_END,
} phase;

typedef struct sim_stream {
    sim_server *server;
    struct MHD_Connection *connection;
    sim_reply reply;
    char *model_json;
    char *tenant;
    sim_answer_cursor cursor;
    phase next;
    uint32_t tokens_formatted;
    uint32_t tokens_sent;      /* token chunks fully handed to MHD */
    int64_t cut_after;
    uint64_t started;
    uint64_t first_token_at;   /* monotonic ns */
    uint64_t token_interval;   /* ns; 0 = unpaced */
    /* The event being handed over; MHD may take it in several pieces. */
    char event[SIM_WIRE_EVENT_CAPACITY];
    size_t event_length;
    size_t event_offset;
    bool event_is_token;
    bool waited;               /* suspended since the last event went out */
} sim_stream;

static size_t copy_pending(sim_stream *stream, char *buffer, size_t space)
{
    size_t left = stream->event_length - stream->event_offset;
    size_t count = left < space ? left : space;
    memcpy(buffer, stream->event + stream->event_offset, count);
    stream->event_offset += count;
    if (count > 0 && stream->event_offset == stream->event_length &&
        stream->event_is_token)
        stream->tokens_sent++;
    return count;
}

static bool has_pending(const sim_stream *stream)
{
    return stream->event_offset < stream->event_length;
}

/* A cut stream never reaches its finish chunk, even if the answer is short. */
static bool cut_due(const sim_stream *stream)
{
    if (stream->cut_after < 0)
        return false;
    return (stream->next == PHASE_TOKENS &&
            stream->tokens_sent >= (uint64_t)stream->cut_after) ||
           stream->next == PHASE_FINISH;
}

static uint64_t next_deadline(const sim_stream *stream)
{
    if (stream->next == PHASE_ROLE)
        return stream->first_token_at;
    /* The finish chunk follows the last token at once. */
    if (stream->next == PHASE_TOKENS &&
        stream->tokens_formatted < stream->reply.plan.completion_tokens)
        return stream->first_token_at +
               (uint64_t)stream->tokens_formatted * stream->token_interval;
    return 0;
}

static size_t format_token(sim_stream *stream)
{
    char token[SIM_ANSWER_TOKEN_CAPACITY];
    if (sim_answer_cursor_next(&stream->cursor, token, sizeof token) == 0)
        return 0;
    stream->tokens_formatted++;
    stream->event_is_token = true;
    return sim_wire_chunk_token(&stream->reply, token, stream->event,
                                sizeof stream->event);
}

/* Formats the next event and advances; false only if it did not fit. */
static bool produce_event(sim_stream *stream)
{
    const sim_reply *reply = &stream->reply;
    size_t length = 0;
    stream->event_is_token = false;
    switch (stream->next) {
    case PHASE_ROLE:
        length = sim_wire_chunk_role(reply, stream->event, sizeof stream->event);
        stream->next = PHASE_TOKENS;
        break;
    case PHASE_TOKENS:
        if (stream->tokens_formatted == reply->plan.completion_tokens) {
            stream->next = PHASE_FINISH;
            return true; /* nothing to send for this step */
        }
        length = format_token(stream);
        break;
    case PHASE_FINISH:
        length = sim_wire_chunk_finish(reply, stream->event, sizeof stream->event);
        stream->next = reply->include_usage ? PHASE_USAGE : PHASE_DONE;
        break;
    case PHASE_USAGE:
        length = sim_wire_chunk_usage(reply, stream->event, sizeof stream->event);
        stream->next = PHASE_DONE;
        break;
    case PHASE_DONE:
        length = sim_wire_done(stream->event, sizeof stream->event);
        stream->next = PHASE_END;
        break;
    case PHASE_END:
        return true;
    }
    stream->event_length = length;
    stream->event_offset = 0;
    return length != 0;
}

/*
 * MHD does not watch a suspended connection, so a client that left during a
 * wait would only be noticed after one or two more chunks were written into
 * the void. Peeking first keeps the ledger's token count to what the client
 * could have received.
 */
static bool client_has_left(struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (info == NULL)
        return false;
    char byte;
    ssize_t peeked = recv(info->connect_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (peeked == 0)
        return true;
    return peeked < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

/*
 * MHD calls this whenever the previous piece has been written to the socket.
 * Returning data only when nothing has been copied in this call lets waits
 * and cuts happen on a clean event boundary with everything before flushed.
 */
static ssize_t read_stream(void *cls, uint64_t position, char *buffer,
                           size_t max)
{
    (void)position;
    sim_stream *stream = cls;
    if (stream->waited) {
        stream->waited = false;
        if (client_has_left(stream->connection))
            return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    size_t copied = 0;
    for (;;) {
        copied += copy_pending(stream, buffer + copied, max - copied);
        if (has_pending(stream))
            return (ssize_t)copied;
        if (stream->next == PHASE_END)
            return copied > 0 ? (ssize_t)copied : MHD_CONTENT_READER_END_OF_STREAM;
        if (cut_due(stream))
            return copied > 0 ? (ssize_t)copied : MHD_CONTENT_READER_END_WITH_ERROR;
        uint64_t deadline = next_deadline(stream);
        if (deadline > sim_clock_now()) {
            if (copied > 0)
                return (ssize_t)copied;
            if (sim_timer_suspend_until(stream->server->timer,
                                        stream->connection, deadline)) {
                stream->waited = true;
                return 0;
            }
            return MHD_CONTENT_READER_END_WITH_ERROR; /* shutting down */
        }
        if (!produce_event(stream))
            return MHD_CONTENT_READER_END_WITH_ERROR;
    }
}

static void log_stream(const sim_stream *stream, const char *outcome)
{
    sim_log_entry entry = {
        .method = "POST",
        .path = "/v1/chat/completions",
        .status = 200,
        .started = stream->started,
        .chat = true,
        .tenant = stream->tenant,
        .stream = true,
        .outcome = outcome,
        .prompt_tokens = stream->reply.prompt_tokens,
        .completion_tokens = stream->tokens_sent,
    };
    sim_log_request(&entry);
}

/* Runs when MHD releases the response: the stream's outcome is final now. */
static void finish_stream(void *cls)
{
    sim_stream *stream = cls;
    bool complete = stream->next == PHASE_END && !has_pending(stream);
    sim_stats_event event = {
        .tenant = stream->tenant,
        .outcome = complete ? SIM_OUTCOME_OK : SIM_OUTCOME_CUT,
        .prompt_tokens = stream->reply.prompt_tokens,
        .completion_tokens = stream->tokens_sent,
    };
    sim_stats_record(stream->server->stats, &event);
    if (stream->server->options->access_log)
        log_stream(stream, complete ? "ok" : "cut");
    free(stream->model_json);
    free(stream->tenant);
    free(stream);
}

static sim_stream *stream_new(sim_server *server,
                              struct MHD_Connection *connection,
                              const sim_reply *reply, char *model_json,
                              const char *tenant)
{
    sim_stream *stream = calloc(1, sizeof *stream);
    char *tenant_copy = strdup(tenant);
    if (stream == NULL || tenant_copy == NULL) {
        free(stream);
        free(tenant_copy);
        free(model_json);
        return NULL;
    }
    stream->server = server;
    stream->connection = connection;
    stream->reply = *reply;
    stream->model_json = model_json;
    stream->reply.model_json = model_json;
    stream->tenant = tenant_copy;
    sim_answer_cursor_start(&stream->cursor, &reply->plan);
    stream->next = PHASE_ROLE;
    return stream;
}

struct MHD_Response *sim_stream_create(sim_server *server,
                                       struct MHD_Connection *connection,
                                       const sim_reply *reply,
                                       char *model_json, const char *tenant,
                                       int64_t cut_after,
                                       const sim_runtime_config *config,
                                       uint64_t started)
{
    sim_stream *stream = stream_new(server, connection, reply, model_json, tenant);
    if (stream == NULL)
        return NULL;
    stream->cut_after = cut_after;
    stream->started = started;
    stream->first_token_at = sim_clock_now() + (uint64_t)config->ttft_ms * 1000000u;
    if (config->tokens_per_second > 0)
        stream->token_interval = (uint64_t)(1e9 / config->tokens_per_second);
    struct MHD_Response *response = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 16 * 1024, read_stream, stream, finish_stream);
    if (response == NULL) {
        finish_stream(stream); /* counts it as cut: it was received, never sent */
        return NULL;
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "text/event-stream");
    MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    return response;
}
