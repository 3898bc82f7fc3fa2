// SPDX-License-Identifier: Apache-2.0
//
// The container lifecycle (container.h) on top of the state files (state.h), the child-side
// init (linux/init.c) and cgroups (linux/cgroup.c). The parent half of create lives here: it
// clones the init into its new namespaces, writes its id maps, puts it in its cgroups, tells
// it to go on, and records it once it reports ready. Whatever it made is undone if any step
// fails, in reverse order.

#include "ocirun/container.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "ocirun/foreground.h"
#include "ocirun/hooks.h"
#include "ocirun/linux/cgroup.h"
#include "ocirun/linux/idmap.h"
#include "ocirun/linux/init.h"
#include "ocirun/linux/namespaces.h"
#include "ocirun/linux/seccomp-bpf.h"
#include "ocirun/linux/seccomp.h"
#include "ocirun/linux/sync.h"
#include "ocirun/linux/terminal.h"
#include "ocirun/ocirun.h"
#include "ocirun/spec.h"
#include "ocirun/state.h"

#include <json-c/json.h>

static char *
now_rfc3339(void)
{
    struct timespec ts;
    struct tm tm;
    char buf[64];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    return xasprintf("%s.%09ldZ", buf, ts.tv_nsec);
}

/* What create has made so far, for rollback. */
struct creation {
    struct ocirun_state *st;
    bool dir_made;
    pid_t pid;
};

static void
rollback(struct ocirun_global *g, struct creation *c)
{
    struct berth_err err = BERTH_ERR_INIT;
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    if (c->st && c->st->cgroups && ocirun_cgroup_destroy(c->st->cgroups, &err) < 0)
        berth_err_warn(&err);
    if (c->dir_made && ocirun_state_remove(g->root, c->st->id, &err) < 0)
        berth_err_warn(&err);
}

/* own_tty: a foreground run that will take the pty master itself. */
static int
check_terminal(const struct ocirun_spec *spec, const struct ocirun_create_opts *o, bool own_tty,
               struct berth_err *err)
{
    if (spec->process.terminal && !o->console_socket && !own_tty)
        return berth_err_fail(err, EINVAL,
                              "process.terminal is set but no --console-socket was given");
    if (!spec->process.terminal && o->console_socket)
        return berth_err_fail(err, EINVAL,
                              "--console-socket given but process.terminal is not set");
    return 0;
}

