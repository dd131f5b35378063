#include "token_estimate.h"

int64_t
llmoin_estimate_tokens(uint64_t bytes)
{
    /* rounded up without bytes + 3, which wraps at the top of the range */
    return (int64_t) (bytes / LLMOIN_BYTES_PER_TOKEN
                      + (bytes % LLMOIN_BYTES_PER_TOKEN != 0));
}
