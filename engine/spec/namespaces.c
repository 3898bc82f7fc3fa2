/* SPDX-License-Identifier: Apache-2.0
 *
 * Namespaces and what depends on them: NetworkMode (none, host, or the namespace the engine
 * gives as netns_path: a container's own on its networks, or another container's), IpcMode
 * (private, shareable, none, host, container:<ref>), PidMode, UTSMode and CgroupnsMode; the
 * hostname and domainname; Sysctls, which Docker allows only for the namespaced kernel parameters
 * of namespaces the container owns.
 */
#include "engine/spec/spec-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"

static void
add_ns(struct spec_ctx *c, const char *type, const char *path)
{
    struct json_object *nss, *ns = json_object_new_object();

    json_object_object_get_ex(c->oci_linux, "namespaces", &nss);
    spec_add_string(ns, "type", type);
    if (path)
        spec_add_string(ns, "path", path);
    json_object_array_add(nss, ns);
}

/* A mode of "", private, host or container:<ref>, for the ipc and pid namespaces. */
static int
shared_mode(struct spec_ctx *c, const char *key, const char *ns, bool *host, struct berth_err *err)
{
    const char *mode = "";

    if (spec_get_string(c->host, "HostConfig", key, &mode, err) < 0)
        return -1;
    *host = false;
    if (strcmp(mode, "host") == 0) {
        *host = true;
        return 0;
    }
    if (strncmp(mode, "container:", 10) == 0) {
        if (!mode[10])
            return berth_err_fail(err, EINVAL, "HostConfig.%s: `container:` names no container",
                                  key);
        if (!c->in->container_ns)
            return berth_err_fail(err, ENOTSUP,
                                  "HostConfig.%s: sharing another container's namespace is "
                                  "not supported here",
                                  key);
        cleanup_free char *path = c->in->container_ns(c->in->container_ns_data, mode + 10, ns, err);
        if (!path)
            return berth_err_wrap(err, "HostConfig.%s", key);
        add_ns(c, ns, path);
        return 0;
    }
    bool ok = !*mode || strcmp(mode, "private") == 0;
    if (strcmp(ns, "ipc") == 0) {
        ok = ok || strcmp(mode, "shareable") == 0;
        c->ipc_none = strcmp(mode, "none") == 0;
        ok = ok || c->ipc_none;
    }
    if (!ok)
        return berth_err_fail(err, EINVAL, "HostConfig.%s: invalid mode `%s`", key, mode);
    add_ns(c, ns, NULL);
    return 0;
}

static int
network(struct spec_ctx *c, struct berth_err *err)
{
    const char *mode = "";

    if (spec_get_string(c->host, "HostConfig", "NetworkMode", &mode, err) < 0)
        return -1;
    if (c->in->netns_path) {
        add_ns(c, "network", c->in->netns_path);
        return 0;
    }
    if (strcmp(mode, "host") == 0) {
        c->net_host = true;
        return 0;
    }
    if (strcmp(mode, "none") == 0) {
        add_ns(c, "network", NULL);
        return 0;
    }
    return berth_err_fail(err, ENOTSUP,
                          "HostConfig.NetworkMode: `%s` is not supported yet (only none and host)",
                          *mode ? mode : "default");
}

static bool
host_cgroup_v2(void)
{
    return access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
}

