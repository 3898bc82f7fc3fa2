/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for shim/logs.c: the json-file record (escaping, time), line splitting at \n and
 * at 16 KiB, partial lines, rotation. Records are read back with json-c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "shim/logs.h"

struct fixture {
    char dir[64];
    char *path;
};

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof(*f));

    strcpy(f->dir, "/tmp/berth-test-logs.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->path = xasprintf("%s/sub/ctr-json.log", f->dir);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    berth_fs_rm_rf(f->dir, NULL);
    free(f->path);
    free(f);
    return 0;
}

static char *
format(int stream, const char *s, size_t n)
{
    struct timespec ts = {.tv_sec = 1795419600, .tv_nsec = 123456789};
    size_t len;

    return shim_log_format(stream, s, n, &ts, &len);
}

/* The lines of path, each parsed; *n set. */
static struct json_object **
read_records(const char *path, size_t *n)
{
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *buf = NULL;
    struct json_object **recs = NULL;

    *n = 0;
    if (berth_fs_read_file(path, &buf, NULL, &err) < 0)
        fail_msg("%s", err.msg);
    for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        struct json_object *o = berth_json_parse(line, strlen(line), &err);
        if (o == NULL)
            fail_msg("line `%s`: %s", line, err.msg);
        recs = xrealloc(recs, (*n + 1) * sizeof(*recs));
        recs[(*n)++] = o;
    }
    return recs;
}

static void
free_records(struct json_object **recs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_object_put(recs[i]);
    free(recs);
}

static const char *
field(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;

    assert_true(json_object_object_get_ex(o, key, &v));
    return json_object_get_string(v);
}

/* ---- Records ----------------------------------------------------------------------------- */

static void
test_shim_log_format_plain(void **state)
{
    cleanup_free char *r = format(SHIM_STDOUT, "hello\n", 6);

    assert_string_equal(r, "{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-23T07:"
                           "40:00.123456789Z\"}\n");
    free(r);
    r = format(SHIM_STDERR, "x", 1);
    assert_non_null(strstr(r, "\"stream\":\"stderr\""));
}

static void
test_shim_log_format_escapes(void **state)
{
    const char in[] = "\"q\" \\ \t\r\x01\x1f <a&b> \x7f";
    cleanup_free char *r = format(SHIM_STDOUT, in, sizeof(in) - 1);

    assert_non_null(strstr(r,
                           "\"log\":\"\\\"q\\\" \\\\ \\t\\r\\u0001\\u001f \\u003ca\\u0026b\\u003e "
                           "\x7f\""));
}

static void
test_shim_log_format_utf8(void **state)
{
    /* Valid: é (2 bytes), € (3), 😀 (4). Invalid: a lone continuation byte, a truncated
     * sequence, an overlong '/', a surrogate, 0xff. U+2028 is escaped. */
    const char in[] = "é€😀|\x80|\xe2\x82|\xc0\xaf|\xed\xa0\x80|\xff|\xe2\x80\xa8";
    cleanup_free char *r = format(SHIM_STDOUT, in, sizeof(in) - 1);

    assert_non_null(strstr(r, "\"log\":\"é€😀|\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd|"
                              "\\ufffd\\ufffd\\ufffd|\\ufffd|\\u2028\""));
    /* And json-c reads the whole record back. */
    struct berth_err err = BERTH_ERR_INIT;
    struct json_object *o = berth_json_parse(r, strlen(r), &err);
    assert_non_null(o);
    json_object_put(o);
}

/* ---- Lines ------------------------------------------------------------------------------- */

static void
test_shim_log_write_lines(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    struct shim_log *log = shim_log_open(f->path, 0, 0, &err);
    size_t n;

    assert_non_null(log);
    shim_log_write(log, SHIM_STDOUT, "one\ntwo\nthr", 11);
    shim_log_write(log, SHIM_STDERR, "err\n", 4);
    shim_log_write(log, SHIM_STDOUT, "ee\nfour", 7);
    /* "four" waits for its newline until the flush. */
    struct json_object **r = read_records(f->path, &n);
    assert_int_equal(n, 4);
    assert_string_equal(field(r[0], "log"), "one\n");
    assert_string_equal(field(r[1], "log"), "two\n");
    assert_string_equal(field(r[2], "log"), "err\n");
    assert_string_equal(field(r[2], "stream"), "stderr");
    assert_string_equal(field(r[3], "log"), "three\n");
    assert_string_equal(field(r[3], "stream"), "stdout");
    assert_int_equal(strlen(field(r[0], "time")), strlen("2026-11-23T07:40:00.123456789Z"));
    free_records(r, n);

    shim_log_close(log);
    r = read_records(f->path, &n);
    assert_int_equal(n, 5);
    assert_string_equal(field(r[4], "log"), "four");
    free_records(r, n);
}

