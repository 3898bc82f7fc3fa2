/* SPDX-License-Identifier: Apache-2.0
 *
 * The overlay snapshotter (snapshot.h): snapshot directories and the mounts that stack them,
 * over the metadata of meta.c.
 *
 * Every change to both the metadata and the directories follows one order, so that a crash
 * at any point leaves either the old state or the new one plus garbage that
 * sup_snapshotter_open removes:
 *   prepare/view  insert the row (transaction open), make the directories under a temporary
 *                 name "new-XXXXXX", rename it to the id, commit. A crash before the commit
 *                 leaves a directory with no row.
 *   remove        delete the row (transaction open), rename the id directory to "rm-<id>",
 *                 commit (or rename it back), then delete it. A crash leaves "rm-<id>".
 *   commit        metadata only: the content stays in the same directory.
 * One mutex serialises all of it; only usage walks run without it.
 */
#include "supervisor/snapshot/snapshot-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/log.h"

typedef Berth__Supervisor__V1__SnapshotInfo__LabelsEntry Label;

/* ---- Paths ---------------------------------------------------------------------------------- */

static char *
id_dir(const struct sup_snapshotter *s, int64_t id)
{
    return xasprintf("%s/snapshots/%lld", s->dir, (long long)id);
}

char *
sup_snap_fs_dir(const struct sup_snapshotter *s, int64_t id)
{
    return xasprintf("%s/snapshots/%lld/fs", s->dir, (long long)id);
}

char *
sup_snap_work_dir(const struct sup_snapshotter *s, int64_t id)
{
    return xasprintf("%s/snapshots/%lld/work", s->dir, (long long)id);
}

/* ---- Opening -------------------------------------------------------------------------------- */

/* A decimal id ("12") as a number; 0 for any other name. */
static int64_t
parse_id(const char *name)
{
    char *end;
    long long v;

    if (*name < '1' || *name > '9')
        return 0;
    errno = 0;
    v = strtoll(name, &end, 10);
    return errno || *end ? 0 : (int64_t)v;
}

static bool
has_id(const int64_t *ids, size_t n, int64_t id)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid] == id)
            return true;
        if (ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* Remove what interrupted calls left in dir/snapshots (see the file comment), and warn about
 * rows whose directory is gone. Failures are warnings: they cost disk space, not
 * correctness. */
static int
clean_orphans(struct sup_snapshotter *s, struct berth_err *err)
{
    cleanup_free char *root = xasprintf("%s/snapshots", s->dir);
    cleanup_free int64_t *ids = NULL;
    size_t n = 0;

    {
        cleanup_snap_unlock struct sup_snapshotter *locked = sup_snap_lock(s);
        cleanup_snap_tx struct snap_tx tx = SNAP_TX_INIT;
        if (sup_snap_tx_begin(s, &tx, false, err) < 0 || sup_snap_meta_ids(s, &ids, &n, err) < 0 ||
            sup_snap_tx_commit(&tx, err) < 0)
            return -1;
    }
    cleanup_dir DIR *d = opendir(root);
    if (d == NULL)
        return berth_err_set(err, errno, "open `%s`", root);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        int64_t id = parse_id(de->d_name);
        if (id > 0 && has_id(ids, n, id))
            continue;
        cleanup_free char *path = xasprintf("%s/%s", root, de->d_name);
        cleanup_err struct berth_err e2 = BERTH_ERR_INIT;
        berth_info("snapshot: removing %s, left by an interrupted call", path);
        if (berth_fs_rm_rf(path, &e2) < 0)
            berth_err_warn(&e2);
    }
    for (size_t i = 0; i < n; i++) {
        cleanup_free char *fs = sup_snap_fs_dir(s, ids[i]);
        if (!berth_fs_exists(fs))
            berth_warn("snapshot: the directory of snapshot id %lld is missing: %s",
                       (long long)ids[i], fs);
    }
    return 0;
}

