/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the linux.resources -> cgroup file mapping: the v1 and v2 backends' apply
 * (cgroup-v1.c, cgroup-v2.c), v2's prepare, and the eBPF device program (bpf-devices.c).
 *
 * Most cases run apply against a temporary tree of plain files shaped like cgroup directories
 * (the files a kernel has, empty; the "only where present" ones created or left out), then
 * check which file got which value. inotify records the order of the writes (IN_CLOSE_WRITE
 * a write; IN_MODIFY is watched too, so that two writes in a row to one file are not merged
 * into one event). A plain file is overwritten from its start, not truncated, so a file that
 * apply reads back (memory.limit_in_bytes) starts with a value no longer than what is written.
 *
 * Where the host allows it (root, the hierarchy mounted) the same mapping runs against the
 * real kernel too: v1 memory (the limit/memsw ordering), cpu, cpuset, pids, blkio and devices,
 * and a device program attached on the cgroup2 mount, which must make open("/dev/null") fail
 * with EPERM in a child moved into that cgroup. Those cases skip elsewhere.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "ocirun/linux/bpf-devices.h"
#include "ocirun/linux/cgroup-internal.h"
#include "ocirun/linux/resources.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* ---- Helpers: files ----------------------------------------------------------------------- */

static void
put(const char *dir, const char *file, const char *content)
{
    cleanup_free char *p = xasprintf("%s/%s", dir, file);
    FILE *f = fopen(p, "we");
    if (!f)
        fail_msg("create `%s`: %s", p, strerror(errno));
    fputs(content, f);
    fclose(f);
}

/* dir/name, made, with each file of files (NULL-terminated) empty. */
static char *
mkcg(const char *parent, const char *name, const char *const *files)
{
    char *dir = xasprintf("%s/%s", parent, name);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        fail_msg("mkdir `%s`: %s", dir, strerror(errno));
    for (const char *const *f = files; f && *f; f++)
        put(dir, *f, "");
    return dir;
}

/* The content of dir/file, or NULL when it does not exist. */
static char *
get(const char *dir, const char *file)
{
    cleanup_free char *p = xasprintf("%s/%s", dir, file);
    char *out = NULL;
    struct berth_err err = BERTH_ERR_INIT;
    if (berth_fs_read_file(p, &out, NULL, &err) < 0) {
        berth_err_clear(&err);
        return NULL;
    }
    return out;
}

static void
assert_file_(const char *dir, const char *file, const char *want, const char *where, int line)
{
    cleanup_free char *got = get(dir, file);
    if (!got)
        fail_msg("%s:%d: `%s/%s` is missing", where, line, dir, file);
    if (strcmp(got, want) != 0)
        fail_msg("%s:%d: `%s`: got `%s`, want `%s`", where, line, file, got, want);
}
#define assert_file(dir, file, want) assert_file_(dir, file, want, __FILE__, __LINE__)

/* ---- Helpers: write order ------------------------------------------------------------------ */

static int
watch(const char *dir)
{
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    assert_true(fd >= 0);
    assert_true(inotify_add_watch(fd, dir, IN_CLOSE_WRITE | IN_MODIFY) >= 0);
    return fd;
}

/* The files written since watch(), in order, separated by spaces; closes fd. */
static char *
writes(int fd)
{
    char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
    char *out = xstrdup("");
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            if ((ev->mask & IN_CLOSE_WRITE) && ev->len) {
                char *next = xasprintf("%s%s%s", out, out[0] ? " " : "", ev->name);
                free(out);
                out = next;
            }
            p += sizeof(*ev) + ev->len;
        }
    }
    close(fd);
    return out;
}

static void
assert_writes_(int fd, const char *want, const char *where, int line)
{
    cleanup_free char *got = writes(fd);
    if (strcmp(got, want) != 0)
        fail_msg("%s:%d: writes:\n got `%s`\nwant `%s`", where, line, got, want);
}
#define assert_writes(fd, want) assert_writes_(fd, want, __FILE__, __LINE__)

/* ---- Helpers: resources and apply --------------------------------------------------------- */

/* JSON written with single quotes, for readability: every ' becomes ". */
static void
resources(const char *text, struct ocirun_resources *r)
{
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *s = xstrdup(text);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    cleanup_json struct json_object *o = berth_json_parse(s, strlen(s), &err);
    if (!o)
        fail_msg("bad test JSON `%s`: %s", s, err.msg);
    if (ocirun_resources_parse(o, r, &err) < 0)
        fail_msg("parse `%s`: %s", s, err.msg);
}

static struct cgroup_hierarchy
hierarchy(const char *mount, const char *controllers, bool v2)
{
    struct cgroup_hierarchy h = {
        .mount = (char *)mount, .root = (char *)"/", .controllers = (char *)controllers, .v2 = v2};
    return h;
}

/* Apply json to dir through the backend of h; returns apply's result, err filled on failure. */
static int
apply(const struct cgroup_hierarchy *h, const char *dir, const char *json, struct berth_err *err)
{
    struct ocirun_resources r;
    resources(json, &r);
    const struct cgroup_ops *ops = h->v2 ? &ocirun_cgroup_v2_ops : &ocirun_cgroup_v1_ops;
    int rc = ops->apply(h, dir, &r, err);
    ocirun_resources_free(&r);
    return rc;
}

static void
apply_ok_(const struct cgroup_hierarchy *h, const char *dir, const char *json, const char *where,
          int line)
{
    struct berth_err err = BERTH_ERR_INIT;
    if (apply(h, dir, json, &err) < 0)
        fail_msg("%s:%d: apply `%s`: %s", where, line, json, err.msg);
    assert_null(err.msg);
}
#define apply_ok(h, dir, json) apply_ok_(h, dir, json, __FILE__, __LINE__)

/* apply must fail with code and a message holding each of the NULL-terminated parts. */
static void
apply_fails_(const struct cgroup_hierarchy *h, const char *dir, const char *json, int code,
             const char *where, int line, ...)
{
    struct berth_err err = BERTH_ERR_INIT;
    va_list ap;
    if (apply(h, dir, json, &err) == 0)
        fail_msg("%s:%d: apply `%s` succeeded", where, line, json);
    assert_non_null(err.msg);
    va_start(ap, line);
    for (const char *part; (part = va_arg(ap, const char *));)
        if (!strstr(err.msg, part))
            fail_msg("%s:%d: error `%s` lacks `%s`", where, line, err.msg, part);
    va_end(ap);
    if (err.code != code)
        fail_msg("%s:%d: error `%s`: code %d, want %d", where, line, err.msg, err.code, code);
    berth_err_clear(&err);
}
#define apply_fails(h, dir, json, code, ...)                                                       \
    apply_fails_(h, dir, json, code, __FILE__, __LINE__, __VA_ARGS__, (const char *)NULL)

/* ---- Fixture: a temporary directory -------------------------------------------------------- */

static int
setup_tmp(void **state)
{
    char tmpl[] = "/tmp/berth-cgmap-XXXXXX";
    if (!mkdtemp(tmpl))
        return -1;
    *state = xstrdup(tmpl);
    return 0;
}

static int
teardown_tmp(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    int rc = berth_fs_rm_rf(*state, &err);
    berth_err_clear(&err);
    free(*state);
    return rc;
}

/* ---- v1, on files -------------------------------------------------------------------------- */

static const char *const v1_memory_files[] = {
    "memory.soft_limit_in_bytes", "memory.memsw.limit_in_bytes",
    "memory.kmem.limit_in_bytes", "memory.kmem.tcp.limit_in_bytes",
    "memory.swappiness",          "memory.oom_control",
    "memory.use_hierarchy",       NULL};

/* A fake memory cgroup whose memory.limit_in_bytes holds cur. */
static char *
memory_cg(const char *root, const char *cur)
{
    char *dir = mkcg(root, "memory", v1_memory_files);
    put(dir, "memory.limit_in_bytes", cur);
    return dir;
}

static void
test_v1_apply_memory_every_field(void **state)
{
    cleanup_free char *dir = memory_cg(*state, "9999999999");
    struct cgroup_hierarchy h = hierarchy(*state, "memory", false);

    /* memsw (2000000000) is below the current limit: lowering, so the limit goes first. */
    int w = watch(dir);
    apply_ok(&h, dir,
             "{'memory': {'limit': 1000000000, 'swap': 2000000000, 'reservation': 500000000,"
             " 'kernel': 1048576, 'kernelTCP': 2097152, 'swappiness': 30,"
             " 'disableOOMKiller': true, 'useHierarchy': true}}");
    assert_writes(w, "memory.limit_in_bytes memory.memsw.limit_in_bytes "
                     "memory.soft_limit_in_bytes memory.kmem.limit_in_bytes "
                     "memory.kmem.tcp.limit_in_bytes memory.swappiness memory.oom_control "
                     "memory.use_hierarchy");
    assert_file(dir, "memory.limit_in_bytes", "1000000000");
    assert_file(dir, "memory.memsw.limit_in_bytes", "2000000000");
    assert_file(dir, "memory.soft_limit_in_bytes", "500000000");
    assert_file(dir, "memory.kmem.limit_in_bytes", "1048576");
    assert_file(dir, "memory.kmem.tcp.limit_in_bytes", "2097152");
    assert_file(dir, "memory.swappiness", "30");
    assert_file(dir, "memory.oom_control", "1");
    assert_file(dir, "memory.use_hierarchy", "1");
}

/* memsw above the current limit: raising, so memsw goes first (runc's setMemoryAndSwap). */
static void
test_v1_apply_memory_raise_order(void **state)
{
    cleanup_free char *dir = memory_cg(*state, "1");
    struct cgroup_hierarchy h = hierarchy(*state, "memory", false);

    int w = watch(dir);
    apply_ok(&h, dir, "{'memory': {'limit': 1000000000, 'swap': 2000000000}}");
    assert_writes(w, "memory.memsw.limit_in_bytes memory.limit_in_bytes");
    assert_file(dir, "memory.limit_in_bytes", "1000000000");
    assert_file(dir, "memory.memsw.limit_in_bytes", "2000000000");
}

