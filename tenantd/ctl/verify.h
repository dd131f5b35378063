/*
 * llmoinctl usage verify: a tenant's usage ledger (the totals of tenantd's
 * usage report) against a second count of the same requests, taken where
 * they were served: infer-sim's GET /sim/stats. Prints both and the
 * difference (ledger minus source) as a usage table with one row each.
 *
 * infer-sim counts everything since it started, not per day: the command is
 * meant for a window that covers all that infer-sim saw (tests, demos).
 */
#ifndef LLMOINCTL_VERIFY_H
#define LLMOINCTL_VERIFY_H

#include <jansson.h>
#include <stdbool.h>

#include "commands.h"
#include "sbuf.h"

#define VERIFY_SOURCE_NAME "infer-sim"
#define VERIFY_STATS_PATH "/sim/stats"

/* One side's totals. estimated and failed are -1 when the side does not
 * tell them (for infer-sim, estimated is its count of cut streams). */
struct verify_counts {
    json_int_t requests, estimated, failed, prompt_tokens, completion_tokens;
};

/* The handler of the "usage verify" row (commands.c): exits 0 when both
 * sides have the same requests, prompt and completion tokens, 1 when they
 * differ (the differences in the error message, after the table) or an
 * answer is unusable, 3 when tenantd or the source cannot be reached. */
int cmd_usage_verify(const struct ctl_invocation *inv, const struct ctl_context *ctx,
                     struct ctl_error *err);

/* The totals of a usage report ({"totals":{...}}). */
int verify_ledger_counts(const json_t *report, struct verify_counts *out,
                         struct ctl_error *err);
/* A tenant's counters in infer-sim's stats; zeros when it never saw the
 * tenant. Fails (CTL_EXIT_API) on a document that is not /sim/stats. */
int verify_source_counts(const json_t *stats, const char *tenant, struct verify_counts *out,
                         struct ctl_error *err);
/* Whether requests, prompt and completion tokens are the same. */
bool verify_equal(const struct verify_counts *ledger, const struct verify_counts *source);
/* The URL of the stats: --against with /sim/stats appended unless it ends
 * with it already. */
void verify_stats_url(struct sbuf *sb, const char *against);
/* The result: {"tenant","from","to","against","equal","by":"source",
 * "rows":[ledger, infer-sim, difference]}; NULL when out of memory. */
json_t *verify_document(const char *tenant, const json_t *report, const char *against,
                        const struct verify_counts *ledger, const struct verify_counts *source);

#endif
