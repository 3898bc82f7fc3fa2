/* SPDX-License-Identifier: Apache-2.0
 *
 * The shim's event loop (loop.h), in the manner of Redis's ae: an epoll set whose entries
 * point at small records {fd, callback, data}, a short list of one-shot timers sorted by
 * deadline, and a signalfd so that no signal handler ever runs. One pass is: wait (until the
 * first timer is due), dispatch the events collected, fire due timers, run deferred frees.
 *
 * Removing an fd while events for it are still in this pass's batch would hand a freed record
 * to the dispatcher, so a removed record is only marked dead and freed with the deferred frees
 * at the end of the pass. A shim watches a few dozen fds at most: the fd -> record table is a
 * plain array indexed by fd.
 */
#include "shim/loop.h"

#include <errno.h>
#include <malloc.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"

#define MAX_EVENTS 32

struct loop_fd {
    int fd;
    bool dead;
    shim_fd_fn fn;
    void *data;
};

struct loop_timer {
    struct loop_timer *next;
    uint64_t id;
    uint64_t due; /* shim_loop_now_ms() */
    shim_timer_fn fn;
    void *data;
};

struct loop_defer {
    struct loop_defer *next;
    shim_free_fn fn;
    void *data;
};

struct shim_loop {
    int epfd;
    bool stop;
    bool trim;            /* malloc_trim at the end of the pass */
    struct loop_fd **fds; /* indexed by fd; NULL where nothing is registered */
    size_t n_fds;
    struct loop_timer *timers; /* sorted by due */
    uint64_t next_timer_id;
    struct loop_defer *deferred; /* run last-in first-out at the end of a pass */
    int sigfd;
    shim_signal_fn sig_fn;
    void *sig_data;
};

uint64_t
shim_loop_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct shim_loop *
shim_loop_new(struct berth_err *err)
{
    int epfd = epoll_create1(EPOLL_CLOEXEC);

    if (epfd < 0) {
        berth_err_set(err, errno, "epoll_create1");
        return NULL;
    }
    struct shim_loop *loop = xzalloc(sizeof(*loop));
    loop->epfd = epfd;
    loop->sigfd = -1;
    return loop;
}

static void
run_deferred(struct shim_loop *loop)
{
    while (loop->deferred) {
        struct loop_defer *d = loop->deferred;
        loop->deferred = d->next;
        d->fn(d->data);
        free(d);
    }
}

void
shim_loop_free(struct shim_loop *loop)
{
    if (loop == NULL)
        return;
    run_deferred(loop);
    for (size_t i = 0; i < loop->n_fds; i++)
        free(loop->fds[i]);
    free(loop->fds);
    while (loop->timers) {
        struct loop_timer *t = loop->timers;
        loop->timers = t->next;
        free(t);
    }
    if (loop->sigfd >= 0)
        close(loop->sigfd);
    close(loop->epfd);
    free(loop);
}

void
shim_loop_defer(struct shim_loop *loop, shim_free_fn fn, void *data)
{
    struct loop_defer *d = xmalloc(sizeof(*d));

    d->fn = fn;
    d->data = data;
    d->next = loop->deferred;
    loop->deferred = d;
}

/* ---- File descriptors -------------------------------------------------------------------- */

int
shim_loop_add(struct shim_loop *loop, int fd, uint32_t events, shim_fd_fn fn, void *data,
              struct berth_err *err)
{
    if (fd < 0)
        return berth_err_fail(err, EBADF, "watch fd %d", fd);
    if ((size_t)fd >= loop->n_fds) {
        size_t n = loop->n_fds ? loop->n_fds : 16;
        while (n <= (size_t)fd)
            n *= 2;
        loop->fds = xrealloc(loop->fds, n * sizeof(*loop->fds));
        memset(loop->fds + loop->n_fds, 0, (n - loop->n_fds) * sizeof(*loop->fds));
        loop->n_fds = n;
    }
    if (loop->fds[fd] != NULL)
        return berth_err_fail(err, EEXIST, "fd %d is already watched", fd);

    struct loop_fd *e = xzalloc(sizeof(*e));
    e->fd = fd;
    e->fn = fn;
    e->data = data;
    struct epoll_event ev = {.events = events, .data.ptr = e};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int saved = errno;
        free(e);
        return berth_err_set(err, saved, "watch fd %d", fd);
    }
    loop->fds[fd] = e;
    return 0;
}

