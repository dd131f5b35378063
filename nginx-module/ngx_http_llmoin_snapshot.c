/*
 * The tenant snapshot in each worker: loaded at worker start and re-read by
 * a timer whenever the file changes. tenantd replaces it atomically by
 * rename(), but a file system may hand the freed inode straight back, and
 * two snapshots can have the same size and second: a change is seen by
 * inode, size and the nanoseconds of mtime and ctime together. A snapshot that does not parse is
 * refused and the last good one stays in force: authentication depends on
 * nothing but the last good snapshot.
 */

#include "ngx_http_llmoin_module.h"


typedef struct {
    llmoin_snapshot_t  *snapshot;
    ngx_event_t         timer;
    ngx_str_t           path;
    ngx_msec_t          interval;
    ino_t               inode;
    struct timespec     mtime;
    struct timespec     ctime;
    off_t               size;
    ngx_uint_t          failed_logged;
} ngx_http_llmoin_snapshot_state_t;


static ngx_http_llmoin_snapshot_state_t  ngx_http_llmoin_snapshot_state;


const llmoin_snapshot_t *
ngx_http_llmoin_snapshot(void)
{
    return ngx_http_llmoin_snapshot_state.snapshot;
}


static u_char *
ngx_http_llmoin_snapshot_read(ngx_log_t *log, ngx_file_info_t *fi,
    size_t *length)
{
    u_char      *text;
    ssize_t      n;
    ngx_fd_t     fd;
    ngx_file_t   file;

    fd = ngx_open_file(ngx_http_llmoin_snapshot_state.path.data,
                       NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        return NULL;
    }

    /* the file we read must be the one we describe */

    if (ngx_fd_info(fd, fi) == NGX_FILE_ERROR) {
        ngx_close_file(fd);
        return NULL;
    }

    *length = (size_t) ngx_file_size(fi);

    text = ngx_alloc(*length + 1, log);
    if (text == NULL) {
        ngx_close_file(fd);
        return NULL;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.fd = fd;
    file.log = log;

    n = ngx_read_file(&file, text, *length, 0);

    ngx_close_file(fd);

    if (n != (ssize_t) *length) {
        ngx_free(text);
        return NULL;
    }

    text[*length] = '\0';

    return text;
}


static ngx_int_t
ngx_http_llmoin_snapshot_same(ngx_http_llmoin_snapshot_state_t *state,
    ngx_file_info_t *fi)
{
    return ngx_file_uniq(fi) == state->inode
           && ngx_file_size(fi) == state->size
           && fi->st_mtim.tv_sec == state->mtime.tv_sec
           && fi->st_mtim.tv_nsec == state->mtime.tv_nsec
           && fi->st_ctim.tv_sec == state->ctime.tv_sec
           && fi->st_ctim.tv_nsec == state->ctime.tv_nsec;
}


static void
ngx_http_llmoin_snapshot_refresh(ngx_log_t *log)
{
    u_char                            *text;
    size_t                             length;
    char                               error[512];
    llmoin_snapshot_t                 *snapshot;
    ngx_file_info_t                    fi;
    ngx_http_llmoin_snapshot_state_t  *state;

    state = &ngx_http_llmoin_snapshot_state;

    if (ngx_file_info(state->path.data, &fi) == NGX_FILE_ERROR) {
        if (state->snapshot == NULL && !state->failed_logged) {
            ngx_log_error(NGX_LOG_WARN, log, ngx_errno,
                          "llmoin: no tenant snapshot at \"%V\" yet; "
                          "requests get 503 until tenantd writes it",
                          &state->path);
            state->failed_logged = 1;
        }
        return;
    }

    if (state->snapshot != NULL && ngx_http_llmoin_snapshot_same(state, &fi)) {
        return;
    }

    text = ngx_http_llmoin_snapshot_read(log, &fi, &length);
    if (text == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "llmoin: cannot read snapshot \"%V\"", &state->path);
        return;
    }

    snapshot = llmoin_snapshot_parse((char *) text, length, error,
                                     sizeof(error));
    ngx_free(text);

    /* remember this file either way: a bad one is reported once */

    state->inode = ngx_file_uniq(&fi);
    state->mtime = fi.st_mtim;
    state->ctime = fi.st_ctim;
    state->size = ngx_file_size(&fi);

    if (snapshot == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "llmoin: refused snapshot \"%V\": %s; keeping the "
                      "last good one", &state->path, error);
        return;
    }

    llmoin_snapshot_free(state->snapshot);
    state->snapshot = snapshot;

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "llmoin: snapshot version %L loaded: %uz tenants, "
                  "%uz keys, %uz models", snapshot->version,
                  snapshot->tenant_count, snapshot->key_count,
                  snapshot->model_count);
}


static void
ngx_http_llmoin_snapshot_timer(ngx_event_t *ev)
{
    ngx_http_llmoin_snapshot_refresh(ev->log);

    if (ngx_exiting || ngx_quit) {
        return;
    }

    ngx_add_timer(ev, ngx_http_llmoin_snapshot_state.interval);
}


ngx_int_t
ngx_http_llmoin_snapshot_init_process(ngx_cycle_t *cycle)
{
    ngx_http_llmoin_main_conf_t       *lmcf;
    ngx_http_llmoin_snapshot_state_t  *state;

    lmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_llmoin_module);

    if (lmcf == NULL || lmcf->snapshot_path.len == 0) {
        return NGX_OK;
    }

    state = &ngx_http_llmoin_snapshot_state;

    state->path = lmcf->snapshot_path;
    state->interval = lmcf->snapshot_interval;

    state->timer.handler = ngx_http_llmoin_snapshot_timer;
    state->timer.log = cycle->log;
    state->timer.data = state;

    /* a pending refresh must not keep a shutting down worker alive */
    state->timer.cancelable = 1;

    ngx_http_llmoin_snapshot_refresh(cycle->log);

    ngx_add_timer(&state->timer, state->interval);

    return NGX_OK;
}
