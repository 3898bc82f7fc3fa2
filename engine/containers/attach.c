/* SPDX-License-Identifier: Apache-2.0
 *
 * Attach (containers.h): a client's hijacked connection joined to a process's stdio through
 * its shim's attach socket, whose frames are docker's stdcopy frames both ways (shim/attach.h):
 *
 *   client -> berthd   raw stdin bytes            -> stdin frames (stream 0) to the shim;
 *                      its end (with stdin_once)  -> an empty stdin frame: the stdin closes
 *   shim -> berthd     stdout/stderr frames       -> to the client as they are, or their
 *                                                    payload alone for a terminal
 *                      the exit frame (stream 3)  -> the session ends, the client sees EOF
 *
 * docker run attaches before it starts the container, when there is no task and so no
 * socket yet: such an attach registers with the container (attach_waiting) and connects when
 * the start has made the task, before the process runs (ctr_task_created), so it misses
 * nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "engine/containers/internal.h"
#include "engine/daemon.h"

#define STREAM_STDIN  0
#define STREAM_STDOUT 1
#define STREAM_STDERR 2
#define STREAM_EXIT   3
#define BUF_SIZE      65536
/* How long a start waits for the attaches that wait for it. */
#define ATTACH_WAIT_MS 3000

struct eng_attach {
    struct eng_daemon *d;
    struct eng_ctr *c; /* NULL for an exec */
    struct eng_attach_opts o;
    char *socket_path; /* known at once (a running process, an exec) or after the start */
    bool waiting;      /* counted in c->attach_waiting */
    uint64_t base;     /* c->tasks_created when the attach came */
    unsigned char keys[8];
    size_t n_keys, matched;
    /* Called once connected, before any byte flows (an exec starts its process there). */
    int (*on_connected)(void *data, struct berth_err *err);
    void *data;
    int exit_status; /* from the exit frame; -1 until it comes */
};

/* docker's detach keys: "ctrl-p,ctrl-q", "a,ctrl-b", ... */
static int
parse_keys(const char *spec, unsigned char *out, size_t *n)
{
    cleanup_free char *copy = xstrdup(spec);
    *n = 0;
    for (char *save = NULL, *k = strtok_r(copy, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
        if (*n == 8)
            return -1;
        if (strncmp(k, "ctrl-", 5) == 0 && strlen(k) == 6) {
            char ch = k[5];
            if (ch >= 'a' && ch <= 'z')
                out[(*n)++] = (unsigned char)(ch - 'a' + 1);
            else if (ch == '@')
                out[(*n)++] = 0;
            else if (ch >= '[' && ch <= '_')
                out[(*n)++] = (unsigned char)(ch - '[' + 27);
            else
                return -1;
        } else if (strlen(k) == 1) {
            out[(*n)++] = (unsigned char)k[0];
        } else {
            return -1;
        }
    }
    return *n ? 0 : -1;
}

static struct eng_attach *
attach_alloc(struct eng_daemon *d, const struct eng_attach_opts *o)
{
    struct eng_attach *a = xzalloc(sizeof(*a));
    a->d = d;
    a->o = *o;
    a->exit_status = -1;
    a->o.detach_keys = NULL;
    if (!o->detach_keys || !*o->detach_keys ||
        parse_keys(o->detach_keys, a->keys, &a->n_keys) < 0) {
        a->keys[0] = 16; /* ctrl-p */
        a->keys[1] = 17; /* ctrl-q */
        a->n_keys = 2;
    }
    return a;
}

struct eng_attach *
eng_attach_new(struct eng_daemon *d, struct eng_ctr *c, const struct eng_attach_opts *o,
               struct berth_err *err)
{
    if (o->detach_keys && *o->detach_keys) {
        unsigned char k[8];
        size_t n;
        if (parse_keys(o->detach_keys, k, &n) < 0)
            return berth_err_fail(err, EINVAL, "Invalid detach keys (%s) provided", o->detach_keys),
                   NULL;
    }
    struct eng_attach *a = attach_alloc(d, o);
    a->c = ctr_ref(c);
    pthread_mutex_lock(&c->lock);
    bool live = (c->status == ENG_CTR_RUNNING || c->status == ENG_CTR_PAUSED) && c->has_task &&
                c->attach_socket && *c->attach_socket && !c->starting;
    if (live) {
        a->socket_path = xstrdup(c->attach_socket);
    } else {
        a->waiting = true;
        a->base = c->tasks_created;
        c->attach_waiting++;
    }
    pthread_mutex_unlock(&c->lock);
    return a;
}

struct eng_attach *
eng_attach_socket(struct eng_daemon *d, const char *socket_path, const struct eng_attach_opts *o)
{
    struct eng_attach *a = attach_alloc(d, o);
    a->socket_path = xstrdup(socket_path);
    return a;
}

static void
stop_waiting(struct eng_attach *a)
{
    if (!a->waiting)
        return;
    pthread_mutex_lock(&a->c->lock);
    a->c->attach_waiting--;
    pthread_cond_broadcast(&a->c->cond);
    pthread_mutex_unlock(&a->c->lock);
    a->waiting = false;
}

void
eng_attach_on_connected(struct eng_attach *a, int (*fn)(void *, struct berth_err *), void *data)
{
    a->on_connected = fn;
    a->data = data;
}

int
eng_attach_exit_status(struct eng_attach *a)
{
    return a->exit_status;
}

void
eng_attach_free(struct eng_attach *a)
{
    if (!a)
        return;
    if (a->c) {
        stop_waiting(a);
        eng_ctr_put(a->c);
    }
    free(a->socket_path);
    free(a);
}

void
ctr_task_created(struct eng_ctr *c, const char *path)
{
    pthread_mutex_lock(&c->lock);
    free(c->attach_socket);
    c->attach_socket = xstrdup(path);
    c->tasks_created++;
    pthread_cond_broadcast(&c->cond);
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ATTACH_WAIT_MS / 1000;
    while (c->attach_waiting > 0)
        if (pthread_cond_timedwait(&c->cond, &c->lock, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&c->lock);
}

/* Whether the client hung up. A half-close is not that: clients with no input (docker run
 * without -i) shut their writing side down at once and still read. */
static bool
client_gone(int fd)
{
    struct pollfd p = {.fd = fd, .events = 0};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR));
}

