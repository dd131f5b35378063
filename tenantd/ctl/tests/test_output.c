/*
 * Rendering: table alignment with UTF-8 names, csv quoting, nulls, each view,
 * and what happens with documents of the wrong shape.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "text.h"

#define BREMEN "Bremen \xe2\x80\x93 Senatorin f\xc3\xbcr Finanzen" /* "Bremen – Senatorin für Finanzen" */

#define TENANTS                                                                                 \
    "{\"data\":["                                                                               \
    "{\"slug\":\"bremen-finanzen\",\"name\":\"" BREMEN "\",\"status\":\"suspended\","         \
    "\"created_at\":\"2026-11-29T22:20:00Z\"},"                                               \
    "{\"slug\":\"hamburg\",\"name\":\"Freie und Hansestadt Hamburg\",\"status\":\"active\","   \
    "\"created_at\":\"2026-11-29T22:00:00Z\"},"                                               \
    "{\"slug\":\"sachsen-anhalt\",\"name\":\"Sachsen-Anhalt\",\"status\":\"active\","          \
    "\"created_at\":null}]}"

/* Renders json in fmt/view; returns the output (caller frees) and the rc. */
static char *render(const char *json, enum ctl_format fmt, enum ctl_view view, int *rc,
                    struct ctl_error *err)
{
    json_error_t jerr;
    json_t *doc = json ? json_loads(json, 0, &jerr) : NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    if (json && !doc)
        fail_msg("bad test JSON: %s", jerr.text);
    memset(err, 0, sizeof *err);
    *rc = output_render(out, fmt, view, doc, err);
    fclose(out);
    json_decref(doc);
    return text;
}

static void expect_render(const char *json, enum ctl_format fmt, enum ctl_view view,
                          const char *expected)
{
    struct ctl_error err;
    int rc;
    char *text = render(json, fmt, view, &rc, &err);

    assert_int_equal(rc, 0);
    assert_string_equal(text, expected);
    free(text);
}

static void expect_render_error(const char *json, enum ctl_format fmt, enum ctl_view view,
                                const char *msg)
{
    struct ctl_error err;
    int rc;
    char *text = render(json, fmt, view, &rc, &err);

    assert_int_equal(rc, CTL_EXIT_API);
    assert_string_equal(err.msg, msg);
    free(text);
}

static void width_counts_columns_not_bytes(void **state)
{
    (void)state;
    assert_int_equal(text_width(""), 0);
    assert_int_equal(text_width("Sachsen-Anhalt"), 14);
    assert_int_equal(text_width(BREMEN), 31);
    assert_int_equal(strlen(BREMEN), 34);
    assert_int_equal(text_width("u\xcc\x88"), 1);                  /* u + combining diaeresis */
    assert_int_equal(text_width("\xe6\x9d\xb1\xe4\xba\xac"), 4);    /* two CJK ideographs */
    assert_int_equal(text_width("a\xff" "b"), 3);                    /* invalid byte */
    assert_int_equal(text_width("\xc3"), 1);                         /* truncated sequence */
}

static void sanitize_replaces_controls(void **state)
{
    struct sbuf sb = SBUF_INIT;
    (void)state;

    text_sanitize(&sb, "a\x1b[31mb\tc\xc2\x9b" "d\xff" "e\x7f" BREMEN);
    assert_string_equal(sbuf_str(&sb), "a?[31mb?c?d?e?" BREMEN);
    sbuf_free(&sb);
}

static char *grid_text(const struct grid *g, bool csv)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    if (csv)
        grid_write_csv(out, g);
    else
        assert_int_equal(grid_write_table(out, g), 0);
    fclose(out);
    return text;
}

static void table_aligns_utf8_and_right_columns(void **state)
{
    static const char *const headers[] = { "NAME", "N", "LAST" };
    static const bool right[] = { false, true, false };
    struct grid g;
    char **row, *text;
    (void)state;

    grid_init(&g, 3, headers, right);
    row = grid_add_row(&g);
    row[0] = strdup(BREMEN);
    row[1] = strdup("7");
    row[2] = strdup("x");
    row = grid_add_row(&g);
    row[0] = strdup("Hamburg");
    row[1] = strdup("1234");
    /* row[2] stays NULL: an empty cell */
    text = grid_text(&g, false);
    assert_string_equal(text, "NAME                                N  LAST\n"
                              BREMEN "     7  x\n"
                              "Hamburg                          1234\n");
    free(text);
    grid_free(&g);
}