/* limit -1 with no swap: both unlimited, memsw first (swap == -1 is the raising case). */
static void
test_v1_apply_memory_unlimited(void **state)
{
    cleanup_free char *dir = memory_cg(*state, "1");
    struct cgroup_hierarchy h = hierarchy(*state, "memory", false);

    int w = watch(dir);
    apply_ok(&h, dir, "{'memory': {'limit': -1}}");
    assert_writes(w, "memory.memsw.limit_in_bytes memory.limit_in_bytes");
    assert_file(dir, "memory.limit_in_bytes", "-1");
    assert_file(dir, "memory.memsw.limit_in_bytes", "-1");

    /* Swap alone, and reservation -1. */
    w = watch(dir);
    apply_ok(&h, dir, "{'memory': {'swap': -1, 'reservation': -1}}");
    assert_writes(w, "memory.memsw.limit_in_bytes memory.soft_limit_in_bytes");
    assert_file(dir, "memory.soft_limit_in_bytes", "-1");
}

/* 0 is runc's "not set" for the limits: nothing is written; false flags are written as 0. */
static void
test_v1_apply_memory_zero_and_false(void **state)
{
    cleanup_free char *dir = memory_cg(*state, "1");
    struct cgroup_hierarchy h = hierarchy(*state, "memory", false);

    int w = watch(dir);
    apply_ok(&h, dir,
             "{'memory': {'limit': 0, 'swap': 0, 'reservation': 0, 'kernel': 0, 'kernelTCP': 0,"
             " 'disableOOMKiller': false, 'swappiness': 0}}");
    assert_writes(w, "memory.swappiness memory.oom_control");
    assert_file(dir, "memory.oom_control", "0");
    assert_file(dir, "memory.swappiness", "0");
    assert_file(dir, "memory.limit_in_bytes", "1");
}

/* Kernel memory only "where present": newer kernels have no kmem files. */
static void
test_v1_apply_memory_no_kmem(void **state)
{
    static const char *const files[] = {"memory.memsw.limit_in_bytes", NULL};
    cleanup_free char *dir = mkcg(*state, "memory", files);
    struct cgroup_hierarchy h = hierarchy(*state, "memory", false);

    put(dir, "memory.limit_in_bytes", "1");
    int w = watch(dir);
    apply_ok(&h, dir, "{'memory': {'kernel': 1048576, 'kernelTCP': 1048576}}");
    assert_writes(w, "");
}

/* Without swap accounting, a swap limit is an error; unlimited swap is nothing to do. */
static void
test_v1_apply_memory_no_memsw(void **state)
{
    static const char *const files[] = {"memory.soft_limit_in_bytes", NULL};
    cleanup_free char *dir = mkcg(*state, "memory", files);
    struct cgroup_hierarchy h = hierarchy(*state, "memory", false);

    put(dir, "memory.limit_in_bytes", "1");
    apply_fails(&h, dir, "{'memory': {'limit': 1000, 'swap': 2000}}", ENOTSUP,
                "cgroup memory: ", "swap accounting");
    int w = watch(dir);
    apply_ok(&h, dir, "{'memory': {'limit': -1}}");
    apply_ok(&h, dir, "{'memory': {'limit': 55, 'swap': -1}}");
    assert_writes(w, "memory.limit_in_bytes memory.limit_in_bytes");
    assert_file(dir, "memory.limit_in_bytes", "55");
}

/* A value the kernel refuses names the file and the value. /dev/full stands in for the
 * kernel: the open succeeds, the write fails (ENOSPC). */
static void
test_v1_apply_memory_refused(void **state)
{
    cleanup_free char *dir = memory_cg(*state, "1");
    cleanup_free char *soft = xasprintf("%s/memory.soft_limit_in_bytes", dir);
    struct cgroup_hierarchy h = hierarchy(*state, "memory", false);

    assert_int_equal(unlink(soft), 0);
    assert_int_equal(symlink("/dev/full", soft), 0);
    apply_fails(&h, dir, "{'memory': {'reservation': 4096}}", ENOSPC,
                "cgroup memory: write `4096` to `", "/memory.soft_limit_in_bytes`");
    /* A file the kernel does not have. */
    assert_int_equal(unlink(soft), 0);
    apply_fails(&h, dir, "{'memory': {'reservation': 4096}}", ENOENT, "cgroup memory: open `",
                "/memory.soft_limit_in_bytes`");
}

static const char *const v1_cpu_files[] = {
    "cpu.shares",       "cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.cfs_burst_us",
    "cpu.rt_period_us", "cpu.rt_runtime_us", "cpu.idle",         NULL};

static void
test_v1_apply_cpu(void **state)
{
    cleanup_free char *dir = mkcg(*state, "cpu,cpuacct", v1_cpu_files);
    struct cgroup_hierarchy h = hierarchy(*state, "cpu,cpuacct", false);

    /* Period before quota, burst between them (the kernel checks it against the quota), the
     * realtime period before its runtime. */
    int w = watch(dir);
    apply_ok(&h, dir,
             "{'cpu': {'shares': 512, 'quota': 25000, 'period': 50000, 'burst': 1000,"
             " 'realtimeRuntime': 9500, 'realtimePeriod': 100000, 'idle': 1}}");
    assert_writes(w, "cpu.shares cpu.cfs_period_us cpu.cfs_burst_us cpu.cfs_quota_us cpu.idle "
                     "cpu.rt_period_us cpu.rt_runtime_us");
    assert_file(dir, "cpu.shares", "512");
    assert_file(dir, "cpu.cfs_period_us", "50000");
    assert_file(dir, "cpu.cfs_burst_us", "1000");
    assert_file(dir, "cpu.cfs_quota_us", "25000");
    assert_file(dir, "cpu.idle", "1");
    assert_file(dir, "cpu.rt_period_us", "100000");
    assert_file(dir, "cpu.rt_runtime_us", "9500");

    /* Unlimited quota and realtime runtime; 0 is "not set" for shares and periods. */
    w = watch(dir);
    apply_ok(&h, dir,
             "{'cpu': {'shares': 0, 'period': 0, 'quota': -1, 'realtimeRuntime': -1,"
             " 'realtimePeriod': 0}}");
    assert_writes(w, "cpu.cfs_quota_us cpu.rt_runtime_us");
}

/* cpu.cfs_burst_us only where present (5.14+). */
static void
test_v1_apply_cpu_no_burst(void **state)
{
    static const char *const files[] = {"cpu.cfs_quota_us", NULL};
    cleanup_free char *dir = mkcg(*state, "cpu", files);
    struct cgroup_hierarchy h = hierarchy(*state, "cpu", false);

    int w = watch(dir);
    apply_ok(&h, dir, "{'cpu': {'quota': 1000, 'burst': 10}}");
    assert_writes(w, "cpu.cfs_quota_us");
}

static void
test_v1_apply_cpuset_pids(void **state)
{
    static const char *const cpuset[] = {"cpuset.cpus", "cpuset.mems", NULL};
    static const char *const pids[] = {"pids.max", NULL};
    cleanup_free char *cs = mkcg(*state, "cpuset", cpuset);
    cleanup_free char *pd = mkcg(*state, "pids", pids);
    struct cgroup_hierarchy hc = hierarchy(*state, "cpuset", false);
    struct cgroup_hierarchy hp = hierarchy(*state, "pids", false);

    apply_ok(&hc, cs, "{'cpu': {'cpus': '0-3', 'mems': '0'}}");
    assert_file(cs, "cpuset.cpus", "0-3");
    assert_file(cs, "cpuset.mems", "0");
    /* An empty list is not written: the cgroup could run nothing. */
    int w = watch(cs);
    apply_ok(&hc, cs, "{'cpu': {'cpus': '', 'mems': ''}}");
    assert_writes(w, "");

    apply_ok(&hp, pd, "{'pids': {'limit': 0}}");
    assert_file(pd, "pids.max", "max");
    apply_ok(&hp, pd, "{'pids': {'limit': -1}}");
    assert_file(pd, "pids.max", "max");
    apply_ok(&hp, pd, "{'pids': {'limit': 100}}");
    assert_file(pd, "pids.max", "100");
}

static const char *const v1_throttle_files[] = {
    "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
    "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device", NULL};

static void
test_v1_apply_blkio_bfq(void **state)
{
    static const char *const files[] = {"blkio.bfq.weight", "blkio.bfq.weight_device", NULL};
    cleanup_free char *dir = mkcg(*state, "blkio", files);
    struct cgroup_hierarchy h = hierarchy(*state, "blkio", false);

    for (const char *const *f = v1_throttle_files; *f; f++)
        put(dir, *f, "");
    /* BFQ: no blkio.weight, no leaf weights (skipped). */
    int w = watch(dir);
    apply_ok(&h, dir,
             "{'blockIO': {'weight': 500, 'leafWeight': 300,"
             " 'weightDevice': [{'major': 8, 'minor': 0, 'weight': 200, 'leafWeight': 100}],"
             " 'throttleReadBpsDevice': [{'major': 8, 'minor': 0, 'rate': 1048576}],"
             " 'throttleWriteBpsDevice': [{'major': 8, 'minor': 16, 'rate': 2097152}],"
             " 'throttleReadIOPSDevice': [{'major': 8, 'minor': 0, 'rate': 100}],"
             " 'throttleWriteIOPSDevice': [{'major': 8, 'minor': 16, 'rate': 200}]}}");
    assert_writes(w, "blkio.bfq.weight blkio.bfq.weight_device blkio.throttle.read_bps_device "
                     "blkio.throttle.write_bps_device blkio.throttle.read_iops_device "
                     "blkio.throttle.write_iops_device");
    assert_file(dir, "blkio.bfq.weight", "500");
    assert_file(dir, "blkio.bfq.weight_device", "8:0 200");
    assert_file(dir, "blkio.throttle.read_bps_device", "8:0 1048576");
    assert_file(dir, "blkio.throttle.write_bps_device", "8:16 2097152");
    assert_file(dir, "blkio.throttle.read_iops_device", "8:0 100");
    assert_file(dir, "blkio.throttle.write_iops_device", "8:16 200");
}

