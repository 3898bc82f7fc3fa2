/* SPDX-License-Identifier: Apache-2.0
 *
 * The container endpoints that carry a process's bytes: logs (the json-file log the shim
 * writes, engine/logs), attach and exec start (hijacked connections joined to the shim's
 * attach sockets, engine/containers/attach.c), exec create and inspect, and resize.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/api/handlers.h"
#include "engine/api/request.h"
#include "engine/api/router.h"
#include "engine/containers/containers.h"
#include "engine/daemon.h"
#include "engine/events/timestamp.h"
#include "engine/logs/reader.h"

#define RAW_STREAM "application/vnd.docker.raw-stream"

static struct eng_ctr *
find(struct eng_api_req *req, struct berth_err *err)
{
    return eng_ctr_find(req->d, eng_api_param(&req->params, "id"), err);
}

static bool
config_bool(struct eng_ctr *c, const char *key)
{
    struct json_object *v = NULL;
    return json_object_object_get_ex(c->config, key, &v) && json_object_get_boolean(v);
}

static int64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---------------------------------------------------------------- logs */

struct logs {
    struct eng_daemon *d;
    struct eng_ctr *c;
    struct eng_logs *r;
};

/* Following ends when the container stops (or berthd does). */
static bool
logs_alive(void *data)
{
    struct logs *l = data;
    if (__atomic_load_n(&l->d->stopping, __ATOMIC_ACQUIRE))
        return false;
    pthread_mutex_lock(&l->c->lock);
    bool alive = (l->c->status == ENG_CTR_RUNNING || l->c->status == ENG_CTR_PAUSED ||
                  l->c->status == ENG_CTR_RESTARTING || l->c->starting) &&
                 !l->c->removed;
    pthread_mutex_unlock(&l->c->lock);
    return alive;
}

static int
logs_next(void *ctx, char **buf, size_t *len)
{
    struct logs *l = ctx;
    struct berth_err err = BERTH_ERR_INIT;
    int r = eng_logs_next(l->r, buf, len, logs_alive, l, &err);
    if (r < 0) {
        berth_err_warn(&err);
        return 0;
    }
    return r;
}

static void
logs_done(void *ctx)
{
    struct logs *l = ctx;
    eng_logs_close(l->r);
    eng_ctr_put(l->c);
    free(l);
}

static int
time_arg(struct eng_api_req *req, const char *key, int64_t *out, struct berth_err *err)
{
    const char *v = eng_api_query(req, key);
    *out = 0;
    if (!v || !*v || strcmp(v, "0") == 0)
        return 0;
    if (eng_events_parse_time(v, now_ns(), out, err) < 0)
        return berth_err_wrap(err, "%s", key);
    return 0;
}

ENG_API_HANDLER(eng_api_containers_logs)
{
    static const struct eng_api_stream_ops ops = {logs_next, logs_done};
    struct eng_logs_opts o = {.tail = -1};
    if (eng_api_query_bool(req, "follow", &o.follow, err) < 0 ||
        eng_api_query_bool(req, "stdout", &o.stdout_, err) < 0 ||
        eng_api_query_bool(req, "stderr", &o.stderr_, err) < 0 ||
        eng_api_query_bool(req, "timestamps", &o.timestamps, err) < 0 ||
        time_arg(req, "since", &o.since_ns, err) < 0 ||
        time_arg(req, "until", &o.until_ns, err) < 0)
        return -1;
    if (!o.stdout_ && !o.stderr_)
        return berth_err_fail(err, EINVAL, "Bad parameters: you must choose at least one stream");
    const char *tail = eng_api_query(req, "tail");
    if (tail && *tail && strcmp(tail, "all") != 0) {
        char *end = NULL;
        long n = strtol(tail, &end, 10);
        if (*end || n < 0)
            return berth_err_fail(err, EINVAL, "invalid value for tail: %s", tail);
        o.tail = n;
    }
    cleanup_ctr struct eng_ctr *c = find(req, err);
    if (!c)
        return -1;
    if (!c->log_path || !*c->log_path)
        return berth_err_fail(err, ENOTSUP, "configured logging driver does not support reading");
    o.tty = config_bool(c, "Tty");
    struct eng_logs *r = NULL;
    if (eng_logs_open(c->log_path, &o, &r, err) < 0)
        return -1;
    struct logs *l = xzalloc(sizeof(*l));
    l->d = req->d;
    l->c = steal_ptr(&c);
    l->r = r;
    return eng_api_reply_stream(
        req, 200, o.tty ? RAW_STREAM : "application/vnd.docker.multiplexed-stream", &ops, l);
}

/* ---------------------------------------------------------------- attach */

struct session {
    struct eng_daemon *d;
    struct eng_attach *a;
    struct eng_exec *e; /* for exec start */
};

static void
session_run(void *ctx, int fd, const char *extra, size_t n)
{
    struct session *s = ctx;
    eng_attach_run(s->a, fd, extra, n);
    if (s->e) {
        int status = eng_attach_exit_status(s->a);
        if (status >= 0)
            eng_exec_exited(s->d, eng_exec_id(s->e), status);
    }
}

static void
session_done(void *ctx)
{
    struct session *s = ctx;
    eng_attach_free(s->a);
    eng_exec_put(s->e);
    free(s);
}

static const struct eng_api_upgrade_ops session_ops = {session_run, session_done};

