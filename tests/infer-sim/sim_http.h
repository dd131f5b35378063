/*
 * sim_http — the libmicrohttpd side of infer-sim: starts the daemon,
 * routes requests, collects request bodies (bounded), and sends responses.
 * Every error response is OpenAI-shaped:
 *   {"error":{"message":...,"type":...,"param":null,"code":...}}
 *
 * Threading choice: one epoll thread pool serves every connection. Waiting
 * (TTFT, token pacing) never blocks a worker: the connection is suspended
 * and sim_timer resumes it, so a slow paced stream costs a heap entry, not a
 * thread, and cannot stall other requests. Thread-per-connection would have
 * been simpler, but pacing can be switched on at runtime via /sim/config,
 * and the benchmark fast path needs the pool.
 */
#ifndef SIM_HTTP_H
#define SIM_HTTP_H

#include "sim_server.h"
#include "sim_stats.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_HTTP_BODY_LIMIT (8u * 1024u * 1024u)

typedef enum sim_route {
    SIM_ROUTE_CHAT,
    SIM_ROUTE_MODELS,
    SIM_ROUTE_MODEL,       /* GET /v1/models/{id} */
    SIM_ROUTE_HEALTH,
    SIM_ROUTE_CONFIG_GET,
    SIM_ROUTE_CONFIG_SET,
    SIM_ROUTE_STATS,
    SIM_ROUTE_RESET,
    SIM_ROUTE_NOT_FOUND,
    SIM_ROUTE_BAD_METHOD,
} sim_route;

/* One HTTP request, from its headers to MHD's "completed" notification. */
typedef struct sim_exchange {
    sim_route route;
    uint64_t started;
    char method[16];
    char path[160];
    char *body;
    size_t body_length;
    size_t body_capacity;
    bool body_too_large;
    unsigned status;            /* of the queued response; 0 before */
    /* Access-log facts of a chat request; streams log themselves. */
    bool chat;
    bool logs_itself;
    char *tenant;               /* malloc'd copy of X-LLMoin-Tenant, "" if absent */
    bool stream;
    const char *outcome;
    uint64_t prompt_tokens;
    uint64_t completion_tokens;
    /* A finished non-streaming answer waiting for its pacing deadline. */
    struct MHD_Response *held_response;
    sim_stats_event held_event;
} sim_exchange;

/* Starts listening; fills *bound_port (useful with port 0). */
int sim_http_start(sim_server *server, uint16_t *bound_port, char *error,
                   size_t capacity);
void sim_http_stop(sim_server *server);

/* Queues response (consumed) with status and remembers the status. */
enum MHD_Result sim_http_queue(sim_exchange *exchange,
                               struct MHD_Connection *connection,
                               unsigned status, struct MHD_Response *response);
/* Queues a response built once and reused; the caller keeps its reference. */
enum MHD_Result sim_http_queue_shared(sim_exchange *exchange,
                                      struct MHD_Connection *connection,
                                      unsigned status,
                                      struct MHD_Response *response);
/* body is malloc'd and consumed. NULL body means out of memory: closes. */
struct MHD_Response *sim_http_body_response(char *body, size_t length,
                                            const char *content_type);
/* value is consumed. */
enum MHD_Result sim_http_send_json(sim_exchange *exchange,
                                   struct MHD_Connection *connection,
                                   unsigned status, json_t *value);
/* type: "invalid_request_error" or "server_error". */
enum MHD_Result sim_http_send_error(sim_exchange *exchange,
                                    struct MHD_Connection *connection,
                                    unsigned status, const char *type,
                                    const char *code, const char *message);

#endif
