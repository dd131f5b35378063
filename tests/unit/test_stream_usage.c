/*
 * stream_usage: realistic OpenAI, vLLM and llama.cpp responses, streamed and
 * not, fed whole, split at every position and byte by byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stream_usage.h"

#define S(lit) lit, sizeof(lit) - 1
#define MAX_EVENTS 32

typedef struct {
    llmoin_stream_event_t ev[MAX_EVENTS];
    size_t n;
    int finish_rc;
    llmoin_stream_usage_t end; /* the tracker after finish */
} trace_t;

static size_t event_cap = 4096;

static void drain(llmoin_stream_usage_t *s, trace_t *t)
{
    llmoin_stream_event_t ev;
    int rc;

    while ((rc = llmoin_stream_usage_next(s, &ev)) == 1) {
        assert_true(t->n < MAX_EVENTS);
        t->ev[t->n++] = ev;
    }
    assert_int_equal(rc, 0);
}

static void run(const char *in, size_t len, const size_t *cuts, size_t ncuts,
                trace_t *t)
{
    llmoin_stream_usage_t *s = malloc(sizeof *s);
    char *buf = malloc(event_cap);
    size_t from = 0;

    assert_non_null(s);
    assert_non_null(buf);
    memset(t, 0, sizeof *t);
    assert_int_equal(llmoin_stream_usage_init(s, buf, event_cap), 0);
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        assert_int_equal(llmoin_stream_usage_feed(s, in + from, to - from), 0);
        drain(s, t);
        from = to;
    }
    t->finish_rc = llmoin_stream_usage_finish(s);
    drain(s, t);
    t->end = *s;
    free(buf);
    free(s);
}

static void assert_usage_equal(const llmoin_usage_t *a, const llmoin_usage_t *b)
{
    assert_int_equal(a->present, b->present);
    assert_int_equal(a->prompt_tokens, b->prompt_tokens);
    assert_int_equal(a->completion_tokens, b->completion_tokens);
    assert_int_equal(a->total_tokens, b->total_tokens);
}

static void assert_same(const trace_t *a, const trace_t *b)
{
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->finish_rc, b->finish_rc);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal(a->ev[i].start, b->ev[i].start);
        assert_int_equal(a->ev[i].end, b->ev[i].end);
        assert_int_equal(a->ev[i].flags, b->ev[i].flags);
        assert_usage_equal(&a->ev[i].usage, &b->ev[i].usage);
    }
    assert_usage_equal(&a->end.usage, &b->end.usage);
    assert_int_equal(a->end.usage_source, b->end.usage_source);
    assert_int_equal(a->end.done, b->end.done);
    assert_int_equal(a->end.events, b->end.events);
    assert_int_equal(a->end.content_chunks, b->end.content_chunks);
    assert_int_equal(a->end.reasoning_chunks, b->end.reasoning_chunks);
    assert_int_equal(a->end.usage_only_chunks, b->end.usage_only_chunks);
    assert_int_equal(a->end.error_chunks, b->end.error_chunks);
    assert_int_equal(a->end.bad_events, b->end.bad_events);
    assert_int_equal(a->end.skipped_events, b->end.skipped_events);
}

static trace_t *track_all_ways(const char *in, size_t len)
{
    trace_t *whole = malloc(sizeof *whole), *other = malloc(sizeof *other);
    size_t *cuts = malloc((len + 1) * sizeof *cuts);

    assert_non_null(whole);
    assert_non_null(other);
    assert_non_null(cuts);
    run(in, len, NULL, 0, whole);
    for (size_t i = 0; i <= len; i++) {
        run(in, len, &i, 1, other);
        assert_same(whole, other);
    }
    for (size_t i = 0; i < len; i++)
        cuts[i] = i;
    run(in, len, cuts, len, other);
    assert_same(whole, other);
    free(cuts);
    free(other);
    return whole;
}

static void check_usage(const llmoin_usage_t *u, int64_t p, int64_t c,
                        int64_t t)
{
    assert_true(u->present);
    assert_int_equal(u->prompt_tokens, p);
    assert_int_equal(u->completion_tokens, c);
    assert_int_equal(u->total_tokens, t);
}

