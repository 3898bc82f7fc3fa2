/* SPDX-License-Identifier: Apache-2.0
 *
 * berth: the global flags, the command table, and the exit status. Everything else is in
 * one file per command group; only this file prints an error and picks the status.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "engine/cli/cli.h"

#define DEFAULT_HOST "unix:///run/berth/berthd.sock"

/* clang-format off */
static const struct cli_command commands[] = {
    {"run",       cli_cmd_run,       "Create and run a new container from an image"},
    {"create",    cli_cmd_create,    "Create a new container"},
    {"start",     cli_cmd_start,     "Start one or more stopped containers"},
    {"stop",      cli_cmd_stop,      "Stop one or more running containers"},
    {"restart",   cli_cmd_restart,   "Restart one or more containers"},
    {"kill",      cli_cmd_kill,      "Kill one or more running containers"},
    {"rm",        cli_cmd_rm,        "Remove one or more containers"},
    {"ps",        cli_cmd_ps,        "List containers"},
    {"logs",      cli_cmd_logs,      "Fetch the logs of a container"},
    {"exec",      cli_cmd_exec,      "Execute a command in a running container"},
    {"attach",    cli_cmd_attach,    "Attach local standard input, output, and error streams to a running container"},
    {"inspect",   cli_cmd_inspect,   "Return low-level information on berth objects"},
    {"wait",      cli_cmd_wait,      "Block until one or more containers stop, then print their exit codes"},
    {"rename",    cli_cmd_rename,    "Rename a container"},
    {"top",       cli_cmd_top,       "Display the running processes of a container"},
    {"stats",     cli_cmd_stats,     "Display a live stream of container(s) resource usage statistics"},
    {"update",    cli_cmd_update,    "Update configuration of one or more containers"},
    {"commit",    cli_cmd_commit,    "Create a new image from a container's changes"},
    {"cp",        cli_cmd_cp,        "Copy files/folders between a container and the local filesystem"},
    {"export",    cli_cmd_export,    "Export a container's filesystem as a tar archive"},
    {"diff",      cli_cmd_diff,      "Inspect changes to files or directories on a container's filesystem"},
    {"pause",     cli_cmd_pause,     "Pause all processes within one or more containers"},
    {"unpause",   cli_cmd_unpause,   "Unpause all processes within one or more containers"},
    {"port",      cli_cmd_port,      "List port mappings or a specific mapping for the container"},
    {"container", cli_cmd_container, "Manage containers"},
    {"images",    cli_cmd_images,    "List images"},
    {"image",     cli_cmd_image,     "Manage images"},
    {"pull",      cli_cmd_pull,      "Pull an image from a registry"},
    {"push",      cli_cmd_push,      "Push an image to a registry"},
    {"tag",       cli_cmd_tag,       "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"},
    {"rmi",       cli_cmd_rmi,       "Remove one or more images"},
    {"save",      cli_cmd_save,      "Save one or more images to a tar archive"},
    {"load",      cli_cmd_load,      "Load an image from a tar archive or STDIN"},
    {"history",   cli_cmd_history,   "Show the history of an image"},
    {"search",    cli_cmd_search,    "Search registries for images"},
    {"volume",    cli_cmd_volume,    "Manage volumes"},
    {"network",   cli_cmd_network,   "Manage networks"},
    {"system",    cli_cmd_system,    "Manage berth"},
    {"events",    cli_cmd_events,    "Get real time events from the server"},
    {"info",      cli_cmd_info,      "Display system-wide information"},
    {"version",   cli_cmd_version,   "Show the berth version information"},
    {"login",     cli_cmd_login,     "Log in to a registry"},
    {"logout",    cli_cmd_logout,    "Log out from a registry"},
};
/* clang-format on */

static void
usage(FILE *out)
{
    fprintf(out, "\nUsage:  berth [OPTIONS] COMMAND\n\n"
                 "A client for berthd, the berth container engine\n\n"
                 "Options:\n"
                 "  -D, --debug              Enable debug mode\n"
                 "  -H, --host string        Daemon socket to connect to (unix://PATH)\n"
                 "  -v, --version            Print version information and quit\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'berth COMMAND --help' for more information on a command.\n");
}

int
cli_host_resolve(const char *flag_host, const char **host, const char **path, struct berth_err *err)
{
    const char *h = flag_host;
    const char *from = "-H";
    if (!h || !*h) {
        h = getenv("BERTH_HOST");
        from = "BERTH_HOST";
    }
    if (!h || !*h) {
        h = getenv("DOCKER_HOST");
        from = "DOCKER_HOST";
    }
    if (!h || !*h) {
        h = DEFAULT_HOST;
        from = "the default";
    }
    if (strncmp(h, "unix://", 7) != 0 || !h[7])
        return berth_err_fail(
            err, EINVAL, "invalid host `%s` (from %s): berth speaks only to unix:///PATH", h, from);
    *host = h;
    *path = h + 7;
    return 0;
}

static const struct cli_command *
find_command(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int
main(int argc, char **argv)
{
    struct cli_global g = {0};
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *flag_host = NULL;
    int i;
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-H") == 0 || strcmp(a, "--host") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "flag needs an argument: %s\nSee 'berth --help'.\n", a);
                return CLI_EXIT_USAGE;
            }
            flag_host = argv[++i];
        } else if (strncmp(a, "--host=", 7) == 0) {
            flag_host = a + 7;
        } else if (strncmp(a, "-H", 2) == 0) {
            flag_host = a + 2;
        } else if (strcmp(a, "-D") == 0 || strcmp(a, "--debug") == 0) {
            g.debug = true;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) {
            printf("berth version %s\n", BERTH_VERSION);
            return 0;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "unknown flag: %s\nSee 'berth --help'.\n", a);
            return CLI_EXIT_USAGE;
        }
    }
    if (i >= argc) {
        usage(stdout);
        return 0;
    }
    const struct cli_command *cmd = find_command(argv[i]);
    if (!cmd) {
        fprintf(stderr, "berth: '%s' is not a berth command.\nSee 'berth --help'\n", argv[i]);
        return CLI_EXIT_FAIL;
    }
    if (cli_host_resolve(flag_host, &g.host, &g.socket_path, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return CLI_EXIT_USAGE;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int status = cmd->fn(&g, argc - i, argv + i, &err);
    if (err.msg) {
        cleanup_free char *msg = berth_err_string(&err);
        fflush(stdout);
        fprintf(stderr, "%s\n", msg);
        if (status == 0)
            status = CLI_EXIT_FAIL;
    }
    curl_global_cleanup();
    return status;
}
