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
 * and the ID [CMD ARGS...] after them. Returns 1 when help was printed, 0 to go on, -1 with
 * err. */
int ctr_create_parse(bool run, int argc, char **argv, struct ctr_create_opts *o,
                     struct berth_err *err);

/* Make the spec and create the container. */
int ctr_create_container(struct ctr_global *g, const struct ctr_create_opts *o,
                         struct berth_err *err);

void ctr_create_opts_free(struct ctr_create_opts *o);

#endif
