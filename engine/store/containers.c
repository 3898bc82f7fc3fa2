/* SPDX-License-Identifier: Apache-2.0
 *
 * The containers table (store.h): one row a container, written at create, its state
 * document rewritten on every change of state, its name on rename. Each call is one
 * statement, so one implicit transaction.
 */
#include <errno.h>
#include <sqlite3.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "engine/store/store-internal.h"
#include "engine/store/store.h"

static int
fail(struct eng_store *s, const char *what, struct berth_err *err)
{
    int code = sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_PRIMARYKEY ||
                       sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE
                   ? EEXIST
                   : EIO;
    return berth_err_fail(err, code, "%s: %s", what, sqlite3_errmsg(s->db));
}

static int
run(struct eng_store *s, sqlite3_stmt *st, const char *what, struct berth_err *err)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        return fail(s, what, err);
    return 0;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
    sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_STATIC);
}

int
eng_store_container_insert(struct eng_store *s, const struct eng_store_container *c,
                           struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO containers (id, name, image, config, host_config, "
                           "created_at, state) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s, "insert container", err);
    bind_text(st, 1, c->id);
    bind_text(st, 2, c->name);
    bind_text(st, 3, c->image);
    bind_text(st, 4, c->config);
    bind_text(st, 5, c->host_config);
    sqlite3_bind_int64(st, 6, c->created_ns);
    bind_text(st, 7, c->state);
    return run(s, st, "insert container", err);
}

static int
update(struct eng_store *s, const char *sql, const char *id, const char *value, const char *what,
       struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(s, what, err);
    if (value)
        bind_text(st, 1, value);
    bind_text(st, value ? 2 : 1, id);
    int changes = 0;
    if (eng_store_step_changes(s, st, &changes) != SQLITE_DONE)
        return fail(s, what, err);
    if (changes == 0)
        return berth_err_fail(err, ENOENT, "%s: no container %s", what, id);
    return 0;
}

int
eng_store_container_set_state(struct eng_store *s, const char *id, const char *state,
                              struct berth_err *err)
{
    return update(s, "UPDATE containers SET state = ? WHERE id = ?", id, state,
                  "save container state", err);
}

int
eng_store_container_set_host_config(struct eng_store *s, const char *id, const char *host_config,
                                    struct berth_err *err)
{
    return update(s, "UPDATE containers SET host_config = ? WHERE id = ?", id, host_config,
                  "save container host config", err);
}

int
eng_store_container_rename(struct eng_store *s, const char *id, const char *name,
                           struct berth_err *err)
{
    return update(s, "UPDATE containers SET name = ? WHERE id = ?", id, name, "rename container",
                  err);
}

int
eng_store_container_delete(struct eng_store *s, const char *id, struct berth_err *err)
{
    return update(s, "DELETE FROM containers WHERE id = ?", id, NULL, "delete container", err);
}

int
eng_store_container_each(struct eng_store *s,
                         int (*fn)(void *data, const struct eng_store_container *c,
                                   struct berth_err *err),
                         void *data, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, name, image, config, host_config, created_at, state "
                           "FROM containers ORDER BY created_at",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s, "list containers", err);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct eng_store_container c = {
            .id = (const char *)sqlite3_column_text(st, 0),
            .name = (const char *)sqlite3_column_text(st, 1),
            .image = (const char *)sqlite3_column_text(st, 2),
            .config = (const char *)sqlite3_column_text(st, 3),
            .host_config = (const char *)sqlite3_column_text(st, 4),
            .created_ns = sqlite3_column_int64(st, 5),
            .state = (const char *)sqlite3_column_text(st, 6),
        };
        if (fn(data, &c, err) < 0)
            return -1;
    }
    if (rc != SQLITE_DONE)
        return fail(s, "list containers", err);
    return 0;
}
