// SPDX-License-Identifier: Apache-2.0
//
// One config.json mount, done safely: the destination is created and opened inside the rootfs
// with RESOLVE_IN_ROOT semantics, and the mount goes onto /proc/self/fd/N of that open
// directory, so a symlink placed in the rootfs (or swapped in meanwhile) cannot send it
// elsewhere on the host. Flags the kernel applies only on remount (ro on a bind mount) and
// propagation changes are applied afterwards, each in its own call.

#include "ocirun/linux/mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/log.h"
#include "ocirun/linux/cgroup.h"
#include "ocirun/linux/idmap.h"
#include "ocirun/spec.h"

enum opt_kind { OPT_FLAG, OPT_CLEAR, OPT_PROP, OPT_ATTR_SET, OPT_ATTR_CLR, OPT_IDMAP };

static const struct {
    const char *name;
    enum opt_kind kind;
    unsigned long value;
} opt_table[] = {
    {"defaults", OPT_FLAG, 0},
    {"ro", OPT_FLAG, MS_RDONLY},
    {"rw", OPT_CLEAR, MS_RDONLY},
    {"nosuid", OPT_FLAG, MS_NOSUID},
    {"suid", OPT_CLEAR, MS_NOSUID},
    {"nodev", OPT_FLAG, MS_NODEV},
    {"dev", OPT_CLEAR, MS_NODEV},
    {"noexec", OPT_FLAG, MS_NOEXEC},
    {"exec", OPT_CLEAR, MS_NOEXEC},
    {"sync", OPT_FLAG, MS_SYNCHRONOUS},
    {"async", OPT_CLEAR, MS_SYNCHRONOUS},
    {"dirsync", OPT_FLAG, MS_DIRSYNC},
    {"remount", OPT_FLAG, MS_REMOUNT},
    {"mand", OPT_FLAG, MS_MANDLOCK},
    {"nomand", OPT_CLEAR, MS_MANDLOCK},
    {"atime", OPT_CLEAR, MS_NOATIME},
    {"noatime", OPT_FLAG, MS_NOATIME},
    {"diratime", OPT_CLEAR, MS_NODIRATIME},
    {"nodiratime", OPT_FLAG, MS_NODIRATIME},
    {"relatime", OPT_FLAG, MS_RELATIME},
    {"norelatime", OPT_CLEAR, MS_RELATIME},
    {"strictatime", OPT_FLAG, MS_STRICTATIME},
    {"nostrictatime", OPT_CLEAR, MS_STRICTATIME},
    {"lazytime", OPT_FLAG, MS_LAZYTIME},
    {"nolazytime", OPT_CLEAR, MS_LAZYTIME},
    {"silent", OPT_FLAG, MS_SILENT},
    {"loud", OPT_CLEAR, MS_SILENT},
    {"bind", OPT_FLAG, MS_BIND},
    {"rbind", OPT_FLAG, MS_BIND | MS_REC},
    {"private", OPT_PROP, MS_PRIVATE},
    {"rprivate", OPT_PROP, MS_PRIVATE | MS_REC},
    {"shared", OPT_PROP, MS_SHARED},
    {"rshared", OPT_PROP, MS_SHARED | MS_REC},
    {"slave", OPT_PROP, MS_SLAVE},
    {"rslave", OPT_PROP, MS_SLAVE | MS_REC},
    {"unbindable", OPT_PROP, MS_UNBINDABLE},
    {"runbindable", OPT_PROP, MS_UNBINDABLE | MS_REC},
    {"rro", OPT_ATTR_SET, MOUNT_ATTR_RDONLY},
    {"rrw", OPT_ATTR_CLR, MOUNT_ATTR_RDONLY},
    {"rnosuid", OPT_ATTR_SET, MOUNT_ATTR_NOSUID},
    {"rsuid", OPT_ATTR_CLR, MOUNT_ATTR_NOSUID},
    {"rnodev", OPT_ATTR_SET, MOUNT_ATTR_NODEV},
    {"rdev", OPT_ATTR_CLR, MOUNT_ATTR_NODEV},
    {"rnoexec", OPT_ATTR_SET, MOUNT_ATTR_NOEXEC},
    {"rexec", OPT_ATTR_CLR, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", OPT_ATTR_SET, MOUNT_ATTR_NODIRATIME},
    {"rdiratime", OPT_ATTR_CLR, MOUNT_ATTR_NODIRATIME},
    {"rrelatime", OPT_ATTR_SET, MOUNT_ATTR_RELATIME},
    {"rnorelatime", OPT_ATTR_CLR, MOUNT_ATTR_RELATIME},
    {"rnoatime", OPT_ATTR_SET, MOUNT_ATTR_NOATIME},
    {"ratime", OPT_ATTR_CLR, MOUNT_ATTR_NOATIME},
    {"rstrictatime", OPT_ATTR_SET, MOUNT_ATTR_STRICTATIME},
    {"rnostrictatime", OPT_ATTR_CLR, MOUNT_ATTR_STRICTATIME},
    {"rnosymfollow", OPT_ATTR_SET, MOUNT_ATTR_NOSYMFOLLOW},
    {"rsymfollow", OPT_ATTR_CLR, MOUNT_ATTR_NOSYMFOLLOW},
    {"idmap", OPT_IDMAP, 0},
    {"ridmap", OPT_IDMAP, 1},
    {"tmpcopyup", OPT_FLAG, 0}, /* a request to copy up tmpfs content: accepted, no-op */
};

const char *
ocirun_mount_option_name(size_t i)
{
    return i < ARRAY_SIZE(opt_table) ? opt_table[i].name : NULL;
}

int
ocirun_mount_parse_options(char *const *options, struct ocirun_mount_opts *o, struct berth_err *err)
{
    size_t dlen = 0;
    memset(o, 0, sizeof(*o));
    for (char *const *p = options; p && *p; p++) {
        size_t i;
        for (i = 0; i < ARRAY_SIZE(opt_table) && strcmp(opt_table[i].name, *p) != 0; i++)
            ;
        if (i == ARRAY_SIZE(opt_table)) {
            /* A filesystem option such as size=64m or mode=755. */
            size_t n = strlen(*p);
            o->data = xrealloc(o->data, dlen + n + 2);
            if (dlen)
                o->data[dlen++] = ',';
            memcpy(o->data + dlen, *p, n + 1);
            dlen += n;
            continue;
        }
        switch (opt_table[i].kind) {
        case OPT_FLAG:
            o->flags |= opt_table[i].value;
            o->clear &= ~opt_table[i].value;
            break;
        case OPT_CLEAR:
            o->flags &= ~opt_table[i].value;
            o->clear |= opt_table[i].value;
            break;
        case OPT_PROP:
            if (o->n_propagation == ARRAY_SIZE(o->propagation)) {
                free(o->data);
                o->data = NULL;
                return berth_err_fail(err, EINVAL, "too many propagation options");
            }
            o->propagation[o->n_propagation++] = opt_table[i].value;
            break;
        case OPT_ATTR_SET:
            o->attr_set |= opt_table[i].value;
            o->attr_clr &= ~opt_table[i].value;
            break;
        case OPT_ATTR_CLR:
            o->attr_clr |= opt_table[i].value;
            o->attr_set &= ~opt_table[i].value;
            break;
        case OPT_IDMAP: o->idmap = true; break;
        }
    }
    return 0;
}

static bool
is_bind(const struct ocirun_mount *m, const struct ocirun_mount_opts *o)
{
    return (o->flags & MS_BIND) || (m->type && strcmp(m->type, "bind") == 0);
}

/* Bind sources are host paths; relative ones are relative to the bundle. */
static char *
bind_source(const struct ocirun_spec *spec, const struct ocirun_mount *m)
{
    if (!m->source)
        return NULL;
    if (m->source[0] == '/')
        return xstrdup(m->source);
    return xasprintf("%s/%s", spec->bundle, m->source);
}

static int
mount_at(const char *src, int target_fd, const char *type, unsigned long flags, const char *data,
         const char *dest, struct berth_err *err)
{
    char target[64];
    snprintf(target, sizeof(target), "/proc/self/fd/%d", target_fd);
    if (mount(src, target, type, flags, data) < 0)
        return berth_err_set(err, errno, "mount `%s` on `%s`%s%s", src ? src : "none", dest,
                             data ? " with options " : "", data ? data : "");
    return 0;
}

/* Flags a remount must keep: in a user namespace the kernel refuses to clear locked
 * nosuid/nodev/noexec/atime flags of the underlying mount. */
static unsigned long
locked_flags(int fd)
{
    struct statvfs sv;
    unsigned long f = 0;
    if (fstatvfs(fd, &sv) < 0)
        return 0;
    if (sv.f_flag & ST_NOSUID)
        f |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV)
        f |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC)
        f |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME)
        f |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME)
        f |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME)
        f |= MS_RELATIME;
    return f;
}

