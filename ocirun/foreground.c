// SPDX-License-Identifier: Apache-2.0
//
// The foreground loop of run and exec (see foreground.h): one poll over a signalfd, stdin and
// the pty master.

#include "ocirun/foreground.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"

void
ocirun_foreground_sigset(sigset_t *set)
{
    sigfillset(set);
    sigdelset(set, SIGSEGV);
    sigdelset(set, SIGBUS);
    sigdelset(set, SIGILL);
    sigdelset(set, SIGFPE);
    sigdelset(set, SIGTRAP);
    sigdelset(set, SIGABRT);
}

void
ocirun_signals_reset(void)
{
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
}

void
ocirun_foreground_winsize(uint32_t *height, uint32_t *width)
{
    struct winsize ws;
    if (ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
        *height = ws.ws_row;
        *width = ws.ws_col;
    }
}

static void
copy_winsize(int from, int to)
{
    struct winsize ws;
    if (ioctl(from, TIOCGWINSZ, &ws) == 0)
        ioctl(to, TIOCSWINSZ, &ws);
}

/* Write all of buf; the fds are blocking. */
static void
write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        len -= n;
    }
}

/* Copy what the pty has left after the process exited. */
static void
drain(int master)
{
    char buf[4096];
    int fl = fcntl(master, F_GETFL);
    fcntl(master, F_SETFL, fl | O_NONBLOCK);
    for (;;) {
        ssize_t n = read(master, buf, sizeof(buf));
        if (n <= 0)
            return;
        write_all(1, buf, n);
    }
}

static bool
reap(pid_t pid, int *status)
{
    int st;
    pid_t r;
    bool done = false;
    while ((r = waitpid(-1, &st, WNOHANG)) > 0) {
        if (r != pid)
            continue;
        *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        done = true;
    }
    return done;
}

int
ocirun_foreground_wait(pid_t pid, int master, const sigset_t *set, struct berth_err *err)
{
    cleanup_close int sfd = signalfd(-1, set, SFD_CLOEXEC);
    struct termios saved;
    bool raw = false, in_open = master >= 0;
    int status = -1;
    if (sfd < 0)
        return berth_err_set(err, errno, "signalfd");
    if (master >= 0 && isatty(0) && tcgetattr(0, &saved) == 0) {
        struct termios t = saved;
        cfmakeraw(&t);
        raw = tcsetattr(0, TCSANOW, &t) == 0;
        copy_winsize(0, master);
    }
    for (;;) {
        struct pollfd p[3] = {{.fd = sfd, .events = POLLIN},
                              {.fd = in_open ? 0 : -1, .events = POLLIN},
                              {.fd = master, .events = POLLIN}};
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            berth_err_set(err, errno, "poll");
            break;
        }
        if (p[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
                if (si.ssi_signo == SIGCHLD) {
                    if (reap(pid, &status))
                        break;
                } else if (si.ssi_signo == SIGWINCH && master >= 0) {
                    copy_winsize(0, master);
                } else {
                    kill(pid, si.ssi_signo);
                }
            }
        }
        char buf[4096];
        if (in_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = read(0, buf, sizeof(buf));
            if (n > 0)
                write_all(master, buf, n);
            else
                in_open = false;
        }
        if (master >= 0 && (p[2].revents & POLLIN)) {
            ssize_t n = read(master, buf, sizeof(buf));
            if (n > 0)
                write_all(1, buf, n);
        }
        if (master >= 0 && (p[2].revents & (POLLHUP | POLLERR)) && !(p[2].revents & POLLIN)) {
            /* Every slave closed: keep waiting for the exit, but stop polling the master. */
            master = -1;
        }
    }
    if (master >= 0)
        drain(master);
    if (raw)
        tcsetattr(0, TCSANOW, &saved);
    return status;
}
