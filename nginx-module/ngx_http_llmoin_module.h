/*
 * ngx_http_llmoin_module: the llmoin gateway inside nginx.
 *
 *   access phase : reject client X-LLMoin-* headers, authenticate the
 *                  credential against the tenant snapshot, read the request
 *                  body, route the model to its pool, set trusted headers
 *   content      : proxy_pass to http://llmoin_pool_$llmoin_pool
 *   filters      : observe the response (JSON or SSE) for "usage"
 *   log phase    : the module's variables feed the usage journal
 *
 * Shared types of the module's files live here.
 */
#ifndef NGX_HTTP_LLMOIN_MODULE_H
#define NGX_HTTP_LLMOIN_MODULE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "berlin_time.h"
#include "pseudonym.h"
#include "quota.h"
#include "quota_script.h"
#include "snapshot.h"
#include "stream_usage.h"
#include "token.h"


#define NGX_HTTP_LLMOIN_SSE_EVENT_MAX  16384

#define NGX_HTTP_LLMOIN_SCRIPT_ADMIT   0
#define NGX_HTTP_LLMOIN_SCRIPT_SETTLE  1
#define NGX_HTTP_LLMOIN_SCRIPT_READ    2
#define NGX_HTTP_LLMOIN_SCRIPTS        3


typedef struct {
    ngx_str_t                    snapshot_path;
    ngx_msec_t                   snapshot_interval;
    ngx_uint_t                   token_cache_size;
    ngx_str_t                    redis;
    ngx_msec_t                   redis_timeout;
    time_t                       clock_offset;
} ngx_http_llmoin_main_conf_t;


typedef enum {
    NGX_HTTP_LLMOIN_QUOTA_NONE = 0,     /* no limit applies */
    NGX_HTTP_LLMOIN_QUOTA_CHECKED,      /* reserved in the quota store */
    NGX_HTTP_LLMOIN_QUOTA_UNCHECKED     /* store down, tenant fails open */
} ngx_http_llmoin_quota_state_e;


typedef struct ngx_http_llmoin_quota_call_s  ngx_http_llmoin_quota_call_t;

/* r->buffered: the answer's end waits for its slot to be freed (SSI 0x01,
 * sub 0x02 and copy 0x04 are nginx's; 0x08 only the image filter's, which
 * never runs on a gateway location; the field has four bits) */
#define NGX_HTTP_LLMOIN_BUFFERED  0x08

struct redisAsyncContext;


/* who a verified credential says is calling; pointers into the snapshot,
 * valid only until the access handler returns */
typedef struct {
    const llmoin_snapshot_tenant_t  *tenant;
    const llmoin_snapshot_key_t     *key;        /* NULL for a token */
    const char                      *user;
    const char                      *pseudonym;
    const char                      *groups;     /* comma-separated */
    char                             key_hash[LLMOIN_APIKEY_HASH_BUFSZ]; /* "" for a token */
    char                             pseudonym_buffer[LLMOIN_PSEUDONYM_BUFSZ];
} ngx_http_llmoin_identity_t;


typedef struct {
    ngx_flag_t                   enable;
} ngx_http_llmoin_loc_conf_t;


typedef enum {
    NGX_HTTP_LLMOIN_RESPONSE_UNKNOWN = 0,
    NGX_HTTP_LLMOIN_RESPONSE_JSON,
    NGX_HTTP_LLMOIN_RESPONSE_SSE,
    NGX_HTTP_LLMOIN_RESPONSE_OTHER
} ngx_http_llmoin_response_kind_e;


typedef enum {
    NGX_HTTP_LLMOIN_USAGE_NONE = 0,
    NGX_HTTP_LLMOIN_USAGE_REPORTED,
    NGX_HTTP_LLMOIN_USAGE_ESTIMATED
} ngx_http_llmoin_usage_source_e;


/* a stream whose usage chunk the gateway asked for and takes out again
 * (ngx_http_llmoin_stream_filter.c); offsets count the upstream's bytes */
#define NGX_HTTP_LLMOIN_DROPS_MAX  4

