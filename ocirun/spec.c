// SPDX-License-Identifier: Apache-2.0
//
// Loading config.json. Every field ocirun acts on is read here with its type checked, so the
// runtime never meets a surprise half-way through creating a container: bad input is refused
// before anything exists on the host. Error messages carry the JSON path of the bad field.

#include "ocirun/spec.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "ocirun/hooks.h"
#include "ocirun/linux/seccomp.h"
#include "ocirun/linux/sysctl.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct {
    const char *name, *proc;
    int flag;
} ns_table[OCIRUN_NS_COUNT] = {
    [OCIRUN_NS_PID] = {"pid", "pid", CLONE_NEWPID},
    [OCIRUN_NS_NET] = {"network", "net", CLONE_NEWNET},
    [OCIRUN_NS_IPC] = {"ipc", "ipc", CLONE_NEWIPC},
    [OCIRUN_NS_UTS] = {"uts", "uts", CLONE_NEWUTS},
    [OCIRUN_NS_MNT] = {"mount", "mnt", CLONE_NEWNS},
    [OCIRUN_NS_USER] = {"user", "user", CLONE_NEWUSER},
    [OCIRUN_NS_CGROUP] = {"cgroup", "cgroup", CLONE_NEWCGROUP},
    [OCIRUN_NS_TIME] = {"time", "time", CLONE_NEWTIME},
};

const char *
ocirun_ns_name(enum ocirun_ns ns)
{
    return ns_table[ns].name;
}

const char *
ocirun_ns_proc_name(enum ocirun_ns ns)
{
    return ns_table[ns].proc;
}

int
ocirun_ns_flag(enum ocirun_ns ns)
{
    return ns_table[ns].flag;
}

static const struct {
    const char *name;
    int resource;
} rlimit_table[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

int
ocirun_rlimit_parse(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(rlimit_table); i++)
        if (strcmp(rlimit_table[i].name, name) == 0)
            return rlimit_table[i].resource;
    return -1;
}

const char *
ocirun_rlimit_name(size_t i)
{
    return i < ARRAY_SIZE(rlimit_table) ? rlimit_table[i].name : NULL;
}

/* Each array element parser gets the element and its index; -1 fills err. */
typedef int (*item_fn)(struct json_object *item, size_t i, void *out, struct berth_err *err);

/* Run fn over the array `key` of obj into a new array of n items of size `size`. */
static int
parse_array(struct json_object *obj, const char *key, size_t size, item_fn fn, void **out,
            size_t *n_out, struct berth_err *err)
{
    struct json_object *arr = NULL;
    int r = berth_json_get_array(obj, key, &arr, err);
    if (r <= 0)
        return r;
    size_t n = json_object_array_length(arr);
    cleanup_free char *items = xzalloc(size * (n ? n : 1));
    for (size_t i = 0; i < n; i++) {
        struct json_object *item = json_object_array_get_idx(arr, i);
        /* Items are stored before any failure so the caller's free releases them. */
        *n_out = i;
        *out = items;
        if (fn(item, i, items + size * i, err) < 0) {
            items = NULL;
            *n_out = i + 1;
            return berth_err_wrap(err, "%s[%zu]", key, i);
        }
    }
    *out = steal_ptr(&items);
    *n_out = n;
    return 1;
}

static int
need_object(struct json_object *item, const char *what, struct berth_err *err)
{
    if (!json_object_is_type(item, json_type_object))
        return berth_err_fail(err, EINVAL, "%s: expected object, got %s", what,
                              berth_json_type_name(item));
    return 0;
}

static int
parse_id_map(struct json_object *item, size_t i, void *out, struct berth_err *err)
{
    struct ocirun_id_map *m = out;
    if (need_object(item, "mapping", err) < 0)
        return -1;
    static const char *keys[] = {"containerID", "hostID", "size"};
    uint32_t *vals[] = {&m->container_id, &m->host_id, &m->size};
    for (size_t k = 0; k < 3; k++) {
        int r = berth_json_get_uint32(item, keys[k], vals[k], err);
        if (r < 0)
            return -1;
        if (r == 0)
            return berth_err_fail(err, EINVAL, "`%s` is required", keys[k]);
    }
    return 0;
}

