#include "sim_control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *model_object(const sim_server *server, const char *id)
{
    return json_pack("{s:s, s:s, s:I, s:s}", "id", id, "object", "model",
                     "created", (json_int_t)server->started_at, "owned_by",
                     "infer-sim");
}

static struct MHD_Response *fixed_json_response(json_t *value)
{
    char *body = value ? json_dumps(value, JSON_COMPACT) : NULL;
    json_decref(value);
    return sim_http_body_response(body, body ? strlen(body) : 0,
                                  "application/json");
}

int sim_control_prepare(sim_server *server)
{
    json_t *data = json_array();
    for (size_t i = 0; i < server->options->model_count; i++)
        json_array_append_new(data, model_object(server, server->options->models[i]));
    server->models_response = fixed_json_response(
        json_pack("{s:s, s:o}", "object", "list", "data", data));
    server->health_response = fixed_json_response(json_pack("{s:s}", "status", "ok"));
    return server->models_response && server->health_response ? 0 : -1;
}

void sim_control_release(sim_server *server)
{
    if (server->models_response != NULL)
        MHD_destroy_response(server->models_response);
    if (server->health_response != NULL)
        MHD_destroy_response(server->health_response);
    server->models_response = NULL;
    server->health_response = NULL;
}

enum MHD_Result sim_control_models(sim_server *server,
                                   struct MHD_Connection *connection,
                                   sim_exchange *exchange)
{
    return sim_http_queue_shared(exchange, connection, MHD_HTTP_OK,
                                 server->models_response);
}

enum MHD_Result sim_control_model(sim_server *server,
                                  struct MHD_Connection *connection,
                                  sim_exchange *exchange, const char *id)
{
    for (size_t i = 0; i < server->options->model_count; i++) {
        if (strcmp(server->options->models[i], id) == 0)
            return sim_http_send_json(exchange, connection, MHD_HTTP_OK,
                                      model_object(server, id));
    }
    char message[400];
    snprintf(message, sizeof message, "The model '%.256s' does not exist.", id);
    return sim_http_send_error(exchange, connection, MHD_HTTP_NOT_FOUND,
                               "invalid_request_error", "model_not_found",
                               message);
}

enum MHD_Result sim_control_health(sim_server *server,
                                   struct MHD_Connection *connection,
                                   sim_exchange *exchange)
{
    return sim_http_queue_shared(exchange, connection, MHD_HTTP_OK,
                                 server->health_response);
}

enum MHD_Result sim_control_config_get(sim_server *server,
                                       struct MHD_Connection *connection,
                                       sim_exchange *exchange)
{
    sim_runtime_config config = sim_live_config_snapshot(&server->config);
    return sim_http_send_json(exchange, connection, MHD_HTTP_OK,
                              sim_runtime_config_to_json(&config));
}

enum MHD_Result sim_control_config_set(sim_server *server,
                                       struct MHD_Connection *connection,
                                       sim_exchange *exchange)
{
    json_error_t parse_error;
    json_t *patch = json_loadb(exchange->body ? exchange->body : "",
                               exchange->body_length, JSON_DECODE_ANY,
                               &parse_error);
    char message[400];
    if (patch == NULL) {
        snprintf(message, sizeof message,
                 "We could not parse the JSON body of your request: %s "
                 "(line %d, column %d).",
                 parse_error.text, parse_error.line, parse_error.column);
        return sim_http_send_error(exchange, connection, MHD_HTTP_BAD_REQUEST,
                                   "invalid_request_error", "invalid_json",
                                   message);
    }
    sim_runtime_config updated;
    int status = sim_live_config_patch(&server->config, patch, &updated,
                                       message, sizeof message);
    json_decref(patch);
    if (status != 0)
        return sim_http_send_error(exchange, connection, MHD_HTTP_BAD_REQUEST,
                                   "invalid_request_error", "invalid_config",
                                   message);
    return sim_http_send_json(exchange, connection, MHD_HTTP_OK,
                              sim_runtime_config_to_json(&updated));
}

enum MHD_Result sim_control_stats(sim_server *server,
                                  struct MHD_Connection *connection,
                                  sim_exchange *exchange)
{
    return sim_http_send_json(exchange, connection, MHD_HTTP_OK,
                              sim_stats_to_json(server->stats));
}

enum MHD_Result sim_control_reset(sim_server *server,
                                  struct MHD_Connection *connection,
                                  sim_exchange *exchange)
{
    sim_stats_reset(server->stats);
    return sim_http_send_json(exchange, connection, MHD_HTTP_OK,
                              sim_stats_to_json(server->stats));
}
