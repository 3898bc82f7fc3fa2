/* SPDX-License-Identifier: Apache-2.0
 *
 * A container's state under --root: <root>/<id>/state.json (written atomically) and, while the
 * container is created but not started, <root>/<id>/exec.fifo. Each ocirun invocation reads
 * this back, so the state outlives the process that made it.
 *
 *   (none) --create--> creating --child ready--> created --start--> running --exit--> stopped
 *                          |                          \______kill/exit________________/ |
 *                          +--failure: ocirun_state_remove()        delete: ocirun_state_remove()
 *
 * "created", "running" and "stopped" are not stored but derived each time (ocirun_state_status)
 * from the pid, its start time (so a recycled pid is not mistaken for the container) and the
 * presence of exec.fifo.
 */
#ifndef BERTH_OCIRUN_STATE_H
#define BERTH_OCIRUN_STATE_H

#include <stdbool.h>
#include <sys/types.h>

struct berth_err;
struct json_object;

enum ocirun_status {
    OCIRUN_CREATING = 0,
    OCIRUN_CREATED,
    OCIRUN_RUNNING,
    OCIRUN_PAUSED,
    OCIRUN_STOPPED,
};

struct ocirun_state {
    char *root; /* --root */
    char *id;
    char *dir;                    /* <root>/<id> */
    bool creating;                /* stored: creation not finished */
    pid_t pid;                    /* the container's init, as seen from the host */
    unsigned long long pid_start; /* its start time (clock ticks since boot, /proc/pid/stat) */
    char *bundle;
    char *rootfs;
    char *created; /* RFC 3339 with nanoseconds, UTC */
    char *owner;
    bool new_pidns;                  /* the init is pid 1 of its own pid namespace */
    bool terminal;                   /* process.terminal */
    char **cgroups;                  /* absolute cgroup dirs the container was placed in */
    struct json_object *annotations; /* owned, may be NULL */
    struct json_object *hooks;       /* config.json's hooks, kept for start and delete; owned */
};

/* Container ids: 1..1024 chars of [A-Za-z0-9_+.-], not "." or ".." (ids become path names). */
int ocirun_state_check_id(const char *id, struct berth_err *err);

/* Make <root>/<id> (and root, 0700) for a new container. EEXIST:
 * "container `id` already exists". */
int ocirun_state_mkdir(const char *root, const char *id, struct berth_err *err);

/* Load <root>/<id>/state.json. ENOENT: "container `id` does not exist". */
struct ocirun_state *ocirun_state_load(const char *root, const char *id, struct berth_err *err);

/* Write state.json atomically. */
int ocirun_state_save(const struct ocirun_state *st, struct berth_err *err);

/* Remove <root>/<id> entirely. */
int ocirun_state_remove(const char *root, const char *id, struct berth_err *err);

/* The live status, computed now. */
enum ocirun_status ocirun_state_status(const struct ocirun_state *st);
const char *ocirun_status_name(enum ocirun_status s);

/* True while st->pid is the same process that was created (alive, not a zombie, same start). */
bool ocirun_state_pid_alive(const struct ocirun_state *st);

/* The runtime-spec state object: ociVersion, id, status, pid, bundle, annotations, plus runc's
 * rootfs, created and owner. New object, caller puts it. */
struct json_object *ocirun_state_to_json(const struct ocirun_state *st, enum ocirun_status status);

/* Path of exec.fifo inside the state dir (heap). */
char *ocirun_state_fifo_path(const struct ocirun_state *st);

/* Ids of every container under root, sorted (NULL-terminated, caller frees with cleanup_strv).
 * A missing root is an empty list. */
char **ocirun_state_list(const char *root, struct berth_err *err);

/* Start time of pid from /proc/<pid>/stat (field 22); 0 if the process is gone. Sets *zombie. */
unsigned long long ocirun_proc_start_time(pid_t pid, bool *zombie);

struct ocirun_state *ocirun_state_new(const char *root, const char *id);
void ocirun_state_free(struct ocirun_state *st);

static inline void
ocirun_state_freep(struct ocirun_state **st)
{
    if (*st)
        ocirun_state_free(*st);
}
#define cleanup_state __attribute__((cleanup(ocirun_state_freep)))

#endif
