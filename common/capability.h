/* SPDX-License-Identifier: Apache-2.0
 *
 * Linux capability names by number ("CAP_CHOWN" is 0), shared by the runtime (which sets
 * them) and the engine (which names them in specs).
 */
#ifndef BERTH_COMMON_CAPABILITY_H
#define BERTH_COMMON_CAPABILITY_H

/* The name of capability cap ("CAP_NET_ADMIN"), or NULL past the table. */
const char *berth_cap_name(int cap);

/* The capability named exactly `name` ("CAP_NET_ADMIN"), or -1. */
int berth_cap_from_name(const char *name);

/* As docker reads names: "CAP_NET_ADMIN", "NET_ADMIN", "net_admin" all name it. -1 when
 * unknown. */
int berth_cap_from_docker_name(const char *name);

/* The last capability both this kernel (/proc/sys/kernel/cap_last_cap) and the table know: a
 * spec naming one the kernel lacks makes the runtime fail. */
int berth_cap_last(void);
/* The kernel's last capability, which may be past the table (a runtime dropping every
 * capability from a bounding set must drop those too). */
int berth_cap_last_kernel(void);

#endif
