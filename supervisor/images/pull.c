/* SPDX-License-Identifier: Apache-2.0
 *
 * Pulls (images.h, sup_images_pull): a reference on a registry becomes blobs in the content
 * store, snapshots and an image record.
 *
 *   normalize -> resolve -> index (stored) -> platform's manifest(s) -> config (checked
 *   against the manifest) -> layers, in parallel -> unpack -> record -> release the lease
 *
 * Every blob goes through a content writer whose ref is fixed by its digest ("layer-sha256:
 * ..."), so a pull that dies (kill -9 of the supervisor, a cancelled call) leaves its bytes
 * in an ingest that the next pull of that blob resumes with a Range request: the bytes there
 * are hashed again before the download goes on. A blob already stored is reported "exists"
 * and not fetched. Verification is the registry client's (size and digest on the way in) and
 * the content store's (again at commit); a blob that fails it has its ingest aborted, so a
 * tampered or broken download is never resumed.
 *
 * Each blob is labelled with where it came from ("containerd.io/distribution.source.HOST" =
 * repository), which a push to the same registry uses to mount it rather than upload it.
 *
 * Progress items are kept in a table and sent to the caller's callback when they changed, at
 * most every PROGRESS_INTERVAL_NS, and once more at the end.
 */
#include "supervisor/images/images.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/error.h"
#include "common/log.h"
#include "supervisor/content/content.h"
#include "supervisor/daemon.h"
#include "supervisor/images/lease.h"
#include "supervisor/remote/remote.h"
#include "supervisor/store/store.h"

#define PROGRESS_INTERVAL_NS (100 * 1000 * 1000LL)
/* How often a pull waiting for another's download of the same blob looks again. */
#define BUSY_WAIT_US (100 * 1000)

typedef Berth__Supervisor__V1__Info__LabelsEntry InfoLabel;

struct item {
    SupProgress p; /* ref, digest, media_type, status: heap */
    bool changed;
};

struct pull {
    struct sup_daemon *d;
    const char *ns;
    const struct sup_images_pull_opts *o;
    struct sup_remote *r;
    struct sup_remote_ref ref;
    struct sup_lease *lease;
    InfoLabel source; /* the distribution source label, for every blob */
    InfoLabel *source_v[1];
    pthread_mutex_t lock; /* items: fetch callbacks may come from another thread */
    struct item *items;
    size_t n_items;
    int64_t last_flush;
};

static int64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool
is_cancelled(struct pull *p)
{
    return p->o->cancelled && p->o->cancelled(p->o->cancel_data);
}

/* ---- Progress ----------------------------------------------------------------------------- */

/* Send the changed items (all of them when force); the caller holds the lock. */
static void
flush_locked(struct pull *p, bool force)
{
    int64_t now = now_ns();
    size_t n = 0;

    if (!p->o->progress || (!force && now - p->last_flush < PROGRESS_INTERVAL_NS))
        return;
    SupProgress **v = xzalloc((p->n_items + 1) * sizeof(*v));
    for (size_t i = 0; i < p->n_items; i++)
        if (p->items[i].changed) {
            v[n++] = &p->items[i].p;
            p->items[i].changed = false;
        }
    if (n > 0)
        p->o->progress(p->o->progress_data, v, n);
    free(v);
    p->last_flush = now;
}

static void
flush(struct pull *p)
{
    pthread_mutex_lock(&p->lock);
    flush_locked(p, true);
    pthread_mutex_unlock(&p->lock);
}

/* Set the state of item ref (made on first use); offset/total < 0 keep theirs. */
static void
report(struct pull *p, const char *kind, const struct sup_remote_desc *desc, const char *status,
       int64_t offset)
{
    cleanup_free char *ref = xasprintf("%s-%s", kind, desc->digest);
    struct item *it = NULL;

    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < p->n_items && !it; i++)
        if (strcmp(p->items[i].p.ref, ref) == 0)
            it = &p->items[i];
    if (!it) {
        p->items = xrealloc(p->items, (p->n_items + 1) * sizeof(*p->items));
        it = &p->items[p->n_items++];
        berth__supervisor__v1__progress__init(&it->p);
        it->p.ref = steal_ptr(&ref);
        it->p.digest = xstrdup(desc->digest);
        it->p.media_type = xstrdup(desc->media_type);
        it->p.status = xstrdup("");
        it->p.total = desc->size;
    }
    /* A document read twice (the manifest a pull resolved to) stays "done". */
    if (status && strcmp(status, "exists") == 0 && strcmp(it->p.status, "done") == 0)
        status = NULL;
    if (status && strcmp(it->p.status, status) != 0) {
        free(it->p.status);
        it->p.status = xstrdup(status);
        it->changed = true;
    }
    if (offset >= 0 && offset != it->p.offset) {
        it->p.offset = offset;
        it->changed = true;
    }
    flush_locked(p, false);
    pthread_mutex_unlock(&p->lock);
}

