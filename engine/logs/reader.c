/* SPDX-License-Identifier: Apache-2.0
 *
 * The json-file log reader (reader.h). The shim (shim/logs.c) appends one record a line to the
 * live file PATH and, when it is full, renames PATH.N-1 -> PATH.N ... PATH -> PATH.1 and starts
 * a new PATH (or, keeping a single file, truncates PATH in place). So, oldest first, a log is
 * PATH.k ... PATH.1 PATH, and a reader holding a file descriptor keeps its place in a file
 * whatever it has been renamed to.
 *
 * Invariants:
 *   1. files[0] is the file being read, at files[0].off; files[1..] follow it in time, and
 *      files[n_files - 1] is the newest the reader knows of (the live one, while following).
 *      A file is closed once read to its end and a newer one is known.
 *   2. line holds the bytes of a record read so far without its "\n" (never more than
 *      RECORD_MAX; longer lines are skipped to their "\n", `skipping`). A record is never
 *      complete without its "\n": the shim writes records whole, so bytes without one at the
 *      end of the live file are a record still being written, and anywhere else they are the
 *      remains of a crash (dropped when the reader moves on).
 *   3. in_line[s] is true when the last record of stream s read had no "\n" (a line longer
 *      than docker's 16 KiB, continued by the next record of s); keep[s] says whether that
 *      line passed since / until, decided by its first record.
 *
 * Following: at the end of the live file the reader checks whether PATH still names it. If not,
 * it was rotated: the rest of it is read, then every newer file, found by looking for the old
 * file's inode among PATH.1, PATH.2, ... (several rotations may have happened while the reader
 * slept). If PATH is the same file but shorter than the offset, it was truncated in place and
 * is read again from 0. Between checks the reader sleeps on inotify events of the directory,
 * or 200 ms at most.
 */
#include "engine/logs/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/logs/stdcopy.h"
#include "engine/logs/timestamp.h"

#define BLOCK       (64u << 10) /* read size, forwards and backwards */
#define RECORD_MAX  (1u << 20)  /* a shim record is under 100 KiB; longer lines are junk */
#define CHUNK_MAX   (64u << 10) /* eng_logs_next returns once it has this much */
#define POLL_MS     200
#define ROTATED_MAX 4096 /* PATH.1 .. PATH.ROTATED_MAX at most are looked at */

struct log_file {
    int fd;
    dev_t dev;
    ino_t ino;
    off_t off; /* the next byte to read */
};

struct record {
    const char *log; /* borrowed from the parsed object */
    size_t log_len;
    int stream; /* ENG_STDCOPY_STDOUT or ENG_STDCOPY_STDERR */
    int64_t time_ns;
};

struct eng_logs {
    char *path;
    struct eng_logs_opts o;
    struct log_file *files;
    size_t n_files;
    char *block; /* BLOCK bytes */
    char *line;
    size_t line_len, line_cap;
    bool skipping;
    bool in_line[2], keep[2];
    struct json_tokener *tok;
    int inotify_fd;
    bool draining; /* alive() said no or until passed: one last pass, then the end */
    bool done;
};

/* ---- Files ------------------------------------------------------------------------------- */

static char *
file_name(const char *path, int i)
{
    return i == 0 ? xstrdup(path) : xasprintf("%s.%d", path, i);
}

/* Open name into *f. Returns 1, 0 when it does not exist, -1 with err. */
static int
open_file(const char *name, struct log_file *f, struct berth_err *err)
{
    struct stat st;
    cleanup_close int fd = open(name, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0 && errno == ENOENT)
        return 0;
    if (fd < 0)
        return berth_err_set(err, errno, "open log `%s`", name);
    if (fstat(fd, &st) < 0)
        return berth_err_set(err, errno, "stat log `%s`", name);
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->off = 0;
    f->fd = steal_fd(&fd);
    return 1;
}

static bool
same_file(const struct log_file *f, const struct stat *st)
{
    return f->dev == st->st_dev && f->ino == st->st_ino;
}

static bool
is_known(const struct eng_logs *r, const struct log_file *f)
{
    for (size_t i = 0; i < r->n_files; i++)
        if (r->files[i].dev == f->dev && r->files[i].ino == f->ino)
            return true;
    return false;
}

static void
push_file(struct eng_logs *r, const struct log_file *f)
{
    r->files = xrealloc(r->files, (r->n_files + 1) * sizeof(*r->files));
    r->files[r->n_files++] = *f;
}

