/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for common/base64.c: RFC 4648's vectors both ways, the url alphabet, missing
 * padding, and what is not base64.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "common/cleanup.h"

/* RFC 4648 section 10. */
static const char *const vectors[][2] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void
test_encode_rfc4648(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        cleanup_free char *e = berth_base64_encode(vectors[i][0], strlen(vectors[i][0]));
        assert_string_equal(e, vectors[i][1]);
    }
}

static void
test_decode_rfc4648(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        size_t n = 99;
        cleanup_free unsigned char *d =
            berth_base64_decode(vectors[i][1], strlen(vectors[i][1]), &n);
        assert_non_null(d);
        assert_int_equal(n, strlen(vectors[i][0]));
        assert_memory_equal(d, vectors[i][0], n);
        assert_int_equal(d[n], 0);
    }
}

static void
test_decode_url_alphabet_and_no_padding(void **state)
{
    (void)state;
    /* 0xfb 0xff 0xfe: "+//+" in the standard alphabet, "-__-" in the url one. */
    const unsigned char want[] = {0xfb, 0xff, 0xfe};
    size_t n = 0;
    cleanup_free unsigned char *a = berth_base64_decode("+//+", 4, &n);
    assert_non_null(a);
    assert_int_equal(n, 3);
    assert_memory_equal(a, want, 3);
    cleanup_free unsigned char *b = berth_base64_decode("-__-", 4, &n);
    assert_non_null(b);
    assert_memory_equal(b, want, 3);
    /* The docker CLI drops the padding of X-Registry-Auth. */
    cleanup_free unsigned char *c = berth_base64_decode("Zm9vYg", 6, &n);
    assert_non_null(c);
    assert_int_equal(n, 4);
    assert_memory_equal(c, "foob", 4);
    /* Binary round trip. */
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    cleanup_free char *e = berth_base64_encode(all, sizeof(all));
    cleanup_free unsigned char *d = berth_base64_decode(e, strlen(e), &n);
    assert_non_null(d);
    assert_int_equal(n, sizeof(all));
    assert_memory_equal(d, all, sizeof(all));
}

static void
test_decode_rejects_what_is_not_base64(void **state)
{
    (void)state;
    const char *bad[] = {"Zm9v!", "Z", "Zm9vY", "Zg=a", "Zg==Zg==", "Zm9v=", "Zm9v===", "Zm 9v"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = 0;
        unsigned char *d = berth_base64_decode(bad[i], strlen(bad[i]), &n);
        if (d)
            fail_msg("`%s` decoded", bad[i]);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_rfc4648),
        cmocka_unit_test(test_decode_rfc4648),
        cmocka_unit_test(test_decode_url_alphabet_and_no_padding),
        cmocka_unit_test(test_decode_rejects_what_is_not_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
