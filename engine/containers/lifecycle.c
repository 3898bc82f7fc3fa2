/* SPDX-License-Identifier: Apache-2.0
 *
 * What users do to containers (containers.h): start, stop, restart, kill, pause, unpause,
 * remove, rename, wait. Each change of state runs under the container's op lock (one at a
 * time), records the new state in engine.db and wakes waiters (c->cond). Exits are recorded
 * by monitor.c, which may run while a start is in flight: a start notes how many exits it has
 * seen and does not call a container running that has already exited.
 */
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "engine/containers/internal.h"
#include "engine/daemon.h"
#include "engine/store/store.h"
#include "engine/volumes/volumes.h"

#define DEFAULT_STOP_TIMEOUT 10
/* After SIGKILL, how long to wait for the supervisor to report the exit. */
#define KILL_WAIT_SECONDS 30

static bool
active(enum eng_ctr_status s)
{
    return s == ENG_CTR_RUNNING || s == ENG_CTR_PAUSED || s == ENG_CTR_RESTARTING;
}

static void
save(struct eng_daemon *d, struct eng_ctr *c)
{
    struct berth_err err = BERTH_ERR_INIT;
    if (eng_ctr_save_state(d, c, &err) < 0) {
        berth_err_wrap(&err, "container %.12s", c->id);
        berth_err_warn(&err);
    }
}

static int
stop_signal(struct eng_ctr *c)
{
    struct json_object *v = NULL;
    if (json_object_object_get_ex(c->config, "StopSignal", &v) &&
        json_object_is_type(v, json_type_string)) {
        int s = eng_signal_parse(json_object_get_string(v));
        if (s > 0)
            return s;
    }
    return SIGTERM;
}

static int
stop_timeout(struct eng_ctr *c)
{
    struct json_object *v = NULL;
    if (json_object_object_get_ex(c->config, "StopTimeout", &v) &&
        json_object_is_type(v, json_type_int))
        return json_object_get_int(v);
    return DEFAULT_STOP_TIMEOUT;
}

/* Wait (c->lock held) until c has exited more than `exits` times, for at most seconds
 * (negative: forever). Whether it did. */
static bool
wait_exit_locked(struct eng_ctr *c, uint64_t exits, int seconds)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += seconds;
    while (c->exits == exits) {
        if (seconds < 0)
            pthread_cond_wait(&c->cond, &c->lock);
        else if (pthread_cond_timedwait(&c->cond, &c->lock, &until) == ETIMEDOUT)
            return c->exits != exits;
    }
    return true;
}

/* ---------------------------------------------------------------- start */

int
ctr_start_error_code(const char *msg)
{
    if (msg &&
        (strstr(msg, "executable file not found") || strstr(msg, "no such file or directory") ||
         strstr(msg, "No such file or directory")))
        return 127;
    if (msg && (strstr(msg, "permission denied") || strstr(msg, "Permission denied")))
        return 126;
    return 128;
}

/* The docker CLI tells run's 126 and 127 from the words of Go's errno texts, which are lower
 * case; the C library's strerror capitalizes them. Lower the first letter of each in place. */
static void
go_errno_words(char *msg)
{
    static const char *const words[] = {"Permission denied", "No such file or directory",
                                        "Is a directory"};
    for (size_t i = 0; msg && i < sizeof(words) / sizeof(words[0]); i++)
        for (char *p = msg; (p = strstr(p, words[i])) != NULL; p++)
            *p = (char)(*p - 'A' + 'a');
}

static int
start_locked(struct eng_daemon *d, struct eng_ctr *c, bool *already, struct berth_err *err)
{
    if (already)
        *already = false;
    pthread_mutex_lock(&c->lock);
    if (c->removed || c->status == ENG_CTR_REMOVING) {
        pthread_mutex_unlock(&c->lock);
        return berth_err_fail(err, EEXIST,
                              "container %s is marked for removal and cannot be started", c->name);
    }
    if (c->status == ENG_CTR_RUNNING || c->status == ENG_CTR_PAUSED) {
        pthread_mutex_unlock(&c->lock);
        if (already)
            *already = true;
        return 0;
    }
    uint64_t exits = c->exits;
    c->starting = true;
    c->manual_stop = false;
    c->restart_at_ns = 0;
    int64_t started = ctr_now_ns();
    pthread_mutex_unlock(&c->lock);

    int pid = 0;
    int rc = ctr_net_setup(d, c, err);
    if (rc == 0) {
        rc = task_create_start(d, c, &pid, err);
        if (rc < 0)
            ctr_net_teardown(d, c);
    }

    pthread_mutex_lock(&c->lock);
    c->starting = false;
    if (rc < 0) {
        go_errno_words(err->msg);
        free(c->error);
        c->error = xstrdup(err->msg ? err->msg : "start failed");
        c->exit_code = ctr_start_error_code(c->error);
        if (c->status == ENG_CTR_RESTARTING)
            c->status = ENG_CTR_EXITED;
        c->has_task = false;
    } else {
        free(c->error);
        c->error = NULL;
        c->started_ns = started;
        if (c->exits == exits) {
            c->status = ENG_CTR_RUNNING;
            c->pid = pid;
            c->has_task = true;
        }
    }
    save(d, c);
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    if (rc < 0)
        return berth_err_wrap(err, "start container %.12s", c->id);
    ctr_event(d, c, "start", NULL);
    ctr_health_start(d, c);
    return 0;
}

