#include "dev_idp.h"

#include "db.h"
#include "dev_idp_keys.h"
#include "form.h"
#include "handlers.h"
#include "log.h"

#include "base64url.h"
#include "strbuf.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CODE_SLOTS        256
#define CODE_LIFETIME     60
#define TOKEN_LIFETIME    3600
#define FIELD_MAX         512

static const char tenant_sql[] =
    "SELECT t.id::text, t.slug, t.name, k.kid, k.private_pem, k.public_jwk::text"
    " FROM tenants t JOIN dev_idp_keys k ON k.tenant_id = t.id"
    " WHERE t.slug = $1 AND t.dev_idp";

/* A code handed to the browser, redeemed once at the token endpoint. */
typedef struct authorization_code {
    char      code[48];
    char      slug[40];
    char      user[65];
    char      groups[FIELD_MAX];
    char      client_id[101];
    char      redirect_uri[FIELD_MAX];
    char      challenge[129];
    char      nonce[FIELD_MAX];
    long long expires_at;
} authorization_code_t;

/* What the authorize step carries from the client to the login form. */
typedef struct authorize_request {
    char client_id[101];
    char redirect_uri[FIELD_MAX];
    char state[FIELD_MAX];
    char challenge[129];
    char nonce[FIELD_MAX];
} authorize_request_t;

static const tenantd_config_t *idp_config;
static authorization_code_t    codes[CODE_SLOTS];
static pthread_mutex_t         codes_lock = PTHREAD_MUTEX_INITIALIZER;

void
dev_idp_init(const tenantd_config_t *config)
{
    idp_config = config;
}

bool
dev_idp_enabled(void)
{
    return idp_config != NULL && idp_config->dev_idp;
}

long
dev_token_max_ttl(void)
{
    return idp_config->dev_token_max_ttl;
}

static bool
matches(const char *pattern, const char *text)
{
    regex_t compiled;
    bool    result;

    if (regcomp(&compiled, pattern, REG_EXTENDED | REG_NOSUB) != 0) {
        return false;
    }
    result = regexec(&compiled, text, 0, NULL, 0) == 0;
    regfree(&compiled);
    return result;
}

#define LOOPBACK_URL "^https?://(127\\.0\\.0\\.1|localhost|\\[::1\\])(:[0-9]{1,5})?(/[^[:space:][:cntrl:]]*)?$"

int
dev_idp_check_config(const tenantd_config_t *config, char *error, size_t error_size)
{
    if (!config->dev_idp) {
        return 0;
    }
    if (config->listen[0] != '\0'
        && !matches("^(127\\.[0-9.]+|localhost):[0-9]+$", config->listen))
    {
        snprintf(error, error_size, "dev_idp = true needs a loopback listen address "
                 "(it lets anyone sign in as anyone), not '%.200s'", config->listen);
        return -1;
    }
    if (config->dev_idp_url[0] != '\0' && !matches(LOOPBACK_URL, config->dev_idp_url)) {
        snprintf(error, error_size, "dev_idp_url must be a loopback URL, not '%.200s'",
                 config->dev_idp_url);
        return -1;
    }
    log_warn("event=dev_idp_enabled note=\"development identity provider: not for production\"");
    return 0;
}

void
dev_idp_issuer(const char *slug, char *out, size_t out_size)
{
    if (idp_config->dev_idp_url[0] != '\0') {
        snprintf(out, out_size, "%s/dev-idp/%s", idp_config->dev_idp_url, slug);
    } else {
        snprintf(out, out_size, "http://%s/dev-idp/%s", idp_config->listen, slug);
    }
}

void
dev_tenant_free(dev_tenant_t *tenant)
{
    free(tenant->private_pem);
    json_decref(tenant->public_jwk);
    tenant->private_pem = NULL;
    tenant->public_jwk = NULL;
}

int
dev_tenant_load(PGconn *conn, const char *slug, dev_tenant_t *tenant, db_error_t *error)
{
    PGresult *result;

    memset(tenant, 0, sizeof(*tenant));
    if (!dev_idp_enabled()) {
        return 0;
    }
    result = db_query(conn, tenant_sql, 1, &slug, error);
    if (result == NULL) {
        return -1;
    }
    if (PQntuples(result) == 0) {
        PQclear(result);
        return 0;
    }
    snprintf(tenant->id, sizeof(tenant->id), "%s", PQgetvalue(result, 0, 0));
    snprintf(tenant->slug, sizeof(tenant->slug), "%s", PQgetvalue(result, 0, 1));
    snprintf(tenant->name, sizeof(tenant->name), "%s", PQgetvalue(result, 0, 2));
    snprintf(tenant->kid, sizeof(tenant->kid), "%s", PQgetvalue(result, 0, 3));
    tenant->private_pem = strdup(PQgetvalue(result, 0, 4));
    tenant->public_jwk = json_loads(PQgetvalue(result, 0, 5), 0, NULL);
    PQclear(result);
    dev_idp_issuer(tenant->slug, tenant->issuer, sizeof(tenant->issuer));
    return tenant->private_pem != NULL && tenant->public_jwk != NULL ? 1 : -1;
}

