/* SPDX-License-Identifier: Apache-2.0
 *
 * Pushes (images.h, sup_images_push): an image record's content to a registry, in the order
 * the registry needs to accept each manifest: for each manifest, its layers and config (each
 * skipped when the repository has it, mounted from another repository of the same registry
 * when the blob's "containerd.io/distribution.source.HOST" label names one, uploaded
 * otherwise), then the manifest by digest; the index last, under the tag. With a platform,
 * only that platform's manifest is pushed, under the tag.
 */
#include "supervisor/images/images.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "supervisor/content/content.h"
#include "supervisor/daemon.h"
#include "supervisor/images/lease.h"
#include "supervisor/remote/remote.h"
#include "supervisor/store/store.h"

#define PROGRESS_INTERVAL_NS (100 * 1000 * 1000LL)

struct push {
    struct sup_daemon *d;
    const struct sup_images_push_opts *o;
    struct sup_remote *r;
    struct sup_remote_ref ref;
    char *source_key; /* the distribution source label for the target host */
    struct sup_lease *lease;
};

static bool
is_cancelled(struct push *p)
{
    return p->o->cancelled && p->o->cancelled(p->o->cancel_data);
}

static void
report(struct push *p, const char *kind, const char *digest, const char *media_type,
       const char *status, int64_t offset, int64_t total)
{
    if (!p->o->progress)
        return;
    cleanup_free char *ref = xasprintf("%s-%s", kind, digest);
    SupProgress item = BERTH__SUPERVISOR__V1__PROGRESS__INIT;
    SupProgress *v[] = {&item};
    item.ref = ref;
    item.digest = (char *)digest;
    item.media_type = (char *)media_type;
    item.status = (char *)status;
    item.offset = offset;
    item.total = total;
    p->o->progress(p->o->progress_data, v, 1);
}

/* ---- Blobs -------------------------------------------------------------------------------- */

struct blob_read {
    struct push *p;
    const struct sup_remote_desc *desc;
    int fd;
    int64_t last;
};

static ssize_t
blob_read(void *data, void *buf, size_t len, int64_t off, struct berth_err *err)
{
    struct blob_read *b = data;

    if (is_cancelled(b->p))
        return berth_err_fail(err, ECANCELED, "push cancelled");
    return sup_content_read_at(b->fd, buf, len, off, err);
}

static void
blob_progress(void *data, int64_t done, int64_t total)
{
    struct blob_read *b = data;
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    if (now - b->last < PROGRESS_INTERVAL_NS)
        return;
    b->last = now;
    report(b->p, "layer", b->desc->digest, b->desc->media_type, "uploading", done, total);
}

/* The repository of the target registry the blob was pulled from, when it is not the one
 * pushed to (heap), else NULL. */
static char *
mount_source(struct push *p, const char *digest)
{
    Berth__Supervisor__V1__Info *info = NULL;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    char *from = NULL;

    if (sup_content_info(p->d->content, digest, &info, &err) < 0)
        return NULL;
    for (size_t i = 0; i < info->n_labels; i++)
        if (strcmp(info->labels[i]->key, p->source_key) == 0 &&
            strcmp(info->labels[i]->value, p->ref.repository) != 0)
            from = xstrdup(info->labels[i]->value);
    protobuf_c_message_free_unpacked(&info->base, NULL);
    return from;
}

static int
push_blob(struct push *p, const char *kind, const struct sup_remote_desc *desc,
          struct berth_err *err)
{
    struct blob_read b = {.p = p, .desc = desc, .fd = -1};
    cleanup_free char *from = mount_source(p, desc->digest);

    sup_lease_add(p->lease, SUP_LEASE_CONTENT, desc->digest);
    b.fd = sup_content_open_blob(p->d->content, desc->digest, NULL, err);
    if (b.fd < 0)
        return -1;
    struct sup_remote_push rp = {
        .desc = desc,
        .mount_from = from,
        .read = blob_read,
        .read_data = &b,
        .progress = blob_progress,
        .progress_data = &b,
    };
    report(p, kind, desc->digest, desc->media_type, "waiting", 0, desc->size);
    int rc = sup_remote_push_blob(p->r, &p->ref, &rp, err);
    close(b.fd);
    if (rc < 0) {
        report(p, kind, desc->digest, desc->media_type, "failed", 0, desc->size);
        return berth_err_wrap(err, "push %s", desc->digest);
    }
    const char *status = rp.result == SUP_REMOTE_PUSH_EXISTS    ? "exists"
                         : rp.result == SUP_REMOTE_PUSH_MOUNTED ? "mounted"
                                                                : "done";
    report(p, kind, desc->digest, desc->media_type, status, desc->size, desc->size);
    return 0;
}

/* ---- Manifests ---------------------------------------------------------------------------- */

/* PUT a stored document under tag (or its digest when tag is NULL). */
static int
push_doc(struct push *p, const char *digest, const char *media_type, const char *tag,
         char **digest_out, struct berth_err *err)
{
    cleanup_free char *buf = NULL;
    size_t len = 0;
    struct sup_remote_ref ref = p->ref;

    ref.tag = (char *)tag;
    ref.digest = NULL;
    sup_lease_add(p->lease, SUP_LEASE_CONTENT, digest);
    if (sup_content_read_all(p->d->content, digest, SUP_REMOTE_MAX_MANIFEST_SIZE, &buf, &len, err) <
        0)
        return -1;
    if (sup_remote_push_manifest(p->r, &ref, media_type, buf, len, digest_out, err) < 0)
        return berth_err_wrap(err, "push manifest %s", digest);
    report(p, "manifest", digest, media_type, "done", (int64_t)len, (int64_t)len);
    return 0;
}