static int
parse_mount(struct json_object *item, size_t i, void *out, struct berth_err *err)
{
    struct ocirun_mount *m = out;
    const char *dest = NULL, *type = NULL, *source = NULL;
    if (need_object(item, "mount", err) < 0)
        return -1;
    if (berth_json_get_string(item, "destination", &dest, err) < 0 ||
        berth_json_get_string(item, "type", &type, err) < 0 ||
        berth_json_get_string(item, "source", &source, err) < 0 ||
        berth_json_get_strv(item, "options", &m->options, NULL, err) < 0)
        return -1;
    if (!dest || !*dest)
        return berth_err_fail(err, EINVAL, "`destination` is required");
    if (dest[0] != '/')
        return berth_err_fail(err, EINVAL, "destination `%s` is not an absolute path", dest);
    m->destination = berth_fs_clean(dest);
    m->type = type && *type ? xstrdup(type) : NULL;
    m->source = source ? xstrdup(source) : NULL;
    if (!m->options)
        m->options = xzalloc(sizeof(char *));
    if (parse_array(item, "uidMappings", sizeof(struct ocirun_id_map), parse_id_map,
                    (void **)&m->uid_map, &m->n_uid_map, err) < 0 ||
        parse_array(item, "gidMappings", sizeof(struct ocirun_id_map), parse_id_map,
                    (void **)&m->gid_map, &m->n_gid_map, err) < 0)
        return -1;
    return 0;
}

static int
parse_device(struct json_object *item, size_t i, void *out, struct berth_err *err)
{
    struct ocirun_device *d = out;
    const char *path = NULL, *type = NULL;
    if (need_object(item, "device", err) < 0)
        return -1;
    if (berth_json_get_string(item, "path", &path, err) < 0 ||
        berth_json_get_string(item, "type", &type, err) < 0)
        return -1;
    if (!path || path[0] != '/')
        return berth_err_fail(err, EINVAL, "`path` must be an absolute path");
    if (!type || strlen(type) != 1 || !strchr("cbup", type[0]))
        return berth_err_fail(err, EINVAL, "device `%s`: `type` must be one of c, b, u, p", path);
    d->path = berth_fs_clean(path);
    d->type = type[0];
    int r1 = berth_json_get_int64(item, "major", &d->major, err);
    if (r1 < 0)
        return -1;
    int r2 = berth_json_get_int64(item, "minor", &d->minor, err);
    if (r2 < 0)
        return -1;
    if (d->type != 'p' && (r1 == 0 || r2 == 0))
        return berth_err_fail(err, EINVAL, "device `%s`: `major` and `minor` are required", path);
    int r;
    if ((r = berth_json_get_uint32(item, "fileMode", &d->mode, err)) < 0)
        return -1;
    d->has_mode = r;
    if ((r = berth_json_get_uint32(item, "uid", &d->uid, err)) < 0)
        return -1;
    d->has_uid = r;
    if ((r = berth_json_get_uint32(item, "gid", &d->gid, err)) < 0)
        return -1;
    d->has_gid = r;
    return 0;
}

static int
parse_rlimit(struct json_object *item, size_t i, void *out, struct berth_err *err)
{
    struct ocirun_rlimit *rl = out;
    const char *type = NULL;
    if (need_object(item, "rlimit", err) < 0)
        return -1;
    if (berth_json_get_string(item, "type", &type, err) < 0)
        return -1;
    if (!type)
        return berth_err_fail(err, EINVAL, "`type` is required");
    rl->resource = ocirun_rlimit_parse(type);
    if (rl->resource < 0)
        return berth_err_fail(err, EINVAL, "unknown rlimit `%s`", type);
    if (berth_json_get_uint64(item, "soft", &rl->soft, err) < 0 ||
        berth_json_get_uint64(item, "hard", &rl->hard, err) < 0)
        return -1;
    if (rl->soft > rl->hard)
        return berth_err_fail(err, EINVAL, "rlimit `%s`: soft limit above hard limit", type);
    return 0;
}

static int
parse_gid(struct json_object *item, size_t i, void *out, struct berth_err *err)
{
    int64_t v;
    if (!json_object_is_type(item, json_type_int))
        return berth_err_fail(err, EINVAL, "expected integer, got %s", berth_json_type_name(item));
    v = json_object_get_int64(item);
    if (v < 0 || v > UINT32_MAX)
        return berth_err_fail(err, EINVAL, "gid %lld out of range", (long long)v);
    *(uint32_t *)out = (uint32_t)v;
    return 0;
}

