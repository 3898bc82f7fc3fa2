/* SPDX-License-Identifier: Apache-2.0
 *
 * What the two halves of common/rpc (rpc-server.c, rpc-client.c) share: address parsing, the
 * channel arguments both ends set, protobuf-c messages to and from gRPC byte buffers, and
 * status names. Defined in rpc-client.c; nothing outside common/rpc-*.c includes this.
 */
#ifndef BERTH_COMMON_RPC_INTERNAL_H
#define BERTH_COMMON_RPC_INTERNAL_H

#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>

struct berth_err;

/* Messages up to this size go both ways (core's default receive limit is 4 MiB, which an
 * image config or a big container list can pass). */
#define BERTH_RPC_MAX_MESSAGE (16 * 1024 * 1024)

/* The socket path in address ("unix:///abs", "unix:/abs" or "/abs"), as a heap string in
 * *path. -1 with EINVAL (or ENAMETOOLONG past sun_path) when it is none of those. */
int berth_rpc_address_path(const char *address, char **path, struct berth_err *err);

/* grpc_init() for a server or a client, and core's log lines routed to berth's logger (once
 * a process). Never paired with grpc_shutdown(): the last shutdown can block for seconds
 * joining core's backup poller, and a process using rpc keeps gRPC until it exits anyway. */
void berth_rpc_core_init(void);

/* Fill args (backed by the two-element array a) with the message size limits above. */
void berth_rpc_channel_args(grpc_channel_args *args, grpc_arg a[2]);

/* The method of svc called name, or NULL. */
const ProtobufCMethodDescriptor *berth_rpc_find_method(const ProtobufCServiceDescriptor *svc,
                                                       const char *name);

/* msg packed into a new byte buffer (the caller destroys it). */
grpc_byte_buffer *berth_rpc_pack(const ProtobufCMessage *msg);

/* bb unpacked as desc (free with protobuf_c_message_free_unpacked), or NULL when the bytes
 * are not a valid desc. bb is left to the caller. */
ProtobufCMessage *berth_rpc_unpack(const ProtobufCMessageDescriptor *desc, grpc_byte_buffer *bb);

/* "NOT_FOUND" for GRPC_STATUS_NOT_FOUND, as the gRPC docs spell them. */
const char *berth_rpc_status_name(grpc_status_code status);

#endif