/* A manifest's config and layers, then the manifest itself under tag. */
static int
push_manifest(struct push *p, const char *digest, const char *media_type, const char *tag,
              char **digest_out, struct berth_err *err)
{
    cleanup_free char *buf = NULL;
    size_t len = 0;
    cleanup_manifest struct sup_remote_manifest *m = NULL;

    if (sup_content_read_all(p->d->content, digest, SUP_REMOTE_MAX_MANIFEST_SIZE, &buf, &len, err) <
            0 ||
        sup_remote_manifest_parse(buf, len, media_type, &m, err) < 0)
        return berth_err_wrap(err, "manifest %s", digest);
    if (m->kind != SUP_REMOTE_KIND_MANIFEST)
        return berth_err_fail(err, EINVAL, "%s is an index inside an index: not pushed", digest);
    for (size_t i = 0; i < m->n_layers; i++)
        if (push_blob(p, "layer", &m->layers[i], err) < 0)
            return -1;
    if (push_blob(p, "config", &m->config, err) < 0)
        return -1;
    return push_doc(p, digest, m->media_type, tag, digest_out, err);
}

static int
push_index(struct push *p, const Berth__Supervisor__V1__Descriptor *t, char **digest_out,
           struct berth_err *err)
{
    cleanup_free char *buf = NULL;
    size_t len = 0;
    cleanup_manifest struct sup_remote_manifest *idx = NULL;

    if (sup_content_read_all(p->d->content, t->digest, SUP_REMOTE_MAX_MANIFEST_SIZE, &buf, &len,
                             err) < 0 ||
        sup_remote_manifest_parse(buf, len, t->media_type, &idx, err) < 0)
        return -1;
    for (size_t i = 0; i < idx->n_manifests; i++) {
        const struct sup_remote_desc *e = &idx->manifests[i];
        /* The registry refuses an index naming manifests it lacks, so every one must be
         * stored: an image pulled for one platform is pushed with --platform. */
        if (!sup_content_exists(p->d->content, e->digest))
            return berth_err_fail(err, EBUSY,
                                  "manifest %s of the index is not stored (pull it with all "
                                  "platforms, or push one platform)",
                                  e->digest);
        if (push_manifest(p, e->digest, e->media_type, NULL, NULL, err) < 0)
            return -1;
    }
    return push_doc(p, t->digest, idx->media_type, p->ref.tag, digest_out, err);
}

/* ---- The push ----------------------------------------------------------------------------- */

static int
do_push(struct push *p, const char *ns, char **digest_out, struct berth_err *err)
{
    SupImage *image = NULL;
    cleanup_free char *mdigest = NULL, *mtype = NULL;
    int64_t msize = 0;
    int rc = -1;

    if (sup_store_image_get(p->d->store, ns, p->o->name, &image, err) < 0)
        return -1;
    const Berth__Supervisor__V1__Descriptor *t = image->target;
    if (!sup_content_exists(p->d->content, t->digest)) {
        berth_err_fail(err, EBUSY, "target %s is not stored", t->digest);
    } else if (p->o->platform && *p->o->platform) {
        struct sup_remote_platform want = {0};
        if (sup_images_platform(p->o->platform, &want, err) == 0 &&
            sup_images_manifest_for(p->d, t->digest, t->media_type, &want, &mdigest, &mtype, &msize,
                                    err) == 0)
            rc = push_manifest(p, mdigest, mtype, p->ref.tag, digest_out, err);
        sup_remote_platform_clear(&want);
    } else if (sup_remote_is_index_type(t->media_type)) {
        rc = push_index(p, t, digest_out, err);
    } else {
        rc = push_manifest(p, t->digest, t->media_type, p->ref.tag, digest_out, err);
    }
    protobuf_c_message_free_unpacked(&image->base, NULL);
    return rc;
}

int
sup_images_push(struct sup_daemon *d, const char *ns, const struct sup_images_push_opts *o,
                char **digest_out, struct berth_err *err)
{
    cleanup_free char *to = NULL;
    cleanup_remote struct sup_remote *own = NULL;
    struct push p = {.d = d, .o = o};
    int rc = -1;

    if (o->name == NULL || *o->name == '\0')
        return berth_err_fail(err, EINVAL, "push: image name is empty");
    if (sup_images_normalize(o->ref && *o->ref ? o->ref : o->name, &to, err) < 0 ||
        sup_remote_ref_parse(to, &p.ref, err) < 0)
        return berth_err_wrap(err, "push `%s`", o->name);
    if (!p.ref.tag) {
        sup_remote_ref_clear(&p.ref);
        return berth_err_fail(err, EINVAL, "push `%s` to %s: a tag is needed", o->name, to);
    }
    p.source_key = xasprintf("containerd.io/distribution.source.%s", p.ref.host);
    /* Nothing is created here, but the lease keeps what the push reads from a collection
     * after a concurrent delete of the image. */
    cleanup_lease struct sup_lease *lease = sup_lease_new(d->leases, to);
    p.lease = lease;
    if ((p.r = sup_images_remote(d, p.ref.host, o->plain_http, o->username, o->password, &own,
                                 err)) != NULL)
        rc = do_push(&p, ns, digest_out, err);
    if (rc < 0)
        berth_err_wrap(err, "push `%s` to %s", o->name, to);
    free(p.source_key);
    sup_remote_ref_clear(&p.ref);
    return rc;
}
