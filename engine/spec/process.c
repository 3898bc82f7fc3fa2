/* SPDX-License-Identifier: Apache-2.0
 *
 * process: the command (Entrypoint and Cmd resolved against the image's as Docker does), the
 * environment (the image's, then the container's by key, PATH when neither has one, HOSTNAME,
 * TERM for a terminal; HOME is left to the runtime, which sets it from the rootfs's passwd
 * as runc does, so the config matches dockerd's), the working directory, the user, the terminal,
 * rlimits (Docker's nofile default within the engine's own hard limit, then Ulimits),
 * oomScoreAdj, and the init process for HostConfig.Init.
 */
#include "engine/spec/spec-internal.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"

#define DEFAULT_PATH         "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define INIT_DEST            "/sbin/docker-init"
#define CAP_SYS_RESOURCE_BIT 24

/* Entrypoint and Cmd: a container's Entrypoint replaces the image's and drops the image's
 * Cmd; an empty one ("" or [""] or []) resets the image's Entrypoint but keeps its Cmd unless
 * the container has one (moby daemon/create merge). */
static int
command(struct spec_ctx *c, struct json_object *process, struct berth_err *err)
{
    cleanup_json struct json_object *ep = NULL, *cmd = NULL, *iep = NULL, *icmd = NULL;
    struct json_object *use_ep, *use_cmd;

    if (spec_get_strslice(c->config, "Config", "Entrypoint", &ep, err) < 0 ||
        spec_get_strslice(c->config, "Config", "Cmd", &cmd, err) < 0 ||
        spec_get_strslice(c->image, "Image.Config", "Entrypoint", &iep, err) < 0 ||
        spec_get_strslice(c->image, "Image.Config", "Cmd", &icmd, err) < 0)
        return -1;
    if (ep && json_object_array_length(ep) == 1 &&
        !*json_object_get_string(json_object_array_get_idx(ep, 0))) {
        json_object_put(ep);
        ep = json_object_new_array();
    }
    if (!ep || json_object_array_length(ep) == 0) {
        use_cmd = cmd && json_object_array_length(cmd) ? cmd : icmd;
        use_ep = ep ? ep : iep;
    } else {
        use_ep = ep;
        use_cmd = cmd;
    }

    struct json_object *args = json_object_new_array();
    json_object_object_add(process, "args", args);
    struct json_object *parts[] = {use_ep, use_cmd};
    for (size_t k = 0; k < ARRAY_SIZE(parts); k++)
        for (size_t i = 0; parts[k] && i < json_object_array_length(parts[k]); i++)
            json_object_array_add(args, json_object_get(json_object_array_get_idx(parts[k], i)));
    if (json_object_array_length(args) == 0)
        return berth_err_fail(err, EINVAL,
                              "no command specified: neither the container nor the image has "
                              "an Entrypoint or a Cmd");
    return 0;
}

/* Set or replace NAME=value in env; an item without '=' removes NAME (Docker's
 * ReplaceOrAppendEnvValues). */
static void
env_put(struct json_object *env, const char *item)
{
    const char *eq = strchr(item, '=');
    size_t n = eq ? (size_t)(eq - item) : strlen(item);

    for (size_t i = 0; i < json_object_array_length(env); i++) {
        const char *s = json_object_get_string(json_object_array_get_idx(env, i));
        if (strncmp(s, item, n) == 0 && (s[n] == '=' || s[n] == '\0')) {
            if (eq)
                json_object_array_put_idx(env, i, json_object_new_string(item));
            else
                json_object_array_del_idx(env, i, 1);
            return;
        }
    }
    if (eq)
        json_object_array_add(env, json_object_new_string(item));
}

static int
environment(struct spec_ctx *c, struct json_object *process, bool tty, const char *hostname,
            struct berth_err *err)
{
    struct json_object *ienv = NULL, *cenv = NULL;
    struct json_object *env = json_object_new_array();

