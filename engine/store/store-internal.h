/* SPDX-License-Identifier: Apache-2.0
 *
 * What the files of engine/store share: the handle (store.c opens it; containers.c,
 * volumes.c... run their statements on db) and a statement helper.
 */
#ifndef BERTH_ENGINE_STORE_STORE_INTERNAL_H
#define BERTH_ENGINE_STORE_STORE_INTERNAL_H

#include <sqlite3.h>

struct eng_store {
    sqlite3 *db;
    int version;
};

static inline void
eng_store_finalizep(sqlite3_stmt **st)
{
    sqlite3_finalize(*st);
}
/* A prepared statement finalized at the end of its scope. */
#define cleanup_stmt __attribute__((cleanup(eng_store_finalizep)))

/* Step st (an UPDATE or DELETE) to its end; *changes gets the rows it changed. Both happen
 * under the connection's mutex: sqlite3_changes() is the connection's, not the statement's,
 * and another thread's statement in between (a parallel rm's) would change it. Returns
 * sqlite3_step's result. */
static inline int
eng_store_step_changes(struct eng_store *s, sqlite3_stmt *st, int *changes)
{
    sqlite3_mutex *m = sqlite3_db_mutex(s->db);
    sqlite3_mutex_enter(m);
    int rc = sqlite3_step(st);
    *changes = rc == SQLITE_DONE ? sqlite3_changes(s->db) : 0;
    sqlite3_mutex_leave(m);
    return rc;
}

#endif
