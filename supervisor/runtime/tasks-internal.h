/* SPDX-License-Identifier: Apache-2.0
 *
 * Shared by tasks.c (registry, lifecycle calls), recover.c (finding shims after a restart)
 * and reaper.c (events from shims, dead shims).
 */
#ifndef BERTH_SUPERVISOR_RUNTIME_TASKS_INTERNAL_H
#define BERTH_SUPERVISOR_RUNTIME_TASKS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "supervisor/runtime/bundle.h"
#include "supervisor/runtime/tasks.h"

struct sup_shim;

/* An exit seen for a process of a task ("" = init). */
struct task_exit {
    struct task_exit *next;
    char *exec_id;
    uint32_t pid, status;
    int64_t at;
};

struct task {
    struct task *next;
    struct sup_tasks *owner;
    char *bundle;
    struct sup_bundle_info info; /* ns, id, runtime */
    struct sup_shim *shim;       /* NULL once the shim is gone or the task deleted */
    int refs;                    /* under owner->lock: registry, connection, callers */
    bool ready;                  /* create finished */
    bool dead;                   /* the shim died: stopped for good */
    bool removed;                /* out of the registry */
    bool deleting;               /* a Delete of the init is under way; others wait for it */
    uint32_t pid;
    struct task_exit *exits;
};

struct sup_tasks {
    char *root, *state, *shim_binary, *runtime;
    bool debug;
    struct sup_events *events;
    struct sup_snapshotter *snapshots;
    pthread_mutex_t lock; /* the registry and every task's fields */
    pthread_cond_t cond;  /* broadcast on every exit and removal */
    struct task *tasks;
};

/* Registry (tasks.c). */
struct task *task_new(struct sup_tasks *t, const char *bundle);
void task_put(struct task *task);
void task_insert_locked(struct sup_tasks *t, struct task *task);

/* Shim connection callbacks and dead shims (reaper.c). */
int task_connect(struct task *task, struct berth_err *err);
void task_record_exit(struct task *task, const char *exec_id, uint32_t pid, uint32_t status,
                      int64_t at, bool publish);
struct task_exit *task_find_exit_locked(struct task *task, const char *exec_id);
void task_shim_gone(struct task *task);
/* `<runtime> --root R ARGS...`, output discarded; returns its exit status or -1. */
int task_runtime(struct task *task, const char *const *args);

int64_t task_now_ns(void);

#endif
