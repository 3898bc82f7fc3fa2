/* SPDX-License-Identifier: Apache-2.0
 *
 * logs: a container's output from the daemon, as frames (stdout and stderr kept apart)
 * unless the container has a terminal, streamed as it comes with -f.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/cli/cli.h"
#include "engine/cli/container.h"
#include "engine/cli/flags.h"
#include "engine/cli/http.h"
#include "engine/cli/stream.h"
#include "engine/cli/units.h"

struct logs_out {
    bool tty;
    struct cli_demux demux;
};

static int
on_data(void *opaque, const char *data, size_t len, struct berth_err *err)
{
    struct logs_out *o = opaque;
    if (!o->tty)
        return cli_demux_feed(&o->demux, data, len, err);
    while (len) {
        ssize_t w = write(STDOUT_FILENO, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return berth_err_set(err, errno, "write");
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

int
cli_cmd_logs(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    bool follow = false, timestamps = false, details = false;
    const char *tail = NULL, *since = NULL, *until = NULL;
    const struct cli_flag flags[] = {
        {"follow", 'f', CLI_FLAG_BOOL, &follow, NULL},
        {"timestamps", 't', CLI_FLAG_BOOL, &timestamps, NULL},
        {"details", 0, CLI_FLAG_BOOL, &details, NULL},
        {"tail", 'n', CLI_FLAG_STRING, &tail, NULL},
        {"since", 0, CLI_FLAG_STRING, &since, NULL},
        {"until", 0, CLI_FLAG_STRING, &until, NULL},
    };
    struct cli_args args;
    if (cli_flags_parse("logs", flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth logs [OPTIONS] CONTAINER\n\nFetch the logs of a container\n\n"
               "Options:\n      --details        Show extra details provided to logs\n"
               "  -f, --follow         Follow log output\n"
               "      --since string   Show logs since timestamp or relative (e.g. 42m)\n"
               "  -n, --tail string    Number of lines to show from the end of the logs\n"
               "  -t, --timestamps     Show timestamps\n"
               "      --until string   Show logs before a timestamp or relative (e.g. 42m)\n");
        return 0;
    }
    if (cli_args_count("logs", &args, 1, 1, err) < 0)
        return CLI_EXIT_USAGE;
    if (tail && strcmp(tail, "all") != 0) {
        char *end = NULL;
        strtol(tail, &end, 10);
        if (!*tail || *end) {
            berth_err_fail(err, EINVAL, "invalid value for --tail: `%s` (a number or \"all\")",
                           tail);
            return CLI_EXIT_USAGE;
        }
    }
    cleanup_free char *q_since = since ? cli_api_time(since, err) : NULL;
    if (since && !q_since)
        return CLI_EXIT_FAIL;
    cleanup_free char *q_until = until ? cli_api_time(until, err) : NULL;
    if (until && !q_until)
        return CLI_EXIT_FAIL;
    cleanup_json struct json_object *c = NULL;
    if (cli_container_inspect(g, args.v[0], &c, err) < 0)
        return CLI_EXIT_FAIL;
    struct json_object *cfg = NULL, *tty = NULL;
    struct logs_out out = {0};
    out.tty = json_object_object_get_ex(c, "Config", &cfg) &&
              json_object_object_get_ex(cfg, "Tty", &tty) && json_object_get_boolean(tty);
    cleanup_free char *path = xasprintf(
        "/containers/%s/logs?stdout=1&stderr=1&follow=%d&timestamps=%d&details=%d&tail=%s%s%s%s%s",
        args.v[0], follow, timestamps, details, tail ? tail : "all", q_since ? "&since=" : "",
        q_since ? q_since : "", q_until ? "&until=" : "", q_until ? q_until : "");
    struct cli_request req = {.method = "GET", .path = path, .on_data = on_data, .opaque = &out};
    struct cli_response resp;
    int rc = cli_http_do(g, &req, &resp, err);
    cli_response_free(&resp);
    return rc < 0 ? CLI_EXIT_FAIL : 0;
}
