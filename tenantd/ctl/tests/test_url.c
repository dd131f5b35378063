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
    assert_int_equal(request_build(&inv, &rq, &err), 0);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode_keeps_unreserved),
        cmocka_unit_test(encode_escapes_everything_else),
        cmocka_unit_test(expand_template),
        cmocka_unit_test(query_parameters),
        cmocka_unit_test(requests_of_every_command),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
