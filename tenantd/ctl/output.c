#include "output.h"

#include <stdlib.h>
#include <string.h>

#include "sbuf.h"
#include "text.h"

const char *const output_format_names[] = { "table", "json", "csv", NULL };

/* One table column: header for people, field for csv and the JSON lookup. */
struct column {
    const char *header;
    const char *field;
    bool right;
};

static const struct column tenant_columns[] = {
    { "SLUG", "slug", false },
    { "NAME", "name", false },
    { "STATUS", "status", false },
    { "CREATED", "created_at", false },
    { NULL, NULL, false },
};

static const struct column key_columns[] = {
    { "ID", "id", false },
    { "USER", "user", false },
    { "NAME", "name", false },
    { "PREFIX", "prefix", false },
    { "CREATED", "created_at", false },
    { "EXPIRES", "expires_at", false },
    { "REVOKED", "revoked_at", false },
    { "LAST_USED", "last_used_at", false },
    { "MODELS", "models", false },
    { NULL, NULL, false },
};

static const struct column model_columns[] = {
    { "ALIAS", "alias", false },
    { "POOL", "pool", false },
    { "UPSTREAM_MODEL", "upstream_model", false },
    { "CREATED", "created_at", false },
    { NULL, NULL, false },
};

static const struct column pool_columns[] = {
    { "NAME", "name", false },
    { "MODELS", "models", false },
    { "DESCRIPTION", "description", false },
    { "CREATED", "created_at", false },
    { NULL, NULL, false },
};

static const struct column issuer_columns[] = {
    { "ID", "id", false },
    { "ISSUER", "issuer", false },
    { "AUDIENCE", "audience", false },
    { "KEYS", "keys", true },
    { "USER_CLAIM", "user_claim", false },
    { "FETCHED", "jwks_fetched_at", false },
    { "ERROR", "jwks_error", false },
    { NULL, NULL, false },
};

static const struct column tenant_model_columns[] = {
    { "ALIAS", "alias", false },
    { "POOL", "pool", false },
    { "DEDICATED", "dedicated_pool", false },
    { NULL, NULL, false },
};

static const struct column limit_columns[] = {
    { "SCOPE", "scope", false },
    { "SUBJECT", "subject", false },
    { "RPM", "rpm", true },
    { "TPM", "tpm", true },
    { "CONCURRENT", "concurrent", true },
    { "MONTHLY", "monthly_tokens", true },
    { NULL, NULL, false },
};

/* An audit row's who, what and when; the tables add what changed, csv the
 * whole row. */
#define AUDIT_ROW_COLUMNS                  \
    { "SEQ", "seq", true },                \
    { "AT", "at", false },                 \
    { "ACTOR", "actor", false },           \
    { "TENANT", "tenant", false },         \
    { "ACTION", "action", false },         \
    { "OBJECT", "object", false }

/* CHANGES is filled by audit_changes_row from before and after. */
static const struct column audit_columns[] = {
    AUDIT_ROW_COLUMNS, { "CHANGES", "after", false }, { NULL, NULL, false },
};
#define AUDIT_CHANGES_COLUMN 6

static const struct column audit_csv_columns[] = {
    AUDIT_ROW_COLUMNS,
    { "BEFORE", "before", false },
    { "AFTER", "after", false },
    { "HASH", "hash", false },
    { NULL, NULL, false },
};

/* The counters of a row of a usage report. */
#define COUNTER_COLUMNS                        \
    { "REQUESTS", "requests", true },          \
    { "PROMPT", "prompt_tokens", true },       \
    { "COMPLETION", "completion_tokens", true }, \
    { "TOTAL", "total_tokens", true },         \
    { "ESTIMATED", "estimated_requests", true }, \
    { "FAILED", "failed_requests", true },     \
    { NULL, NULL, false }

/* The first column's header is the report's "by" (DAY, USER, GROUP ...). */
static const struct column usage_columns[] = { { NULL, "key", false }, COUNTER_COLUMNS };

static const struct column monthly_tenant_columns[] = {
    { "TENANT", "tenant", false }, { "NAME", "name", false }, COUNTER_COLUMNS
};

