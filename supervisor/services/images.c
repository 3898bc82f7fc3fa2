// SPDX-License-Identifier: Apache-2.0
//
// Images: a thin adapter over supervisor/images (records, pull, push, check, usage, garbage
// collection). Every call is scoped by the `berth-namespace` header. Pull and Push are server
// streams of progress that end with one message holding the result; cancelling the call
// stops the work (the pull's downloads stay as ingests for the next pull to resume). Import
// and Export are services/images-archive.c's.

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "berth/supervisor/v1/images.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "supervisor/daemon.h"
#include "supervisor/images/images.h"
#include "supervisor/services/service.h"
#include "supervisor/store/store.h"

// gRPC status codes (grpc/status.h), for calls finished by hand.
enum { RPC_OK = 0, RPC_CANCELLED = 1 };

static void
im_get(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__GetImageRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    Berth__Supervisor__V1__GetImageResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__get_image_response__init(r);
    int rc = sup_store_image_get(d->store, ns, req->name, &r->image, &err);
    sup_reply(call, rc, &r->base, &err);
}

static void
im_list(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__ListImagesRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    Berth__Supervisor__V1__ListImagesResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__list_images_response__init(r);
    int rc = sup_store_image_list(d->store, ns, &r->images, &r->n_images, &err);
    if (rc == 0)
        rc = sup_filter_list(req->filters, req->n_filters, (ProtobufCMessage **)r->images,
                             r->n_images, &r->n_images, &err);
    sup_reply(call, rc, &r->base, &err);
}

static void
im_create(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__CreateImageRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    if (!req->image) {
        berth_err_fail(&err, EINVAL, "image is required");
        return sup_reply(call, -1, NULL, &err);
    }
    Berth__Supervisor__V1__CreateImageResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__create_image_response__init(r);
    int rc = sup_images_create(d, ns, req->image, &r->image, &err);
    sup_reply(call, rc, &r->base, &err);
}

static void
im_update(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__UpdateImageRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    if (!req->image) {
        berth_err_fail(&err, EINVAL, "image is required");
        return sup_reply(call, -1, NULL, &err);
    }
    Berth__Supervisor__V1__UpdateImageResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__update_image_response__init(r);
    int rc =
        sup_images_update(d, ns, req->image, req->update_mask, req->n_update_mask, &r->image, &err);
    sup_reply(call, rc, &r->base, &err);
}

static void
im_delete(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__DeleteImageRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    Berth__Supervisor__V1__DeleteImageResponse r =
        BERTH__SUPERVISOR__V1__DELETE_IMAGE_RESPONSE__INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    int rc = sup_images_delete(d, ns, req->name, req->sync, &err);
    sup_reply_static(call, rc, &r.base, &err);
}

// ---- Streams of progress

// What a Pull or Push handler shares with the image code's callbacks.
struct stream {
    struct berth_rpc_call *call;
    bool is_push;
    atomic_bool cancelled;
};

static void
on_cancel(void *data)
{
    struct stream *s = data;
    atomic_store(&s->cancelled, true);
}

static bool
is_cancelled(void *data)
{
    struct stream *s = data;
    return atomic_load(&s->cancelled);
}

static void
send_progress(void *data, SupProgress *const *items, size_t n)
{
    struct stream *s = data;
    int rc;

    if (s->is_push) {
        Berth__Supervisor__V1__PushImageResponse r =
            BERTH__SUPERVISOR__V1__PUSH_IMAGE_RESPONSE__INIT;
        r.progress = (SupProgress **)items;
        r.n_progress = n;
        rc = berth_rpc_call_send(s->call, &r.base);
    } else {
        Berth__Supervisor__V1__PullImageResponse r =
            BERTH__SUPERVISOR__V1__PULL_IMAGE_RESPONSE__INIT;
        r.progress = (SupProgress **)items;
        r.n_progress = n;
        rc = berth_rpc_call_send(s->call, &r.base);
    }
    // A client that stopped reading (or left) ends the work as a cancel would.
    if (rc < 0)
        atomic_store(&s->cancelled, true);
}

// End a stream: the last message, or the error (a cancelled call gets CANCELLED).
static void
finish_stream(struct stream *s, int rc, const ProtobufCMessage *last, struct berth_err *err)
{
    if (rc == 0) {
        berth_rpc_call_send(s->call, last);
        berth_rpc_call_finish(s->call, RPC_OK, NULL);
    } else if (atomic_load(&s->cancelled) || berth_rpc_call_is_cancelled(s->call)) {
        berth_debug("%s: cancelled: %s", berth_rpc_call_method(s->call), err->msg);
        berth_rpc_call_finish(s->call, RPC_CANCELLED, "cancelled");
    } else {
        berth_rpc_call_fail(s->call, err);
    }
    berth_err_clear(err);
}

