/*
 * The development identity provider: a small OIDC provider inside tenantd
 * for tenants marked dev_idp, so that the quickstart, the tests and the web
 * page can sign users in without a real Keycloak or ADFS. NOT for
 * production: anyone may sign in as anyone, and the signing key lives in
 * the database. Off unless tenantd runs with dev_idp = true, which it
 * refuses on a non-loopback address.
 *
 * Per dev tenant, below <dev_idp_url>/dev-idp/<slug>:
 *   .well-known/openid-configuration, jwks, authorize (GET: login form;
 *   POST: sign in, redirect with a code), token (authorization code with
 *   PKCE S256 -> access and ID token, ES256).
 */
#ifndef TENANTD_DEV_IDP_H
#define TENANTD_DEV_IDP_H

#include "api.h"
#include "db.h"

#define DEV_IDP_AUDIENCE "llmoin"

typedef struct dev_tenant {
    char    id[24];
    char    slug[40];
    char    name[256];
    char    kid[24];
    char   *private_pem;        /* malloc'd */
    json_t *public_jwk;
    char    issuer[CONFIG_STRING_MAX + 64];
} dev_tenant_t;

void dev_idp_init(const tenantd_config_t *config);

/* Checks the configuration at start: 0, or -1 with the reason. */
int dev_idp_check_config(const tenantd_config_t *config, char *error, size_t error_size);

/* The issuer URL of a dev tenant. */
void dev_idp_issuer(const char *slug, char *out, size_t out_size);

/* Loads a tenant with dev_idp set and its key: 1 found, 0 not a dev tenant
 * (or the provider is off), -1 database error. Free with dev_tenant_free. */
int dev_tenant_load(PGconn *conn, const char *slug, dev_tenant_t *tenant, db_error_t *error);
void dev_tenant_free(dev_tenant_t *tenant);

/* Signs a token for user; groups is a JSON array of strings (or NULL). */
int dev_idp_issue(const dev_tenant_t *tenant, const char *user, const json_t *groups,
                  long ttl_seconds, const char *audience, const char *nonce,
                  char **token, long long *expires_at);

bool dev_idp_enabled(void);

/* Longest lifetime an operator may give a minted token. */
long dev_token_max_ttl(void);

#endif
