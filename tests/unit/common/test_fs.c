/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for common/fs.c on real temporary directories: mkdir -p, whole-file reads,
 * atomic writes, rm -rf, lexical cleaning, and resolution inside a root through "..",
 * absolute and escaping symlinks, loops and absolute paths, for both the openat2 path and the
 * component walk it falls back to.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs-internal.h"
#include "common/fs.h"

/* Each test gets a fresh directory:
 *   <dir>/outside/secret          "outside"  (must never be reached from root)
 *   <dir>/root/                   the root of the resolution tests
 *   <dir>/root/outside/secret     "inside"   (where escaping paths must land instead) */
struct fixture {
    char dir[64];
    char *root;
    int rootfd;
};

static char *
path_in(struct fixture *f, const char *rel)
{
    return xasprintf("%s/%s", f->dir, rel);
}

static void
put_file(struct fixture *f, const char *rel, const char *content)
{
    cleanup_free char *p = path_in(f, rel);
    FILE *fp = fopen(p, "w");

    assert_non_null(fp);
    fputs(content, fp);
    fclose(fp);
}

static void
put_dir(struct fixture *f, const char *rel)
{
    cleanup_free char *p = path_in(f, rel);

    assert_int_equal(mkdir(p, 0755), 0);
}

static void
put_link(struct fixture *f, const char *rel, const char *target)
{
    cleanup_free char *p = path_in(f, rel);

    assert_int_equal(symlink(target, p), 0);
}

static char *
get_file(struct fixture *f, const char *rel)
{
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *p = path_in(f, rel);
    char *buf = NULL;

    if (berth_fs_read_file(p, &buf, NULL, &err) < 0)
        fail_msg("%s", err.msg);
    return buf;
}

static bool
exists_in(struct fixture *f, const char *rel)
{
    cleanup_free char *p = path_in(f, rel);

    return berth_fs_exists(p);
}

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof(*f));

    strcpy(f->dir, "/tmp/berth-test-fs-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    f->root = path_in(f, "root");
    put_dir(f, "outside");
    put_file(f, "outside/secret", "outside");
    put_dir(f, "root");
    put_dir(f, "root/outside");
    put_file(f, "root/outside/secret", "inside");
    f->rootfd = open(f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    *state = f;
    return f->rootfd < 0 ? -1 : 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;

    close(f->rootfd);
    int r = berth_fs_rm_rf(f->dir, &err);
    berth_err_clear(&err);
    if (r == 0 && berth_fs_exists(f->dir))
        r = -1;
    free(f->root);
    free(f);
    return r;
}

/* Names in dir other than "." and "..", sorted into one "a,b,c" string. */
static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
list_dir(const char *dir)
{
    cleanup_dir DIR *d = opendir(dir);
    char *names[64];
    size_t n = 0;
    struct dirent *de;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL && n < ARRAY_SIZE(names))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            names[n++] = xstrdup(de->d_name);
    qsort(names, n, sizeof(names[0]), cmp_str);

    char *out = xstrdup("");
    for (size_t i = 0; i < n; i++) {
        char *next = xasprintf("%s%s%s", out, i ? "," : "", names[i]);
        free(out);
        free(names[i]);
        out = next;
    }
    return out;
}

/* ---- mkdir_p ------------------------------------------------------------------------------ */

