/*
 * Access phase: who is calling. Runs before the request body is read, so an
 * unauthenticated client never makes the gateway buffer a body:
 *
 *   1. client-sent X-LLMoin-* headers          -> 400 (they are ours)
 *   2. no tenant snapshot loaded yet           -> 503
 *   3. Authorization: Bearer <credential>
 *        missing or unknown, revoked, expired  -> 401
 *        tenant suspended                      -> 403
 *   4. GET .../models is answered from the snapshot (ngx_http_llmoin_models.c)
 *   5. read the body and route the model (ngx_http_llmoin_request.c)
 *
 * Tenant and user come only from the verified credential.
 */

#include "ngx_http_llmoin_module.h"


static ngx_int_t ngx_http_llmoin_deny(ngx_http_request_t *r,
    ngx_uint_t status, const char *type, const char *code,
    const char *message);
static ngx_int_t ngx_http_llmoin_bearer(ngx_http_request_t *r,
    ngx_str_t *token);
static ngx_int_t ngx_http_llmoin_authenticate(ngx_http_request_t *r,
    const llmoin_snapshot_t *snapshot, ngx_str_t *token,
    ngx_http_llmoin_ctx_t **ctxp);
static ngx_int_t ngx_http_llmoin_copy_identity(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx, const llmoin_snapshot_key_t *key);


ngx_int_t
ngx_http_llmoin_access_handler(ngx_http_request_t *r)
{
    u_char                      message[256], *last;
    ngx_int_t                   rc;
    ngx_str_t                   token;
    ngx_table_elt_t            *reserved;
    ngx_http_llmoin_ctx_t      *ctx;
    const llmoin_snapshot_t    *snapshot;
    ngx_http_llmoin_loc_conf_t *llcf;

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_llmoin_module);

    if (!llcf->enable || r != r->main) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_llmoin_get_ctx(r);

    if (ctx != NULL) {
        /* back after the body was read and the request admitted */
        return ctx->admitted ? NGX_OK : NGX_DONE;
    }

    reserved = ngx_http_llmoin_reserved_header(r);

    if (reserved != NULL) {
        last = ngx_snprintf(message, sizeof(message) - 1,
                            "The request header '%V' is reserved for the "
                            "gateway; clients must not send X-LLMoin-* "
                            "headers.%Z", &reserved->key);
        *last = '\0';
        return ngx_http_llmoin_deny(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_request_error",
                                    "reserved_header", (char *) message);
    }

    snapshot = ngx_http_llmoin_snapshot();

    if (snapshot == NULL) {
        return ngx_http_llmoin_deny(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "server_error", "gateway_not_ready",
                                    "The gateway has not loaded its tenant "
                                    "configuration yet. Try again shortly.");
    }

    if (ngx_http_llmoin_bearer(r, &token) != NGX_OK) {
        return ngx_http_llmoin_deny(r, NGX_HTTP_UNAUTHORIZED,
                                    "invalid_request_error", "missing_api_key",
                                    "You didn't provide an API key. Send it "
                                    "as 'Authorization: Bearer <key>'.");
    }

    rc = ngx_http_llmoin_authenticate(r, snapshot, &token, &ctx);

    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_llmoin_read_request(r, ctx);
}


/*
 * Answers the client and ends the request; NGX_DONE tells the access phase
 * that the request is finished, not admitted.
 */
static ngx_int_t
ngx_http_llmoin_deny(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, const char *code, const char *message)
{
    ngx_http_finalize_request(r, ngx_http_llmoin_reject(r, status, type, code,
                                                        message));
    return NGX_DONE;
}


static ngx_int_t
ngx_http_llmoin_bearer(ngx_http_request_t *r, ngx_str_t *token)
{
    u_char  *p, *last;

    if (r->headers_in.authorization == NULL) {
        return NGX_DECLINED;
    }

    p = r->headers_in.authorization->value.data;
    last = p + r->headers_in.authorization->value.len;

    if (last - p < (ssize_t) sizeof("Bearer ") - 1
        || ngx_strncasecmp(p, (u_char *) "Bearer ", sizeof("Bearer ") - 1)
           != 0)
    {
        return NGX_DECLINED;
    }

    p += sizeof("Bearer ") - 1;

    while (p < last && *p == ' ') {
        p++;
    }

    while (last > p && last[-1] == ' ') {
        last--;
    }

    if (p == last) {
        return NGX_DECLINED;
    }

    token->data = p;
    token->len = last - p;

    return NGX_OK;
}


