/* SPDX-License-Identifier: Apache-2.0
 *
 * `berth-ctr containers` (c): create, ls, info, rm and label over the Containers service.
 */
#include "supervisor/ctr/ctr.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/supervisor/v1/containers.pb-c.h"
#include "berth/supervisor/v1/tasks.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "supervisor/ctr/client.h"
#include "supervisor/ctr/create.h"
#include "supervisor/ctr/output.h"
#include "supervisor/ctr/pbjson.h"

#define SVC   (&berth__supervisor__v1__containers__descriptor)
#define TASKS (&berth__supervisor__v1__tasks__descriptor)

static int
cmd_create(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    struct ctr_create_opts o = {0};
    int r = ctr_create_parse(false, argc, argv, &o, err);
    if (r == 0)
        r = ctr_create_container(g, &o, err);
    ctr_create_opts_free(&o);
    return r < 0 ? -1 : 0;
}

static int
cmd_ls(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"quiet", no_argument, NULL, 'q'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    Berth__Supervisor__V1__ListContainersRequest req =
        BERTH__SUPERVISOR__V1__LIST_CONTAINERS_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__ListContainersResponse *resp = NULL;
    enum ctr_format format = CTR_FORMAT_TABLE;
    bool quiet = false;
    int c;
    while ((c = getopt_long(argc, argv, "+qf:h", opts, NULL)) != -1) {
        switch (c) {
        case 'q': quiet = true; break;
        case 'f':
            if (ctr_format_parse(optarg, &format, err) < 0)
                return -1;
            break;
        case 'h':
            ctr_usage("containers ls", "[options] [FILTER...]",
                      "List containers. A filter is a comma-separated list of conditions\n"
                      "(field==value, field!=value, field~=regexp, or field alone) over id,\n"
                      "image, runtime.name, rootfs and labels.KEY; a container matching any\n"
                      "filter is listed.\n",
                      "   --quiet, -q                 print only the ids\n"
                      "   --format FORMAT, -f FORMAT  table or json (default: table)\n");
            return 0;
        default: return ctr_bad_option("containers ls", err);
        }
    }
    req.n_filters = (size_t)(argc - optind);
    req.filters = argv + optind;
    if (ctr_call(g, SVC, "List", &req.base, &resp, err) < 0)
        return -1;
    if (format == CTR_FORMAT_JSON) {
        cleanup_json struct json_object *a = json_object_new_array();
        for (size_t i = 0; i < resp->n_containers; i++)
            json_object_array_add(a, ctr_pbjson(&resp->containers[i]->base, 0));
        ctr_print_json(a);
        return 0;
    }
    if (quiet) {
        for (size_t i = 0; i < resp->n_containers; i++)
            puts(resp->containers[i]->id);
        return 0;
    }
    cleanup_table struct ctr_table *t = ctr_table_new(3, "CONTAINER", "IMAGE", "RUNTIME");
    for (size_t i = 0; i < resp->n_containers; i++) {
        Berth__Supervisor__V1__Container *ctr = resp->containers[i];
        const char *runtime = ctr->runtime && ctr->runtime->name && *ctr->runtime->name
                                  ? ctr->runtime->name
                                  : CTR_DEFAULT_RUNTIME;
        ctr_table_add(t, ctr->id, ctr->image && *ctr->image ? ctr->image : "-", runtime);
    }
    ctr_table_print(t, stdout);
    return 0;
}

static int
cmd_info(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"spec", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    Berth__Supervisor__V1__GetContainerRequest req =
        BERTH__SUPERVISOR__V1__GET_CONTAINER_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__GetContainerResponse *resp = NULL;
    bool spec_only = false;
    int c;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case 's': spec_only = true; break;
        case 'h':
            ctr_usage("containers info", "[options] ID",
                      "Print a container as JSON, its spec included and its times as RFC 3339.\n",
                      "   --spec    print only the OCI spec\n");
            return 0;
        default: return ctr_bad_option("containers info", err);
        }
    }
    req.id = (char *)ctr_one_arg("containers info", "container id", argc, argv, err);
    if (!req.id)
        return -1;
    if (ctr_call(g, SVC, "Get", &req.base, &resp, err) < 0)
        return -1;
    if (!resp->container)
        return berth_err_fail(err, EPROTO, "the supervisor returned no container");
    cleanup_json struct json_object *j = ctr_pbjson(&resp->container->base, CTR_PBJSON_TIMES);
    struct json_object *spec = NULL;
    if (spec_only && !json_object_object_get_ex(j, "spec", &spec))
        return berth_err_fail(err, ENOENT, "container `%s` has no spec", req.id);
    ctr_print_json(spec_only ? spec : j);
    return 0;
}

/* Delete one container and its snapshot; a task it still has is deleted first when it has
 * stopped (as ctr does), and is an error otherwise. */
