/* SPDX-License-Identifier: Apache-2.0
 *
 * Attach sockets: DIR/init.attach.sock, DIR/<exec_id>.attach.sock. Any number of clients may
 * connect, come and go. Both directions carry docker's multiplexed stream framing: an 8-byte
 * header [stream, 0, 0, 0, size as big-endian uint32], then size bytes.
 *
 *   shim -> client  stream 1 stdout (a terminal's output too), 2 stderr; when the process has
 *                   exited and its output is drained, one frame of stream 3 whose 4-byte
 *                   payload is the big-endian exit status, then the shim closes the connection.
 *                   A client connecting after that gets the exit frame at once.
 *   client -> shim  stream 0: bytes for the process's stdin; a stream 0 frame of size 0 closes
 *                   the process's stdin. Frames of other streams are skipped. A client going
 *                   away never closes stdin.
 *
 * A client that falls more than SHIM_ATTACH_QUEUE_MAX bytes behind is disconnected (logged):
 * a stalled client never stalls the container, the log or the other clients.
 */
#ifndef BERTH_SHIM_ATTACH_H
#define BERTH_SHIM_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct berth_err;
struct shim_loop;
struct shim_attach;

#define SHIM_ATTACH_STDIN     0
#define SHIM_ATTACH_EXIT      3
#define SHIM_ATTACH_QUEUE_MAX (4u << 20)

/* Where stdin bytes from clients go. */
struct shim_attach_ops {
    void (*input)(void *data, const char *buf, size_t len);
    void (*close_input)(void *data);
};

/* Listen on path (berth_sock_listen) and serve clients from loop. ops/data are borrowed. */
struct shim_attach *shim_attach_listen(struct shim_loop *loop, const char *path,
                                       const struct shim_attach_ops *ops, void *data,
                                       struct berth_err *err);

/* Send output of stream (1 or 2) to every client. */
void shim_attach_output(struct shim_attach *a, int stream, const char *buf, size_t len);

/* The process exited with status and its output is drained: send every client (present and
 * future) the exit frame and close each once it has been written. */
void shim_attach_exit(struct shim_attach *a, uint32_t status);

/* Stop (pause) or resume reading clients' input, while the process's stdin is backed up. */
void shim_attach_pause_input(struct shim_attach *a, bool pause);

/* Disconnect every client, close and remove the socket. NULL is fine. */
void shim_attach_free(struct shim_attach *a);

#endif
