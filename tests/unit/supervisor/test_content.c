/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for supervisor/content on a real temporary root with its SQLite store: writing
 * and committing blobs, what verification refuses (wrong digest, wrong size) and that it
 * leaves nothing behind, resuming an ingest after a writer closed or its process died, the
 * ref lock within one process and across two, already-stored content, labels, listing with
 * filters, reading, deletion, ingest statuses and abort, and the repairs made at open.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/error.h"
#include "common/fs.h"
#include "supervisor/content/content.h"
#include "supervisor/store/store.h"

typedef Berth__Supervisor__V1__Info Info;
typedef Berth__Supervisor__V1__Info__LabelsEntry LabelsEntry;
typedef Berth__Supervisor__V1__IngestStatus IngestStatus;

struct fixture {
    char root[64];
    struct sup_store *st;
    struct sup_content *cs;
};

static void
expect_ok(int r, struct berth_err *err)
{
    if (r < 0)
        fail_msg("unexpected error: %s", err->msg);
}

/* r must be -1 with code and, when msg is not NULL, exactly msg. Clears err. */
static void
expect_err(int r, struct berth_err *err, int code, const char *msg)
{
    assert_int_equal(r, -1);
    assert_non_null(err->msg);
    if (err->code != code)
        fail_msg("code %d, not %d: %s", err->code, code, err->msg);
    if (msg && strcmp(err->msg, msg) != 0)
        fail_msg("message\n got `%s`\nwant `%s`", err->msg, msg);
    berth_err_clear(err);
}

static void
free_msg(void *msg)
{
    protobuf_c_message_free_unpacked(msg, NULL);
}

/* "sha256:<hex>" of s, in a static buffer per call site's copy. */
static char *
digest_of(const char *s)
{
    char hex[BERTH_SHA256_HEX_LEN + 1];

    berth_sha256_buf(s, strlen(s), hex);
    return xasprintf("sha256:%s", hex);
}

static void
open_all(struct fixture *f)
{
    struct berth_err err = BERTH_ERR_INIT;

    expect_ok(sup_store_open(f->root, &f->st, &err), &err);
    expect_ok(sup_content_open(f->root, f->st, &f->cs, &err), &err);
}

static void
close_all(struct fixture *f)
{
    sup_content_close(f->cs);
    sup_store_close(f->st);
    f->cs = NULL;
    f->st = NULL;
}

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof(*f));

    strcpy(f->root, "/tmp/berth-test-content-XXXXXX");
    if (mkdtemp(f->root) == NULL)
        return -1;
    open_all(f);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;

    close_all(f);
    int r = berth_fs_rm_rf(f->root, &err);
    berth_err_clear(&err);
    free(f);
    return r;
}

/* Open ref, write data, commit with the expected digest and size; returns the digest. */
static char *
put(struct fixture *f, const char *ref, const char *data, LabelsEntry **labels, size_t n_labels)
{
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *want = digest_of(data);
    cleanup_content_writer struct sup_content_writer *w = NULL;
    char *got = NULL;

    expect_ok(sup_content_writer_open(f->cs, ref, want, (int64_t)strlen(data), &w, &err), &err);
    expect_ok(sup_content_writer_write(w, data, strlen(data), &err), &err);
    expect_ok(sup_content_writer_commit(w, -1, NULL, labels, n_labels, &got, &err), &err);
    assert_string_equal(got, want);
    return got;
}

static char *
blob_path(struct fixture *f, const char *digest)
{
    return xasprintf("%s/content/blobs/sha256/%s", f->root, digest + strlen("sha256:"));
}

static size_t
count_entries(const char *dir)
{
    cleanup_dir DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    return n;
}

static size_t
count_blobs(struct fixture *f)
{
    cleanup_free char *dir = xasprintf("%s/content/blobs/sha256", f->root);
    return count_entries(dir);
}

static size_t
count_ingests(struct fixture *f)
{
    cleanup_free char *dir = xasprintf("%s/content/ingest", f->root);
    return count_entries(dir);
}

static LabelsEntry *
label(const char *key, const char *value)
{
    LabelsEntry *e = xmalloc(sizeof(*e));

    berth__supervisor__v1__info__labels_entry__init(e);
    e->key = xstrdup(key);
    e->value = xstrdup(value);
    return e;
}

static void
free_labels(LabelsEntry **labels, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free_msg(labels[i]);
}

/* ---- Write and commit --------------------------------------------------------------------- */

