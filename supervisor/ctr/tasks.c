/* SPDX-License-Identifier: Apache-2.0
 *
 * `berth-ctr tasks` (t): start, ls, kill, rm, exec, ps, pause, resume, metrics and attach
 * over the Tasks service. Attached processes go through launch.h, attach through attach.h.
 */
#include "supervisor/ctr/ctr.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/supervisor/v1/containers.pb-c.h"
#include "berth/supervisor/v1/tasks.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/signal.h"
#include "common/json.h"
#include "supervisor/ctr/attach.h"
#include "supervisor/ctr/client.h"
#include "supervisor/ctr/launch.h"
#include "supervisor/ctr/output.h"
#include "supervisor/ctr/pbjson.h"
#include "supervisor/ctr/spec.h"

#define TASKS      (&berth__supervisor__v1__tasks__descriptor)
#define CONTAINERS (&berth__supervisor__v1__containers__descriptor)

static const char *
status_name(Berth__Supervisor__V1__Status st)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&berth__supervisor__v1__status__descriptor, st);
    return v ? v->name : "UNKNOWN";
}

/* The container's record and its spec, parsed. */
/* The root filesystem of a running task as this host sees it, "/proc/<pid>/root" (heap), for
 * looking up user names in a container that has no rootfs directory (one on a snapshot). */
static char *
running_root(struct ctr_global *g, const char *id, struct berth_err *err)
{
    Berth__Supervisor__V1__GetRequest req = BERTH__SUPERVISOR__V1__GET_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__GetResponse *resp = NULL;
    req.container_id = (char *)id;
    if (ctr_call(g, TASKS, "Get", &req.base, &resp, err) < 0)
        return NULL;
    if (!resp->process || resp->process->pid == 0 ||
        resp->process->status == BERTH__SUPERVISOR__V1__STATUS__STOPPED) {
        berth_err_fail(err, EBUSY, "task `%s` is not running: cannot look up user names in it", id);
        return NULL;
    }
    return xasprintf("/proc/%u/root", resp->process->pid);
}

static int
get_container(struct ctr_global *g, const char *id,
              Berth__Supervisor__V1__GetContainerResponse **resp, struct json_object **spec,
              struct berth_err *err)
{
    Berth__Supervisor__V1__GetContainerRequest req =
        BERTH__SUPERVISOR__V1__GET_CONTAINER_REQUEST__INIT;
    req.id = (char *)id;
    if (ctr_call(g, CONTAINERS, "Get", &req.base, resp, err) < 0)
        return -1;
    Berth__Supervisor__V1__Container *c = (*resp)->container;
    if (!c || c->spec.len == 0)
        return berth_err_fail(err, EINVAL, "container `%s` has no spec", id);
    *spec = berth_json_parse((const char *)c->spec.data, c->spec.len, err);
    if (!*spec)
        return berth_err_wrap(err, "spec of container `%s`", id);
    return 0;
}

static int
delete_process(struct ctr_global *g, const char *id, const char *exec_id, struct berth_err *err)
{
    Berth__Supervisor__V1__DeleteTaskRequest req = BERTH__SUPERVISOR__V1__DELETE_TASK_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__DeleteResponse *resp = NULL;
    req.container_id = (char *)id;
    req.exec_id = (char *)(exec_id ? exec_id : "");
    return ctr_call(g, TASKS, "Delete", &req.base, &resp, err);
}

/* ---------------------------------------------------------------- start */

/* `tasks start -t` of a container made without a terminal. The supervisor gives a task the
 * terminal its spec asks for, whatever the IO says, so the spec is updated first; otherwise
 * the process would get pipes while we read a pty's single output stream, and lose stderr. */
