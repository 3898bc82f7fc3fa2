/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for common/frame.c: encode/decode round trips, partial input, oversized and
 * malformed frames, the blocking calls and the incremental reader over a socketpair.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/frame.h"

static berth_frame *
sample(uint64_t id)
{
    Berth__Shim__V1__KillRequest k = BERTH__SHIM__V1__KILL_REQUEST__INIT;

    k.exec_id = "exec-1";
    k.signal = 9;
    k.all = 1;
    return berth_frame_new(id, "Kill", &k.base);
}

static void
check_sample(const berth_frame *f, uint64_t id)
{
    assert_int_equal(f->id, id);
    assert_string_equal(f->method, "Kill");
    assert_int_equal(f->code, 0);
    Berth__Shim__V1__KillRequest *k =
        berth__shim__v1__kill_request__unpack(NULL, f->payload.len, f->payload.data);
    assert_non_null(k);
    assert_string_equal(k->exec_id, "exec-1");
    assert_int_equal(k->signal, 9);
    assert_true(k->all);
    berth__shim__v1__kill_request__free_unpacked(k, NULL);
}

static void
socketpair_nb(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
}

/* ---- Encode and decode ------------------------------------------------------------------- */

static void
test_berth_frame_encode_round_trip(void **state)
{
    berth_frame *f = sample(42);
    uint8_t *buf = NULL;
    size_t len = 0, used = 0;
    berth_frame *out = NULL;
    struct berth_err err = BERTH_ERR_INIT;

    assert_int_equal(berth_frame_encode(f, &buf, &len, &err), 0);
    assert_true(len > 4);
    /* The prefix is the big-endian length of the rest. */
    assert_int_equal((size_t)buf[0] << 24 | buf[1] << 16 | buf[2] << 8 | buf[3], len - 4);
    assert_int_equal(berth_frame_decode(buf, len, &out, &used, &err), 1);
    assert_int_equal(used, len);
    check_sample(out, 42);
    berth__shim__v1__frame__free_unpacked(out, NULL);
    berth_frame_free(f);
    free(buf);
}

static void
test_berth_frame_new_error_fields(void **state)
{
    berth_frame *f = berth_frame_new_error(7, ENOENT, "exec `x` not found");
    uint8_t *buf = NULL;
    size_t len = 0, used = 0;
    berth_frame *out = NULL;

    assert_int_equal(berth_frame_encode(f, &buf, &len, NULL), 0);
    assert_int_equal(berth_frame_decode(buf, len, &out, &used, NULL), 1);
    assert_int_equal(out->id, 7);
    assert_int_equal(out->code, ENOENT);
    assert_string_equal(out->error, "exec `x` not found");
    assert_int_equal(out->payload.len, 0);
    berth__shim__v1__frame__free_unpacked(out, NULL);
    berth_frame_free(f);
    free(buf);
}

static void
test_berth_frame_decode_partial(void **state)
{
    berth_frame *f = sample(1);
    uint8_t *buf = NULL;
    size_t len = 0;

    assert_int_equal(berth_frame_encode(f, &buf, &len, NULL), 0);
    /* Every strict prefix, the empty one included, is "need more". */
    for (size_t n = 0; n < len; n++) {
        berth_frame *out = NULL;
        size_t used = 99;
        assert_int_equal(berth_frame_decode(buf, n, &out, &used, NULL), 0);
        assert_null(out);
        assert_int_equal(used, 99);
    }
    berth_frame_free(f);
    free(buf);
}

static void
test_berth_frame_decode_two_frames(void **state)
{
    berth_frame *a = sample(1), *b = sample(2);
    uint8_t *ba = NULL, *bb = NULL;
    size_t la, lb, used;
    berth_frame *out = NULL;

    berth_frame_encode(a, &ba, &la, NULL);
    berth_frame_encode(b, &bb, &lb, NULL);
    uint8_t *both = xmalloc(la + lb);
    memcpy(both, ba, la);
    memcpy(both + la, bb, lb);
    assert_int_equal(berth_frame_decode(both, la + lb, &out, &used, NULL), 1);
    assert_int_equal(used, la);
    check_sample(out, 1);
    berth__shim__v1__frame__free_unpacked(out, NULL);
    assert_int_equal(berth_frame_decode(both + used, la + lb - used, &out, &used, NULL), 1);
    check_sample(out, 2);
    berth__shim__v1__frame__free_unpacked(out, NULL);
    berth_frame_free(a);
    berth_frame_free(b);
    free(ba);
    free(bb);
    free(both);
}

