// SPDX-License-Identifier: Apache-2.0
//
// Snapshots: a thin adapter over supervisor/snapshot (the overlay snapshotter). The
// snapshotter keeps no namespaces; this service keeps them apart by handing it every key and
// parent as "<namespace>/<key>" and taking the prefix off the names it returns, so a client
// only ever sees its own namespace's snapshots, under the keys it chose. Namespace names
// cannot hold '/', so the prefix is unambiguous. Prepare and View create the namespace when
// it is missing, as creating a container does. Mutations publish an event after they commit.

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "berth/supervisor/v1/snapshots.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/filter.h"
#include "supervisor/daemon.h"
#include "supervisor/events/exchange.h"
#include "supervisor/runtime/tasks.h"
#include "supervisor/services/service.h"
#include "supervisor/snapshot/snapshot.h"
#include "supervisor/store/store.h"

typedef Berth__Supervisor__V1__SnapshotInfo info_t;
typedef Berth__Supervisor__V1__SnapshotInfo__LabelsEntry label_t;
typedef Berth__Supervisor__V1__Mount mount_t;

// Infos a List response carries at most.
#define LIST_BATCH 100

// The snapshotter a request names: empty or "overlayfs".
static int
check_snapshotter(const char *name, struct berth_err *err)
{
    if (name == NULL || *name == '\0' || strcmp(name, SUP_SNAPSHOTTER_OVERLAY) == 0)
        return 0;
    return berth_err_fail(err, EINVAL, "snapshotter `%s` not found (the only one is %s)", name,
                          SUP_SNAPSHOTTER_OVERLAY);
}

// "<ns>/<key>" (heap), or NULL with EINVAL for an empty key. what: "key", "parent", "name".
static char *
ns_key(const char *ns, const char *what, const char *key, struct berth_err *err)
{
    if (key == NULL || *key == '\0') {
        berth_err_fail(err, EINVAL, "snapshot %s is required", what);
        return NULL;
    }
    return xasprintf("%s/%s", ns, key);
}

// The namespace of a call and a valid snapshotter; NULL with err otherwise.
static const char *
call_ns(struct berth_rpc_call *call, const char *snapshotter, struct berth_err *err)
{
    const char *ns = sup_call_namespace(call, err);
    if (!ns || check_snapshotter(snapshotter, err) < 0)
        return NULL;
    return ns;
}

// A name the snapshotter returned, without its "<ns>/" prefix ("" stays "").
static char *
strip(const char *ns, char *name)
{
    size_t n = strlen(ns);
    if (name && strncmp(name, ns, n) == 0 && name[n] == '/')
        return name + n + 1;
    return name;
}

// Take the prefix off an info the service owns (the strings are moved down in place).
static void
strip_info(const char *ns, info_t *info)
{
    char *name = strip(ns, info->name);
    memmove(info->name, name, strlen(name) + 1);
    char *parent = strip(ns, info->parent);
    memmove(info->parent, parent, strlen(parent) + 1);
}

// Mount messages for a reply, taking the strings of m (the array is freed).
static mount_t **
mounts_to_pb(struct sup_mount *m, size_t n)
{
    mount_t **out = xzalloc((n + 1) * sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        out[i] = xmalloc(sizeof(*out[i]));
        berth__supervisor__v1__mount__init(out[i]);
        out[i]->type = m[i].type;
        out[i]->source = m[i].source;
        out[i]->options = m[i].options;
        out[i]->n_options = m[i].n_options;
    }
    free(m);
    return out;
}

