/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for supervisor/snapshot with real overlay mounts in a temporary directory: a
 * chain of three layers made through prepare, mount, write, unmount and commit, where a file
 * of layer 1 shows through the chain until layer 2 deletes it (overlay writes the whiteout);
 * views are read-only; removing a parent is refused; usage counts blocks and inodes once;
 * metadata survives a reopen, which also removes what interrupted calls left; a chain long
 * enough that overlay's options pass a page still mounts. Needs root (mount, overlay).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "supervisor/snapshot/mount.h"
#include "supervisor/snapshot/snapshot.h"

typedef Berth__Supervisor__V1__SnapshotInfo Info;
typedef Berth__Supervisor__V1__SnapshotInfo__LabelsEntry Label;

struct fixture {
    char dir[64];
    char *snap_dir;
    char *mnt;
    struct sup_snapshotter *s;
};

static void
expect_ok(int r, struct berth_err *err)
{
    if (r < 0)
        fail_msg("unexpected error: %s", err->msg);
}

/* r must be -1 with code; when substr is not NULL the message must contain it. Clears err. */
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
    struct berth_err err = BERTH_ERR_INIT;

    strcpy(f->dir, "/tmp/berth-test-snapshot-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    f->snap_dir = xasprintf("%s/snapshots", f->dir);
    f->mnt = xasprintf("%s/mnt", f->dir);
    if (mkdir(f->mnt, 0755) < 0)
        return -1;
    expect_ok(sup_snapshotter_open(f->snap_dir, &f->s, &err), &err);
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
    sup_unmount_all(f->mnt, &err);
    berth_err_clear(&err);
    sup_snapshotter_close(f->s);
    int r = berth_fs_rm_rf(f->dir, &err);
    if (r < 0)
        print_message("teardown: %s\n", err.msg);
    berth_err_clear(&err);
    free(f->snap_dir);
    free(f->mnt);
    free(f);
    return r;
}

/* The fixture, or skip the test when not root (mounts need it). */
static struct fixture *
fixture(void **state)
{
    if (*state == NULL)
        skip();
    return *state;
}

/* ---- Mounts and files ------------------------------------------------------------------------ */

