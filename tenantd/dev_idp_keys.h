/*
 * Keys and tokens of the development identity provider: an ES256 key pair
 * per dev tenant, and signed JWTs. For the quickstart, tests and the web
 * page's sign-in during development only — the private key sits in
 * PostgreSQL, which no real identity provider would do.
 */
#ifndef TENANTD_DEV_IDP_KEYS_H
#define TENANTD_DEV_IDP_KEYS_H

#include <jansson.h>
#include <stddef.h>

#define DEV_IDP_KID_SIZE 17

/* A new key pair: the private key as PEM (malloc'd), its public JWK (with
 * kid, alg ES256, use sig) and the kid. 0 or -1. */
int dev_idp_key_create(char **private_pem, json_t **public_jwk, char kid[DEV_IDP_KID_SIZE]);

/* Signs claims as a compact JWS (ES256) with the key; *token is malloc'd. */
int dev_idp_sign(const char *private_pem, const char *kid, const json_t *claims,
                 char **token);

#endif
