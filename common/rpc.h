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
 * Rules the C core imposes: never use gRPC in a forked child of a gRPC process (spawn with
 * fork+exec); only one message in flight per call (this layer queues); unknown methods get
 * UNIMPLEMENTED (this layer arms a catch-all). Messages may be up to 16 MiB each way (core's
 * default is 4 MiB). grpc_shutdown() is never called (it can block for seconds): a process
 * keeps gRPC until it exits. Core's own log lines go to common/log at debug level.
 *
 * Threads: the server drains its completion queue on one thread of its own and starts one
 * detached thread per call for its handler; both run with every signal blocked, so signals
 * reach only the program's threads (a daemon's signalfd keeps working). A client call waits
 * in the calling thread.
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
 * and finish the call later from any thread. Every call must be finished exactly once, even
 * a cancelled one (the status is then dropped): berth_rpc_server_free waits for it.
 * data: the pointer given to add_service. */
typedef void (*berth_rpc_handler_fn)(struct berth_rpc_call *call, const ProtobufCMessage *req,
                                     void *data);

struct berth_rpc_method {
    const char *name; /* as in the .proto: "Create" */
    enum berth_rpc_kind kind;
    berth_rpc_handler_fn fn;
};

/* A server for address ("unix:///run/x.sock", "unix:/path" or a bare absolute path, which
 * means unix; at most 107 bytes of path). Nothing is bound yet. Returns NULL and fills err
 * on failure (EINVAL for another form, ENAMETOOLONG). */
struct berth_rpc_server *berth_rpc_server_new(const char *address, struct berth_err *err);

/* Register every method of svc. methods must name each method of svc exactly once (a method
 * without a handler, a name svc lacks or a name listed twice is a programmer error: -1 with
 * EINVAL). kind says whether berth_rpc_call_send is allowed. Call before start (EINVAL after).
 * svc and data must outlive the server. */
int berth_rpc_server_add_service(struct berth_rpc_server *srv,
                                 const ProtobufCServiceDescriptor *svc,
                                 const struct berth_rpc_method *methods, size_t n_methods,
                                 void *data, struct berth_err *err);

/* Bind and start serving. A stale socket at the path (one nobody accepts on) is removed
 * first; a live one gives EADDRINUSE and anything else there EEXIST, left in place. The
 * socket is made mode 0600 (core binds with the umask, so keep it in a private directory if
 * the moment before the chmod matters). Returns -1 and fills err if the address cannot be
 * bound; the server must still be freed. */
int berth_rpc_server_start(struct berth_rpc_server *srv, struct berth_err *err);

/* Stop accepting calls, give running calls grace_ms to finish, then cancel the rest
 * (their on_cancel callbacks run; streaming clients see UNAVAILABLE), wait for every call to
 * be finished by its handler and released, remove the socket file and free the server. It
 * blocks for as long as a handler keeps a call: handlers must finish when cancelled. Call
 * it from no handler. Safe with srv NULL, or a server never started. */
void berth_rpc_server_free(struct berth_rpc_server *srv, int grace_ms);

/* The value of request metadata key (lowercase, e.g. "berth-namespace"), or NULL. The string
 * lives as long as the call. */
const char *berth_rpc_call_metadata(struct berth_rpc_call *call, const char *key);

/* Full method path of the call ("/berth.supervisor.v1.Tasks/Create"), for logs. */
const char *berth_rpc_call_method(struct berth_rpc_call *call);

/* Unary success: send resp (not taken; the caller frees it after) with status OK. Ends the
 * handler's ownership of call. On a stream it sends one last message, past the queue limit. */
void berth_rpc_call_reply(struct berth_rpc_call *call, const ProtobufCMessage *resp);

/* Failure: status berth_err_to_grpc(err->code), details berth_err_string(err). err is left
 * as it was (the caller clears it). Ends ownership. */
void berth_rpc_call_fail(struct berth_rpc_call *call, const struct berth_err *err);

/* End with an explicit status (0 = OK) and details (may be NULL). For streams this goes out
 * after every queued message. Ends ownership. */
void berth_rpc_call_finish(struct berth_rpc_call *call, int grpc_status, const char *details);

/* Stream one message (not taken). Returns 0 when queued, -1 when the call is cancelled or
 * over, when more than BERTH_RPC_MAX_QUEUED messages wait unsent (a client not reading: the
 * caller should then finish the call), or when the method is unary (a programmer error,
 * logged). Never blocks. */
#define BERTH_RPC_MAX_QUEUED 4096
int berth_rpc_call_send(struct berth_rpc_call *call, const ProtobufCMessage *msg);

