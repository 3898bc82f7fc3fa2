/* SPDX-License-Identifier: Apache-2.0
 *
 * Registry authentication (remote-internal.h): credentials from a docker config.json,
 * WWW-Authenticate challenges (RFC 7235), and the token flow of the Docker Registry token
 * specification: on a Bearer challenge, GET the realm with ?service=&scope= (basic credentials
 * attached when there are some), read {"token" | "access_token", "expires_in"} and send
 * "Authorization: Bearer <token>" until it expires. Tokens are cached per host and scope;
 * a 401 drops the cached one and fetches another once.
 *
 * Only the Basic flow of the token endpoint is done: an "identitytoken" (the OAuth2 refresh
 * token docker login stores for some registries) and credential helpers (credsStore,
 * credHelpers) are not used.
 */
#include "supervisor/remote/remote-internal.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"

/* A token lives 60 s when the service does not say (token spec); refresh a little early. */
#define DEFAULT_TOKEN_TTL_S 60
#define TOKEN_MARGIN_S      5

/* ---- Challenges -------------------------------------------------------------------------- */

static bool
is_tchar(char c)
{
    return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static const char *
skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static char *
lower_dup(const char *s, size_t n)
{
    char *r = xstrndup(s, n);

    for (char *c = r; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return r;
}

static void
add_param(struct sup_remote_challenge *c, char *name, char *value)
{
    c->names = xrealloc(c->names, (c->n_params + 1) * sizeof(*c->names));
    c->values = xrealloc(c->values, (c->n_params + 1) * sizeof(*c->values));
    c->names[c->n_params] = name;
    c->values[c->n_params] = value;
    c->n_params++;
}

/* A quoted-string at p (after the opening quote): unescaped into *out; returns the position
 * after the closing quote, NULL when there is none. */
static const char *
parse_quoted(const char *p, char **out)
{
    size_t cap = strlen(p) + 1, n = 0;
    char *buf = xmalloc(cap);

    for (; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1])
            p++;
        buf[n++] = *p;
    }
    buf[n] = '\0';
    if (*p != '"') {
        free(buf);
        return NULL;
    }
    *out = buf;
    return p + 1;
}

void
sup_remote_challenges_free(struct sup_remote_challenge *c, size_t n)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(c[i].scheme);
        for (size_t j = 0; j < c[i].n_params; j++) {
            free(c[i].names[j]);
            free(c[i].values[j]);
        }
        free(c[i].names);
        free(c[i].values);
    }
    free(c);
}

/* Parse the parameters of one challenge from p; returns where the next challenge starts (or
 * the end), NULL on a syntax error (*what says which). */
static const char *
parse_params(const char *p, struct sup_remote_challenge *c, const char **what)
{
    for (;;) {
        p = skip_ows(p);
        while (*p == ',')
            p = skip_ows(p + 1);
        if (*p == '\0')
            return p;

        const char *name = p;
        while (is_tchar(*p))
            p++;
        if (p == name) {
            *what = "expected a parameter name";
            return NULL;
        }
        size_t name_len = (size_t)(p - name);
        const char *after = skip_ows(p);
        if (*after != '=')
            return name; /* a token without "=": the next challenge's scheme */
        p = skip_ows(after + 1);

        char *value = NULL;
        if (*p == '"') {
            p = parse_quoted(p + 1, &value);
            if (p == NULL) {
                *what = "unterminated quoted string";
                return NULL;
            }
        } else {
            const char *v = p;
            while (is_tchar(*p) || *p == '/' || *p == ':' || *p == '=')
                p++;
            value = xstrndup(v, (size_t)(p - v));
        }
        add_param(c, lower_dup(name, name_len), value);
        p = skip_ows(p);
        if (*p != ',' && *p != '\0') {
            *what = "expected `,` between parameters";
            return NULL;
        }
    }
}

