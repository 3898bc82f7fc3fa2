/* SPDX-License-Identifier: Apache-2.0
 *
 * What the files of supervisor/unpack share: the state of one apply (apply.c drives it), the
 * resolution of entry names inside the target (path.c), the making of each kind of entry
 * (entry.c) and whiteouts (whiteout.c).
 */
#ifndef BERTH_SUPERVISOR_UNPACK_UNPACK_INTERNAL_H
#define BERTH_SUPERVISOR_UNPACK_UNPACK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

struct archive;
struct archive_entry;
struct berth_err;

/* A directory whose times are set once the whole layer is in (its entries change them). */
struct unpack_dir_times {
    char *rel;
    struct timespec ts[2]; /* atime, mtime, as utimensat takes them */
};

struct unpack_ctx {
    const char *target; /* for messages */
    int rootfd;         /* the target, O_RDONLY|O_DIRECTORY */
    int *parent_fds;    /* lower layers (O_PATH), nearest first */
    size_t n_parents;
    struct archive *ar; /* the tar reader, for file data */
    /* The directory of the last entry, kept open: entries come grouped by directory. */
    char *cached_rel;
    int cached_fd;
    struct unpack_dir_times *dirs;
    size_t n_dirs, cap_dirs;
};

/* Names in messages: at most this many bytes, then "...". */
#define UNPACK_NAME_SHOWN 128
#define UNPACK_SHOW(name) UNPACK_NAME_SHOWN, (name), strlen(name) > UNPACK_NAME_SHOWN ? "..." : ""
/* Use as "`%.*s%s`" with UNPACK_SHOW(name). */

/* ---- path.c */

/* Clean an entry name (raw, from the tar) into *out (heap): "." components and repeated or
 * trailing '/' dropped; "" for the root. EINVAL for an absolute name, a ".." component, a
 * component over NAME_MAX or a name of PATH_MAX bytes or more. what: "name", "link target". */
int unpack_clean_name(const char *raw, const char *what, char **out, struct berth_err *err);

/* The directory holding rel (cleaned, not ""), and its last component in *base (pointing
 * into rel). The fd belongs to ctx: valid until the next call, never closed by the caller.
 * Components are opened one at a time with O_NOFOLLOW: a symlink or other non-directory on
 * the way is EINVAL. With create, missing directories are made (mode and owner from the
 * lower layers, else 0755 root) and a whiteout on the way becomes an opaque directory;
 * without, a missing one is ENOENT. */
int unpack_parent(struct unpack_ctx *c, const char *rel, bool create, const char **base,
                  struct berth_err *err);

/* Forget the cached directory (after removing a directory, which may have held it). */
void unpack_forget_parent(struct unpack_ctx *c);

/* rm -rf of name in dfd, never following symlinks; forgets the cached directory. */
int unpack_remove_at(struct unpack_ctx *c, int dfd, const char *name, struct berth_err *err);

/* ---- whiteout.c */

/* Whether st is an overlay whiteout (a character device 0/0). */
bool unpack_is_whiteout(const struct stat *st);

/* Mark the directory fd opaque (trusted.overlay.opaque=y). rel for messages. */
int unpack_set_opaque(int fd, const char *rel, struct berth_err *err);

/* If rel's last component is a whiteout name (`.wh.*`), apply it and return 1; 0 when rel is
 * an ordinary entry; -1 with err on failure. */
int unpack_whiteout(struct unpack_ctx *c, const char *rel, struct berth_err *err);

/* ---- entry.c */

/* Make the entry e (its name cleaned into rel, not "") in the target, reading its data from
 * c->ar. */
int unpack_entry(struct unpack_ctx *c, struct archive_entry *e, const char *rel,
                 struct berth_err *err);

/* Set the times of every directory the layer listed, now that its content is in. */
int unpack_finish_dirs(struct unpack_ctx *c, struct berth_err *err);

#endif
