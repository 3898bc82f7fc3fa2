/* SPDX-License-Identifier: Apache-2.0
 *
 * GET /system/df (`docker system df`): the disk the engine's objects use. Images come from
 * the supervisor (as /images/json, with the number of containers using each), containers
 * from engine/containers (as /containers/json?size=1: the writable layer's size from the
 * supervisor's snapshotter, Snapshots.Usage with the container ID as key), volumes from
 * engine.db with their UsageData (engine/volumes), and build cache is an empty list (berthd
 * does not build).
 *
 * Sizes: an image's Size counts every blob it needs; SharedSize is 0 when it shares no layer
 * (by diff ID) with another image, else -1, dockerd's "not computed", since the per-layer
 * sizes are not known here. LayersSize counts each image's blobs once per image.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "berth/supervisor/v1/snapshots.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/api/handlers.h"
#include "engine/api/request.h"
#include "engine/containers/containers.h"
#include "engine/daemon.h"
#include "engine/images/image.h"
#include "engine/store/store.h"
#include "engine/supervisor/client.h"
#include "engine/volumes/volumes.h"

static struct json_object *
get(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *
get_str(struct json_object *o, const char *key)
{
    struct json_object *v = get(o, key);
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* ---------------------------------------------------------------- containers */

/* The container's writable layer in bytes (0 when the snapshotter does not know it). */
static int64_t
size_rw(struct eng_daemon *d, const char *id)
{
    Berth__Supervisor__V1__SnapshotUsageRequest r =
        BERTH__SUPERVISOR__V1__SNAPSHOT_USAGE_REQUEST__INIT;
    r.snapshotter = "";
    r.key = (char *)id;
    cleanup_pb Berth__Supervisor__V1__SnapshotUsageResponse *resp = NULL;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    if (eng_sup_call(d->sup, &berth__supervisor__v1__snapshots__descriptor, "Usage", &r.base, &resp,
                     &err) < 0)
        return 0;
    return resp->size;
}

/* /containers/json's entries, with the sizes of ?size=1: SizeRw the writable layer,
 * SizeRootFs that and the image. */
static struct json_object *
containers(struct eng_daemon *d, const struct eng_image_list *l)
{
    struct json_object *a = json_object_new_array();
    size_t n = 0;
    struct eng_ctr **v = eng_ctr_list(d, &n);
    for (size_t i = 0; i < n; i++) {
        struct json_object *o = eng_ctr_summary(d, v[i]);
        int64_t rw = size_rw(d, v[i]->id), image = 0;
        for (size_t k = 0; k < l->n; k++)
            if (v[i]->image_id && strcmp(l->images[k]->id, v[i]->image_id) == 0)
                image = l->images[k]->size;
        json_object_object_add(o, "SizeRw", json_object_new_int64(rw));
        json_object_object_add(o, "SizeRootFs", json_object_new_int64(rw + image));
        json_object_array_add(a, o);
    }
    eng_ctr_list_free(v, n);
    return a;
}

/* ---------------------------------------------------------------- volumes */

struct walk {
    struct eng_daemon *d;
    struct json_object *list;
};

static int
add_volume(void *data, const struct eng_store_volume *v, struct berth_err *err)
{
    (void)err;
    struct walk *w = data;
    json_object_array_add(w->list, eng_volume_json(w->d, v, true));
    return 0;
}

/* ---------------------------------------------------------------- images */

/* How many containers use image id. */
static int
n_users(struct json_object *containers, const char *id)
{
    int n = 0;
    for (size_t i = 0; i < json_object_array_length(containers); i++) {
        const char *cid = get_str(json_object_array_get_idx(containers, i), "ImageID");
        n += cid && strcmp(cid, id) == 0;
    }
    return n;
}

static bool
shares_layer(const struct eng_image_list *l, size_t self)
{
    struct json_object *mine = get(get(l->images[self]->config, "rootfs"), "diff_ids");
    for (size_t i = 0; i < json_object_array_length(mine); i++) {
        const char *d = json_object_get_string(json_object_array_get_idx(mine, i));
        for (size_t j = 0; j < l->n; j++) {
            if (j == self)
                continue;
            struct json_object *theirs = get(get(l->images[j]->config, "rootfs"), "diff_ids");
            for (size_t k = 0; k < json_object_array_length(theirs); k++)
                if (strcmp(d, json_object_get_string(json_object_array_get_idx(theirs, k))) == 0)
                    return true;
        }
    }
    return false;
}

static struct json_object *
image_entry(const struct eng_image_list *l, size_t i, struct json_object *containers)
{
    const struct eng_image *img = l->images[i];
    struct json_object *tags = json_object_new_array();
    struct json_object *digests = json_object_new_array();
    for (size_t k = 0; k < img->n_names; k++) {
        cleanup_free char *fam = eng_image_familiar(img->names[k]);
        json_object_array_add(eng_image_name_is_tag(img->names[k]) ? tags : digests,
                              json_object_new_string(fam));
    }
    struct json_object *labels = get(get(img->config, "config"), "Labels");
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "Containers", json_object_new_int(n_users(containers, img->id)));
    json_object_object_add(o, "Created", json_object_new_int64(eng_image_created(img->config)));
    json_object_object_add(o, "Id", json_object_new_string(img->id));
    json_object_object_add(o, "Labels",
                           json_object_is_type(labels, json_type_object)
                               ? json_object_get(labels)
                               : json_object_new_object());
    json_object_object_add(o, "ParentId", json_object_new_string(""));
    json_object_object_add(o, "RepoDigests", digests);
    json_object_object_add(o, "RepoTags", tags);
    json_object_object_add(o, "SharedSize", json_object_new_int(shares_layer(l, i) ? -1 : 0));
    json_object_object_add(o, "Size", json_object_new_int64(img->size));
    json_object_object_add(o, "VirtualSize", json_object_new_int64(img->size));
    return o;
}

ENG_API_HANDLER(eng_api_system_df)
{
    struct eng_image_list l __attribute__((cleanup(eng_image_list_release))) = {0};
    if (eng_image_list(req->d, &l, err) < 0)
        return -1;
    struct walk w = {req->d, json_object_new_array()};
    if (eng_store_volume_each(req->d->store, add_volume, &w, err) < 0) {
        json_object_put(w.list);
        return -1;
    }
    struct json_object *ctrs = containers(req->d, &l);
    struct json_object *images = json_object_new_array();
    int64_t layers = 0;
    for (size_t i = 0; i < l.n; i++) {
        json_object_array_add(images, image_entry(&l, i, ctrs));
        layers += l.images[i]->size;
    }
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "LayersSize", json_object_new_int64(layers));
    json_object_object_add(o, "Images", images);
    json_object_object_add(o, "Containers", ctrs);
    json_object_object_add(o, "Volumes", w.list);
    json_object_object_add(o, "BuildCache", json_object_new_array());
    return eng_api_reply_json(req, 200, o);
}
