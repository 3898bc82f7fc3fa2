// SPDX-License-Identifier: Apache-2.0
//
// linux.resources parsed into struct ocirun_resources (see resources.h): every field of the
// runtime spec's "Control groups" section but rdma, each with has_* so that `update` touches
// only what it names. Values are checked here, once, so that the backends (cgroup-v1.c,
// cgroup-v2.c) only convert and write. Every error names its JSON path from "resources".

#include "ocirun/linux/resources.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"

/* ---- Typed fields with the JSON path in messages ------------------------------------------ */

/* The common/json getters say "`limit`: expected integer"; the user needs the whole path,
 * "resources.memory.limit: expected integer". Take the getter's message, drop its key. */
static int
path_error(const char *path, const char *key, struct berth_err *tmp, struct berth_err *err)
{
    const char *rest = tmp->msg ? strstr(tmp->msg, "`: ") : NULL;
    rest = rest ? rest + 3 : (tmp->msg ? tmp->msg : "invalid value");
    berth_err_fail(err, EINVAL, "%s.%s: %s", path, key, rest);
    berth_err_clear(tmp);
    return -1;
}

/* Each returns 1 (present, *out set), 0 (absent or null) or -1 (err set). */
static int
get_i64(struct json_object *o, const char *path, const char *key, int64_t *out,
        struct berth_err *err)
{
    struct berth_err tmp = BERTH_ERR_INIT;
    int rc = berth_json_get_int64(o, key, out, &tmp);
    return rc < 0 ? path_error(path, key, &tmp, err) : rc;
}

static int
get_u64(struct json_object *o, const char *path, const char *key, uint64_t *out,
        struct berth_err *err)
{
    struct berth_err tmp = BERTH_ERR_INIT;
    int rc = berth_json_get_uint64(o, key, out, &tmp);
    return rc < 0 ? path_error(path, key, &tmp, err) : rc;
}

static int
get_u32(struct json_object *o, const char *path, const char *key, uint32_t *out,
        struct berth_err *err)
{
    struct berth_err tmp = BERTH_ERR_INIT;
    int rc = berth_json_get_uint32(o, key, out, &tmp);
    return rc < 0 ? path_error(path, key, &tmp, err) : rc;
}

static int
get_u16(struct json_object *o, const char *path, const char *key, uint16_t *out,
        struct berth_err *err)
{
    uint32_t v = 0;
    int rc = get_u32(o, path, key, &v, err);
    if (rc <= 0)
        return rc;
    if (v > UINT16_MAX)
        return berth_err_fail(err, EINVAL, "%s.%s: %u out of range for uint16", path, key, v);
    *out = (uint16_t)v;
    return 1;
}

static int
get_bool(struct json_object *o, const char *path, const char *key, bool *out, struct berth_err *err)
{
    struct berth_err tmp = BERTH_ERR_INIT;
    int rc = berth_json_get_bool(o, key, out, &tmp);
    return rc < 0 ? path_error(path, key, &tmp, err) : rc;
}

static int
get_string(struct json_object *o, const char *path, const char *key, const char **out,
           struct berth_err *err)
{
    struct berth_err tmp = BERTH_ERR_INIT;
    int rc = berth_json_get_string(o, key, out, &tmp);
    return rc < 0 ? path_error(path, key, &tmp, err) : rc;
}

static int
get_object(struct json_object *o, const char *path, const char *key, struct json_object **out,
           struct berth_err *err)
{
    struct berth_err tmp = BERTH_ERR_INIT;
    int rc = berth_json_get_object(o, key, out, &tmp);
    return rc < 0 ? path_error(path, key, &tmp, err) : rc;
}

static int
get_array(struct json_object *o, const char *path, const char *key, struct json_object **out,
          struct berth_err *err)
{
    struct berth_err tmp = BERTH_ERR_INIT;
    int rc = berth_json_get_array(o, key, out, &tmp);
    return rc < 0 ? path_error(path, key, &tmp, err) : rc;
}

/* A required field: absent is an error too. */
static int
required(int rc, const char *path, const char *key, struct berth_err *err)
{
    if (rc == 0)
        return berth_err_fail(err, EINVAL, "%s.%s is required", path, key);
    return rc;
}

