/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for common/json.c: parse errors with line and column, trailing data, files, and
 * every typed getter's present / absent / null / wrong-type / out-of-range cases.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"

static struct json_object *
parse_ok(const char *s)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct json_object *o = berth_json_parse(s, strlen(s), &err);

    if (o == NULL)
        fail_msg("parse `%s`: %s", s, err.msg);
    return o;
}

/* Parse s, expect failure, and compare the whole message. */
static void
assert_parse_error(const char *s, const char *want)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct json_object *o = berth_json_parse(s, strlen(s), &err);

    assert_null(o);
    assert_non_null(err.msg);
    if (strcmp(err.msg, want) != 0)
        fail_msg("parse `%s`: got `%s`, want `%s`", s, err.msg, want);
    /* bad input: EINVAL (INVALID_ARGUMENT, 400), printed without strerror */
    assert_int_equal(err.code, EINVAL);
    assert_true(err.no_cause);
    berth_err_clear(&err);
}

/* ---- Parsing ----------------------------------------------------------------------------- */

static void
test_berth_json_parse_object(void **state)
{
    cleanup_json struct json_object *o = parse_ok(" {\"a\": [1, 2], \"b\": \"c\"} \n");

    assert_true(json_object_is_type(o, json_type_object));
    assert_int_equal(json_object_object_length(o), 2);
}

static void
test_berth_json_parse_scalars(void **state)
{
    cleanup_json struct json_object *n = parse_ok("123");
    cleanup_json struct json_object *t = parse_ok("true");
    cleanup_json struct json_object *s = parse_ok("\"x\"  ");

    assert_int_equal(json_object_get_int64(n), 123);
    assert_true(json_object_get_boolean(t));
    assert_string_equal(json_object_get_string(s), "x");
}

static void
test_berth_json_parse_not_nul_terminated(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    const char buf[] = {'[', '1', ']', 'x'}; /* only the first 3 bytes are the document */
    cleanup_json struct json_object *o = berth_json_parse(buf, 3, &err);

    assert_non_null(o);
    assert_int_equal(json_object_array_length(o), 1);
}

static void
test_berth_json_parse_error_line_column(void **state)
{
    assert_parse_error("{\"a\": x}", "line 1, column 7: unexpected character");
    assert_parse_error("{\n  \"a\": 1,\n  \"b\": ?\n}", "line 3, column 8: unexpected character");
    assert_parse_error("{\n  \"a\":\n   tru }", "line 3, column 7: boolean expected");
}

static void
test_berth_json_parse_error_strict(void **state)
{
    assert_parse_error("[1,2,]", "line 1, column 6: unexpected character");
    assert_parse_error("{\"a\":1,}", "line 1, column 8: unexpected character");
    assert_parse_error("/* c */ 1", "line 1, column 1: unexpected character");
}

static void
test_berth_json_parse_error_end_of_data(void **state)
{
    assert_parse_error("{\"a\":1", "line 1, column 7: unexpected end of data");
    assert_parse_error("{\n\"a\":\"b", "line 2, column 7: unexpected end of data");
    assert_parse_error("", "line 1, column 1: unexpected end of data");
    assert_parse_error("  \n ", "line 2, column 2: unexpected end of data");
}

static void
test_berth_json_parse_error_trailing(void **state)
{
    assert_parse_error("{\"a\":1}  x", "line 1, column 10: unexpected character");
    assert_parse_error("[1]\n[2]", "line 2, column 1: unexpected character");
    assert_parse_error("1 2", "line 1, column 3: unexpected character");
    assert_parse_error("truex", "line 1, column 5: unexpected character");
}

static void
test_berth_json_parse_error_trailing_nul(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    const char buf[] = "{}\0junk";

    assert_null(berth_json_parse(buf, sizeof(buf) - 1, &err));
    assert_string_equal(err.msg, "line 1, column 3: unexpected data after the value");
    berth_err_clear(&err);
}

struct tmp {
    char dir[64];
};

