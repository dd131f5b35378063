/*
 * fuzz_journal: the payload is parsed as a usage journal line, with a
 * reason buffer of knob + 1 bytes (heap-allocated to its exact size). A
 * refusal must leave a terminated, non-empty reason. An accepted record
 * must satisfy every bound the parser promises tenantd (journal.h), and
 * must survive a round trip: rendered back into a journal line (the way the
 * nginx log_format writes it) it parses to the same record.
 */
#include <jansson.h>
#include <string.h>

#include "fuzz_common.h"
#include "journal.h"

static llmoin_journal_record_t record, again;

static int terminated(const char *s, size_t size)
{
    return memchr(s, '\0', size) != NULL;
}

static void check_record(const llmoin_journal_record_t *r)
{
    FUZZ_CHECK(terminated(r->request_id, sizeof r->request_id) &&
                   strlen(r->request_id) == 32,
               "request_id length");
    for (size_t i = 0; i < 32; i++)
        FUZZ_CHECK(strchr("0123456789abcdefABCDEF", r->request_id[i]) != NULL,
                   "request_id hex");
    FUZZ_CHECK(terminated(r->ts, sizeof r->ts) && r->ts[0] >= '0' &&
                   r->ts[0] <= '9',
               "ts");
    double ts = strtod(r->ts, NULL);
    FUZZ_CHECK(ts >= LLMOIN_JOURNAL_TS_MIN && ts <= LLMOIN_JOURNAL_TS_MAX,
               "ts out of range");
    FUZZ_CHECK(r->tenant_id >= 0, "tenant_id");
    FUZZ_CHECK(terminated(r->user, sizeof r->user) && r->user[0] != '\0', "user");
    FUZZ_CHECK(terminated(r->key_id, sizeof r->key_id), "key_id");
    FUZZ_CHECK(terminated(r->model, sizeof r->model), "model");
    FUZZ_CHECK(terminated(r->pool, sizeof r->pool), "pool");
    FUZZ_CHECK(r->status >= 0 && r->status <= 999, "status");
    FUZZ_CHECK(terminated(r->upstream_status, sizeof r->upstream_status),
               "upstream_status");
    FUZZ_CHECK(r->prompt_tokens >= 0 && r->prompt_tokens <= 2000000000LL,
               "prompt_tokens");
    FUZZ_CHECK(r->completion_tokens >= 0 && r->completion_tokens <= 2000000000LL,
               "completion_tokens");
    FUZZ_CHECK(strcmp(r->usage_source, "reported") == 0 ||
                   strcmp(r->usage_source, "estimated") == 0 ||
                   strcmp(r->usage_source, "none") == 0,
               "usage");
    FUZZ_CHECK(terminated(r->groups, sizeof r->groups) &&
                   strlen(r->groups) <= LLMOIN_JOURNAL_GROUPS_MAX,
               "groups length");
    for (const unsigned char *g = (const unsigned char *)r->groups; *g; g++)
        FUZZ_CHECK(*g >= 0x20 && *g != 0x7f && !(g[0] == 0xc2 && g[1] >= 0x80 && g[1] <= 0x9f),
                   "groups control character");
    FUZZ_CHECK(strcmp(r->quota, "checked") == 0 ||
                   strcmp(r->quota, "unchecked") == 0 ||
                   strcmp(r->quota, "none") == 0,
               "quota");
    FUZZ_CHECK(strcmp(r->function, "") == 0 || strcmp(r->function, "chat") == 0 ||
                   strcmp(r->function, "summarize") == 0 ||
                   strcmp(r->function, "write") == 0 ||
                   strcmp(r->function, "research") == 0 ||
                   strcmp(r->function, "plain_language") == 0,
               "function");
    FUZZ_CHECK(r->first_byte_ms >= -1 &&
                   r->first_byte_ms <=
                       (long)(LLMOIN_JOURNAL_REQUEST_TIME_MAX * 1000.0 + 0.5),
               "first_byte_ms");
    FUZZ_CHECK(r->request_time_ms >= 0 &&
                   r->request_time_ms <=
                       (long)(LLMOIN_JOURNAL_REQUEST_TIME_MAX * 1000.0 + 0.5),
               "request_time_ms");
}

