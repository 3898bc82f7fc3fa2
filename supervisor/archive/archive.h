/* SPDX-License-Identifier: Apache-2.0
 *
 * Image tarballs in and out of the content store: the two formats `docker save`, `docker
 * load`, skopeo and ctr exchange.
 *
 *   OCI image layout   oci-layout, index.json (one descriptor per image, named by the
 *                      annotations org.opencontainers.image.ref.name and
 *                      io.containerd.image.name), blobs/sha256/<hex>
 *   docker-archive     manifest.json ([{Config, RepoTags, Layers}], paths inside the tar),
 *                      repositories, the configs, the layers (uncompressed tars, so their
 *                      digest is their diffID)
 *
 * docker 25 and later write both in one tar, and so does export here.
 *
 * Import reads the tar once, as a stream (plain, gzip or zstd): every regular file that may
 * be a blob is written into the content store through a writer, committed under the digest
 * computed from its bytes; the small index files stay in memory. For a docker-archive, an OCI
 * image manifest is then made from each manifest.json entry and stored. Nothing here touches
 * image records or snapshots: import returns the images the tar names, and the caller creates
 * them, then releases the lease that kept the blobs from the collector meanwhile.
 *
 * Errors: EINVAL for a tar that breaks the formats or the rules below, naming the entry;
 * ECANCELED when cancelled; errno of a failed system call otherwise.
 */
#ifndef BERTH_SUPERVISOR_ARCHIVE_ARCHIVE_H
#define BERTH_SUPERVISOR_ARCHIVE_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "supervisor/remote/manifest.h"

struct berth_err;
struct sup_content;
struct sup_lease;

/* Largest index.json, manifest.json, oci-layout or repositories read into memory. */
#define SUP_ARCHIVE_MAX_META (4 * 1024 * 1024)
/* Export hands the tar over in chunks of at most this many bytes. */
#define SUP_ARCHIVE_CHUNK (1024 * 1024)

/* An image of a tarball: its name and the manifest or index it points to. */
struct sup_archive_image {
    char *name;                    /* heap; NULL for an unnamed image (import only) */
    struct sup_remote_desc target; /* media_type, digest, size; platform NULL */
};

/* A list of images, owned: sup_archive_images_clear frees them. */
struct sup_archive_images {
    struct sup_archive_image *v;
    size_t n;
};

void sup_archive_images_clear(struct sup_archive_images *l);

static inline void
sup_archive_images_clearp(struct sup_archive_images *l)
{
    sup_archive_images_clear(l);
}
#define cleanup_archive_images __attribute__((cleanup(sup_archive_images_clearp)))

/* ---- Import -------------------------------------------------------------------------------- */

struct sup_archive_import_opts {
    /* A repository ("docker.io/library/app"; NULL or "": none). An index.json entry named by
     * a bare tag becomes base_name:tag, an unnamed image base_name@digest. */
    const char *base_name;
    /* Polled between entries and every few MiB; true stops the import (ECANCELED). May be
     * NULL. */
    bool (*is_cancelled)(void *data);
    void *cancel_data;
};

/* Import the tar at path into cs. Every blob is added to lease before it is committed; the
 * caller releases the lease once it has created the images (or at once, after a failure:
 * what was stored is then garbage for the collector, and no ingest is left).
 *
 * The rules: entry names are cleaned of "./" and "."; more than 16384 entries, an absolute
 * name, a ".." component, a name seen twice, a device or fifo, a symbolic or hard link
 * leading outside the tar or to nothing in it, an index file larger than
 * SUP_ARCHIVE_MAX_META, an entry blobs/sha256/<hex> whose bytes hash to something else, a
 * manifest or config naming a blob that is not in the tar (or whose size is another), a
 * layer.tar that is not its config's diffID: each is EINVAL naming the entry or the blob. A
 * tar with oci-layout and index.json is read as an OCI layout (its manifest.json, if any, is
 * ignored), else one with manifest.json as a docker-archive.
 *
 * Names: io.containerd.image.name as given (normalized, as a docker reference), else
 * org.opencontainers.image.ref.name (a bare tag goes with base_name: without one the image is
 * unnamed; anything else is a reference); RepoTags normalized (busybox:latest is
 * docker.io/library/busybox:latest); an unnamed image gets base_name@digest when base_name is
 * set. A name given twice keeps the last image. out (empty on entry) gets the images in the
 * order of the tar's index; the unnamed ones have name NULL. */
int sup_archive_import(struct sup_content *cs, struct sup_lease *lease, const char *path,
                       const struct sup_archive_import_opts *opts, struct sup_archive_images *out,
                       struct berth_err *err);

/* ---- Export -------------------------------------------------------------------------------- */

/* Takes len bytes (1..SUP_ARCHIVE_CHUNK) of the tar; returns 0, or -1 with err to stop the
 * export (ECANCELED for a client that went away). */
typedef int (*sup_archive_write_fn)(void *data, const void *buf, size_t len, struct berth_err *err);

struct sup_archive_export_opts {
    /* The platform whose manifest of an index is exported; NULL: the host's. */
    const struct sup_remote_platform *platform;
    /* Every manifest of an index, the index itself as the image (the docker-archive part
     * then lists the host's manifest, or nothing for an index without one). */
    bool all_platforms;
    sup_archive_write_fn write;
    void *data;
};

/* Write images[0..n) (names as stored, targets in cs) as one tar that is both an OCI image
 * layout and a docker-archive:
 *
 *   oci-layout
 *   blobs/sha256/<hex>    every blob once: indexes, manifests, configs, layers as stored
 *   index.json            per image: its target (an index only with all_platforms, else the
 *                         platform's manifest), annotated io.containerd.image.name = name
 *                         and org.opencontainers.image.ref.name = its tag
 *   manifest.json         per manifest: Config and Layers as "blobs/sha256/<hex>", RepoTags
 *                         in docker's short form (names with a tag only)
 *
 * The output depends only on the images and their content (entries are owned by root, dated
 * 0), so exporting twice gives the same bytes. ENOENT when a needed blob is not stored or no
 * manifest of an index matches the platform; EINVAL for a target that is no manifest or
 * index. A failure may come after part of the tar was written. */
int sup_archive_export(struct sup_content *cs, const struct sup_archive_image *images, size_t n,
                       const struct sup_archive_export_opts *opts, struct berth_err *err);

#endif