static const struct column monthly_model_columns[] = {
    { "TENANT", "tenant", false }, { "MODEL", "model", false }, COUNTER_COLUMNS
};

#define MAX_COLUMNS 16 /* of the fixed layouts above */

static const char NOTE_NEW_KEY[] =
    "Store this key now: it is shown only this once and cannot be retrieved again.";

/* ---- grid ---------------------------------------------------------------- */

void grid_init(struct grid *g, size_t ncols, const char *const *headers, const bool *right)
{
    *g = (struct grid){ .ncols = ncols, .headers = headers, .right = right };
}

char **grid_add_row(struct grid *g)
{
    if (g->failed)
        return NULL;
    if (g->nrows == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 8;
        char **cells = realloc(g->cells, cap * g->ncols * sizeof *cells);

        if (!cells) {
            g->failed = true;
            return NULL;
        }
        g->cells = cells;
        g->cap = cap;
    }
    char **row = g->cells + g->nrows++ * g->ncols;
    memset(row, 0, g->ncols * sizeof *row);
    return row;
}

void grid_free(struct grid *g)
{
    for (size_t i = 0; i < g->nrows * g->ncols; i++)
        free(g->cells[i]);
    free(g->cells);
    *g = (struct grid){ 0 };
}

static const char *cell(const struct grid *g, size_t row, size_t col)
{
    const char *s = g->cells[row * g->ncols + col];

    return s ? s : "";
}

static void add_padded(struct sbuf *line, const char *s, size_t width, bool right)
{
    size_t pad = width - text_width(s);

    if (right)
        sbuf_addf(line, "%*s", (int)pad, "");
    sbuf_add(line, s);
    if (!right)
        sbuf_addf(line, "%*s", (int)pad, "");
}

/* Pads every column, then drops trailing blanks (from empty or short last
 * cells) so lines stay clean for diff and grep. */
static bool write_table_row(FILE *out, const struct grid *g, const size_t *width,
                            const char *(*get)(const struct grid *, size_t, size_t), size_t row)
{
    struct sbuf line = SBUF_INIT;
    bool ok;

    for (size_t c = 0; c < g->ncols; c++) {
        if (c)
            sbuf_add(&line, "  ");
        add_padded(&line, get(g, row, c), width[c], g->right && g->right[c]);
    }
    while (line.len && line.data[line.len - 1] == ' ')
        line.data[--line.len] = '\0';
    fprintf(out, "%s\n", sbuf_str(&line));
    ok = !line.failed;
    sbuf_free(&line);
    return ok;
}

static const char *header(const struct grid *g, size_t row, size_t col)
{
    (void)row;
    return g->headers[col];
}

int grid_write_table(FILE *out, const struct grid *g)
{
    size_t *width = calloc(g->ncols ? g->ncols : 1, sizeof *width);

    if (!width)
        return -1;
    for (size_t c = 0; c < g->ncols; c++) {
        width[c] = text_width(g->headers[c]);
        for (size_t r = 0; r < g->nrows; r++) {
            size_t w = text_width(cell(g, r, c));

            if (w > width[c])
                width[c] = w;
        }
    }
    bool ok = write_table_row(out, g, width, header, 0);
    for (size_t r = 0; r < g->nrows; r++)
        ok &= write_table_row(out, g, width, cell, r);
    free(width);
    return ok ? 0 : -1;
}

