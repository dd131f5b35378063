#include "snapshot.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct parse_context {
    char   *error;
    size_t  error_size;
} parse_context_t;

static int
fail(parse_context_t *context, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(parse_context_t *context, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    vsnprintf(context->error, context->error_size, format, args);
    va_end(args);
    return -1;
}

static int
copy_string(parse_context_t *context, json_t *object, const char *name,
            const char *where, char **out)
{
    json_t *value = json_object_get(object, name);

    if (!json_is_string(value) || json_string_length(value) == 0) {
        return fail(context, "%s: '%s' must be a non-empty string", where, name);
    }
    *out = strdup(json_string_value(value));
    return *out != NULL ? 0 : fail(context, "out of memory");
}

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

static int
decode_secret(parse_context_t *context, json_t *tenant, llmoin_snapshot_tenant_t *out)
{
    const char *hex = json_string_value(json_object_get(tenant, "pseudonym_secret"));
    size_t      length, i;

    length = hex != NULL ? strlen(hex) : 0;
    if (length < 32 || length % 2 != 0) {
        return fail(context, "tenant %s: 'pseudonym_secret' must be at least 16 bytes of hex",
                    out->slug);
    }
    out->pseudonym_secret = malloc(length / 2);
    if (out->pseudonym_secret == NULL) {
        return fail(context, "out of memory");
    }
    for (i = 0; i < length / 2; i++) {
        int high = hex_value(hex[2 * i]), low = hex_value(hex[2 * i + 1]);

        if (high < 0 || low < 0) {
            return fail(context, "tenant %s: 'pseudonym_secret' is not lowercase hex",
                        out->slug);
        }
        out->pseudonym_secret[i] = (unsigned char) (high << 4 | low);
    }
    out->pseudonym_secret_length = length / 2;
    return 0;
}

static int
parse_models(parse_context_t *context, json_t *array, const char *where,
             llmoin_snapshot_model_t **models, size_t *count)
{
    json_t *entry;
    size_t  i;

    if (!json_is_array(array)) {
        return fail(context, "%s: 'models' must be an array", where);
    }
    *count = json_array_size(array);
    *models = calloc(*count > 0 ? *count : 1, sizeof(**models));
    if (*models == NULL) {
        return fail(context, "out of memory");
    }
    json_array_foreach(array, i, entry) {
        if (!json_is_object(entry)
            || copy_string(context, entry, "alias", where, &(*models)[i].alias) != 0
            || copy_string(context, entry, "pool", where, &(*models)[i].pool) != 0)
        {
            return context->error[0] ? -1 : fail(context, "%s: bad model entry", where);
        }
    }
    return 0;
}

/* An optional list of strings; absent or null leaves *out NULL. */
static int
parse_strings(parse_context_t *context, json_t *array, const char *where,
              const char *name, char ***out, size_t *count)
{
    json_t *entry;
    size_t  i;

    if (array == NULL || json_is_null(array)) {
        return 0;
    }
    if (!json_is_array(array)) {
        return fail(context, "%s: '%s' must be an array or null", where, name);
    }
    *out = calloc(json_array_size(array) + 1, sizeof(char *));
    if (*out == NULL) {
        return fail(context, "out of memory");
    }
    json_array_foreach(array, i, entry) {
        if (!json_is_string(entry)) {
            return fail(context, "%s: '%s' must hold strings", where, name);
        }
        (*out)[i] = strdup(json_string_value(entry));
        if ((*out)[i] == NULL) {
            return fail(context, "out of memory");
        }
        *count = i + 1;
    }
    return 0;
}

static void
free_strings(char **strings, size_t count)
{
    size_t i;

    for (i = 0; strings != NULL && i < count; i++) {
        free(strings[i]);
    }
    free(strings);
}

/* A limit value: a non-negative integer, or null/absent for no limit. */
static int
limit_value(parse_context_t *context, json_t *entry, const char *name, const char *slug,
            long long *out)
{
    json_t *value = json_object_get(entry, name);

    if (value == NULL || json_is_null(value)) {
        *out = LLMOIN_QUOTA_UNLIMITED;
        return 0;
    }
    if (!json_is_integer(value) || json_integer_value(value) < 0) {
        return fail(context, "tenant %s: limit '%s' must be a whole number >= 0 or null",
                    slug, name);
    }
    *out = json_integer_value(value);
    return 0;
}

static int
parse_limit(parse_context_t *context, json_t *entry, const char *slug, llmoin_limit_t *out)
{
    const char *scope = json_string_value(json_object_get(entry, "scope"));
    const char *subject = json_string_value(json_object_get(entry, "subject"));
    int         kind = scope != NULL ? llmoin_scope_from_name(scope) : -1;

    if (!json_is_object(entry) || kind < 0 || subject == NULL) {
        return fail(context, "tenant %s: a limit needs a scope (tenant, group, user, key) "
                    "and a subject", slug);
    }
    out->scope = (llmoin_scope_t) kind;
    out->subject = strdup(subject);
    if (out->subject == NULL) {
        return fail(context, "out of memory");
    }
    return limit_value(context, entry, "rpm", slug, &out->rpm) != 0
           || limit_value(context, entry, "tpm", slug, &out->tpm) != 0
           || limit_value(context, entry, "concurrent", slug, &out->concurrent) != 0
           || limit_value(context, entry, "monthly_tokens", slug, &out->monthly_tokens) != 0
           ? -1 : 0;
}

static int
parse_limits(parse_context_t *context, json_t *array, llmoin_snapshot_tenant_t *out)
{
    json_t *entry;
    size_t  i;

    if (array == NULL || json_is_null(array)) {
        return 0;
    }
    if (!json_is_array(array)) {
        return fail(context, "tenant %s: 'limits' must be an array", out->slug);
    }
    out->limits = calloc(json_array_size(array) + 1, sizeof(*out->limits));
    if (out->limits == NULL) {
        return fail(context, "out of memory");
    }
    json_array_foreach(array, i, entry) {
        if (parse_limit(context, entry, out->slug, &out->limits[i]) != 0) {
            out->limit_count = i + (out->limits[i].subject != NULL);
            return -1;
        }
        out->limit_count = i + 1;
    }
    return 0;
}

/* max_tokens_cap (default 4096) and quota_fail_mode (default closed: an
 * unknown value fails closed) */
static int
parse_quota_settings(parse_context_t *context, json_t *tenant, llmoin_snapshot_tenant_t *out)
{
    json_t     *cap = json_object_get(tenant, "max_tokens_cap");
    const char *mode = json_string_value(json_object_get(tenant, "quota_fail_mode"));

    out->max_tokens_cap = 4096;
    if (cap != NULL) {
        if (!json_is_integer(cap) || json_integer_value(cap) < 1) {
            return fail(context, "tenant %s: 'max_tokens_cap' must be a positive whole number",
                        out->slug);
        }
        out->max_tokens_cap = json_integer_value(cap);
    }
    if (mode != NULL && strcmp(mode, "open") != 0 && strcmp(mode, "closed") != 0) {
        return fail(context, "tenant %s: 'quota_fail_mode' must be open or closed", out->slug);
    }
    out->quota_fail_open = mode != NULL && strcmp(mode, "open") == 0;
    return 0;
}

static int
parse_tenant(parse_context_t *context, json_t *tenant, llmoin_snapshot_tenant_t *out)
{
    json_t     *id = json_object_get(tenant, "id");
    json_t     *restricted;
    const char *status;

    if (!json_is_object(tenant) || !json_is_integer(id) || json_integer_value(id) <= 0) {
        return fail(context, "tenants: each entry needs a positive integer 'id'");
    }
    out->id = json_integer_value(id);
    if (copy_string(context, tenant, "slug", "tenant", &out->slug) != 0) {
        return -1;
    }
    status = json_string_value(json_object_get(tenant, "status"));
    if (status == NULL || (strcmp(status, "active") != 0 && strcmp(status, "suspended") != 0)) {
        return fail(context, "tenant %s: 'status' must be active or suspended", out->slug);
    }
    out->suspended = strcmp(status, "suspended") == 0;
    if (decode_secret(context, tenant, out) != 0) {
        return -1;
    }
    /* an access control: anything but a real boolean fails closed */
    restricted = json_object_get(tenant, "models_restricted");
    if (restricted != NULL && !json_is_boolean(restricted)) {
        return fail(context, "tenant %s: 'models_restricted' must be true or false",
                    out->slug);
    }
    out->models_restricted = json_is_true(restricted);
    if (parse_strings(context, json_object_get(tenant, "hosts"), out->slug, "hosts",
                      &out->hosts, &out->host_count) != 0)
    {
        return -1;
    }
    if (parse_quota_settings(context, tenant, out) != 0
        || parse_limits(context, json_object_get(tenant, "limits"), out) != 0)
    {
        return -1;
    }
    return parse_models(context, json_object_get(tenant, "models"), out->slug,
                        &out->models, &out->model_count);
}

static int
parse_key(parse_context_t *context, const llmoin_snapshot_t *snapshot, json_t *key,
          llmoin_snapshot_key_t *out)
{
    const char *hash = json_string_value(json_object_get(key, "hash"));
    json_t     *tenant_id = json_object_get(key, "tenant_id");
    json_t     *expires = json_object_get(key, "expires_at");
    char        where[160];
    size_t      i;

    if (!json_is_object(key) || copy_string(context, key, "id", "key", &out->id) != 0) {
        return context->error[0] ? -1 : fail(context, "keys: each entry must be an object");
    }
    if (hash == NULL || strlen(hash) != LLMOIN_APIKEY_HASH_HEX_LEN) {
        return fail(context, "key %s: 'hash' must be 64 hex digits", out->id);
    }
    for (i = 0; i < LLMOIN_APIKEY_HASH_HEX_LEN; i++) {
        if (hex_value(hash[i]) < 0) {
            return fail(context, "key %s: 'hash' must be lowercase hex", out->id);
        }
    }
    memcpy(out->hash, hash, LLMOIN_APIKEY_HASH_BUFSZ);
    out->tenant = json_is_integer(tenant_id)
                      ? llmoin_snapshot_find_tenant(snapshot, json_integer_value(tenant_id))
                      : NULL;
    if (out->tenant == NULL) {
        return fail(context, "key %s: 'tenant_id' names no tenant of the snapshot", out->id);
    }
    if (!json_is_null(expires)
        && (!json_is_integer(expires) || json_integer_value(expires) < 0))
    {
        return fail(context, "key %s: 'expires_at' must be unix seconds or null", out->id);
    }
    out->expires_at = json_is_integer(expires) ? json_integer_value(expires) : 0;
    snprintf(where, sizeof(where), "key %s", out->id);
    if (copy_string(context, key, "user", out->id, &out->user) != 0
        || parse_strings(context, json_object_get(key, "models"), where, "models",
                         &out->models, &out->model_count) != 0)
    {
        return -1;
    }
    if (llmoin_pseudonym(out->tenant->pseudonym_secret,
                         out->tenant->pseudonym_secret_length, out->user,
                         strlen(out->user), out->pseudonym) != 0)
    {
        return fail(context, "key %s: cannot compute the user pseudonym", out->id);
    }
    return 0;
}

static int
compare_keys(const void *a, const void *b)
{
    return strcmp(((const llmoin_snapshot_key_t *) a)->hash,
                  ((const llmoin_snapshot_key_t *) b)->hash);
}

static int
compare_models(const void *a, const void *b)
{
    return strcmp(((const llmoin_snapshot_model_t *) a)->alias,
                  ((const llmoin_snapshot_model_t *) b)->alias);
}

static int
parse_tenants(parse_context_t *context, json_t *root, llmoin_snapshot_t *snapshot)
{
    json_t *array = json_object_get(root, "tenants"), *entry;
    size_t  i;

    if (!json_is_array(array)) {
        return fail(context, "'tenants' must be an array");
    }
    snapshot->tenants = calloc(json_array_size(array) + 1, sizeof(*snapshot->tenants));
    if (snapshot->tenants == NULL) {
        return fail(context, "out of memory");
    }
    json_array_foreach(array, i, entry) {
        snapshot->tenant_count = i + 1;
        if (parse_tenant(context, entry, &snapshot->tenants[i]) != 0) {
            return -1;
        }
    }
    return 0;
}

static int
parse_issuer(parse_context_t *context, json_t *entry, const llmoin_snapshot_tenant_t *tenant,
             llmoin_snapshot_issuer_t *out)
{
    json_t *leeway = json_object_get(entry, "leeway");
    json_t *groups = json_object_get(entry, "groups_claim");
    size_t  skipped;
    char    reason[256];

    out->tenant = tenant;
    if (!json_is_object(entry)
        || copy_string(context, entry, "issuer", tenant->slug, &out->issuer) != 0
        || copy_string(context, entry, "audience", out->issuer, &out->audience) != 0
        || copy_string(context, entry, "user_claim", out->issuer, &out->user_claim) != 0)
    {
        return context->error[0] ? -1 : fail(context, "tenant %s: bad issuer entry",
                                             tenant->slug);
    }
    if (!json_is_integer(leeway) || json_integer_value(leeway) < 0
        || json_integer_value(leeway) > 600)
    {
        return fail(context, "issuer %s: 'leeway' must be 0..600 seconds", out->issuer);
    }
    out->leeway = (long) json_integer_value(leeway);
    if (groups != NULL && !json_is_null(groups)
        && (!json_is_string(groups) || json_string_length(groups) == 0))
    {
        return fail(context, "issuer %s: 'groups_claim' must be a claim name or null",
                    out->issuer);
    }
    if (json_is_string(groups) && (out->groups_claim = strdup(json_string_value(groups))) == NULL) {
        return fail(context, "out of memory");
    }
    /* keys the gateway cannot use are left out; an issuer with none refuses
     * every token until its keys arrive */
    if (llmoin_jwks_parse(json_object_get(entry, "jwks"), &out->jwks, &skipped, reason,
                          sizeof(reason)) != 0)
    {
        return fail(context, "issuer %s: %s", out->issuer, reason);
    }
    return 0;
}

static int
parse_issuers(parse_context_t *context, json_t *root, llmoin_snapshot_t *snapshot)
{
    json_t *tenants = json_object_get(root, "tenants"), *tenant, *issuers, *entry;
    size_t  i, j, total = 0;

    json_array_foreach(tenants, i, tenant) {
        issuers = json_object_get(tenant, "issuers");
        if (issuers != NULL && !json_is_array(issuers)) {
            return fail(context, "tenant %s: 'issuers' must be an array",
                        snapshot->tenants[i].slug);
        }
        total += json_array_size(issuers);
    }
    snapshot->issuers = calloc(total + 1, sizeof(*snapshot->issuers));
    if (snapshot->issuers == NULL) {
        return fail(context, "out of memory");
    }
    json_array_foreach(tenants, i, tenant) {
        json_array_foreach(json_object_get(tenant, "issuers"), j, entry) {
            if (parse_issuer(context, entry, &snapshot->tenants[i],
                             &snapshot->issuers[snapshot->issuer_count++]) != 0)
            {
                return -1;
            }
        }
    }
    return 0;
}

static int
parse_keys(parse_context_t *context, json_t *root, llmoin_snapshot_t *snapshot)
{
    json_t *array = json_object_get(root, "keys"), *entry;
    size_t  i;

    if (!json_is_array(array)) {
        return fail(context, "'keys' must be an array");
    }
    snapshot->keys = calloc(json_array_size(array) + 1, sizeof(*snapshot->keys));
    if (snapshot->keys == NULL) {
        return fail(context, "out of memory");
    }
    json_array_foreach(array, i, entry) {
        snapshot->key_count = i + 1;
        if (parse_key(context, snapshot, entry, &snapshot->keys[i]) != 0) {
            return -1;
        }
    }
    qsort(snapshot->keys, snapshot->key_count, sizeof(*snapshot->keys), compare_keys);
    for (i = 1; i < snapshot->key_count; i++) {
        if (strcmp(snapshot->keys[i - 1].hash, snapshot->keys[i].hash) == 0) {
            return fail(context, "keys %s and %s have the same hash", snapshot->keys[i - 1].id,
                        snapshot->keys[i].id);
        }
    }
    return 0;
}

static int
parse_root(parse_context_t *context, json_t *root, llmoin_snapshot_t *snapshot)
{
    json_t *format = json_object_get(root, "format");
    json_t *version = json_object_get(root, "version");

    if (!json_is_object(root)) {
        return fail(context, "the snapshot must be a JSON object");
    }
    if (!json_is_integer(format) || json_integer_value(format) != LLMOIN_SNAPSHOT_FORMAT) {
        return fail(context, "unsupported snapshot format (this gateway reads format %d)",
                    LLMOIN_SNAPSHOT_FORMAT);
    }
    if (!json_is_integer(version)) {
        return fail(context, "'version' must be an integer");
    }
    snapshot->version = json_integer_value(version);
    if (parse_tenants(context, root, snapshot) != 0
        || parse_issuers(context, root, snapshot) != 0
        || parse_models(context, json_object_get(root, "models"), "snapshot",
                        &snapshot->models, &snapshot->model_count) != 0
        || parse_keys(context, root, snapshot) != 0)
    {
        return -1;
    }
    qsort(snapshot->models, snapshot->model_count, sizeof(*snapshot->models),
          compare_models);
    return 0;
}

llmoin_snapshot_t *
llmoin_snapshot_parse(const char *text, size_t length, char *error, size_t error_size)
{
    parse_context_t    context = { error, error_size };
    json_error_t       json_error;
    json_t            *root;
    llmoin_snapshot_t *snapshot;

    error[0] = '\0';
    root = json_loadb(text, length, JSON_REJECT_DUPLICATES, &json_error);
    if (root == NULL) {
        fail(&context, "not valid JSON: %s (line %d)", json_error.text, json_error.line);
        return NULL;
    }
    snapshot = calloc(1, sizeof(*snapshot));
    if (snapshot == NULL || parse_root(&context, root, snapshot) != 0) {
        if (snapshot == NULL) {
            fail(&context, "out of memory");
        }
        llmoin_snapshot_free(snapshot);
        snapshot = NULL;
    }
    json_decref(root);
    return snapshot;
}

static void
free_models(llmoin_snapshot_model_t *models, size_t count)
{
    size_t i;

    for (i = 0; models != NULL && i < count; i++) {
        free(models[i].alias);
        free(models[i].pool);
    }
    free(models);
}

void
llmoin_snapshot_free(llmoin_snapshot_t *snapshot)
{
    size_t i, j;

    if (snapshot == NULL) {
        return;
    }
    for (i = 0; i < snapshot->tenant_count; i++) {
        free(snapshot->tenants[i].slug);
        if (snapshot->tenants[i].pseudonym_secret != NULL) {
            OPENSSL_cleanse(snapshot->tenants[i].pseudonym_secret,
                            snapshot->tenants[i].pseudonym_secret_length);
        }
        free(snapshot->tenants[i].pseudonym_secret);
        free_models(snapshot->tenants[i].models, snapshot->tenants[i].model_count);
        free_strings(snapshot->tenants[i].hosts, snapshot->tenants[i].host_count);
        for (j = 0; j < snapshot->tenants[i].limit_count; j++) {
            free(snapshot->tenants[i].limits[j].subject);
        }
        free(snapshot->tenants[i].limits);
    }
    for (i = 0; i < snapshot->issuer_count; i++) {
        free(snapshot->issuers[i].issuer);
        free(snapshot->issuers[i].audience);
        free(snapshot->issuers[i].user_claim);
        free(snapshot->issuers[i].groups_claim);
        llmoin_jwks_free(&snapshot->issuers[i].jwks);
    }
    free(snapshot->issuers);
    for (i = 0; i < snapshot->key_count; i++) {
        free(snapshot->keys[i].id);
        free(snapshot->keys[i].user);
        free_strings(snapshot->keys[i].models, snapshot->keys[i].model_count);
    }
    free(snapshot->tenants);
    free(snapshot->keys);
    free_models(snapshot->models, snapshot->model_count);
    free(snapshot);
}

const llmoin_snapshot_key_t *
llmoin_snapshot_find_key(const llmoin_snapshot_t *snapshot, const char *hash_hex)
{
    size_t low = 0, high = snapshot->key_count, middle;
    int    order;

    /* Binary search on the digest, not the key: what it reveals by timing is
     * where an attacker's own SHA-256 falls, which helps no one. The final
     * comparison is constant-time anyway. */
    while (low < high) {
        middle = low + (high - low) / 2;
        order = strcmp(hash_hex, snapshot->keys[middle].hash);
        if (order == 0) {
            return llmoin_hex_digest_equal(hash_hex, snapshot->keys[middle].hash)
                       ? &snapshot->keys[middle] : NULL;
        }
        if (order < 0) {
            high = middle;
        } else {
            low = middle + 1;
        }
    }
    return NULL;
}

const llmoin_snapshot_tenant_t *
llmoin_snapshot_find_tenant(const llmoin_snapshot_t *snapshot, long long id)
{
    size_t i;

    for (i = 0; i < snapshot->tenant_count; i++) {
        if (snapshot->tenants[i].id == id) {
            return &snapshot->tenants[i];
        }
    }
    return NULL;
}

static bool
alias_equals(const char *name, const char *alias, size_t alias_length)
{
    return strlen(name) == alias_length && memcmp(name, alias, alias_length) == 0;
}

static const llmoin_snapshot_model_t *
find_model(const llmoin_snapshot_model_t *models, size_t count, const char *alias,
           size_t alias_length)
{
    size_t i;

    for (i = 0; i < count; i++) {
        if (alias_equals(models[i].alias, alias, alias_length)) {
            return &models[i];
        }
    }
    return NULL;
}

static bool
key_allows(const llmoin_snapshot_key_t *key, const char *alias, size_t alias_length)
{
    size_t i;

    if (key == NULL || key->models == NULL) {
        return true;
    }
    for (i = 0; i < key->model_count; i++) {
        if (alias_equals(key->models[i], alias, alias_length)) {
            return true;
        }
    }
    return false;
}

llmoin_route_result_t
llmoin_snapshot_route(const llmoin_snapshot_t *snapshot,
                      const llmoin_snapshot_tenant_t *tenant,
                      const llmoin_snapshot_key_t *key, const char *alias,
                      size_t alias_length, const char **pool)
{
    const llmoin_snapshot_model_t *model, *allowed;

    model = find_model(snapshot->models, snapshot->model_count, alias, alias_length);
    if (model == NULL) {
        return LLMOIN_ROUTE_UNKNOWN_MODEL;
    }
    allowed = find_model(tenant->models, tenant->model_count, alias, alias_length);
    if ((allowed == NULL && tenant->models_restricted)
        || !key_allows(key, alias, alias_length))
    {
        return LLMOIN_ROUTE_NOT_ALLOWED;
    }
    *pool = allowed != NULL ? allowed->pool : model->pool;
    return LLMOIN_ROUTE_OK;
}

const llmoin_snapshot_issuer_t *
llmoin_snapshot_find_issuer(const llmoin_snapshot_t *snapshot, const char *issuer)
{
    size_t i;

    for (i = 0; i < snapshot->issuer_count; i++) {
        if (strcmp(snapshot->issuers[i].issuer, issuer) == 0) {
            return &snapshot->issuers[i];
        }
    }
    return NULL;
}

const llmoin_snapshot_tenant_t *
llmoin_snapshot_host_tenant(const llmoin_snapshot_t *snapshot, const char *host,
                            size_t host_length)
{
    const char *colon = memchr(host, ':', host_length);
    size_t      i, j, length = colon != NULL ? (size_t) (colon - host) : host_length;

    for (i = 0; i < snapshot->tenant_count; i++) {
        for (j = 0; j < snapshot->tenants[i].host_count; j++) {
            if (strlen(snapshot->tenants[i].hosts[j]) == length
                && strncasecmp(snapshot->tenants[i].hosts[j], host, length) == 0)
            {
                return &snapshot->tenants[i];
            }
        }
    }
    return NULL;
}