static json_t *
groups_from_text(const char *text)
{
    json_t     *groups = json_array();
    const char *start = text, *comma;
    char        group[65];
    size_t      length;

    while (*start != '\0') {
        comma = strchr(start, ',');
        length = comma != NULL ? (size_t) (comma - start) : strlen(start);
        while (length > 0 && *start == ' ') {
            start++;
            length--;
        }
        while (length > 0 && start[length - 1] == ' ') {
            length--;
        }
        if (length > 0 && length < sizeof(group)) {
            memcpy(group, start, length);
            group[length] = '\0';
            json_array_append_new(groups, json_string(group));
        }
        if (comma == NULL) {
            break;
        }
        start = comma + 1;
    }
    return groups;
}

int
dev_idp_issue(const dev_tenant_t *tenant, const char *user, const json_t *groups,
              long ttl_seconds, const char *audience, const char *nonce, char **token,
              long long *expires_at)
{
    unsigned char random[12];
    char          jti[40];
    size_t        written;
    long long     now = (long long) time(NULL);
    json_t       *claims;
    int           rc;

    if (RAND_bytes(random, sizeof(random)) != 1
        || llmoin_base64url_encode(random, sizeof(random), jti, sizeof(jti), &written) != 0)
    {
        return -1;
    }
    *expires_at = now + ttl_seconds;
    claims = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:s}", "iss", tenant->issuer,
                       "aud", audience, "sub", user, "preferred_username", user,
                       "iat", (json_int_t) now, "nbf", (json_int_t) now,
                       "exp", (json_int_t) *expires_at, "jti", jti);
    if (claims == NULL) {
        return -1;
    }
    json_object_set_new(claims, "groups", groups != NULL ? json_deep_copy(groups) : json_array());
    if (nonce != NULL && nonce[0] != '\0') {
        json_object_set_new(claims, "nonce", json_string(nonce));
    }
    rc = dev_idp_sign(tenant->private_pem, tenant->kid, claims, token);
    json_decref(claims);
    return rc;
}

/* --- the OIDC endpoints --------------------------------------------------- */

static bool
load_or_404(api_request_t *request, api_response_t *response, dev_tenant_t *tenant)
{
    db_error_t error;
    PGconn    *conn = api_database(&error);
    int        state = conn != NULL ? dev_tenant_load(conn, request->params[0], tenant, &error) : -1;

    if (state < 0) {
        api_database_error(response, &error);
        return false;
    }
    if (state == 0) {
        api_error(response, 404, "invalid_request_error", "not_found",
                  "no development identity provider for '%s'", request->params[0]);
        return false;
    }
    return true;
}

void
dev_idp_discovery(api_request_t *request, api_response_t *response)
{
    dev_tenant_t tenant;
    char         authorize[CONFIG_STRING_MAX + 96], token[CONFIG_STRING_MAX + 96];
    char         jwks[CONFIG_STRING_MAX + 96];

    if (!load_or_404(request, response, &tenant)) {
        return;
    }
    snprintf(authorize, sizeof(authorize), "%s/authorize", tenant.issuer);
    snprintf(token, sizeof(token), "%s/token", tenant.issuer);
    snprintf(jwks, sizeof(jwks), "%s/jwks", tenant.issuer);
    api_ok(response, 200,
           json_pack("{s:s,s:s,s:s,s:s,s:[s],s:[s],s:[s],s:[s],s:[s],s:[s],s:[s,s,s]}",
                     "issuer", tenant.issuer, "authorization_endpoint", authorize,
                     "token_endpoint", token, "jwks_uri", jwks,
                     "response_types_supported", "code",
                     "grant_types_supported", "authorization_code",
                     "code_challenge_methods_supported", "S256",
                     "subject_types_supported", "public",
                     "id_token_signing_alg_values_supported", "ES256",
                     "token_endpoint_auth_methods_supported", "none",
                     "scopes_supported", "openid", "profile", "groups"));
    dev_tenant_free(&tenant);
}

