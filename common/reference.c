/* SPDX-License-Identifier: Apache-2.0
 *
 * Image reference parsing (reference.h). The input is split from the right, as the grammar
 * allows: the digest after the first '@', then the tag after a ':' that follows the last '/',
 * then the domain off the front of what remains; each part is then checked against its own
 * production. Checks are written out by hand rather than as one regular expression so that an
 * error can say which part is wrong and why.
 */
#include "common/reference.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"

#define LEGACY_DOMAIN   "index.docker.io"
#define OFFICIAL_PREFIX "library/"
#define IDENTIFIER_LEN  64

static const struct {
    const char *name;
    size_t hex_len;
} digest_algorithms[] = {
    {"sha256", 64},
    {"sha384", 96},
    {"sha512", 128},
};

static bool
is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
is_alnum(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* \w of the tag production. */
static bool
is_word(char c)
{
    return is_alnum(c) || c == '_';
}

static bool
is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool
is_hex(char c)
{
    return is_lower_hex(c) || (c >= 'A' && c <= 'F');
}

static bool
has_upper(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            return true;
    return false;
}

/* ---- Parts ------------------------------------------------------------------------------ */

int
berth_ref_check_tag(const char *tag, struct berth_err *err)
{
    size_t len = tag ? strlen(tag) : 0;

    if (len == 0)
        return berth_err_fail(err, EINVAL, "tag is empty");
    if (len > BERTH_REF_TAG_MAX)
        return berth_err_fail(err, EINVAL, "invalid tag `%s`: longer than %d characters", tag,
                              BERTH_REF_TAG_MAX);
    if (!is_word(tag[0]))
        return berth_err_fail(err, EINVAL,
                              "invalid tag `%s`: it must start with a letter, a digit or `_`", tag);
    for (size_t i = 1; i < len; i++)
        if (!is_word(tag[i]) && tag[i] != '.' && tag[i] != '-')
            return berth_err_fail(err, EINVAL,
                                  "invalid tag `%s`: `%c` is not allowed (letters, digits, `_`, "
                                  "`.` and `-` are)",
                                  tag, tag[i]);
    return 0;
}

/* algorithm := component ([-_+.] component)*, component := [A-Za-z][A-Za-z0-9]*. */
static bool
is_algorithm(const char *s, size_t len)
{
    bool at_start = true;

    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (at_start) {
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
                return false;
            at_start = false;
        } else if (c == '-' || c == '_' || c == '+' || c == '.') {
            at_start = true;
        } else if (!is_alnum(c)) {
            return false;
        }
    }
    return !at_start;
}

int
berth_ref_check_digest(const char *digest, struct berth_err *err)
{
    const char *colon = digest ? strchr(digest, ':') : NULL;

    if (digest == NULL || *digest == '\0')
        return berth_err_fail(err, EINVAL, "digest is empty");
    if (colon == NULL)
        return berth_err_fail(err, EINVAL, "invalid digest `%s`: expected ALGORITHM:HEX", digest);

    size_t alg_len = (size_t)(colon - digest);
    const char *hex = colon + 1;
    size_t hex_len = strlen(hex);
    if (!is_algorithm(digest, alg_len))
        return berth_err_fail(err, EINVAL, "invalid digest `%s`: bad algorithm `%.*s`", digest,
                              (int)alg_len, digest);
    for (size_t i = 0; i < hex_len; i++)
        if (!is_hex(hex[i]))
            return berth_err_fail(err, EINVAL, "invalid digest `%s`: `%c` is not a hex digit",
                                  digest, hex[i]);
    for (size_t i = 0; i < ARRAY_SIZE(digest_algorithms); i++) {
        if (strlen(digest_algorithms[i].name) != alg_len ||
            strncmp(digest_algorithms[i].name, digest, alg_len) != 0)
            continue;
        bool lower = true;
        for (size_t j = 0; j < hex_len; j++)
            lower = lower && is_lower_hex(hex[j]);
        if (hex_len != digest_algorithms[i].hex_len || !lower)
            return berth_err_fail(err, EINVAL,
                                  "invalid digest `%s`: %s takes %zu lowercase hex digits", digest,
                                  digest_algorithms[i].name, digest_algorithms[i].hex_len);
        return 0;
    }
    return berth_err_fail(err, EINVAL, "invalid digest `%s`: unsupported algorithm `%.*s`", digest,
                          (int)alg_len, digest);
}

/* domain-component := [A-Za-z0-9] | [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9] */
static bool
is_host_component(const char *s, size_t len)
{
    if (len == 0 || !is_alnum(s[0]) || !is_alnum(s[len - 1]))
        return false;
    for (size_t i = 1; i + 1 < len; i++)
        if (!is_alnum(s[i]) && s[i] != '-')
            return false;
    return true;
}