/* ---- memory ------------------------------------------------------------------------------ */

/* A byte limit: -1 (unlimited) or a count; the kernel has no other negative value. */
static int
get_limit(struct json_object *o, const char *path, const char *key, bool *has, int64_t *out,
          struct berth_err *err)
{
    int rc = get_i64(o, path, key, out, err);
    if (rc < 0)
        return -1;
    if (rc > 0 && *out < -1)
        return berth_err_fail(err, EINVAL, "%s.%s: %lld out of range (-1 for unlimited, or bytes)",
                              path, key, (long long)*out);
    *has = rc > 0;
    return 0;
}

static int
parse_memory(struct json_object *m, struct ocirun_resources *r, struct berth_err *err)
{
    const char *p = "resources.memory";
    int rc;
    if (get_limit(m, p, "limit", &r->has_mem_limit, &r->mem_limit, err) < 0 ||
        get_limit(m, p, "reservation", &r->has_mem_reservation, &r->mem_reservation, err) < 0 ||
        get_limit(m, p, "swap", &r->has_mem_swap, &r->mem_swap, err) < 0 ||
        get_limit(m, p, "kernel", &r->has_mem_kernel, &r->mem_kernel, err) < 0 ||
        get_limit(m, p, "kernelTCP", &r->has_mem_kernel_tcp, &r->mem_kernel_tcp, err) < 0)
        return -1;
    if ((rc = get_u64(m, p, "swappiness", &r->mem_swappiness, err)) < 0)
        return -1;
    r->has_mem_swappiness = rc > 0;
    if (r->has_mem_swappiness && r->mem_swappiness > 100)
        return berth_err_fail(err, EINVAL, "%s.swappiness: %llu out of range (0-100)", p,
                              (unsigned long long)r->mem_swappiness);
    if ((rc = get_bool(m, p, "disableOOMKiller", &r->disable_oom_killer, err)) < 0)
        return -1;
    r->has_disable_oom_killer = rc > 0;
    if ((rc = get_bool(m, p, "useHierarchy", &r->use_hierarchy, err)) < 0)
        return -1;
    r->has_use_hierarchy = rc > 0;
    if ((rc = get_bool(m, p, "checkBeforeUpdate", &r->check_before_update, err)) < 0)
        return -1;
    r->has_check_before_update = rc > 0;
    return 0;
}

/* ---- cpu --------------------------------------------------------------------------------- */

static int
parse_cpu(struct json_object *c, struct ocirun_resources *r, struct berth_err *err)
{
    const char *p = "resources.cpu", *s = NULL;
    int rc;
    if ((rc = get_u64(c, p, "shares", &r->cpu_shares, err)) < 0)
        return -1;
    r->has_cpu_shares = rc > 0;
    /* Any negative quota or realtime runtime is "unlimited" to the kernel (as -1). */
    if ((rc = get_i64(c, p, "quota", &r->cpu_quota, err)) < 0)
        return -1;
    r->has_cpu_quota = rc > 0;
    if ((rc = get_u64(c, p, "burst", &r->cpu_burst, err)) < 0)
        return -1;
    r->has_cpu_burst = rc > 0;
    if ((rc = get_u64(c, p, "period", &r->cpu_period, err)) < 0)
        return -1;
    r->has_cpu_period = rc > 0;
    if ((rc = get_i64(c, p, "realtimeRuntime", &r->cpu_rt_runtime, err)) < 0)
        return -1;
    r->has_cpu_rt_runtime = rc > 0;
    if ((rc = get_u64(c, p, "realtimePeriod", &r->cpu_rt_period, err)) < 0)
        return -1;
    r->has_cpu_rt_period = rc > 0;
    if ((rc = get_i64(c, p, "idle", &r->cpu_idle, err)) < 0)
        return -1;
    r->has_cpu_idle = rc > 0;
    if (r->has_cpu_idle && r->cpu_idle != 0 && r->cpu_idle != 1)
        return berth_err_fail(err, EINVAL, "%s.idle: %lld out of range (0 or 1)", p,
                              (long long)r->cpu_idle);
    /* The spec lets runtimes refuse a burst above a positive quota; the kernel would. */
    if (r->has_cpu_burst && r->has_cpu_quota && r->cpu_quota > 0 &&
        r->cpu_burst > (uint64_t)r->cpu_quota)
        return berth_err_fail(err, EINVAL, "%s.burst: %llu is larger than quota %lld", p,
                              (unsigned long long)r->cpu_burst, (long long)r->cpu_quota);
    if (get_string(c, p, "cpus", &s, err) < 0)
        return -1;
    r->cpus = s ? xstrdup(s) : NULL;
    s = NULL;
    if (get_string(c, p, "mems", &s, err) < 0)
        return -1;
    r->mems = s ? xstrdup(s) : NULL;
    return 0;
}

