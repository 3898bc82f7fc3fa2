/* SPDX-License-Identifier: Apache-2.0
 *
 * An attached process (launch.h), as ctr runs one:
 *
 *   fifos made and opened -> Tasks.Create / Tasks.Exec (IO names them) -> raw terminal,
 *   ResizePty -> Tasks.Start -> signal pipe, Wait thread -> copy loop -> Wait returns ->
 *   drain output -> terminal restored, fifos removed
 *
 * One thread does all the copying with poll; a second makes the Tasks.Wait call (which
 * lasts as long as the process) and writes a byte on a pipe when it returns. Signals arrive
 * as bytes on another pipe (io.h). After the exit, the output fifos are read until the shim
 * closes them, or until they have been quiet for DRAIN_IDLE_MS, so nothing the process wrote
 * last is lost and a shim that keeps its ends open cannot hold us.
 */
#include "supervisor/ctr/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "berth/supervisor/v1/tasks.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "supervisor/ctr/client.h"
#include "supervisor/ctr/ctr.h"
#include "supervisor/ctr/io.h"

#define TASKS         (&berth__supervisor__v1__tasks__descriptor)
#define DRAIN_IDLE_MS 200
#define COPY_BUF      65536

static const int forwarded_signals[] = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT,
                                        SIGUSR1, SIGUSR2, SIGWINCH};

/* ---------------------------------------------------------------- calls */

static char *
exec_id_of(const struct ctr_launch *l)
{
    return (char *)(l->exec_id ? l->exec_id : "");
}

static int
create_process(struct ctr_global *g, const struct ctr_launch *l, const struct ctr_fifos *f,
               struct berth_err *err)
{
    Berth__Supervisor__V1__IO io = BERTH__SUPERVISOR__V1__IO__INIT;
    io.stdin = f->stdin_path ? f->stdin_path : "";
    io.stdout = f->stdout_path ? f->stdout_path : "";
    io.stderr = f->stderr_path ? f->stderr_path : "";
    io.terminal = l->terminal;
    io.open_stdin = l->open_stdin;
    if (!l->exec_id) {
        Berth__Supervisor__V1__CreateTaskRequest req =
            BERTH__SUPERVISOR__V1__CREATE_TASK_REQUEST__INIT;
        cleanup_pb Berth__Supervisor__V1__CreateTaskResponse *resp = NULL;
        req.container_id = (char *)l->container_id;
        req.io = &io;
        return ctr_call(g, TASKS, "Create", &req.base, &resp, err);
    }
    Berth__Supervisor__V1__ExecProcessRequest req =
        BERTH__SUPERVISOR__V1__EXEC_PROCESS_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__ExecProcessResponse *resp = NULL;
    req.container_id = (char *)l->container_id;
    req.exec_id = (char *)l->exec_id;
    req.spec.data = (uint8_t *)l->exec_spec;
    req.spec.len = l->exec_spec ? strlen(l->exec_spec) : 0;
    req.io = &io;
    return ctr_call(g, TASKS, "Exec", &req.base, &resp, err);
}

static int
start_process(struct ctr_global *g, const struct ctr_launch *l, struct berth_err *err)
{
    Berth__Supervisor__V1__StartRequest req = BERTH__SUPERVISOR__V1__START_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__StartResponse *resp = NULL;
    req.container_id = (char *)l->container_id;
    req.exec_id = exec_id_of(l);
    return ctr_call(g, TASKS, "Start", &req.base, &resp, err);
}

static int
kill_process(struct ctr_global *g, const struct ctr_launch *l, int sig, struct berth_err *err)
{
    Berth__Supervisor__V1__KillRequest req = BERTH__SUPERVISOR__V1__KILL_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__KillResponse *resp = NULL;
    req.container_id = (char *)l->container_id;
    req.exec_id = exec_id_of(l);
    req.signal = (uint32_t)sig;
    return ctr_call(g, TASKS, "Kill", &req.base, &resp, err);
}

