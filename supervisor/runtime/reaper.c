// SPDX-License-Identifier: Apache-2.0
//
// What shims tell the supervisor, and what happens when one dies. A shim's events arrive on
// its connection's reader thread; exits are recorded in the task (so Wait finds them) before
// they are published, so a client that sees /tasks/exit and then calls Wait never blocks.
//
// A dead shim can no longer reap its container or keep its stdio, so the container is killed
// through the runtime and the task reported stopped: with the exit the shim had recorded in
// the bundle if it got that far, else 137 (SIGKILL) at the time the death was noticed.

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "supervisor/events/exchange.h"
#include "supervisor/runtime/shim.h"
#include "supervisor/runtime/tasks-internal.h"

extern char **environ;

int64_t
task_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct task_exit *
task_find_exit_locked(struct task *task, const char *exec_id)
{
    for (struct task_exit *e = task->exits; e; e = e->next)
        if (strcmp(e->exec_id, exec_id) == 0)
            return e;
    return NULL;
}

void
task_record_exit(struct task *task, const char *exec_id, uint32_t pid, uint32_t status,
                 int64_t at, bool publish)
{
    struct sup_tasks *t = task->owner;
    pthread_mutex_lock(&t->lock);
    struct task_exit *e = task_find_exit_locked(task, exec_id);
    if (e && e->at == at && e->status == status) {
        pthread_mutex_unlock(&t->lock);
        return; /* already known (a reconnect re-reading the shim's list) */
    }
    if (!e) {
        e = xzalloc(sizeof(*e));
        e->exec_id = xstrdup(exec_id);
        e->next = task->exits;
        task->exits = e;
    }
    e->pid = pid;
    e->status = status;
    e->at = at;
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
    if (!publish)
        return;
    Berth__Supervisor__V1__TaskExit ev = BERTH__SUPERVISOR__V1__TASK_EXIT__INIT;
    ev.container_id = task->info.id;
    ev.id = *exec_id ? (char *)exec_id : task->info.id;
    ev.pid = pid;
    ev.exit_status = status;
    ev.exited_at = at;
    berth_info("task exit ns=%s id=%s exec=%s pid=%u status=%u", task->info.ns, task->info.id,
               exec_id, pid, status);
    sup_events_publish(t->events, task->info.ns, "/tasks/exit", &ev.base);
}

static void
on_event(void *data, const Berth__Shim__V1__Event *ev)
{
    struct task *task = data;
    if (strcmp(ev->kind, "exit") == 0) {
        task_record_exit(task, ev->exec_id, ev->pid, ev->exit_status, ev->exited_at, true);
    } else if (strcmp(ev->kind, "oom") == 0) {
        Berth__Supervisor__V1__TaskOOM oom = BERTH__SUPERVISOR__V1__TASK_OOM__INIT;
        oom.container_id = task->info.id;
        sup_events_publish(task->owner->events, task->info.ns, "/tasks/oom", &oom.base);
    }
}

static void
on_gone(void *data)
{
    task_shim_gone(data);
}

static void
on_free(void *data)
{
    task_put(data);
}

int
task_connect(struct task *task, struct berth_err *err)
{
    pthread_mutex_lock(&task->owner->lock);
    task->refs++; /* the connection's, dropped by on_free */
    pthread_mutex_unlock(&task->owner->lock);
    struct sup_shim *s = sup_shim_connect(task->bundle, on_event, on_gone, on_free, task, err);
    if (!s) {
        task_put(task);
        return -1;
    }
    pthread_mutex_lock(&task->owner->lock);
    task->shim = s;
    pthread_mutex_unlock(&task->owner->lock);
    return 0;
}

int
task_runtime(struct task *task, const char *const *args)
{
    const char *argv[16];
    size_t n = 0;
    argv[n++] = task->info.runtime;
    argv[n++] = "--root";
    argv[n++] = task->info.runtime_root;
    if (task->info.systemd_cgroup)
        argv[n++] = "--systemd-cgroup";
    for (; *args && n < ARRAY_SIZE(argv) - 1; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void
task_shim_gone(struct task *task)
{
    struct sup_tasks *t = task->owner;
    pthread_mutex_lock(&t->lock);
    if (task->dead || task->removed) {
        pthread_mutex_unlock(&t->lock);
        return;
    }
    task->dead = true;
    struct sup_shim *s = steal_ptr(&task->shim);
    bool have_init_exit = task_find_exit_locked(task, "") != NULL;
    task->refs++;
    pthread_mutex_unlock(&t->lock);
    sup_shim_close(s);

    berth_warn("shim of task ns=%s id=%s is gone; killing the container", task->info.ns,
               task->info.id);
    // Nobody reaps or holds the container's stdio any more: end it, then its runtime state.
    task_runtime(task, (const char *const[]){"kill", "--all", task->info.id, "KILL", NULL});
    task_runtime(task, (const char *const[]){"delete", "--force", task->info.id, NULL});

    if (!have_init_exit) {
        cleanup_err struct berth_err err = BERTH_ERR_INIT;
        uint32_t pid = task->pid, status = 128 + SIGKILL;
        int64_t at = task_now_ns();
        int r = sup_bundle_read_exit(task->bundle, "init", &pid, &status, &at, &err);
        if (r < 0)
            berth_err_warn(&err);
        if (r <= 0 && sup_bundle_write_exit(task->bundle, "init", pid, status, at, &err) < 0)
            berth_err_warn(&err);
        task_record_exit(task, "", pid, status, at, true);
    }
    pthread_mutex_lock(&t->lock);
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
    task_put(task);
}