static bool
stopping(struct eng_attach *a)
{
    return __atomic_load_n(&a->d->stopping, __ATOMIC_ACQUIRE);
}

/* Wait for the task a start makes; its socket path, or NULL when the wait ends otherwise. */
static char *
wait_for_task(struct eng_attach *a, int client)
{
    struct eng_ctr *c = a->c;
    char *path = NULL;
    pthread_mutex_lock(&c->lock);
    while (!path) {
        if (c->tasks_created != a->base) {
            path = xstrdup(c->attach_socket ? c->attach_socket : "");
            break;
        }
        if (c->removed || stopping(a) || client_gone(client))
            break;
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += 200000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&c->cond, &c->lock, &until);
    }
    pthread_mutex_unlock(&c->lock);
    return path;
}

/* Connect to a unix socket. Paths longer than sun_path (the shim's sockets sit under
 * <state>/tasks/<namespace>/<64-hex id>/, too deep for it) go through the directory's
 * descriptor: /proc/self/fd/N/name is short whatever the directory. */
static int
connect_unix(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    cleanup_close int dirfd = -1;
    if (strlen(path) < sizeof(sa.sun_path)) {
        strcpy(sa.sun_path, path);
    } else {
        const char *slash = strrchr(path, '/');
        cleanup_free char *dir = slash ? xstrndup(path, (size_t)(slash - path)) : NULL;
        if (!dir || (dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
            return -1;
        int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dirfd, slash + 1);
        if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
            errno = ENAMETOOLONG;
            return -1;
        }
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int
write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int
send_frame(int fd, int stream, const void *data, size_t n)
{
    unsigned char h[8] = {(unsigned char)stream,
                          0,
                          0,
                          0,
                          (unsigned char)(n >> 24),
                          (unsigned char)(n >> 16),
                          (unsigned char)(n >> 8),
                          (unsigned char)n};
    if (write_all(fd, h, sizeof(h)) < 0)
        return -1;
    return n ? write_all(fd, data, n) : 0;
}

/* Client input to the shim, watching for the detach keys. 1: detached; -1: the shim is gone. */
static int
forward_input(struct eng_attach *a, int shim, const unsigned char *buf, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == a->keys[a->matched]) {
            if (++a->matched == a->n_keys)
                return 1;
            continue;
        }
        a->matched = buf[i] == a->keys[0] ? 1 : 0;
    }
    /* Keys held back (a partial match at the end) go out with the next input. */
    (void)start;
    return send_frame(shim, STREAM_STDIN, buf, n) < 0 ? -1 : 0;
}

