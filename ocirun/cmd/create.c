// SPDX-License-Identifier: Apache-2.0
//
// `ocirun create [options] <container-id>` and `ocirun run`: the options they share are parsed
// here into struct ocirun_create_opts; run adds --detach.

#include "ocirun/ocirun.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "ocirun/container.h"

static const char create_help[] =
    "   --bundle value, -b value  path to the root of the bundle directory (default: \".\")\n"
    "   --console-socket value    path to an AF_UNIX socket which will receive the pty master\n"
    "   --pid-file value          file to write the process id to\n"
    "   --no-pivot                do not use pivot root to jail the process in the rootfs\n"
    "   --no-new-keyring          do not create a new session keyring for the container\n"
    "   --preserve-fds value      pass N additional file descriptors to the container "
    "(default: 0)\n";

enum { OPT_CONSOLE = 256, OPT_PIDFILE, OPT_NOPIVOT, OPT_NOKEYRING, OPT_PRESERVE, OPT_KEEP };

/* Parses the shared options; with run, also -d. Returns 1 after printing help. */
static int
parse(const char *cmd, bool is_run, int argc, char **argv, struct ocirun_create_opts *o,
      bool *detach, struct berth_err *err)
{
    static const struct option opts[] = {
        {"bundle", required_argument, NULL, 'b'},
        {"console-socket", required_argument, NULL, OPT_CONSOLE},
        {"pid-file", required_argument, NULL, OPT_PIDFILE},
        {"no-pivot", no_argument, NULL, OPT_NOPIVOT},
        {"no-new-keyring", no_argument, NULL, OPT_NOKEYRING},
        {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
        {"detach", no_argument, NULL, 'd'},
        {"keep", no_argument, NULL, OPT_KEEP},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, is_run ? "+b:dh" : "+b:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': o->bundle = optarg; break;
        case OPT_CONSOLE: o->console_socket = optarg; break;
        case OPT_PIDFILE: o->pid_file = optarg; break;
        case OPT_NOPIVOT: o->no_pivot = true; break;
        case OPT_NOKEYRING: o->no_new_keyring = true; break;
        case OPT_KEEP: break;
        case OPT_PRESERVE:
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || *end || v < 0 || v > 65536)
                return berth_err_fail(err, EINVAL, "invalid --preserve-fds `%s`", optarg);
            o->preserve_fds = (int)v;
            break;
        case 'd':
            if (!is_run)
                return berth_err_fail(err, EINVAL, "unknown option for `%s`", cmd);
            *detach = true;
            break;
        case 'h': ocirun_cmd_usage(cmd, "[command options] <container-id>", create_help); return 1;
        default: return berth_err_fail(err, EINVAL, "invalid option for `%s`", cmd);
        }
    }
    o->id = ocirun_cmd_one_id(cmd, argc, argv, err);
    return o->id ? 0 : -1;
}

int
ocirun_cmd_create(struct ocirun_global *g, int argc, char **argv, struct berth_err *err)
{
    struct ocirun_create_opts o = {0};
    int r = parse("create", false, argc, argv, &o, NULL, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    return ocirun_container_create(g, &o, err) < 0 ? -1 : 0;
}

int
ocirun_cmd_run(struct ocirun_global *g, int argc, char **argv, struct berth_err *err)
{
    struct ocirun_create_opts o = {0};
    bool detach = false;
    int r = parse("run", true, argc, argv, &o, &detach, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    return ocirun_container_run(g, &o, detach, err);
}
