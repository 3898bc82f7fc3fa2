/* SPDX-License-Identifier: Apache-2.0
 *
 * Containers (store.h): rows of `containers` keyed by (namespace, id), their labels in
 * `container_labels` and their extensions in `container_extensions` (schema.c).
 *
 *   (none) --sup_store_container_create--> stored --sup_store_container_delete--> (none)
 *                                          |    ^
 *                                 sup_store_container_update
 *
 * A container's Runtime is split in two columns: its name as text, its options as the packed
 * RuntimeOptions message, so that fields added to RuntimeOptions later need no migration. A
 * container with no Runtime message stores NULL in both and reads back with runtime NULL.
 * Whether a task runs is not known here (the shims know): refusing to delete a container
 * with a task is the Containers service's job.
 */
#include "supervisor/store/store.h"
#include "supervisor/store/store-internal.h"

#include <errno.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"

typedef Berth__Supervisor__V1__Container Container;
typedef Berth__Supervisor__V1__Runtime Runtime;

static void
container_freep(Container **c)
{
    if (*c)
        protobuf_c_message_free_unpacked(&(*c)->base, NULL);
}
#define cleanup_container __attribute__((cleanup(container_freep)))

/* The update mask paths, as bits. */
enum {
    F_LABELS = 1 << 0,
    F_IMAGE = 1 << 1,
    F_SPEC = 1 << 2,
    F_RUNTIME = 1 << 3,
    F_ROOTFS = 1 << 4,
    F_SNAPSHOTTER = 1 << 5,
    F_SNAPSHOT_KEY = 1 << 6,
    F_EXTENSIONS = 1 << 7,
    /* What an empty mask replaces (UpdateContainerRequest in containers.proto). */
    F_DEFAULT = F_LABELS | F_IMAGE | F_SPEC | F_RUNTIME | F_SNAPSHOT_KEY | F_EXTENSIONS,
};

static const struct {
    const char *path;
    unsigned bit;
} update_fields[] = {
    {"labels", F_LABELS},
    {"image", F_IMAGE},
    {"spec", F_SPEC},
    {"runtime", F_RUNTIME},
    {"rootfs", F_ROOTFS},
    {"snapshotter", F_SNAPSHOTTER},
    {"snapshot_key", F_SNAPSHOT_KEY},
    {"extensions", F_EXTENSIONS},
};

#define SELECT_COLUMNS                                                                             \
    "SELECT id, image, runtime_name, runtime_options, spec, rootfs, snapshotter, snapshot_key, "   \
    "created_at, updated_at FROM containers "

/* ---- Rows <-> messages -------------------------------------------------------------------- */

/* Runtime columns at ?i (name) and ?i+1 (options). */
static int
bind_runtime(sqlite3_stmt *stmt, int i, const Runtime *rt)
{
    int rc;

    if (rt == NULL) {
        rc = sqlite3_bind_null(stmt, i);
        return rc == SQLITE_OK ? sqlite3_bind_null(stmt, i + 1) : rc;
    }
    rc = sup_store_bind_text(stmt, i, rt->name);
    if (rc != SQLITE_OK || rt->options == NULL)
        return rc == SQLITE_OK ? sqlite3_bind_null(stmt, i + 1) : rc;

    size_t len = protobuf_c_message_get_packed_size(&rt->options->base);
    if (len == 0)
        return sqlite3_bind_zeroblob(stmt, i + 1, 0); /* present, all defaults */
    uint8_t *buf = xmalloc(len);
    protobuf_c_message_pack(&rt->options->base, buf);
    /* SQLite owns buf from here, and frees it even when the bind fails. */
    return sqlite3_bind_blob64(stmt, i + 1, buf, len, free);
}

static int
read_runtime(sqlite3_stmt *stmt, int i, const char *id, Runtime **out, struct berth_err *err)
{
    *out = NULL;
    if (sqlite3_column_type(stmt, i) == SQLITE_NULL)
        return 0;

    Runtime *rt = xmalloc(sizeof(*rt));
    berth__supervisor__v1__runtime__init(rt);
    rt->name = sup_store_column_text(stmt, i);
    if (sqlite3_column_type(stmt, i + 1) != SQLITE_NULL) {
        const uint8_t *data = sqlite3_column_blob(stmt, i + 1);
        size_t len = (size_t)sqlite3_column_bytes(stmt, i + 1);
        ProtobufCMessage *opts = protobuf_c_message_unpack(
            &berth__supervisor__v1__runtime_options__descriptor, NULL, len, data);
        if (opts == NULL) {
            protobuf_c_message_free_unpacked(&rt->base, NULL);
            return berth_err_fail(err, EIO, "container `%s`: stored runtime options are corrupt",
                                  id);
        }
        rt->options = (Berth__Supervisor__V1__RuntimeOptions *)opts;
    }
    *out = rt;
    return 0;
}

