/* SPDX-License-Identifier: Apache-2.0
 *
 * Execs (containers.h): extra processes in a running container. As in dockerd they live in
 * memory only; the process itself belongs to the container's shim (Tasks.Exec, Tasks.Start),
 * which reports its exit (TaskExit with the exec's id) and keeps its stdio on an attach
 * socket of its own.
 *
 * The process spec is the container's (user, capabilities, environment, cwd, rlimits...) with
 * what the ExecConfig changes: Cmd, Env added, WorkingDir, User, Tty.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "berth/supervisor/v1/containers.pb-c.h"
#include "berth/supervisor/v1/tasks.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/log.h"
#include "engine/containers/internal.h"
#include "engine/daemon.h"
#include "engine/spec/spec-internal.h"
#include "engine/supervisor/client.h"

#define TASKS      (&berth__supervisor__v1__tasks__descriptor)
#define CONTAINERS (&berth__supervisor__v1__containers__descriptor)

struct eng_exec {
    char *id;
    char *container_id;
    struct json_object *config; /* the ExecConfig as given */
    bool tty, open_stdin, open_stdout, open_stderr;
    bool started, running;
    int exit_code; /* -1 until it exits */
    int pid;
    int refs;
    struct eng_daemon *d;
};

static pthread_mutex_t execs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct eng_exec **execs;
static size_t n_execs;

const char *
eng_exec_id(struct eng_exec *e)
{
    return e->id;
}

const char *
eng_exec_container_id(struct eng_exec *e)
{
    return e->container_id;
}

void
eng_exec_put(struct eng_exec *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&execs_lock);
    bool last = --e->refs == 0;
    pthread_mutex_unlock(&execs_lock);
    if (!last)
        return;
    free(e->id);
    free(e->container_id);
    json_object_put(e->config);
    free(e);
}

static int
check_strings(struct json_object *v, const char *field, bool required, struct berth_err *err)
{
    if (!v || json_object_is_type(v, json_type_null)) {
        if (required)
            return berth_err_fail(err, EINVAL, "No exec command specified");
        return 0;
    }
    if (!json_object_is_type(v, json_type_array))
        return berth_err_fail(err, EINVAL, "%s: expected an array of strings, got %s", field,
                              berth_json_type_name(v));
    for (size_t i = 0; i < json_object_array_length(v); i++)
        if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
            return berth_err_fail(err, EINVAL, "%s[%zu]: expected a string", field, i);
    if (required && json_object_array_length(v) == 0)
        return berth_err_fail(err, EINVAL, "No exec command specified");
    return 0;
}

int
eng_exec_create(struct eng_daemon *d, struct eng_ctr *c, struct json_object *config, char **id,
                struct berth_err *err)
{
    if (!config || !json_object_is_type(config, json_type_object))
        return berth_err_fail(err, EINVAL, "the body must be a JSON object (the exec config)");
    if (check_strings(berth_json_member(config, "Cmd"), "Cmd", true, err) < 0 ||
        check_strings(berth_json_member(config, "Env"), "Env", false, err) < 0)
        return -1;
    if (berth_json_member_bool(config, "Privileged"))
        return berth_err_fail(err, ENOTSUP, "privileged execs are not supported");
    pthread_mutex_lock(&c->lock);
    bool running = c->status == ENG_CTR_RUNNING;
    bool paused = c->status == ENG_CTR_PAUSED;
    pthread_mutex_unlock(&c->lock);
    if (paused)
        return berth_err_fail(err, EBUSY,
                              "Container %s is paused, unpause the container before exec", c->id);
    if (!running)
        return berth_err_fail(err, EBUSY, "Container %s is not running", c->id);

    unsigned char b[32];
    for (size_t got = 0; got < sizeof(b);) {
        ssize_t r = getrandom(b + got, sizeof(b) - got, 0);
        if (r > 0)
            got += (size_t)r;
    }
    char hex[65];
    for (size_t i = 0; i < sizeof(b); i++)
        snprintf(hex + 2 * i, 3, "%02x", b[i]);

