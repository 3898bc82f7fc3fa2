/* SPDX-License-Identifier: Apache-2.0
 *
 * Export (archive.h): one tar that docker 25+ (`docker load`), skopeo (`oci-archive:`,
 * `docker-archive:`), ctr and berth's own import all read, because it is an OCI image layout
 * and a docker-archive at once: the blobs sit under blobs/sha256/ where the layout wants
 * them, and manifest.json names them by those paths, as docker 25 itself writes it.
 *
 * libarchive writes the tar into a buffer that is handed to the caller's callback whenever
 * it holds SUP_ARCHIVE_CHUNK bytes, and once more at the end. Blobs are copied from the store
 * as they are: a compressed layer stays compressed (docker load and skopeo decompress it).
 */
#include "supervisor/archive/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/reference.h"
#include "supervisor/content/content.h"

#define COPY_BLOCK (256 * 1024)
/* An index is followed this deep into nested indexes (all_platforms). */
#define MAX_INDEX_DEPTH 4

#define ANNOTATION_CONTAINERD_NAME "io.containerd.image.name"
#define ANNOTATION_REF_NAME        "org.opencontainers.image.ref.name"

struct export
{
    struct sup_content *cs;
    const struct sup_archive_export_opts *opts;
    struct archive *a;
    bool closed;        /* the tar is complete, or abandoned: on_write drops what comes */
    unsigned char *buf; /* output not yet handed over, up to SUP_ARCHIVE_CHUNK */
    size_t len;
    struct berth_err cb_err; /* the callback's failure, while libarchive unwinds */
    char **written;          /* digests of the blobs in the tar so far */
    size_t n_written;
    struct json_object *index;  /* index.json's manifests */
    struct json_object *docker; /* manifest.json */
    char **docker_digests;      /* the manifest of each manifest.json entry */
    struct sup_remote_platform want, host;
};

static void
export_clear(struct export *x)
{
    if (x->a) {
        /* Freeing an open tar ends it; a failed export hands over nothing more. (Marking
         * the tar failed instead, archive_write_fail, makes libarchive leak its buffers.) */
        x->closed = true;
        archive_write_free(x->a);
    }
    free(x->buf);
    berth_err_clear(&x->cb_err);
    for (size_t i = 0; i < x->n_written; i++)
        free(x->written[i]);
    free(x->written);
    size_t n_docker = x->docker ? json_object_array_length(x->docker) : 0;
    for (size_t i = 0; i < n_docker; i++)
        free(x->docker_digests[i]);
    free(x->docker_digests);
    if (x->index)
        json_object_put(x->index);
    if (x->docker)
        json_object_put(x->docker);
    sup_remote_platform_clear(&x->want);
    sup_remote_platform_clear(&x->host);
}

/* ---- Output ------------------------------------------------------------------------------ */

static int
flush(struct export *x)
{
    if (x->len == 0)
        return 0;
    int rc = x->opts->write(x->opts->data, x->buf, x->len, &x->cb_err);
    x->len = 0;
    return rc;
}

static la_ssize_t
on_write(struct archive *a, void *data, const void *buf, size_t len)
{
    struct export *x = data;
    const unsigned char *p = buf;

    if (x->closed)
        return (la_ssize_t)len;
    for (size_t left = len; left > 0;) {
        size_t n = SUP_ARCHIVE_CHUNK - x->len < left ? SUP_ARCHIVE_CHUNK - x->len : left;
        memcpy(x->buf + x->len, p, n);
        x->len += n;
        p += n;
        left -= n;
        if (x->len == SUP_ARCHIVE_CHUNK && flush(x) < 0) {
            archive_set_error(a, x->cb_err.code ? x->cb_err.code : EIO, "export stopped");
            return -1;
        }
    }
    return (la_ssize_t)len;
}

/* The error of a failed libarchive call: the callback's when it stopped the export. */
static int
write_error(struct export *x, const char *what, struct berth_err *err)
{
    if (x->cb_err.msg) {
        *err = x->cb_err;
        memset(&x->cb_err, 0, sizeof(x->cb_err));
        return -1;
    }
    int code = archive_errno(x->a) > 0 ? archive_errno(x->a) : EIO;
    return berth_err_fail(err, code, "write %s: %s", what, archive_error_string(x->a));
}