/* A frame reader over the shim's socket. */
struct reader {
    unsigned char buf[BUF_SIZE + 8];
    size_t len;
};

/* Hand every complete frame in r to the client; 1 when the exit frame came, -1 on a client
 * error. */
static int
drain_frames(struct eng_attach *a, struct reader *r, int client)
{
    size_t off = 0;
    int rc = 0;
    while (r->len - off >= 8) {
        unsigned char *h = r->buf + off;
        size_t size = ((size_t)h[4] << 24) | ((size_t)h[5] << 16) | ((size_t)h[6] << 8) | h[7];
        if (size > BUF_SIZE) {
            rc = -1; /* not a frame the shim sends */
            break;
        }
        if (r->len - off - 8 < size)
            break;
        int stream = h[0];
        if (stream == STREAM_EXIT) {
            if (size == 4)
                a->exit_status = (int)(((uint32_t)h[8] << 24) | ((uint32_t)h[9] << 16) |
                                       ((uint32_t)h[10] << 8) | h[11]);
            rc = 1;
            break;
        }
        bool wanted =
            (stream == STREAM_STDOUT && a->o.out) || (stream == STREAM_STDERR && a->o.err);
        if (wanted) {
            int w = a->o.tty ? write_all(client, h + 8, size) : write_all(client, h, size + 8);
            if (w < 0) {
                rc = -1;
                break;
            }
        }
        off += 8 + size;
    }
    memmove(r->buf, r->buf + off, r->len - off);
    r->len -= off;
    return rc;
}

void
eng_attach_run(struct eng_attach *a, int client, const char *extra, size_t n_extra)
{
    cleanup_free char *path = a->socket_path ? xstrdup(a->socket_path) : wait_for_task(a, client);
    if (!path || !*path) {
        if (a->c)
            stop_waiting(a);
        return;
    }
    cleanup_close int shim = connect_unix(path);
    if (a->c)
        stop_waiting(a);
    if (shim < 0) {
        berth_debug("attach: connect to `%s`: %s", path, strerror(errno));
        return;
    }
    if (a->on_connected) {
        struct berth_err err = BERTH_ERR_INIT;
        if (a->on_connected(a->data, &err) < 0) {
            /* The stream is already the client's: the error goes down it, as text on stdout
             * (framed unless a terminal), which is where docker exec shows it. */
            cleanup_free char *line = xasprintf("%s\r\n", err.msg ? err.msg : "failed");
            size_t n = strlen(line);
            if (a->o.tty) {
                (void)write_all(client, line, n);
            } else {
                unsigned char h[8] = {STREAM_STDOUT,
                                      0,
                                      0,
                                      0,
                                      (unsigned char)(n >> 24),
                                      (unsigned char)(n >> 16),
                                      (unsigned char)(n >> 8),
                                      (unsigned char)n};
                if (write_all(client, h, sizeof(h)) == 0)
                    (void)write_all(client, line, n);
            }
            berth_err_clear(&err);
            return;
        }
    }
    if (a->o.in && n_extra > 0 &&
        forward_input(a, shim, (const unsigned char *)extra, n_extra) != 0)
        return;

    struct reader *r = xzalloc(sizeof(*r));
    unsigned char *in = xmalloc(BUF_SIZE);
    bool client_open = true;
    for (;;) {
        struct pollfd p[2] = {{.fd = shim, .events = POLLIN},
                              {.fd = client, .events = client_open ? POLLIN : 0}};
        int k = poll(p, 2, 500);
        if (k < 0 && errno != EINTR)
            break;
        if (stopping(a))
            break;
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t got = read(shim, r->buf + r->len, sizeof(r->buf) - r->len);
            if (got <= 0)
                break;
            r->len += (size_t)got;
            if (drain_frames(a, r, client) != 0)
                break;
        }
        if (client_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t got = read(client, in, BUF_SIZE);
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0) {
                /* The client closed its side: its input ended. */
                client_open = false;
                if (a->o.in && a->o.stdin_once && send_frame(shim, STREAM_STDIN, NULL, 0) < 0)
                    break;
                if (!a->o.out && !a->o.err)
                    break;
                continue;
            }
            if (!a->o.in)
                continue;
            if (forward_input(a, shim, in, (size_t)got) != 0)
                break;
        }
    }
    free(in);
    free(r);
}
