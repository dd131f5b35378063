/*
 * sim_control — every endpoint that is not a chat completion: the model
 * list, health, and the /sim/... control plane (live config, stats ledger,
 * reset). Each handler answers in one call and never sees prompt text.
 */
#ifndef SIM_CONTROL_H
#define SIM_CONTROL_H

#include "sim_http.h"
#include "sim_server.h"

/* Builds the fixed /health and /v1/models answers; -1 if out of memory. */
int sim_control_prepare(sim_server *server);
void sim_control_release(sim_server *server);

enum MHD_Result sim_control_models(sim_server *server,
                                   struct MHD_Connection *connection,
                                   sim_exchange *exchange);
enum MHD_Result sim_control_model(sim_server *server,
                                  struct MHD_Connection *connection,
                                  sim_exchange *exchange, const char *id);
enum MHD_Result sim_control_health(sim_server *server,
                                   struct MHD_Connection *connection,
                                   sim_exchange *exchange);
enum MHD_Result sim_control_config_get(sim_server *server,
                                       struct MHD_Connection *connection,
                                       sim_exchange *exchange);
enum MHD_Result sim_control_config_set(sim_server *server,
                                       struct MHD_Connection *connection,
                                       sim_exchange *exchange);
enum MHD_Result sim_control_stats(sim_server *server,
                                  struct MHD_Connection *connection,
                                  sim_exchange *exchange);
enum MHD_Result sim_control_reset(sim_server *server,
                                  struct MHD_Connection *connection,
                                  sim_exchange *exchange);

#endif