void csv_write_field(FILE *out, const char *s)
{
    if (!s[strcspn(s, ",\"\r\n")]) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void write_csv_row(FILE *out, const struct grid *g,
                          const char *(*get)(const struct grid *, size_t, size_t), size_t row)
{
    for (size_t c = 0; c < g->ncols; c++) {
        if (c)
            fputc(',', out);
        csv_write_field(out, get(g, row, c));
    }
    fputs("\r\n", out);
}

void grid_write_csv(FILE *out, const struct grid *g)
{
    write_csv_row(out, g, header, 0);
    for (size_t r = 0; r < g->nrows; r++)
        write_csv_row(out, g, cell, r);
}

/* ---- JSON values to cells ------------------------------------------------- */

static bool strings_only(const json_t *array)
{
    const json_t *v;
    size_t i;

    json_array_foreach(array, i, v)
        if (!json_is_string(v))
            return false;
    return true;
}

/* Text of a JSON value: tables show "-" for null and only printable text,
 * csv keeps strings exactly and leaves null empty. A list of strings is
 * shown as the command line takes it, "a,b"; an empty one as "(none)" in
 * tables, so that it differs from null ("-").
 * NULL when out of memory. */
static char *value_text(const json_t *v, enum ctl_format fmt)
{
    struct sbuf sb = SBUF_INIT;
    const json_t *item;
    char *dumped;
    size_t i;

    if (!v || json_is_null(v)) {
        sbuf_add(&sb, fmt == FORMAT_TABLE ? "-" : "");
    } else if (json_is_array(v) && json_array_size(v) == 0) {
        sbuf_add(&sb, fmt == FORMAT_TABLE ? "(none)" : "");
    } else if (json_is_array(v) && strings_only(v)) {
        json_array_foreach(v, i, item) {
            if (i)
                sbuf_addc(&sb, ',');
            if (fmt == FORMAT_TABLE)
                text_sanitize(&sb, json_string_value(item));
            else
                sbuf_add(&sb, json_string_value(item));
        }
    } else if (json_is_string(v) && fmt == FORMAT_TABLE) {
        text_sanitize(&sb, json_string_value(v));
    } else if (json_is_string(v)) {
        sbuf_add(&sb, json_string_value(v));
    } else if ((dumped = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT))) {
        sbuf_add(&sb, dumped);
        free(dumped);
    } else {
        sb.failed = true;
    }
    sbuf_addn(&sb, "", 0); /* "" must be an allocated string too */
    if (sb.failed) {
        sbuf_free(&sb);
        return NULL;
    }
    return sb.data;
}

static bool fill_row(struct grid *g, const json_t *obj, const struct column *cols,
                     enum ctl_format fmt)
{
    char **row = grid_add_row(g);

    for (size_t c = 0; row && c < g->ncols; c++)
        if (!(row[c] = value_text(json_object_get(obj, cols[c].field), fmt)))
            g->failed = true;
    return row && !g->failed;
}

static int out_of_memory(struct ctl_error *err)
{
    return ctl_fail(err, CTL_EXIT_API, "out of memory");
}

static int unexpected(const char *what, struct ctl_error *err)
{
    return ctl_fail(err, CTL_EXIT_API, "unexpected answer from tenantd: %s", what);
}

static int write_grid(FILE *out, enum ctl_format fmt, const struct grid *g,
                      struct ctl_error *err)
{
    if (fmt == FORMAT_CSV)
        grid_write_csv(out, g);
    else if (grid_write_table(out, g) != 0)
        return out_of_memory(err);
    return 0;
}

/* ---- views ------------------------------------------------------------- */

static size_t column_setup(const struct column *cols, enum ctl_format fmt, const char **headers,
                           bool *right)
{
    size_t n = 0;

    for (; cols[n].field && n < MAX_COLUMNS; n++) {
        headers[n] = fmt == FORMAT_CSV ? cols[n].field : cols[n].header;
        right[n] = cols[n].right;
    }
    return n;
}

/* Changes a filled row for people (table mode); false when out of memory. */
typedef bool (*row_hook)(char **cells, const json_t *item);

static int write_list(FILE *out, enum ctl_format fmt, const json_t *doc,
                      const struct column *cols, row_hook hook, struct ctl_error *err)
{
    const json_t *data = json_object_get(doc, "data"), *item;
    const char *headers[MAX_COLUMNS];
    bool right[MAX_COLUMNS];
    struct grid g;
    size_t i;

    if (!json_is_array(data))
        return unexpected("no \"data\" list", err);
    grid_init(&g, column_setup(cols, fmt, headers, right), headers, right);
    json_array_foreach(data, i, item) {
        if (!json_is_object(item)) {
            grid_free(&g);
            return unexpected("a \"data\" entry is not an object", err);
        }
        if (!fill_row(&g, item, cols, fmt) ||
            (fmt == FORMAT_TABLE && hook && !hook(g.cells + (g.nrows - 1) * g.ncols, item))) {
            grid_free(&g);
            return out_of_memory(err);
        }
    }
    int rc = write_grid(out, fmt, &g, err);
    grid_free(&g);
    return rc;
}

