/* SPDX-License-Identifier: Apache-2.0
 *
 * The container process's own settings, applied in the child after the rootfs is entered:
 * rlimits, oom_score_adj, working directory, umask, groups and ids, no_new_privs, and finding
 * the executable on the container's PATH.
 */
#ifndef BERTH_OCIRUN_LINUX_PROCESS_H
#define BERTH_OCIRUN_LINUX_PROCESS_H

#include <stdint.h>

struct berth_err;
struct ocirun_process;

/* Loads the seccomp filter; see ocirun_process_setup for when it is called. */
typedef int (*ocirun_filter_fn)(void *arg, struct berth_err *err);

/* Everything that needs privilege (rlimits, oom score), the identity switch (groups, gid,
 * uid) with the capability sets around it, cwd, umask and no_new_privs; in that order.
 * load_filter (may be NULL) is called at the latest point the kernel still accepts a seccomp
 * filter: last, after no_new_privs, when the process has it; otherwise while CAP_SYS_ADMIN is
 * still effective, just before the uid switch. Everything after it runs under the filter. */
int ocirun_process_setup(const struct ocirun_process *p, ocirun_filter_fn load_filter, void *arg,
                         struct berth_err *err);

/* When env has no HOME, add the user's home from the container's /etc/passwd ("/" if the
 * uid has no entry), as runc does. Runs after pivot_root. */
void ocirun_process_default_home(char ***env, uint32_t uid);

/* Mark every fd from 3 + preserve up close-on-exec, and make 3 .. 3+preserve-1 inheritable
 * (--preserve-fds). close_range where the kernel has it, else fd by fd. */
int ocirun_process_prepare_fds(int preserve, struct berth_err *err);

/* Resolve args[0] as execvp would, with the PATH of the container's env (or a default), inside
 * the current root. Returns a heap path or NULL with err "executable file `x` not found in
 * $PATH". */
char *ocirun_process_find_exe(const struct ocirun_process *p, struct berth_err *err);

#endif
