/* SPDX-License-Identifier: Apache-2.0
 *
 * The schema of meta.db, its version and the ordered migrations that build it (schema.h).
 *
 *   namespaces (1)                    namespace_labels (1)
 *   +-----------------+---------+     +-----------+-----+-------+
 *   | name         PK | TEXT    |<-+--| namespace | key | value |  PK (namespace, key),
 *   | created_at      | unix ns |  |  +-----------+-----+-------+  ON DELETE CASCADE
 *   | updated_at      | unix ns |  |
 *   +-----------------+---------+  |  from containers, no cascade: a namespace that still
 *                                  |  holds containers cannot be deleted
 *   containers (2)                 |
 *   +-----------------+---------+  |
 *   | namespace    PK | TEXT    |--+
 *   | id           PK | TEXT    |<---------------+--------------------------+
 *   | image           | TEXT    |                |                          |
 *   | runtime_name    | TEXT    |    container_labels (2)      container_extensions (2)
 *   | runtime_options | BLOB    |    +-----------+---------+   +-----------+---------+
 *   | spec            | BLOB    |    | namespace | TEXT    |   | namespace | TEXT    |
 *   | rootfs          | TEXT    |    | container | TEXT    |   | container | TEXT    |
 *   | snapshotter     | TEXT    |    | key       | TEXT    |   | key       | TEXT    |
 *   | snapshot_key    | TEXT    |    | value     | TEXT    |   | value     | BLOB    |
 *   | created_at      | unix ns |    +-----------+---------+   +-----------+---------+
 *   | updated_at      | unix ns |
 *   +-----------------+---------+    PK (namespace, container, key) in both; (namespace,
 *                                    container) references containers ON DELETE CASCADE
 *
 *   content (3)                       content_labels (3)
 *   +-----------------+---------+     +--------+-----+-------+
 *   | digest       PK | TEXT    |<----| digest | key | value |  PK (digest, key),
 *   | size            | bytes   |     +--------+-----+-------+  ON DELETE CASCADE
 *   | created_at      | unix ns |
 *   | updated_at      | unix ns |     shared by every namespace: one row per committed blob
 *   +-----------------+---------+     of the content store (supervisor/content)
 *
 *   images (4)                        image_labels (4)
 *   +-----------------+---------+     +-----------+------+
 *   | namespace    PK | TEXT    |<----| namespace | TEXT |  PK (namespace, image, key);
 *   | name         PK | TEXT    |<----| image     | TEXT |  (namespace, image) references
 *   | media_type      | TEXT    |     | key       | TEXT |  images ON DELETE CASCADE
 *   | digest          | TEXT    |     | value     | TEXT |
 *   | size            | bytes   |     +-----------+------+
 *   | created_at      | unix ns |
 *   | updated_at      | unix ns |     the target (media_type, digest, size) is a manifest or
 *   +-----------------+---------+     an index of the content store; namespace references
 *                                     namespaces ON DELETE CASCADE
 *
 * (N) is the migration that made the table. runtime_name is NULL for a container with no
 * Runtime message, runtime_options (a packed RuntimeOptions) NULL for a Runtime without
 * options. spec is the OCI config.json as given (an empty blob when there is none).
 *
 * The version is PRAGMA user_version, which SQLite keeps in the file header and writes in the
 * same transaction as the migration, so version and tables never disagree. A migration is
 * only ever appended: version N is migrations[N - 1], applied to a database at N - 1. Never
 * edit one that has shipped; add the next instead.
 */
#include "supervisor/store/schema.h"

#include <errno.h>
#include <sqlite3.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "supervisor/store/store-internal.h"

struct migration {
    const char *what; /* for error messages */
    const char *sql;
};

