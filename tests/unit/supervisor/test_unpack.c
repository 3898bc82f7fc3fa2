/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for supervisor/unpack. Layers are built here with libarchive's writer (pax
 * tar, then gzip, zstd or nothing around it) so their diffID is known; they are applied to
 * temporary directories and checked with stat, getxattr and readlink, and whiteouts through
 * a real overlay mount. Hostile layers (absolute names, `..`, writes through a symlink,
 * hard links out, huge names) must be refused with EINVAL and leave a canary file next to
 * the target untouched, and nothing new outside it. Needs root (ownership, device nodes,
 * trusted.* xattrs, mounts).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/error.h"
#include "common/fs.h"
#include "supervisor/unpack/unpack.h"

struct fixture {
    char dir[64];
    char *target;
    char *layer;
    char *canary;
};

static void
expect_ok(int r, struct berth_err *err)
{
    if (r < 0)
        fail_msg("unexpected error: %s", err->msg);
}

static void
expect_err(int r, struct berth_err *err, int code, const char *substr)
{
    assert_int_equal(r, -1);
    assert_non_null(err->msg);
    if (err->code != code)
        fail_msg("code %d, not %d: %s", err->code, code, err->msg);
    if (substr && strstr(err->msg, substr) == NULL)
        fail_msg("message `%s` lacks `%s`", err->msg, substr);
    berth_err_clear(err);
}

static int
setup(void **state)
{
    *state = NULL;
    if (geteuid() != 0)
        return 0; /* each test skips */
    struct fixture *f = xzalloc(sizeof(*f));

    strcpy(f->dir, "/tmp/berth-test-unpack-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    f->target = xasprintf("%s/target", f->dir);
    f->layer = xasprintf("%s/layer", f->dir);
    f->canary = xasprintf("%s/canary", f->dir);
    if (mkdir(f->target, 0755) < 0)
        return -1;
    FILE *fp = fopen(f->canary, "w");
    if (fp == NULL)
        return -1;
    fputs("canary", fp);
    fclose(fp);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;

    if (f == NULL)
        return 0;
    int r = berth_fs_rm_rf(f->dir, &err);
    berth_err_clear(&err);
    free(f->target);
    free(f->layer);
    free(f->canary);
    free(f);
    return r;
}

static struct fixture *
fixture(void **state)
{
    if (*state == NULL)
        skip();
    return *state;
}

/* ---- Building layers ------------------------------------------------------------------------ */

/* One entry: f file, d dir, l symlink, h hard link, c/b device, p fifo. data is a file's
 * content or a link's target. */
struct tent {
    char type;
    const char *name;
    const char *data;
    unsigned mode;
    unsigned uid, gid;
    unsigned major, minor;
    long mtime;
    const char *xname;
    const void *xvalue;
    size_t xlen;
};

struct membuf {
    char *data;
    size_t len;
};

static la_ssize_t
mem_write(struct archive *a, void *data, const void *buf, size_t len)
{
    struct membuf *m = data;

    m->data = xrealloc(m->data, m->len + len);
    memcpy(m->data + m->len, buf, len);
    m->len += len;
    return (la_ssize_t)len;
}

/* The entries as a pax tar, in memory. */
static struct membuf
build_tar(const struct tent *ents, size_t n)
{
    struct membuf m = {NULL, 0};
    struct archive *w = archive_write_new();

    assert_int_equal(archive_write_set_format_pax_restricted(w), ARCHIVE_OK);
    assert_int_equal(archive_write_open(w, &m, NULL, mem_write, NULL), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        const struct tent *t = &ents[i];
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, t->name);
        archive_entry_set_uid(e, t->uid);
        archive_entry_set_gid(e, t->gid);
        archive_entry_set_perm(e, t->mode ? t->mode : (t->type == 'd' ? 0755 : 0644));
        archive_entry_set_mtime(e, t->mtime ? t->mtime : 1600000000, 0);
        switch (t->type) {
        case 'f':
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_size(e, t->data ? (la_int64_t)strlen(t->data) : 0);
            break;
        case 'd': archive_entry_set_filetype(e, AE_IFDIR); break;
        case 'l':
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_symlink(e, t->data);
            break;
        case 'h':
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_hardlink(e, t->data);
            break;
        case 'c':
        case 'b':
            archive_entry_set_filetype(e, t->type == 'c' ? AE_IFCHR : AE_IFBLK);
            archive_entry_set_rdevmajor(e, t->major);
            archive_entry_set_rdevminor(e, t->minor);
            break;
        case 'p': archive_entry_set_filetype(e, AE_IFIFO); break;
        default: fail_msg("bad type %c", t->type);
        }
        if (t->xname)
            archive_entry_xattr_add_entry(e, t->xname, t->xvalue, t->xlen);
        int r = archive_write_header(w, e);
        if (r < ARCHIVE_WARN)
            fail_msg("write header %s: %s", t->name, archive_error_string(w));
        if (t->type == 'f' && t->data)
            assert_int_equal(archive_write_data(w, t->data, strlen(t->data)),
                             (la_ssize_t)strlen(t->data));
        archive_entry_free(e);
    }
    assert_int_equal(archive_write_close(w), ARCHIVE_OK);
    archive_write_free(w);
    return m;
}

