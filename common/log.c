/* SPDX-License-Identifier: Apache-2.0
 *
 * The process-wide logger (log.h). Each event becomes one line, formatted in full in memory and
 * handed to a single write(2), so lines from threads, or from several processes sharing one
 * O_APPEND log file (ocirun and its children, a shim and the runtime it starts), never
 * interleave. JSON lines are built with json-c, so any message is escaped correctly.
 *
 * The configuration below is the one mutable global berth allows: main sets it once with
 * berth_log_init before starting threads; afterwards only the level may change, atomically.
 */
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/error.h"

static struct {
    char *tag; /* NULL until init: "berth" is printed */
    int fd;    /* STDERR_FILENO, or the log file when own_fd */
    bool own_fd;
    enum berth_log_format format;
    int level; /* read and written with __atomic: berth_log_set_level may race a writer */
} config = {NULL, STDERR_FILENO, false, BERTH_LOG_TEXT, BERTH_LOG_INFO};

/* Indexed by enum berth_log_level. JSON uses logrus's names ("warning"), which is what runc
 * writes and what containerd parses back; text lines use short upper-case words. */
static const struct {
    const char *name;
    const char *text;
} levels[] = {
    [BERTH_LOG_ERROR] = {"error", "ERROR"}, [BERTH_LOG_WARN] = {"warning", "WARN"},
    [BERTH_LOG_INFO] = {"info", "INFO"},    [BERTH_LOG_DEBUG] = {"debug", "DEBUG"},
    [BERTH_LOG_TRACE] = {"trace", "TRACE"},
};

int
berth_log_init(const char *tag, const char *path, enum berth_log_format format,
               enum berth_log_level level, struct berth_err *err)
{
    int fd = STDERR_FILENO;

    if (path != NULL) {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0)
            return berth_err_set(err, errno, "open log file `%s`", path);
    }
    berth_log_close();
    config.tag = tag ? xstrdup(tag) : NULL;
    config.fd = fd;
    config.own_fd = path != NULL;
    config.format = format;
    berth_log_set_level(level);
    return 0;
}

int
berth_log_level_parse(const char *name)
{
    if (name == NULL)
        return -1;
    if (strcasecmp(name, "warn") == 0)
        return BERTH_LOG_WARN;
    for (size_t i = 0; i < ARRAY_SIZE(levels); i++)
        if (strcasecmp(name, levels[i].name) == 0)
            return (int)i;
    return -1;
}

int
berth_log_format_parse(const char *name)
{
    if (name == NULL)
        return -1;
    if (strcasecmp(name, "text") == 0)
        return BERTH_LOG_TEXT;
    if (strcasecmp(name, "json") == 0)
        return BERTH_LOG_JSON;
    return -1;
}

void
berth_log_set_level(enum berth_log_level level)
{
    __atomic_store_n(&config.level, (int)level, __ATOMIC_RELAXED);
}

bool
berth_log_enabled(enum berth_log_level level)
{
    return (int)level <= __atomic_load_n(&config.level, __ATOMIC_RELAXED);
}

int
berth_log_fd(void)
{
    return config.fd;
}

void
berth_log_close(void)
{
    if (config.own_fd)
        close(config.fd);
    config.fd = STDERR_FILENO;
    config.own_fd = false;
    free(config.tag);
    config.tag = NULL;
}

/* Write all of buf, retrying on EINTR. A short write to a pipe or file is finished off rather
 * than dropped; only then could a line be split, which the one-write design otherwise avoids. */
static void
write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* nowhere left to report a failing log */
        buf += n;
        len -= (size_t)n;
    }
}

/* RFC 3339 UTC time: milliseconds for text lines, nanoseconds (RFC3339Nano, as runc) for JSON. */
static void
format_time(char *buf, size_t size, bool nanos)
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    if (nanos)
        snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
    else
        snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

static char *
format_json(enum berth_log_level level, const char *msg, const char *stamp)
{
    struct json_object *o = json_object_new_object();

    json_object_object_add(o, "level", json_object_new_string(levels[level].name));
    json_object_object_add(o, "msg", json_object_new_string(msg));
    json_object_object_add(o, "time", json_object_new_string(stamp));
    char *line = xasprintf("%s\n", json_object_to_json_string_ext(
                                       o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return line;
}

/* logfmt, the key=value shape of logrus's text output (what runc writes without
 * --log-format json): time="..." level=error tag=ocirun msg="...". */
static char *
format_text(enum berth_log_level level, const char *msg, const char *stamp)
{
    size_t n = strlen(msg);
    cleanup_free char *q = xmalloc(2 * n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (msg[i] == '\n') {
            q[j++] = '\\';
            q[j++] = 'n';
            continue;
        }
        if (msg[i] == '"' || msg[i] == '\\')
            q[j++] = '\\';
        q[j++] = msg[i];
    }
    q[j] = '\0';
    return xasprintf("time=\"%s\" level=%s tag=%s msg=\"%s\"\n", stamp, levels[level].name,
                     config.tag ? config.tag : "berth", q);
}

void
berth_logv(enum berth_log_level level, const char *fmt, va_list ap)
{
    cleanup_free char *msg = NULL;
    cleanup_free char *line = NULL;
    char stamp[64];
    int saved = errno; /* callers may log between a failure and reading errno */

    if ((unsigned)level >= ARRAY_SIZE(levels) || !berth_log_enabled(level))
        return;
    if (vasprintf(&msg, fmt, ap) < 0) {
        msg = NULL;
        errno = saved;
        return;
    }
    /* One event, one line: a trailing newline in the message would add an empty one. */
    size_t len = strlen(msg);
    while (len > 0 && msg[len - 1] == '\n')
        msg[--len] = '\0';

    format_time(stamp, sizeof(stamp), config.format == BERTH_LOG_JSON);
    if (config.format == BERTH_LOG_JSON)
        line = format_json(level, msg, stamp);
    else
        line = format_text(level, msg, stamp);
    write_all(config.fd, line, strlen(line));
    errno = saved;
}

void
berth_log(enum berth_log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    berth_logv(level, fmt, ap);
    va_end(ap);
}

void
berth_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    berth_logv(BERTH_LOG_ERROR, fmt, ap);
    va_end(ap);
}

void
berth_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    berth_logv(BERTH_LOG_WARN, fmt, ap);
    va_end(ap);
}

void
berth_info(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    berth_logv(BERTH_LOG_INFO, fmt, ap);
    va_end(ap);
}

void
berth_debug(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    berth_logv(BERTH_LOG_DEBUG, fmt, ap);
    va_end(ap);
}

void
berth_trace(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    berth_logv(BERTH_LOG_TRACE, fmt, ap);
    va_end(ap);
}
