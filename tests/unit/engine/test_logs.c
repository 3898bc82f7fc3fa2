/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for engine/logs: docker's stream framing, RFC 3339 times, and the json-file
 * reader over logs written by the shim's own writer (shim/logs.c) or record by record with
 * chosen times: stream selection, since / until, tail across rotated files, timestamps, framed
 * and raw output, malformed and cut lines, lines longer than docker's 16 KiB, and following a
 * log that a writer thread appends to, rotates and truncates meanwhile.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "engine/logs/reader.h"
#include "engine/logs/stdcopy.h"
#include "engine/logs/timestamp.h"
#include "shim/logs.h"

#define T0 1795449600LL /* 2026-11-23T16:00:00Z */
#define NS 1000000000LL

struct fixture {
    char dir[64];
    char *path; /* dir/c.log */
};

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof(*f));
    strcpy(f->dir, "/tmp/berth-test-logs-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->path = xasprintf("%s/c.log", f->dir);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(berth_fs_rm_rf(f->dir, &err), 0);
    free(f->path);
    free(f);
    return 0;
}

/* Append raw bytes to a file. */
static void
append_raw(const char *path, const char *s, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, s, n), (ssize_t)n);
    close(fd);
}

static void
append_str(const char *path, const char *s)
{
    append_raw(path, s, strlen(s));
}

/* Append one record, as the shim formats it, with the time T0 + sec seconds. */
static void
append_record(const char *path, int stream, const char *line, int64_t sec)
{
    struct timespec ts = {.tv_sec = (time_t)(T0 + sec), .tv_nsec = 123456789};
    size_t n;
    cleanup_free char *rec = shim_log_format(stream, line, strlen(line), &ts, &n);
    append_raw(path, rec, n);
}

static struct eng_logs_opts
opts_all(void)
{
    return (struct eng_logs_opts){.stdout_ = true, .stderr_ = true, .tail = -1};
}

/* The whole framed stream as text: each frame becomes "1>payload" or "2>payload". Fails the
 * test on a malformed frame. */
static char *
frames_text(const char *buf, size_t len)
{
    char *out = NULL;
    size_t out_len = 0;

    while (len > 0) {
        assert_true(len >= ENG_STDCOPY_HEADER_LEN);
        const unsigned char *h = (const unsigned char *)buf;
        assert_true(h[0] == 1 || h[0] == 2);
        assert_int_equal(h[1] | h[2] | h[3], 0);
        size_t n = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];
        assert_true(n > 0 && n <= len - ENG_STDCOPY_HEADER_LEN);
        char tag[2] = {(char)('0' + h[0]), '>'};
        eng_stdcopy_append(&out, &out_len, tag, 2);
        eng_stdcopy_append(&out, &out_len, buf + ENG_STDCOPY_HEADER_LEN, n);
        buf += ENG_STDCOPY_HEADER_LEN + n;
        len -= ENG_STDCOPY_HEADER_LEN + n;
    }
    eng_stdcopy_append(&out, &out_len, "", 1);
    return out;
}

/* Read the whole log with o (no follow); returns the raw stream, *len set. */
static char *
read_all(const char *path, const struct eng_logs_opts *o, size_t *len)
{
    struct eng_logs *r = NULL;
    struct berth_err err = BERTH_ERR_INIT;
    char *buf = NULL;
    int rc;

    *len = 0;
    assert_int_equal(eng_logs_open(path, o, &r, &err), 0);
    for (size_t before = 0; (rc = eng_logs_next(r, &buf, len, NULL, NULL, &err)) == 1;
         before = *len)
        assert_true(*len - before <= (68u << 10)); /* chunks of about 64 KiB */
    assert_int_equal(rc, 0);
    eng_logs_close(r);
    return buf;
}

/* read_all as frames_text. */
static char *
read_text(const char *path, const struct eng_logs_opts *o)
{
    size_t len;
    cleanup_free char *raw = read_all(path, o, &len);
    return frames_text(raw, len);
}

/* ---- stdcopy ----------------------------------------------------------------------------- */

