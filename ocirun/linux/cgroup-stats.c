// SPDX-License-Identifier: Apache-2.0
//
// Reading cgroup statistics (see cgroup-stats.h). Each reader looks for its file in every
// directory of the container, so the same code serves v1 (one directory per controller) and
// v2 (one directory for all).

#include "ocirun/linux/cgroup-stats.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"

/* The content of the first existing <dir>/<file> among paths (heap), or NULL. */
static char *
slurp(char *const *paths, const char *file)
{
    for (char *const *p = paths; p && *p; p++) {
        cleanup_free char *path = xasprintf("%s/%s", *p, file);
        char *buf = NULL;
        struct berth_err err = BERTH_ERR_INIT;
        if (berth_fs_read_file(path, &buf, NULL, &err) == 0)
            return buf;
        berth_err_clear(&err);
    }
    return NULL;
}

/* A file holding one number ("max" reads as UINT64_MAX). Returns 0 when found. */
static int
read_u64(char *const *paths, const char *file, uint64_t *out)
{
    cleanup_free char *s = slurp(paths, file);
    if (!s)
        return -1;
    *out = strncmp(s, "max", 3) == 0 ? UINT64_MAX : strtoull(s, NULL, 10);
    return 0;
}

/* "key value" lines: the value of key, or -1 when absent. */
static int
kv(const char *text, const char *key, uint64_t *out)
{
    size_t n = strlen(key);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, key, n) == 0 && l[n] == ' ') {
            *out = strtoull(l + n + 1, NULL, 10);
            return 0;
        }
    }
    return -1;
}

static void
add_u64(struct json_object *o, const char *key, uint64_t v)
{
    json_object_object_add(o, key, json_object_new_uint64(v));
}

