/*
 * Errors in OpenAI's shape, so OpenAI SDKs raise their usual exceptions:
 *
 *   {"error":{"message":"...","type":"...","param":null,"code":"..."}}
 */

#include "ngx_http_llmoin_module.h"


static ngx_str_t  ngx_http_llmoin_json_type = ngx_string("application/json");


ngx_int_t
ngx_http_llmoin_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, const char *code, ngx_str_t *message)
{
    size_t       len;
    u_char      *p;
    ngx_buf_t   *b;

    len = sizeof("{\"error\":{\"message\":\"\",\"type\":\"\",\"param\":null,"
                 "\"code\":\"\"}}\n") - 1
          + message->len + ngx_escape_json(NULL, message->data, message->len)
          + ngx_strlen(type) + ngx_strlen(code);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(b->last, "{\"error\":{\"message\":\"",
                   sizeof("{\"error\":{\"message\":\"") - 1);
    p = (u_char *) ngx_escape_json(p, message->data, message->len);
    p = ngx_sprintf(p, "\",\"type\":\"%s\",\"param\":null,\"code\":\"%s\"}}\n",
                    type, code);
    b->last = p;

    if (status == NGX_HTTP_UNAUTHORIZED) {
        r->headers_out.www_authenticate = ngx_list_push(&r->headers_out.headers);
        if (r->headers_out.www_authenticate == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        r->headers_out.www_authenticate->hash = 1;
        ngx_str_set(&r->headers_out.www_authenticate->key, "WWW-Authenticate");
        ngx_str_set(&r->headers_out.www_authenticate->value,
                    "Bearer realm=\"llmoin\"");
    }

    return ngx_http_llmoin_send_json(r, status, b);
}


/* answers with a JSON body the module made, discarding the request body */

ngx_int_t
ngx_http_llmoin_send_json(ngx_http_request_t *r, ngx_uint_t status,
    ngx_buf_t *b)
{
    ngx_int_t    rc;
    ngx_chain_t  out;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_type = ngx_http_llmoin_json_type;
    r->headers_out.content_type_len = ngx_http_llmoin_json_type.len;
    r->headers_out.content_length_n = b->last - b->pos;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_llmoin_reject(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, const char *code, const char *message)
{
    ngx_str_t  text;

    text.data = (u_char *) message;
    text.len = ngx_strlen(message);

    return ngx_http_llmoin_send_error(r, status, type, code, &text);
}
