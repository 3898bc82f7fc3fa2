/* SPDX-License-Identifier: Apache-2.0
 *
 * The container's mounts: Docker's defaults (/proc, /dev, /dev/pts, /dev/shm, /dev/mqueue,
 * /sys and the cgroup tree, read-only unless privileged), the engine's /etc/hostname,
 * /etc/hosts and /etc/resolv.conf, then what the user asked for: Binds, Mounts (bind, volume,
 * tmpfs), the Tmpfs map and the image's Volumes. A user mount on a default's destination
 * replaces the default; two user mounts on one destination are an error; user mounts are
 * ordered parents first, so /a is mounted before /a/b.
 */
#include "engine/spec/spec-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/fs.h"

#define DEFAULT_SHM_SIZE (64LL << 20)

/* Check a destination: absolute, and not the root itself. Returns the cleaned path (heap). */
static char *
destination(const char *field, const char *dest, struct berth_err *err)
{
    if (!dest || dest[0] != '/') {
        berth_err_fail(err, EINVAL, "%s: destination `%s` is not an absolute path", field,
                       dest ? dest : "");
        return NULL;
    }
    char *clean = berth_fs_clean(dest);
    if (strcmp(clean, "/") == 0) {
        free(clean);
        berth_err_fail(err, EINVAL, "%s: cannot mount over `/`", field);
        return NULL;
    }
    return clean;
}

static int
add_user_mount(struct json_object *user, const char *field, struct json_object *m,
               struct berth_err *err)
{
    struct json_object *d;
    json_object_object_get_ex(m, "destination", &d);
    const char *dest = json_object_get_string(d);

    for (size_t i = 0; i < json_object_array_length(user); i++) {
        struct json_object *o;
        json_object_object_get_ex(json_object_array_get_idx(user, i), "destination", &o);
        if (strcmp(json_object_get_string(o), dest) == 0) {
            berth_err_fail(err, EINVAL, "%s: duplicate mount point `%s`", field, dest);
            json_object_put(m); /* dest lives in m: only now */
            return -1;
        }
    }
    json_object_array_add(user, m);
    return 0;
}

static struct json_object *
bind_mount(const char *dest, const char *source, bool ro, const char *propagation)
{
    const char *opts[] = {"rbind", propagation ? propagation : "rprivate", ro ? "ro" : NULL, NULL};
    return spec_mount(dest, "bind", source, opts);
}

static int
host_source(const char *field, const char *src, struct berth_err *err)
{
    struct stat st;

    if (stat(src, &st) < 0)
        return berth_err_set(err, errno, "%s: bind source `%s`", field, src);
    return 0;
}

static char *
volume_source(struct spec_ctx *c, const char *field, const char *name, const char *dest,
              struct berth_err *err)
{
    char *src;

    if (!c->in->volume) {
        berth_err_fail(err, ENOTSUP, "%s: volumes are not supported here (volume for `%s`)", field,
                       dest);
        return NULL;
    }
    src = c->in->volume(c->in->volume_data, name, dest, err);
    if (!src)
        berth_err_wrap(err, "%s: volume `%s`", field, *name ? name : "(anonymous)");
    return src;
}

static bool
is_propagation(const char *s)
{
    static const char *const p[] = {"shared", "rshared", "slave", "rslave", "private", "rprivate"};
    for (size_t i = 0; i < ARRAY_SIZE(p); i++)
        if (strcmp(s, p[i]) == 0)
            return true;
    return false;
}

/* One "src:dst[:opts]" item of HostConfig.Binds. */
static int
bind_item(struct spec_ctx *c, struct json_object *user, size_t idx, const char *item,
          struct berth_err *err)
{
    cleanup_free char *field = xasprintf("HostConfig.Binds[%zu]", idx);
    cleanup_free char *copy = xstrdup(item);
    cleanup_free char *dest = NULL, *src = NULL;
    char *parts[4] = {NULL};
    size_t n = 0;
    bool ro = false;
    const char *prop = NULL;

    for (char *p = copy; p && n < 4;) {
        parts[n++] = p;
        p = strchr(p, ':');
        if (p)
            *p++ = '\0';
    }
    if (n < 2 || n > 3 || !*parts[0])
        return berth_err_fail(err, EINVAL, "%s: `%s` is not src:dst[:options]", field, item);
    if (!(dest = destination(field, parts[1], err)))
        return -1;
    for (char *save = NULL, *o = n == 3 ? strtok_r(parts[2], ",", &save) : NULL; o;
         o = strtok_r(NULL, ",", &save)) {
        if (strcmp(o, "ro") == 0)
            ro = true;
        else if (strcmp(o, "rw") == 0)
            ro = false;
        else if (is_propagation(o))
            prop = o;
        else if (strcmp(o, "z") && strcmp(o, "Z") && strcmp(o, "nocopy") &&
                 strcmp(o, "consistent") && strcmp(o, "cached") && strcmp(o, "delegated"))
            /* z/Z are SELinux relabels (no SELinux here), the rest are macOS hints. */
            return berth_err_fail(err, EINVAL, "%s: unknown option `%s`", field, o);
    }
    if (parts[0][0] == '/') {
        if (host_source(field, parts[0], err) < 0)
            return -1;
        src = xstrdup(parts[0]);
    } else if (!(src = volume_source(c, field, parts[0], dest, err))) {
        return -1;
    }
    return add_user_mount(user, field, bind_mount(dest, src, ro, prop), err);
}

