#include "sim_log.h"

#include "sim_timer.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_CAPACITY 1024u

typedef struct line {
    char text[LINE_CAPACITY];
    size_t length;
} line;

static void append(line *out, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void append(line *out, const char *format, ...)
{
    if (out->length >= LINE_CAPACITY)
        return;
    va_list arguments;
    va_start(arguments, format);
    int written = vsnprintf(out->text + out->length, LINE_CAPACITY - out->length,
                            format, arguments);
    va_end(arguments);
    if (written > 0)
        out->length += (size_t)written;
    if (out->length >= LINE_CAPACITY)
        out->length = LINE_CAPACITY - 1;
}

/* Quoted, at most 128 bytes, so a hostile header cannot forge log lines. */
static void append_quoted(line *out, const char *key, const char *value)
{
    append(out, " %s=\"", key);
    size_t shown = 0;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (shown++ == 128) {
            append(out, "...");
            break;
        }
        if (*p == '"' || *p == '\\')
            append(out, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            append(out, "\\x%02x", *p);
        else
            append(out, "%c", *p);
    }
    append(out, "\"");
}

static void append_time(line *out)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm utc;
    gmtime_r(&now.tv_sec, &utc);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
    append(out, "time=%s.%03ldZ", stamp, now.tv_nsec / 1000000);
}

void sim_log_request(const sim_log_entry *entry)
{
    line out = {.length = 0};
    append_time(&out);
    append(&out, " method=%s", entry->method);
    append_quoted(&out, "path", entry->path);
    append(&out, " status=%u", entry->status);
    if (entry->chat) {
        append_quoted(&out, "tenant", entry->tenant ? entry->tenant : "");
        append(&out, " stream=%s outcome=%s prompt_tokens=%" PRIu64
                     " completion_tokens=%" PRIu64,
               entry->stream ? "true" : "false", entry->outcome,
               entry->prompt_tokens, entry->completion_tokens);
    }
    append(&out, " ms=%.3f\n", (double)(sim_clock_now() - entry->started) / 1e6);
    if (out.text[out.length - 1] != '\n')
        out.text[out.length - 1] = '\n'; /* truncated: still one whole line */
    /* One write per line keeps lines from different threads whole. */
    ssize_t ignored = write(STDERR_FILENO, out.text, out.length);
    (void)ignored;
}
