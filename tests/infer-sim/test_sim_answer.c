/*
 * Unit tests of the deterministic part of infer-sim: the token rule
 * (sim_request + sim_answer), max_tokens, determinism of the text, and the
 * exact JSON / SSE shapes (sim_wire).
 */
#include "sim_answer.h"
#include "sim_request.h"
#include "sim_wire.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define TEXT_CAPACITY 8192

static void answer_text(const sim_answer_plan *plan, char *out, size_t capacity)
{
    sim_answer_cursor cursor;
    sim_answer_cursor_start(&cursor, plan);
    size_t used = 0;
    size_t length;
    out[0] = '\0';
    while ((length = sim_answer_cursor_next(&cursor, out + used, capacity - used)) != 0)
        used += length;
}

static sim_chat_request parse_ok(const char *body)
{
    sim_chat_request request;
    sim_request_error error;
    int status = sim_request_parse(body, strlen(body), "llmoin-sim", &request, &error);
    if (status != 0)
        fail_msg("unexpected rejection: %s", error.message);
    return request;
}

static sim_request_error parse_rejected(const char *body)
{
    sim_chat_request request;
    sim_request_error error;
    assert_int_equal(sim_request_parse(body, strlen(body), "llmoin-sim", &request,
                                       &error),
                     -1);
    return error;
}

static void test_fnv1a32_reference_values(void **state)
{
    (void)state;
    assert_int_equal(sim_fnv1a32("", 0), 0x811c9dc5u);
    assert_int_equal(sim_fnv1a32("a", 1), 0xe40c292cu);
    assert_int_equal(sim_fnv1a32("foobar", 6), 0xbf9cf968u);
}

static void test_words_are_split_on_ascii_whitespace(void **state)
{
    (void)state;
    assert_int_equal(sim_count_words("", 0), 0);
    assert_int_equal(sim_count_words(" \t\n", 3), 0);
    assert_int_equal(sim_count_words("Hallo", 5), 1);
    const char *text = "  Hallo,\tWelt!\n wie\r\ngeht's ";
    assert_int_equal(sim_count_words(text, strlen(text)), 4);
}

static void test_prompt_tokens_are_words_plus_one_per_message(void **state)
{
    (void)state;
    sim_chat_request request = parse_ok(
        "{\"messages\":[{\"role\":\"system\",\"content\":\"Du bist hilfreich.\"},"
        "{\"role\":\"user\",\"content\":\"Hallo  Welt\\nwie geht es\"}]}");
    assert_int_equal(request.prompt_tokens, (3 + 1) + (5 + 1));
    const char *last = "Hallo  Welt\nwie geht es";
    assert_int_equal(request.last_message_hash, sim_fnv1a32(last, strlen(last)));
    assert_string_equal(request.model_json, "\"llmoin-sim\"");
    assert_false(request.stream);
    assert_int_equal(request.max_tokens, 0);
    sim_request_release(&request);
}

static void test_content_parts_are_joined_by_newline(void **state)
{
    (void)state;
    sim_chat_request request = parse_ok(
        "{\"model\":\"m\\\"x\",\"messages\":[{\"role\":\"user\",\"content\":["
        "{\"type\":\"text\",\"text\":\"eins zwei\"},"
        "{\"type\":\"text\",\"text\":\"drei\"}]}]}");
    assert_int_equal(request.prompt_tokens, 3 + 1);
    assert_int_equal(request.last_message_hash, sim_fnv1a32("eins zwei\ndrei", 14));
    assert_string_equal(request.model_json, "\"m\\\"x\"");
    sim_request_release(&request);
}

static void test_tighter_of_both_limits_wins(void **state)
{
    (void)state;
    sim_chat_request request = parse_ok(
        "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
        "\"max_tokens\":9,\"max_completion_tokens\":5,\"stream\":true,"
        "\"stream_options\":{\"include_usage\":true}}");
    assert_int_equal(request.max_tokens, 5);
    assert_true(request.stream);
    assert_true(request.include_usage);
    sim_request_release(&request);
}

