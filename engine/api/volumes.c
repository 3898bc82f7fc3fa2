/* SPDX-License-Identifier: Apache-2.0
 *
 * The volume endpoints: list (with docker's filters dangling, driver, label, name), create,
 * inspect, remove, prune. The volumes themselves are engine/volumes'.
 */
#include <errno.h>
#include <json-c/json.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/api/handlers.h"
#include "engine/api/request.h"
#include "engine/daemon.h"
#include "engine/events/events.h"
#include "engine/store/store.h"
#include "engine/volumes/volumes.h"

/* ---------------------------------------------------------------- filters */

/* docker's filters query argument: {"key": {"value": true, ...}} or the older
 * {"key": ["value", ...]}, as a list of (key, value) pairs. */
struct filter {
    char *key, *value;
};
struct filters {
    struct filter *v;
    size_t n;
};

static void
filters_release(struct filters *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].key);
        free(f->v[i].value);
    }
    free(f->v);
}
#define cleanup_filters __attribute__((cleanup(filters_release)))

static void
filters_add(struct filters *f, const char *key, const char *value)
{
    f->v = xrealloc(f->v, (f->n + 1) * sizeof(*f->v));
    f->v[f->n++] = (struct filter){xstrdup(key), xstrdup(value)};
}

/* Parse the filters argument, allowing only the keys of known (NULL-terminated). */
static int
filters_parse(struct eng_api_req *req, const char *const *known, struct filters *f,
              struct berth_err *err)
{
    const char *q = eng_api_query(req, "filters");
    if (!q || !*q)
        return 0;
    cleanup_json struct json_object *o = berth_json_parse(q, strlen(q), err);
    if (!o || !json_object_is_type(o, json_type_object)) {
        berth_err_clear(err);
        return berth_err_fail(err, EINVAL, "invalid filter: `filters` is not a JSON object");
    }
    json_object_object_foreach(o, key, val)
    {
        bool ok = false;
        for (const char *const *k = known; *k; k++)
            ok = ok || strcmp(key, *k) == 0;
        if (!ok)
            return berth_err_fail(err, EINVAL, "invalid filter '%s'", key);
        if (json_object_is_type(val, json_type_array)) {
            for (size_t i = 0; i < json_object_array_length(val); i++) {
                struct json_object *s = json_object_array_get_idx(val, i);
                if (!json_object_is_type(s, json_type_string))
                    return berth_err_fail(err, EINVAL, "invalid filter '%s'", key);
                filters_add(f, key, json_object_get_string(s));
            }
        } else if (json_object_is_type(val, json_type_object)) {
            json_object_object_foreach(val, v, b)
            {
                (void)b;
                filters_add(f, key, v);
            }
        } else {
            return berth_err_fail(err, EINVAL, "invalid filter '%s'", key);
        }
    }
    return 0;
}

static bool
has_filter(const struct filters *f, const char *key)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->v[i].key, key) == 0)
            return true;
    return false;
}

/* A label filter: "key" (the label is there) or "key=value". */
static bool
match_label(const char *labels_text, const char *want)
{
    cleanup_json struct json_object *labels = labels_text ? json_tokener_parse(labels_text) : NULL;
    const char *eq = strchr(want, '=');
    cleanup_free char *key = xstrndup(want, eq ? (size_t)(eq - want) : strlen(want));
    struct json_object *v = NULL;
    if (!labels || !json_object_is_type(labels, json_type_object) ||
        !json_object_object_get_ex(labels, key, &v))
        return false;
    return !eq || strcmp(json_object_get_string(v), eq + 1) == 0;
}

