/* SPDX-License-Identifier: Apache-2.0
 *
 * The container lifecycle commands that are one call per container: start, stop, restart,
 * kill, rm, pause, unpause, wait, rename, top, port, stats; attach; and the `container`
 * group, which maps its subcommands onto the top-level ones.
 */
#include "engine/cli/container.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/cli/cli.h"
#include "engine/cli/flags.h"
#include "engine/cli/format.h"
#include "engine/cli/http.h"
#include "engine/cli/output.h"
#include "engine/cli/stream.h"
#include "engine/cli/units.h"

int
cli_container_inspect(const struct cli_global *g, const char *id, struct json_object **out,
                      struct berth_err *err)
{
    cleanup_free char *path = xasprintf("/containers/%s/json", id);
    return cli_api(g, "GET", path, NULL, out, err);
}

/* The wait request; cancel (may be NULL) abandons it when it turns true; on_status (may be
 * NULL) hears when the daemon has taken the request in. */
static int
wait_request(const struct cli_global *g, const char *id, const char *condition, int64_t *code,
             const volatile bool *cancel, void (*on_status)(void *, long), void *opaque,
             struct berth_err *err)
{
    cleanup_free char *path = xasprintf("/containers/%s/wait%s%s", id,
                                        condition ? "?condition=" : "", condition ? condition : "");
    struct cli_request req = {.method = "POST",
                              .path = path,
                              .cancel = cancel,
                              .on_status = on_status,
                              .status_opaque = opaque};
    struct cli_response resp;
    if (cli_http_do(g, &req, &resp, err) < 0) {
        cli_response_free(&resp);
        return -1;
    }
    cleanup_json struct json_object *r =
        berth_json_parse(resp.body ? resp.body : "", resp.body_len, err);
    cli_response_free(&resp);
    if (!r)
        return berth_err_wrap(err, "wait for `%s`: the daemon's answer", id);
    struct json_object *sc = NULL, *e = NULL, *m = NULL;
    if (json_object_object_get_ex(r, "Error", &e) && e &&
        json_object_object_get_ex(e, "Message", &m) && json_object_get_string_len(m) > 0)
        return berth_err_fail(err, EIO, "Error waiting for container: %s",
                              json_object_get_string(m));
    if (!json_object_object_get_ex(r, "StatusCode", &sc))
        return berth_err_fail(err, EPROTO, "wait for `%s`: no StatusCode in the answer", id);
    *code = json_object_get_int64(sc);
    return 0;
}

int
cli_container_wait(const struct cli_global *g, const char *id, const char *condition, int64_t *code,
                   struct berth_err *err)
{
    return wait_request(g, id, condition, code, NULL, NULL, NULL, err);
}

/* The wait runs on its own thread and connection: it must be asked before the start, and it
 * answers only when the container is done. The daemon answers its headers as soon as the
 * waiter is registered (as dockerd does), which is when the start may go: `taken` turns true
 * then, or when the request ended early. cancel abandons it when the run fails first. */
struct waiter {
    const struct cli_global *g;
    const char *id;
    const char *condition;
    int64_t code;
    struct berth_err err;
    int rc;
    volatile bool cancel;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool taken;
};

static void
wait_taken(void *opaque, long status)
{
    struct waiter *w = opaque;
    pthread_mutex_lock(&w->lock);
    w->taken = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static void *
wait_thread(void *opaque)
{
    struct waiter *w = opaque;
    w->rc = wait_request(w->g, w->id, w->condition, &w->code, &w->cancel, wait_taken, w, &w->err);
    wait_taken(w, 0);
    return NULL;
}

/* Until the daemon has the wait, at most a few seconds (a daemon that holds back its
 * headers still gets its start, late). */
static void
wait_until_taken(struct waiter *w)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&w->lock);
    while (!w->taken)
        if (pthread_cond_timedwait(&w->cond, &w->lock, &until) != 0)
            break;
    pthread_mutex_unlock(&w->lock);
}

