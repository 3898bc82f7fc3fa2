/* SPDX-License-Identifier: Apache-2.0
 *
 * HTTP for the registry client (remote-internal.h): one exchange on a libcurl easy handle
 * (headers captured, 2xx bodies streamed to a sink, error bodies kept for the message,
 * uploads read through a callback), the judgement of its outcome (done, retry, authenticate
 * again, failed), the errors made of a registry's answers, and the serial request loop with
 * backoff. Which host is reached how is host.c's business.
 */
#include "supervisor/remote/remote-internal.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/log.h"

#define MAX_ERROR_BODY (64 * 1024)

/* ---- One exchange ------------------------------------------------------------------------ */

static void
resp_clear(struct remote_resp *resp)
{
    free(resp->reason);
    free(resp->content_type);
    free(resp->digest);
    free(resp->location);
    free(resp->www_authenticate);
    free(resp->content_range);
    free(resp->retry_after);
    free(resp->body);
    memset(resp, 0, sizeof(*resp));
    resp->content_length = -1;
}

static char *
trimmed_dup(const char *s, size_t n)
{
    while (n > 0 && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    return xstrndup(s, n);
}

/* A status line starts a new response (a redirect, a 100 Continue): only the last one's
 * headers count. */
static void
parse_status_line(struct remote_resp *resp, const char *line, size_t n)
{
    const char *sp = memchr(line, ' ', n);

    resp_clear(resp);
    if (sp == NULL)
        return;
    size_t rest = n - (size_t)(sp + 1 - line);
    if (rest < 3)
        return;
    resp->status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
    if (rest > 4 && sp[4] == ' ') {
        char *reason = trimmed_dup(sp + 5, rest - 4);
        if (*reason)
            resp->reason = reason;
        else
            free(reason);
    }
}

static size_t
on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    struct remote_xfer *x = userdata;
    struct remote_resp *resp = &x->resp;
    size_t n = size * nitems;
    static const struct {
        const char *name;
        size_t off;
    } kept[] = {
        {"content-type", offsetof(struct remote_resp, content_type)},
        {"docker-content-digest", offsetof(struct remote_resp, digest)},
        {"location", offsetof(struct remote_resp, location)},
        {"content-range", offsetof(struct remote_resp, content_range)},
        {"retry-after", offsetof(struct remote_resp, retry_after)},
    };

    if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        parse_status_line(resp, buf, n);
        return n;
    }
    const char *colon = memchr(buf, ':', n);
    if (colon == NULL)
        return n;
    size_t name_len = (size_t)(colon - buf);
    cleanup_free char *value = trimmed_dup(colon + 1, n - name_len - 1);

    if (name_len == strlen("www-authenticate") &&
        strncasecmp(buf, "www-authenticate", name_len) == 0) {
        char *joined = resp->www_authenticate ? xasprintf("%s, %s", resp->www_authenticate, value)
                                              : xstrdup(value);
        free(resp->www_authenticate);
        resp->www_authenticate = joined;
        return n;
    }
    if (name_len == strlen("content-length") && strncasecmp(buf, "content-length", name_len) == 0) {
        char *end = NULL;
        long long v = strtoll(value, &end, 10);
        resp->content_length = end != value && *end == '\0' && v >= 0 ? v : -1;
        return n;
    }
    for (size_t i = 0; i < ARRAY_SIZE(kept); i++) {
        if (name_len == strlen(kept[i].name) && strncasecmp(buf, kept[i].name, name_len) == 0) {
            char **field = (char **)((char *)resp + kept[i].off);
            free(*field);
            *field = steal_ptr(&value);
            break;
        }
    }
    return n;
}

static size_t
on_body(char *buf, size_t size, size_t nmemb, void *userdata)
{
    struct remote_xfer *x = userdata;
    struct remote_resp *resp = &x->resp;
    size_t n = size * nmemb;

    if (resp->status >= 200 && resp->status < 300) {
        if (x->req->sink && x->req->sink(x->req->sink_data, x, buf, n, &x->cb_err) < 0) {
            x->cb_failed = true;
            return n == 0 ? 1 : 0; /* anything but n aborts the transfer */
        }
        return n;
    }
    if (resp->status >= 300 && resp->status < 400)
        return n; /* a redirect's body: curl follows the Location */
    if (resp->body_len < MAX_ERROR_BODY) {
        size_t take = n < MAX_ERROR_BODY - resp->body_len ? n : MAX_ERROR_BODY - resp->body_len;
        resp->body = xrealloc(resp->body, resp->body_len + take + 1);
        memcpy(resp->body + resp->body_len, buf, take);
        resp->body_len += take;
        resp->body[resp->body_len] = '\0';
    }
    return n;
}

