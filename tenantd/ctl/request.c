#include "request.h"

#include <string.h>

#include "url.h"
#include "values.h"

static int expand_path(const struct ctl_invocation *inv, struct sbuf *path)
{
    const struct ctl_command *cmd = inv->cmd;
    const char *names[CTL_MAX_ARGS], *values[CTL_MAX_ARGS];
    size_t n = 0;

    for (size_t k = 0; k < inv->nargs; k++) {
        if (cmd->args[k].dest != DEST_PATH)
            continue;
        names[n] = cmd->args[k].name;
        values[n++] = inv->args[k];
    }
    return url_expand(path, cmd->path, names, values, n);
}

/* The row's method, or the one a given DEST_METHOD flag chooses. */
static const char *method(const struct ctl_invocation *inv)
{
    for (size_t k = 0; k < command_nopts(inv->cmd); k++)
        if (inv->opts[k] && inv->cmd->options[k].dest == DEST_METHOD)
            return inv->cmd->options[k].field;
    return inv->cmd->method;
}

/* Adds one value to wherever its parameter says it goes. */
static int place(struct request *rq, const struct ctl_param *p, const char *value, time_t now,
                 struct ctl_error *err)
{
    json_t *json;
    int rc;

    if (!value)
        return 0;
    if (p->dest == DEST_QUERY)
        url_query_add(&rq->path, p->field, value);
    if (p->dest != DEST_BODY)
        return 0;
    if ((rc = value_to_json(p, value, now, &json, err)))
        return rc;
    if (json_object_set_new(rq->body, p->field, json) != 0)
        return ctl_fail(err, CTL_EXIT_API, "out of memory");
    return 0;
}

int request_build(const struct ctl_invocation *inv, time_t now, struct request *rq,
                  struct ctl_error *err)
{
    const struct ctl_command *cmd = inv->cmd;
    int rc = 0;

    *rq = (struct request){ .method = method(inv), .path = SBUF_INIT };
    if (expand_path(inv, &rq->path) != 0)
        return ctl_fail(err, CTL_EXIT_API, "internal error: bad path template %s", cmd->path);
    /* tenantd wants a JSON object on every POST and PATCH, even without
     * fields; GET and DELETE carry none. */
    if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "DELETE") != 0 &&
        !(rq->body = json_object()))
        return ctl_fail(err, CTL_EXIT_API, "out of memory");
    for (size_t k = 0; k < inv->nargs && rc == 0; k++)
        rc = place(rq, &cmd->args[k], inv->args[k], now, err);
    for (size_t k = 0; k < command_nopts(cmd) && rc == 0; k++)
        rc = place(rq, &cmd->options[k], inv->opts[k] ? inv->opts[k] : cmd->options[k].def, now,
                   err);
    /* A file that cannot be used is a mistake on the command line, like a
     * bad value: name the command as the parser does. */
    if (rc == CTL_EXIT_USAGE)
        ctl_error_prefix(err, cmd->words);
    if (rc == 0 && rq->path.failed)
        rc = ctl_fail(err, CTL_EXIT_API, "out of memory");
    return rc;
}

void request_free(struct request *rq)
{
    sbuf_free(&rq->path);
    json_decref(rq->body);
    rq->body = NULL;
}