static int
give_terminal(struct ctr_global *g, const char *id, struct json_object *spec, struct berth_err *err)
{
    static char *mask[] = {"spec"};
    Berth__Supervisor__V1__Container c = BERTH__SUPERVISOR__V1__CONTAINER__INIT;
    Berth__Supervisor__V1__UpdateContainerRequest req =
        BERTH__SUPERVISOR__V1__UPDATE_CONTAINER_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__UpdateContainerResponse *resp = NULL;
    size_t len;
    if (ctr_spec_set_terminal(spec, err) < 0)
        return -1;
    const char *json = json_object_to_json_string_length(
        spec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    c.id = (char *)id;
    c.spec.data = (uint8_t *)json;
    c.spec.len = len;
    req.container = &c;
    req.update_mask = mask;
    req.n_update_mask = 1;
    if (ctr_call(g, CONTAINERS, "Update", &req.base, &resp, err) < 0)
        return berth_err_wrap(err, "give container `%s` a terminal", id);
    return 0;
}

static int
cmd_start(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"detach", no_argument, NULL, 'd'},
        {"tty", no_argument, NULL, 't'},
        {"interactive", no_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct ctr_launch l = {0};
    int c;
    while ((c = getopt_long(argc, argv, "+dtih", opts, NULL)) != -1) {
        switch (c) {
        case 'd': l.detach = true; break;
        case 't': l.terminal = true; break;
        case 'i': l.open_stdin = true; break;
        case 'h':
            ctr_usage("tasks start", "[options] ID",
                      "Create and start the task of a container. Unless detached, stay\n"
                      "attached to its stdio (fifos), forward signals to it, delete the task\n"
                      "when it exits and exit with its status. The task gets a terminal when\n"
                      "the container's spec asks for one, or with --tty (which sets\n"
                      "process.terminal in the container's spec).\n",
                      "   --detach, -d       return once the task has started\n"
                      "   --tty, -t          allocate a terminal\n"
                      "   --interactive, -i  keep the process's stdin open even when nothing\n"
                      "                      is attached to it, for a later `tasks attach`\n"
                      "                      (with -d; otherwise a detached process reads EOF)\n");
            return 0;
        default: return ctr_bad_option("tasks start", err);
        }
    }
    l.container_id = ctr_one_arg("tasks start", "container id", argc, argv, err);
    if (!l.container_id)
        return -1;
    cleanup_pb Berth__Supervisor__V1__GetContainerResponse *ctr = NULL;
    cleanup_json struct json_object *spec = NULL;
    if (get_container(g, l.container_id, &ctr, &spec, err) < 0)
        return -1;
    if (l.terminal && !ctr_spec_terminal(spec) && give_terminal(g, l.container_id, spec, err) < 0)
        return -1;
    l.terminal = l.terminal || ctr_spec_terminal(spec);
    int status;
    if (ctr_launch(g, &l, &status, NULL, err) < 0)
        return -1;
    if (!l.detach && delete_process(g, l.container_id, NULL, err) < 0)
        return -1;
    return status;
}

/* ---------------------------------------------------------------- ls */

static int
cmd_ls(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"quiet", no_argument, NULL, 'q'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    Berth__Supervisor__V1__ListTasksRequest req = BERTH__SUPERVISOR__V1__LIST_TASKS_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__ListTasksResponse *resp = NULL;
    enum ctr_format format = CTR_FORMAT_TABLE;
    bool quiet = false;
    int c;
    while ((c = getopt_long(argc, argv, "+qf:h", opts, NULL)) != -1) {
        switch (c) {
        case 'q': quiet = true; break;
        case 'f':
            if (ctr_format_parse(optarg, &format, err) < 0)
                return -1;
            break;
        case 'h':
            ctr_usage("tasks ls", "[options] [FILTER...]",
                      "List tasks. Filters are as for `containers ls`, over the fields of a\n"
                      "process (container_id, status, pid...).\n",
                      "   --quiet, -q                 print only the container ids\n"
                      "   --format FORMAT, -f FORMAT  table or json (default: table)\n");
            return 0;
        default: return ctr_bad_option("tasks ls", err);
        }
    }
    req.n_filters = (size_t)(argc - optind);
    req.filters = argv + optind;
    if (ctr_call(g, TASKS, "List", &req.base, &resp, err) < 0)
        return -1;
    if (format == CTR_FORMAT_JSON) {
        cleanup_json struct json_object *a = json_object_new_array();
        for (size_t i = 0; i < resp->n_tasks; i++)
            json_object_array_add(a, ctr_pbjson(&resp->tasks[i]->base, 0));
        ctr_print_json(a);
        return 0;
    }
    if (quiet) {
        for (size_t i = 0; i < resp->n_tasks; i++)
            puts(resp->tasks[i]->container_id);
        return 0;
    }
    cleanup_table struct ctr_table *t = ctr_table_new(3, "TASK", "PID", "STATUS");
    for (size_t i = 0; i < resp->n_tasks; i++) {
        Berth__Supervisor__V1__Process *p = resp->tasks[i];
        cleanup_free char *pid = xasprintf("%" PRIu32, p->pid);
        ctr_table_add(t, p->container_id, pid, status_name(p->status));
    }
    ctr_table_print(t, stdout);
    return 0;
}

/* ---------------------------------------------------------------- kill */

enum { OPT_EXEC_ID = 256 };

static int
cmd_kill(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"signal", required_argument, NULL, 's'},
        {"all", no_argument, NULL, 'a'},
        {"exec-id", required_argument, NULL, OPT_EXEC_ID},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    Berth__Supervisor__V1__KillRequest req = BERTH__SUPERVISOR__V1__KILL_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__KillResponse *resp = NULL;
    int c, sig = SIGTERM;
    req.exec_id = "";
    while ((c = getopt_long(argc, argv, "+s:ah", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            sig = berth_signal_parse(optarg, err);
            if (sig < 0)
                return -1;
            break;
        case 'a': req.all = true; break;
        case OPT_EXEC_ID: req.exec_id = optarg; break;
        case 'h':
            ctr_usage("tasks kill", "[options] ID", "Send a signal to a task's process.\n",
                      "   --signal SIG, -s SIG  signal, by name (KILL, SIGKILL) or number\n"
                      "                         (default: SIGTERM)\n"
                      "   --all, -a             send it to every process of the container\n"
                      "   --exec-id ID          send it to that exec process\n");
            return 0;
        default: return ctr_bad_option("tasks kill", err);
        }
    }
    req.container_id = (char *)ctr_one_arg("tasks kill", "container id", argc, argv, err);
    if (!req.container_id)
        return -1;
    if (req.all && *req.exec_id)
        return berth_err_fail(err, EINVAL, "--all and --exec-id cannot be used together");
    req.signal = (uint32_t)sig;
    return ctr_call(g, TASKS, "Kill", &req.base, &resp, err) < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------- rm */

/* -f: a process that has not stopped gets SIGKILL first (all of the container's, for the
 * init), and is waited for. */
static int
force_stop(struct ctr_global *g, const char *id, const char *exec_id, struct berth_err *err)
{
    Berth__Supervisor__V1__GetRequest get = BERTH__SUPERVISOR__V1__GET_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__GetResponse *got = NULL;
    get.container_id = (char *)id;
    get.exec_id = (char *)exec_id;
    if (ctr_call(g, TASKS, "Get", &get.base, &got, err) < 0)
        return -1;
    if (!got->process || got->process->status == BERTH__SUPERVISOR__V1__STATUS__STOPPED)
        return 0;
    Berth__Supervisor__V1__KillRequest kill = BERTH__SUPERVISOR__V1__KILL_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__KillResponse *killed = NULL;
    kill.container_id = (char *)id;
    kill.exec_id = (char *)exec_id;
    kill.signal = SIGKILL;
    kill.all = !*exec_id;
    if (ctr_call(g, TASKS, "Kill", &kill.base, &killed, err) < 0)
        return -1;
    Berth__Supervisor__V1__WaitRequest wait = BERTH__SUPERVISOR__V1__WAIT_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__WaitResponse *waited = NULL;
    wait.container_id = (char *)id;
    wait.exec_id = (char *)exec_id;
    return ctr_call_untimed(g, TASKS, "Wait", &wait.base, &waited, err);
}

static int
cmd_rm(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"force", no_argument, NULL, 'f'},
        {"exec-id", required_argument, NULL, OPT_EXEC_ID},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *exec_id = "";
    bool force = false;
    int c;
    while ((c = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
        switch (c) {
        case 'f': force = true; break;
        case OPT_EXEC_ID: exec_id = optarg; break;
        case 'h':
            ctr_usage("tasks rm", "[options] ID...",
                      "Delete stopped tasks (or one exec process of each, with --exec-id).\n",
                      "   --force, -f     kill the process first if it has not stopped\n"
                      "   --exec-id ID    delete that exec process instead of the task\n");
            return 0;
        default: return ctr_bad_option("tasks rm", err);
        }
    }
    if (optind >= argc)
        return berth_err_fail(err, EINVAL, "`tasks rm` requires at least one container id");
    /* Go on after a failure: each is printed, and the exit status says one happened. */
    bool failed = false;
    for (int i = optind; i < argc; i++) {
        if ((force && force_stop(g, argv[i], exec_id, err) < 0) ||
            delete_process(g, argv[i], exec_id, err) < 0) {
            ctr_report(err);
            failed = true;
        }
    }
    return failed ? 1 : 0;
}

/* ---------------------------------------------------------------- exec */

enum { OPT_CWD = 300 };

static int
cmd_exec(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"detach", no_argument, NULL, 'd'},
        {"tty", no_argument, NULL, 't'},
        {"interactive", no_argument, NULL, 'i'},
        {"exec-id", required_argument, NULL, OPT_EXEC_ID},
        {"cwd", required_argument, NULL, OPT_CWD},
        {"env", required_argument, NULL, 'e'},
        {"user", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct ctr_launch l = {0};
    struct ctr_process_opts po = {0};
    cleanup_free char **env = NULL;
    size_t n_env = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+dtie:u:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': l.detach = true; break;
        case 't': po.terminal = true; break;
        case 'i': l.open_stdin = true; break;
        case OPT_EXEC_ID: l.exec_id = optarg; break;
        case OPT_CWD: po.cwd = optarg; break;
        case 'e': ctr_strv_push(&env, &n_env, optarg); break;
        case 'u': po.user = optarg; break;
        case 'h':
            ctr_usage("tasks exec", "[options] --exec-id ID CONTAINER CMD [ARGS...]",
                      "Run another process in a running task, with the container's process\n"
                      "settings unless overridden. Unless detached, stay attached to it,\n"
                      "delete it when it exits and exit with its status.\n",
                      "   --exec-id ID              id of the new process (required)\n"
                      "   --detach, -d              return once the process has started\n"
                      "   --tty, -t                 allocate a terminal\n"
                      "   --interactive, -i         keep the process's stdin open even when\n"
                      "                             nothing is attached to it, for a later\n"
                      "                             `tasks attach` (with -d; otherwise a\n"
                      "                             detached process reads EOF)\n"
                      "   --cwd DIR                 working directory\n"
                      "   --env KEY=VALUE, -e ...   set an environment variable (repeatable)\n"
                      "   --user UID[:GID], -u ...  user (or NAME[:GROUP] from the rootfs)\n");
            return 0;
        default: return ctr_bad_option("tasks exec", err);
        }
    }
    if (!l.exec_id || !*l.exec_id)
        return berth_err_fail(err, EINVAL, "`tasks exec` requires --exec-id");
    if (argc - optind < 2)
        return berth_err_fail(err, EINVAL, "`tasks exec` requires a container id and a command");
    l.container_id = argv[optind];
    po.args = argv + optind + 1;
    po.env = env;
    cleanup_pb Berth__Supervisor__V1__GetContainerResponse *ctr = NULL;
    cleanup_json struct json_object *spec = NULL;
    if (get_container(g, l.container_id, &ctr, &spec, err) < 0)
        return -1;
    cleanup_free char *task_root = NULL;
    const char *rootfs =
        ctr->container->rootfs && *ctr->container->rootfs ? ctr->container->rootfs : NULL;
    if (!rootfs && po.user && !ctr_spec_user_is_numeric(po.user)) {
        task_root = running_root(g, l.container_id, err);
        if (!task_root)
            return -1;
        rootfs = task_root;
    }
    cleanup_json struct json_object *process = ctr_spec_exec_process(spec, rootfs, &po, err);
    if (!process)
        return -1;
    l.terminal = po.terminal;
    l.exec_spec = json_object_to_json_string_ext(process, JSON_C_TO_STRING_PLAIN |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE);
    int status;
    if (ctr_launch(g, &l, &status, NULL, err) < 0)
        return -1;
    if (!l.detach && delete_process(g, l.container_id, l.exec_id, err) < 0)
        return -1;
    return status;
}

