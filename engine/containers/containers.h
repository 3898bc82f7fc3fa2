/* SPDX-License-Identifier: Apache-2.0
 *
 * berthd's containers: what docker calls a container (a name, the create body, a state,
 * a writable layer) over what the supervisor keeps (a container record with the OCI spec, a
 * snapshot, a task run by a shim). Every container is in memory (struct eng_ctr, refcounted)
 * and in engine.db; the supervisor is asked for what only it knows (pids, live status).
 *
 *   create  -> CREATED -- start --> RUNNING <-- unpause -- PAUSED
 *                 ^                  |  |  \---- pause -----^
 *                 |                  |  +-- exit (monitor.c) --> EXITED -- restart policy -->
 *                 +---- (none) ------+                                      RESTARTING -> RUNNING
 *   remove: any state but RUNNING/PAUSED/RESTARTING (or with force: kill first) -> gone
 *
 * Files: registry.c (the table, names, lookups by id, prefix or name), create.c,
 * lifecycle.c (start, stop, kill, pause, restart, remove, rename, wait), monitor.c (task
 * exits from the supervisor's events, restart policies, auto-remove, reconcile at start),
 * describe.c (inspect and list documents), task.c (the supervisor calls).
 */
#ifndef BERTH_ENGINE_CONTAINERS_CONTAINERS_H
#define BERTH_ENGINE_CONTAINERS_CONTAINERS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/signal.h"

struct berth_err;
struct ctr_health;
struct eng_daemon;
struct json_object;

enum eng_ctr_status {
    ENG_CTR_CREATED = 0,
    ENG_CTR_RUNNING,
    ENG_CTR_PAUSED,
    ENG_CTR_RESTARTING,
    ENG_CTR_REMOVING,
    ENG_CTR_EXITED,
    ENG_CTR_DEAD,
};

/* docker's name for a status ("created", "running", ...). */
const char *eng_ctr_status_name(enum eng_ctr_status s);

struct eng_ctr {
    /* Set at create, never changed (but name, under the registry's lock). */
    char *id;                        /* 64 hex */
    char *name;                      /* without the leading '/' */
    char *image;                     /* Config.Image as given */
    char *image_id;                  /* "sha256:..." */
    struct json_object *config;      /* the create body without HostConfig and NetworkingConfig */
    struct json_object *host_config; /* HostConfig, as given ({} when absent) */
    int64_t created_ns;
    char *dir;      /* <root>/containers/<id>: hostname, hosts, resolv.conf, the log */
    char *log_path; /* "" for the none log driver */

    /* The state, under lock; cond is broadcast on every change. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    enum eng_ctr_status status;
    int pid;
    int exit_code;
    bool oom_killed;
    char *error; /* why the last start failed, or NULL */
    int64_t started_ns, finished_ns;
    int restart_count;
    bool has_task;    /* the supervisor has a task for it (not yet deleted) */
    bool manual_stop; /* stopped or killed by a user: no restart policy applies */
    bool removed;     /* gone from the table: waiters for "removed" wake */
    uint64_t exits;   /* how many exits so far: a next-exit waiter watches it move */
    char *attach_socket;
    uint64_t tasks_created;    /* how many tasks were made: an attach before start waits for one */
    int attach_waiting;        /* attaches waiting for the next task (start waits for them) */
    int64_t restart_at_ns;     /* RESTARTING: when the next start is due */
    int64_t backoff_ms;        /* the restart policy's next delay */
    struct ctr_health *health; /* health.c: Config.Healthcheck's state since a start, or NULL */

    /* Serializes start, stop, kill, pause, restart, remove: one lifecycle change at a time. */
    pthread_mutex_t op;
    bool starting; /* a start is between its task call and its record */

    /* Registry bookkeeping. */
    int refs;
};

/* ---------------------------------------------------------------- the table (registry.c) */

/* Load every container of engine.db and reconcile it with the supervisor's tasks (exits while
 * berthd was down are recorded, restart policies applied), then follow the supervisor's
 * events. d->containers is set. */
int eng_containers_init(struct eng_daemon *d, struct berth_err *err);
/* Stop following events and free the table (containers keep running). */
void eng_containers_shutdown(struct eng_daemon *d);

/* The container docker would mean by ref: a full id, a name (with or without '/'), or a
 * unique id prefix. A new reference (eng_ctr_put it); ENOENT "No such container: REF", or
 * EINVAL when a prefix is ambiguous. */
struct eng_ctr *eng_ctr_find(struct eng_daemon *d, const char *ref, struct berth_err *err);
void eng_ctr_put(struct eng_ctr *c);
#define cleanup_ctr __attribute__((cleanup(eng_ctr_putp)))
void eng_ctr_putp(struct eng_ctr **c);

/* A snapshot of every container (references), newest first; free with eng_ctr_list_free. */
struct eng_ctr **eng_ctr_list(struct eng_daemon *d, size_t *n);
void eng_ctr_list_free(struct eng_ctr **v, size_t n);

