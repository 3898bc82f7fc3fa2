// SPDX-License-Identifier: Apache-2.0
//
// Content: a thin adapter over supervisor/content. Content is shared by every namespace, so
// no call is scoped by the `berth-namespace` header; Delete only publishes its event under
// it. List and Read are server streams: List in batches, Read in chunks of at most 1 MiB.
//
// Read sends at the client's pace (berth_rpc_call_send_wait, READ_WINDOW chunks ahead), so a
// Read of a large blob holds a few MiB of the supervisor's memory whatever the client does.

#include <errno.h>
#include <stdlib.h>

#include "berth/supervisor/v1/content.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "supervisor/content/content.h"
#include "supervisor/daemon.h"
#include "supervisor/events/exchange.h"
#include "supervisor/services/service.h"

#define READ_CHUNK (1024 * 1024)
/* Chunks waiting for the client before Read waits (see the file comment). */
#define READ_WINDOW 4
// A List message carries up to this many blobs or about this many bytes, whichever is first.
#define LIST_BATCH       256
#define LIST_BATCH_BYTES (1024 * 1024)

typedef Berth__Supervisor__V1__Info info_t;
typedef Berth__Supervisor__V1__IngestStatus status_t;

// gRPC status codes (grpc/status.h), for calls finished by hand.
enum { RPC_OK = 0, RPC_CANCELLED = 1 };

static void
ct_info(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__InfoRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    Berth__Supervisor__V1__InfoResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__info_response__init(r);
    int rc = sup_content_info(d->content, req->digest, &r->info, &err);
    sup_reply(call, rc, &r->base, &err);
}

static void
ct_update(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__UpdateContentRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    if (!req->info) {
        berth_err_fail(&err, EINVAL, "info is required");
        return sup_reply(call, -1, NULL, &err);
    }
    Berth__Supervisor__V1__UpdateContentResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__update_content_response__init(r);
    int rc = sup_content_update(d->content, req->info, req->update_mask, req->n_update_mask,
                                &r->info, &err);
    sup_reply(call, rc, &r->base, &err);
}

// Send list[from, to) as one message; -1 when the call is over (cancelled, client gone).
static int
send_batch(struct berth_rpc_call *call, info_t **list, size_t from, size_t to)
{
    Berth__Supervisor__V1__ListContentResponse r =
        BERTH__SUPERVISOR__V1__LIST_CONTENT_RESPONSE__INIT;
    r.info = list + from;
    r.n_info = to - from;
    return berth_rpc_call_send(call, &r.base);
}

static void
ct_list(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__ListContentRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    info_t **list = NULL;
    size_t n = 0, from = 0, bytes = 0;
    if (sup_content_list(d->content, (const char *const *)req->filters, req->n_filters, &list, &n,
                         &err) < 0)
        return sup_reply(call, -1, NULL, &err);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        bytes += protobuf_c_message_get_packed_size(&list[i]->base);
        if (i + 1 - from == LIST_BATCH || bytes >= LIST_BATCH_BYTES || i + 1 == n) {
            rc = send_batch(call, list, from, i + 1);
            from = i + 1;
            bytes = 0;
        }
    }
    sup_content_info_list_free(list, n);
    if (rc < 0)
        berth_rpc_call_finish(call, RPC_CANCELLED, "list cancelled");
    else
        berth_rpc_call_finish(call, RPC_OK, NULL);
}

static void
ct_delete(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__DeleteContentRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    Berth__Supervisor__V1__DeleteContentResponse r =
        BERTH__SUPERVISOR__V1__DELETE_CONTENT_RESPONSE__INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    int rc = sup_content_delete(d->content, req->digest, &err);
    if (rc == 0) {
        Berth__Supervisor__V1__ContentDelete ev = BERTH__SUPERVISOR__V1__CONTENT_DELETE__INIT;
        ev.digest = req->digest;
        sup_events_publish(d->events, ns, "/content/delete", &ev.base);
    }
    sup_reply_static(call, rc, &r.base, &err);
}

