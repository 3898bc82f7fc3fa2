/* SPDX-License-Identifier: Apache-2.0
 *
 * Mount descriptors (mount.h): building and freeing them, turning their options into
 * mount(2) flags and data, mounting a stack of them, unmounting it, and finding the layer
 * directories of a writable snapshot in them.
 *
 * mount(2) copies at most one page of data from the caller. An overlay with many layers goes
 * past it with absolute paths (each is <root>/snapshots/snapshots/<id>/fs), so such a mount
 * is made with paths relative to the directory all of them share, from a short-lived thread
 * that has a working directory of its own: chdir in the daemon itself would move every other
 * thread's cwd too. The snapshotter's ids are small integers, so the relative paths are a
 * few bytes each ("12/fs") and a page holds several hundred layers, beyond overlay's own
 * limit of 500.
 */
#include "supervisor/snapshot/mount.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"

/* ---- Descriptors -------------------------------------------------------------------------- */

void
sup_mount_init(struct sup_mount *m, const char *type, const char *source,
               const char *const *options)
{
    m->type = xstrdup(type);
    m->source = xstrdup(source);
    m->options = xzalloc(sizeof(char *));
    m->n_options = 0;
    for (const char *const *o = options; o && *o; o++)
        sup_mount_add_option(m, *o);
}

void
sup_mount_add_option(struct sup_mount *m, const char *option)
{
    m->options = xrealloc(m->options, (m->n_options + 2) * sizeof(char *));
    m->options[m->n_options++] = xstrdup(option);
    m->options[m->n_options] = NULL;
}

void
sup_mounts_free(struct sup_mount *m, size_t n)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(m[i].type);
        free(m[i].source);
        for (size_t j = 0; j < m[i].n_options; j++)
            free(m[i].options[j]);
        free(m[i].options);
    }
    free(m);
}

/* ---- Options ------------------------------------------------------------------------------ */

static const struct {
    const char *name;
    bool clear; /* the option clears flag rather than sets it */
    unsigned long flag;
} flag_options[] = {
    {"async", true, MS_SYNCHRONOUS},
    {"atime", true, MS_NOATIME},
    {"bind", false, MS_BIND},
    {"defaults", false, 0},
    {"dev", true, MS_NODEV},
    {"diratime", true, MS_NODIRATIME},
    {"dirsync", false, MS_DIRSYNC},
    {"exec", true, MS_NOEXEC},
    {"noatime", false, MS_NOATIME},
    {"nodev", false, MS_NODEV},
    {"nodiratime", false, MS_NODIRATIME},
    {"noexec", false, MS_NOEXEC},
    {"norelatime", true, MS_RELATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"nosuid", false, MS_NOSUID},
    {"rbind", false, MS_BIND | MS_REC},
    {"relatime", false, MS_RELATIME},
    {"remount", false, MS_REMOUNT},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"strictatime", false, MS_STRICTATIME},
    {"suid", true, MS_NOSUID},
    {"sync", false, MS_SYNCHRONOUS},
};

static const struct {
    const char *name;
    unsigned long flag;
} propagation_options[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

struct parsed {
    unsigned long flags;
    unsigned long propagation;
    char *data; /* heap, "" when there is none */
};

static void
parse_options(const struct sup_mount *m, struct parsed *p)
{
    size_t len = 1;
    for (size_t i = 0; i < m->n_options; i++)
        len += strlen(m->options[i]) + 1;
    p->flags = p->propagation = 0;
    p->data = xzalloc(len);

    for (size_t i = 0; i < m->n_options; i++) {
        const char *o = m->options[i];
        bool known = false;
        for (size_t j = 0; j < ARRAY_SIZE(flag_options) && !known; j++) {
            if (strcmp(o, flag_options[j].name) != 0)
                continue;
            if (flag_options[j].clear)
                p->flags &= ~flag_options[j].flag;
            else
                p->flags |= flag_options[j].flag;
            known = true;
        }
        for (size_t j = 0; j < ARRAY_SIZE(propagation_options) && !known; j++) {
            if (strcmp(o, propagation_options[j].name) != 0)
                continue;
            p->propagation |= propagation_options[j].flag;
            known = true;
        }
        if (known)
            continue;
        if (*p->data)
            strcat(p->data, ",");
        strcat(p->data, o);
    }
}

/* ---- Long overlay data ---------------------------------------------------------------------- */

/* The overlay options whose values are paths; lowerdir holds a ':'-separated list. */
static const char *const path_options[] = {"lowerdir=", "upperdir=", "workdir="};

static size_t
path_option_len(const char *o)
{
    for (size_t k = 0; k < ARRAY_SIZE(path_options); k++)
        if (strncmp(o, path_options[k], strlen(path_options[k])) == 0)
            return strlen(path_options[k]);
    return 0;
}

/* Shorten dir to the longest directory (component-wise) that holds path too. */
static void
common_dir(char *dir, const char *path)
{
    size_t i = 0, last_slash = 0;

    while (dir[i] && dir[i] == path[i]) {
        if (dir[i] == '/')
            last_slash = i;
        i++;
    }
    /* Both end here, or continue with a new component: the common part is whole. */
    if ((dir[i] == '\0' || dir[i] == '/') && (path[i] == '\0' || path[i] == '/')) {
        dir[i == 0 ? 1 : i] = '\0';
        return;
    }
    dir[last_slash == 0 ? 1 : last_slash] = '\0';
}

/* The longest directory holding every path of data's path options; NULL when one of them is
 * relative already or there are none. */
static char *
paths_common_dir(const char *data)
{
    cleanup_free char *copy = xstrdup(data);
    char *save = NULL, *dir = NULL;

    for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
        size_t plen = path_option_len(o);
        if (plen == 0)
            continue;
        char *save2 = NULL;
        for (char *p = strtok_r(o + plen, ":", &save2); p; p = strtok_r(NULL, ":", &save2)) {
            if (p[0] != '/') {
                free(dir);
                return NULL;
            }
            if (dir == NULL)
                dir = xstrdup(p);
            else
                common_dir(dir, p);
        }
    }
    return dir;
}

