/* SPDX-License-Identifier: Apache-2.0
 *
 * The images of a docker-archive (what `docker save` writes): manifest.json lists, per
 * image, the path of its config, its tags and the paths of its layers, inside the tar. The
 * store keeps images as manifests, so one OCI image manifest is made per entry and stored:
 * the config as it is, each layer as stored. docker writes its layers uncompressed, so a
 * layer's digest is its diffID, which the config lists and which is checked here; a
 * compressed layer (other tools write those) gets the media type its first bytes show.
 */
#include "supervisor/archive/archive-internal.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "supervisor/content/content.h"

#define MT_LAYER      "application/vnd.oci.image.layer.v1.tar"
#define MT_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"

static struct json_object *
descriptor(const char *media_type, const char *digest, int64_t size)
{
    struct json_object *d = json_object_new_object();
    json_object_object_add(d, "mediaType", json_object_new_string(media_type));
    json_object_object_add(d, "digest", json_object_new_string(digest));
    json_object_object_add(d, "size", json_object_new_int64(size));
    return d;
}

/* The entry a path of manifest.json names; what says which field it came from. */
static const struct ar_entry *
named_entry(const struct ar_import *imp, const char *path, size_t i, const char *what,
            struct berth_err *err)
{
    cleanup_free char *clean = ar_clean_name(path, err);
    if (clean == NULL)
        return berth_err_wrap(err, "manifest.json[%zu]: %s", i, what), NULL;
    const struct ar_entry *e = ar_tar_find(&imp->tar, clean);
    if (e == NULL)
        berth_err_fail(err, EINVAL, "manifest.json[%zu]: %s `%s` is not in the archive", i, what,
                       path);
    return e;
}

static int
read_config(struct ar_import *imp, const struct ar_entry *e, size_t i,
            struct sup_remote_config **out, struct berth_err *err)
{
    cleanup_free char *buf = NULL;
    size_t len = 0;

    if (sup_content_read_all(imp->cs, e->digest, SUP_REMOTE_MAX_CONFIG_SIZE, &buf, &len, err) < 0) {
        if (err->code == EFBIG)
            return berth_err_fail(err, EINVAL,
                                  "manifest.json[%zu]: config `%s` is larger than "
                                  "%d bytes",
                                  i, e->path, SUP_REMOTE_MAX_CONFIG_SIZE);
        return berth_err_wrap(err, "manifest.json[%zu]: config `%s`", i, e->path);
    }
    if (sup_remote_config_parse(buf, len, out, err) < 0)
        return berth_err_wrap(err, "manifest.json[%zu]: config `%s`", i, e->path);
    return 0;
}

static struct json_object *
layer_descriptor(const struct ar_entry *e, const char *diff_id, size_t i, size_t l,
                 struct berth_err *err)
{
    static const char *const types[] = {
        [AR_PLAIN] = MT_LAYER,
        [AR_GZIP] = MT_LAYER_GZIP,
        [AR_ZSTD] = MT_LAYER_ZSTD,
    };
    if (e->compression == AR_PLAIN && strcmp(e->digest, diff_id) != 0)
        return berth_err_fail(err, EINVAL,
                              "manifest.json[%zu]: layer `%s` is %s, but the "
                              "config's diff_ids[%zu] is %s",
                              i, e->path, e->digest, l, diff_id),
               NULL;
    return descriptor(types[e->compression], e->digest, e->size);
}

/* Make and store the OCI manifest of manifest.json[i]; *target describes it. */
static int
make_manifest(struct ar_import *imp, struct json_object *item, size_t i,
              struct sup_remote_desc *target, struct berth_err *err)
{
    const char *config_path = NULL;
    cleanup_strv char **layers = NULL;
    size_t n_layers = 0;
    cleanup_config struct sup_remote_config *config = NULL;

