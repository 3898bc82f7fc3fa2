// SPDX-License-Identifier: Apache-2.0
//
// cgroup v2 backend: the single unified hierarchy. prepare enables the controllers a
// container may need in its ancestors' cgroup.subtree_control; apply converts linux.resources
// (written for v1's files) into v2's with runc's formulas (libcontainer/cgroups/fs2 and
// utils.go), attaches the device rules as an eBPF program (bpf-devices.c), and writes the
// `unified` map last, verbatim, so that it wins over anything converted.
//
// On a hybrid host the unified hierarchy carries only the controllers no v1 hierarchy has
// (often none): there a controller missing from the cgroup is the v1 backend's business and is
// skipped, and so are the device rules (the v1 devices controller applies them). On a pure v2
// host a setting for a controller the cgroup cannot use is an error.

#include "ocirun/linux/cgroup-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "ocirun/linux/bpf-devices.h"
#include "ocirun/linux/cgroup.h"
#include "ocirun/linux/resources.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* ---- Files -------------------------------------------------------------------------------- */

/* -1 is "max" in every v2 limit file. */
static int
write_limit(const char *dir, const char *file, int64_t v, struct berth_err *err)
{
    return v == -1 ? ocirun_cgroup_write(dir, file, "max", err)
                   : ocirun_cgroup_write_i64(dir, file, v, err);
}

/* Is word one of the space-separated words of list? */
static bool
has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0' || p[n] == '\n'))
            return true;
    return false;
}

/* ---- prepare: controllers down the tree --------------------------------------------------- */

/* The controllers a container's resources can use; the rest (rdma, misc) only through
 * `unified`, which then needs them enabled by whoever set up the parent. */
static const char *const wanted[] = {"memory", "pids", "cpu", "cpuset", "io", "hugetlb"};

/* Why enabling may fail without it being ours to fix, and what apply will then say:
 * EBUSY: the ancestor has processes of its own (v2's "no internal processes" rule: domain
 *     controllers cannot be enabled in a non-root cgroup with member tasks);
 * ENOENT: the controller vanished from the ancestor's cgroup.controllers meanwhile;
 * EACCES, EPERM, EROFS: an ancestor above the caller's delegation (rootless, or a nested
 *     container with a read-only cgroupfs).
 * A setting that needs the missing controller fails in apply, naming the controller. */
static bool
is_benign(int code)
{
    return code == EBUSY || code == ENOENT || code == EACCES || code == EPERM || code == EROFS;
}

/* Enable in cg's subtree_control every wanted controller cg has and has not enabled yet: all
 * in one write, or one at a time when that fails, so that one refusal does not cost the rest. */
static int
enable_controllers(const char *cg, struct berth_err *err)
{
    char avail[1024], enabled[1024], line[128] = "";
    if (ocirun_cgroup_read(cg, "cgroup.controllers", avail, sizeof(avail)) < 0)
        return berth_err_set(err, errno, "read `%s/cgroup.controllers`", cg);
    if (ocirun_cgroup_read(cg, "cgroup.subtree_control", enabled, sizeof(enabled)) < 0)
        enabled[0] = '\0';
    for (size_t i = 0; i < ARRAY_SIZE(wanted); i++) {
        if (has_word(avail, wanted[i]) && !has_word(enabled, wanted[i])) {
            size_t l = strlen(line);
            snprintf(line + l, sizeof(line) - l, "%s+%s", l ? " " : "", wanted[i]);
        }
    }
    if (!line[0])
        return 0;
    struct berth_err e = BERTH_ERR_INIT;
    if (ocirun_cgroup_write(cg, "cgroup.subtree_control", line, &e) == 0)
        return 0;
    if (!is_benign(e.code)) {
        berth_err_set(err, e.code, "%s", e.msg);
        berth_err_clear(&e);
        return -1;
    }
    berth_err_clear(&e);
    for (char *save = NULL, *tok = strtok_r(line, " ", &save); tok;
         tok = strtok_r(NULL, " ", &save)) {
        if (ocirun_cgroup_write(cg, "cgroup.subtree_control", tok, &e) == 0)
            continue;
        if (!is_benign(e.code)) {
            berth_err_set(err, e.code, "%s", e.msg);
            berth_err_clear(&e);
            return -1;
        }
        berth_debug("cgroup: `%s` not enabled in `%s`: %s", tok + 1, cg, strerror(e.code));
        berth_err_clear(&e);
    }
    return 0;
}

