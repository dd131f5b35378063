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

/* One name/value pair of the table, a string, to the query or the body. */
static int place_text(struct request *rq, enum ctl_dest dest, const char *name, const char *text,
                      struct ctl_error *err)
{
    if (dest == DEST_QUERY) {
        url_query_add(&rq->path, name, text);
        return 0;
    }
    if (dest == DEST_BODY && json_object_set_new(rq->body, name, json_string(text)) != 0)
        return ctl_fail(err, CTL_EXIT_API, "out of memory");
    return 0;
}

/* Adds one value, and the pairs it sends along, to wherever its parameter
 * says they go. */
static int place(struct request *rq, const struct ctl_param *p, const char *value, time_t now,
                 struct ctl_error *err)
{
    json_t *json;
    int rc;

    if (!value)
        return 0;
    for (size_t i = 0; p->also && p->also[i]; i += 2)
        if ((rc = place_text(rq, p->dest, p->also[i], p->also[i + 1], err)))
            return rc;
    if (!p->field)
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

/* Whether a value given (or defaulted) sends `name`. */
static bool sent_by_option(const struct ctl_invocation *inv, const char *name)
{
    const struct ctl_command *cmd = inv->cmd;

    for (size_t k = 0; k < command_nopts(cmd); k++)
        if ((inv->opts[k] || cmd->options[k].def) && param_sends(&cmd->options[k], name))
            return true;
    for (size_t k = 0; k < inv->nargs; k++)
        if (param_sends(&cmd->args[k], name))
            return true;
    return false;
}

/* The row's preset pairs that no value given replaces. */
static int place_presets(const struct ctl_invocation *inv, struct request *rq,
                         struct ctl_error *err)
{
    const struct ctl_command *cmd = inv->cmd;
    enum ctl_dest dest = rq->body ? DEST_BODY : DEST_QUERY;
    int rc;

    for (size_t i = 0; cmd->preset && cmd->preset[i]; i += 2)
        if (!sent_by_option(inv, cmd->preset[i]) &&
            (rc = place_text(rq, dest, cmd->preset[i], cmd->preset[i + 1], err)))
            return rc;
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
    rc = place_presets(inv, rq, err);
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
