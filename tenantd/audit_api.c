/*
 * Reading and verifying the audit log (schema/0001_init.sql,
 * schema/0007_audit_chain.sql).
 *
 * Lists are newest first, a page of `limit` rows (1 to 1000, default 100)
 * before the seq `before`; a page that is not the last names the `before`
 * of the next one (next_before). Row-level security shows a tenant admin
 * only its own tenant's rows, whatever the query says.
 *
 * Verifying walks the whole chain in one statement, in seq order, with the
 * hash functions the chain's trigger uses, so that a row is checked exactly
 * as it was written. It names the first problem: a row whose content no
 * longer matches its hash, missing seqs (in the middle, or at the end, which
 * only the head can tell), or a broken link between two rows.
 */
#include "handlers.h"

#include "db.h"
#include "validate.h"

#include <stdio.h>
#include <string.h>

#define DEFAULT_LIMIT "100"

/* $1 tenant id, $2 tenant slug (NULL: any), $3 before seq (NULL: from the
 * newest), $4 limit. One row more than the limit is read to know whether
 * there is a next page. */
static const char list_sql[] =
    "WITH page AS ("
    "  SELECT a.seq, json_build_object('seq', a.seq, 'at', llmoin_time(a.at),"
    "         'actor', a.actor, 'tenant', a.tenant, 'action', a.action,"
    "         'object', a.object, 'before', a.before, 'after', a.after,"
    "         'hash', a.hash) AS doc"
    "    FROM audit_log a"
    "   WHERE ($1::bigint IS NULL OR a.tenant_id = $1::bigint)"
    "     AND ($2::text IS NULL OR a.tenant = $2::text)"
    "     AND ($3::bigint IS NULL OR a.seq < $3::bigint)"
    "   ORDER BY a.seq DESC LIMIT $4::int + 1),"
    " shown AS (SELECT seq, doc FROM page ORDER BY seq DESC LIMIT $4::int)"
    " SELECT json_build_object("
    "  'data', coalesce((SELECT json_agg(doc ORDER BY seq DESC) FROM shown), '[]'),"
    "  'next_before', CASE WHEN (SELECT count(*) FROM page) > $4::int"
    "                      THEN (SELECT min(seq) FROM shown) END)";

/*
 * The chain, row by row in seq order: each row's hash recomputed (0001's
 * formula for the rows written before 0007), its seq following the one
 * before, its prev_hash that row's hash (rows of 0001 may share their
 * predecessor: 0001's trigger could fork the chain). Then the head: it
 * names the newest row, so rows missing at the end show too. The first
 * problem by seq is the answer's.
 */
static const char verify_sql[] =
    "WITH head AS ("
    "  SELECT h.seq, h.hash, h.legacy_rows"
    "    FROM (SELECT) one LEFT JOIN audit_head h ON true),"
    " chain AS ("
    "  SELECT a.seq, a.hash, a.prev_hash, a.seq <= h.legacy_rows AS legacy,"
    "         CASE WHEN a.seq <= h.legacy_rows THEN llmoin_audit_hash_0001(a)"
    "              ELSE llmoin_audit_hash(a) END AS computed,"
    "         coalesce(lag(a.seq) OVER w, 0) AS previous_seq,"
    "         coalesce(lag(a.hash) OVER w, '') AS previous_hash"
    "    FROM audit_log a CROSS JOIN head h"
    "  WINDOW w AS (ORDER BY a.seq)),"
    " checked AS ("
    "  SELECT c.*, CASE"
    "    WHEN c.seq > c.previous_seq + 1 THEN 'removed'"
    "    WHEN c.seq <= c.previous_seq THEN 'duplicated'"
    "    WHEN c.computed IS DISTINCT FROM c.hash THEN 'changed'"
    "    WHEN c.prev_hash IS DISTINCT FROM c.previous_hash"
    "         AND NOT (c.legacy AND EXISTS (SELECT FROM audit_log b"
    "                                        WHERE b.seq < c.seq AND b.hash = c.prev_hash))"
    "      THEN 'unlinked' END AS reason"
    "    FROM chain c),"
    " row_problem AS ("
    "  SELECT CASE WHEN reason = 'removed' THEN previous_seq + 1 ELSE seq END AS seq, reason,"
    "   CASE reason"
    "    WHEN 'removed' THEN CASE WHEN seq = previous_seq + 2"
    "      THEN format('row %s is missing: it was removed', previous_seq + 1)"
    "      ELSE format('rows %s to %s are missing: they were removed', previous_seq + 1, seq - 1)"
    "      END"
    "    WHEN 'duplicated' THEN format('seq %s appears more than once: a row was written"
    " past the chain', seq)"
    "    WHEN 'changed' THEN format('row %s does not match its hash: it was changed after"
    " it was written', seq)"
    "    ELSE format('row %s does not link to row %s (its prev_hash is not that row''s"
    " hash): one of the two was rewritten together with its hash', seq, previous_seq)"
    "   END AS message, 1 AS rank"
    "    FROM checked WHERE reason IS NOT NULL ORDER BY seq LIMIT 1),"
    " newest AS (SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1),"
    " tail AS ("
    "  SELECT coalesce(n.seq, 0) AS newest_seq, n.hash AS newest_hash,"
    "         h.seq AS head_seq, h.hash AS head_hash"
    "    FROM head h LEFT JOIN newest n ON true),"
    " tail_problem AS ("
    "  SELECT CASE reason WHEN 'removed' THEN newest_seq + 1"
    "                     WHEN 'inserted' THEN head_seq + 1 ELSE newest_seq END AS seq,"
    "         reason, CASE reason"
    "    WHEN 'head' THEN 'the chain''s head (table audit_head) is missing: rows removed"
    " at the end cannot be told'"
    "    WHEN 'removed' THEN CASE WHEN head_seq = newest_seq + 1"
    "      THEN format('row %s is missing: it was the newest row (the chain''s head is at"
    " row %s)', head_seq, head_seq)"
    "      ELSE format('rows %s to %s are missing: they were the newest rows (the chain''s"
    " head is at row %s)', newest_seq + 1, head_seq, head_seq) END"
    "    WHEN 'inserted' THEN format('row %s is past the chain''s head (row %s): it was not"
    " written through the chain', head_seq + 1, head_seq)"
    "    ELSE format('row %s is the newest row, but the chain''s head holds another hash:"
    " the row was rewritten together with its hash', newest_seq) END AS message,"
    "         CASE reason WHEN 'head' THEN 0 ELSE 2 END AS rank"
    "    FROM (SELECT *, CASE WHEN head_seq IS NULL THEN 'head'"
    "                         WHEN head_seq > newest_seq THEN 'removed'"
    "                         WHEN head_seq < newest_seq THEN 'inserted'"
    "                         WHEN head_hash IS DISTINCT FROM coalesce(newest_hash, '')"
    "                           THEN 'unlinked' END AS reason"
    "            FROM tail) t"
    "   WHERE reason IS NOT NULL),"
    " problem AS ("
    "  SELECT * FROM (SELECT seq, reason, message, rank FROM row_problem"
    "                 UNION ALL SELECT seq, reason, message, rank FROM tail_problem) p"
    "   ORDER BY rank LIMIT 1)"
    " SELECT CASE WHEN p.reason IS NULL"
    "   THEN json_build_object('ok', true, 'rows', r.rows, 'head', h.hash)"
    "   ELSE json_build_object('ok', false, 'rows', r.rows, 'problem',"
    "     json_build_object('seq', p.seq, 'reason', p.reason, 'message', p.message)) END"
    "  FROM (SELECT count(*) AS rows FROM audit_log) r CROSS JOIN head h"
    "  LEFT JOIN problem p ON true";

