/*
 * The command table and its handlers. Most commands are declarative: the row
 * says which HTTP request to send and how to show the answer, and cmd_api
 * does the rest. To add a command, add a row (keep the example runnable: the
 * unit tests parse it and render example_response).
 */
#include "commands.h"

#include <string.h>
#include <time.h>

#include "api.h"
#include "completion.h"
#include "markdown.h"
#include "request.h"
#include "text.h"
#include "validate.h"
#include "values.h"
#include "verify.h"

static const char *const by_choices[] = { "day", "month", "user", "group", "model", "function",
                                          NULL };
static const char *const shell_choices[] = { "bash", NULL };
/* tenant update --models: whether the tenant is held to its allow-list. */
static const char *const restriction_choices[] = { "all", "allow-list", NULL };
static const char *const restriction_json[] = { "false", "true" };
static const char *const empty_list_json[] = { "[]" };
/* tenant update --quota-fail-mode */
static const char *const fail_mode_choices[] = { "closed", "open", NULL };
/* limits: which row a command names. No subject option: the tenant's own. */
static const char *const tenant_row[] = { "scope", "tenant", "subject", "", NULL };
static const char *const user_scope[] = { "scope", "user", NULL };
static const char *const group_scope[] = { "scope", "group", NULL };
static const char *const key_scope[] = { "scope", "key", NULL };
static const char *const default_user_row[] = { "scope", "user", "subject", "", NULL };
static const char *const default_group_row[] = { "scope", "group", "subject", "", NULL };
static const char *const default_key_row[] = { "scope", "key", "subject", "", NULL };
/* tenant apply --dry-run */
static const char *const dry_run_query[] = { "dry_run", "true", NULL };

/* The largest values tenantd takes (integer and bigint columns of limits). */
#define INT_LIMIT_MAX 2147483647LL
#define BIGINT_LIMIT_MAX 9223372036854775807LL

/* Sends a built request (rc: how building it went) and renders the answer,
 * which stays in *doc (the caller's to free) for a handler that looks at
 * it. Frees the request. */
static int send_and_render(const struct ctl_invocation *inv, const struct ctl_context *ctx,
                           struct request *rq, int rc, json_t **doc, struct ctl_error *err)
{
    struct ctl_error ignored;

    *doc = NULL;
    if (rc == 0)
        rc = api_call(ctx->socket, rq, doc, err);
    /* An error answer may still carry a document worth showing, e.g. health's
     * 503 {"status":"degraded",...}; the error stays the exit status. */
    if (*doc) {
        int shown = output_render(ctx->out, ctx->format, inv->cmd->view, *doc,
                                  rc ? &ignored : err);
        if (rc == 0)
            rc = shown;
    }
    request_free(rq);
    return rc;
}

/* Sends the row's request and renders the answer, which stays in *doc
 * (the caller's to free) for a handler that looks at it. */
static int call_and_render(const struct ctl_invocation *inv, const struct ctl_context *ctx,
                           json_t **doc, struct ctl_error *err)
{
    struct request rq;
    int rc = request_build(inv, time(NULL), &rq, err);

    return send_and_render(inv, ctx, &rq, rc, doc, err);
}

/* "tenant apply": the file named by --file is the request's whole body. */
static int cmd_tenant_apply(const struct ctl_invocation *inv, const struct ctl_context *ctx,
                            struct ctl_error *err)
{
    struct request rq;
    json_t *document = NULL, *doc;
    int rc = request_build(inv, time(NULL), &rq, err);

    if (rc == 0 && (rc = value_json_file("--file", inv_option(inv, "--file"), &document,
                                         err)) == 0) {
        json_decref(rq.body);
        rq.body = document;
    } else if (rc == CTL_EXIT_USAGE) {
        ctl_error_prefix(err, inv->cmd->words);
    }
    rc = send_and_render(inv, ctx, &rq, rc, &doc, err);
    json_decref(doc);
    return rc;
}

static int cmd_api(const struct ctl_invocation *inv, const struct ctl_context *ctx,
                   struct ctl_error *err)
{
    json_t *doc;
    int rc = call_and_render(inv, ctx, &doc, err);

    json_decref(doc);
    return rc;
}

/* The problem of a broken chain as the error: "the audit log is broken at
 * row 5 (changed): row 5 does not match its hash: ...". The text comes from
 * tenantd: keep it from driving the terminal. */
static int chain_broken(const json_t *problem, struct ctl_error *err)
{
    const char *reason = json_string_value(json_object_get(problem, "reason"));
    const char *message = json_string_value(json_object_get(problem, "message"));
    struct sbuf text = SBUF_INIT;

    sbuf_addf(&text, "the audit log is broken at row %lld (",
              (long long)json_integer_value(json_object_get(problem, "seq")));
    text_sanitize(&text, reason ? reason : "?");
    sbuf_add(&text, "): ");
    text_sanitize(&text, message ? message : "?");
    ctl_fail(err, CTL_EXIT_API, "%s", text.failed ? "the audit log is broken" : sbuf_str(&text));
    sbuf_free(&text);
    return CTL_EXIT_API;
}

/* "audit verify": the verdict is printed like any answer; a broken chain
 * is also the exit status (1), with the problem on standard error. */
static int cmd_audit_verify(const struct ctl_invocation *inv, const struct ctl_context *ctx,
                            struct ctl_error *err)
{
    json_t *doc;
    int rc = call_and_render(inv, ctx, &doc, err);

    if (rc == 0 && !json_is_boolean(json_object_get(doc, "ok")))
        rc = ctl_fail(err, CTL_EXIT_API, "unexpected answer from tenantd: no \"ok\"");
    else if (rc == 0 && json_is_false(json_object_get(doc, "ok")))
        rc = chain_broken(json_object_get(doc, "problem"), err);
    json_decref(doc);
    return rc;
}

static int cmd_completion(const struct ctl_invocation *inv, const struct ctl_context *ctx,
                          struct ctl_error *err)
{
    (void)inv; /* SHELL was checked against shell_choices: it is "bash" */
    return completion_bash(ctx->out, err);
}

static int cmd_help_markdown(const struct ctl_invocation *inv, const struct ctl_context *ctx,
                             struct ctl_error *err)
{
    (void)inv;
    return markdown_write(ctx->out, err);
}

static int check_usage_range(const struct ctl_invocation *inv, struct ctl_error *err)
{
    return validate_date_range(inv_option(inv, "--from"), inv_option(inv, "--to"), err);
}

/* audit --limit and --before: numbers sent as typed, in the query. */
static int check_audit_page(const struct ctl_invocation *inv, struct ctl_error *err)
{
    const char *limit = inv_option(inv, "--limit"), *before = inv_option(inv, "--before");
    long long number;
    int rc = 0;

    if (limit)
        rc = value_number("--limit", limit, 1, 1000, &number, err);
    if (rc == 0 && before)
        rc = value_number("--before", before, 1, 999999999999999999LL, &number, err);
    return rc;
}

#define SLUG_HELP "Tenant slug: " SLUG_RULE

#define TENANT_PATH_ARG(NAME) \
    { .name = NAME, .kind = KIND_SLUG, .dest = DEST_PATH, .help = SLUG_HELP }

#define EXAMPLE_TENANT_QUOTA(SLUG, NAME, STATUS, RESTRICTED, HOSTS, CAP, MODE, CREATED, UPDATED) \
    "{\"slug\":\"" SLUG "\",\"name\":\"" NAME "\",\"status\":\"" STATUS "\","              \
    "\"models_restricted\":" RESTRICTED ",\"hosts\":[" HOSTS "],\"dev_idp\":false,"         \
    "\"max_tokens_cap\":" CAP ",\"quota_fail_mode\":\"" MODE "\","                          \
    "\"admin_claim\":\"roles\",\"admin_value\":\"llmoin-admin\","                            \
    "\"created_at\":\"" CREATED "\",\"updated_at\":\"" UPDATED "\"}"
#define EXAMPLE_POOL_DEFAULT                                                                 \
    "{\"name\":\"default\",\"description\":\"shared pool\",\"models\":1,"                       \
    "\"created_at\":\"2026-11-29T22:00:00Z\"}"
