// SPDX-License-Identifier: Apache-2.0
//
// AppArmor, SELinux, personality and Intel RDT checks (see lsm.h).

#include "ocirun/linux/lsm.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/log.h"

#define RDTGROUP_SUPER_MAGIC 0x7655821

bool
ocirun_lsm_apparmor_enabled(void)
{
    char c = 0;
    cleanup_close int fd = open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC);
    return fd >= 0 && read(fd, &c, 1) == 1 && c == 'Y';
}

bool
ocirun_lsm_selinux_enabled(void)
{
    struct statfs fs;
    return statfs("/sys/fs/selinux", &fs) == 0 && fs.f_type == 0xf97cff8c;
}

static int
parse_personality(struct json_object *p, struct ocirun_lsm *out, struct berth_err *err)
{
    const char *domain = NULL;
    char **flags = NULL;
    if (!json_object_is_type(p, json_type_object))
        return berth_err_fail(err, EINVAL, "personality: expected object");
    if (berth_json_get_string(p, "domain", &domain, err) < 0 ||
        berth_json_get_strv(p, "flags", &flags, NULL, err) < 0)
        return berth_err_wrap(err, "personality");
    berth_cleanup_strvp(&flags); /* the spec defines no flags yet */
    if (!domain || strcmp(domain, "LINUX") == 0)
        out->personality = PER_LINUX;
    else if (strcmp(domain, "LINUX32") == 0)
        out->personality = PER_LINUX32;
    else
        return berth_err_fail(err, EINVAL, "personality: unknown domain `%s`", domain);
    out->has_personality = true;
    return 0;
}

static int
check_intel_rdt(struct json_object *rdt, struct berth_err *err)
{
    struct statfs fs;
    if (!rdt)
        return 0;
    if (statfs("/sys/fs/resctrl", &fs) < 0 || fs.f_type != RDTGROUP_SUPER_MAGIC)
        return berth_err_fail(err, ENOTSUP,
                              "linux.intelRdt is set but Intel RDT (resctrl) is not available on "
                              "this host");
    return berth_err_fail(err, ENOTSUP, "linux.intelRdt is not supported by ocirun yet");
}

int
ocirun_lsm_parse(struct json_object *process, struct json_object *lx, struct ocirun_lsm *out,
                 struct berth_err *err)
{
    const char *aa = NULL, *se = NULL, *mount_label = NULL;
    struct json_object *pers = NULL, *rdt = NULL;
    memset(out, 0, sizeof(*out));
    if (process && (berth_json_get_string(process, "apparmorProfile", &aa, err) < 0 ||
                    berth_json_get_string(process, "selinuxLabel", &se, err) < 0))
        return berth_err_wrap(err, "process");
    if (lx && (berth_json_get_object(lx, "personality", &pers, err) < 0 ||
               berth_json_get_object(lx, "intelRdt", &rdt, err) < 0 ||
               berth_json_get_string(lx, "mountLabel", &mount_label, err) < 0))
        return berth_err_wrap(err, "linux");
    if (pers && parse_personality(pers, out, err) < 0)
        return berth_err_wrap(err, "linux");
    if (check_intel_rdt(rdt, err) < 0)
        return -1;
    if (aa && *aa) {
        if (ocirun_lsm_apparmor_enabled())
            out->apparmor_profile = xstrdup(aa);
        else
            berth_warn("apparmor is not enabled on this host: profile `%s` not applied", aa);
    }
    if (se && *se) {
        if (ocirun_lsm_selinux_enabled())
            out->selinux_label = xstrdup(se);
        else
            berth_warn("selinux is not enabled on this host: label `%s` not applied", se);
    }
    if (mount_label && *mount_label && !ocirun_lsm_selinux_enabled())
        berth_warn("selinux is not enabled on this host: mountLabel `%s` not applied", mount_label);
    return 0;
}

void
ocirun_lsm_free(struct ocirun_lsm *l)
{
    free(l->apparmor_profile);
    free(l->selinux_label);
    memset(l, 0, sizeof(*l));
}

static int
write_attr(const char *path, const char *value, struct berth_err *err)
{
    cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return berth_err_set(err, errno, "open `%s`", path);
    if (write(fd, value, strlen(value)) < 0)
        return berth_err_set(err, errno, "write `%s` to `%s`", value, path);
    return 0;
}

int
ocirun_lsm_apply(const struct ocirun_lsm *l, struct berth_err *err)
{
    if (l->has_personality && personality(l->personality) < 0)
        return berth_err_set(err, errno, "set personality");
    if (l->apparmor_profile) {
        cleanup_free char *v = xasprintf("exec %s", l->apparmor_profile);
        const char *path = access("/proc/self/attr/apparmor/exec", F_OK) == 0
                               ? "/proc/self/attr/apparmor/exec"
                               : "/proc/self/attr/exec";
        if (write_attr(path, v, err) < 0)
            return berth_err_wrap(err, "apparmor profile `%s`", l->apparmor_profile);
    }
    if (l->selinux_label && write_attr("/proc/self/attr/exec", l->selinux_label, err) < 0)
        return berth_err_wrap(err, "selinux label `%s`", l->selinux_label);
    return 0;
}
