/* SPDX-License-Identifier: Apache-2.0
 *
 * cp: files between a container and the host, as tar through the archive endpoints
 * (GET/PUT /containers/{id}/archive). libarchive reads and writes the tar on this side:
 * extraction refuses `..` paths and symlinks followed out of the destination.
 *
 * Naming follows docker: copying SRC to a DEST that is an existing directory puts SRC's
 * last element inside it; to a DEST that does not exist, SRC arrives as DEST. "-" as DEST
 * writes the tar to stdout; "-" as SRC reads a tar from stdin.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/cli/cli.h"
#include "engine/cli/flags.h"
#include "engine/cli/http.h"
#include "engine/cli/output.h"

/* "name:path" with name not starting with '/' or '.': a container path. */
static bool
split_container(const char *arg, char **name, char **path)
{
    const char *colon = strchr(arg, ':');
    if (!colon || colon == arg || arg[0] == '/' || arg[0] == '.')
        return false;
    *name = xstrndup(arg, (size_t)(colon - arg));
    *path = xstrdup(colon + 1);
    return true;
}

static int
to_file(void *opaque, const char *data, size_t len, struct berth_err *err)
{
    if (fwrite(data, 1, len, opaque) != len)
        return berth_err_set(err, errno, "write");
    return 0;
}

/* Extract tar (a file) to dest, renaming its top element to dest when dest does not exist,
 * else to top when not NULL (a followed link keeps the link's name, as docker cp -L does). */
static int
extract(const char *tar, const char *dest, const char *top, struct berth_err *err)
{
    struct stat st;
    bool into = stat(dest, &st) == 0 && S_ISDIR(st.st_mode);
    cleanup_free char *dcopy = xstrdup(dest);
    const char *parent = into ? dest : dirname(dcopy);
    cleanup_free char *dest_base_copy = xstrdup(dest);
    const char *dest_base = basename(dest_base_copy);
    struct archive *in = archive_read_new();
    struct archive *out = archive_write_disk_new();
    archive_read_support_format_tar(in);
    archive_write_disk_set_options(out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                            ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                            ARCHIVE_EXTRACT_SECURE_SYMLINKS);
    int rc = -1;
    if (archive_read_open_filename(in, tar, 65536) != ARCHIVE_OK) {
        berth_err_fail(err, EIO, "read the archive: %s", archive_error_string(in));
        goto out;
    }
    struct archive_entry *e;
    int r;
    while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        const char *rest = name + strcspn(name, "/");
        cleanup_free char *target = !into ? xasprintf("%s/%s%s", parent, dest_base, rest)
                                    : top ? xasprintf("%s/%s%s", parent, top, rest)
                                          : xasprintf("%s/%s", parent, name);
        archive_entry_set_pathname(e, target);
        const char *hl = archive_entry_hardlink(e);
        if (hl) {
            const char *hrest = hl + strcspn(hl, "/");
            cleanup_free char *ht = !into ? xasprintf("%s/%s%s", parent, dest_base, hrest)
                                    : top ? xasprintf("%s/%s%s", parent, top, hrest)
                                          : xasprintf("%s/%s", parent, hl);
            archive_entry_set_hardlink(e, ht);
        }
        if (archive_write_header(out, e) != ARCHIVE_OK) {
            berth_err_fail(err, EIO, "extract `%s`: %s", target, archive_error_string(out));
            goto out;
        }
        const void *buf;
        size_t size;
        la_int64_t off;
        while ((r = archive_read_data_block(in, &buf, &size, &off)) == ARCHIVE_OK)
            if (archive_write_data_block(out, buf, size, off) != ARCHIVE_OK) {
                berth_err_fail(err, EIO, "write `%s`: %s", target, archive_error_string(out));
                goto out;
            }
        if (r != ARCHIVE_EOF) {
            berth_err_fail(err, EIO, "read the archive: %s", archive_error_string(in));
            goto out;
        }
        archive_write_finish_entry(out);
    }
    if (r != ARCHIVE_EOF) {
        berth_err_fail(err, EIO, "read the archive: %s", archive_error_string(in));
        goto out;
    }
    rc = 0;
out:
    archive_read_free(in);
    archive_write_close(out);
    archive_write_free(out);
    return rc;
}

static char *link_target(struct cli_global *g, const char *name, const char *path,
                         struct berth_err *err);

