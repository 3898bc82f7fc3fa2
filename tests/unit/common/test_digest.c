/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for common/digest.c: sha256 of known vectors, streaming in pieces, hashing an fd,
 * and validation of "sha256:<hex>" digests.
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
#include <unistd.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/error.h"

#define SHA256_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA256_ABC   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/* FIPS 180-2 appendix B.2 */
#define MSG_448    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
#define SHA256_448 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
/* One million 'a' (FIPS 180-2 appendix B.3) */
#define SHA256_MILLION_A "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

static void
test_berth_sha256_buf_known_vectors(void **state)
{
    char hex[BERTH_SHA256_HEX_LEN + 1];

    berth_sha256_buf("", 0, hex);
    assert_string_equal(hex, SHA256_EMPTY);
    berth_sha256_buf("abc", 3, hex);
    assert_string_equal(hex, SHA256_ABC);
    berth_sha256_buf(MSG_448, strlen(MSG_448), hex);
    assert_string_equal(hex, SHA256_448);
}

static void
test_berth_sha256_update_pieces_equal_one_shot(void **state)
{
    const size_t size = 1000000;
    cleanup_free char *data = xmalloc(size);
    char one[BERTH_SHA256_HEX_LEN + 1], pieces[BERTH_SHA256_HEX_LEN + 1];

    memset(data, 'a', size);
    berth_sha256_buf(data, size, one);
    assert_string_equal(one, SHA256_MILLION_A);

    /* Uneven pieces, including empty ones. */
    cleanup_sha256 struct berth_sha256 *h = berth_sha256_new();
    size_t off = 0, step = 0;
    while (off < size) {
        size_t n = step % 7 == 3 ? 0 : (step * 7919) % 65537 + 1;
        if (n > size - off)
            n = size - off;
        berth_sha256_update(h, data + off, n);
        off += n;
        step++;
    }
    berth_sha256_final(h, pieces);
    assert_string_equal(pieces, one);
}

static void
test_berth_sha256_update_byte_at_a_time(void **state)
{
    char hex[BERTH_SHA256_HEX_LEN + 1];
    cleanup_sha256 struct berth_sha256 *h = berth_sha256_new();

    for (const char *p = "abc"; *p; p++)
        berth_sha256_update(h, p, 1);
    berth_sha256_final(h, hex);
    assert_string_equal(hex, SHA256_ABC);
}

static void
test_berth_sha256_free_null(void **state)
{
    berth_sha256_free(NULL);
    cleanup_sha256 struct berth_sha256 *h = NULL;
    assert_null(h); /* the cleanup runs on NULL at scope exit */
}

static void
test_berth_sha256_fd_file(void **state)
{
    char path[] = "/tmp/berth-test-digest-XXXXXX";
    char hex[BERTH_SHA256_HEX_LEN + 1];
    struct berth_err err = BERTH_ERR_INIT;
    const size_t size = 1000000;
    cleanup_free char *data = xmalloc(size);
    cleanup_close int fd = mkstemp(path);

    assert_true(fd >= 0);
    unlink(path);
    memset(data, 'a', size);
    assert_int_equal(write(fd, data, size), (ssize_t)size);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(berth_sha256_fd(fd, hex, &err), 0);
    assert_string_equal(hex, SHA256_MILLION_A);

    /* At the end of the file there is nothing left: the empty hash. */
    assert_int_equal(berth_sha256_fd(fd, hex, &err), 0);
    assert_string_equal(hex, SHA256_EMPTY);
}

static void
test_berth_sha256_fd_pipe(void **state)
{
    char hex[BERTH_SHA256_HEX_LEN + 1];
    struct berth_err err = BERTH_ERR_INIT;
    int p[2];

    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], "abc", 3), 3);
    close(p[1]);
    assert_int_equal(berth_sha256_fd(p[0], hex, &err), 0);
    close(p[0]);
    assert_string_equal(hex, SHA256_ABC);
}

static void
test_berth_sha256_fd_bad_fd(void **state)
{
    char hex[BERTH_SHA256_HEX_LEN + 1];
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_close int fd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    assert_int_equal(berth_sha256_fd(fd, hex, &err), -1);
    assert_int_equal(err.code, EISDIR);
    berth_err_clear(&err);
    assert_int_equal(berth_sha256_fd(-1, hex, &err), -1);
    assert_int_equal(err.code, EBADF);
    assert_string_equal(err.msg, "read fd -1");
    berth_err_clear(&err);
}

static void
test_berth_digest_parse_good(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    const char *hex = NULL;
    const char *d = "sha256:" SHA256_ABC;

    assert_int_equal(berth_digest_parse(d, &hex, &err), 0);
    assert_ptr_equal(hex, d + 7);
    assert_string_equal(hex, SHA256_ABC);
    assert_null(err.msg);
}

static void
test_berth_digest_parse_bad(void **state)
{
    const struct {
        const char *digest, *msg;
    } cases[] = {
        {"", "invalid digest ``: expected sha256:<hex>"},
        {SHA256_ABC, "invalid digest `" SHA256_ABC "`: expected sha256:<hex>"},
        {"sha512:" SHA256_ABC, "unsupported digest algorithm in `sha512:" SHA256_ABC "`"},
        {"SHA256:" SHA256_ABC, "unsupported digest algorithm in `SHA256:" SHA256_ABC "`"},
        {"sha256:", "invalid digest `sha256:`: expected 64 lowercase hex digits"},
        {"sha256:abc", "invalid digest `sha256:abc`: expected 64 lowercase hex digits"},
        {"sha256:" SHA256_ABC "0",
         "invalid digest `sha256:" SHA256_ABC "0`: expected 64 lowercase hex digits"},
        {"sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
         "invalid digest `sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD`"
         ": expected 64 lowercase hex digits"},
        {"sha256:ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
         "invalid digest `sha256:ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad`"
         ": expected 64 lowercase hex digits"},
        {" sha256:" SHA256_ABC, "unsupported digest algorithm in ` sha256:" SHA256_ABC "`"},
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct berth_err err = BERTH_ERR_INIT;
        const char *hex = "untouched";
        assert_int_equal(berth_digest_parse(cases[i].digest, &hex, &err), -1);
        if (strcmp(err.msg, cases[i].msg) != 0)
            fail_msg("`%s`: got `%s`, want `%s`", cases[i].digest, err.msg, cases[i].msg);
        assert_string_equal(hex, "untouched");
        berth_err_clear(&err);
    }
}

static void
test_berth_digest_parse_null(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    const char *hex = NULL;

    assert_int_equal(berth_digest_parse(NULL, &hex, &err), -1);
    assert_string_equal(err.msg, "missing digest");
    berth_err_clear(&err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_berth_sha256_buf_known_vectors),
        cmocka_unit_test(test_berth_sha256_update_pieces_equal_one_shot),
        cmocka_unit_test(test_berth_sha256_update_byte_at_a_time),
        cmocka_unit_test(test_berth_sha256_free_null),
        cmocka_unit_test(test_berth_sha256_fd_file),
        cmocka_unit_test(test_berth_sha256_fd_pipe),
        cmocka_unit_test(test_berth_sha256_fd_bad_fd),
        cmocka_unit_test(test_berth_digest_parse_good),
        cmocka_unit_test(test_berth_digest_parse_bad),
        cmocka_unit_test(test_berth_digest_parse_null),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
