/*
 * URL building: percent-encoding, path templates, query strings, and the
 * request each command row turns into.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "request.h"
#include "url.h"

static void encode_keeps_unreserved(void **state)
{
    struct sbuf sb = SBUF_INIT;
    (void)state;

    url_encode(&sb, "AZaz09-._~");
    assert_string_equal(sbuf_str(&sb), "AZaz09-._~");
    sbuf_free(&sb);
}

static void encode_escapes_everything_else(void **state)
{
    struct sbuf sb = SBUF_INIT;
    (void)state;

    url_encode(&sb, "a b/c?d&e=f#g%h+i");
    assert_string_equal(sbuf_str(&sb), "a%20b%2Fc%3Fd%26e%3Df%23g%25h%2Bi");
    sbuf_reset(&sb);
    url_encode(&sb, "M\xc3\xbcnchen \xe2\x80\x93 Finanzen"); /* "München – Finanzen" */
    assert_string_equal(sbuf_str(&sb), "M%C3%BCnchen%20%E2%80%93%20Finanzen");
    sbuf_reset(&sb);
    url_encode(&sb, "");
    assert_string_equal(sbuf_str(&sb), "");
    sbuf_free(&sb);
}

static void expand_template(void **state)
{
    const char *names[] = { "TENANT", "KEYID" };
    const char *values[] = { "ham burg", "key/1" };
    struct sbuf sb = SBUF_INIT;
    (void)state;

    assert_int_equal(url_expand(&sb, "/t/{TENANT}/k/{KEYID}/x", names, values, 2), 0);
    assert_string_equal(sbuf_str(&sb), "/t/ham%20burg/k/key%2F1/x");
    sbuf_reset(&sb);
    assert_int_equal(url_expand(&sb, "/plain", names, values, 2), 0);
    assert_string_equal(sbuf_str(&sb), "/plain");
    sbuf_reset(&sb);
    assert_int_equal(url_expand(&sb, "/t/{SLUG}", names, values, 2), -1);
    assert_int_equal(url_expand(&sb, "/t/{TENANT", names, values, 2), -1);
    sbuf_free(&sb);
}

static void query_parameters(void **state)
{
    struct sbuf sb = SBUF_INIT;
    (void)state;

    sbuf_add(&sb, "/u");
    url_query_add(&sb, "by", "day");
    url_query_add(&sb, "from", "2026-11-01");
    url_query_add(&sb, "note", "a&b=c");
    assert_string_equal(sbuf_str(&sb), "/u?by=day&from=2026-11-01&note=a%26b%3Dc");
    sbuf_free(&sb);
}

/* 2026-11-29T22:05:00Z: the clock for durations such as --expires 90d. */
#define NOW ((time_t)1795989900)

struct built {
    char path[256];
    char method[8];
    char *body; /* compact JSON or NULL */
};

static struct built build(const char *const *args)
{
    const char *argv[32] = { "llmoinctl" };
    struct ctl_invocation inv;
    struct ctl_error err;
    struct request rq;
    struct built b = { .body = NULL };
    int argc = 1;

    while (args[argc - 1])
        argv[argc] = args[argc - 1], argc++;
    assert_int_equal(args_parse(argc, argv, &inv, &err), 0);
    assert_int_equal(request_build(&inv, NOW, &rq, &err), 0);
    snprintf(b.path, sizeof b.path, "%s", sbuf_str(&rq.path));
    snprintf(b.method, sizeof b.method, "%s", rq.method);
    if (rq.body)
        b.body = json_dumps(rq.body, JSON_COMPACT | JSON_SORT_KEYS);
    request_free(&rq);
    return b;
}

#define BUILD(...) build((const char *const[]){ __VA_ARGS__, NULL })

static void expect(struct built b, const char *method, const char *path, const char *body)
{
    assert_string_equal(b.method, method);
    assert_string_equal(b.path, path);
    if (body)
        assert_string_equal(b.body, body);
    else
        assert_null(b.body);
    free(b.body);
}