// The snapshotter's messages name keys with their prefix ("prepare `default/a`: ..."): give
// the caller back its own key. Only quoted names start with "`<ns>/".
static void
unprefix_err(const char *ns, struct berth_err *err)
{
    if (!ns || !err->msg)
        return;
    cleanup_free char *pat = xasprintf("`%s/", ns);
    size_t n = strlen(pat);
    char *w = err->msg;
    for (const char *r = err->msg; *r;) {
        if (strncmp(r, pat, n) == 0) {
            *w++ = '`';
            r += n;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

// sup_reply (resp heap, freed) and sup_reply_static, with the caller's keys in errors.
static void
reply(struct berth_rpc_call *call, const char *ns, int rc, ProtobufCMessage *resp,
      struct berth_err *err)
{
    unprefix_err(ns, err);
    sup_reply(call, rc, resp, err);
}

static void
reply_static(struct berth_rpc_call *call, const char *ns, int rc, const ProtobufCMessage *resp,
             struct berth_err *err)
{
    unprefix_err(ns, err);
    sup_reply_static(call, rc, resp, err);
}

// Prepare and View create the namespace they act in, as Containers.Create does.
static int
ensure_namespace(struct sup_daemon *d, const char *ns, struct berth_err *err)
{
    int r = sup_store_namespace_exists(d->store, ns, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    Berth__Supervisor__V1__Namespace in = BERTH__SUPERVISOR__V1__NAMESPACE__INIT;
    Berth__Supervisor__V1__Namespace *out = NULL;
    in.name = (char *)ns;
    if (sup_store_namespace_create(d->store, &in, &out, err) < 0) {
        if (err->code != EEXIST)
            return -1;
        berth_err_clear(err); // made by another call meanwhile
        return 0;
    }
    protobuf_c_message_free_unpacked(&out->base, NULL);
    return 0;
}

// Prepare and View share their request layout and differ in the call they make.
static void
create(struct berth_rpc_call *call, struct sup_daemon *d, bool view, const char *snapshotter,
       const char *key, const char *parent, label_t **labels, size_t n_labels, mount_t ***mounts,
       size_t *n_mounts, ProtobufCMessage *resp)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *k = NULL;
    cleanup_free char *p = NULL;
    struct sup_mount *m = NULL;
    size_t n = 0;

    const char *ns = call_ns(call, snapshotter, &err);
    int rc = ns ? 0 : -1;
    if (rc == 0 && !(k = ns_key(ns, "key", key, &err)))
        rc = -1;
    if (rc == 0 && parent && *parent)
        p = xasprintf("%s/%s", ns, parent);
    if (rc == 0)
        rc = ensure_namespace(d, ns, &err);
    if (rc == 0)
        rc = view ? sup_snapshot_view(d->snapshots, k, p, labels, n_labels, &m, &n, &err)
                  : sup_snapshot_prepare(d->snapshots, k, p, labels, n_labels, &m, &n, &err);
    if (rc == 0) {
        *mounts = mounts_to_pb(m, n);
        *n_mounts = n;
        Berth__Supervisor__V1__SnapshotPrepare ev = BERTH__SUPERVISOR__V1__SNAPSHOT_PREPARE__INIT;
        ev.key = (char *)key;
        ev.parent = (char *)(parent ? parent : "");
        ev.snapshotter = SUP_SNAPSHOTTER_OVERLAY;
        sup_events_publish(d->events, ns, "/snapshot/prepare", &ev.base);
    }
    reply(call, ns, rc, resp, &err);
}

static void
s_prepare(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    const Berth__Supervisor__V1__PrepareSnapshotRequest *req = (const void *)msg;
    Berth__Supervisor__V1__PrepareSnapshotResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__prepare_snapshot_response__init(r);
    create(call, data, false, req->snapshotter, req->key, req->parent, (label_t **)req->labels,
           req->n_labels, &r->mounts, &r->n_mounts, &r->base);
}

static void
s_view(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    const Berth__Supervisor__V1__ViewSnapshotRequest *req = (const void *)msg;
    Berth__Supervisor__V1__ViewSnapshotResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__view_snapshot_response__init(r);
    create(call, data, true, req->snapshotter, req->key, req->parent, (label_t **)req->labels,
           req->n_labels, &r->mounts, &r->n_mounts, &r->base);
}

static void
s_mounts(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__SnapshotMountsRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = call_ns(call, req->snapshotter, &err);
    cleanup_free char *k = ns ? ns_key(ns, "key", req->key, &err) : NULL;
    if (!k)
        return sup_reply(call, -1, NULL, &err);
    Berth__Supervisor__V1__SnapshotMountsResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__snapshot_mounts_response__init(r);
    struct sup_mount *m = NULL;
    size_t n = 0;
    int rc = sup_snapshot_mounts(d->snapshots, k, &m, &n, &err);
    if (rc == 0) {
        r->mounts = mounts_to_pb(m, n);
        r->n_mounts = n;
    }
    reply(call, ns, rc, &r->base, &err);
}

static void
s_commit(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__CommitSnapshotRequest *req = (const void *)msg;
    Berth__Supervisor__V1__CommitSnapshotResponse r =
        BERTH__SUPERVISOR__V1__COMMIT_SNAPSHOT_RESPONSE__INIT;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = call_ns(call, req->snapshotter, &err);
    cleanup_free char *k = ns ? ns_key(ns, "key", req->key, &err) : NULL;
    cleanup_free char *name = k ? ns_key(ns, "name", req->name, &err) : NULL;
    if (!name)
        return sup_reply(call, -1, NULL, &err);
    int rc =
        sup_snapshot_commit(d->snapshots, name, k, (label_t **)req->labels, req->n_labels, &err);
    if (rc == 0) {
        Berth__Supervisor__V1__SnapshotCommit ev = BERTH__SUPERVISOR__V1__SNAPSHOT_COMMIT__INIT;
        ev.key = req->key;
        ev.name = req->name;
        ev.snapshotter = SUP_SNAPSHOTTER_OVERLAY;
        sup_events_publish(d->events, ns, "/snapshot/commit", &ev.base);
    }
    reply_static(call, ns, rc, &r.base, &err);
}

static void
s_remove(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__RemoveSnapshotRequest *req = (const void *)msg;
    Berth__Supervisor__V1__RemoveSnapshotResponse r =
        BERTH__SUPERVISOR__V1__REMOVE_SNAPSHOT_RESPONSE__INIT;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = call_ns(call, req->snapshotter, &err);
    cleanup_free char *k = ns ? ns_key(ns, "key", req->key, &err) : NULL;
    if (!k)
        return sup_reply(call, -1, NULL, &err);
    // Removing the directories under a live task's root would pull its files away: refused
    // until the task is deleted (which unmounts it).
    cleanup_free char *user = sup_tasks_snapshot_user(d->tasks, k);
    int rc = user ? berth_err_fail(&err, EBUSY,
                                   "snapshot `%s` is the root filesystem of task `%s` (delete "
                                   "the task first)",
                                   req->key, user)
                  : sup_snapshot_remove(d->snapshots, k, &err);
    if (rc == 0) {
        Berth__Supervisor__V1__SnapshotRemove ev = BERTH__SUPERVISOR__V1__SNAPSHOT_REMOVE__INIT;
        ev.key = req->key;
        ev.snapshotter = SUP_SNAPSHOTTER_OVERLAY;
        sup_events_publish(d->events, ns, "/snapshot/remove", &ev.base);
    }
    reply_static(call, ns, rc, &r.base, &err);
}

static void
s_stat(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__StatSnapshotRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = call_ns(call, req->snapshotter, &err);
    cleanup_free char *k = ns ? ns_key(ns, "key", req->key, &err) : NULL;
    if (!k)
        return sup_reply(call, -1, NULL, &err);
    Berth__Supervisor__V1__StatSnapshotResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__stat_snapshot_response__init(r);
    int rc = sup_snapshot_stat(d->snapshots, k, &r->info, &err);
    if (rc == 0)
        strip_info(ns, r->info);
    reply(call, ns, rc, &r->base, &err);
}

static void
s_update(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__UpdateSnapshotRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = call_ns(call, req->snapshotter, &err);
    if (ns && !req->info)
        berth_err_fail(&err, EINVAL, "snapshot info is required");
    cleanup_free char *k = ns && req->info ? ns_key(ns, "name", req->info->name, &err) : NULL;
    if (!k)
        return sup_reply(call, -1, NULL, &err);
    info_t in = *req->info;
    in.name = k;
    Berth__Supervisor__V1__UpdateSnapshotResponse *r = xmalloc(sizeof(*r));
    berth__supervisor__v1__update_snapshot_response__init(r);
    int rc = sup_snapshot_update(d->snapshots, &in, req->update_mask, req->n_update_mask, &r->info,
                                 &err);
    if (rc == 0)
        strip_info(ns, r->info);
    reply(call, ns, rc, &r->base, &err);
}

// List: the namespace's snapshots matching the filters, in batches of LIST_BATCH. A batch
// points into the list (it owns nothing); -1 when the client went away.
static int
send_batch(struct berth_rpc_call *call, info_t **batch, size_t n, struct berth_err *err)
{
    Berth__Supervisor__V1__ListSnapshotsResponse r =
        BERTH__SUPERVISOR__V1__LIST_SNAPSHOTS_RESPONSE__INIT;
    r.info = batch;
    r.n_info = n;
    if (n > 0 && berth_rpc_call_send(call, &r.base) < 0)
        return berth_err_fail(err, ECANCELED, "list snapshots: the client went away");
    return 0;
}

static void
s_list(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__ListSnapshotsRequest *req = (const void *)msg;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = call_ns(call, req->snapshotter, &err);
    if (!ns)
        return sup_reply(call, -1, NULL, &err);
    struct berth_filter *f =
        berth_filter_parse((const char *const *)req->filters, req->n_filters, &err);
    if (!f)
        return sup_reply(call, -1, NULL, &err);
    cleanup_free char *prefix = xasprintf("%s/", ns);
    info_t **all = NULL;
    size_t n = 0, kept = 0;
    int rc = sup_snapshot_list(d->snapshots, prefix, &all, &n, &err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        strip_info(ns, all[i]);
        if (!berth_filter_match(f, &all[i]->base, NULL))
            continue;
        // Matches move to the front; batches go out from there.
        info_t *t = all[kept];
        all[kept++] = all[i];
        all[i] = t;
        if (kept % LIST_BATCH == 0)
            rc = send_batch(call, all + kept - LIST_BATCH, LIST_BATCH, &err);
    }
    if (rc == 0)
        rc = send_batch(call, all + kept - kept % LIST_BATCH, kept % LIST_BATCH, &err);
    sup_snapshot_infos_free(all, n);
    berth_filter_free(f);
    if (rc < 0) {
        unprefix_err(ns, &err);
        berth_rpc_call_fail(call, &err);
    } else {
        berth_rpc_call_finish(call, 0, NULL);
    }
}

static void
s_usage(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    struct sup_daemon *d = data;
    const Berth__Supervisor__V1__SnapshotUsageRequest *req = (const void *)msg;
    Berth__Supervisor__V1__SnapshotUsageResponse r =
        BERTH__SUPERVISOR__V1__SNAPSHOT_USAGE_RESPONSE__INIT;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *ns = call_ns(call, req->snapshotter, &err);
    cleanup_free char *k = ns ? ns_key(ns, "key", req->key, &err) : NULL;
    if (!k)
        return sup_reply(call, -1, NULL, &err);
    struct sup_snapshot_usage u = {0, 0};
    int rc = sup_snapshot_usage(d->snapshots, k, &u, &err);
    r.size = u.size;
    r.inodes = u.inodes;
    reply_static(call, ns, rc, &r.base, &err);
}

static const struct berth_rpc_method methods[] = {
    {"Prepare", BERTH_RPC_UNARY, s_prepare}, {"View", BERTH_RPC_UNARY, s_view},
    {"Mounts", BERTH_RPC_UNARY, s_mounts},   {"Commit", BERTH_RPC_UNARY, s_commit},
    {"Remove", BERTH_RPC_UNARY, s_remove},   {"Stat", BERTH_RPC_UNARY, s_stat},
    {"Update", BERTH_RPC_UNARY, s_update},   {"List", BERTH_RPC_SERVER_STREAM, s_list},
    {"Usage", BERTH_RPC_UNARY, s_usage},
};

const struct sup_service sup_service_snapshots = {
    &berth__supervisor__v1__snapshots__descriptor,
    methods,
    sizeof(methods) / sizeof(methods[0]),
};
