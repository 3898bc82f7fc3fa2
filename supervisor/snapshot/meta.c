/* SPDX-License-Identifier: Apache-2.0
 *
 * The snapshotter's metadata (snapshot-internal.h): dir/metadata.db, a SQLite file of its own
 * (as containerd's overlay snapshotter keeps its own bolt file, apart from the supervisor's
 * meta.db), with the statements overlay.c builds on, and the public functions that touch only
 * metadata: stat, update (labels) and walk.
 *
 *   snapshots (1)                                  snapshot_labels (1)
 *   +---------------+---------------------------+  +-------------+------+-------+
 *   | id         PK | INTEGER AUTOINCREMENT     |<-| snapshot    | key  | value |
 *   | name       UQ | TEXT (the key)            |  +-------------+------+-------+
 *   | kind          | 1 view, 2 active, 3 comm. |  PK (snapshot, key), ON DELETE CASCADE
 *   | parent        | id, NULL for none --------+--> snapshots (id), no cascade: a parent
 *   | size, inodes  | usage at commit, else -1  |    cannot go while children remain
 *   | created_at    | unix ns                   |
 *   | updated_at    | unix ns                   |
 *   +---------------+---------------------------+
 *
 * AUTOINCREMENT: an id is never handed out twice, even after the row is gone, so a directory
 * named after a removed snapshot can never be taken for a new one's. The schema version is
 * PRAGMA user_version; migration N takes version N-1 to N in one transaction. Migrations are
 * only ever appended.
 *
 * Settings as in the supervisor's store (store/store.c): WAL, synchronous=FULL, foreign keys,
 * a busy timeout, one connection behind the snapshotter's mutex (SQLITE_OPEN_NOMUTEX).
 */
#include "supervisor/snapshot/snapshot-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"

typedef Berth__Supervisor__V1__SnapshotInfo Info;
typedef Berth__Supervisor__V1__SnapshotInfo__LabelsEntry Label;

#define BUSY_TIMEOUT_MS 10000
#define LABEL_MAX       4096

static const char *const migrations[] = {
    /* 1 */
    "CREATE TABLE snapshots ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL UNIQUE,"
    "  kind INTEGER NOT NULL,"
    "  parent INTEGER REFERENCES snapshots (id),"
    "  size INTEGER NOT NULL DEFAULT -1,"
    "  inodes INTEGER NOT NULL DEFAULT -1,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX snapshots_by_parent ON snapshots (parent);"
    "CREATE TABLE snapshot_labels ("
    "  snapshot INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (snapshot, key)"
    ") WITHOUT ROWID;",
};

static void
finalizep(sqlite3_stmt **stmt)
{
    if (*stmt)
        sqlite3_finalize(*stmt);
}
#define cleanup_stmt __attribute__((cleanup(finalizep)))

static void
info_freep(Info **info)
{
    if (*info)
        protobuf_c_message_free_unpacked(&(*info)->base, NULL);
}
#define cleanup_info __attribute__((cleanup(info_freep)))

static int64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* EEXIST for a unique constraint, EIO for anything else; "what: SQLite's message". */
static int
db_err(struct sup_snapshotter *s, struct berth_err *err, const char *what)
{
    int ext = sqlite3_extended_errcode(s->db);
    int code =
        ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY ? EEXIST : EIO;

    return berth_err_fail(err, code, "%s: %s: %s", s->db_path, what, sqlite3_errmsg(s->db));
}

static int
prepare(struct sup_snapshotter *s, const char *sql, sqlite3_stmt **out, struct berth_err *err)
{
    *out = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, out, NULL) != SQLITE_OK)
        return db_err(s, err, "prepare statement");
    return 0;
}

static int
bind_text(sqlite3_stmt *stmt, int i, const char *v)
{
    return sqlite3_bind_text(stmt, i, v ? v : "", -1, SQLITE_STATIC);
}

