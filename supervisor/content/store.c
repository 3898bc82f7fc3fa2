/* SPDX-License-Identifier: Apache-2.0
 *
 * The content store's blobs (content.h): opening the store, and each blob's info, labels,
 * listing, reading and deletion. A blob is a file of blobs/sha256 named by its hex digest;
 * its row in the metadata store (store/content.c) adds labels and times. The two are kept in
 * step in the order that a crash cannot turn into a lie: a blob is renamed into place before
 * its row is made (writer.c) and unlinked before its row is deleted, so every row left
 * behind names a missing file, which sup_content_open prunes, and a file without a row is
 * still a blob, whose times are its mtime.
 */
#include "supervisor/content/content.h"
#include "supervisor/content/content-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/filter.h"
#include "common/fs.h"
#include "supervisor/store/store.h"

typedef Berth__Supervisor__V1__Info Info;

#define DIGEST_PREFIX "sha256:"

static void
info_freep(Info **info)
{
    if (*info)
        protobuf_c_message_free_unpacked(&(*info)->base, NULL);
}
#define cleanup_info __attribute__((cleanup(info_freep)))

static void
filter_freep(struct berth_filter **f)
{
    berth_filter_free(*f);
}
#define cleanup_filter __attribute__((cleanup(filter_freep)))

/* ---- Checks ------------------------------------------------------------------------------- */

int
sup_content_err_move(struct berth_err *err, struct berth_err *inner)
{
    if (err) {
        berth_err_clear(err);
        *err = *inner;
    } else {
        berth_err_clear(inner);
    }
    memset(inner, 0, sizeof(*inner));
    return -1;
}

int
sup_content_check_digest(const char *digest, const char **hex, struct berth_err *err)
{
    struct berth_err inner = BERTH_ERR_INIT;
    const char *h = NULL;

    /* berth_digest_parse classifies nothing (code 0); here a bad digest is bad input. */
    if (berth_digest_parse(digest, &h, &inner) < 0) {
        berth_err_fail(err, EINVAL, "%s", inner.msg);
        berth_err_clear(&inner);
        return -1;
    }
    if (hex)
        *hex = h;
    return 0;
}

int
sup_content_check_ref(const char *ref, struct berth_err *err)
{
    size_t len = ref ? strlen(ref) : 0;

    if (len == 0)
        return berth_err_fail(err, EINVAL, "ref is empty");
    if (len > SUP_CONTENT_REF_MAX)
        return berth_err_fail(err, EINVAL, "invalid ref `%.40s...`: longer than %d bytes", ref,
                              SUP_CONTENT_REF_MAX);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)ref[i] < 0x20 || (unsigned char)ref[i] >= 0x7f)
            return berth_err_fail(err, EINVAL,
                                  "invalid ref: byte %zu is 0x%02x (printable ASCII only)", i,
                                  (unsigned char)ref[i]);
    return 0;
}

/* ---- Opening ------------------------------------------------------------------------------ */

static int
open_dir(const char *path, struct berth_err *err)
{
    int fd;

    if (berth_fs_mkdir_p(path, 0711, err) < 0)
        return -1;
    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return berth_err_set(err, errno, "open `%s`", path);
    return fd;
}

