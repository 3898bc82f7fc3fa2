// SPDX-License-Identifier: Apache-2.0
//
// The task registry and the lifecycle calls (tasks.h). Each call takes a reference on its
// task under the registry lock, then talks to the shim without holding any lock, so a slow
// runtime never blocks other tasks. Create inserts a not-yet-ready task first, so a second
// Create of the same id fails at once instead of racing for the bundle dir.

#include "supervisor/runtime/tasks.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/log.h"
#include "supervisor/events/exchange.h"
#include "supervisor/runtime/shim.h"
#include "supervisor/runtime/tasks-internal.h"
#include "supervisor/snapshot/snapshot.h"

/* Runtime create/exec/delete can take a while on a loaded machine. */
#define SHIM_TIMEOUT_MS 120000

typedef Berth__Shim__V1__ProcessState shim_state;

/* ------------------------------------------------------------------ registry */

struct sup_tasks *
sup_tasks_new(const struct sup_tasks_opts *o)
{
    struct sup_tasks *t = xzalloc(sizeof(*t));
    t->root = xstrdup(o->root);
    t->state = xstrdup(o->state);
    t->shim_binary = xstrdup(o->shim_binary);
    t->runtime = xstrdup(o->runtime);
    t->debug = o->debug;
    t->events = o->events;
    t->snapshots = o->snapshots;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->cond, NULL);
    return t;
}

struct task *
task_new(struct sup_tasks *t, const char *bundle)
{
    struct task *task = xzalloc(sizeof(*task));
    task->owner = t;
    task->bundle = xstrdup(bundle);
    task->refs = 1;
    return task;
}

static void
task_free(struct task *task)
{
    struct task_exit *e = task->exits;
    while (e) {
        struct task_exit *next = e->next;
        free(e->exec_id);
        free(e);
        e = next;
    }
    sup_bundle_info_release(&task->info);
    free(task->bundle);
    free(task);
}

void
task_put(struct task *task)
{
    pthread_mutex_lock(&task->owner->lock);
    bool last = --task->refs == 0;
    pthread_mutex_unlock(&task->owner->lock);
    if (last)
        task_free(task);
}

void
task_insert_locked(struct sup_tasks *t, struct task *task)
{
    task->next = t->tasks;
    t->tasks = task;
}

static struct task *
find_locked(struct sup_tasks *t, const char *ns, const char *id)
{
    for (struct task *task = t->tasks; task; task = task->next)
        if (strcmp(task->info.ns, ns) == 0 && strcmp(task->info.id, id) == 0)
            return task;
    return NULL;
}

// Take the registry's reference away; the task lives on while callers hold theirs.
static void
task_remove(struct task *task)
{
    struct sup_tasks *t = task->owner;
    pthread_mutex_lock(&t->lock);
    bool was_in = !task->removed;
    if (was_in) {
        for (struct task **p = &t->tasks; *p; p = &(*p)->next) {
            if (*p == task) {
                *p = task->next;
                break;
            }
        }
        task->removed = true;
    }
    struct sup_shim *s = steal_ptr(&task->shim);
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
    sup_shim_close(s);
    if (was_in)
        task_put(task);
}

void
sup_tasks_free(struct sup_tasks *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    struct task *list = steal_ptr(&t->tasks);
    pthread_mutex_unlock(&t->lock);
    while (list) {
        struct task *next = list->next;
        pthread_mutex_lock(&t->lock);
        list->removed = true;
        struct sup_shim *s = steal_ptr(&list->shim);
        pthread_mutex_unlock(&t->lock);
        sup_shim_close(s);
        task_put(list);
        list = next;
    }
    // Connections end asynchronously; their readers drop the last references. The daemon
    // exits right after, so waiting for them buys nothing.
    free(t->root);
    free(t->state);
    free(t->shim_binary);
    free(t->runtime);
    // lock and cond stay: late reader threads may still take them before the process ends.
    // t itself is leaked for the same reason (one small struct, once, at exit), and kept
    // reachable from here so that LeakSanitizer does not report it.
    static struct sup_tasks *left_for_late_readers __attribute__((used));
    left_for_late_readers = t;
}

static struct task *
task_get(struct sup_tasks *t, const char *ns, const char *id, struct berth_err *err)
{
    pthread_mutex_lock(&t->lock);
    struct task *task = find_locked(t, ns, id);
    if (!task) {
        pthread_mutex_unlock(&t->lock);
        berth_err_fail(err, ENOENT, "task `%s` not found in namespace `%s`", id, ns);
        return NULL;
    }
    if (!task->ready) {
        pthread_mutex_unlock(&t->lock);
        berth_err_fail(err, EBUSY, "task `%s` is being created", id);
        return NULL;
    }
    task->refs++;
    pthread_mutex_unlock(&t->lock);
    return task;
}

static void
task_putp(struct task **task)
{
    if (*task)
        task_put(*task);
}
#define cleanup_task __attribute__((cleanup(task_putp)))

bool
sup_tasks_exists(struct sup_tasks *t, const char *ns, const char *id)
{
    pthread_mutex_lock(&t->lock);
    bool r = find_locked(t, ns, id) != NULL;
    pthread_mutex_unlock(&t->lock);
    return r;
}

