/*
 * Signing in with an OIDC token of a tenant's identity provider (the checks
 * are in common/token.c), with a per-worker cache so that a busy user costs
 * one signature check a minute, not one per request.
 *
 * The cache is keyed by the SHA-256 of the token; an entry holds what the
 * verification found (tenant, user, groups, pseudonym) until the token's
 * exp or 60 s, whichever comes first, and only for the snapshot it was
 * checked against: a new snapshot (a removed issuer, a rotated key) empties
 * it. Tenant status is still checked per request. The table is direct-mapped
 * and fixed in size (llmoin_token_cache_size): memory is bounded and a
 * collision just costs a verification.
 */

#include "ngx_http_llmoin_module.h"

#include <openssl/evp.h>


#define NGX_HTTP_LLMOIN_TOKEN_CACHE_SECONDS  60


typedef struct {
    u_char      hash[32];
    long long   snapshot_version;
    time_t      valid_until;
    long long   tenant_id;
    char        user[LLMOIN_JWT_USER_MAX];
    char        groups[LLMOIN_JWT_GROUPS_MAX];
    char        pseudonym[LLMOIN_PSEUDONYM_BUFSZ];
} ngx_http_llmoin_token_entry_t;


static ngx_http_llmoin_token_entry_t  *ngx_http_llmoin_token_cache;
static ngx_uint_t                      ngx_http_llmoin_token_cache_slots;


ngx_int_t
ngx_http_llmoin_token_cache_init(ngx_cycle_t *cycle, ngx_uint_t size)
{
    ngx_http_llmoin_token_cache_slots = size;

    if (size == 0) {
        return NGX_OK;
    }

    ngx_http_llmoin_token_cache = ngx_calloc(
        size * sizeof(ngx_http_llmoin_token_entry_t), cycle->log);

    return ngx_http_llmoin_token_cache != NULL ? NGX_OK : NGX_ERROR;
}


static ngx_http_llmoin_token_entry_t *
ngx_http_llmoin_token_slot(const u_char hash[32])
{
    uint32_t  index;

    if (ngx_http_llmoin_token_cache == NULL) {
        return NULL;
    }

    ngx_memcpy(&index, hash, sizeof(index));

    return &ngx_http_llmoin_token_cache[index
                                        % ngx_http_llmoin_token_cache_slots];
}


static ngx_int_t
ngx_http_llmoin_token_hash(ngx_str_t *token, u_char hash[32])
{
    unsigned int  len = 0;

    return EVP_Digest(token->data, token->len, hash, &len, EVP_sha256(), NULL)
           == 1 ? NGX_OK : NGX_ERROR;
}


/* a cached verification still good for this snapshot, or NULL */

static ngx_http_llmoin_token_entry_t *
ngx_http_llmoin_token_cached(const u_char hash[32],
    const llmoin_snapshot_t *snapshot)
{
    ngx_http_llmoin_token_entry_t  *entry;

    entry = ngx_http_llmoin_token_slot(hash);

    if (entry == NULL
        || entry->valid_until <= ngx_time()
        || entry->snapshot_version != snapshot->version
        || ngx_memcmp(entry->hash, hash, 32) != 0)
    {
        return NULL;
    }

    return entry;
}


static void
ngx_http_llmoin_token_remember(const ngx_http_llmoin_token_entry_t *verified)
{
    ngx_http_llmoin_token_entry_t  *entry;

    entry = ngx_http_llmoin_token_slot(verified->hash);

    if (entry != NULL) {
        *entry = *verified;
    }
}


/* remembers the issuer of a token whose key is unknown, for the hint log */

static void
ngx_http_llmoin_token_hint(ngx_http_request_t *r,
    const llmoin_token_result_t *result)
{
    ngx_http_llmoin_ctx_t  *ctx;

    ctx = ngx_http_llmoin_create_ctx(r);
    if (ctx == NULL) {
        return;
    }

    ctx->jwks_hint_issuer.len = ngx_strlen(result->issuer->issuer);
    ctx->jwks_hint_issuer.data = ngx_pstrdup(r->pool,
        &(ngx_str_t) { ctx->jwks_hint_issuer.len,
                       (u_char *) result->issuer->issuer });
}


/* verifies the token into entry: NGX_OK, or the result of a refusal sent */

static ngx_int_t
ngx_http_llmoin_token_verify(ngx_http_request_t *r,
    const llmoin_snapshot_t *snapshot, ngx_str_t *token,
    ngx_http_llmoin_token_entry_t *entry)
{
    time_t                           until;
    llmoin_token_result_t            result;
    const llmoin_snapshot_tenant_t  *tenant;

    if (llmoin_token_verify(snapshot, (char *) token->data, token->len,
                            (long long) ngx_time(), &result) != 0)
    {
        if (result.refetch) {
            ngx_http_llmoin_token_hint(r, &result);
        }

        return ngx_http_llmoin_deny(r, NGX_HTTP_UNAUTHORIZED,
                                    "invalid_request_error", result.code,
                                    result.message);
    }

    tenant = result.issuer->tenant;

    if (llmoin_pseudonym(tenant->pseudonym_secret,
                         tenant->pseudonym_secret_length, result.identity.user,
                         ngx_strlen(result.identity.user), entry->pseudonym)
        != 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    until = ngx_time() + NGX_HTTP_LLMOIN_TOKEN_CACHE_SECONDS;

    if (result.identity.expires_at < until) {
        until = (time_t) result.identity.expires_at;
    }

    entry->snapshot_version = snapshot->version;
    entry->valid_until = until;
    entry->tenant_id = tenant->id;
    ngx_cpystrn((u_char *) entry->user, (u_char *) result.identity.user,
                sizeof(entry->user));
    ngx_cpystrn((u_char *) entry->groups, (u_char *) result.identity.groups,
                sizeof(entry->groups));

    return NGX_OK;
}


ngx_int_t
ngx_http_llmoin_token_identify(ngx_http_request_t *r,
    const llmoin_snapshot_t *snapshot, ngx_str_t *token,
    ngx_http_llmoin_identity_t *identity)
{
    u_char                          hash[32];
    ngx_int_t                       rc;
    ngx_http_llmoin_token_entry_t  *entry;

    if (ngx_http_llmoin_token_hash(token, hash) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    entry = ngx_http_llmoin_token_cached(hash, snapshot);

    if (entry == NULL) {
        entry = ngx_pcalloc(r->pool, sizeof(ngx_http_llmoin_token_entry_t));
        if (entry == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(entry->hash, hash, sizeof(hash));

        rc = ngx_http_llmoin_token_verify(r, snapshot, token, entry);
        if (rc != NGX_OK) {
            return rc;
        }

        ngx_http_llmoin_token_remember(entry);
    }

    identity->tenant = llmoin_snapshot_find_tenant(snapshot, entry->tenant_id);
    if (identity->tenant == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    identity->key = NULL;
    identity->user = entry->user;
    identity->groups = entry->groups;
    identity->pseudonym = entry->pseudonym;

    return NGX_OK;
}
