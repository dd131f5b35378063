/*
 * The command table and its handlers. Most commands are declarative: the row
 * says which HTTP request to send and how to show the answer, and cmd_api
 * does the rest. To add a command, add a row (keep the example runnable: the
 * unit tests parse it and render example_response).
 */
#include "commands.h"

#include <string.h>

#include "api.h"
#include "completion.h"
#include "markdown.h"
#include "request.h"
#include "validate.h"

static const char *const by_choices[] = { "day", "user", "model", NULL };
static const char *const shell_choices[] = { "bash", NULL };

/* Sends the row's request and renders the answer. */
static int cmd_api(const struct ctl_invocation *inv, const struct ctl_context *ctx,
                   struct ctl_error *err)
{
    struct request rq;
    struct ctl_error ignored;
    json_t *doc = NULL;
    int rc = request_build(inv, &rq, err);

    if (rc == 0)
        rc = api_call(ctx->socket, &rq, &doc, err);
    /* An error answer may still carry a document worth showing, e.g. health's
     * 503 {"status":"degraded",...}; the error stays the exit status. */
    if (doc) {
        int shown = output_render(ctx->out, ctx->format, inv->cmd->view, doc,
                                  rc ? &ignored : err);
        if (rc == 0)
            rc = shown;
    }
    json_decref(doc);
    request_free(&rq);
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

#define SLUG_HELP "Tenant slug: " SLUG_RULE

#define TENANT_PATH_ARG(NAME) \
    { .name = NAME, .kind = KIND_SLUG, .dest = DEST_PATH, .help = SLUG_HELP }

#define EXAMPLE_TENANT_HAMBURG                                                      \
    "{\"slug\":\"hamburg\",\"name\":\"Freie und Hansestadt Hamburg\","              \
    "\"status\":\"active\",\"created_at\":\"2026-11-29T22:00:00Z\","                  \
    "\"updated_at\":\"2026-11-29T22:00:00Z\"}"
#define EXAMPLE_TENANT_SACHSEN_ANHALT                                               \
    "{\"slug\":\"sachsen-anhalt\",\"name\":\"Sachsen-Anhalt\","                     \
    "\"status\":\"active\",\"created_at\":\"2026-11-29T22:10:00Z\","                  \
    "\"updated_at\":\"2026-11-29T22:10:00Z\"}"
#define EXAMPLE_TENANT_BREMEN(STATUS)                                               \
    "{\"slug\":\"bremen-finanzen\",\"name\":\"Bremen – Senatorin für Finanzen\","   \
    "\"status\":\"" STATUS "\",\"created_at\":\"2026-11-29T22:20:00Z\","              \
    "\"updated_at\":\"2026-11-29T22:30:00Z\"}"
#define EXAMPLE_KEY(ID, USER, NAME, PREFIX, REVOKED, USED)                          \
    "{\"id\":\"" ID "\",\"tenant\":\"hamburg\",\"user\":\"" USER "\",\"name\":" NAME \
    ",\"prefix\":\"" PREFIX "\",\"models\":null,\"created_at\":\"2026-11-29T22:05:00Z\","            \
    "\"expires_at\":null,\"revoked_at\":" REVOKED ",\"last_used_at\":" USED

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
        },
        .example = { "key", "create", "hamburg", "--user", "alice", "--name", "Fachverfahren X" },
        .example_response = EXAMPLE_KEY("key_0123456789abcdef", "alice", "\"Fachverfahren X\"",
                                        "lmk_AbCd", "null", "null")
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
        .words = "model add",
        .handler = cmd_api,
        .summary = "Add a model alias served by an inference pool, or change its pool",
        .description = "Clients ask for the alias in \"model\"; the gateway sends the request to\n"
                       "the nginx upstream llmoin_pool_POOL. A tenant may use every model unless\n"
                       "it has an allow-list.",
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
        .words = "usage",
        .handler = cmd_api,
        .summary = "Show a tenant's token usage by day, user or model",
        .description = "Days are calendar days in Europe/Berlin. Without --from the report starts\n"
                       "on the first of the current month, without --to it ends today.",
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
        .example = { "usage", "hamburg", "--from", "2026-11-01", "--to", "2026-11-29" },
        .example_response =
            "{\"tenant\":\"hamburg\",\"by\":\"day\",\"from\":\"2026-11-01\",\"to\":\"2026-11-29\","
            "\"rows\":[{\"key\":\"2026-11-28\",\"requests\":1200,\"estimated_requests\":0,"
            "\"prompt_tokens\":480000,\"completion_tokens\":96000,\"total_tokens\":576000},"
            "{\"key\":\"2026-11-29\",\"requests\":3,\"estimated_requests\":0,"
            "\"prompt_tokens\":30,\"completion_tokens\":120,\"total_tokens\":150}],"
            "\"totals\":{\"requests\":1203,\"estimated_requests\":0,\"prompt_tokens\":480030,"
            "\"completion_tokens\":96120,\"total_tokens\":576150}}",
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

const char *inv_option(const struct ctl_invocation *inv, const char *name)
{
    for (size_t k = 0; k < command_nopts(inv->cmd); k++)
        if (strcmp(inv->cmd->options[k].name, name) == 0)
            return inv->opts[k] ? inv->opts[k] : inv->cmd->options[k].def;
    return NULL;
}
