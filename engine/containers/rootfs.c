/* SPDX-License-Identifier: Apache-2.0
 *
 * A container's root filesystem as a host directory, for as long as a copy, an export or a
 * diff needs it (containers.h, eng_ctr_rootfs_open), and the directories of its writable
 * layer.
 *
 * A running (or paused) container is seen through /proc/<pid>/root: that is its mount
 * namespace's root, so its volumes and bind mounts are there too, as docker cp expects, and
 * writes land where the container sees them. A stopped one has nothing mounted: its snapshot
 * (key = the container id) is mounted on a temporary directory under the state dir, with its
 * volumes and bind mounts (from its spec) bound where its start would mount them, as dockerd
 * mounts them for a copy; the whole tree is detached again at close. The lifecycle lock is held
 * while the choice is made and the mount done, so that a start does not slip in between; a start
 * made while a stopped container's layer is open mounts the same layer a second time, which
 * overlayfs allows.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/supervisor/v1/containers.pb-c.h"
#include "berth/supervisor/v1/snapshots.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "engine/containers/internal.h"
#include "engine/daemon.h"
#include "engine/supervisor/client.h"
#include "supervisor/snapshot/mount.h"

#define SNAPSHOTS  (&berth__supervisor__v1__snapshots__descriptor)
#define CONTAINERS (&berth__supervisor__v1__containers__descriptor)

/* The snapshot's mount descriptors (*m, n_m), from Snapshots.Mounts. */
static int
snapshot_mounts(struct eng_daemon *d, const char *id, struct sup_mount **m, size_t *n_m,
                struct berth_err *err)
{
    Berth__Supervisor__V1__SnapshotMountsRequest req =
        BERTH__SUPERVISOR__V1__SNAPSHOT_MOUNTS_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__SnapshotMountsResponse *resp = NULL;
    req.key = (char *)id;
    if (eng_sup_call(d->sup, SNAPSHOTS, "Mounts", &req.base, &resp, err) < 0)
        return berth_err_wrap(err, "the layer of container %.12s", id);
    size_t n = resp->n_mounts;
    struct sup_mount *v = xzalloc((n + 1) * sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        sup_mount_init(&v[i], resp->mounts[i]->type, resp->mounts[i]->source, NULL);
        for (size_t j = 0; j < resp->mounts[i]->n_options; j++)
            sup_mount_add_option(&v[i], resp->mounts[i]->options[j]);
    }
    *m = v;
    *n_m = n;
    return 0;
}

/* Mount the stopped container's layer on a new temporary directory (r->mnt). */
static int
mount_layer(struct eng_daemon *d, struct eng_ctr *c, struct eng_rootfs *r, struct berth_err *err)
{
    struct sup_mount *m = NULL;
    size_t n = 0;
    if (snapshot_mounts(d, c->id, &m, &n, err) < 0)
        return -1;
    cleanup_free char *dir = xasprintf("%s/rootfs-%.12s-XXXXXX", d->state, c->id);
    int rc = 0;
    if (!mkdtemp(dir))
        rc = berth_err_set(err, errno, "create `%s`", dir);
    else if (sup_mount_all(m, n, dir, err) < 0) {
        rmdir(dir);
        rc = -1;
    } else
        r->mnt = steal_ptr(&dir);
    sup_mounts_free(m, n);
    return rc;
}

static bool
has_option(struct json_object *m, const char *opt)
{
    struct json_object *opts = NULL;
    if (!json_object_object_get_ex(m, "options", &opts) ||
        !json_object_is_type(opts, json_type_array))
        return false;
    for (size_t i = 0; i < json_object_array_length(opts); i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(opts, i)), opt) == 0)
            return true;
    return false;
}

static const char *
str_field(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* Bind one of the spec's bind mounts (a volume or a -v host path) at its destination in the
 * stopped container's mounted layer (rootfd), read-only when the spec says so. The
 * destination is resolved inside the root; a missing one is made, as a start would. */
static int
bind_one(int rootfd, const char *source, const char *dest, bool rdonly, struct berth_err *err)
{
    struct stat st;
    if (stat(source, &st) < 0)
        return 0; /* a bind whose source went: the start would fail on it, a copy need not */
    cleanup_close int at = berth_fs_mkdir_in_root(rootfd, dest, !S_ISDIR(st.st_mode), err);
    if (at < 0)
        return berth_err_wrap(err, "the mount point `%s`", dest);
    char target[64];
    snprintf(target, sizeof(target), "/proc/self/fd/%d", at);
    if (mount(source, target, NULL, MS_BIND | MS_REC, NULL) < 0)
        return berth_err_set(err, errno, "bind `%s` on `%s`", source, dest);
    if (!rdonly)
        return 0;
    /* The fd still names the directory under the new mount: reopen to reach the mount. */
    cleanup_close int mnt = berth_fs_open_in_root(rootfd, dest, O_PATH, 0, err);
    if (mnt < 0)
        return -1;
    snprintf(target, sizeof(target), "/proc/self/fd/%d", mnt);
    if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, NULL) < 0)
        return berth_err_set(err, errno, "make `%s` read-only", dest);
    return 0;
}

/* The container's volumes and bind mounts, bound onto its mounted layer. The files berthd
 * writes for it (hostname, hosts, resolv.conf under c->dir) are left out: docker cp sees the
 * layer's copies of those in a stopped container. */
