/*
 * Usage: the header and body filters watch what the inference server sends
 * back, without changing a byte, and pick out the token usage:
 *
 *   application/json   the top-level "usage" of the body
 *   text/event-stream  the usage of any chunk (OpenAI/vLLM send it last when
 *                      asked; llama.cpp unasked), and the content chunks for
 *                      an estimate when a stream ends without usage
 *
 * ngx_http_llmoin_usage_settle() decides the numbers once, when the quota
 * settlement (at the answer's last buffer) or the log phase first asks:
 *
 *   client gone before an answer   the prompt estimated, "estimated"
 *   (499)                          (the pool may have worked on it)
 *   no response or status >= 400   0 tokens, usage "none"
 *   usage reported                 those numbers, "reported"
 *   otherwise                      estimate (common/token_estimate.h),
 *                                  "estimated"
 */

#include "ngx_http_llmoin_module.h"

#include "token_estimate.h"


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


static ngx_http_llmoin_response_kind_e
ngx_http_llmoin_response_kind(ngx_http_request_t *r)
{
    ngx_str_t  *type;

    type = &r->headers_out.content_type;

    if (type->len >= sizeof("text/event-stream") - 1
        && ngx_strncasecmp(type->data, (u_char *) "text/event-stream",
                           sizeof("text/event-stream") - 1) == 0)
    {
        return NGX_HTTP_LLMOIN_RESPONSE_SSE;
    }

    if (type->len >= sizeof("application/json") - 1
        && ngx_strncasecmp(type->data, (u_char *) "application/json",
                           sizeof("application/json") - 1) == 0)
    {
        return NGX_HTTP_LLMOIN_RESPONSE_JSON;
    }

    return NGX_HTTP_LLMOIN_RESPONSE_OTHER;
}


static ngx_int_t
ngx_http_llmoin_start_observing(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx)
{
    u_char  *events;

    ctx->response_kind = ngx_http_llmoin_response_kind(r);

    switch (ctx->response_kind) {

    case NGX_HTTP_LLMOIN_RESPONSE_SSE:
        ctx->stream_usage = ngx_palloc(r->pool, sizeof(llmoin_stream_usage_t));
        events = ngx_pnalloc(r->pool, NGX_HTTP_LLMOIN_SSE_EVENT_MAX);

        if (ctx->stream_usage == NULL || events == NULL
            || llmoin_stream_usage_init(ctx->stream_usage, (char *) events,
                                        NGX_HTTP_LLMOIN_SSE_EVENT_MAX) != 0)
        {
            return NGX_ERROR;
        }

        if (ctx->usage_injected) {
            ctx->stream_edit = ngx_pcalloc(r->pool,
                                       sizeof(ngx_http_llmoin_stream_edit_t));
            if (ctx->stream_edit == NULL) {
                return NGX_ERROR;
            }
        }

        break;

    case NGX_HTTP_LLMOIN_RESPONSE_JSON:
        ctx->body_usage = ngx_palloc(r->pool, sizeof(llmoin_body_usage_t));

        if (ctx->body_usage == NULL
            || llmoin_body_usage_init(ctx->body_usage) != 0)
        {
            return NGX_ERROR;
        }

        break;

    default:
        return NGX_OK;
    }

    /* the filters must see bytes, not file regions */

    r->filter_need_in_memory = 1;

    return NGX_OK;
}


/* the request id on every answer of the API, so that a user can name the
 * request to the service desk (the key of its usage record) */

static ngx_int_t
ngx_http_llmoin_request_id_header(ngx_http_request_t *r,
    ngx_http_llmoin_ctx_t *ctx)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "X-Request-Id");
    h->value = ctx->request_id;

    return NGX_OK;
}


