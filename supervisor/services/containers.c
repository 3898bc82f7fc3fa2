// SPDX-License-Identifier: Apache-2.0
//
// Containers: metadata over store/containers.c, scoped by the call's namespace. Create
// checks what the store cannot (the spec is a JSON object) so a malformed spec is refused
// here, not later by the runtime; Delete is refused while the container has a task.

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "berth/supervisor/v1/containers.pb-c.h"
#include "berth/supervisor/v1/events.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/filter.h"
#include "common/fs.h"
#include "common/json.h"
#include "supervisor/daemon.h"
#include "supervisor/events/exchange.h"
#include "supervisor/runtime/tasks.h"
#include "supervisor/services/service.h"
#include "supervisor/store/store.h"

typedef Berth__Supervisor__V1__Container container_t;

static void
c_get(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__GetContainerRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    Berth__Supervisor__V1__GetContainerResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__get_container_response__init(r);
    int rc = sup_store_container_get(d->store, ns, req->id, &r->container, &err);
    sup_reply(call, rc, &r->base, &err);
}

static void
c_list(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__ListContainersRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    if (sup_require_namespace(call, d, ns) < 0)
        return;
    Berth__Supervisor__V1__ListContainersResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__list_containers_response__init(r);
    int rc = sup_store_container_list(d->store, ns, &r->containers, &r->n_containers, &err);
    if (rc == 0)
        rc = sup_filter_list(req->filters, req->n_filters, (ProtobufCMessage **)r->containers,
                             r->n_containers, &r->n_containers, &err);
    sup_reply(call, rc, &r->base, &err);
}

// The spec must at least be a JSON object; the runtime judges the rest at task create.
static int
check_spec(const container_t *c, struct berth_err *err)
{
    if (!c->spec.data || c->spec.len == 0)
        return berth_err_fail(err, EINVAL, "container `%s`: spec is required", c->id);
    cleanup_json struct json_object *spec =
        berth_json_parse((const char *)c->spec.data, c->spec.len, err);
    if (!spec)
        return berth_err_wrap(err, "container `%s`: spec", c->id);
    if (!json_object_is_type(spec, json_type_object))
        return berth_err_fail(err, EINVAL, "container `%s`: spec is a JSON %s, not an object",
                              c->id, berth_json_type_name(spec));
    return 0;
}

static void
c_create(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__CreateContainerRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    if (!req->container) {
        berth_err_fail(&err, EINVAL, "container is required");
        return sup_reply(call, -1, NULL, &err);
    }
    if (sup_store_check_name("container id", req->container->id, &err) < 0 ||
        check_spec(req->container, &err) < 0)
        return sup_reply(call, -1, NULL, &err);
    Berth__Supervisor__V1__CreateContainerResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__create_container_response__init(r);
    int rc = sup_store_container_create(d->store, ns, true, req->container, &r->container, &err);
    if (rc == 0) {
        Berth__Supervisor__V1__ContainerCreate ev = BERTH__SUPERVISOR__V1__CONTAINER_CREATE__INIT;
        ev.id = r->container->id;
        ev.image = r->container->image;
        ev.runtime = r->container->runtime && r->container->runtime->name
                         ? r->container->runtime->name
                         : "";
        sup_events_publish(d->events, ns, "/containers/create", &ev.base);
    }
    sup_reply(call, rc, &r->base, &err);
}

static void
c_update(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__UpdateContainerRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    if (!req->container) {
        berth_err_fail(&err, EINVAL, "container is required");
        return sup_reply(call, -1, NULL, &err);
    }
    bool spec_changes = req->n_update_mask == 0;
    for (size_t i = 0; i < req->n_update_mask; i++)
        spec_changes |= strcmp(req->update_mask[i], "spec") == 0;
    if (spec_changes && check_spec(req->container, &err) < 0)
        return sup_reply(call, -1, NULL, &err);
    Berth__Supervisor__V1__UpdateContainerResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__update_container_response__init(r);
    int rc = sup_store_container_update(d->store, ns, req->container, req->update_mask,
                                        req->n_update_mask, &r->container, &err);
    if (rc == 0) {
        Berth__Supervisor__V1__ContainerUpdate ev = BERTH__SUPERVISOR__V1__CONTAINER_UPDATE__INIT;
        ev.id = r->container->id;
        ev.image = r->container->image;
        ev.n_labels = r->container->n_labels;
        ev.labels = (Berth__Supervisor__V1__ContainerUpdate__LabelsEntry **)r->container->labels;
        sup_events_publish(d->events, ns, "/containers/update", &ev.base);
    }
    sup_reply(call, rc, &r->base, &err);
}

static void
c_delete(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__DeleteContainerRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    Berth__Supervisor__V1__DeleteContainerResponse r =
        BERTH__SUPERVISOR__V1__DELETE_CONTAINER_RESPONSE__INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    if (sup_tasks_exists(d->tasks, ns, req->id)) {
        berth_err_fail(&err, EBUSY, "container `%s` has a task: delete the task first", req->id);
        return sup_reply(call, -1, NULL, &err);
    }
    int rc = sup_store_container_delete(d->store, ns, req->id, &err);
    if (rc == 0) {
        // The default log dir belongs to the container, as docker removes a container's log.
        cleanup_free char *logs = xasprintf("%s/logs/%s/%s", d->root, ns, req->id);
        cleanup_err struct berth_err e2 = BERTH_ERR_INIT;
        if (berth_fs_rm_rf(logs, &e2) < 0)
            berth_err_warn(&e2);
        Berth__Supervisor__V1__ContainerDelete ev = BERTH__SUPERVISOR__V1__CONTAINER_DELETE__INIT;
        ev.id = req->id;
        sup_events_publish(d->events, ns, "/containers/delete", &ev.base);
    }
    sup_reply_static(call, rc, &r.base, &err);
}

static const struct berth_rpc_method methods[] = {
    {"Get", BERTH_RPC_UNARY, c_get},       {"List", BERTH_RPC_UNARY, c_list},
    {"Create", BERTH_RPC_UNARY, c_create}, {"Update", BERTH_RPC_UNARY, c_update},
    {"Delete", BERTH_RPC_UNARY, c_delete},
};

const struct sup_service sup_service_containers = {
    &berth__supervisor__v1__containers__descriptor, methods, sizeof(methods) / sizeof(methods[0]),
};
