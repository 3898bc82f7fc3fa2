/* SPDX-License-Identifier: Apache-2.0
 *
 * Route matching and the version prefix (router.h). Matching backtracks only on `{name*}`
 * parameters, whose end is found by trying each later '/' in turn, longest first, so
 * "/images/a/b/json" gives name "a/b" for "/images/{name*}/json".
 */
#include "engine/api/router.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"

void
eng_api_params_clear(struct eng_api_params *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->values[i]);
    p->n = 0;
}

const char *
eng_api_param(const struct eng_api_params *p, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < p->n; i++)
        if (p->name_len[i] == len && memcmp(p->names[i], name, len) == 0)
            return p->values[i];
    return NULL;
}

static bool
parse_version(const char *s, size_t len, int *out)
{
    int major = 0, minor = 0, *cur = &major;
    bool dot = false, digit = false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.' && !dot && digit) {
            dot = true;
            digit = false;
            cur = &minor;
        } else if (s[i] >= '0' && s[i] <= '9' && *cur < 10000) {
            *cur = *cur * 10 + (s[i] - '0');
            digit = true;
        } else {
            return false;
        }
    }
    if (!dot || !digit || minor > 99)
        return false;
    *out = major * 100 + minor;
    return true;
}

int
eng_api_version_split(const char *path, int *version, const char **rest, struct berth_err *err)
{
    *version = 0;
    *rest = path;
    if (strncmp(path, "/v", 2) != 0)
        return 0;
    const char *end = strchr(path + 2, '/');
    size_t len = end ? (size_t)(end - path - 2) : strlen(path + 2);
    int v;
    /* "/vfoo/..." is no version: the path is then looked up whole (and not found). */
    if (!parse_version(path + 2, len, &v))
        return 0;
    if (v > 141)
        return berth_err_fail(err, EINVAL,
                              "client version %.*s is too new. Maximum supported API version "
                              "is " ENG_API_VERSION,
                              (int)len, path + 2);
    if (v < 112)
        return berth_err_fail(err, EINVAL,
                              "client version %.*s is too old. Minimum supported API version "
                              "is " ENG_API_VERSION_MIN
                              ", please upgrade your client to a newer version",
                              (int)len, path + 2);
    *version = v;
    *rest = end ? end : "/";
    return 0;
}

static bool
add_param(struct eng_api_params *p, const char *name, size_t name_len, const char *v, size_t v_len)
{
    if (p->n == ENG_API_MAX_PARAMS)
        return false;
    p->names[p->n] = name;
    p->name_len[p->n] = name_len;
    p->values[p->n] = xstrndup(v, v_len);
    p->n++;
    return true;
}

static bool
match(const char *pat, const char *path, struct eng_api_params *p)
{
    while (*pat && *pat != '{') {
        if (*pat != *path)
            return false;
        pat++;
        path++;
    }
    if (!*pat)
        return !*path;
    const char *close = strchr(pat, '}');
    if (!close)
        return false;
    bool multi = close[-1] == '*';
    const char *name = pat + 1;
    size_t name_len = (size_t)(close - name) - (multi ? 1 : 0);
    const char *after = close + 1;
    size_t seg = strcspn(path, "/");
    if (seg == 0)
        return false;
    if (!multi) {
        size_t n = p->n;
        if (add_param(p, name, name_len, path, seg) && match(after, path + seg, p))
            return true;
        while (p->n > n)
            free(p->values[--p->n]);
        return false;
    }
    /* Longest first: every end of a segment, from the end of the path back. */
    for (size_t len = strlen(path); len >= seg; len--) {
        if (path[len] != '\0' && path[len] != '/')
            continue;
        size_t n = p->n;
        if (add_param(p, name, name_len, path, len) && match(after, path + len, p))
            return true;
        while (p->n > n)
            free(p->values[--p->n]);
    }
    return false;
}

bool
eng_api_pattern_match(const char *pattern, const char *path, struct eng_api_params *p)
{
    eng_api_params_clear(p);
    return match(pattern, path, p);
}

static bool
method_is(const struct eng_api_route *r, const char *method)
{
    return strcmp(r->method, method) == 0 ||
           (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0);
}

enum eng_api_match
eng_api_route_find(const struct eng_api_route *routes, size_t n_routes, const char *method,
                   const char *path, const struct eng_api_route **out, struct eng_api_params *p)
{
    bool path_known = false;
    *out = NULL;
    /* An exact method first: HEAD /_ping has a route of its own besides GET's. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n_routes; i++) {
            const struct eng_api_route *r = &routes[i];
            bool ok = pass == 0 ? strcmp(r->method, method) == 0 : method_is(r, method);
            if (!eng_api_pattern_match(r->pattern, path, p))
                continue;
            path_known = true;
            if (ok) {
                *out = r;
                return ENG_API_MATCHED;
            }
        }
    }
    eng_api_params_clear(p);
    return path_known ? ENG_API_NO_METHOD : ENG_API_NO_ROUTE;
}
