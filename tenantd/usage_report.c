/* Usage reports, read from the rollups ingestion maintains
 * (schema/0005_usage_rollups.sql): one tenant's usage over a range of
 * Berlin calendar days, grouped by day, month, user, group, model or entry
 * function; and the operators' monthly billing report over all tenants. */
#include "handlers.h"

#include "db.h"

#include "berlin_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The counters of rollup rows (or of rows summed from them) summed, as
 * whole numbers named as in the reports. */
#define SUMS                                                                  \
    " sum(requests)::bigint AS requests,"                                     \
    " sum(estimated_requests)::bigint AS estimated_requests,"                 \
    " sum(failed_requests)::bigint AS failed_requests,"                       \
    " sum(prompt_tokens)::bigint AS prompt_tokens,"                           \
    " sum(completion_tokens)::bigint AS completion_tokens"

/* A report row's counters as JSON, from columns named as SUMS names them. */
#define COUNTERS_JSON                                                         \
    "'requests', coalesce(requests, 0),"                                      \
    " 'estimated_requests', coalesce(estimated_requests, 0),"                 \
    " 'failed_requests', coalesce(failed_requests, 0),"                       \
    " 'prompt_tokens', coalesce(prompt_tokens, 0),"                           \
    " 'completion_tokens', coalesce(completion_tokens, 0),"                   \
    " 'total_tokens', coalesce(prompt_tokens + completion_tokens, 0)"

/* The report's days; check_parameters fills in the defaults. */
#define FIRST_DAY "$2::date"
#define LAST_DAY "$3::date"

/*
 * The tenant's daily rollup rows of the range are summed per value of a
 * column (%1$s, "raw": by day the day, by group the groups as written),
 * which PostgreSQL does in parallel; then the report's rows are made of
 * those (%2$s: a row each, or by group a row per group name). The totals
 * come from the first sums, so a request of several groups counts once
 * there. $1 tenant id, $2 first day, $3 last day (NULL: the first of the
 * month, today), $4 by, $5 tenant slug.
 */
static const char tenant_report_format[] =
    "WITH raw AS ("
    "  SELECT %1$s AS raw," SUMS
    "    FROM usage_daily d"
    "   WHERE d.tenant_id = $1::bigint AND d.day >= " FIRST_DAY " AND d.day <= " LAST_DAY
    "   GROUP BY 1),"
    " keyed AS (%2$s),"
    " report_rows AS ("
    "  SELECT key, requests, estimated_requests, failed_requests, prompt_tokens,"
    "         completion_tokens, prompt_tokens + completion_tokens AS total_tokens"
    "    FROM keyed)"
    " SELECT json_build_object("
    "  'tenant', $5::text, 'by', $4::text,"
    "  'from', (" FIRST_DAY ")::text, 'to', (" LAST_DAY ")::text,"
    "  'rows', coalesce((SELECT json_agg(r ORDER BY r.key) FROM report_rows r), '[]'),"
    "  'totals', (SELECT json_build_object(" COUNTERS_JSON ") FROM"
    "    (SELECT" SUMS " FROM raw) totals))";

/* keyed: a report row per raw row, its key made of x.raw ... */
#define ONE_ROW_EACH(key)                                                     \
    "SELECT " key " AS key, requests, estimated_requests, failed_requests,"  \
    " prompt_tokens, completion_tokens FROM raw x"

/* ... or by group a row per group name, of the raw rows that name it. */
#define ROW_PER_GROUP                                                         \
    "SELECT g.name AS key," SUMS " FROM raw x"                                \
    " CROSS JOIN LATERAL llmoin_group_names(x.raw) g(name) GROUP BY 1"

/* Room in the report's SQL for the two parts a grouping fills in. */
#define GROUPING_SQL_MAX 1024
_Static_assert(sizeof(ROW_PER_GROUP) + sizeof("date_trunc('month', d.day)") < GROUPING_SQL_MAX,
               "a grouping's SQL must fit GROUPING_SQL_MAX");

/* Summing 40,000 users' rows in memory rather than in batches on disk. */
static const char report_memory_sql[] = "SET LOCAL work_mem = '64MB'";

/* What a tenant's report can be grouped by, and how. */
static const struct grouping {
    const char *by;
    const char *raw;
    const char *keyed;
} groupings[] = {
    { "day", "d.day", ONE_ROW_EACH("to_char(x.raw, 'YYYY-MM-DD')") },
    { "month", "date_trunc('month', d.day)", ONE_ROW_EACH("to_char(x.raw, 'YYYY-MM')") },
    { "user", "d.user_id", ONE_ROW_EACH("x.raw") },
    { "group", "d.groups", ROW_PER_GROUP },
    { "model", "d.model", ONE_ROW_EACH("x.raw") },
    { "function", "d.function", ONE_ROW_EACH("x.raw") },
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
    "  SELECT t.slug, t.name, m.requests, m.estimated_requests, m.failed_requests,"
    "         m.prompt_tokens, m.completion_tokens"
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

/* A report's days when the query leaves them out: from the first of this
 * month to today, in Europe/Berlin. */
typedef struct report_days {
    char from[11];
    char to[11];
} report_days_t;

static void
default_days(report_days_t *days)
{
    time_t    now = time(NULL);
    time_t    berlin = now + llmoin_berlin_utc_offset((long long) now);
    struct tm day;

    gmtime_r(&berlin, &day);
    strftime(days->to, sizeof(days->to), "%Y-%m-%d", &day);
    strftime(days->from, sizeof(days->from), "%Y-%m-01", &day);
}

static bool
check_parameters(api_request_t *request, api_response_t *response,
                 const struct grouping **grouping, const char **from, const char **to,
                 report_days_t *defaults)
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
    default_days(defaults);
    *from = *from != NULL ? *from : defaults->from;
    *to = *to != NULL ? *to : defaults->to;
    if (strcmp(*from, *to) > 0) {
        api_error(response, 400, "invalid_request_error", "invalid_parameter",
                  "'from' (%s) is after 'to' (%s)", *from, *to);
        return false;
    }
    return true;
}

/* Answers 200 with the report sql makes of params, or the database's error.
 * The JSON text goes out as PostgreSQL made it: a month of 40,000 users is
 * megabytes, not worth reading into objects and writing again. */
static void
answer_report(api_request_t *request, api_response_t *response, const char *sql,
              int param_count, const char *const *params)
{
    db_error_t  error;
    PGresult   *result;
    char       *report;

    result = db_exec(request->db, report_memory_sql, 0, NULL, &error) == 0
             ? db_query(request->db, sql, param_count, params, &error)
             : NULL;
    if (result == NULL) {
        api_database_error(response, &error);
        return;
    }
    report = strdup(PQgetvalue(result, 0, 0));
    PQclear(result);
    if (report == NULL) {
        api_error(response, 500, "server_error", "database_error",
                  "out of memory for the report");
        return;
    }
    api_raw(response, 200, "application/json", report, strlen(report));
}

void
usage_report(api_request_t *request, api_response_t *response)
{
    const struct grouping *grouping;
    const char            *from, *to, *params[5];
    char                   tenant_id[24], sql[sizeof(tenant_report_format) + GROUPING_SQL_MAX];
    report_days_t          defaults;

    if (!check_parameters(request, response, &grouping, &from, &to, &defaults)
        || tenants_find(request, response, tenant_id) != 1)
    {
        return;
    }
    snprintf(sql, sizeof(sql), tenant_report_format, grouping->raw, grouping->keyed);
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