/* A process created but not started: kill it, wait for it and delete it, best effort. An exec
 * whose start failed is gone already (the shim drops it): not finding it is no reason to
 * warn. */
static void
roll_back(struct ctr_global *g, const struct ctr_launch *l)
{
    struct berth_err ignored = BERTH_ERR_INIT;
    Berth__Supervisor__V1__WaitRequest wait = BERTH__SUPERVISOR__V1__WAIT_REQUEST__INIT;
    Berth__Supervisor__V1__DeleteTaskRequest del = BERTH__SUPERVISOR__V1__DELETE_TASK_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__WaitResponse *waited = NULL;
    cleanup_pb Berth__Supervisor__V1__DeleteResponse *deleted = NULL;
    if (kill_process(g, l, SIGKILL, &ignored) == 0) {
        wait.container_id = (char *)l->container_id;
        wait.exec_id = exec_id_of(l);
        ctr_call(g, TASKS, "Wait", &wait.base, &waited, &ignored);
    }
    berth_err_clear(&ignored);
    del.container_id = (char *)l->container_id;
    del.exec_id = exec_id_of(l);
    if (ctr_call(g, TASKS, "Delete", &del.base, &deleted, &ignored) < 0) {
        if (ignored.code == ENOENT)
            berth_err_clear(&ignored);
        else
            berth_err_warn(&ignored);
    }
}

int
ctr_launch_resize(struct ctr_global *g, const char *container_id, const char *exec_id,
                  struct berth_err *err)
{
    Berth__Supervisor__V1__ResizePtyRequest req = BERTH__SUPERVISOR__V1__RESIZE_PTY_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__ResizePtyResponse *resp = NULL;
    if (!ctr_tty_size(&req.width, &req.height))
        return 0;
    req.container_id = (char *)container_id;
    req.exec_id = (char *)(exec_id ? exec_id : "");
    return ctr_call(g, TASKS, "ResizePty", &req.base, &resp, err);
}

/* ---------------------------------------------------------------- the Wait thread */

struct waiter {
    struct ctr_global *g;
    const struct ctr_launch *l;
    int done_fd; /* written once Wait returns */
    int rc;
    uint32_t exit_status;
    struct berth_err err;
};

static void *
wait_thread(void *arg)
{
    struct waiter *w = arg;
    Berth__Supervisor__V1__WaitRequest req = BERTH__SUPERVISOR__V1__WAIT_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__WaitResponse *resp = NULL;
    req.container_id = (char *)w->l->container_id;
    req.exec_id = exec_id_of(w->l);
    w->rc = ctr_call_untimed(w->g, TASKS, "Wait", &req.base, &resp, &w->err);
    if (w->rc == 0)
        w->exit_status = resp->exit_status;
    ssize_t r = write(w->done_fd, "x", 1);
    (void)r;
    return NULL;
}

/* ---------------------------------------------------------------- the copy loop */

struct attached {
    struct ctr_global *g;
    const struct ctr_launch *l;
    struct ctr_fifos *fifos;
    int sig_fd, done_fd;
    bool stdin_open; /* still reading the local stdin */
    bool stdout_ok;  /* false once the local stdout refused a write: output is dropped */
    bool stderr_ok;
    bool exited;
    size_t in_len, in_off; /* input read from stdin, not yet in the fifo */
    char in_buf[COPY_BUF];
};

static void
close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* The local stdin is done: the process gets EOF once what is buffered has gone. */
static void
end_input(struct attached *s)
{
    s->stdin_open = false;
    if (s->in_len == 0)
        close_fd(&s->fifos->stdin_fd);
}

