/* SPDX-License-Identifier: Apache-2.0
 *
 * The garbage collector (images.h, sup_images_gc): mark and sweep over the content store and
 * the snapshotter, under the lease lock (lease.h says why that makes it safe).
 *
 * Mark, for every namespace:
 *   - each image's target, and through stored documents: index -> manifests -> config and
 *     layers; for a manifest whose config is stored, the snapshots "<ns>/<chain id>" of each
 *     of its layer stacks (whether or not they exist);
 *   - each container's snapshot "<ns>/<snapshot_key>";
 * plus every leased blob, ingest and snapshot, and every snapshot the image code did not make
 * (a key of the Snapshots service that is neither "<ns>/sha256:..." nor "<ns>/extract-..."
 * is someone's own and never collected). The parents of a kept snapshot are kept.
 *
 * Sweep: unmarked blobs; ingests no lease holds that have seen no write for
 * ABANDONED_INGEST_NS (a pull killed with kill -9 resumes from them meanwhile); unmarked
 * snapshots, children before parents.
 *
 * One collection runs at a time: a synchronous one (GarbageCollect, Delete with sync) waits
 * for a background one, which sup_images_gc_schedule asks a thread of its own to run.
 */
#include "supervisor/images/images.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "supervisor/content/content.h"
#include "supervisor/daemon.h"
#include "supervisor/images/lease.h"
#include "supervisor/remote/manifest.h"
#include "supervisor/snapshot/snapshot.h"
#include "supervisor/store/store.h"

#define ABANDONED_INGEST_NS (6 * 3600 * 1000000000LL)

typedef Berth__Supervisor__V1__SnapshotInfo SnapshotInfo;

struct sup_images_state {
    pthread_mutex_t run; /* one collection at a time */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    bool started, pending, stop;
    struct sup_daemon *d;
};

/* ---- A set of strings --------------------------------------------------------------------- */

struct strset {
    char **v;
    size_t n;
    bool sorted;
};