    json_object_object_add(process, "env", env);
    if (spec_get_string_array(c->image, "Image.Config", "Env", &ienv, err) < 0 ||
        spec_get_string_array(c->config, "Config", "Env", &cenv, err) < 0)
        return -1;
    env_put(env, DEFAULT_PATH);
    cleanup_free char *h = xasprintf("HOSTNAME=%s", hostname);
    env_put(env, h);
    if (tty)
        env_put(env, "TERM=xterm");
    struct json_object *srcs[] = {ienv, cenv};
    for (size_t k = 0; k < ARRAY_SIZE(srcs); k++)
        for (size_t i = 0; srcs[k] && i < json_object_array_length(srcs[k]); i++) {
            const char *item = json_object_get_string(json_object_array_get_idx(srcs[k], i));
            if (!*item || *item == '=')
                return berth_err_fail(err, EINVAL, "%s.Env[%zu]: invalid variable `%s`",
                                      k == 0 ? "Image.Config" : "Config", i, item);
            env_put(env, item);
        }
    return 0;
}

static int
user(struct spec_ctx *c, struct json_object *process, struct berth_err *err)
{
    const char *u = NULL;
    struct json_object *group_add = NULL;
    struct spec_user su;

    if (spec_get_string(c->config, "Config", "User", &u, err) < 0 ||
        spec_get_string_array(c->host, "HostConfig", "GroupAdd", &group_add, err) < 0)
        return -1;
    if (!u || !*u)
        if (spec_get_string(c->image, "Image.Config", "User", &u, err) < 0)
            return -1;
    if (spec_user_resolve(c->in->rootfs, u, group_add, &su, err) < 0)
        return -1;

    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "uid", json_object_new_int64(su.uid));
    json_object_object_add(o, "gid", json_object_new_int64(su.gid));
    if (su.n_gids) {
        struct json_object *g = json_object_new_array();
        for (size_t i = 0; i < su.n_gids; i++)
            json_object_array_add(g, json_object_new_int64(su.gids[i]));
        json_object_object_add(o, "additionalGids", g);
    }
    json_object_object_add(process, "user", o);
    spec_user_free(&su);
    return 0;
}

static int
workdir(struct spec_ctx *c, struct json_object *process, struct berth_err *err)
{
    const char *cwd = NULL;

    if (spec_get_string(c->config, "Config", "WorkingDir", &cwd, err) < 0)
        return -1;
    if (!cwd || !*cwd)
        if (spec_get_string(c->image, "Image.Config", "WorkingDir", &cwd, err) < 0)
            return -1;
    if (!cwd || !*cwd)
        cwd = "/";
    if (cwd[0] != '/')
        return berth_err_fail(err, EINVAL, "Config.WorkingDir: `%s` is not an absolute path", cwd);
    spec_add_string(process, "cwd", cwd);
    return 0;
}

static const struct {
    const char *name, *type;
} rlimit_names[] = {
    {"as", "RLIMIT_AS"},
    {"core", "RLIMIT_CORE"},
    {"cpu", "RLIMIT_CPU"},
    {"data", "RLIMIT_DATA"},
    {"fsize", "RLIMIT_FSIZE"},
    {"locks", "RLIMIT_LOCKS"},
    {"memlock", "RLIMIT_MEMLOCK"},
    {"msgqueue", "RLIMIT_MSGQUEUE"},
    {"nice", "RLIMIT_NICE"},
    {"nofile", "RLIMIT_NOFILE"},
    {"nproc", "RLIMIT_NPROC"},
    {"rss", "RLIMIT_RSS"},
    {"rtprio", "RLIMIT_RTPRIO"},
    {"rttime", "RLIMIT_RTTIME"},
    {"sigpending", "RLIMIT_SIGPENDING"},
    {"stack", "RLIMIT_STACK"},
};

