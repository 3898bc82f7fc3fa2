/* SPDX-License-Identifier: Apache-2.0
 *
 * Logging with levels, one line per event, to stderr or to a file, as text or as JSON
 * (one object a line: {"level":..,"msg":..,"time":..}, the shape runc writes with
 * --log-format json, which containerd's shim reads back). Functions, not macros; never call
 * from a signal handler.
 */
#ifndef BERTH_COMMON_LOG_H
#define BERTH_COMMON_LOG_H

#include <stdbool.h>
#include <stdarg.h>

enum berth_log_level {
    BERTH_LOG_ERROR = 0,
    BERTH_LOG_WARN,
    BERTH_LOG_INFO,
    BERTH_LOG_DEBUG,
    BERTH_LOG_TRACE,
};

enum berth_log_format {
    BERTH_LOG_TEXT = 0,
    BERTH_LOG_JSON,
};

/* Configure the process-wide logger (set once by main, before any thread starts).
 * tag: component name printed on text lines ("ocirun", "supervisor").
 * path: NULL for stderr, else a file opened O_APPEND|O_CLOEXEC. Returns -1 and fills err if the
 * file cannot be opened. */
struct berth_err;
int berth_log_init(const char *tag, const char *path, enum berth_log_format format,
                   enum berth_log_level level, struct berth_err *err);

/* Level and format names ("debug", "json") to values; -1 when unknown. */
int berth_log_level_parse(const char *name);
int berth_log_format_parse(const char *name);

void berth_log_set_level(enum berth_log_level level);
bool berth_log_enabled(enum berth_log_level level);
/* The fd log lines go to (stderr's 2 when no file was set); children may inherit it. */
int berth_log_fd(void);

void berth_log(enum berth_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void berth_logv(enum berth_log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
void berth_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void berth_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void berth_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void berth_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void berth_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Release the log file (if any). */
void berth_log_close(void);

#endif