static int write_field_line(FILE *out, const char *name, const json_t *value,
                            struct ctl_error *err)
{
    struct sbuf sb = SBUF_INIT;
    char *text = value_text(value, FORMAT_TABLE);

    text_sanitize(&sb, name);
    if (!text || sb.failed) {
        free(text);
        sbuf_free(&sb);
        return out_of_memory(err);
    }
    fprintf(out, "%s: %s\n", sbuf_str(&sb), text);
    free(text);
    sbuf_free(&sb);
    return 0;
}

/* Table mode for one object: a "field: value" line each, skipping `skip`. */
static int write_fields(FILE *out, const json_t *obj, const char *const *skip,
                        struct ctl_error *err)
{
    const char *name;
    const json_t *value;
    int rc = 0;

    json_object_foreach((json_t *)obj, name, value) {
        bool skipped = false;

        for (size_t i = 0; skip && skip[i]; i++)
            skipped |= strcmp(name, skip[i]) == 0;
        if (!skipped && (rc = write_field_line(out, name, value, err)))
            return rc;
    }
    return rc;
}

static int write_object_csv(FILE *out, const json_t *obj, struct ctl_error *err)
{
    size_t n = json_object_size(obj), c = 0;
    const char **headers = calloc(n ? n : 1, sizeof *headers);
    const char *name;
    const json_t *value;
    struct grid g;
    char **row;

    if (!headers)
        return out_of_memory(err);
    grid_init(&g, n, headers, NULL);
    row = grid_add_row(&g);
    json_object_foreach((json_t *)obj, name, value) {
        headers[c] = name;
        if (row && !(row[c] = value_text(value, FORMAT_CSV)))
            g.failed = true;
        c++;
    }
    if (!g.failed)
        grid_write_csv(out, &g);
    int rc = g.failed ? out_of_memory(err) : 0;
    grid_free(&g);
    free(headers);
    return rc;
}

static int write_object(FILE *out, enum ctl_format fmt, const json_t *doc, struct ctl_error *err)
{
    if (!json_is_object(doc))
        return unexpected("not a JSON object", err);
    if (fmt == FORMAT_CSV)
        return write_object_csv(out, doc, err);
    return write_fields(out, doc, NULL, err);
}

/* The secret comes first so it is easy to copy, then the key's other fields,
 * then the reminder that it cannot be shown again. */
static int write_new_key(FILE *out, const json_t *doc, struct ctl_error *err)
{
    static const char *const shown[] = { "key", "id", NULL };
    int rc;

    if (!json_is_object(doc) || !json_is_string(json_object_get(doc, "key")))
        return unexpected("no \"key\" in the new key", err);
    if ((rc = write_field_line(out, "key", json_object_get(doc, "key"), err)) ||
        (rc = write_field_line(out, "id", json_object_get(doc, "id"), err)) ||
        (rc = write_fields(out, doc, shown, err)))
        return rc;
    fprintf(out, "\n%s\n", NOTE_NEW_KEY);
    return 0;
}

/* Table mode of a report row: "" (no group, no function, no model) reads
 * as (none); the TOTAL row leaves the text columns it has no value for
 * empty. False when out of memory. */
static bool report_row_for_people(struct grid *g, const json_t *item, const struct column *cols,
                                  bool total)
{
    char **cells = g->cells + (g->nrows - 1) * g->ncols;

    for (size_t c = 0; c < g->ncols; c++) {
        const json_t *value = json_object_get(item, cols[c].field);
        const char *text = total && c == 0                ? "TOTAL"
                           : total && !value              ? ""
                           : json_is_string(value) &&
                                   !json_string_length(value) ? "(none)"
                                                              : NULL;

        if (!text)
            continue;
        free(cells[c]);
        if (!(cells[c] = strdup(text)))
            return false;
    }
    return true;
}

/* Rows of a usage report; in table mode a TOTAL row after them (in csv it
 * would be double-counted by SUM()). first_header replaces the first
 * column's header, unless NULL. */