int
sup_remote_parse_challenges(const char *header, struct sup_remote_challenge **out, size_t *n_out,
                            struct berth_err *err)
{
    struct sup_remote_challenge *list = NULL;
    size_t n = 0;
    const char *p = header;
    const char *what = NULL;

    for (;;) {
        p = skip_ows(p);
        while (*p == ',')
            p = skip_ows(p + 1);
        if (*p == '\0')
            break;
        const char *scheme = p;
        while (is_tchar(*p))
            p++;
        if (p == scheme || (*p != '\0' && *p != ' ' && *p != '\t' && *p != ',')) {
            what = "expected an authentication scheme";
            break;
        }
        list = xrealloc(list, (n + 1) * sizeof(*list));
        memset(&list[n], 0, sizeof(list[n]));
        list[n].scheme = lower_dup(scheme, (size_t)(p - scheme));
        n++;
        p = parse_params(p, &list[n - 1], &what);
        if (p == NULL)
            break;
    }
    if (what || n == 0) {
        sup_remote_challenges_free(list, n);
        return berth_err_fail(err, EINVAL, "challenge `%s`: %s", header,
                              what ? what : "no authentication scheme");
    }
    *out = list;
    *n_out = n;
    return 0;
}

const char *
sup_remote_challenge_param(const struct sup_remote_challenge *c, const char *name)
{
    for (size_t i = 0; i < c->n_params; i++) {
        if (strcmp(c->names[i], name) == 0)
            return c->values[i];
    }
    return NULL;
}

/* ---- Credentials ------------------------------------------------------------------------- */

void
sup_remote_creds_free(struct sup_remote_cred *c, size_t n)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(c[i].host);
        free(c[i].username);
        if (c[i].password) {
            explicit_bzero(c[i].password, strlen(c[i].password));
            free(c[i].password);
        }
    }
    free(c);
}

/* "https://host:port/v1/" → "host:port". */
static char *
normalize_key(const char *key)
{
    const char *p = strstr(key, "://");

    p = p ? p + 3 : key;
    return xstrndup(p, strcspn(p, "/"));
}

/* base64 of "user:password" split in two; false when it is not that. */
static bool
decode_auth(const char *b64, char **user, char **pass)
{
    size_t n = 0;
    cleanup_free unsigned char *buf = *b64 ? berth_base64_decode(b64, strlen(b64), &n) : NULL;
    if (buf == NULL)
        return false;
    if (memchr(buf, '\0', (size_t)n) != NULL)
        return false;
    char *colon = strchr((char *)buf, ':');
    if (colon == NULL)
        return false;
    *user = xstrndup((char *)buf, (size_t)(colon - (char *)buf));
    *pass = xstrdup(colon + 1);
    explicit_bzero(buf, (size_t)n);
    return true;
}

int
sup_remote_parse_auth_config(const char *buf, size_t len, struct sup_remote_cred **out,
                             size_t *n_out, struct berth_err *err)
{
    struct json_object *auths = NULL;
    struct sup_remote_cred *list = NULL;
    size_t n = 0;

    cleanup_json struct json_object *doc = berth_json_parse(buf, len, err);
    if (doc == NULL)
        return -1;
    if (!json_object_is_type(doc, json_type_object))
        return berth_err_fail(err, EINVAL, "expected an object");
    if (berth_json_get_object(doc, "auths", &auths, err) < 0)
        return -1;
    if (auths) {
        json_object_object_foreach(auths, key, entry)
        {
            const char *b64 = NULL, *user = NULL, *pass = NULL;
            char *u = NULL, *p = NULL;

            if (!json_object_is_type(entry, json_type_object) ||
                berth_json_get_string(entry, "auth", &b64, err) < 0 ||
                berth_json_get_string(entry, "username", &user, err) < 0 ||
                berth_json_get_string(entry, "password", &pass, err) < 0) {
                sup_remote_creds_free(list, n);
                if (!json_object_is_type(entry, json_type_object))
                    return berth_err_fail(err, EINVAL, "auths: `%s`: expected object", key);
                return berth_err_wrap(err, "auths: `%s`", key);
            }
            if (b64 && *b64) {
                if (!decode_auth(b64, &u, &p)) {
                    sup_remote_creds_free(list, n);
                    return berth_err_fail(
                        err, EINVAL, "auths: `%s`: `auth` is not base64 of user:password", key);
                }
            } else if (user && *user && pass) {
                u = xstrdup(user);
                p = xstrdup(pass);
            } else {
                continue;
            }
            list = xrealloc(list, (n + 1) * sizeof(*list));
            list[n].host = normalize_key(key);
            list[n].username = u;
            list[n].password = p;
            n++;
        }
    }
    *out = list;
    *n_out = n;
    return 0;
}

