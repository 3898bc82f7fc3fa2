/* SPDX-License-Identifier: Apache-2.0
 *
 * Disk usage of a snapshot's directory (sup_snap_du in snapshot-internal.h), as `du` counts
 * it: allocated blocks (st_blocks * 512, so sparse files and holes count as what they take)
 * and inodes, every hard-linked inode once. The walk opens each directory relative to its
 * parent with O_NOFOLLOW, so it never follows a symlink, and skips directories on another
 * filesystem (a mount left inside an active snapshot is not its content). It holds one fd a
 * level.
 */
#include "supervisor/snapshot/snapshot-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/error.h"

/* Hard-linked inodes seen so far; counted once at the end. */
struct linked {
    ino_t ino;
    int64_t blocks;
};

struct du {
    dev_t dev;
    struct sup_snapshot_usage total;
    struct linked *linked;
    size_t n_linked, cap_linked;
};

static void
account(struct du *du, const struct stat *st)
{
    if (!S_ISDIR(st->st_mode) && st->st_nlink > 1) {
        if (du->n_linked == du->cap_linked) {
            du->cap_linked = du->cap_linked ? du->cap_linked * 2 : 64;
            du->linked = xrealloc(du->linked, du->cap_linked * sizeof(*du->linked));
        }
        du->linked[du->n_linked++] = (struct linked){st->st_ino, (int64_t)st->st_blocks};
        return;
    }
    du->total.size += (int64_t)st->st_blocks * 512;
    du->total.inodes++;
}

static int
cmp_linked(const void *a, const void *b)
{
    ino_t x = ((const struct linked *)a)->ino, y = ((const struct linked *)b)->ino;

    return x < y ? -1 : x > y;
}

/* Walk the directory fd (taken: closed here) at path. */
static int
walk_dir(struct du *du, int fd, const char *path, struct berth_err *err)
{
    cleanup_dir DIR *d = fdopendir(fd);
    struct dirent *de;

    if (d == NULL) {
        int e = errno;
        close(fd);
        return berth_err_set(err, e, "open `%s`", path);
    }
    for (;;) {
        errno = 0;
        if ((de = readdir(d)) == NULL)
            break;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT) /* gone meanwhile: an active snapshot may change */
                continue;
            return berth_err_set(err, errno, "stat `%s/%s`", path, de->d_name);
        }
        account(du, &st);
        if (!S_ISDIR(st.st_mode) || st.st_dev != du->dev)
            continue;
        int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0 && errno == ENOENT)
            continue;
        cleanup_free char *subpath = xasprintf("%s/%s", path, de->d_name);
        if (sub < 0)
            return berth_err_set(err, errno, "open `%s`", subpath);
        if (walk_dir(du, sub, subpath, err) < 0)
            return -1;
    }
    if (errno != 0)
        return berth_err_set(err, errno, "read directory `%s`", path);
    return 0;
}

int
sup_snap_du(const char *path, struct sup_snapshot_usage *out, struct berth_err *err)
{
    struct du du = {0};
    struct stat st;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0)
        return berth_err_set(err, errno, "open `%s`", path);
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return berth_err_set(err, e, "stat `%s`", path);
    }
    du.dev = st.st_dev;
    /* The directory itself counts, as du counts its argument. */
    account(&du, &st);
    int r = walk_dir(&du, fd, path, err);
    if (r == 0 && du.n_linked > 0) {
        qsort(du.linked, du.n_linked, sizeof(*du.linked), cmp_linked);
        for (size_t i = 0; i < du.n_linked; i++) {
            if (i > 0 && du.linked[i].ino == du.linked[i - 1].ino)
                continue;
            du.total.size += du.linked[i].blocks * 512;
            du.total.inodes++;
        }
    }
    free(du.linked);
    if (r == 0)
        *out = du.total;
    return r;
}
