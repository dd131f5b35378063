/*
 * Declarative onboarding (POST /admin/v1/apply): one document says what a
 * tenant is — slug and name, and the sections hosts, settings, issuers,
 * models and limits — and tenantd makes it so with the handlers that make
 * each change on its own (tenants.c, issuers.c, tenant_models.c,
 * limits.c), called in the request's one transaction: each writes its own
 * audit row, and when one fails api_dispatch rolls all of them back.
 *
 * A section that is present is authoritative: entries not in it are
 * removed. One that is absent is left alone, and so are settings the
 * settings section does not name. A models section holds the tenant to its
 * list (models_restricted), unless settings say otherwise. Entries are
 * known by their issuer URL, model alias, and limit scope and subject; an
 * issuer whose settings differ is replaced (removed and added again, as no
 * handler changes one in place; keys from a jwks_uri are then fetched
 * anew). A limit's kinds that an entry leaves out are no limit.
 *
 * The document is checked whole before anything changes: its shape here,
 * each part with the field table of the handler that will get it. Then the
 * changes are made in this order: the tenant (created if new), issuers,
 * models, limits, the tenant's name, host names and settings (last, since
 * allowing a model restricts the tenant). dry_run=true makes them all and
 * rolls back to a savepoint taken first; the answer says what changed, or
 * would.
 */
#include "handlers.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What issuers.c stores for a member an issuer's body leaves out. */
#define ISSUER_USER_CLAIM_DEFAULT "sub"
#define ISSUER_LEEWAY_DEFAULT     60

/* Room for "issuer <URL>" (500 characters of up to 4 bytes), so that no two
 * entries' names are cut to the same. */
#define NAME_MAX_LENGTH 2100

static const char *const document_members[] = {
    "slug", "name", "hosts", "settings", "issuers", "models", "limits", NULL
};

/* What an issuer is, member by member, in the order changes list them. */
static const char *const issuer_settings[] = {
    "audience", "jwks_uri", "jwks", "user_claim", "groups_claim", "leeway_seconds", NULL
};

static const char *const limit_kinds[] = { "rpm", "tpm", "concurrent", "monthly_tokens", NULL };

/* The stored keys of an issuer that has no jwks_uri. */
static const char inline_keys_sql[] = "SELECT jwks::text FROM tenant_issuers WHERE id = $1::bigint";

typedef struct apply {
    api_request_t  *request;
    api_response_t *response;
    json_t         *document;
    const char     *slug;
    json_t         *changes;
    bool            created;
    void          (*after_commit)(void);
} apply_t;

typedef void (*name_entry_t)(const json_t *entry, char *out, size_t size);

/* --- names of entries ----------------------------------------------------- */

static void
issuer_name(const json_t *entry, char *out, size_t size)
{
    snprintf(out, size, "issuer %s", json_string_value(json_object_get(entry, "issuer")));
}

static void
model_name(const json_t *entry, char *out, size_t size)
{
    snprintf(out, size, "model %s", json_string_value(json_object_get(entry, "alias")));
}

/* "limit tenant", "limit user:default" (the row for every user without one
 * of their own), "limit user:alice", "limit user:\"default\"" (a user
 * called default). */
static void
limit_name(const json_t *entry, char *out, size_t size)
{
    const char *scope = json_string_value(json_object_get(entry, "scope"));
    const char *subject = json_string_value(json_object_get(entry, "subject"));

    if (strcmp(scope, "tenant") == 0) {
        snprintf(out, size, "limit tenant");
    } else if (subject[0] == '\0') {
        snprintf(out, size, "limit %s:default", scope);
    } else if (strcmp(subject, "default") == 0) {
        snprintf(out, size, "limit %s:\"default\"", scope);
    } else {
        snprintf(out, size, "limit %s:%s", scope, subject);
    }
}

/* --- checking the document ------------------------------------------------- */

static bool
is_member(const char *const *names, const char *name)
{
    for (; *names != NULL; names++) {
        if (strcmp(*names, name) == 0) {
            return true;
        }
    }
    return false;
}

/* Checks one part of the document with a handler's field table; where
 * names the part in the message ("issuers[1]: field 'audience' ..."). */
