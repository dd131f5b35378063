/* Declarative onboarding (being written). */
#include "handlers.h"

void
tenant_apply(api_request_t *request, api_response_t *response)
{
    (void) request;
    api_error(response, 501, "server_error", "not_implemented", "not implemented yet");
}
