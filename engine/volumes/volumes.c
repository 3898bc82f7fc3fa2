/* SPDX-License-Identifier: Apache-2.0
 *
 * Local volumes (volumes.h): names, the directory under <root>/volumes, the rows of
 * engine.db, and the document docker shows for a volume.
 */
#include "engine/volumes/volumes.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "engine/daemon.h"
#include "engine/events/events.h"
#include "engine/store/store.h"

/* Creation and removal of one name must not interleave: a create that fails removes the
 * directory it made, which must not be one a concurrent create of that name has just
 * recorded. One berthd per root (main.c's lock), so a process lock is enough. */
static pthread_mutex_t volumes_lock = PTHREAD_MUTEX_INITIALIZER;

static void
unlockp(pthread_mutex_t **m)
{
    if (*m)
        pthread_mutex_unlock(*m);
}
#define cleanup_unlock __attribute__((cleanup(unlockp)))

static pthread_mutex_t *
lock(void)
{
    pthread_mutex_lock(&volumes_lock);
    return &volumes_lock;
}

/* Volumes acquired for a container being created and not yet attached to it (under
 * volumes_lock). Between eng_volume_acquire and eng_volume_attach no row says the volume is
 * used, so without these a prune or rm in that window would remove a volume a container is
 * about to mount. attach or release_unused drops the hold. */
struct hold {
    char *name;
    int n;
};
static struct hold *holds;
static size_t n_holds;

static struct hold *
hold_find(const char *name)
{
    for (size_t i = 0; i < n_holds; i++)
        if (strcmp(holds[i].name, name) == 0)
            return &holds[i];
    return NULL;
}

static void
hold_take(const char *name)
{
    struct hold *h = hold_find(name);
    if (!h) {
        holds = xrealloc(holds, (n_holds + 1) * sizeof(*holds));
        h = &holds[n_holds++];
        *h = (struct hold){xstrdup(name), 0};
    }
    h->n++;
}

static void
hold_drop(const char *name)
{
    struct hold *h = hold_find(name);
    if (!h || --h->n > 0)
        return;
    free(h->name);
    *h = holds[--n_holds];
    if (n_holds == 0) {
        free(holds);
        holds = NULL;
    }
}

static bool
is_name_char(char c, bool first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return !first && (c == '_' || c == '.' || c == '-');
}

int
eng_volume_name_check(const char *name, struct berth_err *err)
{
    bool ok = name && strlen(name) >= 2;
    for (size_t i = 0; ok && name[i]; i++)
        ok = is_name_char(name[i], i == 0);
    if (!ok)
        return berth_err_fail(err, EINVAL,
                              "create %s: \"%s\" includes invalid characters for a local volume "
                              "name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you "
                              "intended to pass a host directory, use absolute path",
                              name ? name : "", name ? name : "");
    return 0;
}

static char *
volume_dir(struct eng_daemon *d, const char *name)
{
    return xasprintf("%s/volumes/%s", d->root, name);
}

char *
eng_volume_path(struct eng_daemon *d, const char *name)
{
    return xasprintf("%s/volumes/%s/_data", d->root, name);
}

/* The local driver's options are mount options (type, device, o, size) that dockerd applies
 * by mounting a filesystem on the volume when a container uses it; berthd does not mount
 * volumes, so it refuses them rather than make a plain directory that ignores them. */
static int
check_options(struct json_object *options, struct berth_err *err)
{
    static const char *const known[] = {"type", "device", "o", "size"};
    if (!options)
        return 0;
    if (!json_object_is_type(options, json_type_object))
        return berth_err_fail(err, EINVAL, "DriverOpts: expected an object, got %s",
                              berth_json_type_name(options));
    json_object_object_foreach(options, key, val)
    {
        bool ok = false;
        for (size_t i = 0; i < ARRAY_SIZE(known); i++)
            ok = ok || strcmp(key, known[i]) == 0;
        if (!ok)
            return berth_err_fail(err, EINVAL, "invalid option key: \"%s\"", key);
        if (!json_object_is_type(val, json_type_string))
            return berth_err_fail(err, EINVAL, "DriverOpts: `%s`: expected string, got %s", key,
                                  berth_json_type_name(val));
        return berth_err_fail(err, ENOTSUP,
                              "local volume option \"%s\": berthd does not mount filesystems on "
                              "volumes",
                              key);
    }
    return 0;
}

static int
check_labels(struct json_object *labels, struct berth_err *err)
{
    if (!labels)
        return 0;
    if (!json_object_is_type(labels, json_type_object))
        return berth_err_fail(err, EINVAL, "Labels: expected an object, got %s",
                              berth_json_type_name(labels));
    json_object_object_foreach(labels, key, val)
    {
        if (!json_object_is_type(val, json_type_string))
            return berth_err_fail(err, EINVAL, "Labels: `%s`: expected string, got %s", key,
                                  berth_json_type_name(val));
    }
    return 0;
}