static char *
column_text(sqlite3_stmt *stmt, int i)
{
    const unsigned char *v = sqlite3_column_text(stmt, i);

    return xstrdup(v ? (const char *)v : "");
}

/* ---- Locking and transactions ------------------------------------------------------------- */

struct sup_snapshotter *
sup_snap_lock(struct sup_snapshotter *s)
{
    pthread_mutex_lock(&s->lock);
    return s;
}

void
sup_snap_unlockp(struct sup_snapshotter **s)
{
    if (*s)
        pthread_mutex_unlock(&(*s)->lock);
}

int
sup_snap_tx_begin(struct sup_snapshotter *s, struct snap_tx *tx, bool write, struct berth_err *err)
{
    /* IMMEDIATE: take the write lock before the first read, so no statement of a writing
     * transaction can fail with SQLITE_BUSY halfway. */
    if (sqlite3_exec(s->db, write ? "BEGIN IMMEDIATE" : "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return db_err(s, err, "begin transaction");
    tx->s = s;
    tx->open = true;
    return 0;
}

int
sup_snap_tx_commit(struct snap_tx *tx, struct berth_err *err)
{
    if (sqlite3_exec(tx->s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        return db_err(tx->s, err, "commit");
    tx->open = false;
    return 0;
}

void
sup_snap_tx_end(struct snap_tx *tx)
{
    if (!tx->open)
        return;
    tx->open = false;
    if (sqlite3_get_autocommit(tx->s->db)) /* SQLite rolled back on its own already */
        return;
    if (sqlite3_exec(tx->s->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
        berth_warn("snapshot: `%s`: rollback: %s", tx->s->db_path, sqlite3_errmsg(tx->s->db));
}

/* ---- Opening and the schema ---------------------------------------------------------------- */

static int
exec_sql(struct sup_snapshotter *s, const char *sql, struct berth_err *err)
{
    char *msg = NULL;

    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    berth_err_set(err, EIO, "`%s`: %s: %s", s->db_path, sql, msg ? msg : sqlite3_errmsg(s->db));
    sqlite3_free(msg);
    return -1;
}

static int
schema_version(struct sup_snapshotter *s, int *out, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;

    if (prepare(s, "PRAGMA user_version", &stmt, err) < 0)
        return -1;
    if (sqlite3_step(stmt) != SQLITE_ROW)
        return db_err(s, err, "read schema version");
    *out = sqlite3_column_int(stmt, 0);
    return 0;
}

static int
migrate(struct sup_snapshotter *s, struct berth_err *err)
{
    int latest = (int)ARRAY_SIZE(migrations), version;

    if (schema_version(s, &version, err) < 0)
        return -1;
    if (version > latest)
        return berth_err_fail(err, ENOTSUP,
                              "`%s`: schema version %d is newer than this supervisor's %d",
                              s->db_path, version, latest);
    for (int v = version + 1; v <= latest; v++) {
        cleanup_free char *bump = xasprintf("PRAGMA user_version = %d", v);
        struct snap_tx tx = SNAP_TX_INIT;
        int r = sup_snap_tx_begin(s, &tx, true, err);
        if (r == 0)
            r = exec_sql(s, migrations[v - 1], err);
        if (r == 0)
            r = exec_sql(s, bump, err);
        if (r == 0)
            r = sup_snap_tx_commit(&tx, err);
        sup_snap_tx_end(&tx);
        if (r < 0)
            return berth_err_wrap(err, "migrate snapshot metadata to version %d", v);
    }
    return 0;
}

static int
set_wal(struct sup_snapshotter *s, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;

    if (prepare(s, "PRAGMA journal_mode = WAL", &stmt, err) < 0)
        return -1;
    if (sqlite3_step(stmt) != SQLITE_ROW)
        return db_err(s, err, "set WAL mode");
    const char *mode = (const char *)sqlite3_column_text(stmt, 0);
    if (mode == NULL || strcmp(mode, "wal") != 0)
        berth_warn("snapshot: `%s`: journal mode is %s, not wal", s->db_path,
                   mode ? mode : "unknown");
    return 0;
}

int
sup_snap_meta_open(struct sup_snapshotter *s, struct berth_err *err)
{
    /* Made here so that it is private: SQLite would honour the umask. */
    cleanup_close int fd = open(s->db_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return berth_err_set(err, errno, "open `%s`", s->db_path);

    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(s->db_path, &s->db, flags, NULL) != SQLITE_OK) {
        berth_err_set(err, EIO, "open `%s`: %s", s->db_path,
                      s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sup_snap_meta_close(s);
        return -1;
    }
    int r = sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS) == SQLITE_OK
                ? 0
                : db_err(s, err, "set busy timeout");
    if (r == 0 && (exec_sql(s, "PRAGMA foreign_keys = ON", err) < 0 || set_wal(s, err) < 0 ||
                   exec_sql(s, "PRAGMA synchronous = FULL", err) < 0 || migrate(s, err) < 0))
        r = -1;
    if (r < 0)
        sup_snap_meta_close(s);
    return r;
}

void
sup_snap_meta_close(struct sup_snapshotter *s)
{
    if (s->db && sqlite3_close(s->db) != SQLITE_OK)
        berth_warn("snapshot: close `%s`: %s", s->db_path, sqlite3_errmsg(s->db));
    s->db = NULL;
}

int
sup_snapshotter_schema_version(struct sup_snapshotter *s)
{
    cleanup_snap_unlock struct sup_snapshotter *locked = sup_snap_lock(s);
    struct berth_err err = BERTH_ERR_INIT;
    int version;

    if (schema_version(s, &version, &err) < 0) {
        berth_err_warn(&err);
        return -1;
    }
    return version;
}

/* ---- Rows ----------------------------------------------------------------------------------- */

int
sup_snap_check_key(const char *what, const char *key, struct berth_err *err)
{
    if (key == NULL || *key == '\0')
        return berth_err_fail(err, EINVAL, "snapshot %s is empty", what);
    if (strlen(key) > SUP_SNAPSHOT_KEY_MAX)
        return berth_err_fail(err, EINVAL, "snapshot %s `%.64s...` is longer than %d bytes", what,
                              key, SUP_SNAPSHOT_KEY_MAX);
    return 0;
}

static int
check_label(const Label *l, struct berth_err *err)
{
    const char *key = l->key ? l->key : "", *value = l->value ? l->value : "";

    if (*key == '\0')
        return berth_err_fail(err, EINVAL, "label key is empty");
    if (strlen(key) + strlen(value) > LABEL_MAX)
        return berth_err_fail(err, EINVAL, "label `%.64s`: key and value are longer than %d bytes",
                              key, LABEL_MAX);
    return 0;
}

int
sup_snap_meta_get(struct sup_snapshotter *s, const char *key, struct snap_row *out,
                  struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;

    if (prepare(s,
                "SELECT id, kind, ifnull(parent, 0), size, inodes FROM snapshots WHERE name = ?1",
                &stmt, err) < 0)
        return -1;
    if (bind_text(stmt, 1, key) != SQLITE_OK)
        return db_err(s, err, "get snapshot");
    switch (sqlite3_step(stmt)) {
    case SQLITE_ROW: break;
    case SQLITE_DONE: return berth_err_fail(err, ENOENT, "snapshot `%s` not found", key);
    default: return db_err(s, err, "get snapshot");
    }
    out->id = sqlite3_column_int64(stmt, 0);
    out->kind = sqlite3_column_int(stmt, 1);
    out->parent = sqlite3_column_int64(stmt, 2);
    out->size = sqlite3_column_int64(stmt, 3);
    out->inodes = sqlite3_column_int64(stmt, 4);
    return 0;
}

/* Set one label of row id (an empty value deletes it, as containerd does). */
static int
put_label(struct sup_snapshotter *s, int64_t id, const char *key, const char *value,
          struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;
    bool del = value == NULL || *value == '\0';

    if (prepare(s,
                del ? "DELETE FROM snapshot_labels WHERE snapshot = ?1 AND key = ?2"
                    : "INSERT INTO snapshot_labels (snapshot, key, value) VALUES (?1, ?2, ?3) "
                      "ON CONFLICT DO UPDATE SET value = excluded.value",
                &stmt, err) < 0)
        return -1;
    if (sqlite3_bind_int64(stmt, 1, id) != SQLITE_OK || bind_text(stmt, 2, key) != SQLITE_OK ||
        (!del && bind_text(stmt, 3, value) != SQLITE_OK) || sqlite3_step(stmt) != SQLITE_DONE)
        return db_err(s, err, "set label");
    return 0;
}

static int
delete_labels(struct sup_snapshotter *s, int64_t id, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;

    if (prepare(s, "DELETE FROM snapshot_labels WHERE snapshot = ?1", &stmt, err) < 0)
        return -1;
    if (sqlite3_bind_int64(stmt, 1, id) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_DONE)
        return db_err(s, err, "delete labels");
    return 0;
}

static int
put_labels(struct sup_snapshotter *s, int64_t id, Label *const *labels, size_t n,
           struct berth_err *err)
{
    for (size_t i = 0; i < n; i++)
        if (check_label(labels[i], err) < 0 ||
            put_label(s, id, labels[i]->key, labels[i]->value, err) < 0)
            return -1;
    return 0;
}

int
sup_snap_meta_insert(struct sup_snapshotter *s, const char *key, int kind, int64_t parent,
                     Label *const *labels, size_t n_labels, int64_t *id, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;
    int64_t now = now_ns();

    if (prepare(s,
                "INSERT INTO snapshots (name, kind, parent, created_at, updated_at) "
                "VALUES (?1, ?2, ?3, ?4, ?4)",
                &stmt, err) < 0)
        return -1;
    if (bind_text(stmt, 1, key) != SQLITE_OK || sqlite3_bind_int(stmt, 2, kind) != SQLITE_OK ||
        (parent ? sqlite3_bind_int64(stmt, 3, parent) : sqlite3_bind_null(stmt, 3)) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 4, now) != SQLITE_OK)
        return db_err(s, err, "insert snapshot");
    if (sqlite3_step(stmt) != SQLITE_DONE) {
        if (sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE)
            return berth_err_fail(err, EEXIST, "snapshot `%s` already exists", key);
        return db_err(s, err, "insert snapshot");
    }
    *id = sqlite3_last_insert_rowid(s->db);
    return put_labels(s, *id, labels, n_labels, err);
}

int
sup_snap_meta_chain(struct sup_snapshotter *s, int64_t id, int64_t **ids, size_t *n,
                    struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;
    cleanup_free int64_t *list = NULL;
    size_t k = 0;
    int rc;

    /* Parents only ever point to older rows, so the recursion ends; the depth column keeps
     * the order nearest first. */
    if (prepare(s,
                "WITH RECURSIVE chain (id, parent, depth) AS ("
                "  SELECT id, parent, 0 FROM snapshots WHERE id = ?1"
                "  UNION ALL"
                "  SELECT s.id, s.parent, c.depth + 1 FROM snapshots s JOIN chain c"
                "  ON s.id = c.parent"
                ") SELECT id FROM chain ORDER BY depth",
                &stmt, err) < 0)
        return -1;
    if (sqlite3_bind_int64(stmt, 1, id) != SQLITE_OK)
        return db_err(s, err, "read parents");
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        list = xrealloc(list, (k + 1) * sizeof(*list));
        list[k++] = sqlite3_column_int64(stmt, 0);
    }
    if (rc != SQLITE_DONE)
        return db_err(s, err, "read parents");
    if (k == 0)
        return berth_err_fail(err, ENOENT, "snapshot id %lld not found", (long long)id);
    *ids = steal_ptr(&list);
    *n = k;
    return 0;
}

int
sup_snap_meta_commit(struct sup_snapshotter *s, int64_t id, const char *name,
                     const struct sup_snapshot_usage *usage, Label *const *labels, size_t n_labels,
                     struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;

    if (prepare(s,
                "UPDATE snapshots SET name = ?2, kind = ?3, size = ?4, inodes = ?5, "
                "updated_at = ?6 WHERE id = ?1",
                &stmt, err) < 0)
        return -1;
    if (sqlite3_bind_int64(stmt, 1, id) != SQLITE_OK || bind_text(stmt, 2, name) != SQLITE_OK ||
        sqlite3_bind_int(stmt, 3, SNAP_COMMITTED) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 4, usage->size) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 5, usage->inodes) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 6, now_ns()) != SQLITE_OK)
        return db_err(s, err, "commit snapshot");
    if (sqlite3_step(stmt) != SQLITE_DONE) {
        if (sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE)
            return berth_err_fail(err, EEXIST, "snapshot `%s` already exists", name);
        return db_err(s, err, "commit snapshot");
    }
    if (n_labels > 0 &&
        (delete_labels(s, id, err) < 0 || put_labels(s, id, labels, n_labels, err) < 0))
        return -1;
    return 0;
}

int
sup_snap_meta_delete(struct sup_snapshotter *s, int64_t id, const char *key, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *q = NULL;
    cleanup_stmt sqlite3_stmt *del = NULL;

    if (prepare(s, "SELECT count(*), min(name) FROM snapshots WHERE parent = ?1", &q, err) < 0)
        return -1;
    if (sqlite3_bind_int64(q, 1, id) != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW)
        return db_err(s, err, "count children");
    int64_t children = sqlite3_column_int64(q, 0);
    if (children > 0)
        return berth_err_fail(err, EBUSY,
                              "snapshot `%s` is the parent of %lld snapshot%s (`%s`%s): remove "
                              "them first",
                              key, (long long)children, children == 1 ? "" : "s",
                              (const char *)sqlite3_column_text(q, 1), children > 1 ? ", ..." : "");
    /* Labels go with the row (ON DELETE CASCADE). */
    if (prepare(s, "DELETE FROM snapshots WHERE id = ?1", &del, err) < 0)
        return -1;
    if (sqlite3_bind_int64(del, 1, id) != SQLITE_OK || sqlite3_step(del) != SQLITE_DONE)
        return db_err(s, err, "delete snapshot");
    return 0;
}

int
sup_snap_meta_ids(struct sup_snapshotter *s, int64_t **ids, size_t *n, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;
    cleanup_free int64_t *list = NULL;
    size_t k = 0;
    int rc;

    if (prepare(s, "SELECT id FROM snapshots ORDER BY id", &stmt, err) < 0)
        return -1;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        list = xrealloc(list, (k + 1) * sizeof(*list));
        list[k++] = sqlite3_column_int64(stmt, 0);
    }
    if (rc != SQLITE_DONE)
        return db_err(s, err, "list snapshot ids");
    *ids = steal_ptr(&list);
    *n = k;
    return 0;
}

