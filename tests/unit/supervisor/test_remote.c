/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the parts of supervisor/remote that need no registry: references,
 * WWW-Authenticate challenges, docker config.json credentials, which hosts may use plain http,
 * and the refusal of plain http to any other host before a connection is made. The exchanges
 * themselves are tested against a real registry (tests/integration/supervisor/21-registry).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "supervisor/remote/remote-internal.h"
#include "supervisor/remote/remote.h"

#define DIG "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* ---- References -------------------------------------------------------------------------- */

static void
assert_ref(const char *s, const char *host, const char *repo, const char *tag, const char *digest)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_remote_ref ref;

    if (sup_remote_ref_parse(s, &ref, &err) < 0)
        fail_msg("reference `%s`: %s", s, err.msg);
    assert_string_equal(ref.host, host);
    assert_string_equal(ref.repository, repo);
    if (tag)
        assert_string_equal(ref.tag, tag);
    else
        assert_null(ref.tag);
    if (digest)
        assert_string_equal(ref.digest, digest);
    else
        assert_null(ref.digest);
    sup_remote_ref_clear(&ref);
}

static void
test_sup_remote_ref_parse(void **state)
{
    assert_ref("busybox", "docker.io", "library/busybox", "latest", NULL);
    assert_ref("busybox:1.36", "docker.io", "library/busybox", "1.36", NULL);
    assert_ref("user/app", "docker.io", "user/app", "latest", NULL);
    assert_ref("index.docker.io/library/alpine:3", "docker.io", "library/alpine", "3", NULL);
    assert_ref("localhost/x", "localhost", "x", "latest", NULL);
    assert_ref("localhost:5000/a/b-c__d.e:v1", "localhost:5000", "a/b-c__d.e", "v1", NULL);
    assert_ref("127.0.0.1:5000/x@" DIG, "127.0.0.1:5000", "x", NULL, DIG);
    assert_ref("127.0.0.1:5000/x:t@" DIG, "127.0.0.1:5000", "x", "t", DIG);
    assert_ref("[::1]:5000/x:t", "[::1]:5000", "x", "t", NULL);
    assert_ref("registry.example.com/a/b/c", "registry.example.com", "a/b/c", "latest", NULL);
}

static void
test_sup_remote_ref_parse_refuses(void **state)
{
    static const char *const bad[] = {
        "",
        "Busybox",
        "a//b",
        "x:",
        "x:-tag",
        "x@sha256:abc",
        "x@md5:abc",
        "-x",
        "x-",
        "example.com:port/x",
        "exa_mple.com/x",
        "a/b:c:d",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct berth_err err = BERTH_ERR_INIT;
        struct sup_remote_ref ref;
        if (sup_remote_ref_parse(bad[i], &ref, &err) == 0)
            fail_msg("reference `%s` accepted", bad[i]);
        assert_int_equal(err.code, EINVAL);
        berth_err_clear(&err);
    }
}

/* The client fetches by sha256 only: other digests the grammar allows are ENOTSUP. */
static void
test_sup_remote_ref_parse_sha512(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_remote_ref ref;
    char s[256];

    snprintf(s, sizeof(s), "localhost:5000/x@sha512:%0128d", 0);
    assert_int_equal(sup_remote_ref_parse(s, &ref, &err), -1);
    assert_int_equal(err.code, ENOTSUP);
    assert_non_null(strstr(err.msg, "unsupported digest algorithm"));
    assert_null(ref.host);
    berth_err_clear(&err);
}

static void
test_sup_remote_ref_format(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_remote_ref ref;

    assert_int_equal(sup_remote_ref_parse("localhost:5000/a:t@" DIG, &ref, &err), 0);
    cleanup_free char *s = sup_remote_ref_format(&ref);
    assert_string_equal(s, "localhost:5000/a:t@" DIG);
    sup_remote_ref_clear(&ref);
}

/* ---- Challenges -------------------------------------------------------------------------- */

