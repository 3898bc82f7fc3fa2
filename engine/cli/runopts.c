/* SPDX-License-Identifier: Apache-2.0
 *
 * run/create flags to the ContainerCreate body (see runopts.h).
 */
#include "engine/cli/runopts.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/cli/units.h"

#define STR(n, s, f)                                                                               \
    {                                                                                              \
        n, s, CLI_FLAG_STRING, &o->f, NULL                                                         \
    }
#define LIST(n, s, f)                                                                              \
    {                                                                                              \
        n, s, CLI_FLAG_LIST, &o->f, NULL                                                           \
    }
#define BOOL(n, s, f)                                                                              \
    {                                                                                              \
        n, s, CLI_FLAG_BOOL, &o->f, NULL                                                           \
    }
#define INT(n, f)                                                                                  \
    {                                                                                              \
        n, 0, CLI_FLAG_INT, &o->f, &o->f##_set                                                     \
    }

int
cli_runopts_parse(const char *cmd, int argc, char **argv, struct cli_runopts *o,
                  struct berth_err *err)
{
    memset(o, 0, sizeof(*o));
    o->sig_proxy = true;
    /* clang-format off */
    const struct cli_flag flags[] = {
        BOOL("detach", 'd', detach), BOOL("interactive", 'i', interactive), BOOL("tty", 't', tty),
        BOOL("rm", 0, rm), BOOL("init", 0, init), BOOL("privileged", 0, privileged),
        BOOL("read-only", 0, read_only), BOOL("no-healthcheck", 0, no_healthcheck),
        BOOL("sig-proxy", 0, sig_proxy), BOOL("oom-kill-disable", 0, oom_kill_disable),
        STR("name", 0, name), STR("cidfile", 0, cidfile), STR("pull", 0, pull),
        STR("platform", 0, platform),
        STR("detach-keys", 0, detach_keys), STR("hostname", 'h', hostname),
        STR("domainname", 0, domainname), STR("user", 'u', user), STR("workdir", 'w', workdir),
        {"entrypoint", 0, CLI_FLAG_STRING, &o->entrypoint, &o->entrypoint_set},
        STR("stop-signal", 0, stop_signal), INT("stop-timeout", stop_timeout),
        LIST("env", 'e', env), LIST("env-file", 0, env_file), LIST("label", 'l', labels),
        LIST("volume", 'v', volumes), LIST("mount", 0, mounts), LIST("attach", 'a', attach),
        LIST("expose", 0, net.expose),
        STR("health-cmd", 0, health_cmd), STR("health-interval", 0, health_interval),
        STR("health-timeout", 0, health_timeout),
        STR("health-start-period", 0, health_start_period), INT("health-retries", health_retries),
        STR("restart", 0, restart), STR("memory", 'm', memory), STR("memory-swap", 0, memory_swap),
        STR("memory-reservation", 0, memory_reservation), STR("cpus", 0, cpus),
        STR("cpuset-cpus", 0, cpuset_cpus), STR("cpuset-mems", 0, cpuset_mems),
        STR("ipc", 0, ipc), STR("pid", 0, pid), STR("uts", 0, uts), STR("shm-size", 0, shm_size),
        LIST("network", 0, net.networks), LIST("net", 0, net.networks),
        LIST("network-alias", 0, net.aliases), STR("ip", 0, net.ip),
        STR("mac-address", 0, net.mac), BOOL("publish-all", 'P', net.publish_all),
        LIST("dns-search", 0, net.dns_search), LIST("dns-option", 0, net.dns_options),
        LIST("dns-opt", 0, net.dns_options), STR("log-driver", 0, log_driver),
        STR("cgroupns", 0, cgroupns), STR("userns", 0, userns),
        {"cpu-shares", 'c', CLI_FLAG_INT, &o->cpu_shares, &o->cpu_shares_set},
        INT("pids-limit", pids_limit), INT("oom-score-adj", oom_score_adj),
        INT("cpu-quota", cpu_quota), INT("cpu-period", cpu_period),
        LIST("cap-add", 0, cap_add), LIST("cap-drop", 0, cap_drop),
        LIST("security-opt", 0, security_opt), LIST("ulimit", 0, ulimits),
        LIST("device", 0, devices), LIST("sysctl", 0, sysctls), LIST("tmpfs", 0, tmpfs),
        LIST("group-add", 0, group_add), LIST("log-opt", 0, log_opts),
        LIST("publish", 'p', net.publish), LIST("dns", 0, net.dns),
        LIST("add-host", 0, net.add_host),
    };
    /* clang-format on */
    struct cli_args args;
    if (cli_flags_parse(cmd, flags, ARRAY_SIZE(flags), argc, argv, true, &args, err) < 0)
        return -1;
    if (args.help) {
        printf("Usage:  berth %s [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n%s\n\nOptions:\n", cmd,
               strcmp(cmd, "create") == 0 ? "Create a new container"
                                          : "Run a command in a new container");
        for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
            if (flags[i].short_name)
                printf("  -%c, --%s\n", flags[i].short_name, flags[i].name);
            else
                printf("      --%s\n", flags[i].name);
        }
        return 1;
    }
    if (args.n < 1)
        return berth_err_fail(err, EINVAL,
                              "\"berth %s\" requires at least 1 argument.\nSee 'berth %s --help'.",
                              cmd, cmd);
    o->image = args.v[0];
    o->cmd = args.v + 1;
    o->n_cmd = args.n - 1;
    return 0;
}