/* Build the container of the current row (SELECT_COLUMNS), labels and extensions included. */
static int
from_row(struct sup_store *st, sqlite3_stmt *stmt, const char *ns, Container **out,
         struct berth_err *err)
{
    cleanup_container Container *c = xmalloc(sizeof(*c));

    berth__supervisor__v1__container__init(c);
    c->id = sup_store_column_text(stmt, 0);
    c->image = sup_store_column_text(stmt, 1);
    c->rootfs = sup_store_column_text(stmt, 5);
    c->snapshotter = sup_store_column_text(stmt, 6);
    c->snapshot_key = sup_store_column_text(stmt, 7);
    c->created_at = sqlite3_column_int64(stmt, 8);
    c->updated_at = sqlite3_column_int64(stmt, 9);
    c->spec = sup_store_column_blob(stmt, 4);
    if (read_runtime(stmt, 2, c->id, &c->runtime, err) < 0)
        return -1;
    if (sup_store_kv_load(st, SUP_STORE_CONTAINER_LABELS, ns, c->id,
                          &berth__supervisor__v1__container__labels_entry__descriptor, &c->n_labels,
                          &c->labels, err) < 0 ||
        sup_store_kv_load(st, SUP_STORE_CONTAINER_EXTENSIONS, ns, c->id,
                          &berth__supervisor__v1__container__extensions_entry__descriptor,
                          &c->n_extensions, &c->extensions, err) < 0)
        return -1;
    *out = steal_ptr(&c);
    return 0;
}

static int
load(struct sup_store *st, const char *ns, const char *id, Container **out, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;
    int rc;

    if (sup_store_prepare(st, SELECT_COLUMNS "WHERE namespace = ?1 AND id = ?2", &stmt, err) < 0)
        return -1;
    if (sup_store_bind_text(stmt, 1, ns) != SQLITE_OK ||
        sup_store_bind_text(stmt, 2, id) != SQLITE_OK)
        return sup_store_db_err(st, err, "get container");
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE)
        return berth_err_fail(err, ENOENT, "container `%s` not found in namespace `%s`", id, ns);
    if (rc != SQLITE_ROW)
        return sup_store_db_err(st, err, "get container");
    return from_row(st, stmt, ns, out, err);
}

/* ---- Labels and extensions ---------------------------------------------------------------- */

static int
put_labels(struct sup_store *st, const char *ns, const Container *c, struct berth_err *err)
{
    for (size_t i = 0; i < c->n_labels; i++) {
        const char *value = sup_store_str(c->labels[i]->value);
        if (sup_store_kv_put(st, SUP_STORE_CONTAINER_LABELS, ns, c->id, c->labels[i]->key, value,
                             strlen(value), err) < 0)
            return -1;
    }
    return 0;
}

static int
put_extensions(struct sup_store *st, const char *ns, const Container *c, struct berth_err *err)
{
    for (size_t i = 0; i < c->n_extensions; i++) {
        const ProtobufCBinaryData *v = &c->extensions[i]->value;
        if (sup_store_kv_put(st, SUP_STORE_CONTAINER_EXTENSIONS, ns, c->id, c->extensions[i]->key,
                             v->data, v->len, err) < 0)
            return -1;
    }
    return 0;
}

/* "labels.KEY": set KEY to its value in c, or delete it when c has no such label (or an
 * empty one). The last entry for a key wins, as when a map is decoded from the wire. */
static int
put_one_label(struct sup_store *st, const char *ns, const Container *c, const char *key,
              struct berth_err *err)
{
    const char *value = "";

    for (size_t i = 0; i < c->n_labels; i++)
        if (c->labels[i]->key && strcmp(c->labels[i]->key, key) == 0)
            value = sup_store_str(c->labels[i]->value);
    return sup_store_kv_put(st, SUP_STORE_CONTAINER_LABELS, ns, c->id, key, value, strlen(value),
                            err);
}

/* "extensions.KEY": set KEY to its value in c (which may be empty), or delete it when c has
 * no such extension. */
static int
put_one_extension(struct sup_store *st, const char *ns, const Container *c, const char *key,
                  struct berth_err *err)
{
    const ProtobufCBinaryData *v = NULL;

