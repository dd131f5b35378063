/* Usage reports, read from the rollups ingestion maintains
 * (schema/0005_usage_rollups.sql): one tenant's usage over a range of
 * Berlin calendar days, grouped by day, month, user, group, model or entry
 * function; and the operators' monthly billing report over all tenants. */
#include "handlers.h"

#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The counters of a rollup row summed, as the columns of a report row. */
#define SUMS                                                                  \
    " sum(requests) AS requests, sum(estimated_requests) AS estimated,"       \
    " sum(failed_requests) AS failed, sum(prompt_tokens) AS prompt_tokens,"   \
    " sum(completion_tokens) AS completion_tokens"

/* A report row's counters as JSON, from columns named as SUMS names them. */
#define COUNTERS_JSON                                                         \
    "'requests', coalesce(requests, 0),"                                      \
    " 'estimated_requests', coalesce(estimated, 0),"                          \
    " 'failed_requests', coalesce(failed, 0),"                                \
    " 'prompt_tokens', coalesce(prompt_tokens, 0),"                           \
    " 'completion_tokens', coalesce(completion_tokens, 0),"                   \
    " 'total_tokens', coalesce(prompt_tokens + completion_tokens, 0)"

/*
 * %1$s: the key of a row (an expression of d, or g.name); %2$s: what else
 * the rows are read from; %3$s: where the totals are summed from: the rows
 * themselves, or (by group, where a row counts for each of its groups)
 * the rollup again. $1 tenant id, $2 first day, $3 last day, $4 by,
 * $5 tenant slug.
 */
static const char tenant_report_format[] =
    "WITH range AS ("
    "  SELECT coalesce($2::date, date_trunc('month', now() AT TIME ZONE 'Europe/Berlin')::date) AS first_day,"
    "         coalesce($3::date, (now() AT TIME ZONE 'Europe/Berlin')::date) AS last_day),"
    " grouped AS ("
    "  SELECT %1$s AS key," SUMS
    "    FROM range r, usage_daily d %2$s"
    "   WHERE d.tenant_id = $1::bigint AND d.day BETWEEN r.first_day AND r.last_day"
    "   GROUP BY 1),"
    " everything AS ("
    "  SELECT" SUMS
    "    FROM range r, usage_daily d"
    "   WHERE d.tenant_id = $1::bigint AND d.day BETWEEN r.first_day AND r.last_day),"
    " totals AS (SELECT sum(requests) AS requests, sum(estimated) AS estimated,"
    "    sum(failed) AS failed, sum(prompt_tokens) AS prompt_tokens,"
    "    sum(completion_tokens) AS completion_tokens FROM %3$s)"
    " SELECT json_build_object("
    "  'tenant', $5::text, 'by', $4::text,"
    "  'from', (SELECT first_day FROM range)::text, 'to', (SELECT last_day FROM range)::text,"
    "  'rows', coalesce((SELECT json_agg(json_build_object('key', key, " COUNTERS_JSON ")"
    "      ORDER BY key) FROM grouped), '[]'),"
    "  'totals', (SELECT json_build_object(" COUNTERS_JSON ") FROM totals))";

/* What a tenant's report can be grouped by, and how. */
static const struct grouping {
    const char *by;
    const char *key;
    const char *join;
    const char *totals;
} groupings[] = {
    { "day", "to_char(d.day, 'YYYY-MM-DD')", "", "grouped" },
    { "month", "to_char(d.day, 'YYYY-MM')", "", "grouped" },
    { "user", "d.user_id", "", "grouped" },
    { "group", "g.name", "CROSS JOIN LATERAL llmoin_group_names(d.groups) g(name)",
      "everything" },
    { "model", "d.model", "", "grouped" },
    { "function", "d.function", "", "grouped" },
};

#define GROUPING_COUNT (sizeof(groupings) / sizeof(groupings[0]))

/*
 * Every tenant's usage in the Berlin month $1 (its first day): per tenant
 * (every tenant, zero without usage) and per tenant and model, from the
 * monthly rollup alone.
 */
static const char monthly_report_sql[] =
    "WITH month AS ("
    "  SELECT * FROM usage_monthly WHERE month = $1::date),"
    " per_tenant AS ("
    "  SELECT t.slug, t.name, m.requests, m.estimated, m.failed, m.prompt_tokens,"
    "         m.completion_tokens"
    "    FROM tenants t LEFT JOIN (SELECT tenant_id," SUMS " FROM month GROUP BY 1) m"
    "      ON m.tenant_id = t.id),"
    " per_model AS ("
    "  SELECT t.slug, m.model," SUMS
    "    FROM month m JOIN tenants t ON t.id = m.tenant_id GROUP BY 1, 2),"
    " totals AS ("
    "  SELECT" SUMS " FROM month)"
    " SELECT json_build_object("
    "  'month', to_char($1::date, 'YYYY-MM'),"
    "  'tenants', coalesce((SELECT json_agg(json_build_object('tenant', slug, 'name', name, "
    COUNTERS_JSON ") ORDER BY slug) FROM per_tenant), '[]'),"
    "  'models', coalesce((SELECT json_agg(json_build_object('tenant', slug, 'model', model, "
    COUNTERS_JSON ") ORDER BY slug, model) FROM per_model), '[]'),"
    "  'totals', (SELECT json_build_object(" COUNTERS_JSON ") FROM totals))";

