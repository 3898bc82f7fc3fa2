/* SPDX-License-Identifier: Apache-2.0
 *
 * The supervisor's metadata: namespaces and containers in SQLite (<root>/meta.db), WAL mode,
 * foreign keys on, a schema version with ordered migrations (store/schema.c). Every mutation
 * is one transaction; a failed one leaves nothing behind. Tasks are not stored here: their
 * shims hold their state.
 *
 * Objects cross this interface as the protobuf-c messages of the API
 * (proto/berth/supervisor/v1): functions returning one build it with malloc'd fields, so the
 * caller frees it with protobuf_c_message_free_unpacked(msg, NULL). Arguments are not taken.
 * All functions are thread-safe (one connection behind a mutex).
 *
 * Errors: ENOENT for a missing namespace or container ("namespace `x` not found"), EEXIST for
 * a duplicate, EINVAL for a bad name or field, EBUSY for a namespace that still holds
 * containers, EIO for a database failure (message from SQLite).
 */
#ifndef BERTH_SUPERVISOR_STORE_H
#define BERTH_SUPERVISOR_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "berth/supervisor/v1/containers.pb-c.h"
#include "berth/supervisor/v1/content.pb-c.h"
#include "berth/supervisor/v1/images.pb-c.h"
#include "berth/supervisor/v1/namespaces.pb-c.h"

struct berth_err;
struct sup_store;

/* Open (creating and migrating) <root>/meta.db, mode 0600; root must exist (ENOENT, ENOTDIR
 * else). Ensures namespace "default" exists. A database written by a newer supervisor (a
 * schema version past this build's) is refused with ENOTSUP. *out is closed with
 * sup_store_close, which also checkpoints the WAL. */
int sup_store_open(const char *root, struct sup_store **out, struct berth_err *err);
void sup_store_close(struct sup_store *st);

/* Schema version of an open store (for tests and `version`); -1 (logged) if unreadable. */
int sup_store_schema_version(struct sup_store *st);

/* Names: namespaces and container ids match [A-Za-z0-9][A-Za-z0-9_.-]{0,75}; EINVAL else,
 * "container name `a/b` is not valid: ..." with kind = "container". Every function below checks
 * the names it takes first, so a bad one is EINVAL rather than ENOENT.
 *
 * Labels (of namespaces and containers): the key is non-empty and key plus value hold at most
 * 4096 bytes (EINVAL, "label `k`: ..."). A label with an empty value is not stored, as in
 * containerd, so setting one deletes it. When a map repeats a key the last entry wins.
 * Extension keys are non-empty; their values may be empty. Lists of labels and extensions
 * come back sorted by key. Checks happen inside the transaction, so a bad label also undoes
 * the row that went in before it. */
int sup_store_check_name(const char *kind, const char *name, struct berth_err *err);

/* ---- namespaces */
int sup_store_namespace_create(struct sup_store *st, const Berth__Supervisor__V1__Namespace *ns,
                               Berth__Supervisor__V1__Namespace **out, struct berth_err *err);
int sup_store_namespace_get(struct sup_store *st, const char *name,
                            Berth__Supervisor__V1__Namespace **out, struct berth_err *err);
/* *out: a malloc'd array of *n_out namespaces sorted by name; free each and the array. */
int sup_store_namespace_list(struct sup_store *st, Berth__Supervisor__V1__Namespace ***out,
                             size_t *n_out, struct berth_err *err);
/* update_mask: "labels" or "labels.KEY" entries; none = replace all labels. A label with an
 * empty value named by "labels.KEY", or absent from ns, is removed. Other paths: EINVAL. */
int sup_store_namespace_update(struct sup_store *st, const Berth__Supervisor__V1__Namespace *ns,
                               char *const *update_mask, size_t n_mask,
                               Berth__Supervisor__V1__Namespace **out, struct berth_err *err);
/* EBUSY while containers remain ("namespace `x` is not empty: 2 containers") and always for
 * "default", which every call without a namespace relies on. Labels go with it. */
int sup_store_namespace_delete(struct sup_store *st, const char *name, struct berth_err *err);
/* 1 exists, 0 not, -1 error (EINVAL for a bad name). */
int sup_store_namespace_exists(struct sup_store *st, const char *name, struct berth_err *err);

/* ---- containers (all within namespace ns) */
/* Creates the namespace too when create_ns and it is missing (containerd does the same);
 * otherwise ENOENT ("namespace `y` not found"). EEXIST: "container `x` already exists in
 * namespace `y`". Sets created_at = updated_at = now; c's own timestamps are ignored. A NULL
 * runtime reads back NULL, and so do runtime options; NULL strings read back "". */
int sup_store_container_create(struct sup_store *st, const char *ns, bool create_ns,
                               const Berth__Supervisor__V1__Container *c,
                               Berth__Supervisor__V1__Container **out, struct berth_err *err);
int sup_store_container_get(struct sup_store *st, const char *ns, const char *id,
                            Berth__Supervisor__V1__Container **out, struct berth_err *err);
