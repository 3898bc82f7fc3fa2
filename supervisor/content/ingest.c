/* SPDX-License-Identifier: Apache-2.0
 *
 * Ingest folders (content-internal.h) and the ingest calls of content.h: status, listing and
 * abort. An ingest of ref lives in ingest/<sha256(ref)>/, so any ref makes a safe file name;
 * the ref itself is in the folder's "ref" file.
 *
 * The lock is an flock on the folder itself. flock locks belong to an open file description,
 * so two writers of one process conflict exactly as two processes do, and a writer that dies
 * drops its lock with its last fd. Removing a folder does not release a lock held on it, so
 * whoever locks must check that the folder it locked is still the one at the path: the
 * holder may have removed it (commit, abort) between our open and our flock.
 */
#include "supervisor/content/content.h"
#include "supervisor/content/content-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/filter.h"
#include "common/fs.h"

typedef Berth__Supervisor__V1__IngestStatus IngestStatus;

/* How many times a lock is retried when the folder keeps being replaced under it. */
#define LOCK_ATTEMPTS 16

/* Small files hold a ref, a digest or a number. */
#define META_MAX (SUP_CONTENT_REF_MAX + 64)

static void
status_freep(IngestStatus **s)
{
    if (*s)
        protobuf_c_message_free_unpacked(&(*s)->base, NULL);
}
#define cleanup_status __attribute__((cleanup(status_freep)))

static void
filter_freep(struct berth_filter **f)
{
    berth_filter_free(*f);
}
#define cleanup_filter __attribute__((cleanup(filter_freep)))

void
sup_content_ingest_key(const char *ref, sup_content_hex key)
{
    berth_sha256_buf(ref, strlen(ref), key);
}

/* ---- Folders and their files -------------------------------------------------------------- */

/* Whether fd is the directory now at name in dirfd. */
static bool
is_current(int dirfd, const char *name, int fd)
{
    struct stat a, b;

    return fstat(fd, &a) == 0 && fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int
sup_content_ingest_lock(struct sup_content *cs, const char *ref, bool create, struct berth_err *err)
{
    sup_content_hex key;

    sup_content_ingest_key(ref, key);
    for (int i = 0; i < LOCK_ATTEMPTS; i++) {
        if (create && mkdirat(cs->ingest_fd, key, 0700) < 0 && errno != EEXIST)
            return berth_err_set(err, errno, "create `%s/%s`", cs->ingest, key);
        cleanup_close int fd =
            openat(cs->ingest_fd, key, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && create)
            continue; /* removed between our mkdir and open */
        if (fd < 0 && errno == ENOENT)
            return berth_err_fail(err, ENOENT, "no ingest for ref `%s`", ref);
        if (fd < 0)
            return berth_err_set(err, errno, "open `%s/%s`", cs->ingest, key);
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
            if (errno == EWOULDBLOCK)
                return berth_err_fail(err, EBUSY, "ref `%s` is locked", ref);
            return berth_err_set(err, errno, "lock `%s/%s`", cs->ingest, key);
        }
        if (is_current(cs->ingest_fd, key, fd))
            return steal_fd(&fd);
        if (!create && fstatat(cs->ingest_fd, key, &(struct stat){0}, AT_SYMLINK_NOFOLLOW) < 0)
            return berth_err_fail(err, ENOENT, "no ingest for ref `%s`", ref);
    }
    return berth_err_fail(err, EBUSY, "ref `%s` is locked: its folder keeps changing", ref);
}

int
sup_content_ingest_remove(struct sup_content *cs, const char *ref, struct berth_err *err)
{
    sup_content_hex key;

    sup_content_ingest_key(ref, key);
    cleanup_free char *path = xasprintf("%s/%s", cs->ingest, key);
    return berth_fs_rm_rf(path, err);
}

int
sup_content_ingest_read(int dirfd, const char *ref, const char *name, char **out,
                        struct berth_err *err)
{
    cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    cleanup_free char *buf = xmalloc(META_MAX + 1);
    size_t n = 0;

    *out = NULL;
    if (fd < 0 && errno == ENOENT)
        return 0;
    if (fd < 0)
        return berth_err_set(err, errno, "ingest `%s`: open `%s`", ref, name);
    while (n < META_MAX) {
        ssize_t r = read(fd, buf + n, META_MAX - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return berth_err_set(err, errno, "ingest `%s`: read `%s`", ref, name);
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n == META_MAX)
        return berth_err_fail(err, EIO, "ingest `%s`: `%s` is too long", ref, name);
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    buf[n] = '\0';
    *out = steal_ptr(&buf);
    return 1;
}

int
sup_content_ingest_write(struct sup_content *cs, const char *ref, const char *name, const char *s,
                         struct berth_err *err)
{
    sup_content_hex key;

    sup_content_ingest_key(ref, key);
    cleanup_free char *path = xasprintf("%s/%s/%s", cs->ingest, key, name);
    cleanup_free char *line = xasprintf("%s\n", s);
    return berth_fs_write_atomic(path, line, strlen(line), 0600, err);
}

/* A decimal int64 file: 1 and *out, 0 when missing, -1 when unreadable or not a number. */
static int
read_number(int dirfd, const char *ref, const char *name, int64_t *out, struct berth_err *err)
{
    cleanup_free char *s = NULL;
    char *end = NULL;
    int r = sup_content_ingest_read(dirfd, ref, name, &s, err);

    if (r <= 0)
        return r;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0)
        return berth_err_fail(err, EIO, "ingest `%s`: `%s` holds `%s`, not a number", ref, name, s);
    *out = v;
    return 1;
}