static void
test_shim_log_write_long_line(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    struct shim_log *log = shim_log_open(f->path, 0, 0, &err);
    size_t total = 40000, n;
    char *line = xmalloc(total + 1);

    memset(line, 'a', total);
    line[total] = '\n';
    /* In pieces of 1000: the cut does not depend on how the bytes arrive. */
    for (size_t off = 0; off < total + 1; off += 1000)
        shim_log_write(log, SHIM_STDOUT, line + off,
                       off + 1000 > total + 1 ? total + 1 - off : 1000);
    shim_log_close(log);
    struct json_object **r = read_records(f->path, &n);
    assert_int_equal(n, 3);
    assert_int_equal(strlen(field(r[0], "log")), SHIM_LOG_LINE_MAX);
    assert_int_equal(strlen(field(r[1], "log")), SHIM_LOG_LINE_MAX);
    assert_int_equal(strlen(field(r[2], "log")), total - 2 * SHIM_LOG_LINE_MAX + 1);
    assert_int_equal(field(r[2], "log")[total - 2 * SHIM_LOG_LINE_MAX], '\n');
    free_records(r, n);
    free(line);
}

/* ---- Rotation ---------------------------------------------------------------------------- */

static void
test_shim_log_rotate(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    struct shim_log *log = shim_log_open(f->path, 200, 3, &err);
    cleanup_free char *p1 = xasprintf("%s.1", f->path);
    cleanup_free char *p2 = xasprintf("%s.2", f->path);
    cleanup_free char *p3 = xasprintf("%s.3", f->path);
    size_t n;

    assert_non_null(log);
    /* Each record is ~80 bytes: three fill a file past 200, the fourth starts a new one. */
    for (int i = 0; i < 20; i++) {
        char line[32];
        int len = snprintf(line, sizeof(line), "line %02d\n", i);
        shim_log_write(log, SHIM_STDOUT, line, (size_t)len);
    }
    shim_log_close(log);
    assert_true(berth_fs_exists(f->path));
    assert_true(berth_fs_exists(p1));
    assert_true(berth_fs_exists(p2));
    assert_false(berth_fs_exists(p3));

    /* The newest lines are in the current file, the ones before in .1, in order. */
    struct json_object **r = read_records(f->path, &n);
    assert_true(n >= 1 && n <= 3);
    assert_string_equal(field(r[n - 1], "log"), "line 19\n");
    size_t cur = n;
    free_records(r, n);
    r = read_records(p1, &n);
    assert_int_equal(n, 3);
    char want[32];
    snprintf(want, sizeof(want), "line %02zu\n", 19 - cur);
    assert_string_equal(field(r[2], "log"), want);
    free_records(r, n);
}

static void
test_shim_log_rotate_one_file(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    struct shim_log *log = shim_log_open(f->path, 200, 1, &err);
    cleanup_free char *p1 = xasprintf("%s.1", f->path);
    size_t n;

    for (int i = 0; i < 10; i++)
        shim_log_write(log, SHIM_STDOUT, "0123456789\n", 11);
    shim_log_close(log);
    assert_false(berth_fs_exists(p1));
    struct json_object **r = read_records(f->path, &n);
    assert_true(n >= 1 && n <= 3);
    free_records(r, n);
}

static void
test_shim_log_open_appends(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    size_t n;

    for (int i = 0; i < 2; i++) {
        struct shim_log *log = shim_log_open(f->path, 0, 0, &err);
        assert_non_null(log);
        shim_log_write(log, SHIM_STDOUT, "x\n", 2);
        shim_log_close(log);
    }
    struct json_object **r = read_records(f->path, &n);
    assert_int_equal(n, 2);
    free_records(r, n);

    /* A path that cannot be a file: the error names it. */
    cleanup_free char *bad = xasprintf("%s/sub", f->dir);
    assert_null(shim_log_open(bad, 0, 0, &err));
    assert_non_null(strstr(err.msg, bad));
    berth_err_clear(&err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shim_log_format_plain),
        cmocka_unit_test(test_shim_log_format_escapes),
        cmocka_unit_test(test_shim_log_format_utf8),
        cmocka_unit_test_setup_teardown(test_shim_log_write_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shim_log_write_long_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shim_log_rotate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shim_log_rotate_one_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shim_log_open_appends, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
