/* SPDX-License-Identifier: Apache-2.0
 *
 * The CNI runtime (cni.h): building each plugin's configuration from the list (name,
 * cniVersion, the runtimeConfig keys the plugin declares in its capabilities, prevResult),
 * running the plugin with a timeout, reading its result or error, and the result cache.
 */
#include "engine/network/cni.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"

#define CNI_VERSION        "1.0.0"
#define DEFAULT_TIMEOUT_MS 30000
/* A plugin's answer is a small document; more is a broken plugin. */
#define MAX_OUTPUT (4u << 20)

/* ---------------------------------------------------------------- running one plugin */

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Feed in to the child's stdin (*in_fd, closed and set to -1 once fed) and read its stdout into
 * *out until it closes it, or until deadline. Whether it finished in time. */
static bool
pump(int *in_fdp, const char *in, size_t in_len, int out_fd, char **out, size_t *out_len,
     int64_t deadline)
{
    size_t written = 0, cap = 4096;
    int in_fd = *in_fdp;
    *out = xmalloc(cap);
    *out_len = 0;
    while (in_fd >= 0 || out_fd >= 0) {
        struct pollfd p[2] = {{.fd = in_fd, .events = POLLOUT}, {.fd = out_fd, .events = POLLIN}};
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return false;
        if (poll(p, 2, (int)left) < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        if (in_fd >= 0 && p[0].revents) {
            ssize_t w = write(in_fd, in + written, in_len - written);
            if (w > 0)
                written += (size_t)w;
            if (w < 0 && errno != EINTR && errno != EAGAIN)
                written = in_len; /* the plugin closed its stdin: give up feeding it */
            if (written == in_len) {
                close(in_fd);
                in_fd = *in_fdp = -1;
            }
        }
        if (out_fd >= 0 && p[1].revents) {
            if (cap - *out_len < 1024)
                *out = xrealloc(*out, cap *= 2);
            ssize_t r = read(out_fd, *out + *out_len, cap - *out_len - 1);
            if (r > 0 && *out_len + (size_t)r <= MAX_OUTPUT)
                *out_len += (size_t)r;
            else if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
                out_fd = -1; /* the caller closes it */
        }
    }
    (*out)[*out_len] = 0;
    return true;
}

/* The plugin's error document as a message: "msg: details" (or its raw output). */
static void
plugin_error(const char *type, const char *cmd, const char *out, int status, struct berth_err *err)
{
    struct berth_err ignored = BERTH_ERR_INIT;
    cleanup_json struct json_object *doc = berth_json_parse(out, strlen(out), &ignored);
    berth_err_clear(&ignored);
    const char *msg = berth_json_member_string(doc, "msg");
    const char *details = berth_json_member_string(doc, "details");
    if (msg && details && *details)
        berth_err_fail(err, EIO, "cni plugin %s %s: %s: %s", type, cmd, msg, details);
    else if (msg)
        berth_err_fail(err, EIO, "cni plugin %s %s: %s", type, cmd, msg);
    else
        berth_err_fail(err, EIO, "cni plugin %s %s: exit status %d: %.200s", type, cmd, status,
                       *out ? out : "(no output)");
}

/* Run plugin type for cmd with conf on stdin. *result: its parsed stdout (NULL when empty,
 * as for DEL). */
static int
run_plugin(const struct eng_cni *cni, const char *type, const char *cmd,
           const struct eng_cni_attachment *a, const char *conf, struct json_object **result,
           struct berth_err *err)
{
    if (!*type || strchr(type, '/') || strcmp(type, ".") == 0 || strcmp(type, "..") == 0)
        return berth_err_fail(err, EINVAL, "cni: bad plugin type `%s`", type);
    cleanup_free char *path = xasprintf("%s/%s", cni->plugin_dir, type);
    if (access(path, X_OK) < 0)
        return berth_err_set(err, errno, "cni plugin %s: `%s`", type, path);

    cleanup_free char *e_cmd = xasprintf("CNI_COMMAND=%s", cmd);
    cleanup_free char *e_id = xasprintf("CNI_CONTAINERID=%s", a->container_id);
    cleanup_free char *e_ns = xasprintf("CNI_NETNS=%s", a->netns ? a->netns : "");
    cleanup_free char *e_if = xasprintf("CNI_IFNAME=%s", a->ifname);
    cleanup_free char *e_path = xasprintf("CNI_PATH=%s", cni->plugin_dir);
    /* The plugins run iptables, ip6tables and sysctl: they need a PATH of the system's. */
    char *envp[] = {e_cmd,
                    e_id,
                    e_ns,
                    e_if,
                    e_path,
                    "CNI_ARGS=",
                    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    NULL};
    char *argv[] = {(char *)type, NULL};

    int in[2] = {-1, -1}, out[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) < 0)
        return berth_err_set(err, errno, "cni plugin %s: pipe", type);
    if (pipe2(out, O_CLOEXEC) < 0) {
        close(in[0]);
        close(in[1]);
        return berth_err_set(err, errno, "cni plugin %s: pipe", type);
    }
    cleanup_close int in_w = in[1];
    cleanup_close int out_r = out[0];
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    /* stderr goes to berthd's log: plugins write their debugging there. */
    pid_t pid;
    int rc = posix_spawn(&pid, path, &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    if (rc != 0)
        return berth_err_set(err, rc, "cni plugin %s: run `%s`", type, path);
    fcntl(in_w, F_SETFL, O_NONBLOCK);

    int timeout = cni->timeout_ms > 0 ? cni->timeout_ms : DEFAULT_TIMEOUT_MS;
    cleanup_free char *text = NULL;
    size_t len = 0;
    bool done = pump(&in_w, conf, strlen(conf), out_r, &text, &len, now_ms() + timeout);
    if (!done)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!done)
        return berth_err_fail(err, ETIMEDOUT, "cni plugin %s %s: no answer in %d ms", type, cmd,
                              timeout);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        plugin_error(type, cmd, text, WIFEXITED(status) ? WEXITSTATUS(status) : -1, err);
        return -1;
    }
    *result = NULL;
    if (len > strspn(text, " \t\r\n")) {
        *result = berth_json_parse(text, len, err);
        if (!*result)
            return berth_err_wrap(err, "cni plugin %s %s: its result", type, cmd);
    }
    return 0;
}