int
shim_loop_mod(struct shim_loop *loop, int fd, uint32_t events, struct berth_err *err)
{
    if (fd < 0 || (size_t)fd >= loop->n_fds || loop->fds[fd] == NULL)
        return berth_err_fail(err, ENOENT, "fd %d is not watched", fd);
    struct epoll_event ev = {.events = events, .data.ptr = loop->fds[fd]};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
        return berth_err_set(err, errno, "change events of fd %d", fd);
    return 0;
}

void
shim_loop_del(struct shim_loop *loop, int fd)
{
    if (fd < 0 || (size_t)fd >= loop->n_fds || loop->fds[fd] == NULL)
        return;
    struct loop_fd *e = loop->fds[fd];
    loop->fds[fd] = NULL;
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
    e->dead = true;
    shim_loop_defer(loop, free, e);
}

/* ---- Timers ------------------------------------------------------------------------------ */

uint64_t
shim_loop_timer(struct shim_loop *loop, unsigned ms, shim_timer_fn fn, void *data)
{
    struct loop_timer *t = xzalloc(sizeof(*t));
    struct loop_timer **p = &loop->timers;

    t->id = ++loop->next_timer_id;
    t->due = shim_loop_now_ms() + ms;
    t->fn = fn;
    t->data = data;
    while (*p && (*p)->due <= t->due)
        p = &(*p)->next;
    t->next = *p;
    *p = t;
    return t->id;
}

void
shim_loop_timer_cancel(struct shim_loop *loop, uint64_t id)
{
    for (struct loop_timer **p = &loop->timers; *p; p = &(*p)->next) {
        if ((*p)->id == id) {
            struct loop_timer *t = *p;
            *p = t->next;
            free(t);
            return;
        }
    }
}

/* epoll_wait's timeout: until the first timer is due, or forever. */
static int
next_timeout(struct shim_loop *loop)
{
    if (loop->timers == NULL)
        return -1;
    uint64_t now = shim_loop_now_ms();
    if (loop->timers->due <= now)
        return 0;
    uint64_t left = loop->timers->due - now;
    return left > 60000 ? 60000 : (int)left;
}

static void
fire_timers(struct shim_loop *loop)
{
    uint64_t now = shim_loop_now_ms();

    /* A callback may add or cancel timers: take the head each time. */
    while (loop->timers && loop->timers->due <= now && !loop->stop) {
        struct loop_timer *t = loop->timers;
        loop->timers = t->next;
        shim_timer_fn fn = t->fn;
        void *data = t->data;
        free(t);
        fn(loop, data);
    }
}

/* ---- Signals ----------------------------------------------------------------------------- */

static void
on_signalfd(struct shim_loop *loop, int fd, uint32_t events, void *data)
{
    struct signalfd_siginfo si[8];

    for (;;) {
        ssize_t n = read(fd, si, sizeof(si));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        for (size_t i = 0; i < (size_t)n / sizeof(si[0]); i++)
            loop->sig_fn(loop, (int)si[i].ssi_signo, loop->sig_data);
        if ((size_t)n < sizeof(si))
            return;
    }
}

int
shim_loop_signals(struct shim_loop *loop, const sigset_t *set, shim_signal_fn fn, void *data,
                  struct berth_err *err)
{
    if (loop->sigfd >= 0)
        return berth_err_fail(err, EEXIST, "signals are already watched");
    if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
        return berth_err_set(err, errno, "block signals");
    cleanup_close int fd = signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0)
        return berth_err_set(err, errno, "signalfd");
    loop->sig_fn = fn;
    loop->sig_data = data;
    if (shim_loop_add(loop, fd, EPOLLIN, on_signalfd, NULL, err) < 0)
        return -1;
    loop->sigfd = steal_fd(&fd);
    return 0;
}

/* ---- Running ----------------------------------------------------------------------------- */

void
shim_loop_trim(struct shim_loop *loop)
{
    loop->trim = true;
}

void
shim_loop_stop(struct shim_loop *loop)
{
    loop->stop = true;
}

int
shim_loop_run(struct shim_loop *loop, struct berth_err *err)
{
    struct epoll_event evs[MAX_EVENTS];

    loop->stop = false;
    while (!loop->stop) {
        int n = epoll_wait(loop->epfd, evs, MAX_EVENTS, next_timeout(loop));
        if (n < 0 && errno != EINTR)
            return berth_err_set(err, errno, "epoll_wait");
        for (int i = 0; i < n && !loop->stop; i++) {
            struct loop_fd *e = evs[i].data.ptr;
            if (!e->dead)
                e->fn(loop, e->fd, evs[i].events, e->data);
        }
        fire_timers(loop);
        run_deferred(loop);
        if (loop->trim) {
            loop->trim = false;
            malloc_trim(0);
        }
    }
    return 0;
}
