/* SPDX-License-Identifier: Apache-2.0
 *
 * A container's resources: what it uses (GET /containers/{id}/stats, docker's StatsJSON made by
 * engine/stats from the supervisor's Tasks.Metrics) and what it may use (POST
 * /containers/{id}/update: cgroup limits and the restart policy).
 *
 * Stats: stream=1 (the default) sends one document a line, one a second, until the client
 * goes, the container stops or berthd stops; stream=0 sends one, after a second sample so that
 * precpu_stats is filled (as dockerd), or at once with one-shot=1. A container that is not
 * running gets dockerd's empty document (zeros, "0001-01-01T00:00:00Z" times).
 *
 * Update: the new values are merged into the stored HostConfig (a zero or empty value leaves a
 * field as it is, since docker's client sends every field), checked and turned into the OCI
 * linux.resources by engine/spec (the same checks as create), applied to a running task
 * (Tasks.Update), written into the supervisor's spec (the next start uses them), then stored;
 * a step that fails puts back what the earlier ones changed.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "berth/supervisor/v1/containers.pb-c.h"
#include "berth/supervisor/v1/tasks.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/api/handlers.h"
#include "engine/api/request.h"
#include "engine/api/router.h"
#include "engine/containers/containers.h"
#include "engine/containers/internal.h"
#include "engine/daemon.h"
#include "engine/spec/spec-internal.h"
#include "engine/stats/networks.h"
#include "engine/stats/stats.h"
#include "engine/store/store.h"
#include "engine/supervisor/client.h"

#define TASKS      (&berth__supervisor__v1__tasks__descriptor)
#define CONTAINERS (&berth__supervisor__v1__containers__descriptor)

#define ZERO_TIME "0001-01-01T00:00:00Z"

static bool
is_active(struct eng_ctr *c, int *pid)
{
    pthread_mutex_lock(&c->lock);
    bool running = c->status == ENG_CTR_RUNNING || c->status == ENG_CTR_PAUSED;
    *pid = c->pid;
    pthread_mutex_unlock(&c->lock);
    return running;
}

static char *
slash_name(struct eng_daemon *d, struct eng_ctr *c)
{
    pthread_mutex_lock(&d->containers->lock);
    char *name = xasprintf("/%s", c->name);
    pthread_mutex_unlock(&d->containers->lock);
    return name;
}

/* ---------------------------------------------------------------- stats documents */

static struct json_object *
zero_cpu(void)
{
    struct json_object *cpu = json_object_new_object(), *u = json_object_new_object();
    json_object_object_add(u, "total_usage", json_object_new_int(0));
    json_object_object_add(u, "usage_in_kernelmode", json_object_new_int(0));
    json_object_object_add(u, "usage_in_usermode", json_object_new_int(0));
    json_object_object_add(cpu, "cpu_usage", u);
    struct json_object *t = json_object_new_object();
    json_object_object_add(t, "periods", json_object_new_int(0));
    json_object_object_add(t, "throttled_periods", json_object_new_int(0));
    json_object_object_add(t, "throttled_time", json_object_new_int(0));
    json_object_object_add(cpu, "throttling_data", t);
    return cpu;
}

/* dockerd's document for a container that is not running: its zero values, id and name. */
static struct json_object *
zero_doc(const char *id, const char *name)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "read", json_object_new_string(ZERO_TIME));
    json_object_object_add(o, "preread", json_object_new_string(ZERO_TIME));
    json_object_object_add(o, "pids_stats", json_object_new_object());
    struct json_object *b = json_object_new_object();
    static const char *const blkio[] = {"io_service_bytes_recursive", "io_serviced_recursive",
                                        "io_queue_recursive",         "io_service_time_recursive",
                                        "io_wait_time_recursive",     "io_merged_recursive",
                                        "io_time_recursive",          "sectors_recursive"};
    for (size_t i = 0; i < ARRAY_SIZE(blkio); i++)
        json_object_object_add(b, blkio[i], NULL);
    json_object_object_add(o, "blkio_stats", b);
    json_object_object_add(o, "num_procs", json_object_new_int(0));
    json_object_object_add(o, "storage_stats", json_object_new_object());
    json_object_object_add(o, "cpu_stats", zero_cpu());
    json_object_object_add(o, "precpu_stats", zero_cpu());
    json_object_object_add(o, "memory_stats", json_object_new_object());
    json_object_object_add(o, "name", json_object_new_string(name));
    json_object_object_add(o, "id", json_object_new_string(id));
    return o;
}

