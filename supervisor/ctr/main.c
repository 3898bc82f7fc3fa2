/* SPDX-License-Identifier: Apache-2.0
 *
 * berth-ctr: the debug client of berth-supervisor, shaped like containerd's ctr. main parses
 * the global flags once, sets up logging and dispatches through the command table; each
 * command group is one file. Errors rise to here as values and are printed once, as
 * "berth-ctr: <message>"; a command's return value is the exit status (attached run, start
 * and exec return their process's).
 */
#include "supervisor/ctr/ctr.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "supervisor/ctr/client.h"
#include "supervisor/ctr/snapshots.h"

static const struct ctr_cmd commands[] = {
    {"version", NULL, ctr_cmd_version, "print the client and server versions"},
    {"namespaces", "namespace ns", ctr_cmd_namespaces, "manage namespaces"},
    {"containers", "container c", ctr_cmd_containers, "manage containers"},
    {"tasks", "task t", ctr_cmd_tasks, "manage tasks"},
    {"run", NULL, ctr_cmd_run, "run a container (create it, then create and start its task)"},
    {"events", "event", ctr_cmd_events, "display the supervisor's events"},
    {"content", NULL, ctr_cmd_content, "manage the content store"},
    {"images", "image i", ctr_cmd_images, "manage images (pull, push, import, export...)"},
    {"snapshots", "snapshot", ctr_cmd_snapshots, "manage snapshots"},
};

static void
usage(FILE *out)
{
    fprintf(out, "Usage: berth-ctr [global options] COMMAND [options] [arguments...]\n\n"
                 "berth-ctr is the debug client of berth-supervisor: it drives namespaces,\n"
                 "containers and tasks through the supervisor's API.\n\nCommands:\n");
    ctr_cmd_list(out, commands, ARRAY_SIZE(commands));
    fprintf(out,
            "\nGlobal options:\n"
            "   --address value, -a value    the supervisor's socket [$BERTH_ADDRESS]\n"
            "                                (default: \"" CTR_DEFAULT_ADDRESS "\")\n"
            "   --namespace value, -n value  namespace to act in [$BERTH_NAMESPACE]\n"
            "                                (default: \"" CTR_DEFAULT_NAMESPACE "\")\n"
            "   --timeout value              seconds to wait for each call that returns at once\n"
            "                                (default: 0, no limit)\n"
            "   --debug                      log every call to stderr\n"
            "   --help, -h                   show help\n"
            "   --version, -v                print the client version\n"
            "\nExit status: 0 on success, 1 on an error; run, tasks start and tasks exec that\n"
            "stay attached exit with the status of their process.\n");
}

enum { OPT_TIMEOUT = 256, OPT_DEBUG };

static const struct option global_options[] = {
    {"address", required_argument, NULL, 'a'},
    {"namespace", required_argument, NULL, 'n'},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"debug", no_argument, NULL, OPT_DEBUG},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'v'},
    {NULL, 0, NULL, 0},
};

static const char *
env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

/* "5", "2.5": seconds as milliseconds; -1 when not a number >= 0. */
static int
parse_timeout(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || v < 0 || v > 86400.0 * 365)
        return -1;
    return (int)(v * 1000);
}

/* A closed stdin, stdout or stderr would be taken by the next open (an eventfd gRPC makes
 * while its library initializes, the fifos) and then read or written as if it were the
 * terminal: give it /dev/null instead. This must run before any library's initializers, so
 * it sits in .preinit_array, which the dynamic loader runs first (for executables only). */
static void
open_std_fds(int argc, char **argv, char **envp)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        int n = open("/dev/null", O_RDWR);
        if (n >= 0 && n != fd) {
            dup2(n, fd);
            close(n);
        }
    }
}
__attribute__((section(".preinit_array"),
               used)) static void (*const preinit_std_fds)(int, char **, char **) = open_std_fds;

int
main(int argc, char **argv)
{
    struct ctr_global g = {
        .address = env_or("BERTH_ADDRESS", CTR_DEFAULT_ADDRESS),
        .ns = env_or("BERTH_NAMESPACE", CTR_DEFAULT_NAMESPACE),
    };
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    int c;

    /* '+': stop at the command name; its options are its own. */
    while ((c = getopt_long(argc, argv, "+a:n:hv", global_options, NULL)) != -1) {
        switch (c) {
        case 'a': g.address = optarg; break;
        case 'n': g.ns = optarg; break;
        case OPT_TIMEOUT:
            g.timeout_ms = parse_timeout(optarg);
            if (g.timeout_ms < 0) {
                fprintf(stderr, "berth-ctr: invalid --timeout `%s` (want seconds)\n", optarg);
                return 1;
            }
            break;
        case OPT_DEBUG: g.debug = true; break;
        case 'h': usage(stdout); return 0;
        case 'v': printf("berth-ctr version %s\n", BERTH_VERSION); return 0;
        default: usage(stderr); return 1;
        }
    }
    if (!*g.ns) {
        fprintf(stderr, "berth-ctr: the namespace must not be empty\n");
        return 1;
    }
    if (berth_log_init("berth-ctr", NULL, BERTH_LOG_TEXT,
                       g.debug ? BERTH_LOG_DEBUG : BERTH_LOG_WARN, &err) < 0) {
        ctr_report(&err);
        return 1;
    }
    /* A closed stdout (`| head`) is an error to report, not a reason to die. */
    signal(SIGPIPE, SIG_IGN);

    if (optind >= argc) {
        usage(stderr);
        return 1;
    }
    const char *name = argv[optind];
    if (strcmp(name, "help") == 0) {
        usage(stdout);
        return 0;
    }
    const struct ctr_cmd *cmd = ctr_cmd_find(commands, ARRAY_SIZE(commands), name);
    if (!cmd) {
        fprintf(stderr, "berth-ctr: unknown command `%s` (see `berth-ctr --help`)\n", name);
        return 1;
    }
    /* The command sees argv[0] = its name; optind = 0 makes glibc's getopt start over. */
    int cmd_argc = argc - optind;
    char **cmd_argv = argv + optind;
    optind = 0;
    int rc = cmd->fn(&g, cmd_argc, cmd_argv, &err);
    if (rc < 0) {
        ctr_report(&err);
        rc = 1;
    }
    ctr_client_close(&g);
    berth_log_close();
    return rc;
}
