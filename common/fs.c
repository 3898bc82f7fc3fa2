/* SPDX-License-Identifier: Apache-2.0
 *
 * Filesystem helpers (fs.h): mkdir -p, whole-file reads, crash-safe replacement of a file,
 * recursive removal that never follows a symlink, and resolution of a path inside a root
 * directory (a container's rootfs, an image layer) that cannot end up outside it.
 *
 * Resolution inside a root has two implementations with one contract. openat2(2) with
 * RESOLVE_IN_ROOT lets the kernel do it atomically (Linux 5.6+). Before that, walk() opens one
 * component at a time with O_NOFOLLOW relative to the directory fd already opened, reads each
 * symlink itself and restarts absolute targets at the root; ".." pops the stack of opened
 * directories, so it never goes through the kernel and cannot climb out of a directory that a
 * racing rename moved. A component swapped for a symlink between the readlink and the open makes
 * the open fail (O_NOFOLLOW), never escape.
 */
#include "common/fs.h"
#include "common/fs-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/* Linux's MAXSYMLINKS: the number of symlinks one resolution may follow. */
#define SYMLINK_HOPS_MAX 40

/* ---- Plain paths ------------------------------------------------------------------------- */

static int
mkdir_one(const char *path, mode_t mode, struct berth_err *err)
{
    struct stat st;

    if (mkdir(path, mode) == 0)
        return 0;
    if (errno != EEXIST)
        return berth_err_set(err, errno, "mkdir `%s`", path);
    /* Something is there: a directory (or a symlink to one, as mkdir -p accepts) is fine. */
    if (stat(path, &st) < 0)
        return berth_err_set(err, errno, "stat `%s`", path);
    if (!S_ISDIR(st.st_mode))
        return berth_err_set(err, ENOTDIR, "mkdir `%s`", path);
    return 0;
}

int
berth_fs_mkdir_p(const char *path, mode_t mode, struct berth_err *err)
{
    struct stat st;

    if (path == NULL || *path == '\0')
        return berth_err_set(err, EINVAL, "mkdir ``");
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;

    cleanup_free char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/' || s[-1] == '/')
            continue;
        *s = '\0';
        int r = mkdir_one(p, mode, err);
        *s = '/';
        if (r < 0)
            return -1;
    }
    return mkdir_one(p, mode, err);
}

int
berth_fs_read_file(const char *path, char **out, size_t *len, struct berth_err *err)
{
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    cleanup_free char *buf = NULL;
    struct stat st;
    size_t cap = 4096, n = 0;

    if (fd < 0)
        return berth_err_set(err, errno, "open `%s`", path);
    if (fstat(fd, &st) < 0)
        return berth_err_set(err, errno, "stat `%s`", path);
    /* st_size is a hint only: /proc and /sys files report 0 and files may grow meanwhile. */
    if (S_ISREG(st.st_mode) && st.st_size > 0)
        cap = (size_t)st.st_size + 1;
    buf = xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return berth_err_set(err, errno, "read `%s`", path);
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *out = steal_ptr(&buf);
    if (len)
        *len = n;
    return 0;
}

/* Write all of buf, finishing short writes and retrying EINTR; -1 with errno on failure. */
static int
write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* fsync the directory holding path, so that a rename into it survives a crash. */
static int
fsync_parent(const char *path, struct berth_err *err)
{
    cleanup_free char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');

    if (slash == NULL)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';

    cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return berth_err_set(err, errno, "open `%s`", dir);
    if (fsync(fd) < 0)
        return berth_err_set(err, errno, "fsync `%s`", dir);
    return 0;
}

int
berth_fs_write_atomic(const char *path, const void *buf, size_t len, mode_t mode,
                      struct berth_err *err)
{
    cleanup_free char *tmp = xasprintf("%s.tmp-XXXXXX", path);
    cleanup_close int fd = mkostemp(tmp, O_CLOEXEC);
    const char *what;