static size_t
on_read(char *buf, size_t size, size_t nitems, void *userdata)
{
    struct remote_xfer *x = userdata;
    const struct remote_req *req = x->req;
    size_t want = size * nitems;
    int64_t total = req->body ? (int64_t)req->body_len : req->read_size;

    if (x->up_off >= total)
        return 0;
    if ((int64_t)want > total - x->up_off)
        want = (size_t)(total - x->up_off);
    if (req->body) {
        memcpy(buf, (const char *)req->body + x->up_off, want);
    } else {
        ssize_t got = req->read(req->read_data, buf, want, x->up_off, &x->cb_err);
        if (got < 0) {
            x->cb_failed = true;
            return CURL_READFUNC_ABORT;
        }
        if (got == 0) {
            x->cb_failed = true;
            berth_err_fail(&x->cb_err, EIO, "content ended at %" PRId64 " of %" PRId64 " bytes",
                           x->up_off, total);
            return CURL_READFUNC_ABORT;
        }
        want = (size_t)got;
    }
    x->up_off += (int64_t)want;
    if (req->progress)
        req->progress(req->progress_data, x->up_off, total);
    return want;
}

/* curl rewinds an upload it has to send again (after a redirect, or a connection that closed
 * before the server read it). */
static int
on_seek(void *userdata, curl_off_t offset, int origin)
{
    struct remote_xfer *x = userdata;

    if (origin != SEEK_SET)
        return CURL_SEEKFUNC_CANTSEEK;
    x->up_off = offset;
    return CURL_SEEKFUNC_OK;
}

static bool
url_is_loopback(const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL;
    bool loopback = false;

    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
        loopback = sup_remote_is_loopback(host);
    curl_free(host);
    curl_url_cleanup(u);
    return loopback;
}

static void add_header(struct remote_xfer *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
add_header(struct remote_xfer *x, const char *fmt, ...)
{
    cleanup_free char *line = NULL;
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(&line, fmt, ap) < 0)
        line = NULL;
    va_end(ap);
    if (line == NULL)
        abort();
    struct curl_slist *next = curl_slist_append(x->headers, line);
    if (next == NULL)
        abort();
    x->headers = next;
}

/* Connection, TLS, proxy and callback options of every exchange. */
static void
set_transport(struct sup_remote *r, struct remote_xfer *x, const struct remote_req *req)
{
    CURL *c = x->curl;
    bool http_ok = req->host == NULL || req->host->http_allowed;

    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, r->user_agent);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    /* Blobs are often redirected to a storage service; never from https down to http unless
     * the registry itself may use http. */
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, http_ok ? "http,https" : "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, req->follow_redirects ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    /* A transfer that stalls (under 1 byte/s for a minute) fails and is retried. */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    if (r->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, r->ca_file);
    if (req->host && req->host->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    /* Proxies come from the environment (libcurl's default), but a loopback registry is on
     * this machine: going through a proxy could only reach another machine's loopback. */
    if (url_is_loopback(req->url))
        curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    if (!req->in_multi)
        curl_easy_setopt(c, CURLOPT_SHARE, r->share);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
}

/* The method, the request body and the headers. */
static void
set_request(struct remote_xfer *x, const struct remote_req *req)
{
    CURL *c = x->curl;
    bool put = strcmp(req->method, "PUT") == 0, post = strcmp(req->method, "POST") == 0;

    if (strcmp(req->method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (put || (post && (req->body || req->read))) {
        int64_t size = req->body ? (int64_t)req->body_len : req->read_size;
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, x);
        curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(c, CURLOPT_SEEKDATA, x);
        if (post)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "POST");
        /* Registries answer as soon as the body is in; waiting for 100 Continue costs a second
         * on servers that never send it. */
        add_header(x, "Expect:");
    } else if (post) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    } else if (strcmp(req->method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
    }

    if (req->accept)
        add_header(x, "Accept: %s", req->accept);
    if (req->content_type)
        add_header(x, "Content-Type: %s", req->content_type);
    else if (put || post)
        add_header(x, "Content-Type:"); /* not curl's form type */
    if (req->authorization)
        add_header(x, "Authorization: %s", req->authorization);
    if (req->range_from > 0)
        add_header(x, "Range: bytes=%" PRId64 "-", req->range_from);
    if (x->headers)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->headers);
}

int
sup_remote_xfer_init(struct sup_remote *r, struct remote_xfer *x, const struct remote_req *req,
                     struct berth_err *err)
{
    memset(x, 0, sizeof(*x));
    x->req = req;
    x->resp.content_length = -1;
    if (sup_remote_curl_ready(r, err) < 0)
        return -1;
    x->curl = curl_easy_init();
    if (x->curl == NULL)
        return berth_err_fail(err, ENOMEM, "create curl handle");
    set_transport(r, x, req);
    set_request(x, req);
    return 0;
}

