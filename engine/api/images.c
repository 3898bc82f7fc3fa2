/* SPDX-License-Identifier: Apache-2.0
 *
 * The image endpoints that read and rename: list, inspect, history, tag, delete, prune (and
 * search, which berthd does not do). Transfers (pull, push, save, load) are in
 * images-transfer.c.
 */
#include <errno.h>
#include <fnmatch.h>
#include <pthread.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "berth/supervisor/v1/images.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/reference.h"
#include "engine/api/handlers.h"
#include "engine/api/request.h"
#include "engine/containers/containers.h"
#include "engine/daemon.h"
#include "engine/events/events.h"
#include "engine/images/image.h"
#include "engine/supervisor/client.h"

#define SVC (&berth__supervisor__v1__images__descriptor)

static struct json_object *
copy(struct json_object *v)
{
    return v ? json_object_get(v) : NULL;
}

static bool match_name(const char *name, const char *pattern);

/* RepoTags and RepoDigests, in docker's familiar forms; with refs (a reference filter), only
 * the names that match, as dockerd lists them. */
static void
repo_lists(const struct eng_image *img, const char *const *refs, struct json_object **tags,
           struct json_object **digests)
{
    *tags = json_object_new_array();
    *digests = json_object_new_array();
    for (size_t i = 0; i < img->n_names; i++) {
        bool wanted = !refs;
        for (const char *const *r = refs; r && *r && !wanted; r++)
            wanted = match_name(img->names[i], *r);
        if (!wanted || eng_image_name_is_dangling(img->names[i]))
            continue;
        cleanup_free char *fam = eng_image_familiar(img->names[i]);
        if (eng_image_name_is_tag(img->names[i])) {
            json_object_array_add(*tags, json_object_new_string(fam));
            /* The repository at the digest it was pulled or loaded as. */
            size_t repo = strcspn(fam, "@");
            char *colon = strrchr(fam, ':');
            if (colon && !strchr(colon, '/'))
                repo = (size_t)(colon - fam);
            cleanup_free char *d = xasprintf("%.*s@%s", (int)repo, fam, img->target);
            bool seen = false;
            for (size_t j = 0; j < json_object_array_length(*digests); j++)
                seen =
                    seen ||
                    strcmp(json_object_get_string(json_object_array_get_idx(*digests, j)), d) == 0;
            if (!seen)
                json_object_array_add(*digests, json_object_new_string(d));
        } else {
            json_object_array_add(*digests, json_object_new_string(fam));
        }
    }
}

static struct json_object *
labels_of(const struct eng_image *img)
{
    struct json_object *l = berth_json_member(berth_json_member(img->config, "config"), "Labels");
    return json_object_is_type(l, json_type_object) ? json_object_get(l) : json_object_new_object();
}

static struct json_object *
summary(const struct eng_image *img, const char *const *refs)
{
    struct json_object *tags, *digests;
    repo_lists(img, refs, &tags, &digests);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "Containers", json_object_new_int(-1));
    json_object_object_add(o, "Created", json_object_new_int64(eng_image_created(img->config)));
    json_object_object_add(o, "Id", json_object_new_string(img->id));
    json_object_object_add(o, "Labels", labels_of(img));
    json_object_object_add(o, "ParentId", json_object_new_string(""));
    json_object_object_add(o, "RepoDigests", digests);
    json_object_object_add(o, "RepoTags", tags);
    json_object_object_add(o, "SharedSize", json_object_new_int(-1));
    json_object_object_add(o, "Size", json_object_new_int64(img->size));
    json_object_object_add(o, "VirtualSize", json_object_new_int64(img->size));
    return o;
}

/* ---------------------------------------------------------------- filters */

/* docker's filters: {"key": {"value": true, ...}} or the older {"key": ["value", ...]}.
 * Calls fn for each value of key; stops at the first 0 it returns. */
struct filters {
    struct json_object *doc;
};