int
cli_container_attach_run(const struct cli_global *g, const char *id, bool start, bool tty,
                         bool use_stdin, bool wait, const char *wait_condition, bool sig_proxy,
                         const char *detach_keys, int64_t *code, struct berth_err *err)
{
    bool detached = false;
    struct cli_hijack h;
    cleanup_free char *resize = xasprintf("/containers/%s/resize", id);
    cleanup_free char *kill = xasprintf("/containers/%s/kill", id);
    cleanup_free char *path = xasprintf("/containers/%s/attach?stream=1&stdout=1&stderr=1%s", id,
                                        use_stdin ? "&stdin=1" : "");
    if (cli_hijack_open(g, "POST", path, NULL, &h, err) < 0)
        return -1;
    struct waiter w = {.g = g,
                       .id = id,
                       .condition = wait_condition,
                       .err = BERTH_ERR_INIT,
                       .lock = PTHREAD_MUTEX_INITIALIZER,
                       .cond = PTHREAD_COND_INITIALIZER};
    pthread_t th;
    bool waiting = false;
    int rc = -1;
    if (wait) {
        if (pthread_create(&th, NULL, wait_thread, &w) != 0) {
            berth_err_set(err, errno, "start the wait");
            goto out;
        }
        waiting = true;
        wait_until_taken(&w);
    }
    if (start) {
        cleanup_free char *spath = xasprintf("/containers/%s/start", id);
        if (cli_api(g, "POST", spath, NULL, NULL, err) < 0)
            goto out;
    }
    struct cli_pump_opts o = {.tty = tty,
                              .use_stdin = use_stdin,
                              .resize = tty ? resize : NULL,
                              .kill = sig_proxy ? kill : NULL,
                              .detach_keys = detach_keys};
    if (cli_hijack_pump(g, &h, &o, &detached, err) < 0)
        goto out;
    rc = 0;
out:
    cli_hijack_close(&h);
    if (waiting) {
        /* After a failure or a detach the container may never exit: do not hang on it. */
        if (rc < 0 || detached)
            w.cancel = true;
        pthread_join(th, NULL);
        if (detached) {
            *code = 0;
            berth_err_clear(&w.err);
            return rc;
        }
        if (rc == 0 && w.rc < 0) {
            berth_err_fail(err, w.err.code, "%s", w.err.msg);
            rc = -1;
        }
        if (rc == 0)
            *code = w.code;
        berth_err_clear(&w.err);
    }
    return rc;
}

/* ---- one call per container ---------------------------------------------------------------- */

/* Run path_fmt (with the container's name in it) for every operand, printing the operand on
 * success and each failure as it comes, as docker does. */
static int
each(struct cli_global *g, const struct cli_args *args, const char *method, const char *fmt,
     const char *query, struct berth_err *err)
{
    int status = 0;
    for (int i = 0; i < args->n; i++) {
        cleanup_free char *path = xasprintf(fmt, args->v[i]);
        cleanup_free char *full = xasprintf("%s%s", path, query ? query : "");
        if (cli_api(g, method, full, NULL, NULL, err) < 0) {
            cli_report_error(err);
            status = CLI_EXIT_FAIL;
            continue;
        }
        printf("%s\n", args->v[i]);
    }
    return status;
}

