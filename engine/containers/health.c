/* SPDX-License-Identifier: Apache-2.0
 *
 * Health checks (internal.h): docker's HEALTHCHECK. While a container with Config.Healthcheck
 * runs, a thread of its own runs the probe every Interval as an exec through the supervisor
 * (Tasks.Exec + Tasks.Start with the container's process spec and the probe's command), reads
 * its output from a fifo the shim writes both streams to, and polls its exit (Tasks.Get with
 * the exec id), killing it after Timeout. The results make State.Health as dockerd keeps it:
 *
 *   start --> starting --(exit 0)--> healthy --(Retries failures in a row)--> unhealthy
 *                 \-------(Retries failures after StartPeriod)-------------------^
 *   any exit 0 --> healthy; the container's exit --> unhealthy (dockerd does so too)
 *
 * with the last 5 results (Start, End, ExitCode, Output up to 4096 bytes). A change of status
 * publishes "health_status: <status>". The state is in memory only: after a berthd restart a
 * running container starts again from "starting".
 *
 * Locks: c->lock before h->lock, never the other way; the prober never takes c->op, so a
 * start (which holds it) may start a prober and an exit may join one.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "berth/supervisor/v1/containers.pb-c.h"
#include "berth/supervisor/v1/tasks.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/log.h"
#include "engine/containers/internal.h"
#include "engine/daemon.h"
#include "engine/supervisor/client.h"

#define TASKS      (&berth__supervisor__v1__tasks__descriptor)
#define CONTAINERS (&berth__supervisor__v1__containers__descriptor)

#define NS              INT64_C(1000000000)
#define DEFAULT_NS      (30 * NS) /* Interval and Timeout when 0 */
#define DEFAULT_RETRIES 3
#define LOG_MAX         5    /* results kept, as dockerd */
#define OUTPUT_MAX      4096 /* bytes of output kept per result, as dockerd */
#define POLL_MS         100

static const char STARTING[] = "starting", HEALTHY[] = "healthy", UNHEALTHY[] = "unhealthy";

struct health_result {
    int64_t start_ns, end_ns;
    int exit_code;
    char *output;
};

struct ctr_health {
    /* Held by start and stop for their whole run (a join included), so that two of them
     * (a start and an exit, a removal and berthd's stop) never race over the thread. The
     * prober never takes it. */
    pthread_mutex_t ctl;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* broadcast when stop is set */
    bool stop;
    bool has_thread; /* thread is to be joined (it may have ended by itself) */
    pthread_t thread;
    const char *status; /* STARTING, HEALTHY or UNHEALTHY */
    int failing_streak;
    struct health_result log[LOG_MAX];
    size_t n_log;
};

/* What the Healthcheck says, read once per start. */
struct probe_cfg {
    struct json_object *args; /* the command to run */
    int64_t interval_ns, timeout_ns, start_period_ns;
    int retries;
};

struct prober {
    struct eng_daemon *d;
    struct eng_ctr *c;
    struct ctr_health *h;
    struct probe_cfg cfg;
    struct json_object *process; /* the container's process spec, fetched at the first probe */
    char *fifo;
};

static int64_t
get_ns(struct json_object *hc, const char *key, int64_t dflt)
{
    struct json_object *v = berth_json_member(hc, key);
    int64_t n = v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
    return n > 0 ? n : dflt;
}

/* The probe of c's Healthcheck: 1 with *cfg filled, 0 when it has none (absent, empty Test or
 * ["NONE"]). */
static int
probe_cfg_read(struct eng_ctr *c, struct probe_cfg *cfg)
{
    struct json_object *hc = berth_json_member(c->config, "Healthcheck");
    struct json_object *test = berth_json_member(hc, "Test");
    if (!test || !json_object_is_type(test, json_type_array) || !json_object_array_length(test))
        return 0;
    size_t n = json_object_array_length(test);
    for (size_t i = 0; i < n; i++)
        if (!json_object_is_type(json_object_array_get_idx(test, i), json_type_string))
            return 0;
    const char *kind = json_object_get_string(json_object_array_get_idx(test, 0));
    struct json_object *args = NULL;
    if (strcmp(kind, "CMD") == 0 && n > 1) {
        args = json_object_new_array();
        for (size_t i = 1; i < n; i++)
            json_object_array_add(args, json_object_get(json_object_array_get_idx(test, i)));
    } else if (strcmp(kind, "CMD-SHELL") == 0 && n > 1) {
        /* Config.Shell when set, else /bin/sh -c, as docker. */
        args = json_object_new_array();
        struct json_object *shell = berth_json_member(c->config, "Shell");
        if (shell && json_object_is_type(shell, json_type_array) &&
            json_object_array_length(shell)) {
            for (size_t i = 0; i < json_object_array_length(shell); i++)
                json_object_array_add(args, json_object_get(json_object_array_get_idx(shell, i)));
        } else {
            json_object_array_add(args, json_object_new_string("/bin/sh"));
            json_object_array_add(args, json_object_new_string("-c"));
        }
        json_object_array_add(args, json_object_get(json_object_array_get_idx(test, 1)));
    } else {
        return 0; /* "NONE", or a form docker would not run either */
    }
    cfg->args = args;
    cfg->interval_ns = get_ns(hc, "Interval", DEFAULT_NS);
    cfg->timeout_ns = get_ns(hc, "Timeout", DEFAULT_NS);
    cfg->start_period_ns = get_ns(hc, "StartPeriod", 0);
    int64_t r = get_ns(hc, "Retries", DEFAULT_RETRIES);
    cfg->retries = r > 1000000 ? 1000000 : (int)r;
    return 1;
}

