/* SPDX-License-Identifier: Apache-2.0
 *
 * Content metadata (store.h): one row of `content` per committed blob, keyed by digest, with
 * its size and times, and its labels in `content_labels` (schema.c, version 3). Content is
 * shared by every namespace, so neither table has a namespace column.
 *
 *   (none) --sup_store_content_create--> recorded --sup_store_content_delete--> (none)
 *                                        |      ^
 *                                 sup_store_content_update (labels, updated_at)
 *
 * The blobs themselves are files of the content store (supervisor/content), which calls
 * these functions after a blob is in place and before it is removed; a row is only what the
 * files cannot hold (labels, the commit time).
 */
#include "supervisor/store/store.h"
#include "supervisor/store/store-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"

typedef Berth__Supervisor__V1__Info Info;
typedef Berth__Supervisor__V1__Info__LabelsEntry LabelsEntry;

static void
info_freep(Info **info)
{
    if (*info)
        protobuf_c_message_free_unpacked(&(*info)->base, NULL);
}
#define cleanup_info __attribute__((cleanup(info_freep)))

static int
check_digest(const char *digest, struct berth_err *err)
{
    if (digest == NULL || *digest == '\0')
        return berth_err_fail(err, EINVAL, "content digest is empty");
    return 0;
}

/* ---- Labels ------------------------------------------------------------------------------- */

/* Set label key of digest, or remove it when value is empty (as containerd does). */
static int
put_label(struct sup_store *st, const char *digest, const char *key, const char *value,
          struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;
    bool remove = *sup_store_str(value) == '\0';

    if (sup_store_check_label(key, value, err) < 0)
        return -1;
    if (sup_store_prepare(st,
                          remove ? "DELETE FROM content_labels WHERE digest = ?1 AND key = ?2"
                                 : "INSERT INTO content_labels (digest, key, value) "
                                   "VALUES (?1, ?2, ?3) "
                                   "ON CONFLICT DO UPDATE SET value = excluded.value",
                          &stmt, err) < 0)
        return -1;
    if (sup_store_bind_text(stmt, 1, digest) != SQLITE_OK ||
        sup_store_bind_text(stmt, 2, key) != SQLITE_OK ||
        (!remove && sup_store_bind_text(stmt, 3, value) != SQLITE_OK) ||
        sqlite3_step(stmt) != SQLITE_DONE)
        return sup_store_db_err(st, err, "content label");
    return 0;
}

static int
put_labels(struct sup_store *st, const Info *info, struct berth_err *err)
{
    for (size_t i = 0; i < info->n_labels; i++)
        if (put_label(st, info->digest, info->labels[i]->key, info->labels[i]->value, err) < 0)
            return -1;
    return 0;
}

static int
delete_labels(struct sup_store *st, const char *digest, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;

    if (sup_store_prepare(st, "DELETE FROM content_labels WHERE digest = ?1", &stmt, err) < 0)
        return -1;
    if (sup_store_bind_text(stmt, 1, digest) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_DONE)
        return sup_store_db_err(st, err, "content labels");
    return 0;
}

static void
add_label(Info *info, sqlite3_stmt *stmt, int key_col)
{
    LabelsEntry *e = xmalloc(sizeof(*e));

    berth__supervisor__v1__info__labels_entry__init(e);
    e->key = sup_store_column_text(stmt, key_col);
    e->value = sup_store_column_text(stmt, key_col + 1);
    info->labels = xrealloc(info->labels, (info->n_labels + 1) * sizeof(*info->labels));
    info->labels[info->n_labels++] = e;
}

/* ---- Rows --------------------------------------------------------------------------------- */

static Info *
from_row(sqlite3_stmt *stmt)
{
    Info *info = xmalloc(sizeof(*info));

    berth__supervisor__v1__info__init(info);
    info->digest = sup_store_column_text(stmt, 0);
    info->size = sqlite3_column_int64(stmt, 1);
    info->created_at = sqlite3_column_int64(stmt, 2);
    info->updated_at = sqlite3_column_int64(stmt, 3);
    return info;
}

