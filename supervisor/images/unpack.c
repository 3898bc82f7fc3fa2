/* SPDX-License-Identifier: Apache-2.0
 *
 * Unpacking a stored image manifest into snapshots (images.h, sup_images_unpack). Each layer
 * becomes the committed snapshot "<ns>/<chain id>" on top of the one before:
 *
 *   "<ns>/<chain id>" committed? -- yes --> skip (another image or an earlier pull made it)
 *        | no
 *   prepare "<ns>/extract-<n>-<chain id>" on the parent chain
 *        -> apply the layer into its upper dir, checking the config's diffID
 *        -> commit as "<ns>/<chain id>"   (EEXIST: a concurrent unpack won; ours goes)
 *   any failure removes the temporary snapshot
 *
 * The temporary key is unique to this process and call, so two pulls of one image never
 * write into the same directory; the loser of a race only wasted its work.
 */
#include "supervisor/images/images.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "supervisor/content/content.h"
#include "supervisor/daemon.h"
#include "supervisor/images/lease.h"
#include "supervisor/remote/manifest.h"
#include "supervisor/snapshot/snapshot.h"
#include "supervisor/unpack/unpack.h"

static atomic_uint extract_seq;

static void
free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Apply one layer blob into the active snapshot key. */
static int
apply_layer(struct sup_daemon *d, const char *key, const struct sup_remote_desc *layer,
            const char *diff_id, struct berth_err *err)
{
    struct sup_mount *m = NULL;
    size_t n = 0, n_lowers = 0;
    cleanup_free char *upper = NULL;
    char **lowers = NULL;

    if (sup_snapshot_mounts(d->snapshots, key, &m, &n, err) < 0)
        return -1;
    int rc = sup_mounts_layer_dirs(m, n, &upper, &lowers, &n_lowers, err);
    sup_mounts_free(m, n);
    if (rc < 0)
        return -1;
    cleanup_close int fd = sup_content_open_blob(d->content, layer->digest, NULL, err);
    if (fd < 0) {
        free_strv(lowers, n_lowers);
        return -1;
    }
    struct sup_unpack_opts o = {
        .media_type = layer->media_type,
        .expected_diff_id = diff_id,
        .parents = (const char *const *)lowers,
        .n_parents = n_lowers,
    };
    rc = sup_unpack_apply_fd(fd, upper, &o, NULL, err);
    free_strv(lowers, n_lowers);
    return rc;
}

/* Make the committed snapshot `name` from layer on top of parent (NULL for none). */
static int
unpack_layer(struct sup_daemon *d, const char *ns, struct sup_lease *lease, const char *name,
             const char *parent, const struct sup_remote_desc *layer, const char *chain,
             const char *diff_id, struct berth_err *err)
{
    cleanup_free char *tmp = xasprintf("%s/extract-%d-%u-%s", ns, (int)getpid(),
                                       atomic_fetch_add(&extract_seq, 1), chain);
    struct sup_mount *m = NULL;
    size_t n = 0;

    sup_lease_add(lease, SUP_LEASE_SNAPSHOT, tmp);
    if (sup_snapshot_prepare(d->snapshots, tmp, parent, NULL, 0, &m, &n, err) < 0)
        return -1;
    sup_mounts_free(m, n);
    bool raced = false;
    int rc = apply_layer(d, tmp, layer, diff_id, err);
    if (rc == 0 && (rc = sup_snapshot_commit(d->snapshots, name, tmp, NULL, 0, err)) < 0 &&
        err->code == EEXIST) {
        berth_err_clear(err); /* a concurrent unpack committed it first */
        rc = 0;
        raced = true;
    }
    if (rc == 0 && !raced)
        return 0;
    cleanup_err struct berth_err inner = BERTH_ERR_INIT;
    if (sup_snapshot_remove(d->snapshots, tmp, &inner) < 0)
        berth_err_warn(&inner);
    return rc;
}

static int
load_image(struct sup_daemon *d, const char *manifest_digest, struct sup_remote_manifest **m,
           struct sup_remote_config **c, struct berth_err *err)
{
    cleanup_free char *buf = NULL;
    size_t len = 0;

    if (sup_content_read_all(d->content, manifest_digest, SUP_REMOTE_MAX_MANIFEST_SIZE, &buf, &len,
                             err) < 0 ||
        sup_remote_manifest_parse(buf, len, NULL, m, err) < 0 ||
        sup_remote_manifest_check_image(*m, err) < 0)
        return -1;
    free(steal_ptr(&buf));
    if (sup_content_read_all(d->content, (*m)->config.digest, SUP_REMOTE_MAX_CONFIG_SIZE, &buf,
                             &len, err) < 0 ||
        sup_remote_config_parse(buf, len, c, err) < 0 || sup_remote_config_check(*m, *c, err) < 0)
        return -1;
    return 0;
}

int
sup_images_unpack(struct sup_daemon *d, const char *ns, struct sup_lease *lease,
                  const char *manifest_digest, sup_images_unpack_fn progress, void *data,
                  bool (*cancelled)(void *data), char chain_out[SUP_IMAGES_DIGEST_MAX],
                  struct berth_err *err)
{
    cleanup_manifest struct sup_remote_manifest *m = NULL;
    cleanup_config struct sup_remote_config *c = NULL;
    cleanup_free char *parent = NULL;
    char chain[SUP_IMAGES_DIGEST_MAX] = "";

    if (load_image(d, manifest_digest, &m, &c, err) < 0)
        return berth_err_wrap(err, "unpack %s", manifest_digest);
    for (size_t i = 0; i < m->n_layers; i++) {
        if (cancelled && cancelled(data))
            return berth_err_fail(err, ECANCELED, "unpack %s: cancelled", manifest_digest);
        sup_images_chain_id(c->diff_ids, i + 1, chain);
        cleanup_free char *name = sup_images_snapshot_key(ns, chain);
        Berth__Supervisor__V1__SnapshotInfo *info = NULL;

        sup_lease_add(lease, SUP_LEASE_SNAPSHOT, name);
        if (sup_snapshot_stat(d->snapshots, name, &info, err) == 0) {
            protobuf_c_message_free_unpacked(&info->base, NULL);
        } else if (err->code != ENOENT) {
            return -1;
        } else {
            berth_err_clear(err);
            if (progress)
                progress(data, i, m->layers[i].digest, false);
            if (unpack_layer(d, ns, lease, name, parent, &m->layers[i], chain, c->diff_ids[i],
                             err) < 0)
                return berth_err_wrap(err, "unpack layer %s", m->layers[i].digest);
            berth_debug("unpacked layer %s as %s", m->layers[i].digest, name);
            if (progress)
                progress(data, i, m->layers[i].digest, true);
        }
        free(parent);
        parent = steal_ptr(&name);
    }
    if (chain_out)
        snprintf(chain_out, SUP_IMAGES_DIGEST_MAX, "%s", chain);
    return 0;
}