static void csv_quotes_only_when_needed(void **state)
{
    static const char *const headers[] = { "a", "b,c", "d" };
    struct grid g;
    char **row, *text;
    (void)state;

    grid_init(&g, 3, headers, NULL);
    row = grid_add_row(&g);
    row[0] = strdup("plain " BREMEN);
    row[1] = strdup("say \"hi\"");
    row[2] = strdup("line\nbreak");
    row = grid_add_row(&g);
    row[0] = strdup("cr\rx");
    row[1] = strdup("");
    row[2] = strdup("1,5");
    text = grid_text(&g, true);
    assert_string_equal(text, "a,\"b,c\",d\r\n"
                              "plain " BREMEN ",\"say \"\"hi\"\"\",\"line\nbreak\"\r\n"
                              "\"cr\rx\",,\"1,5\"\r\n");
    free(text);
    grid_free(&g);
}

static void tenants_table(void **state)
{
    (void)state;
    expect_render(TENANTS, FORMAT_TABLE, VIEW_TENANTS,
                  "SLUG             NAME                             STATUS     CREATED\n"
                  "bremen-finanzen  " BREMEN "  suspended  2026-11-29T22:20:00Z\n"
                  "hamburg          Freie und Hansestadt Hamburg     active     2026-11-29T22:00:00Z\n"
                  "sachsen-anhalt   Sachsen-Anhalt                   active     -\n");
}

static void tenants_csv(void **state)
{
    (void)state;
    expect_render(TENANTS, FORMAT_CSV, VIEW_TENANTS,
                  "slug,name,status,created_at\r\n"
                  "bremen-finanzen," BREMEN ",suspended,2026-11-29T22:20:00Z\r\n"
                  "hamburg,Freie und Hansestadt Hamburg,active,2026-11-29T22:00:00Z\r\n"
                  "sachsen-anhalt,Sachsen-Anhalt,active,\r\n");
}

static void empty_list_prints_header(void **state)
{
    (void)state;
    expect_render("{\"data\":[]}", FORMAT_TABLE, VIEW_TENANTS, "SLUG  NAME  STATUS  CREATED\n");
    expect_render("{\"data\":[]}", FORMAT_CSV, VIEW_TENANTS, "slug,name,status,created_at\r\n");
}

static void names_are_sanitized_in_tables_only(void **state)
{
    static const char doc[] = "{\"data\":[{\"slug\":\"x\",\"name\":\"evil\\u001b]0;title\\u0007\\nname, \\\"q\\\"\"}]}";
    (void)state;

    expect_render(doc, FORMAT_TABLE, VIEW_TENANTS,
                  "SLUG  NAME                      STATUS  CREATED\n"
                  "x     evil?]0;title??name, \"q\"  -       -\n");
    expect_render(doc, FORMAT_CSV, VIEW_TENANTS,
                  "slug,name,status,created_at\r\n"
                  "x,\"evil\x1b]0;title\x07\nname, \"\"q\"\"\",,\r\n");
}

#define KEYS                                                                                     \
    "{\"data\":[{\"id\":\"key_0123456789abcdef\",\"tenant\":\"hamburg\",\"user\":\"alice\","     \
    "\"name\":\"Fachverfahren X\",\"prefix\":\"lmk_AbCd\",\"created_at\":\"2026-11-29T22:05:00Z\"," \
    "\"expires_at\":\"2027-02-27T22:05:00Z\",\"revoked_at\":null,"                                \
    "\"last_used_at\":\"2026-11-29T23:00:00Z\",\"models\":[\"llama-3.1-8b\",\"mistral-7b\"]},"   \
    "{\"id\":\"key_fedcba9876543210\",\"tenant\":\"hamburg\",\"user\":\"bob\",\"name\":null,"    \
    "\"prefix\":\"lmk_XyZ0\",\"created_at\":\"2026-11-29T22:05:00Z\",\"expires_at\":null,"       \
    "\"revoked_at\":\"2026-11-29T23:30:00Z\",\"last_used_at\":null,\"models\":null}]}"