/* dockerd matches a name filter as an unanchored regular expression. */
static bool
match_name(const char *name, const char *pattern)
{
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
        return strstr(name, pattern) != NULL;
    bool ok = regexec(&re, name, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

static int
parse_bool_filter(const char *key, const char *v, bool *out, struct berth_err *err)
{
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
        *out = true;
    else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
        *out = false;
    else
        return berth_err_fail(err, EINVAL, "invalid filter '%s=%s'", key, v);
    return 0;
}

/* Whether volume v passes every filter: values of one key are alternatives (any one
 * matches), except labels, which must all match, as dockerd has it. */
static int
filters_match(const struct filters *f, const struct eng_store_volume *v, bool *out,
              struct berth_err *err)
{
    bool name_ok = !has_filter(f, "name"), driver_ok = !has_filter(f, "driver");
    bool ok = true;
    for (size_t i = 0; i < f->n; i++) {
        const char *k = f->v[i].key, *val = f->v[i].value;
        if (strcmp(k, "name") == 0) {
            name_ok = name_ok || match_name(v->name, val);
        } else if (strcmp(k, "driver") == 0) {
            driver_ok = driver_ok || strcmp(v->driver, val) == 0;
        } else if (strcmp(k, "label") == 0) {
            ok = ok && match_label(v->labels, val);
        } else if (strcmp(k, "label!") == 0) {
            ok = ok && !match_label(v->labels, val);
        } else if (strcmp(k, "dangling") == 0) {
            bool want = false;
            if (parse_bool_filter(k, val, &want, err) < 0)
                return -1;
            ok = ok && want == (v->n_users == 0);
        }
    }
    *out = ok && name_ok && driver_ok;
    return 0;
}

/* ---------------------------------------------------------------- list */

struct list {
    struct eng_daemon *d;
    const struct filters *f;
    struct json_object *a;
};

static int
list_row(void *data, const struct eng_store_volume *v, struct berth_err *err)
{
    struct list *l = data;
    bool ok;
    if (filters_match(l->f, v, &ok, err) < 0)
        return -1;
    if (ok)
        json_object_array_add(l->a, eng_volume_json(l->d, v, false));
    return 0;
}

ENG_API_HANDLER(eng_api_volumes_list)
{
    static const char *const known[] = {"dangling", "driver", "label", "name", NULL};
    cleanup_filters struct filters f = {0};
    if (filters_parse(req, known, &f, err) < 0)
        return -1;
    cleanup_json struct json_object *a = json_object_new_array();
    struct list l = {.d = req->d, .f = &f, .a = a};
    if (eng_store_volume_each(req->d->store, list_row, &l, err) < 0)
        return -1;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "Volumes", steal_ptr(&a));
    json_object_object_add(o, "Warnings", NULL);
    return eng_api_reply_json(req, 200, o);
}

/* ---------------------------------------------------------------- create, inspect, remove */

static int
get_object(struct json_object *body, const char *key, struct json_object **out,
           struct berth_err *err)
{
    *out = NULL;
    return berth_json_get_object(body, key, out, err);
}

ENG_API_HANDLER(eng_api_volumes_create)
{
    cleanup_json struct json_object *body = NULL;
    if (eng_api_body_json(req, &body, err) < 0)
        return -1;
    const char *name = NULL, *driver = NULL;
    struct json_object *labels = NULL, *opts = NULL;
    if (body && (berth_json_get_string(body, "Name", &name, err) < 0 ||
                 berth_json_get_string(body, "Driver", &driver, err) < 0 ||
                 get_object(body, "Labels", &labels, err) < 0 ||
                 get_object(body, "DriverOpts", &opts, err) < 0))
        return -1;
    struct json_object *doc = NULL;
    bool existed = false;
    if (eng_volume_create(req->d, name, driver, labels, opts, &existed, &doc, err) < 0)
        return -1;
    return eng_api_reply_json(req, 201, doc);
}

ENG_API_HANDLER(eng_api_volumes_inspect)
{
    struct json_object *doc = eng_volume_inspect(req->d, eng_api_param(&req->params, "name"), err);
    if (!doc)
        return -1;
    return eng_api_reply_json(req, 200, doc);
}

ENG_API_HANDLER(eng_api_volumes_delete)
{
    bool force = false;
    if (eng_api_query_bool(req, "force", &force, err) < 0 ||
        eng_volume_remove(req->d, eng_api_param(&req->params, "name"), force, err) < 0)
        return -1;
    return eng_api_reply_data(req, 204, NULL, "", 0);
}

/* ---------------------------------------------------------------- prune */

struct prune {
    const struct filters *f;
    char **names; /* the candidates: unused and matching */
    size_t n;
};

static int
prune_row(void *data, const struct eng_store_volume *v, struct berth_err *err)
{
    struct prune *p = data;
    bool ok = false;
    if (v->n_users > 0)
        return 0;
    if (filters_match(p->f, v, &ok, err) < 0)
        return -1;
    if (!ok)
        return 0;
    p->names = xrealloc(p->names, (p->n + 2) * sizeof(*p->names));
    p->names[p->n++] = xstrdup(v->name);
    p->names[p->n] = NULL;
    return 0;
}

/* API 1.41 prunes every unused local volume (1.42 made that "all=true" and anonymous ones the
 * default); label and label! narrow it. */
ENG_API_HANDLER(eng_api_volumes_prune)
{
    static const char *const known[] = {"label", "label!", NULL};
    cleanup_filters struct filters f = {0};
    if (filters_parse(req, known, &f, err) < 0)
        return -1;
    struct prune p = {.f = &f};
    int rc = eng_store_volume_each(req->d->store, prune_row, &p, err);
    cleanup_strv char **names = p.names;
    if (rc < 0)
        return -1;
    cleanup_json struct json_object *deleted = json_object_new_array();
    int64_t reclaimed = 0;
    for (size_t i = 0; i < p.n; i++) {
        int64_t size = 0;
        struct berth_err e2 = BERTH_ERR_INIT;
        if (eng_volume_size(req->d, names[i], &size, &e2) < 0) {
            berth_err_clear(&e2);
            size = 0;
        }
        /* A container may have taken it since the walk: then it stays, as in dockerd. */
        if (eng_volume_remove(req->d, names[i], false, err) < 0) {
            if (err->code != EBUSY && err->code != ENOENT)
                return -1;
            berth_err_clear(err);
            continue;
        }
        json_object_array_add(deleted, json_object_new_string(names[i]));
        reclaimed += size;
    }
    struct json_object *a = json_object_new_object();
    cleanup_free char *n = xasprintf("%lld", (long long)reclaimed);
    json_object_object_add(a, "reclaimed", json_object_new_string(n));
    eng_events_publish(req->d->events, "volume", "prune", "", a);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "VolumesDeleted",
                           json_object_array_length(deleted) ? steal_ptr(&deleted) : NULL);
    json_object_object_add(o, "SpaceReclaimed", json_object_new_int64(reclaimed));
    return eng_api_reply_json(req, 200, o);
}
