/* SPDX-License-Identifier: Apache-2.0
 *
 * A container's writable layer as a gzip-compressed OCI layer tar (layer.h). libarchive
 * writes the tar into a callback that hashes it (the diff_id) and feeds zlib, whose output is
 * hashed again (the blob's digest) and written out: one pass, nothing held in memory but a
 * directory's names at a time.
 */
#include "engine/containers/layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>

#include "common/cleanup.h"
#include "common/error.h"

#define CHUNK     (64 * 1024)
#define MAX_DEPTH 256

#define OPAQUE_MARKER ".wh..wh..opq"

/* A file with more than one link, seen once: later names are hard links to the first. */
struct seen_inode {
    dev_t dev;
    ino_t ino;
    char *name;
};

struct layer_out {
    int fd;
    z_stream z;
    struct berth_sha256 *raw; /* the tar */
    struct berth_sha256 *gz;  /* the blob */
    int64_t size;
    int saved_errno; /* why a write failed, for the message */
    struct seen_inode *inodes;
    size_t n_inodes;
    unsigned char buf[CHUNK];
};

static int
write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Compress what is in z's input (all of it, or to the end with Z_FINISH) into the blob. */
static int
deflate_out(struct layer_out *o, int flush)
{
    int zr;
    do {
        o->z.next_out = o->buf;
        o->z.avail_out = sizeof(o->buf);
        zr = deflate(&o->z, flush);
        if (zr == Z_STREAM_ERROR)
            return -1;
        size_t have = sizeof(o->buf) - o->z.avail_out;
        if (have > 0) {
            if (write_all(o->fd, o->buf, have) < 0) {
                o->saved_errno = errno;
                return -1;
            }
            berth_sha256_update(o->gz, o->buf, have);
            o->size += (int64_t)have;
        }
    } while (o->z.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
    return 0;
}

static la_ssize_t
tar_out(struct archive *a, void *data, const void *buf, size_t n)
{
    struct layer_out *o = data;
    berth_sha256_update(o->raw, buf, n);
    o->z.next_in = (unsigned char *)buf;
    o->z.avail_in = (uInt)n;
    if (deflate_out(o, Z_NO_FLUSH) < 0) {
        archive_set_error(a, o->saved_errno ? o->saved_errno : EIO, "compress the layer");
        return -1;
    }
    return (la_ssize_t)n;
}

static bool
is_overlay_xattr(const char *name)
{
    return strncmp(name, "trusted.overlay.", 16) == 0 || strncmp(name, "user.overlay.", 13) == 0;
}

/* The xattrs of fd (not overlay's own) into e. */
static void
copy_xattrs(struct archive_entry *e, int fd)
{
    ssize_t n = flistxattr(fd, NULL, 0);
    if (n <= 0)
        return;
    cleanup_free char *names = xmalloc((size_t)n);
    n = flistxattr(fd, names, (size_t)n);
    for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(names + off) + 1) {
        const char *name = names + off;
        if (is_overlay_xattr(name))
            continue;
        ssize_t vn = fgetxattr(fd, name, NULL, 0);
        if (vn < 0)
            continue;
        cleanup_free char *v = xmalloc((size_t)vn + 1);
        vn = fgetxattr(fd, name, v, (size_t)vn);
        if (vn >= 0)
            archive_entry_xattr_add_entry(e, name, v, (size_t)vn);
    }
}

/* Whether overlay recorded fd as a renamed directory (redirect_dir) or a file whose data is
 * still below (metacopy): its content is then not in the upper directory, and a tar of the
 * upper directory would lose it. berth mounts without these features; a kernel that turns
 * them on by default is refused rather than given a wrong layer. */
static const char *
overlay_indirection(int fd)
{
    static const char *const names[] = {"trusted.overlay.redirect", "trusted.overlay.metacopy",
                                        "user.overlay.redirect", "user.overlay.metacopy"};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        if (fgetxattr(fd, names[i], NULL, 0) >= 0)
            return names[i];
    return NULL;
}

static bool
is_opaque(int dfd)
{
    char v[2] = {0};
    ssize_t n = fgetxattr(dfd, "trusted.overlay.opaque", v, sizeof(v));
    if (n < 0)
        n = fgetxattr(dfd, "user.overlay.opaque", v, sizeof(v));
    return n == 1 && v[0] == 'y';
}

