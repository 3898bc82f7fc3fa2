/* SPDX-License-Identifier: Apache-2.0
 *
 * The container endpoints that create, list, inspect and change state: create, json, inspect,
 * start, stop, restart, kill, wait, remove, rename, pause, unpause, top, prune. The work is
 * engine/containers'; this file reads the requests and writes docker's answers.
 */
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/supervisor/v1/tasks.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/api/handlers.h"
#include "engine/api/request.h"
#include "engine/api/router.h"
#include "engine/containers/containers.h"
#include "engine/daemon.h"
#include "engine/images/image.h"
#include "engine/supervisor/client.h"

static struct eng_ctr *
find(struct eng_api_req *req, struct berth_err *err)
{
    return eng_ctr_find(req->d, eng_api_param(&req->params, "id"), err);
}

static int
no_content(struct eng_api_req *req)
{
    return eng_api_reply_data(req, 204, NULL, "", 0);
}

static int
not_modified(struct eng_api_req *req)
{
    return eng_api_reply_data(req, 304, NULL, "", 0);
}

/* ?t=N for stop and restart: seconds, -1 (absent) for the container's own timeout. */
static int
timeout_arg(struct eng_api_req *req, int *t, struct berth_err *err)
{
    const char *v = eng_api_query(req, "t");
    *t = -1;
    if (!v || !*v)
        return 0;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (*end || n < -1 || n > 86400 * 365)
        return berth_err_fail(err, EINVAL, "invalid value for t: %s", v);
    *t = (int)n;
    return 0;
}

ENG_API_HANDLER(eng_api_containers_create)
{
    cleanup_json struct json_object *body = NULL;
    if (eng_api_body_json(req, &body, err) < 0)
        return -1;
    if (!body)
        return berth_err_fail(err, EINVAL, "config cannot be empty in order to create a container");
    cleanup_free char *id = NULL;
    struct json_object *warnings = NULL;
    if (eng_ctr_create(req->d, body, eng_api_query(req, "name"), &id, &warnings, err) < 0)
        return -1;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "Id", json_object_new_string(id));
    json_object_object_add(o, "Warnings", warnings ? warnings : json_object_new_array());
    return eng_api_reply_json(req, 201, o);
}

ENG_API_HANDLER(eng_api_containers_inspect)
{
    cleanup_ctr struct eng_ctr *c = find(req, err);
    if (!c)
        return -1;
    return eng_api_reply_json(req, 200, eng_ctr_inspect(req->d, c));
}

ENG_API_HANDLER(eng_api_containers_start)
{
    cleanup_ctr struct eng_ctr *c = find(req, err);
    if (!c)
        return -1;
    bool already;
    if (eng_ctr_start(req->d, c, &already, err) < 0)
        return -1;
    return already ? not_modified(req) : no_content(req);
}

ENG_API_HANDLER(eng_api_containers_stop)
{
    cleanup_ctr struct eng_ctr *c = find(req, err);
    int t;
    if (!c || timeout_arg(req, &t, err) < 0)
        return -1;
    bool already;
    if (eng_ctr_stop(req->d, c, t, &already, err) < 0)
        return -1;
    return already ? not_modified(req) : no_content(req);
}

ENG_API_HANDLER(eng_api_containers_restart)
{
    cleanup_ctr struct eng_ctr *c = find(req, err);
    int t;
    if (!c || timeout_arg(req, &t, err) < 0)
        return -1;
    if (eng_ctr_restart(req->d, c, t, err) < 0)
        return -1;
    return no_content(req);
}

ENG_API_HANDLER(eng_api_containers_kill)
{
    cleanup_ctr struct eng_ctr *c = find(req, err);
    if (!c)
        return -1;
    const char *s = eng_api_query(req, "signal");
    int sig = s && *s ? eng_signal_parse(s) : SIGKILL;
    if (sig < 0)
        return berth_err_fail(err, EINVAL, "Invalid signal: %s", s);
    if (eng_ctr_kill(req->d, c, sig, err) < 0)
        return -1;
    return no_content(req);
}