static void
test_sup_content_writer_commit_stores_blob(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    const char *data = "hello, content store\n";
    cleanup_free char *want = digest_of(data);
    struct sup_content_writer *w = NULL;
    char *got = NULL;
    Info *info = NULL;
    struct stat sb;

    assert_false(sup_content_exists(f->cs, want));
    expect_ok(sup_content_writer_open(f->cs, "ref-1", want, (int64_t)strlen(data), &w, &err), &err);
    assert_int_equal(sup_content_writer_offset(w), 0);
    /* In pieces, one of them empty. */
    expect_ok(sup_content_writer_write(w, data, 5, &err), &err);
    expect_ok(sup_content_writer_write(w, data + 5, 0, &err), &err);
    expect_ok(sup_content_writer_write(w, data + 5, strlen(data) - 5, &err), &err);
    assert_int_equal(sup_content_writer_offset(w), strlen(data));
    expect_ok(sup_content_writer_commit(w, -1, NULL, NULL, 0, &got, &err), &err);
    assert_string_equal(got, want);
    free(got);
    /* Spent: only close is left. */
    expect_err(sup_content_writer_write(w, "x", 1, &err), &err, EINVAL,
               "ingest `ref-1` is already committed or discarded");
    sup_content_writer_close(w);

    assert_true(sup_content_exists(f->cs, want));
    cleanup_free char *path = blob_path(f, want);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0444);
    assert_int_equal(sb.st_size, strlen(data));
    assert_int_equal(count_ingests(f), 0);

    expect_ok(sup_content_info(f->cs, want, &info, &err), &err);
    assert_string_equal(info->digest, want);
    assert_int_equal(info->size, strlen(data));
    assert_true(info->created_at > 0);
    assert_int_equal(info->created_at, info->updated_at);
    assert_int_equal(info->n_labels, 0);
    free_msg(info);

    cleanup_free char *back = NULL;
    size_t len = 0;
    expect_ok(sup_content_read_all(f->cs, want, 1024, &back, &len, &err), &err);
    assert_int_equal(len, strlen(data));
    assert_string_equal(back, data);
}

/* Without any expectation the content is stored under what it hashes to. */
static void
test_sup_content_writer_commit_unverified(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *want = digest_of("abc");
    struct sup_content_writer *w = NULL;
    cleanup_free char *got = NULL;

    expect_ok(sup_content_writer_open(f->cs, "free", NULL, -1, &w, &err), &err);
    expect_ok(sup_content_writer_write(w, "abc", 3, &err), &err);
    expect_ok(sup_content_writer_commit(w, -1, NULL, NULL, 0, &got, &err), &err);
    sup_content_writer_close(w);
    assert_string_equal(got, want);
    assert_true(sup_content_exists(f->cs, want));
}

static void
test_sup_content_writer_commit_digest_mismatch(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *other = digest_of("something else");
    cleanup_free char *actual = digest_of("payload");
    cleanup_free char *msg =
        xasprintf("digest mismatch for `bad`: expected %s, got %s", other, actual);
    struct sup_content_writer *w = NULL;
    IngestStatus *s = NULL;
    Info **list = NULL;
    size_t n = 0;

    expect_ok(sup_content_writer_open(f->cs, "bad", other, -1, &w, &err), &err);
    expect_ok(sup_content_writer_write(w, "payload", 7, &err), &err);
    expect_err(sup_content_writer_commit(w, -1, NULL, NULL, 0, NULL, &err), &err, EINVAL, msg);
    /* The writer is done and the ingest is gone: nothing is stored anywhere. */
    expect_err(sup_content_writer_commit(w, -1, NULL, NULL, 0, NULL, &err), &err, EINVAL, NULL);
    sup_content_writer_close(w);
    assert_false(sup_content_exists(f->cs, actual));
    assert_false(sup_content_exists(f->cs, other));
    assert_int_equal(count_blobs(f), 0);
    assert_int_equal(count_ingests(f), 0);
    expect_err(sup_content_status(f->cs, "bad", &s, &err), &err, ENOENT, "no ingest for ref `bad`");
    expect_ok(sup_content_list(f->cs, NULL, 0, &list, &n, &err), &err);
    assert_int_equal(n, 0);
    sup_content_info_list_free(list, n);

    /* The expected digest given at commit counts too. */
    expect_ok(sup_content_writer_open(f->cs, "bad2", NULL, -1, &w, &err), &err);
    expect_ok(sup_content_writer_write(w, "payload", 7, &err), &err);
    free(msg);
    msg = xasprintf("digest mismatch for `bad2`: expected %s, got %s", other, actual);
    expect_err(sup_content_writer_commit(w, 7, other, NULL, 0, NULL, &err), &err, EINVAL, msg);
    sup_content_writer_close(w);
    assert_int_equal(count_blobs(f), 0);
    assert_int_equal(count_ingests(f), 0);
}

