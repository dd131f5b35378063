/*
 * Every reservation is bounded: a request may ask for at most the tenant's
 * max_tokens_cap answer tokens, and a request that names no limit gets the
 * cap written into its body ("max_tokens"), so the upstream stops there and
 * the quota reservation (prompt estimate + max_tokens) holds.
 *
 *   max_tokens / max_completion_tokens   the smaller one counts
 *   above the cap                        -> 400 max_tokens_too_large
 *   none                                 -> {"max_tokens":CAP, ...}
 */

#include "ngx_http_llmoin_module.h"

#include "usage.h"


static ngx_int_t
ngx_http_llmoin_token_value(llmoin_json_span_t *span, int64_t *value)
{
    if (span->ptr == NULL || llmoin_json_is_null(span->ptr, span->len)) {
        *value = 0;
        return NGX_OK;
    }

    if (llmoin_json_parse_int64(span->ptr, span->len, value) != 0
        || *value <= 0)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the limit the body asks for, 0 when none */

ngx_int_t
ngx_http_llmoin_requested_tokens(llmoin_json_span_t *max_tokens,
    llmoin_json_span_t *max_completion_tokens, int64_t *requested)
{
    int64_t  first, second;

    if (ngx_http_llmoin_token_value(max_tokens, &first) != NGX_OK
        || ngx_http_llmoin_token_value(max_completion_tokens, &second)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    *requested = first == 0 ? second
                 : second == 0 ? first
                 : ngx_min(first, second);

    return NGX_OK;
}


/* {"max_tokens":CAP, + the rest of the object */

static ngx_int_t
ngx_http_llmoin_insert_cap(ngx_http_request_t *r, ngx_http_llmoin_ctx_t *ctx,
    ngx_str_t *body, int64_t cap)
{
    u_char     text[sizeof("\"max_tokens\":") + NGX_INT64_LEN];
    ngx_str_t  member;

    member.data = text;
    member.len = ngx_sprintf(text, "\"max_tokens\":%L", cap) - text;

    return ngx_http_llmoin_body_add_member(r, ctx, body, &member);
}


/*
 * NGX_OK with *max_tokens the bound of the answer; otherwise the result of
 * a refusal or a status code.
 */
ngx_int_t
ngx_http_llmoin_cap_tokens(ngx_http_request_t *r, ngx_http_llmoin_ctx_t *ctx,
    ngx_str_t *body, int64_t cap, int64_t *max_tokens)
{
    u_char     message[256];
    ngx_str_t  text;

    if (*max_tokens > cap) {
        text.data = message;
        text.len = ngx_snprintf(message, sizeof(message),
                                "max_tokens is %L, but your organisation "
                                "allows at most %L answer tokens per request.",
                                *max_tokens, cap)
                   - message;

        return ngx_http_llmoin_send_error(r, NGX_HTTP_BAD_REQUEST,
                                          "invalid_request_error",
                                          "max_tokens_too_large", &text);
    }

    if (*max_tokens == 0) {
        if (ngx_http_llmoin_insert_cap(r, ctx, body, cap) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        *max_tokens = cap;
    }

    return NGX_OK;
}