static bool
is_docker_hub(const char *host)
{
    return strcasecmp(host, "docker.io") == 0 || strcasecmp(host, "index.docker.io") == 0 ||
           strcasecmp(host, "registry-1.docker.io") == 0;
}

const struct sup_remote_cred *
sup_remote_find_cred(const struct sup_remote_cred *c, size_t n, const char *host)
{
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(c[i].host, host) == 0)
            return &c[i];
    }
    if (!is_docker_hub(host))
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (is_docker_hub(c[i].host))
            return &c[i];
    }
    return NULL;
}

static char *
default_auth_file(void)
{
    const char *dir = getenv("DOCKER_CONFIG");
    const char *home = getenv("HOME");

    if (dir && *dir)
        return xasprintf("%s/config.json", dir);
    if (home == NULL || *home == '\0') {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : NULL;
    }
    return home ? xasprintf("%s/.docker/config.json", home) : NULL;
}

int
sup_remote_auth_load(struct sup_remote *r, const char *path, struct berth_err *err)
{
    cleanup_free char *fallback = path ? NULL : default_auth_file();
    cleanup_free char *buf = NULL;
    size_t len = 0;

    if (path == NULL && (fallback == NULL || !berth_fs_exists(fallback)))
        return 0; /* anonymous */
    if (path == NULL)
        path = fallback;
    if (berth_fs_read_file(path, &buf, &len, err) < 0)
        return berth_err_wrap(err, "read credentials");
    int rc = sup_remote_parse_auth_config(buf, len, &r->creds, &r->n_creds, err);
    explicit_bzero(buf, len);
    if (rc < 0)
        return berth_err_wrap(err, "credentials `%s`", path);
    r->auth_file = xstrdup(path);
    berth_debug("remote: %zu credentials from %s", r->n_creds, path);
    return 0;
}

/* ---- Tokens and headers ------------------------------------------------------------------ */

char *
sup_remote_scope(const char *repository, bool push)
{
    return xasprintf("repository:%s:%s", repository, push ? "pull,push" : "pull");
}

static char *
basic_header(const struct sup_remote_cred *cred)
{
    cleanup_free char *plain = xasprintf("%s:%s", cred->username, cred->password);
    size_t len = strlen(plain);
    cleanup_free char *b64 = berth_base64_encode(plain, len);

    explicit_bzero(plain, len);
    return xasprintf("Basic %s", b64);
}

/* Who we are to h, for messages: "the credentials of `alice` from FILE", "no credentials
 * (none for `h` in FILE)" or "no credentials (no credentials file)". */
static char *
describe_identity(struct sup_remote *r, const struct remote_host *h)
{
    const struct sup_remote_cred *cred = sup_remote_find_cred(r->creds, r->n_creds, h->name);

    if (cred)
        return xasprintf("the credentials of `%s` from %s", cred->username, r->auth_file);
    if (r->auth_file)
        return xasprintf("no credentials (none for `%s` in %s)", h->name, r->auth_file);
    return xstrdup("no credentials (no credentials file)");
}

