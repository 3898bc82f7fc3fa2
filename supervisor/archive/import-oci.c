/* SPDX-License-Identifier: Apache-2.0
 *
 * The images of an OCI image layout (image-spec, "OCI Image Layout"): oci-layout says which
 * version of the layout this is, index.json lists one descriptor per image. Names come from
 * the descriptors' annotations: containerd's io.containerd.image.name is a whole reference,
 * the spec's org.opencontainers.image.ref.name a tag (skopeo, buildkit) or a reference.
 */
#include "supervisor/archive/archive-internal.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/reference.h"

#define ANNOTATION_CONTAINERD_NAME "io.containerd.image.name"
#define ANNOTATION_REF_NAME        "org.opencontainers.image.ref.name"

static int
check_layout(const struct ar_tar *t, struct berth_err *err)
{
    cleanup_json struct json_object *doc =
        berth_json_parse(t->meta[AR_META_OCI_LAYOUT], t->meta_len[AR_META_OCI_LAYOUT], err);
    const char *version = NULL;

    if (doc == NULL)
        return berth_err_wrap(err, "oci-layout");
    if (!json_object_is_type(doc, json_type_object))
        return berth_err_fail(err, EINVAL, "oci-layout: expected an object");
    int r = berth_json_get_string(doc, "imageLayoutVersion", &version, err);
    if (r < 0)
        return berth_err_wrap(err, "oci-layout");
    if (r == 0)
        return berth_err_fail(err, EINVAL, "oci-layout: `imageLayoutVersion` is missing");
    if (strncmp(version, "1.", 2) != 0)
        return berth_err_fail(err, EINVAL, "oci-layout: version `%s` is not supported (1.x is)",
                              version);
    return 0;
}

/* The name of manifests[i] from its annotations (heap, NULL when it has none). */
static int
entry_name(const struct ar_import *imp, struct json_object *entry, size_t i, char **out,
           struct berth_err *err)
{
    struct json_object *ann = NULL;
    const char *full = NULL, *ref = NULL;

    *out = NULL;
    if (!json_object_is_type(entry, json_type_object))
        return 0; /* the manifest parser has already refused it */
    if (berth_json_get_object(entry, "annotations", &ann, err) < 0 ||
        (ann && (berth_json_get_string(ann, ANNOTATION_CONTAINERD_NAME, &full, err) < 0 ||
                 berth_json_get_string(ann, ANNOTATION_REF_NAME, &ref, err) < 0)))
        return berth_err_wrap(err, "index.json: manifests[%zu]", i);
    if (full && *full) {
        *out = ar_name_normalize(full, err);
        return *out ? 0 : berth_err_wrap(err, "index.json: manifests[%zu]", i);
    }
    if (ref == NULL || *ref == '\0')
        return 0;
    struct berth_err tag_err = BERTH_ERR_INIT;
    if (berth_ref_check_tag(ref, &tag_err) == 0) {
        /* A bare tag names an image only together with a repository. */
        if (imp->base_repo)
            *out = xasprintf("%s:%s", imp->base_repo, ref);
        return 0;
    }
    berth_err_clear(&tag_err);
    *out = ar_name_normalize(ref, err);
    return *out ? 0 : berth_err_wrap(err, "index.json: manifests[%zu]", i);
}

int
ar_import_oci(struct ar_import *imp, struct sup_archive_images *out, struct berth_err *err)
{
    const struct ar_tar *t = &imp->tar;
    cleanup_manifest struct sup_remote_manifest *index = NULL;
    struct json_object *entries = NULL;

    if (check_layout(t, err) < 0)
        return -1;
    if (sup_remote_manifest_parse(t->meta[AR_META_INDEX], t->meta_len[AR_META_INDEX],
                                  SUP_REMOTE_MT_OCI_INDEX, &index, err) < 0)
        return berth_err_wrap(err, "index.json");
    if (index->kind != SUP_REMOTE_KIND_INDEX)
        return berth_err_fail(err, EINVAL, "index.json: not an image index");
    cleanup_json struct json_object *doc =
        berth_json_parse(t->meta[AR_META_INDEX], t->meta_len[AR_META_INDEX], err);
    if (doc == NULL || berth_json_get_array(doc, "manifests", &entries, err) < 0)
        return berth_err_wrap(err, "index.json");
    if (entries == NULL || json_object_array_length(entries) != index->n_manifests)
        return berth_err_fail(err, EINVAL, "index.json: `manifests` is unreadable");
    if (index->n_manifests == 0)
        return berth_err_fail(err, EINVAL, "index.json lists no image");
    for (size_t i = 0; i < index->n_manifests; i++) {
        char *name = NULL;
        if (entry_name(imp, json_object_array_get_idx(entries, i), i, &name, err) < 0)
            return -1;
        ar_images_add(out, name, &index->manifests[i]);
    }
    return 0;
}
