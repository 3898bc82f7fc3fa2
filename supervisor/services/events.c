// SPDX-License-Identifier: Apache-2.0
//
// Events: Subscribe streams the exchange's envelopes that match the client's filters until
// the client goes away (its cancellation closes the subscriber); Publish lets a client add
// its own event to the stream, in the call's namespace.

#include <errno.h>
#include <string.h>

#include "berth/supervisor/v1/events.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/filter.h"
#include "supervisor/daemon.h"
#include "supervisor/events/exchange.h"
#include "supervisor/services/service.h"

static void
subscriber_cancelled(void *data)
{
    sup_subscriber_close(data);
}

static void
e_subscribe(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__SubscribeRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct berth_filter *f = berth_filter_parse((const char *const *)req->filters, req->n_filters, &err);
    if (!f)
        return sup_reply(call, -1, NULL, &err);
    struct sup_subscriber *sub = sup_events_subscribe(d->events, f);
    berth_rpc_call_on_cancel(call, subscriber_cancelled, sub);
    Berth__Supervisor__V1__Envelope *env;
    while (sup_subscriber_next(sub, &env) == 1) {
        int rc = berth_rpc_call_send(call, &env->base);
        berth__supervisor__v1__envelope__free_unpacked(env, NULL);
        if (rc < 0)
            break;
    }
    // Finish before freeing the subscriber: once finished, the cancel callback that holds
    // it can no longer run.
    if (berth_rpc_call_is_cancelled(call))
        berth_rpc_call_finish(call, 1 /* CANCELLED */, "subscription cancelled");
    else
        berth_rpc_call_finish(call, 14 /* UNAVAILABLE */, "event stream closed by the server");
    sup_events_unsubscribe(d->events, sub);
}

static void
e_publish(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__PublishRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    Berth__Supervisor__V1__PublishResponse r = BERTH__SUPERVISOR__V1__PUBLISH_RESPONSE__INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    if (!req->topic || req->topic[0] != '/' || strlen(req->topic) < 2)
        berth_err_fail(&err, EINVAL, "topic `%s` must start with `/`", req->topic ? req->topic : "");
    else if (!req->type || !*req->type)
        berth_err_fail(&err, EINVAL, "event type is required");
    if (err.msg)
        return sup_reply(call, -1, NULL, &err);
    sup_events_publish_raw(d->events, ns, req->topic, req->type, req->event.data, req->event.len);
    sup_reply_static(call, 0, &r.base, &err);
}

static const struct berth_rpc_method methods[] = {
    {"Subscribe", BERTH_RPC_SERVER_STREAM, e_subscribe},
    {"Publish", BERTH_RPC_UNARY, e_publish},
};

const struct sup_service sup_service_events = {
    &berth__supervisor__v1__events__descriptor, methods, sizeof(methods) / sizeof(methods[0]),
};
