// SPDX-License-Identifier: Apache-2.0
//
// `exec`: a new process inside a running container.
//
//   ocirun ──fork──> helper: joins the container's cgroups, then its namespaces (user first,
//     │                      mount last; pid and time apply to children only)
//     │                └──clone(CLONE_PARENT)──> process: becomes ocirun's own child, in
//     │                                          every namespace; sets itself up (terminal,
//     │                                          rlimits, caps, user, cwd, seccomp), execs
//     │<── sync: the process's pid (from the helper), then EOF on exec or an error
//     └── detached: write --pid-file, return; else forward signals, wait, return its status
//
// The process starts from the container's own `process` settings (the copy of config.json
// kept in its state directory), with the command line's overrides, as runc does.

#include "ocirun/container.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/capability.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "ocirun/foreground.h"
#include "ocirun/linux/caps.h"
#include "ocirun/linux/process.h"
#include "ocirun/linux/seccomp-bpf.h"
#include "ocirun/linux/seccomp.h"
#include "ocirun/linux/sync.h"
#include "ocirun/linux/terminal.h"
#include "ocirun/ocirun.h"
#include "ocirun/spec.h"
#include "ocirun/state.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int
parse_uint(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > UINT32_MAX || s[0] == '-')
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* Replace KEY=... in env or append it. */
static void
env_set(char ***env, const char *kv)
{
    size_t klen = strcspn(kv, "=");
    size_t n = 0;
    for (; (*env)[n]; n++) {
        if (strncmp((*env)[n], kv, klen) == 0 && (*env)[n][klen] == '=') {
            free((*env)[n]);
            (*env)[n] = xstrdup(kv);
            return;
        }
    }
    *env = xrealloc(*env, (n + 2) * sizeof(char *));
    (*env)[n] = xstrdup(kv);
    (*env)[n + 1] = NULL;
}

/* The container's process settings with the command line's changes applied. */
static int
build_process(struct ocirun_global *g, const struct ocirun_state *st,
              const struct ocirun_exec_opts *o, struct ocirun_process *pr,
              struct ocirun_seccomp **seccomp, struct ocirun_seccomp_bpf *bpf,
              struct berth_err *err)
{
    cleanup_free char *path = xasprintf("%s/config.json", st->dir);
    cleanup_json struct json_object *doc = berth_json_parse_file(path, err);
    struct json_object *lx = NULL, *sc = NULL;
    if (!doc)
        return berth_err_wrap(err, "container config");
    /* The container's seccomp profile applies to every process in it. */
    if (berth_json_get_object(doc, "linux", &lx, err) < 0 ||
        (lx && berth_json_get_object(lx, "seccomp", &sc, err) < 0) ||
        ocirun_seccomp_parse(sc, seccomp, err) < 0)
        return berth_err_wrap(err, "container config");
    if (*seccomp && ocirun_compile_seccomp(g, doc, *seccomp, bpf, err) < 0)
        return -1;
    if (o->process_file) {
        cleanup_json struct json_object *p = berth_json_parse_file(o->process_file, err);
        if (!p || ocirun_spec_parse_process(p, pr, err) < 0)
            return berth_err_wrap(err, "process file `%s`", o->process_file);
        return 0;
    }
    struct json_object *p = NULL;
    if (berth_json_get_object(doc, "process", &p, err) <= 0 || !p)
        return err->msg ? -1 : berth_err_fail(err, EINVAL, "container config has no process");
    /* Parse a copy with our args so the check that args are present passes. */
    cleanup_json struct json_object *copy = NULL;
    if (json_object_deep_copy(p, &copy, NULL) < 0)
        return berth_err_fail(err, ENOMEM, "copy process");
    struct json_object *args = json_object_new_array();
    for (char **a = o->args; a && *a; a++)
        json_object_array_add(args, json_object_new_string(*a));
    json_object_object_add(copy, "args", args);
    if (!o->args || !o->args[0])
        return berth_err_fail(err, EINVAL, "exec needs a command");
    if (ocirun_spec_parse_process(copy, pr, err) < 0)
        return berth_err_wrap(err, "process");
    for (char **e = o->env; e && *e; e++) {
        if (!strchr(*e, '='))
            return berth_err_fail(err, EINVAL, "--env `%s` is not KEY=VALUE", *e);
        env_set(&pr->env, *e);
    }
    if (o->cwd) {
        if (o->cwd[0] != '/')
            return berth_err_fail(err, EINVAL, "--cwd `%s` is not absolute", o->cwd);
        free(pr->cwd);
        pr->cwd = berth_fs_clean(o->cwd);
    }
    if (o->user) {
        cleanup_free char *u = xstrdup(o->user);
        char *colon = strchr(u, ':');
        if (colon)
            *colon++ = '\0';
        if (parse_uint(u, &pr->uid) < 0 || (colon && parse_uint(colon, &pr->gid) < 0))
            return berth_err_fail(err, EINVAL, "--user `%s`: want UID[:GID]", o->user);
    }
    for (char **ag = o->additional_gids; ag && *ag; ag++) {
        uint32_t gid;
        if (parse_uint(*ag, &gid) < 0)
            return berth_err_fail(err, EINVAL, "--additional-gids `%s` is not a gid", *ag);
        pr->additional_gids =
            xrealloc(pr->additional_gids, (pr->n_additional_gids + 1) * sizeof(uint32_t));
        pr->additional_gids[pr->n_additional_gids++] = gid;
    }
    for (char **c = o->caps; c && *c; c++) {
        int cap = berth_cap_from_name(*c);
        if (cap < 0)
            return berth_err_fail(err, EINVAL, "--cap: unknown capability `%s`", *c);
        uint64_t bit = 1ULL << cap;
        pr->caps.present = true;
        pr->caps.bounding |= bit;
        pr->caps.effective |= bit;
        pr->caps.permitted |= bit;
    }
    if (o->no_new_privs)
        pr->no_new_privileges = true;
    pr->terminal = o->tty;
    return 0;
}

