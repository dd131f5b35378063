/*
 * The command table: the single source of truth for parsing, validation,
 * requests, --help, `llmoinctl completion bash` and docs/cli.md. Adding a
 * command is adding one row to ctl_commands[] in commands.c.
 */
#ifndef LLMOINCTL_COMMANDS_H
#define LLMOINCTL_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ctl.h"
#include "output.h"

#define CTL_DEFAULT_SOCKET "/run/llmoin/tenantd.sock"

enum { CTL_MAX_ARGS = 3, CTL_MAX_OPTS = 12, CTL_MAX_RULES = 2, CTL_MAX_EXAMPLE = 12 };

/* How a value is checked (and completed in bash), and what JSON it becomes
 * in a request body (values.c): a string unless said otherwise. */
enum ctl_kind {
    KIND_TEXT,      /* any non-empty text */
    KIND_SLUG,      /* tenant slug, SLUG_RULE */
    KIND_KEY_ID,    /* API key id: key_... */
    KIND_DATE,      /* YYYY-MM-DD, a real calendar day */
    KIND_MONTH,     /* YYYY-MM, a calendar month */
    KIND_CHOICE,    /* one of .choices; sent as .json_values[i] when given */
    KIND_SOCKET,    /* unix socket path (completes file names) */
    KIND_FLAG,      /* option without a value; in a body it sends .json_values[0] */
    KIND_HOST,      /* lowercase host name, HOST_RULE */
    KIND_URL,       /* https URL (http only for 127.0.0.1 or localhost) */
    KIND_ISSUER_ID, /* an issuer's numeric id */
    KIND_LIST,      /* comma-separated entries of kind .item -> JSON array of strings */
    KIND_JSON_FILE, /* file (or - for stdin) holding a JSON object -> that object,
                     * read when the request is built; completes file names */
    KIND_EXPIRY,    /* Nd, Nh or Nm from now -> RFC 3339 UTC time; a date or an
                     * RFC 3339 time is sent as given */
    KIND_SECONDS,   /* N, Ns, Nm or Nh -> integer seconds in .min...max */
    KIND_NUMBER,    /* a whole number in .min...max -> that integer */
    KIND_LIMIT,     /* a whole number in 0...max -> that integer, or "none" -> null */
};

/* Where a value goes in the request to tenantd. */
enum ctl_dest {
    DEST_NONE,   /* used by llmoinctl itself */
    DEST_PATH,   /* replaces {NAME} in the command's path */
    DEST_QUERY,  /* ?field=value */
    DEST_BODY,   /* "field": value in the JSON body */
    DEST_METHOD, /* flags only: the request's method is .field instead */
};

/* A positional argument (name "SLUG") or an option (name "--user"). */
struct ctl_param {
    const char *name;
    const char *metavar; /* options: value placeholder in help ("USER");
                          * NULL for choices, which show "a|b|c" */
    enum ctl_kind kind;
    const char *const *choices; /* KIND_CHOICE: NULL-terminated */
    const char *help;
    const char *def;    /* default value, or NULL */
    bool required;      /* options only; positionals are required unless .optional */
    bool optional;      /* positionals: the last one may be left out */
    enum ctl_dest dest;
    const char *field;  /* body field or query parameter; DEST_METHOD: the method */
    enum ctl_kind item; /* KIND_LIST: the kind of each entry */
    /* JSON text sent instead of the value: KIND_CHOICE one per choice (in the
     * same order), KIND_FLAG one; NULL sends a choice as a string. */
    const char *const *json_values;
    long long min, max; /* KIND_SECONDS, KIND_NUMBER: the allowed range; KIND_LIMIT: max */
    /* Name/value pairs (NULL-terminated; strings) this option sends along,
     * to the same place as its value: --user U sends "scope": "user" too.
     * A flag with .also and no .field sends only these. */
    const char *const *also;
};

/* Relations between a command's options, checked after every value passed
 * and shown in the synopsis and help. */
enum ctl_rule_kind {
    RULE_NONE,
    RULE_EXACTLY_ONE, /* synopsis (a | b) */
    RULE_AT_MOST_ONE, /* synopsis [a | b] */
    RULE_AT_LEAST_ONE,
};

