/* SPDX-License-Identifier: Apache-2.0
 *
 * A process's stdio and its copy loops (io.h). All shim-side fds are non-blocking and driven
 * by the loop; the process's own ends are ordinary blocking pipes (or the pty slave).
 *
 *   stdin fifo ──┐                                   ┌─> stdout/stderr fifo (queued)
 *   attach ──────┴─> in_q ─> stdin pipe / pty ─> proc ─> stdout, stderr ─┼─> log (init)
 *                                                                        └─> attach clients
 *
 * Input is backpressured: while more than INPUT_HIGH bytes wait for the process to read its
 * stdin, the stdin fifo and the attach clients are not read. Output never waits for a sink:
 * the log is written synchronously, fifos and clients queue.
 *
 * With a terminal there is one fd, the pty master, for both directions: it is watched once,
 * for input when anything is queued for it and for output until the slave side is gone (read
 * fails with EIO once every slave fd is closed, the pty's way of saying EOF).
 *
 * Sinks registered with no events still report EPOLLERR: that is how a fifo whose reader went
 * away, or a stdin pipe whose process closed its end, is noticed even when nothing is written.
 */
#include "shim/io.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "shim/attach.h"
#include "shim/buf.h"
#include "shim/logs.h"
#include "shim/loop.h"

#define INPUT_HIGH (64u << 10)
#define READ_SIZE  (16u << 10)
/* After the process exited, the most that is read in one go from an output that has not
 * reached EOF (something left behind may write forever). */
#define DRAIN_MAX (1u << 20)

struct io_sink {
    int fd;
    const char *name; /* "stdout fifo" */
    bool polling;     /* EPOLLOUT is on */
    struct shim_buf q;
};

struct shim_io {
    struct shim_loop *loop;
    bool terminal;
    bool started;
    int child[3];    /* the process's ends of the pipes, until it started */
    int in_w;        /* stdin pipe, our end (non-terminal) */
    bool in_polling; /* EPOLLOUT is on for in_w */
    int master;      /* pty master (terminal) */
    bool master_in;  /* the master is watched, and read for output */
    uint32_t master_events;
    int out[2];  /* stdout/stderr pipes, our ends (non-terminal) */
    int fifo_in; /* stdin fifo */
    struct io_sink sinks[2];
    struct shim_buf in_q;
    bool in_paused; /* input sources are not read while in_q is above INPUT_HIGH */
    bool stdin_closing;
    bool stdin_closed;
    struct shim_log *log;
    struct shim_attach *attach;
    bool draining;
    uint64_t drain_timer;
    void (*done)(void *data);
    void *done_data;
};

static void update_master(struct shim_io *io);
static void maybe_drained(struct shim_io *io);

static void
close_fd(struct shim_io *io, int *fd)
{
    if (*fd < 0)
        return;
    shim_loop_del(io->loop, *fd);
    close(*fd);
    *fd = -1;
}

static void
watch_mod(struct shim_io *io, int fd, uint32_t events)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;

    if (fd >= 0 && shim_loop_mod(io->loop, fd, events, &err) < 0)
        berth_err_warn(&err);
}

/* ---- Sinks (output fifos) ---------------------------------------------------------------- */

static void
sink_close(struct shim_io *io, struct io_sink *s, const char *why)
{
    if (s->fd < 0)
        return;
    if (why)
        berth_info("%s closed: %s", s->name, why);
    close_fd(io, &s->fd);
    shim_buf_release(&s->q);
}

static void
sink_flush(struct shim_io *io, struct io_sink *s)
{
    int rc = shim_buf_flush(&s->q, s->fd);

    if (rc < 0) {
        sink_close(io, s, errno == EPIPE ? "reader went away" : strerror(errno));
        return;
    }
    if (s->polling != (rc == 0)) {
        s->polling = rc == 0;
        watch_mod(io, s->fd, s->polling ? EPOLLOUT : 0);
    }
    /* A drained process's fifos close once written out. */
    if (rc == 1 && io->draining && io->out[0] < 0 && io->out[1] < 0 && !io->master_in)
        sink_close(io, s, NULL);
}

static void
sink_write(struct shim_io *io, struct io_sink *s, const char *buf, size_t len)
{
    if (s->fd < 0)
        return;
    if (s->q.len == 0) {
        /* Nothing queued: straight to the fifo, and only the rest is queued. */
        ssize_t n;
        do
            n = write(s->fd, buf, len);
        while (n < 0 && errno == EINTR);
        if (n < 0 && errno != EAGAIN) {
            sink_close(io, s, errno == EPIPE ? "reader went away" : strerror(errno));
            return;
        }
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
        }
        if (len == 0)
            return;
    }
    if (s->q.len + len > SHIM_IO_QUEUE_MAX) {
        sink_close(io, s, "its reader fell too far behind");
        return;
    }
    shim_buf_add(&s->q, buf, len);
    sink_flush(io, s);
}

