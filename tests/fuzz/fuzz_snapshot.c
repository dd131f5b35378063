/*
 * fuzz_snapshot: the payload is parsed as a tenant snapshot, with an error
 * buffer of knob + 1 bytes (heap-allocated to its exact size, so ASan sees
 * any overrun). A refusal must leave a terminated message and no leak. An
 * accepted snapshot must hold what the header promises, and its lookups
 * must agree with it: every key is found by its own hash, never by a
 * slightly different one; every model alias routes (OK or NOT_ALLOWED,
 * never UNKNOWN_MODEL) to a non-empty pool; pseudonyms are the HMAC of the
 * user under the key's tenant secret. The payload slice between the two
 * cuts is also used as a probe hash and model alias.
 */
#include <string.h>

#include "fuzz_common.h"
#include "snapshot.h"

static int is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static int model_exists(const llmoin_snapshot_t *s, const char *alias,
                        size_t length)
{
    for (size_t i = 0; i < s->model_count; i++)
        if (strlen(s->models[i].alias) == length &&
            memcmp(s->models[i].alias, alias, length) == 0)
            return 1;
    return 0;
}

static void check_route(const llmoin_snapshot_t *s,
                        const llmoin_snapshot_tenant_t *t,
                        const llmoin_snapshot_key_t *k, const char *alias,
                        size_t length)
{
    const char *pool = NULL;
    llmoin_route_result_t rc =
        llmoin_snapshot_route(s, t, k, alias, length, &pool);

    FUZZ_CHECK(rc == LLMOIN_ROUTE_OK || rc == LLMOIN_ROUTE_UNKNOWN_MODEL ||
                   rc == LLMOIN_ROUTE_NOT_ALLOWED,
               "route result");
    FUZZ_CHECK((rc == LLMOIN_ROUTE_UNKNOWN_MODEL) ==
                   !model_exists(s, alias, length),
               "UNKNOWN_MODEL iff the alias is not a model");
    if (rc == LLMOIN_ROUTE_OK) {
        FUZZ_CHECK(pool != NULL && pool[0] != '\0', "routed to no pool");
        /* neither allow-list nor scope: always allowed */
    } else if (t->model_count == 0 && (k == NULL || k->models == NULL)) {
        FUZZ_CHECK(rc == LLMOIN_ROUTE_UNKNOWN_MODEL, "refused without a list");
    }
}

static void check_tenants(const llmoin_snapshot_t *s)
{
    for (size_t i = 0; i < s->tenant_count; i++) {
        const llmoin_snapshot_tenant_t *t = &s->tenants[i];

        FUZZ_CHECK(t->id > 0, "tenant id");
        FUZZ_CHECK(t->slug != NULL && t->slug[0] != '\0', "tenant slug");
        FUZZ_CHECK(t->pseudonym_secret != NULL &&
                       t->pseudonym_secret_length >= 16,
                   "tenant secret");
        /* find_tenant gives the first tenant with that id */
        const llmoin_snapshot_tenant_t *found =
            llmoin_snapshot_find_tenant(s, t->id);
        FUZZ_CHECK(found != NULL && found <= t && found->id == t->id,
                   "find_tenant");
        for (size_t m = 0; m < t->model_count; m++) {
            FUZZ_CHECK(t->models[m].alias[0] != '\0' &&
                           t->models[m].pool[0] != '\0',
                       "tenant model entry");
            check_route(s, t, NULL, t->models[m].alias,
                        strlen(t->models[m].alias));
        }
        for (size_t m = 0; m < s->model_count; m++)
            check_route(s, t, NULL, s->models[m].alias,
                        strlen(s->models[m].alias));
    }
}