static int
bind_volumes(struct eng_daemon *d, struct eng_ctr *c, int rootfd, struct berth_err *err)
{
    Berth__Supervisor__V1__GetContainerRequest req =
        BERTH__SUPERVISOR__V1__GET_CONTAINER_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__GetContainerResponse *resp = NULL;
    req.id = c->id;
    if (eng_sup_call(d->sup, CONTAINERS, "Get", &req.base, &resp, err) < 0)
        return berth_err_wrap(err, "the spec of container %.12s", c->id);
    if (!resp->container || !resp->container->spec.data)
        return 0;
    cleanup_json struct json_object *spec =
        berth_json_parse((const char *)resp->container->spec.data, resp->container->spec.len, err);
    if (!spec)
        return berth_err_wrap(err, "the spec of container %.12s", c->id);
    struct json_object *mounts = NULL;
    if (!json_object_object_get_ex(spec, "mounts", &mounts) ||
        !json_object_is_type(mounts, json_type_array))
        return 0;
    size_t dir_len = strlen(c->dir);
    for (size_t i = 0; i < json_object_array_length(mounts); i++) {
        struct json_object *m = json_object_array_get_idx(mounts, i);
        const char *type = str_field(m, "type"), *src = str_field(m, "source"),
                   *dest = str_field(m, "destination");
        bool bind =
            (type && strcmp(type, "bind") == 0) || has_option(m, "bind") || has_option(m, "rbind");
        if (!bind || !src || !dest || src[0] != '/')
            continue;
        if (strncmp(src, c->dir, dir_len) == 0 && src[dir_len] == '/')
            continue;
        if (bind_one(rootfd, src, dest, has_option(m, "ro"), err) < 0)
            return -1;
    }
    return 0;
}

#define ROOT_GONE (-2)

/* Open a running container's root through /proc/<pid>/root, making sure the fd is that
 * process's: a pidfd taken first names that process only, and a signal 0 through it after the
 * open says it was still there, so the pid was not reused in between. A root that is berthd's
 * own (a pid taken over by a host process before the pidfd) is refused: a copy must never
 * reach the host's files. ROOT_GONE when the process is gone. */
static int
open_live_root(int pid, struct berth_err *err)
{
    cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0 && errno == ESRCH)
        return ROOT_GONE;
    if (pidfd < 0 && errno != ENOSYS)
        return berth_err_set(err, errno, "pidfd_open %d", pid);
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/root", pid);
    cleanup_close int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ESRCH ? ROOT_GONE
                                                 : berth_err_set(err, errno, "open `%s`", path);
    if (pidfd >= 0 && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
        return ROOT_GONE;
    struct stat a, b;
    if (fstat(fd, &a) < 0 || stat("/", &b) < 0)
        return berth_err_set(err, errno, "stat `%s`", path);
    if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        return berth_err_fail(err, EIO, "process %d has the host's root, not the container's", pid);
    return steal_fd(&fd);
}

int
eng_ctr_rootfs_open(struct eng_daemon *d, struct eng_ctr *c, struct eng_rootfs *out,
                    struct berth_err *err)
{
    struct eng_rootfs r = {.fd = -1};

    pthread_mutex_lock(&c->op);
    pthread_mutex_lock(&c->lock);
    bool live = (c->status == ENG_CTR_RUNNING || c->status == ENG_CTR_PAUSED) && c->pid > 0;
    int pid = c->pid;
    pthread_mutex_unlock(&c->lock);

    int rc = 0;
    if (live) {
        r.fd = open_live_root(pid, err);
        if (r.fd == ROOT_GONE)
            live = false; /* it exited just now: its layer is what there is */
        else if (r.fd < 0)
            rc = berth_err_wrap(err, "the root filesystem of container %.12s", c->id);
        else {
            /* The fd's own path, so that whoever reopens the root gets this one. */
            r.path = xasprintf("/proc/self/fd/%d", r.fd);
            r.running = true;
        }
    }
    if (rc == 0 && !live) {
        r.fd = -1;
        if ((rc = mount_layer(d, c, &r, err)) == 0) {
            r.path = xstrdup(r.mnt);
            r.fd = open(r.path, O_PATH | O_DIRECTORY | O_CLOEXEC);
            if (r.fd < 0)
                rc =
                    berth_err_set(err, errno, "open the root filesystem of container %.12s", c->id);
            else
                rc = bind_volumes(d, c, r.fd, err);
        }
    }
    pthread_mutex_unlock(&c->op);
    if (rc < 0) {
        eng_ctr_rootfs_close(&r);
        return -1;
    }
    *out = r;
    return 0;
}

void
eng_ctr_rootfs_close(struct eng_rootfs *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    if (r->mnt) {
        /* One detach takes the layer and the volumes bound on it. */
        struct berth_err err = BERTH_ERR_INIT;
        if (umount2(r->mnt, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL)
            berth_err_set(&err, errno, "unmount `%s`", r->mnt);
        else if (rmdir(r->mnt) < 0)
            berth_err_set(&err, errno, "remove `%s`", r->mnt);
        if (err.msg)
            berth_err_warn(&err);
    }
    free(r->mnt);
    free(r->path);
    r->mnt = r->path = NULL;
}

int
eng_ctr_layer_dirs(struct eng_daemon *d, struct eng_ctr *c, char **upper, char ***lowers,
                   size_t *n_lowers, struct berth_err *err)
{
    struct sup_mount *m = NULL;
    size_t n = 0;
    if (snapshot_mounts(d, c->id, &m, &n, err) < 0)
        return -1;
    int rc = sup_mounts_layer_dirs(m, n, upper, lowers, n_lowers, err);
    sup_mounts_free(m, n);
    if (rc < 0)
        return berth_err_wrap(err, "the layer of container %.12s", c->id);
    return 0;
}