static int
simple(struct cli_global *g, int argc, char **argv, const char *cmd, const char *summary,
       const char *method, const char *fmt, struct berth_err *err)
{
    struct cli_args args;
    if (cli_flags_parse(cmd, NULL, 0, argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth %s CONTAINER [CONTAINER...]\n\n%s\n", cmd, summary);
        return 0;
    }
    if (cli_args_count(cmd, &args, 1, -1, err) < 0)
        return CLI_EXIT_USAGE;
    return each(g, &args, method, fmt, NULL, err);
}

int
cli_cmd_pause(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    return simple(g, argc, argv, "pause", "Pause all processes within one or more containers",
                  "POST", "/containers/%s/pause", err);
}

int
cli_cmd_unpause(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    return simple(g, argc, argv, "unpause", "Unpause all processes within one or more containers",
                  "POST", "/containers/%s/unpause", err);
}

static int
stop_restart(struct cli_global *g, int argc, char **argv, const char *cmd, struct berth_err *err)
{
    long long t = 0;
    bool t_set = false;
    const char *signal = NULL;
    const struct cli_flag flags[] = {{"time", 't', CLI_FLAG_INT, &t, &t_set},
                                     {"signal", 's', CLI_FLAG_STRING, &signal, NULL}};
    struct cli_args args;
    if (cli_flags_parse(cmd, flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth %s [OPTIONS] CONTAINER [CONTAINER...]\n\nOptions:\n"
               "  -s, --signal string   Signal to send to the container\n"
               "  -t, --time int        Seconds to wait before killing the container\n",
               cmd);
        return 0;
    }
    if (cli_args_count(cmd, &args, 1, -1, err) < 0)
        return CLI_EXIT_USAGE;
    cleanup_free char *e_sig = signal ? cli_escape(signal) : NULL;
    cleanup_free char *q = NULL;
    if (t_set && signal)
        q = xasprintf("?t=%lld&signal=%s", t, e_sig);
    else if (t_set)
        q = xasprintf("?t=%lld", t);
    else if (signal)
        q = xasprintf("?signal=%s", e_sig);
    const char *fmt =
        strcmp(cmd, "restart") == 0 ? "/containers/%s/restart" : "/containers/%s/stop";
    return each(g, &args, "POST", fmt, q, err);
}

int
cli_cmd_stop(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    return stop_restart(g, argc, argv, "stop", err);
}

int
cli_cmd_restart(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    return stop_restart(g, argc, argv, "restart", err);
}

int
cli_cmd_kill(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    const char *signal = NULL;
    const struct cli_flag flags[] = {{"signal", 's', CLI_FLAG_STRING, &signal, NULL}};
    struct cli_args args;
    if (cli_flags_parse("kill", flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth kill [OPTIONS] CONTAINER [CONTAINER...]\n\nOptions:\n"
               "  -s, --signal string   Signal to send to the container\n");
        return 0;
    }
    if (cli_args_count("kill", &args, 1, -1, err) < 0)
        return CLI_EXIT_USAGE;
    cleanup_free char *e = signal ? cli_escape(signal) : NULL;
    cleanup_free char *q = signal ? xasprintf("?signal=%s", e) : NULL;
    return each(g, &args, "POST", "/containers/%s/kill", q, err);
}

int
cli_cmd_rm(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    bool force = false, volumes = false, link = false;
    const struct cli_flag flags[] = {{"force", 'f', CLI_FLAG_BOOL, &force, NULL},
                                     {"volumes", 'v', CLI_FLAG_BOOL, &volumes, NULL},
                                     {"link", 'l', CLI_FLAG_BOOL, &link, NULL}};
    struct cli_args args;
    if (cli_flags_parse("rm", flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth rm [OPTIONS] CONTAINER [CONTAINER...]\n\nRemove one or more "
               "containers\n\nOptions:\n"
               "  -f, --force     Force the removal of a running container (uses SIGKILL)\n"
               "  -v, --volumes   Remove anonymous volumes associated with the container\n");
        return 0;
    }
    if (cli_args_count("rm", &args, 1, -1, err) < 0)
        return CLI_EXIT_USAGE;
    if (link) {
        berth_err_fail(err, ENOTSUP, "Error: links are not supported");
        return CLI_EXIT_FAIL;
    }
    cleanup_free char *q = xasprintf("?force=%d&v=%d", force ? 1 : 0, volumes ? 1 : 0);
    return each(g, &args, "DELETE", "/containers/%s", q, err);
}

int
cli_cmd_wait(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    struct cli_args args;
    if (cli_flags_parse("wait", NULL, 0, argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth wait CONTAINER [CONTAINER...]\n\nBlock until one or more "
               "containers stop, then print their exit codes\n");
        return 0;
    }
    if (cli_args_count("wait", &args, 1, -1, err) < 0)
        return CLI_EXIT_USAGE;
    int status = 0;
    for (int i = 0; i < args.n; i++) {
        int64_t code;
        if (cli_container_wait(g, args.v[i], NULL, &code, err) < 0) {
            cli_report_error(err);
            status = CLI_EXIT_FAIL;
            continue;
        }
        printf("%lld\n", (long long)code);
    }
    return status;
}

int
cli_cmd_rename(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    struct cli_args args;
    if (cli_flags_parse("rename", NULL, 0, argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth rename CONTAINER NEW_NAME\n\nRename a container\n");
        return 0;
    }
    if (cli_args_count("rename", &args, 2, 2, err) < 0)
        return CLI_EXIT_USAGE;
    if (!*args.v[1]) {
        berth_err_fail(err, EINVAL, "Error: Neither old nor new names may be empty");
        return CLI_EXIT_FAIL;
    }
    cleanup_free char *e = cli_escape(args.v[1]);
    cleanup_free char *path = xasprintf("/containers/%s/rename?name=%s", args.v[0], e);
    return cli_api(g, "POST", path, NULL, NULL, err) < 0 ? CLI_EXIT_FAIL : 0;
}

int
cli_cmd_top(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    struct cli_args args;
    if (cli_flags_parse("top", NULL, 0, argc, argv, true, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth top CONTAINER [ps OPTIONS]\n\nDisplay the running processes of a "
               "container\n");
        return 0;
    }
    if (cli_args_count("top", &args, 1, -1, err) < 0)
        return CLI_EXIT_USAGE;
    cleanup_free char *ps_args = xstrdup("");
    for (int i = 1; i < args.n; i++) {
        char *more = xasprintf("%s%s%s", ps_args, i > 1 ? " " : "", args.v[i]);
        free(ps_args);
        ps_args = more;
    }
    cleanup_free char *e = cli_escape(ps_args);
    cleanup_free char *path =
        xasprintf("/containers/%s/top%s%s", args.v[0], *ps_args ? "?ps_args=" : "", e);
    cleanup_json struct json_object *r = NULL;
    if (cli_api(g, "GET", path, NULL, &r, err) < 0)
        return CLI_EXIT_FAIL;
    struct json_object *titles = NULL, *procs = NULL;
    json_object_object_get_ex(r, "Titles", &titles);
    json_object_object_get_ex(r, "Processes", &procs);
    size_t n_lines = 1 + (procs ? json_object_array_length(procs) : 0), k = 0;
    char **lines = xzalloc(n_lines * sizeof(*lines));
    for (size_t row = 0; row < n_lines; row++) {
        struct json_object *cells = row == 0 ? titles : json_object_array_get_idx(procs, row - 1);
        char *line = xstrdup("");
        for (size_t c = 0; cells && c < json_object_array_length(cells); c++) {
            char *more = xasprintf("%s%s%s", line, c ? "\t" : "",
                                   json_object_get_string(json_object_array_get_idx(cells, c)));
            free(line);
            line = more;
        }
        lines[k++] = line;
    }
    cli_table_print(stdout, lines, k);
    for (size_t i = 0; i < k; i++)
        free(lines[i]);
    free(lines);
    return 0;
}

/* One "HostIp:HostPort" as docker joins them ("[::]:8080" for an IPv6 address), after
 * "80/tcp -> " when key is given. Heap. */
static char *
binding_line(const char *key, struct json_object *b)
{
    const char *ip = cli_json_str(b, "HostIp"), *port = cli_json_str(b, "HostPort");
    bool v6 = strchr(ip, ':') != NULL;
    return xasprintf("%s%s%s%s%s:%s", key ? key : "", key ? " -> " : "", v6 ? "[" : "", ip,
                     v6 ? "]" : "", port);
}

/* Natural order, as docker sorts port's lines: runs of digits compare as numbers, so that
 * "8/tcp" comes before "80/tcp" and "9000" before "10000". */
static int
natural_cmp(const void *pa, const void *pb)
{
    const char *a = *(char *const *)pa, *b = *(char *const *)pb;
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            char *ea, *eb;
            unsigned long long x = strtoull(a, &ea, 10), y = strtoull(b, &eb, 10);
            if (x != y)
                return x < y ? -1 : 1;
            a = ea;
            b = eb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

int
cli_cmd_port(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    struct cli_args args;
    if (cli_flags_parse("port", NULL, 0, argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth port CONTAINER [PRIVATE_PORT[/PROTO]]\n\nList port mappings or a "
               "specific mapping for the container\n");
        return 0;
    }
    if (cli_args_count("port", &args, 1, 2, err) < 0)
        return CLI_EXIT_USAGE;
    /* "80" means "80/tcp", as docker reads it. */
    cleanup_free char *want = NULL;
    if (args.n == 2)
        want = strchr(args.v[1], '/') ? xstrdup(args.v[1]) : xasprintf("%s/tcp", args.v[1]);
    cleanup_json struct json_object *c = NULL;
    if (cli_container_inspect(g, args.v[0], &c, err) < 0)
        return CLI_EXIT_FAIL;
    struct json_object *ns = NULL, *ports = NULL;
    json_object_object_get_ex(c, "NetworkSettings", &ns);
    if (ns)
        json_object_object_get_ex(ns, "Ports", &ports);
    if (ports && !json_object_is_type(ports, json_type_object))
        ports = NULL;
    if (want) {
        /* Only the addresses, one a line; an exposed port not published (null) is none. */
        struct json_object *binds = NULL;
        if (!ports || !json_object_object_get_ex(ports, want, &binds) ||
            !json_object_is_type(binds, json_type_array) || !json_object_array_length(binds)) {
            berth_err_fail(err, ENOENT, "Error: No public port '%s' published for %s", want,
                           args.v[0]);
            return CLI_EXIT_FAIL;
        }
        for (size_t i = 0; i < json_object_array_length(binds); i++) {
            cleanup_free char *line = binding_line(NULL, json_object_array_get_idx(binds, i));
            printf("%s\n", line);
        }
        return 0;
    }
    struct cli_strv lines = {0};
    if (ports) {
        json_object_object_foreach(ports, key, binds)
        {
            for (size_t i = 0;
                 json_object_is_type(binds, json_type_array) && i < json_object_array_length(binds);
                 i++)
                cli_strv_add(&lines, binding_line(key, json_object_array_get_idx(binds, i)));
        }
    }
    if (lines.n)
        qsort(lines.items, lines.n, sizeof(*lines.items), natural_cmp);
    for (size_t i = 0; i < lines.n; i++) {
        printf("%s\n", lines.items[i]);
        free((char *)lines.items[i]);
    }
    cli_strv_free(&lines);
    return 0;
}

/* ---- stats ----------------------------------------------------------------------------------- */

static int64_t
num_at(struct json_object *o, const char *a, const char *b, const char *c)
{
    const char *keys[] = {a, b, c};
    for (size_t i = 0; i < 3 && keys[i] && o; i++) {
        struct json_object *n = NULL;
        o = json_object_object_get_ex(o, keys[i], &n) ? n : NULL;
    }
    return o ? json_object_get_int64(o) : 0;
}

/* docker stats shows memory in binary units ("548.9KiB / 1.944GiB"), unlike its I/O. */
static char *
binary_size(double bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    size_t i = 0;
    while (bytes >= 1024 && i + 1 < ARRAY_SIZE(units)) {
        bytes /= 1024;
        i++;
    }
    return xasprintf("%.4g%s", bytes, units[i]);
}

/* "rx / tx" over every network of the document, decimal as docker. */
static char *
net_io(struct json_object *s)
{
    double rx = 0, tx = 0;
    struct json_object *nets = NULL;
    if (json_object_object_get_ex(s, "networks", &nets) &&
        json_object_is_type(nets, json_type_object)) {
        json_object_object_foreach(nets, key, n)
        {
            (void)key;
            rx += (double)num_at(n, "rx_bytes", NULL, NULL);
            tx += (double)num_at(n, "tx_bytes", NULL, NULL);
        }
    }
    cleanup_free char *r = cli_human_size(rx), *t = cli_human_size(tx);
    return xasprintf("%s / %s", r, t);
}

/* "read / written" from blkio_stats.io_service_bytes_recursive, decimal as docker. */
static char *
block_io(struct json_object *s)
{
    double rd = 0, wr = 0;
    struct json_object *b = NULL, *v = NULL;
    if (json_object_object_get_ex(s, "blkio_stats", &b) &&
        json_object_object_get_ex(b, "io_service_bytes_recursive", &v) &&
        json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            struct json_object *e = json_object_array_get_idx(v, i), *op = NULL;
            if (!json_object_object_get_ex(e, "op", &op))
                continue;
            const char *o = json_object_get_string(op);
            if (strcasecmp(o, "read") == 0)
                rd += (double)num_at(e, "value", NULL, NULL);
            else if (strcasecmp(o, "write") == 0)
                wr += (double)num_at(e, "value", NULL, NULL);
        }
    }
    cleanup_free char *r = cli_human_size(rd), *w = cli_human_size(wr);
    return xasprintf("%s / %s", r, w);
}

static struct json_object *
stats_row(const char *name, struct json_object *s, bool no_trunc)
{
    double cpu = 0;
    int64_t cpu_delta = num_at(s, "cpu_stats", "cpu_usage", "total_usage") -
                        num_at(s, "precpu_stats", "cpu_usage", "total_usage");
    int64_t sys_delta = num_at(s, "cpu_stats", "system_cpu_usage", NULL) -
                        num_at(s, "precpu_stats", "system_cpu_usage", NULL);
    int64_t ncpu = num_at(s, "cpu_stats", "online_cpus", NULL);
    if (ncpu <= 0)
        ncpu = 1;
    if (cpu_delta > 0 && sys_delta > 0)
        cpu = (double)cpu_delta / (double)sys_delta * (double)ncpu * 100.0;
    /* Memory as docker shows it: usage less the inactive file cache (total_inactive_file on
     * cgroup v1, inactive_file on v2). */
    int64_t usage = num_at(s, "memory_stats", "usage", NULL);
    int64_t inactive = num_at(s, "memory_stats", "stats", "total_inactive_file");
    if (inactive <= 0)
        inactive = num_at(s, "memory_stats", "stats", "inactive_file");
    if (inactive > 0 && inactive < usage)
        usage -= inactive;
    int64_t limit = num_at(s, "memory_stats", "limit", NULL);
    struct json_object *row = json_object_new_object();
    struct json_object *id = NULL;
    json_object_object_get_ex(s, "id", &id);
    cleanup_free char *sid = cli_short_id(id ? json_object_get_string(id) : name, no_trunc);
    cleanup_free char *cpu_s = xasprintf("%.2f%%", cpu);
    cleanup_free char *mu = binary_size((double)usage);
    cleanup_free char *ml = binary_size((double)limit);
    cleanup_free char *nio = net_io(s);
    cleanup_free char *bio = block_io(s);
    cleanup_free char *mem = xasprintf("%s / %s", mu, ml);
    cleanup_free char *memp =
        xasprintf("%.2f%%", limit > 0 ? (double)usage / (double)limit * 100.0 : 0.0);
    cleanup_free char *pids =
        xasprintf("%lld", (long long)num_at(s, "pids_stats", "current", NULL));
    struct json_object *nm = NULL;
    json_object_object_get_ex(s, "name", &nm);
    const char *n = nm ? json_object_get_string(nm) : name;
    json_object_object_add(row, "ID", json_object_new_string(sid));
    json_object_object_add(row, "Container", json_object_new_string(name));
    json_object_object_add(row, "Name", json_object_new_string(n[0] == '/' ? n + 1 : n));
    json_object_object_add(row, "CPUPerc", json_object_new_string(cpu_s));
    json_object_object_add(row, "MemUsage", json_object_new_string(mem));
    json_object_object_add(row, "MemPerc", json_object_new_string(memp));
    json_object_object_add(row, "NetIO", json_object_new_string(nio));
    json_object_object_add(row, "BlockIO", json_object_new_string(bio));
    json_object_object_add(row, "PIDs", json_object_new_string(pids));
    return row;
}

int
cli_cmd_stats(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    bool all = false, no_stream = false, no_trunc = false;
    const char *format = NULL;
    const struct cli_flag flags[] = {{"all", 'a', CLI_FLAG_BOOL, &all, NULL},
                                     {"no-stream", 0, CLI_FLAG_BOOL, &no_stream, NULL},
                                     {"no-trunc", 0, CLI_FLAG_BOOL, &no_trunc, NULL},
                                     {"format", 0, CLI_FLAG_STRING, &format, NULL}};
    static const struct cli_column cols[] = {
        {"ID", "CONTAINER ID"}, {"Container", "CONTAINER"},        {"Name", "NAME"},
        {"CPUPerc", "CPU %"},   {"MemUsage", "MEM USAGE / LIMIT"}, {"MemPerc", "MEM %"},
        {"NetIO", "NET I/O"},   {"BlockIO", "BLOCK I/O"},          {"PIDs", "PIDS"}};
    struct cli_args args;
    if (cli_flags_parse("stats", flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth stats [OPTIONS] [CONTAINER...]\n\nDisplay a live stream of "
               "container(s) resource usage statistics\n");
        return 0;
    }
    /* Which containers: those named, else the running ones (all with -a). */
    cleanup_json struct json_object *names = json_object_new_array();
    if (args.n) {
        for (int i = 0; i < args.n; i++)
            json_object_array_add(names, json_object_new_string(args.v[i]));
    } else {
        cleanup_json struct json_object *list = NULL;
        cleanup_free char *path = xasprintf("/containers/json?all=%d", all ? 1 : 0);
        if (cli_api(g, "GET", path, NULL, &list, err) < 0)
            return CLI_EXIT_FAIL;
        for (size_t i = 0; i < json_object_array_length(list); i++) {
            struct json_object *id = NULL;
            json_object_object_get_ex(json_object_array_get_idx(list, i), "Id", &id);
            json_object_array_add(names, json_object_new_string(json_object_get_string(id)));
        }
    }
    for (;;) {
        struct cli_fmt fmt;
        if (cli_fmt_init(&fmt, format,
                         "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t"
                         "{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}",
                         cols, ARRAY_SIZE(cols), err) < 0)
            return CLI_EXIT_USAGE;
        int status = 0;
        for (size_t i = 0; i < json_object_array_length(names); i++) {
            const char *name = json_object_get_string(json_object_array_get_idx(names, i));
            cleanup_free char *path = xasprintf("/containers/%s/stats?stream=0", name);
            cleanup_json struct json_object *s = NULL;
            if (cli_api(g, "GET", path, NULL, &s, err) < 0) {
                cli_fmt_free(&fmt);
                return CLI_EXIT_FAIL;
            }
            cleanup_json struct json_object *row = stats_row(name, s, no_trunc);
            if (cli_fmt_row(&fmt, row, err) < 0)
                status = CLI_EXIT_FAIL;
        }
        if (!no_stream && isatty(STDOUT_FILENO))
            printf("\033[2J\033[H");
        cli_fmt_flush(&fmt, stdout);
        cli_fmt_free(&fmt);
        fflush(stdout);
        if (no_stream || status)
            return status;
        sleep(1);
    }
}

/* ---- attach, start ----------------------------------------------------------------------- */

static bool
config_bool(struct json_object *c, const char *key)
{
    struct json_object *cfg = NULL, *v = NULL;
    return json_object_object_get_ex(c, "Config", &cfg) &&
           json_object_object_get_ex(cfg, key, &v) && json_object_get_boolean(v);
}

int
cli_cmd_attach(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    bool no_stdin = false;
    const char *detach_keys = NULL;
    bool sig_proxy = true;
    const struct cli_flag flags[] = {{"no-stdin", 0, CLI_FLAG_BOOL, &no_stdin, NULL},
                                     {"detach-keys", 0, CLI_FLAG_STRING, &detach_keys, NULL},
                                     {"sig-proxy", 0, CLI_FLAG_BOOL, &sig_proxy, NULL}};
    struct cli_args args;
    if (cli_flags_parse("attach", flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth attach [OPTIONS] CONTAINER\n\nAttach local standard input, output, "
               "and error streams to a running container\n");
        return 0;
    }
    if (cli_args_count("attach", &args, 1, 1, err) < 0)
        return CLI_EXIT_USAGE;
    cleanup_free char *keys = detach_keys ? cli_detach_keys(detach_keys, err) : NULL;
    if (detach_keys && !keys)
        return CLI_EXIT_USAGE;
    cleanup_json struct json_object *c = NULL;
    if (cli_container_inspect(g, args.v[0], &c, err) < 0)
        return CLI_EXIT_FAIL;
    struct json_object *state = NULL, *running = NULL;
    if (!json_object_object_get_ex(c, "State", &state) ||
        !json_object_object_get_ex(state, "Running", &running) ||
        !json_object_get_boolean(running)) {
        berth_err_fail(err, EINVAL, "You cannot attach to a stopped container, start it first");
        return CLI_EXIT_FAIL;
    }
    int64_t code = 0;
    if (cli_container_attach_run(g, args.v[0], false, config_bool(c, "Tty"),
                                 !no_stdin && config_bool(c, "OpenStdin"), true, NULL, sig_proxy,
                                 keys, &code, err) < 0)
        return CLI_EXIT_FAIL;
    return (int)code;
}

int
cli_cmd_start(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    bool attach = false, interactive = false;
    const char *detach_keys = NULL;
    const struct cli_flag flags[] = {{"attach", 'a', CLI_FLAG_BOOL, &attach, NULL},
                                     {"interactive", 'i', CLI_FLAG_BOOL, &interactive, NULL},
                                     {"detach-keys", 0, CLI_FLAG_STRING, &detach_keys, NULL}};
    struct cli_args args;
    if (cli_flags_parse("start", flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth start [OPTIONS] CONTAINER [CONTAINER...]\n\nStart one or more "
               "stopped containers\n\nOptions:\n"
               "  -a, --attach        Attach STDOUT/STDERR and forward signals\n"
               "  -i, --interactive   Attach container's STDIN\n");
        return 0;
    }
    if (cli_args_count("start", &args, 1, -1, err) < 0)
        return CLI_EXIT_USAGE;
    cleanup_free char *keys = detach_keys ? cli_detach_keys(detach_keys, err) : NULL;
    if (detach_keys && !keys)
        return CLI_EXIT_USAGE;
    if (!attach && !interactive)
        return each(g, &args, "POST", "/containers/%s/start", NULL, err);
    if (args.n > 1) {
        berth_err_fail(err, EINVAL, "you cannot start and attach multiple containers at once");
        return CLI_EXIT_FAIL;
    }
    cleanup_json struct json_object *c = NULL;
    if (cli_container_inspect(g, args.v[0], &c, err) < 0)
        return CLI_EXIT_FAIL;
    int64_t code = 0;
    if (cli_container_attach_run(g, args.v[0], true, config_bool(c, "Tty"),
                                 interactive && config_bool(c, "OpenStdin"), true, "next-exit",
                                 true, keys, &code, err) < 0)
        return CLI_EXIT_FAIL;
    return (int)code;
}

/* ---- container prune, the container group ---------------------------------------------------- */

static int
container_prune(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    bool force = false;
    struct cli_strv filters = {0};
    const struct cli_flag flags[] = {{"force", 'f', CLI_FLAG_BOOL, &force, NULL},
                                     {"filter", 0, CLI_FLAG_LIST, &filters, NULL}};
    struct cli_args args;
    int status = CLI_EXIT_USAGE;
    cleanup_free char *fq = NULL, *path = NULL;
    cleanup_json struct json_object *r = NULL;
    if (cli_flags_parse("container prune", flags, ARRAY_SIZE(flags), argc, argv, false, &args,
                        err) < 0)
        goto out;
    if (!(fq = cli_filters_query(&filters, err)))
        goto out;
    status = 0;
    if (!force && !cli_confirm("WARNING! This will remove all stopped containers.\nAre you sure "
                               "you want to continue?"))
        goto out;
    status = CLI_EXIT_FAIL;
    path = xasprintf("/containers/prune?%s", fq[0] ? fq + 1 : "");
    if (cli_api(g, "POST", path, NULL, &r, err) < 0)
        goto out;
    {
        struct json_object *del = NULL, *space = NULL;
        if (json_object_object_get_ex(r, "ContainersDeleted", &del) &&
            json_object_is_type(del, json_type_array) && json_object_array_length(del)) {
            printf("Deleted Containers:\n");
            for (size_t i = 0; i < json_object_array_length(del); i++)
                printf("%s\n", json_object_get_string(json_object_array_get_idx(del, i)));
            printf("\n");
        }
        json_object_object_get_ex(r, "SpaceReclaimed", &space);
        cleanup_free char *s = cli_human_size((double)(space ? json_object_get_int64(space) : 0));
        printf("Total reclaimed space: %s\n", s);
        status = 0;
    }
out:
    cli_strv_free(&filters);
    return status;
}

int
cli_cmd_container(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct {
        const char *name;
        cli_cmd_fn fn;
    } subs[] = {
        {"ls", cli_cmd_ps},         {"list", cli_cmd_ps},         {"ps", cli_cmd_ps},
        {"run", cli_cmd_run},       {"create", cli_cmd_create},   {"start", cli_cmd_start},
        {"stop", cli_cmd_stop},     {"restart", cli_cmd_restart}, {"kill", cli_cmd_kill},
        {"rm", cli_cmd_rm},         {"remove", cli_cmd_rm},       {"logs", cli_cmd_logs},
        {"exec", cli_cmd_exec},     {"attach", cli_cmd_attach},   {"wait", cli_cmd_wait},
        {"rename", cli_cmd_rename}, {"top", cli_cmd_top},         {"stats", cli_cmd_stats},
        {"cp", cli_cmd_cp},         {"pause", cli_cmd_pause},     {"unpause", cli_cmd_unpause},
        {"port", cli_cmd_port},     {"update", cli_cmd_update},   {"commit", cli_cmd_commit},
        {"export", cli_cmd_export}, {"diff", cli_cmd_diff},
    };
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        printf("Usage:  berth container COMMAND\n\nManage containers\n\nCommands:\n ");
        for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
            printf(" %s", subs[i].name);
        printf(" inspect prune\n");
        return argc < 2 ? CLI_EXIT_FAIL : 0;
    }
    const char *s = argv[1];
    if (strcmp(s, "prune") == 0)
        return container_prune(g, argc - 1, argv + 1, err);
    if (strcmp(s, "inspect") == 0) {
        char **v = xmalloc(((size_t)argc + 2) * sizeof(*v));
        v[0] = "inspect";
        v[1] = "--type=container";
        for (int i = 2; i < argc; i++)
            v[i] = argv[i];
        v[argc] = NULL;
        int rc = cli_cmd_inspect(g, argc, v, err);
        free(v);
        return rc;
    }
    for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
        if (strcmp(subs[i].name, s) == 0)
            return subs[i].fn(g, argc - 1, argv + 1, err);
    berth_err_fail(err, EINVAL,
                   "berth container: unknown command `%s`\nSee 'berth container --help'.", s);
    return CLI_EXIT_USAGE;
}
