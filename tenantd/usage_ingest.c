#include "usage_ingest.h"

#include "db.h"
#include "log.h"

#include "journal.h"
#include "strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define READ_LIMIT_BYTES        (4 * 1024 * 1024)
#define ROTATED_QUIET_SECONDS   5
#define COLUMN_COUNT            18

static const char lock_offset_sql[] =
    "SELECT inode, \"offset\" FROM ingest_offsets"
    " WHERE node = $1 AND path = $2 FOR UPDATE";

static const char create_offset_sql[] =
    "INSERT INTO ingest_offsets (node, path, inode, \"offset\")"
    " VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING";

static const char save_offset_sql[] =
    "UPDATE ingest_offsets SET inode = $3, \"offset\" = $4, updated_at = now()"
    " WHERE node = $1 AND path = $2";

static const char ensure_partitions_sql[] =
    "SELECT llmoin_ensure_usage_partition(m) FROM ("
    " SELECT DISTINCT date_trunc('month', to_timestamp(t::float8) AT TIME ZONE 'Europe/Berlin')"
    "        AT TIME ZONE 'Europe/Berlin' AS m FROM unnest($1::numeric[]) t) months";

/* What a rollup row adds when it exists already. */
#define ROLLUP_ADD(table)                                                         \
    " requests = " table ".requests + excluded.requests,"                         \
    " prompt_tokens = " table ".prompt_tokens + excluded.prompt_tokens,"          \
    " completion_tokens = " table ".completion_tokens + excluded.completion_tokens," \
    " estimated_requests = " table ".estimated_requests + excluded.estimated_requests," \
    " failed_requests = " table ".failed_requests + excluded.failed_requests"

/*
 * The rows, and the daily and monthly rollups of the rows actually inserted
 * (a replayed line is a conflict and returns nothing), in one statement.
 * Rollup rows are written in key order, so that two tenantd ingesting at
 * once take their row locks in the same order.
 */
static const char insert_sql[] =
    "WITH input AS ("
    "  SELECT * FROM unnest($1::text[], $2::numeric[], $3::bigint[], $4::text[],"
    "    $5::text[], $6::text[], $7::text[], $8::int[], $9::text[], $10::int[],"
    "    $11::int[], $12::text[], $13::boolean[], $14::int[], $15::text[],"
    "    $16::text[], $17::text[], $18::int[])"
    "  AS u(request_id, ts, tenant_id, user_id, key_id, model, pool, status,"
    "       upstream_status, prompt_tokens, completion_tokens, usage_source,"
    "       stream, request_time_ms, groups, quota, function, first_byte_ms)),"
    " inserted AS ("
    "  INSERT INTO usage_events (request_id, ts, tenant_id, user_id, key_id, model,"
    "    pool, status, upstream_status, prompt_tokens, completion_tokens,"
    "    usage_source, stream, request_time_ms, groups, quota, function,"
    "    first_byte_ms, node)"
    "  SELECT i.request_id, to_timestamp(i.ts::float8), i.tenant_id, i.user_id,"
    "    nullif(i.key_id, ''), i.model, nullif(i.pool, ''), i.status,"
    "    nullif(i.upstream_status, ''), i.prompt_tokens, i.completion_tokens,"
    "    i.usage_source, i.stream, i.request_time_ms, i.groups, i.quota,"
    "    i.function, i.first_byte_ms, $19"
    "    FROM input i JOIN tenants t ON t.id = i.tenant_id"
    "  ON CONFLICT DO NOTHING"
    "  RETURNING key_id, ts, tenant_id, user_id, groups, model, function, status,"
    "    prompt_tokens, completion_tokens, usage_source),"
    " touched AS ("
    "  UPDATE api_keys k SET last_used_at = s.last_used"
    "    FROM (SELECT key_id, max(ts) AS last_used FROM inserted"
    "           WHERE key_id IS NOT NULL GROUP BY key_id) s"
    "   WHERE k.id = s.key_id AND (k.last_used_at IS NULL OR k.last_used_at < s.last_used)"
    "  RETURNING 1),"
    " days AS ("
    "  SELECT tenant_id, (ts AT TIME ZONE 'Europe/Berlin')::date AS day, user_id, groups,"
    "    model, coalesce(function, '') AS function, count(*) AS requests,"
    "    sum(prompt_tokens) AS prompt_tokens, sum(completion_tokens) AS completion_tokens,"
    "    count(*) FILTER (WHERE usage_source = 'estimated') AS estimated_requests,"
    "    count(*) FILTER (WHERE status >= 400) AS failed_requests"
    "    FROM inserted GROUP BY 1, 2, 3, 4, 5, 6),"
    " daily AS ("
    "  INSERT INTO usage_daily SELECT * FROM days ORDER BY 1, 2, 3, 4, 5, 6"
    "  ON CONFLICT (tenant_id, day, user_id, groups, model, function) DO UPDATE SET"
    ROLLUP_ADD("usage_daily")
    "  RETURNING 1),"
    " monthly AS ("
    "  INSERT INTO usage_monthly"
    "  SELECT date_trunc('month', day)::date, tenant_id, model, function,"
    "    sum(requests), sum(prompt_tokens), sum(completion_tokens),"
    "    sum(estimated_requests), sum(failed_requests)"
    "    FROM days GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
    "  ON CONFLICT (month, tenant_id, model, function) DO UPDATE SET"
    ROLLUP_ADD("usage_monthly")
    "  RETURNING 1)"
    " SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM touched),"
    "        (SELECT count(*) FROM daily), (SELECT count(*) FROM monthly)";

