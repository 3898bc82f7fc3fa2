/* SPDX-License-Identifier: Apache-2.0
 *
 * A service of the supervisor: its proto service descriptor and the handler of each method
 * (common/rpc.h), registered in order by services/registry.c. Handlers get the struct
 * sup_daemon as data. The helpers here are the service edge: the namespace of a call, and
 * turning a result or a berth error into the reply.
 */
#ifndef BERTH_SUPERVISOR_SERVICES_SERVICE_H
#define BERTH_SUPERVISOR_SERVICES_SERVICE_H

#include <stddef.h>

#include "common/rpc.h"

struct berth_err;
struct sup_daemon;

struct sup_service {
    const ProtobufCServiceDescriptor *desc;
    const struct berth_rpc_method *methods;
    size_t n_methods;
};

extern const struct sup_service sup_service_version;
extern const struct sup_service sup_service_namespaces;
extern const struct sup_service sup_service_containers;
extern const struct sup_service sup_service_tasks;
extern const struct sup_service sup_service_events;
extern const struct sup_service sup_service_snapshots;
extern const struct sup_service sup_service_content;
extern const struct sup_service sup_service_images;

/* Images.Import and Images.Export (services/images-archive.c), in the Images table. */
void sup_images_import(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data);
void sup_images_export(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data);

/* Register every service on srv. */
int sup_services_register(struct berth_rpc_server *srv, struct sup_daemon *d,
                          struct berth_err *err);

/* The namespace of a call: its "berth-namespace" metadata, "default" without one. NULL with
 * err (EINVAL) when the name is malformed. */
const char *sup_call_namespace(struct berth_rpc_call *call, struct berth_err *err);

/* Finish a unary call: reply resp when rc == 0, else fail with err. resp (may be NULL) is
 * freed with protobuf_c_message_free_unpacked; err is cleared. */
void sup_reply(struct berth_rpc_call *call, int rc, ProtobufCMessage *resp, struct berth_err *err);

/* Same for a reply built on the stack (not freed). */
void sup_reply_static(struct berth_rpc_call *call, int rc, const ProtobufCMessage *resp,
                      struct berth_err *err);

/* Fails the call with ENOENT unless namespace ns exists; returns -1 then (call finished). */
int sup_require_namespace(struct berth_rpc_call *call, struct sup_daemon *d, const char *ns);

/* Keep the messages of v[0..n) that match the call's filter strings, in order, freeing the
 * others (protobuf_c_message_free_unpacked); *kept gets how many stay. Returns -1 with err
 * (EINVAL) on a malformed filter, having freed all of v's messages (not v). */
int sup_filter_list(char *const *filters, size_t n_filters, ProtobufCMessage **v, size_t n,
                    size_t *kept, struct berth_err *err);

#define SUP_NAMESPACE_HEADER "berth-namespace"

#endif
