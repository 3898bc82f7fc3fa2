/* SPDX-License-Identifier: Apache-2.0
 *
 * A seccomp profile compiled to classic BPF once, in ocirun (not in the container's init),
 * and cached: turning a docker-sized profile into a filter with libseccomp costs tens of
 * milliseconds of CPU, and the same profile is used container after container. The cache is a
 * file per profile under <state root>/.seccomp/, keyed by the profile text, the libseccomp
 * version and the machine (the whole key is stored and compared), and written atomically. The init
 * then installs the ready program with the seccomp() syscall, after cloning, with no libseccomp
 * work left.
 */
#ifndef BERTH_OCIRUN_LINUX_SECCOMP_BPF_H
#define BERTH_OCIRUN_LINUX_SECCOMP_BPF_H

#include <stddef.h>

struct berth_err;
struct ocirun_seccomp;
struct sock_filter;

struct ocirun_seccomp_bpf {
    struct sock_filter *insns; /* heap */
    size_t len;                /* instructions */
    unsigned int flags;        /* SECCOMP_FILTER_FLAG_* for the seccomp() syscall */
};

/* Compile s (whose JSON text is profile_json) into out, from the cache in cache_dir when it
 * has it, else with libseccomp, storing the result there. cache_dir may be NULL (no cache); a
 * cache that can't be written is only a debug message. */
int ocirun_seccomp_compile(const struct ocirun_seccomp *s, const char *profile_json,
                           const char *cache_dir, struct ocirun_seccomp_bpf *out,
                           struct berth_err *err);

/* Install the program in the calling process. Returns 0, or the new notify fd (> 0) when the
 * profile has SCMP_ACT_NOTIFY rules, or -1 with err. */
int ocirun_seccomp_load_bpf(const struct ocirun_seccomp_bpf *b, struct berth_err *err);

void ocirun_seccomp_bpf_free(struct ocirun_seccomp_bpf *b);

#endif