static int
filters_parse(struct eng_api_req *req, struct filters *f, struct berth_err *err)
{
    static const char *const known[] = {"reference", "dangling", "label", "before", "since"};
    f->doc = NULL;
    const char *q = eng_api_query(req, "filters");
    if (!q || !*q)
        return 0;
    struct json_object *o = berth_json_parse(q, strlen(q), err);
    if (!o || !json_object_is_type(o, json_type_object)) {
        if (o)
            json_object_put(o);
        berth_err_clear(err);
        return berth_err_fail(err, EINVAL, "invalid filter: `filters` is not a JSON object");
    }
    json_object_object_foreach(o, key, val)
    {
        bool ok = false;
        for (size_t i = 0; i < ARRAY_SIZE(known); i++)
            ok = ok || strcmp(key, known[i]) == 0;
        /* key lives in o: the message is made before o goes. */
        if (!ok || (!json_object_is_type(val, json_type_object) &&
                    !json_object_is_type(val, json_type_array))) {
            berth_err_fail(err, EINVAL, "invalid filter '%s'", key);
            json_object_put(o);
            return -1;
        }
        if (strcmp(key, "before") == 0 || strcmp(key, "since") == 0) {
            berth_err_fail(err, ENOTSUP, "filter '%s' is not supported", key);
            json_object_put(o);
            return -1;
        }
    }
    f->doc = o;
    return 0;
}

/* The values of key, as a NULL-terminated vector of borrowed strings (NULL: key absent). */
static const char **
filter_values(struct filters *f, const char *key)
{
    struct json_object *v = berth_json_member(f->doc, key);
    if (!v)
        return NULL;
    size_t n = 0;
    const char **out = xzalloc(sizeof(*out));
    if (json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            out = xrealloc(out, (n + 2) * sizeof(*out));
            out[n++] = json_object_get_string(json_object_array_get_idx(v, i));
            out[n] = NULL;
        }
    } else {
        json_object_object_foreach(v, k, b)
        {
            (void)b;
            out = xrealloc(out, (n + 2) * sizeof(*out));
            out[n++] = k;
            out[n] = NULL;
        }
    }
    return out;
}

/* A reference filter matches the familiar name with or without its tag. */
static bool
match_name(const char *name, const char *pattern)
{
    cleanup_free char *fam = eng_image_familiar(name);
    cleanup_free char *repo = xstrndup(fam, strcspn(fam, "@"));
    char *colon = strrchr(repo, ':');
    if (colon && !strchr(colon, '/'))
        *colon = '\0';
    return fnmatch(pattern, fam, 0) == 0 || fnmatch(pattern, repo, 0) == 0;
}

static bool
match_reference(const struct eng_image *img, const char *pattern)
{
    for (size_t i = 0; i < img->n_names; i++)
        if (match_name(img->names[i], pattern))
            return true;
    return false;
}

static bool
match_label(const struct eng_image *img, const char *want)
{
    cleanup_json struct json_object *labels = labels_of(img);
    const char *eq = strchr(want, '=');
    cleanup_free char *key = xstrndup(want, eq ? (size_t)(eq - want) : strlen(want));
    struct json_object *v = berth_json_member(labels, key);
    if (!v)
        return false;
    return !eq || strcmp(json_object_get_string(v), eq + 1) == 0;
}

static bool
has_tag(const struct eng_image *img)
{
    for (size_t i = 0; i < img->n_names; i++)
        if (eng_image_name_is_tag(img->names[i]))
            return true;
    return false;
}

static int
filters_match(struct filters *f, const struct eng_image *img, bool *out, struct berth_err *err)
{
    *out = true;
    cleanup_free const char **refs = filter_values(f, "reference");
    cleanup_free const char **labels = filter_values(f, "label");
    cleanup_free const char **dangling = filter_values(f, "dangling");
    if (refs) {
        bool any = false;
        for (const char **r = refs; *r && !any; r++)
            any = match_reference(img, *r);
        *out = *out && any;
    }
    for (const char **l = labels; l && *l; l++)
        *out = *out && match_label(img, *l);
    for (const char **v = dangling; v && *v; v++) {
        bool want;
        if (strcmp(*v, "true") == 0 || strcmp(*v, "1") == 0)
            want = true;
        else if (strcmp(*v, "false") == 0 || strcmp(*v, "0") == 0)
            want = false;
        else
            return berth_err_fail(err, EINVAL, "invalid filter 'dangling=%s'", *v);
        *out = *out && want == !has_tag(img);
    }
    return 0;
}