char *
sup_tasks_snapshot_user(struct sup_tasks *t, const char *snapshot)
{
    char *id = NULL;
    pthread_mutex_lock(&t->lock);
    for (struct task *task = t->tasks; task && !id; task = task->next)
        if (task->info.snapshot && strcmp(task->info.snapshot, snapshot) == 0)
            id = xstrdup(task->info.id);
    pthread_mutex_unlock(&t->lock);
    return id;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
sup_tasks_ids(struct sup_tasks *t, const char *ns, char ***ids, size_t *n_ids)
{
    size_t n = 0, cap = 8;
    char **v = xmalloc(cap * sizeof(*v));
    pthread_mutex_lock(&t->lock);
    for (struct task *task = t->tasks; task; task = task->next) {
        if (!task->ready || strcmp(task->info.ns, ns) != 0)
            continue;
        if (n + 1 >= cap)
            v = xrealloc(v, (cap *= 2) * sizeof(*v));
        v[n++] = xstrdup(task->info.id);
    }
    pthread_mutex_unlock(&t->lock);
    v[n] = NULL;
    qsort(v, n, sizeof(*v), cmp_str);
    *ids = v;
    *n_ids = n;
    return 0;
}

// The task's shim connection with a reference, or NULL with err when the shim is gone.
static struct sup_shim *
task_shim(struct task *task, struct berth_err *err)
{
    pthread_mutex_lock(&task->owner->lock);
    struct sup_shim *s = task->shim ? sup_shim_ref(task->shim) : NULL;
    bool dead = task->dead;
    pthread_mutex_unlock(&task->owner->lock);
    if (!s)
        berth_err_fail(err, dead ? ENOENT : EBUSY, "task `%s`: %s", task->info.id,
                       dead ? "process already finished (its shim is gone)" : "being deleted");
    return s;
}

static void
shim_unrefp(struct sup_shim **s)
{
    sup_shim_unref(*s);
}
#define cleanup_shim __attribute__((cleanup(shim_unrefp)))

// One shim call on a task, wrapping the shim's message with the task's id.
static int
shim_call(struct task *task, const char *method, const ProtobufCMessage *req,
          const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
          struct berth_err *err)
{
    cleanup_shim struct sup_shim *s = task_shim(task, err);
    if (!s)
        return -1;
    return sup_shim_call(s, method, req, resp_desc, resp, SHIM_TIMEOUT_MS, err);
}

static Berth__Supervisor__V1__IO *
io_copy(const char *in, const char *out, const char *errp, bool terminal)
{
    Berth__Supervisor__V1__IO *io = xmalloc(sizeof(*io));
    berth__supervisor__v1__io__init(io);
    io->stdin = xstrdup(in ? in : "");
    io->stdout = xstrdup(out ? out : "");
    io->stderr = xstrdup(errp ? errp : "");
    io->terminal = terminal;
    return io;
}

static Berth__Supervisor__V1__Status
status_from_shim(Berth__Shim__V1__Status s)
{
    switch (s) {
    case BERTH__SHIM__V1__STATUS__CREATED: return BERTH__SUPERVISOR__V1__STATUS__CREATED;
    case BERTH__SHIM__V1__STATUS__RUNNING: return BERTH__SUPERVISOR__V1__STATUS__RUNNING;
    case BERTH__SHIM__V1__STATUS__STOPPED: return BERTH__SUPERVISOR__V1__STATUS__STOPPED;
    case BERTH__SHIM__V1__STATUS__PAUSED: return BERTH__SUPERVISOR__V1__STATUS__PAUSED;
    default: return BERTH__SUPERVISOR__V1__STATUS__UNKNOWN;
    }
}

static Berth__Supervisor__V1__Process *
process_new(struct task *task, const char *exec_id)
{
    Berth__Supervisor__V1__Process *p = xmalloc(sizeof(*p));
    berth__supervisor__v1__process__init(p);
    p->container_id = xstrdup(task->info.id);
    p->exec_id = xstrdup(exec_id);
    p->attach_socket = xstrdup("");
    p->log_path = xstrdup("");
    return p;
}

static Berth__Supervisor__V1__Process *
process_from_state(struct task *task, const shim_state *st)
{
    Berth__Supervisor__V1__Process *p = process_new(task, st->exec_id);
    p->pid = st->pid;
    p->status = status_from_shim(st->status);
    p->exit_status = st->exit_status;
    p->exited_at = st->exited_at;
    p->terminal = st->terminal;
    const Berth__Shim__V1__IO *io = st->io;
    p->io = io_copy(io ? io->stdin : NULL, io ? io->stdout : NULL, io ? io->stderr : NULL,
                    st->terminal);
    free(p->attach_socket);
    p->attach_socket = xstrdup(st->attach_socket);
    free(p->log_path);
    p->log_path = xstrdup(st->log_path);
    return p;
}

// A process of a task whose shim is gone: what was recorded of its exit.
static int
process_dead(struct task *task, const char *exec_id, Berth__Supervisor__V1__Process **out,
             struct berth_err *err)
{
    pthread_mutex_lock(&task->owner->lock);
    struct task_exit *e = task_find_exit_locked(task, exec_id);
    struct task_exit copy = e ? *e : (struct task_exit){0};
    pthread_mutex_unlock(&task->owner->lock);
    if (!e)
        return berth_err_fail(err, ENOENT, "process `%s` of task `%s` not found", exec_id,
                              task->info.id);
    Berth__Supervisor__V1__Process *p = process_new(task, exec_id);
    p->pid = copy.pid;
    p->status = BERTH__SUPERVISOR__V1__STATUS__STOPPED;
    p->exit_status = copy.status;
    p->exited_at = copy.at;
    p->terminal = task->info.terminal && !*exec_id;
    p->io = io_copy(NULL, NULL, NULL, p->terminal);
    *out = p;
    return 0;
}

static bool
task_is_dead(struct task *task)
{
    pthread_mutex_lock(&task->owner->lock);
    bool dead = task->dead;
    pthread_mutex_unlock(&task->owner->lock);
    return dead;
}

int
sup_tasks_get(struct sup_tasks *t, const char *ns, const char *id, const char *exec_id,
              Berth__Supervisor__V1__Process **out, struct berth_err *err)
{
    cleanup_task struct task *task = task_get(t, ns, id, err);
    if (!task)
        return -1;
    if (task_is_dead(task))
        return process_dead(task, exec_id, out, err);
    Berth__Shim__V1__StateRequest req = BERTH__SHIM__V1__STATE_REQUEST__INIT;
    req.exec_id = (char *)exec_id;
    shim_state *st = NULL;
    if (shim_call(task, "State", &req.base, &berth__shim__v1__process_state__descriptor,
                  (ProtobufCMessage **)&st, err) < 0)
        return -1;
    *out = process_from_state(task, st);
    berth__shim__v1__process_state__free_unpacked(st, NULL);
    return 0;
}

int
sup_tasks_list(struct sup_tasks *t, const char *ns, Berth__Supervisor__V1__Process ***out,
               size_t *n_out, struct berth_err *err)
{
    cleanup_strv char **ids = NULL;
    size_t n = 0;
    sup_tasks_ids(t, ns, &ids, &n);
    Berth__Supervisor__V1__Process **v = xzalloc((n + 1) * sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        cleanup_err struct berth_err e2 = BERTH_ERR_INIT;
        // A task deleted meanwhile is simply not listed; any other failure is reported as
        // an UNKNOWN process rather than failing the whole list.
        if (sup_tasks_get(t, ns, ids[i], "", &v[k], &e2) == 0) {
            k++;
        } else if (e2.code != ENOENT) {
            berth_warn("list task %s: %s", ids[i], e2.msg);
            pthread_mutex_lock(&t->lock);
            struct task *task = find_locked(t, ns, ids[i]);
            if (task)
                task->refs++;
            pthread_mutex_unlock(&t->lock);
            if (task) {
                v[k++] = process_new(task, "");
                task_put(task);
            }
        }
    }
    *out = v;
    *n_out = k;
    return 0;
}

/* ------------------------------------------------------------------ create and delete */

static char *
default_log_path(struct sup_tasks *t, const char *ns, const char *id)
{
    return xasprintf("%s/logs/%s/%s/%s-json.log", t->root, ns, id, id);
}

// The shim gives every process a stdin pipe and keeps it open for attach clients; a process
// nobody will write to must read EOF instead of blocking (docker without -i, ctr run -d).
static int
close_unused_stdin(struct sup_shim *s, const char *exec_id, const Berth__Supervisor__V1__IO *io,
                   struct berth_err *err)
{
    if (io && ((io->stdin && *io->stdin) || io->open_stdin))
        return 0;
    Berth__Shim__V1__CloseIORequest req = BERTH__SHIM__V1__CLOSE_IOREQUEST__INIT;
    req.exec_id = (char *)exec_id;
    req.stdin = true;
    return sup_shim_call(s, "CloseIO", &req.base, NULL, NULL, SHIM_TIMEOUT_MS, err);
}

// Spawn the shim, connect, and ask it to create the container.
static int
start_shim(struct task *task, const Berth__Supervisor__V1__CreateTaskRequest *req,
           const char *log_path, uint32_t *pid, struct berth_err *err)
{
    struct sup_tasks *t = task->owner;
    struct sup_shim_spawn_opts so = {
        .shim_binary = t->shim_binary,
        .ns = task->info.ns,
        .id = task->info.id,
        .bundle = task->bundle,
        .runtime = task->info.runtime,
        .runtime_root = task->info.runtime_root,
        .systemd_cgroup = task->info.systemd_cgroup,
        .debug = t->debug,
    };
    if (sup_shim_spawn(&so, err) < 0 || task_connect(task, err) < 0)
        return -1;

    const Berth__Supervisor__V1__IO *io = req->io;
    Berth__Shim__V1__IO sio = BERTH__SHIM__V1__IO__INIT;
    sio.stdin = io && io->stdin ? io->stdin : "";
    sio.stdout = io && io->stdout ? io->stdout : "";
    sio.stderr = io && io->stderr ? io->stderr : "";
    sio.terminal = task->info.terminal; /* the spec decides; a mismatch could only fail */
    Berth__Shim__V1__LogConfig slog = BERTH__SHIM__V1__LOG_CONFIG__INIT;
    slog.path = (char *)(log_path ? log_path : "");
    if (req->log) {
        slog.max_size = req->log->max_size;
        slog.max_files = req->log->max_files;
    }
    Berth__Shim__V1__CreateRequest creq = BERTH__SHIM__V1__CREATE_REQUEST__INIT;
    creq.id = task->info.id;
    creq.bundle = task->bundle;
    creq.io = &sio;
    creq.log = &slog;
    Berth__Shim__V1__CreateResponse *cresp = NULL;
    // A failed Create makes the shim clean up and exit: that end is expected.
    cleanup_shim struct sup_shim *s = task_shim(task, err);
    if (!s)
        return -1;
    if (sup_shim_call_ends(s, SUP_SHIM_ENDS_ON_ERROR, "Create", &creq.base,
                           &berth__shim__v1__create_response__descriptor,
                           (ProtobufCMessage **)&cresp, SHIM_TIMEOUT_MS, err) < 0)
        return -1;
    *pid = cresp->pid;
    berth__shim__v1__create_response__free_unpacked(cresp, NULL);
    return close_unused_stdin(s, "", req->io, err);
}

// Undo a create that failed after the bundle was made: the shim (if it got that far) has
// already deleted the container and exited; what is left is ours (the snapshot's mount too).
static void
create_rollback(struct task *task)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    task_runtime(task, (const char *const[]){"delete", "--force", task->info.id, NULL});
    if (sup_bundle_remove(task->bundle, &err) < 0)
        berth_err_warn(&err);
    task_remove(task);
}