#define EXAMPLE_TENANT(SLUG, NAME, STATUS, RESTRICTED, HOSTS, CREATED, UPDATED) \
    EXAMPLE_TENANT_QUOTA(SLUG, NAME, STATUS, RESTRICTED, HOSTS, "4096", "closed", CREATED, UPDATED)
#define EXAMPLE_TENANT_HAMBURG                                                      \
    EXAMPLE_TENANT("hamburg", "Freie und Hansestadt Hamburg", "active", "false", "",   \
                   "2026-11-29T22:00:00Z", "2026-11-29T22:00:00Z")
#define EXAMPLE_TENANT_SACHSEN_ANHALT                                               \
    EXAMPLE_TENANT("sachsen-anhalt", "Sachsen-Anhalt", "active", "false", "",          \
                   "2026-11-29T22:10:00Z", "2026-11-29T22:10:00Z")
#define EXAMPLE_TENANT_BREMEN(STATUS)                                               \
    EXAMPLE_TENANT("bremen-finanzen", "Bremen – Senatorin für Finanzen", STATUS, "false", "", \
                   "2026-11-29T22:20:00Z", "2026-11-29T22:30:00Z")
#define EXAMPLE_KEY_SCOPED(ID, USER, NAME, PREFIX, MODELS, EXPIRES, REVOKED, USED)          \
    "{\"id\":\"" ID "\",\"tenant\":\"hamburg\",\"user\":\"" USER "\",\"name\":" NAME       \
    ",\"prefix\":\"" PREFIX "\",\"models\":" MODELS ",\"created_at\":\"2026-11-29T22:05:00Z\"," \
    "\"expires_at\":" EXPIRES ",\"revoked_at\":" REVOKED ",\"last_used_at\":" USED
#define EXAMPLE_KEY(ID, USER, NAME, PREFIX, REVOKED, USED) \
    EXAMPLE_KEY_SCOPED(ID, USER, NAME, PREFIX, "null", "null", REVOKED, USED)
#define EXAMPLE_ISSUER_HAMBURG                                                                \
    "{\"id\":3,\"tenant\":\"hamburg\",\"issuer\":\"https://login.hamburg.de/realms/llmoin\","  \
    "\"audience\":\"llmoin\",\"jwks_uri\":"                                                   \
    "\"https://login.hamburg.de/realms/llmoin/protocol/openid-connect/certs\",\"keys\":2,"       \
    "\"user_claim\":\"preferred_username\",\"groups_claim\":\"groups\",\"leeway_seconds\":60," \
    "\"jwks_fetched_at\":\"2026-11-29T22:00:01Z\",\"jwks_error\":null,"                       \
    "\"created_at\":\"2026-11-29T22:00:00Z\"}"
#define EXAMPLE_ALLOWED(RESTRICTED, ENTRIES) \
    "{\"tenant\":\"hamburg\",\"models_restricted\":" RESTRICTED ",\"data\":[" ENTRIES "]}"
#define EXAMPLE_ALLOWED_LLAMA \
    "{\"alias\":\"llama-3.1-8b\",\"pool\":\"default\",\"dedicated_pool\":false}"
#define EXAMPLE_ALLOWED_MISTRAL \
    "{\"alias\":\"mistral-7b\",\"pool\":\"hamburg\",\"dedicated_pool\":true}"
#define EXAMPLE_LIMITS(ROWS)                                                                   \
    "{\"tenant\":\"hamburg\",\"max_tokens_cap\":4096,\"quota_fail_mode\":\"closed\","         \
    "\"data\":[" ROWS "]}"
#define EXAMPLE_LIMIT(SCOPE, SUBJECT, RPM, TPM, CONCURRENT, MONTHLY)                            \
    "{\"scope\":\"" SCOPE "\",\"subject\":\"" SUBJECT "\",\"rpm\":" RPM ",\"tpm\":" TPM       \
    ",\"concurrent\":" CONCURRENT ",\"monthly_tokens\":" MONTHLY "}"
#define EXAMPLE_LIMIT_TENANT EXAMPLE_LIMIT("tenant", "", "600", "200000", "null", "50000000")
#define EXAMPLE_LIMIT_GROUP EXAMPLE_LIMIT("group", "referat-1", "null", "null", "null", "5000000")
#define EXAMPLE_LIMIT_USERS EXAMPLE_LIMIT("user", "", "30", "20000", "4", "1000000")
#define EXAMPLE_LIMIT_ALICE EXAMPLE_LIMIT("user", "alice", "60", "null", "null", "null")

/* The counters of a usage report row; total_tokens is prompt + completion. */
#define EXAMPLE_COUNTERS(REQUESTS, ESTIMATED, FAILED, PROMPT, COMPLETION, TOTAL)              \
    "\"requests\":" REQUESTS ",\"estimated_requests\":" ESTIMATED ",\"failed_requests\":"     \
    FAILED ",\"prompt_tokens\":" PROMPT ",\"completion_tokens\":" COMPLETION                \
    ",\"total_tokens\":" TOTAL
#define EXAMPLE_USAGE_ROW(KEY, REQUESTS, ESTIMATED, FAILED, PROMPT, COMPLETION, TOTAL) \
    "{" KEY "," EXAMPLE_COUNTERS(REQUESTS, ESTIMATED, FAILED, PROMPT, COMPLETION, TOTAL) "}"

/* Which row of a tenant's limits: none of these names the tenant's own. */
#define LIMIT_SUBJECT_OPTIONS(DEST)                                                               \
    { .name = "--user", .metavar = "USER", .kind = KIND_TEXT, .dest = DEST, .field = "subject", \
      .also = user_scope, .help = "A user, by the user id of their keys and tokens" },          \
    { .name = "--group", .metavar = "GROUP", .kind = KIND_TEXT, .dest = DEST,                   \
      .field = "subject", .also = group_scope,                                                  \
      .help = "A group from the users' tokens: its members share the limits" },                 \
    { .name = "--key", .metavar = "KEYID", .kind = KIND_KEY_ID, .dest = DEST, .field = "subject", \
      .also = key_scope, .help = "An API key of the tenant, by its id (key_...)" },             \
    { .name = "--default-user", .kind = KIND_FLAG, .dest = DEST, .also = default_user_row,      \
      .help = "Every user without limits of their own" },                                       \
    { .name = "--default-group", .kind = KIND_FLAG, .dest = DEST, .also = default_group_row,    \
      .help = "Every group without limits of its own" },                                        \
    { .name = "--default-key", .kind = KIND_FLAG, .dest = DEST, .also = default_key_row,        \
      .help = "Every API key without limits of its own" }
#define LIMIT_SUBJECT_RULE                                                                        \
    { RULE_AT_MOST_ONE, { "--user", "--group", "--key", "--default-user", "--default-group",     \
                          "--default-key" } }