/* Top-down, from the mount's root to dir's parent: a controller can only be enabled in a
 * cgroup whose parent has it enabled. dir itself is left alone (the container's processes
 * live there, and no-internal-processes would forbid it). */
static int
v2_prepare(const struct cgroup_hierarchy *h, const char *dir, struct berth_err *err)
{
    size_t ml = strlen(h->mount);
    while (ml > 0 && h->mount[ml - 1] == '/')
        ml--;
    if (strncmp(dir, h->mount, ml) != 0 || dir[ml] != '/')
        return 0; /* the root cgroup itself, or not below this mount */
    for (const char *s = dir + ml; s; s = strchr(s + 1, '/')) {
        cleanup_free char *ancestor = xstrndup(dir, (size_t)(s - dir));
        if (ancestor[0] && enable_controllers(ancestor, err) < 0)
            return berth_err_wrap(err, "enable controllers in `%s`", ancestor);
    }
    return 0;
}

/* ---- Conversions (runc's, libcontainer/cgroups/utils.go) ----------------------------------- */

/* cpu.shares (2-262144, default 1024) to cpu.weight (1-10000, default 100): runc's
 * ConvertCPUSharesToCgroupV2Value, 1 + ((shares - 2) * 9999) / 262142. Shares outside the v1
 * range are clamped to it first, as v1's kernel does (runc would wrap around below 2). */
static uint64_t
shares_to_weight(uint64_t shares)
{
    if (shares < 2)
        shares = 2;
    if (shares > 262144)
        shares = 262144;
    return 1 + ((shares - 2) * 9999) / 262142;
}

/* blkio.weight (10-1000) to io.weight (1-10000): runc's ConvertBlkIOToIOWeightValue. */
static uint64_t
blkio_to_io_weight(uint16_t weight)
{
    if (weight < 10)
        weight = 10;
    return 1 + ((uint64_t)weight - 10) * 9999 / 990;
}

/* memory.swap (v1: memory + swap) to memory.swap.max (v2: swap alone): runc's
 * ConvertMemorySwapToCgroupV2Value. Sets *out to -1 ("max"), 0 (nothing to write, unless
 * *disable), or the swap alone; *disable when swap equals the limit: swap is off, "0". */
static int
convert_swap(int64_t swap, int64_t limit, int64_t *out, bool *disable, struct berth_err *err)
{
    *disable = false;
    /* Memory unlimited and swap not given: both unlimited, as on v1. */
    if (limit == -1 && swap == 0) {
        *out = -1;
        return 0;
    }
    if (swap == -1 || swap == 0) {
        *out = swap;
        return 0;
    }
    if (limit == 0 || limit == -1)
        return berth_err_fail(err, EINVAL, "memory.swap %lld needs a memory limit",
                              (long long)swap);
    if (swap < limit)
        return berth_err_fail(err, EINVAL,
                              "memory.swap %lld is below memory.limit %lld (swap counts memory "
                              "plus swap)",
                              (long long)swap, (long long)limit);
    *out = swap - limit;
    *disable = *out == 0;
    return 0;
}

/* ---- apply -------------------------------------------------------------------------------- */

struct v2_target {
    const char *dir;
    char avail[1024]; /* dir's cgroup.controllers */
    bool hybrid;      /* the unified hierarchy of a hybrid host: v1 carries the rest */
};

/* 1 when the cgroup can use controller, 0 when its settings are to be skipped (hybrid host),
 * -1 with err set otherwise. */
static int
need(const struct v2_target *t, const char *controller, struct berth_err *err)
{
    if (has_word(t->avail, controller))
        return 1;
    if (t->hybrid) {
        berth_debug("cgroup: `%s` is not in the unified hierarchy here: left to v1", controller);
        return 0;
    }
    return berth_err_fail(err, ENOTSUP,
                          "controller `%s` is not available in `%s` (not enabled in the "
                          "parent's cgroup.subtree_control)",
                          controller, t->dir);
}

