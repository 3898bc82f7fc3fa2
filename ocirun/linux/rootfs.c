// SPDX-License-Identifier: Apache-2.0
//
// Building and entering the container's root filesystem (the steps are listed in rootfs.h).

#include "ocirun/linux/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "ocirun/linux/devices.h"
#include "ocirun/linux/idmap.h"
#include "ocirun/linux/mounts.h"
#include "ocirun/linux/sysctl.h"
#include "ocirun/spec.h"

static unsigned long
propagation_flags(const char *name)
{
    static const struct {
        const char *name;
        unsigned long flags;
    } t[] = {
        {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
        {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
        {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
        {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
    };
    for (size_t i = 0; name && i < ARRAY_SIZE(t); i++)
        if (strcmp(t[i].name, name) == 0)
            return t[i].flags;
    return MS_SLAVE | MS_REC;
}

int
ocirun_rootfs_prepare(const struct ocirun_spec *spec, const int *idmap_fds, struct berth_err *err)
{
    /* Nothing mounted below may reach the host. A shared rootfsPropagation is applied to the
     * new root later; the host side still only sees it as a slave of itself. */
    unsigned long prop = propagation_flags(spec->rootfs_propagation);
    if (prop & MS_SHARED)
        prop = MS_SLAVE | MS_REC;
    if (mount(NULL, "/", NULL, prop | MS_REC, NULL) < 0)
        return berth_err_set(err, errno, "make / %s",
                             spec->rootfs_propagation ? spec->rootfs_propagation : "rslave");
    if (mount(spec->root_path, spec->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
        return berth_err_set(err, errno, "bind rootfs `%s`", spec->root_path);
    cleanup_close int rootfd = open(spec->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return berth_err_set(err, errno, "open rootfs `%s`", spec->root_path);
    size_t n_idmap = 0;
    bool recursive;
    for (size_t i = 0; i < spec->n_mounts; i++)
        if (ocirun_mount_one(spec, rootfd, &spec->mounts[i],
                             ocirun_idmap_wanted(&spec->mounts[i], &recursive) && idmap_fds
                                 ? idmap_fds[n_idmap++]
                                 : -1,
                             err) < 0)
            return -1;
    return ocirun_devices_setup(spec, rootfd, err);
}

static int
pivot(const char *root, struct berth_err *err)
{
    cleanup_close int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    cleanup_close int newroot = open(root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (oldroot < 0 || newroot < 0)
        return berth_err_set(err, errno, "open `%s`", root);
    if (fchdir(newroot) < 0)
        return berth_err_set(err, errno, "chdir `%s`", root);
    /* pivot_root(".", ".") stacks the old root on top of the new one, so no directory for it
     * is needed inside the rootfs; it is then detached from where we stand. */
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        return berth_err_set(err, errno, "pivot_root `%s`", root);
    if (fchdir(oldroot) < 0)
        return berth_err_set(err, errno, "chdir to old root");
    /* Make the old root a slave first, or unmounting it would propagate to the host. */
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        return berth_err_set(err, errno, "make old root rslave");
    if (umount2(".", MNT_DETACH) < 0)
        return berth_err_set(err, errno, "detach old root");
    if (chdir("/") < 0)
        return berth_err_set(err, errno, "chdir /");
    return 0;
}

static int
no_pivot(const char *root, struct berth_err *err)
{
    if (chdir(root) < 0)
        return berth_err_set(err, errno, "chdir `%s`", root);
    if (mount(root, "/", NULL, MS_MOVE, NULL) < 0)
        return berth_err_set(err, errno, "move rootfs `%s` to /", root);
    if (chroot(".") < 0)
        return berth_err_set(err, errno, "chroot `%s`", root);
    if (chdir("/") < 0)
        return berth_err_set(err, errno, "chdir /");
    return 0;
}

static int
mask_path(const char *path, struct berth_err *err)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return berth_err_set(err, errno, "masked path `%s`", path);
    }
    if (S_ISDIR(st.st_mode)) {
        if (mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0k") < 0)
            return berth_err_set(err, errno, "mask `%s`", path);
    } else if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0) {
        return berth_err_set(err, errno, "mask `%s`", path);
    }
    return 0;
}

static int
readonly_path(const char *path, struct berth_err *err)
{
    struct statvfs sv;
    if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
        if (errno == ENOENT)
            return 0;
        return berth_err_set(err, errno, "bind readonly path `%s`", path);
    }
    unsigned long keep = 0;
    if (statvfs(path, &sv) == 0) {
        keep |= (sv.f_flag & ST_NOSUID) ? MS_NOSUID : 0;
        keep |= (sv.f_flag & ST_NODEV) ? MS_NODEV : 0;
        keep |= (sv.f_flag & ST_NOEXEC) ? MS_NOEXEC : 0;
    }
    if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | keep, NULL) < 0)
        return berth_err_set(err, errno, "make `%s` read-only", path);
    return 0;
}

int
ocirun_rootfs_chroot(const struct ocirun_spec *spec, struct berth_err *err)
{
    if (ocirun_sysctl_apply(spec->sysctl, err) < 0)
        return -1;
    if (chroot(spec->root_path) < 0)
        return berth_err_set(err, errno, "chroot `%s`", spec->root_path);
    if (chdir("/") < 0)
        return berth_err_set(err, errno, "chdir /");
    if (berth_fs_mkdir_p(spec->process.cwd, 0755, err) < 0)
        return berth_err_wrap(err, "cwd");
    return 0;
}

int
ocirun_rootfs_enter(const struct ocirun_spec *spec, bool nopivot, struct berth_err *err)
{
    if ((nopivot ? no_pivot : pivot)(spec->root_path, err) < 0)
        return -1;
    if (spec->rootfs_propagation &&
        mount(NULL, "/", NULL, propagation_flags(spec->rootfs_propagation), NULL) < 0)
        return berth_err_set(err, errno, "set rootfs propagation `%s`", spec->rootfs_propagation);
    if (ocirun_sysctl_apply(spec->sysctl, err) < 0)
        return -1;
    for (char **p = spec->masked_paths; p && *p; p++)
        if (mask_path(*p, err) < 0)
            return -1;
    for (char **p = spec->readonly_paths; p && *p; p++)
        if (readonly_path(*p, err) < 0)
            return -1;
    /* A missing cwd is created, as runc does, while still root and before / turns read-only. */
    if (berth_fs_mkdir_p(spec->process.cwd, 0755, err) < 0)
        return berth_err_wrap(err, "cwd");
    if (spec->root_readonly) {
        struct statvfs sv;
        unsigned long keep = 0;
        if (statvfs("/", &sv) == 0) {
            keep |= (sv.f_flag & ST_NOSUID) ? MS_NOSUID : 0;
            keep |= (sv.f_flag & ST_NODEV) ? MS_NODEV : 0;
            keep |= (sv.f_flag & ST_NOEXEC) ? MS_NOEXEC : 0;
        }
        if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) < 0)
            return berth_err_set(err, errno, "remount / read-only");
    }
    return 0;
}