int
ocirun_spec_parse_process(struct json_object *p, struct ocirun_process *pr, struct berth_err *err)
{
    const char *cwd = NULL;
    struct json_object *user = NULL, *size = NULL, *caps = NULL;
    int r;

    if (berth_json_get_bool(p, "terminal", &pr->terminal, err) < 0 ||
        berth_json_get_strv(p, "args", &pr->args, NULL, err) < 0 ||
        berth_json_get_strv(p, "env", &pr->env, NULL, err) < 0 ||
        berth_json_get_string(p, "cwd", &cwd, err) < 0 ||
        berth_json_get_object(p, "user", &user, err) < 0 ||
        berth_json_get_bool(p, "noNewPrivileges", &pr->no_new_privileges, err) < 0)
        return -1;
    if (!pr->args || !pr->args[0] || !pr->args[0][0])
        return berth_err_fail(err, EINVAL, "`args` must name a program to run");
    if (!cwd || cwd[0] != '/')
        return berth_err_fail(err, EINVAL, "`cwd` must be an absolute path");
    pr->cwd = berth_fs_clean(cwd);
    if (!pr->env)
        pr->env = xzalloc(sizeof(char *));
    if (user) {
        if (berth_json_get_uint32(user, "uid", &pr->uid, err) < 0 ||
            berth_json_get_uint32(user, "gid", &pr->gid, err) < 0)
            return berth_err_wrap(err, "user");
        if ((r = berth_json_get_uint32(user, "umask", &pr->umask, err)) < 0)
            return berth_err_wrap(err, "user");
        pr->has_umask = r;
        if (parse_array(user, "additionalGids", sizeof(uint32_t), parse_gid,
                        (void **)&pr->additional_gids, &pr->n_additional_gids, err) < 0)
            return berth_err_wrap(err, "user");
    }
    if (parse_array(p, "rlimits", sizeof(struct ocirun_rlimit), parse_rlimit, (void **)&pr->rlimits,
                    &pr->n_rlimits, err) < 0)
        return -1;
    if ((r = berth_json_get_int(p, "oomScoreAdj", &pr->oom_score_adj, err)) < 0)
        return -1;
    pr->has_oom_score_adj = r;
    if (r && (pr->oom_score_adj < -1000 || pr->oom_score_adj > 1000))
        return berth_err_fail(err, EINVAL, "`oomScoreAdj` %d out of range [-1000, 1000]",
                              pr->oom_score_adj);
    if (berth_json_get_object(p, "capabilities", &caps, err) < 0 ||
        ocirun_caps_parse(caps, &pr->caps, err) < 0)
        return -1;
    if (ocirun_lsm_parse(p, NULL, &pr->lsm, err) < 0)
        return -1;
    if (berth_json_get_object(p, "consoleSize", &size, err) < 0)
        return -1;
    if (size && (berth_json_get_uint32(size, "height", &pr->console_height, err) < 0 ||
                 berth_json_get_uint32(size, "width", &pr->console_width, err) < 0))
        return berth_err_wrap(err, "consoleSize");
    return 0;
}

static int
parse_namespaces(struct ocirun_spec *s, struct json_object *lx, struct berth_err *err)
{
    struct json_object *arr = NULL;
    int r = berth_json_get_array(lx, "namespaces", &arr, err);
    if (r <= 0)
        return r;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *item = json_object_array_get_idx(arr, i);
        const char *type = NULL, *path = NULL;
        size_t k;
        if (need_object(item, "namespace", err) < 0 ||
            berth_json_get_string(item, "type", &type, err) < 0 ||
            berth_json_get_string(item, "path", &path, err) < 0)
            return berth_err_wrap(err, "namespaces[%zu]", i);
        if (!type)
            return berth_err_fail(err, EINVAL, "namespaces[%zu]: `type` is required", i);
        for (k = 0; k < OCIRUN_NS_COUNT; k++)
            if (strcmp(ns_table[k].name, type) == 0)
                break;
        if (k == OCIRUN_NS_COUNT)
            return berth_err_fail(err, EINVAL, "namespaces[%zu]: unknown namespace type `%s`", i,
                                  type);
        if (s->ns[k].wanted)
            return berth_err_fail(err, EINVAL, "namespaces: `%s` listed twice", type);
        s->ns[k].wanted = true;
        if (path && *path) {
            if (path[0] != '/')
                return berth_err_fail(err, EINVAL, "namespace `%s`: path `%s` is not absolute",
                                      type, path);
            s->ns[k].path = xstrdup(path);
        }
    }
    return 0;
}

