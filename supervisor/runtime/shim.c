// SPDX-License-Identifier: Apache-2.0
//
// Starting a berth-shim and talking to it (shim.h). Requests carry increasing ids; callers
// wait on a per-request slot the reader thread fills. Events (id 0) go straight to the
// owner's callback from the reader thread, in the order the shim sent them, which keeps a
// task's exits ordered.

#include "supervisor/runtime/shim.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/frame.h"
#include "common/log.h"
#include "common/sock.h"
#include "shim/launch.h"

extern char **environ;

struct pending {
    struct pending *next;
    uint64_t id;
    berth_frame *reply; /* set by the reader */
    bool done;
    int ends; /* SUP_SHIM_ENDS_ON_*: the shim exits after this reply */
};

struct sup_shim {
    int fd;
    atomic_int refs;
    pthread_mutex_t lock; /* guards everything below and writes to fd */
    pthread_cond_t cond;
    uint64_t next_id;
    struct pending *pending;
    bool gone;    /* the connection ended */
    bool closing; /* ended on purpose: no on_gone */
    sup_shim_event_fn on_event;
    sup_shim_data_fn on_gone;
    sup_shim_data_fn on_free;
    void *data;
};

/* ------------------------------------------------------------------ spawning */

// Collect what the launching shim process printed (its error, if any), then its status.
static int
wait_launcher(pid_t pid, int out_fd, const char *id, struct berth_err *err)
{
    char buf[4096];
    size_t n = 0;
    for (;;) {
        ssize_t r = read(out_fd, buf + n, sizeof(buf) - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n == sizeof(buf) - 1)
            break;
    }
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return berth_err_set(err, errno, "wait for shim of `%s`", id);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (n > 0)
        return berth_err_fail(err, EIO, "start shim of `%s`: %s", id, buf);
    return berth_err_fail(err, EIO, "start shim of `%s`: exited with status %d", id,
                          WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* Our environment with the shim's malloc tunables (shim/launch.h), so that it need not start
 * itself again for them. Strings in `keep` are owned by the caller. */
static char **
shim_environ(char **keep)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = xzalloc((n + 3) * sizeof(*env));
    const char *old = getenv("GLIBC_TUNABLES");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], "GLIBC_TUNABLES=", 15) != 0 &&
            strncmp(environ[i], BERTH_SHIM_SAVED_TUNABLES "=",
                    strlen(BERTH_SHIM_SAVED_TUNABLES) + 1) != 0)
            env[k++] = environ[i];
    }
    keep[0] = old ? xasprintf("GLIBC_TUNABLES=%s:%s", old, BERTH_SHIM_TUNABLES)
                  : xstrdup("GLIBC_TUNABLES=" BERTH_SHIM_TUNABLES);
    env[k++] = keep[0];
    keep[1] = old ? xasprintf(BERTH_SHIM_SAVED_TUNABLES "=%s", old) : NULL;
    if (keep[1])
        env[k++] = keep[1];
    return env;
}

int
sup_shim_spawn(const struct sup_shim_spawn_opts *o, struct berth_err *err)
{
    const char *argv[24];
    size_t n = 0;
    argv[n++] = o->shim_binary;
    argv[n++] = "--namespace";
    argv[n++] = o->ns;
    argv[n++] = "--id";
    argv[n++] = o->id;
    argv[n++] = "--bundle";
    argv[n++] = o->bundle;
    argv[n++] = "--runtime";
    argv[n++] = o->runtime;
    argv[n++] = "--runtime-root";
    argv[n++] = o->runtime_root;
    if (o->systemd_cgroup)
        argv[n++] = "--systemd-cgroup";
    if (o->debug)
        argv[n++] = "--debug";
    argv[n] = NULL;

    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return berth_err_set(err, errno, "pipe");
    cleanup_close int rd = pipefd[0];
    cleanup_close int wr = pipefd[1];

    // posix_spawn: no code of ours runs between fork and exec, which the gRPC core requires
    // of a process it lives in.
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, wr, 1);
    posix_spawn_file_actions_adddup2(&fa, wr, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    char *keep[2];
    char **env = shim_environ(keep);
    int rc = posix_spawn(&pid, o->shim_binary, &fa, &attr, (char *const *)argv, env);
    free(env);
    free(keep[0]);
    free(keep[1]);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        return berth_err_set(err, rc, "start shim `%s`", o->shim_binary);
    close(steal_fd(&wr));
    return wait_launcher(pid, rd, o->id, err);
}

/* ------------------------------------------------------------------ connection */