const struct ctl_command ctl_commands[] = {
    {
        .words = "tenant create",
        .handler = cmd_api,
        .summary = "Create a tenant",
        .method = "POST",
        .path = "/admin/v1/tenants",
        .view = VIEW_OBJECT,
        .args = { { .name = "SLUG", .kind = KIND_SLUG, .dest = DEST_BODY, .field = "slug",
                    .help = SLUG_HELP ", e.g. hamburg; cannot be changed later" } },
        .options = { { .name = "--name", .metavar = "NAME", .kind = KIND_TEXT, .required = true,
                       .dest = DEST_BODY, .field = "name",
                       .help = "Display name, e.g. \"Freie und Hansestadt Hamburg\"" } },
        .example = { "tenant", "create", "hamburg", "--name", "Freie und Hansestadt Hamburg" },
        .example_response = EXAMPLE_TENANT_HAMBURG,
    },
    {
        .words = "tenant list",
        .handler = cmd_api,
        .summary = "List all tenants",
        .method = "GET",
        .path = "/admin/v1/tenants",
        .view = VIEW_TENANTS,
        .example = { "tenant", "list" },
        .example_response = "{\"data\":[" EXAMPLE_TENANT_BREMEN("suspended") ","
                            EXAMPLE_TENANT_HAMBURG "," EXAMPLE_TENANT_SACHSEN_ANHALT "]}",
    },
    {
        .words = "tenant show",
        .handler = cmd_api,
        .summary = "Show one tenant",
        .method = "GET",
        .path = "/admin/v1/tenants/{SLUG}",
        .view = VIEW_OBJECT,
        .args = { TENANT_PATH_ARG("SLUG") },
        .example = { "tenant", "show", "sachsen-anhalt" },
        .example_response = EXAMPLE_TENANT_SACHSEN_ANHALT,
    },
    {
        .words = "tenant update",
        .handler = cmd_api,
        .summary = "Change a tenant's name, host names, model restriction or quota settings",
        .description = "--hosts replaces the tenant's host names: requests to them must carry this\n"
                       "tenant's credentials (a host name belongs to one tenant at most).\n"
                       "--models allow-list holds the tenant to the models allowed with\n"
                       "'llmoinctl model allow' (an empty list then allows none); --models all\n"
                       "lets it use every model again and keeps the list.\n"
                       "--max-tokens-cap is the most tokens one request may ask for (max_tokens):\n"
                       "a request asking for more is refused, one asking for none is counted as\n"
                       "asking for the cap.\n"
                       "--quota-fail-mode says what the gateway does while it cannot reach the\n"
                       "quota store: closed refuses requests (503), open lets them pass unchecked.\n"
                       "--admin-claim and --admin-value say which tokens of the tenant's own\n"
                       "issuers make their holder a tenant admin of the management API, e.g.\n"
                       "--admin-claim groups --admin-value LLMoin-Admins.\n"
                       "Limits themselves are set with 'llmoinctl limits set'.",
        .method = "PATCH",
        .path = "/admin/v1/tenants/{SLUG}",
        .view = VIEW_OBJECT,
        .args = { TENANT_PATH_ARG("SLUG") },
        .options = {
            { .name = "--name", .metavar = "NAME", .kind = KIND_TEXT, .dest = DEST_BODY,
              .field = "name", .help = "New display name" },
            { .name = "--hosts", .metavar = "HOST,...", .kind = KIND_LIST, .item = KIND_HOST,
              .dest = DEST_BODY, .field = "hosts",
              .help = "The tenant's host names, comma-separated, e.g. llmoin.hamburg.de" },
            { .name = "--no-hosts", .kind = KIND_FLAG, .dest = DEST_BODY, .field = "hosts",
              .json_values = empty_list_json, .help = "Remove all of the tenant's host names" },
            { .name = "--models", .kind = KIND_CHOICE, .choices = restriction_choices,
              .json_values = restriction_json, .dest = DEST_BODY, .field = "models_restricted",
              .help = "all: every model; allow-list: only the models allowed for the tenant" },
            { .name = "--max-tokens-cap", .metavar = "N", .kind = KIND_NUMBER, .min = 1,
              .max = 1000000, .dest = DEST_BODY, .field = "max_tokens_cap",
              .help = "The most tokens a request may ask for, 1 to 1000000 (new tenants: 4096)" },
            { .name = "--quota-fail-mode", .kind = KIND_CHOICE, .choices = fail_mode_choices,
              .dest = DEST_BODY, .field = "quota_fail_mode",
              .help = "While the quota store is unreachable: closed refuses requests, open "
                      "lets them pass unchecked (new tenants: closed)" },
            { .name = "--admin-claim", .metavar = "CLAIM", .kind = KIND_TEXT, .dest = DEST_BODY,
              .field = "admin_claim",
              .help = "The claim of the tenant's tokens that makes a tenant admin (new "
                      "tenants: roles)" },
            { .name = "--admin-value", .metavar = "VALUE", .kind = KIND_TEXT, .dest = DEST_BODY,
              .field = "admin_value",
              .help = "The value that claim must have or contain (new tenants: llmoin-admin)" },
        },
        .rules = {
            { RULE_AT_LEAST_ONE, { "--name", "--hosts", "--no-hosts", "--models",
                                   "--max-tokens-cap", "--quota-fail-mode", "--admin-claim",
                                   "--admin-value" } },
            { RULE_AT_MOST_ONE, { "--hosts", "--no-hosts" } },
        },
        .example = { "tenant", "update", "hamburg", "--hosts", "llmoin.hamburg.de",
                     "--models", "allow-list" },
        .example_response = EXAMPLE_TENANT("hamburg", "Freie und Hansestadt Hamburg", "active",
                                           "true", "\"llmoin.hamburg.de\"",
                                           "2026-11-29T22:00:00Z", "2026-11-29T22:40:00Z"),
    },
    {
        .words = "tenant suspend",
        .handler = cmd_api,
        .summary = "Suspend a tenant: its users get 403 within 2 s",
        .description = "The tenant's keys and usage are kept; 'tenant resume' lets its users in\n"
                       "again. Suspending a suspended tenant changes nothing.",
        .method = "POST",
        .path = "/admin/v1/tenants/{SLUG}/suspend",
        .view = VIEW_OBJECT,
        .args = { TENANT_PATH_ARG("SLUG") },
        .example = { "tenant", "suspend", "bremen-finanzen" },
        .example_response = EXAMPLE_TENANT_BREMEN("suspended"),
    },
    {
        .words = "tenant resume",
        .handler = cmd_api,
        .summary = "Resume a suspended tenant",
        .method = "POST",
        .path = "/admin/v1/tenants/{SLUG}/resume",
        .view = VIEW_OBJECT,
        .args = { TENANT_PATH_ARG("SLUG") },
        .example = { "tenant", "resume", "bremen-finanzen" },
        .example_response = EXAMPLE_TENANT_BREMEN("active"),
    },
    {
        .words = "tenant dev-idp",
        .handler = cmd_api,
        .summary = "Let a tenant's users sign in with the development identity provider",
        .description = "Only when tenantd runs with dev_idp = true: for development and tests on\n"
                       "one machine, never in production. --enable creates a signing key for the\n"
                       "tenant and trusts the provider's issuer; 'llmoinctl dev-token' then\n"
                       "mints tokens. --disable removes key and issuer again.",
        .method = "POST",
        .path = "/admin/v1/tenants/{SLUG}/dev-idp",
        .view = VIEW_OBJECT,
        .args = { TENANT_PATH_ARG("SLUG") },
        .options = {
            { .name = "--enable", .kind = KIND_FLAG, .dest = DEST_METHOD, .field = "POST",
              .help = "Turn the provider on for the tenant" },
            { .name = "--disable", .kind = KIND_FLAG, .dest = DEST_METHOD, .field = "DELETE",
              .help = "Turn it off: the tenant's dev tokens are refused within 2 s" },
        },
        .rules = { { RULE_EXACTLY_ONE, { "--enable", "--disable" } } },
        .example = { "tenant", "dev-idp", "hamburg", "--enable" },
        .example_response =
            "{\"issuer\":\"http://127.0.0.1:8790/dev-idp/hamburg\",\"audience\":\"llmoin\","
            "\"discovery\":\"http://127.0.0.1:8790/dev-idp/hamburg/.well-known/openid-configuration\","
            "\"user_claim\":\"preferred_username\",\"groups_claim\":\"groups\"}",
    },
    {
        .words = "tenant apply",
        .handler = cmd_tenant_apply,
        .summary = "Create or update a tenant with its issuers, models and limits from one file",
        .description = "The file, sent as the request's body, is a JSON document: slug, name and the\n"
                       "sections hosts, settings, issuers, models and limits\n"
                       "(docs/operator-guide.md, \"Onboarding a state with one file\"; examples in\n"
                       "docs/examples/). A section in the file is the whole truth: what it does not\n"
                       "list is removed. A section left out is left alone. Prints a line per change\n"
                       "(+ added, - removed, ~ changed), or \"no changes\": applying the same file\n"
                       "again changes nothing. When one part fails, nothing is changed and the error\n"
                       "names the part. --dry-run shows the changes and makes none. -f FILE is short\n"
                       "for --file FILE.",
        .method = "POST",
        .path = "/admin/v1/apply",
        .view = VIEW_APPLY,
        .options = {
            { .name = "--file", .metavar = "FILE", .kind = KIND_TEXT, .required = true,
              .help = "The tenant's document, a JSON file of at most 1 MiB (- reads standard "
                      "input)" },
            { .name = "--dry-run", .kind = KIND_FLAG, .dest = DEST_QUERY, .also = dry_run_query,
              .help = "Show what would change, change nothing" },
        },
        .example = { "tenant", "apply", "-f", "bremen.json" },
        .example_response =
            "{\"tenant\":\"bremen\",\"dry_run\":false,\"created\":false,\"changes\":["
            "{\"action\":\"issuer.replace\",\"object\":\"issuer https://login.bremen.de/realms/"
            "verwaltung\",\"field\":\"audience\",\"before\":\"llmoin\",\"after\":\"llmoin-hb\"},"
            "{\"action\":\"tenant.model.remove\",\"object\":\"model mistral-small-24b\","
            "\"field\":null,\"before\":{\"alias\":\"mistral-small-24b\",\"pool\":\"default\","
            "\"dedicated_pool\":false},\"after\":null},"
            "{\"action\":\"tenant.limit.set\",\"object\":\"limit user:default\",\"field\":"
            "\"rpm\",\"before\":60,\"after\":120}]}",
    },
    {
        .words = "tenant offboard",
        .handler = cmd_api,
        .summary = "Offboard a tenant: delete every row, key and counter it has",
        .description = "Deletes the tenant and all it has: issuers, API keys, model allow-list,\n"
                       "limits, development sign-in key, usage ledger and reports, journal lines\n"
                       "that could not be read, and its quota counters in Redis. Its keys and\n"
                       "tokens are refused within 2 s. --confirm must repeat the slug. This cannot\n"
                       "be undone: take the usage reports you still need for billing first. The\n"
                       "audit log keeps the tenant's history and one row tenant.offboard with what\n"
                       "was deleted. With Redis configured but unreachable nothing is deleted.",
        .method = "POST",
        .path = "/admin/v1/tenants/{SLUG}/offboard",
        .view = VIEW_OFFBOARD,
        .args = { TENANT_PATH_ARG("SLUG") },
        .options = {
            { .name = "--confirm", .metavar = "SLUG", .kind = KIND_SLUG, .required = true,
              .dest = DEST_BODY, .field = "confirm",
              .help = "The tenant's slug once more: nothing is deleted without it" },
        },
        .example = { "tenant", "offboard", "bremen-finanzen", "--confirm", "bremen-finanzen" },
        .example_response =
            "{\"tenant\":\"bremen-finanzen\",\"deleted\":{\"issuers\":1,\"api_keys\":12,"
            "\"models\":2,\"limits\":3,\"dev_idp_keys\":0,\"usage_events\":48210,"
            "\"usage_daily\":3120,\"usage_monthly\":14,\"ingest_rejects\":0,"
            "\"quota_counters\":37}}",
    },
    {
        .words = "key create",
        .handler = cmd_api,
        .summary = "Create an API key for a user of a tenant",
        .description = "The secret key (lmk_...) is printed this once: tenantd keeps only a hash\n"
                       "and cannot show it again. Hand it to the user over a secure channel.\n"
                       "Scripts should use --output json and read the \"key\" field.",
        .method = "POST",
        .path = "/admin/v1/tenants/{TENANT}/keys",
        .view = VIEW_NEW_KEY,
        .args = { TENANT_PATH_ARG("TENANT") },
        .options = {
            { .name = "--user", .metavar = "USER", .kind = KIND_TEXT, .required = true,
              .dest = DEST_BODY, .field = "user",
              .help = "User id the key belongs to; usage --by user groups by it" },
            { .name = "--name", .metavar = "LABEL", .kind = KIND_TEXT, .dest = DEST_BODY,
              .field = "name", .help = "Label to recognise the key by, e.g. the application" },
            { .name = "--expires", .metavar = "WHEN", .kind = KIND_EXPIRY, .dest = DEST_BODY,
              .field = "expires_at",
              .help = "When the key stops working: a time from now (90d, 12h, 30m; at most "
                      "3650d), a date (2027-02-27: its start in Europe/Berlin) or an RFC 3339 "
                      "time (2027-02-27T12:00:00Z); default: never" },
            { .name = "--models", .metavar = "ALIAS,...", .kind = KIND_LIST, .dest = DEST_BODY,
              .field = "models",
              .help = "The only models the key may use, comma-separated; default: all the "
                      "tenant may use" },
        },
        .example = { "key", "create", "hamburg", "--user", "alice", "--name", "Fachverfahren X",
                     "--expires", "90d", "--models", "llama-3.1-8b" },
        .example_response = EXAMPLE_KEY_SCOPED("key_0123456789abcdef", "alice",
                                               "\"Fachverfahren X\"", "lmk_AbCd",
                                               "[\"llama-3.1-8b\"]", "\"2027-02-27T22:05:00Z\"",
                                               "null", "null")
                            ",\"key\":\"lmk_AbCdEXAMPLEexampleEXAMPLEexampleEXAMPLEexaA\"}",
    },
    {
        .words = "key list",
        .handler = cmd_api,
        .summary = "List a tenant's API keys (never the secret keys)",
        .method = "GET",
        .path = "/admin/v1/tenants/{TENANT}/keys",
        .view = VIEW_KEYS,
        .args = { TENANT_PATH_ARG("TENANT") },
        .example = { "key", "list", "hamburg" },
        .example_response =
            "{\"data\":[" EXAMPLE_KEY("key_0123456789abcdef", "alice", "\"Fachverfahren X\"",
                                      "lmk_AbCd", "null", "\"2026-11-29T23:00:00Z\"") "},"
            EXAMPLE_KEY("key_fedcba9876543210", "bob", "null", "lmk_XyZ0",
                        "\"2026-11-29T23:30:00Z\"", "null") "}]}",
    },
    {
        .words = "key revoke",
        .handler = cmd_api,
        .summary = "Revoke an API key: it is rejected within 2 s",
        .description = "Takes the key id (key_...) from 'llmoinctl key list', not the secret key.\n"
                       "Revoking cannot be undone; create a new key instead.",
        .method = "POST",
        .path = "/admin/v1/keys/{KEYID}/revoke",
        .view = VIEW_OBJECT,
        .args = { { .name = "KEYID", .kind = KIND_KEY_ID, .dest = DEST_PATH,
                    .help = "Key id, e.g. key_0123456789abcdef" } },
        .example = { "key", "revoke", "key_fedcba9876543210" },
        .example_response = EXAMPLE_KEY("key_fedcba9876543210", "bob", "null", "lmk_XyZ0",
                                        "\"2026-11-29T23:30:00Z\"", "null") "}",
    },
    {
        .words = "issuer add",
        .handler = cmd_api,
        .summary = "Trust an identity provider (OIDC issuer) for a tenant's sign-in",
        .description = "The tenant's users may then sign in with the provider's tokens (JWTs)\n"
                       "whose \"iss\" is --issuer and whose \"aud\" holds --audience. An issuer\n"
                       "belongs to one tenant only. The provider's public keys come from\n"
                       "--jwks-uri, which tenantd fetches and keeps fresh, or from --jwks-file,\n"
                       "a JWKS ({\"keys\":[...]}) that tenantd keeps as given.",
        .method = "POST",
        .path = "/admin/v1/tenants/{TENANT}/issuers",
        .view = VIEW_OBJECT,
        .args = { TENANT_PATH_ARG("TENANT") },
        .options = {
            { .name = "--issuer", .metavar = "URL", .kind = KIND_URL, .required = true,
              .dest = DEST_BODY, .field = "issuer",
              .help = "The provider's issuer URL, exactly as in the tokens' \"iss\"" },
            { .name = "--audience", .metavar = "AUD", .kind = KIND_TEXT, .required = true,
              .dest = DEST_BODY, .field = "audience",
              .help = "The audience tokens must carry in \"aud\", e.g. llmoin" },
            { .name = "--jwks-uri", .metavar = "URL", .kind = KIND_URL, .dest = DEST_BODY,
              .field = "jwks_uri", .help = "Where the provider publishes its keys (JWKS)" },
            { .name = "--jwks-file", .metavar = "FILE", .kind = KIND_JSON_FILE,
              .dest = DEST_BODY, .field = "jwks",
              .help = "A file holding the provider's keys as a JWKS JSON object "
                      "(at most 1 MiB; - reads standard input)" },
            { .name = "--user-claim", .metavar = "CLAIM", .kind = KIND_TEXT, .dest = DEST_BODY,
              .field = "user_claim", .help = "The claim naming the user; default: sub" },
            { .name = "--groups-claim", .metavar = "CLAIM", .kind = KIND_TEXT,
              .dest = DEST_BODY, .field = "groups_claim",
              .help = "The claim listing the user's groups; default: none" },
            { .name = "--leeway", .metavar = "SECONDS", .kind = KIND_SECONDS, .min = 0,
              .max = 600, .dest = DEST_BODY, .field = "leeway_seconds",
              .help = "Clock skew allowed when checking exp, nbf and iat, 0 to 600 s "
                      "(also 2m); default: 60" },
        },
        .rules = { { RULE_EXACTLY_ONE, { "--jwks-uri", "--jwks-file" } } },
        .example = { "issuer", "add", "hamburg", "--issuer", "https://login.hamburg.de/realms/llmoin",
                     "--audience", "llmoin", "--jwks-uri",
                     "https://login.hamburg.de/realms/llmoin/protocol/openid-connect/certs" },
        .example_response = EXAMPLE_ISSUER_HAMBURG,
    },
    {
        .words = "issuer list",
        .handler = cmd_api,
        .summary = "List the identity providers a tenant trusts",
        .description = "KEYS is the number of public keys known; FETCHED and ERROR tell how the\n"
                       "last fetch from the JWKS URI went (- for keys given as a file).",
        .method = "GET",
        .path = "/admin/v1/tenants/{TENANT}/issuers",
        .view = VIEW_ISSUERS,
        .args = { TENANT_PATH_ARG("TENANT") },
        .example = { "issuer", "list", "hamburg" },
        .example_response = "{\"data\":[" EXAMPLE_ISSUER_HAMBURG "]}",
    },
    {
        .words = "issuer remove",
        .handler = cmd_api,
        .summary = "Stop trusting an identity provider: its tokens are refused within 2 s",
        .description = "Takes the issuer's number from 'llmoinctl issuer list'.",
        .method = "DELETE",
        .path = "/admin/v1/issuers/{ISSUER_ID}",
        .view = VIEW_OBJECT,
        .args = { { .name = "ISSUER_ID", .kind = KIND_ISSUER_ID, .dest = DEST_PATH,
                    .help = "The issuer's number, e.g. 3" } },
        .example = { "issuer", "remove", "3" },
        .example_response = EXAMPLE_ISSUER_HAMBURG,
    },
    {
        .words = "model add",
        .handler = cmd_api,
        .summary = "Add a model alias served by an inference pool, or change its pool",
        .description = "Clients ask for the alias in \"model\"; the gateway sends the request to\n"
                       "the nginx upstream llmoin_pool_POOL. A tenant may use every model unless\n"
                       "it is restricted to its allow-list (see 'llmoinctl model allow').",
        .method = "POST",
        .path = "/admin/v1/models",
        .view = VIEW_OBJECT,
        .args = { { .name = "ALIAS", .kind = KIND_TEXT, .dest = DEST_BODY, .field = "alias",
                    .help = "Model name clients send, e.g. llama-3.1-8b" } },
        .options = {
            { .name = "--pool", .metavar = "POOL", .kind = KIND_TEXT, .required = true,
              .dest = DEST_BODY, .field = "pool",
              .help = "Inference pool (nginx upstream llmoin_pool_POOL), e.g. default" },
            { .name = "--upstream-model", .metavar = "NAME", .kind = KIND_TEXT,
              .dest = DEST_BODY, .field = "upstream_model",
              .help = "Model name the pool's servers know, if different" },
        },
        .example = { "model", "add", "llama-3.1-8b", "--pool", "default" },
        .example_response = "{\"alias\":\"llama-3.1-8b\",\"pool\":\"default\","
                            "\"upstream_model\":null,\"created_at\":\"2026-11-29T22:00:00Z\"}",
    },
    {
        .words = "pool list",
        .handler = cmd_api,
        .summary = "List inference pools and how many model aliases each serves",
        .method = "GET",
        .path = "/admin/v1/pools",
        .view = VIEW_POOLS,
        .example = { "pool", "list" },
        .example_response = "{\"data\":[" EXAMPLE_POOL_DEFAULT ",{\"name\":\"gpu_hh\","
                            "\"description\":\"H100 nodes in Hamburg\",\"models\":0,"
                            "\"created_at\":\"2026-11-29T22:10:00Z\"}]}",
    },
    {
        .words = "pool set",
        .handler = cmd_api,
        .summary = "Register an inference pool or describe it anew",
        .description = "A pool is an nginx upstream named llmoin_pool_NAME: define the upstream\n"
                       "in nginx's configuration (and reload nginx) before model aliases or\n"
                       "tenants' dedicated allow-list entries are sent to it.",
        .method = "PUT",
        .path = "/admin/v1/pools/{NAME}",
        .view = VIEW_OBJECT,
        .args = { { .name = "NAME", .kind = KIND_TEXT, .dest = DEST_PATH,
                    .help = "Pool name: a lowercase letter, then lowercase letters, digits or _" } },
        .options = {
            { .name = "--description", .metavar = "TEXT", .kind = KIND_TEXT, .required = true,
              .dest = DEST_BODY, .field = "description",
              .help = "What the pool is, e.g. \"H100 nodes in Hamburg\"" },
        },
        .example = { "pool", "set", "gpu_hh", "--description", "H100 nodes in Hamburg" },
        .example_response = "{\"name\":\"gpu_hh\",\"description\":\"H100 nodes in Hamburg\","
                            "\"models\":0,\"created_at\":\"2026-11-29T22:10:00Z\"}",
    },
    {
        .words = "pool remove",
        .handler = cmd_api,
        .summary = "Remove an inference pool that serves no model",
        .method = "DELETE",
        .path = "/admin/v1/pools/{NAME}",
        .view = VIEW_OBJECT,
        .args = { { .name = "NAME", .kind = KIND_TEXT, .dest = DEST_PATH,
                    .help = "Pool name" } },
        .example = { "pool", "remove", "gpu_hh" },
        .example_response = "{\"name\":\"gpu_hh\",\"description\":\"H100 nodes in Hamburg\","
                            "\"models\":0,\"created_at\":\"2026-11-29T22:10:00Z\"}",
    },
    {
        .words = "model list",
        .handler = cmd_api,
        .summary = "List model aliases and their pools",
        .method = "GET",
        .path = "/admin/v1/models",
        .view = VIEW_MODELS,
        .example = { "model", "list" },
        .example_response = "{\"data\":[{\"alias\":\"llama-3.1-8b\",\"pool\":\"default\","
                            "\"upstream_model\":null,\"created_at\":\"2026-11-29T22:00:00Z\"}]}",
    },
    {
        .words = "model allow",
        .handler = cmd_api,
        .summary = "Allow a model for a tenant, optionally on a dedicated pool",
        .description = "This restricts the tenant to its allow-list: from now on its users may\n"
                       "use only the models allowed for it ('llmoinctl tenant update TENANT\n"
                       "--models all' lifts that). Allowing an allowed model again changes its\n"
                       "pool. Prints the tenant's list.",
        .method = "POST",
        .path = "/admin/v1/tenants/{TENANT}/models",
        .view = VIEW_TENANT_MODELS,
        .args = { TENANT_PATH_ARG("TENANT"),
                  { .name = "ALIAS", .kind = KIND_TEXT, .dest = DEST_BODY, .field = "alias",
                    .help = "Model alias from 'llmoinctl model list', e.g. llama-3.1-8b" } },
        .options = {
            { .name = "--pool", .metavar = "POOL", .kind = KIND_TEXT, .dest = DEST_BODY,
              .field = "pool",
              .help = "Pool for this tenant's requests to the model (nginx upstream "
                      "llmoin_pool_POOL); default: the model's pool" },
        },
        .example = { "model", "allow", "hamburg", "mistral-7b", "--pool", "hamburg" },
        .example_response = EXAMPLE_ALLOWED("true", EXAMPLE_ALLOWED_LLAMA ","
                                            EXAMPLE_ALLOWED_MISTRAL),
    },
    {
        .words = "model disallow",
        .handler = cmd_api,
        .summary = "Take a model off a tenant's allow-list",
        .description = "The tenant stays restricted to its list: taking the last model off\n"
                       "leaves it with none. Prints the tenant's list.",
        .method = "DELETE",
        .path = "/admin/v1/tenants/{TENANT}/models",
        .view = VIEW_TENANT_MODELS,
        .args = { TENANT_PATH_ARG("TENANT"),
                  { .name = "ALIAS", .kind = KIND_TEXT, .dest = DEST_QUERY, .field = "alias",
                    .help = "Model alias to take off, e.g. mistral-7b" } },
        .example = { "model", "disallow", "hamburg", "mistral-7b" },
        .example_response = EXAMPLE_ALLOWED("true", EXAMPLE_ALLOWED_LLAMA),
    },
    {
        .words = "model allowed",
        .handler = cmd_api,
        .summary = "Show a tenant's model allow-list and whether it is in force",
        .method = "GET",
        .path = "/admin/v1/tenants/{TENANT}/models",
        .view = VIEW_TENANT_MODELS,
        .args = { TENANT_PATH_ARG("TENANT") },
        .example = { "model", "allowed", "hamburg" },
        .example_response = EXAMPLE_ALLOWED("true", EXAMPLE_ALLOWED_LLAMA ","
                                            EXAMPLE_ALLOWED_MISTRAL),
    },
    {
        .words = "limits set",
        .handler = cmd_api,
        .summary = "Set or lift limits of a tenant, a group, a user or an API key",
        .description = "Without a subject option the limits are the tenant's as a whole (all its\n"
                       "users together). A request counts against the tenant's limits, its user's,\n"
                       "its API key's and those of each of its groups; a group, user or key\n"
                       "without limits of its own gets the default row (--default-group,\n"
                       "--default-user, --default-key), if there is one. Limits not given keep\n"
                       "their value; none lifts one; a row left without limits is removed.\n"
                       "Prints the tenant's limits; the gateway follows within 2 s.",
        .method = "PUT",
        .path = "/admin/v1/tenants/{TENANT}/limits",
        .view = VIEW_LIMITS,
        .args = { TENANT_PATH_ARG("TENANT") },
        .options = {
            LIMIT_SUBJECT_OPTIONS(DEST_BODY),
            { .name = "--rpm", .metavar = "N", .kind = KIND_LIMIT, .max = INT_LIMIT_MAX,
              .dest = DEST_BODY, .field = "rpm",
              .help = "Requests per minute, or none" },
            { .name = "--tpm", .metavar = "N", .kind = KIND_LIMIT, .max = BIGINT_LIMIT_MAX,
              .dest = DEST_BODY, .field = "tpm",
              .help = "Tokens per minute, or none" },
            { .name = "--concurrent", .metavar = "N", .kind = KIND_LIMIT, .max = INT_LIMIT_MAX,
              .dest = DEST_BODY, .field = "concurrent",
              .help = "Requests in flight at the same time, or none" },
            { .name = "--monthly-tokens", .metavar = "N", .kind = KIND_LIMIT,
              .max = BIGINT_LIMIT_MAX, .dest = DEST_BODY, .field = "monthly_tokens",
              .help = "Tokens per calendar month (Europe/Berlin), or none" },
        },
        .rules = {
            LIMIT_SUBJECT_RULE,
            { RULE_AT_LEAST_ONE, { "--rpm", "--tpm", "--concurrent", "--monthly-tokens" } },
        },
        .preset = tenant_row,
        .example = { "limits", "set", "hamburg", "--default-user", "--rpm", "30", "--tpm", "20000",
                     "--concurrent", "4", "--monthly-tokens", "1000000" },
        .example_response = EXAMPLE_LIMITS(EXAMPLE_LIMIT_TENANT "," EXAMPLE_LIMIT_GROUP ","
                                           EXAMPLE_LIMIT_USERS "," EXAMPLE_LIMIT_ALICE),
    },
    {
        .words = "limits show",
        .handler = cmd_api,
        .summary = "Show a tenant's limits, its max_tokens cap and quota fail mode",
        .description = "A dash means no limit; (default) marks the row for every group, user or\n"
                       "key without one of its own. The first line tells the most tokens a\n"
                       "request may ask for (max_tokens_cap) and what the gateway does while it\n"
                       "cannot reach the quota store (quota_fail_mode closed: refuse requests;\n"
                       "open: let them pass unchecked); 'llmoinctl tenant update' changes both.",
        .method = "GET",
        .path = "/admin/v1/tenants/{TENANT}/limits",
        .view = VIEW_LIMITS,
        .args = { TENANT_PATH_ARG("TENANT") },
        .example = { "limits", "show", "hamburg" },
        .example_response = EXAMPLE_LIMITS(EXAMPLE_LIMIT_TENANT "," EXAMPLE_LIMIT_GROUP ","
                                           EXAMPLE_LIMIT_USERS "," EXAMPLE_LIMIT_ALICE),
    },
    {
        .words = "limits clear",
        .handler = cmd_api,
        .summary = "Remove a row of a tenant's limits",
        .description = "Without a subject option it removes the tenant's own limits. A user,\n"
                       "group or key whose row is removed falls back to the default row, if\n"
                       "there is one. Prints the tenant's limits; the gateway follows within 2 s.",
        .method = "DELETE",
        .path = "/admin/v1/tenants/{TENANT}/limits",
        .view = VIEW_LIMITS,
        .args = { TENANT_PATH_ARG("TENANT") },
        .options = { LIMIT_SUBJECT_OPTIONS(DEST_QUERY) },
        .rules = { LIMIT_SUBJECT_RULE },
        .preset = tenant_row,
        .example = { "limits", "clear", "hamburg", "--user", "alice" },
        .example_response = EXAMPLE_LIMITS(EXAMPLE_LIMIT_TENANT "," EXAMPLE_LIMIT_GROUP ","
                                           EXAMPLE_LIMIT_USERS),
    },
    /* Before "usage": the completion script takes the first command whose
     * words begin the line. */
    {
        .words = "usage verify",
        .handler = cmd_usage_verify,
        .summary = "Compare a tenant's usage ledger with infer-sim's count of its requests",
        .description = "Reads the ledger's totals over the days --from to --to (the usage report)\n"
                       "and infer-sim's count of the tenant's requests (GET /sim/stats at\n"
                       "--against), and prints both and the difference, ledger minus infer-sim.\n"
                       "Exits 0 when requests, prompt and completion tokens are equal, 1 when they\n"
                       "differ (the differences on standard error) or an answer is unusable, 3\n"
                       "when tenantd or infer-sim cannot be reached. infer-sim counts everything\n"
                       "since it started, not per day: give a window that covers all it served\n"
                       "(tests, demos). Its ESTIMATED are the streams it cut, which the ledger\n"
                       "bills from the chunks seen.",
        .method = "GET",
        .path = "/admin/v1/tenants/{TENANT}/usage",
        .view = VIEW_USAGE,
        .args = { TENANT_PATH_ARG("TENANT") },
        .options = {
            { .name = "--from", .metavar = "YYYY-MM-DD", .kind = KIND_DATE, .required = true,
              .dest = DEST_QUERY, .field = "from", .help = "First day of the ledger's window" },
            { .name = "--to", .metavar = "YYYY-MM-DD", .kind = KIND_DATE, .required = true,
              .dest = DEST_QUERY, .field = "to", .help = "Last day of the window (included)" },
            { .name = "--against", .metavar = "URL", .kind = KIND_URL, .required = true,
              .help = "infer-sim's address, e.g. http://127.0.0.1:8091 (its /sim/stats is read)" },
        },
        .check = check_usage_range,
        .example = { "usage", "verify", "hamburg", "--from", "2026-11-01", "--to", "2026-11-29",
                     "--against", "http://127.0.0.1:8091" },
        .example_response =
            "{\"tenant\":\"hamburg\",\"from\":\"2026-11-01\",\"to\":\"2026-11-29\","
            "\"against\":\"http://127.0.0.1:8091/sim/stats\",\"equal\":true,\"by\":\"source\","
            "\"rows\":[{\"key\":\"ledger\",\"requests\":1203,\"estimated_requests\":0,"
            "\"failed_requests\":4,\"prompt_tokens\":480030,\"completion_tokens\":96120,"
            "\"total_tokens\":576150},{\"key\":\"infer-sim\",\"requests\":1203,"
            "\"estimated_requests\":0,\"failed_requests\":4,\"prompt_tokens\":480030,"
            "\"completion_tokens\":96120,\"total_tokens\":576150},{\"key\":\"difference\","
            "\"requests\":0,\"prompt_tokens\":0,\"completion_tokens\":0,\"total_tokens\":0}]}",
    },
    {
        .words = "usage",
        .handler = cmd_api,
        .summary = "Show a tenant's token usage by day, month, user, group, model or function",
        .description = "Days and months are calendar days and months in Europe/Berlin. Without\n"
                       "--from the report starts on the first of the current month, without --to\n"
                       "it ends today. By group, a request counts for each of its user's groups\n"
                       "(the TOTAL row counts it once); a request without groups, or without an\n"
                       "entry function of the web page (chat, summarize, write, research,\n"
                       "plain_language), is under (none). ESTIMATED: requests whose usage the\n"
                       "gateway estimated (a stream cut short); FAILED: requests answered with\n"
                       "status 400 or above.",
        .method = "GET",
        .path = "/admin/v1/tenants/{TENANT}/usage",
        .view = VIEW_USAGE,
        .args = { TENANT_PATH_ARG("TENANT") },
        .options = {
            { .name = "--by", .kind = KIND_CHOICE, .choices = by_choices, .def = "day",
              .dest = DEST_QUERY, .field = "by", .help = "Group the rows by" },
            { .name = "--from", .metavar = "YYYY-MM-DD", .kind = KIND_DATE, .dest = DEST_QUERY,
              .field = "from", .help = "First day of the report" },
            { .name = "--to", .metavar = "YYYY-MM-DD", .kind = KIND_DATE, .dest = DEST_QUERY,
              .field = "to", .help = "Last day of the report (included)" },
        },
        .check = check_usage_range,
        .example = { "usage", "hamburg", "--by", "function", "--from", "2026-11-01", "--to",
                     "2026-11-29" },
        .example_response =
            "{\"tenant\":\"hamburg\",\"by\":\"function\",\"from\":\"2026-11-01\","
            "\"to\":\"2026-11-29\",\"rows\":["
            EXAMPLE_USAGE_ROW("\"key\":\"\"", "310", "2", "0", "124000", "24800", "148800") ","
            EXAMPLE_USAGE_ROW("\"key\":\"chat\"", "640", "1", "3", "192000", "51200", "243200") ","
            EXAMPLE_USAGE_ROW("\"key\":\"summarize\"", "253", "0", "1", "164030", "20120", "184150") "],"
            "\"totals\":{"
            EXAMPLE_COUNTERS("1203", "3", "4", "480030", "96120", "576150") "}}",
    },
    {
        .words = "report monthly",
        .handler = cmd_api,
        .summary = "Show every tenant's usage in a calendar month, for billing",
        .description = "The month is a calendar month in Europe/Berlin. Lists every tenant (zero\n"
                       "without usage) and, below, each tenant's usage per model. --output csv\n"
                       "gives a line per tenant and model; --output json both lists and the totals.",
        .method = "GET",
        .path = "/admin/v1/reports/monthly",
        .view = VIEW_MONTHLY,
        .options = {
            { .name = "--month", .metavar = "YYYY-MM", .kind = KIND_MONTH, .required = true,
              .dest = DEST_QUERY, .field = "month", .help = "The month, e.g. 2026-11" },
        },
        .example = { "report", "monthly", "--month", "2026-11" },
        .example_response =
            "{\"month\":\"2026-11\",\"tenants\":["
            EXAMPLE_USAGE_ROW("\"tenant\":\"bremen-finanzen\",\"name\":\"Bremen – Senatorin "
                              "für Finanzen\"", "0", "0", "0", "0", "0", "0") ","
            EXAMPLE_USAGE_ROW("\"tenant\":\"hamburg\",\"name\":\"Freie und Hansestadt Hamburg\"",
                              "1203", "3", "4", "480030", "96120", "576150") "],"
            "\"models\":["
            EXAMPLE_USAGE_ROW("\"tenant\":\"hamburg\",\"model\":\"llama-3.1-8b\"",
                              "1200", "3", "4", "480000", "96000", "576000") ","
            EXAMPLE_USAGE_ROW("\"tenant\":\"hamburg\",\"model\":\"mistral-7b\"",
                              "3", "0", "0", "30", "120", "150") "],"
            "\"totals\":{" EXAMPLE_COUNTERS("1203", "3", "4", "480030", "96120", "576150") "}}",
    },
    /* Before "audit": the completion script takes the first command whose
     * words begin the line. */
    {
        .words = "audit verify",
        .handler = cmd_audit_verify,
        .summary = "Check the audit log's hash chain: a changed or removed row is named",
        .description = "Recomputes the hash of every row of the audit log in the order of the\n"
                       "chain, and checks that each row links to the one before it and that no\n"
                       "row is missing, also at the end (the chain's head records the newest\n"
                       "row). Exits 0 when the chain is intact, 1 when it is broken (the first\n"
                       "problem, naming its row, on standard error) or tenantd answered with an\n"
                       "error, 3 when tenantd cannot be reached. Whoever holds the database's\n"
                       "superuser rights can rewrite rows and head alike: see the operator guide.",
        .method = "GET",
        .path = "/admin/v1/audit/verify",
        .view = VIEW_AUDIT_VERIFY,
        .example = { "audit", "verify" },
        .example_response =
            "{\"ok\":true,\"rows\":1742,"
            "\"head\":\"4f1c9a0e2b7d3c5a8e6f1b0d9c2a7e4f3b8d5c1a6e9f0b2d7c4a1e8f5b3d6c90\"}",
    },
    {
        .words = "audit",
        .handler = cmd_api,
        .summary = "Show the audit log: who changed what and when, newest first",
        .description = "Every change made through tenantd: its row number in the chain (SEQ),\n"
                       "the time, who made it (unix:uid=N on the socket, operator:NAME or\n"
                       "admin:TENANT:NAME over HTTPS), the tenant, the action, the object and, in\n"
                       "tables, the fields a change changed; --output json or csv show each\n"
                       "object before and after the change (never a secret) and the row's hash.\n"
                       "A full page ends with the --before that shows the next, older one.",
        .method = "GET",
        .path = "/admin/v1/audit",
        .view = VIEW_AUDIT,
        .args = { { .name = "TENANT", .kind = KIND_SLUG, .optional = true, .dest = DEST_QUERY,
                    .field = "tenant",
                    .help = "Only the rows of this tenant (also of one that no longer exists); "
                            "without it, the whole platform's" } },
        .options = {
            { .name = "--limit", .metavar = "N", .kind = KIND_TEXT, .dest = DEST_QUERY,
              .field = "limit", .help = "At most N rows, 1 to 1000; default: 100" },
            { .name = "--before", .metavar = "SEQ", .kind = KIND_TEXT, .dest = DEST_QUERY,
              .field = "before", .help = "Only rows older than row SEQ: the next page" },
        },
        .check = check_audit_page,
        .example = { "audit", "--limit", "3" },
        .example_response =
            "{\"data\":["
            "{\"seq\":1742,\"at\":\"2026-11-29T23:30:00Z\",\"actor\":\"unix:uid=0\","
            "\"tenant\":\"hamburg\",\"action\":\"key.revoke\","
            "\"object\":\"key:key_fedcba9876543210\",\"before\":"
            EXAMPLE_KEY("key_fedcba9876543210", "bob", "null", "lmk_XyZ0", "null", "null") "},"
            "\"after\":"
            EXAMPLE_KEY("key_fedcba9876543210", "bob", "null", "lmk_XyZ0",
                        "\"2026-11-29T23:30:00Z\"", "null") "},"
            "\"hash\":\"4f1c9a0e2b7d3c5a8e6f1b0d9c2a7e4f3b8d5c1a6e9f0b2d7c4a1e8f5b3d6c90\"},"
            "{\"seq\":1741,\"at\":\"2026-11-29T22:40:00Z\",\"actor\":\"admin:hamburg:alice\","
            "\"tenant\":\"hamburg\",\"action\":\"tenant.limit.set\","
            "\"object\":\"tenant:hamburg/limit:user:alice\",\"before\":null,"
            "\"after\":" EXAMPLE_LIMIT_ALICE ","
            "\"hash\":\"a93e07d5c1b82f64e0d9a7c3b5f18e2d6c4a0b9f7e3d1c5a8b2f6e0d4c9a7b31\"},"
            "{\"seq\":1740,\"at\":\"2026-11-29T22:30:00Z\",\"actor\":\"operator:anna\","
            "\"tenant\":\"bremen-finanzen\",\"action\":\"tenant.suspend\","
            "\"object\":\"tenant:bremen-finanzen\","
            "\"before\":" EXAMPLE_TENANT_BREMEN("active") ","
            "\"after\":" EXAMPLE_TENANT_BREMEN("suspended") ","
            "\"hash\":\"0b6d2f9e4a1c7b3e5d8f0a2c6e9b1d4f7a3c5e8b0d2f6a9c1e4b7d3f5a8c0e26\"}],"
            "\"next_before\":1740}",
    },
    {
        .words = "dev-token",
        .handler = cmd_api,
        .summary = "Mint a sign-in token for a user of a development tenant",
        .description = "Needs 'llmoinctl tenant dev-idp TENANT --enable' first. Prints only the\n"
                       "token, so that TOKEN=$(llmoinctl dev-token hamburg --user alice) works;\n"
                       "--output json shows its issuer and expiry (RFC 3339) as well.",
        .method = "POST",
        .path = "/admin/v1/tenants/{TENANT}/dev-token",
        .view = VIEW_TOKEN,
        .args = { TENANT_PATH_ARG("TENANT") },
        .options = {
            { .name = "--user", .metavar = "USER", .kind = KIND_TEXT, .required = true,
              .dest = DEST_BODY, .field = "user",
              .help = "User name the token is for: letters, digits and . _ @ -" },
            { .name = "--groups", .metavar = "GROUP,...", .kind = KIND_LIST, .dest = DEST_BODY,
              .field = "groups", .help = "The user's groups, comma-separated" },
            { .name = "--ttl", .metavar = "DURATION", .kind = KIND_SECONDS, .min = 60,
              .max = 604800, .dest = DEST_BODY, .field = "ttl_seconds",
              .help = "How long the token is valid: 3600, 3600s, 30m or 1h; at least 60 s, "
                      "at most tenantd's dev_token_max_ttl; default: 1h" },
        },
        .example = { "dev-token", "hamburg", "--user", "alice", "--groups", "fachamt,it" },
        .example_response =
            "{\"token\":\"eyJhbGciOiJFUzI1NiIsImtpZCI6IjFmM2E5YjJjNGQ1ZTZmNzAiLCJ0eXAiOiJKV1QifQ"
            ".eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xOjg3OTAvZGV2LWlkcC9oYW1idXJnIiwic3ViIjoiYWxpY2UifQ"
            ".c2lnbmF0dXJl\",\"issuer\":\"http://127.0.0.1:8790/dev-idp/hamburg\","
            "\"expires_at\":\"2026-11-30T00:53:20Z\"}",
    },
    {
        .words = "health",
        .handler = cmd_api,
        .summary = "Check that tenantd and its database are up",
        .description = "Exits 1 when tenantd answers but reports a problem (HTTP 503, status\n"
                       "degraded), 3 when it cannot be reached: usable as a monitoring probe.",
        .method = "GET",
        .path = "/admin/v1/health",
        .view = VIEW_OBJECT,
        .example = { "health" },
        .example_response = "{\"status\":\"ok\",\"database\":\"ok\",\"snapshot_version\":12}",
    },
    {
        .words = "completion",
        .handler = cmd_completion,
        .summary = "Print a shell completion script",
        .description = "Load it in the current shell with: source <(llmoinctl completion bash)\n"
                       "or install it: llmoinctl completion bash > "
                       "/etc/bash_completion.d/llmoinctl",
        .args = { { .name = "SHELL", .kind = KIND_CHOICE, .choices = shell_choices,
                    .help = "Shell to complete for: bash" } },
        .example = { "completion", "bash" },
    },
    {
        .words = "help-markdown",
        .handler = cmd_help_markdown,
        .summary = "Print the command reference of docs/cli.md",
        .hidden = true,
        .example = { "help-markdown" },
    },
    { .words = NULL },
};