/* Write tar to path compressed with filter (ARCHIVE_FILTER_NONE, _GZIP, _ZSTD), through
 * libarchive's raw format so the compressed stream holds exactly these bytes. */
static void
write_layer(const char *path, const struct membuf *tar, int filter)
{
    if (filter == ARCHIVE_FILTER_NONE) {
        struct berth_err err = BERTH_ERR_INIT;
        expect_ok(berth_fs_write_atomic(path, tar->data, tar->len, 0644, &err), &err);
        return;
    }
    struct archive *w = archive_write_new();
    assert_int_equal(archive_write_set_format_raw(w), ARCHIVE_OK);
    assert_int_equal(filter == ARCHIVE_FILTER_GZIP ? archive_write_add_filter_gzip(w)
                                                   : archive_write_add_filter_zstd(w),
                     ARCHIVE_OK);
    assert_int_equal(archive_write_open_filename(w, path), ARCHIVE_OK);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, "layer");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_size(e, (la_int64_t)tar->len);
    assert_int_equal(archive_write_header(w, e), ARCHIVE_OK);
    assert_int_equal(archive_write_data(w, tar->data, tar->len), (la_ssize_t)tar->len);
    archive_entry_free(e);
    assert_int_equal(archive_write_close(w), ARCHIVE_OK);
    archive_write_free(w);
}

/* "sha256:<hex>" of the tar, in out. */
static void
diff_id(const struct membuf *tar, char out[SUP_UNPACK_DIGEST_MAX])
{
    char hex[BERTH_SHA256_HEX_LEN + 1];

    berth_sha256_buf(tar->data, tar->len, hex);
    snprintf(out, SUP_UNPACK_DIGEST_MAX, "sha256:%s", hex);
}

/* Build ents into f->layer (compressed with filter) and apply it to target. */
static int
apply(struct fixture *f, const char *target, const struct tent *ents, size_t n, int filter,
      const struct sup_unpack_opts *opts, struct sup_unpack_stats *stats, struct berth_err *err)
{
    struct membuf tar = build_tar(ents, n);

    write_layer(f->layer, &tar, filter);
    free(tar.data);
    return sup_unpack_apply_file(f->layer, target, opts, stats, err);
}

static char *
read_at(const char *dir, const char *name)
{
    cleanup_free char *path = xasprintf("%s/%s", dir, name);
    struct berth_err err = BERTH_ERR_INIT;
    char *out = NULL;

    if (berth_fs_read_file(path, &out, NULL, &err) < 0) {
        berth_err_clear(&err);
        return NULL;
    }
    return out;
}

