/*
 * The whole path from command line to output against a fake tenantd on a
 * unix socket: what is sent, how answers and failures are reported, and the
 * exit codes. Also api_decode on its own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "fake_tenantd.h"
#include "run.h"

#define TENANT_HAMBURG                                                                     \
    "{\"slug\":\"hamburg\",\"name\":\"Freie und Hansestadt Hamburg\",\"status\":\"active\"," \
    "\"created_at\":\"2026-11-29T22:00:00Z\"}"

struct result {
    int rc;
    char *out, *err;
    size_t out_len, err_len;
};

/* Runs llmoinctl with argv (NULL-terminated, without argv[0]). */
static struct result run_env(const char *env_socket, const char *const *args)
{
    const char *argv[32] = { "llmoinctl" };
    struct result r = { 0 };
    int argc = 1;

    while (args[argc - 1])
        argv[argc] = args[argc - 1], argc++;
    FILE *out = open_memstream(&r.out, &r.out_len);
    FILE *err = open_memstream(&r.err, &r.err_len);
    r.rc = ctl_run(argc, argv, env_socket, out, err);
    fclose(out);
    fclose(err);
    return r;
}

#define RUN(...) run_env(NULL, (const char *const[]){ __VA_ARGS__, NULL })

static void result_free(struct result *r)
{
    free(r->out);
    free(r->err);
}

static void assert_body_json(const struct fake_tenantd *f, const char *expected)
{
    json_t *got = json_loads(fake_request_body(f), 0, NULL);
    json_t *want = json_loads(expected, 0, NULL);

    assert_non_null(got);
    assert_non_null(want);
    if (!json_equal(got, want))
        fail_msg("body %s, expected %s", fake_request_body(f), expected);
    json_decref(got);
    json_decref(want);
}

static void assert_request_line(const struct fake_tenantd *f, const char *line)
{
    if (strncmp(f->request, line, strlen(line)) != 0 || f->request[strlen(line)] != '\r')
        fail_msg("request starts with '%.80s', expected '%s'", f->request, line);
}

static void tenant_list_prints_table(void **state)
{
    struct fake_tenantd f;
    (void)state;

    assert_int_equal(fake_start(&f, 200, "{\"data\":[" TENANT_HAMBURG "]}"), 0);
    struct result r = RUN("--socket", f.path, "tenant", "list");
    fake_stop(&f);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.err, "");
    assert_string_equal(r.out, "SLUG     NAME                          STATUS  CREATED\n"
                               "hamburg  Freie und Hansestadt Hamburg  active  2026-11-29T22:00:00Z\n");
    assert_request_line(&f, "GET /admin/v1/tenants HTTP/1.1");
    assert_non_null(strstr(f.request, "\r\nAccept: application/json\r\n"));
    assert_non_null(strstr(f.request, "\r\nUser-Agent: llmoinctl/"));
    result_free(&r);
}

static void tenant_create_posts_slug_and_name(void **state)
{
    struct fake_tenantd f;
    (void)state;

    assert_int_equal(fake_start(&f, 201, TENANT_HAMBURG), 0);
    struct result r = RUN("tenant", "create", "hamburg", "--name", "Freie und Hansestadt Hamburg",
                          "--socket", f.path);
    fake_stop(&f);
    assert_int_equal(r.rc, 0);
    assert_request_line(&f, "POST /admin/v1/tenants HTTP/1.1");
    assert_non_null(strstr(f.request, "\r\nContent-Type: application/json\r\n"));
    assert_body_json(&f, "{\"slug\":\"hamburg\",\"name\":\"Freie und Hansestadt Hamburg\"}");
    assert_string_equal(r.out, "slug: hamburg\n"
                               "name: Freie und Hansestadt Hamburg\n"
                               "status: active\n"
                               "created_at: 2026-11-29T22:00:00Z\n");
    result_free(&r);
}

static void tenant_suspend_posts_empty_object(void **state)
{
    struct fake_tenantd f;
    (void)state;

    assert_int_equal(fake_start(&f, 200, TENANT_HAMBURG), 0);
    struct result r = RUN("--socket", f.path, "tenant", "suspend", "hamburg");
    fake_stop(&f);
    assert_int_equal(r.rc, 0);
    assert_request_line(&f, "POST /admin/v1/tenants/hamburg/suspend HTTP/1.1");
    assert_string_equal(fake_request_body(&f), "{}");
    result_free(&r);
}