static void
test_berth_fs_mkdir_p_nested(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *p = path_in(f, "a//b/c/");
    struct stat st;

    assert_int_equal(berth_fs_mkdir_p(p, 0700, &err), 0);
    assert_int_equal(stat(p, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
}

static void
test_berth_fs_mkdir_p_existing(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *p = path_in(f, "outside");

    assert_int_equal(berth_fs_mkdir_p(p, 0755, &err), 0);
    assert_int_equal(berth_fs_mkdir_p(f->dir, 0755, &err), 0);
    assert_int_equal(berth_fs_mkdir_p("/", 0755, &err), 0);
    /* A symlink to a directory is a directory, as for mkdir -p. */
    put_link(f, "link", "outside");
    cleanup_free char *sub = path_in(f, "link/sub");
    assert_int_equal(berth_fs_mkdir_p(sub, 0755, &err), 0);
    assert_true(exists_in(f, "outside/sub"));
}

static void
test_berth_fs_mkdir_p_file_in_the_way(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *p = path_in(f, "outside/secret/sub");
    cleanup_free char *file = path_in(f, "outside/secret");

    assert_int_equal(berth_fs_mkdir_p(p, 0755, &err), -1);
    assert_int_equal(err.code, ENOTDIR);
    cleanup_free char *want = xasprintf("mkdir `%s`", file);
    assert_string_equal(err.msg, want);
    berth_err_clear(&err);

    assert_int_equal(berth_fs_mkdir_p(file, 0755, &err), -1);
    assert_int_equal(err.code, ENOTDIR);
    berth_err_clear(&err);
}

static void
test_berth_fs_mkdir_p_empty(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;

    assert_int_equal(berth_fs_mkdir_p("", 0755, &err), -1);
    assert_int_equal(err.code, EINVAL);
    berth_err_clear(&err);
}

/* ---- read_file ---------------------------------------------------------------------------- */

static void
test_berth_fs_read_file_content(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *p = path_in(f, "outside/secret");
    cleanup_free char *buf = NULL;
    size_t len = 0;

    assert_int_equal(berth_fs_read_file(p, &buf, &len, &err), 0);
    assert_string_equal(buf, "outside");
    assert_int_equal(len, 7);
}

static void
test_berth_fs_read_file_empty_and_large(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *p = path_in(f, "big");
    const size_t size = 300000;
    cleanup_free char *data = xmalloc(size);

    for (size_t i = 0; i < size; i++)
        data[i] = (char)('a' + i % 26);
    data[1000] = '\0'; /* embedded NUL: len, not strlen, tells the size */
    assert_int_equal(berth_fs_write_atomic(p, data, size, 0644, &err), 0);
    cleanup_free char *buf = NULL;
    size_t len = 0;
    assert_int_equal(berth_fs_read_file(p, &buf, &len, &err), 0);
    assert_int_equal(len, size);
    assert_memory_equal(buf, data, size);
    assert_int_equal(buf[size], '\0');

    assert_int_equal(berth_fs_write_atomic(p, "", 0, 0644, &err), 0);
    cleanup_free char *empty = NULL;
    assert_int_equal(berth_fs_read_file(p, &empty, &len, &err), 0);
    assert_int_equal(len, 0);
    assert_string_equal(empty, "");
}

static void
test_berth_fs_read_file_proc(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *buf = NULL;
    size_t len = 0;

    /* /proc files report st_size 0. */
    assert_int_equal(berth_fs_read_file("/proc/self/status", &buf, &len, &err), 0);
    assert_true(len > 0);
    assert_non_null(strstr(buf, "Pid:"));
}

static void
test_berth_fs_read_file_errors(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *missing = path_in(f, "missing");
    char *buf = NULL;

    assert_int_equal(berth_fs_read_file(missing, &buf, NULL, &err), -1);
    assert_int_equal(err.code, ENOENT);
    cleanup_free char *want = xasprintf("open `%s`", missing);
    assert_string_equal(err.msg, want);
    berth_err_clear(&err);

    assert_int_equal(berth_fs_read_file(f->dir, &buf, NULL, &err), -1);
    assert_int_equal(err.code, EISDIR);
    berth_err_clear(&err);
    assert_null(buf);
}

/* ---- write_atomic ------------------------------------------------------------------------- */

static void
test_berth_fs_write_atomic_content_and_mode(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *p = path_in(f, "outside/state.json");
    cleanup_free char *dir = path_in(f, "outside");
    struct stat st;
    mode_t old = umask(077);

    assert_int_equal(berth_fs_write_atomic(p, "one", 3, 0644, &err), 0);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644); /* exact mode, whatever the umask */
    assert_int_equal(berth_fs_write_atomic(p, "second", 6, 0600, &err), 0);
    umask(old);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);

    cleanup_free char *buf = get_file(f, "outside/state.json");
    assert_string_equal(buf, "second");
    cleanup_free char *names = list_dir(dir);
    assert_string_equal(names, "secret,state.json"); /* no temporary file left */
}

static void
test_berth_fs_write_atomic_missing_dir(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *p = path_in(f, "nodir/file");
    cleanup_free char *before = list_dir(f->dir);

    assert_int_equal(berth_fs_write_atomic(p, "x", 1, 0644, &err), -1);
    assert_int_equal(err.code, ENOENT);
    assert_non_null(strstr(err.msg, p));
    berth_err_clear(&err);
    cleanup_free char *after = list_dir(f->dir);
    assert_string_equal(before, after);
}