static void test_invalid_bodies_get_precise_messages(void **state)
{
    (void)state;
    assert_string_equal(parse_rejected("{}").message,
                        "Missing required parameter: 'messages'.");
    assert_string_equal(parse_rejected("{\"messages\":[]}").code, "empty_array");
    assert_string_equal(
        parse_rejected("{\"messages\":[{\"role\":\"user\"}]}").message,
        "Missing required parameter: 'messages[0].content'.");
    assert_string_equal(
        parse_rejected("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                       "\"max_tokens\":0}")
            .message,
        "Invalid 'max_tokens': integer below minimum value. Expected a value "
        ">= 1, but got 0 instead.");
    assert_string_equal(
        parse_rejected("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                       "\"max_completion_tokens\":\"5\"}")
            .message,
        "Invalid type for 'max_completion_tokens': expected an integer, but got "
        "a string instead.");
    assert_string_equal(
        parse_rejected("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
                       "\"image_url\"}]}]}")
            .code,
        "invalid_value");
    assert_string_equal(
        parse_rejected("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                       "\"stream_options\":{\"include_usage\":true}}")
            .message,
        "The 'stream_options' parameter is only allowed when 'stream' is "
        "enabled.");
}

static void test_parse_errors_do_not_quote_the_body(void **state)
{
    (void)state;
    sim_request_error error = parse_rejected(
        "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}] GEHEIM-4711");
    assert_string_equal(error.code, "invalid_json");
    assert_null(strstr(error.message, "GEHEIM"));
}

static void test_natural_length_and_max_tokens(void **state)
{
    (void)state;
    for (uint32_t hash = 0; hash < 200; hash++) {
        uint32_t natural = sim_answer_natural_tokens(hash);
        assert_int_equal(natural, 20 + hash % 41);
    }
    sim_answer_plan plan = sim_answer_plan_make(45, 0, 0);
    assert_int_equal(plan.completion_tokens, 24);
    assert_string_equal(sim_answer_finish_reason(&plan), "stop");
    plan = sim_answer_plan_make(45, 0, 10);
    assert_int_equal(plan.completion_tokens, 10);
    assert_string_equal(sim_answer_finish_reason(&plan), "length");
    plan = sim_answer_plan_make(45, 0, 24);
    assert_string_equal(sim_answer_finish_reason(&plan), "stop");
    plan = sim_answer_plan_make(45, 300, 0);
    assert_int_equal(plan.completion_tokens, 300);
    plan = sim_answer_plan_make(45, 300, 299);
    assert_int_equal(plan.completion_tokens, 299);
    assert_true(plan.cut_by_max_tokens);
}

static void test_answer_has_exactly_the_planned_words(void **state)
{
    (void)state;
    char text[TEXT_CAPACITY];
    for (uint32_t tokens = 1; tokens < 120; tokens++) {
        sim_answer_plan plan = sim_answer_plan_make(12345, tokens, 0);
        answer_text(&plan, text, sizeof text);
        assert_int_equal(sim_count_words(text, strlen(text)), tokens);
        assert_true(text[strlen(text) - 1] != ' ');
    }
    sim_answer_plan plan = sim_answer_plan_make(1, 3, 0);
    answer_text(&plan, text, sizeof text);
    assert_string_equal(text, "Gerne helfe ich");
    plan = sim_answer_plan_make(1, 8, 0);
    answer_text(&plan, text, sizeof text);
    assert_memory_equal(text, "Gerne helfe ich Ihnen weiter. ", 30);
}

