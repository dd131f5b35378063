/*
 * JWKS fetching: a thread that keeps the keys of every issuer configured
 * with a jwks_uri current in tenant_issuers.jwks (from where the snapshot
 * carries them to the gateway).
 *
 * An issuer's keys are fetched when it is added (jwks_fetch_wake), every
 * jwks_refresh_seconds, 30 s after a failed fetch, and — at most once every
 * 10 s per issuer — when the gateway saw a token whose kid it did not know
 * (key rotation): nginx writes such issuers to the jwks_hints file. A failed
 * fetch keeps the last good keys and records the reason in jwks_error.
 * Only https URLs are fetched, and plain http on 127.0.0.1/localhost.
 */
#ifndef TENANTD_JWKS_FETCH_H
#define TENANTD_JWKS_FETCH_H

#include "config.h"

int jwks_fetch_start(const tenantd_config_t *config);
void jwks_fetch_stop(void);

/* Look at the issuers now (after one was added). */
void jwks_fetch_wake(void);

#endif
