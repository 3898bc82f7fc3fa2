// SPDX-License-Identifier: Apache-2.0
//
// Namespaces: a thin adapter over store/namespaces.c that publishes an event after each
// committed change. These calls name their namespace in the request, not in metadata.

#include <errno.h>
#include <stdlib.h>

#include "berth/supervisor/v1/events.pb-c.h"
#include "berth/supervisor/v1/namespaces.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/filter.h"
#include "supervisor/daemon.h"
#include "supervisor/events/exchange.h"
#include "supervisor/services/service.h"
#include "supervisor/store/store.h"

typedef Berth__Supervisor__V1__Namespace namespace_t;

static void
ns_list(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__ListNamespacesRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    Berth__Supervisor__V1__ListNamespacesResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__list_namespaces_response__init(r);
    int rc = sup_store_namespace_list(d->store, &r->namespaces, &r->n_namespaces, &err);
    if (rc == 0)
        rc = sup_filter_list(req->filters, req->n_filters, (ProtobufCMessage **)r->namespaces,
                             r->n_namespaces, &r->n_namespaces, &err);
    sup_reply(call, rc, &r->base, &err);
}

static void
ns_get(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__GetNamespaceRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    Berth__Supervisor__V1__GetNamespaceResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__get_namespace_response__init(r);
    int rc = sup_store_namespace_get(d->store, req->name, &r->namespace_, &err);
    sup_reply(call, rc, &r->base, &err);
}

// NamespaceCreate and NamespaceUpdate carry the same fields; only the type differs.
static void
publish_labels(struct sup_daemon *d, bool created, const namespace_t *ns)
{
    Berth__Supervisor__V1__NamespaceCreate c = BERTH__SUPERVISOR__V1__NAMESPACE_CREATE__INIT;
    Berth__Supervisor__V1__NamespaceUpdate u = BERTH__SUPERVISOR__V1__NAMESPACE_UPDATE__INIT;
    c.name = u.name = ns->name;
    c.n_labels = u.n_labels = ns->n_labels;
    c.labels = (Berth__Supervisor__V1__NamespaceCreate__LabelsEntry **)ns->labels;
    u.labels = (Berth__Supervisor__V1__NamespaceUpdate__LabelsEntry **)ns->labels;
    if (created)
        sup_events_publish(d->events, ns->name, "/namespaces/create", &c.base);
    else
        sup_events_publish(d->events, ns->name, "/namespaces/update", &u.base);
}

static void
ns_create(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__CreateNamespaceRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    if (!req->namespace_) {
        berth_err_fail(&err, EINVAL, "namespace is required");
        return sup_reply(call, -1, NULL, &err);
    }
    Berth__Supervisor__V1__CreateNamespaceResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__create_namespace_response__init(r);
    int rc = sup_store_namespace_create(d->store, req->namespace_, &r->namespace_, &err);
    if (rc == 0)
        publish_labels(d, true, r->namespace_);
    sup_reply(call, rc, &r->base, &err);
}

static void
ns_update(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__UpdateNamespaceRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    if (!req->namespace_) {
        berth_err_fail(&err, EINVAL, "namespace is required");
        return sup_reply(call, -1, NULL, &err);
    }
    Berth__Supervisor__V1__UpdateNamespaceResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__update_namespace_response__init(r);
    int rc = sup_store_namespace_update(d->store, req->namespace_, req->update_mask,
                                        req->n_update_mask, &r->namespace_, &err);
    if (rc == 0)
        publish_labels(d, false, r->namespace_);
    sup_reply(call, rc, &r->base, &err);
}

static void
ns_delete(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__DeleteNamespaceRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    Berth__Supervisor__V1__DeleteNamespaceResponse r =
        BERTH__SUPERVISOR__V1__DELETE_NAMESPACE_RESPONSE__INIT;
    int rc = sup_store_namespace_delete(d->store, req->name, &err);
    if (rc == 0) {
        Berth__Supervisor__V1__NamespaceDelete ev = BERTH__SUPERVISOR__V1__NAMESPACE_DELETE__INIT;
        ev.name = req->name;
        sup_events_publish(d->events, req->name, "/namespaces/delete", &ev.base);
    }
    sup_reply_static(call, rc, &r.base, &err);
}

static const struct berth_rpc_method methods[] = {
    {"List", BERTH_RPC_UNARY, ns_list},     {"Get", BERTH_RPC_UNARY, ns_get},
    {"Create", BERTH_RPC_UNARY, ns_create}, {"Update", BERTH_RPC_UNARY, ns_update},
    {"Delete", BERTH_RPC_UNARY, ns_delete},
};

const struct sup_service sup_service_namespaces = {
    &berth__supervisor__v1__namespaces__descriptor, methods, sizeof(methods) / sizeof(methods[0]),
};
