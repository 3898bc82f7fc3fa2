// SPDX-License-Identifier: Apache-2.0
//
// `ocirun exec [options] <container-id> <command> [args...]`: runc's exec flags into
// struct ocirun_exec_opts.

#include "ocirun/ocirun.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "ocirun/container.h"

static const char exec_help[] =
    "   --console-socket value      path to an AF_UNIX socket which will receive the pty master\n"
    "   --cwd value                 current working directory in the container\n"
    "   --env value, -e value       set environment variables (KEY=VALUE, repeatable)\n"
    "   --tty, -t                   allocate a pseudo-TTY\n"
    "   --user value, -u value      UID (format: <uid>[:<gid>])\n"
    "   --additional-gids value, -g value  additional gids (repeatable)\n"
    "   --process value, -p value   path to the process.json\n"
    "   --detach, -d                detach from the container's process\n"
    "   --pid-file value            file to write the process id to\n"
    "   --no-new-privs              set the no new privileges value for the process\n"
    "   --cap value, -c value       add a capability to the bounding set for the process\n"
    "   --preserve-fds value        pass N additional file descriptors to the container\n";

enum { OPT_CONSOLE = 256, OPT_CWD, OPT_PIDFILE, OPT_NNP, OPT_PRESERVE, OPT_IGNORED };

static void
push(char ***v, size_t *n, const char *s)
{
    *v = xrealloc(*v, (*n + 2) * sizeof(char *));
    (*v)[(*n)++] = (char *)s;
    (*v)[*n] = NULL;
}

int
ocirun_cmd_exec(struct ocirun_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"console-socket", required_argument, NULL, OPT_CONSOLE},
        {"cwd", required_argument, NULL, OPT_CWD},
        {"env", required_argument, NULL, 'e'},
        {"tty", no_argument, NULL, 't'},
        {"user", required_argument, NULL, 'u'},
        {"additional-gids", required_argument, NULL, 'g'},
        {"process", required_argument, NULL, 'p'},
        {"detach", no_argument, NULL, 'd'},
        {"pid-file", required_argument, NULL, OPT_PIDFILE},
        {"no-new-privs", no_argument, NULL, OPT_NNP},
        {"cap", required_argument, NULL, 'c'},
        {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
        {"process-label", required_argument, NULL, OPT_IGNORED},
        {"apparmor", required_argument, NULL, OPT_IGNORED},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct ocirun_exec_opts o = {0};
    /* The vectors borrow argv strings; only the arrays are ours. */
    cleanup_free char **env = NULL, **gids = NULL, **caps = NULL;
    size_t n_env = 0, n_gids = 0, n_caps = 0;
    char *end;
    int c;
    while ((c = getopt_long(argc, argv, "+e:tu:g:p:dc:h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_CONSOLE: o.console_socket = optarg; break;
        case OPT_CWD: o.cwd = optarg; break;
        case 'e': push(&env, &n_env, optarg); break;
        case 't': o.tty = true; break;
        case 'u': o.user = optarg; break;
        case 'g': push(&gids, &n_gids, optarg); break;
        case 'p': o.process_file = optarg; break;
        case 'd': o.detach = true; break;
        case OPT_PIDFILE: o.pid_file = optarg; break;
        case OPT_NNP: o.no_new_privs = true; break;
        case 'c': push(&caps, &n_caps, optarg); break;
        case OPT_IGNORED: break;
        case OPT_PRESERVE:
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || *end || v < 0 || v > 65536)
                return berth_err_fail(err, EINVAL, "invalid --preserve-fds `%s`", optarg);
            o.preserve_fds = (int)v;
            break;
        case 'h':
            ocirun_cmd_usage("exec", "[command options] <container-id> <command> [args...]",
                             exec_help);
            return 0;
        default: return berth_err_fail(err, EINVAL, "invalid option for `exec`");
        }
    }
    if (optind >= argc)
        return berth_err_fail(err, EINVAL, "`exec` requires a container id");
    o.id = argv[optind];
    o.args = argv + optind + 1;
    if (!o.process_file && !o.args[0])
        return berth_err_fail(err, EINVAL, "`exec` requires a command (or --process)");
    o.env = env;
    o.additional_gids = gids;
    o.caps = caps;
    return ocirun_container_exec(g, &o, err);
}
