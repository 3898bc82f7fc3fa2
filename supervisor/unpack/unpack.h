/* SPDX-License-Identifier: Apache-2.0
 *
 * The layer unpacker: applies one image layer (a tar stream, gzip- or zstd-compressed or
 * not) to a directory that is the upper dir of an overlay snapshot, in one pass over the
 * blob, computing the layer's diffID (the sha256 of the uncompressed tar) as it goes.
 *
 * Whiteouts (OCI image-spec, "Whiteouts") become overlay's own markers, since the target is
 * an overlay upper layer:
 *   `.wh.NAME`      a character device 0/0 named NAME, hiding NAME of the lower layers. The
 *                   spec has a whiteout apply to lower layers only, so a NAME this layer
 *                   itself holds is kept: a file or link hides the lower one already, and a
 *                   directory is marked opaque (its lower content hidden, its own kept).
 *   `.wh..wh..opq`  the xattr trusted.overlay.opaque=y on its directory: the directory's
 *                   lower content is hidden. Nothing is deleted (the upper dir starts empty).
 *   `.wh..wh.*`     AUFS's own metadata (.wh..wh.plnk, ...): skipped.
 * A directory made where this layer left a whiteout is opaque too.
 *
 * What is kept of each entry: the numeric owner (names are ignored), the mode with setuid,
 * setgid and sticky bits, mtime and atime (directories' at the end, once their content is
 * in), xattrs (the ones the kernel refuses, such as user.* on a symlink, are skipped with a
 * debug line; trusted.overlay.* from the layer is always skipped, as only whiteouts may make
 * those), hard links, symlinks (their targets as written), device nodes and fifos. Sparse
 * files stay sparse. Sockets are skipped.
 *
 * Nothing is written outside the target:
 *   - names are cleaned of "." components, repeated and trailing '/'; an absolute name or
 *     one with a ".." component is refused (EINVAL), not rewritten: tools that make layers
 *     never write them, so one is a broken or hostile layer;
 *   - every path is resolved inside the target one component at a time, relative to the
 *     directory fd already opened and never following a symlink: an entry below a symlink
 *     (`a -> /etc`, then `a/passwd`) is refused, as the upper dir starts empty and only this
 *     layer could have made that symlink; missing parent directories are made (taking mode
 *     and owner from the nearest lower layer that has them, when parents are given);
 *   - a hard link's target must be an entry of this layer (the same rules, and it must
 *     exist): links to /etc/passwd, ../x or anything missing are refused;
 *   - names longer than PATH_MAX - 1 bytes or with a component longer than NAME_MAX are
 *     refused before anything is made for them.
 * An existing entry is replaced by the next one of the same name (a directory by a file,
 * with its content, or the reverse); a directory entry over a directory only updates its
 * metadata.
 *
 * Errors: EINVAL for a layer that breaks the rules above, is not a tar in a known
 * compression, has a diffID other than the expected one, or whose media type disagrees with
 * its content; ENOTSUP for an unknown media type; EIO when reading the blob fails; a failing
 * filesystem call keeps its errno (ENOSPC, EDQUOT, ...). err names the entry ("apply layer:
 * entry `usr/bin/x`: ..."). The target then holds whatever was applied up to the failure:
 * the caller must discard it (remove the snapshot).
 */
#ifndef BERTH_SUPERVISOR_UNPACK_UNPACK_H
#define BERTH_SUPERVISOR_UNPACK_UNPACK_H

#include <stddef.h>
#include <stdint.h>

struct berth_err;

struct sup_unpack_opts {
    /* The layer's media type (OCI or Docker: "...tar", "...tar+gzip", "...tar.gzip",
     * "...tar+zstd", "...tar.zstd"); NULL: detect the compression from the magic bytes. */
    const char *media_type;
    /* "sha256:<hex>" the uncompressed tar must hash to; NULL: do not check. */
    const char *expected_diff_id;
    /* The lower layers' directories, nearest first (sup_mounts_layer_dirs gives them), for
     * the mode and owner of parent directories the layer does not list; may be NULL. */
    const char *const *parents;
    size_t n_parents;
};

#define SUP_UNPACK_DIGEST_MAX 72 /* "sha256:" + 64 hex + NUL, rounded */

struct sup_unpack_stats {
    uint64_t size;                       /* bytes of the uncompressed tar stream */
    uint64_t entries;                    /* tar entries read, whiteouts included */
    char diff_id[SUP_UNPACK_DIGEST_MAX]; /* "sha256:<hex>" of the uncompressed stream */
};

/* Apply the layer read from fd (its current offset to EOF; not closed) to the directory
 * target, which should be empty (an overlay upper dir). opts may be NULL. stats (may be
 * NULL) is filled on success. Must run as root (device nodes, ownership, trusted.* xattrs).
 * See the file comment for what happens and what err holds. */
int sup_unpack_apply_fd(int fd, const char *target, const struct sup_unpack_opts *opts,
                        struct sup_unpack_stats *stats, struct berth_err *err);

/* The same for the blob at path. */
int sup_unpack_apply_file(const char *path, const char *target, const struct sup_unpack_opts *opts,
                          struct sup_unpack_stats *stats, struct berth_err *err);

#endif
