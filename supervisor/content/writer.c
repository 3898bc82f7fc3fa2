/* SPDX-License-Identifier: Apache-2.0
 *
 * Writers (content.h): open or resume an ingest, append to it while hashing, and commit it
 * into a blob once its size and digest check out.
 *
 * The hash state is not saved: a resumed ingest is rehashed from its data file when the
 * writer opens. That costs one read of what is already there, once per resume, and means the
 * state can never disagree with the bytes (a crash can leave a data file shorter than what
 * its writer had hashed; it cannot leave a saved state that matches a torn file).
 *
 * Commit, in order: the checks that leave the ingest alone (bad expected digest, bad label,
 * too few bytes), then the ones that discard it (too many bytes, wrong digest), then fsync
 * of the data, chmod 0444, rename into blobs/sha256/<hex> without replacing (EEXIST: someone
 * else stored it first), fsync of blobs/sha256, the metadata row, and the removal of the
 * ingest folder. A crash before the rename leaves the ingest to resume; after it, the blob is
 * stored, and what is left (a missing row, a leftover folder) is harmless.
 */
#include "supervisor/content/content.h"
#include "supervisor/content/content-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/error.h"
#include "common/log.h"
#include "supervisor/store/store.h"

typedef Berth__Supervisor__V1__IngestStatus IngestStatus;
typedef Berth__Supervisor__V1__Info Info;

#define REHASH_BUF (256 * 1024)

struct sup_content_writer {
    struct sup_content *cs;
    char *ref;
    int dir_fd;  /* the ingest folder, flock'd */
    int data_fd; /* its data file, O_RDWR */
    struct berth_sha256 *hash;
    int64_t offset;
    int64_t total;  /* expected size, -1 when unknown */
    char *expected; /* expected digest, NULL when unknown */
    int64_t started_at;
    bool done; /* committed or discarded: only close is left */
};

/* ---- Hashing ------------------------------------------------------------------------------ */

/* Hash the first size bytes of the data file into a new hash state. */
static int
rehash(struct sup_content_writer *w, int64_t size, struct berth_err *err)
{
    cleanup_free char *buf = xmalloc(REHASH_BUF);
    struct berth_sha256 *h = berth_sha256_new();
    int64_t at = 0;

    while (at < size) {
        size_t want = size - at < REHASH_BUF ? (size_t)(size - at) : REHASH_BUF;
        ssize_t n = sup_content_read_at(w->data_fd, buf, want, at, err);
        if (n <= 0) {
            berth_sha256_free(h);
            if (n == 0)
                berth_err_fail(err, EIO, "data ends at %lld bytes", (long long)at);
            return berth_err_wrap(err, "ingest `%s`: rehash", w->ref);
        }
        berth_sha256_update(h, buf, (size_t)n);
        at += n;
    }
    berth_sha256_free(w->hash);
    w->hash = h;
    return 0;
}

/* ---- Open --------------------------------------------------------------------------------- */

/* Set a fresh ingest up: empty data, the expectations, the start time, and "ref" last. */
static int
start_ingest(struct sup_content_writer *w, struct berth_err *err)
{
    struct sup_content *cs = w->cs;
    char number[32];

    if (ftruncate(w->data_fd, 0) < 0)
        return berth_err_set(err, errno, "ingest `%s`: truncate data", w->ref);
    struct timespec now;
    /* The coarse clock is the one the kernel stamps file times with, so the data file's
     * mtime (the ingest's updated_at) never reads earlier than its start. */
    clock_gettime(CLOCK_REALTIME_COARSE, &now);
    w->started_at = sup_content_ts_ns(&now);
    snprintf(number, sizeof(number), "%lld", (long long)w->started_at);
    if (sup_content_ingest_write(cs, w->ref, SUP_CONTENT_INGEST_STARTED_AT, number, err) < 0)
        return -1;
    if (w->total >= 0) {
        snprintf(number, sizeof(number), "%lld", (long long)w->total);
        if (sup_content_ingest_write(cs, w->ref, SUP_CONTENT_INGEST_TOTAL, number, err) < 0)
            return -1;
    }
    if (w->expected &&
        sup_content_ingest_write(cs, w->ref, SUP_CONTENT_INGEST_EXPECTED, w->expected, err) < 0)
        return -1;
    return sup_content_ingest_write(cs, w->ref, SUP_CONTENT_INGEST_REF, w->ref, err);
}

/* An earlier ingest of the ref: its expectations must agree with ours; ones it lacks are
 * added, ones we lack are taken from it. */
