/* SPDX-License-Identifier: Apache-2.0
 *
 * json-c helpers: parse with errors that name the line and column, typed field access that
 * tells "absent" from "wrong type", and atomic writes. Every JSON document in berth goes
 * through json-c; nothing parses JSON by hand.
 */
#ifndef BERTH_COMMON_JSON_H
#define BERTH_COMMON_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct json_object;
struct berth_err;

/* Parse a whole buffer / file into a new object (caller puts it with json_object_put or
 * cleanup_json). On failure err says what and where: "line 3, column 7: unexpected character"
 * (columns in bytes, both from 1; code 0, as for every content error below). Parsing is
 * json-c's strict mode: no comments or trailing commas. Trailing garbage after the value is an
 * error. */
struct json_object *berth_json_parse(const char *buf, size_t len, struct berth_err *err);
struct json_object *berth_json_parse_file(const char *path, struct berth_err *err);

/* Serialize obj (pretty when `pretty`) and write it to path with berth_fs_write_atomic. */
int berth_json_write_file(const char *path, struct json_object *obj, bool pretty, mode_t mode,
                          struct berth_err *err);

/* Typed field access on an object. Each returns 1 when key is present with the expected type
 * (and sets *out), 0 when key is absent or JSON null (out untouched), and -1 with err set to
 * "`key`: expected <type>" when the type is wrong. Borrowed pointers live as long as obj. */
int berth_json_get_object(struct json_object *obj, const char *key, struct json_object **out,
                          struct berth_err *err);
int berth_json_get_array(struct json_object *obj, const char *key, struct json_object **out,
                         struct berth_err *err);
int berth_json_get_string(struct json_object *obj, const char *key, const char **out,
                          struct berth_err *err);
int berth_json_get_bool(struct json_object *obj, const char *key, bool *out, struct berth_err *err);
/* Integers: the JSON value must be an integer (no fraction) within the C type's range:
 * "`key`: 4294967296 out of range for uint32". A number written with a fraction or exponent
 * is accepted when its value is whole ("5.0", "1e3"). json-c saturates integer literals beyond
 * 64 bits while parsing, so those read as INT64_MIN / UINT64_MAX. */
int berth_json_get_int64(struct json_object *obj, const char *key, int64_t *out,
                         struct berth_err *err);
int berth_json_get_uint64(struct json_object *obj, const char *key, uint64_t *out,
                          struct berth_err *err);
int berth_json_get_int(struct json_object *obj, const char *key, int *out, struct berth_err *err);
int berth_json_get_uint32(struct json_object *obj, const char *key, uint32_t *out,
                          struct berth_err *err);
/* An array of strings as a new NULL-terminated vector (caller frees with cleanup_strv);
 * *n_out (may be NULL) gets the count. "`key`: item 2: expected string" on a bad item
 * (items count from 0). */
int berth_json_get_strv(struct json_object *obj, const char *key, char ***out, size_t *n_out,
                        struct berth_err *err);

/* The type of a value as a word for messages: "string", "object", "null". */
const char *berth_json_type_name(struct json_object *v);

/* Lenient reads, for documents berth wrote or already checked: o's member key (NULL when o is
 * NULL, not an object or lacks it), as a string (NULL unless a string), as a boolean (false
 * unless true). */
struct json_object *berth_json_member(struct json_object *o, const char *key);
const char *berth_json_member_string(struct json_object *o, const char *key);
bool berth_json_member_bool(struct json_object *o, const char *key);

static inline void
berth_json_putp(struct json_object **o)
{
    extern int json_object_put(struct json_object * obj);
    if (*o)
        json_object_put(*o);
}
#define cleanup_json __attribute__((cleanup(berth_json_putp)))

#endif