static int
parse_time_offsets(struct ocirun_spec *s, struct json_object *lx, struct berth_err *err)
{
    struct json_object *offs = NULL;
    static const char *clocks[] = {"monotonic", "boottime"};
    int r = berth_json_get_object(lx, "timeOffsets", &offs, err);
    if (r <= 0)
        return r;
    s->has_time_offsets = true;
    for (size_t c = 0; c < 2; c++) {
        struct json_object *o = NULL;
        if (berth_json_get_object(offs, clocks[c], &o, err) < 0)
            return berth_err_wrap(err, "timeOffsets");
        if (!o)
            continue;
        uint32_t ns = 0;
        if (berth_json_get_int64(o, "secs", &s->time_offsets[c][0], err) < 0 ||
            berth_json_get_uint32(o, "nanosecs", &ns, err) < 0)
            return berth_err_wrap(err, "timeOffsets.%s", clocks[c]);
        s->time_offsets[c][1] = ns;
    }
    return 0;
}

/* What every container may use whatever its device rules say, as runc allows them: mknod of
 * any node, the default devices ocirun creates, ptys and the console. */
static const struct ocirun_device_rule default_allowed[] = {
    {true, 'c', -1, -1, "m"}, {true, 'b', -1, -1, "m"},    {true, 'c', 1, 3, "rwm"},
    {true, 'c', 1, 5, "rwm"}, {true, 'c', 1, 7, "rwm"},    {true, 'c', 1, 8, "rwm"},
    {true, 'c', 1, 9, "rwm"}, {true, 'c', 5, 0, "rwm"},    {true, 'c', 5, 1, "rwm"},
    {true, 'c', 5, 2, "rwm"}, {true, 'c', 136, -1, "rwm"},
};

/* The device rules the cgroup gets: the config's, then the defaults and linux.devices
 * allowed after them (the last matching rule wins, so these stay usable). */
static void
add_default_device_rules(struct ocirun_spec *s)
{
    struct ocirun_resources *r = &s->resources;
    if (!r->has_devices)
        return;
    size_t n = r->n_devices + ARRAY_SIZE(default_allowed) + s->n_devices;
    r->devices = xrealloc(r->devices, n * sizeof(*r->devices));
    memcpy(r->devices + r->n_devices, default_allowed, sizeof(default_allowed));
    r->n_devices += ARRAY_SIZE(default_allowed);
    for (size_t i = 0; i < s->n_devices; i++) {
        const struct ocirun_device *d = &s->devices[i];
        if (d->type == 'p')
            continue;
        struct ocirun_device_rule rule = {true, d->type == 'b' ? 'b' : 'c', d->major, d->minor,
                                          "rwm"};
        r->devices[r->n_devices++] = rule;
    }
}

static bool
is_mapped(const struct ocirun_id_map *m, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (id >= m[i].container_id && id - m[i].container_id < m[i].size)
            return true;
    return false;
}

/* In a new user namespace, the process's ids must exist there: setuid to an unmapped uid
 * fails with a bare EINVAL deep in the init, so say it here, before anything is made. */
static int
check_ids_mapped(const struct ocirun_spec *s, struct berth_err *err)
{
    const struct ocirun_process *p = &s->process;
    if (!is_mapped(s->uid_mappings, s->n_uid_mappings, p->uid))
        return berth_err_fail(err, EINVAL,
                              "process.user.uid %u is not mapped by linux.uidMappings of the "
                              "user namespace",
                              p->uid);
    if (!is_mapped(s->gid_mappings, s->n_gid_mappings, p->gid))
        return berth_err_fail(err, EINVAL,
                              "process.user.gid %u is not mapped by linux.gidMappings of the "
                              "user namespace",
                              p->gid);
    for (size_t i = 0; i < p->n_additional_gids; i++)
        if (!is_mapped(s->gid_mappings, s->n_gid_mappings, p->additional_gids[i]))
            return berth_err_fail(err, EINVAL,
                                  "process.user.additionalGids: gid %u is not mapped by "
                                  "linux.gidMappings of the user namespace",
                                  p->additional_gids[i]);
    return 0;
}

