/* SPDX-License-Identifier: Apache-2.0
 *
 * Exits (internal.h): a thread follows the supervisor's /tasks/exit and /tasks/oom events
 * and records each exit of a container's main process; after each, the container's task is
 * deleted (its shim goes) and the restart policy or auto-remove applies. When the event
 * stream breaks (the supervisor restarted), the thread subscribes again and reconciles every
 * container with the supervisor's tasks, so an exit it missed is still recorded. At berthd's
 * start the same reconciliation catches exits that happened while berthd was down.
 *
 * Restart policies as docker's: no, always, unless-stopped, on-failure[:N]; never after a
 * user's stop; a delay doubling from 100 ms up to a minute, back to 100 ms after a run of 10
 * seconds or more.
 */
#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "berth/supervisor/v1/events.pb-c.h"
#include "berth/supervisor/v1/tasks.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/log.h"
#include "common/rpc.h"
#include "engine/containers/internal.h"
#include "engine/daemon.h"
#include "engine/supervisor/client.h"

#define EVENTS (&berth__supervisor__v1__events__descriptor)

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS   60000
#define RESET_AFTER_NS   (10LL * 1000000000)
/* docker's exit code for a container whose end nobody saw. */
#define EXIT_UNKNOWN 255

static void
save(struct eng_daemon *d, struct eng_ctr *c)
{
    struct berth_err err = BERTH_ERR_INIT;
    if (eng_ctr_save_state(d, c, &err) < 0)
        berth_err_warn(&err);
}

/* ---------------------------------------------------------------- policy actions */

struct action {
    struct eng_daemon *d;
    struct eng_ctr *c;
    int64_t delay_ms;
    bool remove;
};

