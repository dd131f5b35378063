/*
 * The request body: read it (after authentication), take "model",
 * "stream" and the token cap from its top level, route the model to the pool
 * that serves it for this tenant, bound max_tokens, reserve the quota, and
 * set the trusted headers for the upstream.
 *
 *   X-LLMoin-Function not one of
 *   chat|summarize|write|research|
 *   plain_language                -> 400
 *   no body, or no "model" in it  -> 400
 *   body not a JSON object        -> 400
 *   key revoked or expired, tenant
 *   suspended while the body came -> 401 / 403
 *   model unknown                 -> 404
 *   model not allowed             -> 403
 *   max_tokens above the cap      -> 400 (none given: the cap is set)
 *   a stream without include_usage -> asked for (ngx_http_llmoin_body_edit.c)
 *   a limit reached               -> 429 (ngx_http_llmoin_quota.c)
 *
 * GET .../models is answered earlier, by ngx_http_llmoin_models.c.
 */

#include "ngx_http_llmoin_module.h"

#include "usage.h"


#define NGX_HTTP_LLMOIN_MODEL_MAX     256


static void ngx_http_llmoin_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_llmoin_admit(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx);
static ngx_int_t ngx_http_llmoin_body_bytes(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_http_llmoin_parse_body(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx, ngx_str_t *body, int64_t *max_tokens,
    llmoin_json_span_t *stream_options);
static ngx_int_t ngx_http_llmoin_route(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx, const llmoin_snapshot_tenant_t **tenantp);


ngx_int_t
ngx_http_llmoin_read_request(ngx_http_request_t *r, ngx_http_llmoin_ctx_t *ctx)
{
    ngx_int_t  rc;

    ctx->body_requested = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_llmoin_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    /* balances the reference ngx_http_read_client_request_body() took */

    ngx_http_finalize_request(r, NGX_DONE);

    return NGX_DONE;
}


static void
ngx_http_llmoin_body_handler(ngx_http_request_t *r)
{
    ngx_int_t               rc;
    ngx_http_llmoin_ctx_t  *ctx;

    ctx = ngx_http_llmoin_get_ctx(r);

    rc = ngx_http_llmoin_admit(r, ctx);

    if (rc == NGX_AGAIN) {
        /* the quota store answers later: ngx_http_llmoin_quota.c goes on */
        return;
    }

    ngx_http_llmoin_proceed(r, ctx, rc);
}


/*
 * After the last check: send the request upstream (NGX_OK), or end it with
 * the refusal already sent or a status code.
 */
void
ngx_http_llmoin_proceed(ngx_http_request_t *r, ngx_http_llmoin_ctx_t *ctx,
    ngx_int_t rc)
{
    /* a refusal already sent its answer, whatever the send returned */

    if (rc != NGX_OK || r->header_sent) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    if (ngx_http_llmoin_trusted_headers(r, ctx) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->admitted = 1;

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
}


/*
 * NGX_OK with no header sent: admitted; NGX_AGAIN: waiting for the quota
 * store. Otherwise a response code, or the result of sending a refusal, for
 * ngx_http_finalize_request().
 */
static ngx_int_t
ngx_http_llmoin_admit(ngx_http_request_t *r, ngx_http_llmoin_ctx_t *ctx)
{
    int64_t                          max_tokens;
    ngx_int_t                        rc;
    ngx_str_t                        body;
    llmoin_json_span_t               stream_options;
    const llmoin_snapshot_tenant_t  *tenant;

    if (r->request_body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_llmoin_entry_function(r, &ctx->function) != NGX_OK) {
        return ngx_http_llmoin_reject(r, NGX_HTTP_BAD_REQUEST,
                                      "invalid_request_error",
                                      "invalid_function",
                                      "The header X-LLMoin-Function must be "
                                      "given at most once, as chat, "
                                      "summarize, write, research or "
                                      "plain_language.");
    }

    rc = ngx_http_llmoin_body_bytes(r, &body);
    if (rc != NGX_OK) {
        return rc;
    }

    ctx->request_body_bytes = body.len;

    /* after a refusal the answer is sent, whatever the send returned */

    rc = ngx_http_llmoin_parse_body(r, ctx, &body, &max_tokens,
                                    &stream_options);
    if (rc != NGX_OK || r->header_sent) {
        return rc;
    }

    /* the stream's usage is asked for (before the cap moves the spans) */

    if (ctx->stream
        && ngx_http_llmoin_include_usage(r, ctx, &body, &stream_options)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_llmoin_route(r, ctx, &tenant);
    if (rc != NGX_OK || r->header_sent) {
        return rc;
    }

    rc = ngx_http_llmoin_cap_tokens(r, ctx, &body, tenant->max_tokens_cap,
                                    &max_tokens);
    if (rc != NGX_OK || r->header_sent) {
        return rc;
    }

    return ngx_http_llmoin_quota_admit(r, ctx, max_tokens);
}


/* the whole body as one contiguous piece, from memory or the temp file */

static ngx_int_t
ngx_http_llmoin_body_bytes(ngx_http_request_t *r, ngx_str_t *body)
{
    off_t         len;
    u_char       *p;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    body->len = (size_t) len;
    body->data = NULL;

    if (len == 0) {
        return NGX_OK;
    }

    cl = r->request_body->bufs;

    if (cl->next == NULL && ngx_buf_in_memory(cl->buf)) {
        body->data = cl->buf->pos;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, (size_t) len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body->data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        /* a chunked body ends with an empty buffer, neither memory nor file */

        if (ngx_buf_size(b) == 0) {
            continue;
        }

        if (ngx_buf_in_memory(b)) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
            continue;
        }

        n = ngx_read_file(b->file, p, (size_t) (b->file_last - b->file_pos),
                          b->file_pos);
        if (n != b->file_last - b->file_pos) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p += n;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_llmoin_bad_body(ngx_http_request_t *r, const char *code,
    const char *what)
{
    u_char     message[256];
    ngx_str_t  text;

    text.data = message;
    text.len = ngx_snprintf(message, sizeof(message),
                            "We could not parse the JSON body of your "
                            "request: %s.", what)
               - message;

    return ngx_http_llmoin_send_error(r, NGX_HTTP_BAD_REQUEST,
                                      "invalid_request_error", code, &text);
}


static ngx_int_t
ngx_http_llmoin_parse_body(ngx_http_request_t *r, ngx_http_llmoin_ctx_t *ctx,
    ngx_str_t *body, int64_t *max_tokens, llmoin_json_span_t *stream_options)
{
    int                  rc;
    bool                 stream;
    char                 model[NGX_HTTP_LLMOIN_MODEL_MAX];
    size_t               model_len;
    llmoin_json_span_t   values[5];
    static const char   *keys[] = { "model", "stream", "max_tokens",
                                    "max_completion_tokens",
                                    "stream_options" };

    if (body->len == 0) {
        return ngx_http_llmoin_reject(r, NGX_HTTP_BAD_REQUEST,
                                      "invalid_request_error", "missing_model",
                                      "You must provide a model parameter in a "
                                      "JSON request body.");
    }

    rc = llmoin_json_get_top((const char *) body->data, body->len, keys, 5,
                             values);
    if (rc != 0) {
        return ngx_http_llmoin_bad_body(r, "invalid_json",
                                        llmoin_json_strerror(rc));
    }

    if (values[0].ptr == NULL) {
        return ngx_http_llmoin_reject(r, NGX_HTTP_BAD_REQUEST,
                                      "invalid_request_error", "missing_model",
                                      "You must provide a model parameter.");
    }

    if (llmoin_json_parse_string(values[0].ptr, values[0].len, model,
                                 sizeof(model), &model_len) != 0
        || model_len == 0)
    {
        return ngx_http_llmoin_bad_body(r, "invalid_model",
                                        "'model' must be a non-empty string "
                                        "of at most 255 bytes");
    }

    stream = false;

    if (values[1].ptr != NULL
        && !llmoin_json_is_null(values[1].ptr, values[1].len)
        && llmoin_json_parse_bool(values[1].ptr, values[1].len, &stream) != 0)
    {
        return ngx_http_llmoin_bad_body(r, "invalid_stream",
                                        "'stream' must be true or false");
    }

    ctx->stream = stream ? 1 : 0;
    *stream_options = values[4];

    if (ngx_http_llmoin_requested_tokens(&values[2], &values[3], max_tokens)
        != NGX_OK)
    {
        return ngx_http_llmoin_bad_body(r, "invalid_max_tokens",
                                        "'max_tokens' and "
                                        "'max_completion_tokens' must be "
                                        "positive whole numbers");
    }

    ctx->model.len = model_len;
    ctx->model.data = ngx_pnalloc(r->pool, model_len);
    if (ctx->model.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(ctx->model.data, model, model_len);

    return NGX_OK;
}


static ngx_int_t
ngx_http_llmoin_route(ngx_http_request_t *r, ngx_http_llmoin_ctx_t *ctx,
    const llmoin_snapshot_tenant_t **tenantp)
{
    u_char                           message[512];
    ngx_int_t                        rc;
    ngx_str_t                        text;
    const char                      *pool;
    llmoin_route_result_t            route;
    const llmoin_snapshot_t         *snapshot;
    const llmoin_snapshot_key_t     *key;
    const llmoin_snapshot_tenant_t  *tenant;
    ngx_http_llmoin_identity_t       identity;

    /*
     * The snapshot may have been replaced while the body was read: look the
     * credential up again, so a revocation in between counts.
     */

    snapshot = ngx_http_llmoin_snapshot();
    tenant = llmoin_snapshot_find_tenant(snapshot, ctx->tenant_number);
    key = ctx->key_hash[0] != '\0'
          ? llmoin_snapshot_find_key(snapshot, ctx->key_hash) : NULL;

    if (tenant == NULL
        || (ctx->key_hash[0] != '\0' && (key == NULL || key->tenant != tenant)))
    {
        return ngx_http_llmoin_reject(r, NGX_HTTP_UNAUTHORIZED,
                                      "invalid_request_error",
                                      "invalid_api_key",
                                      "Incorrect API key provided.");
    }

    ngx_memzero(&identity, sizeof(ngx_http_llmoin_identity_t));
    identity.tenant = tenant;
    identity.key = key;

    rc = ngx_http_llmoin_identity_refusal(r, &identity);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    *tenantp = tenant;

    route = llmoin_snapshot_route(snapshot, tenant, key,
                                  (char *) ctx->model.data, ctx->model.len,
                                  &pool);

    if (route == LLMOIN_ROUTE_OK) {
        ctx->pool.len = ngx_strlen(pool);
        ctx->pool.data = ngx_pstrdup(r->pool,
                                     &(ngx_str_t) { ctx->pool.len,
                                                    (u_char *) pool });
        return ctx->pool.data != NULL ? NGX_OK
                                      : NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    text.data = message;

    if (route == LLMOIN_ROUTE_UNKNOWN_MODEL) {
        text.len = ngx_snprintf(message, sizeof(message),
                                "The model '%V' does not exist or you do not "
                                "have access to it.", &ctx->model)
                   - message;
        return ngx_http_llmoin_send_error(r, NGX_HTTP_NOT_FOUND,
                                          "invalid_request_error",
                                          "model_not_found", &text);
    }

    text.len = ngx_snprintf(message, sizeof(message),
                            "Your organisation may not use the model '%V'.",
                            &ctx->model)
               - message;

    return ngx_http_llmoin_send_error(r, NGX_HTTP_FORBIDDEN,
                                      "permission_error", "model_not_allowed",
                                      &text);
}