static int
parse_linux(struct ocirun_spec *s, struct json_object *lx, struct berth_err *err)
{
    const char *cg = NULL, *prop = NULL;
    if (parse_namespaces(s, lx, err) < 0)
        return -1;
    if (parse_array(lx, "uidMappings", sizeof(struct ocirun_id_map), parse_id_map,
                    (void **)&s->uid_mappings, &s->n_uid_mappings, err) < 0 ||
        parse_array(lx, "gidMappings", sizeof(struct ocirun_id_map), parse_id_map,
                    (void **)&s->gid_mappings, &s->n_gid_mappings, err) < 0 ||
        parse_array(lx, "devices", sizeof(struct ocirun_device), parse_device, (void **)&s->devices,
                    &s->n_devices, err) < 0)
        return -1;
    if (berth_json_get_string(lx, "cgroupsPath", &cg, err) < 0 ||
        berth_json_get_string(lx, "rootfsPropagation", &prop, err) < 0 ||
        berth_json_get_strv(lx, "maskedPaths", &s->masked_paths, NULL, err) < 0 ||
        berth_json_get_strv(lx, "readonlyPaths", &s->readonly_paths, NULL, err) < 0)
        return -1;
    if (cg && *cg)
        s->cgroups_path = xstrdup(cg);
    if (prop && *prop) {
        static const char *ok[] = {"private", "rprivate", "shared",     "rshared",
                                   "slave",   "rslave",   "unbindable", "runbindable"};
        size_t k;
        for (k = 0; k < ARRAY_SIZE(ok) && strcmp(ok[k], prop) != 0; k++)
            ;
        if (k == ARRAY_SIZE(ok))
            return berth_err_fail(err, EINVAL, "unknown rootfsPropagation `%s`", prop);
        s->rootfs_propagation = xstrdup(prop);
    }
    if (s->ns[OCIRUN_NS_USER].wanted && !s->ns[OCIRUN_NS_USER].path &&
        (!s->n_uid_mappings || !s->n_gid_mappings))
        return berth_err_fail(err, EINVAL,
                              "a new user namespace needs both uidMappings and gidMappings");
    if (!s->ns[OCIRUN_NS_USER].wanted && (s->n_uid_mappings || s->n_gid_mappings))
        return berth_err_fail(err, EINVAL, "uidMappings/gidMappings need a user namespace");
    if (s->ns[OCIRUN_NS_USER].wanted && !s->ns[OCIRUN_NS_USER].path && check_ids_mapped(s, err) < 0)
        return -1;
    return parse_time_offsets(s, lx, err);
}

/* The version must be 1.x: a new major may change meanings under the same field names. */
static int
check_version(const char *v, struct berth_err *err)
{
    char *end;
    if (!v)
        return berth_err_fail(err, EINVAL, "`ociVersion` is required");
    unsigned long major = strtoul(v, &end, 10);
    if (end == v || *end != '.')
        return berth_err_fail(err, EINVAL, "`ociVersion` `%s` is not a version", v);
    if (major != 1)
        return berth_err_fail(err, EINVAL, "unsupported `ociVersion` `%s` (want 1.x)", v);
    return 0;
}

