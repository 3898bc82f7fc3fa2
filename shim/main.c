/* SPDX-License-Identifier: Apache-2.0
 *
 * berth-shim: the per-container shim. The command line, the daemon, the signals, the loop.
 *
 *   berth-shim --namespace NS --id ID --bundle DIR --runtime PATH --runtime-root DIR
 *              [--systemd-cgroup] [--debug]
 *
 * The command forks the daemon and waits until it serves DIR/shim.sock, then exits 0 (or 1,
 * printing the daemon's error): when the command returns, the socket is ready. The daemon is
 * a grandchild with a sid of its own (setsid), so it belongs to whatever reaps orphans, never to
 * the caller; it is the child subreaper of the container's processes, works in DIR (the bundle,
 * also its state directory), reads /dev/null and writes its log to DIR/shim.log.
 *
 * The daemon ends only through the API: after answering Delete of the init, or a Create that
 * failed. SIGTERM, SIGINT and SIGHUP are logged and ignored: the container runs on whatever
 * happens to the daemons above, and a stray `kill` must not take its stdio and exit status
 * away.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/log.h"
#include "shim/exit.h"
#include "shim/launch.h"
#include "shim/loop.h"
#include "shim/process.h"
#include "shim/server.h"
#include "shim/shim.h"

struct options {
    const char *ns;
    const char *id;
    const char *bundle;
    const char *runtime;
    const char *runtime_root;
    bool systemd_cgroup;
    bool debug;
    int ready_fd; /* internal: the daemon, started again (see exec_daemon) */
};

enum {
    OPT_NAMESPACE = 256,
    OPT_ID,
    OPT_BUNDLE,
    OPT_RUNTIME,
    OPT_RUNTIME_ROOT,
    OPT_SYSTEMD_CGROUP,
    OPT_DEBUG,
    OPT_READY_FD,
};

static const struct option long_options[] = {
    {"namespace", required_argument, NULL, OPT_NAMESPACE},
    {"id", required_argument, NULL, OPT_ID},
    {"bundle", required_argument, NULL, OPT_BUNDLE},
    {"runtime", required_argument, NULL, OPT_RUNTIME},
    {"runtime-root", required_argument, NULL, OPT_RUNTIME_ROOT},
    {"systemd-cgroup", no_argument, NULL, OPT_SYSTEMD_CGROUP},
    {"debug", no_argument, NULL, OPT_DEBUG},
    {"ready-fd", required_argument, NULL, OPT_READY_FD},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'v'},
    {NULL, 0, NULL, 0},
};

static void
usage(FILE *f)
{
    fputs("Usage: berth-shim --namespace NS --id ID --bundle DIR --runtime PATH\n"
          "                  --runtime-root DIR [--systemd-cgroup] [--debug]\n"
          "\n"
          "Start the shim of container ID: a daemon serving DIR/shim.sock (the berth.shim.v1\n"
          "API) that runs the container with the OCI runtime at PATH, owns its stdio, writes\n"
          "its log and records its exit. DIR is the bundle (with config.json) and the shim's\n"
          "state directory. Returns once the socket is ready; the daemon runs until the\n"
          "container is deleted, whatever signal it gets.\n"
          "\n"
          "   --namespace NS        namespace of the container (for the log)\n"
          "   --id ID               container id, as the runtime knows it\n"
          "   --bundle DIR          bundle and state directory\n"
          "   --runtime PATH        runtime with runc's command line (ocirun)\n"
          "   --runtime-root DIR    the runtime's --root\n"
          "   --systemd-cgroup      pass --systemd-cgroup to the runtime\n"
          "   --debug               debug logging, for the shim and the runtime\n"
          "   --help, -h            show this help\n"
          "   --version, -v         print the version\n",
          f);
}