/* host [":" port]; host is components joined by '.', or "[" IPv6 "]" (hex digits and ':'). */
static int
check_domain(const char *domain, size_t len, struct berth_err *err)
{
    size_t host_len;

    if (len > 0 && domain[0] == '[') {
        const char *end = memchr(domain, ']', len);
        if (end == NULL || end == domain + 1)
            return berth_err_fail(err, EINVAL, "invalid domain `%.*s`: bad IPv6 address", (int)len,
                                  domain);
        for (const char *p = domain + 1; p < end; p++)
            if (!is_hex(*p) && *p != ':')
                return berth_err_fail(err, EINVAL, "invalid domain `%.*s`: bad IPv6 address",
                                      (int)len, domain);
        host_len = (size_t)(end - domain) + 1;
    } else {
        const char *colon = memchr(domain, ':', len);
        host_len = colon ? (size_t)(colon - domain) : len;
        size_t start = 0;
        for (size_t i = 0; i <= host_len; i++) {
            if (i < host_len && domain[i] != '.')
                continue;
            if (!is_host_component(domain + start, i - start))
                return berth_err_fail(err, EINVAL,
                                      "invalid domain `%.*s`: each part of a host name is "
                                      "letters, digits and inner `-`",
                                      (int)len, domain);
            start = i + 1;
        }
    }
    if (host_len == len)
        return 0;
    if (domain[host_len] != ':' || host_len + 1 == len)
        return berth_err_fail(err, EINVAL, "invalid domain `%.*s`: expected HOST[:PORT]", (int)len,
                              domain);
    for (size_t i = host_len + 1; i < len; i++)
        if (domain[i] < '0' || domain[i] > '9')
            return berth_err_fail(err, EINVAL, "invalid domain `%.*s`: the port is not a number",
                                  (int)len, domain);
    return 0;
}

/* One path component: [a-z0-9]+ (separator [a-z0-9]+)*, separator "." | "_" | "__" | "-"+.
 * The caller has already refused upper case. */
