/*
 * usage: interpret captured raw JSON values (see json_scan.h), above all the
 * OpenAI-style `usage` object that accounting is based on.
 *
 * Promises
 *   - llmoin_usage_parse accepts exactly: `null` (usage not present) or an
 *     object with non-negative integer members prompt_tokens and
 *     completion_tokens, and optionally a non-negative integer total_tokens.
 *     Other members (prompt_tokens_details, ...) are ignored; a duplicate
 *     member counts by its last occurrence. A missing total_tokens is
 *     computed as prompt + completion. A given total that disagrees with
 *     prompt + completion is kept as given (servers count e.g. cached or
 *     reasoning tokens differently; accounting bills the parts, and
 *     llmoin_usage_consistent() lets the caller log the disagreement).
 *   - Integers are JSON integers: no fraction, no exponent, no leading zeros
 *     or '+', at most INT64_MAX.
 *   - Every function accepts the value with surrounding JSON whitespace and
 *     requires nothing else in [v, v + len).
 *
 * Memory: nothing is allocated; outputs go to caller storage.
 * Errors are the LLMOIN_JSON_E* codes of json_scan.h (0 ok):
 *   ETYPE wrong JSON type, ERANGE negative or too large, EMISSING required
 *   member absent, ESYNTAX malformed value, ETOOLONG caller buffer too small.
 * On error the outputs are left zeroed / not present.
 */
#ifndef LLMOIN_USAGE_H
#define LLMOIN_USAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int64_t prompt_tokens;
    int64_t completion_tokens;
    int64_t total_tokens;
    bool present; /* false: the response reported no usage (or null) */
} llmoin_usage_t;

/* Parses a raw `usage` value (object or null) into *out. */
int llmoin_usage_parse(const char *v, size_t len, llmoin_usage_t *out);

/* Whether total_tokens == prompt_tokens + completion_tokens. */
bool llmoin_usage_consistent(const llmoin_usage_t *u);

/* A JSON integer value; ETYPE for any other type or a non-integral number,
 * ERANGE outside int64_t. */
int llmoin_json_parse_int64(const char *v, size_t len, int64_t *out);

/* `true` or `false`; ETYPE otherwise. */
int llmoin_json_parse_bool(const char *v, size_t len, bool *out);

/* Whether the value is the literal null. */
bool llmoin_json_is_null(const char *v, size_t len);

/* A JSON string value, unescaped to UTF-8 into out[0..cap) and
 * NUL-terminated; *out_len (optional) gets the length without the NUL.
 * ETOOLONG if it needs more than cap bytes including the NUL, ETYPE if not a
 * string, ESYNTAX for bad escapes, raw control characters or unpaired
 * surrogates. \u0000 decodes to a NUL byte: compare out_len with strlen(out)
 * if embedded NULs matter. */
int llmoin_json_parse_string(const char *v, size_t len, char *out, size_t cap,
                             size_t *out_len);

#endif
