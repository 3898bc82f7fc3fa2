/* SPDX-License-Identifier: Apache-2.0
 *
 * What the files of engine/containers share: the table, the supervisor calls (task.c), the
 * exit handling (monitor.c) and state documents (registry.c).
 */
#ifndef BERTH_ENGINE_CONTAINERS_INTERNAL_H
#define BERTH_ENGINE_CONTAINERS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/containers/containers.h"

struct berth_rpc_stream;
struct json_object;

struct eng_containers {
    pthread_mutex_t lock; /* the vector and every name */
    struct eng_ctr **v;
    size_t n, cap;

    /* monitor.c: the thread following the supervisor's events. */
    pthread_t monitor;
    bool monitor_started;
    pthread_mutex_t stream_lock;
    struct berth_rpc_stream *stream;
    bool stopping;

    /* network.c: one network setup or teardown at a time (host ports are checked against
     * every container's before they are taken). */
    pthread_mutex_t net_lock;
    /* network.c: one /etc/hosts rewrite at a time, so that the last one written is made from
     * the latest state (two containers starting on one network rewrite each other's). */
    pthread_mutex_t hosts_lock;
};

/* registry.c */
struct eng_ctr *ctr_new(const char *id, const char *name);
struct eng_ctr *ctr_ref(struct eng_ctr *c);               /* another reference; returns c */
void ctr_add(struct eng_daemon *d, struct eng_ctr *c);    /* the table takes a reference */
void ctr_forget(struct eng_daemon *d, struct eng_ctr *c); /* drops the table's reference */
bool ctr_name_taken(struct eng_daemon *d, const char *name);
/* docker's rule for names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (without the '/'). */
bool ctr_name_valid(const char *name);
/* Rename c in the table; *old gets the previous name (heap). */
void ctr_set_name(struct eng_daemon *d, struct eng_ctr *c, const char *name, char **old);
/* The state document saved in engine.db, and back. */
char *ctr_state_json(struct eng_ctr *c);
void ctr_state_load(struct eng_ctr *c, const char *json);
int64_t ctr_now_ns(void);
/* Docker's restart policy of c: name ("no", "always", "unless-stopped", "on-failure") and
 * MaximumRetryCount. */
const char *ctr_restart_policy(struct eng_ctr *c, int *max_retries);
/* A number as a JSON string (event attributes are strings). */
struct json_object *ctr_json_number_string(int64_t v);
/* Publish a container event with name and image attributes (and extra, taken, merged). */
void ctr_event(struct eng_daemon *d, struct eng_ctr *c, const char *action,
               struct json_object *extra);

/* logconfig.c: the json-file driver's options (opts: LogConfig.Config, may be NULL), with the
 * daemon's log-opts for what the container does not set. max size: bytes, 0 for no rotation,
 * -1 when unreadable; max files: >= 1, 0 when unreadable. */
const char *eng_ctr_default_log_driver(struct eng_daemon *d);
int64_t eng_ctr_log_max_size(struct eng_daemon *d, struct json_object *opts);
int eng_ctr_log_max_files(struct eng_daemon *d, struct json_object *opts);

/* task.c: the supervisor's Tasks, Containers and Snapshots calls. */
int task_create_start(struct eng_daemon *d, struct eng_ctr *c, int *pid, struct berth_err *err);
int task_kill(struct eng_daemon *d, struct eng_ctr *c, int sig, bool all, struct berth_err *err);
/* Delete the task (after its exit); a missing task is not an error. */
int task_delete(struct eng_daemon *d, const char *id, struct berth_err *err);
int task_pause(struct eng_daemon *d, struct eng_ctr *c, bool pause, struct berth_err *err);
/* The supervisor's view of c's init process: 1 with status (a supervisor Status), pid,
 * exit status and time; 0 when it has no task. */
int task_get(struct eng_daemon *d, const char *id, int *status, int *pid, int *exit_status,
             int64_t *exited_ns, struct berth_err *err);
/* Remove the supervisor's container record and its snapshot (either may be missing). */
int sup_container_remove(struct eng_daemon *d, const char *id, struct berth_err *err);

/* lifecycle.c, for monitor.c: a policy restart (skipped when a user stopped the container
 * meanwhile) and the auto-remove of an exited container. */
int ctr_restart_start(struct eng_daemon *d, struct eng_ctr *c, struct berth_err *err);
void ctr_auto_remove(struct eng_daemon *d, struct eng_ctr *c);

