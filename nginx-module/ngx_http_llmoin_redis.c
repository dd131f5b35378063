/*
 * The quota store connection: one hiredis asynchronous connection per
 * worker, driven by nginx's own event loop (hiredis 0.14 has no timeouts
 * and resolves names with a blocking call, so: an IP address or a unix
 * socket, and the callers arm their own timers).
 *
 * The connection is opened at worker start and again a second after it was
 * lost. On connecting, the quota scripts are loaded (SCRIPT LOAD), so that
 * every EVALSHA sent after them on this connection finds them. A command
 * sent while there is no connection fails at once: the caller applies its
 * tenant's fail mode.
 */

#include "ngx_http_llmoin_module.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>


#define NGX_HTTP_LLMOIN_REDIS_RETRY  1000


typedef struct {
    redisAsyncContext  *context;
    ngx_connection_t   *connection;
    ngx_event_t         retry;
    ngx_str_t           address;
    ngx_log_t          *log;
    ngx_uint_t          connected;
    ngx_uint_t          failures_logged;
} ngx_http_llmoin_redis_t;


static ngx_http_llmoin_redis_t  ngx_http_llmoin_redis;

/* the SHA-1 of each script, as EVALSHA wants it */
static char  ngx_http_llmoin_script_sha[NGX_HTTP_LLMOIN_SCRIPTS][41];

static const char  *ngx_http_llmoin_scripts[NGX_HTTP_LLMOIN_SCRIPTS] = {
    llmoin_quota_admit_lua,
    llmoin_quota_settle_lua,
    llmoin_quota_read_lua
};


static void ngx_http_llmoin_redis_connect(void);


static void
ngx_http_llmoin_redis_read(ngx_event_t *ev)
{
    if (ngx_http_llmoin_redis.context != NULL) {
        redisAsyncHandleRead(ngx_http_llmoin_redis.context);
    }
}


static ngx_uint_t  ngx_http_llmoin_redis_writing;


static void
ngx_http_llmoin_redis_write_now(void)
{
    ngx_http_llmoin_redis_writing = 1;
    redisAsyncHandleWrite(ngx_http_llmoin_redis.context);
    ngx_http_llmoin_redis_writing = 0;
}


static void
ngx_http_llmoin_redis_write(ngx_event_t *ev)
{
    if (ngx_http_llmoin_redis.context != NULL) {
        ngx_http_llmoin_redis_write_now();
    }
}


/*
 * hiredis asks for events; nginx's epoll watches them level-triggered (a
 * reply larger than hiredis reads at once must wake us again).
 *
 * A command queued while connected is not written through the epoll
 * write event (two epoll_ctl calls per command) but by a posted event: the
 * commands of one turn of the event loop leave in one write at its end.
 * Only a write that did not go out whole (or the connect) waits for epoll.
 */

static void
ngx_http_llmoin_redis_add_read(void *data)
{
    ngx_connection_t  *c = data;

    if (!c->read->active) {
        ngx_add_event(c->read, NGX_READ_EVENT, 0);
    }
}


static void
ngx_http_llmoin_redis_del_read(void *data)
{
    ngx_connection_t  *c = data;

    if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }
}


static void
ngx_http_llmoin_redis_add_write(void *data)
{
    ngx_connection_t  *c = data;

    if (ngx_http_llmoin_redis.connected && !ngx_http_llmoin_redis_writing) {
        if (!c->write->posted) {
            ngx_post_event(c->write, &ngx_posted_events);
        }

        return;
    }

    if (!c->write->active) {
        ngx_add_event(c->write, NGX_WRITE_EVENT, 0);
    }
}


static void
ngx_http_llmoin_redis_del_write(void *data)
{
    ngx_connection_t  *c = data;

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }
}


/* hiredis closes the socket itself: give the nginx connection back only */

static void
ngx_http_llmoin_redis_cleanup(void *data)
{
    ngx_connection_t  *c = data;

    ngx_http_llmoin_redis_del_read(c);
    ngx_http_llmoin_redis_del_write(c);

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    c->fd = (ngx_socket_t) -1;
    ngx_free_connection(c);

    if (ngx_http_llmoin_redis.connection == c) {
        ngx_http_llmoin_redis.connection = NULL;
    }
}


static void
ngx_http_llmoin_redis_schedule(void)
{
    if (!ngx_http_llmoin_redis.retry.timer_set && !ngx_exiting && !ngx_quit) {
        ngx_add_timer(&ngx_http_llmoin_redis.retry, NGX_HTTP_LLMOIN_REDIS_RETRY);
    }
}


