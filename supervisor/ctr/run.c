/* SPDX-License-Identifier: Apache-2.0
 *
 * `berth-ctr run`: containers create, then the task's create and start (launch.h), as ctr
 * run. Attached, the task is deleted when it exits (and the container and its snapshot too
 * with --rm), and the exit status is the process's. A container this command made is
 * removed again (with its snapshot) when its task cannot start.
 */
#include "supervisor/ctr/ctr.h"

#include "berth/supervisor/v1/containers.pb-c.h"
#include "berth/supervisor/v1/tasks.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "supervisor/ctr/client.h"
#include "supervisor/ctr/create.h"
#include "supervisor/ctr/launch.h"

static int
delete_task(struct ctr_global *g, const char *id, struct berth_err *err)
{
    Berth__Supervisor__V1__DeleteTaskRequest req = BERTH__SUPERVISOR__V1__DELETE_TASK_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__DeleteResponse *resp = NULL;
    req.container_id = (char *)id;
    req.exec_id = "";
    return ctr_call(g, &berth__supervisor__v1__tasks__descriptor, "Delete", &req.base, &resp, err);
}

static int
run(struct ctr_global *g, const struct ctr_create_opts *o, struct berth_err *err)
{
    struct ctr_launch l = {.container_id = o->id,
                           .terminal = o->terminal,
                           .detach = o->detach,
                           .open_stdin = o->interactive};
    bool started;
    int status;
    if (ctr_create_container(g, o, err) < 0)
        return -1;
    if (ctr_launch(g, &l, &status, &started, err) < 0) {
        /* A task that never started is gone already; one that did is left as it is. */
        struct berth_err ignored = BERTH_ERR_INIT;
        if (!started && ctr_delete_container(g, o->id, &ignored) < 0)
            berth_err_warn(&ignored);
        return -1;
    }
    if (o->detach)
        return 0;
    if (delete_task(g, o->id, err) < 0)
        return -1;
    if (o->rm && ctr_delete_container(g, o->id, err) < 0)
        return -1;
    return status;
}

int
ctr_cmd_run(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    struct ctr_create_opts o = {0};
    int r = ctr_create_parse(true, argc, argv, &o, err);
    if (r == 0)
        r = run(g, &o, err);
    else if (r > 0)
        r = 0;
    ctr_create_opts_free(&o);
    return r;
}
