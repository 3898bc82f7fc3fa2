/* SPDX-License-Identifier: Apache-2.0
 *
 * daemon.json (config.h): reading the file, each key's checks, and the questions later code
 * asks of the result (is this registry insecure?).
 */
#include "engine/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "engine/network/ipnet.h"

static const char *const known[] = {
    "debug",           "data-root",           "log-level",    "log-driver", "log-opts",
    "default-ulimits", "insecure-registries", "live-restore", "hosts",      "bip",
    "bridge",
};

static int
check_keys(struct json_object *o, struct berth_err *err)
{
    json_object_object_foreach(o, key, val)
    {
        (void)val;
        bool ok = false;
        for (size_t i = 0; i < ARRAY_SIZE(known); i++)
            ok = ok || strcmp(key, known[i]) == 0;
        if (!ok)
            return berth_err_fail(err, EINVAL,
                                  "the following directives don't match any configuration "
                                  "option: %s",
                                  key);
    }
    return 0;
}

/* ---------------------------------------------------------------- sizes */

int
eng_config_parse_size(const char *text, int64_t *out, struct berth_err *err)
{
    static const char units[] = "kmgtp";
    const char *p = text;
    if (!isdigit((unsigned char)*p))
        goto bad;
    char *end = NULL;
    errno = 0;
    double v = strtod(p, &end);
    /* strtod takes exponents and hex too; docker's grammar is digits with a fraction. */
    for (const char *q = p; q < end; q++)
        if (!isdigit((unsigned char)*q) && *q != '.')
            goto bad;
    if (errno != 0 || end == p)
        goto bad;
    p = end;
    if (*p == ' ')
        p++;
    double mult = 1;
    const char *u = *p ? strchr(units, tolower((unsigned char)*p)) : NULL;
    if (u) {
        for (const char *k = units; k <= u; k++)
            mult *= 1024;
        p++;
    }
    if (*p == 'i' || *p == 'I')
        p++;
    if (*p == 'b' || *p == 'B')
        p++;
    if (*p)
        goto bad;
    double bytes = v * mult;
    if (!isfinite(bytes) || bytes >= 9.2e18)
        return berth_err_fail(err, EINVAL, "size `%s` is too large", text);
    *out = (int64_t)bytes;
    return 0;
bad:
    return berth_err_fail(err, EINVAL, "invalid size: '%s'", text);
}

/* ---------------------------------------------------------------- log-driver, log-opts */

static int
parse_log(struct json_object *o, struct eng_config *c, struct berth_err *err)
{
    const char *driver = NULL;
    struct json_object *opts = NULL;
    if (berth_json_get_string(o, "log-driver", &driver, err) < 0 ||
        berth_json_get_object(o, "log-opts", &opts, err) < 0)
        return -1;
    if (driver) {
        if (strcmp(driver, "json-file") != 0 && strcmp(driver, "none") != 0)
            return berth_err_fail(err, EINVAL,
                                  "`log-driver`: `%s` is not a log driver berthd has (json-file, "
                                  "none)",
                                  driver);
        free(c->log_driver);
        c->log_driver = xstrdup(driver);
    }
    if (!opts)
        return 0;
    json_object_object_foreach(opts, key, val)
    {
        if (!json_object_is_type(val, json_type_string))
            return berth_err_fail(err, EINVAL, "`log-opts`: `%s`: expected string, got %s", key,
                                  berth_json_type_name(val));
        const char *v = json_object_get_string(val);
        if (strcmp(key, "max-size") == 0) {
            if (eng_config_parse_size(v, &c->log_max_size, err) < 0)
                return berth_err_wrap(err, "`log-opts`: `max-size`");
            if (c->log_max_size <= 0)
                return berth_err_fail(err, EINVAL, "`log-opts`: `max-size`: `%s` is not positive",
                                      v);
        } else if (strcmp(key, "max-file") == 0) {
            char *end = NULL;
            errno = 0;
            long n = strtol(v, &end, 10);
            if (!*v || *end || errno || n < 1 || n > 1000000)
                return berth_err_fail(err, EINVAL,
                                      "`log-opts`: `max-file`: `%s` is not a number of files "
                                      "(1 or more)",
                                      v);
            c->log_max_file = (int)n;
        } else {
            return berth_err_fail(err, EINVAL, "`log-opts`: unknown log opt '%s' for %s log driver",
                                  key, c->log_driver);
        }
    }
    if (strcmp(c->log_driver, "none") == 0)
        return berth_err_fail(err, EINVAL, "`log-opts`: the none log driver takes no options");
    /* dockerd's json-file refuses rotation without a size to rotate at. */
    if (c->log_max_file > 1 && c->log_max_size < 0)
        return berth_err_fail(err, EINVAL, "`log-opts`: max-file cannot be set without max-size");
    return 0;
}