int
eng_ctr_start(struct eng_daemon *d, struct eng_ctr *c, bool *already, struct berth_err *err)
{
    pthread_mutex_lock(&c->op);
    int rc = start_locked(d, c, already, err);
    pthread_mutex_unlock(&c->op);
    /* As dockerd: an auto-remove container that cannot start goes (docker run --rm waits for
     * its removal before it reports the error). */
    if (rc < 0 && ctr_auto_remove_wanted(c))
        ctr_schedule_remove(d, c);
    return rc;
}

/* Used by the restart policy (monitor.c): a start that a user's stop in the meantime cancels. */
int
ctr_restart_start(struct eng_daemon *d, struct eng_ctr *c, struct berth_err *err)
{
    pthread_mutex_lock(&c->op);
    pthread_mutex_lock(&c->lock);
    bool wanted = c->status == ENG_CTR_RESTARTING && !c->manual_stop && !c->removed;
    pthread_mutex_unlock(&c->lock);
    int rc = wanted ? start_locked(d, c, NULL, err) : 0;
    pthread_mutex_unlock(&c->op);
    return rc;
}

/* ---------------------------------------------------------------- stop, kill */

static int
stop_locked(struct eng_daemon *d, struct eng_ctr *c, int timeout, bool *already,
            struct berth_err *err)
{
    if (already)
        *already = false;
    pthread_mutex_lock(&c->lock);
    c->manual_stop = true;
    if (c->status == ENG_CTR_RESTARTING) {
        /* Between runs: cancel the pending restart. */
        c->status = ENG_CTR_EXITED;
        c->restart_at_ns = 0;
        save(d, c);
        pthread_cond_broadcast(&c->cond);
        pthread_mutex_unlock(&c->lock);
        return 0;
    }
    if (!active(c->status)) {
        save(d, c);
        pthread_mutex_unlock(&c->lock);
        if (already)
            *already = true;
        return 0;
    }
    bool paused = c->status == ENG_CTR_PAUSED;
    uint64_t exits = c->exits;
    save(d, c);
    pthread_mutex_unlock(&c->lock);

    if (timeout < 0)
        timeout = stop_timeout(c);
    int sig = stop_signal(c);
    struct berth_err e2 = BERTH_ERR_INIT;
    /* A paused container cannot act on a signal: resume it so that it can. */
    if (paused && task_pause(d, c, false, &e2) < 0)
        berth_err_warn(&e2);
    if (task_kill(d, c, sig, false, &e2) < 0) {
        berth_debug("stop %.12s: signal %d: %s", c->id, sig, e2.msg);
        berth_err_clear(&e2);
    } else {
        cleanup_json struct json_object *a = json_object_new_object();
        json_object_object_add(a, "signal", ctr_json_number_string(sig));
        ctr_event(d, c, "kill", json_object_get(a));
    }
    pthread_mutex_lock(&c->lock);
    bool gone = timeout >= 0 && wait_exit_locked(c, exits, timeout);
    pthread_mutex_unlock(&c->lock);
    if (!gone) {
        if (task_kill(d, c, SIGKILL, true, err) < 0) {
            /* An unreachable supervisor sent nothing: no exit can come, say so now rather
             * than after the wait. */
            if (err->code == ECONNREFUSED)
                return berth_err_wrap(err, "stop container %.12s", c->id);
            berth_debug("stop %.12s: SIGKILL: %s", c->id, err->msg);
            berth_err_clear(err);
        }
        pthread_mutex_lock(&c->lock);
        gone = wait_exit_locked(c, exits, KILL_WAIT_SECONDS);
        pthread_mutex_unlock(&c->lock);
        if (!gone)
            return berth_err_fail(err, ETIMEDOUT,
                                  "container %.12s did not exit %d seconds after SIGKILL", c->id,
                                  KILL_WAIT_SECONDS);
    }
    ctr_event(d, c, "stop", NULL);
    return 0;
}

int
eng_ctr_stop(struct eng_daemon *d, struct eng_ctr *c, int timeout, bool *already,
             struct berth_err *err)
{
    pthread_mutex_lock(&c->op);
    int rc = stop_locked(d, c, timeout, already, err);
    pthread_mutex_unlock(&c->op);
    return rc;
}

