/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for common/log.c: level filtering, the text and JSON line shapes (JSON lines are
 * parsed back with json-c), writing to a file, and whole lines under concurrent writers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"

struct fixture {
    char dir[64];
    char *path; /* the log file */
};

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof(*f));

    strcpy(f->dir, "/tmp/berth-test-log-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    f->path = xasprintf("%s/log", f->dir);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;

    berth_log_close();
    int r = berth_fs_rm_rf(f->dir, &err);
    berth_err_clear(&err);
    free(f->path);
    free(f);
    return r;
}

static char *
read_log(struct fixture *f)
{
    struct berth_err err = BERTH_ERR_INIT;
    char *buf = NULL;

    if (berth_fs_read_file(f->path, &buf, NULL, &err) < 0) {
        berth_err_clear(&err);
        return xstrdup("");
    }
    return buf;
}

static size_t
count_lines(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void
assert_matches(const char *s, const char *pattern)
{
    regex_t re;

    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    int r = regexec(&re, s, 0, NULL, 0);
    regfree(&re);
    if (r != 0)
        fail_msg("`%s` does not match `%s`", s, pattern);
}

static void
init_log(struct fixture *f, enum berth_log_format format, enum berth_log_level level)
{
    struct berth_err err = BERTH_ERR_INIT;

    assert_int_equal(berth_log_init("tester", f->path, format, level, &err), 0);
}

static void
test_berth_log_init_text_line_shape(void **state)
{
    struct fixture *f = *state;

    init_log(f, BERTH_LOG_TEXT, BERTH_LOG_INFO);
    berth_info("hello %s=%d", "n", 1);
    cleanup_free char *buf = read_log(f);
    assert_matches(buf,
                   "^time=\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z\" "
                   "level=info tag=tester msg=\"hello n=1\"\n$");
}

static void
test_berth_log_init_text_levels_named(void **state)
{
    struct fixture *f = *state;

    init_log(f, BERTH_LOG_TEXT, BERTH_LOG_TRACE);
    berth_error("e");
    berth_warn("w");
    berth_info("i");
    berth_debug("d");
    berth_trace("t");
    berth_log(BERTH_LOG_WARN, "via %s", "berth_log");
    cleanup_free char *buf = read_log(f);
    assert_int_equal(count_lines(buf), 6);
    assert_non_null(strstr(buf, "level=error tag=tester msg=\"e\"\n"));
    assert_non_null(strstr(buf, "level=warning tag=tester msg=\"w\"\n"));
    assert_non_null(strstr(buf, "level=info tag=tester msg=\"i\"\n"));
    assert_non_null(strstr(buf, "level=debug tag=tester msg=\"d\"\n"));
    assert_non_null(strstr(buf, "level=trace tag=tester msg=\"t\"\n"));
    assert_non_null(strstr(buf, "level=warning tag=tester msg=\"via berth_log\"\n"));
}

static void
test_berth_log_init_bad_path(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *bad = xasprintf("%s/missing/log", f->dir);

    init_log(f, BERTH_LOG_TEXT, BERTH_LOG_INFO);
    assert_int_equal(berth_log_init("x", bad, BERTH_LOG_TEXT, BERTH_LOG_INFO, &err), -1);
    assert_int_equal(err.code, ENOENT);
    assert_non_null(strstr(err.msg, bad));
    berth_err_clear(&err);
    /* The logger keeps its previous file. */
    berth_info("still here");
    cleanup_free char *buf = read_log(f);
    assert_non_null(strstr(buf, "tag=tester msg=\"still here\"\n"));
}

static void
test_berth_log_init_appends(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;

    assert_int_equal(berth_fs_write_atomic(f->path, "old\n", 4, 0644, &err), 0);
    init_log(f, BERTH_LOG_TEXT, BERTH_LOG_INFO);
    berth_info("new");
    cleanup_free char *buf = read_log(f);
    assert_int_equal(strncmp(buf, "old\n", 4), 0);
    assert_int_equal(count_lines(buf), 2);
}

static void
test_berth_log_enabled_filters(void **state)
{
    struct fixture *f = *state;

    init_log(f, BERTH_LOG_TEXT, BERTH_LOG_WARN);
    assert_true(berth_log_enabled(BERTH_LOG_ERROR));
    assert_true(berth_log_enabled(BERTH_LOG_WARN));
    assert_false(berth_log_enabled(BERTH_LOG_INFO));
    assert_false(berth_log_enabled(BERTH_LOG_TRACE));
    berth_error("kept 1");
    berth_warn("kept 2");
    berth_info("dropped");
    berth_debug("dropped");
    berth_trace("dropped");
    cleanup_free char *buf = read_log(f);
    assert_int_equal(count_lines(buf), 2);
    assert_null(strstr(buf, "dropped"));
}

static void
test_berth_log_set_level_changes_filter(void **state)
{
    struct fixture *f = *state;

    init_log(f, BERTH_LOG_TEXT, BERTH_LOG_ERROR);
    berth_debug("before");
    berth_log_set_level(BERTH_LOG_DEBUG);
    assert_true(berth_log_enabled(BERTH_LOG_DEBUG));
    berth_debug("after");
    cleanup_free char *buf = read_log(f);
    assert_null(strstr(buf, "before"));
    assert_non_null(strstr(buf, "level=debug tag=tester msg=\"after\"\n"));
}

static struct json_object *
parse_line(const char *line)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct json_object *o = berth_json_parse(line, strlen(line), &err);

    if (o == NULL)
        fail_msg("`%s`: %s", line, err.msg);
    return o;
}

