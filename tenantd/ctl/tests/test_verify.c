/*
 * llmoinctl usage verify: parsing beside "usage TENANT", the two sides'
 * counts, the result document, and whole runs against a fake tenantd (unix
 * socket) and a fake infer-sim (HTTP on 127.0.0.1): exit 0 when equal, 1
 * when they differ or an answer is unusable, 2 on a wrong command line, 3
 * when infer-sim cannot be reached.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "args.h"
#include "fake_tenantd.h"
#include "run.h"
#include "verify.h"

#define REPORT(REQUESTS, PROMPT, COMPLETION)                                                  \
    "{\"tenant\":\"hamburg\",\"by\":\"day\",\"from\":\"2026-11-01\",\"to\":\"2026-11-29\"," \
    "\"rows\":[],\"totals\":{\"requests\":" REQUESTS ",\"estimated_requests\":1,"            \
    "\"failed_requests\":2,\"prompt_tokens\":" PROMPT ",\"completion_tokens\":" COMPLETION   \
    ",\"total_tokens\":0}}"
#define SIM_COUNTERS(REQUESTS, PROMPT, COMPLETION)                                            \
    "{\"requests\":" REQUESTS ",\"ok\":0,\"failed\":2,\"cut\":1,\"rejected\":0,\"streams\":0," \
    "\"prompt_tokens\":" PROMPT ",\"completion_tokens\":" COMPLETION ",\"total_tokens\":0}"
#define SIM_STATS(HAMBURG)                                                                     \
    "{\"total\":" SIM_COUNTERS("0", "0", "0") ",\"tenants\":{\"bremen\":"                     \
    SIM_COUNTERS("7", "70", "700") ",\"hamburg\":" HAMBURG "},\"authorization_headers\":0}"

/* ---- a fake infer-sim: answers one HTTP request on 127.0.0.1 ----------------- */

struct fake_sim {
    int listener, port;
    pthread_t thread;
    const char *head; /* status line and headers, without the blank line */
    const char *body;
    char request[4096];
};