/* One docker document for c (running: from the supervisor's metrics, with prev for precpu;
 * else the zero document). *running tells which. NULL with err when the supervisor fails. */
static struct json_object *
sample(struct eng_daemon *d, struct eng_ctr *c, struct json_object *prev, bool *running,
       struct berth_err *err)
{
    cleanup_free char *name = slash_name(d, c);
    int pid = 0;
    *running = is_active(c, &pid);
    if (!*running)
        return zero_doc(c->id, name);

    Berth__Supervisor__V1__MetricsRequest req = BERTH__SUPERVISOR__V1__METRICS_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__MetricsResponse *resp = NULL;
    cleanup_free char *filter = xasprintf("container_id==%s", c->id);
    req.filters = &filter;
    req.n_filters = 1;
    if (eng_sup_call(d->sup, TASKS, "Metrics", &req.base, &resp, err) < 0)
        return NULL;
    const Berth__Supervisor__V1__Metric *m = NULL;
    for (size_t i = 0; i < resp->n_metrics && !m; i++)
        if (resp->metrics[i]->id && strcmp(resp->metrics[i]->id, c->id) == 0)
            m = resp->metrics[i];
    if (!m || !m->data.len) {
        /* The task went between the state check and the call: it stopped. */
        *running = false;
        return zero_doc(c->id, name);
    }
    struct json_object *doc = eng_stats_docker((const char *)m->data.data, m->data.len, c->id, name,
                                               ctr_now_ns(), prev, err);
    if (!doc)
        return NULL;
    /* docker has "networks" only for a container with a network namespace of its own. An
     * update swaps host_config under c->lock: the mode is copied there. */
    pthread_mutex_lock(&c->lock);
    struct json_object *mode = berth_json_member(c->host_config, "NetworkMode");
    cleanup_free char *ms = xstrdup(
        mode && json_object_is_type(mode, json_type_string) ? json_object_get_string(mode) : "");
    pthread_mutex_unlock(&c->lock);
    if (pid > 0 && *ms && strcmp(ms, "none") != 0 && strcmp(ms, "host") != 0 &&
        strcmp(ms, "default") != 0 && strncmp(ms, "container:", 10) != 0) {
        struct berth_err e2 = BERTH_ERR_INIT;
        struct json_object *nets = eng_stats_networks(pid, &e2);
        berth_err_clear(&e2);
        if (nets)
            json_object_object_add(doc, "networks", nets);
    }
    return doc;
}

static bool
daemon_stopping(struct eng_daemon *d)
{
    return __atomic_load_n(&d->stopping, __ATOMIC_ACQUIRE);
}