/* data with the paths of its path options made relative to dir (absolute, not "/", no
 * trailing '/', and holding each of them). */
static char *
relative_data(const char *data, const char *dir)
{
    size_t dlen = strlen(dir);
    cleanup_free char *copy = xstrdup(data);
    char *out = xzalloc(strlen(data) + 1);
    char *save = NULL;

    for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
        size_t plen = path_option_len(o);
        if (*out)
            strcat(out, ",");
        if (plen == 0) {
            strcat(out, o);
            continue;
        }
        strncat(out, o, plen);
        char *save2 = NULL;
        bool first = true;
        for (char *p = strtok_r(o + plen, ":", &save2); p; p = strtok_r(NULL, ":", &save2)) {
            if (!first)
                strcat(out, ":");
            first = false;
            /* Every path is dir or below it: skip dir and its '/'. */
            strcat(out, p[dlen] ? p + dlen + 1 : ".");
        }
    }
    return out;
}

struct in_dir_mount {
    const char *dir, *source, *target, *type, *data;
    unsigned long flags;
    int error; /* errno of the failed step, 0 on success */
    const char *step;
};

static void *
mount_in_dir_thread(void *arg)
{
    struct in_dir_mount *a = arg;

    /* The thread leaves the process's shared fs struct (cwd, root, umask) first: its chdir is
     * then its own, and goes away with the thread. */
    if (unshare(CLONE_FS) < 0) {
        a->error = errno;
        a->step = "unshare the working directory";
    } else if (chdir(a->dir) < 0) {
        a->error = errno;
        a->step = "change directory to";
    } else if (mount(a->source, a->target, a->type, a->flags, a->data) < 0) {
        a->error = errno;
        a->step = "mount with paths relative to";
    }
    return NULL;
}

/* mount(2) of an overlay whose data is too long for a page: see the file comment. */
static int
mount_long_overlay(const struct sup_mount *m, const char *target, unsigned long flags,
                   const char *data, struct berth_err *err)
{
    long page = sysconf(_SC_PAGESIZE);
    cleanup_free char *dir = paths_common_dir(data);

    if (dir == NULL || strcmp(dir, "/") == 0)
        return berth_err_fail(err, E2BIG, "mount %s on `%s`: options are %zu bytes, over %ld",
                              m->type, target, strlen(data), page);
    cleanup_free char *rel = relative_data(data, dir);
    if ((long)strlen(rel) >= page)
        return berth_err_fail(err, E2BIG,
                              "mount %s on `%s`: options are %zu bytes even relative to `%s`, "
                              "over %ld",
                              m->type, target, strlen(rel), dir, page);

    /* A relative target would be taken against the thread's new working directory: the thread
     * mounts on the target's fd, opened here, instead. */
    cleanup_close int tfd = open(target, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (tfd < 0)
        return berth_err_set(err, errno, "mount %s on `%s`: open target", m->type, target);
    cleanup_free char *tpath = xasprintf("/proc/self/fd/%d", tfd);
    struct in_dir_mount a = {dir, m->source, tpath, m->type, rel, flags, 0, NULL};

    berth_debug("snapshot: mount %s on %s with paths relative to %s (%zu bytes of options)",
                m->type, target, dir, strlen(rel));
    pthread_t t;
    int r = pthread_create(&t, NULL, mount_in_dir_thread, &a);
    if (r != 0)
        return berth_err_set(err, r, "mount %s on `%s`: start thread", m->type, target);
    pthread_join(t, NULL);
    if (a.error)
        return berth_err_set(err, a.error, "mount %s on `%s`: %s `%s`", m->type, target, a.step,
                             dir);
    return 0;
}

/* ---- Mounting ----------------------------------------------------------------------------- */

static int
mount_one(const struct sup_mount *m, const char *target, struct berth_err *err)
{
    struct parsed p;
    long page = sysconf(_SC_PAGESIZE);

    parse_options(m, &p);
    cleanup_free char *data = p.data;
    bool is_bind = (p.flags & MS_BIND) || strcmp(m->type, "bind") == 0;

    if (is_bind) {
        unsigned long bind = MS_BIND | (p.flags & MS_REC);
        if (mount(m->source, target, NULL, bind, NULL) < 0)
            return berth_err_set(err, errno, "bind `%s` on `%s`", m->source, target);
        unsigned long rest = p.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
        if (rest && mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | rest, NULL) < 0) {
            int e = errno;
            umount2(target, MNT_DETACH);
            return berth_err_set(err, e, "remount bind `%s` on `%s`", m->source, target);
        }
    } else if ((long)strlen(data) >= page) {
        if (strcmp(m->type, "overlay") != 0)
            return berth_err_fail(err, E2BIG, "mount %s on `%s`: options are %zu bytes, over %ld",
                                  m->type, target, strlen(data), page);
        if (mount_long_overlay(m, target, p.flags, data, err) < 0)
            return -1;
    } else if (mount(m->source, target, m->type, p.flags, *data ? data : NULL) < 0) {
        return berth_err_set(err, errno, "mount %s `%s` on `%s`", m->type, m->source, target);
    }
    if (p.propagation && mount(NULL, target, NULL, p.propagation, NULL) < 0) {
        int e = errno;
        umount2(target, MNT_DETACH);
        return berth_err_set(err, e, "set propagation of `%s`", target);
    }
    return 0;
}