static const char *
text(struct json_object *o)
{
    return o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "null";
}

static int64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A random name for an anonymous volume: 64 hex digits, as dockerd makes them. */
static char *
new_name(struct berth_err *err)
{
    unsigned char raw[32];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
        berth_err_set(err, errno, "make a volume name");
        return NULL;
    }
    char *name = xzalloc(sizeof(raw) * 2 + 1);
    for (size_t i = 0; i < sizeof(raw); i++)
        sprintf(name + 2 * i, "%02x", raw[i]);
    return name;
}

static int
found(void *data, const struct eng_store_volume *v, struct berth_err *err)
{
    (void)v;
    (void)err;
    *(bool *)data = true;
    return 0;
}

/* Whether name has a row: 1, 0, or -1 with err. */
static int
exists(struct eng_daemon *d, const char *name, struct berth_err *err)
{
    bool yes = false;
    if (eng_store_volume_get(d->store, name, found, &yes, err) < 0) {
        if (err->code != ENOENT)
            return -1;
        berth_err_clear(err);
    }
    return yes;
}

/* docker's volume events carry the driver. */
static void
publish(struct eng_daemon *d, const char *action, const char *name)
{
    struct json_object *a = json_object_new_object();
    json_object_object_add(a, "driver", json_object_new_string(ENG_VOLUME_DRIVER));
    eng_events_publish(d->events, "volume", action, name, a);
}

/* Make the directory and the row of a new volume; the caller holds the lock and has checked
 * that name has no row. */
static int
make(struct eng_daemon *d, const char *name, const char *labels, const char *options,
     bool anonymous, struct berth_err *err)
{
    cleanup_free char *dir = volume_dir(d, name);
    cleanup_free char *data = eng_volume_path(d, name);
    /* A directory without a row is what a crash between the two steps leaves: reuse it. */
    bool had_dir = berth_fs_exists(dir);
    cleanup_free char *top = xasprintf("%s/volumes", d->root);
    if (berth_fs_mkdir_p(top, 0701, err) < 0 || berth_fs_mkdir_p(data, 0755, err) < 0)
        goto fail;
    struct eng_store_volume row = {
        .name = name,
        .driver = ENG_VOLUME_DRIVER,
        .labels = labels,
        .options = options,
        .created_ns = now_ns(),
        .anonymous = anonymous,
    };
    if (eng_store_volume_insert(d->store, &row, err) < 0)
        goto fail;
    berth_debug("volume created name=%s anonymous=%d", name, anonymous);
    publish(d, "create", name);
    return 0;
fail:
    if (!had_dir) {
        struct berth_err e2 = BERTH_ERR_INIT;
        if (berth_fs_rm_rf(dir, &e2) < 0)
            berth_err_warn(&e2);
    }
    return berth_err_wrap(err, "create volume %s", name);
}

int
eng_volume_create(struct eng_daemon *d, const char *name, const char *driver,
                  struct json_object *labels, struct json_object *options, bool *existed,
                  struct json_object **out, struct berth_err *err)
{
    cleanup_free char *random_name = NULL;
    if (driver && *driver && strcmp(driver, ENG_VOLUME_DRIVER) != 0)
        return berth_err_fail(err, EINVAL,
                              "error looking up volume plugin %s: plugin \"%s\" not found "
                              "(berthd has the local driver only)",
                              driver, driver);
    if (check_labels(labels, err) < 0 || check_options(options, err) < 0)
        return -1;
    if (!name || !*name) {
        if (!(random_name = new_name(err)))
            return -1;
        name = random_name;
    } else if (eng_volume_name_check(name, err) < 0) {
        return -1;
    }
    {
        cleanup_unlock pthread_mutex_t *m = lock();
        int e = exists(d, name, err);
        if (e < 0)
            return -1;
        if (existed)
            *existed = e;
        if (!e && make(d, name, text(labels), text(options), random_name != NULL, err) < 0)
            return -1;
    }
    if (out && !(*out = eng_volume_inspect(d, name, err)))
        return -1;
    return 0;
}

char *
eng_volume_acquire(struct eng_daemon *d, const char *name, char **made, struct berth_err *err)
{
    cleanup_free char *anon = NULL;
    if (!name || !*name) {
        if (!(anon = new_name(err)))
            return NULL;
        name = anon;
    } else if (eng_volume_name_check(name, err) < 0) {
        return NULL;
    }
    cleanup_unlock pthread_mutex_t *m = lock();
    if (anon) {
        if (make(d, anon, "null", "null", true, err) < 0)
            return NULL;
    } else {
        int e = exists(d, name, err);
        if (e < 0 || (!e && make(d, name, "null", "null", false, err) < 0))
            return NULL;
    }
    hold_take(name);
    char *path = eng_volume_path(d, name);
    if (made)
        *made = anon ? steal_ptr(&anon) : NULL;
    return path;
}