/* Sleep about ms, in steps, so that a stopping berthd is not held up. false: it is stopping. */
static bool
pause_ms(struct eng_daemon *d, int ms)
{
    for (int slept = 0; slept < ms; slept += 100) {
        if (daemon_stopping(d))
            return false;
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return !daemon_stopping(d);
}

struct stats_stream {
    struct eng_daemon *d;
    struct eng_ctr *c;
    struct json_object *prev;
    size_t n_sent;
};

static int
stream_next(void *ctx, char **buf, size_t *len)
{
    struct stats_stream *s = ctx;
    if (s->n_sent > 0 && !pause_ms(s->d, 1000))
        return 0;
    struct berth_err err = BERTH_ERR_INIT;
    bool running = false;
    struct json_object *doc = sample(s->d, s->c, s->prev, &running, &err);
    if (!doc) {
        berth_err_wrap(&err, "stats of container %.12s", s->c->id);
        berth_err_warn(&err);
        return 0;
    }
    /* A container that stopped ends the stream; one that never ran gets one document. */
    if (!running && s->n_sent > 0) {
        json_object_put(doc);
        return 0;
    }
    json_object_put(s->prev);
    s->prev = running ? json_object_get(doc) : NULL;
    eng_api_append_json(buf, len, doc);
    s->n_sent++;
    return 1;
}

static void
stream_done(void *ctx)
{
    struct stats_stream *s = ctx;
    json_object_put(s->prev);
    eng_ctr_put(s->c);
    free(s);
}

ENG_API_HANDLER(eng_api_containers_stats)
{
    cleanup_ctr struct eng_ctr *c = eng_ctr_find(req->d, eng_api_param(&req->params, "id"), err);
    if (!c)
        return -1;
    bool stream = true, one_shot = false;
    const char *sv = eng_api_query(req, "stream");
    if ((sv && eng_api_query_bool(req, "stream", &stream, err) < 0) ||
        eng_api_query_bool(req, "one-shot", &one_shot, err) < 0)
        return -1;
    if (one_shot && stream)
        return berth_err_fail(err, EINVAL, "cannot have stream=true and one-shot=true");

    if (stream) {
        struct stats_stream *s = xzalloc(sizeof(*s));
        s->d = req->d;
        s->c = steal_ptr(&c);
        static const struct eng_api_stream_ops ops = {stream_next, stream_done};
        return eng_api_reply_stream(req, 200, "application/json", &ops, s);
    }

    bool running = false;
    cleanup_json struct json_object *first = sample(req->d, c, NULL, &running, err);
    if (!first)
        return -1;
    if (running && !one_shot) {
        /* As dockerd: a second sample a second later, so that the CPU figures have a base. */
        if (!pause_ms(req->d, 1000))
            return berth_err_fail(err, ECANCELED, "berthd is stopping");
        struct json_object *second = sample(req->d, c, first, &running, err);
        if (!second)
            return -1;
        return eng_api_reply_json(req, 200, second);
    }
    return eng_api_reply_json(req, 200, json_object_get(first));
}

/* ---------------------------------------------------------------- update */

/* The integer fields of docker's Resources that berth applies. */
static const char *const update_ints[] = {"Memory",      "MemorySwap",       "NanoCpus",
                                          "CpuShares",   "CpuQuota",         "CpuPeriod",
                                          "BlkioWeight", "MemoryReservation"};

/* Merge body's non-zero fields into hc (owned), checking their types. */
static int
merge_resources(struct json_object *body, struct json_object *hc, struct berth_err *err)
{
    for (size_t i = 0; i < ARRAY_SIZE(update_ints); i++) {
        struct json_object *v = berth_json_member(body, update_ints[i]);
        if (!v || json_object_is_type(v, json_type_null))
            continue;
        if (!json_object_is_type(v, json_type_int))
            return berth_err_fail(err, EINVAL, "%s: expected an integer, got %s", update_ints[i],
                                  berth_json_type_name(v));
        if (json_object_get_int64(v) != 0)
            json_object_object_add(hc, update_ints[i], json_object_get(v));
    }
    /* PidsLimit is a pointer in docker's client: present means set (0 and -1: no limit). */
    struct json_object *pids = berth_json_member(body, "PidsLimit");
    if (pids && !json_object_is_type(pids, json_type_null)) {
        if (!json_object_is_type(pids, json_type_int))
            return berth_err_fail(err, EINVAL, "PidsLimit: expected an integer, got %s",
                                  berth_json_type_name(pids));
        json_object_object_add(hc, "PidsLimit", json_object_get(pids));
    }
    static const char *const strings[] = {"CpusetCpus", "CpusetMems"};
    for (size_t i = 0; i < ARRAY_SIZE(strings); i++) {
        struct json_object *v = berth_json_member(body, strings[i]);
        if (!v || json_object_is_type(v, json_type_null))
            continue;
        if (!json_object_is_type(v, json_type_string))
            return berth_err_fail(err, EINVAL, "%s: expected a string, got %s", strings[i],
                                  berth_json_type_name(v));
        if (*json_object_get_string(v))
            json_object_object_add(hc, strings[i], json_object_get(v));
    }
    return 0;
}

static int
merge_restart_policy(struct json_object *body, struct json_object *hc, struct berth_err *err)
{
    struct json_object *rp = berth_json_member(body, "RestartPolicy");
    if (!rp || json_object_is_type(rp, json_type_null))
        return 0;
    if (!json_object_is_type(rp, json_type_object))
        return berth_err_fail(err, EINVAL, "RestartPolicy: expected an object, got %s",
                              berth_json_type_name(rp));
    struct json_object *name = berth_json_member(rp, "Name"),
                       *max = berth_json_member(rp, "MaximumRetryCount");
    if (name && !json_object_is_type(name, json_type_string))
        return berth_err_fail(err, EINVAL, "RestartPolicy.Name: expected a string, got %s",
                              berth_json_type_name(name));
    if (max && !json_object_is_type(max, json_type_int))
        return berth_err_fail(err, EINVAL,
                              "RestartPolicy.MaximumRetryCount: expected an integer, got %s",
                              berth_json_type_name(max));
    const char *n = name ? json_object_get_string(name) : "";
    int64_t m = max ? json_object_get_int64(max) : 0;
    if (!*n)
        return 0; /* not given: unchanged */
    if (strcmp(n, "no") != 0 && strcmp(n, "always") != 0 && strcmp(n, "unless-stopped") != 0 &&
        strcmp(n, "on-failure") != 0)
        return berth_err_fail(err, EINVAL, "invalid restart policy '%s'", n);
    if (m < 0)
        return berth_err_fail(err, EINVAL, "maximum retry count cannot be negative");
    if (m > 0 && strcmp(n, "on-failure") != 0)
        return berth_err_fail(err, EINVAL,
                              "maximum retry count cannot be used with restart policy '%s'", n);
    struct json_object *auto_rm = berth_json_member(hc, "AutoRemove");
    if (strcmp(n, "no") != 0 && auto_rm && json_object_get_boolean(auto_rm))
        return berth_err_fail(err, EINVAL,
                              "Restart policy cannot be updated because AutoRemove is enabled "
                              "for the container");
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "Name", json_object_new_string(n));
    json_object_object_add(o, "MaximumRetryCount", json_object_new_int64(m));
    json_object_object_add(hc, "RestartPolicy", o);
    return 0;
}

