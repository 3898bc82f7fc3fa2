/* SPDX-License-Identifier: Apache-2.0
 *
 * Unix stream sockets by path, of any length: sun_path holds 107 bytes, but berth's state
 * dirs can be deeper, so a long path is reached through its directory opened O_PATH
 * ("/proc/self/fd/N/name"). Every fd is O_CLOEXEC.
 */
#ifndef BERTH_COMMON_SOCK_H
#define BERTH_COMMON_SOCK_H

#include <stdbool.h>

struct berth_err;

/* Listen on path (a stale socket file there is removed first), mode 0600. Returns the fd or
 * -1 with err: EADDRINUSE when a live process still accepts on path, EEXIST when path is not a
 * socket. nonblock: O_NONBLOCK on the listening fd. */
int berth_sock_listen(const char *path, bool nonblock, struct berth_err *err);

/* Connect to path. Returns the fd or -1 with err (ENOENT: no socket; ECONNREFUSED: nobody
 * listens). */
int berth_sock_connect(const char *path, struct berth_err *err);

/* Send / receive one fd with SCM_RIGHTS beside a one-byte payload. recv returns the fd (made
 * O_CLOEXEC) or -1 with err (EBADMSG when the message carried none). */
int berth_sock_send_fd(int sock, int fd, struct berth_err *err);
int berth_sock_recv_fd(int sock, struct berth_err *err);

#endif