/* Build the Info of digest, labels sorted by key; ENOENT when there is no row. */
static int
load(struct sup_store *st, const char *digest, Info **out, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *row = NULL;
    cleanup_stmt sqlite3_stmt *labels = NULL;
    cleanup_info Info *info = NULL;
    int rc;

    if (sup_store_prepare(st,
                          "SELECT digest, size, created_at, updated_at FROM content "
                          "WHERE digest = ?1",
                          &row, err) < 0)
        return -1;
    if (sup_store_bind_text(row, 1, digest) != SQLITE_OK)
        return sup_store_db_err(st, err, "get content");
    rc = sqlite3_step(row);
    if (rc == SQLITE_DONE)
        return berth_err_fail(err, ENOENT, "content `%s` not found", digest);
    if (rc != SQLITE_ROW)
        return sup_store_db_err(st, err, "get content");
    info = from_row(row);

    if (sup_store_prepare(st,
                          "SELECT key, value FROM content_labels WHERE digest = ?1 ORDER BY key",
                          &labels, err) < 0)
        return -1;
    if (sup_store_bind_text(labels, 1, digest) != SQLITE_OK)
        return sup_store_db_err(st, err, "get content labels");
    while ((rc = sqlite3_step(labels)) == SQLITE_ROW)
        add_label(info, labels, 0);
    if (rc != SQLITE_DONE)
        return sup_store_db_err(st, err, "get content labels");
    *out = steal_ptr(&info);
    return 0;
}

/* ---- API ---------------------------------------------------------------------------------- */

int
sup_store_content_create(struct sup_store *st, const Info *info, Info **out, struct berth_err *err)
{
    if (check_digest(info->digest, err) < 0)
        return -1;
    if (info->size < 0)
        return berth_err_fail(err, EINVAL, "content `%s`: size %lld is negative", info->digest,
                              (long long)info->size);

    cleanup_store_unlock struct sup_store *locked = sup_store_lock(st);
    cleanup_tx struct store_tx tx = STORE_TX_INIT;
    cleanup_stmt sqlite3_stmt *stmt = NULL;
    cleanup_info Info *made = NULL;

    if (sup_store_tx_begin(st, &tx, true, err) < 0 ||
        sup_store_prepare(st,
                          "INSERT INTO content (digest, size, created_at, updated_at) "
                          "VALUES (?1, ?2, ?3, ?3)",
                          &stmt, err) < 0)
        return -1;
    if (sup_store_bind_text(stmt, 1, info->digest) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 2, info->size) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 3, sup_store_now_ns()) != SQLITE_OK)
        return sup_store_db_err(st, err, "insert content");
    if (sqlite3_step(stmt) != SQLITE_DONE) {
        if (sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_PRIMARYKEY)
            return berth_err_fail(err, EEXIST, "content `%s` already exists", info->digest);
        return sup_store_db_err(st, err, "insert content");
    }
    /* A bad label rolls the row back with the rest of the transaction. */
    if (put_labels(st, info, err) < 0)
        return berth_err_wrap(err, "record content `%s`", info->digest);
    if (load(st, info->digest, &made, err) < 0 || sup_store_tx_commit(&tx, err) < 0)
        return -1;
    if (out)
        *out = steal_ptr(&made);
    return 0;
}

int
sup_store_content_get(struct sup_store *st, const char *digest, Info **out, struct berth_err *err)
{
    if (check_digest(digest, err) < 0)
        return -1;

    cleanup_store_unlock struct sup_store *locked = sup_store_lock(st);
    cleanup_tx struct store_tx tx = STORE_TX_INIT;
    cleanup_info Info *info = NULL;

    if (sup_store_tx_begin(st, &tx, false, err) < 0 || load(st, digest, &info, err) < 0 ||
        sup_store_tx_commit(&tx, err) < 0)
        return -1;
    *out = steal_ptr(&info);
    return 0;
}

static void
free_list(Info **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        protobuf_c_message_free_unpacked(&list[i]->base, NULL);
    free(list);
}

/* Every row sorted by digest, then every label sorted by (digest, key), merged in one pass. */
static int
list_all(struct sup_store *st, Info ***out, size_t *n_out, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *rows = NULL;
    cleanup_stmt sqlite3_stmt *labels = NULL;
    Info **list = NULL;
    size_t n = 0, at = 0;
    int rc;

    if (sup_store_prepare(st,
                          "SELECT digest, size, created_at, updated_at FROM content "
                          "ORDER BY digest",
                          &rows, err) < 0)
        return -1;
    while ((rc = sqlite3_step(rows)) == SQLITE_ROW) {
        list = xrealloc(list, (n + 1) * sizeof(*list));
        list[n++] = from_row(rows);
    }
    if (rc != SQLITE_DONE) {
        free_list(list, n);
        return sup_store_db_err(st, err, "list content");
    }
    if (sup_store_prepare(st, "SELECT digest, key, value FROM content_labels ORDER BY digest, key",
                          &labels, err) < 0) {
        free_list(list, n);
        return -1;
    }
    while ((rc = sqlite3_step(labels)) == SQLITE_ROW) {
        const char *digest = sup_store_str((const char *)sqlite3_column_text(labels, 0));
        while (at < n && strcmp(list[at]->digest, digest) < 0)
            at++;
        if (at < n && strcmp(list[at]->digest, digest) == 0)
            add_label(list[at], labels, 1);
    }
    if (rc != SQLITE_DONE) {
        free_list(list, n);
        return sup_store_db_err(st, err, "list content labels");
    }
    *out = list;
    *n_out = n;
    return 0;
}