static int
uts(struct spec_ctx *c, struct berth_err *err)
{
    const char *mode = "", *hostname = NULL, *domain = NULL;

    if (spec_get_string(c->host, "HostConfig", "UTSMode", &mode, err) < 0 ||
        spec_get_string(c->config, "Config", "Hostname", &hostname, err) < 0 ||
        spec_get_string(c->config, "Config", "Domainname", &domain, err) < 0)
        return -1;
    if (strcmp(mode, "host") == 0) {
        c->uts_host = true;
    } else if (*mode && strcmp(mode, "private") != 0) {
        return berth_err_fail(err, EINVAL, "HostConfig.UTSMode: invalid mode `%s`", mode);
    }
    if ((c->uts_host || c->net_host) && ((hostname && *hostname) || (domain && *domain)))
        return berth_err_fail(err, EINVAL,
                              "Config.Hostname: conflicts with the host's UTS namespace "
                              "(UTSMode or NetworkMode host)");
    if (c->uts_host || c->net_host) {
        /* Docker shares the host's uts namespace with host networking too. */
        c->uts_host = true;
        return 0;
    }
    add_ns(c, "uts", NULL);
    if (hostname && strlen(hostname) > 63)
        return berth_err_fail(err, EINVAL, "Config.Hostname: longer than 63 characters");
    if (hostname && *hostname) {
        spec_add_string(c->spec, "hostname", hostname);
    } else {
        char shortid[13];
        snprintf(shortid, sizeof(shortid), "%s", c->in->id);
        spec_add_string(c->spec, "hostname", shortid);
    }
    if (domain && *domain)
        spec_add_string(c->spec, "domainname", domain);
    return 0;
}

static int
cgroupns(struct spec_ctx *c, struct berth_err *err)
{
    const char *mode = "";

    if (spec_get_string(c->host, "HostConfig", "CgroupnsMode", &mode, err) < 0)
        return -1;
    if (strcmp(mode, "private") == 0 || (!*mode && host_cgroup_v2()))
        add_ns(c, "cgroup", NULL);
    else if (*mode && strcmp(mode, "host") != 0)
        return berth_err_fail(err, EINVAL, "HostConfig.CgroupnsMode: invalid mode `%s`", mode);
    return 0;
}

/* Docker's namespaced sysctls: the ipc ones need a private ipc namespace, net.* a private
 * network namespace; any other would change the host. */
static int
sysctls(struct spec_ctx *c, struct berth_err *err)
{
    static const char *const ipc_exact[] = {
        "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
        "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
    struct json_object *s = NULL, *out = json_object_new_object();

    json_object_object_add(c->oci_linux, "sysctl", out);
    int r = spec_get_object(c->host, "HostConfig", "Sysctls", &s, err);
    if (r <= 0)
        return r;
    json_object_object_foreach(s, key, val)
    {
        bool ipc = strncmp(key, "fs.mqueue.", 10) == 0, net = strncmp(key, "net.", 4) == 0;
        for (size_t i = 0; i < ARRAY_SIZE(ipc_exact); i++)
            ipc = ipc || strcmp(key, ipc_exact[i]) == 0;
        if (!json_object_is_type(val, json_type_string))
            return berth_err_fail(err, EINVAL, "HostConfig.Sysctls.%s: expected a string, got %s",
                                  key, spec_type_phrase(val));
        if (!ipc && !net)
            return berth_err_fail(err, EINVAL,
                                  "HostConfig.Sysctls: `%s` is not a namespaced sysctl", key);
        if (ipc && c->ipc_host)
            return berth_err_fail(err, EINVAL,
                                  "HostConfig.Sysctls: `%s` needs a private IPC namespace", key);
        if (net && c->net_host)
            return berth_err_fail(
                err, EINVAL, "HostConfig.Sysctls: `%s` needs a private network namespace", key);
        json_object_object_add(out, key, json_object_get(val));
    }
    return 0;
}

int
spec_namespaces(struct spec_ctx *c, struct berth_err *err)
{
    const char *userns = "";

    json_object_object_add(c->oci_linux, "namespaces", json_object_new_array());
    add_ns(c, "mount", NULL);
    if (network(c, err) < 0 || shared_mode(c, "IpcMode", "ipc", &c->ipc_host, err) < 0 ||
        shared_mode(c, "PidMode", "pid", &c->pid_host, err) < 0 || uts(c, err) < 0 ||
        cgroupns(c, err) < 0)
        return -1;
    if (spec_get_string(c->host, "HostConfig", "UsernsMode", &userns, err) < 0)
        return -1;
    if (*userns && strcmp(userns, "host") != 0)
        return berth_err_fail(err, ENOTSUP, "HostConfig.UsernsMode: `%s` is not supported yet",
                              userns);
    return sysctls(c, err);
}
