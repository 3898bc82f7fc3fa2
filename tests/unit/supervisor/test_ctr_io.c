/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for supervisor/ctr/io.c: the attach socket's framing (frames split anywhere,
 * several in one read, empty frames, the exit frame and protocol errors), the fifos of an
 * attached process (made, opened without blocking, removed), and the signal pipe.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "supervisor/ctr/io.h"

/* What the decoder gave out: the stdout and stderr bytes, and the number of pieces. */
struct sink {
    char out[256], err[256];
    size_t out_len, err_len, pieces;
    int fail_after; /* out returns -1 on this piece (counting from 1); 0 never */
};

static int
collect(void *ctx, uint8_t stream, const uint8_t *data, size_t len, struct berth_err *err)
{
    struct sink *s = ctx;
    s->pieces++;
    if (s->fail_after && (int)s->pieces == s->fail_after)
        return berth_err_fail(err, EIO, "sink full");
    char *buf = stream == CTR_ATTACH_STDOUT ? s->out : s->err;
    size_t *len_p = stream == CTR_ATTACH_STDOUT ? &s->out_len : &s->err_len;
    assert_true(*len_p + len < sizeof(s->out));
    memcpy(buf + *len_p, data, len);
    *len_p += len;
    return 0;
}

/* Append one frame to buf at *n. */
static void
frame(uint8_t *buf, size_t *n, uint8_t stream, const void *payload, uint32_t len)
{
    uint8_t h[8] = {
        stream,      0, 0, 0, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
        (uint8_t)len};
    memcpy(buf + *n, h, 8);
    memcpy(buf + *n + 8, payload, len);
    *n += 8 + len;
}

/* stdout "hello ", stderr "oops", an empty stdout frame, a frame of stream 9 (skipped),
 * stdout "world", exit 300. */
static size_t
sample(uint8_t *buf)
{
    static const uint8_t status[4] = {0, 0, 1, 44};
    size_t n = 0;
    frame(buf, &n, CTR_ATTACH_STDOUT, "hello ", 6);
    frame(buf, &n, CTR_ATTACH_STDERR, "oops", 4);
    frame(buf, &n, CTR_ATTACH_STDOUT, "", 0);
    frame(buf, &n, 9, "ignored", 7);
    frame(buf, &n, CTR_ATTACH_STDOUT, "world", 5);
    frame(buf, &n, CTR_ATTACH_EXIT, status, 4);
    return n;
}

static void
test_ctr_frame_feed_whole(void **state)
{
    uint8_t buf[256];
    size_t n = sample(buf);
    struct ctr_frame_reader r = {0};
    struct sink s = {0};
    struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(ctr_frame_feed(&r, buf, n, collect, &s, &err), 0);
    assert_true(r.exited);
    assert_int_equal(r.exit_status, 300);
    assert_int_equal(s.out_len, 11);
    assert_memory_equal(s.out, "hello world", 11);
    assert_int_equal(s.err_len, 4);
    assert_memory_equal(s.err, "oops", 4);
    assert_int_equal(s.pieces, 3);
}

/* The same bytes cut at every possible place, and fed a byte at a time. */
static void
test_ctr_frame_feed_split(void **state)
{
    uint8_t buf[256];
    size_t n = sample(buf);
    for (size_t cut = 0; cut <= n; cut++) {
        struct ctr_frame_reader r = {0};
        struct sink s = {0};
        struct berth_err err = BERTH_ERR_INIT;
        assert_int_equal(ctr_frame_feed(&r, buf, cut, collect, &s, &err), 0);
        assert_int_equal(ctr_frame_feed(&r, buf + cut, n - cut, collect, &s, &err), 0);
        assert_true(r.exited);
        assert_int_equal(r.exit_status, 300);
        assert_memory_equal(s.out, "hello world", 11);
        assert_memory_equal(s.err, "oops", 4);
    }
    struct ctr_frame_reader r = {0};
    struct sink s = {0};
    struct berth_err err = BERTH_ERR_INIT;
    for (size_t i = 0; i < n; i++) {
        assert_false(r.exited);
        assert_int_equal(ctr_frame_feed(&r, buf + i, 1, collect, &s, &err), 0);
    }
    assert_true(r.exited);
    assert_int_equal(s.out_len, 11);
    assert_memory_equal(s.out, "hello world", 11);
}

static void
test_ctr_frame_feed_errors(void **state)
{
    uint8_t buf[64];
    size_t n = 0;
    struct berth_err err = BERTH_ERR_INIT;

    /* An exit frame of the wrong size. */
    frame(buf, &n, CTR_ATTACH_EXIT, "\0\0\0\0\0", 5);
    struct ctr_frame_reader r = {0};
    struct sink s = {0};
    assert_int_equal(ctr_frame_feed(&r, buf, n, collect, &s, &err), -1);
    assert_int_equal(err.code, EPROTO);
    assert_non_null(strstr(err.msg, "exit frame of 5 bytes"));
    berth_err_clear(&err);

    /* Bytes after the exit frame. */
    n = 0;
    frame(buf, &n, CTR_ATTACH_EXIT, "\0\0\0\7", 4);
    frame(buf, &n, CTR_ATTACH_STDOUT, "late", 4);
    struct ctr_frame_reader r2 = {0};
    assert_int_equal(ctr_frame_feed(&r2, buf, n, collect, &s, &err), -1);
    assert_true(r2.exited);
    assert_int_equal(r2.exit_status, 7);
    assert_int_equal(err.code, EPROTO);
    berth_err_clear(&err);

    /* The output callback's error stops the decoding and comes back as is. */
    n = 0;
    frame(buf, &n, CTR_ATTACH_STDOUT, "a", 1);
    frame(buf, &n, CTR_ATTACH_STDOUT, "b", 1);
    struct ctr_frame_reader r3 = {0};
    struct sink s3 = {.fail_after = 2};
    assert_int_equal(ctr_frame_feed(&r3, buf, n, collect, &s3, &err), -1);
    assert_int_equal(err.code, EIO);
    assert_string_equal(err.msg, "sink full");
    assert_int_equal(s3.out_len, 1);
    berth_err_clear(&err);
}

