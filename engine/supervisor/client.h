/* SPDX-License-Identifier: Apache-2.0
 *
 * berthd's calls to berth-supervisor (common/rpc.h underneath): one channel, shared by every
 * connection thread, every call in the supervisor namespace ENG_NAMESPACE ("berth").
 */
#ifndef BERTH_ENGINE_SUPERVISOR_CLIENT_H
#define BERTH_ENGINE_SUPERVISOR_CLIENT_H

#include <protobuf-c/protobuf-c.h>

struct berth_err;
struct berth_rpc_stream;
struct eng_sup;

/* A client for the supervisor at address. Connects lazily: a supervisor that is down shows
 * in the first call (ECONNREFUSED, which the API answers 503). NULL with err on a bad
 * address. */
struct eng_sup *eng_sup_new(const char *address, struct berth_err *err);
void eng_sup_free(struct eng_sup *s);

/* One unary call. resp points to a pointer to the reply type, which the caller frees
 * (cleanup_pb). On failure -1 and err holds the supervisor's status and details. */
int eng_sup_call(struct eng_sup *s, const ProtobufCServiceDescriptor *svc, const char *method,
                 const ProtobufCMessage *req, void *resp, struct berth_err *err);

/* For an error from a stream's messages: when the supervisor could not be reached, say
 * where it was looked for. Returns -1. */
int eng_sup_explain(struct eng_sup *s, struct berth_err *err);

/* Open a server stream (no deadline); close it with eng_sup_stream_close. The client knows
 * its open streams, so that a stopping daemon can cancel them (eng_sup_cancel_all). */
struct berth_rpc_stream *eng_sup_stream(struct eng_sup *s, const ProtobufCServiceDescriptor *svc,
                                        const char *method, const ProtobufCMessage *req,
                                        struct berth_err *err);

/* Cancel (if it has not ended) and free a stream of s. NULL is fine. */
void eng_sup_stream_close(struct eng_sup *s, struct berth_rpc_stream *st);

/* Cancel every open stream: a connection thread blocked reading one wakes up with
 * ECANCELED, so the HTTP server can stop without waiting for pulls and saves to end. Streams
 * opened afterwards are cancelled at once. */
void eng_sup_cancel_all(struct eng_sup *s);

static inline void
eng_pb_freep(void *p)
{
    ProtobufCMessage **m = (ProtobufCMessage **)p;
    if (*m)
        protobuf_c_message_free_unpacked(*m, NULL);
}
/* For unpacked replies. */
#define cleanup_pb __attribute__((cleanup(eng_pb_freep)))

#endif