static void
ignored(const char *what)
{
    berth_debug("cgroup: %s has no cgroup v2 equivalent: ignored", what);
}

/* checkBeforeUpdate: v1's kernel refuses a limit below the usage, v2's would OOM-kill to meet
 * it; refuse it here instead (runc's CheckMemoryUsage). Best effort: an unreadable
 * memory.current (a cgroup just made) passes. */
static int
check_memory_usage(const char *dir, int64_t limit, int64_t swap, struct berth_err *err)
{
    char buf[64], *end = NULL;
    if (ocirun_cgroup_read(dir, "memory.current", buf, sizeof(buf)) < 0)
        return 0;
    unsigned long long usage = strtoull(buf, &end, 10);
    if (end == buf || *end)
        return 0;
    if (swap > 0 && (unsigned long long)swap <= usage)
        return berth_err_fail(err, EBUSY, "memory.swap %lld is not above the usage %llu",
                              (long long)swap, usage);
    if (limit > 0 && (unsigned long long)limit <= usage)
        return berth_err_fail(err, EBUSY, "memory.limit %lld is not above the usage %llu",
                              (long long)limit, usage);
    return 0;
}

static int
apply_memory(const struct v2_target *t, const struct ocirun_resources *r, struct berth_err *err)
{
    if (r->has_mem_kernel)
        ignored("memory.kernel");
    if (r->has_mem_kernel_tcp)
        ignored("memory.kernelTCP");
    if (r->has_mem_swappiness)
        ignored("memory.swappiness");
    if (r->has_disable_oom_killer)
        ignored("memory.disableOOMKiller");
    if (r->has_use_hierarchy)
        ignored("memory.useHierarchy (v2 is always hierarchical)");
    int64_t limit = r->has_mem_limit ? r->mem_limit : 0;
    int64_t swap = r->has_mem_swap ? r->mem_swap : 0;
    int64_t low = r->has_mem_reservation ? r->mem_reservation : 0;
    if (limit == 0 && swap == 0 && low == 0)
        return 0;
    int rc = need(t, "memory", err);
    if (rc <= 0)
        return rc;
    if (r->check_before_update && check_memory_usage(t->dir, limit, swap, err) < 0)
        return -1;
    int64_t swap_max = 0;
    bool disable = false;
    if (convert_swap(swap, limit, &swap_max, &disable, err) < 0)
        return -1;
    if (swap_max != 0 || disable) {
        struct berth_err e = BERTH_ERR_INIT;
        if (write_limit(t->dir, "memory.swap.max", swap_max, &e) < 0) {
            /* No swap accounting (no swap, or swapaccount=0): "max" and "0" mean nothing. */
            if (e.code != ENOENT || (swap_max != -1 && !disable)) {
                berth_err_set(err, e.code, "%s", e.msg);
                berth_err_clear(&e);
                return -1;
            }
            berth_debug("cgroup: no memory.swap.max in `%s`: swap left as it is", t->dir);
            berth_err_clear(&e);
        }
    }
    if (limit != 0 && write_limit(t->dir, "memory.max", limit, err) < 0)
        return -1;
    if (low != 0 && write_limit(t->dir, "memory.low", low, err) < 0)
        return -1;
    return 0;
}