static void
test_eng_stdcopy_frame(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;

    eng_stdcopy_frame(&buf, &len, ENG_STDCOPY_STDERR, "hello\n", 6);
    assert_int_equal(len, 14);
    assert_memory_equal(buf, "\2\0\0\0\0\0\0\6hello\n", 14);
    eng_stdcopy_frame(&buf, &len, ENG_STDCOPY_STDOUT, "", 0);
    assert_int_equal(len, 14);

    /* many appends, and a length that needs all four bytes of the header */
    char *big = xmalloc(70000);
    memset(big, 'x', 70000);
    for (int i = 0; i < 100; i++)
        eng_stdcopy_frame(&buf, &len, ENG_STDCOPY_STDOUT, "ab", 2);
    eng_stdcopy_frame(&buf, &len, ENG_STDCOPY_STDOUT, big, 70000);
    assert_int_equal(len, 14 + 100 * 10 + 8 + 70000);
    assert_memory_equal(buf + 14 + 1000, "\1\0\0\0\0\1\x11\x70", 8);
    free(big);
    free(buf);

    /* a buffer the caller allocated to its exact size grows correctly */
    buf = xstrdup("abc");
    len = 3;
    eng_stdcopy_append(&buf, &len, "def", 3);
    assert_memory_equal(buf, "abcdef", 6);
    free(buf);
}

/* ---- timestamps -------------------------------------------------------------------------- */

static void
check_parse(const char *s, int64_t want)
{
    int64_t got = 0;
    assert_int_equal(eng_timestamp_parse(s, strlen(s), &got), 0);
    assert_int_equal(got, want);
}

static void
check_bad(const char *s)
{
    int64_t got = 0;
    assert_int_equal(eng_timestamp_parse(s, strlen(s), &got), -1);
}

static void
test_eng_timestamp_parse(void **state)
{
    (void)state;
    check_parse("2026-11-23T16:00:00.123456789Z", T0 * NS + 123456789);
    check_parse("2026-11-23T16:00:00Z", T0 * NS);
    check_parse("2026-11-23T16:00:00.5Z", T0 * NS + 500000000);
    check_parse("2026-11-23T17:30:00+01:30", T0 * NS);
    check_parse("2026-11-23T15:00:00.000000001-01:00", T0 * NS + 1);
    check_parse("1970-01-01T00:00:00Z", 0);
    check_parse("1969-12-31T23:59:59Z", -NS);
    check_parse("2024-02-29T00:00:00Z", 1709164800LL * NS);
    check_bad("");
    check_bad("2026-11-23 16:00:00Z");
    check_bad("2026-11-23T16:00:00");
    check_bad("2026-11-23T16:00:00.Z");
    check_bad("2026-11-23T16:00:00.1234567890Z");
    check_bad("2026-11-23T16:00:00Zjunk");
    check_bad("2026-13-23T16:00:00Z");
    check_bad("2025-02-29T16:00:00Z");
    check_bad("2026-11-23T24:00:00Z");
    check_bad("2026-11-23T16:00:00+1:00");
}

