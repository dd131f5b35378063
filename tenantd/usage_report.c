/* Usage of one tenant over a range of Berlin calendar days, grouped by day,
 * user or model. */
#include "handlers.h"

#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char report_sql[] =
    "WITH range AS ("
    "  SELECT coalesce($2::date, date_trunc('month', now() AT TIME ZONE 'Europe/Berlin')::date) AS first_day,"
    "         coalesce($3::date, (now() AT TIME ZONE 'Europe/Berlin')::date) AS last_day),"
    " grouped AS ("
    "  SELECT CASE $4 WHEN 'day' THEN to_char(u.ts AT TIME ZONE 'Europe/Berlin', 'YYYY-MM-DD')"
    "                 WHEN 'user' THEN u.user_id ELSE u.model END AS key,"
    "         count(*) AS requests,"
    "         count(*) FILTER (WHERE u.usage_source = 'estimated') AS estimated,"
    "         sum(u.prompt_tokens) AS prompt_tokens,"
    "         sum(u.completion_tokens) AS completion_tokens"
    "    FROM usage_events u, range r"
    "   WHERE u.tenant_id = $1::bigint"
    "     AND u.ts >= r.first_day::timestamp AT TIME ZONE 'Europe/Berlin'"
    "     AND u.ts < (r.last_day + 1)::timestamp AT TIME ZONE 'Europe/Berlin'"
    "   GROUP BY 1)"
    " SELECT json_build_object("
    "  'tenant', $5::text, 'by', $4::text,"
    "  'from', (SELECT first_day FROM range)::text, 'to', (SELECT last_day FROM range)::text,"
    "  'rows', coalesce((SELECT json_agg(json_build_object('key', key,"
    "      'requests', requests, 'estimated_requests', estimated,"
    "      'prompt_tokens', prompt_tokens, 'completion_tokens', completion_tokens,"
    "      'total_tokens', prompt_tokens + completion_tokens) ORDER BY key) FROM grouped), '[]'),"
    "  'totals', (SELECT json_build_object('requests', coalesce(sum(requests), 0),"
    "      'estimated_requests', coalesce(sum(estimated), 0),"
    "      'prompt_tokens', coalesce(sum(prompt_tokens), 0),"
    "      'completion_tokens', coalesce(sum(completion_tokens), 0),"
    "      'total_tokens', coalesce(sum(prompt_tokens + completion_tokens), 0)) FROM grouped))";

static bool
is_leap_year(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/* Accepts exactly YYYY-MM-DD naming a real calendar day. */
static bool
is_calendar_date(const char *text)
{
    static const int days_in_month[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int              year, month, day, consumed = 0;

    if (strlen(text) != 10
        || sscanf(text, "%4d-%2d-%2d%n", &year, &month, &day, &consumed) != 3
        || consumed != 10 || text[4] != '-' || text[7] != '-')
    {
        return false;
    }
    if (year < 2000 || year > 2999 || month < 1 || month > 12 || day < 1) {
        return false;
    }
    return day <= days_in_month[month - 1] + (month == 2 && is_leap_year(year));
}

static bool
check_parameters(api_request_t *request, api_response_t *response,
                 const char **by, const char **from, const char **to)
{
    *by = api_query(request, "by");
    *from = api_query(request, "from");
    *to = api_query(request, "to");

    if (*by == NULL) {
        *by = "day";
    }
    if (strcmp(*by, "day") != 0 && strcmp(*by, "user") != 0 && strcmp(*by, "model") != 0) {
        api_error(response, 400, "invalid_request_error", "invalid_parameter",
                  "parameter 'by' must be day, user or model, got '%s'", *by);
        return false;
    }
    if ((*from != NULL && !is_calendar_date(*from))
        || (*to != NULL && !is_calendar_date(*to)))
    {
        api_error(response, 400, "invalid_request_error", "invalid_parameter",
                  "parameters 'from' and 'to' must be calendar days as YYYY-MM-DD");
        return false;
    }
    if (*from != NULL && *to != NULL && strcmp(*from, *to) > 0) {
        api_error(response, 400, "invalid_request_error", "invalid_parameter",
                  "'from' (%s) is after 'to' (%s)", *from, *to);
        return false;
    }
    return true;
}

void
usage_report(api_request_t *request, api_response_t *response)
{
    const char *by, *from, *to, *params[5];
    char        tenant_id[24];
    db_error_t  error;
    json_t     *report;
    bool        found;

    if (!check_parameters(request, response, &by, &from, &to)
        || tenants_find(request, response, tenant_id) != 1)
    {
        return;
    }

    params[0] = tenant_id;
    params[1] = from;
    params[2] = to;
    params[3] = by;
    params[4] = request->params[0];
    report = db_query_json(request->db, report_sql, 5, params, &found, &error);
    if (report == NULL) {
        api_database_error(response, &error);
        return;
    }
    api_ok(response, 200, report);
}
