/* SPDX-License-Identifier: Apache-2.0
 *
 * The shim's context: one per shim process, made by main and passed to every part (no
 * globals). It serves exactly one container, ID in namespace NS, whose bundle directory DIR is
 * also the shim's state directory:
 *
 *   DIR/config.json            the bundle (the supervisor's)
 *   DIR/shim.sock, shim.pid    the control socket and the daemon's pid
 *   DIR/shim.log               the shim's own log (logfmt), runtime.log the runtime's
 *   DIR/init.pid, <exec>.pid   pid files the runtime writes
 *   DIR/<exec>.process.json    an exec's process spec
 *   DIR/init.attach.sock, <exec>.attach.sock
 *   DIR/exit/init, exit/<exec> exit records
 */
#ifndef BERTH_SHIM_SHIM_H
#define BERTH_SHIM_SHIM_H

#include <stdbool.h>

#include "shim/exit.h"
#include "shim/runtime.h"

struct shim_loop;
struct shim_server;
struct shim_process;

struct shim {
    const char *ns;
    const char *id;
    const char *dir; /* absolute */
    struct shim_runtime rt;
    struct shim_loop *loop;
    struct shim_server *server;
    struct shim_process *procs; /* the init first, once created; then execs */
    struct shim_exits exits;
    bool exiting; /* stop once the replies are out: Delete(init), or a failed Create */
};

#endif
