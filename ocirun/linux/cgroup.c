// SPDX-License-Identifier: Apache-2.0
//
// cgroup placement common to every version (see cgroup.h): find the mounted hierarchies,
// resolve the container's directory in each, create it, run the backend's prepare and move
// the pid in; undo all of it on failure.

#include "ocirun/linux/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/log.h"
#include "ocirun/linux/cgroup-internal.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

int
ocirun_cgroup_write(const char *dir, const char *file, const char *value, struct berth_err *err)
{
    cleanup_free char *path = xasprintf("%s/%s", dir, file);
    cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return berth_err_set(err, errno, "open `%s`", path);
    size_t len = strlen(value);
    if (write(fd, value, len) != (ssize_t)len)
        return berth_err_set(err, errno, "write `%s` to `%s`", value, path);
    return 0;
}

int
ocirun_cgroup_read(const char *dir, const char *file, char *buf, size_t len)
{
    cleanup_free char *path = xasprintf("%s/%s", dir, file);
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    if (n < 0)
        return -1;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        n--;
    buf[n] = '\0';
    return 0;
}

int
ocirun_cgroup_write_i64(const char *dir, const char *file, int64_t v, struct berth_err *err)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", (long long)v);
    return ocirun_cgroup_write(dir, file, buf, err);
}

int
ocirun_cgroup_write_u64(const char *dir, const char *file, uint64_t v, struct berth_err *err)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
    return ocirun_cgroup_write(dir, file, buf, err);
}

int
ocirun_cgroup_read_u64(const char *dir, const char *file, uint64_t *v, struct berth_err *err)
{
    char buf[64], *end = NULL;
    if (ocirun_cgroup_read(dir, file, buf, sizeof(buf)) < 0)
        return berth_err_set(err, errno, "read `%s/%s`", dir, file);
    errno = 0;
    *v = strtoull(buf, &end, 10);
    if (errno || end == buf || *end)
        return berth_err_fail(err, EINVAL, "read `%s/%s`: `%s` is not a number", dir, file, buf);
    return 0;
}

bool
ocirun_cgroup_exists(const char *dir, const char *file)
{
    cleanup_free char *path = xasprintf("%s/%s", dir, file);
    return access(path, F_OK) == 0;
}

int
ocirun_cgroup_mode(struct berth_err *err)
{
    struct statfs fs;
    if (statfs("/sys/fs/cgroup", &fs) < 0)
        return berth_err_set(err, errno, "statfs `/sys/fs/cgroup`");
    if (fs.f_type == CGROUP2_SUPER_MAGIC)
        return OCIRUN_CGROUP_V2;
    if (statfs("/sys/fs/cgroup/unified", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
        return OCIRUN_CGROUP_HYBRID;
    return OCIRUN_CGROUP_V1;
}

struct placement {
    struct cgroup_hierarchy h;
    char *caller; /* the caller's cgroup in this hierarchy, relative to the mount's root */
};

static void
free_placements(struct placement *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].h.mount);
        free(p[i].h.root);
        free(p[i].h.controllers);
        free(p[i].caller);
    }
    free(p);
}

/* Does the super-options string of a v1 mount ("rw,cpu,cpuacct") carry every controller of
 * a /proc/self/cgroup entry ("cpu,cpuacct")? */