ENG_API_HANDLER(eng_api_containers_attach)
{
    bool stream, in, out, errs, logs;
    if (eng_api_query_bool(req, "stream", &stream, err) < 0 ||
        eng_api_query_bool(req, "stdin", &in, err) < 0 ||
        eng_api_query_bool(req, "stdout", &out, err) < 0 ||
        eng_api_query_bool(req, "stderr", &errs, err) < 0 ||
        eng_api_query_bool(req, "logs", &logs, err) < 0)
        return -1;
    cleanup_ctr struct eng_ctr *c = find(req, err);
    if (!c)
        return -1;
    if (logs && !stream)
        return berth_err_fail(err, ENOTSUP, "attach with logs only: read GET /containers/%s/logs",
                              c->id);
    struct eng_attach_opts o = {
        .in = in && config_bool(c, "OpenStdin"),
        .out = out,
        .err = errs,
        .tty = config_bool(c, "Tty"),
        .stdin_once = config_bool(c, "StdinOnce"),
        .detach_keys = eng_api_query(req, "detachKeys"),
    };
    struct eng_attach *a = eng_attach_new(req->d, c, &o, err);
    if (!a)
        return -1;
    struct session *s = xzalloc(sizeof(*s));
    s->d = req->d;
    s->a = a;
    return eng_api_reply_upgrade(req, RAW_STREAM, &session_ops, s, err);
}

static int
size_args(struct eng_api_req *req, unsigned *h, unsigned *w, struct berth_err *err)
{
    const char *hs = eng_api_query(req, "h"), *ws = eng_api_query(req, "w");
    char *e1 = NULL, *e2 = NULL;
    long hv = hs ? strtol(hs, &e1, 10) : -1, wv = ws ? strtol(ws, &e2, 10) : -1;
    if (!hs || !ws || *e1 || *e2 || hv < 0 || wv < 0 || hv > 65535 || wv > 65535)
        return berth_err_fail(err, EINVAL, "resize: h and w must be integers in 0..65535");
    *h = (unsigned)hv;
    *w = (unsigned)wv;
    return 0;
}

ENG_API_HANDLER(eng_api_containers_resize)
{
    unsigned h, w;
    if (size_args(req, &h, &w, err) < 0)
        return -1;
    cleanup_ctr struct eng_ctr *c = find(req, err);
    if (!c)
        return -1;
    pthread_mutex_lock(&c->lock);
    bool running = c->status == ENG_CTR_RUNNING || c->status == ENG_CTR_PAUSED;
    pthread_mutex_unlock(&c->lock);
    if (!running)
        return berth_err_fail(err, EBUSY, "Container %s is not running", c->id);
    if (eng_ctr_resize(req->d, c->id, NULL, h, w, err) < 0)
        return -1;
    return eng_api_reply_data(req, 200, NULL, "", 0);
}

/* ---------------------------------------------------------------- exec */

ENG_API_HANDLER(eng_api_exec_create)
{
    cleanup_json struct json_object *body = NULL;
    if (eng_api_body_json(req, &body, err) < 0)
        return -1;
    cleanup_ctr struct eng_ctr *c = find(req, err);
    if (!c)
        return -1;
    cleanup_free char *id = NULL;
    if (eng_exec_create(req->d, c, body, &id, err) < 0)
        return -1;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "Id", json_object_new_string(id));
    return eng_api_reply_json(req, 201, o);
}

static struct eng_exec *
find_exec(struct eng_api_req *req, struct berth_err *err)
{
    return eng_exec_find(req->d, eng_api_param(&req->params, "id"), err);
}

ENG_API_HANDLER(eng_api_exec_start)
{
    cleanup_json struct json_object *body = NULL;
    if (eng_api_body_json(req, &body, err) < 0)
        return -1;
    struct json_object *v = NULL;
    bool detach =
        body && json_object_object_get_ex(body, "Detach", &v) && json_object_get_boolean(v);
    bool tty = body && json_object_object_get_ex(body, "Tty", &v) && json_object_get_boolean(v);
    struct eng_exec *e = find_exec(req, err);
    if (!e)
        return -1;
    struct eng_attach *a = NULL;
    if (eng_exec_start(req->d, e, detach, tty, &a, err) < 0) {
        eng_exec_put(e);
        return -1;
    }
    if (detach) {
        eng_exec_put(e);
        return eng_api_reply_data(req, 200, NULL, "", 0);
    }
    struct session *s = xzalloc(sizeof(*s));
    s->d = req->d;
    s->a = a;
    s->e = e;
    return eng_api_reply_upgrade(req, RAW_STREAM, &session_ops, s, err);
}

ENG_API_HANDLER(eng_api_exec_inspect)
{
    struct eng_exec *e = find_exec(req, err);
    if (!e)
        return -1;
    struct json_object *o = eng_exec_inspect(e);
    eng_exec_put(e);
    return eng_api_reply_json(req, 200, o);
}

ENG_API_HANDLER(eng_api_exec_resize)
{
    unsigned h, w;
    if (size_args(req, &h, &w, err) < 0)
        return -1;
    struct eng_exec *e = find_exec(req, err);
    if (!e)
        return -1;
    int rc = eng_ctr_resize(req->d, eng_exec_container_id(e), eng_exec_id(e), h, w, err);
    eng_exec_put(e);
    return rc < 0 ? -1 : eng_api_reply_data(req, 200, NULL, "", 0);
}
