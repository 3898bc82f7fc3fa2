/* SPDX-License-Identifier: Apache-2.0
 *
 * Images in and out of berthd: pull (POST /images/create), push, save (GET /images/get and
 * /images/{name}/get) and load. Pulls, pushes and saves are supervisor streams passed on as
 * the client reads. Each handler waits for the stream's first message before answering, so
 * that a failure found at once (no such image, a registry that refuses) is an HTTP error with
 * its status, as dockerd gives one before it has written anything; a failure later in a pull
 * or push is a line of the stream ({"errorDetail": ...}), which the docker CLI reports.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/supervisor/v1/images.pb-c.h"
#include "common/base64.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/log.h"
#include "common/reference.h"
#include "common/rpc.h"
#include "engine/api/handlers.h"
#include "engine/api/request.h"
#include "engine/config.h"
#include "engine/daemon.h"
#include "engine/events/events.h"
#include "engine/images/image.h"
#include "engine/images/progress.h"
#include "engine/supervisor/client.h"

#define SVC (&berth__supervisor__v1__images__descriptor)

/* ---------------------------------------------------------------- credentials */

/* X-Registry-Auth: base64url JSON {"username", "password", "identitytoken", ...}. The
 * strings in a point into *doc, which the caller puts. */
static int
registry_auth(struct eng_api_req *req, Berth__Supervisor__V1__RegistryAuth *a,
              struct json_object **doc, struct berth_err *err)
{
    *doc = NULL;
    const char *h = eng_api_header(req, "X-Registry-Auth");
    if (!h || !*h)
        return 0;
    size_t len = 0;
    cleanup_free unsigned char *raw = berth_base64_decode(h, strlen(h), &len);
    if (!raw)
        return berth_err_fail(err, EINVAL, "X-Registry-Auth: invalid base64");
    struct json_object *o = berth_json_parse((char *)raw, (size_t)len, err);
    if (!o) {
        err->code = EINVAL;
        return berth_err_wrap(err, "X-Registry-Auth");
    }
    const char *user = NULL, *pass = NULL, *token = NULL;
    if (!json_object_is_type(o, json_type_object) ||
        berth_json_get_string(o, "username", &user, err) < 0 ||
        berth_json_get_string(o, "password", &pass, err) < 0 ||
        berth_json_get_string(o, "identitytoken", &token, err) < 0) {
        json_object_put(o);
        if (!err->msg)
            berth_err_fail(err, EINVAL, "expected an object");
        err->code = EINVAL;
        return berth_err_wrap(err, "X-Registry-Auth");
    }
    a->username = (char *)(user ? user : "");
    a->password = (char *)(pass ? pass : "");
    a->identity_token = (char *)(token ? token : "");
    *doc = o;
    return 0;
}

static void
error_line(char **buf, size_t *len, const struct berth_err *err)
{
    cleanup_free char *msg = berth_err_string(err);
    struct json_object *o = json_object_new_object();
    struct json_object *d = json_object_new_object();
    json_object_object_add(d, "message", json_object_new_string(msg));
    json_object_object_add(o, "errorDetail", d);
    json_object_object_add(o, "error", json_object_new_string(msg));
    eng_api_append_json(buf, len, o);
}

static void
status_line(char **buf, size_t *len, const char *status, const char *id)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_string(status));
    if (id)
        json_object_object_add(o, "id", json_object_new_string(id));
    eng_api_append_json(buf, len, o);
}

/* ---------------------------------------------------------------- progress streams */

/* A pull or a push in flight: the supervisor stream and what the last lines need. */
struct transfer {
    enum eng_progress_dir dir;
    struct eng_sup *sup;
    struct berth_rpc_stream *s;
    struct eng_progress *p;
    char *pending; /* lines made before the response started */
    size_t pending_len;
    char *familiar; /* pull: the name for "Status: ..." */
    char *tag;      /* push: the tag for the last lines */
    int64_t size;   /* push: the manifest's size, which the last line shows */
    bool ended;
    /* The event published when it completes: its actor (the familiar reference) and the
     * actor's name attribute (the familiar repository), as dockerd's pull and push events. */
    struct eng_events *events;
    char *actor, *actor_name;
};

