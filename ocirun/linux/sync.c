// SPDX-License-Identifier: Apache-2.0
//
// Messages between ocirun and the container's init during create (see sync.h).

#include "ocirun/linux/sync.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"

#define SYNC_MAX 4096

struct sync_msg {
    uint32_t type;
    int32_t code;
    char text[SYNC_MAX - 8];
};

int
ocirun_sync_send(int fd, enum ocirun_sync_type type, int code, const char *msg)
{
    struct sync_msg m = {.type = type, .code = code};
    size_t len = 0;
    if (msg) {
        len = strlen(msg);
        if (len >= sizeof(m.text))
            len = sizeof(m.text) - 1;
        memcpy(m.text, msg, len);
    }
    m.text[len] = '\0';
    ssize_t n;
    do
        n = send(fd, &m, 8 + len + 1, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -1 : 0;
}

static int recv_msg(int fd, char **text, int *code, int *passed, struct berth_err *err);

int
ocirun_sync_recv(int fd, char **text, struct berth_err *err)
{
    return recv_msg(fd, text, NULL, NULL, err);
}

int
ocirun_sync_recv_code(int fd, int *code, struct berth_err *err)
{
    return recv_msg(fd, NULL, code, NULL, err);
}

int
ocirun_sync_recv_fd(int fd, int *passed_fd, struct berth_err *err)
{
    return recv_msg(fd, NULL, NULL, passed_fd, err);
}

int
ocirun_sync_send_fd(int fd, enum ocirun_sync_type type, int passed_fd)
{
    struct sync_msg m = {.type = type};
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = &m, .iov_len = 9};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
    memset(cbuf, 0, sizeof(cbuf));
    m.text[0] = '\0';
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &passed_fd, sizeof(int));
    ssize_t n;
    do
        n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -1 : 0;
}

static int
recv_msg(int fd, char **text, int *code, int *passed, struct berth_err *err)
{
    struct sync_msg m;
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
    ssize_t n;
    if (passed)
        *passed = -1;
    do
        n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        int got;
        memcpy(&got, CMSG_DATA(c), sizeof(int));
        if (passed)
            *passed = got;
        else
            close(got); /* nobody asked for one: don't leak it */
    }
    if (n < 0)
        return berth_err_set(err, errno, "read from container init");
    if (n == 0)
        return berth_err_fail(err, ECHILD, "container init exited during setup");
    if (n < 8)
        return berth_err_fail(err, EPROTO, "short message from container init");
    ((char *)&m)[n < (ssize_t)sizeof(m) ? n : (ssize_t)sizeof(m) - 1] = '\0';
    /* A negative code marks an error with no system cause (see berth_err_fail). */
    if (m.type == OCIRUN_SYNC_ERROR && m.code < 0)
        return berth_err_fail(err, -m.code, "%s", n > 8 ? m.text : "container init failed");
    if (m.type == OCIRUN_SYNC_ERROR)
        return berth_err_set(err, m.code, "%s", n > 8 ? m.text : "container init failed");
    if (text)
        *text = xstrdup(n > 8 ? m.text : "");
    if (code)
        *code = m.code;
    return (int)m.type;
}

_Noreturn void
ocirun_sync_fail(int fd, const struct berth_err *err)
{
    ocirun_sync_send(fd, OCIRUN_SYNC_ERROR, err->no_cause ? -err->code : err->code,
                     err->msg ? err->msg : "unknown error");
    _exit(1);
}