static void
shim_unref(struct sup_shim *s)
{
    if (atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    if (s->on_free)
        s->on_free(s->data);
    close(s->fd);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}

static void
deliver_event(struct sup_shim *s, const berth_frame *f)
{
    Berth__Shim__V1__Event *ev =
        berth__shim__v1__event__unpack(NULL, f->payload.len, f->payload.data);
    if (!ev) {
        berth_warn("shim: undecodable event dropped");
        return;
    }
    if (s->on_event)
        s->on_event(s->data, ev);
    berth__shim__v1__event__free_unpacked(ev, NULL);
}

static void
deliver_reply(struct sup_shim *s, berth_frame *f)
{
    pthread_mutex_lock(&s->lock);
    for (struct pending *p = s->pending; p; p = p->next) {
        if (p->id == f->id && !p->done) {
            p->reply = f;
            p->done = true;
            // Decided here, before the reader can see the EOF that follows this reply.
            if (((p->ends & SUP_SHIM_ENDS_ON_OK) && f->code == 0) ||
                ((p->ends & SUP_SHIM_ENDS_ON_ERROR) && f->code != 0))
                s->closing = true;
            pthread_cond_broadcast(&s->cond);
            pthread_mutex_unlock(&s->lock);
            return;
        }
    }
    pthread_mutex_unlock(&s->lock);
    // A caller that timed out has gone; its late reply is dropped.
    berth__shim__v1__frame__free_unpacked(f, NULL);
}

static void *
reader_main(void *arg)
{
    struct sup_shim *s = arg;
    for (;;) {
        cleanup_err struct berth_err err = BERTH_ERR_INIT;
        berth_frame *f = NULL;
        int r = berth_frame_read(s->fd, &f, &err);
        if (r <= 0) {
            if (r < 0 && !s->closing)
                berth_debug("shim connection: %s", err.msg);
            break;
        }
        if (f->id == 0) {
            if (strcmp(f->method, "event") == 0)
                deliver_event(s, f);
            berth__shim__v1__frame__free_unpacked(f, NULL);
            continue;
        }
        deliver_reply(s, f);
    }
    pthread_mutex_lock(&s->lock);
    s->gone = true;
    bool notify = !s->closing;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    if (notify && s->on_gone)
        s->on_gone(s->data);
    shim_unref(s);
    return NULL;
}

struct sup_shim *
sup_shim_connect(const char *bundle, sup_shim_event_fn on_event, sup_shim_data_fn on_gone,
                 sup_shim_data_fn on_free, void *data, struct berth_err *err)
{
    cleanup_free char *path = xasprintf("%s/shim.sock", bundle);
    int fd = berth_sock_connect(path, err);
    if (fd < 0)
        return NULL;
    struct sup_shim *s = xzalloc(sizeof(*s));
    s->fd = fd;
    atomic_init(&s->refs, 2); /* the caller's and the reader's */
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    s->next_id = 1;
    s->on_event = on_event;
    s->on_gone = on_gone;
    s->on_free = on_free;
    s->data = data;

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    // The reader holds a few frames at most; a small stack keeps 50 shims cheap.
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_t t;
    int rc = pthread_create(&t, &attr, reader_main, s);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        close(fd);
        free(s);
        berth_err_set(err, rc, "start shim reader");
        return NULL;
    }
    return s;
}

static void
pending_remove(struct sup_shim *s, struct pending *p)
{
    for (struct pending **pp = &s->pending; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            return;
        }
    }
}

// Wait for p under s->lock until it is answered, the shim goes or the deadline passes.
static int
wait_reply(struct sup_shim *s, struct pending *p, const char *method, int timeout_ms,
           struct berth_err *err)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (dl.tv_nsec >= 1000000000) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000;
    }
    while (!p->done && !s->gone) {
        if (pthread_cond_timedwait(&s->cond, &s->lock, &dl) == ETIMEDOUT && !p->done)
            return berth_err_fail(err, ETIMEDOUT, "shim %s: no answer after %d ms", method,
                                  timeout_ms);
    }
    if (!p->done)
        return berth_err_fail(err, ECONNRESET, "shim %s: the shim went away", method);
    return 0;
}

static int
do_call(struct sup_shim *s, const char *method, const ProtobufCMessage *req,
        const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp, int timeout_ms,
        int ends, struct berth_err *err)
{
    struct pending p = {.ends = ends};
    pthread_mutex_lock(&s->lock);
    if (s->gone) {
        pthread_mutex_unlock(&s->lock);
        return berth_err_fail(err, ECONNRESET, "shim %s: the shim went away", method);
    }
    p.id = s->next_id++;
    p.next = s->pending;
    s->pending = &p;
    berth_frame *f = berth_frame_new(p.id, method, req);
    // Writes happen under the lock so frames from concurrent callers never interleave.
    int rc = berth_frame_write(s->fd, f, err);
    berth_frame_free(f);
    if (rc == 0)
        rc = wait_reply(s, &p, method, timeout_ms, err);
    pending_remove(s, &p);
    pthread_mutex_unlock(&s->lock);
    if (rc < 0) {
        if (p.reply)
            berth__shim__v1__frame__free_unpacked(p.reply, NULL);
        return -1;
    }

    berth_frame *reply = p.reply;
    if (reply->code != 0) {
        berth_err_fail(err, reply->code, "%s",
                       reply->error && *reply->error ? reply->error : method);
        berth__shim__v1__frame__free_unpacked(reply, NULL);
        return -1;
    }
    if (resp_desc) {
        *resp = protobuf_c_message_unpack(resp_desc, NULL, reply->payload.len, reply->payload.data);
        if (!*resp) {
            berth__shim__v1__frame__free_unpacked(reply, NULL);
            return berth_err_fail(err, EPROTO, "shim %s: undecodable reply", method);
        }
    }
    berth__shim__v1__frame__free_unpacked(reply, NULL);
    return 0;
}

int
sup_shim_call(struct sup_shim *s, const char *method, const ProtobufCMessage *req,
              const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp, int timeout_ms,
              struct berth_err *err)
{
    return do_call(s, method, req, resp_desc, resp, timeout_ms, 0, err);
}

int
sup_shim_call_ends(struct sup_shim *s, int ends, const char *method, const ProtobufCMessage *req,
                   const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
                   int timeout_ms, struct berth_err *err)
{
    return do_call(s, method, req, resp_desc, resp, timeout_ms, ends, err);
}

struct sup_shim *
sup_shim_ref(struct sup_shim *s)
{
    atomic_fetch_add(&s->refs, 1);
    return s;
}

void
sup_shim_unref(struct sup_shim *s)
{
    if (s)
        shim_unref(s);
}

void
sup_shim_close(struct sup_shim *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->closing = true;
    pthread_mutex_unlock(&s->lock);
    // shutdown, not close: the reader still reads the fd; it sees EOF and drops the last ref.
    shutdown(s->fd, SHUT_RDWR);
    shim_unref(s);
}
