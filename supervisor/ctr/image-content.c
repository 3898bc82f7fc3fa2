/* SPDX-License-Identifier: Apache-2.0
 *
 * An image's documents read from the content store (image-content.h).
 */
#include "supervisor/ctr/image-content.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "berth/supervisor/v1/content.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/rpc.h"
#include "supervisor/ctr/client.h"
#include "supervisor/ctr/ctr.h"

#define CONTENT (&berth__supervisor__v1__content__descriptor)

/* Indexes and manifests are small; anything bigger is not one. */
#define MAX_MANIFEST (4 * 1024 * 1024)

#define MT_INDEX_OCI    "application/vnd.oci.image.index.v1+json"
#define MT_INDEX_DOCKER "application/vnd.docker.distribution.manifest.list.v2+json"

typedef Berth__Supervisor__V1__Image image_t;

static bool
is_index(const char *media_type)
{
    return media_type &&
           (strcmp(media_type, MT_INDEX_OCI) == 0 || strcmp(media_type, MT_INDEX_DOCKER) == 0);
}

/* A blob of the content store, whole (at most MAX_MANIFEST bytes), parsed as JSON. */
struct json_object *
ctr_content_read_json(struct ctr_global *g, const char *digest, struct berth_err *err)
{
    Berth__Supervisor__V1__ReadContentRequest req =
        BERTH__SUPERVISOR__V1__READ_CONTENT_REQUEST__INIT;
    req.digest = (char *)digest;
    struct berth_rpc_stream *s = ctr_stream(g, CONTENT, "Read", &req.base, err);
    if (!s)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    int r;
    for (;;) {
        cleanup_pb Berth__Supervisor__V1__ReadContentResponse *m = NULL;
        r = berth_rpc_stream_next(s, (ProtobufCMessage **)&m, err);
        if (r <= 0)
            break;
        if (len + m->data.len > MAX_MANIFEST) {
            r = berth_err_fail(err, EFBIG, "blob `%s` is too big for a manifest", digest);
            break;
        }
        buf = xrealloc(buf, len + m->data.len + 1);
        memcpy(buf + len, m->data.data, m->data.len);
        len += m->data.len;
    }
    berth_rpc_stream_free(s);
    struct json_object *o = r == 0 ? berth_json_parse(buf ? buf : "", len, err) : NULL;
    free(buf);
    return o;
}

static const char *
json_str(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static struct json_object *
json_arr(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
        return NULL;
    return v;
}

/* "os/arch[/variant]" of a platform object (index entries, image configs). Heap. */
static char *
platform_string(struct json_object *p)
{
    const char *os = json_str(p, "os"), *arch = json_str(p, "architecture");
    const char *variant = json_str(p, "variant");
    if (!os || !arch)
        return xstrdup("unknown");
    if (variant && *variant)
        return xasprintf("%s/%s/%s", os, arch, variant);
    return xasprintf("%s/%s", os, arch);
}

/* The platforms of an image: every entry of its index, or its config's os/arch. "-" when
 * they cannot be read (missing content). Heap. */
char *
ctr_image_platforms(struct ctr_global *g, const image_t *img)
{
    struct berth_err ignored = BERTH_ERR_INIT;
    const Berth__Supervisor__V1__Descriptor *t = img->target;
    char *out = NULL;
    cleanup_json struct json_object *doc = t ? ctr_content_read_json(g, t->digest, &ignored) : NULL;
    berth_err_clear(&ignored);
    if (!doc)
        return xstrdup("-");
    if (is_index(t->media_type)) {
        struct json_object *m = json_arr(doc, "manifests");
        for (size_t i = 0; m && i < json_object_array_length(m); i++) {
            struct json_object *p = NULL;
            if (!json_object_object_get_ex(json_object_array_get_idx(m, i), "platform", &p))
                continue;
            cleanup_free char *s = platform_string(p);
            char *joined = out ? xasprintf("%s,%s", out, s) : xstrdup(s);
            free(out);
            out = joined;
        }
        return out ? out : xstrdup("-");
    }
    struct json_object *cfg = NULL;
    const char *cfg_digest =
        json_object_object_get_ex(doc, "config", &cfg) ? json_str(cfg, "digest") : NULL;
    cleanup_json struct json_object *config =
        cfg_digest ? ctr_content_read_json(g, cfg_digest, &ignored) : NULL;
    berth_err_clear(&ignored);
    return config ? platform_string(config) : xstrdup("-");
}

/* The host's platform, as images name it ("linux/amd64"). Heap. */
static char *
host_platform(void)
{
    static const struct {
        const char *machine, *arch;
    } arches[] = {
        {"x86_64", "amd64"},    {"aarch64", "arm64"}, {"armv7l", "arm/v7"},
        {"armv6l", "arm/v6"},   {"i686", "386"},      {"i386", "386"},
        {"ppc64le", "ppc64le"}, {"s390x", "s390x"},   {"riscv64", "riscv64"},
    };
    struct utsname u;
    if (uname(&u) == 0)
        for (size_t i = 0; i < ARRAY_SIZE(arches); i++)
            if (strcmp(u.machine, arches[i].machine) == 0)
                return xasprintf("linux/%s", arches[i].arch);
    return xstrdup("linux/amd64");
}

/* Does platform p ("os/arch[/variant]") name the entry's platform? A wanted platform without
 * a variant takes any variant. */
static bool
platform_matches(struct json_object *entry, const char *want)
{
    struct json_object *p = NULL;
    if (!json_object_object_get_ex(entry, "platform", &p))
        return false;
    cleanup_free char *have = platform_string(p);
    size_t n = strlen(want);
    return strcmp(have, want) == 0 || (strncmp(have, want, n) == 0 && have[n] == '/');
}

/* Blobs the image needs for platform: the index (if any), the manifest, its config and its
 * layers. 0 when the manifest cannot be read (not stored). */
size_t
ctr_image_count_blobs(struct ctr_global *g, const image_t *img, const char *platform)
{
    struct berth_err ignored = BERTH_ERR_INIT;
    const Berth__Supervisor__V1__Descriptor *t = img->target;
    size_t n = 0;
    if (!t)
        return 0;
    cleanup_json struct json_object *doc = ctr_content_read_json(g, t->digest, &ignored);
    berth_err_clear(&ignored);
    cleanup_json struct json_object *manifest = NULL;
    if (doc && is_index(t->media_type)) {
        cleanup_free char *want = platform && *platform ? xstrdup(platform) : host_platform();
        struct json_object *list = json_arr(doc, "manifests");
        n = 1;
        for (size_t i = 0; list && i < json_object_array_length(list) && !manifest; i++) {
            struct json_object *e = json_object_array_get_idx(list, i);
            const char *digest = json_str(e, "digest");
            if (digest && platform_matches(e, want))
                manifest = ctr_content_read_json(g, digest, &ignored);
            berth_err_clear(&ignored);
        }
    } else if (doc) {
        manifest = json_object_get(doc);
    }
    struct json_object *layers = json_arr(manifest, "layers");
    if (!manifest)
        return 0;
    return n + 2 + (layers ? json_object_array_length(layers) : 0);
}