void
dev_idp_jwks(api_request_t *request, api_response_t *response)
{
    dev_tenant_t tenant;

    if (!load_or_404(request, response, &tenant)) {
        return;
    }
    api_ok(response, 200, json_pack("{s:[O]}", "keys", tenant.public_jwk));
    dev_tenant_free(&tenant);
}

static void
html_answer(api_response_t *response, int status, llmoin_strbuf_t *html)
{
    api_raw(response, status, "text/html; charset=utf-8", html->data, html->length);
    html->data = NULL;
    llmoin_strbuf_free(html);
}

static void
html_error(api_response_t *response, const char *message)
{
    llmoin_strbuf_t html = LLMOIN_STRBUF_INIT;

    llmoin_strbuf_append_string(&html, "<!doctype html><html lang=\"de\"><head>"
        "<meta charset=\"utf-8\"><title>Anmeldung nicht möglich</title></head><body>"
        "<main><h1>Anmeldung nicht möglich</h1><p>");
    html_append_escaped(&html, message);
    llmoin_strbuf_append_string(&html, "</p></main></body></html>\n");
    html_answer(response, 400, &html);
}

typedef const char *(*parameter_source_t)(api_request_t *request, const char *name,
                                          char *out, size_t size);

static const char *
from_query(api_request_t *request, const char *name, char *out, size_t size)
{
    const char *value = api_query(request, name);

    if (value == NULL || strlen(value) >= size) {
        return NULL;
    }
    strcpy(out, value);
    return out;
}

static const char *
from_form(api_request_t *request, const char *name, char *out, size_t size)
{
    return form_value(request->body, request->body_length, name, out, size) ? out : NULL;
}

/* Reads an optional parameter; true when it is present but too long (a
 * dropped state would only fail later at the client, unexplained). */
static bool
is_too_long(api_request_t *request, parameter_source_t source, const char *name,
            char *out, size_t size)
{
    if (source(request, name, out, size) != NULL) {
        return false;
    }
    out[0] = '\0';
    return source == from_query ? api_query(request, name) != NULL
                                : form_has(request->body, request->body_length, name);
}

/* The OAuth parameters of an authorization request; NULL when fine, else
 * what is wrong (in German, shown on the error page). */
static const char *
read_authorize(api_request_t *request, parameter_source_t source, authorize_request_t *out)
{
    char kind[16], method[16];

    memset(out, 0, sizeof(*out));
    if (source(request, "response_type", kind, sizeof(kind)) == NULL || strcmp(kind, "code") != 0) {
        return "Nur response_type=code wird unterstützt.";
    }
    if (source(request, "client_id", out->client_id, sizeof(out->client_id)) == NULL
        || !matches("^[A-Za-z0-9._-]{1,100}$", out->client_id))
    {
        return "client_id fehlt oder ist ungültig.";
    }
    if (source(request, "redirect_uri", out->redirect_uri, sizeof(out->redirect_uri)) == NULL
        || !matches(LOOPBACK_URL, out->redirect_uri))
    {
        return "redirect_uri muss auf diesen Rechner zeigen (127.0.0.1 oder localhost).";
    }
    if (source(request, "code_challenge", out->challenge, sizeof(out->challenge)) == NULL
        || !matches("^[A-Za-z0-9_-]{43,128}$", out->challenge)
        || source(request, "code_challenge_method", method, sizeof(method)) == NULL
        || strcmp(method, "S256") != 0)
    {
        return "PKCE ist nötig: code_challenge mit code_challenge_method=S256.";
    }
    if (is_too_long(request, source, "state", out->state, sizeof(out->state))
        || is_too_long(request, source, "nonce", out->nonce, sizeof(out->nonce)))
    {
        return "state und nonce dürfen höchstens 511 Zeichen lang sein.";
    }
    return NULL;
}

static void
append_hidden(llmoin_strbuf_t *html, const char *name, const char *value)
{
    llmoin_strbuf_printf(html, "<input type=\"hidden\" name=\"%s\" value=\"", name);
    html_append_escaped(html, value);
    llmoin_strbuf_append_string(html, "\">");
}