    if (fd < 0)
        return berth_err_set(err, errno, "create temporary file for `%s`", path);

    /* mkostemp creates 0600; fchmod sets the exact mode, whatever the umask. */
    if (write_all(fd, buf, len) < 0)
        what = "write";
    else if (fchmod(fd, mode) < 0)
        what = "chmod";
    else if (fsync(fd) < 0)
        what = "fsync";
    else if (close(steal_fd(&fd)) < 0)
        what = "close";
    else if (rename(tmp, path) < 0)
        what = "rename";
    else
        return fsync_parent(path, err);

    int saved = errno;
    unlink(tmp);
    return berth_err_set(err, saved, "%s `%s`", what, path);
}

/* ---- Recursive removal --------------------------------------------------------------------- */

/* Whether two directory fds are on the same mount: by mount id where the kernel reports it
 * (5.8+), which also tells bind mounts of one filesystem apart, else by device. */
static int
same_mount(int a, int b)
{
    struct statx sa, sb;

    if (statx(a, "", AT_EMPTY_PATH, STATX_MNT_ID, &sa) < 0 ||
        statx(b, "", AT_EMPTY_PATH, STATX_MNT_ID, &sb) < 0)
        return -errno;
    if ((sa.stx_mask & STATX_MNT_ID) && (sb.stx_mask & STATX_MNT_ID))
        return sa.stx_mnt_id == sb.stx_mnt_id;
    return sa.stx_dev_major == sb.stx_dev_major && sa.stx_dev_minor == sb.stx_dev_minor;
}

static int rm_children(int fd, const char *path, struct berth_err *err);

/* Remove the entry name of the directory dfd (path, for messages), a directory recursively.
 * A directory that is another mount is refused, not emptied: deleting through a bind mount
 * still in place would delete the host's files. A vanished entry is success. */
static int
rm_at(int dfd, const char *path, const char *name, unsigned char type, struct berth_err *err)
{
    cleanup_free char *sub = xasprintf("%s/%s", path, name);
    struct stat st;

    if (type == DT_UNKNOWN) {
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return errno == ENOENT ? 0 : berth_err_set(err, errno, "stat `%s`", sub);
        type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
    }
    if (type != DT_DIR) {
        if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
            return 0;
        if (errno != EISDIR) /* replaced by a directory meanwhile: remove that */
            return berth_err_set(err, errno, "remove `%s`", sub);
    }

    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : berth_err_set(err, errno, "open `%s`", sub);
    int same = same_mount(dfd, fd);
    if (same <= 0) {
        close(fd);
        return same < 0 ? berth_err_set(err, -same, "stat `%s`", sub)
                        : berth_err_set(err, EBUSY, "remove `%s`: mount point", sub);
    }
    if (rm_children(fd, sub, err) < 0)
        return -1;
    if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return berth_err_set(err, errno, "remove `%s`", sub);
    return 0;
}

/* Empty the directory fd (taken over and closed) at path. One fd is open per level. */
static int
rm_children(int fd, const char *path, struct berth_err *err)
{
    cleanup_dir DIR *d = fdopendir(fd);
    struct dirent *de;

    if (d == NULL) {
        int saved = errno;
        close(fd);
        return berth_err_set(err, saved, "open `%s`", path);
    }
    for (;;) {
        errno = 0;
        de = readdir(d);
        if (de == NULL)
            break;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (rm_at(dirfd(d), path, de->d_name, de->d_type, err) < 0)
            return -1;
    }
    if (errno != 0)
        return berth_err_set(err, errno, "read directory `%s`", path);
    return 0;
}