static ngx_int_t
ngx_http_llmoin_header_filter(ngx_http_request_t *r)
{
    ngx_http_llmoin_ctx_t  *ctx;

    ctx = ngx_http_llmoin_get_ctx(r);

    if (ctx != NULL && r == r->main && ctx->request_id.len
        && ngx_http_llmoin_request_id_header(r, ctx) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ctx != NULL && ctx->admitted && r == r->main
        && ctx->response_kind == NGX_HTTP_LLMOIN_RESPONSE_UNKNOWN
        && (ngx_http_llmoin_start_observing(r, ctx) != NGX_OK
            || ngx_http_llmoin_quota_headers(r, ctx) != NGX_OK))
    {
        return NGX_ERROR;
    }

    return ngx_http_next_header_filter(r);
}


/* the events of a stream whose usage chunk is to be taken out: where the
 * complete ones end, and the spans of the chunks that carry only usage */

static void
ngx_http_llmoin_observe_events(ngx_http_llmoin_ctx_t *ctx, u_char *data,
    size_t len)
{
    llmoin_stream_event_t           ev;
    ngx_http_llmoin_stream_edit_t  *edit = ctx->stream_edit;

    if (llmoin_stream_usage_feed(ctx->stream_usage, data, len) != 0) {
        return;
    }

    while (llmoin_stream_usage_next(ctx->stream_usage, &ev) == 1) {
        edit->events_end = ev.end;

        if ((ev.flags & LLMOIN_STREAM_USAGE_ONLY)
            && edit->drops < NGX_HTTP_LLMOIN_DROPS_MAX)
        {
            edit->drop_start[edit->drops] = ev.start;
            edit->drop_end[edit->drops] = ev.end;
            edit->drops++;
        }
    }
}


static void
ngx_http_llmoin_observe(ngx_http_llmoin_ctx_t *ctx, u_char *data, size_t len)
{
    ctx->response_body_bytes += len;

    if (ctx->stream_edit != NULL) {
        ngx_http_llmoin_observe_events(ctx, data, len);

    } else if (ctx->stream_usage != NULL) {
        (void) llmoin_stream_usage_consume(ctx->stream_usage, data, len);

    } else if (ctx->body_usage != NULL) {
        (void) llmoin_body_usage_feed(ctx->body_usage, data, len);
    }
}


/* the time to the answer's first byte, for the journal */

static void
ngx_http_llmoin_first_byte(ngx_http_request_t *r, ngx_http_llmoin_ctx_t *ctx)
{
    ngx_time_t       *tp;
    ngx_msec_int_t    ms;

    tp = ngx_timeofday();

    ms = (ngx_msec_int_t) ((tp->sec - r->start_sec) * 1000
                           + (tp->msec - r->start_msec));

    ctx->first_byte_ms = (ngx_msec_t) ngx_max(ms, 0);
    ctx->first_byte = 1;
}


/*
 * The answer's end waits while the store frees the request's in-flight
 * slot (ngx_http_llmoin_quota_settle): what arrives meanwhile is kept, and
 * the first call after the store's confirmation passes it all on.
 */
static ngx_int_t
ngx_http_llmoin_hold(ngx_http_request_t *r, ngx_http_llmoin_ctx_t *ctx,
    ngx_chain_t *in)
{
    ngx_chain_t  *out;

    if (in != NULL && ngx_chain_add_copy(r->pool, &ctx->held, in) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ctx->quota_confirming) {
        r->buffered |= NGX_HTTP_LLMOIN_BUFFERED;
        return NGX_AGAIN;
    }

    r->buffered &= ~NGX_HTTP_LLMOIN_BUFFERED;

    out = ctx->held;
    ctx->held = NULL;

    return ngx_http_next_body_filter(r, out);
}