static void
on_sink(struct shim_loop *loop, int fd, uint32_t events, void *data)
{
    struct shim_io *io = data;
    struct io_sink *s = io->sinks[0].fd == fd ? &io->sinks[0] : &io->sinks[1];

    if (events & EPOLLERR) {
        sink_close(io, s, "reader went away");
        return;
    }
    sink_flush(io, s);
}

/* ---- Output ------------------------------------------------------------------------------ */

static void
deliver(struct shim_io *io, int stream, const char *buf, size_t len)
{
    if (io->log)
        shim_log_write(io->log, stream, buf, len);
    sink_write(io, &io->sinks[stream == SHIM_STDERR ? 1 : 0], buf, len);
    shim_attach_output(io->attach, stream, buf, len);
}

/* Read once from fd into the sinks. Returns the bytes read, 0 at EOF (or EIO from a pty
 * master, its EOF), -1 when nothing is available now. */
static ssize_t
read_once(struct shim_io *io, int fd, int stream)
{
    char buf[READ_SIZE];

    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return -1;
        if (n < 0) {
            if (errno != EIO)
                berth_warn("read %s: %s", stream == SHIM_STDERR ? "stderr" : "stdout",
                           strerror(errno));
            return 0;
        }
        if (n > 0)
            deliver(io, stream, buf, (size_t)n);
        return n;
    }
}

static void
on_out(struct shim_loop *loop, int fd, uint32_t events, void *data)
{
    struct shim_io *io = data;
    int i = io->out[0] == fd ? 0 : 1;

    if (read_once(io, fd, i == 0 ? SHIM_STDOUT : SHIM_STDERR) == 0) {
        close_fd(io, &io->out[i]);
        maybe_drained(io);
    }
}

/* ---- Input ------------------------------------------------------------------------------- */

static int
input_fd(const struct shim_io *io)
{
    return io->terminal ? io->master : io->in_w;
}

/* Pause or resume the input sources as the queue crosses INPUT_HIGH. */
static void
throttle(struct shim_io *io)
{
    bool pause = io->in_q.len > INPUT_HIGH;

    if (pause == io->in_paused)
        return;
    io->in_paused = pause;
    watch_mod(io, io->fifo_in, pause ? 0 : EPOLLIN);
    shim_attach_pause_input(io->attach, pause);
}

static void
stdin_close_now(struct shim_io *io)
{
    io->stdin_closed = true;
    io->stdin_closing = false;
    shim_buf_release(&io->in_q);
    close_fd(io, &io->fifo_in);
    if (!io->terminal)
        close_fd(io, &io->in_w);
    else
        update_master(io);
    throttle(io);
}

/* Write what the process takes of in_q. */
static void
input_flush(struct shim_io *io)
{
    int fd = input_fd(io);

    if (fd < 0 || !io->started)
        return;
    if (io->in_q.len == 0 && !io->stdin_closing)
        return;
    int rc = shim_buf_flush(&io->in_q, fd);
    if (rc < 0) {
        /* EPIPE: the process closed its stdin. */
        stdin_close_now(io);
        return;
    }
    if (rc == 1 && io->stdin_closing) {
        stdin_close_now(io);
        return;
    }
    if (io->terminal)
        update_master(io);
    else if (io->in_polling != (rc == 0)) {
        io->in_polling = rc == 0;
        watch_mod(io, io->in_w, io->in_polling ? EPOLLOUT : 0);
    }
    throttle(io);
}

void
shim_io_input(struct shim_io *io, const char *buf, size_t len)
{
    if (io->stdin_closed || io->stdin_closing || input_fd(io) < 0)
        return;
    shim_buf_add(&io->in_q, buf, len);
    input_flush(io);
}

void
shim_io_close_stdin(struct shim_io *io)
{
    if (io->stdin_closed)
        return;
    close_fd(io, &io->fifo_in); /* no more input from it either way */
    if (io->in_q.len == 0)
        stdin_close_now(io);
    else
        io->stdin_closing = true;
}

static void
on_in_w(struct shim_loop *loop, int fd, uint32_t events, void *data)
{
    struct shim_io *io = data;

    if (events & EPOLLERR) {
        stdin_close_now(io);
        return;
    }
    input_flush(io);
}

static void
on_fifo_in(struct shim_loop *loop, int fd, uint32_t events, void *data)
{
    struct shim_io *io = data;
    char buf[READ_SIZE];
    ssize_t n;

    do
        n = read(fd, buf, sizeof(buf));
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN)
        return;
    if (n <= 0) {
        /* Its last writer closed: the process sees EOF once what was sent is read. */
        berth_debug("stdin fifo: EOF");
        shim_io_close_stdin(io);
        return;
    }
    shim_io_input(io, buf, (size_t)n);
}

