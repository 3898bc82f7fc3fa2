/* SPDX-License-Identifier: Apache-2.0
 *
 * The content store: blobs named by their sha256 digest, written through ingests that
 * survive crashes and restarts, verified before they are stored, shared by every namespace.
 *
 *   <root>/content/blobs/sha256/<hex>     a committed blob, read-only (0444), never changed
 *   <root>/content/ingest/<sha256(ref)>/  an ingest: data (the bytes so far), ref, startedat
 *                                         (unix ns), and expected / total when known
 *
 * Labels and times live in the supervisor's SQLite store (store.h, "content"); the files are
 * the authority on which blobs exist. A blob whose row was lost (a crash between the rename
 * and the insert) still reads, lists and deletes, with its file's mtime as its times.
 *
 * An ingest's life, and the function behind each step:
 *
 *   (none) --writer_open--> open, locked --writer_write*--> ... --writer_commit--> blob
 *                            |      ^                                   |
 *                  writer_close    writer_open (same ref: resumes        +-- digest or size
 *                            v      at the bytes already there)              wrong: discarded
 *                          left, unlocked --abort--> (none)
 *
 * A writer holds an flock on its ingest directory for its whole life, so one ref has at most
 * one writer, in this process or any other (a second gets EBUSY "ref `x` is locked"). A
 * writer that dies (crash, kill -9) releases the lock with its process; the bytes it wrote
 * stay for the next writer of the ref, which rehashes them. Bytes are verified when they are
 * committed, so a torn tail left by a crash is caught there (digest mismatch), never stored.
 *
 * Functions are thread-safe except on one writer, which belongs to one thread at a time.
 * Errors: EINVAL for a bad digest, ref, mask or label and for content that fails
 * verification; ENOENT for a missing blob or ingest; EBUSY for a locked ref; EEXIST for a
 * blob that is already stored (see sup_content_writer_commit); errno of the failed system
 * call otherwise, with the path in the message.
 */
#ifndef BERTH_SUPERVISOR_CONTENT_CONTENT_H
#define BERTH_SUPERVISOR_CONTENT_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "berth/supervisor/v1/content.pb-c.h"

struct berth_err;
struct berth_sha256;
struct sup_content;
struct sup_content_writer;
struct sup_store;

/* A ref names an ingest: 1 to SUP_CONTENT_REF_MAX bytes of printable ASCII (no control
 * characters), chosen by the writer ("layer-sha256:abc..." or "pull/docker.io/x:1/config"). */
#define SUP_CONTENT_REF_MAX 1024

/* ---- The store */

/* Open the store under root (creating root/content and its folders, mode 0711), keeping its
 * metadata in st (not taken; it must outlive the content store). Rows whose blob is gone
 * are removed, so a crash between unlinking a blob and deleting its row leaves nothing. */
int sup_content_open(const char *root, struct sup_store *st, struct sup_content **out,
                     struct berth_err *err);
void sup_content_close(struct sup_content *cs);

/* Whether digest is stored (a malformed digest is not). */
bool sup_content_exists(struct sup_content *cs, const char *digest);

/* Info of a stored blob (its size from the file; labels sorted by key). ENOENT "content `d`
 * not found". Free *out with protobuf_c_message_free_unpacked. */
int sup_content_info(struct sup_content *cs, const char *digest, Berth__Supervisor__V1__Info **out,
                     struct berth_err *err);

/* Labels of info->digest, as update_mask says (store.h, sup_store_content_update); *out (may
 * be NULL) is the Info after. ENOENT when the blob is not stored. */
int sup_content_update(struct sup_content *cs, const Berth__Supervisor__V1__Info *info,
                       char *const *update_mask, size_t n_mask, Berth__Supervisor__V1__Info **out,
                       struct berth_err *err);

/* Every stored blob matching filters (common/filter.h over Info: digest, size, labels.KEY;
 * n_filters 0 matches all), sorted by digest: a malloc'd array of *n_out; free each and the
 * array (sup_content_info_list_free). EINVAL for a bad filter. */
int sup_content_list(struct sup_content *cs, const char *const *filters, size_t n_filters,
                     Berth__Supervisor__V1__Info ***out, size_t *n_out, struct berth_err *err);
void sup_content_info_list_free(Berth__Supervisor__V1__Info **list, size_t n);

/* Remove a blob and its labels. ENOENT when it is not stored. Readers that opened it keep
 * reading it. */
int sup_content_delete(struct sup_content *cs, const char *digest, struct berth_err *err);

/* ---- Reading */

/* Open a stored blob for reading: returns an O_RDONLY|O_CLOEXEC fd (the caller closes it) and
 * its size in *size (may be NULL). ENOENT when it is not stored. */
int sup_content_open_blob(struct sup_content *cs, const char *digest, int64_t *size,
                          struct berth_err *err);

/* Read up to len bytes at offset of fd (from sup_content_open_blob) into buf, retrying short
 * reads and EINTR: returns the count, less than len only at the end of the blob. */
ssize_t sup_content_read_at(int fd, void *buf, size_t len, int64_t offset, struct berth_err *err);