const struct ctl_param ctl_globals[CTL_GLOBAL_COUNT] = {
    [GLOBAL_SOCKET] = { .name = "--socket", .metavar = "PATH", .kind = KIND_SOCKET,
                        .help = "tenantd socket (default: $LLMOIN_SOCKET or " CTL_DEFAULT_SOCKET ")" },
    [GLOBAL_OUTPUT] = { .name = "--output", .kind = KIND_CHOICE, .choices = output_format_names,
                        .def = "table", .help = "Output format" },
    [GLOBAL_HELP] = { .name = "--help", .kind = KIND_FLAG,
                      .help = "Show help; after a command, that command's help" },
    [GLOBAL_VERSION] = { .name = "--version", .kind = KIND_FLAG,
                         .help = "Show llmoinctl's version" },
};

const struct ctl_exit_doc ctl_exit_codes[] = {
    { CTL_EXIT_OK, "success" },
    { CTL_EXIT_API, "tenantd answered with an error (its message and HTTP status are printed)" },
    { CTL_EXIT_USAGE, "usage error: invalid command line, nothing was sent" },
    { CTL_EXIT_UNREACHABLE, "tenantd unreachable: socket missing, refused, not permitted, timeout" },
    { 0, NULL },
};

static size_t count_params(const struct ctl_param *ps, size_t max)
{
    size_t n = 0;

    while (n < max && ps[n].name)
        n++;
    return n;
}