/* The OCI linux.resources of hc, with create's checks (messages name HostConfig's fields). */
static struct json_object *
oci_resources(struct eng_ctr *c, struct json_object *hc, struct berth_err *err)
{
    struct engine_spec_input in = {.id = c->id};
    cleanup_json struct json_object *oci_linux = json_object_new_object();
    struct json_object *res = json_object_new_object();
    json_object_object_add(oci_linux, "resources", res);
    struct spec_ctx ctx = {.in = &in, .config = c->config, .host = hc, .oci_linux = oci_linux};
    if (spec_resources(&ctx, err) < 0)
        return NULL;
    return json_object_get(res);
}

/* Put resources (borrowed) into the supervisor's spec of c, so that the next start has them. */
static int
update_spec(struct eng_daemon *d, struct eng_ctr *c, struct json_object *resources,
            struct berth_err *err)
{
    Berth__Supervisor__V1__GetContainerRequest req =
        BERTH__SUPERVISOR__V1__GET_CONTAINER_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__GetContainerResponse *resp = NULL;
    req.id = c->id;
    if (eng_sup_call(d->sup, CONTAINERS, "Get", &req.base, &resp, err) < 0)
        return -1;
    if (!resp->container || !resp->container->spec.data)
        return berth_err_fail(err, EIO, "container %s has no spec", c->id);
    cleanup_json struct json_object *spec =
        berth_json_parse((const char *)resp->container->spec.data, resp->container->spec.len, err);
    if (!spec)
        return -1;
    struct json_object *lx = berth_json_member(spec, "linux");
    if (!lx)
        return berth_err_fail(err, EIO, "container %s has no linux spec", c->id);
    struct json_object *old = berth_json_member(lx, "resources");
    if (!old || !json_object_is_type(old, json_type_object)) {
        old = json_object_new_object();
        json_object_object_add(lx, "resources", old);
    }
    /* Replace the parts update owns; devices and the rest stay. */
    static const char *const parts[] = {"memory", "cpu", "pids", "blockIO"};
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
        struct json_object *v = berth_json_member(resources, parts[i]);
        if (v)
            json_object_object_add(old, parts[i], json_object_get(v));
        else
            json_object_object_del(old, parts[i]);
    }
    const char *text = json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PLAIN);
    Berth__Supervisor__V1__Container ctr = *resp->container;
    ctr.spec.data = (uint8_t *)text;
    ctr.spec.len = strlen(text);
    Berth__Supervisor__V1__UpdateContainerRequest up =
        BERTH__SUPERVISOR__V1__UPDATE_CONTAINER_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__UpdateContainerResponse *updated = NULL;
    char *mask[] = {"spec"};
    up.container = &ctr;
    up.update_mask = mask;
    up.n_update_mask = 1;
    return eng_sup_call(d->sup, CONTAINERS, "Update", &up.base, &updated, err);
}

static int
update_task(struct eng_daemon *d, struct eng_ctr *c, struct json_object *resources,
            struct berth_err *err)
{
    const char *text = json_object_to_json_string_ext(resources, JSON_C_TO_STRING_PLAIN);
    Berth__Supervisor__V1__UpdateTaskRequest req = BERTH__SUPERVISOR__V1__UPDATE_TASK_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__UpdateTaskResponse *resp = NULL;
    req.container_id = c->id;
    req.resources.data = (uint8_t *)text;
    req.resources.len = strlen(text);
    return eng_sup_call(d->sup, TASKS, "Update", &req.base, &resp, err);
}