void
dev_idp_authorize_form(api_request_t *request, api_response_t *response)
{
    dev_tenant_t        tenant;
    authorize_request_t wanted;
    llmoin_strbuf_t     html = LLMOIN_STRBUF_INIT;
    const char         *problem;

    if (!load_or_404(request, response, &tenant)) {
        return;
    }
    problem = read_authorize(request, from_query, &wanted);
    if (problem != NULL) {
        dev_tenant_free(&tenant);
        html_error(response, problem);
        return;
    }
    llmoin_strbuf_append_string(&html, "<!doctype html><html lang=\"de\"><head>"
        "<meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">"
        "<title>Anmeldung</title></head><body><main><h1>Anmeldung: ");
    html_append_escaped(&html, tenant.name);
    llmoin_strbuf_append_string(&html, "</h1><p>Entwicklungs-Anmeldung von llmoin – "
        "nicht für den Produktivbetrieb. Jeder Name wird angenommen.</p>"
        "<form method=\"post\" action=\"authorize\">"
        "<p><label for=\"username\">Benutzername</label><br>"
        "<input id=\"username\" name=\"username\" required autocomplete=\"username\" "
        "pattern=\"[A-Za-z0-9._@-]{1,64}\"></p>"
        "<p><label for=\"groups\">Gruppen (optional, durch Komma getrennt)</label><br>"
        "<input id=\"groups\" name=\"groups\"></p>");
    append_hidden(&html, "response_type", "code");
    append_hidden(&html, "client_id", wanted.client_id);
    append_hidden(&html, "redirect_uri", wanted.redirect_uri);
    append_hidden(&html, "state", wanted.state);
    append_hidden(&html, "code_challenge", wanted.challenge);
    append_hidden(&html, "code_challenge_method", "S256");
    append_hidden(&html, "nonce", wanted.nonce);
    llmoin_strbuf_append_string(&html, "<p><button type=\"submit\">Anmelden</button></p>"
                                       "</form></main></body></html>\n");
    dev_tenant_free(&tenant);
    html_answer(response, 200, &html);
}

static int
new_code(char out[48])
{
    unsigned char random[32];
    size_t        written;

    return RAND_bytes(random, sizeof(random)) == 1
           && llmoin_base64url_encode(random, sizeof(random), out, 48, &written) == 0 ? 0 : -1;
}

static int
store_code(const authorization_code_t *code)
{
    long long now = (long long) time(NULL);
    size_t    i, free_slot = CODE_SLOTS;

    pthread_mutex_lock(&codes_lock);
    for (i = 0; i < CODE_SLOTS; i++) {
        if (codes[i].expires_at < now) {
            free_slot = i;
            break;
        }
    }
    if (free_slot < CODE_SLOTS) {
        codes[free_slot] = *code;
    }
    pthread_mutex_unlock(&codes_lock);
    return free_slot < CODE_SLOTS ? 0 : -1;
}

/* Takes a code out (it works once); false when unknown or expired. */
static bool
redeem_code(const char *value, authorization_code_t *out)
{
    long long now = (long long) time(NULL);
    size_t    i;
    bool      found = false;

    pthread_mutex_lock(&codes_lock);
    for (i = 0; i < CODE_SLOTS && !found; i++) {
        if (codes[i].expires_at >= now && strcmp(codes[i].code, value) == 0) {
            *out = codes[i];
            memset(&codes[i], 0, sizeof(codes[i]));
            found = true;
        }
    }
    pthread_mutex_unlock(&codes_lock);
    return found;
}

static void
redirect_with_code(api_response_t *response, const authorize_request_t *wanted,
                   const char *code)
{
    llmoin_strbuf_t location = LLMOIN_STRBUF_INIT;

    llmoin_strbuf_append_string(&location, wanted->redirect_uri);
    llmoin_strbuf_append_char(&location, strchr(wanted->redirect_uri, '?') ? '&' : '?');
    llmoin_strbuf_append_string(&location, "code=");
    url_append_encoded(&location, code);
    if (wanted->state[0] != '\0') {
        llmoin_strbuf_append_string(&location, "&state=");
        url_append_encoded(&location, wanted->state);
    }
    api_raw(response, 302, "text/plain; charset=utf-8", strdup(""), 0);
    response->location = location.data;
}

