/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for engine/containers/layer.c over a real directory standing for an overlay
 * upper dir: the entries in name order, a 0/0 character device as `.wh.name`, an opaque
 * directory's `.wh..wh..opq`, hard links, the two digests checked against the bytes, the
 * same bytes for the same layer, and a redirect refused. Whiteout devices and trusted.*
 * xattrs need root; without it those checks are skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/error.h"
#include "common/fs.h"
#include "engine/containers/layer.h"

struct fixture {
    char *dir;   /* the temp dir */
    char *upper; /* dir/upper */
};

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof(*f));
    f->dir = xstrdup("/tmp/berth-englayer.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->upper = xasprintf("%s/upper", f->dir);
    assert_int_equal(mkdir(f->upper, 0755), 0);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    berth_fs_rm_rf(f->dir, &err);
    free(f->upper);
    free(f->dir);
    free(f);
    return 0;
}

static void
put(const struct fixture *f, const char *rel, const char *content)
{
    cleanup_free char *p = xasprintf("%s/%s", f->upper, rel);
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(berth_fs_write_atomic(p, content, strlen(content), 0644, &err), 0);
}

static void
dir(const struct fixture *f, const char *rel)
{
    cleanup_free char *p = xasprintf("%s/%s", f->upper, rel);
    assert_int_equal(mkdir(p, 0755), 0);
}

/* Write the layer to dir/layer.tgz; its fd (at its start) and info. */
static int
write_layer(const struct fixture *f, struct eng_layer_info *info, int *rc)
{
    cleanup_free char *p = xasprintf("%s/layer.tgz", f->dir);
    int fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    *rc = eng_layer_write(f->upper, fd, info, &err);
    if (*rc < 0)
        *rc = -err.code;
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

/* The entries of the layer at fd, "name" or "name=>hardlink", one a line. */
static char *
list(int fd)
{
    struct archive *a = archive_read_new();
    archive_read_support_filter_gzip(a);
    archive_read_support_format_tar(a);
    assert_int_equal(archive_read_open_fd(a, fd, 16384), ARCHIVE_OK);
    char *out = xstrdup("");
    struct archive_entry *e;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        const char *hl = archive_entry_hardlink(e);
        char *n =
            xasprintf("%s%s%s%s\n", out, archive_entry_pathname(e), hl ? "=>" : "", hl ? hl : "");
        free(out);
        out = n;
    }
    archive_read_free(a);
    return out;
}

static void
check_digests(int fd, const struct eng_layer_info *info)
{
    char hex[BERTH_SHA256_HEX_LEN + 1];
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(berth_sha256_fd(fd, hex, &err), 0);
    assert_string_equal(info->digest + 7, hex);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_size, info->size);

    /* The diff_id is the hash of what gunzip gives. */
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    gzFile gz = gzdopen(dup(fd), "rb");
    assert_non_null(gz);
    cleanup_sha256 struct berth_sha256 *h = berth_sha256_new();
    char buf[4096];
    int n;
    while ((n = gzread(gz, buf, sizeof(buf))) > 0)
        berth_sha256_update(h, buf, (size_t)n);
    assert_int_equal(n, 0);
    gzclose(gz);
    berth_sha256_final(h, hex);
    assert_string_equal(info->diff_id + 7, hex);
}

static void
test_layer_entries_in_order(void **state)
{
    struct fixture *f = *state;
    dir(f, "b");
    put(f, "b/z", "zed");
    put(f, "a", "first");
    cleanup_free char *x = xasprintf("%s/b/z", f->upper);
    cleanup_free char *y = xasprintf("%s/c", f->upper);
    assert_int_equal(link(x, y), 0);
    cleanup_free char *s = xasprintf("%s/d", f->upper);
    assert_int_equal(symlink("a", s), 0);

    struct eng_layer_info info;
    int rc;
    cleanup_close int fd = write_layer(f, &info, &rc);
    assert_int_equal(rc, 0);
    cleanup_free char *l = list(fd);
    assert_string_equal(l, "a\nb/\nb/z\nc=>b/z\nd\n");
    check_digests(fd, &info);

    /* The same layer again: the same bytes. */
    struct eng_layer_info again;
    cleanup_close int fd2 = write_layer(f, &again, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(again.digest, info.digest);
    assert_string_equal(again.diff_id, info.diff_id);
}

static void
test_layer_whiteouts(void **state)
{
    struct fixture *f = *state;
    cleanup_free char *wh = xasprintf("%s/gone", f->upper);
    if (mknod(wh, S_IFCHR | 0, makedev(0, 0)) < 0)
        skip(); /* not root */
    dir(f, "o");
    put(f, "o/kept", "k");
    cleanup_free char *o = xasprintf("%s/o", f->upper);
    if (setxattr(o, "trusted.overlay.opaque", "y", 1, 0) < 0)
        skip(); /* no trusted.* xattrs here */
    dir(f, "p");
    cleanup_free char *wh2 = xasprintf("%s/p/old", f->upper);
    assert_int_equal(mknod(wh2, S_IFCHR | 0, makedev(0, 0)), 0);

    struct eng_layer_info info;
    int rc;
    cleanup_close int fd = write_layer(f, &info, &rc);
    assert_int_equal(rc, 0);
    cleanup_free char *l = list(fd);
    assert_string_equal(l, ".wh.gone\no/\no/.wh..wh..opq\no/kept\np/\np/.wh.old\n");
    check_digests(fd, &info);
}

static void
test_layer_redirect_refused(void **state)
{
    struct fixture *f = *state;
    dir(f, "moved");
    cleanup_free char *m = xasprintf("%s/moved", f->upper);
    if (setxattr(m, "trusted.overlay.redirect", "/orig", 5, 0) < 0)
        skip();
    struct eng_layer_info info;
    int rc;
    cleanup_close int fd = write_layer(f, &info, &rc);
    assert_int_equal(rc, -ENOTSUP);
}

static void
test_layer_missing_dir(void **state)
{
    struct fixture *f = *state;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct eng_layer_info info;
    cleanup_free char *nothere = xasprintf("%s/nothere", f->dir);
    assert_int_equal(eng_layer_write(nothere, 1, &info, &err), -1);
    assert_int_equal(err.code, ENOENT);
    assert_non_null(strstr(err.msg, "nothere"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_layer_entries_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layer_whiteouts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layer_redirect_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layer_missing_dir, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