/* ---------------------------------------------------------------- the state */

static void
result_clear(struct health_result *r)
{
    free(r->output);
    r->output = NULL;
}

static void
log_clear(struct ctr_health *h)
{
    for (size_t i = 0; i < h->n_log; i++)
        result_clear(&h->log[i]);
    h->n_log = 0;
}

/* Record a probe's result (takes r->output) and publish a change of status. */
static void
record(struct prober *p, struct health_result *r)
{
    struct ctr_health *h = p->h;
    pthread_mutex_lock(&p->c->lock);
    int64_t started = p->c->started_ns;
    pthread_mutex_unlock(&p->c->lock);

    pthread_mutex_lock(&h->lock);
    if (h->stop) {
        /* The container stopped while the probe ran: its result no longer counts. */
        pthread_mutex_unlock(&h->lock);
        result_clear(r);
        return;
    }
    const char *old = h->status;
    if (r->exit_code == 0) {
        h->failing_streak = 0;
        h->status = HEALTHY;
    } else if (h->status != STARTING || r->start_ns - started >= p->cfg.start_period_ns) {
        /* Failures within StartPeriod of a container never healthy yet do not count. */
        if (++h->failing_streak >= p->cfg.retries)
            h->status = UNHEALTHY;
    }
    if (h->n_log == LOG_MAX) {
        result_clear(&h->log[0]);
        memmove(&h->log[0], &h->log[1], (LOG_MAX - 1) * sizeof(h->log[0]));
        h->n_log--;
    }
    h->log[h->n_log++] = *r;
    r->output = NULL;
    const char *now = h->status;
    pthread_mutex_unlock(&h->lock);
    if (now != old) {
        cleanup_free char *action = xasprintf("health_status: %s", now);
        ctr_event(p->d, p->c, action, NULL);
    }
}

/* ---------------------------------------------------------------- one probe */

/* Wait ns unless told to stop; false when told. */
static bool
sleep_ns(struct ctr_health *h, int64_t ns)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    int64_t t = (int64_t)until.tv_nsec + ns;
    until.tv_sec += (time_t)(t / NS);
    until.tv_nsec = (long)(t % NS);
    pthread_mutex_lock(&h->lock);
    while (!h->stop && pthread_cond_timedwait(&h->cond, &h->lock, &until) != ETIMEDOUT)
        ;
    bool stop = h->stop;
    pthread_mutex_unlock(&h->lock);
    return !stop;
}

