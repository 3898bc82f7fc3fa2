/* SPDX-License-Identifier: Apache-2.0
 *
 * Capability names: the table of Linux capabilities by number, the last one this kernel knows
 * (/proc/sys/kernel/cap_last_cap: a privileged container gets every one of them, and naming
 * a capability the kernel lacks would make the runtime fail), and lookup by name.
 */
#include "engine/spec/spec-internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"

static const char *const cap_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

const char *
spec_cap_name(int cap)
{
    if (cap < 0 || (size_t)cap >= ARRAY_SIZE(cap_names))
        return NULL;
    return cap_names[cap];
}

int
spec_cap_last(void)
{
    cleanup_fclose FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
    int last = -1;

    if (!f || fscanf(f, "%d", &last) != 1 || last < 0)
        last = (int)ARRAY_SIZE(cap_names) - 1;
    /* A kernel newer than this table: only the names the table has. */
    if ((size_t)last >= ARRAY_SIZE(cap_names))
        last = (int)ARRAY_SIZE(cap_names) - 1;
    return last;
}

/* "CAP_NET_ADMIN", "NET_ADMIN", "net_admin" all name the same capability, as in Docker. */
int
spec_cap_from_name(const char *name)
{
    const char *bare = strncasecmp(name, "CAP_", 4) == 0 ? name + 4 : name;

    for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
        if (strcasecmp(cap_names[i] + 4, bare) == 0)
            return (int)i;
    return -1;
}
