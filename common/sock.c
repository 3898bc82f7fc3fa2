/* SPDX-License-Identifier: Apache-2.0
 *
 * Unix stream sockets by path (sock.h). sun_path holds 107 bytes and a state dir can be deeper:
 * such a path is reached through an O_PATH fd of its directory, "/proc/self/fd/N/name", which
 * bind(2) and connect(2) resolve like any other path. A listener refuses to take over a path
 * that a live process still serves, and removes a stale socket file left by a dead one.
 */
#include "common/sock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"

/* The address of path in *sa. A path too long for sun_path goes through its directory, opened
 * O_PATH into *dirfd, which the caller keeps open until bind/connect returned and then closes. */
static int
make_addr(const char *path, struct sockaddr_un *sa, int *dirfd, struct berth_err *err)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (path[0] == '\0')
        return berth_err_fail(err, EINVAL, "empty socket path");
    if (strlen(path) < sizeof(sa->sun_path)) {
        strcpy(sa->sun_path, path);
        return 0;
    }

    const char *slash = strrchr(path, '/');
    cleanup_free char *dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
    const char *base = slash ? slash + 1 : path;
    if (dir[0] == '\0') {
        free(dir);
        dir = xstrdup("/");
    }
    int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return berth_err_set(err, errno, "open directory of socket `%s`", path);
    int n = snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", fd, base);
    if (n < 0 || (size_t)n >= sizeof(sa->sun_path)) {
        close(fd);
        return berth_err_fail(err, ENAMETOOLONG, "socket name `%s` is too long", base);
    }
    *dirfd = fd;
    return 0;
}

/* connect(2) to path on fd; errno set on failure. */
static int
connect_path(int fd, const char *path, struct berth_err *err)
{
    struct sockaddr_un sa;
    cleanup_close int dirfd = -1;

    if (make_addr(path, &sa, &dirfd, err) < 0)
        return -1;
    int rc;
    do
        rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    while (rc < 0 && errno == EINTR);
    if (rc < 0)
        return berth_err_set(err, errno, "connect to `%s`", path);
    return 0;
}

/* Whether path is a socket file nobody listens on any more (removable), after making sure it
 * is no other kind of file. Returns 1 stale, 0 absent, -1 with err when it is in use or is not
 * a socket. */
static int
check_stale(const char *path, struct berth_err *err)
{
    struct stat st;

    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return berth_err_set(err, errno, "stat `%s`", path);
    }
    if (!S_ISSOCK(st.st_mode))
        return berth_err_fail(err, EEXIST, "`%s` exists and is not a socket", path);

    cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return berth_err_set(err, errno, "socket");
    struct berth_err probe = BERTH_ERR_INIT;
    if (connect_path(fd, path, &probe) == 0)
        return berth_err_fail(err, EADDRINUSE, "`%s` is served by a live process", path);
    int code = probe.code;
    berth_err_clear(&probe);
    if (code == ECONNREFUSED || code == ENOENT)
        return 1;
    /* EAGAIN: a listener with a full backlog, very much alive; anything else, don't guess. */
    return berth_err_set(err, code, "probe `%s`", path);
}

int
berth_sock_listen(const char *path, bool nonblock, struct berth_err *err)
{
    struct sockaddr_un sa;
    cleanup_close int dirfd = -1;

    int stale = check_stale(path, err);
    if (stale < 0)
        return -1;
    if (stale && unlink(path) < 0 && errno != ENOENT)
        return berth_err_set(err, errno, "remove stale socket `%s`", path);
    if (make_addr(path, &sa, &dirfd, err) < 0)
        return -1;

    cleanup_close int fd =
        socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        return berth_err_set(err, errno, "socket");
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return berth_err_set(err, errno, "bind `%s`", path);
    /* Nobody can connect before listen(2): setting the mode in between leaves no window in
     * which the umask's mode applies. */
    if (chmod(sa.sun_path, 0600) < 0) {
        int saved = errno;
        unlink(sa.sun_path);
        return berth_err_set(err, saved, "chmod `%s`", path);
    }
    if (listen(fd, 128) < 0) {
        int saved = errno;
        unlink(sa.sun_path);
        return berth_err_set(err, saved, "listen on `%s`", path);
    }
    return steal_fd(&fd);
}

int
berth_sock_connect(const char *path, struct berth_err *err)
{
    cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return berth_err_set(err, errno, "socket");
    if (connect_path(fd, path, err) < 0)
        return -1;
    return steal_fd(&fd);
}

int
berth_sock_send_fd(int sock, int fd, struct berth_err *err)
{
    char byte = 0;
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};

    memset(cbuf, 0, sizeof(cbuf));
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    ssize_t n;
    do
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return berth_err_set(err, errno, "send fd");
    return 0;
}

int
berth_sock_recv_fd(int sock, struct berth_err *err)
{
    /* Senders put a byte or a name beside the fd (runc sends the pty's name): any payload up to
     * this size is accepted and ignored. Room for a few fds, so that extra ones are closed
     * rather than leaked. */
    char payload[256];
    char cbuf[CMSG_SPACE(4 * sizeof(int))];
    struct iovec iov = {.iov_base = payload, .iov_len = sizeof(payload)};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
    ssize_t n;

    do
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return berth_err_set(err, errno, "receive fd");

    int fd = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n_fds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n_fds; i++) {
            int got;
            memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (fd < 0)
                fd = got;
            else
                close(got);
        }
    }
    if (fd < 0)
        return berth_err_fail(err, EBADMSG,
                              n == 0 ? "connection closed before an fd arrived"
                                     : "message carried no fd");
    return fd;
}