static void
test_berth_fs_write_atomic_failure_leaves_nothing(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *p = path_in(f, "outside/adir");

    /* Renaming a file over a non-empty directory fails after the temp file is written. */
    put_dir(f, "outside/adir");
    put_file(f, "outside/adir/x", "");
    cleanup_free char *dir = path_in(f, "outside");
    cleanup_free char *before = list_dir(dir);
    assert_int_equal(berth_fs_write_atomic(p, "data", 4, 0644, &err), -1);
    assert_int_equal(err.code, EISDIR);
    cleanup_free char *want = xasprintf("rename `%s`", p);
    assert_string_equal(err.msg, want);
    berth_err_clear(&err);
    cleanup_free char *after = list_dir(dir);
    assert_string_equal(before, after);
}

/* ---- rm_rf ------------------------------------------------------------------------------- */

static void
test_berth_fs_rm_rf_nested(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *p = path_in(f, "t");

    put_dir(f, "t");
    put_dir(f, "t/a");
    put_dir(f, "t/a/b");
    put_dir(f, "t/a/b/c");
    put_dir(f, "t/empty");
    put_file(f, "t/f", "1");
    put_file(f, "t/a/b/c/g", "2");
    put_link(f, "t/a/dangling", "/nonexistent");
    cleanup_free char *fifo = path_in(f, "t/a/fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);

    assert_int_equal(berth_fs_rm_rf(p, &err), 0);
    assert_false(berth_fs_exists(p));
    assert_true(exists_in(f, "outside/secret"));
}

static void
test_berth_fs_rm_rf_symlink_not_followed(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *outside = path_in(f, "outside");
    cleanup_free char *p = path_in(f, "t");
    cleanup_free char *top = path_in(f, "toplink");

    put_dir(f, "t");
    put_link(f, "t/out", outside);
    put_link(f, "t/secret", "../outside/secret");
    assert_int_equal(berth_fs_rm_rf(p, &err), 0);
    assert_false(berth_fs_exists(p));

    /* The path itself a symlink to a directory: the link goes, the directory stays. */
    put_link(f, "toplink", outside);
    assert_int_equal(berth_fs_rm_rf(top, &err), 0);
    assert_false(berth_fs_exists(top));

    cleanup_free char *buf = get_file(f, "outside/secret");
    assert_string_equal(buf, "outside");
}

static void
test_berth_fs_rm_rf_missing_and_file(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *missing = path_in(f, "missing/deeper");
    cleanup_free char *file = path_in(f, "outside/secret");

    assert_int_equal(berth_fs_rm_rf(missing, &err), 0);
    assert_int_equal(berth_fs_rm_rf(file, &err), 0);
    assert_false(berth_fs_exists(file));
}

static void
test_berth_fs_rm_rf_refuses_mount_point(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *p = path_in(f, "t");
    cleanup_free char *mnt = path_in(f, "t/mnt");
    cleanup_free char *src = path_in(f, "outside");

    put_dir(f, "t");
    put_dir(f, "t/mnt");
    if (mount(src, mnt, NULL, MS_BIND, NULL) < 0)
        skip(); /* not privileged: nothing to protect against here either */

    int r = berth_fs_rm_rf(p, &err);
    int code = err.code;
    berth_err_clear(&err);
    assert_int_equal(umount2(mnt, MNT_DETACH), 0);
    assert_int_equal(r, -1);
    assert_int_equal(code, EBUSY);
    assert_true(exists_in(f, "outside/secret")); /* the bind mount was not emptied */
}

/* ---- open_in_root, both implementations ------------------------------------------------- */

typedef int (*open_fn)(int rootfd, const char *rel, int flags, mode_t mode, struct berth_err *err);

static const struct {
    const char *name;
    open_fn fn;
} openers[] = {
    {"openat2", berth_fs_open_in_root},
    {"walk", berth_fs_open_in_root_walk},
};

/* Open rel in root read-only and return the file's content; NULL and *code on failure. */
static char *
read_in_root(struct fixture *f, open_fn fn, const char *rel, int flags, int *code)
{
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_close int fd = fn(f->rootfd, rel, flags, 0, &err);
    char buf[256];

    if (fd < 0) {
        *code = err.code;
        berth_err_clear(&err);
        return NULL;
    }
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    assert_true(n >= 0);
    buf[n] = '\0';
    return xstrdup(buf);
}

static void
assert_reads(struct fixture *f, const char *rel, const char *want)
{
    for (size_t i = 0; i < ARRAY_SIZE(openers); i++) {
        int code = 0;
        cleanup_free char *got = read_in_root(f, openers[i].fn, rel, O_RDONLY, &code);
        if (got == NULL)
            fail_msg("%s: open `%s`: %s", openers[i].name, rel, strerror(code));
        if (strcmp(got, want) != 0)
            fail_msg("%s: `%s` read `%s`, want `%s`", openers[i].name, rel, got, want);
    }
}

static void
assert_open_fails(struct fixture *f, const char *rel, int flags, int want)
{
    for (size_t i = 0; i < ARRAY_SIZE(openers); i++) {
        int code = 0;
        cleanup_free char *got = read_in_root(f, openers[i].fn, rel, flags, &code);
        if (got != NULL)
            fail_msg("%s: open `%s` read `%s`, want %s", openers[i].name, rel, got, strerror(want));
        if (code != want)
            fail_msg("%s: open `%s`: %s, want %s", openers[i].name, rel, strerror(code),
                     strerror(want));
    }
}

static void
test_berth_fs_open_in_root_plain(void **state)
{
    struct fixture *f = *state;

    assert_reads(f, "outside/secret", "inside");
    assert_reads(f, "./outside//./secret", "inside");
}

static void
test_berth_fs_open_in_root_dotdot(void **state)
{
    struct fixture *f = *state;

    assert_reads(f, "../outside/secret", "inside");
    assert_reads(f, "../../../../outside/secret", "inside");
    assert_reads(f, "outside/../../outside/secret", "inside");
}

static void
test_berth_fs_open_in_root_absolute_rel(void **state)
{
    struct fixture *f = *state;

    assert_reads(f, "/outside/secret", "inside");
    assert_reads(f, "//outside/secret", "inside");
}

static void
test_berth_fs_open_in_root_absolute_symlink(void **state)
{
    struct fixture *f = *state;
    cleanup_free char *host_outside = path_in(f, "outside");

    put_link(f, "root/abs", "/outside");
    put_link(f, "root/abs_file", "/outside/secret");
    put_link(f, "root/host", host_outside); /* the host path of the real outside dir */
    assert_reads(f, "abs/secret", "inside");
    assert_reads(f, "abs_file", "inside");
    assert_open_fails(f, "host/secret", O_RDONLY, ENOENT);
}

static void
test_berth_fs_open_in_root_relative_symlink_escaping(void **state)
{
    struct fixture *f = *state;

    put_dir(f, "root/a");
    put_dir(f, "root/a/b");
    put_link(f, "root/a/b/up", "../../../../outside");
    put_link(f, "root/a/b/upfile", "../../../outside/secret");
    assert_reads(f, "a/b/up/secret", "inside");
    assert_reads(f, "a/b/upfile", "inside");
}

static void
test_berth_fs_open_in_root_dotdot_after_symlink(void **state)
{
    struct fixture *f = *state;

    /* "s/.." is the parent of the symlink's target, as the kernel resolves it. */
    put_dir(f, "root/a");
    put_dir(f, "root/a/b");
    put_file(f, "root/a/x", "a-x");
    put_file(f, "root/x", "root-x");
    put_link(f, "root/s", "a/b");
    assert_reads(f, "s/../x", "a-x");
}

static void
test_berth_fs_open_in_root_symlink_loop(void **state)
{
    struct fixture *f = *state;

    put_link(f, "root/loop1", "loop2");
    put_link(f, "root/loop2", "/loop1");
    put_link(f, "root/self", "self");
    assert_open_fails(f, "loop1", O_RDONLY, ELOOP);
    assert_open_fails(f, "loop1/x", O_RDONLY, ELOOP);
    assert_open_fails(f, "self", O_RDONLY, ELOOP);
}

static void
test_berth_fs_open_in_root_symlink_hops(void **state)
{
    struct fixture *f = *state;

    /* l0 -> l1 -> ... -> l40 -> /outside/secret: opening l<k> follows 41 - k links. */
    for (int i = 0; i <= 40; i++) {
        cleanup_free char *name = xasprintf("root/l%d", i);
        cleanup_free char *target = i == 40 ? xstrdup("/outside/secret") : xasprintf("l%d", i + 1);
        put_link(f, name, target);
    }
    assert_reads(f, "l1", "inside"); /* 40 links: the limit */
    assert_open_fails(f, "l0", O_RDONLY, ELOOP);
}

static void
test_berth_fs_open_in_root_nofollow(void **state)
{
    struct fixture *f = *state;

    put_link(f, "root/link", "outside/secret");
    assert_open_fails(f, "link", O_RDONLY | O_NOFOLLOW, ELOOP);
    for (size_t i = 0; i < ARRAY_SIZE(openers); i++) {
        struct berth_err err = BERTH_ERR_INIT;
        struct stat st;
        cleanup_close int fd = openers[i].fn(f->rootfd, "link", O_PATH | O_NOFOLLOW, 0, &err);
        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &st), 0);
        assert_true(S_ISLNK(st.st_mode));
    }
}

