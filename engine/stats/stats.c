/* SPDX-License-Identifier: Apache-2.0
 *
 * docker's stats document from the runtime's (stats.h). The runtime's document is runc's
 * events "data" (camelCase names, nanoseconds, cgroup v1 and v2 alike); docker's is
 * types.StatsJSON, in its field order:
 *
 *   read, preread, pids_stats, blkio_stats, num_procs, storage_stats, cpu_stats, precpu_stats,
 *   memory_stats, name, id (networks: the caller's)
 *
 * Fields docker marks omitempty are left out when zero or absent, and the blkio lists docker
 * leaves nil are null. A figure of the wrong type in the runtime's document is treated as
 * absent: the document comes from a runtime that may be newer or older than this code.
 */
#include "engine/stats/stats.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "engine/logs/timestamp.h"

/* Go's zero time, which docker prints as preread before there is a previous read. */
#define ZERO_TIME "0001-01-01T00:00:00Z"

/* ---- The host ---------------------------------------------------------------------------- */

int
eng_stats_host_parse(const char *proc_stat, const char *meminfo, struct eng_stats_host *out,
                     struct berth_err *err)
{
    long hz = sysconf(_SC_CLK_TCK);
    bool has_cpu = false;

    memset(out, 0, sizeof(*out));
    if (hz <= 0)
        hz = 100;
    for (const char *l = proc_stat; l && *l;) {
        const char *eol = strchrnul(l, '\n');
        if (strncmp(l, "cpu ", 4) == 0) {
            /* user nice system idle iowait irq softirq, in clock ticks; steal and guest are
             * left out, as docker leaves them out */
            const char *p = l + 4;
            uint64_t ticks = 0;
            for (int i = 0; i < 7; i++) {
                char *end;
                ticks += strtoull(p, &end, 10);
                p = end;
            }
            out->system_cpu_usage = ticks * (1000000000ULL / (uint64_t)hz);
            has_cpu = true;
        } else if (strncmp(l, "cpu", 3) == 0 && l[3] >= '0' && l[3] <= '9') {
            out->online_cpus++;
        }
        l = *eol ? eol + 1 : eol;
    }
    if (!has_cpu)
        return berth_err_fail(err, 0, "/proc/stat: no `cpu` line");
    const char *mt = meminfo ? strstr(meminfo, "MemTotal:") : NULL;
    if (mt)
        out->mem_total = strtoull(mt + strlen("MemTotal:"), NULL, 10) * 1024; /* kB */
    return 0;
}

int
eng_stats_host_read(struct eng_stats_host *out, struct berth_err *err)
{
    cleanup_free char *stat = NULL, *meminfo = NULL;
    cleanup_err struct berth_err ignored = BERTH_ERR_INIT;

    if (berth_fs_read_file("/proc/stat", &stat, NULL, err) < 0)
        return -1;
    /* without meminfo, memory limits are printed as the cgroup has them */
    berth_fs_read_file("/proc/meminfo", &meminfo, NULL, &ignored);
    return eng_stats_host_parse(stat, meminfo, out, err);
}

/* ---- Reading the runtime's document ------------------------------------------------------ */

/* The object at key in o, or NULL. */
static struct json_object *
obj_at(struct json_object *o, const char *key)
{
    struct json_object *v;

    if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_object))
        return v;
    return NULL;
}

static struct json_object *
array_at(struct json_object *o, const char *key)
{
    struct json_object *v;

    if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_array))
        return v;
    return NULL;
}

/* The unsigned number at key: true and *out, or false when absent or not a number >= 0. */
static bool
u64_at(struct json_object *o, const char *key, uint64_t *out)
{
    struct json_object *v;

    if (!o || !json_object_object_get_ex(o, key, &v))
        return false;
    if (json_object_is_type(v, json_type_int)) {
        if (json_object_get_int64(v) < 0 && json_object_get_uint64(v) == 0)
            return false;
        *out = json_object_get_uint64(v);
        return true;
    }
    if (json_object_is_type(v, json_type_double) && json_object_get_double(v) >= 0) {
        *out = (uint64_t)json_object_get_double(v);
        return true;
    }
    return false;
}

static uint64_t
u64_or_0(struct json_object *o, const char *key)
{
    uint64_t v = 0;

    u64_at(o, key, &v);
    return v;
}

static void
add_u64(struct json_object *o, const char *key, uint64_t v)
{
    json_object_object_add(o, key, json_object_new_uint64(v));
}

/* An omitempty field: added only when not zero. */
static void
add_u64_nz(struct json_object *o, const char *key, uint64_t v)
{
    if (v != 0)
        add_u64(o, key, v);
}

