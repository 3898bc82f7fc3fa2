/* SPDX-License-Identifier: Apache-2.0
 *
 * Reaping: the shim is the child subreaper of everything the runtime starts, so the container's
 * processes are its children once the runtime is gone. Each exit is matched to a process and
 * recorded in DIR/exit/<init|exec_id> before anyone is told, so it survives every daemon.
 */
#ifndef BERTH_SHIM_EXIT_H
#define BERTH_SHIM_EXIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct berth_err;
struct shim;

/* Exits of pids no process had when they were reaped (the runtime's intermediate processes, mostly;
 * or a process whose pid file was not read yet): kept, a few, in case a pid turns up later. */
#define SHIM_EXITS_KEPT 16
struct shim_exits {
    struct {
        pid_t pid;
        uint32_t status;
        int64_t at;
    } e[SHIM_EXITS_KEPT];
    size_t n;
    size_t next; /* slot overwritten when full */
};

/* SIGCHLD: reap every exited child (waitpid(-1, WNOHANG)) and hand each exit to its process
 * (shim_process_exited), or keep it in s->exits. */
void shim_exit_reap(struct shim *s);

/* Take the kept exit of pid, if any: true with *status and *at. */
bool shim_exit_take(struct shim_exits *x, pid_t pid, uint32_t *status, int64_t *at);

/* Forget kept exits: before the runtime makes a new process, no exit seen so far can be its. */
void shim_exit_forget(struct shim_exits *x);

/* A wait status as a shell reports it: the exit code, or 128 + the signal. */
uint32_t shim_exit_status(int wstatus);

/* Now, in nanoseconds since the epoch. */
int64_t shim_exit_now_ns(void);

/* Write DIR/exit/<name> = {"pid":N,"exit_status":N,"exited_at":unix_ns} atomically. */
int shim_exit_record(const char *dir, const char *name, pid_t pid, uint32_t status, int64_t at,
                     struct berth_err *err);

#endif
