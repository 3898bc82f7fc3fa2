/* SPDX-License-Identifier: Apache-2.0
 *
 * Files in and out of containers, as docker cp, export and diff use them:
 *
 *   HEAD /containers/{id}/archive?path=   the stat of path (X-Docker-Container-Path-Stat)
 *   GET  /containers/{id}/archive?path=   a tar of path, with that header
 *   PUT  /containers/{id}/archive?path=   extract the body (a tar) into the directory path
 *   GET  /containers/{id}/export          a tar of the whole root filesystem
 *   GET  /containers/{id}/changes         what the writable layer changed
 *
 * The root filesystem comes from engine/containers (eng_ctr_rootfs_open). Every path in it
 * is resolved with berth_fs_*_in_root, and the walk below opens each entry relative to its
 * directory without following symlinks, so neither a symlink in the container nor a tar entry
 * reaches a host file (the docker cp CVE class: CVE-2018-15664, CVE-2019-14271). Tars are
 * written by a thread into a socket pair that the response reads, so a big one is streamed,
 * never held in memory.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "engine/api/handlers.h"
#include "engine/api/request.h"
#include "engine/api/router.h"
#include "engine/containers/containers.h"
#include "engine/daemon.h"
#include "engine/spec/spec-internal.h"

#define TAR_CHUNK (64 * 1024)

static void
rootfs_closep(struct eng_rootfs *r)
{
    eng_ctr_rootfs_close(r);
}
#define cleanup_rootfs __attribute__((cleanup(rootfs_closep)))

static void
archive_freep(struct archive **a)
{
    if (*a)
        archive_free(*a);
}
#define cleanup_archive __attribute__((cleanup(archive_freep)))

/* What a PUT needs to know of the container besides its files. */
struct ctr_facts {
    bool readonly_rootfs; /* HostConfig.ReadonlyRootfs */
    char *user;           /* Config.User ("" when unset) */
};

static void
ctr_facts_clear(struct ctr_facts *f)
{
    free(f->user);
}
#define cleanup_facts __attribute__((cleanup(ctr_facts_clear)))

/* Open the container named in the request's path and its root filesystem; facts (may be
 * NULL) gets what the PUT checks. */
static int
open_root(struct eng_api_req *req, struct eng_rootfs *r, struct ctr_facts *facts,
          struct berth_err *err)
{
    cleanup_ctr struct eng_ctr *c = eng_ctr_find(req->d, eng_api_param(&req->params, "id"), err);
    if (!c)
        return -1;
    if (facts) {
        struct json_object *v = NULL;
        facts->readonly_rootfs = json_object_object_get_ex(c->host_config, "ReadonlyRootfs", &v) &&
                                 json_object_get_boolean(v);
        facts->user = xstrdup(json_object_object_get_ex(c->config, "User", &v) &&
                                      json_object_is_type(v, json_type_string)
                                  ? json_object_get_string(v)
                                  : "");
    }
    return eng_ctr_rootfs_open(req->d, c, r, err);
}

static const char *
path_arg(struct eng_api_req *req, struct berth_err *err)
{
    const char *p = eng_api_query(req, "path");
    if (!p || !*p) {
        berth_err_fail(err, EINVAL, "bad parameter: path cannot be empty");
        return NULL;
    }
    return p;
}

static int
not_found(const char *path, struct eng_api_req *req, struct berth_err *err)
{
    return berth_err_fail(err, ENOENT, "Could not find the file %s in container %s", path,
                          eng_api_param(&req->params, "id"));
}

/* ---------------------------------------------------------------- a path in the root */

/* Where a path of the request points: the directory holding it and its name there (name ""
 * when dirfd is the object itself, as for "/" or a path ending in "/."). */
struct target {
    int dirfd;
    char *name;
    char *base; /* the name docker gives it: the last component as written ("/" for the root) */
    struct stat st;
};

static void
target_clear(struct target *t)
{
    if (t->dirfd >= 0)
        close(t->dirfd);
    free(t->name);
    free(t->base);
}
#define cleanup_target __attribute__((cleanup(target_clear)))

/* Resolve path in the root as docker does: every component but the last follows symlinks
 * (inside the root), the last is taken as it is, unless the path ends in "/" or "/.", which
 * asks for what a symlink there points to. ENOENT when missing. */