/* After the mount itself: re-open the target (now the new mount's root), remount for flags a
 * bind mount ignores, set propagation, and apply recursive attributes. */
static int
finish_mount(const struct ocirun_mount *m, const struct ocirun_mount_opts *o, int rootfd, bool bind,
             struct berth_err *err)
{
    cleanup_close int fd =
        berth_fs_open_in_root(rootfd, m->destination, O_PATH | O_CLOEXEC, 0, err);
    if (fd < 0)
        return -1;
    unsigned long change = o->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
    if (bind && change) {
        unsigned long keep = locked_flags(fd) & ~o->clear;
        if (mount_at(NULL, fd, NULL, MS_BIND | MS_REMOUNT | change | keep, NULL, m->destination,
                     err) < 0)
            return berth_err_wrap(err, "remount");
    }
    for (int i = 0; i < o->n_propagation; i++)
        if (mount_at(NULL, fd, NULL, o->propagation[i], NULL, m->destination, err) < 0)
            return berth_err_wrap(err, "set propagation");
    if (o->attr_set || o->attr_clr) {
        struct mount_attr attr = {.attr_set = o->attr_set, .attr_clr = o->attr_clr};
        /* atime modes are one field: clearing one means setting MOUNT_ATTR__ATIME in clr. */
        if (attr.attr_set & MOUNT_ATTR__ATIME)
            attr.attr_clr |= MOUNT_ATTR__ATIME;
        if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) <
            0)
            return berth_err_set(err, errno, "set recursive attributes on `%s`", m->destination);
    }
    return 0;
}