/* vLLM 0.6+ with stream_options.include_usage = true. */
static const char vllm_stream[] =
    "data: {\"id\":\"chatcmpl-9f\",\"object\":\"chat.completion.chunk\","
    "\"created\":1732900000,\"model\":\"Qwen/Qwen2.5-7B-Instruct\","
    "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
    "\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}],"
    "\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-9f\",\"object\":\"chat.completion.chunk\","
    "\"created\":1732900000,\"model\":\"Qwen/Qwen2.5-7B-Instruct\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},"
    "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-9f\",\"object\":\"chat.completion.chunk\","
    "\"created\":1732900000,\"model\":\"Qwen/Qwen2.5-7B-Instruct\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\" \\\"usage\\\"\"},"
    "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-9f\",\"object\":\"chat.completion.chunk\","
    "\"created\":1732900000,\"model\":\"Qwen/Qwen2.5-7B-Instruct\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},"
    "\"logprobs\":null,\"finish_reason\":\"stop\",\"stop_reason\":null}],"
    "\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-9f\",\"object\":\"chat.completion.chunk\","
    "\"created\":1732900000,\"model\":\"Qwen/Qwen2.5-7B-Instruct\","
    "\"choices\":[],\"usage\":{\"prompt_tokens\":21,\"total_tokens\":24,"
    "\"completion_tokens\":3,\"prompt_tokens_details\":null}}\n\n"
    "data: [DONE]\n\n";

static void test_vllm(void **state)
{
    (void)state;
    trace_t *t = track_all_ways(vllm_stream, sizeof vllm_stream - 1);

    assert_int_equal(t->n, 6);
    assert_int_equal(t->finish_rc, 0);
    assert_int_equal(t->ev[0].flags, 0);
    assert_int_equal(t->ev[1].flags, LLMOIN_STREAM_CONTENT);
    assert_int_equal(t->ev[2].flags, LLMOIN_STREAM_CONTENT);
    assert_int_equal(t->ev[3].flags, 0);
    assert_int_equal(t->ev[4].flags,
                     LLMOIN_STREAM_USAGE | LLMOIN_STREAM_USAGE_ONLY);
    check_usage(&t->ev[4].usage, 21, 3, 24);
    assert_int_equal(t->ev[5].flags, LLMOIN_STREAM_DONE);
    assert_int_equal(t->ev[5].end, sizeof vllm_stream - 1);
    assert_int_equal(t->ev[4].end, t->ev[5].start);

    check_usage(&t->end.usage, 21, 3, 24);
    assert_int_equal(t->end.usage_source, LLMOIN_USAGE_SOURCE_USAGE);
    assert_true(t->end.done);
    assert_int_equal(t->end.events, 6);
    assert_int_equal(t->end.content_chunks, 2);
    assert_int_equal(t->end.usage_only_chunks, 1);
    assert_int_equal(t->end.bad_events, 0);
    free(t);
}

/* vLLM with continuous_usage_stats: cumulative usage in every chunk. */
static void test_vllm_continuous_usage(void **state)
{
    (void)state;
    const char in[] =
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"A\"}}],"
        "\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":1,"
        "\"total_tokens\":5}}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"B\"}}],"
        "\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":2,"
        "\"total_tokens\":6}}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":"
        "\"length\"}],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":2,"
        "\"total_tokens\":6}}\n\n"
        "data: [DONE]\n\n";
    trace_t *t = track_all_ways(in, sizeof in - 1);

    assert_int_equal(t->ev[0].flags,
                     LLMOIN_STREAM_USAGE | LLMOIN_STREAM_CONTENT);
    check_usage(&t->ev[0].usage, 4, 1, 5);
    assert_int_equal(t->ev[2].flags, LLMOIN_STREAM_USAGE);
    check_usage(&t->end.usage, 4, 2, 6);
    assert_int_equal(t->end.content_chunks, 2);
    assert_int_equal(t->end.usage_only_chunks, 0);
    free(t);
}