/* ---- blockIO ----------------------------------------------------------------------------- */

/* blkio weights: 10-1000 (the kernel's range), or 0, which runc reads as "not set". */
static int
check_weight(const char *path, const char *key, uint16_t w, struct berth_err *err)
{
    if (w != 0 && (w < 10 || w > 1000))
        return berth_err_fail(err, EINVAL, "%s.%s: %u out of range (10-1000)", path, key, w);
    return 0;
}

/* A device number in a blkio line: a real major or minor, no wildcard. */
static int
get_devnum(struct json_object *o, const char *path, const char *key, int64_t *out,
           struct berth_err *err)
{
    if (required(get_i64(o, path, key, out, err), path, key, err) < 0)
        return -1;
    if (*out < 0 || *out > UINT32_MAX)
        return berth_err_fail(err, EINVAL, "%s.%s: %lld out of range", path, key, (long long)*out);
    return 0;
}

static int
parse_weight_device(struct json_object *o, const char *path, struct ocirun_weight_device *w,
                    struct berth_err *err)
{
    int rc;
    if (get_devnum(o, path, "major", &w->major, err) < 0 ||
        get_devnum(o, path, "minor", &w->minor, err) < 0)
        return -1;
    if ((rc = get_u16(o, path, "weight", &w->weight, err)) < 0 ||
        (rc > 0 && check_weight(path, "weight", w->weight, err) < 0))
        return -1;
    w->has_weight = rc > 0;
    if ((rc = get_u16(o, path, "leafWeight", &w->leaf_weight, err)) < 0 ||
        (rc > 0 && check_weight(path, "leafWeight", w->leaf_weight, err) < 0))
        return -1;
    w->has_leaf_weight = rc > 0;
    if (!w->has_weight && !w->has_leaf_weight)
        return berth_err_fail(err, EINVAL, "%s: needs weight or leafWeight", path);
    return 0;
}

static int
parse_throttle(struct json_object *o, const char *path, struct ocirun_throttle *t,
               struct berth_err *err)
{
    if (get_devnum(o, path, "major", &t->major, err) < 0 ||
        get_devnum(o, path, "minor", &t->minor, err) < 0 ||
        required(get_u64(o, path, "rate", &t->rate, err), path, "rate", err) < 0)
        return -1;
    return 0;
}

/* ---- Arrays of objects ------------------------------------------------------------------- */

typedef int (*parse_item_fn)(struct json_object *o, const char *path, void *item,
                             struct berth_err *err);

/* Parse obj[key], an array of objects, into a new array of items of `size` bytes each, with
 * fn naming each item "<path>.<key>[i]". *out stays NULL for an absent or empty array; on
 * failure the items parsed so far are left in *out and *n for the caller's free. */
static int
parse_items(struct json_object *obj, const char *path, const char *key, size_t size,
            parse_item_fn fn, void **out, size_t *n, struct berth_err *err)
{
    struct json_object *arr = NULL;
    int rc = get_array(obj, path, key, &arr, err);
    if (rc <= 0)
        return rc;
    size_t len = json_object_array_length(arr);
    if (len == 0)
        return 1;
    *out = xzalloc(len * size);
    for (size_t i = 0; i < len; i++) {
        struct json_object *o = json_object_array_get_idx(arr, i);
        cleanup_free char *ipath = xasprintf("%s.%s[%zu]", path, key, i);
        if (!json_object_is_type(o, json_type_object))
            return berth_err_fail(err, EINVAL, "%s: expected object", ipath);
        *n = i + 1;
        if (fn(o, ipath, (char *)*out + i * size, err) < 0)
            return -1;
    }
    return 1;
}