/* Sorted by id; free each and the array. A namespace that does not exist holds none. */
int sup_store_container_list(struct sup_store *st, const char *ns,
                             Berth__Supervisor__V1__Container ***out, size_t *n_out,
                             struct berth_err *err);
/* c->id names the container. update_mask paths: labels, labels.KEY, image, spec, runtime,
 * rootfs, snapshotter, snapshot_key, extensions, extensions.KEY; none = labels, image, spec,
 * runtime, snapshot_key, extensions. Paths apply in order ("labels", then "labels.a" resets
 * a). "labels.KEY" / "extensions.KEY" absent from c delete KEY. id, created_at, updated_at
 * and unknown paths: EINVAL. ENOENT: "container `x` not found in namespace `y`". Sets
 * updated_at. */
int sup_store_container_update(struct sup_store *st, const char *ns,
                               const Berth__Supervisor__V1__Container *c, char *const *update_mask,
                               size_t n_mask, Berth__Supervisor__V1__Container **out,
                               struct berth_err *err);
/* ENOENT when missing. Labels and extensions go with it. Whether a task still runs is the
 * caller's question: the store does not know tasks. */
int sup_store_container_delete(struct sup_store *st, const char *ns, const char *id,
                               struct berth_err *err);

/* ---- content
 * Rows of the content store (supervisor/content), shared by every namespace: one a committed
 * blob, keyed by digest ("sha256:<hex>", checked by the content store; here only non-empty),
 * with its size, created_at and updated_at (unix ns) and labels (rules as above). The blob
 * files are the content store's; these rows hold what a file cannot. ENOENT: "content `d`
 * not found". */
/* Record a new blob: info's digest, size and labels; created_at = updated_at = now. EEXIST
 * "content `d` already exists" when it has a row. *out (may be NULL) is the row as stored. */
int sup_store_content_create(struct sup_store *st, const Berth__Supervisor__V1__Info *info,
                             Berth__Supervisor__V1__Info **out, struct berth_err *err);
int sup_store_content_get(struct sup_store *st, const char *digest,
                          Berth__Supervisor__V1__Info **out, struct berth_err *err);
/* Every row sorted by digest; free each and the array. */
int sup_store_content_list(struct sup_store *st, Berth__Supervisor__V1__Info ***out, size_t *n_out,
                           struct berth_err *err);
/* Labels only: update_mask "labels" (replace all) or "labels.KEY" (set or remove KEY); none =
 * "labels". Other paths: EINVAL. Sets updated_at. *out may be NULL. */
int sup_store_content_update(struct sup_store *st, const Berth__Supervisor__V1__Info *info,
                             char *const *update_mask, size_t n_mask,
                             Berth__Supervisor__V1__Info **out, struct berth_err *err);
/* The row and its labels. */
int sup_store_content_delete(struct sup_store *st, const char *digest, struct berth_err *err);
/* The label rules above (EINVAL naming the key), for a caller that checks labels before a
 * change it cannot roll back (a content commit renames the blob before its row is made). */
int sup_store_check_label(const char *key, const char *value, struct berth_err *err);

/* ---- images (all within namespace ns)
 * An image is a name (any non-empty string of at most SUP_STORE_IMAGE_NAME_MAX printable
 * bytes: references are normalized by the caller) for a target descriptor (media type,
 * digest, size; annotations are not kept) with labels (rules as above). ENOENT: "image `x`
 * not found in namespace `y`"; EEXIST: "image `x` already exists in namespace `y`". Whether
 * the target is stored is the caller's question. */
#define SUP_STORE_IMAGE_NAME_MAX 4096
/* Creates the namespace when it is missing (as a pull into a new namespace expects). Needs
 * image->target with a media type, a digest and a size >= 0 (EINVAL). Sets created_at =
 * updated_at = now. */
int sup_store_image_create(struct sup_store *st, const char *ns,
                           const Berth__Supervisor__V1__Image *image,
                           Berth__Supervisor__V1__Image **out, struct berth_err *err);
int sup_store_image_get(struct sup_store *st, const char *ns, const char *name,
                        Berth__Supervisor__V1__Image **out, struct berth_err *err);
/* Sorted by name; free with sup_store_image_list_free. A missing namespace holds none. */
int sup_store_image_list(struct sup_store *st, const char *ns, Berth__Supervisor__V1__Image ***out,
                         size_t *n_out, struct berth_err *err);
void sup_store_image_list_free(Berth__Supervisor__V1__Image **list, size_t n);
/* image->name names it. update_mask: "target", "labels", "labels.KEY" (set from image, or
 * deleted when image lacks it); none = target and labels. Other paths: EINVAL. Sets
 * updated_at. *out may be NULL. */
int sup_store_image_update(struct sup_store *st, const char *ns,
                           const Berth__Supervisor__V1__Image *image, char *const *update_mask,
                           size_t n_mask, Berth__Supervisor__V1__Image **out,
                           struct berth_err *err);
/* The row and its labels; ENOENT when missing. */
int sup_store_image_delete(struct sup_store *st, const char *ns, const char *name,
                           struct berth_err *err);

#endif
