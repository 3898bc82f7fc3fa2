/* SPDX-License-Identifier: Apache-2.0
 *
 * The overlay snapshotter: the filesystems of image layers and containers, as directories an
 * overlay mount stacks, in the manner of containerd's overlayfs snapshotter.
 *
 * A snapshot is named by a key and has a kind:
 *
 *                sup_snapshot_prepare                sup_snapshot_commit(name)
 *     (none) -------------------------> active ----------------------------> committed
 *        |                                |                                    |
 *        |   sup_snapshot_view             |  sup_snapshot_remove               |  remove
 *        +---------------------> view ----+------------------------> (none) <--+  (no children)
 *
 * An active snapshot is writable: its mounts show its parent's content with its own changes
 * on top. Committing it makes it immutable under a new name, which other snapshots take as
 * their parent; the key is then free again. A view shows a committed parent read-only. A
 * committed snapshot is never mounted itself (it has no mounts); it is only the parent of
 * others. Snapshots that share a parent share its directory: a layer committed once under
 * its chain id (which the caller computes) is never copied.
 *
 * Where things live, under the snapshotter's directory `dir`:
 *   dir/metadata.db          SQLite (WAL), the snapshots' names, kinds, parents and labels,
 *                            versioned schema (meta.c); every mutation is one transaction
 *   dir/snapshots/<id>/fs    the snapshot's own content: an overlay upper dir, or a plain
 *                            directory for a snapshot without parent
 *   dir/snapshots/<id>/work  overlay's work dir (active snapshots)
 * ids are small integers, never reused, so overlay's lowerdir option stays short.
 *
 * Keys are namespace-free here: any non-empty string of at most SUP_SNAPSHOT_KEY_MAX bytes.
 * The Snapshots service keeps each namespace apart by prefixing "<namespace>/" to every key
 * and parent it passes down.
 *
 * Objects cross this interface as SnapshotInfo messages (snapshots.proto) built with malloc'd
 * fields: free them with protobuf_c_message_free_unpacked(msg, NULL). Arguments are not taken.
 * All functions are thread-safe.
 *
 * Errors: ENOENT for a key or parent that does not exist, EEXIST for a key or commit name in
 * use, EINVAL for a bad key or label, a parent that is not committed, a commit of a snapshot
 * that is not active or mounts of a committed one, EBUSY for removing a snapshot that is a
 * parent, EIO for a database failure, and the errno of a failed filesystem call.
 */
#ifndef BERTH_SUPERVISOR_SNAPSHOT_SNAPSHOT_H
#define BERTH_SUPERVISOR_SNAPSHOT_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "berth/supervisor/v1/snapshots.pb-c.h"
#include "supervisor/snapshot/mount.h"

struct berth_err;
struct sup_snapshotter;

/* The one snapshotter's name, as the API's `snapshotter` fields give it. */
#define SUP_SNAPSHOTTER_OVERLAY "overlayfs"

#define SUP_SNAPSHOT_KEY_MAX 4096

/* Open the snapshotter at dir (created 0700 with its parents when missing; berth-supervisor
 * uses <root>/snapshots). Creates or migrates metadata.db, refuses a schema newer than this
 * build (ENOTSUP), and removes what an interrupted call left: directories of snapshots
 * being made or removed, and id directories no snapshot owns. dir must not contain ',', ':'
 * or '\' (they would split overlay's options): EINVAL. Close with sup_snapshotter_close. */
int sup_snapshotter_open(const char *dir, struct sup_snapshotter **out, struct berth_err *err);
void sup_snapshotter_close(struct sup_snapshotter *s);

/* The schema version of metadata.db (for tests); -1 when unreadable. */
int sup_snapshotter_schema_version(struct sup_snapshotter *s);

/* ---- Creating */

/* A new active snapshot `key` on top of the committed snapshot `parent` (NULL or "" for
 * none), with labels (a label with an empty value is not stored), and its mounts in
 * *mounts / *n_mounts (free with sup_mounts_free):
 *   no parent:  {bind, <fs>, [rw, rbind]}
 *   a parent:   {overlay, overlay, [index=off, workdir=<work>, upperdir=<fs>,
 *                lowerdir=<parent fs>:<grandparent fs>:...]}  (nearest first)
 * Nothing is left behind on failure. */
