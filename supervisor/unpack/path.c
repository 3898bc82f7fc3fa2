/* SPDX-License-Identifier: Apache-2.0
 *
 * Entry names and where they land (unpack-internal.h). A name is cleaned and checked once,
 * then resolved inside the target one component at a time: each directory is opened relative
 * to the one before with O_NOFOLLOW|O_DIRECTORY, so neither "..", nor an absolute path, nor a
 * symlink (whether the layer planted it or not) can take a write outside. The target is an
 * upper dir that starts empty, so every symlink in it comes from this very layer, and a layer
 * never needs to write below one of its own symlinks: such entries are refused, not followed.
 *
 * Directories the layer writes into without listing them are made on the way; they take the
 * mode and owner the lower layers give that path (an entry `tmp/x` must not turn a lower
 * 1777 /tmp into 0755 in the merged view), read with berth_fs_open_in_root so lower-layer
 * symlinks are followed inside their own root only.
 */
#include "supervisor/unpack/unpack-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"

int
unpack_clean_name(const char *raw, const char *what, char **out, struct berth_err *err)
{
    if (raw == NULL || *raw == '\0')
        return berth_err_fail(err, EINVAL, "empty %s", what);
    if (strlen(raw) >= PATH_MAX)
        return berth_err_fail(err, EINVAL, "%s `%.*s%s` is %zu bytes, over %d", what,
                              UNPACK_SHOW(raw), strlen(raw), PATH_MAX - 1);
    if (raw[0] == '/')
        return berth_err_fail(err, EINVAL, "%s `%.*s%s` is absolute: refused", what,
                              UNPACK_SHOW(raw));

    char *clean = xzalloc(strlen(raw) + 1);
    size_t w = 0;
    for (const char *p = raw; *p;) {
        size_t len = strcspn(p, "/");
        if (len == 2 && p[0] == '.' && p[1] == '.') {
            free(clean);
            return berth_err_fail(err, EINVAL, "%s `%.*s%s` has a `..` component: refused", what,
                                  UNPACK_SHOW(raw));
        }
        if (len > NAME_MAX) {
            free(clean);
            return berth_err_fail(err, EINVAL, "%s `%.*s%s` has a component over %d bytes", what,
                                  UNPACK_SHOW(raw), NAME_MAX);
        }
        if (len > 0 && !(len == 1 && p[0] == '.')) {
            if (w > 0)
                clean[w++] = '/';
            memcpy(clean + w, p, len);
            w += len;
        }
        p += len;
        p += strspn(p, "/");
    }
    clean[w] = '\0';
    *out = clean;
    return 0;
}

void
unpack_forget_parent(struct unpack_ctx *c)
{
    free(c->cached_rel);
    c->cached_rel = NULL;
    if (c->cached_fd >= 0)
        close(c->cached_fd);
    c->cached_fd = -1;
}

/* Mode and owner for a directory the layer did not list: those of the same path in the
 * nearest lower layer that has it (a directory), else 0755 root. */
static void
implicit_dir_attrs(struct unpack_ctx *c, const char *rel, struct stat *out)
{
    out->st_mode = S_IFDIR | 0755;
    out->st_uid = 0;
    out->st_gid = 0;
    for (size_t i = 0; i < c->n_parents; i++) {
        struct berth_err err = BERTH_ERR_INIT;
        int fd = berth_fs_open_in_root(c->parent_fds[i], rel, O_PATH | O_NOFOLLOW, 0, &err);
        int code = err.code;
        berth_err_clear(&err);
        if (fd < 0 && (code == ENOENT || code == ENOTDIR))
            continue; /* not in this layer: look further down */
        struct stat st;
        bool found = fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
        if (fd >= 0)
            close(fd);
        if (found)
            *out = st;
        return; /* a whiteout, a file or an error hides what lies below */
    }
}

/* Make the directory name in dfd for the path prefix (rel up to it). opaque: it replaces a
 * whiteout of this layer. */
static int
make_dir(struct unpack_ctx *c, int dfd, const char *name, const char *prefix, bool opaque,
         struct berth_err *err)
{
    struct stat want;

    implicit_dir_attrs(c, prefix, &want);
    if (mkdirat(dfd, name, 0700) < 0 && errno != EEXIST)
        return berth_err_set(err, errno, "mkdir `%.*s%s`", UNPACK_SHOW(prefix));
    cleanup_close int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return berth_err_set(err, errno, "open `%.*s%s`", UNPACK_SHOW(prefix));
    if (fchown(fd, want.st_uid, want.st_gid) < 0 || fchmod(fd, want.st_mode & 07777) < 0)
        return berth_err_set(err, errno, "set owner and mode of `%.*s%s`", UNPACK_SHOW(prefix));
    return opaque ? unpack_set_opaque(fd, prefix, err) : 0;
}

