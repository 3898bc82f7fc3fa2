/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for supervisor/ctr/output.c: aligned tables (four spaces between columns, no
 * trailing blanks), format names, and times as RFC 3339 with nanoseconds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "supervisor/ctr/output.h"

static char *
print(const struct ctr_table *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    ctr_table_print(t, f);
    fclose(f);
    return buf;
}

static void
test_ctr_table_print(void **state)
{
    cleanup_table struct ctr_table *t = ctr_table_new(3, "CONTAINER", "IMAGE", "RUNTIME");
    ctr_table_add(t, "a", "-", "io.berth.ocirun.v1");
    ctr_table_add(t, "a-longer-name", "busybox", "x");
    cleanup_free char *out = print(t);
    assert_string_equal(out, "CONTAINER        IMAGE      RUNTIME\n"
                             "a                -          io.berth.ocirun.v1\n"
                             "a-longer-name    busybox    x\n");
}

static void
test_ctr_table_print_empty_cells(void **state)
{
    cleanup_table struct ctr_table *t = ctr_table_new(2, "NAME", "LABELS");
    ctr_table_add(t, "default", "");
    ctr_table_add(t, "x", NULL);
    ctr_table_add(t, "", "k=v");
    cleanup_free char *out = print(t);
    /* Empty last cells leave no trailing blanks; an empty first cell is padded. */
    assert_string_equal(out, "NAME       LABELS\n"
                             "default\n"
                             "x\n"
                             "           k=v\n");
}

static void
test_ctr_format_parse(void **state)
{
    enum ctr_format f = CTR_FORMAT_TABLE;
    struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(ctr_format_parse("json", &f, &err), 0);
    assert_int_equal(f, CTR_FORMAT_JSON);
    assert_int_equal(ctr_format_parse("table", &f, &err), 0);
    assert_int_equal(f, CTR_FORMAT_TABLE);
    assert_int_equal(ctr_format_parse("yaml", &f, &err), -1);
    assert_int_equal(err.code, EINVAL);
    assert_string_equal(err.msg, "invalid format `yaml` (want table or json)");
    berth_err_clear(&err);
}

static void
test_ctr_time_format(void **state)
{
    cleanup_free char *a = ctr_time_format(0);
    assert_string_equal(a, "1970-01-01T00:00:00.000000000Z");
    cleanup_free char *b = ctr_time_format(1700000000123456789);
    assert_string_equal(b, "2023-11-14T22:13:20.123456789Z");
    cleanup_free char *c = ctr_time_format(42);
    assert_string_equal(c, "1970-01-01T00:00:00.000000042Z");
    /* Before 1970 the nanoseconds still count forward from the second. */
    cleanup_free char *d = ctr_time_format(-1);
    assert_string_equal(d, "1969-12-31T23:59:59.999999999Z");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctr_table_print),
        cmocka_unit_test(test_ctr_table_print_empty_cells),
        cmocka_unit_test(test_ctr_format_parse),
        cmocka_unit_test(test_ctr_time_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
