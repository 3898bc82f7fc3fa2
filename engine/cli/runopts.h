/* SPDX-License-Identifier: Apache-2.0
 *
 * The flags of run and create and the ContainerCreate body they make (Docker Engine API
 * v1.41: Config fields at the top level, HostConfig, NetworkingConfig). Parsing checks every
 * value it can (sizes, durations, restart policies, mounts, ulimits, devices, and the
 * networking flags of netopts.h) so that a bad flag is refused before anything is created.
 */
#ifndef BERTH_ENGINE_CLI_RUNOPTS_H
#define BERTH_ENGINE_CLI_RUNOPTS_H

#include <stdbool.h>

#include "engine/cli/flags.h"
#include "engine/cli/netopts.h"

struct berth_err;
struct json_object;

struct cli_runopts {
    /* How the client runs it. */
    bool detach, interactive, tty, rm, init, privileged, read_only, no_healthcheck;
    bool sig_proxy;
    const char *name, *cidfile, *pull, *platform, *detach_keys;
    /* Config */
    const char *hostname, *domainname, *user, *workdir, *entrypoint, *stop_signal;
    long long stop_timeout;
    bool stop_timeout_set, entrypoint_set;
    struct cli_strv env, env_file, labels, volumes, mounts, attach;
    const char *health_cmd, *health_interval, *health_timeout, *health_start_period;
    long long health_retries;
    bool health_retries_set;
    /* HostConfig */
    const char *restart, *memory, *memory_swap, *memory_reservation, *cpus, *cpuset_cpus;
    const char *cpuset_mems, *ipc, *pid, *uts, *shm_size, *log_driver, *cgroupns;
    const char *userns;
    long long cpu_shares, pids_limit, oom_score_adj, cpu_quota, cpu_period;
    bool cpu_shares_set, pids_limit_set, oom_score_adj_set, cpu_quota_set, cpu_period_set;
    bool oom_kill_disable;
    struct cli_strv cap_add, cap_drop, security_opt, ulimits, devices, sysctls, tmpfs;
    struct cli_strv group_add, log_opts;
    /* Networking (netopts.h) */
    struct cli_netopts net;
    /* The operands: the image, then the command. */
    const char *image;
    char **cmd;
    int n_cmd;
};

/* Parse run's or create's argv (argv[0] is the command). Returns 0 with o filled, 1 when
 * --help was asked (o->help printed), or -1 with err (docker's usage messages). Free o with
 * cli_runopts_free. */
/* --restart NAME[:MAX-RETRIES] (no, always, unless-stopped, on-failure[:N]) as obj's
 * RestartPolicy (run, create and update). */
int cli_restart_policy(struct json_object *obj, const char *value, struct berth_err *err);

int cli_runopts_parse(const char *cmd, int argc, char **argv, struct cli_runopts *o,
                      struct berth_err *err);
void cli_runopts_free(struct cli_runopts *o);

/* The ContainerCreate body for o. NULL with err naming the bad value ("invalid restart
 * policy `x`", "invalid mount `x`: ..."). */
struct json_object *cli_runopts_body(const struct cli_runopts *o, struct berth_err *err);

#endif