static const char tenants_sql[] = "SELECT id FROM tenants ORDER BY id";

static const char reject_sql[] =
    "INSERT INTO ingest_rejects (node, path, \"offset\", reason, line)"
    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";

/* A line that is not a usage record, for ingest_rejects. */
typedef struct reject {
    long long offset;
    size_t    at;               /* where the line starts in batch->data */
    size_t    length;
    char      reason[200];
} reject_t;

/* The ids of the tenants that exist, sorted. */
typedef struct tenant_list {
    long long *ids;
    size_t     count;
} tenant_list_t;

/*
 * The complete journal lines of one file from start_offset on, parsed: the
 * records as parameter arrays, the other lines as rejects with the reason.
 * Filled without the database (parse_batch), so that the lines after a
 * batch can be parsed while the database inserts that batch.
 */
typedef struct batch {
    llmoin_strbuf_t columns[COLUMN_COUNT];
    size_t          records;
    size_t          lines;
    reject_t       *rejects;
    size_t          rejected;
    size_t          reject_capacity;
    char            path[CONFIG_STRING_MAX + 256];
    long long       inode;
    long long       start_offset;
    off_t           end_offset;     /* file offset after the last line taken */
    long            line_limit;
    char           *data;           /* the bytes read; rejects point into them */
    tenant_list_t   tenants;        /* what "the tenant exists" was checked against */
    bool            parsed;         /* complete and not taken yet */
} batch_t;

/* What ingestion keeps from one step to the next. */
typedef struct ingest_state {
    batch_t         batches[2];
    batch_t        *current;
    batch_t        *ahead;          /* the lines after current, parsed meanwhile */
    tenant_list_t   tenants;
    long            line_limit;     /* 1 while isolating a line the database refused */
} ingest_state_t;

#define INGEST_DATA_ERROR (-2)

typedef struct journal_position {
    long long inode;
    long long offset;
    bool      exists;
} journal_position_t;

static const tenantd_config_t *ingest_config;

/* When the journal's path was first seen naming another file than the
 * stored position: nginx may write to the old file until it reopens its
 * logs, so the switch waits ROTATED_QUIET_SECONDS from then. */
static long long               rotation_inode = -1;
static time_t                  rotation_seen;
static pthread_t               ingest_thread;
static atomic_bool             ingest_stopping;