static void
assert_file(const char *dir, const char *name, const char *content)
{
    cleanup_free char *got = read_at(dir, name);
    if (content == NULL && got)
        fail_msg("%s/%s exists", dir, name);
    if (content && got == NULL)
        fail_msg("%s/%s is missing", dir, name);
    if (content)
        assert_string_equal(got, content);
}

static struct stat
lstat_at(const char *dir, const char *name)
{
    cleanup_free char *path = xasprintf("%s/%s", dir, name);
    struct stat st;

    if (lstat(path, &st) < 0)
        fail_msg("lstat %s: %s", path, strerror(errno));
    return st;
}

/* The canary beside the target is intact, and the test dir holds only what setup made. */
static void
assert_nothing_outside(struct fixture *f)
{
    assert_file(f->dir, "canary", "canary");
    struct stat st = lstat_at(f->dir, "canary");
    assert_int_equal(st.st_nlink, 1);
    cleanup_dir DIR *d = opendir(f->dir);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *ok[] = {".",     "..",    "canary", "target", "layer",
                            "lower", "upper", "work",   "mnt"};
        bool known = false;
        for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
            known |= strcmp(de->d_name, ok[i]) == 0;
        if (!known)
            fail_msg("`%s` appeared beside the target", de->d_name);
    }
}

/* Empty the target for the next case. */
static void
reset_target(struct fixture *f)
{
    struct berth_err err = BERTH_ERR_INIT;

    expect_ok(berth_fs_rm_rf(f->target, &err), &err);
    assert_int_equal(mkdir(f->target, 0755), 0);
}

/* ---- Tests ---------------------------------------------------------------------------------- */

static const struct tent simple[] = {
    {.type = 'd', .name = "./"},
    {.type = 'd', .name = "./etc/"},
    {.type = 'f', .name = "./etc/hostname", .data = "berth\n"},
    {.type = 'f', .name = "bin//sh", .data = "#!"},
    {.type = 'l', .name = "etc/link", .data = "hostname"},
};

static void
test_apply_compressions(void **state)
{
    struct fixture *f = fixture(state);
    struct berth_err err = BERTH_ERR_INIT;
    const int filters[] = {ARCHIVE_FILTER_NONE, ARCHIVE_FILTER_GZIP, ARCHIVE_FILTER_ZSTD};
    const char *media[] = {"application/vnd.oci.image.layer.v1.tar",
                           "application/vnd.oci.image.layer.v1.tar+gzip",
                           "application/vnd.oci.image.layer.v1.tar+zstd"};
    struct membuf tar = build_tar(simple, ARRAY_SIZE(simple));
    char want[SUP_UNPACK_DIGEST_MAX];

    diff_id(&tar, want);
    for (size_t i = 0; i < ARRAY_SIZE(filters); i++) {
        /* By magic, then by media type with the diffID checked. */
        for (int by_media = 0; by_media < 2; by_media++) {
            struct sup_unpack_opts opts = {0};
            struct sup_unpack_stats st;
            if (by_media) {
                opts.media_type = media[i];
                opts.expected_diff_id = want;
            }
            reset_target(f);
            write_layer(f->layer, &tar, filters[i]);
            expect_ok(sup_unpack_apply_file(f->layer, f->target, &opts, &st, &err), &err);
            assert_string_equal(st.diff_id, want);
            assert_int_equal(st.size, tar.len);
            assert_int_equal(st.entries, ARRAY_SIZE(simple));
            assert_file(f->target, "etc/hostname", "berth\n");
            assert_file(f->target, "bin/sh", "#!");
            assert_file(f->target, "etc/link", "berth\n");
        }
    }

    /* Docker's media type spelling. */
    reset_target(f);
    write_layer(f->layer, &tar, ARCHIVE_FILTER_GZIP);
    struct sup_unpack_opts docker = {.media_type =
                                         "application/vnd.docker.image.rootfs.diff.tar.gzip"};
    expect_ok(sup_unpack_apply_file(f->layer, f->target, &docker, NULL, &err), &err);
    free(tar.data);
}

