/* SPDX-License-Identifier: Apache-2.0
 *
 * Image records (store.h): one row of `images` per (namespace, name) with its target
 * descriptor and times, its labels in `image_labels` (schema.c, version 4).
 *
 *   (none) --sup_store_image_create--> recorded --sup_store_image_delete--> (none)
 *                                      |      ^
 *                               sup_store_image_update (target, labels, updated_at)
 *
 * The store keeps names as given: the Images service normalizes references before they get
 * here, and `tag`-like calls store whatever name the client chose.
 */
#include "supervisor/store/store.h"
#include "supervisor/store/store-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"

typedef Berth__Supervisor__V1__Image Image;
typedef Berth__Supervisor__V1__Image__LabelsEntry LabelsEntry;
typedef Berth__Supervisor__V1__Descriptor Descriptor;

static void
image_freep(Image **image)
{
    if (*image)
        protobuf_c_message_free_unpacked(&(*image)->base, NULL);
}
#define cleanup_image __attribute__((cleanup(image_freep)))

static int
check_image_name(const char *name, struct berth_err *err)
{
    if (name == NULL || *name == '\0')
        return berth_err_fail(err, EINVAL, "image name is empty");
    if (strlen(name) > SUP_STORE_IMAGE_NAME_MAX)
        return berth_err_fail(err, EINVAL, "image name is longer than %d bytes",
                              SUP_STORE_IMAGE_NAME_MAX);
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x21 || *p == 0x7f)
            return berth_err_fail(err, EINVAL,
                                  "image name `%s` is not valid: it holds a space or a control "
                                  "character",
                                  name);
    return 0;
}

static int
check_target(const char *name, const Descriptor *t, struct berth_err *err)
{
    if (t == NULL)
        return berth_err_fail(err, EINVAL, "image `%s`: target is required", name);
    if (t->media_type == NULL || *t->media_type == '\0')
        return berth_err_fail(err, EINVAL, "image `%s`: target media type is empty", name);
    if (t->digest == NULL || *t->digest == '\0')
        return berth_err_fail(err, EINVAL, "image `%s`: target digest is empty", name);
    if (t->size < 0)
        return berth_err_fail(err, EINVAL, "image `%s`: target size %lld is negative", name,
                              (long long)t->size);
    return 0;
}

/* ---- Labels ------------------------------------------------------------------------------- */

/* Set label key of the image, or remove it when value is empty (as containerd does). */
static int
put_label(struct sup_store *st, const char *ns, const char *name, const char *key,
          const char *value, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;
    bool remove = *sup_store_str(value) == '\0';

    if (sup_store_check_label(key, value, err) < 0)
        return -1;
    if (sup_store_prepare(st,
                          remove ? "DELETE FROM image_labels "
                                   "WHERE namespace = ?1 AND image = ?2 AND key = ?3"
                                 : "INSERT INTO image_labels (namespace, image, key, value) "
                                   "VALUES (?1, ?2, ?3, ?4) "
                                   "ON CONFLICT DO UPDATE SET value = excluded.value",
                          &stmt, err) < 0)
        return -1;
    if (sup_store_bind_text(stmt, 1, ns) != SQLITE_OK ||
        sup_store_bind_text(stmt, 2, name) != SQLITE_OK ||
        sup_store_bind_text(stmt, 3, key) != SQLITE_OK ||
        (!remove && sup_store_bind_text(stmt, 4, value) != SQLITE_OK) ||
        sqlite3_step(stmt) != SQLITE_DONE)
        return sup_store_db_err(st, err, "image label");
    return 0;
}

static int
put_labels(struct sup_store *st, const char *ns, const Image *image, struct berth_err *err)
{
    for (size_t i = 0; i < image->n_labels; i++)
        if (put_label(st, ns, image->name, image->labels[i]->key, image->labels[i]->value, err) < 0)
            return -1;
    return 0;
}

static int
delete_labels(struct sup_store *st, const char *ns, const char *name, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;

    if (sup_store_prepare(st, "DELETE FROM image_labels WHERE namespace = ?1 AND image = ?2", &stmt,
                          err) < 0)
        return -1;
    if (sup_store_bind_text(stmt, 1, ns) != SQLITE_OK ||
        sup_store_bind_text(stmt, 2, name) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_DONE)
        return sup_store_db_err(st, err, "image labels");
    return 0;
}

static void
add_label(Image *image, sqlite3_stmt *stmt, int key_col)
{
    LabelsEntry *e = xmalloc(sizeof(*e));

    berth__supervisor__v1__image__labels_entry__init(e);
    e->key = sup_store_column_text(stmt, key_col);
    e->value = sup_store_column_text(stmt, key_col + 1);
    image->labels = xrealloc(image->labels, (image->n_labels + 1) * sizeof(*image->labels));
    image->labels[image->n_labels++] = e;
}

