/* SPDX-License-Identifier: Apache-2.0
 *
 * The runtime library behind the commands: one call per operation of the OCI runtime spec.
 * Each takes the global options, the container id and what the command line added, and
 * returns 0 (or an exit status for run) or -1 with err. A failed create leaves nothing behind:
 * no state directory, cgroup, mount or process.
 */
#ifndef BERTH_OCIRUN_CONTAINER_H
#define BERTH_OCIRUN_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

struct berth_err;
struct json_object;
struct ocirun_global;

struct ocirun_create_opts {
    const char *id;
    const char *bundle;         /* default "." */
    const char *pid_file;       /* NULL: none */
    const char *console_socket; /* NULL: none */
    bool no_pivot;
    bool no_new_keyring;
    int preserve_fds;
};

/* create: set everything up; the container's init waits for start. */
int ocirun_container_create(struct ocirun_global *g, const struct ocirun_create_opts *o,
                            struct berth_err *err);

/* start: let a created container's init exec the user process. */
int ocirun_container_start(struct ocirun_global *g, const char *id, struct berth_err *err);

/* run: create + start. Detached, returns 0 once started. Otherwise stays the container's
 * parent, forwards signals, waits, deletes the container and returns its exit status
 * (128 + signal when killed). */
int ocirun_container_run(struct ocirun_global *g, const struct ocirun_create_opts *o, bool detach,
                         struct berth_err *err);

/* kill: send sig to the init, or with all to every process in its cgroup. */
int ocirun_container_kill(struct ocirun_global *g, const char *id, int sig, bool all,
                          struct berth_err *err);

/* delete: remove a stopped (or created) container; force kills a running one first. */
int ocirun_container_delete(struct ocirun_global *g, const char *id, bool force,
                            struct berth_err *err);

struct ocirun_exec_opts {
    const char *id;
    const char *process_file; /* --process: a whole process object; the rest is ignored */
    char **args;              /* the command (NULL-terminated) */
    char **env;               /* --env KEY=VALUE, added to / replacing the container's */
    const char *cwd;          /* --cwd */
    const char *user;         /* --user UID[:GID] */
    char **additional_gids;   /* --additional-gids */
    char **caps;              /* --cap: added to the container's sets */
    bool no_new_privs;        /* --no-new-privs */
    bool tty;                 /* --tty */
    bool detach;              /* --detach */
    const char *pid_file;
    const char *console_socket;
    int preserve_fds;
};

/* exec: a new process in a running container, in all its namespaces and cgroups, with the
 * container's process settings (env, user, capabilities, rlimits, seccomp) unless overridden.
 * Detached, returns 0 once the process runs; otherwise waits and returns its exit status. */
int ocirun_container_exec(struct ocirun_global *g, const struct ocirun_exec_opts *o,
                          struct berth_err *err);

/* pause / resume: freeze or thaw every process of a running container (control.c). */
int ocirun_container_pause(struct ocirun_global *g, const char *id, bool pause,
                           struct berth_err *err);

/* The pids of every process in the container (its cgroup); *pids is a new array. */
int ocirun_container_pids(struct ocirun_global *g, const char *id, pid_t **pids, size_t *n,
                          struct berth_err *err);

/* update: apply new resources (a linux.resources object) to a running or paused container,
 * and keep them in its saved config. Takes the object's reference. */
int ocirun_container_update(struct ocirun_global *g, const char *id, struct json_object *res,
                            struct berth_err *err);

/* events: --stats prints one stats event; otherwise stats every interval_ms and an "oom"
 * event whenever the kernel OOM-kills in the container, until it stops. */
int ocirun_container_events(struct ocirun_global *g, const char *id, bool stats_once,
                            int interval_ms, struct berth_err *err);

/* Compile the seccomp profile s (linux.seccomp of doc) to BPF through the cache under the
 * state root; used by create and exec before they clone. */
struct ocirun_seccomp;
struct ocirun_seccomp_bpf;
int ocirun_compile_seccomp(struct ocirun_global *g, struct json_object *doc,
                           const struct ocirun_seccomp *s, struct ocirun_seccomp_bpf *out,
                           struct berth_err *err);

#endif
