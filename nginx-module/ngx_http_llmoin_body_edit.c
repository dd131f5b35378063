/*
 * Edits of the request body before it goes upstream: the proxy sends the
 * edited bytes, with their length, instead of the client's.
 *
 *   ngx_http_llmoin_body_add_member()  a member at the start of the object
 *                                      (the tenant's max_tokens cap)
 *   ngx_http_llmoin_include_usage()    a stream whose client did not ask for
 *                                      its usage asks for it:
 *       no stream_options               -> "stream_options":{"include_usage":true}
 *       stream_options null             -> {"include_usage":true}
 *       an object without include_usage
 *       or with false                   -> ,"include_usage":true at its end
 *                                          (the last member of a name counts)
 *       include_usage true              -> unchanged: the client sees the
 *                                          usage chunk
 *       anything else                   -> unchanged: the upstream answers it
 *   The answer's extra usage chunk is taken out again on the way back
 *   (ngx_http_llmoin_stream_filter.c).
 */

#include "ngx_http_llmoin_module.h"


#define NGX_HTTP_LLMOIN_INCLUDE_USAGE  "\"include_usage\":true"


static ngx_flag_t
ngx_http_llmoin_is_space(u_char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


/* body[at, at + remove) replaced by text */

static ngx_int_t
ngx_http_llmoin_body_splice(ngx_http_request_t *r, ngx_http_llmoin_ctx_t *ctx,
    ngx_str_t *body, u_char *at, size_t remove, u_char *text, size_t len)
{
    u_char       *p, *last;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    last = body->data + body->len;

    b = ngx_create_temp_buf(r->pool, body->len - remove + len);
    cl = ngx_alloc_chain_link(r->pool);
    if (b == NULL || cl == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(b->last, body->data, at - body->data);
    p = ngx_cpymem(p, text, len);
    b->last = ngx_cpymem(p, at + remove, last - (at + remove));
    b->last_buf = 1;
    b->last_in_chain = 1;

    cl->buf = b;
    cl->next = NULL;

    r->request_body->bufs = cl;
    r->headers_in.content_length_n = b->last - b->pos;

    body->data = b->pos;
    body->len = b->last - b->pos;
    ctx->request_body_bytes = body->len;

    return NGX_OK;
}


/* {member, + the rest of the object (the body is a valid JSON object) */

ngx_int_t
ngx_http_llmoin_body_add_member(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx, ngx_str_t *body, ngx_str_t *member)
{
    u_char  *open, *rest, *last, *text;

    last = body->data + body->len;
    open = ngx_strlchr(body->data, last, '{');
    if (open == NULL) {
        return NGX_ERROR;
    }

    for (rest = open + 1; rest < last && ngx_http_llmoin_is_space(*rest); rest++) {
        /* void */
    }

    text = ngx_pnalloc(r->pool, member->len + 1);
    if (text == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(text, member->data, member->len);
    text[member->len] = ',';

    return ngx_http_llmoin_body_splice(r, ctx, body, open + 1, 0, text,
                                       member->len
                                       + (rest < last && *rest != '}'));
}


/* ,"include_usage":true before the closing brace of the object options */

static ngx_int_t
ngx_http_llmoin_options_add(ngx_http_request_t *r, ngx_http_llmoin_ctx_t *ctx,
    ngx_str_t *body, u_char *open, u_char *close)
{
    u_char      *p;
    ngx_flag_t   empty;

    static u_char  text[] = "," NGX_HTTP_LLMOIN_INCLUDE_USAGE;

    empty = 1;

    for (p = open + 1; p < close; p++) {
        if (!ngx_http_llmoin_is_space(*p)) {
            empty = 0;
            break;
        }
    }

    return ngx_http_llmoin_body_splice(r, ctx, body, close, 0,
                                       empty ? text + 1 : text,
                                       sizeof(text) - 1 - empty);
}


/*
 * For a streaming request: NGX_OK whether or not the body was changed
 * (ctx->usage_injected tells), NGX_ERROR if it could not be.
 */
ngx_int_t
ngx_http_llmoin_include_usage(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx, ngx_str_t *body, llmoin_json_span_t *options)
{
    bool                 asked;
    u_char              *open, *close;
    ngx_int_t            rc;
    llmoin_json_span_t   include;

    static ngx_str_t     member = ngx_string(
        "\"stream_options\":{" NGX_HTTP_LLMOIN_INCLUDE_USAGE "}");
    static u_char        object[] = "{" NGX_HTTP_LLMOIN_INCLUDE_USAGE "}";
    static const char   *keys[] = { "include_usage" };

    if (options->ptr == NULL) {
        rc = ngx_http_llmoin_body_add_member(r, ctx, body, &member);

    } else if (llmoin_json_is_null(options->ptr, options->len)) {
        rc = ngx_http_llmoin_body_splice(r, ctx, body, (u_char *) options->ptr,
                                         options->len, object,
                                         sizeof(object) - 1);

    } else {
        open = (u_char *) options->ptr;
        close = open + options->len - 1;

        if (*open != '{' || *close != '}'
            || llmoin_json_get_top(options->ptr, options->len, keys, 1,
                                   &include) != 0)
        {
            return NGX_OK;
        }

        if (include.ptr != NULL
            && !llmoin_json_is_null(include.ptr, include.len)
            && (llmoin_json_parse_bool(include.ptr, include.len, &asked) != 0
                || asked))
        {
            return NGX_OK;
        }

        rc = ngx_http_llmoin_options_add(r, ctx, body, open, close);
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->usage_injected = 1;

    return NGX_OK;
}