static void keys_table(void **state)
{
    (void)state;
    expect_render(KEYS, FORMAT_TABLE, VIEW_KEYS,
                  "ID                    USER   NAME             PREFIX    CREATED               EXPIRES               REVOKED               LAST_USED             MODELS\n"
                  "key_0123456789abcdef  alice  Fachverfahren X  lmk_AbCd  2026-11-29T22:05:00Z  2027-02-27T22:05:00Z  -                     2026-11-29T23:00:00Z  llama-3.1-8b,mistral-7b\n"
                  "key_fedcba9876543210  bob    -                lmk_XyZ0  2026-11-29T22:05:00Z  -                     2026-11-29T23:30:00Z  -                     -\n");
}

static void keys_csv(void **state)
{
    (void)state;
    expect_render(KEYS, FORMAT_CSV, VIEW_KEYS,
                  "id,user,name,prefix,created_at,expires_at,revoked_at,last_used_at,models\r\n"
                  "key_0123456789abcdef,alice,Fachverfahren X,lmk_AbCd,2026-11-29T22:05:00Z,2027-02-27T22:05:00Z,,2026-11-29T23:00:00Z,\"llama-3.1-8b,mistral-7b\"\r\n"
                  "key_fedcba9876543210,bob,,lmk_XyZ0,2026-11-29T22:05:00Z,,2026-11-29T23:30:00Z,,\r\n");
}

#define USAGE_BY_USER                                                                          \
    "{\"tenant\":\"hamburg\",\"by\":\"user\",\"from\":\"2026-11-01\",\"to\":\"2026-11-29\","   \
    "\"rows\":[{\"key\":\"alice\",\"requests\":1200,\"estimated_requests\":2,"                 \
    "\"failed_requests\":1,\"prompt_tokens\":480000,"                                          \
    "\"completion_tokens\":96000,\"total_tokens\":576000},"                                    \
    "{\"key\":\"b\\u00f6rge, j\",\"requests\":3,\"estimated_requests\":0,"                     \
    "\"failed_requests\":0,\"prompt_tokens\":30,\"completion_tokens\":120,"                    \
    "\"total_tokens\":150}],"                                                                   \
    "\"totals\":{\"requests\":1203,\"estimated_requests\":2,\"failed_requests\":1,"            \
    "\"prompt_tokens\":480030,\"completion_tokens\":96120,\"total_tokens\":576150}}"

static void usage_table_has_total_row(void **state)
{
    (void)state;
    expect_render(USAGE_BY_USER, FORMAT_TABLE, VIEW_USAGE,
                  "USER      REQUESTS  PROMPT  COMPLETION   TOTAL  ESTIMATED  FAILED\n"
                  "alice         1200  480000       96000  576000          2       1\n"
                  "b\xc3\xb6rge, j         3      30         120     150          0       0\n"
                  "TOTAL         1203  480030       96120  576150          2       1\n");
}

static void usage_csv_has_no_total_row(void **state)
{
    (void)state;
    expect_render(USAGE_BY_USER, FORMAT_CSV, VIEW_USAGE,
                  "user,requests,prompt_tokens,completion_tokens,total_tokens,"
                  "estimated_requests,failed_requests\r\n"
                  "alice,1200,480000,96000,576000,2,1\r\n"
                  "\"b\xc3\xb6rge, j\",3,30,120,150,0,0\r\n");
}

#define COUNTERS(N) \
    "\"requests\":" N ",\"estimated_requests\":0,\"failed_requests\":0,\"prompt_tokens\":" N \
    ",\"completion_tokens\":" N ",\"total_tokens\":" N

/* Rows without a group (or function, or model) have the key "": (none) for
 * people, empty in csv. */
