// SPDX-License-Identifier: Apache-2.0
//
// cgroup v1 backend: one directory per controller hierarchy. Only cpuset needs work before a
// task can join (prepare); apply writes linux.resources into the files of each controller the
// hierarchy carries, with runc's conversions and write orders (libcontainer/cgroups/fs).

#include "ocirun/linux/cgroup-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "ocirun/linux/resources.h"

/* A new cpuset cgroup starts with empty cpus and mems, and the kernel refuses tasks until
 * both are set; inherit them from the nearest ancestor that has them, filling the chain. */
static int
init_cpuset(const char *dir, struct berth_err *err)
{
    static const char *files[] = {"cpuset.cpus", "cpuset.mems"};
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        char buf[4096];
        if (ocirun_cgroup_read(dir, files[i], buf, sizeof(buf)) < 0)
            return 0; /* not a cpuset hierarchy after all */
        if (buf[0])
            continue;
        cleanup_free char *copy = xstrdup(dir);
        char *parent = dirname(copy);
        if (strcmp(parent, dir) == 0)
            return 0;
        if (init_cpuset(parent, err) < 0)
            return -1;
        if (ocirun_cgroup_read(parent, files[i], buf, sizeof(buf)) < 0)
            return berth_err_set(err, errno, "read `%s/%s`", parent, files[i]);
        if (ocirun_cgroup_write(dir, files[i], buf, err) < 0)
            return -1;
    }
    return 0;
}

/* ---- Resources ---------------------------------------------------------------------------- */
/* What runc does, file by file (libcontainer/cgroups/fs). A value of 0 where runc reads 0 as
 * "not set" (memory limits, cpu shares/period/quota/realtime, blkio weights) is not written,
 * so that a config generated for runc means the same here. */

/* memory.limit_in_bytes and memory.memsw.limit_in_bytes (memory + swap). The kernel keeps
 * limit <= memsw at every step, so the order depends on the direction, as runc's
 * setMemoryAndSwap: when the new memsw is above the current limit (raising), memsw goes first;
 * otherwise (lowering) the limit goes first. -1 is unlimited; a memory limit of -1 with no
 * swap given makes memsw unlimited too. */
static int
set_memory_and_swap(const char *dir, const struct ocirun_resources *r, struct berth_err *err)
{
    int64_t limit = r->has_mem_limit ? r->mem_limit : 0;
    int64_t swap = r->has_mem_swap ? r->mem_swap : 0;
    bool has_memsw = ocirun_cgroup_exists(dir, "memory.memsw.limit_in_bytes");
    if (limit == -1 && swap == 0 && has_memsw)
        swap = -1;
    if (swap != 0 && !has_memsw) {
        if (swap == -1) {
            berth_debug("cgroup: no memory.memsw.limit_in_bytes in `%s`: swap stays as it is", dir);
            swap = 0;
        } else {
            return berth_err_fail(err, ENOTSUP,
                                  "memory.swap: the kernel has no swap accounting "
                                  "(memory.memsw.limit_in_bytes; boot with swapaccount=1)");
        }
    }
    if (limit != 0 && swap != 0) {
        uint64_t cur = 0;
        if (ocirun_cgroup_read_u64(dir, "memory.limit_in_bytes", &cur, err) < 0)
            return -1;
        if (swap == -1 || cur < (uint64_t)swap) {
            if (ocirun_cgroup_write_i64(dir, "memory.memsw.limit_in_bytes", swap, err) < 0 ||
                ocirun_cgroup_write_i64(dir, "memory.limit_in_bytes", limit, err) < 0)
                return -1;
            return 0;
        }
    }
    if (limit != 0 && ocirun_cgroup_write_i64(dir, "memory.limit_in_bytes", limit, err) < 0)
        return -1;
    if (swap != 0 && ocirun_cgroup_write_i64(dir, "memory.memsw.limit_in_bytes", swap, err) < 0)
        return -1;
    return 0;
}

/* A knob the spec sets only "where present": kernel memory (kmem was made a no-op in 5.16 and
 * is gone from newer kernels' memcg v1). */
static int
write_if_present(const char *dir, const char *file, int64_t v, struct berth_err *err)
{
    if (!ocirun_cgroup_exists(dir, file)) {
        berth_debug("cgroup: no `%s` in `%s`: %lld not set", file, dir, (long long)v);
        return 0;
    }
    return ocirun_cgroup_write_i64(dir, file, v, err);
}

