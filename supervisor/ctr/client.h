/* SPDX-License-Identifier: Apache-2.0
 *
 * berth-ctr's calls to the supervisor (common/rpc.h underneath): one channel a process, opened
 * by the first call; every call but those to the Namespaces and Version services carries the
 * `berth-namespace` metadata header with the --namespace value, and unary calls get the
 * --timeout deadline.
 */
#ifndef BERTH_SUPERVISOR_CTR_CLIENT_H
#define BERTH_SUPERVISOR_CTR_CLIENT_H

#include <protobuf-c/protobuf-c.h>

struct berth_err;
struct berth_rpc_stream;
struct ctr_global;

/* One unary call of method on svc. resp points to a pointer to the response message type
 * (`Berth__Supervisor__V1__GetResponse *r; ctr_call(g, svc, "Get", &req.base, &r, err)`);
 * on success it holds the reply, which the caller frees (cleanup_pb). On failure -1 and err
 * holds the server's status and details. Safe to call from several threads once the first
 * call has returned (the channel is opened then). */
int ctr_call(struct ctr_global *g, const ProtobufCServiceDescriptor *svc, const char *method,
             const ProtobufCMessage *req, void *resp, struct berth_err *err);

/* The same without the --timeout deadline, for calls that last as long as a process does
 * (Tasks.Wait). */
int ctr_call_untimed(struct ctr_global *g, const ProtobufCServiceDescriptor *svc,
                     const char *method, const ProtobufCMessage *req, void *resp,
                     struct berth_err *err);

/* Open a server stream (no deadline). NULL with err when it cannot start. */
struct berth_rpc_stream *ctr_stream(struct ctr_global *g, const ProtobufCServiceDescriptor *svc,
                                    const char *method, const ProtobufCMessage *req,
                                    struct berth_err *err);

/* Close the channel, if one was opened. */
void ctr_client_close(struct ctr_global *g);

static inline void
ctr_pb_freep(void *p)
{
    ProtobufCMessage **m = (ProtobufCMessage **)p;
    if (*m)
        protobuf_c_message_free_unpacked(*m, NULL);
}
/* For unpacked messages (replies): freed with protobuf_c_message_free_unpacked. */
#define cleanup_pb __attribute__((cleanup(ctr_pb_freep)))

#endif
