/* SPDX-License-Identifier: Apache-2.0
 *
 * Making one tar entry in the target (unpack-internal.h): regular files (sparse ones too),
 * directories, symlinks, hard links, device nodes and fifos, then their owner, mode, xattrs
 * and times, in the order the kernel needs: owner before mode (chown clears setuid and
 * setgid), data before xattrs (a write clears security.capability), times last, and
 * directories' times once the whole layer is in.
 *
 * Every call works on (directory fd, last component) from unpack_parent, or on an fd opened
 * with O_NOFOLLOW: nothing here follows a symlink. Calls that only take a path (lsetxattr on
 * a symlink or a device node) get /proc/self/fd/<dir>/<name>, whose last component is not
 * followed either.
 */
#include "supervisor/unpack/unpack-internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"

/* Where an entry goes: its directory, its name there, and an fd of the entry itself when one
 * is open (-1 for symlinks, device nodes and fifos). */
struct node {
    int dfd;
    const char *base;
    int fd;
};

/* ---- Replacing what is there ---------------------------------------------------------------- */

/* Clear the way for an entry named base in dfd. For a directory entry over a directory,
 * *reuse is set and nothing changes; anything else there is removed (a directory with its
 * content). *was_whiteout tells that it was a whiteout of this layer. */
static int
clear_way(struct unpack_ctx *c, int dfd, const char *base, bool want_dir, bool *reuse,
          bool *was_whiteout, struct berth_err *err)
{
    struct stat st;

    *reuse = *was_whiteout = false;
    if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : berth_err_set(err, errno, "stat");
    if (want_dir && S_ISDIR(st.st_mode)) {
        *reuse = true;
        return 0;
    }
    *was_whiteout = unpack_is_whiteout(&st);
    return unpack_remove_at(c, dfd, base, err);
}

/* ---- Metadata ------------------------------------------------------------------------------- */

static bool
xattr_skippable(int e)
{
    return e == EPERM || e == ENOTSUP || e == EOPNOTSUPP || e == EINVAL || e == EACCES ||
           e == ERANGE;
}

static int
set_xattrs(struct node *n, struct archive_entry *e, struct berth_err *err)
{
    const char *name;
    const void *value;
    size_t size;
    char path[64];

    if (archive_entry_xattr_reset(e) == 0)
        return 0;
    if (n->fd < 0)
        snprintf(path, sizeof(path), "/proc/self/fd/%d/", n->dfd);
    cleanup_free char *full = n->fd < 0 ? xasprintf("%s%s", path, n->base) : NULL;
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
        /* Overlay's own metadata comes from whiteouts only: a layer setting redirects,
         * origins or opaque flags itself could show lower content where it does not
         * belong. */
        if (strncmp(name, "trusted.overlay.", 16) == 0) {
            berth_debug("unpack: skipping xattr %s of %s", name, n->base);
            continue;
        }
        int r = n->fd >= 0 ? fsetxattr(n->fd, name, value, size, 0)
                           : lsetxattr(full, name, value, size, 0);
        if (r == 0)
            continue;
        if (!xattr_skippable(errno))
            return berth_err_set(err, errno, "set xattr `%s`", name);
        berth_debug("unpack: skipping xattr %s of %s: %s", name, n->base, strerror(errno));
    }
    return 0;
}

/* atime and mtime of e; UTIME_OMIT for what the entry lacks (atime defaults to mtime). */
static void
entry_times(struct archive_entry *e, struct timespec ts[2])
{
    ts[1].tv_nsec = UTIME_OMIT;
    ts[1].tv_sec = 0;
    if (archive_entry_mtime_is_set(e)) {
        ts[1].tv_sec = archive_entry_mtime(e);
        ts[1].tv_nsec = archive_entry_mtime_nsec(e);
    }
    ts[0] = ts[1];
    if (archive_entry_atime_is_set(e)) {
        ts[0].tv_sec = archive_entry_atime(e);
        ts[0].tv_nsec = archive_entry_atime_nsec(e);
    }
}

