// SPDX-License-Identifier: Apache-2.0
//
// berth-supervisor: the lifecycle daemon. It opens the metadata store, finds the shims of an
// earlier run, serves the gRPC API, and on SIGTERM/SIGINT stops serving and exits, leaving
// every shim and container running. Signals are handled by the main thread alone (sigwait):
// they are blocked before any other thread starts, so gRPC's threads never see them.

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/rpc.h"
#include "supervisor/content/content.h"
#include "supervisor/daemon.h"
#include "supervisor/events/exchange.h"
#include "supervisor/images/images.h"
#include "supervisor/images/lease.h"
#include "supervisor/remote/remote.h"
#include "supervisor/runtime/tasks.h"
#include "supervisor/services/service.h"
#include "supervisor/snapshot/snapshot.h"
#include "supervisor/store/store.h"

static const char usage[] =
    "usage: berth-supervisor [options]\n"
    "\n"
    "The berth lifecycle daemon: namespaces, containers, tasks and events over gRPC.\n"
    "Runs in the foreground; SIGTERM or SIGINT stop it and leave containers running.\n"
    "\n"
    "  --root DIR        persistent data (default /var/lib/berth/supervisor)\n"
    "  --state DIR       runtime state, task bundles (default /run/berth/supervisor)\n"
    "  --address PATH    gRPC unix socket (default /run/berth/supervisor.sock)\n"
    "  --runtime PATH    OCI runtime (default: ocirun beside this binary, else in PATH)\n"
    "  --shim PATH       shim binary (default: berth-shim beside this binary, else in PATH)\n"
    "  --log-level LVL   error, warn, info (default), debug, trace\n"
    "  --log-format FMT  text (default) or json\n"
    "  --debug           same as --log-level debug\n"
    "  --registry-config FILE  registry credentials, docker config.json format (default\n"
    "                    $DOCKER_CONFIG/config.json, else ~/.docker/config.json)\n"
    "  --registry-ca FILE      CA certificates (PEM) for registries instead of the system's\n"
    "  --insecure-registry HOST  allow plain http and unchecked TLS for HOST (repeatable)\n"
    "  --version         print the version and exit\n";

struct options {
    const char *root, *state, *address, *runtime, *shim;
    int level, format;
    const char *registry_config, *registry_ca;
    const char **insecure; /* --insecure-registry, in order */
    size_t n_insecure;
};

static void
options_clear(struct options *o)
{
    free(o->insecure);
}

// An executable by name: beside our own binary first (an installed set, or a build tree
// laid out by part), then PATH. Returns a heap absolute path or NULL.
static char *
find_binary(const char *name, const char *const *siblings)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = '\0';
        *strrchr(self, '/') = '\0';
        for (const char *const *s = siblings; *s; s++) {
            char *p = xasprintf("%s/%s", self, *s);
            if (access(p, X_OK) == 0)
                return p;
            free(p);
        }
    }
    const char *path = getenv("PATH");
    cleanup_free char *copy = xstrdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
    char *save = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        char *p = xasprintf("%s/%s", dir, name);
        if (dir[0] == '/' && access(p, X_OK) == 0)
            return p;
        free(p);
    }
    return NULL;
}

static int
parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"root", required_argument, NULL, 'r'},
        {"state", required_argument, NULL, 's'},
        {"address", required_argument, NULL, 'a'},
        {"runtime", required_argument, NULL, 'R'},
        {"shim", required_argument, NULL, 'S'},
        {"log-level", required_argument, NULL, 'l'},
        {"log-format", required_argument, NULL, 'f'},
        {"debug", no_argument, NULL, 'd'},
        {"version", no_argument, NULL, 'v'},
        {"registry-config", required_argument, NULL, 'C'},
        {"registry-ca", required_argument, NULL, 'A'},
        {"insecure-registry", required_argument, NULL, 'I'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
        switch (c) {
        case 'r': o->root = optarg; break;
        case 's': o->state = optarg; break;
        case 'a': o->address = optarg; break;
        case 'R': o->runtime = optarg; break;
        case 'S': o->shim = optarg; break;
        case 'd': o->level = BERTH_LOG_DEBUG; break;
        case 'C': o->registry_config = optarg; break;
        case 'A': o->registry_ca = optarg; break;
        case 'I':
            o->insecure = xrealloc(o->insecure, (o->n_insecure + 1) * sizeof(*o->insecure));
            o->insecure[o->n_insecure++] = optarg;
            break;
        case 'l':
            if ((o->level = berth_log_level_parse(optarg)) < 0) {
                fprintf(stderr, "berth-supervisor: unknown log level `%s`\n", optarg);
                return 2;
            }
            break;
        case 'f':
            if ((o->format = berth_log_format_parse(optarg)) < 0) {
                fprintf(stderr, "berth-supervisor: unknown log format `%s`\n", optarg);
                return 2;
            }
            break;
        case 'v': printf("berth-supervisor version %s\n", BERTH_VERSION); return 0;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "berth-supervisor: unexpected argument `%s`\n", argv[optind]);
        return 2;
    }
    return -1;
}