typedef struct {
    uint64_t                     events_end;   /* end of the last whole event */
    uint64_t                     hold_start;   /* offset of hold's first byte */
    uint64_t                     drop_start[NGX_HTTP_LLMOIN_DROPS_MAX];
    uint64_t                     drop_end[NGX_HTTP_LLMOIN_DROPS_MAX];
    ngx_uint_t                   drops;
    ngx_buf_t                   *hold;         /* an event not yet complete */
    ngx_chain_t                 *free;
    ngx_chain_t                 *busy;
} ngx_http_llmoin_stream_edit_t;


typedef struct {
    /* who: copied out of the snapshot, which may be swapped mid-request */
    ngx_str_t                        tenant_slug;
    ngx_str_t                        tenant_id;
    long long                        tenant_number;
    char                             key_hash[LLMOIN_APIKEY_HASH_BUFSZ]; /* "" for a token */
    ngx_str_t                        user;
    ngx_str_t                        user_pseudonym;
    ngx_str_t                        groups;
    ngx_str_t                        key_id;       /* "" for a token */

    /* a token naming an unknown key: tenantd is asked to look for new keys */
    ngx_str_t                        jwks_hint_issuer;

    ngx_str_t                        request_id;

    /* the quota reservation (ngx_http_llmoin_quota.c) */
    llmoin_quota_plan_t             *quota_plan;
    char                             quota_month[LLMOIN_MONTH_SIZE];
    int64_t                          quota_second;
    int64_t                          quota_estimate;
    ngx_str_t                        quota_generation;
    ngx_http_llmoin_quota_state_e    quota_state;
    int64_t                          remaining_requests;
    int64_t                          limit_requests;
    int64_t                          reset_requests_ms;
    int64_t                          remaining_tokens;
    int64_t                          limit_tokens;
    int64_t                          reset_tokens_ms;
    time_t                           retry_after;

    /* what: from the request body, and the entry function (a header) */
    ngx_str_t                        model;
    ngx_str_t                        function;
    ngx_str_t                        pool;
    off_t                            request_body_bytes;

    /* the response, observed by the filters */
    ngx_http_llmoin_response_kind_e  response_kind;
    llmoin_stream_usage_t           *stream_usage;
    ngx_http_llmoin_stream_edit_t   *stream_edit;  /* usage_injected only */
    llmoin_body_usage_t             *body_usage;
    off_t                            response_body_bytes;
    ngx_msec_t                       first_byte_ms;  /* after the start */
    ngx_chain_t                     *held;  /* the end, until the slot is free */

    /* settled once, when the log phase first asks */
    int64_t                          prompt_tokens;
    int64_t                          completion_tokens;
    ngx_http_llmoin_usage_source_e   usage_source;

    unsigned                         body_requested:1;
    unsigned                         admitted:1;
    unsigned                         stream:1;
    unsigned                         response_finished:1;
    unsigned                         settled:1;
    unsigned                         quota_fail_open:1;
    unsigned                         quota_settled:1;
    unsigned                         quota_confirming:1; /* settle sent */
    unsigned                         first_byte:1;   /* an answer byte went out */
    unsigned                         usage_injected:1; /* include_usage added */
} ngx_http_llmoin_ctx_t;


extern ngx_module_t  ngx_http_llmoin_module;


/* ngx_http_llmoin_ctx.c */
ngx_http_llmoin_ctx_t *ngx_http_llmoin_create_ctx(ngx_http_request_t *r);
ngx_http_llmoin_ctx_t *ngx_http_llmoin_get_ctx(ngx_http_request_t *r);

/* ngx_http_llmoin_snapshot.c */
ngx_int_t ngx_http_llmoin_snapshot_init_process(ngx_cycle_t *cycle);
const llmoin_snapshot_t *ngx_http_llmoin_snapshot(void);

/* ngx_http_llmoin_auth.c */
ngx_int_t ngx_http_llmoin_access_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_llmoin_deny(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, const char *code, const char *message);
ngx_int_t ngx_http_llmoin_identity_refusal(ngx_http_request_t *r,
    ngx_http_llmoin_identity_t *identity);

/* ngx_http_llmoin_token.c */
ngx_int_t ngx_http_llmoin_token_cache_init(ngx_cycle_t *cycle,
    ngx_uint_t size);
