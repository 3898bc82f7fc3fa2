// SPDX-License-Identifier: Apache-2.0
//
// Operations on a running container's cgroups: pause/resume (the freezer), the list of its
// processes, resource updates and events (stats and OOM notifications, events.c).

#include "ocirun/container.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/log.h"
#include "ocirun/linux/cgroup.h"
#include "ocirun/linux/resources.h"
#include "ocirun/ocirun.h"
#include "ocirun/state.h"

int
ocirun_container_pause(struct ocirun_global *g, const char *id, bool pause, struct berth_err *err)
{
    cleanup_state struct ocirun_state *st = ocirun_state_load(g->root, id, err);
    if (!st)
        return -1;
    enum ocirun_status s = ocirun_state_status(st);
    if (pause && s != OCIRUN_RUNNING && s != OCIRUN_CREATED)
        return berth_err_fail(err, EBUSY, "cannot pause container `%s`: it is %s", id,
                              ocirun_status_name(s));
    if (!pause && s != OCIRUN_PAUSED)
        return berth_err_fail(err, EBUSY, "cannot resume container `%s`: it is %s, not paused", id,
                              ocirun_status_name(s));
    berth_debug("%s id=%s", pause ? "pause" : "resume", id);
    if (ocirun_cgroup_freeze(st->cgroups, pause, err) < 0)
        return berth_err_wrap(err, "%s container `%s`", pause ? "pause" : "resume", id);
    return 0;
}

int
ocirun_container_pids(struct ocirun_global *g, const char *id, pid_t **pids, size_t *n,
                      struct berth_err *err)
{
    cleanup_state struct ocirun_state *st = ocirun_state_load(g->root, id, err);
    if (!st)
        return -1;
    enum ocirun_status s = ocirun_state_status(st);
    if (s == OCIRUN_STOPPED)
        return berth_err_fail(err, ESRCH, "container `%s` is not running", id);
    return ocirun_cgroup_pids(st->cgroups, pids, n, err);
}

/* Merge src into dst field by field (objects recursively), so the saved config keeps what an
 * update did not mention. */
static void
merge(struct json_object *dst, struct json_object *src)
{
    json_object_object_foreach(src, key, val)
    {
        struct json_object *cur = NULL;
        if (json_object_is_type(val, json_type_object) &&
            json_object_object_get_ex(dst, key, &cur) && json_object_is_type(cur, json_type_object))
            merge(cur, val);
        else
            json_object_object_add(dst, key, json_object_get(val));
    }
}

/* An update the kernel refused part of: write back the resources the container had (its saved
 * config holds every earlier update), so nothing stays half-applied. Best effort. */
static void
restore(const struct ocirun_state *st, struct json_object *doc)
{
    struct json_object *lx = NULL, *old = NULL;
    struct ocirun_resources r = {0};
    struct berth_err e = BERTH_ERR_INIT;
    if (!json_object_object_get_ex(doc, "linux", &lx) ||
        !json_object_object_get_ex(lx, "resources", &old))
        return;
    if (ocirun_resources_parse(old, &r, &e) == 0 && ocirun_cgroup_apply(st->cgroups, &r, &e) < 0)
        berth_err_wrap(&e, "restore the previous resources");
    if (e.msg)
        berth_err_warn(&e);
    ocirun_resources_free(&r);
}

int
ocirun_container_update(struct ocirun_global *g, const char *id, struct json_object *res,
                        struct berth_err *err)
{
    cleanup_json struct json_object *owned = res;
    cleanup_state struct ocirun_state *st = ocirun_state_load(g->root, id, err);
    if (!st)
        return -1;
    enum ocirun_status s = ocirun_state_status(st);
    if (s == OCIRUN_STOPPED || s == OCIRUN_CREATING)
        return berth_err_fail(err, EBUSY, "cannot update container `%s`: it is %s", id,
                              ocirun_status_name(s));
    cleanup_free char *path = xasprintf("%s/config.json", st->dir);
    cleanup_json struct json_object *doc = berth_json_parse_file(path, err);
    if (!doc)
        return berth_err_wrap(err, "update container `%s`: saved config", id);
    struct ocirun_resources r = {0};
    int rc = ocirun_resources_parse(res, &r, err);
    if (rc == 0 && (rc = ocirun_cgroup_apply(st->cgroups, &r, err)) < 0)
        restore(st, doc);
    ocirun_resources_free(&r);
    if (rc < 0)
        return berth_err_wrap(err, "update container `%s`", id);

    /* Keep the saved config in step, as runc keeps its state, for later updates and exec. */
    struct json_object *lx = NULL, *cur = NULL;
    if (!json_object_object_get_ex(doc, "linux", &lx)) {
        lx = json_object_new_object();
        json_object_object_add(doc, "linux", lx);
    }
    if (!json_object_object_get_ex(lx, "resources", &cur)) {
        cur = json_object_new_object();
        json_object_object_add(lx, "resources", cur);
    }
    merge(cur, res);
    return berth_json_write_file(path, doc, false, 0600, err);
}