static void
test_sup_remote_parse_challenges_bearer(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_remote_challenge *c = NULL;
    size_t n = 0;

    assert_int_equal(sup_remote_parse_challenges(
                         "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker."
                         "io\",scope=\"repository:library/busybox:pull\"",
                         &c, &n, &err),
                     0);
    assert_int_equal(n, 1);
    assert_string_equal(c[0].scheme, "bearer");
    assert_int_equal(c[0].n_params, 3);
    assert_string_equal(sup_remote_challenge_param(&c[0], "realm"), "https://auth.docker.io/token");
    assert_string_equal(sup_remote_challenge_param(&c[0], "service"), "registry.docker.io");
    assert_string_equal(sup_remote_challenge_param(&c[0], "scope"),
                        "repository:library/busybox:pull");
    assert_null(sup_remote_challenge_param(&c[0], "error"));
    sup_remote_challenges_free(c, n);
}

static void
test_sup_remote_parse_challenges_several(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_remote_challenge *c = NULL;
    size_t n = 0;

    /* Two challenges in one header, odd spacing and case, an escaped quote, a token value. */
    assert_int_equal(sup_remote_parse_challenges("BASIC realm=\"a \\\"b\\\" c\" ,  Bearer  "
                                                 "Realm = \"https://x/t\", service=reg,"
                                                 "error=\"insufficient_scope\"",
                                                 &c, &n, &err),
                     0);
    assert_int_equal(n, 2);
    assert_string_equal(c[0].scheme, "basic");
    assert_string_equal(sup_remote_challenge_param(&c[0], "realm"), "a \"b\" c");
    assert_string_equal(c[1].scheme, "bearer");
    assert_string_equal(sup_remote_challenge_param(&c[1], "realm"), "https://x/t");
    assert_string_equal(sup_remote_challenge_param(&c[1], "service"), "reg");
    assert_string_equal(sup_remote_challenge_param(&c[1], "error"), "insufficient_scope");
    sup_remote_challenges_free(c, n);

    /* A scheme alone. */
    assert_int_equal(sup_remote_parse_challenges("Negotiate", &c, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].n_params, 0);
    sup_remote_challenges_free(c, n);
}

static void
test_sup_remote_parse_challenges_refuses(void **state)
{
    static const char *const bad[] = {
        "",   "   ",          "Bearer realm=\"unterminated", "Bearer realm=\"x\" service=\"y\"",
        "=x", "Bearer \"x\"",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct berth_err err = BERTH_ERR_INIT;
        struct sup_remote_challenge *c = NULL;
        size_t n = 0;
        if (sup_remote_parse_challenges(bad[i], &c, &n, &err) == 0)
            fail_msg("challenge `%s` accepted", bad[i]);
        assert_int_equal(err.code, EINVAL);
        berth_err_clear(&err);
    }
}

/* ---- Credentials ------------------------------------------------------------------------- */

