/* SPDX-License-Identifier: Apache-2.0
 *
 * json-c glue (json.h): strict parsing whose errors point at a line and column, typed getters
 * that keep "absent", "null" and "wrong type" apart and check integer ranges, and atomic writes
 * of whole documents through berth_fs_write_atomic.
 *
 * Content errors (bad syntax, a field of the wrong type or out of range) carry code 0: they have
 * no system cause, and their message already says everything (see error.h).
 */
#include "common/json.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"

static bool
is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Fill err with "line L, column C: what" for the byte at offset off of buf; both count from 1,
 * columns in bytes. */
static int
set_parse_error(const char *buf, size_t off, const char *what, struct berth_err *err)
{
    size_t line = 1, line_start = 0;

    for (size_t i = 0; i < off; i++) {
        if (buf[i] == '\n') {
            line++;
            line_start = i + 1;
        }
    }
    return berth_err_fail(err, EINVAL, "line %zu, column %zu: %s", line, off - line_start + 1,
                          what);
}

struct json_object *
berth_json_parse(const char *buf, size_t len, struct berth_err *err)
{
    struct json_tokener *tok = NULL;
    struct json_object *obj = NULL;
    enum json_tokener_error jerr;
    size_t end;

    if (len > INT_MAX) {
        berth_err_set(err, EFBIG, "json document of %zu bytes is too large", len);
        return NULL;
    }
    tok = json_tokener_new();
    if (tok == NULL) {
        berth_err_set(err, ENOMEM, "create json tokener");
        return NULL;
    }
    /* Strict: no comments, trailing commas, leading zeros or odd-case literals, as Go's
     * encoding/json and runc. json-c still accepts single quotes and NaN; neither matters. */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    obj = json_tokener_parse_ex(tok, buf, (int)len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    if (obj == NULL && jerr == json_tokener_continue) {
        /* A bare number or literal at the end of the input is only complete once the tokener
         * sees a terminator; a NUL is its end-of-input mark. */
        obj = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
        end = len;
    }
    json_tokener_free(tok);

    if (obj == NULL) {
        if (jerr == json_tokener_continue || jerr == json_tokener_success)
            jerr = json_tokener_error_parse_eof;
        set_parse_error(buf, end < len ? end : len, json_tokener_error_desc(jerr), err);
        return NULL;
    }
    /* json-c stops at a NUL byte as at the end; whatever follows the value must be blanks. */
    for (size_t i = end; i < len; i++) {
        if (!is_json_space(buf[i])) {
            json_object_put(obj);
            set_parse_error(buf, i, "unexpected data after the value", err);
            return NULL;
        }
    }
    return obj;
}

struct json_object *
berth_json_parse_file(const char *path, struct berth_err *err)
{
    cleanup_free char *buf = NULL;
    size_t len = 0;

    if (berth_fs_read_file(path, &buf, &len, err) < 0)
        return NULL;

    struct json_object *obj = berth_json_parse(buf, len, err);
    if (obj == NULL)
        berth_err_wrap(err, "parse `%s`", path);
    return obj;
}

int
berth_json_write_file(const char *path, struct json_object *obj, bool pretty, mode_t mode,
                      struct berth_err *err)
{
    int flags = JSON_C_TO_STRING_NOSLASHESCAPE;
    size_t len = 0;

    flags |= pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN;
    const char *s = json_object_to_json_string_length(obj, flags, &len);
    if (s == NULL)
        return berth_err_set(err, ENOMEM, "serialize json for `%s`", path);

    /* End the file with a newline, as editors and `cat` expect. */
    cleanup_free char *buf = xmalloc(len + 1);
    memcpy(buf, s, len);
    buf[len] = '\n';
    return berth_fs_write_atomic(path, buf, len + 1, mode, err);
}

const char *
berth_json_type_name(struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null: return "null";
    case json_type_boolean: return "boolean";
    case json_type_double: return "number";
    case json_type_int: return "integer";
    case json_type_object: return "object";
    case json_type_array: return "array";
    case json_type_string: return "string";
    }
    return "unknown";
}

/* Look key up in obj: 1 with *v set when present and not null, 0 when absent or null. A
 * non-object obj has no keys. */
static int
lookup(struct json_object *obj, const char *key, struct json_object **v)
{
    if (!json_object_object_get_ex(obj, key, v) || *v == NULL)
        return 0;
    return 1;
}

static int
get_typed(struct json_object *obj, const char *key, enum json_type type, const char *type_name,
          struct json_object **v, struct berth_err *err)
{
    if (lookup(obj, key, v) == 0)
        return 0;
    if (!json_object_is_type(*v, type))
        return berth_err_fail(err, EINVAL, "`%s`: expected %s", key, type_name);
    return 1;
}

int
berth_json_get_object(struct json_object *obj, const char *key, struct json_object **out,
                      struct berth_err *err)
{
    struct json_object *v = NULL;
    int r = get_typed(obj, key, json_type_object, "object", &v, err);

    if (r == 1)
        *out = v;
    return r;
}

int
berth_json_get_array(struct json_object *obj, const char *key, struct json_object **out,
                     struct berth_err *err)
{
    struct json_object *v = NULL;
    int r = get_typed(obj, key, json_type_array, "array", &v, err);

    if (r == 1)
        *out = v;
    return r;
}

int
berth_json_get_string(struct json_object *obj, const char *key, const char **out,
                      struct berth_err *err)
{
    struct json_object *v = NULL;
    int r = get_typed(obj, key, json_type_string, "string", &v, err);

    if (r == 1)
        *out = json_object_get_string(v);
    return r;
}

