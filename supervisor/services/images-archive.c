// SPDX-License-Identifier: Apache-2.0
//
// Images.Import and Images.Export: the service edge of supervisor/archive. Import reads a
// tarball the supervisor can open, unpacks each image for the platform, and creates or
// updates the records last, under a lease that keeps the blobs and snapshots from the
// collector until then; a failure before the records leaves only garbage for it. Export
// streams a tarball in chunks of at most SUP_ARCHIVE_CHUNK bytes.
//
// Chunks go out at the client's pace (berth_rpc_call_send_wait, a window of EXPORT_WINDOW
// chunks), so an export of any size holds a few MiB of the supervisor's memory; a client that
// leaves or cancels stops the export.

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "berth/supervisor/v1/images.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "supervisor/archive/archive.h"
#include "supervisor/daemon.h"
#include "supervisor/images/images.h"
#include "supervisor/images/lease.h"
#include "supervisor/services/service.h"
#include "supervisor/store/store.h"

/* Chunks (of up to SUP_ARCHIVE_CHUNK bytes) waiting for the client before the export waits. */
#define EXPORT_WINDOW 4

// gRPC status codes (grpc/status.h), for calls finished by hand.
enum { RPC_OK = 0, RPC_CANCELLED = 1 };

struct call_state {
    struct berth_rpc_call *call;
    atomic_bool cancelled;
};

static void
on_cancel(void *data)
{
    struct call_state *s = data;
    atomic_store(&s->cancelled, true);
}

static bool
is_cancelled(void *data)
{
    struct call_state *s = data;
    return atomic_load(&s->cancelled);
}

// ---- Import

// Unpack each distinct target for want, in the order of the tarball.
static int
unpack_all(struct sup_daemon *d, const char *ns, struct sup_lease *lease,
           const struct sup_archive_images *images, const struct sup_remote_platform *want,
           struct call_state *s, struct berth_err *err)
{
    for (size_t i = 0; i < images->n; i++) {
        const struct sup_archive_image *img = &images->v[i];
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(images->v[j].target.digest, img->target.digest) == 0;
        if (seen)
            continue;
        cleanup_free char *digest = NULL;
        cleanup_free char *media_type = NULL;
        int64_t size = 0;
        char chain[SUP_IMAGES_DIGEST_MAX];
        const char *what = img->name ? img->name : img->target.digest;
        if (sup_images_manifest_for(d, img->target.digest, img->target.media_type, want, &digest,
                                    &media_type, &size, err) < 0 ||
            sup_images_unpack(d, ns, lease, digest, NULL, s, is_cancelled, chain, err) < 0)
            return berth_err_wrap(err, "unpack image `%s`", what);
    }
    return 0;
}

// Create or update the named images; every image goes into r (the unnamed ones with the
// name "", as they are only reported).
static int
put_all(struct sup_daemon *d, const char *ns, const Berth__Supervisor__V1__ImportImagesRequest *req,
        const struct sup_archive_images *images, Berth__Supervisor__V1__ImportImagesResponse *r,
        struct berth_err *err)
{
    r->images = xzalloc(images->n * sizeof(*r->images));
    for (size_t i = 0; i < images->n; i++) {
        const struct sup_archive_image *img = &images->v[i];
        Berth__Supervisor__V1__Descriptor target = BERTH__SUPERVISOR__V1__DESCRIPTOR__INIT;
        Berth__Supervisor__V1__Image want = BERTH__SUPERVISOR__V1__IMAGE__INIT;
        target.media_type = img->target.media_type;
        target.digest = img->target.digest;
        target.size = img->target.size;
        want.target = &target;
        if (img->name == NULL) {
            // Only reported: a copy the response owns.
            SupImage *u = xmalloc(sizeof(*u));
            berth__supervisor__v1__image__init(u);
            u->name = xstrdup("");
            u->target = xmalloc(sizeof(*u->target));
            berth__supervisor__v1__descriptor__init(u->target);
            u->target->media_type = xstrdup(target.media_type);
            u->target->digest = xstrdup(target.digest);
            u->target->size = target.size;
            r->images[r->n_images++] = u;
            continue;
        }
        want.name = img->name;
        want.labels = (Berth__Supervisor__V1__Image__LabelsEntry **)req->labels;
        want.n_labels = req->n_labels;
        if (sup_images_put(d, ns, &want, &r->images[r->n_images], err) < 0)
            return berth_err_wrap(err, "import `%s`", req->path);
        r->n_images++;
    }
    return 0;
}

