/* SPDX-License-Identifier: Apache-2.0
 *
 * Protection of the host's ocirun binary from the containers it starts (the runc
 * CVE-2019-5736 class). A process that enters a container runs ocirun's code until it execs;
 * if the container's program is /proc/self/exe (directly, or as a script interpreter), the
 * kernel would run the host binary inside the container, where /proc/<pid>/exe reopened for
 * writing after exit would overwrite it. So commands that enter containers first re-exec
 * themselves from a memfd copy sealed against writes: /proc/self/exe then names that copy,
 * which nobody can change, and the host file is never reachable from inside.
 */
#ifndef BERTH_OCIRUN_LINUX_SEALED_EXE_H
#define BERTH_OCIRUN_LINUX_SEALED_EXE_H

struct berth_err;

/* If /proc/self/exe is not already a sealed memfd, copy it into one, seal it and fexecve it
 * with the same argv and environment: on success this does not return. Returns 0 when already
 * running from the sealed copy, -1 with err on failure. */
int ocirun_sealed_exe_ensure(char **argv, struct berth_err *err);

#endif
