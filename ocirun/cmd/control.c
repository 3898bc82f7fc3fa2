// SPDX-License-Identifier: Apache-2.0
//
// `pause`, `resume`, `ps`, `events` and `update`: the commands that act on a running
// container's cgroups (control.c, events.c).

#include "ocirun/ocirun.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "ocirun/container.h"

static const struct option help_only[] = {
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int
pause_resume(const char *cmd, bool pause, struct ocirun_global *g, int argc, char **argv,
             struct berth_err *err)
{
    int c;
    while ((c = getopt_long(argc, argv, "+h", help_only, NULL)) != -1) {
        if (c == 'h') {
            ocirun_cmd_usage(cmd, "<container-id>", NULL);
            return 0;
        }
        return berth_err_fail(err, EINVAL, "invalid option for `%s`", cmd);
    }
    const char *id = ocirun_cmd_one_id(cmd, argc, argv, err);
    if (!id)
        return -1;
    return ocirun_container_pause(g, id, pause, err) < 0 ? -1 : 0;
}

int
ocirun_cmd_pause(struct ocirun_global *g, int argc, char **argv, struct berth_err *err)
{
    return pause_resume("pause", true, g, argc, argv, err);
}

int
ocirun_cmd_resume(struct ocirun_global *g, int argc, char **argv, struct berth_err *err)
{
    return pause_resume("resume", false, g, argc, argv, err);
}

/* ps: run the host's ps with the given options and keep the header and the container's
 * processes, found by the PID column, as runc does. */
static int
ps_table(pid_t *pids, size_t n, char **ps_args, struct berth_err *err)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return berth_err_set(err, errno, "pipe");
    pid_t child = fork();
    if (child < 0)
        return berth_err_set(err, errno, "fork");
    if (child == 0) {
        dup2(fds[1], 1);
        execvp("ps", ps_args);
        dprintf(2, "ocirun: exec ps: %s\n", strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    cleanup_fclose FILE *f = fdopen(fds[0], "r");
    cleanup_free char *line = NULL;
    size_t cap = 0;
    int pid_col = -1;
    while (getline(&line, &cap, f) > 0) {
        if (pid_col < 0) {
            /* The header tells which whitespace-separated column holds the pid. */
            cleanup_free char *copy = xstrdup(line);
            char *save = NULL;
            int col = 0;
            for (char *t = strtok_r(copy, " \t\n", &save); t;
                 t = strtok_r(NULL, " \t\n", &save), col++)
                if (strcmp(t, "PID") == 0)
                    pid_col = col;
            if (pid_col < 0) {
                waitpid(child, NULL, 0);
                return berth_err_fail(err, EINVAL, "ps output has no PID column");
            }
            fputs(line, stdout);
            continue;
        }
        cleanup_free char *copy = xstrdup(line);
        char *save = NULL, *t = strtok_r(copy, " \t\n", &save);
        for (int col = 0; t && col < pid_col; col++)
            t = strtok_r(NULL, " \t\n", &save);
        pid_t p = t ? (pid_t)strtol(t, NULL, 10) : 0;
        for (size_t i = 0; i < n; i++)
            if (pids[i] == p) {
                fputs(line, stdout);
                break;
            }
    }
    int status;
    waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return berth_err_fail(err, EINVAL, "ps failed (exit status %d)",
                              WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}

int
ocirun_cmd_ps(struct ocirun_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *format = "table";
    int c;
    while ((c = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
        if (c == 'f') {
            format = optarg;
        } else if (c == 'h') {
            ocirun_cmd_usage("ps", "[command options] <container-id> [ps options]",
                             "   --format value, -f value  select one of: table or json "
                             "(default: \"table\")\n");
            return 0;
        } else {
            return berth_err_fail(err, EINVAL, "invalid option for `ps`");
        }
    }
    if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
        return berth_err_fail(err, EINVAL, "invalid format `%s` (want table or json)", format);
    if (optind >= argc)
        return berth_err_fail(err, EINVAL, "`ps` requires a container id");
    const char *id = argv[optind];
    cleanup_free pid_t *pids = NULL;
    size_t n = 0;
    if (ocirun_container_pids(g, id, &pids, &n, err) < 0)
        return -1;
    if (strcmp(format, "json") == 0) {
        if (optind + 1 < argc)
            return berth_err_fail(err, EINVAL, "ps options cannot be used with --format json");
        cleanup_json struct json_object *arr = json_object_new_array();
        for (size_t i = 0; i < n; i++)
            json_object_array_add(arr, json_object_new_int(pids[i]));
        puts(json_object_to_json_string_ext(arr, OCIRUN_JSON_PLAIN));
        return 0;
    }
    /* ps arguments after the id, "-ef" by default. */
    int extra = argc - optind - 1;
    cleanup_free char **ps_args = xzalloc((extra + 3) * sizeof(char *));
    ps_args[0] = "ps";
    if (extra == 0)
        ps_args[1] = "-ef";
    for (int i = 0; i < extra; i++)
        ps_args[1 + i] = argv[optind + 1 + i];
    return ps_table(pids, n, ps_args, err) < 0 ? -1 : 0;
}

/* "5s", "500ms", "1m": a Go-style duration, the shape runc's --interval takes. */
static int
parse_interval(const char *s, int *ms)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v <= 0)
        return -1;
    if (strcmp(end, "ms") == 0)
        *ms = (int)v;
    else if (strcmp(end, "s") == 0 || *end == '\0')
        *ms = (int)(v * 1000);
    else if (strcmp(end, "m") == 0)
        *ms = (int)(v * 60000);
    else
        return -1;
    return *ms > 0 ? 0 : -1;
}

int
ocirun_cmd_events(struct ocirun_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"stats", no_argument, NULL, 's'},
        {"interval", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool stats = false;
    int interval = 5000, c;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case 's': stats = true; break;
        case 'i':
            if (parse_interval(optarg, &interval) < 0)
                return berth_err_fail(err, EINVAL, "invalid --interval `%s`", optarg);
            break;
        case 'h':
            ocirun_cmd_usage("events", "[command options] <container-id>",
                             "   --interval value  set the stats collection interval "
                             "(default: 5s)\n"
                             "   --stats           display the container's stats then exit\n");
            return 0;
        default: return berth_err_fail(err, EINVAL, "invalid option for `events`");
        }
    }
    const char *id = ocirun_cmd_one_id("events", argc, argv, err);
    if (!id)
        return -1;
    return ocirun_container_events(g, id, stats, interval, err) < 0 ? -1 : 0;
}
