/* SPDX-License-Identifier: Apache-2.0
 *
 * The container process's own settings, applied in the child after the rootfs is entered:
 * rlimits, oom_score_adj, working directory, umask, groups and ids, no_new_privs, and finding
 * the executable on the container's PATH.
 */
#ifndef BERTH_OCIRUN_LINUX_PROCESS_H
#define BERTH_OCIRUN_LINUX_PROCESS_H

struct berth_err;
struct ocirun_process;

/* Everything that needs privilege (rlimits, oom score, cwd creation) and the identity
 * switch (groups, gid, uid); in that order. */
int ocirun_process_setup(const struct ocirun_process *p, struct berth_err *err);

/* Resolve args[0] as execvp would, with the PATH of the container's env (or a default), inside
 * the current root. Returns a heap path or NULL with err "executable file `x` not found in
 * $PATH". */
char *ocirun_process_find_exe(const struct ocirun_process *p, struct berth_err *err);

#endif
