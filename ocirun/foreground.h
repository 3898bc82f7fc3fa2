/* SPDX-License-Identifier: Apache-2.0
 *
 * Staying in the foreground for a container process (run and exec without --detach): every
 * signal ocirun receives is forwarded to it, other children are reaped (ocirun is a
 * subreaper), and when the process has a terminal that nobody else took (no
 * --console-socket), ocirun copies between its own stdio and the pty master, with its tty in
 * raw mode and the window size following SIGWINCH.
 */
#ifndef BERTH_OCIRUN_FOREGROUND_H
#define BERTH_OCIRUN_FOREGROUND_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

struct berth_err;

/* The signals to block before starting the process (so none is lost before the loop runs):
 * all but the synchronous ones. */
void ocirun_foreground_sigset(sigset_t *set);

/* Reset every catchable signal to its default disposition. A non-interactive shell starts
 * background jobs with SIGINT and SIGQUIT ignored; ignored signals are discarded, so they
 * would neither reach the foreground loop nor, inherited through exec, the container. */
void ocirun_signals_reset(void);

/* The window size of ocirun's own terminal (stdin), for a pty it will proxy: set on the
 * container's side before the process starts, so the first thing it reads is right. Leaves
 * height/width alone when stdin is not a terminal. */
void ocirun_foreground_winsize(uint32_t *height, uint32_t *width);

/* Wait for pid, our child. master is the pty master to proxy, or -1. Expects `set` to be
 * blocked already. Returns the exit status, 128 + signal number when it was killed, or -1
 * with err if waiting itself failed. */
int ocirun_foreground_wait(pid_t pid, int master, const sigset_t *set, struct berth_err *err);

#endif
