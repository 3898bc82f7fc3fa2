/* SPDX-License-Identifier: Apache-2.0
 *
 * The container's init before exec: everything that runs in the cloned child, in order
 * (namespaces, rootfs, terminal, process settings), then the wait for `start`, then exec.
 */
#ifndef BERTH_OCIRUN_LINUX_INIT_H
#define BERTH_OCIRUN_LINUX_INIT_H

#include <stdbool.h>

#include "ocirun/linux/seccomp-bpf.h"
#include "ocirun/spec.h"

struct ocirun_init {
    const struct ocirun_spec *spec;
    int sync_fd;                 /* child's end of the sync socketpair */
    int fifo_fd;                 /* exec.fifo, O_PATH: reopened for writing to wait for start */
    int fd_dir;                  /* /proc/self/fd of the host's procfs, O_PATH (set by init) */
    int ns_fds[OCIRUN_NS_COUNT]; /* namespaces to join, -1 elsewhere */
    int console_fd;              /* connected --console-socket, or -1 */
    int preserve_fds;            /* fds 3 .. 3+n-1 stay open in the container */
    bool no_pivot;
    char *state_json; /* from the parent, for createContainer/startContainer */
    const struct ocirun_seccomp_bpf *seccomp; /* compiled by the parent, or NULL */
    int *idmap_fds;                           /* received before GO, one per idmap mount (heap) */
};

/* Runs in the child. Never returns: execs the user process, or reports over sync_fd and
 * exits 1 (before READY) or 127 (after, when only stderr is left to tell). */
_Noreturn void ocirun_init_run(struct ocirun_init *in);

#endif