static int
parse_options(int argc, char **argv, struct options *o, struct berth_err *err)
{
    int c;

    while ((c = getopt_long(argc, argv, "hv", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_NAMESPACE: o->ns = optarg; break;
        case OPT_ID: o->id = optarg; break;
        case OPT_BUNDLE: o->bundle = optarg; break;
        case OPT_RUNTIME: o->runtime = optarg; break;
        case OPT_RUNTIME_ROOT: o->runtime_root = optarg; break;
        case OPT_SYSTEMD_CGROUP: o->systemd_cgroup = true; break;
        case OPT_DEBUG: o->debug = true; break;
        case OPT_READY_FD: o->ready_fd = atoi(optarg); break;
        case 'h': usage(stdout); exit(0);
        case 'v': printf("berth-shim version %s\n", BERTH_VERSION); exit(0);
        default: return berth_err_fail(err, EINVAL, "bad option (see --help)");
        }
    }
    if (optind < argc)
        return berth_err_fail(err, EINVAL, "unexpected argument `%s`", argv[optind]);
    const struct {
        const char *value, *name;
    } required[] = {{o->ns, "--namespace"},
                    {o->id, "--id"},
                    {o->bundle, "--bundle"},
                    {o->runtime, "--runtime"},
                    {o->runtime_root, "--runtime-root"}};
    for (size_t i = 0; i < ARRAY_SIZE(required); i++)
        if (required[i].value == NULL || required[i].value[0] == '\0')
            return berth_err_fail(err, EINVAL, "%s is required", required[i].name);
    if (strchr(o->id, '/') || strcmp(o->id, ".") == 0 || strcmp(o->id, "..") == 0)
        return berth_err_fail(err, EINVAL, "invalid id `%s`", o->id);
    return 0;
}

/* A runtime given by name is looked up in PATH now, so that a typo fails at start. */
static char *
find_runtime(const char *name, struct berth_err *err)
{
    if (strchr(name, '/')) {
        char *abs = realpath(name, NULL);
        if (abs == NULL)
            berth_err_set(err, errno, "runtime `%s`", name);
        return abs;
    }
    const char *path = getenv("PATH");
    cleanup_free char *dirs = xstrdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
    char *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        char *full = xasprintf("%s/%s", d, name);
        if (access(full, X_OK) == 0)
            return full;
        free(full);
    }
    berth_err_fail(err, ENOENT, "runtime `%s` not found in PATH", name);
    return NULL;
}

/* ---- The daemon -------------------------------------------------------------------------- */

/* The daemon runs with BERTH_SHIM_TUNABLES in effect (see shim/launch.h): unless the caller
 * passed them, it is this program started again with them set (exec_daemon), which also leaves
 * the caller's heap behind. */
static void
restore_tunables(void)
{
    const char *saved = getenv(BERTH_SHIM_SAVED_TUNABLES);

    if (saved) {
        setenv("GLIBC_TUNABLES", saved, 1);
        unsetenv(BERTH_SHIM_SAVED_TUNABLES);
    } else {
        unsetenv("GLIBC_TUNABLES");
    }
}

/* 0, 1 and 2 open, so that no fd of ours ever lands there (the caller may have closed them). */
static void
ensure_stdio(void)
{
    int fd;

    while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
        ;
    if (fd > 2)
        close(fd);
}

/* Close what the caller left open without close-on-exec (a listening socket, a pipe): the
 * daemon would hold it for the container's lifetime, and hand it on to the runtime. */
static void
close_inherited(int keep)
{
    if (keep > 3)
        close_range(3, (unsigned)keep - 1, 0);
    close_range((unsigned)keep + 1, ~0U, 0);
}

/* Whether glibc read our tunables when this program started: the caller passed them. */
static bool
tunables_in_effect(void)
{
    const char *v = getenv("GLIBC_TUNABLES");
    size_t n = v ? strlen(v) : 0, t = strlen(BERTH_SHIM_TUNABLES);

    return n >= t && strcmp(v + n - t, BERTH_SHIM_TUNABLES) == 0 && (n == t || v[n - t - 1] == ':');
}

/* Start the daemon again as a new program; returns only if exec fails (the caller then goes on
 * as the daemon itself, with glibc's defaults). */