static void
read_stdin(struct attached *s)
{
    ssize_t n = read(STDIN_FILENO, s->in_buf, sizeof(s->in_buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        end_input(s);
        return;
    }
    s->in_len = (size_t)n;
    s->in_off = 0;
}

static void
write_stdin_fifo(struct attached *s)
{
    ssize_t n = write(s->fifos->stdin_fd, s->in_buf + s->in_off, s->in_len - s->in_off);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n < 0) {
        berth_debug("write to the stdin fifo: %s", strerror(errno));
        s->in_len = 0;
        end_input(s);
        return;
    }
    s->in_off += (size_t)n;
    if (s->in_off == s->in_len) {
        s->in_len = 0;
        if (!s->stdin_open)
            close_fd(&s->fifos->stdin_fd);
    }
}

/* Copy what a fifo holds to out; close the fifo at EOF. */
static void
copy_output(int *fd, int out, bool *out_ok)
{
    char buf[COPY_BUF];
    ssize_t n = read(*fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        close_fd(fd);
        return;
    }
    if (*out_ok && ctr_write_all(out, buf, (size_t)n) < 0) {
        berth_debug("write output: %s", strerror(errno));
        *out_ok = false; /* keep reading, so the process never blocks on a full fifo */
    }
}

static void
handle_signals(struct attached *s)
{
    int sig;
    while ((sig = ctr_signals_next(s->sig_fd)) > 0) {
        struct berth_err err = BERTH_ERR_INIT;
        if (sig == SIGWINCH) {
            if (s->l->terminal &&
                ctr_launch_resize(s->g, s->l->container_id, s->l->exec_id, &err) < 0)
                berth_err_warn(&err);
            continue;
        }
        if (s->exited)
            continue;
        berth_debug("forward signal %d to %s", sig, s->l->container_id);
        if (kill_process(s->g, s->l, sig, &err) < 0)
            berth_err_warn(&err);
    }
}

enum { P_SIG, P_DONE, P_STDIN, P_FIFO_IN, P_STDOUT, P_STDERR, P_N };

/* Copy until the Wait thread says the process exited and the output is drained. */
static void
copy_loop(struct attached *s)
{
    for (;;) {
        struct pollfd p[P_N];
        struct ctr_fifos *f = s->fifos;
        if (s->exited && f->stdout_fd < 0 && f->stderr_fd < 0)
            return;
        for (int i = 0; i < P_N; i++)
            p[i] = (struct pollfd){.fd = -1};
        p[P_SIG] = (struct pollfd){.fd = s->sig_fd, .events = POLLIN};
        if (!s->exited)
            p[P_DONE] = (struct pollfd){.fd = s->done_fd, .events = POLLIN};
        if (!s->exited && s->stdin_open && s->in_len == 0)
            p[P_STDIN] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
        if (!s->exited && s->in_len > 0)
            p[P_FIFO_IN] = (struct pollfd){.fd = f->stdin_fd, .events = POLLOUT};
        p[P_STDOUT] = (struct pollfd){.fd = f->stdout_fd, .events = POLLIN};
        p[P_STDERR] = (struct pollfd){.fd = f->stderr_fd, .events = POLLIN};

        int n = poll(p, P_N, s->exited ? DRAIN_IDLE_MS : -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            berth_warn("poll: %s", strerror(errno));
            return;
        }
        if (n == 0)
            return; /* exited, and the output has been quiet for DRAIN_IDLE_MS */
        if (p[P_SIG].revents)
            handle_signals(s);
        if (p[P_DONE].revents) {
            char b;
            ssize_t r = read(s->done_fd, &b, 1);
            (void)r;
            s->exited = true;
            s->stdin_open = false;
            s->in_len = 0;
            close_fd(&f->stdin_fd);
        }
        if (p[P_STDIN].revents && s->stdin_open)
            read_stdin(s);
        if (p[P_FIFO_IN].revents && f->stdin_fd >= 0 && s->in_len > 0)
            write_stdin_fifo(s);
        if (p[P_STDOUT].revents)
            copy_output(&f->stdout_fd, STDOUT_FILENO, &s->stdout_ok);
        if (p[P_STDERR].revents)
            copy_output(&f->stderr_fd, STDERR_FILENO, &s->stderr_ok);
    }
}