/* A whole blob in memory (manifests, configs): *out is a NUL-terminated heap buffer of *len
 * bytes. EFBIG when the blob is larger than max bytes. */
int sup_content_read_all(struct sup_content *cs, const char *digest, size_t max, char **out,
                         size_t *len, struct berth_err *err);

/* The path of a stored blob (a heap string), for libraries that open files by name. The
 * file may be deleted once this returns: opening it can still fail with ENOENT. NULL with
 * err for a malformed digest or a blob that is not stored. */
char *sup_content_blob_path(struct sup_content *cs, const char *digest, struct berth_err *err);

/* ---- Writing */

/* Open the writer of ref, locked (EBUSY "ref `x` is locked" while another writer has it).
 * expected (a "sha256:<hex>" digest) and size (bytes; -1 for unknown) are what the content
 * must turn out to be; when expected is already stored, nothing is opened and the call fails
 * with EEXIST ("content `d` already exists"), so a caller skips the download.
 *
 * An ingest of ref left by an earlier writer is resumed: sup_content_writer_offset says how
 * many of its bytes are there (they are rehashed now). Its expectations must agree with
 * these (EINVAL "ref `x` is an ingest of ..., not ..."; abort it to start over); ones it
 * lacks are added. *out is released with sup_content_writer_close. */
int sup_content_writer_open(struct sup_content *cs, const char *ref, const char *expected,
                            int64_t size, struct sup_content_writer **out, struct berth_err *err);

/* Bytes written so far (resumed ones included): where the next write goes. */
int64_t sup_content_writer_offset(const struct sup_content_writer *w);
/* The sha256 of those bytes, as a hash to go on with (the caller frees it): what a client
 * needs that verifies a whole blob while downloading only its rest. */
struct berth_sha256 *sup_content_writer_hash(const struct sup_content_writer *w);

/* Append len bytes. Going past the expected size is EINVAL and writes nothing. A failed
 * write may have written part of buf: the offset says how much. */
int sup_content_writer_write(struct sup_content_writer *w, const void *buf, size_t len,
                             struct berth_err *err);

/* Drop the bytes past size (0 to start over: for a source that cannot resume). EINVAL
 * past the offset. The kept bytes are rehashed. */
int sup_content_writer_truncate(struct sup_content_writer *w, int64_t size, struct berth_err *err);

/* Verify and store the content. size (-1: the expected size from open, if any) and expected
 * (NULL: the one from open, if any) are checked against what was written:
 *
 *   - fewer bytes than size: EINVAL "size mismatch for `ref`: expected N bytes, got M";
 *     nothing changes, the writer can go on writing;
 *   - more bytes than size, or another digest: EINVAL ("digest mismatch for `ref`: expected
 *     sha256:..., got sha256:..."); the ingest is discarded and nothing is stored;
 *   - the blob is already stored (someone else committed it meanwhile): -1 with EEXIST
 *     ("content `d` already exists") and the ingest is discarded; this is the only EEXIST
 *     commit returns, and callers treat it as success (the content is there, labels are
 *     not changed: use sup_content_update);
 *   - otherwise the data is fsync'd, made read-only and renamed into blobs (atomic; the
 *     folder is fsync'd too), and its row is recorded with labels (Info's map entries,
 *     checked first: a bad label is EINVAL and changes nothing).
 *
 * On success or after any of the failures that discard, the writer is done: only close is
 * left. *digest_out (may be NULL) gets the digest stored, a heap string, also for EEXIST. */
int sup_content_writer_commit(struct sup_content_writer *w, int64_t size, const char *expected,
                              Berth__Supervisor__V1__Info__LabelsEntry *const *labels,
                              size_t n_labels, char **digest_out, struct berth_err *err);

/* The ingest's status now. Free with protobuf_c_message_free_unpacked. */
Berth__Supervisor__V1__IngestStatus *sup_content_writer_status(const struct sup_content_writer *w);

/* Release the lock and free the writer; an uncommitted ingest stays, to be resumed or
 * aborted. Safe with w NULL. */
void sup_content_writer_close(struct sup_content_writer *w);

/* ---- Ingests */

/* Status of ref's ingest (ENOENT "no ingest for ref `x`"), whether or not a writer holds it. */
int sup_content_status(struct sup_content *cs, const char *ref,
                       Berth__Supervisor__V1__IngestStatus **out, struct berth_err *err);

/* Every ingest matching filters (over ref, offset, total, expected), sorted by ref. Free with
 * sup_content_status_list_free. */
int sup_content_list_statuses(struct sup_content *cs, const char *const *filters, size_t n_filters,
                              Berth__Supervisor__V1__IngestStatus ***out, size_t *n_out,
                              struct berth_err *err);
void sup_content_status_list_free(Berth__Supervisor__V1__IngestStatus **list, size_t n);

/* Discard ref's ingest. ENOENT when there is none, EBUSY while a writer holds it. */
int sup_content_abort(struct sup_content *cs, const char *ref, struct berth_err *err);

static inline void
sup_content_writer_closep(struct sup_content_writer **w)
{
    sup_content_writer_close(*w);
}
#define cleanup_content_writer __attribute__((cleanup(sup_content_writer_closep)))

#endif