static void
ngx_http_llmoin_redis_lost(const redisAsyncContext *ac, int status)
{
    ngx_http_llmoin_redis_t  *redis = &ngx_http_llmoin_redis;

    if (redis->connected || !redis->failures_logged) {
        ngx_log_error(NGX_LOG_WARN, redis->log, 0,
                      "llmoin: quota store \"%V\" unavailable: %s",
                      &redis->address, ac->errstr[0] ? ac->errstr : "closed");
        redis->failures_logged = 1;
    }

    redis->connected = 0;
    redis->context = NULL;

    ngx_http_llmoin_redis_schedule();
}


static void
ngx_http_llmoin_redis_on_connect(const redisAsyncContext *ac, int status)
{
    ngx_uint_t                i;
    ngx_http_llmoin_redis_t  *redis = &ngx_http_llmoin_redis;

    if (status != REDIS_OK) {
        ngx_http_llmoin_redis_lost(ac, status);
        return;
    }

    for (i = 0; i < NGX_HTTP_LLMOIN_SCRIPTS; i++) {
        redisAsyncCommand(redis->context, NULL, NULL, "SCRIPT LOAD %s",
                          ngx_http_llmoin_scripts[i]);
    }

    if (redis->failures_logged) {
        ngx_log_error(NGX_LOG_NOTICE, redis->log, 0,
                      "llmoin: quota store \"%V\" connected", &redis->address);
    }

    redis->connected = 1;
    redis->failures_logged = 0;
}


static void
ngx_http_llmoin_redis_on_disconnect(const redisAsyncContext *ac, int status)
{
    ngx_http_llmoin_redis_lost(ac, status);
}


static redisAsyncContext *
ngx_http_llmoin_redis_open(ngx_str_t *address)
{
    u_char     text[NGX_SOCKADDRLEN + 8], *colon;
    ngx_int_t  port;

    if (address->len >= sizeof(text)) {
        return NULL;
    }

    ngx_memcpy(text, address->data, address->len);
    text[address->len] = '\0';

    if (ngx_strncmp(text, "unix:", 5) == 0) {
        return redisAsyncConnectUnix((char *) text + 5);
    }

    colon = (u_char *) strrchr((char *) text, ':');
    if (colon == NULL) {
        return NULL;
    }

    *colon = '\0';
    port = ngx_atoi(colon + 1, ngx_strlen(colon + 1));

    return port > 0 && port < 65536 ? redisAsyncConnect((char *) text, (int) port)
                                    : NULL;
}


static void
ngx_http_llmoin_redis_attach(redisAsyncContext *ac)
{
    ngx_connection_t  *c;

    c = ngx_get_connection(ac->c.fd, ngx_http_llmoin_redis.log);
    if (c == NULL) {
        redisAsyncFree(ac);
        ngx_http_llmoin_redis_schedule();
        return;
    }

    c->read->handler = ngx_http_llmoin_redis_read;
    c->write->handler = ngx_http_llmoin_redis_write;
    c->read->log = ngx_http_llmoin_redis.log;
    c->write->log = ngx_http_llmoin_redis.log;
    c->data = &ngx_http_llmoin_redis;

    ngx_http_llmoin_redis.connection = c;
    ngx_http_llmoin_redis.context = ac;

    ac->ev.data = c;
    ac->ev.addRead = ngx_http_llmoin_redis_add_read;
    ac->ev.delRead = ngx_http_llmoin_redis_del_read;
    ac->ev.addWrite = ngx_http_llmoin_redis_add_write;
    ac->ev.delWrite = ngx_http_llmoin_redis_del_write;
    ac->ev.cleanup = ngx_http_llmoin_redis_cleanup;

    redisAsyncSetConnectCallback(ac, ngx_http_llmoin_redis_on_connect);
    redisAsyncSetDisconnectCallback(ac, ngx_http_llmoin_redis_on_disconnect);

    /* a non-blocking connect completes when the socket becomes writable */
    ngx_http_llmoin_redis_add_write(c);
}


static void
ngx_http_llmoin_redis_connect(void)
{
    redisAsyncContext  *ac;

    ac = ngx_http_llmoin_redis_open(&ngx_http_llmoin_redis.address);

    if (ac == NULL || ac->err) {
        if (!ngx_http_llmoin_redis.failures_logged) {
            ngx_log_error(NGX_LOG_WARN, ngx_http_llmoin_redis.log, 0,
                          "llmoin: cannot connect to the quota store \"%V\": %s",
                          &ngx_http_llmoin_redis.address,
                          ac != NULL ? ac->errstr : "bad address");
            ngx_http_llmoin_redis.failures_logged = 1;
        }

        if (ac != NULL) {
            redisAsyncFree(ac);
        }

        ngx_http_llmoin_redis_schedule();
        return;
    }

    ngx_http_llmoin_redis_attach(ac);
}