static void test_answer_is_deterministic_and_prefix_stable(void **state)
{
    (void)state;
    char first[TEXT_CAPACITY], second[TEXT_CAPACITY], shorter[TEXT_CAPACITY];
    uint32_t hash = sim_fnv1a32("Wie wird das Wetter?", 20);
    sim_answer_plan plan = sim_answer_plan_make(hash, 0, 0);
    answer_text(&plan, first, sizeof first);
    answer_text(&plan, second, sizeof second);
    assert_string_equal(first, second);
    sim_answer_plan cut = sim_answer_plan_make(hash, 0, 12);
    answer_text(&cut, shorter, sizeof shorter);
    assert_memory_equal(first, shorter, strlen(shorter));
    uint32_t other_hash = sim_fnv1a32("Wie wird das Wetter morgen?", 27);
    sim_answer_plan other = sim_answer_plan_make(other_hash, 60, 0);
    sim_answer_plan same_length = sim_answer_plan_make(hash, 60, 0);
    answer_text(&other, second, sizeof second);
    answer_text(&same_length, first, sizeof first);
    assert_string_not_equal(first, second);
}

static sim_reply sample_reply(bool include_usage, uint64_t max_tokens)
{
    sim_reply reply = {
        .created = 1700000000,
        .model_json = "\"gpt-sim\"",
        .prompt_tokens = 7,
        .plan = sim_answer_plan_make(99, 0, max_tokens),
        .include_usage = include_usage,
    };
    sim_reply_set_id(&reply, 42);
    return reply;
}

static size_t key_position(json_t *object, const char *wanted)
{
    size_t position = 0;
    const char *key;
    json_t *value;
    json_object_foreach(object, key, value) {
        if (strcmp(key, wanted) == 0)
            return position;
        position++;
    }
    fail_msg("key %s missing", wanted);
    return 0;
}

static void test_completion_json_shape(void **state)
{
    (void)state;
    sim_reply reply = sample_reply(false, 5);
    size_t length;
    char *body = sim_wire_completion(&reply, &length);
    assert_non_null(body);
    json_error_t error;
    json_t *root = json_loadb(body, length, 0, &error);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "id")),
                        "chatcmpl-sim-42");
    assert_string_equal(json_string_value(json_object_get(root, "object")),
                        "chat.completion");
    assert_string_equal(json_string_value(json_object_get(root, "model")), "gpt-sim");
    json_t *choice = json_array_get(json_object_get(root, "choices"), 0);
    assert_string_equal(json_string_value(json_object_get(choice, "finish_reason")),
                        "length");
    json_t *message = json_object_get(choice, "message");
    assert_string_equal(json_string_value(json_object_get(message, "role")),
                        "assistant");
    assert_string_equal(json_string_value(json_object_get(message, "content")),
                        "Gerne helfe ich Ihnen weiter.");
    json_t *usage = json_object_get(root, "usage");
    assert_int_equal(json_integer_value(json_object_get(usage, "prompt_tokens")), 7);
    assert_int_equal(json_integer_value(json_object_get(usage, "completion_tokens")), 5);
    assert_int_equal(json_integer_value(json_object_get(usage, "total_tokens")), 12);
    assert_true(key_position(root, "usage") < key_position(root, "system_fingerprint"));
    json_decref(root);
    free(body);
}

/* Parses "data: {...}\n\n" and returns the JSON object. */
static json_t *event_json(const char *event, size_t length)
{
    assert_true(length > 8);
    assert_memory_equal(event, "data: ", 6);
    assert_memory_equal(event + length - 2, "\n\n", 2);
    json_error_t error;
    json_t *root = json_loadb(event + 6, length - 8, 0, &error);
    assert_non_null(root);
    return root;
}