// The mounts of a snapshot-backed container's root, checked before anything is made. The
// Snapshots service names keys "<ns>/<key>"; the messages use the client's key.
static int
snapshot_mounts(struct sup_tasks *t, const char *ns, const Berth__Supervisor__V1__Container *c,
                struct sup_mount **m, size_t *n, struct berth_err *err)
{
    if (c->snapshotter && *c->snapshotter && strcmp(c->snapshotter, SUP_SNAPSHOTTER_OVERLAY) != 0)
        return berth_err_fail(err, EINVAL,
                              "container `%s`: snapshotter `%s` not found (the only one is %s)",
                              c->id, c->snapshotter, SUP_SNAPSHOTTER_OVERLAY);
    if (!t->snapshots)
        return berth_err_fail(err, ENOTSUP, "container `%s`: no snapshotter", c->id);
    cleanup_free char *key = xasprintf("%s/%s", ns, c->snapshot_key);
    if (sup_snapshot_mounts(t->snapshots, key, m, n, err) == 0)
        return 0;
    if (err->code == ENOENT) {
        berth_err_clear(err);
        return berth_err_fail(err, ENOENT, "container `%s`: snapshot `%s` not found", c->id,
                              c->snapshot_key);
    }
    if (err->code == EINVAL) {
        berth_err_clear(err);
        return berth_err_fail(err, EBUSY,
                              "container `%s`: snapshot `%s` is committed; a root filesystem "
                              "must be an active snapshot",
                              c->id, c->snapshot_key);
    }
    return berth_err_wrap(err, "container `%s`: snapshot `%s`", c->id, c->snapshot_key);
}

