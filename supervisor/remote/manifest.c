/* SPDX-License-Identifier: Apache-2.0
 *
 * Manifests, indexes and image configs (manifest.h): json-c documents turned into small
 * structs after checking every field the puller relies on. Nothing here does I/O or keeps
 * state, so the parsers can be fed arbitrary bytes by a fuzzer.
 *
 * Errors are EINVAL with berth_err_fail (a bad document has no system cause), and name the
 * field: "manifests[2]: platform: `os`: expected string".
 */
#include "supervisor/remote/manifest.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/error.h"
#include "common/json.h"

#define MT_DOCKER_SCHEMA1        "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

/* ---- Media types ------------------------------------------------------------------------- */

/* Length of the type/subtype part of a media type: up to parameters or blanks. */
static size_t
essence_len(const char *mt)
{
    return strcspn(mt, "; \t");
}

/* mt (maybe with parameters, any case) names exactly canon. */
static bool
mt_is(const char *mt, const char *canon)
{
    size_t n = essence_len(mt);

    return n == strlen(canon) && strncasecmp(mt, canon, n) == 0;
}

static bool
mt_in(const char *mt, const char *const *list, size_t n)
{
    if (mt == NULL)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (mt_is(mt, list[i]))
            return true;
    }
    return false;
}

bool
sup_remote_is_index_type(const char *media_type)
{
    static const char *const types[] = {SUP_REMOTE_MT_OCI_INDEX, SUP_REMOTE_MT_DOCKER_LIST};
    return mt_in(media_type, types, ARRAY_SIZE(types));
}

bool
sup_remote_is_manifest_type(const char *media_type)
{
    static const char *const types[] = {SUP_REMOTE_MT_OCI_MANIFEST, SUP_REMOTE_MT_DOCKER_MANIFEST};
    return mt_in(media_type, types, ARRAY_SIZE(types));
}

bool
sup_remote_is_config_type(const char *media_type)
{
    static const char *const types[] = {SUP_REMOTE_MT_OCI_CONFIG, SUP_REMOTE_MT_DOCKER_CONFIG};
    return mt_in(media_type, types, ARRAY_SIZE(types));
}

bool
sup_remote_is_layer_type(const char *media_type)
{
    static const char *const types[] = {
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    };
    return mt_in(media_type, types, ARRAY_SIZE(types));
}

static bool
is_schema1_type(const char *mt)
{
    return mt_is(mt, MT_DOCKER_SCHEMA1) || mt_is(mt, MT_DOCKER_SCHEMA1_SIGNED);
}

/* One RFC 6838 restricted-name: [A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}. Returns its length, 0
 * when s does not start with one. */
static size_t
restricted_name_len(const char *s)
{
    static const char extra[] = "!#$&^_.+-";
    size_t n = 0;

    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
          (s[0] >= '0' && s[0] <= '9')))
        return 0;
    for (n = 1; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr(extra, c) != NULL))
            break;
    }
    return n <= 127 ? n : 0;
}

/* type/subtype, nothing else (the image spec's descriptor grammar). */
static bool
is_valid_media_type(const char *mt)
{
    size_t n = restricted_name_len(mt);

    if (n == 0 || mt[n] != '/')
        return false;
    mt += n + 1;
    n = restricted_name_len(mt);
    return n > 0 && mt[n] == '\0';
}

/* ---- Descriptors ------------------------------------------------------------------------- */

void
sup_remote_desc_clear(struct sup_remote_desc *d)
{
    if (d == NULL)
        return;
    free(d->media_type);
    free(d->digest);
    if (d->platform) {
        sup_remote_platform_clear(d->platform);
        free(d->platform);
    }
    memset(d, 0, sizeof(*d));
}

void
sup_remote_desc_copy(struct sup_remote_desc *dst, const struct sup_remote_desc *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->media_type = src->media_type ? xstrdup(src->media_type) : NULL;
    dst->digest = src->digest ? xstrdup(src->digest) : NULL;
    dst->size = src->size;
    if (src->platform) {
        dst->platform = xzalloc(sizeof(*dst->platform));
        sup_remote_platform_copy(dst->platform, src->platform);
    }
}

/* A required string field, non-empty. */
static int
get_required_string(struct json_object *obj, const char *key, const char **out,
                    struct berth_err *err)
{
    int r = berth_json_get_string(obj, key, out, err);

    if (r < 0)
        return -1;
    if (r == 0)
        return berth_err_fail(err, EINVAL, "`%s`: missing", key);
    if (**out == '\0')
        return berth_err_fail(err, EINVAL, "`%s`: empty", key);
    return 0;
}