static int
from_container(struct cli_global *g, const char *name, const char *path, const char *dest,
               bool follow, struct berth_err *err)
{
    /* -L: the link's target is copied, under the link's own name. */
    cleanup_free char *target = follow ? link_target(g, name, path, err) : NULL;
    if (follow && err->msg)
        return -1;
    cleanup_free char *pcopy = target ? xstrdup(path) : NULL;
    const char *top = target ? basename(pcopy) : NULL;
    if (target)
        path = target;
    cleanup_free char *e_path = cli_escape(path);
    cleanup_free char *api = xasprintf("/containers/%s/archive?path=%s", name, e_path);
    if (strcmp(dest, "-") == 0) {
        struct cli_request req = {
            .method = "GET", .path = api, .on_data = to_file, .opaque = stdout};
        struct cli_response resp;
        int rc = cli_http_do(g, &req, &resp, err);
        cli_response_free(&resp);
        fflush(stdout);
        return rc;
    }
    char tmpl[] = "/tmp/berth-cp-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0)
        return berth_err_set(err, errno, "create a temporary file");
    FILE *f = fdopen(fd, "w+b");
    struct cli_request req = {.method = "GET", .path = api, .on_data = to_file, .opaque = f};
    struct cli_response resp;
    int rc = cli_http_do(g, &req, &resp, err);
    cli_response_free(&resp);
    if (fclose(f) != 0 && rc == 0)
        rc = berth_err_set(err, errno, "write a temporary file");
    if (rc == 0)
        rc = extract(tmpl, dest, top, err);
    unlink(tmpl);
    return rc;
}

/* Tar src into file tar, its top element named top. */
static int
make_tar(const char *src, const char *top, const char *tar, struct berth_err *err)
{
    struct archive *disk = archive_read_disk_new();
    struct archive *out = archive_write_new();
    archive_read_disk_set_standard_lookup(disk);
    archive_read_disk_set_symlink_physical(disk);
    archive_write_set_format_pax_restricted(out);
    int rc = -1;
    if (archive_write_open_filename(out, tar) != ARCHIVE_OK) {
        berth_err_fail(err, EIO, "create the archive: %s", archive_error_string(out));
        goto out;
    }
    if (archive_read_disk_open(disk, src) != ARCHIVE_OK) {
        berth_err_fail(err, ENOENT, "stat `%s`: %s", src, archive_error_string(disk));
        goto out;
    }
    size_t src_len = strlen(src);
    for (;;) {
        struct archive_entry *e = archive_entry_new();
        int r = archive_read_next_header2(disk, e);
        if (r == ARCHIVE_EOF) {
            archive_entry_free(e);
            break;
        }
        if (r != ARCHIVE_OK) {
            berth_err_fail(err, EIO, "read `%s`: %s", src, archive_error_string(disk));
            archive_entry_free(e);
            goto out;
        }
        archive_read_disk_descend(disk);
        const char *p = archive_entry_pathname(e);
        cleanup_free char *name = xasprintf("%s%s", top, strlen(p) > src_len ? p + src_len : "");
        archive_entry_set_pathname(e, name);
        if (archive_write_header(out, e) != ARCHIVE_OK) {
            berth_err_fail(err, EIO, "archive `%s`: %s", p, archive_error_string(out));
            archive_entry_free(e);
            goto out;
        }
        if (archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0) {
            cleanup_close int fd = open(archive_entry_sourcepath(e), O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                berth_err_set(err, errno, "open `%s`", archive_entry_sourcepath(e));
                archive_entry_free(e);
                goto out;
            }
            char buf[65536];
            ssize_t n;
            while ((n = read(fd, buf, sizeof(buf))) > 0)
                archive_write_data(out, buf, (size_t)n);
        }
        archive_entry_free(e);
    }
    rc = 0;
out:
    archive_read_free(disk);
    archive_write_close(out);
    archive_write_free(out);
    return rc;
}

/* The stat header of path in the container as JSON, or NULL (err set unless the path is
 * missing: a HEAD answer has no body to say more). */
static struct json_object *
path_stat(struct cli_global *g, const char *name, const char *path, struct berth_err *err)
{
    cleanup_free char *e_path = cli_escape(path);
    cleanup_free char *api = xasprintf("/containers/%s/archive?path=%s", name, e_path);
    struct cli_request req = {.method = "HEAD", .path = api};
    struct cli_response resp;
    int rc = cli_http_do(g, &req, &resp, err);
    struct json_object *o = NULL;
    if (rc == 0 && resp.path_stat) {
        cleanup_free char *js = cli_base64_decode(resp.path_stat);
        struct berth_err perr = BERTH_ERR_INIT;
        o = js ? berth_json_parse(js, strlen(js), &perr) : NULL;
        berth_err_clear(&perr);
    }
    if (rc < 0 && resp.status == 404)
        berth_err_fail(err, ENOENT, "No such container:path: %s:%s", name, path);
    cli_response_free(&resp);
    return o;
}

/* What path is a symlink to (its linkTarget), or NULL when it is not a link (err unset). */
static char *
link_target(struct cli_global *g, const char *name, const char *path, struct berth_err *err)
{
    cleanup_json struct json_object *o = path_stat(g, name, path, err);
    struct json_object *mode = NULL, *lt = NULL;
    if (!o || !json_object_object_get_ex(o, "mode", &mode) ||
        !(json_object_get_int64(mode) & (1LL << 27)) ||
        !json_object_object_get_ex(o, "linkTarget", &lt) || !*json_object_get_string(lt))
        return NULL;
    return xstrdup(json_object_get_string(lt));
}

