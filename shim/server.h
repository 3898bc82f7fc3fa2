/* SPDX-License-Identifier: Apache-2.0
 *
 * The control socket DIR/shim.sock: clients send request frames (common/frame.h), the shim
 * answers each with a frame of the same id, and pushes events (id 0, method "event") to every
 * connected client. Requests are served one at a time, in order of arrival; any number of
 * clients may be connected.
 */
#ifndef BERTH_SHIM_SERVER_H
#define BERTH_SHIM_SERVER_H

#include <stdint.h>
#include <sys/types.h>

#include <protobuf-c/protobuf-c.h>

struct berth_err;
struct shim;
struct shim_server;
struct shim_reply;

/* A method: decode its request with req_desc, then fn. fn answers with shim_reply_set, or
 * returns -1 with err (sent as the frame's code and error). Returning 0 without a reply sends
 * an empty payload (Empty). */
typedef int (*shim_method_fn)(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                              struct berth_err *err);

/* The response message; packed at once, so msg may live on the handler's stack. */
void shim_reply_set(struct shim_reply *reply, const ProtobufCMessage *msg);

/* Listen on path (berth_sock_listen: EADDRINUSE when a live shim serves it). */
struct shim_server *shim_server_listen(struct shim *s, const char *path, struct berth_err *err);

/* Push an event to every connected client; nobody connected: it is dropped (exits are on disk
 * and in List). */
void shim_server_event(struct shim_server *srv, const char *kind, const char *exec_id, pid_t pid,
                       uint32_t exit_status, int64_t exited_at);

/* Before the shim exits: write what is queued for each client, waiting at most timeout_ms. */
void shim_server_flush(struct shim_server *srv, unsigned timeout_ms);

/* Disconnect every client, close and remove the socket. NULL is fine. */
void shim_server_free(struct shim_server *srv);

#endif