/* Write c's state to engine.db (c->lock held by the caller). */
int eng_ctr_save_state(struct eng_daemon *d, struct eng_ctr *c, struct berth_err *err);

/* The number of containers in each state, for /info. */
void eng_ctr_counts(struct eng_daemon *d, int64_t *running, int64_t *paused, int64_t *stopped);

/* ---------------------------------------------------------------- create (create.c) */

/* Create a container from a ContainerCreate body (borrowed) named name (NULL or "": a
 * generated name). *id gets the new id (heap); *warnings (a JSON array, may stay NULL) what
 * docker would warn about. EINVAL for bad input naming the field, ENOENT for a missing image,
 * EEXIST (409) for a name in use. Nothing is left behind on failure. */
int eng_ctr_create(struct eng_daemon *d, struct json_object *body, const char *name, char **id,
                   struct json_object **warnings, struct berth_err *err);

/* ---------------------------------------------------------------- lifecycle (lifecycle.c) */

/* Start a created or stopped container. *already is set (and 0 returned) when it is running:
 * docker answers 304. */
int eng_ctr_start(struct eng_daemon *d, struct eng_ctr *c, bool *already, struct berth_err *err);
/* Send the stop signal, wait up to timeout seconds (-1: the container's StopTimeout, else
 * 10), then SIGKILL. *already when it was not running (304). signal NULL: StopSignal. */
int eng_ctr_stop(struct eng_daemon *d, struct eng_ctr *c, int timeout, bool *already,
                 struct berth_err *err);
int eng_ctr_restart(struct eng_daemon *d, struct eng_ctr *c, int timeout, struct berth_err *err);
/* Send signal (a number; 0 SIGKILL) to the container's process. 409 when not running. */
int eng_ctr_kill(struct eng_daemon *d, struct eng_ctr *c, int signal, struct berth_err *err);
int eng_ctr_pause(struct eng_daemon *d, struct eng_ctr *c, struct berth_err *err);
int eng_ctr_unpause(struct eng_daemon *d, struct eng_ctr *c, struct berth_err *err);
/* Remove; a running one only with force (killed first). volumes: remove its anonymous
 * volumes too. */
int eng_ctr_remove(struct eng_daemon *d, struct eng_ctr *c, bool force, bool volumes,
                   struct berth_err *err);
int eng_ctr_rename(struct eng_daemon *d, struct eng_ctr *c, const char *name,
                   struct berth_err *err);

enum eng_wait_condition { ENG_WAIT_NOT_RUNNING, ENG_WAIT_NEXT_EXIT, ENG_WAIT_REMOVED };
/* How many times c has exited: the baseline a next-exit wait counts from. */
uint64_t eng_ctr_exits(struct eng_ctr *c);
/* Block until the condition holds (next-exit: more exits than `exits`), or cancelled()
 * (polled every 200 ms) says to give up (ECANCELED). *code gets the last exit code. */
int eng_ctr_wait(struct eng_ctr *c, enum eng_wait_condition cond, uint64_t exits,
                 bool (*cancelled)(void *), void *data, int *code, struct berth_err *err);

/* Parse a signal as docker does: "9", "KILL", "SIGKILL". -1 when unknown. */
static inline int
eng_signal_parse(const char *s)
{
    return berth_signal_parse(s, NULL);
}

/* ---------------------------------------------------------------- attach (attach.c) */

struct eng_attach_opts {
    bool in, out, err;       /* which streams the client joins */
    bool tty;                /* the process has a terminal: output is raw, not framed */
    bool stdin_once;         /* the client's end of input closes the process's stdin */
    const char *detach_keys; /* docker's format ("ctrl-p,ctrl-q"); NULL: that default */
};

/* An attach to c's main process, made when the request comes (so that a start right after
 * waits for it: docker run attaches, then starts). Free with eng_attach_free. */
struct eng_attach *eng_attach_new(struct eng_daemon *d, struct eng_ctr *c,
                                  const struct eng_attach_opts *o, struct berth_err *err);
/* An attach to an exec's process through its shim socket (already there). */
struct eng_attach *eng_attach_socket(struct eng_daemon *d, const char *socket_path,
                                     const struct eng_attach_opts *o);
/* Join the process's stdio on the client's fd until it exits, the client goes or detaches,
 * or berthd stops. extra: bytes the client sent before the upgrade completed. */
void eng_attach_run(struct eng_attach *a, int fd, const char *extra, size_t n);
void eng_attach_free(struct eng_attach *a);
/* Run fn(data, err) once connected to the socket, before anything flows; its failure ends it,
 * its message written to the client first. */
void eng_attach_on_connected(struct eng_attach *a, int (*fn)(void *, struct berth_err *),
                             void *data);
