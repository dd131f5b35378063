#include "sim_chat.h"

#include "sim_fault.h"
#include "sim_request.h"
#include "sim_stream.h"
#include "sim_wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TENANT_HEADER "X-LLMoin-Tenant"

/* Facts about the caller that the ledger needs whatever the outcome. */
static void note_caller(sim_exchange *exchange, struct MHD_Connection *connection,
                        sim_stats_event *event)
{
    const char *tenant = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                     TENANT_HEADER);
    exchange->chat = true;
    exchange->tenant = strdup(tenant != NULL ? tenant : "");
    *event = (sim_stats_event){
        .tenant = exchange->tenant != NULL ? exchange->tenant : "",
        .authorization = MHD_lookup_connection_value(
                             connection, MHD_HEADER_KIND,
                             MHD_HTTP_HEADER_AUTHORIZATION) != NULL,
    };
}

static enum MHD_Result reject(sim_server *server, struct MHD_Connection *connection,
                              sim_exchange *exchange, sim_stats_event *event,
                              unsigned status, const char *code,
                              const char *message)
{
    event->outcome = SIM_OUTCOME_REJECTED;
    sim_stats_record(server->stats, event);
    exchange->outcome = "rejected";
    return sim_http_send_error(exchange, connection, status,
                               "invalid_request_error", code, message);
}

