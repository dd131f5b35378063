/*
 * The stream filter: when the gateway asked for a stream's usage itself
 * (ngx_http_llmoin_body_edit.c), the chunk that carries only the usage is
 * taken out of what the client receives; every other byte passes as it
 * came, at once.
 *
 * The usage filter, which runs first, parses the events and notes where
 * the last complete one ends and the spans of usage-only chunks
 * (ngx_http_llmoin_stream_edit_t). This filter passes everything up to
 * that end except those spans, and holds back only the start of an event
 * whose end has not arrived yet (it cannot be told apart before; a client
 * can do nothing with half an event anyway). The held bytes go out with
 * the event's end, or at the end of the stream; an event longer than the
 * hold buffer goes out unheld (and is not taken out).
 */

#include "ngx_http_llmoin_module.h"


#define NGX_HTTP_LLMOIN_STREAM_BUF_MIN  4096


static ngx_http_output_body_filter_pt  ngx_http_next_body_filter;


/* the bytes of the chain, after what is held, into one buffer */

static ngx_buf_t *
ngx_http_llmoin_stream_collect(ngx_http_request_t *r,
    ngx_http_llmoin_stream_edit_t *edit, ngx_chain_t *in, ngx_chain_t **out,
    ngx_flag_t *last)
{
    size_t        len, size;
    ngx_buf_t    *b, *hold;
    ngx_chain_t  *cl, *link;

    hold = edit->hold;
    len = hold->last - hold->pos;

    for (cl = in; cl; cl = cl->next) {
        if (ngx_buf_in_memory(cl->buf)) {
            len += cl->buf->last - cl->buf->pos;
        }

        if (cl->buf->last_buf) {
            *last = 1;
        }
    }

    link = ngx_chain_get_free_buf(r->pool, &edit->free);
    if (link == NULL) {
        return NULL;
    }

    b = link->buf;

    /* never a NULL buffer, even for nothing: memcpy() wants real pointers */

    if (b->start == NULL || (size_t) (b->end - b->start) < len) {
        size = ngx_max(len, NGX_HTTP_LLMOIN_STREAM_BUF_MIN);
        b->start = ngx_palloc(r->pool, size);
        if (b->start == NULL) {
            return NULL;
        }

        b->end = b->start + size;
    }

    b->pos = b->start;
    b->last = ngx_cpymem(b->start, hold->pos, hold->last - hold->pos);
    b->temporary = 1;
    b->tag = (ngx_buf_tag_t) &ngx_http_llmoin_module;

    for (cl = in; cl; cl = cl->next) {
        if (ngx_buf_in_memory(cl->buf)) {
            b->last = ngx_cpymem(b->last, cl->buf->pos,
                                 cl->buf->last - cl->buf->pos);
            cl->buf->pos = cl->buf->last;
        }
    }

    hold->pos = hold->start;
    hold->last = hold->start;

    *out = link;

    return b;
}


/* takes the usage-only spans out of b, which holds the stream from base
 * to upto; spans beyond it stay for later */

static void
ngx_http_llmoin_stream_drop(ngx_http_llmoin_stream_edit_t *edit, ngx_buf_t *b,
    uint64_t base, uint64_t upto)
{
    u_char      *from, *to;
    ngx_uint_t   i, kept;

    to = b->pos;
    from = b->pos;
    kept = 0;

    for (i = 0; i < edit->drops; i++) {
        if (edit->drop_end[i] > upto) {
            edit->drop_start[kept] = edit->drop_start[i];
            edit->drop_end[kept] = edit->drop_end[i];
            kept++;
            continue;
        }

        if (edit->drop_start[i] < base) {
            continue;      /* partly sent already: it stays */
        }

        to = ngx_movemem(to, from,
                         b->pos + (edit->drop_start[i] - base) - from);
        from = b->pos + (edit->drop_end[i] - base);
    }

    b->last = ngx_movemem(to, from, b->last - from);
    edit->drops = kept;
}


static ngx_int_t
ngx_http_llmoin_stream_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    size_t                          tail;
    uint64_t                        base, upto, end;
    ngx_int_t                       rc;
    ngx_buf_t                      *b, *hold;
    ngx_flag_t                      last;
    ngx_chain_t                    *out;
    ngx_http_llmoin_ctx_t          *ctx;
    ngx_http_llmoin_stream_edit_t  *edit;

    ctx = ngx_http_llmoin_get_ctx(r);

    if (ctx == NULL || ctx->stream_edit == NULL || in == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    edit = ctx->stream_edit;

    if (edit->hold == NULL) {
        edit->hold = ngx_create_temp_buf(r->pool,
                                         NGX_HTTP_LLMOIN_SSE_EVENT_MAX);
        if (edit->hold == NULL) {
            return NGX_ERROR;
        }
    }

    hold = edit->hold;
    last = 0;

    b = ngx_http_llmoin_stream_collect(r, edit, in, &out, &last);
    if (b == NULL) {
        return NGX_ERROR;
    }

    /* b holds the stream from base to end; what is complete goes out */

    base = edit->hold_start;
    end = base + (b->last - b->pos);
    upto = last ? end : ngx_max(edit->events_end, base);

    tail = (size_t) (end - upto);

    if (tail > (size_t) (hold->end - hold->start)) {
        upto = end;
        tail = 0;
    }

    hold->last = ngx_cpymem(hold->start, b->last - tail, tail);
    b->last -= tail;

    ngx_http_llmoin_stream_drop(edit, b, base, upto);

    edit->hold_start = upto;

    /* an empty buffer must be a special one (flush), not memory */

    b->temporary = b->pos != b->last;
    b->flush = 1;
    b->last_buf = last;
    b->last_in_chain = 1;
    out->next = NULL;

    rc = ngx_http_next_body_filter(r, out);

    ngx_chain_update_chains(r->pool, &edit->free, &edit->busy, &out,
                            (ngx_buf_tag_t) &ngx_http_llmoin_module);

    return rc;
}


ngx_int_t
ngx_http_llmoin_stream_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_llmoin_stream_body_filter;

    return NGX_OK;
}