static void
set_add(struct strset *s, const char *str)
{
    s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
    s->v[s->n++] = xstrdup(str);
    s->sorted = false;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
set_has(struct strset *s, const char *str)
{
    if (s->n == 0)
        return false; /* v is NULL then, which qsort and bsearch must not get */
    if (s->n == 0)
        return false;
    if (!s->sorted) {
        qsort(s->v, s->n, sizeof(*s->v), cmp_str);
        s->sorted = true;
    }
    return bsearch(&str, s->v, s->n, sizeof(*s->v), cmp_str) != NULL;
}

static void
set_free(struct strset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

/* ---- Mark --------------------------------------------------------------------------------- */

struct mark {
    struct sup_daemon *d;
    struct strset blobs, snapshots;
};

/* The chain snapshots of a manifest whose config is stored. */
static void
mark_chains(struct mark *mk, const char *ns, const struct sup_remote_manifest *m)
{
    cleanup_free char *buf = NULL;
    size_t len = 0;
    cleanup_config struct sup_remote_config *c = NULL;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    char chain[SUP_IMAGES_DIGEST_MAX];

    if (sup_content_read_all(mk->d->content, m->config.digest, SUP_REMOTE_MAX_CONFIG_SIZE, &buf,
                             &len, &err) < 0 ||
        sup_remote_config_parse(buf, len, &c, &err) < 0)
        return; /* no config, no snapshots to name */
    for (size_t i = 0; i < c->n_diff_ids; i++) {
        sup_images_chain_id(c->diff_ids, i + 1, chain);
        cleanup_free char *key = sup_images_snapshot_key(ns, chain);
        set_add(&mk->snapshots, key);
    }
}

static void
mark_blob(struct mark *mk, const char *ns, const char *digest, const char *media_type, int depth)
{
    cleanup_free char *buf = NULL;
    size_t len = 0;
    cleanup_manifest struct sup_remote_manifest *m = NULL;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;

    if (set_has(&mk->blobs, digest))
        return;
    set_add(&mk->blobs, digest);
    /* Only documents refer to others; a nested index deeper than this is not an image. */
    if (depth > 4 ||
        !(sup_remote_is_index_type(media_type) || sup_remote_is_manifest_type(media_type)))
        return;
    if (sup_content_read_all(mk->d->content, digest, SUP_REMOTE_MAX_MANIFEST_SIZE, &buf, &len,
                             &err) < 0 ||
        sup_remote_manifest_parse(buf, len, media_type, &m, &err) < 0)
        return; /* not stored (a pull skipped it) or not ours to read */
    if (m->kind == SUP_REMOTE_KIND_INDEX) {
        for (size_t i = 0; i < m->n_manifests; i++)
            mark_blob(mk, ns, m->manifests[i].digest, m->manifests[i].media_type, depth + 1);
        return;
    }
    set_add(&mk->blobs, m->config.digest);
    for (size_t i = 0; i < m->n_layers; i++)
        set_add(&mk->blobs, m->layers[i].digest);
    mark_chains(mk, ns, m);
}

static int
mark_namespace(struct mark *mk, const char *ns, struct berth_err *err)
{
    SupImage **images = NULL;
    size_t n = 0;
    Berth__Supervisor__V1__Container **cs = NULL;
    size_t n_cs = 0;

    if (sup_store_image_list(mk->d->store, ns, &images, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        mark_blob(mk, ns, images[i]->target->digest, images[i]->target->media_type, 0);
    sup_store_image_list_free(images, n);
    if (sup_store_container_list(mk->d->store, ns, &cs, &n_cs, err) < 0)
        return -1;
    for (size_t i = 0; i < n_cs; i++) {
        if (cs[i]->snapshot_key && *cs[i]->snapshot_key) {
            cleanup_free char *key = xasprintf("%s/%s", ns, cs[i]->snapshot_key);
            set_add(&mk->snapshots, key);
        }
        protobuf_c_message_free_unpacked(&cs[i]->base, NULL);
    }
    free(cs);
    return 0;
}

static int
mark_all(struct mark *mk, struct berth_err *err)
{
    Berth__Supervisor__V1__Namespace **nss = NULL;
    size_t n = 0;
    int rc = 0;

    if (sup_store_namespace_list(mk->d->store, &nss, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (rc == 0)
            rc = mark_namespace(mk, nss[i]->name, err);
        protobuf_c_message_free_unpacked(&nss[i]->base, NULL);
    }
    free(nss);
    return rc;
}

/* ---- Sweep -------------------------------------------------------------------------------- */

static int
sweep_blobs(struct mark *mk, struct sup_images_gc_stats *stats, struct berth_err *err)
{
    Berth__Supervisor__V1__Info **list = NULL;
    size_t n = 0;

    if (sup_content_list(mk->d->content, NULL, 0, &list, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *dg = list[i]->digest;
        if (set_has(&mk->blobs, dg) || sup_leases_has(mk->d->leases, SUP_LEASE_CONTENT, dg))
            continue;
        cleanup_err struct berth_err e = BERTH_ERR_INIT;
        if (sup_content_delete(mk->d->content, dg, &e) < 0) {
            berth_err_warn(&e);
            continue;
        }
        berth_debug("gc: removed blob %s", dg);
        stats->blobs_removed++;
        stats->bytes_freed += list[i]->size;
    }
    sup_content_info_list_free(list, n);
    return 0;
}

static int
sweep_ingests(struct mark *mk, struct sup_images_gc_stats *stats, struct berth_err *err)
{
    Berth__Supervisor__V1__IngestStatus **list = NULL;
    size_t n = 0;
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    if (sup_content_list_statuses(mk->d->content, NULL, 0, &list, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int64_t last =
            list[i]->updated_at > list[i]->started_at ? list[i]->updated_at : list[i]->started_at;
        if (now - last < ABANDONED_INGEST_NS ||
            sup_leases_has(mk->d->leases, SUP_LEASE_INGEST, list[i]->ref))
            continue;
        cleanup_err struct berth_err e = BERTH_ERR_INIT;
        if (sup_content_abort(mk->d->content, list[i]->ref, &e) < 0) {
            if (e.code != EBUSY && e.code != ENOENT) /* written to or gone meanwhile */
                berth_err_warn(&e);
            continue;
        }
        berth_debug("gc: removed abandoned ingest %s", list[i]->ref);
        stats->bytes_freed += list[i]->offset;
    }
    sup_content_status_list_free(list, n);
    return 0;
}

/* Whether the image code made snapshot key "<ns>/sha256:..." or "<ns>/extract-...". */
static bool
is_image_snapshot(const char *key)
{
    const char *slash = strchr(key, '/');
    return slash &&
           (strncmp(slash + 1, "sha256:", 7) == 0 || strncmp(slash + 1, "extract-", 8) == 0);
}

static SnapshotInfo *
find_snapshot(SnapshotInfo **v, size_t n, const char *name)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(v[mid]->name, name);
        if (c == 0)
            return v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int
sweep_snapshots(struct mark *mk, struct sup_images_gc_stats *stats, struct berth_err *err)
{
    SnapshotInfo **v = NULL;
    size_t n = 0;
    struct strset keep = {0};

    /* Sorted by name (the snapshotter's order and strcmp's agree on bytes). */
    if (sup_snapshot_list(mk->d->snapshots, NULL, &v, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *k = v[i]->name;
        if (!is_image_snapshot(k) || set_has(&mk->snapshots, k) ||
            sup_leases_has(mk->d->leases, SUP_LEASE_SNAPSHOT, k)) {
            /* Kept, and so is its chain of parents. */
            for (SnapshotInfo *s = v[i]; s && !set_has(&keep, s->name);
                 s = s->parent && *s->parent ? find_snapshot(v, n, s->parent) : NULL)
                set_add(&keep, s->name);
        }
    }
    /* Children before parents: a pass removes what has no child left, until none goes. */
    bool *gone = xzalloc((n + 1) * sizeof(*gone));
    for (bool progress = true; progress;) {
        progress = false;
        for (size_t i = 0; i < n; i++) {
            if (gone[i] || set_has(&keep, v[i]->name))
                continue;
            cleanup_err struct berth_err e = BERTH_ERR_INIT;
            int64_t size = 0;
            struct sup_snapshot_usage u;
            if (sup_snapshot_usage(mk->d->snapshots, v[i]->name, &u, &e) == 0)
                size = u.size;
            berth_err_clear(&e);
            if (sup_snapshot_remove(mk->d->snapshots, v[i]->name, &e) < 0) {
                if (e.code != EBUSY)
                    berth_err_warn(&e);
                continue;
            }
            berth_debug("gc: removed snapshot %s", v[i]->name);
            gone[i] = true;
            progress = true;
            stats->snapshots_removed++;
            stats->bytes_freed += size;
        }
    }
    free(gone);
    set_free(&keep);
    sup_snapshot_infos_free(v, n);
    return 0;
}

/* ---- Collections -------------------------------------------------------------------------- */

static int
collect(struct sup_daemon *d, struct sup_images_gc_stats *stats, struct berth_err *err)
{
    struct mark mk = {.d = d};
    int rc;

    *stats = (struct sup_images_gc_stats){0};
    sup_leases_lock(d->leases);
    rc = mark_all(&mk, err);
    if (rc == 0)
        rc = sweep_snapshots(&mk, stats, err);
    if (rc == 0)
        rc = sweep_blobs(&mk, stats, err);
    if (rc == 0)
        rc = sweep_ingests(&mk, stats, err);
    sup_leases_unlock(d->leases);
    set_free(&mk.blobs);
    set_free(&mk.snapshots);
    if (rc == 0)
        berth_info("gc: removed %lld blobs and %lld snapshots, %lld bytes",
                   (long long)stats->blobs_removed, (long long)stats->snapshots_removed,
                   (long long)stats->bytes_freed);
    return rc < 0 ? berth_err_wrap(err, "collect garbage") : 0;
}

int
sup_images_gc(struct sup_daemon *d, struct sup_images_gc_stats *stats, struct berth_err *err)
{
    if (!d->images)
        return collect(d, stats, err);
    pthread_mutex_lock(&d->images->run);
    int rc = collect(d, stats, err);
    pthread_mutex_unlock(&d->images->run);
    return rc;
}

static void *
gc_thread(void *data)
{
    struct sup_images_state *s = data;

    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->pending && !s->stop)
            pthread_cond_wait(&s->cond, &s->lock);
        if (s->stop)
            break;
        s->pending = false;
        pthread_mutex_unlock(&s->lock);
        struct sup_images_gc_stats stats;
        cleanup_err struct berth_err err = BERTH_ERR_INIT;
        if (sup_images_gc(s->d, &stats, &err) < 0)
            berth_err_warn(&err);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

void
sup_images_gc_schedule(struct sup_daemon *d)
{
    struct sup_images_state *s = d->images;

    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->pending = true;
    if (!s->started && !s->stop) {
        s->d = d;
        s->started = pthread_create(&s->thread, NULL, gc_thread, s) == 0;
        if (!s->started)
            berth_warn("gc: cannot start the collector thread; collection skipped");
    }
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

struct sup_images_state *
sup_images_state_new(void)
{
    struct sup_images_state *s = xzalloc(sizeof(*s));

    pthread_mutex_init(&s->run, NULL);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    return s;
}

void
sup_images_state_free(struct sup_images_state *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    if (s->started)
        pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->run);
    free(s);
}
