/* SPDX-License-Identifier: Apache-2.0
 *
 * A container's root filesystem made from an image, for `run IMAGE` and `containers create
 * IMAGE` (rootfs.c), as ctr makes one: Images.Check says whether the image is there and
 * unpacked and gives its chain id and config; Snapshots.Prepare makes the container's own
 * active snapshot on top of the chain id; the supervisor mounts it when the task is created.
 *
 * User names ("nginx", "www-data:www-data") are resolved here, by the client, as containerd's
 * client does: the new snapshot is mounted on a temporary directory, /etc/passwd and
 * /etc/group are read through it (inside it, never following a link out), and it is unmounted
 * again before the container is created. That needs berth-ctr to run as root on the
 * supervisor's host; numeric users ("1000:1000") need nothing of the kind.
 */
#ifndef BERTH_SUPERVISOR_CTR_ROOTFS_H
#define BERTH_SUPERVISOR_CTR_ROOTFS_H

#include <stddef.h>

struct Berth__Supervisor__V1__PrepareSnapshotResponse;
struct berth_err;
struct ctr_global;
struct json_object;

/* What Images.Check gave for an image that can run. */
struct ctr_image {
    char *name;                 /* as given */
    char *chain_id;             /* the snapshot of its top layer */
    struct json_object *config; /* the OCI image config */
};

/* Check the image `name` for platform (NULL or "": the host's). ENOENT "image `x` not found:
 * pull it first" when there is no such image; EBUSY when it is incomplete or not unpacked;
 * EINVAL when its config is not JSON. Free out with ctr_image_release. */
int ctr_image_check(struct ctr_global *g, const char *name, const char *platform,
                    struct ctr_image *out, struct berth_err *err);
void ctr_image_release(struct ctr_image *img);

/* Snapshots.Prepare(key, parent); *reply gets the reply (its mounts), to free with
 * protobuf_c_message_free_unpacked. */
int ctr_snapshot_prepare(struct ctr_global *g, const char *key, const char *parent,
                         struct Berth__Supervisor__V1__PrepareSnapshotResponse **reply,
                         struct berth_err *err);

/* Snapshots.Remove(key); a snapshot that is already gone is success. */
int ctr_snapshot_remove(struct ctr_global *g, const char *key, struct berth_err *err);

/* Mount the mounts of a Prepare reply on a new temporary directory; *dir is its path (heap).
 * Undo with ctr_rootfs_unmount. */
int ctr_rootfs_mount(const struct Berth__Supervisor__V1__PrepareSnapshotResponse *reply, char **dir,
                     struct berth_err *err);

/* Unmount and remove a directory ctr_rootfs_mount made; frees *dir and sets it NULL. A
 * failure is a warning (nothing else can be done about it). */
void ctr_rootfs_unmount(char **dir);

#endif
