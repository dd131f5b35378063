#include "validate.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sbuf.h"

/* Locale-independent on purpose: isalpha() would accept 'ä' in some locales. */
static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alnum(char c) { return is_lower(c) || is_digit(c) || (c >= 'A' && c <= 'Z'); }

int validate_text(const char *label, const char *value, struct ctl_error *err)
{
    if (value[0] != '\0')
        return 0;
    return ctl_fail(err, CTL_EXIT_USAGE, "invalid %s: must not be empty", label);
}

int validate_slug(const char *label, const char *value, struct ctl_error *err)
{
    size_t n = strlen(value), i;
    bool ok = n >= 2 && n <= 32 && is_lower(value[0]);

    for (i = 1; ok && i < n; i++)
        ok = is_lower(value[i]) || is_digit(value[i]) || value[i] == '-';
    if (ok)
        return 0;
    return ctl_fail(err, CTL_EXIT_USAGE,
                    "invalid %s '%s': must match " SLUG_RULE
                    " (a lowercase letter, then 1-31 lowercase letters, digits or '-')",
                    label, value);
}

int validate_key_id(const char *label, const char *value, struct ctl_error *err)
{
    size_t n = strlen(value), i;
    bool ok = n >= 1 && n <= 64;

    /* A secret pasted here would end up in tenantd's access log; refuse it
     * without echoing it. */
    if (strncmp(value, "lmk_", 4) == 0)
        return ctl_fail(err, CTL_EXIT_USAGE,
                        "%s looks like a secret API key (lmk_...), not a key id; "
                        "use the id (key_...) shown by 'llmoinctl key list'",
                        label);
    /* Letters, digits, '_' and '-' only: no '/', '.' or '%' that could
     * change which endpoint the path names. */
    for (i = 0; ok && i < n; i++)
        ok = is_alnum(value[i]) || value[i] == '_' || value[i] == '-';
    if (ok)
        return 0;
    return ctl_fail(err, CTL_EXIT_USAGE,
                    "invalid %s '%s': expected a key id like key_0123456789abcdef "
                    "(letters, digits, '_' and '-', at most 64)",
                    label, value);
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    return days[m - 1] + (m == 2 && is_leap(y));
}