    struct eng_exec *e = xzalloc(sizeof(*e));
    e->id = xstrdup(hex);
    e->container_id = xstrdup(c->id);
    e->config = json_object_get(config);
    e->tty = berth_json_member_bool(config, "Tty");
    e->open_stdin = berth_json_member_bool(config, "AttachStdin");
    e->open_stdout = berth_json_member_bool(config, "AttachStdout");
    e->open_stderr = berth_json_member_bool(config, "AttachStderr");
    e->exit_code = -1;
    e->refs = 1;
    e->d = d;
    pthread_mutex_lock(&execs_lock);
    execs = xrealloc(execs, (n_execs + 1) * sizeof(*execs));
    execs[n_execs++] = e;
    pthread_mutex_unlock(&execs_lock);
    cleanup_json struct json_object *a = json_object_new_object();
    json_object_object_add(a, "execID", json_object_new_string(hex));
    ctr_event(d, c, "exec_create", json_object_get(a));
    *id = xstrdup(hex);
    return 0;
}

struct eng_exec *
eng_exec_find(struct eng_daemon *d, const char *id, struct berth_err *err)
{
    (void)d;
    struct eng_exec *found = NULL;
    pthread_mutex_lock(&execs_lock);
    for (size_t i = 0; id && i < n_execs && !found; i++)
        if (strcmp(execs[i]->id, id) == 0) {
            found = execs[i];
            found->refs++;
        }
    pthread_mutex_unlock(&execs_lock);
    if (!found)
        berth_err_fail(err, ENOENT, "No such exec instance: %s", id ? id : "");
    return found;
}

void
eng_exec_forget_container(struct eng_daemon *d, const char *container_id)
{
    (void)d;
    pthread_mutex_lock(&execs_lock);
    size_t j = 0;
    struct eng_exec **drop = xzalloc((n_execs + 1) * sizeof(*drop));
    size_t n_drop = 0;
    for (size_t i = 0; i < n_execs; i++) {
        if (strcmp(execs[i]->container_id, container_id) == 0)
            drop[n_drop++] = execs[i];
        else
            execs[j++] = execs[i];
    }
    n_execs = j;
    pthread_mutex_unlock(&execs_lock);
    for (size_t i = 0; i < n_drop; i++)
        eng_exec_put(drop[i]);
    free(drop);
}

/* The container's process spec with the exec's changes. */
static struct json_object *
process_spec(struct eng_daemon *d, struct eng_exec *e, int pid, struct berth_err *err)
{
    Berth__Supervisor__V1__GetContainerRequest req =
        BERTH__SUPERVISOR__V1__GET_CONTAINER_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__GetContainerResponse *resp = NULL;
    req.id = e->container_id;
    if (eng_sup_call(d->sup, CONTAINERS, "Get", &req.base, &resp, err) < 0)
        return NULL;
    if (!resp->container || !resp->container->spec.data)
        return berth_err_fail(err, EIO, "container %s has no spec", e->container_id), NULL;
    cleanup_json struct json_object *spec =
        berth_json_parse((const char *)resp->container->spec.data, resp->container->spec.len, err);
    if (!spec)
        return NULL;
    struct json_object *p = NULL;
    if (json_object_deep_copy(berth_json_member(spec, "process"), &p, NULL) < 0 || !p)
        return berth_err_fail(err, EIO, "container %s has no process spec", e->container_id), NULL;
    json_object_object_add(p, "args", json_object_get(berth_json_member(e->config, "Cmd")));
    json_object_object_add(p, "terminal", json_object_new_boolean(e->tty));
    json_object_object_del(p, "consoleSize");
    struct json_object *wd = berth_json_member(e->config, "WorkingDir");
    if (wd && json_object_is_type(wd, json_type_string) && *json_object_get_string(wd))
        json_object_object_add(p, "cwd", json_object_get(wd));
    /* Env: the container's, with the exec's entries replacing those of the same name. */
    struct json_object *env = berth_json_member(p, "env"),
                       *add = berth_json_member(e->config, "Env");
    if (!env) {
        env = json_object_new_array();
        json_object_object_add(p, "env", env);
    }
    for (size_t i = 0; add && i < json_object_array_length(add); i++) {
        const char *kv = json_object_get_string(json_object_array_get_idx(add, i));
        size_t klen = strcspn(kv, "=");
        bool replaced = false;
        for (size_t j = 0; j < json_object_array_length(env) && !replaced; j++) {
            const char *old = json_object_get_string(json_object_array_get_idx(env, j));
            if (strncmp(old, kv, klen) == 0 && (old[klen] == '=' || !old[klen])) {
                json_object_array_put_idx(env, j, json_object_new_string(kv));
                replaced = true;
            }
        }
        if (!replaced)
            json_object_array_add(env, json_object_new_string(kv));
    }
    struct json_object *user = berth_json_member(e->config, "User");
    if (user && json_object_is_type(user, json_type_string) && *json_object_get_string(user)) {
        /* Names resolve in the running container's own /etc/passwd. */
        cleanup_free char *root = xasprintf("/proc/%d/root", pid);
        struct spec_user u = {0};
        if (spec_user_resolve(root, json_object_get_string(user), NULL, &u, err) < 0) {
            json_object_put(p);
            return NULL;
        }
        struct json_object *uo = json_object_new_object();
        json_object_object_add(uo, "uid", json_object_new_int64(u.uid));
        json_object_object_add(uo, "gid", json_object_new_int64(u.gid));
        if (u.n_gids) {
            struct json_object *g = json_object_new_array();
            for (size_t i = 0; i < u.n_gids; i++)
                json_object_array_add(g, json_object_new_int64(u.gids[i]));
            json_object_object_add(uo, "additionalGids", g);
        }
        json_object_object_add(p, "user", uo);
        spec_user_free(&u);
    }
    return p;
}

