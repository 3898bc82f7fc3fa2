/* SPDX-License-Identifier: Apache-2.0
 *
 * Specs for new containers and execs (spec.h). The default is ocirun's own (`ocirun spec`),
 * so berth-ctr and the runtime agree on what a container gets unless told otherwise; only
 * the process, hostname, root and extra mounts come from the command line.
 */
#include "supervisor/ctr/spec.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <json-c/json.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "ocirun/spec-default.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* ---------------------------------------------------------------- users */

static int
parse_id(const char *s, uint32_t *out)
{
    char *end;
    if (!*s || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* Open /etc/<name> inside the rootfs, without leaving it. NULL when there is none. */
static FILE *
open_in_rootfs(const char *rootfs, const char *name)
{
    struct berth_err ignored = BERTH_ERR_INIT;
    cleanup_close int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return NULL;
    cleanup_free char *rel = xasprintf("etc/%s", name);
    int fd = berth_fs_open_in_root(root, rel, O_RDONLY, 0, &ignored);
    berth_err_clear(&ignored);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "r");
    if (!f)
        close(fd);
    return f;
}

/* Find a passwd entry by name (name != NULL) or uid. 0 when found. */
static int
lookup_passwd(const char *rootfs, const char *name, uint32_t uid, uint32_t *uid_out,
              uint32_t *gid_out)
{
    cleanup_fclose FILE *f = rootfs ? open_in_rootfs(rootfs, "passwd") : NULL;
    struct passwd *pw;
    if (!f)
        return -1;
    while ((pw = fgetpwent(f)))
        if (name ? strcmp(pw->pw_name, name) == 0 : pw->pw_uid == uid) {
            *uid_out = pw->pw_uid;
            *gid_out = pw->pw_gid;
            return 0;
        }
    return -1;
}

static int
lookup_group(const char *rootfs, const char *name, uint32_t *gid_out)
{
    cleanup_fclose FILE *f = rootfs ? open_in_rootfs(rootfs, "group") : NULL;
    struct group *gr;
    if (!f)
        return -1;
    while ((gr = fgetgrent(f)))
        if (strcmp(gr->gr_name, name) == 0) {
            *gid_out = gr->gr_gid;
            return 0;
        }
    return -1;
}

/* "uid", "uid:gid", "name", "name:group": numbers as they are, names from the rootfs's
 * /etc/passwd and /etc/group; without a gid, the user's primary group (0 when unknown). */
static int
resolve_user(const char *rootfs, const char *spec, uint32_t *uid, uint32_t *gid,
             struct berth_err *err)
{
    cleanup_free char *user = xstrdup(spec);
    char *group = strchr(user, ':');
    uint32_t primary = 0;
    if (group)
        *group++ = '\0';
    if (!*user || (group && !*group))
        return berth_err_fail(err, EINVAL, "invalid user `%s` (want UID[:GID] or NAME[:GROUP])",
                              spec);
    if (parse_id(user, uid) == 0) {
        uint32_t ignored;
        if (lookup_passwd(rootfs, NULL, *uid, &ignored, &primary) < 0)
            primary = 0;
    } else if (lookup_passwd(rootfs, user, 0, uid, &primary) < 0) {
        return berth_err_fail(err, ENOENT, "user `%s` not found in the rootfs's /etc/passwd", user);
    }
    if (!group)
        *gid = primary;
    else if (parse_id(group, gid) < 0 && lookup_group(rootfs, group, gid) < 0)
        return berth_err_fail(err, ENOENT, "group `%s` not found in the rootfs's /etc/group",
                              group);
    return 0;
}

/* ---------------------------------------------------------------- process */

static struct json_object *
strv_json(char **v)
{
    struct json_object *a = json_object_new_array();
    for (; v && *v; v++)
        json_object_array_add(a, json_object_new_string(*v));
    return a;
}

/* Set KEY=VALUE in the env array, replacing an entry with the same key. */
static void
env_set(struct json_object *env, const char *kv)
{
    size_t klen = strcspn(kv, "=");
    size_t n = json_object_array_length(env);
    for (size_t i = 0; i < n; i++) {
        const char *e = json_object_get_string(json_object_array_get_idx(env, i));
        if (e && strncmp(e, kv, klen) == 0 && e[klen] == '=') {
            json_object_array_put_idx(env, i, json_object_new_string(kv));
            return;
        }
    }
    json_object_array_add(env, json_object_new_string(kv));
}

static bool
env_has(struct json_object *env, const char *key)
{
    size_t klen = strlen(key), n = json_object_array_length(env);
    for (size_t i = 0; i < n; i++) {
        const char *e = json_object_get_string(json_object_array_get_idx(env, i));
        if (e && strncmp(e, key, klen) == 0 && e[klen] == '=')
            return true;
    }
    return false;
}

static int
apply_process(struct json_object *p, const char *rootfs, const struct ctr_process_opts *o,
              struct berth_err *err)
{
    struct json_object *env = NULL;
    if (o->args && o->args[0])
        json_object_object_add(p, "args", strv_json(o->args));
    if (!json_object_object_get_ex(p, "env", &env) || !json_object_is_type(env, json_type_array)) {
        env = json_object_new_array();
        json_object_object_add(p, "env", env);
    }
    for (char **e = o->env; e && *e; e++) {
        if (!strchr(*e, '=') || **e == '=')
            return berth_err_fail(err, EINVAL, "invalid env `%s` (want KEY=VALUE)", *e);
        env_set(env, *e);
    }
    if (o->terminal && !env_has(env, "TERM"))
        env_set(env, "TERM=xterm");
    if (o->cwd) {
        if (o->cwd[0] != '/')
            return berth_err_fail(err, EINVAL, "--cwd `%s` is not an absolute path", o->cwd);
        json_object_object_add(p, "cwd", json_object_new_string(o->cwd));
    }
    if (o->user) {
        uint32_t uid, gid;
        if (resolve_user(rootfs, o->user, &uid, &gid, err) < 0)
            return -1;
        struct json_object *u = json_object_new_object();
        json_object_object_add(u, "uid", json_object_new_int64(uid));
        json_object_object_add(u, "gid", json_object_new_int64(gid));
        json_object_object_add(p, "user", u);
    }
    return 0;
}

/* ---------------------------------------------------------------- image config */

/* The image config's "config" object (OCI image spec: the runtime defaults), or NULL. */
static struct json_object *
image_runtime_config(struct json_object *image_config)
{
    struct json_object *c = NULL;
    if (!image_config || !json_object_object_get_ex(image_config, "config", &c) ||
        !json_object_is_type(c, json_type_object))
        return NULL;
    return c;
}

/* A string array of the image config; NULL when absent, null or not an array of strings. */
static struct json_object *
config_strings(struct json_object *cfg, const char *key)
{
    struct json_object *a = NULL;
    if (!cfg || !json_object_object_get_ex(cfg, key, &a) ||
        !json_object_is_type(a, json_type_array))
        return NULL;
    for (size_t i = 0; i < json_object_array_length(a); i++)
        if (!json_object_is_type(json_object_array_get_idx(a, i), json_type_string))
            return NULL;
    return a;
}

static const char *
config_string(struct json_object *cfg, const char *key)
{
    struct json_object *v = NULL;
    if (!cfg || !json_object_object_get_ex(cfg, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    const char *s = json_object_get_string(v);
    return *s ? s : NULL;
}

static void
append_strings(struct json_object *to, struct json_object *from)
{
    for (size_t i = 0; from && i < json_object_array_length(from); i++)
        json_object_array_add(
            to, json_object_new_string(json_object_get_string(json_object_array_get_idx(from, i))));
}

/* Env, args and cwd from the image (the user is taken by ctr_spec_user). */
static int
apply_image(struct json_object *p, struct json_object *image_config, char **args,
            struct berth_err *err)
{
    struct json_object *cfg = image_runtime_config(image_config);
    struct json_object *env = config_strings(cfg, "Env");
    struct json_object *entrypoint = config_strings(cfg, "Entrypoint");
    struct json_object *cmd = config_strings(cfg, "Cmd");
    struct json_object *argv = json_object_new_array(), *penv = NULL;
    append_strings(argv, entrypoint);
    if (args && args[0])
        for (char **a = args; *a; a++)
            json_object_array_add(argv, json_object_new_string(*a));
    else
        append_strings(argv, cmd);
    if (json_object_array_length(argv) == 0) {
        json_object_put(argv);
        return berth_err_fail(err, EINVAL,
                              "the image has no Entrypoint or Cmd: give a command to run");
    }
    json_object_object_add(p, "args", argv);
    if (json_object_object_get_ex(p, "env", &penv) && json_object_is_type(penv, json_type_array))
        for (size_t i = 0; env && i < json_object_array_length(env); i++) {
            const char *kv = json_object_get_string(json_object_array_get_idx(env, i));
            if (strchr(kv, '=') && kv[0] != '=')
                env_set(penv, kv);
        }
    const char *cwd = config_string(cfg, "WorkingDir");
    json_object_object_add(p, "cwd", json_object_new_string(cwd && cwd[0] == '/' ? cwd : "/"));
    return 0;
}

const char *
ctr_spec_user(const struct ctr_spec_opts *o)
{
    if (o->process.user)
        return o->process.user;
    return config_string(image_runtime_config(o->image_config), "User");
}

bool
ctr_spec_user_is_numeric(const char *user)
{
    uint32_t id;
    cleanup_free char *copy = xstrdup(user);
    char *group = strchr(copy, ':');
    if (group)
        *group++ = '\0';
    return parse_id(copy, &id) == 0 && (!group || parse_id(group, &id) == 0);
}

/* ---------------------------------------------------------------- mounts */

static void
add_options(struct json_object *opts, const char *list)
{
    cleanup_free char *copy = xstrdup(list);
    char *save = NULL;
    for (char *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save))
        json_object_array_add(opts, json_object_new_string(t));
}

static bool
has_option(struct json_object *opts, const char *a, const char *b)
{
    size_t n = json_object_array_length(opts);
    for (size_t i = 0; i < n; i++) {
        const char *o = json_object_get_string(json_object_array_get_idx(opts, i));
        if (strcmp(o, a) == 0 || strcmp(o, b) == 0)
            return true;
    }
    return false;
}

/* "type=bind,src=/a,dst=/b,options=rbind:ro" as an OCI mount. type defaults to bind; a bind
 * mount's relative source is taken from the current directory, and gets rbind unless its
 * options say bind or rbind. */
static struct json_object *
parse_mount(const char *spec, struct berth_err *err)
{
    cleanup_json struct json_object *m = json_object_new_object();
    cleanup_json struct json_object *opts = json_object_new_array();
    cleanup_free char *copy = xstrdup(spec);
    const char *type = "bind", *src = NULL, *dst = NULL;
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *v = strchr(t, '=');
        if (!v) {
            berth_err_fail(err, EINVAL, "invalid mount `%s`: `%s` is not KEY=VALUE", spec, t);
            return NULL;
        }
        *v++ = '\0';
        if (strcmp(t, "type") == 0)
            type = v;
        else if (strcmp(t, "src") == 0 || strcmp(t, "source") == 0)
            src = v;
        else if (strcmp(t, "dst") == 0 || strcmp(t, "destination") == 0 || strcmp(t, "target") == 0)
            dst = v;
        else if (strcmp(t, "options") == 0)
            add_options(opts, v);
        else {
            berth_err_fail(err, EINVAL, "invalid mount `%s`: unknown key `%s`", spec, t);
            return NULL;
        }
    }
    if (!dst || dst[0] != '/') {
        berth_err_fail(err, EINVAL, "invalid mount `%s`: dst must be an absolute path", spec);
        return NULL;
    }
    bool bind = strcmp(type, "bind") == 0;
    if (bind && (!src || !*src)) {
        berth_err_fail(err, EINVAL, "invalid mount `%s`: a bind mount needs src", spec);
        return NULL;
    }
    cleanup_free char *abs_src = NULL;
    if (bind && src[0] != '/') {
        cleanup_free char *cwd = getcwd(NULL, 0);
        if (!cwd) {
            berth_err_set(err, errno, "getcwd");
            return NULL;
        }
        abs_src = xasprintf("%s/%s", cwd, src);
        src = abs_src;
    }
    if (bind && !has_option(opts, "bind", "rbind"))
        json_object_array_add(opts, json_object_new_string("rbind"));
    json_object_object_add(m, "destination", json_object_new_string(dst));
    json_object_object_add(m, "type", json_object_new_string(type));
    json_object_object_add(m, "source", json_object_new_string(src ? src : type));
    json_object_object_add(m, "options", steal_ptr(&opts));
    return steal_ptr(&m);
}

/* ---------------------------------------------------------------- specs */

/* obj[key] as an object, added when missing (or not an object). */
static struct json_object *
child_object(struct json_object *obj, const char *key)
{
    struct json_object *c = NULL;
    if (!json_object_object_get_ex(obj, key, &c) || !json_object_is_type(c, json_type_object)) {
        c = json_object_new_object();
        json_object_object_add(obj, key, c);
    }
    return c;
}

static int
add_mounts(struct json_object *spec, char **mounts, struct berth_err *err)
{
    struct json_object *list = NULL;
    if (!mounts || !mounts[0])
        return 0;
    if (!json_object_object_get_ex(spec, "mounts", &list) ||
        !json_object_is_type(list, json_type_array)) {
        list = json_object_new_array();
        json_object_object_add(spec, "mounts", list);
    }
    for (char **m = mounts; *m; m++) {
        struct json_object *mount = parse_mount(*m, err);
        if (!mount)
            return -1;
        json_object_array_add(list, mount);
    }
    return 0;
}

static struct json_object *
default_spec(const struct ctr_spec_opts *o)
{
    static char *const default_args[] = {"/bin/sh", NULL};
    static char *const default_env[] = {DEFAULT_PATH, NULL};
    struct json_object *spec = ocirun_spec_default(false, 0, 0);
    struct json_object *p = child_object(spec, "process"), *root = child_object(spec, "root");
    json_object_object_add(p, "args", strv_json((char **)default_args));
    json_object_object_add(p, "env", strv_json((char **)default_env));
    json_object_object_add(p, "terminal", json_object_new_boolean(o->process.terminal));
    json_object_object_add(spec, "hostname", json_object_new_string(o->id));
    json_object_object_add(root, "readonly", json_object_new_boolean(false));
    return spec;
}

struct json_object *
ctr_spec_new(const struct ctr_spec_opts *o, struct berth_err *err)
{
    cleanup_json struct json_object *spec = NULL;
    if (o->config_file) {
        spec = berth_json_parse_file(o->config_file, err);
        if (!spec) {
            berth_err_wrap(err, "read `%s`", o->config_file);
            return NULL;
        }
        if (!json_object_is_type(spec, json_type_object)) {
            berth_err_fail(err, EINVAL, "`%s` is not a JSON object", o->config_file);
            return NULL;
        }
    } else {
        spec = default_spec(o);
    }
    struct json_object *p = child_object(spec, "process");
    if (o->process.terminal)
        json_object_object_add(p, "terminal", json_object_new_boolean(true));
    struct ctr_process_opts po = o->process;
    if (o->image_config) {
        if (apply_image(p, o->image_config, o->process.args, err) < 0)
            return NULL;
        po.args = NULL; /* applied above, after the entrypoint */
        po.user = ctr_spec_user(o);
    }
    if (apply_process(p, o->users_root ? o->users_root : o->rootfs, &po, err) < 0)
        return NULL;
    if (o->rootfs)
        json_object_object_add(child_object(spec, "root"), "path",
                               json_object_new_string(o->rootfs));
    if (add_mounts(spec, o->mounts, err) < 0)
        return NULL;
    return steal_ptr(&spec);
}

struct json_object *
ctr_spec_exec_process(struct json_object *spec, const char *rootfs,
                      const struct ctr_process_opts *o, struct berth_err *err)
{
    struct json_object *p = NULL;
    cleanup_json struct json_object *copy = NULL;
    if (!json_object_object_get_ex(spec, "process", &p) ||
        !json_object_is_type(p, json_type_object)) {
        berth_err_fail(err, EINVAL, "the container's spec has no process");
        return NULL;
    }
    if (json_object_deep_copy(p, &copy, NULL) < 0) {
        berth_err_fail(err, ENOMEM, "copy the container's process");
        return NULL;
    }
    json_object_object_add(copy, "terminal", json_object_new_boolean(o->terminal));
    json_object_object_del(copy, "consoleSize");
    if (apply_process(copy, rootfs, o, err) < 0)
        return NULL;
    return steal_ptr(&copy);
}

bool
ctr_spec_terminal(struct json_object *spec)
{
    struct json_object *p = NULL, *t = NULL;
    return json_object_object_get_ex(spec, "process", &p) &&
           json_object_object_get_ex(p, "terminal", &t) && json_object_get_boolean(t);
}

int
ctr_spec_set_terminal(struct json_object *spec, struct berth_err *err)
{
    const struct ctr_process_opts o = {.terminal = true};
    struct json_object *p = child_object(spec, "process");
    json_object_object_add(p, "terminal", json_object_new_boolean(true));
    return apply_process(p, NULL, &o, err);
}