static int
apply_cpu(const struct v2_target *t, const struct ocirun_resources *r, struct berth_err *err)
{
    uint64_t shares = r->has_cpu_shares ? r->cpu_shares : 0;
    int64_t quota = r->has_cpu_quota ? r->cpu_quota : 0;
    uint64_t period = r->has_cpu_period ? r->cpu_period : 0;
    bool rt =
        (r->has_cpu_rt_period && r->cpu_rt_period) || (r->has_cpu_rt_runtime && r->cpu_rt_runtime);
    if (!shares && !quota && !period && !r->has_cpu_burst && !r->has_cpu_idle && !rt)
        return 0;
    int rc = need(t, "cpu", err);
    if (rc <= 0)
        return rc;
    if (rt)
        return berth_err_fail(err, ENOTSUP,
                              "cpu.realtimeRuntime and cpu.realtimePeriod have no cgroup v2 "
                              "equivalent");
    if (shares && ocirun_cgroup_write_u64(t->dir, "cpu.weight", shares_to_weight(shares), err) < 0)
        return -1;
    if (r->has_cpu_idle && ocirun_cgroup_write_i64(t->dir, "cpu.idle", r->cpu_idle, err) < 0)
        return -1;
    /* A burst above the old quota is refused (EINVAL) until the new quota is in: retried
     * after cpu.max, as runc does. */
    bool burst_again = false;
    if (r->has_cpu_burst) {
        struct berth_err e = BERTH_ERR_INIT;
        if (!ocirun_cgroup_exists(t->dir, "cpu.max.burst")) {
            berth_debug("cgroup: no cpu.max.burst in `%s` (kernel < 5.14): burst not set", t->dir);
        } else if (ocirun_cgroup_write_u64(t->dir, "cpu.max.burst", r->cpu_burst, &e) < 0) {
            burst_again = e.code == EINVAL && (quota || period);
            if (!burst_again)
                berth_err_set(err, e.code, "%s", e.msg);
            berth_err_clear(&e);
            if (!burst_again)
                return -1;
        }
    }
    if (quota || period) {
        /* "$QUOTA $PERIOD"; a period alone keeps the quota in force (runc would write "max",
         * lifting it). */
        char value[64], cur[64] = "";
        if (quota > 0)
            snprintf(value, sizeof(value), "%lld", (long long)quota);
        else if (quota < 0)
            snprintf(value, sizeof(value), "max");
        else if (ocirun_cgroup_read(t->dir, "cpu.max", cur, sizeof(cur)) == 0 && cur[0])
            snprintf(value, sizeof(value), "%.*s", (int)strcspn(cur, " "), cur);
        else
            snprintf(value, sizeof(value), "max");
        if (period) {
            size_t l = strlen(value);
            snprintf(value + l, sizeof(value) - l, " %llu", (unsigned long long)period);
        }
        if (ocirun_cgroup_write(t->dir, "cpu.max", value, err) < 0)
            return -1;
    }
    if (burst_again && ocirun_cgroup_write_u64(t->dir, "cpu.max.burst", r->cpu_burst, err) < 0)
        return -1;
    return 0;
}

static int
apply_cpuset(const struct v2_target *t, const struct ocirun_resources *r, struct berth_err *err)
{
    bool cpus = r->cpus && r->cpus[0], mems = r->mems && r->mems[0];
    if (!cpus && !mems)
        return 0;
    int rc = need(t, "cpuset", err);
    if (rc <= 0)
        return rc;
    if (cpus && ocirun_cgroup_write(t->dir, "cpuset.cpus", r->cpus, err) < 0)
        return -1;
    if (mems && ocirun_cgroup_write(t->dir, "cpuset.mems", r->mems, err) < 0)
        return -1;
    return 0;
}

static int
apply_pids(const struct v2_target *t, const struct ocirun_resources *r, struct berth_err *err)
{
    if (!r->has_pids_limit)
        return 0;
    int rc = need(t, "pids", err);
    if (rc <= 0)
        return rc;
    if (r->pids_limit <= 0)
        return ocirun_cgroup_write(t->dir, "pids.max", "max", err);
    return ocirun_cgroup_write_i64(t->dir, "pids.max", r->pids_limit, err);
}

/* One io.max line for device major:minor with every throttle the rules give it. */
static void
io_max_line(const struct ocirun_resources *r, int64_t major, int64_t minor, char *line, size_t len)
{
    const struct {
        const char *key;
        const struct ocirun_throttle *t;
        size_t n;
    } kinds[] = {
        {"rbps", r->throttle_read_bps, r->n_throttle_read_bps},
        {"wbps", r->throttle_write_bps, r->n_throttle_write_bps},
        {"riops", r->throttle_read_iops, r->n_throttle_read_iops},
        {"wiops", r->throttle_write_iops, r->n_throttle_write_iops},
    };
    size_t l = (size_t)snprintf(line, len, "%lld:%lld", (long long)major, (long long)minor);
    for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
        /* The last entry for a device wins, as it would written line by line. */
        const struct ocirun_throttle *hit = NULL;
        for (size_t i = 0; i < kinds[k].n; i++)
            if (kinds[k].t[i].major == major && kinds[k].t[i].minor == minor)
                hit = &kinds[k].t[i];
        if (hit && l < len)
            l += (size_t)snprintf(line + l, len - l, " %s=%llu", kinds[k].key,
                                  (unsigned long long)hit->rate);
    }
}