int
eng_volume_attach(struct eng_daemon *d, const char *id, const char *name, const char *dest,
                  struct berth_err *err)
{
    cleanup_unlock pthread_mutex_t *m = lock();
    if (eng_store_volume_attach(d->store, id, name, dest, err) < 0)
        return -1;
    hold_drop(name);
    return 0;
}

/* Remove the row and the directory; the caller holds the lock. The directory is first
 * renamed aside, so that a failure to delete the row can put it back whole, and a crash
 * leaves at worst a hidden directory no name points at. */
static int
destroy(struct eng_daemon *d, const char *name, struct berth_err *err)
{
    cleanup_free char *dir = volume_dir(d, name);
    cleanup_free char *aside = xasprintf("%s/volumes/.removing-%s", d->root, name);
    bool moved = false;
    if (berth_fs_rm_rf(aside, err) < 0)
        return -1;
    if (rename(dir, aside) == 0)
        moved = true;
    else if (errno != ENOENT)
        return berth_err_set(err, errno, "remove %s: rename `%s`", name, dir);
    if (eng_store_volume_delete(d->store, name, err) < 0) {
        if (moved && rename(aside, dir) < 0)
            berth_warn("volume name=%s: cannot put back `%s`: %s", name, dir, strerror(errno));
        return -1;
    }
    struct berth_err e2 = BERTH_ERR_INIT;
    if (moved && berth_fs_rm_rf(aside, &e2) < 0)
        berth_err_warn(&e2);
    berth_debug("volume removed name=%s", name);
    publish(d, "destroy", name);
    return 0;
}

static int
in_use(struct eng_daemon *d, const char *name, struct berth_err *err)
{
    cleanup_strv char **users = eng_store_volume_users(d->store, name, err);
    if (!users)
        return -1;
    if (!users[0] && hold_find(name))
        return berth_err_fail(err, EBUSY,
                              "remove %s: volume is in use by a container being created", name);
    if (!users[0])
        return 0;
    size_t len = 0;
    cleanup_free char *list = xstrdup("");
    for (char **u = users; *u; u++) {
        char *next = xasprintf("%s%s%s", list, len ? " " : "", *u);
        free(list);
        list = next;
        len++;
    }
    return berth_err_fail(err, EBUSY, "remove %s: volume is in use - [%s]", name, list);
}

int
eng_volume_remove(struct eng_daemon *d, const char *name, bool force, struct berth_err *err)
{
    cleanup_unlock pthread_mutex_t *m = lock();
    int e = exists(d, name, err);
    if (e < 0)
        return -1;
    if (!e) {
        if (force)
            return 0;
        return berth_err_fail(err, ENOENT, "get %s: no such volume", name);
    }
    if (in_use(d, name, err) < 0)
        return -1;
    return destroy(d, name, err);
}

static int
is_anonymous(void *data, const struct eng_store_volume *v, struct berth_err *err)
{
    (void)err;
    *(bool *)data = v->anonymous && v->n_users == 0 && !hold_find(v->name);
    return 0;
}

/* Remove name when it is anonymous and unused; the caller holds the lock. */
static int
remove_if_unused_anonymous(struct eng_daemon *d, const char *name, struct berth_err *err)
{
    bool yes = false;
    if (eng_store_volume_get(d->store, name, is_anonymous, &yes, err) < 0) {
        if (err->code != ENOENT)
            return -1;
        berth_err_clear(err);
        return 0;
    }
    return yes ? destroy(d, name, err) : 0;
}

int
eng_volume_detach_all(struct eng_daemon *d, const char *id, bool remove_anonymous,
                      struct berth_err *err)
{
    cleanup_unlock pthread_mutex_t *m = lock();
    cleanup_strv char **names = eng_store_container_volumes(d->store, id, err);
    if (!names || eng_store_volume_detach_all(d->store, id, err) < 0)
        return -1;
    for (char **n = names; remove_anonymous && *n; n++) {
        /* The container is gone already: a volume that cannot go is a warning, as in dockerd. */
        struct berth_err e2 = BERTH_ERR_INIT;
        if (remove_if_unused_anonymous(d, *n, &e2) < 0)
            berth_err_warn(&e2);
    }
    return 0;
}