/* Owner, mode, xattrs and (but for directories) times of the node just made. */
static int
set_meta(struct node *n, struct archive_entry *e, mode_t type, struct berth_err *err)
{
    uid_t uid = (uid_t)archive_entry_uid(e);
    gid_t gid = (gid_t)archive_entry_gid(e);
    mode_t perm = archive_entry_perm(e) & 07777;
    int r;

    r = n->fd >= 0 ? fchown(n->fd, uid, gid)
                   : fchownat(n->dfd, n->base, uid, gid, AT_SYMLINK_NOFOLLOW);
    if (r < 0)
        return berth_err_set(err, errno, "set owner %u:%u", (unsigned)uid, (unsigned)gid);
    if (type != S_IFLNK) {
        /* glibc does fchmodat with AT_SYMLINK_NOFOLLOW through an O_PATH fd: never followed. */
        r = n->fd >= 0 ? fchmod(n->fd, perm) : fchmodat(n->dfd, n->base, perm, AT_SYMLINK_NOFOLLOW);
        if (r < 0)
            return berth_err_set(err, errno, "set mode %04o", (unsigned)perm);
    }
    if (set_xattrs(n, e, err) < 0)
        return -1;
    if (type == S_IFDIR)
        return 0;
    struct timespec ts[2];
    entry_times(e, ts);
    r = n->fd >= 0 ? futimens(n->fd, ts) : utimensat(n->dfd, n->base, ts, AT_SYMLINK_NOFOLLOW);
    if (r < 0)
        return berth_err_set(err, errno, "set times");
    return 0;
}

/* ---- Entries -------------------------------------------------------------------------------- */