static void
test_berth_log_json_line_shape(void **state)
{
    struct fixture *f = *state;
    const char *msg = "a \"quoted\" /path\twith\\ and\nnewline";

    init_log(f, BERTH_LOG_JSON, BERTH_LOG_INFO);
    berth_error("%s", msg);
    cleanup_free char *buf = read_log(f);
    assert_int_equal(count_lines(buf), 1);
    assert_matches(buf, "^\\{\"level\":\"error\",\"msg\":\"[^\n]*\",\"time\":\"[^\n]*\"\\}\n$");
    assert_null(strstr(buf, "\\/")); /* slashes are not escaped, as Go's encoder */

    cleanup_json struct json_object *o = parse_line(buf);
    assert_int_equal(json_object_object_length(o), 3);
    struct json_object *v = NULL;
    assert_true(json_object_object_get_ex(o, "level", &v));
    assert_string_equal(json_object_get_string(v), "error");
    assert_true(json_object_object_get_ex(o, "msg", &v));
    assert_string_equal(json_object_get_string(v), msg);
    assert_true(json_object_object_get_ex(o, "time", &v));
    assert_matches(json_object_get_string(v),
                   "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{9}Z$");
}

static void
test_berth_log_json_level_names(void **state)
{
    struct fixture *f = *state;
    const char *want[] = {"error", "warning", "info", "debug", "trace"};

    init_log(f, BERTH_LOG_JSON, BERTH_LOG_TRACE);
    for (int l = BERTH_LOG_ERROR; l <= BERTH_LOG_TRACE; l++)
        berth_log(l, "m%d", l);
    cleanup_free char *buf = read_log(f);
    assert_int_equal(count_lines(buf), 5);

    char *save = NULL;
    int l = 0;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save), l++) {
        cleanup_json struct json_object *o = parse_line(line);
        struct json_object *v = NULL;
        assert_true(json_object_object_get_ex(o, "level", &v));
        assert_string_equal(json_object_get_string(v), want[l]);
    }
    assert_int_equal(l, 5);
}

static void
test_berth_logv_strips_trailing_newline(void **state)
{
    struct fixture *f = *state;

    init_log(f, BERTH_LOG_TEXT, BERTH_LOG_INFO);
    berth_info("one line\n\n");
    cleanup_free char *buf = read_log(f);
    assert_int_equal(count_lines(buf), 1);
    assert_non_null(strstr(buf, "msg=\"one line\"\n"));
}