static void
free_items(struct pull *p)
{
    for (size_t i = 0; i < p->n_items; i++) {
        free(p->items[i].p.ref);
        free(p->items[i].p.digest);
        free(p->items[i].p.media_type);
        free(p->items[i].p.status);
    }
    free(p->items);
}

/* ---- Storing blobs ------------------------------------------------------------------------ */

/* Give an already stored blob the source label too (best effort: it is only a hint). */
static void
label_existing(struct pull *p, const char *digest)
{
    Berth__Supervisor__V1__Info info = BERTH__SUPERVISOR__V1__INFO__INIT;
    cleanup_free char *path = xasprintf("labels.%s", p->source.key);
    char *mask[] = {path};
    cleanup_err struct berth_err err = BERTH_ERR_INIT;

    info.digest = (char *)digest;
    info.labels = p->source_v;
    info.n_labels = 1;
    if (sup_content_update(p->d->content, &info, mask, 1, NULL, &err) < 0)
        berth_debug("label %s: %s", digest, err.msg);
}

/* Open the writer of ref for desc, waiting while another pull holds it. 1: opened; 0: the
 * blob is stored already; -1: error. */
static int
open_writer(struct pull *p, const char *ref, const struct sup_remote_desc *desc,
            struct sup_content_writer **w, struct berth_err *err)
{
    sup_lease_add(p->lease, SUP_LEASE_CONTENT, desc->digest);
    sup_lease_add(p->lease, SUP_LEASE_INGEST, ref);
    for (;;) {
        if (sup_content_writer_open(p->d->content, ref, desc->digest, desc->size, w, err) == 0)
            return 1;
        if (err->code == EEXIST) {
            berth_err_clear(err);
            label_existing(p, desc->digest);
            return 0;
        }
        if (err->code != EBUSY)
            return -1;
        /* Another pull downloads it: wait for it to finish or give up. */
        berth_err_clear(err);
        if (is_cancelled(p))
            return berth_err_fail(err, ECANCELED, "pull cancelled");
        usleep(BUSY_WAIT_US);
    }
}

static int
commit_writer(struct pull *p, struct sup_content_writer *w, struct berth_err *err)
{
    if (sup_content_writer_commit(w, -1, NULL, p->source_v, 1, NULL, err) == 0)
        return 0;
    if (err->code != EEXIST)
        return -1;
    berth_err_clear(err);
    return 0;
}

/* Store a document fetched into memory (an index, a manifest, a config). */
static int
store_buf(struct pull *p, const char *kind, const struct sup_remote_desc *desc, const char *buf,
          size_t len, struct berth_err *err)
{
    cleanup_free char *ref = xasprintf("%s-%s", kind, desc->digest);
    cleanup_content_writer struct sup_content_writer *w = NULL;
    int r = open_writer(p, ref, desc, &w, err);

    if (r <= 0)
        return r;
    if (sup_content_writer_truncate(w, 0, err) < 0 ||
        sup_content_writer_write(w, buf, len, err) < 0 || commit_writer(p, w, err) < 0)
        return -1;
    return 0;
}

/* A document of desc: from the content store when there, else fetched and stored. */
static int
get_doc(struct pull *p, const char *kind, const struct sup_remote_desc *desc, size_t max,
        char **buf, size_t *len, struct berth_err *err)
{
    sup_lease_add(p->lease, SUP_LEASE_CONTENT, desc->digest);
    if (sup_content_exists(p->d->content, desc->digest)) {
        report(p, kind, desc, "exists", desc->size);
        label_existing(p, desc->digest);
        return sup_content_read_all(p->d->content, desc->digest, max, buf, len, err);
    }
    report(p, kind, desc, "downloading", 0);
    if (sup_remote_fetch_buf(p->r, &p->ref, desc, max, buf, len, err) < 0 ||
        store_buf(p, kind, desc, *buf, *len, err) < 0) {
        report(p, kind, desc, "failed", -1);
        free(steal_ptr(buf));
        return -1;
    }
    report(p, kind, desc, "done", desc->size);
    return 0;
}

/* ---- Layers ------------------------------------------------------------------------------- */

struct layer {
    struct pull *p;
    const struct sup_remote_desc *desc;
    char *ref;
    struct sup_content_writer *w;
    struct berth_sha256 *hash;
};