static void
add_record(batch_t *batch, const llmoin_journal_record_t *record)
{
    char tenant[24], status[12], prompt[24], completion[24], latency[24];
    char first_byte[24];

    snprintf(tenant, sizeof(tenant), "%lld", record->tenant_id);
    snprintf(status, sizeof(status), "%d", record->status);
    snprintf(prompt, sizeof(prompt), "%lld", record->prompt_tokens);
    snprintf(completion, sizeof(completion), "%lld", record->completion_tokens);
    snprintf(latency, sizeof(latency), "%ld", record->request_time_ms);
    snprintf(first_byte, sizeof(first_byte), "%ld", record->first_byte_ms);

    db_array_append(&batch->columns[0], record->request_id);
    db_array_append(&batch->columns[1], record->ts);
    db_array_append(&batch->columns[2], tenant);
    db_array_append(&batch->columns[3], record->user);
    db_array_append(&batch->columns[4], record->key_id);
    db_array_append(&batch->columns[5], record->model);
    db_array_append(&batch->columns[6], record->pool);
    db_array_append(&batch->columns[7], status);
    db_array_append(&batch->columns[8], record->upstream_status);
    db_array_append(&batch->columns[9], prompt);
    db_array_append(&batch->columns[10], completion);
    db_array_append(&batch->columns[11], record->usage_source);
    db_array_append(&batch->columns[12], record->stream ? "true" : "false");
    db_array_append(&batch->columns[13], latency);
    db_array_append(&batch->columns[14], record->groups);
    db_array_append(&batch->columns[15], record->quota);
    db_array_append(&batch->columns[16],
                    record->function[0] != '\0' ? record->function : NULL);
    db_array_append(&batch->columns[17], record->first_byte_ms >= 0 ? first_byte : NULL);
    batch->records++;
}

static void
batch_reset(batch_t *batch)
{
    size_t i;

    for (i = 0; i < COLUMN_COUNT; i++) {
        llmoin_strbuf_reset(&batch->columns[i]);
    }
    batch->records = 0;
    batch->lines = 0;
    batch->rejected = 0;
    free(batch->data);
    batch->data = NULL;
    batch->parsed = false;
}

static void
batch_free(batch_t *batch)
{
    size_t i;

    batch_reset(batch);
    for (i = 0; i < COLUMN_COUNT; i++) {
        llmoin_strbuf_free(&batch->columns[i]);
    }
    free(batch->rejects);
    free(batch->tenants.ids);
}

static int
add_reject(batch_t *batch, long long offset, size_t at, size_t length, const char *reason)
{
    reject_t *rejects = batch->rejects;
    size_t    capacity = batch->reject_capacity;

    if (batch->rejected == capacity) {
        capacity = capacity > 0 ? capacity * 2 : 16;
        rejects = realloc(rejects, capacity * sizeof(reject_t));
        if (rejects == NULL) {
            return -1;
        }
        batch->rejects = rejects;
        batch->reject_capacity = capacity;
    }
    rejects[batch->rejected].offset = offset;
    rejects[batch->rejected].at = at;
    rejects[batch->rejected].length = length;
    snprintf(rejects[batch->rejected].reason, sizeof(rejects->reason), "%s", reason);
    batch->rejected++;
    return 0;
}

static int
store_reject(PGconn *conn, const char *path, long long offset, const char *reason,
             const char *line, size_t length, db_error_t *error)
{
    char        offset_text[24], *copy;
    const char *params[5];
    int         rc;

    copy = strndup(line, length);
    if (copy == NULL) {
        return -1;
    }
    snprintf(offset_text, sizeof(offset_text), "%lld", offset);
    params[0] = ingest_config->node;
    params[1] = path;
    params[2] = offset_text;
    params[3] = reason;
    params[4] = copy;
    rc = db_exec(conn, reject_sql, 5, params, error);
    free(copy);
    return rc;
}