ENG_API_HANDLER(eng_api_containers_pause)
{
    cleanup_ctr struct eng_ctr *c = find(req, err);
    if (!c || eng_ctr_pause(req->d, c, err) < 0)
        return -1;
    return no_content(req);
}

ENG_API_HANDLER(eng_api_containers_unpause)
{
    cleanup_ctr struct eng_ctr *c = find(req, err);
    if (!c || eng_ctr_unpause(req->d, c, err) < 0)
        return -1;
    return no_content(req);
}

ENG_API_HANDLER(eng_api_containers_delete)
{
    bool force, volumes, link;
    if (eng_api_query_bool(req, "force", &force, err) < 0 ||
        eng_api_query_bool(req, "v", &volumes, err) < 0 ||
        eng_api_query_bool(req, "link", &link, err) < 0)
        return -1;
    if (link)
        return berth_err_fail(err, EINVAL, "links are not supported");
    cleanup_ctr struct eng_ctr *c = find(req, err);
    if (!c || eng_ctr_remove(req->d, c, force, volumes, err) < 0)
        return -1;
    return no_content(req);
}

ENG_API_HANDLER(eng_api_containers_rename)
{
    cleanup_ctr struct eng_ctr *c = find(req, err);
    if (!c || eng_ctr_rename(req->d, c, eng_api_query(req, "name"), err) < 0)
        return -1;
    return no_content(req);
}

/* ---------------------------------------------------------------- wait */

struct waiter {
    struct eng_daemon *d;
    struct eng_ctr *c;
    enum eng_wait_condition cond;
    uint64_t exits; /* the exits when the request came: the baseline of next-exit */
    bool done;
};

static bool
daemon_stopping(void *data)
{
    struct waiter *w = data;
    return __atomic_load_n(&w->d->stopping, __ATOMIC_ACQUIRE);
}

/* The body is written once the condition holds: the headers go first, so that a client
 * (docker run) knows its wait is registered before it starts the container. */
static int
wait_next(void *ctx, char **buf, size_t *len)
{
    struct waiter *w = ctx;
    if (w->done)
        return 0;
    w->done = true;
    int code = 0;
    struct berth_err err = BERTH_ERR_INIT;
    struct json_object *o = json_object_new_object();
    if (eng_ctr_wait(w->c, w->cond, w->exits, daemon_stopping, w, &code, &err) < 0) {
        struct json_object *e = json_object_new_object();
        json_object_object_add(e, "Message", json_object_new_string(err.msg));
        json_object_object_add(o, "StatusCode", json_object_new_int(-1));
        json_object_object_add(o, "Error", e);
        berth_err_clear(&err);
    } else {
        json_object_object_add(o, "StatusCode", json_object_new_int(code));
        json_object_object_add(o, "Error", NULL);
    }
    eng_api_append_json(buf, len, o);
    return 1;
}

static void
wait_done(void *ctx)
{
    struct waiter *w = ctx;
    eng_ctr_put(w->c);
    free(w);
}

ENG_API_HANDLER(eng_api_containers_wait)
{
    static const struct eng_api_stream_ops ops = {wait_next, wait_done};
    const char *cond = eng_api_query(req, "condition");
    enum eng_wait_condition wc;
    if (!cond || !*cond || strcmp(cond, "not-running") == 0)
        wc = ENG_WAIT_NOT_RUNNING;
    else if (strcmp(cond, "next-exit") == 0)
        wc = ENG_WAIT_NEXT_EXIT;
    else if (strcmp(cond, "removed") == 0)
        wc = ENG_WAIT_REMOVED;
    else
        return berth_err_fail(err, EINVAL, "invalid condition: \"%s\"", cond);
    struct eng_ctr *c = find(req, err);
    if (!c)
        return -1;
    struct waiter *w = xzalloc(sizeof(*w));
    w->d = req->d;
    w->c = c;
    w->cond = wc;
    w->exits = eng_ctr_exits(c);
    return eng_api_reply_stream(req, 200, "application/json", &ops, w);
}

/* ---------------------------------------------------------------- list */

