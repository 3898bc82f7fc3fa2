/* SPDX-License-Identifier: Apache-2.0
 *
 * The shim's event loop: one epoll set, fd callbacks, one-shot timers, signals through a
 * signalfd, and frees deferred to the end of a pass. Single-threaded; callbacks run one at a
 * time and may add, change or remove any fd or timer, their own included.
 */
#ifndef BERTH_SHIM_LOOP_H
#define BERTH_SHIM_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct berth_err;
struct shim_loop;

/* events: EPOLLIN / EPOLLOUT / EPOLLHUP / EPOLLERR as epoll reported them. */
typedef void (*shim_fd_fn)(struct shim_loop *loop, int fd, uint32_t events, void *data);
typedef void (*shim_timer_fn)(struct shim_loop *loop, void *data);
typedef void (*shim_signal_fn)(struct shim_loop *loop, int signo, void *data);
typedef void (*shim_free_fn)(void *data);

/* A new loop (fails only if epoll_create1 does). Free with shim_loop_free. */
struct shim_loop *shim_loop_new(struct berth_err *err);
/* Close the epoll and signal fds, drop timers, run pending deferred frees. The fds the
 * callers registered are theirs to close. */
void shim_loop_free(struct shim_loop *loop);

/* Watch fd for events (EPOLLIN, EPOLLOUT; level-triggered). An fd is registered once. */
int shim_loop_add(struct shim_loop *loop, int fd, uint32_t events, shim_fd_fn fn, void *data,
                  struct berth_err *err);
/* Change the events watched on a registered fd. */
int shim_loop_mod(struct shim_loop *loop, int fd, uint32_t events, struct berth_err *err);
/* Stop watching fd (before the caller closes it). Events already collected for it in the
 * current pass are dropped. Unknown fds are ignored. */
void shim_loop_del(struct shim_loop *loop, int fd);

/* Call fn once after ms milliseconds. Returns an id (> 0) for shim_loop_timer_cancel. */
uint64_t shim_loop_timer(struct shim_loop *loop, unsigned ms, shim_timer_fn fn, void *data);
/* Cancel a timer that has not fired; unknown or fired ids are ignored. */
void shim_loop_timer_cancel(struct shim_loop *loop, uint64_t id);

/* Block the signals of set and deliver them through a signalfd to fn. Once per loop. */
int shim_loop_signals(struct shim_loop *loop, const sigset_t *set, shim_signal_fn fn, void *data,
                      struct berth_err *err);

/* Run fn(data) at the end of the current pass, when no callback of this pass can still hold
 * data (Redis's freeClientAsync): for objects whose own callback is on the stack. */
void shim_loop_defer(struct shim_loop *loop, shim_free_fn fn, void *data);

/* Return the heap's free pages to the kernel (malloc_trim) at the end of the current pass,
 * after the deferred frees: after work that allocated much and freed it. */
void shim_loop_trim(struct shim_loop *loop);

/* Run until shim_loop_stop; -1 with err if epoll_wait fails. */
int shim_loop_run(struct shim_loop *loop, struct berth_err *err);
void shim_loop_stop(struct shim_loop *loop);

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t shim_loop_now_ms(void);

#endif