/* ---- Infos ---------------------------------------------------------------------------------- */

#define SELECT_INFO                                                                                \
    "SELECT s.id, s.name, ifnull(p.name, ''), s.kind, s.created_at, s.updated_at "                 \
    "FROM snapshots s LEFT JOIN snapshots p ON p.id = s.parent "

static int
load_labels(struct sup_snapshotter *s, int64_t id, Info *info, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;
    int rc;

    if (prepare(s, "SELECT key, value FROM snapshot_labels WHERE snapshot = ?1 ORDER BY key", &stmt,
                err) < 0)
        return -1;
    if (sqlite3_bind_int64(stmt, 1, id) != SQLITE_OK)
        return db_err(s, err, "read labels");
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        Label *l = xmalloc(sizeof(*l));
        berth__supervisor__v1__snapshot_info__labels_entry__init(l);
        l->key = column_text(stmt, 0);
        l->value = column_text(stmt, 1);
        info->labels = xrealloc(info->labels, (info->n_labels + 1) * sizeof(*info->labels));
        info->labels[info->n_labels++] = l;
    }
    if (rc != SQLITE_DONE)
        return db_err(s, err, "read labels");
    return 0;
}

/* The info of the current row of a SELECT_INFO statement. */
static int
info_from_row(struct sup_snapshotter *s, sqlite3_stmt *stmt, Info **out, struct berth_err *err)
{
    cleanup_info Info *info = xmalloc(sizeof(*info));

    berth__supervisor__v1__snapshot_info__init(info);
    info->name = column_text(stmt, 1);
    info->parent = column_text(stmt, 2);
    info->kind = (Berth__Supervisor__V1__SnapshotInfo__Kind)sqlite3_column_int(stmt, 3);
    info->created_at = sqlite3_column_int64(stmt, 4);
    info->updated_at = sqlite3_column_int64(stmt, 5);
    if (load_labels(s, sqlite3_column_int64(stmt, 0), info, err) < 0)
        return -1;
    *out = steal_ptr(&info);
    return 0;
}