int sup_snapshot_prepare(struct sup_snapshotter *s, const char *key, const char *parent,
                         Berth__Supervisor__V1__SnapshotInfo__LabelsEntry *const *labels,
                         size_t n_labels, struct sup_mount **mounts, size_t *n_mounts,
                         struct berth_err *err);

/* A new view `key` of parent (NULL or "" for an empty one), read-only mounts:
 *   no parent:      {bind, <own empty fs>, [ro, rbind]}
 *   one layer:      {bind, <parent fs>, [ro, rbind]}
 *   several layers: {overlay, overlay, [lowerdir=<parent fs>:...]} */
int sup_snapshot_view(struct sup_snapshotter *s, const char *key, const char *parent,
                      Berth__Supervisor__V1__SnapshotInfo__LabelsEntry *const *labels,
                      size_t n_labels, struct sup_mount **mounts, size_t *n_mounts,
                      struct berth_err *err);

/* The mounts of an active snapshot or a view, as prepare/view returned them. */
int sup_snapshot_mounts(struct sup_snapshotter *s, const char *key, struct sup_mount **mounts,
                        size_t *n_mounts, struct berth_err *err);

/* The active snapshot `key` becomes the committed snapshot `name` (its content stays where it
 * is). Its disk usage is measured now and kept (committed content does not change). When
 * n_labels > 0 the labels replace the snapshot's. The caller must have unmounted it. */
int sup_snapshot_commit(struct sup_snapshotter *s, const char *name, const char *key,
                        Berth__Supervisor__V1__SnapshotInfo__LabelsEntry *const *labels,
                        size_t n_labels, struct berth_err *err);

/* Remove a snapshot of any kind and its directory. EBUSY while snapshots have it as their
 * parent. The metadata goes first (in one transaction with renaming the directory aside),
 * then the content; content a crash leaves is removed at the next open. The caller must have
 * unmounted it. */
int sup_snapshot_remove(struct sup_snapshotter *s, const char *key, struct berth_err *err);

/* ---- Reading and labels */

int sup_snapshot_stat(struct sup_snapshotter *s, const char *key,
                      Berth__Supervisor__V1__SnapshotInfo **out, struct berth_err *err);

/* info->name names the snapshot; only labels change. update_mask: "labels" (replace all) or
 * "labels.KEY" (set KEY from info, or delete it when info has none or an empty one); none
 * means "labels". Any other path: EINVAL. Sets updated_at. *out is the snapshot after. */
int sup_snapshot_update(struct sup_snapshotter *s, const Berth__Supervisor__V1__SnapshotInfo *info,
                        char *const *update_mask, size_t n_mask,
                        Berth__Supervisor__V1__SnapshotInfo **out, struct berth_err *err);

struct sup_snapshot_usage {
    int64_t size;   /* bytes of allocated blocks (st_blocks * 512) */
    int64_t inodes; /* files, directories, links..., each hard-linked inode once */
};

/* Disk use of the snapshot's own fs directory (not its parents'): walked each time for an
 * active snapshot or a view, measured once at commit for a committed one. */
int sup_snapshot_usage(struct sup_snapshotter *s, const char *key, struct sup_snapshot_usage *out,
                       struct berth_err *err);

/* Every snapshot whose name starts with prefix (NULL or "": all), sorted by name, read in one
 * transaction: *out is a heap array of *n_out infos; free it with sup_snapshot_infos_free. */
int sup_snapshot_list(struct sup_snapshotter *s, const char *prefix,
                      Berth__Supervisor__V1__SnapshotInfo ***out, size_t *n_out,
                      struct berth_err *err);
void sup_snapshot_infos_free(Berth__Supervisor__V1__SnapshotInfo **infos, size_t n);

/* Called for each snapshot; a negative return stops the walk and is returned (with err). */
typedef int (*sup_snapshot_walk_fn)(const Berth__Supervisor__V1__SnapshotInfo *info, void *data,
                                    struct berth_err *err);

/* Call fn for every snapshot sup_snapshot_list gives. fn runs without the snapshotter's lock
 * held, so it may call the snapshotter; info is freed when sup_snapshot_walk returns. */
int sup_snapshot_walk(struct sup_snapshotter *s, const char *prefix, sup_snapshot_walk_fn fn,
                      void *data, struct berth_err *err);

#endif