static const char new_key[] =
    "{\"id\":\"key_0123456789abcdef\",\"tenant\":\"hamburg\",\"user\":\"alice\",\"name\":null,"
    "\"prefix\":\"lmk_AbCd\",\"created_at\":\"2026-11-29T22:05:00Z\",\"expires_at\":null,"
    "\"revoked_at\":null,\"last_used_at\":null,\"key\":\"lmk_AbCdSECRET\"}";

static void key_create_shows_key_once_first(void **state)
{
    struct fake_tenantd f;
    (void)state;

    assert_int_equal(fake_start(&f, 201, new_key), 0);
    struct result r = RUN("--socket", f.path, "key", "create", "hamburg", "--user", "alice");
    fake_stop(&f);
    assert_int_equal(r.rc, 0);
    assert_request_line(&f, "POST /admin/v1/tenants/hamburg/keys HTTP/1.1");
    assert_body_json(&f, "{\"user\":\"alice\"}"); /* no "name" unless given */
    assert_string_equal(r.out,
                        "key: lmk_AbCdSECRET\n"
                        "id: key_0123456789abcdef\n"
                        "tenant: hamburg\n"
                        "user: alice\n"
                        "name: -\n"
                        "prefix: lmk_AbCd\n"
                        "created_at: 2026-11-29T22:05:00Z\n"
                        "expires_at: -\n"
                        "revoked_at: -\n"
                        "last_used_at: -\n"
                        "\n"
                        "Store this key now: it is shown only this once and cannot be retrieved "
                        "again.\n");
    result_free(&r);
}

static void key_create_json_keeps_key(void **state)
{
    struct fake_tenantd f;
    (void)state;

    assert_int_equal(fake_start(&f, 201, new_key), 0);
    struct result r = RUN("--socket", f.path, "--output", "json", "key", "create", "hamburg",
                          "--user", "alice", "--name", "Fachverfahren X");
    fake_stop(&f);
    assert_int_equal(r.rc, 0);
    assert_body_json(&f, "{\"user\":\"alice\",\"name\":\"Fachverfahren X\"}");
    assert_non_null(strstr(r.out, "  \"key\": \"lmk_AbCdSECRET\"\n"));
    result_free(&r);
}

static void key_revoke_path(void **state)
{
    struct fake_tenantd f;
    (void)state;

    assert_int_equal(fake_start(&f, 200, "{\"id\":\"key_0123456789abcdef\"}"), 0);
    struct result r = RUN("--socket", f.path, "key", "revoke", "key_0123456789abcdef");
    fake_stop(&f);
    assert_int_equal(r.rc, 0);
    assert_request_line(&f, "POST /admin/v1/keys/key_0123456789abcdef/revoke HTTP/1.1");
    result_free(&r);
}

static void tenant_update_patches(void **state)
{
    struct fake_tenantd f;
    (void)state;

    assert_int_equal(fake_start(&f, 200, TENANT_HAMBURG), 0);
    struct result r = RUN("--socket", f.path, "tenant", "update", "hamburg", "--no-hosts",
                          "--models", "all");
    fake_stop(&f);
    assert_int_equal(r.rc, 0);
    assert_request_line(&f, "PATCH /admin/v1/tenants/hamburg HTTP/1.1");
    assert_body_json(&f, "{\"hosts\":[],\"models_restricted\":false}");
    result_free(&r);
}

static void delete_carries_no_body(void **state)
{
    struct fake_tenantd f;
    (void)state;

    assert_int_equal(fake_start(&f, 200, "{\"id\":3,\"issuer\":\"https://idp.example\"}"), 0);
    struct result r = RUN("--socket", f.path, "issuer", "remove", "3");
    fake_stop(&f);
    assert_int_equal(r.rc, 0);
    assert_request_line(&f, "DELETE /admin/v1/issuers/3 HTTP/1.1");
    assert_null(strstr(f.request, "Content-Type"));
    assert_string_equal(fake_request_body(&f), "");
    assert_string_equal(r.out, "id: 3\nissuer: https://idp.example\n");
    result_free(&r);
}