static char *
token_key(const struct remote_host *h, const char *scope)
{
    return xasprintf("%s %s", h->name, scope);
}

/* A cached, unexpired token for key as a header value (heap), or NULL. */
static char *
token_lookup(struct sup_remote *r, const char *key)
{
    uint64_t now = sup_remote_now_ms();
    char *value = NULL;

    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n_tokens; i++) {
        if (strcmp(r->tokens[i].key, key) == 0 && r->tokens[i].expires_ms > now) {
            value = xstrdup(r->tokens[i].value);
            break;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return value;
}

static void
token_drop_locked(struct sup_remote *r, size_t i)
{
    free(r->tokens[i].key);
    explicit_bzero(r->tokens[i].value, strlen(r->tokens[i].value));
    free(r->tokens[i].value);
    r->tokens[i] = r->tokens[--r->n_tokens];
}

static void
token_forget(struct sup_remote *r, const char *key)
{
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n_tokens; i++) {
        if (strcmp(r->tokens[i].key, key) == 0) {
            token_drop_locked(r, i);
            break;
        }
    }
    pthread_mutex_unlock(&r->lock);
}

static void
token_store(struct sup_remote *r, const char *key, const char *value, int64_t ttl_s)
{
    uint64_t now = sup_remote_now_ms();

    if (ttl_s > TOKEN_MARGIN_S * 2)
        ttl_s -= TOKEN_MARGIN_S;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n_tokens;) {
        if (strcmp(r->tokens[i].key, key) == 0 || r->tokens[i].expires_ms <= now)
            token_drop_locked(r, i);
        else
            i++;
    }
    r->tokens = xrealloc(r->tokens, (r->n_tokens + 1) * sizeof(*r->tokens));
    r->tokens[r->n_tokens].key = xstrdup(key);
    r->tokens[r->n_tokens].value = xstrdup(value);
    r->tokens[r->n_tokens].expires_ms = now + (uint64_t)ttl_s * 1000;
    r->n_tokens++;
    pthread_mutex_unlock(&r->lock);
}