static void
test_v1_apply_blkio_cfq(void **state)
{
    static const char *const files[] = {"blkio.weight", "blkio.weight_device", "blkio.leaf_weight",
                                        "blkio.leaf_weight_device", NULL};
    cleanup_free char *dir = mkcg(*state, "blkio", files);
    struct cgroup_hierarchy h = hierarchy(*state, "blkio", false);

    int w = watch(dir);
    apply_ok(&h, dir,
             "{'blockIO': {'weight': 500, 'leafWeight': 300, 'weightDevice':"
             " [{'major': 8, 'minor': 0, 'weight': 200, 'leafWeight': 100},"
             "  {'major': 8, 'minor': 16, 'weight': 0, 'leafWeight': 10}]}}");
    assert_writes(w, "blkio.weight blkio.leaf_weight blkio.weight_device "
                     "blkio.leaf_weight_device blkio.leaf_weight_device");
    assert_file(dir, "blkio.weight", "500");
    assert_file(dir, "blkio.leaf_weight", "300");
    assert_file(dir, "blkio.weight_device", "8:0 200");
    assert_file(dir, "blkio.leaf_weight_device", "8:16 10");
}

static void
test_v1_apply_hugetlb_net(void **state)
{
    static const char *const hugetlb[] = {"hugetlb.2MB.limit_in_bytes",
                                          "hugetlb.2MB.rsvd.limit_in_bytes",
                                          "hugetlb.1GB.limit_in_bytes", NULL};
    static const char *const net[] = {"net_cls.classid", "net_prio.ifpriomap", NULL};
    cleanup_free char *hd = mkcg(*state, "hugetlb", hugetlb);
    cleanup_free char *nd = mkcg(*state, "net_cls,net_prio", net);
    struct cgroup_hierarchy hh = hierarchy(*state, "hugetlb", false);
    struct cgroup_hierarchy hn = hierarchy(*state, "net_cls,net_prio", false);

    /* The reservation limit too, where the kernel has it. */
    int w = watch(hd);
    apply_ok(&hh, hd,
             "{'hugepageLimits': [{'pageSize': '2MB', 'limit': 209715200},"
             " {'pageSize': '1GB', 'limit': 1073741824}]}");
    assert_writes(w, "hugetlb.2MB.limit_in_bytes hugetlb.2MB.rsvd.limit_in_bytes "
                     "hugetlb.1GB.limit_in_bytes");
    assert_file(hd, "hugetlb.2MB.limit_in_bytes", "209715200");
    assert_file(hd, "hugetlb.2MB.rsvd.limit_in_bytes", "209715200");
    assert_file(hd, "hugetlb.1GB.limit_in_bytes", "1073741824");
    /* A page size the kernel does not have. */
    apply_fails(&hh, hd, "{'hugepageLimits': [{'pageSize': '64KB', 'limit': 1}]}", ENOENT,
                "cgroup hugetlb: open `", "hugetlb.64KB.limit_in_bytes`");

    w = watch(nd);
    apply_ok(&hn, nd,
             "{'network': {'classID': 1048577, 'priorities': [{'name': 'eth0', 'priority': 5},"
             " {'name': 'eth1', 'priority': 1000}]}}");
    assert_writes(w, "net_cls.classid net_prio.ifpriomap net_prio.ifpriomap");
    assert_file(nd, "net_cls.classid", "1048577");
    assert_file(nd, "net_prio.ifpriomap", "eth1 1000");
}

static void
test_v1_apply_devices(void **state)
{
    static const char *const files[] = {"devices.allow", "devices.deny", NULL};
    cleanup_free char *dir = mkcg(*state, "devices", files);
    struct cgroup_hierarchy h = hierarchy(*state, "devices", false);

    /* In order; deny-all first becomes "a" to devices.deny. Each file shows its last line
     * (the kernel would keep them all: see test_real_v1_devices). */
    int w = watch(dir);
    apply_ok(&h, dir,
             "{'devices': [{'allow': false, 'access': 'rwm'},"
             " {'allow': true, 'type': 'c', 'access': 'm'},"
             " {'allow': true, 'type': 'c', 'major': 1, 'minor': 3, 'access': 'rwm'},"
             " {'allow': false, 'type': 'b', 'major': 8, 'access': 'w'}]}");
    assert_writes(w, "devices.deny devices.allow devices.allow devices.deny");
    assert_file(dir, "devices.allow", "c 1:3 rwm");
    assert_file(dir, "devices.deny", "b 8:* w");

    /* Type 'a' is v1's reset, whatever its numbers and access. */
    put(dir, "devices.allow", "");
    w = watch(dir);
    apply_ok(&h, dir, "{'devices': [{'allow': true, 'type': 'a', 'major': 3, 'access': 'r'}]}");
    assert_writes(w, "devices.allow");
    assert_file(dir, "devices.allow", "a");
}

/* Each controller goes to its own hierarchy only: a "cpu,cpuacct" directory gets no memory,
 * pids or devices settings (it has none of their files: a write would fail). */
static void
test_v1_apply_only_own_controllers(void **state)
{
    cleanup_free char *dir = mkcg(*state, "cpu,cpuacct", v1_cpu_files);
    struct cgroup_hierarchy h = hierarchy(*state, "cpu,cpuacct", false);
    struct cgroup_hierarchy named = hierarchy(*state, "name=systemd", false);

    int w = watch(dir);
    apply_ok(&h, dir,
             "{'memory': {'limit': 100}, 'pids': {'limit': 5}, 'devices': [{'allow': false}],"
             " 'cpu': {'shares': 100, 'cpus': '0'}, 'blockIO': {'weight': 100},"
             " 'hugepageLimits': [{'pageSize': '2MB', 'limit': 1}], 'network': {'classID': 1},"
             " 'unified': {'memory.max': '1'}}");
    assert_writes(w, "cpu.shares");
    /* cpuacct alone takes nothing, nor does a named hierarchy. */
    struct cgroup_hierarchy acct = hierarchy(*state, "cpuacct", false);
    w = watch(dir);
    apply_ok(&acct, dir, "{'cpu': {'shares': 100}}");
    apply_ok(&named, dir, "{'cpu': {'shares': 100}, 'memory': {'limit': 1}}");
    assert_writes(w, "");
}

/* ---- v2, on files -------------------------------------------------------------------------- */

static const char *const v2_files[] = {
    "memory.max",    "memory.low", "memory.swap.max", "cpu.weight",           "cpu.max",
    "cpu.max.burst", "cpu.idle",   "cpuset.cpus",     "cpuset.mems",          "pids.max",
    "io.weight",     "io.max",     "hugetlb.2MB.max", "hugetlb.2MB.rsvd.max", "hugetlb.1GB.max",
    "cgroup.freeze", NULL};

#define ALL_CONTROLLERS "cpuset cpu io memory hugetlb pids rdma misc\n"

/* A fake cgroup2 tree: <tmp>/unified (the mount) and unified/c (the container). */
static char *
v2_cg(const char *root, const char *controllers)
{
    static const char *const mount_files[] = {"cgroup.subtree_control", NULL};
    cleanup_free char *mount = mkcg(root, "unified", mount_files);
    put(mount, "cgroup.controllers", ALL_CONTROLLERS);
    char *dir = mkcg(mount, "c", v2_files);
    put(dir, "cgroup.controllers", controllers);
    return dir;
}

static struct cgroup_hierarchy
v2_hierarchy(const char *root, char **mount)
{
    *mount = xasprintf("%s/unified", root);
    return hierarchy(*mount, "", true);
}

static void
test_v2_apply_memory(void **state)
{
    cleanup_free char *dir = v2_cg(*state, ALL_CONTROLLERS), *mount = NULL;
    struct cgroup_hierarchy h = v2_hierarchy(*state, &mount);

    /* Swap is memory + swap on v1 and swap alone on v2: 300000000 - 100000000. */
    int w = watch(dir);
    apply_ok(&h, dir,
             "{'memory': {'limit': 100000000, 'swap': 300000000, 'reservation': 50000000,"
             " 'kernel': 1, 'kernelTCP': 1, 'swappiness': 1, 'disableOOMKiller': true,"
             " 'useHierarchy': true}}");
    assert_writes(w, "memory.swap.max memory.max memory.low");
    assert_file(dir, "memory.swap.max", "200000000");
    assert_file(dir, "memory.max", "100000000");
    assert_file(dir, "memory.low", "50000000");
}

