// SPDX-License-Identifier: Apache-2.0
//
// Container state files under --root (see state.h for the lifecycle). state.json is the only
// record; it is replaced atomically so a crash mid-write leaves the previous version.

#include "ocirun/state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "ocirun/ocirun.h"

int
ocirun_state_check_id(const char *id, struct berth_err *err)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0)
        return berth_err_fail(err, EINVAL, "container id cannot be empty");
    if (n > 1024)
        return berth_err_fail(err, EINVAL, "container id is longer than 1024 characters");
    if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
        return berth_err_fail(err, EINVAL, "invalid container id `%s`", id);
    for (const char *p = id; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("_+.-", *p))
            continue;
        return berth_err_fail(err, EINVAL,
                              "invalid container id `%s`: only [A-Za-z0-9_+.-] allowed", id);
    }
    return 0;
}

struct ocirun_state *
ocirun_state_new(const char *root, const char *id)
{
    struct ocirun_state *st = xzalloc(sizeof(*st));
    st->root = xstrdup(root);
    st->id = xstrdup(id);
    st->dir = xasprintf("%s/%s", root, id);
    return st;
}

void
ocirun_state_free(struct ocirun_state *st)
{
    free(st->root);
    free(st->id);
    free(st->dir);
    free(st->bundle);
    free(st->rootfs);
    free(st->created);
    free(st->owner);
    if (st->hooks)
        json_object_put(st->hooks);
    berth_cleanup_strvp(&st->cgroups);
    if (st->annotations)
        json_object_put(st->annotations);
    free(st);
}

int
ocirun_state_mkdir(const char *root, const char *id, struct berth_err *err)
{
    if (ocirun_state_check_id(id, err) < 0)
        return -1;
    if (berth_fs_mkdir_p(root, 0700, err) < 0)
        return berth_err_wrap(err, "state root");
    cleanup_free char *dir = xasprintf("%s/%s", root, id);
    if (mkdir(dir, 0711) < 0) {
        if (errno == EEXIST)
            return berth_err_fail(err, EEXIST, "container `%s` already exists", id);
        return berth_err_set(err, errno, "mkdir `%s`", dir);
    }
    return 0;
}

int
ocirun_state_remove(const char *root, const char *id, struct berth_err *err)
{
    cleanup_free char *dir = xasprintf("%s/%s", root, id);
    return berth_fs_rm_rf(dir, err);
}

char *
ocirun_state_fifo_path(const struct ocirun_state *st)
{
    return xasprintf("%s/exec.fifo", st->dir);
}

unsigned long long
ocirun_proc_start_time(pid_t pid, bool *zombie)
{
    char path[64], buf[1024];
    cleanup_close int fd = -1;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    *zombie = false;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* comm may hold spaces and ')': fields restart after the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ')
        return 0;
    p += 2;
    *zombie = (*p == 'Z' || *p == 'X');
    /* p is at field 3 (state); starttime is field 22. */
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (!p)
            return 0;
        p++;
    }
    return strtoull(p, NULL, 10);
}

bool
ocirun_state_pid_alive(const struct ocirun_state *st)
{
    bool zombie;
    if (st->pid <= 0)
        return false;
    unsigned long long start = ocirun_proc_start_time(st->pid, &zombie);
    return start != 0 && !zombie && start == st->pid_start;
}

static bool
is_frozen(const struct ocirun_state *st)
{
    /* v1 freezer reports FROZEN; v2 has cgroup.freeze = 1. */
    for (char **p = st->cgroups; p && *p; p++) {
        char buf[16] = "";
        cleanup_free char *f = xasprintf("%s/freezer.state", *p);
        cleanup_free char *g = xasprintf("%s/cgroup.freeze", *p);
        cleanup_close int fd = open(f, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            fd = open(g, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        if (n > 0 && (strncmp(buf, "FROZEN", 6) == 0 || buf[0] == '1'))
            return true;
    }
    return false;
}

enum ocirun_status
ocirun_state_status(const struct ocirun_state *st)
{
    if (st->creating)
        return OCIRUN_CREATING;
    if (!ocirun_state_pid_alive(st))
        return OCIRUN_STOPPED;
    /* Frozen first: a created container can be paused too, and resumes to created. */
    if (is_frozen(st))
        return OCIRUN_PAUSED;
    cleanup_free char *fifo = ocirun_state_fifo_path(st);
    if (berth_fs_exists(fifo))
        return OCIRUN_CREATED;
    return OCIRUN_RUNNING;
}

const char *
ocirun_status_name(enum ocirun_status s)
{
    static const char *names[] = {"creating", "created", "running", "paused", "stopped"};
    return names[s];
}

struct json_object *
ocirun_state_to_json(const struct ocirun_state *st, enum ocirun_status status)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "ociVersion", json_object_new_string(OCIRUN_SPEC_VERSION));
    json_object_object_add(o, "id", json_object_new_string(st->id));
    /* runc reports pid 0 once the container has stopped; so do we. */
    int pid = status == OCIRUN_STOPPED ? 0 : st->pid;
    json_object_object_add(o, "pid", json_object_new_int(pid));
    json_object_object_add(o, "status", json_object_new_string(ocirun_status_name(status)));
    json_object_object_add(o, "bundle", json_object_new_string(st->bundle ? st->bundle : ""));
    json_object_object_add(o, "rootfs", json_object_new_string(st->rootfs ? st->rootfs : ""));
    json_object_object_add(o, "created", json_object_new_string(st->created ? st->created : ""));
    json_object_object_add(o, "owner", json_object_new_string(st->owner ? st->owner : ""));
    if (st->annotations)
        json_object_object_add(o, "annotations", json_object_get(st->annotations));
    return o;
}

