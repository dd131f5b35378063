/*
 * `llmoinctl help-markdown`: the command reference of docs/cli.md, generated
 * from the command table; a ctest checks the doc still matches it.
 */
#ifndef LLMOINCTL_MARKDOWN_H
#define LLMOINCTL_MARKDOWN_H

#include <stdio.h>

#include "ctl.h"

int markdown_write(FILE *out, struct ctl_error *err);

#endif
