/* SPDX-License-Identifier: Apache-2.0
 *
 * Mount descriptors and the functions that make and undo them. A descriptor is what a
 * snapshot hands out ({type, source, options}, as `mount -t TYPE -o OPTIONS SOURCE`); the
 * snapshotter builds them, the Snapshots service sends them as Mount messages, and whoever
 * needs the filesystem mounts them with sup_mount_all.
 */
#ifndef BERTH_SUPERVISOR_SNAPSHOT_MOUNT_H
#define BERTH_SUPERVISOR_SNAPSHOT_MOUNT_H

#include <stddef.h>

struct berth_err;

struct sup_mount {
    char *type;     /* "overlay", "bind" */
    char *source;   /* a directory for bind, "overlay" for overlay */
    char **options; /* n_options heap strings; the array is NULL-terminated too */
    size_t n_options;
};

/* A new descriptor in m (fields heap copies); options are given as a NULL-terminated list. */
void sup_mount_init(struct sup_mount *m, const char *type, const char *source,
                    const char *const *options);

/* Append one option to m. */
void sup_mount_add_option(struct sup_mount *m, const char *option);

/* Free the fields of n descriptors and the array itself. Safe with m NULL. */
void sup_mounts_free(struct sup_mount *m, size_t n);

/* Mount m[0], m[1], ... on target, in order (each on top of the last, as containerd's
 * mount.All). Options split in two: the names mount(8) knows as flags (ro, rw, nosuid,
 * nodev, noexec, bind, rbind, remount, *atime, sync, ...) and propagation (private, rslave,
 * ...) become mount(2) flags; every other option goes, comma-joined, into the data string.
 * A bind with flags other than bind/rbind is made, then remounted with them (the kernel
 * ignores flags on the first bind). Overlay mount data longer than a page (the limit of
 * mount(2)) is shortened: the lowerdir, upperdir and workdir paths are made relative to
 * their longest common directory, and the mount is done from a thread that unshared its
 * working directory (unshare(CLONE_FS)) and changed into it, so no other thread sees a
 * changed cwd. Data still too long gives E2BIG.
 *
 * On failure whatever this call mounted is unmounted again, and err names the mount that
 * failed ("mount overlay on `/x`: ..."). target must exist. */
int sup_mount_all(const struct sup_mount *m, size_t n, const char *target, struct berth_err *err);

/* Unmount everything mounted on target, topmost first, until target is no mount point (a
 * target that is no mount point or does not exist is success). Symlinks are not followed.
 * EBUSY and the like are returned as they come. */
int sup_unmount_all(const char *target, struct berth_err *err);

/* The directories of a writable snapshot's mounts, for writing a layer straight into it:
 * *upper is the directory written to (overlay's upperdir, or the source of a read-write
 * bind) and *lowers the overlay's lowerdirs, nearest first (*n_lowers may be 0). All heap;
 * free *upper, and *lowers with each string. Mounts that are not one overlay with an
 * upperdir or one read-write bind give EINVAL (a view, say). */
int sup_mounts_layer_dirs(const struct sup_mount *m, size_t n, char **upper, char ***lowers,
                          size_t *n_lowers, struct berth_err *err);

#endif
