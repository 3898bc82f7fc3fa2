/* SPDX-License-Identifier: Apache-2.0
 *
 * linux.resources: parsed and checked once (create, or `update` from flags / -r FILE), then
 * written into the container's cgroup directories by the backend of each hierarchy
 * (cgroup-v1.c, cgroup-v2.c). Every field is optional; has_* tells what was given, so that
 * `update` changes only what it names.
 */
#ifndef BERTH_OCIRUN_LINUX_RESOURCES_H
#define BERTH_OCIRUN_LINUX_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct berth_err;
struct json_object;

struct ocirun_device_rule {
    bool allow;
    char type;      /* 'a', 'c', 'b' */
    int64_t major;  /* -1: any */
    int64_t minor;  /* -1: any */
    char access[4]; /* subset of "rwm" */
};

struct ocirun_throttle {
    int64_t major, minor;
    uint64_t rate;
};

struct ocirun_weight_device {
    int64_t major, minor;
    bool has_weight, has_leaf_weight;
    uint16_t weight, leaf_weight;
};

struct ocirun_hugepage_limit {
    char *page_size; /* "2MB", "1GB" */
    uint64_t limit;
};

struct ocirun_net_prio {
    char *name;
    uint32_t priority;
};

struct ocirun_resources {
    /* memory; -1 for limit/swap means unlimited */
    bool has_mem_limit, has_mem_reservation, has_mem_swap, has_mem_kernel, has_mem_kernel_tcp,
        has_mem_swappiness, has_disable_oom_killer, has_use_hierarchy, has_check_before_update;
    int64_t mem_limit, mem_reservation, mem_swap, mem_kernel, mem_kernel_tcp;
    uint64_t mem_swappiness;
    bool disable_oom_killer, use_hierarchy, check_before_update;
    /* cpu */
    bool has_cpu_shares, has_cpu_quota, has_cpu_burst, has_cpu_period, has_cpu_rt_runtime,
        has_cpu_rt_period, has_cpu_idle;
    uint64_t cpu_shares, cpu_period, cpu_rt_period, cpu_burst;
    int64_t cpu_quota, cpu_rt_runtime, cpu_idle;
    char *cpus, *mems; /* cpuset; NULL: not given */
    /* pids; -1 or 0 means unlimited (as runc) */
    bool has_pids_limit;
    int64_t pids_limit;
    /* blockIO */
    bool has_blkio_weight, has_blkio_leaf_weight;
    uint16_t blkio_weight, blkio_leaf_weight;
    struct ocirun_weight_device *weight_devices;
    size_t n_weight_devices;
    struct ocirun_throttle *throttle_read_bps, *throttle_write_bps, *throttle_read_iops,
        *throttle_write_iops;
    size_t n_throttle_read_bps, n_throttle_write_bps, n_throttle_read_iops, n_throttle_write_iops;
    /* hugetlb */
    struct ocirun_hugepage_limit *hugepage_limits;
    size_t n_hugepage_limits;
    /* network (v1 net_cls / net_prio) */
    bool has_net_class_id;
    uint32_t net_class_id;
    struct ocirun_net_prio *net_priorities;
    size_t n_net_priorities;
    /* devices, in order */
    struct ocirun_device_rule *devices;
    size_t n_devices;
    bool has_devices;
    /* unified: v2 file -> value (NULL-terminated pairs: key, value, key, value, ..., NULL) */
    char **unified;
};

/* Parse a linux.resources object (obj may be NULL: nothing given). Wrong types, negative
 * values where the kernel takes none, unknown device types or access letters, and unified keys
 * with '/' or ".." are errors naming the field. */
int ocirun_resources_parse(struct json_object *obj, struct ocirun_resources *out,
                           struct berth_err *err);
void ocirun_resources_free(struct ocirun_resources *r);

/* True when r asks for anything at all. */
bool ocirun_resources_any(const struct ocirun_resources *r);

#endif
