/* SPDX-License-Identifier: Apache-2.0
 *
 * docker's json-file log driver, as the shim writes it (logs.h). One JSON object a line:
 *
 *   {"log":"hello\n","stream":"stdout","time":"2026-11-23T07:40:00.123456789Z"}
 *
 * in the field order and escaping of docker's own writer (moby daemon/logger/jsonfilelog):
 * \" \\ \n \r \t, other control bytes and < > & as \u00XX, U+2028 and U+2029 escaped, every
 * byte that is not part of valid UTF-8 replaced by \ufffd. The time is RFC 3339 in UTC with all
 * nine digits of nanoseconds. The record is built by hand rather than through json-c because it
 * is the one document the shim writes per line of output, and json-c neither replaces invalid
 * UTF-8 nor escapes the way docker's readers expect; nothing here parses JSON.
 *
 * Lines are cut at \n and at SHIM_LOG_LINE_MAX bytes, as docker's copier cuts them; the piece
 * before a cut has no \n, and the reader joins pieces. The records of one shim_log_write go out
 * in one write(2), unless they reach max_size: rotation follows docker's rule, a file that
 * has reached max_size is rotated before more is added, so a file exceeds max_size by one
 * record at most.
 */
#include "shim/logs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/log.h"

struct log_stream {
    char *buf; /* partial line, less than SHIM_LOG_LINE_MAX bytes; NULL when empty */
    size_t len;
    struct timespec ts; /* when its first byte arrived */
};

struct shim_log {
    char *path;
    int fd;
    int64_t size;
    int64_t max_size;
    int max_files;
    bool failing; /* a write failed and was logged; the next success says so */
    struct log_stream streams[2];
};

/* A growing output buffer for the records of one write. */
struct out {
    char *buf;
    size_t len, cap;
};

static void
out_reserve(struct out *o, size_t n)
{
    if (o->len + n <= o->cap)
        return;
    size_t cap = o->cap ? o->cap : 4096;
    while (cap < o->len + n)
        cap *= 2;
    o->buf = xrealloc(o->buf, cap);
    o->cap = cap;
}

static void
out_add(struct out *o, const char *s, size_t n)
{
    out_reserve(o, n);
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

/* ---- Records ----------------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if it is not one: no overlong
 * forms, no surrogates, nothing above U+10FFFF (RFC 3629). *cp gets the code point. */
static size_t
utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;

    if (c < 0xC2 || c > 0xF4)
        return 0;
    if (c < 0xE0) {
        len = 2, v = c & 0x1F, min = 0x80;
    } else if (c < 0xF0) {
        len = 3, v = c & 0x0F, min = 0x800;
    } else {
        len = 4, v = c & 0x07, min = 0x10000;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

/* Append s as the inside of a JSON string, escaped as docker escapes it. */
static void
add_escaped(struct out *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;

    out_reserve(o, n + 16);
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        char esc[6];
        if (c >= 0x80) {
            uint32_t cp;
            size_t len = utf8_seq(p + i, n - i, &cp);
            if (len == 0) {
                out_add(o, "\\ufffd", 6);
                i++;
            } else if (cp == 0x2028 || cp == 0x2029) {
                out_add(o, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
                i += len;
            } else {
                out_add(o, s + i, len);
                i += len;
            }
            continue;
        }
        i++;
        switch (c) {
        case '"': out_add(o, "\\\"", 2); continue;
        case '\\': out_add(o, "\\\\", 2); continue;
        case '\n': out_add(o, "\\n", 2); continue;
        case '\r': out_add(o, "\\r", 2); continue;
        case '\t': out_add(o, "\\t", 2); continue;
        default: break;
        }
        if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xF];
            out_add(o, esc, 6);
        } else {
            out_reserve(o, 1);
            o->buf[o->len++] = (char)c;
        }
    }
}

static void
add_record(struct out *o, int stream, const char *line, size_t len, const struct timespec *ts)
{
    struct tm tm;
    char stamp[64];

    gmtime_r(&ts->tv_sec, &tm);
    int n =
        snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec);
    out_add(o, "{\"log\":\"", 8);
    add_escaped(o, line, len);
    if (stream == SHIM_STDERR)
        out_add(o, "\",\"stream\":\"stderr\",\"time\":\"", 28);
    else
        out_add(o, "\",\"stream\":\"stdout\",\"time\":\"", 28);
    out_add(o, stamp, (size_t)n);
    out_add(o, "\"}\n", 3);
}

char *
shim_log_format(int stream, const char *line, size_t len, const struct timespec *ts,
                size_t *out_len)
{
    struct out o = {0};

    add_record(&o, stream, line, len, ts);
    out_add(&o, "", 1);
    *out_len = o.len - 1;
    return o.buf;
}

/* ---- The file ---------------------------------------------------------------------------- */

static int
open_file(struct shim_log *log, struct berth_err *err)
{
    struct stat st;
    int fd = open(log->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);

    if (fd < 0)
        return berth_err_set(err, errno, "open log `%s`", log->path);
    if (fstat(fd, &st) < 0) {
        int saved = errno;
        close(fd);
        return berth_err_set(err, saved, "stat log `%s`", log->path);
    }
    log->fd = fd;
    log->size = st.st_size;
    return 0;
}