static int
layer_write(void *data, const void *buf, size_t len, struct berth_err *err)
{
    struct layer *l = data;

    if (is_cancelled(l->p))
        return berth_err_fail(err, ECANCELED, "pull cancelled");
    return sup_content_writer_write(l->w, buf, len, err);
}

static void
layer_progress(void *data, int64_t done, int64_t total)
{
    struct layer *l = data;

    (void)total;
    report(l->p, "layer", l->desc, "downloading", done);
}

/* Open l's writer and set up its fetch; 0 when the blob is stored already. */
static int
prepare_layer(struct layer *l, struct sup_remote_fetch *f, struct berth_err *err)
{
    int r = open_writer(l->p, l->ref, l->desc, &l->w, err);

    if (r <= 0)
        return r;
    int64_t off = sup_content_writer_offset(l->w);
    /* Complete but never committed (the writer died right before): the commit verifies it.
     * One that fails verification is discarded, and the download starts afresh. */
    if (off == l->desc->size) {
        if (commit_writer(l->p, l->w, err) == 0)
            return 0;
        if (err->code != EINVAL)
            return -1;
        berth_err_clear(err);
        sup_content_writer_close(steal_ptr(&l->w));
        if ((r = open_writer(l->p, l->ref, l->desc, &l->w, err)) <= 0)
            return r;
        off = sup_content_writer_offset(l->w);
    }
    /* Past the size: cannot be resumed, start over. */
    if (off >= l->desc->size) {
        off = 0;
        if (sup_content_writer_truncate(l->w, 0, err) < 0)
            return -1;
    }
    /* The registry client verifies the whole blob: it goes on from the hash of what is
     * there. */
    if (off > 0)
        l->hash = sup_content_writer_hash(l->w);
    if (off > 0)
        berth_debug("pull: resuming %s at %lld bytes", l->desc->digest, (long long)off);
    *f = (struct sup_remote_fetch){
        .desc = l->desc,
        .offset = off,
        .hash = off > 0 ? l->hash : NULL,
        .write = layer_write,
        .write_data = l,
        .progress = layer_progress,
        .progress_data = l,
    };
    report(l->p, "layer", l->desc, "waiting", off);
    return 1;
}

/* Drop what a failed fetch left when it cannot be trusted (it failed verification), so that
 * the next pull does not resume from it. */
static void
abandon_layer(struct layer *l, bool verify_failed)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;

    sup_content_writer_close(steal_ptr(&l->w));
    if (verify_failed && sup_content_abort(l->p->d->content, l->ref, &err) < 0)
        berth_err_warn(&err);
    report(l->p, "layer", l->desc, "failed", -1);
}

static int
fetch_layers(struct pull *p, const struct sup_remote_desc *const *layers, size_t n,
             struct berth_err *err)
{
    struct layer *ls = xzalloc((n + 1) * sizeof(*ls));
    struct sup_remote_fetch *f = xzalloc((n + 1) * sizeof(*f));
    struct layer **of = xzalloc((n + 1) * sizeof(*of));
    size_t k = 0;
    int rc = 0;

    for (size_t i = 0; i < n && rc == 0; i++) {
        ls[i] = (struct layer){.p = p, .desc = layers[i]};
        ls[i].ref = xasprintf("layer-%s", layers[i]->digest);
        int r = prepare_layer(&ls[i], &f[k], err);
        if (r < 0)
            rc = -1;
        else if (r == 0)
            report(p, "layer", layers[i], "exists", layers[i]->size);
        else
            of[k++] = &ls[i];
    }
    if (rc == 0 && k > 0 && sup_remote_fetch_all(p->r, &p->ref, f, k, err) < 0)
        rc = -1;
    bool bad = rc < 0 && err->code == EINVAL;
    for (size_t i = 0; i < k; i++) {
        struct layer *l = of[i];
        if (rc == 0) {
            report(p, "layer", l->desc, "verifying", l->desc->size);
            if (commit_writer(p, l->w, err) < 0) {
                rc = -1;
                bad = err->code == EINVAL;
                abandon_layer(l, bad);
                continue;
            }
            report(p, "layer", l->desc, "done", l->desc->size);
        } else if (!f[i].done) {
            abandon_layer(l, bad);
        }
    }
    for (size_t i = 0; i < n; i++) {
        sup_content_writer_close(ls[i].w);
        berth_sha256_free(ls[i].hash);
        free(ls[i].ref);
    }
    free(ls);
    free(f);
    free(of);
    return rc;
}