static int
tmpfs_mount(struct json_object *user, const char *field, const char *dest, const char *options,
            struct berth_err *err)
{
    struct json_object *m = spec_mount(dest, "tmpfs", "tmpfs", NULL), *opts;
    cleanup_free char *copy = xstrdup(options ? options : "");

    json_object_object_get_ex(m, "options", &opts);
    static const char *const defaults[] = {"nosuid", "nodev", "noexec"};
    for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
        json_object_array_add(opts, json_object_new_string(defaults[i]));
    for (char *save = NULL, *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
        if (strcmp(o, "exec") == 0 || strcmp(o, "dev") == 0 || strcmp(o, "suid") == 0) {
            /* Undo the matching default. */
            for (size_t i = 0; i < json_object_array_length(opts); i++) {
                const char *s = json_object_get_string(json_object_array_get_idx(opts, i));
                if (strncmp(s, "no", 2) == 0 && strcmp(s + 2, o) == 0)
                    json_object_array_del_idx(opts, i, 1);
            }
        }
        json_object_array_add(opts, json_object_new_string(o));
    }
    return add_user_mount(user, field, m, err);
}

/* One item of HostConfig.Mounts. */
static int
mount_item(struct spec_ctx *c, struct json_object *user, size_t idx, struct json_object *m,
           struct berth_err *err)
{
    cleanup_free char *field = xasprintf("HostConfig.Mounts[%zu]", idx);
    cleanup_free char *dest = NULL, *src = NULL;
    const char *type = NULL, *source = NULL, *target = NULL, *prop = NULL;
    struct json_object *bo = NULL, *to = NULL;
    bool ro = false;

    if (!json_object_is_type(m, json_type_object))
        return berth_err_fail(err, EINVAL, "%s: expected an object, got %s", field,
                              spec_type_phrase(m));
    if (spec_get_string(m, field, "Type", &type, err) < 0 ||
        spec_get_string(m, field, "Source", &source, err) < 0 ||
        spec_get_string(m, field, "Target", &target, err) < 0 ||
        spec_get_bool(m, field, "ReadOnly", &ro, err) < 0 ||
        spec_get_object(m, field, "BindOptions", &bo, err) < 0 ||
        spec_get_object(m, field, "TmpfsOptions", &to, err) < 0)
        return -1;
    if (!target)
        return berth_err_fail(err, EINVAL, "%s.Target: required", field);
    if (!(dest = destination(field, target, err)))
        return -1;
    if (!type)
        return berth_err_fail(err, EINVAL, "%s.Type: required", field);

    if (strcmp(type, "bind") == 0) {
        cleanup_free char *bsec = xasprintf("%s.BindOptions", field);
        if (spec_get_string(bo, bsec, "Propagation", &prop, err) < 0)
            return -1;
        if (prop && *prop && !is_propagation(prop))
            return berth_err_fail(err, EINVAL, "%s.Propagation: invalid `%s`", bsec, prop);
        if (!source || source[0] != '/')
            return berth_err_fail(err, EINVAL, "%s.Source: `%s` is not an absolute path", field,
                                  source ? source : "");
        if (host_source(field, source, err) < 0)
            return -1;
        return add_user_mount(user, field,
                              bind_mount(dest, source, ro, prop && *prop ? prop : NULL), err);
    }
    if (strcmp(type, "volume") == 0) {
        if (!(src = volume_source(c, field, source ? source : "", dest, err)))
            return -1;
        return add_user_mount(user, field, bind_mount(dest, src, ro, NULL), err);
    }
    if (strcmp(type, "tmpfs") == 0) {
        cleanup_free char *tsec = xasprintf("%s.TmpfsOptions", field);
        cleanup_free char *opts = NULL;
        int64_t size = 0, mode = 0;
        if (source && *source)
            return berth_err_fail(err, EINVAL, "%s.Source: a tmpfs has no source", field);
        if (spec_get_int64(to, tsec, "SizeBytes", &size, err) < 0 ||
            spec_get_int64(to, tsec, "Mode", &mode, err) < 0)
            return -1;
        if (size < 0)
            return berth_err_fail(err, EINVAL, "%s.SizeBytes: must not be negative", tsec);
        if (mode < 0 || mode > 07777)
            return berth_err_fail(err, EINVAL, "%s.Mode: %lld is not a file mode", tsec,
                                  (long long)mode);
        opts = xstrdup(ro ? "ro" : "rw");
        if (size) {
            char *t = xasprintf("%s,size=%lld", opts, (long long)size);
            free(opts);
            opts = t;
        }
        if (mode) {
            char *t = xasprintf("%s,mode=%llo", opts, (unsigned long long)mode);
            free(opts);
            opts = t;
        }
        return tmpfs_mount(user, field, dest, opts, err);
    }
    return berth_err_fail(err, EINVAL, "%s.Type: `%s` is not bind, volume or tmpfs", field, type);
}