static void
test_eng_timestamp_format(void **state)
{
    (void)state;
    char buf[ENG_TIMESTAMP_MAX];

    assert_int_equal(eng_timestamp_format(T0 * NS + 123456789, true, buf), 30);
    assert_string_equal(buf, "2026-11-23T16:00:00.123456789Z");
    eng_timestamp_format(T0 * NS + 500000000, true, buf);
    assert_string_equal(buf, "2026-11-23T16:00:00.500000000Z");
    eng_timestamp_format(T0 * NS + 500000000, false, buf);
    assert_string_equal(buf, "2026-11-23T16:00:00.5Z");
    eng_timestamp_format(T0 * NS, false, buf);
    assert_string_equal(buf, "2026-11-23T16:00:00Z");
    eng_timestamp_format(-1, true, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59.999999999Z");
    /* parse(format(t)) == t over a few centuries */
    for (int64_t t = -5000000000LL * NS; t < 9000000000LL * NS; t += 86399LL * NS * 397 + 7) {
        int64_t back;
        size_t n = eng_timestamp_format(t, true, buf);
        assert_int_equal(eng_timestamp_parse(buf, n, &back), 0);
        assert_int_equal(back, t);
    }
}

/* ---- Reading ----------------------------------------------------------------------------- */

/* out1, err1, out2 at T0+1, +2, +3. */
static void
three_records(const char *path)
{
    append_record(path, SHIM_STDOUT, "out1\n", 1);
    append_record(path, SHIM_STDERR, "err1\n", 2);
    append_record(path, SHIM_STDOUT, "out2\n", 3);
}

static void
test_eng_logs_next_framed(void **state)
{
    struct fixture *f = *state;
    three_records(f->path);
    struct eng_logs_opts o = opts_all();

    size_t len;
    cleanup_free char *raw = read_all(f->path, &o, &len);
    assert_int_equal(len, 3 * (8 + 5));
    assert_memory_equal(raw, "\1\0\0\0\0\0\0\5out1\n\2\0\0\0\0\0\0\5err1\n", 26);
    cleanup_free char *text = read_text(f->path, &o);
    assert_string_equal(text, "1>out1\n2>err1\n1>out2\n");
}

static void
test_eng_logs_next_tty(void **state)
{
    struct fixture *f = *state;
    three_records(f->path);
    struct eng_logs_opts o = opts_all();
    o.tty = true;

    size_t len;
    cleanup_free char *raw = read_all(f->path, &o, &len);
    assert_int_equal(len, 15);
    assert_memory_equal(raw, "out1\nerr1\nout2\n", 15);

    o.timestamps = true;
    free(raw);
    raw = read_all(f->path, &o, &len);
    const char *want = "2026-11-23T16:00:01.123456789Z out1\n"
                       "2026-11-23T16:00:02.123456789Z err1\n"
                       "2026-11-23T16:00:03.123456789Z out2\n";
    assert_int_equal(len, strlen(want));
    assert_memory_equal(raw, want, len);
}

static void
test_eng_logs_next_streams(void **state)
{
    struct fixture *f = *state;
    three_records(f->path);
    struct eng_logs_opts o = opts_all();
    struct eng_logs *r = NULL;
    struct berth_err err = BERTH_ERR_INIT;

    o.stdout_ = false;
    cleanup_free char *errs = read_text(f->path, &o);
    assert_string_equal(errs, "2>err1\n");
    o.stdout_ = true;
    o.stderr_ = false;
    cleanup_free char *outs = read_text(f->path, &o);
    assert_string_equal(outs, "1>out1\n1>out2\n");

    o.stdout_ = false;
    assert_int_equal(eng_logs_open(f->path, &o, &r, &err), -1);
    assert_int_equal(err.code, EINVAL);
    assert_non_null(strstr(err.msg, "at least one stream"));
    assert_null(r);
    berth_err_clear(&err);
}

static void
test_eng_logs_next_timestamps(void **state)
{
    struct fixture *f = *state;
    three_records(f->path);
    struct eng_logs_opts o = opts_all();
    o.timestamps = true;

    cleanup_free char *text = read_text(f->path, &o);
    assert_string_equal(text, "1>2026-11-23T16:00:01.123456789Z out1\n"
                              "2>2026-11-23T16:00:02.123456789Z err1\n"
                              "1>2026-11-23T16:00:03.123456789Z out2\n");
}

static void
test_eng_logs_next_since_until(void **state)
{
    struct fixture *f = *state;
    for (int i = 1; i <= 6; i++) {
        char line[16];
        snprintf(line, sizeof(line), "l%d\n", i);
        append_record(f->path, SHIM_STDOUT, line, i);
    }
    struct eng_logs_opts o = opts_all();

    /* since is inclusive: l3 is at T0+3.123456789 */
    o.since_ns = (T0 + 3) * NS + 123456789;
    cleanup_free char *a = read_text(f->path, &o);
    assert_string_equal(a, "1>l3\n1>l4\n1>l5\n1>l6\n");
    o.until_ns = (T0 + 5) * NS;
    cleanup_free char *b = read_text(f->path, &o);
    assert_string_equal(b, "1>l3\n1>l4\n");
    o.since_ns = 0;
    cleanup_free char *c = read_text(f->path, &o);
    assert_string_equal(c, "1>l1\n1>l2\n1>l3\n1>l4\n");
    /* tail counts the lines in the window */
    o.tail = 1;
    cleanup_free char *d = read_text(f->path, &o);
    assert_string_equal(d, "1>l4\n");
    o.since_ns = (T0 + 100) * NS;
    o.until_ns = 0;
    o.tail = -1;
    cleanup_free char *e = read_text(f->path, &o);
    assert_string_equal(e, "");
}

static void
test_eng_logs_next_malformed(void **state)
{
    struct fixture *f = *state;
    cleanup_free char *junk = xmalloc((2u << 20) + 1);

    append_record(f->path, SHIM_STDOUT, "a\n", 1);
    /* a record cut by a crash, with the next record appended to it */
    append_str(f->path, "{\"log\":\"cut");
    append_record(f->path, SHIM_STDOUT, "lost\n", 2);
    append_str(f->path, "not json\n");
    append_str(f->path, "\n");
    append_str(f->path, "[1,2]\n");
    append_str(f->path, "{\"log\":\"x\\n\",\"stream\":\"stdout\"}\n");
    append_str(f->path,
               "{\"log\":\"x\\n\",\"stream\":\"stdin\",\"time\":\"2026-11-23T16:00:00Z\"}\n");
    append_str(f->path, "{\"log\":1,\"stream\":\"stdout\",\"time\":\"2026-11-23T16:00:00Z\"}\n");
    append_str(f->path, "{\"log\":\"x\\n\",\"stream\":\"stdout\",\"time\":\"yesterday\"}\n");
    append_str(f->path,
               "{\"log\":\"x\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-23T16:00:00Z\"} {}\n");
    /* a 2 MiB line with no record in it: skipped without being held */
    memset(junk, 'j', 2u << 20);
    junk[2u << 20] = '\n';
    append_raw(f->path, junk, (2u << 20) + 1);
    append_record(f->path, SHIM_STDERR, "b \"quoted\" <&> \\ \t\n", 3);
    /* NUL inside the text, escaped in the record */
    append_str(f->path, "{\"log\":\"nul\\u0000in\\n\",\"stream\":\"stdout\","
                        "\"time\":\"2026-11-23T16:00:04Z\"}\r\n");
    /* the record being written when the log is read */
    append_str(f->path, "{\"log\":\"half");

    struct eng_logs_opts o = opts_all();
    size_t len;
    cleanup_free char *raw = read_all(f->path, &o, &len);
    cleanup_free char *text = frames_text(raw, len);
    assert_string_equal(text, "1>a\n2>b \"quoted\" <&> \\ \t\n1>nul");
    assert_memory_equal(raw + len - 7, "nul\0in\n", 7);

    o.tail = 2;
    cleanup_free char *tail = read_text(f->path, &o);
    assert_string_equal(tail, "2>b \"quoted\" <&> \\ \t\n1>nul");
}

/* A shim log of n lines "line <i>" on stdout (and "err <i>" on stderr for every fifth),
 * rotated every max_size bytes, max_files files in all. */
static void
shim_lines(const char *path, int from, int n, int64_t max_size, int max_files)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct shim_log *log = shim_log_open(path, max_size, max_files, &err);
    assert_non_null(log);
    for (int i = from; i < from + n; i++) {
        char line[32];
        int k = snprintf(line, sizeof(line), "line %d\n", i);
        shim_log_write(log, SHIM_STDOUT, line, (size_t)k);
        if (i % 5 == 0) {
            k = snprintf(line, sizeof(line), "err %d\n", i);
            shim_log_write(log, SHIM_STDERR, line, (size_t)k);
        }
    }
    shim_log_close(log);
}