static int
load_info(struct sup_snapshotter *s, const char *key, Info **out, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;

    if (prepare(s, SELECT_INFO "WHERE s.name = ?1", &stmt, err) < 0)
        return -1;
    if (bind_text(stmt, 1, key) != SQLITE_OK)
        return db_err(s, err, "get snapshot");
    switch (sqlite3_step(stmt)) {
    case SQLITE_ROW: return info_from_row(s, stmt, out, err);
    case SQLITE_DONE: return berth_err_fail(err, ENOENT, "snapshot `%s` not found", key);
    default: return db_err(s, err, "get snapshot");
    }
}

int
sup_snapshot_stat(struct sup_snapshotter *s, const char *key, Info **out, struct berth_err *err)
{
    if (sup_snap_check_key("key", key, err) < 0)
        return -1;

    cleanup_snap_unlock struct sup_snapshotter *locked = sup_snap_lock(s);
    cleanup_snap_tx struct snap_tx tx = SNAP_TX_INIT;
    cleanup_info Info *info = NULL;

    if (sup_snap_tx_begin(s, &tx, false, err) < 0 || load_info(s, key, &info, err) < 0 ||
        sup_snap_tx_commit(&tx, err) < 0)
        return -1;
    *out = steal_ptr(&info);
    return 0;
}