static void usage_none_key(void **state)
{
    (void)state;
    static const char doc[] =
        "{\"by\":\"group\",\"rows\":[{\"key\":\"\"," COUNTERS("1") "},{\"key\":\"it\","
        COUNTERS("2") "}],\"totals\":{" COUNTERS("3") "}}";

    expect_render(doc, FORMAT_TABLE, VIEW_USAGE,
                  "GROUP   REQUESTS  PROMPT  COMPLETION  TOTAL  ESTIMATED  FAILED\n"
                  "(none)         1       1           1      1          0       0\n"
                  "it             2       2           2      2          0       0\n"
                  "TOTAL          3       3           3      3          0       0\n");
    expect_render(doc, FORMAT_CSV, VIEW_USAGE,
                  "group,requests,prompt_tokens,completion_tokens,total_tokens,"
                  "estimated_requests,failed_requests\r\n"
                  ",1,1,1,1,0,0\r\n"
                  "it,2,2,2,2,0,0\r\n");
}

static void usage_empty(void **state)
{
    (void)state;
    expect_render("{\"by\":\"day\",\"rows\":[],\"totals\":{" COUNTERS("0") "}}",
                  FORMAT_TABLE, VIEW_USAGE,
                  "DAY    REQUESTS  PROMPT  COMPLETION  TOTAL  ESTIMATED  FAILED\n"
                  "TOTAL         0       0           0      0          0       0\n");
}

#define MONTHLY                                                                                \
    "{\"month\":\"2026-11\",\"tenants\":["                                                     \
    "{\"tenant\":\"bremen-finanzen\",\"name\":\"" BREMEN "\"," COUNTERS("0") "},"             \
    "{\"tenant\":\"hamburg\",\"name\":\"Hamburg\"," COUNTERS("7") "}],"                       \
    "\"models\":[{\"tenant\":\"hamburg\",\"model\":\"\"," COUNTERS("2") "},"                  \
    "{\"tenant\":\"hamburg\",\"model\":\"llama\"," COUNTERS("5") "}],"                        \
    "\"totals\":{" COUNTERS("7") "}}"

static void monthly_table_has_both_lists(void **state)
{
    (void)state;
    expect_render(MONTHLY, FORMAT_TABLE, VIEW_MONTHLY,
                  "Usage in 2026-11 (Europe/Berlin), per tenant:\n\n"
                  "TENANT           NAME                             REQUESTS  PROMPT  COMPLETION"
                  "  TOTAL  ESTIMATED  FAILED\n"
                  "bremen-finanzen  " BREMEN "         0       0           0"
                  "      0          0       0\n"
                  "hamburg          Hamburg                                 7       7           7"
                  "      7          0       0\n"
                  "TOTAL                                                    7       7           7"
                  "      7          0       0\n"
                  "\nPer tenant and model:\n\n"
                  "TENANT   MODEL   REQUESTS  PROMPT  COMPLETION  TOTAL  ESTIMATED  FAILED\n"
                  "hamburg  (none)         2       2           2      2          0       0\n"
                  "hamburg  llama          5       5           5      5          0       0\n");
}

static void monthly_csv_is_per_tenant_and_model(void **state)
{
    (void)state;
    expect_render(MONTHLY, FORMAT_CSV, VIEW_MONTHLY,
                  "tenant,model,requests,prompt_tokens,completion_tokens,total_tokens,"
                  "estimated_requests,failed_requests\r\n"
                  "hamburg,,2,2,2,2,0,0\r\n"
                  "hamburg,llama,5,5,5,5,0,0\r\n");
    expect_render_error("{\"month\":\"2026-11\",\"tenants\":[]}", FORMAT_TABLE, VIEW_MONTHLY,
                        "unexpected answer from tenantd: no \"month\", \"tenants\" or "
                        "\"models\" in the monthly report");
}

static void object_as_field_lines(void **state)
{
    (void)state;
    expect_render("{\"status\":\"ok\",\"database\":\"ok\",\"snapshot_version\":12,\"x\":null,"
                  "\"flags\":[1,\"a\"],\"on\":true}",
                  FORMAT_TABLE, VIEW_OBJECT,
                  "status: ok\ndatabase: ok\nsnapshot_version: 12\nx: -\nflags: [1,\"a\"]\non: true\n");
    expect_render("{\"slug\":\"hamburg\",\"name\":\"" BREMEN "\",\"x\":null}", FORMAT_CSV,
                  VIEW_OBJECT, "slug,name,x\r\nhamburg," BREMEN ",\r\n");
}