static bool
is_leap_year(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/* Reads exactly YYYY-MM (length 7) or YYYY-MM-DD (length 10) of a year
 * 2000..2999: false unless it names a real month, or day. */
static bool
read_calendar(const char *text, size_t length, int *year, int *month, int *day)
{
    static const int days_in_month[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int              consumed = 0;

    *day = 1;
    if (strlen(text) != length || text[4] != '-'
        || (length == 10 && text[7] != '-')
        || strspn(text, "0123456789-") != length)
    {
        return false;
    }
    if (length == 7
        ? sscanf(text, "%4d-%2d%n", year, month, &consumed) != 2
        : sscanf(text, "%4d-%2d-%2d%n", year, month, day, &consumed) != 3)
    {
        return false;
    }
    if (consumed != (int) length || *year < 2000 || *year > 2999 || *month < 1
        || *month > 12 || *day < 1)
    {
        return false;
    }
    return *day <= days_in_month[*month - 1] + (*month == 2 && is_leap_year(*year));
}

static bool
is_calendar_date(const char *text)
{
    int year, month, day;

    return read_calendar(text, 10, &year, &month, &day);
}

static const struct grouping *
find_grouping(const char *by)
{
    size_t i;

    for (i = 0; i < GROUPING_COUNT; i++) {
        if (strcmp(groupings[i].by, by) == 0) {
            return &groupings[i];
        }
    }
    return NULL;
}

/* A day parameter, if given, is a real calendar day. */
static bool
check_day(api_response_t *response, const char *name, const char *value)
{
    if (value != NULL && !is_calendar_date(value)) {
        api_error(response, 400, "invalid_request_error", "invalid_parameter",
                  "parameter '%s' must be a calendar day as YYYY-MM-DD "
                  "(2000-01-01 to 2999-12-31), got '%s'", name, value);
        return false;
    }
    return true;
}

static bool
check_parameters(api_request_t *request, api_response_t *response,
                 const struct grouping **grouping, const char **from, const char **to)
{
    const char *by = api_query(request, "by");

    *from = api_query(request, "from");
    *to = api_query(request, "to");
    *grouping = find_grouping(by != NULL ? by : "day");
    if (*grouping == NULL) {
        api_error(response, 400, "invalid_request_error", "invalid_parameter",
                  "parameter 'by' must be day, month, user, group, model or function, "
                  "got '%s'", by);
        return false;
    }
    if (!check_day(response, "from", *from) || !check_day(response, "to", *to)) {
        return false;
    }
    if (*from != NULL && *to != NULL && strcmp(*from, *to) > 0) {
        api_error(response, 400, "invalid_request_error", "invalid_parameter",
                  "'from' (%s) is after 'to' (%s)", *from, *to);
        return false;
    }
    return true;
}

/* Answers 200 with the report sql makes of params, or the database's error. */
static void
answer_report(api_request_t *request, api_response_t *response, const char *sql,
              int param_count, const char *const *params)
{
    db_error_t error;
    json_t    *report;
    bool       found;

    report = db_query_json(request->db, sql, param_count, params, &found, &error);
    if (report == NULL) {
        api_database_error(response, &error);
        return;
    }
    api_ok(response, 200, report);
}

void
usage_report(api_request_t *request, api_response_t *response)
{
    const struct grouping *grouping;
    const char            *from, *to, *params[5];
    char                   tenant_id[24], sql[sizeof(tenant_report_format) + 256];

    if (!check_parameters(request, response, &grouping, &from, &to)
        || tenants_find(request, response, tenant_id) != 1)
    {
        return;
    }
    snprintf(sql, sizeof(sql), tenant_report_format, grouping->key, grouping->join,
             grouping->totals);
    params[0] = tenant_id;
    params[1] = from;
    params[2] = to;
    params[3] = grouping->by;
    params[4] = request->params[0];
    answer_report(request, response, sql, 5, params);
}

void
usage_report_monthly(api_request_t *request, api_response_t *response)
{
    const char *month = api_query(request, "month");
    char        first_day[16];
    const char *params[1] = { first_day };
    int         year, month_number, day;

    if (month == NULL) {
        api_error(response, 400, "invalid_request_error", "invalid_parameter",
                  "parameter 'month' is missing: give the calendar month as YYYY-MM");
        return;
    }
    if (!read_calendar(month, 7, &year, &month_number, &day)) {
        api_error(response, 400, "invalid_request_error", "invalid_parameter",
                  "parameter 'month' must be a calendar month as YYYY-MM "
                  "(2000-01 to 2999-12), got '%s'", month);
        return;
    }
    snprintf(first_day, sizeof(first_day), "%04d-%02d-01", year, month_number);
    answer_report(request, response, monthly_report_sql, 1, params);
}
