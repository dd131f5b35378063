#include "completion.h"

#include <string.h>

#include "commands.h"
#include "sbuf.h"

/* Adds word[0..len) to a space-separated list unless it is already there. */
static void add_unique(struct sbuf *list, const char *word, size_t len)
{
    const char *p = sbuf_str(list);

    while (*p) {
        size_t n = strcspn(p, " ");

        if (n == len && strncmp(p, word, len) == 0)
            return;
        p += n + (p[n] == ' ');
    }
    if (list->len)
        sbuf_addc(list, ' ');
    sbuf_addn(list, word, len);
}

static void add_param_name(struct sbuf *list, const struct ctl_param *p, bool valued_only)
{
    if (!valued_only || p->kind != KIND_FLAG)
        add_unique(list, p->name, strlen(p->name));
}

/* All options (or only those taking a value) of every visible command. */
static void option_names(struct sbuf *list, bool globals, bool valued_only)
{
    for (size_t k = 0; globals && k < CTL_GLOBAL_COUNT; k++)
        add_param_name(list, &ctl_globals[k], valued_only);
    for (const struct ctl_command *c = ctl_commands; !globals && c->words; c++)
        for (size_t k = 0; !c->hidden && k < command_nopts(c); k++)
            add_param_name(list, &c->options[k], valued_only);
}

static void choices(struct sbuf *sb, const struct ctl_param *p)
{
    for (size_t i = 0; p->choices && p->choices[i]; i++)
        sbuf_addf(sb, "%s%s", i ? " " : "", p->choices[i]);
}

/* A branch of "case "${ws[*]} |$opt" in" for an option whose values can be
 * completed: globals anywhere, a command's own options after its words (the
 * same name may take other values in another command). */
static void value_branch(struct sbuf *sb, const char *words, const struct ctl_param *p)
{
    if (p->kind != KIND_CHOICE && p->kind != KIND_SOCKET && p->kind != KIND_JSON_FILE)
        return;
    if (words)
        sbuf_addf(sb, "        \"%s \"*\"|%s\") COMPREPLY=($(compgen ", words, p->name);
    else
        sbuf_addf(sb, "        *\"|%s\") COMPREPLY=($(compgen ", p->name);
    if (p->kind != KIND_CHOICE) {
        sbuf_add(sb, "-f");
    } else {
        sbuf_add(sb, "-W \"");
        choices(sb, p);
        sbuf_addc(sb, '"');
    }
    sbuf_add(sb, " -- \"$cur\")) ;;\n");
}

static void value_branches(struct sbuf *sb)
{
    for (const struct ctl_command *c = ctl_commands; c->words; c++)
        for (size_t k = 0; !c->hidden && k < command_nopts(c); k++)
            value_branch(sb, c->words, &c->options[k]);
    for (size_t k = 0; k < CTL_GLOBAL_COUNT; k++)
        value_branch(sb, NULL, &ctl_globals[k]);
}

/* A complete command: how many words it has, its options, and for each
 * positional argument its choices ("" when free text). */
static void command_branch(struct sbuf *sb, const struct ctl_command *c)
{
    size_t nwords = 1;

    for (const char *p = c->words; *p; p++)
        nwords += *p == ' ';
    sbuf_addf(sb, "        \"%s\"|\"%s \"*) cmd_words=%zu; opts=\"", c->words, c->words, nwords);
    for (size_t k = 0; k < command_nopts(c); k++)
        sbuf_addf(sb, "%s%s", k ? " " : "", c->options[k].name);
    sbuf_add(sb, "\"; pos=(");
    for (size_t k = 0; k < command_nargs(c); k++) {
        sbuf_add(sb, k ? " \"" : "\"");
        choices(sb, &c->args[k]);
        sbuf_addc(sb, '"');
    }
    sbuf_add(sb, ") ;;\n");
}

/* The words that may follow `prefix` ("" = the first word). */
static void group_branch(struct sbuf *sb, const char *prefix)
{
    struct sbuf next = SBUF_INIT;
    size_t n = strlen(prefix);

    for (const struct ctl_command *c = ctl_commands; c->words; c++) {
        const char *rest = c->words;

        if (c->hidden)
            continue;
        if (n) {
            if (strncmp(c->words, prefix, n) != 0 || c->words[n] != ' ')
                continue;
            rest = c->words + n + 1;
        }
        add_unique(&next, rest, strcspn(rest, " "));
    }
    sbuf_addf(sb, "        \"%s\") subs=\"%s\" ;;\n", prefix, sbuf_str(&next));
    sb->failed |= next.failed;
    sbuf_free(&next);
}

