/* SPDX-License-Identifier: Apache-2.0
 *
 * The one pass over an image tarball (archive-internal.h): each entry is checked and cleaned,
 * index files go to memory, every other regular file to the content store as a blob, links
 * are noted and resolved once the whole tar is seen (a link may come before its target).
 *
 * A tar is a stream: the bytes of an entry can be read once, in order, so the digest of a
 * file is known only after its last byte. It is therefore hashed while written and committed
 * under the digest it turned out to have; an entry named blobs/sha256/<hex> must turn out to
 * be <hex> (an OCI layout names blobs by digest, and a mismatch is a corrupt or forged tar).
 */
#include "supervisor/archive/archive-internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/error.h"
#include "supervisor/content/content.h"
#include "supervisor/images/lease.h"

#define READ_BLOCK (256 * 1024)
/* How often (bytes of one entry) a long copy looks for cancellation. */
#define CANCEL_EVERY (16 * 1024 * 1024)
/* Links to links are followed this deep. */
#define MAX_LINK_DEPTH 8
/* Entries of one tar, directories included. Entries are looked up by name in a list, and
 * each file becomes a blob with an ingest: the bound keeps a tar of millions of empty files
 * from costing hours. docker save of a hundred images of a dozen layers is about 5,000. */
#define MAX_ENTRIES 16384

static const char *const meta_names[AR_META_COUNT] = {
    [AR_META_OCI_LAYOUT] = "oci-layout",
    [AR_META_INDEX] = "index.json",
    [AR_META_MANIFEST] = "manifest.json",
    [AR_META_REPOSITORIES] = "repositories",
};

void
ar_tar_clear(struct ar_tar *t)
{
    for (size_t i = 0; i < t->n_entries; i++) {
        free(t->entries[i].path);
        free(t->entries[i].link);
        free(t->entries[i].digest);
    }
    free(t->entries);
    for (int i = 0; i < AR_META_COUNT; i++)
        free(t->meta[i]);
    for (size_t i = 0; i < t->n_made; i++)
        free(t->made[i]);
    free(t->made);
    memset(t, 0, sizeof(*t));
}

bool
ar_cancelled(const struct ar_import *imp)
{
    return imp->opts && imp->opts->is_cancelled && imp->opts->is_cancelled(imp->opts->cancel_data);
}

static struct ar_entry *
find_entry(const struct ar_tar *t, const char *path)
{
    for (size_t i = 0; i < t->n_entries; i++) {
        if (strcmp(t->entries[i].path, path) == 0)
            return &t->entries[i];
    }
    return NULL;
}

const struct ar_entry *
ar_tar_find(const struct ar_tar *t, const char *path)
{
    const struct ar_entry *e = find_entry(t, path);
    return e && e->digest ? e : NULL;
}

bool
ar_tar_has_digest(const struct ar_tar *t, const char *digest, int64_t *size)
{
    for (size_t i = 0; i < t->n_entries; i++) {
        if (t->entries[i].digest && strcmp(t->entries[i].digest, digest) == 0) {
            *size = t->entries[i].size;
            return true;
        }
    }
    for (size_t i = 0; i < t->n_made; i++) {
        if (strcmp(t->made[i], digest) == 0) {
            *size = -1;
            return true;
        }
    }
    return false;
}

char *
ar_ingest_ref(struct ar_import *imp)
{
    return xasprintf("import-%s-%lu", imp->nonce, imp->serial++);
}

/* ---- Names ------------------------------------------------------------------------------- */

/* Push the components of s onto the path of *len bytes being built in out (which has room
 * for s and a '/' more), popping one for ".." when allow_up; -1 (with *why) for a ".." that
 * is refused or leads above the top. */
