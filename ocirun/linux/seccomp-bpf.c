// SPDX-License-Identifier: Apache-2.0
//
// Compiled, cached seccomp programs (see seccomp-bpf.h).

#include "ocirun/linux/seccomp-bpf.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/log.h"
#include "ocirun/linux/seccomp-internal.h"

/* BPF programs are at most BPF_MAXINSNS (4096) instructions of 8 bytes. */
#define MAX_PROGRAM (BPF_MAXINSNS * sizeof(struct sock_filter))

/* The cache key: what the filter depends on (libseccomp's version, the machine, the profile's
 * text). Heap string. */
static char *
cache_key(const char *profile_json)
{
    struct utsname u;
    const struct scmp_version *v = seccomp_version();
    uname(&u);
    return xasprintf("libseccomp %u.%u.%u %s\n%s", v->major, v->minor, v->micro, u.machine,
                     profile_json);
}

/* A file per key, named by a 64-bit FNV-1a of it. The file holds the key itself before the
 * program and a read compares it whole, so two keys sharing a name only cost a miss: the name
 * is a lookup, never what decides which filter is loaded. A digest library is not used: ocirun
 * links none (see ocirun/CMakeLists.txt), and json-c's string hash is seeded per process. */
static char *
cache_path(const char *dir, const char *key)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return xasprintf("%s/%016llx.bpf", dir, (unsigned long long)h);
}

/* Cache file: the key, a NUL, then the program. */
static int
read_cache(const char *path, const char *key, struct ocirun_seccomp_bpf *out)
{
    cleanup_free char *buf = NULL;
    size_t len = 0, klen = strlen(key) + 1;
    struct berth_err err = BERTH_ERR_INIT;
    if (berth_fs_read_file(path, &buf, &len, &err) < 0) {
        berth_err_clear(&err);
        return -1;
    }
    if (len <= klen || memcmp(buf, key, klen) != 0)
        return -1;
    len -= klen;
    if (len % sizeof(struct sock_filter) || len > MAX_PROGRAM)
        return -1;
    out->insns = xmalloc(len);
    memcpy(out->insns, buf + klen, len);
    out->len = len / sizeof(struct sock_filter);
    return 0;
}

static void
write_cache(const char *dir, const char *path, const char *key, const struct ocirun_seccomp_bpf *b)
{
    struct berth_err e = BERTH_ERR_INIT;
    size_t klen = strlen(key) + 1, plen = b->len * sizeof(struct sock_filter);
    cleanup_free char *buf = xmalloc(klen + plen);
    memcpy(buf, key, klen);
    memcpy(buf + klen, b->insns, plen);
    if (berth_fs_mkdir_p(dir, 0700, &e) < 0 ||
        berth_fs_write_atomic(path, buf, klen + plen, 0600, &e) < 0) {
        berth_debug("seccomp: filter not cached: %s", e.msg);
        berth_err_clear(&e);
    }
}

/* libseccomp 2.5 exports only to an fd: a memfd holds the program while we read it back. */
static int export(scmp_filter_ctx ctx, struct ocirun_seccomp_bpf *out, struct berth_err *err)
{
    cleanup_close int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
    if (fd < 0)
        return berth_err_set(err, errno, "memfd_create");
    int r = seccomp_export_bpf(ctx, fd);
    if (r < 0)
        return berth_err_set(err, -r, "seccomp: export filter");
    off_t len = lseek(fd, 0, SEEK_END);
    if (len <= 0 || len % sizeof(struct sock_filter) || (size_t)len > MAX_PROGRAM)
        return berth_err_fail(err, E2BIG, "seccomp: compiled filter has a bad size (%lld bytes)",
                              (long long)len);
    char *buf = xmalloc(len);
    if (pread(fd, buf, len, 0) != len) {
        free(buf);
        return berth_err_set(err, errno, "seccomp: read compiled filter");
    }
    out->insns = (struct sock_filter *)buf;
    out->len = len / sizeof(struct sock_filter);
    return 0;
}

int
ocirun_seccomp_compile(const struct ocirun_seccomp *s, const char *profile_json,
                       const char *cache_dir, struct ocirun_seccomp_bpf *out, struct berth_err *err)
{
    memset(out, 0, sizeof(*out));
    out->flags = ocirun_seccomp_kernel_flags(s);
    cleanup_free char *key = cache_key(profile_json);
    cleanup_free char *path = cache_dir ? cache_path(cache_dir, key) : NULL;
    if (path && read_cache(path, key, out) == 0)
        return 0;

    cleanup_scmp scmp_filter_ctx ctx = NULL;
    if (ocirun_seccomp_build(s, &ctx, err) < 0 || export(ctx, out, err) < 0)
        return -1;
    if (path)
        write_cache(cache_dir, path, key, out);
    return 0;
}

int
ocirun_seccomp_load_bpf(const struct ocirun_seccomp_bpf *b, struct berth_err *err)
{
    struct sock_fprog prog = {.len = (unsigned short)b->len, .filter = b->insns};
    long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, b->flags, &prog);
    if (r < 0)
        return berth_err_set(err, errno, "seccomp: load filter");
    return (int)r;
}

void
ocirun_seccomp_bpf_free(struct ocirun_seccomp_bpf *b)
{
    free(b->insns);
    memset(b, 0, sizeof(*b));
}
