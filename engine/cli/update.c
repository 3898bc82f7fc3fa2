/* SPDX-License-Identifier: Apache-2.0
 *
 * berth update: new resource limits and restart policy for one or more containers (POST
 * /containers/{id}/update). As docker's client, the body holds only the fields whose flags
 * were given (berthd leaves the others as they are), each container's name is printed when
 * its update is done, and the failures are reported one by one with status 1.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/cli/cli.h"
#include "engine/cli/flags.h"
#include "engine/cli/http.h"
#include "engine/cli/output.h"
#include "engine/cli/runopts.h"

struct update_opts {
    const char *memory, *memory_swap, *memory_reservation, *cpus, *cpuset_cpus, *cpuset_mems;
    const char *restart;
    long long cpu_shares, cpu_quota, cpu_period, pids_limit, blkio_weight;
    bool cpu_shares_set, cpu_quota_set, cpu_period_set, pids_limit_set, blkio_weight_set;
};

/* A size flag into body[key]; --memory-swap takes -1 (no limit) as docker does. */
static int
size_field(struct json_object *body, const char *key, const char *value, const char *flag,
           struct berth_err *err)
{
    if (!value)
        return 0;
    if (strcmp(flag, "--memory-swap") == 0 && strcmp(value, "-1") == 0) {
        json_object_object_add(body, key, json_object_new_int64(-1));
        return 0;
    }
    long long n = cli_parse_size(value, flag, err);
    if (n < 0)
        return -1;
    json_object_object_add(body, key, json_object_new_int64(n));
    return 0;
}

/* The body of the update; NULL with err for a value no flag takes. *n_set: how many flags. */
static struct json_object *
update_body(const struct update_opts *o, int *n_set, struct berth_err *err)
{
    cleanup_json struct json_object *body = json_object_new_object();
    if (size_field(body, "Memory", o->memory, "--memory", err) < 0 ||
        size_field(body, "MemorySwap", o->memory_swap, "--memory-swap", err) < 0 ||
        size_field(body, "MemoryReservation", o->memory_reservation, "--memory-reservation", err) <
            0)
        return NULL;
    if (o->cpus) {
        char *end = NULL;
        double c = strtod(o->cpus, &end);
        if (end == o->cpus || *end || c < 0)
            return berth_err_fail(err, EINVAL,
                                  "invalid argument \"%s\" for \"--cpus\" flag: not a number",
                                  o->cpus),
                   NULL;
        json_object_object_add(body, "NanoCpus", json_object_new_int64((int64_t)(c * 1e9)));
    }
    if (o->cpu_shares_set)
        json_object_object_add(body, "CpuShares", json_object_new_int64(o->cpu_shares));
    if (o->cpu_quota_set)
        json_object_object_add(body, "CpuQuota", json_object_new_int64(o->cpu_quota));
    if (o->cpu_period_set)
        json_object_object_add(body, "CpuPeriod", json_object_new_int64(o->cpu_period));
    if (o->blkio_weight_set)
        json_object_object_add(body, "BlkioWeight", json_object_new_int64(o->blkio_weight));
    if (o->pids_limit_set)
        json_object_object_add(body, "PidsLimit", json_object_new_int64(o->pids_limit));
    if (o->cpuset_cpus)
        json_object_object_add(body, "CpusetCpus", json_object_new_string(o->cpuset_cpus));
    if (o->cpuset_mems)
        json_object_object_add(body, "CpusetMems", json_object_new_string(o->cpuset_mems));
    if (o->restart && cli_restart_policy(body, o->restart, err) < 0)
        return NULL;
    *n_set = json_object_object_length(body);
    return json_object_get(body);
}

static const char usage_text[] =
    "Usage:  berth update [OPTIONS] CONTAINER [CONTAINER...]\n\n"
    "Update configuration of one or more containers\n\n"
    "Options:\n"
    "      --blkio-weight uint16        Block IO (relative weight), between 10 and 1000, or 0 "
    "to disable\n"
    "      --cpu-period int             Limit CPU CFS (Completely Fair Scheduler) period\n"
    "      --cpu-quota int              Limit CPU CFS (Completely Fair Scheduler) quota\n"
    "  -c, --cpu-shares int             CPU shares (relative weight)\n"
    "      --cpus decimal               Number of CPUs\n"
    "      --cpuset-cpus string         CPUs in which to allow execution (0-3, 0,1)\n"
    "      --cpuset-mems string         MEMs in which to allow execution (0-3, 0,1)\n"
    "  -m, --memory bytes               Memory limit\n"
    "      --memory-reservation bytes   Memory soft limit\n"
    "      --memory-swap bytes          Swap limit equal to memory plus swap: '-1' to enable "
    "unlimited swap\n"
    "      --pids-limit int             Tune container pids limit (set -1 for unlimited)\n"
    "      --restart string             Restart policy to apply when a container exits\n";

int
cli_cmd_update(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    struct update_opts o = {0};
    const struct cli_flag flags[] = {
        {"memory", 'm', CLI_FLAG_STRING, &o.memory, NULL},
        {"memory-swap", 0, CLI_FLAG_STRING, &o.memory_swap, NULL},
        {"memory-reservation", 0, CLI_FLAG_STRING, &o.memory_reservation, NULL},
        {"cpus", 0, CLI_FLAG_STRING, &o.cpus, NULL},
        {"cpuset-cpus", 0, CLI_FLAG_STRING, &o.cpuset_cpus, NULL},
        {"cpuset-mems", 0, CLI_FLAG_STRING, &o.cpuset_mems, NULL},
        {"restart", 0, CLI_FLAG_STRING, &o.restart, NULL},
        {"cpu-shares", 'c', CLI_FLAG_INT, &o.cpu_shares, &o.cpu_shares_set},
        {"cpu-quota", 0, CLI_FLAG_INT, &o.cpu_quota, &o.cpu_quota_set},
        {"cpu-period", 0, CLI_FLAG_INT, &o.cpu_period, &o.cpu_period_set},
        {"pids-limit", 0, CLI_FLAG_INT, &o.pids_limit, &o.pids_limit_set},
        {"blkio-weight", 0, CLI_FLAG_INT, &o.blkio_weight, &o.blkio_weight_set},
    };
    struct cli_args args;
    if (cli_flags_parse("update", flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (cli_args_count("update", &args, 1, -1, err) < 0)
        return CLI_EXIT_USAGE;
    int n_set = 0;
    cleanup_json struct json_object *body = update_body(&o, &n_set, err);
    if (!body)
        return CLI_EXIT_USAGE;
    if (n_set == 0) {
        berth_err_fail(err, EINVAL, "you must provide one or more flags when using this command");
        return CLI_EXIT_FAIL;
    }
    int status = 0;
    for (int i = 0; i < args.n; i++) {
        cleanup_free char *e = cli_escape(args.v[i]);
        cleanup_free char *path = xasprintf("/containers/%s/update", e);
        cleanup_json struct json_object *out = NULL;
        if (cli_api(g, "POST", path, body, &out, err) < 0) {
            cli_report_error(err);
            status = CLI_EXIT_FAIL;
            continue;
        }
        printf("%s\n", args.v[i]);
        fflush(stdout);
    }
    return status;
}
