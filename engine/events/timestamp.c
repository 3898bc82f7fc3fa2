/* SPDX-License-Identifier: Apache-2.0
 *
 * `since` and `until` of /events: unix seconds, RFC 3339 (and shorter forms), or Go
 * durations before now. The docker CLI turns what a user typed into "seconds.nanoseconds"
 * before sending it; the other forms serve curl users and older clients, as the CLI's own
 * rules (which this follows) would read them.
 */
#include "engine/events/timestamp.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/error.h"

#define NS 1000000000LL

/* "123" or "123.456": digits, a fraction of up to 9 significant digits (more are cut). */
static bool
parse_unix(const char *s, int64_t *out)
{
    const char *p = s;
    int64_t sec = 0;
    if (!isdigit((unsigned char)*p))
        return false;
    for (; isdigit((unsigned char)*p); p++) {
        if (sec > (INT64_MAX / NS - 9) / 10)
            return false;
        sec = sec * 10 + (*p - '0');
    }
    int64_t frac = 0;
    if (*p == '.') {
        p++;
        int digits = 0;
        if (!isdigit((unsigned char)*p))
            return false;
        for (; isdigit((unsigned char)*p); p++, digits++)
            if (digits < 9)
                frac = frac * 10 + (*p - '0');
        for (; digits < 9; digits++)
            frac *= 10;
    }
    if (*p)
        return false;
    *out = sec * NS + frac;
    return true;
}

/* Go's time.ParseDuration: [-+]?(number unit)+, units ns us µs ms s m h; "0" alone. */
static bool
parse_duration(const char *s, int64_t *out)
{
    static const struct {
        const char *name;
        double ns;
    } units[] = {
        {"ns", 1},   {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3},
        {"ms", 1e6}, {"s", 1e9},  {"m", 60e9},        {"h", 3600e9},
    };
    const char *p = s;
    double sign = 1;
    if (*p == '-' || *p == '+')
        sign = *p++ == '-' ? -1 : 1;
    if (strcmp(p, "0") == 0) {
        *out = 0;
        return true;
    }
    double total = 0;
    bool any = false;
    while (*p) {
        if (!isdigit((unsigned char)*p) && *p != '.')
            return false;
        char *end = NULL;
        double v = strtod(p, &end);
        if (end == p)
            return false;
        p = end;
        size_t best = 0;
        double mult = 0;
        /* The longest unit that fits: "ms" before "m". */
        for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
            size_t n = strlen(units[i].name);
            if (n > best && strncmp(p, units[i].name, n) == 0) {
                best = n;
                mult = units[i].ns;
            }
        }
        if (!best)
            return false;
        p += best;
        total += v * mult;
        any = true;
    }
    if (!any || total > 9.2e18)
        return false;
    *out = (int64_t)(sign * total);
    return true;
}

static bool
digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return false;
        v = v * 10 + (**p - '0');
    }
    *out = v;
    return true;
}

/* YYYY-MM-DD[THH[:MM[:SS[.frac]]]][Z|±HH:MM]; without a zone, local time. */
static bool
parse_rfc3339(const char *s, int64_t *out)
{
    const char *p = s;
    struct tm tm = {0};
    int y, mo, d;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d))
        return false;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    int64_t frac = 0;
    if (*p == 'T' || *p == 't') {
        p++;
        if (!digits(&p, 2, &tm.tm_hour))
            return false;
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &tm.tm_min))
                return false;
            if (*p == ':') {
                p++;
                if (!digits(&p, 2, &tm.tm_sec))
                    return false;
                if (*p == '.') {
                    p++;
                    int n = 0;
                    if (!isdigit((unsigned char)*p))
                        return false;
                    for (; isdigit((unsigned char)*p); p++, n++)
                        if (n < 9)
                            frac = frac * 10 + (*p - '0');
                    for (; n < 9; n++)
                        frac *= 10;
                }
            }
        }
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return false;
    time_t t;
    if (*p == '\0') {
        tm.tm_isdst = -1;
        t = mktime(&tm);
    } else if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        t = timegm(&tm);
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || *p != '\0')
            return false;
        t = timegm(&tm) - sign * (oh * 3600 + om * 60);
    } else {
        return false;
    }
    *out = (int64_t)t * NS + frac;
    return true;
}

int
eng_events_parse_time(const char *s, int64_t now_ns, int64_t *out_ns, struct berth_err *err)
{
    int64_t d;
    if (parse_unix(s, out_ns) || parse_rfc3339(s, out_ns))
        return 0;
    if (parse_duration(s, &d)) {
        *out_ns = now_ns - d;
        return 0;
    }
    return berth_err_fail(err, EINVAL, "failed to parse value as time or duration: \"%s\"", s);
}