/* Open the namespaces of pid that differ from ours (joining our own user namespace again
 * would fail). fds must hold OCIRUN_NS_COUNT entries. */
static int
open_target_ns(pid_t pid, int *fds, struct berth_err *err)
{
    for (int i = 0; i < OCIRUN_NS_COUNT; i++) {
        char path[64], self[64];
        struct stat a, b;
        fds[i] = -1;
        snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ocirun_ns_proc_name(i));
        snprintf(self, sizeof(self), "/proc/self/ns/%s", ocirun_ns_proc_name(i));
        if (stat(path, &a) < 0) {
            if (errno == ENOENT)
                continue; /* a kind this kernel lacks */
            return berth_err_set(err, errno, "stat `%s`", path);
        }
        if (stat(self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
            continue;
        fds[i] = open(path, O_RDONLY | O_CLOEXEC);
        if (fds[i] < 0)
            return berth_err_set(err, errno, "open `%s`", path);
    }
    return 0;
}

struct exec_child {
    struct ocirun_process *pr;
    const struct ocirun_seccomp_bpf *seccomp;
    const struct ocirun_state *st;
    int *ns_fds;
    int sync_fd;
    int console_fd;
    int preserve_fds;
};

/* Load the container's filter; a notify fd goes to the parent (see linux/init.c). */
static int
load_seccomp(void *arg, struct berth_err *err)
{
    struct exec_child *c = arg;
    int fd = ocirun_seccomp_load_bpf(c->seccomp, err);
    if (fd < 0)
        return -1;
    if (fd > 0) {
        int r = ocirun_sync_send_fd(c->sync_fd, OCIRUN_SYNC_SECCOMP_FD, fd);
        close(fd);
        if (r < 0)
            return berth_err_set(err, errno, "send seccomp notify fd");
    }
    return 0;
}

/* The process itself, inside everything: set up and exec, or report and exit. */
_Noreturn static void
run_process(struct exec_child *c)
{
    struct berth_err err = BERTH_ERR_INIT;
    sigset_t none;
    sigemptyset(&none);
    ocirun_signals_reset();
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (c->ns_fds[OCIRUN_NS_USER] >= 0 && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
        berth_err_set(&err, errno, "become root in the user namespace");
        ocirun_sync_fail(c->sync_fd, &err);
    }
    if (c->pr->terminal && ocirun_terminal_setup(c->pr, c->console_fd, false, &err) < 0)
        ocirun_sync_fail(c->sync_fd, &err);
    if (!c->pr->terminal && setsid() < 0 && errno != EPERM) {
        berth_err_set(&err, errno, "setsid");
        ocirun_sync_fail(c->sync_fd, &err);
    }
    ocirun_process_default_home(&c->pr->env, c->pr->uid);
    /* Before the seccomp filter, which may well not allow close_range. */
    if (ocirun_process_prepare_fds(c->preserve_fds, &err) < 0)
        ocirun_sync_fail(c->sync_fd, &err);
    if (ocirun_process_setup(c->pr, c->seccomp ? load_seccomp : NULL, c, &err) < 0)
        ocirun_sync_fail(c->sync_fd, &err);
    cleanup_free char *exe = ocirun_process_find_exe(c->pr, &err);
    if (!exe)
        ocirun_sync_fail(c->sync_fd, &err);
    if (ocirun_lsm_apply(&c->pr->lsm, &err) < 0)
        ocirun_sync_fail(c->sync_fd, &err);
    execve(exe, c->pr->args, c->pr->env);
    berth_err_set(&err, errno, "exec `%s`", exe);
    ocirun_sync_fail(c->sync_fd, &err);
}

/* The helper: cgroups, namespaces, then the process as ocirun's child. */
_Noreturn static void
run_helper(struct exec_child *c)
{
    static const enum ocirun_ns order[] = {OCIRUN_NS_USER, OCIRUN_NS_NET,    OCIRUN_NS_IPC,
                                           OCIRUN_NS_UTS,  OCIRUN_NS_CGROUP, OCIRUN_NS_PID,
                                           OCIRUN_NS_TIME, OCIRUN_NS_MNT};
    struct berth_err err = BERTH_ERR_INIT;
    char pid[32];
    /* Nothing in the container may reach into us through /proc while we run ocirun's code
     * there (see linux/sealed-exe.h); the process inherits this, and exec resets it. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    for (char **p = c->st->cgroups; p && *p; p++) {
        cleanup_free char *procs = xasprintf("%s/cgroup.procs", *p);
        cleanup_close int fd = open(procs, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, pid, strlen(pid)) < 0) {
            berth_err_set(&err, errno, "join cgroup `%s`", *p);
            ocirun_sync_fail(c->sync_fd, &err);
        }
    }
    for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
        int fd = c->ns_fds[order[i]];
        if (fd >= 0 && setns(fd, ocirun_ns_flag(order[i])) < 0) {
            berth_err_set(&err, errno, "join %s namespace", ocirun_ns_name(order[i]));
            ocirun_sync_fail(c->sync_fd, &err);
        }
    }
    pid_t child =
        (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_PARENT | SIGCHLD), NULL, NULL, NULL, NULL);
    if (child < 0) {
        berth_err_set(&err, errno, "clone");
        ocirun_sync_fail(c->sync_fd, &err);
    }
    if (child == 0)
        run_process(c);
    ocirun_sync_send(c->sync_fd, OCIRUN_SYNC_READY, child, NULL);
    _exit(0);
}

/* Parent side: wait for the process's pid, then for exec (EOF) or its error; a seccomp
 * notify fd on the way is handed to the profile's listener. */
static pid_t
await_exec(int sync_fd, pid_t helper, const struct ocirun_seccomp *seccomp,
           const struct ocirun_state *st, struct berth_err *err)
{
    int code = 0;
    int type = ocirun_sync_recv_code(sync_fd, &code, err);
    while (waitpid(helper, NULL, 0) < 0 && errno == EINTR)
        ;
    if (type < 0)
        return -1;
    if (type != OCIRUN_SYNC_READY || code <= 0)
        return berth_err_fail(err, EPROTO, "unexpected message from exec helper");
    pid_t pid = code;
    int passed = -1;
    type = ocirun_sync_recv_fd(sync_fd, &passed, err);
    if (type == OCIRUN_SYNC_SECCOMP_FD) {
        cleanup_close int fd = passed;
        cleanup_json struct json_object *o = ocirun_state_to_json(st, OCIRUN_RUNNING);
        if (fd < 0 ||
            ocirun_seccomp_send_notify_fd(
                seccomp, fd, json_object_to_json_string_ext(o, OCIRUN_JSON_PLAIN), pid, err) < 0) {
            if (fd < 0)
                berth_err_fail(err, EPROTO, "seccomp notify fd missing");
            kill(pid, SIGKILL);
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
            return -1;
        }
        type = ocirun_sync_recv(sync_fd, NULL, err);
    } else if (passed >= 0) {
        close(passed);
    }
    if (type < 0 && err->code == ECHILD) {
        berth_err_clear(err); /* EOF: the process exec'd, closing its end */
        return pid;
    }
    if (type >= 0)
        berth_err_fail(err, EPROTO, "unexpected message from exec process");
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    return -1;
}

int
ocirun_container_exec(struct ocirun_global *g, const struct ocirun_exec_opts *o,
                      struct berth_err *err)
{
    cleanup_state struct ocirun_state *st = ocirun_state_load(g->root, o->id, err);
    if (!st)
        return -1;
    enum ocirun_status s = ocirun_state_status(st);
    if (s != OCIRUN_RUNNING && s != OCIRUN_CREATED)
        return berth_err_fail(err, EBUSY, "cannot exec in container `%s`: it is %s", o->id,
                              ocirun_status_name(s));
    struct ocirun_process pr = {0};
    struct ocirun_seccomp *seccomp = NULL;
    struct ocirun_seccomp_bpf bpf = {0};
    int ns_fds[OCIRUN_NS_COUNT];
    for (int i = 0; i < OCIRUN_NS_COUNT; i++)
        ns_fds[i] = -1;
    cleanup_close int sync_parent = -1, sync_child = -1, console = -1, console_ours = -1;
    cleanup_close int master = -1;
    int rc = -1, sv[2];
    sigset_t set, old;
    ocirun_foreground_sigset(&set);

    if (build_process(g, st, o, &pr, &seccomp, &bpf, err) < 0)
        goto out;
    if (pr.terminal && o->console_socket) {
        if ((console = ocirun_terminal_connect(o->console_socket, err)) < 0)
            goto out;
    } else if (pr.terminal) {
        if (o->detach) {
            berth_err_fail(err, EINVAL, "--tty with --detach needs --console-socket");
            goto out;
        }
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
            berth_err_set(err, errno, "socketpair");
            goto out;
        }
        console_ours = sv[0];
        console = sv[1];
        ocirun_foreground_winsize(&pr.console_height, &pr.console_width);
    } else if (o->console_socket) {
        berth_err_fail(err, EINVAL, "--console-socket needs --tty");
        goto out;
    }
    if (open_target_ns(st->pid, ns_fds, err) < 0)
        goto out;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        berth_err_set(err, errno, "socketpair");
        goto out;
    }
    sync_parent = sv[0];
    sync_child = sv[1];

    sigprocmask(SIG_BLOCK, &set, &old);
    ocirun_signals_reset();
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    pid_t helper = fork();
    if (helper < 0) {
        berth_err_set(err, errno, "fork");
        goto unblock;
    }
    if (helper == 0) {
        close(sync_parent);
        struct exec_child c = {.pr = &pr,
                               .seccomp = seccomp ? &bpf : NULL,
                               .st = st,
                               .ns_fds = ns_fds,
                               .sync_fd = sync_child,
                               .console_fd = console,
                               .preserve_fds = o->preserve_fds};
        run_helper(&c);
    }
    close(steal_fd(&sync_child));
    close(steal_fd(&console));
    pid_t pid = await_exec(sync_parent, helper, seccomp, st, err);
    if (pid < 0)
        goto unblock;
    if (o->pid_file) {
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
        if (berth_fs_write_atomic(o->pid_file, buf, n, 0644, err) < 0) {
            berth_err_wrap(err, "pid file");
            kill(pid, SIGKILL);
            goto unblock;
        }
    }
    if (o->detach) {
        rc = 0;
        goto unblock;
    }
    if (console_ours >= 0 && (master = ocirun_terminal_recv_fd(console_ours, err)) < 0) {
        kill(pid, SIGKILL);
        goto unblock;
    }
    rc = ocirun_foreground_wait(pid, master, &set, err);
unblock:
    sigprocmask(SIG_SETMASK, &old, NULL);
out:
    for (int i = 0; i < OCIRUN_NS_COUNT; i++)
        if (ns_fds[i] >= 0)
            close(ns_fds[i]);
    ocirun_process_free(&pr);
    ocirun_seccomp_free(seccomp);
    ocirun_seccomp_bpf_free(&bpf);
    if (rc < 0)
        berth_err_wrap(err, "exec in container `%s`", o->id);
    return rc;
}