static void
exec_daemon(int argc, char **argv, int ready)
{
    const char *old = getenv("GLIBC_TUNABLES");
    cleanup_free char *tunables =
        old ? xasprintf("%s:%s", old, BERTH_SHIM_TUNABLES) : xstrdup(BERTH_SHIM_TUNABLES);
    cleanup_free char **args = xzalloc(((size_t)argc + 3) * sizeof(*args));
    char fd[16];

    snprintf(fd, sizeof(fd), "%d", ready);
    for (int i = 0; i < argc; i++)
        args[i] = argv[i];
    args[argc] = "--ready-fd";
    args[argc + 1] = fd;
    if (old)
        setenv(BERTH_SHIM_SAVED_TUNABLES, old, 1);
    setenv("GLIBC_TUNABLES", tunables, 1);
    fcntl(ready, F_SETFD, 0);
    execv("/proc/self/exe", args);
    fcntl(ready, F_SETFD, FD_CLOEXEC);
    restore_tunables();
}

static void
on_signal(struct shim_loop *loop, int signo, void *data)
{
    struct shim *s = data;

    if (signo == SIGCHLD) {
        shim_exit_reap(s);
        return;
    }
    berth_info("%s ignored: the shim runs until its task is deleted", strsignal(signo));
}

/* stdin from /dev/null, stdout and stderr to the shim's log: nothing of the caller's stays
 * open (a caller reading our stdout to EOF would otherwise wait for the container). */
static int
redirect_stdio(struct berth_err *err)
{
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);

    if (null < 0)
        return berth_err_set(err, errno, "open /dev/null");
    dup2(null, 0);
    close(null);
    dup2(berth_log_fd(), 1);
    dup2(berth_log_fd(), 2);
    return 0;
}

/* Everything up to serving: log, socket, pid file. */
static int
daemon_setup(struct shim *s, struct berth_err *err)
{
    sigset_t set;

    umask(022);
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        return berth_err_set(err, errno, "become child subreaper");
    if (chdir(s->dir) < 0)
        return berth_err_set(err, errno, "chdir `%s`", s->dir);
    if (berth_log_init("shim", "shim.log", BERTH_LOG_TEXT,
                       s->rt.debug ? BERTH_LOG_DEBUG : BERTH_LOG_INFO, err) < 0)
        return -1;
    if (redirect_stdio(err) < 0)
        return -1;
    /* A reader of a fifo or an attach client going away is a write error, not a signal. */
    signal(SIGPIPE, SIG_IGN);

    cleanup_free char *exit_dir = xasprintf("%s/exit", s->dir);
    if (berth_fs_mkdir_p(exit_dir, 0755, err) < 0)
        return -1;
    s->loop = shim_loop_new(err);
    if (s->loop == NULL)
        return -1;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (shim_loop_signals(s->loop, &set, on_signal, s, err) < 0)
        return -1;
    cleanup_free char *sock = xasprintf("%s/shim.sock", s->dir);
    s->server = shim_server_listen(s, sock, err);
    if (s->server == NULL)
        return -1;

    char pid[32];
    int n = snprintf(pid, sizeof(pid), "%d", (int)getpid());
    cleanup_free char *pid_file = xasprintf("%s/shim.pid", s->dir);
    if (berth_fs_write_atomic(pid_file, pid, (size_t)n, 0644, err) < 0)
        return -1;
    berth_info("shim started: ns=%s id=%s pid=%d runtime=%s", s->ns, s->id, (int)getpid(),
               s->rt.path);
    return 0;
}

static void
daemon_teardown(struct shim *s)
{
    cleanup_free char *pid_file = xasprintf("%s/shim.pid", s->dir);

    while (s->procs) {
        shim_process_report_now(s->procs);
        shim_process_remove(s->procs);
    }
    shim_server_free(s->server);
    unlink(pid_file);
    shim_loop_free(s->loop);
    berth_info("shim exits");
}

/* The daemon's life; `ready` is the pipe to the waiting command: one byte 0 when serving,
 * or 1 and the error. */