static void
transfer_free(struct transfer *t)
{
    if (!t)
        return;
    eng_sup_stream_close(t->sup, t->s);
    eng_progress_free(t->p);
    free(t->pending);
    free(t->familiar);
    free(t->tag);
    free(t->actor);
    free(t->actor_name);
    free(t);
}

static void
progress_lines(struct transfer *t, Berth__Supervisor__V1__Progress *const *items, size_t n,
               char **buf, size_t *len)
{
    for (size_t i = 0; i < n; i++)
        eng_progress_update(t->p, items[i]->ref, items[i]->digest, items[i]->status,
                            items[i]->offset, items[i]->total, buf, len);
}

static void
transfer_event(struct transfer *t, const char *action)
{
    struct json_object *a = json_object_new_object();
    json_object_object_add(a, "name", json_object_new_string(t->actor_name));
    eng_events_publish(t->events, "image", action, t->actor, a);
}

static void
pull_done(struct transfer *t, const Berth__Supervisor__V1__Image *img, char **buf, size_t *len)
{
    if (img->target && img->target->digest) {
        cleanup_free char *d = xasprintf("Digest: %s", img->target->digest);
        status_line(buf, len, d, NULL);
    }
    cleanup_free char *s = xasprintf("Status: %s %s",
                                     eng_progress_transferred(t->p) ? "Downloaded newer image for"
                                                                    : "Image is up to date for",
                                     t->familiar);
    status_line(buf, len, s, NULL);
    transfer_event(t, "pull");
}

static void
push_done(struct transfer *t, const char *digest, char **buf, size_t *len)
{
    cleanup_free char *s =
        xasprintf("%s: digest: %s size: %lld", t->tag, digest, (long long)t->size);
    status_line(buf, len, s, NULL);
    struct json_object *aux = json_object_new_object();
    json_object_object_add(aux, "Tag", json_object_new_string(t->tag));
    json_object_object_add(aux, "Digest", json_object_new_string(digest));
    json_object_object_add(aux, "Size", json_object_new_int64(t->size));
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "progressDetail", json_object_new_object());
    json_object_object_add(o, "aux", aux);
    eng_api_append_json(buf, len, o);
    transfer_event(t, "push");
}

/* The next message of the stream as lines. 1 with lines (maybe none), 0 at the end, -1
 * with err. */
