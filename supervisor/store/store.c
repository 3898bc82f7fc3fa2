/* SPDX-License-Identifier: Apache-2.0
 *
 * The store's connection (store.h): opening <root>/meta.db with the settings every other file
 * relies on, the mutex that serialises all use of the one connection, and the statement,
 * transaction and error functions of store-internal.h.
 *
 * Settings, and why:
 *   journal_mode=WAL    readers never block the writer; a crash leaves the last committed
 *                       transaction (the WAL is replayed on the next open);
 *   synchronous=FULL    a commit is on disk when it returns, so a container the supervisor
 *                       acknowledged survives a power cut, not only a kill -9;
 *   foreign_keys=ON     labels and extensions go with their owner (ON DELETE CASCADE), and
 *                       a namespace cannot vanish under its containers; off by default in
 *                       SQLite and per connection, so it is set on every open;
 *   busy_timeout=5000   another process holding the write lock (sqlite3 on the command line,
 *                       a backup) delays us rather than failing the call at once.
 */
#include "supervisor/store/store.h"
#include "supervisor/store/store-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "supervisor/store/schema.h"

#define BUSY_TIMEOUT_MS 5000

/* ---- Connection --------------------------------------------------------------------------- */

static int
exec_sql(sqlite3 *db, const char *path, const char *sql, struct berth_err *err)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    berth_err_set(err, EIO, "`%s`: %s: %s", path, sql, msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return -1;
}

/* WAL is refused by a few filesystems (no shared memory for the -shm file); SQLite then
 * keeps the old journal mode. The store still works, only with less concurrency, so this
 * warns instead of failing. */
static int
set_wal(sqlite3 *db, const char *path, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;

    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL) != SQLITE_OK ||
        sqlite3_step(stmt) != SQLITE_ROW)
        return berth_err_set(err, EIO, "`%s`: set WAL mode: %s", path, sqlite3_errmsg(db));

    const char *mode = (const char *)sqlite3_column_text(stmt, 0);
    if (mode == NULL || strcmp(mode, "wal") != 0)
        berth_warn("store: `%s`: journal mode is %s, not wal", path, mode ? mode : "unknown");
    return 0;
}

/* Settings, then migrations, then the namespace that always exists. */
static int
prepare_db(sqlite3 *db, const char *path, struct berth_err *err)
{
    cleanup_free char *ensure_default = NULL;
    int64_t now = sup_store_now_ns();

    if (sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS) != SQLITE_OK)
        return berth_err_set(err, EIO, "`%s`: busy timeout: %s", path, sqlite3_errmsg(db));
    if (exec_sql(db, path, "PRAGMA foreign_keys = ON", err) < 0 || set_wal(db, path, err) < 0 ||
        exec_sql(db, path, "PRAGMA synchronous = FULL", err) < 0)
        return -1;
    if (sup_store_schema_migrate(db, sup_store_schema_latest(), err) < 0)
        return berth_err_wrap(err, "`%s`", path);
    ensure_default = xasprintf("INSERT OR IGNORE INTO namespaces (name, created_at, updated_at) "
                               "VALUES ('default', %lld, %lld)",
                               (long long)now, (long long)now);
    return exec_sql(db, path, ensure_default, err);
}

int
sup_store_open(const char *root, struct sup_store **out, struct berth_err *err)
{
    cleanup_free char *path = NULL;
    sqlite3 *db = NULL;
    struct stat sb;

    if (stat(root, &sb) < 0)
        return berth_err_set(err, errno, "open store: `%s`", root);
    if (!S_ISDIR(sb.st_mode))
        return berth_err_set(err, ENOTDIR, "open store: `%s`", root);
    path = xasprintf("%s/meta.db", root);

    /* Create the file ourselves so that it is private (SQLite would honour the umask); the
     * -wal and -shm files copy its mode. */
    cleanup_close int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return berth_err_set(err, errno, "open store: `%s`", path);

    /* NOMUTEX: the store's own mutex already serialises every use of the connection. */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        berth_err_set(err, EIO, "open store: `%s`: %s", path,
                      db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return -1;
    }
    if (prepare_db(db, path, err) < 0) {
        sqlite3_close(db);
        return berth_err_wrap(err, "open store");
    }

    struct sup_store *st = xzalloc(sizeof(*st));
    st->db = db;
    st->path = steal_ptr(&path);
    pthread_mutex_init(&st->lock, NULL);
    *out = st;
    return 0;
}

void
sup_store_close(struct sup_store *st)
{
    if (st == NULL)
        return;
    /* Every statement is finalised by the function that prepared it, so close cannot be
     * refused for pending statements; it also checkpoints the WAL into the database file. */
    if (sqlite3_close(st->db) != SQLITE_OK)
        berth_warn("store: close `%s`: %s", st->path, sqlite3_errmsg(st->db));
    pthread_mutex_destroy(&st->lock);
    free(st->path);
    free(st);
}