// Check the window of a Read against the blob's size; *end is where it stops.
static int
read_window(const Berth__Supervisor__V1__ReadContentRequest *req, int64_t blob_size, int64_t *end,
            struct berth_err *err)
{
    if (req->offset < 0 || req->size < 0)
        return berth_err_fail(err, EINVAL, "read `%s`: offset and size must not be negative",
                              req->digest);
    if (req->offset > blob_size)
        return berth_err_fail(err, ERANGE, "read `%s`: offset %lld is past its end (%lld bytes)",
                              req->digest, (long long)req->offset, (long long)blob_size);
    *end = blob_size;
    if (req->size > 0 && req->size < blob_size - req->offset)
        *end = req->offset + req->size;
    return 0;
}

static void
ct_read(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__ReadContentRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    int64_t size = 0, end = 0;
    cleanup_close int fd = sup_content_open_blob(d->content, req->digest, &size, &err);
    if (fd < 0 || read_window(req, size, &end, &err) < 0)
        return sup_reply(call, -1, NULL, &err);

    cleanup_free uint8_t *buf = xmalloc(READ_CHUNK);
    for (int64_t at = req->offset; at < end;) {
        size_t want = end - at < READ_CHUNK ? (size_t)(end - at) : READ_CHUNK;
        ssize_t n = sup_content_read_at(fd, buf, want, at, &err);
        if (n == 0)
            berth_err_fail(&err, EIO, "read `%s`: it ends at %lld bytes", req->digest,
                           (long long)at);
        if (n <= 0)
            return sup_reply(call, -1, NULL, &err);
        Berth__Supervisor__V1__ReadContentResponse r =
            BERTH__SUPERVISOR__V1__READ_CONTENT_RESPONSE__INIT;
        r.offset = at;
        r.data.data = buf;
        r.data.len = (size_t)n;
        if (berth_rpc_call_send_wait(call, &r.base, READ_WINDOW) < 0)
            return berth_rpc_call_finish(call, RPC_CANCELLED, "read cancelled");
        at += n;
    }
    berth_rpc_call_finish(call, RPC_OK, NULL);
}

static void
ct_status(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__ContentStatusRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    Berth__Supervisor__V1__ContentStatusResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__content_status_response__init(r);
    int rc = sup_content_status(d->content, req->ref, &r->status, &err);
    sup_reply(call, rc, &r->base, &err);
}

static void
ct_list_statuses(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__ListStatusesRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    Berth__Supervisor__V1__ListStatusesResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__list_statuses_response__init(r);
    int rc = sup_content_list_statuses(d->content, (const char *const *)req->filters,
                                       req->n_filters, &r->statuses, &r->n_statuses, &err);
    sup_reply(call, rc, &r->base, &err);
}

static void
ct_abort(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__AbortIngestRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    Berth__Supervisor__V1__AbortIngestResponse r =
        BERTH__SUPERVISOR__V1__ABORT_INGEST_RESPONSE__INIT;
    int rc = sup_content_abort(d->content, req->ref, &err);
    sup_reply_static(call, rc, &r.base, &err);
}

static const struct berth_rpc_method methods[] = {
    {"Info", BERTH_RPC_UNARY, ct_info},
    {"Update", BERTH_RPC_UNARY, ct_update},
    {"List", BERTH_RPC_SERVER_STREAM, ct_list},
    {"Delete", BERTH_RPC_UNARY, ct_delete},
    {"Read", BERTH_RPC_SERVER_STREAM, ct_read},
    {"Status", BERTH_RPC_UNARY, ct_status},
    {"ListStatuses", BERTH_RPC_UNARY, ct_list_statuses},
    {"Abort", BERTH_RPC_UNARY, ct_abort},
};

const struct sup_service sup_service_content = {
    &berth__supervisor__v1__content__descriptor,
    methods,
    sizeof(methods) / sizeof(methods[0]),
};