static void
ngx_http_llmoin_redis_retry(ngx_event_t *ev)
{
    if (ngx_http_llmoin_redis.context == NULL && !ngx_exiting && !ngx_quit) {
        ngx_http_llmoin_redis_connect();
    }
}


static void
ngx_http_llmoin_script_digests(void)
{
    u_char        digest[EVP_MAX_MD_SIZE];
    ngx_uint_t    i;
    unsigned int  len;

    for (i = 0; i < NGX_HTTP_LLMOIN_SCRIPTS; i++) {
        EVP_Digest(ngx_http_llmoin_scripts[i],
                   ngx_strlen(ngx_http_llmoin_scripts[i]), digest, &len,
                   EVP_sha1(), NULL);
        ngx_hex_dump((u_char *) ngx_http_llmoin_script_sha[i], digest, len);
        ngx_http_llmoin_script_sha[i][40] = '\0';
    }
}


ngx_int_t
ngx_http_llmoin_redis_init_process(ngx_cycle_t *cycle, ngx_str_t *address)
{
    ngx_http_llmoin_redis_t  *redis = &ngx_http_llmoin_redis;

    if (address->len == 0) {
        return NGX_OK;
    }

    ngx_http_llmoin_script_digests();

    redis->address = *address;
    redis->log = cycle->log;
    redis->retry.handler = ngx_http_llmoin_redis_retry;
    redis->retry.log = cycle->log;
    redis->retry.data = redis;
    redis->retry.cancelable = 1;

    ngx_http_llmoin_redis_connect();

    return NGX_OK;
}


void
ngx_http_llmoin_redis_exit_process(void)
{
    if (ngx_http_llmoin_redis.context != NULL) {
        redisAsyncFree(ngx_http_llmoin_redis.context);
        ngx_http_llmoin_redis.context = NULL;
    }
}


/*
 * Sends EVALSHA of a script. The callback gets every reply, and NULL when
 * the connection went away first (hiredis calls every pending callback
 * then). NGX_ERROR: there is no connection; nothing was sent.
 */
ngx_int_t
ngx_http_llmoin_redis_eval(ngx_uint_t script, int argc, const char **argv,
    size_t *argvlen, void (*callback)(redisAsyncContext *, void *, void *),
    void *data)
{
    if (!ngx_http_llmoin_redis.connected
        || ngx_http_llmoin_redis.context == NULL)
    {
        return NGX_ERROR;
    }

    /* argv[0] and argv[1] are left for the command and the script */

    argv[0] = "EVALSHA";
    argvlen[0] = sizeof("EVALSHA") - 1;
    argv[1] = ngx_http_llmoin_script_sha[script];
    argvlen[1] = 40;

    return redisAsyncCommandArgv(ngx_http_llmoin_redis.context, callback, data,
                                 argc, argv, argvlen)
           == REDIS_OK ? NGX_OK : NGX_ERROR;
}


/*
 * Writes what is queued to the store now, instead of when the event loop
 * next finds the socket writable: a settlement reaches Redis before the
 * answer's last byte reaches the client, so the client's next request
 * finds its slot free. A write error closes the connection and runs the
 * pending callbacks (with NULL), as on the event loop.
 */
void
ngx_http_llmoin_redis_flush(void)
{
    if (ngx_http_llmoin_redis.connected
        && ngx_http_llmoin_redis.context != NULL)
    {
        ngx_http_llmoin_redis_write_now();
    }
}


/* a NOSCRIPT answer: the store lost its scripts (restart, SCRIPT FLUSH) */

void
ngx_http_llmoin_redis_reload_scripts(void)
{
    ngx_uint_t  i;

    if (ngx_http_llmoin_redis.context == NULL) {
        return;
    }

    for (i = 0; i < NGX_HTTP_LLMOIN_SCRIPTS; i++) {
        redisAsyncCommand(ngx_http_llmoin_redis.context, NULL, NULL,
                          "SCRIPT LOAD %s", ngx_http_llmoin_scripts[i]);
    }
}


ngx_flag_t
ngx_http_llmoin_redis_configured(void)
{
    return ngx_http_llmoin_redis.address.len > 0;
}