/* The tenants that exist now: a line of a tenant that does not (offboarded
 * before its usage arrived) is kept as a reject, not dropped. */
static int
load_tenants(PGconn *conn, tenant_list_t *list, db_error_t *error)
{
    PGresult  *result;
    long long *ids;
    int        i, count;

    result = db_query(conn, tenants_sql, 0, NULL, error);
    if (result == NULL) {
        return -1;
    }
    count = PQntuples(result);
    ids = realloc(list->ids, sizeof(long long) * (size_t) (count > 0 ? count : 1));
    if (ids == NULL) {
        PQclear(result);
        snprintf(error->message, sizeof(error->message), "out of memory");
        return -1;
    }
    for (i = 0; i < count; i++) {
        ids[i] = atoll(PQgetvalue(result, i, 0));
    }
    PQclear(result);
    list->ids = ids;
    list->count = (size_t) count;
    return 0;
}

static int
copy_tenants(tenant_list_t *to, const tenant_list_t *from)
{
    long long *ids = realloc(to->ids, sizeof(long long) * (from->count > 0 ? from->count : 1));

    if (ids == NULL) {
        return -1;
    }
    memcpy(ids, from->ids, sizeof(long long) * from->count);
    to->ids = ids;
    to->count = from->count;
    return 0;
}

static bool
same_tenants(const tenant_list_t *a, const tenant_list_t *b)
{
    return a->count == b->count
           && (a->count == 0 || memcmp(a->ids, b->ids, sizeof(long long) * a->count) == 0);
}

static int
compare_ids(const void *a, const void *b)
{
    long long x = *(const long long *) a, y = *(const long long *) b;

    return (x > y) - (x < y);
}

static bool
tenant_exists(const tenant_list_t *list, long long id)
{
    return list->count > 0
           && bsearch(&id, list->ids, list->count, sizeof(long long), compare_ids) != NULL;
}

/* The batch's rejected lines into ingest_rejects, in the transaction that
 * moves the position past them. */
static int
store_rejects(PGconn *conn, const batch_t *batch, db_error_t *error)
{
    const reject_t *reject;

    for (reject = batch->rejects; reject < batch->rejects + batch->rejected; reject++) {
        if (store_reject(conn, batch->path, reject->offset, reject->reason,
                         batch->data + reject->at, reject->length, error) != 0)
        {
            return -1;
        }
    }
    return 0;
}

static int
insert_batch(PGconn *conn, batch_t *batch, long long *inserted, db_error_t *error)
{
    const char *params[COLUMN_COUNT + 1];
    PGresult   *result;
    size_t      i;

    *inserted = 0;
    if (batch->records == 0) {
        return 0;
    }
    for (i = 0; i < COLUMN_COUNT; i++) {
        db_array_close(&batch->columns[i]);
        params[i] = llmoin_strbuf_text(&batch->columns[i]);
    }
    params[COLUMN_COUNT] = ingest_config->node;

    if (db_exec(conn, ensure_partitions_sql, 1, &params[1], error) != 0) {
        return -1;
    }
    result = db_query(conn, insert_sql, COLUMN_COUNT + 1, params, error);
    if (result == NULL) {
        return -1;
    }
    *inserted = atoll(PQgetvalue(result, 0, 0));
    PQclear(result);
    return 0;
}

static int
lock_position(PGconn *conn, const char *path, long long current_inode,
              journal_position_t *position, db_error_t *error)
{
    char        inode_text[24];
    const char *params[3] = { ingest_config->node, path, inode_text };
    PGresult   *result;

    snprintf(inode_text, sizeof(inode_text), "%lld", current_inode);
    if (db_exec(conn, create_offset_sql, 3, params, error) != 0) {
        return -1;
    }
    result = db_query(conn, lock_offset_sql, 2, params, error);
    if (result == NULL) {
        return -1;
    }
    position->exists = PQntuples(result) > 0;
    position->inode = position->exists ? atoll(PQgetvalue(result, 0, 0)) : current_inode;
    position->offset = position->exists ? atoll(PQgetvalue(result, 0, 1)) : 0;
    PQclear(result);
    return 0;
}