/* ---------------------------------------------------------------- handlers */

ENG_API_HANDLER(eng_api_images_list)
{
    struct filters f = {0};
    if (filters_parse(req, &f, err) < 0)
        return -1;
    cleanup_json struct json_object *doc = f.doc;
    struct eng_image_list l __attribute__((cleanup(eng_image_list_release))) = {0};
    if (eng_image_list(req->d, &l, err) < 0)
        return -1;
    cleanup_free const char **refs = filter_values(&f, "reference");
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; i < l.n; i++) {
        bool ok;
        if (filters_match(&f, l.images[i], &ok, err) < 0) {
            json_object_put(a);
            return -1;
        }
        if (ok)
            json_object_array_add(a, summary(l.images[i], refs));
    }
    return eng_api_reply_json(req, 200, a);
}

static int
resolve(struct eng_api_req *req, struct eng_image **img, int *by_name, struct berth_err *err)
{
    int dummy;
    return eng_image_resolve(req->d, eng_api_param(&req->params, "name"), img,
                             by_name ? by_name : &dummy, err);
}

static void
image_freep(struct eng_image **img)
{
    eng_image_free(*img);
}
#define cleanup_image __attribute__((cleanup(image_freep)))

ENG_API_HANDLER(eng_api_images_inspect)
{
    cleanup_image struct eng_image *img = NULL;
    if (resolve(req, &img, NULL, err) < 0)
        return -1;
    struct json_object *c = img->config;
    struct json_object *tags, *digests;
    repo_lists(img, NULL, &tags, &digests);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "Id", json_object_new_string(img->id));
    json_object_object_add(o, "RepoTags", tags);
    json_object_object_add(o, "RepoDigests", digests);
    json_object_object_add(o, "Parent", json_object_new_string(""));
    json_object_object_add(o, "Comment",
                           copy(berth_json_member(c, "comment")) ?: json_object_new_string(""));
    json_object_object_add(o, "Created",
                           copy(berth_json_member(c, "created")) ?: json_object_new_string(""));
    json_object_object_add(o, "Container", json_object_new_string(""));
    json_object_object_add(o, "DockerVersion",
                           copy(berth_json_member(c, "docker_version"))
                               ?: json_object_new_string(""));
    json_object_object_add(o, "Author",
                           copy(berth_json_member(c, "author")) ?: json_object_new_string(""));
    json_object_object_add(o, "Config", copy(berth_json_member(c, "config")));
    json_object_object_add(o, "Architecture",
                           copy(berth_json_member(c, "architecture"))
                               ?: json_object_new_string(""));
    if (berth_json_member(c, "variant"))
        json_object_object_add(o, "Variant", copy(berth_json_member(c, "variant")));
    json_object_object_add(o, "Os", copy(berth_json_member(c, "os")) ?: json_object_new_string(""));
    json_object_object_add(o, "Size", json_object_new_int64(img->size));
    json_object_object_add(o, "VirtualSize", json_object_new_int64(img->size));
    struct json_object *gd = json_object_new_object();
    json_object_object_add(gd, "Data", NULL);
    json_object_object_add(gd, "Name", json_object_new_string("overlay2"));
    json_object_object_add(o, "GraphDriver", gd);
    struct json_object *rootfs = json_object_new_object();
    json_object_object_add(rootfs, "Type", json_object_new_string("layers"));
    json_object_object_add(rootfs, "Layers",
                           copy(berth_json_member(berth_json_member(c, "rootfs"), "diff_ids"))
                               ?: json_object_new_array());
    json_object_object_add(o, "RootFS", rootfs);
    struct json_object *md = json_object_new_object();
    json_object_object_add(md, "LastTagTime", json_object_new_string("0001-01-01T00:00:00Z"));
    json_object_object_add(o, "Metadata", md);
    return eng_api_reply_json(req, 200, o);
}