static int
resolve(const struct eng_rootfs *r, const char *path, struct target *t, struct berth_err *err)
{
    size_t len = strlen(path);
    bool follow = path[len - 1] == '/' || (len >= 2 && strcmp(path + len - 2, "/.") == 0) ||
                  strcmp(path, ".") == 0;
    cleanup_free char *abs = xasprintf("/%s", path);
    cleanup_free char *clean = berth_fs_clean(abs);
    char *slash = strrchr(clean, '/');

    t->dirfd = -1;
    if (follow || strcmp(clean, "/") == 0) {
        t->dirfd = berth_fs_open_in_root(r->fd, clean, O_PATH, 0, err);
        t->name = xstrdup("");
    } else {
        cleanup_free char *parent = xstrndup(clean, (size_t)(slash - clean));
        t->dirfd =
            berth_fs_open_in_root(r->fd, *parent ? parent : "/", O_PATH | O_DIRECTORY, 0, err);
        t->name = xstrdup(slash + 1);
    }
    if (t->dirfd < 0)
        return -1;
    if (fstatat(t->dirfd, t->name, &t->st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
        return berth_err_set(err, errno, "stat `%s`", path);
    if (strcmp(clean, "/") == 0)
        t->base = xstrdup("/");
    else if (follow && len >= 2 && strcmp(path + len - 2, "/.") == 0)
        t->base = xstrdup(".");
    else
        t->base = xstrdup(slash + 1);
    return 0;
}

/* The mode as Go's os.FileMode, which the docker CLI decodes. */
static uint32_t
go_mode(mode_t m)
{
    uint32_t g = m & 0777;
    if (m & S_ISUID)
        g |= 1u << 23;
    if (m & S_ISGID)
        g |= 1u << 22;
    if (m & S_ISVTX)
        g |= 1u << 20;
    if (S_ISDIR(m))
        g |= 1u << 31;
    else if (S_ISLNK(m))
        g |= 1u << 27;
    else if (S_ISBLK(m))
        g |= 1u << 26;
    else if (S_ISCHR(m))
        g |= (1u << 26) | (1u << 21);
    else if (S_ISFIFO(m))
        g |= 1u << 25;
    else if (S_ISSOCK(m))
        g |= 1u << 24;
    return g;
}

/* What a symlink finally points to, as a path in the container (lexically, link by link,
 * each link read relative to the root: nothing outside it is looked at). */
static char *
link_target(const struct eng_rootfs *r, const char *path)
{
    cleanup_free char *cur = berth_fs_clean(path);
    for (int hops = 0; hops < 40; hops++) {
        cleanup_free char *dir = xstrdup(cur);
        char *slash = strrchr(dir, '/');
        *slash = '\0';
        struct berth_err ignored = BERTH_ERR_INIT;
        cleanup_close int dfd =
            berth_fs_open_in_root(r->fd, *dir ? dir : "/", O_PATH | O_DIRECTORY, 0, &ignored);
        berth_err_clear(&ignored);
        if (dfd < 0)
            break;
        char buf[4096];
        ssize_t n = readlinkat(dfd, slash + 1, buf, sizeof(buf) - 1);
        if (n < 0)
            break;
        buf[n] = '\0';
        cleanup_free char *next = buf[0] == '/' ? xstrdup(buf) : xasprintf("%s/%s", dir, buf);
        free(cur);
        cur = berth_fs_clean(next);
    }
    return steal_ptr(&cur);
}

/* docker's X-Docker-Container-Path-Stat: base64 of {name, size, mode, mtime, linkTarget}. */
static char *
stat_header(const struct eng_rootfs *r, const char *path, const struct target *t)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(t->base));
    json_object_object_add(o, "size", json_object_new_int64(t->st.st_size));
    json_object_object_add(o, "mode", json_object_new_int64(go_mode(t->st.st_mode)));
    cleanup_free char *mtime =
        eng_time_rfc3339((int64_t)t->st.st_mtim.tv_sec * 1000000000 + t->st.st_mtim.tv_nsec);
    json_object_object_add(o, "mtime", json_object_new_string(mtime));
    cleanup_free char *lt = NULL;
    if (S_ISLNK(t->st.st_mode)) {
        /* A relative path is taken from the root, as docker does. */
        cleanup_free char *abs = xasprintf("/%s", path);
        lt = link_target(r, abs);
    }
    json_object_object_add(o, "linkTarget", json_object_new_string(lt ? lt : ""));
    const char *s =
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    char *out = berth_base64_encode(s, strlen(s));
    json_object_put(o);
    return out;
}

/* ---------------------------------------------------------------- writing a tar */

/* One tar being written by its thread into sock[1], read by the response from sock[0]. */
struct tar_job {
    struct eng_rootfs root;
    struct target t;
    char *prefix; /* the name of the top entry in the tar ("" for an export: no top entry) */
    bool one_fs;  /* an export: do not descend into other mounts (volumes, /proc) */
    uint64_t root_mnt;
    int sock[2];
    pthread_t thread;
    bool started;
    char buf[TAR_CHUNK];
};

static la_ssize_t
tar_write_cb(struct archive *a, void *data, const void *buf, size_t n)
{
    struct tar_job *j = data;
    size_t done = 0;
    while (done < n) {
        ssize_t w = send(j->sock[1], (const char *)buf + done, n - done, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            archive_set_error(a, errno, "the client went away");
            return -1;
        }
        done += (size_t)w;
    }
    return (la_ssize_t)n;
}

