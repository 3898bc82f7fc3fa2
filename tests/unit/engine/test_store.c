/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for engine/store: a new engine.db gets the latest schema in WAL mode with
 * foreign keys on, opening it again changes nothing, one from a newer berthd is refused, and
 * the tables hold what the schema promises (unique names, cascades, references).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "engine/store/store.h"

static int
setup(void **state)
{
    char *dir = xstrdup("/tmp/berth-engstore.XXXXXX");
    assert_non_null(mkdtemp(dir));
    *state = dir;
    return 0;
}

static int
teardown(void **state)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    berth_fs_rm_rf(*state, &err);
    free(*state);
    return 0;
}

static sqlite3 *
raw_open(const char *dir)
{
    cleanup_free char *path = xasprintf("%s/engine.db", dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    return db;
}

static int
pragma_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void
test_eng_store_open_new(void **state)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct eng_store *s = NULL;
    assert_int_equal(eng_store_open(*state, &s, &err), 0);
    assert_int_equal(eng_store_version(s), eng_store_schema_latest());
    int64_t n = -1;
    assert_int_equal(eng_store_count_containers(s, &n, &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(eng_store_count_volumes(s, &n, &err), 0);
    assert_int_equal(n, 0);
    eng_store_close(s);

    sqlite3 *db = raw_open(*state);
    assert_int_equal(pragma_int(db, "PRAGMA user_version"), eng_store_schema_latest());
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void
test_eng_store_open_again(void **state)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct eng_store *s = NULL;
    assert_int_equal(eng_store_open(*state, &s, &err), 0);
    eng_store_close(s);
    sqlite3 *db = raw_open(*state);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO containers (id, name, image, config, host_config, "
                                  "created_at) VALUES ('c1', 'web', 'busybox', '{}', "
                                  "'{}', 1)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(eng_store_open(*state, &s, &err), 0);
    int64_t n = -1;
    assert_int_equal(eng_store_count_containers(s, &n, &err), 0);
    assert_int_equal(n, 1);
    eng_store_close(s);
}

static void
test_eng_store_open_newer(void **state)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    sqlite3 *db = raw_open(*state);
    cleanup_free char *sql = xasprintf("PRAGMA user_version = %d", eng_store_schema_latest() + 1);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    struct eng_store *s = NULL;
    assert_int_equal(eng_store_open(*state, &s, &err), -1);
    assert_int_equal(err.code, ENOTSUP);
    assert_non_null(strstr(err.msg, "is newer than this berthd's"));
    assert_null(s);
}

static void
test_eng_store_schema_constraints(void **state)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct eng_store *s = NULL;
    assert_int_equal(eng_store_open(*state, &s, &err), 0);
    eng_store_close(s);
    sqlite3 *db = raw_open(*state);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO containers (id, name, image, config, host_config, "
                                  "created_at) VALUES ('c1', 'web', 'i', '{}', '{}', "
                                  "1);"
                                  "INSERT INTO volumes (name, driver, labels, options, created_at) "
                                  "VALUES ('v1', 'local', '{}', '{}', 1);"
                                  "INSERT INTO container_volumes VALUES ('c1', 'v1', '/data');",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    /* Names are unique. */
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO containers (id, name, image, config, host_config, "
                                  "created_at) VALUES ('c2', 'web', 'i', '{}', '{}', "
                                  "1)",
                                  NULL, NULL, NULL),
                     SQLITE_CONSTRAINT);
    /* A volume in use stays. */
    assert_int_equal(sqlite3_exec(db, "DELETE FROM volumes WHERE name = 'v1'", NULL, NULL, NULL),
                     SQLITE_CONSTRAINT);
    /* A mount of no container cannot be. */
    assert_int_equal(sqlite3_exec(db, "INSERT INTO container_volumes VALUES ('nope', 'v1', '/x')",
                                  NULL, NULL, NULL),
                     SQLITE_CONSTRAINT);
    /* Removing the container removes its mounts, and frees the volume. */
    assert_int_equal(sqlite3_exec(db, "DELETE FROM containers WHERE id = 'c1'", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(pragma_int(db, "SELECT count(*) FROM container_volumes"), 0);
    assert_int_equal(sqlite3_exec(db, "DELETE FROM volumes WHERE name = 'v1'", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}

static int
count_rows(void *data, const struct eng_store_endpoint *e, struct berth_err *err)
{
    (void)e;
    (void)err;
    (*(int *)data)++;
    return 0;
}

static void
test_eng_store_networks(void **state)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct eng_store *s = NULL;
    assert_int_equal(eng_store_open(*state, &s, &err), 0);
    struct eng_store_network n = {.id = "n1", .name = "front", .doc = "{}", .created_ns = 1};
    assert_int_equal(eng_store_network_insert(s, &n, &err), 0);
    n.id = "n2";
    assert_int_equal(eng_store_network_insert(s, &n, &err), -1);
    assert_int_equal(err.code, EEXIST);
    berth_err_clear(&err);
    struct eng_store_container c = {.id = "c1",
                                    .name = "web",
                                    .image = "i",
                                    .config = "{}",
                                    .host_config = "{}",
                                    .state = "{}"};
    assert_int_equal(eng_store_container_insert(s, &c, &err), 0);
    struct eng_store_endpoint e = {.container = "c1", .network = "n1", .endpoint = "{}"};
    assert_int_equal(eng_store_endpoint_insert(s, &e, &err), 0);
    assert_int_equal(eng_store_endpoint_insert(s, &e, &err), -1);
    assert_int_equal(err.code, EEXIST);
    berth_err_clear(&err);
    e.network = "nope";
    assert_int_equal(eng_store_endpoint_insert(s, &e, &err), -1);
    assert_int_equal(err.code, ENOENT);
    berth_err_clear(&err);
    int rows = 0;
    assert_int_equal(eng_store_endpoint_each(s, NULL, "n1", count_rows, &rows, &err), 0);
    assert_int_equal(rows, 1);
    /* In use: stays; after the container goes (cascade), it can go. */
    assert_int_equal(eng_store_network_delete(s, "n1", &err), -1);
    assert_int_equal(err.code, EBUSY);
    berth_err_clear(&err);
    assert_int_equal(eng_store_container_delete(s, "c1", &err), 0);
    assert_int_equal(eng_store_network_delete(s, "n1", &err), 0);
    assert_int_equal(eng_store_network_delete(s, "n1", &err), -1);
    assert_int_equal(err.code, ENOENT);
    eng_store_close(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_eng_store_open_new, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_store_open_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_store_open_newer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_store_schema_constraints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_store_networks, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