/* One branch per distinct group prefix, in table order. */
static void group_branches(struct sbuf *sb)
{
    struct sbuf done = SBUF_INIT; /* "\nprefix\n" entries: prefixes contain spaces */
    char prefix[128], key[132];

    group_branch(sb, "");
    for (const struct ctl_command *c = ctl_commands; c->words; c++) {
        for (const char *sp = strchr(c->words, ' '); !c->hidden && sp; sp = strchr(sp + 1, ' ')) {
            int n = snprintf(prefix, sizeof prefix, "%.*s", (int)(sp - c->words), c->words);

            snprintf(key, sizeof key, "\n%s\n", prefix);
            if (n < 0 || (size_t)n >= sizeof prefix || strstr(sbuf_str(&done), key))
                continue;
            sbuf_addf(&done, "\n%s\n", prefix);
            group_branch(sb, prefix);
        }
    }
    sb->failed |= done.failed;
    sbuf_free(&done);
}

static void script_head(struct sbuf *sb)
{
    struct sbuf valopts = SBUF_INIT, globals = SBUF_INIT;

    option_names(&valopts, true, true);
    option_names(&valopts, false, true);
    option_names(&globals, true, false);
    sbuf_addf(sb,
              "# bash completion for llmoinctl, generated by 'llmoinctl completion bash'.\n"
              "# Load with: source <(llmoinctl completion bash)\n"
              "_llmoinctl()\n"
              "{\n"
              "    local valopts=\" %s \" globals=\"%s\"\n"
              "    local cur=${COMP_WORDS[COMP_CWORD]} i w opt= skip=0\n"
              "    local -a ws=()\n"
              "    # The words typed so far that are neither options nor their values.\n"
              "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
              "        w=${COMP_WORDS[i]}\n"
              "        if ((skip)); then\n"
              "            [[ $w == = ]] || skip=0 # bash splits --opt=value at '='\n"
              "            continue\n"
              "        fi\n"
              "        case $w in\n"
              "        -*) [[ $valopts == *\" $w \"* ]] && skip=1 && opt=$w ;;\n"
              "        *) ws+=(\"$w\") ;;\n"
              "        esac\n"
              "    done\n"
              "    [[ $cur == = ]] && cur=\n"
              "    if ((skip)); then\n"
              "        case \"${ws[*]} |$opt\" in\n",
              sbuf_str(&valopts), sbuf_str(&globals));
    sb->failed |= valopts.failed || globals.failed;
    sbuf_free(&valopts);
    sbuf_free(&globals);
}

static const char script_middle[] =
    "        esac\n"
    "        return 0\n"
    "    fi\n"
    "    local line=\"${ws[*]}\" cmd_words=0 opts= subs=\n"
    "    local -a pos=()\n"
    "    case $line in\n";

static const char script_tail[] =
    "        *) return 0 ;;\n"
    "    esac\n"
    "    if [[ $cur == -* ]]; then\n"
    "        COMPREPLY=($(compgen -W \"$opts $globals\" -- \"$cur\"))\n"
    "    elif ((cmd_words)); then\n"
    "        COMPREPLY=($(compgen -W \"${pos[${#ws[@]} - cmd_words]-}\" -- \"$cur\"))\n"
    "    else\n"
    "        COMPREPLY=($(compgen -W \"$subs\" -- \"$cur\"))\n"
    "    fi\n"
    "    return 0\n"
    "}\n"
    "complete -F _llmoinctl llmoinctl\n";

int completion_bash(FILE *out, struct ctl_error *err)
{
    struct sbuf sb = SBUF_INIT;

    script_head(&sb);
    value_branches(&sb);
    sbuf_add(&sb, script_middle);
    /* Complete commands before groups: "tenant" must not catch "tenant list". */
    for (const struct ctl_command *c = ctl_commands; c->words; c++)
        if (!c->hidden)
            command_branch(&sb, c);
    group_branches(&sb);
    sbuf_add(&sb, script_tail);
    if (sb.failed) {
        sbuf_free(&sb);
        return ctl_fail(err, CTL_EXIT_API, "out of memory");
    }
    fputs(sb.data, out);
    sbuf_free(&sb);
    return 0;
}