static int
write_header(struct export *x, const char *path, unsigned type, int64_t size, struct berth_err *err)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, path);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_size(e, type == AE_IFDIR ? 0 : size);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_mtime(e, 0, 0);
    int r = archive_write_header(x->a, e);
    archive_entry_free(e);
    return r == ARCHIVE_OK ? 0 : write_error(x, path, err);
}

static int
write_bytes(struct export *x, const char *path, const void *buf, size_t len, struct berth_err *err)
{
    const char *p = buf;
    while (len > 0) {
        la_ssize_t n = archive_write_data(x->a, p, len);
        if (n <= 0)
            return write_error(x, path, err);
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int
write_file(struct export *x, const char *path, const void *buf, size_t len, struct berth_err *err)
{
    if (write_header(x, path, AE_IFREG, (int64_t)len, err) < 0)
        return -1;
    return write_bytes(x, path, buf, len, err);
}

static int
write_json(struct export *x, const char *path, struct json_object *doc, struct berth_err *err)
{
    size_t len = 0;
    const char *s = json_object_to_json_string_length(
        doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    return write_file(x, path, s, len, err);
}

/* ---- Blobs ------------------------------------------------------------------------------- */

static bool
is_written(const struct export *x, const char *digest)
{
    for (size_t i = 0; i < x->n_written; i++) {
        if (strcmp(x->written[i], digest) == 0)
            return true;
    }
    return false;
}

/* Copy the stored blob d into the tar, once. what names it in errors ("layer"). */
static int
write_blob(struct export *x, const struct sup_remote_desc *d, const char *what,
           struct berth_err *err)
{
    int64_t size = 0;

    if (is_written(x, d->digest))
        return 0;
    cleanup_close int fd = sup_content_open_blob(x->cs, d->digest, &size, err);
    if (fd < 0)
        return berth_err_wrap(err, "%s %s", what, d->digest);
    if (size != d->size)
        return berth_err_fail(err, EINVAL, "%s %s: %lld bytes stored, the descriptor says %lld",
                              what, d->digest, (long long)size, (long long)d->size);
    cleanup_free char *path = xasprintf("blobs/sha256/%s", d->digest + strlen("sha256:"));
    if (write_header(x, path, AE_IFREG, size, err) < 0)
        return -1;
    cleanup_free unsigned char *buf = xmalloc(COPY_BLOCK);
    for (int64_t at = 0; at < size;) {
        size_t want = size - at < COPY_BLOCK ? (size_t)(size - at) : COPY_BLOCK;
        ssize_t n = sup_content_read_at(fd, buf, want, at, err);
        if (n == 0)
            berth_err_fail(err, EIO, "%s %s ends at %lld bytes", what, d->digest, (long long)at);
        if (n <= 0 || write_bytes(x, path, buf, (size_t)n, err) < 0)
            return -1;
        at += n;
    }
    x->written = xrealloc(x->written, (x->n_written + 1) * sizeof(char *));
    x->written[x->n_written++] = xstrdup(d->digest);
    return 0;
}

static int
read_manifest(struct export *x, const struct sup_remote_desc *d, struct sup_remote_manifest **out,
              struct berth_err *err)
{
    cleanup_free char *buf = NULL;
    size_t len = 0;

    if (sup_content_read_all(x->cs, d->digest, SUP_REMOTE_MAX_MANIFEST_SIZE, &buf, &len, err) < 0 ||
        sup_remote_manifest_parse(buf, len, d->media_type, out, err) < 0)
        return berth_err_wrap(err, "manifest %s", d->digest);
    return 0;
}

/* Write a manifest's config and layers, then the manifest; or, of an index, every manifest
 * then the index. */
static int
write_tree(struct export *x, const struct sup_remote_desc *d, const struct sup_remote_manifest *m,
           int depth, struct berth_err *err)
{
    if (m->kind == SUP_REMOTE_KIND_MANIFEST) {
        if (write_blob(x, &m->config, "config", err) < 0)
            return berth_err_wrap(err, "manifest %s", d->digest);
        for (size_t i = 0; i < m->n_layers; i++) {
            if (write_blob(x, &m->layers[i], "layer", err) < 0)
                return berth_err_wrap(err, "manifest %s", d->digest);
        }
        return write_blob(x, d, "manifest", err);
    }
    if (depth == MAX_INDEX_DEPTH)
        return berth_err_fail(err, EINVAL, "index %s: indexes nested too deep", d->digest);
    for (size_t i = 0; i < m->n_manifests; i++) {
        cleanup_manifest struct sup_remote_manifest *child = NULL;
        if (read_manifest(x, &m->manifests[i], &child, err) < 0 ||
            write_tree(x, &m->manifests[i], child, depth + 1, err) < 0)
            return berth_err_wrap(err, "index %s", d->digest);
    }
    return write_blob(x, d, "index", err);
}

/* ---- Index files -------------------------------------------------------------------------- */

static struct json_object *
descriptor(const struct sup_remote_desc *d)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "mediaType", json_object_new_string(d->media_type));
    json_object_object_add(o, "digest", json_object_new_string(d->digest));
    json_object_object_add(o, "size", json_object_new_int64(d->size));
    return o;
}

static struct json_object *
blob_path(const char *digest)
{
    cleanup_free char *p = xasprintf("blobs/sha256/%s", digest + strlen("sha256:"));
    return json_object_new_string(p);
}

/* The index.json entry of an image; tag (may be NULL) is its name's tag. */
static void
add_index_entry(struct export *x, const char *name, const char *tag,
                const struct sup_remote_desc *d)
{
    struct json_object *o = descriptor(d);
    struct json_object *ann = json_object_new_object();
    json_object_object_add(ann, ANNOTATION_CONTAINERD_NAME, json_object_new_string(name));
    if (tag)
        json_object_object_add(ann, ANNOTATION_REF_NAME, json_object_new_string(tag));
    json_object_object_add(o, "annotations", ann);
    json_object_array_add(x->index, o);
}

/* The manifest.json entry of manifest m (d), with repo_tag (may be NULL) among its tags. */
static void
add_docker_entry(struct export *x, const struct sup_remote_desc *d,
                 const struct sup_remote_manifest *m, const char *repo_tag)
{
    size_t n = json_object_array_length(x->docker);
    struct json_object *entry = NULL;

    for (size_t i = 0; i < n && entry == NULL; i++) {
        if (strcmp(x->docker_digests[i], d->digest) == 0)
            entry = json_object_array_get_idx(x->docker, i);
    }
    if (entry == NULL) {
        entry = json_object_new_object();
        struct json_object *layers = json_object_new_array();
        json_object_object_add(entry, "Config", blob_path(m->config.digest));
        json_object_object_add(entry, "RepoTags", json_object_new_array());
        for (size_t i = 0; i < m->n_layers; i++)
            json_object_array_add(layers, blob_path(m->layers[i].digest));
        json_object_object_add(entry, "Layers", layers);
        json_object_array_add(x->docker, entry);
        x->docker_digests = xrealloc(x->docker_digests, (n + 1) * sizeof(char *));
        x->docker_digests[n] = xstrdup(d->digest);
    }
    if (repo_tag) {
        struct json_object *tags = json_object_object_get(entry, "RepoTags");
        json_object_array_add(tags, json_object_new_string(repo_tag));
    }
}

/* ---- Images ------------------------------------------------------------------------------- */

/* docker's short name with its tag ("busybox:latest"), heap; NULL for a name without a tag
 * or one that is no docker reference (names are free-form in the store). tag_out gets the
 * tag (heap) likewise. */
static char *
repo_tag(const char *name, char **tag_out)
{
    cleanup_ref struct berth_ref ref = BERTH_REF_INIT;
    struct berth_err ignored = BERTH_ERR_INIT;

    *tag_out = NULL;
    if (berth_ref_parse(name, &ref, &ignored) < 0) {
        berth_err_clear(&ignored);
        return NULL;
    }
    if (ref.tag == NULL)
        return NULL;
    free(ref.digest);
    ref.digest = NULL;
    *tag_out = xstrdup(ref.tag);
    return berth_ref_familiar(&ref);
}

static int
export_image(struct export *x, const struct sup_archive_image *img, struct berth_err *err)
{
    cleanup_manifest struct sup_remote_manifest *top = NULL;
    cleanup_manifest struct sup_remote_manifest *child = NULL;
    cleanup_free char *tag = NULL;
    cleanup_free char *familiar = repo_tag(img->name, &tag);
    const struct sup_remote_desc *oci = &img->target;    /* what index.json points to */
    const struct sup_remote_desc *docker = &img->target; /* the manifest manifest.json lists */
    const struct sup_remote_manifest *docker_m = NULL;
    size_t pick = 0;

    if (read_manifest(x, &img->target, &top, err) < 0)
        return -1;
    if (top->kind == SUP_REMOTE_KIND_MANIFEST) {
        docker_m = top;
        if (write_tree(x, oci, top, 0, err) < 0)
            return -1;
    } else if (x->opts->all_platforms) {
        if (write_tree(x, oci, top, 0, err) < 0)
            return -1;
        docker = NULL;
        if (sup_remote_platform_select(top, &x->host, &pick, err) == 0) {
            docker = &top->manifests[pick];
            if (read_manifest(x, docker, &child, err) < 0)
                return -1;
            docker_m = child;
        } else {
            berth_err_clear(err);
        }
    } else {
        if (sup_remote_platform_select(top, &x->want, &pick, err) < 0)
            return -1;
        oci = docker = &top->manifests[pick];
        if (read_manifest(x, oci, &child, err) < 0 || write_tree(x, oci, child, 1, err) < 0)
            return -1;
        docker_m = child;
    }
    add_index_entry(x, img->name, tag, oci);
    if (docker && docker_m && docker_m->kind == SUP_REMOTE_KIND_MANIFEST)
        add_docker_entry(x, docker, docker_m, familiar);
    return 0;
}

static int
write_index_files(struct export *x, struct berth_err *err)
{
    cleanup_json struct json_object *index = json_object_new_object();
    json_object_object_add(index, "schemaVersion", json_object_new_int(2));
    json_object_object_add(index, "mediaType", json_object_new_string(SUP_REMOTE_MT_OCI_INDEX));
    json_object_object_add(index, "manifests", json_object_get(x->index));
    if (write_json(x, "index.json", index, err) < 0 ||
        write_json(x, "manifest.json", x->docker, err) < 0)
        return -1;
    return 0;
}

static int
open_tar(struct export *x, struct berth_err *err)
{
    static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";

    x->a = archive_write_new();
    archive_write_set_format_pax_restricted(x->a);
    /* No padding of the last block: the tar ends with its two zero blocks. */
    archive_write_set_bytes_in_last_block(x->a, 1);
    if (archive_write_open(x->a, x, NULL, on_write, NULL) != ARCHIVE_OK)
        return write_error(x, "tar", err);
    if (write_file(x, "oci-layout", layout, sizeof(layout) - 1, err) < 0 ||
        write_header(x, "blobs/", AE_IFDIR, 0, err) < 0 ||
        write_header(x, "blobs/sha256/", AE_IFDIR, 0, err) < 0)
        return -1;
    return 0;
}

int
sup_archive_export(struct sup_content *cs, const struct sup_archive_image *images, size_t n,
                   const struct sup_archive_export_opts *opts, struct berth_err *err)
{
    __attribute__((cleanup(export_clear))) struct export x = {
        .cs = cs,
        .opts = opts,
        .buf = xmalloc(SUP_ARCHIVE_CHUNK),
        .index = json_object_new_array(),
        .docker = json_object_new_array(),
    };

    sup_remote_platform_default(&x.host);
    if (opts->platform)
        sup_remote_platform_copy(&x.want, opts->platform);
    else
        sup_remote_platform_default(&x.want);
    if (open_tar(&x, err) < 0)
        return berth_err_wrap(err, "export");
    for (size_t i = 0; i < n; i++) {
        if (export_image(&x, &images[i], err) < 0)
            return berth_err_wrap(err, "export `%s`", images[i].name);
    }
    if (write_index_files(&x, err) < 0)
        return berth_err_wrap(err, "export");
    if (archive_write_close(x.a) != ARCHIVE_OK) {
        write_error(&x, "tar", err);
        return berth_err_wrap(err, "export");
    }
    x.closed = true;
    if (flush(&x) < 0) {
        *err = x.cb_err;
        memset(&x.cb_err, 0, sizeof(x.cb_err));
        return -1;
    }
    return 0;
}