static void
test_sup_content_writer_commit_wrong_size(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *want = digest_of("0123456789");
    struct sup_content_writer *w = NULL;

    /* Short: refused, kept, and the writer goes on. */
    expect_ok(sup_content_writer_open(f->cs, "short", want, 10, &w, &err), &err);
    expect_ok(sup_content_writer_write(w, "01234", 5, &err), &err);
    expect_err(sup_content_writer_commit(w, -1, NULL, NULL, 0, NULL, &err), &err, EINVAL,
               "size mismatch for `short`: expected 10 bytes, got 5");
    assert_int_equal(count_blobs(f), 0);
    assert_int_equal(count_ingests(f), 1);
    /* Past the expected size: refused before anything is written. */
    expect_err(sup_content_writer_write(w, "56789X", 6, &err), &err, EINVAL,
               "write to ref `short`: 6 bytes at offset 5 go past its expected size of 10 bytes");
    assert_int_equal(sup_content_writer_offset(w), 5);
    expect_ok(sup_content_writer_write(w, "56789", 5, &err), &err);
    expect_ok(sup_content_writer_commit(w, -1, NULL, NULL, 0, NULL, &err), &err);
    sup_content_writer_close(w);
    assert_true(sup_content_exists(f->cs, want));

    /* Long, with the size given only at commit: refused and discarded. */
    expect_ok(sup_content_writer_open(f->cs, "long", NULL, -1, &w, &err), &err);
    expect_ok(sup_content_writer_write(w, "abcdef", 6, &err), &err);
    expect_err(sup_content_writer_commit(w, 4, NULL, NULL, 0, NULL, &err), &err, EINVAL,
               "size mismatch for `long`: expected 4 bytes, got 6");
    sup_content_writer_close(w);
    assert_int_equal(count_blobs(f), 1);
    assert_int_equal(count_ingests(f), 0);
}

static void
test_sup_content_writer_truncate(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *want = digest_of("good bytes");
    cleanup_free char *got = NULL;
    struct sup_content_writer *w = NULL;

    expect_ok(sup_content_writer_open(f->cs, "t", want, -1, &w, &err), &err);
    expect_ok(sup_content_writer_write(w, "good wrong", 10, &err), &err);
    expect_err(sup_content_writer_truncate(w, 11, &err), &err, EINVAL,
               "truncate ref `t` to 11 bytes: it holds 10");
    expect_ok(sup_content_writer_truncate(w, 5, &err), &err);
    assert_int_equal(sup_content_writer_offset(w), 5);
    expect_ok(sup_content_writer_write(w, "bytes", 5, &err), &err);
    expect_ok(sup_content_writer_commit(w, 10, NULL, NULL, 0, &got, &err), &err);
    sup_content_writer_close(w);
    assert_string_equal(got, want);
}

/* ---- Resume ------------------------------------------------------------------------------- */

static void
test_sup_content_writer_resume_after_close(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    const char *data = "first half|second half";
    cleanup_free char *want = digest_of(data);
    struct sup_content_writer *w = NULL;
    IngestStatus *s = NULL;

    expect_ok(sup_content_writer_open(f->cs, "resume", want, (int64_t)strlen(data), &w, &err),
              &err);
    expect_ok(sup_content_writer_write(w, data, 11, &err), &err);
    sup_content_writer_close(w);

    expect_ok(sup_content_status(f->cs, "resume", &s, &err), &err);
    assert_string_equal(s->ref, "resume");
    assert_int_equal(s->offset, 11);
    assert_int_equal(s->total, strlen(data));
    assert_string_equal(s->expected, want);
    assert_true(s->started_at > 0);
    assert_true(s->updated_at >= s->started_at);
    int64_t started = s->started_at;
    free_msg(s);

    /* Reopened without expectations: the stored ones apply, and the bytes are there. */
    expect_ok(sup_content_writer_open(f->cs, "resume", NULL, -1, &w, &err), &err);
    assert_int_equal(sup_content_writer_offset(w), 11);
    /* The hash of what is there goes on to the whole content's digest. */
    struct berth_sha256 *h = sup_content_writer_hash(w);
    char hex[BERTH_SHA256_HEX_LEN + 1];
    berth_sha256_update(h, data + 11, strlen(data) - 11);
    berth_sha256_final(h, hex);
    berth_sha256_free(h);
    assert_string_equal(hex, want + strlen("sha256:"));
    s = sup_content_writer_status(w);
    assert_int_equal(s->started_at, started);
    assert_string_equal(s->expected, want);
    assert_int_equal(s->total, strlen(data));
    free_msg(s);
    expect_ok(sup_content_writer_write(w, data + 11, strlen(data) - 11, &err), &err);
    expect_ok(sup_content_writer_commit(w, -1, NULL, NULL, 0, NULL, &err), &err);
    sup_content_writer_close(w);
    assert_true(sup_content_exists(f->cs, want));
    assert_int_equal(count_ingests(f), 0);
}