/* ---- Manifests ---------------------------------------------------------------------------- */

/* Layers to fetch, each digest once. */
struct layer_set {
    const struct sup_remote_desc **v;
    size_t n;
};

static void
add_layers(struct layer_set *s, const struct sup_remote_manifest *m)
{
    for (size_t i = 0; i < m->n_layers; i++) {
        bool seen = false;
        for (size_t j = 0; j < s->n && !seen; j++)
            seen = strcmp(s->v[j]->digest, m->layers[i].digest) == 0;
        if (seen)
            continue;
        s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
        s->v[s->n++] = &m->layers[i];
    }
}

/* Fetch manifest desc and its config, checked; *out is the manifest. */
static int
get_manifest(struct pull *p, const struct sup_remote_desc *desc,
             const struct sup_remote_platform *want, struct sup_remote_manifest **out,
             struct berth_err *err)
{
    cleanup_free char *buf = NULL;
    size_t len = 0;
    cleanup_manifest struct sup_remote_manifest *m = NULL;
    cleanup_config struct sup_remote_config *c = NULL;

    if (get_doc(p, "manifest", desc, SUP_REMOTE_MAX_MANIFEST_SIZE, &buf, &len, err) < 0 ||
        sup_remote_manifest_parse(buf, len, desc->media_type, &m, err) < 0 ||
        sup_remote_manifest_check_image(m, err) < 0)
        return berth_err_wrap(err, "manifest %s", desc->digest);
    free(steal_ptr(&buf));
    if (get_doc(p, "config", &m->config, SUP_REMOTE_MAX_CONFIG_SIZE, &buf, &len, err) < 0 ||
        sup_remote_config_parse(buf, len, &c, err) < 0 || sup_remote_config_check(m, c, err) < 0)
        return berth_err_wrap(err, "config %s", m->config.digest);
    /* An image that is not an index says its platform in its config only. */
    if (want && !sup_remote_platform_matches(want, &c->platform)) {
        cleanup_free char *have = sup_remote_platform_format(&c->platform);
        cleanup_free char *wanted = sup_remote_platform_format(want);
        return berth_err_fail(err, ENOENT, "the image is for %s, not %s", have, wanted);
    }
    *out = steal_ptr(&m);
    return 0;
}

/* The manifests to fetch: the platform's (first) and, with all_platforms, every other image
 * manifest of the index. */
static int
get_manifests(struct pull *p, const struct sup_remote_desc *root,
              const struct sup_remote_manifest *top, const struct sup_remote_platform *want,
              struct sup_remote_manifest ***out, size_t *n_out, struct berth_err *err)
{
    size_t at = 0, n = 0;
    struct sup_remote_manifest **v = NULL;

    if (top->kind == SUP_REMOTE_KIND_INDEX && sup_remote_platform_select(top, want, &at, err) < 0)
        return -1;
    const struct sup_remote_desc *first =
        top->kind == SUP_REMOTE_KIND_INDEX ? &top->manifests[at] : root;
    v = xzalloc(sizeof(*v) * (top->n_manifests + 1));
    if (get_manifest(p, first, top->kind == SUP_REMOTE_KIND_INDEX ? NULL : want, &v[n], err) < 0)
        goto fail;
    n++;
    for (size_t i = 0; p->o->all_platforms && i < top->n_manifests; i++) {
        const struct sup_remote_desc *e = &top->manifests[i];
        if (i == at || !sup_remote_is_manifest_type(e->media_type))
            continue;
        if (get_manifest(p, e, NULL, &v[n], err) < 0) {
            /* Attestations and other non-image manifests are not pulled. */
            if (err->code != EINVAL)
                goto fail;
            berth_debug("pull: skipping %s: %s", e->digest, err->msg);
            berth_err_clear(err);
            continue;
        }
        n++;
    }
    *out = v;
    *n_out = n;
    return 0;
fail:
    for (size_t i = 0; i < n; i++)
        sup_remote_manifest_free(v[i]);
    free(v);
    return -1;
}

/* ---- Unpacking ---------------------------------------------------------------------------- */

struct unpack_ctx {
    struct pull *p;
    const struct sup_remote_manifest *m;
};

static void
unpack_progress(void *data, size_t i, const char *digest, bool done)
{
    struct unpack_ctx *u = data;

    (void)digest;
    report(u->p, "layer", &u->m->layers[i], done ? "done" : "extracting", -1);
}

static bool
unpack_cancelled(void *data)
{
    struct unpack_ctx *u = data;
    return is_cancelled(u->p);
}

/* ---- The pull ----------------------------------------------------------------------------- */