/* The expected text of lines [from, to) as shim_lines writes them, stdout only or both. */
static char *
expected_lines(int from, int to, bool with_err)
{
    char *out = NULL;
    size_t len = 0;
    for (int i = from; i < to; i++) {
        char line[40];
        int k = snprintf(line, sizeof(line), "1>line %d\n", i);
        eng_stdcopy_append(&out, &len, line, (size_t)k);
        if (with_err && i % 5 == 0) {
            k = snprintf(line, sizeof(line), "2>err %d\n", i);
            eng_stdcopy_append(&out, &len, line, (size_t)k);
        }
    }
    eng_stdcopy_append(&out, &len, "", 1);
    return out;
}

static void
test_eng_logs_next_rotated(void **state)
{
    struct fixture *f = *state;
    /* ~75 bytes a record: 1 KiB files hold about 14 */
    shim_lines(f->path, 0, 100, 1024, 20);
    cleanup_free char *p1 = xasprintf("%s.1", f->path);
    cleanup_free char *p5 = xasprintf("%s.5", f->path);
    assert_true(berth_fs_exists(p1) && berth_fs_exists(p5));

    struct eng_logs_opts o = opts_all();
    cleanup_free char *all = read_text(f->path, &o);
    cleanup_free char *want_all = expected_lines(0, 100, true);
    assert_string_equal(all, want_all);

    /* tail across files: 30 stdout lines reach back over several files */
    o.stderr_ = false;
    o.tail = 30;
    cleanup_free char *t30 = read_text(f->path, &o);
    cleanup_free char *want30 = expected_lines(70, 100, false);
    assert_string_equal(t30, want30);

    /* with both streams chosen, tail counts the lines of both */
    o.stderr_ = true;
    o.tail = 7;
    cleanup_free char *t7 = read_text(f->path, &o);
    assert_string_equal(t7, "1>line 94\n1>line 95\n2>err 95\n1>line 96\n1>line 97\n1>line "
                            "98\n1>line 99\n");

    o.stdout_ = false;
    o.tail = 3;
    cleanup_free char *e3 = read_text(f->path, &o);
    assert_string_equal(e3, "2>err 85\n2>err 90\n2>err 95\n");

    o.stdout_ = true;
    o.tail = 1000;
    cleanup_free char *t1000 = read_text(f->path, &o);
    assert_string_equal(t1000, want_all);

    o.tail = 0;
    cleanup_free char *t0 = read_text(f->path, &o);
    assert_string_equal(t0, "");
}

