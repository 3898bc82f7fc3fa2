/* SPDX-License-Identifier: Apache-2.0
 *
 * `berth-ctr snapshots` (snapshot): ls, usage, info, prepare, view, mounts, commit and rm
 * over the Snapshots service, shaped like ctr's. Mounts print as mount(8) command lines, for a
 * person to run or a script to read.
 */
#include "supervisor/ctr/snapshots.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/supervisor/v1/snapshots.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/rpc.h"
#include "supervisor/ctr/client.h"
#include "supervisor/ctr/ctr.h"
#include "supervisor/ctr/output.h"
#include "supervisor/ctr/pbjson.h"

#define SVC (&berth__supervisor__v1__snapshots__descriptor)

typedef Berth__Supervisor__V1__SnapshotInfo info_t;

/* ---- Output --------------------------------------------------------------------------------- */

static const char *
kind_name(Berth__Supervisor__V1__SnapshotInfo__Kind kind)
{
    switch (kind) {
    case BERTH__SUPERVISOR__V1__SNAPSHOT_INFO__KIND__VIEW: return "View";
    case BERTH__SUPERVISOR__V1__SNAPSHOT_INFO__KIND__ACTIVE: return "Active";
    case BERTH__SUPERVISOR__V1__SNAPSHOT_INFO__KIND__COMMITTED: return "Committed";
    default: return "Unknown";
    }
}

/* 4096 as "4.0 KiB", as ctr prints usage. A heap string. */
static char *
binary_size(int64_t bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = (double)bytes;
    size_t u = 0;

    while (v >= 1024.0 && u + 1 < ARRAY_SIZE(units)) {
        v /= 1024.0;
        u++;
    }
    return u == 0 ? xasprintf("%lld B", (long long)bytes) : xasprintf("%.1f %s", v, units[u]);
}

/* "mount -t TYPE SOURCE TARGET -o OPT,OPT" for each mount, one a line. */
static void
print_mounts(const char *target, Berth__Supervisor__V1__Mount *const *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        printf("mount -t %s %s %s", m[i]->type, m[i]->source, target);
        for (size_t j = 0; j < m[i]->n_options; j++)
            printf("%s%s", j == 0 ? " -o " : ",", m[i]->options[j]);
        putchar('\n');
    }
}

static int
connect_error(struct ctr_global *g, struct berth_err *err)
{
    if (err->code == ECONNREFUSED)
        return berth_err_wrap(err, "connect to the supervisor at `%s`", g->address);
    return -1;
}

/* ---- ls ------------------------------------------------------------------------------------- */

/* Call fn for each snapshot matching filters, from the List stream. */
static int
each_snapshot(struct ctr_global *g, char **filters, size_t n_filters,
              void (*fn)(const info_t *info, void *data), void *data, struct berth_err *err)
{
    Berth__Supervisor__V1__ListSnapshotsRequest req =
        BERTH__SUPERVISOR__V1__LIST_SNAPSHOTS_REQUEST__INIT;
    req.filters = filters;
    req.n_filters = n_filters;
    struct berth_rpc_stream *s = ctr_stream(g, SVC, "List", &req.base, err);
    if (!s)
        return -1;
    int r;
    for (;;) {
        cleanup_pb Berth__Supervisor__V1__ListSnapshotsResponse *batch = NULL;
        r = berth_rpc_stream_next(s, (ProtobufCMessage **)&batch, err);
        if (r <= 0)
            break;
        for (size_t i = 0; i < batch->n_info; i++)
            fn(batch->info[i], data);
    }
    berth_rpc_stream_free(s);
    return r < 0 ? connect_error(g, err) : 0;
}

struct ls_state {
    struct ctr_table *table;
    bool quiet;
};

static void
ls_one(const info_t *info, void *data)
{
    struct ls_state *st = data;
    if (st->quiet)
        puts(info->name);
    else
        ctr_table_add(st->table, info->name, info->parent, kind_name(info->kind));
}

static int
cmd_ls(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cleanup_table struct ctr_table *t = ctr_table_new(3, "KEY", "PARENT", "KIND");
    struct ls_state st = {t, false};
    int c;
    while ((c = getopt_long(argc, argv, "+qh", opts, NULL)) != -1) {
        switch (c) {
        case 'q': st.quiet = true; break;
        case 'h':
            ctr_usage("snapshots ls", "[options] [FILTER...]",
                      "List snapshots: KEY PARENT KIND. A filter is a comma-separated list of\n"
                      "conditions (field==value, field!=value, field~=regexp, or field alone)\n"
                      "over name, parent, kind (VIEW, ACTIVE, COMMITTED) and labels.KEY; a\n"
                      "snapshot matching any filter is listed.\n",
                      "   --quiet, -q    print only the keys\n");
            return 0;
        default: return ctr_bad_option("snapshots ls", err);
        }
    }
    if (each_snapshot(g, argv + optind, (size_t)(argc - optind), ls_one, &st, err) < 0)
        return -1;
    if (!st.quiet)
        ctr_table_print(t, stdout);
    return 0;
}