static void requests_of_every_command(void **state)
{
    (void)state;
    expect(BUILD("tenant", "create", "hamburg", "--name", "Freie und Hansestadt Hamburg"), "POST",
           "/admin/v1/tenants", "{\"name\":\"Freie und Hansestadt Hamburg\",\"slug\":\"hamburg\"}");
    expect(BUILD("tenant", "list"), "GET", "/admin/v1/tenants", NULL);
    expect(BUILD("tenant", "show", "sachsen-anhalt"), "GET", "/admin/v1/tenants/sachsen-anhalt",
           NULL);
    expect(BUILD("tenant", "suspend", "hamburg"), "POST", "/admin/v1/tenants/hamburg/suspend", "{}");
    expect(BUILD("tenant", "resume", "hamburg"), "POST", "/admin/v1/tenants/hamburg/resume", "{}");
    expect(BUILD("key", "create", "hamburg", "--user", "alice"), "POST",
           "/admin/v1/tenants/hamburg/keys", "{\"user\":\"alice\"}");
    expect(BUILD("key", "create", "hamburg", "--user", "alice", "--name", "CI \"nightly\""),
           "POST", "/admin/v1/tenants/hamburg/keys",
           "{\"name\":\"CI \\\"nightly\\\"\",\"user\":\"alice\"}");
    expect(BUILD("key", "list", "hamburg"), "GET", "/admin/v1/tenants/hamburg/keys", NULL);
    expect(BUILD("key", "revoke", "key_0123456789abcdef"), "POST",
           "/admin/v1/keys/key_0123456789abcdef/revoke", "{}");
    expect(BUILD("usage", "hamburg"), "GET", "/admin/v1/tenants/hamburg/usage?by=day", NULL);
    expect(BUILD("usage", "hamburg", "--to", "2026-11-29", "--by", "model", "--from",
                 "2026-11-01"),
           "GET", "/admin/v1/tenants/hamburg/usage?by=model&from=2026-11-01&to=2026-11-29", NULL);
    expect(BUILD("health"), "GET", "/admin/v1/health", NULL);
}

static void requests_of_sign_in_and_model_commands(void **state)
{
    (void)state;
    expect(BUILD("tenant", "update", "hamburg", "--name", "Hamburg", "--hosts",
                 "llmoin.hamburg.de,ki.hamburg.de", "--models", "allow-list"),
           "PATCH", "/admin/v1/tenants/hamburg",
           "{\"hosts\":[\"llmoin.hamburg.de\",\"ki.hamburg.de\"],\"models_restricted\":true,"
           "\"name\":\"Hamburg\"}");
    expect(BUILD("tenant", "update", "hamburg", "--no-hosts", "--models", "all"), "PATCH",
           "/admin/v1/tenants/hamburg", "{\"hosts\":[],\"models_restricted\":false}");
    expect(BUILD("tenant", "dev-idp", "hamburg", "--enable"), "POST",
           "/admin/v1/tenants/hamburg/dev-idp", "{}");
    expect(BUILD("tenant", "dev-idp", "hamburg", "--disable"), "DELETE",
           "/admin/v1/tenants/hamburg/dev-idp", NULL);
    expect(BUILD("key", "create", "hamburg", "--user", "alice", "--expires", "90d", "--models",
                 "llama-3.1-8b,mistral-7b"),
           "POST", "/admin/v1/tenants/hamburg/keys",
           "{\"expires_at\":\"2027-02-27T22:05:00Z\",\"models\":[\"llama-3.1-8b\",\"mistral-7b\"],"
           "\"user\":\"alice\"}");
    expect(BUILD("key", "create", "hamburg", "--user", "alice", "--expires", "2027-02-27"), "POST",
           "/admin/v1/tenants/hamburg/keys", "{\"expires_at\":\"2027-02-27\",\"user\":\"alice\"}");
    expect(BUILD("issuer", "add", "hamburg", "--issuer", "https://login.hamburg.de/realms/llmoin",
                 "--audience", "llmoin", "--jwks-uri", "https://login.hamburg.de/certs",
                 "--user-claim", "preferred_username", "--groups-claim", "groups", "--leeway",
                 "2m"),
           "POST", "/admin/v1/tenants/hamburg/issuers",
           "{\"audience\":\"llmoin\",\"groups_claim\":\"groups\",\"issuer\":"
           "\"https://login.hamburg.de/realms/llmoin\",\"jwks_uri\":\"https://login.hamburg.de/certs\","
           "\"leeway_seconds\":120,\"user_claim\":\"preferred_username\"}");
    expect(BUILD("issuer", "list", "hamburg"), "GET", "/admin/v1/tenants/hamburg/issuers", NULL);
    expect(BUILD("issuer", "remove", "12"), "DELETE", "/admin/v1/issuers/12", NULL);
    expect(BUILD("model", "allow", "hamburg", "meta/llama-3.1-8b"), "POST",
           "/admin/v1/tenants/hamburg/models", "{\"alias\":\"meta/llama-3.1-8b\"}");
    expect(BUILD("model", "allow", "hamburg", "llama-3.1-8b", "--pool", "hamburg"), "POST",
           "/admin/v1/tenants/hamburg/models", "{\"alias\":\"llama-3.1-8b\",\"pool\":\"hamburg\"}");
    /* An alias may hold '/' and more: it is a query value, encoded. */
    expect(BUILD("model", "disallow", "hamburg", "meta/llama 3&x=1"), "DELETE",
           "/admin/v1/tenants/hamburg/models?alias=meta%2Fllama%203%26x%3D1", NULL);
    expect(BUILD("model", "allowed", "hamburg"), "GET", "/admin/v1/tenants/hamburg/models", NULL);
    expect(BUILD("dev-token", "hamburg", "--user", "alice"), "POST",
           "/admin/v1/tenants/hamburg/dev-token", "{\"user\":\"alice\"}");
    expect(BUILD("dev-token", "hamburg", "--user", "alice", "--groups", "fachamt,it", "--ttl",
                 "30m"),
           "POST", "/admin/v1/tenants/hamburg/dev-token",
           "{\"groups\":[\"fachamt\",\"it\"],\"ttl_seconds\":1800,\"user\":\"alice\"}");
}

