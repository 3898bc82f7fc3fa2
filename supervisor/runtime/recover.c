// SPDX-License-Identifier: Apache-2.0
//
// Finding the tasks of an earlier supervisor run (sup_tasks_recover). The bundles under
// <state>/tasks/<ns>/<id> are the record: one with task.json had its shim started; one
// without is a create that crashed half-way and is removed. For each task the shim is
// reconnected and asked for every process, so exits that happened while no supervisor ran
// are recorded (and published) with the shim's exit status and time. A shim that does not
// answer is dead: the task is handled as in reaper.c.

#include <dirent.h>
#include <errno.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/log.h"
#include "supervisor/runtime/shim.h"
#include "supervisor/runtime/tasks-internal.h"

// Ask a reconnected shim for its processes and record the exits among them.
static int
resync(struct task *task, struct sup_shim *s, struct berth_err *err)
{
    Berth__Shim__V1__ListResponse *lr = NULL;
    if (sup_shim_call(s, "List", NULL, &berth__shim__v1__list_response__descriptor,
                      (ProtobufCMessage **)&lr, 30000, err) < 0)
        return -1;
    for (size_t i = 0; i < lr->n_processes; i++) {
        const Berth__Shim__V1__ProcessState *p = lr->processes[i];
        if (!*p->exec_id)
            task->pid = p->pid;
        if (p->status == BERTH__SHIM__V1__STATUS__STOPPED)
            task_record_exit(task, p->exec_id, p->pid, p->exit_status, p->exited_at, true);
    }
    berth__shim__v1__list_response__free_unpacked(lr, NULL);
    return 0;
}

static void
recover_one(struct sup_tasks *t, const char *bundle)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct sup_bundle_info info;
    if (sup_bundle_load(bundle, &info, &err) < 0) {
        berth_warn("recover: %s; removing half-made bundle `%s`", err.msg, bundle);
        berth_err_clear(&err);
        if (sup_bundle_remove(bundle, &err) < 0)
            berth_err_warn(&err);
        return;
    }
    struct task *task = task_new(t, bundle);
    task->info = info;
    task->ready = true;
    pthread_mutex_lock(&t->lock);
    task_insert_locked(t, task);
    task->refs++; /* ours, below */
    pthread_mutex_unlock(&t->lock);

    if (task_connect(task, &err) < 0) {
        berth_warn("recover: task ns=%s id=%s: %s", info.ns, info.id, err.msg);
        task_shim_gone(task);
        task_put(task);
        return;
    }
    pthread_mutex_lock(&t->lock);
    struct sup_shim *s = task->shim ? sup_shim_ref(task->shim) : NULL;
    pthread_mutex_unlock(&t->lock);
    if (s && resync(task, s, &err) < 0)
        berth_warn("recover: task ns=%s id=%s: %s", task->info.ns, task->info.id, err.msg);
    sup_shim_unref(s);
    berth_info("recovered task ns=%s id=%s pid=%u", task->info.ns, task->info.id, task->pid);
    task_put(task);
}

static void
recover_namespace(struct sup_tasks *t, const char *dir)
{
    cleanup_dir DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        cleanup_free char *bundle = xasprintf("%s/%s", dir, de->d_name);
        recover_one(t, bundle);
    }
}

int
sup_tasks_recover(struct sup_tasks *t, struct berth_err *err)
{
    cleanup_free char *tasks = xasprintf("%s/tasks", t->state);
    if (berth_fs_mkdir_p(tasks, 0711, err) < 0)
        return -1;
    cleanup_dir DIR *d = opendir(tasks);
    if (!d)
        return berth_err_set(err, errno, "open `%s`", tasks);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        cleanup_free char *dir = xasprintf("%s/%s", tasks, de->d_name);
        recover_namespace(t, dir);
    }
    return 0;
}
