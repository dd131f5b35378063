/*
 * Unit tests of infer-sim's bookkeeping: runtime config validation
 * (all-or-nothing, precise messages), reproducible fault draws, and the
 * stats ledger's JSON shape.
 */
#include "sim_config.h"
#include "sim_fault.h"
#include "sim_stats.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static int patch_text(sim_runtime_config *config, const char *text, char *error,
                      size_t capacity)
{
    json_t *patch = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(patch);
    int status = sim_runtime_config_patch(config, patch, error, capacity);
    json_decref(patch);
    return status;
}

static void test_config_patch_applies_all_fields(void **state)
{
    (void)state;
    sim_runtime_config config;
    sim_runtime_config_defaults(&config);
    char error[400];
    assert_int_equal(patch_text(&config,
                                "{\"tokens_per_second\":50,\"ttft_ms\":200,"
                                "\"fail_rate\":0.5,\"fail_status\":503,"
                                "\"cut_rate\":1,\"cut_after\":0,"
                                "\"answer_tokens\":7}",
                                error, sizeof error),
                     0);
    assert_true(config.tokens_per_second == 50.0);
    assert_int_equal(config.ttft_ms, 200);
    assert_true(config.fail_rate == 0.5);
    assert_int_equal(config.fail_status, SIM_FAIL_STATUS_503);
    assert_int_equal(config.cut_after, 0);
    assert_int_equal(config.answer_tokens, 7);
    assert_int_equal(patch_text(&config, "{\"answer_tokens\":null,"
                                         "\"fail_status\":\"mixed\"}",
                                error, sizeof error),
                     0);
    assert_int_equal(config.answer_tokens, 0);
    assert_int_equal(config.fail_status, SIM_FAIL_STATUS_MIXED);
}

static void test_config_patch_is_all_or_nothing(void **state)
{
    (void)state;
    sim_runtime_config config;
    sim_runtime_config_defaults(&config);
    char error[400];
    assert_int_equal(patch_text(&config, "{\"ttft_ms\":5,\"fail_rate\":1.5}",
                                error, sizeof error),
                     -1);
    assert_string_equal(error, "Invalid 'fail_rate': expected a number from 0 to "
                               "1, but got 1.5 instead.");
    assert_int_equal(config.ttft_ms, 0);
    assert_int_equal(patch_text(&config, "{\"ttft\":5}", error, sizeof error), -1);
    assert_non_null(strstr(error, "Unknown field 'ttft'"));
    assert_int_equal(patch_text(&config, "{\"cut_after\":2.5}", error, sizeof error),
                     -1);
    assert_non_null(strstr(error, "Invalid type for 'cut_after'"));
    assert_int_equal(patch_text(&config, "[1]", error, sizeof error), -1);
}

static void test_config_text_uses_the_same_rules(void **state)
{
    (void)state;
    sim_runtime_config config;
    sim_runtime_config_defaults(&config);
    char error[200];
    assert_int_equal(sim_runtime_config_set_text(&config, "cut_rate", "0.25", error,
                                                 sizeof error),
                     0);
    assert_int_equal(sim_runtime_config_set_text(&config, "cut_rate", "2", error,
                                                 sizeof error),
                     -1);
    assert_string_equal(error, "expected a number from 0 to 1, got '2'");
    assert_int_equal(sim_runtime_config_set_text(&config, "ttft_ms", "12ms", error,
                                                 sizeof error),
                     -1);
    assert_int_equal(sim_runtime_config_set_text(&config, "fail_status", "404",
                                                 error, sizeof error),
                     -1);
}

static void test_faults_follow_the_rates_reproducibly(void **state)
{
    (void)state;
    sim_runtime_config config;
    sim_runtime_config_defaults(&config);
    config.fail_rate = 0.3;
    config.cut_rate = 0.5;
    config.cut_after = 4;
    unsigned failed = 0, status_500 = 0, status_503 = 0, cut = 0;
    for (uint64_t sequence = 1; sequence <= 10000; sequence++) {
        sim_fault fault = sim_fault_decide(1, sequence, &config, true);
        sim_fault again = sim_fault_decide(1, sequence, &config, true);
        assert_int_equal(fault.fail_status, again.fail_status);
        assert_int_equal(fault.cut_after, again.cut_after);
        failed += fault.fail_status != 0;
        status_500 += fault.fail_status == 500;
        status_503 += fault.fail_status == 503;
        if (fault.cut_after >= 0) {
            assert_int_equal(fault.cut_after, 4);
            cut++;
        }
        assert_int_equal(sim_fault_decide(1, sequence, &config, false).cut_after, -1);
    }
    assert_in_range(failed, 2700, 3300);
    assert_in_range(status_500, 1200, 1800);
    assert_in_range(status_503, 1200, 1800);
    assert_in_range(cut, 3200, 3800); /* half of the 70% that did not fail */
    config.fail_rate = 1;
    assert_int_not_equal(sim_fault_decide(7, 1, &config, false).fail_status, 0);
    config.fail_rate = 0;
    config.cut_rate = 0;
    sim_fault none = sim_fault_decide(7, 1, &config, true);
    assert_int_equal(none.fail_status, 0);
    assert_int_equal(none.cut_after, -1);
}

