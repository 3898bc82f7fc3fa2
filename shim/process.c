/* SPDX-License-Identifier: Apache-2.0
 *
 * The container's processes and their lifecycle (process.h): the runtime calls that move them
 * from one status to the next, their pids, their exits. Method handlers (task.c) check the
 * request; the transitions and what each one costs the runtime live here.
 *
 * A new process's pid comes from the pid file the runtime writes. Because runtime calls are
 * synchronous and reaping happens only in the loop, the pid is always known before its exit
 * can be reaped; exits of pids that were unknown when reaped are kept anyway (exit.h), and
 * matched when a pid is read, for runtimes that leave the process to exit before they do.
 */
#include "shim/process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/sock.h"
#include "shim/attach.h"
#include "shim/exit.h"
#include "shim/io.h"
#include "shim/logs.h"
#include "shim/oom.h"
#include "shim/runtime.h"
#include "shim/server.h"
#include "shim/shim.h"

static bool
is_init(const struct shim_process *p)
{
    return p->exec_id[0] == '\0';
}

/* ---- The table --------------------------------------------------------------------------- */

const char *
shim_process_status_name(Berth__Shim__V1__Status status)
{
    switch (status) {
    case BERTH__SHIM__V1__STATUS__CREATED: return "created";
    case BERTH__SHIM__V1__STATUS__RUNNING: return "running";
    case BERTH__SHIM__V1__STATUS__STOPPED: return "stopped";
    case BERTH__SHIM__V1__STATUS__PAUSED: return "paused";
    default: return "unknown";
    }
}

struct shim_process *
shim_process_find(struct shim *s, const char *exec_id)
{
    for (struct shim_process *p = s->procs; p; p = p->next)
        if (strcmp(p->exec_id, exec_id ? exec_id : "") == 0)
            return p;
    return NULL;
}

struct shim_process *
shim_process_by_pid(struct shim *s, pid_t pid)
{
    /* A stopped process keeps its pid for State; only a live one can be reaped. */
    for (struct shim_process *p = s->procs; p; p = p->next)
        if (p->pid == pid && p->status != BERTH__SHIM__V1__STATUS__STOPPED)
            return p;
    return NULL;
}

static void
on_attach_input(void *data, const char *buf, size_t len)
{
    struct shim_process *p = data;

    shim_io_input(p->io, buf, len);
}

static void
on_attach_close(void *data)
{
    struct shim_process *p = data;

    shim_io_close_stdin(p->io);
}

static const struct shim_attach_ops attach_ops = {
    .input = on_attach_input,
    .close_input = on_attach_close,
};

static void
process_free(struct shim_process *p)
{
    shim_attach_free(p->attach);
    shim_io_free(p->io);
    shim_log_close(p->log);
    shim_oom_free(p->oom);
    for (int i = 0; i < 3; i++)
        free(p->fifos[i]);
    free(p->exec_id);
    free(p->attach_path);
    free(p->log_path);
    free(p);
}

struct shim_process *
shim_process_new(struct shim *s, const char *exec_id, bool terminal, const Berth__Shim__V1__IO *io,
                 struct berth_err *err)
{
    struct shim_process *p = xzalloc(sizeof(*p));

    p->shim = s;
    p->exec_id = xstrdup(exec_id);
    p->name = p->exec_id[0] ? p->exec_id : "init";
    p->status = BERTH__SHIM__V1__STATUS__CREATED;
    p->terminal = terminal;
    p->fifos[0] = xstrdup(io && io->stdin ? io->stdin : "");
    p->fifos[1] = xstrdup(io && io->stdout ? io->stdout : "");
    p->fifos[2] = xstrdup(io && io->stderr ? io->stderr : "");
    p->attach_path = xasprintf("%s/%s.attach.sock", s->dir, p->name);
    p->log_path = xstrdup("");

    p->io = shim_io_new(s->loop, terminal, p->fifos[0], p->fifos[1], p->fifos[2], err);
    if (p->io == NULL)
        goto fail;
    p->attach = shim_attach_listen(s->loop, p->attach_path, &attach_ops, p, err);
    if (p->attach == NULL)
        goto fail;
    shim_io_set_attach(p->io, p->attach);