static void
test_apply_bad_input(void **state)
{
    struct fixture *f = fixture(state);
    struct berth_err err = BERTH_ERR_INIT;
    struct membuf tar = build_tar(simple, ARRAY_SIZE(simple));
    struct sup_unpack_opts opts = {0};

    /* A diffID other than the content's: refused after the pass. */
    write_layer(f->layer, &tar, ARCHIVE_FILTER_GZIP);
    opts.expected_diff_id =
        "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    expect_err(sup_unpack_apply_file(f->layer, f->target, &opts, NULL, &err), &err, EINVAL,
               "not the expected");
    opts.expected_diff_id = "md5:1234";
    expect_err(sup_unpack_apply_file(f->layer, f->target, &opts, NULL, &err), &err, EINVAL, NULL);

    /* Media type against content. */
    opts.expected_diff_id = NULL;
    opts.media_type = "application/vnd.oci.image.layer.v1.tar+zstd";
    expect_err(sup_unpack_apply_file(f->layer, f->target, &opts, NULL, &err), &err, EINVAL,
               "says zstd, but the blob is gzip");
    opts.media_type = "application/vnd.oci.image.config.v1+json";
    expect_err(sup_unpack_apply_file(f->layer, f->target, &opts, NULL, &err), &err, ENOTSUP, NULL);

    /* Not a tar; a truncated gzip stream; an empty file; a missing file. */
    struct berth_err e2 = BERTH_ERR_INIT;
    expect_ok(berth_fs_write_atomic(f->layer, "hello, world, this is no tar archive at all", 43,
                                    0644, &e2),
              &e2);
    expect_err(sup_unpack_apply_file(f->layer, f->target, NULL, NULL, &err), &err, EINVAL, NULL);
    write_layer(f->layer, &tar, ARCHIVE_FILTER_GZIP);
    assert_int_equal(truncate(f->layer, 40), 0);
    reset_target(f);
    expect_err(sup_unpack_apply_file(f->layer, f->target, NULL, NULL, &err), &err, EINVAL, NULL);
    assert_int_equal(truncate(f->layer, 0), 0);
    expect_err(sup_unpack_apply_file(f->layer, f->target, NULL, NULL, &err), &err, EINVAL, NULL);
    expect_err(sup_unpack_apply_file("/nonexistent/layer", f->target, NULL, NULL, &err), &err,
               ENOENT, NULL);

    /* Compressed twice. */
    write_layer(f->layer, &tar, ARCHIVE_FILTER_GZIP);
    cleanup_free char *once = NULL;
    size_t once_len = 0;
    expect_ok(berth_fs_read_file(f->layer, &once, &once_len, &e2), &e2);
    struct membuf gz = {once, once_len};
    write_layer(f->layer, &gz, ARCHIVE_FILTER_GZIP);
    expect_err(sup_unpack_apply_file(f->layer, f->target, NULL, NULL, &err), &err, EINVAL,
               "compressed");
    free(tar.data);
}

static void
test_apply_empty_layer(void **state)
{
    struct fixture *f = fixture(state);
    struct berth_err err = BERTH_ERR_INIT;
    struct membuf tar = build_tar(NULL, 0);
    struct sup_unpack_stats st;
    char want[SUP_UNPACK_DIGEST_MAX];

    diff_id(&tar, want);
    write_layer(f->layer, &tar, ARCHIVE_FILTER_GZIP);
    expect_ok(sup_unpack_apply_file(f->layer, f->target, NULL, &st, &err), &err);
    assert_int_equal(st.entries, 0);
    assert_string_equal(st.diff_id, want);
    free(tar.data);
}

