/* SPDX-License-Identifier: Apache-2.0
 *
 * process.terminal: a pty made inside the container (from its own devpts), its slave as the
 * process's stdio and controlling terminal and bound on /dev/console, its master sent to the
 * caller over --console-socket with SCM_RIGHTS (runc's protocol: one message, the fd as
 * ancillary data, the pty's path as payload).
 */
#ifndef BERTH_OCIRUN_LINUX_TERMINAL_H
#define BERTH_OCIRUN_LINUX_TERMINAL_H

#include <stdbool.h>

struct berth_err;
struct ocirun_process;

/* Parent: connect to the console socket at path. Returns the fd. */
int ocirun_terminal_connect(const char *path, struct berth_err *err);

/* Child, after entering the rootfs: create the pty, send the master on console_fd, and make
 * the slave the process's stdio and controlling terminal. With set_console (the container's
 * init, not an exec), also bind it on /dev/console. */
int ocirun_terminal_setup(const struct ocirun_process *p, int console_fd, bool set_console,
                          struct berth_err *err);

/* Receive one fd sent with SCM_RIGHTS (the pty master). Returns it (O_CLOEXEC). */
int ocirun_terminal_recv_fd(int sock, struct berth_err *err);

/* Send fd over a unix socket with SCM_RIGHTS and `name` as the payload. */
int ocirun_terminal_send_fd(int sock, int fd, const char *name, struct berth_err *err);

#endif