static enum MHD_Result send_fault(sim_server *server,
                                  struct MHD_Connection *connection,
                                  sim_exchange *exchange, sim_stats_event *event,
                                  unsigned status, double fail_rate)
{
    event->outcome = SIM_OUTCOME_FAILED;
    sim_stats_record(server->stats, event);
    exchange->outcome = "failed";
    char message[160];
    snprintf(message, sizeof message,
             "infer-sim injected a %u failure (fail_rate %g).", status, fail_rate);
    json_t *error = json_pack("{s:{s:s, s:s, s:n, s:s}}", "error", "message",
                              message, "type", "server_error", "param", "code",
                              "injected_fault");
    char *body = error ? json_dumps(error, JSON_COMPACT) : NULL;
    json_decref(error);
    struct MHD_Response *response = sim_http_body_response(
        body, body ? strlen(body) : 0, "application/json");
    /* Real overloaded backends say when to come back; gateways may honour it. */
    if (response != NULL && status == MHD_HTTP_SERVICE_UNAVAILABLE)
        MHD_add_response_header(response, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    return sim_http_queue(exchange, connection, status, response);
}

static sim_reply reply_for(const sim_chat_request *request,
                           const sim_runtime_config *config, uint64_t sequence)
{
    sim_reply reply = {
        .created = (long long)time(NULL),
        .model_json = request->model_json,
        .prompt_tokens = request->prompt_tokens,
        .plan = sim_answer_plan_make(request->last_message_hash,
                                     (uint32_t)config->answer_tokens,
                                     request->max_tokens),
        .include_usage = request->include_usage,
    };
    sim_reply_set_id(&reply, sequence);
    return reply;
}

static enum MHD_Result start_stream(sim_server *server,
                                    struct MHD_Connection *connection,
                                    sim_exchange *exchange, sim_stats_event *event,
                                    sim_chat_request *request,
                                    const sim_runtime_config *config,
                                    int64_t cut_after, uint64_t sequence)
{
    sim_reply reply = reply_for(request, config, sequence);
    event->received = true;
    event->stream = true;
    sim_stats_record(server->stats, event); /* the outcome follows at release */
    char *model_json = request->model_json;
    request->model_json = NULL; /* the stream owns it now */
    struct MHD_Response *response =
        sim_stream_create(server, connection, &reply, model_json,
                          exchange->tenant ? exchange->tenant : "", cut_after,
                          config, exchange->started);
    exchange->logs_itself = response != NULL;
    return sim_http_queue(exchange, connection, MHD_HTTP_OK, response);
}

/* Time a complete non-streaming answer takes: TTFT plus C tokens at R/s. */
static uint64_t answer_delay(const sim_runtime_config *config,
                             uint32_t completion_tokens)
{
    uint64_t delay = (uint64_t)config->ttft_ms * 1000000u;
    if (config->tokens_per_second > 0)
        delay += (uint64_t)(completion_tokens * 1e9 / config->tokens_per_second);
    return delay;
}

static enum MHD_Result send_answer(sim_server *server,
                                   struct MHD_Connection *connection,
                                   sim_exchange *exchange,
                                   const sim_stats_event *event)
{
    struct MHD_Response *response = exchange->held_response;
    exchange->held_response = NULL;
    sim_stats_record(server->stats, event);
    exchange->outcome = "ok";
    return sim_http_queue(exchange, connection, MHD_HTTP_OK, response);
}

static enum MHD_Result answer(sim_server *server, struct MHD_Connection *connection,
                              sim_exchange *exchange, sim_stats_event *event,
                              const sim_chat_request *request,
                              const sim_runtime_config *config, uint64_t sequence)
{
    sim_reply reply = reply_for(request, config, sequence);
    size_t length = 0;
    char *body = sim_wire_completion(&reply, &length);
    exchange->held_response = sim_http_body_response(body, length, "application/json");
    if (exchange->held_response == NULL)
        return MHD_NO;
    exchange->completion_tokens = reply.plan.completion_tokens;
    event->received = true;
    event->outcome = SIM_OUTCOME_OK;
    event->prompt_tokens = reply.prompt_tokens;
    event->completion_tokens = reply.plan.completion_tokens;
    uint64_t delay = answer_delay(config, reply.plan.completion_tokens);
    if (delay == 0)
        return send_answer(server, connection, exchange, event);
    /* Count it as received now; "ok" is recorded when it actually goes out. */
    sim_stats_event arrival = *event;
    arrival.outcome = SIM_OUTCOME_NONE;
    sim_stats_record(server->stats, &arrival);
    exchange->held_event = *event;
    exchange->held_event.received = false;
    exchange->held_event.authorization = false;
    if (sim_timer_suspend_until(server->timer, connection, sim_clock_now() + delay))
        return MHD_YES; /* called again once resumed */
    return send_answer(server, connection, exchange, &exchange->held_event);
}

static enum MHD_Result handle_valid(sim_server *server,
                                    struct MHD_Connection *connection,
                                    sim_exchange *exchange, sim_stats_event *event,
                                    sim_chat_request *request)
{
    uint64_t sequence = atomic_fetch_add(&server->last_sequence, 1) + 1;
    sim_runtime_config config = sim_live_config_snapshot(&server->config);
    sim_fault fault = sim_fault_decide(server->options->seed, sequence, &config,
                                       request->stream);
    exchange->stream = request->stream;
    exchange->prompt_tokens = request->prompt_tokens;
    event->received = true;
    event->stream = request->stream;
    if (fault.fail_status != 0)
        return send_fault(server, connection, exchange, event, fault.fail_status,
                          config.fail_rate);
    if (request->stream)
        return start_stream(server, connection, exchange, event, request, &config,
                            fault.cut_after, sequence);
    return answer(server, connection, exchange, event, request, &config, sequence);
}

enum MHD_Result sim_chat_handle(sim_server *server,
                                struct MHD_Connection *connection,
                                sim_exchange *exchange)
{
    if (exchange->held_response != NULL)
        return send_answer(server, connection, exchange, &exchange->held_event);
    sim_stats_event event;
    note_caller(exchange, connection, &event);
    if (exchange->body_too_large) {
        char message[160];
        snprintf(message, sizeof message,
                 "Request body too large: infer-sim accepts at most %u bytes.",
                 SIM_HTTP_BODY_LIMIT);
        return reject(server, connection, exchange, &event,
                      MHD_HTTP_CONTENT_TOO_LARGE, "request_too_large", message);
    }
    sim_chat_request request;
    sim_request_error error;
    if (sim_request_parse(exchange->body ? exchange->body : "",
                          exchange->body_length, server->options->models[0],
                          &request, &error) != 0)
        return reject(server, connection, exchange, &event, MHD_HTTP_BAD_REQUEST,
                      error.code, error.message);
    enum MHD_Result result = handle_valid(server, connection, exchange, &event,
                                          &request);
    sim_request_release(&request);
    return result;
}