static int
resume_ingest(struct sup_content_writer *w, const IngestStatus *old, struct berth_err *err)
{
    char number[32];

    if (*old->expected && w->expected && strcmp(old->expected, w->expected) != 0)
        return berth_err_fail(err, EINVAL,
                              "ref `%s` is an ingest of %s, not %s (abort it to start over)",
                              w->ref, old->expected, w->expected);
    if (old->total > 0 && w->total >= 0 && old->total != w->total)
        return berth_err_fail(err, EINVAL,
                              "ref `%s` is an ingest of %lld bytes, not %lld (abort it to start "
                              "over)",
                              w->ref, (long long)old->total, (long long)w->total);
    if (*old->expected && w->expected == NULL)
        w->expected = xstrdup(old->expected);
    else if (!*old->expected && w->expected &&
             sup_content_ingest_write(w->cs, w->ref, SUP_CONTENT_INGEST_EXPECTED, w->expected,
                                      err) < 0)
        return -1;
    if (old->total > 0 && w->total < 0) {
        w->total = old->total;
    } else if (old->total <= 0 && w->total >= 0) {
        snprintf(number, sizeof(number), "%lld", (long long)w->total);
        if (sup_content_ingest_write(w->cs, w->ref, SUP_CONTENT_INGEST_TOTAL, number, err) < 0)
            return -1;
    }
    w->started_at = old->started_at;
    if (w->total >= 0 && old->offset > w->total)
        return berth_err_fail(err, EINVAL,
                              "ref `%s` holds %lld bytes, more than the expected %lld (abort it "
                              "to start over)",
                              w->ref, (long long)old->offset, (long long)w->total);
    return 0;
}

static int
check_open_args(struct sup_content *cs, const char *ref, const char *expected, int64_t size,
                struct berth_err *err)
{
    if (sup_content_check_ref(ref, err) < 0)
        return -1;
    if (expected && sup_content_check_digest(expected, NULL, err) < 0)
        return berth_err_wrap(err, "write ref `%s`", ref);
    if (size < -1)
        return berth_err_fail(err, EINVAL, "write ref `%s`: size %lld is negative", ref,
                              (long long)size);
    if (expected && sup_content_exists(cs, expected))
        return berth_err_fail(err, EEXIST, "content `%s` already exists", expected);
    return 0;
}

int
sup_content_writer_open(struct sup_content *cs, const char *ref, const char *expected, int64_t size,
                        struct sup_content_writer **out, struct berth_err *err)
{
    cleanup_content_writer struct sup_content_writer *w = NULL;
    cleanup_err struct berth_err inner = BERTH_ERR_INIT;
    IngestStatus *old = NULL;
    struct stat sb;

    if (check_open_args(cs, ref, expected, size, err) < 0)
        return -1;
    w = xzalloc(sizeof(*w));
    w->cs = cs;
    w->ref = xstrdup(ref);
    w->dir_fd = w->data_fd = -1;
    w->total = size;
    w->expected = expected ? xstrdup(expected) : NULL;
    w->dir_fd = sup_content_ingest_lock(cs, ref, true, err);
    if (w->dir_fd < 0)
        return -1;
    w->data_fd =
        openat(w->dir_fd, SUP_CONTENT_INGEST_DATA, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (w->data_fd < 0)
        return berth_err_set(err, errno, "ingest `%s`: open data", ref);

    /* A folder without "ref" is new, or its writer died setting it up: start it (over). */
    if (sup_content_ingest_status(w->dir_fd, ref, &old, &inner) < 0) {
        if (inner.code != ENOENT)
            return sup_content_err_move(err, &inner);
        if (start_ingest(w, err) < 0)
            return berth_err_wrap(err, "start ingest `%s`", ref);
    } else {
        int r = resume_ingest(w, old, err);
        protobuf_c_message_free_unpacked(&old->base, NULL);
        if (r < 0)
            return -1;
    }
    if (fstat(w->data_fd, &sb) < 0)
        return berth_err_set(err, errno, "ingest `%s`: stat data", ref);
    w->offset = sb.st_size;
    if (rehash(w, w->offset, err) < 0)
        return -1;
    if (w->offset > 0)
        berth_debug("content: resume ingest ref=%s offset=%lld", ref, (long long)w->offset);
    *out = steal_ptr(&w);
    return 0;
}

/* ---- Writing ------------------------------------------------------------------------------ */

struct berth_sha256 *
sup_content_writer_hash(const struct sup_content_writer *w)
{
    return berth_sha256_copy(w->hash);
}

int64_t
sup_content_writer_offset(const struct sup_content_writer *w)
{
    return w->offset;
}

static int
check_live(const struct sup_content_writer *w, struct berth_err *err)
{
    if (w->done)
        return berth_err_fail(err, EINVAL, "ingest `%s` is already committed or discarded", w->ref);
    return 0;
}

int
sup_content_writer_write(struct sup_content_writer *w, const void *buf, size_t len,
                         struct berth_err *err)
{
    const char *p = buf;