int
sup_store_content_list(struct sup_store *st, Info ***out, size_t *n_out, struct berth_err *err)
{
    cleanup_store_unlock struct sup_store *locked = sup_store_lock(st);
    cleanup_tx struct store_tx tx = STORE_TX_INIT;
    Info **list = NULL;
    size_t n = 0;

    if (sup_store_tx_begin(st, &tx, false, err) < 0 || list_all(st, &list, &n, err) < 0)
        return -1;
    if (sup_store_tx_commit(&tx, err) < 0) {
        free_list(list, n);
        return -1;
    }
    *out = list;
    *n_out = n;
    return 0;
}

/* The value of label key in info, "" when info has none (which removes it). The last entry
 * wins, as when a map is decoded from the wire. */
static const char *
label_value(const Info *info, const char *key)
{
    const char *value = "";

    for (size_t i = 0; i < info->n_labels; i++)
        if (info->labels[i]->key && strcmp(info->labels[i]->key, key) == 0)
            value = sup_store_str(info->labels[i]->value);
    return value;
}

static int
check_mask(const char *digest, char *const *mask, size_t n_mask, struct berth_err *err)
{
    for (size_t i = 0; i < n_mask; i++) {
        const char *key = sup_store_mask_key(mask[i], "labels");
        if (strcmp(mask[i], "labels") == 0 || (key && *key))
            continue;
        return berth_err_fail(err, EINVAL,
                              "update content `%s`: cannot update `%s` (only labels and "
                              "labels.KEY)",
                              digest, mask[i]);
    }
    return 0;
}

static int
touch(struct sup_store *st, const char *digest, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;

    if (sup_store_prepare(st, "UPDATE content SET updated_at = ?2 WHERE digest = ?1", &stmt, err) <
        0)
        return -1;
    if (sup_store_bind_text(stmt, 1, digest) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 2, sup_store_now_ns()) != SQLITE_OK ||
        sqlite3_step(stmt) != SQLITE_DONE)
        return sup_store_db_err(st, err, "update content");
    if (sqlite3_changes(st->db) == 0)
        return berth_err_fail(err, ENOENT, "content `%s` not found", digest);
    return 0;
}

int
sup_store_content_update(struct sup_store *st, const Info *info, char *const *update_mask,
                         size_t n_mask, Info **out, struct berth_err *err)
{
    static char *const replace_all[] = {"labels"};

    if (check_digest(info->digest, err) < 0 ||
        check_mask(info->digest, update_mask, n_mask, err) < 0)
        return -1;
    if (n_mask == 0) {
        update_mask = replace_all;
        n_mask = 1;
    }

    cleanup_store_unlock struct sup_store *locked = sup_store_lock(st);
    cleanup_tx struct store_tx tx = STORE_TX_INIT;
    cleanup_info Info *updated = NULL;

    if (sup_store_tx_begin(st, &tx, true, err) < 0 || touch(st, info->digest, err) < 0)
        return -1;
    for (size_t i = 0; i < n_mask; i++) {
        const char *key = sup_store_mask_key(update_mask[i], "labels");
        int r = key ? put_label(st, info->digest, key, label_value(info, key), err)
                    : (delete_labels(st, info->digest, err) < 0 ? -1 : put_labels(st, info, err));
        if (r < 0)
            return berth_err_wrap(err, "update content `%s`", info->digest);
    }
    if (load(st, info->digest, &updated, err) < 0 || sup_store_tx_commit(&tx, err) < 0)
        return -1;
    if (out)
        *out = steal_ptr(&updated);
    return 0;
}

int
sup_store_content_delete(struct sup_store *st, const char *digest, struct berth_err *err)
{
    if (check_digest(digest, err) < 0)
        return -1;

    cleanup_store_unlock struct sup_store *locked = sup_store_lock(st);
    cleanup_tx struct store_tx tx = STORE_TX_INIT;
    cleanup_stmt sqlite3_stmt *stmt = NULL;

    /* Labels go with the row (ON DELETE CASCADE). */
    if (sup_store_tx_begin(st, &tx, true, err) < 0 ||
        sup_store_prepare(st, "DELETE FROM content WHERE digest = ?1", &stmt, err) < 0)
        return -1;
    if (sup_store_bind_text(stmt, 1, digest) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_DONE)
        return sup_store_db_err(st, err, "delete content");
    if (sqlite3_changes(st->db) == 0)
        return berth_err_fail(err, ENOENT, "content `%s` not found", digest);
    sqlite3_finalize(steal_ptr(&stmt));
    return sup_store_tx_commit(&tx, err);
}