int
ocirun_state_save(const struct ocirun_state *st, struct berth_err *err)
{
    cleanup_json struct json_object *o = json_object_new_object();
    struct json_object *cg = json_object_new_array();
    json_object_object_add(o, "id", json_object_new_string(st->id));
    json_object_object_add(o, "creating", json_object_new_boolean(st->creating));
    json_object_object_add(o, "pid", json_object_new_int(st->pid));
    json_object_object_add(o, "pidStartTime", json_object_new_uint64(st->pid_start));
    json_object_object_add(o, "bundle", json_object_new_string(st->bundle ? st->bundle : ""));
    json_object_object_add(o, "rootfs", json_object_new_string(st->rootfs ? st->rootfs : ""));
    json_object_object_add(o, "created", json_object_new_string(st->created ? st->created : ""));
    json_object_object_add(o, "owner", json_object_new_string(st->owner ? st->owner : ""));
    json_object_object_add(o, "newPidNamespace", json_object_new_boolean(st->new_pidns));
    json_object_object_add(o, "terminal", json_object_new_boolean(st->terminal));
    for (char **p = st->cgroups; p && *p; p++)
        json_object_array_add(cg, json_object_new_string(*p));
    json_object_object_add(o, "cgroupPaths", cg);
    if (st->annotations)
        json_object_object_add(o, "annotations", json_object_get(st->annotations));
    if (st->hooks)
        json_object_object_add(o, "hooks", json_object_get(st->hooks));
    cleanup_free char *path = xasprintf("%s/state.json", st->dir);
    return berth_json_write_file(path, o, false, 0600, err);
}

static char *
dup_field(struct json_object *o, const char *key)
{
    const char *s = NULL;
    berth_json_get_string(o, key, &s, NULL);
    return s ? xstrdup(s) : NULL;
}

struct ocirun_state *
ocirun_state_load(const char *root, const char *id, struct berth_err *err)
{
    if (ocirun_state_check_id(id, err) < 0)
        return NULL;
    cleanup_state struct ocirun_state *st = ocirun_state_new(root, id);
    cleanup_free char *path = xasprintf("%s/state.json", st->dir);
    struct stat sb;
    if (stat(st->dir, &sb) < 0) {
        berth_err_fail(err, ENOENT, "container `%s` does not exist", id);
        return NULL;
    }
    cleanup_json struct json_object *o = berth_json_parse_file(path, err);
    if (!o) {
        berth_err_wrap(err, "container `%s`: state", id);
        return NULL;
    }
    int pid = 0;
    uint64_t start = 0;
    struct json_object *cg = NULL, *ann = NULL, *hooks = NULL;
    if (berth_json_get_bool(o, "creating", &st->creating, err) < 0 ||
        berth_json_get_int(o, "pid", &pid, err) < 0 ||
        berth_json_get_uint64(o, "pidStartTime", &start, err) < 0 ||
        berth_json_get_bool(o, "newPidNamespace", &st->new_pidns, err) < 0 ||
        berth_json_get_bool(o, "terminal", &st->terminal, err) < 0 ||
        berth_json_get_array(o, "cgroupPaths", &cg, err) < 0 ||
        berth_json_get_object(o, "annotations", &ann, err) < 0 ||
        berth_json_get_object(o, "hooks", &hooks, err) < 0) {
        berth_err_wrap(err, "container `%s`: state", id);
        return NULL;
    }
    st->pid = pid;
    st->pid_start = start;
    st->bundle = dup_field(o, "bundle");
    st->rootfs = dup_field(o, "rootfs");
    st->created = dup_field(o, "created");
    st->owner = dup_field(o, "owner");
    if (ann)
        st->annotations = json_object_get(ann);
    if (hooks)
        st->hooks = json_object_get(hooks);
    size_t n = cg ? json_object_array_length(cg) : 0;
    st->cgroups = xzalloc((n + 1) * sizeof(char *));
    for (size_t i = 0; i < n; i++)
        st->cgroups[i] = xstrdup(json_object_get_string(json_object_array_get_idx(cg, i)));
    return steal_ptr(&st);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
ocirun_state_list(const char *root, struct berth_err *err)
{
    cleanup_dir DIR *d = opendir(root);
    size_t n = 0, cap = 8;
    char **ids = xzalloc(cap * sizeof(char *));
    if (!d) {
        if (errno == ENOENT)
            return ids;
        berth_cleanup_strvp(&ids);
        berth_err_set(err, errno, "open state root `%s`", root);
        return NULL;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || ocirun_state_check_id(de->d_name, NULL) < 0)
            continue;
        cleanup_free char *sj = xasprintf("%s/%s/state.json", root, de->d_name);
        if (!berth_fs_exists(sj))
            continue;
        if (n + 1 >= cap) {
            cap *= 2;
            ids = xrealloc(ids, cap * sizeof(char *));
        }
        ids[n++] = xstrdup(de->d_name);
        ids[n] = NULL;
    }
    qsort(ids, n, sizeof(char *), cmp_str);
    return ids;
}