static ngx_int_t
ngx_http_llmoin_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_buf_t              *b;
    ngx_chain_t            *cl;
    ngx_http_llmoin_ctx_t  *ctx;

    ctx = ngx_http_llmoin_get_ctx(r);

    if (ctx == NULL || ctx->response_kind == NGX_HTTP_LLMOIN_RESPONSE_UNKNOWN) {
        return ngx_http_next_body_filter(r, in);
    }

    if (ctx->held != NULL || ctx->quota_confirming) {
        return ngx_http_llmoin_hold(r, ctx, in);
    }

    if (ctx->response_finished) {
        return ngx_http_next_body_filter(r, in);
    }

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        if (ngx_buf_in_memory(b) && b->last > b->pos) {
            if (!ctx->first_byte) {
                ngx_http_llmoin_first_byte(r, ctx);
            }

            ngx_http_llmoin_observe(ctx, b->pos, b->last - b->pos);
        }

        if (b->last_buf) {
            ctx->response_finished = 1;
        }
    }

    /* with a Content-Length the client has the whole answer when its last
     * byte arrives, before nginx passes the (empty) last buffer; a stream's
     * client has it with data: [DONE] */

    if ((r->headers_out.content_length_n >= 0
         && ctx->response_body_bytes >= r->headers_out.content_length_n)
        || (ctx->stream_usage != NULL && ctx->stream_usage->done))
    {
        ctx->response_finished = 1;
    }

    /* the answer is complete: its usage is known, and its quota is settled
     * before the last byte goes out */

    if (ctx->response_finished
        && ngx_http_llmoin_quota_settle(r, ctx, 1) == NGX_AGAIN)
    {
        return ngx_http_llmoin_hold(r, ctx, in);
    }

    return ngx_http_next_body_filter(r, in);
}


static ngx_int_t
ngx_http_llmoin_reported(ngx_http_llmoin_ctx_t *ctx, llmoin_usage_t *usage)
{
    llmoin_stream_event_t  event;

    ngx_memzero(usage, sizeof(llmoin_usage_t));

    if (ctx->stream_usage != NULL) {
        (void) llmoin_stream_usage_finish(ctx->stream_usage);

        while (llmoin_stream_usage_next(ctx->stream_usage, &event) == 1) {
            /* drained: the tracker keeps the totals */
        }

        *usage = ctx->stream_usage->usage;

    } else if (ctx->body_usage != NULL) {
        (void) llmoin_body_usage_finish(ctx->body_usage, usage, NULL);
    }

    return usage->present ? NGX_OK : NGX_DECLINED;
}


void
ngx_http_llmoin_usage_settle(ngx_http_request_t *r, ngx_http_llmoin_ctx_t *ctx)
{
    ngx_uint_t      status;
    llmoin_usage_t  usage;

    if (ctx->settled) {
        return;
    }

    ctx->settled = 1;

    /* the status the log records ($status) */

    status = r->err_status ? r->err_status : r->headers_out.status;

    if (status == NGX_HTTP_CLIENT_CLOSED_REQUEST) {
        ctx->prompt_tokens = llmoin_estimate_tokens(ctx->request_body_bytes);
        ctx->usage_source = NGX_HTTP_LLMOIN_USAGE_ESTIMATED;
        return;
    }

    if (status == 0 || status >= NGX_HTTP_BAD_REQUEST) {
        ctx->usage_source = NGX_HTTP_LLMOIN_USAGE_NONE;
        return;
    }

    if (ngx_http_llmoin_reported(ctx, &usage) == NGX_OK) {
        ctx->prompt_tokens = usage.prompt_tokens;
        ctx->completion_tokens = usage.completion_tokens;
        ctx->usage_source = NGX_HTTP_LLMOIN_USAGE_REPORTED;
        return;
    }

    ctx->prompt_tokens = llmoin_estimate_tokens(ctx->request_body_bytes);
    ctx->completion_tokens = ctx->stream_usage != NULL
        ? (int64_t) ctx->stream_usage->content_chunks
        : llmoin_estimate_tokens(ctx->response_body_bytes);
    ctx->usage_source = NGX_HTTP_LLMOIN_USAGE_ESTIMATED;
}


ngx_int_t
ngx_http_llmoin_usage_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_llmoin_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_llmoin_body_filter;

    return NGX_OK;
}