/* Remount the bind mount now at dest with flags. The target is opened afresh: an fd taken
 * before the mount names the directory underneath it, not the new mount. */
static int
remount_bind(int rootfd, const char *dest, unsigned long flags, struct berth_err *err)
{
    cleanup_close int fd = berth_fs_open_in_root(rootfd, dest, O_PATH | O_CLOEXEC, 0, err);
    if (fd < 0)
        return -1;
    return mount_at(NULL, fd, NULL, MS_BIND | MS_REMOUNT | flags | locked_flags(fd), NULL, dest,
                    err);
}

/* type "cgroup": the container's own cgroups, read-only unless told otherwise. With a new
 * cgroup namespace the hierarchies are mounted fresh (rooted at the container's cgroup);
 * without one, the container's directories are bind-mounted. */
static int
mount_cgroup(const struct ocirun_spec *spec, int rootfd, const struct ocirun_mount *m,
             const struct ocirun_mount_opts *o, struct berth_err *err)
{
    bool new_ns = spec->ns[OCIRUN_NS_CGROUP].wanted;
    cleanup_close int fd = berth_fs_mkdir_in_root(rootfd, m->destination, false, err);
    if (fd < 0)
        return -1;
    struct ocirun_cgroup_self *self = NULL;
    size_t n = 0;
    if (ocirun_cgroup_self(&self, &n, err) < 0)
        return -1;
    int rc = -1;
    unsigned long flags = o->flags & ~(MS_BIND | MS_REC);
    if (n == 1 && self[0].v2) {
        /* Pure v2: one mount at the destination itself. */
        if (new_ns)
            rc = mount_at("cgroup2", fd, "cgroup2", flags, NULL, m->destination, err);
        else
            rc = mount_at(self[0].dir, fd, NULL, MS_BIND | MS_REC, NULL, m->destination, err);
        if (rc == 0 && !new_ns && (flags & MS_RDONLY))
            rc = remount_bind(rootfd, m->destination, flags, err);
        goto out;
    }
    /* v1 or hybrid: a tmpfs holding one directory per hierarchy. */
    if (mount_at("tmpfs", fd, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755", m->destination,
                 err) < 0)
        goto out;
    close(fd);
    fd = berth_fs_open_in_root(rootfd, m->destination, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, err);
    if (fd < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        cleanup_free char *rel = xasprintf("%s/%s", m->destination, self[i].name);
        cleanup_close int sub = berth_fs_mkdir_in_root(rootfd, rel, false, err);
        if (sub < 0)
            goto out;
        if (new_ns) {
            const char *type = self[i].v2 ? "cgroup2" : "cgroup";
            if (mount_at(type, sub, type, flags, self[i].v2 ? NULL : self[i].controllers, rel,
                         err) < 0)
                goto out;
        } else {
            if (mount_at(self[i].dir, sub, NULL, MS_BIND | MS_REC, NULL, rel, err) < 0)
                goto out;
            if ((flags & MS_RDONLY) && remount_bind(rootfd, rel, flags, err) < 0)
                goto out;
        }
        /* Co-mounted controllers ("cpu,cpuacct") get a link per name, as on the host. */
        if (strchr(self[i].name, ',')) {
            cleanup_free char *names = xstrdup(self[i].name);
            char *save = NULL;
            for (char *c = strtok_r(names, ",", &save); c; c = strtok_r(NULL, ",", &save))
                if (symlinkat(self[i].name, fd, c) < 0 && errno != EEXIST) {
                    berth_err_set(err, errno, "symlink `%s/%s`", m->destination, c);
                    goto out;
                }
        }
    }
    if (flags & MS_RDONLY) {
        cleanup_close int top =
            berth_fs_open_in_root(rootfd, m->destination, O_PATH | O_CLOEXEC, 0, err);
        if (top < 0 ||
            mount_at(NULL, top, NULL, MS_REMOUNT | flags | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                     "mode=755", m->destination, err) < 0)
            goto out;
    }
    rc = 0;
out:
    ocirun_cgroup_self_free(self, n);
    return rc < 0 ? berth_err_wrap(err, "cgroup mount") : 0;
}

