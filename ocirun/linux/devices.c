// SPDX-License-Identifier: Apache-2.0
//
// Device nodes and /dev symlinks in the container's rootfs (see devices.h). Everything is
// created relative to directories opened inside the rootfs, never through host paths.

#include "ocirun/linux/devices.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "ocirun/spec.h"

static const struct ocirun_device default_devices[] = {
    {.path = "/dev/null", .type = 'c', .major = 1, .minor = 3},
    {.path = "/dev/zero", .type = 'c', .major = 1, .minor = 5},
    {.path = "/dev/full", .type = 'c', .major = 1, .minor = 7},
    {.path = "/dev/random", .type = 'c', .major = 1, .minor = 8},
    {.path = "/dev/urandom", .type = 'c', .major = 1, .minor = 9},
    {.path = "/dev/tty", .type = 'c', .major = 5, .minor = 0},
};

static const struct {
    const char *target, *link;
} dev_links[] = {
    {"/proc/self/fd", "/dev/fd"},       {"/proc/self/fd/0", "/dev/stdin"},
    {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
    {"pts/ptmx", "/dev/ptmx"},
};

bool
ocirun_devices_dev_is_bind(const struct ocirun_spec *spec)
{
    for (size_t i = 0; i < spec->n_mounts; i++) {
        const struct ocirun_mount *m = &spec->mounts[i];
        if (strcmp(m->destination, "/dev") != 0)
            continue;
        if (m->type && strcmp(m->type, "bind") == 0)
            return true;
        for (char **o = m->options; *o; o++)
            if (strcmp(*o, "bind") == 0 || strcmp(*o, "rbind") == 0)
                return true;
    }
    return false;
}

/* Split path into its parent (opened, created as needed, inside the root) and base name. */
static int
open_parent(int rootfd, const char *path, char **base, struct berth_err *err)
{
    cleanup_free char *a = xstrdup(path), *b = xstrdup(path);
    *base = xstrdup(basename(b));
    int fd = berth_fs_mkdir_in_root(rootfd, dirname(a), false, err);
    if (fd < 0) {
        free(*base);
        *base = NULL;
    }
    return fd;
}

static int
make_device(const struct ocirun_device *d, int rootfd, bool userns, struct berth_err *err)
{
    cleanup_free char *base = NULL;
    cleanup_close int dir = open_parent(rootfd, d->path, &base, err);
    if (dir < 0)
        return berth_err_wrap(err, "device `%s`", d->path);
    mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
    mode_t perm = d->has_mode ? (d->mode & 07777) : 0666;
    struct stat st;

    /* Replace whatever the image ships at that path with the configured device. */
    if (fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
        unlinkat(dir, base, 0);

    if (userns && type != S_IFIFO) {
        /* mknod is refused in a user namespace: bind the host's node onto an empty file. */
        cleanup_close int fd = openat(dir, base, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0000);
        if (fd < 0)
            return berth_err_set(err, errno, "create `%s`", d->path);
        char target[64];
        snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
        if (mount(d->path, target, NULL, MS_BIND, NULL) < 0)
            return berth_err_set(err, errno, "bind device `%s`", d->path);
        return 0;
    }
    dev_t dev = makedev((unsigned)d->major, (unsigned)d->minor);
    if (mknodat(dir, base, type | perm, dev) < 0)
        return berth_err_set(err, errno, "mknod `%s`", d->path);
    /* mknod applies the umask; the spec's fileMode is exact. */
    if (fchmodat(dir, base, perm, 0) < 0)
        return berth_err_set(err, errno, "chmod `%s`", d->path);
    if (fchownat(dir, base, d->has_uid ? d->uid : 0, d->has_gid ? d->gid : 0, AT_SYMLINK_NOFOLLOW) <
        0)
        return berth_err_set(err, errno, "chown `%s`", d->path);
    return 0;
}

static int
make_link(int rootfd, const char *target, const char *link, struct berth_err *err)
{
    cleanup_free char *base = NULL;
    cleanup_close int dir = open_parent(rootfd, link, &base, err);
    if (dir < 0)
        return -1;
    if (symlinkat(target, dir, base) < 0 && errno != EEXIST)
        return berth_err_set(err, errno, "symlink `%s` -> `%s`", link, target);
    return 0;
}

int
ocirun_devices_setup(const struct ocirun_spec *spec, int rootfd, struct berth_err *err)
{
    bool userns = spec->ns[OCIRUN_NS_USER].wanted;
    if (!ocirun_devices_dev_is_bind(spec)) {
        for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
            bool configured = false;
            for (size_t j = 0; j < spec->n_devices; j++)
                if (strcmp(spec->devices[j].path, default_devices[i].path) == 0)
                    configured = true;
            if (!configured && make_device(&default_devices[i], rootfd, userns, err) < 0)
                return -1;
        }
        for (size_t i = 0; i < ARRAY_SIZE(dev_links); i++)
            if (make_link(rootfd, dev_links[i].target, dev_links[i].link, err) < 0)
                return -1;
        if (access("/proc/kcore", F_OK) == 0 &&
            make_link(rootfd, "/proc/kcore", "/dev/core", err) < 0)
            return -1;
    }
    for (size_t i = 0; i < spec->n_devices; i++)
        if (make_device(&spec->devices[i], rootfd, userns, err) < 0)
            return -1;
    return 0;
}