void
eng_volume_release_unused(struct eng_daemon *d, const char *name)
{
    cleanup_unlock pthread_mutex_t *m = lock();
    hold_drop(name);
    struct berth_err err = BERTH_ERR_INIT;
    if (remove_if_unused_anonymous(d, name, &err) < 0)
        berth_err_warn(&err);
}

/* ---------------------------------------------------------------- usage */

struct walk {
    int64_t size;
    ino_t *seen; /* inodes with more than one link, counted once */
    size_t n_seen;
};

static bool
seen_before(struct walk *w, ino_t ino)
{
    for (size_t i = 0; i < w->n_seen; i++)
        if (w->seen[i] == ino)
            return true;
    w->seen = xrealloc(w->seen, (w->n_seen + 1) * sizeof(*w->seen));
    w->seen[w->n_seen++] = ino;
    return false;
}

/* Walk the directory fd (taken); nothing is followed out of it, and other mounts are not
 * entered. */
static int
walk_dir(int fd, dev_t dev, struct walk *w, struct berth_err *err)
{
    cleanup_dir DIR *dir = fdopendir(fd);
    if (!dir) {
        int e = errno;
        close(fd);
        return berth_err_set(err, e, "read a volume directory");
    }
    struct dirent *de;
    while ((de = readdir(dir))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                continue;
            return berth_err_set(err, errno, "stat `%s`", de->d_name);
        }
        if (S_ISDIR(st.st_mode)) {
            if (st.st_dev != dev)
                continue;
            int sub =
                openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                if (errno == ENOENT)
                    continue;
                return berth_err_set(err, errno, "open `%s`", de->d_name);
            }
            if (walk_dir(sub, dev, w, err) < 0)
                return -1;
            continue;
        }
        if (st.st_nlink > 1 && seen_before(w, st.st_ino))
            continue;
        w->size += st.st_size;
    }
    return 0;
}

int
eng_volume_size(struct eng_daemon *d, const char *name, int64_t *out, struct berth_err *err)
{
    cleanup_free char *path = eng_volume_path(d, name);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return berth_err_set(err, errno, "open `%s`", path);
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return berth_err_set(err, e, "stat `%s`", path);
    }
    struct walk w = {0};
    int rc = walk_dir(fd, st.st_dev, &w, err);
    free(w.seen);
    if (rc < 0)
        return berth_err_wrap(err, "size of volume %s", name);
    *out = w.size;
    return 0;
}

/* ---------------------------------------------------------------- documents */

static struct json_object *
object_or_null(const char *textv)
{
    struct berth_err e = BERTH_ERR_INIT;
    struct json_object *o = textv ? berth_json_parse(textv, strlen(textv), &e) : NULL;
    berth_err_clear(&e);
    if (o && !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        o = NULL;
    }
    return o;
}

static char *
rfc3339(int64_t ns)
{
    time_t s = (time_t)(ns / 1000000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char buf[64];
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return xstrdup(buf);
}

struct json_object *
eng_volume_json(struct eng_daemon *d, const struct eng_store_volume *v, bool with_usage)
{
    cleanup_free char *created = rfc3339(v->created_ns);
    cleanup_free char *path = eng_volume_path(d, v->name);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "CreatedAt", json_object_new_string(created));
    json_object_object_add(o, "Driver", json_object_new_string(v->driver));
    json_object_object_add(o, "Labels", object_or_null(v->labels));
    json_object_object_add(o, "Mountpoint", json_object_new_string(path));
    json_object_object_add(o, "Name", json_object_new_string(v->name));
    json_object_object_add(o, "Options", object_or_null(v->options));
    json_object_object_add(o, "Scope", json_object_new_string("local"));
    if (with_usage) {
        /* dockerd answers -1 for a size it could not measure. */
        int64_t size = -1;
        struct berth_err e = BERTH_ERR_INIT;
        if (eng_volume_size(d, v->name, &size, &e) < 0)
            berth_err_warn(&e);
        struct json_object *u = json_object_new_object();
        json_object_object_add(u, "Size", json_object_new_int64(size));
        json_object_object_add(u, "RefCount", json_object_new_int64(v->n_users));
        json_object_object_add(o, "UsageData", u);
    }
    return o;
}

struct inspect {
    struct eng_daemon *d;
    struct json_object *doc;
};

static int
inspect_row(void *data, const struct eng_store_volume *v, struct berth_err *err)
{
    (void)err;
    struct inspect *in = data;
    in->doc = eng_volume_json(in->d, v, false);
    return 0;
}

struct json_object *
eng_volume_inspect(struct eng_daemon *d, const char *name, struct berth_err *err)
{
    struct inspect in = {.d = d};
    if (eng_store_volume_get(d->store, name, inspect_row, &in, err) < 0)
        return NULL;
    return in.doc;
}
