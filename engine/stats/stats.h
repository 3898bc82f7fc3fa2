/* SPDX-License-Identifier: Apache-2.0
 *
 * docker's GET /containers/{id}/stats document (API 1.41, types.StatsJSON), made from the
 * runtime's statistics as `ocirun events --stats` prints them (runc's shape: cpu, memory, pids,
 * blkio, ... in cgroup v1, v2 or hybrid hosts alike) and the host's figures that docker puts
 * beside them (system CPU time, CPUs, memory). The caller fetches the runtime's document (the
 * supervisor's Tasks.Metrics) and keeps the previous docker document for precpu_stats.
 */
#ifndef BERTH_ENGINE_STATS_STATS_H
#define BERTH_ENGINE_STATS_STATS_H

#include <stddef.h>
#include <stdint.h>

struct berth_err;
struct json_object;

/* What docker reads from the host for each document. */
struct eng_stats_host {
    uint64_t system_cpu_usage; /* ns: the "cpu" line of /proc/stat (user to softirq) */
    uint32_t online_cpus;      /* the "cpuN" lines of /proc/stat */
    uint64_t mem_total;        /* bytes: MemTotal of /proc/meminfo; 0 when unknown */
};

/* Fill *out from the texts of /proc/stat and /proc/meminfo (meminfo may be NULL). Returns 0,
 * or -1 with err (code 0) when proc_stat has no "cpu" line. */
int eng_stats_host_parse(const char *proc_stat, const char *meminfo, struct eng_stats_host *out,
                         struct berth_err *err);

/* Read /proc/stat and /proc/meminfo into *out. Returns 0 or -1 with err. */
int eng_stats_host_read(struct eng_stats_host *out, struct berth_err *err);

/* docker's /containers/{id}/stats document from the runtime's stats (data, JSON: the whole
 * `ocirun events --stats` line or its "data" object) read at `now_ns`, with `prev` (the
 * previous docker document, or NULL) for precpu_stats and preread; id and name fill "id" and
 * "name" ("/" + name). num_cpus and system_cpu_usage are read from /proc/stat. Returns a new
 * object (the caller puts it), or NULL with err: the runtime's document is not JSON or not an
 * object (code 0: an internal error), or /proc cannot be read.
 *
 * "networks" is left out, as docker leaves it out for NetworkMode none and host; for a
 * container with its own network namespace the caller adds eng_stats_networks()'s object
 * (networks.h). */
struct json_object *eng_stats_docker(const char *runtime_json, size_t len, const char *id,
                                     const char *name, int64_t now_ns, struct json_object *prev,
                                     struct berth_err *err);

/* eng_stats_docker with the host's figures given rather than read. */
struct json_object *eng_stats_docker_host(const char *runtime_json, size_t len, const char *id,
                                          const char *name, int64_t now_ns,
                                          struct json_object *prev,
                                          const struct eng_stats_host *host, struct berth_err *err);

#endif
