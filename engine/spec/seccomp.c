/* SPDX-License-Identifier: Apache-2.0
 *
 * linux.seccomp: none when privileged or with seccomp=unconfined; a profile of the user's
 * (SecurityOpt seccomp=<json or file>), converted from Docker's format (archMap, includes /
 * excludes by capability) to the OCI one; otherwise berth's default profile
 * (contrib/seccomp/default.json, the one ocirun uses, embedded at build time), widened as
 * Docker widens its own for the capabilities the container was given: with CAP_SYS_ADMIN
 * it may mount and create namespaces, with CAP_SYS_TIME set the clock, and so on.
 */
#include "engine/spec/spec-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/log.h"

extern const char engine_spec_seccomp_default_json[];
extern const size_t engine_spec_seccomp_default_json_len;

/* The syscalls Docker's default profile allows only with a capability. */
static const struct {
    const char *cap;
    const char *const names[32];
} cap_syscalls[] = {
    {"CAP_SYS_ADMIN",
     {"bpf",
      "clone",
      "clone3",
      "fanotify_init",
      "fsconfig",
      "fsmount",
      "fsopen",
      "fspick",
      "lookup_dcookie",
      "mount",
      "mount_setattr",
      "move_mount",
      "name_to_handle_at",
      "open_tree",
      "perf_event_open",
      "quotactl",
      "quotactl_fd",
      "setdomainname",
      "sethostname",
      "setns",
      "syslog",
      "umount",
      "umount2",
      "unshare"}},
    {"CAP_SYS_BOOT", {"reboot"}},
    {"CAP_SYS_MODULE", {"delete_module", "init_module", "finit_module"}},
    {"CAP_SYS_PACCT", {"acct"}},
    {"CAP_SYS_PTRACE",
     {"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"}},
    {"CAP_SYS_RAWIO", {"iopl", "ioperm"}},
    {"CAP_SYS_TIME", {"settimeofday", "stime", "clock_settime", "clock_settime64"}},
    {"CAP_SYS_TTY_CONFIG", {"vhangup"}},
    {"CAP_SYS_NICE", {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}},
    {"CAP_SYSLOG", {"syslog"}},
    {"CAP_BPF", {"bpf"}},
    {"CAP_PERFMON", {"perf_event_open"}},
};

static bool
has_cap(struct json_object *caps, const char *name)
{
    for (size_t i = 0; i < json_object_array_length(caps); i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(caps, i)), name) == 0)
            return true;
    return false;
}

static bool
names_contain(struct json_object *rule, const char *name)
{
    struct json_object *names;

    if (!json_object_object_get_ex(rule, "names", &names) ||
        !json_object_is_type(names, json_type_array))
        return false;
    for (size_t i = 0; i < json_object_array_length(names); i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(names, i)), name) == 0)
            return true;
    return false;
}

/* Is name already allowed without conditions? */
static bool
allowed(struct json_object *syscalls, const char *name)
{
    for (size_t i = 0; i < json_object_array_length(syscalls); i++) {
        struct json_object *r = json_object_array_get_idx(syscalls, i), *a, *args;
        if (json_object_object_get_ex(r, "action", &a) &&
            strcmp(json_object_get_string(a), "SCMP_ACT_ALLOW") == 0 &&
            !json_object_object_get_ex(r, "args", &args) && names_contain(r, name))
            return true;
    }
    return false;
}

/* Drop the single-name rules for name (conditional allows, the ENOSYS of clone3): an
 * unconditional allow replaces them. */
static void
drop_rules_of(struct json_object *syscalls, const char *name)
{
    for (size_t i = json_object_array_length(syscalls); i-- > 0;) {
        struct json_object *r = json_object_array_get_idx(syscalls, i), *names;
        if (json_object_object_get_ex(r, "names", &names) && json_object_array_length(names) == 1 &&
            names_contain(r, name))
            json_object_array_del_idx(syscalls, i, 1);
    }
}