/* The tenant filter of the platform's log: a slug, as in paths. */
static const field_spec_t tenant_filter = {
    "tenant", JSON_STRING, false, false, 32, "^[a-z][a-z0-9-]{1,31}$",
    "a tenant slug: 2 to 32 lowercase letters, digits or dashes, starting with a letter", 0
};

/* Query parameter `name`, if given, is a whole number from 1 to max: false
 * (400 answered) otherwise. */
static bool
check_number(api_request_t *request, api_response_t *response, const char *name,
             long long max, const char *meaning, const char **value)
{
    const char *text = api_query(request, name);
    long long   number = 0;
    bool        fits;
    size_t      i;

    if (text == NULL) {
        return true;
    }
    fits = text[0] != '\0';
    for (i = 0; fits && text[i] != '\0'; i++) {
        fits = text[i] >= '0' && text[i] <= '9' && number <= (max - (text[i] - '0')) / 10;
        number = fits ? number * 10 + (text[i] - '0') : number;
    }
    if (!fits || number < 1) {
        api_error(response, 400, "invalid_request_error", "invalid_parameter",
                  "parameter '%s' must be %s, got '%s'", name, meaning, text);
        return false;
    }
    *value = text;
    return true;
}

/* Reads limit and before into list_sql's $4 and $3: false (400 answered)
 * when one is not what it must be. */
static bool
read_page(api_request_t *request, api_response_t *response, const char *params[4])
{
    params[2] = NULL;
    params[3] = DEFAULT_LIMIT;
    return check_number(request, response, "limit", 1000, "a whole number from 1 to 1000",
                        &params[3])
           && check_number(request, response, "before", 999999999999999999LL,
                           "a seq, a whole number from 1 (the next_before of the page "
                           "before)", &params[2]);
}

void
audit_list(api_request_t *request, api_response_t *response)
{
    const char *params[4] = { NULL, api_query(request, "tenant") };
    char        message[300];

    if (params[1] != NULL
        && !validate_string(&tenant_filter, params[1], message, sizeof(message)))
    {
        api_error(response, 400, "invalid_request_error", "invalid_parameter",
                  "parameter 'tenant' must be %s, got '%s'", tenant_filter.pattern_help,
                  params[1]);
        return;
    }
    if (read_page(request, response, params)) {
        api_answer_query(request, response, 200, list_sql, 4, params);
    }
}

void
audit_tenant_list(api_request_t *request, api_response_t *response)
{
    char        tenant_id[24];
    const char *params[4] = { tenant_id, NULL };

    if (read_page(request, response, params)
        && tenants_find(request, response, tenant_id) == 1)
    {
        api_answer_query(request, response, 200, list_sql, 4, params);
    }
}

void
audit_verify(api_request_t *request, api_response_t *response)
{
    api_answer_query(request, response, 200, verify_sql, 0, NULL);
}
