/*
 * Quotas: before a request goes upstream, one Redis script reserves it and
 * its estimated tokens against every limit that applies (common/quota.h,
 * common/quota_script.h) or names the limit that was hit; when the answer
 * is complete (or the request ends otherwise, in the log phase) the real
 * usage replaces the estimate and the request's in-flight slot is freed.
 *
 *   estimate   = request body bytes / 4 (common/token_estimate.h)
 *                + max_tokens (the tenant's cap when the request had none)
 *   refused    -> 429 in OpenAI's shape, Retry-After, x-ratelimit-* headers
 *   store down -> the tenant's fail mode: closed -> 503 (the default),
 *                 open -> admitted, the usage record marked "unchecked"
 *
 * The reply comes on nginx's event loop. A request may end before it (the
 * Redis timeout fired): the call then belongs to hiredis alone, and its
 * reply touches nothing but the call, which it frees.
 */

#include "ngx_http_llmoin_module.h"

#include "berlin_time.h"
#include "quota_script.h"
#include "token_estimate.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>


#define NGX_HTTP_LLMOIN_ARGS_HEAD      2      /* EVALSHA, sha */
/* the most arguments a script gets (settle: 7 besides keys and flags) */
#define NGX_HTTP_LLMOIN_ARGS_MAX       (NGX_HTTP_LLMOIN_ARGS_HEAD + 1      \
    + LLMOIN_QUOTA_MAX_ENTITIES * LLMOIN_QUOTA_KEYS_PER_ENTITY + 7       \
    + LLMOIN_QUOTA_MAX_ENTITIES * 4)
#define NGX_HTTP_LLMOIN_NUMBER_MAX     24

/* the admit reply's generation (quota_script.h), and where the settle
 * arguments carry it: after the keys, second, id, delta, count, real */
#define NGX_HTTP_LLMOIN_REPLY_GENERATION  9
#define ngx_http_llmoin_settle_generation_arg(n)                              \
    (NGX_HTTP_LLMOIN_ARGS_HEAD + 1 + (int) (n) * LLMOIN_QUOTA_KEYS_PER_ENTITY \
     + 5)


typedef struct {
    int           argc;
    const char   *argv[NGX_HTTP_LLMOIN_ARGS_MAX];
    size_t        argvlen[NGX_HTTP_LLMOIN_ARGS_MAX];
} ngx_http_llmoin_args_t;


struct ngx_http_llmoin_quota_call_s {
    ngx_http_request_t     *request;      /* NULL once the request ended */
    ngx_event_t             timer;
    ngx_uint_t              in_redis;     /* hiredis still holds it */
    ngx_uint_t              answered;     /* reply or timeout handled */
    void                  (*handle)(ngx_http_request_t *r, redisReply *reply);

    /* an admission nobody waits for any more: what takes back what it
     * reserved, should Redis still admit it (ngx_http_llmoin_quota_undo) */
    ngx_http_llmoin_args_t *undo;
    int                     undo_generation;   /* the argument to fill in */
};


static ngx_int_t ngx_http_llmoin_add_header(ngx_http_request_t *r,
    const char *name, int64_t value, const char *unit);
static void ngx_http_llmoin_quota_admitted(ngx_http_request_t *r,
    redisReply *reply);
static int64_t ngx_http_llmoin_entity_limit(llmoin_quota_entity_t *e,
    ngx_uint_t kind);
static void ngx_http_llmoin_quota_undo(ngx_http_llmoin_quota_call_t *call);
static void ngx_http_llmoin_quota_undo_send(ngx_http_llmoin_quota_call_t *call,
    redisReply *reply);


static ngx_msec_t  ngx_http_llmoin_quota_timeout = 100;
static time_t      ngx_http_llmoin_quota_offset;


void
ngx_http_llmoin_quota_configure(ngx_msec_t timeout, time_t clock_offset)
{
    ngx_http_llmoin_quota_timeout = timeout;
    ngx_http_llmoin_quota_offset = clock_offset;
}


/* the quota clock: nginx's cached time, shifted only in tests */

static int64_t
ngx_http_llmoin_quota_now_ms(void)
{
    ngx_time_t  *tp = ngx_timeofday();

    return ((int64_t) tp->sec + ngx_http_llmoin_quota_offset) * 1000 + tp->msec;
}


/* --- building the arguments --------------------------------------------- */

static void
ngx_http_llmoin_args_add(ngx_http_llmoin_args_t *args, const char *text,
    size_t len)
{
    args->argv[args->argc] = text;
    args->argvlen[args->argc] = len;
    args->argc++;
}


static ngx_int_t
ngx_http_llmoin_args_number(ngx_http_request_t *r,
    ngx_http_llmoin_args_t *args, int64_t number)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, NGX_HTTP_LLMOIN_NUMBER_MAX);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_http_llmoin_args_add(args, (char *) p,
                             ngx_sprintf(p, "%L", number) - p);

    return NGX_OK;
}