/* ---------------------------------------------------------------- launch */

static int
launch_detached(struct ctr_global *g, const struct ctr_launch *l, bool *started,
                struct berth_err *err)
{
    struct ctr_fifos none = CTR_FIFOS_INIT;
    if (create_process(g, l, &none, err) < 0)
        return -1;
    if (start_process(g, l, err) < 0) {
        roll_back(g, l);
        return -1;
    }
    *started = true;
    return 0;
}

/* From Start to the end of the copy: the signal pipe, the Wait thread and the loop. */
static int
stay_attached(struct ctr_global *g, const struct ctr_launch *l, struct ctr_fifos *f,
              int *exit_status, struct berth_err *err)
{
    struct waiter w = {.g = g, .l = l, .err = BERTH_ERR_INIT};
    struct attached s = {
        .g = g, .l = l, .fifos = f, .stdin_open = true, .stdout_ok = true, .stderr_ok = true};
    int done[2];
    pthread_t thread;
    if (pipe2(done, O_CLOEXEC) < 0)
        return berth_err_set(err, errno, "pipe");
    s.sig_fd = ctr_signals_open(forwarded_signals, ARRAY_SIZE(forwarded_signals), err);
    if (s.sig_fd < 0) {
        close(done[0]);
        close(done[1]);
        return -1;
    }
    w.done_fd = done[1];
    s.done_fd = done[0];
    int rc = pthread_create(&thread, NULL, wait_thread, &w);
    if (rc != 0) {
        berth_err_set(err, rc, "start the wait thread");
    } else {
        copy_loop(&s);
        /* The loop ends only after the exit, or on a poll failure: then wait here. */
        pthread_join(thread, NULL);
        if (w.rc < 0) {
            *err = w.err;
            w.err = (struct berth_err)BERTH_ERR_INIT;
        } else {
            *exit_status = (int)w.exit_status;
        }
    }
    ctr_signals_close(s.sig_fd, forwarded_signals, ARRAY_SIZE(forwarded_signals));
    close(done[0]);
    close(done[1]);
    return rc != 0 || w.rc < 0 ? -1 : 0;
}

int
ctr_launch(struct ctr_global *g, const struct ctr_launch *l, int *exit_status, bool *started,
           struct berth_err *err)
{
    struct ctr_fifos f = CTR_FIFOS_INIT;
    cleanup_tty struct ctr_tty tty = CTR_TTY_INIT;
    struct berth_err resize_err = BERTH_ERR_INIT;
    bool ignored;
    if (!started)
        started = &ignored;
    *exit_status = 0;
    *started = false;
    if (l->detach)
        return launch_detached(g, l, started, err);

    const char *name = l->exec_id ? l->exec_id : l->container_id;
    if (ctr_fifos_open(&f, name, l->terminal, err) < 0)
        return -1;
    if (create_process(g, l, &f, err) < 0) {
        ctr_fifos_close(&f);
        return -1;
    }
    if (l->terminal) {
        if (ctr_tty_raw(&tty, STDIN_FILENO, err) < 0)
            goto fail;
        /* Before Start, so the process starts with the right size; some shims only have
         * the pty once it runs, hence the second try below. */
        if (ctr_launch_resize(g, l->container_id, l->exec_id, &resize_err) < 0)
            berth_err_clear(&resize_err);
    }
    if (start_process(g, l, err) < 0)
        goto fail;
    *started = true;
    if (l->terminal && ctr_launch_resize(g, l->container_id, l->exec_id, &resize_err) < 0)
        berth_err_warn(&resize_err);
    int rc = stay_attached(g, l, &f, exit_status, err);
    ctr_tty_restore(&tty);
    ctr_fifos_close(&f);
    return rc;

fail:
    ctr_tty_restore(&tty);
    roll_back(g, l);
    ctr_fifos_close(&f);
    return -1;
}
