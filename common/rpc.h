/* SPDX-License-Identifier: Apache-2.0
 *
 * A small generic gRPC layer over the gRPC C core (grpc/grpc.h, completion queues), driven by
 * protobuf-c service descriptors: a service is served or called by its descriptor plus, on the
 * server, a table naming each method's handler and kind. Nothing is written per method: the
 * request is unpacked with the method's input descriptor, the reply packed with the output
 * one, and berth errors become gRPC status codes through common/error's table.
 *
 * Unary and server-streaming calls only. Deadlines come from the client and are enforced by
 * core; a call whose client cancels, disconnects or runs out of time is "cancelled": its
 * on_cancel callback runs once and later sends are dropped.
 *
 * Rules the C core imposes (see the notes in the README): never use gRPC in a forked child of
 * a gRPC process (spawn with fork+exec); only one message in flight per call (this layer
 * queues); unknown methods get UNIMPLEMENTED (this layer arms a catch-all).
 */
#ifndef BERTH_COMMON_RPC_H
#define BERTH_COMMON_RPC_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct berth_err;
struct berth_rpc_server;
struct berth_rpc_call;
struct berth_rpc_client;
struct berth_rpc_stream;

/* ---------------------------------------------------------------- server */

enum berth_rpc_kind {
    BERTH_RPC_UNARY = 0,
    BERTH_RPC_SERVER_STREAM,
};

/* A handler owns `call` until it finishes it (berth_rpc_call_reply / _fail / _finish); req
 * belongs to the call and stays valid until then. Handlers run on a thread of their own (one
 * per call), so they may block (Tasks.Wait, Events.Subscribe); they may also return at once
 * and finish the call later from any thread. data: the pointer given to add_service. */
typedef void (*berth_rpc_handler_fn)(struct berth_rpc_call *call, const ProtobufCMessage *req,
                                     void *data);

struct berth_rpc_method {
    const char *name; /* as in the .proto: "Create" */
    enum berth_rpc_kind kind;
    berth_rpc_handler_fn fn;
};

/* A server listening on address ("unix:///run/x.sock", "unix:/path" or a bare absolute
 * path, which means unix). A stale socket file at the path is removed first; the socket is
 * made mode 0600 unless set otherwise later. Returns NULL and fills err on failure. */
struct berth_rpc_server *berth_rpc_server_new(const char *address, struct berth_err *err);

/* Register every method of svc. methods must name each method of svc exactly once (a method
 * without a handler is a programmer error: -1 with EINVAL). Call before start. */
int berth_rpc_server_add_service(struct berth_rpc_server *srv, const ProtobufCServiceDescriptor *svc,
                                 const struct berth_rpc_method *methods, size_t n_methods,
                                 void *data, struct berth_err *err);

/* Bind and start serving. Returns -1 and fills err if the address cannot be bound. */
int berth_rpc_server_start(struct berth_rpc_server *srv, struct berth_err *err);

/* Stop accepting calls, give running calls grace_ms to finish, then cancel the rest
 * (their on_cancel callbacks run; streaming clients see UNAVAILABLE), wait for every call to
 * be released and free the server. Safe with srv NULL. Does not call grpc_shutdown() (it can
 * block for seconds in core; a daemon exits right after). */
void berth_rpc_server_free(struct berth_rpc_server *srv, int grace_ms);

/* The value of request metadata key (lowercase, e.g. "berth-namespace"), or NULL. The string
 * lives as long as the call. */
const char *berth_rpc_call_metadata(struct berth_rpc_call *call, const char *key);

/* Full method path of the call ("/berth.supervisor.v1.Tasks/Create"), for logs. */
const char *berth_rpc_call_method(struct berth_rpc_call *call);

/* Unary success: send resp (not taken; the caller frees it after) with status OK. Ends the
 * handler's ownership of call. */
void berth_rpc_call_reply(struct berth_rpc_call *call, const ProtobufCMessage *resp);

/* Failure: status berth_err_to_grpc(err->code), details berth_err_string(err). err is left
 * as it was (the caller clears it). Ends ownership. */
void berth_rpc_call_fail(struct berth_rpc_call *call, const struct berth_err *err);

/* End with an explicit status (0 = OK) and details (may be NULL). For streams this goes out
 * after every queued message. Ends ownership. */
void berth_rpc_call_finish(struct berth_rpc_call *call, int grpc_status, const char *details);

/* Stream one message (not taken). Returns 0 when queued, -1 when the call is cancelled or
 * more than BERTH_RPC_MAX_QUEUED messages wait unsent (a client not reading: the caller should
 * then finish the call). */
#define BERTH_RPC_MAX_QUEUED 4096
int berth_rpc_call_send(struct berth_rpc_call *call, const ProtobufCMessage *msg);

bool berth_rpc_call_is_cancelled(struct berth_rpc_call *call);

/* cb(data) runs once, on a gRPC thread, when the call is cancelled (client cancel,
 * disconnect, deadline, server shutdown); at once if it already was. Must not block. */
void berth_rpc_call_on_cancel(struct berth_rpc_call *call, void (*cb)(void *data), void *data);

/* Milliseconds left before the client's deadline, or -1 when it set none. */
int64_t berth_rpc_call_deadline_ms(struct berth_rpc_call *call);

/* ---------------------------------------------------------------- client */

/* Per-call options; NULL means no metadata, no deadline, fail fast when the server is down. */
struct berth_rpc_opts {
    const char *const *metadata; /* key, value, key, value, ..., NULL */
    int timeout_ms;              /* <= 0: none */
    bool wait_for_ready;         /* queue until connected (up to the deadline) */
};

/* A channel to address (same forms as the server). Connects lazily. Thread-safe: calls from
 * several threads may share a client. Returns NULL and fills err on a bad address. */
struct berth_rpc_client *berth_rpc_client_new(const char *address, struct berth_err *err);
void berth_rpc_client_free(struct berth_rpc_client *c);

/* One unary call to method of svc. On success *resp is the unpacked reply (free with
 * protobuf_c_message_free_unpacked(*resp, NULL)) and 0 is returned. On failure -1 and err
 * holds the status mapped by berth_err_from_grpc (ENOENT for NOT_FOUND, ...) with the
 * server's details as message (berth_err_fail: printed without strerror). */
int berth_rpc_client_call(struct berth_rpc_client *c, const ProtobufCServiceDescriptor *svc,
                          const char *method, const ProtobufCMessage *req,
                          const struct berth_rpc_opts *opts, ProtobufCMessage **resp,
                          struct berth_err *err);

/* Open a server stream. Returns NULL and fills err when the call cannot start. */
struct berth_rpc_stream *berth_rpc_client_stream(struct berth_rpc_client *c,
                                                 const ProtobufCServiceDescriptor *svc,
                                                 const char *method, const ProtobufCMessage *req,
                                                 const struct berth_rpc_opts *opts,
                                                 struct berth_err *err);

/* Next message: 1 and *msg (free with protobuf_c_message_free_unpacked), 0 at a clean end
 * (status OK), -1 with err holding the status otherwise. Blocks. */
int berth_rpc_stream_next(struct berth_rpc_stream *s, ProtobufCMessage **msg, struct berth_err *err);

/* Cancel from any thread (a blocked _next then returns -1 with ECANCELED). */
void berth_rpc_stream_cancel(struct berth_rpc_stream *s);
void berth_rpc_stream_free(struct berth_rpc_stream *s);

#endif
