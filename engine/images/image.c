/* SPDX-License-Identifier: Apache-2.0
 *
 * Images as docker shows them, over the supervisor's records (image.h).
 */
#include "engine/images/image.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "berth/supervisor/v1/images.pb-c.h"
#include "common/cleanup.h"
#include "common/digest.h"
#include "common/error.h"
#include "common/json.h"
#include "common/reference.h"
#include "engine/daemon.h"
#include "engine/supervisor/client.h"

#define SVC (&berth__supervisor__v1__images__descriptor)

void
eng_image_free(struct eng_image *img)
{
    if (!img)
        return;
    free(img->id);
    for (size_t i = 0; i < img->n_names; i++)
        free(img->names[i]);
    free(img->names);
    free(img->target);
    if (img->config)
        json_object_put(img->config);
    free(img);
}

void
eng_image_list_release(struct eng_image_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        eng_image_free(l->images[i]);
    free(l->images);
    l->images = NULL;
    l->n = 0;
}

static void
add_name(struct eng_image *img, const char *name)
{
    img->names = xrealloc(img->names, (img->n_names + 2) * sizeof(*img->names));
    img->names[img->n_names++] = xstrdup(name);
    img->names[img->n_names] = NULL;
}

/* The config of record r: its ID and document. 0 with *out NULL when it has none stored. */
static int
read_config(struct eng_daemon *d, const Berth__Supervisor__V1__Image *r, struct eng_image **out,
            struct berth_err *err)
{
    *out = NULL;
    Berth__Supervisor__V1__CheckImageRequest req = BERTH__SUPERVISOR__V1__CHECK_IMAGE_REQUEST__INIT;
    req.name = r->name;
    cleanup_pb Berth__Supervisor__V1__CheckImageResponse *resp = NULL;
    if (eng_sup_call(d->sup, SVC, "Check", &req.base, &resp, err) < 0)
        return -1;
    if (!resp->config.len)
        return 0;
    cleanup_err struct berth_err perr = BERTH_ERR_INIT;
    struct json_object *cfg =
        berth_json_parse((const char *)resp->config.data, resp->config.len, &perr);
    if (!cfg)
        return 0;
    struct eng_image *img = xzalloc(sizeof(*img));
    if (resp->config_digest && *resp->config_digest) {
        /* The content store verified it: no need to hash here (nor to load libcrypto). */
        img->id = xstrdup(resp->config_digest);
    } else {
        char hex[BERTH_SHA256_HEX_LEN + 1];
        berth_sha256_buf(resp->config.data, resp->config.len, hex);
        img->id = xasprintf("sha256:%s", hex);
    }
    img->config = cfg;
    img->size = resp->size;
    img->target = xstrdup(r->target && r->target->digest ? r->target->digest : "");
    img->target_size = r->target ? r->target->size : 0;
    img->record_created_ns = r->created_at;
    *out = img;
    return 0;
}

int
eng_image_list(struct eng_daemon *d, struct eng_image_list *out, struct berth_err *err)
{
    memset(out, 0, sizeof(*out));
    Berth__Supervisor__V1__ListImagesRequest req = BERTH__SUPERVISOR__V1__LIST_IMAGES_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__ListImagesResponse *resp = NULL;
    if (eng_sup_call(d->sup, SVC, "List", &req.base, &resp, err) < 0)
        return -1;
    for (size_t i = 0; i < resp->n_images; i++) {
        struct eng_image *img = NULL;
        if (read_config(d, resp->images[i], &img, err) < 0) {
            /* Removed between List and Check: it is simply gone. */
            if (err->code == ENOENT) {
                berth_err_clear(err);
                continue;
            }
            eng_image_list_release(out);
            return -1;
        }
        if (!img)
            continue;
        struct eng_image *same = NULL;
        for (size_t j = 0; j < out->n && !same; j++)
            if (strcmp(out->images[j]->id, img->id) == 0)
                same = out->images[j];
        if (same) {
            add_name(same, resp->images[i]->name);
            eng_image_free(img);
            continue;
        }
        add_name(img, resp->images[i]->name);
        out->images = xrealloc(out->images, (out->n + 1) * sizeof(*out->images));
        out->images[out->n++] = img;
    }
    return 0;
}