/* ---- The pty master ---------------------------------------------------------------------- */

static void
update_master(struct shim_io *io)
{
    uint32_t ev = 0;

    if (io->master < 0 || !io->master_in)
        return;
    ev |= EPOLLIN;
    if (io->in_q.len > 0 && !io->stdin_closed)
        ev |= EPOLLOUT;
    if (ev != io->master_events) {
        io->master_events = ev;
        watch_mod(io, io->master, ev);
    }
}

static void
on_master(struct shim_loop *loop, int fd, uint32_t events, void *data)
{
    struct shim_io *io = data;

    if (events & EPOLLOUT)
        input_flush(io);
    if (io->master_in && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        if (read_once(io, fd, SHIM_STDOUT) == 0) {
            /* Every slave is closed. The master stays open (resize, a late close) but is
             * no longer watched: a hung-up pty reports EPOLLHUP for ever. */
            io->master_in = false;
            shim_loop_del(io->loop, io->master);
            maybe_drained(io);
        }
    }
}

void
shim_io_set_master(struct shim_io *io, int master)
{
    io->master = master;
    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
}

int
shim_io_resize(struct shim_io *io, uint32_t width, uint32_t height, struct berth_err *err)
{
    struct winsize ws = {.ws_row = (unsigned short)height, .ws_col = (unsigned short)width};

    if (!io->terminal || io->master < 0)
        return berth_err_fail(err, EINVAL, "the process has no terminal");
    if (ioctl(io->master, TIOCSWINSZ, &ws) < 0)
        return berth_err_set(err, errno, "resize terminal");
    return 0;
}

/* ---- Setup ------------------------------------------------------------------------------- */

static int
open_fifo_out(const char *path, struct berth_err *err)
{
    int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

    /* ENXIO: nobody reads yet. Holding a read end ourselves keeps output in the fifo until a
     * reader comes, instead of failing the create. */
    if (fd < 0 && errno == ENXIO)
        fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return berth_err_set(err, errno, "open fifo `%s`", path);
    return fd;
}

static int
make_pipe(int p[2], int ours)
{
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    fcntl(p[ours], F_SETFL, fcntl(p[ours], F_GETFL) | O_NONBLOCK);
    return 0;
}