ENG_API_HANDLER(eng_api_images_history)
{
    cleanup_image struct eng_image *img = NULL;
    if (resolve(req, &img, NULL, err) < 0)
        return -1;
    struct json_object *h = berth_json_member(img->config, "history");
    size_t n = json_object_is_type(h, json_type_array) ? json_object_array_length(h) : 0;
    struct json_object *a = json_object_new_array();
    /* Newest first, the image itself on top with its tags. */
    for (size_t k = n; k-- > 0;) {
        struct json_object *e = json_object_array_get_idx(h, k);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "Id", json_object_new_string(k == n - 1 ? img->id : "<missing>"));
        struct json_object *cfg = json_object_new_object();
        json_object_object_add(cfg, "created", copy(berth_json_member(e, "created")));
        json_object_object_add(o, "Created", json_object_new_int64(eng_image_created(cfg)));
        json_object_put(cfg);
        json_object_object_add(
            o, "CreatedBy", copy(berth_json_member(e, "created_by")) ?: json_object_new_string(""));
        struct json_object *tags = NULL;
        if (k == n - 1) {
            struct json_object *digests;
            repo_lists(img, NULL, &tags, &digests);
            json_object_put(digests);
        }
        json_object_object_add(o, "Tags", tags);
        json_object_object_add(o, "Size", json_object_new_int64(0));
        json_object_object_add(o, "Comment",
                               copy(berth_json_member(e, "comment")) ?: json_object_new_string(""));
        json_object_array_add(a, o);
    }
    return eng_api_reply_json(req, 200, a);
}

/* The record for target under name: created, or moved there when the name is taken (docker
 * moves a tag). */
static int
put_record(struct eng_daemon *d, const char *name, const Berth__Supervisor__V1__Descriptor *t,
           struct berth_err *err)
{
    Berth__Supervisor__V1__Image im = BERTH__SUPERVISOR__V1__IMAGE__INIT;
    im.name = (char *)name;
    im.target = (Berth__Supervisor__V1__Descriptor *)t;
    Berth__Supervisor__V1__CreateImageRequest c = BERTH__SUPERVISOR__V1__CREATE_IMAGE_REQUEST__INIT;
    c.image = &im;
    cleanup_pb Berth__Supervisor__V1__CreateImageResponse *cr = NULL;
    if (eng_sup_call(d->sup, SVC, "Create", &c.base, &cr, err) == 0)
        return 0;
    if (err->code != EEXIST)
        return -1;
    berth_err_clear(err);
    Berth__Supervisor__V1__UpdateImageRequest u = BERTH__SUPERVISOR__V1__UPDATE_IMAGE_REQUEST__INIT;
    static char *mask[] = {"target"};
    u.image = &im;
    u.update_mask = mask;
    u.n_update_mask = 1;
    cleanup_pb Berth__Supervisor__V1__UpdateImageResponse *ur = NULL;
    return eng_sup_call(d->sup, SVC, "Update", &u.base, &ur, err);
}

/* The target descriptor of a record. */
static int
record_target(struct eng_daemon *d, const char *name, Berth__Supervisor__V1__GetImageResponse **out,
              struct berth_err *err)
{
    Berth__Supervisor__V1__GetImageRequest g = BERTH__SUPERVISOR__V1__GET_IMAGE_REQUEST__INIT;
    g.name = (char *)name;
    if (eng_sup_call(d->sup, SVC, "Get", &g.base, out, err) < 0)
        return -1;
    if (!(*out)->image || !(*out)->image->target)
        return berth_err_fail(err, ENOENT, "No such image: %s", name);
    return 0;
}

/* An image event as dockerd logs them: the image ID, and the name concerned. */
static void
image_event(struct eng_daemon *d, const char *action, const char *id, const char *name)
{
    struct json_object *a = json_object_new_object();
    json_object_object_add(a, "name", json_object_new_string(name));
    eng_events_publish(d->events, "image", action, id, a);
}