static int
save_position(PGconn *conn, const char *path, long long inode, long long offset,
              db_error_t *error)
{
    char        inode_text[24], offset_text[24];
    const char *params[4] = { ingest_config->node, path, inode_text, offset_text };

    snprintf(inode_text, sizeof(inode_text), "%lld", inode);
    snprintf(offset_text, sizeof(offset_text), "%lld", offset);
    return db_exec(conn, save_offset_sql, 4, params, error);
}

/* Finds the rotated predecessor of `path` (a sibling whose name starts with
 * the journal's name) by its inode. */
static bool
find_rotated_file(const char *path, long long inode, char *found, size_t found_size)
{
    char           directory_copy[CONFIG_STRING_MAX], base_copy[CONFIG_STRING_MAX];
    const char    *directory, *base;
    DIR           *dir;
    struct dirent *entry;
    struct stat    info;
    bool           located = false;

    snprintf(directory_copy, sizeof(directory_copy), "%s", path);
    snprintf(base_copy, sizeof(base_copy), "%s", path);
    directory = dirname(directory_copy);
    base = basename(base_copy);
    dir = opendir(directory);
    if (dir == NULL) {
        return false;
    }
    while (!located && (entry = readdir(dir)) != NULL) {
        if (strncmp(entry->d_name, base, strlen(base)) != 0
            || strcmp(entry->d_name, base) == 0)
        {
            continue;
        }
        snprintf(found, found_size, "%s/%s", directory, entry->d_name);
        located = stat(found, &info) == 0 && (long long) info.st_ino == inode;
    }
    closedir(dir);
    return located;
}

typedef struct journal_file {
    char        path[CONFIG_STRING_MAX + 256];
    long long   inode;
    long long   size;
    time_t      modified;
} journal_file_t;

static int
describe_file(const char *path, journal_file_t *file)
{
    struct stat info;

    if (stat(path, &info) != 0) {
        return -1;
    }
    snprintf(file->path, sizeof(file->path), "%s", path);
    file->inode = (long long) info.st_ino;
    file->size = (long long) info.st_size;
    file->modified = info.st_mtime;
    return 0;
}

/* Decides which file to read from the stored position: the file it names
 * (possibly rotated away), or, when that is finished, the active file. */
static void
choose_file(const journal_file_t *active, journal_position_t *position,
            journal_file_t *chosen)
{
    char           rotated_path[CONFIG_STRING_MAX + 256];
    journal_file_t rotated;

    *chosen = *active;
    if (position->inode == active->inode) {
        if (position->offset > active->size) {
            log_warn("event=journal_truncated path=%s offset=%lld size=%lld",
                     active->path, position->offset, active->size);
            position->offset = 0;
        }
        return;
    }
    if (rotation_inode != position->inode) {
        rotation_inode = position->inode;
        rotation_seen = time(NULL);
    }
    if (find_rotated_file(ingest_config->journal, position->inode, rotated_path,
                          sizeof(rotated_path))
        && describe_file(rotated_path, &rotated) == 0)
    {
        if (rotated.size > position->offset
            || time(NULL) - rotation_seen < ROTATED_QUIET_SECONDS
            || time(NULL) - rotated.modified < ROTATED_QUIET_SECONDS)
        {
            *chosen = rotated;
            return;
        }
    } else {
        log_warn("event=journal_predecessor_missing path=%s inode=%lld offset=%lld",
                 active->path, position->inode, position->offset);
    }
    log_info("event=journal_switched path=%s inode=%lld previous_inode=%lld",
             active->path, active->inode, position->inode);
    position->inode = active->inode;
    position->offset = 0;
}