static struct json_object *
cpu_stats(char *const *paths)
{
    struct json_object *cpu = json_object_new_object(), *usage = json_object_new_object();
    struct json_object *thr = json_object_new_object();
    uint64_t v;
    cleanup_free char *stat = slurp(paths, "cpu.stat");
    if (read_u64(paths, "cpuacct.usage", &v) == 0) {
        /* v1: cpuacct, in ns; cpuacct.stat is in clock ticks. */
        add_u64(usage, "total", v);
        static const struct {
            const char *file, *key;
        } per[] = {{"cpuacct.usage_percpu", "percpu"},
                   {"cpuacct.usage_percpu_sys", "percpu_kernel"},
                   {"cpuacct.usage_percpu_user", "percpu_user"}};
        for (size_t i = 0; i < ARRAY_SIZE(per); i++) {
            cleanup_free char *text = slurp(paths, per[i].file);
            if (!text)
                continue;
            struct json_object *arr = json_object_new_array();
            char *save = NULL;
            for (char *t = strtok_r(text, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
                json_object_array_add(arr, json_object_new_uint64(strtoull(t, NULL, 10)));
            json_object_object_add(usage, per[i].key, arr);
        }
        cleanup_free char *acct = slurp(paths, "cpuacct.stat");
        long hz = sysconf(_SC_CLK_TCK);
        uint64_t ns_per_tick = hz > 0 ? 1000000000ULL / (uint64_t)hz : 10000000ULL;
        if (acct && kv(acct, "system", &v) == 0)
            add_u64(usage, "kernel", v * ns_per_tick);
        if (acct && kv(acct, "user", &v) == 0)
            add_u64(usage, "user", v * ns_per_tick);
    } else if (stat && kv(stat, "usage_usec", &v) == 0) {
        /* v2: cpu.stat, in µs. */
        add_u64(usage, "total", v * 1000);
        if (kv(stat, "system_usec", &v) == 0)
            add_u64(usage, "kernel", v * 1000);
        if (kv(stat, "user_usec", &v) == 0)
            add_u64(usage, "user", v * 1000);
    }
    if (stat) {
        if (kv(stat, "nr_periods", &v) == 0)
            add_u64(thr, "periods", v);
        if (kv(stat, "nr_throttled", &v) == 0)
            add_u64(thr, "throttledPeriods", v);
        if (kv(stat, "throttled_time", &v) == 0) /* v1: ns */
            add_u64(thr, "throttledTime", v);
        else if (kv(stat, "throttled_usec", &v) == 0)
            add_u64(thr, "throttledTime", v * 1000);
    }
    json_object_object_add(cpu, "usage", usage);
    json_object_object_add(cpu, "throttling", thr);
    return cpu;
}

/* One memory entry (usage, swap, kernel) from v1 files "<prefix>.usage_in_bytes" etc. */
static struct json_object *
v1_mem_entry(char *const *paths, const char *prefix)
{
    struct json_object *e = json_object_new_object();
    static const struct {
        const char *suffix, *key;
    } f[] = {{"limit_in_bytes", "limit"},
             {"usage_in_bytes", "usage"},
             {"max_usage_in_bytes", "max"},
             {"failcnt", "failcnt"}};
    for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
        uint64_t v;
        cleanup_free char *name = xasprintf("%s.%s", prefix, f[i].suffix);
        if (read_u64(paths, name, &v) == 0)
            add_u64(e, f[i].key, v);
    }
    return e;
}

static struct json_object *
memory_stats(char *const *paths)
{
    struct json_object *m = json_object_new_object(), *raw = json_object_new_object();
    uint64_t v;
    cleanup_free char *stat = slurp(paths, "memory.stat");
    if (read_u64(paths, "memory.usage_in_bytes", &v) == 0) {
        json_object_object_add(m, "usage", v1_mem_entry(paths, "memory"));
        json_object_object_add(m, "swap", v1_mem_entry(paths, "memory.memsw"));
        json_object_object_add(m, "kernel", v1_mem_entry(paths, "memory.kmem"));
        json_object_object_add(m, "kernelTCP", v1_mem_entry(paths, "memory.kmem.tcp"));
        if (stat && kv(stat, "cache", &v) == 0)
            add_u64(m, "cache", v);
    } else if (read_u64(paths, "memory.current", &v) == 0) {
        struct json_object *u = json_object_new_object(), *sw = json_object_new_object();
        add_u64(u, "usage", v);
        if (read_u64(paths, "memory.max", &v) == 0)
            add_u64(u, "limit", v);
        if (read_u64(paths, "memory.peak", &v) == 0)
            add_u64(u, "max", v);
        cleanup_free char *ev = slurp(paths, "memory.events");
        if (ev && kv(ev, "max", &v) == 0)
            add_u64(u, "failcnt", v);
        if (read_u64(paths, "memory.swap.current", &v) == 0)
            add_u64(sw, "usage", v);
        if (read_u64(paths, "memory.swap.max", &v) == 0)
            add_u64(sw, "limit", v);
        json_object_object_add(m, "usage", u);
        json_object_object_add(m, "swap", sw);
        if (stat && kv(stat, "file", &v) == 0)
            add_u64(m, "cache", v);
    }
    if (stat) {
        char *save = NULL;
        for (char *l = strtok_r(stat, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            char *sp = strchr(l, ' ');
            if (!sp)
                continue;
            *sp = '\0';
            add_u64(raw, l, strtoull(sp + 1, NULL, 10));
        }
    }
    json_object_object_add(m, "raw", raw);
    return m;
}

static struct json_object *
pids_stats(char *const *paths)
{
    struct json_object *p = json_object_new_object();
    uint64_t v;
    if (read_u64(paths, "pids.current", &v) == 0)
        add_u64(p, "current", v);
    if (read_u64(paths, "pids.max", &v) == 0 && v != UINT64_MAX)
        add_u64(p, "limit", v);
    return p;
}

/* v1 blkio "maj:min Op value" lines into BlkioEntry objects. */
static struct json_object *
blkio_entries(char *const *paths, const char *file)
{
    cleanup_free char *text = slurp(paths, file);
    struct json_object *arr = json_object_new_array();
    char *save = NULL;
    for (char *l = text ? strtok_r(text, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
        unsigned long long maj, min, val;
        char op[32];
        if (sscanf(l, "%llu:%llu %31s %llu", &maj, &min, op, &val) != 4)
            continue;
        struct json_object *e = json_object_new_object();
        add_u64(e, "major", maj);
        add_u64(e, "minor", min);
        json_object_object_add(e, "op", json_object_new_string(op));
        add_u64(e, "value", val);
        json_object_array_add(arr, e);
    }
    return arr;
}

static struct json_object *
blkio_stats(char *const *paths)
{
    struct json_object *b = json_object_new_object();
    json_object_object_add(b, "ioServiceBytesRecursive",
                           blkio_entries(paths, "blkio.throttle.io_service_bytes_recursive"));
    json_object_object_add(b, "ioServicedRecursive",
                           blkio_entries(paths, "blkio.throttle.io_serviced_recursive"));
    return b;
}

/* A cpu or node list ("0-3,8") as an array of numbers. */
static struct json_object *
id_list(const char *text)
{
    struct json_object *arr = json_object_new_array();
    cleanup_free char *copy = xstrdup(text);
    char *save = NULL;
    for (char *r = strtok_r(copy, ",\n ", &save); r; r = strtok_r(NULL, ",\n ", &save)) {
        unsigned long a = strtoul(r, NULL, 10), b = a;
        char *dash = strchr(r, '-');
        if (dash)
            b = strtoul(dash + 1, NULL, 10);
        for (unsigned long i = a; i <= b && i - a < 4096; i++)
            json_object_array_add(arr, json_object_new_uint64(i));
    }
    return arr;
}

static struct json_object *
cpuset_stats(char *const *paths)
{
    struct json_object *c = json_object_new_object();
    static const char *const flags[] = {
        "cpu_exclusive",      "mem_exclusive",      "mem_hardwall",
        "memory_migrate",     "memory_pressure",    "memory_spread_page",
        "memory_spread_slab", "sched_load_balance", "sched_relax_domain_level",
    };
    cleanup_free char *cpus = slurp(paths, "cpuset.effective_cpus");
    cleanup_free char *mems = slurp(paths, "cpuset.effective_mems");
    if (!cpus)
        cpus = slurp(paths, "cpuset.cpus");
    if (!mems)
        mems = slurp(paths, "cpuset.mems");
    if (cpus)
        json_object_object_add(c, "cpus", id_list(cpus));
    if (mems)
        json_object_object_add(c, "mems", id_list(mems));
    for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
        cleanup_free char *file = xasprintf("cpuset.%s", flags[i]);
        cleanup_free char *v = slurp(paths, file);
        if (v)
            json_object_object_add(c, flags[i], json_object_new_int64(strtoll(v, NULL, 10)));
    }
    return c;
}

struct json_object *
ocirun_cgroup_stats(char *const *paths)
{
    struct json_object *s = json_object_new_object();
    json_object_object_add(s, "cpu", cpu_stats(paths));
    json_object_object_add(s, "cpuset", cpuset_stats(paths));
    json_object_object_add(s, "memory", memory_stats(paths));
    json_object_object_add(s, "pids", pids_stats(paths));
    json_object_object_add(s, "blkio", blkio_stats(paths));
    json_object_object_add(s, "hugetlb", json_object_new_object());
    json_object_object_add(s, "intel_rdt", json_object_new_object());
    json_object_object_add(s, "network_interfaces", NULL);
    return s;
}

uint64_t
ocirun_cgroup_oom_kills(char *const *paths)
{
    uint64_t v = 0;
    cleanup_free char *ev = slurp(paths, "memory.events");
    if (ev && kv(ev, "oom_kill", &v) == 0)
        return v;
    cleanup_free char *ctl = slurp(paths, "memory.oom_control");
    if (ctl && kv(ctl, "oom_kill", &v) == 0)
        return v;
    return 0;
}
