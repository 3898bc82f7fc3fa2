/* SPDX-License-Identifier: Apache-2.0
 *
 * The shim API's methods (task.h). Each handler checks what the request names and the state it
 * needs, then makes the process or runtime calls. Errors carry an errno class: ENOENT for an
 * unknown process, EEXIST for a duplicate, EINVAL for a bad request, EBUSY for a process in
 * the wrong state; what the runtime refuses comes back as EIO with the runtime's own words.
 *
 * Two methods end the shim, after their reply is written: Delete of the init, and a Create
 * that failed (nothing of the container is left by then). s->exiting asks the server for it.
 */
#include "shim/task.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/log.h"
#include "shim/io.h"
#include "shim/process.h"
#include "shim/runtime.h"
#include "shim/server.h"
#include "shim/shim.h"

#define EXEC_ID_MAX 76

/* ---- Lookups ----------------------------------------------------------------------------- */

static struct shim_process *
get_init(struct shim *s, struct berth_err *err)
{
    struct shim_process *p = shim_process_find(s, "");

    if (p == NULL)
        berth_err_fail(err, ENOENT, "task `%s` is not created", s->id);
    return p;
}

static struct shim_process *
get_process(struct shim *s, const char *exec_id, struct berth_err *err)
{
    if (exec_id == NULL || exec_id[0] == '\0')
        return get_init(s, err);
    struct shim_process *p = shim_process_find(s, exec_id);
    if (p == NULL)
        berth_err_fail(err, ENOENT, "exec `%s` not found", exec_id);
    return p;
}

/* The init, in one of the given states (a bit set of 1 << status); EBUSY otherwise. */
static struct shim_process *
get_init_in(struct shim *s, unsigned states, struct berth_err *err)
{
    struct shim_process *p = get_init(s, err);

    if (p == NULL)
        return NULL;
    if (!(states & (1u << p->status))) {
        berth_err_fail(err, EBUSY, "task `%s` is %s", s->id, shim_process_status_name(p->status));
        return NULL;
    }
    return p;
}

#define IN(status) (1u << BERTH__SHIM__V1__STATUS__##status)

/* [A-Za-z0-9][A-Za-z0-9_.-]{0,75}: it becomes a file name in DIR. */
static bool
is_valid_exec_id(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n > EXEC_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
            return false;
    }
    return true;
}

/* A content error (a JSON parse error has code 0) as a bad request, or a bad runtime answer:
 * classified by code, printed without strerror. */
static int
classify(struct berth_err *err, int code)
{
    err->code = code;
    err->no_cause = true;
    return -1;
}

static int
run(struct shim *s, const char **args, struct shim_runtime_call *call, struct berth_err *err)
{
    return shim_runtime_run(&s->rt, args, call, err);
}

/* ---- Create, Start, Exec ----------------------------------------------------------------- */

/* process.terminal of the bundle's config.json: the runtime decides from it, so it decides. */
static int
bundle_terminal(struct shim *s, bool *terminal, struct berth_err *err)
{
    cleanup_free char *path = xasprintf("%s/config.json", s->dir);
    cleanup_json struct json_object *spec = berth_json_parse_file(path, err);
    struct json_object *process = NULL;

    *terminal = false;
    if (spec == NULL || berth_json_get_object(spec, "process", &process, err) < 0 ||
        (process && berth_json_get_bool(process, "terminal", terminal, err) < 0))
        return berth_err_wrap(err, "bundle `%s`", s->dir);
    return 0;
}

static bool
same_dir(const char *a, const char *b)
{
    cleanup_free char *ra = realpath(a, NULL);
    cleanup_free char *rb = realpath(b, NULL);

    return ra && rb && strcmp(ra, rb) == 0;
}

static int
create(struct shim *s, const Berth__Shim__V1__CreateRequest *r, struct shim_reply *reply,
       struct berth_err *err)
{
    bool terminal;

    if (r->id[0] && strcmp(r->id, s->id) != 0)
        return berth_err_fail(err, EINVAL, "create: id `%s` is not this shim's (`%s`)", r->id,
                              s->id);
    if (r->bundle[0] && !same_dir(r->bundle, s->dir))
        return berth_err_fail(err, EINVAL, "create: bundle `%s` is not this shim's (`%s`)",
                              r->bundle, s->dir);
    if (bundle_terminal(s, &terminal, err) < 0)
        return -1;
    if (r->io && r->io->terminal != terminal)
        berth_info("create: io.terminal is %s, config.json's process.terminal %s: using the "
                   "latter",
                   r->io->terminal ? "true" : "false", terminal ? "true" : "false");