static void json_is_pretty_and_unchanged(void **state)
{
    (void)state;
    expect_render("{\"b\":1,\"a\":[true,null],\"name\":\"" BREMEN "\"}", FORMAT_JSON, VIEW_TENANTS,
                  "{\n  \"b\": 1,\n  \"a\": [\n    true,\n    null\n  ],\n  \"name\": \"" BREMEN
                  "\"\n}\n");
}

#define NEW_KEY                                                                                \
    "{\"id\":\"key_0123456789abcdef\",\"tenant\":\"hamburg\",\"user\":\"alice\",\"name\":null," \
    "\"key\":\"lmk_SECRET\"}"

static void new_key_table_and_csv(void **state)
{
    (void)state;
    expect_render(NEW_KEY, FORMAT_TABLE, VIEW_NEW_KEY,
                  "key: lmk_SECRET\nid: key_0123456789abcdef\ntenant: hamburg\nuser: alice\n"
                  "name: -\n\nStore this key now: it is shown only this once and cannot be "
                  "retrieved again.\n");
    expect_render(NEW_KEY, FORMAT_CSV, VIEW_NEW_KEY,
                  "id,tenant,user,name,key\r\nkey_0123456789abcdef,hamburg,alice,,lmk_SECRET\r\n");
}

static void nothing_for_empty_answer(void **state)
{
    (void)state;
    expect_render(NULL, FORMAT_TABLE, VIEW_OBJECT, "");
    expect_render(NULL, FORMAT_JSON, VIEW_TENANTS, "");
}

static void wrong_shapes_fail(void **state)
{
    (void)state;
    expect_render_error("{\"tenants\":[]}", FORMAT_TABLE, VIEW_TENANTS,
                        "unexpected answer from tenantd: no \"data\" list");
    expect_render_error("{\"data\":[1]}", FORMAT_CSV, VIEW_KEYS,
                        "unexpected answer from tenantd: a \"data\" entry is not an object");
    expect_render_error("{\"by\":\"day\"}", FORMAT_TABLE, VIEW_USAGE,
                        "unexpected answer from tenantd: no \"rows\" list in the usage report");
    expect_render_error("{\"id\":\"key_1\"}", FORMAT_TABLE, VIEW_NEW_KEY,
                        "unexpected answer from tenantd: no \"key\" in the new key");
    expect_render_error("[1,2]", FORMAT_TABLE, VIEW_OBJECT,
                        "unexpected answer from tenantd: not a JSON object");
}

#define ISSUERS                                                                                \
    "{\"data\":[{\"id\":3,\"tenant\":\"hamburg\",\"issuer\":\"https://login.hamburg.de/realms/llmoin\"," \
    "\"audience\":\"llmoin\",\"jwks_uri\":\"https://login.hamburg.de/certs\",\"keys\":2,"      \
    "\"user_claim\":\"sub\",\"groups_claim\":null,\"leeway_seconds\":60,"                       \
    "\"jwks_fetched_at\":null,\"jwks_error\":\"HTTP 503, keys kept\","                          \
    "\"created_at\":\"2026-11-29T22:00:00Z\"},"                                                 \
    "{\"id\":12,\"tenant\":\"hamburg\",\"issuer\":\"https://idp.example\",\"audience\":\"a, b\"," \
    "\"jwks_uri\":null,\"keys\":1,\"user_claim\":\"preferred_username\",\"groups_claim\":\"groups\"," \
    "\"leeway_seconds\":0,\"jwks_fetched_at\":null,\"jwks_error\":null,"                         \
    "\"created_at\":\"2026-11-29T22:10:00Z\"}]}"

