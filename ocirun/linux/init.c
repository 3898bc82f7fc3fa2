// SPDX-License-Identifier: Apache-2.0
//
// The container init (see init.h and the conversation drawn in sync.h). Until READY every
// failure goes back to the parent, which prints it and undoes the container; the child just
// exits. After READY only the wait for `start` and the exec remain.

#include "ocirun/linux/init.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "ocirun/foreground.h"
#include "ocirun/hooks.h"
#include "ocirun/linux/idmap.h"
#include "ocirun/linux/namespaces.h"
#include "ocirun/linux/process.h"
#include "ocirun/linux/rootfs.h"
#include "ocirun/linux/seccomp.h"
#include "ocirun/linux/sync.h"
#include "ocirun/linux/terminal.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int
set_names(const struct ocirun_spec *spec, struct berth_err *err)
{
    if (spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
        return berth_err_set(err, errno, "set hostname `%s`", spec->hostname);
    if (spec->domainname && setdomainname(spec->domainname, strlen(spec->domainname)) < 0)
        return berth_err_set(err, errno, "set domainname `%s`", spec->domainname);
    return 0;
}

/* The filter goes in here; a notify fd goes to the parent, which can reach the listener. */
static int
load_seccomp(void *arg, struct berth_err *err)
{
    struct ocirun_init *in = arg;
    int fd = ocirun_seccomp_load_bpf(in->seccomp, err);
    if (fd < 0)
        return -1;
    if (fd > 0) {
        int r = ocirun_sync_send_fd(in->sync_fd, OCIRUN_SYNC_SECCOMP_FD, fd);
        close(fd);
        if (r < 0)
            return berth_err_set(err, errno, "send seccomp notify fd");
    }
    return 0;
}

static int
setup(struct ocirun_init *in, char **exe, struct berth_err *err)
{
    const struct ocirun_spec *spec = in->spec;

    /* Before GO, the parent may send an idmapped tree per idmap mount (linux/idmap.h). */
    size_t n_idmap = 0;
    bool recursive;
    for (size_t i = 0; i < spec->n_mounts; i++)
        n_idmap += ocirun_idmap_wanted(&spec->mounts[i], &recursive);
    in->idmap_fds = n_idmap ? xzalloc(n_idmap * sizeof(int)) : NULL;
    int type, passed;
    size_t k = 0;
    while ((type = ocirun_sync_recv_fd(in->sync_fd, &passed, err)) == OCIRUN_SYNC_MOUNT_FD) {
        if (k == n_idmap || passed < 0)
            return berth_err_fail(err, EPROTO, "unexpected idmapped mount from parent");
        in->idmap_fds[k++] = passed;
    }
    if (type != OCIRUN_SYNC_GO)
        return err->msg ? -1 : berth_err_fail(err, EPROTO, "unexpected message from parent");
    /* The host's /proc/self/fd, kept to reopen exec.fifo after pivot_root whether or not the
     * container mounts a /proc of its own. Closed at exec. */
    in->fd_dir = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (in->fd_dir < 0)
        return berth_err_set(err, errno, "open `/proc/self/fd`");
    /* From here until exec, processes in the container must not reach into us through /proc
     * (our exe, memory, fds): non-dumpable makes those root-only. Not earlier: it also makes
     * our /proc/<pid>/uid_map root's, which a rootless parent could then no longer write. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (ocirun_ns_join(in->ns_fds, err) < 0)
        return -1;
    int unshare_flags = ocirun_ns_unshare_flags(spec);
    if (spec->ns[OCIRUN_NS_CGROUP].wanted && !spec->ns[OCIRUN_NS_CGROUP].path)
        unshare_flags |= CLONE_NEWCGROUP;
    if (unshare_flags && unshare(unshare_flags) < 0)
        return berth_err_set(err, errno, "create namespaces");
    if (spec->ns[OCIRUN_NS_USER].wanted) {
        /* Become the namespace's root now that the parent wrote the maps. */
        if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
            return berth_err_set(err, errno, "become root in the user namespace");
    }
    if (set_names(spec, err) < 0)
        return -1;
    /* Without a mount namespace of its own the container shares the runtime's mounts: none
     * of its mounts can be made (they would land on the host); it only gets its root. */
    bool own_mnt = spec->ns[OCIRUN_NS_MNT].wanted;
    if (!own_mnt && (spec->n_mounts || spec->masked_paths || spec->readonly_paths ||
                     spec->root_readonly || spec->n_devices))
        berth_warn("no mount namespace: mounts, devices, masked and read-only paths are not "
                   "applied");
    if (own_mnt && ocirun_rootfs_prepare(spec, in->idmap_fds, err) < 0)
        return berth_err_wrap(err, "rootfs");
    /* The parent runs prestart and createRuntime now, and sends back the state for ours. */
    if (ocirun_sync_send(in->sync_fd, OCIRUN_SYNC_HOOKS, 0, NULL) < 0)
        return berth_err_set(err, errno, "signal parent");
    if (ocirun_sync_recv(in->sync_fd, &in->state_json, err) != OCIRUN_SYNC_GO)
        return err->msg ? -1 : berth_err_fail(err, EPROTO, "unexpected message from parent");
    if (ocirun_hooks_run(spec->hooks, OCIRUN_HOOK_CREATE_CONTAINER, in->state_json, err) < 0)
        return -1;
    if (own_mnt ? ocirun_rootfs_enter(spec, in->no_pivot, err) < 0
                : ocirun_rootfs_chroot(spec, err) < 0)
        return berth_err_wrap(err, "rootfs");
    if (spec->process.terminal &&
        ocirun_terminal_setup(&spec->process, in->console_fd, true, err) < 0)
        return -1;
    /* The spec is ours alone in this child: filling in HOME changes nobody else's copy. */
    ocirun_process_default_home((char ***)&spec->process.env, spec->process.uid);
    /* Before the seccomp filter, which may well not allow close_range. */
    if (ocirun_process_prepare_fds(in->preserve_fds, err) < 0)
        return -1;
    if (ocirun_process_setup(&spec->process, in->seccomp ? load_seccomp : NULL, in, err) < 0)
        return -1;
    *exe = ocirun_process_find_exe(&spec->process, err);
    return *exe ? 0 : -1;
}