/* Resuming with expectations that contradict the ingest's is refused. */
static void
test_sup_content_writer_resume_conflict(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *a = digest_of("a");
    cleanup_free char *b = digest_of("b");
    cleanup_free char *msg =
        xasprintf("ref `r` is an ingest of %s, not %s (abort it to start over)", a, b);
    struct sup_content_writer *w = NULL;

    expect_ok(sup_content_writer_open(f->cs, "r", a, 1, &w, &err), &err);
    sup_content_writer_close(w);
    w = NULL;
    expect_err(sup_content_writer_open(f->cs, "r", b, 1, &w, &err), &err, EINVAL, msg);
    expect_err(sup_content_writer_open(f->cs, "r", a, 2, &w, &err), &err, EINVAL,
               "ref `r` is an ingest of 1 bytes, not 2 (abort it to start over)");
    assert_null(w);
    /* A failed open leaves the ingest unlocked. */
    expect_ok(sup_content_abort(f->cs, "r", &err), &err);
}

/* A writer whose process dies (no close, no commit) leaves its bytes and its lock goes with
 * it; the next writer resumes. A torn tail is caught at commit. */
static void
test_sup_content_writer_resume_after_crash(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    const char *data = "bytes before the crash, bytes after it";
    cleanup_free char *want = digest_of(data);
    struct sup_content_writer *w = NULL;
    int status = 0;

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct berth_err e = BERTH_ERR_INIT;
        struct sup_content_writer *cw = NULL;
        if (sup_content_writer_open(f->cs, "crash", want, (int64_t)strlen(data), &cw, &e) < 0 ||
            sup_content_writer_write(cw, data, 22, &e) < 0)
            _exit(1);
        kill(getpid(), SIGKILL);
        _exit(2);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    expect_ok(sup_content_writer_open(f->cs, "crash", want, (int64_t)strlen(data), &w, &err), &err);
    assert_int_equal(sup_content_writer_offset(w), 22);
    expect_ok(sup_content_writer_write(w, data + 22, strlen(data) - 22, &err), &err);
    expect_ok(sup_content_writer_commit(w, -1, NULL, NULL, 0, NULL, &err), &err);
    sup_content_writer_close(w);
    assert_true(sup_content_exists(f->cs, want));

    /* Garbage in the data file (a torn write) is rehashed like the rest and refused. */
    cleanup_free char *other = digest_of("0123456789");
    expect_ok(sup_content_writer_open(f->cs, "torn", other, 10, &w, &err), &err);
    expect_ok(sup_content_writer_write(w, "0123", 4, &err), &err);
    sup_content_writer_close(w);
    char key[BERTH_SHA256_HEX_LEN + 1];
    berth_sha256_buf("torn", 4, key);
    cleanup_free char *data_path = xasprintf("%s/content/ingest/%s/data", f->root, key);
    int fd = open(data_path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "XX", 2), 2);
    close(fd);
    expect_ok(sup_content_writer_open(f->cs, "torn", NULL, -1, &w, &err), &err);
    assert_int_equal(sup_content_writer_offset(w), 6);
    expect_ok(sup_content_writer_write(w, "6789", 4, &err), &err);
    expect_err(sup_content_writer_commit(w, -1, NULL, NULL, 0, NULL, &err), &err, EINVAL, NULL);
    sup_content_writer_close(w);
    assert_false(sup_content_exists(f->cs, other));
    assert_int_equal(count_ingests(f), 0);
}