static void test_stream_chunks_without_usage(void **state)
{
    (void)state;
    sim_reply reply = sample_reply(false, 0);
    char event[SIM_WIRE_EVENT_CAPACITY];
    size_t length = sim_wire_chunk_role(&reply, event, sizeof event);
    assert_null(strstr(event, "usage"));
    json_t *root = event_json(event, length);
    assert_string_equal(json_string_value(json_object_get(root, "object")),
                        "chat.completion.chunk");
    json_t *choice = json_array_get(json_object_get(root, "choices"), 0);
    json_t *delta = json_object_get(choice, "delta");
    assert_string_equal(json_string_value(json_object_get(delta, "role")), "assistant");
    assert_string_equal(json_string_value(json_object_get(delta, "content")), "");
    assert_true(json_is_null(json_object_get(choice, "finish_reason")));
    json_decref(root);

    length = sim_wire_chunk_token(&reply, "Wort ", event, sizeof event);
    assert_null(strstr(event, "usage"));
    root = event_json(event, length);
    choice = json_array_get(json_object_get(root, "choices"), 0);
    delta = json_object_get(choice, "delta");
    assert_string_equal(json_string_value(json_object_get(delta, "content")), "Wort ");
    json_decref(root);

    length = sim_wire_chunk_finish(&reply, event, sizeof event);
    root = event_json(event, length);
    choice = json_array_get(json_object_get(root, "choices"), 0);
    assert_int_equal(json_object_size(json_object_get(choice, "delta")), 0);
    assert_string_equal(json_string_value(json_object_get(choice, "finish_reason")),
                        "stop");
    json_decref(root);

    length = sim_wire_done(event, sizeof event);
    assert_string_equal(event, "data: [DONE]\n\n");
    assert_int_equal(length, 14);
}

static void test_stream_chunks_with_usage(void **state)
{
    (void)state;
    sim_reply reply = sample_reply(true, 0);
    char event[SIM_WIRE_EVENT_CAPACITY];
    size_t length = sim_wire_chunk_token(&reply, "Haus", event, sizeof event);
    json_t *root = event_json(event, length);
    assert_true(json_is_null(json_object_get(root, "usage")));
    json_decref(root);

    length = sim_wire_chunk_finish(&reply, event, sizeof event);
    root = event_json(event, length);
    assert_true(json_is_null(json_object_get(root, "usage")));
    json_decref(root);

    length = sim_wire_chunk_usage(&reply, event, sizeof event);
    root = event_json(event, length);
    assert_int_equal(json_array_size(json_object_get(root, "choices")), 0);
    json_t *usage = json_object_get(root, "usage");
    uint32_t completion = reply.plan.completion_tokens;
    assert_int_equal(json_integer_value(json_object_get(usage, "prompt_tokens")), 7);
    assert_int_equal(json_integer_value(json_object_get(usage, "completion_tokens")),
                     completion);
    assert_int_equal(json_integer_value(json_object_get(usage, "total_tokens")),
                     7 + completion);
    json_decref(root);
}

static void test_stream_deltas_concatenate_to_the_content(void **state)
{
    (void)state;
    sim_reply reply = sample_reply(false, 0);
    size_t length;
    char *body = sim_wire_completion(&reply, &length);
    json_t *root = json_loadb(body, length, 0, NULL);
    const char *content = json_string_value(json_object_get(
        json_object_get(json_array_get(json_object_get(root, "choices"), 0),
                        "message"),
        "content"));
    char joined[TEXT_CAPACITY];
    answer_text(&reply.plan, joined, sizeof joined);
    assert_string_equal(content, joined);
    json_decref(root);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fnv1a32_reference_values),
        cmocka_unit_test(test_words_are_split_on_ascii_whitespace),
        cmocka_unit_test(test_prompt_tokens_are_words_plus_one_per_message),
        cmocka_unit_test(test_content_parts_are_joined_by_newline),
        cmocka_unit_test(test_tighter_of_both_limits_wins),
        cmocka_unit_test(test_invalid_bodies_get_precise_messages),
        cmocka_unit_test(test_parse_errors_do_not_quote_the_body),
        cmocka_unit_test(test_natural_length_and_max_tokens),
        cmocka_unit_test(test_answer_has_exactly_the_planned_words),
        cmocka_unit_test(test_answer_is_deterministic_and_prefix_stable),
        cmocka_unit_test(test_completion_json_shape),
        cmocka_unit_test(test_stream_chunks_without_usage),
        cmocka_unit_test(test_stream_chunks_with_usage),
        cmocka_unit_test(test_stream_deltas_concatenate_to_the_content),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
