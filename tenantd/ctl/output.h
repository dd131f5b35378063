/*
 * Rendering of tenantd's answers as table (for people), json (the API's own
 * document, pretty-printed) or csv (RFC 4180, for spreadsheets and scripts).
 */
#ifndef LLMOINCTL_OUTPUT_H
#define LLMOINCTL_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "ctl.h"

/* Same order as output_format_names. */
enum ctl_format { FORMAT_TABLE, FORMAT_JSON, FORMAT_CSV };
extern const char *const output_format_names[]; /* "table", "json", "csv", NULL */

/* What kind of document a command gets back, which picks the table layout. */
enum ctl_view {
    VIEW_NONE,    /* local commands: nothing from tenantd */
    VIEW_OBJECT,  /* one object: "field: value" lines */
    VIEW_TENANTS, /* {"data":[tenant...]} */
    VIEW_KEYS,    /* {"data":[key...]} */
    VIEW_NEW_KEY, /* a key object carrying the secret "key", shown once */
    VIEW_USAGE,   /* usage report with rows and totals */
    VIEW_MONTHLY, /* monthly report: {"month","tenants":[...],"models":[...],"totals"} */
    VIEW_MODELS,  /* {"data":[model...]} */
    VIEW_POOLS,   /* {"data":[pool...]} */
    VIEW_ISSUERS, /* {"data":[issuer...]} */
    VIEW_TENANT_MODELS, /* {"tenant","models_restricted","data":[allowed model...]} */
    VIEW_TOKEN,   /* an object whose "token" is all that table mode prints */
    VIEW_LIMITS,  /* {"tenant","max_tokens_cap","quota_fail_mode","data":[limit...]} */
    VIEW_APPLY,   /* {"tenant","dry_run","created","changes":[change...]}: a line per change */
    VIEW_OFFBOARD, /* {"tenant","deleted":{what: how many}} */
    VIEW_AUDIT,   /* {"data":[audit row...],"next_before"} */
    VIEW_AUDIT_VERIFY, /* {"ok","rows","head"} or {"ok","rows","problem":{...}} */
};

/* Writes doc in fmt; a NULL doc (empty answer) prints nothing. Fails with
 * CTL_EXIT_API when the document does not have the expected shape. */
int output_render(FILE *out, enum ctl_format fmt, enum ctl_view view, const json_t *doc,
                  struct ctl_error *err);

/* A grid of owned cell strings, rendered as aligned table or as csv.
 * Exposed for the unit tests. */
struct grid {
    size_t ncols, nrows, cap;
    const char *const *headers; /* ncols */
    const bool *right;          /* ncols right-aligned flags, or NULL */
    char **cells;               /* nrows * ncols, row-major; NULL cell = "" */
    bool failed;                /* out of memory while filling */
};

void grid_init(struct grid *g, size_t ncols, const char *const *headers, const bool *right);
/* Appends a row of empty cells and returns it, NULL when out of memory. */
char **grid_add_row(struct grid *g);
void grid_free(struct grid *g);
/* Columns separated by two spaces, no trailing blanks, widths in terminal
 * columns (UTF-8 aware). -1 when out of memory. */
int grid_write_table(FILE *out, const struct grid *g);
/* RFC 4180: CRLF line ends; fields with ',', '"', CR or LF quoted. */
void grid_write_csv(FILE *out, const struct grid *g);
void csv_write_field(FILE *out, const char *s);

#endif
