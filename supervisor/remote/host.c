/* SPDX-License-Identifier: Apache-2.0
 *
 * Registry hosts (remote-internal.h): which may use plain http (loopback by name or address,
 * and the insecure-registries list with its address ranges), the client's table of hosts,
 * and the ping that settles each one's scheme and authentication before its first request.
 *
 * A registry answers GET /v2/ with 200 when it lets anyone in and 401 with a challenge
 * otherwise (distribution spec, "API version check"), which is why every host is pinged once:
 * the client then knows whether to fetch a token first, rather than paying a 401 on every new
 * scope. The ping is also where https falls back to http, for hosts allowed to, when the
 * server answers TLS with plain http.
 */
#include "supervisor/remote/remote-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"

/* ---- Host rules -------------------------------------------------------------------------- */

/* Split host into its address or name (brackets dropped) in buf; false when it does not fit. */
static bool
host_only(const char *host, char *buf, size_t size)
{
    size_t n;

    if (host[0] == '[') {
        const char *end = strchr(host, ']');
        if (end == NULL)
            return false;
        host++;
        n = (size_t)(end - host);
    } else {
        const char *colon = strchr(host, ':');
        /* One colon is a port; more make a bare IPv6 address. */
        n = colon && strchr(colon + 1, ':') == NULL ? (size_t)(colon - host) : strlen(host);
    }
    if (n == 0 || n >= size)
        return false;
    memcpy(buf, host, n);
    buf[n] = '\0';
    return true;
}

bool
sup_remote_is_loopback(const char *host)
{
    char name[256];
    unsigned char addr[16];

    if (!host_only(host, name, sizeof(name)))
        return false;
    if (strcasecmp(name, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, name, addr) == 1)
        return addr[0] == 127;
    if (inet_pton(AF_INET6, name, addr) == 1) {
        static const unsigned char loop6[16] = {[15] = 1};
        return memcmp(addr, loop6, sizeof(loop6)) == 0;
    }
    return false;
}

/* host is an address inside the range "addr/bits". */
static bool
in_range(const char *host, const char *range)
{
    char name[256], net[256];
    unsigned char a[16], b[16];
    const char *slash = strchr(range, '/');
    char *end = NULL;
    int family = AF_INET;
    size_t len = 4;

    if (!host_only(host, name, sizeof(name)) || (size_t)(slash - range) >= sizeof(net))
        return false;
    memcpy(net, range, (size_t)(slash - range));
    net[slash - range] = '\0';
    long bits = strtol(slash + 1, &end, 10);
    if (*end != '\0' || end == slash + 1)
        return false;
    if (strchr(net, ':')) {
        family = AF_INET6;
        len = 16;
    }
    if (inet_pton(family, net, b) != 1 || inet_pton(family, name, a) != 1 || bits < 0 ||
        bits > (long)len * 8)
        return false;
    for (size_t i = 0; i < len && bits > 0; i++, bits -= 8) {
        unsigned char mask = bits >= 8 ? 0xff : (unsigned char)(0xff << (8 - bits));
        if ((a[i] & mask) != (b[i] & mask))
            return false;
    }
    return true;
}

static bool
has_port(const char *host)
{
    if (host[0] == '[')
        return strstr(host, "]:") != NULL;
    const char *colon = strchr(host, ':');
    return colon != NULL && strchr(colon + 1, ':') == NULL;
}

bool
sup_remote_host_matches(const char *host, const char *entry)
{
    char name[256], entry_name[256];

    if (strchr(entry, '/'))
        return in_range(host, entry);
    if (strcasecmp(host, entry) == 0)
        return true;
    /* An entry without a port names the host on every port. */
    if (has_port(entry))
        return false;
    return host_only(host, name, sizeof(name)) &&
           host_only(entry, entry_name, sizeof(entry_name)) && strcasecmp(name, entry_name) == 0;
}

/* ---- Hosts ------------------------------------------------------------------------------- */

char *
sup_remote_url(const struct remote_host *h, const char *fmt, ...)
{
    cleanup_free char *path = NULL;
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(&path, fmt, ap) < 0)
        path = NULL;
    va_end(ap);
    if (path == NULL)
        abort();
    return xasprintf("%s://%s/v2/%s", h->scheme, h->api_host, path);
}

static struct remote_host *
host_entry(struct sup_remote *r, const char *name)
{
    struct remote_host *h;

    pthread_mutex_lock(&r->lock);
    for (h = r->hosts; h; h = h->next) {
        if (strcmp(h->name, name) == 0)
            break;
    }
    if (h == NULL) {
        h = xzalloc(sizeof(*h));
        h->name = xstrdup(name);
        /* Docker Hub's API is not at the name images use. */
        h->api_host = xstrdup(strcmp(name, "docker.io") == 0 ? "registry-1.docker.io" : name);
        for (size_t i = 0; i < r->n_insecure; i++) {
            if (sup_remote_host_matches(name, r->insecure[i]))
                h->insecure = true;
        }
        h->http_allowed = h->insecure || sup_remote_is_loopback(name);
        h->next = r->hosts;
        r->hosts = h;
    }
    pthread_mutex_unlock(&r->lock);
    return h;
}