int
ocirun_mount_one(const struct ocirun_spec *spec, int rootfd, const struct ocirun_mount *m,
                 int idmap_fd, struct berth_err *err)
{
    struct ocirun_mount_opts o;
    if (ocirun_mount_parse_options(m->options, &o, err) < 0)
        return berth_err_wrap(err, "mount `%s`", m->destination);
    cleanup_free char *data = o.data;
    bool bind = is_bind(m, &o);
    int rc;

    if (o.idmap) {
        if (idmap_fd < 0 || !bind)
            return berth_err_fail(err, EINVAL, "mount `%s`: idmap needs a bind mount",
                                  m->destination);
        cleanup_free char *src = bind_source(spec, m);
        struct stat st;
        if (stat(src, &st) < 0)
            return berth_err_set(err, errno, "bind mount source `%s`", src);
        cleanup_close int fd =
            berth_fs_mkdir_in_root(rootfd, m->destination, !S_ISDIR(st.st_mode), err);
        if (fd < 0 || ocirun_idmap_attach(idmap_fd, fd, m->destination, err) < 0)
            return berth_err_wrap(err, "mount `%s`", m->destination);
        return finish_mount(m, &o, rootfd, true, err);
    }
    if (m->type && strcmp(m->type, "cgroup") == 0 && !bind)
        return mount_cgroup(spec, rootfd, m, &o, err);

    if (bind) {
        cleanup_free char *src = bind_source(spec, m);
        struct stat st;
        if (!src)
            return berth_err_fail(err, EINVAL, "bind mount `%s` has no source", m->destination);
        if (stat(src, &st) < 0)
            return berth_err_set(err, errno, "bind mount source `%s`", src);
        cleanup_close int fd =
            berth_fs_mkdir_in_root(rootfd, m->destination, !S_ISDIR(st.st_mode), err);
        if (fd < 0)
            return berth_err_wrap(err, "mount `%s`", m->destination);
        rc = mount_at(src, fd, NULL, MS_BIND | (o.flags & MS_REC), NULL, m->destination, err);
    } else {
        const char *type = m->type ? m->type : "none";
        cleanup_close int fd = berth_fs_mkdir_in_root(rootfd, m->destination, false, err);
        if (fd < 0)
            return berth_err_wrap(err, "mount `%s`", m->destination);
        rc = mount_at(m->source ? m->source : type, fd, type, o.flags & ~MS_REC, data,
                      m->destination, err);
        /* sysfs can't be mounted from a user namespace that doesn't own the network
         * namespace; the host's /sys, bound read-only, is the usual fallback. */
        if (rc < 0 && err->code == EPERM && strcmp(type, "sysfs") == 0) {
            berth_err_clear(err);
            berth_debug("sysfs mount refused, binding the host's /sys instead");
            rc = mount_at("/sys", fd, NULL, MS_BIND | MS_REC, NULL, m->destination, err);
            o.flags |= MS_RDONLY;
            bind = true;
        }
    }
    if (rc < 0)
        return -1;
    return finish_mount(m, &o, rootfd, bind, err);
}