static int
setup_tmp(void **state)
{
    struct tmp *t = xzalloc(sizeof(*t));

    strcpy(t->dir, "/tmp/berth-test-json-XXXXXX");
    if (mkdtemp(t->dir) == NULL)
        return -1;
    *state = t;
    return 0;
}

static int
teardown_tmp(void **state)
{
    struct tmp *t = *state;
    struct berth_err err = BERTH_ERR_INIT;
    int r = berth_fs_rm_rf(t->dir, &err);

    berth_err_clear(&err);
    free(t);
    return r;
}

static void
test_berth_json_parse_file_ok(void **state)
{
    struct tmp *t = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *path = xasprintf("%s/c.json", t->dir);
    const char *doc = "{\"ociVersion\": \"1.0.2\"}\n";

    assert_int_equal(berth_fs_write_atomic(path, doc, strlen(doc), 0644, &err), 0);
    cleanup_json struct json_object *o = berth_json_parse_file(path, &err);
    assert_non_null(o);
    const char *v = NULL;
    assert_int_equal(berth_json_get_string(o, "ociVersion", &v, &err), 1);
    assert_string_equal(v, "1.0.2");
}

static void
test_berth_json_parse_file_bad_names_path(void **state)
{
    struct tmp *t = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *path = xasprintf("%s/c.json", t->dir);
    const char *doc = "{\n  \"a\": 1\n  \"b\": 2\n}\n";

    assert_int_equal(berth_fs_write_atomic(path, doc, strlen(doc), 0644, &err), 0);
    assert_null(berth_json_parse_file(path, &err));
    cleanup_free char *want =
        xasprintf("parse `%s`: line 3, column 3: object value separator ',' expected", path);
    assert_string_equal(err.msg, want);
    berth_err_clear(&err);
}

static void
test_berth_json_parse_file_missing(void **state)
{
    struct tmp *t = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *path = xasprintf("%s/none.json", t->dir);

    assert_null(berth_json_parse_file(path, &err));
    assert_int_equal(err.code, ENOENT);
    assert_non_null(strstr(err.msg, path));
    berth_err_clear(&err);
}

static void
test_berth_json_write_file_round_trip(void **state)
{
    struct tmp *t = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *path = xasprintf("%s/state.json", t->dir);
    cleanup_json struct json_object *o = parse_ok("{\"id\":\"web\",\"pid\":42,\"path\":\"/a/b\"}");
    struct stat st;

    for (int pretty = 0; pretty <= 1; pretty++) {
        assert_int_equal(berth_json_write_file(path, o, pretty, 0600, &err), 0);
        cleanup_free char *buf = NULL;
        assert_int_equal(berth_fs_read_file(path, &buf, NULL, &err), 0);
        assert_null(strstr(buf, "\\/"));
        assert_int_equal(buf[strlen(buf) - 1], '\n');
        assert_true(pretty ? strchr(buf, '\n') != buf + strlen(buf) - 1
                           : strchr(buf, '\n') == buf + strlen(buf) - 1);
        cleanup_json struct json_object *back = berth_json_parse_file(path, &err);
        assert_non_null(back);
        assert_true(json_object_equal(o, back));
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
    }
}

static void
test_berth_json_write_file_missing_dir(void **state)
{
    struct tmp *t = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *path = xasprintf("%s/no/state.json", t->dir);
    cleanup_json struct json_object *o = parse_ok("{}");

    assert_int_equal(berth_json_write_file(path, o, false, 0644, &err), -1);
    assert_int_equal(err.code, ENOENT);
    berth_err_clear(&err);
}

/* ---- Typed getters ----------------------------------------------------------------------- */

