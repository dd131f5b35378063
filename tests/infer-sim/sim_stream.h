/*
 * sim_stream — the server-sent-events answer of a streaming chat request.
 *
 * Promises:
 *  - events go out as role chunk, one chunk per token, finish chunk, the
 *    usage chunk (only with include_usage), then "data: [DONE]";
 *  - with pacing, the role chunk and first token wait for the TTFT and each
 *    further token for 1/R s, by suspending the connection (no thread held);
 *  - an injected cut ends the connection after exactly cut_after token
 *    chunks, flushed to the socket first, and never sends [DONE];
 *  - when the response is released the ledger gets the outcome: ok when
 *    [DONE] was handed over, else cut, with the token chunks handed over so
 *    far (this also covers a client that went away mid-stream).
 */
#ifndef SIM_STREAM_H
#define SIM_STREAM_H

#include "sim_config.h"
#include "sim_server.h"
#include "sim_wire.h"

#include <microhttpd.h>
#include <stdint.h>

/*
 * Builds the streaming response. model_json (malloc'd) becomes the stream's
 * in all cases; reply->model_json is ignored. tenant is copied. cut_after < 0
 * means no cut. Returns NULL if out of memory.
 */
struct MHD_Response *sim_stream_create(sim_server *server,
                                       struct MHD_Connection *connection,
                                       const sim_reply *reply,
                                       char *model_json, const char *tenant,
                                       int64_t cut_after,
                                       const sim_runtime_config *config,
                                       uint64_t started);

#endif
