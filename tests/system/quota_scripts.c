/*
 * quota-scripts: prints one of the Redis Lua quota scripts (quota_script.h)
 * to stdout, so test_quota_scripts.py can load exactly the text the gateway
 * sends to Redis.
 *
 *   quota-scripts admit|settle|read
 *
 * Exit status: 0 printed, 1 write failed, 2 usage error.
 */
#include "quota_script.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char  *name;
    const char  *text;
} quota_script_entry_t;

static const quota_script_entry_t  scripts[] = {
    { "admit",  llmoin_quota_admit_lua },
    { "settle", llmoin_quota_settle_lua },
    { "read",   llmoin_quota_read_lua },
};

static const char *
script_named(const char *name)
{
    size_t  i;

    for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
        if (strcmp(scripts[i].name, name) == 0) {
            return scripts[i].text;
        }
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    const char  *text;

    text = argc == 2 ? script_named(argv[1]) : NULL;
    if (text == NULL) {
        fprintf(stderr, "usage: quota-scripts admit|settle|read\n");
        return 2;
    }
    if (fputs(text, stdout) == EOF || fflush(stdout) == EOF) {
        perror("quota-scripts: stdout");
        return 1;
    }
    return 0;
}
