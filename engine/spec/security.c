/* SPDX-License-Identifier: Apache-2.0
 *
 * Security settings: the capability set (Docker's 14 by default, CapAdd/CapDrop with or
 * without the CAP_ prefix and ALL, every capability when privileged), SecurityOpt
 * (no-new-privileges, seccomp=, apparmor=, label=), and the /proc and /sys paths masked or
 * made read-only unless privileged. The seccomp profile itself is seccomp.c's.
 */
#include "engine/spec/spec-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/capability.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"

/* Docker's default capabilities (moby oci/caps/defaults.go lists the same 14). */
static const char *const default_caps[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
    NULL,
};

static const char *const masked_paths[] = {
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
    NULL,
};

static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

/* Parse a CapAdd/CapDrop list into a bit set; *all when it holds "ALL". */
static int
cap_list(struct spec_ctx *c, const char *key, uint64_t *set, bool *all, struct berth_err *err)
{
    struct json_object *a = NULL;

    *set = 0;
    *all = false;
    int r = spec_get_string_array(c->host, "HostConfig", key, &a, err);

    if (r <= 0)
        return r;
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        const char *name = json_object_get_string(json_object_array_get_idx(a, i));
        if (strcasecmp(name, "ALL") == 0) {
            *all = true;
            continue;
        }
        int cap = berth_cap_from_docker_name(name);
        if (cap < 0)
            return berth_err_fail(err, EINVAL, "HostConfig.%s: unknown capability `%s`", key, name);
        if (cap > berth_cap_last())
            return berth_err_fail(err, EINVAL,
                                  "HostConfig.%s: capability `%s` is not known to this kernel", key,
                                  name);
        *set |= 1ULL << cap;
    }
    return 0;
}

static int
capabilities(struct spec_ctx *c, struct berth_err *err)
{
    uint64_t add, drop, caps = 0, all = 0;
    bool add_all, drop_all;
    int last = berth_cap_last();

    if (cap_list(c, "CapAdd", &add, &add_all, err) < 0 ||
        cap_list(c, "CapDrop", &drop, &drop_all, err) < 0)
        return -1;
    /* "Every capability" is every one the engine itself may pass on: the runtime cannot
     * grant what is outside its own bounding set (a sandboxed engine may lack some). */
    uint64_t own = spec_self_bounding();
    for (int i = 0; i <= last; i++)
        all |= 1ULL << i;
    all &= own;
    if (add & ~own) {
        for (int i = 0; i <= last; i++)
            if (add & ~own & (1ULL << i))
                return berth_err_fail(err, EINVAL,
                                      "HostConfig.CapAdd: `%s` is not in the engine's own "
                                      "bounding set",
                                      berth_cap_name(i));
    }
    for (const char *const *n = default_caps; *n; n++)
        caps |= 1ULL << berth_cap_from_docker_name(*n);

    if (c->privileged)
        caps = all;
    else if (add_all)
        caps = all & ~drop;
    else if (drop_all)
        caps = add;
    else
        caps = (caps & ~drop) | add;

    c->caps = json_object_new_array();
    for (int i = 0; i <= last; i++)
        if (caps & (1ULL << i))
            json_object_array_add(c->caps, json_object_new_string(berth_cap_name(i)));

    /* Docker gives no inheritable or ambient capabilities: a non-root process keeps none
     * across exec, as on a host. */
    struct json_object *p = json_object_new_object();
    json_object_object_add(p, "bounding", json_object_get(c->caps));
    json_object_object_add(p, "effective", json_object_get(c->caps));
    json_object_object_add(p, "permitted", json_object_get(c->caps));
    struct json_object *process;
    json_object_object_get_ex(c->spec, "process", &process);
    json_object_object_add(process, "capabilities", p);
    return 0;
}

