/* SPDX-License-Identifier: Apache-2.0
 *
 * The container's processes: its init (exec_id "") and the processes exec'd into it. Each has
 * a status, a pid once the runtime made it, its stdio (io.h) and an attach socket (attach.h).
 *
 *     shim_process_new ──> CREATED ──shim_process_start──> RUNNING <──pause / resume──> PAUSED
 *     (+ create: init)        │                               │                          │
 *                             └────────────── shim_process_exited (reaped) ──────────────┘
 *                                                             │
 *                                                             v
 *                                  STOPPED: recorded, then (output drained) reported
 *                                                             │
 *                                 shim_process_remove  <──────┘  (Delete; CREATED too)
 *
 * "Reported" means the exit event went to every client and the exit frame to every attach
 * client; that happens once the process's output is drained (io.h), so that a client reading
 * the output to the end sees all of it before the exit status.
 */
#ifndef BERTH_SHIM_PROCESS_H
#define BERTH_SHIM_PROCESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "berth/shim/v1/shim.pb-c.h"

struct berth_err;
struct shim;
struct shim_io;
struct shim_attach;
struct shim_log;
struct shim_oom;

/* How long, after a process exited, the shim waits for its output to reach EOF before it
 * reports the exit anyway (a process it left behind may hold its stdout for ever). */
#define SHIM_DRAIN_TIMEOUT_MS 1000

struct shim_process {
    struct shim_process *next;
    struct shim *shim;
    char *exec_id; /* "" for the init */
    char *name;    /* in file names: "init" or the exec id */
    pid_t pid;
    Berth__Shim__V1__Status status;
    uint32_t exit_status;
    int64_t exited_at; /* ns since the epoch */
    bool reported;
    bool terminal;
    char *fifos[3];    /* as the client gave them; "" for none */
    char *attach_path; /* absolute */
    char *log_path;    /* init: the json-file log, "" for none */
    struct shim_io *io;
    struct shim_attach *attach;
    struct shim_log *log;
    struct shim_oom *oom; /* init: OOM kills in its cgroup */
};

/* A new process in CREATED state with its stdio (fifos opened, pipes made) and its attach
 * socket listening; nothing is run. The init goes first in s->procs. err on a fifo that
 * cannot be opened or a socket that cannot be bound. */
struct shim_process *shim_process_new(struct shim *s, const char *exec_id, bool terminal,
                                      const Berth__Shim__V1__IO *io, struct berth_err *err);

/* Remove a process: stop its copies, disconnect its attach clients, remove its sockets and
 * files (an exec's process.json, pid file and exit record). */
void shim_process_remove(struct shim_process *p);

struct shim_process *shim_process_find(struct shim *s, const char *exec_id);
/* "created", "running", "stopped", "paused": for messages. */
const char *shim_process_status_name(Berth__Shim__V1__Status status);
struct shim_process *shim_process_by_pid(struct shim *s, pid_t pid);

/* The init: open the log (log_path may be NULL) and run `<runtime> create`. On failure every
 * trace is undone (`<runtime> delete --force`); the process stays for the caller to remove. */
int shim_process_create(struct shim_process *p, const Berth__Shim__V1__LogConfig *log,
                        struct berth_err *err);

/* CREATED -> RUNNING: `<runtime> start` for the init, `<runtime> exec --detach` for an exec. */
int shim_process_start(struct shim_process *p, struct berth_err *err);

/* Reaped: record the exit, mark it STOPPED, and report it once the output is drained. */
void shim_process_exited(struct shim_process *p, uint32_t status, int64_t at);

/* Report now, without waiting for the rest of the output (Delete, shutdown). */
void shim_process_report_now(struct shim_process *p);

/* Signal: the init through `<runtime> kill [--all]`, an exec with kill(2). EBUSY when the
 * process is not there to signal. */
int shim_process_kill(struct shim_process *p, uint32_t signal, bool all, struct berth_err *err);

/* Fill st (and st_io, which st->io points to) from p; strings are borrowed from p. */
void shim_process_state(const struct shim_process *p, Berth__Shim__V1__ProcessState *st,
                        Berth__Shim__V1__IO *st_io);

#endif
