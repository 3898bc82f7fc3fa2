/* SPDX-License-Identifier: Apache-2.0
 *
 * A process's stdio: what the runtime hands the process (pipes, or a pty whose master comes
 * back through the console socket), and the copies between it and the outside: the fifos a
 * client named, the json-file log (init only) and the attach clients.
 *
 * stdin: the process always gets a pipe (or the pty). The shim keeps its write end open until
 * CloseIO(stdin), an attach client's close frame, or EOF on the stdin fifo (its last writer
 * closed); input comes from the stdin fifo and from attach clients, in arrival order. A process
 * that should see EOF at once (no `-i`) needs a CloseIO(stdin) after it starts. With a
 * terminal, closing stdin only stops input: the pty stays as it is.
 *
 * stdout/stderr: read as they come and written to every sink. A fifo whose reader went away, or
 * that falls SHIM_IO_QUEUE_MAX behind, is closed and left out from then on (logged); the shim
 * never stops for a sink.
 */
#ifndef BERTH_SHIM_IO_H
#define BERTH_SHIM_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct berth_err;
struct shim_loop;
struct shim_log;
struct shim_attach;
struct shim_io;

#define SHIM_IO_QUEUE_MAX (4u << 20)

/* Make the stdio of a process: pipes when !terminal (none yet when terminal: see
 * shim_io_set_master), and open the fifos, any of which may be NULL or "". An output fifo
 * without a reader yet is opened read-write, so the open does not fail and output waits in
 * it for a reader. */
struct shim_io *shim_io_new(struct shim_loop *loop, bool terminal, const char *stdin_fifo,
                            const char *stdout_fifo, const char *stderr_fifo,
                            struct berth_err *err);

/* The fds the runtime passes to the process as 0, 1, 2 (-1 each with a terminal), and the read
 * end of its stderr pipe, where a failing runtime's message lands (-1 with a terminal). */
void shim_io_child_fds(const struct shim_io *io, int fds[3], int *err_fd);

/* Terminal: the pty master received from the runtime (ownership passes to io). */
void shim_io_set_master(struct shim_io *io, int master);

/* Sinks: borrowed, may be NULL. */
void shim_io_set_log(struct shim_io *io, struct shim_log *log);
void shim_io_set_attach(struct shim_io *io, struct shim_attach *attach);

/* The process is started: close the child's ends in the shim and start copying. */
int shim_io_start(struct shim_io *io, struct berth_err *err);

/* Bytes for the process's stdin (from an attach client). */
void shim_io_input(struct shim_io *io, const char *buf, size_t len);
/* Close the process's stdin (after what is queued for it). */
void shim_io_close_stdin(struct shim_io *io);

/* TIOCSWINSZ on the pty; EINVAL without a terminal. */
int shim_io_resize(struct shim_io *io, uint32_t width, uint32_t height, struct berth_err *err);

/* The process exited: call done(data) once its output is drained, that is when every output
 * reached EOF, or after timeout_ms (something the process left behind still holds its
 * stdout). Output still unread then is read once, without waiting; the process's stdin and
 * outputs are closed before done runs. Fifos keep being written until their queues empty. */
void shim_io_drain(struct shim_io *io, unsigned timeout_ms, void (*done)(void *data), void *data);

/* A drain is pending: finish it now (read what is there, then done). */
void shim_io_drain_now(struct shim_io *io);

/* Stop everything, close every fd. NULL is fine. */
void shim_io_free(struct shim_io *io);

#endif
