/* SPDX-License-Identifier: Apache-2.0
 *
 * Reaping and exit records (exit.h). The loop calls shim_exit_reap on SIGCHLD; SIGCHLD is a
 * standard signal, so one pending instance may stand for many exits: every pass reaps until
 * waitpid has nothing more. Runtime commands are waited for by pid (runtime.c) and are never
 * seen here.
 *
 * The record is written before the process is marked stopped and before any client hears of
 * it: a supervisor that restarts, or a shim client that connects later, finds the status on
 * disk (DIR/exit/<name>) or through List, never a process that vanished without one.
 */
#include "shim/exit.h"

#include <errno.h>
#include <json-c/json.h>
#include <sys/wait.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/log.h"
#include "shim/process.h"
#include "shim/shim.h"

uint32_t
shim_exit_status(int wstatus)
{
    if (WIFEXITED(wstatus))
        return (uint32_t)WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return 128 + (uint32_t)WTERMSIG(wstatus);
    return 255;
}

int64_t
shim_exit_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
shim_exit_record(const char *dir, const char *name, pid_t pid, uint32_t status, int64_t at,
                 struct berth_err *err)
{
    cleanup_json struct json_object *o = json_object_new_object();
    cleanup_free char *path = xasprintf("%s/exit/%s", dir, name);

    json_object_object_add(o, "pid", json_object_new_int64(pid));
    json_object_object_add(o, "exit_status", json_object_new_int64(status));
    json_object_object_add(o, "exited_at", json_object_new_int64(at));
    return berth_json_write_file(path, o, false, 0644, err);
}

bool
shim_exit_take(struct shim_exits *x, pid_t pid, uint32_t *status, int64_t *at)
{
    for (size_t i = 0; i < x->n; i++) {
        if (x->e[i].pid != pid)
            continue;
        *status = x->e[i].status;
        *at = x->e[i].at;
        x->e[i].pid = 0; /* a pid is taken once */
        return true;
    }
    return false;
}

void
shim_exit_forget(struct shim_exits *x)
{
    x->n = 0;
    x->next = 0;
}

static void
keep(struct shim_exits *x, pid_t pid, uint32_t status, int64_t at)
{
    size_t i;

    if (x->n < SHIM_EXITS_KEPT) {
        i = x->n++;
    } else {
        i = x->next;
        x->next = (x->next + 1) % SHIM_EXITS_KEPT;
    }
    x->e[i].pid = pid;
    x->e[i].status = status;
    x->e[i].at = at;
}

void
shim_exit_reap(struct shim *s)
{
    for (;;) {
        int wstatus;
        pid_t pid = waitpid(-1, &wstatus, WNOHANG);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid <= 0)
            return;
        uint32_t status = shim_exit_status(wstatus);
        int64_t at = shim_exit_now_ns();
        struct shim_process *p = shim_process_by_pid(s, pid);
        if (p == NULL) {
            berth_debug("reaped pid %d (status %u), no process of ours", (int)pid, status);
            keep(&s->exits, pid, status, at);
            continue;
        }
        shim_process_exited(p, status, at);
    }
}