static int
pwrite_all(int fd, const char *buf, size_t len, off_t off)
{
    while (len > 0) {
        ssize_t w = pwrite(fd, buf, len, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        buf += w;
        len -= (size_t)w;
        off += w;
    }
    return 0;
}

/* The data of the current entry into fd; holes of a sparse entry stay holes. */
static int
write_data(struct unpack_ctx *c, int fd, struct archive_entry *e, struct berth_err *err)
{
    const void *buf;
    size_t size;
    la_int64_t off;
    int64_t end = 0;
    int r;

    while ((r = archive_read_data_block(c->ar, &buf, &size, &off)) == ARCHIVE_OK) {
        if (pwrite_all(fd, buf, size, (off_t)off) < 0)
            return berth_err_set(err, errno, "write");
        if (off + (int64_t)size > end)
            end = off + (int64_t)size;
    }
    if (r != ARCHIVE_EOF)
        return berth_err_fail(err, EINVAL, "read data: %s", archive_error_string(c->ar));
    if (archive_entry_size_is_set(e) && archive_entry_size(e) > end &&
        ftruncate(fd, (off_t)archive_entry_size(e)) < 0)
        return berth_err_set(err, errno, "extend to %lld bytes", (long long)archive_entry_size(e));
    return 0;
}

static int
make_file(struct unpack_ctx *c, struct node *n, struct archive_entry *e, struct berth_err *err)
{
    cleanup_close int fd =
        openat(n->dfd, n->base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return berth_err_set(err, errno, "create file");
    n->fd = fd;
    if (write_data(c, fd, e, err) < 0 || set_meta(n, e, S_IFREG, err) < 0)
        return -1;
    return 0;
}

static int
make_dir(struct unpack_ctx *c, struct node *n, struct archive_entry *e, const char *rel, bool reuse,
         bool opaque, struct berth_err *err)
{
    if (!reuse && mkdirat(n->dfd, n->base, 0700) < 0)
        return berth_err_set(err, errno, "mkdir");
    cleanup_close int fd = openat(n->dfd, n->base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return berth_err_set(err, errno, "open directory");
    n->fd = fd;
    if ((opaque && unpack_set_opaque(fd, rel, err) < 0) || set_meta(n, e, S_IFDIR, err) < 0)
        return -1;

    if (c->n_dirs == c->cap_dirs) {
        c->cap_dirs = c->cap_dirs ? c->cap_dirs * 2 : 64;
        c->dirs = xrealloc(c->dirs, c->cap_dirs * sizeof(*c->dirs));
    }
    struct unpack_dir_times *d = &c->dirs[c->n_dirs++];
    d->rel = xstrdup(rel);
    entry_times(e, d->ts);
    return 0;
}

static int
make_symlink(struct node *n, struct archive_entry *e, struct berth_err *err)
{
    const char *target = archive_entry_symlink(e);

    /* The target is stored as written: whatever it points to is resolved later, inside the
     * container's root or by code that resolves inside a root, never by this unpacker. */
    if (target == NULL || *target == '\0')
        return berth_err_fail(err, EINVAL, "symlink without a target");
    if (symlinkat(target, n->dfd, n->base) < 0)
        return berth_err_set(err, errno, "create symlink");
    return set_meta(n, e, S_IFLNK, err);
}

static int
make_node(struct node *n, struct archive_entry *e, mode_t type, struct berth_err *err)
{
    dev_t dev = type == S_IFIFO ? 0 : archive_entry_rdev(e);

    if (mknodat(n->dfd, n->base, type | 0600, dev) < 0)
        return berth_err_set(err, errno, "make %s", type == S_IFIFO ? "fifo" : "device node");
    return set_meta(n, e, type, err);
}

/* A hard link to target, an earlier entry of this layer. */
static int
make_link(struct unpack_ctx *c, const char *rel, const char *raw_target, struct berth_err *err)
{
    cleanup_free char *target = NULL;
    const char *tbase, *base;
    struct stat tst, st;

    if (unpack_clean_name(raw_target, "link target", &target, err) < 0)
        return -1;
    if (*target == '\0')
        return berth_err_fail(err, EINVAL, "hard link to the layer's root");
    int tfd = unpack_parent(c, target, false, &tbase, err);
    if (tfd < 0 && err->code != ENOENT)
        return berth_err_wrap(err, "hard link to `%.*s%s`", UNPACK_SHOW(target));
    bool missing = tfd < 0;
    if (!missing && fstatat(tfd, tbase, &tst, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno != ENOENT)
            return berth_err_set(err, errno, "hard link to `%.*s%s`", UNPACK_SHOW(target));
        missing = true;
    }
    if (missing) {
        berth_err_clear(err);
        return berth_err_fail(err, EINVAL, "hard link to `%.*s%s`, which is not in the layer",
                              UNPACK_SHOW(target));
    }
    if (S_ISDIR(tst.st_mode))
        return berth_err_fail(err, EINVAL, "hard link to directory `%.*s%s`", UNPACK_SHOW(target));
    /* The target's directory stays open while the link's is looked up (which may replace the
     * cached fd). */
    cleanup_close int tdir = fcntl(tfd, F_DUPFD_CLOEXEC, 3);
    if (tdir < 0)
        return berth_err_set(err, errno, "dup");
    int dfd = unpack_parent(c, rel, true, &base, err);
    if (dfd < 0)
        return -1;
    if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_ino == tst.st_ino &&
        st.st_dev == tst.st_dev)
        return 0; /* a link to itself, or one already made */
    bool reuse, was_whiteout;
    if (clear_way(c, dfd, base, false, &reuse, &was_whiteout, err) < 0)
        return -1;
    /* clear_way may have removed directories, and with them the cached fd: look again. */
    dfd = unpack_parent(c, rel, true, &base, err);
    if (dfd < 0)
        return -1;
    /* No AT_SYMLINK_FOLLOW: a link to a symlink links the symlink itself. */
    if (linkat(tdir, tbase, dfd, base, 0) < 0)
        return berth_err_set(err, errno, "hard link to `%.*s%s`", UNPACK_SHOW(target));
    return 0;
}

int
unpack_entry(struct unpack_ctx *c, struct archive_entry *e, const char *rel, struct berth_err *err)
{
    const char *link = archive_entry_hardlink(e);
    mode_t type = archive_entry_filetype(e);

    if (link)
        return make_link(c, rel, link, err);
    if (type == AE_IFSOCK) {
        berth_debug("unpack: %s: skipping socket %s", c->target, rel);
        return 0;
    }
    if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK && type != AE_IFCHR &&
        type != AE_IFBLK && type != AE_IFIFO)
        return berth_err_fail(err, EINVAL, "unknown entry type %#o", (unsigned)type);

    struct node n = {-1, NULL, -1};
    bool reuse, was_whiteout;
    n.dfd = unpack_parent(c, rel, true, &n.base, err);
    if (n.dfd < 0 || clear_way(c, n.dfd, n.base, type == AE_IFDIR, &reuse, &was_whiteout, err) < 0)
        return -1;
    /* Removing a directory forgets the cached fd: resolve the parent again. */
    n.dfd = unpack_parent(c, rel, true, &n.base, err);
    if (n.dfd < 0)
        return -1;
    switch (type) {
    case AE_IFREG: return make_file(c, &n, e, err);
    case AE_IFDIR: return make_dir(c, &n, e, rel, reuse, was_whiteout, err);
    case AE_IFLNK: return make_symlink(&n, e, err);
    default: return make_node(&n, e, type, err);
    }
}

int
unpack_finish_dirs(struct unpack_ctx *c, struct berth_err *err)
{
    /* In layer order, so the last entry for a directory wins; a directory's times do not
     * change when those of its subdirectories are set. */
    for (size_t i = 0; i < c->n_dirs; i++) {
        const struct unpack_dir_times *d = &c->dirs[i];
        const char *base;
        struct stat st;
        cleanup_err struct berth_err e2 = BERTH_ERR_INIT;
        int dfd = unpack_parent(c, d->rel, false, &base, &e2);
        if (dfd < 0 || fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
            continue; /* replaced or removed by a later entry */
        if (utimensat(dfd, base, d->ts, AT_SYMLINK_NOFOLLOW) < 0)
            return berth_err_set(err, errno, "set times of `%.*s%s`", UNPACK_SHOW(d->rel));
    }
    return 0;
}
