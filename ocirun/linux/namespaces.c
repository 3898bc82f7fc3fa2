// SPDX-License-Identifier: Apache-2.0
//
// Namespaces for a new container (see namespaces.h). Order matters: a joined user namespace
// first, so the namespaces made after it belong to it; mount last among the joins, since
// joining it changes what paths mean.

#include "ocirun/linux/namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

void
ocirun_ns_close(int fds[OCIRUN_NS_COUNT])
{
    for (int i = 0; i < OCIRUN_NS_COUNT; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
        fds[i] = -1;
    }
}

int
ocirun_ns_open(const struct ocirun_spec *spec, int fds[OCIRUN_NS_COUNT], struct berth_err *err)
{
    for (int i = 0; i < OCIRUN_NS_COUNT; i++)
        fds[i] = -1;
    for (int i = 0; i < OCIRUN_NS_COUNT; i++) {
        const char *path = spec->ns[i].path;
        if (!spec->ns[i].wanted || !path)
            continue;
        fds[i] = open(path, O_RDONLY | O_CLOEXEC);
        if (fds[i] < 0) {
            berth_err_set(err, errno, "open %s namespace `%s`", ocirun_ns_name(i), path);
            goto fail;
        }
        int type = ioctl(fds[i], NS_GET_NSTYPE);
        if (type < 0 || type != ocirun_ns_flag(i)) {
            berth_err_fail(err, EINVAL, "`%s` is not a %s namespace", path, ocirun_ns_name(i));
            goto fail;
        }
    }
    return 0;
fail:
    ocirun_ns_close(fds);
    return -1;
}

static int
new_flags(const struct ocirun_spec *spec)
{
    int flags = 0;
    for (int i = 0; i < OCIRUN_NS_COUNT; i++)
        if (spec->ns[i].wanted && !spec->ns[i].path && i != OCIRUN_NS_CGROUP && i != OCIRUN_NS_TIME)
            flags |= ocirun_ns_flag(i);
    return flags;
}

int
ocirun_ns_clone_flags(const struct ocirun_spec *spec)
{
    int flags = new_flags(spec);
    if (spec->ns[OCIRUN_NS_USER].path)
        return flags & CLONE_NEWPID;
    return flags;
}

int
ocirun_ns_unshare_flags(const struct ocirun_spec *spec)
{
    if (!spec->ns[OCIRUN_NS_USER].path)
        return 0;
    return new_flags(spec) & ~CLONE_NEWPID;
}

int
ocirun_ns_prepare_parent(const struct ocirun_spec *spec, const int fds[OCIRUN_NS_COUNT],
                         struct berth_err *err)
{
    if (fds[OCIRUN_NS_PID] >= 0 && setns(fds[OCIRUN_NS_PID], CLONE_NEWPID) < 0)
        return berth_err_set(err, errno, "join pid namespace `%s`", spec->ns[OCIRUN_NS_PID].path);
    if (fds[OCIRUN_NS_TIME] >= 0 && setns(fds[OCIRUN_NS_TIME], CLONE_NEWTIME) < 0)
        return berth_err_set(err, errno, "join time namespace `%s`", spec->ns[OCIRUN_NS_TIME].path);
    if (spec->ns[OCIRUN_NS_TIME].wanted && !spec->ns[OCIRUN_NS_TIME].path) {
        if (unshare(CLONE_NEWTIME) < 0)
            return berth_err_set(err, errno, "create time namespace");
        /* Offsets can only be written before any process lives in the namespace. */
        if (spec->has_time_offsets) {
            char buf[128];
            int n =
                snprintf(buf, sizeof(buf), "monotonic %lld %lld\nboottime %lld %lld\n",
                         (long long)spec->time_offsets[0][0], (long long)spec->time_offsets[0][1],
                         (long long)spec->time_offsets[1][0], (long long)spec->time_offsets[1][1]);
            cleanup_close int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
            if (fd < 0 || write(fd, buf, n) != n)
                return berth_err_set(err, errno, "write time namespace offsets");
        }
    } else if (spec->has_time_offsets) {
        return berth_err_fail(err, EINVAL, "timeOffsets need a new time namespace");
    }
    return 0;
}

static int
write_map(pid_t pid, const char *file, const struct ocirun_id_map *m, size_t n,
          struct berth_err *err)
{
    char path[64];
    size_t cap = 64 * n + 1, len = 0;
    cleanup_free char *buf = xmalloc(cap);
    for (size_t i = 0; i < n; i++)
        len += snprintf(buf + len, cap - len, "%u %u %u\n", m[i].container_id, m[i].host_id,
                        m[i].size);
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
    cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return berth_err_set(err, errno, "open `%s`", path);
    /* The kernel takes the whole map in a single write or not at all. */
    if (write(fd, buf, len) != (ssize_t)len)
        return berth_err_set(err, errno, "write %s `%.*s`", file, (int)strcspn(buf, "\n"), buf);
    return 0;
}

int
ocirun_ns_write_maps(const struct ocirun_spec *spec, pid_t pid, struct berth_err *err)
{
    if (!spec->ns[OCIRUN_NS_USER].wanted || spec->ns[OCIRUN_NS_USER].path)
        return 0;
    /* An unprivileged writer may map its own gid only once setgroups is denied in the
     * namespace (the kernel's guard against dropping groups used to deny access). */
    if (geteuid() != 0) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
        cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "deny", 4) != 4)
            return berth_err_set(err, errno, "user namespace: deny setgroups");
    }
    if (write_map(pid, "uid_map", spec->uid_mappings, spec->n_uid_mappings, err) < 0 ||
        write_map(pid, "gid_map", spec->gid_mappings, spec->n_gid_mappings, err) < 0)
        return berth_err_wrap(err, "user namespace");
    return 0;
}

int
ocirun_ns_join(const int fds[OCIRUN_NS_COUNT], struct berth_err *err)
{
    static const enum ocirun_ns order[] = {OCIRUN_NS_USER, OCIRUN_NS_NET,    OCIRUN_NS_IPC,
                                           OCIRUN_NS_UTS,  OCIRUN_NS_CGROUP, OCIRUN_NS_MNT};
    for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
        int fd = fds[order[i]];
        if (fd >= 0 && setns(fd, ocirun_ns_flag(order[i])) < 0)
            return berth_err_set(err, errno, "join %s namespace", ocirun_ns_name(order[i]));
    }
    return 0;
}
