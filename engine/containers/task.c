/* SPDX-License-Identifier: Apache-2.0
 *
 * The supervisor's side of a container (internal.h): its task (made and started per start,
 * deleted after each exit so that no shim outlives its process), and, at removal, its
 * container record and writable snapshot (key = the container id).
 */
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "berth/supervisor/v1/containers.pb-c.h"
#include "berth/supervisor/v1/snapshots.pb-c.h"
#include "berth/supervisor/v1/tasks.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/containers/internal.h"
#include "engine/daemon.h"
#include "engine/supervisor/client.h"

#define TASKS      (&berth__supervisor__v1__tasks__descriptor)
#define CONTAINERS (&berth__supervisor__v1__containers__descriptor)
#define SNAPSHOTS  (&berth__supervisor__v1__snapshots__descriptor)

/* A call whose "not found" answer means the work is already done. */
static int
call_gone_ok(struct eng_daemon *d, const ProtobufCServiceDescriptor *svc, const char *method,
             const ProtobufCMessage *req, void *resp, struct berth_err *err)
{
    if (eng_sup_call(d->sup, svc, method, req, resp, err) == 0)
        return 0;
    if (err->code != ENOENT)
        return -1;
    berth_err_clear(err);
    return 0;
}

int
task_create_start(struct eng_daemon *d, struct eng_ctr *c, int *pid, struct berth_err *err)
{
    /* The task of the previous run, if its deletion after the exit did not happen. */
    if (task_delete(d, c->id, err) < 0)
        return -1;

    Berth__Supervisor__V1__CreateTaskRequest req = BERTH__SUPERVISOR__V1__CREATE_TASK_REQUEST__INIT;
    Berth__Supervisor__V1__IO io = BERTH__SUPERVISOR__V1__IO__INIT;
    Berth__Supervisor__V1__LogConfig log = BERTH__SUPERVISOR__V1__LOG_CONFIG__INIT;
    cleanup_pb Berth__Supervisor__V1__CreateTaskResponse *created = NULL;
    req.container_id = c->id;
    io.terminal = berth_json_member_bool(c->config, "Tty");
    io.open_stdin = berth_json_member_bool(c->config, "OpenStdin");
    req.io = &io;
    if (c->log_path && *c->log_path) {
        log.path = c->log_path;
        struct json_object *lc =
            berth_json_member(berth_json_member(c->host_config, "LogConfig"), "Config");
        log.max_size = eng_ctr_log_max_size(d, lc);
        log.max_files = eng_ctr_log_max_files(d, lc);
    } else {
        log.disabled = true;
    }
    req.log = &log;
    if (eng_sup_call(d->sup, TASKS, "Create", &req.base, &created, err) < 0)
        return -1;

    ctr_task_created(c, created->attach_socket ? created->attach_socket : "");

    Berth__Supervisor__V1__StartRequest start = BERTH__SUPERVISOR__V1__START_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__StartResponse *started = NULL;
    start.container_id = c->id;
    if (eng_sup_call(d->sup, TASKS, "Start", &start.base, &started, err) < 0) {
        struct berth_err e2 = BERTH_ERR_INIT;
        if (task_delete(d, c->id, &e2) < 0)
            berth_err_warn(&e2);
        return -1;
    }
    *pid = (int)started->pid;
    return 0;
}

int
task_kill(struct eng_daemon *d, struct eng_ctr *c, int sig, bool all, struct berth_err *err)
{
    Berth__Supervisor__V1__KillRequest req = BERTH__SUPERVISOR__V1__KILL_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__KillResponse *resp = NULL;
    req.container_id = c->id;
    req.signal = (uint32_t)(sig ? sig : SIGKILL);
    req.all = all;
    return eng_sup_call(d->sup, TASKS, "Kill", &req.base, &resp, err);
}

int
task_delete(struct eng_daemon *d, const char *id, struct berth_err *err)
{
    Berth__Supervisor__V1__DeleteTaskRequest req = BERTH__SUPERVISOR__V1__DELETE_TASK_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__DeleteResponse *resp = NULL;
    req.container_id = (char *)id;
    if (call_gone_ok(d, TASKS, "Delete", &req.base, &resp, err) == 0)
        return 0;
    /* Two deletes at once (the monitor's after an exit, a remove's): the loser finds the shim
     * leaving. What counts is that the task is gone. */
    int status, pid, code;
    int64_t exited;
    struct berth_err e2 = BERTH_ERR_INIT;
    if (task_get(d, id, &status, &pid, &code, &exited, &e2) == 0) {
        berth_err_clear(err);
        return 0;
    }
    berth_err_clear(&e2);
    return -1;
}

int
task_pause(struct eng_daemon *d, struct eng_ctr *c, bool pause, struct berth_err *err)
{
    if (pause) {
        Berth__Supervisor__V1__PauseTaskRequest req =
            BERTH__SUPERVISOR__V1__PAUSE_TASK_REQUEST__INIT;
        cleanup_pb Berth__Supervisor__V1__PauseTaskResponse *resp = NULL;
        req.container_id = c->id;
        return eng_sup_call(d->sup, TASKS, "Pause", &req.base, &resp, err);
    }
    Berth__Supervisor__V1__ResumeTaskRequest req = BERTH__SUPERVISOR__V1__RESUME_TASK_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__ResumeTaskResponse *resp = NULL;
    req.container_id = c->id;
    return eng_sup_call(d->sup, TASKS, "Resume", &req.base, &resp, err);
}

int
task_get(struct eng_daemon *d, const char *id, int *status, int *pid, int *exit_status,
         int64_t *exited_ns, struct berth_err *err)
{
    Berth__Supervisor__V1__GetRequest req = BERTH__SUPERVISOR__V1__GET_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__GetResponse *resp = NULL;
    req.container_id = (char *)id;
    if (eng_sup_call(d->sup, TASKS, "Get", &req.base, &resp, err) < 0) {
        if (err->code != ENOENT)
            return -1;
        berth_err_clear(err);
        return 0;
    }
    const Berth__Supervisor__V1__Process *p = resp->process;
    if (!p)
        return 0;
    *status = (int)p->status;
    *pid = (int)p->pid;
    *exit_status = (int)p->exit_status;
    *exited_ns = p->exited_at;
    return 1;
}

int
sup_container_remove(struct eng_daemon *d, const char *id, struct berth_err *err)
{
    Berth__Supervisor__V1__DeleteContainerRequest req =
        BERTH__SUPERVISOR__V1__DELETE_CONTAINER_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__DeleteContainerResponse *resp = NULL;
    req.id = (char *)id;
    if (call_gone_ok(d, CONTAINERS, "Delete", &req.base, &resp, err) < 0)
        return berth_err_wrap(err, "remove the supervisor's container");

    Berth__Supervisor__V1__RemoveSnapshotRequest rm =
        BERTH__SUPERVISOR__V1__REMOVE_SNAPSHOT_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__RemoveSnapshotResponse *removed = NULL;
    rm.key = (char *)id;
    if (call_gone_ok(d, SNAPSHOTS, "Remove", &rm.base, &removed, err) < 0)
        return berth_err_wrap(err, "remove the container's layer");
    return 0;
}
