/* SPDX-License-Identifier: Apache-2.0
 *
 * `tasks attach`: joining a running process's stdio through its attach socket (attach.c).
 */
#ifndef BERTH_SUPERVISOR_CTR_ATTACH_H
#define BERTH_SUPERVISOR_CTR_ATTACH_H

#include <stdbool.h>

struct berth_err;
struct ctr_global;

struct ctr_attach_opts {
    const char *container_id;
    const char *exec_id; /* NULL: the task's init */
    bool no_stdin;       /* send nothing: the process's stdin is left alone */
};

/* Attach until the process exits (*exit_status is its status) or the user detaches
 * (SIGINT, SIGTERM or SIGHUP; Ctrl-P Ctrl-Q on a terminal): *exit_status 0. At EOF of the
 * local stdin, the process's stdin is closed. */
int ctr_attach(struct ctr_global *g, const struct ctr_attach_opts *o, int *exit_status,
               struct berth_err *err);

#endif