static bool
is_other_mount(struct tar_job *j, int dirfd, const char *name)
{
    struct statx stx;
    if (!j->one_fs ||
        statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0 ||
        !(stx.stx_mask & STATX_MNT_ID))
        return false;
    return stx.stx_mnt_id != j->root_mnt;
}

static int write_tree(struct tar_job *j, struct archive *a, int dirfd, const char *name,
                      const char *tarname, int depth);

static int
write_dir_entries(struct tar_job *j, struct archive *a, int dfd, const char *tarname, int depth)
{
    int fd = dup(dfd);
    if (fd < 0)
        return -1;
    cleanup_dir DIR *dir = fdopendir(fd);
    if (!dir) {
        close(fd);
        return -1;
    }
    struct dirent *de;
    while ((de = readdir(dir))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        cleanup_free char *child =
            *tarname ? xasprintf("%s/%s", tarname, de->d_name) : xstrdup(de->d_name);
        if (write_tree(j, a, dfd, de->d_name, child, depth + 1) < 0)
            return -1;
    }
    return 0;
}

static int
write_file_data(struct tar_job *j, struct archive *a, int dirfd, const char *name)
{
    cleanup_free char *self = *name ? NULL : xasprintf("/proc/self/fd/%d", dirfd);
    /* name "" is the O_PATH fd itself (a path ending in "/" that named a file): reopen it. */
    cleanup_close int fd = self ? open(self, O_RDONLY | O_CLOEXEC | O_NOCTTY)
                                : openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -1;
    for (;;) {
        ssize_t n = read(fd, j->buf, sizeof(j->buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -1 : 0;
        if (archive_write_data(a, j->buf, (size_t)n) < 0)
            return -1;
    }
}

/* One entry (name in dirfd; "" for dirfd itself) as tarname, and, for a directory, all
 * below it. Nothing is followed: symlinks are written as symlinks. */
static int
write_tree(struct tar_job *j, struct archive *a, int dirfd, const char *name, const char *tarname,
           int depth)
{
    struct stat st;
    if (depth > 256)
        return 0;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) < 0)
        return errno == ENOENT ? 0 : -1; /* gone since readdir: a live container */
    if (S_ISSOCK(st.st_mode))
        return 0; /* tar has no sockets */
    if (*tarname) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_copy_stat(e, &st);
        cleanup_free char *tn = S_ISDIR(st.st_mode) ? xasprintf("%s/", tarname) : NULL;
        archive_entry_set_pathname(e, tn ? tn : tarname);
        if (!S_ISREG(st.st_mode))
            archive_entry_set_size(e, 0);
        if (S_ISLNK(st.st_mode)) {
            char target[4096];
            ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
            if (n < 0) {
                archive_entry_free(e);
                return -1;
            }
            target[n] = '\0';
            archive_entry_set_symlink(e, target);
        }
        int rc = archive_write_header(a, e);
        archive_entry_free(e);
        if (rc < ARCHIVE_WARN)
            return -1;
        if (S_ISREG(st.st_mode) && st.st_size > 0 && write_file_data(j, a, dirfd, name) < 0)
            return -1;
    }
    if (!S_ISDIR(st.st_mode) || (*tarname && is_other_mount(j, dirfd, name)))
        return 0;
    cleanup_close int dfd =
        *name ? openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
              : openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    return write_dir_entries(j, a, dfd, tarname, depth);
}

static void *
tar_thread(void *data)
{
    struct tar_job *j = data;
    cleanup_archive struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_set_bytes_per_block(a, 0); /* no padding to 10 KiB blocks: write as it comes */
    if (archive_write_open(a, j, NULL, tar_write_cb, NULL) != ARCHIVE_OK ||
        write_tree(j, a, j->t.dirfd, j->t.name, j->prefix, 0) < 0 ||
        archive_write_close(a) != ARCHIVE_OK) {
        const char *why = archive_error_string(a);
        berth_warn("archive: tar of `%s` cut short: %s", j->root.path, why ? why : strerror(errno));
    }
    shutdown(j->sock[1], SHUT_WR);
    return NULL;
}

