/* SPDX-License-Identifier: Apache-2.0
 *
 * Namespaces: opening the ones to join (checked to be of the right type), the clone flags for
 * the new ones, uid/gid maps written by the parent, and joining in the child.
 */
#ifndef BERTH_OCIRUN_LINUX_NAMESPACES_H
#define BERTH_OCIRUN_LINUX_NAMESPACES_H

#include <sys/types.h>

#include "ocirun/spec.h"

struct berth_err;

/* Open every namespace path of the spec into fds[] (-1 where a new one is made). Each path
 * must be a namespace file of the type it is listed as. On failure nothing stays open. */
int ocirun_ns_open(const struct ocirun_spec *spec, int fds[OCIRUN_NS_COUNT], struct berth_err *err);
void ocirun_ns_close(int fds[OCIRUN_NS_COUNT]);

/* Clone flags for the namespaces created new at clone time. The cgroup namespace is left out
 * (the child unshares it once the parent has put it in its cgroup, so the namespace is rooted
 * there), as is time (unshared by the parent, see ocirun_ns_prepare_parent). When a user
 * namespace is joined, only the pid namespace is made by clone; the child unshares the rest
 * after joining, so they belong to the joined user namespace. */
int ocirun_ns_clone_flags(const struct ocirun_spec *spec);
/* What the child unshares itself after joining (see above). */
int ocirun_ns_unshare_flags(const struct ocirun_spec *spec);

/* In the parent, before clone: join the pid namespace given by path (setns on pid affects only
 * children), and make a new time namespace for children with the configured offsets. */
int ocirun_ns_prepare_parent(const struct ocirun_spec *spec, const int fds[OCIRUN_NS_COUNT],
                             struct berth_err *err);

/* Parent: write /proc/<pid>/uid_map and gid_map of the child. */
int ocirun_ns_write_maps(const struct ocirun_spec *spec, pid_t pid, struct berth_err *err);

/* Child: join every namespace opened in fds (user first), except pid and time. */
int ocirun_ns_join(const int fds[OCIRUN_NS_COUNT], struct berth_err *err);

#endif