/* the four keys of each entity, in the order quota_script.h names */

static ngx_int_t
ngx_http_llmoin_args_keys(ngx_http_request_t *r, ngx_http_llmoin_args_t *args,
    llmoin_quota_plan_t *plan, const char *month)
{
    char                   *key;
    ngx_uint_t              i, k;
    llmoin_quota_entity_t  *e;

    static const char  kinds[] = "rtcm";

    for (i = 0; i < plan->count; i++) {
        e = &plan->entities[i];

        for (k = 0; k < LLMOIN_QUOTA_KEYS_PER_ENTITY; k++) {
            key = ngx_pnalloc(r->pool, LLMOIN_QUOTA_KEY_MAX);
            if (key == NULL
                || llmoin_quota_key(key, LLMOIN_QUOTA_KEY_MAX, plan->tenant_id,
                                    kinds[k], e->scope, e->subject,
                                    kinds[k] == 'm' ? month : NULL) != 0)
            {
                return NGX_ERROR;
            }

            ngx_http_llmoin_args_add(args, key, ngx_strlen(key));
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_llmoin_args_start(ngx_http_request_t *r, ngx_http_llmoin_args_t *args,
    llmoin_quota_plan_t *plan, const char *month)
{
    args->argc = NGX_HTTP_LLMOIN_ARGS_HEAD;

    return ngx_http_llmoin_args_number(r, args,
               (int64_t) plan->count * LLMOIN_QUOTA_KEYS_PER_ENTITY)
           == NGX_OK
           ? ngx_http_llmoin_args_keys(r, args, plan, month) : NGX_ERROR;
}


/* --- the call and its two endings: reply or timeout ----------------------- */

static void
ngx_http_llmoin_quota_free(ngx_http_llmoin_quota_call_t *call)
{
    if (call->timer.timer_set) {
        ngx_del_timer(&call->timer);
    }

    if (call->undo != NULL) {
        ngx_free(call->undo);
    }

    ngx_free(call);
}


static void
ngx_http_llmoin_quota_request_gone(void *data)
{
    ngx_http_llmoin_quota_call_t  *call = data;

    if (call->in_redis && !call->answered) {
        ngx_http_llmoin_quota_undo(call);
    }

    call->request = NULL;

    if (call->timer.timer_set) {
        ngx_del_timer(&call->timer);
    }

    if (!call->in_redis) {
        ngx_http_llmoin_quota_free(call);
    }
}


static void
ngx_http_llmoin_quota_finish(ngx_http_llmoin_quota_call_t *call,
    redisReply *reply)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r = call->request;

    call->answered = 1;

    if (call->timer.timer_set) {
        ngx_del_timer(&call->timer);
    }

    c = r->connection;

    call->handle(r, reply);

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_llmoin_quota_reply(redisAsyncContext *ac, void *reply, void *data)
{
    ngx_http_llmoin_quota_call_t  *call = data;

    call->in_redis = 0;

    if (call->undo != NULL) {
        ngx_http_llmoin_quota_undo_send(call, reply);
    }

    if (call->request == NULL) {
        ngx_http_llmoin_quota_free(call);
        return;
    }

    if (!call->answered) {
        ngx_http_llmoin_quota_finish(call, reply);
    }
}


static void
ngx_http_llmoin_quota_timeout_handler(ngx_event_t *ev)
{
    ngx_http_llmoin_quota_call_t  *call = ev->data;

    if (call->request != NULL && !call->answered) {
        ngx_log_error(NGX_LOG_WARN, ev->log, 0,
                      "llmoin: quota store did not answer within %M ms",
                      ngx_http_llmoin_quota_timeout);
        ngx_http_llmoin_quota_undo(call);
        ngx_http_llmoin_quota_finish(call, NULL);
    }
}


/*
 * Sends a script for a request; handle() runs once with the reply, or with
 * NULL on timeout or a lost connection. NGX_ERROR: not sent.
 */
static ngx_int_t
ngx_http_llmoin_quota_call(ngx_http_request_t *r, ngx_uint_t script,
    ngx_http_llmoin_args_t *args,
    void (*handle)(ngx_http_request_t *r, redisReply *reply))
{
    ngx_pool_cleanup_t            *cln;
    ngx_http_llmoin_quota_call_t  *call;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    call = ngx_calloc(sizeof(ngx_http_llmoin_quota_call_t),
                      r->connection->log);

    if (cln == NULL || call == NULL) {
        if (call != NULL) {
            ngx_free(call);
        }
        return NGX_ERROR;
    }

    if (ngx_http_llmoin_redis_eval(script, args->argc, args->argv,
                                   args->argvlen, ngx_http_llmoin_quota_reply,
                                   call)
        != NGX_OK)
    {
        ngx_free(call);
        return NGX_ERROR;
    }

    call->request = r;
    call->in_redis = 1;
    call->handle = handle;
    call->timer.handler = ngx_http_llmoin_quota_timeout_handler;
    call->timer.data = call;
    call->timer.log = r->connection->log;

    cln->handler = ngx_http_llmoin_quota_request_gone;
    cln->data = call;

    ngx_add_timer(&call->timer, ngx_http_llmoin_quota_timeout);

    return NGX_OK;
}


static int64_t
ngx_http_llmoin_reply_integer(redisReply *reply, size_t index)
{
    if (index >= reply->elements
        || reply->element[index]->type != REDIS_REPLY_INTEGER)
    {
        return -1;
    }

    return reply->element[index]->integer;
}


/* a reply that is an error or not the array the script returns */

static ngx_int_t
ngx_http_llmoin_reply_usable(ngx_http_request_t *r, redisReply *reply)
{
    if (reply == NULL) {
        return NGX_DECLINED;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "llmoin: quota store error: %s", reply->str);

        if (ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0) {
            ngx_http_llmoin_redis_reload_scripts();
        }

        return NGX_DECLINED;
    }

    return reply->type == REDIS_REPLY_ARRAY && reply->elements > 0
           ? NGX_OK : NGX_DECLINED;
}


/* --- admission ---------------------------------------------------------- */

static ngx_int_t
ngx_http_llmoin_quota_unavailable(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx)
{
    if (ctx->quota_fail_open) {
        ctx->quota_state = NGX_HTTP_LLMOIN_QUOTA_UNCHECKED;
        return NGX_OK;
    }

    if (ngx_http_llmoin_add_header(r, "Retry-After", 1, "") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_llmoin_reject(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                  "server_error", "quota_unavailable",
                                  "The quota service is unavailable. Please "
                                  "try again shortly.");
}


/* Retry-After, and the x-ratelimit headers of the kind that was hit */

static ngx_int_t
ngx_http_llmoin_refusal_headers(ngx_http_request_t *r, const char *kind,
    int64_t limit, int64_t used, time_t retry_after)
{
    ngx_flag_t  tokens = ngx_strcmp(kind, "tokens") == 0;

    if (ngx_http_llmoin_add_header(r, "Retry-After", retry_after, "") != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_strcmp(kind, "requests") != 0 && !tokens) {
        return NGX_OK;
    }

    if (ngx_http_llmoin_add_header(r, tokens ? "x-ratelimit-limit-tokens"
                                             : "x-ratelimit-limit-requests",
                                   limit, "") != NGX_OK
        || ngx_http_llmoin_add_header(r, tokens
                                         ? "x-ratelimit-remaining-tokens"
                                         : "x-ratelimit-remaining-requests",
                                      limit > used ? limit - used : 0, "")
           != NGX_OK
        || ngx_http_llmoin_add_header(r, tokens ? "x-ratelimit-reset-tokens"
                                                : "x-ratelimit-reset-requests",
                                      retry_after, "s") != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static const char *
ngx_http_llmoin_limit_text(const char *kind)
{
    if (ngx_strcmp(kind, "requests") == 0) {
        return "requests per minute";
    }

    if (ngx_strcmp(kind, "tokens") == 0) {
        return "tokens per minute";
    }

    if (ngx_strcmp(kind, "concurrent") == 0) {
        return "requests at the same time";
    }

    return "tokens this month";
}


static ngx_int_t
ngx_http_llmoin_quota_refuse(ngx_http_request_t *r, ngx_http_llmoin_ctx_t *ctx,
    redisReply *reply)
{
    u_char                  message[512];
    int64_t                 entity, retry_ms, limit, used;
    ngx_str_t               text;
    const char             *kind, *scope;
    llmoin_quota_entity_t  *e;

    entity = ngx_http_llmoin_reply_integer(reply, 1);
    retry_ms = ngx_http_llmoin_reply_integer(reply, 3);
    limit = ngx_http_llmoin_reply_integer(reply, 4);
    used = ngx_http_llmoin_reply_integer(reply, 5);

    if (entity < 1 || (size_t) entity > ctx->quota_plan->count
        || reply->elements < 3 || reply->element[2]->type != REDIS_REPLY_STRING)
    {
        return ngx_http_llmoin_quota_unavailable(r, ctx);
    }

    e = &ctx->quota_plan->entities[entity - 1];
    kind = reply->element[2]->str;
    scope = llmoin_scope_name(e->scope);

    ctx->retry_after = (time_t) ((retry_ms + 999) / 1000);
    if (ctx->retry_after < 1) {
        ctx->retry_after = 1;
    }

    text.data = message;
    text.len = ngx_snprintf(message, sizeof(message),
                            "Rate limit reached for %s (%s%s%s): limit %L, "
                            "in use %L. Please try again in %T s.",
                            ngx_http_llmoin_limit_text(kind), scope,
                            e->subject[0] ? " " : "", e->subject, limit, used,
                            ctx->retry_after)
               - message;

    if (ngx_http_llmoin_refusal_headers(r, kind, limit, used, ctx->retry_after)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_llmoin_send_error(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                      ngx_strcmp(kind, "monthly") == 0
                                      ? "insufficient_quota" : kind,
                                      ngx_strcmp(kind, "monthly") == 0
                                      ? "insufficient_quota"
                                      : "rate_limit_exceeded",
                                      &text);
}


/* the generation the request was admitted in, for its settlement */

static ngx_int_t
ngx_http_llmoin_quota_generation(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx, redisReply *reply)
{
    redisReply  *generation;

    if (reply->elements <= NGX_HTTP_LLMOIN_REPLY_GENERATION) {
        return NGX_OK;
    }

    generation = reply->element[NGX_HTTP_LLMOIN_REPLY_GENERATION];

    if (generation->type != REDIS_REPLY_STRING || generation->len == 0) {
        return NGX_OK;
    }

    ctx->quota_generation.data = ngx_pnalloc(r->pool, generation->len);
    if (ctx->quota_generation.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(ctx->quota_generation.data, generation->str, generation->len);
    ctx->quota_generation.len = generation->len;

    return NGX_OK;
}


static void
ngx_http_llmoin_quota_admitted(ngx_http_request_t *r, redisReply *reply)
{
    ngx_int_t               rc;
    ngx_http_llmoin_ctx_t  *ctx;

    ctx = ngx_http_llmoin_get_ctx(r);

    if (ngx_http_llmoin_reply_usable(r, reply) != NGX_OK) {
        rc = ngx_http_llmoin_quota_unavailable(r, ctx);

    } else if (ngx_http_llmoin_reply_integer(reply, 0) != 1) {
        rc = ngx_http_llmoin_quota_refuse(r, ctx, reply);

    } else {
        ctx->quota_state = NGX_HTTP_LLMOIN_QUOTA_CHECKED;
        ctx->remaining_requests = ngx_http_llmoin_reply_integer(reply, 1);
        ctx->limit_requests = ngx_http_llmoin_reply_integer(reply, 2);
        ctx->reset_requests_ms = ngx_http_llmoin_reply_integer(reply, 3);
        ctx->remaining_tokens = ngx_http_llmoin_reply_integer(reply, 4);
        ctx->limit_tokens = ngx_http_llmoin_reply_integer(reply, 5);
        ctx->reset_tokens_ms = ngx_http_llmoin_reply_integer(reply, 6);
        rc = ngx_http_llmoin_quota_generation(r, ctx, reply);
    }

    ngx_http_llmoin_proceed(r, ctx, rc);
}


static ngx_int_t
ngx_http_llmoin_quota_plan_for(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx)
{
    const llmoin_snapshot_tenant_t  *tenant;

    tenant = llmoin_snapshot_find_tenant(ngx_http_llmoin_snapshot(),
                                         ctx->tenant_number);
    if (tenant == NULL || tenant->limit_count == 0
        || !ngx_http_llmoin_redis_configured())
    {
        return NGX_DECLINED;
    }

    ctx->quota_plan = ngx_palloc(r->pool, sizeof(llmoin_quota_plan_t));
    if (ctx->quota_plan == NULL) {
        return NGX_ERROR;
    }

    llmoin_quota_plan(tenant->id, tenant->limits, tenant->limit_count,
                      (char *) ctx->user.data, (char *) ctx->groups.data,
                      (char *) ctx->key_id.data, ctx->quota_plan);

    ctx->quota_fail_open = tenant->quota_fail_open;

    return ctx->quota_plan->count > 0 ? NGX_OK : NGX_DECLINED;
}


static ngx_int_t
ngx_http_llmoin_admit_args(ngx_http_request_t *r, ngx_http_llmoin_ctx_t *ctx,
    ngx_http_llmoin_args_t *args, int64_t now_ms)
{
    ngx_uint_t              i;
    llmoin_quota_entity_t  *e;

    if (ngx_http_llmoin_args_start(r, args, ctx->quota_plan, ctx->quota_month)
        != NGX_OK
        || ngx_http_llmoin_args_number(r, args, now_ms) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_llmoin_args_add(args, (char *) ctx->request_id.data,
                             ctx->request_id.len);

    if (ngx_http_llmoin_args_number(r, args, ctx->quota_estimate) != NGX_OK
        || ngx_http_llmoin_args_number(r, args, ctx->quota_plan->count)
           != NGX_OK
        || ngx_http_llmoin_args_number(r, args,
               llmoin_berlin_next_month(now_ms / 1000) * 1000) != NGX_OK
        || ngx_http_llmoin_args_number(r, args, LLMOIN_QUOTA_LEASE_MS)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < ctx->quota_plan->count; i++) {
        e = &ctx->quota_plan->entities[i];

        if (ngx_http_llmoin_args_number(r, args, e->rpm) != NGX_OK
            || ngx_http_llmoin_args_number(r, args, e->tpm) != NGX_OK
            || ngx_http_llmoin_args_number(r, args, e->concurrent) != NGX_OK
            || ngx_http_llmoin_args_number(r, args, e->monthly_tokens)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * NGX_OK: no quota applies, go on; NGX_AGAIN: Redis will answer and the
 * request continues then (ngx_http_llmoin_proceed); else a refusal's result.
 */
ngx_int_t
ngx_http_llmoin_quota_admit(ngx_http_request_t *r, ngx_http_llmoin_ctx_t *ctx,
    int64_t max_tokens)
{
    int64_t                 now_ms;
    ngx_int_t               rc;
    ngx_http_llmoin_args_t  args;

    rc = ngx_http_llmoin_quota_plan_for(r, ctx);
    if (rc != NGX_OK) {
        return rc == NGX_DECLINED ? NGX_OK : NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    now_ms = ngx_http_llmoin_quota_now_ms();

    ctx->quota_second = now_ms / 1000;
    ctx->quota_estimate = llmoin_estimate_tokens(ctx->request_body_bytes)
                          + max_tokens;
    llmoin_berlin_month(now_ms / 1000, ctx->quota_month);

    if (ngx_http_llmoin_admit_args(r, ctx, &args, now_ms) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_llmoin_quota_call(r, NGX_HTTP_LLMOIN_SCRIPT_ADMIT, &args,
                                   ngx_http_llmoin_quota_admitted)
        != NGX_OK)
    {
        return ngx_http_llmoin_quota_unavailable(r, ctx);
    }

    return NGX_AGAIN;
}


/* --- settlement --------------------------------------------------------- */

/* whether any entity of the plan has a limit of this kind (the order of
 * ngx_http_llmoin_entity_limit: rpm, tpm, concurrent, monthly) */

static ngx_flag_t
ngx_http_llmoin_plan_has(llmoin_quota_plan_t *plan, ngx_uint_t kind)
{
    ngx_uint_t  i;

    for (i = 0; i < plan->count; i++) {
        if (ngx_http_llmoin_entity_limit(&plan->entities[i], kind) >= 0) {
            return 1;
        }
    }

    return 0;
}


/* the settle script's arguments: real tokens replace the estimate; a
 * refund counts the request out again (it never ran) */

static ngx_int_t
ngx_http_llmoin_settle_args(ngx_http_request_t *r, ngx_http_llmoin_ctx_t *ctx,
    ngx_http_llmoin_args_t *args, int64_t real, ngx_flag_t refund)
{
    ngx_uint_t              i;
    llmoin_quota_entity_t  *e;

    if (ngx_http_llmoin_args_start(r, args, ctx->quota_plan, ctx->quota_month)
        != NGX_OK
        || ngx_http_llmoin_args_number(r, args, ctx->quota_second) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_llmoin_args_add(args, (char *) ctx->request_id.data,
                             ctx->request_id.len);

    if (ngx_http_llmoin_args_number(r, args, real - ctx->quota_estimate)
        != NGX_OK
        || ngx_http_llmoin_args_number(r, args, ctx->quota_plan->count)
           != NGX_OK
        || ngx_http_llmoin_args_number(r, args, real) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_llmoin_args_add(args, ctx->quota_generation.len
                                   ? (char *) ctx->quota_generation.data : "",
                             ctx->quota_generation.len);
    ngx_http_llmoin_args_add(args, refund ? "1" : "0", 1);

    for (i = 0; i < ctx->quota_plan->count; i++) {
        e = &ctx->quota_plan->entities[i];

        ngx_http_llmoin_args_add(args, e->rpm >= 0 ? "1" : "0", 1);
        ngx_http_llmoin_args_add(args, e->tpm >= 0 ? "1" : "0", 1);
        ngx_http_llmoin_args_add(args, e->concurrent >= 0 ? "1" : "0", 1);
        ngx_http_llmoin_args_add(args, e->monthly_tokens >= 0 ? "1" : "0", 1);
    }

    return NGX_OK;
}


/* the store confirmed the settlement (or did not answer in time): the
 * answer's end goes out (the usage body filter passes what it held) */

static void
ngx_http_llmoin_quota_confirmed(ngx_http_request_t *r, redisReply *reply)
{
    ngx_http_llmoin_ctx_t  *ctx;

    ctx = ngx_http_llmoin_get_ctx(r);

    if (reply != NULL) {
        (void) ngx_http_llmoin_reply_usable(r, reply);
    }

    ctx->quota_confirming = 0;

    ngx_post_event(r->connection->write, &ngx_posted_events);
}


/*
 * When the answer's last byte is about to leave (the body filter), or in
 * the log phase for every other ending: the real usage replaces the
 * estimate and the slot is freed.
 *
 * A request that held an in-flight slot (confirm: the body filter) keeps
 * its answer's end until Redis confirms that the slot is free (or the
 * store's timeout passed): NGX_AGAIN. A client that has the whole answer
 * then finds its slot free, whichever worker and Redis connection its next
 * request takes; two connections to Redis keep no order between them.
 * Otherwise nobody waits for Redis's answer: a client at its token limit
 * may meet its previous estimate once.
 */
ngx_int_t
ngx_http_llmoin_quota_settle(ngx_http_request_t *r, ngx_http_llmoin_ctx_t *ctx,
    ngx_flag_t confirm)
{
    ngx_int_t               rc;
    ngx_flag_t              frees_slot;
    ngx_http_llmoin_args_t  args;

    if (ctx->quota_state != NGX_HTTP_LLMOIN_QUOTA_CHECKED || ctx->quota_settled) {
        return NGX_OK;
    }

    ctx->quota_settled = 1;

    ngx_http_llmoin_usage_settle(r, ctx);

    /* requests per minute alone: nothing to replace, nothing to free */

    frees_slot = ngx_http_llmoin_plan_has(ctx->quota_plan, 2);

    if (!frees_slot
        && !ngx_http_llmoin_plan_has(ctx->quota_plan, 1)
        && !ngx_http_llmoin_plan_has(ctx->quota_plan, 3))
    {
        return NGX_OK;
    }

    if (ngx_http_llmoin_settle_args(r, ctx, &args,
                                    ctx->prompt_tokens + ctx->completion_tokens,
                                    0)
        != NGX_OK)
    {
        return NGX_OK;
    }

    if (frees_slot && confirm) {
        rc = ngx_http_llmoin_quota_call(r, NGX_HTTP_LLMOIN_SCRIPT_SETTLE, &args,
                                        ngx_http_llmoin_quota_confirmed);
        if (rc == NGX_OK) {
            ctx->quota_confirming = 1;
            ngx_http_llmoin_redis_flush();
            return NGX_AGAIN;
        }

    } else {
        rc = ngx_http_llmoin_redis_eval(NGX_HTTP_LLMOIN_SCRIPT_SETTLE,
                                        args.argc, args.argv, args.argvlen,
                                        NULL, NULL);
    }

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "llmoin: quota settlement lost (store unavailable); "
                      "the in-flight slot frees itself when its lease ends");
        return NGX_OK;
    }

    if (frees_slot) {
        ngx_http_llmoin_redis_flush();
    }

    return NGX_OK;
}


/* the arguments in one allocation of their own, to outlive the request */

static ngx_http_llmoin_args_t *
ngx_http_llmoin_args_copy(ngx_http_llmoin_args_t *args, ngx_log_t *log)
{
    int                      i;
    size_t                   len;
    u_char                  *p;
    ngx_http_llmoin_args_t  *copy;

    len = sizeof(ngx_http_llmoin_args_t);

    for (i = NGX_HTTP_LLMOIN_ARGS_HEAD; i < args->argc; i++) {
        len += args->argvlen[i];
    }

    copy = ngx_alloc(len, log);
    if (copy == NULL) {
        return NULL;
    }

    *copy = *args;
    p = (u_char *) (copy + 1);

    for (i = NGX_HTTP_LLMOIN_ARGS_HEAD; i < args->argc; i++) {
        copy->argv[i] = (char *) p;
        p = ngx_cpymem(p, args->argv[i], args->argvlen[i]);
    }

    return copy;
}


/*
 * An admission that timed out, or whose request ended first, may still run
 * in Redis (a stalled store answers late). Its refund is prepared now,
 * while the request's plan exists; it is sent if the late reply says the
 * request was admitted, so that nothing stays reserved for a request that
 * never ran.
 */
static void
ngx_http_llmoin_quota_undo(ngx_http_llmoin_quota_call_t *call)
{
    ngx_http_request_t      *r = call->request;
    ngx_http_llmoin_ctx_t   *ctx;
    ngx_http_llmoin_args_t   args;

    if (r == NULL || call->undo != NULL
        || call->handle != ngx_http_llmoin_quota_admitted)
    {
        return;
    }

    ctx = ngx_http_llmoin_get_ctx(r);

    if (ctx == NULL || ctx->quota_plan == NULL
        || ngx_http_llmoin_settle_args(r, ctx, &args, 0, 1) != NGX_OK)
    {
        return;
    }

    call->undo = ngx_http_llmoin_args_copy(&args, r->connection->log);
    call->undo_generation =
        ngx_http_llmoin_settle_generation_arg(ctx->quota_plan->count);
}


static void
ngx_http_llmoin_quota_undo_send(ngx_http_llmoin_quota_call_t *call,
    redisReply *reply)
{
    redisReply              *generation;
    ngx_http_llmoin_args_t  *undo = call->undo;

    call->undo = NULL;

    if (reply != NULL && reply->type == REDIS_REPLY_ARRAY
        && reply->elements > NGX_HTTP_LLMOIN_REPLY_GENERATION
        && reply->element[0]->type == REDIS_REPLY_INTEGER
        && reply->element[0]->integer == 1)
    {
        generation = reply->element[NGX_HTTP_LLMOIN_REPLY_GENERATION];

        if (generation->type == REDIS_REPLY_STRING) {
            undo->argv[call->undo_generation] = generation->str;
            undo->argvlen[call->undo_generation] = generation->len;
        }

        (void) ngx_http_llmoin_redis_eval(NGX_HTTP_LLMOIN_SCRIPT_SETTLE,
                                          undo->argc, undo->argv,
                                          undo->argvlen, NULL, NULL);
    }

    ngx_free(undo);
}


/* --- x-ratelimit headers ------------------------------------------------- */

static ngx_int_t
ngx_http_llmoin_add_header(ngx_http_request_t *r, const char *name,
    int64_t value, const char *unit)
{
    u_char           *p;
    ngx_table_elt_t  *h;

    if (value < 0) {
        return NGX_OK;
    }

    h = ngx_list_push(&r->headers_out.headers);
    p = ngx_pnalloc(r->pool, NGX_HTTP_LLMOIN_NUMBER_MAX + 2);

    if (h == NULL || p == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = p;
    h->value.len = ngx_sprintf(p, "%L%s", value, unit) - p;

    return NGX_OK;
}


/* what the admission reported, on the answer (OpenAI's header names) */

ngx_int_t
ngx_http_llmoin_quota_headers(ngx_http_request_t *r, ngx_http_llmoin_ctx_t *ctx)
{
    if (ctx->quota_state != NGX_HTTP_LLMOIN_QUOTA_CHECKED) {
        return NGX_OK;
    }

    if (ngx_http_llmoin_add_header(r, "x-ratelimit-limit-requests",
                                   ctx->limit_requests, "") != NGX_OK
        || ngx_http_llmoin_add_header(r, "x-ratelimit-remaining-requests",
                                      ctx->remaining_requests, "") != NGX_OK
        || ngx_http_llmoin_add_header(r, "x-ratelimit-reset-requests",
                                      ctx->limit_requests < 0 ? -1
                                      : (ctx->reset_requests_ms + 999) / 1000,
                                      "s") != NGX_OK
        || ngx_http_llmoin_add_header(r, "x-ratelimit-limit-tokens",
                                      ctx->limit_tokens, "") != NGX_OK
        || ngx_http_llmoin_add_header(r, "x-ratelimit-remaining-tokens",
                                      ctx->remaining_tokens, "") != NGX_OK
        || ngx_http_llmoin_add_header(r, "x-ratelimit-reset-tokens",
                                      ctx->limit_tokens < 0 ? -1
                                      : (ctx->reset_tokens_ms + 999) / 1000,
                                      "s") != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* --- GET .../llmoin/quota: what the caller has left ---------------------- */

static const char *
ngx_http_llmoin_kind_name(ngx_uint_t kind)
{
    static const char  *names[] = { "requests_per_minute", "tokens_per_minute",
                                    "concurrent_requests", "monthly_tokens" };

    return names[kind];
}


static int64_t
ngx_http_llmoin_entity_limit(llmoin_quota_entity_t *e, ngx_uint_t kind)
{
    switch (kind) {
    case 0:  return e->rpm;
    case 1:  return e->tpm;
    case 2:  return e->concurrent;
    default: return e->monthly_tokens;
    }
}


/* one entity's limits as JSON objects into p; returns the new end */

static u_char *
ngx_http_llmoin_quota_entity_json(u_char *p, u_char *last,
    llmoin_quota_entity_t *e, redisReply *used, ngx_flag_t *first)
{
    int64_t     limit, value;
    ngx_uint_t  kind;

    for (kind = 0; kind < 4; kind++) {
        limit = ngx_http_llmoin_entity_limit(e, kind);
        value = ngx_http_llmoin_reply_integer(used, kind);

        if (limit < 0) {
            continue;
        }

        p = ngx_slprintf(p, last, "%s{\"scope\":\"%s\",\"subject\":\"",
                         *first ? "" : ",", llmoin_scope_name(e->scope));
        if (p + ngx_strlen(e->subject) * 6 < last) {
            p = (u_char *) ngx_escape_json(p, (u_char *) e->subject,
                                           ngx_strlen(e->subject));
        }
        p = ngx_slprintf(p, last, "\",\"kind\":\"%s\",\"limit\":%L,\"used\":%L,"
                         "\"remaining\":%L}", ngx_http_llmoin_kind_name(kind),
                         limit, value, limit > value ? limit - value : 0);
        *first = 0;
    }

    return p;
}


static ngx_int_t
ngx_http_llmoin_quota_answer(ngx_http_request_t *r, ngx_http_llmoin_ctx_t *ctx,
    redisReply *reply)
{
    u_char                *p, *last;
    size_t                 len;
    ngx_buf_t             *b;
    ngx_uint_t             i;
    ngx_flag_t             first;
    llmoin_quota_plan_t   *plan = ctx->quota_plan;
    static redisReply      nothing;

    len = 256 + ctx->tenant_slug.len * 6 + ctx->user.len * 6
          + (plan != NULL ? plan->count : 0)
            * 4 * (160 + LLMOIN_QUOTA_SUBJECT_MAX * 6);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->last;
    last = b->end;

    p = ngx_slprintf(p, last, "{\"object\":\"llmoin.quota\",\"tenant\":\"");
    p = (u_char *) ngx_escape_json(p, ctx->tenant_slug.data,
                                   ctx->tenant_slug.len);
    p = ngx_slprintf(p, last, "\",\"user\":\"");
    p = (u_char *) ngx_escape_json(p, ctx->user.data, ctx->user.len);
    p = ngx_slprintf(p, last, "\",\"month\":\"%s\",\"month_ends_at\":%L,"
                     "\"limits\":[", ctx->quota_month,
                     (int64_t) llmoin_berlin_next_month(ctx->quota_second));

    first = 1;

    for (i = 0; plan != NULL && i < plan->count; i++) {
        p = ngx_http_llmoin_quota_entity_json(p, last, &plan->entities[i],
                reply != NULL && i < reply->elements ? reply->element[i]
                                                     : &nothing, &first);
    }

    b->last = ngx_slprintf(p, last, "]}\n");

    return ngx_http_llmoin_send_json(r, NGX_HTTP_OK, b);
}


static void
ngx_http_llmoin_quota_read(ngx_http_request_t *r, redisReply *reply)
{
    ngx_int_t               rc;
    ngx_http_llmoin_ctx_t  *ctx;

    ctx = ngx_http_llmoin_get_ctx(r);

    if (ngx_http_llmoin_reply_usable(r, reply) != NGX_OK) {
        if (ngx_http_llmoin_add_header(r, "Retry-After", 1, "") != NGX_OK) {
            rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        } else {
            rc = ngx_http_llmoin_reject(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                        "server_error", "quota_unavailable",
                                        "The quota service is unavailable. "
                                        "Please try again shortly.");
        }

    } else {
        rc = ngx_http_llmoin_quota_answer(r, ctx, reply);
    }

    ngx_http_finalize_request(r, rc);
}


ngx_flag_t
ngx_http_llmoin_is_quota_request(ngx_http_request_t *r)
{
    static ngx_str_t  suffix = ngx_string("/llmoin/quota");

    return (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))
           && r->uri.len >= suffix.len
           && ngx_strncmp(r->uri.data + r->uri.len - suffix.len, suffix.data,
                          suffix.len) == 0;
}


/*
 * Answers the caller's limits and what is used of them. NGX_AGAIN: the
 * quota store answers later and the request ends then; else the result of
 * the answer sent.
 */
ngx_int_t
ngx_http_llmoin_quota_show(ngx_http_request_t *r, ngx_http_llmoin_ctx_t *ctx)
{
    int64_t                 now_ms;
    ngx_int_t               rc;
    ngx_http_llmoin_args_t  args;

    now_ms = ngx_http_llmoin_quota_now_ms();
    ctx->quota_second = now_ms / 1000;
    llmoin_berlin_month(now_ms / 1000, ctx->quota_month);

    rc = ngx_http_llmoin_quota_plan_for(r, ctx);
    if (rc == NGX_DECLINED) {
        ctx->quota_plan = NULL;
        return ngx_http_llmoin_quota_answer(r, ctx, NULL);
    }

    if (rc != NGX_OK
        || ngx_http_llmoin_args_start(r, &args, ctx->quota_plan,
                                      ctx->quota_month) != NGX_OK
        || ngx_http_llmoin_args_number(r, &args, now_ms) != NGX_OK
        || ngx_http_llmoin_args_number(r, &args, ctx->quota_plan->count)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_llmoin_quota_call(r, NGX_HTTP_LLMOIN_SCRIPT_READ, &args,
                                   ngx_http_llmoin_quota_read)
        != NGX_OK)
    {
        ngx_http_llmoin_quota_read(r, NULL);
        return NGX_DONE;
    }

    return NGX_AGAIN;
}
