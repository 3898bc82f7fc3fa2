/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for common/error.c: setting, wrapping, clearing and printing errors, warnings
 * through the logger, and the errno <-> gRPC <-> HTTP table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/log.h"

static void
test_berth_err_set_fills(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;

    assert_int_equal(berth_err_set(&err, ENOENT, "open `%s`", "/x"), -1);
    assert_int_equal(err.code, ENOENT);
    assert_string_equal(err.msg, "open `/x`");
    berth_err_clear(&err);
}

static void
test_berth_err_set_replaces_held_error(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;

    berth_err_set(&err, ENOENT, "first");
    assert_int_equal(berth_err_set(&err, EEXIST, "second"), -1);
    assert_int_equal(err.code, EEXIST);
    assert_string_equal(err.msg, "second");
    berth_err_clear(&err); /* ASan reports the first message if it leaked */
}

static void
test_berth_err_set_may_use_held_message(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;

    berth_err_set(&err, EINVAL, "inner");
    berth_err_set(&err, EIO, "outer: %s", err.msg);
    assert_string_equal(err.msg, "outer: inner");
    assert_int_equal(err.code, EIO);
    berth_err_clear(&err);
}

static void
test_berth_err_set_null_err(void **state)
{
    assert_int_equal(berth_err_set(NULL, EINVAL, "ignored %d", 1), -1);
    assert_int_equal(berth_err_wrap(NULL, "ignored"), -1);
    berth_err_clear(NULL);
}

static void
test_berth_err_wrap_prefixes(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;

    berth_err_set(&err, EACCES, "mount `%s`", "/proc");
    assert_int_equal(berth_err_wrap(&err, "create container `%s`", "web"), -1);
    assert_string_equal(err.msg, "create container `web`: mount `/proc`");
    assert_int_equal(err.code, EACCES);
    berth_err_wrap(&err, "run");
    assert_string_equal(err.msg, "run: create container `web`: mount `/proc`");
    berth_err_clear(&err);
}

static void
test_berth_err_wrap_empty_sets(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;

    assert_int_equal(berth_err_wrap(&err, "context %d", 7), -1);
    assert_int_equal(err.code, 0);
    assert_string_equal(err.msg, "context 7");
    berth_err_clear(&err);
}

static void
test_berth_err_clear_zeroes(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;

    berth_err_set(&err, EBUSY, "busy");
    berth_err_clear(&err);
    assert_null(err.msg);
    assert_int_equal(err.code, 0);
    berth_err_clear(&err); /* twice is harmless */
}

static void
test_berth_err_clear_cleanup_attribute(void **state)
{
    /* Leaves scope holding an error: ASan fails the test if the message leaks. */
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    berth_err_set(&err, EBUSY, "held at scope exit");
}

static void
test_berth_err_string_with_code(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;

    berth_err_set(&err, ENOENT, "open `%s`", "/x");
    cleanup_free char *s = berth_err_string(&err);
    assert_string_equal(s, "open `/x`: No such file or directory");
    berth_err_clear(&err);
}

static void
test_berth_err_string_code_zero(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;

    berth_err_set(&err, 0, "line 1, column 2: unexpected character");
    cleanup_free char *s = berth_err_string(&err);
    assert_string_equal(s, "line 1, column 2: unexpected character");
    berth_err_clear(&err);
}

static void
test_berth_err_string_unknown_code(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;

    berth_err_set(&err, 99999, "odd");
    cleanup_free char *s = berth_err_string(&err);
    assert_string_equal(s, "odd: unknown error 99999");
    berth_err_clear(&err);
}

static void
test_berth_err_string_no_error(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *s = berth_err_string(&err);
    cleanup_free char *n = berth_err_string(NULL);

    assert_string_equal(s, "no error");
    assert_string_equal(n, "no error");
}

static void
test_berth_err_warn_logs_and_clears(void **state)
{
    char dir[] = "/tmp/berth-test-error-XXXXXX";
    struct berth_err err = BERTH_ERR_INIT;

    assert_non_null(mkdtemp(dir));
    cleanup_free char *path = xasprintf("%s/log", dir);
    assert_int_equal(berth_log_init("errtest", path, BERTH_LOG_TEXT, BERTH_LOG_INFO, &err), 0);

    berth_err_set(&err, EPERM, "kill `%d`", 42);
    berth_err_warn(&err);
    assert_null(err.msg);
    assert_int_equal(err.code, 0);
    berth_err_warn(&err); /* nothing held: nothing logged */
    berth_log_close();

    cleanup_free char *buf = NULL;
    assert_int_equal(berth_fs_read_file(path, &buf, NULL, &err), 0);
    assert_non_null(
        strstr(buf, "level=warning tag=errtest msg=\"kill `42`: Operation not permitted\"\n"));
    assert_null(strchr(strchr(buf, '\n') + 1, '\n')); /* exactly one line */
    assert_int_equal(berth_fs_rm_rf(dir, &err), 0);
}

