#include "verify.h"

#include <curl/curl.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "client.h"
#include "output.h"
#include "request.h"
#include "text.h"

/* ---- the two sides ---------------------------------------------------------- */

/* obj[name] as a count >= 0; absent gives *value = -1 unless required. */
static int read_count(const json_t *obj, const char *name, bool required, json_int_t *value,
                      const char *what, struct ctl_error *err)
{
    const json_t *v = json_object_get(obj, name);

    *value = -1;
    if (!v && !required)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return ctl_fail(err, CTL_EXIT_API, "unexpected answer from %s: no count \"%s\"", what,
                        name);
    *value = json_integer_value(v);
    return 0;
}

int verify_ledger_counts(const json_t *report, struct verify_counts *out, struct ctl_error *err)
{
    static const char what[] = "tenantd";
    const json_t *totals = json_object_get(report, "totals");
    int rc;

    if (!json_is_object(totals))
        return ctl_fail(err, CTL_EXIT_API,
                        "unexpected answer from tenantd: no \"totals\" in the usage report");
    if ((rc = read_count(totals, "requests", true, &out->requests, what, err)) ||
        (rc = read_count(totals, "prompt_tokens", true, &out->prompt_tokens, what, err)) ||
        (rc = read_count(totals, "completion_tokens", true, &out->completion_tokens, what, err)) ||
        (rc = read_count(totals, "estimated_requests", false, &out->estimated, what, err)))
        return rc;
    return read_count(totals, "failed_requests", false, &out->failed, what, err);
}

int verify_source_counts(const json_t *stats, const char *tenant, struct verify_counts *out,
                         struct ctl_error *err)
{
    static const char what[] = VERIFY_SOURCE_NAME;
    const json_t *tenants = json_object_get(stats, "tenants"), *counters;
    int rc;

    if (!json_is_object(tenants))
        return ctl_fail(err, CTL_EXIT_API, "unexpected answer from " VERIFY_SOURCE_NAME
                        ": no \"tenants\" object; is --against infer-sim?");
    counters = json_object_get(tenants, tenant);
    if (!counters) {
        *out = (struct verify_counts){ 0 };
        return 0;
    }
    if ((rc = read_count(counters, "requests", true, &out->requests, what, err)) ||
        (rc = read_count(counters, "prompt_tokens", true, &out->prompt_tokens, what, err)) ||
        (rc = read_count(counters, "completion_tokens", true, &out->completion_tokens, what,
                         err)) ||
        (rc = read_count(counters, "cut", true, &out->estimated, what, err)))
        return rc;
    return read_count(counters, "failed", true, &out->failed, what, err);
}

bool verify_equal(const struct verify_counts *ledger, const struct verify_counts *source)
{
    return ledger->requests == source->requests &&
           ledger->prompt_tokens == source->prompt_tokens &&
           ledger->completion_tokens == source->completion_tokens;
}

void verify_stats_url(struct sbuf *sb, const char *against)
{
    size_t n = strlen(against), tail = strlen(VERIFY_STATS_PATH);

    if (n >= tail && strcmp(against + n - tail, VERIFY_STATS_PATH) == 0) {
        sbuf_add(sb, against);
        return;
    }
    while (n > 0 && against[n - 1] == '/')
        n--;
    sbuf_addn(sb, against, n);
    sbuf_add(sb, VERIFY_STATS_PATH);
}

/* ---- the result --------------------------------------------------------------- */

static int set_count(json_t *row, const char *name, json_int_t value)
{
    return value < 0 ? 0 : json_object_set_new(row, name, json_integer(value));
}

/* A row as the usage report has them; counts a side does not tell are left out. */
static json_t *counts_row(const char *key, const struct verify_counts *c)
{
    json_t *row = json_object();

    if (!row || json_object_set_new(row, "key", json_string(key)) ||
        set_count(row, "requests", c->requests) ||
        set_count(row, "estimated_requests", c->estimated) ||
        set_count(row, "failed_requests", c->failed) ||
        set_count(row, "prompt_tokens", c->prompt_tokens) ||
        set_count(row, "completion_tokens", c->completion_tokens) ||
        set_count(row, "total_tokens", c->prompt_tokens + c->completion_tokens)) {
        json_decref(row);
        return NULL;
    }
    return row;
}

/* ledger minus source, signed; estimated and failed are for reading, not compared. */
static json_t *difference_row(const struct verify_counts *ledger,
                              const struct verify_counts *source)
{
    json_t *row = json_object();
    json_int_t prompt = ledger->prompt_tokens - source->prompt_tokens;
    json_int_t completion = ledger->completion_tokens - source->completion_tokens;

    if (!row || json_object_set_new(row, "key", json_string("difference")) ||
        json_object_set_new(row, "requests", json_integer(ledger->requests - source->requests)) ||
        json_object_set_new(row, "prompt_tokens", json_integer(prompt)) ||
        json_object_set_new(row, "completion_tokens", json_integer(completion)) ||
        json_object_set_new(row, "total_tokens", json_integer(prompt + completion))) {
        json_decref(row);
        return NULL;
    }
    return row;
}