/* Close the first n files (read, or before the tail). */
static void
drop_files(struct eng_logs *r, size_t n)
{
    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++)
        close(r->files[i].fd);
    memmove(r->files, r->files + n, (r->n_files - n) * sizeof(*r->files));
    r->n_files -= n;
}

/* A partial record is dropped when the reader leaves its file (invariant 2). */
static void
drop_partial(struct eng_logs *r)
{
    r->line_len = 0;
    r->skipping = false;
}

/* Open PATH, PATH.1, PATH.2 ... newest first, and keep them oldest first (two missing names
 * in a row end the list: see add_newer). The shim may rotate meanwhile, which would make two
 * names one file or hide one: a file seen twice is kept once, and if PATH no longer names the
 * file opened as PATH at the end, the whole set is opened again (a rotation takes the shim a
 * few renames, so this settles at once). */
static int
open_all(struct eng_logs *r, struct berth_err *err)
{
    for (int attempt = 0;; attempt++) {
        bool has_live = false;
        int misses = 0;
        for (int i = 0; i <= ROTATED_MAX && misses < 2; i++) {
            cleanup_free char *name = file_name(r->path, i);
            struct log_file f;
            int rc = open_file(name, &f, err);
            if (rc < 0)
                return -1;
            misses = rc == 0 ? misses + 1 : 0;
            if (rc == 0)
                continue;
            if (i == 0)
                has_live = true;
            if (is_known(r, &f))
                close(f.fd);
            else
                push_file(r, &f);
        }
        struct stat st;
        bool settled = has_live ? stat(r->path, &st) == 0 && same_file(&r->files[0], &st)
                                : stat(r->path, &st) < 0;
        if (settled || attempt == 3)
            break;
        drop_files(r, r->n_files);
    }
    for (size_t i = 0; i < r->n_files / 2; i++) {
        struct log_file t = r->files[i];
        r->files[i] = r->files[r->n_files - 1 - i];
        r->files[r->n_files - 1 - i] = t;
    }
    return 0;
}

/* ---- Records ----------------------------------------------------------------------------- */

/* Parse one line as a json-file record. Returns the object that owns rec's strings (put it
 * when done), or NULL when the line is not a record. */
static struct json_object *
parse_record(struct eng_logs *r, const char *s, size_t n, struct record *rec)
{
    struct json_object *o, *v;

    while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' '))
        n--;
    if (n == 0 || n > INT_MAX)
        return NULL;
    json_tokener_reset(r->tok);
    o = json_tokener_parse_ex(r->tok, s, (int)n);
    if (!o)
        return NULL;
    if (json_tokener_get_parse_end(r->tok) != n || !json_object_is_type(o, json_type_object))
        goto bad;

    if (!json_object_object_get_ex(o, "log", &v) || !json_object_is_type(v, json_type_string))
        goto bad;
    rec->log = json_object_get_string(v);
    rec->log_len = (size_t)json_object_get_string_len(v);

    if (!json_object_object_get_ex(o, "stream", &v) || !json_object_is_type(v, json_type_string))
        goto bad;
    const char *stream = json_object_get_string(v);
    if (strcmp(stream, "stdout") == 0)
        rec->stream = ENG_STDCOPY_STDOUT;
    else if (strcmp(stream, "stderr") == 0)
        rec->stream = ENG_STDCOPY_STDERR;
    else
        goto bad;

    if (!json_object_object_get_ex(o, "time", &v) || !json_object_is_type(v, json_type_string) ||
        eng_timestamp_parse(json_object_get_string(v), (size_t)json_object_get_string_len(v),
                            &rec->time_ns) < 0)
        goto bad;
    return o;
bad:
    json_object_put(o);
    return NULL;
}

static bool
is_selected(const struct eng_logs *r, int stream)
{
    return stream == ENG_STDCOPY_STDOUT ? r->o.stdout_ : r->o.stderr_;
}

static bool
in_window(const struct eng_logs *r, int64_t t)
{
    return (r->o.since_ns == 0 || t >= r->o.since_ns) && (r->o.until_ns == 0 || t <= r->o.until_ns);
}

static bool
ends_line(const struct record *rec)
{
    return rec->log_len == 0 || rec->log[rec->log_len - 1] == '\n';
}

/* Append a record to the output as invariant 3 says: a line's first record decides whether
 * the line is kept and carries the timestamp. */