static bool
check_part(const json_t *part, const struct field_spec *fields, const char *where,
           char *message, size_t size)
{
    char   *text = json_dumps(part, JSON_COMPACT);
    char    reason[512];
    json_t *checked = NULL;

    if (text != NULL) {
        checked = validate_body(text, strlen(text), fields, reason, sizeof(reason));
    } else {
        snprintf(reason, sizeof(reason), "out of memory");
    }
    free(text);
    if (checked == NULL) {
        snprintf(message, size, "%s%s%s", where != NULL ? where : "", where != NULL ? ": " : "",
                 reason);
        return false;
    }
    json_decref(checked);
    return true;
}

/* A section that lists entries: each checked with the handler's table,
 * none named twice. */
static bool
check_list(const json_t *document, const char *section, const struct field_spec *fields,
           name_entry_t name, char *message, size_t size)
{
    const json_t *list = json_object_get(document, section), *entry;
    char          where[64], this_name[NAME_MAX_LENGTH], other_name[NAME_MAX_LENGTH];
    size_t        i, j;

    if (list == NULL) {
        return true;
    }
    if (!json_is_array(list)) {
        snprintf(message, size, "field '%s' must be a list of objects", section);
        return false;
    }
    json_array_foreach(list, i, entry) {
        snprintf(where, sizeof(where), "%s[%zu]", section, i);
        if (!json_is_object(entry)) {
            snprintf(message, size, "%s must be an object", where);
            return false;
        }
        if (!check_part(entry, fields, where, message, size)) {
            return false;
        }
        name(entry, this_name, sizeof(this_name));
        for (j = 0; j < i; j++) {
            name(json_array_get(list, j), other_name, sizeof(other_name));
            if (strcmp(this_name, other_name) == 0) {
                snprintf(message, size, "%s: %.300s is listed twice (also %s[%zu])", where,
                         this_name, section, j);
                return false;
            }
        }
    }
    return true;
}

static bool
check_settings(const json_t *settings, char *message, size_t size)
{
    if (settings == NULL) {
        return true;
    }
    if (!json_is_object(settings)) {
        snprintf(message, size, "field 'settings' must be an object");
        return false;
    }
    if (json_object_get(settings, "name") != NULL || json_object_get(settings, "hosts") != NULL) {
        snprintf(message, size, "settings: name and hosts belong at the top of the document");
        return false;
    }
    return check_part(settings, tenants_update_fields, "settings", message, size);
}

static bool
check_document(const json_t *document, char *message, size_t size)
{
    const char *member;
    json_t     *value, *identity, *hosts;
    bool        good;

    json_object_foreach((json_t *) document, member, value) {
        if (!is_member(document_members, member)) {
            snprintf(message, size, "unknown field '%s': a document has slug, name, hosts, "
                     "settings, issuers, models and limits", member);
            return false;
        }
    }
    identity = json_object();
    json_object_set(identity, "slug", json_object_get(document, "slug"));
    json_object_set(identity, "name", json_object_get(document, "name"));
    good = check_part(identity, tenants_create_fields, NULL, message, size);
    json_decref(identity);
    if (good && json_object_get(document, "hosts") != NULL) {
        hosts = json_pack("{s:O}", "hosts", json_object_get(document, "hosts"));
        good = check_part(hosts, tenants_update_fields, NULL, message, size);
        json_decref(hosts);
    }
    return good
           && check_settings(json_object_get(document, "settings"), message, size)
           && check_list(document, "issuers", issuers_add_fields, issuer_name, message, size)
           && check_list(document, "models", tenant_models_allow_fields, model_name, message,
                         size)
           && check_list(document, "limits", limits_put_fields, limit_name, message, size);
}

/* A limit without a subject is the tenant's own row, or the default row
 * of its scope. */
static void
default_limit_subjects(json_t *document)
{
    json_t *entry;
    size_t  i;

    json_array_foreach(json_object_get(document, "limits"), i, entry) {
        if (json_is_object(entry) && json_object_get(entry, "subject") == NULL) {
            json_object_set_new(entry, "subject", json_string(""));
        }
    }
}

/* The request's document, checked; NULL when it is not fit (400 answered). */
static json_t *
read_document(api_request_t *request, api_response_t *response)
{
    json_t       *document;
    char          message[1024];

    document = validate_json_object(request->body, request->body_length, message,
                                    sizeof(message));
    if (document == NULL) {
        api_error(response, 400, "invalid_request_error", "invalid_body",
                  "a tenant's document: %s", message);
        return NULL;
    }
    default_limit_subjects(document);
    if (!check_document(document, message, sizeof(message))) {
        api_error(response, 400, "invalid_request_error", "invalid_body", "%s", message);
        json_decref(document);
        return NULL;
    }
    return document;
}