static const struct migration migrations[] = {
    /* 1 */
    {
        "namespaces",
        "CREATE TABLE namespaces ("
        "  name TEXT NOT NULL PRIMARY KEY,"
        "  created_at INTEGER NOT NULL,"
        "  updated_at INTEGER NOT NULL"
        ") WITHOUT ROWID;"
        "CREATE TABLE namespace_labels ("
        "  namespace TEXT NOT NULL REFERENCES namespaces (name) ON DELETE CASCADE,"
        "  key TEXT NOT NULL,"
        "  value TEXT NOT NULL,"
        "  PRIMARY KEY (namespace, key)"
        ") WITHOUT ROWID;",
    },
    /* 2: containers keep a rowid: their spec makes rows large, which WITHOUT ROWID tables
     * handle badly (sqlite.org/withoutrowid.html, section 4). */
    {
        "containers",
        "CREATE TABLE containers ("
        "  namespace TEXT NOT NULL REFERENCES namespaces (name),"
        "  id TEXT NOT NULL,"
        "  image TEXT NOT NULL,"
        "  runtime_name TEXT,"
        "  runtime_options BLOB,"
        "  spec BLOB,"
        "  rootfs TEXT NOT NULL,"
        "  snapshotter TEXT NOT NULL,"
        "  snapshot_key TEXT NOT NULL,"
        "  created_at INTEGER NOT NULL,"
        "  updated_at INTEGER NOT NULL,"
        "  PRIMARY KEY (namespace, id)"
        ");"
        "CREATE TABLE container_labels ("
        "  namespace TEXT NOT NULL,"
        "  container TEXT NOT NULL,"
        "  key TEXT NOT NULL,"
        "  value TEXT NOT NULL,"
        "  PRIMARY KEY (namespace, container, key),"
        "  FOREIGN KEY (namespace, container) REFERENCES containers (namespace, id)"
        "    ON DELETE CASCADE"
        ") WITHOUT ROWID;"
        "CREATE TABLE container_extensions ("
        "  namespace TEXT NOT NULL,"
        "  container TEXT NOT NULL,"
        "  key TEXT NOT NULL,"
        "  value BLOB NOT NULL,"
        "  PRIMARY KEY (namespace, container, key),"
        "  FOREIGN KEY (namespace, container) REFERENCES containers (namespace, id)"
        "    ON DELETE CASCADE"
        ") WITHOUT ROWID;",
    },
    /* 3 */
    {
        "content",
        "CREATE TABLE content ("
        "  digest TEXT NOT NULL PRIMARY KEY,"
        "  size INTEGER NOT NULL,"
        "  created_at INTEGER NOT NULL,"
        "  updated_at INTEGER NOT NULL"
        ") WITHOUT ROWID;"
        "CREATE TABLE content_labels ("
        "  digest TEXT NOT NULL REFERENCES content (digest) ON DELETE CASCADE,"
        "  key TEXT NOT NULL,"
        "  value TEXT NOT NULL,"
        "  PRIMARY KEY (digest, key)"
        ") WITHOUT ROWID;",
    },
    /* 4: images go with their namespace (a namespace holds no image the API could not list
     * again once the namespace is recreated). */
    {
        "images",
        "CREATE TABLE images ("
        "  namespace TEXT NOT NULL REFERENCES namespaces (name) ON DELETE CASCADE,"
        "  name TEXT NOT NULL,"
        "  media_type TEXT NOT NULL,"
        "  digest TEXT NOT NULL,"
        "  size INTEGER NOT NULL,"
        "  created_at INTEGER NOT NULL,"
        "  updated_at INTEGER NOT NULL,"
        "  PRIMARY KEY (namespace, name)"
        ") WITHOUT ROWID;"
        "CREATE TABLE image_labels ("
        "  namespace TEXT NOT NULL,"
        "  image TEXT NOT NULL,"
        "  key TEXT NOT NULL,"
        "  value TEXT NOT NULL,"
        "  PRIMARY KEY (namespace, image, key),"
        "  FOREIGN KEY (namespace, image) REFERENCES images (namespace, name) ON DELETE CASCADE"
        ") WITHOUT ROWID;",
    },
};

int
sup_store_schema_latest(void)
{
    return (int)ARRAY_SIZE(migrations);
}

int
sup_store_schema_read(struct sqlite3 *db, int *out, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;

    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK ||
        sqlite3_step(stmt) != SQLITE_ROW)
        return berth_err_set(err, EIO, "read schema version: %s", sqlite3_errmsg(db));
    *out = sqlite3_column_int(stmt, 0);
    return 0;
}

/* Apply migrations[version - 1] and record `version`, all or nothing. */
static int
apply(struct sqlite3 *db, int version, struct berth_err *err)
{
    const struct migration *m = &migrations[version - 1];
    cleanup_free char *bump = xasprintf("PRAGMA user_version = %d", version);
    char *msg = NULL;

    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    if (sqlite3_exec(db, m->sql, NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    if (sqlite3_exec(db, bump, NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    return 0;

fail:
    berth_err_set(err, EIO, "migrate schema to version %d (%s): %s", version, m->what,
                  msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

int
sup_store_schema_migrate(struct sqlite3 *db, int target, struct berth_err *err)
{
    int version;

    if (target < 1 || target > sup_store_schema_latest())
        return berth_err_fail(err, EINVAL, "no schema version %d (this supervisor has 1 to %d)",
                              target, sup_store_schema_latest());
    if (sup_store_schema_read(db, &version, err) < 0)
        return -1;
    if (version < 0)
        return berth_err_fail(err, EINVAL, "schema version %d is not valid", version);
    if (version > sup_store_schema_latest())
        return berth_err_fail(err, ENOTSUP, "schema version %d is newer than this supervisor's %d",
                              version, sup_store_schema_latest());
    for (int v = version + 1; v <= target; v++)
        if (apply(db, v, err) < 0)
            return -1;
    return 0;
}