int
sup_mount_all(const struct sup_mount *m, size_t n, const char *target, struct berth_err *err)
{
    for (size_t i = 0; i < n; i++) {
        if (mount_one(&m[i], target, err) == 0)
            continue;
        /* Undo the ones this call made, topmost first. */
        for (size_t j = i; j > 0; j--)
            if (umount2(target, MNT_DETACH) < 0)
                berth_warn("snapshot: undo mount on %s: %s", target, strerror(errno));
        return -1;
    }
    return 0;
}

int
sup_unmount_all(const char *target, struct berth_err *err)
{
    /* Each round takes one mount off the stack; a bound keeps a kernel that never says
     * EINVAL from looping forever. */
    for (int i = 0; i < 4096; i++) {
        if (umount2(target, UMOUNT_NOFOLLOW) == 0)
            continue;
        if (errno == EINVAL || errno == ENOENT)
            return 0;
        if (errno == EINTR)
            continue;
        return berth_err_set(err, errno, "unmount `%s`", target);
    }
    return berth_err_fail(err, EBUSY, "unmount `%s`: still mounted after 4096 unmounts", target);
}

/* ---- Layer directories ---------------------------------------------------------------------- */

static const char *
option_value(const struct sup_mount *m, const char *prefix)
{
    size_t n = strlen(prefix);
    const char *v = NULL;

    for (size_t i = 0; i < m->n_options; i++)
        if (strncmp(m->options[i], prefix, n) == 0)
            v = m->options[i] + n; /* the last one wins, as in the kernel */
    return v;
}

static bool
has_option(const struct sup_mount *m, const char *name)
{
    for (size_t i = 0; i < m->n_options; i++)
        if (strcmp(m->options[i], name) == 0)
            return true;
    return false;
}

int
sup_mounts_layer_dirs(const struct sup_mount *m, size_t n, char **upper, char ***lowers,
                      size_t *n_lowers, struct berth_err *err)
{
    *upper = NULL;
    *lowers = NULL;
    *n_lowers = 0;
    if (n != 1)
        return berth_err_fail(err, EINVAL, "%zu mounts are not one writable layer", n);
    if (strcmp(m->type, "bind") == 0) {
        if (has_option(m, "ro"))
            return berth_err_fail(err, EINVAL, "a read-only bind of `%s` is not writable",
                                  m->source);
        *upper = xstrdup(m->source);
        *lowers = xzalloc(sizeof(char *));
        return 0;
    }
    const char *up = option_value(m, "upperdir=");
    if (strcmp(m->type, "overlay") != 0 || up == NULL)
        return berth_err_fail(
            err, EINVAL, "a mount of type %s without upperdir is not a writable layer", m->type);
    const char *low = option_value(m, "lowerdir=");
    char **list = xzalloc(sizeof(char *));
    size_t k = 0;
    for (const char *p = low; p && *p;) {
        size_t len = strcspn(p, ":");
        list = xrealloc(list, (k + 2) * sizeof(char *));
        list[k++] = xstrndup(p, len);
        list[k] = NULL;
        p += len + (p[len] ? 1 : 0);
    }
    *upper = xstrdup(up);
    *lowers = list;
    *n_lowers = k;
    return 0;
}