/* ---------------------------------------------------------------- default-ulimits */

static const char *const rlimit_names[] = {
    "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue", "nice",
    "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack",
};

static int
cmp_ulimit(const void *a, const void *b)
{
    return strcmp(((const struct eng_config_ulimit *)a)->name,
                  ((const struct eng_config_ulimit *)b)->name);
}

static int
parse_ulimit(const char *key, struct json_object *val, struct eng_config_ulimit *u,
             struct berth_err *err)
{
    bool ok = false;
    for (size_t i = 0; i < ARRAY_SIZE(rlimit_names); i++)
        ok = ok || strcmp(key, rlimit_names[i]) == 0;
    if (!ok)
        return berth_err_fail(err, EINVAL, "invalid ulimit type: %s", key);
    if (!json_object_is_type(val, json_type_object))
        return berth_err_fail(err, EINVAL, "expected an object, got %s", berth_json_type_name(val));
    json_object_object_foreach(val, k, v)
    {
        (void)v;
        if (strcmp(k, "Name") != 0 && strcmp(k, "Hard") != 0 && strcmp(k, "Soft") != 0)
            return berth_err_fail(err, EINVAL, "unknown field `%s` (Name, Hard, Soft)", k);
    }
    const char *name = NULL;
    int rs, rh;
    if (berth_json_get_string(val, "Name", &name, err) < 0 ||
        (rh = berth_json_get_int64(val, "Hard", &u->hard, err)) < 0 ||
        (rs = berth_json_get_int64(val, "Soft", &u->soft, err)) < 0)
        return -1;
    if (name && strcmp(name, key) != 0)
        return berth_err_fail(err, EINVAL, "`Name` is `%s`", name);
    if (!rh || !rs)
        return berth_err_fail(err, EINVAL, "`Hard` and `Soft` are both needed");
    if (u->soft < 0 || u->hard < 0)
        return berth_err_fail(err, EINVAL, "a limit cannot be negative");
    if (u->soft > u->hard)
        return berth_err_fail(err, EINVAL,
                              "ulimit soft limit must be less than or equal to hard limit: "
                              "%lld > %lld",
                              (long long)u->soft, (long long)u->hard);
    u->name = xstrdup(key);
    return 0;
}

static int
parse_ulimits(struct json_object *o, struct eng_config *c, struct berth_err *err)
{
    struct json_object *ul = NULL;
    int r = berth_json_get_object(o, "default-ulimits", &ul, err);
    if (r <= 0)
        return r;
    size_t n = (size_t)json_object_object_length(ul);
    c->ulimits = xzalloc((n ? n : 1) * sizeof(*c->ulimits));
    json_object_object_foreach(ul, key, val)
    {
        if (parse_ulimit(key, val, &c->ulimits[c->n_ulimits], err) < 0)
            return berth_err_wrap(err, "`default-ulimits`: `%s`", key);
        c->n_ulimits++;
    }
    qsort(c->ulimits, c->n_ulimits, sizeof(*c->ulimits), cmp_ulimit);
    return 0;
}

/* ---------------------------------------------------------------- insecure-registries */

/* A CIDR "addr/bits": its family, address bytes and prefix length. */
struct cidr {
    int family;
    unsigned char addr[16];
    int bits;
};

static bool
parse_cidr(const char *s, struct cidr *out)
{
    const char *slash = strchr(s, '/');
    if (!slash || !slash[1])
        return false;
    cleanup_free char *a = xstrndup(s, (size_t)(slash - s));
    char *end = NULL;
    long bits = strtol(slash + 1, &end, 10);
    if (*end || !isdigit((unsigned char)slash[1]))
        return false;
    if (inet_pton(AF_INET, a, out->addr) == 1) {
        out->family = AF_INET;
        if (bits > 32)
            return false;
    } else if (inet_pton(AF_INET6, a, out->addr) == 1) {
        out->family = AF_INET6;
        if (bits > 128)
            return false;
    } else {
        return false;
    }
    out->bits = (int)bits;
    return true;
}

static bool
cidr_contains(const struct cidr *c, int family, const unsigned char *addr)
{
    if (family != c->family)
        return false;
    int full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(addr, c->addr, (size_t)full) != 0)
        return false;
    if (!rest)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (addr[full] & mask) == (c->addr[full] & mask);
}