/* ---- Rows --------------------------------------------------------------------------------- */

#define IMAGE_COLUMNS "name, media_type, digest, size, created_at, updated_at"

static Image *
from_row(sqlite3_stmt *stmt)
{
    Image *image = xmalloc(sizeof(*image));
    Descriptor *t = xmalloc(sizeof(*t));

    berth__supervisor__v1__image__init(image);
    berth__supervisor__v1__descriptor__init(t);
    image->name = sup_store_column_text(stmt, 0);
    t->media_type = sup_store_column_text(stmt, 1);
    t->digest = sup_store_column_text(stmt, 2);
    t->size = sqlite3_column_int64(stmt, 3);
    image->target = t;
    image->created_at = sqlite3_column_int64(stmt, 4);
    image->updated_at = sqlite3_column_int64(stmt, 5);
    return image;
}

static int
load(struct sup_store *st, const char *ns, const char *name, Image **out, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *row = NULL;
    cleanup_stmt sqlite3_stmt *labels = NULL;
    cleanup_image Image *image = NULL;
    int rc;

    if (sup_store_prepare(st,
                          "SELECT " IMAGE_COLUMNS " FROM images WHERE namespace = ?1 AND name = ?2",
                          &row, err) < 0)
        return -1;
    if (sup_store_bind_text(row, 1, ns) != SQLITE_OK ||
        sup_store_bind_text(row, 2, name) != SQLITE_OK)
        return sup_store_db_err(st, err, "get image");
    rc = sqlite3_step(row);
    if (rc == SQLITE_DONE)
        return berth_err_fail(err, ENOENT, "image `%s` not found in namespace `%s`", name, ns);
    if (rc != SQLITE_ROW)
        return sup_store_db_err(st, err, "get image");
    image = from_row(row);

    if (sup_store_prepare(st,
                          "SELECT key, value FROM image_labels "
                          "WHERE namespace = ?1 AND image = ?2 ORDER BY key",
                          &labels, err) < 0)
        return -1;
    if (sup_store_bind_text(labels, 1, ns) != SQLITE_OK ||
        sup_store_bind_text(labels, 2, name) != SQLITE_OK)
        return sup_store_db_err(st, err, "get image labels");
    while ((rc = sqlite3_step(labels)) == SQLITE_ROW)
        add_label(image, labels, 0);
    if (rc != SQLITE_DONE)
        return sup_store_db_err(st, err, "get image labels");
    *out = steal_ptr(&image);
    return 0;
}

/* ---- API ---------------------------------------------------------------------------------- */

int
sup_store_image_create(struct sup_store *st, const char *ns, const Image *image, Image **out,
                       struct berth_err *err)
{
    if (sup_store_check_name("namespace", ns, err) < 0 || check_image_name(image->name, err) < 0 ||
        check_target(image->name, image->target, err) < 0)
        return -1;

    cleanup_store_unlock struct sup_store *locked = sup_store_lock(st);
    cleanup_tx struct store_tx tx = STORE_TX_INIT;
    cleanup_stmt sqlite3_stmt *stmt = NULL;
    cleanup_image Image *made = NULL;
    const Descriptor *t = image->target;
    int has_ns;

    if (sup_store_tx_begin(st, &tx, true, err) < 0 ||
        (has_ns = sup_store_ns_lookup(st, ns, err)) < 0 ||
        (has_ns == 0 && sup_store_ns_insert(st, ns, err) < 0))
        return -1;
    if (sup_store_prepare(st,
                          "INSERT INTO images (namespace, " IMAGE_COLUMNS ") "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                          &stmt, err) < 0)
        return -1;
    if (sup_store_bind_text(stmt, 1, ns) != SQLITE_OK ||
        sup_store_bind_text(stmt, 2, image->name) != SQLITE_OK ||
        sup_store_bind_text(stmt, 3, t->media_type) != SQLITE_OK ||
        sup_store_bind_text(stmt, 4, t->digest) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 5, t->size) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 6, sup_store_now_ns()) != SQLITE_OK)
        return sup_store_db_err(st, err, "insert image");
    if (sqlite3_step(stmt) != SQLITE_DONE) {
        if (sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_PRIMARYKEY)
            return berth_err_fail(err, EEXIST, "image `%s` already exists in namespace `%s`",
                                  image->name, ns);
        return sup_store_db_err(st, err, "insert image");
    }
    /* A bad label rolls the row back with the rest of the transaction. */
    if (put_labels(st, ns, image, err) < 0)
        return berth_err_wrap(err, "create image `%s`", image->name);
    if (load(st, ns, image->name, &made, err) < 0 || sup_store_tx_commit(&tx, err) < 0)
        return -1;
    if (out)
        *out = steal_ptr(&made);
    return 0;
}

