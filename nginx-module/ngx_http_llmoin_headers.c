/*
 * Request headers: the reserved X-LLMoin-* family clients may not send
 * (except X-LLMoin-Function, the entry function the web page names), and
 * the trusted headers the gateway sends upstream in their place.
 */

#include "ngx_http_llmoin_module.h"


#define NGX_HTTP_LLMOIN_RESERVED_PREFIX  "x-llmoin-"
#define NGX_HTTP_LLMOIN_FUNCTION_HEADER  "x-llmoin-function"


typedef struct {
    ngx_list_part_t  *part;
    ngx_uint_t        index;
} ngx_http_llmoin_header_iter_t;


static void
ngx_http_llmoin_header_iter_init(ngx_http_llmoin_header_iter_t *it,
    ngx_http_request_t *r)
{
    it->part = &r->headers_in.headers.part;
    it->index = 0;
}


static ngx_table_elt_t *
ngx_http_llmoin_header_next(ngx_http_llmoin_header_iter_t *it)
{
    ngx_table_elt_t  *header;

    while (it->index >= it->part->nelts) {
        if (it->part->next == NULL) {
            return NULL;
        }

        it->part = it->part->next;
        it->index = 0;
    }

    header = it->part->elts;

    return &header[it->index++];
}


static ngx_flag_t
ngx_http_llmoin_is_function_header(ngx_table_elt_t *h)
{
    return h->key.len == sizeof(NGX_HTTP_LLMOIN_FUNCTION_HEADER) - 1
           && ngx_strncasecmp(h->key.data,
                              (u_char *) NGX_HTTP_LLMOIN_FUNCTION_HEADER,
                              h->key.len) == 0;
}


/*
 * The entry function of X-LLMoin-Function: "" without the header, else one
 * of the web page's functions. NGX_DECLINED: another value, or the header
 * twice.
 */
ngx_int_t
ngx_http_llmoin_entry_function(ngx_http_request_t *r, ngx_str_t *function)
{
    ngx_uint_t                      i;
    ngx_table_elt_t                *h;
    ngx_http_llmoin_header_iter_t   it;

    static ngx_str_t  functions[] = {
        ngx_string("chat"), ngx_string("summarize"), ngx_string("write"),
        ngx_string("research"), ngx_string("plain_language")
    };

    ngx_str_null(function);
    ngx_http_llmoin_header_iter_init(&it, r);

    while ((h = ngx_http_llmoin_header_next(&it)) != NULL) {
        if (!ngx_http_llmoin_is_function_header(h)) {
            continue;
        }

        if (function->data != NULL) {
            return NGX_DECLINED;
        }

        for (i = 0; i < sizeof(functions) / sizeof(functions[0]); i++) {
            if (h->value.len == functions[i].len
                && ngx_strncmp(h->value.data, functions[i].data,
                               functions[i].len) == 0)
            {
                *function = functions[i];
                break;
            }
        }

        if (function->data == NULL) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


ngx_table_elt_t *
ngx_http_llmoin_reserved_header(ngx_http_request_t *r)
{
    ngx_table_elt_t                *h;
    ngx_http_llmoin_header_iter_t   it;

    ngx_http_llmoin_header_iter_init(&it, r);

    while ((h = ngx_http_llmoin_header_next(&it)) != NULL) {
        if (h->key.len >= sizeof(NGX_HTTP_LLMOIN_RESERVED_PREFIX) - 1
            && ngx_strncasecmp(h->key.data,
                               (u_char *) NGX_HTTP_LLMOIN_RESERVED_PREFIX,
                               sizeof(NGX_HTTP_LLMOIN_RESERVED_PREFIX) - 1)
               == 0
            && !ngx_http_llmoin_is_function_header(h))
        {
            return h;
        }
    }

    return NULL;
}


/* sets every header of that name to value, or adds one */

static ngx_int_t
ngx_http_llmoin_set_header(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value)
{
    ngx_uint_t                      found;
    ngx_table_elt_t                *h;
    ngx_http_llmoin_header_iter_t   it;

    found = 0;
    ngx_http_llmoin_header_iter_init(&it, r);

    while ((h = ngx_http_llmoin_header_next(&it)) != NULL) {
        if (h->key.len == name->len
            && ngx_strncasecmp(h->key.data, name->data, name->len) == 0)
        {
            h->value = *value;
            found = 1;
        }
    }

    if (found) {
        return NGX_OK;
    }

    h = ngx_list_push(&r->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->key = *name;
    h->value = *value;

    h->lowcase_key = ngx_pnalloc(r->pool, name->len);
    if (h->lowcase_key == NULL) {
        return NGX_ERROR;
    }

    h->hash = ngx_hash_strlow(h->lowcase_key, name->data, name->len);

    return NGX_OK;
}


/* nginx's $request_id, the key of the usage record and the quota slot */

ngx_int_t
ngx_http_llmoin_request_id(ngx_http_request_t *r, ngx_str_t *id)
{
    ngx_http_variable_value_t  *vv;

    static ngx_str_t   name = ngx_string("request_id");
    static ngx_uint_t  hash;

    if (hash == 0) {
        hash = ngx_hash_key(name.data, name.len);
    }

    vv = ngx_http_get_variable(r, &name, hash);
    if (vv == NULL || vv->not_found) {
        return NGX_ERROR;
    }

    id->data = vv->data;
    id->len = vv->len;

    return NGX_OK;
}


ngx_int_t
ngx_http_llmoin_trusted_headers(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx)
{
    static ngx_str_t  tenant = ngx_string("X-LLMoin-Tenant");
    static ngx_str_t  user = ngx_string("X-LLMoin-User");
    static ngx_str_t  request_id_header = ngx_string("X-Request-Id");

    /* the user's credential is not the upstream's business */

    if (r->headers_in.authorization != NULL) {
        ngx_str_null(&r->headers_in.authorization->value);
    }

    if (ngx_http_llmoin_set_header(r, &tenant, &ctx->tenant_slug) != NGX_OK
        || ngx_http_llmoin_set_header(r, &user, &ctx->user_pseudonym)
           != NGX_OK
        || ngx_http_llmoin_set_header(r, &request_id_header, &ctx->request_id)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