    struct shim_process *p = shim_process_new(s, "", terminal, r->io, err);
    if (p == NULL)
        return -1;
    if (shim_process_create(p, r->log, err) < 0) {
        shim_process_remove(p);
        return -1;
    }
    Berth__Shim__V1__CreateResponse resp = BERTH__SHIM__V1__CREATE_RESPONSE__INIT;
    resp.pid = (uint32_t)p->pid;
    shim_reply_set(reply, &resp.base);
    return 0;
}

int
shim_task_create(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                 struct berth_err *err)
{
    if (shim_process_find(s, "") != NULL)
        return berth_err_fail(err, EEXIST, "task `%s` already exists", s->id);
    if (create(s, (const Berth__Shim__V1__CreateRequest *)req, reply, err) < 0) {
        /* The shim exists for this one container: without it, it goes. */
        berth_error("create failed, exiting: %s", err->msg);
        s->exiting = true;
        return -1;
    }
    return 0;
}

int
shim_task_start(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                struct berth_err *err)
{
    const Berth__Shim__V1__StartRequest *r = (const void *)req;
    struct shim_process *p = get_process(s, r->exec_id, err);
    bool exec = r->exec_id[0] != '\0';

    if (p == NULL)
        return -1;
    if (exec && get_init_in(s, IN(RUNNING), err) == NULL)
        return berth_err_wrap(err, "start exec `%s`", r->exec_id);
    if (shim_process_start(p, err) < 0) {
        if (exec && err->code != EBUSY) {
            /* Nothing runs: drop it, so that its id can be used again. */
            berth_err_wrap(err, "start exec `%s`", r->exec_id);
            shim_process_remove(p);
        }
        return -1;
    }
    shim_server_event(s->server, exec ? "exec-started" : "start", r->exec_id, p->pid, 0, 0);
    Berth__Shim__V1__StartResponse resp = BERTH__SHIM__V1__START_RESPONSE__INIT;
    resp.pid = (uint32_t)p->pid;
    shim_reply_set(reply, &resp.base);
    return 0;
}

int
shim_task_exec(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
               struct berth_err *err)
{
    const Berth__Shim__V1__ExecRequest *r = (const void *)req;
    bool terminal = r->io && r->io->terminal;

    if (!is_valid_exec_id(r->exec_id))
        return berth_err_fail(
            err, EINVAL, "invalid exec id `%s` (want [A-Za-z0-9][A-Za-z0-9_.-]{0,75})", r->exec_id);
    if (get_init_in(s, IN(CREATED) | IN(RUNNING) | IN(PAUSED), err) == NULL)
        return berth_err_wrap(err, "exec `%s`", r->exec_id);
    if (shim_process_find(s, r->exec_id))
        return berth_err_fail(err, EEXIST, "exec `%s` already exists", r->exec_id);

    /* The spec goes to the runtime as a file. Its terminal and the request's must agree, or
     * the runtime would not send the pty the shim waits for: either one asks for a terminal. */
    cleanup_json struct json_object *spec =
        berth_json_parse((const char *)r->spec.data, r->spec.len, err);
    if (spec == NULL || !json_object_is_type(spec, json_type_object)) {
        if (spec != NULL)
            berth_err_fail(err, EINVAL, "not a JSON object");
        classify(err, EINVAL);
        return berth_err_wrap(err, "exec `%s`: process spec", r->exec_id);
    }
    bool spec_terminal = false;
    if (berth_json_get_bool(spec, "terminal", &spec_terminal, err) < 0) {
        classify(err, EINVAL);
        return berth_err_wrap(err, "exec `%s`: process spec", r->exec_id);
    }
    terminal = terminal || spec_terminal;
    json_object_object_add(spec, "terminal", json_object_new_boolean(terminal));
    cleanup_free char *path = xasprintf("%s/%s.process.json", s->dir, r->exec_id);
    if (berth_json_write_file(path, spec, false, 0600, err) < 0)
        return -1;

    struct shim_process *p = shim_process_new(s, r->exec_id, terminal, r->io, err);
    if (p == NULL) {
        unlink(path);
        return berth_err_wrap(err, "exec `%s`", r->exec_id);
    }
    Berth__Shim__V1__ExecResponse resp = BERTH__SHIM__V1__EXEC_RESPONSE__INIT;
    resp.attach_socket = p->attach_path;
    shim_reply_set(reply, &resp.base);
    return 0;
}

/* ---- Kill, Delete ------------------------------------------------------------------------ */

int
shim_task_kill(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
               struct berth_err *err)
{
    const Berth__Shim__V1__KillRequest *r = (const void *)req;
    struct shim_process *p = get_process(s, r->exec_id, err);

    if (p == NULL)
        return -1;
    return shim_process_kill(p, r->signal, r->all, err);
}

