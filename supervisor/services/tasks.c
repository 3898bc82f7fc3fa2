// SPDX-License-Identifier: Apache-2.0
//
// Tasks: the service edge of runtime/tasks.c. Each handler takes the call's namespace, makes
// one task manager call and replies; Wait honours cancellation so a client that gives up
// frees its handler thread.

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "berth/supervisor/v1/tasks.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/filter.h"
#include "supervisor/daemon.h"
#include "supervisor/runtime/tasks.h"
#include "supervisor/services/service.h"
#include "supervisor/store/store.h"

static void
t_create(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__CreateTaskRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    Berth__Supervisor__V1__Container *c = NULL;
    if (sup_store_container_get(d->store, ns, req->container_id, &c, &err) < 0)
        return sup_reply(call, -1, NULL, &err);
    Berth__Supervisor__V1__CreateTaskResponse *r = NULL;
    int rc = sup_tasks_create(d->tasks, ns, c, req, &r, &err);
    berth__supervisor__v1__container__free_unpacked(c, NULL);
    sup_reply(call, rc, r ? &r->base : NULL, &err);
}

static void
t_start(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__StartRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    Berth__Supervisor__V1__StartResponse r = BERTH__SUPERVISOR__V1__START_RESPONSE__INIT;
    int rc = sup_tasks_start(d->tasks, ns, req->container_id, req->exec_id, &r.pid, &err);
    sup_reply_static(call, rc, &r.base, &err);
}

static void
t_delete(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__DeleteTaskRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    Berth__Supervisor__V1__DeleteResponse *r = NULL;
    int rc = sup_tasks_delete(d->tasks, ns, req->container_id, req->exec_id, &r, &err);
    sup_reply(call, rc, r ? &r->base : NULL, &err);
}

static void
t_get(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__GetRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    Berth__Supervisor__V1__GetResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__get_response__init(r);
    int rc = sup_tasks_get(d->tasks, ns, req->container_id, req->exec_id, &r->process, &err);
    sup_reply(call, rc, &r->base, &err);
}

static void
t_list(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__ListTasksRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    if (sup_require_namespace(call, d, ns) < 0)
        return;
    Berth__Supervisor__V1__ListTasksResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__list_tasks_response__init(r);
    int rc = sup_tasks_list(d->tasks, ns, &r->tasks, &r->n_tasks, &err);
    if (rc == 0)
        rc = sup_filter_list(req->filters, req->n_filters, (ProtobufCMessage **)r->tasks,
                             r->n_tasks, &r->n_tasks, &err);
    sup_reply(call, rc, &r->base, &err);
}

static void
t_kill(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    Berth__Supervisor__V1__KillResponse r = BERTH__SUPERVISOR__V1__KILL_RESPONSE__INIT;
    int rc = sup_tasks_kill(d->tasks, ns, (const void *)msg, &err);
    sup_reply_static(call, rc, &r.base, &err);
}

static void
t_exec(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    Berth__Supervisor__V1__ExecProcessResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__exec_process_response__init(r);
    int rc = sup_tasks_exec(d->tasks, ns, (const void *)msg, &r->attach_socket, &err);
    sup_reply(call, rc, &r->base, &err);
}

static void
t_resize(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    Berth__Supervisor__V1__ResizePtyResponse r = BERTH__SUPERVISOR__V1__RESIZE_PTY_RESPONSE__INIT;
    int rc = sup_tasks_resize(d->tasks, ns, (const void *)msg, &err);
    sup_reply_static(call, rc, &r.base, &err);
}

static void
t_close_io(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    Berth__Supervisor__V1__CloseIOResponse r = BERTH__SUPERVISOR__V1__CLOSE_IORESPONSE__INIT;
    int rc = sup_tasks_close_io(d->tasks, ns, (const void *)msg, &err);
    sup_reply_static(call, rc, &r.base, &err);
}

static void
t_pause(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__PauseTaskRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    Berth__Supervisor__V1__PauseTaskResponse r = BERTH__SUPERVISOR__V1__PAUSE_TASK_RESPONSE__INIT;
    int rc = sup_tasks_pause(d->tasks, ns, req->container_id, true, &err);
    sup_reply_static(call, rc, &r.base, &err);
}