void
dev_idp_authorize_submit(api_request_t *request, api_response_t *response)
{
    dev_tenant_t         tenant;
    authorize_request_t  wanted;
    authorization_code_t code;
    const char          *problem;

    if (!load_or_404(request, response, &tenant)) {
        return;
    }
    dev_tenant_free(&tenant);
    problem = read_authorize(request, from_form, &wanted);
    memset(&code, 0, sizeof(code));
    if (problem == NULL
        && (from_form(request, "username", code.user, sizeof(code.user)) == NULL
            || !matches("^[A-Za-z0-9._@-]{1,64}$", code.user)))
    {
        problem = "Der Benutzername darf nur Buchstaben, Ziffern und . _ @ - enthalten.";
    }
    if (problem != NULL) {
        html_error(response, problem);
        return;
    }
    from_form(request, "groups", code.groups, sizeof(code.groups));
    snprintf(code.slug, sizeof(code.slug), "%s", request->params[0]);
    snprintf(code.client_id, sizeof(code.client_id), "%s", wanted.client_id);
    snprintf(code.redirect_uri, sizeof(code.redirect_uri), "%s", wanted.redirect_uri);
    snprintf(code.challenge, sizeof(code.challenge), "%s", wanted.challenge);
    snprintf(code.nonce, sizeof(code.nonce), "%s", wanted.nonce);
    code.expires_at = (long long) time(NULL) + CODE_LIFETIME;
    if (new_code(code.code) != 0 || store_code(&code) != 0) {
        html_error(response, "Zu viele Anmeldungen gleichzeitig; bitte gleich noch einmal.");
        response->status = 503;
        return;
    }
    log_info("event=dev_idp_sign_in tenant=%s", code.slug);
    redirect_with_code(response, &wanted, code.code);
}

static void
oauth_error(api_response_t *response, const char *error, const char *description)
{
    api_ok(response, 400, json_pack("{s:s,s:s}", "error", error,
                                    "error_description", description));
}

/* PKCE S256: base64url(SHA-256(verifier)) must be the challenge. */
static bool
verifier_matches(const char *verifier, const char *challenge)
{
    unsigned char digest[32];
    unsigned int  digest_length = 0;
    char          encoded[64];
    size_t        written;

    return matches("^[A-Za-z0-9._~-]{43,128}$", verifier)
           && EVP_Digest(verifier, strlen(verifier), digest, &digest_length, EVP_sha256(),
                         NULL) == 1
           && llmoin_base64url_encode(digest, digest_length, encoded, sizeof(encoded),
                                      &written) == 0
           && strcmp(encoded, challenge) == 0;
}

static const char *
check_grant(api_request_t *request, authorization_code_t *code)
{
    char grant[40], value[FIELD_MAX], verifier[129];

    if (from_form(request, "grant_type", grant, sizeof(grant)) == NULL
        || strcmp(grant, "authorization_code") != 0)
    {
        return "grant_type must be authorization_code";
    }
    if (from_form(request, "code", value, sizeof(value)) == NULL || !redeem_code(value, code)
        || strcmp(code->slug, request->params[0]) != 0)
    {
        return "the code is unknown, used or expired";
    }
    if (from_form(request, "redirect_uri", value, sizeof(value)) == NULL
        || strcmp(value, code->redirect_uri) != 0
        || from_form(request, "client_id", value, sizeof(value)) == NULL
        || strcmp(value, code->client_id) != 0)
    {
        return "redirect_uri or client_id differ from the authorization request";
    }
    if (from_form(request, "code_verifier", verifier, sizeof(verifier)) == NULL
        || !verifier_matches(verifier, code->challenge))
    {
        return "code_verifier does not match the code_challenge";
    }
    return NULL;
}

void
dev_idp_token(api_request_t *request, api_response_t *response)
{
    dev_tenant_t          tenant;
    authorization_code_t  code;
    const char           *problem;
    char                 *access = NULL, *id_token = NULL;
    json_t               *groups;
    long long             expires;

    if (!load_or_404(request, response, &tenant)) {
        return;
    }
    problem = check_grant(request, &code);
    if (problem != NULL) {
        dev_tenant_free(&tenant);
        oauth_error(response, "invalid_grant", problem);
        return;
    }
    groups = groups_from_text(code.groups);
    if (dev_idp_issue(&tenant, code.user, groups, TOKEN_LIFETIME, DEV_IDP_AUDIENCE, NULL,
                      &access, &expires) != 0
        || dev_idp_issue(&tenant, code.user, groups, TOKEN_LIFETIME, code.client_id,
                         code.nonce, &id_token, &expires) != 0)
    {
        api_error(response, 500, "server_error", "signing_failed", "could not sign the token");
    } else {
        api_ok(response, 200, json_pack("{s:s,s:s,s:s,s:i,s:s}", "access_token", access,
                                        "id_token", id_token, "token_type", "Bearer",
                                        "expires_in", TOKEN_LIFETIME, "scope", "openid profile"));
    }
    json_decref(groups);
    free(access);
    free(id_token);
    dev_tenant_free(&tenant);
}
