/*
 * Offboarding a tenant: every row that belongs to it goes (its issuers, API
 * keys, model allow-list, limits, development identity provider key, usage
 * ledger and rollups, the journal lines ingestion could not take), then the
 * tenant itself, and its quota counters in Redis; one audit row
 * tenant.offboard says what was deleted. The audit log is append-only and
 * keeps the tenant's history, this row included.
 *
 * The body must repeat the slug ({"confirm": "<slug>"}): one mistyped
 * command must not delete a state. With `redis` configured the quota store
 * must answer first: an unreachable one is 503 and nothing is deleted.
 * The counters are deleted last before the commit, so a failure of the
 * database or of Redis keeps the tenant. The snapshot is written anew by
 * the tenants trigger; the gateway forgets the tenant's keys and issuers
 * with it (within 2 s). Journal lines of the tenant that arrive afterwards
 * are kept in ingest_rejects by ingestion ("tenant N does not exist");
 * tenant ids are never used again, so they cannot be counted for another
 * tenant.
 */
#include "audit.h"
#include "handlers.h"
#include "log.h"
#include "quota_restore.h"
#include "validate.h"

#include "quota.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const field_spec_t confirm_fields[] = {
    { "confirm", JSON_STRING, false, false, 32, NULL, NULL, 0 },
    FIELD_SPEC_END
};

/* A tenant with years of usage has millions of ledger rows: more than the
 * API's usual statement timeout deletes. */
static const char long_statements_sql[] = "SET LOCAL statement_timeout = '300s'";

/*
 * Every row of the tenant but the tenant's own, counted. Journal lines in
 * ingest_rejects are found by the tenant id as the gateway writes it
 * (common/journal.h: "tenant_id":"<id>"). A table added later that
 * references tenants ON DELETE CASCADE is emptied by delete_tenant_sql
 * without being counted here.
 */
static const char delete_rows_sql[] =
    "WITH issuers AS (DELETE FROM tenant_issuers WHERE tenant_id = $1::bigint RETURNING 1),"
    " api_keys AS (DELETE FROM api_keys WHERE tenant_id = $1::bigint RETURNING 1),"
    " models AS (DELETE FROM tenant_models WHERE tenant_id = $1::bigint RETURNING 1),"
    " limits AS (DELETE FROM limits WHERE tenant_id = $1::bigint RETURNING 1),"
    " dev_idp_keys AS (DELETE FROM dev_idp_keys WHERE tenant_id = $1::bigint RETURNING 1),"
    " usage_events AS (DELETE FROM usage_events WHERE tenant_id = $1::bigint RETURNING 1),"
    " usage_daily AS (DELETE FROM usage_daily WHERE tenant_id = $1::bigint RETURNING 1),"
    " usage_monthly AS (DELETE FROM usage_monthly WHERE tenant_id = $1::bigint RETURNING 1),"
    " ingest_rejects AS (DELETE FROM ingest_rejects"
    "   WHERE strpos(line, '\"tenant_id\":\"' || $1::bigint::text || '\"') > 0"
    "   RETURNING 1)"
    " SELECT json_build_object("
    "  'issuers', (SELECT count(*) FROM issuers),"
    "  'api_keys', (SELECT count(*) FROM api_keys),"
    "  'models', (SELECT count(*) FROM models),"
    "  'limits', (SELECT count(*) FROM limits),"
    "  'dev_idp_keys', (SELECT count(*) FROM dev_idp_keys),"
    "  'usage_events', (SELECT count(*) FROM usage_events),"
    "  'usage_daily', (SELECT count(*) FROM usage_daily),"
    "  'usage_monthly', (SELECT count(*) FROM usage_monthly),"
    "  'ingest_rejects', (SELECT count(*) FROM ingest_rejects))";

static const char delete_tenant_sql[] = "DELETE FROM tenants WHERE id = $1::bigint";

/* The tenant's row first: ingestion (which locks it to insert usage rows,
 * then updates the tenant's keys) and changes to the tenant wait, rather
 * than deadlock with the deletes below. */
