/* SPDX-License-Identifier: Apache-2.0
 *
 * What the files of supervisor/store share and nobody else sees: the store itself (one SQLite
 * connection behind a mutex), scope-bound locking, statements and transactions, the mapping
 * of SQLite failures to berth errors, and the key/value child tables that hold labels and
 * extensions (labels.c).
 *
 * Every public function follows one pattern:
 *
 *     cleanup_store_unlock struct sup_store *locked = store_lock(st);
 *     cleanup_tx struct store_tx tx = STORE_TX_INIT;
 *     if (sup_store_tx_begin(st, &tx, true, err) < 0)
 *         return -1;
 *     ... statements, each `cleanup_stmt sqlite3_stmt *stmt = NULL` ...
 *     return sup_store_tx_commit(&tx, err);
 *
 * so that any early return rolls the transaction back and releases the mutex, in that order
 * (cleanups run in reverse order of declaration).
 */
#ifndef BERTH_SUPERVISOR_STORE_STORE_INTERNAL_H
#define BERTH_SUPERVISOR_STORE_STORE_INTERNAL_H

#include <protobuf-c/protobuf-c.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct berth_err;

struct sup_store {
    sqlite3 *db;
    pthread_mutex_t lock;
    char *path; /* <root>/meta.db, for messages */
};

/* ---- Locking */

/* Take the store's mutex and return st, for a `cleanup_store_unlock` variable. */
struct sup_store *sup_store_lock(struct sup_store *st);
void sup_store_unlockp(struct sup_store **st);
#define cleanup_store_unlock __attribute__((cleanup(sup_store_unlockp)))

/* ---- Statements */

static inline void
sup_store_finalizep(sqlite3_stmt **stmt)
{
    if (*stmt)
        sqlite3_finalize(*stmt);
}
#define cleanup_stmt __attribute__((cleanup(sup_store_finalizep)))

/* Prepare sql on the store's connection. On failure *out stays NULL and err holds EIO with
 * SQLite's message. The caller holds the lock. */
int sup_store_prepare(struct sup_store *st, const char *sql, sqlite3_stmt **out,
                      struct berth_err *err);

/* Fill err from the connection's last failure: EEXIST for a primary key or unique
 * constraint, EIO for anything else, with "what: SQLite's message". Returns -1. */
int sup_store_db_err(struct sup_store *st, struct berth_err *err, const char *what);

/* Binding: a NULL C string binds as "", empty bytes as an empty blob (not SQL NULL, so that
 * NOT NULL columns take them). Both return the SQLite result code. */
int sup_store_bind_text(sqlite3_stmt *stmt, int i, const char *s);
int sup_store_bind_blob(sqlite3_stmt *stmt, int i, const void *data, size_t len);

/* A column as a malloc'd string ("" for NULL) or malloc'd bytes (NULL, 0 for NULL). */
char *sup_store_column_text(sqlite3_stmt *stmt, int i);
ProtobufCBinaryData sup_store_column_blob(sqlite3_stmt *stmt, int i);

/* ---- Transactions
 *
 * A transaction lives in a `cleanup_tx struct store_tx` variable: leaving scope without
 * sup_store_tx_commit rolls it back. Writers begin IMMEDIATE, so the write lock is taken (or
 * waited for, up to the busy timeout) before the first read, and a reader that later writes
 * can never fail with SQLITE_BUSY halfway through. */
struct store_tx {
    struct sup_store *st;
    bool open;
};
#define STORE_TX_INIT                                                                              \
    {                                                                                              \
        NULL, false                                                                                \
    }

int sup_store_tx_begin(struct sup_store *st, struct store_tx *tx, bool write,
                       struct berth_err *err);
int sup_store_tx_commit(struct store_tx *tx, struct berth_err *err);
/* Roll back when still open (the cleanup of a store_tx). */
void sup_store_tx_end(struct store_tx *tx);
#define cleanup_tx __attribute__((cleanup(sup_store_tx_end)))

/* Unix time in nanoseconds. */
int64_t sup_store_now_ns(void);

/* A NULL C string read as "". */
static inline const char *
sup_store_str(const char *s)
{
    return s ? s : "";
}

/* For an update mask path "FIELD.KEY", KEY (possibly with dots of its own); NULL when path
 * does not start with "FIELD.". */
static inline const char *
sup_store_mask_key(const char *path, const char *field)
{
    size_t n = strlen(field);

    if (strncmp(path, field, n) != 0 || path[n] != '.')
        return NULL;
    return path + n + 1;
}

/* ---- Key/value child tables (labels.c)
 *
 * Labels and extensions live in tables keyed by their owner and the key: namespace_labels
 * (namespace, key), container_labels and container_extensions (namespace, container, key).
 * `id` is NULL for a namespace's labels. */
enum sup_store_kv {
    SUP_STORE_NAMESPACE_LABELS,
    SUP_STORE_CONTAINER_LABELS,
    SUP_STORE_CONTAINER_EXTENSIONS,
};

/* Labels: the key is non-empty, and key and value together hold at most
 * SUP_STORE_LABEL_MAX bytes (containerd's limit). EINVAL naming the key. */
#define SUP_STORE_LABEL_MAX 4096
int sup_store_check_label(const char *key, const char *value, struct berth_err *err);

/* Set one key (replacing its value). A label with an empty value is deleted instead, as
 * containerd does, so that "labels.KEY" with no value removes it. Labels are checked with
 * sup_store_check_label, extension keys must be non-empty. */
int sup_store_kv_put(struct sup_store *st, enum sup_store_kv kv, const char *ns, const char *id,
                     const char *key, const void *value, size_t len, struct berth_err *err);
/* Delete key, or every key of the owner when key is NULL. */
int sup_store_kv_delete(struct sup_store *st, enum sup_store_kv kv, const char *ns, const char *id,
                        const char *key, struct berth_err *err);
/* Read the owner's entries, sorted by key, as map entries of entry_desc (a generated
 * XxxEntry descriptor with string `key` and string or bytes `value`) in a malloc'd array
 * whose items are built with malloc'd fields: right for a message later freed with
 * protobuf_c_message_free_unpacked. */
int sup_store_kv_load(struct sup_store *st, enum sup_store_kv kv, const char *ns, const char *id,
                      const ProtobufCMessageDescriptor *entry_desc, size_t *n_out, void *out,
                      struct berth_err *err);

/* ---- Namespaces, for containers.c (namespaces.c); the caller holds the lock and a
 * transaction. */

/* 1 when namespace `name` exists, 0 when not, -1 on a database failure. */
int sup_store_ns_lookup(struct sup_store *st, const char *name, struct berth_err *err);
/* Insert namespace `name` with no labels; EEXIST "namespace `x` already exists". */
int sup_store_ns_insert(struct sup_store *st, const char *name, struct berth_err *err);

#endif