    if (is_init(p)) {
        p->next = s->procs;
        s->procs = p;
    } else {
        struct shim_process **tail = &s->procs;
        while (*tail)
            tail = &(*tail)->next;
        *tail = p;
    }
    return p;
fail:
    process_free(p);
    return NULL;
}

static void
unlink_file(const char *dir, const char *fmt, const char *name)
{
    cleanup_free char *path = xasprintf(fmt, dir, name);

    if (unlink(path) < 0 && errno != ENOENT)
        berth_warn("remove `%s`: %s", path, strerror(errno));
}

void
shim_process_remove(struct shim_process *p)
{
    struct shim *s = p->shim;

    for (struct shim_process **q = &s->procs; *q; q = &(*q)->next) {
        if (*q == p) {
            *q = p->next;
            break;
        }
    }
    if (!is_init(p)) {
        unlink_file(s->dir, "%s/%s.process.json", p->name);
        unlink_file(s->dir, "%s/%s.pid", p->name);
        unlink_file(s->dir, "%s/exit/%s", p->name);
    }
    process_free(p);
}

/* ---- Runtime calls ----------------------------------------------------------------------- */

/* Listen on DIR/console.sock, where the runtime sends a terminal's pty master. *arg is what
 * the runtime is told: the absolute path, or the name relative to DIR (the runtime's working
 * directory) when the absolute one is too long for a socket address. */
static int
console_listen(struct shim *s, char **path, char **arg, struct berth_err *err)
{
    struct sockaddr_un sa;
    char *p = xasprintf("%s/console.sock", s->dir);
    int fd = berth_sock_listen(p, true, err);

    if (fd < 0) {
        free(p);
        return -1;
    }
    *arg = strlen(p) < sizeof(sa.sun_path) ? xstrdup(p) : xstrdup("console.sock");
    *path = p;
    return fd;
}

/* Take the pty master the runtime sent while it ran (its connection waits in the backlog). */
static int
console_receive(struct shim_process *p, int lfd, struct berth_err *err)
{
    cleanup_close int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

    if (conn < 0) {
        if (errno == EAGAIN)
            return berth_err_fail(err, EIO, "the runtime sent no terminal to the console socket");
        return berth_err_set(err, errno, "accept on the console socket");
    }
    int master = berth_sock_recv_fd(conn, err);
    if (master < 0)
        return berth_err_wrap(err, "receive the terminal");
    shim_io_set_master(p->io, master);
    return 0;
}

static int
read_pid(const char *path, pid_t *pid, struct berth_err *err)
{
    cleanup_free char *buf = NULL;
    char *end;

    if (berth_fs_read_file(path, &buf, NULL, err) < 0)
        return berth_err_wrap(err, "read the pid the runtime wrote");
    long v = strtol(buf, &end, 10);
    while (*end == '\n' || *end == ' ')
        end++;
    if (end == buf || *end != '\0' || v <= 0 || v > INT32_MAX)
        return berth_err_fail(err, EIO, "pid file `%s` holds no pid", path);
    *pid = (pid_t)v;
    return 0;
}

/* The process runs as pid: watch its stdio, and report an exit already seen. */
static int
process_running(struct shim_process *p, pid_t pid, struct berth_err *err)
{
    uint32_t status;
    int64_t at;

    p->pid = pid;
    if (shim_io_start(p->io, err) < 0)
        return -1;
    if (shim_exit_take(&p->shim->exits, pid, &status, &at))
        shim_process_exited(p, status, at);
    return 0;
}

/* `<runtime> delete --force ID`: what is left of a create that failed half-way (the runtime
 * refused, or the shim could not take the terminal or the pid). */
static void
rollback_create(struct shim *s)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct shim_runtime_call call = SHIM_RUNTIME_CALL_INIT;
    const char *args[] = {"delete", "--force", s->id, NULL};

    if (shim_runtime_run(&s->rt, args, &call, &err) < 0)
        berth_debug("rollback: %s", err.msg);
}

/* Run `create` or `exec` (args, with the pid file and console socket filled in here) with the
 * process's stdio, then take its terminal and pid. */
