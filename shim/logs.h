/* SPDX-License-Identifier: Apache-2.0
 *
 * The container's log in docker's json-file format, written by the shim itself so that no
 * line depends on a daemon being up.
 */
#ifndef BERTH_SHIM_LOGS_H
#define BERTH_SHIM_LOGS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct berth_err;
struct shim_log;

/* Streams, as in the attach protocol. */
#define SHIM_STDOUT 1
#define SHIM_STDERR 2

/* Docker cuts lines longer than this into several records, none but the last ending in \n. */
#define SHIM_LOG_LINE_MAX (16u << 10)

/* Open (create, append to) the log at path; its directory is created if missing. max_size > 0
 * turns rotation on: before a record is written to a file already max_size bytes or more, the
 * files shift (path.N-1 -> path.N ... path -> path.1) so that max_files files remain in all
 * (max_files <= 1: the file is truncated instead). */
struct shim_log *shim_log_open(const char *path, int64_t max_size, int max_files,
                               struct berth_err *err);

/* Add output of stream (SHIM_STDOUT or SHIM_STDERR). Each complete line becomes a record
 * {"log":"<line>\n","stream":"stdout","time":"<RFC 3339, ns, UTC>"}; the rest waits for more
 * (up to SHIM_LOG_LINE_MAX, then it is written as a record without \n). A record's time is
 * when its first byte arrived. Write errors are logged (once until writes work again), never
 * returned: output keeps flowing to the other sinks. */
void shim_log_write(struct shim_log *log, int stream, const char *buf, size_t len);

/* Write the partial lines of every stream as records without \n (the process exited). */
void shim_log_flush(struct shim_log *log);

/* Flush and close; NULL is fine. */
void shim_log_close(struct shim_log *log);

/* Format a record into a heap buffer, for tests: *len set. */
char *shim_log_format(int stream, const char *line, size_t len, const struct timespec *ts,
                      size_t *out_len);

#endif
