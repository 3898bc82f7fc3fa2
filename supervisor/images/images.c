/* SPDX-License-Identifier: Apache-2.0
 *
 * Image names and records (images.h): references normalized as docker reads them, records
 * created or updated in the store with their events, deletes that hand the freed content to
 * the collector, and the choice of a target's manifest for a platform.
 */
#include "supervisor/images/images.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/reference.h"
#include "supervisor/content/content.h"
#include "supervisor/daemon.h"
#include "supervisor/events/exchange.h"
#include "supervisor/remote/manifest.h"
#include "supervisor/remote/remote.h"
#include "supervisor/store/store.h"

typedef Berth__Supervisor__V1__Image__LabelsEntry LabelsEntry;

int
sup_images_normalize(const char *ref, char **out, struct berth_err *err)
{
    cleanup_ref struct berth_ref r = BERTH_REF_INIT;

    if (ref == NULL || *ref == '\0')
        return berth_err_fail(err, EINVAL, "image reference is empty");
    if (berth_ref_parse(ref, &r, err) < 0)
        return -1;
    *out = berth_ref_string(&r);
    return 0;
}

static void
publish(struct sup_daemon *d, const char *ns, const SupImage *image, bool created)
{
    if (created) {
        Berth__Supervisor__V1__ImageCreate ev = BERTH__SUPERVISOR__V1__IMAGE_CREATE__INIT;
        ev.name = image->name;
        ev.labels = (Berth__Supervisor__V1__ImageCreate__LabelsEntry **)image->labels;
        ev.n_labels = image->n_labels;
        sup_events_publish(d->events, ns, "/images/create", &ev.base);
    } else {
        Berth__Supervisor__V1__ImageUpdate ev = BERTH__SUPERVISOR__V1__IMAGE_UPDATE__INIT;
        ev.name = image->name;
        ev.labels = (Berth__Supervisor__V1__ImageUpdate__LabelsEntry **)image->labels;
        ev.n_labels = image->n_labels;
        sup_events_publish(d->events, ns, "/images/update", &ev.base);
    }
}

static int
check_stored(struct sup_daemon *d, const SupImage *image, struct berth_err *err)
{
    if (image->target && image->target->digest && *image->target->digest &&
        !sup_content_exists(d->content, image->target->digest))
        return berth_err_fail(err, EBUSY, "image `%s`: target %s is not in the content store",
                              image->name ? image->name : "", image->target->digest);
    return 0;
}

int
sup_images_create(struct sup_daemon *d, const char *ns, const SupImage *image, SupImage **out,
                  struct berth_err *err)
{
    SupImage *made = NULL;

    if (check_stored(d, image, err) < 0 ||
        sup_store_image_create(d->store, ns, image, &made, err) < 0)
        return -1;
    publish(d, ns, made, true);
    *out = made;
    return 0;
}

int
sup_images_update(struct sup_daemon *d, const char *ns, const SupImage *image,
                  char *const *update_mask, size_t n_mask, SupImage **out, struct berth_err *err)
{
    SupImage *made = NULL;
    bool sets_target = n_mask == 0;

    for (size_t i = 0; i < n_mask; i++)
        sets_target = sets_target || strcmp(update_mask[i], "target") == 0;
    if ((sets_target && check_stored(d, image, err) < 0) ||
        sup_store_image_update(d->store, ns, image, update_mask, n_mask, &made, err) < 0)
        return -1;
    publish(d, ns, made, false);
    *out = made;
    return 0;
}

int
sup_images_put(struct sup_daemon *d, const char *ns, const SupImage *image, SupImage **out,
               struct berth_err *err)
{
    SupImage *made = NULL;
    bool created = true;

    if (check_stored(d, image, err) < 0)
        return -1;
    int rc = sup_store_image_create(d->store, ns, image, &made, err);
    if (rc < 0 && err->code == EEXIST) {
        /* Taken: the record moves to the new target, as docker's tag does. */
        berth_err_clear(err);
        created = false;
        /* The target, and the labels given; labels set on the record since are kept. */
        char **mask = xzalloc((image->n_labels + 1) * sizeof(*mask));
        mask[0] = xstrdup("target");
        for (size_t i = 0; i < image->n_labels; i++)
            mask[i + 1] = xasprintf("labels.%s", image->labels[i]->key);
        rc = sup_store_image_update(d->store, ns, image, mask, image->n_labels + 1, &made, err);
        for (size_t i = 0; i < image->n_labels + 1; i++)
            free(mask[i]);
        free(mask);
    }
    if (rc < 0)
        return -1;
    publish(d, ns, made, created);
    if (out)
        *out = made;
    else
        protobuf_c_message_free_unpacked(&made->base, NULL);
    return 0;
}

int
sup_images_delete(struct sup_daemon *d, const char *ns, const char *name, bool sync,
                  struct berth_err *err)
{
    if (sup_store_image_delete(d->store, ns, name, err) < 0)
        return -1;
    Berth__Supervisor__V1__ImageDelete ev = BERTH__SUPERVISOR__V1__IMAGE_DELETE__INIT;
    ev.name = (char *)name;
    sup_events_publish(d->events, ns, "/images/delete", &ev.base);
    if (!sync) {
        sup_images_gc_schedule(d);
        return 0;
    }
    struct sup_images_gc_stats stats;
    if (sup_images_gc(d, &stats, err) < 0)
        return berth_err_wrap(err, "image `%s` deleted, but collecting garbage failed", name);
    return 0;
}

int
sup_images_platform(const char *s, struct sup_remote_platform *out, struct berth_err *err)
{
    if (s == NULL || *s == '\0') {
        sup_remote_platform_default(out);
        return 0;
    }
    if (sup_remote_platform_parse(s, out, err) < 0)
        return berth_err_wrap(err, "platform `%s`", s);
    return 0;
}

int
sup_images_manifest_for(struct sup_daemon *d, const char *target_digest,
                        const char *target_media_type, const struct sup_remote_platform *p,
                        char **digest, char **media_type, int64_t *size, struct berth_err *err)
{
    cleanup_free char *buf = NULL;
    size_t len = 0;
    cleanup_manifest struct sup_remote_manifest *m = NULL;
    size_t at = 0;

    if (sup_content_read_all(d->content, target_digest, SUP_REMOTE_MAX_MANIFEST_SIZE, &buf, &len,
                             err) < 0 ||
        sup_remote_manifest_parse(buf, len, target_media_type, &m, err) < 0)
        return -1;
    if (m->kind == SUP_REMOTE_KIND_MANIFEST) {
        *digest = xstrdup(target_digest);
        *media_type = xstrdup(m->media_type);
        *size = (int64_t)len;
        return 0;
    }
    if (sup_remote_platform_select(m, p, &at, err) < 0)
        return -1;
    *digest = xstrdup(m->manifests[at].digest);
    *media_type = xstrdup(m->manifests[at].media_type);
    *size = m->manifests[at].size;
    return 0;
}

struct sup_remote *
sup_images_remote(struct sup_daemon *d, const char *host, bool plain_http, const char *username,
                  const char *password, struct sup_remote **own, struct berth_err *err)
{
    bool creds = username && *username;

    *own = NULL;
    if (!plain_http && !creds)
        return d->remote;
    struct sup_remote_options ro = {0};
    if (d->remote_opts)
        ro = *d->remote_opts;
    ro.plain_http = plain_http || ro.plain_http;
    if (creds) {
        ro.auth_host = host;
        ro.username = username;
        ro.password = password;
    }
    if (sup_remote_new(&ro, own, err) < 0)
        return NULL;
    return *own;
}