/* OpenAI: CRLF-free, usage:null everywhere, final usage-only chunk with
 * details objects; the stream also carries a keep-alive comment. */
static void test_openai(void **state)
{
    (void)state;
    const char in[] =
        ": keep-alive\n\n"
        "data: {\"id\":\"chatcmpl-B\",\"object\":\"chat.completion.chunk\","
        "\"created\":1,\"model\":\"gpt-4o-mini\",\"service_tier\":\"default\","
        "\"system_fingerprint\":\"fp_1\",\"choices\":[{\"index\":0,\"delta\":"
        "{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},"
        "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
        "data: {\"id\":\"chatcmpl-B\",\"choices\":[{\"index\":0,\"delta\":"
        "{\"content\":\"Hi\"},\"logprobs\":null,\"finish_reason\":null}],"
        "\"usage\":null}\n\n"
        "data: {\"id\":\"chatcmpl-B\",\"choices\":[{\"index\":0,\"delta\":{},"
        "\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n"
        "data: {\"id\":\"chatcmpl-B\",\"choices\":[],\"usage\":"
        "{\"prompt_tokens\":8,\"completion_tokens\":1,\"total_tokens\":9,"
        "\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},"
        "\"completion_tokens_details\":{\"reasoning_tokens\":0,"
        "\"audio_tokens\":0,\"accepted_prediction_tokens\":0,"
        "\"rejected_prediction_tokens\":0}}}\n\n"
        "data: [DONE]\n\n";
    trace_t *t = track_all_ways(in, sizeof in - 1);

    assert_int_equal(t->n, 5);
    assert_int_equal(t->ev[0].start, 14); /* the comment block is no event */
    assert_int_equal(t->ev[3].flags,
                     LLMOIN_STREAM_USAGE | LLMOIN_STREAM_USAGE_ONLY);
    check_usage(&t->end.usage, 8, 1, 9);
    assert_int_equal(t->end.content_chunks, 1);
    assert_true(t->end.done);
    free(t);
}

/* llama.cpp server: usage and timings in the last content chunk, unasked,
 * CRLF line endings here to vary the framing. */
static void test_llamacpp_usage_in_last_chunk(void **state)
{
    (void)state;
    const char in[] =
        "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":"
        "{\"content\":\"Hel\"}}],\"created\":1,\"id\":\"chatcmpl-x\","
        "\"model\":\"gpt-3.5-turbo\",\"object\":\"chat.completion.chunk\"}\r\n"
        "\r\n"
        "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":"
        "{\"content\":\"lo\"}}],\"created\":1,\"id\":\"chatcmpl-x\","
        "\"object\":\"chat.completion.chunk\"}\r\n\r\n"
        "data: {\"choices\":[{\"finish_reason\":\"stop\",\"index\":0,"
        "\"delta\":{}}],\"created\":1,\"id\":\"chatcmpl-x\","
        "\"object\":\"chat.completion.chunk\",\"usage\":{\"completion_tokens\":"
        "2,\"prompt_tokens\":30,\"total_tokens\":32},\"timings\":{\"cache_n\":"
        "25,\"prompt_n\":5,\"prompt_ms\":12.5,\"prompt_per_token_ms\":2.5,"
        "\"prompt_per_second\":400.0,\"predicted_n\":2,\"predicted_ms\":30.1,"
        "\"predicted_per_token_ms\":15.05,\"predicted_per_second\":66.4}}\r\n"
        "\r\n"
        "data: [DONE]\r\n\r\n";
    trace_t *t = track_all_ways(in, sizeof in - 1);

    assert_int_equal(t->n, 4);
    /* choices is not empty: the client must see this chunk */
    assert_int_equal(t->ev[2].flags, LLMOIN_STREAM_USAGE);
    check_usage(&t->end.usage, 30, 2, 32);
    assert_int_equal(t->end.usage_source, LLMOIN_USAGE_SOURCE_USAGE);
    assert_int_equal(t->end.content_chunks, 2);
    assert_int_equal(t->end.usage_only_chunks, 0);
    assert_true(t->end.done);
    free(t);
}