static void
new_exec_id(char out[65])
{
    unsigned char b[32];
    for (size_t got = 0; got < sizeof(b);) {
        ssize_t r = getrandom(b + got, sizeof(b) - got, 0);
        if (r > 0)
            got += (size_t)r;
    }
    for (size_t i = 0; i < sizeof(b); i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* The container's process spec with the probe's command, as a JSON text (heap). */
static char *
probe_spec(struct prober *p, struct berth_err *err)
{
    if (!p->process) {
        Berth__Supervisor__V1__GetContainerRequest req =
            BERTH__SUPERVISOR__V1__GET_CONTAINER_REQUEST__INIT;
        cleanup_pb Berth__Supervisor__V1__GetContainerResponse *resp = NULL;
        req.id = p->c->id;
        if (eng_sup_call(p->d->sup, CONTAINERS, "Get", &req.base, &resp, err) < 0)
            return NULL;
        if (!resp->container || !resp->container->spec.data)
            return berth_err_fail(err, EIO, "container %s has no spec", p->c->id), NULL;
        cleanup_json struct json_object *spec = berth_json_parse(
            (const char *)resp->container->spec.data, resp->container->spec.len, err);
        if (!spec)
            return NULL;
        if (json_object_deep_copy(berth_json_member(spec, "process"), &p->process, NULL) < 0 ||
            !p->process)
            return berth_err_fail(err, EIO, "container %s has no process spec", p->c->id), NULL;
        json_object_object_add(p->process, "args", json_object_get(p->cfg.args));
        json_object_object_add(p->process, "terminal", json_object_new_boolean(false));
        json_object_object_del(p->process, "consoleSize");
    }
    return xstrdup(json_object_to_json_string_ext(p->process, JSON_C_TO_STRING_PLAIN));
}

static void
drain(int fd, char *buf, size_t *len)
{
    char tmp[4096];
    ssize_t r;
    while ((r = read(fd, tmp, sizeof(tmp))) > 0) {
        size_t room = OUTPUT_MAX - *len;
        size_t take = (size_t)r < room ? (size_t)r : room;
        memcpy(buf + *len, tmp, take);
        *len += take;
    }
}

/* The exec's status: 1 with *code when it has exited, 0 while it runs, -1 with err. */
static int
exec_exited(struct prober *p, const char *exec_id, int *code, struct berth_err *err)
{
    Berth__Supervisor__V1__GetRequest req = BERTH__SUPERVISOR__V1__GET_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__GetResponse *resp = NULL;
    req.container_id = p->c->id;
    req.exec_id = (char *)exec_id;
    if (eng_sup_call(p->d->sup, TASKS, "Get", &req.base, &resp, err) < 0)
        return -1;
    if (!resp->process || resp->process->status != BERTH__SUPERVISOR__V1__STATUS__STOPPED)
        return 0;
    *code = (int)resp->process->exit_status;
    return 1;
}

static void
exec_kill(struct prober *p, const char *exec_id)
{
    Berth__Supervisor__V1__KillRequest req = BERTH__SUPERVISOR__V1__KILL_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__KillResponse *resp = NULL;
    struct berth_err err = BERTH_ERR_INIT;
    req.container_id = p->c->id;
    req.exec_id = (char *)exec_id;
    req.signal = SIGKILL;
    if (eng_sup_call(p->d->sup, TASKS, "Kill", &req.base, &resp, &err) < 0)
        berth_err_clear(&err);
}

static void
exec_delete(struct prober *p, const char *exec_id)
{
    Berth__Supervisor__V1__DeleteTaskRequest req = BERTH__SUPERVISOR__V1__DELETE_TASK_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__DeleteResponse *resp = NULL;
    struct berth_err err = BERTH_ERR_INIT;
    req.container_id = p->c->id;
    req.exec_id = (char *)exec_id;
    if (eng_sup_call(p->d->sup, TASKS, "Delete", &req.base, &resp, &err) < 0)
        berth_err_clear(&err);
}

/* Go's way of printing a duration, for dockerd's timeout message ("30s", "1.5s", "500ms"). */
static char *
go_duration(int64_t ns)
{
    if (ns % NS == 0)
        return xasprintf("%" PRId64 "s", ns / NS);
    if (ns < NS)
        return xasprintf("%" PRId64 "ms", ns / 1000000);
    return xasprintf("%.3gs", (double)ns / NS);
}

/* Wait for the started exec's exit, reading its output, until the timeout. Returns 1 with
 * r filled, 0 when the prober is stopping (the exec is killed). */
static int
await_exit(struct prober *p, const char *exec_id, int fd, struct health_result *r)
{
    char buf[OUTPUT_MAX];
    size_t len = 0;
    int64_t deadline = r->start_ns + p->cfg.timeout_ns;
    for (;;) {
        drain(fd, buf, &len);
        struct berth_err err = BERTH_ERR_INIT;
        int code = 0;
        int rc = exec_exited(p, exec_id, &code, &err);
        if (rc == 1) {
            drain(fd, buf, &len);
            r->exit_code = code;
            r->output = strndup(buf, len);
            return 1;
        }
        if (rc < 0) {
            r->exit_code = -1;
            r->output = xstrdup(err.msg ? err.msg : "health check failed");
            berth_err_clear(&err);
            return 1;
        }
        if (ctr_now_ns() >= deadline) {
            exec_kill(p, exec_id);
            cleanup_free char *t = go_duration(p->cfg.timeout_ns);
            r->exit_code = -1;
            r->output = xasprintf("Health check exceeded timeout (%s)", t);
            return 1;
        }
        if (!sleep_ns(p->h, POLL_MS * 1000000LL)) {
            exec_kill(p, exec_id);
            return 0;
        }
    }
}

/* Run the probe once. 1 with r filled (the exec could not start is a failure of its own), 0
 * when stopping. */
static int
probe(struct prober *p, struct health_result *r)
{
    memset(r, 0, sizeof(*r));
    r->start_ns = ctr_now_ns();
    struct berth_err err = BERTH_ERR_INIT;
    char exec_id[65];
    new_exec_id(exec_id);
    cleanup_free char *spec = probe_spec(p, &err);
    /* Our read end is open before the shim opens the fifo, so that its open never waits. */
    cleanup_close int fd = spec ? open(p->fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC) : -1;
    if (spec && fd < 0)
        berth_err_set(&err, errno, "open %s", p->fifo);
    int rc = 1;
    bool made = false;
    if (fd >= 0) {
        Berth__Supervisor__V1__ExecProcessRequest req =
            BERTH__SUPERVISOR__V1__EXEC_PROCESS_REQUEST__INIT;
        Berth__Supervisor__V1__IO io = BERTH__SUPERVISOR__V1__IO__INIT;
        cleanup_pb Berth__Supervisor__V1__ExecProcessResponse *resp = NULL;
        req.container_id = p->c->id;
        req.exec_id = exec_id;
        req.spec.data = (uint8_t *)spec;
        req.spec.len = strlen(spec);
        io.stdout = p->fifo;
        io.stderr = p->fifo;
        req.io = &io;
        made = eng_sup_call(p->d->sup, TASKS, "Exec", &req.base, &resp, &err) == 0;
    }
    if (made) {
        Berth__Supervisor__V1__StartRequest start = BERTH__SUPERVISOR__V1__START_REQUEST__INIT;
        cleanup_pb Berth__Supervisor__V1__StartResponse *started = NULL;
        start.container_id = p->c->id;
        start.exec_id = exec_id;
        if (eng_sup_call(p->d->sup, TASKS, "Start", &start.base, &started, &err) == 0) {
            rc = await_exit(p, exec_id, fd, r);
        } else {
            /* dockerd records a probe that could not start as -1 with the runtime's error. */
            r->exit_code = -1;
            r->output = xstrdup(err.msg ? err.msg : "");
        }
        exec_delete(p, exec_id);
    } else {
        r->exit_code = -1;
        r->output = xstrdup(err.msg ? err.msg : "");
    }
    berth_err_clear(&err);
    r->end_ns = ctr_now_ns();
    return rc;
}

/* ---------------------------------------------------------------- the prober thread */

static void
prober_free(struct prober *p)
{
    if (p->fifo)
        unlink(p->fifo);
    free(p->fifo);
    json_object_put(p->cfg.args);
    json_object_put(p->process);
    eng_ctr_put(p->c);
    free(p);
}

static void *
prober_thread(void *arg)
{
    struct prober *p = arg;
    while (sleep_ns(p->h, p->cfg.interval_ns)) {
        pthread_mutex_lock(&p->c->lock);
        enum eng_ctr_status s = p->c->status;
        pthread_mutex_unlock(&p->c->lock);
        if (s == ENG_CTR_PAUSED)
            continue; /* no process can be added to a frozen container */
        if (s != ENG_CTR_RUNNING)
            break;
        struct health_result r;
        if (!probe(p, &r))
            break;
        record(p, &r);
    }
    prober_free(p);
    return NULL;
}

/* ---------------------------------------------------------------- the hooks */

/* Stop and join h's prober, if any (h->ctl held). */
static void
stop_prober(struct ctr_health *h)
{
    pthread_mutex_lock(&h->lock);
    bool joinable = h->has_thread;
    pthread_t t = h->thread;
    h->has_thread = false;
    h->stop = true;
    if (joinable)
        h->status = UNHEALTHY; /* dockerd: a stopped monitor leaves "unhealthy" */
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
    if (joinable)
        pthread_join(t, NULL);
}

void
ctr_health_start(struct eng_daemon *d, struct eng_ctr *c)
{
    struct probe_cfg cfg = {0};
    if (!probe_cfg_read(c, &cfg))
        return;

    pthread_mutex_lock(&c->lock);
    if (!c->health) {
        struct ctr_health *h = xzalloc(sizeof(*h));
        pthread_mutex_init(&h->ctl, NULL);
        pthread_mutex_init(&h->lock, NULL);
        pthread_cond_init(&h->cond, NULL);
        c->health = h;
    }
    struct ctr_health *h = c->health;
    pthread_mutex_unlock(&c->lock);

    pthread_mutex_lock(&h->ctl);
    stop_prober(h); /* a prober of the previous run that nobody stopped */
    /* Read after the stop: an exit that came meanwhile has been recorded, and a stopping
     * berthd (which stops every prober once) starts no more. */
    pthread_mutex_lock(&c->lock);
    bool running = c->status == ENG_CTR_RUNNING && !c->removed;
    pthread_mutex_unlock(&c->lock);
    if (!running || __atomic_load_n(&d->stopping, __ATOMIC_ACQUIRE)) {
        pthread_mutex_unlock(&h->ctl);
        json_object_put(cfg.args);
        return;
    }

    struct prober *p = xzalloc(sizeof(*p));
    p->d = d;
    p->c = ctr_ref(c);
    p->h = h;
    p->cfg = cfg;
    p->fifo = xasprintf("%s/health.fifo", c->dir);
    unlink(p->fifo);
    if (mkfifo(p->fifo, 0600) < 0) {
        berth_warn("container %.12s: health check: mkfifo %s: %s", c->id, p->fifo, strerror(errno));
        free(p->fifo);
        p->fifo = NULL;
        prober_free(p);
        pthread_mutex_unlock(&h->ctl);
        return;
    }
    pthread_mutex_lock(&h->lock);
    h->stop = false;
    h->status = STARTING;
    h->failing_streak = 0; /* the Log of earlier runs stays, as dockerd keeps it */
    int rc = pthread_create(&h->thread, NULL, prober_thread, p);
    h->has_thread = rc == 0;
    pthread_mutex_unlock(&h->lock);
    if (rc != 0) {
        berth_warn("container %.12s: cannot start its health check: %s", c->id, strerror(rc));
        prober_free(p);
    }
    pthread_mutex_unlock(&h->ctl);
}

void
ctr_health_stop(struct eng_ctr *c)
{
    pthread_mutex_lock(&c->lock);
    struct ctr_health *h = c->health;
    pthread_mutex_unlock(&c->lock);
    if (!h)
        return;
    pthread_mutex_lock(&h->ctl);
    stop_prober(h);
    pthread_mutex_unlock(&h->ctl);
}

void
ctr_health_stop_all(struct eng_daemon *d)
{
    size_t n;
    struct eng_ctr **v = eng_ctr_list(d, &n);
    for (size_t i = 0; i < n; i++)
        ctr_health_stop(v[i]);
    eng_ctr_list_free(v, n);
}

void
ctr_health_free(struct eng_ctr *c)
{
    struct ctr_health *h = c->health;
    if (!h)
        return;
    /* A prober that ended by itself (its container stopped) and was never joined; when it
     * dropped the last reference, this runs on it and it lets itself go. */
    if (h->has_thread) {
        if (pthread_equal(h->thread, pthread_self()))
            pthread_detach(h->thread);
        else
            pthread_join(h->thread, NULL);
    }
    log_clear(h);
    pthread_mutex_destroy(&h->ctl);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->cond);
    free(h);
    c->health = NULL;
}

const char *
ctr_health_status(struct eng_ctr *c)
{
    struct ctr_health *h = c->health;
    if (!h)
        return NULL;
    pthread_mutex_lock(&h->lock);
    const char *s = h->status;
    pthread_mutex_unlock(&h->lock);
    return s;
}

struct json_object *
ctr_health_doc(struct eng_ctr *c)
{
    struct ctr_health *h = c->health;
    if (!h)
        return NULL;
    struct json_object *o = json_object_new_object();
    struct json_object *log = json_object_new_array();
    pthread_mutex_lock(&h->lock);
    json_object_object_add(o, "Status", json_object_new_string(h->status ? h->status : STARTING));
    json_object_object_add(o, "FailingStreak", json_object_new_int(h->failing_streak));
    for (size_t i = 0; i < h->n_log; i++) {
        struct json_object *e = json_object_new_object();
        cleanup_free char *start = eng_time_rfc3339(h->log[i].start_ns);
        cleanup_free char *end = eng_time_rfc3339(h->log[i].end_ns);
        json_object_object_add(e, "Start", json_object_new_string(start));
        json_object_object_add(e, "End", json_object_new_string(end));
        json_object_object_add(e, "ExitCode", json_object_new_int(h->log[i].exit_code));
        json_object_object_add(e, "Output",
                               json_object_new_string(h->log[i].output ? h->log[i].output : ""));
        json_object_array_add(log, e);
    }
    pthread_mutex_unlock(&h->lock);
    json_object_object_add(o, "Log", log);
    return o;
}
