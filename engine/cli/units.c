/* SPDX-License-Identifier: Apache-2.0
 *
 * Docker's human units and time values (see units.h).
 */
#include "engine/cli/units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/error.h"

char *
cli_human_size(double bytes)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    size_t i = 0;
    while (bytes >= 1000 && i + 1 < sizeof(units) / sizeof(units[0])) {
        bytes /= 1000;
        i++;
    }
    return xasprintf("%.4g%s", bytes, units[i]);
}

char *
cli_human_duration(int64_t s)
{
    if (s < 1)
        return xstrdup("Less than a second");
    if (s == 1)
        return xstrdup("1 second");
    if (s < 60)
        return xasprintf("%lld seconds", (long long)s);
    int64_t minutes = s / 60;
    if (minutes == 1)
        return xstrdup("About a minute");
    if (minutes < 60)
        return xasprintf("%lld minutes", (long long)minutes);
    int64_t hours = (int64_t)llround((double)s / 3600.0);
    if (hours == 1)
        return xstrdup("About an hour");
    if (hours < 48)
        return xasprintf("%lld hours", (long long)hours);
    if (hours < 24 * 7 * 2)
        return xasprintf("%lld days", (long long)(hours / 24));
    if (hours < 24 * 30 * 2)
        return xasprintf("%lld weeks", (long long)(hours / 24 / 7));
    if (hours < 24 * 365 * 2)
        return xasprintf("%lld months", (long long)(hours / 24 / 30));
    return xasprintf("%lld years", (long long)(hours / 24 / 365));
}

char *
cli_human_since(int64_t unix_time)
{
    cleanup_free char *d = cli_human_duration((int64_t)time(NULL) - unix_time);
    return xasprintf("%s ago", d);
}

char *
cli_short_id(const char *id, bool no_trunc)
{
    if (!id)
        return xstrdup("");
    const char *colon = strchr(id, ':');
    if (colon && !no_trunc)
        id = colon + 1;
    return no_trunc ? xstrdup(id) : xstrndup(id, 12);
}

int64_t
cli_parse_rfc3339(const char *s)
{
    struct tm tm = {0};
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p) {
        memset(&tm, 0, sizeof(tm));
        p = strptime(s, "%Y-%m-%d", &tm);
        if (!p || *p)
            return -1;
        return (int64_t)timegm(&tm);
    }
    int64_t t = (int64_t)timegm(&tm);
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p); p++)
            ;
    if (*p == 'Z' && !p[1])
        return t;
    if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int off = atoi(p + 1) * 3600 + atoi(p + 4) * 60;
        return *p == '+' ? t - off : t + off;
    }
    return *p ? -1 : t;
}

/* A Go duration ("1h30m", "10m", "5s", "300ms") in seconds; -1 when unreadable. */
static double
parse_duration(const char *s)
{
    double total = 0;
    if (!*s)
        return -1;
    while (*s) {
        char *end = NULL;
        double v = strtod(s, &end);
        if (end == s)
            return -1;
        s = end;
        if (strncmp(s, "ms", 2) == 0) {
            total += v / 1000;
            s += 2;
        } else if (*s == 's') {
            total += v;
            s++;
        } else if (*s == 'm') {
            total += v * 60;
            s++;
        } else if (*s == 'h') {
            total += v * 3600;
            s++;
        } else {
            return -1;
        }
    }
    return total;
}

char *
cli_api_time(const char *value, struct berth_err *err)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(value, &end);
    if (end != value && !*end && errno == 0 && !strchr(value, '-'))
        return xstrdup(value);
    int64_t t = cli_parse_rfc3339(value);
    if (t >= 0)
        return xasprintf("%lld", (long long)t);
    double d = parse_duration(value);
    if (d >= 0) {
        /* To the nanosecond, as docker sends it: "--until 0s" must not cut off what happened
         * earlier in the current second. */
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int64_t ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec - (int64_t)(d * 1e9);
        return xasprintf("%lld.%09lld", (long long)(ns / 1000000000), (long long)(ns % 1000000000));
    }
    (void)v;
    berth_err_fail(err, EINVAL,
                   "invalid time `%s`: expected a unix time, an RFC 3339 time or a duration "
                   "such as 10m",
                   value);
    return NULL;
}

int64_t
cli_parse_duration_ns(const char *value, const char *flag, struct berth_err *err)
{
    double s = parse_duration(value);
    if (s < 0)
        return berth_err_fail(err, EINVAL,
                              "invalid argument \"%s\" for \"%s\" flag: not a duration "
                              "(such as 30s, 1m30s or 500ms)",
                              value, flag);
    return (int64_t)(s * 1e9);
}
