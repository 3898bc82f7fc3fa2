/* SPDX-License-Identifier: Apache-2.0
 *
 * A task's bundle dir, <state>/tasks/<ns>/<id>: config.json (the container's spec with its
 * root filesystem and cgroup filled in), task.json (the runtime binary and root, so the
 * supervisor can reach the container without its shim), and everything the shim keeps there
 * (socket, pid files, exit records, attach sockets).
 *
 * A container with a snapshot (snapshot_key, no rootfs) gets <bundle>/rootfs as its root:
 * the task manager mounts the snapshot there after the bundle is made, and task.json names
 * the snapshot. The mount itself is the record that it exists: whoever removes a bundle does
 * it with sup_bundle_remove, which unmounts <bundle>/rootfs first, so a supervisor restarted
 * after a crash finds and undoes the mount from the bundle alone.
 */
#ifndef BERTH_SUPERVISOR_RUNTIME_BUNDLE_H
#define BERTH_SUPERVISOR_RUNTIME_BUNDLE_H

#include <stdbool.h>
#include <stdint.h>

#include "berth/supervisor/v1/containers.pb-c.h"

struct berth_err;

struct sup_bundle_info {
    char *ns, *id;
    char *runtime; /* binary */
    char *runtime_root;
    bool systemd_cgroup;
    bool terminal;  /* the spec's process.terminal */
    char *snapshot; /* "<ns>/<snapshot_key>" mounted at <bundle>/rootfs, or NULL */
};

/* Create the bundle dir (it must not exist) with config.json and task.json. A container with
 * a snapshot_key and no rootfs gets root.path <bundle>/rootfs (an empty directory made here,
 * for the caller to mount the snapshot on) and info->snapshot set. On failure nothing is
 * left. info is filled (free with sup_bundle_info_release). */
int sup_bundle_create(const char *bundle, const char *ns, const Berth__Supervisor__V1__Container *c,
                      const char *default_runtime, const char *state, struct sup_bundle_info *info,
                      struct berth_err *err);

/* The directory a snapshot is mounted on: "<bundle>/rootfs" (heap). */
char *sup_bundle_rootfs(const char *bundle);

/* Remove a bundle dir: unmount whatever is mounted on <bundle>/rootfs, then remove the tree.
 * When the unmount fails (EBUSY: something still uses the filesystem) nothing is removed, so
 * the snapshot's files are never deleted through the mount; err says why. A bundle that does
 * not exist is success. */
int sup_bundle_remove(const char *bundle, struct berth_err *err);

/* Read task.json of an existing bundle. */
int sup_bundle_load(const char *bundle, struct sup_bundle_info *info, struct berth_err *err);

/* The exit the shim recorded for a process ("init" or an exec id): 1 and the fields, 0 when
 * there is none, -1 on a broken record. */
int sup_bundle_read_exit(const char *bundle, const char *name, uint32_t *pid, uint32_t *status,
                         int64_t *exited_at, struct berth_err *err);
int sup_bundle_write_exit(const char *bundle, const char *name, uint32_t pid, uint32_t status,
                          int64_t exited_at, struct berth_err *err);

/* Is the process spec (an OCI "process" object, JSON) asking for a terminal? -1 with err
 * when it is not valid JSON. */
int sup_bundle_process_terminal(const uint8_t *json, size_t len, bool *terminal,
                                struct berth_err *err);

void sup_bundle_info_release(struct sup_bundle_info *info);

#endif