static void issuers_table_and_csv(void **state)
{
    (void)state;
    expect_render(ISSUERS, FORMAT_TABLE, VIEW_ISSUERS,
                  "ID  ISSUER                                  AUDIENCE  KEYS  USER_CLAIM          FETCHED  ERROR\n"
                  "3   https://login.hamburg.de/realms/llmoin  llmoin       2  sub                 -        HTTP 503, keys kept\n"
                  "12  https://idp.example                     a, b         1  preferred_username  -        -\n");
    expect_render(ISSUERS, FORMAT_CSV, VIEW_ISSUERS,
                  "id,issuer,audience,keys,user_claim,jwks_fetched_at,jwks_error\r\n"
                  "3,https://login.hamburg.de/realms/llmoin,llmoin,2,sub,,\"HTTP 503, keys kept\"\r\n"
                  "12,https://idp.example,\"a, b\",1,preferred_username,,\r\n");
}

#define ALLOWED(RESTRICTED, ENTRIES) \
    "{\"tenant\":\"hamburg\",\"models_restricted\":" RESTRICTED ",\"data\":[" ENTRIES "]}"
#define LLAMA "{\"alias\":\"llama-3.1-8b\",\"pool\":\"default\",\"dedicated_pool\":false}"
#define MISTRAL "{\"alias\":\"mistral-7b\",\"pool\":\"hamburg\",\"dedicated_pool\":true}"

static void tenant_models_say_whether_restricted(void **state)
{
    (void)state;
    expect_render(ALLOWED("true", LLAMA "," MISTRAL), FORMAT_TABLE, VIEW_TENANT_MODELS,
                  "Tenant hamburg may use only the models below (restricted to its list).\n\n"
                  "ALIAS         POOL     DEDICATED\n"
                  "llama-3.1-8b  default  false\n"
                  "mistral-7b    hamburg  true\n");
    expect_render(ALLOWED("true", ""), FORMAT_TABLE, VIEW_TENANT_MODELS,
                  "Tenant hamburg may use no model (restricted to its list).\n\n"
                  "ALIAS  POOL  DEDICATED\n");
    expect_render(ALLOWED("false", MISTRAL), FORMAT_TABLE, VIEW_TENANT_MODELS,
                  "Tenant hamburg may use every model (not restricted to its list); the models "
                  "below use the pool shown.\n\n"
                  "ALIAS       POOL     DEDICATED\n"
                  "mistral-7b  hamburg  true\n");
    expect_render(ALLOWED("false", ""), FORMAT_TABLE, VIEW_TENANT_MODELS,
                  "Tenant hamburg may use every model (not restricted to its list).\n\n"
                  "ALIAS  POOL  DEDICATED\n");
    /* csv stays a plain table for scripts. */
    expect_render(ALLOWED("true", LLAMA "," MISTRAL), FORMAT_CSV, VIEW_TENANT_MODELS,
                  "alias,pool,dedicated_pool\r\n"
                  "llama-3.1-8b,default,false\r\n"
                  "mistral-7b,hamburg,true\r\n");
    expect_render_error("{\"tenant\":\"hamburg\",\"data\":[]}", FORMAT_TABLE, VIEW_TENANT_MODELS,
                        "unexpected answer from tenantd: no \"models_restricted\" in the "
                        "allow-list");
    expect_render_error("{\"tenant\":\"hamburg\",\"models_restricted\":true}", FORMAT_TABLE,
                        VIEW_TENANT_MODELS, "unexpected answer from tenantd: no \"data\" list");
}

#define TOKEN "{\"token\":\"eyJh.eyJz.c2ln\",\"issuer\":\"http://127.0.0.1:8790/dev-idp/hamburg\"," \
              "\"expires_at\":1796000000}"

static void token_alone_in_table_mode(void **state)
{
    (void)state;
    expect_render(TOKEN, FORMAT_TABLE, VIEW_TOKEN, "eyJh.eyJz.c2ln\n");
    expect_render(TOKEN, FORMAT_CSV, VIEW_TOKEN,
                  "token,issuer,expires_at\r\n"
                  "eyJh.eyJz.c2ln,http://127.0.0.1:8790/dev-idp/hamburg,1796000000\r\n");
    expect_render(TOKEN, FORMAT_JSON, VIEW_TOKEN,
                  "{\n  \"token\": \"eyJh.eyJz.c2ln\",\n"
                  "  \"issuer\": \"http://127.0.0.1:8790/dev-idp/hamburg\",\n"
                  "  \"expires_at\": 1796000000\n}\n");
    expect_render_error("{\"issuer\":\"x\"}", FORMAT_TABLE, VIEW_TOKEN,
                        "unexpected answer from tenantd: no \"token\" in the answer");
}

