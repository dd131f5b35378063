#include "quota.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

static const char *const scope_names[] = { "tenant", "group", "user", "key" };

const char *
llmoin_scope_name(llmoin_scope_t scope)
{
    return scope_names[scope];
}

int
llmoin_scope_from_name(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(scope_names) / sizeof(scope_names[0]); i++) {
        if (strcmp(scope_names[i], name) == 0) {
            return (int) i;
        }
    }
    return -1;
}

static bool
limits_anything(const llmoin_limit_t *limit)
{
    return limit->rpm >= 0 || limit->tpm >= 0 || limit->concurrent >= 0
           || limit->monthly_tokens >= 0;
}

/* The row for that subject, else the default row of the scope. */
static const llmoin_limit_t *
find_limit(const llmoin_limit_t *limits, size_t count, llmoin_scope_t scope,
           const char *subject, size_t subject_length)
{
    const llmoin_limit_t *fallback = NULL;
    size_t                i;

    for (i = 0; i < count; i++) {
        if (limits[i].scope != scope) {
            continue;
        }
        if (limits[i].subject[0] == '\0') {
            fallback = &limits[i];
        } else if (strlen(limits[i].subject) == subject_length
                   && memcmp(limits[i].subject, subject, subject_length) == 0)
        {
            return &limits[i];
        }
    }
    return fallback;
}

void
llmoin_quota_counter_subject(const char *subject, size_t length,
                             char out[LLMOIN_QUOTA_SUBJECT_MAX])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int  digest_length = 0;
    unsigned int  i;

    if (length < LLMOIN_QUOTA_SUBJECT_MAX) {
        memcpy(out, subject, length);
        out[length] = '\0';
        return;
    }
    EVP_Digest(subject, length, digest, &digest_length, EVP_sha256(), NULL);
    out[0] = '#';
    for (i = 0; i < digest_length; i++) {
        snprintf(out + 1 + 2 * i, 3, "%02x", digest[i]);
    }
}

static void
add_entity(llmoin_quota_plan_t *plan, const llmoin_limit_t *limit, llmoin_scope_t scope,
           const char *subject, size_t subject_length)
{
    llmoin_quota_entity_t *entity;

    if (limit == NULL || !limits_anything(limit) || plan->count == LLMOIN_QUOTA_MAX_ENTITIES) {
        return;
    }
    entity = &plan->entities[plan->count++];
    entity->scope = scope;
    llmoin_quota_counter_subject(subject, subject_length, entity->subject);
    entity->rpm = limit->rpm;
    entity->tpm = limit->tpm;
    entity->concurrent = limit->concurrent;
    entity->monthly_tokens = limit->monthly_tokens;
}

static bool
already_planned(const llmoin_quota_plan_t *plan, llmoin_scope_t scope, const char *subject,
                size_t subject_length)
{
    char   counted[LLMOIN_QUOTA_SUBJECT_MAX];
    size_t i;

    llmoin_quota_counter_subject(subject, subject_length, counted);
    for (i = 0; i < plan->count; i++) {
        if (plan->entities[i].scope == scope && strcmp(plan->entities[i].subject, counted) == 0) {
            return true;
        }
    }
    return false;
}

/* A group named twice in one token counts once. */
static void
add_subject(llmoin_quota_plan_t *plan, const llmoin_limit_t *limits, size_t count,
            llmoin_scope_t scope, const char *subject, size_t subject_length)
{
    if (subject_length > 0 && !already_planned(plan, scope, subject, subject_length)) {
        add_entity(plan, find_limit(limits, count, scope, subject, subject_length), scope,
                   subject, subject_length);
    }
}

void
llmoin_quota_plan(long long tenant_id, const llmoin_limit_t *limits, size_t limit_count,
                  const char *user, const char *groups, const char *key_id,
                  llmoin_quota_plan_t *out)
{
    const char *group = groups, *comma;

    out->tenant_id = tenant_id;
    out->count = 0;
    add_entity(out, find_limit(limits, limit_count, LLMOIN_SCOPE_TENANT, "", 0),
               LLMOIN_SCOPE_TENANT, "", 0);
    add_subject(out, limits, limit_count, LLMOIN_SCOPE_USER, user, strlen(user));
    add_subject(out, limits, limit_count, LLMOIN_SCOPE_KEY, key_id, strlen(key_id));
    while (group != NULL && *group != '\0') {
        comma = strchr(group, ',');
        add_subject(out, limits, limit_count, LLMOIN_SCOPE_GROUP, group,
                    comma != NULL ? (size_t) (comma - group) : strlen(group));
        group = comma != NULL ? comma + 1 : NULL;
    }
}

int
llmoin_quota_key(char *out, size_t size, long long tenant_id, char kind,
                 llmoin_scope_t scope, const char *subject, const char *month)
{
    int length;

    if (month != NULL) {
        length = snprintf(out, size, "llmoin:{t%lld}:%c:%s:%s:%s", tenant_id, kind,
                          llmoin_scope_name(scope), subject, month);
    } else {
        length = snprintf(out, size, "llmoin:{t%lld}:%c:%s:%s", tenant_id, kind,
                          llmoin_scope_name(scope), subject);
    }
    return length > 0 && (size_t) length < size ? 0 : -1;
}