    for (size_t i = 0; i < c->n_extensions; i++)
        if (c->extensions[i]->key && strcmp(c->extensions[i]->key, key) == 0)
            v = &c->extensions[i]->value;
    if (v == NULL)
        return sup_store_kv_delete(st, SUP_STORE_CONTAINER_EXTENSIONS, ns, c->id, key, err);
    return sup_store_kv_put(st, SUP_STORE_CONTAINER_EXTENSIONS, ns, c->id, key, v->data, v->len,
                            err);
}

/* ---- Create ------------------------------------------------------------------------------- */

static int
insert_row(struct sup_store *st, const char *ns, const Container *c, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;
    int64_t now = sup_store_now_ns();

    if (sup_store_prepare(st,
                          "INSERT INTO containers (namespace, id, image, runtime_name, "
                          "runtime_options, spec, rootfs, snapshotter, snapshot_key, created_at, "
                          "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
                          &stmt, err) < 0)
        return -1;
    if (sup_store_bind_text(stmt, 1, ns) != SQLITE_OK ||
        sup_store_bind_text(stmt, 2, c->id) != SQLITE_OK ||
        sup_store_bind_text(stmt, 3, c->image) != SQLITE_OK ||
        bind_runtime(stmt, 4, c->runtime) != SQLITE_OK ||
        sup_store_bind_blob(stmt, 6, c->spec.data, c->spec.len) != SQLITE_OK ||
        sup_store_bind_text(stmt, 7, c->rootfs) != SQLITE_OK ||
        sup_store_bind_text(stmt, 8, c->snapshotter) != SQLITE_OK ||
        sup_store_bind_text(stmt, 9, c->snapshot_key) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 10, now) != SQLITE_OK)
        return sup_store_db_err(st, err, "insert container");
    if (sqlite3_step(stmt) != SQLITE_DONE) {
        if (sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_PRIMARYKEY)
            return berth_err_fail(err, EEXIST, "container `%s` already exists in namespace `%s`",
                                  c->id, ns);
        return sup_store_db_err(st, err, "insert container");
    }
    return 0;
}

int
sup_store_container_create(struct sup_store *st, const char *ns, bool create_ns, const Container *c,
                           Container **out, struct berth_err *err)
{
    if (sup_store_check_name("namespace", ns, err) < 0 ||
        sup_store_check_name("container", c->id, err) < 0)
        return -1;

    cleanup_store_unlock struct sup_store *locked = sup_store_lock(st);
    cleanup_tx struct store_tx tx = STORE_TX_INIT;
    cleanup_container Container *made = NULL;
    int r;

    if (sup_store_tx_begin(st, &tx, true, err) < 0 || (r = sup_store_ns_lookup(st, ns, err)) < 0)
        return -1;
    if (r == 0 && !create_ns)
        return berth_err_fail(err, ENOENT, "namespace `%s` not found", ns);
    if (r == 0 && sup_store_ns_insert(st, ns, err) < 0)
        return -1;
    if (insert_row(st, ns, c, err) < 0)
        return -1;
    /* Labels are checked as they go in: a bad one rolls back the row (and the namespace this
     * call created) with the rest of the transaction. */
    if (put_labels(st, ns, c, err) < 0 || put_extensions(st, ns, c, err) < 0)
        return berth_err_wrap(err, "create container `%s`", c->id);
    if (load(st, ns, c->id, &made, err) < 0 || sup_store_tx_commit(&tx, err) < 0)
        return -1;
    *out = steal_ptr(&made);
    return 0;
}

/* ---- Read --------------------------------------------------------------------------------- */

int
sup_store_container_get(struct sup_store *st, const char *ns, const char *id, Container **out,
                        struct berth_err *err)
{
    if (sup_store_check_name("namespace", ns, err) < 0 ||
        sup_store_check_name("container", id, err) < 0)
        return -1;

    cleanup_store_unlock struct sup_store *locked = sup_store_lock(st);
    cleanup_tx struct store_tx tx = STORE_TX_INIT;
    cleanup_container Container *c = NULL;

    if (sup_store_tx_begin(st, &tx, false, err) < 0 || load(st, ns, id, &c, err) < 0 ||
        sup_store_tx_commit(&tx, err) < 0)
        return -1;
    *out = steal_ptr(&c);
    return 0;
}

static void
free_list(Container **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        protobuf_c_message_free_unpacked(&list[i]->base, NULL);
    free(list);
}

int
sup_store_container_list(struct sup_store *st, const char *ns, Container ***out, size_t *n_out,
                         struct berth_err *err)
{
    if (sup_store_check_name("namespace", ns, err) < 0)
        return -1;

