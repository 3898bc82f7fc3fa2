/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for common/reference.c: tables of references that parse (with their normalized,
 * name and familiar forms and each field) and of references that do not (with the exact
 * message), plus the tag and digest checks on their own and releasing.
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
#include "common/reference.h"

#define HEX64  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA256 "sha256:" HEX64
#define HEX96                                                                                      \
    "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c8" \
    "25a7"
#define HEX128                                                                                     \
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3fe" \
    "ebbd454d4423643ce80e2a9ac94fa54ca49f"

static void
expect_form(const char *what, const char *input, char *got, const char *want)
{
    if (strcmp(got, want) != 0)
        fail_msg("`%s`: %s is `%s`, want `%s`", input, what, got, want);
    free(got);
}

static void
expect_field(const char *what, const char *input, const char *got, const char *want)
{
    if (want == NULL && got == NULL)
        return;
    if (want == NULL || got == NULL || strcmp(got, want) != 0)
        fail_msg("`%s`: %s is `%s`, want `%s`", input, what, got ? got : "(null)",
                 want ? want : "(null)");
}

static void
test_berth_ref_parse_good(void **state)
{
    static const struct {
        const char *in, *string, *familiar, *domain, *path, *tag, *digest;
    } cases[] = {
        /* docker.io and the official "library/" prefix */
        {"busybox", "docker.io/library/busybox:latest", "busybox:latest", "docker.io",
         "library/busybox", "latest", NULL},
        {"busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36", "docker.io",
         "library/busybox", "1.36", NULL},
        {"library/busybox", "docker.io/library/busybox:latest", "busybox:latest", "docker.io",
         "library/busybox", "latest", NULL},
        {"docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest", "docker.io",
         "library/busybox", "latest", NULL},
        {"docker.io/library/busybox:musl", "docker.io/library/busybox:musl", "busybox:musl",
         "docker.io", "library/busybox", "musl", NULL},
        {"index.docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest",
         "docker.io", "library/busybox", "latest", NULL},
        {"index.docker.io/user/app:v1", "docker.io/user/app:v1", "user/app:v1", "docker.io",
         "user/app", "v1", NULL},
        {"user/app", "docker.io/user/app:latest", "user/app:latest", "docker.io", "user/app",
         "latest", NULL},
        {"user/app/sub", "docker.io/user/app/sub:latest", "user/app/sub:latest", "docker.io",
         "user/app/sub", "latest", NULL},
        {"library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest", "docker.io",
         "library/a/b", "latest", NULL},
        /* a docker.io path that starts like a host keeps docker.io in the short form */
        {"docker.io/quay.io/org/app", "docker.io/quay.io/org/app:latest",
         "docker.io/quay.io/org/app:latest", "docker.io", "quay.io/org/app", "latest", NULL},
        {"docker.io/localhost/x:1", "docker.io/localhost/x:1", "docker.io/localhost/x:1",
         "docker.io", "localhost/x", "1", NULL},
        /* other registries */
        {"quay.io/coreos/etcd:v3.5", "quay.io/coreos/etcd:v3.5", "quay.io/coreos/etcd:v3.5",
         "quay.io", "coreos/etcd", "v3.5", NULL},
        {"registry.example.com:5000/team/app:2.0", "registry.example.com:5000/team/app:2.0",
         "registry.example.com:5000/team/app:2.0", "registry.example.com:5000", "team/app", "2.0",
         NULL},
        {"host:5000/x/y:tag", "host:5000/x/y:tag", "host:5000/x/y:tag", "host:5000", "x/y", "tag",
         NULL},
        {"localhost/x", "localhost/x:latest", "localhost/x:latest", "localhost", "x", "latest",
         NULL},
        {"localhost:5000/x", "localhost:5000/x:latest", "localhost:5000/x:latest", "localhost:5000",
         "x", "latest", NULL},
        {"127.0.0.1:5000/x:1", "127.0.0.1:5000/x:1", "127.0.0.1:5000/x:1", "127.0.0.1:5000", "x",
         "1", NULL},
        {"[::1]:5000/x", "[::1]:5000/x:latest", "[::1]:5000/x:latest", "[::1]:5000", "x", "latest",
         NULL},
        {"[fe80::1]/x", "[fe80::1]/x:latest", "[fe80::1]/x:latest", "[fe80::1]", "x", "latest",
         NULL},
        {"my-registry.local/a", "my-registry.local/a:latest", "my-registry.local/a:latest",
         "my-registry.local", "a", "latest", NULL},
        /* an upper-case first component is a host name, as docker reads it */
        {"Registry/app", "Registry/app:latest", "Registry/app:latest", "Registry", "app", "latest",
         NULL},
        /* no '/': "localhost:5000" is the name localhost with tag 5000 */
        {"localhost:5000", "docker.io/library/localhost:5000", "localhost:5000", "docker.io",
         "library/localhost", "5000", NULL},
        {"localhost", "docker.io/library/localhost:latest", "localhost:latest", "docker.io",
         "library/localhost", "latest", NULL},
        /* separators */
        {"x/a.b_c__d-e--f", "docker.io/x/a.b_c__d-e--f:latest", "x/a.b_c__d-e--f:latest",
         "docker.io", "x/a.b_c__d-e--f", "latest", NULL},
        {"x0/1y", "docker.io/x0/1y:latest", "x0/1y:latest", "docker.io", "x0/1y", "latest", NULL},
        /* tags */
        {"x:_", "docker.io/library/x:_", "x:_", "docker.io", "library/x", "_", NULL},
        {"x:V1.0-RC_2", "docker.io/library/x:V1.0-RC_2", "x:V1.0-RC_2", "docker.io", "library/x",
         "V1.0-RC_2", NULL},
        /* digests */
        {"x@" SHA256, "docker.io/library/x@" SHA256, "x@" SHA256, "docker.io", "library/x", NULL,
         SHA256},
        {"x:tag@" SHA256, "docker.io/library/x:tag@" SHA256, "x:tag@" SHA256, "docker.io",
         "library/x", "tag", SHA256},
        {"localhost:5000/x@" SHA256, "localhost:5000/x@" SHA256, "localhost:5000/x@" SHA256,
         "localhost:5000", "x", NULL, SHA256},
        {"x@sha384:" HEX96, "docker.io/library/x@sha384:" HEX96, "x@sha384:" HEX96, "docker.io",
         "library/x", NULL, "sha384:" HEX96},
        {"x@sha512:" HEX128, "docker.io/library/x@sha512:" HEX128, "x@sha512:" HEX128, "docker.io",
         "library/x", NULL, "sha512:" HEX128},
        /* 64 hex digits are fine as a component, just not as the whole reference */
        {"user/" HEX64, "docker.io/user/" HEX64 ":latest", "user/" HEX64 ":latest", "docker.io",
         "user/" HEX64, "latest", NULL},
        {HEX64 ":tag", "docker.io/library/" HEX64 ":tag", HEX64 ":tag", "docker.io",
         "library/" HEX64, "tag", NULL},
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct berth_ref ref = BERTH_REF_INIT;
        struct berth_err err = BERTH_ERR_INIT;
        const char *in = cases[i].in;

        if (berth_ref_parse(in, &ref, &err) < 0)
            fail_msg("`%s`: %s", in, err.msg);
        assert_null(err.msg);
        expect_field("domain", in, ref.domain, cases[i].domain);
        expect_field("path", in, ref.path, cases[i].path);
        expect_field("tag", in, ref.tag, cases[i].tag);
        expect_field("digest", in, ref.digest, cases[i].digest);
        expect_form("string", in, berth_ref_string(&ref), cases[i].string);
        expect_form("familiar", in, berth_ref_familiar(&ref), cases[i].familiar);
        char *want_name = xasprintf("%s/%s", cases[i].domain, cases[i].path);
        expect_form("name", in, berth_ref_name(&ref), want_name);
        free(want_name);

        /* The normalized and the familiar forms parse back to the same reference. */
        char *forms[] = {berth_ref_string(&ref), berth_ref_familiar(&ref)};
        for (size_t j = 0; j < ARRAY_SIZE(forms); j++) {
            struct berth_ref again = BERTH_REF_INIT;
            if (berth_ref_parse(forms[j], &again, &err) < 0)
                fail_msg("`%s` (from `%s`): %s", forms[j], in, err.msg);
            expect_form("round trip", forms[j], berth_ref_string(&again), cases[i].string);
            berth_ref_release(&again);
            free(forms[j]);
        }
        berth_ref_release(&ref);
    }
}

