/* SPDX-License-Identifier: Apache-2.0
 *
 * Images: what the Images service (services/images.c) and the image archive code share.
 * Names, image records with their events, the snapshots of unpacked images (named by chain
 * ID), pulls, pushes, checks and garbage collection, over the content store, the snapshotter,
 * the unpacker and the registry client of struct sup_daemon.
 *
 *   images.c   names and records (sup_images_normalize, sup_images_put, sup_images_delete)
 *   chain.c    chain IDs (pure)
 *   walk.c     what a target refers to in the content store (index -> manifests -> blobs)
 *   unpack.c   a manifest's layers into committed snapshots "<ns>/<chain id>"
 *   pull.c     registry -> content store -> snapshots -> record, with progress
 *   push.c     record -> registry
 *   check.c    Check and Usage
 *   gc.c       the collector
 *
 * Work that creates content or snapshots holds a lease (lease.h) from the daemon's set
 * (d->leases) and adds each item to it before creating it; it creates or updates the image
 * record last (sup_images_put) and then releases the lease. That is what keeps a concurrent
 * collection from removing what a pull, push or import has made but no image names yet.
 *
 * Errors are berth errors with the errno classes of common/error.h: EINVAL for bad input
 * (a reference, a platform, a manifest that does not check out), ENOENT for a missing image
 * or blob, EEXIST for a name taken, EBUSY (FAILED_PRECONDITION) for a target that is not in
 * the content store, ECANCELED when the caller's call was cancelled.
 */
#ifndef BERTH_SUPERVISOR_IMAGES_IMAGES_H
#define BERTH_SUPERVISOR_IMAGES_IMAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berth/supervisor/v1/images.pb-c.h"

struct berth_err;
struct sup_daemon;
struct sup_lease;
struct sup_remote;
struct sup_remote_platform;

typedef Berth__Supervisor__V1__Image SupImage;

/* ---- Names and records (images.c) --------------------------------------------------------- */

/* The normalized form of an image reference, as docker reads it: "busybox" is
 * "docker.io/library/busybox:latest", "x@sha256:..." keeps its digest. *out is a heap string.
 * EINVAL naming what is wrong. */
int sup_images_normalize(const char *ref, char **out, struct berth_err *err);

/* Create the image record image->name in namespace ns, or update its target and the labels
 * image has when it exists (other labels stay; a label of "" is removed), then publish
 * /images/create or /images/update. The target must be stored in the content store (EBUSY
 * "... is not in the content store" otherwise). *out (may be NULL) gets the record as stored
 * (free with protobuf_c_message_free_unpacked). Names are stored as given: normalize first. */
int sup_images_put(struct sup_daemon *d, const char *ns, const SupImage *image, SupImage **out,
                   struct berth_err *err);

/* Create (EEXIST when the name is taken) or update (ENOENT when it is not; update_mask as
 * sup_store_image_update) a record strictly, as the Create and Update calls do, publishing
 * the event. A target given must be stored (EBUSY otherwise). */
int sup_images_create(struct sup_daemon *d, const char *ns, const SupImage *image, SupImage **out,
                      struct berth_err *err);
int sup_images_update(struct sup_daemon *d, const char *ns, const SupImage *image,
                      char *const *update_mask, size_t n_mask, SupImage **out,
                      struct berth_err *err);

/* Delete the record and publish /images/delete. With sync, collect garbage before returning;
 * otherwise a collection is scheduled in the background (sup_images_gc_schedule). */
int sup_images_delete(struct sup_daemon *d, const char *ns, const char *name, bool sync,
                      struct berth_err *err);

/* ---- Chain IDs (chain.c) ------------------------------------------------------------------ */

/* The OCI chain ID of layers with diff_ids[0..n) (n >= 1): ChainID(L0) = DiffID(L0),
 * ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)). out gets "sha256:<hex>". */
#define SUP_IMAGES_DIGEST_MAX 72
void sup_images_chain_id(char *const *diff_ids, size_t n, char out[SUP_IMAGES_DIGEST_MAX]);

/* The snapshot key of a chain ID in namespace ns: "<ns>/<chain id>" (heap). */
char *sup_images_snapshot_key(const char *ns, const char *chain_id);

/* ---- Platforms ---------------------------------------------------------------------------- */

/* Parse a requested platform ("os/arch[/variant]"); NULL or "" gives the host's. EINVAL. */
int sup_images_platform(const char *s, struct sup_remote_platform *out, struct berth_err *err);

/* The manifest of target for platform: target itself when it is a manifest, else the index's
 * entry chosen for platform (sup_remote_platform_select). Both must be stored. *digest and
 * *media_type are heap strings, *size its size. ENOENT when the index has no such platform or
 * a blob is missing. */
