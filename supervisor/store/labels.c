/* SPDX-License-Identifier: Apache-2.0
 *
 * Labels and extensions: the key/value child tables of namespaces and containers
 * (store-internal.h, drawn in schema.c). One set of functions serves the three tables; a row
 * of `tables` says how each is keyed and what its values are, and the SQL is built from it.
 * Table names come from that row, never from input.
 */
#include "supervisor/store/store-internal.h"

#include <errno.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"

static const struct {
    const char *table;
    const char *what; /* for messages */
    bool by_container;
    bool is_blob;
} tables[] = {
    [SUP_STORE_NAMESPACE_LABELS] = {"namespace_labels", "label", false, false},
    [SUP_STORE_CONTAINER_LABELS] = {"container_labels", "label", true, false},
    [SUP_STORE_CONTAINER_EXTENSIONS] = {"container_extensions", "extension", true, true},
};

int
sup_store_check_label(const char *key, const char *value, struct berth_err *err)
{
    size_t len = strlen(sup_store_str(key)) + strlen(sup_store_str(value));

    if (key == NULL || *key == '\0')
        return berth_err_fail(err, EINVAL, "label key is empty");
    if (len > SUP_STORE_LABEL_MAX)
        return berth_err_fail(err, EINVAL, "label `%s`: key and value are longer than %d bytes",
                              key, SUP_STORE_LABEL_MAX);
    return 0;
}

/* Owner parameters are ?1 (namespace) and ?2 (container, for container tables only). */
static int
bind_owner(sqlite3_stmt *stmt, enum sup_store_kv kv, const char *ns, const char *id)
{
    int rc = sup_store_bind_text(stmt, 1, ns);

    if (rc == SQLITE_OK && tables[kv].by_container)
        rc = sup_store_bind_text(stmt, 2, id);
    return rc;
}

static const char *
owner_where(enum sup_store_kv kv)
{
    return tables[kv].by_container ? "namespace = ?1 AND container = ?2" : "namespace = ?1";
}

int
sup_store_kv_put(struct sup_store *st, enum sup_store_kv kv, const char *ns, const char *id,
                 const char *key, const void *value, size_t len, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;
    cleanup_free char *sql = NULL;

    if (tables[kv].is_blob) {
        if (key == NULL || *key == '\0')
            return berth_err_fail(err, EINVAL, "%s key is empty", tables[kv].what);
    } else {
        if (sup_store_check_label(key, value, err) < 0)
            return -1;
        if (*(const char *)value == '\0')
            return sup_store_kv_delete(st, kv, ns, id, key, err);
    }

    sql = xasprintf("INSERT INTO %s (namespace, %s key, value) VALUES (?1, %s ?3, ?4) "
                    "ON CONFLICT DO UPDATE SET value = excluded.value",
                    tables[kv].table, tables[kv].by_container ? "container," : "",
                    tables[kv].by_container ? "?2," : "");
    if (sup_store_prepare(st, sql, &stmt, err) < 0)
        return -1;
    int rc = bind_owner(stmt, kv, ns, id);
    if (rc == SQLITE_OK)
        rc = sup_store_bind_text(stmt, 3, key);
    if (rc == SQLITE_OK)
        rc = tables[kv].is_blob ? sup_store_bind_blob(stmt, 4, value, len)
                                : sup_store_bind_text(stmt, 4, value);
    if (rc != SQLITE_OK || sqlite3_step(stmt) != SQLITE_DONE)
        return sup_store_db_err(st, err, tables[kv].what);
    return 0;
}

int
sup_store_kv_delete(struct sup_store *st, enum sup_store_kv kv, const char *ns, const char *id,
                    const char *key, struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;
    cleanup_free char *sql = xasprintf("DELETE FROM %s WHERE %s%s", tables[kv].table,
                                       owner_where(kv), key ? " AND key = ?3" : "");

    if (sup_store_prepare(st, sql, &stmt, err) < 0)
        return -1;
    int rc = bind_owner(stmt, kv, ns, id);
    if (rc == SQLITE_OK && key)
        rc = sup_store_bind_text(stmt, 3, key);
    if (rc != SQLITE_OK || sqlite3_step(stmt) != SQLITE_DONE)
        return sup_store_db_err(st, err, tables[kv].what);
    return 0;
}

/* One map entry of entry_desc from the current row (key in column 0, value in column 1). */
static ProtobufCMessage *
entry_from_row(const ProtobufCMessageDescriptor *entry_desc, sqlite3_stmt *stmt)
{
    const ProtobufCFieldDescriptor *kf =
        protobuf_c_message_descriptor_get_field_by_name(entry_desc, "key");
    const ProtobufCFieldDescriptor *vf =
        protobuf_c_message_descriptor_get_field_by_name(entry_desc, "value");
    ProtobufCMessage *e = xmalloc(entry_desc->sizeof_message);
    char *base = (char *)e;

    protobuf_c_message_init(entry_desc, e);
    *(char **)(base + kf->offset) = sup_store_column_text(stmt, 0);
    if (vf->type == PROTOBUF_C_TYPE_BYTES)
        *(ProtobufCBinaryData *)(base + vf->offset) = sup_store_column_blob(stmt, 1);
    else
        *(char **)(base + vf->offset) = sup_store_column_text(stmt, 1);
    return e;
}

int
sup_store_kv_load(struct sup_store *st, enum sup_store_kv kv, const char *ns, const char *id,
                  const ProtobufCMessageDescriptor *entry_desc, size_t *n_out, void *out,
                  struct berth_err *err)
{
    cleanup_stmt sqlite3_stmt *stmt = NULL;
    cleanup_free char *sql = xasprintf("SELECT key, value FROM %s WHERE %s ORDER BY key",
                                       tables[kv].table, owner_where(kv));
    ProtobufCMessage **entries = NULL;
    size_t n = 0;
    int rc;

    if (sup_store_prepare(st, sql, &stmt, err) < 0)
        return -1;
    if (bind_owner(stmt, kv, ns, id) != SQLITE_OK)
        return sup_store_db_err(st, err, tables[kv].what);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        entries = xrealloc(entries, (n + 1) * sizeof(*entries));
        entries[n++] = entry_from_row(entry_desc, stmt);
    }
    if (rc != SQLITE_DONE) {
        for (size_t i = 0; i < n; i++)
            protobuf_c_message_free_unpacked(entries[i], NULL);
        free(entries);
        return sup_store_db_err(st, err, tables[kv].what);
    }
    *n_out = n;
    *(ProtobufCMessage ***)out = entries;
    return 0;
}