static void *
action_thread(void *arg)
{
    struct action *a = arg;
    if (a->delay_ms > 0) {
        struct timespec ts = {a->delay_ms / 1000, (a->delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (a->remove) {
        ctr_auto_remove(a->d, a->c);
    } else {
        struct berth_err err = BERTH_ERR_INIT;
        if (ctr_restart_start(a->d, a->c, &err) < 0) {
            berth_err_wrap(&err, "restart container %.12s", a->c->id);
            berth_err_warn(&err);
            /* A start that fails is an exit of its own for the policy: try again later (a
             * user's stop meanwhile ends the retries). */
            pthread_mutex_lock(&a->c->lock);
            a->c->status = ENG_CTR_RESTARTING;
            pthread_mutex_unlock(&a->c->lock);
            monitor_exited(a->d, a->c, 128, ctr_now_ns());
        }
    }
    eng_ctr_put(a->c);
    free(a);
    return NULL;
}

static void
schedule(struct eng_daemon *d, struct eng_ctr *c, int64_t delay_ms, bool remove)
{
    struct action *a = xzalloc(sizeof(*a));
    a->d = d;
    a->c = ctr_ref(c);
    a->delay_ms = delay_ms;
    a->remove = remove;
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, action_thread, a) != 0) {
        berth_warn("container %.12s: cannot start a thread for its policy", c->id);
        eng_ctr_put(c);
        free(a);
    }
    pthread_attr_destroy(&attr);
}

/* Whether the policy restarts c after an exit with code (c->lock held). */
static bool
wants_restart(struct eng_ctr *c, int code)
{
    if (c->manual_stop || c->removed)
        return false;
    int max;
    const char *p = ctr_restart_policy(c, &max);
    if (strcmp(p, "always") == 0 || strcmp(p, "unless-stopped") == 0)
        return true;
    if (strcmp(p, "on-failure") == 0)
        return code != 0 && (max <= 0 || c->restart_count < max);
    return false;
}

void
ctr_schedule_remove(struct eng_daemon *d, struct eng_ctr *c)
{
    schedule(d, c, 0, true);
}

bool
ctr_auto_remove_wanted(struct eng_ctr *c)
{
    struct json_object *v = NULL;
    return json_object_object_get_ex(c->host_config, "AutoRemove", &v) &&
           json_object_get_boolean(v);
}

/* Whether an exit of c is still to be recorded (c->lock held): not removed or being removed,
 * and not seen already (the event after a reconciliation, or twice). */
static bool
is_exit_new(struct eng_ctr *c)
{
    if (c->removed || c->status == ENG_CTR_REMOVING)
        return false;
    bool was_running =
        c->status == ENG_CTR_RUNNING || c->status == ENG_CTR_PAUSED || c->starting || c->has_task;
    return was_running || c->status == ENG_CTR_RESTARTING;
}

void
monitor_exited(struct eng_daemon *d, struct eng_ctr *c, int exit_status, int64_t exited_ns)
{
    pthread_mutex_lock(&c->lock);
    bool is_new = is_exit_new(c);
    pthread_mutex_unlock(&c->lock);
    if (!is_new)
        return;
    /* The network goes before the exit is recorded, as dockerd releases it before a stop
     * returns: whoever waits for the exit (stop, restart, wait, remove) then finds no address
     * and a free host port, and the start of a restart, which follows the exit at once,
     * cannot have the namespace it has just made torn down by this exit's teardown. The
     * container still reads as running meanwhile, so that no start comes in between. Its
     * disconnect events wait for the die event, as dockerd's come. */
    bool released = ctr_net_release(d, c);
    pthread_mutex_lock(&c->lock);
    if (!is_exit_new(c)) {
        pthread_mutex_unlock(&c->lock);
        if (released)
            ctr_net_publish_disconnect(d, c);
        return;
    }
    c->status = ENG_CTR_EXITED;
    c->exit_code = exit_status;
    c->finished_ns = exited_ns ? exited_ns : ctr_now_ns();
    c->pid = 0;
    c->has_task = false;
    c->exits++;
    bool restart = wants_restart(c, exit_status);
    int64_t delay = 0;
    if (restart) {
        bool long_run = c->finished_ns - c->started_ns >= RESET_AFTER_NS;
        delay = long_run || c->backoff_ms <= 0 ? BACKOFF_FIRST_MS : c->backoff_ms;
        c->backoff_ms = delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2;
        c->status = ENG_CTR_RESTARTING;
        c->restart_count++;
        c->restart_at_ns = ctr_now_ns() + delay * 1000000;
    }
    save(d, c);
    pthread_cond_broadcast(&c->cond);
    bool remove = !restart && ctr_auto_remove_wanted(c);
    pthread_mutex_unlock(&c->lock);
    ctr_health_stop(c);

    cleanup_json struct json_object *a = json_object_new_object();
    json_object_object_add(a, "exitCode", ctr_json_number_string(exit_status));
    ctr_event(d, c, "die", json_object_get(a));
    if (released)
        ctr_net_publish_disconnect(d, c);

    struct berth_err err = BERTH_ERR_INIT;
    if (task_delete(d, c->id, &err) < 0) {
        berth_err_wrap(&err, "container %.12s: delete its task", c->id);
        berth_err_warn(&err);
    }
    if (restart || remove)
        schedule(d, c, delay, remove);
}

/* ---------------------------------------------------------------- reconciliation */

void
monitor_reconcile(struct eng_daemon *d, struct eng_ctr *c)
{
    pthread_mutex_lock(&c->lock);
    enum eng_ctr_status s = c->status;
    bool has_task = c->has_task;
    pthread_mutex_unlock(&c->lock);

    if (s == ENG_CTR_RESTARTING) {
        pthread_mutex_lock(&c->lock);
        int64_t delay = c->restart_at_ns - ctr_now_ns();
        pthread_mutex_unlock(&c->lock);
        schedule(d, c, delay > 0 ? delay / 1000000 : 0, false);
        return;
    }
    if (s != ENG_CTR_RUNNING && s != ENG_CTR_PAUSED && !has_task) {
        /* Stopped, but its network may still be there (berthd died during its teardown). */
        ctr_net_teardown(d, c);
        return;
    }

    int status = 0, pid = 0, code = 0;
    int64_t exited = 0;
    struct berth_err err = BERTH_ERR_INIT;
    int r = task_get(d, c->id, &status, &pid, &code, &exited, &err);
    if (r < 0) {
        /* The supervisor is unreachable: keep what was recorded; the monitor thread
         * reconciles again once it is back. */
        berth_debug("reconcile %.12s: %s", c->id, err.msg);
        berth_err_clear(&err);
        return;
    }
    if (r == 0) {
        monitor_exited(d, c, EXIT_UNKNOWN, 0);
    } else if (status == BERTH__SUPERVISOR__V1__STATUS__STOPPED) {
        monitor_exited(d, c, code, exited);
    } else if (status == BERTH__SUPERVISOR__V1__STATUS__RUNNING ||
               status == BERTH__SUPERVISOR__V1__STATUS__PAUSED) {
        pthread_mutex_lock(&c->lock);
        c->status =
            status == BERTH__SUPERVISOR__V1__STATUS__PAUSED ? ENG_CTR_PAUSED : ENG_CTR_RUNNING;
        c->pid = pid;
        c->has_task = true;
        save(d, c);
        pthread_mutex_unlock(&c->lock);
        ctr_health_start(d, c); /* health state is in memory: it starts again */
    }
}

static void
reconcile_all(struct eng_daemon *d)
{
    size_t n;
    struct eng_ctr **v = eng_ctr_list(d, &n);
    for (size_t i = 0; i < n; i++)
        monitor_reconcile(d, v[i]);
    eng_ctr_list_free(v, n);
}

/* ---------------------------------------------------------------- the event thread */

static void
on_envelope(struct eng_daemon *d, const Berth__Supervisor__V1__Envelope *e)
{
    if (strcmp(e->topic, "/tasks/exit") == 0) {
        Berth__Supervisor__V1__TaskExit *x =
            berth__supervisor__v1__task_exit__unpack(NULL, e->event.len, e->event.data);
        if (!x)
            return;
        /* An exec's exit goes to its record, the main process's to the container. */
        if (*x->id && strcmp(x->id, x->container_id) != 0) {
            eng_exec_exited(d, x->id, (int)x->exit_status);
        } else {
            struct berth_err err = BERTH_ERR_INIT;
            cleanup_ctr struct eng_ctr *c = eng_ctr_find(d, x->container_id, &err);
            berth_err_clear(&err);
            if (c && strcmp(c->id, x->container_id) == 0)
                monitor_exited(d, c, (int)x->exit_status, x->exited_at);
        }
        berth__supervisor__v1__task_exit__free_unpacked(x, NULL);
    } else if (strcmp(e->topic, "/tasks/oom") == 0) {
        Berth__Supervisor__V1__TaskOOM *x =
            berth__supervisor__v1__task_oom__unpack(NULL, e->event.len, e->event.data);
        if (!x)
            return;
        struct berth_err err = BERTH_ERR_INIT;
        cleanup_ctr struct eng_ctr *c = eng_ctr_find(d, x->container_id, &err);
        berth_err_clear(&err);
        if (c && strcmp(c->id, x->container_id) == 0) {
            pthread_mutex_lock(&c->lock);
            c->oom_killed = true;
            save(d, c);
            pthread_mutex_unlock(&c->lock);
            ctr_event(d, c, "oom", NULL);
        }
        berth__supervisor__v1__task_oom__free_unpacked(x, NULL);
    }
}

static bool
stopping(struct eng_containers *t)
{
    pthread_mutex_lock(&t->stream_lock);
    bool s = t->stopping;
    pthread_mutex_unlock(&t->stream_lock);
    return s;
}

static void *
monitor_thread(void *arg)
{
    struct eng_daemon *d = arg;
    struct eng_containers *t = d->containers;
    static char *filters[] = {"topic==/tasks/exit", "topic==/tasks/oom"};
    bool first = true;

    while (!stopping(t)) {
        Berth__Supervisor__V1__SubscribeRequest req =
            BERTH__SUPERVISOR__V1__SUBSCRIBE_REQUEST__INIT;
        req.filters = filters;
        req.n_filters = ARRAY_SIZE(filters);
        struct berth_err err = BERTH_ERR_INIT;
        struct berth_rpc_stream *s = eng_sup_stream(d->sup, EVENTS, "Subscribe", &req.base, &err);
        pthread_mutex_lock(&t->stream_lock);
        t->stream = s;
        pthread_mutex_unlock(&t->stream_lock);
        /* Whatever ended while nobody listened (the supervisor's restart): catch up now
         * that new exits will be heard. */
        if (s && !first)
            reconcile_all(d);
        first = false;
        while (s) {
            Berth__Supervisor__V1__Envelope *e = NULL;
            int r = berth_rpc_stream_next(s, (ProtobufCMessage **)&e, &err);
            if (r <= 0)
                break;
            on_envelope(d, e);
            protobuf_c_message_free_unpacked(&e->base, NULL);
        }
        if (err.msg && !stopping(t))
            berth_debug("supervisor events: %s; subscribing again", err.msg);
        berth_err_clear(&err);
        pthread_mutex_lock(&t->stream_lock);
        t->stream = NULL;
        pthread_mutex_unlock(&t->stream_lock);
        eng_sup_stream_close(d->sup, s);
        if (!stopping(t))
            sleep(1);
    }
    return NULL;
}

/* Whether dockerd would start c again at its own start (c->lock held): a container started
 * before and down now whose policy says so, where "always" comes back even after a user's
 * stop (unless-stopped is the policy that remembers it) and on-failure after a failure its
 * count allows, as dockerd's restart manager decides at restore. */
static bool
wants_restart_at_boot(struct eng_ctr *c)
{
    if (c->status != ENG_CTR_EXITED || c->started_ns == 0 || c->removed)
        return false;
    int max;
    const char *p = ctr_restart_policy(c, &max);
    if (strcmp(p, "always") == 0)
        return true;
    if (strcmp(p, "unless-stopped") == 0)
        return !c->manual_stop;
    if (strcmp(p, "on-failure") == 0)
        return c->exit_code != 0 && (max <= 0 || c->restart_count < max);
    return false;
}

static void
restart_at_boot(struct eng_daemon *d)
{
    size_t n;
    struct eng_ctr **v = eng_ctr_list(d, &n);
    for (size_t i = 0; i < n; i++) {
        struct eng_ctr *c = v[i];
        pthread_mutex_lock(&c->lock);
        bool wanted = wants_restart_at_boot(c);
        if (wanted) {
            /* The restart's start runs only on a RESTARTING container nobody stopped. */
            c->status = ENG_CTR_RESTARTING;
            c->manual_stop = false;
            c->restart_at_ns = ctr_now_ns();
            save(d, c);
            pthread_cond_broadcast(&c->cond);
        }
        pthread_mutex_unlock(&c->lock);
        if (wanted)
            schedule(d, c, 0, false);
    }
    eng_ctr_list_free(v, n);
}

int
monitor_start(struct eng_daemon *d, struct berth_err *err)
{
    struct eng_containers *t = d->containers;
    /* Once, at berthd's start, after the reconciliation recorded what exited meanwhile. */
    restart_at_boot(d);
    int rc = pthread_create(&t->monitor, NULL, monitor_thread, d);
    if (rc != 0)
        return berth_err_fail(err, rc, "start the container monitor");
    t->monitor_started = true;
    return 0;
}

void
monitor_stop(struct eng_daemon *d)
{
    struct eng_containers *t = d->containers;
    if (!t->monitor_started)
        return;
    pthread_mutex_lock(&t->stream_lock);
    t->stopping = true;
    if (t->stream)
        berth_rpc_stream_cancel(t->stream);
    pthread_mutex_unlock(&t->stream_lock);
    pthread_join(t->monitor, NULL);
    t->monitor_started = false;
}