static void
rlimit_put(struct json_object *rlimits, const char *type, uint64_t soft, uint64_t hard)
{
    struct json_object *r = json_object_new_object();

    spec_add_string(r, "type", type);
    json_object_object_add(r, "hard", json_object_new_uint64(hard));
    json_object_object_add(r, "soft", json_object_new_uint64(soft));
    for (size_t i = 0; i < json_object_array_length(rlimits); i++) {
        struct json_object *t;
        json_object_object_get_ex(json_object_array_get_idx(rlimits, i), "type", &t);
        if (strcmp(json_object_get_string(t), type) == 0) {
            json_object_array_put_idx(rlimits, i, r);
            return;
        }
    }
    json_object_array_add(rlimits, r);
}

static int
rlimits(struct spec_ctx *c, struct json_object *process, struct berth_err *err)
{
    struct json_object *ul = NULL, *rl = json_object_new_array();
    struct rlimit self;
    bool can_raise = spec_self_has_cap(CAP_SYS_RESOURCE_BIT);

    json_object_object_add(process, "rlimits", rl);
    /* Docker's nofile default, never above what the engine itself may hand out: raising a
     * hard limit needs CAP_SYS_RESOURCE, and the runtime would fail on it. */
    getrlimit(RLIMIT_NOFILE, &self);
    uint64_t hard = self.rlim_max < 20000 ? self.rlim_max : 20000;
    rlimit_put(rl, "RLIMIT_NOFILE", hard < 1024 ? hard : 1024, hard);

    if (spec_get_array(c->host, "HostConfig", "Ulimits", &ul, err) < 0)
        return -1;
    for (size_t i = 0; ul && i < json_object_array_length(ul); i++) {
        struct json_object *u = json_object_array_get_idx(ul, i);
        cleanup_free char *sec = xasprintf("HostConfig.Ulimits[%zu]", i);
        const char *name = NULL, *type = NULL;
        int64_t soft = 0, hard_v = 0;
        if (!json_object_is_type(u, json_type_object))
            return berth_err_fail(err, EINVAL, "%s: expected an object, got %s", sec,
                                  spec_type_phrase(u));
        if (spec_get_string(u, sec, "Name", &name, err) < 0 ||
            spec_get_int64(u, sec, "Soft", &soft, err) < 0 ||
            spec_get_int64(u, sec, "Hard", &hard_v, err) < 0)
            return -1;
        for (size_t k = 0; name && k < ARRAY_SIZE(rlimit_names); k++)
            if (strcasecmp(rlimit_names[k].name, name) == 0)
                type = rlimit_names[k].type;
        if (!type)
            return berth_err_fail(err, EINVAL, "%s.Name: unknown ulimit `%s`", sec,
                                  name ? name : "");
        if (soft < -1 || hard_v < -1 || (hard_v != -1 && (soft == -1 || soft > hard_v)))
            return berth_err_fail(err, EINVAL,
                                  "%s: soft limit %lld must not exceed hard limit %lld", sec,
                                  (long long)soft, (long long)hard_v);
        if (strcmp(type, "RLIMIT_NOFILE") == 0 && !can_raise &&
            (uint64_t)hard_v > (uint64_t)self.rlim_max)
            return berth_err_fail(err, EINVAL,
                                  "%s: nofile hard limit %lld is above the engine's own (%llu)",
                                  sec, (long long)hard_v, (unsigned long long)self.rlim_max);
        rlimit_put(rl, type, (uint64_t)soft, (uint64_t)hard_v);
    }
    return 0;
}

