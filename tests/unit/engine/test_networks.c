/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for engine/network/networks.c and ipnet.c over a real engine.db in a temp dir:
 * CIDR parsing and overlaps, the predefined networks, create's checks (names, subnets,
 * gateways, ranges, overlaps, the pool), lookups by name, id and prefix, removal, and the CNI
 * configuration list of a network (internal or not, with an IP range).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "engine/daemon.h"
#include "engine/network/ipnet.h"
#include "engine/network/networks.h"
#include "engine/store/store.h"

struct fixture {
    char *dir, *root, *state;
    struct eng_daemon d;
};

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof(*f));
    f->dir = xstrdup("/tmp/berth-net.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->root = xasprintf("%s/root", f->dir);
    f->state = xasprintf("%s/state", f->dir);
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(berth_fs_mkdir_p(f->root, 0700, &err), 0);
    assert_int_equal(eng_store_open(f->root, &f->d.store, &err), 0);
    f->d.root = f->root;
    f->d.state = f->state;
    assert_int_equal(eng_networks_init(&f->d, &err), 0);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    eng_store_close(f->d.store);
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    berth_fs_rm_rf(f->dir, &err);
    free(f->dir);
    free(f->root);
    free(f->state);
    free(f);
    return 0;
}

static void
test_eng_ipnet(void **state)
{
    (void)state;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct eng_ipnet a, b;
    assert_int_equal(eng_ipnet_parse("10.1.2.3/16", "x", &a, &err), 0);
    assert_int_equal(eng_ipnet_base(&a), 0x0a010000u);
    assert_true(eng_ipnet_contains(&a, 0x0a01ffffu));
    assert_false(eng_ipnet_contains(&a, 0x0a020000u));
    assert_int_equal(eng_ipnet_parse("10.1.200.0/24", "x", &b, &err), 0);
    assert_true(eng_ipnet_overlaps(&a, &b));
    assert_int_equal(eng_ipnet_parse("10.2.0.0/24", "x", &b, &err), 0);
    assert_false(eng_ipnet_overlaps(&a, &b));
    static const char *const bad[] = {"10.0.0.0", "10.0.0.0/33", "10.0.0/8", "x/8", "10.0.0.0/"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_equal(eng_ipnet_parse(bad[i], "IPAM.Config.Subnet", &a, &err), -1);
        assert_int_equal(err.code, EINVAL);
        assert_non_null(strstr(err.msg, "IPAM.Config.Subnet"));
        berth_err_clear(&err);
    }
    cleanup_free char *s = eng_ipnet_string(0xac1f0100u, 24);
    assert_string_equal(s, "172.31.1.0/24");
}

static void
test_eng_network_predefined(void **state)
{
    struct fixture *f = *state;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    /* A second init keeps the rows. */
    assert_int_equal(eng_networks_init(&f->d, &err), 0);
    struct eng_network **v = NULL;
    size_t n = 0;
    assert_int_equal(eng_network_list(&f->d, &v, &n, &err), 0);
    assert_int_equal(n, 3);
    eng_network_list_free(v, n);
    cleanup_network struct eng_network *br = eng_network_find(&f->d, "bridge", &err);
    assert_non_null(br);
    assert_true(br->predefined);
    /* No daemon.json: the defaults. */
    assert_string_equal(br->subnet, "172.30.0.0/16");
    assert_string_equal(br->gateway, "172.30.0.1");
    assert_string_equal(br->bridge, "berth0");
    assert_int_equal(eng_network_remove(&f->d, br, &err), -1);
    assert_int_equal(err.code, EPERM);
    berth_err_clear(&err);
    cleanup_network struct eng_network *none = eng_network_find(&f->d, "none", &err);
    assert_string_equal(none->driver, "null");
}