int
berth_fs_rm_rf(const char *path, struct berth_err *err)
{
    struct stat st;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : berth_err_set(err, errno, "stat `%s`", path);
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path) < 0 && errno != ENOENT)
            return berth_err_set(err, errno, "remove `%s`", path);
        return 0;
    }

    /* O_NOFOLLOW: if path became a symlink since the lstat, fail rather than empty its target. */
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : berth_err_set(err, errno, "open `%s`", path);
    if (rm_children(fd, path, err) < 0)
        return -1;
    if (rmdir(path) < 0 && errno != ENOENT)
        return berth_err_set(err, errno, "remove `%s`", path);
    return 0;
}

/* ---- Resolution inside a root -------------------------------------------------------------- */

/* The stack of directories opened by walk(); the root itself is below it and not owned. */
struct dir_stack {
    int *fds;
    size_t n_fds;
    size_t cap;
};

static void
dir_stack_pop(struct dir_stack *s)
{
    if (s->n_fds > 0)
        close(s->fds[--s->n_fds]);
}

static void
dir_stack_free(struct dir_stack *s)
{
    while (s->n_fds > 0)
        dir_stack_pop(s);
    free(s->fds);
}

static void
dir_stack_push(struct dir_stack *s, int fd)
{
    if (s->n_fds == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->fds = xrealloc(s->fds, s->cap * sizeof(*s->fds));
    }
    s->fds[s->n_fds++] = fd;
}

/* readlinkat into a new string; NULL with errno set on failure (EINVAL: not a symlink). */
static char *
read_link(int dfd, const char *name)
{
    size_t size = 256;

    for (;;) {
        cleanup_free char *buf = xmalloc(size);
        ssize_t n = readlinkat(dfd, name, buf, size);
        if (n < 0)
            return NULL;
        if ((size_t)n < size) {
            buf[n] = '\0';
            return steal_ptr(&buf);
        }
        size *= 2;
    }
}

/* Take the next component of *rest into name (NUL-terminating it in place) and advance *rest.
 * Returns false when no components are left. *last tells whether this is the final one. */
static bool
next_component(char **rest, char **name, bool *last)
{
    char *p = *rest;

    while (*p == '/')
        p++;
    if (*p == '\0')
        return false;
    *name = p;
    p += strcspn(p, "/");
    if (*p == '/')
        *p++ = '\0';
    *rest = p;
    *last = p[strspn(p, "/")] == '\0';
    return true;
}

