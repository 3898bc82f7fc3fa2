/* SPDX-License-Identifier: Apache-2.0
 *
 * Namespaces (store.h): rows of `namespaces` with their labels in `namespace_labels`.
 *
 *   (none) --sup_store_namespace_create--> exists --sup_store_namespace_delete--> (none)
 *                                          |    ^     refused (EBUSY) while containers
 *                          sup_store_namespace_update  remain, and always for "default"
 *
 * "default" is created by sup_store_open and can never be deleted: calls that name no
 * namespace act in it. A namespace is also created implicitly by sup_store_container_create
 * with create_ns (containers.c, through sup_store_ns_insert).
 */
#include "supervisor/store/store.h"
#include "supervisor/store/store-internal.h"

#include <errno.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"

typedef Berth__Supervisor__V1__Namespace Namespace;

static void
namespace_freep(Namespace **ns)
{
    if (*ns)
        protobuf_c_message_free_unpacked(&(*ns)->base, NULL);
}
#define cleanup_namespace __attribute__((cleanup(namespace_freep)))

/* ---- Shared with containers.c ------------------------------------------------------------- */

int
sup_store_ns_lookup(struct sup_store *st, const char *name, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;

    if (sup_store_prepare(st, "SELECT 1 FROM namespaces WHERE name = ?1", &stmt, err) < 0)
        return -1;
    if (sup_store_bind_text(stmt, 1, name) != SQLITE_OK)
        return sup_store_db_err(st, err, "look up namespace");
    switch (sqlite3_step(stmt)) {
    case SQLITE_ROW: return 1;
    case SQLITE_DONE: return 0;
    default: return sup_store_db_err(st, err, "look up namespace");
    }
}

int
sup_store_ns_insert(struct sup_store *st, const char *name, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;
    int64_t now = sup_store_now_ns();

    if (sup_store_prepare(st,
                          "INSERT INTO namespaces (name, created_at, updated_at) "
                          "VALUES (?1, ?2, ?2)",
                          &stmt, err) < 0)
        return -1;
    if (sup_store_bind_text(stmt, 1, name) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 2, now) != SQLITE_OK)
        return sup_store_db_err(st, err, "insert namespace");
    if (sqlite3_step(stmt) != SQLITE_DONE) {
        if (sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_PRIMARYKEY)
            return berth_err_fail(err, EEXIST, "namespace `%s` already exists", name);
        return sup_store_db_err(st, err, "insert namespace");
    }
    return 0;
}

/* ---- Rows, labels and masks ------------------------------------------------------------------ */

/* Build namespace `name` from the database; ENOENT when it is missing. */
static int
load(struct sup_store *st, const char *name, Namespace **out, struct berth_err *err)
{
    cleanup_namespace Namespace *ns = NULL;
    int r = sup_store_ns_lookup(st, name, err);

    if (r < 0)
        return -1;
    if (r == 0)
        return berth_err_fail(err, ENOENT, "namespace `%s` not found", name);
    ns = xmalloc(sizeof(*ns));
    berth__supervisor__v1__namespace__init(ns);
    ns->name = xstrdup(name);
    if (sup_store_kv_load(st, SUP_STORE_NAMESPACE_LABELS, name, NULL,
                          &berth__supervisor__v1__namespace__labels_entry__descriptor,
                          &ns->n_labels, &ns->labels, err) < 0)
        return -1;
    *out = steal_ptr(&ns);
    return 0;
}

static int
put_labels(struct sup_store *st, const Namespace *ns, struct berth_err *err)
{
    for (size_t i = 0; i < ns->n_labels; i++) {
        const char *value = sup_store_str(ns->labels[i]->value);
        if (sup_store_kv_put(st, SUP_STORE_NAMESPACE_LABELS, ns->name, NULL, ns->labels[i]->key,
                             value, strlen(value), err) < 0)
            return -1;
    }
    return 0;
}

/* The value of label key in ns, "" when ns has none (which deletes it). The last entry
 * wins, as when a map is decoded from the wire. */
static const char *
label_value(const Namespace *ns, const char *key)
{
    const char *value = "";

    for (size_t i = 0; i < ns->n_labels; i++)
        if (ns->labels[i]->key && strcmp(ns->labels[i]->key, key) == 0)
            value = sup_store_str(ns->labels[i]->value);
    return value;
}