/* ---- docker's parts ---------------------------------------------------------------------- */

static struct json_object *
pids_stats(struct json_object *data)
{
    struct json_object *pids = obj_at(data, "pids"), *out = json_object_new_object();

    add_u64_nz(out, "current", u64_or_0(pids, "current"));
    add_u64_nz(out, "limit", u64_or_0(pids, "limit"));
    return out;
}

/* runc's BlkioEntry list as docker's BlkioStatEntry list, or null when the runtime has none. */
static struct json_object *
blkio_list(struct json_object *blkio, const char *key)
{
    struct json_object *in = array_at(blkio, key);

    if (!in)
        return NULL;
    struct json_object *out = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(in); i++) {
        struct json_object *e = json_object_array_get_idx(in, i), *op;
        if (!json_object_is_type(e, json_type_object))
            continue;
        struct json_object *d = json_object_new_object();
        add_u64(d, "major", u64_or_0(e, "major"));
        add_u64(d, "minor", u64_or_0(e, "minor"));
        json_object_object_add(d, "op",
                               json_object_object_get_ex(e, "op", &op) &&
                                       json_object_is_type(op, json_type_string)
                                   ? json_object_new_string(json_object_get_string(op))
                                   : json_object_new_string(""));
        add_u64(d, "value", u64_or_0(e, "value"));
        json_object_array_add(out, d);
    }
    return out;
}

static struct json_object *
blkio_stats(struct json_object *data)
{
    static const struct {
        const char *docker, *runc;
    } lists[] = {
        {"io_service_bytes_recursive", "ioServiceBytesRecursive"},
        {"io_serviced_recursive", "ioServicedRecursive"},
        {"io_queue_recursive", "ioQueuedRecursive"},
        {"io_service_time_recursive", "ioServiceTimeRecursive"},
        {"io_wait_time_recursive", "ioWaitTimeRecursive"},
        {"io_merged_recursive", "ioMergedRecursive"},
        {"io_time_recursive", "ioTimeRecursive"},
        {"sectors_recursive", "sectorsRecursive"},
    };
    struct json_object *blkio = obj_at(data, "blkio"), *out = json_object_new_object();

    for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
        json_object_object_add(out, lists[i].docker, blkio_list(blkio, lists[i].runc));
    return out;
}

static struct json_object *
cpu_stats(struct json_object *data, const struct eng_stats_host *host)
{
    struct json_object *cpu = obj_at(data, "cpu"), *usage = obj_at(cpu, "usage");
    struct json_object *thr = obj_at(cpu, "throttling");
    struct json_object *out = json_object_new_object(), *u = json_object_new_object();
    struct json_object *percpu = array_at(usage, "percpu");

    add_u64(u, "total_usage", u64_or_0(usage, "total"));
    /* v1 only (cpuacct.usage_percpu); docker leaves it out on v2 */
    if (percpu && json_object_array_length(percpu) > 0) {
        struct json_object *arr = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(percpu); i++)
            json_object_array_add(arr, json_object_new_uint64(json_object_get_uint64(
                                           json_object_array_get_idx(percpu, i))));
        json_object_object_add(u, "percpu_usage", arr);
    }
    add_u64(u, "usage_in_kernelmode", u64_or_0(usage, "kernel"));
    add_u64(u, "usage_in_usermode", u64_or_0(usage, "user"));
    json_object_object_add(out, "cpu_usage", u);

    add_u64_nz(out, "system_cpu_usage", host->system_cpu_usage);
    if (host->online_cpus)
        add_u64(out, "online_cpus", host->online_cpus);

    struct json_object *t = json_object_new_object();
    add_u64(t, "periods", u64_or_0(thr, "periods"));
    add_u64(t, "throttled_periods", u64_or_0(thr, "throttledPeriods"));
    add_u64(t, "throttled_time", u64_or_0(thr, "throttledTime"));
    json_object_object_add(out, "throttling_data", t);
    return out;
}

/* What docker sends as precpu_stats before a previous read: zero usage and throttling. */
static struct json_object *
zero_cpu_stats(void)
{
    struct json_object *out = json_object_new_object(), *u = json_object_new_object();
    struct json_object *t = json_object_new_object();

    add_u64(u, "total_usage", 0);
    add_u64(u, "usage_in_kernelmode", 0);
    add_u64(u, "usage_in_usermode", 0);
    json_object_object_add(out, "cpu_usage", u);
    add_u64(t, "periods", 0);
    add_u64(t, "throttled_periods", 0);
    add_u64(t, "throttled_time", 0);
    json_object_object_add(out, "throttling_data", t);
    return out;
}

