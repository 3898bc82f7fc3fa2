/* SPDX-License-Identifier: Apache-2.0
 *
 * The volumes and container_volumes tables (store.h): a volume's row (driver, labels,
 * options, when it was made, whether anonymously) and which containers mount it where. The
 * foreign key from container_volumes to volumes is what makes "a volume in use cannot be
 * removed" hold even against a caller that did not look first.
 */
#include <errno.h>
#include <sqlite3.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "engine/store/store-internal.h"
#include "engine/store/store.h"

static int
fail(struct eng_store *s, const char *what, const char *name, struct berth_err *err)
{
    int x = sqlite3_extended_errcode(s->db);
    int code = x == SQLITE_CONSTRAINT_PRIMARYKEY || x == SQLITE_CONSTRAINT_UNIQUE ? EEXIST
               : x == SQLITE_CONSTRAINT_FOREIGNKEY                                ? EBUSY
                                                                                  : EIO;
    return berth_err_fail(err, code, "%s `%s`: %s", what, name, sqlite3_errmsg(s->db));
}

static int
prepare(struct eng_store *s, const char *sql, sqlite3_stmt **st, const char *what, const char *name,
        struct berth_err *err)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return fail(s, what, name, err);
    return 0;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
    sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_STATIC);
}

static const char *
col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

int
eng_store_volume_insert(struct eng_store *s, const struct eng_store_volume *v,
                        struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *st = NULL;
    if (prepare(s,
                "INSERT INTO volumes (name, driver, labels, options, created_at, anonymous) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                &st, "insert volume", v->name, err) < 0)
        return -1;
    bind_text(st, 1, v->name);
    bind_text(st, 2, v->driver);
    bind_text(st, 3, v->labels ? v->labels : "{}");
    bind_text(st, 4, v->options ? v->options : "{}");
    sqlite3_bind_int64(st, 5, v->created_ns);
    sqlite3_bind_int(st, 6, v->anonymous);
    if (sqlite3_step(st) != SQLITE_DONE)
        return fail(s, "insert volume", v->name, err);
    return 0;
}

#define VOLUME_COLUMNS                                                                             \
    "name, driver, labels, options, created_at, anonymous, "                                       \
    "(SELECT count(*) FROM container_volumes WHERE volume = name)"

static void
row(sqlite3_stmt *st, struct eng_store_volume *v)
{
    *v = (struct eng_store_volume){
        .name = col(st, 0),
        .driver = col(st, 1),
        .labels = col(st, 2),
        .options = col(st, 3),
        .created_ns = sqlite3_column_int64(st, 4),
        .anonymous = sqlite3_column_int(st, 5) != 0,
        .n_users = sqlite3_column_int64(st, 6),
    };
}

int
eng_store_volume_get(struct eng_store *s, const char *name,
                     int (*fn)(void *data, const struct eng_store_volume *v, struct berth_err *err),
                     void *data, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *st = NULL;
    if (prepare(s, "SELECT " VOLUME_COLUMNS " FROM volumes WHERE name = ?", &st, "read volume",
                name, err) < 0)
        return -1;
    bind_text(st, 1, name);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return berth_err_fail(err, ENOENT, "get %s: no such volume", name);
    if (rc != SQLITE_ROW)
        return fail(s, "read volume", name, err);
    struct eng_store_volume v;
    row(st, &v);
    return fn(data, &v, err);
}

int
eng_store_volume_each(struct eng_store *s,
                      int (*fn)(void *data, const struct eng_store_volume *v,
                                struct berth_err *err),
                      void *data, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *st = NULL;
    if (prepare(s, "SELECT " VOLUME_COLUMNS " FROM volumes ORDER BY created_at, name", &st, "list",
                "volumes", err) < 0)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct eng_store_volume v;
        row(st, &v);
        if (fn(data, &v, err) < 0)
            return -1;
    }
    if (rc != SQLITE_DONE)
        return fail(s, "list", "volumes", err);
    return 0;
}

int
eng_store_volume_delete(struct eng_store *s, const char *name, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *st = NULL;
    if (prepare(s, "DELETE FROM volumes WHERE name = ?", &st, "delete volume", name, err) < 0)
        return -1;
    bind_text(st, 1, name);
    int changes = 0;
    if (eng_store_step_changes(s, st, &changes) != SQLITE_DONE)
        return fail(s, "delete volume", name, err);
    if (changes == 0)
        return berth_err_fail(err, ENOENT, "get %s: no such volume", name);
    return 0;
}

int
eng_store_volume_attach(struct eng_store *s, const char *container, const char *name,
                        const char *dest, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *st = NULL;
    if (prepare(s, "INSERT INTO container_volumes (container, volume, dest) VALUES (?, ?, ?)", &st,
                "attach volume", name, err) < 0)
        return -1;
    bind_text(st, 1, container);
    bind_text(st, 2, name);
    bind_text(st, 3, dest);
    if (sqlite3_step(st) != SQLITE_DONE) {
        /* A foreign key here means the container or the volume row is missing. */
        int x = sqlite3_extended_errcode(s->db);
        if (x == SQLITE_CONSTRAINT_FOREIGNKEY)
            return berth_err_fail(err, ENOENT,
                                  "attach volume `%s` to container %s: no such volume or "
                                  "container",
                                  name, container);
        return fail(s, "attach volume", name, err);
    }
    return 0;
}

int
eng_store_volume_detach_all(struct eng_store *s, const char *container, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *st = NULL;
    if (prepare(s, "DELETE FROM container_volumes WHERE container = ?", &st, "detach volumes of",
                container, err) < 0)
        return -1;
    bind_text(st, 1, container);
    if (sqlite3_step(st) != SQLITE_DONE)
        return fail(s, "detach volumes of", container, err);
    return 0;
}

static char **
strings(struct eng_store *s, const char *sql, const char *arg, const char *what,
        struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *st = NULL;
    if (prepare(s, sql, &st, what, arg, err) < 0)
        return NULL;
    bind_text(st, 1, arg);
    size_t n = 0;
    cleanup_strv char **v = xzalloc(sizeof(*v));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        v = xrealloc(v, (n + 2) * sizeof(*v));
        v[n++] = xstrdup(col(st, 0));
        v[n] = NULL;
    }
    if (rc != SQLITE_DONE) {
        fail(s, what, arg, err);
        return NULL;
    }
    return steal_ptr(&v);
}

char **
eng_store_volume_users(struct eng_store *s, const char *name, struct berth_err *err)
{
    return strings(s,
                   "SELECT DISTINCT container FROM container_volumes WHERE volume = ? "
                   "ORDER BY container",
                   name, "containers using volume", err);
}

char **
eng_store_container_volumes(struct eng_store *s, const char *container, struct berth_err *err)
{
    return strings(s,
                   "SELECT DISTINCT volume FROM container_volumes WHERE container = ? "
                   "ORDER BY volume",
                   container, "volumes of container", err);
}