static void
test_apply_metadata(void **state)
{
    struct fixture *f = fixture(state);
    struct berth_err err = BERTH_ERR_INIT;
    /* security.capability, VFS_CAP_REVISION_2 with the effective bit: cap_net_bind_service
     * (10) permitted. Little-endian u32s: magic_etc, then {permitted, inheritable} x 2. */
    static const uint8_t cap[20] = {0x01, 0x00, 0x00, 0x02, 0x00, 0x04};
    const struct tent ents[] = {
        {.type = 'd', .name = "d", .mode = 01777, .uid = 1, .gid = 2, .mtime = 1000000},
        {.type = 'f',
         .name = "d/suid",
         .data = "x",
         .mode = 04755,
         .uid = 1234,
         .gid = 5678,
         .mtime = 1500000000,
         .xname = "user.berth",
         .xvalue = "yes",
         .xlen = 3},
        {.type = 'f',
         .name = "d/cap",
         .data = "y",
         .mode = 0755,
         .xname = "security.capability",
         .xvalue = cap,
         .xlen = sizeof(cap)},
        {.type = 'f',
         .name = "d/ovl",
         .data = "z",
         .xname = "trusted.overlay.opaque",
         .xvalue = "y",
         .xlen = 1},
        {.type = 'l', .name = "d/sym", .data = "suid", .uid = 7, .gid = 8, .mtime = 2000000},
        {.type = 'h', .name = "d/hard", .data = "d/suid"},
        {.type = 'c', .name = "d/null", .mode = 0666, .major = 1, .minor = 3},
        {.type = 'b', .name = "d/loop", .mode = 0660, .major = 7, .minor = 0, .gid = 6},
        {.type = 'p', .name = "d/fifo", .mode = 0640},
        {.type = 'f', .name = "d/d\xc3\xa9j\xc3\xa0", .data = "utf8"},
        {.type = 'f', .name = "implicit/parent/file", .data = "deep"},
    };
    struct sup_unpack_stats st;
    char buf[64];

    expect_ok(apply(f, f->target, ents, ARRAY_SIZE(ents), ARCHIVE_FILTER_GZIP, NULL, &st, &err),
              &err);
    assert_int_equal(st.entries, ARRAY_SIZE(ents));

    struct stat s = lstat_at(f->target, "d");
    assert_int_equal(s.st_mode, S_IFDIR | 01777);
    assert_int_equal(s.st_uid, 1);
    assert_int_equal(s.st_gid, 2);
    assert_int_equal(s.st_mtime, 1000000); /* set after its entries went in */

    s = lstat_at(f->target, "d/suid");
    assert_int_equal(s.st_mode, S_IFREG | 04755);
    assert_int_equal(s.st_uid, 1234);
    assert_int_equal(s.st_gid, 5678);
    assert_int_equal(s.st_mtime, 1500000000);
    assert_int_equal(s.st_nlink, 2);
    cleanup_free char *suid = xasprintf("%s/d/suid", f->target);
    assert_int_equal(getxattr(suid, "user.berth", buf, sizeof(buf)), 3);
    assert_memory_equal(buf, "yes", 3);
    struct stat h = lstat_at(f->target, "d/hard");
    assert_int_equal(h.st_ino, s.st_ino);

    cleanup_free char *capf = xasprintf("%s/d/cap", f->target);
    assert_int_equal(getxattr(capf, "security.capability", buf, sizeof(buf)), sizeof(cap));
    assert_memory_equal(buf, cap, sizeof(cap));
    cleanup_free char *ovl = xasprintf("%s/d/ovl", f->target);
    assert_int_equal(getxattr(ovl, "trusted.overlay.opaque", buf, sizeof(buf)), -1);

    s = lstat_at(f->target, "d/sym");
    assert_true(S_ISLNK(s.st_mode));
    assert_int_equal(s.st_uid, 7);
    assert_int_equal(s.st_gid, 8);
    assert_int_equal(s.st_mtime, 2000000);
    cleanup_free char *sym = xasprintf("%s/d/sym", f->target);
    ssize_t n = readlink(sym, buf, sizeof(buf));
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "suid", 4);

    s = lstat_at(f->target, "d/null");
    assert_int_equal(s.st_mode, S_IFCHR | 0666);
    assert_int_equal(s.st_rdev, makedev(1, 3));
    s = lstat_at(f->target, "d/loop");
    assert_int_equal(s.st_mode, S_IFBLK | 0660);
    assert_int_equal(s.st_rdev, makedev(7, 0));
    assert_int_equal(s.st_gid, 6);
    s = lstat_at(f->target, "d/fifo");
    assert_int_equal(s.st_mode, S_IFIFO | 0640);
    assert_file(f->target, "d/d\xc3\xa9j\xc3\xa0", "utf8");

    /* Parents the layer did not list: 0755 root. */
    s = lstat_at(f->target, "implicit/parent");
    assert_int_equal(s.st_mode, S_IFDIR | 0755);
    assert_file(f->target, "implicit/parent/file", "deep");
}

