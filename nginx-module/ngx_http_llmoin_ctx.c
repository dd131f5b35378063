/*
 * The request context. nginx clears module contexts on an internal redirect
 * (error_page, named locations), yet an admitted request that ends in, say,
 * a 502 page must still reach the usage journal with its tenant. So the
 * context is also hung on the request pool as a cleanup entry and found
 * there again, the way ngx_http_realip_module keeps its state.
 */

#include "ngx_http_llmoin_module.h"


static void
ngx_http_llmoin_ctx_cleanup(void *data)
{
    /* nothing to free: the context lives in the pool; the entry is a marker */
}


ngx_http_llmoin_ctx_t *
ngx_http_llmoin_create_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t     *cln;
    ngx_http_llmoin_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_llmoin_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_llmoin_ctx_cleanup;
    cln->data = ctx;

    ngx_http_set_ctx(r, ctx, ngx_http_llmoin_module);

    return ctx;
}


ngx_http_llmoin_ctx_t *
ngx_http_llmoin_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t     *cln;
    ngx_http_llmoin_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_llmoin_module);

    if (ctx != NULL || !r->internal) {
        return ctx;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_llmoin_ctx_cleanup) {
            ctx = cln->data;
            ngx_http_set_ctx(r, ctx, ngx_http_llmoin_module);
            return ctx;
        }
    }

    return NULL;
}
