/* SPDX-License-Identifier: Apache-2.0
 *
 * The schema of engine.db and its migrations (store.h).
 *
 *   containers (1)                       volumes (1)
 *   +------------------+---------+       +-----------------+---------+
 *   | id            PK | TEXT    |       | name         PK | TEXT    |
 *   | name      UNIQUE | TEXT    |       | driver          | TEXT    |
 *   | image            | TEXT    |       | labels          | JSON    |
 *   | config           | JSON    |       | options         | JSON    |
 *   | host_config      | JSON    |       | created_at      | unix ns |
 *   | created_at       | unix ns |       | anonymous   (2) | 0 / 1   |
 *   | state        (2) | JSON    |       +-----------------+---------+
 *   +------------------+---------+            ^
 *            ^                                 |
 *            |   container_volumes (1)         |
 *            +-- | container | volume | dest | -+  PK (container, dest); container ON DELETE
 *                                                  CASCADE, a volume in use cannot be removed
 *
 *   networks (3)                          container_networks (3)
 *   +------------------+---------+        +----------------+------+
 *   | id            PK | TEXT    | <----- | network        | TEXT |  PK (container, network);
 *   | name      UNIQUE | TEXT    |        | container      | TEXT |  container ON DELETE
 *   | doc              | JSON    |        | endpoint       | JSON |  CASCADE, a network in use
 *   | created_at       | unix ns |        +----------------+------+  cannot be removed
 *   +------------------+---------+
 *
 * A network's doc holds what it was made with (driver, IPAM config, internal, labels,
 * options, its bridge); an endpoint what a container asked for on it (aliases, a static
 * IPv4Address, a MAC). Addresses in use are not here: host-local keeps them under the root.
 *
 * id is docker's 64-hex container id, name its unique name without the leading '/'; config
 * and host_config are the docker documents as created. (N) is the migration that made the
 * table. The version is PRAGMA user_version, written in the migration's own transaction. A
 * migration is only ever appended: never edit one that has shipped.
 */
#include "engine/store/store.h"

#include <errno.h>
#include <sqlite3.h>

#include "common/cleanup.h"
#include "common/error.h"

static const char *const migrations[] = {
    /* 1 */
    "CREATE TABLE containers ("
    "  id TEXT NOT NULL PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  image TEXT NOT NULL,"
    "  config TEXT NOT NULL,"
    "  host_config TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE volumes ("
    "  name TEXT NOT NULL PRIMARY KEY,"
    "  driver TEXT NOT NULL,"
    "  labels TEXT NOT NULL,"
    "  options TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE container_volumes ("
    "  container TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,"
    "  volume TEXT NOT NULL REFERENCES volumes(name),"
    "  dest TEXT NOT NULL,"
    "  PRIMARY KEY (container, dest)"
    ") WITHOUT ROWID;",
    /* 2: a container's state (docker's State document: status, pid, exit code, times,
     * restart count, health), and whether a volume was made anonymously (rm -v takes those). */
    "ALTER TABLE containers ADD COLUMN state TEXT NOT NULL DEFAULT '{}';"
    "ALTER TABLE volumes ADD COLUMN anonymous INTEGER NOT NULL DEFAULT 0;",
    /* 3: networks, and the containers on each. */
    "CREATE TABLE networks ("
    "  id TEXT NOT NULL PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  doc TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE container_networks ("
    "  container TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,"
    "  network TEXT NOT NULL REFERENCES networks(id),"
    "  endpoint TEXT NOT NULL,"
    "  PRIMARY KEY (container, network)"
    ");", /* with a rowid: the order containers joined networks in (eth0, eth1...) */
};

int
eng_store_schema_latest(void)
{
    return (int)ARRAY_SIZE(migrations);
}

static int
read_version(sqlite3 *db, int *out, struct berth_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return berth_err_fail(err, EIO, "read the schema version: %s", sqlite3_errmsg(db));
    }
    *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

static int
apply(sqlite3 *db, int version, struct berth_err *err)
{
    cleanup_free char *sql = xasprintf("BEGIN IMMEDIATE;%s;PRAGMA user_version = %d;COMMIT;",
                                       migrations[version - 1], version);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        berth_err_fail(err, EIO, "migrate engine.db to schema version %d: %s", version,
                       msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

int
eng_store_schema_migrate(sqlite3 *db, struct berth_err *err)
{
    int v = 0;
    if (read_version(db, &v, err) < 0)
        return -1;
    int latest = eng_store_schema_latest();
    if (v > latest)
        return berth_err_fail(err, ENOTSUP, "schema version %d is newer than this berthd's %d", v,
                              latest);
    for (int next = v + 1; next <= latest; next++)
        if (apply(db, next, err) < 0)
            return -1;
    return 0;
}