static void dev_idp_flag_picks_the_method(void **state)
{
    struct fake_tenantd f;
    (void)state;

    assert_int_equal(fake_start(&f, 200, "{\"tenant\":\"hamburg\",\"dev_idp\":false}"), 0);
    struct result r = RUN("--socket", f.path, "tenant", "dev-idp", "hamburg", "--disable");
    fake_stop(&f);
    assert_int_equal(r.rc, 0);
    assert_request_line(&f, "DELETE /admin/v1/tenants/hamburg/dev-idp HTTP/1.1");
    result_free(&r);
}

static void dev_token_prints_only_the_token(void **state)
{
    struct fake_tenantd f;
    (void)state;

    assert_int_equal(fake_start(&f, 201, "{\"token\":\"eyJh.eyJz.c2ln\",\"issuer\":\"x\","
                                         "\"expires_at\":1796000000}"), 0);
    struct result r = RUN("--socket", f.path, "dev-token", "hamburg", "--user", "alice",
                          "--groups", "it", "--ttl", "2h");
    fake_stop(&f);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "eyJh.eyJz.c2ln\n");
    assert_body_json(&f, "{\"user\":\"alice\",\"groups\":[\"it\"],\"ttl_seconds\":7200}");
    result_free(&r);
}

/* A bad --jwks-file is found before anything is sent: exit 2, even with
 * tenantd unreachable. */
static void unusable_file_exits_2_before_connecting(void **state)
{
    (void)state;
    struct result r = RUN("--socket", "/nonexistent", "issuer", "add", "hamburg", "--issuer",
                          "https://idp.example", "--audience", "llmoin", "--jwks-file",
                          "/nonexistent.json");
    assert_int_equal(r.rc, CTL_EXIT_USAGE);
    assert_string_equal(r.err, "llmoinctl: issuer add: cannot read --jwks-file "
                               "'/nonexistent.json': No such file or directory\n");
    assert_string_equal(r.out, "");
    result_free(&r);
}

static void usage_sends_query(void **state)
{
    struct fake_tenantd f;
    (void)state;

    assert_int_equal(fake_start(&f, 200, "{\"by\":\"user\",\"rows\":[],\"totals\":{}}"), 0);
    struct result r = RUN("--socket", f.path, "usage", "hamburg", "--by=user", "--from",
                          "2026-11-01");
    fake_stop(&f);
    assert_int_equal(r.rc, 0);
    assert_request_line(&f, "GET /admin/v1/tenants/hamburg/usage?by=user&from=2026-11-01 HTTP/1.1");
    result_free(&r);
}

static void usage_default_by_day(void **state)
{
    struct fake_tenantd f;
    (void)state;

    assert_int_equal(fake_start(&f, 200, "{\"by\":\"day\",\"rows\":[],\"totals\":{}}"), 0);
    struct result r = RUN("--socket", f.path, "usage", "hamburg");
    fake_stop(&f);
    assert_int_equal(r.rc, 0);
    assert_request_line(&f, "GET /admin/v1/tenants/hamburg/usage?by=day HTTP/1.1");
    result_free(&r);
}

static void api_error_prints_message_and_status(void **state)
{
    struct fake_tenantd f;
    (void)state;

    assert_int_equal(fake_start(&f, 404,
                                "{\"error\":{\"message\":\"tenant 'bremen' not found\","
                                "\"type\":\"invalid_request_error\",\"code\":\"tenant_not_found\"}}"),
                     0);
    struct result r = RUN("--socket", f.path, "tenant", "show", "bremen");
    fake_stop(&f);
    assert_int_equal(r.rc, 1);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, "llmoinctl: tenant 'bremen' not found (HTTP 404, tenant_not_found)\n");
    result_free(&r);
}

static void api_error_message_is_sanitized(void **state)
{
    struct fake_tenantd f;
    (void)state;

    assert_int_equal(fake_start(&f, 400, "{\"error\":{\"message\":\"bad\\u001b[31m\\nname\"}}"), 0);
    struct result r = RUN("--socket", f.path, "tenant", "list");
    fake_stop(&f);
    assert_int_equal(r.rc, 1);
    assert_string_equal(r.err, "llmoinctl: bad?[31m?name (HTTP 400)\n");
    result_free(&r);
}

