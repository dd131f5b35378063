/*
 * `llmoinctl completion bash`: a completion script generated from the command
 * table, so new commands and options complete without editing a script.
 */
#ifndef LLMOINCTL_COMPLETION_H
#define LLMOINCTL_COMPLETION_H

#include <stdio.h>

#include "ctl.h"

int completion_bash(FILE *out, struct ctl_error *err);

#endif
