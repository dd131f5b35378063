/*
 * Command line parsing against the command table. Global options may appear
 * anywhere; a command's own options after its command words; "--opt value"
 * and "--opt=value" both work; "--" ends option parsing.
 */
#ifndef LLMOINCTL_ARGS_H
#define LLMOINCTL_ARGS_H

#include "commands.h"

/* Fills inv. Returns 0 or CTL_EXIT_USAGE with a one-line message in err.
 * With --help (or --version) only the command words must be right: the
 * caller then prints help for inv->cmd, the group inv->words, or globally. */
int args_parse(int argc, const char *const argv[], struct ctl_invocation *inv,
               struct ctl_error *err);

#endif