static ngx_int_t
ngx_http_llmoin_authenticate(ngx_http_request_t *r,
    const llmoin_snapshot_t *snapshot, ngx_str_t *token,
    ngx_http_llmoin_ctx_t **ctxp)
{
    char                          hash[LLMOIN_APIKEY_HASH_BUFSZ];
    ngx_int_t                     rc;
    ngx_http_llmoin_ctx_t        *ctx;
    const llmoin_snapshot_key_t  *key;

    /* only API keys so far; OIDC tokens come with the sign-in work */

    if (!llmoin_apikey_looks_valid((char *) token->data, token->len)
        || llmoin_apikey_hash((char *) token->data, token->len, hash) != 0
        || (key = llmoin_snapshot_find_key(snapshot, hash)) == NULL)
    {
        return ngx_http_llmoin_deny(r, NGX_HTTP_UNAUTHORIZED,
                                    "invalid_request_error", "invalid_api_key",
                                    "Incorrect API key provided.");
    }

    rc = ngx_http_llmoin_key_refusal(r, key);
    if (rc != NGX_DECLINED) {
        ngx_http_finalize_request(r, rc);
        return NGX_DONE;
    }

    rc = ngx_http_llmoin_models(r, snapshot, key);
    if (rc != NGX_DECLINED) {
        ngx_http_finalize_request(r, rc);
        return NGX_DONE;
    }

    ctx = ngx_http_llmoin_create_ctx(r);
    if (ctx == NULL
        || ngx_http_llmoin_copy_identity(r, ctx, key) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(ctx->key_hash, hash, sizeof(hash));

    *ctxp = ctx;

    return NGX_OK;
}


/*
 * A known key may still not pass: NGX_DECLINED if it may, else the result of
 * sending the refusal (checked at authentication and again once the body
 * has arrived, against the snapshot in force then).
 */
ngx_int_t
ngx_http_llmoin_key_refusal(ngx_http_request_t *r,
    const llmoin_snapshot_key_t *key)
{
    if (key->expires_at != 0 && ngx_time() >= key->expires_at) {
        return ngx_http_llmoin_reject(r, NGX_HTTP_UNAUTHORIZED,
                                      "invalid_request_error",
                                      "expired_api_key",
                                      "This API key has expired.");
    }

    if (key->tenant->suspended) {
        return ngx_http_llmoin_reject(r, NGX_HTTP_FORBIDDEN,
                                      "permission_error", "tenant_suspended",
                                      "Access for your organisation is "
                                      "suspended. Please contact your "
                                      "administrator.");
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_llmoin_copy_string(ngx_http_request_t *r, ngx_str_t *to,
    const char *from)
{
    to->len = ngx_strlen(from);
    to->data = ngx_pstrdup(r->pool, &(ngx_str_t) { to->len, (u_char *) from });

    return to->data != NULL ? NGX_OK : NGX_ERROR;
}


/* the snapshot may be replaced while the request runs: keep copies */

static ngx_int_t
ngx_http_llmoin_copy_identity(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx, const llmoin_snapshot_key_t *key)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->tenant_number = key->tenant->id;
    ctx->tenant_id.data = p;
    ctx->tenant_id.len = ngx_sprintf(p, "%L", key->tenant->id) - p;

    if (ngx_http_llmoin_copy_string(r, &ctx->tenant_slug, key->tenant->slug)
        != NGX_OK
        || ngx_http_llmoin_copy_string(r, &ctx->user, key->user) != NGX_OK
        || ngx_http_llmoin_copy_string(r, &ctx->user_pseudonym,
                                       key->pseudonym) != NGX_OK
        || ngx_http_llmoin_copy_string(r, &ctx->key_id, key->id) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