void
sup_remote_xfer_cleanup(struct remote_xfer *x)
{
    if (x->curl)
        curl_easy_cleanup(x->curl);
    x->curl = NULL;
    curl_slist_free_all(x->headers);
    x->headers = NULL;
    resp_clear(&x->resp);
    berth_err_clear(&x->cb_err);
    x->cb_failed = false;
}

/* ---- Outcomes and errors ----------------------------------------------------------------- */

static bool
is_transient_code(CURLcode code)
{
    switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3: return true;
    default: return false;
    }
}

static int
errno_of_code(CURLcode code)
{
    switch (code) {
    case CURLE_COULDNT_CONNECT: return ECONNREFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return EHOSTUNREACH;
    case CURLE_OPERATION_TIMEDOUT: return ETIMEDOUT;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE: return EPROTO;
    case CURLE_UNSUPPORTED_PROTOCOL: return EPERM;
    default: return EIO;
    }
}

static bool
is_transient_status(long status)
{
    return status == 408 || status == 429 || (status >= 500 && status != 501 && status != 505);
}

bool
sup_remote_is_transient(CURLcode code, long status)
{
    return code == CURLE_OK ? is_transient_status(status) : is_transient_code(code);
}

/* Retry-After in seconds (the HTTP-date form is rare from registries and ignored), in ms. */
static unsigned
retry_after_ms(const struct remote_resp *resp)
{
    char *end = NULL;

    if (resp->retry_after == NULL)
        return 0;
    long s = strtol(resp->retry_after, &end, 10);
    if (end == resp->retry_after || *end != '\0' || s < 0)
        return 0;
    return s > 60 ? 60000 : (unsigned)s * 1000;
}

enum remote_outcome
sup_remote_xfer_outcome(struct sup_remote *r, struct remote_xfer *x, unsigned attempt,
                        bool can_reauth, unsigned *delay_ms, struct berth_err *err)
{
    const struct remote_req *req = x->req;
    unsigned max = req->max_attempts ? req->max_attempts : r->max_attempts;

    *delay_ms = 0;
    if (x->cb_failed) {
        /* The sink or the reader refused: their error, as it is, moves to err. */
        berth_err_clear(err);
        *err = x->cb_err;
        memset(&x->cb_err, 0, sizeof(x->cb_err));
        if (err->msg == NULL)
            berth_err_fail(err, EIO, "%s %s: aborted", req->method, req->url);
        return REMOTE_FAILED;
    }
    if (x->code != CURLE_OK) {
        if (is_transient_code(x->code) && attempt < max) {
            *delay_ms = sup_remote_backoff_ms(r, attempt, 0);
            berth_warn("remote: %s %s: %s; attempt %u of %u in %u ms", req->method, req->url,
                       x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->code), attempt + 1, max,
                       *delay_ms);
            return REMOTE_RETRY;
        }
        berth_err_fail(err, errno_of_code(x->code), "%s %s: %s", req->method, req->url,
                       x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->code));
        return REMOTE_FAILED;
    }
    if (x->resp.status == 401 && can_reauth)
        return REMOTE_REAUTH;
    if (is_transient_status(x->resp.status) && attempt < max) {
        *delay_ms = sup_remote_backoff_ms(r, attempt, retry_after_ms(&x->resp));
        berth_warn("remote: %s %s: status %ld; attempt %u of %u in %u ms", req->method, req->url,
                   x->resp.status, attempt + 1, max, *delay_ms);
        return REMOTE_RETRY;
    }
    return REMOTE_DONE;
}

int
sup_remote_status_errno(long status)
{
    switch (status) {
    case 401: return EACCES;
    case 403: return EPERM;
    case 404: return ENOENT;
    case 408:
    case 429:
    case 503: return EAGAIN;
    default: return status >= 500 ? EIO : EINVAL;
    }
}

static const char *
reason_of(long status)
{
    static const struct {
        long status;
        const char *reason;
    } reasons[] = {
        {400, "Bad Request"},        {401, "Unauthorized"},
        {403, "Forbidden"},          {404, "Not Found"},
        {405, "Method Not Allowed"}, {409, "Conflict"},
        {413, "Payload Too Large"},  {416, "Range Not Satisfiable"},
        {429, "Too Many Requests"},  {500, "Internal Server Error"},
        {502, "Bad Gateway"},        {503, "Service Unavailable"},
        {504, "Gateway Timeout"},
    };

    for (size_t i = 0; i < ARRAY_SIZE(reasons); i++) {
        if (reasons[i].status == status)
            return reasons[i].reason;
    }
    return "";
}