static int write_report(FILE *out, enum ctl_format fmt, const json_t *rows,
                        const struct column *cols, const char *first_header,
                        const json_t *totals, struct ctl_error *err)
{
    const char *headers[MAX_COLUMNS];
    bool right[MAX_COLUMNS];
    const json_t *row;
    struct grid g;
    size_t i;
    int rc;

    grid_init(&g, column_setup(cols, fmt, headers, right), headers, right);
    if (first_header)
        headers[0] = first_header;
    json_array_foreach(rows, i, row)
        if (!fill_row(&g, row, cols, fmt) ||
            (fmt == FORMAT_TABLE && !report_row_for_people(&g, row, cols, false)))
            g.failed = true;
    if (fmt == FORMAT_TABLE && json_is_object(totals) && fill_row(&g, totals, cols, fmt) &&
        !report_row_for_people(&g, totals, cols, true))
        g.failed = true;
    rc = g.failed ? out_of_memory(err) : write_grid(out, fmt, &g, err);
    grid_free(&g);
    return rc;
}

static int write_usage(FILE *out, enum ctl_format fmt, const json_t *doc, struct ctl_error *err)
{
    const json_t *rows = json_object_get(doc, "rows");
    const char *by = json_string_value(json_object_get(doc, "by"));
    struct sbuf first = SBUF_INIT;
    size_t i;
    int rc;

    if (!json_is_array(rows))
        return unexpected("no \"rows\" list in the usage report", err);
    text_sanitize(&first, by ? by : "key");
    for (i = 0; fmt == FORMAT_TABLE && first.data && i < first.len; i++)
        if (first.data[i] >= 'a' && first.data[i] <= 'z')
            first.data[i] = (char)(first.data[i] - 'a' + 'A');
    rc = first.failed ? out_of_memory(err)
                      : write_report(out, fmt, rows, usage_columns, sbuf_str(&first),
                                     json_object_get(doc, "totals"), err);
    sbuf_free(&first);
    return rc;
}

/* Table mode: the month, the tenants with a TOTAL row, then the tenants'
 * models. csv: a line per tenant and model, the finest rows there are. */
static int write_monthly(FILE *out, enum ctl_format fmt, const json_t *doc,
                         struct ctl_error *err)
{
    const json_t *tenants = json_object_get(doc, "tenants");
    const json_t *models = json_object_get(doc, "models");
    const char *month = json_string_value(json_object_get(doc, "month"));
    struct sbuf shown = SBUF_INIT;
    int rc;

    if (!json_is_array(tenants) || !json_is_array(models) || !month)
        return unexpected("no \"month\", \"tenants\" or \"models\" in the monthly report", err);
    if (fmt == FORMAT_CSV)
        return write_report(out, fmt, models, monthly_model_columns, NULL, NULL, err);
    text_sanitize(&shown, month);
    if (shown.failed)
        return out_of_memory(err);
    fprintf(out, "Usage in %s (Europe/Berlin), per tenant:\n\n", sbuf_str(&shown));
    sbuf_free(&shown);
    if ((rc = write_report(out, fmt, tenants, monthly_tenant_columns, NULL,
                           json_object_get(doc, "totals"), err)))
        return rc;
    fputs("\nPer tenant and model:\n\n", out);
    return write_report(out, fmt, models, monthly_model_columns, NULL, NULL, err);
}

static int write_json(FILE *out, const json_t *doc, struct ctl_error *err)
{
    if (json_dumpf(doc, out, JSON_INDENT(2) | JSON_ENCODE_ANY) != 0)
        return ctl_fail(err, CTL_EXIT_API, "cannot write the JSON output");
    fputc('\n', out);
    return 0;
}