static int
mount_rootfs(struct task *task, const struct sup_mount *m, size_t n, struct berth_err *err)
{
    cleanup_free char *rootfs = sup_bundle_rootfs(task->bundle);
    if (sup_mount_all(m, n, rootfs, err) < 0)
        return berth_err_wrap(err, "mount the snapshot of task `%s`", task->info.id);
    return 0;
}

int
sup_tasks_create(struct sup_tasks *t, const char *ns, const Berth__Supervisor__V1__Container *c,
                 const Berth__Supervisor__V1__CreateTaskRequest *req,
                 Berth__Supervisor__V1__CreateTaskResponse **out, struct berth_err *err)
{
    cleanup_free char *bundle = xasprintf("%s/tasks/%s/%s", t->state, ns, c->id);
    bool on_snapshot = (!c->rootfs || !*c->rootfs) && c->snapshot_key && *c->snapshot_key;
    pthread_mutex_lock(&t->lock);
    if (find_locked(t, ns, c->id)) {
        pthread_mutex_unlock(&t->lock);
        return berth_err_fail(err, EEXIST, "task `%s` already exists in namespace `%s`", c->id, ns);
    }
    struct task *task = task_new(t, bundle);
    task->info.ns = xstrdup(ns);
    task->info.id = xstrdup(c->id);
    // Named from the start, so the snapshot counts as in use while it is being mounted.
    task->info.snapshot = on_snapshot ? xasprintf("%s/%s", ns, c->snapshot_key) : NULL;
    task_insert_locked(t, task);
    task->refs++; /* ours for this call */
    pthread_mutex_unlock(&t->lock);
    cleanup_task struct task *hold = task;

    struct sup_mount *mounts = NULL;
    size_t n_mounts = 0;
    if (on_snapshot && snapshot_mounts(t, ns, c, &mounts, &n_mounts, err) < 0) {
        task_remove(task);
        return -1;
    }
    // A bundle left by a crash mid-create (no task registered for it) is stale.
    struct sup_bundle_info info;
    if (sup_bundle_remove(bundle, err) < 0 ||
        sup_bundle_create(bundle, ns, c, t->runtime, t->state, &info, err) < 0) {
        sup_mounts_free(mounts, n_mounts);
        task_remove(task);
        return -1;
    }
    pthread_mutex_lock(&t->lock);
    sup_bundle_info_release(&task->info);
    task->info = info;
    pthread_mutex_unlock(&t->lock);
    int mounted = on_snapshot ? mount_rootfs(task, mounts, n_mounts, err) : 0;
    sup_mounts_free(mounts, n_mounts);
    if (mounted < 0) {
        create_rollback(task);
        return -1;
    }

    cleanup_free char *log_path = NULL;
    if (!req->log || !req->log->disabled) {
        log_path = req->log && req->log->path && *req->log->path ? xstrdup(req->log->path)
                                                                 : default_log_path(t, ns, c->id);
        cleanup_free char *dir = xstrdup(log_path);
        *strrchr(dir, '/') = '\0';
        if (berth_fs_mkdir_p(dir, 0700, err) < 0) {
            create_rollback(task);
            return berth_err_wrap(err, "log of task `%s`", c->id);
        }
    }
    uint32_t pid = 0;
    if (start_shim(task, req, log_path, &pid, err) < 0) {
        create_rollback(task);
        return berth_err_wrap(err, "create task `%s`", c->id);
    }
    pthread_mutex_lock(&t->lock);
    task->pid = pid;
    task->ready = true;
    pthread_mutex_unlock(&t->lock);

    Berth__Supervisor__V1__CreateTaskResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__create_task_response__init(r);
    r->container_id = xstrdup(c->id);
    r->pid = pid;
    r->attach_socket = xasprintf("%s/init.attach.sock", bundle);
    r->log_path = xstrdup(log_path ? log_path : "");
    *out = r;

    Berth__Supervisor__V1__IOPaths iop = BERTH__SUPERVISOR__V1__IOPATHS__INIT;
    const Berth__Supervisor__V1__IO *io = req->io;
    iop.stdin = io && io->stdin ? io->stdin : "";
    iop.stdout = io && io->stdout ? io->stdout : "";
    iop.stderr = io && io->stderr ? io->stderr : "";
    iop.terminal = task->info.terminal;
    Berth__Supervisor__V1__TaskCreate ev = BERTH__SUPERVISOR__V1__TASK_CREATE__INIT;
    ev.container_id = c->id;
    ev.bundle = bundle;
    ev.pid = pid;
    ev.io = &iop;
    sup_events_publish(t->events, ns, "/tasks/create", &ev.base);
    berth_info("task created ns=%s id=%s pid=%u", ns, c->id, pid);
    return 0;
}