/* ---------------------------------------------------------------- configurations */

/* Plugin i's configuration: the plugin's object with the list's name and cniVersion, the
 * runtimeConfig entries its capabilities ask for, and prev as prevResult. */
static char *
plugin_conf(struct json_object *list, struct json_object *plugin, struct json_object *runtime,
            struct json_object *prev)
{
    cleanup_json struct json_object *conf = NULL;
    if (json_object_deep_copy(plugin, &conf, NULL) < 0 || !conf)
        conf = json_object_new_object();
    const char *version = berth_json_member_string(list, "cniVersion");
    json_object_object_add(conf, "name",
                           json_object_new_string(berth_json_member_string(list, "name")
                                                      ? berth_json_member_string(list, "name")
                                                      : ""));
    json_object_object_add(conf, "cniVersion",
                           json_object_new_string(version ? version : CNI_VERSION));
    struct json_object *caps = berth_json_member(plugin, "capabilities");
    if (runtime && caps && json_object_is_type(caps, json_type_object)) {
        struct json_object *rc = json_object_new_object();
        json_object_object_foreach(caps, key, on)
        {
            struct json_object *v = berth_json_member(runtime, key);
            if (json_object_get_boolean(on) && v)
                json_object_object_add(rc, key, json_object_get(v));
        }
        json_object_object_add(conf, "runtimeConfig", rc);
    }
    json_object_object_del(conf, "capabilities");
    if (prev)
        json_object_object_add(conf, "prevResult", json_object_get(prev));
    return xstrdup(json_object_to_json_string_ext(conf, JSON_C_TO_STRING_PLAIN));
}

static int
check_list(struct json_object *list, struct json_object **plugins, struct berth_err *err)
{
    const char *name = berth_json_member_string(list, "name");
    *plugins = berth_json_member(list, "plugins");
    if (!name || !*name)
        return berth_err_fail(err, EINVAL, "cni: the network configuration list has no name");
    if (!*plugins || !json_object_is_type(*plugins, json_type_array) ||
        json_object_array_length(*plugins) == 0)
        return berth_err_fail(err, EINVAL, "cni: network %s lists no plugins", name);
    return 0;
}

static const char *
plugin_type(struct json_object *plugin)
{
    const char *t = berth_json_member_string(plugin, "type");
    return t ? t : "";
}

/* ---------------------------------------------------------------- the cache */

static char *
cache_path(const struct eng_cni *cni, const char *id, const char *name, const char *ifname)
{
    return xasprintf("%s/%s/%s-%s.json", cni->cache_dir, id, name, ifname);
}