_Noreturn void
ocirun_init_run(struct ocirun_init *in)
{
    struct berth_err err = BERTH_ERR_INIT;
    sigset_t all;
    char *exe = NULL;

    /* The parent blocks signals to forward them; the container starts with none blocked. */
    sigemptyset(&all);
    ocirun_signals_reset();
    sigprocmask(SIG_SETMASK, &all, NULL);
    prctl(PR_SET_PDEATHSIG, 0);

    if (setup(in, &exe, &err) < 0)
        ocirun_sync_fail(in->sync_fd, &err);
    ocirun_sync_send(in->sync_fd, OCIRUN_SYNC_READY, 0, NULL);
    close(in->sync_fd);

    /* Wait for `start`: opening exec.fifo for writing blocks until it opens the reading end.
     * The byte, written once the startContainer hooks passed, tells it we are about to exec;
     * the fd is close-on-exec, so the EOF after it means the exec happened. EOF without the
     * byte means we died first. */
    char name[16];
    snprintf(name, sizeof(name), "%d", in->fifo_fd);
    int w;
    do
        w = openat(in->fd_dir, name, O_WRONLY | O_CLOEXEC);
    while (w < 0 && errno == EINTR);
    if (w < 0) {
        dprintf(2, "ocirun: wait for start on exec.fifo: %s\n", strerror(errno));
        _exit(127);
    }
    close(in->fifo_fd);
    close(in->fd_dir);
    if (ocirun_hooks_run(in->spec->hooks, OCIRUN_HOOK_START_CONTAINER, in->state_json, &err) < 0) {
        cleanup_free char *msg = berth_err_string(&err);
        dprintf(2, "ocirun: %s\n", msg);
        _exit(127);
    }

    if (ocirun_lsm_apply(&in->spec->process.lsm, &err) < 0) {
        cleanup_free char *msg = berth_err_string(&err);
        dprintf(2, "ocirun: %s\n", msg);
        _exit(127);
    }
    if (write(w, "0", 1) != 1)
        _exit(127);
    execve(exe, in->spec->process.args, in->spec->process.env);
    dprintf(2, "ocirun: exec `%s`: %s\n", exe, strerror(errno));
    _exit(127);
}