    cleanup_store_unlock struct sup_store *locked = sup_store_lock(st);
    cleanup_tx struct store_tx tx = STORE_TX_INIT;
    cleanup_stmt sqlite3_stmt *stmt = NULL;
    Container **list = NULL;
    size_t n = 0;
    int rc;

    if (sup_store_tx_begin(st, &tx, false, err) < 0 ||
        sup_store_prepare(st, SELECT_COLUMNS "WHERE namespace = ?1 ORDER BY id", &stmt, err) < 0)
        return -1;
    if (sup_store_bind_text(stmt, 1, ns) != SQLITE_OK)
        return sup_store_db_err(st, err, "list containers");
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        list = xrealloc(list, (n + 1) * sizeof(*list));
        if (from_row(st, stmt, ns, &list[n], err) < 0) {
            free_list(list, n);
            return -1;
        }
        n++;
    }
    if (rc != SQLITE_DONE) {
        free_list(list, n);
        return sup_store_db_err(st, err, "list containers");
    }
    sqlite3_finalize(steal_ptr(&stmt));
    if (sup_store_tx_commit(&tx, err) < 0) {
        free_list(list, n);
        return -1;
    }
    *out = list;
    *n_out = n;
    return 0;
}

/* ---- Update ------------------------------------------------------------------------------- */

/* The bits of the mask, or -1 and EINVAL naming the first path that is not one. */
static int
parse_mask(const char *id, char *const *mask, size_t n_mask, unsigned *bits, struct berth_err *err)
{
    *bits = n_mask ? 0 : F_DEFAULT;
    for (size_t i = 0; i < n_mask; i++) {
        const char *path = mask[i];
        const char *key = sup_store_mask_key(path, "labels");
        bool known = (key && *key);

        key = sup_store_mask_key(path, "extensions");
        known = known || (key && *key);
        for (size_t j = 0; j < ARRAY_SIZE(update_fields) && !known; j++)
            if (strcmp(path, update_fields[j].path) == 0) {
                *bits |= update_fields[j].bit;
                known = true;
            }
        if (known)
            continue;
        if (strcmp(path, "id") == 0 || strcmp(path, "created_at") == 0 ||
            strcmp(path, "updated_at") == 0)
            return berth_err_fail(err, EINVAL, "update container `%s`: `%s` cannot be updated", id,
                                  path);
        return berth_err_fail(err, EINVAL, "update container `%s`: unknown field `%s` in mask", id,
                              path);
    }
    return 0;
}

/* Replace the columns the mask names and set updated_at, in one statement whose CASEs keep
 * the other columns; ENOENT when the row does not exist. */
static int
update_row(struct sup_store *st, const char *ns, const Container *c, unsigned bits,
           struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;

    if (sup_store_prepare(st,
                          "UPDATE containers SET"
                          " image = CASE WHEN ?3 THEN ?4 ELSE image END,"
                          " runtime_name = CASE WHEN ?5 THEN ?6 ELSE runtime_name END,"
                          " runtime_options = CASE WHEN ?5 THEN ?7 ELSE runtime_options END,"
                          " spec = CASE WHEN ?8 THEN ?9 ELSE spec END,"
                          " rootfs = CASE WHEN ?10 THEN ?11 ELSE rootfs END,"
                          " snapshotter = CASE WHEN ?12 THEN ?13 ELSE snapshotter END,"
                          " snapshot_key = CASE WHEN ?14 THEN ?15 ELSE snapshot_key END,"
                          " updated_at = ?16"
                          " WHERE namespace = ?1 AND id = ?2",
                          &stmt, err) < 0)
        return -1;
    if (sup_store_bind_text(stmt, 1, ns) != SQLITE_OK ||
        sup_store_bind_text(stmt, 2, c->id) != SQLITE_OK ||
        sqlite3_bind_int(stmt, 3, !!(bits & F_IMAGE)) != SQLITE_OK ||
        sup_store_bind_text(stmt, 4, c->image) != SQLITE_OK ||
        sqlite3_bind_int(stmt, 5, !!(bits & F_RUNTIME)) != SQLITE_OK ||
        bind_runtime(stmt, 6, c->runtime) != SQLITE_OK ||
        sqlite3_bind_int(stmt, 8, !!(bits & F_SPEC)) != SQLITE_OK ||
        sup_store_bind_blob(stmt, 9, c->spec.data, c->spec.len) != SQLITE_OK ||
        sqlite3_bind_int(stmt, 10, !!(bits & F_ROOTFS)) != SQLITE_OK ||
        sup_store_bind_text(stmt, 11, c->rootfs) != SQLITE_OK ||
        sqlite3_bind_int(stmt, 12, !!(bits & F_SNAPSHOTTER)) != SQLITE_OK ||
        sup_store_bind_text(stmt, 13, c->snapshotter) != SQLITE_OK ||
        sqlite3_bind_int(stmt, 14, !!(bits & F_SNAPSHOT_KEY)) != SQLITE_OK ||
        sup_store_bind_text(stmt, 15, c->snapshot_key) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 16, sup_store_now_ns()) != SQLITE_OK ||
        sqlite3_step(stmt) != SQLITE_DONE)
        return sup_store_db_err(st, err, "update container");
    if (sqlite3_changes(st->db) == 0)
        return berth_err_fail(err, ENOENT, "container `%s` not found in namespace `%s`", c->id, ns);
    return 0;
}