/* Table mode of VIEW_TENANT_MODELS: whether the list is in force comes first. */
static int tenant_models_preface(FILE *out, const json_t *doc, struct ctl_error *err)
{
    const json_t *restricted = json_object_get(doc, "models_restricted");
    const char *tenant = json_string_value(json_object_get(doc, "tenant"));
    bool empty = json_array_size(json_object_get(doc, "data")) == 0;
    struct sbuf slug = SBUF_INIT;

    if (!json_is_boolean(restricted))
        return unexpected("no \"models_restricted\" in the allow-list", err);
    text_sanitize(&slug, tenant ? tenant : "?");
    if (slug.failed)
        return out_of_memory(err);
    if (json_is_true(restricted))
        fprintf(out, "Tenant %s may use %s (restricted to its list).\n\n", sbuf_str(&slug),
                empty ? "no model" : "only the models below");
    else
        fprintf(out, "Tenant %s may use every model (not restricted to its list)%s.\n\n",
                sbuf_str(&slug), empty ? "" : "; the models below use the pool shown");
    sbuf_free(&slug);
    return 0;
}

/* Table mode of VIEW_TOKEN: only the token, so that $(llmoinctl ...) is it. */
static int write_token(FILE *out, const json_t *doc, struct ctl_error *err)
{
    const char *token = json_string_value(json_object_get(doc, "token"));
    struct sbuf sb = SBUF_INIT;

    if (!token)
        return unexpected("no \"token\" in the answer", err);
    text_sanitize(&sb, token);
    if (sb.failed)
        return out_of_memory(err);
    fprintf(out, "%s\n", sbuf_str(&sb));
    sbuf_free(&sb);
    return 0;
}

/* Table mode of VIEW_LIMITS: the tenant's cap and fail mode come first. */
static int limits_preface(FILE *out, const json_t *doc, struct ctl_error *err)
{
    const json_t *cap = json_object_get(doc, "max_tokens_cap");
    const char *mode = json_string_value(json_object_get(doc, "quota_fail_mode"));
    const char *tenant = json_string_value(json_object_get(doc, "tenant"));
    struct sbuf slug = SBUF_INIT, fail = SBUF_INIT;

    if (!json_is_integer(cap) || !mode)
        return unexpected("no \"max_tokens_cap\" or \"quota_fail_mode\" in the limits", err);
    text_sanitize(&slug, tenant ? tenant : "?");
    text_sanitize(&fail, mode);
    if (slug.failed || fail.failed) {
        sbuf_free(&slug);
        sbuf_free(&fail);
        return out_of_memory(err);
    }
    fprintf(out, "Tenant %s: max_tokens_cap %lld, quota_fail_mode %s.\n\n", sbuf_str(&slug),
            (long long)json_integer_value(cap), sbuf_str(&fail));
    sbuf_free(&slug);
    sbuf_free(&fail);
    return 0;
}

/* Subject "" of a group, user or key row is the default for every one. */
static bool limits_row(char **cells, const json_t *item)
{
    const char *scope = json_string_value(json_object_get(item, "scope"));
    const char *subject = json_string_value(json_object_get(item, "subject"));

    if (!scope || strcmp(scope, "tenant") == 0 || !subject || subject[0])
        return true;
    free(cells[1]);
    return (cells[1] = strdup("(default)")) != NULL;
}

/* One "name: old -> new" of an audit row's changes; - for absent or null. */
static void add_change(struct sbuf *sb, const char *name, const json_t *old, const json_t *now)
{
    char *old_text = value_text(old, FORMAT_TABLE), *now_text = value_text(now, FORMAT_TABLE);

    if (!old_text || !now_text)
        sb->failed = true;
    if (sb->len)
        sbuf_add(sb, ", ");
    text_sanitize(sb, name);
    sbuf_addf(sb, ": %s -> %s", old_text ? old_text : "", now_text ? now_text : "");
    free(old_text);
    free(now_text);
}

/* Table mode of an audit row: the fields a change changed, from before and
 * after. A creation or a removal (one side null) shows -: its action says it,
 * and --output json or csv show the whole object. */
static bool audit_changes_row(char **cells, const json_t *item)
{
    const json_t *before = json_object_get(item, "before");
    const json_t *after = json_object_get(item, "after");
    const json_t *value;
    struct sbuf sb = SBUF_INIT;
    const char *name;

    free(cells[AUDIT_CHANGES_COLUMN]);
    if (!json_is_object(before) || !json_is_object(after))
        return (cells[AUDIT_CHANGES_COLUMN] = strdup("-")) != NULL;
    json_object_foreach((json_t *)after, name, value)
        if (!json_equal(json_object_get(before, name), value))
            add_change(&sb, name, json_object_get(before, name), value);
    json_object_foreach((json_t *)before, name, value)
        if (!json_object_get(after, name))
            add_change(&sb, name, value, NULL);
    sbuf_addn(&sb, "", 0); /* nothing changed: "" */
    if (sb.failed) {
        sbuf_free(&sb);
        cells[AUDIT_CHANGES_COLUMN] = NULL;
        return false;
    }
    cells[AUDIT_CHANGES_COLUMN] = sb.data;
    return true;
}