/* GET /v2/ over scheme; 0 with the answer in x (caller cleans up) or -1. */
static int
ping(struct sup_remote *r, struct remote_host *h, const char *scheme, struct remote_xfer *x,
     struct berth_err *err)
{
    cleanup_free char *url = xasprintf("%s://%s/v2/", scheme, h->api_host);
    struct remote_req req = {.host = h, .method = "GET", .url = url, .follow_redirects = true};
    if (sup_remote_call(r, &req, NULL, NULL, NULL, x, err) < 0)
        return -1;
    /* x->req points at req, which dies here; only resp is read from now on. */
    x->req = NULL;
    return 0;
}

/* Learn how h authenticates from its ping answer. */
static int
learn_auth(struct sup_remote *r, struct remote_host *h, const char *scheme, const char *url,
           const struct remote_resp *resp, struct berth_err *err)
{
    enum remote_auth_kind kind = REMOTE_AUTH_NONE;
    cleanup_free char *realm = NULL, *service = NULL;

    if (resp->status == 401) {
        struct sup_remote_challenge *ch = NULL;
        size_t n = 0;
        if (resp->www_authenticate == NULL)
            return berth_err_fail(err, EACCES, "GET %s: 401 without a WWW-Authenticate challenge",
                                  url);
        if (sup_remote_parse_challenges(resp->www_authenticate, &ch, &n, err) < 0)
            return berth_err_wrap(err, "GET %s: WWW-Authenticate", url);
        kind = REMOTE_AUTH_UNKNOWN;
        for (size_t i = 0; i < n && kind == REMOTE_AUTH_UNKNOWN; i++) {
            if (strcmp(ch[i].scheme, "bearer") == 0) {
                const char *rl = sup_remote_challenge_param(&ch[i], "realm");
                const char *sv = sup_remote_challenge_param(&ch[i], "service");
                if (rl == NULL)
                    continue;
                kind = REMOTE_AUTH_BEARER;
                realm = xstrdup(rl);
                service = sv ? xstrdup(sv) : NULL;
            } else if (strcmp(ch[i].scheme, "basic") == 0) {
                kind = REMOTE_AUTH_BASIC;
            }
        }
        sup_remote_challenges_free(ch, n);
        if (kind == REMOTE_AUTH_UNKNOWN)
            return berth_err_fail(err, ENOTSUP, "GET %s: unsupported authentication `%s`", url,
                                  resp->www_authenticate);
    } else if (resp->status == 404) {
        return berth_err_fail(err, ENOENT, "`%s` is not a registry: GET %s: 404", h->name, url);
    } else if (resp->status < 200 || resp->status >= 300) {
        return berth_err_fail(err, sup_remote_status_errno(resp->status), "GET %s: %ld %s", url,
                              resp->status, resp->reason ? resp->reason : "");
    }

    pthread_mutex_lock(&r->lock);
    if (h->scheme == NULL) {
        h->auth = kind;
        h->realm = steal_ptr(&realm);
        h->service = steal_ptr(&service);
        h->scheme = scheme;
    }
    pthread_mutex_unlock(&r->lock);
    berth_debug("remote: host=%s scheme=%s auth=%s", h->name, scheme,
                kind == REMOTE_AUTH_BEARER  ? "bearer"
                : kind == REMOTE_AUTH_BASIC ? "basic"
                                            : "none");
    return 0;
}

int
sup_remote_host_get(struct sup_remote *r, const char *name, struct remote_host **out,
                    struct berth_err *err)
{
    struct remote_host *h = host_entry(r, name);
    struct remote_xfer x = {0};
    const char *scheme = "https";
    bool known;

    pthread_mutex_lock(&r->lock);
    known = h->scheme != NULL;
    pthread_mutex_unlock(&r->lock);
    if (known) {
        *out = h;
        return 0;
    }

    if (r->plain_http) {
        if (!h->http_allowed)
            return berth_err_fail(err, EPERM,
                                  "plain http to `%s` refused: only loopback hosts and insecure "
                                  "registries may use http",
                                  name);
        scheme = "http";
    }
    if (ping(r, h, scheme, &x, err) < 0) {
        /* A server that answers TLS with plain http: fall back where http is allowed. */
        if (strcmp(scheme, "https") != 0 || !h->http_allowed || x.code != CURLE_SSL_CONNECT_ERROR)
            return -1;
        berth_debug("remote: host=%s does not speak TLS, using http", name);
        berth_err_clear(err);
        scheme = "http";
        if (ping(r, h, scheme, &x, err) < 0)
            return -1;
    }
    cleanup_free char *url = xasprintf("%s://%s/v2/", scheme, h->api_host);
    int rc = learn_auth(r, h, scheme, url, &x.resp, err);
    sup_remote_xfer_cleanup(&x);
    if (rc < 0)
        return -1;
    *out = h;
    return 0;
}
