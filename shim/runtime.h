/* SPDX-License-Identifier: Apache-2.0
 *
 * Running the OCI runtime (ocirun, or any runtime with runc's command line) and waiting for it.
 */
#ifndef BERTH_SHIM_RUNTIME_H
#define BERTH_SHIM_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>

struct berth_err;

/* How the runtime is called: `<path> --root <root> [--systemd-cgroup] [--debug] --log <log>
 * --log-format json <command...>`. Strings are borrowed. */
struct shim_runtime {
    const char *path;
    const char *root;
    const char *log; /* the runtime's own log file (warnings, and its errors in JSON) */
    bool systemd_cgroup;
    bool debug;
};

/* One call. The child gets stdio[i] as fd i where stdio[i] >= 0 (the container's stdio for
 * create and exec). Otherwise: stdin is /dev/null, or a pipe fed with input when input is
 * set; stdout is captured into *out when capture_stdout, else /dev/null; stderr is captured
 * for the error message. When stdio[2] is given, err_fd may name the read end of that pipe,
 * read (without blocking) after a failure for the message instead. */
struct shim_runtime_call {
    int stdio[3];
    int err_fd;
    const void *input;
    size_t input_len;
    bool capture_stdout;
    char *out; /* heap, NUL-terminated, set when capture_stdout; the caller frees */
    size_t out_len;
};

#define SHIM_RUNTIME_CALL_INIT                                                                     \
    {                                                                                              \
        .stdio = {-1, -1, -1}, .err_fd = -1                                                        \
    }

/* Run `<runtime> <args...>` (args NULL-terminated, args[0] the command) and wait for it, while
 * the shim's loop waits: runtime calls are short and the shim serves one request at a time.
 * Only this pid is waited for; exits of the container's processes stay pending for the
 * SIGCHLD handler. Returns 0 when the runtime exited 0. Otherwise -1 with err "ocirun create:
 * <what the runtime printed on stderr>" (the runtime's basename and the command; "exited with
 * status N" when it printed nothing), code EIO, no strerror (berth_err_fail). */
int shim_runtime_run(const struct shim_runtime *rt, const char *const *args,
                     struct shim_runtime_call *call, struct berth_err *err);

/* Free what a call captured. */
void shim_runtime_call_release(struct shim_runtime_call *call);

#endif
