/*
 * The module's variables: they feed the usage journal's log_format (see
 * llmoin_journal.conf) and may be used in proxy_pass and headers:
 *
 *   $llmoin_tenant              tenant slug           "" before auth
 *   $llmoin_tenant_id           tenant id
 *   $llmoin_user                user id (for reports; never sent upstream)
 *   $llmoin_user_pseudonym      what the upstream sees as X-LLMoin-User
 *   $llmoin_key_id              API key id, "" for tokens
 *   $llmoin_model               model asked for
 *   $llmoin_pool                inference pool (upstream llmoin_pool_<name>)
 *   $llmoin_prompt_tokens       settled usage, see ngx_http_llmoin_usage.c
 *   $llmoin_completion_tokens
 *   $llmoin_total_tokens
 *   $llmoin_usage               reported | estimated | none
 *   $llmoin_stream              1 | 0
 *   $llmoin_journal             "1" if the request was admitted (went
 *                               upstream) and belongs in the journal
 *   $llmoin_groups              the token's groups, comma-separated
 *   $llmoin_jwks_hint           "1" if a token named a key its issuer has
 *                               not published: access_log ... if= this
 *   $llmoin_token_issuer        that token's issuer (a trusted one)
 *   $llmoin_quota               checked | unchecked (quota store down, the
 *                               tenant fails open) | none (no limit applied)
 *   $llmoin_function            chat | summarize | write | research |
 *                               plain_language, from X-LLMoin-Function;
 *                               "" without it
 *   $llmoin_first_byte_time     seconds from the request's start to the
 *                               answer's first byte ("0.123"); "" if none
 */

#include "ngx_http_llmoin_module.h"


typedef enum {
    NGX_HTTP_LLMOIN_VAR_TENANT,
    NGX_HTTP_LLMOIN_VAR_TENANT_ID,
    NGX_HTTP_LLMOIN_VAR_USER,
    NGX_HTTP_LLMOIN_VAR_USER_PSEUDONYM,
    NGX_HTTP_LLMOIN_VAR_KEY_ID,
    NGX_HTTP_LLMOIN_VAR_MODEL,
    NGX_HTTP_LLMOIN_VAR_POOL,
    NGX_HTTP_LLMOIN_VAR_PROMPT_TOKENS,
    NGX_HTTP_LLMOIN_VAR_COMPLETION_TOKENS,
    NGX_HTTP_LLMOIN_VAR_TOTAL_TOKENS,
    NGX_HTTP_LLMOIN_VAR_USAGE,
    NGX_HTTP_LLMOIN_VAR_STREAM,
    NGX_HTTP_LLMOIN_VAR_JOURNAL,
    NGX_HTTP_LLMOIN_VAR_GROUPS,
    NGX_HTTP_LLMOIN_VAR_JWKS_HINT,
    NGX_HTTP_LLMOIN_VAR_TOKEN_ISSUER,
    NGX_HTTP_LLMOIN_VAR_QUOTA,
    NGX_HTTP_LLMOIN_VAR_FUNCTION,
    NGX_HTTP_LLMOIN_VAR_FIRST_BYTE_TIME
} ngx_http_llmoin_variable_e;


static ngx_int_t ngx_http_llmoin_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_llmoin_vars[] = {

    { ngx_string("llmoin_tenant"), NULL, ngx_http_llmoin_variable,
      NGX_HTTP_LLMOIN_VAR_TENANT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llmoin_tenant_id"), NULL, ngx_http_llmoin_variable,
      NGX_HTTP_LLMOIN_VAR_TENANT_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llmoin_user"), NULL, ngx_http_llmoin_variable,
      NGX_HTTP_LLMOIN_VAR_USER, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llmoin_user_pseudonym"), NULL, ngx_http_llmoin_variable,
      NGX_HTTP_LLMOIN_VAR_USER_PSEUDONYM, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llmoin_key_id"), NULL, ngx_http_llmoin_variable,
      NGX_HTTP_LLMOIN_VAR_KEY_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llmoin_model"), NULL, ngx_http_llmoin_variable,
      NGX_HTTP_LLMOIN_VAR_MODEL, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llmoin_pool"), NULL, ngx_http_llmoin_variable,
      NGX_HTTP_LLMOIN_VAR_POOL, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llmoin_prompt_tokens"), NULL, ngx_http_llmoin_variable,
      NGX_HTTP_LLMOIN_VAR_PROMPT_TOKENS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llmoin_completion_tokens"), NULL, ngx_http_llmoin_variable,
      NGX_HTTP_LLMOIN_VAR_COMPLETION_TOKENS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llmoin_total_tokens"), NULL, ngx_http_llmoin_variable,
      NGX_HTTP_LLMOIN_VAR_TOTAL_TOKENS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llmoin_usage"), NULL, ngx_http_llmoin_variable,
      NGX_HTTP_LLMOIN_VAR_USAGE, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llmoin_stream"), NULL, ngx_http_llmoin_variable,
      NGX_HTTP_LLMOIN_VAR_STREAM, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llmoin_journal"), NULL, ngx_http_llmoin_variable,
      NGX_HTTP_LLMOIN_VAR_JOURNAL, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llmoin_groups"), NULL, ngx_http_llmoin_variable,
      NGX_HTTP_LLMOIN_VAR_GROUPS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llmoin_jwks_hint"), NULL, ngx_http_llmoin_variable,
      NGX_HTTP_LLMOIN_VAR_JWKS_HINT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llmoin_token_issuer"), NULL, ngx_http_llmoin_variable,
      NGX_HTTP_LLMOIN_VAR_TOKEN_ISSUER, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llmoin_quota"), NULL, ngx_http_llmoin_variable,
      NGX_HTTP_LLMOIN_VAR_QUOTA, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llmoin_function"), NULL, ngx_http_llmoin_variable,
      NGX_HTTP_LLMOIN_VAR_FUNCTION, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llmoin_first_byte_time"), NULL, ngx_http_llmoin_variable,
      NGX_HTTP_LLMOIN_VAR_FIRST_BYTE_TIME, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_str_t  ngx_http_llmoin_quota_names[] = {
    ngx_string("none"),
    ngx_string("checked"),
    ngx_string("unchecked")
};


static ngx_str_t  ngx_http_llmoin_usage_names[] = {
    ngx_string("none"),
    ngx_string("reported"),
    ngx_string("estimated")
};


static ngx_int_t
ngx_http_llmoin_number(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    int64_t number)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->data = p;
    v->len = ngx_sprintf(p, "%L", number) - p;

    return NGX_OK;
}


static ngx_int_t
ngx_http_llmoin_usage_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, ngx_http_llmoin_ctx_t *ctx,
    ngx_http_llmoin_variable_e which)
{
    ngx_http_llmoin_usage_settle(r, ctx);

    switch (which) {

    case NGX_HTTP_LLMOIN_VAR_PROMPT_TOKENS:
        return ngx_http_llmoin_number(r, v, ctx->prompt_tokens);

    case NGX_HTTP_LLMOIN_VAR_COMPLETION_TOKENS:
        return ngx_http_llmoin_number(r, v, ctx->completion_tokens);

    case NGX_HTTP_LLMOIN_VAR_TOTAL_TOKENS:
        return ngx_http_llmoin_number(r, v,
                                      ctx->prompt_tokens
                                      + ctx->completion_tokens);

    default:
        v->data = ngx_http_llmoin_usage_names[ctx->usage_source].data;
        v->len = ngx_http_llmoin_usage_names[ctx->usage_source].len;
        return NGX_OK;
    }
}