static void
test_berth_frame_decode_oversized(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    uint32_t n = BERTH_FRAME_MAX + 1;
    uint8_t head[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    berth_frame *out = NULL;
    size_t used;

    /* Refused from the header alone, before any byte of the body. */
    assert_int_equal(berth_frame_decode(head, sizeof(head), &out, &used, &err), -1);
    assert_int_equal(err.code, EMSGSIZE);
    assert_null(out);
    berth_err_clear(&err);

    /* Exactly the maximum is fine: just incomplete. */
    n = BERTH_FRAME_MAX;
    uint8_t max[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    assert_int_equal(berth_frame_decode(max, sizeof(max), &out, &used, &err), 0);
}

static void
test_berth_frame_decode_garbage(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    /* Field 1 with wire type 7, which does not exist. */
    const uint8_t bad[] = {0, 0, 0, 3, 0x0f, 0xff, 0xff};
    /* Field 2 (method, a string) announcing 100 bytes with 1 present. */
    const uint8_t truncated[] = {0, 0, 0, 3, 0x12, 100, 'a'};
    berth_frame *out = NULL;
    size_t used;

    assert_int_equal(berth_frame_decode(bad, sizeof(bad), &out, &used, &err), -1);
    assert_int_equal(err.code, EINVAL);
    berth_err_clear(&err);
    assert_int_equal(berth_frame_decode(truncated, sizeof(truncated), &out, &used, &err), -1);
    assert_int_equal(err.code, EINVAL);
    berth_err_clear(&err);
    assert_null(out);
}

static void
test_berth_frame_encode_too_big(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    berth_frame *f = berth_frame_new(1, "Update", NULL);
    uint8_t *buf = NULL;
    size_t len;

    f->payload.len = BERTH_FRAME_MAX;
    f->payload.data = xzalloc(f->payload.len);
    assert_int_equal(berth_frame_encode(f, &buf, &len, &err), -1);
    assert_int_equal(err.code, EMSGSIZE);
    assert_null(buf);
    berth_err_clear(&err);
    berth_frame_free(f);
}

/* ---- Blocking I/O ------------------------------------------------------------------------ */

static void
test_berth_frame_write_read(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    int sv[2];
    berth_frame *f = sample(5);
    berth_frame *out = NULL;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(berth_frame_write(sv[1], f, &err), 0);
    assert_int_equal(berth_frame_read(sv[0], &out, &err), 1);
    check_sample(out, 5);
    berth__shim__v1__frame__free_unpacked(out, NULL);

    /* EOF before any byte: 0. */
    close(sv[1]);
    assert_int_equal(berth_frame_read(sv[0], &out, &err), 0);
    close(sv[0]);
    berth_frame_free(f);
}

static void
test_berth_frame_read_eof_in_frame(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    int sv[2];
    berth_frame *f = sample(5);
    berth_frame *out = NULL;
    uint8_t *buf = NULL;
    size_t len;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    berth_frame_encode(f, &buf, &len, NULL);
    assert_int_equal(write(sv[1], buf, len - 1), (ssize_t)(len - 1));
    close(sv[1]);
    assert_int_equal(berth_frame_read(sv[0], &out, &err), -1);
    assert_int_equal(err.code, ECONNRESET);
    berth_err_clear(&err);
    close(sv[0]);
    berth_frame_free(f);
    free(buf);
}

static void
test_berth_frame_write_gone_peer(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    int sv[2];
    berth_frame *f = sample(5);

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    close(sv[0]);
    /* EPIPE, and no SIGPIPE (which would end the test run). */
    assert_int_equal(berth_frame_write(sv[1], f, &err), -1);
    assert_int_equal(err.code, EPIPE);
    berth_err_clear(&err);
    close(sv[1]);
    berth_frame_free(f);
}

/* ---- The incremental reader -------------------------------------------------------------- */

static void
test_berth_frame_reader_byte_by_byte(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct berth_frame_reader r = {0};
    int sv[2];
    uint8_t *buf = NULL;
    size_t len;
    berth_frame *f = sample(9);
    berth_frame *out = NULL;

    socketpair_nb(sv);
    berth_frame_encode(f, &buf, &len, NULL);
    /* Nothing there yet: 1 (keep going), no frame. */
    assert_int_equal(berth_frame_reader_fill(&r, sv[0], &err), 1);
    assert_int_equal(berth_frame_reader_next(&r, &out, &err), 0);
    for (size_t i = 0; i < len; i++) {
        assert_int_equal(write(sv[1], buf + i, 1), 1);
        assert_int_equal(berth_frame_reader_fill(&r, sv[0], &err), 1);
        int rc = berth_frame_reader_next(&r, &out, &err);
        assert_int_equal(rc, i + 1 == len ? 1 : 0);
    }
    check_sample(out, 9);
    berth__shim__v1__frame__free_unpacked(out, NULL);
    assert_int_equal(r.len, 0);

    close(sv[1]);
    assert_int_equal(berth_frame_reader_fill(&r, sv[0], &err), 0);
    berth_frame_reader_release(&r);
    close(sv[0]);
    berth_frame_free(f);
    free(buf);
}

static void
test_berth_frame_reader_many_frames(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct berth_frame_reader r = {0};
    int sv[2];
    berth_frame *out = NULL;
    uint64_t want = 1;

    socketpair_nb(sv);
    /* Ten frames in one go, then a large one (above the reader's first buffer). */
    for (uint64_t id = 1; id <= 10; id++) {
        berth_frame *f = sample(id);
        assert_int_equal(berth_frame_write(sv[1], f, &err), 0);
        berth_frame_free(f);
    }
    berth_frame *big = berth_frame_new(11, "Update", NULL);
    big->payload.len = 100000;
    big->payload.data = xmalloc(big->payload.len);
    memset(big->payload.data, 'x', big->payload.len);
    /* The big frame does not fit the socket buffer at once: write it from a child. */
    pid_t pid = fork();
    if (pid == 0) {
        berth_frame_write(sv[1], big, NULL);
        _exit(0);
    }
    while (want <= 11) {
        int rc = berth_frame_reader_fill(&r, sv[0], &err);
        assert_int_not_equal(rc, -1);
        assert_int_not_equal(rc, 0);
        while ((rc = berth_frame_reader_next(&r, &out, &err)) == 1) {
            assert_int_equal(out->id, want);
            if (want <= 10)
                check_sample(out, want);
            else
                assert_int_equal(out->payload.len, 100000);
            berth__shim__v1__frame__free_unpacked(out, NULL);
            want++;
        }
        assert_int_equal(rc, 0);
    }
    /* A large buffer is given back once empty. */
    assert_null(r.buf);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    berth_frame_reader_release(&r);
    close(sv[0]);
    close(sv[1]);
    berth_frame_free(big);
}

static void
test_berth_frame_reader_oversized(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct berth_frame_reader r = {0};
    int sv[2];
    uint8_t head[4] = {0xff, 0xff, 0xff, 0xff};

    socketpair_nb(sv);
    assert_int_equal(write(sv[1], head, sizeof(head)), 4);
    /* The first fill takes the header; the next refuses to grow for the body. */
    int rc = berth_frame_reader_fill(&r, sv[0], &err);
    if (rc == 1)
        rc = berth_frame_reader_fill(&r, sv[0], &err);
    assert_int_equal(rc, -1);
    assert_int_equal(err.code, EMSGSIZE);
    assert_true(r.cap < 1u << 20);
    berth_err_clear(&err);
    berth_frame_reader_release(&r);
    close(sv[0]);
    close(sv[1]);
}

static void
test_berth_frame_reader_garbage(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct berth_frame_reader r = {0};
    int sv[2];
    const uint8_t bad[] = {0, 0, 0, 3, 0x0f, 0xff, 0xff};
    berth_frame *out = NULL;

    socketpair_nb(sv);
    assert_int_equal(write(sv[1], bad, sizeof(bad)), (ssize_t)sizeof(bad));
    assert_int_equal(berth_frame_reader_fill(&r, sv[0], &err), 1);
    assert_int_equal(berth_frame_reader_next(&r, &out, &err), -1);
    assert_int_equal(err.code, EINVAL);
    berth_err_clear(&err);
    berth_frame_reader_release(&r);
    close(sv[0]);
    close(sv[1]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_berth_frame_encode_round_trip),
        cmocka_unit_test(test_berth_frame_new_error_fields),
        cmocka_unit_test(test_berth_frame_decode_partial),
        cmocka_unit_test(test_berth_frame_decode_two_frames),
        cmocka_unit_test(test_berth_frame_decode_oversized),
        cmocka_unit_test(test_berth_frame_decode_garbage),
        cmocka_unit_test(test_berth_frame_encode_too_big),
        cmocka_unit_test(test_berth_frame_write_read),
        cmocka_unit_test(test_berth_frame_read_eof_in_frame),
        cmocka_unit_test(test_berth_frame_write_gone_peer),
        cmocka_unit_test(test_berth_frame_reader_byte_by_byte),
        cmocka_unit_test(test_berth_frame_reader_many_frames),
        cmocka_unit_test(test_berth_frame_reader_oversized),
        cmocka_unit_test(test_berth_frame_reader_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