static int
remove_container(struct ctr_global *g, char *id, struct berth_err *err)
{
    Berth__Supervisor__V1__GetRequest get = BERTH__SUPERVISOR__V1__GET_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__GetResponse *task = NULL;
    get.container_id = id;
    if (ctr_call(g, TASKS, "Get", &get.base, &task, err) < 0) {
        if (err->code != ENOENT)
            return -1;
        berth_err_clear(err);
    } else if (task->process) {
        Berth__Supervisor__V1__Status st = task->process->status;
        if (st != BERTH__SUPERVISOR__V1__STATUS__STOPPED &&
            st != BERTH__SUPERVISOR__V1__STATUS__CREATED) {
            const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
                &berth__supervisor__v1__status__descriptor, st);
            return berth_err_fail(err, EBUSY,
                                  "cannot delete container `%s`: its task is %s (kill it first, "
                                  "or use `tasks rm -f`)",
                                  id, v ? v->name : "UNKNOWN");
        }
        Berth__Supervisor__V1__DeleteTaskRequest del =
            BERTH__SUPERVISOR__V1__DELETE_TASK_REQUEST__INIT;
        cleanup_pb Berth__Supervisor__V1__DeleteResponse *deleted = NULL;
        del.container_id = id;
        if (ctr_call(g, TASKS, "Delete", &del.base, &deleted, err) < 0)
            return -1;
    }
    return ctr_delete_container(g, id, err);
}

static int
cmd_rm(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    int r = ctr_parse_no_options(
        "containers rm", "ID...",
        "Delete containers, and their tasks when these have stopped, and their\n"
        "snapshots.\n",
        argc, argv, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    if (optind >= argc)
        return berth_err_fail(err, EINVAL, "`containers rm` requires at least one container id");
    /* Go on after a failure: each is printed, and the exit status says one happened. */
    bool failed = false;
    for (int i = optind; i < argc; i++) {
        if (remove_container(g, argv[i], err) < 0) {
            ctr_report(err);
            failed = true;
        }
    }
    return failed ? 1 : 0;
}

static int
cmd_label(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    Berth__Supervisor__V1__Container ctr = BERTH__SUPERVISOR__V1__CONTAINER__INIT;
    Berth__Supervisor__V1__UpdateContainerRequest req =
        BERTH__SUPERVISOR__V1__UPDATE_CONTAINER_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__UpdateContainerResponse *resp = NULL;
    ProtobufCMessage **labels = NULL;
    size_t n_labels = 0;
    int r = ctr_parse_no_options(
        "containers label", "ID [KEY=VALUE...]",
        "Set labels of a container; KEY= (or KEY alone) removes one. Without any, print the\n"
        "container's labels.\n",
        argc, argv, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    if (optind >= argc)
        return berth_err_fail(err, EINVAL, "`containers label` requires a container id");
    int n_kv = argc - optind - 1;
    char **kv = argv + optind + 1;
    if (n_kv == 0) {
        Berth__Supervisor__V1__GetContainerRequest get =
            BERTH__SUPERVISOR__V1__GET_CONTAINER_REQUEST__INIT;
        cleanup_pb Berth__Supervisor__V1__GetContainerResponse *got = NULL;
        get.id = argv[optind];
        if (ctr_call(g, SVC, "Get", &get.base, &got, err) < 0)
            return -1;
        cleanup_free char *s = got->container
                                   ? ctr_map_join((ProtobufCMessage *const *)got->container->labels,
                                                  got->container->n_labels)
                                   : NULL;
        puts(s ? s : "");
        return 0;
    }
    if (ctr_map_from_args(&berth__supervisor__v1__container__labels_entry__descriptor, kv,
                          (size_t)n_kv, true, &labels, &n_labels, err) < 0)
        return -1;
    cleanup_strv char **mask = xzalloc(((size_t)n_kv + 1) * sizeof(char *));
    for (int i = 0; i < n_kv; i++)
        mask[i] = xasprintf("labels.%.*s", (int)strcspn(kv[i], "="), kv[i]);
    ctr.id = argv[optind];
    ctr.labels = (Berth__Supervisor__V1__Container__LabelsEntry **)labels;
    ctr.n_labels = n_labels;
    req.container = &ctr;
    req.update_mask = mask;
    req.n_update_mask = (size_t)n_kv;
    r = ctr_call(g, SVC, "Update", &req.base, &resp, err);
    ctr_map_free(labels, n_labels);
    return r < 0 ? -1 : 0;
}

static const struct ctr_cmd commands[] = {
    {"create", NULL, cmd_create, "create a container"},
    {"ls", "list", cmd_ls, "list containers"},
    {"info", NULL, cmd_info, "print a container as JSON"},
    {"rm", "remove delete del", cmd_rm, "delete containers"},
    {"label", NULL, cmd_label, "set and clear labels of a container"},
};

int
ctr_cmd_containers(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    return ctr_dispatch("containers", "Manage containers.", commands, ARRAY_SIZE(commands), g, argc,
                        argv, err);
}
