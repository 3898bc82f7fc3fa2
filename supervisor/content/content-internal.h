/* SPDX-License-Identifier: Apache-2.0
 *
 * What the files of supervisor/content share: the store's folders (kept open, so that every
 * file operation is relative to a directory fd), digest and ref checks, and the ingest
 * folders (ingest.c) that writer.c locks, fills and removes.
 */
#ifndef BERTH_SUPERVISOR_CONTENT_CONTENT_INTERNAL_H
#define BERTH_SUPERVISOR_CONTENT_CONTENT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "berth/supervisor/v1/content.pb-c.h"
#include "common/digest.h"

struct berth_err;
struct sup_store;

struct sup_content {
    char *blobs;   /* <root>/content/blobs/sha256, for messages and blob paths */
    char *ingest;  /* <root>/content/ingest */
    int blobs_fd;  /* O_RDONLY|O_DIRECTORY: renames land here, fsync'd after */
    int ingest_fd; /* O_RDONLY|O_DIRECTORY */
    struct sup_store *st;
};

/* Files of an ingest folder. "ref" is written last when an ingest starts, so a folder
 * without it is one whose writer died before it was set up: it is started over. */
#define SUP_CONTENT_INGEST_DATA       "data"
#define SUP_CONTENT_INGEST_REF        "ref"
#define SUP_CONTENT_INGEST_STARTED_AT "startedat"
#define SUP_CONTENT_INGEST_EXPECTED   "expected"
#define SUP_CONTENT_INGEST_TOTAL      "total"

/* A sha256 hex string and its NUL. */
typedef char sup_content_hex[BERTH_SHA256_HEX_LEN + 1];

/* "sha256:<64 lowercase hex>" (EINVAL, printed without strerror, otherwise); *hex (may be
 * NULL) points into digest. */
int sup_content_check_digest(const char *digest, const char **hex, struct berth_err *err);

/* Hand the error in inner (a local one, looked at before deciding to fail) to err, leaving
 * inner empty. Returns -1. */
int sup_content_err_move(struct berth_err *err, struct berth_err *inner);

/* A ref as content.h describes (EINVAL "invalid ref `x`: ..." otherwise). */
int sup_content_check_ref(const char *ref, struct berth_err *err);

/* Unix nanoseconds of a stat time. */
static inline int64_t
sup_content_ts_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/* ---- Ingest folders (ingest.c) */

/* The folder name of ref: the sha256 of its bytes. */
void sup_content_ingest_key(const char *ref, sup_content_hex key);

/* Open ref's ingest folder and lock it (flock, LOCK_EX, without waiting); returns the
 * folder's fd, which holds the lock until closed. With create, a missing folder is made;
 * without, it is ENOENT "no ingest for ref `x`". EBUSY "ref `x` is locked" when another
 * writer has it. A folder removed or replaced between the open and the lock (its holder
 * committed or aborted) is opened again, so the lock returned is on the live folder. */
int sup_content_ingest_lock(struct sup_content *cs, const char *ref, bool create,
                            struct berth_err *err);

/* Remove ref's ingest folder; the caller holds its lock. */
int sup_content_ingest_remove(struct sup_content *cs, const char *ref, struct berth_err *err);

/* Read a small file `name` of the ingest folder dirfd into a new string, its trailing
 * newline dropped: 1 when read, 0 when there is no such file (*out NULL), -1 on failure. */
int sup_content_ingest_read(int dirfd, const char *ref, const char *name, char **out,
                            struct berth_err *err);

/* Replace file `name` of ref's ingest folder with s (atomic: temp file, fsync, rename). */
int sup_content_ingest_write(struct sup_content *cs, const char *ref, const char *name,
                             const char *s, struct berth_err *err);

/* The status of the ingest folder dirfd (locked or not), from its files. ENOENT when its
 * writer has not set it up (no "ref" file). When ref is not NULL, the folder must hold it. */
int sup_content_ingest_status(int dirfd, const char *ref, Berth__Supervisor__V1__IngestStatus **out,
                              struct berth_err *err);

#endif
