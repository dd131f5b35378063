/*
 * A stand-in for tenantd in tests: a unix socket in a temporary directory
 * that answers one HTTP request with a canned response and records what it
 * was sent.
 */
#ifndef LLMOINCTL_FAKE_TENANTD_H
#define LLMOINCTL_FAKE_TENANTD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct fake_tenantd {
    char dir[64];
    char path[128];
    int fd;
    bool serving;
    pthread_t thread;
    int status;       /* HTTP status to answer; 0: close without answering */
    const char *body; /* answer body */
    char request[16384]; /* what the client sent, NUL-terminated */
    size_t request_len;
};

/* Listens and answers the next connection with status and body. */
int fake_start(struct fake_tenantd *f, int status, const char *body);
/* A socket file nobody listens on: connecting is refused. */
int fake_start_refusing(struct fake_tenantd *f);
/* Waits for the answer to be sent, removes the socket and directory. */
void fake_stop(struct fake_tenantd *f);
/* The request body (after the blank line), or "" */
const char *fake_request_body(const struct fake_tenantd *f);

#endif