static void
write_file(const char *dir, const char *name, const char *content)
{
    cleanup_free char *path = xasprintf("%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    if (fp == NULL)
        fail_msg("create %s: %s", path, strerror(errno));
    fputs(content, fp);
    assert_int_equal(fclose(fp), 0);
}

/* The content of dir/name, or NULL when it does not exist (heap). */
static char *
read_file(const char *dir, const char *name)
{
    cleanup_free char *path = xasprintf("%s/%s", dir, name);
    struct berth_err err = BERTH_ERR_INIT;
    char *out = NULL;

    if (berth_fs_read_file(path, &out, NULL, &err) < 0) {
        if (err.code != ENOENT)
            fail_msg("read %s: %s", path, err.msg);
        berth_err_clear(&err);
        return NULL;
    }
    return out;
}

static void
assert_file(const char *dir, const char *name, const char *content)
{
    cleanup_free char *got = read_file(dir, name);
    if (content == NULL && got != NULL)
        fail_msg("%s/%s exists (`%s`)", dir, name, got);
    if (content != NULL && got == NULL)
        fail_msg("%s/%s is missing", dir, name);
    if (content)
        assert_string_equal(got, content);
}

static void
mount_at(struct fixture *f, struct sup_mount *m, size_t n)
{
    struct berth_err err = BERTH_ERR_INIT;

    expect_ok(sup_mount_all(m, n, f->mnt, &err), &err);
    sup_mounts_free(m, n);
}

static void
unmount(struct fixture *f)
{
    struct berth_err err = BERTH_ERR_INIT;

    expect_ok(sup_unmount_all(f->mnt, &err), &err);
}

static const char *
option(const struct sup_mount *m, const char *prefix)
{
    for (size_t i = 0; i < m->n_options; i++)
        if (strncmp(m->options[i], prefix, strlen(prefix)) == 0)
            return m->options[i] + strlen(prefix);
    return NULL;
}

/* Prepare key on parent, mount it, let fill() write through the mount, unmount, commit. */
static void
make_layer(struct fixture *f, const char *key, const char *parent, const char *name,
           void (*fill)(const char *mnt))
{
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_mount *m = NULL;
    size_t n = 0;

    expect_ok(sup_snapshot_prepare(f->s, key, parent, NULL, 0, &m, &n, &err), &err);
    mount_at(f, m, n);
    fill(f->mnt);
    unmount(f);
    expect_ok(sup_snapshot_commit(f->s, name, key, NULL, 0, &err), &err);
}

static void
fill1(const char *mnt)
{
    write_file(mnt, "a", "one");
    write_file(mnt, "b", "bee");
}

static void
fill2(const char *mnt)
{
    assert_file(mnt, "a", "one"); /* layer 1 shows through */
    cleanup_free char *a = xasprintf("%s/a", mnt);
    assert_int_equal(unlink(a), 0); /* overlay makes a whiteout in this layer */
    write_file(mnt, "c", "sea");
}

static void
fill3(const char *mnt)
{
    assert_file(mnt, "a", NULL);
    assert_file(mnt, "b", "bee");
    write_file(mnt, "d", "dee");
}

static void
make_chain(struct fixture *f)
{
    make_layer(f, "k1", NULL, "layer1", fill1);
    make_layer(f, "k2", "layer1", "layer2", fill2);
    make_layer(f, "k3", "layer2", "layer3", fill3);
}

/* ---- Tests ---------------------------------------------------------------------------------- */

static void
test_snapshot_chain(void **state)
{
    struct fixture *f = fixture(state);
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_mount *m = NULL;
    size_t n = 0;

    make_chain(f);

    /* An active snapshot on top of the chain: lowerdirs nearest first. */
    expect_ok(sup_snapshot_prepare(f->s, "top", "layer3", NULL, 0, &m, &n, &err), &err);
    assert_int_equal(n, 1);
    assert_string_equal(m[0].type, "overlay");
    const char *lower = option(&m[0], "lowerdir=");
    assert_non_null(lower);
    cleanup_free char *l1 = xasprintf("%s/snapshots/1/fs", f->snap_dir);
    cleanup_free char *l3 = xasprintf("%s/snapshots/3/fs", f->snap_dir);
    assert_int_equal(strncmp(lower, l3, strlen(l3)), 0);
    assert_string_equal(strrchr(lower, ':') + 1, l1);
    assert_non_null(option(&m[0], "upperdir="));
    assert_non_null(option(&m[0], "workdir="));
    mount_at(f, m, n);
    assert_file(f->mnt, "a", NULL);
    assert_file(f->mnt, "b", "bee");
    assert_file(f->mnt, "c", "sea");
    assert_file(f->mnt, "d", "dee");
    write_file(f->mnt, "e", "writable");
    unmount(f);

    /* The mounts of an active snapshot are the same as prepare gave. */
    expect_ok(sup_snapshot_mounts(f->s, "top", &m, &n, &err), &err);
    mount_at(f, m, n);
    assert_file(f->mnt, "e", "writable");
    unmount(f);

    /* A committed snapshot has no mounts of its own. */
    expect_err(sup_snapshot_mounts(f->s, "layer2", &m, &n, &err), &err, EINVAL, "committed");
}

static void
test_snapshot_view_read_only(void **state)
{
    struct fixture *f = fixture(state);
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_mount *m = NULL;
    size_t n = 0;

    make_chain(f);

    /* Several layers: an overlay of lowerdirs only. */
    expect_ok(sup_snapshot_view(f->s, "v3", "layer3", NULL, 0, &m, &n, &err), &err);
    assert_string_equal(m[0].type, "overlay");
    assert_null(option(&m[0], "upperdir="));
    mount_at(f, m, n);
    assert_file(f->mnt, "a", NULL);
    assert_file(f->mnt, "d", "dee");
    cleanup_free char *path = xasprintf("%s/new", f->mnt);
    assert_int_equal(open(path, O_WRONLY | O_CREAT, 0644), -1);
    assert_int_equal(errno, EROFS);
    unmount(f);

    /* One layer: a read-only bind of it. */
    expect_ok(sup_snapshot_view(f->s, "v1", "layer1", NULL, 0, &m, &n, &err), &err);
    assert_string_equal(m[0].type, "bind");
    mount_at(f, m, n);
    assert_file(f->mnt, "a", "one");
    assert_int_equal(open(path, O_WRONLY | O_CREAT, 0644), -1);
    assert_int_equal(errno, EROFS);
    unmount(f);

    /* No parent: an empty read-only directory. */
    expect_ok(sup_snapshot_view(f->s, "v0", NULL, NULL, 0, &m, &n, &err), &err);
    mount_at(f, m, n);
    assert_int_equal(open(path, O_WRONLY | O_CREAT, 0644), -1);
    assert_int_equal(errno, EROFS);
    unmount(f);

    /* Views are not writable layers, and cannot be committed. */
    expect_ok(sup_snapshot_mounts(f->s, "v3", &m, &n, &err), &err);
    char *upper = NULL, **lowers = NULL;
    size_t n_lowers = 0;
    expect_err(sup_mounts_layer_dirs(m, n, &upper, &lowers, &n_lowers, &err), &err, EINVAL, NULL);
    sup_mounts_free(m, n);
    expect_err(sup_snapshot_commit(f->s, "x", "v3", NULL, 0, &err), &err, EINVAL, "not active");
}

static void
test_snapshot_errors(void **state)
{
    struct fixture *f = fixture(state);
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_mount *m = NULL;
    size_t n = 0;

    expect_ok(sup_snapshot_prepare(f->s, "a", NULL, NULL, 0, &m, &n, &err), &err);
    assert_string_equal(m[0].type, "bind");
    sup_mounts_free(m, n);
    expect_err(sup_snapshot_prepare(f->s, "a", NULL, NULL, 0, &m, &n, &err), &err, EEXIST,
               "already exists");
    expect_err(sup_snapshot_prepare(f->s, "b", "a", NULL, 0, &m, &n, &err), &err, EINVAL,
               "not a committed");
    expect_err(sup_snapshot_prepare(f->s, "b", "missing", NULL, 0, &m, &n, &err), &err, ENOENT,
               "not found");
    expect_err(sup_snapshot_prepare(f->s, "", NULL, NULL, 0, &m, &n, &err), &err, EINVAL, NULL);
    expect_ok(sup_snapshot_commit(f->s, "c", "a", NULL, 0, &err), &err);
    expect_err(sup_snapshot_commit(f->s, "c2", "c", NULL, 0, &err), &err, EINVAL, "not active");
    expect_err(sup_snapshot_commit(f->s, "c2", "a", NULL, 0, &err), &err, ENOENT, NULL);
    expect_ok(sup_snapshot_prepare(f->s, "a", "c", NULL, 0, &m, &n, &err), &err);
    sup_mounts_free(m, n);
    expect_err(sup_snapshot_commit(f->s, "c", "a", NULL, 0, &err), &err, EEXIST, "already exists");
    /* The failed commit left "a" active. */
    Info *info = NULL;
    expect_ok(sup_snapshot_stat(f->s, "a", &info, &err), &err);
    assert_int_equal(info->kind, BERTH__SUPERVISOR__V1__SNAPSHOT_INFO__KIND__ACTIVE);
    assert_string_equal(info->parent, "c");
    protobuf_c_message_free_unpacked(&info->base, NULL);
    expect_err(sup_snapshot_remove(f->s, "nope", &err), &err, ENOENT, NULL);
}

static void
test_snapshot_remove(void **state)
{
    struct fixture *f = fixture(state);
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_mount *m = NULL;
    size_t n = 0;

    make_chain(f);
    expect_ok(sup_snapshot_view(f->s, "v", "layer1", NULL, 0, &m, &n, &err), &err);
    sup_mounts_free(m, n);
    expect_err(sup_snapshot_remove(f->s, "layer1", &err), &err, EBUSY, "parent of 2");
    expect_err(sup_snapshot_remove(f->s, "layer2", &err), &err, EBUSY, "`layer3`");

    cleanup_free char *dir3 = xasprintf("%s/snapshots/3", f->snap_dir);
    assert_true(berth_fs_exists(dir3));
    expect_ok(sup_snapshot_remove(f->s, "layer3", &err), &err);
    assert_false(berth_fs_exists(dir3));
    expect_ok(sup_snapshot_remove(f->s, "layer2", &err), &err);
    expect_ok(sup_snapshot_remove(f->s, "v", &err), &err);
    expect_ok(sup_snapshot_remove(f->s, "layer1", &err), &err);
    Info *info = NULL;
    expect_err(sup_snapshot_stat(f->s, "layer1", &info, &err), &err, ENOENT, NULL);

    /* ids are never handed out again. */
    expect_ok(sup_snapshot_prepare(f->s, "again", NULL, NULL, 0, &m, &n, &err), &err);
    cleanup_free char *fs5 = xasprintf("%s/snapshots/5/fs", f->snap_dir);
    assert_string_equal(m[0].source, fs5);
    sup_mounts_free(m, n);
}

static void
test_snapshot_usage(void **state)
{
    struct fixture *f = fixture(state);
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_snapshot_usage u, u2;
    struct sup_mount *m = NULL;
    size_t n = 0;
    char *upper = NULL, **lowers = NULL;
    size_t n_lowers = 0;

    expect_ok(sup_snapshot_prepare(f->s, "u", NULL, NULL, 0, &m, &n, &err), &err);
    expect_ok(sup_mounts_layer_dirs(m, n, &upper, &lowers, &n_lowers, &err), &err);
    assert_int_equal(n_lowers, 0);
    sup_mounts_free(m, n);

    expect_ok(sup_snapshot_usage(f->s, "u", &u, &err), &err);
    assert_int_equal(u.inodes, 1); /* the fs directory itself */

    /* 64 KiB of data, hard-linked twice and a directory: 3 inodes, the data counted once. */
    cleanup_free char *data = xmalloc(65536);
    memset(data, 'x', 65536);
    data[65535] = '\0';
    write_file(upper, "big", data);
    cleanup_free char *big = xasprintf("%s/big", upper);
    cleanup_free char *lnk = xasprintf("%s/link", upper);
    cleanup_free char *sub = xasprintf("%s/sub", upper);
    assert_int_equal(link(big, lnk), 0);
    assert_int_equal(mkdir(sub, 0755), 0);
    expect_ok(sup_snapshot_usage(f->s, "u", &u, &err), &err);
    assert_int_equal(u.inodes, 3);
    assert_true(u.size >= 65536);
    assert_true(u.size < 2 * 65536);

    /* Committed: measured once, kept. */
    expect_ok(sup_snapshot_commit(f->s, "done", "u", NULL, 0, &err), &err);
    expect_ok(sup_snapshot_usage(f->s, "done", &u2, &err), &err);
    assert_int_equal(u2.inodes, u.inodes);
    assert_int_equal(u2.size, u.size);
    expect_err(sup_snapshot_usage(f->s, "u", &u2, &err), &err, ENOENT, NULL);
    free(upper);
    free(lowers);
}

static int
collect(const Info *info, void *data, struct berth_err *err)
{
    char *names = data;

    strcat(names, info->name);
    strcat(names, ";");
    return 0;
}

static void
test_snapshot_labels_walk(void **state)
{
    struct fixture *f = fixture(state);
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_mount *m = NULL;
    size_t n = 0;
    Label l[2] = {BERTH__SUPERVISOR__V1__SNAPSHOT_INFO__LABELS_ENTRY__INIT,
                  BERTH__SUPERVISOR__V1__SNAPSHOT_INFO__LABELS_ENTRY__INIT};
    Label *lp[2] = {&l[0], &l[1]};
    Info *info = NULL;

    l[0].key = "a";
    l[0].value = "1";
    l[1].key = "b";
    l[1].value = "2";
    expect_ok(sup_snapshot_prepare(f->s, "ns1/x", NULL, lp, 2, &m, &n, &err), &err);
    sup_mounts_free(m, n);
    expect_ok(sup_snapshot_prepare(f->s, "ns2/y", NULL, NULL, 0, &m, &n, &err), &err);
    sup_mounts_free(m, n);
    expect_ok(sup_snapshot_prepare(f->s, "ns1/w", NULL, NULL, 0, &m, &n, &err), &err);
    sup_mounts_free(m, n);

    char names[256] = "";
    expect_ok(sup_snapshot_walk(f->s, "ns1/", collect, names, &err), &err);
    assert_string_equal(names, "ns1/w;ns1/x;");
    names[0] = '\0';
    expect_ok(sup_snapshot_walk(f->s, NULL, collect, names, &err), &err);
    assert_string_equal(names, "ns1/w;ns1/x;ns2/y;");

    /* labels.KEY sets or removes one; "labels" replaces all. */
    Info in = BERTH__SUPERVISOR__V1__SNAPSHOT_INFO__INIT;
    Label nl = BERTH__SUPERVISOR__V1__SNAPSHOT_INFO__LABELS_ENTRY__INIT;
    Label *nlp[1] = {&nl};
    nl.key = "c";
    nl.value = "3";
    in.name = "ns1/x";
    in.labels = nlp;
    in.n_labels = 1;
    char *mask[] = {"labels.c", "labels.a"};
    expect_ok(sup_snapshot_update(f->s, &in, mask, 2, &info, &err), &err);
    assert_int_equal(info->n_labels, 2);
    assert_string_equal(info->labels[0]->key, "b");
    assert_string_equal(info->labels[1]->key, "c");
    assert_string_equal(info->labels[1]->value, "3");
    protobuf_c_message_free_unpacked(&info->base, NULL);
    expect_ok(sup_snapshot_update(f->s, &in, NULL, 0, &info, &err), &err);
    assert_int_equal(info->n_labels, 1);
    assert_string_equal(info->labels[0]->key, "c");
    protobuf_c_message_free_unpacked(&info->base, NULL);
    char *bad[] = {"parent"};
    expect_err(sup_snapshot_update(f->s, &in, bad, 1, &info, &err), &err, EINVAL, "parent");

    /* Commit with labels replaces them. */
    expect_ok(sup_snapshot_commit(f->s, "ns1/done", "ns1/x", lp, 1, &err), &err);
    expect_ok(sup_snapshot_stat(f->s, "ns1/done", &info, &err), &err);
    assert_int_equal(info->n_labels, 1);
    assert_string_equal(info->labels[0]->key, "a");
    assert_int_equal(info->kind, BERTH__SUPERVISOR__V1__SNAPSHOT_INFO__KIND__COMMITTED);
    assert_true(info->updated_at >= info->created_at);
    protobuf_c_message_free_unpacked(&info->base, NULL);
}

static void
test_snapshot_reopen(void **state)
{
    struct fixture *f = fixture(state);
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_mount *m = NULL;
    size_t n = 0;
    Info *info = NULL;

    make_chain(f);
    expect_ok(sup_snapshot_prepare(f->s, "work", "layer3", NULL, 0, &m, &n, &err), &err);
    sup_mounts_free(m, n);
    assert_int_equal(sup_snapshotter_schema_version(f->s), 1);
    sup_snapshotter_close(f->s);
    f->s = NULL;

    /* What interrupted calls leave: a half-made snapshot, one being removed, an id no row
     * owns. */
    const char *junk[] = {"new-abcdef", "rm-2", "99"};
    for (size_t i = 0; i < ARRAY_SIZE(junk); i++) {
        cleanup_free char *p = xasprintf("%s/snapshots/%s", f->snap_dir, junk[i]);
        assert_int_equal(mkdir(p, 0700), 0);
        write_file(p, "x", "junk");
    }
    expect_ok(sup_snapshotter_open(f->snap_dir, &f->s, &err), &err);
    for (size_t i = 0; i < ARRAY_SIZE(junk); i++) {
        cleanup_free char *p = xasprintf("%s/snapshots/%s", f->snap_dir, junk[i]);
        assert_false(berth_fs_exists(p));
    }

    expect_ok(sup_snapshot_stat(f->s, "layer2", &info, &err), &err);
    assert_string_equal(info->parent, "layer1");
    assert_int_equal(info->kind, BERTH__SUPERVISOR__V1__SNAPSHOT_INFO__KIND__COMMITTED);
    protobuf_c_message_free_unpacked(&info->base, NULL);
    expect_ok(sup_snapshot_mounts(f->s, "work", &m, &n, &err), &err);
    mount_at(f, m, n);
    assert_file(f->mnt, "a", NULL);
    assert_file(f->mnt, "b", "bee");
    assert_file(f->mnt, "d", "dee");
    unmount(f);
}

static void
test_snapshot_long_chain(void **state)
{
    struct fixture *f = fixture(state);
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_mount *m = NULL;
    size_t n = 0;
    char parent[32] = "";

    /* Enough layers that the absolute lowerdir option passes a page. */
    long page = sysconf(_SC_PAGESIZE);
    size_t per_layer = strlen(f->snap_dir) + strlen("/snapshots/100/fs:");
    int layers = (int)(page / (long)per_layer) + 10;
    for (int i = 0; i < layers; i++) {
        char key[32], name[32], file[32];
        char *upper = NULL, **lowers = NULL;
        size_t n_lowers = 0;
        snprintf(key, sizeof(key), "k%d", i);
        snprintf(name, sizeof(name), "l%d", i);
        snprintf(file, sizeof(file), "f%d", i);
        expect_ok(sup_snapshot_prepare(f->s, key, parent, NULL, 0, &m, &n, &err), &err);
        expect_ok(sup_mounts_layer_dirs(m, n, &upper, &lowers, &n_lowers, &err), &err);
        assert_int_equal(n_lowers, (size_t)i);
        write_file(upper, file, name);
        free(upper);
        for (size_t j = 0; j < n_lowers; j++)
            free(lowers[j]);
        free(lowers);
        sup_mounts_free(m, n);
        expect_ok(sup_snapshot_commit(f->s, name, key, NULL, 0, &err), &err);
        strcpy(parent, name);
    }
    expect_ok(sup_snapshot_prepare(f->s, "top", parent, NULL, 0, &m, &n, &err), &err);
    assert_true((long)strlen(option(&m[0], "lowerdir=")) > page);
    mount_at(f, m, n);
    assert_file(f->mnt, "f0", "l0");
    char last[32];
    snprintf(last, sizeof(last), "f%d", layers - 1);
    char last_content[32];
    snprintf(last_content, sizeof(last_content), "l%d", layers - 1);
    assert_file(f->mnt, last, last_content);
    /* The daemon's working directory did not move. */
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_null(strstr(cwd, "/snapshots"));
    unmount(f);
}

static void
test_mount_all_bind_flags(void **state)
{
    struct fixture *f = fixture(state);
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *src = xasprintf("%s/src", f->dir);
    struct sup_mount *m = xzalloc(2 * sizeof(*m));

    assert_int_equal(mkdir(src, 0755), 0);
    write_file(src, "x", "ex");
    /* Two mounts stacked on one target: the second (read-only) hides the first. */
    sup_mount_init(&m[0], "bind", src, (const char *const[]){"rbind", NULL});
    sup_mount_init(&m[1], "bind", src, (const char *const[]){"ro", "nosuid", "bind", NULL});
    expect_ok(sup_mount_all(m, 2, f->mnt, &err), &err);
    assert_file(f->mnt, "x", "ex");
    cleanup_free char *path = xasprintf("%s/y", f->mnt);
    assert_int_equal(open(path, O_WRONLY | O_CREAT, 0644), -1);
    assert_int_equal(errno, EROFS);
    expect_ok(sup_unmount_all(f->mnt, &err), &err);
    assert_file(f->mnt, "x", NULL);
    /* Unmounting what is not mounted is fine. */
    expect_ok(sup_unmount_all(f->mnt, &err), &err);

    /* A failed mount leaves nothing mounted. */
    free(m[1].source);
    m[1].source = xasprintf("%s/missing", f->dir);
    expect_err(sup_mount_all(m, 2, f->mnt, &err), &err, ENOENT, "missing");
    assert_file(f->mnt, "x", NULL);
    sup_mounts_free(m, 2);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_snapshot_chain),  T(test_snapshot_view_read_only), T(test_snapshot_errors),
        T(test_snapshot_remove), T(test_snapshot_usage),          T(test_snapshot_labels_walk),
        T(test_snapshot_reopen), T(test_snapshot_long_chain),     T(test_mount_all_bind_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
