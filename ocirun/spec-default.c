// SPDX-License-Identifier: Apache-2.0
//
// The default config.json and the features document (spec-default.h). Built with json-c from
// tables so the two stay in step with what the runtime implements.

#include "ocirun/spec-default.h"

#include <json-c/json.h>
#include <string.h>

#include "common/capability.h"
#include "common/cleanup.h"
#include "ocirun/hooks.h"
#include "ocirun/linux/caps.h"
#include "ocirun/linux/mounts.h"
#include "ocirun/linux/seccomp.h"
#include "ocirun/ocirun.h"
#include "ocirun/spec.h"

static struct json_object *
strv(const char *const *v)
{
    struct json_object *a = json_object_new_array();
    for (; *v; v++)
        json_object_array_add(a, json_object_new_string(*v));
    return a;
}

static void
add_str(struct json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, json_object_new_string(v));
}

static struct json_object *
mount(const char *dest, const char *type, const char *src, const char *const *opts)
{
    struct json_object *m = json_object_new_object();
    add_str(m, "destination", dest);
    add_str(m, "type", type);
    add_str(m, "source", src);
    json_object_object_add(m, "options", strv(opts));
    return m;
}

static const char *const default_caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE",
                                           NULL};

static const char *const masked[] = {"/proc/acpi",
                                     "/proc/asound",
                                     "/proc/kcore",
                                     "/proc/keys",
                                     "/proc/latency_stats",
                                     "/proc/timer_list",
                                     "/proc/timer_stats",
                                     "/proc/sched_debug",
                                     "/sys/firmware",
                                     "/proc/scsi",
                                     "/sys/devices/virtual/powercap",
                                     NULL};

static const char *const readonly[] = {"/proc/bus",           "/proc/fs", "/proc/irq", "/proc/sys",
                                       "/proc/sysrq-trigger", NULL};

static struct json_object *
process(bool rootless)
{
    static const char *const args[] = {"sh", NULL};
    static const char *const env[] = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", NULL};
    struct json_object *p = json_object_new_object(), *user = json_object_new_object();
    struct json_object *caps = json_object_new_object(), *rl = json_object_new_object();
    struct json_object *rls = json_object_new_array();
    json_object_object_add(p, "terminal", json_object_new_boolean(true));
    json_object_object_add(user, "uid", json_object_new_int(0));
    json_object_object_add(user, "gid", json_object_new_int(0));
    json_object_object_add(p, "user", user);
    json_object_object_add(p, "args", strv(args));
    json_object_object_add(p, "env", strv(env));
    add_str(p, "cwd", "/");
    static const char *const sets[] = {"bounding", "effective", "permitted", NULL};
    for (const char *const *s = sets; *s; s++)
        json_object_object_add(caps, *s, strv(default_caps));
    json_object_object_add(p, "capabilities", caps);
    add_str(rl, "type", "RLIMIT_NOFILE");
    json_object_object_add(rl, "hard", json_object_new_int(1024));
    json_object_object_add(rl, "soft", json_object_new_int(1024));
    json_object_array_add(rls, rl);
    json_object_object_add(p, "rlimits", rls);
    json_object_object_add(p, "noNewPrivileges", json_object_new_boolean(true));
    (void)rootless;
    return p;
}

static struct json_object *
mounts(bool rootless)
{
    static const char *const proc_o[] = {NULL};
    static const char *const dev_o[] = {"nosuid", "strictatime", "mode=755", "size=65536k", NULL};
    static const char *const pts_o[] = {"nosuid",    "noexec", "newinstance", "ptmxmode=0666",
                                        "mode=0620", "gid=5",  NULL};
    static const char *const pts_rootless_o[] = {"nosuid",        "noexec",    "newinstance",
                                                 "ptmxmode=0666", "mode=0620", NULL};
    static const char *const shm_o[] = {"nosuid",    "noexec",      "nodev",
                                        "mode=1777", "size=65536k", NULL};
    static const char *const mq_o[] = {"nosuid", "noexec", "nodev", NULL};
    static const char *const sys_o[] = {"nosuid", "noexec", "nodev", "ro", NULL};
    static const char *const sys_rootless_o[] = {"rbind", "nosuid", "noexec", "nodev", "ro", NULL};
    static const char *const cg_o[] = {"nosuid", "noexec", "nodev", "relatime", "ro", NULL};
    struct json_object *a = json_object_new_array();
    json_object_array_add(a, mount("/proc", "proc", "proc", proc_o));
    json_object_array_add(a, mount("/dev", "tmpfs", "tmpfs", dev_o));
    json_object_array_add(a,
                          mount("/dev/pts", "devpts", "devpts", rootless ? pts_rootless_o : pts_o));
    json_object_array_add(a, mount("/dev/shm", "tmpfs", "shm", shm_o));
    json_object_array_add(a, mount("/dev/mqueue", "mqueue", "mqueue", mq_o));
    if (rootless)
        json_object_array_add(a, mount("/sys", "none", "/sys", sys_rootless_o));
    else
        json_object_array_add(a, mount("/sys", "sysfs", "sysfs", sys_o));
    json_object_array_add(a, mount("/sys/fs/cgroup", "cgroup", "cgroup", cg_o));
    return a;
}

static struct json_object *
id_map(uint32_t host)
{
    struct json_object *a = json_object_new_array(), *m = json_object_new_object();
    json_object_object_add(m, "containerID", json_object_new_int(0));
    json_object_object_add(m, "hostID", json_object_new_int64(host));
    json_object_object_add(m, "size", json_object_new_int(1));
    json_object_array_add(a, m);
    return a;
}