int
sup_store_schema_version(struct sup_store *st)
{
    cleanup_store_unlock struct sup_store *locked = sup_store_lock(st);
    struct berth_err err = BERTH_ERR_INIT;
    int version;

    if (sup_store_schema_read(st->db, &version, &err) < 0) {
        berth_err_warn(&err);
        return -1;
    }
    return version;
}

int
sup_store_check_name(const char *kind, const char *name, struct berth_err *err)
{
    size_t len = name ? strlen(name) : 0;

    if (len == 0)
        return berth_err_fail(err, EINVAL, "%s name is empty", kind);
    if (len > 76)
        return berth_err_fail(err, EINVAL, "%s name `%s` is longer than 76 characters", kind, name);
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  (i > 0 && (c == '_' || c == '.' || c == '-'));
        if (!ok)
            return berth_err_fail(err, EINVAL,
                                  "%s name `%s` is not valid: it must match "
                                  "[A-Za-z0-9][A-Za-z0-9_.-]{0,75}",
                                  kind, name);
    }
    return 0;
}

/* ---- Locking ------------------------------------------------------------------------------ */

struct sup_store *
sup_store_lock(struct sup_store *st)
{
    pthread_mutex_lock(&st->lock);
    return st;
}

void
sup_store_unlockp(struct sup_store **st)
{
    if (*st)
        pthread_mutex_unlock(&(*st)->lock);
}

/* ---- Statements and errors ---------------------------------------------------------------- */

int
sup_store_prepare(struct sup_store *st, const char *sql, sqlite3_stmt **out, struct berth_err *err)
{
    *out = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, out, NULL) != SQLITE_OK)
        return sup_store_db_err(st, err, "prepare statement");
    return 0;
}

int
sup_store_db_err(struct sup_store *st, struct berth_err *err, const char *what)
{
    int ext = sqlite3_extended_errcode(st->db);
    int code = EIO;

    if (ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE)
        code = EEXIST;
    return berth_err_fail(err, code, "%s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
}

int
sup_store_bind_text(sqlite3_stmt *stmt, int i, const char *s)
{
    return sqlite3_bind_text(stmt, i, sup_store_str(s), -1, SQLITE_STATIC);
}

/* An empty value is bound as an empty blob rather than NULL, so that NOT NULL columns take
 * it; reading either back gives {0, NULL}. */
int
sup_store_bind_blob(sqlite3_stmt *stmt, int i, const void *data, size_t len)
{
    if (len == 0 || data == NULL)
        return sqlite3_bind_zeroblob(stmt, i, 0);
    return sqlite3_bind_blob64(stmt, i, data, len, SQLITE_STATIC);
}

char *
sup_store_column_text(sqlite3_stmt *stmt, int i)
{
    const unsigned char *s = sqlite3_column_text(stmt, i);

    return xstrdup(s ? (const char *)s : "");
}

ProtobufCBinaryData
sup_store_column_blob(sqlite3_stmt *stmt, int i)
{
    /* _blob before _bytes: the order SQLite documents for a stable pointer and length. */
    const void *data = sqlite3_column_blob(stmt, i);
    int len = sqlite3_column_bytes(stmt, i);
    ProtobufCBinaryData out = {0, NULL};

    if (data == NULL || len <= 0)
        return out;
    out.len = (size_t)len;
    out.data = xmalloc(out.len);
    memcpy(out.data, data, out.len);
    return out;
}

/* ---- Transactions ------------------------------------------------------------------------- */

int
sup_store_tx_begin(struct sup_store *st, struct store_tx *tx, bool write, struct berth_err *err)
{
    const char *sql = write ? "BEGIN IMMEDIATE" : "BEGIN";

    if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return sup_store_db_err(st, err, "begin transaction");
    tx->st = st;
    tx->open = true;
    return 0;
}

int
sup_store_tx_commit(struct store_tx *tx, struct berth_err *err)
{
    /* On failure the transaction stays open and the cleanup rolls it back. */
    if (sqlite3_exec(tx->st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        return sup_store_db_err(tx->st, err, "commit");
    tx->open = false;
    return 0;
}

void
sup_store_tx_end(struct store_tx *tx)
{
    if (!tx->open)
        return;
    tx->open = false;
    /* Some failures (I/O, disk full, out of memory) already rolled back on their own. */
    if (sqlite3_get_autocommit(tx->st->db))
        return;
    if (sqlite3_exec(tx->st->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
        berth_warn("store: `%s`: rollback: %s", tx->st->path, sqlite3_errmsg(tx->st->db));
}

int64_t
sup_store_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