/* For "labels.KEY": the value info gives KEY (the last entry wins), "" when none. */
static const char *
label_value(const Info *info, const char *key)
{
    const char *v = "";

    for (size_t i = 0; i < info->n_labels; i++)
        if (info->labels[i]->key && strcmp(info->labels[i]->key, key) == 0)
            v = info->labels[i]->value ? info->labels[i]->value : "";
    return v;
}

static int
update_labels(struct sup_snapshotter *s, int64_t id, const Info *info, char *const *mask,
              size_t n_mask, struct berth_err *err)
{
    static char *const all[] = {"labels"};

    if (n_mask == 0) {
        mask = all;
        n_mask = 1;
    }
    for (size_t i = 0; i < n_mask; i++) {
        if (strcmp(mask[i], "labels") == 0) {
            if (delete_labels(s, id, err) < 0 ||
                put_labels(s, id, info->labels, info->n_labels, err) < 0)
                return -1;
        } else if (strncmp(mask[i], "labels.", 7) == 0 && mask[i][7]) {
            Label l = BERTH__SUPERVISOR__V1__SNAPSHOT_INFO__LABELS_ENTRY__INIT;
            l.key = mask[i] + 7;
            l.value = (char *)label_value(info, l.key);
            if (check_label(&l, err) < 0 || put_label(s, id, l.key, l.value, err) < 0)
                return -1;
        } else {
            return berth_err_fail(err, EINVAL,
                                  "update snapshot `%s`: `%s` cannot be updated (only labels "
                                  "and labels.KEY)",
                                  info->name, mask[i]);
        }
    }
    return 0;
}

