/*
 * UTF-8 aware text helpers for terminal output. Tenant names such as
 * "Bremen – Senatorin für Finanzen" are longer in bytes than on screen, and
 * text that came from tenantd must not be able to move the cursor or recolour
 * the operator's terminal.
 */
#ifndef LLMOINCTL_TEXT_H
#define LLMOINCTL_TEXT_H

#include <stddef.h>

#include "sbuf.h"

/* Columns the text occupies on a terminal (wide CJK/emoji count 2,
 * combining marks 0, an invalid byte 1). */
size_t text_width(const char *s);

/* Appends s with control characters (C0, DEL, C1) and invalid UTF-8 bytes
 * replaced by '?'. */
void text_sanitize(struct sbuf *out, const char *s);

#endif
