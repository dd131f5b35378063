/*
 * Who calls the management API over HTTP(S): a bearer token is verified
 * and turns into a caller.
 *
 *   - An operator: a token of the provider's issuer (operator_issuer, keys
 *     in the operator_jwks file, audience operator_audience) whose
 *     operator_role_claim has (or contains) operator_role_value.
 *   - A tenant admin: a token of one of a tenant's issuers (audience, keys,
 *     user claim and leeway as that issuer is configured for sign-in) whose
 *     tenant's admin_claim has (or contains) the tenant's admin_value. The
 *     issuer decides the tenant, exactly as at the gateway.
 *
 * Signatures, algorithms and claims are checked by common/jwt.c (the same
 * rules as the gateway's). A refused token leaves role NONE with a status
 * (401: not a valid token; 403: valid, but without the role), a code and a
 * reason for the client; the reason never contains the token.
 */
#ifndef TENANTD_CALLER_H
#define TENANTD_CALLER_H

#include "api.h"
#include "config.h"

#include <stddef.h>

/* Reads operator_jwks (when operator_issuer is set); 0, or -1 with a
 * message. */
int caller_init(const tenantd_config_t *config, char *error, size_t error_size);
void caller_done(void);

/* Why a tenant's issuer may not be this one (NULL: it may): the provider's
 * operator issuer signs operators in, never a tenant's users; and the
 * development identity provider's issuers are its own (turned on per tenant
 * by operators), not for tenant admins to claim. */
const char *caller_reserved_issuer(const api_caller_t *caller, const char *issuer);

/* The value of an Authorization header (NULL: none) -> *caller. */
void caller_from_authorization(const char *authorization, api_caller_t *caller);

#endif
