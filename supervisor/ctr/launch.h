/* SPDX-License-Identifier: Apache-2.0
 *
 * Starting a process and staying attached to it, for `run`, `tasks start` and `tasks exec`
 * (launch.c): fifos opened before the process is created, the local terminal in raw mode and
 * its size sent to the pty, signals forwarded, stdio copied until Tasks.Wait returns.
 */
#ifndef BERTH_SUPERVISOR_CTR_LAUNCH_H
#define BERTH_SUPERVISOR_CTR_LAUNCH_H

#include <stdbool.h>

struct berth_err;
struct ctr_global;

struct ctr_launch {
    const char *container_id;
    const char *exec_id;   /* NULL: the task's init (Tasks.Create), else an exec (Tasks.Exec) */
    const char *exec_spec; /* exec: the OCI process, JSON */
    bool terminal;
    bool detach;     /* name no fifos; return once started */
    bool open_stdin; /* -i: keep the process's stdin open without a fifo (IO.open_stdin), for
                      * a later `tasks attach`; without it a detached process reads EOF */
};

/* Create the process and start it. Detached, return then (*exit_status 0). Attached, copy
 * the local stdin to the process and its output to the local stdout and stderr, forward
 * SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to it (Tasks.Kill) and the window
 * size on SIGWINCH, and return once it has exited, with its status in *exit_status; the fifos
 * are gone then, and the process is left for the caller to delete. If the process was
 * created but cannot start, it is killed and deleted before the error returns. *started
 * (may be NULL) tells whether the process started, also on failure (a Wait that failed). */
int ctr_launch(struct ctr_global *g, const struct ctr_launch *l, int *exit_status, bool *started,
               struct berth_err *err);

/* Send the local window size to the process's pty (no-op when there is no local terminal). */
int ctr_launch_resize(struct ctr_global *g, const char *container_id, const char *exec_id,
                      struct berth_err *err);

#endif