static struct json_object *
memory_stats(struct json_object *data, const struct eng_stats_host *host)
{
    struct json_object *mem = obj_at(data, "memory"), *usage = obj_at(mem, "usage");
    struct json_object *raw = obj_at(mem, "raw"), *out = json_object_new_object();

    if (!mem)
        return out; /* no memory controller: docker sends {} */
    add_u64_nz(out, "usage", u64_or_0(usage, "usage"));
    add_u64_nz(out, "max_usage", u64_or_0(usage, "max"));
    if (raw) {
        /* memory.stat as it is: v1 (cache, rss, total_inactive_file, ...) or v2 (anon, file,
         * inactive_file, ...); the docker CLI picks the keys of its cgroup version */
        struct json_object *stats = json_object_new_object();
        json_object_object_foreach(raw, key, v)
        {
            uint64_t n;
            if (u64_at(raw, key, &n))
                add_u64(stats, key, n);
            (void)v;
        }
        json_object_object_add(out, "stats", stats);
    }
    add_u64_nz(out, "failcnt", u64_or_0(usage, "failcnt"));
    /* No limit reads as the largest page-aligned int64 (v1) or "max" (v2): docker prints the
     * host's memory instead, which is what bounds the container. */
    uint64_t limit = u64_or_0(usage, "limit");
    if (host->mem_total && (limit == 0 || limit > host->mem_total))
        limit = host->mem_total;
    add_u64_nz(out, "limit", limit);
    return out;
}

/* ---- The document ------------------------------------------------------------------------ */

static void
add_time(struct json_object *o, const char *key, int64_t ns)
{
    char buf[ENG_TIMESTAMP_MAX];

    eng_timestamp_format(ns, false, buf);
    json_object_object_add(o, key, json_object_new_string(buf));
}

/* prev's value at key (a new reference), or NULL. */
static struct json_object *
prev_field(struct json_object *prev, const char *key, json_type type)
{
    struct json_object *v = NULL, *copy = NULL;

    if (!prev || !json_object_object_get_ex(prev, key, &v) || !json_object_is_type(v, type))
        return NULL;
    if (json_object_deep_copy(v, &copy, NULL) < 0)
        return NULL;
    return copy;
}

struct json_object *
eng_stats_docker_host(const char *runtime_json, size_t len, const char *id, const char *name,
                      int64_t now_ns, struct json_object *prev, const struct eng_stats_host *host,
                      struct berth_err *err)
{
    cleanup_json struct json_object *doc = berth_json_parse(runtime_json, len, err);
    struct json_object *data;

    if (!doc) {
        /* the runtime's output, not the client's request: an internal error */
        berth_err_wrap(err, "the runtime's stats");
        if (err) {
            err->code = 0;
            err->no_cause = true;
        }
        return NULL;
    }
    if (!json_object_is_type(doc, json_type_object)) {
        berth_err_fail(err, 0, "the runtime's stats: expected an object, not %s",
                       berth_json_type_name(doc));
        return NULL;
    }
    /* `ocirun events --stats` prints {"type":"stats","id":..,"data":{...}} */
    data = obj_at(doc, "data") ? obj_at(doc, "data") : doc;

    struct json_object *out = json_object_new_object();
    add_time(out, "read", now_ns);
    struct json_object *preread = prev_field(prev, "read", json_type_string);
    json_object_object_add(out, "preread", preread ? preread : json_object_new_string(ZERO_TIME));
    json_object_object_add(out, "pids_stats", pids_stats(data));
    json_object_object_add(out, "blkio_stats", blkio_stats(data));
    add_u64(out, "num_procs", 0);                                           /* Windows only */
    json_object_object_add(out, "storage_stats", json_object_new_object()); /* Windows only */
    json_object_object_add(out, "cpu_stats", cpu_stats(data, host));
    struct json_object *precpu = prev_field(prev, "cpu_stats", json_type_object);
    json_object_object_add(out, "precpu_stats", precpu ? precpu : zero_cpu_stats());
    json_object_object_add(out, "memory_stats", memory_stats(data, host));
    cleanup_free char *slash_name =
        xasprintf("%s%s", name && name[0] == '/' ? "" : "/", name ? name : "");
    json_object_object_add(out, "name", json_object_new_string(slash_name));
    json_object_object_add(out, "id", json_object_new_string(id ? id : ""));
    return out;
}

struct json_object *
eng_stats_docker(const char *runtime_json, size_t len, const char *id, const char *name,
                 int64_t now_ns, struct json_object *prev, struct berth_err *err)
{
    struct eng_stats_host host;

    if (eng_stats_host_read(&host, err) < 0)
        return NULL;
    return eng_stats_docker_host(runtime_json, len, id, name, now_ns, prev, &host, err);
}