static const char *doc = "{"
                         "\"obj\": {\"k\": 1},"
                         "\"arr\": [1, \"x\"],"
                         "\"str\": \"hello\","
                         "\"t\": true,"
                         "\"f\": false,"
                         "\"nul\": null,"
                         "\"zero\": 0,"
                         "\"neg\": -5,"
                         "\"big\": 4294967296,"
                         "\"u32max\": 4294967295,"
                         "\"imax\": 2147483647,"
                         "\"imin\": -2147483648,"
                         "\"over_imax\": 2147483648,"
                         "\"under_imin\": -2147483649,"
                         "\"i64max\": 9223372036854775807,"
                         "\"i64min\": -9223372036854775808,"
                         "\"over_i64\": 9223372036854775808,"
                         "\"u64max\": 18446744073709551615,"
                         "\"frac\": 1.5,"
                         "\"whole\": 5.0,"
                         "\"exp\": 1e3,"
                         "\"negwhole\": -7.0,"
                         "\"huge\": 1e30,"
                         "\"hugeneg\": -1e30,"
                         "\"numstr\": \"5\","
                         "\"strv\": [\"a\", \"b\", \"c\"],"
                         "\"strv_empty\": [],"
                         "\"strv_bad\": [\"a\", \"b\", 3],"
                         "\"strv_null\": [\"a\", null]"
                         "}";

static int
setup_doc(void **state)
{
    *state = parse_ok(doc);
    return 0;
}

static int
teardown_doc(void **state)
{
    json_object_put(*state);
    return 0;
}

static void
assert_err(struct berth_err *err, const char *want)
{
    assert_non_null(err->msg);
    if (strcmp(err->msg, want) != 0)
        fail_msg("got `%s`, want `%s`", err->msg, want);
    assert_int_equal(err->code, EINVAL);
    assert_true(err->no_cause);
    berth_err_clear(err);
}

static void
test_berth_json_get_object_cases(void **state)
{
    struct json_object *o = *state, *v = NULL, *sentinel = (struct json_object *)0x1;
    struct berth_err err = BERTH_ERR_INIT;

    assert_int_equal(berth_json_get_object(o, "obj", &v, &err), 1);
    assert_int_equal(json_object_object_length(v), 1);
    v = sentinel;
    assert_int_equal(berth_json_get_object(o, "absent", &v, &err), 0);
    assert_int_equal(berth_json_get_object(o, "nul", &v, &err), 0);
    assert_ptr_equal(v, sentinel);
    assert_int_equal(berth_json_get_object(o, "arr", &v, &err), -1);
    assert_err(&err, "`arr`: expected object");
    assert_ptr_equal(v, sentinel);
}

static void
test_berth_json_get_object_on_non_object(void **state)
{
    cleanup_json struct json_object *arr = parse_ok("[1]");
    struct json_object *v = NULL;
    struct berth_err err = BERTH_ERR_INIT;

    assert_int_equal(berth_json_get_object(arr, "k", &v, &err), 0);
    assert_int_equal(berth_json_get_object(NULL, "k", &v, &err), 0);
}

static void
test_berth_json_get_array_cases(void **state)
{
    struct json_object *o = *state, *v = NULL;
    struct berth_err err = BERTH_ERR_INIT;

    assert_int_equal(berth_json_get_array(o, "arr", &v, &err), 1);
    assert_int_equal(json_object_array_length(v), 2);
    assert_int_equal(berth_json_get_array(o, "absent", &v, &err), 0);
    assert_int_equal(berth_json_get_array(o, "nul", &v, &err), 0);
    assert_int_equal(berth_json_get_array(o, "obj", &v, &err), -1);
    assert_err(&err, "`obj`: expected array");
}

static void
test_berth_json_get_string_cases(void **state)
{
    struct json_object *o = *state;
    const char *v = "untouched";
    struct berth_err err = BERTH_ERR_INIT;

    assert_int_equal(berth_json_get_string(o, "absent", &v, &err), 0);
    assert_int_equal(berth_json_get_string(o, "nul", &v, &err), 0);
    assert_string_equal(v, "untouched");
    assert_int_equal(berth_json_get_string(o, "zero", &v, &err), -1);
    assert_err(&err, "`zero`: expected string");
    assert_int_equal(berth_json_get_string(o, "t", &v, &err), -1);
    assert_err(&err, "`t`: expected string");
    assert_string_equal(v, "untouched");
    assert_int_equal(berth_json_get_string(o, "str", &v, &err), 1);
    assert_string_equal(v, "hello");
}

