/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the pure parts of supervisor/images: chain IDs (checked against values
 * computed independently with sha256sum, as the OCI image spec defines them), snapshot keys
 * and reference normalization.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "supervisor/images/images.h"

#define L0        "sha256:a7b8b7b8d3f9ec2e4b5dbe5d6c1c5e6e2d3c4b5a69788796a5b4c3d2e1f00112"
#define L1        "sha256:0000000000000000000000000000000000000000000000000000000000000001"
#define CHAIN_01  "sha256:9ef8153bce58446581c8d4d6c03c00f9ad2c3e9b3a029b6c5382a4f6bb3ba0cf"
#define CHAIN_012 "sha256:c4cd3083ee821f115568652143ff8a6381361439c8de124c47c75467b37eade6"
#define L2        "sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

static void
test_sup_images_chain_id_one_layer(void **state)
{
    char out[SUP_IMAGES_DIGEST_MAX];
    char *ids[] = {L0};

    (void)state;
    /* ChainID(L0) = DiffID(L0). */
    sup_images_chain_id(ids, 1, out);
    assert_string_equal(out, L0);
}

static void
test_sup_images_chain_id_stack(void **state)
{
    char out[SUP_IMAGES_DIGEST_MAX];
    char *ids[] = {L0, L1, L2};

    (void)state;
    /* printf '%s %s' L0 L1 | sha256sum */
    sup_images_chain_id(ids, 2, out);
    assert_string_equal(out, CHAIN_01);
    /* printf '%s %s' CHAIN_01 L2 | sha256sum */
    sup_images_chain_id(ids, 3, out);
    assert_string_equal(out, CHAIN_012);
}

static void
test_sup_images_snapshot_key_prefix(void **state)
{
    (void)state;
    cleanup_free char *k = sup_images_snapshot_key("default", L0);
    assert_string_equal(k, "default/" L0);
}

static void
test_sup_images_normalize_docker_rules(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"busybox", "docker.io/library/busybox:latest"},
        {"user/app:1.0", "docker.io/user/app:1.0"},
        {"127.0.0.1:5000/x/y", "127.0.0.1:5000/x/y:latest"},
        {"localhost/a@" L2, "localhost/a@" L2},
    };
    cleanup_err struct berth_err err = BERTH_ERR_INIT;

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        cleanup_free char *s = NULL;
        if (sup_images_normalize(cases[i].in, &s, &err) < 0)
            fail_msg("%s: %s", cases[i].in, err.msg);
        assert_string_equal(s, cases[i].out);
    }
    char *s = NULL;
    assert_int_equal(sup_images_normalize("", &s, &err), -1);
    assert_int_equal(err.code, EINVAL);
    berth_err_clear(&err);
    assert_int_equal(sup_images_normalize("Upper/Case", &s, &err), -1);
    assert_int_equal(err.code, EINVAL);
    berth_err_clear(&err);
    assert_null(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sup_images_chain_id_one_layer),
        cmocka_unit_test(test_sup_images_chain_id_stack),
        cmocka_unit_test(test_sup_images_snapshot_key_prefix),
        cmocka_unit_test(test_sup_images_normalize_docker_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