static int
delete_init(struct shim *s, struct shim_reply *reply, struct berth_err *err)
{
    Berth__Shim__V1__DeleteResponse resp = BERTH__SHIM__V1__DELETE_RESPONSE__INIT;
    struct shim_process *p = shim_process_find(s, "");

    if (p != NULL) {
        if (p->status == BERTH__SHIM__V1__STATUS__RUNNING ||
            p->status == BERTH__SHIM__V1__STATUS__PAUSED)
            return berth_err_fail(err, EBUSY, "task `%s` is running", s->id);
        struct shim_runtime_call call = SHIM_RUNTIME_CALL_INIT;
        const char *plain[] = {"delete", s->id, NULL};
        const char *force[] = {"delete", "--force", s->id, NULL};
        bool created = p->status == BERTH__SHIM__V1__STATUS__CREATED;
        /* The rest of the output, the exit event and exit frames go out before the shim. */
        shim_process_report_now(p);
        if (run(s, created ? force : plain, &call, err) < 0)
            return -1;
        resp.pid = (uint32_t)p->pid;
        resp.exit_status = p->exit_status;
        resp.exited_at = p->exited_at;
    }
    /* Never created (a supervisor cleaning up after itself): there is nothing to delete. */
    berth_info("task deleted, exiting");
    shim_reply_set(reply, &resp.base);
    s->exiting = true;
    return 0;
}

int
shim_task_delete(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                 struct berth_err *err)
{
    const Berth__Shim__V1__DeleteRequest *r = (const void *)req;

    if (r->exec_id[0] == '\0')
        return delete_init(s, reply, err);
    struct shim_process *p = get_process(s, r->exec_id, err);
    if (p == NULL)
        return -1;
    if (p->status == BERTH__SHIM__V1__STATUS__RUNNING ||
        p->status == BERTH__SHIM__V1__STATUS__PAUSED)
        return berth_err_fail(err, EBUSY, "exec `%s` is running", r->exec_id);
    shim_process_report_now(p);
    Berth__Shim__V1__DeleteResponse resp = BERTH__SHIM__V1__DELETE_RESPONSE__INIT;
    resp.pid = (uint32_t)p->pid;
    resp.exit_status = p->exit_status;
    resp.exited_at = p->exited_at;
    shim_reply_set(reply, &resp.base);
    shim_process_remove(p);
    return 0;
}

/* ---- State, List, Connect ---------------------------------------------------------------- */

int
shim_task_state(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                struct berth_err *err)
{
    const Berth__Shim__V1__StateRequest *r = (const void *)req;
    struct shim_process *p = get_process(s, r->exec_id, err);
    Berth__Shim__V1__ProcessState st;
    Berth__Shim__V1__IO io;

    if (p == NULL)
        return -1;
    shim_process_state(p, &st, &io);
    shim_reply_set(reply, &st.base);
    return 0;
}

int
shim_task_list(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
               struct berth_err *err)
{
    Berth__Shim__V1__ListResponse resp = BERTH__SHIM__V1__LIST_RESPONSE__INIT;
    size_t n = 0;

    for (struct shim_process *p = s->procs; p; p = p->next)
        n++;
    cleanup_free Berth__Shim__V1__ProcessState *st = xmalloc((n ? n : 1) * sizeof(*st));
    cleanup_free Berth__Shim__V1__IO *io = xmalloc((n ? n : 1) * sizeof(*io));
    cleanup_free Berth__Shim__V1__ProcessState **ptrs = xmalloc((n ? n : 1) * sizeof(*ptrs));
    size_t i = 0;
    for (struct shim_process *p = s->procs; p; p = p->next, i++) {
        shim_process_state(p, &st[i], &io[i]);
        ptrs[i] = &st[i];
    }
    resp.n_processes = n;
    resp.processes = ptrs;
    shim_reply_set(reply, &resp.base);
    return 0;
}

int
shim_task_connect(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                  struct berth_err *err)
{
    Berth__Shim__V1__ConnectResponse resp = BERTH__SHIM__V1__CONNECT_RESPONSE__INIT;
    struct shim_process *init = shim_process_find(s, "");

    resp.shim_pid = (uint32_t)getpid();
    resp.task_pid = init ? (uint32_t)init->pid : 0;
    resp.version = BERTH_VERSION;
    shim_reply_set(reply, &resp.base);
    return 0;
}

/* ---- Pause, Resume, Update, Pids, Stats: the runtime's ------------------------------------ */

int
shim_task_pause(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                struct berth_err *err)
{
    struct shim_process *p = get_init_in(s, IN(RUNNING), err);
    struct shim_runtime_call call = SHIM_RUNTIME_CALL_INIT;
    const char *args[] = {"pause", s->id, NULL};

    if (p == NULL || run(s, args, &call, err) < 0)
        return -1;
    /* It may have exited just before it froze: a reaped exit wins. */
    if (p->status == BERTH__SHIM__V1__STATUS__RUNNING)
        p->status = BERTH__SHIM__V1__STATUS__PAUSED;
    shim_server_event(s->server, "paused", "", p->pid, 0, 0);
    return 0;
}

