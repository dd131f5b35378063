#include "fake_tenantd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int make_socket(struct fake_tenantd *f, bool listening)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };

    snprintf(f->dir, sizeof f->dir, "/tmp/llmoinctl-test-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/tenantd.sock", f->dir);
    if (strlen(f->path) >= sizeof addr.sun_path)
        return -1;
    memcpy(addr.sun_path, f->path, strlen(f->path) + 1);
    f->fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (f->fd < 0 || bind(f->fd, (struct sockaddr *)&addr, sizeof addr) != 0)
        return -1;
    return listening ? listen(f->fd, 4) : 0;
}

/* Reads headers and as much body as Content-Length announces. */
static void read_request(struct fake_tenantd *f, int conn)
{
    size_t want = 0;
    const char *end, *cl;
    ssize_t n;

    for (;;) {
        n = read(conn, f->request + f->request_len, sizeof f->request - 1 - f->request_len);
        if (n <= 0)
            return;
        f->request_len += (size_t)n;
        f->request[f->request_len] = '\0';
        end = strstr(f->request, "\r\n\r\n");
        if (!end)
            continue;
        for (cl = f->request; (cl = strchr(cl, '\n')) != NULL; cl++)
            if (strncasecmp(cl + 1, "Content-Length:", 15) == 0)
                want = strtoul(cl + 16, NULL, 10);
        if (f->request_len >= (size_t)(end + 4 - f->request) + want)
            return;
    }
}

static void *serve(void *arg)
{
    struct fake_tenantd *f = arg;
    char head[256];
    int conn = accept(f->fd, NULL, NULL);

    if (conn < 0)
        return NULL;
    read_request(f, conn);
    if (f->status) {
        snprintf(head, sizeof head,
                 "HTTP/1.1 %d Canned\r\nContent-Type: application/json\r\n"
                 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                 f->status, strlen(f->body));
        /* The client may be gone once it has what it needs (a 204's
         * head): no SIGPIPE for the whole test process then. */
        if (send(conn, head, strlen(head), MSG_NOSIGNAL) < 0 ||
            (f->body[0] && send(conn, f->body, strlen(f->body), MSG_NOSIGNAL) < 0))
            perror("fake_tenantd: send");
    }
    close(conn);
    return NULL;
}

int fake_start(struct fake_tenantd *f, int status, const char *body)
{
    memset(f, 0, sizeof *f);
    f->status = status;
    f->body = body;
    if (make_socket(f, true) != 0)
        return -1;
    f->serving = pthread_create(&f->thread, NULL, serve, f) == 0;
    return f->serving ? 0 : -1;
}

int fake_start_refusing(struct fake_tenantd *f)
{
    memset(f, 0, sizeof *f);
    return make_socket(f, false);
}

void fake_stop(struct fake_tenantd *f)
{
    if (f->serving) {
        /* Unblocks accept() if the client never connected. */
        shutdown(f->fd, SHUT_RDWR);
        pthread_join(f->thread, NULL);
    }
    close(f->fd);
    unlink(f->path);
    rmdir(f->dir);
}

const char *fake_request_body(const struct fake_tenantd *f)
{
    const char *end = strstr(f->request, "\r\n\r\n");

    return end ? end + 4 : "";
}