int
sup_snapshotter_open(const char *dir, struct sup_snapshotter **out, struct berth_err *err)
{
    if (dir == NULL || *dir == '\0' || strpbrk(dir, ",:\\"))
        return berth_err_fail(err, EINVAL,
                              "snapshotter directory `%s` is not valid: overlay options cannot "
                              "hold ',', ':' or '\\'",
                              dir ? dir : "");
    cleanup_free char *snapshots = xasprintf("%s/snapshots", dir);
    if (berth_fs_mkdir_p(dir, 0700, err) < 0 || berth_fs_mkdir_p(snapshots, 0700, err) < 0)
        return berth_err_wrap(err, "open snapshotter");

    struct sup_snapshotter *s = xzalloc(sizeof(*s));
    s->dir = xstrdup(dir);
    s->db_path = xasprintf("%s/metadata.db", dir);
    pthread_mutex_init(&s->lock, NULL);
    if (sup_snap_meta_open(s, err) < 0 || clean_orphans(s, err) < 0) {
        sup_snapshotter_close(s);
        return berth_err_wrap(err, "open snapshotter `%s`", dir);
    }
    *out = s;
    return 0;
}

void
sup_snapshotter_close(struct sup_snapshotter *s)
{
    if (s == NULL)
        return;
    sup_snap_meta_close(s);
    pthread_mutex_destroy(&s->lock);
    free(s->dir);
    free(s->db_path);
    free(s);
}

/* ---- Mounts --------------------------------------------------------------------------------- */

/* "lowerdir=" and the fs dirs of ids[0..n), ':'-joined. */
static char *
lowerdir_option(const struct sup_snapshotter *s, const int64_t *ids, size_t n)
{
    size_t cap = 16, len;
    char *opt = xmalloc(cap);

    len = (size_t)sprintf(opt, "lowerdir=");
    for (size_t i = 0; i < n; i++) {
        cleanup_free char *fs = sup_snap_fs_dir(s, ids[i]);
        size_t flen = strlen(fs);
        if (len + flen + 2 > cap) {
            cap = (len + flen + 2) * 2;
            opt = xrealloc(opt, cap);
        }
        if (i > 0)
            opt[len++] = ':';
        memcpy(opt + len, fs, flen + 1);
        len += flen;
    }
    return opt;
}

/* The mounts of a snapshot of kind whose chain (itself, then its parents) is ids[0..n). */
static void
build_mounts(const struct sup_snapshotter *s, int kind, const int64_t *ids, size_t n,
             struct sup_mount **out, size_t *n_out)
{
    struct sup_mount *m = xzalloc(sizeof(*m));
    cleanup_free char *fs = sup_snap_fs_dir(s, ids[0]);
    size_t n_parents = n - 1;

    if (kind == SNAP_ACTIVE && n_parents == 0) {
        sup_mount_init(m, "bind", fs, (const char *const[]){"rw", "rbind", NULL});
    } else if (kind == SNAP_ACTIVE) {
        cleanup_free char *work = sup_snap_work_dir(s, ids[0]);
        cleanup_free char *workdir = xasprintf("workdir=%s", work);
        cleanup_free char *upperdir = xasprintf("upperdir=%s", fs);
        cleanup_free char *lowerdir = lowerdir_option(s, ids + 1, n_parents);
        /* index=off: overlay's index ties a lower layer to the first upper it was mounted
         * with (when the kernel turns it on by default), and lower layers here are shared by
         * many uppers. The option exists since Linux 4.13. */
        sup_mount_init(m, "overlay", "overlay",
                       (const char *const[]){"index=off", workdir, upperdir, lowerdir, NULL});
    } else if (n_parents <= 1) {
        /* A view of nothing shows its own empty directory; of one layer, that layer. */
        cleanup_free char *src = n_parents == 0 ? xstrdup(fs) : sup_snap_fs_dir(s, ids[1]);
        sup_mount_init(m, "bind", src, (const char *const[]){"ro", "rbind", NULL});
    } else {
        /* Overlay without an upperdir is read-only by itself. */
        cleanup_free char *lowerdir = lowerdir_option(s, ids + 1, n_parents);
        sup_mount_init(m, "overlay", "overlay", (const char *const[]){lowerdir, NULL});
    }
    *out = m;
    *n_out = 1;
}