static void
test_apply_parents_from_lower(void **state)
{
    struct fixture *f = fixture(state);
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *lower = xasprintf("%s/lower", f->dir);
    cleanup_free char *tmp = xasprintf("%s/tmp", lower);
    const struct tent ents[] = {{.type = 'f', .name = "tmp/x", .data = "x"}};

    assert_int_equal(mkdir(lower, 0755), 0);
    assert_int_equal(mkdir(tmp, 0755), 0);
    assert_int_equal(chmod(tmp, 01777), 0);
    assert_int_equal(chown(tmp, 3, 4), 0);
    const char *parents[] = {lower};
    struct sup_unpack_opts opts = {.parents = parents, .n_parents = 1};
    expect_ok(apply(f, f->target, ents, 1, ARCHIVE_FILTER_NONE, &opts, NULL, &err), &err);
    struct stat s = lstat_at(f->target, "tmp");
    assert_int_equal(s.st_mode, S_IFDIR | 01777);
    assert_int_equal(s.st_uid, 3);
    assert_int_equal(s.st_gid, 4);
}

static void
test_apply_replace(void **state)
{
    struct fixture *f = fixture(state);
    struct berth_err err = BERTH_ERR_INIT;
    const struct tent ents[] = {
        /* a file, then a directory of the same name */
        {.type = 'f', .name = "x", .data = "file"},
        {.type = 'd', .name = "x", .mode = 0700},
        {.type = 'f', .name = "x/y", .data = "in x"},
        /* a directory with content, then a file */
        {.type = 'd', .name = "z"},
        {.type = 'f', .name = "z/w", .data = "gone"},
        {.type = 'f', .name = "z", .data = "now a file"},
        /* a file written twice */
        {.type = 'f', .name = "twice", .data = "first"},
        {.type = 'f', .name = "twice", .data = "second"},
        /* a directory listed twice keeps its content and takes the last metadata */
        {.type = 'd', .name = "dd", .mode = 0755},
        {.type = 'f', .name = "dd/k", .data = "kept"},
        {.type = 'd', .name = "dd", .mode = 0711},
        /* a symlink pointing outside, replaced by a file and by a directory */
        {.type = 'l', .name = "s1", .data = f->canary},
        {.type = 'f', .name = "s1", .data = "not the canary"},
        {.type = 'l', .name = "s2", .data = f->dir},
        {.type = 'd', .name = "s2"},
        {.type = 'f', .name = "s2/canary", .data = "inside"},
    };

    expect_ok(apply(f, f->target, ents, ARRAY_SIZE(ents), ARCHIVE_FILTER_NONE, NULL, NULL, &err),
              &err);
    struct stat s = lstat_at(f->target, "x");
    assert_int_equal(s.st_mode, S_IFDIR | 0700);
    assert_file(f->target, "x/y", "in x");
    s = lstat_at(f->target, "z");
    assert_true(S_ISREG(s.st_mode));
    assert_file(f->target, "z", "now a file");
    assert_file(f->target, "twice", "second");
    s = lstat_at(f->target, "dd");
    assert_int_equal(s.st_mode, S_IFDIR | 0711);
    assert_file(f->target, "dd/k", "kept");
    assert_file(f->target, "s1", "not the canary");
    assert_file(f->target, "s2/canary", "inside");
    assert_nothing_outside(f);
}

