/* SPDX-License-Identifier: Apache-2.0
 *
 * GET /system/df (`docker system df`): the disk the engine's objects use. Images come from
 * the supervisor (as /images/json, with the number of containers using each), containers
 * from engine/containers (as /containers/json?size=1: the writable layer's size from the
 * supervisor's snapshotter, Snapshots.Usage with the container ID as key), volumes from
 * engine.db with their UsageData (engine/volumes), and build cache is an empty list (berthd
 * does not build).
 *
 * Sizes, as dockerd counts them: an image's Size is every blob it needs; its SharedSize the
 * layers (by the digests of its manifest for its platform) that other images use too;
 * LayersSize each distinct layer once. An image whose manifest cannot be read counts whole in
 * LayersSize, with SharedSize -1 ("not computed").
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "berth/supervisor/v1/content.pb-c.h"
#include "berth/supervisor/v1/snapshots.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/log.h"
#include "common/rpc.h"
#include "engine/api/handlers.h"
#include "engine/api/request.h"
#include "engine/containers/containers.h"
#include "engine/daemon.h"
#include "engine/images/image.h"
#include "engine/store/store.h"
#include "engine/supervisor/client.h"
#include "engine/volumes/volumes.h"

#define MANIFEST_MAX (4 << 20)

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
        const char *cid =
            berth_json_member_string(json_object_array_get_idx(containers, i), "ImageID");
        n += cid && strcmp(cid, id) == 0;
    }
    return n;
}

/* A manifest or an index from the content store, as JSON (NULL with err). */
static struct json_object *
read_json(struct eng_daemon *d, const char *digest, struct berth_err *err)
{
    Berth__Supervisor__V1__ReadContentRequest r = BERTH__SUPERVISOR__V1__READ_CONTENT_REQUEST__INIT;
    r.digest = (char *)digest;
    struct berth_rpc_stream *s =
        eng_sup_stream(d->sup, &berth__supervisor__v1__content__descriptor, "Read", &r.base, err);
    if (!s)
        return NULL;
    cleanup_free char *buf = NULL;
    size_t len = 0;
    ProtobufCMessage *m = NULL;
    int rc;
    while ((rc = berth_rpc_stream_next(s, &m, err)) == 1) {
        Berth__Supervisor__V1__ReadContentResponse *c = (void *)m;
        /* Manifests and indexes are a few KiB; registries refuse them past 4 MiB. */
        if (len + c->data.len <= MANIFEST_MAX) {
            buf = xrealloc(buf, len + c->data.len + 1);
            memcpy(buf + len, c->data.data, c->data.len);
        }
        len += c->data.len;
        protobuf_c_message_free_unpacked(m, NULL);
    }
    eng_sup_stream_close(d->sup, s);
    if (rc < 0)
        return NULL;
    if (len > MANIFEST_MAX) {
        berth_err_fail(err, EFBIG, "`%s` is larger than a manifest can be", digest);
        return NULL;
    }
    return berth_json_parse(buf ? buf : "", len, err);
}

/* The layers ([{digest, size}], a new reference) of img's manifest for its own platform,
 * or NULL when they cannot be read (the sizes are then not shared ones). */
static struct json_object *
layers_of(struct eng_daemon *d, const struct eng_image *img)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct json_object *m = read_json(d, img->target, &err);
    struct json_object *list = berth_json_member(m, "manifests");
    if (json_object_is_type(list, json_type_array)) {
        /* An index: the manifest of the platform the config says. */
        const char *os = berth_json_member_string(img->config, "os"),
                   *arch = berth_json_member_string(img->config, "architecture");
        cleanup_free char *want = NULL;
        for (size_t i = 0; !want && os && arch && i < json_object_array_length(list); i++) {
            struct json_object *e = json_object_array_get_idx(list, i);
            const char *eos = berth_json_member_string(berth_json_member(e, "platform"), "os");
            const char *earch =
                berth_json_member_string(berth_json_member(e, "platform"), "architecture");
            if (eos && earch && strcmp(eos, os) == 0 && strcmp(earch, arch) == 0 &&
                berth_json_member_string(e, "digest"))
                want = xstrdup(berth_json_member_string(e, "digest"));
        }
        json_object_put(m);
        m = want ? read_json(d, want, &err) : NULL;
    }
    struct json_object *layers = berth_json_member(m, "layers");
    struct json_object *out =
        json_object_is_type(layers, json_type_array) ? json_object_get(layers) : NULL;
    if (m)
        json_object_put(m);
    if (err.msg)
        berth_debug("system df: layers of %s: %s", img->id, err.msg);
    return out;
}

