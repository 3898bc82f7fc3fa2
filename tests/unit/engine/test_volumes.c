/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for engine/volumes over a real engine.db and a real root in a temp directory:
 * names, create (existing names, drivers, options, labels, a failed insert rolled back),
 * acquire (named and anonymous), attach, remove (unknown, forced, in use), detach_all with
 * and without rm -v, release_unused, sizes with hard links, and the documents.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "engine/daemon.h"
#include "engine/store/store.h"
#include "engine/volumes/volumes.h"

struct fixture {
    char *root;
    struct eng_daemon d;
};

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof(*f));
    f->root = xstrdup("/tmp/berth-engvol.XXXXXX");
    assert_non_null(mkdtemp(f->root));
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(eng_store_open(f->root, &f->d.store, &err), 0);
    f->d.root = f->root;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    eng_store_close(f->d.store);
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    berth_fs_rm_rf(f->root, &err);
    free(f->root);
    free(f);
    return 0;
}

static bool
exists_in(const char *root, const char *name, const char *sub)
{
    cleanup_free char *p = xasprintf("%s/volumes/%s%s", root, name, sub);
    return berth_fs_exists(p);
}

static int64_t
n_volumes(struct fixture *f)
{
    int64_t n = -1;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(eng_store_count_volumes(f->d.store, &n, &err), 0);
    return n;
}

static void
add_container(struct fixture *f, const char *id)
{
    cleanup_free char *name = xasprintf("c-%s", id);
    struct eng_store_container c = {
        .id = id,
        .name = name,
        .image = "busybox",
        .config = "{}",
        .host_config = "{}",
        .state = "{}",
    };
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(eng_store_container_insert(f->d.store, &c, &err), 0);
}

static void
test_eng_volume_name_check(void **state)
{
    (void)state;
    static const char *const good[] = {"ab", "a.b_c-d", "A1", "0x", "data", "x..y"};
    static const char *const bad[] = {"", "a", "-a", "_a", ".a", "a/b", "a b", "a:b", "..", "é1"};
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        cleanup_err struct berth_err err = BERTH_ERR_INIT;
        if (eng_volume_name_check(good[i], &err) < 0)
            fail_msg("%s: %s", good[i], err.msg);
    }
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        cleanup_err struct berth_err err = BERTH_ERR_INIT;
        if (eng_volume_name_check(bad[i], &err) == 0)
            fail_msg("`%s` was taken", bad[i]);
        assert_int_equal(err.code, EINVAL);
        assert_non_null(strstr(err.msg, "includes invalid characters for a local volume name"));
    }
}

static void
test_eng_volume_create_and_existing(void **state)
{
    struct fixture *f = *state;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    cleanup_json struct json_object *labels = json_tokener_parse("{\"a\": \"1\"}");
    cleanup_json struct json_object *other = json_tokener_parse("{\"a\": \"2\"}");
    struct json_object *doc = NULL;
    bool existed = true;
    assert_int_equal(eng_volume_create(&f->d, "vol1", "local", labels, NULL, &existed, &doc, &err),
                     0);
    assert_false(existed);
    assert_true(exists_in(f->root, "vol1", "/_data"));
    struct json_object *v = NULL;
    assert_true(json_object_object_get_ex(doc, "Name", &v));
    assert_string_equal(json_object_get_string(v), "vol1");
    assert_true(json_object_object_get_ex(doc, "Mountpoint", &v));
    cleanup_free char *mp = xasprintf("%s/volumes/vol1/_data", f->root);
    assert_string_equal(json_object_get_string(v), mp);
    assert_true(json_object_object_get_ex(doc, "Labels", &v));
    assert_true(json_object_object_get_ex(v, "a", &v));
    assert_string_equal(json_object_get_string(v), "1");
    assert_false(json_object_object_get_ex(doc, "UsageData", &v));
    json_object_put(doc);

    /* Again: the existing one, labels unchanged. */
    assert_int_equal(eng_volume_create(&f->d, "vol1", NULL, other, NULL, &existed, &doc, &err), 0);
    assert_true(existed);
    assert_true(json_object_object_get_ex(doc, "Labels", &v));
    assert_true(json_object_object_get_ex(v, "a", &v));
    assert_string_equal(json_object_get_string(v), "1");
    json_object_put(doc);

    /* No name: 64 hex. */
    assert_int_equal(eng_volume_create(&f->d, "", NULL, NULL, NULL, NULL, &doc, &err), 0);
    assert_true(json_object_object_get_ex(doc, "Name", &v));
    assert_int_equal(strlen(json_object_get_string(v)), 64);
    assert_int_equal(strspn(json_object_get_string(v), "0123456789abcdef"), 64);
    json_object_put(doc);
    assert_int_equal(n_volumes(f), 2);
}