/* The fallback resolver; returns the fd or -errno. See the file comment. */
static int
walk(int rootfd, const char *rel, int flags, mode_t mode)
{
    __attribute__((cleanup(dir_stack_free))) struct dir_stack stack = {0};
    cleanup_free char *todo = xstrdup(rel);
    char *rest = todo, *name = NULL;
    bool last = false;
    int hops = 0;
    /* Whether a symlink in the last component is followed: not with O_NOFOLLOW, and not with
     * O_CREAT|O_EXCL, which fails on any existing name as open(2) does. */
    bool follow_last = !(flags & O_NOFOLLOW) && (flags & (O_CREAT | O_EXCL)) != (O_CREAT | O_EXCL);

    while (next_component(&rest, &name, &last)) {
        int cur = stack.n_fds ? stack.fds[stack.n_fds - 1] : rootfd;

        if (strcmp(name, ".") == 0)
            continue;
        if (strcmp(name, "..") == 0) {
            dir_stack_pop(&stack); /* at the root, ".." is the root */
            continue;
        }
        if (!last || follow_last) {
            cleanup_free char *target = read_link(cur, name);
            if (target == NULL && errno != EINVAL && errno != ENOENT)
                return -errno;
            if (target != NULL) {
                if (++hops > SYMLINK_HOPS_MAX)
                    return -ELOOP;
                if (*target == '\0')
                    return -ENOENT;
                if (*target == '/')
                    while (stack.n_fds > 0)
                        dir_stack_pop(&stack);
                char *next = xasprintf("%s/%s", target, rest);
                free(todo);
                todo = rest = next;
                continue;
            }
        }
        if (!last) {
            int fd = openat(cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0)
                return -errno;
            dir_stack_push(&stack, fd);
            continue;
        }
        int fd = openat(cur, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
            return -errno;
        /* O_PATH|O_NOFOLLOW opens a symlink itself: only right if the caller asked for that;
         * otherwise one was swapped in after the readlink. */
        struct stat st;
        if (follow_last && (flags & O_PATH) && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
            close(fd);
            return -ELOOP;
        }
        return fd;
    }
    /* rel named the root or a directory on the stack ("", "/", "a/.."). */
    int fd =
        openat(stack.n_fds ? stack.fds[stack.n_fds - 1] : rootfd, ".", flags | O_CLOEXEC, mode);
    return fd < 0 ? -errno : fd;
}

/* openat2 with RESOLVE_IN_ROOT; returns the fd or -errno (-ENOSYS on kernels before 5.6). */
static int
open_in_root_openat2(int rootfd, const char *rel, int flags, mode_t mode)
{
    struct open_how how = {
        .flags = (uint64_t)(unsigned)(flags | O_CLOEXEC),
        /* openat2, unlike openat, refuses a mode without O_CREAT or O_TMPFILE. */
        .mode = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? mode : 0,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };

    /* EAGAIN: a rename raced the resolution of ".."; the kernel asks us to retry. */
    for (int i = 0; i < 16; i++) {
        int fd = (int)syscall(SYS_openat2, rootfd, *rel ? rel : ".", &how, sizeof(how));
        if (fd >= 0)
            return fd;
        if (errno != EAGAIN && errno != EINTR)
            return -errno;
    }
    return -EAGAIN;
}

static int
open_in_root(int rootfd, const char *rel, int flags, mode_t mode)
{
    int fd = open_in_root_openat2(rootfd, rel, flags, mode);

    /* E2BIG: a kernel that knows openat2 but not this struct open_how. */
    if (fd == -ENOSYS || fd == -E2BIG)
        fd = walk(rootfd, rel, flags, mode);
    return fd;
}

int
berth_fs_open_in_root(int rootfd, const char *rel, int flags, mode_t mode, struct berth_err *err)
{
    int fd = open_in_root(rootfd, rel, flags, mode);

    if (fd < 0)
        return berth_err_set(err, -fd, "open `%s` in root", rel);
    return fd;
}

int
berth_fs_open_in_root_walk(int rootfd, const char *rel, int flags, mode_t mode,
                           struct berth_err *err)
{
    int fd = walk(rootfd, rel, flags, mode);

    if (fd < 0)
        return berth_err_set(err, -fd, "open `%s` in root", rel);
    return fd;
}

/* mkdir_in_root proper; depth counts the dangling symlinks rewritten so far. */
static int
mkdir_in_root(int rootfd, const char *rel, bool file, int depth, struct berth_err *err)
{
    cleanup_free char *todo = xstrdup(rel);
    cleanup_free char *prefix = xzalloc(strlen(rel) + 2);
    size_t prefix_len = 0;
    char *rest = todo, *name = NULL;
    bool last = false;
    struct stat st;

    if (depth > 40)
        return berth_err_set(err, ELOOP, "mkdir `%s` in root", rel);
    cleanup_close int parent = open_in_root(rootfd, "/", O_PATH | O_DIRECTORY, 0);
    if (parent < 0)
        return berth_err_set(err, -parent, "open root");

    /* Each step resolves the prefix so far safely; only a missing name is created, with
     * mkdirat in the directory the previous step opened, and is then resolved again, so a
     * symlink raced into its place is followed inside the root or refused. */
    while (next_component(&rest, &name, &last)) {
        int oflags = last && file ? O_PATH : O_PATH | O_DIRECTORY;
        size_t parent_len = prefix_len;
        prefix_len += (size_t)sprintf(prefix + prefix_len, "/%s", name);

        int fd = open_in_root(rootfd, prefix, oflags, 0);
        if (fd == -ENOENT && fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISLNK(st.st_mode)) {
            /* A dangling symlink: create its target instead, inside the root, as if the path
             * had named it (relative targets are relative to the link's directory). */
            cleanup_free char *target = read_link(parent, name);
            if (target == NULL)
                return berth_err_set(err, errno, "readlink `%s` in root", prefix);
            prefix[parent_len] = '\0';
            cleanup_free char *next = target[0] == '/'
                                          ? xasprintf("%s/%s", target, rest)
                                          : xasprintf("%s/%s/%s", prefix, target, rest);
            return mkdir_in_root(rootfd, next, file, depth + 1, err);
        }
        if (fd == -ENOENT && strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
            if (last && file) {
                int tfd =
                    openat(parent, name,
                           O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0644);
                if (tfd < 0 && errno != EEXIST)
                    return berth_err_set(err, errno, "create `%s` in root", prefix);
                if (tfd >= 0)
                    close(tfd);
            } else if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST) {
                return berth_err_set(err, errno, "mkdir `%s` in root", prefix);
            }
            fd = open_in_root(rootfd, prefix, oflags, 0);
        }
        if (fd < 0)
            return berth_err_set(err, -fd, "%s `%s` in root", last && file ? "create" : "mkdir",
                                 prefix);
        close(parent);
        parent = fd;
    }
    if (file) {
        if (fstat(parent, &st) < 0)
            return berth_err_set(err, errno, "stat `%s` in root", rel);
        if (S_ISDIR(st.st_mode))
            return berth_err_set(err, EISDIR, "create `%s` in root", rel);
    }
    return steal_fd(&parent);
}