int
sup_snapshot_update(struct sup_snapshotter *s, const Info *info, char *const *update_mask,
                    size_t n_mask, Info **out, struct berth_err *err)
{
    if (sup_snap_check_key("name", info->name, err) < 0)
        return -1;

    cleanup_snap_unlock struct sup_snapshotter *locked = sup_snap_lock(s);
    cleanup_snap_tx struct snap_tx tx = SNAP_TX_INIT;
    cleanup_stmt sqlite3_stmt *stmt = NULL;
    cleanup_info Info *updated = NULL;
    struct snap_row row;

    if (sup_snap_tx_begin(s, &tx, true, err) < 0 || sup_snap_meta_get(s, info->name, &row, err) < 0)
        return -1;
    if (update_labels(s, row.id, info, update_mask, n_mask, err) < 0)
        return -1;
    if (prepare(s, "UPDATE snapshots SET updated_at = ?2 WHERE id = ?1", &stmt, err) < 0)
        return -1;
    if (sqlite3_bind_int64(stmt, 1, row.id) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 2, now_ns()) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_DONE)
        return db_err(s, err, "update snapshot");
    if (load_info(s, info->name, &updated, err) < 0 || sup_snap_tx_commit(&tx, err) < 0)
        return -1;
    *out = steal_ptr(&updated);
    return 0;
}