/* --- calling the handlers -------------------------------------------------- */

/* The query string of a handler's request: the members of an object. */
static const char *
query_member(void *context, const char *name)
{
    return json_string_value(json_object_get(context, name));
}

/* Runs a handler as the caller, in this request's transaction: with the
 * path parameter param, the JSON body (or none) and the query (an object
 * of strings, or none). */
static void
invoke(apply_t *apply, api_handler_t handler, const char *param, const json_t *body,
       json_t *query, api_response_t *answer)
{
    api_request_t  request = *apply->request;
    char          *text = NULL;
    db_error_t     error;

    memset(answer, 0, sizeof(*answer));
    if (body != NULL && (text = json_dumps(body, JSON_COMPACT)) == NULL) {
        error.sqlstate[0] = '\0';
        snprintf(error.message, sizeof(error.message), "out of memory");
        api_database_error(answer, &error);
        return;
    }
    memset(request.params, 0, sizeof(request.params));
    request.params[0] = param;
    request.body = text;
    request.body_length = text != NULL ? strlen(text) : 0;
    request.query = query_member;
    request.query_context = query;
    handler(&request, answer);
    free(text);
}

/* The apply's answer is a handler's error, its message prefixed with the
 * part of the document that failed. */
static void
refuse(apply_t *apply, const char *part, const api_response_t *answer)
{
    const json_t *error = json_object_get(answer->body, "error");
    const char   *type = json_string_value(json_object_get(error, "type"));
    const char   *code = json_string_value(json_object_get(error, "code"));
    const char   *message = json_string_value(json_object_get(error, "message"));

    /* An answer without an error body is a failure too, and must roll back. */
    api_error(apply->response, answer->status >= 400 ? answer->status : 500,
              type != NULL ? type : "server_error",
              code != NULL ? code : "database_error", "%s: %s", part,
              message != NULL ? message : "failed");
}

/* A handler's answer document, or NULL after it refused (answered). */
static json_t *
call(apply_t *apply, api_handler_t handler, const char *part, const char *param,
     const json_t *body, json_t *query)
{
    api_response_t answer;
    json_t        *document = NULL;

    invoke(apply, handler, param, body, query, &answer);
    if (answer.status < 400 && answer.body != NULL) {
        document = json_incref(answer.body);
        if (answer.after_commit != NULL) {
            apply->after_commit = answer.after_commit;
        }
    } else {
        refuse(apply, part, &answer);
    }
    api_response_clear(&answer);
    return document;
}

/* A handler's "data" list for the tenant, or NULL (answered). */
static json_t *
call_list(apply_t *apply, api_handler_t handler, const char *part)
{
    json_t *answer = call(apply, handler, part, apply->slug, NULL, NULL);
    json_t *data = json_incref(json_object_get(answer, "data"));

    json_decref(answer);
    return data;
}

static void
add_change(apply_t *apply, const char *action, const char *object, const char *field,
           const json_t *before, const json_t *after)
{
    json_array_append_new(apply->changes,
                          json_pack("{s:s,s:s,s:s?,s:O?,s:O?}", "action", action,
                                    "object", object, "field", field,
                                    "before", before, "after", after));
}

/* The entry of list whose name is name, or NULL. */
static json_t *
find_entry(const json_t *list, name_entry_t name_of, const char *name)
{
    char    entry_name[NAME_MAX_LENGTH];
    json_t *entry;
    size_t  i;

    json_array_foreach(list, i, entry) {
        if (!json_is_object(entry)) {
            continue;
        }
        name_of(entry, entry_name, sizeof(entry_name));
        if (strcmp(entry_name, name) == 0) {
            return entry;
        }
    }
    return NULL;
}

/* Gives a document's entry (section[index]) to the handler that adds or
 * changes it; notes it as added when it is new. */
static bool
put_entry(apply_t *apply, api_handler_t handler, const char *section, size_t index,
          const json_t *entry, const char *action, const char *name, bool is_new)
{
    char    part[64];
    json_t *answer;

    snprintf(part, sizeof(part), "%s[%zu]", section, index);
    if ((answer = call(apply, handler, part, apply->slug, entry, NULL)) == NULL) {
        return false;
    }
    json_decref(answer);
    if (is_new) {
        add_change(apply, action, name, NULL, NULL, entry);
    }
    return true;
}