/* A log larger than a chunk comes in several, whole records each, nothing lost at the seams. */
static void
test_eng_logs_next_chunks(void **state)
{
    struct fixture *f = *state;
    shim_lines(f->path, 0, 8000, 0, 0);
    struct eng_logs_opts o = opts_all();

    size_t len;
    cleanup_free char *raw = read_all(f->path, &o, &len);
    assert_true(len > (128u << 10));
    cleanup_free char *text = frames_text(raw, len);
    cleanup_free char *want = expected_lines(0, 8000, true);
    assert_string_equal(text, want);
}

/* A log read in the middle of a rotation: PATH.1 already renamed to PATH.2, PATH not yet to
 * PATH.1. The vacant name hides no file. */
static void
test_eng_logs_next_mid_rotation(void **state)
{
    struct fixture *f = *state;
    cleanup_free char *p2 = xasprintf("%s.2", f->path);
    cleanup_free char *p3 = xasprintf("%s.3", f->path);
    append_record(p3, SHIM_STDOUT, "oldest\n", 1);
    append_record(p2, SHIM_STDOUT, "older\n", 2);
    append_record(f->path, SHIM_STDOUT, "newest\n", 3);
    struct eng_logs_opts o = opts_all();

    cleanup_free char *all = read_text(f->path, &o);
    assert_string_equal(all, "1>oldest\n1>older\n1>newest\n");
    o.tail = 2;
    cleanup_free char *tail = read_text(f->path, &o);
    assert_string_equal(tail, "1>older\n1>newest\n");
}

