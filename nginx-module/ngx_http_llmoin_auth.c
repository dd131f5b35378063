/*
 * Access phase: who is calling. Runs before the request body is read, so an
 * unauthenticated client never makes the gateway buffer a body:
 *
 *   1. client-sent X-LLMoin-* headers          -> 400 (they are ours)
 *   2. no tenant snapshot loaded yet           -> 503
 *   3. Authorization: Bearer <credential>: an API key (lmk_...) or an OIDC
 *      token of a tenant's identity provider (ngx_http_llmoin_token.c)
 *        missing, unknown, revoked, expired,
 *        bad signature or claims               -> 401
 *        valid, but for another tenant than
 *        this host belongs to                  -> 401
 *        tenant suspended                      -> 403
 *   4. GET .../models is answered from the snapshot (ngx_http_llmoin_models.c),
 *      GET .../llmoin/quota from the quota store (ngx_http_llmoin_quota.c)
 *   5. read the body and route the model (ngx_http_llmoin_request.c)
 *
 * Tenant and user come only from the verified credential.
 */

#include "ngx_http_llmoin_module.h"


static ngx_int_t ngx_http_llmoin_bearer(ngx_http_request_t *r,
    ngx_str_t *token);
static ngx_int_t ngx_http_llmoin_key_identify(ngx_http_request_t *r,
    const llmoin_snapshot_t *snapshot, ngx_str_t *token,
    ngx_http_llmoin_identity_t *identity);
static ngx_int_t ngx_http_llmoin_host_refusal(ngx_http_request_t *r,
    const llmoin_snapshot_t *snapshot, const llmoin_snapshot_tenant_t *tenant);
static ngx_int_t ngx_http_llmoin_copy_identity(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx, ngx_http_llmoin_identity_t *identity);


ngx_int_t
ngx_http_llmoin_access_handler(ngx_http_request_t *r)
{
    u_char                      message[256], *last;
    ngx_int_t                   rc;
    ngx_str_t                   token;
    ngx_table_elt_t            *reserved;
    ngx_http_llmoin_ctx_t      *ctx;
    const llmoin_snapshot_t    *snapshot;
    ngx_http_llmoin_identity_t  identity;
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

    ngx_memzero(&identity, sizeof(ngx_http_llmoin_identity_t));

    rc = llmoin_token_looks_like_jwt((char *) token.data, token.len)
         ? ngx_http_llmoin_token_identify(r, snapshot, &token, &identity)
         : ngx_http_llmoin_key_identify(r, snapshot, &token, &identity);

    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_llmoin_identity_refusal(r, &identity);
    if (rc == NGX_DECLINED) {
        rc = ngx_http_llmoin_host_refusal(r, snapshot, identity.tenant);
    }

    if (rc == NGX_DECLINED) {
        rc = ngx_http_llmoin_models(r, snapshot, identity.tenant,
                                    identity.key);
    }

    if (rc != NGX_DECLINED) {
        ngx_http_finalize_request(r, rc);
        return NGX_DONE;
    }

    ctx = ngx_http_llmoin_create_ctx(r);
    if (ctx == NULL
        || ngx_http_llmoin_copy_identity(r, ctx, &identity) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_llmoin_is_quota_request(r)) {
        rc = ngx_http_llmoin_quota_show(r, ctx);

        /* NGX_AGAIN: the quota store's answer ends the request */
        if (rc != NGX_AGAIN && rc != NGX_DONE) {
            ngx_http_finalize_request(r, rc);
        }

        return NGX_DONE;
    }

    return ngx_http_llmoin_read_request(r, ctx);
}


/*
 * Answers the client and ends the request; NGX_DONE tells the access phase
 * that the request is finished, not admitted.
 */