/* docker's exit code for a process that could not start, from the runtime's message: 127
 * not found, 126 not executable, else 128. */
int ctr_start_error_code(const char *msg);

/* health.c: docker's HEALTHCHECK. start: after a start (and for a running container found at
 * berthd's start), run Config.Healthcheck's probe every Interval while c runs (nothing when it
 * has none); stop: at its exit, stop and join the prober (Health becomes "unhealthy"). Neither
 * may be called with c->lock held. free: from the container's free. status and doc (c->lock
 * held): "starting", "healthy", "unhealthy" and State.Health; NULL when c has no health state. */
void ctr_health_start(struct eng_daemon *d, struct eng_ctr *c);
void ctr_health_stop(struct eng_ctr *c);
/* At berthd's stop, before the supervisor's client goes: stop every prober. */
void ctr_health_stop_all(struct eng_daemon *d);
void ctr_health_free(struct eng_ctr *c);
const char *ctr_health_status(struct eng_ctr *c);
struct json_object *ctr_health_doc(struct eng_ctr *c);

/* network.c: what NetworkMode means (*network: the network's name or id, or the container
 * of container:<ref>). */
enum ctr_net_kind { CTR_NET_NONE, CTR_NET_HOST, CTR_NET_CONTAINER, CTR_NET_CNI };
enum ctr_net_kind ctr_net_kind(struct eng_daemon *d, struct json_object *host,
                               const char **network);
/* At create: the endpoints the container will have (*eps, an array, NULL when it is on no
 * CNI network) and the network namespace its spec names (*netns_path, heap, NULL: a new one
 * or the host's). ENOENT for an unknown network, EINVAL for a bad static address. */
int ctr_net_plan(struct eng_daemon *d, const char *id, struct json_object *config,
                 struct json_object *host, struct json_object *networking, struct json_object **eps,
                 char **netns_path, struct berth_err *err);
/* Record eps in container_networks (after the container's row). */
int ctr_net_record(struct eng_daemon *d, const char *id, struct json_object *eps,
                   struct berth_err *err);
/* Before a start: the namespace and every attachment (nothing is left on failure). After an
 * exit, at removal, at reconcile: their removal (idempotent). */
int ctr_net_setup(struct eng_daemon *d, struct eng_ctr *c, struct berth_err *err);
void ctr_net_teardown(struct eng_daemon *d, struct eng_ctr *c);
/* ctr_net_teardown in two steps, for an exit whose network goes before it is recorded but
 * whose events keep docker's order (die, then network disconnect): the removal, true when
 * there was something to remove; then the disconnect events. */
bool ctr_net_release(struct eng_daemon *d, struct eng_ctr *c);
void ctr_net_publish_disconnect(struct eng_daemon *d, struct eng_ctr *c);
/* Write c's /etc/hosts (in place: it is bind-mounted). */
int ctr_net_write_hosts(struct eng_daemon *d, struct eng_ctr *c, struct berth_err *err);
/* NetworkSettings of inspect. */
struct json_object *ctr_net_settings(struct eng_daemon *d, struct eng_ctr *c);

/* ports.c: HostConfig.PortBindings checked at create (EINVAL naming the bad one); the
 * portMappings for c's first network, host ports chosen and checked free (EADDRINUSE "port is
 * already allocated"), with the containers' net_lock held; NetworkSettings.Ports from them;
 * the Ports of a list entry from NetworkSettings.Ports. */
struct eng_cni;
int ctr_ports_check(struct json_object *host, struct berth_err *err);
int ctr_ports_mappings(const struct eng_cni *cni, struct eng_ctr *c, struct json_object **out,
                       struct berth_err *err);
struct json_object *ctr_ports_doc(struct eng_ctr *c, struct json_object *mappings);
struct json_object *ctr_ports_summary(struct json_object *ports);

/* monitor.c */
/* Whether HostConfig.AutoRemove is set; remove c from another thread, soon. */
bool ctr_auto_remove_wanted(struct eng_ctr *c);
void ctr_schedule_remove(struct eng_daemon *d, struct eng_ctr *c);
/* Record an exit of c's init process and apply the restart policy / auto-remove. */
void monitor_exited(struct eng_daemon *d, struct eng_ctr *c, int exit_status, int64_t exited_ns);
int monitor_start(struct eng_daemon *d, struct berth_err *err);
void monitor_stop(struct eng_daemon *d);
/* Reconcile one loaded container with the supervisor (at start). */
void monitor_reconcile(struct eng_daemon *d, struct eng_ctr *c);

#endif