/* The same for bulk data (blob reads, exports): first waits, on the handler's own thread,
 * while `window` (>= 1) or more messages wait unsent, so a client that reads slowly slows the
 * sender instead of filling the supervisor's memory. Returns -1 at once when the call is
 * cancelled or over, also while waiting. */
int berth_rpc_call_send_wait(struct berth_rpc_call *call, const ProtobufCMessage *msg,
                             size_t window);

bool berth_rpc_call_is_cancelled(struct berth_rpc_call *call);

/* cb(data) runs once, on the server's queue thread, when the call is cancelled (client
 * cancel, disconnect, deadline, server shutdown); at once, on the caller's thread, if it
 * already was. Setting another cb before the cancel replaces it. It never runs after the
 * handler finished the call, and finishing waits for a cb running on another thread, so data
 * may be freed once the call is finished. Must not block (it holds up every call of the
 * server); it may use the call (send, is_cancelled), and finish it. */
void berth_rpc_call_on_cancel(struct berth_rpc_call *call, void (*cb)(void *data), void *data);

/* Milliseconds left before the client's deadline (0 once passed), or -1 when it set none.
 * The server counts from the call's arrival, so it may see a little more than the client
 * asked for. */
int64_t berth_rpc_call_deadline_ms(struct berth_rpc_call *call);

/* ---------------------------------------------------------------- client */

/* Per-call options; NULL means no metadata, no deadline, fail fast when the server is down.
 * Failing fast gives ECONNREFUSED (UNAVAILABLE) at once when nothing listens; a server that
 * comes back is retried within a second (the client caps core's reconnect back-off). */
struct berth_rpc_opts {
    const char *const *metadata; /* key, value, key, value, ..., NULL */
    int timeout_ms;              /* <= 0: none */
    bool wait_for_ready;         /* queue until connected (up to the deadline) */
};

/* A channel to address (same forms as the server). Connects lazily. Thread-safe: calls from
 * several threads may share a client. Returns NULL and fills err on a bad address. Free the
 * client after every stream made from it. */
struct berth_rpc_client *berth_rpc_client_new(const char *address, struct berth_err *err);
void berth_rpc_client_free(struct berth_rpc_client *c);

/* One unary call to method of svc; blocks until the status comes. On success *resp is the
 * unpacked reply (free with protobuf_c_message_free_unpacked(*resp, NULL)) and 0 is returned.
 * On failure *resp is NULL, -1 is returned and err holds the status mapped by
 * berth_err_from_grpc (ENOENT for NOT_FOUND, ETIMEDOUT for DEADLINE_EXCEEDED, ECONNREFUSED
 * for UNAVAILABLE, ENOTSUP for UNIMPLEMENTED, EIO for a status not in the table) with the
 * server's details as message (berth_err_fail: printed without strerror), or
 * "rpc /pkg.Svc/M: STATUS" when there are none. A method svc lacks, a req of another type
 * than the method's input or bad metadata give EINVAL before anything is sent. */
int berth_rpc_client_call(struct berth_rpc_client *c, const ProtobufCServiceDescriptor *svc,
                          const char *method, const ProtobufCMessage *req,
                          const struct berth_rpc_opts *opts, ProtobufCMessage **resp,
                          struct berth_err *err);

/* Open a server stream. Returns NULL and fills err when the call cannot start (the same
 * checks as berth_rpc_client_call); a server that is down shows in the first _next. */
struct berth_rpc_stream *berth_rpc_client_stream(struct berth_rpc_client *c,
                                                 const ProtobufCServiceDescriptor *svc,
                                                 const char *method, const ProtobufCMessage *req,
                                                 const struct berth_rpc_opts *opts,
                                                 struct berth_err *err);

/* Next message: 1 and *msg (free with protobuf_c_message_free_unpacked), 0 at a clean end
 * (status OK), -1 with err holding the status otherwise (as berth_rpc_client_call); once
 * ended it keeps returning the same. Blocks. One thread at a time. */
int berth_rpc_stream_next(struct berth_rpc_stream *s, ProtobufCMessage **msg,
                          struct berth_err *err);

/* Cancel from any thread (a blocked _next then returns -1 with ECANCELED, maybe after
 * messages already received). A server the call reached sees it cancelled. */
void berth_rpc_stream_cancel(struct berth_rpc_stream *s);

/* Free the stream, cancelling it if it has not ended. Not while another thread is in _next
 * or _cancel. Safe with s NULL. */
void berth_rpc_stream_free(struct berth_rpc_stream *s);

#endif