static void
test_berth_fs_open_in_root_errors(void **state)
{
    struct fixture *f = *state;

    assert_open_fails(f, "missing", O_RDONLY, ENOENT);
    assert_open_fails(f, "missing/x", O_RDONLY, ENOENT);
    assert_open_fails(f, "outside/secret/x", O_RDONLY, ENOTDIR);
    assert_open_fails(f, "outside", O_WRONLY, EISDIR);
}

static void
test_berth_fs_open_in_root_error_message(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;

    for (size_t i = 0; i < ARRAY_SIZE(openers); i++) {
        assert_int_equal(openers[i].fn(f->rootfd, "no/such", O_RDONLY, 0, &err), -1);
        assert_string_equal(err.msg, "open `no/such` in root");
        assert_int_equal(err.code, ENOENT);
        berth_err_clear(&err);
    }
}

static void
test_berth_fs_open_in_root_root_itself(void **state)
{
    struct fixture *f = *state;
    struct stat a, b;

    assert_int_equal(fstat(f->rootfd, &a), 0);
    for (size_t i = 0; i < ARRAY_SIZE(openers); i++) {
        const char *rels[] = {"", "/", "..", "outside/..", "/../.."};
        for (size_t j = 0; j < ARRAY_SIZE(rels); j++) {
            struct berth_err err = BERTH_ERR_INIT;
            cleanup_close int fd =
                openers[i].fn(f->rootfd, rels[j], O_RDONLY | O_DIRECTORY, 0, &err);
            if (fd < 0)
                fail_msg("%s: `%s`: %s", openers[i].name, rels[j], err.msg);
            assert_int_equal(fstat(fd, &b), 0);
            assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
            assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        }
    }
}

