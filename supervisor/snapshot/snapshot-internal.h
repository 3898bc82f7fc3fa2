/* SPDX-License-Identifier: Apache-2.0
 *
 * What the files of supervisor/snapshot share: the snapshotter itself (one SQLite connection
 * and a mutex serialising every use of it and of the snapshot directories), the rows of
 * metadata.db (meta.c) and the disk usage walk (usage.c). overlay.c drives both.
 *
 * Every function of meta.c below needs the lock held, and a transaction open (a write one for
 * mutations), in a `cleanup_snap_tx` variable declared after the lock's, so that an early
 * return rolls back first and unlocks second:
 *
 *     cleanup_snap_unlock struct sup_snapshotter *locked = sup_snap_lock(s);
 *     cleanup_snap_tx struct snap_tx tx = SNAP_TX_INIT;
 *     if (sup_snap_tx_begin(s, &tx, true, err) < 0)
 *         return -1;
 *     ...
 *     return sup_snap_tx_commit(&tx, err);
 */
#ifndef BERTH_SUPERVISOR_SNAPSHOT_SNAPSHOT_INTERNAL_H
#define BERTH_SUPERVISOR_SNAPSHOT_SNAPSHOT_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "supervisor/snapshot/snapshot.h"

struct berth_err;

struct sup_snapshotter {
    sqlite3 *db;
    pthread_mutex_t lock;
    char *dir;     /* the snapshotter's directory */
    char *db_path; /* dir/metadata.db, for messages */
};

/* Kinds, as stored: the values of SnapshotInfo.Kind. */
#define SNAP_VIEW      BERTH__SUPERVISOR__V1__SNAPSHOT_INFO__KIND__VIEW
#define SNAP_ACTIVE    BERTH__SUPERVISOR__V1__SNAPSHOT_INFO__KIND__ACTIVE
#define SNAP_COMMITTED BERTH__SUPERVISOR__V1__SNAPSHOT_INFO__KIND__COMMITTED

/* One row of `snapshots`. */
struct snap_row {
    int64_t id;
    int kind;       /* SNAP_* */
    int64_t parent; /* id of the parent, 0 for none */
    int64_t size;   /* usage measured at commit; -1 before */
    int64_t inodes;
};

/* ---- Locking and transactions (meta.c) */

struct sup_snapshotter *sup_snap_lock(struct sup_snapshotter *s);
void sup_snap_unlockp(struct sup_snapshotter **s);
#define cleanup_snap_unlock __attribute__((cleanup(sup_snap_unlockp)))

struct snap_tx {
    struct sup_snapshotter *s;
    bool open;
};
#define SNAP_TX_INIT                                                                               \
    {                                                                                              \
        NULL, false                                                                                \
    }
int sup_snap_tx_begin(struct sup_snapshotter *s, struct snap_tx *tx, bool write,
                      struct berth_err *err);
int sup_snap_tx_commit(struct snap_tx *tx, struct berth_err *err);
void sup_snap_tx_end(struct snap_tx *tx);
#define cleanup_snap_tx __attribute__((cleanup(sup_snap_tx_end)))

/* ---- The database (meta.c) */

/* Open dir/metadata.db into s->db (mode 0600, WAL, synchronous=FULL, foreign keys, busy
 * timeout) and bring its schema to the latest version. */
int sup_snap_meta_open(struct sup_snapshotter *s, struct berth_err *err);
void sup_snap_meta_close(struct sup_snapshotter *s);

/* A key or name: non-empty, at most SUP_SNAPSHOT_KEY_MAX bytes. what: "key", "name". */
int sup_snap_check_key(const char *what, const char *key, struct berth_err *err);

/* The row of key; ENOENT "snapshot `key` not found". */
int sup_snap_meta_get(struct sup_snapshotter *s, const char *key, struct snap_row *out,
                      struct berth_err *err);

/* Insert a snapshot (EEXIST "snapshot `key` already exists") with its labels; *id is its new
 * id. parent is an id or 0. */
int sup_snap_meta_insert(struct sup_snapshotter *s, const char *key, int kind, int64_t parent,
                         Berth__Supervisor__V1__SnapshotInfo__LabelsEntry *const *labels,
                         size_t n_labels, int64_t *id, struct berth_err *err);

/* The ids from id up its parents: [id, parent, grandparent, ...] (heap, *n >= 1). */
int sup_snap_meta_chain(struct sup_snapshotter *s, int64_t id, int64_t **ids, size_t *n,
                        struct berth_err *err);

/* Make the active row id committed under name with its usage; labels replace the row's when
 * n_labels > 0. EEXIST "snapshot `name` already exists". */
int sup_snap_meta_commit(struct sup_snapshotter *s, int64_t id, const char *name,
                         const struct sup_snapshot_usage *usage,
                         Berth__Supervisor__V1__SnapshotInfo__LabelsEntry *const *labels,
                         size_t n_labels, struct berth_err *err);

/* Delete row id (key for messages) with its labels; EBUSY when other rows name it parent. */
int sup_snap_meta_delete(struct sup_snapshotter *s, int64_t id, const char *key,
                         struct berth_err *err);

/* Every id in the table, ascending (heap). */
int sup_snap_meta_ids(struct sup_snapshotter *s, int64_t **ids, size_t *n, struct berth_err *err);

/* ---- Paths and usage (overlay.c, usage.c) */

/* dir/snapshots/<id>/fs and .../work, heap strings. */
char *sup_snap_fs_dir(const struct sup_snapshotter *s, int64_t id);
char *sup_snap_work_dir(const struct sup_snapshotter *s, int64_t id);

/* Walk path (never leaving its filesystem, never following symlinks) and add up its usage. */
int sup_snap_du(const char *path, struct sup_snapshot_usage *out, struct berth_err *err);

#endif