static void non_json_error(void **state)
{
    struct fake_tenantd f;
    (void)state;

    assert_int_equal(fake_start(&f, 502, "Bad Gateway"), 0);
    struct result r = RUN("--socket", f.path, "tenant", "list");
    fake_stop(&f);
    assert_int_equal(r.rc, 1);
    assert_string_equal(r.err, "llmoinctl: tenantd answered HTTP 502 with a non-JSON body\n");
    result_free(&r);
}

static void health_degraded_shows_body_and_fails(void **state)
{
    struct fake_tenantd f;
    (void)state;

    assert_int_equal(fake_start(&f, 503,
                                "{\"status\":\"degraded\",\"database\":\"unavailable\","
                                "\"snapshot_version\":12}"),
                     0);
    struct result r = RUN("--socket", f.path, "health");
    fake_stop(&f);
    assert_int_equal(r.rc, 1);
    assert_string_equal(r.out, "status: degraded\ndatabase: unavailable\nsnapshot_version: 12\n");
    assert_string_equal(r.err, "llmoinctl: tenantd answered HTTP 503\n");
    result_free(&r);
}

static void invalid_json_on_success(void **state)
{
    struct fake_tenantd f;
    (void)state;

    assert_int_equal(fake_start(&f, 200, "{\"data\":"), 0);
    struct result r = RUN("--socket", f.path, "tenant", "list");
    fake_stop(&f);
    assert_int_equal(r.rc, 1);
    assert_non_null(strstr(r.err, "llmoinctl: tenantd answered HTTP 200 with invalid JSON: "));
    result_free(&r);
}

static void unexpected_shape(void **state)
{
    struct fake_tenantd f;
    (void)state;

    assert_int_equal(fake_start(&f, 200, "{\"tenants\":[]}"), 0);
    struct result r = RUN("--socket", f.path, "tenant", "list");
    fake_stop(&f);
    assert_int_equal(r.rc, 1);
    assert_string_equal(r.err, "llmoinctl: unexpected answer from tenantd: no \"data\" list\n");
    result_free(&r);
}

static void empty_success_prints_nothing(void **state)
{
    struct fake_tenantd f;
    (void)state;

    assert_int_equal(fake_start(&f, 204, ""), 0);
    struct result r = RUN("--socket", f.path, "tenant", "resume", "hamburg");
    fake_stop(&f);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, "");
    result_free(&r);
}

static void socket_missing(void **state)
{
    (void)state;
    struct result r = RUN("--socket", "/nonexistent/tenantd.sock", "tenant", "list");

    assert_int_equal(r.rc, 3);
    assert_string_equal(r.err, "llmoinctl: cannot reach tenantd: socket /nonexistent/tenantd.sock "
                               "does not exist; check that tenantd is running and that --socket "
                               "or LLMOIN_SOCKET names its socket\n");
    result_free(&r);
}

static void socket_refused(void **state)
{
    struct fake_tenantd f;
    char want[512];
    (void)state;

    assert_int_equal(fake_start_refusing(&f), 0);
    struct result r = RUN("--socket", f.path, "health");
    fake_stop(&f);
    assert_int_equal(r.rc, 3);
    snprintf(want, sizeof want,
             "llmoinctl: cannot reach tenantd at %s: connection refused (stale socket, nothing "
             "listening); check that tenantd is running\n",
             f.path);
    assert_string_equal(r.err, want);
    result_free(&r);
}

static void socket_not_a_socket(void **state)
{
    char path[] = "/tmp/llmoinctl-test-XXXXXX", want[512];
    int fd = mkstemp(path);
    (void)state;

    assert_true(fd >= 0);
    close(fd);
    struct result r = RUN("--socket", path, "health");
    unlink(path);
    assert_int_equal(r.rc, 3);
    snprintf(want, sizeof want,
             "llmoinctl: cannot reach tenantd: %s is not a socket; check that tenantd is "
             "running and that --socket or LLMOIN_SOCKET names its socket\n",
             path);
    assert_string_equal(r.err, want);
    result_free(&r);
}

