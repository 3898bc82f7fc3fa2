// SPDX-License-Identifier: Apache-2.0
//
// cgroup v1 backend: one directory per controller hierarchy. Only cpuset needs work before a
// task can join; resource settings come with linux.resources support.

#include "ocirun/linux/cgroup-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"

static int
read_small(const char *dir, const char *file, char *buf, size_t len)
{
    cleanup_free char *p = xasprintf("%s/%s", dir, file);
    cleanup_close int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    if (n < 0)
        return -1;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        n--;
    buf[n] = '\0';
    return 0;
}

/* A new cpuset cgroup starts with empty cpus and mems, and the kernel refuses tasks until
 * both are set; inherit them from the nearest ancestor that has them, filling the chain. */
static int
init_cpuset(const char *dir, struct berth_err *err)
{
    static const char *files[] = {"cpuset.cpus", "cpuset.mems"};
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        char buf[4096];
        if (read_small(dir, files[i], buf, sizeof(buf)) < 0)
            return 0; /* not a cpuset hierarchy after all */
        if (buf[0])
            continue;
        cleanup_free char *copy = xstrdup(dir);
        char *parent = dirname(copy);
        if (strcmp(parent, dir) == 0)
            return 0;
        if (init_cpuset(parent, err) < 0)
            return -1;
        if (read_small(parent, files[i], buf, sizeof(buf)) < 0)
            return berth_err_set(err, errno, "read `%s/%s`", parent, files[i]);
        if (ocirun_cgroup_write(dir, files[i], buf, err) < 0)
            return -1;
    }
    return 0;
}

static int
v1_prepare(const struct cgroup_hierarchy *h, const char *dir, struct berth_err *err)
{
    if (strstr(h->controllers, "cpuset"))
        return init_cpuset(dir, err);
    return 0;
}

const struct cgroup_ops ocirun_cgroup_v1_ops = {
    .name = "v1",
    .prepare = v1_prepare,
};
