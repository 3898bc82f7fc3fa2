/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for engine/images/progress.c: sizes and bars as docker draws them, and the
 * lines a pull's and a push's progress items become (layers only, changes only).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "engine/images/progress.h"

#define LAYER  "sha256:4b3d1c5e7f80aabbccddeeff00112233445566778899aabbccddeeff00112233"
#define CONFIG "sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static void
check_size(int64_t n, const char *want)
{
    char buf[32];
    eng_progress_human_size(n, buf, sizeof(buf));
    assert_string_equal(buf, want);
}

static void
test_eng_progress_human_size(void **state)
{
    check_size(0, "0B");
    check_size(999, "999B");
    check_size(1000, "1kB");
    check_size(1234567, "1.235MB");
    check_size(5000000000LL, "5GB");
}

static void
test_eng_progress_bar(void **state)
{
    cleanup_free char *half = eng_progress_bar(500, 1000);
    assert_string_equal(half, "[=========================>                        ]     500B/1kB");
    cleanup_free char *full = eng_progress_bar(1000, 1000);
    assert_string_equal(full, "[==================================================]      1kB/1kB");
    cleanup_free char *unknown = eng_progress_bar(1234, 0);
    assert_string_equal(unknown, "1.234kB");
}

static void
test_eng_progress_update_pull(void **state)
{
    struct eng_progress *p = eng_progress_new(ENG_PROGRESS_PULL);
    char *buf = NULL;
    size_t len = 0;
    /* Not a layer: nothing. */
    eng_progress_update(p, "config-" CONFIG, CONFIG, "downloading", 1, 2, &buf, &len);
    assert_int_equal(len, 0);
    eng_progress_update(p, "layer-" LAYER, LAYER, "downloading", 500, 1000, &buf, &len);
    assert_non_null(strstr(buf, "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},"
                                "\"id\":\"4b3d1c5e7f80\"}\n"));
    assert_non_null(strstr(buf, "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":500,"
                                "\"total\":1000},\"progress\":\"[====="));
    size_t before = len;
    /* The same state again: nothing new. */
    eng_progress_update(p, "layer-" LAYER, LAYER, "downloading", 500, 1000, &buf, &len);
    assert_int_equal(len, before);
    eng_progress_update(p, "layer-" LAYER, LAYER, "done", 1000, 1000, &buf, &len);
    assert_non_null(strstr(buf + before, "\"status\":\"Download complete\""));
    assert_non_null(strstr(buf + before, "\"status\":\"Pull complete\""));
    assert_true(eng_progress_transferred(p));
    free(buf);
    eng_progress_free(p);
}

static void
test_eng_progress_update_push_exists(void **state)
{
    struct eng_progress *p = eng_progress_new(ENG_PROGRESS_PUSH);
    char *buf = NULL;
    size_t len = 0;
    eng_progress_update(p, "layer-" LAYER, LAYER, "exists", 0, 0, &buf, &len);
    assert_string_equal(buf, "{\"status\":\"Layer already exists\",\"progressDetail\":{},"
                             "\"id\":\"4b3d1c5e7f80\"}\n");
    assert_false(eng_progress_transferred(p));
    free(buf);
    eng_progress_free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eng_progress_human_size),
        cmocka_unit_test(test_eng_progress_bar),
        cmocka_unit_test(test_eng_progress_update_pull),
        cmocka_unit_test(test_eng_progress_update_push_exists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