static Berth__Supervisor__V1__DeleteResponse *
delete_response(struct task *task, const char *exec_id, uint32_t pid, uint32_t status, int64_t at)
{
    Berth__Supervisor__V1__DeleteResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__delete_response__init(r);
    r->container_id = xstrdup(task->info.id);
    r->exec_id = xstrdup(exec_id);
    r->pid = pid;
    r->exit_status = status;
    r->exited_at = at;
    return r;
}

static void
publish_delete(struct task *task, const Berth__Supervisor__V1__DeleteResponse *r)
{
    Berth__Supervisor__V1__TaskDelete ev = BERTH__SUPERVISOR__V1__TASK_DELETE__INIT;
    ev.container_id = task->info.id;
    ev.id = *r->exec_id ? r->exec_id : task->info.id;
    ev.pid = r->pid;
    ev.exit_status = r->exit_status;
    ev.exited_at = r->exited_at;
    sup_events_publish(task->owner->events, task->info.ns, "/tasks/delete", &ev.base);
}

static int delete_init_once(struct task *task, Berth__Supervisor__V1__DeleteResponse **out,
                            struct berth_err *err);

// Delete of the init process, one at a time: a second Delete (a client's, while the exit's
// own is under way) waits for the first, and then finds the task gone or still there (the
// first failed) and tries itself, rather than find the shim leaving and fail.
static int
delete_init(struct task *task, Berth__Supervisor__V1__DeleteResponse **out, struct berth_err *err)
{
    struct sup_tasks *t = task->owner;
    pthread_mutex_lock(&t->lock);
    while (task->deleting && !task->removed)
        pthread_cond_wait(&t->cond, &t->lock);
    if (task->removed) {
        pthread_mutex_unlock(&t->lock);
        return berth_err_fail(err, ENOENT, "task `%s` not found", task->info.id);
    }
    task->deleting = true;
    pthread_mutex_unlock(&t->lock);
    int rc = delete_init_once(task, out, err);
    pthread_mutex_lock(&t->lock);
    task->deleting = false;
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
    return rc;
}