    if (!json_object_is_type(item, json_type_object))
        return berth_err_fail(err, EINVAL, "manifest.json[%zu]: expected an object", i);
    if (berth_json_get_string(item, "Config", &config_path, err) < 0 ||
        berth_json_get_strv(item, "Layers", &layers, &n_layers, err) < 0)
        return berth_err_wrap(err, "manifest.json[%zu]", i);
    if (config_path == NULL)
        return berth_err_fail(err, EINVAL, "manifest.json[%zu]: `Config` is missing", i);
    const struct ar_entry *ce = named_entry(imp, config_path, i, "config", err);
    if (ce == NULL || read_config(imp, ce, i, &config, err) < 0)
        return -1;
    if (config->n_diff_ids != n_layers)
        return berth_err_fail(err, EINVAL,
                              "manifest.json[%zu]: %zu layers, but the config has "
                              "%zu diff_ids",
                              i, n_layers, config->n_diff_ids);

    cleanup_json struct json_object *m = json_object_new_object();
    struct json_object *jl = json_object_new_array();
    json_object_object_add(m, "schemaVersion", json_object_new_int(2));
    json_object_object_add(m, "mediaType", json_object_new_string(SUP_REMOTE_MT_OCI_MANIFEST));
    json_object_object_add(m, "config", descriptor(SUP_REMOTE_MT_OCI_CONFIG, ce->digest, ce->size));
    json_object_object_add(m, "layers", jl);
    for (size_t l = 0; l < n_layers; l++) {
        const struct ar_entry *le = named_entry(imp, layers[l], i, "layer", err);
        struct json_object *d = le ? layer_descriptor(le, config->diff_ids[l], i, l, err) : NULL;
        if (d == NULL)
            return -1;
        json_object_array_add(jl, d);
    }
    size_t len = 0;
    const char *bytes = json_object_to_json_string_length(
        m, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    char *digest = NULL;
    if (ar_store_bytes(imp, bytes, len, &digest, err) < 0)
        return berth_err_wrap(err, "manifest.json[%zu]", i);
    target->media_type = xstrdup(SUP_REMOTE_MT_OCI_MANIFEST);
    target->digest = digest;
    target->size = (int64_t)len;
    return 0;
}

static int
add_images(struct ar_import *imp, struct json_object *item, size_t i,
           const struct sup_remote_desc *target, struct sup_archive_images *out,
           struct berth_err *err)
{
    cleanup_strv char **tags = NULL;
    size_t n_tags = 0;

    if (berth_json_get_strv(item, "RepoTags", &tags, &n_tags, err) < 0)
        return berth_err_wrap(err, "manifest.json[%zu]", i);
    if (n_tags == 0)
        ar_images_add(out, NULL, target);
    for (size_t t = 0; t < n_tags; t++) {
        char *name = ar_name_normalize(tags[t], err);
        if (name == NULL)
            return berth_err_wrap(err, "manifest.json[%zu]: RepoTags[%zu]", i, t);
        ar_images_add(out, name, target);
    }
    return 0;
}

int
ar_import_docker(struct ar_import *imp, struct sup_archive_images *out, struct berth_err *err)
{
    const struct ar_tar *t = &imp->tar;
    cleanup_json struct json_object *doc =
        berth_json_parse(t->meta[AR_META_MANIFEST], t->meta_len[AR_META_MANIFEST], err);

    if (doc == NULL)
        return berth_err_wrap(err, "manifest.json");
    if (!json_object_is_type(doc, json_type_array))
        return berth_err_fail(err, EINVAL, "manifest.json: expected an array");
    size_t n = json_object_array_length(doc);
    if (n == 0)
        return berth_err_fail(err, EINVAL, "manifest.json lists no image");
    for (size_t i = 0; i < n; i++) {
        struct json_object *item = json_object_array_get_idx(doc, i);
        struct sup_remote_desc target = {0};
        int rc = make_manifest(imp, item, i, &target, err);
        if (rc == 0)
            rc = add_images(imp, item, i, &target, out, err);
        sup_remote_desc_clear(&target);
        if (rc < 0)
            return -1;
    }
    return 0;
}