static void
im_pull(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__PullImageRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct stream s = {.call = call};
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    struct sup_images_pull_opts o = {
        .ref = req->ref,
        .platform = req->platform,
        .all_platforms = req->all_platforms,
        .skip_unpack = req->skip_unpack,
        .plain_http = req->plain_http,
        .username = req->auth ? req->auth->username : NULL,
        .password = req->auth ? req->auth->password : NULL,
        .labels = (Berth__Supervisor__V1__Image__LabelsEntry *const *)req->labels,
        .n_labels = req->n_labels,
        .progress = send_progress,
        .progress_data = &s,
        .cancelled = is_cancelled,
        .cancel_data = &s,
    };
    if (req->auth && req->auth->identity_token && *req->auth->identity_token) {
        berth_err_fail(&err, ENOTSUP,
                       "pull: identity tokens are not supported; give a username "
                       "and password");
        return sup_reply(call, -1, NULL, &err);
    }
    berth_rpc_call_on_cancel(call, on_cancel, &s);
    Berth__Supervisor__V1__PullImageResponse last =
        BERTH__SUPERVISOR__V1__PULL_IMAGE_RESPONSE__INIT;
    int rc = sup_images_pull(d, ns, &o, &last.image, &err);
    finish_stream(&s, rc, &last.base, &err);
    if (last.image)
        protobuf_c_message_free_unpacked(&last.image->base, NULL);
}

static void
im_push(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__PushImageRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct stream s = {.call = call, .is_push = true};
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    struct sup_images_push_opts o = {
        .name = req->name,
        .ref = req->ref,
        .platform = req->platform,
        .plain_http = req->plain_http,
        .username = req->auth ? req->auth->username : NULL,
        .password = req->auth ? req->auth->password : NULL,
        .progress = send_progress,
        .progress_data = &s,
        .cancelled = is_cancelled,
        .cancel_data = &s,
    };
    if (req->auth && req->auth->identity_token && *req->auth->identity_token) {
        berth_err_fail(&err, ENOTSUP,
                       "push: identity tokens are not supported; give a username "
                       "and password");
        return sup_reply(call, -1, NULL, &err);
    }
    berth_rpc_call_on_cancel(call, on_cancel, &s);
    cleanup_free char *digest = NULL;
    Berth__Supervisor__V1__PushImageResponse last =
        BERTH__SUPERVISOR__V1__PUSH_IMAGE_RESPONSE__INIT;
    int rc = sup_images_push(d, ns, &o, &digest, &err);
    if (digest)
        last.digest = digest;
    finish_stream(&s, rc, &last.base, &err);
}

// ---- Inspection and collection

static void
im_check(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__CheckImageRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    Berth__Supervisor__V1__CheckImageResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__check_image_response__init(r);
    int rc = sup_images_check(d, ns, req->name, req->platform, r, &err);
    sup_reply(call, rc, &r->base, &err);
}

static void
im_usage(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__ImageUsageRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    Berth__Supervisor__V1__ImageUsageResponse r = BERTH__SUPERVISOR__V1__IMAGE_USAGE_RESPONSE__INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    int rc =
        sup_images_usage(d, ns, req->name, req->platform, &r.content_size, &r.snapshot_size, &err);
    sup_reply_static(call, rc, &r.base, &err);
}

static void
im_gc(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    Berth__Supervisor__V1__GarbageCollectResponse r =
        BERTH__SUPERVISOR__V1__GARBAGE_COLLECT_RESPONSE__INIT;
    struct sup_images_gc_stats stats;

    (void)msg;
    int rc = sup_images_gc(d, &stats, &err);
    r.blobs_removed = stats.blobs_removed;
    r.snapshots_removed = stats.snapshots_removed;
    r.bytes_freed = stats.bytes_freed;
    sup_reply_static(call, rc, &r.base, &err);
}

static const struct berth_rpc_method methods[] = {
    {"Get", BERTH_RPC_UNARY, im_get},
    {"List", BERTH_RPC_UNARY, im_list},
    {"Create", BERTH_RPC_UNARY, im_create},
    {"Update", BERTH_RPC_UNARY, im_update},
    {"Delete", BERTH_RPC_UNARY, im_delete},
    {"Pull", BERTH_RPC_SERVER_STREAM, im_pull},
    {"Push", BERTH_RPC_SERVER_STREAM, im_push},
    {"Check", BERTH_RPC_UNARY, im_check},
    {"Usage", BERTH_RPC_UNARY, im_usage},
    {"GarbageCollect", BERTH_RPC_UNARY, im_gc},
    {"Import", BERTH_RPC_UNARY, sup_images_import},
    {"Export", BERTH_RPC_SERVER_STREAM, sup_images_export},
};

const struct sup_service sup_service_images = {
    &berth__supervisor__v1__images__descriptor,
    methods,
    sizeof(methods) / sizeof(methods[0]),
};