/* Apply one checked update mask path: "labels" replaces them all, "labels.KEY" one. */
static int
apply_mask_path(struct sup_store *st, const Namespace *ns, const char *path, struct berth_err *err)
{
    const char *key = sup_store_mask_key(path, "labels");

    if (key) {
        const char *value = label_value(ns, key);
        return sup_store_kv_put(st, SUP_STORE_NAMESPACE_LABELS, ns->name, NULL, key, value,
                                strlen(value), err);
    }
    if (sup_store_kv_delete(st, SUP_STORE_NAMESPACE_LABELS, ns->name, NULL, NULL, err) < 0)
        return -1;
    return put_labels(st, ns, err);
}

static int
check_mask(const char *name, char *const *mask, size_t n_mask, struct berth_err *err)
{
    for (size_t i = 0; i < n_mask; i++) {
        const char *key = sup_store_mask_key(mask[i], "labels");
        if (strcmp(mask[i], "labels") == 0 || (key && *key))
            continue;
        return berth_err_fail(err, EINVAL,
                              "update namespace `%s`: cannot update `%s` "
                              "(only labels and labels.KEY)",
                              name, mask[i]);
    }
    return 0;
}

static int
touch(struct sup_store *st, const char *name, struct berth_err *err)
{
    static const char sql[] = "UPDATE namespaces SET updated_at = ?2 WHERE name = ?1";
    cleanup_stmt sqlite3_stmt *stmt = NULL;

    if (sup_store_prepare(st, sql, &stmt, err) < 0)
        return -1;
    if (sup_store_bind_text(stmt, 1, name) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 2, sup_store_now_ns()) != SQLITE_OK ||
        sqlite3_step(stmt) != SQLITE_DONE)
        return sup_store_db_err(st, err, "update namespace");
    return 0;
}

static int
count_containers(struct sup_store *st, const char *name, int64_t *n, struct berth_err *err)
{
    static const char sql[] = "SELECT count(*) FROM containers WHERE namespace = ?1";
    cleanup_stmt sqlite3_stmt *stmt = NULL;

    if (sup_store_prepare(st, sql, &stmt, err) < 0)
        return -1;
    if (sup_store_bind_text(stmt, 1, name) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_ROW)
        return sup_store_db_err(st, err, "count containers");
    *n = sqlite3_column_int64(stmt, 0);
    return 0;
}

/* ---- API ---------------------------------------------------------------------------------- */

int
sup_store_namespace_create(struct sup_store *st, const Namespace *ns, Namespace **out,
                           struct berth_err *err)
{
    if (sup_store_check_name("namespace", ns->name, err) < 0)
        return -1;

    cleanup_store_unlock struct sup_store *locked = sup_store_lock(st);
    cleanup_tx struct store_tx tx = STORE_TX_INIT;
    cleanup_namespace Namespace *made = NULL;

    if (sup_store_tx_begin(st, &tx, true, err) < 0 || sup_store_ns_insert(st, ns->name, err) < 0)
        return -1;
    if (put_labels(st, ns, err) < 0)
        return berth_err_wrap(err, "create namespace `%s`", ns->name);
    if (load(st, ns->name, &made, err) < 0 || sup_store_tx_commit(&tx, err) < 0)
        return -1;
    *out = steal_ptr(&made);
    return 0;
}

int
sup_store_namespace_get(struct sup_store *st, const char *name, Namespace **out,
                        struct berth_err *err)
{
    if (sup_store_check_name("namespace", name, err) < 0)
        return -1;

    cleanup_store_unlock struct sup_store *locked = sup_store_lock(st);
    cleanup_tx struct store_tx tx = STORE_TX_INIT;
    cleanup_namespace Namespace *ns = NULL;

    if (sup_store_tx_begin(st, &tx, false, err) < 0 || load(st, name, &ns, err) < 0 ||
        sup_store_tx_commit(&tx, err) < 0)
        return -1;
    *out = steal_ptr(&ns);
    return 0;
}

static void
free_list(Namespace **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        protobuf_c_message_free_unpacked(&list[i]->base, NULL);
    free(list);
}