static int
check_component(const char *c, size_t len, struct berth_err *err)
{
    if (len == 0)
        return berth_err_fail(err, EINVAL, "repository name has an empty component");
    if (!is_lower_alnum(c[0]) || !is_lower_alnum(c[len - 1]))
        return berth_err_fail(err, EINVAL,
                              "repository name component `%.*s` must start and end with a "
                              "lowercase letter or a digit",
                              (int)len, c);
    for (size_t i = 1; i < len - 1;) {
        if (is_lower_alnum(c[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < len - 1 && !is_lower_alnum(c[j]))
            j++;
        const char *sep = c + i;
        size_t sep_len = j - i;
        bool dashes = strspn(sep, "-") >= sep_len;
        bool ok = dashes || (sep_len == 1 && (*sep == '.' || *sep == '_')) ||
                  (sep_len == 2 && sep[0] == '_' && sep[1] == '_');
        if (!ok) {
            for (size_t k = 0; k < sep_len; k++)
                if (sep[k] != '.' && sep[k] != '_' && sep[k] != '-')
                    return berth_err_fail(err, EINVAL,
                                          "repository name component `%.*s` has an invalid "
                                          "character `%c`",
                                          (int)len, c, sep[k]);
            return berth_err_fail(err, EINVAL,
                                  "repository name component `%.*s` has an invalid separator "
                                  "`%.*s` (one of `.`, `_`, `__` or dashes)",
                                  (int)len, c, (int)sep_len, sep);
        }
        i = j;
    }
    return 0;
}

static int
check_path(const char *path, struct berth_err *err)
{
    const char *p = path;

    if (has_upper(path, strlen(path)))
        return berth_err_fail(err, EINVAL, "repository name must be lowercase");
    for (;;) {
        size_t len = strcspn(p, "/");
        if (check_component(p, len, err) < 0)
            return -1;
        if (p[len] == '\0')
            return 0;
        p += len + 1;
    }
}

/* ---- Whole references ------------------------------------------------------------------- */

/* Whether name's first component is read as a domain (reference.h: it has a '/' after it and
 * holds '.' or ':', is "localhost", or has an upper-case letter). */
static bool
leads_with_domain(const char *name)
{
    const char *slash = strchr(name, '/');
    size_t first_len = slash ? (size_t)(slash - name) : 0;
    return slash &&
           (memchr(name, '.', first_len) || memchr(name, ':', first_len) ||
            (first_len == 9 && strncmp(name, "localhost", 9) == 0) || has_upper(name, first_len));
}

/* Split name into domain and path (new strings), normalized (reference.h). */
static void
split_domain(const char *name, char **domain, char **path)
{
    const char *slash = strchr(name, '/');
    size_t first_len = slash ? (size_t)(slash - name) : 0;

    if (leads_with_domain(name)) {
        *domain = xstrndup(name, first_len);
        *path = xstrdup(slash + 1);
    } else {
        *domain = xstrdup(BERTH_REF_DEFAULT_DOMAIN);
        *path = xstrdup(name);
    }
    if (strcmp(*domain, LEGACY_DOMAIN) == 0) {
        free(*domain);
        *domain = xstrdup(BERTH_REF_DEFAULT_DOMAIN);
    }
    if (strcmp(*domain, BERTH_REF_DEFAULT_DOMAIN) == 0 && strchr(*path, '/') == NULL) {
        char *p = xasprintf(OFFICIAL_PREFIX "%s", *path);
        free(*path);
        *path = p;
    }
}

static bool
is_identifier(const char *s)
{
    size_t len = strlen(s);

    if (len != IDENTIFIER_LEN)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_lower_hex(s[i]))
            return false;
    return true;
}

/* The parse proper; the caller wraps the error with the input. */
static int
parse(const char *s, struct berth_ref *out, struct berth_err *err)
{
    cleanup_ref struct berth_ref ref = BERTH_REF_INIT;
    cleanup_free char *name = NULL;
    const char *at = strchr(s, '@');

    if (*s == '\0')
        return berth_err_fail(err, EINVAL, "reference is empty");
    if (is_identifier(s))
        return berth_err_fail(err, EINVAL,
                              "a 64-character hexadecimal string is an image id, not a "
                              "repository name");
    if (at) {
        if (berth_ref_check_digest(at + 1, err) < 0)
            return -1;
        ref.digest = xstrdup(at + 1);
        name = xstrndup(s, (size_t)(at - s));
    } else {
        name = xstrdup(s);
    }

    char *colon = strrchr(name, ':');
    char *slash = strrchr(name, '/');
    if (colon && (slash == NULL || colon > slash)) {
        *colon = '\0';
        if (berth_ref_check_tag(colon + 1, err) < 0)
            return -1;
        ref.tag = xstrdup(colon + 1);
    }
    if (*name == '\0')
        return berth_err_fail(err, EINVAL, "repository name is empty");

    split_domain(name, &ref.domain, &ref.path);
    if (check_domain(ref.domain, strlen(ref.domain), err) < 0 || check_path(ref.path, err) < 0)
        return -1;
    if (strlen(ref.domain) + 1 + strlen(ref.path) > BERTH_REF_NAME_MAX)
        return berth_err_fail(err, EINVAL, "repository name is longer than %d characters",
                              BERTH_REF_NAME_MAX);
    if (ref.tag == NULL && ref.digest == NULL)
        ref.tag = xstrdup(BERTH_REF_DEFAULT_TAG);
    *out = ref;
    memset(&ref, 0, sizeof(ref));
    return 0;
}

int
berth_ref_parse(const char *s, struct berth_ref *ref, struct berth_err *err)
{
    if (parse(s ? s : "", ref, err) < 0)
        return berth_err_wrap(err, "invalid reference `%s`", s ? s : "");
    return 0;
}

/* name, then ":tag" and "@digest" when set. */
static char *
with_suffixes(const char *name, const struct berth_ref *ref)
{
    return xasprintf("%s%s%s%s%s", name, ref->tag ? ":" : "", ref->tag ? ref->tag : "",
                     ref->digest ? "@" : "", ref->digest ? ref->digest : "");
}

char *
berth_ref_name(const struct berth_ref *ref)
{
    return xasprintf("%s/%s", ref->domain, ref->path);
}

char *
berth_ref_string(const struct berth_ref *ref)
{
    cleanup_free char *name = berth_ref_name(ref);

    return with_suffixes(name, ref);
}

char *
berth_ref_familiar(const struct berth_ref *ref)
{
    const char *path = ref->path;
    size_t prefix_len = strlen(OFFICIAL_PREFIX);

    /* A docker.io path whose first component looks like a host ("docker.io/a.b/c") keeps its
     * domain: dropped, the short form would name the registry a.b. */
    if (strcmp(ref->domain, BERTH_REF_DEFAULT_DOMAIN) != 0 || leads_with_domain(path)) {
        cleanup_free char *name = berth_ref_name(ref);
        return with_suffixes(name, ref);
    }
    if (strncmp(path, OFFICIAL_PREFIX, prefix_len) == 0 && !strchr(path + prefix_len, '/'))
        path += prefix_len;
    return with_suffixes(path, ref);
}

void
berth_ref_release(struct berth_ref *ref)
{
    if (ref == NULL)
        return;
    free(ref->domain);
    free(ref->path);
    free(ref->tag);
    free(ref->digest);
    memset(ref, 0, sizeof(*ref));
}
