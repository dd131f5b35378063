/* Reading and verifying the audit log (being written). */
#include "handlers.h"

static void
not_yet(api_request_t *request, api_response_t *response)
{
    (void) request;
    api_error(response, 501, "server_error", "not_implemented", "not implemented yet");
}

void
audit_list(api_request_t *request, api_response_t *response)
{
    not_yet(request, response);
}

void
audit_tenant_list(api_request_t *request, api_response_t *response)
{
    not_yet(request, response);
}

void
audit_verify(api_request_t *request, api_response_t *response)
{
    not_yet(request, response);
}
