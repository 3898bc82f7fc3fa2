// SPDX-License-Identifier: Apache-2.0
//
// berthd: the engine daemon. It reads daemon.json, locks its root, opens engine.db, serves
// the Docker Engine API on a unix socket and talks to berth-supervisor for images (and, as
// they come, containers). SIGTERM or SIGINT stop it; signals are taken by the main thread
// alone (sigwait), blocked before any other thread starts.

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/log.h"
#include "engine/api/server.h"
#include "engine/config.h"
#include "engine/containers/containers.h"
#include "engine/daemon.h"
#include "engine/events/events.h"
#include "engine/store/store.h"
#include "engine/supervisor/client.h"

static const char usage[] =
    "usage: berthd [options]\n"
    "\n"
    "The berth engine: the Docker Engine API (v1.41) over a unix socket.\n"
    "Runs in the foreground; SIGTERM or SIGINT stop it.\n"
    "\n"
    "  --root DIR          persistent data (default /var/lib/berth/engine)\n"
    "  --state DIR         runtime state (default /run/berth/engine)\n"
    "  -H, --host ADDR     unix://SOCKET to serve on (default unix:///run/berth/berthd.sock)\n"
    "  -G, --group NAME    the socket's group, which may use the API (default berth, when it\n"
    "                      exists; otherwise root alone)\n"
    "  --supervisor PATH   berth-supervisor's socket (default /run/berth/supervisor.sock)\n"
    "  --config FILE       daemon.json (default /etc/berth/daemon.json; missing: defaults)\n"
    "  -b, --bridge NAME   the default network's bridge (default berth0; none: containers\n"
    "                      get no network unless they name one)\n"
    "  --log-level LVL     error, warn, info (default), debug, trace\n"
    "  -D, --debug         same as --log-level debug\n"
    "  -v, --version       print the version and exit\n";

struct options {
    const char *root, *state, *host, *group, *supervisor, *config, *bridge;
    int level;
    bool debug;
};

static int
parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"root", required_argument, NULL, 'r'},
        {"data-root", required_argument, NULL, 'r'},
        {"state", required_argument, NULL, 's'},
        {"host", required_argument, NULL, 'H'},
        {"group", required_argument, NULL, 'G'},
        {"supervisor", required_argument, NULL, 'S'},
        {"config", required_argument, NULL, 'c'},
        {"bridge", required_argument, NULL, 'b'},
        {"log-level", required_argument, NULL, 'l'},
        {"debug", no_argument, NULL, 'D'},
        {"version", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "H:G:b:Dvh", longopts, NULL)) != -1) {
        switch (c) {
        case 'r': o->root = optarg; break;
        case 's': o->state = optarg; break;
        case 'H': o->host = optarg; break;
        case 'G': o->group = optarg; break;
        case 'S': o->supervisor = optarg; break;
        case 'c': o->config = optarg; break;
        case 'b': o->bridge = optarg; break;
        case 'D': o->debug = true; break;
        case 'l':
            if ((o->level = berth_log_level_parse(optarg)) < 0) {
                fprintf(stderr, "berthd: unknown log level `%s`\n", optarg);
                return 2;
            }
            break;
        case 'v': printf("berthd version %s\n", BERTH_VERSION); return 0;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "berthd: unexpected argument `%s`\n", argv[optind]);
        return 2;
    }
    return -1;
}

// Only unix sockets for now: "unix:///path" or a bare absolute path.
static const char *
socket_path(const char *host, struct berth_err *err)
{
    if (strncmp(host, "unix://", 7) == 0)
        host += 7;
    if (host[0] != '/') {
        berth_err_fail(err, EINVAL, "host `%s`: only unix:///absolute/path is supported", host);
        return NULL;
    }
    return host;
}

// One berthd per root: two would fight over engine.db and the names in it.
static int
lock_root(const char *root, struct berth_err *err)
{
    cleanup_free char *path = xasprintf("%s/berthd.lock", root);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return berth_err_set(err, errno, "open `%s`", path);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return berth_err_fail(err, EBUSY, "another berthd uses root `%s`", root);
        return berth_err_set(err, e, "lock `%s`", path);
    }
    return fd;
}

