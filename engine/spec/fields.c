/* SPDX-License-Identifier: Apache-2.0
 *
 * Typed readers of ContainerCreate fields and small JSON builders for the spec generator.
 * The API takes whatever a client sends, so every field is checked for its type before use,
 * and the message names it as the API spells it: "HostConfig.Memory: expected an integer,
 * got a string".
 */
#include "engine/spec/spec-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"

const char *
spec_type_phrase(struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null: return "null";
    case json_type_boolean: return "a boolean";
    case json_type_double: return "a number";
    case json_type_int: return "an integer";
    case json_type_object: return "an object";
    case json_type_array: return "an array";
    case json_type_string: return "a string";
    }
    return "an unknown value";
}

/* Look key up; 0 when absent or null. */
static int
lookup(struct json_object *obj, const char *key, struct json_object **v)
{
    if (!obj || !json_object_is_type(obj, json_type_object))
        return 0;
    if (!json_object_object_get_ex(obj, key, v) || !*v || json_object_is_type(*v, json_type_null))
        return 0;
    return 1;
}

static int
wrong_type(struct berth_err *err, const char *section, const char *key, const char *want,
           struct json_object *v)
{
    return berth_err_fail(err, EINVAL, "%s.%s: expected %s, got %s", section, key, want,
                          spec_type_phrase(v));
}

int
spec_get_string(struct json_object *obj, const char *section, const char *key, const char **out,
                struct berth_err *err)
{
    struct json_object *v;

    if (!lookup(obj, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return wrong_type(err, section, key, "a string", v);
    *out = json_object_get_string(v);
    return 1;
}

int
spec_get_bool(struct json_object *obj, const char *section, const char *key, bool *out,
              struct berth_err *err)
{
    struct json_object *v;

    if (!lookup(obj, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_boolean))
        return wrong_type(err, section, key, "a boolean", v);
    *out = json_object_get_boolean(v);
    return 1;
}

int
spec_get_int64(struct json_object *obj, const char *section, const char *key, int64_t *out,
               struct berth_err *err)
{
    struct json_object *v;

    if (!lookup(obj, key, &v))
        return 0;
    if (json_object_is_type(v, json_type_int)) {
        /* json-c saturates literals beyond int64 while parsing: a value there was not
         * meant by any client, so refuse it rather than read a silent INT64_MAX. */
        int64_t n = json_object_get_int64(v);
        if (n == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX)
            return berth_err_fail(err, EINVAL, "%s.%s: %s is out of range", section, key,
                                  json_object_get_string(v));
        *out = n;
        return 1;
    }
    if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);
        /* Whole values written as "5.0" or "1e3"; NaN fails every comparison. */
        if (d >= -9.2e18 && d <= 9.2e18 && d == (double)(int64_t)d) {
            *out = (int64_t)d;
            return 1;
        }
    }
    return wrong_type(err, section, key, "an integer", v);
}

int
spec_get_object(struct json_object *obj, const char *section, const char *key,
                struct json_object **out, struct berth_err *err)
{
    struct json_object *v;

    if (!lookup(obj, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_object))
        return wrong_type(err, section, key, "an object", v);
    *out = v;
    return 1;
}

int
spec_get_array(struct json_object *obj, const char *section, const char *key,
               struct json_object **out, struct berth_err *err)
{
    struct json_object *v;

    if (!lookup(obj, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_array))
        return wrong_type(err, section, key, "an array", v);
    *out = v;
    return 1;
}

int
spec_get_string_array(struct json_object *obj, const char *section, const char *key,
                      struct json_object **out, struct berth_err *err)
{
    struct json_object *a;
    int r = spec_get_array(obj, section, key, &a, err);

    if (r <= 0)
        return r;
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        struct json_object *item = json_object_array_get_idx(a, i);
        if (!json_object_is_type(item, json_type_string))
            return berth_err_fail(err, EINVAL, "%s.%s[%zu]: expected a string, got %s", section,
                                  key, i, spec_type_phrase(item));
    }
    *out = a;
    return 1;
}

int
spec_get_strslice(struct json_object *obj, const char *section, const char *key,
                  struct json_object **out, struct berth_err *err)
{
    struct json_object *v, *a;

    if (!lookup(obj, key, &v))
        return 0;
    if (json_object_is_type(v, json_type_string)) {
        a = json_object_new_array();
        json_object_array_add(a, json_object_get(v));
        *out = a;
        return 1;
    }
    if (!json_object_is_type(v, json_type_array))
        return wrong_type(err, section, key, "an array of strings", v);
    if (spec_get_string_array(obj, section, key, &a, err) < 0)
        return -1;
    *out = json_object_get(a);
    return 1;
}

struct json_object *
spec_strv_array(const char *const *v)
{
    struct json_object *a = json_object_new_array();

    for (; v && *v; v++)
        json_object_array_add(a, json_object_new_string(*v));
    return a;
}

void
spec_add_string(struct json_object *obj, const char *key, const char *value)
{
    json_object_object_add(obj, key, json_object_new_string(value));
}

struct json_object *
spec_mount(const char *dest, const char *type, const char *source, const char *const *options)
{
    struct json_object *m = json_object_new_object();

    spec_add_string(m, "destination", dest);
    spec_add_string(m, "type", type);
    spec_add_string(m, "source", source);
    json_object_object_add(m, "options", spec_strv_array(options));
    return m;
}

/* A capability set of /proc/self/status ("CapEff", "CapBnd"); dflt when unreadable. */
static uint64_t
self_caps(const char *which, uint64_t dflt)
{
    cleanup_fclose FILE *f = fopen("/proc/self/status", "re");
    cleanup_free char *fmt = xasprintf("%s: %%llx", which);
    char line[256];
    unsigned long long v;

    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, fmt, &v) == 1)
            return v;
    return dflt;
}

bool
spec_self_has_cap(int cap)
{
    return cap >= 0 && cap < 64 && (self_caps("CapEff", 0) >> cap) & 1;
}

uint64_t
spec_self_bounding(void)
{
    return self_caps("CapBnd", UINT64_MAX);
}