static int
put_header(struct archive *a, struct archive_entry *e, const char *name, struct berth_err *err)
{
    if (archive_write_header(a, e) < ARCHIVE_WARN)
        return berth_err_set(err, archive_errno(a), "write `%s` into the layer: %s", name,
                             archive_error_string(a));
    return 0;
}

/* An empty regular file entry (a whiteout or an opaque marker) with st's owner and time. */
static int
put_marker(struct archive *a, const struct stat *st, const char *name, mode_t perm,
           struct berth_err *err)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, perm);
    archive_entry_set_size(e, 0);
    archive_entry_set_uid(e, st->st_uid);
    archive_entry_set_gid(e, st->st_gid);
    archive_entry_set_mtime(e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
    int rc = put_header(a, e, name, err);
    archive_entry_free(e);
    return rc;
}

static int
copy_data(struct archive *a, int fd, const char *name, struct berth_err *err)
{
    char buf[CHUNK];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return berth_err_set(err, errno, "read `%s` in the layer", name);
        if (n == 0)
            return 0;
        if (archive_write_data(a, buf, (size_t)n) < 0)
            return berth_err_set(err, archive_errno(a), "write `%s` into the layer: %s", name,
                                 archive_error_string(a));
    }
}

/* The first name of a multiply-linked inode, or NULL (and it is remembered as name). */
static const char *
link_of(struct layer_out *o, const struct stat *st, const char *name)
{
    for (size_t i = 0; i < o->n_inodes; i++)
        if (o->inodes[i].dev == st->st_dev && o->inodes[i].ino == st->st_ino)
            return o->inodes[i].name;
    o->inodes = xrealloc(o->inodes, (o->n_inodes + 1) * sizeof(*o->inodes));
    o->inodes[o->n_inodes++] = (struct seen_inode){st->st_dev, st->st_ino, xstrdup(name)};
    return NULL;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int write_dir(struct layer_out *o, struct archive *a, int dfd, const char *prefix, int depth,
                     struct berth_err *err);

/* One entry of directory dfd, named name there and path in the tar. */
static int
write_entry(struct layer_out *o, struct archive *a, int dfd, const char *name, const char *path,
            int depth, struct berth_err *err)
{
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0; /* gone since readdir: a container that was not paused */
        return berth_err_set(err, errno, "stat `%s` in the layer", path);
    }
    if (S_ISSOCK(st.st_mode))
        return 0; /* tar has no sockets, and docker leaves them out too */
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
        const char *slash = strrchr(path, '/');
        cleanup_free char *wh = slash
                                    ? xasprintf("%.*s/.wh.%s", (int)(slash - path), path, slash + 1)
                                    : xasprintf(".wh.%s", path);
        return put_marker(a, &st, wh, 0600, err);
    }

    cleanup_close int fd = -1;
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
        fd = openat(dfd, name,
                    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
        if (fd < 0 && errno == ENOENT)
            return 0;
        if (fd < 0)
            return berth_err_set(err, errno, "open `%s` in the layer", path);
    }

    const char *ind = fd >= 0 ? overlay_indirection(fd) : NULL;
    if (ind)
        return berth_err_fail(err, ENOTSUP,
                              "`%s` has %s: a layer whose content lies in other layers cannot "
                              "be committed",
                              path, ind);

    struct archive_entry *e = archive_entry_new();
    archive_entry_copy_stat(e, &st);
    cleanup_free char *tarname = S_ISDIR(st.st_mode) ? xasprintf("%s/", path) : xstrdup(path);
    archive_entry_set_pathname(e, tarname);
    /* Owners by number only: names would come from the host's passwd, not the image's. */
    archive_entry_set_uname(e, NULL);
    archive_entry_set_gname(e, NULL);
    archive_entry_unset_atime(e);
    archive_entry_unset_ctime(e);
    if (!S_ISREG(st.st_mode))
        archive_entry_set_size(e, 0);
    const char *first = S_ISREG(st.st_mode) && st.st_nlink > 1 ? link_of(o, &st, path) : NULL;
    if (first) {
        archive_entry_set_hardlink(e, first);
        archive_entry_set_size(e, 0);
    }
    if (S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t n = readlinkat(dfd, name, target, sizeof(target) - 1);
        if (n < 0) {
            archive_entry_free(e);
            return berth_err_set(err, errno, "read the link `%s` in the layer", path);
        }
        target[n] = '\0';
        archive_entry_set_symlink(e, target);
    }
    if (fd >= 0)
        copy_xattrs(e, fd);
    /* The size written is the size stat saw: a file that grows meanwhile is cut there. */
    int rc = put_header(a, e, path, err);
    archive_entry_free(e);
    if (rc < 0)
        return -1;
    if (S_ISREG(st.st_mode) && !first && st.st_size > 0)
        return copy_data(a, fd, path, err);
    if (!S_ISDIR(st.st_mode))
        return 0;
    if (is_opaque(fd)) {
        cleanup_free char *marker = xasprintf("%s/" OPAQUE_MARKER, path);
        if (put_marker(a, &st, marker, st.st_mode & 07777, err) < 0)
            return -1;
    }
    return write_dir(o, a, fd, path, depth + 1, err);
}