static int
push_components(char *out, size_t *len, const char *s, bool allow_up, const char **why)
{
    while (*s) {
        size_t n = strcspn(s, "/");
        if (n == 0 || (n == 1 && s[0] == '.')) {
            /* empty or "." */
        } else if (n == 2 && s[0] == '.' && s[1] == '.') {
            if (!allow_up) {
                *why = "has a `..` component";
                return -1;
            }
            char *slash = *len ? memrchr(out, '/', *len) : NULL;
            if (*len == 0) {
                *why = "leads outside the archive";
                return -1;
            }
            *len = slash ? (size_t)(slash - out) : 0;
        } else {
            if (*len)
                out[(*len)++] = '/';
            memcpy(out + *len, s, n);
            *len += n;
        }
        s += n;
        if (*s == '/')
            s++;
    }
    out[*len] = '\0';
    return 0;
}

char *
ar_clean_name(const char *raw, struct berth_err *err)
{
    const char *why = NULL;
    size_t len = 0;

    if (raw == NULL || raw[0] == '\0')
        return berth_err_fail(err, EINVAL, "entry without a name"), NULL;
    if (raw[0] == '/')
        return berth_err_fail(err, EINVAL, "entry `%s`: absolute path", raw), NULL;
    char *out = xmalloc(strlen(raw) + 1);
    if (push_components(out, &len, raw, false, &why) < 0) {
        free(out);
        return berth_err_fail(err, EINVAL, "entry `%s`: %s", raw, why), NULL;
    }
    return out;
}

/* Where the symbolic link at path pointing to target leads, cleaned (heap). EINVAL for an
 * absolute target or one that climbs out of the tar. */
static char *
symlink_target(const char *path, const char *target, struct berth_err *err)
{
    const char *why = NULL;
    size_t len = 0;

    if (target == NULL || target[0] == '\0' || target[0] == '/')
        return berth_err_fail(err, EINVAL,
                              "entry `%s`: symbolic link to `%s` leads outside the "
                              "archive",
                              path, target ? target : ""),
               NULL;
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash - path) : 0;
    char *out = xmalloc(strlen(path) + strlen(target) + 2);
    memcpy(out, path, dir_len);
    len = dir_len;
    out[len] = '\0';
    if (push_components(out, &len, target, true, &why) < 0) {
        free(out);
        return berth_err_fail(err, EINVAL, "entry `%s`: symbolic link to `%s` %s", path, target,
                              why),
               NULL;
    }
    return out;
}

static int
meta_kind(const char *path)
{
    for (int i = 0; i < AR_META_COUNT; i++) {
        if (strcmp(path, meta_names[i]) == 0)
            return i;
    }
    return -1;
}

/* The files of docker's pre-1.10 layout (<id>/json, <id>/VERSION), which nothing here
 * uses: neither stored nor kept. */
static bool
is_legacy(const char *path)
{
    const char *slash = strchr(path, '/');
    return slash && strchr(slash + 1, '/') == NULL &&
           (strcmp(slash + 1, "json") == 0 || strcmp(slash + 1, "VERSION") == 0);
}

/* ---- Entries ------------------------------------------------------------------------------ */

static struct ar_entry *
add_entry(struct ar_tar *t, char **path, struct berth_err *err)
{
    if (find_entry(t, *path) || meta_kind(*path) >= 0)
        return berth_err_fail(err, EINVAL, "entry `%s` appears twice", *path), NULL;
    t->entries = xrealloc(t->entries, (t->n_entries + 1) * sizeof(*t->entries));
    struct ar_entry *e = &t->entries[t->n_entries++];
    memset(e, 0, sizeof(*e));
    e->path = steal_ptr(path);
    return e;
}

static int
read_error(struct ar_import *imp, struct archive *a, const char *path, struct berth_err *err)
{
    /* libarchive's own errors (a truncated or corrupt tar, bad gzip) are -1 or EILSEQ: the
     * input is at fault. Others come from the system (EIO reading the file). */
    int code = archive_errno(a) > 0 && archive_errno(a) != EILSEQ ? archive_errno(a) : EINVAL;
    const char *msg = archive_error_string(a);
    if (path)
        return berth_err_fail(err, code, "read `%s`: entry `%s`: %s", imp->path, path,
                              msg ? msg : "unreadable");
    return berth_err_fail(err, code, "read `%s`: %s", imp->path, msg ? msg : "unreadable");
}