int
berth_fs_mkdir_in_root(int rootfd, const char *rel, bool file, struct berth_err *err)
{
    return mkdir_in_root(rootfd, rel, file, 0, err);
}

/* The path an fd refers to, from /proc/self/fd; NULL with errno on failure. */
static char *
fd_path(int fd)
{
    char link[64];

    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    return read_link(AT_FDCWD, link);
}

char *
berth_fs_join_in_root(const char *root, const char *rel, struct berth_err *err)
{
    cleanup_close int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        berth_err_set(err, errno, "open `%s`", root);
        return NULL;
    }
    cleanup_close int fd = open_in_root(rootfd, rel, O_PATH, 0);
    if (fd < 0) {
        berth_err_set(err, -fd, "resolve `%s` in `%s`", rel, root);
        return NULL;
    }
    char *path = fd_path(fd);
    if (path == NULL)
        berth_err_set(err, errno, "read path of `%s` in `%s`", rel, root);
    return path;
}

/* ---- Lexical paths ------------------------------------------------------------------------- */

char *
berth_fs_clean(const char *path)
{
    /* Go's path.Clean: out is written at w while path is read at r; ".." backs w up to the
     * previous '/', but never below dotdot (the root, or leading ".."s of a relative path). */
    size_t n = strlen(path), r = 0, w = 0, dotdot = 0;
    bool rooted = n > 0 && path[0] == '/';
    char *out = xmalloc(n + 2);

    if (rooted) {
        out[w++] = '/';
        r = dotdot = 1;
    }
    while (r < n) {
        if (path[r] == '/') {
            r++;
        } else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/')) {
            r++;
        } else if (path[r] == '.' && path[r + 1] == '.' && (r + 2 == n || path[r + 2] == '/')) {
            r += 2;
            if (w > dotdot) {
                w--;
                while (w > dotdot && out[w] != '/')
                    w--;
            } else if (!rooted) {
                if (w > 0)
                    out[w++] = '/';
                out[w++] = '.';
                out[w++] = '.';
                dotdot = w;
            }
        } else {
            if ((rooted && w != 1) || (!rooted && w != 0))
                out[w++] = '/';
            while (r < n && path[r] != '/')
                out[w++] = path[r++];
        }
    }
    if (w == 0)
        out[w++] = '.';
    out[w] = '\0';
    return out;
}

bool
berth_fs_exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}