static int
weight_device_item(struct json_object *o, const char *path, void *item, struct berth_err *err)
{
    return parse_weight_device(o, path, item, err);
}

static int
throttle_item(struct json_object *o, const char *path, void *item, struct berth_err *err)
{
    return parse_throttle(o, path, item, err);
}

static int
parse_block_io(struct json_object *b, struct ocirun_resources *r, struct berth_err *err)
{
    const char *p = "resources.blockIO";
    int rc;
    if ((rc = get_u16(b, p, "weight", &r->blkio_weight, err)) < 0 ||
        (rc > 0 && check_weight(p, "weight", r->blkio_weight, err) < 0))
        return -1;
    r->has_blkio_weight = rc > 0;
    if ((rc = get_u16(b, p, "leafWeight", &r->blkio_leaf_weight, err)) < 0 ||
        (rc > 0 && check_weight(p, "leafWeight", r->blkio_leaf_weight, err) < 0))
        return -1;
    r->has_blkio_leaf_weight = rc > 0;
    if (parse_items(b, p, "weightDevice", sizeof(struct ocirun_weight_device), weight_device_item,
                    (void **)&r->weight_devices, &r->n_weight_devices, err) < 0 ||
        parse_items(b, p, "throttleReadBpsDevice", sizeof(struct ocirun_throttle), throttle_item,
                    (void **)&r->throttle_read_bps, &r->n_throttle_read_bps, err) < 0 ||
        parse_items(b, p, "throttleWriteBpsDevice", sizeof(struct ocirun_throttle), throttle_item,
                    (void **)&r->throttle_write_bps, &r->n_throttle_write_bps, err) < 0 ||
        parse_items(b, p, "throttleReadIOPSDevice", sizeof(struct ocirun_throttle), throttle_item,
                    (void **)&r->throttle_read_iops, &r->n_throttle_read_iops, err) < 0 ||
        parse_items(b, p, "throttleWriteIOPSDevice", sizeof(struct ocirun_throttle), throttle_item,
                    (void **)&r->throttle_write_iops, &r->n_throttle_write_iops, err) < 0)
        return -1;
    return 0;
}

/* ---- hugepageLimits, network ------------------------------------------------------------- */

/* "<size><unit-prefix>B" (64KB, 2MB, 1GB): it becomes part of a file name, hugetlb.2MB.max,
 * so nothing else may pass. */
static bool
is_page_size(const char *s)
{
    size_t digits = strspn(s, "0123456789");
    if (digits == 0 || s[0] == '0')
        return false;
    s += digits;
    return s[0] && strchr("KMGTP", s[0]) && s[1] == 'B' && s[2] == '\0';
}

static int
hugepage_item(struct json_object *o, const char *path, void *item, struct berth_err *err)
{
    struct ocirun_hugepage_limit *h = item;
    const char *size = NULL;
    if (required(get_string(o, path, "pageSize", &size, err), path, "pageSize", err) < 0)
        return -1;
    if (!is_page_size(size))
        return berth_err_fail(
            err, EINVAL, "%s.pageSize: `%s` is not a page size like 64KB, 2MB or 1GB", path, size);
    h->page_size = xstrdup(size);
    return required(get_u64(o, path, "limit", &h->limit, err), path, "limit", err) < 0 ? -1 : 0;
}

static int
net_prio_item(struct json_object *o, const char *path, void *item, struct berth_err *err)
{
    struct ocirun_net_prio *np = item;
    const char *name = NULL;
    if (required(get_string(o, path, "name", &name, err), path, "name", err) < 0)
        return -1;
    /* The kernel reads "<ifname> <prio>": a name with a blank would shift the fields. */
    if (!name[0] || strpbrk(name, " \t\n/"))
        return berth_err_fail(err, EINVAL, "%s.name: `%s` is not an interface name", path, name);
    np->name = xstrdup(name);
    return required(get_u32(o, path, "priority", &np->priority, err), path, "priority", err) < 0
               ? -1
               : 0;
}