/* An anonymous volume on each destination of vols (a Volumes map) that no mount of user
 * covers yet. */
static int
anonymous_volumes(struct spec_ctx *c, struct json_object *user, struct json_object *vols,
                  const char *field, struct berth_err *err)
{
    if (!vols)
        return 0;
    json_object_object_foreach(vols, key, val)
    {
        (void)val;
        cleanup_free char *dest = destination(field, key, err);
        bool taken = false;
        if (!dest)
            return -1;
        for (size_t i = 0; i < json_object_array_length(user); i++) {
            struct json_object *o;
            json_object_object_get_ex(json_object_array_get_idx(user, i), "destination", &o);
            taken = taken || strcmp(json_object_get_string(o), dest) == 0;
        }
        if (taken)
            continue;
        cleanup_free char *src = volume_source(c, field, "", dest, err);
        if (!src)
            return -1;
        json_object_array_add(user, bind_mount(dest, src, false, NULL));
    }
    return 0;
}

static int
user_mounts(struct spec_ctx *c, struct json_object *user, struct berth_err *err)
{
    struct json_object *binds = NULL, *mounts = NULL, *tmpfs = NULL, *vols = NULL, *cvols = NULL;

    if (spec_get_string_array(c->host, "HostConfig", "Binds", &binds, err) < 0 ||
        spec_get_array(c->host, "HostConfig", "Mounts", &mounts, err) < 0 ||
        spec_get_object(c->host, "HostConfig", "Tmpfs", &tmpfs, err) < 0 ||
        spec_get_object(c->image, "Image.Config", "Volumes", &vols, err) < 0 ||
        spec_get_object(c->config, "Config", "Volumes", &cvols, err) < 0)
        return -1;
    for (size_t i = 0; binds && i < json_object_array_length(binds); i++)
        if (bind_item(c, user, i, json_object_get_string(json_object_array_get_idx(binds, i)),
                      err) < 0)
            return -1;
    for (size_t i = 0; mounts && i < json_object_array_length(mounts); i++)
        if (mount_item(c, user, i, json_object_array_get_idx(mounts, i), err) < 0)
            return -1;
    if (tmpfs) {
        json_object_object_foreach(tmpfs, key, val)
        {
            cleanup_free char *field = xasprintf("HostConfig.Tmpfs.%s", key);
            cleanup_free char *dest = NULL;
            if (!json_object_is_type(val, json_type_string))
                return berth_err_fail(err, EINVAL, "%s: expected a string, got %s", field,
                                      spec_type_phrase(val));
            if (!(dest = destination(field, key, err)) ||
                tmpfs_mount(user, field, dest, json_object_get_string(val), err) < 0)
                return -1;
        }
    }
    /* The container's Volumes (`docker run -v /path`), then the image's, get anonymous
     * volumes, unless something is mounted there already. */
    if (anonymous_volumes(c, user, cvols, "Config.Volumes", err) < 0 ||
        anonymous_volumes(c, user, vols, "Image.Config.Volumes", err) < 0)
        return -1;
    return 0;
}

static int
depth(struct json_object *m)
{
    struct json_object *d;
    int n = 0;

    json_object_object_get_ex(m, "destination", &d);
    for (const char *p = json_object_get_string(d); *p; p++)
        n += *p == '/';
    return n;
}

static int
by_depth(const void *a, const void *b)
{
    return depth(*(struct json_object *const *)a) - depth(*(struct json_object *const *)b);
}

static bool
has_destination(struct json_object *list, const char *dest)
{
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        struct json_object *o;
        json_object_object_get_ex(json_object_array_get_idx(list, i), "destination", &o);
        if (strcmp(json_object_get_string(o), dest) == 0)
            return true;
    }
    return false;
}