static void
test_berth_json_get_bool_cases(void **state)
{
    struct json_object *o = *state;
    bool v = false;
    struct berth_err err = BERTH_ERR_INIT;

    assert_int_equal(berth_json_get_bool(o, "t", &v, &err), 1);
    assert_true(v);
    assert_int_equal(berth_json_get_bool(o, "f", &v, &err), 1);
    assert_false(v);
    v = true;
    assert_int_equal(berth_json_get_bool(o, "absent", &v, &err), 0);
    assert_int_equal(berth_json_get_bool(o, "nul", &v, &err), 0);
    assert_true(v);
    assert_int_equal(berth_json_get_bool(o, "zero", &v, &err), -1); /* no int coercion */
    assert_err(&err, "`zero`: expected boolean");
    assert_int_equal(berth_json_get_bool(o, "str", &v, &err), -1);
    assert_err(&err, "`str`: expected boolean");
}

static void
test_berth_json_get_int64_cases(void **state)
{
    struct json_object *o = *state;
    int64_t v = 77;
    struct berth_err err = BERTH_ERR_INIT;

    assert_int_equal(berth_json_get_int64(o, "absent", &v, &err), 0);
    assert_int_equal(berth_json_get_int64(o, "nul", &v, &err), 0);
    assert_int_equal(v, 77);
    assert_int_equal(berth_json_get_int64(o, "neg", &v, &err), 1);
    assert_int_equal(v, -5);
    assert_int_equal(berth_json_get_int64(o, "i64max", &v, &err), 1);
    assert_true(v == INT64_MAX);
    assert_int_equal(berth_json_get_int64(o, "i64min", &v, &err), 1);
    assert_true(v == INT64_MIN);
    assert_int_equal(berth_json_get_int64(o, "whole", &v, &err), 1);
    assert_int_equal(v, 5);
    assert_int_equal(berth_json_get_int64(o, "exp", &v, &err), 1);
    assert_int_equal(v, 1000);
    assert_int_equal(berth_json_get_int64(o, "negwhole", &v, &err), 1);
    assert_int_equal(v, -7);

    v = 77;
    assert_int_equal(berth_json_get_int64(o, "over_i64", &v, &err), -1);
    assert_err(&err, "`over_i64`: 9223372036854775808 out of range for int64");
    assert_int_equal(berth_json_get_int64(o, "u64max", &v, &err), -1);
    assert_err(&err, "`u64max`: 18446744073709551615 out of range for int64");
    assert_int_equal(berth_json_get_int64(o, "huge", &v, &err), -1);
    assert_err(&err, "`huge`: 1e30 out of range for int64");
    assert_int_equal(berth_json_get_int64(o, "hugeneg", &v, &err), -1);
    assert_err(&err, "`hugeneg`: -1e30 out of range for int64");
    assert_int_equal(berth_json_get_int64(o, "frac", &v, &err), -1);
    assert_err(&err, "`frac`: expected integer");
    assert_int_equal(berth_json_get_int64(o, "numstr", &v, &err), -1);
    assert_err(&err, "`numstr`: expected integer");
    assert_int_equal(berth_json_get_int64(o, "t", &v, &err), -1);
    assert_err(&err, "`t`: expected integer");
    assert_int_equal(v, 77);
}