static void
test_ctr_attach_send(void **state)
{
    int sv[2];
    uint8_t buf[64];
    struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(ctr_attach_send(sv[0], CTR_ATTACH_STDIN, "abc", 3, &err), 0);
    assert_int_equal(ctr_attach_send(sv[0], CTR_ATTACH_STDIN, NULL, 0, &err), 0);
    close(sv[0]);
    ssize_t n = read(sv[1], buf, sizeof(buf));
    assert_int_equal(n, 19);
    static const uint8_t want[] = {0, 0, 0, 0, 0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 0, 0, 0, 0, 0};
    assert_memory_equal(buf, want, sizeof(want));
    close(sv[1]);

    /* A closed peer is a write error (SIGPIPE is ignored by berth-ctr's main). */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    close(sv[1]);
    signal(SIGPIPE, SIG_IGN);
    assert_int_equal(ctr_attach_send(sv[0], CTR_ATTACH_STDIN, "x", 1, &err), -1);
    assert_int_equal(err.code, EPIPE);
    berth_err_clear(&err);
    close(sv[0]);
}

static void
test_ctr_fifos_open(void **state)
{
    char tmp[] = "/tmp/test-ctr-io-XXXXXX";
    assert_non_null(mkdtemp(tmp));
    /* Not root in every test run: point the fallback at a private directory. */
    setenv("XDG_RUNTIME_DIR", tmp, 1);
    struct ctr_fifos f = CTR_FIFOS_INIT;
    struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(ctr_fifos_open(&f, "web", false, &err), 0);
    assert_non_null(f.dir);
    assert_non_null(strstr(f.dir, "/web-"));
    struct stat st;
    const char *paths[] = {f.stdin_path, f.stdout_path, f.stderr_path};
    for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
        assert_int_equal(stat(paths[i], &st), 0);
        assert_true(S_ISFIFO(st.st_mode));
    }
    /* The other side opens without blocking, as the shim does: a writer finds our reader. */
    int w = open(f.stdout_path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    assert_true(w >= 0);
    assert_int_equal(write(w, "hi", 2), 2);
    char buf[4];
    assert_int_equal(read(f.stdout_fd, buf, sizeof(buf)), 2);
    close(w);
    /* Our stdin end is a writer, and the shim's reader finds it. */
    int r = open(f.stdin_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    assert_true(r >= 0);
    assert_int_equal(write(f.stdin_fd, "in", 2), 2);
    assert_int_equal(read(r, buf, sizeof(buf)), 2);
    close(r);

    char *dir = xstrdup(f.dir);
    ctr_fifos_close(&f);
    assert_null(f.dir);
    assert_int_equal(f.stdin_fd, -1);
    assert_int_equal(f.stdout_fd, -1);
    assert_int_equal(stat(dir, &st), -1);
    free(dir);
    ctr_fifos_close(&f); /* twice is fine */

    /* With a terminal there is no stderr. */
    assert_int_equal(ctr_fifos_open(&f, "tty", true, &err), 0);
    assert_null(f.stderr_path);
    assert_int_equal(f.stderr_fd, -1);
    ctr_fifos_close(&f);
    rmdir(tmp);
}

static void
test_ctr_signals(void **state)
{
    static const int sigs[] = {SIGUSR1, SIGUSR2};
    struct berth_err err = BERTH_ERR_INIT;
    int fd = ctr_signals_open(sigs, ARRAY_SIZE(sigs), &err);
    assert_true(fd >= 0);
    assert_int_equal(ctr_signals_next(fd), 0);
    raise(SIGUSR2);
    raise(SIGUSR1);
    assert_int_equal(ctr_signals_next(fd), SIGUSR2);
    assert_int_equal(ctr_signals_next(fd), SIGUSR1);
    assert_int_equal(ctr_signals_next(fd), 0);
    ctr_signals_close(fd, sigs, ARRAY_SIZE(sigs));
    struct sigaction sa;
    assert_int_equal(sigaction(SIGUSR1, NULL, &sa), 0);
    assert_ptr_equal(sa.sa_handler, SIG_DFL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctr_frame_feed_whole),  cmocka_unit_test(test_ctr_frame_feed_split),
        cmocka_unit_test(test_ctr_frame_feed_errors), cmocka_unit_test(test_ctr_attach_send),
        cmocka_unit_test(test_ctr_fifos_open),        cmocka_unit_test(test_ctr_signals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