/* --- the tenant -------------------------------------------------------------- */

/* The tenant's document, after creating the tenant when it is new; NULL
 * when that failed (answered). */
static json_t *
tenant_document(apply_t *apply)
{
    api_response_t answer;
    json_t        *document, *identity;
    char           name[NAME_MAX_LENGTH];

    invoke(apply, tenants_show, apply->slug, NULL, NULL, &answer);
    if (answer.status != 404) {
        document = answer.status == 200 ? json_incref(answer.body) : NULL;
        if (document == NULL) {
            refuse(apply, "tenant", &answer);
        }
        api_response_clear(&answer);
        return document;
    }
    api_response_clear(&answer);
    identity = json_pack("{s:s,s:O}", "slug", apply->slug,
                         "name", json_object_get(apply->document, "name"));
    document = call(apply, tenants_create, "tenant", apply->slug, identity, NULL);
    if (document != NULL) {
        apply->created = true;
        snprintf(name, sizeof(name), "tenant %s", apply->slug);
        add_change(apply, "tenant.create", name, NULL, NULL, identity);
    }
    json_decref(identity);
    return document;
}

/* Notes a setting of the tenant that differs from what the document wants
 * in patch, the body of tenants_update. */
static void
compare_setting(apply_t *apply, const json_t *tenant, json_t *patch, const char *field,
                json_t *wanted)
{
    const json_t *current = json_object_get(tenant, field);
    char          name[NAME_MAX_LENGTH];

    if (wanted == NULL || (current != NULL && json_equal(current, wanted))) {
        return;
    }
    snprintf(name, sizeof(name), "tenant %s", apply->slug);
    add_change(apply, "tenant.update", name, field, current, wanted);
    json_object_set(patch, field, wanted);
}

/* The tenant's name, host names and settings. */
static bool
apply_tenant_settings(apply_t *apply)
{
    const json_t *settings = json_object_get(apply->document, "settings");
    const char   *field;
    json_t       *tenant, *patch, *wanted, *answer = NULL;
    bool          restricted_given, good = true;

    tenant = call(apply, tenants_show, "tenant", apply->slug, NULL, NULL);
    if (tenant == NULL) {
        return false;
    }
    patch = json_object();
    compare_setting(apply, tenant, patch, "name", json_object_get(apply->document, "name"));
    compare_setting(apply, tenant, patch, "hosts", json_object_get(apply->document, "hosts"));
    json_object_foreach((json_t *) settings, field, wanted) {
        compare_setting(apply, tenant, patch, field, wanted);
    }
    restricted_given = json_object_get(settings, "models_restricted") != NULL;
    if (!restricted_given && json_object_get(apply->document, "models") != NULL) {
        compare_setting(apply, tenant, patch, "models_restricted", json_true());
    }
    if (json_object_size(patch) > 0) {
        answer = call(apply, tenants_update, "tenant", apply->slug, patch, NULL);
        good = answer != NULL;
    }
    json_decref(tenant);
    json_decref(patch);
    json_decref(answer);
    return good;
}

/* --- issuers ---------------------------------------------------------------- */

/* A JWKS as changes show it: the ids of its keys. */
static json_t *
key_ids(const json_t *jwks)
{
    json_t *ids = json_array(), *key;
    size_t  i;

    json_array_foreach(json_object_get(jwks, "keys"), i, key) {
        const json_t *kid = json_object_get(key, "kid");

        json_array_append_new(ids, json_is_string(kid) ? json_incref((json_t *) kid)
                                                        : json_string("(no kid)"));
    }
    return ids;
}

/* What an issuer of the document would be, member by member as
 * issuer_settings lists them, the defaults of issuers.c filled in. */
static json_t *
wanted_issuer(const json_t *entry)
{
    const char *const *member;
    json_t            *wanted = json_object(), *value;

    for (member = issuer_settings; *member != NULL; member++) {
        value = json_object_get(entry, *member);
        json_object_set(wanted, *member, value != NULL ? value : json_null());
    }
    if (json_object_get(entry, "user_claim") == NULL) {
        json_object_set_new(wanted, "user_claim", json_string(ISSUER_USER_CLAIM_DEFAULT));
    }
    if (json_object_get(entry, "leeway_seconds") == NULL) {
        json_object_set_new(wanted, "leeway_seconds", json_integer(ISSUER_LEEWAY_DEFAULT));
    }
    return wanted;
}