static void
test_berth_json_get_uint64_cases(void **state)
{
    struct json_object *o = *state;
    uint64_t v = 77;
    struct berth_err err = BERTH_ERR_INIT;

    assert_int_equal(berth_json_get_uint64(o, "absent", &v, &err), 0);
    assert_int_equal(berth_json_get_uint64(o, "nul", &v, &err), 0);
    assert_int_equal(v, 77);
    assert_int_equal(berth_json_get_uint64(o, "zero", &v, &err), 1);
    assert_int_equal(v, 0);
    assert_int_equal(berth_json_get_uint64(o, "u64max", &v, &err), 1);
    assert_true(v == UINT64_MAX);
    assert_int_equal(berth_json_get_uint64(o, "over_i64", &v, &err), 1);
    assert_true(v == 9223372036854775808ULL);
    assert_int_equal(berth_json_get_uint64(o, "whole", &v, &err), 1);
    assert_int_equal(v, 5);

    v = 77;
    assert_int_equal(berth_json_get_uint64(o, "neg", &v, &err), -1);
    assert_err(&err, "`neg`: -5 out of range for uint64");
    assert_int_equal(berth_json_get_uint64(o, "i64min", &v, &err), -1);
    assert_err(&err, "`i64min`: -9223372036854775808 out of range for uint64");
    assert_int_equal(berth_json_get_uint64(o, "negwhole", &v, &err), -1);
    assert_err(&err, "`negwhole`: -7 out of range for uint64");
    assert_int_equal(berth_json_get_uint64(o, "huge", &v, &err), -1);
    assert_err(&err, "`huge`: 1e30 out of range for uint64");
    assert_int_equal(berth_json_get_uint64(o, "frac", &v, &err), -1);
    assert_err(&err, "`frac`: expected integer");
    assert_int_equal(berth_json_get_uint64(o, "str", &v, &err), -1);
    assert_err(&err, "`str`: expected integer");
    assert_int_equal(v, 77);
}

static void
test_berth_json_get_int_cases(void **state)
{
    struct json_object *o = *state;
    int v = 77;
    struct berth_err err = BERTH_ERR_INIT;

    assert_int_equal(berth_json_get_int(o, "absent", &v, &err), 0);
    assert_int_equal(berth_json_get_int(o, "nul", &v, &err), 0);
    assert_int_equal(v, 77);
    assert_int_equal(berth_json_get_int(o, "imax", &v, &err), 1);
    assert_int_equal(v, INT_MAX);
    assert_int_equal(berth_json_get_int(o, "imin", &v, &err), 1);
    assert_int_equal(v, INT_MIN);
    assert_int_equal(berth_json_get_int(o, "neg", &v, &err), 1);
    assert_int_equal(v, -5);

    v = 77;
    assert_int_equal(berth_json_get_int(o, "over_imax", &v, &err), -1);
    assert_err(&err, "`over_imax`: 2147483648 out of range for int");
    assert_int_equal(berth_json_get_int(o, "under_imin", &v, &err), -1);
    assert_err(&err, "`under_imin`: -2147483649 out of range for int");
    assert_int_equal(berth_json_get_int(o, "frac", &v, &err), -1);
    assert_err(&err, "`frac`: expected integer");
    assert_int_equal(berth_json_get_int(o, "obj", &v, &err), -1);
    assert_err(&err, "`obj`: expected integer");
    assert_int_equal(v, 77);
}

static void
test_berth_json_get_uint32_cases(void **state)
{
    struct json_object *o = *state;
    uint32_t v = 77;
    struct berth_err err = BERTH_ERR_INIT;

    assert_int_equal(berth_json_get_uint32(o, "absent", &v, &err), 0);
    assert_int_equal(berth_json_get_uint32(o, "nul", &v, &err), 0);
    assert_int_equal(v, 77);
    assert_int_equal(berth_json_get_uint32(o, "u32max", &v, &err), 1);
    assert_true(v == UINT32_MAX);
    assert_int_equal(berth_json_get_uint32(o, "zero", &v, &err), 1);
    assert_int_equal(v, 0);

    v = 77;
    assert_int_equal(berth_json_get_uint32(o, "big", &v, &err), -1);
    assert_err(&err, "`big`: 4294967296 out of range for uint32");
    assert_int_equal(berth_json_get_uint32(o, "neg", &v, &err), -1);
    assert_err(&err, "`neg`: -5 out of range for uint32");
    assert_int_equal(berth_json_get_uint32(o, "frac", &v, &err), -1);
    assert_err(&err, "`frac`: expected integer");
    assert_int_equal(berth_json_get_uint32(o, "arr", &v, &err), -1);
    assert_err(&err, "`arr`: expected integer");
    assert_int_equal(v, 77);
}

