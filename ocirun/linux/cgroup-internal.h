/* SPDX-License-Identifier: Apache-2.0
 *
 * Shared between cgroup.c and its backends: a mounted hierarchy and the per-version ops.
 */
#ifndef BERTH_OCIRUN_LINUX_CGROUP_INTERNAL_H
#define BERTH_OCIRUN_LINUX_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct berth_err;
struct ocirun_resources;

struct cgroup_hierarchy {
    char *mount;       /* mount point, e.g. /sys/fs/cgroup/memory */
    char *root;        /* mountinfo root of the mount ("/" unless inside a container) */
    char *controllers; /* "cpu,cpuacct", "name=systemd", "" for cgroup2 */
    bool v2;
};

/* One backend per cgroup version. `prepare` runs on a freshly made directory before any pid
 * is moved in (v1 cpuset needs cpus and mems copied from its parent or attach fails; v2
 * enables the controllers in the ancestors' cgroup.subtree_control). `apply` writes the parts
 * of r that this hierarchy controls into dir (for v1, the controllers listed in
 * h->controllers; for v2 all of them), leaving out what r does not give; a value the kernel
 * refuses is an error naming the file and the value. */
struct cgroup_ops {
    const char *name;
    int (*prepare)(const struct cgroup_hierarchy *h, const char *dir, struct berth_err *err);
    int (*apply)(const struct cgroup_hierarchy *h, const char *dir,
                 const struct ocirun_resources *r, struct berth_err *err);
};

extern const struct cgroup_ops ocirun_cgroup_v1_ops;
extern const struct cgroup_ops ocirun_cgroup_v2_ops;

/* Write a string to dir/file (no O_CREAT: cgroup files exist or the kernel lacks them). */
int ocirun_cgroup_write(const char *dir, const char *file, const char *value,
                        struct berth_err *err);

/* Small file helpers shared by the backends (cgroup.c). read: the content, trailing blanks
 * and newlines removed, -1 with errno when unreadable. write_i64/u64: a number. read_u64:
 * a number, err naming the file when it is not one. exists: the file is there. */
int ocirun_cgroup_read(const char *dir, const char *file, char *buf, size_t len);
int ocirun_cgroup_write_i64(const char *dir, const char *file, int64_t v, struct berth_err *err);
int ocirun_cgroup_write_u64(const char *dir, const char *file, uint64_t v, struct berth_err *err);
int ocirun_cgroup_read_u64(const char *dir, const char *file, uint64_t *v, struct berth_err *err);
bool ocirun_cgroup_exists(const char *dir, const char *file);

/* True when the v1 hierarchy h carries controller name ("memory"); exact word match within
 * h->controllers ("cpu,cpuacct"). */
bool ocirun_cgroup_has_controller(const struct cgroup_hierarchy *h, const char *name);

#endif
