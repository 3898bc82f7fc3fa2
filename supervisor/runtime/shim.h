/* SPDX-License-Identifier: Apache-2.0
 *
 * The supervisor's side of one berth-shim: starting it (sup_shim_spawn) and a connection to
 * its socket (sup_shim_connect) over which requests are framed (common/frame.h) and answered
 * in any order, while the shim pushes events on the same connection. A reader thread per
 * connection matches responses to waiting callers and hands events to a callback.
 *
 * Lifetime: a connection is refcounted; sup_shim_close drops the caller's reference and shuts
 * the socket, the reader thread drops the last. When the connection ends without
 * sup_shim_close or an expected end (sup_shim_call_ends), i.e. the shim died, on_gone runs once, on the reader
 * thread; it may call sup_shim_close (close never joins the reader).
 */
#ifndef BERTH_SUPERVISOR_RUNTIME_SHIM_H
#define BERTH_SUPERVISOR_RUNTIME_SHIM_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <sys/types.h>

#include "berth/shim/v1/shim.pb-c.h"

struct berth_err;
struct sup_shim;

struct sup_shim_spawn_opts {
    const char *shim_binary;    /* berth-shim path */
    const char *ns, *id;
    const char *bundle;         /* also the shim's state dir */
    const char *runtime;        /* runtime binary */
    const char *runtime_root;
    bool systemd_cgroup;
    bool debug;
};

/* Run berth-shim and wait until it has daemonized with its socket listening. On failure the
 * shim's own message (what it printed) is in err. */
int sup_shim_spawn(const struct sup_shim_spawn_opts *o, struct berth_err *err);

typedef void (*sup_shim_event_fn)(void *data, const Berth__Shim__V1__Event *ev);
typedef void (*sup_shim_data_fn)(void *data);

/* Connect to <bundle>/shim.sock. ECONNREFUSED / ENOENT in err when no shim serves it.
 * Callbacks run on the reader thread: on_event for each event, on_gone once if the
 * connection ends unexpectedly, on_free once when the connection is freed (after the last
 * callback), so data can be refcounted by it. on_free does not run when connect fails. */
struct sup_shim *sup_shim_connect(const char *bundle, sup_shim_event_fn on_event,
                                  sup_shim_data_fn on_gone, sup_shim_data_fn on_free, void *data,
                                  struct berth_err *err);

/* One request. req NULL sends an empty payload; resp_desc NULL ignores the reply's payload.
 * On success *resp (if resp_desc) is to be freed with protobuf_c_message_free_unpacked.
 * Errors: the shim's (its errno class and message), ECONNRESET when the shim went away,
 * ETIMEDOUT after timeout_ms. */
int sup_shim_call(struct sup_shim *s, const char *method, const ProtobufCMessage *req,
                  const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
                  int timeout_ms, struct berth_err *err);

/* Like sup_shim_call for a request after which the shim exits: on success (Delete of the
 * init process) with SUP_SHIM_ENDS_ON_OK, on failure (a failed Create) with
 * SUP_SHIM_ENDS_ON_ERROR. The connection's end is then expected and on_gone does not run. */
#define SUP_SHIM_ENDS_ON_OK    1
#define SUP_SHIM_ENDS_ON_ERROR 2
int sup_shim_call_ends(struct sup_shim *s, int ends, const char *method,
                       const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp_desc,
                       ProtobufCMessage **resp, int timeout_ms, struct berth_err *err);

/* Extra references for callers that use a connection another thread may close. */
struct sup_shim *sup_shim_ref(struct sup_shim *s);
void sup_shim_unref(struct sup_shim *s);

/* Shut the connection and drop the caller's reference; on_gone will not run. */
void sup_shim_close(struct sup_shim *s);

#endif