static char *
read_range(const char *path, long long offset, long long size, size_t *length)
{
    size_t   wanted;
    char    *data;
    ssize_t  got;
    int      fd;

    wanted = (size_t) (size - offset);
    if (wanted > READ_LIMIT_BYTES) {
        wanted = READ_LIMIT_BYTES;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return NULL;
    }
    data = malloc(wanted + 1);
    got = data != NULL ? pread(fd, data, wanted, offset) : -1;
    close(fd);
    if (got < 0) {
        free(data);
        return NULL;
    }
    *length = (size_t) got;
    return data;
}

/* A line the parser accepts becomes a record, unless its tenant is gone. */
static int
take_line(batch_t *batch, long long offset, size_t at, size_t length)
{
    llmoin_journal_record_t record;
    char                    reason[200];

    if (llmoin_journal_parse(batch->data + at, length, &record, reason,
                             sizeof(reason)) == 0)
    {
        if (tenant_exists(&batch->tenants, record.tenant_id)) {
            add_record(batch, &record);
            return 0;
        }
        snprintf(reason, sizeof(reason), "tenant %lld does not exist", record.tenant_id);
    }
    return add_reject(batch, offset, at, length, reason);
}

/* Reads the complete lines of the file from `start` on, at most `limit`,
 * and parses them against batch->tenants. No database: this may run on a
 * thread of its own. -1 when the file cannot be read (errno says why) or
 * memory ran out. */
static int
parse_batch(batch_t *batch, const journal_file_t *file, long long start, long limit)
{
    const char *newline;
    size_t      length = 0, at = 0;

    batch_reset(batch);
    snprintf(batch->path, sizeof(batch->path), "%s", file->path);
    batch->inode = file->inode;
    batch->start_offset = start;
    batch->end_offset = start;
    batch->line_limit = limit;
    if (file->size > start) {
        batch->data = read_range(file->path, start, file->size, &length);
        if (batch->data == NULL) {
            return -1;
        }
    }
    while ((long) batch->lines < limit && at < length
           && (newline = memchr(batch->data + at, '\n', length - at)) != NULL)
    {
        size_t line_length = (size_t) (newline - (batch->data + at));

        if (line_length > 0 && take_line(batch, start + (long long) at, at, line_length) != 0) {
            return -1;
        }
        batch->lines++;
        at += line_length + 1;
        batch->end_offset = start + (long long) at;
    }
    if (batch->lines == 0 && length == READ_LIMIT_BYTES) {
        /* No newline in the whole read: not a journal line; keep its start
         * as evidence and move past it rather than stall forever. */
        batch->end_offset = start + (long long) length;
        if (add_reject(batch, start, 0, 1024, "line longer than the read limit") != 0) {
            return -1;
        }
    }
    batch->parsed = true;
    return 0;
}

/* Parsing the lines after the current batch while the database inserts it
 * (the database and tenantd each have a core): the next step takes them if
 * nothing changed meanwhile (take_ahead), else parses again. */
typedef struct prefetch {
    pthread_t       thread;
    bool            running;
    batch_t        *batch;
    journal_file_t  file;
    long long       start;
    long            limit;
} prefetch_t;

static void *
prefetch_main(void *argument)
{
    prefetch_t     *prefetch = argument;
    journal_file_t  now;

    /* the file may have grown since the step began */
    if (describe_file(prefetch->file.path, &now) == 0 && now.inode == prefetch->file.inode) {
        prefetch->file.size = now.size;
    }
    if (parse_batch(prefetch->batch, &prefetch->file, prefetch->start, prefetch->limit) != 0) {
        prefetch->batch->parsed = false;
    }
    return NULL;
}

static void
prefetch_start(prefetch_t *prefetch, ingest_state_t *state, const journal_file_t *file)
{
    if (state->line_limit <= 1 || state->current->lines == 0
        || copy_tenants(&state->ahead->tenants, &state->tenants) != 0)
    {
        return;
    }
    prefetch->batch = state->ahead;
    prefetch->file = *file;
    prefetch->start = state->current->end_offset;
    prefetch->limit = state->line_limit;
    prefetch->running = pthread_create(&prefetch->thread, NULL, prefetch_main, prefetch) == 0;
}