static bool
mount_has_controllers(const char *superopts, const char *controllers)
{
    cleanup_free char *want = xstrdup(controllers);
    char *save = NULL;
    for (char *c = strtok_r(want, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
        size_t n = strlen(c);
        const char *p = superopts;
        bool found = false;
        while ((p = strstr(p, c))) {
            if ((p == superopts || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) {
                found = true;
                break;
            }
            p += n;
        }
        if (!found)
            return false;
    }
    return true;
}

/* Find the mount point of the hierarchy for one /proc/self/cgroup entry. */
static int
find_mount(const char *controllers, bool v2, struct cgroup_hierarchy *h)
{
    cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
    cleanup_free char *line = NULL;
    size_t cap = 0;
    if (!f)
        return -1;
    while (getline(&line, &cap, f) > 0) {
        char *dash = strstr(line, " - ");
        if (!dash)
            continue;
        char fstype[32], source[256], superopts[1024] = "";
        if (sscanf(dash + 3, "%31s %255s %1023s", fstype, source, superopts) < 2)
            continue;
        if (strcmp(fstype, v2 ? "cgroup2" : "cgroup") != 0)
            continue;
        if (!v2 && !mount_has_controllers(superopts, controllers))
            continue;
        char root[4096], mnt[4096];
        if (sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2)
            continue;
        h->mount = xstrdup(mnt);
        h->root = xstrdup(root);
        h->controllers = xstrdup(controllers);
        h->v2 = v2;
        return 0;
    }
    return -1;
}

/* Every hierarchy this process belongs to that is mounted here, with our place in it. */
static int
placements(struct placement **out, size_t *n_out, struct berth_err *err)
{
    cleanup_fclose FILE *f = fopen("/proc/self/cgroup", "re");
    cleanup_free char *line = NULL;
    size_t cap = 0, n = 0;
    struct placement *p = NULL;
    if (!f)
        return berth_err_set(err, errno, "open `/proc/self/cgroup`");
    while (getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        const char *controllers = c1 + 1, *path = c2 + 1;
        bool v2 = controllers[0] == '\0';
        struct cgroup_hierarchy h = {0};
        if (find_mount(controllers, v2, &h) < 0)
            continue; /* a hierarchy that is not mounted here (e.g. name=xyz) */
        p = xrealloc(p, (n + 1) * sizeof(*p));
        p[n].h = h;
        /* Our path is relative to the hierarchy root; the mount may show only a subtree. */
        const char *rel = path;
        size_t rl = strlen(h.root);
        if (strcmp(h.root, "/") != 0 && strncmp(path, h.root, rl) == 0)
            rel = path + rl;
        p[n].caller = xstrdup(*rel ? rel : "/");
        n++;
    }
    if (n == 0) {
        free(p);
        return berth_err_set(err, ENOENT, "no cgroup hierarchy is mounted");
    }
    *out = p;
    *n_out = n;
    return 0;
}

/* The container's directory in one hierarchy (see cgroup.h for the rules). */
static char *
resolve(const struct placement *p, const char *cgroups_path, const char *id, struct berth_err *err)
{
    cleanup_free char *rel = NULL;
    if (!cgroups_path)
        rel = xasprintf("%s/%s", p->caller, id);
    else if (cgroups_path[0] == '/')
        rel = xstrdup(cgroups_path);
    else
        rel = xasprintf("%s/%s", p->caller, cgroups_path);
    /* ".." would climb out of the hierarchy, or out of the caller's own cgroup. */
    if (strstr(rel, "/../") || strncmp(rel, "../", 3) == 0 ||
        (strlen(rel) >= 3 && strcmp(rel + strlen(rel) - 3, "/..") == 0)) {
        berth_err_fail(err, EINVAL, "cgroupsPath `%s` must not contain `..`",
                       cgroups_path ? cgroups_path : id);
        return NULL;
    }
    cleanup_free char *clean = berth_fs_clean(rel);
    if (strcmp(clean, "/") == 0) {
        berth_err_fail(err, EINVAL, "cgroupsPath `%s` is the root cgroup",
                       cgroups_path ? cgroups_path : "");
        return NULL;
    }
    return xasprintf("%s%s", p->h.mount, clean);
}

static const struct cgroup_ops *
ops_for(const struct cgroup_hierarchy *h)
{
    return h->v2 ? &ocirun_cgroup_v2_ops : &ocirun_cgroup_v1_ops;
}

static bool
is_permission_error(int code)
{
    return code == EACCES || code == EPERM || code == EROFS;
}

int
ocirun_cgroup_enter(const char *cgroups_path, const char *id, pid_t pid, bool best_effort,
                    const struct ocirun_resources *r, char ***paths, struct berth_err *err)
{
    struct placement *p = NULL;
    size_t n = 0, made = 0;
    char pidbuf[32];
    if (placements(&p, &n, err) < 0)
        return -1;
    cleanup_strv char **dirs = xzalloc((n + 1) * sizeof(char *));
    snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
    for (size_t i = 0; i < n; i++) {
        char *dir = resolve(&p[i], cgroups_path, id, err);
        if (!dir)
            goto fail;
        if (berth_fs_mkdir_p(dir, 0755, err) < 0) {
            if (best_effort && is_permission_error(err->code)) {
                berth_debug("rootless: no cgroup in `%s`: %s", p[i].h.mount, err->msg);
                berth_err_clear(err);
                free(dir);
                continue;
            }
            free(dir);
            goto fail;
        }
        dirs[made++] = dir;
        if (ops_for(&p[i].h)->prepare(&p[i].h, dir, err) < 0 ||
            (r && ops_for(&p[i].h)->apply(&p[i].h, dir, r, err) < 0) ||
            ocirun_cgroup_write(dir, "cgroup.procs", pidbuf, err) < 0) {
            berth_err_wrap(err, "cgroup `%s`",
                           p[i].h.controllers[0] ? p[i].h.controllers : "unified");
            goto fail;
        }
    }
    free_placements(p, n);
    *paths = steal_ptr(&dirs);
    return 0;

fail:
    /* pid may already sit in the first directories, which it keeps busy: the caller kills it
     * and removes them (ocirun_cgroup_destroy) with what we hand back. */
    free_placements(p, n);
    *paths = steal_ptr(&dirs);
    return -1;
}

int
ocirun_cgroup_pids(char *const *paths, pid_t **pids, size_t *n_pids, struct berth_err *err)
{
    *pids = NULL;
    *n_pids = 0;
    if (!paths || !paths[0])
        return 0;
    cleanup_free char *file = xasprintf("%s/cgroup.procs", paths[0]);
    cleanup_fclose FILE *f = fopen(file, "re");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        return berth_err_set(err, errno, "open `%s`", file);
    }
    int v;
    size_t n = 0;
    pid_t *out = NULL;
    while (fscanf(f, "%d", &v) == 1) {
        out = xrealloc(out, (n + 1) * sizeof(pid_t));
        out[n++] = v;
    }
    *pids = out;
    *n_pids = n;
    return 0;
}

int
ocirun_cgroup_kill_all(char *const *paths, int sig, struct berth_err *err)
{
    for (int round = 0; round < 100; round++) {
        cleanup_free pid_t *pids = NULL;
        size_t n = 0;
        if (ocirun_cgroup_pids(paths, &pids, &n, err) < 0)
            return -1;
        if (n == 0)
            return 0;
        for (size_t i = 0; i < n; i++)
            if (kill(pids[i], sig) < 0 && errno != ESRCH)
                return berth_err_set(err, errno, "kill pid %d", (int)pids[i]);
        if (sig != SIGKILL)
            return 0;
        /* A frozen process holds its SIGKILL until thawed: in a paused container the killed
         * would never leave. Thaw once they are all signalled, as runc does. */
        if (round == 0) {
            cleanup_err struct berth_err e2 = BERTH_ERR_INIT;
            if (ocirun_cgroup_freeze(paths, false, &e2) < 0)
                berth_debug("cgroup: thaw after kill: %s", e2.msg);
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return berth_err_fail(err, EBUSY, "processes keep appearing in cgroup `%s`", paths[0]);
}

int
ocirun_cgroup_destroy(char *const *paths, struct berth_err *err)
{
    if (!paths || !paths[0])
        return 0;
    if (ocirun_cgroup_kill_all(paths, SIGKILL, err) < 0)
        return -1;
    for (char *const *p = paths; *p; p++) {
        /* A killed task leaves its cgroup only once fully exited: retry EBUSY for a while. */
        for (int i = 0; rmdir(*p) < 0; i++) {
            if (errno == ENOENT)
                break;
            if (errno != EBUSY || i >= 500)
                return berth_err_set(err, errno, "remove cgroup `%s`", *p);
            struct timespec ts = {0, 2 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    return 0;
}

int
ocirun_cgroup_self(struct ocirun_cgroup_self **out, size_t *n_out, struct berth_err *err)
{
    struct placement *p = NULL;
    size_t n = 0;
    if (placements(&p, &n, err) < 0)
        return -1;
    struct ocirun_cgroup_self *s = xzalloc(n * sizeof(*s));
    for (size_t i = 0; i < n; i++) {
        const char *c = p[i].h.controllers;
        s[i].v2 = p[i].h.v2;
        if (s[i].v2) {
            s[i].name = xstrdup("unified");
            s[i].controllers = xstrdup("");
        } else if (strncmp(c, "name=", 5) == 0) {
            s[i].name = xstrdup(c + 5);
            s[i].controllers = xasprintf("none,%s", c);
        } else {
            s[i].name = xstrdup(c);
            s[i].controllers = xstrdup(c);
        }
        s[i].dir = xasprintf("%s%s", p[i].h.mount, strcmp(p[i].caller, "/") ? p[i].caller : "");
    }
    free_placements(p, n);
    *out = s;
    *n_out = n;
    return 0;
}

void
ocirun_cgroup_self_free(struct ocirun_cgroup_self *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(s[i].name);
        free(s[i].controllers);
        free(s[i].dir);
    }
    free(s);
}

bool
ocirun_cgroup_has_controller(const struct cgroup_hierarchy *h, const char *name)
{
    return h->controllers && mount_has_controllers(h->controllers, name);
}

/* The placement whose mount holds path (longest mount point that is a prefix of it). */
static const struct placement *
placement_of(const struct placement *p, size_t n, const char *path)
{
    const struct placement *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(p[i].h.mount);
        if (strncmp(path, p[i].h.mount, l) == 0 && (path[l] == '/' || path[l] == '\0') &&
            l > best_len) {
            best = &p[i];
            best_len = l;
        }
    }
    return best;
}

int
ocirun_cgroup_apply(char *const *paths, const struct ocirun_resources *r, struct berth_err *err)
{
    struct placement *p = NULL;
    size_t n = 0;
    int rc = 0;
    if (!paths || !paths[0])
        return 0;
    if (placements(&p, &n, err) < 0)
        return -1;
    for (char *const *path = paths; *path && rc == 0; path++) {
        const struct placement *pl = placement_of(p, n, *path);
        if (!pl)
            continue; /* a hierarchy no longer mounted: nothing to write */
        rc = ops_for(&pl->h)->apply(&pl->h, *path, r, err);
    }
    free_placements(p, n);
    return rc;
}

int
ocirun_cgroup_freeze(char *const *paths, bool frozen, struct berth_err *err)
{
    /* v1's freezer if the container has one, else v2's cgroup.freeze (which the unified
     * hierarchy of a hybrid host also has). */
    const char *dir = NULL, *file = NULL, *want = NULL;
    char buf[64];
    for (char *const *p = paths; p && *p && !dir; p++) {
        if (ocirun_cgroup_read(*p, "freezer.state", buf, sizeof(buf)) == 0) {
            dir = *p, file = "freezer.state", want = frozen ? "FROZEN" : "THAWED";
        }
    }
    for (char *const *p = paths; p && *p && !dir; p++) {
        if (ocirun_cgroup_read(*p, "cgroup.freeze", buf, sizeof(buf)) == 0) {
            dir = *p, file = "cgroup.freeze", want = frozen ? "1" : "0";
        }
    }
    if (!dir)
        return berth_err_fail(err, ENOTSUP, "no freezer: the container has no freezer cgroup");
    if (ocirun_cgroup_write(dir, file, want, err) < 0)
        return -1;
    /* v1 passes through FREEZING until every task stopped; v2 reports in cgroup.events. */
    for (int i = 0; i < 1000; i++) {
        if (strcmp(file, "freezer.state") == 0) {
            if (ocirun_cgroup_read(dir, file, buf, sizeof(buf)) == 0 && strcmp(buf, want) == 0)
                return 0;
            if (frozen && i % 10 == 9)
                ocirun_cgroup_write(dir, file, want, NULL); /* nudge a stuck FREEZING */
        } else {
            cleanup_free char *ev = xasprintf("%s/cgroup.events", dir);
            cleanup_free char *text = NULL;
            struct berth_err e = BERTH_ERR_INIT;
            if (berth_fs_read_file(ev, &text, NULL, &e) < 0) {
                berth_err_clear(&e);
                return 0;
            }
            char *f = strstr(text, "frozen ");
            if (!f || f[7] == want[0])
                return 0;
        }
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (frozen)
        ocirun_cgroup_write(dir, file, strcmp(file, "freezer.state") == 0 ? "THAWED" : "0", NULL);
    return berth_err_fail(err, ETIMEDOUT, "cgroup `%s` did not reach %s", dir, want);
}