ENG_API_HANDLER(eng_api_images_tag)
{
    const char *repo = eng_api_query(req, "repo");
    const char *tag = eng_api_query(req, "tag");
    if (!repo || !*repo)
        return berth_err_fail(err, EINVAL, "repository name must have at least one component");
    if (tag && *tag && berth_ref_check_tag(tag, err) < 0)
        return -1;
    cleanup_free char *want = xasprintf("%s%s%s", repo, tag && *tag ? ":" : "", tag ? tag : "");
    cleanup_ref struct berth_ref ref = BERTH_REF_INIT;
    if (berth_ref_parse(want, &ref, err) < 0)
        return -1;
    if (ref.digest)
        return berth_err_fail(err, EINVAL, "refusing to create a tag with a digest reference");
    cleanup_free char *name = berth_ref_string(&ref);
    cleanup_image struct eng_image *img = NULL;
    if (resolve(req, &img, NULL, err) < 0)
        return -1;
    cleanup_pb Berth__Supervisor__V1__GetImageResponse *src = NULL;
    if (record_target(req->d, img->names[0], &src, err) < 0 ||
        put_record(req->d, name, src->image->target, err) < 0)
        return -1;
    cleanup_free char *fam = berth_ref_familiar(&ref);
    image_event(req->d, "tag", img->id, fam);
    return eng_api_reply_data(req, 201, NULL, "", 0);
}

static int
delete_record(struct eng_daemon *d, const char *name, struct berth_err *err)
{
    Berth__Supervisor__V1__DeleteImageRequest r = BERTH__SUPERVISOR__V1__DELETE_IMAGE_REQUEST__INIT;
    r.name = (char *)name;
    cleanup_pb Berth__Supervisor__V1__DeleteImageResponse *resp = NULL;
    return eng_sup_call(d->sup, SVC, "Delete", &r.base, &resp, err);
}

static void
add_item(struct json_object *a, const char *key, const char *value)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, key, json_object_new_string(value));
    json_object_array_add(a, o);
}

static char *
short_id(const char *id)
{
    return xstrndup(id + 7, 12);
}

/* A container made from image_id (a running one when there is one), as a short id, or NULL;
 * *running says whether it runs. Images in use are neither pruned nor deleted unforced. */
static char *
image_user(struct eng_daemon *d, const char *image_id, bool *running)
{
    size_t n = 0;
    struct eng_ctr **v = eng_ctr_list(d, &n);
    char *user = NULL;
    *running = false;
    for (size_t i = 0; i < n && !*running; i++) {
        struct eng_ctr *c = v[i];
        if (!c->image_id || strcmp(c->image_id, image_id) != 0)
            continue;
        pthread_mutex_lock(&c->lock);
        bool up = c->status == ENG_CTR_RUNNING || c->status == ENG_CTR_PAUSED ||
                  c->status == ENG_CTR_RESTARTING;
        pthread_mutex_unlock(&c->lock);
        if (!user || up) {
            free(user);
            user = xstrndup(c->id, 12);
            *running = up;
        }
    }
    eng_ctr_list_free(v, n);
    return user;
}

ENG_API_HANDLER(eng_api_images_delete)
{
    bool force = false, noprune = false;
    if (eng_api_query_bool(req, "force", &force, err) < 0 ||
        eng_api_query_bool(req, "noprune", &noprune, err) < 0)
        return -1;
    const char *name = eng_api_param(&req->params, "name");
    cleanup_image struct eng_image *img = NULL;
    int by_name = 0;
    if (resolve(req, &img, &by_name, err) < 0)
        return -1;
    struct json_object *a = json_object_new_array();
    cleanup_free char *full = by_name ? eng_image_normalize(name, err) : NULL;
    if (by_name && !full) {
        json_object_put(a);
        return -1;
    }
    size_t n_tags = 0;
    for (size_t i = 0; i < img->n_names; i++)
        n_tags += eng_image_name_is_tag(img->names[i]) ? 1 : 0;
    if (!by_name && n_tags > 1 && !force) {
        json_object_put(a);
        cleanup_free char *s = short_id(img->id);
        return berth_err_fail(err, EBUSY,
                              "conflict: unable to delete %s (must be forced) - image is "
                              "referenced in multiple repositories",
                              s);
    }
    /* A name removes that name, and the image with it when it was the last tag; an ID
     * removes every name. */
    bool last = !by_name || n_tags <= 1 || !eng_image_name_is_tag(full);
    bool running = false;
    cleanup_free char *user = last ? image_user(req->d, img->id, &running) : NULL;
    if (user && (!force || running)) {
        json_object_put(a);
        cleanup_free char *s = short_id(img->id);
        if (running && force)
            return berth_err_fail(err, EBUSY,
                                  "conflict: unable to delete %s (cannot be forced) - image is "
                                  "being used by running container %s",
                                  s, user);
        if (by_name)
            return berth_err_fail(err, EBUSY,
                                  "conflict: unable to remove repository reference \"%s\" (must "
                                  "force) - container %s is using its referenced image %s",
                                  name, user, s);
        return berth_err_fail(err, EBUSY,
                              "conflict: unable to delete %s (must be forced) - image is being "
                              "used by %s container %s",
                              s, running ? "running" : "stopped", user);
    }
    for (size_t i = 0; i < img->n_names; i++) {
        const char *n = img->names[i];
        if (!last && strcmp(n, full) != 0)
            continue;
        if (delete_record(req->d, n, err) < 0 && err->code != ENOENT) {
            json_object_put(a);
            return -1;
        }
        berth_err_clear(err);
        cleanup_free char *fam = eng_image_familiar(n);
        add_item(a, "Untagged", fam);
        image_event(req->d, "untag", img->id, fam);
    }
    if (last) {
        add_item(a, "Deleted", img->id);
        image_event(req->d, "delete", img->id, img->id);
    }
    return eng_api_reply_json(req, 200, a);
}

