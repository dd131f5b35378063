/*
 * The whole program minus process setup: parse, then help/version or the
 * command's handler; every failure becomes one "llmoinctl: ..." line on
 * errout and the exit code. Separate from main() so tests can run it.
 */
#ifndef LLMOINCTL_RUN_H
#define LLMOINCTL_RUN_H

#include <stdio.h>

/* env_socket: the value of LLMOIN_SOCKET, or NULL. */
int ctl_run(int argc, const char *const argv[], const char *env_socket, FILE *out, FILE *errout);

#endif