static void
test_eng_volume_create_refused(void **state)
{
    struct fixture *f = *state;
    struct {
        const char *name, *driver, *labels, *options;
        int code;
        const char *msg;
    } cases[] = {
        {"v2", "nfs", NULL, NULL, EINVAL, "plugin \"nfs\" not found"},
        {"v2", NULL, "{\"a\": 1}", NULL, EINVAL, "Labels: `a`: expected string"},
        {"v2", NULL, "[]", NULL, EINVAL, "Labels: expected an object"},
        {"v2", NULL, NULL, "{\"colour\": \"red\"}", EINVAL, "invalid option key: \"colour\""},
        {"v2", NULL, NULL, "{\"type\": \"tmpfs\"}", ENOTSUP, "does not mount"},
        {"v/2", NULL, NULL, NULL, EINVAL, "invalid characters"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        cleanup_err struct berth_err err = BERTH_ERR_INIT;
        cleanup_json struct json_object *l =
            cases[i].labels ? json_tokener_parse(cases[i].labels) : NULL;
        cleanup_json struct json_object *o =
            cases[i].options ? json_tokener_parse(cases[i].options) : NULL;
        assert_int_equal(
            eng_volume_create(&f->d, cases[i].name, cases[i].driver, l, o, NULL, NULL, &err), -1);
        assert_int_equal(err.code, cases[i].code);
        if (!strstr(err.msg, cases[i].msg))
            fail_msg("case %zu: `%s` lacks `%s`", i, err.msg, cases[i].msg);
    }
    assert_int_equal(n_volumes(f), 0);
    assert_false(exists_in(f->root, "v2", ""));
}

/* A row that cannot be written leaves no directory behind. */
static void
test_eng_volume_create_rolls_back(void **state)
{
    struct fixture *f = *state;
    cleanup_free char *path = xasprintf("%s/engine.db", f->root);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TRIGGER no_volumes BEFORE INSERT ON volumes "
                                  "BEGIN SELECT RAISE(ABORT, 'disk says no'); END;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(eng_volume_create(&f->d, "doomed", NULL, NULL, NULL, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "disk says no"));
    assert_false(exists_in(f->root, "doomed", ""));
    berth_err_clear(&err);
    cleanup_free char *made = NULL;
    assert_null(eng_volume_acquire(&f->d, "", &made, &err));
    assert_null(made);
    cleanup_free char *top = xasprintf("%s/volumes", f->root);
    cleanup_dir DIR *dir = opendir(top);
    assert_non_null(dir);
    struct dirent *de;
    while ((de = readdir(dir)))
        if (de->d_name[0] != '.')
            fail_msg("left behind: %s", de->d_name);
    sqlite3_exec(db, "DROP TRIGGER no_volumes", NULL, NULL, NULL);
    sqlite3_close(db);
}

static void
test_eng_volume_acquire(void **state)
{
    struct fixture *f = *state;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    char *made = (char *)"untouched";
    cleanup_free char *p1 = eng_volume_acquire(&f->d, "named", &made, &err);
    assert_non_null(p1);
    assert_null(made);
    cleanup_free char *want = xasprintf("%s/volumes/named/_data", f->root);
    assert_string_equal(p1, want);
    cleanup_free char *p2 = eng_volume_acquire(&f->d, "named", NULL, &err);
    assert_string_equal(p2, want);
    cleanup_free char *anon = NULL;
    cleanup_free char *p3 = eng_volume_acquire(&f->d, NULL, &anon, &err);
    assert_non_null(p3);
    assert_non_null(anon);
    assert_int_equal(strlen(anon), 64);
    assert_true(exists_in(f->root, anon, "/_data"));
    assert_int_equal(n_volumes(f), 2);
    assert_null(eng_volume_acquire(&f->d, "/etc", NULL, &err));
    assert_int_equal(err.code, EINVAL);
    berth_err_clear(&err);

    /* Acquired and not yet attached: neither rm nor rm -v of another container takes it. */
    assert_int_equal(eng_volume_remove(&f->d, "named", false, &err), -1);
    assert_int_equal(err.code, EBUSY);
    assert_string_equal(err.msg, "remove named: volume is in use by a container being created");
    berth_err_clear(&err);
    /* Acquired twice: held until both are released. */
    eng_volume_release_unused(&f->d, "named");
    assert_int_equal(eng_volume_remove(&f->d, "named", false, &err), -1);
    berth_err_clear(&err);
    eng_volume_release_unused(&f->d, "named");
    assert_int_equal(eng_volume_remove(&f->d, "named", false, &err), 0);
    assert_int_equal(eng_volume_remove(&f->d, anon, false, &err), -1);
    assert_int_equal(err.code, EBUSY);
    berth_err_clear(&err);
    eng_volume_release_unused(&f->d, anon);
    assert_false(exists_in(f->root, anon, ""));
    assert_int_equal(n_volumes(f), 0);
}

static void
test_eng_volume_remove_in_use(void **state)
{
    struct fixture *f = *state;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    static const char id1[] = "1111111111111111111111111111111111111111111111111111111111111111";
    static const char id2[] = "2222222222222222222222222222222222222222222222222222222222222222";
    add_container(f, id1);
    add_container(f, id2);
    free(eng_volume_acquire(&f->d, "shared", NULL, &err));
    assert_int_equal(eng_volume_attach(&f->d, id1, "shared", "/a", &err), 0);
    assert_int_equal(eng_volume_attach(&f->d, id2, "shared", "/b", &err), 0);
    assert_int_equal(eng_volume_attach(&f->d, id1, "nothere", "/c", &err), -1);
    assert_int_equal(err.code, ENOENT);
    berth_err_clear(&err);

    assert_int_equal(eng_volume_remove(&f->d, "shared", true, &err), -1);
    assert_int_equal(err.code, EBUSY);
    cleanup_free char *want = xasprintf("remove shared: volume is in use - [%s %s]", id1, id2);
    assert_string_equal(err.msg, want);
    berth_err_clear(&err);
    assert_true(exists_in(f->root, "shared", "/_data"));

    assert_int_equal(eng_volume_detach_all(&f->d, id1, true, &err), 0);
    assert_int_equal(eng_volume_remove(&f->d, "shared", false, &err), -1);
    assert_int_equal(err.code, EBUSY);
    berth_err_clear(&err);
    assert_int_equal(eng_volume_detach_all(&f->d, id2, true, &err), 0);
    /* Named: rm -v leaves it. */
    assert_true(exists_in(f->root, "shared", "/_data"));
    assert_int_equal(eng_volume_remove(&f->d, "shared", false, &err), 0);
    assert_false(exists_in(f->root, "shared", ""));
    assert_int_equal(n_volumes(f), 0);

    assert_int_equal(eng_volume_remove(&f->d, "shared", false, &err), -1);
    assert_int_equal(err.code, ENOENT);
    assert_string_equal(err.msg, "get shared: no such volume");
    berth_err_clear(&err);
    assert_int_equal(eng_volume_remove(&f->d, "shared", true, &err), 0);
}

static void
test_eng_volume_detach_all_anonymous(void **state)
{
    struct fixture *f = *state;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    static const char id1[] = "3333333333333333333333333333333333333333333333333333333333333333";
    static const char id2[] = "4444444444444444444444444444444444444444444444444444444444444444";
    add_container(f, id1);
    add_container(f, id2);
    cleanup_free char *a1 = NULL, *a2 = NULL, *a3 = NULL;
    free(eng_volume_acquire(&f->d, "", &a1, &err));
    free(eng_volume_acquire(&f->d, "", &a2, &err));
    free(eng_volume_acquire(&f->d, "", &a3, &err));
    assert_int_equal(eng_volume_attach(&f->d, id1, a1, "/x", &err), 0);
    assert_int_equal(eng_volume_attach(&f->d, id1, a2, "/y", &err), 0);
    assert_int_equal(eng_volume_attach(&f->d, id2, a2, "/y", &err), 0);
    assert_int_equal(eng_volume_attach(&f->d, id2, a3, "/z", &err), 0);

    /* rm -v of id1: a1 goes, a2 stays (id2 uses it). */
    assert_int_equal(eng_volume_detach_all(&f->d, id1, true, &err), 0);
    assert_false(exists_in(f->root, a1, ""));
    assert_true(exists_in(f->root, a2, "/_data"));
    /* rm of id2 without -v: both stay, unused. */
    assert_int_equal(eng_volume_detach_all(&f->d, id2, false, &err), 0);
    assert_true(exists_in(f->root, a2, "/_data"));
    assert_true(exists_in(f->root, a3, "/_data"));
    assert_int_equal(n_volumes(f), 2);

    /* release_unused takes an unused anonymous volume, never a named one. */
    eng_volume_release_unused(&f->d, a3);
    assert_false(exists_in(f->root, a3, ""));
    free(eng_volume_acquire(&f->d, "named", NULL, &err));
    eng_volume_release_unused(&f->d, "named");
    assert_true(exists_in(f->root, "named", "/_data"));
    eng_volume_release_unused(&f->d, "nothere");
    assert_int_equal(n_volumes(f), 2);
}

static void
write_file(const char *path, size_t n)
{
    cleanup_free char *buf = xzalloc(n + 1);
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(berth_fs_write_atomic(path, buf, n, 0644, &err), 0);
}

static void
test_eng_volume_size(void **state)
{
    struct fixture *f = *state;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *p = eng_volume_acquire(&f->d, "sized", NULL, &err);
    int64_t size = -1;
    assert_int_equal(eng_volume_size(&f->d, "sized", &size, &err), 0);
    assert_int_equal(size, 0);
    cleanup_free char *a = xasprintf("%s/a", p);
    cleanup_free char *sub = xasprintf("%s/sub", p);
    cleanup_free char *b = xasprintf("%s/sub/b", p);
    cleanup_free char *hard = xasprintf("%s/hard", p);
    cleanup_free char *sym = xasprintf("%s/sym", p);
    write_file(a, 1000);
    assert_int_equal(mkdir(sub, 0755), 0);
    write_file(b, 234);
    assert_int_equal(link(b, hard), 0);
    assert_int_equal(symlink("/etc/passwd", sym), 0);
    assert_int_equal(eng_volume_size(&f->d, "sized", &size, &err), 0);
    /* The hard link counts once; the symlink counts as its own length, not its target's. */
    assert_int_equal(size, 1000 + 234 + (int64_t)strlen("/etc/passwd"));
    assert_int_equal(eng_volume_size(&f->d, "nothere", &size, &err), -1);
    assert_int_equal(err.code, ENOENT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eng_volume_name_check),
        cmocka_unit_test_setup_teardown(test_eng_volume_create_and_existing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_volume_create_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_volume_create_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_volume_acquire, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_volume_remove_in_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_volume_detach_all_anonymous, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_volume_size, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