static json_int_t field(json_t *counters, const char *name)
{
    json_t *value = json_object_get(counters, name);
    assert_true(json_is_integer(value));
    return json_integer_value(value);
}

static void test_stats_ledger_shape(void **state)
{
    (void)state;
    sim_stats *stats = sim_stats_create();
    sim_stats_event ok = {.tenant = "acme", .received = true, .authorization = true,
                          .outcome = SIM_OUTCOME_OK, .prompt_tokens = 10,
                          .completion_tokens = 30};
    sim_stats_event stream = {.tenant = NULL, .received = true, .stream = true};
    sim_stats_event cut = {.tenant = NULL, .outcome = SIM_OUTCOME_CUT,
                           .prompt_tokens = 4, .completion_tokens = 3};
    sim_stats_event rejected = {.tenant = "acme", .outcome = SIM_OUTCOME_REJECTED,
                                .prompt_tokens = 99};
    sim_stats_record(stats, &ok);
    sim_stats_record(stats, &stream);
    sim_stats_record(stats, &cut);
    sim_stats_record(stats, &rejected);
    json_t *root = sim_stats_to_json(stats);
    json_t *total = json_object_get(root, "total");
    assert_int_equal(field(total, "requests"), 2);
    assert_int_equal(field(total, "ok"), 1);
    assert_int_equal(field(total, "cut"), 1);
    assert_int_equal(field(total, "failed"), 0);
    assert_int_equal(field(total, "rejected"), 1);
    assert_int_equal(field(total, "streams"), 1);
    assert_int_equal(field(total, "prompt_tokens"), 14);
    assert_int_equal(field(total, "completion_tokens"), 33);
    assert_int_equal(field(total, "total_tokens"), 47);
    json_t *tenants = json_object_get(root, "tenants");
    assert_int_equal(json_object_size(tenants), 2);
    assert_int_equal(field(json_object_get(tenants, "acme"), "prompt_tokens"), 10);
    assert_int_equal(field(json_object_get(tenants, ""), "cut"), 1);
    assert_int_equal(field(root, "authorization_headers"), 1);
    json_decref(root);
    sim_stats_reset(stats);
    root = sim_stats_to_json(stats);
    assert_int_equal(json_object_size(json_object_get(root, "tenants")), 0);
    assert_int_equal(field(json_object_get(root, "total"), "requests"), 0);
    json_decref(root);
    sim_stats_destroy(stats);
}

static void test_stats_many_tenants(void **state)
{
    (void)state;
    sim_stats *stats = sim_stats_create();
    char name[32];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 1000; i++) {
            snprintf(name, sizeof name, "tenant-%d", i);
            sim_stats_event event = {.tenant = name, .received = true,
                                     .outcome = SIM_OUTCOME_OK,
                                     .completion_tokens = 1};
            assert_int_equal(sim_stats_record(stats, &event), 0);
        }
    }
    json_t *root = sim_stats_to_json(stats);
    json_t *tenants = json_object_get(root, "tenants");
    assert_int_equal(json_object_size(tenants), 1000);
    assert_int_equal(field(json_object_get(tenants, "tenant-517"), "requests"), 2);
    json_decref(root);
    sim_stats_destroy(stats);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_patch_applies_all_fields),
        cmocka_unit_test(test_config_patch_is_all_or_nothing),
        cmocka_unit_test(test_config_text_uses_the_same_rules),
        cmocka_unit_test(test_faults_follow_the_rates_reproducibly),
        cmocka_unit_test(test_stats_ledger_shape),
        cmocka_unit_test(test_stats_many_tenants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
