/* SPDX-License-Identifier: Apache-2.0
 *
 * The documents of a container (containers.h): GET /containers/{id}/json (inspect) and the
 * entries of GET /containers/json, in docker's shapes, from the stored config (the image's
 * merged in at create) and the state.
 */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/containers/internal.h"
#include "engine/daemon.h"

static struct json_object *
copy_or(struct json_object *v, struct json_object *dflt)
{
    if (v) {
        json_object_put(dflt);
        return json_object_get(v);
    }
    return dflt;
}

/* The command that runs: Entrypoint then Cmd; path is its first word. */
static void
command(struct eng_ctr *c, char **path, struct json_object **args)
{
    *args = json_object_new_array();
    *path = NULL;
    struct json_object *parts[] = {berth_json_member(c->config, "Entrypoint"),
                                   berth_json_member(c->config, "Cmd")};
    for (size_t k = 0; k < 2; k++) {
        struct json_object *p = parts[k];
        if (p && json_object_is_type(p, json_type_string)) {
            if (!*path)
                *path = xstrdup(json_object_get_string(p));
            else
                json_object_array_add(*args, json_object_get(p));
            continue;
        }
        for (size_t i = 0;
             p && json_object_is_type(p, json_type_array) && i < json_object_array_length(p); i++) {
            struct json_object *w = json_object_array_get_idx(p, i);
            if (!*path)
                *path = xstrdup(json_object_get_string(w));
            else
                json_object_array_add(*args, json_object_get(w));
        }
    }
    if (!*path)
        *path = xstrdup("");
}

static void
add_str(struct json_object *o, const char *key, const char *v)
{
    json_object_object_add(o, key, json_object_new_string(v ? v : ""));
}

static void
add_time(struct json_object *o, const char *key, int64_t ns)
{
    cleanup_free char *t = eng_time_rfc3339(ns);
    add_str(o, key, t);
}

static struct json_object *
state_doc(struct eng_ctr *c)
{
    struct json_object *s = json_object_new_object();
    add_str(s, "Status", eng_ctr_status_name(c->status));
    json_object_object_add(
        s, "Running",
        json_object_new_boolean(c->status == ENG_CTR_RUNNING || c->status == ENG_CTR_PAUSED));
    json_object_object_add(s, "Paused", json_object_new_boolean(c->status == ENG_CTR_PAUSED));
    json_object_object_add(s, "Restarting",
                           json_object_new_boolean(c->status == ENG_CTR_RESTARTING));
    json_object_object_add(s, "OOMKilled", json_object_new_boolean(c->oom_killed));
    json_object_object_add(s, "Dead", json_object_new_boolean(c->status == ENG_CTR_DEAD));
    json_object_object_add(s, "Pid", json_object_new_int(c->pid));
    json_object_object_add(s, "ExitCode", json_object_new_int(c->exit_code));
    add_str(s, "Error", c->error);
    add_time(s, "StartedAt", c->started_ns);
    add_time(s, "FinishedAt", c->finished_ns);
    struct json_object *health = ctr_health_doc(c);
    if (health)
        json_object_object_add(s, "Health", health);
    return s;
}

