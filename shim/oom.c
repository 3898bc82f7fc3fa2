/* SPDX-License-Identifier: Apache-2.0
 *
 * OOM kills of the container (oom.h). The memory cgroup comes from /proc/<init>/cgroup once the
 * runtime created the container. Both cgroup versions keep a counter of OOM kills (oom_kill in
 * v2's memory.events, and in v1's memory.oom_control since Linux 4.13): an event is the counter
 * going up, so a notification for anything else (v1 also signals the eventfd when the cgroup
 * is removed; v2's memory.events changes for every memory.high event) is never taken for an
 * OOM kill. A v1 kernel without the counter reports each notification while the cgroup exists.
 * v1 does not notify every kill (only those going through the kernel's memcg OOM
 * synchronization), hence shim_oom_check when the init exits.
 */
#include "shim/oom.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/log.h"
#include "shim/loop.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

struct shim_oom {
    struct shim_loop *loop;
    int fd;        /* inotify (v2) or eventfd (v1) */
    char *counter; /* the file with the oom_kill line */
    long long kills;
    void (*fn)(void *data);
    void *data;
};

/* The oom_kill count in path; -1 when the file or the line is missing. */
static long long
read_kills(const char *path)
{
    cleanup_free char *buf = NULL;

    if (berth_fs_read_file(path, &buf, NULL, NULL) < 0)
        return -1;
    for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (strncmp(line, "oom_kill ", 9) == 0)
            return strtoll(line + 9, NULL, 10);
    return -1;
}

static void
on_event(struct shim_loop *loop, int fd, uint32_t events, void *data)
{
    struct shim_oom *o = data;
    char buf[4096];

    /* Drain the notification (an eventfd counter, or inotify records). */
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    long long kills = read_kills(o->counter);

    if (kills < 0) {
        if (!berth_fs_exists(o->counter)) {
            /* The cgroup is gone: nothing more will happen there. */
            shim_loop_del(loop, fd);
            return;
        }
        o->fn(o->data); /* v1 without the counter: the notification is the OOM */
        return;
    }
    for (; o->kills < kills; o->kills++)
        o->fn(o->data);
}

/* The path of pid's cgroup for controller ("" for the v2 line), from /proc/pid/cgroup. */
static char *
cgroup_of(pid_t pid, const char *controller)
{
    cleanup_free char *path = xasprintf("/proc/%d/cgroup", (int)pid);
    cleanup_free char *buf = NULL;

    if (berth_fs_read_file(path, &buf, NULL, NULL) < 0)
        return NULL;
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *c = strchr(line, ':');
        char *p = c ? strchr(c + 1, ':') : NULL;
        if (p == NULL)
            continue;
        *p = '\0';
        char *list = c + 1;
        bool match = false;
        if (controller[0] == '\0') {
            match = list[0] == '\0';
        } else {
            char *s2 = NULL;
            for (char *tok = strtok_r(list, ",", &s2); tok && !match;
                 tok = strtok_r(NULL, ",", &s2))
                match = strcmp(tok, controller) == 0;
        }
        if (match)
            return xstrdup(p + 1);
    }
    return NULL;
}

static int
watch_v2(struct shim_oom *o, const char *cg)
{
    o->counter = xasprintf(CGROUP_ROOT "%s/memory.events", cg);
    o->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (o->fd < 0 || inotify_add_watch(o->fd, o->counter, IN_MODIFY) < 0)
        return -1;
    return 0;
}

static int
watch_v1(struct shim_oom *o, const char *cg)
{
    cleanup_free char *dir = xasprintf(CGROUP_ROOT "/memory%s", cg);
    cleanup_free char *control = xasprintf("%s/cgroup.event_control", dir);
    o->counter = xasprintf("%s/memory.oom_control", dir);
    cleanup_close int ofd = open(o->counter, O_RDONLY | O_CLOEXEC);
    cleanup_close int cfd = open(control, O_WRONLY | O_CLOEXEC);

    o->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ofd < 0 || cfd < 0 || o->fd < 0)
        return -1;
    char line[64];
    int n = snprintf(line, sizeof(line), "%d %d", o->fd, ofd);
    if (write(cfd, line, (size_t)n) != n)
        return -1;
    return 0;
}

struct shim_oom *
shim_oom_watch(struct shim_loop *loop, pid_t pid, void (*fn)(void *data), void *data)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct shim_oom *o = xzalloc(sizeof(*o));
    bool v2 = berth_fs_exists(CGROUP_ROOT "/cgroup.controllers");
    cleanup_free char *cg = cgroup_of(pid, v2 ? "" : "memory");

    o->loop = loop;
    o->fd = -1;
    o->fn = fn;
    o->data = data;
    if (cg == NULL) {
        berth_debug("oom: no memory cgroup for pid %d", (int)pid);
        goto fail;
    }
    if ((v2 ? watch_v2(o, cg) : watch_v1(o, cg)) < 0) {
        berth_debug("oom: cannot watch `%s`: %s", o->counter, strerror(errno));
        goto fail;
    }
    o->kills = read_kills(o->counter);
    if (o->kills < 0)
        o->kills = 0;
    if (shim_loop_add(loop, o->fd, EPOLLIN, on_event, o, &err) < 0) {
        berth_debug("oom: %s", err.msg);
        goto fail;
    }
    berth_debug("oom: watching `%s`", o->counter);
    return o;
fail:
    shim_oom_free(o);
    return NULL;
}

void
shim_oom_check(struct shim_oom *o)
{
    if (o == NULL)
        return;
    long long kills = read_kills(o->counter);
    for (; o->kills < kills; o->kills++)
        o->fn(o->data);
}

void
shim_oom_free(struct shim_oom *o)
{
    if (o == NULL)
        return;
    if (o->fd >= 0) {
        shim_loop_del(o->loop, o->fd);
        close(o->fd);
    }
    free(o->counter);
    free(o);
}