void
cli_runopts_free(struct cli_runopts *o)
{
    struct cli_strv *lists[] = {&o->env,     &o->env_file,     &o->labels,  &o->volumes,
                                &o->mounts,  &o->attach,       &o->cap_add, &o->cap_drop,
                                &o->ulimits, &o->security_opt, &o->devices, &o->sysctls,
                                &o->tmpfs,   &o->group_add,    &o->log_opts};
    for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
        cli_strv_free(lists[i]);
    cli_netopts_free(&o->net);
}

/* ---- the body ------------------------------------------------------------------------------ */

static struct json_object *
strv_array(const struct cli_strv *v)
{
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; i < v->n; i++)
        json_object_array_add(a, json_object_new_string(v->items[i]));
    return a;
}

/* "VAR" alone takes VAR's value here, as docker does; unset, it stays "VAR". */
static void
add_env(struct json_object *env, const char *item)
{
    const char *val = strchr(item, '=') ? NULL : getenv(item);
    if (val) {
        cleanup_free char *kv = xasprintf("%s=%s", item, val);
        json_object_array_add(env, json_object_new_string(kv));
    } else {
        json_object_array_add(env, json_object_new_string(item));
    }
}

static int
env_file(struct json_object *env, const char *path, struct berth_err *err)
{
    cleanup_fclose FILE *f = fopen(path, "r");
    if (!f)
        return berth_err_set(err, errno, "open env file `%s`", path);
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0;
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s || *s == '#')
            continue;
        if (*s == '=') {
            berth_err_fail(err, EINVAL, "env file `%s`, line %d: variable name is empty", path,
                           lineno);
            free(line);
            return -1;
        }
        add_env(env, s);
    }
    free(line);
    return 0;
}

/* "k=v" items into an object; a key without '=' maps to "" (labels) or is an error. */
static int
kv_into(struct json_object *obj, const struct cli_strv *v, bool need_eq, const char *what,
        struct berth_err *err)
{
    for (size_t i = 0; i < v->n; i++) {
        const char *eq = strchr(v->items[i], '=');
        if ((!eq && need_eq) || eq == v->items[i])
            return berth_err_fail(err, EINVAL, "invalid %s `%s`: expected key=value", what,
                                  v->items[i]);
        cleanup_free char *k =
            eq ? xstrndup(v->items[i], (size_t)(eq - v->items[i])) : xstrdup(v->items[i]);
        json_object_object_add(obj, k, json_object_new_string(eq ? eq + 1 : ""));
    }
    return 0;
}

