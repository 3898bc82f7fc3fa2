/* SPDX-License-Identifier: Apache-2.0
 *
 * Reading a container's json-file log (as shim/logs.c writes it) into the stream docker's
 * GET /containers/{id}/logs sends: stream selection, since / until, tail, timestamps, framed
 * or raw output, and follow across rotations. The reader knows paths, not containers: the
 * caller says where the log is and when the container stopped.
 *
 *   eng_logs_open  -> eng_logs_next ... (1: data; 0: the end) -> eng_logs_close
 */
#ifndef BERTH_ENGINE_LOGS_READER_H
#define BERTH_ENGINE_LOGS_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct berth_err;
struct eng_logs;

struct eng_logs_opts {
    bool stdout_, stderr_;      /* which streams; at least one */
    bool timestamps;            /* prefix each line with its RFC 3339 nano time and a space */
    bool follow;                /* keep reading new lines until alive() says no and all is read */
    int64_t since_ns, until_ns; /* 0: no bound; a line is kept when since <= time <= until */
    long tail; /* last N lines (of the selected streams, in since..until); -1: all */
    bool tty;  /* raw stream (no 8-byte stdcopy headers) */
};

/* Lines longer than docker's 16 KiB are stored as several records, all but the last without a
 * "\n". The reader keeps them one line: the first record's time decides since / until and is
 * the one printed with timestamps, and tail counts the line once. Records are still sent as
 * they are read, so a line of any length costs no more memory than one record. */

/* Open the log whose live file is path (rotated files path.1, path.2, ... are older). A log
 * that does not exist yet reads as empty (and, with follow, is waited for). The files are
 * opened now, so a rotation after this call loses nothing. With tail, the files are scanned
 * from their end for the start of the last N lines, reading only as far back as needed.
 * Returns 0 and *out (free with eng_logs_close), or -1 with err: EINVAL for options that
 * select nothing, errno of an unreadable file. */
int eng_logs_open(const char *path, const struct eng_logs_opts *o, struct eng_logs **out,
                  struct berth_err *err);

/* Append the next chunk of the docker log stream to *buf / *len (xrealloc'd as
 * eng_stdcopy_frame does): for !tty each record as a multiplexed frame (stream 1 stdout, 2
 * stderr), for tty the bytes alone. A chunk is about 64 KiB at most. Returns 1 with data, 0 at
 * the end, -1 with err when a file cannot be read. Without follow, the end is the end of the
 * files. With follow, at the end of what is written it waits (inotify on the directory, so a
 * rotation or a new file is seen at once, with a 200 ms poll as fallback) while alive(data) is
 * true (alive NULL: always); once alive says no, what was written by then is read and the
 * stream ends. It also ends once until has passed. Unreadable records (a line cut by a crash,
 * not JSON, no "log", a bad time) are skipped. alive is called from this thread only. */
int eng_logs_next(struct eng_logs *r, char **buf, size_t *len, bool (*alive)(void *), void *data,
                  struct berth_err *err);

/* Close the files and free r; NULL is fine. */
void eng_logs_close(struct eng_logs *r);

#endif