static int
run(struct eng_daemon *d, struct berth_err *err)
{
    if (berth_fs_mkdir_p(d->root, 0711, err) < 0 || berth_fs_mkdir_p(d->state, 0711, err) < 0)
        return -1;
    cleanup_close int lockfd = lock_root(d->root, err);
    if (lockfd < 0)
        return -1;
    if (eng_store_open(d->root, &d->store, err) < 0)
        return -1;
    int rc = -1;
    struct eng_api_server *srv = NULL;
    d->events = eng_events_new();
    d->sup = eng_sup_new(d->supervisor, err);
    if (!d->sup)
        goto out;
    /* Containers before the API: a request never sees a half-loaded table. */
    if (eng_containers_init(d, err) < 0)
        goto out;
    srv = eng_api_server_start(d, d->host, err);
    if (!srv)
        goto out;
    berth_info("serving the Docker API on unix://%s (root %s, state %s, supervisor %s)", d->host,
               d->root, d->state, d->supervisor);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int sig = 0;
    sigwait(&set, &sig);
    berth_info("%s: stopping", strsignal(sig));
    rc = 0;
out:
    __atomic_store_n(&d->stopping, true, __ATOMIC_RELEASE);
    /* Pulls, pushes and saves in flight end now (their clients see the stream stop), so
     * stopping the server does not wait for them. */
    if (d->sup)
        eng_sup_cancel_all(d->sup);
    /* And so do /events streams, each with its last chunk written before the server closes
     * its connections (a client sees a clean end, not a cut). */
    eng_events_close(d->events);
    eng_events_wait_idle(d->events, 2000);
    eng_api_server_stop(srv);
    eng_containers_shutdown(d);
    eng_sup_free(d->sup);
    eng_store_close(d->store);
    eng_events_free(d->events);
    return rc;
}

int
main(int argc, char **argv)
{
    struct options o = {
        .root = NULL,
        .state = "/run/berth/engine",
        .host = NULL,
        .supervisor = "/run/berth/supervisor.sock",
        .config = "/etc/berth/daemon.json",
        .level = -1,
    };
    int r = parse_args(argc, argv, &o);
    if (r >= 0)
        return r;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct eng_config cfg __attribute__((cleanup(eng_config_release))) = {0};
    if (eng_config_load(o.config, &cfg, &err) < 0) {
        cleanup_free char *msg = berth_err_string(&err);
        fprintf(stderr, "berthd: %s\n", msg);
        return 1;
    }
    // The command line wins over the file, as in dockerd.
    int level = o.level >= 0           ? o.level
                : o.debug || cfg.debug ? BERTH_LOG_DEBUG
                : cfg.log_level >= 0   ? cfg.log_level
                                       : BERTH_LOG_INFO;
    if (berth_log_init("berthd", NULL, BERTH_LOG_TEXT, level, &err) < 0) {
        fprintf(stderr, "berthd: %s\n", err.msg);
        return 1;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct eng_daemon d = {
        .root = o.root          ? o.root
                : cfg.data_root ? cfg.data_root
                                : "/var/lib/berth/engine",
        .state = o.state,
        .supervisor = o.supervisor,
        .group = o.group,
        .debug = level >= BERTH_LOG_DEBUG,
        .config = &cfg,
    };
    // hosts in daemon.json and -H together are an error, as in dockerd.
    if (o.host && cfg.host) {
        berth_error("the following directives are specified both as a flag and in the "
                    "configuration file: hosts");
        return 1;
    }
    if (o.bridge && cfg.bridge) {
        berth_error("the following directives are specified both as a flag and in the "
                    "configuration file: bridge");
        return 1;
    }
    if (o.bridge) {
        if (!*o.bridge || strlen(o.bridge) > 15 || strpbrk(o.bridge, "/ \t:")) {
            berth_error("--bridge: `%s` is not an interface name", o.bridge);
            return 1;
        }
        cfg.bridge = xstrdup(o.bridge);
    }
    d.host = socket_path(o.host     ? o.host
                         : cfg.host ? cfg.host
                                    : "unix:///run/berth/berthd.sock",
                         &err);
    if (!d.host || run(&d, &err) < 0) {
        cleanup_free char *msg = berth_err_string(&err);
        berth_error("%s", msg);
        return 1;
    }
    return 0;
}