/* ---- Creating ------------------------------------------------------------------------------- */

/* Make dir/snapshots/new-XXXXXX with fs (and work for an active snapshot); fs takes the owner
 * and mode of the parent's fs, so the root of the mounted snapshot keeps the image's. Returns
 * the temporary path (heap) or NULL. */
static char *
make_dirs(struct sup_snapshotter *s, int kind, int64_t parent, struct berth_err *err)
{
    cleanup_free char *tmp = xasprintf("%s/snapshots/new-XXXXXX", s->dir);
    if (mkdtemp(tmp) == NULL) {
        berth_err_set(err, errno, "create `%s`", tmp);
        return NULL;
    }
    cleanup_free char *fs = xasprintf("%s/fs", tmp);
    cleanup_free char *work = xasprintf("%s/work", tmp);
    struct stat st;
    const char *failed = NULL;

    if (mkdir(fs, 0755) < 0)
        failed = fs;
    else if (kind == SNAP_ACTIVE && mkdir(work, 0700) < 0)
        failed = work;
    if (failed == NULL && parent) {
        cleanup_free char *pfs = sup_snap_fs_dir(s, parent);
        if (stat(pfs, &st) < 0)
            failed = pfs;
        else if (chown(fs, st.st_uid, st.st_gid) < 0 || chmod(fs, st.st_mode & 07777) < 0)
            failed = fs;
    }
    if (failed) {
        berth_err_set(err, errno, "prepare `%s`", failed);
        cleanup_err struct berth_err e2 = BERTH_ERR_INIT;
        if (berth_fs_rm_rf(tmp, &e2) < 0)
            berth_err_warn(&e2);
        return NULL;
    }
    return steal_ptr(&tmp);
}

static int
create(struct sup_snapshotter *s, int kind, const char *key, const char *parent,
       Label *const *labels, size_t n_labels, struct sup_mount **mounts, size_t *n_mounts,
       struct berth_err *err)
{
    const char *what = kind == SNAP_ACTIVE ? "prepare" : "view";

    if (parent && *parent == '\0')
        parent = NULL;
    if (sup_snap_check_key("key", key, err) < 0 ||
        (parent && sup_snap_check_key("parent", parent, err) < 0))
        return -1;

    cleanup_snap_unlock struct sup_snapshotter *locked = sup_snap_lock(s);
    cleanup_snap_tx struct snap_tx tx = SNAP_TX_INIT;
    cleanup_free int64_t *chain = NULL;
    size_t n_chain = 0;
    struct snap_row prow = {0};
    int64_t id = 0;

    if (sup_snap_tx_begin(s, &tx, true, err) < 0)
        return -1;
    if (parent && sup_snap_meta_get(s, parent, &prow, err) < 0) {
        if (err->code != ENOENT)
            return berth_err_wrap(err, "%s `%s`", what, key);
        berth_err_clear(err);
        return berth_err_fail(err, ENOENT, "%s `%s`: parent `%s` not found", what, key, parent);
    }
    if (parent && prow.kind != SNAP_COMMITTED)
        return berth_err_fail(err, EINVAL, "%s `%s`: parent `%s` is not a committed snapshot", what,
                              key, parent);
    if (sup_snap_meta_insert(s, key, kind, prow.id, labels, n_labels, &id, err) < 0 ||
        sup_snap_meta_chain(s, id, &chain, &n_chain, err) < 0)
        return berth_err_wrap(err, "%s `%s`", what, key);