/* Older llama.cpp: timings only. prompt tokens = prompt_n + cache_n. */
static void test_llamacpp_timings_only(void **state)
{
    (void)state;
    const char in[] =
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}],"
        "\"timings\":{\"prompt_n\":7,\"predicted_n\":1,\"cache_n\":3}}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"y\"}}],"
        "\"timings\":{\"prompt_n\":7,\"predicted_n\":2,\"predicted_ms\":1.5}}"
        "\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":"
        "\"stop\"}],\"timings\":{\"prompt_n\":-1,\"predicted_n\":9}}\n\n"
        "data: [DONE]\n\n";
    trace_t *t = track_all_ways(in, sizeof in - 1);

    assert_int_equal(t->ev[0].flags, LLMOIN_STREAM_USAGE |
                                         LLMOIN_STREAM_TIMINGS |
                                         LLMOIN_STREAM_CONTENT);
    check_usage(&t->ev[0].usage, 10, 1, 11);
    check_usage(&t->ev[1].usage, 7, 2, 9);
    /* an unusable timings object reports nothing */
    assert_int_equal(t->ev[2].flags, 0);
    check_usage(&t->end.usage, 7, 2, 9);
    assert_int_equal(t->end.usage_source, LLMOIN_USAGE_SOURCE_TIMINGS);
    free(t);
}

static void test_timings_never_override_usage(void **state)
{
    (void)state;
    const char in[] =
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":10,"
        "\"completion_tokens\":5}}\n\n"
        "data: {\"choices\":[],\"timings\":{\"prompt_n\":1,"
        "\"predicted_n\":1}}\n\n";
    trace_t *t = track_all_ways(in, sizeof in - 1);

    assert_true(t->ev[1].flags & LLMOIN_STREAM_USAGE_ONLY);
    check_usage(&t->end.usage, 10, 5, 15);
    assert_int_equal(t->end.usage_source, LLMOIN_USAGE_SOURCE_USAGE);
    assert_false(t->end.done);
    free(t);
}

static void test_cut_stream(void **state)
{
    (void)state;
    const char in[] =
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"b\"}}]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"c\"";
    trace_t *t = track_all_ways(in, sizeof in - 1);

    assert_int_equal(t->n, 2);
    assert_int_equal(t->finish_rc, LLMOIN_SSE_ETRUNC);
    assert_false(t->end.done);
    assert_false(t->end.usage.present);
    assert_int_equal(t->end.usage_source, LLMOIN_USAGE_SOURCE_NONE);
    assert_int_equal(t->end.content_chunks, 2);
    free(t);
}

static void test_bad_and_error_events(void **state)
{
    (void)state;
    const char in[] =
        "data: not json\n\n"
        "data: {\"usage\":\"lots\",\"choices\":[]}\n\n"
        "data: {\"usage\":{\"prompt_tokens\":-1,\"completion_tokens\":0}}\n\n"
        "data: {\"choices\":{\"0\":1}}\n\n"
        "data: [1,2]\n\n"
        "data: {\"a\":1}{\"b\":2}\n\n"
        "data: {\"error\":{\"message\":\"out of memory\",\"code\":500}}\n\n"
        "data: {\"error\":{\"message\":\"x\"},\"usage\":{\"prompt_tokens\":3,"
        "\"completion_tokens\":0},\"choices\":[]}\n\n"
        "data: {\"error\":null,\"choices\":[{\"delta\":{\"content\":\"k\"}}]}"
        "\n\n"
        "data: {\"choices\":[]}\n\n";
    trace_t *t = track_all_ways(in, sizeof in - 1);

    assert_int_equal(t->n, 10);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(t->ev[i].flags, LLMOIN_STREAM_BAD);
    assert_int_equal(t->ev[6].flags, LLMOIN_STREAM_ERROR);
    /* an error chunk is never "usage only": the client must see it */
    assert_int_equal(t->ev[7].flags,
                     LLMOIN_STREAM_ERROR | LLMOIN_STREAM_USAGE);
    assert_int_equal(t->ev[8].flags, LLMOIN_STREAM_CONTENT);
    assert_int_equal(t->ev[9].flags, 0);
    assert_int_equal(t->end.bad_events, 6);
    assert_int_equal(t->end.error_chunks, 2);
    check_usage(&t->end.usage, 3, 0, 3);
    free(t);
}

