/* SPDX-License-Identifier: Apache-2.0
 *
 * Import (archive.h): the pass over the tar (read.c), the images of its format
 * (import-oci.c, import-docker.c), then the checks that every image's blobs came with the
 * tar, and the names of unnamed images. What failed leaves only leased blobs, which the
 * collector takes once the caller releases the lease.
 */
#include "supervisor/archive/archive-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/error.h"
#include "common/reference.h"
#include "supervisor/content/content.h"
#include "supervisor/images/lease.h"

/* An index is followed this deep into nested indexes. */
#define MAX_INDEX_DEPTH 4

void
sup_archive_images_clear(struct sup_archive_images *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        sup_remote_desc_clear(&l->v[i].target);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static void
set_target(struct sup_remote_desc *dst, const struct sup_remote_desc *src)
{
    sup_remote_desc_clear(dst);
    dst->media_type = xstrdup(src->media_type);
    dst->digest = xstrdup(src->digest);
    dst->size = src->size;
}

void
ar_images_add(struct sup_archive_images *l, char *name, const struct sup_remote_desc *target)
{
    for (size_t i = 0; name && i < l->n; i++) {
        if (l->v[i].name && strcmp(l->v[i].name, name) == 0) {
            free(name);
            set_target(&l->v[i].target, target);
            return;
        }
    }
    l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
    struct sup_archive_image *img = &l->v[l->n++];
    memset(img, 0, sizeof(*img));
    img->name = name;
    set_target(&img->target, target);
}

char *
ar_name_normalize(const char *s, struct berth_err *err)
{
    cleanup_ref struct berth_ref ref = BERTH_REF_INIT;

    if (berth_ref_parse(s, &ref, err) < 0)
        return NULL;
    return berth_ref_string(&ref);
}

int
ar_store_bytes(struct ar_import *imp, const void *buf, size_t len, char **digest_out,
               struct berth_err *err)
{
    char hex[BERTH_SHA256_HEX_LEN + 1];
    cleanup_free char *ref = ar_ingest_ref(imp);
    cleanup_content_writer struct sup_content_writer *w = NULL;

    berth_sha256_buf(buf, len, hex);
    char *digest = xasprintf("sha256:%s", hex);
    sup_lease_add(imp->lease, SUP_LEASE_INGEST, ref);
    sup_lease_add(imp->lease, SUP_LEASE_CONTENT, digest);
    int rc = sup_content_writer_open(imp->cs, ref, digest, (int64_t)len, &w, err);
    if (rc == 0) {
        rc = sup_content_writer_write(w, buf, len, err);
        if (rc == 0)
            rc = sup_content_writer_commit(w, -1, NULL, NULL, 0, NULL, err);
    }
    if (rc < 0 && err->code == EEXIST) {
        berth_err_clear(err);
        rc = 0;
    }
    if (rc < 0) {
        struct berth_err ignored = BERTH_ERR_INIT;
        sup_content_writer_close(steal_ptr(&w));
        if (sup_content_abort(imp->cs, ref, &ignored) < 0)
            berth_err_clear(&ignored);
        free(digest);
        return -1;
    }
    imp->tar.made = xrealloc(imp->tar.made, (imp->tar.n_made + 1) * sizeof(char *));
    imp->tar.made[imp->tar.n_made++] = xstrdup(digest);
    if (digest_out)
        *digest_out = digest;
    else
        free(digest);
    return 0;
}

/* ---- Checks ------------------------------------------------------------------------------- */

/* Layers a registry may keep out of image tarballs (their urls say where they are). */
static bool
is_foreign_layer(const char *media_type)
{
    return strstr(media_type, "nondistributable") || strstr(media_type, "foreign");
}

static int
check_blob(const struct ar_import *imp, const struct sup_remote_desc *d, const char *what,
           struct berth_err *err)
{
    int64_t size = -1;

    if (!ar_tar_has_digest(&imp->tar, d->digest, &size))
        return berth_err_fail(err, EINVAL, "%s %s is not in the archive", what, d->digest);
    if (size >= 0 && size != d->size)
        return berth_err_fail(err, EINVAL, "%s %s has %lld bytes in the archive, not %lld", what,
                              d->digest, (long long)size, (long long)d->size);
    return 0;
}

/* Every blob d needs is in the tar: a manifest's config and layers; of an index, the
 * manifests it came with (an image saved for one platform lacks the others'), at least one. */
static int
check_image(const struct ar_import *imp, const struct sup_remote_desc *d, int depth,
            struct berth_err *err)
{
    cleanup_manifest struct sup_remote_manifest *m = NULL;
    cleanup_free char *buf = NULL;
    size_t len = 0;
    int64_t size;

    if (check_blob(imp, d, "manifest", err) < 0)
        return -1;
    if (sup_content_read_all(imp->cs, d->digest, SUP_REMOTE_MAX_MANIFEST_SIZE, &buf, &len, err) <
            0 ||
        sup_remote_manifest_parse(buf, len, d->media_type, &m, err) < 0)
        return berth_err_wrap(err, "manifest %s", d->digest);
    if (m->kind == SUP_REMOTE_KIND_MANIFEST) {
        if (check_blob(imp, &m->config, "config", err) < 0)
            return berth_err_wrap(err, "manifest %s", d->digest);
        for (size_t i = 0; i < m->n_layers; i++) {
            if (is_foreign_layer(m->layers[i].media_type) &&
                !ar_tar_has_digest(&imp->tar, m->layers[i].digest, &size))
                continue;
            if (check_blob(imp, &m->layers[i], "layer", err) < 0)
                return berth_err_wrap(err, "manifest %s", d->digest);
        }
        return 0;
    }
    if (depth == MAX_INDEX_DEPTH)
        return berth_err_fail(err, EINVAL, "index %s: indexes nested too deep", d->digest);
    size_t n_present = 0;
    for (size_t i = 0; i < m->n_manifests; i++) {
        const struct sup_remote_desc *c = &m->manifests[i];
        if (!ar_tar_has_digest(&imp->tar, c->digest, &size))
            continue;
        if (check_image(imp, c, depth + 1, err) < 0)
            return berth_err_wrap(err, "index %s", d->digest);
        n_present++;
    }
    if (n_present == 0)
        return berth_err_fail(err, EINVAL, "index %s: none of its manifests is in the archive",
                              d->digest);
    return 0;
}

/* ---- Import ------------------------------------------------------------------------------- */

static int
base_repository(const char *base_name, char **out, struct berth_err *err)
{
    cleanup_ref struct berth_ref ref = BERTH_REF_INIT;

    *out = NULL;
    if (base_name == NULL || *base_name == '\0')
        return 0;
    if (berth_ref_parse(base_name, &ref, err) < 0)
        return berth_err_wrap(err, "base name");
    /* The parser adds "latest" to a bare repository: a tag must be seen in the string. */
    const char *last = strrchr(base_name, '/');
    if (ref.digest || strchr(last ? last + 1 : base_name, ':'))
        return berth_err_fail(err, EINVAL, "base name `%s`: a repository has no tag or digest",
                              base_name);
    *out = berth_ref_name(&ref);
    return 0;
}

static int
import_images(struct ar_import *imp, struct sup_archive_images *out, struct berth_err *err)
{
    const struct ar_tar *t = &imp->tar;

    if (t->meta[AR_META_INDEX] && t->meta[AR_META_OCI_LAYOUT])
        return ar_import_oci(imp, out, err);
    if (t->meta[AR_META_MANIFEST])
        return ar_import_docker(imp, out, err);
    if (t->meta[AR_META_INDEX])
        return berth_err_fail(err, EINVAL,
                              "index.json without oci-layout: not an OCI image "
                              "layout");
    return berth_err_fail(err, EINVAL,
                          "neither an OCI image layout (oci-layout, index.json) "
                          "nor a docker-archive (manifest.json)");
}

int
sup_archive_import(struct sup_content *cs, struct sup_lease *lease, const char *path,
                   const struct sup_archive_import_opts *opts, struct sup_archive_images *out,
                   struct berth_err *err)
{
    struct ar_import imp = {.cs = cs, .lease = lease, .path = path, .opts = opts};
    cleanup_archive_images struct sup_archive_images images = {0};
    int rc = base_repository(opts ? opts->base_name : NULL, &imp.base_repo, err);

    if (rc == 0)
        rc = ar_read_tar(&imp, err);
    if (rc == 0)
        rc = import_images(&imp, &images, err);
    for (size_t i = 0; rc == 0 && i < images.n; i++) {
        struct sup_archive_image *img = &images.v[i];
        if (check_image(&imp, &img->target, 0, err) < 0)
            rc = berth_err_wrap(err, "image `%s`", img->name ? img->name : img->target.digest);
        else if (img->name == NULL && imp.base_repo)
            img->name = xasprintf("%s@%s", imp.base_repo, img->target.digest);
    }
    ar_tar_clear(&imp.tar);
    free(imp.base_repo);
    if (rc < 0)
        return berth_err_wrap(err, "import `%s`", path);
    *out = images;
    memset(&images, 0, sizeof(images));
    return 0;
}