/* Each layer must be refused (EINVAL, message containing what) and leave nothing outside. */
static void
expect_refused(struct fixture *f, const struct tent *ents, size_t n, const char *what)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct stat passwd_before, passwd_after;

    assert_int_equal(stat("/etc/passwd", &passwd_before), 0);
    reset_target(f);
    expect_err(apply(f, f->target, ents, n, ARCHIVE_FILTER_GZIP, NULL, NULL, &err), &err, EINVAL,
               what);
    assert_nothing_outside(f);
    assert_int_equal(stat("/etc/passwd", &passwd_after), 0);
    assert_int_equal(passwd_after.st_nlink, passwd_before.st_nlink);
    assert_int_equal(passwd_after.st_mtime, passwd_before.st_mtime);
}

static void
test_apply_hostile(void **state)
{
    struct fixture *f = fixture(state);
    cleanup_free char *huge = xmalloc(5001);
    cleanup_free char *long_component = xmalloc(301);
    cleanup_free char *rel_up = xasprintf("a/b/../../../%s", "canary");

    memset(huge, 'a', 5000);
    huge[5000] = '\0';
    for (int i = 0; i < 5000; i += 100)
        huge[i] = '/';
    huge[0] = 'a';
    memset(long_component, 'b', 300);
    long_component[300] = '\0';

    /* Absolute names, at the canary itself. */
    expect_refused(f, (struct tent[]){{.type = 'f', .name = f->canary, .data = "pwned"}}, 1,
                   "absolute");
    /* `..` out of the target, plain and after components. */
    expect_refused(f, (struct tent[]){{.type = 'f', .name = "../canary", .data = "pwned"}}, 1,
                   "`..`");
    expect_refused(f, (struct tent[]){{.type = 'f', .name = rel_up, .data = "pwned"}}, 1, "`..`");
    /* A symlink out, then a write through it (absolute and relative targets). */
    expect_refused(f,
                   (struct tent[]){{.type = 'l', .name = "a", .data = f->dir},
                                   {.type = 'f', .name = "a/canary", .data = "pwned"}},
                   2, "symlink");
    expect_refused(f,
                   (struct tent[]){{.type = 'l', .name = "b", .data = ".."},
                                   {.type = 'f', .name = "b/canary", .data = "pwned"}},
                   2, "symlink");
    expect_refused(f,
                   (struct tent[]){{.type = 'l', .name = "c", .data = f->dir},
                                   {.type = 'd', .name = "c/newdir"}},
                   2, "symlink");
    /* Hard links out of the layer. */
    expect_refused(f, (struct tent[]){{.type = 'h', .name = "h", .data = "/etc/passwd"}}, 1,
                   "absolute");
    expect_refused(f, (struct tent[]){{.type = 'h', .name = "h", .data = "../canary"}}, 1, "`..`");
    expect_refused(f,
                   (struct tent[]){{.type = 'l', .name = "e", .data = "/etc"},
                                   {.type = 'h', .name = "h", .data = "e/passwd"}},
                   2, "symlink");
    expect_refused(f, (struct tent[]){{.type = 'h', .name = "h", .data = "etc/passwd"}}, 1,
                   "not in the layer");
    /* Names too long for the filesystem. */
    expect_refused(f, (struct tent[]){{.type = 'f', .name = huge, .data = "x"}}, 1, "bytes");
    expect_refused(f, (struct tent[]){{.type = 'f', .name = long_component, .data = "x"}}, 1,
                   "component");
    /* A whiteout naming nothing. */
    expect_refused(f, (struct tent[]){{.type = 'f', .name = "d/.wh.", .data = ""}}, 1,
                   "names no entry");

    /* A symlink out on its own is only a symlink. */
    struct berth_err err = BERTH_ERR_INIT;
    reset_target(f);
    const struct tent ok[] = {{.type = 'l', .name = "etc", .data = "/etc"}};
    expect_ok(apply(f, f->target, ok, 1, ARCHIVE_FILTER_NONE, NULL, NULL, &err), &err);
    assert_nothing_outside(f);
}

