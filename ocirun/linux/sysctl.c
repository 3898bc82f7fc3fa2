// SPDX-License-Identifier: Apache-2.0
//
// linux.sysctl (see sysctl.h).

#include "ocirun/linux/sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "ocirun/spec.h"

static const struct {
    const char *name;
    bool prefix;
    enum ocirun_ns ns;
} allowed[] = {
    {"kernel.msgmax", false, OCIRUN_NS_IPC},   {"kernel.msgmnb", false, OCIRUN_NS_IPC},
    {"kernel.msgmni", false, OCIRUN_NS_IPC},   {"kernel.sem", false, OCIRUN_NS_IPC},
    {"kernel.shmall", false, OCIRUN_NS_IPC},   {"kernel.shmmax", false, OCIRUN_NS_IPC},
    {"kernel.shmmni", false, OCIRUN_NS_IPC},   {"kernel.shm_rmid_forced", false, OCIRUN_NS_IPC},
    {"fs.mqueue.", true, OCIRUN_NS_IPC},       {"net.", true, OCIRUN_NS_NET},
    {"kernel.hostname", false, OCIRUN_NS_UTS}, {"kernel.domainname", false, OCIRUN_NS_UTS},
};

int
ocirun_sysctl_check(const struct ocirun_spec *spec, struct json_object *obj, struct berth_err *err)
{
    if (!obj)
        return 0;
    if (!json_object_is_type(obj, json_type_object))
        return berth_err_fail(err, EINVAL, "sysctl: expected object");
    json_object_object_foreach(obj, key, val)
    {
        if (!json_object_is_type(val, json_type_string))
            return berth_err_fail(err, EINVAL, "sysctl `%s`: expected string value", key);
        if (!*key || strchr(key, '/') || strstr(key, "..") || key[0] == '.')
            return berth_err_fail(err, EINVAL, "invalid sysctl name `%s`", key);
        size_t i;
        for (i = 0; i < ARRAY_SIZE(allowed); i++) {
            bool match = allowed[i].prefix
                             ? strncmp(key, allowed[i].name, strlen(allowed[i].name)) == 0
                             : strcmp(key, allowed[i].name) == 0;
            if (match)
                break;
        }
        if (i == ARRAY_SIZE(allowed))
            return berth_err_fail(err, EINVAL,
                                  "sysctl `%s` is not namespaced: it would change the host", key);
        const struct ocirun_namespace *ns = &spec->ns[allowed[i].ns];
        if (!ns->wanted || ns->path)
            return berth_err_fail(err, EINVAL, "sysctl `%s` needs a new %s namespace", key,
                                  ocirun_ns_name(allowed[i].ns));
    }
    return 0;
}

int
ocirun_sysctl_apply(struct json_object *obj, struct berth_err *err)
{
    if (!obj)
        return 0;
    json_object_object_foreach(obj, key, val)
    {
        cleanup_free char *path = xasprintf("/proc/sys/%s", key);
        for (char *p = path + strlen("/proc/sys/"); *p; p++)
            if (*p == '.')
                *p = '/';
        const char *v = json_object_get_string(val);
        cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
            return berth_err_set(err, errno, "sysctl `%s`", key);
        if (write(fd, v, strlen(v)) < 0)
            return berth_err_set(err, errno, "sysctl `%s` = `%s`", key, v);
    }
    return 0;
}