int
eng_ctr_restart(struct eng_daemon *d, struct eng_ctr *c, int timeout, struct berth_err *err)
{
    pthread_mutex_lock(&c->op);
    int rc = stop_locked(d, c, timeout, NULL, err);
    if (rc == 0)
        rc = start_locked(d, c, NULL, err);
    pthread_mutex_unlock(&c->op);
    if (rc == 0)
        ctr_event(d, c, "restart", NULL);
    return rc;
}

static int
not_running(struct eng_ctr *c, struct berth_err *err)
{
    return berth_err_fail(err, EBUSY, "Container %s is not running", c->id);
}

int
eng_ctr_kill(struct eng_daemon *d, struct eng_ctr *c, int sig, struct berth_err *err)
{
    if (sig == 0)
        sig = SIGKILL;
    pthread_mutex_lock(&c->op);
    pthread_mutex_lock(&c->lock);
    bool running = c->status == ENG_CTR_RUNNING || c->status == ENG_CTR_PAUSED;
    if (running && (sig == SIGKILL || sig == SIGTERM || sig == SIGINT)) {
        c->manual_stop = true;
        save(d, c);
    }
    pthread_mutex_unlock(&c->lock);
    int rc = running ? task_kill(d, c, sig, sig == SIGKILL, err) : not_running(c, err);
    pthread_mutex_unlock(&c->op);
    if (rc == 0) {
        cleanup_json struct json_object *a = json_object_new_object();
        json_object_object_add(a, "signal", ctr_json_number_string(sig));
        ctr_event(d, c, "kill", json_object_get(a));
    }
    return rc;
}

static int
set_paused(struct eng_daemon *d, struct eng_ctr *c, bool pause, struct berth_err *err)
{
    pthread_mutex_lock(&c->op);
    pthread_mutex_lock(&c->lock);
    enum eng_ctr_status s = c->status;
    pthread_mutex_unlock(&c->lock);
    int rc;
    if (pause && s == ENG_CTR_PAUSED)
        rc = berth_err_fail(err, EBUSY, "Container %s is already paused", c->id);
    else if (!pause && s != ENG_CTR_PAUSED)
        rc = berth_err_fail(err, EBUSY, "Container %s is not paused", c->id);
    else if (pause && s != ENG_CTR_RUNNING)
        rc = not_running(c, err);
    else
        rc = task_pause(d, c, pause, err);
    if (rc == 0) {
        pthread_mutex_lock(&c->lock);
        if (c->status == s)
            c->status = pause ? ENG_CTR_PAUSED : ENG_CTR_RUNNING;
        save(d, c);
        pthread_cond_broadcast(&c->cond);
        pthread_mutex_unlock(&c->lock);
    }
    pthread_mutex_unlock(&c->op);
    if (rc == 0)
        ctr_event(d, c, pause ? "pause" : "unpause", NULL);
    return rc;
}

int
eng_ctr_pause(struct eng_daemon *d, struct eng_ctr *c, struct berth_err *err)
{
    return set_paused(d, c, true, err);
}

int
eng_ctr_unpause(struct eng_daemon *d, struct eng_ctr *c, struct berth_err *err)
{
    return set_paused(d, c, false, err);
}

/* ---------------------------------------------------------------- remove, rename */

static int
remove_locked(struct eng_daemon *d, struct eng_ctr *c, bool force, bool volumes,
              struct berth_err *err)
{
    pthread_mutex_lock(&c->lock);
    if (c->removed) {
        pthread_mutex_unlock(&c->lock);
        return berth_err_fail(err, ENOENT, "No such container: %s", c->id);
    }
    if (c->status == ENG_CTR_REMOVING) {
        pthread_mutex_unlock(&c->lock);
        return berth_err_fail(err, EBUSY, "removal of container %s is already in progress", c->id);
    }
    bool running = active(c->status);
    if (running && !force) {
        /* dockerd's words: a paused one must be unpaused before it can stop. */
        bool paused = c->status == ENG_CTR_PAUSED;
        const char *state = eng_ctr_status_name(c->status);
        pthread_mutex_unlock(&c->lock);
        return berth_err_fail(err, EBUSY,
                              "You cannot remove a %s container %s. %stop the container before "
                              "attempting removal or force remove",
                              state, c->id, paused ? "Unpause and then s" : "S");
    }
    c->manual_stop = true;
    uint64_t exits = c->exits;
    bool restarting = c->status == ENG_CTR_RESTARTING;
    pthread_mutex_unlock(&c->lock);

