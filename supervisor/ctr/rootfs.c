/* SPDX-License-Identifier: Apache-2.0
 *
 * Root filesystems from images (rootfs.h): the Images.Check and Snapshots calls, and the
 * temporary mount user names are looked up through.
 */
#include "supervisor/ctr/rootfs.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/supervisor/v1/images.pb-c.h"
#include "berth/supervisor/v1/snapshots.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "supervisor/ctr/client.h"
#include "supervisor/ctr/ctr.h"
#include "supervisor/snapshot/mount.h"

#define IMAGES    (&berth__supervisor__v1__images__descriptor)
#define SNAPSHOTS (&berth__supervisor__v1__snapshots__descriptor)

int
ctr_image_check(struct ctr_global *g, const char *name, const char *platform, struct ctr_image *out,
                struct berth_err *err)
{
    Berth__Supervisor__V1__CheckImageRequest req = BERTH__SUPERVISOR__V1__CHECK_IMAGE_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__CheckImageResponse *resp = NULL;
    memset(out, 0, sizeof(*out));
    req.name = (char *)name;
    req.platform = (char *)(platform ? platform : "");
    if (ctr_call(g, IMAGES, "Check", &req.base, &resp, err) < 0) {
        if (err->code != ENOENT)
            return berth_err_wrap(err, "image `%s`", name);
        berth_err_clear(err);
        return berth_err_fail(err, ENOENT, "image `%s` not found: pull it first", name);
    }
    if (!resp->complete)
        return berth_err_fail(err, EBUSY,
                              "image `%s` is incomplete (%zu blobs missing): pull it again", name,
                              resp->n_missing);
    if (!resp->unpacked || !resp->chain_id || !*resp->chain_id)
        return berth_err_fail(
            err, EBUSY, "image `%s` is not unpacked: pull it again without --skip-unpack", name);
    if (!resp->config.data || resp->config.len == 0)
        return berth_err_fail(err, EBUSY, "image `%s` has no config for the platform", name);
    cleanup_json struct json_object *config =
        berth_json_parse((const char *)resp->config.data, resp->config.len, err);
    if (!config)
        return berth_err_wrap(err, "image `%s`: config", name);
    if (!json_object_is_type(config, json_type_object))
        return berth_err_fail(err, EINVAL, "image `%s`: the config is not a JSON object", name);
    out->name = xstrdup(name);
    out->chain_id = xstrdup(resp->chain_id);
    out->config = steal_ptr(&config);
    return 0;
}

void
ctr_image_release(struct ctr_image *img)
{
    free(img->name);
    free(img->chain_id);
    json_object_put(img->config);
    memset(img, 0, sizeof(*img));
}

int
ctr_snapshot_prepare(struct ctr_global *g, const char *key, const char *parent,
                     Berth__Supervisor__V1__PrepareSnapshotResponse **reply, struct berth_err *err)
{
    Berth__Supervisor__V1__PrepareSnapshotRequest req =
        BERTH__SUPERVISOR__V1__PREPARE_SNAPSHOT_REQUEST__INIT;
    req.key = (char *)key;
    req.parent = (char *)parent;
    if (ctr_call(g, SNAPSHOTS, "Prepare", &req.base, reply, err) < 0)
        return berth_err_wrap(err, "prepare snapshot `%s`", key);
    return 0;
}

int
ctr_snapshot_remove(struct ctr_global *g, const char *key, struct berth_err *err)
{
    Berth__Supervisor__V1__RemoveSnapshotRequest req =
        BERTH__SUPERVISOR__V1__REMOVE_SNAPSHOT_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__RemoveSnapshotResponse *resp = NULL;
    req.key = (char *)key;
    if (ctr_call(g, SNAPSHOTS, "Remove", &req.base, &resp, err) == 0)
        return 0;
    if (err->code == ENOENT) {
        berth_err_clear(err);
        return 0;
    }
    return berth_err_wrap(err, "remove snapshot `%s`", key);
}

int
ctr_rootfs_mount(const Berth__Supervisor__V1__PrepareSnapshotResponse *reply, char **dir,
                 struct berth_err *err)
{
    const char *tmp = getenv("TMPDIR");
    cleanup_free char *path = xasprintf("%s/berth-ctr-rootfs.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    size_t n = reply->n_mounts;
    struct sup_mount *m = xzalloc((n + 1) * sizeof(*m));
    for (size_t i = 0; i < n; i++) {
        const Berth__Supervisor__V1__Mount *pm = reply->mounts[i];
        sup_mount_init(&m[i], pm->type, pm->source, NULL);
        for (size_t j = 0; j < pm->n_options; j++)
            sup_mount_add_option(&m[i], pm->options[j]);
    }
    int rc = -1;
    if (!mkdtemp(path)) {
        berth_err_set(err, errno, "create `%s`", path);
    } else if (sup_mount_all(m, n, path, err) < 0) {
        rmdir(path);
    } else {
        *dir = steal_ptr(&path);
        rc = 0;
    }
    sup_mounts_free(m, n);
    return rc;
}

void
ctr_rootfs_unmount(char **dir)
{
    struct berth_err err = BERTH_ERR_INIT;
    if (!*dir)
        return;
    if (sup_unmount_all(*dir, &err) == 0 && rmdir(*dir) < 0)
        berth_err_set(&err, errno, "remove `%s`", *dir);
    if (err.msg)
        berth_err_warn(&err);
    free(*dir);
    *dir = NULL;
}
