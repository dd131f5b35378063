#include "run.h"

#include <string.h>

#include "args.h"
#include "commands.h"
#include "help.h"
#include "validate.h"

static int report(FILE *errout, const struct ctl_error *err)
{
    fprintf(errout, "llmoinctl: %s\n", err->msg);
    return err->code;
}

static void print_help(FILE *out, const struct ctl_invocation *inv)
{
    if (inv->cmd)
        help_print_command(out, inv->cmd);
    else if (inv->words[0])
        help_print_group(out, inv->words);
    else
        help_print_global(out);
}

/* --socket, else a non-empty LLMOIN_SOCKET, else the packaged default. */
static int resolve_socket(const struct ctl_invocation *inv, const char *env_socket,
                          const char **socket, struct ctl_error *err)
{
    *socket = inv->globals[GLOBAL_SOCKET];
    if (*socket)
        return 0;
    if (env_socket && env_socket[0]) {
        *socket = env_socket;
        return validate_socket_path("LLMOIN_SOCKET", env_socket, err);
    }
    *socket = CTL_DEFAULT_SOCKET;
    return 0;
}

static enum ctl_format resolve_format(const struct ctl_invocation *inv)
{
    const char *name = inv->globals[GLOBAL_OUTPUT];

    for (int f = 0; name && output_format_names[f]; f++)
        if (strcmp(name, output_format_names[f]) == 0)
            return (enum ctl_format)f;
    return FORMAT_TABLE;
}

int ctl_run(int argc, const char *const argv[], const char *env_socket, FILE *out, FILE *errout)
{
    struct ctl_invocation inv;
    struct ctl_error err = { 0 };
    struct ctl_context ctx = { .out = out };

    if (args_parse(argc, argv, &inv, &err) != 0)
        return report(errout, &err);
    if (inv.globals[GLOBAL_HELP]) {
        print_help(out, &inv);
        return CTL_EXIT_OK;
    }
    if (inv.globals[GLOBAL_VERSION]) {
        fprintf(out, "llmoinctl %s\n", LLMOINCTL_VERSION);
        return CTL_EXIT_OK;
    }
    ctx.format = resolve_format(&inv);
    if (inv.cmd->method && resolve_socket(&inv, env_socket, &ctx.socket, &err) != 0)
        return report(errout, &err);
    if (inv.cmd->handler(&inv, &ctx, &err) != 0)
        return report(errout, &err);
    return CTL_EXIT_OK;
}