static int digits(const char *s, size_t n)
{
    int v = 0;

    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static bool date_shape(const char *v)
{
    if (strlen(v) != 10 || v[4] != '-' || v[7] != '-')
        return false;
    for (size_t i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !is_digit(v[i]))
            return false;
    return true;
}

/* The years tenantd's reports take (usage_report.c). */
#define YEAR_MIN 2000
#define YEAR_MAX 2999

static int check_year(const char *label, const char *value, int year, struct ctl_error *err)
{
    if (year >= YEAR_MIN && year <= YEAR_MAX)
        return 0;
    return ctl_fail(err, CTL_EXIT_USAGE, "invalid %s '%s': the year must be from %d to %d",
                    label, value, YEAR_MIN, YEAR_MAX);
}

/* The calendar part of value (its first 10 bytes, shaped YYYY-MM-DD). */
static int check_calendar_day(const char *label, const char *value, struct ctl_error *err)
{
    int y = digits(value, 4), m = digits(value + 5, 2), d = digits(value + 8, 2);

    if (check_year(label, value, y, err))
        return CTL_EXIT_USAGE;
    if (m < 1 || m > 12)
        return ctl_fail(err, CTL_EXIT_USAGE, "invalid %s '%s': there is no month %02d",
                        label, value, m);
    if (d < 1 || d > days_in_month(y, m))
        return ctl_fail(err, CTL_EXIT_USAGE,
                        "invalid %s '%s': day %02d does not exist in %.7s (it has %d days)",
                        label, value, d, value, days_in_month(y, m));
    return 0;
}

int validate_date(const char *label, const char *value, struct ctl_error *err)
{
    if (!date_shape(value))
        return ctl_fail(err, CTL_EXIT_USAGE, "invalid %s '%s': expected a date as YYYY-MM-DD",
                        label, value);
    return check_calendar_day(label, value, err);
}

/* Digits at the positions marked '9' in shape, the other bytes as given. */
static bool shaped(const char *value, const char *shape)
{
    for (; *shape; shape++, value++)
        if (*shape == '9' ? !is_digit(*value) : *value != *shape)
            return false;
    return true;
}

int validate_time(const char *label, const char *value, struct ctl_error *err)
{
    size_t n = strlen(value);
    const char *zone = value + 16;
    bool seconds = n > 16 && value[16] == ':';

    if (seconds)
        zone += 3;
    if (n < 17 || !shaped(value, "9999-99-99T99:99") || (seconds && !shaped(value + 16, ":99")) ||
        !(strcmp(zone, "Z") == 0 || ((zone[0] == '+' || zone[0] == '-') && strlen(zone) == 6 &&
                                     shaped(zone + 1, "99:99"))))
        return ctl_fail(err, CTL_EXIT_USAGE,
                        "invalid %s '%s': expected an RFC 3339 time such as "
                        "2027-02-27T12:00:00Z or 2027-02-27T12:00:00+01:00",
                        label, value);
    if (check_calendar_day(label, value, err))
        return CTL_EXIT_USAGE;
    if (digits(value + 11, 2) > 23)
        return ctl_fail(err, CTL_EXIT_USAGE, "invalid %s '%s': there is no hour %.2s", label,
                        value, value + 11);
    if (digits(value + 14, 2) > 59)
        return ctl_fail(err, CTL_EXIT_USAGE, "invalid %s '%s': there is no minute %.2s", label,
                        value, value + 14);
    if (seconds && digits(value + 17, 2) > 59)
        return ctl_fail(err, CTL_EXIT_USAGE, "invalid %s '%s': there is no second %.2s", label,
                        value, value + 17);
    if (zone[0] != 'Z' && (digits(zone + 1, 2) > 23 || digits(zone + 4, 2) > 59))
        return ctl_fail(err, CTL_EXIT_USAGE, "invalid %s '%s': there is no UTC offset %s", label,
                        value, zone);
    return 0;
}

int validate_month(const char *label, const char *value, struct ctl_error *err)
{
    int m;

    if (strlen(value) != 7 || !shaped(value, "9999-99"))
        return ctl_fail(err, CTL_EXIT_USAGE, "invalid %s '%s': expected a month as YYYY-MM",
                        label, value);
    if (check_year(label, value, digits(value, 4), err))
        return CTL_EXIT_USAGE;
    m = digits(value + 5, 2);
    if (m < 1 || m > 12)
        return ctl_fail(err, CTL_EXIT_USAGE, "invalid %s '%s': there is no month %02d",
                        label, value, m);
    return 0;
}

int validate_date_range(const char *from, const char *to, struct ctl_error *err)
{
    /* YYYY-MM-DD sorts like the dates it names. */
    if (!from || !to || strcmp(from, to) <= 0)
        return 0;
    return ctl_fail(err, CTL_EXIT_USAGE, "--from %s is after --to %s", from, to);
}

int validate_choice(const char *label, const char *value, const char *const *choices,
                    struct ctl_error *err)
{
    struct sbuf list = SBUF_INIT;
    size_t i;

    for (i = 0; choices[i]; i++)
        if (strcmp(value, choices[i]) == 0)
            return 0;
    for (i = 0; choices[i]; i++)
        sbuf_addf(&list, "%s%s", i == 0 ? "" : choices[i + 1] ? ", " : " or ", choices[i]);
    ctl_fail(err, CTL_EXIT_USAGE, "invalid %s '%s'; expected %s", label, value, sbuf_str(&list));
    sbuf_free(&list);
    return CTL_EXIT_USAGE;
}

/* What is wrong with a part between dots of a host name (RFC 1123: 1 to 63
 * characters, no '-' at either end), or NULL. */
static const char *host_label_problem(const char *value)
{
    const char *label = value, *dot;
    size_t n;

    for (;; label = dot + 1) {
        dot = strchr(label, '.');
        n = dot ? (size_t)(dot - label) : strlen(label);
        if (n == 0)
            return "a part between dots is empty";
        if (n > 63)
            return "a part between dots is longer than 63 characters";
        if (label[0] == '-' || label[n - 1] == '-')
            return "a part between dots starts or ends with '-'";
        if (!dot)
            return NULL;
    }
}

int validate_host(const char *label, const char *value, struct ctl_error *err)
{
    size_t n = strlen(value), i;
    bool ok = n >= 1 && n <= 253;
    const char *problem;

    for (i = 0; ok && i < n; i++)
        ok = is_lower(value[i]) || is_digit(value[i]) ||
             ((value[i] == '.' || value[i] == '-') && i > 0 && i + 1 < n);
    if (!ok)
        return ctl_fail(err, CTL_EXIT_USAGE,
                        "invalid %s '%s': expected a host name in lowercase such as "
                        "llmoin.hamburg.de (a-z, 0-9, '.' and '-' inside, at most 253)",
                        label, value);
    if ((problem = host_label_problem(value)))
        return ctl_fail(err, CTL_EXIT_USAGE, "invalid %s '%s': %s", label, value, problem);
    return 0;
}

/* No blank and no control character from here to the end. */
static bool printable_tail(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == '\x7f')
            return false;
    return true;
}

