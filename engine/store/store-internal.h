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

#endif