static int
import_images(struct sup_daemon *d, const char *ns,
              const Berth__Supervisor__V1__ImportImagesRequest *req, struct call_state *s,
              Berth__Supervisor__V1__ImportImagesResponse *r, struct berth_err *err)
{
    struct sup_remote_platform want = {0};
    cleanup_archive_images struct sup_archive_images images = {0};

    if (req->path == NULL || req->path[0] != '/')
        return berth_err_fail(err, EINVAL, "import: path `%s` is not absolute",
                              req->path ? req->path : "");
    if (sup_images_platform(req->platform, &want, err) < 0)
        return berth_err_wrap(err, "import");
    cleanup_free char *what = xasprintf("import %s", req->path);
    cleanup_lease struct sup_lease *lease = sup_lease_new(d->leases, what);
    struct sup_archive_import_opts opts = {
        .base_name = req->base_name,
        .is_cancelled = is_cancelled,
        .cancel_data = s,
    };
    int rc = sup_archive_import(d->content, lease, req->path, &opts, &images, err);
    if (rc == 0 && !req->skip_unpack)
        rc = unpack_all(d, ns, lease, &images, &want, s, err);
    if (rc == 0)
        rc = put_all(d, ns, req, &images, r, err);
    sup_remote_platform_clear(&want);
    return rc;
}

void
sup_images_import(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__ImportImagesRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct call_state s = {.call = call};
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    berth_rpc_call_on_cancel(call, on_cancel, &s);
    Berth__Supervisor__V1__ImportImagesResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__import_images_response__init(r);
    int rc = import_images(d, ns, req, &s, r, &err);
    if (rc < 0 && atomic_load(&s.cancelled)) {
        protobuf_c_message_free_unpacked(&r->base, NULL);
        return berth_rpc_call_finish(call, RPC_CANCELLED, "import cancelled");
    }
    sup_reply(call, rc, &r->base, &err);
}

// ---- Export

static int
send_chunk(void *data, const void *buf, size_t len, struct berth_err *err)
{
    struct call_state *s = data;
    Berth__Supervisor__V1__ExportImagesResponse r =
        BERTH__SUPERVISOR__V1__EXPORT_IMAGES_RESPONSE__INIT;

    if (atomic_load(&s->cancelled))
        return berth_err_fail(err, ECANCELED, "export cancelled");
    r.data.data = (uint8_t *)buf;
    r.data.len = len;
    if (berth_rpc_call_send_wait(s->call, &r.base, EXPORT_WINDOW) < 0) {
        // A client that left ends the export as a cancel would.
        atomic_store(&s->cancelled, true);
        return berth_err_fail(err, ECANCELED, "export cancelled");
    }
    return 0;
}

// The record of name: as given, else as docker reads it ("busybox" for
// "docker.io/library/busybox:latest").
static int
find_image(struct sup_daemon *d, const char *ns, const char *name, SupImage **out,
           struct berth_err *err)
{
    cleanup_free char *normal = NULL;
    struct berth_err ignored = BERTH_ERR_INIT;

    if (sup_store_image_get(d->store, ns, name, out, err) == 0)
        return 0;
    if (err->code != ENOENT || sup_images_normalize(name, &normal, &ignored) < 0 ||
        strcmp(normal, name) == 0) {
        berth_err_clear(&ignored);
        return -1;
    }
    berth_err_clear(err);
    return sup_store_image_get(d->store, ns, normal, out, err);
}

static int
export_images(struct sup_daemon *d, const char *ns,
              const Berth__Supervisor__V1__ExportImagesRequest *req, struct call_state *s,
              struct berth_err *err)
{
    struct sup_remote_platform want = {0};

    if (req->n_names == 0)
        return berth_err_fail(err, EINVAL, "export: no image named");
    if (sup_images_platform(req->platform, &want, err) < 0)
        return berth_err_wrap(err, "export");
    cleanup_archive_images struct sup_archive_images images = {0};
    images.v = xzalloc(req->n_names * sizeof(*images.v));
    int rc = 0;
    for (size_t i = 0; i < req->n_names && rc == 0; i++) {
        SupImage *img = NULL;
        rc = find_image(d, ns, req->names[i], &img, err);
        if (rc == 0 && (img->target == NULL || img->target->digest == NULL))
            rc = berth_err_fail(err, EINVAL, "image `%s` has no target", img->name);
        bool listed = false;
        for (size_t j = 0; rc == 0 && j < images.n && !listed; j++)
            listed = strcmp(images.v[j].name, img->name) == 0;
        if (rc == 0 && !listed) {
            struct sup_archive_image *a = &images.v[images.n++];
            a->name = xstrdup(img->name);
            a->target.media_type = xstrdup(img->target->media_type);
            a->target.digest = xstrdup(img->target->digest);
            a->target.size = img->target->size;
        }
        if (img)
            protobuf_c_message_free_unpacked(&img->base, NULL);
    }
    struct sup_archive_export_opts opts = {
        .platform = &want,
        .all_platforms = req->all_platforms,
        .write = send_chunk,
        .data = s,
    };
    if (rc == 0)
        rc = sup_archive_export(d->content, images.v, images.n, &opts, err);
    sup_remote_platform_clear(&want);
    return rc;
}

void
sup_images_export(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__ExportImagesRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct call_state s = {.call = call};
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    berth_rpc_call_on_cancel(call, on_cancel, &s);
    int rc = export_images(d, ns, req, &s, &err);
    if (rc == 0)
        berth_rpc_call_finish(call, RPC_OK, NULL);
    else if (atomic_load(&s.cancelled) || berth_rpc_call_is_cancelled(call))
        berth_rpc_call_finish(call, RPC_CANCELLED, "export cancelled");
    else
        berth_rpc_call_fail(call, &err);
}