static void
test_sup_remote_parse_auth_config(void **state)
{
    /* "alice:s3cr:et" and "bob:pw" in base64 */
    static const char doc[] =
        "{\"auths\": {"
        " \"https://index.docker.io/v1/\": {\"auth\": \"YWxpY2U6czNjcjpldA==\"},"
        " \"localhost:5000\": {\"username\": \"carol\", \"password\": \"pw2\"},"
        " \"http://reg.example.com:8443/v2/\": {\"auth\": \"Ym9iOnB3\"},"
        " \"helper.example.com\": {},"
        " \"token.example.com\": {\"identitytoken\": \"x\"}"
        "}, \"credsStore\": \"desktop\"}";
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_remote_cred *c = NULL;
    size_t n = 0;

    assert_int_equal(sup_remote_parse_auth_config(doc, strlen(doc), &c, &n, &err), 0);
    assert_int_equal(n, 3);

    const struct sup_remote_cred *hub = sup_remote_find_cred(c, n, "docker.io");
    assert_non_null(hub);
    assert_string_equal(hub->host, "index.docker.io");
    assert_string_equal(hub->username, "alice");
    assert_string_equal(hub->password, "s3cr:et");
    assert_ptr_equal(sup_remote_find_cred(c, n, "registry-1.docker.io"), hub);

    const struct sup_remote_cred *local = sup_remote_find_cred(c, n, "localhost:5000");
    assert_non_null(local);
    assert_string_equal(local->username, "carol");
    assert_string_equal(local->password, "pw2");

    const struct sup_remote_cred *reg = sup_remote_find_cred(c, n, "REG.example.com:8443");
    assert_non_null(reg);
    assert_string_equal(reg->username, "bob");
    assert_string_equal(reg->password, "pw");

    assert_null(sup_remote_find_cred(c, n, "reg.example.com"));
    assert_null(sup_remote_find_cred(c, n, "helper.example.com"));
    assert_null(sup_remote_find_cred(c, n, "localhost:5001"));
    sup_remote_creds_free(c, n);

    /* No "auths" at all: no credentials. */
    assert_int_equal(sup_remote_parse_auth_config("{}", 2, &c, &n, &err), 0);
    assert_int_equal(n, 0);
    sup_remote_creds_free(c, n);
}

static void
test_sup_remote_parse_auth_config_refuses(void **state)
{
    static const struct {
        const char *doc, *want;
    } bad[] = {
        {"{\"auths\": {\"h\": {\"auth\": \"!!!!\"}}}", "auths: `h`: `auth` is not base64"},
        {"{\"auths\": {\"h\": {\"auth\": \"bm9jb2xvbg==\"}}}", "`auth` is not base64 of user:"},
        {"{\"auths\": {\"h\": {\"auth\": \"YWJj\"}}}", "`auth` is not base64"},
        {"{\"auths\": {\"h\": {\"auth\": 5}}}", "auths: `h`: `auth`: expected string"},
        {"{\"auths\": {\"h\": []}}", "auths: `h`: expected object"},
        {"{\"auths\": []}", "`auths`: expected object"},
        {"[]", "expected an object"},
        {"{", "line 1"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct berth_err err = BERTH_ERR_INIT;
        struct sup_remote_cred *c = NULL;
        size_t n = 0;
        assert_int_equal(sup_remote_parse_auth_config(bad[i].doc, strlen(bad[i].doc), &c, &n, &err),
                         -1);
        if (strstr(err.msg, bad[i].want) == NULL)
            fail_msg("`%s`: got `%s`, want `%s`", bad[i].doc, err.msg, bad[i].want);
        berth_err_clear(&err);
    }
}

/* A credentials file that does not parse is refused when the client is made, naming it. */
static void
test_sup_remote_new_bad_auth_file(void **state)
{
    char path[] = "/tmp/berth-test-auth.XXXXXX";
    int fd = mkstemp(path);
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_remote *r = NULL;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"auths\": 1}", 12), 12);
    close(fd);
    struct sup_remote_options opts = {.auth_file = path};
    assert_int_equal(sup_remote_new(&opts, &r, &err), -1);
    assert_non_null(strstr(err.msg, path));
    berth_err_clear(&err);

    /* A named file that is missing is an error too; the default one is not. */
    unlink(path);
    assert_int_equal(sup_remote_new(&opts, &r, &err), -1);
    assert_int_equal(err.code, ENOENT);
    berth_err_clear(&err);

    setenv("DOCKER_CONFIG", "/nonexistent/berth-test", 1);
    assert_int_equal(sup_remote_new(NULL, &r, &err), 0);
    sup_remote_free(r);
    unsetenv("DOCKER_CONFIG");
}

/* ---- Hosts and plain http ---------------------------------------------------------------- */

