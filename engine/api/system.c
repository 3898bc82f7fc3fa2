/* SPDX-License-Identifier: Apache-2.0
 *
 * /_ping, /version and /info: what the docker CLI asks before anything else (the API
 * version to speak) and prints for `docker version` and `docker info`.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "berth/supervisor/v1/images.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "engine/api/handlers.h"
#include "engine/api/request.h"
#include "engine/config.h"
#include "engine/daemon.h"
#include "engine/events/events.h"
#include "engine/images/image.h"
#include "engine/store/store.h"

ENG_API_HANDLER(eng_api_system_ping)
{
    /* The headers tell the client the API version; HEAD gets them without the body. */
    eng_api_reply_data(req, 200, "text/plain; charset=utf-8", "OK", 2);
    return 0;
}

static struct json_object *
str(const char *s)
{
    return json_object_new_string(s ? s : "");
}

static char *
os_name(void)
{
    cleanup_fclose FILE *f = fopen("/etc/os-release", "re");
    char line[512];
    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "PRETTY_NAME=", 12) != 0)
            continue;
        char *v = line + 12;
        v[strcspn(v, "\n")] = '\0';
        size_t n = strlen(v);
        if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
            v[n - 1] = '\0';
            v++;
        }
        return xstrdup(v);
    }
    return xstrdup("Linux");
}

ENG_API_HANDLER(eng_api_system_version)
{
    struct utsname u;
    uname(&u);
    const char *arch = eng_image_goarch(u.machine);
    struct json_object *details = json_object_new_object();
    json_object_object_add(details, "ApiVersion", str(ENG_API_VERSION));
    json_object_object_add(details, "MinAPIVersion", str(ENG_API_VERSION_MIN));
    json_object_object_add(details, "Os", str("linux"));
    json_object_object_add(details, "Arch", str(arch));
    json_object_object_add(details, "KernelVersion", str(u.release));
    struct json_object *engine = json_object_new_object();
    json_object_object_add(engine, "Name", str("Engine"));
    json_object_object_add(engine, "Version", str(BERTH_VERSION));
    json_object_object_add(engine, "Details", details);
    struct json_object *components = json_object_new_array();
    json_object_array_add(components, engine);
    struct json_object *platform = json_object_new_object();
    json_object_object_add(platform, "Name", str("berth " BERTH_VERSION));

    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "Platform", platform);
    json_object_object_add(o, "Components", components);
    json_object_object_add(o, "Version", str(BERTH_VERSION));
    json_object_object_add(o, "ApiVersion", str(ENG_API_VERSION));
    json_object_object_add(o, "MinAPIVersion", str(ENG_API_VERSION_MIN));
    json_object_object_add(o, "GitCommit", str(""));
    json_object_object_add(o, "GoVersion", str("none (C)"));
    json_object_object_add(o, "Os", str("linux"));
    json_object_object_add(o, "Arch", str(arch));
    json_object_object_add(o, "KernelVersion", str(u.release));
    json_object_object_add(o, "BuildTime", str(""));
    return eng_api_reply_json(req, 200, o);
}

static struct json_object *
strv(const char *const *v)
{
    struct json_object *a = json_object_new_array();
    for (; *v; v++)
        json_object_array_add(a, str(*v));
    return a;
}

static struct json_object *
plugins(void)
{
    static const char *const volume[] = {"local", NULL};
    static const char *const network[] = {"bridge", "host", "null", NULL};
    static const char *const log[] = {"json-file", NULL};
    struct json_object *p = json_object_new_object();
    json_object_object_add(p, "Volume", strv(volume));
    json_object_object_add(p, "Network", strv(network));
    json_object_object_add(p, "Authorization", NULL);
    json_object_object_add(p, "Log", strv(log));
    return p;
}

static struct json_object *
index_config(const char *name, bool secure, bool official)
{
    struct json_object *i = json_object_new_object();
    json_object_object_add(i, "Name", str(name));
    json_object_object_add(i, "Mirrors", json_object_new_array());
    json_object_object_add(i, "Secure", json_object_new_boolean(secure));
    json_object_object_add(i, "Official", json_object_new_boolean(official));
    return i;
}

/* As dockerd shows daemon.json's insecure-registries: CIDRs (loopback's always among them)
 * in InsecureRegistryCIDRs, names in IndexConfigs beside docker.io's. */
static struct json_object *
registry_config(const struct eng_config *c)
{
    static const char *const insecure[] = {"::1/128", "127.0.0.0/8", NULL};
    struct json_object *cidrs = strv(insecure);
    struct json_object *index = json_object_new_object();
    json_object_object_add(index, "docker.io", index_config("docker.io", true, true));
    for (size_t i = 0; c && i < c->n_insecure_registries; i++) {
        const char *r = c->insecure_registries[i];
        if (strchr(r, '/'))
            json_object_array_add(cidrs, str(r));
        else
            json_object_object_add(index, r, index_config(r, false, false));
    }
    struct json_object *r = json_object_new_object();
    json_object_object_add(r, "AllowNondistributableArtifactsCIDRs", json_object_new_array());
    json_object_object_add(r, "AllowNondistributableArtifactsHostnames", json_object_new_array());
    json_object_object_add(r, "InsecureRegistryCIDRs", cidrs);
    json_object_object_add(r, "IndexConfigs", index);
    json_object_object_add(r, "Mirrors", json_object_new_array());
    return r;
}