static void
test_berth_fs_open_in_root_create(void **state)
{
    struct fixture *f = *state;

    put_link(f, "root/dangling", "/outside/created");
    for (size_t i = 0; i < ARRAY_SIZE(openers); i++) {
        struct berth_err err = BERTH_ERR_INIT;
        cleanup_free char *name = xasprintf("/outside/new-%s", openers[i].name);
        int fd = openers[i].fn(f->rootfd, name, O_WRONLY | O_CREAT | O_EXCL, 0600, &err);
        assert_true(fd >= 0);
        close(fd);
        cleanup_free char *rel = xasprintf("root%s", name);
        assert_true(exists_in(f, rel));

        /* O_CREAT through a dangling absolute symlink creates its target inside the root. */
        fd = openers[i].fn(f->rootfd, "dangling", O_WRONLY | O_CREAT, 0600, &err);
        assert_true(fd >= 0);
        close(fd);
        assert_true(exists_in(f, "root/outside/created"));
        assert_false(exists_in(f, "outside/created"));
        cleanup_free char *p = path_in(f, "root/outside/created");
        unlink(p);

        /* O_EXCL does not follow: the symlink itself exists. */
        assert_int_equal(
            openers[i].fn(f->rootfd, "dangling", O_WRONLY | O_CREAT | O_EXCL, 0600, &err), -1);
        assert_int_equal(err.code, EEXIST);
        berth_err_clear(&err);
    }
}

static void
test_berth_fs_open_in_root_no_magic_links(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_close int proc = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);

    /* /proc/self/exe is a magic link: it must not jump to the executable. */
    assert_true(proc >= 0);
    for (size_t i = 0; i < ARRAY_SIZE(openers); i++) {
        assert_int_equal(openers[i].fn(proc, "exe", O_RDONLY, 0, &err), -1);
        berth_err_clear(&err);
    }
}