int
berth_json_get_bool(struct json_object *obj, const char *key, bool *out, struct berth_err *err)
{
    struct json_object *v = NULL;
    int r = get_typed(obj, key, json_type_boolean, "boolean", &v, err);

    if (r == 1)
        *out = json_object_get_boolean(v);
    return r;
}

/* An integer value split by sign, so every C type's range can be checked without overflow:
 * negative values in s, the others in u. */
struct integer {
    bool negative;
    int64_t s;
    uint64_t u;
};

/* Read key as an integer for a C type named type_name. json-c keeps integers as int64 or
 * uint64; a double is accepted when it has no fraction ("1e3", "5.0"). json-c saturates
 * integers beyond 64 bits while parsing, so those read as INT64_MIN or UINT64_MAX. */
static int
get_integer(struct json_object *obj, const char *key, const char *type_name, struct integer *n,
            struct berth_err *err)
{
    struct json_object *v = NULL;

    if (lookup(obj, key, &v) == 0)
        return 0;
    if (json_object_is_type(v, json_type_int)) {
        /* get_int64 clamps a large uint64 to INT64_MAX, get_uint64 a negative to 0. */
        int64_t s = json_object_get_int64(v);
        n->negative = s < 0;
        if (n->negative)
            n->s = s;
        else
            n->u = json_object_get_uint64(v);
        return 1;
    }
    if (!json_object_is_type(v, json_type_double))
        return berth_err_fail(err, EINVAL, "`%s`: expected integer", key);

    double d = json_object_get_double(v);
    if (isnan(d))
        return berth_err_fail(err, EINVAL, "`%s`: expected integer", key);
    /* -2^63 and 2^64 are exact doubles, so these comparisons are exact too (and catch the
     * infinities). Only inside them are the casts below defined. */
    if (d < -9223372036854775808.0 || d >= 18446744073709551616.0)
        return berth_err_fail(err, EINVAL, "`%s`: %s out of range for %s", key,
                              json_object_to_json_string(v), type_name);
    n->negative = d < 0;
    if (n->negative)
        n->s = (int64_t)d;
    else
        n->u = (uint64_t)d;
    /* The cast truncates: a value it changed had a fraction. */
    if ((n->negative ? (double)n->s : (double)n->u) != d)
        return berth_err_fail(err, EINVAL, "`%s`: expected integer", key);
    return 1;
}

/* Check n against [min, max], either bound of which may be absent for the full 64-bit range. */
static int
check_range(const char *key, const struct integer *n, int64_t min, uint64_t max,
            const char *type_name, struct berth_err *err)
{
    if (n->negative && n->s < min)
        return berth_err_fail(err, EINVAL, "`%s`: %" PRId64 " out of range for %s", key, n->s,
                              type_name);
    if (!n->negative && n->u > max)
        return berth_err_fail(err, EINVAL, "`%s`: %" PRIu64 " out of range for %s", key, n->u,
                              type_name);
    return 0;
}

int
berth_json_get_int64(struct json_object *obj, const char *key, int64_t *out, struct berth_err *err)
{
    struct integer n = {0};
    int r = get_integer(obj, key, "int64", &n, err);

    if (r != 1)
        return r;
    if (check_range(key, &n, INT64_MIN, INT64_MAX, "int64", err) < 0)
        return -1;
    *out = n.negative ? n.s : (int64_t)n.u;
    return 1;
}

int
berth_json_get_uint64(struct json_object *obj, const char *key, uint64_t *out,
                      struct berth_err *err)
{
    struct integer n = {0};
    int r = get_integer(obj, key, "uint64", &n, err);

    if (r != 1)
        return r;
    if (check_range(key, &n, 0, UINT64_MAX, "uint64", err) < 0)
        return -1;
    *out = n.u;
    return 1;
}

int
berth_json_get_int(struct json_object *obj, const char *key, int *out, struct berth_err *err)
{
    struct integer n = {0};
    int r = get_integer(obj, key, "int", &n, err);

    if (r != 1)
        return r;
    if (check_range(key, &n, INT_MIN, INT_MAX, "int", err) < 0)
        return -1;
    *out = n.negative ? (int)n.s : (int)n.u;
    return 1;
}

int
berth_json_get_uint32(struct json_object *obj, const char *key, uint32_t *out,
                      struct berth_err *err)
{
    struct integer n = {0};
    int r = get_integer(obj, key, "uint32", &n, err);

    if (r != 1)
        return r;
    if (check_range(key, &n, 0, UINT32_MAX, "uint32", err) < 0)
        return -1;
    *out = (uint32_t)n.u;
    return 1;
}

int
berth_json_get_strv(struct json_object *obj, const char *key, char ***out, size_t *n_out,
                    struct berth_err *err)
{
    struct json_object *arr = NULL;
    int r = berth_json_get_array(obj, key, &arr, err);

    if (r != 1)
        return r;

    size_t n = json_object_array_length(arr);
    cleanup_strv char **v = xzalloc((n + 1) * sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        struct json_object *item = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(item, json_type_string))
            return berth_err_fail(err, EINVAL, "`%s`: item %zu: expected string", key, i);
        v[i] = xstrdup(json_object_get_string(item));
    }
    *out = steal_ptr(&v);
    if (n_out)
        *n_out = n;
    return 1;
}

struct json_object *
berth_json_member(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

const char *
berth_json_member_string(struct json_object *o, const char *key)
{
    struct json_object *v = berth_json_member(o, key);
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

bool
berth_json_member_bool(struct json_object *o, const char *key)
{
    struct json_object *v = berth_json_member(o, key);
    return v && json_object_get_boolean(v);
}
