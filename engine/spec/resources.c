/* SPDX-License-Identifier: Apache-2.0
 *
 * linux.resources and linux.cgroupsPath from HostConfig: memory (Memory, MemorySwap,
 * MemoryReservation, MemorySwappiness, OomKillDisable), CPU (NanoCpus as quota over a 100 ms
 * period, CpuShares, CpuQuota, CpuPeriod, CpusetCpus, CpusetMems), PidsLimit, BlkioWeight,
 * with Docker's checks on their ranges and combinations.
 */
#include "engine/spec/spec-internal.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"

#define MIN_MEMORY (6LL << 20) /* Docker's minimum: less cannot start a runtime */
#define NANO       1000000000LL
#define CPU_PERIOD 100000LL

struct hc_ints {
    int64_t memory, swap, reservation, swappiness, nano, shares, quota, period, pids, blkio;
};

static int
read_ints(struct spec_ctx *c, struct hc_ints *v, struct berth_err *err)
{
    const struct {
        const char *key;
        int64_t *out;
    } f[] = {
        {"Memory", &v->memory},
        {"MemorySwap", &v->swap},
        {"MemoryReservation", &v->reservation},
        {"MemorySwappiness", &v->swappiness},
        {"NanoCpus", &v->nano},
        {"CpuShares", &v->shares},
        {"CpuQuota", &v->quota},
        {"CpuPeriod", &v->period},
        {"PidsLimit", &v->pids},
        {"BlkioWeight", &v->blkio},
    };

    memset(v, 0, sizeof(*v));
    v->swappiness = -1;
    for (size_t i = 0; i < ARRAY_SIZE(f); i++)
        if (spec_get_int64(c->host, "HostConfig", f[i].key, f[i].out, err) < 0)
            return -1;
    return 0;
}

static bool
valid_cpuset(const char *s)
{
    /* "0-3,5": digits, commas and ranges. */
    bool digit = false;

    for (; *s; s++) {
        if (*s >= '0' && *s <= '9')
            digit = true;
        else if ((*s == ',' || *s == '-') && digit)
            digit = false;
        else
            return false;
    }
    return digit;
}

static int
memory(struct spec_ctx *c, const struct hc_ints *v, struct json_object *res, struct berth_err *err)
{
    struct json_object *m = json_object_new_object();
    bool oom_kill_disable = false;

    json_object_object_add(res, "memory", m);
    if (spec_get_bool(c->host, "HostConfig", "OomKillDisable", &oom_kill_disable, err) < 0)
        return -1;
    if (v->memory < 0)
        return berth_err_fail(err, EINVAL, "HostConfig.Memory: must not be negative");
    if (v->memory && v->memory < MIN_MEMORY)
        return berth_err_fail(err, EINVAL, "HostConfig.Memory: the minimum is 6 MiB (6291456)");
    if (v->swap < -1)
        return berth_err_fail(err, EINVAL, "HostConfig.MemorySwap: must be -1 or positive");
    if (v->swap > 0 && !v->memory)
        return berth_err_fail(err, EINVAL,
                              "HostConfig.MemorySwap: needs HostConfig.Memory to be set");
    if (v->swap > 0 && v->swap < v->memory)
        return berth_err_fail(err, EINVAL,
                              "HostConfig.MemorySwap: must not be less than HostConfig.Memory");
    if (v->reservation < 0)
        return berth_err_fail(err, EINVAL, "HostConfig.MemoryReservation: must not be negative");
    if (v->memory && v->reservation > v->memory)
        return berth_err_fail(err, EINVAL,
                              "HostConfig.MemoryReservation: must not be more than "
                              "HostConfig.Memory");
    if (v->swappiness < -1 || v->swappiness > 100)
        return berth_err_fail(err, EINVAL, "HostConfig.MemorySwappiness: must be 0..100");

    if (v->memory) {
        json_object_object_add(m, "limit", json_object_new_int64(v->memory));
        /* Docker: no MemorySwap means as much swap as memory again. */
        json_object_object_add(m, "swap", json_object_new_int64(v->swap ? v->swap : 2 * v->memory));
    } else if (v->swap == -1) {
        json_object_object_add(m, "swap", json_object_new_int64(-1));
    }
    if (v->reservation)
        json_object_object_add(m, "reservation", json_object_new_int64(v->reservation));
    if (v->swappiness >= 0)
        json_object_object_add(m, "swappiness", json_object_new_int64(v->swappiness));
    if (oom_kill_disable)
        json_object_object_add(m, "disableOOMKiller", json_object_new_boolean(true));
    return 0;
}