/* The entries of dfd in byte order of their names (prefix: its path in the tar, "" at the
 * top). */
static int
write_dir(struct layer_out *o, struct archive *a, int dfd, const char *prefix, int depth,
          struct berth_err *err)
{
    if (depth > MAX_DEPTH)
        return berth_err_fail(err, ELOOP, "`%s`: directories nested too deep", prefix);
    int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return berth_err_set(err, errno, "open `%s` in the layer", *prefix ? prefix : "/");
    cleanup_dir DIR *dir = fdopendir(fd);
    if (!dir) {
        close(fd);
        return berth_err_set(err, errno, "read `%s` in the layer", *prefix ? prefix : "/");
    }
    cleanup_strv char **names = xzalloc(sizeof(*names));
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(dir))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        names = xrealloc(names, (n + 2) * sizeof(*names));
        names[n++] = xstrdup(de->d_name);
        names[n] = NULL;
    }
    qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 0; i < n; i++) {
        cleanup_free char *path =
            *prefix ? xasprintf("%s/%s", prefix, names[i]) : xstrdup(names[i]);
        if (write_entry(o, a, dfd, names[i], path, depth, err) < 0)
            return -1;
    }
    return 0;
}

static void
archive_freep(struct archive **a)
{
    if (*a)
        archive_write_free(*a);
}

int
eng_layer_write(const char *upper, int out_fd, struct eng_layer_info *info, struct berth_err *err)
{
    cleanup_close int root = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return berth_err_set(err, errno, "open the layer `%s`", upper);
    struct layer_out *o = xzalloc(sizeof(*o));
    o->fd = out_fd;
    o->raw = berth_sha256_new();
    o->gz = berth_sha256_new();
    /* windowBits 16+15: a gzip wrapper, whose header zlib writes without a name or a time. */
    if (deflateInit2(&o->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        berth_sha256_free(o->raw);
        berth_sha256_free(o->gz);
        free(o);
        return berth_err_fail(err, ENOMEM, "start compressing the layer");
    }

    int rc = 0;
    {
        __attribute__((cleanup(archive_freep))) struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        /* Docker's layers end with the two zero blocks, not padded to a 10 KiB record. */
        archive_write_set_bytes_in_last_block(a, 1);
        if (archive_write_open(a, o, NULL, tar_out, NULL) != ARCHIVE_OK)
            rc = berth_err_fail(err, EIO, "write the layer: %s", archive_error_string(a));
        if (rc == 0)
            rc = write_dir(o, a, root, "", 0, err);
        if (rc == 0 && archive_write_close(a) != ARCHIVE_OK)
            rc = berth_err_set(err, archive_errno(a), "write the layer: %s",
                               archive_error_string(a));
    }
    if (rc == 0 && deflate_out(o, Z_FINISH) < 0)
        rc = berth_err_set(err, o->saved_errno ? o->saved_errno : EIO, "compress the layer");
    deflateEnd(&o->z);
    if (rc == 0) {
        char hex[BERTH_SHA256_HEX_LEN + 1];
        berth_sha256_final(o->raw, hex);
        snprintf(info->diff_id, sizeof(info->diff_id), "sha256:%s", hex);
        berth_sha256_final(o->gz, hex);
        snprintf(info->digest, sizeof(info->digest), "sha256:%s", hex);
        info->size = o->size;
    }
    berth_sha256_free(o->raw);
    berth_sha256_free(o->gz);
    for (size_t i = 0; i < o->n_inodes; i++)
        free(o->inodes[i].name);
    free(o->inodes);
    free(o);
    return rc;
}
