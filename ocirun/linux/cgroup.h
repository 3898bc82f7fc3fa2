/* SPDX-License-Identifier: Apache-2.0
 *
 * Placing a container in cgroups and taking it out again, on cgroup v1, v2 and the hybrid
 * layout (v1 controllers plus a cgroup2 mount at /sys/fs/cgroup/unified). A container gets one
 * directory per mounted hierarchy; their absolute paths are kept in its state so that later
 * invocations (kill --all, delete) find them without re-deriving anything.
 *
 * linux.cgroupsPath follows runc's cgroupfs driver: an absolute path is relative to each
 * hierarchy's root, a relative one to the caller's own cgroup in that hierarchy, and no path
 * means "<caller's cgroup>/<container id>".
 */
#ifndef BERTH_OCIRUN_LINUX_CGROUP_H
#define BERTH_OCIRUN_LINUX_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct berth_err;

enum ocirun_cgroup_mode {
    OCIRUN_CGROUP_V1 = 1,
    OCIRUN_CGROUP_V2,
    OCIRUN_CGROUP_HYBRID,
};

/* What this host has, from /sys/fs/cgroup. */
int ocirun_cgroup_mode(struct berth_err *err);

/* Resolve the container's directories for cgroups_path (may be NULL) and id, create them and
 * move pid into each. On success *paths is a new NULL-terminated vector of absolute dirs
 * (caller frees). On failure *paths holds the directories made so far, which pid may be in:
 * the caller kills pid and removes them with ocirun_cgroup_destroy. best_effort (a
 * rootless container that asked for nothing in particular) skips hierarchies the caller may
 * not write to instead of failing, as runc does. Resources r (may be NULL) are written into
 * each directory before the pid joins it. */
struct ocirun_resources;
int ocirun_cgroup_enter(const char *cgroups_path, const char *id, pid_t pid, bool best_effort,
                        const struct ocirun_resources *r, char ***paths, struct berth_err *err);

/* Write resources r into the container's directories, each through its hierarchy's backend.
 * Used by update; create applies them in ocirun_cgroup_enter. */
int ocirun_cgroup_apply(char *const *paths, const struct ocirun_resources *r,
                        struct berth_err *err);

/* Freeze (pause) or thaw (resume) the container: v1 freezer.state, v2 cgroup.freeze; waits
 * until the kernel reports the state reached. */
int ocirun_cgroup_freeze(char *const *paths, bool frozen, struct berth_err *err);

/* The pids in the container's cgroup (from the first path). *pids is a new array. */
int ocirun_cgroup_pids(char *const *paths, pid_t **pids, size_t *n_pids, struct berth_err *err);

/* Send sig to every process in the cgroup. With SIGKILL it loops until the cgroup is empty,
 * since processes may fork while being killed (the freezer would stop that race on v1; this
 * stays simple and bounded: 100 rounds). */
int ocirun_cgroup_kill_all(char *const *paths, int sig, struct berth_err *err);

/* Remove the container's directories (deepest first). Kills leftover processes first.
 * Missing directories are not an error. */
int ocirun_cgroup_destroy(char *const *paths, struct berth_err *err);

/* The cgroups the calling process is in, one per mounted hierarchy: what a container's
 * "cgroup" mount shows. name is the directory name to use under /sys/fs/cgroup ("memory",
 * "cpu,cpuacct", "systemd", "unified"); dir the absolute host directory. */
struct ocirun_cgroup_self {
    char *name;
    char *controllers; /* mount data for a fresh v1 mount ("memory", "none,name=systemd") */
    char *dir;
    bool v2;
};
int ocirun_cgroup_self(struct ocirun_cgroup_self **out, size_t *n, struct berth_err *err);
void ocirun_cgroup_self_free(struct ocirun_cgroup_self *s, size_t n);

#endif
