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

#include "pseudonym.h"
#include "snapshot.h"
#include "stream_usage.h"
#include "token.h"


#define NGX_HTTP_LLMOIN_SSE_EVENT_MAX  16384


typedef struct {
    ngx_str_t                    snapshot_path;
    ngx_msec_t                   snapshot_interval;
    ngx_uint_t                   token_cache_size;
} ngx_http_llmoin_main_conf_t;


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

    /* what: from the request body */
    ngx_str_t                        model;
    ngx_str_t                        pool;
    off_t                            request_body_bytes;

    /* the response, observed by the filters */
    ngx_http_llmoin_response_kind_e  response_kind;
    llmoin_stream_usage_t           *stream_usage;
    llmoin_body_usage_t             *body_usage;
    off_t                            response_body_bytes;

    /* settled once, when the log phase first asks */
    int64_t                          prompt_tokens;
    int64_t                          completion_tokens;
    ngx_http_llmoin_usage_source_e   usage_source;

    unsigned                         body_requested:1;
    unsigned                         admitted:1;
    unsigned                         stream:1;
    unsigned                         response_finished:1;
    unsigned                         settled:1;
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
ngx_int_t ngx_http_llmoin_trusted_headers(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx);

/* ngx_http_llmoin_request.c */
ngx_int_t ngx_http_llmoin_read_request(ngx_http_request_t *r,
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
