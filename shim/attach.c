/* SPDX-License-Identifier: Apache-2.0
 *
 * Attach sockets (attach.h): a listener per process and its clients. Output is framed and
 * queued per client; a client that does not keep up only grows its own queue, up to a limit.
 * Input is parsed as it arrives, so a frame of any size streams through without being held
 * whole: a client is either reading a header (head_len < 8) or a payload (left > 0).
 */
#include "shim/attach.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/sock.h"
#include "shim/buf.h"
#include "shim/loop.h"

struct attach_client {
    struct attach_client *next;
    struct shim_attach *a;
    int fd;
    uint8_t head[8];
    size_t head_len;
    uint32_t left;   /* payload bytes still to come of the current frame */
    uint8_t stream;  /* of the current frame */
    bool closing;    /* the exit frame is queued: close once the queue is written */
    bool read_eof;   /* the client shut down its side: write only */
    uint32_t events; /* watched now */
    struct shim_buf out;
};

struct shim_attach {
    struct shim_loop *loop;
    char *path;
    int fd;
    const struct shim_attach_ops *ops;
    void *data;
    struct attach_client *clients;
    bool exited;
    bool paused;
    uint32_t exit_status;
};

static void
put_header(uint8_t h[8], int stream, uint32_t size)
{
    h[0] = (uint8_t)stream;
    h[1] = h[2] = h[3] = 0;
    h[4] = (uint8_t)(size >> 24);
    h[5] = (uint8_t)(size >> 16);
    h[6] = (uint8_t)(size >> 8);
    h[7] = (uint8_t)size;
}

/* ---- Clients ----------------------------------------------------------------------------- */

static void
client_free(void *p)
{
    struct attach_client *c = p;

    shim_buf_release(&c->out);
    free(c);
}

static void
client_close(struct attach_client *c)
{
    struct shim_attach *a = c->a;

    for (struct attach_client **p = &a->clients; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    shim_loop_del(a->loop, c->fd);
    close(c->fd);
    /* The callback that got us here may still hold c. */
    shim_loop_defer(a->loop, client_free, c);
}

static uint32_t
client_events(struct attach_client *c)
{
    uint32_t ev = 0;

    if (!c->closing && !c->read_eof && !c->a->paused)
        ev |= EPOLLIN;
    if (c->out.len > 0)
        ev |= EPOLLOUT;
    return ev;
}

/* Watch what the client's state calls for. Returns false when the client had to go. */
static bool
client_update(struct attach_client *c)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    uint32_t ev = client_events(c);

    if (ev == c->events)
        return true;
    if (shim_loop_mod(c->a->loop, c->fd, ev, &err) < 0) {
        berth_err_warn(&err);
        client_close(c);
        return false;
    }
    c->events = ev;
    return true;
}

/* Write what the client takes; close it on error, or when the exit frame went out. Returns
 * false when the client is gone. */
static bool
client_flush(struct attach_client *c)
{
    int rc = shim_buf_flush(&c->out, c->fd);

    if (rc < 0 || (rc == 1 && c->closing)) {
        client_close(c);
        return false;
    }
    return client_update(c);
}

/* Queue a frame; a client too far behind is dropped. Returns false when the client is gone. */
static bool
client_send(struct attach_client *c, int stream, const char *buf, size_t len)
{
    uint8_t h[8];

    put_header(h, stream, (uint32_t)len);
    if (c->out.len == 0) {
        /* Nothing queued: write header and data at once, queue only the rest. */
        struct iovec iov[2] = {{h, sizeof(h)}, {(void *)buf, len}};
        ssize_t n;
        do
            n = writev(c->fd, iov, 2);
        while (n < 0 && errno == EINTR);
        if (n < 0 && errno != EAGAIN) {
            client_close(c);
            return false;
        }
        size_t done = n > 0 ? (size_t)n : 0;
        if (done >= sizeof(h) + len)
            return true;
        if (done < sizeof(h)) {
            shim_buf_add(&c->out, h + done, sizeof(h) - done);
            done = 0;
        } else {
            done -= sizeof(h);
        }
        shim_buf_add(&c->out, buf + done, len - done);
        return true;
    }
    if (c->out.len + len > SHIM_ATTACH_QUEUE_MAX) {
        berth_warn("attach `%s`: client fell %zu bytes behind, disconnecting it", c->a->path,
                   c->out.len);
        client_close(c);
        return false;
    }
    shim_buf_add(&c->out, h, sizeof(h));
    shim_buf_add(&c->out, buf, len);
    return true;
}

static void
client_send_exit(struct attach_client *c, uint32_t status)
{
    uint8_t p[4] = {(uint8_t)(status >> 24), (uint8_t)(status >> 16), (uint8_t)(status >> 8),
                    (uint8_t)status};

    c->closing = true;
    if (client_send(c, SHIM_ATTACH_EXIT, (const char *)p, sizeof(p)))
        client_flush(c);
}

