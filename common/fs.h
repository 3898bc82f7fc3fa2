/* SPDX-License-Identifier: Apache-2.0
 *
 * Filesystem helpers: mkdir -p, whole-file reads, crash-safe writes (temp file, fsync, rename,
 * fsync of the directory), recursive removal, and path resolution that cannot leave a root
 * (openat2 RESOLVE_IN_ROOT where the kernel has it, a component-by-component walk elsewhere).
 */
#ifndef BERTH_COMMON_FS_H
#define BERTH_COMMON_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct berth_err;

/* Create path and its missing parents with mode; an existing directory is success. */
int berth_fs_mkdir_p(const char *path, mode_t mode, struct berth_err *err);

/* Read a whole file into a new NUL-terminated buffer (*out, caller frees); *len may be NULL. */
int berth_fs_read_file(const char *path, char **out, size_t *len, struct berth_err *err);

/* Replace path with buf atomically: after a crash, readers see the old or the new content,
 * never a mix. Writes "<path>.tmp-XXXXXX" in the same directory, fsyncs, renames, fsyncs the
 * directory. Nothing is left behind on failure. The file gets exactly mode (no umask). */
int berth_fs_write_atomic(const char *path, const void *buf, size_t len, mode_t mode,
                          struct berth_err *err);

/* rm -rf path without following symlinks out of it; a missing path is success. A directory
 * below path that is another mount (a bind mount left in place) is not entered: the removal
 * stops with EBUSY rather than delete files outside the tree. */
int berth_fs_rm_rf(const char *path, struct berth_err *err);

/* Open rel inside the directory rootfd as if rootfd were "/": "..", absolute symlinks and
 * absolute rel all stay inside. flags/mode as openat (O_CREAT allowed for the last
 * component). Returns the new fd. Uses openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS) when the
 * kernel has it (5.6+), otherwise walks components with O_NOFOLLOW, resolving each symlink
 * against the root itself. The fd is always O_CLOEXEC. */
int berth_fs_open_in_root(int rootfd, const char *rel, int flags, mode_t mode,
                          struct berth_err *err);

/* Like berth_fs_open_in_root, but creates the missing directories of rel (mode 0755), and
 * returns an O_PATH|O_DIRECTORY fd of the last one. When `file` is true the last component is
 * created as an empty regular file instead (for bind-mounting a file onto it), fd O_PATH; an
 * existing non-directory is reused, an existing directory is EISDIR. A dangling symlink on the
 * way is ENOENT, a non-directory on the way ENOTDIR; err names the prefix that failed. */
int berth_fs_mkdir_in_root(int rootfd, const char *rel, bool file, struct berth_err *err);

/* Resolve rel inside root and return the resulting host path (heap, caller frees): what
 * berth_fs_open_in_root would open, as a string, via /proc/self/fd readlink. */
char *berth_fs_join_in_root(const char *root, const char *rel, struct berth_err *err);

/* A lexical clean of a path: collapses "//", "." and ".." (never above "/" for absolute
 * paths). Returns a heap string. */
char *berth_fs_clean(const char *path);

/* True when path exists (lstat). */
bool berth_fs_exists(const char *path);

#endif