static int
cache_write(const struct eng_cni *cni, struct json_object *list, const struct eng_cni_attachment *a,
            struct json_object *result, struct berth_err *err)
{
    cleanup_free char *dir = xasprintf("%s/%s", cni->cache_dir, a->container_id);
    if (berth_fs_mkdir_p(dir, 0700, err) < 0)
        return -1;
    cleanup_json struct json_object *doc = json_object_new_object();
    json_object_object_add(doc, "kind", json_object_new_string("cniCacheV1"));
    json_object_object_add(doc, "containerId", json_object_new_string(a->container_id));
    json_object_object_add(doc, "ifName", json_object_new_string(a->ifname));
    json_object_object_add(doc, "netns", json_object_new_string(a->netns ? a->netns : ""));
    json_object_object_add(doc, "config", json_object_get(list));
    if (a->runtime_config)
        json_object_object_add(doc, "runtimeConfig", json_object_get(a->runtime_config));
    if (result)
        json_object_object_add(doc, "result", json_object_get(result));
    cleanup_free char *path =
        cache_path(cni, a->container_id, berth_json_member_string(list, "name"), a->ifname);
    return berth_json_write_file(path, doc, false, 0600, err);
}

static struct json_object *
cache_read(const struct eng_cni *cni, const char *id, const char *name, const char *ifname)
{
    cleanup_free char *path = cache_path(cni, id, name, ifname);
    if (!berth_fs_exists(path))
        return NULL;
    struct berth_err err = BERTH_ERR_INIT;
    struct json_object *doc = berth_json_parse_file(path, &err);
    if (!doc) {
        berth_err_wrap(&err, "cni: cached result of %.12s on %s", id, name);
        berth_err_warn(&err);
    }
    return doc;
}

static void
cache_remove(const struct eng_cni *cni, const char *id, const char *name, const char *ifname)
{
    cleanup_free char *path = cache_path(cni, id, name, ifname);
    cleanup_free char *dir = xasprintf("%s/%s", cni->cache_dir, id);
    unlink(path);
    rmdir(dir); /* only when it was the last one */
}

struct json_object *
eng_cni_cached_result(const struct eng_cni *cni, const char *container_id, const char *name,
                      const char *ifname)
{
    cleanup_json struct json_object *doc = cache_read(cni, container_id, name, ifname);
    struct json_object *r = berth_json_member(doc, "result");
    return r ? json_object_get(r) : NULL;
}

/* ---------------------------------------------------------------- the commands */

/* DEL plugins [0, n) of list in reverse, each with prev as prevResult. Every plugin is
 * called; err holds the first failure. */
static int
del_plugins(const struct eng_cni *cni, struct json_object *list, size_t n,
            const struct eng_cni_attachment *a, struct json_object *prev, struct berth_err *err)
{
    struct json_object *plugins = berth_json_member(list, "plugins");
    int rc = 0;
    for (size_t i = n; i-- > 0;) {
        struct json_object *p = json_object_array_get_idx(plugins, i);
        cleanup_free char *conf = plugin_conf(list, p, a->runtime_config, prev);
        cleanup_json struct json_object *ignored = NULL;
        struct berth_err e = BERTH_ERR_INIT;
        if (run_plugin(cni, plugin_type(p), "DEL", a, conf, &ignored, &e) < 0) {
            if (rc == 0) {
                *err = e;
                rc = -1;
            } else {
                berth_err_warn(&e);
            }
        }
    }
    return rc;
}

int
eng_cni_add(const struct eng_cni *cni, struct json_object *list, const struct eng_cni_attachment *a,
            struct json_object **result, struct berth_err *err)
{
    struct json_object *plugins;
    if (check_list(list, &plugins, err) < 0)
        return -1;
    const char *name = berth_json_member_string(list, "name");
    size_t n = json_object_array_length(plugins);
    cleanup_json struct json_object *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        struct json_object *p = json_object_array_get_idx(plugins, i);
        cleanup_free char *conf = plugin_conf(list, p, a->runtime_config, prev);
        struct json_object *r = NULL;
        if (run_plugin(cni, plugin_type(p), "ADD", a, conf, &r, err) < 0) {
            /* Undo what the plugins before it (and it, partly) made. */
            struct berth_err e2 = BERTH_ERR_INIT;
            if (del_plugins(cni, list, i + 1, a, prev, &e2) < 0)
                berth_err_warn(&e2);
            return berth_err_wrap(err, "attach %.12s to network %s", a->container_id, name);
        }
        if (r) {
            json_object_put(prev);
            prev = r;
        }
    }
    if (cache_write(cni, list, a, prev, err) < 0) {
        struct berth_err e2 = BERTH_ERR_INIT;
        if (del_plugins(cni, list, n, a, prev, &e2) < 0)
            berth_err_warn(&e2);
        return berth_err_wrap(err, "attach %.12s to network %s: cache its result", a->container_id,
                              name);
    }
    if (result)
        *result = json_object_get(prev);
    return 0;
}