/* Milliseconds as nginx writes seconds ("1.234"); -1 is "" (no time). */
static void render_seconds(char *out, size_t size, long milliseconds)
{
    if (milliseconds < 0)
        snprintf(out, size, "%s", "");
    else
        snprintf(out, size, "%ld.%03ld", milliseconds / 1000, milliseconds % 1000);
}

static void check_round_trip(const llmoin_journal_record_t *r)
{
    char tenant[24], status[12], prompt[24], completion[24], seconds[48];
    char first_byte[48], reason[128];
    json_t *line;
    char *text;

    snprintf(tenant, sizeof tenant, "%lld", r->tenant_id);
    snprintf(status, sizeof status, "%d", r->status);
    snprintf(prompt, sizeof prompt, "%lld", r->prompt_tokens);
    snprintf(completion, sizeof completion, "%lld", r->completion_tokens);
    render_seconds(seconds, sizeof seconds, r->request_time_ms);
    render_seconds(first_byte, sizeof first_byte, r->first_byte_ms);
    line = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
                     " s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                     "v", "1", "ts", r->ts, "request_id", r->request_id,
                     "tenant_id", tenant, "user", r->user, "key_id", r->key_id,
                     "model", r->model, "pool", r->pool, "status", status,
                     "upstream_status", r->upstream_status, "prompt_tokens",
                     prompt, "completion_tokens", completion, "usage",
                     r->usage_source, "stream", r->stream ? "1" : "0",
                     "request_time", seconds, "groups", r->groups,
                     "quota", r->quota, "function", r->function,
                     "first_byte_time", first_byte);
    FUZZ_CHECK(line != NULL, "record does not render as JSON");
    text = json_dumps(line, JSON_COMPACT);
    json_decref(line);
    FUZZ_CHECK(text != NULL, "json_dumps");
    FUZZ_CHECK(llmoin_journal_parse(text, strlen(text), &again, reason,
                                    sizeof reason) == 0,
               "rendered record refused");
    free(text);
    FUZZ_CHECK(strcmp(again.request_id, r->request_id) == 0 &&
                   strcmp(again.ts, r->ts) == 0 &&
                   again.tenant_id == r->tenant_id &&
                   strcmp(again.user, r->user) == 0 &&
                   strcmp(again.key_id, r->key_id) == 0 &&
                   strcmp(again.model, r->model) == 0 &&
                   strcmp(again.pool, r->pool) == 0 &&
                   again.status == r->status &&
                   strcmp(again.upstream_status, r->upstream_status) == 0 &&
                   again.prompt_tokens == r->prompt_tokens &&
                   again.completion_tokens == r->completion_tokens &&
                   strcmp(again.usage_source, r->usage_source) == 0 &&
                   again.stream == r->stream &&
                   strcmp(again.groups, r->groups) == 0 &&
                   strcmp(again.quota, r->quota) == 0 &&
                   strcmp(again.function, r->function) == 0,
               "round trip changes the record");
    FUZZ_CHECK(again.first_byte_ms == r->first_byte_ms,
               "round trip changes first_byte_time");
    FUZZ_CHECK(again.request_time_ms == r->request_time_ms,
               "round trip changes request_time");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_t in;
    size_t reason_size;
    char *reason;

    if (!fuzz_input(data, size, &in))
        return 0;
    reason_size = (size_t)in.knob + 1;
    reason = malloc(reason_size);
    FUZZ_CHECK(reason != NULL, "malloc");
    memset(reason, 'X', reason_size);

    if (llmoin_journal_parse((const char *)in.data, in.len, &record, reason,
                             reason_size) != 0) {
        FUZZ_CHECK(terminated(reason, reason_size), "reason not terminated");
        FUZZ_CHECK(reason_size == 1 || reason[0] != '\0', "refused without a reason");
        free(reason);
        return 0;
    }
    free(reason);
    check_record(&record);
    check_round_trip(&record);
    return 0;
}