size_t command_nargs(const struct ctl_command *cmd)
{
    return count_params(cmd->args, CTL_MAX_ARGS);
}

size_t command_nopts(const struct ctl_command *cmd)
{
    return count_params(cmd->options, CTL_MAX_OPTS);
}

size_t command_nrules(const struct ctl_command *cmd)
{
    size_t n = 0;

    while (n < CTL_MAX_RULES && cmd->rules[n].kind != RULE_NONE)
        n++;
    return n;
}

size_t rule_noptions(const struct ctl_rule *rule)
{
    size_t n = 0;

    while (n < CTL_MAX_OPTS && rule->options[n])
        n++;
    return n;
}

const struct ctl_param *command_option(const struct ctl_command *cmd, const char *name)
{
    for (size_t k = 0; k < command_nopts(cmd); k++)
        if (strcmp(cmd->options[k].name, name) == 0)
            return &cmd->options[k];
    return NULL;
}

const struct ctl_rule *command_option_group(const struct ctl_command *cmd, const char *name)
{
    for (size_t k = 0; k < command_nrules(cmd); k++) {
        const struct ctl_rule *rule = &cmd->rules[k];

        if (rule->kind != RULE_EXACTLY_ONE && rule->kind != RULE_AT_MOST_ONE)
            continue;
        for (size_t i = 0; i < rule_noptions(rule); i++)
            if (strcmp(rule->options[i], name) == 0)
                return rule;
    }
    return NULL;
}

const struct ctl_command *command_find(const char *words)
{
    for (const struct ctl_command *c = ctl_commands; c->words; c++)
        if (strcmp(c->words, words) == 0)
            return c;
    return NULL;
}

bool command_is_group(const char *words)
{
    size_t n = strlen(words);

    for (const struct ctl_command *c = ctl_commands; c->words; c++)
        if (strncmp(c->words, words, n) == 0 && c->words[n] == ' ')
            return true;
    return false;
}

bool command_has_body(const struct ctl_command *cmd)
{
    return cmd->method && strcmp(cmd->method, "GET") != 0 && strcmp(cmd->method, "DELETE") != 0;
}

bool param_sends(const struct ctl_param *p, const char *name)
{
    if (p->field && p->dest != DEST_METHOD && strcmp(p->field, name) == 0)
        return true;
    for (size_t i = 0; p->also && p->also[i]; i += 2)
        if (strcmp(p->also[i], name) == 0)
            return true;
    return false;
}

const char *inv_option(const struct ctl_invocation *inv, const char *name)
{
    const struct ctl_param *p = command_option(inv->cmd, name);

    if (!p)
        return NULL;
    return inv->opts[p - inv->cmd->options] ? inv->opts[p - inv->cmd->options] : p->def;
}