static const char lock_tenant_sql[] = "SELECT 1 FROM tenants WHERE id = $1::bigint FOR UPDATE";

/* Redis's SCAN batch: keys looked at per round trip. */
#define SCAN_COUNT "1000"

/* false (400 answered) unless the body's confirm repeats the slug. */
static bool
confirmed(api_request_t *request, api_response_t *response)
{
    char        message[512];
    const char *confirm;
    json_t     *body;
    bool        same;

    body = validate_body(request->body, request->body_length, confirm_fields, message,
                         sizeof(message));
    if (body == NULL) {
        api_error(response, 400, "invalid_request_error", "invalid_body", "%s", message);
        return false;
    }
    confirm = json_string_value(json_object_get(body, "confirm"));
    same = confirm != NULL && strcmp(confirm, request->params[0]) == 0;
    json_decref(body);
    if (!same) {
        api_error(response, 400, "invalid_request_error", "confirmation_required",
                  "field 'confirm' must repeat the tenant's slug, '%s', to offboard it: "
                  "every row, key and counter of the tenant is deleted", request->params[0]);
    }
    return same;
}

/* "llmoin:{t42}:*": every counter of the tenant. The prefix up to the hash
 * tag's end is taken from a key common/quota.c names, so that both agree. */
static int
counters_pattern(const char *tenant_id, char *pattern, size_t size)
{
    char  key[LLMOIN_QUOTA_KEY_MAX];
    char *end;

    if (llmoin_quota_key(key, sizeof(key), strtoll(tenant_id, NULL, 10), 'r',
                         LLMOIN_SCOPE_TENANT, "", NULL) != 0
        || (end = strstr(key, "}:")) == NULL)
    {
        return -1;
    }
    end[2] = '\0';
    return snprintf(pattern, size, "%s*", key) < (int) size ? 0 : -1;
}

/* UNLINKs the keys of one SCAN answer; adds how many went to *deleted. */
static int
unlink_keys(redisContext *redis, const redisReply *keys, long long *deleted,
            char *reason, size_t reason_size)
{
    const char **argv;
    size_t      *lengths, i;
    redisReply  *reply;
    int          rc = -1;

    if (keys->elements == 0) {
        return 0;
    }
    argv = calloc(keys->elements + 1, sizeof(*argv));
    lengths = calloc(keys->elements + 1, sizeof(*lengths));
    if (argv == NULL || lengths == NULL) {
        snprintf(reason, reason_size, "out of memory");
        free(argv);
        free(lengths);
        return -1;
    }
    argv[0] = "UNLINK";
    lengths[0] = strlen(argv[0]);
    for (i = 0; i < keys->elements; i++) {
        argv[i + 1] = keys->element[i]->str;
        lengths[i + 1] = keys->element[i]->len;
    }
    reply = redisCommandArgv(redis, (int) keys->elements + 1, argv, lengths);
    if (reply != NULL && reply->type == REDIS_REPLY_INTEGER) {
        *deleted += reply->integer;
        rc = 0;
    } else {
        snprintf(reason, reason_size, "%s", reply != NULL && reply->type == REDIS_REPLY_ERROR
                                                ? reply->str : redis->errstr);
    }
    freeReplyObject(reply);
    free(argv);
    free(lengths);
    return rc;
}

static bool
is_scan_answer(const redisReply *reply)
{
    return reply != NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2
           && reply->element[0]->type == REDIS_REPLY_STRING
           && reply->element[1]->type == REDIS_REPLY_ARRAY;
}