/* The filters of GET /containers/json: {"status": ["running"], "name": ["web"], ...}, as
 * docker sends them (a map of lists; also a map of {value: true} maps, the older form). */
struct list_filters {
    struct json_object *f;
};

static bool
filter_values(struct json_object *f, const char *key, struct json_object **vals)
{
    struct json_object *v = NULL;
    if (!f || !json_object_object_get_ex(f, key, &v))
        return false;
    *vals = v;
    return true;
}

/* Whether any value of filter key satisfies match(value). No such filter: true. */
static bool
any_value(struct json_object *f, const char *key, bool (*match)(const char *, void *), void *data)
{
    struct json_object *vals = NULL;
    if (!filter_values(f, key, &vals))
        return true;
    if (json_object_is_type(vals, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(vals); i++)
            if (match(json_object_get_string(json_object_array_get_idx(vals, i)), data))
                return true;
        return false;
    }
    if (json_object_is_type(vals, json_type_object)) {
        json_object_object_foreach(vals, k, v)
        {
            (void)v;
            if (match(k, data))
                return true;
        }
    }
    return false;
}

/* Whether every value of filter key satisfies match(value), as dockerd matches labels: each
 * label asked for must be there. No such filter: true. */
static bool
every_value(struct json_object *f, const char *key, bool (*match)(const char *, void *), void *data)
{
    struct json_object *vals = NULL;
    if (!filter_values(f, key, &vals))
        return true;
    if (json_object_is_type(vals, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(vals); i++)
            if (!match(json_object_get_string(json_object_array_get_idx(vals, i)), data))
                return false;
        return true;
    }
    if (json_object_is_type(vals, json_type_object)) {
        json_object_object_foreach(vals, k, v)
        {
            (void)v;
            if (!match(k, data))
                return false;
        }
    }
    return true;
}

/* Each value of filter key, for checking (an array's strings, or the legacy map's keys). */
static int
check_values(struct json_object *f, const char *key, int (*check)(const char *, struct berth_err *),
             struct berth_err *err)
{
    struct json_object *vals = NULL;
    if (!filter_values(f, key, &vals))
        return 0;
    if (json_object_is_type(vals, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(vals); i++)
            if (check(json_object_get_string(json_object_array_get_idx(vals, i)), err) < 0)
                return -1;
    } else if (json_object_is_type(vals, json_type_object)) {
        json_object_object_foreach(vals, k, v)
        {
            (void)v;
            if (check(k, err) < 0)
                return -1;
        }
    } else {
        return berth_err_fail(err, EINVAL, "invalid filter '%s': expected a list of values", key);
    }
    return 0;
}

static int
check_status(const char *v, struct berth_err *err)
{
    static const char *const states[] = {"created", "restarting", "running", "removing",
                                         "paused",  "exited",     "dead"};
    for (size_t i = 0; v && i < ARRAY_SIZE(states); i++)
        if (strcmp(v, states[i]) == 0)
            return 0;
    return berth_err_fail(err, EINVAL, "Unrecognised filter value for status: %s", v ? v : "");
}

static int
check_exited(const char *v, struct berth_err *err)
{
    char *end = NULL;
    if (v && *v) {
        errno = 0;
        long n = strtol(v, &end, 10);
        if (!*end && errno == 0 && n >= INT32_MIN && n <= INT32_MAX)
            return 0;
    }
    return berth_err_fail(err, EINVAL, "invalid filter 'exited=%s': not an exit code", v ? v : "");
}

struct match_ctx {
    struct eng_ctr *c;
    const char *status;
    const char *name;
    struct json_object *ancestors; /* each ancestor filter value -> the image id it names */
};

static bool
match_status(const char *v, void *data)
{
    return strcmp(v, ((struct match_ctx *)data)->status) == 0;
}

static bool
match_name(const char *v, void *data)
{
    const char *n = v[0] == '/' ? v + 1 : v;
    return strstr(((struct match_ctx *)data)->name, n) != NULL;
}

static bool
match_id(const char *v, void *data)
{
    return strncmp(((struct match_ctx *)data)->c->id, v, strlen(v)) == 0;
}

