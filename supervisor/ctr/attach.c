/* SPDX-License-Identifier: Apache-2.0
 *
 * `berth-ctr tasks attach` (attach.h): the process's live stdio through its shim's attach
 * socket (Tasks.Get names it), framed as io.h describes. One poll loop: the local stdin goes
 * out as stdin frames (an empty one at EOF closes the process's stdin), stdout and stderr
 * frames come back, and the exit frame ends the attach with the process's status. SIGINT and
 * SIGTERM detach, as does Ctrl-P Ctrl-Q on a terminal; SIGWINCH resizes the pty.
 */
#include "supervisor/ctr/attach.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "berth/supervisor/v1/tasks.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/sock.h"
#include "supervisor/ctr/client.h"
#include "supervisor/ctr/ctr.h"
#include "supervisor/ctr/io.h"
#include "supervisor/ctr/launch.h"

#define COPY_BUF 65536
#define CTRL_P   0x10
#define CTRL_Q   0x11

static const int attach_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH};

struct attach {
    struct ctr_global *g;
    const struct ctr_attach_opts *o;
    bool terminal;    /* the process has a pty */
    bool detach_keys; /* and the local stdin is a terminal: Ctrl-P Ctrl-Q detaches */
    int sock;
    int sig_fd;
    bool stdin_open;
    bool held_ctrl_p; /* a Ctrl-P read last, not sent yet: it may start the detach keys */
    bool detached;
    struct ctr_frame_reader reader;
};

static int
write_output(void *ctx, uint8_t stream, const uint8_t *data, size_t len, struct berth_err *err)
{
    int fd = stream == CTR_ATTACH_STDERR ? STDERR_FILENO : STDOUT_FILENO;
    if (ctr_write_all(fd, data, len) < 0)
        berth_debug("write output: %s", strerror(errno)); /* dropped, as a closed pipe would */
    return 0;
}

/* Send what came from stdin; from a terminal, Ctrl-P Ctrl-Q detaches instead. */
static int
send_input(struct attach *a, const uint8_t *buf, size_t len, struct berth_err *err)
{
    size_t start = 0;
    if (!a->detach_keys)
        return ctr_attach_send(a->sock, CTR_ATTACH_STDIN, buf, len, err);
    for (size_t i = 0; i < len; i++) {
        if (a->held_ctrl_p) {
            a->held_ctrl_p = false;
            if (buf[i] == CTRL_Q) {
                a->detached = true;
                return 0;
            }
            static const uint8_t ctrl_p = CTRL_P;
            if (ctr_attach_send(a->sock, CTR_ATTACH_STDIN, &ctrl_p, 1, err) < 0)
                return -1;
        }
        if (buf[i] == CTRL_P) {
            if (i > start &&
                ctr_attach_send(a->sock, CTR_ATTACH_STDIN, buf + start, i - start, err) < 0)
                return -1;
            a->held_ctrl_p = true;
            start = i + 1;
        }
    }
    if (len > start)
        return ctr_attach_send(a->sock, CTR_ATTACH_STDIN, buf + start, len - start, err);
    return 0;
}

static int
read_stdin(struct attach *a, struct berth_err *err)
{
    uint8_t buf[COPY_BUF];
    ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n > 0)
        return send_input(a, buf, (size_t)n, err);
    /* EOF: close the process's stdin. */
    a->stdin_open = false;
    return ctr_attach_send(a->sock, CTR_ATTACH_STDIN, NULL, 0, err);
}

static int
read_socket(struct attach *a, struct berth_err *err)
{
    uint8_t buf[COPY_BUF];
    ssize_t n = read(a->sock, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n < 0)
        return berth_err_set(err, errno, "read from the attach socket");
    if (n == 0)
        return berth_err_fail(err, EPIPE,
                              "attach: the connection closed before the process "
                              "exited");
    return ctr_frame_feed(&a->reader, buf, (size_t)n, write_output, a, err);
}

static void
handle_signals(struct attach *a)
{
    int sig;
    while ((sig = ctr_signals_next(a->sig_fd)) > 0) {
        struct berth_err err = BERTH_ERR_INIT;
        if (sig != SIGWINCH) {
            a->detached = true;
            continue;
        }
        if (a->terminal && ctr_launch_resize(a->g, a->o->container_id, a->o->exec_id, &err) < 0)
            berth_err_warn(&err);
    }
}

static int
attach_loop(struct attach *a, struct berth_err *err)
{
    while (!a->reader.exited && !a->detached) {
        struct pollfd p[3] = {
            {.fd = a->sig_fd, .events = POLLIN},
            {.fd = a->sock, .events = POLLIN},
            {.fd = a->stdin_open ? STDIN_FILENO : -1, .events = POLLIN},
        };
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            return berth_err_set(err, errno, "poll");
        }
        if (p[0].revents)
            handle_signals(a);
        if (p[1].revents && read_socket(a, err) < 0)
            return -1;
        if (p[2].revents && a->stdin_open && !a->reader.exited && read_stdin(a, err) < 0)
            return -1;
    }
    return 0;
}

int
ctr_attach(struct ctr_global *g, const struct ctr_attach_opts *o, int *exit_status,
           struct berth_err *err)
{
    Berth__Supervisor__V1__GetRequest req = BERTH__SUPERVISOR__V1__GET_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__GetResponse *resp = NULL;
    cleanup_tty struct ctr_tty tty = CTR_TTY_INIT;
    struct attach a = {.g = g, .o = o, .sock = -1, .sig_fd = -1, .stdin_open = !o->no_stdin};

    req.container_id = (char *)o->container_id;
    req.exec_id = (char *)(o->exec_id ? o->exec_id : "");
    if (ctr_call(g, &berth__supervisor__v1__tasks__descriptor, "Get", &req.base, &resp, err) < 0)
        return -1;
    if (!resp->process || !resp->process->attach_socket || !*resp->process->attach_socket)
        return berth_err_fail(err, ENOTSUP, "process `%s` has no attach socket",
                              o->exec_id ? o->exec_id : o->container_id);
    a.terminal = resp->process->terminal;
    cleanup_close int sock = berth_sock_connect(resp->process->attach_socket, err);
    if (sock < 0)
        return berth_err_wrap(err, "attach to `%s`", o->container_id);
    a.sock = sock;
    a.detach_keys = a.terminal && !o->no_stdin && isatty(STDIN_FILENO);
    if (a.terminal && !o->no_stdin) {
        if (ctr_tty_raw(&tty, STDIN_FILENO, err) < 0)
            return -1;
        struct berth_err resize_err = BERTH_ERR_INIT;
        if (ctr_launch_resize(g, o->container_id, o->exec_id, &resize_err) < 0)
            berth_err_warn(&resize_err);
    }
    a.sig_fd = ctr_signals_open(attach_signals, ARRAY_SIZE(attach_signals), err);
    if (a.sig_fd < 0)
        return -1;
    int rc = attach_loop(&a, err);
    ctr_signals_close(a.sig_fd, attach_signals, ARRAY_SIZE(attach_signals));
    ctr_tty_restore(&tty);
    if (rc < 0)
        return -1;
    *exit_status = a.reader.exited ? (int)a.reader.exit_status : 0;
    return 0;
}