static void
prefetch_finish(prefetch_t *prefetch)
{
    if (prefetch->running) {
        pthread_join(prefetch->thread, NULL);
        prefetch->running = false;
    }
}

/* Makes the lines parsed ahead the current batch, if they start where the
 * position is, in the same file, and were checked against the same
 * tenants and line limit. */
static bool
take_ahead(ingest_state_t *state, const journal_file_t *file, long long offset)
{
    batch_t *ahead = state->ahead;

    if (!ahead->parsed || ahead->lines == 0 || ahead->inode != file->inode
        || ahead->start_offset != offset || strcmp(ahead->path, file->path) != 0
        || ahead->line_limit != state->line_limit
        || !same_tenants(&ahead->tenants, &state->tenants))
    {
        return false;
    }
    state->ahead = state->current;
    state->current = ahead;
    return true;
}

static int
read_batch(ingest_state_t *state, const journal_file_t *file, long long offset,
           db_error_t *error)
{
    if (copy_tenants(&state->current->tenants, &state->tenants) != 0
        || parse_batch(state->current, file, offset, state->line_limit) != 0)
    {
        error->sqlstate[0] = '\0';
        snprintf(error->message, sizeof(error->message), "cannot read %.300s: %s",
                 file->path, strerror(errno));
        return -1;
    }
    return 0;
}

static bool
is_data_error(const db_error_t *error)
{
    return strncmp(error->sqlstate, "22", 2) == 0 || strncmp(error->sqlstate, "23", 2) == 0;
}

/* The database refused a batch although every line parsed. A batch of many
 * lines is retried one line at a time (INGEST_DATA_ERROR) to find the
 * culprit; a single refused line is kept in ingest_rejects with the
 * database's reason and skipped, so one bad line never stalls ingestion. */
static long
refused_batch(PGconn *conn, const ingest_state_t *state, const journal_file_t *file,
              const journal_position_t *position, db_error_t *error)
{
    db_error_t  ignored;
    char       *data;
    size_t      length;
    const char *newline;

    log_error("event=ingest_refused path=%s lines=%zu reason=\"%s\"", file->path,
              state->current->lines, error->message);
    if (!is_data_error(error)) {
        return -1;
    }
    if (state->line_limit > 1) {
        return INGEST_DATA_ERROR;
    }
    data = read_range(file->path, position->offset, file->size, &length);
    newline = data != NULL ? memchr(data, '\n', length) : NULL;
    if (newline == NULL
        || db_begin(conn, &ignored) != 0
        || store_reject(conn, file->path, position->offset, error->message, data,
                        (size_t) (newline - data), &ignored) != 0
        || save_position(conn, ingest_config->journal, position->inode,
                         position->offset + (newline - data) + 1, &ignored) != 0
        || db_commit(conn, &ignored) != 0)
    {
        db_rollback(conn);
        free(data);
        return -1;
    }
    free(data);
    return 1;
}

/* One transaction: lock the position, take the complete lines after it
 * (parsed ahead by the step before, or now), insert them, advance the
 * position. Returns lines consumed, -1 on an error, or INGEST_DATA_ERROR;
 * *caught_up says whether everything of the active file up to its current
 * size is read. */