static int
do_pull(struct pull *p, const char *name, const struct sup_remote_platform *want, SupImage **out,
        struct berth_err *err)
{
    struct sup_remote_desc root = {0};
    cleanup_free char *buf = NULL;
    size_t len = 0;
    cleanup_manifest struct sup_remote_manifest *top = NULL;
    struct sup_remote_manifest **ms = NULL;
    size_t n_ms = 0;
    struct layer_set layers = {0};
    int rc = -1;

    if (sup_remote_resolve(p->r, &p->ref, &root, err) < 0)
        return -1;
    const char *kind = sup_remote_is_index_type(root.media_type) ? "index" : "manifest";
    if (get_doc(p, kind, &root, SUP_REMOTE_MAX_MANIFEST_SIZE, &buf, &len, err) < 0 ||
        sup_remote_manifest_parse(buf, len, root.media_type, &top, err) < 0 ||
        get_manifests(p, &root, top, want, &ms, &n_ms, err) < 0)
        goto out;
    for (size_t i = 0; i < n_ms; i++)
        add_layers(&layers, ms[i]);
    if (is_cancelled(p)) {
        berth_err_fail(err, ECANCELED, "pull cancelled");
        goto out;
    }
    if (fetch_layers(p, layers.v, layers.n, err) < 0)
        goto out;
    if (!p->o->skip_unpack) {
        struct unpack_ctx u = {p, ms[0]};
        const char *mdigest = top->kind == SUP_REMOTE_KIND_INDEX ? NULL : root.digest;
        size_t at = 0;
        if (!mdigest && sup_remote_platform_select(top, want, &at, err) < 0)
            goto out;
        if (!mdigest)
            mdigest = top->manifests[at].digest;
        if (sup_images_unpack(p->d, p->ns, p->lease, mdigest, unpack_progress, &u, unpack_cancelled,
                              NULL, err) < 0)
            goto out;
    }

    SupImage image = BERTH__SUPERVISOR__V1__IMAGE__INIT;
    Berth__Supervisor__V1__Descriptor target = BERTH__SUPERVISOR__V1__DESCRIPTOR__INIT;
    image.name = (char *)name;
    target.media_type = root.media_type;
    target.digest = root.digest;
    target.size = root.size;
    image.target = &target;
    image.labels = (Berth__Supervisor__V1__Image__LabelsEntry **)p->o->labels;
    image.n_labels = p->o->n_labels;
    rc = sup_images_put(p->d, p->ns, &image, out, err);
out:
    for (size_t i = 0; i < n_ms; i++)
        sup_remote_manifest_free(ms[i]);
    free(ms);
    free(layers.v);
    sup_remote_desc_clear(&root);
    return rc;
}

int
sup_images_pull(struct sup_daemon *d, const char *ns, const struct sup_images_pull_opts *o,
                SupImage **out, struct berth_err *err)
{
    cleanup_free char *name = NULL;
    cleanup_remote struct sup_remote *own = NULL;
    struct sup_remote_platform want = {0};
    struct pull p = {.d = d, .ns = ns, .o = o};
    int rc = -1;

    if (sup_images_normalize(o->ref, &name, err) < 0)
        return -1;
    /* Bad labels are refused before anything is fetched. */
    for (size_t i = 0; i < o->n_labels; i++)
        if (sup_store_check_label(o->labels[i]->key, o->labels[i]->value, err) < 0)
            return berth_err_wrap(err, "pull %s", name);
    if (sup_images_platform(o->platform, &want, err) < 0)
        return -1;
    if (sup_remote_ref_parse(name, &p.ref, err) < 0) {
        sup_remote_platform_clear(&want);
        return -1;
    }
    pthread_mutex_init(&p.lock, NULL);
    berth__supervisor__v1__info__labels_entry__init(&p.source);
    p.source.key = xasprintf("containerd.io/distribution.source.%s", p.ref.host);
    p.source.value = p.ref.repository;
    p.source_v[0] = &p.source;

    if ((p.r = sup_images_remote(d, p.ref.host, o->plain_http, o->username, o->password, &own,
                                 err)) != NULL) {
        p.lease = sup_lease_new(d->leases, name);
        rc = do_pull(&p, name, &want, out, err);
        sup_lease_release(p.lease);
    }
    flush(&p);
    if (rc < 0)
        berth_err_wrap(err, "pull %s", name);
    free(p.source.key);
    free_items(&p);
    pthread_mutex_destroy(&p.lock);
    sup_remote_ref_clear(&p.ref);
    sup_remote_platform_clear(&want);
    return rc;
}