/* runc's ConvertMemorySwapToCgroupV2Value, case by case. */
static void
test_v2_apply_memory_swap_conversion(void **state)
{
    static const struct {
        const char *json;
        const char *swap_max; /* NULL: not written */
        const char *max;      /* NULL: not written */
    } cases[] = {
        {"{'memory': {'limit': -1}}", "max", "max"},
        {"{'memory': {'limit': 1000, 'swap': -1}}", "max", "1000"},
        {"{'memory': {'limit': 1000, 'swap': 1000}}", "0", "1000"},
        {"{'memory': {'limit': 1000}}", NULL, "1000"},
        {"{'memory': {'limit': 1000, 'swap': 0}}", NULL, "1000"},
        {"{'memory': {'limit': 1000, 'swap': 3500}}", "2500", "1000"},
        {"{'memory': {'swap': -1}}", "max", NULL},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        cleanup_free char *dir = v2_cg(*state, ALL_CONTROLLERS), *mount = NULL;
        struct cgroup_hierarchy h = v2_hierarchy(*state, &mount);
        put(dir, "memory.swap.max", "");
        put(dir, "memory.max", "");
        apply_ok(&h, dir, cases[i].json);
        cleanup_free char *swap = get(dir, "memory.swap.max");
        cleanup_free char *max = get(dir, "memory.max");
        if (strcmp(swap, cases[i].swap_max ? cases[i].swap_max : "") != 0 ||
            strcmp(max, cases[i].max ? cases[i].max : "") != 0)
            fail_msg("`%s`: memory.swap.max `%s`, memory.max `%s`", cases[i].json, swap, max);
    }
    cleanup_free char *dir = v2_cg(*state, ALL_CONTROLLERS), *mount = NULL;
    struct cgroup_hierarchy h = v2_hierarchy(*state, &mount);
    apply_fails(&h, dir, "{'memory': {'swap': 1000}}", EINVAL,
                "cgroup memory: ", "memory.swap 1000 needs a memory limit");
    apply_fails(&h, dir, "{'memory': {'limit': -1, 'swap': 1000}}", EINVAL,
                "memory.swap 1000 needs a memory limit");
    apply_fails(&h, dir, "{'memory': {'limit': 2000, 'swap': 1000}}", EINVAL,
                "memory.swap 1000 is below memory.limit 2000");
}

/* No swap accounting: "max" and "0" are nothing to do; a real swap limit is an error. */
static void
test_v2_apply_memory_no_swap_file(void **state)
{
    cleanup_free char *dir = v2_cg(*state, ALL_CONTROLLERS), *mount = NULL;
    cleanup_free char *swap = xasprintf("%s/memory.swap.max", dir);
    struct cgroup_hierarchy h = v2_hierarchy(*state, &mount);

    assert_int_equal(unlink(swap), 0);
    apply_ok(&h, dir, "{'memory': {'limit': -1}}");
    apply_ok(&h, dir, "{'memory': {'limit': 1000, 'swap': 1000}}");
    assert_file(dir, "memory.max", "1000");
    apply_fails(&h, dir, "{'memory': {'limit': 1000, 'swap': 2000}}", ENOENT,
                "cgroup memory: open `", "memory.swap.max`");
}

/* checkBeforeUpdate refuses a limit not above the current usage. */
static void
test_v2_apply_memory_check_before_update(void **state)
{
    cleanup_free char *dir = v2_cg(*state, ALL_CONTROLLERS), *mount = NULL;
    struct cgroup_hierarchy h = v2_hierarchy(*state, &mount);

    /* No memory.current (best effort): passes. */
    apply_ok(&h, dir, "{'memory': {'limit': 1000, 'checkBeforeUpdate': true}}");
    put(dir, "memory.current", "5000\n");
    apply_fails(&h, dir, "{'memory': {'limit': 5000, 'checkBeforeUpdate': true}}", EBUSY,
                "memory.limit 5000 is not above the usage 5000");
    apply_fails(&h, dir, "{'memory': {'limit': -1, 'swap': 4000, 'checkBeforeUpdate': true}}",
                EBUSY, "memory.swap 4000 is not above the usage 5000");
    put(dir, "memory.max", "");
    apply_ok(&h, dir, "{'memory': {'limit': 5001, 'checkBeforeUpdate': true}}");
    assert_file(dir, "memory.max", "5001");
    /* Without the flag, no check. */
    apply_ok(&h, dir, "{'memory': {'limit': 1000}}");
}

/* runc's ConvertCPUSharesToCgroupV2Value: 1 + ((shares - 2) * 9999) / 262142. */
static void
test_v2_apply_cpu_weight_conversion(void **state)
{
    static const struct {
        unsigned long long shares;
        const char *weight;
    } cases[] = {
        {2, "1"}, {1024, "39"}, {512, "20"},      {262144, "10000"},
        {1, "1"}, {3, "1"},     {100000, "3815"}, {1000000, "10000"},
    };
    cleanup_free char *dir = v2_cg(*state, ALL_CONTROLLERS), *mount = NULL;
    struct cgroup_hierarchy h = v2_hierarchy(*state, &mount);

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        cleanup_free char *json = xasprintf("{'cpu': {'shares': %llu}}", cases[i].shares);
        put(dir, "cpu.weight", "");
        apply_ok(&h, dir, json);
        cleanup_free char *got = get(dir, "cpu.weight");
        if (strcmp(got, cases[i].weight) != 0)
            fail_msg("shares %llu: weight `%s`, want `%s`", cases[i].shares, got, cases[i].weight);
    }
}

static void
test_v2_apply_cpu(void **state)
{
    cleanup_free char *dir = v2_cg(*state, ALL_CONTROLLERS), *mount = NULL;
    struct cgroup_hierarchy h = v2_hierarchy(*state, &mount);

    int w = watch(dir);
    apply_ok(&h, dir,
             "{'cpu': {'shares': 1024, 'quota': 50000, 'period': 100000, 'burst': 1000,"
             " 'idle': 0}}");
    assert_writes(w, "cpu.weight cpu.idle cpu.max.burst cpu.max");
    assert_file(dir, "cpu.weight", "39");
    assert_file(dir, "cpu.idle", "0");
    assert_file(dir, "cpu.max.burst", "1000");
    assert_file(dir, "cpu.max", "50000 100000");

    /* Quota alone; quota -1 is "max". */
    put(dir, "cpu.max", "");
    apply_ok(&h, dir, "{'cpu': {'quota': 20000}}");
    assert_file(dir, "cpu.max", "20000");
    put(dir, "cpu.max", "");
    apply_ok(&h, dir, "{'cpu': {'quota': -1, 'period': 10000}}");
    assert_file(dir, "cpu.max", "max 10000");
    /* A period alone keeps the quota in force. */
    put(dir, "cpu.max", "20000 10000\n");
    apply_ok(&h, dir, "{'cpu': {'period': 50000}}");
    assert_file(dir, "cpu.max", "20000 50000\n");
    put(dir, "cpu.max", "");
    apply_ok(&h, dir, "{'cpu': {'period': 50000}}");
    assert_file(dir, "cpu.max", "max 50000");

    /* Realtime has no v2 file; 0 is "not set" and fine. */
    apply_fails(&h, dir, "{'cpu': {'realtimeRuntime': 1000}}", ENOTSUP, "cgroup cpu: ", "realtime");
    apply_fails(&h, dir, "{'cpu': {'realtimePeriod': 1000}}", ENOTSUP, "realtime");
    apply_ok(&h, dir, "{'cpu': {'realtimePeriod': 0, 'realtimeRuntime': 0}}");
}

static void
test_v2_apply_cpuset_pids_hugetlb(void **state)
{
    cleanup_free char *dir = v2_cg(*state, ALL_CONTROLLERS), *mount = NULL;
    struct cgroup_hierarchy h = v2_hierarchy(*state, &mount);

    int w = watch(dir);
    apply_ok(&h, dir,
             "{'cpu': {'cpus': '0-1', 'mems': '0'}, 'pids': {'limit': 0},"
             " 'hugepageLimits': [{'pageSize': '2MB', 'limit': 2097152},"
             " {'pageSize': '1GB', 'limit': 0}]}");
    assert_writes(w, "cpuset.cpus cpuset.mems pids.max hugetlb.2MB.max hugetlb.2MB.rsvd.max "
                     "hugetlb.1GB.max");
    assert_file(dir, "cpuset.cpus", "0-1");
    assert_file(dir, "cpuset.mems", "0");
    assert_file(dir, "pids.max", "max");
    assert_file(dir, "hugetlb.2MB.max", "2097152");
    assert_file(dir, "hugetlb.2MB.rsvd.max", "2097152");
    assert_file(dir, "hugetlb.1GB.max", "0");
    put(dir, "pids.max", "");
    apply_ok(&h, dir, "{'pids': {'limit': 42}}");
    assert_file(dir, "pids.max", "42");
}

/* runc's ConvertBlkIOToIOWeightValue: 1 + (weight - 10) * 9999 / 990, when there is no BFQ. */
static void
test_v2_apply_io_weight_conversion(void **state)
{
    static const struct {
        unsigned weight;
        const char *io_weight;
    } cases[] = {{10, "1"}, {500, "4950"}, {1000, "10000"}, {100, "910"}, {11, "11"}};
    cleanup_free char *dir = v2_cg(*state, ALL_CONTROLLERS), *mount = NULL;
    struct cgroup_hierarchy h = v2_hierarchy(*state, &mount);

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        cleanup_free char *json = xasprintf("{'blockIO': {'weight': %u}}", cases[i].weight);
        put(dir, "io.weight", "");
        apply_ok(&h, dir, json);
        cleanup_free char *got = get(dir, "io.weight");
        if (strcmp(got, cases[i].io_weight) != 0)
            fail_msg("weight %u: io.weight `%s`, want `%s`", cases[i].weight, got,
                     cases[i].io_weight);
    }
    /* Per device, converted too; weight 0 is "not set". */
    put(dir, "io.weight", "");
    int w = watch(dir);
    apply_ok(&h, dir,
             "{'blockIO': {'weight': 0, 'leafWeight': 20, 'weightDevice':"
             " [{'major': 8, 'minor': 0, 'weight': 1000, 'leafWeight': 10},"
             "  {'major': 8, 'minor': 16, 'leafWeight': 10}]}}");
    assert_writes(w, "io.weight");
    assert_file(dir, "io.weight", "8:0 10000");
}

