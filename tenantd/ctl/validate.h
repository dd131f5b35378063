/*
 * Checks of single values from the command line, done before anything is
 * sent. Each names the offending value and the rule, so the operator can fix
 * the command without reading the docs. `label` is how the value was given:
 * "SLUG", "--from", "LLMOIN_SOCKET".
 */
#ifndef LLMOINCTL_VALIDATE_H
#define LLMOINCTL_VALIDATE_H

#include "ctl.h"

/* The same rule tenantd enforces on tenant slugs. */
#define SLUG_RULE "^[a-z][a-z0-9-]{1,31}$"

/* The rule tenantd enforces on a tenant's host names; validate_host also
 * checks each part between dots (RFC 1123: 1 to 63 long, no '-' at an end). */
#define HOST_RULE "^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$"

/* Unix socket paths must fit struct sockaddr_un.sun_path with its NUL. */
#define SOCKET_PATH_MAX 107

int validate_text(const char *label, const char *value, struct ctl_error *err);
int validate_slug(const char *label, const char *value, struct ctl_error *err);
int validate_key_id(const char *label, const char *value, struct ctl_error *err);
/* A real calendar day as YYYY-MM-DD of a year tenantd's reports take
 * (2000 to 2999); likewise the day of validate_time. */
int validate_date(const char *label, const char *value, struct ctl_error *err);
/* YYYY-MM naming a month (01-12) of a year from 2000 to 2999. */
int validate_month(const char *label, const char *value, struct ctl_error *err);
int validate_choice(const char *label, const char *value, const char *const *choices,
                    struct ctl_error *err);
int validate_host(const char *label, const char *value, struct ctl_error *err);
/* https://..., or http:// to 127.0.0.1 or localhost (tenantd's rule). */
int validate_url(const char *label, const char *value, struct ctl_error *err);
int validate_issuer_id(const char *label, const char *value, struct ctl_error *err);
/* YYYY-MM-DDTHH:MM[:SS](Z|+HH:MM|-HH:MM): what tenantd takes as a time. */
int validate_time(const char *label, const char *value, struct ctl_error *err);
int validate_socket_path(const char *label, const char *value, struct ctl_error *err);
/* Both given: from must not be after to. */
int validate_date_range(const char *from, const char *to, struct ctl_error *err);

#endif