static int
oom_score_adj(struct spec_ctx *c, struct json_object *process, struct berth_err *err)
{
    int64_t v;
    int r = spec_get_int64(c->host, "HostConfig", "OomScoreAdj", &v, err);

    if (r <= 0)
        return r;
    if (v < -1000 || v > 1000)
        return berth_err_fail(err, EINVAL, "HostConfig.OomScoreAdj: %lld is outside -1000..1000",
                              (long long)v);
    /* Lowering the score below the engine's own needs CAP_SYS_RESOURCE; without it the
     * runtime would fail late, after the container exists. */
    cleanup_fclose FILE *f = fopen("/proc/self/oom_score_adj", "re");
    int self = 0;
    if (f && fscanf(f, "%d", &self) == 1 && v < self && !spec_self_has_cap(CAP_SYS_RESOURCE_BIT))
        return berth_err_fail(err, EINVAL,
                              "HostConfig.OomScoreAdj: %lld is below the engine's own "
                              "oom_score_adj %d, which it may not lower",
                              (long long)v, self);
    json_object_object_add(process, "oomScoreAdj", json_object_new_int64(v));
    return 0;
}

static const char *
find_init(const struct engine_spec_input *in)
{
    static const char *const candidates[] = {
        "/usr/bin/docker-init", "/usr/local/bin/docker-init",
        "/usr/bin/tini-static", "/usr/local/bin/tini-static",
        "/usr/bin/tini",        "/usr/sbin/tini",
    };

    if (in->init_path)
        return access(in->init_path, X_OK) == 0 ? in->init_path : NULL;
    for (size_t i = 0; i < ARRAY_SIZE(candidates); i++)
        if (access(candidates[i], X_OK) == 0)
            return candidates[i];
    return NULL;
}

/* HostConfig.Init: bind the init binary read-only and run the command under it. */
static int
init(struct spec_ctx *c, struct json_object *process, struct berth_err *err)
{
    bool want = false;
    const char *path;

    if (spec_get_bool(c->host, "HostConfig", "Init", &want, err) < 0)
        return -1;
    if (!want)
        return 0;
    if (!(path = find_init(c->in)))
        return berth_err_fail(err, ENOTSUP,
                              "HostConfig.Init: no init binary (docker-init, tini-static or "
                              "tini) is installed");
    struct json_object *args, *nargs = json_object_new_array();
    json_object_object_get_ex(process, "args", &args);
    json_object_array_add(nargs, json_object_new_string(INIT_DEST));
    json_object_array_add(nargs, json_object_new_string("--"));
    for (size_t i = 0; i < json_object_array_length(args); i++)
        json_object_array_add(nargs, json_object_get(json_object_array_get_idx(args, i)));
    json_object_object_add(process, "args", nargs);

    struct json_object *mounts;
    json_object_object_get_ex(c->spec, "mounts", &mounts);
    static const char *const opts[] = {"bind", "ro", NULL};
    json_object_array_add(mounts, spec_mount(INIT_DEST, "bind", path, opts));
    return 0;
}

int
spec_process(struct spec_ctx *c, struct berth_err *err)
{
    struct json_object *process, *hn;
    bool tty = false, stdin_open = false;

    json_object_object_get_ex(c->spec, "process", &process);
    if (spec_get_bool(c->config, "Config", "Tty", &tty, err) < 0 ||
        spec_get_bool(c->config, "Config", "OpenStdin", &stdin_open, err) < 0)
        return -1;
    /* OpenStdin concerns only the shim's stdio, not the spec: it is checked, not used. */
    json_object_object_add(process, "terminal", json_object_new_boolean(tty));
    if (command(c, process, err) < 0 || user(c, process, err) < 0 || workdir(c, process, err) < 0)
        return -1;
    if (!json_object_object_get_ex(c->spec, "hostname", &hn)) {
        char buf[256] = "";
        gethostname(buf, sizeof(buf) - 1);
        hn = NULL;
        if (environment(c, process, tty, buf, err) < 0)
            return -1;
    } else if (environment(c, process, tty, json_object_get_string(hn), err) < 0) {
        return -1;
    }
    if (rlimits(c, process, err) < 0 || oom_score_adj(c, process, err) < 0 ||
        init(c, process, err) < 0)
        return -1;
    return 0;
}
