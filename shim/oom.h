/* SPDX-License-Identifier: Apache-2.0
 *
 * OOM kills in the container's memory cgroup, noticed by the shim itself (no `<runtime>
 * events` process beside it): an inotify watch on memory.events (cgroup v2), or an eventfd
 * registered with cgroup.event_control for memory.oom_control (cgroup v1).
 */
#ifndef BERTH_SHIM_OOM_H
#define BERTH_SHIM_OOM_H

#include <sys/types.h>

struct shim_loop;
struct shim_oom;

/* Watch the memory cgroup pid is in; fn(data) runs once per OOM kill seen there. Best effort:
 * NULL (logged at debug) when there is no memory cgroup to watch. */
struct shim_oom *shim_oom_watch(struct shim_loop *loop, pid_t pid, void (*fn)(void *data),
                                void *data);

/* Look at the counter now and report the kills not reported yet: cgroup v1 notifies an OOM
 * kill only on some of the kernel's paths, so the shim also looks when the init exits, before
 * it reports the exit. NULL is fine. */
void shim_oom_check(struct shim_oom *oom);

/* Stop watching; NULL is fine. */
void shim_oom_free(struct shim_oom *oom);

#endif
