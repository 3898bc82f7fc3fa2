/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for common/sock.c: listen and connect by path (short and longer than sun_path),
 * stale and live sockets at the path, the socket's mode, passing an fd.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/sock.h"

struct fixture {
    char dir[64];
};

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof(*f));

    strcpy(f->dir, "/tmp/berth-test-sock.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    berth_fs_rm_rf(f->dir, NULL);
    free(f);
    return 0;
}

/* A directory deep enough that dir/name exceeds sun_path's 107 bytes. */
static char *
deep_dir(const char *base)
{
    char *d = xstrdup(base);

    for (int i = 0; i < 4; i++) {
        char *next = xasprintf("%s/%s", d, "a-rather-long-directory-name-for-sockets");
        free(d);
        d = next;
        assert_int_equal(mkdir(d, 0700), 0);
    }
    return d;
}

static void
check_connects(const char *path, int lfd)
{
    struct berth_err err = BERTH_ERR_INIT;
    int c = berth_sock_connect(path, &err);

    assert_true(c >= 0);
    int a = accept(lfd, NULL, NULL);
    assert_true(a >= 0);
    assert_int_equal(write(c, "x", 1), 1);
    char b;
    assert_int_equal(read(a, &b, 1), 1);
    assert_int_equal(b, 'x');
    close(a);
    close(c);
}

static void
test_berth_sock_listen_connect(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *path = xasprintf("%s/s.sock", f->dir);
    struct stat st;

    int l = berth_sock_listen(path, false, &err);
    assert_true(l >= 0);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_true(fcntl(l, F_GETFD) & FD_CLOEXEC);
    check_connects(path, l);
    close(l);
}

static void
test_berth_sock_listen_long_path(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *dir = deep_dir(f->dir);
    cleanup_free char *path = xasprintf("%s/shim.sock", dir);

    assert_true(strlen(path) > 107);
    int l = berth_sock_listen(path, true, &err);
    assert_true(l >= 0);
    assert_true(fcntl(l, F_GETFL) & O_NONBLOCK);
    assert_true(berth_fs_exists(path));
    check_connects(path, l);
    close(l);
}

static void
test_berth_sock_listen_stale(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *path = xasprintf("%s/s.sock", f->dir);

    /* A socket file whose listener is gone is taken over. */
    int l = berth_sock_listen(path, false, &err);
    assert_true(l >= 0);
    close(l);
    assert_true(berth_fs_exists(path));
    l = berth_sock_listen(path, false, &err);
    assert_true(l >= 0);
    check_connects(path, l);
    close(l);
}

static void
test_berth_sock_listen_live(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *path = xasprintf("%s/s.sock", f->dir);

    int l = berth_sock_listen(path, false, &err);
    assert_true(l >= 0);
    /* Someone serves it: refused, and the live socket is left alone. */
    assert_int_equal(berth_sock_listen(path, false, &err), -1);
    assert_int_equal(err.code, EADDRINUSE);
    assert_non_null(strstr(err.msg, path));
    berth_err_clear(&err);
    /* The probe was a connection the listener sees, already closed. */
    int probe = accept(l, NULL, NULL);
    char b;
    assert_true(probe >= 0);
    assert_int_equal(read(probe, &b, 1), 0);
    close(probe);
    check_connects(path, l);
    close(l);
}

static void
test_berth_sock_listen_not_a_socket(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *path = xasprintf("%s/file", f->dir);

    assert_int_equal(berth_fs_write_atomic(path, "keep", 4, 0644, &err), 0);
    assert_int_equal(berth_sock_listen(path, false, &err), -1);
    assert_int_equal(err.code, EEXIST);
    berth_err_clear(&err);
    assert_true(berth_fs_exists(path));
}

static void
test_berth_sock_connect_errors(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *path = xasprintf("%s/none.sock", f->dir);

    assert_int_equal(berth_sock_connect(path, &err), -1);
    assert_int_equal(err.code, ENOENT);
    berth_err_clear(&err);

    int l = berth_sock_listen(path, false, &err);
    close(l);
    assert_int_equal(berth_sock_connect(path, &err), -1);
    assert_int_equal(err.code, ECONNREFUSED);
    berth_err_clear(&err);
}

static void
test_berth_sock_send_recv_fd(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    int sv[2], p[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(pipe(p), 0);
    assert_int_equal(berth_sock_send_fd(sv[0], p[1], &err), 0);
    int got = berth_sock_recv_fd(sv[1], &err);
    assert_true(got >= 0);
    assert_true(fcntl(got, F_GETFD) & FD_CLOEXEC);
    /* The received fd is the pipe's write end. */
    assert_int_equal(write(got, "y", 1), 1);
    char b;
    assert_int_equal(read(p[0], &b, 1), 1);
    assert_int_equal(b, 'y');
    close(got);

    /* A message without an fd, then EOF. */
    assert_int_equal(write(sv[0], "z", 1), 1);
    assert_int_equal(berth_sock_recv_fd(sv[1], &err), -1);
    assert_int_equal(err.code, EBADMSG);
    berth_err_clear(&err);
    close(sv[0]);
    assert_int_equal(berth_sock_recv_fd(sv[1], &err), -1);
    assert_int_equal(err.code, EBADMSG);
    berth_err_clear(&err);
    close(sv[1]);
    close(p[0]);
    close(p[1]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_berth_sock_listen_connect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_berth_sock_listen_long_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_berth_sock_listen_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_berth_sock_listen_live, setup, teardown),
        cmocka_unit_test_setup_teardown(test_berth_sock_listen_not_a_socket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_berth_sock_connect_errors, setup, teardown),
        cmocka_unit_test(test_berth_sock_send_recv_fd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
