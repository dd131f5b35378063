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

/* Unix socket paths must fit struct sockaddr_un.sun_path with its NUL. */
#define SOCKET_PATH_MAX 107

int validate_text(const char *label, const char *value, struct ctl_error *err);
int validate_slug(const char *label, const char *value, struct ctl_error *err);
int validate_key_id(const char *label, const char *value, struct ctl_error *err);
int validate_date(const char *label, const char *value, struct ctl_error *err);
int validate_choice(const char *label, const char *value, const char *const *choices,
                    struct ctl_error *err);
int validate_socket_path(const char *label, const char *value, struct ctl_error *err);
/* Both given: from must not be after to. */
int validate_date_range(const char *from, const char *to, struct ctl_error *err);

#endif
