// SPDX-License-Identifier: Apache-2.0
//
// Task bundles (bundle.h). The spec arrives as opaque bytes from the client; only what the
// supervisor must decide is touched here (root.path, linux.cgroupsPath); everything else is
// the runtime's to validate, and its message reaches the client if it refuses.

#include "supervisor/runtime/bundle.h"

#include <errno.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "supervisor/snapshot/mount.h"

void
sup_bundle_info_release(struct sup_bundle_info *info)
{
    free(info->ns);
    free(info->id);
    free(info->runtime);
    free(info->runtime_root);
    free(info->snapshot);
    memset(info, 0, sizeof(*info));
}

// The container's root comes from its snapshot: a key, and no rootfs directory given.
static bool
uses_snapshot(const Berth__Supervisor__V1__Container *c)
{
    return (!c->rootfs || !*c->rootfs) && c->snapshot_key && *c->snapshot_key;
}

static void
set_root_path(struct json_object *spec, struct json_object *root, const char *path)
{
    if (!root) {
        root = json_object_new_object();
        json_object_object_add(spec, "root", root);
    }
    json_object_object_add(root, "path", json_object_new_string(path));
}

// Fill root.path and the default cgroup; read process.terminal.
static int
fix_spec(struct json_object *spec, const char *bundle, const char *ns,
         const Berth__Supervisor__V1__Container *c, bool *terminal, struct berth_err *err)
{
    if (!json_object_is_type(spec, json_type_object))
        return berth_err_fail(err, EINVAL, "spec is a JSON %s, not an object",
                              berth_json_type_name(spec));
    struct json_object *root = NULL, *process = NULL, *lin = NULL, *v;
    if (berth_json_get_object(spec, "process", &process, err) < 0 ||
        berth_json_get_object(spec, "root", &root, err) < 0 ||
        berth_json_get_object(spec, "linux", &lin, err) < 0)
        return berth_err_wrap(err, "spec");
    if (!process)
        return berth_err_fail(err, EINVAL, "spec has no `process`");
    *terminal = json_object_object_get_ex(process, "terminal", &v) && json_object_get_boolean(v);

    if (c->rootfs && *c->rootfs) {
        struct stat st;
        if (c->rootfs[0] != '/')
            return berth_err_fail(err, EINVAL, "rootfs `%s` is not an absolute path", c->rootfs);
        if (stat(c->rootfs, &st) < 0)
            return berth_err_set(err, errno, "rootfs `%s`", c->rootfs);
        if (!S_ISDIR(st.st_mode))
            return berth_err_fail(err, EINVAL, "rootfs `%s` is not a directory", c->rootfs);
        set_root_path(spec, root, c->rootfs);
    } else if (uses_snapshot(c)) {
        cleanup_free char *path = sup_bundle_rootfs(bundle);
        set_root_path(spec, root, path);
    } else if (!root || !json_object_object_get_ex(root, "path", &v) ||
               !json_object_is_type(v, json_type_string) || json_object_get_string(v)[0] != '/') {
        return berth_err_fail(err, EINVAL,
                              "container has no rootfs (set one, a snapshot_key, or an absolute "
                              "root.path)");
    }

    if (!lin) {
        lin = json_object_new_object();
        json_object_object_add(spec, "linux", lin);
    }
    if (!json_object_object_get_ex(lin, "cgroupsPath", NULL)) {
        cleanup_free char *cg = xasprintf("/berth/%s/%s", ns, c->id);
        json_object_object_add(lin, "cgroupsPath", json_object_new_string(cg));
    }
    return 0;
}

static int
write_task_json(const char *bundle, const struct sup_bundle_info *info, struct berth_err *err)
{
    cleanup_json struct json_object *o = json_object_new_object();
    json_object_object_add(o, "namespace", json_object_new_string(info->ns));
    json_object_object_add(o, "id", json_object_new_string(info->id));
    json_object_object_add(o, "runtime", json_object_new_string(info->runtime));
    json_object_object_add(o, "runtime_root", json_object_new_string(info->runtime_root));
    json_object_object_add(o, "systemd_cgroup", json_object_new_boolean(info->systemd_cgroup));
    json_object_object_add(o, "terminal", json_object_new_boolean(info->terminal));
    if (info->snapshot)
        json_object_object_add(o, "snapshot", json_object_new_string(info->snapshot));
    cleanup_free char *path = xasprintf("%s/task.json", bundle);
    return berth_json_write_file(path, o, false, 0600, err);
}

// The mount point of a snapshot-backed container's root.
static int
make_rootfs_dir(const char *bundle, const struct sup_bundle_info *info, struct berth_err *err)
{
    cleanup_free char *rootfs = sup_bundle_rootfs(bundle);
    if (info->snapshot && mkdir(rootfs, 0755) < 0)
        return berth_err_set(err, errno, "create `%s`", rootfs);
    return 0;
}

// The dir and its two files; on failure the dir is removed again.
static int
write_bundle(const char *bundle, struct json_object *spec, const struct sup_bundle_info *info,
             struct berth_err *err)
{
    cleanup_free char *parent = xstrdup(bundle);
    *strrchr(parent, '/') = '\0';
    if (berth_fs_mkdir_p(parent, 0711, err) < 0 ||
        berth_fs_mkdir_p(info->runtime_root, 0711, err) < 0)
        return -1;
    if (mkdir(bundle, 0711) < 0)
        return berth_err_set(err, errno, "create bundle `%s`", bundle);
    cleanup_free char *cfg = xasprintf("%s/config.json", bundle);
    if (make_rootfs_dir(bundle, info, err) < 0 ||
        berth_json_write_file(cfg, spec, false, 0600, err) < 0 ||
        write_task_json(bundle, info, err) < 0) {
        cleanup_err struct berth_err e2 = BERTH_ERR_INIT;
        berth_fs_rm_rf(bundle, &e2);
        return -1;
    }
    return 0;
}