static void
test_berth_logv_preserves_errno(void **state)
{
    struct fixture *f = *state;

    init_log(f, BERTH_LOG_JSON, BERTH_LOG_INFO);
    errno = ENOENT;
    berth_info("x");
    assert_int_equal(errno, ENOENT);
    berth_debug("filtered");
    assert_int_equal(errno, ENOENT);
}

/* Several processes append to one file at once: every line must come out whole. */
static void
test_berth_logv_concurrent_lines_whole(void **state)
{
    struct fixture *f = *state;
    const int n_procs = 4, n_lines = 300;
    char pad[600];

    memset(pad, 'x', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    init_log(f, BERTH_LOG_JSON, BERTH_LOG_INFO);
    for (int p = 0; p < n_procs; p++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            for (int i = 0; i < n_lines; i++)
                berth_info("proc=%d line=%d %s", p, i, pad);
            _exit(0);
        }
    }
    for (int p = 0; p < n_procs; p++) {
        int status = 0;
        assert_true(wait(&status) > 0);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }

    cleanup_free char *buf = read_log(f);
    assert_int_equal(count_lines(buf), (size_t)(n_procs * n_lines));
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cleanup_json struct json_object *o = parse_line(line);
        assert_int_equal(json_object_object_length(o), 3);
    }
}

static void
test_berth_log_fd_follows_file(void **state)
{
    struct fixture *f = *state;
    struct stat a, b;

    berth_log_close();
    assert_int_equal(berth_log_fd(), STDERR_FILENO);
    init_log(f, BERTH_LOG_TEXT, BERTH_LOG_INFO);
    int fd = berth_log_fd();
    assert_true(fd > STDERR_FILENO);
    assert_int_equal(fstat(fd, &a), 0);
    assert_int_equal(stat(f->path, &b), 0);
    assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    berth_log_close();
    assert_int_equal(berth_log_fd(), STDERR_FILENO);
}

static void
test_berth_log_init_stderr(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;

    assert_int_equal(berth_log_init("tester", NULL, BERTH_LOG_TEXT, BERTH_LOG_ERROR, &err), 0);
    assert_int_equal(berth_log_fd(), STDERR_FILENO);
    berth_debug("not shown");
}

static void
test_berth_log_level_parse_names(void **state)
{
    assert_int_equal(berth_log_level_parse("error"), BERTH_LOG_ERROR);
    assert_int_equal(berth_log_level_parse("warn"), BERTH_LOG_WARN);
    assert_int_equal(berth_log_level_parse("warning"), BERTH_LOG_WARN);
    assert_int_equal(berth_log_level_parse("info"), BERTH_LOG_INFO);
    assert_int_equal(berth_log_level_parse("DEBUG"), BERTH_LOG_DEBUG);
    assert_int_equal(berth_log_level_parse("trace"), BERTH_LOG_TRACE);
    assert_int_equal(berth_log_level_parse("loud"), -1);
    assert_int_equal(berth_log_level_parse(""), -1);
    assert_int_equal(berth_log_level_parse(NULL), -1);
}

static void
test_berth_log_format_parse_names(void **state)
{
    assert_int_equal(berth_log_format_parse("text"), BERTH_LOG_TEXT);
    assert_int_equal(berth_log_format_parse("json"), BERTH_LOG_JSON);
    assert_int_equal(berth_log_format_parse("xml"), -1);
    assert_int_equal(berth_log_format_parse(NULL), -1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_berth_log_init_text_line_shape),
        T(test_berth_log_init_text_levels_named),
        T(test_berth_log_init_bad_path),
        T(test_berth_log_init_appends),
        T(test_berth_log_enabled_filters),
        T(test_berth_log_set_level_changes_filter),
        T(test_berth_log_json_line_shape),
        T(test_berth_log_json_level_names),
        T(test_berth_logv_strips_trailing_newline),
        T(test_berth_logv_preserves_errno),
        T(test_berth_logv_concurrent_lines_whole),
        T(test_berth_log_fd_follows_file),
        T(test_berth_log_init_stderr),
        T(test_berth_log_level_parse_names),
        T(test_berth_log_format_parse_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