struct shim_io *
shim_io_new(struct shim_loop *loop, bool terminal, const char *stdin_fifo, const char *stdout_fifo,
            const char *stderr_fifo, struct berth_err *err)
{
    struct shim_io *io = xzalloc(sizeof(*io));

    io->loop = loop;
    io->terminal = terminal;
    io->child[0] = io->child[1] = io->child[2] = -1;
    io->in_w = io->master = io->fifo_in = -1;
    io->out[0] = io->out[1] = -1;
    io->sinks[0] = (struct io_sink){.fd = -1, .name = "stdout fifo"};
    io->sinks[1] = (struct io_sink){.fd = -1, .name = "stderr fifo"};

    if (!terminal) {
        int p[2];
        if (make_pipe(p, 1) < 0)
            goto pipe_fail;
        io->child[0] = p[0];
        io->in_w = p[1];
        for (int i = 0; i < 2; i++) {
            if (make_pipe(p, 0) < 0)
                goto pipe_fail;
            io->out[i] = p[0];
            io->child[i + 1] = p[1];
        }
    }
    if (stdin_fifo && *stdin_fifo) {
        io->fifo_in = open(stdin_fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (io->fifo_in < 0) {
            berth_err_set(err, errno, "open fifo `%s`", stdin_fifo);
            goto fail;
        }
    }
    if (stdout_fifo && *stdout_fifo && (io->sinks[0].fd = open_fifo_out(stdout_fifo, err)) < 0)
        goto fail;
    /* A terminal has no stderr of its own: its stderr fifo, if named, stays unused. */
    if (!terminal && stderr_fifo && *stderr_fifo &&
        (io->sinks[1].fd = open_fifo_out(stderr_fifo, err)) < 0)
        goto fail;
    return io;

pipe_fail:
    berth_err_set(err, errno, "pipe");
fail:
    shim_io_free(io);
    return NULL;
}

void
shim_io_child_fds(const struct shim_io *io, int fds[3], int *err_fd)
{
    for (int i = 0; i < 3; i++)
        fds[i] = io->child[i];
    *err_fd = io->out[1];
}

void
shim_io_set_log(struct shim_io *io, struct shim_log *log)
{
    io->log = log;
}

void
shim_io_set_attach(struct shim_io *io, struct shim_attach *attach)
{
    io->attach = attach;
}

int
shim_io_start(struct shim_io *io, struct berth_err *err)
{
    for (int i = 0; i < 3; i++) {
        if (io->child[i] >= 0)
            close(io->child[i]);
        io->child[i] = -1;
    }
    io->started = true;
    for (int i = 0; i < 2; i++)
        if (io->out[i] >= 0 && shim_loop_add(io->loop, io->out[i], EPOLLIN, on_out, io, err) < 0)
            return -1;
    if (io->in_w >= 0 && shim_loop_add(io->loop, io->in_w, 0, on_in_w, io, err) < 0)
        return -1;
    if (io->master >= 0) {
        io->master_in = true;
        io->master_events = EPOLLIN;
        if (shim_loop_add(io->loop, io->master, EPOLLIN, on_master, io, err) < 0)
            return -1;
    }
    if (io->fifo_in >= 0 && shim_loop_add(io->loop, io->fifo_in, EPOLLIN, on_fifo_in, io, err) < 0)
        return -1;
    for (int i = 0; i < 2; i++)
        if (io->sinks[i].fd >= 0 &&
            shim_loop_add(io->loop, io->sinks[i].fd, 0, on_sink, io, err) < 0)
            return -1;
    /* Input that came before the start (attach clients are served from Create on), and a
     * close that waited for it. */
    input_flush(io);
    return 0;
}

/* ---- Exit -------------------------------------------------------------------------------- */

static void
finish_drain(struct shim_io *io)
{
    if (io->drain_timer) {
        shim_loop_timer_cancel(io->loop, io->drain_timer);
        io->drain_timer = 0;
    }
    /* Read what is there now, without waiting for an EOF that may never come. */
    for (int i = 0; i < 2; i++) {
        size_t total = 0;
        ssize_t n = 1;
        while (io->out[i] >= 0 && total < DRAIN_MAX &&
               (n = read_once(io, io->out[i], i == 0 ? SHIM_STDOUT : SHIM_STDERR)) > 0)
            total += (size_t)n;
        close_fd(io, &io->out[i]);
    }
    if (io->master_in) {
        size_t total = 0;
        ssize_t n;
        while (total < DRAIN_MAX && (n = read_once(io, io->master, SHIM_STDOUT)) > 0)
            total += (size_t)n;
        io->master_in = false;
        shim_loop_del(io->loop, io->master);
    }
    if (!io->stdin_closed)
        stdin_close_now(io);
    for (int i = 0; i < 2; i++)
        if (io->sinks[i].fd >= 0 && io->sinks[i].q.len == 0)
            sink_close(io, &io->sinks[i], NULL);

    void (*done)(void *) = io->done;
    io->done = NULL;
    if (done)
        done(io->done_data);
}

static void
maybe_drained(struct shim_io *io)
{
    if (io->draining && io->done && io->out[0] < 0 && io->out[1] < 0 && !io->master_in)
        finish_drain(io);
}

static void
on_drain_timeout(struct shim_loop *loop, void *data)
{
    struct shim_io *io = data;

    io->drain_timer = 0;
    berth_debug("output not closed %s after the exit: stop waiting for it",
                io->terminal ? "(pty)" : "(pipes)");
    finish_drain(io);
}

void
shim_io_drain(struct shim_io *io, unsigned timeout_ms, void (*done)(void *data), void *data)
{
    io->draining = true;
    io->done = done;
    io->done_data = data;
    if (io->out[0] < 0 && io->out[1] < 0 && !io->master_in) {
        finish_drain(io);
        return;
    }
    io->drain_timer = shim_loop_timer(io->loop, timeout_ms, on_drain_timeout, io);
}

void
shim_io_drain_now(struct shim_io *io)
{
    if (io->draining && io->done)
        finish_drain(io);
}

void
shim_io_free(struct shim_io *io)
{
    if (io == NULL)
        return;
    if (io->drain_timer)
        shim_loop_timer_cancel(io->loop, io->drain_timer);
    for (int i = 0; i < 3; i++)
        if (io->child[i] >= 0)
            close(io->child[i]);
    close_fd(io, &io->in_w);
    close_fd(io, &io->out[0]);
    close_fd(io, &io->out[1]);
    close_fd(io, &io->fifo_in);
    if (io->master >= 0) {
        shim_loop_del(io->loop, io->master);
        close(io->master);
    }
    for (int i = 0; i < 2; i++) {
        if (io->sinks[i].fd >= 0) {
            /* Last chance for what is queued; then it is dropped. */
            shim_buf_flush(&io->sinks[i].q, io->sinks[i].fd);
            sink_close(io, &io->sinks[i], NULL);
        }
    }
    shim_buf_release(&io->in_q);
    free(io);
}