static void check_keys(const llmoin_snapshot_t *s)
{
    char probe[LLMOIN_APIKEY_HASH_BUFSZ];

    for (size_t i = 0; i < s->key_count; i++) {
        const llmoin_snapshot_key_t *k = &s->keys[i], *found;
        char pseudonym[LLMOIN_PSEUDONYM_BUFSZ];

        FUZZ_CHECK(strlen(k->hash) == LLMOIN_APIKEY_HASH_HEX_LEN &&
                       is_lower_hex(k->hash, LLMOIN_APIKEY_HASH_HEX_LEN),
                   "key hash");
        FUZZ_CHECK(i == 0 || strcmp(s->keys[i - 1].hash, k->hash) <= 0,
                   "keys sorted by hash");
        FUZZ_CHECK(k->id != NULL && k->id[0] != '\0', "key id");
        FUZZ_CHECK(k->user != NULL && k->user[0] != '\0', "key user");
        FUZZ_CHECK(k->tenant >= s->tenants &&
                       k->tenant < s->tenants + s->tenant_count,
                   "key tenant inside the snapshot");
        FUZZ_CHECK(k->tenant == llmoin_snapshot_find_tenant(s, k->tenant->id),
                   "key tenant is the tenant of its id");
        FUZZ_CHECK(k->models != NULL || k->model_count == 0, "scope count");

        found = llmoin_snapshot_find_key(s, k->hash);
        FUZZ_CHECK(found != NULL, "key not found by its own hash");
        FUZZ_CHECK(strcmp(found->hash, k->hash) == 0, "found another hash");

        /* one hex digit off: nothing, or a key with exactly that hash */
        memcpy(probe, k->hash, sizeof probe);
        probe[i % LLMOIN_APIKEY_HASH_HEX_LEN] ^= 1; /* '0'<->'1', 'a'<->'`' ... */
        found = llmoin_snapshot_find_key(s, probe);
        FUZZ_CHECK(found == NULL || strcmp(found->hash, probe) == 0,
                   "found by a different hash");

        FUZZ_CHECK(strlen(k->pseudonym) == LLMOIN_PSEUDONYM_LEN &&
                       memcmp(k->pseudonym, "u_", 2) == 0 &&
                       is_lower_hex(k->pseudonym + 2, LLMOIN_PSEUDONYM_LEN - 2),
                   "pseudonym format");
        FUZZ_CHECK(llmoin_pseudonym(k->tenant->pseudonym_secret,
                                    k->tenant->pseudonym_secret_length,
                                    k->user, strlen(k->user), pseudonym) == 0 &&
                       strcmp(pseudonym, k->pseudonym) == 0,
                   "pseudonym is not the tenant's HMAC of the user");

        for (size_t m = 0; m < s->model_count; m++)
            check_route(s, k->tenant, k, s->models[m].alias,
                        strlen(s->models[m].alias));
        for (size_t m = 0; m < k->model_count; m++)
            check_route(s, k->tenant, k, k->models[m], strlen(k->models[m]));
    }
}

static void check_probe(const llmoin_snapshot_t *s, const char *slice,
                        size_t length)
{
    char hash[LLMOIN_APIKEY_HASH_BUFSZ + 1];
    size_t n = length < sizeof hash - 1 ? length : sizeof hash - 1;
    const llmoin_snapshot_key_t *found;

    memcpy(hash, slice, n);
    hash[n] = '\0';
    found = llmoin_snapshot_find_key(s, hash);
    FUZZ_CHECK(found == NULL || strcmp(found->hash, hash) == 0,
               "probe found a different hash");
    for (size_t i = 0; i < s->tenant_count; i++) {
        check_route(s, &s->tenants[i], NULL, slice, length);
        for (size_t k = 0; k < s->key_count && k < 8; k++)
            if (s->keys[k].tenant == &s->tenants[i])
                check_route(s, &s->tenants[i], &s->keys[k], slice, length);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_t in;
    size_t error_size;
    char *error;
    llmoin_snapshot_t *s;

    if (!fuzz_input(data, size, &in))
        return 0;
    error_size = (size_t)in.knob + 1;
    error = malloc(error_size);
    FUZZ_CHECK(error != NULL, "malloc");
    memset(error, 'X', error_size);

    s = llmoin_snapshot_parse((const char *)in.data, in.len, error, error_size);
    FUZZ_CHECK(memchr(error, '\0', error_size) != NULL, "error not terminated");
    if (s == NULL) {
        FUZZ_CHECK(error_size == 1 || error[0] != '\0', "refused without a reason");
        free(error);
        return 0;
    }
    free(error);

    for (size_t m = 0; m < s->model_count; m++) {
        FUZZ_CHECK(s->models[m].alias[0] != '\0' && s->models[m].pool[0] != '\0',
                   "model entry");
        FUZZ_CHECK(m == 0 || strcmp(s->models[m - 1].alias, s->models[m].alias) <= 0,
                   "models sorted by alias");
    }
    check_tenants(s);
    check_keys(s);
    check_probe(s, (const char *)in.data + in.cuts[0], in.cuts[1] - in.cuts[0]);
    llmoin_snapshot_free(s);
    return 0;
}
