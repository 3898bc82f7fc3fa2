/* SPDX-License-Identifier: Apache-2.0
 *
 * The control socket (server.h). Frames come in through berth_frame_reader, requests are
 * decoded with the request descriptor of the method table and handed to task.c; replies and
 * events are queued per client and written as the client takes them. A request is served to
 * the end (runtime call included) before the next is read: the shim's state only ever changes
 * between two requests, which is what keeps the handlers simple.
 *
 * A client that sends a frame that is not one, or falls CLIENT_QUEUE_MAX behind on what it is
 * sent, is disconnected; nothing a client does stops the shim.
 */
#include "shim/server.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/frame.h"
#include "common/log.h"
#include "common/sock.h"
#include "shim/buf.h"
#include "shim/loop.h"
#include "shim/shim.h"
#include "shim/task.h"

#define CLIENT_QUEUE_MAX (64u << 20)

/* clang-format off */
static const struct {
    const char *name;
    const ProtobufCMessageDescriptor *request;
    shim_method_fn fn;
} methods[] = {
    {"Create",  &berth__shim__v1__create_request__descriptor,   shim_task_create},
    {"Start",   &berth__shim__v1__start_request__descriptor,    shim_task_start},
    {"Exec",    &berth__shim__v1__exec_request__descriptor,     shim_task_exec},
    {"Kill",    &berth__shim__v1__kill_request__descriptor,     shim_task_kill},
    {"Delete",  &berth__shim__v1__delete_request__descriptor,   shim_task_delete},
    {"State",   &berth__shim__v1__state_request__descriptor,    shim_task_state},
    {"List",    &berth__shim__v1__empty__descriptor,            shim_task_list},
    {"Pause",   &berth__shim__v1__empty__descriptor,            shim_task_pause},
    {"Resume",  &berth__shim__v1__empty__descriptor,            shim_task_resume},
    {"Pids",    &berth__shim__v1__empty__descriptor,            shim_task_pids},
    {"Update",  &berth__shim__v1__update_request__descriptor,   shim_task_update},
    {"Resize",  &berth__shim__v1__resize_request__descriptor,   shim_task_resize},
    {"CloseIO", &berth__shim__v1__close_iorequest__descriptor,  shim_task_close_io},
    {"Stats",   &berth__shim__v1__empty__descriptor,            shim_task_stats},
    {"Connect", &berth__shim__v1__empty__descriptor,            shim_task_connect},
};
/* clang-format on */

struct shim_reply {
    uint8_t *payload; /* packed response; NULL until set */
    size_t len;
};

struct server_client {
    struct server_client *next;
    struct shim_server *srv;
    int fd;
    bool closed;
    uint32_t events;
    struct berth_frame_reader reader;
    struct shim_buf out;
};

struct shim_server {
    struct shim *s;
    char *path;
    int fd;
    struct server_client *clients;
};

void
shim_reply_set(struct shim_reply *reply, const ProtobufCMessage *msg)
{
    free(reply->payload);
    reply->len = protobuf_c_message_get_packed_size(msg);
    reply->payload = xmalloc(reply->len ? reply->len : 1);
    protobuf_c_message_pack(msg, reply->payload);
}

/* ---- Clients ----------------------------------------------------------------------------- */

static void
client_free(void *p)
{
    struct server_client *c = p;

    berth_frame_reader_release(&c->reader);
    shim_buf_release(&c->out);
    free(c);
}

static void
client_close(struct server_client *c)
{
    struct shim_server *srv = c->srv;

    if (c->closed)
        return;
    c->closed = true;
    for (struct server_client **p = &srv->clients; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    shim_loop_del(srv->s->loop, c->fd);
    close(c->fd);
    shim_loop_defer(srv->s->loop, client_free, c);
}

static void
client_flush(struct server_client *c)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;

    if (shim_buf_flush(&c->out, c->fd) < 0) {
        berth_debug("client gone: %s", strerror(errno));
        client_close(c);
        return;
    }
    uint32_t ev = EPOLLIN | (c->out.len ? EPOLLOUT : 0);
    if (ev != c->events) {
        if (shim_loop_mod(c->srv->s->loop, c->fd, ev, &err) < 0) {
            berth_err_warn(&err);
            client_close(c);
            return;
        }
        c->events = ev;
    }
}

static void
client_send(struct server_client *c, const berth_frame *f)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    cleanup_free uint8_t *buf = NULL;
    size_t len;

    if (c->closed)
        return;
    if (berth_frame_encode(f, &buf, &len, &err) < 0) {
        /* A reply too big to frame (Stats of a huge container?) becomes an error reply. */
        berth_frame *e = berth_frame_new_error(f->id, err.code, err.msg);
        berth_frame_encode(e, &buf, &len, NULL);
        berth_frame_free(e);
    }
    if (c->out.len + len > CLIENT_QUEUE_MAX) {
        berth_warn("client fell %zu bytes behind, disconnecting it", c->out.len);
        client_close(c);
        return;
    }
    shim_buf_add(&c->out, buf, len);
    client_flush(c);
}

/* ---- Requests ---------------------------------------------------------------------------- */

