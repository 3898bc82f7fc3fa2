/* SPDX-License-Identifier: Apache-2.0
 *
 * Check and Usage (images.h): what an image's platform needs (its index, manifest, config and
 * layers), which of those blobs are stored, and whether its layers are committed snapshots.
 * Both read the image as it is now; nothing is fetched or changed.
 */
#include "supervisor/images/images.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "supervisor/content/content.h"
#include "supervisor/daemon.h"
#include "supervisor/remote/manifest.h"
#include "supervisor/snapshot/snapshot.h"
#include "supervisor/store/store.h"

typedef Berth__Supervisor__V1__Descriptor Descriptor;
typedef Berth__Supervisor__V1__CheckImageResponse CheckResponse;

/* What inspect found. */
struct inspect {
    CheckResponse *out;    /* missing, size, complete, unpacked, chain_id, config */
    int64_t snapshot_size; /* of the committed chain snapshots */
};

static void
add_missing(CheckResponse *out, const char *media_type, const char *digest, int64_t size)
{
    Descriptor *dsc = xmalloc(sizeof(*dsc));

    berth__supervisor__v1__descriptor__init(dsc);
    dsc->media_type = xstrdup(media_type);
    dsc->digest = xstrdup(digest);
    dsc->size = size;
    out->missing = xrealloc(out->missing, (out->n_missing + 1) * sizeof(*out->missing));
    out->missing[out->n_missing++] = dsc;
}

/* Count a blob: its size when stored, a missing entry when not. */
static bool
count_blob(struct sup_daemon *d, CheckResponse *out, const char *media_type, const char *digest,
           int64_t size)
{
    if (!sup_content_exists(d->content, digest)) {
        add_missing(out, media_type, digest, size);
        return false;
    }
    out->size += size;
    return true;
}

/* The snapshots of a stored config: unpacked when every chain snapshot is committed. */
static void
check_snapshots(struct sup_daemon *d, const char *ns, struct inspect *in, const char *buf,
                size_t len)
{
    cleanup_config struct sup_remote_config *c = NULL;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    char chain[SUP_IMAGES_DIGEST_MAX];
    bool all = true;

    if (sup_remote_config_parse(buf, len, &c, &err) < 0 || c->n_diff_ids == 0)
        return;
    for (size_t i = 0; i < c->n_diff_ids; i++) {
        sup_images_chain_id(c->diff_ids, i + 1, chain);
        cleanup_free char *key = sup_images_snapshot_key(ns, chain);
        struct sup_snapshot_usage u;
        if (sup_snapshot_usage(d->snapshots, key, &u, &err) < 0) {
            berth_err_clear(&err);
            all = false;
            continue;
        }
        in->snapshot_size += u.size;
    }
    in->out->unpacked = all;
    in->out->chain_id = xstrdup(chain);
}

static int
inspect(struct sup_daemon *d, const char *ns, const char *name, const char *platform,
        struct inspect *in, struct berth_err *err)
{
    cleanup_free char *mdigest = NULL, *mtype = NULL, *mbuf = NULL, *cbuf = NULL;
    int64_t msize = 0;
    size_t mlen = 0, clen = 0;
    SupImage *image = NULL;
    struct sup_remote_platform want = {0};
    cleanup_manifest struct sup_remote_manifest *m = NULL;
    CheckResponse *out = in->out;

    if (sup_store_image_get(d->store, ns, name, &image, err) < 0)
        return -1;
    if (sup_images_platform(platform, &want, err) < 0) {
        protobuf_c_message_free_unpacked(&image->base, NULL);
        return -1;
    }
    const Descriptor *t = image->target;
    int rc = 0;
    if (!count_blob(d, out, t->media_type, t->digest, t->size))
        goto done;
    if (sup_images_manifest_for(d, t->digest, t->media_type, &want, &mdigest, &mtype, &msize, err) <
        0) {
        rc = -1;
        goto done;
    }
    /* An index counted itself already; a manifest target is its own manifest. */
    if (strcmp(mdigest, t->digest) != 0 && !count_blob(d, out, mtype, mdigest, msize))
        goto done;
    if (sup_content_read_all(d->content, mdigest, SUP_REMOTE_MAX_MANIFEST_SIZE, &mbuf, &mlen, err) <
            0 ||
        sup_remote_manifest_parse(mbuf, mlen, mtype, &m, err) < 0) {
        rc = -1;
        goto done;
    }
    bool complete = true;
    if (count_blob(d, out, m->config.media_type, m->config.digest, m->config.size) &&
        sup_content_read_all(d->content, m->config.digest, SUP_REMOTE_MAX_CONFIG_SIZE, &cbuf, &clen,
                             err) == 0) {
        out->config.data = (uint8_t *)xmalloc(clen + 1);
        memcpy(out->config.data, cbuf, clen);
        out->config.len = clen;
        out->config_digest = xstrdup(m->config.digest);
        check_snapshots(d, ns, in, cbuf, clen);
    } else {
        berth_err_clear(err);
        complete = false;
    }
    for (size_t i = 0; i < m->n_layers; i++)
        if (!count_blob(d, out, m->layers[i].media_type, m->layers[i].digest, m->layers[i].size))
            complete = false;
    out->complete = complete;
done:
    sup_remote_platform_clear(&want);
    protobuf_c_message_free_unpacked(&image->base, NULL);
    return rc;
}

int
sup_images_check(struct sup_daemon *d, const char *ns, const char *name, const char *platform,
                 CheckResponse *out, struct berth_err *err)
{
    struct inspect in = {.out = out};

    if (inspect(d, ns, name, platform, &in, err) < 0)
        return berth_err_wrap(err, "check image `%s`", name);
    return 0;
}

int
sup_images_usage(struct sup_daemon *d, const char *ns, const char *name, const char *platform,
                 int64_t *content_size, int64_t *snapshot_size, struct berth_err *err)
{
    CheckResponse out = BERTH__SUPERVISOR__V1__CHECK_IMAGE_RESPONSE__INIT;
    struct inspect in = {.out = &out};
    int rc = inspect(d, ns, name, platform, &in, err);

    *content_size = out.size;
    *snapshot_size = in.snapshot_size;
    for (size_t i = 0; i < out.n_missing; i++)
        protobuf_c_message_free_unpacked(&out.missing[i]->base, NULL);
    free(out.missing);
    if (out.chain_id != protobuf_c_empty_string)
        free(out.chain_id);
    if (out.config_digest != protobuf_c_empty_string)
        free(out.config_digest);
    free(out.config.data);
    if (rc < 0)
        return berth_err_wrap(err, "usage of image `%s`", name);
    return 0;
}