static int
parse_network(struct json_object *net, struct ocirun_resources *r, struct berth_err *err)
{
    const char *p = "resources.network";
    int rc = get_u32(net, p, "classID", &r->net_class_id, err);
    if (rc < 0)
        return -1;
    r->has_net_class_id = rc > 0;
    return parse_items(net, p, "priorities", sizeof(struct ocirun_net_prio), net_prio_item,
                       (void **)&r->net_priorities, &r->n_net_priorities, err) < 0
               ? -1
               : 0;
}

/* ---- devices ----------------------------------------------------------------------------- */

/* major or minor of a device rule: absent or -1 is the wildcard. */
static int
get_rule_num(struct json_object *o, const char *path, const char *key, int64_t *out,
             struct berth_err *err)
{
    int rc = get_i64(o, path, key, out, err);
    if (rc < 0)
        return -1;
    if (rc == 0)
        *out = -1;
    else if (*out < -1 || *out > UINT32_MAX)
        return berth_err_fail(err, EINVAL, "%s.%s: %lld out of range", path, key, (long long)*out);
    return 0;
}

static int
device_item(struct json_object *o, const char *path, void *item, struct berth_err *err)
{
    struct ocirun_device_rule *d = item;
    const char *type = NULL, *access = NULL;
    if (required(get_bool(o, path, "allow", &d->allow, err), path, "allow", err) < 0 ||
        get_string(o, path, "type", &type, err) < 0 ||
        get_rule_num(o, path, "major", &d->major, err) < 0 ||
        get_rule_num(o, path, "minor", &d->minor, err) < 0 ||
        get_string(o, path, "access", &access, err) < 0)
        return -1;
    /* An absent type means all devices. */
    if (!type)
        d->type = 'a';
    else if ((strcmp(type, "a") == 0 || strcmp(type, "c") == 0 || strcmp(type, "b") == 0))
        d->type = type[0];
    else
        return berth_err_fail(err, EINVAL, "%s.type: `%s` is not a, c or b", path, type);
    /* An absent access means all of it; stored in the kernel's order, "rwm". */
    if (!access)
        access = "rwm";
    if (!access[0])
        return berth_err_fail(err, EINVAL, "%s.access: empty (give a subset of `rwm`)", path);
    static const char rwm[] = "rwm";
    bool seen[3] = {false, false, false};
    for (const char *a = access; *a; a++) {
        const char *at = strchr(rwm, *a);
        if (!at || seen[at - rwm])
            return berth_err_fail(err, EINVAL, "%s.access: `%s` is not a subset of `rwm`", path,
                                  access);
        seen[at - rwm] = true;
    }
    size_t k = 0;
    for (size_t i = 0; i < 3; i++)
        if (seen[i])
            d->access[k++] = rwm[i];
    d->access[k] = '\0';
    return 0;
}

/* ---- unified ----------------------------------------------------------------------------- */

static int
parse_unified(struct json_object *u, struct ocirun_resources *r, struct berth_err *err)
{
    size_t n = (size_t)json_object_object_length(u), i = 0;
    r->unified = xzalloc((2 * n + 1) * sizeof(char *));
    json_object_object_foreach(u, key, val)
    {
        /* A key names a file in the container's own directory, never one elsewhere. */
        if (!key[0] || strchr(key, '/') || strstr(key, ".."))
            return berth_err_fail(err, EINVAL, "resources.unified: `%s` is not a cgroup file name",
                                  key);
        if (!json_object_is_type(val, json_type_string))
            return berth_err_fail(err, EINVAL, "resources.unified.%s: expected string, not %s", key,
                                  berth_json_type_name(val));
        r->unified[i++] = xstrdup(key);
        r->unified[i++] = xstrdup(json_object_get_string(val));
    }
    return 0;
}

/* ---- Entry points ------------------------------------------------------------------------ */