static void
add_default(struct json_object *mounts, struct json_object *user, struct json_object *m)
{
    struct json_object *d;

    json_object_object_get_ex(m, "destination", &d);
    if (has_destination(user, json_object_get_string(d)))
        json_object_put(m);
    else
        json_object_array_add(mounts, m);
}

static int
shm_mount(struct spec_ctx *c, struct json_object *mounts, struct json_object *user,
          struct berth_err *err)
{
    int64_t size = DEFAULT_SHM_SIZE;

    if (spec_get_int64(c->host, "HostConfig", "ShmSize", &size, err) < 0)
        return -1;
    if (size < 0)
        return berth_err_fail(err, EINVAL, "HostConfig.ShmSize: must not be negative");
    if (size == 0)
        size = DEFAULT_SHM_SIZE;
    if (c->ipc_none)
        return 0;
    if (c->ipc_host) {
        add_default(mounts, user, bind_mount("/dev/shm", "/dev/shm", false, NULL));
        return 0;
    }
    if (c->in->shm_path) {
        add_default(mounts, user, bind_mount("/dev/shm", c->in->shm_path, false, NULL));
        return 0;
    }
    cleanup_free char *sz = xasprintf("size=%lld", (long long)size);
    const char *opts[] = {"nosuid", "noexec", "nodev", "mode=1777", sz, NULL};
    add_default(mounts, user, spec_mount("/dev/shm", "tmpfs", "shm", opts));
    return 0;
}

int
spec_mounts(struct spec_ctx *c, struct berth_err *err)
{
    struct json_object *mounts, *root;
    cleanup_json struct json_object *user = json_object_new_array();
    const bool ro_sys = !c->privileged;

    json_object_object_get_ex(c->spec, "mounts", &mounts);
    json_object_object_get_ex(c->spec, "root", &root);
    if (spec_get_bool(c->host, "HostConfig", "ReadonlyRootfs", &c->readonly_rootfs, err) < 0)
        return -1;
    json_object_object_add(root, "readonly", json_object_new_boolean(c->readonly_rootfs));
    if (user_mounts(c, user, err) < 0)
        return -1;

    static const char *const proc_o[] = {"nosuid", "noexec", "nodev", NULL};
    static const char *const dev_o[] = {"nosuid", "strictatime", "mode=755", "size=65536k", NULL};
    static const char *const pts_o[] = {"nosuid",    "noexec", "newinstance", "ptmxmode=0666",
                                        "mode=0620", "gid=5",  NULL};
    static const char *const sys_ro[] = {"nosuid", "noexec", "nodev", "ro", NULL};
    static const char *const sys_rw[] = {"nosuid", "noexec", "nodev", NULL};
    static const char *const sys_bind[] = {"rbind", "nosuid", "noexec", "nodev", "ro", NULL};
    static const char *const mq_o[] = {"nosuid", "noexec", "nodev", NULL};
    static const char *const cg_ro[] = {"ro", "nosuid", "noexec", "nodev", NULL};
    static const char *const cg_rw[] = {"nosuid", "noexec", "nodev", NULL};

    add_default(mounts, user, spec_mount("/proc", "proc", "proc", proc_o));
    add_default(mounts, user, spec_mount("/dev", "tmpfs", "tmpfs", dev_o));
    add_default(mounts, user, spec_mount("/dev/pts", "devpts", "devpts", pts_o));
    if (shm_mount(c, mounts, user, err) < 0)
        return -1;
    if (!c->ipc_host)
        add_default(mounts, user, spec_mount("/dev/mqueue", "mqueue", "mqueue", mq_o));
    /* sysfs belongs to the network namespace: in the host's, bind the host's /sys. */
    if (c->net_host && !c->privileged)
        add_default(mounts, user, spec_mount("/sys", "bind", "/sys", sys_bind));
    else
        add_default(mounts, user, spec_mount("/sys", "sysfs", "sysfs", ro_sys ? sys_ro : sys_rw));
    add_default(mounts, user,
                spec_mount("/sys/fs/cgroup", "cgroup", "cgroup", ro_sys ? cg_ro : cg_rw));

    const struct {
        const char *dest, *path;
    } files[] = {
        {"/etc/resolv.conf", c->in->resolv_conf_path},
        {"/etc/hostname", c->in->hostname_path},
        {"/etc/hosts", c->in->hosts_path},
    };
    for (size_t i = 0; i < ARRAY_SIZE(files); i++)
        if (files[i].path)
            add_default(mounts, user,
                        bind_mount(files[i].dest, files[i].path, c->readonly_rootfs, NULL));

    size_t n = json_object_array_length(user);
    if (n > 1)
        json_object_array_sort(user, by_depth);
    for (size_t i = 0; i < n; i++)
        json_object_array_add(mounts, json_object_get(json_object_array_get_idx(user, i)));
    return 0;
}
