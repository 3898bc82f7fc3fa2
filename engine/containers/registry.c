/* SPDX-License-Identifier: Apache-2.0
 *
 * The table of containers (containers.h): every container in memory, found by id, name or
 * id prefix as docker resolves them; loading from engine.db at start; state documents.
 *
 * References: the table holds one; every lookup hands out another. A container removed from
 * the table stays valid for whoever still holds it (a waiter on "removed", a stop in flight).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/log.h"
#include "engine/containers/internal.h"
#include "engine/network/networks.h"
#include "engine/daemon.h"
#include "engine/events/events.h"
#include "engine/store/store.h"

static const char *const status_names[] = {
    [ENG_CTR_CREATED] = "created",   [ENG_CTR_RUNNING] = "running",
    [ENG_CTR_PAUSED] = "paused",     [ENG_CTR_RESTARTING] = "restarting",
    [ENG_CTR_REMOVING] = "removing", [ENG_CTR_EXITED] = "exited",
    [ENG_CTR_DEAD] = "dead",
};

const char *
eng_ctr_status_name(enum eng_ctr_status s)
{
    return (size_t)s < ARRAY_SIZE(status_names) ? status_names[s] : "dead";
}

static enum eng_ctr_status
status_parse(const char *s)
{
    for (size_t i = 0; s && i < ARRAY_SIZE(status_names); i++)
        if (strcmp(s, status_names[i]) == 0)
            return (enum eng_ctr_status)i;
    return ENG_CTR_CREATED;
}

int64_t
ctr_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

char *
eng_time_rfc3339(int64_t ns)
{
    if (ns <= 0)
        return xstrdup("0001-01-01T00:00:00Z");
    time_t s = (time_t)(ns / 1000000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char buf[64];
    size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof(buf) - n, ".%09dZ", (int)(ns % 1000000000));
    return xstrdup(buf);
}

struct eng_ctr *
ctr_new(const char *id, const char *name)
{
    struct eng_ctr *c = xzalloc(sizeof(*c));
    c->id = xstrdup(id);
    c->name = xstrdup(name);
    c->refs = 1;
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->op, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &attr);
    pthread_condattr_destroy(&attr);
    return c;
}

static void
ctr_free(struct eng_ctr *c)
{
    free(c->id);
    free(c->name);
    free(c->image);
    free(c->image_id);
    json_object_put(c->config);
    json_object_put(c->host_config);
    free(c->dir);
    free(c->log_path);
    free(c->error);
    free(c->attach_socket);
    ctr_health_free(c);
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->op);
    pthread_cond_destroy(&c->cond);
    free(c);
}

/* References are counted under the table's lock: one lock for every count is plenty for
 * the rate of API calls, and a lookup and its reference are then atomic. */
static pthread_mutex_t refs_lock = PTHREAD_MUTEX_INITIALIZER;

struct eng_ctr *
ctr_ref(struct eng_ctr *c)
{
    pthread_mutex_lock(&refs_lock);
    c->refs++;
    pthread_mutex_unlock(&refs_lock);
    return c;
}

void
eng_ctr_put(struct eng_ctr *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&refs_lock);
    bool last = --c->refs == 0;
    pthread_mutex_unlock(&refs_lock);
    if (last)
        ctr_free(c);
}

void
eng_ctr_putp(struct eng_ctr **c)
{
    eng_ctr_put(*c);
}

void
ctr_add(struct eng_daemon *d, struct eng_ctr *c)
{
    struct eng_containers *t = d->containers;
    pthread_mutex_lock(&t->lock);
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
    }
    t->v[t->n++] = ctr_ref(c);
    pthread_mutex_unlock(&t->lock);
}

void
ctr_forget(struct eng_daemon *d, struct eng_ctr *c)
{
    struct eng_containers *t = d->containers;
    bool found = false;
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->n; i++) {
        if (t->v[i] == c) {
            memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(*t->v));
            t->n--;
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&t->lock);
    if (found)
        eng_ctr_put(c);
}

/* docker's rule for names: [a-zA-Z0-9][a-zA-Z0-9_.-]+, after an optional '/'. */
bool
ctr_name_valid(const char *n)
{
    size_t len = strlen(n);
    if (len < 2 || len > 255)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = n[i];
        bool alnum =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (!alnum && (i == 0 || (ch != '_' && ch != '.' && ch != '-')))
            return false;
    }
    return true;
}

void
ctr_set_name(struct eng_daemon *d, struct eng_ctr *c, const char *name, char **old)
{
    struct eng_containers *t = d->containers;
    char *n = xstrdup(name);
    pthread_mutex_lock(&t->lock);
    *old = c->name;
    c->name = n;
    pthread_mutex_unlock(&t->lock);
}

bool
ctr_name_taken(struct eng_daemon *d, const char *name)
{
    struct eng_containers *t = d->containers;
    bool taken = false;
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->n && !taken; i++)
        taken = strcmp(t->v[i]->name, name) == 0;
    pthread_mutex_unlock(&t->lock);
    return taken;
}

