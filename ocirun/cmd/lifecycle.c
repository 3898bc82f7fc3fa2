// SPDX-License-Identifier: Apache-2.0
//
// The commands that act on one existing container: start, kill, delete, state.

#include "ocirun/ocirun.h"

#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/signal.h"
#include "common/json.h"
#include "ocirun/container.h"
#include "ocirun/state.h"

static const struct option help_only[] = {
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Parse a command that takes only --help and one id. Returns 1 after printing help. */
static int
parse_id(const char *cmd, int argc, char **argv, const char **id, struct berth_err *err)
{
    int c;
    while ((c = getopt_long(argc, argv, "+h", help_only, NULL)) != -1) {
        if (c == 'h') {
            ocirun_cmd_usage(cmd, "<container-id>", NULL);
            return 1;
        }
        return berth_err_fail(err, EINVAL, "invalid option for `%s`", cmd);
    }
    *id = ocirun_cmd_one_id(cmd, argc, argv, err);
    return *id ? 0 : -1;
}

int
ocirun_cmd_start(struct ocirun_global *g, int argc, char **argv, struct berth_err *err)
{
    const char *id;
    int r = parse_id("start", argc, argv, &id, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    return ocirun_container_start(g, id, err) < 0 ? -1 : 0;
}

int
ocirun_cmd_state(struct ocirun_global *g, int argc, char **argv, struct berth_err *err)
{
    const char *id;
    int r = parse_id("state", argc, argv, &id, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    cleanup_state struct ocirun_state *st = ocirun_state_load(g->root, id, err);
    if (!st)
        return -1;
    cleanup_json struct json_object *o = ocirun_state_to_json(st, ocirun_state_status(st));
    puts(json_object_to_json_string_ext(o, OCIRUN_JSON_PRETTY));
    return 0;
}

int
ocirun_cmd_kill(struct ocirun_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"all", no_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool all = false;
    int c;
    while ((c = getopt_long(argc, argv, "+ah", opts, NULL)) != -1) {
        if (c == 'a') {
            all = true;
        } else if (c == 'h') {
            ocirun_cmd_usage("kill", "[command options] <container-id> [signal]",
                             "   --all, -a  send the signal to all processes in the container\n");
            return 0;
        } else {
            return berth_err_fail(err, EINVAL, "invalid option for `kill`");
        }
    }
    int n = argc - optind;
    if (n < 1 || n > 2)
        return berth_err_fail(err, EINVAL, "`kill` takes a container id and an optional signal");
    int sig = SIGTERM;
    if (n == 2 && (sig = berth_signal_parse(argv[optind + 1], err)) < 0)
        return -1;
    return ocirun_container_kill(g, argv[optind], sig, all, err) < 0 ? -1 : 0;
}

int
ocirun_cmd_delete(struct ocirun_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool force = false;
    int c;
    while ((c = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
        if (c == 'f') {
            force = true;
        } else if (c == 'h') {
            ocirun_cmd_usage("delete", "[command options] <container-id>",
                             "   --force, -f  forcibly delete the container if it is still "
                             "running (uses SIGKILL)\n");
            return 0;
        } else {
            return berth_err_fail(err, EINVAL, "invalid option for `delete`");
        }
    }
    const char *id = ocirun_cmd_one_id("delete", argc, argv, err);
    if (!id)
        return -1;
    return ocirun_container_delete(g, id, force, err) < 0 ? -1 : 0;
}
