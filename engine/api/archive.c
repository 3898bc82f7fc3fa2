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
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/log.h"
#include "engine/api/handlers.h"
#include "engine/api/request.h"
#include "engine/api/router.h"
#include "engine/containers/containers.h"
#include "engine/daemon.h"

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

/* Open the container named in the request's path and its root filesystem. */
static int
open_root(struct eng_api_req *req, struct eng_rootfs *r, struct berth_err *err)
{
    cleanup_ctr struct eng_ctr *c = eng_ctr_find(req->d, eng_api_param(&req->params, "id"), err);
    if (!c)
        return -1;
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
    if (S_ISLNK(t->st.st_mode))
        lt = link_target(r, path[0] == '/' ? path : "/");
    json_object_object_add(o, "linkTarget", json_object_new_string(lt ? lt : ""));
    const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    size_t n = strlen(s);
    char *out = xmalloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
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
    if (open_root(req, &r, err) < 0)
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
    if (open_root(req, &j->root, err) < 0 || resolve(&j->root, path, &j->t, err) < 0) {
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
    if (open_root(req, &j->root, err) < 0) {
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

/* Refuse an entry that would land (or link) outside the directory it is extracted into. */
static int
check_entry(struct archive_entry *e, struct berth_err *err)
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
    return 0;
}

struct extract {
    const struct eng_rootfs *root;
    const char *dest; /* the extraction directory, clean and absolute */
    bool no_overwrite_dir_non_dir;
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
    uid_t uid = (uid_t)archive_entry_uid(e);
    gid_t gid = (gid_t)archive_entry_gid(e);
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
    if (eng_api_query_bool(req, "noOverwriteDirNonDir", &x.no_overwrite_dir_non_dir, err) < 0)
        return -1;
    cleanup_rootfs struct eng_rootfs r = {.fd = -1};
    if (open_root(req, &r, err) < 0)
        return -1;
    x.root = &r;
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
    }
    if (req->body_fd < 0)
        return eng_api_reply_data(req, 200, NULL, "", 0);

    /* Check every entry before writing any, so a hostile tar changes nothing. */
    struct archive_entry *e;
    int rc;
    {
        cleanup_archive struct archive *a = tar_reader(req->body_fd, err);
        if (!a)
            return -1;
        while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN)
            if (check_entry(e, err) < 0)
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

struct change {
    char *path;
    int kind; /* docker's: 0 modified, 1 added, 2 deleted */
};

struct changes {
    const char *const *lowers;
    size_t n_lowers;
    struct change *v;
    size_t n, cap;
};

static bool
in_lowers(const struct changes *ch, const char *path)
{
    for (size_t i = 0; i < ch->n_lowers; i++) {
        struct berth_err ignored = BERTH_ERR_INIT;
        cleanup_close int lfd = open(ch->lowers[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
        cleanup_close int fd =
            lfd < 0 ? -1 : berth_fs_open_in_root(lfd, path, O_PATH | O_NOFOLLOW, 0, &ignored);
        berth_err_clear(&ignored);
        if (fd >= 0)
            return true;
    }
    return false;
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

/* Every entry below the upper directory dfd (at path in the container): a whiteout (a 0/0
 * character device) is a deletion, a name the lower layers have a modification, any other an
 * addition. Nothing is followed. */
static int
walk_upper(struct changes *ch, int dfd, const char *path, int depth, struct berth_err *err)
{
    int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return berth_err_set(err, errno, "open `%s` in the layer", path);
    cleanup_dir DIR *dir = fdopendir(fd);
    if (!dir) {
        close(fd);
        return berth_err_set(err, errno, "read `%s` in the layer", path);
    }
    struct dirent *de;
    while ((de = readdir(dir))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        cleanup_free char *child = xasprintf("%s/%s", *path ? path : "", de->d_name);
        struct stat st;
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue; /* gone meanwhile: the container is running */
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
            add_change(ch, child, 2);
            continue;
        }
        add_change(ch, child, in_lowers(ch, child) ? 0 : 1);
        if (!S_ISDIR(st.st_mode) || depth > 256)
            continue;
        cleanup_close int sub =
            openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0)
            continue;
        if (walk_upper(ch, sub, child, depth + 1, err) < 0)
            return -1;
    }
    return 0;
}

static int
change_cmp(const void *a, const void *b)
{
    return strcmp(((const struct change *)a)->path, ((const struct change *)b)->path);
}

ENG_API_HANDLER(eng_api_containers_changes)
{
    cleanup_ctr struct eng_ctr *c = eng_ctr_find(req->d, eng_api_param(&req->params, "id"), err);
    if (!c)
        return -1;
    cleanup_free char *upper = NULL;
    cleanup_strv char **lowers = NULL;
    size_t n_lowers = 0;
    char **lv = NULL;
    if (eng_ctr_layer_dirs(req->d, c, &upper, &lv, &n_lowers, err) < 0)
        return -1;
    /* A NULL-terminated copy, so that one cleanup frees it. */
    lowers = xrealloc(lv, (n_lowers + 1) * sizeof(*lowers));
    lowers[n_lowers] = NULL;

    struct changes ch = {.lowers = (const char *const *)lowers, .n_lowers = n_lowers};
    cleanup_close int ufd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = ufd < 0 ? berth_err_set(err, errno, "open the layer `%s`", upper)
                     : walk_upper(&ch, ufd, "", 0, err);
    struct json_object *out = rc < 0 ? NULL : json_object_new_array();
    if (ch.n)
        qsort(ch.v, ch.n, sizeof(*ch.v), change_cmp);
    for (size_t i = 0; i < ch.n; i++) {
        if (out) {
            struct json_object *o = json_object_new_object();
            json_object_object_add(o, "Path", json_object_new_string(ch.v[i].path));
            json_object_object_add(o, "Kind", json_object_new_int(ch.v[i].kind));
            json_object_array_add(out, o);
        }
        free(ch.v[i].path);
    }
    free(ch.v);
    if (rc < 0)
        return -1;
    return eng_api_reply_json(req, 200, out);
}