/* Delete the rows whose blob is gone (content.h, sup_content_open). */
static int
prune_rows(struct sup_content *cs, struct berth_err *err)
{
    Info **rows = NULL;
    size_t n = 0;
    int r = 0;

    if (sup_store_content_list(cs->st, &rows, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n && r == 0; i++) {
        const char *hex = NULL;
        struct stat sb;
        if (sup_content_check_digest(rows[i]->digest, &hex, NULL) == 0 &&
            fstatat(cs->blobs_fd, hex, &sb, AT_SYMLINK_NOFOLLOW) == 0)
            continue;
        r = sup_store_content_delete(cs->st, rows[i]->digest, err);
    }
    sup_content_info_list_free(rows, n);
    return r;
}

int
sup_content_open(const char *root, struct sup_store *st, struct sup_content **out,
                 struct berth_err *err)
{
    struct sup_content *cs = xzalloc(sizeof(*cs));

    cs->st = st;
    cs->blobs = xasprintf("%s/content/blobs/sha256", root);
    cs->ingest = xasprintf("%s/content/ingest", root);
    cs->blobs_fd = cs->ingest_fd = -1;
    if ((cs->blobs_fd = open_dir(cs->blobs, err)) < 0 ||
        (cs->ingest_fd = open_dir(cs->ingest, err)) < 0 || prune_rows(cs, err) < 0) {
        sup_content_close(cs);
        return berth_err_wrap(err, "open content store in `%s`", root);
    }
    *out = cs;
    return 0;
}

void
sup_content_close(struct sup_content *cs)
{
    if (cs == NULL)
        return;
    if (cs->blobs_fd >= 0)
        close(cs->blobs_fd);
    if (cs->ingest_fd >= 0)
        close(cs->ingest_fd);
    free(cs->blobs);
    free(cs->ingest);
    free(cs);
}

/* ---- Blobs -------------------------------------------------------------------------------- */

/* stat the blob of digest: 0, or -1 with ENOENT "content `d` not found" (or EINVAL for a bad
 * digest, or what fstatat failed with). */
static int
stat_blob(struct sup_content *cs, const char *digest, struct stat *sb, struct berth_err *err)
{
    const char *hex;

    if (sup_content_check_digest(digest, &hex, err) < 0)
        return -1;
    if (fstatat(cs->blobs_fd, hex, sb, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return berth_err_fail(err, ENOENT, "content `%s` not found", digest);
        return berth_err_set(err, errno, "stat `%s/%s`", cs->blobs, hex);
    }
    if (!S_ISREG(sb->st_mode))
        return berth_err_fail(err, EIO, "`%s/%s` is not a regular file", cs->blobs, hex);
    return 0;
}

/* The Info of a blob that has no row: its file's size and mtime. */
static Info *
info_from_stat(const char *digest, const struct stat *sb)
{
    Info *info = xmalloc(sizeof(*info));

    berth__supervisor__v1__info__init(info);
    info->digest = xstrdup(digest);
    info->size = sb->st_size;
    info->created_at = info->updated_at = sup_content_ts_ns(&sb->st_mtim);
    return info;
}

bool
sup_content_exists(struct sup_content *cs, const char *digest)
{
    struct stat sb;

    return stat_blob(cs, digest, &sb, NULL) == 0;
}

int
sup_content_info(struct sup_content *cs, const char *digest, Info **out, struct berth_err *err)
{
    cleanup_err struct berth_err inner = BERTH_ERR_INIT;
    Info *info = NULL;
    struct stat sb;

    if (stat_blob(cs, digest, &sb, err) < 0)
        return -1;
    if (sup_store_content_get(cs->st, digest, &info, &inner) < 0) {
        if (inner.code != ENOENT)
            return sup_content_err_move(err, &inner);
        info = info_from_stat(digest, &sb);
    }
    info->size = sb.st_size;
    *out = info;
    return 0;
}

int
sup_content_update(struct sup_content *cs, const Info *info, char *const *update_mask,
                   size_t n_mask, Info **out, struct berth_err *err)
{

    cleanup_err struct berth_err inner = BERTH_ERR_INIT;
    Info row = BERTH__SUPERVISOR__V1__INFO__INIT;
    struct stat sb;

    if (stat_blob(cs, info->digest, &sb, err) < 0)
        return -1;
    if (sup_store_content_update(cs->st, info, update_mask, n_mask, out, &inner) == 0)
        return 0;
    if (inner.code != ENOENT)
        return sup_content_err_move(err, &inner);

    /* A blob without a row: give it one (a racing call may have), then update that. */
    berth_err_clear(&inner);
    row.digest = info->digest;
    row.size = sb.st_size;
    if (sup_store_content_create(cs->st, &row, NULL, &inner) < 0 && inner.code != EEXIST)
        return sup_content_err_move(err, &inner);
    return sup_store_content_update(cs->st, info, update_mask, n_mask, out, err);
}

static int
compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The hex names of the blob files, sorted; anything else in the folder is skipped. */
static int
read_blob_names(struct sup_content *cs, char ***out, size_t *n_out, struct berth_err *err)
{
    int fd = openat(cs->blobs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cleanup_dir DIR *d = NULL;
    cleanup_strv char **names = xzalloc(sizeof(*names));
    size_t n = 0;
    struct dirent *de;

    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        return berth_err_set(err, saved, "open `%s`", cs->blobs);
    }
    for (errno = 0; (de = readdir(d)) != NULL; errno = 0) {
        cleanup_free char *digest = xasprintf(DIGEST_PREFIX "%s", de->d_name);
        if (sup_content_check_digest(digest, NULL, NULL) < 0)
            continue;
        if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
            continue;
        names = xrealloc(names, (n + 2) * sizeof(*names));
        names[n++] = xstrdup(de->d_name);
        names[n] = NULL;
    }
    if (errno != 0)
        return berth_err_set(err, errno, "read `%s`", cs->blobs);
    qsort(names, n, sizeof(*names), compare_names);
    *out = steal_ptr(&names);
    *n_out = n;
    return 0;
}

int
sup_content_list(struct sup_content *cs, const char *const *filters, size_t n_filters, Info ***out,
                 size_t *n_out, struct berth_err *err)
{
    cleanup_filter struct berth_filter *f = berth_filter_parse(filters, n_filters, err);
    cleanup_strv char **names = NULL;
    Info **rows = NULL, **list = NULL;
    size_t n_names = 0, n_rows = 0, n = 0;

    if (f == NULL || read_blob_names(cs, &names, &n_names, err) < 0 ||
        sup_store_content_list(cs->st, &rows, &n_rows, err) < 0)
        return -1;
    /* Both are sorted by digest ("sha256:" + the name): merge them. */
    list = xzalloc((n_names + 1) * sizeof(*list));
    for (size_t i = 0, at = 0; i < n_names; i++) {
        cleanup_free char *digest = xasprintf(DIGEST_PREFIX "%s", names[i]);
        cleanup_info Info *info = NULL;
        struct stat sb;

        while (at < n_rows && strcmp(rows[at]->digest, digest) < 0)
            at++;
        if (at < n_rows && strcmp(rows[at]->digest, digest) == 0)
            info = steal_ptr(&rows[at++]);

        if (info == NULL) {
            if (fstatat(cs->blobs_fd, names[i], &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
                !S_ISREG(sb.st_mode))
                continue; /* deleted meanwhile, or not a blob */
            info = info_from_stat(digest, &sb);
        }
        if (berth_filter_match(f, &info->base, NULL))
            list[n++] = steal_ptr(&info);
    }
    sup_content_info_list_free(rows, n_rows);
    *out = list;
    *n_out = n;
    return 0;
}

void
sup_content_info_list_free(Info **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i])
            protobuf_c_message_free_unpacked(&list[i]->base, NULL);
    free(list);
}

int
sup_content_delete(struct sup_content *cs, const char *digest, struct berth_err *err)
{
    cleanup_err struct berth_err inner = BERTH_ERR_INIT;
    const char *hex;
    bool missing = false;

    if (sup_content_check_digest(digest, &hex, err) < 0)
        return -1;
    if (unlinkat(cs->blobs_fd, hex, 0) < 0) {
        if (errno != ENOENT)
            return berth_err_set(err, errno, "delete `%s/%s`", cs->blobs, hex);
        missing = true;
    }
    /* The row goes after the file; a row without its file is also removed here. */
    if (sup_store_content_delete(cs->st, digest, &inner) < 0 && inner.code != ENOENT) {
        sup_content_err_move(err, &inner);
        return berth_err_wrap(err, "delete content `%s`", digest);
    }
    if (missing)
        return berth_err_fail(err, ENOENT, "content `%s` not found", digest);
    return 0;
}

/* ---- Reading ------------------------------------------------------------------------------ */

int
sup_content_open_blob(struct sup_content *cs, const char *digest, int64_t *size,
                      struct berth_err *err)
{
    const char *hex;
    struct stat sb;

    if (sup_content_check_digest(digest, &hex, err) < 0)
        return -1;
    cleanup_close int fd = openat(cs->blobs_fd, hex, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return berth_err_fail(err, ENOENT, "content `%s` not found", digest);
        return berth_err_set(err, errno, "open `%s/%s`", cs->blobs, hex);
    }
    if (fstat(fd, &sb) < 0)
        return berth_err_set(err, errno, "stat `%s/%s`", cs->blobs, hex);
    if (!S_ISREG(sb.st_mode))
        return berth_err_fail(err, EIO, "`%s/%s` is not a regular file", cs->blobs, hex);
    if (size)
        *size = sb.st_size;
    return steal_fd(&fd);
}

ssize_t
sup_content_read_at(int fd, void *buf, size_t len, int64_t offset, struct berth_err *err)
{
    size_t done = 0;

    if (offset < 0)
        return berth_err_fail(err, EINVAL, "read at offset %lld", (long long)offset);
    while (done < len) {
        ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)offset + (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return berth_err_set(err, errno, "read content at offset %lld",
                                 (long long)offset + (long long)done);
        if (n == 0)
            break;
        done += (size_t)n;
    }
    return (ssize_t)done;
}

int
sup_content_read_all(struct sup_content *cs, const char *digest, size_t max, char **out,
                     size_t *len, struct berth_err *err)
{
    int64_t size = 0;
    cleanup_close int fd = sup_content_open_blob(cs, digest, &size, err);

    if (fd < 0)
        return -1;
    if ((uint64_t)size > max)
        return berth_err_fail(err, EFBIG, "content `%s` is %lld bytes, more than %zu", digest,
                              (long long)size, max);

    cleanup_free char *buf = xmalloc((size_t)size + 1);
    ssize_t n = sup_content_read_at(fd, buf, (size_t)size, 0, err);
    if (n < 0)
        return berth_err_wrap(err, "read content `%s`", digest);
    if (n != size)
        return berth_err_fail(err, EIO, "content `%s` is shorter than its size", digest);
    buf[n] = '\0';
    *out = steal_ptr(&buf);
    if (len)
        *len = (size_t)n;
    return 0;
}

char *
sup_content_blob_path(struct sup_content *cs, const char *digest, struct berth_err *err)
{
    const char *hex;
    struct stat sb;

    if (stat_blob(cs, digest, &sb, err) < 0 || sup_content_check_digest(digest, &hex, err) < 0)
        return NULL;
    return xasprintf("%s/%s", cs->blobs, hex);
}