static int
load(struct ocirun_spec *s, struct berth_err *err)
{
    struct json_object *root = NULL, *process = NULL, *lx = NULL;
    const char *version = NULL, *path = NULL, *hostname = NULL, *domainname = NULL;
    struct stat st;

    if (!json_object_is_type(s->doc, json_type_object))
        return berth_err_fail(err, EINVAL, "expected an object at the top level");
    if (berth_json_get_string(s->doc, "ociVersion", &version, err) < 0)
        return -1;
    if (check_version(version, err) < 0)
        return -1;
    s->oci_version = xstrdup(version);

    if (berth_json_get_object(s->doc, "root", &root, err) < 0)
        return -1;
    if (!root)
        return berth_err_fail(err, EINVAL, "`root` is required");
    if (berth_json_get_string(root, "path", &path, err) < 0 ||
        berth_json_get_bool(root, "readonly", &s->root_readonly, err) < 0)
        return berth_err_wrap(err, "root");
    if (!path || !*path)
        return berth_err_fail(err, EINVAL, "root.path is required");
    s->root_path = path[0] == '/' ? berth_fs_clean(path) : xasprintf("%s/%s", s->bundle, path);
    if (stat(s->root_path, &st) < 0)
        return berth_err_set(err, errno, "rootfs `%s`", s->root_path);
    if (!S_ISDIR(st.st_mode))
        return berth_err_set(err, ENOTDIR, "rootfs `%s`", s->root_path);

    if (berth_json_get_object(s->doc, "process", &process, err) < 0)
        return -1;
    if (!process)
        return berth_err_fail(err, EINVAL, "`process` is required");
    if (ocirun_spec_parse_process(process, &s->process, err) < 0)
        return berth_err_wrap(err, "process");

    if (berth_json_get_string(s->doc, "hostname", &hostname, err) < 0 ||
        berth_json_get_string(s->doc, "domainname", &domainname, err) < 0 ||
        berth_json_get_object(s->doc, "annotations", &s->annotations, err) < 0 ||
        berth_json_get_object(s->doc, "hooks", &s->hooks, err) < 0 ||
        ocirun_hooks_check(s->hooks, err) < 0)
        return -1;
    s->hostname = hostname ? xstrdup(hostname) : NULL;
    s->domainname = domainname ? xstrdup(domainname) : NULL;

    if (parse_array(s->doc, "mounts", sizeof(struct ocirun_mount), parse_mount, (void **)&s->mounts,
                    &s->n_mounts, err) < 0)
        return -1;
    if (berth_json_get_object(s->doc, "linux", &lx, err) < 0)
        return -1;
    if (lx && parse_linux(s, lx, err) < 0)
        return berth_err_wrap(err, "linux");
    if (lx) {
        struct ocirun_lsm l;
        if (ocirun_lsm_parse(NULL, lx, &l, err) < 0)
            return -1;
        s->process.lsm.has_personality = l.has_personality;
        s->process.lsm.personality = l.personality;
        ocirun_lsm_free(&l);
        if (berth_json_get_object(lx, "sysctl", &s->sysctl, err) < 0 ||
            ocirun_sysctl_check(s, s->sysctl, err) < 0)
            return berth_err_wrap(err, "linux");
        struct json_object *sc = NULL, *res = NULL;
        if (berth_json_get_object(lx, "seccomp", &sc, err) < 0 ||
            ocirun_seccomp_parse(sc, &s->seccomp, err) < 0 ||
            berth_json_get_object(lx, "resources", &res, err) < 0 ||
            ocirun_resources_parse(res, &s->resources, err) < 0)
            return berth_err_wrap(err, "linux");
        add_default_device_rules(s);
    }
    if ((s->hostname || s->domainname) && !s->ns[OCIRUN_NS_UTS].wanted)
        return berth_err_fail(err, EINVAL, "hostname/domainname need a new uts namespace");
    return 0;
}

struct ocirun_spec *
ocirun_spec_load(const char *bundle, struct berth_err *err)
{
    cleanup_spec struct ocirun_spec *s = xzalloc(sizeof(*s));
    char abs[PATH_MAX];

    if (!realpath(bundle, abs)) {
        berth_err_set(err, errno, "bundle `%s`", bundle);
        return NULL;
    }
    s->bundle = xstrdup(abs);
    cleanup_free char *config = xasprintf("%s/config.json", abs);
    s->doc = berth_json_parse_file(config, err);
    if (!s->doc) {
        berth_err_wrap(err, "config.json");
        return NULL;
    }
    if (load(s, err) < 0) {
        berth_err_wrap(err, "config.json");
        return NULL;
    }
    return steal_ptr(&s);
}

void
ocirun_process_free(struct ocirun_process *p)
{
    berth_cleanup_strvp(&p->args);
    berth_cleanup_strvp(&p->env);
    free(p->cwd);
    free(p->additional_gids);
    free(p->rlimits);
    ocirun_lsm_free(&p->lsm);
    memset(p, 0, sizeof(*p));
}

static void
free_maps(struct ocirun_id_map *m)
{
    free(m);
}

void
ocirun_spec_free(struct ocirun_spec *s)
{
    if (!s)
        return;
    if (s->doc)
        json_object_put(s->doc);
    free(s->bundle);
    free(s->oci_version);
    free(s->root_path);
    free(s->hostname);
    free(s->domainname);
    ocirun_process_free(&s->process);
    for (size_t i = 0; i < s->n_mounts; i++) {
        free(s->mounts[i].destination);
        free(s->mounts[i].type);
        free(s->mounts[i].source);
        berth_cleanup_strvp(&s->mounts[i].options);
        free_maps(s->mounts[i].uid_map);
        free_maps(s->mounts[i].gid_map);
    }
    free(s->mounts);
    for (size_t i = 0; i < OCIRUN_NS_COUNT; i++)
        free(s->ns[i].path);
    free_maps(s->uid_mappings);
    free_maps(s->gid_mappings);
    for (size_t i = 0; i < s->n_devices; i++)
        free(s->devices[i].path);
    free(s->devices);
    free(s->cgroups_path);
    ocirun_seccomp_free(s->seccomp);
    ocirun_resources_free(&s->resources);
    free(s->rootfs_propagation);
    berth_cleanup_strvp(&s->masked_paths);
    berth_cleanup_strvp(&s->readonly_paths);
    free(s);
}
