/*
 * The usage journal line: the contract between the nginx module (which
 * writes it through access_log with the log_format in
 * nginx-module/llmoin_journal.conf) and tenantd (which ingests it).
 *
 * One JSON object per line, every value a string (so an empty nginx
 * variable can never make the line invalid JSON):
 *
 *   {"v":"1","ts":"1764456000.123","request_id":"<32 hex>",
 *    "tenant_id":"1","user":"alice","key_id":"key_..."|"","model":"m",
 *    "pool":"default","status":"200","upstream_status":"200"|"",
 *    "prompt_tokens":"12","completion_tokens":"40",
 *    "usage":"reported"|"estimated"|"none","stream":"0"|"1",
 *    "request_time":"0.042","groups":"staff,lab"|"",
 *    "quota":"checked"|"unchecked"|"none",
 *    "function":"chat"|"summarize"|"write"|"research"|"plain_language"|"",
 *    "first_byte_time":"0.123"|""}
 *
 * groups: the caller's groups, comma-separated (the token's groups claim;
 * "" for none or an API key); at most LLMOIN_JOURNAL_GROUPS_MAX bytes and
 * no control characters. quota: whether the quota store checked the request
 * ("unchecked": Redis was down and the tenant fails open; "none": no limit
 * applied). Both came later than the other fields: a line without them is
 * read as groups "" and quota "none".
 *
 * function: the entry function of the web page (X-LLMoin-Function, checked
 * by the gateway), "" for none. first_byte_time: seconds from the start of
 * the request to the first byte of the answer, "" when no byte was sent.
 * Both came after groups and quota: a line without them reads as "". A new
 * entry function goes into the gateway's list (ngx_http_llmoin_headers.c),
 * this parser's and, by a new migration, the check on usage_events.function
 * alike: a line the parser accepts must fit the table.
 *
 * No prompt or answer text is ever part of a line. llmoin_journal_parse
 * checks every field; on failure it names the field and the problem.
 */
#ifndef LLMOIN_JOURNAL_H
#define LLMOIN_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

#define LLMOIN_JOURNAL_TEXT_MAX 201
#define LLMOIN_JOURNAL_GROUPS_MAX 1024   /* bytes, without the NUL */

/* accepted ranges: 2000-01-01 .. 2100-01-01, and at most a week a request */
#define LLMOIN_JOURNAL_TS_MIN           946684800.0
#define LLMOIN_JOURNAL_TS_MAX           4102444800.0
#define LLMOIN_JOURNAL_REQUEST_TIME_MAX 604800.0

typedef struct llmoin_journal_record {
    char      request_id[33];
    char      ts[32];                   /* seconds since the epoch, "123.456" */
    long long tenant_id;
    char      user[LLMOIN_JOURNAL_TEXT_MAX];
    char      key_id[24];               /* "" for a token-authenticated request */
    char      model[LLMOIN_JOURNAL_TEXT_MAX];
    char      pool[40];
    int       status;
    char      upstream_status[64];      /* "" when no upstream answered */
    long long prompt_tokens;
    long long completion_tokens;
    char      usage_source[16];         /* reported, estimated, none */
    bool      stream;
    long      request_time_ms;
    char      groups[LLMOIN_JOURNAL_GROUPS_MAX + 1];    /* "" when none */
    char      quota[16];                /* checked, unchecked, none */
    char      function[16];             /* chat, summarize, write, research,
                                           plain_language, "" */
    long      first_byte_ms;            /* -1 when no answer byte was sent */
} llmoin_journal_record_t;

/* Returns 0, or -1 with a reason such as "field 'status' is not a number". */
int llmoin_journal_parse(const char *line, size_t length,
                         llmoin_journal_record_t *record, char *reason,
                         size_t reason_size);

#endif