static int
tar_next(void *ctx, char **buf, size_t *len)
{
    struct tar_job *j = ctx;
    for (;;) {
        *buf = xrealloc(*buf, *len + TAR_CHUNK);
        ssize_t n = recv(j->sock[0], *buf + *len, TAR_CHUNK, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        *len += (size_t)n;
        return 1;
    }
}

static void
tar_done(void *ctx)
{
    struct tar_job *j = ctx;
    /* The writer sees EPIPE at its next send if the client left early. */
    shutdown(j->sock[0], SHUT_RDWR);
    if (j->started)
        pthread_join(j->thread, NULL);
    close(j->sock[0]);
    close(j->sock[1]);
    target_clear(&j->t);
    eng_ctr_rootfs_close(&j->root);
    free(j->prefix);
    free(j);
}

static const struct eng_api_stream_ops tar_ops = {.next = tar_next, .done = tar_done};

/* Answer with a tar of j's target, written as the client reads; takes j. */
static int
reply_tar(struct eng_api_req *req, struct tar_job *j, const char *stat, struct berth_err *err)
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, j->sock) < 0) {
        j->sock[0] = j->sock[1] = -1;
        berth_err_set(err, errno, "socketpair");
        tar_done(j);
        return -1;
    }
    int rc = pthread_create(&j->thread, NULL, tar_thread, j);
    if (rc != 0) {
        berth_err_set(err, rc, "start the tar writer");
        tar_done(j);
        return -1;
    }
    j->started = true;
    eng_api_reply_stream(req, 200, "application/x-tar", &tar_ops, j);
    if (stat)
        MHD_add_response_header(req->resp, "X-Docker-Container-Path-Stat", stat);
    return 0;
}

static struct tar_job *
tar_job_new(void)
{
    struct tar_job *j = xzalloc(sizeof(*j));
    j->root.fd = -1;
    j->t.dirfd = -1;
    j->sock[0] = j->sock[1] = -1;
    return j;
}

/* ---------------------------------------------------------------- GET, HEAD, export */

ENG_API_HANDLER(eng_api_containers_archive_stat)
{
    const char *path = path_arg(req, err);
    if (!path)
        return -1;
    cleanup_rootfs struct eng_rootfs r = {.fd = -1};
    if (open_root(req, &r, NULL, err) < 0)
        return -1;
    cleanup_target struct target t = {.dirfd = -1};
    if (resolve(&r, path, &t, err) < 0) {
        if (err->code != ENOENT && err->code != ENOTDIR)
            return -1;
        berth_err_clear(err);
        return not_found(path, req, err);
    }
    cleanup_free char *stat = stat_header(&r, path, &t);
    eng_api_reply_data(req, 200, NULL, "", 0);
    MHD_add_response_header(req->resp, "X-Docker-Container-Path-Stat", stat);
    return 0;
}

ENG_API_HANDLER(eng_api_containers_archive_get)
{
    const char *path = path_arg(req, err);
    if (!path)
        return -1;
    struct tar_job *j = tar_job_new();
    if (open_root(req, &j->root, NULL, err) < 0) {
        tar_done(j);
        return -1;
    }
    if (resolve(&j->root, path, &j->t, err) < 0) {
        tar_done(j);
        if (err->code != ENOENT && err->code != ENOTDIR)
            return -1;
        berth_err_clear(err);
        return not_found(path, req, err);
    }
    cleanup_free char *stat = stat_header(&j->root, path, &j->t);
    j->prefix = xstrdup(strcmp(j->t.base, "/") == 0 ? "." : j->t.base);
    return reply_tar(req, j, stat, err);
}