/* The same of a stored issuer (its document, and its keys when it has no
 * jwks_uri); NULL on a database error (answered). */
static json_t *
current_issuer(apply_t *apply, const json_t *document)
{
    const json_t *uri = json_object_get(document, "jwks_uri");
    char          id[24];
    const char   *params[1] = { id };
    json_t       *jwks = NULL, *current;
    db_error_t    error;
    bool          found;

    if (json_is_null(uri)) {
        snprintf(id, sizeof(id), "%lld",
                 (long long) json_integer_value(json_object_get(document, "id")));
        jwks = db_query_json(apply->request->db, inline_keys_sql, 1, params, &found, &error);
        if (jwks == NULL) {
            api_database_error(apply->response, &error);
            return NULL;
        }
    }
    current = json_pack("{s:O?,s:O?,s:o?,s:O?,s:O?,s:O?}",
                        "audience", json_object_get(document, "audience"), "jwks_uri", uri,
                        "jwks", jwks, "user_claim", json_object_get(document, "user_claim"),
                        "groups_claim", json_object_get(document, "groups_claim"),
                        "leeway_seconds", json_object_get(document, "leeway_seconds"));
    return current;
}

/* Notes every member in which a stored issuer differs from the document's;
 * returns how many. */
static int
compare_issuer(apply_t *apply, const char *name, const json_t *current, const json_t *wanted)
{
    const char *const *member;
    json_t            *before, *after;
    int                differences = 0;

    for (member = issuer_settings; *member != NULL; member++) {
        before = json_object_get(current, *member);
        after = json_object_get(wanted, *member);
        if (json_equal(before != NULL ? before : json_null(), after != NULL ? after : json_null())) {
            continue;
        }
        differences++;
        if (strcmp(*member, "jwks") == 0) {
            before = before != NULL && !json_is_null(before) ? key_ids(before) : NULL;
            after = after != NULL && !json_is_null(after) ? key_ids(after) : NULL;
            add_change(apply, "issuer.replace", name, *member, before, after);
            json_decref(before);
            json_decref(after);
        } else {
            add_change(apply, "issuer.replace", name, *member, before, after);
        }
    }
    return differences;
}

/* Adds a document's issuer, or replaces the stored one of the same URL
 * when it differs. */
static bool
apply_issuer(apply_t *apply, const json_t *stored_list, const json_t *entry, size_t index)
{
    char          name[NAME_MAX_LENGTH], part[64], id[24];
    const json_t *stored;
    json_t       *current, *wanted, *answer;
    int           differences;

    issuer_name(entry, name, sizeof(name));
    snprintf(part, sizeof(part), "issuers[%zu]", index);
    stored = find_entry(stored_list, issuer_name, name);
    if (stored != NULL) {
        if ((current = current_issuer(apply, stored)) == NULL) {
            return false;
        }
        wanted = wanted_issuer(entry);
        differences = compare_issuer(apply, name, current, wanted);
        json_decref(current);
        json_decref(wanted);
        if (differences == 0) {
            return true;
        }
        snprintf(id, sizeof(id), "%lld",
                 (long long) json_integer_value(json_object_get(stored, "id")));
        if ((answer = call(apply, issuers_remove, part, id, NULL, NULL)) == NULL) {
            return false;
        }
        json_decref(answer);
    }
    return put_entry(apply, issuers_add, "issuers", index, entry, "issuer.add", name,
                     stored == NULL);
}

/* --- models ----------------------------------------------------------------- */

/* The dedicated pool of an allow-list entry (its document), or NULL. */
static const json_t *
dedicated_pool(const json_t *allowed)
{
    return json_is_true(json_object_get(allowed, "dedicated_pool"))
           ? json_object_get(allowed, "pool") : NULL;
}