static struct json_object *
default_profile(struct json_object *caps)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct json_object *p = berth_json_parse(engine_spec_seccomp_default_json,
                                             engine_spec_seccomp_default_json_len, &err);
    struct json_object *syscalls, *extra = json_object_new_array();

    if (!p) {
        /* The build checks the file (embed.cmake CHECK_JSON): this is a broken build. */
        berth_error("spec: the built-in seccomp profile does not parse: %s", err.msg);
        abort();
    }
    json_object_object_get_ex(p, "syscalls", &syscalls);
    for (size_t i = 0; i < ARRAY_SIZE(cap_syscalls); i++) {
        if (!has_cap(caps, cap_syscalls[i].cap))
            continue;
        for (const char *const *n = cap_syscalls[i].names; *n; n++) {
            if (allowed(syscalls, *n))
                continue;
            drop_rules_of(syscalls, *n);
            json_object_array_add(extra, json_object_new_string(*n));
        }
    }
    if (json_object_array_length(extra)) {
        struct json_object *r = json_object_new_object();
        json_object_object_add(r, "names", extra);
        spec_add_string(r, "action", "SCMP_ACT_ALLOW");
        json_object_array_add(syscalls, r);
    } else {
        json_object_put(extra);
    }
    return p;
}

/* Docker's arch names for includes/excludes "arches". */
static const char *
native_arch(void)
{
    struct utsname u;

    if (uname(&u) < 0)
        return "";
    if (strcmp(u.machine, "x86_64") == 0)
        return "amd64";
    if (strcmp(u.machine, "aarch64") == 0)
        return "arm64";
    return strcmp(u.machine, "i686") == 0 ? "386" : "";
}

/* Does a Docker includes/excludes object match this container? */
static int
matches(struct json_object *cond, struct json_object *caps, bool *all, bool *any,
        struct berth_err *err)
{
    struct json_object *cl = NULL, *al = NULL;

    *all = true;
    *any = false;
    if (spec_get_string_array(cond, "seccomp profile", "caps", &cl, err) < 0 ||
        spec_get_string_array(cond, "seccomp profile", "arches", &al, err) < 0)
        return -1;
    for (size_t i = 0; cl && i < json_object_array_length(cl); i++) {
        bool h = has_cap(caps, json_object_get_string(json_object_array_get_idx(cl, i)));
        *all = *all && h;
        *any = *any || h;
    }
    if (al) {
        bool h = false;
        for (size_t i = 0; i < json_object_array_length(al); i++)
            h = h || strcmp(json_object_get_string(json_object_array_get_idx(al, i)),
                            native_arch()) == 0;
        *all = *all && h;
        *any = *any || h;
    }
    return 0;
}

static int
convert_rule(struct json_object *in, struct json_object *caps, struct json_object *out,
             struct berth_err *err)
{
    struct json_object *inc = NULL, *exc = NULL, *names = NULL, *v;
    const char *name = NULL, *action = NULL;
    bool all, any;

    if (!json_object_is_type(in, json_type_object))
        return berth_err_fail(err, EINVAL, "seccomp profile: a syscall rule is not an object");
    if (spec_get_object(in, "seccomp profile", "includes", &inc, err) < 0 ||
        spec_get_object(in, "seccomp profile", "excludes", &exc, err) < 0 ||
        spec_get_string_array(in, "seccomp profile", "names", &names, err) < 0 ||
        spec_get_string(in, "seccomp profile", "name", &name, err) < 0 ||
        spec_get_string(in, "seccomp profile", "action", &action, err) < 0)
        return -1;
    if (!action)
        return berth_err_fail(err, EINVAL, "seccomp profile: a syscall rule has no action");
    if (inc && (matches(inc, caps, &all, &any, err) < 0 || !all))
        return err->msg ? -1 : 0;
    if (exc && (matches(exc, caps, &all, &any, err) < 0 || any))
        return err->msg ? -1 : 0;