static int
apply_io_max(const struct v2_target *t, const struct ocirun_resources *r, struct berth_err *err)
{
    const struct ocirun_throttle *lists[] = {r->throttle_read_bps, r->throttle_write_bps,
                                             r->throttle_read_iops, r->throttle_write_iops};
    const size_t counts[] = {r->n_throttle_read_bps, r->n_throttle_write_bps,
                             r->n_throttle_read_iops, r->n_throttle_write_iops};
    /* One line a device, in the order devices first appear. */
    for (size_t a = 0; a < ARRAY_SIZE(lists); a++) {
        for (size_t i = 0; i < counts[a]; i++) {
            const struct ocirun_throttle *d = &lists[a][i];
            bool seen = false;
            for (size_t b = 0; b <= a && !seen; b++)
                for (size_t j = 0; j < (b == a ? i : counts[b]) && !seen; j++)
                    seen = lists[b][j].major == d->major && lists[b][j].minor == d->minor;
            if (seen)
                continue;
            char line[160];
            io_max_line(r, d->major, d->minor, line, sizeof(line));
            if (ocirun_cgroup_write(t->dir, "io.max", line, err) < 0)
                return -1;
        }
    }
    return 0;
}

/* BFQ takes blkio's weights as they are (io.bfq.weight, 1-1000); without it io.weight takes
 * them converted. Leaf weights were CFQ's and have no v2 file. */
static int
apply_io(const struct v2_target *t, const struct ocirun_resources *r, struct berth_err *err)
{
    bool weight = r->has_blkio_weight && r->blkio_weight;
    size_t n_throttles = r->n_throttle_read_bps + r->n_throttle_write_bps +
                         r->n_throttle_read_iops + r->n_throttle_write_iops;
    if (r->has_blkio_leaf_weight)
        ignored("blockIO.leafWeight");
    if (!weight && !r->n_weight_devices && !n_throttles)
        return 0;
    int rc = need(t, "io", err);
    if (rc <= 0)
        return rc;
    bool bfq = ocirun_cgroup_exists(t->dir, "io.bfq.weight");
    const char *file = bfq ? "io.bfq.weight" : "io.weight";
    if (weight &&
        ocirun_cgroup_write_u64(
            t->dir, file, bfq ? r->blkio_weight : blkio_to_io_weight(r->blkio_weight), err) < 0)
        return -1;
    for (size_t i = 0; i < r->n_weight_devices; i++) {
        const struct ocirun_weight_device *w = &r->weight_devices[i];
        if (w->has_leaf_weight)
            ignored("blockIO.weightDevice[].leafWeight");
        if (!w->has_weight || !w->weight)
            continue;
        char line[96];
        snprintf(line, sizeof(line), "%lld:%lld %llu", (long long)w->major, (long long)w->minor,
                 (unsigned long long)(bfq ? w->weight : blkio_to_io_weight(w->weight)));
        if (ocirun_cgroup_write(t->dir, file, line, err) < 0)
            return -1;
    }
    return apply_io_max(t, r, err);
}

/* hugetlb.<size>.max, and .rsvd.max where the kernel has reservation accounting (5.7+). */
static int
apply_hugetlb(const struct v2_target *t, const struct ocirun_resources *r, struct berth_err *err)
{
    if (!r->n_hugepage_limits)
        return 0;
    int rc = need(t, "hugetlb", err);
    if (rc <= 0)
        return rc;
    for (size_t i = 0; i < r->n_hugepage_limits; i++) {
        const struct ocirun_hugepage_limit *h = &r->hugepage_limits[i];
        cleanup_free char *max = xasprintf("hugetlb.%s.max", h->page_size);
        cleanup_free char *rsvd = xasprintf("hugetlb.%s.rsvd.max", h->page_size);
        if (ocirun_cgroup_write_u64(t->dir, max, h->limit, err) < 0)
            return -1;
        if (ocirun_cgroup_exists(t->dir, rsvd) &&
            ocirun_cgroup_write_u64(t->dir, rsvd, h->limit, err) < 0)
            return -1;
    }
    return 0;
}