static int
apply_memory(const char *dir, const struct ocirun_resources *r, struct berth_err *err)
{
    if (set_memory_and_swap(dir, r, err) < 0)
        return -1;
    if (r->has_mem_reservation && r->mem_reservation != 0 &&
        ocirun_cgroup_write_i64(dir, "memory.soft_limit_in_bytes", r->mem_reservation, err) < 0)
        return -1;
    if (r->has_mem_kernel && r->mem_kernel != 0 &&
        write_if_present(dir, "memory.kmem.limit_in_bytes", r->mem_kernel, err) < 0)
        return -1;
    if (r->has_mem_kernel_tcp && r->mem_kernel_tcp != 0 &&
        write_if_present(dir, "memory.kmem.tcp.limit_in_bytes", r->mem_kernel_tcp, err) < 0)
        return -1;
    if (r->has_mem_swappiness &&
        ocirun_cgroup_write_u64(dir, "memory.swappiness", r->mem_swappiness, err) < 0)
        return -1;
    if (r->has_disable_oom_killer &&
        ocirun_cgroup_write(dir, "memory.oom_control", r->disable_oom_killer ? "1" : "0", err) < 0)
        return -1;
    /* Kernels since 5.x only take 1 (always hierarchical); 0 is refused with EINVAL. */
    if (r->has_use_hierarchy &&
        ocirun_cgroup_write(dir, "memory.use_hierarchy", r->use_hierarchy ? "1" : "0", err) < 0)
        return -1;
    return 0;
}

/* Write a value that depends on another one being written after it: a period the kernel
 * refuses with EINVAL against the old quota (old quota / new period above the parent's) is
 * retried once the quota is in, as runc does. Returns 1 when the write must be retried. */
static int
write_or_defer(const char *dir, const char *file, uint64_t v, bool other_follows,
               struct berth_err *err)
{
    struct berth_err e = BERTH_ERR_INIT;
    if (ocirun_cgroup_write_u64(dir, file, v, &e) == 0)
        return 0;
    bool retry = e.code == EINVAL && other_follows;
    if (!retry)
        berth_err_set(err, e.code, "%s", e.msg);
    berth_err_clear(&e);
    return retry ? 1 : -1;
}

static int
apply_cpu_rt(const char *dir, const struct ocirun_resources *r, struct berth_err *err)
{
    uint64_t period = r->has_cpu_rt_period ? r->cpu_rt_period : 0;
    int64_t runtime = r->has_cpu_rt_runtime ? r->cpu_rt_runtime : 0;
    int deferred = 0;
    if (period != 0 &&
        (deferred = write_or_defer(dir, "cpu.rt_period_us", period, runtime != 0, err)) < 0)
        return -1;
    if (runtime != 0) {
        if (ocirun_cgroup_write_i64(dir, "cpu.rt_runtime_us", runtime, err) < 0)
            return -1;
        if (deferred && ocirun_cgroup_write_u64(dir, "cpu.rt_period_us", period, err) < 0)
            return -1;
    }
    return 0;
}

static int
apply_cpu(const char *dir, const struct ocirun_resources *r, struct berth_err *err)
{
    if (r->has_cpu_shares && r->cpu_shares != 0) {
        /* The kernel clamps shares to 2-262144 silently; read back to say so. */
        uint64_t got = 0;
        if (ocirun_cgroup_write_u64(dir, "cpu.shares", r->cpu_shares, err) < 0 ||
            ocirun_cgroup_read_u64(dir, "cpu.shares", &got, err) < 0)
            return -1;
        if (got != r->cpu_shares)
            return berth_err_fail(err, EINVAL,
                                  "cpu.shares: %llu out of range (the kernel set %llu)",
                                  (unsigned long long)r->cpu_shares, (unsigned long long)got);
    }
    /* Period before quota; both before burst, which the kernel checks against the quota. */
    int64_t quota = r->has_cpu_quota ? r->cpu_quota : 0;
    int period_deferred = 0, burst_deferred = 0;
    if (r->has_cpu_period && r->cpu_period != 0 &&
        (period_deferred =
             write_or_defer(dir, "cpu.cfs_period_us", r->cpu_period, quota != 0, err)) < 0)
        return -1;
    if (r->has_cpu_burst) {
        if (!ocirun_cgroup_exists(dir, "cpu.cfs_burst_us"))
            berth_debug("cgroup: no cpu.cfs_burst_us in `%s` (kernel < 5.14): burst not set", dir);
        else if ((burst_deferred =
                      write_or_defer(dir, "cpu.cfs_burst_us", r->cpu_burst, quota != 0, err)) < 0)
            return -1;
    }
    if (quota != 0) {
        if (ocirun_cgroup_write_i64(dir, "cpu.cfs_quota_us", quota, err) < 0)
            return -1;
        if (period_deferred &&
            ocirun_cgroup_write_u64(dir, "cpu.cfs_period_us", r->cpu_period, err) < 0)
            return -1;
        if (burst_deferred &&
            ocirun_cgroup_write_u64(dir, "cpu.cfs_burst_us", r->cpu_burst, err) < 0)
            return -1;
    }
    if (r->has_cpu_idle && ocirun_cgroup_write_i64(dir, "cpu.idle", r->cpu_idle, err) < 0)
        return -1;
    return apply_cpu_rt(dir, r, err);
}