/* With BFQ, its own file takes blkio's weights unconverted. */
static void
test_v2_apply_io_bfq(void **state)
{
    cleanup_free char *dir = v2_cg(*state, ALL_CONTROLLERS), *mount = NULL;
    struct cgroup_hierarchy h = v2_hierarchy(*state, &mount);

    put(dir, "io.bfq.weight", "");
    int w = watch(dir);
    apply_ok(&h, dir,
             "{'blockIO': {'weight': 500, 'weightDevice': [{'major': 8, 'minor': 0, "
             "'weight': 30}]}}");
    assert_writes(w, "io.bfq.weight io.bfq.weight");
    assert_file(dir, "io.bfq.weight", "8:0 30");
}

/* io.max: one line a device, with every limit given for it. */
static void
test_v2_apply_io_max(void **state)
{
    cleanup_free char *dir = v2_cg(*state, ALL_CONTROLLERS), *mount = NULL;
    struct cgroup_hierarchy h = v2_hierarchy(*state, &mount);

    int w = watch(dir);
    apply_ok(&h, dir,
             "{'blockIO': {'throttleReadBpsDevice': [{'major': 8, 'minor': 0, 'rate': 1}],"
             " 'throttleWriteBpsDevice': [{'major': 8, 'minor': 0, 'rate': 2}],"
             " 'throttleReadIOPSDevice': [{'major': 8, 'minor': 0, 'rate': 3}],"
             " 'throttleWriteIOPSDevice': [{'major': 8, 'minor': 0, 'rate': 4}]}}");
    assert_writes(w, "io.max");
    assert_file(dir, "io.max", "8:0 rbps=1 wbps=2 riops=3 wiops=4");

    /* Two devices: two lines (the file shows the second, written last and longer). */
    put(dir, "io.max", "");
    w = watch(dir);
    apply_ok(&h, dir,
             "{'blockIO': {'throttleWriteBpsDevice': [{'major': 8, 'minor': 0, 'rate': 2}],"
             " 'throttleReadIOPSDevice': [{'major': 253, 'minor': 16, 'rate': 3}],"
             " 'throttleWriteIOPSDevice': [{'major': 253, 'minor': 16, 'rate': 4},"
             "                             {'major': 8, 'minor': 0, 'rate': 5}]}}");
    assert_writes(w, "io.max io.max");
    assert_file(dir, "io.max", "253:16 riops=3 wiops=4");
}

/* unified goes last, verbatim: it wins over the converted values. */
static void
test_v2_apply_unified(void **state)
{
    cleanup_free char *dir = v2_cg(*state, ALL_CONTROLLERS), *mount = NULL;
    struct cgroup_hierarchy h = v2_hierarchy(*state, &mount);

    int w = watch(dir);
    apply_ok(&h, dir,
             "{'memory': {'limit': 1000000}, 'pids': {'limit': 10},"
             " 'unified': {'memory.max': '2000000', 'cgroup.freeze': '0'}}");
    assert_writes(w, "memory.max pids.max memory.max cgroup.freeze");
    assert_file(dir, "memory.max", "2000000");
    assert_file(dir, "cgroup.freeze", "0");

    /* A file of a controller the cgroup does not have: the error says which. */
    apply_fails(&h, dir, "{'unified': {'rdma.max': 'mlx4_0 hca_handle=2'}}", ENOENT,
                "cgroup unified: open `", "/rdma.max`");
    put(dir, "cgroup.controllers", "cpu memory pids");
    apply_fails(&h, dir, "{'unified': {'rdma.max': 'mlx4_0 hca_handle=2'}}", ENOTSUP,
                "unified `rdma.max`: controller `rdma` is not available in `");
    apply_fails(&h, dir, "{'unified': {'nodot': '1'}}", EINVAL,
                "unified `nodot`: not a cgroup file");
}

/* On a pure v2 host, a setting for a controller the cgroup cannot use is an error naming it;
 * the v1-only settings are ignored. */
static void
test_v2_apply_missing_controller(void **state)
{
    cleanup_free char *dir = v2_cg(*state, "pids\n"), *mount = NULL;
    struct cgroup_hierarchy h = v2_hierarchy(*state, &mount);

    apply_fails(&h, dir, "{'memory': {'limit': 1000}}", ENOTSUP,
                "cgroup memory: ", "controller `memory` is not available in `");
    apply_fails(&h, dir, "{'cpu': {'shares': 1000}}", ENOTSUP, "controller `cpu`");
    apply_fails(&h, dir, "{'cpu': {'cpus': '0'}}", ENOTSUP, "controller `cpuset`");
    apply_fails(&h, dir, "{'blockIO': {'weight': 100}}", ENOTSUP, "controller `io`");
    apply_fails(&h, dir, "{'hugepageLimits': [{'pageSize': '2MB', 'limit': 1}]}", ENOTSUP,
                "controller `hugetlb`");
    int w = watch(dir);
    apply_ok(&h, dir,
             "{'pids': {'limit': 3}, 'memory': {'kernel': 1, 'swappiness': 5,"
             " 'disableOOMKiller': true}, 'blockIO': {'leafWeight': 100},"
             " 'network': {'classID': 1, 'priorities': [{'name': 'lo', 'priority': 1}]}}");
    assert_writes(w, "pids.max");
}

/* Devices on v2 become a BPF program attached to the directory: a plain directory is not a
 * cgroup, and the kernel says so. */
static void
test_v2_apply_devices_needs_cgroup(void **state)
{
    cleanup_free char *dir = v2_cg(*state, ALL_CONTROLLERS), *mount = NULL;
    struct cgroup_hierarchy h = v2_hierarchy(*state, &mount);
    struct berth_err err = BERTH_ERR_INIT;

    assert_int_equal(apply(&h, dir, "{'devices': [{'allow': false}]}", &err), -1);
    assert_non_null(strstr(err.msg, "cgroup devices: "));
    assert_true(err.code == EBADF || err.code == EPERM || err.code == EINVAL);
    berth_err_clear(&err);
}

/* ---- v2 prepare ---------------------------------------------------------------------------- */

