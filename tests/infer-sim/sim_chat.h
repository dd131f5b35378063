/*
 * sim_chat — POST /v1/chat/completions: validates the body, draws the
 * request's faults, records it in the ledger, and answers with an injected
 * error, a (possibly paced) chat.completion, or hands over to sim_stream.
 * Called for the final (body complete) handler call, and once more after a
 * paced non-streaming answer's wait is over.
 */
#ifndef SIM_CHAT_H
#define SIM_CHAT_H

#include "sim_http.h"
#include "sim_server.h"

enum MHD_Result sim_chat_handle(sim_server *server,
                                struct MHD_Connection *connection,
                                sim_exchange *exchange);

#endif