/* Config as docker shows it: every field present. */
static struct json_object *
config_doc(struct eng_ctr *c)
{
    struct json_object *o = json_object_new_object();
    struct json_object *cf = c->config;
    static const char *const strings[] = {"Hostname", "Domainname", "User", "WorkingDir"};
    static const char *const bools[] = {"AttachStdin", "AttachStdout", "AttachStderr",
                                        "Tty",         "OpenStdin",    "StdinOnce"};
    struct json_object *hn = berth_json_member(cf, "Hostname");
    for (size_t i = 0; i < ARRAY_SIZE(strings); i++)
        json_object_object_add(
            o, strings[i], copy_or(berth_json_member(cf, strings[i]), json_object_new_string("")));
    if (!hn || !*json_object_get_string(hn)) {
        char short_id[13];
        snprintf(short_id, sizeof(short_id), "%.12s", c->id);
        add_str(o, "Hostname", short_id);
    }
    for (size_t i = 0; i < ARRAY_SIZE(bools); i++)
        json_object_object_add(
            o, bools[i],
            json_object_new_boolean(json_object_get_boolean(berth_json_member(cf, bools[i]))));
    static const char *const others[] = {"ExposedPorts", "Env",        "Cmd",     "Healthcheck",
                                         "Volumes",      "Entrypoint", "OnBuild", "Labels",
                                         "StopSignal",   "StopTimeout"};
    for (size_t i = 0; i < ARRAY_SIZE(others); i++) {
        struct json_object *v = berth_json_member(cf, others[i]);
        if (v)
            json_object_object_add(o, others[i], json_object_get(v));
        else if (strcmp(others[i], "Labels") == 0)
            json_object_object_add(o, others[i], json_object_new_object());
        else if (strcmp(others[i], "Env") == 0 || strcmp(others[i], "Cmd") == 0 ||
                 strcmp(others[i], "Entrypoint") == 0 || strcmp(others[i], "OnBuild") == 0 ||
                 strcmp(others[i], "Volumes") == 0)
            json_object_object_add(o, others[i], NULL);
    }
    add_str(o, "Image", c->image);
    return o;
}

static const char *
network_mode(struct eng_daemon *d, struct eng_ctr *c)
{
    const char *network;
    enum ctr_net_kind kind = ctr_net_kind(d, c->host_config, &network);
    const char *m = berth_json_member_string(c->host_config, "NetworkMode");
    return kind == CTR_NET_CONTAINER ? m : network;
}

/* Mounts as inspect lists them: binds and volumes from HostConfig and the recorded volumes. */
static struct json_object *
mounts_doc(struct eng_ctr *c)
{
    struct json_object *out = json_object_new_array();
    struct json_object *binds = berth_json_member(c->host_config, "Binds");
    for (size_t i = 0; binds && json_object_is_type(binds, json_type_array) &&
                       i < json_object_array_length(binds);
         i++) {
        const char *b = json_object_get_string(json_object_array_get_idx(binds, i));
        cleanup_free char *spec = xstrdup(b);
        char *dest = strchr(spec, ':');
        if (!dest)
            continue;
        *dest++ = 0;
        char *mode = strchr(dest, ':');
        if (mode)
            *mode++ = 0;
        struct json_object *m = json_object_new_object();
        bool is_volume = spec[0] != '/';
        add_str(m, "Type", is_volume ? "volume" : "bind");
        if (is_volume)
            add_str(m, "Name", spec);
        add_str(m, "Source", spec);
        add_str(m, "Destination", dest);
        add_str(m, "Mode", mode ? mode : "");
        json_object_object_add(m, "RW", json_object_new_boolean(!mode || !strstr(mode, "ro")));
        add_str(m, "Propagation", is_volume ? "" : "rprivate");
        json_object_array_add(out, m);
    }
    struct json_object *mounts = berth_json_member(c->host_config, "Mounts");
    for (size_t i = 0; mounts && json_object_is_type(mounts, json_type_array) &&
                       i < json_object_array_length(mounts);
         i++) {
        struct json_object *src = json_object_array_get_idx(mounts, i);
        struct json_object *m = json_object_new_object();
        add_str(m, "Type", json_object_get_string(berth_json_member(src, "Type")));
        if (berth_json_member(src, "Source"))
            add_str(m, "Source", json_object_get_string(berth_json_member(src, "Source")));
        add_str(m, "Destination", json_object_get_string(berth_json_member(src, "Target")));
        add_str(m, "Mode", "");
        json_object_object_add(
            m, "RW",
            json_object_new_boolean(!json_object_get_boolean(berth_json_member(src, "ReadOnly"))));
        add_str(m, "Propagation", "");
        json_object_array_add(out, m);
    }
    return out;
}