struct eng_ctr *
eng_ctr_find(struct eng_daemon *d, const char *ref, struct berth_err *err)
{
    struct eng_containers *t = d->containers;
    const char *name = ref && ref[0] == '/' ? ref + 1 : ref;
    struct eng_ctr *found = NULL, *prefix = NULL;
    size_t n_prefix = 0, len = ref ? strlen(ref) : 0;

    if (!ref || !*ref) {
        berth_err_fail(err, ENOENT, "No such container: %s", ref ? ref : "");
        return NULL;
    }
    pthread_mutex_lock(&t->lock);
    /* docker's order: the full id, then the name, then a unique id prefix. */
    for (size_t i = 0; i < t->n && !found; i++)
        if (strcmp(t->v[i]->id, ref) == 0)
            found = t->v[i];
    for (size_t i = 0; i < t->n && !found; i++)
        if (strcmp(t->v[i]->name, name) == 0)
            found = t->v[i];
    for (size_t i = 0; i < t->n && !found; i++) {
        if (strncmp(t->v[i]->id, ref, len) == 0) {
            prefix = t->v[i];
            n_prefix++;
        }
    }
    if (!found && n_prefix == 1)
        found = prefix;
    if (found)
        ctr_ref(found);
    pthread_mutex_unlock(&t->lock);
    if (!found && n_prefix > 1)
        berth_err_fail(err, EINVAL, "multiple IDs found with provided prefix: %s", ref);
    else if (!found)
        berth_err_fail(err, ENOENT, "No such container: %s", ref);
    return found;
}

static int
newest_first(const void *a, const void *b)
{
    const struct eng_ctr *x = *(struct eng_ctr *const *)a, *y = *(struct eng_ctr *const *)b;
    return x->created_ns < y->created_ns ? 1 : x->created_ns > y->created_ns ? -1 : 0;
}

struct eng_ctr **
eng_ctr_list(struct eng_daemon *d, size_t *n)
{
    struct eng_containers *t = d->containers;
    pthread_mutex_lock(&t->lock);
    struct eng_ctr **v = xzalloc((t->n + 1) * sizeof(*v));
    for (size_t i = 0; i < t->n; i++)
        v[i] = ctr_ref(t->v[i]);
    *n = t->n;
    pthread_mutex_unlock(&t->lock);
    qsort(v, *n, sizeof(*v), newest_first);
    return v;
}

void
eng_ctr_list_free(struct eng_ctr **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        eng_ctr_put(v[i]);
    free(v);
}

void
eng_ctr_counts(struct eng_daemon *d, int64_t *running, int64_t *paused, int64_t *stopped)
{
    size_t n;
    struct eng_ctr **v = eng_ctr_list(d, &n);
    *running = *paused = *stopped = 0;
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&v[i]->lock);
        enum eng_ctr_status s = v[i]->status;
        pthread_mutex_unlock(&v[i]->lock);
        if (s == ENG_CTR_RUNNING || s == ENG_CTR_RESTARTING)
            (*running)++;
        else if (s == ENG_CTR_PAUSED)
            (*paused)++;
        else
            (*stopped)++;
    }
    eng_ctr_list_free(v, n);
}

const char *
ctr_restart_policy(struct eng_ctr *c, int *max_retries)
{
    struct json_object *p = NULL, *v = NULL;
    *max_retries = 0;
    if (!json_object_object_get_ex(c->host_config, "RestartPolicy", &p) ||
        !json_object_is_type(p, json_type_object))
        return "no";
    if (json_object_object_get_ex(p, "MaximumRetryCount", &v))
        *max_retries = json_object_get_int(v);
    if (!json_object_object_get_ex(p, "Name", &v) || !json_object_is_type(v, json_type_string) ||
        !*json_object_get_string(v))
        return "no";
    return json_object_get_string(v);
}

struct json_object *
ctr_json_number_string(int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%" PRId64, v);
    return json_object_new_string(buf);
}

void
ctr_event(struct eng_daemon *d, struct eng_ctr *c, const char *action, struct json_object *extra)
{
    struct json_object *a = json_object_new_object();
    pthread_mutex_lock(&d->containers->lock);
    json_object_object_add(a, "name", json_object_new_string(c->name));
    pthread_mutex_unlock(&d->containers->lock);
    json_object_object_add(a, "image", json_object_new_string(c->image ? c->image : ""));
    /* The container's labels, as docker adds them. */
    struct json_object *labels = NULL;
    if (json_object_object_get_ex(c->config, "Labels", &labels) &&
        json_object_is_type(labels, json_type_object)) {
        json_object_object_foreach(labels, k, v)
        {
            if (json_object_is_type(v, json_type_string))
                json_object_object_add(a, k, json_object_get(v));
        }
    }
    if (extra) {
        json_object_object_foreach(extra, k, v) json_object_object_add(a, k, json_object_get(v));
        json_object_put(extra);
    }
    eng_events_publish(d->events, "container", action, c->id, a);
}

/* ---------------------------------------------------------------- state documents */

