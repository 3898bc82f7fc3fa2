// SPDX-License-Identifier: Apache-2.0
//
// The services berth-supervisor serves, in registration order, and the edge helpers every
// handler uses (service.h).

#include "supervisor/services/service.h"

#include <errno.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/filter.h"
#include "supervisor/daemon.h"
#include "supervisor/store/store.h"

static const struct sup_service *const services[] = {
    &sup_service_version, &sup_service_namespaces, &sup_service_containers, &sup_service_tasks,
    &sup_service_events,  &sup_service_content,    &sup_service_snapshots,  &sup_service_images,
};

int
sup_services_register(struct berth_rpc_server *srv, struct sup_daemon *d, struct berth_err *err)
{
    for (size_t i = 0; i < ARRAY_SIZE(services); i++) {
        const struct sup_service *s = services[i];
        if (berth_rpc_server_add_service(srv, s->desc, s->methods, s->n_methods, d, err) < 0)
            return berth_err_wrap(err, "service %s", s->desc->name);
    }
    return 0;
}

const char *
sup_call_namespace(struct berth_rpc_call *call, struct berth_err *err)
{
    const char *ns = berth_rpc_call_metadata(call, SUP_NAMESPACE_HEADER);
    if (!ns || !*ns)
        return "default";
    if (sup_store_check_name("namespace", ns, err) < 0)
        return NULL;
    return ns;
}

void
sup_reply_static(struct berth_rpc_call *call, int rc, const ProtobufCMessage *resp,
                 struct berth_err *err)
{
    if (rc < 0) {
        berth_rpc_call_fail(call, err);
        berth_err_clear(err);
        return;
    }
    berth_rpc_call_reply(call, resp);
}

void
sup_reply(struct berth_rpc_call *call, int rc, ProtobufCMessage *resp, struct berth_err *err)
{
    sup_reply_static(call, rc, resp, err);
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
}

int
sup_require_namespace(struct berth_rpc_call *call, struct sup_daemon *d, const char *ns)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    int r = sup_store_namespace_exists(d->store, ns, &err);
    if (r == 0)
        berth_err_fail(&err, ENOENT, "namespace `%s` not found", ns);
    if (r <= 0) {
        sup_reply_static(call, -1, NULL, &err);
        return -1;
    }
    return 0;
}

int
sup_filter_list(char *const *filters, size_t n_filters, ProtobufCMessage **v, size_t n,
                size_t *kept, struct berth_err *err)
{
    struct berth_filter *f = berth_filter_parse((const char *const *)filters, n_filters, err);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (f && berth_filter_match(f, v[i], NULL))
            v[k++] = v[i];
        else
            protobuf_c_message_free_unpacked(v[i], NULL);
    }
    berth_filter_free(f);
    *kept = k;
    return f ? 0 : -1;
}
