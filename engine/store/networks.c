/* SPDX-License-Identifier: Apache-2.0
 *
 * The networks and container_networks tables (store.h). As for volumes, the foreign key from
 * container_networks to networks is what keeps a network in use from being removed.
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
eng_store_network_insert(struct eng_store *s, const struct eng_store_network *n,
                         struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *st = NULL;
    if (prepare(s, "INSERT INTO networks (id, name, doc, created_at) VALUES (?, ?, ?, ?)", &st,
                "insert network", n->name, err) < 0)
        return -1;
    bind_text(st, 1, n->id);
    bind_text(st, 2, n->name);
    bind_text(st, 3, n->doc);
    sqlite3_bind_int64(st, 4, n->created_ns);
    if (sqlite3_step(st) != SQLITE_DONE)
        return fail(s, "insert network", n->name, err);
    return 0;
}

int
eng_store_network_delete(struct eng_store *s, const char *id, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *st = NULL;
    if (prepare(s, "DELETE FROM networks WHERE id = ?", &st, "delete network", id, err) < 0)
        return -1;
    bind_text(st, 1, id);
    int changes = 0;
    if (eng_store_step_changes(s, st, &changes) != SQLITE_DONE)
        return fail(s, "delete network", id, err);
    if (changes == 0)
        return berth_err_fail(err, ENOENT, "delete network `%s`: no such network", id);
    return 0;
}

int
eng_store_network_each(struct eng_store *s,
                       int (*fn)(void *data, const struct eng_store_network *n,
                                 struct berth_err *err),
                       void *data, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *st = NULL;
    if (prepare(s, "SELECT id, name, doc, created_at FROM networks ORDER BY created_at, name", &st,
                "list networks", "", err) < 0)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct eng_store_network n = {.id = col(st, 0),
                                      .name = col(st, 1),
                                      .doc = col(st, 2),
                                      .created_ns = sqlite3_column_int64(st, 3)};
        if (fn(data, &n, err) < 0)
            return -1;
    }
    if (rc != SQLITE_DONE)
        return fail(s, "list networks", "", err);
    return 0;
}

int
eng_store_endpoint_insert(struct eng_store *s, const struct eng_store_endpoint *e,
                          struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *st = NULL;
    if (prepare(s, "INSERT INTO container_networks (container, network, endpoint) VALUES (?, ?, ?)",
                &st, "connect to network", e->network, err) < 0)
        return -1;
    bind_text(st, 1, e->container);
    bind_text(st, 2, e->network);
    bind_text(st, 3, e->endpoint ? e->endpoint : "{}");
    if (sqlite3_step(st) != SQLITE_DONE) {
        if (sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
            return berth_err_fail(err, ENOENT,
                                  "connect to network `%s`: no such network or "
                                  "container",
                                  e->network);
        return fail(s, "connect to network", e->network, err);
    }
    return 0;
}

int
eng_store_endpoint_delete(struct eng_store *s, const char *container, const char *network,
                          struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *st = NULL;
    if (prepare(s, "DELETE FROM container_networks WHERE container = ? AND network = ?", &st,
                "disconnect from network", network, err) < 0)
        return -1;
    bind_text(st, 1, container);
    bind_text(st, 2, network);
    int changes = 0;
    if (eng_store_step_changes(s, st, &changes) != SQLITE_DONE)
        return fail(s, "disconnect from network", network, err);
    if (changes == 0)
        return berth_err_fail(err, ENOENT, "container %.12s is not connected to network %.12s",
                              container, network);
    return 0;
}

int
eng_store_endpoint_each(struct eng_store *s, const char *container, const char *network,
                        int (*fn)(void *data, const struct eng_store_endpoint *e,
                                  struct berth_err *err),
                        void *data, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *st = NULL;
    if (prepare(s,
                container ? "SELECT container, network, endpoint FROM container_networks "
                            "WHERE container = ? ORDER BY rowid"
                          : "SELECT container, network, endpoint FROM container_networks "
                            "WHERE network = ? ORDER BY rowid",
                &st, "list endpoints", container ? container : network, err) < 0)
        return -1;
    bind_text(st, 1, container ? container : network);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct eng_store_endpoint e = {
            .container = col(st, 0), .network = col(st, 1), .endpoint = col(st, 2)};
        if (fn(data, &e, err) < 0)
            return -1;
    }
    if (rc != SQLITE_DONE)
        return fail(s, "list endpoints", container ? container : network, err);
    return 0;
}