/* Deletes every counter of the tenant: how many, or -1 with the reason. */
static long long
delete_counters(redisContext *redis, const char *tenant_id, char *reason, size_t reason_size)
{
    char        pattern[LLMOIN_QUOTA_KEY_MAX], cursor[32] = "0";
    long long   deleted = 0;
    redisReply *reply;
    int         rc;

    if (counters_pattern(tenant_id, pattern, sizeof(pattern)) != 0) {
        snprintf(reason, reason_size, "no key pattern for tenant %s", tenant_id);
        return -1;
    }
    do {
        reply = redisCommand(redis, "SCAN %s MATCH %s COUNT " SCAN_COUNT, cursor, pattern);
        if (!is_scan_answer(reply)) {
            snprintf(reason, reason_size, "%s",
                     reply != NULL && reply->type == REDIS_REPLY_ERROR ? reply->str
                     : reply != NULL ? "unexpected answer to SCAN" : redis->errstr);
            freeReplyObject(reply);
            return -1;
        }
        snprintf(cursor, sizeof(cursor), "%s", reply->element[0]->str);
        rc = unlink_keys(redis, reply->element[1], &deleted, reason, reason_size);
        freeReplyObject(reply);
    } while (rc == 0 && strcmp(cursor, "0") != 0);
    return rc == 0 ? deleted : -1;
}

static void
quota_store_unavailable(api_response_t *response, const char *reason)
{
    log_error("event=offboard_refused reason=\"quota store: %s\"", reason);
    api_error(response, 503, "server_error", "quota_store_unavailable",
              "the quota store (Redis) cannot be reached: %s; nothing was deleted", reason);
}

/* Deletes the rows, the tenant and its counters, and records it; answers
 * 200 with the counts. tenant is the tenant's document. */
static void
offboard(api_request_t *request, api_response_t *response, const char *tenant_id,
         json_t *tenant, redisContext *redis)
{
    const char *params[1] = { tenant_id };
    char        object[64], reason[256];
    json_t     *deleted = NULL, *before = NULL;
    long long   counters = 0;
    db_error_t  error;
    bool        found;

    snprintf(object, sizeof(object), "tenant:%s", request->params[0]);
    if (api_begin(request, &error) != 0
        || db_exec(request->db, long_statements_sql, 0, NULL, &error) != 0
        || db_exec(request->db, lock_tenant_sql, 1, params, &error) != 0
        || (deleted = db_query_json(request->db, delete_rows_sql, 1, params, &found,
                                    &error)) == NULL
        || db_exec(request->db, delete_tenant_sql, 1, params, &error) != 0)
    {
        api_rollback(request);
        api_database_error(response, &error);
        json_decref(deleted);
        return;
    }
    if (redis != NULL && (counters = delete_counters(redis, tenant_id, reason,
                                                     sizeof(reason))) < 0)
    {
        api_rollback(request);
        quota_store_unavailable(response, reason);
        json_decref(deleted);
        return;
    }
    json_object_set_new(deleted, "quota_counters", redis != NULL ? json_integer(counters)
                                                                 : json_null());
    before = json_pack("{s:O,s:O}", "tenant", tenant, "deleted", deleted);
    if (audit_record(request->db, &request->caller, tenant_id, "tenant.offboard", object,
                     before, NULL, &error) != 0
        || api_commit(request, &error) != 0)
    {
        api_rollback(request);
        api_database_error(response, &error);
    } else {
        log_info("event=tenant_offboarded tenant=%s id=%s", request->params[0], tenant_id);
        api_ok(response, 200, json_pack("{s:s,s:O}", "tenant", request->params[0],
                                        "deleted", deleted));
    }
    json_decref(before);
    json_decref(deleted);
}

void
tenants_offboard(api_request_t *request, api_response_t *response)
{
    redisContext *redis = NULL;
    json_t       *tenant;
    char          tenant_id[24], reason[256];

    if (!confirmed(request, response) || tenants_find(request, response, tenant_id) != 1) {
        return;
    }
    /* The document as GET shows it, for the audit row. */
    tenants_show(request, response);
    if (response->status != 200) {
        return;
    }
    tenant = json_incref(response->body);
    if (quota_store_connect(&redis, reason, sizeof(reason)) < 0) {
        quota_store_unavailable(response, reason);
    } else {
        offboard(request, response, tenant_id, tenant, redis);
    }
    if (redis != NULL) {
        redisFree(redis);
    }
    json_decref(tenant);
}