static int
apply_cpuset(const char *dir, const struct ocirun_resources *r, struct berth_err *err)
{
    /* An empty list would leave the cgroup unable to run anything: "" means not set. */
    if (r->cpus && r->cpus[0] && ocirun_cgroup_write(dir, "cpuset.cpus", r->cpus, err) < 0)
        return -1;
    if (r->mems && r->mems[0] && ocirun_cgroup_write(dir, "cpuset.mems", r->mems, err) < 0)
        return -1;
    return 0;
}

static int
apply_pids(const char *dir, const struct ocirun_resources *r, struct berth_err *err)
{
    if (!r->has_pids_limit)
        return 0;
    if (r->pids_limit <= 0)
        return ocirun_cgroup_write(dir, "pids.max", "max", err);
    return ocirun_cgroup_write_i64(dir, "pids.max", r->pids_limit, err);
}

static int
write_device_value(const char *dir, const char *file, int64_t major, int64_t minor, uint64_t v,
                   struct berth_err *err)
{
    char buf[96];
    snprintf(buf, sizeof(buf), "%lld:%lld %llu", (long long)major, (long long)minor,
             (unsigned long long)v);
    return ocirun_cgroup_write(dir, file, buf, err);
}

static int
write_throttles(const char *dir, const char *file, const struct ocirun_throttle *t, size_t n,
                struct berth_err *err)
{
    for (size_t i = 0; i < n; i++)
        if (write_device_value(dir, file, t[i].major, t[i].minor, t[i].rate, err) < 0)
            return -1;
    return 0;
}

/* CFQ had blkio.weight and blkio.leaf_weight; since 5.0 only BFQ is left, with
 * blkio.bfq.weight and no leaf weights. */
static int
apply_blkio(const char *dir, const struct ocirun_resources *r, struct berth_err *err)
{
    bool cfq = ocirun_cgroup_exists(dir, "blkio.weight");
    const char *weight = cfq ? "blkio.weight" : "blkio.bfq.weight";
    const char *weight_device = cfq ? "blkio.weight_device" : "blkio.bfq.weight_device";
    bool has_leaf = ocirun_cgroup_exists(dir, "blkio.leaf_weight");

    if (r->has_blkio_weight && r->blkio_weight != 0 &&
        ocirun_cgroup_write_u64(dir, weight, r->blkio_weight, err) < 0)
        return -1;
    if (r->has_blkio_leaf_weight && r->blkio_leaf_weight != 0) {
        if (!has_leaf)
            berth_debug("cgroup: no blkio.leaf_weight in `%s` (CFQ only): not set", dir);
        else if (ocirun_cgroup_write_u64(dir, "blkio.leaf_weight", r->blkio_leaf_weight, err) < 0)
            return -1;
    }
    for (size_t i = 0; i < r->n_weight_devices; i++) {
        const struct ocirun_weight_device *w = &r->weight_devices[i];
        if (w->has_weight && w->weight != 0 &&
            write_device_value(dir, weight_device, w->major, w->minor, w->weight, err) < 0)
            return -1;
        if (w->has_leaf_weight && w->leaf_weight != 0) {
            if (!has_leaf)
                berth_debug("cgroup: no blkio.leaf_weight_device in `%s`: not set", dir);
            else if (write_device_value(dir, "blkio.leaf_weight_device", w->major, w->minor,
                                        w->leaf_weight, err) < 0)
                return -1;
        }
    }
    if (write_throttles(dir, "blkio.throttle.read_bps_device", r->throttle_read_bps,
                        r->n_throttle_read_bps, err) < 0 ||
        write_throttles(dir, "blkio.throttle.write_bps_device", r->throttle_write_bps,
                        r->n_throttle_write_bps, err) < 0 ||
        write_throttles(dir, "blkio.throttle.read_iops_device", r->throttle_read_iops,
                        r->n_throttle_read_iops, err) < 0 ||
        write_throttles(dir, "blkio.throttle.write_iops_device", r->throttle_write_iops,
                        r->n_throttle_write_iops, err) < 0)
        return -1;
    return 0;
}

