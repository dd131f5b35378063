/*
 * llmoinctl: the operators' admin CLI for tenantd. Process setup only; the
 * program is ctl_run() (run.c).
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "run.h"

int main(int argc, char **argv)
{
    int rc;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fputs("llmoinctl: cannot initialise libcurl\n", stderr);
        return CTL_EXIT_API;
    }
    rc = ctl_run(argc, (const char *const *)argv, getenv("LLMOIN_SOCKET"), stdout, stderr);
    /* Output that never arrived (full disk, closed pipe) is not a success. */
    if ((fflush(stdout) != 0 || ferror(stdout)) && rc == CTL_EXIT_OK) {
        fprintf(stderr, "llmoinctl: cannot write the output: %s\n", strerror(errno));
        rc = CTL_EXIT_API;
    }
    curl_global_cleanup();
    return rc;
}