/* Labels and extensions the mask names, in mask order ("labels" then "labels.a" replaces
 * all, then sets a again). */
static int
update_children(struct sup_store *st, const char *ns, const Container *c, char *const *mask,
                size_t n_mask, struct berth_err *err)
{
    static char *const default_mask[] = {"labels", "extensions"};
    const char *key;

    if (n_mask == 0) {
        mask = default_mask;
        n_mask = ARRAY_SIZE(default_mask);
    }
    for (size_t i = 0; i < n_mask; i++) {
        int r = 0;
        if (strcmp(mask[i], "labels") == 0) {
            r = sup_store_kv_delete(st, SUP_STORE_CONTAINER_LABELS, ns, c->id, NULL, err);
            r = r < 0 ? -1 : put_labels(st, ns, c, err);
        } else if (strcmp(mask[i], "extensions") == 0) {
            r = sup_store_kv_delete(st, SUP_STORE_CONTAINER_EXTENSIONS, ns, c->id, NULL, err);
            r = r < 0 ? -1 : put_extensions(st, ns, c, err);
        } else if ((key = sup_store_mask_key(mask[i], "labels")) != NULL) {
            r = put_one_label(st, ns, c, key, err);
        } else if ((key = sup_store_mask_key(mask[i], "extensions")) != NULL) {
            r = put_one_extension(st, ns, c, key, err);
        }
        if (r < 0)
            return -1;
    }
    return 0;
}

int
sup_store_container_update(struct sup_store *st, const char *ns, const Container *c,
                           char *const *update_mask, size_t n_mask, Container **out,
                           struct berth_err *err)
{
    unsigned bits;

    if (sup_store_check_name("namespace", ns, err) < 0 ||
        sup_store_check_name("container", c->id, err) < 0 ||
        parse_mask(c->id, update_mask, n_mask, &bits, err) < 0)
        return -1;

    cleanup_store_unlock struct sup_store *locked = sup_store_lock(st);
    cleanup_tx struct store_tx tx = STORE_TX_INIT;
    cleanup_container Container *updated = NULL;

    if (sup_store_tx_begin(st, &tx, true, err) < 0 || update_row(st, ns, c, bits, err) < 0)
        return -1;
    if (update_children(st, ns, c, update_mask, n_mask, err) < 0)
        return berth_err_wrap(err, "update container `%s`", c->id);
    if (load(st, ns, c->id, &updated, err) < 0 || sup_store_tx_commit(&tx, err) < 0)
        return -1;
    *out = steal_ptr(&updated);
    return 0;
}

/* ---- Delete ------------------------------------------------------------------------------- */

int
sup_store_container_delete(struct sup_store *st, const char *ns, const char *id,
                           struct berth_err *err)
{
    if (sup_store_check_name("namespace", ns, err) < 0 ||
        sup_store_check_name("container", id, err) < 0)
        return -1;

    cleanup_store_unlock struct sup_store *locked = sup_store_lock(st);
    cleanup_tx struct store_tx tx = STORE_TX_INIT;
    cleanup_stmt sqlite3_stmt *stmt = NULL;

    /* Labels and extensions go with the row (ON DELETE CASCADE). */
    if (sup_store_tx_begin(st, &tx, true, err) < 0 ||
        sup_store_prepare(st, "DELETE FROM containers WHERE namespace = ?1 AND id = ?2", &stmt,
                          err) < 0)
        return -1;
    if (sup_store_bind_text(stmt, 1, ns) != SQLITE_OK ||
        sup_store_bind_text(stmt, 2, id) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_DONE)
        return sup_store_db_err(st, err, "delete container");
    if (sqlite3_changes(st->db) == 0)
        return berth_err_fail(err, ENOENT, "container `%s` not found in namespace `%s`", id, ns);
    sqlite3_finalize(steal_ptr(&stmt));
    return sup_store_tx_commit(&tx, err);
}