static void
test_eng_logs_next_long_line(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    size_t n = 40000;
    cleanup_free char *big = xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    big[n] = '\n';

    struct shim_log *log = shim_log_open(f->path, 0, 0, &err);
    assert_non_null(log);
    shim_log_write(log, SHIM_STDOUT, "before\n", 7);
    shim_log_write(log, SHIM_STDOUT, big, n + 1); /* three records: 16 KiB, 16 KiB, the rest */
    shim_log_write(log, SHIM_STDERR, "after", 5); /* flushed without \n at close */
    shim_log_close(log);

    struct eng_logs_opts o = opts_all();
    o.tty = true;
    o.timestamps = true;
    size_t len;
    cleanup_free char *raw = read_all(f->path, &o, &len);
    /* one timestamp for the long line, however many records it took */
    assert_int_equal(len, 3 * 31 + 7 + n + 1 + 5);
    assert_memory_equal(raw + 31 + 7 + 31, big, n + 1);
    assert_memory_equal(raw + len - 5, "after", 5);

    /* tail 2: the long line and the last partial line */
    o.timestamps = false;
    o.tail = 2;
    free(raw);
    raw = read_all(f->path, &o, &len);
    assert_int_equal(len, n + 1 + 5);
    assert_memory_equal(raw, big, n + 1);

    /* stdout alone: the long line's records are one line of stdout */
    o.tail = -1;
    o.stderr_ = false;
    free(raw);
    raw = read_all(f->path, &o, &len);
    assert_int_equal(len, 7 + n + 1);
}

static void
test_eng_logs_next_missing(void **state)
{
    struct fixture *f = *state;
    struct eng_logs_opts o = opts_all();
    cleanup_free char *text = read_text(f->path, &o);
    assert_string_equal(text, "");

    struct eng_logs *r = NULL;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *dir_as_file = xasprintf("%s/d", f->dir);
    cleanup_free char *inside = xasprintf("%s/d/c.log", f->dir);
    append_raw(dir_as_file, "", 0);
    assert_int_equal(eng_logs_open(inside, &o, &r, &err), -1);
    assert_int_equal(err.code, ENOTDIR);
    assert_non_null(strstr(err.msg, inside));
    berth_err_clear(&err);
}

/* ---- Following --------------------------------------------------------------------------- */

struct writer {
    const char *path;
    int n;
    int64_t max_size;
    int max_files;
    int delay_us;
    atomic_bool done;
};

static void *
writer_main(void *arg)
{
    struct writer *w = arg;
    struct berth_err err = BERTH_ERR_INIT;
    usleep(50000); /* the reader is waiting by now */
    struct shim_log *log = shim_log_open(w->path, w->max_size, w->max_files, &err);
    assert_non_null(log);
    for (int i = 0; i < w->n; i++) {
        char line[32];
        int k = snprintf(line, sizeof(line), "line %d\n", i);
        shim_log_write(log, SHIM_STDOUT, line, (size_t)k);
        if (i % 5 == 0) {
            k = snprintf(line, sizeof(line), "err %d\n", i);
            shim_log_write(log, SHIM_STDERR, line, (size_t)k);
        }
        usleep((useconds_t)w->delay_us);
    }
    shim_log_close(log);
    atomic_store(&w->done, true);
    return NULL;
}

static bool
writer_alive(void *data)
{
    struct writer *w = data;
    return !atomic_load(&w->done);
}