int
sup_store_image_get(struct sup_store *st, const char *ns, const char *name, Image **out,
                    struct berth_err *err)
{
    if (sup_store_check_name("namespace", ns, err) < 0 || check_image_name(name, err) < 0)
        return -1;

    cleanup_store_unlock struct sup_store *locked = sup_store_lock(st);
    cleanup_tx struct store_tx tx = STORE_TX_INIT;
    cleanup_image Image *image = NULL;

    if (sup_store_tx_begin(st, &tx, false, err) < 0 || load(st, ns, name, &image, err) < 0 ||
        sup_store_tx_commit(&tx, err) < 0)
        return -1;
    *out = steal_ptr(&image);
    return 0;
}

void
sup_store_image_list_free(Image **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        protobuf_c_message_free_unpacked(&list[i]->base, NULL);
    free(list);
}

/* Every row of ns sorted by name, then its labels sorted by (image, key), merged in one pass. */
static int
list_ns(struct sup_store *st, const char *ns, Image ***out, size_t *n_out, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *rows = NULL;
    cleanup_stmt sqlite3_stmt *labels = NULL;
    Image **list = NULL;
    size_t n = 0, at = 0;
    int rc;

    if (sup_store_prepare(st,
                          "SELECT " IMAGE_COLUMNS " FROM images WHERE namespace = ?1 ORDER BY name",
                          &rows, err) < 0)
        return -1;
    if (sup_store_bind_text(rows, 1, ns) != SQLITE_OK)
        return sup_store_db_err(st, err, "list images");
    while ((rc = sqlite3_step(rows)) == SQLITE_ROW) {
        list = xrealloc(list, (n + 1) * sizeof(*list));
        list[n++] = from_row(rows);
    }
    if (rc != SQLITE_DONE)
        goto db_fail;
    if (sup_store_prepare(st,
                          "SELECT image, key, value FROM image_labels WHERE namespace = ?1 "
                          "ORDER BY image, key",
                          &labels, err) < 0) {
        sup_store_image_list_free(list, n);
        return -1;
    }
    if (sup_store_bind_text(labels, 1, ns) != SQLITE_OK)
        goto db_fail;
    /* Both orders are SQLite's BINARY collation, the same as strcmp. */
    while ((rc = sqlite3_step(labels)) == SQLITE_ROW) {
        const char *name = sup_store_str((const char *)sqlite3_column_text(labels, 0));
        while (at < n && strcmp(list[at]->name, name) < 0)
            at++;
        if (at < n && strcmp(list[at]->name, name) == 0)
            add_label(list[at], labels, 1);
    }
    if (rc != SQLITE_DONE)
        goto db_fail;
    *out = list;
    *n_out = n;
    return 0;

db_fail:
    sup_store_image_list_free(list, n);
    return sup_store_db_err(st, err, "list images");
}

int
sup_store_image_list(struct sup_store *st, const char *ns, Image ***out, size_t *n_out,
                     struct berth_err *err)
{
    if (sup_store_check_name("namespace", ns, err) < 0)
        return -1;

    cleanup_store_unlock struct sup_store *locked = sup_store_lock(st);
    cleanup_tx struct store_tx tx = STORE_TX_INIT;
    Image **list = NULL;
    size_t n = 0;

    if (sup_store_tx_begin(st, &tx, false, err) < 0 || list_ns(st, ns, &list, &n, err) < 0)
        return -1;
    if (sup_store_tx_commit(&tx, err) < 0) {
        sup_store_image_list_free(list, n);
        return -1;
    }
    *out = list;
    *n_out = n;
    return 0;
}

/* The value of label key in image, "" when it has none (which removes it); the last entry
 * wins, as when a map is decoded from the wire. */
static const char *
label_value(const Image *image, const char *key)
{
    const char *value = "";

    for (size_t i = 0; i < image->n_labels; i++)
        if (image->labels[i]->key && strcmp(image->labels[i]->key, key) == 0)
            value = sup_store_str(image->labels[i]->value);
    return value;
}

static int
check_mask(const Image *image, char *const *mask, size_t n_mask, struct berth_err *err)
{
    for (size_t i = 0; i < n_mask; i++) {
        const char *key = sup_store_mask_key(mask[i], "labels");
        if (strcmp(mask[i], "target") == 0) {
            if (check_target(image->name, image->target, err) < 0)
                return -1;
            continue;
        }
        if (strcmp(mask[i], "labels") == 0 || (key && *key))
            continue;
        return berth_err_fail(err, EINVAL,
                              "update image `%s`: cannot update `%s` (only target, labels and "
                              "labels.KEY)",
                              image->name, mask[i]);
    }
    return 0;
}