ngx_int_t
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
ngx_http_llmoin_key_identify(ngx_http_request_t *r,
    const llmoin_snapshot_t *snapshot, ngx_str_t *token,
    ngx_http_llmoin_identity_t *identity)
{
    const llmoin_snapshot_key_t  *key;

    if (!llmoin_apikey_looks_valid((char *) token->data, token->len)
        || llmoin_apikey_hash((char *) token->data, token->len,
                              identity->key_hash) != 0
        || (key = llmoin_snapshot_find_key(snapshot, identity->key_hash))
           == NULL)
    {
        return ngx_http_llmoin_deny(r, NGX_HTTP_UNAUTHORIZED,
                                    "invalid_request_error", "invalid_api_key",
                                    "Incorrect API key provided.");
    }

    identity->tenant = key->tenant;
    identity->key = key;
    identity->user = key->user;
    identity->pseudonym = key->pseudonym;
    identity->groups = "";

    return NGX_OK;
}


/*
 * A verified credential may still not pass: NGX_DECLINED if it may, else the
 * result of sending the refusal (checked at authentication and again once
 * the body has arrived, against the snapshot in force then).
 */
ngx_int_t
ngx_http_llmoin_identity_refusal(ngx_http_request_t *r,
    ngx_http_llmoin_identity_t *identity)
{
    const llmoin_snapshot_key_t  *key = identity->key;

    if (key != NULL && key->expires_at != 0 && ngx_time() >= key->expires_at) {
        return ngx_http_llmoin_reject(r, NGX_HTTP_UNAUTHORIZED,
                                      "invalid_request_error",
                                      "expired_api_key",
                                      "This API key has expired.");
    }

    if (identity->tenant->suspended) {
        return ngx_http_llmoin_reject(r, NGX_HTTP_FORBIDDEN,
                                      "permission_error", "tenant_suspended",
                                      "Access for your organisation is "
                                      "suspended. Please contact your "
                                      "administrator.");
    }

    return NGX_DECLINED;
}


/* a host name of one tenant narrows the credentials it accepts to that one */

static ngx_int_t
ngx_http_llmoin_host_refusal(ngx_http_request_t *r,
    const llmoin_snapshot_t *snapshot, const llmoin_snapshot_tenant_t *tenant)
{
    const llmoin_snapshot_tenant_t  *owner;

    if (r->headers_in.server.len == 0) {
        return NGX_DECLINED;
    }

    owner = llmoin_snapshot_host_tenant(snapshot,
                                        (char *) r->headers_in.server.data,
                                        r->headers_in.server.len);

    if (owner == NULL || owner == tenant) {
        return NGX_DECLINED;
    }

    return ngx_http_llmoin_reject(r, NGX_HTTP_UNAUTHORIZED,
                                  "invalid_request_error", "wrong_tenant",
                                  "This credential is not valid for this "
                                  "host.");
}


/* a copy that is also a C string: the quota plan and keys read them so */

static ngx_int_t
ngx_http_llmoin_copy_string(ngx_http_request_t *r, ngx_str_t *to,
    const char *from)
{
    to->len = ngx_strlen(from);
    to->data = ngx_pnalloc(r->pool, to->len + 1);

    if (to->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(to->data, from, to->len + 1);

    return NGX_OK;
}


/* the snapshot may be replaced while the request runs: keep copies */

static ngx_int_t
ngx_http_llmoin_copy_identity(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx, ngx_http_llmoin_identity_t *identity)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->tenant_number = identity->tenant->id;
    ctx->tenant_id.data = p;
    ctx->tenant_id.len = ngx_sprintf(p, "%L", identity->tenant->id) - p;

    ngx_memcpy(ctx->key_hash, identity->key_hash, sizeof(ctx->key_hash));

    if (ngx_http_llmoin_request_id(r, &ctx->request_id) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_llmoin_copy_string(r, &ctx->tenant_slug,
                                    identity->tenant->slug) != NGX_OK
        || ngx_http_llmoin_copy_string(r, &ctx->user, identity->user) != NGX_OK
        || ngx_http_llmoin_copy_string(r, &ctx->user_pseudonym,
                                       identity->pseudonym) != NGX_OK
        || ngx_http_llmoin_copy_string(r, &ctx->groups, identity->groups)
           != NGX_OK
        || ngx_http_llmoin_copy_string(r, &ctx->key_id,
                                       identity->key != NULL
                                       ? identity->key->id : "")
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