static int
read_meta(struct ar_import *imp, struct archive *a, struct archive_entry *ae, int kind,
          const char *path, struct berth_err *err)
{
    struct ar_tar *t = &imp->tar;

    if (t->meta[kind] || find_entry(t, path))
        return berth_err_fail(err, EINVAL, "entry `%s` appears twice", path);
    if (archive_entry_size_is_set(ae) && archive_entry_size(ae) > SUP_ARCHIVE_MAX_META)
        return berth_err_fail(err, EINVAL, "entry `%s` is larger than %d bytes", path,
                              SUP_ARCHIVE_MAX_META);
    cleanup_free char *buf = xmalloc(SUP_ARCHIVE_MAX_META + 1);
    size_t len = 0;
    for (;;) {
        la_ssize_t n = archive_read_data(a, buf + len, SUP_ARCHIVE_MAX_META + 1 - len);
        if (n < 0)
            return read_error(imp, a, path, err);
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > SUP_ARCHIVE_MAX_META)
            return berth_err_fail(err, EINVAL, "entry `%s` is larger than %d bytes", path,
                                  SUP_ARCHIVE_MAX_META);
    }
    buf[len] = '\0';
    t->meta[kind] = xrealloc(steal_ptr(&buf), len + 1);
    t->meta_len[kind] = len;
    return 0;
}