static void
test_eng_network_create_checks(void **state)
{
    struct fixture *f = *state;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *id = NULL;
    struct eng_network_spec s = {
        .name = "front", .subnet = "10.50.0.0/24", .ip_range = "10.50.0.128/25"};
    assert_int_equal(eng_network_create(&f->d, &s, &id, &err), 0);
    cleanup_network struct eng_network *n = eng_network_find(&f->d, "front", &err);
    assert_non_null(n);
    assert_string_equal(n->gateway, "10.50.0.1");
    assert_string_equal(n->ip_range, "10.50.0.128/25");
    assert_memory_equal(n->bridge, "br-", 3);
    char prefix[8];
    snprintf(prefix, sizeof(prefix), "%.6s", id);
    cleanup_network struct eng_network *p = eng_network_find(&f->d, prefix, &err);
    assert_non_null(p);
    assert_string_equal(p->name, "front");

    struct {
        struct eng_network_spec s;
        int code;
        const char *words;
    } cases[] = {
        {{.name = "front"}, EEXIST, "already exists"},
        {{.name = "bad name"}, EINVAL, "invalid network name"},
        {{.name = "x", .driver = "overlay"}, ENOENT, "plugin \"overlay\" not found"},
        {{.name = "x", .driver = "host"}, EPERM, "only one instance"},
        {{.name = "x", .subnet = "10.50.0.64/26"}, EPERM, "overlaps network front"},
        {{.name = "x", .subnet = "172.16.0.0/12"}, EPERM, "overlaps network bridge"},
        {{.name = "x", .subnet = "10.60.0.0/24", .gateway = "10.61.0.1"}, EINVAL, "Gateway"},
        {{.name = "x", .subnet = "10.60.0.0/24", .gateway = "10.60.0.255"}, EINVAL, "Gateway"},
        {{.name = "x", .subnet = "10.60.0.0/24", .ip_range = "10.61.0.0/25"}, EINVAL, "IPRange"},
        {{.name = "x", .gateway = "10.60.0.1"}, EINVAL, "needs a subnet"},
        {{.name = "x", .subnet = "10.60.0.0/31"}, EINVAL, "too small"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *other = NULL;
        assert_int_equal(eng_network_create(&f->d, &cases[i].s, &other, &err), -1);
        assert_int_equal(err.code, cases[i].code);
        if (!strstr(err.msg, cases[i].words))
            fail_msg("case %zu: `%s` lacks `%s`", i, err.msg, cases[i].words);
        berth_err_clear(&err);
    }
    /* Nothing was made by the refused ones. */
    struct eng_network **v = NULL;
    size_t n_nets = 0;
    assert_int_equal(eng_network_list(&f->d, &v, &n_nets, &err), 0);
    assert_int_equal(n_nets, 4);
    eng_network_list_free(v, n_nets);
    assert_int_equal(eng_network_remove(&f->d, n, &err), 0);
}

static void
test_eng_network_pool_and_conflist(void **state)
{
    struct fixture *f = *state;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *a = NULL, *b = NULL;
    struct eng_network_spec s = {.name = "a"};
    assert_int_equal(eng_network_create(&f->d, &s, &a, &err), 0);
    s.name = "b";
    s.internal = true;
    assert_int_equal(eng_network_create(&f->d, &s, &b, &err), 0);
    cleanup_network struct eng_network *na = eng_network_find(&f->d, a, &err);
    cleanup_network struct eng_network *nb = eng_network_find(&f->d, b, &err);
    /* Two subnets of the pool, not the same. */
    assert_memory_equal(na->subnet, "172.31.", 7);
    assert_string_not_equal(na->subnet, nb->subnet);

    cleanup_json struct json_object *ca = eng_network_conflist(&f->d, na);
    assert_string_equal(berth_json_member_string(ca, "name"), "a");
    struct json_object *plugins = berth_json_member(ca, "plugins");
    assert_int_equal(json_object_array_length(plugins), 3);
    struct json_object *bridge = json_object_array_get_idx(plugins, 0);
    assert_string_equal(berth_json_member_string(bridge, "type"), "bridge");
    assert_true(berth_json_member_bool(bridge, "ipMasq"));
    assert_string_equal(berth_json_member_string(json_object_array_get_idx(plugins, 1), "type"),
                        "portmap");
    cleanup_json struct json_object *cb = eng_network_conflist(&f->d, nb);
    struct json_object *ib = json_object_array_get_idx(berth_json_member(cb, "plugins"), 0);
    assert_false(berth_json_member_bool(ib, "ipMasq"));
    assert_false(berth_json_member_bool(ib, "isGateway"));
    assert_int_equal(
        json_object_array_length(berth_json_member(berth_json_member(ib, "ipam"), "routes")), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eng_ipnet),
        cmocka_unit_test_setup_teardown(test_eng_network_predefined, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_network_create_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_network_pool_and_conflist, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