/* A folder whose writer died before writing "ref" is started over. */
static void
test_sup_content_writer_half_made_ingest(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_content_writer *w = NULL;
    IngestStatus **list = NULL;
    size_t n = 0;
    char key[BERTH_SHA256_HEX_LEN + 1];

    berth_sha256_buf("half", 4, key);
    cleanup_free char *dir = xasprintf("%s/content/ingest/%s", f->root, key);
    cleanup_free char *data = xasprintf("%s/data", dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    expect_ok(berth_fs_write_atomic(data, "junk", 4, 0600, &err), &err);

    /* Not listed: it is not an ingest yet. */
    expect_ok(sup_content_list_statuses(f->cs, NULL, 0, &list, &n, &err), &err);
    assert_int_equal(n, 0);
    sup_content_status_list_free(list, n);

    expect_ok(sup_content_writer_open(f->cs, "half", NULL, -1, &w, &err), &err);
    assert_int_equal(sup_content_writer_offset(w), 0);
    sup_content_writer_close(w);
    expect_ok(sup_content_list_statuses(f->cs, NULL, 0, &list, &n, &err), &err);
    assert_int_equal(n, 1);
    assert_string_equal(list[0]->ref, "half");
    sup_content_status_list_free(list, n);
}

/* ---- Locks -------------------------------------------------------------------------------- */

static void
test_sup_content_writer_lock_in_process(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_content_writer *w = NULL, *w2 = NULL;

    expect_ok(sup_content_writer_open(f->cs, "busy", NULL, -1, &w, &err), &err);
    expect_err(sup_content_writer_open(f->cs, "busy", NULL, -1, &w2, &err), &err, EBUSY,
               "ref `busy` is locked");
    assert_null(w2);
    expect_err(sup_content_abort(f->cs, "busy", &err), &err, EBUSY, "ref `busy` is locked");
    /* Another ref is not affected; status works while locked. */
    expect_ok(sup_content_writer_open(f->cs, "other", NULL, -1, &w2, &err), &err);
    sup_content_writer_close(w2);
    IngestStatus *s = NULL;
    expect_ok(sup_content_status(f->cs, "busy", &s, &err), &err);
    free_msg(s);

    sup_content_writer_close(w);
    expect_ok(sup_content_writer_open(f->cs, "busy", NULL, -1, &w2, &err), &err);
    sup_content_writer_close(w2);
}

static void
test_sup_content_writer_lock_across_processes(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_content_writer *w = NULL;
    int ready[2], done[2], status = 0;
    char c;

    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(done), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct berth_err e = BERTH_ERR_INIT;
        struct sup_content_writer *cw = NULL;
        close(ready[0]);
        close(done[1]);
        if (sup_content_writer_open(f->cs, "shared", NULL, -1, &cw, &e) < 0)
            _exit(1);
        if (write(ready[1], "x", 1) != 1 || read(done[0], &c, 1) < 0)
            _exit(2);
        sup_content_writer_close(cw);
        _exit(0);
    }
    close(ready[1]);
    close(done[0]);
    assert_int_equal(read(ready[0], &c, 1), 1);
    expect_err(sup_content_writer_open(f->cs, "shared", NULL, -1, &w, &err), &err, EBUSY,
               "ref `shared` is locked");
    expect_err(sup_content_abort(f->cs, "shared", &err), &err, EBUSY, NULL);
    assert_int_equal(write(done[1], "x", 1), 1);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(ready[0]);
    close(done[1]);

    expect_ok(sup_content_writer_open(f->cs, "shared", NULL, -1, &w, &err), &err);
    sup_content_writer_close(w);
}

/* ---- Already stored ----------------------------------------------------------------------- */

static void
test_sup_content_writer_already_exists(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *digest = put(f, "first", "same bytes", NULL, 0);
    cleanup_free char *msg = xasprintf("content `%s` already exists", digest);
    struct sup_content_writer *w = NULL;
    char *got = NULL;

    /* Known at open: nothing is opened. */
    expect_err(sup_content_writer_open(f->cs, "second", digest, -1, &w, &err), &err, EEXIST, msg);
    assert_null(w);
    assert_int_equal(count_ingests(f), 0);

    /* Found at commit (no expectation at open): EEXIST, the digest, and no ingest left. */
    expect_ok(sup_content_writer_open(f->cs, "third", NULL, -1, &w, &err), &err);
    expect_ok(sup_content_writer_write(w, "same bytes", 10, &err), &err);
    expect_err(sup_content_writer_commit(w, -1, NULL, NULL, 0, &got, &err), &err, EEXIST, msg);
    assert_string_equal(got, digest);
    free(got);
    sup_content_writer_close(w);
    assert_int_equal(count_blobs(f), 1);
    assert_int_equal(count_ingests(f), 0);
}

/* ---- Labels ------------------------------------------------------------------------------- */