/* After a failed step, put c's stored limits back where the update had already put the new
 * ones (best effort: the failure being reported is the first one). */
static void
update_rollback(struct eng_daemon *d, struct eng_ctr *c, bool task, bool spec)
{
    struct berth_err e2 = BERTH_ERR_INIT;
    cleanup_json struct json_object *old = oci_resources(c, c->host_config, &e2);
    if (old && task)
        update_task(d, c, old, &e2);
    if (old && spec && !e2.msg)
        update_spec(d, c, old, &e2);
    if (e2.msg) {
        berth_err_wrap(&e2, "container %.12s: restore its limits after a failed update", c->id);
        berth_err_warn(&e2);
    }
    berth_err_clear(&e2);
}

int
eng_api_update_parse(struct eng_ctr *c, struct json_object *body, struct json_object **hc_out,
                     struct json_object **res_out, struct berth_err *err)
{
    cleanup_json struct json_object *hc = NULL;
    if (json_object_deep_copy(c->host_config, &hc, NULL) < 0 || !hc)
        hc = json_object_new_object();
    if (merge_resources(body, hc, err) < 0 || merge_restart_policy(body, hc, err) < 0)
        return -1;
    struct json_object *res = oci_resources(c, hc, err);
    if (!res)
        return -1;
    *hc_out = steal_ptr(&hc);
    *res_out = res;
    return 0;
}

static int
update_locked(struct eng_daemon *d, struct eng_ctr *c, struct json_object *body,
              struct berth_err *err)
{
    cleanup_json struct json_object *hc = NULL, *res = NULL;
    if (eng_api_update_parse(c, body, &hc, &res, err) < 0)
        return -1;
    pthread_mutex_lock(&c->lock);
    bool running = c->status == ENG_CTR_RUNNING || c->status == ENG_CTR_PAUSED;
    bool removing = c->removed || c->status == ENG_CTR_REMOVING;
    pthread_mutex_unlock(&c->lock);
    if (removing)
        return berth_err_fail(err, EBUSY, "container %s is marked for removal", c->id);
    /* The running task first: a value the kernel refuses (a cpuset.mems node it does not
     * have) then changes nothing. Then the spec that the next start reads, then the row. */
    if (running && update_task(d, c, res, err) < 0)
        return berth_err_wrap(err, "Cannot update container %s", c->id);
    if (update_spec(d, c, res, err) < 0) {
        update_rollback(d, c, running, false);
        return berth_err_wrap(err, "Cannot update container %s", c->id);
    }
    const char *text = json_object_to_json_string_ext(hc, JSON_C_TO_STRING_PLAIN);
    if (eng_store_container_set_host_config(d->store, c->id, text, err) < 0) {
        update_rollback(d, c, running, true);
        return -1;
    }
    /* Swapped under the table's lock and the container's (the restart policy reads it there). */
    pthread_mutex_lock(&d->containers->lock);
    pthread_mutex_lock(&c->lock);
    struct json_object *old = c->host_config;
    c->host_config = json_object_get(hc);
    pthread_mutex_unlock(&c->lock);
    pthread_mutex_unlock(&d->containers->lock);
    json_object_put(old);
    return 0;
}

ENG_API_HANDLER(eng_api_containers_update)
{
    cleanup_ctr struct eng_ctr *c = eng_ctr_find(req->d, eng_api_param(&req->params, "id"), err);
    if (!c)
        return -1;
    cleanup_json struct json_object *body = NULL;
    if (eng_api_body_json(req, &body, err) < 0)
        return -1;
    if (!body)
        body = json_object_new_object();
    if (!json_object_is_type(body, json_type_object))
        return berth_err_fail(err, EINVAL, "the body: expected an object, got %s",
                              berth_json_type_name(body));
    /* One change of a container at a time: no start reads a half-updated spec. */
    pthread_mutex_lock(&c->op);
    int rc = update_locked(req->d, c, body, err);
    pthread_mutex_unlock(&c->op);
    if (rc < 0)
        return -1;
    ctr_event(req->d, c, "update", NULL);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "Warnings", json_object_new_array());
    return eng_api_reply_json(req, 200, o);
}
