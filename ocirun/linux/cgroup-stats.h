/* SPDX-License-Identifier: Apache-2.0
 *
 * Container statistics read from its cgroups, in the shape runc's `events` prints as "data":
 * cpu (usage total/percpu/kernel/user in ns, throttling), memory (usage, swap, kernel with
 * limit/max/failcnt, cache, raw memory.stat), pids, blkio, hugetlb. v1 files and v2 files are
 * both understood; what a kernel lacks is left out.
 */
#ifndef BERTH_OCIRUN_LINUX_CGROUP_STATS_H
#define BERTH_OCIRUN_LINUX_CGROUP_STATS_H

#include <stdint.h>

struct json_object;

/* A new stats object for the container's cgroup directories. Never fails: unreadable files
 * are skipped. */
struct json_object *ocirun_cgroup_stats(char *const *paths);

/* The number of OOM kills so far (v2 memory.events oom_kill, v1 memory.oom_control
 * oom_kill), or 0. */
uint64_t ocirun_cgroup_oom_kills(char *const *paths);

#endif