int
sup_bundle_create(const char *bundle, const char *ns, const Berth__Supervisor__V1__Container *c,
                  const char *default_runtime, const char *state, struct sup_bundle_info *info,
                  struct berth_err *err)
{
    memset(info, 0, sizeof(*info));
    if (!c->spec.data || c->spec.len == 0)
        return berth_err_fail(err, EINVAL, "container `%s` has no spec", c->id);
    cleanup_json struct json_object *spec =
        berth_json_parse((const char *)c->spec.data, c->spec.len, err);
    if (!spec)
        return berth_err_wrap(err, "container `%s`: spec", c->id);
    bool terminal = false;
    if (fix_spec(spec, bundle, ns, c, &terminal, err) < 0)
        return berth_err_wrap(err, "container `%s`", c->id);

    const Berth__Supervisor__V1__RuntimeOptions *ro = c->runtime ? c->runtime->options : NULL;
    info->ns = xstrdup(ns);
    info->id = xstrdup(c->id);
    info->runtime = xstrdup(ro && ro->binary && *ro->binary ? ro->binary : default_runtime);
    info->runtime_root =
        ro && ro->root && *ro->root ? xstrdup(ro->root) : xasprintf("%s/runtime/%s", state, ns);
    info->systemd_cgroup = ro && ro->systemd_cgroup;
    info->terminal = terminal;
    info->snapshot = uses_snapshot(c) ? xasprintf("%s/%s", ns, c->snapshot_key) : NULL;

    if (write_bundle(bundle, spec, info, err) < 0) {
        sup_bundle_info_release(info);
        return -1;
    }
    return 0;
}

char *
sup_bundle_rootfs(const char *bundle)
{
    return xasprintf("%s/rootfs", bundle);
}

int
sup_bundle_remove(const char *bundle, struct berth_err *err)
{
    cleanup_free char *rootfs = sup_bundle_rootfs(bundle);
    if (sup_unmount_all(rootfs, err) < 0)
        return berth_err_wrap(err, "unmount the root filesystem of `%s`", bundle);
    return berth_fs_rm_rf(bundle, err);
}

int
sup_bundle_load(const char *bundle, struct sup_bundle_info *info, struct berth_err *err)
{
    memset(info, 0, sizeof(*info));
    cleanup_free char *path = xasprintf("%s/task.json", bundle);
    cleanup_json struct json_object *o = berth_json_parse_file(path, err);
    if (!o)
        return -1;
    const char *ns = NULL, *id = NULL, *rt = NULL, *root = NULL, *snapshot = NULL;
    if (berth_json_get_string(o, "namespace", &ns, err) < 0 ||
        berth_json_get_string(o, "id", &id, err) < 0 ||
        berth_json_get_string(o, "runtime", &rt, err) < 0 ||
        berth_json_get_string(o, "runtime_root", &root, err) < 0 ||
        berth_json_get_bool(o, "systemd_cgroup", &info->systemd_cgroup, err) < 0 ||
        berth_json_get_bool(o, "terminal", &info->terminal, err) < 0 ||
        berth_json_get_string(o, "snapshot", &snapshot, err) < 0)
        return berth_err_wrap(err, "`%s`", path);
    if (!ns || !id || !rt || !root)
        return berth_err_fail(err, EINVAL, "`%s`: incomplete", path);
    info->ns = xstrdup(ns);
    info->id = xstrdup(id);
    info->runtime = xstrdup(rt);
    info->runtime_root = xstrdup(root);
    info->snapshot = snapshot ? xstrdup(snapshot) : NULL;
    return 0;
}

int
sup_bundle_read_exit(const char *bundle, const char *name, uint32_t *pid, uint32_t *status,
                     int64_t *exited_at, struct berth_err *err)
{
    cleanup_free char *path = xasprintf("%s/exit/%s", bundle, name);
    if (!berth_fs_exists(path))
        return 0;
    cleanup_json struct json_object *o = berth_json_parse_file(path, err);
    if (!o)
        return -1;
    if (berth_json_get_uint32(o, "pid", pid, err) < 0 ||
        berth_json_get_uint32(o, "exit_status", status, err) < 0 ||
        berth_json_get_int64(o, "exited_at", exited_at, err) < 0)
        return berth_err_wrap(err, "exit record `%s`", path);
    return 1;
}

int
sup_bundle_write_exit(const char *bundle, const char *name, uint32_t pid, uint32_t status,
                      int64_t exited_at, struct berth_err *err)
{
    cleanup_free char *dir = xasprintf("%s/exit", bundle);
    if (berth_fs_mkdir_p(dir, 0700, err) < 0)
        return -1;
    cleanup_json struct json_object *o = json_object_new_object();
    json_object_object_add(o, "pid", json_object_new_int64(pid));
    json_object_object_add(o, "exit_status", json_object_new_int64(status));
    json_object_object_add(o, "exited_at", json_object_new_int64(exited_at));
    cleanup_free char *path = xasprintf("%s/%s", dir, name);
    return berth_json_write_file(path, o, false, 0600, err);
}

int
sup_bundle_process_terminal(const uint8_t *json, size_t len, bool *terminal, struct berth_err *err)
{
    cleanup_json struct json_object *o = berth_json_parse((const char *)json, len, err);
    if (!o)
        return berth_err_wrap(err, "process spec");
    if (!json_object_is_type(o, json_type_object))
        return berth_err_fail(err, EINVAL, "process spec is a JSON %s, not an object",
                              berth_json_type_name(o));
    *terminal = false;
    return berth_json_get_bool(o, "terminal", terminal, err) < 0
               ? berth_err_wrap(err, "process spec")
               : 0;
}