/* Feed n input bytes of a client through the frame parser. */
static void
client_parse(struct attach_client *c, const char *p, size_t n)
{
    struct shim_attach *a = c->a;

    while (n > 0) {
        if (c->left == 0) {
            size_t k = sizeof(c->head) - c->head_len;
            if (k > n)
                k = n;
            memcpy(c->head + c->head_len, p, k);
            c->head_len += k;
            p += k;
            n -= k;
            if (c->head_len < sizeof(c->head))
                return;
            c->head_len = 0;
            c->stream = c->head[0];
            c->left = (uint32_t)c->head[4] << 24 | (uint32_t)c->head[5] << 16 |
                      (uint32_t)c->head[6] << 8 | c->head[7];
            if (c->stream == SHIM_ATTACH_STDIN && c->left == 0 && !a->exited)
                a->ops->close_input(a->data);
            continue;
        }
        size_t k = n < c->left ? n : c->left;
        if (c->stream == SHIM_ATTACH_STDIN && !a->exited)
            a->ops->input(a->data, p, k);
        c->left -= (uint32_t)k;
        p += k;
        n -= k;
    }
}

static void
on_client(struct shim_loop *loop, int fd, uint32_t events, void *data)
{
    struct attach_client *c = data;

    if (events & EPOLLOUT) {
        if (!client_flush(c))
            return;
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        return;
    if (!c->read_eof) {
        char buf[8192];
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n > 0) {
            if (!c->closing)
                client_parse(c, buf, (size_t)n);
            return;
        }
        if (n == 0 && !(events & (EPOLLHUP | EPOLLERR))) {
            /* A half-close after the client's last input: it still reads output. */
            c->read_eof = true;
            client_update(c);
            return;
        }
    }
    client_close(c);
}

static void
on_accept(struct shim_loop *loop, int fd, uint32_t events, void *data)
{
    struct shim_attach *a = data;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;

    for (;;) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno != EAGAIN && errno != EINTR)
                berth_warn("attach `%s`: accept: %s", a->path, strerror(errno));
            return;
        }
        struct attach_client *c = xzalloc(sizeof(*c));
        c->a = a;
        c->fd = cfd;
        c->events = a->paused ? 0 : EPOLLIN;
        if (shim_loop_add(loop, cfd, c->events, on_client, c, &err) < 0) {
            berth_err_warn(&err);
            close(cfd);
            free(c);
            continue;
        }
        c->next = a->clients;
        a->clients = c;
        berth_debug("attach `%s`: client connected", a->path);
        if (a->exited)
            client_send_exit(c, a->exit_status);
    }
}

/* ---- The listener ------------------------------------------------------------------------ */

struct shim_attach *
shim_attach_listen(struct shim_loop *loop, const char *path, const struct shim_attach_ops *ops,
                   void *data, struct berth_err *err)
{
    int fd = berth_sock_listen(path, true, err);

    if (fd < 0)
        return NULL;
    struct shim_attach *a = xzalloc(sizeof(*a));
    a->loop = loop;
    a->path = xstrdup(path);
    a->fd = fd;
    a->ops = ops;
    a->data = data;
    if (shim_loop_add(loop, fd, EPOLLIN, on_accept, a, err) < 0) {
        unlink(path);
        close(fd);
        free(a->path);
        free(a);
        return NULL;
    }
    return a;
}

void
shim_attach_output(struct shim_attach *a, int stream, const char *buf, size_t len)
{
    struct attach_client *next;

    if (a == NULL || len == 0)
        return;
    for (struct attach_client *c = a->clients; c; c = next) {
        next = c->next;
        if (c->closing)
            continue;
        /* Try to write at once when nothing is queued: the usual case costs no copy. */
        if (client_send(c, stream, buf, len))
            client_flush(c);
    }
}

void
shim_attach_exit(struct shim_attach *a, uint32_t status)
{
    struct attach_client *next;

    if (a == NULL || a->exited)
        return;
    a->exited = true;
    a->exit_status = status;
    for (struct attach_client *c = a->clients; c; c = next) {
        next = c->next;
        client_send_exit(c, status);
    }
}

void
shim_attach_pause_input(struct shim_attach *a, bool pause)
{
    struct attach_client *next;

    if (a == NULL || a->paused == pause)
        return;
    a->paused = pause;
    for (struct attach_client *c = a->clients; c; c = next) {
        next = c->next;
        client_update(c);
    }
}

void
shim_attach_free(struct shim_attach *a)
{
    if (a == NULL)
        return;
    while (a->clients) {
        /* Best effort for what is queued (an exit frame): one non-blocking write. */
        shim_buf_flush(&a->clients->out, a->clients->fd);
        client_close(a->clients);
    }
    shim_loop_del(a->loop, a->fd);
    close(a->fd);
    unlink(a->path);
    free(a->path);
    free(a);
}