static bool
apply_model(apply_t *apply, const json_t *allowed_list, const json_t *entry, size_t index)
{
    char          name[NAME_MAX_LENGTH];
    const json_t *allowed, *pool = json_object_get(entry, "pool"), *current;

    if (json_is_null(pool)) {
        pool = NULL;
    }
    model_name(entry, name, sizeof(name));
    allowed = find_entry(allowed_list, model_name, name);
    current = allowed != NULL ? dedicated_pool(allowed) : NULL;
    if (allowed != NULL && (current == NULL ? pool == NULL
                                            : pool != NULL && json_equal(current, pool)))
    {
        return true;
    }
    if (allowed != NULL) {
        add_change(apply, "tenant.model.allow", name, "pool", current, pool);
    }
    return put_entry(apply, tenant_models_allow, "models", index, entry, "tenant.model.allow",
                     name, allowed == NULL);
}

/* --- limits ------------------------------------------------------------------ */

/* A document's limit as a whole row: every kind, null where it is left
 * out. */
static json_t *
limit_row(const json_t *entry)
{
    json_t *row = json_pack("{s:O,s:O}", "scope", json_object_get(entry, "scope"),
                            "subject", json_object_get(entry, "subject"));
    size_t  i;

    for (i = 0; limit_kinds[i] != NULL; i++) {
        const json_t *value = json_object_get(entry, limit_kinds[i]);

        json_object_set_new(row, limit_kinds[i], value != NULL ? json_incref((json_t *) value)
                                                               : json_null());
    }
    return row;
}

static bool
limits_nothing(const json_t *row)
{
    size_t i;

    for (i = 0; limit_kinds[i] != NULL; i++) {
        if (!json_is_null(json_object_get(row, limit_kinds[i]))) {
            return false;
        }
    }
    return true;
}

static bool
apply_limit(apply_t *apply, const json_t *stored_list, const json_t *row, size_t index)
{
    char          name[NAME_MAX_LENGTH];
    const json_t *stored;
    size_t        i;
    int           differences = 0;

    limit_name(row, name, sizeof(name));
    stored = find_entry(stored_list, limit_name, name);
    for (i = 0; stored != NULL && limit_kinds[i] != NULL; i++) {
        const json_t *before = json_object_get(stored, limit_kinds[i]);
        const json_t *after = json_object_get(row, limit_kinds[i]);

        if (!json_equal(before, after)) {
            add_change(apply, "tenant.limit.set", name, limit_kinds[i], before, after);
            differences++;
        }
    }
    if (stored != NULL && differences == 0) {
        return true;
    }
    return put_entry(apply, limits_set, "limits", index, row, "tenant.limit.set", name,
                     stored == NULL);
}

/* The document's limits as whole rows; a row without any limit is no
 * row (null: a stored one is removed). */
static json_t *
wanted_limits(const json_t *section)
{
    json_t *wanted = json_array(), *entry, *row;
    size_t  i;

    json_array_foreach(section, i, entry) {
        row = limit_row(entry);
        json_array_append(wanted, limits_nothing(row) ? json_null() : row);
        json_decref(row);
    }
    return wanted;
}

/* --- the sections --------------------------------------------------------------- */

/* A section of the document that lists entries: the handlers that list the
 * tenant's, add or change one, and remove one. */
typedef struct section {
    const char         *name;
    api_handler_t       list;
    name_entry_t        name_of;
    /* The entries the document wants (a new reference; null for one that
     * is none), or NULL: the section as given. */
    json_t           *(*wanted)(const json_t *section);
    bool              (*put)(apply_t *apply, const json_t *stored, const json_t *entry,
                             size_t index);
    api_handler_t       remove;
    const char         *remove_action;
    const char         *remove_param;   /* member of a stored entry that is the path
                                         * parameter of remove; NULL: the slug */
    const char *const  *remove_query;   /* members of a stored entry in its query */
} section_t;

/* Removes the tenant's entries that the document does not name, one call
 * of the section's remove each. */
static bool
remove_missing(apply_t *apply, const section_t *section, const json_t *stored,
               const json_t *wanted)
{
    char        name[NAME_MAX_LENGTH], part[NAME_MAX_LENGTH + 16], id[24];
    const char *param = apply->slug;
    json_t     *entry, *query, *answer;
    size_t      i, k;

    json_array_foreach(stored, i, entry) {
        section->name_of(entry, name, sizeof(name));
        if (find_entry(wanted, section->name_of, name) != NULL) {
            continue;
        }
        if (section->remove_param != NULL) {
            snprintf(id, sizeof(id), "%lld", (long long) json_integer_value(
                         json_object_get(entry, section->remove_param)));
            param = id;
        }
        query = json_object();
        for (k = 0; section->remove_query != NULL && section->remove_query[k] != NULL; k++) {
            json_object_set(query, section->remove_query[k],
                            json_object_get(entry, section->remove_query[k]));
        }
        snprintf(part, sizeof(part), "removing %s", name);
        answer = call(apply, section->remove, part, param, NULL, query);
        json_decref(query);
        if (answer == NULL) {
            return false;
        }
        json_decref(answer);
        add_change(apply, section->remove_action, name, NULL, entry, NULL);
    }
    return true;
}