int
shim_task_resume(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                 struct berth_err *err)
{
    struct shim_process *p = get_init_in(s, IN(PAUSED), err);
    struct shim_runtime_call call = SHIM_RUNTIME_CALL_INIT;
    const char *args[] = {"resume", s->id, NULL};

    if (p == NULL || run(s, args, &call, err) < 0)
        return -1;
    if (p->status == BERTH__SHIM__V1__STATUS__PAUSED)
        p->status = BERTH__SHIM__V1__STATUS__RUNNING;
    shim_server_event(s->server, "resumed", "", p->pid, 0, 0);
    return 0;
}

int
shim_task_update(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                 struct berth_err *err)
{
    const Berth__Shim__V1__UpdateRequest *r = (const void *)req;
    struct shim_runtime_call call = SHIM_RUNTIME_CALL_INIT;
    const char *args[] = {"update", "--resources", "-", s->id, NULL};

    if (get_init_in(s, IN(CREATED) | IN(RUNNING) | IN(PAUSED), err) == NULL)
        return -1;
    cleanup_json struct json_object *res =
        berth_json_parse((const char *)r->resources.data, r->resources.len, err);
    if (res == NULL || !json_object_is_type(res, json_type_object)) {
        if (res != NULL)
            berth_err_fail(err, EINVAL, "not a JSON object");
        classify(err, EINVAL);
        return berth_err_wrap(err, "update: resources");
    }
    call.input = r->resources.data;
    call.input_len = r->resources.len;
    return run(s, args, &call, err);
}

int
shim_task_pids(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
               struct berth_err *err)
{
    struct shim_runtime_call call = SHIM_RUNTIME_CALL_INIT;
    const char *args[] = {"ps", "--format", "json", s->id, NULL};

    if (get_init_in(s, IN(CREATED) | IN(RUNNING) | IN(PAUSED), err) == NULL)
        return -1;
    call.capture_stdout = true;
    if (run(s, args, &call, err) < 0)
        return -1;
    cleanup_json struct json_object *list = berth_json_parse(call.out, call.out_len, err);
    shim_runtime_call_release(&call);
    if (list == NULL || !json_object_is_type(list, json_type_array)) {
        if (list != NULL)
            berth_err_fail(err, EIO, "not a JSON array");
        classify(err, EIO);
        return berth_err_wrap(err, "pids: output of the runtime's ps");
    }
    size_t n = json_object_array_length(list);
    cleanup_free uint32_t *pids = xmalloc((n ? n : 1) * sizeof(*pids));
    for (size_t i = 0; i < n; i++)
        pids[i] = (uint32_t)json_object_get_int64(json_object_array_get_idx(list, i));
    Berth__Shim__V1__PidsResponse resp = BERTH__SHIM__V1__PIDS_RESPONSE__INIT;
    resp.n_pids = n;
    resp.pids = pids;
    shim_reply_set(reply, &resp.base);
    return 0;
}

int
shim_task_stats(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                struct berth_err *err)
{
    struct shim_runtime_call call = SHIM_RUNTIME_CALL_INIT;
    const char *args[] = {"events", "--stats", s->id, NULL};

    if (get_init(s, err) == NULL)
        return -1;
    call.capture_stdout = true;
    if (run(s, args, &call, err) < 0)
        return -1;
    Berth__Shim__V1__StatsResponse resp = BERTH__SHIM__V1__STATS_RESPONSE__INIT;
    resp.data.data = (uint8_t *)call.out;
    resp.data.len = call.out_len;
    shim_reply_set(reply, &resp.base);
    shim_runtime_call_release(&call);
    return 0;
}

/* ---- Resize, CloseIO --------------------------------------------------------------------- */

int
shim_task_resize(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                 struct berth_err *err)
{
    const Berth__Shim__V1__ResizeRequest *r = (const void *)req;
    struct shim_process *p = get_process(s, r->exec_id, err);

    if (p == NULL)
        return -1;
    if (r->width == 0 || r->height == 0 || r->width > 0xFFFF || r->height > 0xFFFF)
        return berth_err_fail(err, EINVAL, "invalid terminal size %ux%u", r->width, r->height);
    return shim_io_resize(p->io, r->width, r->height, err);
}

int
shim_task_close_io(struct shim *s, const ProtobufCMessage *req, struct shim_reply *reply,
                   struct berth_err *err)
{
    const Berth__Shim__V1__CloseIORequest *r = (const void *)req;
    struct shim_process *p = get_process(s, r->exec_id, err);

    if (p == NULL)
        return -1;
    if (r->stdin)
        shim_io_close_stdin(p->io);
    return 0;
}