/* ---- usage ---------------------------------------------------------------------------------- */

static int
usage_row(struct ctr_global *g, struct ctr_table *t, const char *key, struct berth_err *err)
{
    Berth__Supervisor__V1__SnapshotUsageRequest req =
        BERTH__SUPERVISOR__V1__SNAPSHOT_USAGE_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__SnapshotUsageResponse *resp = NULL;
    req.key = (char *)key;
    if (ctr_call(g, SVC, "Usage", &req.base, &resp, err) < 0)
        return -1;
    cleanup_free char *size = binary_size(resp->size);
    cleanup_free char *inodes = xasprintf("%lld", (long long)resp->inodes);
    ctr_table_add(t, key, size, inodes);
    return 0;
}

static void
collect_key(const info_t *info, void *data)
{
    char ***keys = data;
    size_t n = 0;
    while (*keys && (*keys)[n])
        n++;
    *keys = xrealloc(*keys, (n + 2) * sizeof(char *));
    (*keys)[n] = xstrdup(info->name);
    (*keys)[n + 1] = NULL;
}

static int
cmd_usage(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    int r = ctr_parse_no_options("snapshots usage", "[KEY...]",
                                 "Print the disk use of snapshots (all without KEY): KEY SIZE\n"
                                 "INODES. A snapshot's own content counts, not its parents'.\n",
                                 argc, argv, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    cleanup_strv char **keys = NULL;
    if (optind == argc) {
        if (each_snapshot(g, NULL, 0, collect_key, &keys, err) < 0)
            return -1;
    } else {
        for (int i = optind; i < argc; i++) {
            Berth__Supervisor__V1__SnapshotInfo in = BERTH__SUPERVISOR__V1__SNAPSHOT_INFO__INIT;
            in.name = argv[i];
            collect_key(&in, &keys);
        }
    }
    cleanup_table struct ctr_table *t = ctr_table_new(3, "KEY", "SIZE", "INODES");
    bool failed = false;
    for (char **k = keys; k && *k; k++) {
        if (usage_row(g, t, *k, err) < 0) {
            /* A snapshot removed since the listing is no error; anything else is shown. */
            if (err->code == ENOENT && optind == argc) {
                berth_err_clear(err);
                continue;
            }
            if (err->code == ECONNREFUSED)
                return connect_error(g, err);
            ctr_report(err);
            failed = true;
        }
    }
    ctr_table_print(t, stdout);
    return failed ? 1 : 0;
}

/* ---- info ----------------------------------------------------------------------------------- */

static int
cmd_info(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    int r =
        ctr_parse_no_options("snapshots info", "KEY",
                             "Print a snapshot as JSON, its times as RFC 3339.\n", argc, argv, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    Berth__Supervisor__V1__StatSnapshotRequest req =
        BERTH__SUPERVISOR__V1__STAT_SNAPSHOT_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__StatSnapshotResponse *resp = NULL;
    req.key = (char *)ctr_one_arg("snapshots info", "snapshot key", argc, argv, err);
    if (!req.key || ctr_call(g, SVC, "Stat", &req.base, &resp, err) < 0)
        return -1;
    if (!resp->info)
        return berth_err_fail(err, EPROTO, "the supervisor returned no snapshot");
    cleanup_json struct json_object *j = ctr_pbjson(&resp->info->base, CTR_PBJSON_TIMES);
    ctr_print_json(j);
    return 0;
}

/* ---- prepare, view, mounts, commit, rm ------------------------------------------------------ */

/* prepare and view: KEY [PARENT], and --target to print the mounts. */
static int
create(struct ctr_global *g, bool view, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"target", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = view ? "snapshots view" : "snapshots prepare";
    const char *target = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "+t:h", opts, NULL)) != -1) {
        switch (c) {
        case 't': target = optarg; break;
        case 'h':
            ctr_usage(cmd, "[options] KEY [PARENT]",
                      view ? "Make a read-only view of the committed snapshot PARENT.\n"
                           : "Make an active (writable) snapshot on top of the committed\n"
                             "snapshot PARENT, or an empty one.\n",
                      "   --target DIR, -t DIR    print the mount commands for DIR\n");
            return 0;
        default: return ctr_bad_option(cmd, err);
        }
    }
    int n = argc - optind;
    if (n < 1 || n > 2)
        return berth_err_fail(err, EINVAL, "`%s` requires a key and at most one parent", cmd);
    char *key = argv[optind], *parent = n == 2 ? argv[optind + 1] : "";
    Berth__Supervisor__V1__Mount **mounts = NULL;
    size_t n_mounts = 0;
    cleanup_pb ProtobufCMessage *resp = NULL;
    if (view) {
        Berth__Supervisor__V1__ViewSnapshotRequest req =
            BERTH__SUPERVISOR__V1__VIEW_SNAPSHOT_REQUEST__INIT;
        req.key = key;
        req.parent = parent;
        if (ctr_call(g, SVC, "View", &req.base, &resp, err) < 0)
            return -1;
        mounts = ((Berth__Supervisor__V1__ViewSnapshotResponse *)resp)->mounts;
        n_mounts = ((Berth__Supervisor__V1__ViewSnapshotResponse *)resp)->n_mounts;
    } else {
        Berth__Supervisor__V1__PrepareSnapshotRequest req =
            BERTH__SUPERVISOR__V1__PREPARE_SNAPSHOT_REQUEST__INIT;
        req.key = key;
        req.parent = parent;
        if (ctr_call(g, SVC, "Prepare", &req.base, &resp, err) < 0)
            return -1;
        mounts = ((Berth__Supervisor__V1__PrepareSnapshotResponse *)resp)->mounts;
        n_mounts = ((Berth__Supervisor__V1__PrepareSnapshotResponse *)resp)->n_mounts;
    }
    if (target)
        print_mounts(target, mounts, n_mounts);
    return 0;
}