static ngx_str_t *
ngx_http_llmoin_string_field(ngx_http_llmoin_ctx_t *ctx,
    ngx_http_llmoin_variable_e which)
{
    switch (which) {
    case NGX_HTTP_LLMOIN_VAR_TENANT:          return &ctx->tenant_slug;
    case NGX_HTTP_LLMOIN_VAR_TENANT_ID:       return &ctx->tenant_id;
    case NGX_HTTP_LLMOIN_VAR_USER:            return &ctx->user;
    case NGX_HTTP_LLMOIN_VAR_USER_PSEUDONYM:  return &ctx->user_pseudonym;
    case NGX_HTTP_LLMOIN_VAR_KEY_ID:          return &ctx->key_id;
    case NGX_HTTP_LLMOIN_VAR_MODEL:           return &ctx->model;
    case NGX_HTTP_LLMOIN_VAR_POOL:            return &ctx->pool;
    case NGX_HTTP_LLMOIN_VAR_GROUPS:          return &ctx->groups;
    case NGX_HTTP_LLMOIN_VAR_FUNCTION:        return &ctx->function;
    case NGX_HTTP_LLMOIN_VAR_TOKEN_ISSUER:    return &ctx->jwks_hint_issuer;
    default:                                  return NULL;
    }
}


static ngx_int_t
ngx_http_llmoin_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    ngx_str_t                   *value;
    ngx_http_llmoin_ctx_t       *ctx;
    ngx_http_llmoin_variable_e   which = data;

    ctx = ngx_http_llmoin_get_ctx(r->main);

    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->len = 0;
    v->data = (u_char *) "";

    if (ctx == NULL) {
        return NGX_OK;
    }

    switch (which) {

    case NGX_HTTP_LLMOIN_VAR_STREAM:
        v->data = (u_char *) (ctx->stream ? "1" : "0");
        v->len = 1;
        return NGX_OK;

    case NGX_HTTP_LLMOIN_VAR_JOURNAL:
        v->data = (u_char *) (ctx->admitted ? "1" : "");
        v->len = ctx->admitted ? 1 : 0;
        return NGX_OK;

    case NGX_HTTP_LLMOIN_VAR_QUOTA:
        v->data = ngx_http_llmoin_quota_names[ctx->quota_state].data;
        v->len = ngx_http_llmoin_quota_names[ctx->quota_state].len;
        return NGX_OK;

    case NGX_HTTP_LLMOIN_VAR_FIRST_BYTE_TIME:
        if (!ctx->first_byte) {
            return NGX_OK;
        }

        v->data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN + 4);
        if (v->data == NULL) {
            return NGX_ERROR;
        }

        v->len = ngx_sprintf(v->data, "%T.%03M",
                             (time_t) (ctx->first_byte_ms / 1000),
                             ctx->first_byte_ms % 1000)
                 - v->data;
        return NGX_OK;

    case NGX_HTTP_LLMOIN_VAR_JWKS_HINT:
        v->data = (u_char *) "1";
        v->len = ctx->jwks_hint_issuer.len ? 1 : 0;
        return NGX_OK;

    case NGX_HTTP_LLMOIN_VAR_PROMPT_TOKENS:
    case NGX_HTTP_LLMOIN_VAR_COMPLETION_TOKENS:
    case NGX_HTTP_LLMOIN_VAR_TOTAL_TOKENS:
    case NGX_HTTP_LLMOIN_VAR_USAGE:
        return ngx_http_llmoin_usage_variable(r, v, ctx, which);

    default:
        value = ngx_http_llmoin_string_field(ctx, which);
        if (value != NULL && value->data != NULL) {
            v->data = value->data;
            v->len = value->len;
        }
        return NGX_OK;
    }
}


ngx_int_t
ngx_http_llmoin_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_llmoin_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}
