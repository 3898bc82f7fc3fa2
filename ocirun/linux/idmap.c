// SPDX-License-Identifier: Apache-2.0
//
// Idmapped bind mounts (see idmap.h).

#include "ocirun/linux/idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "ocirun/spec.h"

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif

bool
ocirun_idmap_wanted(const struct ocirun_mount *m, bool *recursive)
{
    for (char **o = m->options; o && *o; o++) {
        if (strcmp(*o, "idmap") == 0 || strcmp(*o, "ridmap") == 0) {
            *recursive = (*o)[0] == 'r';
            return true;
        }
    }
    return false;
}

static int
write_map(pid_t pid, const char *file, const struct ocirun_id_map *m, size_t n,
          struct berth_err *err)
{
    char path[64], buf[1024];
    size_t len = 0;
    for (size_t i = 0; i < n && len < sizeof(buf) - 40; i++)
        len += snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n", m[i].container_id, m[i].host_id,
                        m[i].size);
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
    cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
        return berth_err_set(err, errno, "write idmap %s", file);
    return 0;
}

/* A user namespace holding the mount's own mappings: a short-lived child unshares one, we
 * write its maps and keep a handle on the namespace. */
static int
mapping_userns(const struct ocirun_mount *m, struct berth_err *err)
{
    int ready[2], hold[2];
    if (pipe2(ready, O_CLOEXEC) < 0)
        return berth_err_set(err, errno, "pipe");
    if (pipe2(hold, O_CLOEXEC) < 0) {
        close(ready[0]), close(ready[1]);
        return berth_err_set(err, errno, "pipe");
    }
    pid_t pid = fork();
    if (pid == 0) {
        char c = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
        ssize_t w = write(ready[1], &c, 1);
        (void)w;
        close(hold[1]);
        ssize_t r = read(hold[0], &c, 1); /* until the parent is done with us */
        (void)r;
        _exit(0);
    }
    close(ready[1]);
    close(hold[0]);
    char c = 'n';
    int fd = -1;
    if (pid < 0) {
        berth_err_set(err, errno, "fork");
    } else if (read(ready[0], &c, 1) != 1 || c != 'y') {
        berth_err_fail(err, EPERM, "idmap: cannot create a user namespace for the mapping");
    } else if (write_map(pid, "uid_map", m->uid_map, m->n_uid_map, err) == 0 &&
               write_map(pid, "gid_map", m->gid_map, m->n_gid_map, err) == 0) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            berth_err_set(err, errno, "open `%s`", path);
    }
    close(ready[0]);
    close(hold[1]);
    if (pid > 0)
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
    return fd;
}

int
ocirun_idmap_prepare(const struct ocirun_spec *spec, const struct ocirun_mount *m, pid_t init_pid,
                     struct berth_err *err)
{
    bool recursive = false;
    ocirun_idmap_wanted(m, &recursive);
    if (!m->source)
        return berth_err_fail(err, EINVAL, "idmap mount `%s` has no source", m->destination);
    cleanup_free char *src =
        m->source[0] == '/' ? xstrdup(m->source) : xasprintf("%s/%s", spec->bundle, m->source);
    cleanup_close int userns = -1;
    if (m->n_uid_map || m->n_gid_map) {
        userns = mapping_userns(m, err);
    } else {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)init_pid);
        userns = open(path, O_RDONLY | O_CLOEXEC);
        if (userns < 0)
            berth_err_set(err, errno, "open `%s`", path);
    }
    if (userns < 0)
        return berth_err_wrap(err, "idmap mount `%s`", m->destination);
    unsigned int flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
    cleanup_close int tree = (int)syscall(SYS_open_tree, AT_FDCWD, src, flags);
    if (tree < 0)
        return berth_err_set(err, errno, "idmap mount `%s`: open_tree `%s`", m->destination, src);
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns};
    if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr,
                sizeof(attr)) < 0)
        return berth_err_set(err, errno, "idmap mount `%s`: idmap `%s`", m->destination, src);
    return steal_fd(&tree);
}

int
ocirun_idmap_attach(int tree_fd, int target_fd, const char *dest, struct berth_err *err)
{
    if (syscall(SYS_move_mount, tree_fd, "", target_fd, "",
                MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return berth_err_set(err, errno, "attach idmapped mount on `%s`", dest);
    return 0;
}