ENG_API_HANDLER(eng_api_images_prune)
{
    struct filters f = {0};
    if (filters_parse(req, &f, err) < 0)
        return -1;
    cleanup_json struct json_object *doc = f.doc;
    cleanup_free const char **dangling = filter_values(&f, "dangling");
    /* Without a dangling filter dockerd prunes dangling images only; dangling=false is
     * `docker image prune -a`: every image no container uses. */
    bool all = dangling && dangling[0] &&
               (strcmp(dangling[0], "false") == 0 || strcmp(dangling[0], "0") == 0);
    struct eng_image_list l __attribute__((cleanup(eng_image_list_release))) = {0};
    if (eng_image_list(req->d, &l, err) < 0)
        return -1;
    struct json_object *deleted = json_object_new_array();
    for (size_t i = 0; i < l.n; i++) {
        struct eng_image *img = l.images[i];
        bool ok = true;
        cleanup_free const char **labels = filter_values(&f, "label");
        for (const char **lb = labels; lb && *lb; lb++)
            ok = ok && match_label(img, *lb);
        bool running = false;
        cleanup_free char *user = ok ? image_user(req->d, img->id, &running) : NULL;
        if (!ok || user || (!all && has_tag(img)))
            continue;
        for (size_t j = 0; j < img->n_names; j++) {
            if (delete_record(req->d, img->names[j], err) < 0 && err->code != ENOENT) {
                json_object_put(deleted);
                return -1;
            }
            berth_err_clear(err);
            cleanup_free char *fam = eng_image_familiar(img->names[j]);
            add_item(deleted, "Untagged", fam);
            image_event(req->d, "untag", img->id, fam);
        }
        add_item(deleted, "Deleted", img->id);
        image_event(req->d, "delete", img->id, img->id);
    }
    Berth__Supervisor__V1__GarbageCollectRequest g =
        BERTH__SUPERVISOR__V1__GARBAGE_COLLECT_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__GarbageCollectResponse *gr = NULL;
    if (eng_sup_call(req->d->sup, SVC, "GarbageCollect", &g.base, &gr, err) < 0) {
        json_object_put(deleted);
        return -1;
    }
    struct json_object *o = json_object_new_object();
    if (json_object_array_length(deleted) == 0) {
        json_object_put(deleted);
        deleted = NULL;
    }
    json_object_object_add(o, "ImagesDeleted", deleted);
    json_object_object_add(o, "SpaceReclaimed", json_object_new_int64(gr->bytes_freed));
    /* As dockerd logs a prune since API 1.42: no actor, what it freed. */
    struct json_object *attrs = json_object_new_object();
    cleanup_free char *freed = xasprintf("%lld", (long long)gr->bytes_freed);
    json_object_object_add(attrs, "reclaimed", json_object_new_string(freed));
    eng_events_publish(req->d->events, "image", "prune", "", attrs);
    return eng_api_reply_json(req, 200, o);
}

ENG_API_HANDLER(eng_api_images_search)
{
    return berth_err_fail(err, ENOTSUP, "image search is not supported by berthd");
}
