/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for supervisor/ctr/progress.c: sizes as docker prints them, bars, status words,
 * short digests, whole lines, and the display on a terminal (redrawn in place) and elsewhere
 * (a line per status change).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "supervisor/ctr/progress.h"

#define DIGEST "sha256:4b3d1c5e7f80aabbccddeeff00112233445566778899aabbccddeeff00112233"

static void
check_size(int64_t bytes, const char *want)
{
    cleanup_free char *s = ctr_progress_size(bytes);
    assert_string_equal(s, want);
}

static void
test_ctr_progress_size(void **state)
{
    check_size(0, "0B");
    check_size(-5, "0B");
    check_size(512, "512B");
    check_size(999, "999B");
    check_size(1000, "1kB");
    check_size(1234567, "1.235MB");
    check_size(3400000, "3.4MB");
    check_size(999999, "1MB"); /* not "1000kB" */
    check_size(5000000000LL, "5GB");
    check_size(INT64_MAX, "9.223EB");
}

static void
test_ctr_progress_bar(void **state)
{
    cleanup_free char *empty = ctr_progress_bar(0, 100, 10);
    cleanup_free char *half = ctr_progress_bar(50, 100, 10);
    cleanup_free char *full = ctr_progress_bar(100, 100, 10);
    cleanup_free char *over = ctr_progress_bar(250, 100, 10);
    cleanup_free char *unknown = ctr_progress_bar(50, 0, 10);
    cleanup_free char *wide = ctr_progress_bar(1, 3, CTR_PROGRESS_BAR_WIDTH);
    assert_string_equal(empty, "[          ]");
    assert_string_equal(half, "[====>     ]");
    assert_string_equal(full, "[=========>]");
    assert_string_equal(over, "[=========>]");
    assert_string_equal(unknown, "[          ]");
    assert_int_equal(strlen(wide), CTR_PROGRESS_BAR_WIDTH + 2);
    assert_int_equal(strchr(wide, '>') - wide, 16); /* 1/3 of 50 is 16 characters */
}

static void
test_ctr_progress_status(void **state)
{
    assert_string_equal(ctr_progress_status("downloading", CTR_PROGRESS_PULL), "Downloading");
    assert_string_equal(ctr_progress_status("done", CTR_PROGRESS_PULL), "Pull complete");
    assert_string_equal(ctr_progress_status("done", CTR_PROGRESS_PUSH), "Pushed");
    assert_string_equal(ctr_progress_status("uploading", CTR_PROGRESS_PUSH), "Pushing");
    assert_string_equal(ctr_progress_status("exists", CTR_PROGRESS_PULL), "Already exists");
    assert_string_equal(ctr_progress_status("something-new", CTR_PROGRESS_PULL), "something-new");
    assert_string_equal(ctr_progress_status(NULL, CTR_PROGRESS_PULL), "");
}

static void
test_ctr_progress_short_digest(void **state)
{
    cleanup_free char *a = ctr_progress_short_digest(DIGEST);
    cleanup_free char *b = ctr_progress_short_digest("sha256:abc");
    cleanup_free char *c = ctr_progress_short_digest("plain");
    cleanup_free char *d = ctr_progress_short_digest(NULL);
    assert_string_equal(a, "4b3d1c5e7f80");
    assert_string_equal(b, "sha256:abc");
    assert_string_equal(c, "plain");
    assert_string_equal(d, "");
}

static void
test_ctr_progress_line(void **state)
{
    struct ctr_progress_item it = {.ref = "layer-" DIGEST,
                                   .digest = DIGEST,
                                   .status = "downloading",
                                   .offset = 1200000,
                                   .total = 3400000};
    cleanup_free char *bar = ctr_progress_line(&it, CTR_PROGRESS_PULL, true);
    /* 1.2 of 3.4 is 17 of 50 characters: 16 '=', the '>', 33 blanks. */
    assert_string_equal(bar, "4b3d1c5e7f80: Downloading "
                             "[================>                                 ]"
                             " 1.2MB/3.4MB");
    cleanup_free char *plain = ctr_progress_line(&it, CTR_PROGRESS_PULL, false);
    assert_string_equal(plain, "4b3d1c5e7f80: Downloading 3.4MB");
    it.status = "waiting";
    it.offset = it.total = 0;
    cleanup_free char *waiting = ctr_progress_line(&it, CTR_PROGRESS_PULL, true);
    assert_string_equal(waiting, "4b3d1c5e7f80: Waiting");
    it.status = "done";
    it.offset = it.total = 3400000;
    cleanup_free char *done = ctr_progress_line(&it, CTR_PROGRESS_PULL, true);
    assert_string_equal(done, "4b3d1c5e7f80: Pull complete 3.4MB");
    it.digest = "";
    it.status = "uploading";
    it.offset = 10;
    it.total = 0;
    cleanup_free char *no_total = ctr_progress_line(&it, CTR_PROGRESS_PUSH, true);
    assert_string_equal(no_total, "4b3d1c5e7f80: Pushing 10B"); /* named from the ref */
}

static void
update(struct ctr_progress *p, const char *ref, const char *status, int64_t offset, int64_t total)
{
    struct ctr_progress_item it = {
        .ref = ref, .digest = ref, .status = status, .offset = offset, .total = total};
    ctr_progress_update(p, &it);
}

static void
test_ctr_progress_draw_plain(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    struct ctr_progress *p = ctr_progress_new(f, CTR_PROGRESS_PULL, false, 0);
    update(p, "sha256:aaaaaaaaaaaaaaaa", "waiting", 0, 0);
    update(p, "sha256:bbbbbbbbbbbbbbbb", "downloading", 10, 2000);
    ctr_progress_draw(p);
    update(p, "sha256:bbbbbbbbbbbbbbbb", "downloading", 1500, 2000); /* same status: quiet */
    ctr_progress_draw(p);
    update(p, "sha256:bbbbbbbbbbbbbbbb", "done", 2000, 2000);
    ctr_progress_draw(p);
    ctr_progress_free(p);
    fclose(f);
    assert_string_equal(buf, "aaaaaaaaaaaa: Waiting\n"
                             "bbbbbbbbbbbb: Downloading 2kB\n"
                             "bbbbbbbbbbbb: Pull complete 2kB\n");
    free(buf);
}

static void
test_ctr_progress_draw_tty(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    struct ctr_progress *p = ctr_progress_new(f, CTR_PROGRESS_PUSH, true, 24);
    update(p, "sha256:aaaaaaaaaaaaaaaa", "waiting", 0, 0);
    ctr_progress_draw(p);
    update(p, "sha256:bbbbbbbbbbbbbbbb", "exists", 0, 0);
    update(p, "sha256:aaaaaaaaaaaaaaaa", "done", 0, 0);
    ctr_progress_draw(p);
    ctr_progress_free(p);
    fclose(f);
    /* The second draw goes up one line and draws both; lines are cut to 23 columns. */
    assert_string_equal(buf, "\r\033[2Kaaaaaaaaaaaa: Waiting\n"
                             "\033[1A"
                             "\r\033[2Kaaaaaaaaaaaa: Pushed\n"
                             "\r\033[2Kbbbbbbbbbbbb: Layer alr\n");
    free(buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctr_progress_size),
        cmocka_unit_test(test_ctr_progress_bar),
        cmocka_unit_test(test_ctr_progress_status),
        cmocka_unit_test(test_ctr_progress_short_digest),
        cmocka_unit_test(test_ctr_progress_line),
        cmocka_unit_test(test_ctr_progress_draw_plain),
        cmocka_unit_test(test_ctr_progress_draw_tty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