/* Follow the log while w writes it; returns the frames as text. */
static char *
follow(struct writer *w, const struct eng_logs_opts *o)
{
    struct eng_logs *r = NULL;
    struct berth_err err = BERTH_ERR_INIT;
    pthread_t t;
    char *buf = NULL;
    size_t len = 0;
    int rc;

    assert_int_equal(eng_logs_open(w->path, o, &r, &err), 0);
    assert_int_equal(pthread_create(&t, NULL, writer_main, w), 0);
    while ((rc = eng_logs_next(r, &buf, &len, writer_alive, w, &err)) == 1) {
    }
    assert_int_equal(rc, 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    eng_logs_close(r);
    cleanup_free char *raw = buf;
    return frames_text(raw, len);
}

/* The writer rotates every ~1 KiB and keeps 8 files; every line is read once, in order,
 * through several rotations, starting from a log that does not exist yet. */
static void
test_eng_logs_next_follow_rotation(void **state)
{
    struct fixture *f = *state;
    struct writer w = {
        .path = f->path, .n = 300, .max_size = 1024, .max_files = 8, .delay_us = 1000};
    struct eng_logs_opts o = opts_all();
    o.follow = true;

    cleanup_free char *text = follow(&w, &o);
    cleanup_free char *want = expected_lines(0, 300, true);
    assert_string_equal(text, want);
}

/* Follow with tail: the old lines' tail, then everything new. */
static void
test_eng_logs_next_follow_tail(void **state)
{
    struct fixture *f = *state;
    shim_lines(f->path, 0, 50, 1024, 8);
    struct writer w = {
        .path = f->path, .n = 100, .max_size = 1024, .max_files = 8, .delay_us = 500};
    struct eng_logs_opts o = opts_all();
    o.follow = true;
    o.tail = 2;
    o.stderr_ = false;

    cleanup_free char *text = follow(&w, &o);
    cleanup_free char *old = expected_lines(48, 50, false);
    cleanup_free char *new = expected_lines(0, 100, false);
    cleanup_free char *want = xasprintf("%s%s", old, new);
    assert_string_equal(text, want);
}

/* A single-file log is truncated in place when full; the reader starts over at 0 and reads
 * the lines written after the truncation. */
static void
test_eng_logs_next_follow_truncate(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    struct eng_logs *r = NULL;
    struct eng_logs_opts o = opts_all();
    o.follow = true;
    char *buf = NULL;
    size_t len = 0;

    struct shim_log *log = shim_log_open(f->path, 300, 1, &err);
    assert_non_null(log);
    assert_int_equal(eng_logs_open(f->path, &o, &r, &err), 0);
    for (int i = 0; i < 4; i++) /* 4 x 75 bytes: full */
        shim_log_write(log, SHIM_STDOUT, "first\n", 6);
    assert_int_equal(eng_logs_next(r, &buf, &len, NULL, NULL, &err), 1);
    shim_log_write(log, SHIM_STDOUT, "second\n", 7); /* truncates, then writes */
    assert_int_equal(eng_logs_next(r, &buf, &len, NULL, NULL, &err), 1);
    shim_log_close(log);
    assert_int_equal(
        eng_logs_next(r, &buf, &len, writer_alive, &(struct writer){.done = true}, &err), 0);
    eng_logs_close(r);
    cleanup_free char *text = frames_text(buf, len);
    free(buf);
    assert_string_equal(text, "1>first\n1>first\n1>first\n1>first\n1>second\n");
}

/* until ends a follow once it has passed, without the container stopping. */
static void
test_eng_logs_next_follow_until(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    struct eng_logs *r = NULL;
    struct eng_logs_opts o = opts_all();
    struct timespec now;
    char *buf = NULL;
    size_t len = 0;

    three_records(f->path);
    clock_gettime(CLOCK_REALTIME, &now);
    o.follow = true;
    o.until_ns = (int64_t)now.tv_sec * NS + now.tv_nsec + 300000000;
    assert_int_equal(eng_logs_open(f->path, &o, &r, &err), 0);
    assert_int_equal(eng_logs_next(r, &buf, &len, NULL, NULL, &err), 1);
    assert_int_equal(eng_logs_next(r, &buf, &len, NULL, NULL, &err), 0);
    struct timespec end;
    clock_gettime(CLOCK_REALTIME, &end);
    assert_true((int64_t)end.tv_sec * NS + end.tv_nsec >= o.until_ns);
    eng_logs_close(r);
    cleanup_free char *text = frames_text(buf, len);
    free(buf);
    assert_string_equal(text, "1>out1\n2>err1\n1>out2\n");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eng_stdcopy_frame),
        cmocka_unit_test(test_eng_timestamp_parse),
        cmocka_unit_test(test_eng_timestamp_format),
        cmocka_unit_test_setup_teardown(test_eng_logs_next_framed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_logs_next_tty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_logs_next_streams, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_logs_next_timestamps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_logs_next_since_until, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_logs_next_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_logs_next_rotated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_logs_next_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_logs_next_mid_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_logs_next_long_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_logs_next_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_logs_next_follow_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_logs_next_follow_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_logs_next_follow_truncate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_logs_next_follow_until, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
