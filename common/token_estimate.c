#include "token_estimate.h"

int64_t
llmoin_estimate_tokens(uint64_t bytes)
{
    return (int64_t) ((bytes + LLMOIN_BYTES_PER_TOKEN - 1) / LLMOIN_BYTES_PER_TOKEN);
}