static berth_frame *
call(struct shim *s, const berth_frame *req)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct shim_reply reply = {NULL, 0};
    size_t i;

    for (i = 0; i < ARRAY_SIZE(methods); i++)
        if (strcmp(methods[i].name, req->method) == 0)
            break;
    if (i == ARRAY_SIZE(methods)) {
        cleanup_free char *e = xasprintf("unknown method `%s`", req->method);
        return berth_frame_new_error(req->id, ENOTSUP, e);
    }

    ProtobufCMessage *msg =
        protobuf_c_message_unpack(methods[i].request, NULL, req->payload.len, req->payload.data);
    if (msg == NULL) {
        cleanup_free char *e = xasprintf("malformed %s request", req->method);
        return berth_frame_new_error(req->id, EINVAL, e);
    }
    berth_debug("call %s", req->method);
    int rc = methods[i].fn(s, msg, &reply, &err);
    protobuf_c_message_free_unpacked(msg, NULL);

    if (rc < 0) {
        cleanup_free char *e = berth_err_string(&err);
        berth_debug("%s failed: %s", req->method, e);
        free(reply.payload);
        berth_frame *f = berth_frame_new_error(req->id, err.code ? err.code : EIO, e);
        free(f->method);
        f->method = xstrdup(req->method);
        return f;
    }
    berth_frame *f = berth_frame_new(req->id, req->method, NULL);
    f->payload.data = reply.payload;
    f->payload.len = reply.len;
    return f;
}

static void
serve(struct server_client *c, const berth_frame *req)
{
    struct shim *s = c->srv->s;

    if (req->id == 0) {
        berth_debug("request without an id ignored (method `%s`)", req->method);
        return;
    }
    berth_frame *reply = call(s, req);
    client_send(c, reply);
    berth_frame_free(reply);
    /* A request may have allocated much (config.json, a runtime's output, a big reply) and
     * freed it all: give the pages back once this pass is over. */
    shim_loop_trim(s->loop);
    if (s->exiting) {
        shim_server_flush(c->srv, 1000);
        shim_loop_stop(s->loop);
    }
}

static void
on_client(struct shim_loop *loop, int fd, uint32_t events, void *data)
{
    struct server_client *c = data;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;

    if (events & EPOLLOUT) {
        client_flush(c);
        if (c->closed)
            return;
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        return;
    int rc = berth_frame_reader_fill(&c->reader, fd, &err);
    berth_frame *f = NULL;
    int got = 0;
    while (!c->closed && !c->srv->s->exiting &&
           (got = berth_frame_reader_next(&c->reader, &f, &err)) > 0) {
        serve(c, f);
        berth__shim__v1__frame__free_unpacked(f, NULL);
    }
    if (c->closed || c->srv->s->exiting)
        return;
    if (rc < 0 || got < 0) {
        berth_warn("client sent a bad frame, disconnecting it: %s", err.msg);
        client_close(c);
    } else if (rc == 0) {
        client_close(c);
    }
}

static void
on_accept(struct shim_loop *loop, int fd, uint32_t events, void *data)
{
    struct shim_server *srv = data;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;

    for (;;) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno != EAGAIN && errno != EINTR)
                berth_warn("accept: %s", strerror(errno));
            return;
        }
        struct server_client *c = xzalloc(sizeof(*c));
        c->srv = srv;
        c->fd = cfd;
        c->events = EPOLLIN;
        if (shim_loop_add(loop, cfd, EPOLLIN, on_client, c, &err) < 0) {
            berth_err_warn(&err);
            close(cfd);
            free(c);
            continue;
        }
        c->next = srv->clients;
        srv->clients = c;
        berth_debug("client connected");
    }
}

/* ---- The server -------------------------------------------------------------------------- */

struct shim_server *
shim_server_listen(struct shim *s, const char *path, struct berth_err *err)
{
    int fd = berth_sock_listen(path, true, err);

    if (fd < 0)
        return NULL;
    struct shim_server *srv = xzalloc(sizeof(*srv));
    srv->s = s;
    srv->path = xstrdup(path);
    srv->fd = fd;
    if (shim_loop_add(s->loop, fd, EPOLLIN, on_accept, srv, err) < 0) {
        unlink(path);
        close(fd);
        free(srv->path);
        free(srv);
        return NULL;
    }
    return srv;
}

void
shim_server_event(struct shim_server *srv, const char *kind, const char *exec_id, pid_t pid,
                  uint32_t exit_status, int64_t exited_at)
{
    Berth__Shim__V1__Event ev = BERTH__SHIM__V1__EVENT__INIT;
    struct server_client *next;

    if (srv == NULL)
        return;
    ev.kind = (char *)kind;
    ev.exec_id = (char *)(exec_id ? exec_id : "");
    ev.pid = (uint32_t)pid;
    ev.exit_status = exit_status;
    ev.exited_at = exited_at;
    berth_debug("event %s exec_id=`%s` pid=%d", kind, ev.exec_id, (int)pid);
    berth_frame *f = berth_frame_new(0, "event", &ev.base);
    for (struct server_client *c = srv->clients; c; c = next) {
        next = c->next;
        client_send(c, f);
    }
    berth_frame_free(f);
}

void
shim_server_flush(struct shim_server *srv, unsigned timeout_ms)
{
    uint64_t deadline = shim_loop_now_ms() + timeout_ms;

    for (struct server_client *c = srv->clients; c; c = c->next) {
        while (c->out.len > 0) {
            uint64_t now = shim_loop_now_ms();
            if (now >= deadline)
                return;
            struct pollfd p = {.fd = c->fd, .events = POLLOUT};
            if (poll(&p, 1, (int)(deadline - now)) <= 0)
                break;
            if (shim_buf_flush(&c->out, c->fd) < 0)
                break;
        }
    }
}

void
shim_server_free(struct shim_server *srv)
{
    if (srv == NULL)
        return;
    while (srv->clients)
        client_close(srv->clients);
    shim_loop_del(srv->s->loop, srv->fd);
    close(srv->fd);
    unlink(srv->path);
    free(srv->path);
    free(srv);
}
