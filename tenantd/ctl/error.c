#include "ctl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int ctl_fail(struct ctl_error *err, enum ctl_exit code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
    return (int)code;
}

void ctl_error_prefix(struct ctl_error *err, const char *prefix)
{
    char msg[sizeof err->msg];

    memcpy(msg, err->msg, sizeof msg);
    /* A message cut at 511 bytes is still the most useful thing to print. */
    if (snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, msg) < 0)
        memcpy(err->msg, msg, sizeof msg);
}