static int
start_process(struct eng_daemon *d, struct eng_exec *e, struct berth_err *err)
{
    Berth__Supervisor__V1__StartRequest req = BERTH__SUPERVISOR__V1__START_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__StartResponse *resp = NULL;
    req.container_id = e->container_id;
    req.exec_id = e->id;
    if (eng_sup_call(d->sup, TASKS, "Start", &req.base, &resp, err) < 0)
        return -1;
    pthread_mutex_lock(&execs_lock);
    e->pid = (int)resp->pid;
    e->running = e->exit_code < 0;
    pthread_mutex_unlock(&execs_lock);
    return 0;
}

struct exec_session {
    struct eng_exec *e;
};

static int
on_connected(void *data, struct berth_err *err)
{
    struct eng_exec *e = data;
    if (start_process(e->d, e, err) < 0) {
        /* dockerd's code for any exec that could not start, whatever the reason (docker run
         * alone tells 127 from 126). */
        pthread_mutex_lock(&execs_lock);
        e->exit_code = 126;
        pthread_mutex_unlock(&execs_lock);
        berth_err_wrap(err, "start exec %.12s", e->id);
        berth_debug("%s", err->msg);
        return -1;
    }
    return 0;
}

int
eng_exec_start(struct eng_daemon *d, struct eng_exec *e, bool detach, bool tty,
               struct eng_attach **attach, struct berth_err *err)
{
    pthread_mutex_lock(&execs_lock);
    bool started = e->started;
    e->started = true;
    pthread_mutex_unlock(&execs_lock);
    if (started)
        return berth_err_fail(err, EBUSY, "Error: Exec command %s has already run", e->id);
    (void)tty;

    cleanup_ctr struct eng_ctr *c = eng_ctr_find(d, e->container_id, err);
    if (!c)
        return -1;
    pthread_mutex_lock(&c->lock);
    int pid = c->status == ENG_CTR_RUNNING ? c->pid : 0;
    pthread_mutex_unlock(&c->lock);
    if (pid <= 0)
        return berth_err_fail(err, EBUSY, "Container %s is not running", c->id);