/* A registry entry: a CIDR, or host[:port] (dockerd strips an http:// or https:// with a
 * warning, and refuses other schemes). Returns the entry to keep (heap). */
static char *
check_registry(const char *r, struct berth_err *err)
{
    struct cidr cidr;
    if (strncasecmp(r, "http://", 7) == 0 || strncasecmp(r, "https://", 8) == 0) {
        const char *rest = strstr(r, "://") + 3;
        berth_warn("insecure registry %s should not contain '%.*s', which is ignored", r,
                   (int)(rest - r), r);
        r = rest;
    } else if (strstr(r, "://")) {
        berth_err_fail(err, EINVAL,
                       "insecure registry %s is invalid: only http:// and https:// are allowed", r);
        return NULL;
    }
    if (strchr(r, '/') && !parse_cidr(r, &cidr)) {
        berth_err_fail(err, EINVAL, "`%s` is neither host[:port] nor a CIDR", r);
        return NULL;
    }
    if (!*r || r[0] == '-' || r[0] == ':' || strpbrk(r, " \t\n@")) {
        berth_err_fail(err, EINVAL, "`%s` is not a registry host[:port]", r);
        return NULL;
    }
    return xstrdup(r);
}

static int
parse_registries(struct json_object *o, struct eng_config *c, struct berth_err *err)
{
    cleanup_strv char **v = NULL;
    size_t n = 0;
    if (berth_json_get_strv(o, "insecure-registries", &v, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char *r = check_registry(v[i], err);
        if (!r)
            return berth_err_wrap(err, "`insecure-registries`");
        free(v[i]);
        v[i] = r;
    }
    if (v) {
        berth_cleanup_strvp(&c->insecure_registries);
        c->insecure_registries = steal_ptr(&v);
        c->n_insecure_registries = n;
    }
    return 0;
}

/* The host part of "host", "host:port", "[v6]:port" (heap). */
static char *
host_only(const char *h)
{
    if (h[0] == '[') {
        const char *close = strchr(h, ']');
        return close ? xstrndup(h + 1, (size_t)(close - h - 1)) : xstrdup(h);
    }
    const char *colon = strchr(h, ':');
    /* More than one colon: a bare IPv6 address, no port. */
    if (colon && strchr(colon + 1, ':'))
        return xstrdup(h);
    return colon ? xstrndup(h, (size_t)(colon - h)) : xstrdup(h);
}

bool
eng_config_registry_is_insecure(const struct eng_config *c, const char *host)
{
    if (!c || !host)
        return false;
    bool any_cidr = false;
    for (size_t i = 0; i < c->n_insecure_registries; i++) {
        const char *r = c->insecure_registries[i];
        if (strchr(r, '/'))
            any_cidr = true;
        else if (strcasecmp(r, host) == 0)
            return true;
    }
    if (!any_cidr)
        return false;
    cleanup_free char *name = host_only(host);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo(name, NULL, &hints, &res) != 0)
        return false;
    bool found = false;
    for (struct addrinfo *a = res; a && !found; a = a->ai_next) {
        const unsigned char *addr =
            a->ai_family == AF_INET
                ? (const unsigned char *)&((struct sockaddr_in *)a->ai_addr)->sin_addr
                : (const unsigned char *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
        for (size_t i = 0; i < c->n_insecure_registries && !found; i++) {
            struct cidr cidr;
            if (parse_cidr(c->insecure_registries[i], &cidr))
                found = cidr_contains(&cidr, a->ai_family, addr);
        }
    }
    freeaddrinfo(res);
    return found;
}

/* ---------------------------------------------------------------- hosts */

static int
parse_hosts(struct json_object *o, struct eng_config *c, struct berth_err *err)
{
    cleanup_strv char **v = NULL;
    size_t n = 0;
    if (berth_json_get_strv(o, "hosts", &v, &n, err) < 0)
        return -1;
    if (!v || n == 0)
        return 0;
    if (n > 1)
        return berth_err_fail(err, EINVAL, "`hosts`: berthd serves one socket, not %zu", n);
    if (strncmp(v[0], "unix:///", 8) != 0 && v[0][0] != '/')
        return berth_err_fail(err, EINVAL, "`hosts`: `%s`: only unix:///absolute/path is supported",
                              v[0]);
    c->host = xstrdup(v[0]);
    return 0;
}

/* ---------------------------------------------------------------- bip, bridge */

/* The default network's gateway and subnet (bip, "172.30.0.1/16" by default: not docker's
 * 172.17.0.0/16, so both engines can run side by side) and its bridge's name ("none": no
 * default network, containers get none). */
static int
parse_network(struct json_object *o, struct eng_config *c, struct berth_err *err)
{
    const char *bip = NULL, *bridge = NULL;
    if (berth_json_get_string(o, "bip", &bip, err) < 0 ||
        berth_json_get_string(o, "bridge", &bridge, err) < 0)
        return -1;
    if (bip) {
        struct eng_ipnet n;
        if (eng_ipnet_parse(bip, "`bip`", &n, err) < 0)
            return -1;
        if (n.len > 30 || n.addr == eng_ipnet_base(&n))
            return berth_err_fail(err, EINVAL,
                                  "`bip`: `%s` must be the bridge's address in its subnet "
                                  "(e.g. 172.30.0.1/16)",
                                  bip);
        free(c->bip);
        c->bip = xstrdup(bip);
    }
    if (bridge) {
        if (!*bridge || strlen(bridge) > 15 || strpbrk(bridge, "/ \t:"))
            return berth_err_fail(err, EINVAL, "`bridge`: `%s` is not an interface name", bridge);
        free(c->bridge);
        c->bridge = xstrdup(bridge);
    }
    return 0;
}

/* ---------------------------------------------------------------- the file */

static int
parse(struct json_object *o, struct eng_config *c, struct berth_err *err)
{
    const char *root = NULL, *level = NULL;
    if (!json_object_is_type(o, json_type_object))
        return berth_err_fail(err, EINVAL, "expected an object, got %s", berth_json_type_name(o));
    if (check_keys(o, err) < 0 || berth_json_get_bool(o, "debug", &c->debug, err) < 0 ||
        berth_json_get_string(o, "data-root", &root, err) < 0 ||
        berth_json_get_string(o, "log-level", &level, err) < 0 ||
        berth_json_get_bool(o, "live-restore", &c->live_restore, err) < 0)
        return -1;
    if (root) {
        if (root[0] != '/')
            return berth_err_fail(err, EINVAL, "`data-root`: `%s` is not an absolute path", root);
        c->data_root = xstrdup(root);
    }
    if (level && (c->log_level = berth_log_level_parse(level)) < 0)
        return berth_err_fail(err, EINVAL, "`log-level`: unknown level `%s`", level);
    if (parse_network(o, c, err) < 0 || parse_log(o, c, err) < 0 || parse_ulimits(o, c, err) < 0 ||
        parse_registries(o, c, err) < 0 || parse_hosts(o, c, err) < 0)
        return -1;
    return 0;
}

static void
defaults(struct eng_config *c)
{
    memset(c, 0, sizeof(*c));
    c->log_level = -1;
    c->log_driver = xstrdup("json-file");
    c->bip = xstrdup("172.30.0.1/16");
    c->log_max_size = -1;
    c->log_max_file = 1;
    c->insecure_registries = xzalloc(sizeof(char *));
}

static int
parse_doc(struct json_object *o, struct eng_config *c, struct berth_err *err)
{
    defaults(c);
    if (parse(o, c, err) < 0) {
        eng_config_release(c);
        defaults(c);
        return -1;
    }
    return 0;
}

int
eng_config_parse(const char *text, struct eng_config *c, struct berth_err *err)
{
    cleanup_json struct json_object *o = berth_json_parse(text, strlen(text), err);
    if (!o) {
        defaults(c);
        return -1;
    }
    return parse_doc(o, c, err);
}

int
eng_config_load(const char *path, struct eng_config *c, struct berth_err *err)
{
    if (!berth_fs_exists(path)) {
        defaults(c);
        return 0;
    }
    cleanup_json struct json_object *o = berth_json_parse_file(path, err);
    if (!o) {
        defaults(c);
        return berth_err_wrap(err, "config `%s`", path);
    }
    if (parse_doc(o, c, err) < 0)
        return berth_err_wrap(err, "config `%s`", path);
    return 0;
}

void
eng_config_release(struct eng_config *c)
{
    free(c->data_root);
    free(c->log_driver);
    for (size_t i = 0; i < c->n_ulimits; i++)
        free(c->ulimits[i].name);
    free(c->ulimits);
    berth_cleanup_strvp(&c->insecure_registries);
    free(c->host);
    free(c->bip);
    free(c->bridge);
    memset(c, 0, sizeof(*c));
    c->log_level = -1;
}