int
cli_restart_policy(struct json_object *hc, const char *r, struct berth_err *err)
{
    struct json_object *p = json_object_new_object();
    json_object_object_add(hc, "RestartPolicy", p);
    const char *colon = strchr(r, ':');
    size_t n = colon ? (size_t)(colon - r) : strlen(r);
    long long max = 0;
    if (colon) {
        char *end = NULL;
        max = strtoll(colon + 1, &end, 10);
        if (!colon[1] || *end || max < 0 || strncmp(r, "on-failure", n) != 0 || n != 10)
            return berth_err_fail(err, EINVAL, "invalid restart policy `%s`", r);
    }
    static const char *const names[] = {"no", "always", "unless-stopped", "on-failure"};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (strlen(names[i]) == n && strncmp(names[i], r, n) == 0) {
            json_object_object_add(p, "Name", json_object_new_string(i == 0 ? "" : names[i]));
            json_object_object_add(p, "MaximumRetryCount", json_object_new_int64(max));
            return 0;
        }
    }
    return berth_err_fail(err, EINVAL,
                          "invalid restart policy `%s`: expected no, always, unless-stopped or "
                          "on-failure[:max-retries]",
                          r);
}

/* -v: "SRC:DST[:OPTS]" goes to Binds (SRC an absolute host path or a volume name); "DST"
 * alone is an anonymous volume in Config.Volumes. */
static int
volume(struct json_object *binds, struct json_object *vols, const char *v, struct berth_err *err)
{
    const char *c1 = strchr(v, ':');
    if (!c1) {
        if (v[0] != '/')
            return berth_err_fail(err, EINVAL,
                                  "invalid volume `%s`: the path in the container "
                                  "must be absolute",
                                  v);
        json_object_object_add(vols, v, json_object_new_object());
        return 0;
    }
    const char *dst = c1 + 1;
    const char *c2 = strchr(dst, ':');
    if (c1 == v || dst[0] != '/' || (c2 && !c2[1]) || strchr(c2 ? c2 + 1 : dst, ':'))
        return berth_err_fail(err, EINVAL,
                              "invalid volume `%s`: expected [SOURCE:]DEST[:OPTIONS] "
                              "with an absolute DEST",
                              v);
    if (v[0] == '.' || (v[0] != '/' && memchr(v, '/', (size_t)(c1 - v))))
        return berth_err_fail(err, EINVAL, "invalid volume `%s`: a host path must be absolute", v);
    json_object_array_add(binds, json_object_new_string(v));
    return 0;
}