/* The realm as a host entry of its own, for the plain-http rule and TLS checks. */
static int
realm_host(struct sup_remote *r, const char *realm, struct remote_host *out, char **name,
           struct berth_err *err)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (u == NULL || curl_url_set(u, CURLUPART_URL, realm, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        rc = berth_err_fail(err, EINVAL, "token realm `%s` is not a URL", realm);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
        port = NULL;
    *name = port ? xasprintf("%s:%s", host, port) : xstrdup(host);
    out->name = *name;
    for (size_t i = 0; i < r->n_insecure; i++) {
        if (sup_remote_host_matches(*name, r->insecure[i]))
            out->insecure = true;
    }
    out->http_allowed = out->insecure || sup_remote_is_loopback(*name);
    if (strcasecmp(scheme, "https") != 0 && !(strcasecmp(scheme, "http") == 0 && out->http_allowed))
        rc = berth_err_fail(err, EPERM,
                            "token realm `%s` refused: only loopback hosts and insecure "
                            "registries may use http",
                            realm);
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

/* The realm's URL with ?service=&scope=..., heap. */
static char *
token_url(const char *realm, const char *service, const char *scope)
{
    char *url = xstrdup(realm);
    char sep = strchr(realm, '?') ? '&' : '?';

    if (service) {
        char *esc = curl_easy_escape(NULL, service, 0);
        char *next = xasprintf("%s%cservice=%s", url, sep, esc ? esc : "");
        curl_free(esc);
        free(url);
        url = next;
        sep = '&';
    }
    /* Several scopes (a push that mounts from another repository) go as repeated params. */
    for (const char *p = scope; *p;) {
        size_t n = strcspn(p, " ");
        cleanup_free char *one = xstrndup(p, n);
        char *esc = curl_easy_escape(NULL, one, 0);
        char *next = xasprintf("%s%cscope=%s", url, sep, esc ? esc : "");
        curl_free(esc);
        free(url);
        url = next;
        sep = '&';
        p += n;
        while (*p == ' ')
            p++;
    }
    return url;
}

struct token_body {
    char *buf;
    size_t len;
};

static int
token_sink(void *data, struct remote_xfer *x, const void *buf, size_t len, struct berth_err *err)
{
    struct token_body *b = data;

    if (b->len + len > 1024 * 1024)
        return berth_err_fail(err, EFBIG, "token response over 1 MiB");
    b->buf = xrealloc(b->buf, b->len + len + 1);
    memcpy(b->buf + b->len, buf, len);
    b->len += len;
    b->buf[b->len] = '\0';
    return 0;
}

static void
token_body_reset(void *data, struct remote_req *req)
{
    struct token_body *b = data;

    b->len = 0;
}

/* The token and its lifetime from the token service's answer. */
static int
parse_token(const struct token_body *b, const char *realm, char **out, int64_t *ttl_s,
            struct berth_err *err)
{
    const char *token = NULL;
    int64_t ttl = DEFAULT_TOKEN_TTL_S;

    cleanup_json struct json_object *doc = berth_json_parse(b->buf ? b->buf : "", b->len, err);
    if (doc == NULL || berth_json_get_string(doc, "token", &token, err) < 0 ||
        (token == NULL && berth_json_get_string(doc, "access_token", &token, err) < 0) ||
        berth_json_get_int64(doc, "expires_in", &ttl, err) < 0)
        return berth_err_wrap(err, "token from %s", realm);
    if (token == NULL || *token == '\0')
        return berth_err_fail(err, EINVAL, "token from %s: no `token` or `access_token`", realm);
    *out = xasprintf("Bearer %s", token);
    *ttl_s = ttl > 0 ? ttl : DEFAULT_TOKEN_TTL_S;
    return 0;
}

/* Get a token for scope from realm: the header value in *out, its lifetime in *ttl_s. */
static int
fetch_token(struct sup_remote *r, struct remote_host *h, const char *realm, const char *service,
            const char *scope, char **out, int64_t *ttl_s, struct berth_err *err)
{
    const struct sup_remote_cred *cred = sup_remote_find_cred(r->creds, r->n_creds, h->name);
    struct remote_host rh;
    cleanup_free char *rh_name = NULL;
    struct token_body body = {0};
    struct remote_xfer x;

    if (realm_host(r, realm, &rh, &rh_name, err) < 0)
        return -1;
    cleanup_free char *url = token_url(realm, service, scope);
    cleanup_free char *basic = cred ? basic_header(cred) : NULL;
    struct remote_req req = {
        .host = &rh,
        .method = "GET",
        .url = url,
        .accept = "application/json",
        .authorization = basic,
        .sink = token_sink,
        .sink_data = &body,
        .follow_redirects = true,
    };
    berth_debug("remote: host=%s token scope=%s realm=%s", h->name, scope, realm);
    if (sup_remote_call(r, &req, NULL, token_body_reset, &body, &x, err) < 0) {
        free(body.buf);
        return berth_err_wrap(err, "get a token for %s", scope);
    }

    int rc = 0;
    if (x.resp.status == 401 || x.resp.status == 403) {
        cleanup_free char *who = describe_identity(r, h);
        sup_remote_status_error(&x, err);
        rc = berth_err_fail(err, EACCES, "get a token for %s: %s: the token service refused %s",
                            scope, err->msg, who);
    } else if (x.resp.status != 200) {
        sup_remote_status_error(&x, err);
        rc = berth_err_wrap(err, "get a token for %s", scope);
    }
    sup_remote_xfer_cleanup(&x);
    if (rc == 0)
        rc = parse_token(&body, realm, out, ttl_s, err);
    if (body.buf)
        explicit_bzero(body.buf, body.len);
    free(body.buf);
    return rc;
}

int
sup_remote_auth_header(struct sup_remote *r, struct remote_host *h, const char *scope, char **out,
                       struct berth_err *err)
{
    enum remote_auth_kind kind;
    cleanup_free char *realm = NULL, *service = NULL;

    *out = NULL;
    pthread_mutex_lock(&r->lock);
    kind = h->auth;
    realm = h->realm ? xstrdup(h->realm) : NULL;
    service = h->service ? xstrdup(h->service) : NULL;
    pthread_mutex_unlock(&r->lock);

    if (kind == REMOTE_AUTH_BASIC) {
        const struct sup_remote_cred *cred = sup_remote_find_cred(r->creds, r->n_creds, h->name);
        *out = cred ? basic_header(cred) : NULL;
        return 0;
    }
    if (kind != REMOTE_AUTH_BEARER || realm == NULL)
        return 0;

    cleanup_free char *key = token_key(h, scope);
    *out = token_lookup(r, key);
    if (*out)
        return 0;
    int64_t ttl = 0;
    if (fetch_token(r, h, realm, service, scope, out, &ttl, err) < 0)
        return -1;
    token_store(r, key, *out, ttl);
    return 0;
}

int
sup_remote_auth_challenged(struct sup_remote *r, struct remote_host *h, const char *scope,
                           const char *www_auth, bool sent, struct berth_err *err)
{
    struct sup_remote_challenge *ch = NULL;
    size_t n = 0;
    enum remote_auth_kind kind = REMOTE_AUTH_UNKNOWN;
    const char *realm = NULL, *service = NULL;

    if (www_auth == NULL)
        return berth_err_fail(err, EACCES, "401 without a WWW-Authenticate challenge");
    if (sup_remote_parse_challenges(www_auth, &ch, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n && kind == REMOTE_AUTH_UNKNOWN; i++) {
        if (strcmp(ch[i].scheme, "bearer") == 0 && sup_remote_challenge_param(&ch[i], "realm")) {
            kind = REMOTE_AUTH_BEARER;
            realm = sup_remote_challenge_param(&ch[i], "realm");
            service = sup_remote_challenge_param(&ch[i], "service");
        } else if (strcmp(ch[i].scheme, "basic") == 0) {
            kind = REMOTE_AUTH_BASIC;
        }
    }

    int rc = 0;
    if (kind == REMOTE_AUTH_UNKNOWN) {
        rc = berth_err_fail(err, ENOTSUP, "unsupported authentication `%s`", www_auth);
    } else {
        /* A registry that let the ping in but wants credentials for this repository. */
        pthread_mutex_lock(&r->lock);
        if (h->auth != REMOTE_AUTH_BEARER && h->auth != REMOTE_AUTH_BASIC) {
            h->auth = kind;
            if (kind == REMOTE_AUTH_BEARER) {
                h->realm = xstrdup(realm);
                h->service = service ? xstrdup(service) : NULL;
            }
        }
        pthread_mutex_unlock(&r->lock);
    }
    if (rc == 0 && kind == REMOTE_AUTH_BEARER) {
        /* The token may have expired or been revoked early: one fresh one is worth a try. */
        cleanup_free char *key = token_key(h, scope);
        token_forget(r, key);
    } else if (rc == 0 && kind == REMOTE_AUTH_BASIC) {
        cleanup_free char *who = describe_identity(r, h);
        if (sent)
            rc = berth_err_fail(err, EACCES, "the registry refused %s", who);
        else if (sup_remote_find_cred(r->creds, r->n_creds, h->name) == NULL)
            rc = berth_err_fail(err, EACCES, "the registry needs credentials, and there are %s",
                                who);
    }
    sup_remote_challenges_free(ch, n);
    return rc;
}

char *
sup_remote_auth_describe(struct sup_remote *r, const struct remote_host *h)
{
    return describe_identity(r, h);
}