/* Make openat2 fail with ENOSYS in this process, as on kernels before 5.6. */
static int
deny_openat2(void)
{
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = ARRAY_SIZE(filter), .filter = filter};

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* The public functions on a kernel without openat2: run in a child under a seccomp filter,
 * which reports the first failed check as its exit status (cmocka cannot assert in a child). */
static int
check_without_openat2(struct fixture *f)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct open_how how = {.flags = O_RDONLY};
    char buf[16] = "";

    if (deny_openat2() < 0)
        return 10;
    if (syscall(SYS_openat2, f->rootfd, ".", &how, sizeof(how)) >= 0 || errno != ENOSYS)
        return 11;

    int fd = berth_fs_open_in_root(f->rootfd, "abs/../../abs/secret", O_RDONLY, 0, &err);
    if (fd < 0 || read(fd, buf, sizeof(buf) - 1) != 6 || strcmp(buf, "inside") != 0)
        return 12;
    close(fd);
    if (berth_fs_open_in_root(f->rootfd, "loop", O_RDONLY, 0, &err) != -1 || err.code != ELOOP)
        return 13;
    berth_err_clear(&err);

    fd = berth_fs_mkdir_in_root(f->rootfd, "abs/made/here", false, &err);
    if (fd < 0)
        return 14;
    close(fd);
    fd = berth_fs_mkdir_in_root(f->rootfd, "abs/made/file", true, &err);
    if (fd < 0)
        return 15;
    close(fd);

    cleanup_free char *real = realpath(f->root, NULL);
    cleanup_free char *want = xasprintf("%s/outside/made/here", real);
    cleanup_free char *got = berth_fs_join_in_root(f->root, "/abs/made/here", &err);
    if (got == NULL || strcmp(got, want) != 0)
        return 16;
    return 0;
}

static void
test_berth_fs_open_in_root_without_openat2(void **state)
{
    struct fixture *f = *state;
    int status = 0;

    put_link(f, "root/abs", "/outside");
    put_link(f, "root/loop", "loop");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(check_without_openat2(f));
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 10)
        skip(); /* no seccomp here */
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(exists_in(f, "root/outside/made/here"));
    assert_true(exists_in(f, "root/outside/made/file"));
    assert_false(exists_in(f, "outside/made"));
}

/* ---- mkdir_in_root ----------------------------------------------------------------------- */

static void
assert_is_path_dir(int fd)
{
    struct stat st;

    assert_true(fd >= 0);
    assert_true(fcntl(fd, F_GETFL) & O_PATH);
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
}

static void
test_berth_fs_mkdir_in_root_nested(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_close int fd = berth_fs_mkdir_in_root(f->rootfd, "/x/y//z/", false, &err);

    assert_is_path_dir(fd);
    assert_true(exists_in(f, "root/x/y/z"));
    cleanup_close int again = berth_fs_mkdir_in_root(f->rootfd, "x/y/z", false, &err);
    assert_is_path_dir(again);
    cleanup_close int root = berth_fs_mkdir_in_root(f->rootfd, "", false, &err);
    assert_is_path_dir(root);
}

static void
test_berth_fs_mkdir_in_root_symlinked_parent(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *host_outside = path_in(f, "outside");
    cleanup_free char *in_root_host = xasprintf("root%s", host_outside);

    put_link(f, "root/abs", "/outside");
    put_link(f, "root/rel", "../../outside");
    put_link(f, "root/host", host_outside);
    cleanup_free char *mirror = path_in(f, in_root_host);
    assert_int_equal(berth_fs_mkdir_p(mirror, 0755, &err), 0);
    {
        cleanup_close int fd = berth_fs_mkdir_in_root(f->rootfd, "abs/n1/m", false, &err);
        assert_is_path_dir(fd);
    }
    {
        cleanup_close int fd = berth_fs_mkdir_in_root(f->rootfd, "rel/n2", false, &err);
        assert_is_path_dir(fd);
    }
    {
        cleanup_close int fd = berth_fs_mkdir_in_root(f->rootfd, "host/n3", false, &err);
        assert_is_path_dir(fd);
    }
    {
        cleanup_close int fd = berth_fs_mkdir_in_root(f->rootfd, "../../../n4", false, &err);
        assert_is_path_dir(fd);
    }
    assert_true(exists_in(f, "root/outside/n1/m"));
    assert_true(exists_in(f, "root/outside/n2"));
    cleanup_free char *n3 = xasprintf("%s/n3", in_root_host);
    assert_true(exists_in(f, n3));
    assert_true(exists_in(f, "root/n4"));
    cleanup_free char *names = path_in(f, "outside");
    cleanup_free char *list = list_dir(names);
    assert_string_equal(list, "secret"); /* nothing created outside */
}