static bool
apply_section(apply_t *apply, const section_t *section)
{
    const json_t *given = json_object_get(apply->document, section->name);
    json_t       *stored, *wanted, *entry;
    size_t        i;
    bool          good;

    if (given == NULL) {
        return true;
    }
    if ((stored = call_list(apply, section->list, section->name)) == NULL) {
        return false;
    }
    wanted = section->wanted != NULL ? section->wanted(given) : json_incref((json_t *) given);
    good = remove_missing(apply, section, stored, wanted);
    json_array_foreach(wanted, i, entry) {
        good = good && (json_is_null(entry) || section->put(apply, stored, entry, i));
    }
    json_decref(wanted);
    json_decref(stored);
    return good;
}

static const char *const alias_query[] = { "alias", NULL };
static const char *const limit_query[] = { "scope", "subject", NULL };

/* In the order they are applied. */
static const section_t sections[] = {
    { "issuers", issuers_list, issuer_name, NULL, apply_issuer, issuers_remove,
      "issuer.remove", "id", NULL },
    { "models", tenant_models_list, model_name, NULL, apply_model, tenant_models_remove,
      "tenant.model.remove", NULL, alias_query },
    { "limits", limits_list, limit_name, wanted_limits, apply_limit, limits_clear,
      "tenant.limit.clear", NULL, limit_query },
};

#define SECTION_COUNT (sizeof(sections) / sizeof(sections[0]))

/* --- the request --------------------------------------------------------------- */

/* dry_run: absent or false, or true; else false with 400 answered. */
static bool
read_dry_run(api_request_t *request, api_response_t *response, bool *dry_run)
{
    const char *value = api_query(request, "dry_run");

    *dry_run = value != NULL && strcmp(value, "true") == 0;
    if (value == NULL || *dry_run || strcmp(value, "false") == 0) {
        return true;
    }
    api_error(response, 400, "invalid_request_error", "invalid_parameter",
              "parameter 'dry_run' must be true or false");
    return false;
}

static bool
apply_document(apply_t *apply)
{
    json_t *tenant = tenant_document(apply);
    bool    good = tenant != NULL;
    size_t  i;

    json_decref(tenant);
    for (i = 0; i < SECTION_COUNT && good; i++) {
        good = apply_section(apply, &sections[i]);
    }
    return good && apply_tenant_settings(apply);
}

static const char lock_tenant_sql[] = "SELECT 1 FROM tenants WHERE slug = $1 FOR UPDATE";

void
tenant_apply(api_request_t *request, api_response_t *response)
{
    apply_t    apply = { .request = request, .response = response };
    db_error_t error;
    bool       dry_run;

    if (!read_dry_run(request, response, &dry_run)
        || (apply.document = read_document(request, response)) == NULL)
    {
        return;
    }
    apply.slug = json_string_value(json_object_get(apply.document, "slug"));
    apply.changes = json_array();
    /* The tenant's row first, as the single handlers lock it before the
     * audit chain's head: the other order could deadlock with them. */
    if (api_begin(request, &error) != 0
        || db_exec(request->db, lock_tenant_sql, 1, &apply.slug, &error) != 0)
    {
        api_database_error(response, &error);
    } else if (apply_document(&apply)) {
        if (dry_run) {
            api_rollback(request);
        }
        if (api_commit(request, &error) != 0) {
            api_database_error(response, &error);
        } else {
            api_ok(response, 200, json_pack("{s:s,s:b,s:b,s:O}", "tenant", apply.slug,
                                            "dry_run", dry_run, "created", apply.created,
                                            "changes", apply.changes));
            response->after_commit = dry_run ? NULL : apply.after_commit;
        }
    }
    json_decref(apply.changes);
    json_decref(apply.document);
}