int
sup_store_namespace_list(struct sup_store *st, Namespace ***out, size_t *n_out,
                         struct berth_err *err)
{
    cleanup_store_unlock struct sup_store *locked = sup_store_lock(st);
    cleanup_tx struct store_tx tx = STORE_TX_INIT;
    cleanup_stmt sqlite3_stmt *stmt = NULL;
    Namespace **list = NULL;
    size_t n = 0;
    int rc;

    if (sup_store_tx_begin(st, &tx, false, err) < 0 ||
        sup_store_prepare(st, "SELECT name FROM namespaces ORDER BY name", &stmt, err) < 0)
        return -1;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(stmt, 0);
        list = xrealloc(list, (n + 1) * sizeof(*list));
        if (load(st, name ? name : "", &list[n], err) < 0) {
            free_list(list, n);
            return -1;
        }
        n++;
    }
    if (rc != SQLITE_DONE) {
        free_list(list, n);
        return sup_store_db_err(st, err, "list namespaces");
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

int
sup_store_namespace_update(struct sup_store *st, const Namespace *ns, char *const *update_mask,
                           size_t n_mask, Namespace **out, struct berth_err *err)
{
    if (sup_store_check_name("namespace", ns->name, err) < 0 ||
        check_mask(ns->name, update_mask, n_mask, err) < 0)
        return -1;

    cleanup_store_unlock struct sup_store *locked = sup_store_lock(st);
    cleanup_tx struct store_tx tx = STORE_TX_INIT;
    cleanup_namespace Namespace *updated = NULL;
    const char *name = ns->name;
    int r;

    if (sup_store_tx_begin(st, &tx, true, err) < 0 || (r = sup_store_ns_lookup(st, name, err)) < 0)
        return -1;
    if (r == 0)
        return berth_err_fail(err, ENOENT, "namespace `%s` not found", name);
    /* No mask: replace all labels. */
    if (n_mask == 0 && apply_mask_path(st, ns, "labels", err) < 0)
        return berth_err_wrap(err, "update namespace `%s`", name);
    for (size_t i = 0; i < n_mask; i++)
        if (apply_mask_path(st, ns, update_mask[i], err) < 0)
            return berth_err_wrap(err, "update namespace `%s`", name);
    if (touch(st, name, err) < 0 || load(st, name, &updated, err) < 0 ||
        sup_store_tx_commit(&tx, err) < 0)
        return -1;
    *out = steal_ptr(&updated);
    return 0;
}

int
sup_store_namespace_delete(struct sup_store *st, const char *name, struct berth_err *err)
{
    if (sup_store_check_name("namespace", name, err) < 0)
        return -1;
    if (strcmp(name, "default") == 0)
        return berth_err_fail(err, EBUSY, "namespace `default` cannot be deleted");

    cleanup_store_unlock struct sup_store *locked = sup_store_lock(st);
    cleanup_tx struct store_tx tx = STORE_TX_INIT;
    cleanup_stmt sqlite3_stmt *stmt = NULL;
    int64_t n = 0;
    int r;

    if (sup_store_tx_begin(st, &tx, true, err) < 0 || (r = sup_store_ns_lookup(st, name, err)) < 0)
        return -1;
    if (r == 0)
        return berth_err_fail(err, ENOENT, "namespace `%s` not found", name);
    if (count_containers(st, name, &n, err) < 0)
        return -1;
    if (n > 0)
        return berth_err_fail(err, EBUSY, "namespace `%s` is not empty: %lld container%s", name,
                              (long long)n, n == 1 ? "" : "s");
    /* Labels go with it (ON DELETE CASCADE). */
    if (sup_store_prepare(st, "DELETE FROM namespaces WHERE name = ?1", &stmt, err) < 0)
        return -1;
    if (sup_store_bind_text(stmt, 1, name) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_DONE)
        return sup_store_db_err(st, err, "delete namespace");
    sqlite3_finalize(steal_ptr(&stmt));
    return sup_store_tx_commit(&tx, err);
}

int
sup_store_namespace_exists(struct sup_store *st, const char *name, struct berth_err *err)
{
    if (sup_store_check_name("namespace", name, err) < 0)
        return -1;

    cleanup_store_unlock struct sup_store *locked = sup_store_lock(st);

    /* One statement is its own transaction. */
    return sup_store_ns_lookup(st, name, err);
}
