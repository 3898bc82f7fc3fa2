/* SPDX-License-Identifier: Apache-2.0
 *
 * berth-ctr's side of a process's stdio: the fifos it names in a task's IO, the local
 * terminal in raw mode, signals turned into bytes on a pipe for a poll loop, and the framing
 * of the shim's attach socket.
 */
#ifndef BERTH_SUPERVISOR_CTR_IO_H
#define BERTH_SUPERVISOR_CTR_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

struct berth_err;

/* ---------------------------------------------------------------- fifos */

/* The fifos of one attached process, in a new private directory. The client's ends are open
 * before the paths go to Tasks.Create or Tasks.Exec, so the shim's opens never block:
 * stdin_fd is O_RDWR (the shim's reader finds a writer, and the client writes the user's
 * input into it and closes it at EOF), stdout_fd and stderr_fd are O_RDONLY. All three are
 * O_NONBLOCK, for a poll loop. */
struct ctr_fifos {
    char *dir;
    char *stdin_path, *stdout_path, *stderr_path; /* stderr_path NULL with a terminal */
    int stdin_fd, stdout_fd, stderr_fd;
};
#define CTR_FIFOS_INIT                                                                             \
    {                                                                                              \
        NULL, NULL, NULL, NULL, -1, -1, -1                                                         \
    }

/* Make the directory (mkdtemp under /run/berth/ctr-fifo, else $XDG_RUNTIME_DIR, else /tmp;
 * the name starts with id) and the fifos, and open them. With a terminal there is no stderr
 * (the pty merges it into stdout). On failure nothing is left behind. */
int ctr_fifos_open(struct ctr_fifos *f, const char *id, bool terminal, struct berth_err *err);

/* Close whatever is still open and remove the directory. Safe on CTR_FIFOS_INIT. */
void ctr_fifos_close(struct ctr_fifos *f);

/* ---------------------------------------------------------------- terminal */

struct ctr_tty {
    int fd; /* -1: nothing to restore */
    struct termios saved;
};
#define CTR_TTY_INIT                                                                               \
    {                                                                                              \
        -1,                                                                                        \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }

/* Put fd in raw mode when it is a terminal (no-op otherwise), saving its settings. */
int ctr_tty_raw(struct ctr_tty *t, int fd, struct berth_err *err);

/* Restore the saved settings, once. */
void ctr_tty_restore(struct ctr_tty *t);

static inline void
ctr_tty_restorep(struct ctr_tty *t)
{
    ctr_tty_restore(t);
}
#define cleanup_tty __attribute__((cleanup(ctr_tty_restorep)))

/* The local window size, from stdin or else stdout; false when neither is a terminal or the
 * terminal has no size. */
bool ctr_tty_size(uint32_t *width, uint32_t *height);

/* ---------------------------------------------------------------- signals */

/* Deliver sigs (n of them) as bytes on a pipe: returns its read end (O_NONBLOCK) or -1 with
 * err. Handlers are process-wide and installed with SA_RESTART, so any thread may take the
 * signal (gRPC's threads included). One set at a time. */
int ctr_signals_open(const int *sigs, size_t n, struct berth_err *err);

/* The next signal waiting on the pipe, or 0 when none is. */
int ctr_signals_next(int fd);

/* Put the default dispositions back and close the pipe. */
void ctr_signals_close(int fd, const int *sigs, size_t n);

/* ---------------------------------------------------------------- attach socket framing */

/* Both directions carry frames of an 8-byte header [stream, 0, 0, 0, size as big-endian
 * u32] and size bytes of payload. From the server: stdout, stderr, and one exit frame
 * (payload: the exit status, big-endian u32) after which it closes. From the client: stdin
 * bytes; a stdin frame of size 0 closes the process's stdin. */
enum ctr_attach_stream {
    CTR_ATTACH_STDIN = 0,
    CTR_ATTACH_STDOUT = 1,
    CTR_ATTACH_STDERR = 2,
    CTR_ATTACH_EXIT = 3,
};
#define CTR_ATTACH_HEADER_LEN 8

/* Send one frame (blocking). -1 with err on a write error. */
int ctr_attach_send(int fd, uint8_t stream, const void *data, size_t len, struct berth_err *err);

/* Incremental decoder of the server's frames: bytes go in as they arrive, in any pieces;
 * payload comes out as it is decoded. */
struct ctr_frame_reader {
    uint8_t header[CTR_ATTACH_HEADER_LEN];
    size_t header_len;
    uint32_t left; /* payload bytes of the current frame still to come */
    uint8_t status[4];
    size_t status_len;
    bool exited; /* the exit frame is complete */
    uint32_t exit_status;
};

/* Called for each piece of stdout or stderr payload (frames of other streams are skipped).
 * Returning -1 (with err) stops the decoding. */
typedef int (*ctr_frame_out_fn)(void *ctx, uint8_t stream, const uint8_t *data, size_t len,
                                struct berth_err *err);

/* Decode len bytes of buf. Returns 0, or -1 with err (an exit frame whose size is not 4,
 * bytes after the exit frame, or out's error). */
int ctr_frame_feed(struct ctr_frame_reader *r, const uint8_t *buf, size_t len, ctr_frame_out_fn out,
                   void *ctx, struct berth_err *err);

/* ---------------------------------------------------------------- misc */

/* Write all of buf to fd, waiting on a non-blocking fd, retrying on EINTR. 0 or -1 with errno
 * set. */
int ctr_write_all(int fd, const void *buf, size_t len);

#endif
