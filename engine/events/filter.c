/* SPDX-License-Identifier: Apache-2.0
 *
 * docker's /events filters (see filter.h for what each key matches). The query's map is
 * normalized at parse time into one array of strings per key, so matching only reads.
 */
#include "engine/events/filter.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"

struct eng_events_filter {
    struct json_object *keys; /* {"key": ["value", ...]} */
};

static const char *const known_keys[] = {
    "config", "container", "daemon", "event",  "image",   "label", "network",
    "node",   "plugin",    "scope",  "secret", "service", "type",  "volume",
};

static bool
is_known(const char *key)
{
    for (size_t i = 0; i < ARRAY_SIZE(known_keys); i++)
        if (strcmp(key, known_keys[i]) == 0)
            return true;
    return false;
}

/* The values of one key: {"v": true} (what current clients send) or ["v"] (older ones). */
static int
values_of(const char *key, struct json_object *val, struct json_object **out, struct berth_err *err)
{
    struct json_object *a = json_object_new_array();
    if (json_object_is_type(val, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(val); i++) {
            struct json_object *v = json_object_array_get_idx(val, i);
            if (!json_object_is_type(v, json_type_string)) {
                json_object_put(a);
                return berth_err_fail(err, EINVAL, "invalid filter '%s': expected strings", key);
            }
            json_object_array_add(a, json_object_get(v));
        }
    } else if (json_object_is_type(val, json_type_object)) {
        /* Only the keys count: dockerd matches {"v": false} as it matches {"v": true}. */
        json_object_object_foreach(val, k, b)
        {
            (void)b;
            json_object_array_add(a, json_object_new_string(k));
        }
    } else {
        json_object_put(a);
        return berth_err_fail(err, EINVAL, "invalid filter '%s': expected a map or a list", key);
    }
    *out = a;
    return 0;
}

int
eng_events_filter_parse(const char *query, struct eng_events_filter **out, struct berth_err *err)
{
    *out = NULL;
    struct eng_events_filter *f = xzalloc(sizeof(*f));
    f->keys = json_object_new_object();
    if (!query || !*query) {
        *out = f;
        return 0;
    }
    cleanup_err struct berth_err perr = BERTH_ERR_INIT;
    cleanup_json struct json_object *doc = berth_json_parse(query, strlen(query), &perr);
    if (!json_object_is_type(doc, json_type_object)) {
        eng_events_filter_free(f);
        return berth_err_fail(err, EINVAL, "invalid filter: `filters` is not a JSON object%s%s",
                              perr.msg ? ": " : "", perr.msg ? perr.msg : "");
    }
    json_object_object_foreach(doc, key, val)
    {
        struct json_object *values = NULL;
        if (!is_known(key)) {
            berth_err_fail(err, EINVAL, "invalid filter '%s'", key);
        } else if (values_of(key, val, &values, err) == 0) {
            json_object_object_add(f->keys, key, values);
            continue;
        }
        eng_events_filter_free(f);
        return -1;
    }
    *out = f;
    return 0;
}

void
eng_events_filter_free(struct eng_events_filter *f)
{
    if (!f)
        return;
    json_object_put(f->keys);
    free(f);
}