static void
test_berth_fs_mkdir_in_root_file(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    struct stat st;

    {
        mode_t old = umask(0);
        cleanup_close int fd = berth_fs_mkdir_in_root(f->rootfd, "etc/resolv.conf", true, &err);
        umask(old);
        assert_true(fd >= 0);
        assert_true(fcntl(fd, F_GETFL) & O_PATH);
        assert_int_equal(fstat(fd, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_size, 0);
        assert_int_equal(st.st_mode & 0777, 0644);
        cleanup_free char *etc = path_in(f, "root/etc");
        assert_int_equal(stat(etc, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0755);
    }
    {
        /* An existing file is reused, content intact. */
        cleanup_close int fd = berth_fs_mkdir_in_root(f->rootfd, "/outside/secret", true, &err);
        assert_true(fd >= 0);
        cleanup_free char *buf = get_file(f, "root/outside/secret");
        assert_string_equal(buf, "inside");
    }
    /* A directory where the file should be. */
    assert_int_equal(berth_fs_mkdir_in_root(f->rootfd, "outside", true, &err), -1);
    assert_int_equal(err.code, EISDIR);
    berth_err_clear(&err);
}

static void
test_berth_fs_mkdir_in_root_file_in_the_way(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;

    assert_int_equal(berth_fs_mkdir_in_root(f->rootfd, "outside/secret/sub", false, &err), -1);
    assert_int_equal(err.code, ENOTDIR);
    assert_string_equal(err.msg, "mkdir `/outside/secret` in root"); /* the one in the way */
    berth_err_clear(&err);
    assert_int_equal(berth_fs_mkdir_in_root(f->rootfd, "outside/secret", false, &err), -1);
    assert_int_equal(err.code, ENOTDIR);
    berth_err_clear(&err);
}

static void
test_berth_fs_mkdir_in_root_dangling_symlink(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;

    /* As a bind destination would: the link's target is made, inside the root. */
    put_link(f, "root/dangling", "/nowhere");
    int fd = berth_fs_mkdir_in_root(f->rootfd, "dangling/x", false, &err);
    assert_true(fd >= 0);
    close(fd);
    cleanup_free char *made = xasprintf("%s/root/nowhere/x", f->dir);
    struct stat st;
    assert_int_equal(stat(made, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    /* A relative one climbing out lands inside too. */
    put_link(f, "root/climb", "../../../../tmp-escape");
    fd = berth_fs_mkdir_in_root(f->rootfd, "climb", false, &err);
    assert_true(fd >= 0);
    close(fd);
    cleanup_free char *inside = xasprintf("%s/root/tmp-escape", f->dir);
    assert_int_equal(stat(inside, &st), 0);
    assert_int_not_equal(stat("/tmp-escape", &st), 0);
}

/* ---- join_in_root ------------------------------------------------------------------------ */

static void
test_berth_fs_join_in_root_resolves(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    char real[PATH_MAX];

    put_link(f, "root/abs", "/outside");
    assert_non_null(realpath(f->root, real));
    cleanup_free char *want = xasprintf("%s/outside/secret", real);
    cleanup_free char *got = berth_fs_join_in_root(f->root, "abs/../../abs/secret", &err);
    assert_non_null(got);
    assert_string_equal(got, want);
    cleanup_free char *top = berth_fs_join_in_root(f->root, "/..", &err);
    assert_string_equal(top, real);
}

static void
test_berth_fs_join_in_root_errors(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *missing_root = path_in(f, "nope");

    assert_null(berth_fs_join_in_root(f->root, "missing", &err));
    assert_int_equal(err.code, ENOENT);
    cleanup_free char *want = xasprintf("resolve `missing` in `%s`", f->root);
    assert_string_equal(err.msg, want);
    berth_err_clear(&err);
    assert_null(berth_fs_join_in_root(missing_root, "x", &err));
    assert_int_equal(err.code, ENOENT);
    berth_err_clear(&err);
}

/* ---- clean, exists ----------------------------------------------------------------------- */

static void
test_berth_fs_clean_table(void **state)
{
    /* Cases from Go's path.Clean tests. */
    const struct {
        const char *in, *want;
    } cases[] = {
        {"", "."},
        {".", "."},
        {"/", "/"},
        {"abc", "abc"},
        {"abc/def", "abc/def"},
        {"a/b/c", "a/b/c"},
        {"..", ".."},
        {"../..", "../.."},
        {"../../abc", "../../abc"},
        {"/abc", "/abc"},
        {"/..", "/"},
        {"/../..", "/"},
        {"/../abc", "/abc"},
        {"abc/", "abc"},
        {"/abc/", "/abc"},
        {"abc//def//ghi", "abc/def/ghi"},
        {"//abc", "/abc"},
        {"///abc", "/abc"},
        {"abc/./def", "abc/def"},
        {"/./abc/def", "/abc/def"},
        {"abc/.", "abc"},
        {"abc/def/ghi/../jkl", "abc/def/jkl"},
        {"abc/def/../ghi/../jkl", "abc/jkl"},
        {"abc/def/..", "abc"},
        {"abc/def/../..", "."},
        {"/abc/def/../..", "/"},
        {"abc/def/../../..", ".."},
        {"/abc/def/../../..", "/"},
        {"abc/def/../../../ghi/jkl/../../../mno", "../../mno"},
        {"abc/./../def", "def"},
        {"abc//./../def", "def"},
        {"abc/../../././../def", "../../def"},
        {"...", "..."},
        {"/.../a", "/.../a"},
        {"..a/b", "..a/b"},
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        cleanup_free char *got = berth_fs_clean(cases[i].in);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("clean(`%s`) = `%s`, want `%s`", cases[i].in, got, cases[i].want);
    }
}

static void
test_berth_fs_exists_lstat(void **state)
{
    struct fixture *f = *state;

    put_link(f, "dangling", "/nonexistent");
    assert_true(exists_in(f, "dangling")); /* lstat: the link exists */
    assert_true(exists_in(f, "outside/secret"));
    assert_false(exists_in(f, "missing"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_berth_fs_mkdir_p_nested),
        T(test_berth_fs_mkdir_p_existing),
        T(test_berth_fs_mkdir_p_file_in_the_way),
        T(test_berth_fs_mkdir_p_empty),
        T(test_berth_fs_read_file_content),
        T(test_berth_fs_read_file_empty_and_large),
        T(test_berth_fs_read_file_proc),
        T(test_berth_fs_read_file_errors),
        T(test_berth_fs_write_atomic_content_and_mode),
        T(test_berth_fs_write_atomic_missing_dir),
        T(test_berth_fs_write_atomic_failure_leaves_nothing),
        T(test_berth_fs_rm_rf_nested),
        T(test_berth_fs_rm_rf_symlink_not_followed),
        T(test_berth_fs_rm_rf_missing_and_file),
        T(test_berth_fs_rm_rf_refuses_mount_point),
        T(test_berth_fs_open_in_root_plain),
        T(test_berth_fs_open_in_root_dotdot),
        T(test_berth_fs_open_in_root_absolute_rel),
        T(test_berth_fs_open_in_root_absolute_symlink),
        T(test_berth_fs_open_in_root_relative_symlink_escaping),
        T(test_berth_fs_open_in_root_dotdot_after_symlink),
        T(test_berth_fs_open_in_root_symlink_loop),
        T(test_berth_fs_open_in_root_symlink_hops),
        T(test_berth_fs_open_in_root_nofollow),
        T(test_berth_fs_open_in_root_errors),
        T(test_berth_fs_open_in_root_error_message),
        T(test_berth_fs_open_in_root_root_itself),
        T(test_berth_fs_open_in_root_create),
        T(test_berth_fs_open_in_root_no_magic_links),
        T(test_berth_fs_open_in_root_without_openat2),
        T(test_berth_fs_mkdir_in_root_nested),
        T(test_berth_fs_mkdir_in_root_symlinked_parent),
        T(test_berth_fs_mkdir_in_root_file),
        T(test_berth_fs_mkdir_in_root_file_in_the_way),
        T(test_berth_fs_mkdir_in_root_dangling_symlink),
        T(test_berth_fs_join_in_root_resolves),
        T(test_berth_fs_join_in_root_errors),
        T(test_berth_fs_clean_table),
        T(test_berth_fs_exists_lstat),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