static void test_reasoning_and_legacy_text(void **state)
{
    (void)state;
    const char in[] =
        "data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"hmm\","
        "\"content\":null}}]}\n\n"
        "data: {\"choices\":[{\"delta\":{\"reasoning\":\"so\"}}]}\n\n"
        "data: {\"choices\":[{\"delta\":{\"content\":\"ok\","
        "\"reasoning_content\":\"\"}}]}\n\n"
        "data: {\"choices\":[{\"text\":\" legacy\",\"index\":0}]}\n\n"
        "data: {\"choices\":[{\"text\":\"\",\"index\":0}]}\n\n"
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":"
        "{\"arguments\":\"{\\\"content\\\":\\\"x\\\"}\"}}]}}]}\n\n"
        "data: {\"choices\":[{\"delta\":{\"content\":\"\"}},"
        "{\"delta\":{\"content\":\"second choice\"}}]}\n\n"
        "data: {\"choices\":[7]}\n\n";
    trace_t *t = track_all_ways(in, sizeof in - 1);

    assert_int_equal(t->ev[0].flags, LLMOIN_STREAM_REASONING);
    assert_int_equal(t->ev[1].flags, LLMOIN_STREAM_REASONING);
    assert_int_equal(t->ev[2].flags, LLMOIN_STREAM_CONTENT);
    assert_int_equal(t->ev[3].flags, LLMOIN_STREAM_CONTENT);
    assert_int_equal(t->ev[4].flags, 0);
    assert_int_equal(t->ev[5].flags, 0);
    assert_int_equal(t->ev[6].flags, 0);
    assert_int_equal(t->ev[7].flags, 0);
    assert_int_equal(t->end.content_chunks, 2);
    assert_int_equal(t->end.reasoning_chunks, 2);
    free(t);
}

static void test_oversized_event(void **state)
{
    (void)state;
    char in[512];
    size_t n = 0;

    event_cap = 80;
    n += (size_t)sprintf(in + n, "data: {\"choices\":[{\"delta\":{\"content\":"
                                 "\"%s\"}}]}\n\n",
                         "0123456789012345678901234567890123456789"
                         "01234567890123456789");
    n += (size_t)sprintf(in + n, "data: {\"choices\":[],\"usage\":"
                                 "{\"prompt_tokens\":1,"
                                 "\"completion_tokens\":2}}\n\n");
    n += (size_t)sprintf(in + n, "data: [DONE]\n\n");
    trace_t *t = track_all_ways(in, n);

    assert_int_equal(t->n, 3);
    assert_int_equal(t->ev[0].flags, LLMOIN_STREAM_SKIPPED);
    assert_int_equal(t->ev[1].flags,
                     LLMOIN_STREAM_USAGE | LLMOIN_STREAM_USAGE_ONLY);
    assert_int_equal(t->end.skipped_events, 1);
    check_usage(&t->end.usage, 1, 2, 3);
    assert_true(t->end.done);
    event_cap = 4096;
    free(t);
}

static void test_classify(void **state)
{
    (void)state;
    llmoin_stream_event_t ev;

    llmoin_stream_classify(S(" [DONE] \n"), &ev);
    assert_int_equal(ev.flags, LLMOIN_STREAM_DONE);
    llmoin_stream_classify(S("[DONE]x"), &ev);
    assert_int_equal(ev.flags, LLMOIN_STREAM_BAD);
    llmoin_stream_classify(S(""), &ev);
    assert_int_equal(ev.flags, LLMOIN_STREAM_BAD);
    llmoin_stream_classify(NULL, 0, &ev);
    assert_int_equal(ev.flags, 0);
    /* usage without any choices member at all: still hideable */
    llmoin_stream_classify(
        S("{\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}"), &ev);
    assert_int_equal(ev.flags, LLMOIN_STREAM_USAGE | LLMOIN_STREAM_USAGE_ONLY);
    llmoin_stream_classify(
        S("{\"choices\":null,\"usage\":{\"prompt_tokens\":1,"
          "\"completion_tokens\":1}}"),
        &ev);
    assert_int_equal(ev.flags, LLMOIN_STREAM_USAGE | LLMOIN_STREAM_USAGE_ONLY);
    /* duplicate usage: the last one counts */
    llmoin_stream_classify(
        S("{\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1},"
          "\"choices\":[],\"usage\":null}"),
        &ev);
    assert_int_equal(ev.flags, 0);
    assert_false(ev.usage.present);
}

