/* SPDX-License-Identifier: Apache-2.0
 *
 * Capability names (capability.h).
 */
#include "common/capability.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

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
berth_cap_name(int cap)
{
    return cap >= 0 && (size_t)cap < ARRAY_SIZE(cap_names) ? cap_names[cap] : NULL;
}

int
berth_cap_from_name(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
        if (strcmp(cap_names[i], name) == 0)
            return (int)i;
    return -1;
}

int
berth_cap_from_docker_name(const char *name)
{
    const char *bare = strncasecmp(name, "CAP_", 4) == 0 ? name + 4 : name;
    for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
        if (strcasecmp(cap_names[i] + 4, bare) == 0)
            return (int)i;
    return -1;
}

int
berth_cap_last_kernel(void)
{
    char buf[16] = "";
    cleanup_close int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0 && atoi(buf) >= 0)
        return atoi(buf);
    return (int)ARRAY_SIZE(cap_names) - 1;
}

int
berth_cap_last(void)
{
    int last = berth_cap_last_kernel();
    /* A kernel newer than this table: only the names the table has. */
    return last < (int)ARRAY_SIZE(cap_names) ? last : (int)ARRAY_SIZE(cap_names) - 1;
}
