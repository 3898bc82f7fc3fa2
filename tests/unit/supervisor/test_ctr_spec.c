/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for supervisor/ctr/spec.c with an image config, as `berth-ctr run IMAGE` builds
 * a spec: Env merged (image over the default PATH, --env over the image), Entrypoint + Cmd
 * (CMD replacing Cmd), WorkingDir and User, what the command line overrides, and user names
 * looked up in a root filesystem directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "supervisor/ctr/spec.h"

static struct json_object *
parse(const char *s)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct json_object *o = berth_json_parse(s, strlen(s), &err);
    assert_non_null(o);
    return o;
}

/* spec.process.<key> as compact JSON (a heap string). */
static char *
process_field(struct json_object *spec, const char *key)
{
    struct json_object *p = NULL, *v = NULL;
    assert_true(json_object_object_get_ex(spec, "process", &p));
    if (!json_object_object_get_ex(p, key, &v))
        return xstrdup("absent");
    return xstrdup(
        json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void
assert_field(struct json_object *spec, const char *key, const char *want)
{
    cleanup_free char *have = process_field(spec, key);
    assert_string_equal(have, want);
}

static const char image[] = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{"
                            "\"Env\":[\"PATH=/opt/bin:/bin\",\"GREETING=hello\",\"BROKEN\"],"
                            "\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[\"echo $GREETING\"],"
                            "\"WorkingDir\":\"/srv\",\"User\":\"1000:100\"}}";

static void
test_ctr_spec_new_image_defaults(void **state)
{
    cleanup_json struct json_object *cfg = parse(image);
    struct ctr_spec_opts o = {.id = "c1", .image_config = cfg};
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_json struct json_object *spec = ctr_spec_new(&o, &err);
    assert_non_null(spec);
    assert_field(spec, "args", "[\"/bin/sh\",\"-c\",\"echo $GREETING\"]");
    /* The image's PATH replaces the default one; an entry without '=' is dropped. */
    assert_field(spec, "env", "[\"PATH=/opt/bin:/bin\",\"GREETING=hello\"]");
    assert_field(spec, "cwd", "\"/srv\"");
    assert_field(spec, "user", "{\"uid\":1000,\"gid\":100}");
}

static void
test_ctr_spec_new_image_overridden(void **state)
{
    cleanup_json struct json_object *cfg = parse(image);
    char *args[] = {"echo bye", NULL};
    char *env[] = {"GREETING=bye", "NEW=1", NULL};
    struct ctr_spec_opts o = {
        .id = "c1",
        .image_config = cfg,
        .process = {.args = args, .env = env, .cwd = "/tmp", .user = "7:8", .terminal = true},
    };
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_json struct json_object *spec = ctr_spec_new(&o, &err);
    assert_non_null(spec);
    /* CMD replaces Cmd, after the Entrypoint. */
    assert_field(spec, "args", "[\"/bin/sh\",\"-c\",\"echo bye\"]");
    assert_field(spec, "env", "[\"PATH=/opt/bin:/bin\",\"GREETING=bye\",\"NEW=1\",\"TERM=xterm\"]");
    assert_field(spec, "cwd", "\"/tmp\"");
    assert_field(spec, "user", "{\"uid\":7,\"gid\":8}");
    assert_string_equal(ctr_spec_user(&o), "7:8");
}

static void
test_ctr_spec_new_image_minimal(void **state)
{
    /* No Entrypoint, no WorkingDir, no User: Cmd alone, "/" and root. */
    cleanup_json struct json_object *cfg = parse("{\"config\":{\"Cmd\":[\"sh\"]}}");
    struct ctr_spec_opts o = {.id = "c1", .image_config = cfg};
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_json struct json_object *spec = ctr_spec_new(&o, &err);
    assert_non_null(spec);
    assert_field(spec, "args", "[\"sh\"]");
    assert_field(spec, "cwd", "\"/\"");
    assert_null(ctr_spec_user(&o));
    cleanup_free char *env = process_field(spec, "env");
    assert_non_null(strstr(env, "PATH=/usr/local/sbin"));
}

static void
test_ctr_spec_new_image_no_command(void **state)
{
    cleanup_json struct json_object *cfg = parse("{\"config\":{\"Env\":[\"A=1\"]}}");
    struct ctr_spec_opts o = {.id = "c1", .image_config = cfg};
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    assert_null(ctr_spec_new(&o, &err));
    assert_int_equal(err.code, EINVAL);
    assert_non_null(strstr(err.msg, "no Entrypoint or Cmd"));
}

static void
test_ctr_spec_new_image_user_name(void **state)
{
    char dir[] = "/tmp/test-ctr-spec.XXXXXX";
    assert_non_null(mkdtemp(dir));
    cleanup_free char *etc = xasprintf("%s/etc", dir);
    cleanup_free char *passwd = xasprintf("%s/etc/passwd", dir);
    cleanup_free char *group = xasprintf("%s/etc/group", dir);
    assert_int_equal(mkdir(etc, 0755), 0);
    FILE *f = fopen(passwd, "w");
    assert_non_null(f);
    fputs("root:x:0:0:root:/root:/bin/sh\nweb:x:33:44:web:/var/www:/bin/false\n", f);
    fclose(f);
    f = fopen(group, "w");
    assert_non_null(f);
    fputs("root:x:0:\nstaff:x:50:\n", f);
    fclose(f);

    cleanup_json struct json_object *cfg =
        parse("{\"config\":{\"Cmd\":[\"sh\"],\"User\":\"web\"}}");
    struct ctr_spec_opts o = {.id = "c1", .image_config = cfg, .users_root = dir};
    struct berth_err err = BERTH_ERR_INIT;
    assert_false(ctr_spec_user_is_numeric(ctr_spec_user(&o)));
    cleanup_json struct json_object *spec = ctr_spec_new(&o, &err);
    assert_non_null(spec);
    assert_field(spec, "user", "{\"uid\":33,\"gid\":44}");
    /* users_root is where names are looked up, not the root.path. */
    struct json_object *root = NULL, *path = NULL;
    assert_true(json_object_object_get_ex(spec, "root", &root));
    assert_true(json_object_object_get_ex(root, "path", &path));
    assert_string_not_equal(json_object_get_string(path), dir);

    o.process.user = "web:staff";
    cleanup_json struct json_object *spec2 = ctr_spec_new(&o, &err);
    assert_non_null(spec2);
    assert_field(spec2, "user", "{\"uid\":33,\"gid\":50}");

    o.process.user = "nobody";
    cleanup_err struct berth_err e2 = BERTH_ERR_INIT;
    assert_null(ctr_spec_new(&o, &e2));
    assert_int_equal(e2.code, ENOENT);

    struct berth_err ignored = BERTH_ERR_INIT;
    assert_int_equal(berth_fs_rm_rf(dir, &ignored), 0);
}

static void
test_ctr_spec_user_is_numeric(void **state)
{
    assert_true(ctr_spec_user_is_numeric("0"));
    assert_true(ctr_spec_user_is_numeric("1000:100"));
    assert_false(ctr_spec_user_is_numeric("web"));
    assert_false(ctr_spec_user_is_numeric("1000:staff"));
    assert_false(ctr_spec_user_is_numeric("web:100"));
    assert_false(ctr_spec_user_is_numeric("-1"));
    assert_false(ctr_spec_user_is_numeric(""));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctr_spec_new_image_defaults),
        cmocka_unit_test(test_ctr_spec_new_image_overridden),
        cmocka_unit_test(test_ctr_spec_new_image_minimal),
        cmocka_unit_test(test_ctr_spec_new_image_no_command),
        cmocka_unit_test(test_ctr_spec_new_image_user_name),
        cmocka_unit_test(test_ctr_spec_user_is_numeric),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
