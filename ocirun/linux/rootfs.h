/* SPDX-License-Identifier: Apache-2.0
 *
 * The container's root filesystem, built in the child's new mount namespace:
 *
 *   1. make / a slave (or what rootfsPropagation says) so nothing propagates to the host
 *   2. bind the rootfs onto itself (pivot_root needs a mount point)
 *   3. config.json mounts, in order (mounts.c)
 *   4. devices and /dev symlinks (devices.c)
 *   5. pivot_root into it and detach the old root (or, with --no-pivot, move + chroot)
 *   6. rootfsPropagation on the new /
 *   7. maskedPaths, readonlyPaths
 *   8. root.readonly: remount / read-only
 */
#ifndef BERTH_OCIRUN_LINUX_ROOTFS_H
#define BERTH_OCIRUN_LINUX_ROOTFS_H

#include <stdbool.h>

struct berth_err;
struct ocirun_spec;

/* Steps 1-4 (before the process setup that still needs host paths). */
/* idmap_fds: the trees of the idmap mounts, in config order (linux/idmap.h); may be NULL
 * when there are none. */
int ocirun_rootfs_prepare(const struct ocirun_spec *spec, const int *idmap_fds,
                          struct berth_err *err);

/* Without a mount namespace: sysctls, then chroot into the rootfs (and the cwd made). */
int ocirun_rootfs_chroot(const struct ocirun_spec *spec, struct berth_err *err);

/* Steps 5-8. */
int ocirun_rootfs_enter(const struct ocirun_spec *spec, bool no_pivot, struct berth_err *err);

#endif