/* A "sha256:<hex>" digest in field key (required). */
static int
get_digest(struct json_object *obj, const char *key, const char **out, struct berth_err *err)
{
    cleanup_err struct berth_err derr = BERTH_ERR_INIT;
    const char *hex = NULL;

    if (get_required_string(obj, key, out, err) < 0)
        return -1;
    if (berth_digest_parse(*out, &hex, &derr) < 0)
        return berth_err_fail(err, EINVAL, "`%s`: %s", key, derr.msg);
    return 0;
}

static int
parse_platform(struct json_object *obj, struct sup_remote_platform *p, struct berth_err *err)
{
    const char *os = NULL, *arch = NULL, *variant = NULL, *os_version = NULL;

    if (!json_object_is_type(obj, json_type_object))
        return berth_err_fail(err, EINVAL, "expected object");
    if (get_required_string(obj, "os", &os, err) < 0 ||
        get_required_string(obj, "architecture", &arch, err) < 0 ||
        berth_json_get_string(obj, "variant", &variant, err) < 0 ||
        berth_json_get_string(obj, "os.version", &os_version, err) < 0)
        return -1;
    p->os = xstrdup(os);
    p->architecture = xstrdup(arch);
    p->variant = variant && *variant ? xstrdup(variant) : NULL;
    p->os_version = os_version && *os_version ? xstrdup(os_version) : NULL;
    return 0;
}

/* Fill d from the descriptor object obj. On failure d may hold part of it: the caller clears. */
static int
parse_desc(struct json_object *obj, bool with_platform, struct sup_remote_desc *d,
           struct berth_err *err)
{
    const char *mt = NULL, *digest = NULL;
    struct json_object *platform = NULL;
    int64_t size = 0;
    int r;

    if (!json_object_is_type(obj, json_type_object))
        return berth_err_fail(err, EINVAL, "expected object, got %s", berth_json_type_name(obj));
    if (get_required_string(obj, "mediaType", &mt, err) < 0)
        return -1;
    if (!is_valid_media_type(mt))
        return berth_err_fail(err, EINVAL, "`mediaType`: `%s` is not a media type", mt);
    if (get_digest(obj, "digest", &digest, err) < 0)
        return -1;
    r = berth_json_get_int64(obj, "size", &size, err);
    if (r < 0)
        return -1;
    if (r == 0)
        return berth_err_fail(err, EINVAL, "`size`: missing");
    if (size < 0)
        return berth_err_fail(err, EINVAL, "`size`: %lld is negative", (long long)size);
    d->media_type = xstrdup(mt);
    d->digest = xstrdup(digest);
    d->size = size;

    if (!with_platform)
        return 0;
    if (berth_json_get_object(obj, "platform", &platform, err) < 0)
        return -1;
    if (platform == NULL)
        return 0;
    d->platform = xzalloc(sizeof(*d->platform));
    if (parse_platform(platform, d->platform, err) < 0)
        return berth_err_wrap(err, "platform");
    return 0;
}

/* The array at key (required) as descriptors in *out / *n_out. */
static int
parse_desc_array(struct json_object *obj, const char *key, bool with_platform,
                 struct sup_remote_desc **out, size_t *n_out, struct berth_err *err)
{
    struct json_object *arr = NULL;
    int r = berth_json_get_array(obj, key, &arr, err);

    if (r < 0)
        return -1;
    if (r == 0)
        return berth_err_fail(err, EINVAL, "`%s`: missing", key);

    size_t n = json_object_array_length(arr);
    *out = xzalloc((n ? n : 1) * sizeof(**out));
    *n_out = n;
    for (size_t i = 0; i < n; i++) {
        if (parse_desc(json_object_array_get_idx(arr, i), with_platform, &(*out)[i], err) < 0)
            return berth_err_wrap(err, "%s[%zu]", key, i);
    }
    return 0;
}

/* ---- Manifests and indexes --------------------------------------------------------------- */

void
sup_remote_manifest_free(struct sup_remote_manifest *m)
{
    if (m == NULL)
        return;
    free(m->media_type);
    sup_remote_desc_clear(&m->config);
    for (size_t i = 0; i < m->n_layers; i++)
        sup_remote_desc_clear(&m->layers[i]);
    free(m->layers);
    for (size_t i = 0; i < m->n_manifests; i++)
        sup_remote_desc_clear(&m->manifests[i]);
    free(m->manifests);
    free(m);
}

static bool
has_key(struct json_object *obj, const char *key)
{
    return json_object_object_get_ex(obj, key, NULL);
}