ENG_API_HANDLER(eng_api_containers_export)
{
    struct tar_job *j = tar_job_new();
    if (open_root(req, &j->root, NULL, err) < 0) {
        tar_done(j);
        return -1;
    }
    struct statx stx;
    j->t.dirfd = dup(j->root.fd);
    j->t.name = xstrdup("");
    j->prefix = xstrdup("");
    j->one_fs = true;
    if (j->t.dirfd < 0 || statx(j->t.dirfd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0) {
        berth_err_set(err, errno, "stat the root filesystem");
        tar_done(j);
        return -1;
    }
    j->root_mnt = stx.stx_mnt_id;
    return reply_tar(req, j, NULL, err);
}

/* ---------------------------------------------------------------- PUT: extracting a tar */

static struct archive *
tar_reader(int fd, struct berth_err *err)
{
    if (lseek(fd, 0, SEEK_SET) < 0) {
        berth_err_set(err, errno, "rewind the request body");
        return NULL;
    }
    struct archive *a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_empty(a);
    if (archive_read_open_fd(a, fd, TAR_CHUNK) != ARCHIVE_OK) {
        berth_err_fail(err, EINVAL, "read the tar: %s", archive_error_string(a));
        archive_read_free(a);
        return NULL;
    }
    return a;
}

static bool
has_dotdot(const char *p)
{
    for (const char *s = p; (s = strstr(s, "..")); s += 2)
        if ((s == p || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
            return true;
    return false;
}

/* The symlink of links (names the tar made, clean) that path goes through, or NULL. */
static const char *
through_link(struct json_object *links, const char *path)
{
    cleanup_free char *p = xstrdup(path);
    for (char *slash = strchr(p, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        struct lh_entry *hit = lh_table_lookup_entry(json_object_get_object(links), p);
        *slash = '/';
        if (hit)
            return (const char *)lh_entry_k(hit);
    }
    return NULL;
}

/* Refuse an entry that would land (or link) outside the directory it is extracted into:
 * `..`, an absolute name, a link out, or a path through a symlink an earlier entry made (which
 * could point anywhere in the container). links holds the tar's symlinks so far. */
static int
check_entry(struct archive_entry *e, struct json_object *links, struct berth_err *err)
{
    const char *name = archive_entry_pathname(e);
    const char *hard = archive_entry_hardlink(e);
    const char *sym = archive_entry_symlink(e);
    if (!name || !*name)
        return berth_err_fail(err, EINVAL, "tar entry without a name");
    if (name[0] == '/' || has_dotdot(name))
        return berth_err_fail(err, EINVAL, "tar entry `%s` points outside the destination", name);
    if (hard && (hard[0] == '/' || has_dotdot(hard)))
        return berth_err_fail(err, EINVAL,
                              "tar entry `%s`: hard link to `%s` is outside the "
                              "destination",
                              name, hard);
    if (sym && sym[0] != '/') {
        /* A relative target must stay below the destination, as dockerd's untar requires. */
        cleanup_free char *dir = xstrdup(name);
        char *slash = strrchr(dir, '/');
        cleanup_free char *joined =
            xasprintf("%.*s%s%s", slash ? (int)(slash - dir) : 0, dir, slash ? "/" : "", sym);
        cleanup_free char *clean = berth_fs_clean(joined);
        if (strcmp(clean, "..") == 0 || strncmp(clean, "../", 3) == 0)
            return berth_err_fail(err, EINVAL,
                                  "tar entry `%s`: symlink to `%s` is outside the destination",
                                  name, sym);
    }
    cleanup_free char *clean = berth_fs_clean(name);
    const char *via = through_link(links, clean);
    cleanup_free char *hclean = hard ? berth_fs_clean(hard) : NULL;
    if (!via && hclean)
        via = through_link(links, hclean);
    if (via)
        return berth_err_fail(err, EINVAL,
                              "tar entry `%s` goes through `%s`, a symlink made by the tar: "
                              "it could point outside the destination",
                              name, via);
    if (sym)
        json_object_object_add(links, clean, NULL);
    else
        json_object_object_del(links, clean);
    return 0;
}

struct extract {
    const struct eng_rootfs *root;
    const char *dest; /* the extraction directory, clean and absolute */
    bool no_overwrite_dir_non_dir;
    bool chown; /* copyUIDGID with a Config.User: everything is owned by uid:gid */
    uid_t uid;
    gid_t gid;
};

/* Make room for an entry of type `mode` at name in parent: an existing non-directory goes, an
 * existing directory stays for a directory and goes (when empty) for anything else. */
static int
make_room(const struct extract *x, int parent, const char *base, mode_t mode, const char *name,
          bool *exists, struct berth_err *err)
{
    struct stat st;
    *exists = false;
    if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : berth_err_set(err, errno, "stat `%s`", name);
    if (S_ISDIR(st.st_mode) && S_ISDIR(mode)) {
        *exists = true;
        return 0;
    }
    if (x->no_overwrite_dir_non_dir && S_ISDIR(st.st_mode) != S_ISDIR(mode))
        return berth_err_fail(err, EINVAL, "cannot overwrite %s `%s` with %s",
                              S_ISDIR(st.st_mode) ? "directory" : "non-directory", name,
                              S_ISDIR(mode) ? "a directory" : "a non-directory");
    if (unlinkat(parent, base, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
        return berth_err_set(err, errno, "replace `%s`", name);
    return 0;
}

static int
copy_data(struct archive *a, int fd, const char *name, struct berth_err *err)
{
    const void *buf;
    size_t n;
    la_int64_t off;
    int rc;
    while ((rc = archive_read_data_block(a, &buf, &n, &off)) == ARCHIVE_OK) {
        const char *p = buf;
        while (n > 0) {
            ssize_t w = pwrite(fd, p, n, (off_t)off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return berth_err_set(err, errno, "write `%s`", name);
            p += w;
            n -= (size_t)w;
            off += w;
        }
    }
    if (rc != ARCHIVE_EOF)
        return berth_err_fail(err, EINVAL, "read `%s` from the tar: %s", name,
                              archive_error_string(a));
    return 0;
}

static int
extract_one(const struct extract *x, struct archive *a, struct archive_entry *e,
            struct berth_err *err)
{
    cleanup_free char *rel = berth_fs_clean(archive_entry_pathname(e));
    if (strcmp(rel, ".") == 0)
        return 0; /* the destination itself */
    cleanup_free char *full = xasprintf("%s/%s", x->dest, rel);
    char *slash = strrchr(full, '/');
    cleanup_free char *parent_path = xstrndup(full, (size_t)(slash - full));
    const char *base = slash + 1;
    cleanup_close int parent =
        berth_fs_mkdir_in_root(x->root->fd, *parent_path ? parent_path : "/", false, err);
    if (parent < 0)
        return -1;

    mode_t mode = archive_entry_mode(e);
    const char *hard = archive_entry_hardlink(e);
    bool exists = false;
    if (make_room(x, parent, base, hard ? S_IFREG : mode, full, &exists, err) < 0)
        return -1;
    uid_t uid = x->chown ? x->uid : (uid_t)archive_entry_uid(e);
    gid_t gid = x->chown ? x->gid : (gid_t)archive_entry_gid(e);
    struct timespec ts[2] = {{.tv_sec = archive_entry_mtime(e)},
                             {.tv_sec = archive_entry_mtime(e)}};
    ts[0].tv_nsec = ts[1].tv_nsec = archive_entry_mtime_nsec(e);

    if (hard) {
        cleanup_free char *hclean = berth_fs_clean(hard);
        cleanup_free char *tpath = xasprintf("%s/%s", x->dest, hclean);
        cleanup_close int tfd =
            berth_fs_open_in_root(x->root->fd, tpath, O_PATH | O_NOFOLLOW, 0, err);
        if (tfd < 0)
            return berth_err_wrap(err, "hard link `%s`", full);
        if (linkat(tfd, "", parent, base, AT_EMPTY_PATH) < 0)
            return berth_err_set(err, errno, "hard link `%s` to `%s`", full, tpath);
        return 0;
    }
    if (S_ISDIR(mode)) {
        if (!exists && mkdirat(parent, base, 0700) < 0)
            return berth_err_set(err, errno, "mkdir `%s`", full);
        cleanup_close int fd =
            openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fchown(fd, uid, gid) < 0 || fchmod(fd, mode & 07777) < 0)
            return berth_err_set(err, errno, "set up directory `%s`", full);
        return 0;
    }
    if (S_ISLNK(mode)) {
        if (symlinkat(archive_entry_symlink(e), parent, base) < 0)
            return berth_err_set(err, errno, "symlink `%s`", full);
        if (fchownat(parent, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
            return berth_err_set(err, errno, "chown `%s`", full);
        utimensat(parent, base, ts, AT_SYMLINK_NOFOLLOW);
        return 0;
    }
    if (S_ISREG(mode)) {
        cleanup_close int fd =
            openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
            return berth_err_set(err, errno, "create `%s`", full);
        if (copy_data(a, fd, full, err) < 0)
            return -1;
        if (fchown(fd, uid, gid) < 0 || fchmod(fd, mode & 07777) < 0 || futimens(fd, ts) < 0)
            return berth_err_set(err, errno, "set the owner, mode and times of `%s`", full);
        return 0;
    }
    if (S_ISCHR(mode) || S_ISBLK(mode) || S_ISFIFO(mode)) {
        if (mknodat(parent, base, mode, archive_entry_rdev(e)) < 0)
            return berth_err_set(err, errno, "mknod `%s`", full);
        if (fchownat(parent, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
            return berth_err_set(err, errno, "chown `%s`", full);
        return 0;
    }
    return 0; /* sockets and the like: nothing to make */
}

ENG_API_HANDLER(eng_api_containers_archive_put)
{
    const char *path = path_arg(req, err);
    if (!path)
        return -1;
    struct extract x = {0};
    bool copy_ids = false;
    if (eng_api_query_bool(req, "noOverwriteDirNonDir", &x.no_overwrite_dir_non_dir, err) < 0 ||
        eng_api_query_bool(req, "copyUIDGID", &copy_ids, err) < 0)
        return -1;
    cleanup_rootfs struct eng_rootfs r = {.fd = -1};
    cleanup_facts struct ctr_facts facts = {0};
    if (open_root(req, &r, &facts, err) < 0)
        return -1;
    x.root = &r;
    /* docker cp -a: the files become the container user's (docker leaves the tar's owners when
     * the container has no Config.User). The user is looked up in the container's own files. */
    if (copy_ids && *facts.user) {
        struct spec_user u = {0};
        if (spec_user_resolve(r.path, facts.user, NULL, &u, err) < 0)
            return -1;
        x.chown = true;
        x.uid = u.uid;
        x.gid = u.gid;
        spec_user_free(&u);
    }
    cleanup_free char *abs = xasprintf("/%s", path);
    cleanup_free char *dest = berth_fs_clean(abs);
    x.dest = strcmp(dest, "/") == 0 ? "" : dest;
    {
        cleanup_close int dfd = berth_fs_open_in_root(r.fd, dest, O_PATH, 0, err);
        struct stat st;
        if (dfd < 0) {
            if (err->code != ENOENT && err->code != ENOTDIR)
                return -1;
            berth_err_clear(err);
            return not_found(path, req, err);
        }
        if (fstat(dfd, &st) < 0)
            return berth_err_set(err, errno, "stat `%s`", path);
        if (!S_ISDIR(st.st_mode))
            return berth_err_fail(err, EINVAL, "extraction point is not a directory");
        /* A stopped container's layer is mounted writable here whatever its HostConfig says,
         * and a running one's read-only root is a read-only mount: the destination is in the
         * root filesystem when it is on the root's mount, else in a volume or bind, which has
         * its own flag. */
        struct statvfs sv;
        struct statx a, b;
        bool ro_mount = fstatvfs(dfd, &sv) == 0 && (sv.f_flag & ST_RDONLY);
        bool on_root = statx(dfd, "", AT_EMPTY_PATH, STATX_MNT_ID, &a) < 0 ||
                       statx(r.fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &b) < 0 ||
                       !(a.stx_mask & b.stx_mask & STATX_MNT_ID) || a.stx_mnt_id == b.stx_mnt_id;
        if (facts.readonly_rootfs && on_root)
            return berth_err_fail(err, EACCES, "container rootfs is marked read-only");
        if (ro_mount)
            return berth_err_fail(err, EACCES, "mounted volume is marked read-only");
    }
    if (req->body_fd < 0)
        return eng_api_reply_data(req, 200, NULL, "", 0);

    /* Check every entry before writing any, so a hostile tar changes nothing. */
    struct archive_entry *e;
    int rc;
    {
        cleanup_archive struct archive *a = tar_reader(req->body_fd, err);
        cleanup_json struct json_object *links = json_object_new_object();
        if (!a)
            return -1;
        while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN)
            if (check_entry(e, links, err) < 0)
                return -1;
        if (rc != ARCHIVE_EOF)
            return berth_err_fail(err, EINVAL, "read the tar: %s", archive_error_string(a));
    }
    cleanup_archive struct archive *a = tar_reader(req->body_fd, err);
    if (!a)
        return -1;
    while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN)
        if (extract_one(&x, a, e, err) < 0)
            return berth_err_wrap(err, "extract into `%s`", path);
    if (rc != ARCHIVE_EOF)
        return berth_err_fail(err, EINVAL, "read the tar: %s", archive_error_string(a));
    return eng_api_reply_data(req, 200, NULL, "", 0);
}

/* ---------------------------------------------------------------- changes */

enum { CHANGE_MODIFIED = 0, CHANGE_ADDED = 1, CHANGE_DELETED = 2 }; /* docker's Kind */

struct change {
    char *path;
    int kind;
};

/* docker's walk of the writable layer (its overlay changes): every entry of the upper
 * directory in lexical order, parents before children; a whiteout (a 0/0 character device) or
 * an opaque directory the lower layers have is a deletion, a name no lower layer has an
 * addition, any other a modification, except a directory the same in size, mode and mtime as
 * the lower one (copied up only because something below it changed). The parent of an
 * addition or a deletion is listed as modified, once, if it was not already. */
struct changes {
    int *lowers; /* O_PATH fds of the lower layers, nearest first */
    size_t n_lowers;
    struct json_object *dirs; /* directories already listed (docker's changedDirs) */
    struct change *v;
    size_t n, cap;
};

static bool
is_whiteout(const struct stat *st)
{
    return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

/* The stat of path in the nearest lower layer that has it; false when none has it (a whiteout
 * there hides it from the layers below). Nothing is followed out of a layer. */
static bool
lower_stat(const struct changes *ch, const char *path, struct stat *st)
{
    for (size_t i = 0; i < ch->n_lowers; i++) {
        struct berth_err ignored = BERTH_ERR_INIT;
        cleanup_close int fd =
            berth_fs_open_in_root(ch->lowers[i], path, O_PATH | O_NOFOLLOW, 0, &ignored);
        berth_err_clear(&ignored);
        if (fd >= 0 && fstat(fd, st) == 0)
            return !is_whiteout(st);
    }
    return false;
}

static bool
is_opaque(int dirfd)
{
    char v[2];
    ssize_t n = fgetxattr(dirfd, "trusted.overlay.opaque", v, sizeof(v));
    if (n < 0)
        n = fgetxattr(dirfd, "user.overlay.opaque", v, sizeof(v));
    return n == 1 && v[0] == 'y';
}

static void
add_change(struct changes *ch, const char *path, int kind)
{
    if (ch->n == ch->cap) {
        ch->cap = ch->cap ? 2 * ch->cap : 64;
        ch->v = xrealloc(ch->v, ch->cap * sizeof(*ch->v));
    }
    ch->v[ch->n++] = (struct change){xstrdup(path), kind};
}

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in the directory dfd, sorted (NULL-terminated, *n of them). */
static char **
sorted_names(int dfd, size_t *n)
{
    *n = 0;
    int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    cleanup_dir DIR *dir = fdopendir(fd);
    if (!dir) {
        close(fd);
        return NULL;
    }
    char **v = xzalloc(sizeof(*v));
    struct dirent *de;
    while ((de = readdir(dir))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        v = xrealloc(v, (*n + 2) * sizeof(*v));
        v[(*n)++] = xstrdup(de->d_name);
        v[*n] = NULL;
    }
    qsort(v, *n, sizeof(*v), name_cmp);
    return v;
}

static bool
same_dir(const struct stat *a, const struct stat *b)
{
    if (a->st_size != b->st_size || a->st_mode != b->st_mode)
        return false;
    if (a->st_mtim.tv_sec != b->st_mtim.tv_sec)
        return false;
    /* Go's sameFsTime: a lost sub-second part (some file systems keep none) still matches. */
    return a->st_mtim.tv_nsec == b->st_mtim.tv_nsec || a->st_mtim.tv_nsec == 0 ||
           b->st_mtim.tv_nsec == 0;
}

static void
record(struct changes *ch, const char *path, int kind, bool dir)
{
    if (dir)
        json_object_object_add(ch->dirs, path, NULL);
    if (kind != CHANGE_MODIFIED) {
        cleanup_free char *parent = xstrdup(path);
        *strrchr(parent, '/') = '\0';
        if (*parent && !json_object_object_get_ex(ch->dirs, parent, NULL)) {
            add_change(ch, parent, CHANGE_MODIFIED);
            json_object_object_add(ch->dirs, parent, NULL);
        }
    }
    add_change(ch, path, kind);
}

static int
walk_upper(struct changes *ch, int dfd, const char *path, int depth, struct berth_err *err)
{
    size_t n = 0;
    cleanup_strv char **names = sorted_names(dfd, &n);
    if (!names)
        return berth_err_set(err, errno, "read `%s` in the layer", *path ? path : "/");
    for (size_t i = 0; i < n; i++) {
        cleanup_free char *child = xasprintf("%s/%s", path, names[i]);
        struct stat st, lst;
        if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue; /* gone meanwhile: the container is running */
        cleanup_close int sub =
            S_ISDIR(st.st_mode)
                ? openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                : -1;
        bool in_lower = lower_stat(ch, child, &lst);
        if (is_whiteout(&st) || (sub >= 0 && in_lower && is_opaque(sub)))
            record(ch, child, CHANGE_DELETED, S_ISDIR(st.st_mode));
        else if (!in_lower)
            record(ch, child, CHANGE_ADDED, S_ISDIR(st.st_mode));
        else if (!S_ISDIR(st.st_mode) || !S_ISDIR(lst.st_mode) || !same_dir(&st, &lst))
            record(ch, child, CHANGE_MODIFIED, S_ISDIR(st.st_mode));
        if (sub >= 0 && depth < 256 && walk_upper(ch, sub, child, depth + 1, err) < 0)
            return -1;
    }
    return 0;
}

ENG_API_HANDLER(eng_api_containers_changes)
{
    cleanup_ctr struct eng_ctr *c = eng_ctr_find(req->d, eng_api_param(&req->params, "id"), err);
    if (!c)
        return -1;
    cleanup_free char *upper = NULL;
    char **lowers = NULL;
    size_t n_lowers = 0;
    if (eng_ctr_layer_dirs(req->d, c, &upper, &lowers, &n_lowers, err) < 0)
        return -1;

    struct changes ch = {.dirs = json_object_new_object(), .n_lowers = n_lowers};
    ch.lowers = xzalloc((n_lowers + 1) * sizeof(*ch.lowers));
    int rc = 0;
    for (size_t i = 0; i < n_lowers; i++) {
        ch.lowers[i] = open(lowers[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (ch.lowers[i] < 0 && rc == 0)
            rc = berth_err_set(err, errno, "open the layer `%s`", lowers[i]);
    }
    cleanup_close int ufd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rc == 0 && ufd < 0)
        rc = berth_err_set(err, errno, "open the layer `%s`", upper);
    if (rc == 0)
        rc = walk_upper(&ch, ufd, "", 0, err);

    struct json_object *out = rc < 0 ? NULL : json_object_new_array();
    for (size_t i = 0; i < ch.n; i++) {
        if (out) {
            struct json_object *o = json_object_new_object();
            json_object_object_add(o, "Path", json_object_new_string(ch.v[i].path));
            json_object_object_add(o, "Kind", json_object_new_int(ch.v[i].kind));
            json_object_array_add(out, o);
        }
        free(ch.v[i].path);
    }
    for (size_t i = 0; i < n_lowers; i++) {
        if (ch.lowers[i] >= 0)
            close(ch.lowers[i]);
        free(lowers[i]);
    }
    free(lowers);
    free(ch.lowers);
    free(ch.v);
    json_object_put(ch.dirs);
    if (rc < 0)
        return -1;
    return eng_api_reply_json(req, 200, out);
}
