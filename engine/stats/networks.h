/* SPDX-License-Identifier: Apache-2.0
 *
 * The "networks" part of docker's stats document: per-interface counters of a container's
 * network namespace, as /proc/<pid>/net/dev shows them from inside it.
 */
#ifndef BERTH_ENGINE_STATS_NETWORKS_H
#define BERTH_ENGINE_STATS_NETWORKS_H

#include <sys/types.h>

struct berth_err;
struct json_object;

/* docker's "networks" object ({"eth0": {"rx_bytes": ..., "tx_dropped": ...}}) from the text
 * of a network namespace's /proc/<pid>/net/dev; the loopback is left out, as docker counts only
 * the interfaces it made. Returns a new object; lines it cannot read are skipped. */
struct json_object *eng_stats_networks_parse(const char *net_dev);

/* The same for the network namespace of process pid. NULL with err when the file cannot be
 * read (the process is gone). */
struct json_object *eng_stats_networks(pid_t pid, struct berth_err *err);

#endif
