/* SPDX-License-Identifier: Apache-2.0
 *
 * What seccomp.c shares with the file the build generates from contrib/seccomp/default.json
 * (cmake/embed.cmake) and with its unit tests; nothing else includes this. Unlike seccomp.h it
 * pulls in <seccomp.h>, for scmp_filter_ctx.
 */
#ifndef BERTH_OCIRUN_LINUX_SECCOMP_INTERNAL_H
#define BERTH_OCIRUN_LINUX_SECCOMP_INTERNAL_H

#include <seccomp.h>
#include <stddef.h>

#include "ocirun/linux/seccomp.h"

/* Build the libseccomp filter of profile s without loading it: default action, architectures
 * (of the host's CPU family), flags and rules. On success *out is a new context the caller
 * releases with seccomp_release; on failure -1, *out untouched, err holds the libseccomp errno
 * and the rule at fault ("seccomp: add rule for `clone`: Invalid argument"). */
int ocirun_seccomp_build(const struct ocirun_seccomp *s, scmp_filter_ctx *out,
                         struct berth_err *err);

/* The SECCOMP_FILTER_FLAG_* bits for the seccomp() syscall that install s as
 * ocirun_seccomp_load would: the profile's flags, plus NEW_LISTENER with NOTIFY rules. */
unsigned int ocirun_seccomp_kernel_flags(const struct ocirun_seccomp *s);

/* Release a libseccomp context (cleanup attribute). */
static inline void
ocirun_scmp_releasep(scmp_filter_ctx *ctx)
{
    if (*ctx)
        seccomp_release(*ctx);
}

#define cleanup_scmp __attribute__((cleanup(ocirun_scmp_releasep)))

/* contrib/seccomp/default.json, byte for byte, with a NUL after the last byte that _len does not
 * count. Defined in the generated seccomp-default.c. */
extern const char ocirun_seccomp_default_json[];
extern const size_t ocirun_seccomp_default_json_len;

#endif