static void
test_berth_ref_parse_bad(void **state)
{
    static const struct {
        const char *in, *msg;
    } cases[] = {
        {"", "invalid reference ``: reference is empty"},
        {"Foo", "invalid reference `Foo`: repository name must be lowercase"},
        {"busyBox:latest", "invalid reference `busyBox:latest`: repository name must be lowercase"},
        {"user/App", "invalid reference `user/App`: repository name must be lowercase"},
        {"quay.io/Coreos/etcd",
         "invalid reference `quay.io/Coreos/etcd`: repository name must be lowercase"},
        {HEX64, "invalid reference `" HEX64 "`: a 64-character hexadecimal string is an image id, "
                "not a repository name"},
        {":tag", "invalid reference `:tag`: repository name is empty"},
        {"@" SHA256, "invalid reference `@" SHA256 "`: repository name is empty"},
        {"/x", "invalid reference `/x`: repository name has an empty component"},
        {"a//b", "invalid reference `a//b`: repository name has an empty component"},
        {"a/b/", "invalid reference `a/b/`: repository name has an empty component"},
        {"localhost/", "invalid reference `localhost/`: repository name has an empty component"},
        {"-x", "invalid reference `-x`: repository name component `-x` must start and end with a "
               "lowercase letter or a digit"},
        {"x_", "invalid reference `x_`: repository name component `x_` must start and end with a "
               "lowercase letter or a digit"},
        {"a/.b", "invalid reference `a/.b`: repository name component `.b` must start and end "
                 "with a lowercase letter or a digit"},
        {"a..b", "invalid reference `a..b`: repository name component `a..b` has an invalid "
                 "separator `..` (one of `.`, `_`, `__` or dashes)"},
        {"a___b", "invalid reference `a___b`: repository name component `a___b` has an invalid "
                  "separator `___` (one of `.`, `_`, `__` or dashes)"},
        {"a.-b", "invalid reference `a.-b`: repository name component `a.-b` has an invalid "
                 "separator `.-` (one of `.`, `_`, `__` or dashes)"},
        {"a b", "invalid reference `a b`: repository name component `a b` has an invalid "
                "character ` `"},
        {"a$b:1", "invalid reference `a$b:1`: repository name component `a$b` has an invalid "
                  "character `$`"},
        {"x:", "invalid reference `x:`: tag is empty"},
        {"x:-a", "invalid reference `x:-a`: invalid tag `-a`: it must start with a letter, a "
                 "digit or `_`"},
        {"x:.a", "invalid reference `x:.a`: invalid tag `.a`: it must start with a letter, a "
                 "digit or `_`"},
        {"x:a+b", "invalid reference `x:a+b`: invalid tag `a+b`: `+` is not allowed (letters, "
                  "digits, `_`, `.` and `-` are)"},
        {"x:a:b", "invalid reference `x:a:b`: repository name component `x:a` has an invalid "
                  "character `:`"},
        {"x@", "invalid reference `x@`: digest is empty"},
        {"x@" HEX64,
         "invalid reference `x@" HEX64 "`: invalid digest `" HEX64 "`: expected ALGORITHM:HEX"},
        {"x@sha256:abc", "invalid reference `x@sha256:abc`: invalid digest `sha256:abc`: sha256 "
                         "takes 64 lowercase hex digits"},
        {"x@sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
         "invalid reference `x@sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20"
         "015AD`: invalid digest `sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61"
         "F20015AD`: sha256 takes 64 lowercase hex digits"},
        {"x@sha256:" HEX64 "0",
         "invalid reference `x@sha256:" HEX64 "0`: invalid digest `sha256:" HEX64
         "0`: sha256 takes 64 lowercase hex digits"},
        {"x@sha256:g" HEX64, "invalid reference `x@sha256:g" HEX64
                             "`: invalid digest `sha256:g" HEX64 "`: `g` is not a hex digit"},
        {"x@md5:d41d8cd98f00b204e9800998ecf8427e",
         "invalid reference `x@md5:d41d8cd98f00b204e9800998ecf8427e`: invalid digest "
         "`md5:d41d8cd98f00b204e9800998ecf8427e`: unsupported algorithm `md5`"},
        {"x@1sha:" HEX64, "invalid reference `x@1sha:" HEX64 "`: invalid digest `1sha:" HEX64
                          "`: bad algorithm `1sha`"},
        {"x@" SHA256 "@" SHA256,
         "invalid reference `x@" SHA256 "@" SHA256 "`: invalid digest `" SHA256 "@" SHA256
         "`: `@` is not a hex digit"},
        {"x:tag@", "invalid reference `x:tag@`: digest is empty"},
        {"exa_mple.com/x", "invalid reference `exa_mple.com/x`: invalid domain `exa_mple.com`: "
                           "each part of a host name is letters, digits and inner `-`"},
        /* a '.' makes the first component a host name, which has no '_' */
        {"a.b_c/x", "invalid reference `a.b_c/x`: invalid domain `a.b_c`: each part of a host "
                    "name is letters, digits and inner `-`"},
        {"-example.com/x", "invalid reference `-example.com/x`: invalid domain `-example.com`: "
                           "each part of a host name is letters, digits and inner `-`"},
        {"example..com/x", "invalid reference `example..com/x`: invalid domain `example..com`: "
                           "each part of a host name is letters, digits and inner `-`"},
        {"host:/x", "invalid reference `host:/x`: invalid domain `host:`: expected HOST[:PORT]"},
        {"host:80a/x",
         "invalid reference `host:80a/x`: invalid domain `host:80a`: the port is not a number"},
        {"[::1/x", "invalid reference `[::1/x`: invalid domain `[::1`: bad IPv6 address"},
        {"[]:5000/x", "invalid reference `[]:5000/x`: invalid domain `[]:5000`: bad IPv6 address"},
        {"[::g]/x", "invalid reference `[::g]/x`: invalid domain `[::g]`: bad IPv6 address"},
        {"[::1]x/y", "invalid reference `[::1]x/y`: invalid domain `[::1]x`: expected HOST[:PORT]"},
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct berth_ref ref = BERTH_REF_INIT;
        struct berth_err err = BERTH_ERR_INIT;

        if (berth_ref_parse(cases[i].in, &ref, &err) == 0)
            fail_msg("`%s` parsed", cases[i].in);
        if (strcmp(err.msg, cases[i].msg) != 0)
            fail_msg("`%s`:\n got `%s`\nwant `%s`", cases[i].in, err.msg, cases[i].msg);
        assert_int_equal(err.code, EINVAL);
        /* Bad input is printed as it is, without ": Invalid argument". */
        char *s = berth_err_string(&err);
        assert_string_equal(s, cases[i].msg);
        free(s);
        assert_null(ref.domain);
        assert_null(ref.path);
        assert_null(ref.tag);
        assert_null(ref.digest);
        berth_err_clear(&err);
    }
}