    struct json_object *r = json_object_new_object();
    if (names)
        json_object_object_add(r, "names", json_object_get(names));
    else if (name)
        json_object_object_add(r, "names", spec_strv_array((const char *const[]){name, NULL}));
    else
        json_object_object_add(r, "names", json_object_new_array());
    spec_add_string(r, "action", action);
    if (json_object_object_get_ex(in, "errnoRet", &v))
        json_object_object_add(r, "errnoRet", json_object_get(v));
    if (json_object_object_get_ex(in, "args", &v) && !json_object_is_type(v, json_type_null))
        json_object_object_add(r, "args", json_object_get(v));
    json_object_array_add(out, r);
    return 0;
}

/* A Docker-format (or already OCI) profile as the OCI linux.seccomp object (new). */
static struct json_object *
convert_profile(struct json_object *in, struct json_object *caps, struct berth_err *err)
{
    cleanup_json struct json_object *out = json_object_new_object();
    struct json_object *v, *arch_map = NULL, *syscalls = NULL;
    struct json_object *arches = json_object_new_array(), *rules = json_object_new_array();

    json_object_object_add(out, "architectures", arches);
    json_object_object_add(out, "syscalls", rules);
    if (!json_object_object_get_ex(in, "defaultAction", &v) ||
        !json_object_is_type(v, json_type_string)) {
        berth_err_fail(err, EINVAL, "HostConfig.SecurityOpt: seccomp profile: no defaultAction");
        return NULL;
    }
    json_object_object_add(out, "defaultAction", json_object_get(v));
    static const char *const copied[] = {"defaultErrnoRet", "flags", "listenerPath",
                                         "listenerMetadata"};
    for (size_t i = 0; i < ARRAY_SIZE(copied); i++)
        if (json_object_object_get_ex(in, copied[i], &v) && !json_object_is_type(v, json_type_null))
            json_object_object_add(out, copied[i], json_object_get(v));
    if (spec_get_array(in, "seccomp profile", "archMap", &arch_map, err) < 0 ||
        spec_get_array(in, "seccomp profile", "syscalls", &syscalls, err) < 0)
        goto fail;
    if (json_object_object_get_ex(in, "architectures", &v) &&
        json_object_is_type(v, json_type_array))
        for (size_t i = 0; i < json_object_array_length(v); i++)
            json_object_array_add(arches, json_object_get(json_object_array_get_idx(v, i)));
    for (size_t i = 0; arch_map && i < json_object_array_length(arch_map); i++) {
        struct json_object *m = json_object_array_get_idx(arch_map, i), *sub = NULL;
        const char *a = NULL;
        if (spec_get_string(m, "seccomp profile.archMap", "architecture", &a, err) < 0 ||
            spec_get_string_array(m, "seccomp profile.archMap", "subArchitectures", &sub, err) < 0)
            goto fail;
        if (a)
            json_object_array_add(arches, json_object_new_string(a));
        for (size_t k = 0; sub && k < json_object_array_length(sub); k++)
            json_object_array_add(arches, json_object_get(json_object_array_get_idx(sub, k)));
    }
    for (size_t i = 0; syscalls && i < json_object_array_length(syscalls); i++)
        if (convert_rule(json_object_array_get_idx(syscalls, i), caps, rules, err) < 0)
            goto fail;
    return steal_ptr(&out);

fail:
    berth_err_wrap(err, "HostConfig.SecurityOpt");
    return NULL;
}

int
spec_seccomp(struct spec_ctx *c, struct berth_err *err)
{
    struct json_object *p;

    if (c->privileged || c->seccomp_unconfined)
        return 0;
    if (c->seccomp_profile) {
        if (!(p = convert_profile(c->seccomp_profile, c->caps, err)))
            return -1;
    } else {
        p = default_profile(c->caps);
    }
    json_object_object_add(c->oci_linux, "seccomp", p);
    return 0;
}