    if (running && !restarting) {
        if (task_kill(d, c, SIGKILL, true, err) < 0) {
            if (err->code == ECONNREFUSED)
                return berth_err_wrap(err, "remove container %.12s", c->id);
            berth_err_clear(err);
        }
        pthread_mutex_lock(&c->lock);
        bool gone = wait_exit_locked(c, exits, KILL_WAIT_SECONDS);
        pthread_mutex_unlock(&c->lock);
        if (!gone)
            return berth_err_fail(err, ETIMEDOUT, "could not kill running container %s", c->id);
    }

    /* The exit stops the prober on the monitor's thread; this waits for it before the
     * container's directory (the probe's fifo) goes. */
    ctr_health_stop(c);
    pthread_mutex_lock(&c->lock);
    c->status = ENG_CTR_REMOVING;
    pthread_mutex_unlock(&c->lock);
    if (task_delete(d, c->id, err) == 0)
        ctr_net_teardown(d, c);
    if (err->msg || sup_container_remove(d, c->id, err) < 0 ||
        eng_volume_detach_all(d, c->id, volumes, err) < 0 ||
        eng_store_container_delete(d->store, c->id, err) < 0) {
        pthread_mutex_lock(&c->lock);
        c->status = ENG_CTR_DEAD;
        save(d, c);
        pthread_mutex_unlock(&c->lock);
        return berth_err_wrap(err, "remove container %.12s", c->id);
    }
    struct berth_err e2 = BERTH_ERR_INIT;
    if (berth_fs_rm_rf(c->dir, &e2) < 0)
        berth_err_warn(&e2);
    ctr_forget(d, c);
    eng_exec_forget_container(d, c->id);
    pthread_mutex_lock(&c->lock);
    c->removed = true;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    ctr_event(d, c, "destroy", NULL);
    return 0;
}

int
eng_ctr_remove(struct eng_daemon *d, struct eng_ctr *c, bool force, bool volumes,
               struct berth_err *err)
{
    pthread_mutex_lock(&c->op);
    int rc = remove_locked(d, c, force, volumes, err);
    pthread_mutex_unlock(&c->op);
    return rc;
}

/* The auto-remove of monitor.c: the container has exited and stays down. */
void
ctr_auto_remove(struct eng_daemon *d, struct eng_ctr *c)
{
    struct berth_err err = BERTH_ERR_INIT;
    if (eng_ctr_remove(d, c, false, true, &err) < 0 && err.code != ENOENT) {
        berth_err_wrap(&err, "auto-remove");
        berth_err_warn(&err);
    }
    berth_err_clear(&err);
}

int
eng_ctr_rename(struct eng_daemon *d, struct eng_ctr *c, const char *name, struct berth_err *err)
{
    const char *n = name && name[0] == '/' ? name + 1 : name;
    if (!n || !*n)
        return berth_err_fail(err, EINVAL, "Neither old nor new names may be empty");
    if (!ctr_name_valid(n))
        return berth_err_fail(err, EINVAL,
                              "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                              "allowed",
                              name);
    if (strcmp(n, c->name) == 0)
        return berth_err_fail(err, EEXIST,
                              "Renaming a container with the same name as its "
                              "current name");
    if (ctr_name_taken(d, n))
        return berth_err_fail(err, EEXIST,
                              "Error when allocating new name: Conflict. The container name "
                              "\"/%s\" is already in use by another container.",
                              n);
    if (eng_store_container_rename(d->store, c->id, n, err) < 0) {
        if (err->code == EEXIST) {
            berth_err_clear(err);
            return berth_err_fail(err, EEXIST, "The container name \"/%s\" is already in use", n);
        }
        return -1;
    }
    cleanup_free char *old = NULL;
    ctr_set_name(d, c, n, &old);
    cleanup_json struct json_object *a = json_object_new_object();
    json_object_object_add(a, "oldName", json_object_new_string(old));
    ctr_event(d, c, "rename", json_object_get(a));
    return 0;
}

/* ---------------------------------------------------------------- wait */

uint64_t
eng_ctr_exits(struct eng_ctr *c)
{
    pthread_mutex_lock(&c->lock);
    uint64_t n = c->exits;
    pthread_mutex_unlock(&c->lock);
    return n;
}

int
eng_ctr_wait(struct eng_ctr *c, enum eng_wait_condition cond, uint64_t exits,
             bool (*cancelled)(void *), void *data, int *code, struct berth_err *err)
{
    pthread_mutex_lock(&c->lock);
    for (;;) {
        bool done = cond == ENG_WAIT_REMOVED     ? c->removed
                    : cond == ENG_WAIT_NEXT_EXIT ? c->exits != exits || c->removed
                                                 : !active(c->status) && !c->starting;
        if (done)
            break;
        if (cancelled && cancelled(data)) {
            pthread_mutex_unlock(&c->lock);
            return berth_err_fail(err, ECANCELED, "wait cancelled");
        }
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += 200 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&c->cond, &c->lock, &until);
    }
    *code = c->exit_code;
    pthread_mutex_unlock(&c->lock);
    return 0;
}