// The shim deletes the container and exits.
static int
delete_init_once(struct task *task, Berth__Supervisor__V1__DeleteResponse **out,
                 struct berth_err *err)
{
    uint32_t pid = 0, status = 0;
    int64_t at = 0;
    if (task_is_dead(task)) {
        pthread_mutex_lock(&task->owner->lock);
        struct task_exit *e = task_find_exit_locked(task, "");
        if (e) {
            pid = e->pid;
            status = e->status;
            at = e->at;
        }
        pthread_mutex_unlock(&task->owner->lock);
        task_runtime(task, (const char *const[]){"delete", "--force", task->info.id, NULL});
    } else {
        cleanup_shim struct sup_shim *s = task_shim(task, err);
        if (!s)
            return -1;
        Berth__Shim__V1__DeleteRequest req = BERTH__SHIM__V1__DELETE_REQUEST__INIT;
        req.exec_id = "";
        Berth__Shim__V1__DeleteResponse *r = NULL;
        if (sup_shim_call_ends(s, SUP_SHIM_ENDS_ON_OK, "Delete", &req.base,
                               &berth__shim__v1__delete_response__descriptor,
                               (ProtobufCMessage **)&r, SHIM_TIMEOUT_MS, err) < 0)
            return berth_err_wrap(err, "delete task `%s`", task->info.id);
        pid = r->pid;
        status = r->exit_status;
        at = r->exited_at;
        berth__shim__v1__delete_response__free_unpacked(r, NULL);
    }
    task_remove(task);
    // A root that cannot be unmounted keeps its bundle (task.json names it): a later start
    // of the supervisor tries again rather than remove files through the mount.
    cleanup_err struct berth_err e2 = BERTH_ERR_INIT;
    if (sup_bundle_remove(task->bundle, &e2) < 0)
        berth_err_warn(&e2);
    *out = delete_response(task, "", pid, status, at);
    publish_delete(task, *out);
    berth_info("task deleted ns=%s id=%s status=%u", task->info.ns, task->info.id, status);
    return 0;
}

int
sup_tasks_delete(struct sup_tasks *t, const char *ns, const char *id, const char *exec_id,
                 Berth__Supervisor__V1__DeleteResponse **out, struct berth_err *err)
{
    cleanup_task struct task *task = task_get(t, ns, id, err);
    if (!task)
        return -1;
    if (!*exec_id)
        return delete_init(task, out, err);
    Berth__Shim__V1__DeleteRequest req = BERTH__SHIM__V1__DELETE_REQUEST__INIT;
    req.exec_id = (char *)exec_id;
    Berth__Shim__V1__DeleteResponse *r = NULL;
    if (shim_call(task, "Delete", &req.base, &berth__shim__v1__delete_response__descriptor,
                  (ProtobufCMessage **)&r, err) < 0)
        return -1;
    *out = delete_response(task, exec_id, r->pid, r->exit_status, r->exited_at);
    berth__shim__v1__delete_response__free_unpacked(r, NULL);
    pthread_mutex_lock(&t->lock);
    for (struct task_exit **p = &task->exits; *p; p = &(*p)->next) {
        if (strcmp((*p)->exec_id, exec_id) == 0) {
            struct task_exit *e = *p;
            *p = e->next;
            free(e->exec_id);
            free(e);
            break;
        }
    }
    pthread_mutex_unlock(&t->lock);
    publish_delete(task, *out);
    return 0;
}

/* ------------------------------------------------------------------ running tasks */

int
sup_tasks_start(struct sup_tasks *t, const char *ns, const char *id, const char *exec_id,
                uint32_t *pid, struct berth_err *err)
{
    cleanup_task struct task *task = task_get(t, ns, id, err);
    if (!task)
        return -1;
    Berth__Shim__V1__StartRequest req = BERTH__SHIM__V1__START_REQUEST__INIT;
    req.exec_id = (char *)exec_id;
    Berth__Shim__V1__StartResponse *r = NULL;
    if (shim_call(task, "Start", &req.base, &berth__shim__v1__start_response__descriptor,
                  (ProtobufCMessage **)&r, err) < 0)
        return berth_err_wrap(err, "start task `%s`%s%s", id, *exec_id ? " exec " : "", exec_id);
    *pid = r->pid;
    berth__shim__v1__start_response__free_unpacked(r, NULL);
    if (*exec_id) {
        Berth__Supervisor__V1__TaskExecStarted ev = BERTH__SUPERVISOR__V1__TASK_EXEC_STARTED__INIT;
        ev.container_id = (char *)id;
        ev.exec_id = (char *)exec_id;
        ev.pid = *pid;
        sup_events_publish(t->events, ns, "/tasks/exec-started", &ev.base);
    } else {
        Berth__Supervisor__V1__TaskStart ev = BERTH__SUPERVISOR__V1__TASK_START__INIT;
        ev.container_id = (char *)id;
        ev.pid = *pid;
        sup_events_publish(t->events, ns, "/tasks/start", &ev.base);
    }
    return 0;
}

int
sup_tasks_kill(struct sup_tasks *t, const char *ns, const Berth__Supervisor__V1__KillRequest *kr,
               struct berth_err *err)
{
    cleanup_task struct task *task = task_get(t, ns, kr->container_id, err);
    if (!task)
        return -1;
    Berth__Shim__V1__KillRequest req = BERTH__SHIM__V1__KILL_REQUEST__INIT;
    req.exec_id = kr->exec_id;
    req.signal = kr->signal ? kr->signal : SIGTERM;
    req.all = kr->all;
    if (req.signal >= 65)
        return berth_err_fail(err, EINVAL, "signal %u is not a signal", req.signal);
    return shim_call(task, "Kill", &req.base, NULL, NULL, err);
}

