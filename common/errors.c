#include "errors.h"

#include <stdarg.h>
#include <stdio.h>

int
llmoin_fail(char *error, size_t error_size, int code, const char *format, ...)
{
    va_list args;

    if (error != NULL && error_size > 0) {
        va_start(args, format);
        vsnprintf(error, error_size, format, args);
        va_end(args);
    }
    return code;
}

void
llmoin_clear_error(char *error, size_t error_size)
{
    if (error != NULL && error_size > 0) {
        error[0] = '\0';
    }
}