/* Layer sizes across images: how many images use each layer digest, and its size. */
struct layer_use {
    struct json_object *count; /* digest -> images using it */
    struct json_object *size;  /* digest -> bytes */
};

static bool
listed_before(struct json_object *layers, size_t k, const char *digest)
{
    for (size_t j = 0; j < k; j++)
        if (strcmp(berth_json_member_string(json_object_array_get_idx(layers, j), "digest") ?: "",
                   digest) == 0)
            return true;
    return false;
}

static void
count_layers(struct layer_use *u, struct json_object *layers)
{
    for (size_t k = 0; k < json_object_array_length(layers); k++) {
        struct json_object *e = json_object_array_get_idx(layers, k);
        const char *digest = berth_json_member_string(e, "digest");
        if (!digest || listed_before(layers, k, digest))
            continue;
        struct json_object *n = berth_json_member(u->count, digest);
        json_object_object_add(u->count, digest,
                               json_object_new_int(n ? json_object_get_int(n) + 1 : 1));
        struct json_object *sz = berth_json_member(e, "size");
        json_object_object_add(u->size, digest, json_object_new_int64(json_object_get_int64(sz)));
    }
}

/* The bytes of an image's layers that other images use too; -1 when unknown. */
static int64_t
shared_size(const struct layer_use *u, struct json_object *layers)
{
    if (!layers)
        return -1;
    int64_t n = 0;
    for (size_t k = 0; k < json_object_array_length(layers); k++) {
        const char *digest =
            berth_json_member_string(json_object_array_get_idx(layers, k), "digest");
        if (digest && !listed_before(layers, k, digest) &&
            json_object_get_int(berth_json_member(u->count, digest)) > 1)
            n += json_object_get_int64(berth_json_member(u->size, digest));
    }
    return n;
}

static struct json_object *
image_entry(const struct eng_image_list *l, size_t i, struct json_object *containers,
            int64_t shared)
{
    const struct eng_image *img = l->images[i];
    struct json_object *tags = json_object_new_array();
    struct json_object *digests = json_object_new_array();
    for (size_t k = 0; k < img->n_names; k++) {
        cleanup_free char *fam = eng_image_familiar(img->names[k]);
        json_object_array_add(eng_image_name_is_tag(img->names[k]) ? tags : digests,
                              json_object_new_string(fam));
    }
    struct json_object *labels =
        berth_json_member(berth_json_member(img->config, "config"), "Labels");
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
    json_object_object_add(o, "SharedSize", json_object_new_int64(shared));
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
    struct layer_use u = {json_object_new_object(), json_object_new_object()};
    struct json_object **layers = xzalloc((l.n + 1) * sizeof(*layers));
    int64_t total = 0;
    for (size_t i = 0; i < l.n; i++) {
        layers[i] = layers_of(req->d, l.images[i]);
        if (layers[i])
            count_layers(&u, layers[i]);
        else
            total += l.images[i]->size; /* its layers unknown: all of it, once */
    }
    json_object_object_foreach(u.size, digest, sz)
    {
        (void)digest;
        total += json_object_get_int64(sz);
    }
    struct json_object *images = json_object_new_array();
    for (size_t i = 0; i < l.n; i++) {
        json_object_array_add(images, image_entry(&l, i, ctrs, shared_size(&u, layers[i])));
        if (layers[i])
            json_object_put(layers[i]);
    }
    free(layers);
    json_object_put(u.count);
    json_object_put(u.size);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "LayersSize", json_object_new_int64(total));
    json_object_object_add(o, "Images", images);
    json_object_object_add(o, "Containers", ctrs);
    json_object_object_add(o, "Volumes", w.list);
    json_object_object_add(o, "BuildCache", json_object_new_array());
    return eng_api_reply_json(req, 200, o);
}