void
sup_snapshot_infos_free(Info **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        protobuf_c_message_free_unpacked(&list[i]->base, NULL);
    free(list);
}

int
sup_snapshot_list(struct sup_snapshotter *s, const char *prefix, Info ***out, size_t *n_out,
                  struct berth_err *err)
{
    cleanup_snap_unlock struct sup_snapshotter *locked = sup_snap_lock(s);
    cleanup_snap_tx struct snap_tx tx = SNAP_TX_INIT;
    cleanup_stmt sqlite3_stmt *stmt = NULL;
    size_t plen = prefix ? strlen(prefix) : 0;
    Info **list = NULL;
    size_t n = 0;
    int rc;

    /* The prefix compares as bytes (a blob), not characters: substr on text counts UTF-8
     * characters. */
    if (sup_snap_tx_begin(s, &tx, false, err) < 0 ||
        prepare(s,
                SELECT_INFO "WHERE substr(CAST(s.name AS BLOB), 1, ?2) = CAST(?1 AS BLOB) "
                            "ORDER BY s.name",
                &stmt, err) < 0)
        return -1;
    if (sqlite3_bind_blob(stmt, 1, prefix ? prefix : "", (int)plen, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 2, (int64_t)plen) != SQLITE_OK)
        return db_err(s, err, "list snapshots");
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        list = xrealloc(list, (n + 1) * sizeof(*list));
        if (info_from_row(s, stmt, &list[n], err) < 0) {
            sup_snapshot_infos_free(list, n);
            return -1;
        }
        n++;
    }
    if (rc != SQLITE_DONE) {
        sup_snapshot_infos_free(list, n);
        return db_err(s, err, "list snapshots");
    }
    sqlite3_finalize(steal_ptr(&stmt));
    if (sup_snap_tx_commit(&tx, err) < 0) {
        sup_snapshot_infos_free(list, n);
        return -1;
    }
    *out = list;
    *n_out = n;
    return 0;
}

int
sup_snapshot_walk(struct sup_snapshotter *s, const char *prefix, sup_snapshot_walk_fn fn,
                  void *data, struct berth_err *err)
{
    Info **list = NULL;
    size_t n = 0;
    int r = 0;

    if (sup_snapshot_list(s, prefix, &list, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n && r >= 0; i++)
        r = fn(list[i], data, err);
    sup_snapshot_infos_free(list, n);
    return r < 0 ? r : 0;
}