// One supervisor per state dir: two would both reap the same shims' events and race on
// bundles. The lock is held for the life of the process.
static int
lock_state(const char *state, struct berth_err *err)
{
    cleanup_free char *path = xasprintf("%s/supervisor.lock", state);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return berth_err_set(err, errno, "open `%s`", path);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return berth_err_fail(err, EBUSY, "another berth-supervisor uses state `%s`", state);
        return berth_err_set(err, e, "lock `%s`", path);
    }
    return fd;
}

static int
run(struct sup_daemon *d, struct berth_err *err)
{
    if (berth_fs_mkdir_p(d->root, 0711, err) < 0 || berth_fs_mkdir_p(d->state, 0711, err) < 0)
        return -1;
    cleanup_close int lockfd = lock_state(d->state, err);
    if (lockfd < 0)
        return -1;
    if (sup_store_open(d->root, &d->store, err) < 0)
        return berth_err_wrap(err, "open store in `%s`", d->root);
    if (sup_content_open(d->root, d->store, &d->content, err) < 0) {
        sup_store_close(d->store);
        return -1;
    }
    d->events = sup_events_new();
    d->leases = sup_leases_new();
    d->images = sup_images_state_new();
    int rc = -1;
    struct berth_rpc_server *srv = NULL;
    cleanup_free char *snapshots = xasprintf("%s/snapshots", d->root);
    int opened = sup_snapshotter_open(snapshots, &d->snapshots, err);
    /* Tasks mount their containers' snapshots: the snapshotter comes first. */
    struct sup_tasks_opts to = {
        .root = d->root,
        .state = d->state,
        .shim_binary = d->shim,
        .runtime = d->runtime,
        .debug = d->debug,
        .events = d->events,
        .snapshots = d->snapshots,
    };
    d->tasks = sup_tasks_new(&to);
    if (opened < 0)
        goto out;
    if (sup_remote_new(d->remote_opts, &d->remote, err) < 0) {
        berth_err_wrap(err, "registry client");
        goto out;
    }
    if (sup_tasks_recover(d->tasks, err) < 0)
        goto out;
    srv = berth_rpc_server_new(d->address, err);
    if (!srv || sup_services_register(srv, d, err) < 0 || berth_rpc_server_start(srv, err) < 0)
        goto out;
    berth_info("serving on %s (root %s, state %s, runtime %s)", d->address, d->root, d->state,
               d->runtime);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int sig = 0;
    sigwait(&set, &sig);
    berth_info("%s: stopping; containers keep running", strsignal(sig));
    rc = 0;
out:
    berth_rpc_server_free(srv, 2000);
    /* No call runs now; a background collection ends before the stores close. */
    sup_images_state_free(d->images);
    sup_remote_free(d->remote);
    sup_leases_free(d->leases);
    sup_tasks_free(d->tasks);
    sup_events_free(d->events);
    sup_snapshotter_close(d->snapshots);
    sup_content_close(d->content);
    sup_store_close(d->store);
    return rc;
}

int
main(int argc, char **argv)
{
    struct options o __attribute__((cleanup(options_clear))) = {
        .root = "/var/lib/berth/supervisor",
        .state = "/run/berth/supervisor",
        .address = "/run/berth/supervisor.sock",
        .level = BERTH_LOG_INFO,
        .format = BERTH_LOG_TEXT,
    };
    int r = parse_args(argc, argv, &o);
    if (r >= 0)
        return r;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    if (berth_log_init("supervisor", NULL, o.format, o.level, &err) < 0) {
        fprintf(stderr, "berth-supervisor: %s\n", err.msg);
        return 1;
    }
    // Before any thread exists: every thread inherits this mask.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    cleanup_free char *runtime =
        o.runtime
            ? xstrdup(o.runtime)
            : find_binary("ocirun", (const char *const[]){"ocirun", "../ocirun/ocirun", NULL});
    cleanup_free char *shim =
        o.shim ? xstrdup(o.shim)
               : find_binary("berth-shim",
                             (const char *const[]){"berth-shim", "../shim/berth-shim", NULL});
    if (!runtime || !shim) {
        berth_error("cannot find %s: give its path with %s", !runtime ? "ocirun" : "berth-shim",
                    !runtime ? "--runtime" : "--shim");
        return 1;
    }
    struct sup_remote_options ro = {
        .auth_file = o.registry_config,
        .ca_file = o.registry_ca,
        .insecure_registries = o.insecure,
        .n_insecure_registries = o.n_insecure,
    };
    struct sup_daemon d = {
        .root = o.root,
        .state = o.state,
        .address = o.address,
        .runtime = runtime,
        .shim = shim,
        .debug = o.level >= BERTH_LOG_DEBUG,
        .remote_opts = &ro,
    };
    r = run(&d, &err);
    if (r < 0) {
        cleanup_free char *msg = berth_err_string(&err);
        berth_error("%s", msg);
        return 1;
    }
    return 0;
}