static pid_t
clone_init(int flags)
{
    /* Raw clone: like fork, plus the namespace flags. The process is single-threaded, so
     * nothing is lost by skipping glibc's fork handlers. */
    return (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

/* The state JSON hooks get on stdin, for st with its init at pid. */
static char *
hook_state(struct ocirun_state *st, enum ocirun_status status)
{
    cleanup_json struct json_object *o = ocirun_state_to_json(st, status);
    return xstrdup(json_object_to_json_string_ext(o, OCIRUN_JSON_PLAIN));
}

/* Idmapped mounts are built here, where CAP_SYS_ADMIN of the initial user namespace is ours,
 * once the init (and so its user namespace) exists; each goes to it before GO. */
static int
send_idmapped_trees(const struct ocirun_spec *spec, pid_t pid, int sync_fd, struct berth_err *err)
{
    bool recursive;
    for (size_t i = 0; i < spec->n_mounts; i++) {
        if (!ocirun_idmap_wanted(&spec->mounts[i], &recursive))
            continue;
        cleanup_close int tree = ocirun_idmap_prepare(spec, &spec->mounts[i], pid, err);
        if (tree < 0)
            return -1;
        if (ocirun_sync_send_fd(sync_fd, OCIRUN_SYNC_MOUNT_FD, tree) < 0)
            return berth_err_set(err, errno, "send idmapped mount to container init");
    }
    return 0;
}

/* The init has its namespaces and mounts: run prestart and createRuntime here, in the
 * runtime's namespaces, then let it go on with the state for its own hooks. */
static int
run_create_hooks(struct ocirun_state *st, const struct ocirun_spec *spec, pid_t pid, int sync_fd,
                 struct berth_err *err)
{
    st->pid = pid;
    cleanup_free char *state = hook_state(st, OCIRUN_CREATING);
    if (ocirun_hooks_run(spec->hooks, OCIRUN_HOOK_PRESTART, state, err) < 0 ||
        ocirun_hooks_run(spec->hooks, OCIRUN_HOOK_CREATE_RUNTIME, state, err) < 0)
        return -1;
    if (ocirun_sync_send(sync_fd, OCIRUN_SYNC_GO, 0, state) < 0)
        return berth_err_set(err, errno, "signal container init");
    return 0;
}

/* The init loaded a filter with SCMP_ACT_NOTIFY rules and sent its notify fd: give it to the
 * listener with the container's state. Takes fd. */
static int
seccomp_handoff(struct ocirun_state *st, const struct ocirun_spec *spec, pid_t pid, int fd,
                struct berth_err *err)
{
    cleanup_close int owned = fd;
    if (fd < 0)
        return berth_err_fail(err, EPROTO, "seccomp notify fd missing from container init");
    st->pid = pid;
    cleanup_free char *state = hook_state(st, OCIRUN_CREATING);
    return ocirun_seccomp_send_notify_fd(spec->seccomp, fd, state, pid, err);
}

/* Compile the profile here, through the cache under the state root (linux/seccomp-bpf.h). */
int
ocirun_compile_seccomp(struct ocirun_global *g, struct json_object *doc,
                       const struct ocirun_seccomp *s, struct ocirun_seccomp_bpf *out,
                       struct berth_err *err)
{
    struct json_object *lx = NULL, *sc = NULL;
    json_object_object_get_ex(doc, "linux", &lx);
    if (lx)
        json_object_object_get_ex(lx, "seccomp", &sc);
    cleanup_free char *cache = xasprintf("%s/.seccomp", g->root);
    return ocirun_seccomp_compile(s, json_object_to_json_string_ext(sc, OCIRUN_JSON_PLAIN), cache,
                                  out, err);
}

static int
compile_seccomp(struct ocirun_global *g, const struct ocirun_spec *spec,
                struct ocirun_seccomp_bpf *out, struct berth_err *err)
{
    return ocirun_compile_seccomp(g, spec->doc, spec->seccomp, out, err);
}

/* --systemd-cgroup: cgroupsPath is "slice:prefix:name", which systemd would turn into a
 * transient unit at <slice path>/<prefix>-<name>.scope. ocirun writes that same layout
 * through cgroupfs (so systemd's tools see the container where they expect it) and requires
 * systemd to be running, as runc does. Returns the cgroupfs path to use (heap) or NULL. */
static char *
systemd_cgroup_path(const char *cgroups_path, const char *id, struct berth_err *err)
{
    if (access("/run/systemd/system", F_OK) != 0) {
        berth_err_fail(err, ENOTSUP, "--systemd-cgroup: systemd is not running on this host");
        return NULL;
    }
    const char *spec = cgroups_path ? cgroups_path : "system.slice:ocirun:";
    cleanup_free char *copy = xstrdup(spec);
    char *prefix = strchr(copy, ':'), *name = prefix ? strchr(prefix + 1, ':') : NULL;
    if (!prefix || !name) {
        berth_err_fail(err, EINVAL, "--systemd-cgroup: cgroupsPath `%s` is not slice:prefix:name",
                       spec);
        return NULL;
    }
    *prefix++ = '\0';
    *name++ = '\0';
    const char *slice = *copy ? copy : "system.slice";
    if (!*name)
        name = (char *)id;
    /* "a-b-c.slice" lives at /a.slice/a-b.slice/a-b-c.slice. */
    size_t cap = 2 * strlen(slice) * strlen(slice) + 64, len = 0;
    cleanup_free char *path = xzalloc(cap);
    if (strcmp(slice, "-.slice") != 0) {
        const char *dash = slice;
        while ((dash = strchr(dash, '-'))) {
            len += snprintf(path + len, cap - len, "/%.*s.slice", (int)(dash - slice), slice);
            dash++;
        }
        len += snprintf(path + len, cap - len, "/%s", slice);
    }
    return xasprintf("%s/%s%s%s.scope", path, prefix, *prefix ? "-" : "", name);
}

/* The parent half of create; on success c->st describes the created container and c->pid is
 * its init (still our child). */
static int
create(struct ocirun_global *g, const struct ocirun_create_opts *o, int own_console,
       struct creation *c, struct berth_err *err)
{
    int ns_fds[OCIRUN_NS_COUNT];
    cleanup_close int fifo = -1, console = -1, sync_parent = -1, sync_child = -1;
    int sv[2];

    if (ocirun_state_check_id(o->id, err) < 0)
        return -1;
    cleanup_spec struct ocirun_spec *spec = ocirun_spec_load(o->bundle ? o->bundle : ".", err);
    if (!spec)
        return -1;
    if (check_terminal(spec, o, own_console >= 0, err) < 0)
        return -1;
    cleanup_free char *cgroups_path = NULL;
    if (g->systemd_cgroup && !(cgroups_path = systemd_cgroup_path(spec->cgroups_path, o->id, err)))
        return -1;
    berth_debug("create id=%s bundle=%s root=%s", o->id, spec->bundle, g->root);
    if (ocirun_state_mkdir(g->root, o->id, err) < 0)
        return -1;
    c->dir_made = true;

    struct ocirun_state *st = c->st = ocirun_state_new(g->root, o->id);
    st->creating = true;
    st->bundle = xstrdup(spec->bundle);
    st->rootfs = xstrdup(spec->root_path);
    st->created = now_rfc3339();
    st->owner = xstrdup("");
    st->terminal = spec->process.terminal;
    st->new_pidns = spec->ns[OCIRUN_NS_PID].wanted && !spec->ns[OCIRUN_NS_PID].path;
    if (spec->annotations)
        st->annotations = json_object_get(spec->annotations);
    if (spec->hooks)
        st->hooks = json_object_get(spec->hooks);
    if (ocirun_state_save(st, err) < 0)
        return -1;
    /* exec starts from the container's own process settings, as they were at create. */
    cleanup_free char *config_copy = xasprintf("%s/config.json", st->dir);
    if (berth_json_write_file(config_copy, spec->doc, false, 0600, err) < 0)
        return -1;

    cleanup_free char *fifo_path = ocirun_state_fifo_path(st);
    /* Writable by anyone: the init opens it after switching to the container's user. The
     * state directory keeps everyone else out. chmod, since mkfifo's mode meets the umask. */
    if (mkfifo(fifo_path, 0622) < 0 || chmod(fifo_path, 0622) < 0)
        return berth_err_set(err, errno, "mkfifo `%s`", fifo_path);
    fifo = open(fifo_path, O_PATH | O_CLOEXEC);
    if (fifo < 0)
        return berth_err_set(err, errno, "open `%s`", fifo_path);
    if (own_console >= 0 && spec->process.terminal && !o->console_socket) {
        ocirun_foreground_winsize(&spec->process.console_height, &spec->process.console_width);
        console = fcntl(own_console, F_DUPFD_CLOEXEC, 3);
        if (console < 0)
            return berth_err_set(err, errno, "dup console socket");
    } else if (o->console_socket) {
        console = ocirun_terminal_connect(o->console_socket, err);
        if (console < 0)
            return -1;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return berth_err_set(err, errno, "socketpair");
    sync_parent = sv[0];
    sync_child = sv[1];
    struct ocirun_seccomp_bpf bpf __attribute__((cleanup(ocirun_seccomp_bpf_free))) = {0};
    if (spec->seccomp && compile_seccomp(g, spec, &bpf, err) < 0)
        return -1;
    if (ocirun_ns_open(spec, ns_fds, err) < 0)
        return -1;
    if (ocirun_ns_prepare_parent(spec, ns_fds, err) < 0) {
        ocirun_ns_close(ns_fds);
        return -1;
    }

    c->pid = clone_init(ocirun_ns_clone_flags(spec));
    if (c->pid < 0) {
        ocirun_ns_close(ns_fds);
        return berth_err_set(err, errno, "clone container init");
    }
    if (c->pid == 0) {
        struct ocirun_init in = {
            .spec = spec,
            .sync_fd = sync_child,
            .fifo_fd = fifo,
            .console_fd = console,
            .preserve_fds = o->preserve_fds,
            .no_pivot = o->no_pivot,
            .seccomp = spec->seccomp ? &bpf : NULL,
        };
        close(sync_parent);
        memcpy(in.ns_fds, ns_fds, sizeof(ns_fds));
        ocirun_init_run(&in);
    }
    ocirun_ns_close(ns_fds);
    close(steal_fd(&sync_child));
    berth_debug("cloned init id=%s pid=%d", o->id, (int)c->pid);

    if (ocirun_ns_write_maps(spec, c->pid, err) < 0 ||
        ocirun_cgroup_enter(cgroups_path ? cgroups_path : spec->cgroups_path, o->id, c->pid,
                            geteuid() != 0 && !spec->cgroups_path &&
                                !ocirun_resources_any(&spec->resources),
                            &spec->resources, &st->cgroups, err) < 0) {
        /* The child waits for GO; closing our end makes it exit at once. */
        return -1;
    }
    if (send_idmapped_trees(spec, c->pid, sync_parent, err) < 0)
        return -1;
    if (ocirun_sync_send(sync_parent, OCIRUN_SYNC_GO, 0, NULL) < 0)
        return berth_err_set(err, errno, "signal container init");
    int passed = -1;
    int type = ocirun_sync_recv(sync_parent, NULL, err);
    if (type == OCIRUN_SYNC_HOOKS) {
        if (run_create_hooks(st, spec, c->pid, sync_parent, err) < 0)
            return -1;
        type = ocirun_sync_recv_fd(sync_parent, &passed, err);
    }
    if (type == OCIRUN_SYNC_SECCOMP_FD) {
        if (seccomp_handoff(st, spec, c->pid, passed, err) < 0)
            return -1;
        type = ocirun_sync_recv(sync_parent, NULL, err);
    } else if (passed >= 0) {
        close(passed);
    }
    if (type < 0)
        return -1;
    if (type != OCIRUN_SYNC_READY)
        return berth_err_fail(err, EPROTO, "unexpected message %d from container init", type);

    berth_debug("init ready id=%s pid=%d", o->id, (int)c->pid);
    bool zombie;
    st->pid = c->pid;
    st->pid_start = ocirun_proc_start_time(c->pid, &zombie);
    st->creating = false;
    if (ocirun_state_save(st, err) < 0)
        return -1;
    if (o->pid_file) {
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%d", (int)c->pid);
        if (berth_fs_write_atomic(o->pid_file, buf, n, 0644, err) < 0)
            return berth_err_wrap(err, "pid file");
    }
    return 0;
}

int
ocirun_container_create(struct ocirun_global *g, const struct ocirun_create_opts *o,
                        struct berth_err *err)
{
    struct creation c = {0};
    int rc = create(g, o, -1, &c, err);
    if (rc < 0) {
        rollback(g, &c);
        berth_err_wrap(err, "create container `%s`", o->id);
    }
    if (c.st)
        ocirun_state_free(c.st);
    return rc;
}

/* Let the init go on and wait until it has: opening exec.fifo for reading unblocks the init
 * (linux/init.c), which writes one byte, runs the startContainer hooks and execs, closing its
 * end; that EOF is our cue. A pidfd watches for an init that dies instead. Then the fifo
 * goes, which is what makes the state read "running". */
static int
release(const struct ocirun_state *st, struct berth_err *err)
{
    cleanup_free char *path = ocirun_state_fifo_path(st);
    cleanup_close int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return berth_err_set(err, errno, "open `%s`", path);
    cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, st->pid, 0);
    bool got = false;
    for (;;) {
        struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return berth_err_set(err, errno, "poll `%s`", path);
        }
        if (p[0].revents & POLLIN) {
            char c;
            if (read(fd, &c, 1) == 1)
                got = true;
        }
        if (p[0].revents & POLLHUP) {
            if (got)
                break; /* the init's end closed at exec */
            unlink(path);
            return berth_err_fail(err, ESRCH,
                                  "container process failed before exec (see its stderr)");
        }
        if (!got && (p[1].revents & POLLIN)) {
            unlink(path);
            return berth_err_fail(err, ESRCH, "container init exited before start");
        }
        if (got && (p[1].revents & POLLIN))
            break;
    }
    if (unlink(path) < 0)
        return berth_err_set(err, errno, "remove `%s`", path);
    return 0;
}

int
ocirun_container_start(struct ocirun_global *g, const char *id, struct berth_err *err)
{
    cleanup_state struct ocirun_state *st = ocirun_state_load(g->root, id, err);
    if (!st)
        return -1;
    enum ocirun_status s = ocirun_state_status(st);
    if (s != OCIRUN_CREATED)
        return berth_err_fail(err, EBUSY, "cannot start container `%s`: it is %s, not created", id,
                              ocirun_status_name(s));
    if (release(st, err) < 0)
        return berth_err_wrap(err, "start container `%s`", id);
    berth_debug("started id=%s pid=%d", id, (int)st->pid);
    cleanup_free char *state = hook_state(st, OCIRUN_RUNNING);
    ocirun_hooks_run_warn(st->hooks, OCIRUN_HOOK_POSTSTART, state);
    return 0;
}

/* Wait up to timeout_ms for a process that is not our child to exit. */
static int
wait_gone(const struct ocirun_state *st, int timeout_ms)
{
    int fd = (int)syscall(SYS_pidfd_open, st->pid, 0);
    if (fd < 0)
        return errno == ESRCH ? 0 : -1;
    /* The pid was checked before the open; make sure it is still our process. */
    if (!ocirun_state_pid_alive(st)) {
        close(fd);
        return 0;
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r;
    do
        r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    close(fd);
    return r > 0 ? 0 : -1;
}

/* Signal the container: its init, or with all (or without a pid namespace of its own, where
 * the init's death would not take the others along) every process in its cgroup. */
static int
signal_container(const struct ocirun_state *st, int sig, bool all, struct berth_err *err)
{
    bool frozen = sig == SIGKILL && ocirun_state_status(st) == OCIRUN_PAUSED;
    int rc;
    if (all && st->cgroups && st->cgroups[0])
        rc = ocirun_cgroup_kill_all(st->cgroups, sig, err);
    else if ((rc = kill(st->pid, sig)) < 0)
        berth_err_set(err, errno, "kill pid %d", (int)st->pid);
    /* A frozen task acts on SIGKILL only once thawed, so a paused container would never die:
     * thaw it after the signal is queued, as runc does. */
    if (frozen) {
        struct berth_err e = BERTH_ERR_INIT;
        if (ocirun_cgroup_freeze(st->cgroups, false, &e) < 0)
            berth_err_warn(&e);
    }
    return rc;
}

int
ocirun_container_kill(struct ocirun_global *g, const char *id, int sig, bool all,
                      struct berth_err *err)
{
    cleanup_state struct ocirun_state *st = ocirun_state_load(g->root, id, err);
    if (!st)
        return -1;
    enum ocirun_status s = ocirun_state_status(st);
    if (s == OCIRUN_STOPPED || s == OCIRUN_CREATING) {
        if (all && s == OCIRUN_STOPPED)
            return ocirun_cgroup_kill_all(st->cgroups, sig, err);
        return berth_err_fail(err, ESRCH, "container `%s` is not running", id);
    }
    berth_debug("kill id=%s signal=%d all=%d", id, sig, all);
    return signal_container(st, sig, all, err);
}

/* Remove what is left of a stopped container, then run its poststop hooks. */
static int
destroy(struct ocirun_global *g, struct ocirun_state *st, struct berth_err *err)
{
    if (ocirun_cgroup_destroy(st->cgroups, err) < 0)
        return -1;
    if (ocirun_state_remove(g->root, st->id, err) < 0)
        return -1;
    cleanup_free char *state = hook_state(st, OCIRUN_STOPPED);
    ocirun_hooks_run_warn(st->hooks, OCIRUN_HOOK_POSTSTOP, state);
    return 0;
}

int
ocirun_container_delete(struct ocirun_global *g, const char *id, bool force, struct berth_err *err)
{
    cleanup_state struct ocirun_state *st = ocirun_state_load(g->root, id, err);
    if (!st && force && err->code == ENOENT && ocirun_state_check_id(id, NULL) == 0) {
        berth_err_clear(err); /* nothing to delete: --force succeeds, as runc's does */
        return 0;
    }
    if (!st) {
        /* A state dir without readable state is debris of a crash: --force clears it. */
        cleanup_free char *dir = xasprintf("%s/%s", g->root, id);
        if (!force || err->code == ENOENT || ocirun_state_check_id(id, NULL) < 0 ||
            !berth_fs_exists(dir))
            return -1;
        berth_err_warn(err);
        return ocirun_state_remove(g->root, id, err);
    }
    enum ocirun_status s = ocirun_state_status(st);
    berth_debug("delete id=%s status=%s force=%d", id, ocirun_status_name(s), force);
    if ((s == OCIRUN_RUNNING || s == OCIRUN_PAUSED) && !force)
        return berth_err_fail(err, EBUSY, "cannot delete container `%s` that is not stopped: %s",
                              id, ocirun_status_name(s));
    if (s == OCIRUN_RUNNING || s == OCIRUN_PAUSED || s == OCIRUN_CREATED) {
        if (signal_container(st, SIGKILL, !st->new_pidns, err) < 0 && err->code != ESRCH)
            return berth_err_wrap(err, "delete container `%s`", id);
        berth_err_clear(err);
        if (wait_gone(st, 10000) < 0)
            return berth_err_fail(err, ETIMEDOUT, "delete container `%s`: init pid %d did not exit",
                                  id, (int)st->pid);
    }
    if (destroy(g, st, err) < 0)
        return berth_err_wrap(err, "delete container `%s`", id);
    return 0;
}

int
ocirun_container_run(struct ocirun_global *g, const struct ocirun_create_opts *o, bool detach,
                     struct berth_err *err)
{
    if (detach) {
        if (ocirun_container_create(g, o, err) < 0)
            return -1;
        if (ocirun_container_start(g, o->id, err) < 0) {
            struct berth_err e2 = BERTH_ERR_INIT;
            if (ocirun_container_delete(g, o->id, true, &e2) < 0)
                berth_err_warn(&e2);
            return -1;
        }
        return 0;
    }

    /* Block before clone so no signal slips through between the two; the init unblocks.
     * As a subreaper we also collect orphans of a container without its own pid namespace. */
    sigset_t set, old;
    ocirun_foreground_sigset(&set);
    sigprocmask(SIG_BLOCK, &set, &old);
    ocirun_signals_reset();
    prctl(PR_SET_CHILD_SUBREAPER, 1);

    /* Without --console-socket, a terminal is ours: the init sends its master back here. */
    int sv[2] = {-1, -1};
    cleanup_close int master = -1, console_ours = -1, console_theirs = -1;
    if (!o->console_socket && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
        console_ours = sv[0];
        console_theirs = sv[1];
    }
    struct creation c = {0};
    cleanup_free char *state = NULL;
    int status = -1;
    if (create(g, o, console_theirs, &c, err) < 0) {
        rollback(g, &c);
        berth_err_wrap(err, "run container `%s`", o->id);
        goto out;
    }
    close(steal_fd(&console_theirs));
    if (c.st->terminal && !o->console_socket &&
        (master = ocirun_terminal_recv_fd(console_ours, err)) < 0) {
        rollback(g, &c);
        goto out;
    }
    if (release(c.st, err) < 0) {
        rollback(g, &c);
        berth_err_wrap(err, "run container `%s`", o->id);
        goto out;
    }
    state = hook_state(c.st, OCIRUN_RUNNING);
    ocirun_hooks_run_warn(c.st->hooks, OCIRUN_HOOK_POSTSTART, state);
    status = ocirun_foreground_wait(c.pid, master, &set, err);
    struct berth_err e2 = BERTH_ERR_INIT;
    if (destroy(g, c.st, &e2) < 0)
        berth_err_warn(&e2);
out:
    if (c.st)
        ocirun_state_free(c.st);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return status;
}