    cleanup_json struct json_object *proc = process_spec(d, e, pid, err);
    if (!proc)
        return -1;
    const char *text = json_object_to_json_string_ext(proc, JSON_C_TO_STRING_PLAIN);
    Berth__Supervisor__V1__ExecProcessRequest req =
        BERTH__SUPERVISOR__V1__EXEC_PROCESS_REQUEST__INIT;
    Berth__Supervisor__V1__IO io = BERTH__SUPERVISOR__V1__IO__INIT;
    cleanup_pb Berth__Supervisor__V1__ExecProcessResponse *resp = NULL;
    req.container_id = e->container_id;
    req.exec_id = e->id;
    req.spec.data = (uint8_t *)text;
    req.spec.len = strlen(text);
    io.terminal = e->tty;
    io.open_stdin = e->open_stdin && !detach;
    req.io = &io;
    if (eng_sup_call(d->sup, TASKS, "Exec", &req.base, &resp, err) < 0)
        return -1;
    cleanup_json struct json_object *a = json_object_new_object();
    json_object_object_add(a, "execID", json_object_new_string(e->id));
    ctr_event(d, c, "exec_start", json_object_get(a));
    if (detach) {
        *attach = NULL;
        return start_process(d, e, err);
    }
    struct eng_attach_opts o = {
        .in = e->open_stdin,
        .out = e->open_stdout,
        .err = e->open_stderr,
        .tty = e->tty,
        .stdin_once = true,
    };
    *attach = eng_attach_socket(d, resp->attach_socket, &o);
    eng_attach_on_connected(*attach, on_connected, e);
    return 0;
}

void
eng_exec_exited(struct eng_daemon *d, const char *exec_id, int status)
{
    (void)d;
    pthread_mutex_lock(&execs_lock);
    for (size_t i = 0; i < n_execs; i++) {
        if (strcmp(execs[i]->id, exec_id) == 0) {
            execs[i]->running = false;
            if (execs[i]->exit_code < 0)
                execs[i]->exit_code = status;
        }
    }
    pthread_mutex_unlock(&execs_lock);
}

struct json_object *
eng_exec_inspect(struct eng_exec *e)
{
    struct json_object *o = json_object_new_object();
    pthread_mutex_lock(&execs_lock);
    json_object_object_add(o, "ID", json_object_new_string(e->id));
    json_object_object_add(o, "Running", json_object_new_boolean(e->running));
    json_object_object_add(o, "ExitCode",
                           e->exit_code >= 0 ? json_object_new_int(e->exit_code) : NULL);
    json_object_object_add(o, "Pid", json_object_new_int(e->pid));
    pthread_mutex_unlock(&execs_lock);
    struct json_object *pc = json_object_new_object();
    json_object_object_add(pc, "tty", json_object_new_boolean(e->tty));
    struct json_object *cmd = berth_json_member(e->config, "Cmd");
    size_t n = cmd ? json_object_array_length(cmd) : 0;
    json_object_object_add(
        pc, "entrypoint",
        json_object_new_string(n ? json_object_get_string(json_object_array_get_idx(cmd, 0)) : ""));
    struct json_object *args = json_object_new_array();
    for (size_t i = 1; i < n; i++)
        json_object_array_add(args, json_object_get(json_object_array_get_idx(cmd, i)));
    json_object_object_add(pc, "arguments", args);
    json_object_object_add(pc, "privileged", json_object_new_boolean(false));
    struct json_object *user = berth_json_member(e->config, "User");
    json_object_object_add(pc, "user",
                           json_object_new_string(user ? json_object_get_string(user) : ""));
    json_object_object_add(o, "ProcessConfig", pc);
    json_object_object_add(o, "OpenStdin", json_object_new_boolean(e->open_stdin));
    json_object_object_add(o, "OpenStdout", json_object_new_boolean(e->open_stdout));
    json_object_object_add(o, "OpenStderr", json_object_new_boolean(e->open_stderr));
    json_object_object_add(o, "CanRemove", json_object_new_boolean(false));
    json_object_object_add(o, "ContainerID", json_object_new_string(e->container_id));
    json_object_object_add(o, "DetachKeys", json_object_new_string(""));
    return o;
}

int
eng_ctr_resize(struct eng_daemon *d, const char *container_id, const char *exec_id, unsigned h,
               unsigned w, struct berth_err *err)
{
    Berth__Supervisor__V1__ResizePtyRequest req = BERTH__SUPERVISOR__V1__RESIZE_PTY_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__ResizePtyResponse *resp = NULL;
    req.container_id = (char *)container_id;
    req.exec_id = (char *)(exec_id ? exec_id : "");
    req.width = w;
    req.height = h;
    return eng_sup_call(d->sup, TASKS, "ResizePty", &req.base, &resp, err);
}