ngx_int_t ngx_http_llmoin_token_identify(ngx_http_request_t *r,
    const llmoin_snapshot_t *snapshot, ngx_str_t *token,
    ngx_http_llmoin_identity_t *identity);

/* ngx_http_llmoin_headers.c */
ngx_table_elt_t *ngx_http_llmoin_reserved_header(ngx_http_request_t *r);
ngx_int_t ngx_http_llmoin_entry_function(ngx_http_request_t *r,
    ngx_str_t *function);
ngx_int_t ngx_http_llmoin_trusted_headers(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx);
ngx_int_t ngx_http_llmoin_request_id(ngx_http_request_t *r, ngx_str_t *id);

/* ngx_http_llmoin_request.c */
ngx_int_t ngx_http_llmoin_read_request(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx);
void ngx_http_llmoin_proceed(ngx_http_request_t *r, ngx_http_llmoin_ctx_t *ctx,
    ngx_int_t rc);

/* ngx_http_llmoin_body_edit.c */
ngx_int_t ngx_http_llmoin_body_add_member(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx, ngx_str_t *body, ngx_str_t *member);
ngx_int_t ngx_http_llmoin_include_usage(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx, ngx_str_t *body, llmoin_json_span_t *options);

/* ngx_http_llmoin_stream_filter.c */
ngx_int_t ngx_http_llmoin_stream_filter_init(ngx_conf_t *cf);

/* ngx_http_llmoin_max_tokens.c */
ngx_int_t ngx_http_llmoin_requested_tokens(llmoin_json_span_t *max_tokens,
    llmoin_json_span_t *max_completion_tokens, int64_t *requested);
ngx_int_t ngx_http_llmoin_cap_tokens(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx, ngx_str_t *body, int64_t cap,
    int64_t *max_tokens);

/* ngx_http_llmoin_redis.c */
ngx_int_t ngx_http_llmoin_redis_init_process(ngx_cycle_t *cycle,
    ngx_str_t *address);
void ngx_http_llmoin_redis_exit_process(void);
ngx_flag_t ngx_http_llmoin_redis_configured(void);
ngx_int_t ngx_http_llmoin_redis_eval(ngx_uint_t script, int argc,
    const char **argv, size_t *argvlen,
    void (*callback)(struct redisAsyncContext *, void *, void *), void *data);
void ngx_http_llmoin_redis_reload_scripts(void);
void ngx_http_llmoin_redis_flush(void);

/* ngx_http_llmoin_quota.c */
void ngx_http_llmoin_quota_configure(ngx_msec_t timeout, time_t clock_offset);
ngx_int_t ngx_http_llmoin_quota_admit(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx, int64_t max_tokens);
ngx_int_t ngx_http_llmoin_quota_settle(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx, ngx_flag_t confirm);
ngx_int_t ngx_http_llmoin_quota_headers(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx);
ngx_flag_t ngx_http_llmoin_is_quota_request(ngx_http_request_t *r);
ngx_int_t ngx_http_llmoin_quota_show(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx);

/* ngx_http_llmoin_models.c */
ngx_int_t ngx_http_llmoin_models(ngx_http_request_t *r,
    const llmoin_snapshot_t *snapshot, const llmoin_snapshot_tenant_t *tenant,
    const llmoin_snapshot_key_t *key);

/* ngx_http_llmoin_error.c */
ngx_int_t ngx_http_llmoin_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, const char *code, ngx_str_t *message);
ngx_int_t ngx_http_llmoin_reject(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, const char *code, const char *message);
ngx_int_t ngx_http_llmoin_send_json(ngx_http_request_t *r, ngx_uint_t status,
    ngx_buf_t *b);

/* ngx_http_llmoin_usage.c */
ngx_int_t ngx_http_llmoin_usage_filter_init(ngx_conf_t *cf);
void ngx_http_llmoin_usage_settle(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx);

/* ngx_http_llmoin_variables.c */
ngx_int_t ngx_http_llmoin_add_variables(ngx_conf_t *cf);


#endif /* NGX_HTTP_LLMOIN_MODULE_H */