static void
test_sup_remote_is_loopback(void **state)
{
    assert_true(sup_remote_is_loopback("localhost"));
    assert_true(sup_remote_is_loopback("LocalHost:5000"));
    assert_true(sup_remote_is_loopback("127.0.0.1"));
    assert_true(sup_remote_is_loopback("127.1.2.3:443"));
    assert_true(sup_remote_is_loopback("[::1]:5000"));
    assert_true(sup_remote_is_loopback("::1"));
    assert_false(sup_remote_is_loopback("128.0.0.1:5000"));
    assert_false(sup_remote_is_loopback("localhost.example.com"));
    assert_false(sup_remote_is_loopback("127.0.0.1.example.com"));
    assert_false(sup_remote_is_loopback("[::2]:5000"));
    assert_false(sup_remote_is_loopback("registry.example.com"));
    assert_false(sup_remote_is_loopback(""));
}

static void
test_sup_remote_host_matches(void **state)
{
    assert_true(sup_remote_host_matches("reg.example.com:5000", "reg.example.com:5000"));
    assert_true(sup_remote_host_matches("reg.example.com:5000", "reg.example.com"));
    assert_true(sup_remote_host_matches("reg.example.com", "REG.example.com"));
    assert_false(sup_remote_host_matches("reg.example.com:5000", "reg.example.com:5001"));
    assert_false(sup_remote_host_matches("reg.example.com", "reg.example.com:5000"));
    assert_false(sup_remote_host_matches("other.example.com", "reg.example.com"));
    assert_true(sup_remote_host_matches("10.1.2.3:5000", "10.0.0.0/8"));
    assert_false(sup_remote_host_matches("11.1.2.3:5000", "10.0.0.0/8"));
    assert_true(sup_remote_host_matches("192.168.1.77", "192.168.1.64/26"));
    assert_false(sup_remote_host_matches("192.168.1.200", "192.168.1.64/26"));
    assert_true(sup_remote_host_matches("[fd00::5]:5000", "fd00::/8"));
    assert_false(sup_remote_host_matches("reg.example.com", "10.0.0.0/8"));
    assert_false(sup_remote_host_matches("10.1.2.3", "10.0.0.0/x"));
}

/* With plain_http, a host that is neither loopback nor insecure is refused before any
 * connection: the name does not even need to resolve. */
static void
test_sup_remote_plain_http_refused(void **state)
{
    struct sup_remote_options opts = {.plain_http = true};
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_remote *r = NULL;
    struct sup_remote_ref ref;
    struct sup_remote_desc d;

    setenv("DOCKER_CONFIG", "/nonexistent/berth-test", 1);
    assert_int_equal(sup_remote_new(&opts, &r, &err), 0);
    assert_int_equal(sup_remote_ref_parse("registry.invalid/x:1", &ref, &err), 0);
    assert_int_equal(sup_remote_resolve(r, &ref, &d, &err), -1);
    assert_int_equal(err.code, EPERM);
    assert_non_null(strstr(err.msg, "plain http to `registry.invalid` refused"));
    berth_err_clear(&err);
    sup_remote_ref_clear(&ref);
    sup_remote_free(r);
    unsetenv("DOCKER_CONFIG");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sup_remote_ref_parse),
        cmocka_unit_test(test_sup_remote_ref_parse_refuses),
        cmocka_unit_test(test_sup_remote_ref_parse_sha512),
        cmocka_unit_test(test_sup_remote_ref_format),
        cmocka_unit_test(test_sup_remote_parse_challenges_bearer),
        cmocka_unit_test(test_sup_remote_parse_challenges_several),
        cmocka_unit_test(test_sup_remote_parse_challenges_refuses),
        cmocka_unit_test(test_sup_remote_parse_auth_config),
        cmocka_unit_test(test_sup_remote_parse_auth_config_refuses),
        cmocka_unit_test(test_sup_remote_new_bad_auth_file),
        cmocka_unit_test(test_sup_remote_is_loopback),
        cmocka_unit_test(test_sup_remote_host_matches),
        cmocka_unit_test(test_sup_remote_plain_http_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
