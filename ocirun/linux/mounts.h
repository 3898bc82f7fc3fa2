/* SPDX-License-Identifier: Apache-2.0
 *
 * config.json `mounts`: the option table (flags, propagation, recursive attributes, data),
 * and mounting one entry inside the rootfs without following a symlink out of it.
 */
#ifndef BERTH_OCIRUN_LINUX_MOUNTS_H
#define BERTH_OCIRUN_LINUX_MOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct berth_err;
struct ocirun_mount;
struct ocirun_spec;

struct ocirun_mount_opts {
    unsigned long flags;          /* MS_* set */
    unsigned long clear;          /* MS_* explicitly cleared (rw, suid ...) */
    unsigned long propagation[4]; /* MS_SHARED/MS_SLAVE/... | MS_REC, applied in order */
    int n_propagation;
    uint64_t attr_set, attr_clr; /* recursive MOUNT_ATTR_* (rro, rnosuid ...) */
    bool idmap;                  /* idmap / ridmap */
    char *data;                  /* everything else, comma-joined, for the filesystem */
};

/* Parse options into o (o->data is heap). Unknown words go to data, as runc does; only the
 * recursive and propagation families are checked, since the kernel would ignore a typo there. */
int ocirun_mount_parse_options(char *const *options, struct ocirun_mount_opts *o,
                               struct berth_err *err);

/* Names of every option ocirun understands (for `features`): NULL past the end. */
const char *ocirun_mount_option_name(size_t i);

/* Mount m inside the rootfs open at rootfd (idmap_fd: its prepared idmapped tree, or -1)
 * (rootfs_path is its host path, for bind sources that are relative to the bundle use
 * spec->bundle). */
int ocirun_mount_one(const struct ocirun_spec *spec, int rootfd, const struct ocirun_mount *m,
                     int idmap_fd, struct berth_err *err);

#endif