/* Decide the document's kind and media type (see manifest.h). */
static int
classify(struct json_object *doc, const char *content_type, struct sup_remote_manifest *m,
         struct berth_err *err)
{
    const char *mt = NULL;
    bool ct_known = content_type && (sup_remote_is_index_type(content_type) ||
                                     sup_remote_is_manifest_type(content_type));

    if (berth_json_get_string(doc, "mediaType", &mt, err) < 0)
        return -1;
    if ((mt && is_schema1_type(mt)) || (content_type && is_schema1_type(content_type)))
        return berth_err_fail(err, ENOTSUP, "docker image manifest schema 1 is not supported");
    if (mt && !sup_remote_is_index_type(mt) && !sup_remote_is_manifest_type(mt))
        return berth_err_fail(err, ENOTSUP, "`mediaType`: unsupported manifest type `%s`", mt);
    if (mt && ct_known && !mt_is(content_type, mt))
        return berth_err_fail(err, EINVAL,
                              "`mediaType`: `%s` does not match the content type `%.*s`", mt,
                              (int)essence_len(content_type), content_type);
    if (mt == NULL && ct_known)
        mt = content_type;

    if (mt) {
        m->kind = sup_remote_is_index_type(mt) ? SUP_REMOTE_KIND_INDEX : SUP_REMOTE_KIND_MANIFEST;
        m->media_type = xstrndup(mt, essence_len(mt));
    } else if (has_key(doc, "manifests")) {
        m->kind = SUP_REMOTE_KIND_INDEX;
        m->media_type = xstrdup(SUP_REMOTE_MT_OCI_INDEX);
    } else if (has_key(doc, "config")) {
        m->kind = SUP_REMOTE_KIND_MANIFEST;
        m->media_type = xstrdup(SUP_REMOTE_MT_OCI_MANIFEST);
    } else {
        return berth_err_fail(err, EINVAL,
                              "not a manifest or an index: no `mediaType`, `manifests` or "
                              "`config`");
    }

    /* A document with the fields of both kinds could be taken for either by two readers that
     * pick differently; the image spec forbids it since 1.0.2. */
    if (m->kind == SUP_REMOTE_KIND_INDEX && (has_key(doc, "config") || has_key(doc, "layers")))
        return berth_err_fail(err, EINVAL, "an index must not have `config` or `layers`");
    if (m->kind == SUP_REMOTE_KIND_MANIFEST && has_key(doc, "manifests"))
        return berth_err_fail(err, EINVAL, "a manifest must not have `manifests`");
    return 0;
}

static int
parse_manifest_doc(struct json_object *doc, const char *content_type, struct sup_remote_manifest *m,
                   struct berth_err *err)
{
    struct json_object *config = NULL;
    int version = 0;
    int r;

    if (!json_object_is_type(doc, json_type_object))
        return berth_err_fail(err, EINVAL, "expected an object, got %s", berth_json_type_name(doc));
    r = berth_json_get_int(doc, "schemaVersion", &version, err);
    if (r < 0)
        return -1;
    if (r == 1 && version == 1)
        return berth_err_fail(err, ENOTSUP, "docker image manifest schema 1 is not supported");
    if (classify(doc, content_type, m, err) < 0)
        return -1;
    if (r == 0)
        return berth_err_fail(err, EINVAL, "`schemaVersion`: missing");
    if (version != 2)
        return berth_err_fail(err, EINVAL, "`schemaVersion`: %d, expected 2", version);

    if (m->kind == SUP_REMOTE_KIND_INDEX)
        return parse_desc_array(doc, "manifests", true, &m->manifests, &m->n_manifests, err);

    r = berth_json_get_object(doc, "config", &config, err);
    if (r < 0)
        return -1;
    if (r == 0)
        return berth_err_fail(err, EINVAL, "`config`: missing");
    if (parse_desc(config, false, &m->config, err) < 0)
        return berth_err_wrap(err, "config");
    return parse_desc_array(doc, "layers", false, &m->layers, &m->n_layers, err);
}

int
sup_remote_manifest_parse(const void *buf, size_t len, const char *content_type,
                          struct sup_remote_manifest **out, struct berth_err *err)
{
    if (len > SUP_REMOTE_MAX_MANIFEST_SIZE)
        return berth_err_fail(err, EFBIG, "manifest of %zu bytes is over the %d byte limit", len,
                              SUP_REMOTE_MAX_MANIFEST_SIZE);

    cleanup_json struct json_object *doc = berth_json_parse(buf, len, err);
    if (doc == NULL)
        return berth_err_wrap(err, "parse manifest");