static void requests_of_limits_commands(void **state)
{
    (void)state;
    expect(BUILD("limits", "show", "hamburg"), "GET", "/admin/v1/tenants/hamburg/limits", NULL);
    expect(BUILD("limits", "set", "hamburg", "--rpm", "600", "--tpm", "none"), "PUT",
           "/admin/v1/tenants/hamburg/limits",
           "{\"rpm\":600,\"scope\":\"tenant\",\"subject\":\"\",\"tpm\":null}");
    expect(BUILD("limits", "set", "hamburg", "--user", "alice", "--concurrent", "2"), "PUT",
           "/admin/v1/tenants/hamburg/limits",
           "{\"concurrent\":2,\"scope\":\"user\",\"subject\":\"alice\"}");
    expect(BUILD("limits", "set", "hamburg", "--default-group", "--monthly-tokens",
                 "9223372036854775807"),
           "PUT", "/admin/v1/tenants/hamburg/limits",
           "{\"monthly_tokens\":9223372036854775807,\"scope\":\"group\",\"subject\":\"\"}");
    expect(BUILD("limits", "set", "hamburg", "--key", "key_0123456789abcdef", "--rpm", "0"),
           "PUT", "/admin/v1/tenants/hamburg/limits",
           "{\"rpm\":0,\"scope\":\"key\",\"subject\":\"key_0123456789abcdef\"}");
    expect(BUILD("limits", "clear", "hamburg"), "DELETE",
           "/admin/v1/tenants/hamburg/limits?scope=tenant&subject=", NULL);
    expect(BUILD("limits", "clear", "hamburg", "--group", "Referat 1/IT&x=1"), "DELETE",
           "/admin/v1/tenants/hamburg/limits?scope=group&subject=Referat%201%2FIT%26x%3D1", NULL);
    expect(BUILD("limits", "clear", "hamburg", "--default-key"), "DELETE",
           "/admin/v1/tenants/hamburg/limits?scope=key&subject=", NULL);
    expect(BUILD("tenant", "update", "hamburg", "--max-tokens-cap", "8192", "--quota-fail-mode",
                 "open"),
           "PATCH", "/admin/v1/tenants/hamburg",
           "{\"max_tokens_cap\":8192,\"quota_fail_mode\":\"open\"}");
}

static void issuer_add_sends_the_file_as_jwks(void **state)
{
    static const char jwks[] = "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"k1\"}]}";
    char path[] = "/tmp/llmoinctl-jwks-XXXXXX";
    int fd = mkstemp(path);
    (void)state;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, jwks, strlen(jwks)), (ssize_t)strlen(jwks));
    close(fd);
    expect(BUILD("issuer", "add", "hamburg", "--issuer", "https://idp.example", "--audience",
                 "llmoin", "--jwks-file", path),
           "POST", "/admin/v1/tenants/hamburg/issuers",
           "{\"audience\":\"llmoin\",\"issuer\":\"https://idp.example\","
           "\"jwks\":{\"keys\":[{\"kid\":\"k1\",\"kty\":\"EC\"}]}}");
    unlink(path);
}

/* A file that cannot be used is a usage error naming the command. */
static void unusable_file_is_a_usage_error(void **state)
{
    const char *argv[] = { "llmoinctl", "issuer", "add", "hamburg", "--issuer",
                           "https://idp.example", "--audience", "llmoin", "--jwks-file",
                           "/nonexistent.json" };
    struct ctl_invocation inv;
    struct ctl_error err;
    struct request rq;
    (void)state;

    assert_int_equal(args_parse(10, argv, &inv, &err), 0);
    assert_int_equal(request_build(&inv, NOW, &rq, &err), CTL_EXIT_USAGE);
    assert_string_equal(err.msg, "issuer add: cannot read --jwks-file '/nonexistent.json': No "
                                 "such file or directory");
    request_free(&rq);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode_keeps_unreserved),
        cmocka_unit_test(encode_escapes_everything_else),
        cmocka_unit_test(expand_template),
        cmocka_unit_test(query_parameters),
        cmocka_unit_test(requests_of_every_command),
        cmocka_unit_test(requests_of_sign_in_and_model_commands),
        cmocka_unit_test(requests_of_limits_commands),
        cmocka_unit_test(issuer_add_sends_the_file_as_jwks),
        cmocka_unit_test(unusable_file_is_a_usage_error),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