static struct json_object *
swarm(void)
{
    struct json_object *s = json_object_new_object();
    json_object_object_add(s, "NodeID", str(""));
    json_object_object_add(s, "NodeAddr", str(""));
    json_object_object_add(s, "LocalNodeState", str("inactive"));
    json_object_object_add(s, "ControlAvailable", json_object_new_boolean(0));
    json_object_object_add(s, "Error", str(""));
    json_object_object_add(s, "RemoteManagers", NULL);
    return s;
}

static struct json_object *
commit(void)
{
    struct json_object *c = json_object_new_object();
    json_object_object_add(c, "ID", str(""));
    json_object_object_add(c, "Expected", str(""));
    return c;
}

static void
add_bool(struct json_object *o, const char *k, bool v)
{
    json_object_object_add(o, k, json_object_new_boolean(v));
}

static void
add_int(struct json_object *o, const char *k, int64_t v)
{
    json_object_object_add(o, k, json_object_new_int64(v));
}

static char *
rfc3339_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char buf[64];
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    return xasprintf("%s.%09ldZ", buf, ts.tv_nsec);
}

ENG_API_HANDLER(eng_api_system_info)
{
    int64_t n_containers = 0;
    if (eng_store_count_containers(req->d->store, &n_containers, err) < 0)
        return -1;
    int64_t n_images = 0;
    if (eng_image_count(req->d, &n_images, err) < 0)
        return -1;
    struct utsname u;
    uname(&u);
    struct sysinfo si;
    sysinfo(&si);
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    cleanup_free char *os = os_name();
    cleanup_free char *now = rfc3339_now();
    bool v2 = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;

    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "ID", str(host));
    add_int(o, "Containers", n_containers);
    add_int(o, "ContainersRunning", 0);
    add_int(o, "ContainersPaused", 0);
    add_int(o, "ContainersStopped", n_containers);
    add_int(o, "Images", n_images);
    json_object_object_add(o, "Driver", str("overlay2"));
    struct json_object *ds = json_object_new_array();
    struct json_object *fs = json_object_new_array();
    json_object_array_add(fs, str("Backing Filesystem"));
    json_object_array_add(fs, str("extfs"));
    json_object_array_add(ds, fs);
    json_object_object_add(o, "DriverStatus", ds);
    json_object_object_add(o, "Plugins", plugins());
    add_bool(o, "MemoryLimit", true);
    add_bool(o, "SwapLimit", true);
    add_bool(o, "KernelMemory", false);
    add_bool(o, "CpuCfsPeriod", true);
    add_bool(o, "CpuCfsQuota", true);
    add_bool(o, "CPUShares", true);
    add_bool(o, "CPUSet", true);
    add_bool(o, "PidsLimit", true);
    add_bool(o, "OomKillDisable", !v2);
    add_bool(o, "IPv4Forwarding", true);
    add_bool(o, "BridgeNfIptables", false);
    add_bool(o, "BridgeNfIp6tables", false);
    add_bool(o, "Debug", req->d->debug);
    add_int(o, "NFd", 0);
    add_int(o, "NGoroutines", 0);
    json_object_object_add(o, "SystemTime", str(now));
    json_object_object_add(o, "LoggingDriver",
                           str(req->d->config ? req->d->config->log_driver : "json-file"));
    json_object_object_add(o, "CgroupDriver", str("cgroupfs"));
    json_object_object_add(o, "CgroupVersion", str(v2 ? "2" : "1"));
    add_int(o, "NEventsListener", eng_events_n_subscribers(req->d->events));
    json_object_object_add(o, "KernelVersion", str(u.release));
    json_object_object_add(o, "OperatingSystem", str(os));
    json_object_object_add(o, "OSVersion", str(""));
    json_object_object_add(o, "OSType", str("linux"));
    json_object_object_add(o, "Architecture", str(u.machine));
    json_object_object_add(o, "IndexServerAddress", str("https://index.docker.io/v1/"));
    json_object_object_add(o, "RegistryConfig", registry_config(req->d->config));
    add_int(o, "NCPU", get_nprocs());
    add_int(o, "MemTotal", (int64_t)si.totalram * si.mem_unit);
    json_object_object_add(o, "GenericResources", NULL);
    json_object_object_add(o, "DockerRootDir", str(req->d->root));
    json_object_object_add(o, "HttpProxy", str(""));
    json_object_object_add(o, "HttpsProxy", str(""));
    json_object_object_add(o, "NoProxy", str(""));
    json_object_object_add(o, "Name", str(host));
    json_object_object_add(o, "Labels", json_object_new_array());
    add_bool(o, "ExperimentalBuild", false);
    json_object_object_add(o, "ServerVersion", str(BERTH_VERSION));
    struct json_object *rt = json_object_new_object();
    struct json_object *ocirun = json_object_new_object();
    json_object_object_add(ocirun, "path", str("ocirun"));
    json_object_object_add(rt, "ocirun", ocirun);
    json_object_object_add(o, "Runtimes", rt);
    json_object_object_add(o, "DefaultRuntime", str("ocirun"));
    json_object_object_add(o, "Swarm", swarm());
    add_bool(o, "LiveRestoreEnabled", req->d->config && req->d->config->live_restore);
    json_object_object_add(o, "Isolation", str(""));
    json_object_object_add(o, "InitBinary", str(""));
    json_object_object_add(o, "ContainerdCommit", commit());
    json_object_object_add(o, "RuncCommit", commit());
    json_object_object_add(o, "InitCommit", commit());
    static const char *const secopts[] = {"name=seccomp,profile=builtin", "name=cgroupns", NULL};
    json_object_object_add(o, "SecurityOptions", strv(secopts));
    json_object_object_add(o, "Warnings", NULL);
    return eng_api_reply_json(req, 200, o);
}
