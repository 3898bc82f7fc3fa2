/* SPDX-License-Identifier: Apache-2.0
 *
 * engine.db: opening, settings, and the queries later endpoints share (store.h).
 */
#include "engine/store/store.h"
#include "engine/store/store-internal.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>

#include "common/cleanup.h"
#include "common/error.h"

int
eng_store_open(const char *root, struct eng_store **out, struct berth_err *err)
{
    cleanup_free char *path = xasprintf("%s/engine.db", root);
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(
        path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
    if (rc != SQLITE_OK) {
        berth_err_fail(err, EIO, "open `%s`: %s", path, db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    if (sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;", NULL, NULL,
                     &msg) != SQLITE_OK) {
        berth_err_fail(err, EIO, "set up `%s`: %s", path, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        sqlite3_close(db);
        return -1;
    }
    if (eng_store_schema_migrate(db, err) < 0) {
        sqlite3_close(db);
        return berth_err_wrap(err, "`%s`", path);
    }
    struct eng_store *s = xzalloc(sizeof(*s));
    s->db = db;
    s->version = eng_store_schema_latest();
    *out = s;
    return 0;
}

void
eng_store_close(struct eng_store *s)
{
    if (!s)
        return;
    sqlite3_close(s->db);
    free(s);
}

int
eng_store_version(struct eng_store *s)
{
    return s->version;
}

static int
count(struct eng_store *s, const char *sql, int64_t *out, struct berth_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        berth_err_fail(err, EIO, "%s: %s", sql, sqlite3_errmsg(s->db));
        sqlite3_finalize(st);
        return -1;
    }
    *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return 0;
}

int
eng_store_count_containers(struct eng_store *s, int64_t *out, struct berth_err *err)
{
    return count(s, "SELECT count(*) FROM containers", out, err);
}

int
eng_store_count_volumes(struct eng_store *s, int64_t *out, struct berth_err *err)
{
    return count(s, "SELECT count(*) FROM volumes", out, err);
}