    cleanup_free char *tmp = make_dirs(s, kind, prow.id, err);
    if (tmp == NULL)
        return berth_err_wrap(err, "%s `%s`", what, key);
    cleanup_free char *final = id_dir(s, id);
    cleanup_err struct berth_err e2 = BERTH_ERR_INIT;
    if (rename(tmp, final) < 0) {
        berth_err_set(err, errno, "%s `%s`: rename `%s` to `%s`", what, key, tmp, final);
        if (berth_fs_rm_rf(tmp, &e2) < 0)
            berth_err_warn(&e2);
        return -1;
    }
    if (sup_snap_tx_commit(&tx, err) < 0) {
        if (berth_fs_rm_rf(final, &e2) < 0)
            berth_err_warn(&e2);
        return berth_err_wrap(err, "%s `%s`", what, key);
    }
    build_mounts(s, kind, chain, n_chain, mounts, n_mounts);
    return 0;
}

int
sup_snapshot_prepare(struct sup_snapshotter *s, const char *key, const char *parent,
                     Label *const *labels, size_t n_labels, struct sup_mount **mounts,
                     size_t *n_mounts, struct berth_err *err)
{
    return create(s, SNAP_ACTIVE, key, parent, labels, n_labels, mounts, n_mounts, err);
}

int
sup_snapshot_view(struct sup_snapshotter *s, const char *key, const char *parent,
                  Label *const *labels, size_t n_labels, struct sup_mount **mounts,
                  size_t *n_mounts, struct berth_err *err)
{
    return create(s, SNAP_VIEW, key, parent, labels, n_labels, mounts, n_mounts, err);
}

int
sup_snapshot_mounts(struct sup_snapshotter *s, const char *key, struct sup_mount **mounts,
                    size_t *n_mounts, struct berth_err *err)
{
    if (sup_snap_check_key("key", key, err) < 0)
        return -1;

    cleanup_snap_unlock struct sup_snapshotter *locked = sup_snap_lock(s);
    cleanup_snap_tx struct snap_tx tx = SNAP_TX_INIT;
    cleanup_free int64_t *chain = NULL;
    size_t n_chain = 0;
    struct snap_row row;

    if (sup_snap_tx_begin(s, &tx, false, err) < 0 || sup_snap_meta_get(s, key, &row, err) < 0)
        return -1;
    if (row.kind == SNAP_COMMITTED)
        return berth_err_fail(err, EINVAL,
                              "snapshot `%s` is committed: it has no mounts (mount a view or "
                              "an active snapshot of it)",
                              key);
    if (sup_snap_meta_chain(s, row.id, &chain, &n_chain, err) < 0 ||
        sup_snap_tx_commit(&tx, err) < 0)
        return -1;
    build_mounts(s, row.kind, chain, n_chain, mounts, n_mounts);
    return 0;
}

/* ---- Commit and remove ---------------------------------------------------------------------- */

/* The id of the active snapshot key, checked in a short read transaction. */
static int
active_id(struct sup_snapshotter *s, const char *key, int64_t *id, struct berth_err *err)
{
    cleanup_snap_unlock struct sup_snapshotter *locked = sup_snap_lock(s);
    cleanup_snap_tx struct snap_tx tx = SNAP_TX_INIT;
    struct snap_row row;

    if (sup_snap_tx_begin(s, &tx, false, err) < 0 || sup_snap_meta_get(s, key, &row, err) < 0)
        return -1;
    if (row.kind != SNAP_ACTIVE)
        return berth_err_fail(err, EINVAL, "snapshot `%s` is not active", key);
    *id = row.id;
    return sup_snap_tx_commit(&tx, err);
}