static int
cmd_prepare(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    return create(g, false, argc, argv, err);
}

static int
cmd_view(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    return create(g, true, argc, argv, err);
}

static int
cmd_mounts(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    int r = ctr_parse_no_options("snapshots mounts", "TARGET KEY",
                                 "Print the mount commands that show snapshot KEY at TARGET.\n",
                                 argc, argv, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    if (argc - optind != 2)
        return berth_err_fail(err, EINVAL, "`snapshots mounts` requires a target and a key");
    Berth__Supervisor__V1__SnapshotMountsRequest req =
        BERTH__SUPERVISOR__V1__SNAPSHOT_MOUNTS_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__SnapshotMountsResponse *resp = NULL;
    req.key = argv[optind + 1];
    if (ctr_call(g, SVC, "Mounts", &req.base, &resp, err) < 0)
        return -1;
    print_mounts(argv[optind], resp->mounts, resp->n_mounts);
    return 0;
}

static int
cmd_commit(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    int r = ctr_parse_no_options("snapshots commit", "NAME KEY",
                                 "Commit the active snapshot KEY as NAME.\n", argc, argv, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    if (argc - optind != 2)
        return berth_err_fail(err, EINVAL, "`snapshots commit` requires a name and a key");
    Berth__Supervisor__V1__CommitSnapshotRequest req =
        BERTH__SUPERVISOR__V1__COMMIT_SNAPSHOT_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__CommitSnapshotResponse *resp = NULL;
    req.name = argv[optind];
    req.key = argv[optind + 1];
    return ctr_call(g, SVC, "Commit", &req.base, &resp, err) < 0 ? -1 : 0;
}

static int
cmd_rm(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    int r = ctr_parse_no_options("snapshots rm", "KEY...",
                                 "Remove snapshots. A snapshot that is the parent of others is\n"
                                 "refused until they are gone.\n",
                                 argc, argv, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    if (optind >= argc)
        return berth_err_fail(err, EINVAL, "`snapshots rm` requires at least one key");
    bool failed = false;
    for (int i = optind; i < argc; i++) {
        Berth__Supervisor__V1__RemoveSnapshotRequest req =
            BERTH__SUPERVISOR__V1__REMOVE_SNAPSHOT_REQUEST__INIT;
        cleanup_pb Berth__Supervisor__V1__RemoveSnapshotResponse *resp = NULL;
        req.key = argv[i];
        if (ctr_call(g, SVC, "Remove", &req.base, &resp, err) < 0) {
            ctr_report(err);
            failed = true;
        }
    }
    return failed ? 1 : 0;
}

static const struct ctr_cmd commands[] = {
    {"ls", "list", cmd_ls, "list snapshots"},
    {"usage", NULL, cmd_usage, "print the disk use of snapshots"},
    {"info", NULL, cmd_info, "print a snapshot as JSON"},
    {"prepare", NULL, cmd_prepare, "make an active snapshot"},
    {"view", NULL, cmd_view, "make a read-only view of a snapshot"},
    {"mounts", "m mount", cmd_mounts, "print the mounts of a snapshot"},
    {"commit", NULL, cmd_commit, "commit an active snapshot"},
    {"rm", "remove delete del", cmd_rm, "remove snapshots"},
};

int
ctr_cmd_snapshots(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    return ctr_dispatch("snapshots", "Manage snapshots (overlayfs).", commands,
                        ARRAY_SIZE(commands), g, argc, argv, err);
}