    if (check_live(w, err) < 0)
        return -1;
    if (w->total >= 0 && (uint64_t)w->offset + len > (uint64_t)w->total)
        return berth_err_fail(err, EINVAL,
                              "write to ref `%s`: %zu bytes at offset %lld go past its expected "
                              "size of %lld bytes",
                              w->ref, len, (long long)w->offset, (long long)w->total);
    while (len > 0) {
        ssize_t n = pwrite(w->data_fd, p, len, (off_t)w->offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return berth_err_set(err, errno, "write to ref `%s` at offset %lld", w->ref,
                                 (long long)w->offset);
        berth_sha256_update(w->hash, p, (size_t)n);
        w->offset += n;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int
sup_content_writer_truncate(struct sup_content_writer *w, int64_t size, struct berth_err *err)
{
    if (check_live(w, err) < 0)
        return -1;
    if (size < 0 || size > w->offset)
        return berth_err_fail(err, EINVAL, "truncate ref `%s` to %lld bytes: it holds %lld", w->ref,
                              (long long)size, (long long)w->offset);
    if (ftruncate(w->data_fd, (off_t)size) < 0)
        return berth_err_set(err, errno, "truncate ref `%s`", w->ref);
    w->offset = size;
    return rehash(w, size, err);
}

/* ---- Commit ------------------------------------------------------------------------------- */

/* Remove the ingest and finish the writer; returns -1, for the failures that discard (err
 * already says why; a failure to remove is only logged, the folder is garbage anyway). */
static int
discard(struct sup_content_writer *w, struct berth_err *err)
{
    struct berth_err rm = BERTH_ERR_INIT;

    if (sup_content_ingest_remove(w->cs, w->ref, &rm) < 0)
        berth_err_warn(&rm);
    w->done = true;
    return -1;
}

/* rename(2) that refuses to replace: -1 with errno EEXIST when to exists. Filesystems
 * without RENAME_NOREPLACE fall back to a check, then a rename; both names hold the same
 * bytes if that races, so the replace would be harmless. */
static int
rename_noreplace(int from_dir, const char *from, int to_dir, const char *to)
{
    struct stat sb;

    if (renameat2(from_dir, from, to_dir, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    if (fstatat(to_dir, to, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
        errno = EEXIST;
        return -1;
    }
    return renameat(from_dir, from, to_dir, to);
}

/* Move the data into blobs/sha256/<hex>: fsync, read-only, rename, fsync of the folder. */
static int
store_blob(struct sup_content_writer *w, const char *hex, const char *digest, struct berth_err *err)
{
    struct sup_content *cs = w->cs;

    if (fsync(w->data_fd) < 0)
        return berth_err_set(err, errno, "ingest `%s`: fsync data", w->ref);
    if (fchmod(w->data_fd, 0444) < 0)
        return berth_err_set(err, errno, "ingest `%s`: chmod data", w->ref);
    if (rename_noreplace(w->dir_fd, SUP_CONTENT_INGEST_DATA, cs->blobs_fd, hex) < 0) {
        int saved = errno;
        if (saved == EEXIST)
            return berth_err_fail(err, EEXIST, "content `%s` already exists", digest);
        fchmod(w->data_fd, 0600); /* writable again for the writer that resumes it */
        return berth_err_set(err, saved, "ingest `%s`: rename data to `%s/%s`", w->ref, cs->blobs,
                             hex);
    }
    if (fsync(cs->blobs_fd) < 0)
        return berth_err_set(err, errno, "fsync `%s`", cs->blobs);
    return 0;
}

/* The row of the new blob. A row already there names a blob deleted by hand (rows of
 * missing blobs are pruned at open): it is replaced. */
static int
record(struct sup_content_writer *w, const char *digest,
       Berth__Supervisor__V1__Info__LabelsEntry *const *labels, size_t n_labels,
       struct berth_err *err)
{
    Info info = BERTH__SUPERVISOR__V1__INFO__INIT;
    cleanup_err struct berth_err inner = BERTH_ERR_INIT;

    info.digest = (char *)digest;
    info.size = w->offset;
    info.labels = (Berth__Supervisor__V1__Info__LabelsEntry **)labels;
    info.n_labels = n_labels;
    if (sup_store_content_create(w->cs->st, &info, NULL, &inner) == 0)
        return 0;
    if (inner.code != EEXIST)
        return sup_content_err_move(err, &inner);
    berth_err_clear(&inner);
    if (sup_store_content_delete(w->cs->st, digest, err) < 0)
        return -1;
    return sup_store_content_create(w->cs->st, &info, NULL, err);
}

static int
check_labels(Berth__Supervisor__V1__Info__LabelsEntry *const *labels, size_t n_labels,
             struct berth_err *err)
{
    for (size_t i = 0; i < n_labels; i++)
        if (sup_store_check_label(labels[i]->key, labels[i]->value, err) < 0)
            return -1;
    return 0;
}

int
sup_content_writer_commit(struct sup_content_writer *w, int64_t size, const char *expected,
                          Berth__Supervisor__V1__Info__LabelsEntry *const *labels, size_t n_labels,
                          char **digest_out, struct berth_err *err)
{
    char hex[BERTH_SHA256_HEX_LEN + 1];

    if (check_live(w, err) < 0)
        return -1;
    if (size < 0)
        size = w->total;
    if (expected == NULL)
        expected = w->expected;
    if (expected && sup_content_check_digest(expected, NULL, err) < 0)
        return berth_err_wrap(err, "commit ref `%s`", w->ref);
    if (check_labels(labels, n_labels, err) < 0)
        return berth_err_wrap(err, "commit ref `%s`", w->ref);
    if (size >= 0 && w->offset < size)
        return berth_err_fail(err, EINVAL, "size mismatch for `%s`: expected %lld bytes, got %lld",
                              w->ref, (long long)size, (long long)w->offset);
    if (size >= 0 && w->offset > size) {
        berth_err_fail(err, EINVAL, "size mismatch for `%s`: expected %lld bytes, got %lld", w->ref,
                       (long long)size, (long long)w->offset);
        return discard(w, err);
    }

    berth_sha256_final(w->hash, hex);
    berth_sha256_free(steal_ptr(&w->hash));
    cleanup_free char *digest = xasprintf("sha256:%s", hex);
    if (expected && strcmp(expected, digest) != 0) {
        berth_err_fail(err, EINVAL, "digest mismatch for `%s`: expected %s, got %s", w->ref,
                       expected, digest);
        return discard(w, err);
    }
    if (digest_out)
        *digest_out = xstrdup(digest);

    int r = store_blob(w, hex, digest, err);
    if (r < 0 && err->code == EEXIST)
        return discard(w, err);
    if (r < 0) {
        /* Nothing is stored: the writer is spent (its hash is final), the ingest stays. */
        w->done = true;
        return -1;
    }
    w->done = true;
    if (record(w, digest, labels, n_labels, err) < 0)
        r = berth_err_wrap(err, "record content `%s`", digest);
    struct berth_err rm = BERTH_ERR_INIT;
    if (sup_content_ingest_remove(w->cs, w->ref, &rm) < 0)
        berth_err_warn(&rm);
    berth_debug("content: commit ref=%s digest=%s size=%lld", w->ref, digest, (long long)w->offset);
    return r;
}

/* ---- Status and close --------------------------------------------------------------------- */

IngestStatus *
sup_content_writer_status(const struct sup_content_writer *w)
{
    IngestStatus *s = xmalloc(sizeof(*s));
    struct stat sb;

    berth__supervisor__v1__ingest_status__init(s);
    s->ref = xstrdup(w->ref);
    s->offset = w->offset;
    s->total = w->total > 0 ? w->total : 0;
    s->expected = xstrdup(w->expected ? w->expected : "");
    s->started_at = w->started_at;
    s->updated_at = w->started_at;
    if (w->data_fd >= 0 && fstat(w->data_fd, &sb) == 0)
        s->updated_at = sup_content_ts_ns(&sb.st_mtim);
    return s;
}

void
sup_content_writer_close(struct sup_content_writer *w)
{
    if (w == NULL)
        return;
    if (w->data_fd >= 0)
        close(w->data_fd);
    if (w->dir_fd >= 0)
        close(w->dir_fd); /* releases the lock */
    berth_sha256_free(w->hash);
    free(w->expected);
    free(w->ref);
    free(w);
}
