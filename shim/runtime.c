/* SPDX-License-Identifier: Apache-2.0
 *
 * Running the OCI runtime (runtime.h). The shim forks the runtime with a clean signal state
 * (the shim blocks SIGCHLD and friends for its signalfd and ignores SIGPIPE; a blocked mask
 * and ignored signals survive exec and would reach the container) and waits for that pid
 * alone: waitpid(pid), never waitpid(-1), so an exit of a container process that happens
 * meanwhile stays a zombie until the loop's SIGCHLD handler reaps it, with its pid already
 * known by then.
 *
 * While waiting, the runtime's stdout and stderr are read as they come (a runtime printing more
 * than a pipe holds would otherwise block forever) through poll on a pidfd; waiting for EOF
 * instead would hang, because the container's init inherits the runtime's stdio and keeps it
 * open long after the runtime is gone. Kernels without pidfd_open (before 5.3) poll every 10 ms.
 */
#include "shim/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"

/* What is kept of the runtime's output: its error message, and what a command prints on
 * stdout (ps, events --stats), bounded so a broken runtime cannot fill the shim's memory. */
#define ERR_MAX (16u << 10)
#define OUT_MAX (16u << 20)

struct capture {
    char *buf;
    size_t len, cap, max;
};

static void
capture_add(struct capture *c, const char *p, size_t n)
{
    if (c->len + n > c->max)
        n = c->max - c->len;
    if (n == 0)
        return;
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 1024;
        while (cap < c->len + n + 1)
            cap *= 2;
        c->buf = xrealloc(c->buf, cap);
        c->cap = cap;
    }
    memcpy(c->buf + c->len, p, n);
    c->len += n;
    c->buf[c->len] = '\0';
}

/* Read what fd has now into c. Returns false at EOF or on an error (stop polling it). */
static bool
capture_read(struct capture *c, int fd)
{
    char buf[4096];

    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN;
        if (n == 0)
            return false;
        capture_add(c, buf, (size_t)n);
    }
}

static int
nonblocking_pipe(int p[2], int side)
{
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    fcntl(p[side], F_SETFL, fcntl(p[side], F_GETFL) | O_NONBLOCK);
    return 0;
}

static void
close_pair(int p[2])
{
    for (int i = 0; i < 2; i++)
        if (p[i] >= 0)
            close(p[i]);
    p[0] = p[1] = -1;
}

/* In the child: put fds[i] at i, reset the signal state, exec. Never returns. Every other fd
 * of the shim is close-on-exec. */
static _Noreturn void
exec_child(char **argv, const int fds[3])
{
    int moved[3];
    sigset_t none;

    /* Move the sources above 2 first, so that putting one in place cannot clobber another. */
    for (int i = 0; i < 3; i++) {
        moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
        if (moved[i] < 0)
            _exit(127);
    }
    for (int i = 0; i < 3; i++)
        if (dup2(moved[i], i) < 0)
            _exit(127);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execv(argv[0], argv);
    dprintf(2, "exec `%s`: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static char **
build_argv(const struct shim_runtime *rt, const char *const *args)
{
    size_t n = 0;

    while (args[n])
        n++;
    char **argv = xzalloc((n + 12) * sizeof(*argv));
    size_t i = 0;
    argv[i++] = (char *)rt->path;
    argv[i++] = "--root";
    argv[i++] = (char *)rt->root;
    if (rt->systemd_cgroup)
        argv[i++] = "--systemd-cgroup";
    if (rt->debug)
        argv[i++] = "--debug";
    if (rt->log) {
        argv[i++] = "--log";
        argv[i++] = (char *)rt->log;
        argv[i++] = "--log-format";
        argv[i++] = "json";
    }
    for (size_t j = 0; j < n; j++)
        argv[i++] = (char *)args[j];
    return argv;
}

/* The runtime's message for the error: trimmed, without its own "ocirun: " prefix. */
static char *
error_text(const char *name, struct capture *c, int status)
{
    char *s = c->buf ? c->buf : "";
    size_t len = c->len;
    size_t name_len = strlen(name);

    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' ' || s[len - 1] == '\r'))
        s[--len] = '\0';
    if (strncmp(s, name, name_len) == 0 && strncmp(s + name_len, ": ", 2) == 0)
        s += name_len + 2;
    if (*s != '\0')
        return xstrdup(s);
    if (WIFSIGNALED(status))
        return xasprintf("killed by signal %d", WTERMSIG(status));
    return xasprintf("exited with status %d", WEXITSTATUS(status));
}

static int
open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

/* Wait for pid while reading out/errc and feeding input; *status gets its wait status. */
static void
wait_child(pid_t pid, int out_fd, int err_fd, int in_fd, const char *input, size_t input_len,
           struct capture *out, struct capture *errc, int *status)
{
    cleanup_close int pidfd = open_pidfd(pid);
    size_t fed = 0;
    bool reaped = false;

