/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for engine/api/router.c: patterns with one-segment and many-segment
 * parameters, the route table's literal paths before its patterns, methods (HEAD as GET,
 * 405 for a known path), and the /v1.NN prefix with dockerd's bounds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "engine/api/router.h"

static void
test_eng_api_pattern_match_literal(void **state)
{
    struct eng_api_params p = {0};
    assert_true(eng_api_pattern_match("/_ping", "/_ping", &p));
    assert_false(eng_api_pattern_match("/_ping", "/_ping/", &p));
    assert_false(eng_api_pattern_match("/_ping", "/_pin", &p));
    assert_false(eng_api_pattern_match("/images/json", "/images/json/x", &p));
    assert_int_equal(p.n, 0);
}

static void
test_eng_api_pattern_match_one_segment(void **state)
{
    struct eng_api_params p = {0};
    assert_true(eng_api_pattern_match("/containers/{id}/json", "/containers/abc/json", &p));
    assert_string_equal(eng_api_param(&p, "id"), "abc");
    assert_null(eng_api_param(&p, "i"));
    assert_false(eng_api_pattern_match("/containers/{id}/json", "/containers/a/b/json", &p));
    assert_false(eng_api_pattern_match("/containers/{id}/json", "/containers//json", &p));
    assert_int_equal(p.n, 0);
    eng_api_params_clear(&p);
}

static void
test_eng_api_pattern_match_many_segments(void **state)
{
    struct eng_api_params p = {0};
    assert_true(eng_api_pattern_match("/images/{name*}/json", "/images/busybox/json", &p));
    assert_string_equal(eng_api_param(&p, "name"), "busybox");
    assert_true(eng_api_pattern_match("/images/{name*}/json",
                                      "/images/127.0.0.1:5000/team/app:1.0/json", &p));
    assert_string_equal(eng_api_param(&p, "name"), "127.0.0.1:5000/team/app:1.0");
    /* The longest name that still leaves the rest of the pattern. */
    assert_true(eng_api_pattern_match("/images/{name*}/json", "/images/a/json/json", &p));
    assert_string_equal(eng_api_param(&p, "name"), "a/json");
    assert_true(eng_api_pattern_match("/images/{name*}", "/images/a/b", &p));
    assert_string_equal(eng_api_param(&p, "name"), "a/b");
    assert_false(eng_api_pattern_match("/images/{name*}/json", "/images/json", &p));
    assert_false(eng_api_pattern_match("/images/{name*}/json", "/images//json", &p));
    assert_true(eng_api_pattern_match("/a/{x}/{y*}/z", "/a/1/2/3/z", &p));
    assert_string_equal(eng_api_param(&p, "x"), "1");
    assert_string_equal(eng_api_param(&p, "y"), "2/3");
    eng_api_params_clear(&p);
}

static void
test_eng_api_route_find_table(void **state)
{
    struct eng_api_params p = {0};
    const struct eng_api_route *r = NULL;
    assert_int_equal(
        eng_api_route_find(eng_api_routes, eng_api_n_routes, "GET", "/images/json", &r, &p),
        ENG_API_MATCHED);
    assert_string_equal(r->pattern, "/images/json");
    assert_int_equal(eng_api_route_find(eng_api_routes, eng_api_n_routes, "GET",
                                        "/images/docker.io/library/busybox:latest/json", &r, &p),
                     ENG_API_MATCHED);
    assert_string_equal(r->pattern, "/images/{name*}/json");
    assert_string_equal(eng_api_param(&p, "name"), "docker.io/library/busybox:latest");
    assert_int_equal(
        eng_api_route_find(eng_api_routes, eng_api_n_routes, "DELETE", "/images/x/y", &r, &p),
        ENG_API_MATCHED);
    assert_string_equal(eng_api_param(&p, "name"), "x/y");
    assert_int_equal(
        eng_api_route_find(eng_api_routes, eng_api_n_routes, "POST", "/images/load", &r, &p),
        ENG_API_MATCHED);
    assert_true(r->flags & ENG_API_BODY_FILE);
    eng_api_params_clear(&p);
}

static void
test_eng_api_route_find_methods(void **state)
{
    struct eng_api_params p = {0};
    const struct eng_api_route *r = NULL;
    assert_int_equal(eng_api_route_find(eng_api_routes, eng_api_n_routes, "HEAD", "/_ping", &r, &p),
                     ENG_API_MATCHED);
    assert_string_equal(r->method, "HEAD");
    /* HEAD of a GET route is the GET route. */
    assert_int_equal(
        eng_api_route_find(eng_api_routes, eng_api_n_routes, "HEAD", "/version", &r, &p),
        ENG_API_MATCHED);
    assert_string_equal(r->method, "GET");
    assert_int_equal(
        eng_api_route_find(eng_api_routes, eng_api_n_routes, "POST", "/version", &r, &p),
        ENG_API_NO_METHOD);
    assert_null(r);
    assert_int_equal(
        eng_api_route_find(eng_api_routes, eng_api_n_routes, "GET", "/nothing", &r, &p),
        ENG_API_NO_ROUTE);
    assert_int_equal(p.n, 0);
}

static void
check_version(const char *path, int want_version, const char *want_rest)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    int v = -1;
    const char *rest = NULL;
    assert_int_equal(eng_api_version_split(path, &v, &rest, &err), 0);
    assert_int_equal(v, want_version);
    assert_string_equal(rest, want_rest);
}

static void
check_version_fails(const char *path, const char *want_msg)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    int v = -1;
    const char *rest = NULL;
    assert_int_equal(eng_api_version_split(path, &v, &rest, &err), -1);
    assert_int_equal(err.code, EINVAL);
    assert_string_equal(err.msg, want_msg);
}

static void
test_eng_api_version_split(void **state)
{
    check_version("/_ping", 0, "/_ping");
    check_version("/v1.41/_ping", 141, "/_ping");
    check_version("/v1.12/images/json", 112, "/images/json");
    check_version("/v1.40", 140, "/");
    /* Not a version: the path stays whole (and is not found). */
    check_version("/vx/_ping", 0, "/vx/_ping");
    check_version("/v1/_ping", 0, "/v1/_ping");
    check_version("/v1./_ping", 0, "/v1./_ping");
    check_version("/version", 0, "/version");
    check_version_fails("/v1.42/_ping",
                        "client version 1.42 is too new. Maximum supported API version is 1.41");
    check_version_fails("/v2.0/info",
                        "client version 2.0 is too new. Maximum supported API version is 1.41");
    check_version_fails("/v1.11/info",
                        "client version 1.11 is too old. Minimum supported API version is "
                        "1.12, please upgrade your client to a newer version");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eng_api_pattern_match_literal),
        cmocka_unit_test(test_eng_api_pattern_match_one_segment),
        cmocka_unit_test(test_eng_api_pattern_match_many_segments),
        cmocka_unit_test(test_eng_api_route_find_table),
        cmocka_unit_test(test_eng_api_route_find_methods),
        cmocka_unit_test(test_eng_api_version_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