static int
cpu(struct spec_ctx *c, const struct hc_ints *v, struct json_object *res, struct berth_err *err)
{
    struct json_object *o = json_object_new_object();
    const char *cpus = NULL, *mems = NULL;
    long n_cpus = sysconf(_SC_NPROCESSORS_ONLN);

    json_object_object_add(res, "cpu", o);
    if (spec_get_string(c->host, "HostConfig", "CpusetCpus", &cpus, err) < 0 ||
        spec_get_string(c->host, "HostConfig", "CpusetMems", &mems, err) < 0)
        return -1;
    if (v->nano && (v->quota || v->period))
        return berth_err_fail(err, EINVAL,
                              "HostConfig.NanoCpus: conflicts with CpuQuota and CpuPeriod");
    if (v->nano < 0 || (v->nano && v->nano < NANO / 100) || (n_cpus > 0 && v->nano > n_cpus * NANO))
        return berth_err_fail(err, EINVAL,
                              "HostConfig.NanoCpus: the range is 0.01 to %ld CPUs "
                              "(10000000 to %lld)",
                              n_cpus, (long long)n_cpus * NANO);
    if (v->period && (v->period < 1000 || v->period > 1000000))
        return berth_err_fail(err, EINVAL, "HostConfig.CpuPeriod: the range is 1000 to 1000000");
    if (v->quota && v->quota < 1000 && v->quota != -1)
        return berth_err_fail(err, EINVAL, "HostConfig.CpuQuota: the minimum is 1000");
    if (v->shares < 0)
        return berth_err_fail(err, EINVAL, "HostConfig.CpuShares: must not be negative");
    if (cpus && *cpus && !valid_cpuset(cpus))
        return berth_err_fail(err, EINVAL, "HostConfig.CpusetCpus: invalid list `%s`", cpus);
    if (mems && *mems && !valid_cpuset(mems))
        return berth_err_fail(err, EINVAL, "HostConfig.CpusetMems: invalid list `%s`", mems);

    if (v->nano) {
        json_object_object_add(o, "period", json_object_new_uint64(CPU_PERIOD));
        json_object_object_add(o, "quota", json_object_new_int64(v->nano * CPU_PERIOD / NANO));
    }
    if (v->period)
        json_object_object_add(o, "period", json_object_new_uint64((uint64_t)v->period));
    if (v->quota)
        json_object_object_add(o, "quota", json_object_new_int64(v->quota));
    if (v->shares)
        json_object_object_add(o, "shares", json_object_new_uint64((uint64_t)v->shares));
    if (cpus && *cpus)
        spec_add_string(o, "cpus", cpus);
    if (mems && *mems)
        spec_add_string(o, "mems", mems);
    return 0;
}

static int
cgroups_path(struct spec_ctx *c, struct berth_err *err)
{
    const char *parent = NULL;

    if (spec_get_string(c->host, "HostConfig", "CgroupParent", &parent, err) < 0)
        return -1;
    if (!parent || !*parent)
        parent = c->in->cgroup_parent ? c->in->cgroup_parent : "/berth";
    /* The path is joined under the cgroup root by the runtime: no way out of it. */
    for (const char *p = parent; *p; p++)
        if (p[0] == '.' && p[1] == '.' && (p == parent || p[-1] == '/') &&
            (p[2] == '/' || p[2] == '\0'))
            return berth_err_fail(err, EINVAL, "HostConfig.CgroupParent: `%s` contains `..`",
                                  parent);
    /* The id names a cgroup directory: a plain name, never a path or a dot entry. */
    if (c->in->id[0] == '.' ||
        strspn(c->in->id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
            strlen(c->in->id))
        return berth_err_fail(err, EINVAL, "container id `%s` is not a valid name", c->in->id);
    size_t n = strlen(parent);
    while (n > 1 && parent[n - 1] == '/')
        n--;
    cleanup_free char *path =
        xasprintf("%s%.*s/%s", parent[0] == '/' ? "" : "/", (int)n, parent, c->in->id);
    spec_add_string(c->oci_linux, "cgroupsPath", path);
    return 0;
}

int
spec_resources(struct spec_ctx *c, struct berth_err *err)
{
    struct hc_ints v;
    struct json_object *res;

    json_object_object_get_ex(c->oci_linux, "resources", &res);
    if (read_ints(c, &v, err) < 0 || memory(c, &v, res, err) < 0 || cpu(c, &v, res, err) < 0)
        return -1;
    if (v.pids > 0) {
        struct json_object *p = json_object_new_object();
        json_object_object_add(p, "limit", json_object_new_int64(v.pids));
        json_object_object_add(res, "pids", p);
    } else if (v.pids < -1) {
        return berth_err_fail(err, EINVAL, "HostConfig.PidsLimit: must be -1, 0 or positive");
    }
    if (v.blkio) {
        if (v.blkio < 10 || v.blkio > 1000)
            return berth_err_fail(err, EINVAL, "HostConfig.BlkioWeight: the range is 10 to 1000");
        struct json_object *b = json_object_new_object();
        json_object_object_add(b, "weight", json_object_new_int64(v.blkio));
        json_object_object_add(res, "blockIO", b);
    }
    return cgroups_path(c, err);
}