static void connection_closed_without_answer(void **state)
{
    struct fake_tenantd f;
    (void)state;

    assert_int_equal(fake_start(&f, 0, ""), 0);
    struct result r = RUN("--socket", f.path, "health");
    fake_stop(&f);
    assert_int_equal(r.rc, 3);
    assert_non_null(strstr(r.err, "closed the connection without a complete answer"));
    result_free(&r);
}

static void env_socket_and_override(void **state)
{
    struct fake_tenantd f;
    (void)state;

    assert_int_equal(fake_start(&f, 200, "{\"status\":\"ok\"}"), 0);
    struct result r = run_env(f.path, (const char *const[]){ "health", NULL });
    fake_stop(&f);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "status: ok\n");
    result_free(&r);

    assert_int_equal(fake_start(&f, 200, "{\"status\":\"ok\"}"), 0);
    r = run_env("/nonexistent", (const char *const[]){ "health", "--socket", f.path, NULL });
    fake_stop(&f);
    assert_int_equal(r.rc, 0);
    result_free(&r);
}

static void env_socket_too_long(void **state)
{
    char path[200];
    (void)state;

    memset(path, 'x', sizeof path - 1);
    path[0] = '/';
    path[sizeof path - 1] = '\0';
    struct result r = run_env(path, (const char *const[]){ "health", NULL });
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.err, "llmoinctl: invalid LLMOIN_SOCKET: the path is 199 bytes long; "
                               "unix sockets allow at most 107\n");
    result_free(&r);
}

static void decode_success_and_empty(void **state)
{
    struct ctl_error err = { 0 };
    json_t *doc;
    (void)state;

    assert_int_equal(api_decode(200, "{\"a\":1}", 7, &doc, &err), 0);
    assert_int_equal(json_integer_value(json_object_get(doc, "a")), 1);
    json_decref(doc);
    assert_int_equal(api_decode(204, "", 0, &doc, &err), 0);
    assert_null(doc);
}

static void decode_error_uses_type_without_code(void **state)
{
    static const char body[] = "{\"error\":{\"message\":\"no\",\"type\":\"server_error\"}}";
    struct ctl_error err = { 0 };
    json_t *doc;
    (void)state;

    assert_int_equal(api_decode(500, body, strlen(body), &doc, &err), 1);
    assert_null(doc);
    assert_string_equal(err.msg, "no (HTTP 500, server_error)");
    assert_int_equal(api_decode(500, "", 0, &doc, &err), 1);
    assert_string_equal(err.msg, "tenantd answered HTTP 500 without a body");
}

static int setup(void **state)
{
    (void)state;
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    curl_global_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tenant_list_prints_table),
        cmocka_unit_test(tenant_create_posts_slug_and_name),
        cmocka_unit_test(tenant_suspend_posts_empty_object),
        cmocka_unit_test(key_create_shows_key_once_first),
        cmocka_unit_test(key_create_json_keeps_key),
        cmocka_unit_test(key_revoke_path),
        cmocka_unit_test(tenant_update_patches),
        cmocka_unit_test(delete_carries_no_body),
        cmocka_unit_test(dev_idp_flag_picks_the_method),
        cmocka_unit_test(dev_token_prints_only_the_token),
        cmocka_unit_test(unusable_file_exits_2_before_connecting),
        cmocka_unit_test(usage_sends_query),
        cmocka_unit_test(usage_default_by_day),
        cmocka_unit_test(api_error_prints_message_and_status),
        cmocka_unit_test(api_error_message_is_sanitized),
        cmocka_unit_test(non_json_error),
        cmocka_unit_test(health_degraded_shows_body_and_fails),
        cmocka_unit_test(invalid_json_on_success),
        cmocka_unit_test(unexpected_shape),
        cmocka_unit_test(empty_success_prints_nothing),
        cmocka_unit_test(socket_missing),
        cmocka_unit_test(socket_refused),
        cmocka_unit_test(socket_not_a_socket),
        cmocka_unit_test(connection_closed_without_answer),
        cmocka_unit_test(env_socket_and_override),
        cmocka_unit_test(env_socket_too_long),
        cmocka_unit_test(decode_success_and_empty),
        cmocka_unit_test(decode_error_uses_type_without_code),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