static int
transfer_step(struct transfer *t, char **buf, size_t *len, struct berth_err *err)
{
    ProtobufCMessage *m = NULL;
    int r = berth_rpc_stream_next(t->s, &m, err);
    if (r <= 0)
        return r;
    if (t->dir == ENG_PROGRESS_PULL) {
        Berth__Supervisor__V1__PullImageResponse *pm = (void *)m;
        progress_lines(t, pm->progress, pm->n_progress, buf, len);
        if (pm->image)
            pull_done(t, pm->image, buf, len);
    } else {
        Berth__Supervisor__V1__PushImageResponse *pm = (void *)m;
        progress_lines(t, pm->progress, pm->n_progress, buf, len);
        if (pm->digest && *pm->digest)
            push_done(t, pm->digest, buf, len);
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return 1;
}

static int
transfer_next(void *ctx, char **buf, size_t *len)
{
    struct transfer *t = ctx;
    if (t->pending) {
        *buf = steal_ptr(&t->pending);
        *len = t->pending_len;
        return 1;
    }
    while (!t->ended && *len == 0) {
        cleanup_err struct berth_err err = BERTH_ERR_INIT;
        int r = transfer_step(t, buf, len, &err);
        if (r < 0)
            error_line(buf, len, &err);
        if (r <= 0)
            t->ended = true;
    }
    return *len > 0;
}

static void
transfer_done(void *ctx)
{
    transfer_free(ctx);
}

static const struct eng_api_stream_ops transfer_ops = {transfer_next, transfer_done};

/* Start answering with t: its first message is read now, so that an early failure is an
 * HTTP error (and t is freed). */
static int
transfer_start(struct eng_api_req *req, struct transfer *t, struct berth_err *err)
{
    int r = transfer_step(t, &t->pending, &t->pending_len, err);
    if (r < 0) {
        eng_sup_explain(req->d->sup, err);
        transfer_free(t);
        return -1;
    }
    if (r == 0)
        t->ended = true;
    return eng_api_reply_stream(req, 200, "application/json", &transfer_ops, t);
}

/* The event's actor: "host:5000/x:1" named "host:5000/x". */
static void
transfer_actor(struct transfer *t, struct eng_daemon *d, const struct berth_ref *ref)
{
    t->events = d->events;
    t->actor = berth_ref_familiar(ref);
    t->actor_name = xstrndup(t->actor, strcspn(t->actor, "@"));
    char *colon = strrchr(t->actor_name, ':');
    if (colon && !strchr(colon, '/'))
        *colon = '\0';
}

/* ---------------------------------------------------------------- pull */

/* fromImage with the tag argument (a tag, or a digest as the CLI sends for name@digest). */
static char *
pull_ref(const char *image, const char *tag)
{
    if (!tag || !*tag)
        return xstrdup(image);
    return xasprintf("%s%s%s", image, strncmp(tag, "sha256:", 7) == 0 ? "@" : ":", tag);
}

ENG_API_HANDLER(eng_api_images_create)
{
    const char *image = eng_api_query(req, "fromImage");
    const char *src = eng_api_query(req, "fromSrc");
    if (src && *src)
        return berth_err_fail(err, ENOTSUP,
                              "importing a root filesystem (fromSrc) is not "
                              "supported by berthd");
    if (!image || !*image)
        return berth_err_fail(err, EINVAL, "fromImage is required");
    cleanup_free char *want = pull_ref(image, eng_api_query(req, "tag"));
    cleanup_ref struct berth_ref ref = BERTH_REF_INIT;
    if (berth_ref_parse(want, &ref, err) < 0)
        return -1;
    cleanup_free char *full = berth_ref_string(&ref);
    cleanup_json struct json_object *auth_doc = NULL;
    Berth__Supervisor__V1__RegistryAuth auth = BERTH__SUPERVISOR__V1__REGISTRY_AUTH__INIT;
    if (registry_auth(req, &auth, &auth_doc, err) < 0)
        return -1;
    Berth__Supervisor__V1__PullImageRequest pr = BERTH__SUPERVISOR__V1__PULL_IMAGE_REQUEST__INIT;
    pr.ref = full;
    const char *platform = eng_api_query(req, "platform");
    pr.platform = (char *)(platform ? platform : "");
    pr.plain_http = eng_image_host_is_loopback(ref.domain) ||
                    eng_config_registry_is_insecure(req->d->config, ref.domain);
    pr.auth = auth_doc ? &auth : NULL;
    berth_info("pull %s", full);
    struct transfer *t = xzalloc(sizeof(*t));
    t->dir = ENG_PROGRESS_PULL;
    t->sup = req->d->sup;
    t->p = eng_progress_new(ENG_PROGRESS_PULL);
    t->familiar = berth_ref_familiar(&ref);
    transfer_actor(t, req->d, &ref);
    t->s = eng_sup_stream(req->d->sup, SVC, "Pull", &pr.base, err);
    if (!t->s) {
        transfer_free(t);
        return -1;
    }
    /* The first line, before anything the supervisor says. */
    cleanup_free char *head = xasprintf("Pulling from %s", ref.path);
    char *buf = NULL;
    size_t len = 0;
    status_line(&buf, &len, head, ref.digest ? ref.digest : ref.tag);
    if (transfer_start(req, t, err) < 0) {
        free(buf);
        return -1;
    }
    buf = xrealloc(buf, len + t->pending_len + 1);
    if (t->pending_len)
        memcpy(buf + len, t->pending, t->pending_len);
    free(t->pending);
    t->pending = buf;
    t->pending_len += len;
    return 0;
}

/* ---------------------------------------------------------------- push */

ENG_API_HANDLER(eng_api_images_push)
{
    const char *name = eng_api_param(&req->params, "name");
    const char *tag = eng_api_query(req, "tag");
    cleanup_free char *want = pull_ref(name, tag);
    cleanup_ref struct berth_ref ref = BERTH_REF_INIT;
    if (berth_ref_parse(want, &ref, err) < 0)
        return -1;
    cleanup_free char *full = berth_ref_string(&ref);
    cleanup_free char *repo = berth_ref_name(&ref);
    Berth__Supervisor__V1__GetImageRequest g = BERTH__SUPERVISOR__V1__GET_IMAGE_REQUEST__INIT;
    g.name = full;
    cleanup_pb Berth__Supervisor__V1__GetImageResponse *gr = NULL;
    if (eng_sup_call(req->d->sup, SVC, "Get", &g.base, &gr, err) < 0) {
        if (err->code != ENOENT)
            return -1;
        berth_err_clear(err);
        cleanup_free char *fam = berth_ref_familiar(&ref);
        return berth_err_fail(err, ENOENT, "An image does not exist locally with the tag: %s", fam);
    }
    cleanup_json struct json_object *auth_doc = NULL;
    Berth__Supervisor__V1__RegistryAuth auth = BERTH__SUPERVISOR__V1__REGISTRY_AUTH__INIT;
    if (registry_auth(req, &auth, &auth_doc, err) < 0)
        return -1;
    Berth__Supervisor__V1__PushImageRequest pr = BERTH__SUPERVISOR__V1__PUSH_IMAGE_REQUEST__INIT;
    pr.name = full;
    pr.ref = full;
    pr.plain_http = eng_image_host_is_loopback(ref.domain) ||
                    eng_config_registry_is_insecure(req->d->config, ref.domain);
    pr.auth = auth_doc ? &auth : NULL;
    berth_info("push %s", full);
    struct transfer *t = xzalloc(sizeof(*t));
    t->dir = ENG_PROGRESS_PUSH;
    t->sup = req->d->sup;
    t->p = eng_progress_new(ENG_PROGRESS_PUSH);
    t->tag = xstrdup(ref.tag ? ref.tag : ref.digest);
    t->size = gr->image && gr->image->target ? gr->image->target->size : 0;
    transfer_actor(t, req->d, &ref);
    t->s = eng_sup_stream(req->d->sup, SVC, "Push", &pr.base, err);
    if (!t->s) {
        transfer_free(t);
        return -1;
    }
    cleanup_free char *head = xasprintf("The push refers to repository [%s]", repo);
    char *buf = NULL;
    size_t len = 0;
    status_line(&buf, &len, head, NULL);
    if (transfer_start(req, t, err) < 0) {
        free(buf);
        return -1;
    }
    buf = xrealloc(buf, len + t->pending_len + 1);
    if (t->pending_len)
        memcpy(buf + len, t->pending, t->pending_len);
    free(t->pending);
    t->pending = buf;
    t->pending_len += len;
    return 0;
}

/* ---------------------------------------------------------------- save */

static struct json_object *
image_name_attr(const char *name)
{
    struct json_object *a = json_object_new_object();
    json_object_object_add(a, "name", json_object_new_string(name));
    return a;
}

struct save_stream {
    struct eng_sup *sup;
    struct berth_rpc_stream *s;
    Berth__Supervisor__V1__ExportImagesResponse *first;
};

static int
export_next(void *ctx, char **buf, size_t *len)
{
    struct save_stream *x = ctx;
    Berth__Supervisor__V1__ExportImagesResponse *m = steal_ptr(&x->first);
    if (!m) {
        cleanup_err struct berth_err err = BERTH_ERR_INIT;
        /* A failure now can only cut the tar short: the client sees a truncated archive. */
        if (berth_rpc_stream_next(x->s, (ProtobufCMessage **)&m, &err) <= 0) {
            if (err.msg)
                berth_warn("save: %s", err.msg);
            return 0;
        }
    }
    *buf = xmalloc(m->data.len + 1);
    memcpy(*buf, m->data.data, m->data.len);
    *len = m->data.len;
    protobuf_c_message_free_unpacked(&m->base, NULL);
    return 1;
}

static void
export_done(void *ctx)
{
    struct save_stream *x = ctx;
    if (x->first)
        protobuf_c_message_free_unpacked(&x->first->base, NULL);
    eng_sup_stream_close(x->sup, x->s);
    free(x);
}

static const struct eng_api_stream_ops export_ops = {export_next, export_done};

static int
save(struct eng_api_req *req, char **names, size_t n_names, struct berth_err *err)
{
    if (n_names == 0)
        return berth_err_fail(err, EINVAL, "no image names given");
    char **records = NULL;
    size_t n_records = 0;
    char **ids = xzalloc((n_names + 1) * sizeof(*ids));
    int rc = -1;
    for (size_t i = 0; i < n_names; i++) {
        struct eng_image *img = NULL;
        int by_name = 0;
        if (eng_image_resolve(req->d, names[i], &img, &by_name, err) < 0)
            goto out;
        /* A name saves that name; an ID saves the image under all its names. */
        cleanup_free char *full = by_name ? eng_image_normalize(names[i], err) : NULL;
        for (size_t j = 0; j < img->n_names; j++) {
            if (full && strcmp(full, img->names[j]) != 0)
                continue;
            records = xrealloc(records, (n_records + 1) * sizeof(*records));
            records[n_records++] = xstrdup(img->names[j]);
        }
        ids[i] = xstrdup(img->id);
        eng_image_free(img);
    }
    Berth__Supervisor__V1__ExportImagesRequest er =
        BERTH__SUPERVISOR__V1__EXPORT_IMAGES_REQUEST__INIT;
    er.names = records;
    er.n_names = n_records;
    struct save_stream *x = xzalloc(sizeof(*x));
    x->sup = req->d->sup;
    x->s = eng_sup_stream(req->d->sup, SVC, "Export", &er.base, err);
    if (!x->s) {
        free(x);
        goto out;
    }
    int r = berth_rpc_stream_next(x->s, (ProtobufCMessage **)&x->first, err);
    if (r < 0) {
        eng_sup_explain(req->d->sup, err);
        export_done(x);
        goto out;
    }
    rc = eng_api_reply_stream(req, 200, "application/x-tar", &export_ops, x);
    for (size_t i = 0; i < n_names; i++)
        eng_events_publish(req->d->events, "image", "save", ids[i], image_name_attr(ids[i]));
out:
    for (size_t i = 0; i < n_records; i++)
        free(records[i]);
    free(records);
    for (size_t i = 0; i < n_names; i++)
        free(ids[i]);
    free(ids);
    return rc;
}

ENG_API_HANDLER(eng_api_images_save)
{
    size_t n = 0;
    cleanup_strv char **names = eng_api_query_all(req, "names", &n);
    return save(req, names, n, err);
}

ENG_API_HANDLER(eng_api_images_save_one)
{
    char *names[] = {(char *)eng_api_param(&req->params, "name"), NULL};
    return save(req, names, 1, err);
}

/* ---------------------------------------------------------------- load */

/* dockerd names a loaded image by its ID, in the actor and its name alike. */
static void
load_event(struct eng_daemon *d, const char *name)
{
    struct eng_image *img = NULL;
    int by_name = 0;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *id = name;
    if (eng_image_resolve(d, name, &img, &by_name, &err) == 0)
        id = img->id;
    eng_events_publish(d->events, "image", "load", id, image_name_attr(id));
    eng_image_free(img);
}

ENG_API_HANDLER(eng_api_images_load)
{
    if (fsync(req->body_fd) < 0)
        return berth_err_set(err, errno, "write `%s`", req->body_path);
    off_t size = lseek(req->body_fd, 0, SEEK_END);
    if (size <= 0)
        return berth_err_fail(err, EINVAL, "no image tarball in the request body");
    Berth__Supervisor__V1__ImportImagesRequest ir =
        BERTH__SUPERVISOR__V1__IMPORT_IMAGES_REQUEST__INIT;
    ir.path = req->body_path;
    cleanup_pb Berth__Supervisor__V1__ImportImagesResponse *resp = NULL;
    if (eng_sup_call(req->d->sup, SVC, "Import", &ir.base, &resp, err) < 0)
        return -1;
    char *buf = NULL;
    size_t len = 0;
    for (size_t i = 0; i < resp->n_images; i++) {
        const char *name = resp->images[i]->name;
        cleanup_free char *fam = eng_image_familiar(name);
        cleanup_free char *s = xasprintf("Loaded image: %s\n", fam);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "stream", json_object_new_string(s));
        eng_api_append_json(&buf, &len, o);
        load_event(req->d, name);
    }
    eng_api_reply_data(req, 200, "application/json", buf ? buf : "", len);
    free(buf);
    return 0;
}