/* hugetlb.<size>.limit_in_bytes, and the reservation limit beside it where the kernel has
 * one (5.7+), as runc does: the spec prefers reservation accounting. */
static int
apply_hugetlb(const char *dir, const struct ocirun_resources *r, struct berth_err *err)
{
    for (size_t i = 0; i < r->n_hugepage_limits; i++) {
        const struct ocirun_hugepage_limit *h = &r->hugepage_limits[i];
        cleanup_free char *file = xasprintf("hugetlb.%s.limit_in_bytes", h->page_size);
        cleanup_free char *rsvd = xasprintf("hugetlb.%s.rsvd.limit_in_bytes", h->page_size);
        if (ocirun_cgroup_write_u64(dir, file, h->limit, err) < 0)
            return -1;
        if (ocirun_cgroup_exists(dir, rsvd) &&
            ocirun_cgroup_write_u64(dir, rsvd, h->limit, err) < 0)
            return -1;
    }
    return 0;
}

static int
apply_net_cls(const char *dir, const struct ocirun_resources *r, struct berth_err *err)
{
    if (r->has_net_class_id &&
        ocirun_cgroup_write_u64(dir, "net_cls.classid", r->net_class_id, err) < 0)
        return -1;
    return 0;
}

static int
apply_net_prio(const char *dir, const struct ocirun_resources *r, struct berth_err *err)
{
    for (size_t i = 0; i < r->n_net_priorities; i++) {
        cleanup_free char *line =
            xasprintf("%s %u", r->net_priorities[i].name, r->net_priorities[i].priority);
        if (ocirun_cgroup_write(dir, "net_prio.ifpriomap", line, err) < 0)
            return -1;
    }
    return 0;
}

/* Each rule in order to devices.allow or devices.deny: "c 1:3 rwm", '*' for a wildcard. A
 * type 'a' rule is the kernel's reset ("a" to devices.deny: deny everything and forget the
 * exceptions), so a list that starts with deny-all writes "a" to devices.deny first. Unlike
 * runc, this does not diff against devices.list: on `update`, the container loses its devices
 * between the reset and the allow rules that follow. */
static int
apply_devices(const char *dir, const struct ocirun_resources *r, struct berth_err *err)
{
    for (size_t i = 0; i < r->n_devices; i++) {
        const struct ocirun_device_rule *d = &r->devices[i];
        const char *file = d->allow ? "devices.allow" : "devices.deny";
        char major[24] = "*", minor[24] = "*", line[80];
        if (d->type == 'a') {
            if (d->major >= 0 || d->minor >= 0 || strcmp(d->access, "rwm") != 0)
                berth_debug("cgroup: devices[%zu]: v1 treats a type `a` rule as all devices", i);
            snprintf(line, sizeof(line), "a");
        } else {
            if (d->major >= 0)
                snprintf(major, sizeof(major), "%lld", (long long)d->major);
            if (d->minor >= 0)
                snprintf(minor, sizeof(minor), "%lld", (long long)d->minor);
            snprintf(line, sizeof(line), "%c %s:%s %s", d->type, major, minor, d->access);
        }
        if (ocirun_cgroup_write(dir, file, line, err) < 0)
            return -1;
    }
    return 0;
}

static int
v1_apply(const struct cgroup_hierarchy *h, const char *dir, const struct ocirun_resources *r,
         struct berth_err *err)
{
    static const struct {
        const char *controller;
        int (*apply)(const char *dir, const struct ocirun_resources *r, struct berth_err *err);
    } table[] = {
        {"memory", apply_memory},   {"cpu", apply_cpu},           {"cpuset", apply_cpuset},
        {"pids", apply_pids},       {"blkio", apply_blkio},       {"hugetlb", apply_hugetlb},
        {"net_cls", apply_net_cls}, {"net_prio", apply_net_prio}, {"devices", apply_devices},
    };
    for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
        if (!ocirun_cgroup_has_controller(h, table[i].controller))
            continue;
        if (table[i].apply(dir, r, err) < 0)
            return berth_err_wrap(err, "cgroup %s", table[i].controller);
    }
    return 0;
}

static int
v1_prepare(const struct cgroup_hierarchy *h, const char *dir, struct berth_err *err)
{
    if (strstr(h->controllers, "cpuset"))
        return init_cpuset(dir, err);
    return 0;
}

const struct cgroup_ops ocirun_cgroup_v1_ops = {
    .name = "v1",
    .prepare = v1_prepare,
    .apply = v1_apply,
};