int
sup_tasks_exec(struct sup_tasks *t, const char *ns,
               const Berth__Supervisor__V1__ExecProcessRequest *er, char **attach_socket,
               struct berth_err *err)
{
    cleanup_task struct task *task = task_get(t, ns, er->container_id, err);
    if (!task)
        return -1;
    if (!er->exec_id || !*er->exec_id)
        return berth_err_fail(err, EINVAL, "exec id is required");
    bool terminal = false;
    if (!er->spec.data || er->spec.len == 0)
        return berth_err_fail(err, EINVAL, "exec `%s`: no process spec", er->exec_id);
    if (sup_bundle_process_terminal(er->spec.data, er->spec.len, &terminal, err) < 0)
        return berth_err_wrap(err, "exec `%s`", er->exec_id);
    const Berth__Supervisor__V1__IO *io = er->io;
    Berth__Shim__V1__IO sio = BERTH__SHIM__V1__IO__INIT;
    sio.stdin = io && io->stdin ? io->stdin : "";
    sio.stdout = io && io->stdout ? io->stdout : "";
    sio.stderr = io && io->stderr ? io->stderr : "";
    sio.terminal = terminal;
    Berth__Shim__V1__ExecRequest req = BERTH__SHIM__V1__EXEC_REQUEST__INIT;
    req.exec_id = er->exec_id;
    req.spec = er->spec;
    req.io = &sio;
    Berth__Shim__V1__ExecResponse *r = NULL;
    if (shim_call(task, "Exec", &req.base, &berth__shim__v1__exec_response__descriptor,
                  (ProtobufCMessage **)&r, err) < 0)
        return berth_err_wrap(err, "exec `%s` in task `%s`", er->exec_id, er->container_id);
    *attach_socket = xstrdup(r->attach_socket);
    berth__shim__v1__exec_response__free_unpacked(r, NULL);
    cleanup_shim struct sup_shim *s = task_shim(task, err);
    if (!s || close_unused_stdin(s, er->exec_id, er->io, err) < 0)
        return berth_err_wrap(err, "exec `%s` in task `%s`", er->exec_id, er->container_id);
    Berth__Supervisor__V1__TaskExecAdded ev = BERTH__SUPERVISOR__V1__TASK_EXEC_ADDED__INIT;
    ev.container_id = er->container_id;
    ev.exec_id = er->exec_id;
    sup_events_publish(t->events, ns, "/tasks/exec-added", &ev.base);
    return 0;
}

int
sup_tasks_resize(struct sup_tasks *t, const char *ns,
                 const Berth__Supervisor__V1__ResizePtyRequest *rr, struct berth_err *err)
{
    cleanup_task struct task *task = task_get(t, ns, rr->container_id, err);
    if (!task)
        return -1;
    Berth__Shim__V1__ResizeRequest req = BERTH__SHIM__V1__RESIZE_REQUEST__INIT;
    req.exec_id = rr->exec_id;
    req.width = rr->width;
    req.height = rr->height;
    return shim_call(task, "Resize", &req.base, NULL, NULL, err);
}

int
sup_tasks_close_io(struct sup_tasks *t, const char *ns,
                   const Berth__Supervisor__V1__CloseIORequest *cr, struct berth_err *err)
{
    cleanup_task struct task *task = task_get(t, ns, cr->container_id, err);
    if (!task)
        return -1;
    Berth__Shim__V1__CloseIORequest req = BERTH__SHIM__V1__CLOSE_IOREQUEST__INIT;
    req.exec_id = cr->exec_id;
    req.stdin = cr->stdin;
    return shim_call(task, "CloseIO", &req.base, NULL, NULL, err);
}

int
sup_tasks_pause(struct sup_tasks *t, const char *ns, const char *id, bool pause,
                struct berth_err *err)
{
    cleanup_task struct task *task = task_get(t, ns, id, err);
    if (!task)
        return -1;
    if (shim_call(task, pause ? "Pause" : "Resume", NULL, NULL, NULL, err) < 0)
        return berth_err_wrap(err, "%s task `%s`", pause ? "pause" : "resume", id);
    if (pause) {
        Berth__Supervisor__V1__TaskPaused ev = BERTH__SUPERVISOR__V1__TASK_PAUSED__INIT;
        ev.container_id = (char *)id;
        sup_events_publish(t->events, ns, "/tasks/paused", &ev.base);
    } else {
        Berth__Supervisor__V1__TaskResumed ev = BERTH__SUPERVISOR__V1__TASK_RESUMED__INIT;
        ev.container_id = (char *)id;
        sup_events_publish(t->events, ns, "/tasks/resumed", &ev.base);
    }
    return 0;
}