/* A page of the audit log; in table mode, where the next page starts. */
static int write_audit(FILE *out, enum ctl_format fmt, const json_t *doc, struct ctl_error *err)
{
    const json_t *next = json_object_get(doc, "next_before");
    int rc = write_list(out, fmt, doc, fmt == FORMAT_CSV ? audit_csv_columns : audit_columns,
                        audit_changes_row, err);

    if (rc == 0 && fmt == FORMAT_TABLE && json_is_integer(next))
        fprintf(out, "\nOlder entries: --before %lld\n", (long long)json_integer_value(next));
    return rc;
}

/* Table mode of the chain's check: the problem's fields on lines of their own. */
static int write_audit_verify(FILE *out, const json_t *doc, struct ctl_error *err)
{
    static const char *const nested[] = { "problem", NULL };
    const json_t *problem = json_object_get(doc, "problem");
    int rc;

    if (!json_is_object(doc))
        return unexpected("not a JSON object", err);
    if ((rc = write_fields(out, doc, nested, err)))
        return rc;
    return json_is_object(problem) ? write_fields(out, problem, NULL, err) : 0;
}

/* csv of tenant apply's changes; tables show them as lines (change_line). */
static const struct column change_columns[] = {
    { "ACTION", "action", false },
    { "OBJECT", "object", false },
    { "FIELD", "field", false },
    { "BEFORE", "before", false },
    { "AFTER", "after", false },
    { NULL, NULL, false },
};

/* A value of a changed field: none for null (no limit, no value). */
static void add_change_value(struct sbuf *line, const json_t *value)
{
    char *text;

    if (!value || json_is_null(value)) {
        sbuf_add(line, "none");
        return;
    }
    if (!(text = value_text(value, FORMAT_TABLE))) {
        line->failed = true;
        return;
    }
    sbuf_add(line, text);
    free(text);
}

/* "+ limit user:default rpm 30 tpm 30000" (an entry added; a limit with
 * its values), "- model mistral-7b", "~ limit user:default rpm 60 -> 120". */
static void change_line(struct sbuf *line, const json_t *change)
{
    const char *action = json_string_value(json_object_get(change, "action"));
    const char *object = json_string_value(json_object_get(change, "object"));
    const char *field = json_string_value(json_object_get(change, "field"));
    const json_t *before = json_object_get(change, "before");
    const json_t *after = json_object_get(change, "after"), *value;
    const char *name;

    sbuf_add(line, field ? "~ " : !before || json_is_null(before) ? "+ " : "- ");
    text_sanitize(line, object ? object : "?");
    if (field) {
        sbuf_addc(line, ' ');
        text_sanitize(line, field);
        sbuf_addc(line, ' ');
        add_change_value(line, before);
        sbuf_add(line, " -> ");
        add_change_value(line, after);
        return;
    }
    if (!action || strcmp(action, "tenant.limit.set") != 0)
        return;
    json_object_foreach((json_t *)after, name, value) {
        if (!json_is_integer(value))
            continue;
        sbuf_addc(line, ' ');
        text_sanitize(line, name);
        sbuf_addf(line, " %lld", (long long)json_integer_value(value));
    }
}