static const char *
attr(struct json_object *attrs, const char *key)
{
    struct json_object *v = NULL;
    if (!attrs || !json_object_object_get_ex(attrs, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* The values given for key, or NULL when the filter does not have it (which passes). */
static struct json_object *
values(const struct eng_events_filter *f, const char *key)
{
    struct json_object *v = NULL;
    return f && json_object_object_get_ex(f->keys, key, &v) ? v : NULL;
}

static const char *
value_at(struct json_object *a, size_t i)
{
    return json_object_get_string(json_object_array_get_idx(a, i));
}

/* dockerd's ExactMatch: absent, or one value equal to s. */
static bool
exact(const struct eng_events_filter *f, const char *key, const char *s)
{
    struct json_object *a = values(f, key);
    if (!a)
        return true;
    for (size_t i = 0; s && i < json_object_array_length(a); i++)
        if (strcmp(value_at(a, i), s) == 0)
            return true;
    return false;
}

/* Only for keys the filter has: one value equal to s. */
static bool
has_exact(const struct eng_events_filter *f, const char *key, const char *s)
{
    return values(f, key) && exact(f, key, s);
}

/* dockerd's FuzzyMatch: absent, or one value equal to s or a prefix of it. */
static bool
fuzzy(const struct eng_events_filter *f, const char *key, const char *s)
{
    struct json_object *a = values(f, key);
    if (!a)
        return true;
    for (size_t i = 0; s && i < json_object_array_length(a); i++) {
        const char *v = value_at(a, i);
        if (strncmp(s, v, strlen(v)) == 0)
            return true;
    }
    return false;
}

/* container, volume, network, daemon...: the actor's ID or its name. */
static bool
by_name(const struct eng_events_filter *f, const char *key, const char *id,
        struct json_object *attrs)
{
    if (!values(f, key))
        return true;
    return fuzzy(f, key, id) || fuzzy(f, key, attr(attrs, "name"));
}

/* "busybox:latest" -> "busybox"; a registry port's colon is not a tag's. */
static char *
strip_tag(const char *ref)
{
    if (!ref)
        return NULL;
    size_t n = strcspn(ref, "@");
    const char *colon = memrchr(ref, ':', n);
    if (colon && !memchr(colon, '/', n - (size_t)(colon - ref)))
        n = (size_t)(colon - ref);
    return xstrndup(ref, n);
}

static bool
match_image(const struct eng_events_filter *f, const char *type, const char *id,
            struct json_object *attrs)
{
    if (!values(f, "image"))
        return true;
    const char *name = attr(attrs, strcmp(type, "image") == 0 ? "name" : "image");
    cleanup_free char *id_repo = strip_tag(id);
    cleanup_free char *name_repo = strip_tag(name);
    return has_exact(f, "image", id) || has_exact(f, "image", name) ||
           has_exact(f, "image", id_repo) || has_exact(f, "image", name_repo);
}

/* Every "key" or "key=value" given is among the attributes. */
static bool
match_labels(const struct eng_events_filter *f, struct json_object *attrs)
{
    struct json_object *a = values(f, "label");
    for (size_t i = 0; a && i < json_object_array_length(a); i++) {
        const char *want = value_at(a, i);
        const char *eq = strchr(want, '=');
        cleanup_free char *key = xstrndup(want, eq ? (size_t)(eq - want) : strlen(want));
        const char *have = attr(attrs, key);
        if (!have || (eq && strcmp(have, eq + 1) != 0))
            return false;
    }
    return true;
}

/* health_status, exec_create and exec_start carry a suffix ("exec_start: sh -c ..."): a
 * filter naming one of them bare matches them all by prefix, as dockerd does (moby#25798). */
static bool
match_action(const struct eng_events_filter *f, const char *action)
{
    static const char *const prefixed[] = {"health_status", "exec_create", "exec_start"};
    for (size_t i = 0; i < ARRAY_SIZE(prefixed); i++)
        if (has_exact(f, "event", prefixed[i]))
            return fuzzy(f, "event", action);
    return exact(f, "event", action);
}

bool
eng_events_filter_match(const struct eng_events_filter *f, const char *type, const char *action,
                        const char *id, struct json_object *attrs)
{
    if (!f)
        return true;
    return match_action(f, action) && exact(f, "type", type) && exact(f, "scope", "local") &&
           by_name(f, "daemon", id, attrs) && by_name(f, "container", id, attrs) &&
           by_name(f, "plugin", id, attrs) && by_name(f, "volume", id, attrs) &&
           by_name(f, "network", id, attrs) && match_image(f, type, id, attrs) &&
           by_name(f, "node", id, attrs) && by_name(f, "service", id, attrs) &&
           by_name(f, "secret", id, attrs) && by_name(f, "config", id, attrs) &&
           match_labels(f, attrs);
}
