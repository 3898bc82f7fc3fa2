/* SPDX-License-Identifier: Apache-2.0
 *
 * berth, berthd's command-line client: what every command shares. main.c parses the global
 * flags into a struct cli_global and dispatches through its command table to one
 * `cli_cmd_<name>` function. A command returns the process's exit status: 0 on success, else
 * the status docker would give (1 for most failures, 125 for bad flags and for the daemon
 * errors of run/create/exec), with err holding the message main prints.
 */
#ifndef BERTH_ENGINE_CLI_CLI_H
#define BERTH_ENGINE_CLI_CLI_H

#include <stdbool.h>

struct berth_err;

#define CLI_EXIT_FAIL  1
#define CLI_EXIT_USAGE 125

/* The global flags, filled once by main. */
struct cli_global {
    const char *socket_path; /* berthd's unix socket (from -H, BERTH_HOST, DOCKER_HOST) */
    const char *host;        /* the same as given: "unix:///run/berth/berthd.sock" */
    bool debug;
};

typedef int (*cli_cmd_fn)(struct cli_global *g, int argc, char **argv, struct berth_err *err);

struct cli_command {
    const char *name;
    cli_cmd_fn fn;
    const char *summary;
};

/* Pick the socket path from -H/--host (may be NULL), BERTH_HOST, DOCKER_HOST, else the
 * default. Only unix:// hosts are known; anything else is an error naming it. *path points
 * into host (or a static string); it lives as long as the environment. */
int cli_host_resolve(const char *flag_host, const char **host, const char **path,
                     struct berth_err *err);

/* Every command, each defined in the file of its group. argv[0] is the command's name. */
int cli_cmd_version(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_info(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_system(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_events(struct cli_global *g, int argc, char **argv, struct berth_err *err);

int cli_cmd_images(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_pull(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_push(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_tag(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_rmi(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_save(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_load(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_history(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_search(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_image(struct cli_global *g, int argc, char **argv, struct berth_err *err);

int cli_cmd_login(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_logout(struct cli_global *g, int argc, char **argv, struct berth_err *err);

int cli_cmd_volume(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_network(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_inspect(struct cli_global *g, int argc, char **argv, struct berth_err *err);

int cli_cmd_run(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_create(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_ps(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_start(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_stop(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_restart(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_kill(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_rm(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_pause(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_unpause(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_wait(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_rename(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_top(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_port(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_stats(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_update(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_logs(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_attach(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_exec(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_cp(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_export(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_diff(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_commit(struct cli_global *g, int argc, char **argv, struct berth_err *err);
int cli_cmd_container(struct cli_global *g, int argc, char **argv, struct berth_err *err);

#endif