static void
emit(struct eng_logs *r, const struct record *rec, char **buf, size_t *len)
{
    int s = rec->stream - 1;
    bool first = !r->in_line[s];

    if (!is_selected(r, rec->stream))
        return;
    if (first)
        r->keep[s] = in_window(r, rec->time_ns);
    r->in_line[s] = !ends_line(rec);
    if (!r->keep[s] || rec->log_len == 0)
        return;

    char ts[ENG_TIMESTAMP_MAX];
    size_t ts_len = 0;
    if (r->o.timestamps && first) {
        ts_len = eng_timestamp_format(rec->time_ns, true, ts);
        ts[ts_len++] = ' ';
    }
    if (!r->o.tty)
        eng_stdcopy_header(buf, len, rec->stream, (uint32_t)(ts_len + rec->log_len));
    eng_stdcopy_append(buf, len, ts, ts_len);
    eng_stdcopy_append(buf, len, rec->log, rec->log_len);
}

static void
handle_line(struct eng_logs *r, const char *s, size_t n, char **buf, size_t *len)
{
    struct record rec;
    struct json_object *o = parse_record(r, s, n, &rec);

    if (!o)
        return; /* not a record: a line cut by a crash, or not written by a log writer */
    emit(r, &rec, buf, len);
    json_object_put(o);
}

static void
line_add(struct eng_logs *r, const char *p, size_t n)
{
    if (r->line_len + n > r->line_cap) {
        r->line_cap = r->line_len + n + 4096;
        r->line = xrealloc(r->line, r->line_cap);
    }
    memcpy(r->line + r->line_len, p, n);
    r->line_len += n;
}

/* Split freshly read bytes into lines (invariant 2). A line wholly inside p is parsed in place. */
static void
feed(struct eng_logs *r, const char *p, size_t n, char **buf, size_t *len)
{
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        if (r->skipping) {
            /* the rest of a line too long to be a record */
        } else if (r->line_len + take > RECORD_MAX) {
            r->skipping = true;
            r->line_len = 0;
        } else if (nl && r->line_len == 0) {
            handle_line(r, p, take, buf, len);
        } else {
            line_add(r, p, take);
            if (nl)
                handle_line(r, r->line, r->line_len, buf, len);
        }
        if (!nl)
            return;
        r->line_len = 0;
        r->skipping = false;
        p += take + 1;
        n -= take + 1;
    }
    /* A long line's buffer is not kept once it is done with. */
    if (r->line_cap > BLOCK) {
        free(r->line);
        r->line = NULL;
        r->line_cap = 0;
    }
}

/* Read what is there, from files[0] on, until CHUNK_MAX of output is made (since `start`) or
 * the newest file's end is reached. */
