/* SPDX-License-Identifier: Apache-2.0
 *
 * Network namespaces that outlive their processes: one per container, made before its task
 * and bind-mounted on a file (<state>/netns/<id>), which the OCI spec names as the container's
 * network namespace and CNI plugins enter by path. It is removed (unmounted and unlinked) when
 * the container stops; a berthd that crashed finds it there and removes it at its start.
 */
#ifndef BERTH_ENGINE_NETWORK_NETNS_H
#define BERTH_ENGINE_NETWORK_NETNS_H

#include <stdbool.h>

struct berth_err;

/* Make dir (<state>/netns). It stays a plain directory, not a mount point of its own as
 * `ip netns` makes /run/netns: the namespaces must stay mounted across berthd's restarts, and
 * the copies a container's mount namespace takes at its creation go at its pivot_root (the
 * runtime detaches the old root), so none holds a namespace after its unmount here. */
int eng_netns_prepare_dir(const char *dir, struct berth_err *err);

/* A new network namespace bind-mounted at path (which must not exist). Nothing is left
 * behind on failure. */
int eng_netns_create(const char *path, struct berth_err *err);

/* Whether path is a mounted network namespace (not the bare file left when the mount went:
 * a reboot, a lazy unmount by someone else). */
bool eng_netns_is_mounted(const char *path);

/* Unmount and remove path; a missing one is not an error. */
int eng_netns_remove(const char *path, struct berth_err *err);

#endif