int
sup_tasks_pids(struct sup_tasks *t, const char *ns, const char *id,
               Berth__Supervisor__V1__ListPidsResponse **out, struct berth_err *err)
{
    cleanup_task struct task *task = task_get(t, ns, id, err);
    if (!task)
        return -1;
    Berth__Shim__V1__PidsResponse *pr = NULL;
    Berth__Shim__V1__ListResponse *lr = NULL;
    if (shim_call(task, "Pids", NULL, &berth__shim__v1__pids_response__descriptor,
                  (ProtobufCMessage **)&pr, err) < 0)
        return -1;
    if (shim_call(task, "List", NULL, &berth__shim__v1__list_response__descriptor,
                  (ProtobufCMessage **)&lr, err) < 0) {
        berth__shim__v1__pids_response__free_unpacked(pr, NULL);
        return -1;
    }
    Berth__Supervisor__V1__ListPidsResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__list_pids_response__init(r);
    r->n_processes = pr->n_pids;
    r->processes = xzalloc((pr->n_pids + 1) * sizeof(*r->processes));
    for (size_t i = 0; i < pr->n_pids; i++) {
        Berth__Supervisor__V1__ProcessInfo *pi = xmalloc(sizeof(*pi));
        berth__supervisor__v1__process_info__init(pi);
        pi->pid = pr->pids[i];
        const char *exec_id = "";
        for (size_t j = 0; j < lr->n_processes; j++)
            if (lr->processes[j]->pid == pi->pid && *lr->processes[j]->exec_id)
                exec_id = lr->processes[j]->exec_id;
        pi->exec_id = xstrdup(exec_id);
        r->processes[i] = pi;
    }
    berth__shim__v1__pids_response__free_unpacked(pr, NULL);
    berth__shim__v1__list_response__free_unpacked(lr, NULL);
    *out = r;
    return 0;
}

int
sup_tasks_update(struct sup_tasks *t, const char *ns, const char *id, const uint8_t *resources,
                 size_t len, struct berth_err *err)
{
    cleanup_task struct task *task = task_get(t, ns, id, err);
    if (!task)
        return -1;
    if (!resources || len == 0)
        return berth_err_fail(err, EINVAL, "update task `%s`: no resources given", id);
    Berth__Shim__V1__UpdateRequest req = BERTH__SHIM__V1__UPDATE_REQUEST__INIT;
    req.resources.data = (uint8_t *)resources;
    req.resources.len = len;
    if (shim_call(task, "Update", &req.base, NULL, NULL, err) < 0)
        return berth_err_wrap(err, "update task `%s`", id);
    return 0;
}

int
sup_tasks_metrics(struct sup_tasks *t, const char *ns, const char *id,
                  Berth__Supervisor__V1__Metric **out, struct berth_err *err)
{
    cleanup_task struct task *task = task_get(t, ns, id, err);
    if (!task)
        return -1;
    Berth__Shim__V1__StatsResponse *r = NULL;
    if (shim_call(task, "Stats", NULL, &berth__shim__v1__stats_response__descriptor,
                  (ProtobufCMessage **)&r, err) < 0)
        return berth_err_wrap(err, "metrics of task `%s`", id);
    Berth__Supervisor__V1__Metric *m = xmalloc(sizeof(*m));
    berth__supervisor__v1__metric__init(m);
    m->id = xstrdup(id);
    m->timestamp = task_now_ns();
    m->data.len = r->data.len;
    m->data.data = xmalloc(r->data.len ? r->data.len : 1);
    memcpy(m->data.data, r->data.data, r->data.len);
    berth__shim__v1__stats_response__free_unpacked(r, NULL);
    *out = m;
    return 0;
}

// Wait: check the exits already seen, then ask the shim (an exit that happened before this
// call but whose event is still in flight), then sleep until an exit is recorded. Events are
// recorded under the registry lock before anything else sees them, so nothing slips between.
int
sup_tasks_wait(struct sup_tasks *t, const char *ns, const char *id, const char *exec_id,
               const atomic_bool *cancelled, uint32_t *exit_status, int64_t *exited_at,
               struct berth_err *err)
{
    cleanup_task struct task *task = task_get(t, ns, id, err);
    if (!task)
        return -1;
    if (!task_is_dead(task)) {
        Berth__Shim__V1__StateRequest req = BERTH__SHIM__V1__STATE_REQUEST__INIT;
        req.exec_id = (char *)exec_id;
        shim_state *st = NULL;
        if (shim_call(task, "State", &req.base, &berth__shim__v1__process_state__descriptor,
                      (ProtobufCMessage **)&st, err) == 0) {
            bool stopped = st->status == BERTH__SHIM__V1__STATUS__STOPPED;
            if (stopped) {
                *exit_status = st->exit_status;
                *exited_at = st->exited_at;
            }
            berth__shim__v1__process_state__free_unpacked(st, NULL);
            if (stopped)
                return 0;
        } else if (err->code != ECONNRESET) {
            return -1;
        } else {
            berth_err_clear(err); /* the shim died meanwhile: its exit is recorded below */
        }
    }
    pthread_mutex_lock(&t->lock);
    struct task_exit *e;
    while (!(e = task_find_exit_locked(task, exec_id)) && !task->removed &&
           !(task->dead && *exec_id) && !(cancelled && atomic_load(cancelled)))
        pthread_cond_wait(&t->cond, &t->lock);
    if (e) {
        *exit_status = e->status;
        *exited_at = e->at;
    }
    pthread_mutex_unlock(&t->lock);
    if (e)
        return 0;
    if (cancelled && atomic_load(cancelled))
        return berth_err_fail(err, ECANCELED, "wait for task `%s` cancelled", id);
    return berth_err_fail(err, ENOENT, "process `%s` of task `%s` is gone", exec_id, id);
}

void
sup_tasks_wake(struct sup_tasks *t)
{
    pthread_mutex_lock(&t->lock);
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
}