char *
ctr_state_json(struct eng_ctr *c)
{
    cleanup_json struct json_object *o = json_object_new_object();
    json_object_object_add(o, "Status", json_object_new_string(eng_ctr_status_name(c->status)));
    json_object_object_add(o, "Pid", json_object_new_int(c->pid));
    json_object_object_add(o, "ExitCode", json_object_new_int(c->exit_code));
    json_object_object_add(o, "OOMKilled", json_object_new_boolean(c->oom_killed));
    json_object_object_add(o, "Error", json_object_new_string(c->error ? c->error : ""));
    json_object_object_add(o, "StartedAt", json_object_new_int64(c->started_ns));
    json_object_object_add(o, "FinishedAt", json_object_new_int64(c->finished_ns));
    json_object_object_add(o, "RestartCount", json_object_new_int(c->restart_count));
    json_object_object_add(o, "HasTask", json_object_new_boolean(c->has_task));
    json_object_object_add(o, "ManualStop", json_object_new_boolean(c->manual_stop));
    json_object_object_add(o, "ImageID", json_object_new_string(c->image_id ? c->image_id : ""));
    json_object_object_add(o, "LogPath", json_object_new_string(c->log_path ? c->log_path : ""));
    json_object_object_add(o, "Exits", json_object_new_int64((int64_t)c->exits));
    return xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
}

static int64_t
get_i64(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

void
ctr_state_load(struct eng_ctr *c, const char *json)
{
    cleanup_json struct json_object *o = json_tokener_parse(json ? json : "{}");
    if (!o)
        return;
    c->status = status_parse(berth_json_member_string(o, "Status"));
    c->pid = (int)get_i64(o, "Pid");
    c->exit_code = (int)get_i64(o, "ExitCode");
    c->oom_killed = get_i64(o, "OOMKilled") != 0;
    const char *e = berth_json_member_string(o, "Error");
    c->error = e && *e ? xstrdup(e) : NULL;
    c->started_ns = get_i64(o, "StartedAt");
    c->finished_ns = get_i64(o, "FinishedAt");
    c->restart_count = (int)get_i64(o, "RestartCount");
    c->has_task = get_i64(o, "HasTask") != 0;
    c->manual_stop = get_i64(o, "ManualStop") != 0;
    c->exits = (uint64_t)get_i64(o, "Exits");
    const char *s = berth_json_member_string(o, "ImageID");
    c->image_id = xstrdup(s ? s : "");
    s = berth_json_member_string(o, "LogPath");
    c->log_path = xstrdup(s ? s : "");
}

int
eng_ctr_save_state(struct eng_daemon *d, struct eng_ctr *c, struct berth_err *err)
{
    cleanup_free char *state = ctr_state_json(c);
    return eng_store_container_set_state(d->store, c->id, state, err);
}

/* ---------------------------------------------------------------- loading */

static int
load_one(void *data, const struct eng_store_container *row, struct berth_err *err)
{
    struct eng_daemon *d = data;
    cleanup_json struct json_object *config =
        berth_json_parse(row->config, strlen(row->config), err);
    cleanup_json struct json_object *host =
        berth_json_parse(row->host_config, strlen(row->host_config), err);
    if (!config || !host) {
        /* One unreadable row must not keep every other container from the daemon. */
        berth_warn("container %s: unreadable record, left out: %s", row->id, err->msg);
        berth_err_clear(err);
        return 0;
    }
    struct eng_ctr *c = ctr_new(row->id, row->name);
    c->image = xstrdup(row->image);
    c->config = steal_ptr(&config);
    c->host_config = steal_ptr(&host);
    c->created_ns = row->created_ns;
    c->dir = xasprintf("%s/containers/%s", d->root, row->id);
    ctr_state_load(c, row->state);
    ctr_add(d, c);
    eng_ctr_put(c);
    return 0;
}

int
eng_containers_init(struct eng_daemon *d, struct berth_err *err)
{
    struct eng_containers *t = xzalloc(sizeof(*t));
    pthread_mutex_init(&t->lock, NULL);
    pthread_mutex_init(&t->stream_lock, NULL);
    pthread_mutex_init(&t->net_lock, NULL);
    pthread_mutex_init(&t->hosts_lock, NULL);
    d->containers = t;
    if (eng_networks_init(d, err) < 0)
        return -1;
    if (eng_store_container_each(d->store, load_one, d, err) < 0)
        return berth_err_wrap(err, "load containers");
    size_t n;
    struct eng_ctr **v = eng_ctr_list(d, &n);
    for (size_t i = 0; i < n; i++)
        monitor_reconcile(d, v[i]);
    eng_ctr_list_free(v, n);
    return monitor_start(d, err);
}

void
eng_containers_shutdown(struct eng_daemon *d)
{
    struct eng_containers *t = d->containers;
    if (!t)
        return;
    monitor_stop(d);
    ctr_health_stop_all(d);
    for (size_t i = 0; i < t->n; i++)
        eng_ctr_put(t->v[i]);
    free(t->v);
    pthread_mutex_destroy(&t->lock);
    pthread_mutex_destroy(&t->stream_lock);
    pthread_mutex_destroy(&t->net_lock);
    pthread_mutex_destroy(&t->hosts_lock);
    free(t);
    d->containers = NULL;
}