static int
seccomp_opt(struct spec_ctx *c, const char *value, struct berth_err *err)
{
    if (strcmp(value, "unconfined") == 0) {
        c->seccomp_unconfined = true;
        return 0;
    }
    /* The docker CLI reads the profile file and sends its contents; a path is read here. */
    struct json_object *p;
    if (value[0] == '{')
        p = berth_json_parse(value, strlen(value), err);
    else
        p = berth_json_parse_file(value, err);
    if (!p)
        return berth_err_wrap(err, "HostConfig.SecurityOpt: seccomp profile");
    if (!json_object_is_type(p, json_type_object)) {
        json_object_put(p);
        return berth_err_fail(err, EINVAL,
                              "HostConfig.SecurityOpt: seccomp profile: expected an object");
    }
    if (c->seccomp_profile)
        json_object_put(c->seccomp_profile);
    c->seccomp_profile = p;
    c->seccomp_unconfined = false;
    return 0;
}

static bool
host_has_apparmor(void)
{
    cleanup_fclose FILE *f = fopen("/sys/module/apparmor/parameters/enabled", "re");
    int ch = f ? fgetc(f) : EOF;

    return ch == 'Y' && access("/sys/kernel/security/apparmor", F_OK) == 0;
}

static int
security_opt(struct spec_ctx *c, const char *opt, bool *nnp, struct berth_err *err)
{
    /* Docker accepts both "key=value" and the older "key:value". */
    size_t klen = strcspn(opt, "=:");
    const char *value = opt[klen] ? opt + klen + 1 : NULL;
    struct json_object *process;

    json_object_object_get_ex(c->spec, "process", &process);
    if (strncmp(opt, "no-new-privileges", klen) == 0 && klen == 17) {
        if (!value || strcmp(value, "true") == 0)
            *nnp = true;
        else if (strcmp(value, "false") == 0)
            *nnp = false;
        else
            return berth_err_fail(err, EINVAL,
                                  "HostConfig.SecurityOpt: no-new-privileges takes true or "
                                  "false, not `%s`",
                                  value);
        return 0;
    }
    if (!value)
        return berth_err_fail(err, EINVAL, "HostConfig.SecurityOpt: invalid option `%s`", opt);
    if (klen == 7 && strncmp(opt, "seccomp", 7) == 0)
        return seccomp_opt(c, value, err);
    if (klen == 8 && strncmp(opt, "apparmor", 8) == 0) {
        /* Ignored on a host without AppArmor, as Docker does. */
        if (host_has_apparmor() && !c->privileged)
            spec_add_string(process, "apparmorProfile", value);
        return 0;
    }
    if (klen == 5 && strncmp(opt, "label", 5) == 0) {
        /* SELinux labels: accepted and ignored when the host has no SELinux. */
        if (access("/sys/fs/selinux/enforce", F_OK) == 0 && strcmp(value, "disable") != 0)
            return berth_err_fail(err, ENOTSUP,
                                  "HostConfig.SecurityOpt: SELinux labels are not supported yet");
        return 0;
    }
    return berth_err_fail(err, EINVAL, "HostConfig.SecurityOpt: invalid option `%s`", opt);
}

int
spec_security(struct spec_ctx *c, struct berth_err *err)
{
    struct json_object *opts = NULL, *process;
    bool nnp = false;

    if (spec_get_bool(c->host, "HostConfig", "Privileged", &c->privileged, err) < 0)
        return -1;
    if (capabilities(c, err) < 0)
        return -1;
    if (spec_get_string_array(c->host, "HostConfig", "SecurityOpt", &opts, err) < 0)
        return -1;
    for (size_t i = 0; opts && i < json_object_array_length(opts); i++)
        if (security_opt(c, json_object_get_string(json_object_array_get_idx(opts, i)), &nnp, err) <
            0)
            return -1;
    json_object_object_get_ex(c->spec, "process", &process);
    if (nnp)
        json_object_object_add(process, "noNewPrivileges", json_object_new_boolean(true));

    if (!c->privileged) {
        json_object_object_add(c->oci_linux, "maskedPaths", spec_strv_array(masked_paths));
        json_object_object_add(c->oci_linux, "readonlyPaths", spec_strv_array(readonly_paths));
    }
    return 0;
}
