#include "sim_stats.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct counters {
    uint64_t requests;
    uint64_t ok;
    uint64_t failed;
    uint64_t cut;
    uint64_t rejected;
    uint64_t streams;
    uint64_t prompt_tokens;
    uint64_t completion_tokens;
} counters;

typedef struct tenant {
    char *name; /* NULL marks an empty slot */
    counters counts;
} tenant;

struct sim_stats {
    pthread_mutex_t lock;
    counters total;
    uint64_t authorization_headers;
    tenant *slots; /* open addressing, linear probing */
    size_t slot_count;
    size_t tenant_count;
};

#define INITIAL_SLOTS 64u

static uint64_t hash_name(const char *name)
{
    uint64_t hash = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        hash ^= *p;
        hash *= 1099511628211ull;
    }
    return hash;
}

static tenant *find_slot(tenant *slots, size_t slot_count, const char *name)
{
    size_t index = hash_name(name) & (slot_count - 1);
    while (slots[index].name != NULL && strcmp(slots[index].name, name) != 0)
        index = (index + 1) & (slot_count - 1);
    return &slots[index];
}

static int grow(sim_stats *stats)
{
    size_t new_count = stats->slot_count * 2;
    tenant *new_slots = calloc(new_count, sizeof *new_slots);
    if (new_slots == NULL)
        return -1;
    for (size_t i = 0; i < stats->slot_count; i++) {
        if (stats->slots[i].name != NULL)
            *find_slot(new_slots, new_count, stats->slots[i].name) = stats->slots[i];
    }
    free(stats->slots);
    stats->slots = new_slots;
    stats->slot_count = new_count;
    return 0;
}

static tenant *tenant_for(sim_stats *stats, const char *name)
{
    tenant *slot = find_slot(stats->slots, stats->slot_count, name);
    if (slot->name != NULL)
        return slot;
    /* Keep the table at most half full so probes stay short. */
    if ((stats->tenant_count + 1) * 2 > stats->slot_count) {
        if (grow(stats) != 0)
            return NULL;
        slot = find_slot(stats->slots, stats->slot_count, name);
    }
    slot->name = strdup(name);
    if (slot->name == NULL)
        return NULL;
    memset(&slot->counts, 0, sizeof slot->counts);
    stats->tenant_count++;
    return slot;
}

sim_stats *sim_stats_create(void)
{
    sim_stats *stats = calloc(1, sizeof *stats);
    if (stats == NULL)
        return NULL;
    stats->slots = calloc(INITIAL_SLOTS, sizeof *stats->slots);
    if (stats->slots == NULL) {
        free(stats);
        return NULL;
    }
    stats->slot_count = INITIAL_SLOTS;
    pthread_mutex_init(&stats->lock, NULL);
    return stats;
}

static void forget_tenants(sim_stats *stats)
{
    for (size_t i = 0; i < stats->slot_count; i++) {
        free(stats->slots[i].name);
        stats->slots[i].name = NULL;
    }
    stats->tenant_count = 0;
}

void sim_stats_destroy(sim_stats *stats)
{
    if (stats == NULL)
        return;
    forget_tenants(stats);
    free(stats->slots);
    pthread_mutex_destroy(&stats->lock);
    free(stats);
}

static void apply(counters *counts, const sim_stats_event *event)
{
    if (event->received) {
        counts->requests++;
        if (event->stream)
            counts->streams++;
    }
    switch (event->outcome) {
    case SIM_OUTCOME_NONE:
        break;
    case SIM_OUTCOME_OK:
        counts->ok++;
        break;
    case SIM_OUTCOME_FAILED:
        counts->failed++;
        break;
    case SIM_OUTCOME_CUT:
        counts->cut++;
        break;
    case SIM_OUTCOME_REJECTED:
        counts->rejected++;
        break;
    }
    if (event->outcome == SIM_OUTCOME_OK || event->outcome == SIM_OUTCOME_CUT) {
        counts->prompt_tokens += event->prompt_tokens;
        counts->completion_tokens += event->completion_tokens;
    }
}

int sim_stats_record(sim_stats *stats, const sim_stats_event *event)
{
    const char *name = event->tenant != NULL ? event->tenant : "";
    pthread_mutex_lock(&stats->lock);
    apply(&stats->total, event);
    if (event->authorization)
        stats->authorization_headers++;
    tenant *entry = tenant_for(stats, name);
    if (entry != NULL)
        apply(&entry->counts, event);
    pthread_mutex_unlock(&stats->lock);
    return entry != NULL ? 0 : -1;
}

void sim_stats_reset(sim_stats *stats)
{
    pthread_mutex_lock(&stats->lock);
    memset(&stats->total, 0, sizeof stats->total);
    stats->authorization_headers = 0;
    forget_tenants(stats);
    pthread_mutex_unlock(&stats->lock);
}

static json_t *counters_json(const counters *counts)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                     "requests", (json_int_t)counts->requests,
                     "ok", (json_int_t)counts->ok,
                     "failed", (json_int_t)counts->failed,
                     "cut", (json_int_t)counts->cut,
                     "rejected", (json_int_t)counts->rejected,
                     "streams", (json_int_t)counts->streams,
                     "prompt_tokens", (json_int_t)counts->prompt_tokens,
                     "completion_tokens", (json_int_t)counts->completion_tokens,
                     "total_tokens",
                     (json_int_t)(counts->prompt_tokens + counts->completion_tokens));
}

static int compare_names(const void *left, const void *right)
{
    const tenant *const *a = left;
    const tenant *const *b = right;
    return strcmp((*a)->name, (*b)->name);
}

/* jansson refuses keys that are not UTF-8; such a header still gets a row. */
static void set_tenant(json_t *tenants, const tenant *entry)
{
    json_t *row = counters_json(&entry->counts);
    if (json_object_set(tenants, entry->name, row) != 0) {
        char *printable = strdup(entry->name);
        if (printable != NULL) {
            for (char *p = printable; *p; p++) {
                if ((unsigned char)*p >= 0x80)
                    *p = '?';
            }
            json_object_set(tenants, printable, row);
        }
        free(printable);
    }
    json_decref(row);
}

/* Sorted so that two snapshots can be compared by eye or by diff. */
static json_t *tenants_json(const sim_stats *stats)
{
    json_t *tenants = json_object();
    const tenant **sorted = malloc((stats->tenant_count + 1) * sizeof *sorted);
    if (tenants == NULL || sorted == NULL) {
        free(sorted);
        return tenants;
    }
    size_t count = 0;
    for (size_t i = 0; i < stats->slot_count; i++) {
        if (stats->slots[i].name != NULL)
            sorted[count++] = &stats->slots[i];
    }
    qsort(sorted, count, sizeof *sorted, compare_names);
    for (size_t i = 0; i < count; i++)
        set_tenant(tenants, sorted[i]);
    free(sorted);
    return tenants;
}

json_t *sim_stats_to_json(sim_stats *stats)
{
    pthread_mutex_lock(&stats->lock);
    json_t *result = json_pack("{s:o, s:o, s:I}",
                               "total", counters_json(&stats->total),
                               "tenants", tenants_json(stats),
                               "authorization_headers",
                               (json_int_t)stats->authorization_headers);
    pthread_mutex_unlock(&stats->lock);
    return result;
}