/* --mount type=bind,source=/a,target=/b,readonly */
static int
mount(struct json_object *mounts, const char *spec, struct berth_err *err)
{
    cleanup_free char *s = xstrdup(spec);
    struct json_object *m = json_object_new_object();
    struct json_object *bind_opts = NULL, *vol_opts = NULL, *tmpfs_opts = NULL;
    const char *type = "volume";
    bool has_target = false;
    char *save = NULL;
    for (char *kv = strtok_r(s, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (eq)
            *eq++ = '\0';
        if (strcmp(kv, "type") == 0 && eq) {
            if (strcmp(eq, "bind") && strcmp(eq, "volume") && strcmp(eq, "tmpfs")) {
                json_object_put(m);
                return berth_err_fail(err, EINVAL, "invalid mount `%s`: unknown type `%s`", spec,
                                      eq);
            }
            type = strcmp(eq, "bind") == 0 ? "bind" : strcmp(eq, "tmpfs") == 0 ? "tmpfs" : "volume";
        } else if ((strcmp(kv, "source") == 0 || strcmp(kv, "src") == 0) && eq) {
            json_object_object_add(m, "Source", json_object_new_string(eq));
        } else if ((strcmp(kv, "target") == 0 || strcmp(kv, "destination") == 0 ||
                    strcmp(kv, "dst") == 0) &&
                   eq) {
            json_object_object_add(m, "Target", json_object_new_string(eq));
            has_target = true;
        } else if (strcmp(kv, "readonly") == 0 || strcmp(kv, "ro") == 0) {
            bool ro = !eq || strcmp(eq, "true") == 0 || strcmp(eq, "1") == 0;
            json_object_object_add(m, "ReadOnly", json_object_new_boolean(ro));
        } else if (strcmp(kv, "bind-propagation") == 0 && eq) {
            if (!bind_opts)
                bind_opts = json_object_new_object();
            json_object_object_add(bind_opts, "Propagation", json_object_new_string(eq));
        } else if (strcmp(kv, "volume-nocopy") == 0) {
            if (!vol_opts)
                vol_opts = json_object_new_object();
            json_object_object_add(vol_opts, "NoCopy", json_object_new_boolean(1));
        } else if (strcmp(kv, "tmpfs-size") == 0 && eq) {
            struct berth_err serr = BERTH_ERR_INIT;
            long long sz = cli_parse_size(eq, "tmpfs-size", &serr);
            berth_err_clear(&serr);
            if (sz < 0) {
                json_object_put(m);
                return berth_err_fail(err, EINVAL, "invalid mount `%s`: bad tmpfs-size", spec);
            }
            if (!tmpfs_opts)
                tmpfs_opts = json_object_new_object();
            json_object_object_add(tmpfs_opts, "SizeBytes", json_object_new_int64(sz));
        } else if (strcmp(kv, "tmpfs-mode") == 0 && eq) {
            if (!tmpfs_opts)
                tmpfs_opts = json_object_new_object();
            json_object_object_add(tmpfs_opts, "Mode", json_object_new_int64(strtoll(eq, NULL, 8)));
        } else {
            json_object_put(m);
            json_object_put(bind_opts);
            json_object_put(vol_opts);
            json_object_put(tmpfs_opts);
            return berth_err_fail(err, EINVAL, "invalid mount `%s`: unexpected key `%s`", spec, kv);
        }
    }
    json_object_object_add(m, "Type", json_object_new_string(type));
    if (bind_opts)
        json_object_object_add(m, "BindOptions", bind_opts);
    if (vol_opts)
        json_object_object_add(m, "VolumeOptions", vol_opts);
    if (tmpfs_opts)
        json_object_object_add(m, "TmpfsOptions", tmpfs_opts);
    json_object_array_add(mounts, m);
    if (!has_target)
        return berth_err_fail(err, EINVAL, "invalid mount `%s`: target is required", spec);
    return 0;
}

/* --ulimit nofile=1024[:2048] */
static int
ulimit(struct json_object *arr, const char *u, struct berth_err *err)
{
    const char *eq = strchr(u, '=');
    if (!eq || eq == u)
        return berth_err_fail(err, EINVAL, "invalid ulimit `%s`: expected name=soft[:hard]", u);
    char *end = NULL;
    long long soft = strtoll(eq + 1, &end, 10), hard = soft;
    if (end == eq + 1 || (*end && *end != ':'))
        return berth_err_fail(err, EINVAL, "invalid ulimit `%s`: expected name=soft[:hard]", u);
    if (*end == ':') {
        const char *h = end + 1;
        hard = strtoll(h, &end, 10);
        if (end == h || *end)
            return berth_err_fail(err, EINVAL, "invalid ulimit `%s`: expected name=soft[:hard]", u);
    }
    if (soft > hard)
        return berth_err_fail(err, EINVAL, "invalid ulimit `%s`: soft limit above hard limit", u);
    struct json_object *o = json_object_new_object();
    cleanup_free char *name = xstrndup(u, (size_t)(eq - u));
    json_object_object_add(o, "Name", json_object_new_string(name));
    json_object_object_add(o, "Soft", json_object_new_int64(soft));
    json_object_object_add(o, "Hard", json_object_new_int64(hard));
    json_object_array_add(arr, o);
    return 0;
}

/* --device /dev/x[:/dev/y][:rwm] */
static int
device(struct json_object *arr, const char *d, struct berth_err *err)
{
    cleanup_free char *s = xstrdup(d);
    char *parts[3] = {0};
    int n = 0;
    char *save = NULL;
    for (char *p = strtok_r(s, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
        if (n == 3)
            return berth_err_fail(err, EINVAL, "invalid device `%s`", d);
        parts[n++] = p;
    }
    if (n == 0 || parts[0][0] != '/')
        return berth_err_fail(err, EINVAL, "invalid device `%s`: the host path must be absolute",
                              d);
    const char *in = parts[0], *perm = "rwm";
    if (n == 2 && parts[1][0] == '/')
        in = parts[1];
    else if (n == 2)
        perm = parts[1];
    if (n == 3) {
        in = parts[1];
        perm = parts[2];
    }
    if (strspn(perm, "rwm") != strlen(perm) || in[0] != '/')
        return berth_err_fail(err, EINVAL, "invalid device `%s`", d);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "PathOnHost", json_object_new_string(parts[0]));
    json_object_object_add(o, "PathInContainer", json_object_new_string(in));
    json_object_object_add(o, "CgroupPermissions", json_object_new_string(perm));
    json_object_array_add(arr, o);
    return 0;
}

static int
size_field(struct json_object *hc, const char *key, const char *value, const char *flag,
           struct berth_err *err)
{
    if (!value)
        return 0;
    if (strcmp(key, "MemorySwap") == 0 && strcmp(value, "-1") == 0) {
        json_object_object_add(hc, key, json_object_new_int64(-1));
        return 0;
    }
    long long v = cli_parse_size(value, flag, err);
    if (v < 0)
        return -1;
    json_object_object_add(hc, key, json_object_new_int64(v));
    return 0;
}

static int
healthcheck(struct json_object *body, const struct cli_runopts *o, struct berth_err *err)
{
    if (o->no_healthcheck) {
        if (o->health_cmd || o->health_interval || o->health_timeout || o->health_start_period ||
            o->health_retries_set)
            return berth_err_fail(err, EINVAL,
                                  "--no-healthcheck conflicts with --health-* options");
        struct json_object *h = json_object_new_object();
        struct json_object *t = json_object_new_array();
        json_object_array_add(t, json_object_new_string("NONE"));
        json_object_object_add(h, "Test", t);
        json_object_object_add(body, "Healthcheck", h);
        return 0;
    }
    if (!o->health_cmd && !o->health_interval && !o->health_timeout && !o->health_start_period &&
        !o->health_retries_set)
        return 0;
    struct json_object *h = json_object_new_object();
    json_object_object_add(body, "Healthcheck", h);
    if (o->health_cmd) {
        struct json_object *t = json_object_new_array();
        json_object_array_add(t, json_object_new_string("CMD-SHELL"));
        json_object_array_add(t, json_object_new_string(o->health_cmd));
        json_object_object_add(h, "Test", t);
    }
    const struct {
        const char *value, *key, *flag;
    } d[] = {{o->health_interval, "Interval", "--health-interval"},
             {o->health_timeout, "Timeout", "--health-timeout"},
             {o->health_start_period, "StartPeriod", "--health-start-period"}};
    for (size_t i = 0; i < ARRAY_SIZE(d); i++) {
        if (!d[i].value)
            continue;
        int64_t ns = cli_parse_duration_ns(d[i].value, d[i].flag, err);
        if (ns < 0)
            return -1;
        json_object_object_add(h, d[i].key, json_object_new_int64(ns));
    }
    if (o->health_retries_set) {
        if (o->health_retries < 0)
            return berth_err_fail(err, EINVAL, "--health-retries cannot be negative");
        json_object_object_add(h, "Retries", json_object_new_int64(o->health_retries));
    }
    return 0;
}

static void
add_str(struct json_object *o, const char *key, const char *v)
{
    if (v)
        json_object_object_add(o, key, json_object_new_string(v));
}

static int
host_config(struct json_object *hc, const struct cli_runopts *o, struct json_object *vols,
            struct berth_err *err)
{
    struct json_object *binds = json_object_new_array();
    json_object_object_add(hc, "Binds", binds);
    for (size_t i = 0; i < o->volumes.n; i++)
        if (volume(binds, vols, o->volumes.items[i], err) < 0)
            return -1;
    struct json_object *mounts = json_object_new_array();
    json_object_object_add(hc, "Mounts", mounts);
    for (size_t i = 0; i < o->mounts.n; i++)
        if (mount(mounts, o->mounts.items[i], err) < 0)
            return -1;
    if (o->restart && cli_restart_policy(hc, o->restart, err) < 0)
        return -1;
    if (o->rm && o->restart && strcmp(o->restart, "no") != 0)
        return berth_err_fail(err, EINVAL, "Conflicting options: --restart and --rm");
    json_object_object_add(hc, "AutoRemove", json_object_new_boolean(o->rm));
    json_object_object_add(hc, "Privileged", json_object_new_boolean(o->privileged));
    json_object_object_add(hc, "ReadonlyRootfs", json_object_new_boolean(o->read_only));
    if (o->init)
        json_object_object_add(hc, "Init", json_object_new_boolean(1));
    json_object_object_add(hc, "CapAdd", strv_array(&o->cap_add));
    json_object_object_add(hc, "CapDrop", strv_array(&o->cap_drop));
    json_object_object_add(hc, "SecurityOpt", strv_array(&o->security_opt));
    json_object_object_add(hc, "GroupAdd", strv_array(&o->group_add));
    if (size_field(hc, "Memory", o->memory, "--memory", err) < 0 ||
        size_field(hc, "MemorySwap", o->memory_swap, "--memory-swap", err) < 0 ||
        size_field(hc, "MemoryReservation", o->memory_reservation, "--memory-reservation", err) <
            0 ||
        size_field(hc, "ShmSize", o->shm_size, "--shm-size", err) < 0)
        return -1;
    if (o->cpus) {
        char *end = NULL;
        double c = strtod(o->cpus, &end);
        if (end == o->cpus || *end || c < 0)
            return berth_err_fail(err, EINVAL,
                                  "invalid argument \"%s\" for \"--cpus\" flag: not "
                                  "a number",
                                  o->cpus);
        json_object_object_add(hc, "NanoCpus", json_object_new_int64((int64_t)(c * 1e9)));
    }
    if (o->cpu_shares_set)
        json_object_object_add(hc, "CpuShares", json_object_new_int64(o->cpu_shares));
    if (o->cpu_quota_set)
        json_object_object_add(hc, "CpuQuota", json_object_new_int64(o->cpu_quota));
    if (o->cpu_period_set)
        json_object_object_add(hc, "CpuPeriod", json_object_new_int64(o->cpu_period));
    if (o->pids_limit_set)
        json_object_object_add(hc, "PidsLimit", json_object_new_int64(o->pids_limit));
    if (o->oom_score_adj_set) {
        if (o->oom_score_adj < -1000 || o->oom_score_adj > 1000)
            return berth_err_fail(err, EINVAL,
                                  "invalid --oom-score-adj %lld: expected "
                                  "-1000..1000",
                                  o->oom_score_adj);
        json_object_object_add(hc, "OomScoreAdj", json_object_new_int64(o->oom_score_adj));
    }
    if (o->oom_kill_disable)
        json_object_object_add(hc, "OomKillDisable", json_object_new_boolean(1));
    add_str(hc, "CpusetCpus", o->cpuset_cpus);
    add_str(hc, "CpusetMems", o->cpuset_mems);
    add_str(hc, "IpcMode", o->ipc);
    add_str(hc, "PidMode", o->pid);
    add_str(hc, "UTSMode", o->uts);
    add_str(hc, "CgroupnsMode", o->cgroupns);
    add_str(hc, "UsernsMode", o->userns);
    struct json_object *ul = json_object_new_array();
    json_object_object_add(hc, "Ulimits", ul);
    for (size_t i = 0; i < o->ulimits.n; i++)
        if (ulimit(ul, o->ulimits.items[i], err) < 0)
            return -1;
    struct json_object *dev = json_object_new_array();
    json_object_object_add(hc, "Devices", dev);
    for (size_t i = 0; i < o->devices.n; i++)
        if (device(dev, o->devices.items[i], err) < 0)
            return -1;
    struct json_object *sysctls = json_object_new_object();
    json_object_object_add(hc, "Sysctls", sysctls);
    if (kv_into(sysctls, &o->sysctls, true, "sysctl", err) < 0)
        return -1;
    struct json_object *tmpfs = json_object_new_object();
    json_object_object_add(hc, "Tmpfs", tmpfs);
    for (size_t i = 0; i < o->tmpfs.n; i++) {
        const char *t = o->tmpfs.items[i];
        if (t[0] != '/')
            return berth_err_fail(err, EINVAL, "invalid tmpfs `%s`: the path must be absolute", t);
        const char *colon = strchr(t, ':');
        cleanup_free char *path = colon ? xstrndup(t, (size_t)(colon - t)) : xstrdup(t);
        json_object_object_add(tmpfs, path, json_object_new_string(colon ? colon + 1 : ""));
    }
    if (o->log_driver || o->log_opts.n) {
        struct json_object *lc = json_object_new_object();
        json_object_object_add(hc, "LogConfig", lc);
        json_object_object_add(lc, "Type",
                               json_object_new_string(o->log_driver ? o->log_driver : ""));
        struct json_object *cfg = json_object_new_object();
        json_object_object_add(lc, "Config", cfg);
        if (kv_into(cfg, &o->log_opts, true, "log-opt", err) < 0)
            return -1;
    }
    return 0;
}

struct json_object *
cli_runopts_body(const struct cli_runopts *o, struct berth_err *err)
{
    struct json_object *body = json_object_new_object();
    bool attach_stdin = o->interactive && !o->detach;
    add_str(body, "Hostname", o->hostname ? o->hostname : "");
    add_str(body, "Domainname", o->domainname ? o->domainname : "");
    add_str(body, "User", o->user ? o->user : "");
    json_object_object_add(body, "AttachStdin", json_object_new_boolean(attach_stdin));
    json_object_object_add(body, "AttachStdout", json_object_new_boolean(!o->detach));
    json_object_object_add(body, "AttachStderr", json_object_new_boolean(!o->detach));
    json_object_object_add(body, "Tty", json_object_new_boolean(o->tty));
    json_object_object_add(body, "OpenStdin", json_object_new_boolean(o->interactive));
    json_object_object_add(body, "StdinOnce", json_object_new_boolean(attach_stdin));
    struct json_object *env = json_object_new_array();
    json_object_object_add(body, "Env", env);
    for (size_t i = 0; i < o->env_file.n; i++)
        if (env_file(env, o->env_file.items[i], err) < 0)
            goto fail;
    for (size_t i = 0; i < o->env.n; i++)
        add_env(env, o->env.items[i]);
    if (o->n_cmd) {
        struct json_object *cmd = json_object_new_array();
        for (int i = 0; i < o->n_cmd; i++)
            json_object_array_add(cmd, json_object_new_string(o->cmd[i]));
        json_object_object_add(body, "Cmd", cmd);
    }
    if (o->entrypoint_set) {
        /* --entrypoint "" resets the image's entrypoint, as docker sends it. */
        struct json_object *ep = json_object_new_array();
        json_object_array_add(ep, json_object_new_string(o->entrypoint));
        json_object_object_add(body, "Entrypoint", ep);
    }
    add_str(body, "Image", o->image);
    struct json_object *labels = json_object_new_object();
    json_object_object_add(body, "Labels", labels);
    if (kv_into(labels, &o->labels, false, "label", err) < 0)
        goto fail;
    add_str(body, "WorkingDir", o->workdir ? o->workdir : "");
    if (o->workdir && o->workdir[0] != '/') {
        berth_err_fail(err, EINVAL,
                       "the working directory `%s` is invalid, it needs to be an "
                       "absolute path",
                       o->workdir);
        goto fail;
    }
    add_str(body, "StopSignal", o->stop_signal);
    if (o->stop_timeout_set)
        json_object_object_add(body, "StopTimeout", json_object_new_int64(o->stop_timeout));
    if (healthcheck(body, o, err) < 0)
        goto fail;
    struct json_object *vols = json_object_new_object();
    json_object_object_add(body, "Volumes", vols);
    struct json_object *hc = json_object_new_object();
    json_object_object_add(body, "HostConfig", hc);
    if (host_config(hc, o, vols, err) < 0 || cli_netopts_body(&o->net, body, hc, err) < 0)
        goto fail;
    return body;
fail:
    json_object_put(body);
    return NULL;
}
