/*
 * token_estimate: the gateway's documented guess of a token count from a
 * byte count, used where the inference server reported no usage (a stream
 * cut short, a server that omits usage) and, from the quota issue on, to
 * size reservations before a request runs.
 *
 * Rule: one token per 4 bytes, rounded up. For German text with common
 * tokenizers this overestimates slightly, which is the safe side for
 * budgets. Estimates are always marked "estimated" in the usage record.
 */
#ifndef LLMOIN_TOKEN_ESTIMATE_H
#define LLMOIN_TOKEN_ESTIMATE_H

#include <stdint.h>

#define LLMOIN_BYTES_PER_TOKEN 4

int64_t llmoin_estimate_tokens(uint64_t bytes);

#endif