static void
test_berth_err_to_grpc_table(void **state)
{
    assert_int_equal(berth_err_to_grpc(ENOENT), 5);
    assert_int_equal(berth_err_to_grpc(EEXIST), 6);
    assert_int_equal(berth_err_to_grpc(EINVAL), 3);
    assert_int_equal(berth_err_to_grpc(EBUSY), 9);
    assert_int_equal(berth_err_to_grpc(ENOTSUP), 12);
    assert_int_equal(berth_err_to_grpc(EOPNOTSUPP), 12);
    assert_int_equal(berth_err_to_grpc(EACCES), 7);
    assert_int_equal(berth_err_to_grpc(EPERM), 7);
    assert_int_equal(berth_err_to_grpc(ETIMEDOUT), 4);
    assert_int_equal(berth_err_to_grpc(ECANCELED), 1);
    assert_int_equal(berth_err_to_grpc(ECONNREFUSED), 14);
}

static void
test_berth_err_to_grpc_unknown_is_internal(void **state)
{
    assert_int_equal(berth_err_to_grpc(EIO), 13);
    assert_int_equal(berth_err_to_grpc(ENOMEM), 13);
    assert_int_equal(berth_err_to_grpc(0), 13); /* a held error with no system cause */
    assert_int_equal(berth_err_to_grpc(-1), 13);
}

static void
test_berth_err_to_http_table(void **state)
{
    assert_int_equal(berth_err_to_http(ENOENT), 404);
    assert_int_equal(berth_err_to_http(EEXIST), 409);
    assert_int_equal(berth_err_to_http(EINVAL), 400);
    assert_int_equal(berth_err_to_http(EBUSY), 409);
    assert_int_equal(berth_err_to_http(ENOTSUP), 501);
    assert_int_equal(berth_err_to_http(EACCES), 403);
    assert_int_equal(berth_err_to_http(EPERM), 403);
    assert_int_equal(berth_err_to_http(ETIMEDOUT), 504);
    assert_int_equal(berth_err_to_http(ECONNREFUSED), 503);
    assert_int_equal(berth_err_to_http(EIO), 500);
    assert_int_equal(berth_err_to_http(0), 500);
}

static void
test_berth_err_from_grpc_table(void **state)
{
    assert_int_equal(berth_err_from_grpc(0), 0);
    assert_int_equal(berth_err_from_grpc(5), ENOENT);
    assert_int_equal(berth_err_from_grpc(6), EEXIST);
    assert_int_equal(berth_err_from_grpc(3), EINVAL);
    assert_int_equal(berth_err_from_grpc(9), EBUSY);
    assert_int_equal(berth_err_from_grpc(12), ENOTSUP);
    assert_int_equal(berth_err_from_grpc(7), EACCES);
    assert_int_equal(berth_err_from_grpc(4), ETIMEDOUT);
    assert_int_equal(berth_err_from_grpc(1), ECANCELED);
    assert_int_equal(berth_err_from_grpc(13), EIO);
    assert_int_equal(berth_err_from_grpc(2), EIO);  /* UNKNOWN */
    assert_int_equal(berth_err_from_grpc(99), EIO); /* not a status */
}

static void
test_berth_err_from_grpc_round_trips(void **state)
{
    const int codes[] = {ENOENT, EEXIST, EINVAL, EBUSY, ENOTSUP, EACCES, ETIMEDOUT, ECANCELED};

    for (size_t i = 0; i < ARRAY_SIZE(codes); i++)
        assert_int_equal(berth_err_from_grpc(berth_err_to_grpc(codes[i])), codes[i]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_berth_err_set_fills),
        cmocka_unit_test(test_berth_err_set_replaces_held_error),
        cmocka_unit_test(test_berth_err_set_may_use_held_message),
        cmocka_unit_test(test_berth_err_set_null_err),
        cmocka_unit_test(test_berth_err_wrap_prefixes),
        cmocka_unit_test(test_berth_err_wrap_empty_sets),
        cmocka_unit_test(test_berth_err_clear_zeroes),
        cmocka_unit_test(test_berth_err_clear_cleanup_attribute),
        cmocka_unit_test(test_berth_err_string_with_code),
        cmocka_unit_test(test_berth_err_string_code_zero),
        cmocka_unit_test(test_berth_err_string_unknown_code),
        cmocka_unit_test(test_berth_err_string_no_error),
        cmocka_unit_test(test_berth_err_warn_logs_and_clears),
        cmocka_unit_test(test_berth_err_to_grpc_table),
        cmocka_unit_test(test_berth_err_to_grpc_unknown_is_internal),
        cmocka_unit_test(test_berth_err_to_http_table),
        cmocka_unit_test(test_berth_err_from_grpc_table),
        cmocka_unit_test(test_berth_err_from_grpc_round_trips),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