static void
t_resume(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__ResumeTaskRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    Berth__Supervisor__V1__ResumeTaskResponse r = BERTH__SUPERVISOR__V1__RESUME_TASK_RESPONSE__INIT;
    int rc = sup_tasks_pause(d->tasks, ns, req->container_id, false, &err);
    sup_reply_static(call, rc, &r.base, &err);
}

static void
t_pids(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__ListPidsRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    Berth__Supervisor__V1__ListPidsResponse *r = NULL;
    int rc = sup_tasks_pids(d->tasks, ns, req->container_id, &r, &err);
    sup_reply(call, rc, r ? &r->base : NULL, &err);
}

static void
t_update(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__UpdateTaskRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    Berth__Supervisor__V1__UpdateTaskResponse r = BERTH__SUPERVISOR__V1__UPDATE_TASK_RESPONSE__INIT;
    int rc = sup_tasks_update(d->tasks, ns, req->container_id, req->resources.data,
                              req->resources.len, &err);
    sup_reply_static(call, rc, &r.base, &err);
}

struct wait_cancel {
    atomic_bool cancelled;
    struct sup_tasks *tasks;
};

static void
wait_cancelled(void *data)
{
    struct wait_cancel *wc = data;
    atomic_store(&wc->cancelled, true);
    sup_tasks_wake(wc->tasks);
}

static void
t_wait(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__WaitRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    // The cancel callback may run on a gRPC thread until the call is finished; the flag
    // lives until then because it is freed only after the reply below.
    struct wait_cancel *wc = xzalloc(sizeof(*wc));
    atomic_init(&wc->cancelled, false);
    wc->tasks = d->tasks;
    berth_rpc_call_on_cancel(call, wait_cancelled, wc);
    Berth__Supervisor__V1__WaitResponse r = BERTH__SUPERVISOR__V1__WAIT_RESPONSE__INIT;
    int rc = sup_tasks_wait(d->tasks, ns, req->container_id, req->exec_id, &wc->cancelled,
                            &r.exit_status, &r.exited_at, &err);
    sup_reply_static(call, rc, &r.base, &err);
    free(wc);
}

static void
t_metrics(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__MetricsRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = sup_call_namespace(call, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    struct berth_filter *f = berth_filter_parse((const char *const *)req->filters, req->n_filters, &err);
    if (!f)
        return sup_reply(call, -1, NULL, &err);
    cleanup_strv char **ids = NULL;
    size_t n = 0;
    sup_tasks_ids(d->tasks, ns, &ids, &n);
    Berth__Supervisor__V1__MetricsResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__metrics_response__init(r);
    r->metrics = xzalloc((n + 1) * sizeof(*r->metrics));
    for (size_t i = 0; i < n; i++) {
        // Filters are over the task (container_id ...), as for List.
        Berth__Supervisor__V1__Process p = BERTH__SUPERVISOR__V1__PROCESS__INIT;
        p.container_id = ids[i];
        if (!berth_filter_match(f, &p.base, NULL))
            continue;
        cleanup_err struct berth_err e2 = BERTH_ERR_INIT;
        if (sup_tasks_metrics(d->tasks, ns, ids[i], &r->metrics[r->n_metrics], &e2) == 0)
            r->n_metrics++;
    }
    berth_filter_free(f);
    sup_reply(call, 0, &r->base, &err);
}

static const struct berth_rpc_method methods[] = {
    {"Create", BERTH_RPC_UNARY, t_create},   {"Start", BERTH_RPC_UNARY, t_start},
    {"Delete", BERTH_RPC_UNARY, t_delete},   {"Get", BERTH_RPC_UNARY, t_get},
    {"List", BERTH_RPC_UNARY, t_list},       {"Kill", BERTH_RPC_UNARY, t_kill},
    {"Exec", BERTH_RPC_UNARY, t_exec},       {"ResizePty", BERTH_RPC_UNARY, t_resize},
    {"CloseIO", BERTH_RPC_UNARY, t_close_io}, {"Pause", BERTH_RPC_UNARY, t_pause},
    {"Resume", BERTH_RPC_UNARY, t_resume},   {"ListPids", BERTH_RPC_UNARY, t_pids},
    {"Update", BERTH_RPC_UNARY, t_update},   {"Wait", BERTH_RPC_UNARY, t_wait},
    {"Metrics", BERTH_RPC_UNARY, t_metrics},
};

const struct sup_service sup_service_tasks = {
    &berth__supervisor__v1__tasks__descriptor, methods, sizeof(methods) / sizeof(methods[0]),
};