static void
test_sup_content_labels_round_trip(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    LabelsEntry *labels[] = {label("b", "2"), label("a", "1"), label("empty", "")};
    cleanup_free char *digest = put(f, "labelled", "with labels", labels, ARRAY_SIZE(labels));
    Info *info = NULL;

    expect_ok(sup_content_info(f->cs, digest, &info, &err), &err);
    assert_int_equal(info->n_labels, 2); /* an empty value is no label */
    assert_string_equal(info->labels[0]->key, "a");
    assert_string_equal(info->labels[0]->value, "1");
    assert_string_equal(info->labels[1]->key, "b");
    int64_t created = info->created_at;
    free_msg(info);

    /* labels.KEY: set one, remove one (absent from the Info), leave the rest. */
    Info upd = BERTH__SUPERVISOR__V1__INFO__INIT;
    LabelsEntry *c = label("c", "3");
    upd.digest = digest;
    upd.labels = &c;
    upd.n_labels = 1;
    char *mask[] = {"labels.c", "labels.b"};
    expect_ok(sup_content_update(f->cs, &upd, mask, 2, &info, &err), &err);
    assert_int_equal(info->n_labels, 2);
    assert_string_equal(info->labels[0]->key, "a");
    assert_string_equal(info->labels[1]->key, "c");
    assert_string_equal(info->labels[1]->value, "3");
    assert_int_equal(info->created_at, created);
    assert_true(info->updated_at >= created);
    free_msg(info);

    /* No mask: replace them all. */
    expect_ok(sup_content_update(f->cs, &upd, NULL, 0, NULL, &err), &err);
    expect_ok(sup_content_info(f->cs, digest, &info, &err), &err);
    assert_int_equal(info->n_labels, 1);
    assert_string_equal(info->labels[0]->key, "c");
    free_msg(info);

    /* Only labels can change. */
    char *bad_mask[] = {"size"};
    cleanup_free char *msg =
        xasprintf("update content `%s`: cannot update `size` (only labels and labels.KEY)", digest);
    expect_err(sup_content_update(f->cs, &upd, bad_mask, 1, NULL, &err), &err, EINVAL, msg);

    /* A missing blob. */
    cleanup_free char *missing = digest_of("missing");
    upd.digest = missing;
    free(msg);
    msg = xasprintf("content `%s` not found", missing);
    expect_err(sup_content_update(f->cs, &upd, NULL, 0, NULL, &err), &err, ENOENT, msg);
    free_msg(c);
    free_labels(labels, ARRAY_SIZE(labels));
}

/* A bad label is refused before anything is stored, and the writer can commit after. */
static void
test_sup_content_writer_commit_bad_label(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *digest = digest_of("x");
    LabelsEntry *bad = label("", "v");
    struct sup_content_writer *w = NULL;

    expect_ok(sup_content_writer_open(f->cs, "lbl", digest, 1, &w, &err), &err);
    expect_ok(sup_content_writer_write(w, "x", 1, &err), &err);
    expect_err(sup_content_writer_commit(w, -1, NULL, &bad, 1, NULL, &err), &err, EINVAL,
               "commit ref `lbl`: label key is empty");
    assert_int_equal(count_blobs(f), 0);
    expect_ok(sup_content_writer_commit(w, -1, NULL, NULL, 0, NULL, &err), &err);
    sup_content_writer_close(w);
    assert_true(sup_content_exists(f->cs, digest));
    free_msg(bad);
}

/* ---- List, read, delete ------------------------------------------------------------------- */

static void
test_sup_content_list_and_filters(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    LabelsEntry *l1[] = {label("kind", "layer")};
    LabelsEntry *l2[] = {label("kind", "config")};
    cleanup_free char *d1 = put(f, "one", "one", l1, 1);
    cleanup_free char *d2 = put(f, "two", "two!", l2, 1);
    cleanup_free char *d3 = put(f, "three", "three", NULL, 0);
    Info **list = NULL;
    size_t n = 0;

    expect_ok(sup_content_list(f->cs, NULL, 0, &list, &n, &err), &err);
    assert_int_equal(n, 3);
    for (size_t i = 1; i < n; i++)
        assert_true(strcmp(list[i - 1]->digest, list[i]->digest) < 0);
    sup_content_info_list_free(list, n);

    const char *by_label[] = {"labels.kind==config"};
    expect_ok(sup_content_list(f->cs, by_label, 1, &list, &n, &err), &err);
    assert_int_equal(n, 1);
    assert_string_equal(list[0]->digest, d2);
    assert_int_equal(list[0]->size, 4);
    sup_content_info_list_free(list, n);

    const char *either[] = {"size==5", "labels.kind==layer"};
    expect_ok(sup_content_list(f->cs, either, 2, &list, &n, &err), &err);
    assert_int_equal(n, 2);
    sup_content_info_list_free(list, n);

    const char *bad[] = {"size="};
    expect_err(sup_content_list(f->cs, bad, 1, &list, &n, &err), &err, EINVAL, NULL);
    free_labels(l1, 1);
    free_labels(l2, 1);
}