/* Open component name of dfd as a directory (prefix: rel up to it, for messages and lower
 * lookups); see unpack_parent for create. Returns the fd or -1. */
static int
open_dir(struct unpack_ctx *c, int dfd, const char *name, const char *prefix, bool create,
         struct berth_err *err)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
            return fd;
        if (errno == ENOENT && !create)
            return berth_err_set(err, ENOENT, "`%.*s%s`", UNPACK_SHOW(prefix));
        if (errno == ENOENT) {
            if (make_dir(c, dfd, name, prefix, false, err) < 0)
                return -1;
            continue;
        }
        if (errno != ENOTDIR && errno != ELOOP)
            return berth_err_set(err, errno, "open `%.*s%s`", UNPACK_SHOW(prefix));
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return berth_err_set(err, errno, "stat `%.*s%s`", UNPACK_SHOW(prefix));
        if (S_ISLNK(st.st_mode))
            return berth_err_fail(err, EINVAL,
                                  "`%.*s%s` is a symlink of this layer: entries below it are "
                                  "refused",
                                  UNPACK_SHOW(prefix));
        if (!create || !unpack_is_whiteout(&st))
            return berth_err_fail(err, EINVAL, "`%.*s%s` is not a directory", UNPACK_SHOW(prefix));
        /* Deleted by this layer, then written into: a new directory hiding the old one. */
        if (unlinkat(dfd, name, 0) < 0)
            return berth_err_set(err, errno, "remove whiteout `%.*s%s`", UNPACK_SHOW(prefix));
        if (make_dir(c, dfd, name, prefix, true, err) < 0)
            return -1;
    }
    return berth_err_fail(err, EINVAL, "`%.*s%s` keeps changing", UNPACK_SHOW(prefix));
}

int
unpack_parent(struct unpack_ctx *c, const char *rel, bool create, const char **base,
              struct berth_err *err)
{
    const char *slash = strrchr(rel, '/');

    if (slash == NULL) {
        *base = rel;
        return c->rootfd;
    }
    *base = slash + 1;
    size_t dir_len = (size_t)(slash - rel);
    if (c->cached_rel && strlen(c->cached_rel) == dir_len &&
        strncmp(c->cached_rel, rel, dir_len) == 0)
        return c->cached_fd;

    cleanup_free char *dir = xstrndup(rel, dir_len);
    cleanup_close int cur = -1;
    for (char *p = dir;;) {
        char *end = strchr(p, '/');
        if (end)
            *end = '\0';
        /* dir up to and including this component, for messages and lower lookups */
        int fd = open_dir(c, cur >= 0 ? cur : c->rootfd, p, dir, create, err);
        if (end)
            *end = '/';
        if (fd < 0)
            return -1;
        if (cur >= 0)
            close(cur);
        cur = fd;
        if (end == NULL)
            break;
        p = end + 1;
    }
    unpack_forget_parent(c);
    c->cached_rel = steal_ptr(&dir);
    c->cached_fd = steal_fd(&cur);
    return c->cached_fd;
}

/* rm -rf below the directory fd (taken). */
static int
remove_children(struct unpack_ctx *c, int fd, struct berth_err *err)
{
    cleanup_dir DIR *d = fdopendir(fd);
    struct dirent *de;

    if (d == NULL) {
        int e = errno;
        close(fd);
        return berth_err_set(err, e, "read directory");
    }
    for (;;) {
        errno = 0;
        if ((de = readdir(d)) == NULL)
            break;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (unpack_remove_at(c, dirfd(d), de->d_name, err) < 0)
            return -1;
    }
    return errno ? berth_err_set(err, errno, "read directory") : 0;
}

int
unpack_remove_at(struct unpack_ctx *c, int dfd, const char *name, struct berth_err *err)
{
    if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
        return 0;
    if (errno != EISDIR)
        return berth_err_set(err, errno, "remove `%.*s%s`", UNPACK_SHOW(name));
    unpack_forget_parent(c);
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return berth_err_set(err, errno, "open `%.*s%s`", UNPACK_SHOW(name));
    if (remove_children(c, fd, err) < 0)
        return berth_err_wrap(err, "remove `%.*s%s`", UNPACK_SHOW(name));
    if (unlinkat(dfd, name, AT_REMOVEDIR) < 0)
        return berth_err_set(err, errno, "remove `%.*s%s`", UNPACK_SHOW(name));
    return 0;
}