static size_t characters(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

#define URL_MAX 500

int validate_url(const char *label, const char *value, struct ctl_error *err)
{
    static const char *const local_hosts[] = { "http://127.0.0.1", "http://localhost", NULL };
    bool ok = strncmp(value, "https://", 8) == 0 && value[8] && printable_tail(value + 8);

    for (size_t i = 0; !ok && local_hosts[i]; i++) {
        const char *p = value + strlen(local_hosts[i]);

        if (strncmp(value, local_hosts[i], strlen(local_hosts[i])) != 0)
            continue;
        if (*p == ':' && is_digit(p[1]))
            for (p++; is_digit(*p); p++)
                ;
        ok = *p == '\0' || (*p == '/' && printable_tail(p));
    }
    if (!ok)
        return ctl_fail(err, CTL_EXIT_USAGE,
                        "invalid %s '%s': expected an https URL such as "
                        "https://login.example.de/realms/llmoin, without blanks "
                        "(http only for 127.0.0.1 or localhost)",
                        label, value);
    if (characters(value) > URL_MAX)
        return ctl_fail(err, CTL_EXIT_USAGE, "invalid %s: the URL is %zu characters long; "
                        "tenantd allows at most %d", label, characters(value), URL_MAX);
    return 0;
}

int validate_issuer_id(const char *label, const char *value, struct ctl_error *err)
{
    size_t n = strlen(value), i;
    bool ok = n >= 1 && n <= 18 && value[0] != '0';

    for (i = 0; ok && i < n; i++)
        ok = is_digit(value[i]);
    if (ok)
        return 0;
    return ctl_fail(err, CTL_EXIT_USAGE,
                    "invalid %s '%s': expected an issuer's number as shown by "
                    "'llmoinctl issuer list', e.g. 3",
                    label, value);
}

int validate_socket_path(const char *label, const char *value, struct ctl_error *err)
{
    size_t n = strlen(value);

    if (n == 0)
        return ctl_fail(err, CTL_EXIT_USAGE, "invalid %s: must not be empty", label);
    if (n > SOCKET_PATH_MAX)
        return ctl_fail(err, CTL_EXIT_USAGE,
                        "invalid %s: the path is %zu bytes long; unix sockets allow at most %d",
                        label, n, SOCKET_PATH_MAX);
    return 0;
}
