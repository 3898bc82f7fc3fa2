/* SPDX-License-Identifier: Apache-2.0
 *
 * A container's root filesystem as a host directory, for as long as a copy, an export or a
 * diff needs it (containers.h, eng_ctr_rootfs_open), and the directories of its writable
 * layer.
 *
 * A running (or paused) container is seen through /proc/<pid>/root: that is its mount
 * namespace's root, so its volumes and bind mounts are there too, as docker cp expects, and
 * writes land where the container sees them. A stopped one has nothing mounted: its snapshot
 * (key = the container id) is mounted on a temporary directory under the state dir and
 * unmounted again at close. The lifecycle lock is held while the choice is made and the
 * mount done, so that a start does not slip in between; a start made while a stopped
 * container's layer is open mounts the same layer a second time, which overlayfs allows.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/supervisor/v1/snapshots.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "engine/containers/internal.h"
#include "engine/daemon.h"
#include "engine/supervisor/client.h"
#include "supervisor/snapshot/mount.h"

#define SNAPSHOTS (&berth__supervisor__v1__snapshots__descriptor)

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
        r.path = xasprintf("/proc/%d/root", pid);
        r.running = true;
    } else if ((rc = mount_layer(d, c, &r, err)) == 0) {
        r.path = xstrdup(r.mnt);
    }
    if (rc == 0) {
        r.fd = open(r.path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (r.fd < 0)
            rc = berth_err_set(err, errno, "open the root filesystem of container %.12s", c->id);
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
        struct berth_err err = BERTH_ERR_INIT;
        if (sup_unmount_all(r->mnt, &err) < 0 || rmdir(r->mnt) < 0) {
            if (!err.msg)
                berth_err_set(&err, errno, "remove `%s`", r->mnt);
            berth_err_warn(&err);
        }
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
