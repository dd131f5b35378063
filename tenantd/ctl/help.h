/*
 * Help text, all derived from the command table so it cannot drift from what
 * the parser accepts.
 */
#ifndef LLMOINCTL_HELP_H
#define LLMOINCTL_HELP_H

#include <stdbool.h>
#include <stdio.h>

#include "commands.h"
#include "sbuf.h"

/* "llmoinctl tenant create SLUG --name NAME"; with `full`, optional options
 * too ("[--by day|user|model]"), else only what must be typed. */
void help_synopsis(struct sbuf *sb, const struct ctl_command *cmd, bool full);
/* The options of a rule: "--a, --b<conjunction>--c". */
void help_rule_names(struct sbuf *sb, const struct ctl_rule *rule, const char *conjunction);
/* One sentence per rule of cmd, each on its own line: "Give either --enable
 * or --disable." */
void help_rules(struct sbuf *sb, const struct ctl_command *cmd);
/* An option's value placeholder: its metavar, or "a|b|c" for choices. */
void help_metavar(struct sbuf *sb, const struct ctl_param *p);
/* "--name NAME" for options, "SLUG" for positionals. */
void help_param_label(struct sbuf *sb, const struct ctl_param *p);
/* The param's help plus "(required)" / "(default: x)". */
void help_param_text(struct sbuf *sb, const struct ctl_param *p);
/* "POST /admin/v1/tenants/{TENANT}/keys, body {"user":USER,"name":LABEL}" */
void help_request(struct sbuf *sb, const struct ctl_command *cmd);
/* "create, list, show" for the group "tenant". */
void help_subcommands(struct sbuf *sb, const char *group);
/* Quotes an argument for a POSIX shell when it needs it. */
void help_shell_quote(struct sbuf *sb, const char *arg);
/* "llmoinctl tenant create hamburg --name 'Freie und ...'" */
void help_example(struct sbuf *sb, const struct ctl_command *cmd);

void help_print_global(FILE *out);
void help_print_group(FILE *out, const char *group);
void help_print_command(FILE *out, const struct ctl_command *cmd);

#endif