static long
ingest_step(PGconn *conn, ingest_state_t *state, const journal_file_t *active,
            bool *caught_up)
{
    journal_position_t position;
    journal_file_t     file;
    db_error_t         error;
    prefetch_t         prefetch = { .running = false };
    batch_t           *batch;
    long long          inserted;

    *caught_up = false;
    if (db_begin(conn, &error) != 0
        || lock_position(conn, ingest_config->journal, active->inode, &position,
                         &error) != 0
        || load_tenants(conn, &state->tenants, &error) != 0)
    {
        goto failed;
    }
    choose_file(active, &position, &file);
    if (!take_ahead(state, &file, position.offset)
        && read_batch(state, &file, position.offset, &error) != 0)
    {
        goto failed;
    }
    state->ahead->parsed = false;
    batch = state->current;
    if (store_rejects(conn, batch, &error) != 0) {
        goto failed;
    }
    prefetch_start(&prefetch, state, &file);
    if (insert_batch(conn, batch, &inserted, &error) != 0) {
        prefetch_finish(&prefetch);
        state->ahead->parsed = false;
        db_rollback(conn);
        return refused_batch(conn, state, &file, &position, &error);
    }
    prefetch_finish(&prefetch);
    if (save_position(conn, ingest_config->journal, position.inode,
                      batch->end_offset, &error) != 0
        || db_commit(conn, &error) != 0)
    {
        goto failed;
    }
    *caught_up = file.inode == active->inode && batch->lines == 0;
    if (batch->lines > 0) {
        log_info("event=journal_ingested lines=%zu inserted=%lld duplicates=%lld"
                 " rejected=%zu offset=%lld", batch->lines, inserted,
                 (long long) batch->records - inserted, batch->rejected,
                 (long long) batch->end_offset);
    }
    return (long) batch->lines;

failed:
    prefetch_finish(&prefetch);
    state->ahead->parsed = false;
    db_rollback(conn);
    log_error("event=ingest_failed path=%s reason=\"%s\"", ingest_config->journal,
              error.message);
    return -1;
}

static void
sleep_milliseconds(long milliseconds)
{
    struct timespec pause = { milliseconds / 1000, (milliseconds % 1000) * 1000000L };

    nanosleep(&pause, NULL);
}

static void *
ingest_main(void *unused)
{
    PGconn         *conn = NULL;
    ingest_state_t  state;
    journal_file_t  active;
    db_error_t      error;
    long            consumed;
    long long       idle_inode = -1, idle_size = -1;
    bool            caught_up;

    (void) unused;
    memset(&state, 0, sizeof(state));
    state.current = &state.batches[0];
    state.ahead = &state.batches[1];
    state.line_limit = ingest_config->ingest_batch_lines;
    while (!atomic_load(&ingest_stopping)) {
        if (describe_file(ingest_config->journal, &active) != 0) {
            sleep_milliseconds(ingest_config->ingest_interval_ms);
            continue;
        }
        /* Nothing new since a step that found nothing: spare the database. */
        if (active.inode == idle_inode && active.size == idle_size) {
            sleep_milliseconds(ingest_config->ingest_interval_ms);
            continue;
        }
        if (db_ensure_connected(&conn, ingest_config->database, &error) < 0) {
            log_warn("event=ingest_database_unavailable reason=\"%s\"", error.message);
            sleep_milliseconds(1000);
            continue;
        }
        consumed = ingest_step(conn, &state, &active, &caught_up);
        if (consumed == INGEST_DATA_ERROR) {
            state.line_limit = 1;
            continue;
        }
        if (caught_up) {
            state.line_limit = ingest_config->ingest_batch_lines;
        }
        idle_inode = caught_up ? active.inode : -1;
        idle_size = caught_up ? active.size : -1;
        if (consumed <= 0) {
            sleep_milliseconds(ingest_config->ingest_interval_ms);
        }
    }
    batch_free(&state.batches[0]);
    batch_free(&state.batches[1]);
    free(state.tenants.ids);
    PQfinish(conn);
    return NULL;
}

int
usage_ingest_start(const tenantd_config_t *config)
{
    ingest_config = config;
    atomic_store(&ingest_stopping, false);
    return pthread_create(&ingest_thread, NULL, ingest_main, NULL);
}

void
usage_ingest_stop(void)
{
    atomic_store(&ingest_stopping, true);
    pthread_join(ingest_thread, NULL);
}