static int
apply_devices(const struct v2_target *t, const struct ocirun_resources *r, struct berth_err *err)
{
    if (!r->has_devices)
        return 0;
    if (t->hybrid) {
        berth_debug("cgroup: device rules are left to the v1 devices controller");
        return 0;
    }
    cleanup_free struct bpf_insn *insns = NULL;
    size_t n = 0;
    if (ocirun_bpf_devices_program(r->devices, r->n_devices, &insns, &n, err) < 0)
        return -1;
    cleanup_close int fd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return berth_err_set(err, errno, "open `%s`", t->dir);
    return ocirun_bpf_devices_attach(fd, insns, n, err);
}

/* unified: key and value as given, last. A key the kernel has no file for is refused; when
 * that is because the controller is missing, the error says so (the spec asks for an error). */
static int
apply_unified(const struct v2_target *t, const struct ocirun_resources *r, struct berth_err *err)
{
    for (char **u = r->unified; u && u[0]; u += 2) {
        struct berth_err e = BERTH_ERR_INIT;
        if (ocirun_cgroup_write(t->dir, u[0], u[1], &e) == 0)
            continue;
        const char *dot = strchr(u[0], '.');
        if (e.code == ENOENT || e.code == EACCES || e.code == EPERM) {
            cleanup_free char *controller = dot ? xstrndup(u[0], (size_t)(dot - u[0])) : NULL;
            if (!controller) {
                berth_err_clear(&e);
                return berth_err_fail(
                    err, EINVAL, "unified `%s`: not a cgroup file (CONTROLLER.PARAMETER)", u[0]);
            }
            if (strcmp(controller, "cgroup") != 0 && !has_word(t->avail, controller)) {
                berth_err_clear(&e);
                return berth_err_fail(err, ENOTSUP,
                                      "unified `%s`: controller `%s` is not available in `%s`",
                                      u[0], controller, t->dir);
            }
        }
        berth_err_set(err, e.code, "%s", e.msg);
        berth_err_clear(&e);
        return -1;
    }
    return 0;
}

/* Is this the unified hierarchy of a hybrid host? Only when dir really is on cgroup2 (a test
 * tree of plain files never is) and the host is in hybrid mode. */
static bool
is_hybrid(const char *dir)
{
    struct statfs fs;
    if (statfs(dir, &fs) < 0 || fs.f_type != CGROUP2_SUPER_MAGIC)
        return false;
    return ocirun_cgroup_mode(NULL) == OCIRUN_CGROUP_HYBRID;
}

static int
v2_apply(const struct cgroup_hierarchy *h, const char *dir, const struct ocirun_resources *r,
         struct berth_err *err)
{
    static const struct {
        const char *what;
        int (*apply)(const struct v2_target *t, const struct ocirun_resources *r,
                     struct berth_err *err);
    } table[] = {
        {"memory", apply_memory},   {"cpu", apply_cpu},         {"cpuset", apply_cpuset},
        {"pids", apply_pids},       {"io", apply_io},           {"hugetlb", apply_hugetlb},
        {"devices", apply_devices}, {"unified", apply_unified},
    };
    if (!ocirun_resources_any(r))
        return 0;
    struct v2_target t = {.dir = dir, .hybrid = is_hybrid(dir)};
    if (r->has_net_class_id || r->n_net_priorities)
        ignored("network (net_cls, net_prio)");
    if (ocirun_cgroup_read(dir, "cgroup.controllers", t.avail, sizeof(t.avail)) < 0)
        return berth_err_set(err, errno, "read `%s/cgroup.controllers`", dir);
    for (size_t i = 0; i < ARRAY_SIZE(table); i++)
        if (table[i].apply(&t, r, err) < 0)
            return berth_err_wrap(err, "cgroup %s", table[i].what);
    return 0;
}

const struct cgroup_ops ocirun_cgroup_v2_ops = {
    .name = "v2",
    .prepare = v2_prepare,
    .apply = v2_apply,
};
