/* SPDX-License-Identifier: Apache-2.0
 *
 * Reading a request and building its answer on libmicrohttpd (request.h).
 */
#include "engine/api/request.h"

#include <errno.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"

const char *
eng_api_query(struct eng_api_req *req, const char *key)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

struct collect {
    const char *key;
    char **v;
    size_t n;
};

static enum MHD_Result
collect_value(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct collect *c = cls;
    if (strcmp(key, c->key) == 0 && value) {
        c->v = xrealloc(c->v, (c->n + 2) * sizeof(*c->v));
        c->v[c->n++] = xstrdup(value);
        c->v[c->n] = NULL;
    }
    return MHD_YES;
}

char **
eng_api_query_all(struct eng_api_req *req, const char *key, size_t *n)
{
    struct collect c = {.key = key};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, collect_value, &c);
    if (!c.v)
        c.v = xzalloc(sizeof(*c.v));
    *n = c.n;
    return c.v;
}

int
eng_api_query_bool(struct eng_api_req *req, const char *key, bool *out, struct berth_err *err)
{
    const char *v = eng_api_query(req, key);
    *out = false;
    if (!v || !*v || strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0)
        return 0;
    if (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0) {
        *out = true;
        return 0;
    }
    return berth_err_fail(err, EINVAL, "invalid value for query parameter `%s`: `%s`", key, v);
}

const char *
eng_api_header(struct eng_api_req *req, const char *key)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, key);
}

int
eng_api_body_json(struct eng_api_req *req, struct json_object **out, struct berth_err *err)
{
    *out = NULL;
    if (req->body_len == 0)
        return 0;
    struct json_object *o = berth_json_parse(req->body, req->body_len, err);
    if (!o) {
        err->code = EINVAL;
        return berth_err_wrap(err, "invalid JSON body");
    }
    if (!json_object_is_type(o, json_type_object)) {
        const char *t = berth_json_type_name(o);
        json_object_put(o);
        return berth_err_fail(err, EINVAL, "invalid JSON body: expected an object, got %s", t);
    }
    *out = o;
    return 0;
}

void
eng_api_add_headers(struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "Api-Version", ENG_API_VERSION);
    MHD_add_response_header(resp, "Docker-Experimental", "false");
    MHD_add_response_header(resp, "OSType", "linux");
    MHD_add_response_header(resp, "Server", "berth/" BERTH_VERSION " (linux)");
}

static void
set_response(struct eng_api_req *req, unsigned status, struct MHD_Response *resp, const char *ctype)
{
    if (req->resp)
        MHD_destroy_response(req->resp);
    if (ctype)
        MHD_add_response_header(resp, "Content-Type", ctype);
    req->resp = resp;
    req->status = status;
}

int
eng_api_reply_data(struct eng_api_req *req, unsigned status, const char *ctype, const void *data,
                   size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    set_response(req, status, r, ctype);
    return 0;
}

int
eng_api_reply_json(struct eng_api_req *req, unsigned status, struct json_object *obj)
{
    size_t len = 0;
    const char *s = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    cleanup_free char *line = xasprintf("%s\n", s);
    json_object_put(obj);
    return eng_api_reply_data(req, status, "application/json", line, strlen(line));
}

void
eng_api_reply_error(struct eng_api_req *req, const struct berth_err *err)
{
    int status = berth_err_to_http(err->code);
    cleanup_free char *msg = berth_err_string(err);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "message", json_object_new_string(msg ? msg : "error"));
    eng_api_reply_json(req, (unsigned)status, o);
}

void
eng_api_append_json(char **buf, size_t *len, struct json_object *obj)
{
    size_t n = 0;
    const char *s = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    *buf = xrealloc(*buf, *len + n + 2);
    memcpy(*buf + *len, s, n);
    (*buf)[*len + n] = '\n';
    *len += n + 1;
    (*buf)[*len] = '\0';
    json_object_put(obj);
}

struct stream {
    const struct eng_api_stream_ops *ops;
    void *ctx;
    char *buf;
    size_t len, off;
    bool ended;
};

static ssize_t
stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct stream *s = cls;
    while (s->off == s->len) {
        if (s->ended)
            return MHD_CONTENT_READER_END_OF_STREAM;
        free(s->buf);
        s->buf = NULL;
        s->len = s->off = 0;
        if (s->ops->next(s->ctx, &s->buf, &s->len) <= 0)
            s->ended = true;
    }
    size_t n = s->len - s->off < max ? s->len - s->off : max;
    memcpy(out, s->buf + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

static void
stream_free(void *cls)
{
    struct stream *s = cls;
    s->ops->done(s->ctx);
    free(s->buf);
    free(s);
}

int
eng_api_reply_stream(struct eng_api_req *req, unsigned status, const char *ctype,
                     const struct eng_api_stream_ops *ops, void *ctx)
{
    struct stream *s = xzalloc(sizeof(*s));
    s->ops = ops;
    s->ctx = ctx;
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, stream_read, s, stream_free);
    set_response(req, status, r, ctype);
    return 0;
}

/* ---------------------------------------------------------------- upgrades */

/* Owned by the request and, while it runs, by the session: whichever ends last frees it
 * (MHD may report the request complete while the session still runs). */
struct upgrade {
    const struct eng_api_upgrade_ops *ops;
    void *ctx;
    int refs;
};

static void
upgrade_unref(struct upgrade *u)
{
    if (__atomic_sub_fetch(&u->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        u->ops->done(u->ctx);
        free(u);
    }
}

/* Runs on the connection's own thread (thread-per-connection), so the session may block. */
static void
on_upgraded(void *cls, struct MHD_Connection *conn, void *con_cls, const char *extra_in,
            size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
    (void)conn;
    (void)con_cls;
    struct upgrade *u = cls;
    __atomic_add_fetch(&u->refs, 1, __ATOMIC_ACQ_REL);
    u->ops->session(u->ctx, sock, extra_in, extra_in_size);
    MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
    upgrade_unref(u);
}

void
eng_api_req_release_upgrade(struct eng_api_req *req)
{
    if (req->upgrade)
        upgrade_unref(req->upgrade);
    req->upgrade = NULL;
}

int
eng_api_reply_upgrade(struct eng_api_req *req, const char *ctype,
                      const struct eng_api_upgrade_ops *ops, void *ctx, struct berth_err *err)
{
    const char *conn = eng_api_header(req, "Connection");
    const char *up = eng_api_header(req, "Upgrade");
    if (!conn || !strcasestr(conn, "upgrade") || !up) {
        ops->done(ctx);
        return berth_err_fail(err, EINVAL,
                              "this endpoint hijacks the connection: send `Connection: Upgrade` "
                              "and `Upgrade: tcp`");
    }
    struct upgrade *u = xzalloc(sizeof(*u));
    u->ops = ops;
    u->ctx = ctx;
    u->refs = 1;
    struct MHD_Response *r = MHD_create_response_for_upgrade(on_upgraded, u);
    if (!r) {
        free(u);
        ops->done(ctx);
        return berth_err_fail(err, ENOMEM, "create an upgrade response");
    }
    MHD_add_response_header(r, "Upgrade", "tcp");
    set_response(req, 101, r, ctype);
    /* MHD has no free callback for upgrade responses: the request's end releases it
     * (server.c, eng_api_req_release_upgrade). */
    req->upgrade = u;
    return 0;
}