int
sup_content_ingest_status(int dirfd, const char *ref, IngestStatus **out, struct berth_err *err)
{
    cleanup_status IngestStatus *s = xmalloc(sizeof(*s));
    cleanup_free char *stored = NULL;
    struct stat sb;
    int r;

    berth__supervisor__v1__ingest_status__init(s);
    r = sup_content_ingest_read(dirfd, ref ? ref : "?", SUP_CONTENT_INGEST_REF, &stored, err);
    if (r < 0)
        return -1;
    if (r == 0)
        return berth_err_fail(err, ENOENT, "no ingest for ref `%s`", ref ? ref : "?");
    if (ref && strcmp(stored, ref) != 0)
        return berth_err_fail(err, EIO, "ingest of ref `%s` holds ref `%s`", ref, stored);
    s->ref = steal_ptr(&stored);
    if (read_number(dirfd, s->ref, SUP_CONTENT_INGEST_STARTED_AT, &s->started_at, err) < 0 ||
        read_number(dirfd, s->ref, SUP_CONTENT_INGEST_TOTAL, &s->total, err) < 0 ||
        sup_content_ingest_read(dirfd, s->ref, SUP_CONTENT_INGEST_EXPECTED, &s->expected, err) < 0)
        return -1;
    if (s->expected == NULL)
        s->expected = xstrdup("");
    if (fstatat(dirfd, SUP_CONTENT_INGEST_DATA, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
        s->offset = sb.st_size;
        s->updated_at = sup_content_ts_ns(&sb.st_mtim);
        /* A start recorded by an older writer (fine clock) may lead the coarse mtime. */
        if (s->updated_at < s->started_at)
            s->updated_at = s->started_at;
    } else if (errno != ENOENT) {
        return berth_err_set(err, errno, "ingest `%s`: stat `%s`", s->ref, SUP_CONTENT_INGEST_DATA);
    } else {
        s->updated_at = s->started_at;
    }
    *out = steal_ptr(&s);
    return 0;
}

/* ---- Calls -------------------------------------------------------------------------------- */

int
sup_content_status(struct sup_content *cs, const char *ref, IngestStatus **out,
                   struct berth_err *err)
{
    sup_content_hex key;

    if (sup_content_check_ref(ref, err) < 0)
        return -1;
    sup_content_ingest_key(ref, key);
    cleanup_close int fd =
        openat(cs->ingest_fd, key, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return berth_err_fail(err, ENOENT, "no ingest for ref `%s`", ref);
    if (fd < 0)
        return berth_err_set(err, errno, "open `%s/%s`", cs->ingest, key);
    return sup_content_ingest_status(fd, ref, out, err);
}

static int
compare_refs(const void *a, const void *b)
{
    return strcmp((*(IngestStatus *const *)a)->ref, (*(IngestStatus *const *)b)->ref);
}

/* The status of the folder `name`, or NULL: with err set on a failure, with err empty when
 * the folder is not (yet, or any more) an ingest. */
static IngestStatus *
status_of(struct sup_content *cs, const char *name, struct berth_err *err)
{
    cleanup_close int fd =
        openat(cs->ingest_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    IngestStatus *s = NULL;

    if (fd < 0) {
        if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
            berth_err_set(err, errno, "open `%s/%s`", cs->ingest, name);
        return NULL;
    }
    if (sup_content_ingest_status(fd, NULL, &s, err) < 0 && err->code == ENOENT)
        berth_err_clear(err); /* its writer is setting it up, or died doing so */
    return s;
}

int
sup_content_list_statuses(struct sup_content *cs, const char *const *filters, size_t n_filters,
                          IngestStatus ***out, size_t *n_out, struct berth_err *err)
{
    cleanup_filter struct berth_filter *f = berth_filter_parse(filters, n_filters, err);
    int fd = -1;
    cleanup_dir DIR *d = NULL;
    IngestStatus **list = NULL;
    size_t n = 0;
    struct dirent *de;

    if (f == NULL)
        return -1;
    fd = openat(cs->ingest_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        return berth_err_set(err, saved, "open `%s`", cs->ingest);
    }
    list = xzalloc(sizeof(*list));
    for (errno = 0; (de = readdir(d)) != NULL; errno = 0) {
        if (de->d_name[0] == '.')
            continue;
        struct berth_err inner = BERTH_ERR_INIT;
        IngestStatus *s = status_of(cs, de->d_name, &inner);
        if (inner.msg) {
            sup_content_status_list_free(list, n);
            return sup_content_err_move(err, &inner);
        }
        if (s == NULL || !berth_filter_match(f, &s->base, NULL)) {
            if (s)
                protobuf_c_message_free_unpacked(&s->base, NULL);
            continue;
        }
        list = xrealloc(list, (n + 2) * sizeof(*list));
        list[n++] = s;
        list[n] = NULL;
    }
    if (errno != 0) {
        sup_content_status_list_free(list, n);
        return berth_err_set(err, errno, "read `%s`", cs->ingest);
    }
    qsort(list, n, sizeof(*list), compare_refs);
    *out = list;
    *n_out = n;
    return 0;
}

void
sup_content_status_list_free(IngestStatus **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i])
            protobuf_c_message_free_unpacked(&list[i]->base, NULL);
    free(list);
}

int
sup_content_abort(struct sup_content *cs, const char *ref, struct berth_err *err)
{
    if (sup_content_check_ref(ref, err) < 0)
        return -1;

    cleanup_close int fd = sup_content_ingest_lock(cs, ref, false, err);
    if (fd < 0)
        return -1;
    /* Removed while locked: a writer that was waiting finds the folder replaced and retries. */
    if (sup_content_ingest_remove(cs, ref, err) < 0)
        return berth_err_wrap(err, "abort ingest `%s`", ref);
    return 0;
}