static struct json_object *
linux_section(bool rootless, uid_t uid, gid_t gid)
{
    static const char *const ns_root[] = {"pid", "network", "ipc", "uts", "mount", "cgroup", NULL};
    static const char *const ns_rootless[] = {"pid", "ipc", "uts", "mount", "cgroup", "user", NULL};
    struct json_object *l = json_object_new_object(), *ns = json_object_new_array();
    for (const char *const *n = rootless ? ns_rootless : ns_root; *n; n++) {
        struct json_object *o = json_object_new_object();
        add_str(o, "type", *n);
        json_object_array_add(ns, o);
    }
    if (rootless) {
        json_object_object_add(l, "uidMappings", id_map(uid));
        json_object_object_add(l, "gidMappings", id_map(gid));
    } else {
        struct json_object *res = json_object_new_object(), *devs = json_object_new_array();
        struct json_object *deny = json_object_new_object();
        json_object_object_add(deny, "allow", json_object_new_boolean(false));
        add_str(deny, "access", "rwm");
        json_object_array_add(devs, deny);
        json_object_object_add(res, "devices", devs);
        json_object_object_add(l, "resources", res);
    }
    json_object_object_add(l, "namespaces", ns);
    json_object_object_add(l, "seccomp", ocirun_seccomp_default_profile());
    json_object_object_add(l, "maskedPaths", strv(masked));
    json_object_object_add(l, "readonlyPaths", strv(readonly));
    return l;
}

struct json_object *
ocirun_spec_default(bool rootless, uid_t uid, gid_t gid)
{
    struct json_object *s = json_object_new_object(), *root = json_object_new_object();
    add_str(s, "ociVersion", OCIRUN_SPEC_VERSION);
    json_object_object_add(s, "process", process(rootless));
    add_str(root, "path", "rootfs");
    json_object_object_add(root, "readonly", json_object_new_boolean(true));
    json_object_object_add(s, "root", root);
    add_str(s, "hostname", "ocirun");
    json_object_object_add(s, "mounts", mounts(rootless));
    json_object_object_add(s, "linux", linux_section(rootless, uid, gid));
    return s;
}

struct json_object *
ocirun_spec_features(void)
{
    struct json_object *f = json_object_new_object(), *l = json_object_new_object();
    struct json_object *opts = json_object_new_array(), *ns = json_object_new_array();
    struct json_object *cg = json_object_new_object(), *hooks = json_object_new_array();
    const char *name;
    add_str(f, "ociVersionMin", "1.0.0");
    add_str(f, "ociVersionMax", OCIRUN_SPEC_VERSION);
    for (int k = 0; k < OCIRUN_HOOK_COUNT; k++)
        json_object_array_add(hooks, json_object_new_string(ocirun_hook_kind_name(k)));
    json_object_object_add(f, "hooks", hooks);
    for (size_t i = 0; (name = ocirun_mount_option_name(i)); i++)
        json_object_array_add(opts, json_object_new_string(name));
    json_object_object_add(f, "mountOptions", opts);
    for (int i = 0; i < OCIRUN_NS_COUNT; i++)
        json_object_array_add(ns, json_object_new_string(ocirun_ns_name(i)));
    json_object_object_add(l, "namespaces", ns);
    struct json_object *caps = json_object_new_array();
    int last = berth_cap_last_kernel();
    for (int c = 0; c <= last && berth_cap_name(c); c++)
        json_object_array_add(caps, json_object_new_string(berth_cap_name(c)));
    json_object_object_add(l, "capabilities", caps);
    json_object_object_add(cg, "v1", json_object_new_boolean(true));
    json_object_object_add(cg, "v2", json_object_new_boolean(true));
    json_object_object_add(cg, "systemd", json_object_new_boolean(false));
    json_object_object_add(cg, "systemdUser", json_object_new_boolean(false));
    json_object_object_add(l, "cgroup", cg);
    struct json_object *sc = json_object_new_object(), *acts = json_object_new_array();
    struct json_object *ops = json_object_new_array(), *archs = json_object_new_array();
    json_object_object_add(sc, "enabled", json_object_new_boolean(true));
    for (size_t i = 0; (name = ocirun_seccomp_action_name(i)); i++)
        json_object_array_add(acts, json_object_new_string(name));
    for (size_t i = 0; (name = ocirun_seccomp_op_name(i)); i++)
        json_object_array_add(ops, json_object_new_string(name));
    for (size_t i = 0; (name = ocirun_seccomp_arch_name(i)); i++)
        json_object_array_add(archs, json_object_new_string(name));
    json_object_object_add(sc, "actions", acts);
    json_object_object_add(sc, "operators", ops);
    json_object_object_add(sc, "archs", archs);
    json_object_object_add(l, "seccomp", sc);
    struct json_object *off = json_object_new_object();
    json_object_object_add(off, "enabled", json_object_new_boolean(false));
    json_object_object_add(l, "apparmor", json_object_get(off));
    json_object_object_add(l, "selinux", json_object_get(off));
    json_object_object_add(l, "intelRdt", off);
    json_object_object_add(f, "linux", l);
    struct json_object *ann = json_object_new_object();
    add_str(ann, "org.berth.ocirun.version", BERTH_VERSION);
    json_object_object_add(f, "annotations", ann);
    return f;
}