static void string_lists_as_typed(void **state)
{
    (void)state;
    expect_render("{\"slug\":\"hamburg\",\"hosts\":[\"llmoin.hamburg.de\",\"ki.hamburg.de\"],"
                  "\"none\":[],\"odd\":[\"a\\u001b\"]}",
                  FORMAT_TABLE, VIEW_OBJECT,
                  "slug: hamburg\nhosts: llmoin.hamburg.de,ki.hamburg.de\nnone: (none)\nodd: a?\n");
    expect_render("{\"hosts\":[\"a.de\",\"b.de\"],\"none\":[]}", FORMAT_CSV, VIEW_OBJECT,
                  "hosts,none\r\n\"a.de,b.de\",\r\n");
}

#define LIMITS(MODE, ROWS)                                                                    \
    "{\"tenant\":\"hamburg\",\"max_tokens_cap\":4096,\"quota_fail_mode\":\"" MODE "\","         \
    "\"data\":[" ROWS "]}"
#define LIMIT_TENANT                                                                          \
    "{\"scope\":\"tenant\",\"subject\":\"\",\"rpm\":600,\"tpm\":200000,\"concurrent\":null," \
    "\"monthly_tokens\":null}"
#define LIMIT_USERS                                                                           \
    "{\"scope\":\"user\",\"subject\":\"\",\"rpm\":30,\"tpm\":null,\"concurrent\":4,"          \
    "\"monthly_tokens\":1000000}"
#define LIMIT_ALICE                                                                           \
    "{\"scope\":\"user\",\"subject\":\"alice\\u001b\",\"rpm\":60,\"tpm\":null,"                  \
    "\"concurrent\":null,\"monthly_tokens\":null}"

static void limits_table_names_defaults(void **state)
{
    (void)state;
    expect_render(LIMITS("closed", LIMIT_TENANT "," LIMIT_USERS "," LIMIT_ALICE), FORMAT_TABLE,
                  VIEW_LIMITS,
                  "Tenant hamburg: max_tokens_cap 4096, quota_fail_mode closed.\n\n"
                  "SCOPE   SUBJECT    RPM     TPM  CONCURRENT  MONTHLY\n"
                  "tenant             600  200000           -        -\n"
                  "user    (default)   30       -           4  1000000\n"
                  "user    alice?      60       -           -        -\n");
    expect_render(LIMITS("open", ""), FORMAT_TABLE, VIEW_LIMITS,
                  "Tenant hamburg: max_tokens_cap 4096, quota_fail_mode open.\n\n"
                  "SCOPE  SUBJECT  RPM  TPM  CONCURRENT  MONTHLY\n");
    /* csv keeps the subject as it is: "" is the default. */
    expect_render(LIMITS("closed", LIMIT_TENANT "," LIMIT_USERS), FORMAT_CSV, VIEW_LIMITS,
                  "scope,subject,rpm,tpm,concurrent,monthly_tokens\r\n"
                  "tenant,,600,200000,,\r\n"
                  "user,,30,,4,1000000\r\n");
    expect_render_error("{\"tenant\":\"hamburg\",\"data\":[]}", FORMAT_TABLE, VIEW_LIMITS,
                        "unexpected answer from tenantd: no \"max_tokens_cap\" or "
                        "\"quota_fail_mode\" in the limits");
}

#define CHANGE(ACTION, OBJECT, FIELD, BEFORE, AFTER)                                    \
    "{\"action\":\"" ACTION "\",\"object\":\"" OBJECT "\",\"field\":" FIELD            \
    ",\"before\":" BEFORE ",\"after\":" AFTER "}"
#define APPLIED(DRY_RUN, CHANGES) \
    "{\"tenant\":\"bremen\",\"dry_run\":" DRY_RUN ",\"created\":false,\"changes\":[" CHANGES "]}"