/* Table mode of tenant apply: a line per change, or "no changes". */
static int write_apply(FILE *out, enum ctl_format fmt, const json_t *doc, struct ctl_error *err)
{
    const json_t *changes = json_object_get(doc, "changes"), *change;
    struct sbuf line = SBUF_INIT;
    json_t *rows;
    size_t i;
    int rc = 0;

    if (!json_is_array(changes))
        return unexpected("no \"changes\" list", err);
    if (fmt == FORMAT_CSV) {
        if (!(rows = json_pack("{s:O}", "data", changes)))
            return out_of_memory(err);
        rc = write_list(out, fmt, rows, change_columns, NULL, err);
        json_decref(rows);
        return rc;
    }
    json_array_foreach(changes, i, change) {
        sbuf_reset(&line);
        change_line(&line, change);
        if (line.failed)
            rc = out_of_memory(err);
        else
            fprintf(out, "%s\n", sbuf_str(&line));
    }
    sbuf_free(&line);
    if (rc == 0 && json_array_size(changes) == 0)
        fputs("no changes\n", out);
    if (rc == 0 && json_is_true(json_object_get(doc, "dry_run")))
        fputs("(dry run: nothing was changed)\n", out);
    return rc;
}

/* Table mode of tenant offboard: what was deleted, a count per kind. */
static int write_offboard(FILE *out, enum ctl_format fmt, const json_t *doc,
                          struct ctl_error *err)
{
    const json_t *deleted = json_object_get(doc, "deleted");
    const char *tenant = json_string_value(json_object_get(doc, "tenant"));
    struct sbuf slug = SBUF_INIT;

    if (!json_is_object(deleted) || !tenant)
        return unexpected("no \"tenant\" or \"deleted\" in the answer", err);
    if (fmt == FORMAT_CSV)
        return write_object(out, fmt, deleted, err);
    text_sanitize(&slug, tenant);
    if (slug.failed)
        return out_of_memory(err);
    fprintf(out, "Tenant %s is offboarded. Deleted:\n", sbuf_str(&slug));
    sbuf_free(&slug);
    return write_fields(out, deleted, NULL, err);
}

/* Views of {"data":[...]} documents: a row per entry. */
static const struct list_view {
    enum ctl_view view;
    const struct column *columns;
    int (*preface)(FILE *out, const json_t *doc, struct ctl_error *err); /* table mode */
    row_hook row;                                                        /* table mode */
} list_views[] = {
    { VIEW_TENANTS, tenant_columns, NULL, NULL },
    { VIEW_KEYS, key_columns, NULL, NULL },
    { VIEW_MODELS, model_columns, NULL, NULL },
    { VIEW_POOLS, pool_columns, NULL, NULL },
    { VIEW_ISSUERS, issuer_columns, NULL, NULL },
    { VIEW_TENANT_MODELS, tenant_model_columns, tenant_models_preface, NULL },
    { VIEW_LIMITS, limit_columns, limits_preface, limits_row },
};

int output_render(FILE *out, enum ctl_format fmt, enum ctl_view view, const json_t *doc,
                  struct ctl_error *err)
{
    int rc;

    if (!doc)
        return 0;
    if (fmt == FORMAT_JSON)
        return write_json(out, doc, err);
    for (size_t i = 0; i < sizeof list_views / sizeof list_views[0]; i++) {
        const struct list_view *v = &list_views[i];

        if (v->view != view)
            continue;
        if (!json_is_array(json_object_get(doc, "data")))
            return unexpected("no \"data\" list", err);
        if (fmt == FORMAT_TABLE && v->preface && (rc = v->preface(out, doc, err)))
            return rc;
        return write_list(out, fmt, doc, v->columns, v->row, err);
    }
    switch (view) {
    case VIEW_USAGE:
        return write_usage(out, fmt, doc, err);
    case VIEW_MONTHLY:
        return write_monthly(out, fmt, doc, err);
    case VIEW_APPLY:
        return write_apply(out, fmt, doc, err);
    case VIEW_OFFBOARD:
        return write_offboard(out, fmt, doc, err);
    case VIEW_AUDIT:
        return write_audit(out, fmt, doc, err);
    case VIEW_AUDIT_VERIFY:
        if (fmt == FORMAT_TABLE)
            return write_audit_verify(out, doc, err);
        break;
    case VIEW_NEW_KEY:
        if (fmt == FORMAT_TABLE)
            return write_new_key(out, doc, err);
        break;
    case VIEW_TOKEN:
        if (fmt == FORMAT_TABLE)
            return write_token(out, doc, err);
        break;
    default:
        break;
    }
    return write_object(out, fmt, doc, err);
}