int
sup_snapshot_commit(struct sup_snapshotter *s, const char *name, const char *key,
                    Label *const *labels, size_t n_labels, struct berth_err *err)
{
    struct sup_snapshot_usage usage;
    int64_t id = 0;

    if (sup_snap_check_key("name", name, err) < 0 || sup_snap_check_key("key", key, err) < 0)
        return -1;
    /* Measure without the lock (a big layer takes a while), then check that the snapshot is
     * still the same active one before recording it. */
    if (active_id(s, key, &id, err) < 0)
        return berth_err_wrap(err, "commit `%s` as `%s`", key, name);
    cleanup_free char *fs = sup_snap_fs_dir(s, id);
    if (sup_snap_du(fs, &usage, err) < 0)
        return berth_err_wrap(err, "commit `%s` as `%s`: usage", key, name);

    cleanup_snap_unlock struct sup_snapshotter *locked = sup_snap_lock(s);
    cleanup_snap_tx struct snap_tx tx = SNAP_TX_INIT;
    struct snap_row row;

    if (sup_snap_tx_begin(s, &tx, true, err) < 0 || sup_snap_meta_get(s, key, &row, err) < 0)
        return berth_err_wrap(err, "commit `%s` as `%s`", key, name);
    if (row.id != id || row.kind != SNAP_ACTIVE)
        return berth_err_fail(err, EINVAL, "commit `%s` as `%s`: changed while committing", key,
                              name);
    if (sup_snap_meta_commit(s, id, name, &usage, labels, n_labels, err) < 0 ||
        sup_snap_tx_commit(&tx, err) < 0)
        return berth_err_wrap(err, "commit `%s` as `%s`", key, name);
    return 0;
}

int
sup_snapshot_remove(struct sup_snapshotter *s, const char *key, struct berth_err *err)
{
    if (sup_snap_check_key("key", key, err) < 0)
        return -1;

    cleanup_free char *dir = NULL;
    cleanup_free char *aside = NULL;
    {
        cleanup_snap_unlock struct sup_snapshotter *locked = sup_snap_lock(s);
        cleanup_snap_tx struct snap_tx tx = SNAP_TX_INIT;
        struct snap_row row;

        if (sup_snap_tx_begin(s, &tx, true, err) < 0 || sup_snap_meta_get(s, key, &row, err) < 0 ||
            sup_snap_meta_delete(s, row.id, key, err) < 0)
            return berth_err_wrap(err, "remove `%s`", key);
        dir = id_dir(s, row.id);
        aside = xasprintf("%s/snapshots/rm-%lld", s->dir, (long long)row.id);
        bool moved = rename(dir, aside) == 0;
        if (!moved && errno != ENOENT)
            return berth_err_set(err, errno, "remove `%s`: rename `%s`", key, dir);
        if (!moved)
            berth_warn("snapshot: remove %s: its directory %s was already gone", key, dir);
        if (sup_snap_tx_commit(&tx, err) < 0) {
            if (moved && rename(aside, dir) < 0)
                berth_warn("snapshot: remove %s: rename %s back: %s", key, aside, strerror(errno));
            return berth_err_wrap(err, "remove `%s`", key);
        }
    }
    /* The snapshot is gone; its content is garbage now, removed here or at the next open. */
    cleanup_err struct berth_err e2 = BERTH_ERR_INIT;
    if (berth_fs_rm_rf(aside, &e2) < 0)
        berth_err_warn(&e2);
    return 0;
}

/* ---- Usage ---------------------------------------------------------------------------------- */

int
sup_snapshot_usage(struct sup_snapshotter *s, const char *key, struct sup_snapshot_usage *out,
                   struct berth_err *err)
{
    struct snap_row row;

    if (sup_snap_check_key("key", key, err) < 0)
        return -1;
    {
        cleanup_snap_unlock struct sup_snapshotter *locked = sup_snap_lock(s);
        cleanup_snap_tx struct snap_tx tx = SNAP_TX_INIT;
        if (sup_snap_tx_begin(s, &tx, false, err) < 0 || sup_snap_meta_get(s, key, &row, err) < 0 ||
            sup_snap_tx_commit(&tx, err) < 0)
            return -1;
    }
    if (row.kind == SNAP_COMMITTED && row.size >= 0) {
        out->size = row.size;
        out->inodes = row.inodes;
        return 0;
    }
    /* A snapshot removed meanwhile makes the walk fail with ENOENT, which is the truth. */
    cleanup_free char *fs = sup_snap_fs_dir(s, row.id);
    if (sup_snap_du(fs, out, err) < 0)
        return berth_err_wrap(err, "usage of `%s`", key);
    return 0;
}
