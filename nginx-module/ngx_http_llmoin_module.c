/*
 * ngx_http_llmoin_module: directives, configuration, phase registration.
 */

#include "ngx_http_llmoin_module.h"


static void *ngx_http_llmoin_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_llmoin_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_llmoin_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_llmoin_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_llmoin_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_llmoin_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_llmoin_init_process(ngx_cycle_t *cycle);
static void ngx_http_llmoin_exit_process(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_llmoin_log_handler(ngx_http_request_t *r);


static ngx_command_t  ngx_http_llmoin_commands[] = {

    { ngx_string("llmoin"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_llmoin_loc_conf_t, enable),
      NULL },

    { ngx_string("llmoin_snapshot"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_llmoin_main_conf_t, snapshot_path),
      NULL },

    { ngx_string("llmoin_snapshot_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_llmoin_main_conf_t, snapshot_interval),
      NULL },

    { ngx_string("llmoin_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_llmoin_main_conf_t, redis),
      NULL },

    { ngx_string("llmoin_redis_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_llmoin_main_conf_t, redis_timeout),
      NULL },

    { ngx_string("llmoin_clock_offset"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_llmoin_main_conf_t, clock_offset),
      NULL },

    { ngx_string("llmoin_token_cache_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_llmoin_main_conf_t, token_cache_size),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_llmoin_module_ctx = {
    ngx_http_llmoin_preconfiguration,      /* preconfiguration */
    ngx_http_llmoin_postconfiguration,     /* postconfiguration */

    ngx_http_llmoin_create_main_conf,      /* create main configuration */
    ngx_http_llmoin_init_main_conf,        /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_llmoin_create_loc_conf,       /* create location configuration */
    ngx_http_llmoin_merge_loc_conf         /* merge location configuration */
};


ngx_module_t  ngx_http_llmoin_module = {
    NGX_MODULE_V1,
    &ngx_http_llmoin_module_ctx,           /* module context */
    ngx_http_llmoin_commands,              /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_llmoin_init_process,          /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_llmoin_exit_process,          /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_llmoin_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_llmoin_main_conf_t  *lmcf;

    lmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_llmoin_main_conf_t));
    if (lmcf == NULL) {
        return NULL;
    }

    /* set by ngx_pcalloc(): lmcf->snapshot_path = { 0, NULL } */

    lmcf->snapshot_interval = NGX_CONF_UNSET_MSEC;
    lmcf->token_cache_size = NGX_CONF_UNSET_UINT;
    lmcf->redis_timeout = NGX_CONF_UNSET_MSEC;
    lmcf->clock_offset = NGX_CONF_UNSET;

    return lmcf;
}


static char *
ngx_http_llmoin_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_llmoin_main_conf_t  *lmcf = conf;

    ngx_conf_init_msec_value(lmcf->snapshot_interval, 1000);
    ngx_conf_init_uint_value(lmcf->token_cache_size, 2048);
    ngx_conf_init_msec_value(lmcf->redis_timeout, 100);
    ngx_conf_init_value(lmcf->clock_offset, 0);

    if (lmcf->redis.len
        && ngx_strncmp(lmcf->redis.data, "unix:", 5) != 0
        && ngx_strlchr(lmcf->redis.data, lmcf->redis.data + lmcf->redis.len,
                       ':') == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"llmoin_redis\" must be unix:PATH or IP:PORT");
        return NGX_CONF_ERROR;
    }

    if (lmcf->snapshot_path.len
        && ngx_conf_full_name(cf->cycle, &lmcf->snapshot_path, 0) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_llmoin_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_llmoin_loc_conf_t  *llcf;

    llcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_llmoin_loc_conf_t));
    if (llcf == NULL) {
        return NULL;
    }

    llcf->enable = NGX_CONF_UNSET;

    return llcf;
}


static char *
ngx_http_llmoin_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_llmoin_loc_conf_t  *prev = parent;
    ngx_http_llmoin_loc_conf_t  *conf = child;

    ngx_http_llmoin_main_conf_t  *lmcf;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);

    if (conf->enable) {
        lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_llmoin_module);

        if (lmcf->snapshot_path.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"llmoin on\" needs \"llmoin_snapshot\" "
                               "in the http block");
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_llmoin_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_llmoin_add_variables(cf);
}


static ngx_int_t
ngx_http_llmoin_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_llmoin_access_handler;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_llmoin_log_handler;

    /* the stream filter sees what the usage filter has observed */

    if (ngx_http_llmoin_stream_filter_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_llmoin_usage_filter_init(cf);
}


static ngx_int_t
ngx_http_llmoin_init_process(ngx_cycle_t *cycle)
{
    ngx_http_llmoin_main_conf_t  *lmcf;

    lmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_llmoin_module);

    if (lmcf == NULL || lmcf->snapshot_path.len == 0) {
        return NGX_OK;
    }

    if (ngx_http_llmoin_token_cache_init(cycle, lmcf->token_cache_size)
        != NGX_OK
        || ngx_http_llmoin_redis_init_process(cycle, &lmcf->redis) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_llmoin_quota_configure(lmcf->redis_timeout, lmcf->clock_offset);

    return ngx_http_llmoin_snapshot_init_process(cycle);
}


static void
ngx_http_llmoin_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_llmoin_redis_exit_process();
}


/* every ending of an admitted request settles its quota reservation */

static ngx_int_t
ngx_http_llmoin_log_handler(ngx_http_request_t *r)
{
    ngx_http_llmoin_ctx_t  *ctx;

    ctx = ngx_http_llmoin_get_ctx(r);

    if (ctx != NULL && r == r->main) {
        (void) ngx_http_llmoin_quota_settle(r, ctx, 0);
    }

    return NGX_OK;
}