static int
parse_all(struct json_object *obj, struct ocirun_resources *r, struct berth_err *err)
{
    const char *p = "resources";
    struct json_object *o = NULL;
    int rc;

    if (!json_object_is_type(obj, json_type_object))
        return berth_err_fail(err, EINVAL, "resources: expected object, not %s",
                              berth_json_type_name(obj));
    if ((rc = get_object(obj, p, "memory", &o, err)) < 0 || (rc > 0 && parse_memory(o, r, err) < 0))
        return -1;
    if ((rc = get_object(obj, p, "cpu", &o, err)) < 0 || (rc > 0 && parse_cpu(o, r, err) < 0))
        return -1;
    if ((rc = get_object(obj, p, "pids", &o, err)) < 0)
        return -1;
    if (rc > 0) {
        if (required(get_i64(o, "resources.pids", "limit", &r->pids_limit, err), "resources.pids",
                     "limit", err) < 0)
            return -1;
        r->has_pids_limit = true;
    }
    if ((rc = get_object(obj, p, "blockIO", &o, err)) < 0 ||
        (rc > 0 && parse_block_io(o, r, err) < 0))
        return -1;
    if (parse_items(obj, p, "hugepageLimits", sizeof(struct ocirun_hugepage_limit), hugepage_item,
                    (void **)&r->hugepage_limits, &r->n_hugepage_limits, err) < 0)
        return -1;
    if ((rc = get_object(obj, p, "network", &o, err)) < 0 ||
        (rc > 0 && parse_network(o, r, err) < 0))
        return -1;
    if ((rc = parse_items(obj, p, "devices", sizeof(struct ocirun_device_rule), device_item,
                          (void **)&r->devices, &r->n_devices, err)) < 0)
        return -1;
    r->has_devices = rc > 0;
    if ((rc = get_object(obj, p, "unified", &o, err)) < 0 ||
        (rc > 0 && parse_unified(o, r, err) < 0))
        return -1;
    return 0;
}

int
ocirun_resources_parse(struct json_object *obj, struct ocirun_resources *out, struct berth_err *err)
{
    struct ocirun_resources r;
    memset(out, 0, sizeof(*out));
    memset(&r, 0, sizeof(r));
    if (!obj)
        return 0;
    if (parse_all(obj, &r, err) < 0) {
        ocirun_resources_free(&r);
        return -1;
    }
    *out = r;
    return 0;
}

void
ocirun_resources_free(struct ocirun_resources *r)
{
    if (!r)
        return;
    free(r->cpus);
    free(r->mems);
    free(r->weight_devices);
    free(r->throttle_read_bps);
    free(r->throttle_write_bps);
    free(r->throttle_read_iops);
    free(r->throttle_write_iops);
    for (size_t i = 0; i < r->n_hugepage_limits; i++)
        free(r->hugepage_limits[i].page_size);
    free(r->hugepage_limits);
    for (size_t i = 0; i < r->n_net_priorities; i++)
        free(r->net_priorities[i].name);
    free(r->net_priorities);
    free(r->devices);
    for (char **u = r->unified; u && *u; u++)
        free(*u);
    free(r->unified);
    memset(r, 0, sizeof(*r));
}

bool
ocirun_resources_any(const struct ocirun_resources *r)
{
    return r->has_mem_limit || r->has_mem_reservation || r->has_mem_swap || r->has_mem_kernel ||
           r->has_mem_kernel_tcp || r->has_mem_swappiness || r->has_disable_oom_killer ||
           r->has_use_hierarchy || r->has_cpu_shares || r->has_cpu_quota || r->has_cpu_burst ||
           r->has_cpu_period || r->has_cpu_rt_runtime || r->has_cpu_rt_period || r->has_cpu_idle ||
           r->cpus || r->mems || r->has_pids_limit || r->has_blkio_weight ||
           r->has_blkio_leaf_weight || r->n_weight_devices || r->n_throttle_read_bps ||
           r->n_throttle_write_bps || r->n_throttle_read_iops || r->n_throttle_write_iops ||
           r->n_hugepage_limits || r->has_net_class_id || r->n_net_priorities || r->has_devices ||
           (r->unified && r->unified[0]);
}