/* Whether path in the container is a directory, from the archive endpoint's stat header.
 * -1 with err when the container is not there; 0 (false) when the path is not. */
static int
container_is_dir(struct cli_global *g, const char *name, const char *path, struct berth_err *err)
{
    cleanup_free char *e_path = cli_escape(path);
    cleanup_free char *api = xasprintf("/containers/%s/archive?path=%s", name, e_path);
    struct cli_request req = {.method = "HEAD", .path = api};
    struct cli_response resp;
    int rc = cli_http_do(g, &req, &resp, err);
    if (rc < 0) {
        cli_response_free(&resp);
        if (resp.status == 404 && strstr(err->msg ? err->msg : "", "path")) {
            berth_err_clear(err);
            return 0;
        }
        /* A HEAD answer has no body: say what the status means. */
        if (resp.status == 404) {
            berth_err_clear(err);
            return 0;
        }
        return -1;
    }
    int dir = 0;
    if (resp.path_stat) {
        cleanup_free char *js = cli_base64_decode(resp.path_stat);
        struct berth_err perr = BERTH_ERR_INIT;
        cleanup_json struct json_object *o = js ? berth_json_parse(js, strlen(js), &perr) : NULL;
        berth_err_clear(&perr);
        struct json_object *mode = NULL;
        if (o && json_object_object_get_ex(o, "mode", &mode))
            dir = (json_object_get_int64(mode) & (1LL << 31)) ? 1 : 0;
    }
    cli_response_free(&resp);
    return dir;
}

static int
to_container(struct cli_global *g, const char *src, const char *name, const char *path,
             bool archive, struct berth_err *err)
{
    char tmpl[] = "/tmp/berth-cp-XXXXXX";
    const char *tar = tmpl;
    cleanup_free char *dir = NULL;
    if (strcmp(src, "-") == 0) {
        /* A tar from stdin goes to the directory as it is. */
        tar = "/dev/stdin";
        dir = xstrdup(path);
    } else {
        struct stat st;
        if (lstat(src, &st) < 0)
            return berth_err_set(err, errno, "stat `%s`", src);
        int is_dir = container_is_dir(g, name, path, err);
        if (is_dir < 0)
            return -1;
        cleanup_free char *scopy = xstrdup(src), *pcopy = xstrdup(path), *pcopy2 = xstrdup(path);
        const char *top = is_dir ? basename(scopy) : basename(pcopy);
        dir = is_dir ? xstrdup(path) : xstrdup(dirname(pcopy2));
        int fd = mkstemp(tmpl);
        if (fd < 0)
            return berth_err_set(err, errno, "create a temporary file");
        close(fd);
        if (make_tar(src, top, tmpl, err) < 0) {
            unlink(tmpl);
            return -1;
        }
    }
    cleanup_free char *e_dir = cli_escape(dir);
    /* -a: the daemon gives the files to the container's user (copyUIDGID), as dockerd does. */
    cleanup_free char *api = xasprintf("/containers/%s/archive?path=%s%s", name, e_dir,
                                       archive ? "&copyUIDGID=true" : "");
    struct cli_request req = {.method = "PUT", .path = api, .body_file = tar};
    struct cli_response resp;
    int rc = cli_http_do(g, &req, &resp, err);
    cli_response_free(&resp);
    if (tar == tmpl)
        unlink(tmpl);
    return rc;
}

int
cli_cmd_cp(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    bool archive = false, follow = false, quiet = false;
    const struct cli_flag flags[] = {{"archive", 'a', CLI_FLAG_BOOL, &archive, NULL},
                                     {"follow-link", 'L', CLI_FLAG_BOOL, &follow, NULL},
                                     {"quiet", 'q', CLI_FLAG_BOOL, &quiet, NULL}};
    struct cli_args args;
    if (cli_flags_parse("cp", flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n"
               "        berth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH\n\n"
               "Copy files/folders between a container and the local filesystem\n");
        return 0;
    }
    if (cli_args_count("cp", &args, 2, 2, err) < 0)
        return CLI_EXIT_USAGE;
    cleanup_free char *sname = NULL, *spath = NULL, *dname = NULL, *dpath = NULL;
    bool from = split_container(args.v[0], &sname, &spath);
    bool to = split_container(args.v[1], &dname, &dpath);
    if (from == to) {
        berth_err_fail(err, EINVAL,
                       from ? "copying between containers is not supported"
                            : "must specify at least one container source");
        return CLI_EXIT_FAIL;
    }
    int rc = from ? from_container(g, sname, spath, args.v[1], follow, err)
                  : to_container(g, args.v[0], dname, dpath, archive, err);
    return rc < 0 ? CLI_EXIT_FAIL : 0;
}