struct ctl_rule {
    enum ctl_rule_kind kind;
    const char *options[CTL_MAX_OPTS]; /* option names, up to the first NULL */
};

struct ctl_command;
struct ctl_invocation;

/* What a handler needs besides the parsed command line. */
struct ctl_context {
    FILE *out;
    const char *socket;
    enum ctl_format format;
};

typedef int (*ctl_handler)(const struct ctl_invocation *inv, const struct ctl_context *ctx,
                           struct ctl_error *err);

struct ctl_command {
    const char *words;       /* "tenant create"; never a prefix of another row */
    ctl_handler handler;     /* cmd_api for everything that calls tenantd */
    const char *summary;     /* one line for --help lists */
    const char *description; /* extra paragraph for `COMMAND --help` and docs, or NULL */
    const char *method;      /* HTTP method, NULL for local commands */
    const char *path;        /* "/admin/v1/tenants/{SLUG}/keys" */
    enum ctl_view view;
    struct ctl_param args[CTL_MAX_ARGS];    /* up to the first .name == NULL */
    struct ctl_param options[CTL_MAX_OPTS]; /* likewise */
    struct ctl_rule rules[CTL_MAX_RULES]; /* up to the first RULE_NONE */
    /* Checks across values (e.g. --from before --to), after each value passed. */
    int (*check)(const struct ctl_invocation *inv, struct ctl_error *err);
    bool hidden;                         /* left out of --help and completion */
    const char *example[CTL_MAX_EXAMPLE]; /* argv after "llmoinctl"; must parse */
    const char *example_response;         /* canned answer, rendered in docs */
    /* Name/value pairs (NULL-terminated; strings) sent unless a given option
     * sends that name (see ctl_param.also): in the body, or in the query of
     * a GET or DELETE. E.g. "scope": "tenant" when no subject is given. */
    const char *const *preset;
};

enum ctl_global { GLOBAL_SOCKET, GLOBAL_OUTPUT, GLOBAL_HELP, GLOBAL_VERSION, CTL_GLOBAL_COUNT };

/* The parsed command line. Values point into argv. */
struct ctl_invocation {
    const struct ctl_command *cmd; /* NULL: no (complete) command given */
    char words[64];                /* command words seen, e.g. "tenant" */
    bool unknown_command;
    size_t nargs;
    const char *args[CTL_MAX_ARGS];
    const char *opts[CTL_MAX_OPTS];         /* parallel to cmd->options */
    const char *globals[CTL_GLOBAL_COUNT];  /* parallel to ctl_globals */
};

struct ctl_exit_doc {
    int code;
    const char *meaning;
};

extern const struct ctl_command ctl_commands[]; /* ends with .words == NULL */
extern const struct ctl_param ctl_globals[CTL_GLOBAL_COUNT];
extern const struct ctl_exit_doc ctl_exit_codes[]; /* ends with .meaning == NULL */

size_t command_nargs(const struct ctl_command *cmd);
size_t command_nopts(const struct ctl_command *cmd);
size_t command_nrules(const struct ctl_command *cmd);
size_t rule_noptions(const struct ctl_rule *rule);
/* The option of cmd called name, or NULL. */
const struct ctl_param *command_option(const struct ctl_command *cmd, const char *name);
/* The rule (RULE_EXACTLY_ONE or RULE_AT_MOST_ONE) that groups option `name`
 * in the synopsis, or NULL. */
const struct ctl_rule *command_option_group(const struct ctl_command *cmd, const char *name);
const struct ctl_command *command_find(const char *words);
/* True if words are the leading words of some command ("tenant"). */
bool command_is_group(const char *words);
/* Whether the row's request carries a JSON body (not GET or DELETE). */
bool command_has_body(const struct ctl_command *cmd);
/* Whether p sends `name` (as its .field or in its .also). */
bool param_sends(const struct ctl_param *p, const char *name);
/* The value given for option `name` (or its default), or NULL. */
const char *inv_option(const struct ctl_invocation *inv, const char *name);

#endif