static void *sim_serve(void *arg)
{
    struct fake_sim *sim = arg;
    char answer[8192];
    size_t got = 0;
    ssize_t n;
    int conn = accept(sim->listener, NULL, NULL);

    if (conn < 0)
        return NULL;
    while (!strstr(sim->request, "\r\n\r\n") &&
           (n = read(conn, sim->request + got, sizeof sim->request - 1 - got)) > 0)
        sim->request[got += (size_t)n] = '\0';
    n = snprintf(answer, sizeof answer, "%s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                 sim->head, strlen(sim->body), sim->body);
    if (send(conn, answer, (size_t)n, MSG_NOSIGNAL) < 0)
        perror("fake infer-sim: send");
    close(conn);
    return NULL;
}

static void sim_start(struct fake_sim *sim, const char *head, const char *body)
{
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;

    memset(sim, 0, sizeof *sim);
    sim->head = head;
    sim->body = body;
    sim->listener = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(sim->listener >= 0);
    assert_int_equal(bind(sim->listener, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(sim->listener, 4), 0);
    assert_int_equal(getsockname(sim->listener, (struct sockaddr *)&addr, &len), 0);
    sim->port = ntohs(addr.sin_port);
    assert_int_equal(pthread_create(&sim->thread, NULL, sim_serve, sim), 0);
}

static void sim_stop(struct fake_sim *sim)
{
    shutdown(sim->listener, SHUT_RDWR); /* unblocks accept() if nobody came */
    pthread_join(sim->thread, NULL);
    close(sim->listener);
}

/* A port on 127.0.0.1 where nothing listens. */
static int closed_port(void)
{
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    close(fd);
    return ntohs(addr.sin_port);
}

/* ---- whole runs ---------------------------------------------------------------- */

struct verify_run {
    int rc;
    char *out, *err;
    size_t out_len, err_len;
    struct fake_tenantd tenantd;
    char sim_request[sizeof ((struct fake_sim *)0)->request]; /* "" if never asked */
};

/* `llmoinctl --socket S [--output FORMAT] usage verify hamburg --from 2026-11-01
 * --to 2026-11-29 --against http://127.0.0.1:PORT` with tenantd answering
 * (status, report). */
static struct verify_run verify_against(int port, const char *format, int status,
                                        const char *report)
{
    struct verify_run run = { 0 };
    char against[64];
    const char *argv[16] = { "llmoinctl", "--socket", run.tenantd.path };
    int argc = 3;
    FILE *out, *err;

    assert_int_equal(fake_start(&run.tenantd, status, report), 0);
    snprintf(against, sizeof against, "http://127.0.0.1:%d", port);
    if (format) {
        argv[argc++] = "--output";
        argv[argc++] = format;
    }
    for (const char *const *word = (const char *const[]){ "usage", "verify", "hamburg", "--from",
                                                          "2026-11-01", "--to", "2026-11-29",
                                                          "--against", against, NULL };
         *word; word++)
        argv[argc++] = *word;
    out = open_memstream(&run.out, &run.out_len);
    err = open_memstream(&run.err, &run.err_len);
    run.rc = ctl_run(argc, argv, NULL, out, err);
    fclose(out);
    fclose(err);
    fake_stop(&run.tenantd);
    return run;
}

/* The same with a fake infer-sim answering (head, body). */
static struct verify_run verify_with_sim(const char *head, const char *body, const char *format,
                                         int status, const char *report)
{
    struct fake_sim sim;
    struct verify_run run;

    sim_start(&sim, head, body);
    run = verify_against(sim.port, format, status, report);
    sim_stop(&sim);
    memcpy(run.sim_request, sim.request, sizeof run.sim_request);
    return run;
}

static void verify_run_free(struct verify_run *run)
{
    free(run->out);
    free(run->err);
}

static const char SIM_OK[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json";

static void equal_sides_exit_0_with_both_and_a_zero_difference(void **state)
{
    (void)state;

    struct verify_run run = verify_with_sim(SIM_OK, SIM_STATS(SIM_COUNTERS("12", "120", "340")),
                                            NULL, 200, REPORT("12", "120", "340"));

    assert_int_equal(run.rc, 0);
    assert_string_equal(run.err, "");
    if (strncmp(run.tenantd.request,
                "GET /admin/v1/tenants/hamburg/usage?from=2026-11-01&to=2026-11-29 HTTP/1.1\r\n",
                76) != 0)
        fail_msg("tenantd got %.100s", run.tenantd.request);
    assert_true(strncmp(run.sim_request, "GET /sim/stats HTTP/1.1\r\n", 25) == 0);
    assert_non_null(strstr(run.out, "SOURCE"));
    assert_non_null(strstr(run.out, "\nledger "));
    assert_non_null(strstr(run.out, "\ninfer-sim "));
    assert_non_null(strstr(run.out, "\ndifference "));
    verify_run_free(&run);
}

static void different_sides_exit_1_and_name_the_differences(void **state)
{
    (void)state;

    struct verify_run run = verify_with_sim(SIM_OK, SIM_STATS(SIM_COUNTERS("13", "127", "371")),
                                            NULL, 200, REPORT("12", "120", "340"));

    assert_int_equal(run.rc, 1);
    assert_string_equal(run.err, "llmoinctl: the ledger of hamburg differs from infer-sim (ledger "
                                 "minus infer-sim): requests -1, prompt tokens -7, completion "
                                 "tokens -31\n");
    assert_non_null(strstr(run.out, "\ndifference "));
    verify_run_free(&run);
}

static void json_output_is_the_result_document(void **state)
{
    json_t *doc, *difference;
    (void)state;

    struct verify_run run = verify_with_sim(SIM_OK, SIM_STATS(SIM_COUNTERS("13", "127", "371")),
                                            "json", 200, REPORT("12", "120", "340"));

    assert_int_equal(run.rc, 1);
    doc = json_loads(run.out, 0, NULL);
    assert_non_null(doc);
    assert_true(json_is_false(json_object_get(doc, "equal")));
    assert_non_null(strstr(json_string_value(json_object_get(doc, "against")), "/sim/stats"));
    assert_string_equal(json_string_value(json_object_get(doc, "from")), "2026-11-01");
    assert_int_equal(json_array_size(json_object_get(doc, "rows")), 3);
    difference = json_array_get(json_object_get(doc, "rows"), 2);
    assert_string_equal(json_string_value(json_object_get(difference, "key")), "difference");
    assert_int_equal(json_integer_value(json_object_get(difference, "requests")), -1);
    assert_int_equal(json_integer_value(json_object_get(difference, "total_tokens")), -38);
    assert_null(json_object_get(difference, "estimated_requests"));
    json_decref(doc);
    verify_run_free(&run);
}

static void a_tenant_infer_sim_never_saw_counts_zero(void **state)
{
    (void)state;

    struct verify_run run = verify_with_sim(SIM_OK, "{\"tenants\":{}}", NULL, 200,
                                            REPORT("0", "0", "0"));

    assert_int_equal(run.rc, 0);
    verify_run_free(&run);
}

static void unreachable_infer_sim_exits_3(void **state)
{
    int port = closed_port();
    char expected[128];
    (void)state;

    struct verify_run run = verify_against(port, NULL, 200, REPORT("12", "120", "340"));

    assert_int_equal(run.rc, 3);
    snprintf(expected, sizeof expected,
             "llmoinctl: cannot reach infer-sim at http://127.0.0.1:%d/sim/stats: ", port);
    if (strncmp(run.err, expected, strlen(expected)) != 0)
        fail_msg("stderr '%s'", run.err);
    assert_string_equal(run.out, "");
    verify_run_free(&run);
}

static void unusable_answers_of_infer_sim_exit_1(void **state)
{
    static const struct {
        const char *head, *body, *message;
    } cases[] = {
        { "HTTP/1.1 404 Not Found", "{}", "answered HTTP 404" },
        { SIM_OK, "<html>", "answered with invalid JSON" },
        { SIM_OK, "{\"data\":[]}", "no \"tenants\" object; is --against infer-sim?" },
        { SIM_OK, "{\"tenants\":{\"hamburg\":{\"requests\":-1}}}", "no count \"requests\"" },
    };
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct verify_run run = verify_with_sim(cases[i].head, cases[i].body, NULL, 200,
                                                REPORT("1", "1", "1"));

        assert_int_equal(run.rc, 1);
        if (!strstr(run.err, cases[i].message))
            fail_msg("case %zu: stderr '%s'", i, run.err);
        verify_run_free(&run);
    }
}

static void an_error_of_tenantd_exits_1_before_asking_infer_sim(void **state)
{
    (void)state;

    struct verify_run run = verify_with_sim(
        SIM_OK, SIM_STATS(SIM_COUNTERS("0", "0", "0")), NULL, 404,
        "{\"error\":{\"message\":\"tenant 'hamburg' not found\",\"type\":\"invalid_request_error\","
        "\"code\":\"tenant_not_found\"}}");

    assert_int_equal(run.rc, 1);
    assert_string_equal(run.err,
                        "llmoinctl: tenant 'hamburg' not found (HTTP 404, tenant_not_found)\n");
    assert_string_equal(run.sim_request, "");
    verify_run_free(&run);
}

/* ---- the command line ------------------------------------------------------------ */

static int parse(struct ctl_invocation *inv, struct ctl_error *err, ...)
{
    const char *argv[16] = { "llmoinctl" };
    int argc = 1;
    va_list ap;

    va_start(ap, err);
    while ((argv[argc] = va_arg(ap, const char *)) != NULL)
        argc++;
    va_end(ap);
    return args_parse(argc, argv, inv, err);
}

static void verify_is_a_subcommand_beside_usage_tenant(void **state)
{
    struct ctl_invocation inv;
    struct ctl_error err = { 0 };
    (void)state;

    assert_int_equal(parse(&inv, &err, "usage", "verify", "hamburg", "--from", "2026-11-01",
                           "--to", "2026-11-29", "--against", "http://localhost:8091", NULL), 0);
    assert_ptr_equal(inv.cmd, command_find("usage verify"));
    assert_string_equal(inv.args[0], "hamburg");
    assert_int_equal(parse(&inv, &err, "usage", "hamburg", NULL), 0);
    assert_ptr_equal(inv.cmd, command_find("usage"));
    /* a tenant called "verify": after an option the word is the argument */
    assert_int_equal(parse(&inv, &err, "usage", "--by", "day", "verify", NULL), 0);
    assert_ptr_equal(inv.cmd, command_find("usage"));
    assert_string_equal(inv.args[0], "verify");
}

static void wrong_command_lines_exit_2(void **state)
{
    struct ctl_invocation inv;
    struct ctl_error err = { 0 };
    (void)state;

    assert_int_equal(parse(&inv, &err, "usage", "verify", "hamburg", "--from", "2026-11-01",
                           "--to", "2026-11-29", NULL), 2);
    assert_string_equal(err.msg, "usage verify: missing option --against; usage: llmoinctl usage "
                                 "verify TENANT --from YYYY-MM-DD --to YYYY-MM-DD --against URL");
    assert_int_equal(parse(&inv, &err, "usage", "verify", "hamburg", "--to", "2026-11-29",
                           "--against", "http://127.0.0.1:8091", NULL), 2);
    assert_int_equal(parse(&inv, &err, "usage", "verify", "hamburg", "--from", "2026-11-30",
                           "--to", "2026-11-01", "--against", "http://127.0.0.1:8091", NULL), 2);
    assert_string_equal(err.msg, "usage verify: --from 2026-11-30 is after --to 2026-11-01");
    assert_int_equal(parse(&inv, &err, "usage", "verify", "hamburg", "--from", "2026-11-01",
                           "--to", "2026-11-29", "--against", "ftp://sim:8091", NULL), 2);
    assert_int_equal(parse(&inv, &err, "usage", "verify", "--from", "2026-11-01", "--to",
                           "2026-11-29", "--against", "http://127.0.0.1:8091", NULL), 2);
    assert_string_equal(err.msg, "usage verify: missing argument TENANT; usage: llmoinctl usage "
                                 "verify TENANT --from YYYY-MM-DD --to YYYY-MM-DD --against URL");
}

/* ---- the pieces ------------------------------------------------------------------ */

static void stats_url_appends_the_path_once(void **state)
{
    static const char *const cases[][2] = {
        { "http://127.0.0.1:8091", "http://127.0.0.1:8091/sim/stats" },
        { "http://127.0.0.1:8091/", "http://127.0.0.1:8091/sim/stats" },
        { "http://localhost:8091/sim/stats", "http://localhost:8091/sim/stats" },
        { "https://sim.example.de/llmoin", "https://sim.example.de/llmoin/sim/stats" },
    };
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sbuf url = SBUF_INIT;

        verify_stats_url(&url, cases[i][0]);
        assert_string_equal(sbuf_str(&url), cases[i][1]);
        sbuf_free(&url);
    }
}

static void counts_of_both_sides(void **state)
{
    struct verify_counts ledger, source;
    struct ctl_error err = { 0 };
    json_t *report = json_loads(REPORT("12", "120", "340"), 0, NULL);
    json_t *stats = json_loads(SIM_STATS(SIM_COUNTERS("12", "120", "340")), 0, NULL);
    json_t *old_report = json_loads("{\"totals\":{\"requests\":1,\"prompt_tokens\":2,"
                                    "\"completion_tokens\":3}}", 0, NULL);
    (void)state;

    assert_int_equal(verify_ledger_counts(report, &ledger, &err), 0);
    assert_int_equal(verify_source_counts(stats, "hamburg", &source, &err), 0);
    assert_true(ledger.requests == 12 && ledger.prompt_tokens == 120 &&
                ledger.completion_tokens == 340 && ledger.estimated == 1 && ledger.failed == 2);
    assert_true(source.requests == 12 && source.estimated == 1 && source.failed == 2);
    assert_true(verify_equal(&ledger, &source));
    source.completion_tokens++;
    assert_false(verify_equal(&ledger, &source));
    /* a report without the kinds of requests leaves them out */
    assert_int_equal(verify_ledger_counts(old_report, &ledger, &err), 0);
    assert_true(ledger.estimated == -1 && ledger.failed == -1 && ledger.completion_tokens == 3);
    assert_int_equal(verify_ledger_counts(stats, &ledger, &err), 1);
    assert_string_equal(err.msg,
                        "unexpected answer from tenantd: no \"totals\" in the usage report");
    json_decref(report);
    json_decref(stats);
    json_decref(old_report);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(equal_sides_exit_0_with_both_and_a_zero_difference),
        cmocka_unit_test(different_sides_exit_1_and_name_the_differences),
        cmocka_unit_test(json_output_is_the_result_document),
        cmocka_unit_test(a_tenant_infer_sim_never_saw_counts_zero),
        cmocka_unit_test(unreachable_infer_sim_exits_3),
        cmocka_unit_test(unusable_answers_of_infer_sim_exit_1),
        cmocka_unit_test(an_error_of_tenantd_exits_1_before_asking_infer_sim),
        cmocka_unit_test(verify_is_a_subcommand_beside_usage_tenant),
        cmocka_unit_test(wrong_command_lines_exit_2),
        cmocka_unit_test(stats_url_appends_the_path_once),
        cmocka_unit_test(counts_of_both_sides),
    };

    int failed;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