int sup_images_manifest_for(struct sup_daemon *d, const char *target_digest,
                            const char *target_media_type, const struct sup_remote_platform *p,
                            char **digest, char **media_type, int64_t *size, struct berth_err *err);

/* ---- Unpacking (unpack.c) ----------------------------------------------------------------- */

/* Called before each layer is unpacked (i from 0) and after it (done true), not for a layer
 * already unpacked; may be NULL. */
typedef void (*sup_images_unpack_fn)(void *data, size_t i, const char *layer_digest, bool done);

/* Unpack the stored manifest `manifest_digest` (its config and layers must be stored) into
 * committed snapshots "<ns>/<chain id>", one per layer, in order: a layer already committed
 * is skipped; otherwise a temporary active snapshot on the parent chain is prepared, the
 * layer applied with its expected diffID and committed under its chain name; a failure
 * removes the temporary snapshot. Each snapshot is added to lease first. chain_out (may be
 * NULL) gets the top chain ID. EINVAL for a manifest that is not an image or a layer whose
 * diffID does not match its config. Checks cancelled (may be NULL) between layers and
 * stops with ECANCELED when it returns true. */
int sup_images_unpack(struct sup_daemon *d, const char *ns, struct sup_lease *lease,
                      const char *manifest_digest, sup_images_unpack_fn progress, void *data,
                      bool (*cancelled)(void *data), char chain_out[SUP_IMAGES_DIGEST_MAX],
                      struct berth_err *err);

/* ---- Pull and push (pull.c, push.c) ------------------------------------------------------- */

/* The registry client for one pull or push: the daemon's shared one, or, when the call asks
 * for plain http or brings credentials for `host`, a client of its own made from the daemon's
 * options (returned in *own too, for the caller to free). NULL with err when it cannot be
 * made. */
struct sup_remote *sup_images_remote(struct sup_daemon *d, const char *host, bool plain_http,
                                     const char *username, const char *password,
                                     struct sup_remote **own, struct berth_err *err);

typedef Berth__Supervisor__V1__Progress SupProgress;

/* Progress of a pull or push: the changed items, and whether this is the last call. The
 * items are borrowed for the call. */
typedef void (*sup_images_progress_fn)(void *data, SupProgress *const *items, size_t n);

struct sup_images_pull_opts {
    const char *ref; /* docker's syntax */
    const char *platform;
    bool all_platforms, skip_unpack, plain_http;
    const char *username, *password; /* NULL: the daemon's credentials */
    Berth__Supervisor__V1__Image__LabelsEntry *const *labels;
    size_t n_labels;
    sup_images_progress_fn progress; /* may be NULL */
    void *progress_data;
    /* Polled: true stops the pull (ECANCELED). May be NULL. */
    bool (*cancelled)(void *data);
    void *cancel_data;
};

/* Pull as PullImageRequest describes; *out (the record made) is freed by the caller. */
int sup_images_pull(struct sup_daemon *d, const char *ns, const struct sup_images_pull_opts *o,
                    SupImage **out, struct berth_err *err);

struct sup_images_push_opts {
    const char *name; /* the image record */
    const char *ref;  /* where to; NULL or "": name */
    const char *platform;
    bool plain_http;
    const char *username, *password;
    sup_images_progress_fn progress;
    void *progress_data;
    bool (*cancelled)(void *data);
    void *cancel_data;
};

/* Push as PushImageRequest describes; *digest_out (heap) is the digest pushed. */
int sup_images_push(struct sup_daemon *d, const char *ns, const struct sup_images_push_opts *o,
                    char **digest_out, struct berth_err *err);

/* ---- Check and usage (check.c) ------------------------------------------------------------ */

int sup_images_check(struct sup_daemon *d, const char *ns, const char *name, const char *platform,
                     Berth__Supervisor__V1__CheckImageResponse *out, struct berth_err *err);
int sup_images_usage(struct sup_daemon *d, const char *ns, const char *name, const char *platform,
                     int64_t *content_size, int64_t *snapshot_size, struct berth_err *err);

/* ---- Garbage collection (gc.c) ------------------------------------------------------------ */

struct sup_images_gc_stats {
    int64_t blobs_removed, snapshots_removed, bytes_freed;
};

/* Collect now: mark everything images (every namespace), containers and leases need, sweep
 * the rest (blobs, abandoned ingests, snapshots). Holds the lease lock throughout, and runs
 * one collection at a time (a call waits for a background one). */
int sup_images_gc(struct sup_daemon *d, struct sup_images_gc_stats *stats, struct berth_err *err);

/* Ask for a collection in the background (after a delete): one thread, started on first use,
 * runs collections one after another while asked. */
void sup_images_gc_schedule(struct sup_daemon *d);

/* The daemon's image state (the background collector); made by main, stopped before the
 * stores close. */
struct sup_images_state *sup_images_state_new(void);
void sup_images_state_free(struct sup_images_state *s);

#endif