/* ---------------------------------------------------------------- ps, pause, resume */

static int
cmd_ps(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    Berth__Supervisor__V1__ListPidsRequest req = BERTH__SUPERVISOR__V1__LIST_PIDS_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__ListPidsResponse *resp = NULL;
    int r = ctr_parse_no_options("tasks ps", "ID",
                                 "List the processes of a task (INFO: the exec id of an exec's "
                                 "process).\n",
                                 argc, argv, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    req.container_id = (char *)ctr_one_arg("tasks ps", "container id", argc, argv, err);
    if (!req.container_id)
        return -1;
    if (ctr_call(g, TASKS, "ListPids", &req.base, &resp, err) < 0)
        return -1;
    cleanup_table struct ctr_table *t = ctr_table_new(2, "PID", "INFO");
    for (size_t i = 0; i < resp->n_processes; i++) {
        Berth__Supervisor__V1__ProcessInfo *p = resp->processes[i];
        cleanup_free char *pid = xasprintf("%" PRIu32, p->pid);
        ctr_table_add(t, pid, p->exec_id && *p->exec_id ? p->exec_id : "-");
    }
    ctr_table_print(t, stdout);
    return 0;
}

static int
pause_resume(struct ctr_global *g, bool pause, int argc, char **argv, struct berth_err *err)
{
    const char *cmd = pause ? "tasks pause" : "tasks resume";
    int r = ctr_parse_no_options(
        cmd, "ID", pause ? "Pause (freeze) every process of a task.\n" : "Resume a paused task.\n",
        argc, argv, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    char *id = (char *)ctr_one_arg(cmd, "container id", argc, argv, err);
    if (!id)
        return -1;
    if (pause) {
        Berth__Supervisor__V1__PauseTaskRequest req =
            BERTH__SUPERVISOR__V1__PAUSE_TASK_REQUEST__INIT;
        cleanup_pb Berth__Supervisor__V1__PauseTaskResponse *resp = NULL;
        req.container_id = id;
        return ctr_call(g, TASKS, "Pause", &req.base, &resp, err) < 0 ? -1 : 0;
    }
    Berth__Supervisor__V1__ResumeTaskRequest req = BERTH__SUPERVISOR__V1__RESUME_TASK_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__ResumeTaskResponse *resp = NULL;
    req.container_id = id;
    return ctr_call(g, TASKS, "Resume", &req.base, &resp, err) < 0 ? -1 : 0;
}

static int
cmd_pause(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    return pause_resume(g, true, argc, argv, err);
}

static int
cmd_resume(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    return pause_resume(g, false, argc, argv, err);
}

/* ---------------------------------------------------------------- metrics */

/* The figures of the table: a path into the stats document and the name shown. */
static const struct {
    const char *name;
    const char *path[4];
} figures[] = {
    {"memory.usage", {"memory", "usage", "usage", NULL}},
    {"memory.limit", {"memory", "usage", "limit", NULL}},
    {"memory.max_usage", {"memory", "usage", "max", NULL}},
    {"memory.cache", {"memory", "cache", NULL}},
    {"cpu.usage.total", {"cpu", "usage", "total", NULL}},
    {"cpu.usage.kernel", {"cpu", "usage", "kernel", NULL}},
    {"cpu.usage.user", {"cpu", "usage", "user", NULL}},
    {"pids.current", {"pids", "current", NULL}},
    {"pids.limit", {"pids", "limit", NULL}},
};

static struct json_object *
lookup(struct json_object *o, const char *const *path)
{
    for (; o && *path; path++)
        if (!json_object_object_get_ex(o, *path, &o))
            return NULL;
    return o;
}

static void
print_metric_table(const Berth__Supervisor__V1__Metric *m, struct json_object *data)
{
    cleanup_free char *ts = ctr_time_format(m->timestamp);
    cleanup_table struct ctr_table *head = ctr_table_new(2, "ID", "TIMESTAMP");
    ctr_table_add(head, m->id, ts);
    ctr_table_print(head, stdout);
    putchar('\n');
    /* `ocirun events --stats` wraps the figures: {"type":"stats","id":..,"data":{...}}. */
    struct json_object *inner = NULL;
    if (json_object_object_get_ex(data, "data", &inner) &&
        json_object_is_type(inner, json_type_object))
        data = inner;
    cleanup_table struct ctr_table *t = ctr_table_new(2, "METRIC", "VALUE");
    for (size_t i = 0; i < ARRAY_SIZE(figures); i++) {
        struct json_object *v = lookup(data, figures[i].path);
        if (v && !json_object_is_type(v, json_type_object) &&
            !json_object_is_type(v, json_type_array))
            ctr_table_add(t, figures[i].name, json_object_get_string(v));
    }
    ctr_table_print(t, stdout);
}

static int
cmd_metrics(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    Berth__Supervisor__V1__MetricsRequest req = BERTH__SUPERVISOR__V1__METRICS_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__MetricsResponse *resp = NULL;
    enum ctr_format format = CTR_FORMAT_TABLE;
    int c;
    while ((c = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (ctr_format_parse(optarg, &format, err) < 0)
                return -1;
            break;
        case 'h':
            ctr_usage("tasks metrics", "[options] ID",
                      "Print a task's resource usage: a few figures as a table, or the whole\n"
                      "stats document as JSON.\n",
                      "   --format FORMAT, -f FORMAT  table or json (default: table)\n");
            return 0;
        default: return ctr_bad_option("tasks metrics", err);
        }
    }
    const char *id = ctr_one_arg("tasks metrics", "container id", argc, argv, err);
    if (!id)
        return -1;
    cleanup_free char *filter = xasprintf("container_id==%s", id);
    req.filters = &filter;
    req.n_filters = 1;
    if (ctr_call(g, TASKS, "Metrics", &req.base, &resp, err) < 0)
        return -1;
    const Berth__Supervisor__V1__Metric *m = NULL;
    for (size_t i = 0; i < resp->n_metrics && !m; i++)
        if (resp->metrics[i]->id && strcmp(resp->metrics[i]->id, id) == 0)
            m = resp->metrics[i];
    if (!m)
        return berth_err_fail(err, ENOENT, "no metrics for task `%s`", id);
    if (format == CTR_FORMAT_JSON) {
        cleanup_json struct json_object *j = ctr_pbjson(&m->base, 0);
        ctr_print_json(j);
        return 0;
    }
    struct berth_err parse_err = BERTH_ERR_INIT;
    cleanup_json struct json_object *data =
        berth_json_parse((const char *)m->data.data, m->data.len, &parse_err);
    if (!data) {
        berth_err_wrap(&parse_err, "metrics of task `%s`", id);
        *err = parse_err;
        return -1;
    }
    print_metric_table(m, data);
    return 0;
}

/* ---------------------------------------------------------------- wait */

static int
cmd_wait(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"exec-id", required_argument, NULL, OPT_EXEC_ID},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    Berth__Supervisor__V1__WaitRequest req = BERTH__SUPERVISOR__V1__WAIT_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__WaitResponse *resp = NULL;
    int c;
    req.exec_id = "";
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_EXEC_ID: req.exec_id = optarg; break;
        case 'h':
            ctr_usage("tasks wait", "[options] ID",
                      "Wait for a task's process to exit (at once if it has), and print its\n"
                      "exit status.\n",
                      "   --exec-id ID    wait for that exec process instead\n");
            return 0;
        default: return ctr_bad_option("tasks wait", err);
        }
    }
    req.container_id = (char *)ctr_one_arg("tasks wait", "container id", argc, argv, err);
    if (!req.container_id)
        return -1;
    if (ctr_call_untimed(g, TASKS, "Wait", &req.base, &resp, err) < 0)
        return -1;
    printf("%" PRIu32 "\n", resp->exit_status);
    return 0;
}

