/* SPDX-License-Identifier: Apache-2.0
 *
 * Whiteouts (OCI image-spec, layer.md "Whiteouts"), turned into what overlayfs reads in an
 * upper layer: a character device 0/0 for a deleted name, the xattr trusted.overlay.opaque=y
 * for a directory whose lower content is gone. The rules for a name this layer also holds
 * are in unpack.h. Setting trusted.* xattrs and making device nodes need CAP_SYS_ADMIN and
 * CAP_MKNOD: the supervisor runs as root.
 */
#include "supervisor/unpack/unpack-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"

#define WH_PREFIX      ".wh."
#define WH_META_PREFIX ".wh..wh."
#define WH_OPAQUE      ".wh..wh..opq"

#define OVERLAY_OPAQUE "trusted.overlay.opaque"

bool
unpack_is_whiteout(const struct stat *st)
{
    return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

int
unpack_set_opaque(int fd, const char *rel, struct berth_err *err)
{
    if (fsetxattr(fd, OVERLAY_OPAQUE, "y", 1, 0) < 0)
        return berth_err_set(err, errno, "mark `%.*s%s` opaque", UNPACK_SHOW(*rel ? rel : "/"));
    return 0;
}

/* `.wh.NAME` in the directory dfd: see unpack.h. */
static int
whiteout_name(int dfd, const char *name, const char *rel, struct berth_err *err)
{
    struct stat st;

    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (!S_ISDIR(st.st_mode)) /* this layer's own file hides the lower one already */
            return 0;
        cleanup_close int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return berth_err_set(err, errno, "open `%.*s%s`", UNPACK_SHOW(rel));
        return unpack_set_opaque(fd, rel, err);
    }
    if (errno != ENOENT)
        return berth_err_set(err, errno, "stat `%.*s%s`", UNPACK_SHOW(rel));
    /* Mode 0, as overlayfs makes its own whiteouts. */
    if (mknodat(dfd, name, S_IFCHR, makedev(0, 0)) < 0)
        return berth_err_set(err, errno, "make whiteout `%.*s%s`", UNPACK_SHOW(rel));
    return 0;
}

int
unpack_whiteout(struct unpack_ctx *c, const char *rel, struct berth_err *err)
{
    const char *slash = strrchr(rel, '/');
    const char *base = slash ? slash + 1 : rel;

    if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) != 0)
        return 0;

    int dfd = unpack_parent(c, rel, true, &base, err);
    if (dfd < 0)
        return -1;
    if (strcmp(base, WH_OPAQUE) == 0) {
        /* The parent was opened O_RDONLY|O_DIRECTORY: fsetxattr works on it. */
        cleanup_free char *dir = xstrndup(rel, slash ? (size_t)(slash - rel) : 0);
        if (slash == NULL)
            berth_debug("unpack: %s: opaque marker at the layer's root", c->target);
        return unpack_set_opaque(dfd, dir, err) < 0 ? -1 : 1;
    }
    if (strncmp(base, WH_META_PREFIX, strlen(WH_META_PREFIX)) == 0) {
        berth_debug("unpack: %s: skipping AUFS metadata `%s`", c->target, rel);
        return 1;
    }
    const char *name = base + strlen(WH_PREFIX);
    if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return berth_err_fail(err, EINVAL, "whiteout `%.*s%s` names no entry", UNPACK_SHOW(rel));
    cleanup_free char *target = xasprintf("%.*s%s", slash ? (int)(slash - rel + 1) : 0, rel, name);
    return whiteout_name(dfd, name, target, err) < 0 ? -1 : 1;
}
