// SPDX-License-Identifier: Apache-2.0
//
// `events`: runc's event stream for one container, one JSON object a line:
//   {"type":"stats","id":ID,"data":{...}}  at --stats, or every --interval
//   {"type":"oom","id":ID}                  whenever the kernel OOM-kills in the container
// The stream ends when the container stops. OOM kills are noticed through v1's
// memory.oom_control eventfd where there is one, and by the oom_kill counter otherwise.

#include "ocirun/container.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "ocirun/linux/cgroup-stats.h"
#include "ocirun/ocirun.h"
#include "ocirun/state.h"

static void
emit(const char *type, const char *id, struct json_object *data)
{
    cleanup_json struct json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string(type));
    json_object_object_add(o, "id", json_object_new_string(id));
    if (data)
        json_object_object_add(o, "data", data);
    puts(json_object_to_json_string_ext(o, OCIRUN_JSON_PLAIN));
    fflush(stdout);
}

/* v1: an eventfd the kernel signals on each OOM in the memory cgroup; -1 elsewhere. */
static int
oom_eventfd(char *const *paths)
{
    for (char *const *p = paths; p && *p; p++) {
        cleanup_free char *ctl = xasprintf("%s/memory.oom_control", *p);
        cleanup_free char *reg = xasprintf("%s/cgroup.event_control", *p);
        cleanup_close int cfd = open(ctl, O_RDONLY | O_CLOEXEC);
        cleanup_close int rfd = open(reg, O_WRONLY | O_CLOEXEC);
        if (cfd < 0 || rfd < 0)
            continue;
        int efd = eventfd(0, EFD_CLOEXEC);
        char line[64];
        int n = snprintf(line, sizeof(line), "%d %d", efd, cfd);
        if (efd >= 0 && write(rfd, line, n) == n)
            return efd;
        if (efd >= 0)
            close(efd);
    }
    return -1;
}

static long long
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int
ocirun_container_events(struct ocirun_global *g, const char *id, bool stats_once, int interval_ms,
                        struct berth_err *err)
{
    cleanup_state struct ocirun_state *st = ocirun_state_load(g->root, id, err);
    if (!st)
        return -1;
    enum ocirun_status s = ocirun_state_status(st);
    if (s == OCIRUN_STOPPED || s == OCIRUN_CREATING)
        return berth_err_fail(err, ESRCH, "container `%s` is not running", id);
    if (stats_once) {
        emit("stats", id, ocirun_cgroup_stats(st->cgroups));
        return 0;
    }
    cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, st->pid, 0);
    cleanup_close int efd = oom_eventfd(st->cgroups);
    uint64_t ooms = ocirun_cgroup_oom_kills(st->cgroups);
    long long next = now_ms() + interval_ms;
    for (;;) {
        /* Without an eventfd, the counter is checked five times a second. */
        long long wait = next - now_ms();
        if (efd < 0 && wait > 200)
            wait = 200;
        struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = efd, .events = POLLIN}};
        int r = poll(p, 2, wait < 0 ? 0 : (int)wait);
        if (r < 0 && errno != EINTR)
            return berth_err_set(err, errno, "poll");
        if (efd >= 0 && (p[1].revents & POLLIN)) {
            uint64_t n;
            if (read(efd, &n, sizeof(n)) == sizeof(n))
                emit("oom", id, NULL);
            ooms = ocirun_cgroup_oom_kills(st->cgroups);
        } else if (efd < 0) {
            uint64_t now = ocirun_cgroup_oom_kills(st->cgroups);
            for (; ooms < now; ooms++)
                emit("oom", id, NULL);
        }
        if (pidfd >= 0 && (p[0].revents & POLLIN))
            return 0; /* the container stopped */
        if (pidfd < 0 && !ocirun_state_pid_alive(st))
            return 0;
        if (now_ms() >= next) {
            emit("stats", id, ocirun_cgroup_stats(st->cgroups));
            next = now_ms() + interval_ms;
        }
    }
}