int
eng_cni_del(const struct eng_cni *cni, const char *name, struct json_object *list,
            const struct eng_cni_attachment *a, struct berth_err *err)
{
    cleanup_json struct json_object *cached = cache_read(cni, a->container_id, name, a->ifname);
    struct json_object *use = berth_json_member(cached, "config");
    if (!use)
        use = list;
    if (!use)
        return 0;
    struct json_object *plugins;
    if (check_list(use, &plugins, err) < 0)
        return -1;
    struct eng_cni_attachment at = *a;
    if (cached && berth_json_member(cached, "runtimeConfig"))
        at.runtime_config = berth_json_member(cached, "runtimeConfig");
    if (del_plugins(cni, use, json_object_array_length(plugins), &at,
                    berth_json_member(cached, "result"), err) < 0)
        return berth_err_wrap(err, "detach %.12s from network %s", a->container_id, name);
    cache_remove(cni, a->container_id, name, a->ifname);
    return 0;
}

int
eng_cni_check(const struct eng_cni *cni, const char *name, const struct eng_cni_attachment *a,
              struct berth_err *err)
{
    cleanup_json struct json_object *cached = cache_read(cni, a->container_id, name, a->ifname);
    struct json_object *list = berth_json_member(cached, "config"), *plugins;
    if (!list)
        return berth_err_fail(err, ENOENT, "container %.12s is not attached to network %s",
                              a->container_id, name);
    if (check_list(list, &plugins, err) < 0)
        return -1;
    struct eng_cni_attachment at = *a;
    at.runtime_config = berth_json_member(cached, "runtimeConfig");
    struct json_object *prev = berth_json_member(cached, "result");
    for (size_t i = 0; i < json_object_array_length(plugins); i++) {
        struct json_object *p = json_object_array_get_idx(plugins, i);
        cleanup_free char *conf = plugin_conf(list, p, at.runtime_config, prev);
        cleanup_json struct json_object *ignored = NULL;
        if (run_plugin(cni, plugin_type(p), "CHECK", &at, conf, &ignored, err) < 0)
            return berth_err_wrap(err, "check %.12s on network %s", a->container_id, name);
    }
    return 0;
}

int
eng_cni_del_all(const struct eng_cni *cni, const char *container_id, const char *netns)
{
    cleanup_free char *dir = xasprintf("%s/%s", cni->cache_dir, container_id);
    cleanup_dir DIR *dh = opendir(dir);
    if (!dh)
        return 0;
    int failed = 0;
    struct dirent *de;
    while ((de = readdir(dh)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        cleanup_free char *path = xasprintf("%s/%s", dir, de->d_name);
        struct berth_err err = BERTH_ERR_INIT;
        cleanup_json struct json_object *doc = berth_json_parse_file(path, &err);
        const char *name = berth_json_member_string(berth_json_member(doc, "config"), "name");
        const char *ifname = berth_json_member_string(doc, "ifName");
        if (!doc || !name || !ifname) {
            berth_err_clear(&err);
            berth_warn("cni: unreadable cache entry `%s` removed", path);
            unlink(path);
            continue;
        }
        struct eng_cni_attachment a = {.container_id = container_id,
                                       .netns =
                                           netns ? netns : berth_json_member_string(doc, "netns"),
                                       .ifname = ifname};
        if (eng_cni_del(cni, name, NULL, &a, &err) < 0) {
            berth_err_warn(&err);
            failed++;
        }
    }
    rmdir(dir);
    return failed;
}

/* Each entry of one container's dir; nonzero when fn stopped the walk. */
static int
each_in(const char *dir, int (*fn)(void *data, struct json_object *doc), void *data)
{
    cleanup_dir DIR *dh = opendir(dir);
    if (!dh)
        return 0;
    struct dirent *de;
    while ((de = readdir(dh)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        cleanup_free char *path = xasprintf("%s/%s", dir, de->d_name);
        struct berth_err err = BERTH_ERR_INIT;
        cleanup_json struct json_object *doc = berth_json_parse_file(path, &err);
        berth_err_clear(&err);
        if (doc && fn(data, doc))
            return 1;
    }
    return 0;
}

void
eng_cni_each_cached(const struct eng_cni *cni, const char *container_id,
                    int (*fn)(void *data, struct json_object *doc), void *data)
{
    if (container_id) {
        cleanup_free char *dir = xasprintf("%s/%s", cni->cache_dir, container_id);
        each_in(dir, fn, data);
        return;
    }
    cleanup_dir DIR *dh = opendir(cni->cache_dir);
    if (!dh)
        return;
    struct dirent *de;
    while ((de = readdir(dh)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        cleanup_free char *dir = xasprintf("%s/%s", cni->cache_dir, de->d_name);
        if (each_in(dir, fn, data))
            return;
    }
}

bool
eng_cni_has_cached(const struct eng_cni *cni, const char *container_id)
{
    cleanup_free char *dir = xasprintf("%s/%s", cni->cache_dir, container_id);
    return berth_fs_exists(dir);
}