static bool
match_label(const char *v, void *data)
{
    struct eng_ctr *c = ((struct match_ctx *)data)->c;
    struct json_object *labels = NULL, *lv = NULL;
    if (!json_object_object_get_ex(c->config, "Labels", &labels))
        return false;
    const char *eq = strchr(v, '=');
    cleanup_free char *key = eq ? xstrndup(v, (size_t)(eq - v)) : xstrdup(v);
    if (!json_object_object_get_ex(labels, key, &lv))
        return false;
    return !eq || strcmp(json_object_get_string(lv), eq + 1) == 0;
}

static bool
match_exited(const char *v, void *data)
{
    struct eng_ctr *c = ((struct match_ctx *)data)->c;
    return c->status == ENG_CTR_EXITED && atoi(v) == c->exit_code;
}

static bool
match_ancestor(const char *v, void *data)
{
    struct match_ctx *m = data;
    struct eng_ctr *c = m->c;
    struct json_object *id_v = NULL;
    if (strcmp(v, c->image) == 0)
        return true;
    /* As dockerd: the image the value names ("busybox" and "busybox:latest" alike). */
    if (json_object_object_get_ex(m->ancestors, v, &id_v) &&
        strcmp(json_object_get_string(id_v), c->image_id) == 0)
        return true;
    const char *hex = strncmp(v, "sha256:", 7) == 0 ? v + 7 : v;
    const char *id = strncmp(c->image_id, "sha256:", 7) == 0 ? c->image_id + 7 : c->image_id;
    return strlen(hex) >= 4 && strncmp(id, hex, strlen(hex)) == 0;
}

static const char *const known_filters[] = {
    "status",  "name",   "id",     "label",     "exited",  "ancestor", "before", "since",
    "network", "volume", "health", "isolation", "is-task", "publish",  "expose"};

static int
resolve_ancestor(const char *v, struct eng_daemon *d, struct json_object *out)
{
    struct eng_image *img = NULL;
    int by_name;
    struct berth_err e2 = BERTH_ERR_INIT;
    /* An image that is not there matches nothing (dockerd only warns). */
    if (eng_image_resolve(d, v, &img, &by_name, &e2) < 0) {
        berth_err_clear(&e2);
        return 0;
    }
    json_object_object_add(out, v, json_object_new_string(img->id));
    eng_image_free(img);
    return 0;
}

/* The image ids the ancestor filter's values name. */
static struct json_object *
resolve_ancestors(struct eng_daemon *d, struct json_object *filters)
{
    struct json_object *out = json_object_new_object(), *vals = NULL;
    if (!filter_values(filters, "ancestor", &vals))
        return out;
    if (json_object_is_type(vals, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(vals); i++)
            resolve_ancestor(json_object_get_string(json_object_array_get_idx(vals, i)), d, out);
    } else if (json_object_is_type(vals, json_type_object)) {
        json_object_object_foreach(vals, k, v)
        {
            (void)v;
            resolve_ancestor(k, d, out);
        }
    }
    return out;
}