static void
test_v2_prepare_enables_ancestors(void **state)
{
    static const char *const none[] = {NULL};
    cleanup_free char *mount = mkcg(*state, "unified", none);
    cleanup_free char *a = mkcg(mount, "a", none);
    cleanup_free char *b = mkcg(a, "b", none);
    cleanup_free char *c = mkcg(b, "c", none);
    struct cgroup_hierarchy h = hierarchy(mount, "", true);
    struct berth_err err = BERTH_ERR_INIT;

    put(mount, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
    put(mount, "cgroup.subtree_control", "");
    put(a, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma\n");
    put(a, "cgroup.subtree_control", "memory pids\n");
    put(b, "cgroup.controllers", "memory\n");
    put(b, "cgroup.subtree_control", "memory\n");
    put(c, "cgroup.controllers", "");
    put(c, "cgroup.subtree_control", "");

    assert_int_equal(ocirun_cgroup_v2_ops.prepare(&h, c, &err), 0);
    assert_null(err.msg);
    /* Only what each has and has not enabled yet; rdma and misc are not wanted; b has it
     * all already; c, the container's own, is left alone. */
    assert_file(mount, "cgroup.subtree_control", "+memory +pids +cpu +cpuset +io +hugetlb");
    assert_file(a, "cgroup.subtree_control", "+cpu +cpuset +io +hugetlb");
    assert_file(b, "cgroup.subtree_control", "memory\n");
    assert_file(c, "cgroup.subtree_control", "");

    /* The mount's root itself: no ancestors. */
    int w = watch(mount);
    assert_int_equal(ocirun_cgroup_v2_ops.prepare(&h, mount, &err), 0);
    assert_writes(w, "");
}

/* A refusal that is not ours to fix (here ENOENT, standing for EBUSY and EACCES too) is
 * skipped controller by controller; apply reports the missing controller later. Anything
 * else is an error. */
static void
test_v2_prepare_refusals(void **state)
{
    static const char *const none[] = {NULL};
    cleanup_free char *mount = mkcg(*state, "unified", none);
    cleanup_free char *c = mkcg(mount, "c", none);
    cleanup_free char *ctl = xasprintf("%s/cgroup.subtree_control", mount);
    struct cgroup_hierarchy h = hierarchy(mount, "", true);
    struct berth_err err = BERTH_ERR_INIT;

    put(mount, "cgroup.controllers", "memory pids\n");
    assert_int_equal(symlink("/nonexistent/berth", ctl), 0);
    assert_int_equal(ocirun_cgroup_v2_ops.prepare(&h, c, &err), 0);
    assert_null(err.msg);

    assert_int_equal(unlink(ctl), 0);
    assert_int_equal(mkdir(ctl, 0755), 0);
    assert_int_equal(ocirun_cgroup_v2_ops.prepare(&h, c, &err), -1);
    assert_int_equal(err.code, EISDIR);
    assert_non_null(strstr(err.msg, "enable controllers in `"));
    berth_err_clear(&err);

    /* An ancestor that is no cgroup at all. */
    assert_int_equal(rmdir(ctl), 0);
    cleanup_free char *avail = xasprintf("%s/cgroup.controllers", mount);
    assert_int_equal(unlink(avail), 0);
    assert_int_equal(ocirun_cgroup_v2_ops.prepare(&h, c, &err), -1);
    assert_int_equal(err.code, ENOENT);
    berth_err_clear(&err);
}

/* ---- The BPF device program ---------------------------------------------------------------- */

/* Run a device program the way the kernel would, for the instructions the generator emits;
 * returns its r0, or -1 on an instruction it should not have produced. */
static int
run(const struct bpf_insn *p, size_t n, int type, int access, uint32_t major, uint32_t minor)
{
    uint32_t ctx[3] = {(uint32_t)(access << 16 | type), major, minor};
    uint64_t reg[11] = {0};
    bool r1_ctx = true;
    for (size_t pc = 0; pc < n; pc++) {
        const struct bpf_insn *i = &p[pc];
        uint64_t src = BPF_SRC(i->code) == BPF_X ? reg[i->src_reg] : (uint64_t)(int64_t)i->imm;
        switch (i->code) {
        case BPF_LDX | BPF_MEM | BPF_W:
            if (i->src_reg != BPF_REG_1 || !r1_ctx || i->off < 0 || i->off > 8 || i->off % 4)
                return -1;
            reg[i->dst_reg] = ctx[i->off / 4];
            break;
        case BPF_ALU | BPF_AND | BPF_K: reg[i->dst_reg] = (uint32_t)(reg[i->dst_reg] & src); break;
        case BPF_ALU | BPF_RSH | BPF_K:
            reg[i->dst_reg] = (uint32_t)reg[i->dst_reg] >> i->imm;
            break;
        case BPF_ALU | BPF_MOV | BPF_K:
        case BPF_ALU | BPF_MOV | BPF_X: reg[i->dst_reg] = (uint32_t)src; break;
        case BPF_JMP | BPF_JNE | BPF_K:
        case BPF_JMP | BPF_JNE | BPF_X:
            if (reg[i->dst_reg] != src)
                pc += i->off;
            break;
        case BPF_JMP | BPF_JEQ | BPF_K:
            if (reg[i->dst_reg] == src)
                pc += i->off;
            break;
        case BPF_JMP | BPF_EXIT: return (int)reg[BPF_REG_0];
        default: return -1;
        }
        if (i->dst_reg == BPF_REG_1 && BPF_CLASS(i->code) != BPF_JMP)
            r1_ctx = false;
    }
    return -1; /* fell off the end */
}

#define C BPF_DEVCG_DEV_CHAR
#define B BPF_DEVCG_DEV_BLOCK
#define R BPF_DEVCG_ACC_READ
#define W BPF_DEVCG_ACC_WRITE
#define M BPF_DEVCG_ACC_MKNOD

static void
program(const char *json, struct bpf_insn **p, size_t *n)
{
    struct ocirun_resources r;
    struct berth_err err = BERTH_ERR_INIT;
    resources(json, &r);
    if (ocirun_bpf_devices_program(r.devices, r.n_devices, p, n, &err) < 0)
        fail_msg("program `%s`: %s", json, err.msg);
    ocirun_resources_free(&r);
}

/* Load p with bpf(2) to have the kernel's verifier check it: 1 loaded, 0 not permitted here
 * (no CAP_SYS_ADMIN), fails the test if refused. */
static int
verify(const struct bpf_insn *p, size_t n)
{
    static char log[64 * 1024];
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)p;
    attr.insn_cnt = (uint32_t)n;
    attr.license = (uint64_t)(uintptr_t) "Apache-2.0";
    attr.log_level = 1;
    attr.log_buf = (uint64_t)(uintptr_t)log;
    attr.log_size = sizeof(log);
    log[0] = '\0';
    int fd = (int)syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
    if (fd < 0 && (errno == EPERM || errno == ENOSYS))
        return 0;
    if (fd < 0)
        fail_msg("verifier refused the program: %s\n%s", strerror(errno), log);
    close(fd);
    return 1;
}

static void
test_bpf_program_empty_and_resets(void **state)
{
    struct bpf_insn *p = NULL;
    size_t n = 0;

    /* No rules: the prologue (6), then allow. */
    program("{'devices': []}", &p, &n);
    assert_int_equal(n, 8);
    assert_int_equal(p[6].code, BPF_ALU | BPF_MOV | BPF_K);
    assert_int_equal(p[6].imm, 1);
    assert_int_equal(p[7].code, BPF_JMP | BPF_EXIT);
    assert_int_equal(run(p, n, C, R, 1, 3), 1);
    verify(p, n);
    free(p);

    /* Deny-all alone is the default, not a block. */
    program("{'devices': [{'allow': false}]}", &p, &n);
    assert_int_equal(n, 8);
    assert_int_equal(p[6].imm, 0);
    assert_int_equal(run(p, n, C, R, 1, 3), 0);
    assert_int_equal(run(p, n, B, M, 8, 0), 0);
    verify(p, n);
    free(p);

    /* Rules before the last reset are dropped (they could never match). */
    program("{'devices': [{'allow': true, 'type': 'c', 'major': 1, 'minor': 3},"
            " {'allow': false}, {'allow': true}]}",
            &p, &n);
    assert_int_equal(n, 8);
    assert_int_equal(p[6].imm, 1);
    verify(p, n);
    free(p);
}

/* Instruction shapes: every test a rule needs, and only those. */
static void
test_bpf_program_shape(void **state)
{
    struct bpf_insn *p = NULL;
    size_t n = 0;

    /* type, access (3), major, minor, result, exit = 8 after the prologue, + default 2. */
    program("{'devices': [{'allow': false}, {'allow': true, 'type': 'c', 'major': 1, 'minor': 3,"
            " 'access': 'rw'}]}",
            &p, &n);
    assert_int_equal(n, 6 + 8 + 2);
    assert_int_equal(p[6].code, BPF_JMP | BPF_JNE | BPF_K);
    assert_int_equal(p[6].dst_reg, BPF_REG_2);
    assert_int_equal(p[6].imm, C);
    assert_int_equal(p[6].off, 7); /* to the default, past the 7 instructions after it */
    assert_int_equal(p[7].code, BPF_ALU | BPF_MOV | BPF_X);
    assert_int_equal(p[8].code, BPF_ALU | BPF_AND | BPF_K);
    assert_int_equal(p[8].imm, R | W);
    assert_int_equal(p[9].code, BPF_JMP | BPF_JNE | BPF_X);
    assert_int_equal(p[10].dst_reg, BPF_REG_4);
    assert_int_equal(p[10].imm, 1);
    assert_int_equal(p[11].dst_reg, BPF_REG_5);
    assert_int_equal(p[11].imm, 3);
    assert_int_equal(p[11].off, 2);
    assert_int_equal(p[12].imm, 1);
    assert_int_equal(p[13].code, BPF_JMP | BPF_EXIT);
    assert_int_equal(p[14].imm, 0);
    verify(p, n);
    free(p);

    /* Type 'a', wildcards and "rwm" need no test but the access one. */
    program("{'devices': [{'allow': false, 'type': 'a', 'access': 'm'}]}", &p, &n);
    assert_int_equal(n, 6 + 5 + 2);
    assert_int_equal(p[8].code, BPF_JMP | BPF_JEQ | BPF_K); /* deny: any overlap */
    verify(p, n);
    free(p);
    program("{'devices': [{'allow': false, 'type': 'b'}]}", &p, &n);
    assert_int_equal(n, 6 + 3 + 2);
    assert_int_equal(p[6].imm, B);
    verify(p, n);
    free(p);

    /* Numbers above INT32_MAX go through a register (an immediate is sign-extended). */
    program("{'devices': [{'allow': false}, {'allow': true, 'type': 'c', 'major': 4294967295,"
            " 'minor': 2147483648}]}",
            &p, &n);
    assert_int_equal(n, 6 + 7 + 2);
    assert_int_equal(p[7].code, BPF_ALU | BPF_MOV | BPF_K);
    assert_int_equal(p[8].code, BPF_JMP | BPF_JNE | BPF_X);
    assert_int_equal(run(p, n, C, R, 4294967295u, 2147483648u), 1);
    assert_int_equal(run(p, n, C, R, 4294967295u, 0), 0);
    assert_int_equal(run(p, n, C, R, 1, 2147483648u), 0);
    verify(p, n);
    free(p);
}

/* What the programs decide, run through the interpreter above. */
static void
test_bpf_program_semantics(void **state)
{
    struct bpf_insn *p = NULL;
    size_t n = 0;

    /* A typical default: deny all, mknod any char or block, a few char devices, and a deny
     * that overrides an earlier allow. */
    program("{'devices': [{'allow': false, 'access': 'rwm'},"
            " {'allow': true, 'type': 'c', 'access': 'm'},"
            " {'allow': true, 'type': 'b', 'access': 'm'},"
            " {'allow': true, 'type': 'c', 'major': 1, 'minor': 3, 'access': 'rwm'},"
            " {'allow': true, 'type': 'c', 'major': 1, 'minor': 5, 'access': 'rwm'},"
            " {'allow': true, 'type': 'c', 'major': 136, 'access': 'rw'},"
            " {'allow': true, 'type': 'b', 'major': 8, 'minor': 0, 'access': 'r'},"
            " {'allow': false, 'type': 'c', 'major': 1, 'minor': 5, 'access': 'w'}]}",
            &p, &n);
    static const struct {
        int type, access;
        uint32_t major, minor;
        int want;
    } cases[] = {
        {C, R | W, 1, 3, 1},       /* /dev/null */
        {C, M, 1, 3, 1},           /* mknod it */
        {C, M, 99, 99, 1},         /* mknod any char */
        {B, M, 8, 1, 1},           /* mknod any block */
        {C, R, 1, 5, 1},           /* /dev/zero read */
        {C, W, 1, 5, 0},           /* write denied by the later rule */
        {C, R | W, 1, 5, 0},       /* rw asks for w: denied (any overlap) */
        {C, R | W, 136, 0, 1},     /* pts */
        {C, R | W | M, 136, 0, 0}, /* rwm is not a subset of rw: no allow matches */
        {B, R, 8, 0, 1},           /* sda read */
        {B, R | W, 8, 0, 0},       /* sda rw: not a subset of r */
        {C, R, 10, 229, 0},        /* fuse: default deny */
        {B, R, 1, 3, 0},           /* block 1:3: the char rule does not match */
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        int got = run(p, n, cases[i].type, cases[i].access, cases[i].major, cases[i].minor);
        if (got != cases[i].want)
            fail_msg("case %zu (%c %u:%u access %d): got %d, want %d", i,
                     cases[i].type == C ? 'c' : 'b', cases[i].major, cases[i].minor,
                     cases[i].access, got, cases[i].want);
    }
    verify(p, n);
    free(p);

    /* No deny-all: a blacklist, allowed by default. */
    program("{'devices': [{'allow': false, 'type': 'c', 'major': 10, 'minor': 229}]}", &p, &n);
    assert_int_equal(run(p, n, C, R, 10, 229), 0);
    assert_int_equal(run(p, n, C, R, 10, 228), 1);
    assert_int_equal(run(p, n, B, R, 10, 229), 1);
    verify(p, n);
    free(p);

    /* The last matching rule wins, either way. */
    program("{'devices': [{'allow': false}, {'allow': true, 'type': 'c', 'major': 1},"
            " {'allow': false, 'type': 'c', 'major': 1, 'minor': 7},"
            " {'allow': true, 'type': 'c', 'major': 1, 'minor': 7, 'access': 'r'}]}",
            &p, &n);
    assert_int_equal(run(p, n, C, R, 1, 7), 1);
    assert_int_equal(run(p, n, C, W, 1, 7), 0);
    assert_int_equal(run(p, n, C, W, 1, 8), 1);
    verify(p, n);
    free(p);
}

static void
test_bpf_program_errors(void **state)
{
    struct ocirun_device_rule rules[2] = {
        {.allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm"},
        {.allow = true, .type = 'u', .major = 1, .minor = 3, .access = "rwm"},
    };
    struct bpf_insn *p = NULL;
    size_t n = 0;
    struct berth_err err = BERTH_ERR_INIT;

    assert_int_equal(ocirun_bpf_devices_program(rules, 2, &p, &n, &err), -1);
    assert_string_equal(err.msg, "devices[1]: device rule: unknown type `u`");
    assert_int_equal(err.code, EINVAL);
    assert_null(p);
    berth_err_clear(&err);
    rules[1].type = 'b';
    strcpy(rules[1].access, "rx");
    assert_int_equal(ocirun_bpf_devices_program(rules, 2, &p, &n, &err), -1);
    assert_string_equal(err.msg, "devices[1]: device rule: unknown access `x`");
    berth_err_clear(&err);
    strcpy(rules[1].access, "r");
    rules[0].minor = -2;
    assert_int_equal(ocirun_bpf_devices_program(rules, 2, &p, &n, &err), -1);
    assert_string_equal(err.msg, "devices[0]: device rule: 1:-2 out of range");
    berth_err_clear(&err);
}

/* ---- The real kernel ----------------------------------------------------------------------- */

/* A fresh cgroup under mount for this test, or NULL (skip) when there is no such hierarchy or
 * it cannot be written. */
static char *
real_cg(const char *mount, const char *what)
{
    struct statfs fs;
    if (geteuid() != 0 || statfs(mount, &fs) < 0)
        return NULL;
    char *dir = xasprintf("%s/berth-unit-%s-%d", mount, what, (int)getpid());
    if (mkdir(dir, 0755) < 0) {
        free(dir);
        return NULL;
    }
    return dir;
}

static void
rm_cg(const char *dir)
{
    for (int i = 0; rmdir(dir) < 0 && errno == EBUSY && i < 500; i++) {
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static char *
read_trim(const char *dir, const char *file)
{
    char *s = get(dir, file);
    if (!s)
        fail_msg("read `%s/%s`", dir, file);
    size_t l = strlen(s);
    while (l > 0 && s[l - 1] == '\n')
        s[--l] = '\0';
    return s;
}

#define assert_kernel(dir, file, want)                                                             \
    do {                                                                                           \
        cleanup_free char *got_ = read_trim(dir, file);                                            \
        if (strcmp(got_, want) != 0)                                                               \
            fail_msg("%s:%d: `%s`: kernel has `%s`, want `%s`", __FILE__, __LINE__, file, got_,    \
                     want);                                                                        \
    } while (0)

/* The limit/memsw ordering against the kernel, which refuses limit > memsw at every step. */
static void
test_real_v1_memory(void **state)
{
    cleanup_free char *dir = real_cg("/sys/fs/cgroup/memory", "mem");
    if (!dir)
        skip();
    struct cgroup_hierarchy h = hierarchy("/sys/fs/cgroup/memory", "memory", false);
    bool memsw = access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0;

    if (memsw) {
        apply_ok(&h, dir, "{'memory': {'limit': 209715200, 'swap': 419430400}}");
        assert_kernel(dir, "memory.limit_in_bytes", "209715200");
        assert_kernel(dir, "memory.memsw.limit_in_bytes", "419430400");
        /* Lower both below the current limit: limit first. */
        apply_ok(&h, dir, "{'memory': {'limit': 104857600, 'swap': 157286400}}");
        assert_kernel(dir, "memory.limit_in_bytes", "104857600");
        assert_kernel(dir, "memory.memsw.limit_in_bytes", "157286400");
        /* Raise both above: memsw first. */
        apply_ok(&h, dir, "{'memory': {'limit': 314572800, 'swap': 629145600}}");
        assert_kernel(dir, "memory.limit_in_bytes", "314572800");
        assert_kernel(dir, "memory.memsw.limit_in_bytes", "629145600");
        /* The kernel's own refusal names file and value. */
        apply_fails(&h, dir, "{'memory': {'swap': 1048576}}", EINVAL, "write `1048576` to `",
                    "memory.memsw.limit_in_bytes`");
        /* Back to unlimited. */
        apply_ok(&h, dir, "{'memory': {'limit': -1}}");
        assert_kernel(dir, "memory.limit_in_bytes", "9223372036854771712");
        assert_kernel(dir, "memory.memsw.limit_in_bytes", "9223372036854771712");
    }
    apply_ok(&h, dir,
             "{'memory': {'reservation': 52428800, 'swappiness': 10, 'disableOOMKiller': true,"
             " 'kernelTCP': 16777216, 'useHierarchy': true}}");
    assert_kernel(dir, "memory.soft_limit_in_bytes", "52428800");
    assert_kernel(dir, "memory.swappiness", "10");
    cleanup_free char *oom = read_trim(dir, "memory.oom_control");
    assert_non_null(strstr(oom, "oom_kill_disable 1"));
    if (access("/sys/fs/cgroup/memory/memory.kmem.tcp.limit_in_bytes", F_OK) == 0)
        assert_kernel(dir, "memory.kmem.tcp.limit_in_bytes", "16777216");
    rm_cg(dir);
}

static void
test_real_v1_cpu(void **state)
{
    const char *mount = access("/sys/fs/cgroup/cpu/cpu.shares", F_OK) == 0
                            ? "/sys/fs/cgroup/cpu"
                            : "/sys/fs/cgroup/cpu,cpuacct";
    cleanup_free char *dir = real_cg(mount, "cpu");
    if (!dir)
        skip();
    struct cgroup_hierarchy h =
        hierarchy(mount, strstr(mount, "cpuacct") ? "cpu,cpuacct" : "cpu", false);

    apply_ok(&h, dir, "{'cpu': {'shares': 512, 'period': 50000, 'quota': 25000, 'burst': 1000}}");
    assert_kernel(dir, "cpu.shares", "512");
    assert_kernel(dir, "cpu.cfs_period_us", "50000");
    assert_kernel(dir, "cpu.cfs_quota_us", "25000");
    if (access("/sys/fs/cgroup/cpu/cpu.cfs_burst_us", F_OK) == 0)
        assert_kernel(dir, "cpu.cfs_burst_us", "1000");
    apply_ok(&h, dir, "{'cpu': {'quota': -1}}");
    assert_kernel(dir, "cpu.cfs_quota_us", "-1");
    /* The kernel clamps shares silently; apply says so. */
    apply_fails(&h, dir, "{'cpu': {'shares': 1}}", EINVAL,
                "cpu.shares: 1 out of range (the kernel set 2)");
    if (access("/sys/fs/cgroup/cpu/cpu.rt_runtime_us", F_OK) == 0) {
        apply_ok(&h, dir, "{'cpu': {'realtimePeriod': 1000000, 'realtimeRuntime': 1000}}");
        assert_kernel(dir, "cpu.rt_period_us", "1000000");
        assert_kernel(dir, "cpu.rt_runtime_us", "1000");
    }
    rm_cg(dir);
}

static void
test_real_v1_cpuset_pids(void **state)
{
    cleanup_free char *cs = real_cg("/sys/fs/cgroup/cpuset", "cpuset");
    cleanup_free char *pd = real_cg("/sys/fs/cgroup/pids", "pids");
    if (!cs || !pd) {
        if (cs)
            rm_cg(cs);
        if (pd)
            rm_cg(pd);
        skip();
    }
    struct cgroup_hierarchy hc = hierarchy("/sys/fs/cgroup/cpuset", "cpuset", false);
    struct cgroup_hierarchy hp = hierarchy("/sys/fs/cgroup/pids", "pids", false);
    struct berth_err err = BERTH_ERR_INIT;

    assert_int_equal(ocirun_cgroup_v1_ops.prepare(&hc, cs, &err), 0);
    apply_ok(&hc, cs, "{'cpu': {'cpus': '0', 'mems': '0'}}");
    assert_kernel(cs, "cpuset.cpus", "0");
    assert_kernel(cs, "cpuset.mems", "0");
    apply_ok(&hp, pd, "{'pids': {'limit': 64}}");
    assert_kernel(pd, "pids.max", "64");
    apply_ok(&hp, pd, "{'pids': {'limit': 0}}");
    assert_kernel(pd, "pids.max", "max");
    rm_cg(cs);
    rm_cg(pd);
}

/* The first whole disk in /sys/block with a device number, as "major:minor". */
static bool
some_disk(char *out, size_t len)
{
    cleanup_dir DIR *d = opendir("/sys/block");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.' || !strncmp(e->d_name, "loop", 4) ||
            !strncmp(e->d_name, "ram", 3) || !strncmp(e->d_name, "zram", 4))
            continue;
        cleanup_free char *blk = xasprintf("/sys/block/%s", e->d_name);
        cleanup_free char *dev = get(blk, "dev");
        unsigned major, minor;
        if (dev && sscanf(dev, "%u:%u", &major, &minor) == 2) {
            snprintf(out, len, "%u:%u", major, minor);
            return true;
        }
    }
    return false;
}

static void
test_real_v1_blkio(void **state)
{
    char disk[32];
    if (!some_disk(disk, sizeof(disk)))
        skip();
    cleanup_free char *dir = real_cg("/sys/fs/cgroup/blkio", "blkio");
    if (!dir)
        skip();
    struct cgroup_hierarchy h = hierarchy("/sys/fs/cgroup/blkio", "blkio", false);
    unsigned major, minor;
    assert_int_equal(sscanf(disk, "%u:%u", &major, &minor), 2);

    cleanup_free char *json = xasprintf(
        "{'blockIO': {'throttleReadBpsDevice': [{'major': %u, 'minor': %u, 'rate': 1048576}],"
        " 'throttleWriteIOPSDevice': [{'major': %u, 'minor': %u, 'rate': 100}]}}",
        major, minor, major, minor);
    apply_ok(&h, dir, json);
    cleanup_free char *bps = xasprintf("%s 1048576", disk);
    cleanup_free char *iops = xasprintf("%s 100", disk);
    assert_kernel(dir, "blkio.throttle.read_bps_device", bps);
    assert_kernel(dir, "blkio.throttle.write_iops_device", iops);
    /* The weight goes to CFQ's file or BFQ's, whichever the kernel has. */
    cleanup_free char *bfq = xasprintf("%s/blkio.bfq.weight", dir);
    cleanup_free char *cfq = xasprintf("%s/blkio.weight", dir);
    if (access(bfq, F_OK) == 0 || access(cfq, F_OK) == 0) {
        apply_ok(&h, dir, "{'blockIO': {'weight': 500, 'leafWeight': 500}}");
        cleanup_free char *w =
            read_trim(dir, access(cfq, F_OK) == 0 ? "blkio.weight" : "blkio.bfq.weight");
        assert_non_null(strstr(w, "500"));
    }
    rm_cg(dir);
}

static void
test_real_v1_devices(void **state)
{
    cleanup_free char *dir = real_cg("/sys/fs/cgroup/devices", "dev");
    if (!dir)
        skip();
    struct cgroup_hierarchy h = hierarchy("/sys/fs/cgroup/devices", "devices", false);

    /* In default-deny mode a deny rule takes access away from a matching exception. */
    apply_ok(&h, dir,
             "{'devices': [{'allow': false, 'access': 'rwm'},"
             " {'allow': true, 'type': 'c', 'major': 1, 'minor': 3, 'access': 'rwm'},"
             " {'allow': true, 'type': 'c', 'access': 'm'},"
             " {'allow': true, 'type': 'b', 'major': 8, 'minor': 0, 'access': 'r'},"
             " {'allow': false, 'type': 'c', 'major': 1, 'minor': 3, 'access': 'w'}]}");
    assert_kernel(dir, "devices.list", "c 1:3 rm\nc *:* m\nb 8:0 r");
    apply_ok(&h, dir, "{'devices': [{'allow': true, 'access': 'rwm'}]}");
    assert_kernel(dir, "devices.list", "a *:* rwm");
    rm_cg(dir);
}

/* The cgroup2 mount, when there is one (/sys/fs/cgroup itself, or unified on a hybrid host). */
static const char *
cgroup2_mount(void)
{
    static const char *const candidates[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
    for (size_t i = 0; i < ARRAY_SIZE(candidates); i++) {
        struct statfs fs;
        if (statfs(candidates[i], &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
            return candidates[i];
    }
    return NULL;
}

/* In a child: join the cgroup at dir, open /dev/null; exit 0 if the result is want_errno
 * (0: success), else 10 + the errno seen (1 when the open succeeded unexpectedly). */
static int
open_null_in(const char *dir, int want_errno)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(20);
        cleanup_free char *procs = xasprintf("%s/cgroup.procs", dir);
        int pfd = open(procs, O_WRONLY | O_CLOEXEC);
        if (pfd < 0 || write(pfd, "0", 1) != 1)
            _exit(2);
        close(pfd);
        int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        int e = fd < 0 ? errno : 0;
        if (e == want_errno)
            _exit(0);
        _exit(e ? 10 + e : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* A deny-all program attached to a real cgroup2 directory must refuse /dev/null with EPERM
 * to a task in it; attaching again replaces the program (an allow-all lets it through). */
static void
test_real_bpf_attach(void **state)
{
    const char *mount = cgroup2_mount();
    if (!mount)
        skip();
    cleanup_free char *dir = real_cg(mount, "bpf");
    if (!dir)
        skip();
    struct bpf_insn *deny = NULL, *allow = NULL, *null_only = NULL;
    size_t n_deny = 0, n_allow = 0, n_null = 0;
    struct berth_err err = BERTH_ERR_INIT;
    program("{'devices': [{'allow': false}]}", &deny, &n_deny);
    program("{'devices': [{'allow': true}]}", &allow, &n_allow);
    program("{'devices': [{'allow': false}, {'allow': true, 'type': 'c', 'major': 1,"
            " 'minor': 3, 'access': 'rw'}]}",
            &null_only, &n_null);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);

    if (ocirun_bpf_devices_attach(fd, deny, n_deny, &err) < 0) {
        bool no_bpf = err.code == EPERM || err.code == ENOSYS || err.code == EINVAL;
        berth_err_clear(&err);
        close(fd);
        rm_cg(dir);
        free(deny), free(allow), free(null_only);
        if (no_bpf)
            skip();
        fail_msg("attach failed");
    }
    assert_int_equal(open_null_in(dir, EPERM), 0);
    assert_int_equal(ocirun_bpf_devices_attach(fd, allow, n_allow, &err), 0);
    assert_int_equal(open_null_in(dir, 0), 0);
    assert_int_equal(ocirun_bpf_devices_attach(fd, null_only, n_null, &err), 0);
    assert_int_equal(open_null_in(dir, 0), 0);

    /* One program at a time: each attach replaced the one before. */
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.query.target_fd = (uint32_t)fd;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    assert_int_equal(syscall(__NR_bpf, BPF_PROG_QUERY, &attr, sizeof(attr)), 0);
    assert_int_equal(attr.query.prog_cnt, 1);
    assert_true(attr.query.attach_flags & BPF_F_ALLOW_MULTI);

    close(fd);
    rm_cg(dir);
    free(deny), free(allow), free(null_only);
}

/* On a hybrid host the unified hierarchy has no controllers: apply leaves everything to v1
 * (nothing written, no device program), but still writes unified. */
static void
test_real_v2_apply_hybrid(void **state)
{
    struct statfs fs;
    if (statfs("/sys/fs/cgroup", &fs) < 0 || fs.f_type == CGROUP2_SUPER_MAGIC ||
        statfs("/sys/fs/cgroup/unified", &fs) < 0 || fs.f_type != CGROUP2_SUPER_MAGIC)
        skip();
    cleanup_free char *dir = real_cg("/sys/fs/cgroup/unified", "hyb");
    if (!dir)
        skip();
    struct cgroup_hierarchy h = hierarchy("/sys/fs/cgroup/unified", "", true);
    cleanup_free char *avail = read_trim(dir, "cgroup.controllers");
    if (strstr(avail, "memory") || strstr(avail, "pids")) {
        rm_cg(dir);
        skip(); /* someone enabled controllers on unified: not the layout under test */
    }
    apply_ok(&h, dir,
             "{'memory': {'limit': 1000000}, 'pids': {'limit': 5}, 'devices': [{'allow': false}],"
             " 'unified': {'cgroup.max.descendants': '7'}}");
    assert_kernel(dir, "cgroup.max.descendants", "7");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.query.target_fd = (uint32_t)fd;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    if (syscall(__NR_bpf, BPF_PROG_QUERY, &attr, sizeof(attr)) == 0)
        assert_int_equal(attr.query.prog_cnt, 0);
    close(fd);
    rm_cg(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_v1_apply_memory_every_field, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v1_apply_memory_raise_order, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v1_apply_memory_unlimited, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v1_apply_memory_zero_and_false, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v1_apply_memory_no_kmem, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v1_apply_memory_no_memsw, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v1_apply_memory_refused, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v1_apply_cpu, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v1_apply_cpu_no_burst, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v1_apply_cpuset_pids, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v1_apply_blkio_bfq, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v1_apply_blkio_cfq, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v1_apply_hugetlb_net, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v1_apply_devices, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v1_apply_only_own_controllers, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v2_apply_memory, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v2_apply_memory_swap_conversion, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v2_apply_memory_no_swap_file, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v2_apply_memory_check_before_update, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v2_apply_cpu_weight_conversion, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v2_apply_cpu, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v2_apply_cpuset_pids_hugetlb, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v2_apply_io_weight_conversion, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v2_apply_io_bfq, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v2_apply_io_max, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v2_apply_unified, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v2_apply_missing_controller, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v2_apply_devices_needs_cgroup, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v2_prepare_enables_ancestors, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_v2_prepare_refusals, setup_tmp, teardown_tmp),
        cmocka_unit_test(test_bpf_program_empty_and_resets),
        cmocka_unit_test(test_bpf_program_shape),
        cmocka_unit_test(test_bpf_program_semantics),
        cmocka_unit_test(test_bpf_program_errors),
        cmocka_unit_test(test_real_v1_memory),
        cmocka_unit_test(test_real_v1_cpu),
        cmocka_unit_test(test_real_v1_cpuset_pids),
        cmocka_unit_test(test_real_v1_blkio),
        cmocka_unit_test(test_real_v1_devices),
        cmocka_unit_test(test_real_bpf_attach),
        cmocka_unit_test(test_real_v2_apply_hybrid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