    while (!reaped) {
        struct pollfd p[4] = {
            {.fd = pidfd, .events = POLLIN},
            {.fd = out_fd, .events = POLLIN},
            {.fd = err_fd, .events = POLLIN},
            {.fd = in_fd, .events = POLLOUT},
        };
        if (poll(p, 4, pidfd >= 0 ? -1 : 10) < 0 && errno != EINTR) {
            /* Cannot happen with valid fds; never take an unwaited child for a success. */
            while (waitpid(pid, status, 0) < 0 && errno == EINTR)
                ;
            break;
        }
        if (out_fd >= 0 && p[1].revents && !capture_read(out, out_fd))
            out_fd = -1;
        if (err_fd >= 0 && p[2].revents && !capture_read(errc, err_fd))
            err_fd = -1;
        if (in_fd >= 0 && p[3].revents) {
            ssize_t n = write(in_fd, input + fed, input_len - fed);
            if (n > 0)
                fed += (size_t)n;
            if ((n < 0 && errno != EAGAIN && errno != EINTR) || fed == input_len) {
                close(in_fd); /* the runtime reads its stdin to EOF */
                in_fd = -1;
            }
        }
        if (pidfd < 0 || (p[0].revents & POLLIN)) {
            pid_t r = waitpid(pid, status, pidfd < 0 ? WNOHANG : 0);
            reaped = r == pid || (r < 0 && errno != EINTR);
        }
    }
    if (in_fd >= 0)
        close(in_fd);
    /* What the runtime wrote just before exiting. */
    if (out_fd >= 0)
        capture_read(out, out_fd);
    if (err_fd >= 0)
        capture_read(errc, err_fd);
}

int
shim_runtime_run(const struct shim_runtime *rt, const char *const *args,
                 struct shim_runtime_call *call, struct berth_err *err)
{
    int in_p[2] = {-1, -1}, out_p[2] = {-1, -1}, err_p[2] = {-1, -1};
    int fds[3];
    cleanup_close int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    cleanup_free char **argv = build_argv(rt, args);
    struct capture out = {.max = OUT_MAX}, errc = {.max = ERR_MAX};
    const char *slash = strrchr(rt->path, '/');
    const char *name = slash ? slash + 1 : rt->path;
    int rc = -1;

    if (devnull < 0)
        return berth_err_set(err, errno, "open /dev/null");
    if ((call->input && call->stdio[0] < 0 && nonblocking_pipe(in_p, 1) < 0) ||
        (call->capture_stdout && call->stdio[1] < 0 && nonblocking_pipe(out_p, 0) < 0) ||
        (call->stdio[2] < 0 && nonblocking_pipe(err_p, 0) < 0)) {
        berth_err_set(err, errno, "pipe");
        goto out;
    }
    fds[0] = call->stdio[0] >= 0 ? call->stdio[0] : in_p[0] >= 0 ? in_p[0] : devnull;
    fds[1] = call->stdio[1] >= 0 ? call->stdio[1] : out_p[1] >= 0 ? out_p[1] : devnull;
    fds[2] = call->stdio[2] >= 0 ? call->stdio[2] : err_p[1];

    berth_debug("run %s %s", rt->path, args[0]);
    pid_t pid = fork();
    if (pid < 0) {
        berth_err_set(err, errno, "fork `%s`", rt->path);
        goto out;
    }
    if (pid == 0)
        exec_child(argv, fds);

    /* Our copies of the child's ends: EOF then depends on the child alone. */
    int *theirs[] = {&in_p[0], &out_p[1], &err_p[1]};
    for (size_t i = 0; i < ARRAY_SIZE(theirs); i++) {
        if (*theirs[i] >= 0)
            close(*theirs[i]);
        *theirs[i] = -1;
    }
    int status = 255 << 8; /* "exited with status 255" unless the wait says otherwise */
    int err_fd = err_p[0] >= 0 ? err_p[0] : -1;
    wait_child(pid, out_p[0], err_fd, in_p[1], call->input, call->input_len, &out, &errc, &status);
    in_p[1] = -1; /* closed by wait_child */
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        if (call->capture_stdout) {
            call->out = out.buf ? steal_ptr(&out.buf) : xstrdup("");
            call->out_len = out.len;
        }
        rc = 0;
        goto out;
    }
    /* The container's own stderr pipe carried the runtime's message. */
    if (call->stdio[2] >= 0 && call->err_fd >= 0)
        capture_read(&errc, call->err_fd);
    char *msg = error_text(name, &errc, status);
    berth_err_fail(err, EIO, "%s %s: %s", name, args[0], msg);
    free(msg);
out:
    close_pair(in_p);
    close_pair(out_p);
    close_pair(err_p);
    free(out.buf);
    free(errc.buf);
    return rc;
}

void
shim_runtime_call_release(struct shim_runtime_call *call)
{
    free(call->out);
    call->out = NULL;
    call->out_len = 0;
}
