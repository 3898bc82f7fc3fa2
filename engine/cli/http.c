/* SPDX-License-Identifier: Apache-2.0
 *
 * The libcurl side of berth (see http.h). One easy handle a request: the CLI makes few
 * requests, and each goes over a fresh unix-socket connection, which costs nothing.
 */
#include "engine/cli/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/cli/cli.h"

struct xfer {
    const struct cli_request *req;
    struct cli_response *resp;
    long status;
    struct berth_err *err;
    bool failed; /* on_data refused: err holds why */
};

static void
append(struct cli_response *resp, const char *data, size_t len)
{
    resp->body = xrealloc(resp->body, resp->body_len + len + 1);
    memcpy(resp->body + resp->body_len, data, len);
    resp->body_len += len;
    resp->body[resp->body_len] = '\0';
}

static size_t
on_write(char *data, size_t size, size_t nmemb, void *opaque)
{
    struct xfer *x = opaque;
    size_t len = size * nmemb;
    /* Error bodies are always kept whole, for their message. */
    if (x->req->on_data && x->status >= 200 && x->status < 300) {
        if (x->req->on_data(x->req->opaque, data, len, x->err) < 0) {
            x->failed = true;
            return 0;
        }
        return len;
    }
    append(x->resp, data, len);
    return len;
}

/* The status line arrives before any body byte: keep it so that on_write knows whether the
 * body is a stream to pass on or an error to keep. */
static size_t
on_header(char *data, size_t size, size_t nmemb, void *opaque)
{
    struct xfer *x = opaque;
    size_t len = size * nmemb;
    if (len > 9 && strncmp(data, "HTTP/", 5) == 0) {
        const char *sp = memchr(data, ' ', len);
        if (sp)
            x->status = strtol(sp + 1, NULL, 10);
        if (x->req->on_status && x->status >= 200)
            x->req->on_status(x->req->status_opaque, x->status);
    }
    static const char stat_hdr[] = "X-Docker-Container-Path-Stat:";
    if (len > sizeof(stat_hdr) && strncasecmp(data, stat_hdr, sizeof(stat_hdr) - 1) == 0) {
        const char *v = data + sizeof(stat_hdr) - 1;
        size_t n = len - (sizeof(stat_hdr) - 1);
        while (n && (*v == ' ' || *v == '\t'))
            v++, n--;
        while (n && (v[n - 1] == '\r' || v[n - 1] == '\n'))
            n--;
        free(x->resp->path_stat);
        x->resp->path_stat = xstrndup(v, n);
    }
    return len;
}

static int
on_progress(void *opaque, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
            curl_off_t ulnow)
{
    const volatile bool *cancel = opaque;
    return *cancel ? 1 : 0;
}

int
cli_status_errno(long status)
{
    switch (status) {
    case 400: return EINVAL;
    case 401:
    case 403: return EACCES;
    case 404: return ENOENT;
    case 409: return EEXIST;
    case 501: return ENOTSUP;
    case 304: return EALREADY;
    default: return EIO;
    }
}

/* "Error response from daemon: <message>" from a JSON error body (or the raw body). */
static int
daemon_error(const struct cli_response *resp, struct berth_err *err)
{
    int code = cli_status_errno(resp->status);
    if (resp->body_len) {
        struct berth_err perr = BERTH_ERR_INIT;
        cleanup_json struct json_object *o = berth_json_parse(resp->body, resp->body_len, &perr);
        berth_err_clear(&perr);
        const char *msg = NULL;
        if (o && berth_json_get_string(o, "message", &msg, &perr) > 0)
            return berth_err_fail(err, code, "Error response from daemon: %s", msg);
        berth_err_clear(&perr);
        size_t n = resp->body_len;
        while (n && (resp->body[n - 1] == '\n' || resp->body[n - 1] == '\r'))
            n--;
        return berth_err_fail(err, code, "Error response from daemon: %.*s", (int)n, resp->body);
    }
    return berth_err_fail(err, code, "Error response from daemon: status %ld", resp->status);
}

int
cli_http_do(const struct cli_global *g, const struct cli_request *req, struct cli_response *resp,
            struct berth_err *err)
{
    memset(resp, 0, sizeof(*resp));
    CURL *c = curl_easy_init();
    if (!c)
        return berth_err_fail(err, ENOMEM, "initialize libcurl");
    struct curl_slist *hdrs = NULL;
    cleanup_free char *url = xasprintf("http://berthd" CLI_API_PREFIX "%s", req->path);
    cleanup_fclose FILE *upload = NULL;
    const char *body = NULL;
    struct xfer x = {.req = req, .resp = resp, .err = err};
    int rc = -1;

    curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, g->socket_path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "berth/" BERTH_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (req->cancel) {
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)req->cancel);
    }
    if (strcmp(req->method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    for (const char *const *h = req->headers; h && *h; h++)
        hdrs = curl_slist_append(hdrs, *h);
    if (req->json) {
        body = json_object_to_json_string_ext(req->json, JSON_C_TO_STRING_PLAIN |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE);
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else if (req->body_file) {
        upload = fopen(req->body_file, "rb");
        if (!upload) {
            berth_err_set(err, errno, "open `%s`", req->body_file);
            goto out;
        }
        hdrs = curl_slist_append(hdrs, "Content-Type: application/x-tar");
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READDATA, upload);
        /* A file has a length; a pipe (stdin) goes chunked. */
        struct stat st;
        if (fstat(fileno(upload), &st) == 0 && S_ISREG(st.st_mode))
            curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)st.st_size);
        /* CURLOPT_UPLOAD makes a PUT; the custom request keeps the method. */
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
        hdrs = curl_slist_append(hdrs, "Expect:");
    } else if (strcmp(req->method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);

    CURLcode cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    if (x.failed)
        goto out;
    if (cc == CURLE_COULDNT_CONNECT || (cc != CURLE_OK && resp->status == 0)) {
        if (cc == CURLE_COULDNT_CONNECT)
            berth_err_fail(err, ECONNREFUSED,
                           "Cannot connect to berthd at unix://%s. Is berthd running?",
                           g->socket_path);
        else
            berth_err_fail(err, EIO, "request to berthd at unix://%s: %s", g->socket_path,
                           curl_easy_strerror(cc));
        goto out;
    }
    if (resp->status >= 400) {
        daemon_error(resp, err);
        goto out;
    }
    if (cc != CURLE_OK) {
        berth_err_fail(err, EIO, "%s %s: %s", req->method, req->path, curl_easy_strerror(cc));
        goto out;
    }
    rc = 0;
out:
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    return rc;
}

void
cli_response_free(struct cli_response *resp)
{
    free(resp->body);
    resp->body = NULL;
    free(resp->path_stat);
    resp->path_stat = NULL;
    resp->body_len = 0;
}

int
cli_api(const struct cli_global *g, const char *method, const char *path, struct json_object *body,
        struct json_object **out, struct berth_err *err)
{
    struct cli_request req = {.method = method, .path = path, .json = body};
    struct cli_response resp;
    int rc = cli_http_do(g, &req, &resp, err);
    if (rc == 0 && out) {
        *out = NULL;
        if (resp.body_len) {
            *out = berth_json_parse(resp.body, resp.body_len, err);
            if (!*out) {
                berth_err_wrap(err, "%s %s: the daemon's answer", method, path);
                rc = -1;
            }
        }
    }
    cli_response_free(&resp);
    return rc;
}

char *
cli_escape(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0);
    char *r = xstrdup(e ? e : "");
    curl_free(e);
    return r;
}

int
cli_lines_feed(struct cli_lines *l, const char *data, size_t len, struct berth_err *err)
{
    l->buf = xrealloc(l->buf, l->len + len + 1);
    memcpy(l->buf + l->len, data, len);
    l->len += len;
    l->buf[l->len] = '\0';
    char *start = l->buf, *nl;
    while ((nl = memchr(start, '\n', l->len - (size_t)(start - l->buf)))) {
        *nl = '\0';
        if (nl > start && nl[-1] == '\r')
            nl[-1] = '\0';
        if (*start && l->on_line(l->opaque, start, err) < 0)
            return -1;
        start = nl + 1;
    }
    size_t rest = l->len - (size_t)(start - l->buf);
    memmove(l->buf, start, rest);
    l->len = rest;
    return 0;
}

int
cli_lines_finish(struct cli_lines *l, struct berth_err *err)
{
    int rc = 0;
    if (l->len) {
        l->buf[l->len] = '\0';
        rc = l->on_line(l->opaque, l->buf, err);
    }
    free(l->buf);
    l->buf = NULL;
    l->len = 0;
    return rc;
}

int
cli_lines_on_data(void *opaque, const char *data, size_t len, struct berth_err *err)
{
    return cli_lines_feed(opaque, data, len, err);
}