json_t *verify_document(const char *tenant, const json_t *report, const char *against,
                        const struct verify_counts *ledger, const struct verify_counts *source)
{
    json_t *rows = json_array();
    json_t *doc = json_pack("{s:s, s:O?, s:O?, s:s, s:b, s:s, s:o}", "tenant", tenant,
                            "from", json_object_get(report, "from"),
                            "to", json_object_get(report, "to"), "against", against,
                            "equal", verify_equal(ledger, source), "by", "source", "rows", rows);

    /* "o" took rows, also when packing failed */
    if (!doc || json_array_append_new(rows, counts_row("ledger", ledger)) ||
        json_array_append_new(rows, counts_row(VERIFY_SOURCE_NAME, source)) ||
        json_array_append_new(rows, difference_row(ledger, source))) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* ---- fetching ------------------------------------------------------------------- */

static int fetch_report(const struct ctl_invocation *inv, const struct ctl_context *ctx,
                        json_t **report, struct ctl_error *err)
{
    struct request rq;
    int rc = request_build(inv, time(NULL), &rq, err);

    if (rc == 0)
        rc = api_call(ctx->socket, &rq, report, err);
    request_free(&rq);
    if (rc == 0 && !*report)
        rc = ctl_fail(err, CTL_EXIT_API, "tenantd answered without a usage report");
    return rc;
}

static size_t collect(char *data, size_t size, size_t count, void *arg)
{
    struct sbuf *body = arg;

    if (body->len + size * count > CLIENT_MAX_BODY)
        return 0; /* aborts the transfer */
    sbuf_addn(body, data, size * count);
    return body->failed ? 0 : size * count;
}

/* GET url into body. reason gets curl's own words for a failure. */
static CURLcode http_get(const char *url, struct sbuf *body, long *status,
                         char reason[CURL_ERROR_SIZE])
{
    CURL *curl = curl_easy_init();
    CURLcode rc = CURLE_FAILED_INIT;

    if (curl &&
        curl_easy_setopt(curl, CURLOPT_URL, url) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, reason) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, body) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, CLIENT_CONNECT_TIMEOUT_MS) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, CLIENT_TIMEOUT_MS) == CURLE_OK)
        rc = curl_easy_perform(curl);
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(curl);
    return rc;
}

/* The stats at url: a 2xx JSON answer. Not reached is CTL_EXIT_UNREACHABLE,
 * as for tenantd. */
static int fetch_stats(const char *url, json_t **stats, struct ctl_error *err)
{
    char reason[CURL_ERROR_SIZE] = "";
    struct sbuf body = SBUF_INIT, shown = SBUF_INIT;
    json_error_t jerr;
    long status = 0;
    CURLcode rc = http_get(url, &body, &status, reason);
    int result = 0;

    text_sanitize(&shown, url);
    *stats = NULL;
    if (rc == CURLE_WRITE_ERROR)
        result = ctl_fail(err, CTL_EXIT_API, "the answer of %s is larger than %u bytes",
                          sbuf_str(&shown), CLIENT_MAX_BODY);
    else if (rc != CURLE_OK)
        result = ctl_fail(err, CTL_EXIT_UNREACHABLE,
                          "cannot reach " VERIFY_SOURCE_NAME " at %s: %s", sbuf_str(&shown),
                          reason[0] ? reason : curl_easy_strerror(rc));
    else if (status < 200 || status > 299)
        result = ctl_fail(err, CTL_EXIT_API, "%s answered HTTP %ld", sbuf_str(&shown), status);
    else if (!(*stats = json_loadb(sbuf_str(&body), body.len, 0, &jerr)))
        result = ctl_fail(err, CTL_EXIT_API, "%s answered with invalid JSON: %s (line %d)",
                          sbuf_str(&shown), jerr.text, jerr.line);
    sbuf_free(&body);
    sbuf_free(&shown);
    return result;
}

/* ---- the command ----------------------------------------------------------------- */

static int differ(const char *tenant, const struct verify_counts *ledger,
                  const struct verify_counts *source, struct ctl_error *err)
{
    return ctl_fail(err, CTL_EXIT_API,
                    "the ledger of %s differs from " VERIFY_SOURCE_NAME " (ledger minus "
                    VERIFY_SOURCE_NAME "): requests %lld, prompt tokens %lld, "
                    "completion tokens %lld",
                    tenant, (long long)(ledger->requests - source->requests),
                    (long long)(ledger->prompt_tokens - source->prompt_tokens),
                    (long long)(ledger->completion_tokens - source->completion_tokens));
}

int cmd_usage_verify(const struct ctl_invocation *inv, const struct ctl_context *ctx,
                     struct ctl_error *err)
{
    const char *tenant = inv->args[0];
    struct verify_counts ledger, source;
    struct sbuf url = SBUF_INIT;
    json_t *report = NULL, *stats = NULL, *doc = NULL;
    int rc = fetch_report(inv, ctx, &report, err);

    verify_stats_url(&url, inv_option(inv, "--against"));
    if (rc == 0)
        rc = verify_ledger_counts(report, &ledger, err);
    if (rc == 0 && url.failed)
        rc = ctl_fail(err, CTL_EXIT_API, "out of memory");
    if (rc == 0)
        rc = fetch_stats(sbuf_str(&url), &stats, err);
    if (rc == 0)
        rc = verify_source_counts(stats, tenant, &source, err);
    if (rc == 0 && !(doc = verify_document(tenant, report, sbuf_str(&url), &ledger, &source)))
        rc = ctl_fail(err, CTL_EXIT_API, "out of memory");
    if (rc == 0)
        rc = output_render(ctx->out, ctx->format, VIEW_USAGE, doc, err);
    if (rc == 0 && !verify_equal(&ledger, &source))
        rc = differ(tenant, &ledger, &source, err);
    json_decref(doc);
    json_decref(stats);
    json_decref(report);
    sbuf_free(&url);
    return rc;
}