static int
read_forward(struct eng_logs *r, char **buf, size_t *len, size_t start, struct berth_err *err)
{
    while (r->n_files > 0 && *len - start < CHUNK_MAX) {
        struct log_file *f = &r->files[0];
        /* A record makes fewer bytes of output than it takes in the file (its JSON goes), so
         * reading no more than the room left keeps a chunk near CHUNK_MAX. */
        size_t want = CHUNK_MAX - (*len - start);
        if (want < 4096)
            want = 4096;
        if (want > BLOCK)
            want = BLOCK;
        ssize_t n = pread(f->fd, r->block, want, f->off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return berth_err_set(err, errno, "read log `%s`", r->path);
        if (n == 0) {
            if (r->n_files == 1)
                return 0;
            drop_partial(r);
            drop_files(r, 1);
            continue;
        }
        f->off += n;
        feed(r, r->block, (size_t)n, buf, len);
    }
    return 0;
}

/* ---- Tail -------------------------------------------------------------------------------- */

/* A window of one file for reading it backwards: bytes [start, start + len) are in r->block. */
struct back {
    int fd;
    off_t start;
    size_t len;
};

static ssize_t
pread_full(int fd, char *p, size_t n, off_t off)
{
    size_t got = 0;

    while (got < n) {
        ssize_t k = pread(fd, p + got, n - got, off + (off_t)got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        if (k == 0)
            break;
        got += (size_t)k;
    }
    return (ssize_t)got;
}

/* The offset of the last "\n" before `before` into *nl: returns 1, 0 if there is none, -1
 * with err. */
static int
newline_before(struct eng_logs *r, struct back *b, off_t before, off_t *nl, struct berth_err *err)
{
    while (before > 0) {
        if (before <= b->start || before > b->start + (off_t)b->len) {
            off_t from = before > (off_t)BLOCK ? before - (off_t)BLOCK : 0;
            ssize_t n = pread_full(b->fd, r->block, (size_t)(before - from), from);
            if (n < 0)
                return berth_err_set(err, errno, "read log `%s`", r->path);
            b->start = from;
            b->len = (size_t)n;
            if (n < before - from)
                before = from + n; /* the file shrank under us: read what is there */
        }
        const char *hit = memrchr(r->block, '\n', (size_t)(before - b->start));
        if (hit) {
            *nl = b->start + (hit - r->block);
            return 1;
        }
        before = b->start;
    }
    return 0;
}

/* Does the line [s, e) end a line of the selection that tail counts? seen[] says whether a
 * later record of each stream exists: a stream's last record ends its line even without "\n"
 * (the shim flushes a partial line when the process exits). */
static int
counts_for_tail(struct eng_logs *r, struct back *b, off_t s, off_t e, bool seen[2],
                struct berth_err *err)
{
    const char *p;
    size_t n = (size_t)(e - s);

    if (n > RECORD_MAX)
        return 0;
    if (s >= b->start && e <= b->start + (off_t)b->len) {
        p = r->block + (s - b->start);
    } else {
        if (n > r->line_cap) {
            r->line_cap = n;
            r->line = xrealloc(r->line, n);
        }
        ssize_t k = pread_full(b->fd, r->line, n, s);
        if (k < 0)
            return berth_err_set(err, errno, "read log `%s`", r->path);
        n = (size_t)k;
        p = r->line;
    }

    struct record rec;
    cleanup_json struct json_object *o = parse_record(r, p, n, &rec);
    if (!o)
        return 0;
    bool last_of_stream = !seen[rec.stream - 1];
    seen[rec.stream - 1] = true;
    return (ends_line(&rec) || last_of_stream) && is_selected(r, rec.stream) &&
           in_window(r, rec.time_ns);
}

/* Where reading starts for the last o.tail lines: scan the files from the newest backwards,
 * counting the lines that tail counts; the start is just after the (tail + 1)th from the end.
 * Only the records scanned are read, one at a time, so memory does not grow with the log. */
static int
seek_tail(struct eng_logs *r, struct berth_err *err)
{
    long count = 0;
    bool seen[2] = {false, false};

    for (size_t fi = r->n_files; fi-- > 0;) {
        struct back b = {.fd = r->files[fi].fd, .start = 0, .len = 0};
        struct stat st;
        off_t pos, nl;

        if (fstat(b.fd, &st) < 0)
            return berth_err_set(err, errno, "stat log `%s`", r->path);
        /* The bytes after the last "\n" are not a record yet (invariant 2). */
        int rc = newline_before(r, &b, st.st_size, &pos, err);
        if (rc < 0)
            return -1;
        if (r->o.tail == 0) {
            drop_files(r, fi);
            r->files[0].off = rc ? pos + 1 : 0;
            return 0;
        }
        while (rc > 0) {
            rc = newline_before(r, &b, pos, &nl, err);
            if (rc < 0)
                return -1;
            off_t s = rc ? nl + 1 : 0;
            int c = counts_for_tail(r, &b, s, pos, seen, err);
            if (c < 0)
                return -1;
            if (c && ++count > r->o.tail) {
                drop_files(r, fi);
                r->files[0].off = pos + 1;
                return 0;
            }
            pos = nl;
        }
    }
    return 0; /* fewer lines than asked for: all of them */
}

/* ---- Following --------------------------------------------------------------------------- */

/* The live file was renamed: add every file newer than it (see the file comment). Returns 1
 * when one was added. */
static int
add_newer(struct eng_logs *r, struct berth_err *err)
{
    const struct log_file *live = r->n_files ? &r->files[r->n_files - 1] : NULL;
    int found = 0, last = 0, misses = 0;
    bool added = false;

    /* Mid-rotation one name is vacant (PATH.2 renamed to PATH.3, PATH.1 not yet to PATH.2),
     * so only two missing names in a row end the scan. */
    for (int k = 1; k <= ROTATED_MAX && misses < 2; k++) {
        cleanup_free char *name = file_name(r->path, k);
        struct stat st;
        if (stat(name, &st) < 0) {
            misses++;
            continue;
        }
        misses = 0;
        last = k;
        if (live && same_file(live, &st)) {
            found = k;
            break;
        }
    }
    /* Newer than the live file: the names below it, or every name if it is gone. */
    for (int i = found ? found - 1 : last; i >= 0; i--) {
        cleanup_free char *name = file_name(r->path, i);
        struct log_file f;
        int rc = open_file(name, &f, err);
        if (rc < 0)
            return -1;
        if (rc == 0)
            continue;
        if (is_known(r, &f)) {
            close(f.fd);
            continue;
        }
        push_file(r, &f);
        added = true;
    }
    return added;
}

/* At the end of the newest file: is there more to read elsewhere? Returns 1 when the file was
 * rotated away and newer files were found, or truncated in place; 0 when not (yet). */
static int
check_moved(struct eng_logs *r, struct berth_err *err)
{
    struct log_file *live = r->n_files ? &r->files[r->n_files - 1] : NULL;
    struct stat st;

    if (stat(r->path, &st) < 0)
        return live ? add_newer(r, err) : 0; /* mid-rotation, or no log yet */
    if (!live || !same_file(live, &st))
        return add_newer(r, err);
    if (r->n_files == 1 && st.st_size < live->off) {
        /* A single-file log is truncated in place when full: read it again from 0. */
        live->off = 0;
        drop_partial(r);
        r->in_line[0] = r->in_line[1] = false;
        return 1;
    }
    return 0;
}

static int64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Sleep until something changes in the log's directory, POLL_MS at most (inotify can miss
 * nothing here, but the fallback keeps a reader without it working, and bounds how late
 * alive() is asked), and no later than until. */
static void
wait_for_change(struct eng_logs *r)
{
    int ms = POLL_MS;

    if (r->o.until_ns) {
        int64_t left = (r->o.until_ns - now_ns()) / 1000000 + 1;
        if (left < ms)
            ms = left < 0 ? 0 : (int)left;
    }
    if (r->inotify_fd < 0) {
        poll(NULL, 0, ms);
        return;
    }
    struct pollfd p = {.fd = r->inotify_fd, .events = POLLIN};
    if (poll(&p, 1, ms) > 0) {
        char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        while (read(r->inotify_fd, ev, sizeof(ev)) > 0) {
        }
    }
}

static void
watch_dir(struct eng_logs *r)
{
    const char *slash = strrchr(r->path, '/');
    cleanup_free char *dir = slash == r->path ? xstrdup("/")
                             : slash          ? xstrndup(r->path, (size_t)(slash - r->path))
                                              : xstrdup(".");

    r->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (r->inotify_fd < 0)
        return;
    if (inotify_add_watch(r->inotify_fd, dir,
                          IN_MODIFY | IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE) < 0) {
        /* no directory yet: polling finds the log when it appears */
        close(r->inotify_fd);
        r->inotify_fd = -1;
    }
}

/* ---- Interface --------------------------------------------------------------------------- */

int
eng_logs_open(const char *path, const struct eng_logs_opts *o, struct eng_logs **out,
              struct berth_err *err)
{
    if (!o->stdout_ && !o->stderr_)
        return berth_err_fail(err, EINVAL, "you must choose at least one stream");

    struct eng_logs *r = xzalloc(sizeof(*r));
    r->path = xstrdup(path);
    r->o = *o;
    r->inotify_fd = -1;
    r->block = xmalloc(BLOCK);
    r->tok = json_tokener_new();
    /* The watch comes before the files are opened, so no change after opening is missed. */
    if (o->follow)
        watch_dir(r);
    if (open_all(r, err) < 0 || (o->tail >= 0 && seek_tail(r, err) < 0)) {
        eng_logs_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

int
eng_logs_next(struct eng_logs *r, char **buf, size_t *len, bool (*alive)(void *), void *data,
              struct berth_err *err)
{
    size_t start = *len;

    while (!r->done) {
        if (read_forward(r, buf, len, start, err) < 0)
            return -1;
        if (*len > start)
            return 1;
        if (!r->o.follow) {
            r->done = true;
            break;
        }
        int moved = check_moved(r, err);
        if (moved < 0)
            return -1;
        if (moved)
            continue;
        if (r->draining) {
            r->done = true;
            break;
        }
        if ((r->o.until_ns && now_ns() > r->o.until_ns) || (alive && !alive(data))) {
            /* What was written before this moment is still read (one more pass). */
            r->draining = true;
            continue;
        }
        wait_for_change(r);
    }
    return 0;
}

void
eng_logs_close(struct eng_logs *r)
{
    if (!r)
        return;
    drop_files(r, r->n_files);
    free(r->files);
    if (r->inotify_fd >= 0)
        close(r->inotify_fd);
    if (r->tok)
        json_tokener_free(r->tok);
    free(r->line);
    free(r->block);
    free(r->path);
    free(r);
}