static void
test_sup_content_read(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *digest = put(f, "r", "0123456789", NULL, 0);
    int64_t size = 0;
    char buf[16];

    cleanup_close int fd = sup_content_open_blob(f->cs, digest, &size, &err);
    expect_ok(fd, &err);
    assert_int_equal(size, 10);
    assert_int_equal(sup_content_read_at(fd, buf, 4, 3, &err), 4);
    assert_memory_equal(buf, "3456", 4);
    assert_int_equal(sup_content_read_at(fd, buf, sizeof(buf), 8, &err), 2);
    assert_int_equal(sup_content_read_at(fd, buf, sizeof(buf), 10, &err), 0);

    char *out = NULL;
    cleanup_free char *msg = xasprintf("content `%s` is 10 bytes, more than 9", digest);
    expect_err(sup_content_read_all(f->cs, digest, 9, &out, NULL, &err), &err, EFBIG, msg);
    assert_null(out);

    cleanup_free char *path = sup_content_blob_path(f->cs, digest, &err);
    cleanup_free char *want = blob_path(f, digest);
    assert_string_equal(path, want);

    cleanup_free char *missing = digest_of("nope");
    free(msg);
    msg = xasprintf("content `%s` not found", missing);
    expect_err(sup_content_open_blob(f->cs, missing, NULL, &err), &err, ENOENT, msg);
    assert_null(sup_content_blob_path(f->cs, missing, &err));
    expect_err(-1, &err, ENOENT, msg);
}

static void
test_sup_content_delete(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    LabelsEntry *l[] = {label("k", "v")};
    cleanup_free char *digest = put(f, "d", "to delete", l, 1);
    cleanup_free char *msg = xasprintf("content `%s` not found", digest);
    Info *info = NULL;

    /* A reader that has it open keeps reading. */
    cleanup_close int fd = sup_content_open_blob(f->cs, digest, NULL, &err);
    expect_ok(fd, &err);
    expect_ok(sup_content_delete(f->cs, digest, &err), &err);
    char buf[9];
    assert_int_equal(sup_content_read_at(fd, buf, 9, 0, &err), 9);

    assert_false(sup_content_exists(f->cs, digest));
    expect_err(sup_content_info(f->cs, digest, &info, &err), &err, ENOENT, msg);
    expect_err(sup_store_content_get(f->st, digest, &info, &err), &err, ENOENT, msg);
    expect_err(sup_content_delete(f->cs, digest, &err), &err, ENOENT, msg);
    assert_int_equal(count_blobs(f), 0);

    /* Stored again, it comes back without the old labels. */
    free(put(f, "d", "to delete", NULL, 0));
    expect_ok(sup_content_info(f->cs, digest, &info, &err), &err);
    assert_int_equal(info->n_labels, 0);
    free_msg(info);
    free_labels(l, 1);
}

/* ---- Ingests ------------------------------------------------------------------------------ */

static void
test_sup_content_statuses_and_abort(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_content_writer *w = NULL;
    IngestStatus **list = NULL;
    size_t n = 0;

    expect_ok(sup_content_writer_open(f->cs, "pull/b", NULL, 100, &w, &err), &err);
    expect_ok(sup_content_writer_write(w, "12345", 5, &err), &err);
    sup_content_writer_close(w);
    expect_ok(sup_content_writer_open(f->cs, "pull/a", NULL, -1, &w, &err), &err);
    sup_content_writer_close(w);

    expect_ok(sup_content_list_statuses(f->cs, NULL, 0, &list, &n, &err), &err);
    assert_int_equal(n, 2);
    assert_string_equal(list[0]->ref, "pull/a");
    assert_int_equal(list[0]->offset, 0);
    assert_int_equal(list[0]->total, 0);
    assert_string_equal(list[0]->expected, "");
    assert_string_equal(list[1]->ref, "pull/b");
    assert_int_equal(list[1]->offset, 5);
    assert_int_equal(list[1]->total, 100);
    sup_content_status_list_free(list, n);

    const char *only_b[] = {"ref==pull/b"};
    expect_ok(sup_content_list_statuses(f->cs, only_b, 1, &list, &n, &err), &err);
    assert_int_equal(n, 1);
    assert_string_equal(list[0]->ref, "pull/b");
    sup_content_status_list_free(list, n);

    expect_ok(sup_content_abort(f->cs, "pull/b", &err), &err);
    expect_err(sup_content_abort(f->cs, "pull/b", &err), &err, ENOENT,
               "no ingest for ref `pull/b`");
    IngestStatus *s = NULL;
    expect_err(sup_content_status(f->cs, "pull/b", &s, &err), &err, ENOENT,
               "no ingest for ref `pull/b`");
    expect_ok(sup_content_list_statuses(f->cs, NULL, 0, &list, &n, &err), &err);
    assert_int_equal(n, 1);
    sup_content_status_list_free(list, n);

    /* Aborted, a ref starts from nothing. */
    expect_ok(sup_content_writer_open(f->cs, "pull/b", NULL, -1, &w, &err), &err);
    assert_int_equal(sup_content_writer_offset(w), 0);
    sup_content_writer_close(w);
}

/* ---- Bad input ---------------------------------------------------------------------------- */