static int
daemon_main(struct shim *s, int ready)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;

    if (daemon_setup(s, &err) < 0) {
        cleanup_free char *msg = berth_err_string(&err);
        char one = 1;
        berth_error("start: %s", msg);
        if (write(ready, &one, 1) == 1 && write(ready, msg, strlen(msg)) < 0)
            berth_debug("report to the caller: %s", strerror(errno));
        /* Not daemon_teardown: a live shim's socket and pid file may be what stopped us. */
        shim_server_free(s->server);
        shim_loop_free(s->loop);
        berth_log_close();
        return 1;
    }
    char zero = 0;
    if (write(ready, &zero, 1) != 1)
        berth_warn("tell the caller the shim is ready: %s", strerror(errno));
    close(ready);

    int rc = 0;
    if (shim_loop_run(s->loop, &err) < 0) {
        berth_err_warn(&err);
        rc = 1;
    }
    daemon_teardown(s);
    berth_log_close();
    return rc;
}

/* The command's side: wait for the daemon's word. */
static int
wait_ready(pid_t child, int ready)
{
    char buf[4096];
    size_t len = 0;
    ssize_t n;

    /* The middle process exits as soon as it forked the daemon. */
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
        ;
    while (len < sizeof(buf) - 1 && (n = read(ready, buf + len, sizeof(buf) - 1 - len)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    if (len > 0 && buf[0] == 0)
        return 0;
    fprintf(stderr, "berth-shim: %s\n", len > 1 ? buf + 1 : "the daemon exited while starting");
    return 1;
}

int
main(int argc, char **argv)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct options o = {.ready_fd = -1};

    ensure_stdio();
    struct shim s = {0};

    if (parse_options(argc, argv, &o, &err) < 0) {
        fprintf(stderr, "berth-shim: %s\n", err.msg);
        return 2;
    }
    cleanup_free char *dir = realpath(o.bundle, NULL);
    if (dir == NULL) {
        fprintf(stderr, "berth-shim: bundle `%s`: %s\n", o.bundle, strerror(errno));
        return 1;
    }
    cleanup_free char *runtime = find_runtime(o.runtime, &err);
    if (runtime == NULL) {
        cleanup_free char *msg = berth_err_string(&err);
        fprintf(stderr, "berth-shim: %s\n", msg);
        return 1;
    }
    /* The daemon works in DIR: a relative --runtime-root must not change meaning. */
    cleanup_free char *cwd = getcwd(NULL, 0);
    cleanup_free char *root = o.runtime_root[0] == '/' || cwd == NULL
                                  ? xstrdup(o.runtime_root)
                                  : xasprintf("%s/%s", cwd, o.runtime_root);
    cleanup_free char *runtime_log = xasprintf("%s/runtime.log", dir);
    s.ns = o.ns;
    s.id = o.id;
    s.dir = dir;
    s.rt = (struct shim_runtime){.path = runtime,
                                 .root = root,
                                 .log = runtime_log,
                                 .systemd_cgroup = o.systemd_cgroup,
                                 .debug = o.debug};

    if (o.ready_fd >= 0) {
        /* Started again by exec_daemon, in the daemon's place. */
        restore_tunables();
        fcntl(o.ready_fd, F_SETFD, FD_CLOEXEC);
        return daemon_main(&s, o.ready_fd);
    }

    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        perror("berth-shim: pipe");
        return 1;
    }
    fflush(NULL);
    pid_t child = fork();
    if (child < 0) {
        perror("berth-shim: fork");
        return 1;
    }
    if (child > 0) {
        close(p[1]);
        return wait_ready(child, p[0]);
    }
    close(p[0]);
    /* setsid: no terminal, no signals of the caller's process group; then a second fork, so
     * the daemon cannot acquire a terminal again and leaves the caller's tree. */
    setsid();
    pid_t daemon = fork();
    if (daemon < 0)
        _exit(1);
    if (daemon > 0)
        _exit(0);
    close_inherited(p[1]);
    if (tunables_in_effect())
        restore_tunables();
    else
        exec_daemon(argc, argv, p[1]);
    return daemon_main(&s, p[1]);
}