static int
run_with_stdio(struct shim_process *p, const char **args, size_t n_args, const char *pid_file,
               struct berth_err *err)
{
    struct shim *s = p->shim;
    struct shim_runtime_call call = SHIM_RUNTIME_CALL_INIT;
    cleanup_free char *console = NULL;
    cleanup_free char *console_arg = NULL;
    cleanup_close int lfd = -1;
    pid_t pid = 0;
    int rc = -1;

    if (unlink(pid_file) < 0 && errno != ENOENT)
        return berth_err_set(err, errno, "remove `%s`", pid_file);
    if (p->terminal && (lfd = console_listen(s, &console, &console_arg, err)) < 0)
        return -1;
    /* args: command, its options, then the id last; ours go before the id. */
    const char *argv[16];
    size_t i = 0;
    for (size_t j = 0; j + 1 < n_args; j++)
        argv[i++] = args[j];
    argv[i++] = "--pid-file";
    argv[i++] = pid_file;
    if (console_arg) {
        argv[i++] = "--console-socket";
        argv[i++] = console_arg;
    }
    argv[i++] = args[n_args - 1];
    argv[i] = NULL;

    shim_io_child_fds(p->io, call.stdio, &call.err_fd);
    shim_exit_forget(&s->exits);
    if (shim_runtime_run(&s->rt, argv, &call, err) < 0)
        goto out;
    if (p->terminal && console_receive(p, lfd, err) < 0)
        goto out;
    if (read_pid(pid_file, &pid, err) < 0)
        goto out;
    if (process_running(p, pid, err) < 0)
        goto out;
    rc = 0;
out:
    if (console)
        unlink(console);
    return rc;
}

static void
on_oom(void *data)
{
    struct shim_process *p = data;

    berth_warn("the container's memory cgroup had an OOM kill");
    shim_server_event(p->shim->server, "oom", "", p->pid, 0, 0);
}

int
shim_process_create(struct shim_process *p, const Berth__Shim__V1__LogConfig *log,
                    struct berth_err *err)
{
    struct shim *s = p->shim;
    cleanup_free char *pid_file = xasprintf("%s/init.pid", s->dir);
    const char *args[] = {"create", "--bundle", s->dir, s->id};

    if (log && log->path && log->path[0]) {
        p->log = shim_log_open(log->path, log->max_size, log->max_files, err);
        if (p->log == NULL)
            return -1;
        free(p->log_path);
        p->log_path = xstrdup(log->path);
        shim_io_set_log(p->io, p->log);
    }
    /* A container of that id already in the runtime's root (runc's layout: <root>/<id>) is
     * not ours to roll back when the runtime refuses to create it again. */
    cleanup_free char *state = xasprintf("%s/%s", s->rt.root, s->id);
    bool existed = berth_fs_exists(state);
    if (run_with_stdio(p, args, ARRAY_SIZE(args), pid_file, err) < 0) {
        if (!existed)
            rollback_create(s);
        return -1;
    }
    berth_info("container created, init pid %d", (int)p->pid);
    p->oom = shim_oom_watch(s->loop, p->pid, on_oom, p);
    return 0;
}

static int
start_exec(struct shim_process *p, struct berth_err *err)
{
    struct shim *s = p->shim;
    cleanup_free char *spec = xasprintf("%s/%s.process.json", s->dir, p->name);
    cleanup_free char *pid_file = xasprintf("%s/%s.pid", s->dir, p->name);
    const char *args[] = {"exec", "--process", spec, "--detach", s->id};

    if (run_with_stdio(p, args, ARRAY_SIZE(args), pid_file, err) < 0)
        return -1;
    berth_info("exec `%s` started, pid %d", p->exec_id, (int)p->pid);
    return 0;
}

int
shim_process_start(struct shim_process *p, struct berth_err *err)
{
    struct shim *s = p->shim;

    if (p->status != BERTH__SHIM__V1__STATUS__CREATED)
        return berth_err_fail(err, EBUSY, "%s `%s` is %s, not created",
                              is_init(p) ? "task" : "exec", is_init(p) ? s->id : p->exec_id,
                              shim_process_status_name(p->status));
    if (!is_init(p)) {
        if (start_exec(p, err) < 0)
            return -1;
    } else {
        struct shim_runtime_call call = SHIM_RUNTIME_CALL_INIT;
        const char *args[] = {"start", s->id, NULL};
        if (shim_runtime_run(&s->rt, args, &call, err) < 0)
            return -1;
        berth_info("container started");
    }
    /* An exit reaped in between (process_running) already made it STOPPED. */
    if (p->status == BERTH__SHIM__V1__STATUS__CREATED)
        p->status = BERTH__SHIM__V1__STATUS__RUNNING;
    return 0;
}