struct json_object *
eng_ctr_inspect(struct eng_daemon *d, struct eng_ctr *c)
{
    struct json_object *o = json_object_new_object();
    add_str(o, "Id", c->id);
    add_time(o, "Created", c->created_ns);
    cleanup_free char *path = NULL;
    struct json_object *args = NULL;
    command(c, &path, &args);
    add_str(o, "Path", path);
    json_object_object_add(o, "Args", args);
    pthread_mutex_lock(&c->lock);
    json_object_object_add(o, "State", state_doc(c));
    int restarts = c->restart_count;
    pthread_mutex_unlock(&c->lock);
    add_str(o, "Image", c->image_id);
    cleanup_free char *resolv = xasprintf("%s/resolv.conf", c->dir);
    cleanup_free char *hostname = xasprintf("%s/hostname", c->dir);
    cleanup_free char *hosts = xasprintf("%s/hosts", c->dir);
    add_str(o, "ResolvConfPath", resolv);
    add_str(o, "HostnamePath", hostname);
    add_str(o, "HostsPath", hosts);
    add_str(o, "LogPath", c->log_path);
    pthread_mutex_lock(&d->containers->lock);
    cleanup_free char *name = xasprintf("/%s", c->name);
    pthread_mutex_unlock(&d->containers->lock);
    add_str(o, "Name", name);
    json_object_object_add(o, "RestartCount", json_object_new_int(restarts));
    add_str(o, "Driver", "overlay2");
    add_str(o, "Platform", "linux");
    add_str(o, "MountLabel", "");
    add_str(o, "ProcessLabel", "");
    add_str(o, "AppArmorProfile", "");
    json_object_object_add(o, "ExecIDs", NULL);
    struct json_object *hc = NULL;
    if (json_object_deep_copy(c->host_config, &hc, NULL) < 0 || !hc)
        hc = json_object_new_object();
    if (!berth_json_member(hc, "NetworkMode"))
        add_str(hc, "NetworkMode", network_mode(d, c));
    if (!berth_json_member(hc, "LogConfig")) {
        struct json_object *lc = json_object_new_object();
        add_str(lc, "Type", c->log_path && *c->log_path ? "json-file" : "none");
        json_object_object_add(lc, "Config", json_object_new_object());
        json_object_object_add(hc, "LogConfig", lc);
    }
    if (!berth_json_member(hc, "RestartPolicy")) {
        struct json_object *rp = json_object_new_object();
        add_str(rp, "Name", "no");
        json_object_object_add(rp, "MaximumRetryCount", json_object_new_int(0));
        json_object_object_add(hc, "RestartPolicy", rp);
    }
    static const char *const zero_ints[] = {"Memory",    "MemorySwap", "NanoCpus",
                                            "CpuShares", "ShmSize",    "OomScoreAdj"};
    for (size_t i = 0; i < ARRAY_SIZE(zero_ints); i++)
        if (!berth_json_member(hc, zero_ints[i]))
            json_object_object_add(hc, zero_ints[i], json_object_new_int(0));
    json_object_object_add(o, "HostConfig", hc);
    struct json_object *gd = json_object_new_object(), *gdd = json_object_new_object();
    add_str(gd, "Name", "overlay2");
    json_object_object_add(gd, "Data", gdd);
    json_object_object_add(o, "GraphDriver", gd);
    json_object_object_add(o, "Mounts", mounts_doc(c));
    json_object_object_add(o, "Config", config_doc(c));
    json_object_object_add(o, "NetworkSettings", ctr_net_settings(d, c));
    return o;
}

/* ---------------------------------------------------------------- list entries */

/* docker's human durations (go-units HumanDuration). */
static char *
human_duration(int64_t ns)
{
    int64_t s = ns / 1000000000;
    if (s < 1)
        return xstrdup("Less than a second");
    if (s == 1)
        return xstrdup("1 second");
    if (s < 60)
        return xasprintf("%" PRId64 " seconds", s);
    int64_t m = s / 60;
    if (m == 1)
        return xstrdup("About a minute");
    if (m < 60)
        return xasprintf("%" PRId64 " minutes", m);
    int64_t h = (int64_t)((double)m / 60 + 0.5);
    if (h == 1)
        return xstrdup("About an hour");
    if (h < 48)
        return xasprintf("%" PRId64 " hours", h);
    if (h < 24 * 7 * 2)
        return xasprintf("%" PRId64 " days", h / 24);
    if (h < 24 * 30 * 2)
        return xasprintf("%" PRId64 " weeks", h / 24 / 7);
    if (h < 24 * 365 * 2)
        return xasprintf("%" PRId64 " months", h / 24 / 30);
    return xasprintf("%" PRId64 " years", h / 24 / 365);
}