static void test_api_misuse(void **state)
{
    (void)state;
    llmoin_stream_usage_t s;
    llmoin_stream_event_t ev;
    char buf[64];

    assert_int_equal(llmoin_stream_usage_init(NULL, buf, 64),
                     LLMOIN_SSE_EINVAL);
    assert_int_equal(llmoin_stream_usage_init(&s, NULL, 64),
                     LLMOIN_SSE_EINVAL);
    assert_int_equal(llmoin_stream_usage_init(&s, buf, sizeof buf), 0);
    assert_int_equal(llmoin_stream_usage_next(&s, NULL), LLMOIN_SSE_EINVAL);
    assert_int_equal(llmoin_stream_usage_feed(&s, S("data: [DONE]\n\n")), 0);
    assert_int_equal(llmoin_stream_usage_feed(&s, S("x")), LLMOIN_SSE_EBUSY);
    assert_int_equal(llmoin_stream_usage_next(&s, &ev), 1);
    assert_int_equal(llmoin_stream_usage_next(&s, &ev), 0);
    assert_int_equal(llmoin_stream_usage_consume(&s, S("data: {}\n\n")), 0);
    assert_int_equal(s.events, 2);
    assert_int_equal(llmoin_stream_usage_finish(&s), 0);
    assert_int_equal(llmoin_stream_usage_finish(NULL), LLMOIN_SSE_EINVAL);
}

/* ---- non-streaming bodies ---- */

typedef struct {
    int rc;
    llmoin_usage_t usage;
    llmoin_usage_source_t source;
} body_result_t;

static llmoin_body_usage_t body;

static void body_run(const char *in, size_t len, size_t cut, bool bytewise,
                     body_result_t *r)
{
    int rc = 0;

    assert_int_equal(llmoin_body_usage_init(&body), 0);
    if (bytewise) {
        for (size_t i = 0; i < len; i++)
            (void)llmoin_body_usage_feed(&body, in + i, 1);
    } else {
        rc = llmoin_body_usage_feed(&body, in, cut);
        (void)llmoin_body_usage_feed(&body, in + cut, len - cut);
    }
    (void)rc;
    r->rc = llmoin_body_usage_finish(&body, &r->usage, &r->source);
}

static body_result_t body_all_ways(const char *in, size_t len)
{
    body_result_t whole, other;

    body_run(in, len, len, false, &whole);
    for (size_t i = 0; i <= len; i++) {
        body_run(in, len, i, false, &other);
        assert_int_equal(whole.rc, other.rc);
        assert_int_equal(whole.source, other.source);
        assert_usage_equal(&whole.usage, &other.usage);
    }
    body_run(in, len, 0, true, &other);
    assert_int_equal(whole.rc, other.rc);
    assert_usage_equal(&whole.usage, &other.usage);
    return whole;
}

static void test_body_openai(void **state)
{
    (void)state;
    const char in[] =
        "{\n  \"id\": \"chatcmpl-1\",\n  \"object\": \"chat.completion\",\n"
        "  \"created\": 1,\n  \"model\": \"m\",\n  \"choices\": [{\n"
        "    \"index\": 0,\n    \"message\": {\"role\": \"assistant\", "
        "\"content\": \"{\\\"usage\\\": {\\\"prompt_tokens\\\": 999}}\"},\n"
        "    \"usage\": {\"prompt_tokens\": 998, \"completion_tokens\": 1},\n"
        "    \"finish_reason\": \"stop\"\n  }],\n"
        "  \"usage\": {\"prompt_tokens\": 13, \"completion_tokens\": 7, "
        "\"total_tokens\": 20, \"prompt_tokens_details\": "
        "{\"cached_tokens\": 0}},\n  \"system_fingerprint\": null\n}\n";
    body_result_t r = body_all_ways(in, sizeof in - 1);

    assert_int_equal(r.rc, 0);
    assert_int_equal(r.source, LLMOIN_USAGE_SOURCE_USAGE);
    check_usage(&r.usage, 13, 7, 20);
}