/* The registry's error document ({"errors": [{"code", "message", "detail"}]}) as "CODE:
 * message; CODE: message", or NULL when the body is not one. */
static char *
summarize_errors(const struct remote_resp *resp)
{
    cleanup_err struct berth_err jerr = BERTH_ERR_INIT;
    struct json_object *errors = NULL;

    if (resp->body_len == 0)
        return NULL;
    cleanup_json struct json_object *doc = berth_json_parse(resp->body, resp->body_len, &jerr);
    if (doc == NULL || berth_json_get_array(doc, "errors", &errors, &jerr) != 1)
        return NULL;

    char *out = NULL;
    size_t n = json_object_array_length(errors);
    for (size_t i = 0; i < n && i < 4; i++) {
        struct json_object *e = json_object_array_get_idx(errors, i);
        const char *code = NULL, *message = NULL;
        if (berth_json_get_string(e, "code", &code, &jerr) < 0 ||
            berth_json_get_string(e, "message", &message, &jerr) < 0)
            berth_err_clear(&jerr);
        char *one = xasprintf("%s%s%s", code ? code : "", code && message ? ": " : "",
                              message ? message : "");
        char *joined = out ? xasprintf("%s; %s", out, one) : xstrdup(one);
        free(one);
        free(out);
        out = joined;
    }
    return out;
}

/* The first line of a text body, cut at 200 bytes, when it is printable; else NULL. */
static char *
body_line(const struct remote_resp *resp)
{
    size_t n = 0;

    if (resp->body_len == 0)
        return NULL;
    while (n < resp->body_len && n < 200 && resp->body[n] != '\n' && resp->body[n] != '\r') {
        if (!isprint((unsigned char)resp->body[n]) && resp->body[n] != '\t')
            return NULL;
        n++;
    }
    return n ? xstrndup(resp->body, n) : NULL;
}

int
sup_remote_status_error(const struct remote_xfer *x, struct berth_err *err)
{
    const struct remote_resp *resp = &x->resp;
    cleanup_free char *detail = summarize_errors(resp);
    const char *reason = resp->reason ? resp->reason : reason_of(resp->status);

    if (detail == NULL)
        detail = body_line(resp);
    return berth_err_fail(err, sup_remote_status_errno(resp->status), "%s %s: %ld%s%s%s%s",
                          x->req->method, x->req->url, resp->status, *reason ? " " : "", reason,
                          detail ? ": " : "", detail ? detail : "");
}

/* ---- The serial request loop ------------------------------------------------------------- */

int
sup_remote_call(struct sup_remote *r, struct remote_req *req, const char *scope,
                void (*before_attempt)(void *data, struct remote_req *req), void *data,
                struct remote_xfer *x, struct berth_err *err)
{
    bool reauthed = false;

    for (unsigned attempt = 1;; attempt++) {
        cleanup_free char *auth = NULL;
        unsigned delay = 0;

        if (scope) {
            if (sup_remote_auth_header(r, req->host, scope, &auth, err) < 0)
                return -1;
            req->authorization = auth;
        }
        if (before_attempt)
            before_attempt(data, req);
        int rc = sup_remote_xfer_init(r, x, req, err);
        if (rc == 0)
            x->code = curl_easy_perform(x->curl);
        if (scope)
            req->authorization = NULL;
        if (rc < 0)
            return -1;

        switch (sup_remote_xfer_outcome(r, x, attempt, scope != NULL && !reauthed, &delay, err)) {
        case REMOTE_DONE:
            if (x->resp.status != 401 || scope == NULL)
                return 0;
            {
                cleanup_free char *who = sup_remote_auth_describe(r, req->host);
                sup_remote_status_error(x, err);
                sup_remote_xfer_cleanup(x);
                return berth_err_wrap(err, "authentication to `%s` failed with %s", req->host->name,
                                      who);
            }
        case REMOTE_RETRY:
            sup_remote_xfer_cleanup(x);
            sup_remote_sleep_ms(delay);
            break;
        case REMOTE_REAUTH: {
            cleanup_err struct berth_err why = BERTH_ERR_INIT;
            reauthed = true;
            attempt--; /* an authentication round is not a failed attempt */
            if (sup_remote_auth_challenged(r, req->host, scope, x->resp.www_authenticate,
                                           auth != NULL, &why) < 0) {
                sup_remote_status_error(x, err);
                berth_err_fail(err, EACCES, "%s: %s", err->msg, why.msg);
                sup_remote_xfer_cleanup(x);
                return -1;
            }
            sup_remote_xfer_cleanup(x);
            break;
        }
        case REMOTE_FAILED: sup_remote_xfer_cleanup(x); return -1;
        }
    }
}
