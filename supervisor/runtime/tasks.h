/* SPDX-License-Identifier: Apache-2.0
 *
 * The task manager: every task the supervisor knows, by namespace and container id, each
 * backed by its berth-shim. It starts shims, forwards lifecycle calls to them, turns their
 * events into supervisor events, and finds them again after a supervisor restart
 * (sup_tasks_recover). Nothing about a task lives only in the supervisor's memory: the shim
 * holds the processes and their exits, the bundle dir holds task.json (how to reach the
 * runtime without the shim) and config.json.
 *
 * Task lifecycle, with the call behind each step:
 *
 *   (none) --create--> CREATED --start--> RUNNING --(exit)--> STOPPED --delete--> (none)
 *                                          |   ^
 *                                   pause  v   | resume
 *                                         PAUSED
 *
 * A shim that dies takes its task to STOPPED (exit status 137 unless the shim had recorded
 * the real one): sup_tasks kills what is left of the container through the runtime.
 *
 * All functions are thread-safe and may block on the shim (one gRPC handler thread each).
 * Errors: ENOENT unknown task or exec, EEXIST duplicate, EINVAL bad spec or request, EBUSY
 * wrong state, EIO a shim or runtime failure (with its message).
 */
#ifndef BERTH_SUPERVISOR_RUNTIME_TASKS_H
#define BERTH_SUPERVISOR_RUNTIME_TASKS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "berth/supervisor/v1/containers.pb-c.h"
#include "berth/supervisor/v1/tasks.pb-c.h"

struct berth_err;
struct sup_events;
struct sup_snapshotter;
struct sup_tasks;

struct sup_tasks_opts {
    const char *root;  /* supervisor root: logs under <root>/logs */
    const char *state; /* supervisor state: bundles under <state>/tasks/<ns>/<id> */
    const char *shim_binary;
    const char *runtime; /* default runtime binary */
    bool debug;          /* shims log at debug */
    struct sup_events *events;
    struct sup_snapshotter *snapshots; /* where containers' snapshot_keys are (not owned) */
};

/* opts strings are copied. */
struct sup_tasks *sup_tasks_new(const struct sup_tasks_opts *opts);
/* Drop every shim connection; shims and containers keep running. */
void sup_tasks_free(struct sup_tasks *t);

/* Find the shims of an earlier run under <state>/tasks and reconnect; a task whose shim is
 * gone is reported stopped (its container killed); a half-made bundle is removed. Exits that
 * happened while no supervisor ran are published as /tasks/exit now. */
int sup_tasks_recover(struct sup_tasks *t, struct berth_err *err);

/* Is there a task for the container? */
bool sup_tasks_exists(struct sup_tasks *t, const char *ns, const char *id);

/* Create the task of container c (its spec, rootfs and runtime). *out freed by the caller.
 * A container with a snapshot_key and no rootfs runs on its snapshot: the active snapshot
 * "<ns>/<snapshot_key>" is mounted at <bundle>/rootfs, which becomes root.path, and is
 * unmounted when the task is deleted or the create fails (also by a later supervisor, from
 * the bundle). A missing snapshot is ENOENT, a committed one (it has no mounts) EBUSY, a
 * snapshotter other than overlayfs EINVAL; nothing is made then. */
int sup_tasks_create(struct sup_tasks *t, const char *ns, const Berth__Supervisor__V1__Container *c,
                     const Berth__Supervisor__V1__CreateTaskRequest *req,
                     Berth__Supervisor__V1__CreateTaskResponse **out, struct berth_err *err);
int sup_tasks_start(struct sup_tasks *t, const char *ns, const char *id, const char *exec_id,
                    uint32_t *pid, struct berth_err *err);
int sup_tasks_delete(struct sup_tasks *t, const char *ns, const char *id, const char *exec_id,
                     Berth__Supervisor__V1__DeleteResponse **out, struct berth_err *err);
int sup_tasks_get(struct sup_tasks *t, const char *ns, const char *id, const char *exec_id,
                  Berth__Supervisor__V1__Process **out, struct berth_err *err);
/* The init process of every task of ns, sorted by id. */
int sup_tasks_list(struct sup_tasks *t, const char *ns, Berth__Supervisor__V1__Process ***out,
                   size_t *n_out, struct berth_err *err);
int sup_tasks_kill(struct sup_tasks *t, const char *ns,
                   const Berth__Supervisor__V1__KillRequest *req, struct berth_err *err);
int sup_tasks_exec(struct sup_tasks *t, const char *ns,
                   const Berth__Supervisor__V1__ExecProcessRequest *req, char **attach_socket,
                   struct berth_err *err);
int sup_tasks_resize(struct sup_tasks *t, const char *ns,
                     const Berth__Supervisor__V1__ResizePtyRequest *req, struct berth_err *err);
int sup_tasks_close_io(struct sup_tasks *t, const char *ns,
                       const Berth__Supervisor__V1__CloseIORequest *req, struct berth_err *err);
int sup_tasks_pause(struct sup_tasks *t, const char *ns, const char *id, bool pause,
                    struct berth_err *err);
int sup_tasks_pids(struct sup_tasks *t, const char *ns, const char *id,
                   Berth__Supervisor__V1__ListPidsResponse **out, struct berth_err *err);
int sup_tasks_update(struct sup_tasks *t, const char *ns, const char *id, const uint8_t *resources,
                     size_t len, struct berth_err *err);
/* Blocks until the process has exited, or until *cancelled (may be NULL) is set and
 * sup_tasks_wake called (ECANCELED). */
int sup_tasks_wait(struct sup_tasks *t, const char *ns, const char *id, const char *exec_id,
                   const atomic_bool *cancelled, uint32_t *exit_status, int64_t *exited_at,
                   struct berth_err *err);
/* Wake every Wait so it re-checks its cancel flag. Safe from any thread. */
void sup_tasks_wake(struct sup_tasks *t);
/* Stats of one task: the runtime's JSON document. */
int sup_tasks_metrics(struct sup_tasks *t, const char *ns, const char *id,
                      Berth__Supervisor__V1__Metric **out, struct berth_err *err);
/* The id of the task whose root filesystem is the snapshot `snapshot` ("<ns>/<key>", as the
 * snapshotter names it), tasks being created included; NULL when no task uses it. Heap. */
char *sup_tasks_snapshot_user(struct sup_tasks *t, const char *snapshot);

/* Ids of the tasks of ns (sorted; free each and the array). */
int sup_tasks_ids(struct sup_tasks *t, const char *ns, char ***ids, size_t *n_ids);

#endif