static void
test_apply_whiteouts_overlay(void **state)
{
    struct fixture *f = fixture(state);
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *lower = xasprintf("%s/lower", f->dir);
    cleanup_free char *work = xasprintf("%s/work", f->dir);
    cleanup_free char *mnt = xasprintf("%s/mnt", f->dir);
    const struct tent lower_ents[] = {
        {.type = 'f', .name = "a", .data = "lower a"},
        {.type = 'f', .name = "keep", .data = "lower keep"},
        {.type = 'f', .name = "dir/x", .data = "lower x"},
        {.type = 'f', .name = "dir/y", .data = "lower y"},
        {.type = 'f', .name = "other/o", .data = "lower o"},
        {.type = 'f', .name = "both", .data = "lower both"},
        {.type = 'f', .name = "redo/old", .data = "lower old"},
    };
    const struct tent upper_ents[] = {
        {.type = 'f', .name = ".wh.a", .data = ""},
        {.type = 'd', .name = "dir"},
        {.type = 'f', .name = "dir/.wh..wh..opq", .data = ""},
        {.type = 'f', .name = "dir/new", .data = "upper new"},
        /* a whiteout and a file of the same name in one layer: the file stays */
        {.type = 'f', .name = "both", .data = "upper both"},
        {.type = 'f', .name = ".wh.both", .data = ""},
        /* a whiteout, then a directory of the same name: the lower one is hidden */
        {.type = 'f', .name = ".wh.redo", .data = ""},
        {.type = 'f', .name = "redo/new", .data = "upper redo"},
        /* whiteout in a directory the layer does not list; AUFS metadata is skipped */
        {.type = 'f', .name = "other/.wh.o", .data = ""},
        {.type = 'f', .name = ".wh..wh.plnk", .data = ""},
    };

    assert_int_equal(mkdir(lower, 0755), 0);
    assert_int_equal(mkdir(work, 0700), 0);
    assert_int_equal(mkdir(mnt, 0755), 0);
    expect_ok(
        apply(f, lower, lower_ents, ARRAY_SIZE(lower_ents), ARCHIVE_FILTER_ZSTD, NULL, NULL, &err),
        &err);
    expect_ok(apply(f, f->target, upper_ents, ARRAY_SIZE(upper_ents), ARCHIVE_FILTER_ZSTD, NULL,
                    NULL, &err),
              &err);

    /* The upper layer as overlayfs expects it. */
    struct stat s = lstat_at(f->target, "a");
    assert_true(S_ISCHR(s.st_mode));
    assert_int_equal(s.st_rdev, makedev(0, 0));
    cleanup_free char *dir = xasprintf("%s/dir", f->target);
    char v[4];
    assert_int_equal(getxattr(dir, "trusted.overlay.opaque", v, sizeof(v)), 1);
    assert_int_equal(v[0], 'y');
    cleanup_free char *plnk = xasprintf("%s/.wh..wh.plnk", f->target);
    assert_false(berth_fs_exists(plnk));

    cleanup_free char *opts =
        xasprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, f->target, work);
    assert_int_equal(mount("overlay", mnt, "overlay", 0, opts), 0);
    assert_file(mnt, "a", NULL);
    assert_file(mnt, "keep", "lower keep");
    assert_file(mnt, "dir/x", NULL);
    assert_file(mnt, "dir/y", NULL);
    assert_file(mnt, "dir/new", "upper new");
    assert_file(mnt, "both", "upper both");
    assert_file(mnt, "redo/old", NULL);
    assert_file(mnt, "redo/new", "upper redo");
    assert_file(mnt, "other/o", NULL);
    assert_file(mnt, ".wh..wh.plnk", NULL);
    assert_int_equal(umount(mnt), 0);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_apply_compressions), T(test_apply_bad_input),          T(test_apply_empty_layer),
        T(test_apply_metadata),     T(test_apply_parents_from_lower), T(test_apply_replace),
        T(test_apply_hostile),      T(test_apply_whiteouts_overlay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