static void
test_berth_json_get_strv_cases(void **state)
{
    struct json_object *o = *state;
    struct berth_err err = BERTH_ERR_INIT;
    size_t n = 99;

    {
        cleanup_strv char **v = NULL;
        assert_int_equal(berth_json_get_strv(o, "strv", &v, &n, &err), 1);
        assert_int_equal(n, 3);
        assert_string_equal(v[0], "a");
        assert_string_equal(v[2], "c");
        assert_null(v[3]);
    }
    {
        cleanup_strv char **v = NULL;
        assert_int_equal(berth_json_get_strv(o, "strv_empty", &v, NULL, &err), 1);
        assert_non_null(v);
        assert_null(v[0]);
    }
    {
        cleanup_strv char **v = NULL;
        assert_int_equal(berth_json_get_strv(o, "absent", &v, &n, &err), 0);
        assert_int_equal(berth_json_get_strv(o, "nul", &v, &n, &err), 0);
        assert_null(v);
        assert_int_equal(berth_json_get_strv(o, "strv_bad", &v, &n, &err), -1);
        assert_err(&err, "`strv_bad`: item 2: expected string");
        assert_int_equal(berth_json_get_strv(o, "strv_null", &v, &n, &err), -1);
        assert_err(&err, "`strv_null`: item 1: expected string");
        assert_int_equal(berth_json_get_strv(o, "str", &v, &n, &err), -1);
        assert_err(&err, "`str`: expected array");
        assert_null(v);
        assert_int_equal(n, 3);
    }
}

static void
test_berth_json_type_name_words(void **state)
{
    cleanup_json struct json_object *o = parse_ok(doc);
    struct json_object *v = NULL;
    const struct {
        const char *key, *want;
    } cases[] = {{"obj", "object"},   {"arr", "array"},   {"str", "string"}, {"t", "boolean"},
                 {"zero", "integer"}, {"frac", "number"}, {"nul", "null"}};

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        json_object_object_get_ex(o, cases[i].key, &v);
        assert_string_equal(berth_json_type_name(v), cases[i].want);
    }
    assert_string_equal(berth_json_type_name(NULL), "null");
}

#define T_TMP(fn) cmocka_unit_test_setup_teardown(fn, setup_tmp, teardown_tmp)
#define T_DOC(fn) cmocka_unit_test_setup_teardown(fn, setup_doc, teardown_doc)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_berth_json_parse_object),
        cmocka_unit_test(test_berth_json_parse_scalars),
        cmocka_unit_test(test_berth_json_parse_not_nul_terminated),
        cmocka_unit_test(test_berth_json_parse_error_line_column),
        cmocka_unit_test(test_berth_json_parse_error_strict),
        cmocka_unit_test(test_berth_json_parse_error_end_of_data),
        cmocka_unit_test(test_berth_json_parse_error_trailing),
        cmocka_unit_test(test_berth_json_parse_error_trailing_nul),
        T_TMP(test_berth_json_parse_file_ok),
        T_TMP(test_berth_json_parse_file_bad_names_path),
        T_TMP(test_berth_json_parse_file_missing),
        T_TMP(test_berth_json_write_file_round_trip),
        T_TMP(test_berth_json_write_file_missing_dir),
        T_DOC(test_berth_json_get_object_cases),
        cmocka_unit_test(test_berth_json_get_object_on_non_object),
        T_DOC(test_berth_json_get_array_cases),
        T_DOC(test_berth_json_get_string_cases),
        T_DOC(test_berth_json_get_bool_cases),
        T_DOC(test_berth_json_get_int64_cases),
        T_DOC(test_berth_json_get_uint64_cases),
        T_DOC(test_berth_json_get_int_cases),
        T_DOC(test_berth_json_get_uint32_cases),
        T_DOC(test_berth_json_get_strv_cases),
        cmocka_unit_test(test_berth_json_type_name_words),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