int
shim_process_kill(struct shim_process *p, uint32_t signal, bool all, struct berth_err *err)
{
    struct shim *s = p->shim;

    if (signal == 0 || signal >= (uint32_t)NSIG)
        return berth_err_fail(err, EINVAL, "invalid signal %u", signal);
    if (is_init(p)) {
        /* --all reaches what the init left behind in the container, even after it exited. */
        if (p->status == BERTH__SHIM__V1__STATUS__STOPPED && !all)
            return berth_err_fail(err, EBUSY, "task `%s` is not running", s->id);
        char sig[16];
        snprintf(sig, sizeof(sig), "%u", signal);
        struct shim_runtime_call call = SHIM_RUNTIME_CALL_INIT;
        const char *with_all[] = {"kill", "--all", s->id, sig, NULL};
        const char *without[] = {"kill", s->id, sig, NULL};
        return shim_runtime_run(&s->rt, all ? with_all : without, &call, err);
    }
    if (p->status != BERTH__SHIM__V1__STATUS__RUNNING &&
        p->status != BERTH__SHIM__V1__STATUS__PAUSED)
        return berth_err_fail(err, EBUSY, "exec `%s` is not running", p->exec_id);
    if (kill(p->pid, (int)signal) < 0 && errno != ESRCH)
        return berth_err_set(err, errno, "signal exec `%s` (pid %d)", p->exec_id, (int)p->pid);
    return 0;
}

/* ---- Exits ------------------------------------------------------------------------------- */

static void
report(void *data)
{
    struct shim_process *p = data;

    if (p->reported)
        return;
    p->reported = true;
    if (p->log)
        shim_log_flush(p->log);
    /* An OOM kill that ended the init is told before its exit. */
    shim_oom_check(p->oom);
    shim_server_event(p->shim->server, "exit", p->exec_id, p->pid, p->exit_status, p->exited_at);
    shim_attach_exit(p->attach, p->exit_status);
}

void
shim_process_exited(struct shim_process *p, uint32_t status, int64_t at)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;

    if (p->status == BERTH__SHIM__V1__STATUS__STOPPED)
        return;
    if (shim_exit_record(p->shim->dir, p->name, p->pid, status, at, &err) < 0)
        berth_err_warn(&err);
    p->status = BERTH__SHIM__V1__STATUS__STOPPED;
    p->exit_status = status;
    p->exited_at = at;
    if (is_init(p))
        berth_info("init (pid %d) exited with status %u", (int)p->pid, status);
    else
        berth_info("exec `%s` (pid %d) exited with status %u", p->exec_id, (int)p->pid, status);
    shim_io_drain(p->io, SHIM_DRAIN_TIMEOUT_MS, report, p);
}

void
shim_process_report_now(struct shim_process *p)
{
    if (p->status == BERTH__SHIM__V1__STATUS__STOPPED && !p->reported)
        shim_io_drain_now(p->io);
}

/* ---- State ------------------------------------------------------------------------------- */

void
shim_process_state(const struct shim_process *p, Berth__Shim__V1__ProcessState *st,
                   Berth__Shim__V1__IO *st_io)
{
    berth__shim__v1__process_state__init(st);
    berth__shim__v1__io__init(st_io);
    st_io->stdin = p->fifos[0];
    st_io->stdout = p->fifos[1];
    st_io->stderr = p->fifos[2];
    st_io->terminal = p->terminal;
    st->exec_id = p->exec_id;
    st->pid = (uint32_t)p->pid;
    st->status = p->status;
    st->exit_status = p->exit_status;
    st->exited_at = p->exited_at;
    st->terminal = p->terminal;
    st->io = st_io;
    st->attach_socket = p->attach_path;
    st->log_path = p->log_path;
}