/* The exit status the session saw, or -1. */
int eng_attach_exit_status(struct eng_attach *a);

/* ---------------------------------------------------------------- exec (exec.c) */

struct eng_exec;
/* POST /containers/{id}/exec: a new exec of c from docker's ExecConfig (borrowed); its id
 * (heap). 409 when c is not running, EINVAL naming a bad field. */
int eng_exec_create(struct eng_daemon *d, struct eng_ctr *c, struct json_object *config, char **id,
                    struct berth_err *err);
/* The exec with this id (a reference), or NULL with ENOENT "No such exec instance". */
struct eng_exec *eng_exec_find(struct eng_daemon *d, const char *id, struct berth_err *err);
void eng_exec_put(struct eng_exec *e);
const char *eng_exec_id(struct eng_exec *e);
const char *eng_exec_container_id(struct eng_exec *e);
/* Make the process in the supervisor (its stdio socket is then there) and, with detach,
 * start it; without, *attach is the session to run (eng_attach_run), which starts it once
 * connected and records its exit. 409 when it was started before. */
int eng_exec_start(struct eng_daemon *d, struct eng_exec *e, bool detach, bool tty,
                   struct eng_attach **attach, struct berth_err *err);
/* Record an exec's exit (monitor.c, and the end of its attach). */
void eng_exec_exited(struct eng_daemon *d, const char *exec_id, int status);
/* GET /exec/{id}/json. */
struct json_object *eng_exec_inspect(struct eng_exec *e);
/* POST /exec/{id}/resize and /containers/{id}/resize (exec_id NULL). */
int eng_ctr_resize(struct eng_daemon *d, const char *container_id, const char *exec_id, unsigned h,
                   unsigned w, struct berth_err *err);
/* Forget the execs of a removed container. */
void eng_exec_forget_container(struct eng_daemon *d, const char *container_id);
/* start (task.c): a task was made; its attach socket is path. Waits (a bounded time) for the
 * attaches waiting on it to connect, so that they miss no output. */
void ctr_task_created(struct eng_ctr *c, const char *path);

/* ---------------------------------------------------------------- networks (network.c) */

/* POST /networks/{id}/connect: put c on network ref (cfg: docker's EndpointConfig, may be
 * NULL); a running container is attached at once. EPERM when it already is or cannot be. */
int eng_ctr_net_connect(struct eng_daemon *d, struct eng_ctr *c, const char *ref,
                        struct json_object *cfg, struct berth_err *err);
/* POST /networks/{id}/disconnect: a running container is detached at once, a stopped one
 * only forgets the network (so force, docker's way past a broken endpoint, changes nothing
 * here). ENOENT when c is not on it. */
int eng_ctr_net_disconnect(struct eng_daemon *d, struct eng_ctr *c, const char *ref, bool force,
                           struct berth_err *err);
/* The Containers of a network's inspect document. */
struct json_object *eng_network_containers(struct eng_daemon *d, const char *network_id,
                                           const char *network_name);

/* ---------------------------------------------------------------- root filesystem (rootfs.c) */

/* A container's root filesystem, open for a moment (docker cp, export). */
struct eng_rootfs {
    int fd;       /* O_PATH directory of the root: resolve paths in it with berth_fs_*_in_root */
    char *path;   /* its host path: /proc/self/fd/<fd> (the running process's root, held
                   * through a pidfd), or the temporary mount */
    char *mnt;    /* the temporary mount point eng_ctr_rootfs_close undoes, or NULL */
    bool running; /* seen through the running process (volumes and binds included) */
};

/* Open c's root filesystem: a running or paused container's through /proc/<pid>/root, a
 * stopped one's layer mounted on a temporary directory under the state dir. Close it with
 * eng_ctr_rootfs_close (on failure nothing is left to close). */
int eng_ctr_rootfs_open(struct eng_daemon *d, struct eng_ctr *c, struct eng_rootfs *out,
                        struct berth_err *err);
void eng_ctr_rootfs_close(struct eng_rootfs *r);

/* The directories of c's writable layer, mounted or not (for docker diff): *upper (heap) and
 * the lower layers nearest first (*lowers, heap strings). EINVAL for a layer that is not an
 * overlay or a writable bind. */
int eng_ctr_layer_dirs(struct eng_daemon *d, struct eng_ctr *c, char **upper, char ***lowers,
                       size_t *n_lowers, struct berth_err *err);

/* ---------------------------------------------------------------- documents (describe.c) */

/* GET /containers/{id}/json. */
struct json_object *eng_ctr_inspect(struct eng_daemon *d, struct eng_ctr *c);
/* One entry of GET /containers/json. */
struct json_object *eng_ctr_summary(struct eng_daemon *d, struct eng_ctr *c);

/* RFC 3339 with nanoseconds in UTC ("0001-01-01T00:00:00Z" for 0), as docker prints times. */
char *eng_time_rfc3339(int64_t ns);

#endif
