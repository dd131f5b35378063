/*
 * GET .../models and GET .../models/{id}: the gateway answers the OpenAI
 * model endpoints itself, from the tenant snapshot, so a client sees exactly
 * the models its tenant (and key) may use, whatever the pools behind serve.
 * Neither reaches a pool nor the usage journal.
 */

#include "ngx_http_llmoin_module.h"


#define NGX_HTTP_LLMOIN_MODEL_ENTRY_HEAD  "{\"id\":\""
#define NGX_HTTP_LLMOIN_MODEL_ENTRY_TAIL                                      \
    "\",\"object\":\"model\",\"created\":0,\"owned_by\":\"llmoin\"}"
#define NGX_HTTP_LLMOIN_LIST_HEAD         "{\"object\":\"list\",\"data\":["
#define NGX_HTTP_LLMOIN_LIST_TAIL         "]}\n"


static ngx_str_t  ngx_http_llmoin_models_segment = ngx_string("/models");


typedef struct {
    const llmoin_snapshot_t         *snapshot;
    const llmoin_snapshot_tenant_t  *tenant;
    const llmoin_snapshot_key_t     *key;
} ngx_http_llmoin_caller_t;


static ngx_int_t
ngx_http_llmoin_model_visible(ngx_http_llmoin_caller_t *caller,
    const char *alias, size_t len)
{
    const char  *pool;

    return llmoin_snapshot_route(caller->snapshot, caller->tenant, caller->key,
                                 alias, len, &pool)
           == LLMOIN_ROUTE_OK;
}


static size_t
ngx_http_llmoin_entry_size(const char *alias)
{
    size_t  len = ngx_strlen(alias);

    return sizeof(NGX_HTTP_LLMOIN_MODEL_ENTRY_HEAD) - 1
           + len + ngx_escape_json(NULL, (u_char *) alias, len)
           + sizeof(NGX_HTTP_LLMOIN_MODEL_ENTRY_TAIL) - 1;
}


static u_char *
ngx_http_llmoin_write_entry(u_char *p, const char *alias)
{
    p = ngx_cpymem(p, NGX_HTTP_LLMOIN_MODEL_ENTRY_HEAD,
                   sizeof(NGX_HTTP_LLMOIN_MODEL_ENTRY_HEAD) - 1);
    p = (u_char *) ngx_escape_json(p, (u_char *) alias, ngx_strlen(alias));

    return ngx_cpymem(p, NGX_HTTP_LLMOIN_MODEL_ENTRY_TAIL,
                      sizeof(NGX_HTTP_LLMOIN_MODEL_ENTRY_TAIL) - 1);
}


static ngx_int_t
ngx_http_llmoin_models_list(ngx_http_request_t *r,
    ngx_http_llmoin_caller_t *caller)
{
    const llmoin_snapshot_t  *snapshot = caller->snapshot;

    size_t       len;
    u_char      *p;
    ngx_buf_t   *b;
    ngx_uint_t   i, first;
    const char  *alias;

    len = sizeof(NGX_HTTP_LLMOIN_LIST_HEAD) - 1
          + sizeof(NGX_HTTP_LLMOIN_LIST_TAIL) - 1;

    for (i = 0; i < snapshot->model_count; i++) {
        len += ngx_http_llmoin_entry_size(snapshot->models[i].alias) + 1;
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(b->last, NGX_HTTP_LLMOIN_LIST_HEAD,
                   sizeof(NGX_HTTP_LLMOIN_LIST_HEAD) - 1);
    first = 1;

    for (i = 0; i < snapshot->model_count; i++) {
        alias = snapshot->models[i].alias;

        if (!ngx_http_llmoin_model_visible(caller, alias, ngx_strlen(alias)))
        {
            continue;
        }

        if (!first) {
            *p++ = ',';
        }

        first = 0;
        p = ngx_http_llmoin_write_entry(p, alias);
    }

    b->last = ngx_cpymem(p, NGX_HTTP_LLMOIN_LIST_TAIL,
                         sizeof(NGX_HTTP_LLMOIN_LIST_TAIL) - 1);

    return ngx_http_llmoin_send_json(r, NGX_HTTP_OK, b);
}


static ngx_int_t
ngx_http_llmoin_models_one(ngx_http_request_t *r,
    ngx_http_llmoin_caller_t *caller, ngx_str_t *id)
{
    const llmoin_snapshot_t  *snapshot = caller->snapshot;

    u_char     *p, message[512];
    ngx_str_t   text;
    ngx_buf_t  *b;
    ngx_uint_t  i;

    for (i = 0; i < snapshot->model_count; i++) {
        p = (u_char *) snapshot->models[i].alias;

        if (ngx_strlen(p) == id->len && ngx_strncmp(p, id->data, id->len) == 0
            && ngx_http_llmoin_model_visible(caller, (char *) p, id->len))
        {
            b = ngx_create_temp_buf(r->pool,
                                    ngx_http_llmoin_entry_size((char *) p) + 1);
            if (b == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            b->last = ngx_http_llmoin_write_entry(b->last, (char *) p);
            *b->last++ = '\n';

            return ngx_http_llmoin_send_json(r, NGX_HTTP_OK, b);
        }
    }

    /* unknown and not allowed look the same: no model names leak */

    text.data = message;
    text.len = ngx_snprintf(message, sizeof(message),
                            "The model '%V' does not exist or you do not "
                            "have access to it.", id)
               - message;

    return ngx_http_llmoin_send_error(r, NGX_HTTP_NOT_FOUND,
                                      "invalid_request_error",
                                      "model_not_found", &text);
}


ngx_int_t
ngx_http_llmoin_models(ngx_http_request_t *r,
    const llmoin_snapshot_t *snapshot, const llmoin_snapshot_tenant_t *tenant,
    const llmoin_snapshot_key_t *key)
{
    u_char                    *p, *last;
    ngx_str_t                  id, *segment;
    ngx_http_llmoin_caller_t   caller = { snapshot, tenant, key };

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_DECLINED;
    }

    segment = &ngx_http_llmoin_models_segment;
    last = r->uri.data + r->uri.len;

    if (r->uri.len >= segment->len
        && ngx_strncmp(last - segment->len, segment->data, segment->len) == 0)
    {
        return ngx_http_llmoin_models_list(r, &caller);
    }

    /* .../models/{id}; an id may itself hold slashes (org/model) */

    p = ngx_strlcasestrn(r->uri.data, last, (u_char *) "/models/",
                         sizeof("/models/") - 2);
    if (p == NULL || p + sizeof("/models/") - 1 >= last) {
        return NGX_DECLINED;
    }

    id.data = p + sizeof("/models/") - 1;
    id.len = last - id.data;

    return ngx_http_llmoin_models_one(r, &caller, &id);
}
