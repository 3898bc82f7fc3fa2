/* SPDX-License-Identifier: Apache-2.0
 *
 * `berth-ctr namespaces` (ns): ls, create, rm and label over the Namespaces service.
 */
#include "supervisor/ctr/ctr.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/supervisor/v1/namespaces.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "supervisor/ctr/client.h"
#include "supervisor/ctr/output.h"
#include "supervisor/ctr/pbjson.h"

#define SVC (&berth__supervisor__v1__namespaces__descriptor)

static int
cmd_ls(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"quiet", no_argument, NULL, 'q'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    Berth__Supervisor__V1__ListNamespacesRequest req =
        BERTH__SUPERVISOR__V1__LIST_NAMESPACES_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__ListNamespacesResponse *resp = NULL;
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
            ctr_usage("namespaces ls", "[options] [FILTER...]", "List namespaces.\n",
                      "   --quiet, -q                 print only the names\n"
                      "   --format FORMAT, -f FORMAT  table or json (default: table)\n");
            return 0;
        default: return ctr_bad_option("namespaces ls", err);
        }
    }
    req.n_filters = (size_t)(argc - optind);
    req.filters = argv + optind;
    if (ctr_call(g, SVC, "List", &req.base, &resp, err) < 0)
        return -1;
    if (format == CTR_FORMAT_JSON) {
        cleanup_json struct json_object *a = json_object_new_array();
        for (size_t i = 0; i < resp->n_namespaces; i++)
            json_object_array_add(a, ctr_pbjson(&resp->namespaces[i]->base, 0));
        ctr_print_json(a);
        return 0;
    }
    if (quiet) {
        for (size_t i = 0; i < resp->n_namespaces; i++)
            puts(resp->namespaces[i]->name);
        return 0;
    }
    cleanup_table struct ctr_table *t = ctr_table_new(2, "NAME", "LABELS");
    for (size_t i = 0; i < resp->n_namespaces; i++) {
        Berth__Supervisor__V1__Namespace *ns = resp->namespaces[i];
        cleanup_free char *labels =
            ctr_map_join((ProtobufCMessage *const *)ns->labels, ns->n_labels);
        ctr_table_add(t, ns->name, labels);
    }
    ctr_table_print(t, stdout);
    return 0;
}

static int
cmd_create(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    Berth__Supervisor__V1__Namespace ns = BERTH__SUPERVISOR__V1__NAMESPACE__INIT;
    Berth__Supervisor__V1__CreateNamespaceRequest req =
        BERTH__SUPERVISOR__V1__CREATE_NAMESPACE_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__CreateNamespaceResponse *resp = NULL;
    ProtobufCMessage **labels = NULL;
    size_t n_labels = 0;
    int r = ctr_parse_no_options("namespaces create", "NAME [KEY=VALUE...]",
                                 "Create a namespace, with labels.\n", argc, argv, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    if (optind >= argc)
        return berth_err_fail(err, EINVAL, "`namespaces create` requires a name");
    if (ctr_map_from_args(&berth__supervisor__v1__namespace__labels_entry__descriptor,
                          argv + optind + 1, (size_t)(argc - optind - 1), false, &labels, &n_labels,
                          err) < 0)
        return -1;
    ns.name = argv[optind];
    ns.labels = (Berth__Supervisor__V1__Namespace__LabelsEntry **)labels;
    ns.n_labels = n_labels;
    req.namespace_ = &ns;
    r = ctr_call(g, SVC, "Create", &req.base, &resp, err);
    ctr_map_free(labels, n_labels);
    return r < 0 ? -1 : 0;
}

static int
cmd_rm(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    int r = ctr_parse_no_options("namespaces rm", "NAME...",
                                 "Remove namespaces; a namespace must hold no containers.\n", argc,
                                 argv, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    if (optind >= argc)
        return berth_err_fail(err, EINVAL, "`namespaces rm` requires at least one name");
    /* Go on after a failure: each is printed, and the exit status says one happened. */
    bool failed = false;
    for (int i = optind; i < argc; i++) {
        Berth__Supervisor__V1__DeleteNamespaceRequest req =
            BERTH__SUPERVISOR__V1__DELETE_NAMESPACE_REQUEST__INIT;
        cleanup_pb Berth__Supervisor__V1__DeleteNamespaceResponse *resp = NULL;
        req.name = argv[i];
        if (ctr_call(g, SVC, "Delete", &req.base, &resp, err) < 0) {
            ctr_report(err);
            failed = true;
            continue;
        }
        puts(argv[i]);
    }
    return failed ? 1 : 0;
}

static int
cmd_label(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    Berth__Supervisor__V1__Namespace ns = BERTH__SUPERVISOR__V1__NAMESPACE__INIT;
    Berth__Supervisor__V1__UpdateNamespaceRequest req =
        BERTH__SUPERVISOR__V1__UPDATE_NAMESPACE_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__UpdateNamespaceResponse *resp = NULL;
    ProtobufCMessage **labels = NULL;
    size_t n_labels = 0;
    int r = ctr_parse_no_options(
        "namespaces label", "NAME [KEY=VALUE...]",
        "Set labels of a namespace; KEY= (or KEY alone) removes one. Without any, print the\n"
        "namespace's labels.\n",
        argc, argv, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    if (optind >= argc)
        return berth_err_fail(err, EINVAL, "`namespaces label` requires a name");
    int n_kv = argc - optind - 1;
    char **kv = argv + optind + 1;
    if (n_kv == 0) {
        Berth__Supervisor__V1__GetNamespaceRequest get =
            BERTH__SUPERVISOR__V1__GET_NAMESPACE_REQUEST__INIT;
        cleanup_pb Berth__Supervisor__V1__GetNamespaceResponse *got = NULL;
        get.name = argv[optind];
        if (ctr_call(g, SVC, "Get", &get.base, &got, err) < 0)
            return -1;
        cleanup_free char *s =
            got->namespace_ ? ctr_map_join((ProtobufCMessage *const *)got->namespace_->labels,
                                           got->namespace_->n_labels)
                            : NULL;
        puts(s ? s : "");
        return 0;
    }
    if (ctr_map_from_args(&berth__supervisor__v1__namespace__labels_entry__descriptor, kv,
                          (size_t)n_kv, true, &labels, &n_labels, err) < 0)
        return -1;
    cleanup_strv char **mask = xzalloc(((size_t)n_kv + 1) * sizeof(char *));
    for (int i = 0; i < n_kv; i++)
        mask[i] = xasprintf("labels.%.*s", (int)strcspn(kv[i], "="), kv[i]);
    ns.name = argv[optind];
    ns.labels = (Berth__Supervisor__V1__Namespace__LabelsEntry **)labels;
    ns.n_labels = n_labels;
    req.namespace_ = &ns;
    req.update_mask = mask;
    req.n_update_mask = (size_t)n_kv;
    r = ctr_call(g, SVC, "Update", &req.base, &resp, err);
    ctr_map_free(labels, n_labels);
    return r < 0 ? -1 : 0;
}

static const struct ctr_cmd commands[] = {
    {"create", "c", cmd_create, "create a namespace"},
    {"ls", "list", cmd_ls, "list namespaces"},
    {"rm", "remove delete del", cmd_rm, "remove namespaces"},
    {"label", NULL, cmd_label, "set and clear labels of a namespace"},
};

int
ctr_cmd_namespaces(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    return ctr_dispatch("namespaces", "Manage namespaces.", commands, ARRAY_SIZE(commands), g, argc,
                        argv, err);
}
