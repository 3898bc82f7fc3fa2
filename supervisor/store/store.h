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
#include "berth/supervisor/v1/namespaces.pb-c.h"

struct berth_err;
struct sup_store;

/* Open (creating and migrating) <root>/meta.db; root must exist. Ensures namespace
 * "default" exists. */
int sup_store_open(const char *root, struct sup_store **out, struct berth_err *err);
void sup_store_close(struct sup_store *st);

/* Schema version of an open store (for tests and `version`). */
int sup_store_schema_version(struct sup_store *st);

/* Names: namespaces and container ids match [A-Za-z0-9][A-Za-z0-9_.-]{0,75}; EINVAL else. */
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
 * empty value named by "labels.KEY" is removed. */
int sup_store_namespace_update(struct sup_store *st, const Berth__Supervisor__V1__Namespace *ns,
                               char *const *update_mask, size_t n_mask,
                               Berth__Supervisor__V1__Namespace **out, struct berth_err *err);
/* EBUSY while containers remain. */
int sup_store_namespace_delete(struct sup_store *st, const char *name, struct berth_err *err);
/* 1 exists, 0 not, -1 error. */
int sup_store_namespace_exists(struct sup_store *st, const char *name, struct berth_err *err);

/* ---- containers (all within namespace ns) */
/* Creates the namespace too when create_ns and it is missing (containerd does the same);
 * otherwise ENOENT. Sets created_at = updated_at = now. */
int sup_store_container_create(struct sup_store *st, const char *ns, bool create_ns,
                               const Berth__Supervisor__V1__Container *c,
                               Berth__Supervisor__V1__Container **out, struct berth_err *err);
int sup_store_container_get(struct sup_store *st, const char *ns, const char *id,
                            Berth__Supervisor__V1__Container **out, struct berth_err *err);
/* Sorted by id; free each and the array. */
int sup_store_container_list(struct sup_store *st, const char *ns,
                             Berth__Supervisor__V1__Container ***out, size_t *n_out,
                             struct berth_err *err);
/* update_mask paths: labels, labels.KEY, image, spec, runtime, rootfs, snapshotter,
 * snapshot_key, extensions, extensions.KEY; none = labels, image, spec, runtime, snapshot_key,
 * extensions. Unknown paths: EINVAL. Sets updated_at. */
int sup_store_container_update(struct sup_store *st, const char *ns,
                               const Berth__Supervisor__V1__Container *c, char *const *update_mask,
                               size_t n_mask, Berth__Supervisor__V1__Container **out,
                               struct berth_err *err);
int sup_store_container_delete(struct sup_store *st, const char *ns, const char *id,
                               struct berth_err *err);

#endif