#define APPLY_CHANGES                                                                      \
    CHANGE("tenant.limit.set", "limit user:default", "null", "null",                       \
           "{\"scope\":\"user\",\"subject\":\"\",\"rpm\":30,\"tpm\":null}") ","          \
    CHANGE("tenant.model.remove", "model x", "null", "{\"alias\":\"x\"}", "null") ","       \
    CHANGE("tenant.limit.set", "limit tenant", "\"rpm\"", "60", "null") ","                  \
    CHANGE("tenant.update", "tenant bremen", "\"hosts\"", "[]", "[\"a.de\",\"b.de\"]")

static void apply_changes_as_lines(void **state)
{
    (void)state;
    expect_render(APPLIED("false", APPLY_CHANGES), FORMAT_TABLE, VIEW_APPLY,
                  "+ limit user:default rpm 30\n"
                  "- model x\n"
                  "~ limit tenant rpm 60 -> none\n"
                  "~ tenant bremen hosts (none) -> a.de,b.de\n");
    expect_render(APPLIED("false", ""), FORMAT_TABLE, VIEW_APPLY, "no changes\n");
    expect_render(APPLIED("true", ""), FORMAT_TABLE, VIEW_APPLY,
                  "no changes\n(dry run: nothing was changed)\n");
    expect_render(APPLIED("true", CHANGE("tenant.limit.set", "limit tenant", "\"rpm\"", "60",
                                         "120")),
                  FORMAT_CSV, VIEW_APPLY,
                  "action,object,field,before,after\r\n"
                  "tenant.limit.set,limit tenant,rpm,60,120\r\n");
    expect_render_error("{\"tenant\":\"bremen\"}", FORMAT_TABLE, VIEW_APPLY,
                        "unexpected answer from tenantd: no \"changes\" list");
}

static void offboard_counts_per_kind(void **state)
{
    (void)state;
    expect_render("{\"tenant\":\"bremen\",\"deleted\":{\"issuers\":1,\"quota_counters\":null}}",
                  FORMAT_TABLE, VIEW_OFFBOARD,
                  "Tenant bremen is offboarded. Deleted:\nissuers: 1\nquota_counters: -\n");
    expect_render("{\"tenant\":\"bremen\",\"deleted\":{\"issuers\":1,\"api_keys\":2}}",
                  FORMAT_CSV, VIEW_OFFBOARD, "issuers,api_keys\r\n1,2\r\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(width_counts_columns_not_bytes),
        cmocka_unit_test(limits_table_names_defaults),
        cmocka_unit_test(sanitize_replaces_controls),
        cmocka_unit_test(table_aligns_utf8_and_right_columns),
        cmocka_unit_test(csv_quotes_only_when_needed),
        cmocka_unit_test(tenants_table),
        cmocka_unit_test(tenants_csv),
        cmocka_unit_test(empty_list_prints_header),
        cmocka_unit_test(names_are_sanitized_in_tables_only),
        cmocka_unit_test(keys_table),
        cmocka_unit_test(keys_csv),
        cmocka_unit_test(usage_table_has_total_row),
        cmocka_unit_test(usage_csv_has_no_total_row),
        cmocka_unit_test(usage_none_key),
        cmocka_unit_test(usage_empty),
        cmocka_unit_test(monthly_table_has_both_lists),
        cmocka_unit_test(monthly_csv_is_per_tenant_and_model),
        cmocka_unit_test(object_as_field_lines),
        cmocka_unit_test(json_is_pretty_and_unchanged),
        cmocka_unit_test(new_key_table_and_csv),
        cmocka_unit_test(nothing_for_empty_answer),
        cmocka_unit_test(wrong_shapes_fail),
        cmocka_unit_test(issuers_table_and_csv),
        cmocka_unit_test(tenant_models_say_whether_restricted),
        cmocka_unit_test(token_alone_in_table_mode),
        cmocka_unit_test(string_lists_as_typed),
        cmocka_unit_test(apply_changes_as_lines),
        cmocka_unit_test(offboard_counts_per_kind),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
