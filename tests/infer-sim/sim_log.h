/*
 * sim_log — the optional access log: one key=value line per request on
 * stderr. It never sees prompt or answer text, only counts; header and path
 * values are quoted with anything unprintable escaped, so a line is always
 * one line.
 */
#ifndef SIM_LOG_H
#define SIM_LOG_H

#include <stdbool.h>
#include <stdint.h>

typedef struct sim_log_entry {
    const char *method;
    const char *path;
    unsigned status;
    uint64_t started;      /* sim_clock_now() when the request arrived */
    bool chat;             /* the fields below are only printed for chat */
    const char *tenant;
    bool stream;
    const char *outcome;   /* ok, failed, cut, rejected, aborted */
    uint64_t prompt_tokens;
    uint64_t completion_tokens;
} sim_log_entry;

void sim_log_request(const sim_log_entry *entry);

#endif