static void test_body_variants(void **state)
{
    (void)state;
    body_result_t r;

    r = body_all_ways(S("{\"choices\":[],\"usage\":null}"));
    assert_int_equal(r.rc, 0);
    assert_false(r.usage.present);
    assert_int_equal(r.source, LLMOIN_USAGE_SOURCE_NONE);

    r = body_all_ways(S("{\"choices\":[]}"));
    assert_int_equal(r.rc, 0);
    assert_false(r.usage.present);

    /* llama.cpp /completion-style body with timings only */
    r = body_all_ways(S("{\"content\":\"x\",\"timings\":{\"prompt_n\":4,"
                        "\"cache_n\":6,\"predicted_n\":3}}"));
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.source, LLMOIN_USAGE_SOURCE_TIMINGS);
    check_usage(&r.usage, 10, 3, 13);

    /* usage wins over timings whatever the order */
    r = body_all_ways(S("{\"usage\":{\"prompt_tokens\":2,\"completion_tokens\""
                        ":2},\"timings\":{\"prompt_n\":4,\"predicted_n\":3}}"));
    check_usage(&r.usage, 2, 2, 4);

    /* truncated after the usage: usage still reported, with the error */
    r = body_all_ways(S("{\"usage\":{\"prompt_tokens\":2,\"completion_tokens\""
                        ":2},\"choices\":[{\"mess"));
    assert_int_equal(r.rc, LLMOIN_JSON_ETRUNC);
    check_usage(&r.usage, 2, 2, 4);

    r = body_all_ways(S("{\"usage\":{\"prompt_tokens\":2,\"completion_tok"));
    assert_int_equal(r.rc, LLMOIN_JSON_ETRUNC);
    assert_false(r.usage.present);

    r = body_all_ways(S("{\"usage\":{\"prompt_tokens\":\"2\","
                        "\"completion_tokens\":2}}"));
    assert_int_equal(r.rc, LLMOIN_JSON_ETYPE);
    assert_false(r.usage.present);

    r = body_all_ways(S("<html>502 Bad Gateway</html>"));
    assert_int_equal(r.rc, LLMOIN_JSON_ENOTOBJ);
    assert_false(r.usage.present);
}

static void test_body_usage_too_long(void **state)
{
    (void)state;
    char in[LLMOIN_JSON_VALUE_MAX + 200];
    int n = sprintf(in, "{\"usage\":{\"prompt_tokens\":1,"
                        "\"completion_tokens\":1,\"pad\":\"");
    memset(in + n, 'x', LLMOIN_JSON_VALUE_MAX);
    n += LLMOIN_JSON_VALUE_MAX;
    n += sprintf(in + n, "\"}}");
    body_result_t r = body_all_ways(in, (size_t)n);
    assert_int_equal(r.rc, LLMOIN_JSON_ETOOLONG);
    assert_false(r.usage.present);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vllm),
        cmocka_unit_test(test_vllm_continuous_usage),
        cmocka_unit_test(test_openai),
        cmocka_unit_test(test_llamacpp_usage_in_last_chunk),
        cmocka_unit_test(test_llamacpp_timings_only),
        cmocka_unit_test(test_timings_never_override_usage),
        cmocka_unit_test(test_cut_stream),
        cmocka_unit_test(test_bad_and_error_events),
        cmocka_unit_test(test_reasoning_and_legacy_text),
        cmocka_unit_test(test_oversized_event),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_api_misuse),
        cmocka_unit_test(test_body_openai),
        cmocka_unit_test(test_body_variants),
        cmocka_unit_test(test_body_usage_too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
