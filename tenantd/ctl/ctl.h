/*
 * llmoinctl: shared vocabulary of every module: exit codes and the error
 * value that functions return instead of printing or exiting.
 */
#ifndef LLMOINCTL_CTL_H
#define LLMOINCTL_CTL_H

/* Exit codes are part of the CLI contract (docs/cli.md): scripts branch on
 * them, so their meaning never changes. */
enum ctl_exit {
    CTL_EXIT_OK = 0,
    CTL_EXIT_API = 1,         /* tenantd answered with an error, or the answer was unusable */
    CTL_EXIT_USAGE = 2,       /* the command line is wrong; nothing was sent */
    CTL_EXIT_UNREACHABLE = 3, /* tenantd could not be reached on its socket */
};

/* One line for the operator; main prints it as "llmoinctl: <msg>". */
struct ctl_error {
    enum ctl_exit code;
    char msg[512];
};

/* Fills err and returns code, so callers can write `return ctl_fail(...)`. */
int ctl_fail(struct ctl_error *err, enum ctl_exit code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " so errors name the command they concern. */
void ctl_error_prefix(struct ctl_error *err, const char *prefix);

#endif