    struct sup_remote_manifest *m = xzalloc(sizeof(*m));
    if (parse_manifest_doc(doc, content_type, m, err) < 0) {
        sup_remote_manifest_free(m);
        return berth_err_wrap(err, "parse manifest");
    }
    *out = m;
    return 0;
}

int
sup_remote_manifest_check_image(const struct sup_remote_manifest *m, struct berth_err *err)
{
    if (m->kind != SUP_REMOTE_KIND_MANIFEST)
        return berth_err_fail(err, EINVAL, "`%s` is an index, not an image manifest",
                              m->media_type);
    if (!sup_remote_is_config_type(m->config.media_type))
        return berth_err_fail(err, EINVAL, "config: media type `%s` is not an image config",
                              m->config.media_type);
    for (size_t i = 0; i < m->n_layers; i++) {
        if (!sup_remote_is_layer_type(m->layers[i].media_type))
            return berth_err_fail(err, EINVAL, "layers[%zu]: media type `%s` is not an image layer",
                                  i, m->layers[i].media_type);
    }
    return 0;
}

/* ---- Image configs ----------------------------------------------------------------------- */

void
sup_remote_config_free(struct sup_remote_config *c)
{
    if (c == NULL)
        return;
    sup_remote_platform_clear(&c->platform);
    if (c->diff_ids) {
        for (size_t i = 0; i < c->n_diff_ids; i++)
            free(c->diff_ids[i]);
        free(c->diff_ids);
    }
    free(c);
}

static int
parse_config_doc(struct json_object *doc, struct sup_remote_config *c, struct berth_err *err)
{
    struct json_object *rootfs = NULL;
    const char *type = NULL, *hex = NULL;
    int r;

    if (!json_object_is_type(doc, json_type_object))
        return berth_err_fail(err, EINVAL, "expected an object, got %s", berth_json_type_name(doc));
    if (parse_platform(doc, &c->platform, err) < 0)
        return -1;
    r = berth_json_get_object(doc, "rootfs", &rootfs, err);
    if (r < 0)
        return -1;
    if (r == 0)
        return berth_err_fail(err, EINVAL, "`rootfs`: missing");
    if (get_required_string(rootfs, "type", &type, err) < 0)
        return berth_err_wrap(err, "rootfs");
    if (strcmp(type, "layers") != 0)
        return berth_err_fail(err, EINVAL, "rootfs: `type`: `%s`, expected `layers`", type);
    r = berth_json_get_strv(rootfs, "diff_ids", &c->diff_ids, &c->n_diff_ids, err);
    if (r < 0)
        return berth_err_wrap(err, "rootfs");
    if (r == 0)
        return berth_err_fail(err, EINVAL, "rootfs: `diff_ids`: missing");
    for (size_t i = 0; i < c->n_diff_ids; i++) {
        cleanup_err struct berth_err derr = BERTH_ERR_INIT;
        if (berth_digest_parse(c->diff_ids[i], &hex, &derr) < 0)
            return berth_err_fail(err, EINVAL, "rootfs: `diff_ids`: item %zu: %s", i, derr.msg);
    }
    return 0;
}

int
sup_remote_config_parse(const void *buf, size_t len, struct sup_remote_config **out,
                        struct berth_err *err)
{
    if (len > SUP_REMOTE_MAX_CONFIG_SIZE)
        return berth_err_fail(err, EFBIG, "image config of %zu bytes is over the %d byte limit",
                              len, SUP_REMOTE_MAX_CONFIG_SIZE);

    cleanup_json struct json_object *doc = berth_json_parse(buf, len, err);
    if (doc == NULL)
        return berth_err_wrap(err, "parse image config");

    struct sup_remote_config *c = xzalloc(sizeof(*c));
    if (parse_config_doc(doc, c, err) < 0) {
        sup_remote_config_free(c);
        return berth_err_wrap(err, "parse image config");
    }
    *out = c;
    return 0;
}

int
sup_remote_config_check(const struct sup_remote_manifest *m, const struct sup_remote_config *c,
                        struct berth_err *err)
{
    if (m->kind != SUP_REMOTE_KIND_MANIFEST)
        return berth_err_fail(err, EINVAL, "`%s` is an index, not an image manifest",
                              m->media_type);
    if (c->n_diff_ids != m->n_layers)
        return berth_err_fail(err, EINVAL,
                              "image config %s lists %zu layer diff ids for a manifest of %zu "
                              "layers",
                              m->config.digest, c->n_diff_ids, m->n_layers);
    return 0;
}
