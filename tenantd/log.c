#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void
log_line(const char *level, const char *format, va_list args)
{
    struct timeval now;
    struct tm      utc;
    char           stamp[32];

    gettimeofday(&now, NULL);
    gmtime_r(&now.tv_sec, &utc);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &utc);

    /* One lock so lines from the API, snapshot and ingest threads never
     * interleave within a line. */
    pthread_mutex_lock(&log_lock);
    fprintf(stderr, "ts=%s.%03ldZ level=%s ", stamp,
            (long) (now.tv_usec / 1000), level);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
}

#define LOG_FUNCTION(name, level)                                           \
    void name(const char *format, ...)                                      \
    {                                                                       \
        va_list args;                                                       \
        va_start(args, format);                                             \
        log_line(level, format, args);                                      \
        va_end(args);                                                       \
    }

LOG_FUNCTION(log_info, "info")
LOG_FUNCTION(log_warn, "warn")
LOG_FUNCTION(log_error, "error")

const char *
log_safe(const char *text, char *out, size_t out_size)
{
    size_t         used = 0;
    unsigned char  c;

    for (; *text != '\0' && used + 5 < out_size; text++) {
        c = (unsigned char) *text;
        if (c <= ' ' || c == '"' || c == '\\' || c == 0x7f) {
            used += (size_t) snprintf(out + used, out_size - used, "\\x%02x", c);
        } else {
            out[used++] = (char) c;
        }
    }
    out[used] = '\0';
    return out;
}
