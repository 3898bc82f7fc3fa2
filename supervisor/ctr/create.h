/* SPDX-License-Identifier: Apache-2.0
 *
 * The options shared by `containers create` and `run`, and the Containers.Create call both
 * make (create.c), as crun's run and create share one file.
 */
#ifndef BERTH_SUPERVISOR_CTR_CREATE_H
#define BERTH_SUPERVISOR_CTR_CREATE_H

#include <stdbool.h>
#include <stddef.h>

struct berth_err;
struct ctr_global;

struct ctr_create_opts {
    const char *id;
    const char *image;          /* the IMAGE argument (without --rootfs and --config) */
    const char *platform;       /* --platform: of the image ("": the host's) */
    const char *snapshotter;    /* --snapshotter (only "overlayfs") */
    const char *rootfs;         /* --rootfs as given */
    const char *config_file;    /* --config */
    const char *runtime_binary; /* --runtime-binary */
    const char *cwd, *user;
    bool terminal;    /* -t */
    bool detach;      /* run -d */
    bool interactive; /* run -i: the process's stdin stays open for `tasks attach` */
    bool rm;          /* run --rm */
    char **args;      /* after the id; borrowed from argv */
    /* Vectors own only their arrays; the strings are argv's. */
    char **labels, **env, **mounts;
    size_t n_labels, n_env, n_mounts;
};

/* Parse the options of `containers create` (run false) or `run` (which adds -d, -i and --rm)
 * and the [IMAGE] ID [CMD ARGS...] after them: IMAGE comes first unless --rootfs or --config
 * says where the root filesystem is. Returns 1 when help was printed, 0 to go on, -1 with
 * err. */
int ctr_create_parse(bool run, int argc, char **argv, struct ctr_create_opts *o,
                     struct berth_err *err);

/* Make the spec and create the container. With an image (rootfs.h): the image is checked,
 * its config applied to the spec, the snapshot `<id>` prepared on its chain id, and the
 * container created with image, snapshotter and snapshot_key; the snapshot is removed again
 * when anything after it fails. */
int ctr_create_container(struct ctr_global *g, const struct ctr_create_opts *o,
                         struct berth_err *err);

/* Delete the container `id`, then its snapshot when it has one (as ctr does). A snapshot
 * already gone is fine; one that cannot be removed is an error after the container is gone. */
int ctr_delete_container(struct ctr_global *g, const char *id, struct berth_err *err);

void ctr_create_opts_free(struct ctr_create_opts *o);

#endif
