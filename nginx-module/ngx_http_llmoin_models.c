/*
 * GET .../models: the gateway answers the OpenAI model list itself, from the
 * tenant snapshot, so a client sees exactly the models its tenant (and key)
 * may use, whatever the pools behind serve. It never reaches a pool and is
 * not part of the usage journal.
 */

#include "ngx_http_llmoin_module.h"


static ngx_str_t  ngx_http_llmoin_models_suffix = ngx_string("/models");


ngx_int_t
ngx_http_llmoin_is_models_request(ngx_http_request_t *r)
{
    ngx_str_t  *suffix = &ngx_http_llmoin_models_suffix;

    return (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))
           && r->uri.len >= suffix->len
           && ngx_strncmp(r->uri.data + r->uri.len - suffix->len,
                          suffix->data, suffix->len) == 0;
}


static ngx_int_t
ngx_http_llmoin_model_listed(const llmoin_snapshot_t *snapshot,
    const llmoin_snapshot_key_t *key, const char *alias)
{
    const char  *pool;

    return llmoin_snapshot_route(snapshot, key->tenant, key, alias,
                                 ngx_strlen(alias), &pool)
           == LLMOIN_ROUTE_OK;
}


ngx_int_t
ngx_http_llmoin_models_send(ngx_http_request_t *r,
    const llmoin_snapshot_t *snapshot, const llmoin_snapshot_key_t *key)
{
    size_t        len;
    u_char       *p;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_uint_t    i, first;
    ngx_chain_t   out;

    static const char  entry[] =
        "{\"id\":\"\",\"object\":\"model\",\"created\":0,"
        "\"owned_by\":\"llmoin\"},";

    len = sizeof("{\"object\":\"list\",\"data\":[]}\n") - 1;

    for (i = 0; i < snapshot->model_count; i++) {
        len += sizeof(entry) - 1
               + 6 * ngx_strlen(snapshot->models[i].alias);
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(b->last, "{\"object\":\"list\",\"data\":[",
                   sizeof("{\"object\":\"list\",\"data\":[") - 1);
    first = 1;

    for (i = 0; i < snapshot->model_count; i++) {
        if (!ngx_http_llmoin_model_listed(snapshot, key,
                                          snapshot->models[i].alias))
        {
            continue;
        }

        if (!first) {
            *p++ = ',';
        }

        first = 0;
        p = ngx_cpymem(p, "{\"id\":\"", sizeof("{\"id\":\"") - 1);
        p = (u_char *) ngx_escape_json(p, (u_char *) snapshot->models[i].alias,
                                       ngx_strlen(snapshot->models[i].alias));
        p = ngx_cpymem(p, "\",\"object\":\"model\",\"created\":0,"
                          "\"owned_by\":\"llmoin\"}",
                       sizeof("\",\"object\":\"model\",\"created\":0,"
                              "\"owned_by\":\"llmoin\"}") - 1);
    }

    p = ngx_cpymem(p, "]}\n", sizeof("]}\n") - 1);
    b->last = p;
    b->last_buf = 1;
    b->last_in_chain = 1;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    r->headers_out.status = NGX_HTTP_OK;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_length_n = b->last - b->pos;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
