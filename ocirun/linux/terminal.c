// SPDX-License-Identifier: Apache-2.0
//
// The container's pty (see terminal.h).

#include "ocirun/linux/terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "ocirun/spec.h"

int
ocirun_terminal_connect(const char *path, struct berth_err *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return berth_err_set(err, ENAMETOOLONG, "console socket `%s`", path);
    strcpy(sa.sun_path, path);
    cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return berth_err_set(err, errno, "socket");
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return berth_err_set(err, errno, "connect to console socket `%s`", path);
    return steal_fd(&fd);
}

int
ocirun_terminal_send_fd(int sock, int fd, const char *name, struct berth_err *err)
{
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = (void *)name, .iov_len = strlen(name)};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
    memset(cbuf, 0, sizeof(cbuf));
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
        return berth_err_set(err, errno, "send pty master to console socket");
    return 0;
}

int
ocirun_terminal_recv_fd(int sock, struct berth_err *err)
{
    char name[256], cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = name, .iov_len = sizeof(name)};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
    ssize_t n;
    do
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return berth_err_set(err, errno, "receive pty master");
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
        return berth_err_fail(err, EPROTO, "no pty master received");
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof(int));
    return fd;
}

int
ocirun_terminal_setup(const struct ocirun_process *p, int console_fd, bool set_console,
                      struct berth_err *err)
{
    if (console_fd < 0)
        return berth_err_fail(err, EINVAL, "process.terminal needs --console-socket");
    cleanup_close int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
        return berth_err_set(err, errno, "open `/dev/ptmx`");
    int unlock = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
        return berth_err_set(err, errno, "unlock pty");
    /* TIOCGPTPEER opens the slave through the master, with no path lookup to race. */
    cleanup_close int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0)
        return berth_err_set(err, errno, "open pty slave");
    char name[64];
    if (ptsname_r(master, name, sizeof(name)) != 0)
        return berth_err_set(err, errno, "pty name");
    if (fchown(slave, p->uid, p->gid) < 0)
        return berth_err_set(err, errno, "chown `%s`", name);
    if (p->console_width && p->console_height) {
        struct winsize ws = {.ws_row = p->console_height, .ws_col = p->console_width};
        if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
            return berth_err_set(err, errno, "set window size");
    }
    /* /dev/console is the pty too, as the container sees it. */
    if (set_console) {
        if (access("/dev/console", F_OK) != 0) {
            int fd = open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
            if (fd >= 0)
                close(fd);
        }
        char target[64];
        snprintf(target, sizeof(target), "/proc/self/fd/%d", slave);
        if (mount(target, "/dev/console", NULL, MS_BIND, NULL) < 0)
            return berth_err_set(err, errno, "bind `%s` on /dev/console", name);
    }
    if (ocirun_terminal_send_fd(console_fd, master, name, err) < 0)
        return -1;
    if (setsid() < 0)
        return berth_err_set(err, errno, "setsid");
    if (ioctl(slave, TIOCSCTTY, 0) < 0)
        return berth_err_set(err, errno, "set controlling terminal");
    for (int fd = 0; fd < 3; fd++)
        if (dup2(slave, fd) < 0)
            return berth_err_set(err, errno, "dup pty to fd %d", fd);
    return 0;
}