/* Shift path.N-1 -> path.N, ..., path -> path.1 and start a new file. */
static void
rotate(struct shim_log *log)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;

    if (log->max_files <= 1) {
        if (ftruncate(log->fd, 0) < 0)
            berth_warn("truncate log `%s`: %s", log->path, strerror(errno));
        log->size = 0;
        return;
    }
    for (int i = log->max_files - 1; i >= 1; i--) {
        cleanup_free char *from =
            i == 1 ? xstrdup(log->path) : xasprintf("%s.%d", log->path, i - 1);
        cleanup_free char *to = xasprintf("%s.%d", log->path, i);
        if (rename(from, to) < 0 && errno != ENOENT)
            berth_warn("rotate log: rename `%s`: %s", from, strerror(errno));
    }
    close(log->fd);
    log->fd = -1;
    if (open_file(log, &err) < 0)
        berth_err_warn(&err);
}

static void
write_out(struct shim_log *log, const struct out *o)
{
    if (o->len == 0)
        return;
    if (log->max_size > 0 && log->size >= log->max_size)
        rotate(log);
    if (log->fd < 0)
        return;

    const char *p = o->buf;
    size_t left = o->len;
    int64_t start = log->size;
    while (left > 0) {
        ssize_t n = write(log->fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            /* A full disk takes part of a write: cut the file back to its last whole record,
             * or the next record would be glued to half a line and the log unreadable. */
            if (log->size != start && ftruncate(log->fd, (off_t)start) == 0)
                log->size = start;
            if (!log->failing)
                berth_warn("write log `%s`: %s (output is dropped until writes work again)",
                           log->path, strerror(saved));
            log->failing = true;
            return;
        }
        p += n;
        left -= (size_t)n;
        log->size += n;
    }
    if (log->failing)
        berth_info("log `%s` is written again", log->path);
    log->failing = false;
}

struct shim_log *
shim_log_open(const char *path, int64_t max_size, int max_files, struct berth_err *err)
{
    struct shim_log *log = xzalloc(sizeof(*log));

    log->path = xstrdup(path);
    log->fd = -1;
    log->max_size = max_size;
    log->max_files = max_files;
    const char *slash = strrchr(path, '/');
    if (slash && slash != path) {
        cleanup_free char *dir = xstrndup(path, (size_t)(slash - path));
        if (berth_fs_mkdir_p(dir, 0700, err) < 0)
            goto fail;
    }
    if (open_file(log, err) < 0)
        goto fail;
    return log;
fail:
    free(log->path);
    free(log);
    return NULL;
}

/* ---- Lines ------------------------------------------------------------------------------- */

static void
pending_add(struct log_stream *s, const char *p, size_t n, const struct timespec *now)
{
    if (s->len == 0)
        s->ts = *now;
    /* Sized to what is pending: a prompt left without \n should not pin 16 KiB. */
    s->buf = xrealloc(s->buf, (s->len + n + 255) & ~(size_t)255);
    memcpy(s->buf + s->len, p, n);
    s->len += n;
}

static void
pending_emit(struct log_stream *s, int stream, struct out *o)
{
    add_record(o, stream, s->buf, s->len, &s->ts);
    s->len = 0;
    free(s->buf);
    s->buf = NULL;
}

void
shim_log_write(struct shim_log *log, int stream, const char *buf, size_t len)
{
    struct log_stream *s = &log->streams[stream == SHIM_STDERR ? 1 : 0];
    struct out o = {0};
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    while (len > 0) {
        const char *nl = memchr(buf, '\n', len);
        size_t take = nl ? (size_t)(nl - buf) + 1 : len;
        if (s->len == 0 && nl && take <= SHIM_LOG_LINE_MAX) {
            add_record(&o, stream, buf, take, &now); /* the common case: no copy */
        } else {
            size_t room = SHIM_LOG_LINE_MAX - s->len;
            if (take > room)
                take = room;
            pending_add(s, buf, take, &now);
            if (s->buf[s->len - 1] == '\n' || s->len == SHIM_LOG_LINE_MAX)
                pending_emit(s, stream, &o);
        }
        buf += take;
        len -= take;
        /* The records that fill the file go out now, so that the next ones start the next
         * file: a file grows past max_size by one record at most. */
        if (log->max_size > 0 && log->size + (int64_t)o.len >= log->max_size) {
            write_out(log, &o);
            o.len = 0;
        }
    }
    write_out(log, &o);
    free(o.buf);
}

void
shim_log_flush(struct shim_log *log)
{
    struct out o = {0};

    for (int i = 0; i < 2; i++)
        if (log->streams[i].len > 0)
            pending_emit(&log->streams[i], i == 0 ? SHIM_STDOUT : SHIM_STDERR, &o);
    write_out(log, &o);
    free(o.buf);
}

void
shim_log_close(struct shim_log *log)
{
    if (log == NULL)
        return;
    shim_log_flush(log);
    if (log->fd >= 0)
        close(log->fd);
    free(log->path);
    free(log);
}