static void
test_berth_ref_parse_null(void **state)
{
    struct berth_ref ref = BERTH_REF_INIT;
    struct berth_err err = BERTH_ERR_INIT;

    assert_int_equal(berth_ref_parse(NULL, &ref, &err), -1);
    assert_string_equal(err.msg, "invalid reference ``: reference is empty");
    berth_err_clear(&err);
}

/* Lengths: a name of 255 bytes with its domain is fine, 256 is not; tags up to 128. */
static void
test_berth_ref_parse_limits(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    /* "docker.io/" is 10 bytes, "library/" 8. */
    char path[256];
    char tag[130];

    memset(path, 'a', sizeof(path));
    path[255 - 10 - 8] = '\0';
    {
        cleanup_ref struct berth_ref ref = BERTH_REF_INIT;
        assert_int_equal(berth_ref_parse(path, &ref, &err), 0);
        assert_int_equal(strlen(ref.domain) + 1 + strlen(ref.path), 255);
    }
    path[255 - 10 - 8] = 'a';
    path[256 - 10 - 8] = '\0';
    {
        cleanup_ref struct berth_ref ref = BERTH_REF_INIT;
        assert_int_equal(berth_ref_parse(path, &ref, &err), -1);
        assert_non_null(strstr(err.msg, ": repository name is longer than 255 characters"));
        berth_err_clear(&err);
    }

    memset(tag, 'b', sizeof(tag));
    tag[128] = '\0';
    assert_int_equal(berth_ref_check_tag(tag, &err), 0);
    cleanup_free char *in = xasprintf("x:%s", tag);
    {
        cleanup_ref struct berth_ref ref = BERTH_REF_INIT;
        assert_int_equal(berth_ref_parse(in, &ref, &err), 0);
        assert_string_equal(ref.tag, tag);
    }
    tag[128] = 'b';
    tag[129] = '\0';
    assert_int_equal(berth_ref_check_tag(tag, &err), -1);
    assert_int_equal(err.code, EINVAL);
    assert_non_null(strstr(err.msg, ": longer than 128 characters"));
    berth_err_clear(&err);
}

