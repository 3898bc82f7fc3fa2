// SPDX-License-Identifier: Apache-2.0
//
// ocirun: a standalone OCI runtime with runc's command line. main parses the global flags
// once, sets up logging and dispatches through the command table; each command is one file
// under cmd/. Errors rise to here as values and are printed once: to stderr, and to the log
// file too when --log is given (containerd's shim reads the last JSON line of it).

#include "ocirun/ocirun.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "ocirun/linux/sealed-exe.h"

static const struct ocirun_cmd commands[] = {
    {"create", ocirun_cmd_create, "create a container", true},
    {"start", ocirun_cmd_start, "executes the user defined process in a created container", false},
    {"run", ocirun_cmd_run, "create and run a container", true},
    {"state", ocirun_cmd_state, "output the state of a container", false},
    {"kill", ocirun_cmd_kill, "kill sends the specified signal to the container's init process",
     false},
    {"delete", ocirun_cmd_delete, "delete any resources held by the container", false},
    {"exec", ocirun_cmd_exec, "execute new process inside the container", true},
    {"pause", ocirun_cmd_pause, "pause suspends all processes inside the container", false},
    {"resume", ocirun_cmd_resume, "resumes all processes that have been previously paused", false},
    {"ps", ocirun_cmd_ps, "ps displays the processes running inside a container", false},
    {"events", ocirun_cmd_events, "display container events such as OOM notifications and stats",
     false},
    {"update", ocirun_cmd_update, "update container resource constraints", false},
    {"list", ocirun_cmd_list, "lists containers started by ocirun with the given root", false},
    {"spec", ocirun_cmd_spec, "create a new specification file", false},
    {"features", ocirun_cmd_features, "show the enabled features", false},
};

static void
usage(FILE *out)
{
    fprintf(out, "Usage: ocirun [global options] command [command options] [arguments...]\n\n"
                 "ocirun is a command line client for running applications packaged according to\n"
                 "the Open Container Initiative (OCI) format.\n\nCommands:\n");
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        fprintf(out, "   %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nGlobal options:\n"
                 "   --root value          root directory for storage of container state "
                 "(default: \"" OCIRUN_DEFAULT_ROOT "\")\n"
                 "   --log value           set the log file to write ocirun logs to "
                 "(default: stderr)\n"
                 "   --log-format value    set the log format ('text' (default), or 'json')\n"
                 "   --debug               enable debug logging\n"
                 "   --systemd-cgroup      use systemd for cgroups (requires a running systemd)\n"
                 "   --help, -h            show help\n"
                 "   --version, -v         print the version\n");
}

static void
version(void)
{
    printf("ocirun version %s\nspec: %s\n", BERTH_VERSION, OCIRUN_SPEC_VERSION);
}

enum {
    OPT_ROOT = 256,
    OPT_LOG,
    OPT_LOG_FORMAT,
    OPT_DEBUG,
    OPT_SYSTEMD_CGROUP,
    OPT_ROOTLESS,
    OPT_CRIU
};

static const struct option global_options[] = {
    {"root", required_argument, NULL, OPT_ROOT},
    {"log", required_argument, NULL, OPT_LOG},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"debug", no_argument, NULL, OPT_DEBUG},
    {"systemd-cgroup", no_argument, NULL, OPT_SYSTEMD_CGROUP},
    {"rootless", required_argument, NULL, OPT_ROOTLESS},
    {"criu", required_argument, NULL, OPT_CRIU},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'v'},
    {NULL, 0, NULL, 0},
};

/* Print the error once: stderr always (what a person at a terminal reads), and the log file
 * as well when one is set (what a calling shim reads). */
static void
report(const struct berth_err *err)
{
    cleanup_free char *msg = berth_err_string(err);
    if (berth_log_fd() != 2)
        berth_error("%s", msg);
    fprintf(stderr, "ocirun: %s\n", msg);
}

int
main(int argc, char **argv)
{
    struct ocirun_global g = {.root = OCIRUN_DEFAULT_ROOT, .argv0 = argv[0]};
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *log_format = "text";
    bool root_given = false;
    int c;

    /* '+': stop at the first non-option, the command name; its options are its own. */
    while ((c = getopt_long(argc, argv, "+hv", global_options, NULL)) != -1) {
        switch (c) {
        case OPT_ROOT:
            g.root = optarg;
            root_given = true;
            break;
        case OPT_LOG: g.log = optarg[0] ? optarg : NULL; break;
        case OPT_LOG_FORMAT: log_format = optarg; break;
        case OPT_DEBUG: g.debug = true; break;
        case OPT_SYSTEMD_CGROUP: g.systemd_cgroup = true; break;
        case OPT_ROOTLESS:
        case OPT_CRIU: break; /* accepted for runc compatibility; no effect */
        case 'h': usage(stdout); return 0;
        case 'v': version(); return 0;
        default: usage(stderr); return 1;
        }
    }

    /* Unprivileged users can't write /run/ocirun: keep their state where runc keeps it. */
    cleanup_free char *user_root = NULL;
    if (!root_given && geteuid() != 0) {
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        user_root = xdg && *xdg ? xasprintf("%s/ocirun", xdg)
                                : xasprintf("/tmp/ocirun-%u", (unsigned)geteuid());
        g.root = user_root;
    }

    g.log_format = berth_log_format_parse(log_format);
    if (g.log_format < 0) {
        fprintf(stderr, "ocirun: unknown log format `%s` (want text or json)\n", log_format);
        return 1;
    }
    if (berth_log_init("ocirun", g.log, g.log_format, g.debug ? BERTH_LOG_DEBUG : BERTH_LOG_WARN,
                       &err) < 0) {
        report(&err);
        return 1;
    }

    if (optind >= argc) {
        usage(stderr);
        return 1;
    }
    const char *name = argv[optind];
    if (strcmp(name, "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        if (strcmp(commands[i].name, name) != 0)
            continue;
        if (commands[i].enters_container && ocirun_sealed_exe_ensure(argv, &err) < 0) {
            report(&err);
            return 1;
        }
        /* The command sees argv[0] = its name; optind = 0 makes glibc's getopt start over. */
        int cmd_argc = argc - optind;
        char **cmd_argv = argv + optind;
        optind = 0;
        int rc = commands[i].fn(&g, cmd_argc, cmd_argv, &err);
        if (rc < 0) {
            report(&err);
            rc = 1;
        }
        berth_log_close();
        return rc;
    }
    fprintf(stderr, "ocirun: unknown command `%s`\n", name);
    return 1;
}
