/* SPDX-License-Identifier: Apache-2.0
 *
 * The schema of meta.db and its migrations (schema.c, where the tables are drawn). The
 * version lives in the database header (PRAGMA user_version): 0 is an empty file, and
 * migration N takes version N-1 to N in one transaction, so a crash mid-way leaves the
 * previous version intact.
 */
#ifndef BERTH_SUPERVISOR_STORE_SCHEMA_H
#define BERTH_SUPERVISOR_STORE_SCHEMA_H

struct berth_err;
struct sqlite3;

/* The version this build writes: the number of migrations. */
int sup_store_schema_latest(void);

/* The version of db into *out (0 for a new, empty database). EIO on a database failure. */
int sup_store_schema_read(struct sqlite3 *db, int *out, struct berth_err *err);

/* Bring db from its version up to `target` (1 ..= latest), one transaction a migration.
 * A database already at or past target is left alone, but one newer than this build knows
 * is refused with ENOTSUP ("schema version 9 is newer than this supervisor's 2"), since
 * writing to it could lose what the newer code stored. On failure the migration that failed
 * is rolled back and err names its version; earlier ones stay committed. */
int sup_store_schema_migrate(struct sqlite3 *db, int target, struct berth_err *err);

#endif
