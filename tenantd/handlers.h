/*
 * Every management API handler, grouped by the file that implements it.
 * The route table in api.c is the one place that binds them to paths.
 */
#ifndef TENANTD_HANDLERS_H
#define TENANTD_HANDLERS_H

#include "api.h"

/* health.c */
void health_show(api_request_t *request, api_response_t *response);

/* tenants.c */
/* The id (as text, 24 bytes) of the tenant named by the first path
 * parameter: 1 found, 0 unknown (404 answered), -1 error (answered). */
int tenants_find(api_request_t *request, api_response_t *response, char tenant_id[24]);
/* Answers 200 with the JSON sql makes of the tenant named by the first path
 * parameter ($1 = its id), or 404. */
void tenants_answer_list(api_request_t *request, api_response_t *response, const char *sql);

void tenants_list(api_request_t *request, api_response_t *response);
void tenants_create(api_request_t *request, api_response_t *response);
void tenants_show(api_request_t *request, api_response_t *response);
void tenants_suspend(api_request_t *request, api_response_t *response);
void tenants_resume(api_request_t *request, api_response_t *response);
void tenants_update(api_request_t *request, api_response_t *response);

/* tenants_offboard.c */
void tenants_offboard(api_request_t *request, api_response_t *response);

/* tenant_apply.c: declarative onboarding */
void tenant_apply(api_request_t *request, api_response_t *response);

/* The field tables (validate.h) of the bodies of tenants_create,
 * tenants_update, issuers_add, tenant_models_allow and limits_set:
 * tenant_apply checks each part of a document with the table of the
 * handler that gets it, before anything changes. */
struct field_spec;
extern const struct field_spec *const tenants_create_fields;
extern const struct field_spec *const tenants_update_fields;
extern const struct field_spec *const issuers_add_fields;
extern const struct field_spec *const tenant_models_allow_fields;
extern const struct field_spec *const limits_put_fields;

/* audit_api.c */
void audit_list(api_request_t *request, api_response_t *response);
void audit_tenant_list(api_request_t *request, api_response_t *response);
void audit_verify(api_request_t *request, api_response_t *response);

/* caller.c */
void caller_show(api_request_t *request, api_response_t *response);

/* tenant_models.c */
void tenant_models_list(api_request_t *request, api_response_t *response);
void tenant_models_allow(api_request_t *request, api_response_t *response);
void tenant_models_remove(api_request_t *request, api_response_t *response);

/* limits.c */
void limits_list(api_request_t *request, api_response_t *response);
void limits_set(api_request_t *request, api_response_t *response);
void limits_clear(api_request_t *request, api_response_t *response);

/* keys.c */
void keys_list(api_request_t *request, api_response_t *response);
void keys_create(api_request_t *request, api_response_t *response);
void keys_revoke(api_request_t *request, api_response_t *response);

/* dev_idp.c: the development identity provider's OIDC endpoints */
void dev_idp_discovery(api_request_t *request, api_response_t *response);
void dev_idp_jwks(api_request_t *request, api_response_t *response);
void dev_idp_authorize_form(api_request_t *request, api_response_t *response);
void dev_idp_authorize_submit(api_request_t *request, api_response_t *response);
void dev_idp_token(api_request_t *request, api_response_t *response);

/* dev_idp_admin.c */
void dev_idp_enable(api_request_t *request, api_response_t *response);
void dev_idp_disable(api_request_t *request, api_response_t *response);
void dev_idp_mint_token(api_request_t *request, api_response_t *response);

/* issuers.c */
void issuers_list(api_request_t *request, api_response_t *response);
void issuers_add(api_request_t *request, api_response_t *response);
void issuers_remove(api_request_t *request, api_response_t *response);

/* models.c */
void models_list(api_request_t *request, api_response_t *response);
void models_create(api_request_t *request, api_response_t *response);

/* pools.c */
void pools_list(api_request_t *request, api_response_t *response);
void pools_set(api_request_t *request, api_response_t *response);
void pools_remove(api_request_t *request, api_response_t *response);

/* usage_report.c */
void usage_report(api_request_t *request, api_response_t *response);
void usage_report_monthly(api_request_t *request, api_response_t *response);

#endif