ENG_API_HANDLER(eng_api_containers_list)
{
    bool all, size;
    if (eng_api_query_bool(req, "all", &all, err) < 0 ||
        eng_api_query_bool(req, "size", &size, err) < 0)
        return -1;
    const char *lim = eng_api_query(req, "limit");
    long limit = -1;
    if (lim && *lim) {
        char *end = NULL;
        errno = 0;
        limit = strtol(lim, &end, 10);
        if (*end || errno)
            return berth_err_fail(err, EINVAL, "invalid limit `%s`: not an integer", lim);
    }
    cleanup_json struct json_object *filters = NULL;
    const char *fs = eng_api_query(req, "filters");
    if (fs && *fs) {
        filters = berth_json_parse(fs, strlen(fs), err);
        if (!filters || !json_object_is_type(filters, json_type_object))
            return berth_err_fail(err, EINVAL, "invalid filter: %s", fs);
        json_object_object_foreach(filters, k, v)
        {
            (void)v;
            bool known = false;
            for (size_t i = 0; i < ARRAY_SIZE(known_filters) && !known; i++)
                known = strcmp(k, known_filters[i]) == 0;
            if (!known)
                return berth_err_fail(err, EINVAL, "invalid filter '%s'", k);
        }
        if (check_values(filters, "status", check_status, err) < 0 ||
            check_values(filters, "exited", check_exited, err) < 0)
            return -1;
    }
    cleanup_json struct json_object *ancestors = resolve_ancestors(req->d, filters);
    size_t n;
    struct eng_ctr **v = eng_ctr_list(req->d, &n);
    struct json_object *out = json_object_new_array();
    struct json_object *st = NULL;
    /* A status filter lists stopped containers too, as docker does. */
    if (filter_values(filters, "status", &st) || filter_values(filters, "exited", &st))
        all = true;
    if (limit > 0)
        all = true;
    for (size_t i = 0; i < n; i++) {
        struct eng_ctr *c = v[i];
        pthread_mutex_lock(&c->lock);
        enum eng_ctr_status s = c->status;
        pthread_mutex_unlock(&c->lock);
        if (!all && s != ENG_CTR_RUNNING && s != ENG_CTR_PAUSED && s != ENG_CTR_RESTARTING)
            continue;
        struct json_object *sum = eng_ctr_summary(req->d, c);
        struct json_object *names = NULL;
        json_object_object_get_ex(sum, "Names", &names);
        struct match_ctx m = {
            .c = c,
            .status = eng_ctr_status_name(s),
            .name = json_object_get_string(json_object_array_get_idx(names, 0)) + 1,
            .ancestors = ancestors,
        };
        if (!any_value(filters, "status", match_status, &m) ||
            !any_value(filters, "name", match_name, &m) ||
            !any_value(filters, "id", match_id, &m) ||
            !every_value(filters, "label", match_label, &m) ||
            !any_value(filters, "exited", match_exited, &m) ||
            !any_value(filters, "ancestor", match_ancestor, &m)) {
            json_object_put(sum);
            continue;
        }
        if (size) {
            json_object_object_add(sum, "SizeRw", json_object_new_int64(0));
            json_object_object_add(sum, "SizeRootFs", json_object_new_int64(0));
        }
        json_object_array_add(out, sum);
        if (limit > 0 && (long)json_object_array_length(out) >= limit)
            break;
    }
    eng_ctr_list_free(v, n);
    return eng_api_reply_json(req, 200, out);
}

/* ---------------------------------------------------------------- top */

#define TASKS (&berth__supervisor__v1__tasks__descriptor)

/* `ps ARGS` on the host, as dockerd runs it, keeping the header and the lines of the
 * container's pids. */
