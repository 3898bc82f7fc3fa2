/* SPDX-License-Identifier: Apache-2.0
 *
 * Leases: what work in progress (a pull, a push, an import) has made or is making and must
 * not lose to the garbage collector before an image refers to it.
 *
 * A lease lists content digests, ingest refs and snapshot keys (namespaced keys, as the
 * snapshotter sees them). The rule that makes collection safe against concurrent pulls:
 *
 *   1. a worker adds an item to its lease *before* it creates the item (commits the blob,
 *      prepares or commits the snapshot);
 *   2. it creates the image that refers to the items, then releases the lease;
 *   3. the collector holds the set locked from before it reads the images until it has
 *      removed the last thing it removes (sup_leases_lock), so adds and releases wait.
 *
 * A collection that starts before the release sees the lease; one that starts after sees the
 * image. Leases live in memory only: a supervisor that dies takes its pulls with it, and what
 * they left is garbage (or an ingest the next pull resumes).
 *
 * Thread-safe. A lease belongs to one worker (one thread at a time).
 */
#ifndef BERTH_SUPERVISOR_IMAGES_LEASE_H
#define BERTH_SUPERVISOR_IMAGES_LEASE_H

#include <stdbool.h>

struct sup_leases;
struct sup_lease;

enum sup_lease_kind {
    SUP_LEASE_CONTENT = 0, /* a blob digest, "sha256:..." */
    SUP_LEASE_INGEST,      /* a content ingest ref */
    SUP_LEASE_SNAPSHOT,    /* a snapshot key or name, "<namespace>/..." */
};

struct sup_leases *sup_leases_new(void);
/* Every lease must have been released. */
void sup_leases_free(struct sup_leases *ls);

/* A new lease; `what` says whose it is (for logs: "pull docker.io/library/busybox:latest"). */
struct sup_lease *sup_lease_new(struct sup_leases *ls, const char *what);
/* Add an item (copied). Waits while a collection runs. Adding one twice is harmless. */
void sup_lease_add(struct sup_lease *l, enum sup_lease_kind kind, const char *id);
/* Drop the lease and its items. Waits while a collection runs. Safe with l NULL. */
void sup_lease_release(struct sup_lease *l);

static inline void
sup_lease_releasep(struct sup_lease **l)
{
    sup_lease_release(*l);
}
#define cleanup_lease __attribute__((cleanup(sup_lease_releasep)))

/* For the collector: lock the set (no lease is added to or released until unlock), ask
 * whether an item is leased, unlock. */
void sup_leases_lock(struct sup_leases *ls);
bool sup_leases_has(struct sup_leases *ls, enum sup_lease_kind kind, const char *id);
/* Leases alive now (under the lock). */
unsigned sup_leases_count(struct sup_leases *ls);
void sup_leases_unlock(struct sup_leases *ls);

#endif
