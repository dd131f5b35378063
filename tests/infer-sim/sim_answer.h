/*
 * sim_answer — the deterministic heart of infer-sim: the token rule and the
 * answer text. Pure functions, no I/O, no allocation.
 *
 * Promises:
 *  - prompt tokens = sum over messages of (words in the message text + 1),
 *    where a word is a maximal run of bytes that are not ASCII whitespace;
 *  - the natural answer length is 20 + fnv1a32(last message text) % 41 tokens
 *    unless a fixed length is configured; max_tokens only ever shortens it;
 *  - the answer is a fixed German opening followed by words from a built-in
 *    list, chosen by a PRNG seeded from the hash: the same last message always
 *    gives the same text, and a shorter answer is a prefix of a longer one;
 *  - the text never contains anything from the prompt.
 */
#ifndef SIM_ANSWER_H
#define SIM_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_ANSWER_MIN_TOKENS 20u
#define SIM_ANSWER_TOKEN_SPAN 41u
/* Longest token the cursor can produce, including its separating space. */
#define SIM_ANSWER_TOKEN_CAPACITY 64u

#define SIM_FNV1A32_OFFSET 2166136261u

uint32_t sim_fnv1a32_update(uint32_t hash, const void *data, size_t length);
uint32_t sim_fnv1a32(const void *data, size_t length);

/* Number of whitespace-separated words in text[0..length). */
uint64_t sim_count_words(const char *text, size_t length);

/* 20 + hash % 41. */
uint32_t sim_answer_natural_tokens(uint32_t last_message_hash);

typedef struct sim_answer_plan {
    uint32_t seed;              /* fnv1a32 of the last message's text */
    uint32_t completion_tokens; /* words the answer will have */
    bool cut_by_max_tokens;     /* finish_reason "length" instead of "stop" */
} sim_answer_plan;

/*
 * fixed_tokens: 0 for the natural length, else the configured length.
 * max_tokens: 0 when the request set no limit.
 */
sim_answer_plan sim_answer_plan_make(uint32_t last_message_hash,
                                     uint32_t fixed_tokens,
                                     uint64_t max_tokens);

const char *sim_answer_finish_reason(const sim_answer_plan *plan);

/* Walks the answer one token at a time; copyable, so a stream can own one. */
typedef struct sim_answer_cursor {
    uint64_t prng_state;
    uint32_t next_index;
    uint32_t total;
} sim_answer_cursor;

void sim_answer_cursor_start(sim_answer_cursor *cursor,
                             const sim_answer_plan *plan);

/*
 * Writes the next token (the word, plus one space unless it is the last
 * token) NUL-terminated into out. Returns its length, or 0 once the answer
 * is exhausted. capacity must be at least SIM_ANSWER_TOKEN_CAPACITY.
 */
size_t sim_answer_cursor_next(sim_answer_cursor *cursor, char *out,
                              size_t capacity);

#endif
