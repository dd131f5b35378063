#include "client.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sbuf.h"

struct body_sink {
    struct sbuf buf;
    bool too_big;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct body_sink *sink = userdata;
    size_t n = size * nmemb;

    if (sink->buf.len + n > CLIENT_MAX_BODY) {
        sink->too_big = true;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    sbuf_addn(&sink->buf, data, n);
    return sink->buf.failed ? 0 : n;
}

/* Why connect() failed, in words an operator can act on. Checking the path
 * ourselves tells "missing" from "not a socket", which curl cannot. */
static int unreachable(const char *socket_path, long os_errno, struct ctl_error *err)
{
    static const char hint[] = "check that tenantd is running and that --socket or "
                               "LLMOIN_SOCKET names its socket";
    struct stat st;
    long stat_errno = stat(socket_path, &st) == 0 ? 0 : errno;
    long why = os_errno ? os_errno : stat_errno;

    if (stat_errno == ENOENT || stat_errno == ENOTDIR)
        return ctl_fail(err, CTL_EXIT_UNREACHABLE,
                        "cannot reach tenantd: socket %s does not exist; %s", socket_path, hint);
    if (stat_errno == 0 && !S_ISSOCK(st.st_mode))
        return ctl_fail(err, CTL_EXIT_UNREACHABLE, "cannot reach tenantd: %s is not a socket; %s",
                        socket_path, hint);
    if (why == ECONNREFUSED)
        return ctl_fail(err, CTL_EXIT_UNREACHABLE,
                        "cannot reach tenantd at %s: connection refused (stale socket, nothing "
                        "listening); check that tenantd is running",
                        socket_path);
    if (why == EACCES || why == EPERM)
        return ctl_fail(err, CTL_EXIT_UNREACHABLE,
                        "cannot reach tenantd at %s: permission denied; run as root or as a "
                        "member of tenantd's socket_group",
                        socket_path);
    return ctl_fail(err, CTL_EXIT_UNREACHABLE, "cannot reach tenantd at %s: %s; %s", socket_path,
                    why ? strerror((int)why) : "connection failed", hint);
}

/* Maps a failed transfer to an exit code and message. */
static int transfer_failed(CURL *h, CURLcode rc, const char *socket_path,
                           const struct body_sink *sink, const char *detail,
                           struct ctl_error *err)
{
    long os_errno = 0;

    curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
        return unreachable(socket_path, os_errno, err);
    case CURLE_OPERATION_TIMEDOUT:
        return ctl_fail(err, CTL_EXIT_UNREACHABLE,
                        "tenantd at %s did not answer within %ld s; check that tenantd is healthy",
                        socket_path, CLIENT_TIMEOUT_MS / 1000);
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
        return ctl_fail(err, CTL_EXIT_UNREACHABLE,
                        "tenantd at %s closed the connection without a complete answer (%s); "
                        "check tenantd's log",
                        socket_path, detail);
    case CURLE_WRITE_ERROR:
        if (sink->too_big)
            return ctl_fail(err, CTL_EXIT_API, "the answer from tenantd is larger than %u MiB",
                            CLIENT_MAX_BODY >> 20);
        return ctl_fail(err, CTL_EXIT_API, "out of memory");
    default:
        return ctl_fail(err, CTL_EXIT_API, "request to tenantd at %s failed: %s", socket_path,
                        detail);
    }
}

static struct curl_slist *make_headers(const char *body)
{
    struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");

    if (h && body && !curl_slist_append(h, "Content-Type: application/json")) {
        curl_slist_free_all(h);
        return NULL;
    }
    return h;
}

/* curl_easy_setopt results are not checked one by one: every option used
 * exists in libcurl 7.88 and the transfer fails visibly if one did not. */
static void set_options(CURL *h, const char *socket_path, const char *url, const char *method,
                        const char *body, struct curl_slist *headers, struct body_sink *sink,
                        char *errbuf)
{
    curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, socket_path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROXY, ""); /* http_proxy must not divert us */
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L); /* send exactly the path we built */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CLIENT_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, CLIENT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "llmoinctl/" LLMOINCTL_VERSION);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
}

int client_send(const char *socket_path, const char *method, const char *path,
                const char *body, struct client_response *rs, struct ctl_error *err)
{
    struct body_sink sink = { .buf = SBUF_INIT };
    struct sbuf url = SBUF_INIT;
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *headers = make_headers(body);
    CURL *h = curl_easy_init();
    CURLcode rc;
    int ret = 0;

    *rs = (struct client_response){ 0 };
    /* The host name only fills the Host header; the socket decides where. */
    sbuf_addf(&url, "http://localhost%s", path);
    if (!h || !headers || url.failed) {
        ret = ctl_fail(err, CTL_EXIT_API, "out of memory");
        goto out;
    }
    set_options(h, socket_path, url.data, method, body, headers, &sink, errbuf);
    rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        ret = transfer_failed(h, rc, socket_path, &sink,
                              errbuf[0] ? errbuf : curl_easy_strerror(rc), err);
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &rs->status);
    sbuf_addn(&sink.buf, "", 0); /* make sure body is a string even when empty */
    if (sink.buf.failed) {
        ret = ctl_fail(err, CTL_EXIT_API, "out of memory");
        goto out;
    }
    rs->body = sink.buf.data;
    rs->len = sink.buf.len;
    sink.buf = (struct sbuf)SBUF_INIT;
out:
    if (sink.buf.data)
        explicit_bzero(sink.buf.data, sink.buf.cap);
    sbuf_free(&sink.buf);
    sbuf_free(&url);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    return ret;
}

void client_response_free(struct client_response *rs)
{
    if (rs->body)
        explicit_bzero(rs->body, rs->len);
    free(rs->body);
    *rs = (struct client_response){ 0 };
}