static enum ar_compression
sniff(const unsigned char *b, size_t n)
{
    if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
        return AR_GZIP;
    if (n >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
        return AR_ZSTD;
    return AR_PLAIN;
}

/* The digest an entry's name promises ("blobs/sha256/<hex>"), heap, or NULL when it
 * promises none. EINVAL for a name under blobs/sha256/ that is no digest. */
static int
promised_digest(const char *path, char **out, struct berth_err *err)
{
    static const char prefix[] = "blobs/sha256/";
    *out = NULL;
    if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
        return 0;
    cleanup_free char *d = xasprintf("sha256:%s", path + sizeof(prefix) - 1);
    const char *hex;
    struct berth_err bad = BERTH_ERR_INIT;
    if (berth_digest_parse(d, &hex, &bad) < 0) {
        berth_err_clear(&bad);
        return berth_err_fail(err, EINVAL, "entry `%s`: not named by a sha256 digest", path);
    }
    *out = steal_ptr(&d);
    return 0;
}

/* Copy the entry's bytes into w (NULL: only hash them), hashing into hex; *magic gets the
 * compression its first bytes show, *total the byte count. */
static int
copy_data(struct ar_import *imp, struct archive *a, const char *path, struct sup_content_writer *w,
          char hex[BERTH_SHA256_HEX_LEN + 1], enum ar_compression *magic, int64_t *total,
          struct berth_err *err)
{
    cleanup_sha256 struct berth_sha256 *h = berth_sha256_new();
    cleanup_free unsigned char *buf = xmalloc(READ_BLOCK);
    unsigned char head[4];
    size_t n_head = 0;
    int64_t since_check = 0;

    *total = 0;
    for (;;) {
        la_ssize_t n = archive_read_data(a, buf, READ_BLOCK);
        if (n < 0)
            return read_error(imp, a, path, err);
        if (n == 0)
            break;
        for (la_ssize_t i = 0; i < n && n_head < sizeof(head); i++)
            head[n_head++] = buf[i];
        berth_sha256_update(h, buf, (size_t)n);
        if (w && sup_content_writer_write(w, buf, (size_t)n, err) < 0)
            return berth_err_wrap(err, "entry `%s`", path);
        *total += n;
        since_check += n;
        if (since_check >= CANCEL_EVERY) {
            since_check = 0;
            if (ar_cancelled(imp))
                return berth_err_fail(err, ECANCELED, "import cancelled");
        }
    }
    berth_sha256_final(h, hex);
    *magic = sniff(head, n_head);
    return 0;
}

/* Store a regular file's bytes as a blob into e. Whatever fails, no ingest is left. */
static int
store_entry(struct ar_import *imp, struct archive *a, struct archive_entry *ae, struct ar_entry *e,
            struct berth_err *err)
{
    cleanup_free char *expected = NULL;
    cleanup_free char *ref = ar_ingest_ref(imp);
    cleanup_content_writer struct sup_content_writer *w = NULL;
    char hex[BERTH_SHA256_HEX_LEN + 1];
    int64_t size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : -1;

    if (promised_digest(e->path, &expected, err) < 0)
        return -1;
    sup_lease_add(imp->lease, SUP_LEASE_INGEST, ref);
    if (expected)
        sup_lease_add(imp->lease, SUP_LEASE_CONTENT, expected);
    if (sup_content_writer_open(imp->cs, ref, expected, size, &w, err) < 0) {
        /* Already stored: the bytes are still read, to hold the tar to its names. */
        if (err->code != EEXIST)
            return berth_err_wrap(err, "entry `%s`", e->path);
        berth_err_clear(err);
    }
    int rc = copy_data(imp, a, e->path, w, hex, &e->compression, &e->size, err);
    if (rc == 0) {
        e->digest = xasprintf("sha256:%s", hex);
        if (expected && strcmp(expected, e->digest) != 0)
            rc =
                berth_err_fail(err, EINVAL, "entry `%s`: its bytes hash to %s", e->path, e->digest);
    }
    if (rc == 0 && w) {
        sup_lease_add(imp->lease, SUP_LEASE_CONTENT, e->digest);
        rc = sup_content_writer_commit(w, e->size, e->digest, NULL, 0, NULL, err);
        if (rc < 0 && err->code == EEXIST) {
            berth_err_clear(err);
            rc = 0;
        } else if (rc < 0) {
            berth_err_wrap(err, "entry `%s`", e->path);
        }
    }
    if (rc < 0 && w) {
        struct berth_err ignored = BERTH_ERR_INIT;
        sup_content_writer_close(steal_ptr(&w));
        if (sup_content_abort(imp->cs, ref, &ignored) < 0)
            berth_err_clear(&ignored);
    }
    return rc;
}

static int
read_entry(struct ar_import *imp, struct archive *a, struct archive_entry *ae,
           struct berth_err *err)
{
    cleanup_free char *path = ar_clean_name(archive_entry_pathname(ae), err);
    const char *hardlink = archive_entry_hardlink(ae);
    unsigned type = archive_entry_filetype(ae);

    if (path == NULL)
        return -1;
    if (hardlink) {
        cleanup_free char *to = ar_clean_name(hardlink, err);
        if (to == NULL)
            return berth_err_wrap(err, "entry `%s`: hard link", path);
        struct ar_entry *e = add_entry(&imp->tar, &path, err);
        if (e == NULL)
            return -1;
        e->link = steal_ptr(&to);
        return 0;
    }
    if (type == AE_IFDIR)
        return 0;
    if (*path == '\0')
        return berth_err_fail(err, EINVAL, "entry `%s`: a file named as the archive's top",
                              archive_entry_pathname(ae));
    if (type == AE_IFLNK) {
        char *to = symlink_target(path, archive_entry_symlink(ae), err);
        if (to == NULL)
            return -1;
        struct ar_entry *e = add_entry(&imp->tar, &path, err);
        if (e == NULL) {
            free(to);
            return -1;
        }
        e->link = to;
        return 0;
    }
    if (type != AE_IFREG)
        return berth_err_fail(err, EINVAL, "entry `%s`: not a file, directory or link", path);
    int kind = meta_kind(path);
    if (kind >= 0)
        return read_meta(imp, a, ae, kind, path, err);
    if (is_legacy(path)) {
        if (find_entry(&imp->tar, path))
            return berth_err_fail(err, EINVAL, "entry `%s` appears twice", path);
        return archive_read_data_skip(a) == ARCHIVE_OK ? 0 : read_error(imp, a, path, err);
    }
    struct ar_entry *e = add_entry(&imp->tar, &path, err);
    if (e == NULL)
        return -1;
    return store_entry(imp, a, ae, e, err);
}

/* Give every link its target's digest, size and compression. */
static int
resolve_links(struct ar_tar *t, struct berth_err *err)
{
    for (size_t i = 0; i < t->n_entries; i++) {
        struct ar_entry *e = &t->entries[i];
        const struct ar_entry *to = e;
        for (int depth = 0; to && to->link; depth++) {
            if (depth == MAX_LINK_DEPTH)
                return berth_err_fail(err, EINVAL, "entry `%s`: too many links", e->path);
            to = find_entry(t, to->link);
        }
        if (to == NULL || to->digest == NULL)
            return berth_err_fail(err, EINVAL,
                                  "entry `%s`: link to `%s`, which is not a file "
                                  "of the archive",
                                  e->path, e->link);
        if (e != to) {
            e->digest = xstrdup(to->digest);
            e->size = to->size;
            e->compression = to->compression;
        }
    }
    return 0;
}

static void
archive_freep(struct archive **a)
{
    if (*a)
        archive_read_free(*a);
}

int
ar_read_tar(struct ar_import *imp, struct berth_err *err)
{
    __attribute__((cleanup(archive_freep))) struct archive *a = archive_read_new();
    struct archive_entry *ae;
    unsigned char nonce[8];
    size_t n_seen = 0;

    if (getrandom(nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce))
        return berth_err_set(err, errno, "getrandom");
    for (size_t i = 0; i < sizeof(nonce); i++)
        snprintf(imp->nonce + 2 * i, 3, "%02x", nonce[i]);

    /* A regular file only: a fifo or a device could be read from forever. O_NONBLOCK keeps
     * the open itself from waiting for a fifo's writer. */
    cleanup_close int fd = open(imp->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0)
        return berth_err_set(err, errno, "open `%s`", imp->path);
    if (fstat(fd, &st) < 0)
        return berth_err_set(err, errno, "stat `%s`", imp->path);
    if (!S_ISREG(st.st_mode))
        return berth_err_fail(err, EINVAL, "`%s` is not a regular file", imp->path);

    archive_read_support_filter_gzip(a);
    archive_read_support_filter_zstd(a);
    archive_read_support_format_tar(a);
    if (archive_read_open_fd(a, fd, READ_BLOCK) != ARCHIVE_OK) {
        int code = archive_errno(a);
        /* libarchive looks at the first bytes as it opens: a file that is no tar fails here,
         * with EILSEQ (its "file format" errno). */
        if (code == EILSEQ || code <= 0)
            return berth_err_fail(err, EINVAL, "`%s` is not a tar archive: %s", imp->path,
                                  archive_error_string(a));
        return berth_err_set(err, code, "open `%s`", imp->path);
    }
    for (;;) {
        int r = archive_read_next_header(a, &ae);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            if (n_seen == 0)
                return berth_err_fail(err, EINVAL, "`%s` is not a tar archive: %s", imp->path,
                                      archive_error_string(a));
            return read_error(imp, a, NULL, err);
        }
        if (++n_seen > MAX_ENTRIES)
            return berth_err_fail(err, EINVAL, "`%s` has more than %d entries", imp->path,
                                  MAX_ENTRIES);
        if (ar_cancelled(imp))
            return berth_err_fail(err, ECANCELED, "import cancelled");
        if (read_entry(imp, a, ae, err) < 0)
            return -1;
    }
    return resolve_links(&imp->tar, err);
}
