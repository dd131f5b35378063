#include "api.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "sbuf.h"
#include "text.h"

/* error.message comes from the server: keep it from driving the terminal. */
static int api_error(long status, const json_t *error, struct ctl_error *err)
{
    const char *message = json_string_value(json_object_get(error, "message"));
    const char *code = json_string_value(json_object_get(error, "code"));
    struct sbuf text = SBUF_INIT;

    if (!code)
        code = json_string_value(json_object_get(error, "type"));
    text_sanitize(&text, message);
    if (code) {
        sbuf_addf(&text, " (HTTP %ld, ", status);
        text_sanitize(&text, code);
        sbuf_addc(&text, ')');
    } else {
        sbuf_addf(&text, " (HTTP %ld)", status);
    }
    ctl_fail(err, CTL_EXIT_API, "%s", sbuf_str(&text));
    sbuf_free(&text);
    return CTL_EXIT_API;
}

int api_decode(long status, const char *body, size_t len, json_t **doc, struct ctl_error *err)
{
    bool ok = status >= 200 && status <= 299;
    json_error_t jerr;
    const json_t *error;

    *doc = NULL;
    if (len == 0)
        return ok ? 0 : ctl_fail(err, CTL_EXIT_API, "tenantd answered HTTP %ld without a body",
                                 status);
    *doc = json_loadb(body, len, 0, &jerr);
    if (!*doc)
        return ok ? ctl_fail(err, CTL_EXIT_API,
                             "tenantd answered HTTP %ld with invalid JSON: %s (line %d, column %d)",
                             status, jerr.text, jerr.line, jerr.column)
                  : ctl_fail(err, CTL_EXIT_API, "tenantd answered HTTP %ld with a non-JSON body",
                             status);
    if (ok)
        return 0;
    error = json_object_get(*doc, "error");
    if (json_is_string(json_object_get(error, "message"))) {
        api_error(status, error, err);
        json_decref(*doc);
        *doc = NULL;
        return CTL_EXIT_API;
    }
    return ctl_fail(err, CTL_EXIT_API, "tenantd answered HTTP %ld", status);
}

int api_call(const char *socket_path, const struct request *rq, json_t **doc,
             struct ctl_error *err)
{
    struct client_response rs;
    char *body = NULL;
    int rc;

    *doc = NULL;
    if (rq->body && !(body = json_dumps(rq->body, JSON_COMPACT)))
        return ctl_fail(err, CTL_EXIT_API, "out of memory");
    rc = client_send(socket_path, rq->method, sbuf_str(&rq->path), body, &rs, err);
    free(body);
    if (rc != 0)
        return rc;
    rc = api_decode(rs.status, rs.body, rs.len, doc, err);
    client_response_free(&rs);
    return rc;
}