ENG_API_HANDLER(eng_api_containers_top)
{
    cleanup_ctr struct eng_ctr *c = find(req, err);
    if (!c)
        return -1;
    pthread_mutex_lock(&c->lock);
    bool running = c->status == ENG_CTR_RUNNING || c->status == ENG_CTR_PAUSED;
    pthread_mutex_unlock(&c->lock);
    if (!running)
        return berth_err_fail(err, EBUSY, "Container %s is not running", c->id);
    Berth__Supervisor__V1__ListPidsRequest lr = BERTH__SUPERVISOR__V1__LIST_PIDS_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__ListPidsResponse *pids = NULL;
    lr.container_id = c->id;
    if (eng_sup_call(req->d->sup, TASKS, "ListPids", &lr.base, &pids, err) < 0)
        return -1;

    const char *ps_args = eng_api_query(req, "ps_args");
    if (!ps_args || !*ps_args)
        ps_args = "-ef";
    for (const char *p = ps_args; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -,=%", *p))
            return berth_err_fail(err, EINVAL, "ps_args: character `%c` is not allowed", *p);
    cleanup_free char *cmd = xasprintf("ps %s", ps_args);
    FILE *f = popen(cmd, "r");
    if (!f)
        return berth_err_fail(err, errno, "run `%s`", cmd);
    struct json_object *titles = json_object_new_array(), *procs = json_object_new_array();
    char line[4096];
    int pid_col = -1, n_cols = 0;
    bool header = true;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = 0;
        char *fields[64];
        int nf = 0;
        char *save = NULL;
        for (char *t = strtok_r(line, " \t", &save); t && nf < 64; t = strtok_r(NULL, " \t", &save))
            fields[nf++] = t;
        if (header) {
            for (int i = 0; i < nf; i++) {
                json_object_array_add(titles, json_object_new_string(fields[i]));
                if (strcmp(fields[i], "PID") == 0)
                    pid_col = i;
            }
            n_cols = nf;
            header = false;
            if (pid_col < 0)
                break;
            continue;
        }
        if (nf <= pid_col)
            continue;
        long pid = strtol(fields[pid_col], NULL, 10);
        bool ours = false;
        for (size_t i = 0; i < pids->n_processes && !ours; i++)
            ours = (long)pids->processes[i]->pid == pid;
        if (!ours)
            continue;
        struct json_object *row = json_object_new_array();
        /* The last column takes the rest of the line (the command and its arguments). */
        for (int i = 0; i < nf && i < n_cols; i++) {
            if (i == n_cols - 1) {
                cleanup_free char *rest = xstrdup(fields[i]);
                for (int j = i + 1; j < nf; j++) {
                    char *next = xasprintf("%s %s", rest, fields[j]);
                    free(rest);
                    rest = next;
                }
                json_object_array_add(row, json_object_new_string(rest));
            } else {
                json_object_array_add(row, json_object_new_string(fields[i]));
            }
        }
        json_object_array_add(procs, row);
    }
    int status = pclose(f);
    if (pid_col < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        json_object_put(titles);
        json_object_put(procs);
        return berth_err_fail(err, EINVAL, "ps %s: %s", ps_args,
                              pid_col < 0 ? "no PID column in its output" : "failed");
    }
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "Titles", titles);
    json_object_object_add(o, "Processes", procs);
    return eng_api_reply_json(req, 200, o);
}

/* ---------------------------------------------------------------- prune */

ENG_API_HANDLER(eng_api_containers_prune)
{
    cleanup_json struct json_object *filters = NULL;
    const char *fs = eng_api_query(req, "filters");
    if (fs && *fs) {
        filters = berth_json_parse(fs, strlen(fs), err);
        if (!filters || !json_object_is_type(filters, json_type_object))
            return berth_err_fail(err, EINVAL, "invalid filter: %s", fs);
        /* label and label! (none of them present); dockerd's until is not taken yet: a
         * filter that would be ignored is refused rather than pruning more than asked. */
        json_object_object_foreach(filters, k, v)
        {
            (void)v;
            if (strcmp(k, "label") != 0 && strcmp(k, "label!") != 0)
                return berth_err_fail(err, EINVAL, "invalid filter '%s'", k);
        }
    }
    size_t n;
    struct eng_ctr **v = eng_ctr_list(req->d, &n);
    struct json_object *deleted = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        struct eng_ctr *c = v[i];
        pthread_mutex_lock(&c->lock);
        bool stopped = c->status == ENG_CTR_EXITED || c->status == ENG_CTR_CREATED ||
                       c->status == ENG_CTR_DEAD;
        pthread_mutex_unlock(&c->lock);
        struct match_ctx m = {.c = c};
        struct json_object *neg = NULL;
        if (!stopped || !every_value(filters, "label", match_label, &m) ||
            (filter_values(filters, "label!", &neg) &&
             every_value(filters, "label!", match_label, &m)))
            continue;
        struct berth_err e2 = BERTH_ERR_INIT;
        if (eng_ctr_remove(req->d, c, false, false, &e2) == 0)
            json_object_array_add(deleted, json_object_new_string(c->id));
        berth_err_clear(&e2);
    }
    eng_ctr_list_free(v, n);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "ContainersDeleted", deleted);
    json_object_object_add(o, "SpaceReclaimed", json_object_new_int64(0));
    return eng_api_reply_json(req, 200, o);
}