static void
test_sup_content_bad_input(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_content_writer *w = NULL;
    Info *info = NULL;
    IngestStatus *s = NULL;
    char long_ref[SUP_CONTENT_REF_MAX + 2];

    expect_err(sup_content_writer_open(f->cs, "", NULL, -1, &w, &err), &err, EINVAL,
               "ref is empty");
    expect_err(sup_content_writer_open(f->cs, NULL, NULL, -1, &w, &err), &err, EINVAL,
               "ref is empty");
    expect_err(sup_content_writer_open(f->cs, "a\nb", NULL, -1, &w, &err), &err, EINVAL,
               "invalid ref: byte 1 is 0x0a (printable ASCII only)");
    memset(long_ref, 'r', sizeof(long_ref) - 1);
    long_ref[sizeof(long_ref) - 1] = '\0';
    expect_err(sup_content_writer_open(f->cs, long_ref, NULL, -1, &w, &err), &err, EINVAL, NULL);
    expect_err(sup_content_writer_open(f->cs, "x", "sha256:abc", -1, &w, &err), &err, EINVAL,
               "write ref `x`: invalid digest `sha256:abc`: expected 64 lowercase hex digits");
    expect_err(sup_content_writer_open(f->cs, "x", NULL, -5, &w, &err), &err, EINVAL,
               "write ref `x`: size -5 is negative");
    assert_null(w);
    expect_err(sup_content_info(f->cs, "md5:abc", &info, &err), &err, EINVAL,
               "unsupported digest algorithm in `md5:abc`");
    expect_err(sup_content_info(f->cs, NULL, &info, &err), &err, EINVAL, "missing digest");
    expect_err(sup_content_delete(f->cs, "sha256:../../x", &err), &err, EINVAL, NULL);
    expect_err(sup_content_status(f->cs, "", &s, &err), &err, EINVAL, "ref is empty");
    expect_err(sup_content_abort(f->cs, "", &err), &err, EINVAL, "ref is empty");
    assert_int_equal(count_ingests(f), 0);
}

/* ---- Repairs at open ---------------------------------------------------------------------- */

static void
test_sup_content_rows_and_files_out_of_step(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *kept = put(f, "kept", "kept", NULL, 0);
    cleanup_free char *gone = put(f, "gone", "gone", NULL, 0);
    Info *info = NULL;
    Info **list = NULL;
    size_t n = 0;
    struct stat sb;

    /* A blob whose row was lost still reads, with its file's times, and gets a row when its
     * labels change. */
    expect_ok(sup_store_content_delete(f->st, kept, &err), &err);
    cleanup_free char *path = blob_path(f, kept);
    assert_int_equal(stat(path, &sb), 0);
    expect_ok(sup_content_info(f->cs, kept, &info, &err), &err);
    assert_int_equal(info->size, 4);
    assert_int_equal(info->created_at,
                     (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec);
    free_msg(info);
    expect_ok(sup_content_list(f->cs, NULL, 0, &list, &n, &err), &err);
    assert_int_equal(n, 2);
    sup_content_info_list_free(list, n);
    Info upd = BERTH__SUPERVISOR__V1__INFO__INIT;
    LabelsEntry *l = label("k", "v");
    upd.digest = kept;
    upd.labels = &l;
    upd.n_labels = 1;
    expect_ok(sup_content_update(f->cs, &upd, NULL, 0, &info, &err), &err);
    assert_int_equal(info->n_labels, 1);
    free_msg(info);
    expect_ok(sup_store_content_get(f->st, kept, &info, &err), &err);
    free_msg(info);
    free_msg(l);

    /* A row whose blob is gone is pruned when the store opens again. */
    cleanup_free char *gone_path = blob_path(f, gone);
    assert_int_equal(unlink(gone_path), 0);
    close_all(f);
    open_all(f);
    cleanup_free char *msg = xasprintf("content `%s` not found", gone);
    expect_err(sup_store_content_get(f->st, gone, &info, &err), &err, ENOENT, msg);
    expect_ok(sup_store_content_get(f->st, kept, &info, &err), &err);
    free_msg(info);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sup_content_writer_commit_stores_blob, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sup_content_writer_commit_unverified, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_content_writer_commit_digest_mismatch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sup_content_writer_commit_wrong_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_content_writer_truncate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_content_writer_resume_after_close, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sup_content_writer_resume_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_content_writer_resume_after_crash, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sup_content_writer_half_made_ingest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_content_writer_lock_in_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_content_writer_lock_across_processes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sup_content_writer_already_exists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_content_labels_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_content_writer_commit_bad_label, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_content_list_and_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_content_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_content_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_content_statuses_and_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_content_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_content_rows_and_files_out_of_step, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