static char *
status_text(struct eng_ctr *c)
{
    int64_t now = ctr_now_ns();
    switch (c->status) {
    case ENG_CTR_RUNNING:
    case ENG_CTR_PAUSED: {
        cleanup_free char *up = human_duration(now - c->started_ns);
        const char *health = ctr_health_status(c);
        if (c->status == ENG_CTR_PAUSED)
            return xasprintf("Up %s (Paused)", up);
        if (health)
            return xasprintf("Up %s (%s%s)", up, strcmp(health, "starting") == 0 ? "health: " : "",
                             health);
        return xasprintf("Up %s", up);
    }
    case ENG_CTR_RESTARTING: {
        cleanup_free char *ago = human_duration(now - c->finished_ns);
        return xasprintf("Restarting (%d) %s ago", c->exit_code, ago);
    }
    case ENG_CTR_EXITED: {
        if (c->finished_ns == 0)
            return xstrdup("Created");
        cleanup_free char *ago = human_duration(now - c->finished_ns);
        return xasprintf("Exited (%d) %s ago", c->exit_code, ago);
    }
    case ENG_CTR_REMOVING: return xstrdup("Removal In Progress");
    case ENG_CTR_DEAD: return xstrdup("Dead");
    case ENG_CTR_CREATED:
    default: return xstrdup("Created");
    }
}

struct json_object *
eng_ctr_summary(struct eng_daemon *d, struct eng_ctr *c)
{
    struct json_object *o = json_object_new_object();
    add_str(o, "Id", c->id);
    struct json_object *names = json_object_new_array();
    pthread_mutex_lock(&d->containers->lock);
    json_object_array_add(names, json_object_new_string_len("/", 1));
    cleanup_free char *name = xasprintf("/%s", c->name);
    pthread_mutex_unlock(&d->containers->lock);
    json_object_array_put_idx(names, 0, json_object_new_string(name));
    json_object_object_add(o, "Names", names);
    add_str(o, "Image", c->image);
    add_str(o, "ImageID", c->image_id);
    cleanup_free char *path = NULL;
    struct json_object *args = NULL;
    command(c, &path, &args);
    cleanup_free char *cmd = xstrdup(path);
    for (size_t i = 0; i < json_object_array_length(args); i++) {
        char *next =
            xasprintf("%s %s", cmd, json_object_get_string(json_object_array_get_idx(args, i)));
        free(cmd);
        cmd = next;
    }
    json_object_put(args);
    add_str(o, "Command", cmd);
    json_object_object_add(o, "Created", json_object_new_int64(c->created_ns / 1000000000));
    struct json_object *settings = ctr_net_settings(d, c);
    json_object_object_add(o, "Ports", ctr_ports_summary(berth_json_member(settings, "Ports")));
    json_object_put(settings);
    struct json_object *labels = berth_json_member(c->config, "Labels");
    json_object_object_add(o, "Labels",
                           labels ? json_object_get(labels) : json_object_new_object());
    pthread_mutex_lock(&c->lock);
    add_str(o, "State", eng_ctr_status_name(c->status));
    cleanup_free char *status = status_text(c);
    pthread_mutex_unlock(&c->lock);
    add_str(o, "Status", status);
    struct json_object *hc = json_object_new_object();
    add_str(hc, "NetworkMode", network_mode(d, c));
    json_object_object_add(o, "HostConfig", hc);
    struct json_object *ns = json_object_new_object(), *nets = ctr_net_settings(d, c);
    json_object_object_add(ns, "Networks", json_object_get(berth_json_member(nets, "Networks")));
    json_object_put(nets);
    json_object_object_add(o, "NetworkSettings", ns);
    json_object_object_add(o, "Mounts", mounts_doc(c));
    return o;
}