static void
test_berth_ref_check_digest_and_tag(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    static const char *const good_digests[] = {SHA256, "sha384:" HEX96, "sha512:" HEX128};
    static const char *const bad_digests[] = {
        NULL,
        "",
        "sha256",
        "sha256:",
        ":" HEX64,
        "sha256:" HEX96,
        "sha512:" HEX64,
        "sha-:" HEX64,
        "sha256:" HEX64 " ",
        "sha256+x:" HEX64,
    };

    for (size_t i = 0; i < ARRAY_SIZE(good_digests); i++)
        if (berth_ref_check_digest(good_digests[i], &err) < 0)
            fail_msg("`%s`: %s", good_digests[i], err.msg);
    for (size_t i = 0; i < ARRAY_SIZE(bad_digests); i++) {
        if (berth_ref_check_digest(bad_digests[i], &err) == 0)
            fail_msg("`%s` passed", bad_digests[i]);
        assert_int_equal(err.code, EINVAL);
        berth_err_clear(&err);
    }
    assert_int_equal(berth_ref_check_tag(NULL, &err), -1);
    assert_string_equal(err.msg, "tag is empty");
    berth_err_clear(&err);
    assert_int_equal(berth_ref_check_tag("9", &err), 0);
}

static void
test_berth_ref_release_twice(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct berth_ref ref = BERTH_REF_INIT;

    assert_int_equal(berth_ref_parse("x:1@" SHA256, &ref, &err), 0);
    berth_ref_release(&ref);
    berth_ref_release(&ref);
    berth_ref_release(NULL);
    assert_null(ref.path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_berth_ref_parse_good),
        cmocka_unit_test(test_berth_ref_parse_bad),
        cmocka_unit_test(test_berth_ref_parse_null),
        cmocka_unit_test(test_berth_ref_parse_limits),
        cmocka_unit_test(test_berth_ref_check_digest_and_tag),
        cmocka_unit_test(test_berth_ref_release_twice),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
