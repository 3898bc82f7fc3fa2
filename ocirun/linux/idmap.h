/* SPDX-License-Identifier: Apache-2.0
 *
 * Idmapped bind mounts (mount options "idmap" and "ridmap"). Idmapping a host filesystem
 * takes CAP_SYS_ADMIN in the initial user namespace, which the container's init may not have,
 * so ocirun builds each one in the parent, after the init exists and its id maps are written:
 * a detached copy of the source tree (open_tree), idmapped (mount_setattr MOUNT_ATTR_IDMAP)
 * with the mount's own uidMappings/gidMappings or, without them, the container's user
 * namespace. The init receives the tree's fd over the sync socket and move_mount()s it onto
 * the destination inside its rootfs.
 */
#ifndef BERTH_OCIRUN_LINUX_IDMAP_H
#define BERTH_OCIRUN_LINUX_IDMAP_H

#include <stdbool.h>
#include <sys/types.h>

struct berth_err;
struct ocirun_mount;
struct ocirun_spec;

/* Whether m asks for an idmapped mount; *recursive tells "ridmap". */
bool ocirun_idmap_wanted(const struct ocirun_mount *m, bool *recursive);

/* Parent: build the idmapped tree for m of spec, whose init is init_pid. Returns its fd. */
int ocirun_idmap_prepare(const struct ocirun_spec *spec, const struct ocirun_mount *m,
                         pid_t init_pid, struct berth_err *err);

/* Init: attach the tree onto the destination opened at target_fd. */
int ocirun_idmap_attach(int tree_fd, int target_fd, const char *dest, struct berth_err *err);

#endif