static int
set_target(struct sup_store *st, const char *ns, const Image *image, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;
    const Descriptor *t = image->target;

    if (sup_store_prepare(st,
                          "UPDATE images SET media_type = ?3, digest = ?4, size = ?5 "
                          "WHERE namespace = ?1 AND name = ?2",
                          &stmt, err) < 0)
        return -1;
    if (sup_store_bind_text(stmt, 1, ns) != SQLITE_OK ||
        sup_store_bind_text(stmt, 2, image->name) != SQLITE_OK ||
        sup_store_bind_text(stmt, 3, t->media_type) != SQLITE_OK ||
        sup_store_bind_text(stmt, 4, t->digest) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 5, t->size) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_DONE)
        return sup_store_db_err(st, err, "update image");
    return 0;
}

static int
touch(struct sup_store *st, const char *ns, const char *name, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;

    if (sup_store_prepare(st,
                          "UPDATE images SET updated_at = ?3 WHERE namespace = ?1 AND name = ?2",
                          &stmt, err) < 0)
        return -1;
    if (sup_store_bind_text(stmt, 1, ns) != SQLITE_OK ||
        sup_store_bind_text(stmt, 2, name) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 3, sup_store_now_ns()) != SQLITE_OK ||
        sqlite3_step(stmt) != SQLITE_DONE)
        return sup_store_db_err(st, err, "update image");
    if (sqlite3_changes(st->db) == 0)
        return berth_err_fail(err, ENOENT, "image `%s` not found in namespace `%s`", name, ns);
    return 0;
}

static int
apply_path(struct sup_store *st, const char *ns, const Image *image, const char *path,
           struct berth_err *err)
{
    const char *key = sup_store_mask_key(path, "labels");

    if (strcmp(path, "target") == 0)
        return set_target(st, ns, image, err);
    if (key)
        return put_label(st, ns, image->name, key, label_value(image, key), err);
    if (delete_labels(st, ns, image->name, err) < 0)
        return -1;
    return put_labels(st, ns, image, err);
}

int
sup_store_image_update(struct sup_store *st, const char *ns, const Image *image,
                       char *const *update_mask, size_t n_mask, Image **out, struct berth_err *err)
{
    static char *const all[] = {"target", "labels"};

    if (sup_store_check_name("namespace", ns, err) < 0 || check_image_name(image->name, err) < 0)
        return -1;
    if (n_mask == 0) {
        update_mask = all;
        n_mask = ARRAY_SIZE(all);
    }
    if (check_mask(image, update_mask, n_mask, err) < 0)
        return -1;

    cleanup_store_unlock struct sup_store *locked = sup_store_lock(st);
    cleanup_tx struct store_tx tx = STORE_TX_INIT;
    cleanup_image Image *updated = NULL;

    if (sup_store_tx_begin(st, &tx, true, err) < 0 || touch(st, ns, image->name, err) < 0)
        return -1;
    for (size_t i = 0; i < n_mask; i++)
        if (apply_path(st, ns, image, update_mask[i], err) < 0)
            return berth_err_wrap(err, "update image `%s`", image->name);
    if (load(st, ns, image->name, &updated, err) < 0 || sup_store_tx_commit(&tx, err) < 0)
        return -1;
    if (out)
        *out = steal_ptr(&updated);
    return 0;
}

int
sup_store_image_delete(struct sup_store *st, const char *ns, const char *name,
                       struct berth_err *err)
{
    if (sup_store_check_name("namespace", ns, err) < 0 || check_image_name(name, err) < 0)
        return -1;

    cleanup_store_unlock struct sup_store *locked = sup_store_lock(st);
    cleanup_tx struct store_tx tx = STORE_TX_INIT;
    cleanup_stmt sqlite3_stmt *stmt = NULL;

    /* Labels go with the row (ON DELETE CASCADE). */
    if (sup_store_tx_begin(st, &tx, true, err) < 0 ||
        sup_store_prepare(st, "DELETE FROM images WHERE namespace = ?1 AND name = ?2", &stmt, err) <
            0)
        return -1;
    if (sup_store_bind_text(stmt, 1, ns) != SQLITE_OK ||
        sup_store_bind_text(stmt, 2, name) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_DONE)
        return sup_store_db_err(st, err, "delete image");
    if (sqlite3_changes(st->db) == 0)
        return berth_err_fail(err, ENOENT, "image `%s` not found in namespace `%s`", name, ns);
    sqlite3_finalize(steal_ptr(&stmt));
    return sup_store_tx_commit(&tx, err);
}