/* ---------------------------------------------------------------- attach */

static int
cmd_attach(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    enum { OPT_NO_STDIN = 400 };
    static const struct option opts[] = {
        {"exec-id", required_argument, NULL, OPT_EXEC_ID},
        {"no-stdin", no_argument, NULL, OPT_NO_STDIN},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct ctr_attach_opts o = {0};
    int c;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_EXEC_ID: o.exec_id = optarg; break;
        case OPT_NO_STDIN: o.no_stdin = true; break;
        case 'h':
            ctr_usage(
                "tasks attach", "[options] ID",
                "Attach to the stdio of a running process through its shim. The process's\n"
                "output is shown and the local stdin sent to it; when the local stdin ends,\n"
                "the process's stdin is closed (use --no-stdin to leave it alone). A process\n"
                "started detached has input to read only if it was started with -i.\n"
                "\n"
                "Ends with the process's exit status when it exits. SIGINT (Ctrl-C without a\n"
                "terminal), SIGTERM or SIGHUP detach and exit 0, leaving the process running;\n"
                "on a terminal, Ctrl-C goes to the process and Ctrl-P Ctrl-Q detaches. Exit\n"
                "status 1: an error, such as the socket closing before the process exited.\n",
                "   --exec-id ID    attach to that exec process instead of the task's init\n"
                "   --no-stdin      do not send the local stdin\n");
            return 0;
        default: return ctr_bad_option("tasks attach", err);
        }
    }
    o.container_id = ctr_one_arg("tasks attach", "container id", argc, argv, err);
    if (!o.container_id)
        return -1;
    int status;
    if (ctr_attach(g, &o, &status, err) < 0)
        return -1;
    return status;
}

static const struct ctr_cmd commands[] = {
    {"start", NULL, cmd_start, "create and start a container's task"},
    {"ls", "list", cmd_ls, "list tasks"},
    {"kill", NULL, cmd_kill, "signal a task's process"},
    {"rm", "delete del remove", cmd_rm, "delete stopped tasks"},
    {"exec", NULL, cmd_exec, "run another process in a task"},
    {"ps", NULL, cmd_ps, "list a task's processes"},
    {"pause", NULL, cmd_pause, "pause a task"},
    {"resume", NULL, cmd_resume, "resume a paused task"},
    {"metrics", "metric", cmd_metrics, "print a task's resource usage"},
    {"attach", NULL, cmd_attach, "attach to a running task's stdio"},
    {"wait", NULL, cmd_wait, "wait for a task's process to exit"},
};

int
ctr_cmd_tasks(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    return ctr_dispatch("tasks", "Manage tasks: the running side of containers.", commands,
                        ARRAY_SIZE(commands), g, argc, argv, err);
}