static struct eng_image *
copy_image(const struct eng_image *src)
{
    struct eng_image *img = xzalloc(sizeof(*img));
    img->id = xstrdup(src->id);
    for (size_t i = 0; i < src->n_names; i++)
        add_name(img, src->names[i]);
    img->target = xstrdup(src->target);
    img->target_size = src->target_size;
    img->size = src->size;
    img->record_created_ns = src->record_created_ns;
    img->config = json_object_get(src->config);
    return img;
}

static bool
is_id_like(const char *s)
{
    if (strncmp(s, "sha256:", 7) == 0)
        s += 7;
    size_t n = strlen(s);
    return n > 0 && n <= 64 && strspn(s, "0123456789abcdef") == n;
}

bool
eng_image_name_is_dangling(const char *name)
{
    cleanup_free char *fam = eng_image_familiar(name);
    size_t n = strlen(ENG_IMAGE_DANGLING_REPO);
    return strncmp(fam, ENG_IMAGE_DANGLING_REPO, n) == 0 && fam[n] == '@';
}

char *
eng_image_normalize(const char *name, struct berth_err *err)
{
    cleanup_ref struct berth_ref ref = BERTH_REF_INIT;
    if (berth_ref_parse(name, &ref, err) < 0)
        return NULL;
    return berth_ref_string(&ref);
}

int
eng_image_resolve(struct eng_daemon *d, const char *name, struct eng_image **out, int *by_name,
                  struct berth_err *err)
{
    *out = NULL;
    struct eng_image_list l __attribute__((cleanup(eng_image_list_release))) = {0};
    if (eng_image_list(d, &l, err) < 0)
        return -1;
    cleanup_err struct berth_err perr = BERTH_ERR_INIT;
    cleanup_free char *full = eng_image_normalize(name, &perr);
    for (size_t i = 0; full && i < l.n; i++)
        for (size_t j = 0; j < l.images[i]->n_names; j++)
            if (strcmp(l.images[i]->names[j], full) == 0) {
                *out = copy_image(l.images[i]);
                *by_name = 1;
                return 0;
            }
    if (is_id_like(name)) {
        const char *hex = strncmp(name, "sha256:", 7) == 0 ? name + 7 : name;
        struct eng_image *found = NULL;
        size_t n_found = 0;
        for (size_t i = 0; i < l.n; i++)
            if (strncmp(l.images[i]->id + 7, hex, strlen(hex)) == 0) {
                found = l.images[i];
                n_found++;
            }
        if (n_found == 1) {
            *out = copy_image(found);
            *by_name = 0;
            return 0;
        }
    }
    return berth_err_fail(err, ENOENT, "No such image: %s", name);
}

int
eng_image_count(struct eng_daemon *d, int64_t *out, struct berth_err *err)
{
    struct eng_image_list l __attribute__((cleanup(eng_image_list_release))) = {0};
    if (eng_image_list(d, &l, err) < 0)
        return -1;
    *out = (int64_t)l.n;
    return 0;
}

char *
eng_image_familiar(const char *name)
{
    cleanup_ref struct berth_ref ref = BERTH_REF_INIT;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    if (berth_ref_parse(name, &ref, &err) < 0)
        return xstrdup(name);
    return berth_ref_familiar(&ref);
}

int
eng_image_name_is_tag(const char *name)
{
    return strchr(name, '@') == NULL;
}

int64_t
eng_image_created(struct json_object *config)
{
    struct json_object *v = NULL;
    if (!config || !json_object_object_get_ex(config, "created", &v) ||
        !json_object_is_type(v, json_type_string))
        return 0;
    struct tm tm = {0};
    const char *rest = strptime(json_object_get_string(v), "%Y-%m-%dT%H:%M:%S", &tm);
    if (!rest)
        return 0;
    return (int64_t)timegm(&tm);
}

const char *
eng_image_goarch(const char *machine)
{
    if (strcmp(machine, "x86_64") == 0)
        return "amd64";
    if (strcmp(machine, "aarch64") == 0)
        return "arm64";
    if (strncmp(machine, "armv", 4) == 0)
        return "arm";
    if (strcmp(machine, "i686") == 0 || strcmp(machine, "i386") == 0)
        return "386";
    return machine;
}

int
eng_image_host_is_loopback(const char *domain)
{
    size_t n = strcspn(domain, ":");
    if (domain[0] == '[')
        return strncmp(domain, "[::1]", 5) == 0;
    return (n == 9 && strncmp(domain, "localhost", 9) == 0) || strncmp(domain, "127.", 4) == 0;
}
