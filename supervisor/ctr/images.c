/* SPDX-License-Identifier: Apache-2.0
 *
 * `berth-ctr images` (image, i): pull, push, ls, check, rm, tag, import, export, usage and
 * prune over the Images service, shaped like ctr's. Pulls and pushes show their progress
 * (progress.h); the last line they print is `<name>@<digest>`. `ls` and `check` read the
 * index or manifest of each image from the content store (image-content.h) for the platforms
 * and blob counts they print.
 */
#include "supervisor/ctr/ctr.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "berth/supervisor/v1/images.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/reference.h"
#include "common/rpc.h"
#include "supervisor/ctr/client.h"
#include "supervisor/ctr/image-content.h"
#include "supervisor/ctr/io.h"
#include "supervisor/ctr/output.h"
#include "supervisor/ctr/pbjson.h"
#include "supervisor/ctr/progress.h"

#define SVC (&berth__supervisor__v1__images__descriptor)

typedef Berth__Supervisor__V1__Image image_t;

/* ---- Shared ------------------------------------------------------------------------------- */

/* A stream that failed because nothing listens says where it looked. */
static int
stream_error(struct ctr_global *g, struct berth_err *err)
{
    if (err->code == ECONNREFUSED)
        return berth_err_wrap(err, "connect to the supervisor at `%s`", g->address);
    return -1;
}

static char *
human_size(int64_t bytes)
{
    return ctr_progress_size(bytes);
}

/* A name as pulls store it: docker's normalized form ("busybox" is
 * "docker.io/library/busybox:latest"); a name that is no reference stays as given. Heap. */
static char *
normalized(const char *name)
{
    struct berth_ref ref = BERTH_REF_INIT;
    struct berth_err ignored = BERTH_ERR_INIT;
    if (berth_ref_parse(name, &ref, &ignored) < 0) {
        berth_err_clear(&ignored);
        return xstrdup(name);
    }
    char *s = berth_ref_string(&ref);
    berth_ref_release(&ref);
    return s;
}

/* Images.Get of name as given, else of its normalized form: `busybox` finds what `images pull
 * busybox` stored. */
static int
get_image(struct ctr_global *g, const char *name, Berth__Supervisor__V1__GetImageResponse **out,
          struct berth_err *err)
{
    Berth__Supervisor__V1__GetImageRequest req = BERTH__SUPERVISOR__V1__GET_IMAGE_REQUEST__INIT;
    cleanup_free char *full = normalized(name);
    req.name = (char *)name;
    int r = ctr_call(g, SVC, "Get", &req.base, out, err);
    if (r < 0 && err->code == ENOENT && strcmp(full, name) != 0) {
        berth_err_clear(err);
        req.name = full;
        r = ctr_call(g, SVC, "Get", &req.base, out, err);
    }
    if (r < 0)
        return -1;
    if (!(*out)->image || !(*out)->image->target)
        return berth_err_fail(err, EPROTO, "image `%s` has no target", name);
    return 0;
}

/* "USER:PASSWORD", or "USER" and the password read from the terminal (not echoed). */
static int
fill_auth(const char *user, Berth__Supervisor__V1__RegistryAuth *auth, char **buf,
          struct berth_err *err)
{
    const char *colon = strchr(user, ':');
    if (colon) {
        *buf = xstrdup(user);
        (*buf)[colon - user] = '\0';
        auth->username = *buf;
        auth->password = *buf + (colon - user) + 1;
        return 0;
    }
    cleanup_close int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (tty < 0)
        return berth_err_fail(err, EINVAL,
                              "no terminal to ask the password on: give --user "
                              "USER:PASSWORD");
    struct termios old, quiet;
    if (tcgetattr(tty, &old) < 0)
        return berth_err_set(err, errno, "read the terminal's settings");
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    dprintf(tty, "Password: ");
    tcsetattr(tty, TCSAFLUSH, &quiet);
    char pw[1024];
    ssize_t n = read(tty, pw, sizeof(pw) - 1);
    tcsetattr(tty, TCSAFLUSH, &old);
    dprintf(tty, "\n");
    if (n < 0)
        return berth_err_set(err, errno, "read the password");
    pw[n] = '\0';
    pw[strcspn(pw, "\r\n")] = '\0';
    *buf = xasprintf("%s%c%s", user, '\0', pw);
    auth->username = *buf;
    auth->password = *buf + strlen(user) + 1;
    explicit_bzero(pw, sizeof(pw));
    return 0;
}

static void
free_secret(char **buf)
{
    if (!*buf)
        return;
    /* The user name, its NUL and the password: clear all of it before it goes. */
    size_t len = strlen(*buf);
    explicit_bzero(*buf + len + 1, strlen(*buf + len + 1));
    free(*buf);
    *buf = NULL;
}

static int
terminal_columns(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 0;
}

static struct ctr_progress *
progress_new(enum ctr_progress_dir dir)
{
    bool tty = isatty(STDOUT_FILENO);
    return ctr_progress_new(stdout, dir, tty, tty ? terminal_columns() : 0);
}

static void
progress_add(struct ctr_progress *p, Berth__Supervisor__V1__Progress *const *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct ctr_progress_item it = {.ref = items[i]->ref,
                                       .digest = items[i]->digest,
                                       .status = items[i]->status,
                                       .offset = items[i]->offset,
                                       .total = items[i]->total};
        ctr_progress_update(p, &it);
    }
    if (n)
        ctr_progress_draw(p);
}

/* ---- pull and push ------------------------------------------------------------------------ */

struct transfer_opts {
    const char *platform, *user;
    bool all_platforms, skip_unpack, plain_http;
    char **labels;
    size_t n_labels;
};

enum {
    OPT_PLATFORM = 256,
    OPT_ALL_PLATFORMS,
    OPT_SKIP_UNPACK,
    OPT_PLAIN_HTTP,
    OPT_USER,
    OPT_LABEL,
    OPT_BASE_NAME,
    OPT_FORCE,
    OPT_SYNC,
};

static const char pull_help[] =
    "   --platform P          platform to pull (os/arch[/variant]; default: the host's)\n"
    "   --all-platforms       fetch every platform of an index (unpack only one)\n"
    "   --skip-unpack         fetch only; do not unpack the layers into snapshots\n"
    "   --plain-http          use http (a loopback or insecure registry)\n"
    "   --user USER[:PASSWORD], -u ...\n"
    "                         credentials for the registry (asked on the terminal when\n"
    "                         PASSWORD is left out)\n"
    "   --label KEY=VALUE     label the image (repeatable)\n";

static const char push_help[] =
    "   --platform P          push only this platform's manifest\n"
    "   --plain-http          use http (a loopback or insecure registry)\n"
    "   --user USER[:PASSWORD], -u ...\n"
    "                         credentials for the registry (asked on the terminal when\n"
    "                         PASSWORD is left out)\n";

/* The options of pull (push true: the subset push takes). Returns 1 after help. */
static int
parse_transfer(bool push, int argc, char **argv, struct transfer_opts *o, struct berth_err *err)
{
    static const struct option opts[] = {
        {"platform", required_argument, NULL, OPT_PLATFORM},
        {"all-platforms", no_argument, NULL, OPT_ALL_PLATFORMS},
        {"skip-unpack", no_argument, NULL, OPT_SKIP_UNPACK},
        {"plain-http", no_argument, NULL, OPT_PLAIN_HTTP},
        {"user", required_argument, NULL, 'u'},
        {"label", required_argument, NULL, OPT_LABEL},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = push ? "images push" : "images pull";
    int c;
    while ((c = getopt_long(argc, argv, "+u:h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_PLATFORM: o->platform = optarg; break;
        case OPT_PLAIN_HTTP: o->plain_http = true; break;
        case 'u': o->user = optarg; break;
        case OPT_ALL_PLATFORMS:
        case OPT_SKIP_UNPACK:
        case OPT_LABEL:
            if (push)
                return ctr_bad_option(cmd, err);
            if (c == OPT_ALL_PLATFORMS)
                o->all_platforms = true;
            else if (c == OPT_SKIP_UNPACK)
                o->skip_unpack = true;
            else
                ctr_strv_push(&o->labels, &o->n_labels, optarg);
            break;
        case 'h':
            if (push)
                ctr_usage(cmd, "[options] NAME [REMOTE]",
                          "Push the image NAME to its registry, or to the reference REMOTE.\n"
                          "Progress is shown per layer; the last line is REMOTE@DIGEST.\n",
                          push_help);
            else
                ctr_usage(cmd, "[options] REF",
                          "Fetch an image from its registry into the content store, unpack\n"
                          "it into snapshots and name it. Progress is shown per layer; the\n"
                          "last line is NAME@DIGEST.\n",
                          pull_help);
            return 1;
        default: return ctr_bad_option(cmd, err);
        }
    }
    return 0;
}

static int
pull(struct ctr_global *g, const char *ref, const struct transfer_opts *o, struct berth_err *err)
{
    Berth__Supervisor__V1__PullImageRequest req = BERTH__SUPERVISOR__V1__PULL_IMAGE_REQUEST__INIT;
    Berth__Supervisor__V1__RegistryAuth auth = BERTH__SUPERVISOR__V1__REGISTRY_AUTH__INIT;
    char *secret = NULL;
    ProtobufCMessage **labels = NULL;
    size_t n_labels = 0;
    req.ref = (char *)ref;
    req.platform = (char *)(o->platform ? o->platform : "");
    req.all_platforms = o->all_platforms;
    req.skip_unpack = o->skip_unpack;
    req.plain_http = o->plain_http;
    if (o->user && fill_auth(o->user, &auth, &secret, err) < 0)
        return -1;
    if (o->user)
        req.auth = &auth;
    if (ctr_map_from_args(&berth__supervisor__v1__pull_image_request__labels_entry__descriptor,
                          o->labels, o->n_labels, false, &labels, &n_labels, err) < 0) {
        free_secret(&secret);
        return -1;
    }
    req.labels = (Berth__Supervisor__V1__PullImageRequest__LabelsEntry **)labels;
    req.n_labels = n_labels;
    struct berth_rpc_stream *s = ctr_stream(g, SVC, "Pull", &req.base, err);
    free_secret(&secret);
    ctr_map_free(labels, n_labels);
    if (!s)
        return -1;
    cleanup_progress struct ctr_progress *p = progress_new(CTR_PROGRESS_PULL);
    cleanup_free char *name = NULL, *digest = NULL;
    int r;
    for (;;) {
        cleanup_pb Berth__Supervisor__V1__PullImageResponse *m = NULL;
        r = berth_rpc_stream_next(s, (ProtobufCMessage **)&m, err);
        if (r <= 0)
            break;
        progress_add(p, m->progress, m->n_progress);
        if (m->image && m->image->name) {
            free(name);
            free(digest);
            name = xstrdup(m->image->name);
            digest = xstrdup(m->image->target ? m->image->target->digest : "");
        }
    }
    berth_rpc_stream_free(s);
    if (r < 0)
        return stream_error(g, err) < 0 ? berth_err_wrap(err, "pull `%s`", ref) : -1;
    if (!name)
        return berth_err_fail(err, EPROTO, "pull `%s`: the supervisor sent no image", ref);
    printf("%s@%s\n", name, digest);
    return 0;
}

static int
cmd_pull(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    struct transfer_opts o = {0};
    int r = parse_transfer(false, argc, argv, &o, err);
    if (r == 0) {
        const char *ref = ctr_one_arg("images pull", "image reference", argc, argv, err);
        r = ref ? pull(g, ref, &o, err) : -1;
    }
    free(o.labels);
    return r < 0 ? -1 : 0;
}

static int
cmd_push(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    Berth__Supervisor__V1__PushImageRequest req = BERTH__SUPERVISOR__V1__PUSH_IMAGE_REQUEST__INIT;
    Berth__Supervisor__V1__RegistryAuth auth = BERTH__SUPERVISOR__V1__REGISTRY_AUTH__INIT;
    struct transfer_opts o = {0};
    char *secret = NULL;
    int r = parse_transfer(true, argc, argv, &o, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    if (argc - optind < 1 || argc - optind > 2)
        return berth_err_fail(err, EINVAL, "`images push` requires a name and at most a remote");
    req.name = argv[optind];
    req.ref = argc - optind == 2 ? argv[optind + 1] : "";
    req.platform = (char *)(o.platform ? o.platform : "");
    req.plain_http = o.plain_http;
    if (o.user && fill_auth(o.user, &auth, &secret, err) < 0)
        return -1;
    if (o.user)
        req.auth = &auth;
    struct berth_rpc_stream *s = ctr_stream(g, SVC, "Push", &req.base, err);
    free_secret(&secret);
    if (!s)
        return -1;
    cleanup_progress struct ctr_progress *p = progress_new(CTR_PROGRESS_PUSH);
    cleanup_free char *digest = NULL;
    for (;;) {
        cleanup_pb Berth__Supervisor__V1__PushImageResponse *m = NULL;
        r = berth_rpc_stream_next(s, (ProtobufCMessage **)&m, err);
        if (r <= 0)
            break;
        progress_add(p, m->progress, m->n_progress);
        if (m->digest && *m->digest) {
            free(digest);
            digest = xstrdup(m->digest);
        }
    }
    berth_rpc_stream_free(s);
    if (r < 0)
        return stream_error(g, err) < 0 ? berth_err_wrap(err, "push `%s`", req.name) : -1;
    if (!digest)
        return berth_err_fail(err, EPROTO, "push `%s`: the supervisor sent no digest", req.name);
    printf("%s@%s\n", *req.ref ? req.ref : req.name, digest);
    return 0;
}

/* ---- ls ----------------------------------------------------------------------------------- */

static int
list_images(struct ctr_global *g, char **filters, size_t n_filters,
            Berth__Supervisor__V1__ListImagesResponse **out, struct berth_err *err)
{
    Berth__Supervisor__V1__ListImagesRequest req = BERTH__SUPERVISOR__V1__LIST_IMAGES_REQUEST__INIT;
    req.filters = filters;
    req.n_filters = n_filters;
    return ctr_call(g, SVC, "List", &req.base, out, err);
}

static int
check_image(struct ctr_global *g, const char *name, const char *platform,
            Berth__Supervisor__V1__CheckImageResponse **out, struct berth_err *err)
{
    Berth__Supervisor__V1__CheckImageRequest req = BERTH__SUPERVISOR__V1__CHECK_IMAGE_REQUEST__INIT;
    req.name = (char *)name;
    req.platform = (char *)(platform ? platform : "");
    return ctr_call(g, SVC, "Check", &req.base, out, err);
}

static int
cmd_ls(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"quiet", no_argument, NULL, 'q'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cleanup_pb Berth__Supervisor__V1__ListImagesResponse *resp = NULL;
    enum ctr_format format = CTR_FORMAT_TABLE;
    bool quiet = false;
    int c;
    while ((c = getopt_long(argc, argv, "+qf:h", opts, NULL)) != -1) {
        switch (c) {
        case 'q': quiet = true; break;
        case 'f':
            if (ctr_format_parse(optarg, &format, err) < 0)
                return -1;
            break;
        case 'h':
            ctr_usage("images ls", "[options] [FILTER...]",
                      "List images: REF TYPE DIGEST SIZE PLATFORMS LABELS (SIZE is the stored\n"
                      "content of the host's platform). A filter is a comma-separated list of\n"
                      "conditions (field==value, field!=value, field~=regexp, or field alone)\n"
                      "over name, target.digest, target.media_type and labels.KEY; an image\n"
                      "matching any filter is listed.\n",
                      "   --quiet, -q                 print only the names\n"
                      "   --format FORMAT, -f FORMAT  table or json (default: table)\n");
            return 0;
        default: return ctr_bad_option("images ls", err);
        }
    }
    if (list_images(g, argv + optind, (size_t)(argc - optind), &resp, err) < 0)
        return -1;
    if (format == CTR_FORMAT_JSON) {
        cleanup_json struct json_object *a = json_object_new_array();
        for (size_t i = 0; i < resp->n_images; i++)
            json_object_array_add(a, ctr_pbjson(&resp->images[i]->base, 0));
        ctr_print_json(a);
        return 0;
    }
    if (quiet) {
        for (size_t i = 0; i < resp->n_images; i++)
            puts(resp->images[i]->name);
        return 0;
    }
    cleanup_table struct ctr_table *t =
        ctr_table_new(6, "REF", "TYPE", "DIGEST", "SIZE", "PLATFORMS", "LABELS");
    for (size_t i = 0; i < resp->n_images; i++) {
        const image_t *img = resp->images[i];
        const Berth__Supervisor__V1__Descriptor *d = img->target;
        cleanup_pb Berth__Supervisor__V1__CheckImageResponse *chk = NULL;
        struct berth_err ignored = BERTH_ERR_INIT;
        check_image(g, img->name, NULL, &chk, &ignored);
        berth_err_clear(&ignored);
        cleanup_free char *size = chk ? human_size(chk->size) : xstrdup("-");
        cleanup_free char *platforms = ctr_image_platforms(g, img);
        cleanup_free char *labels =
            ctr_map_join((ProtobufCMessage *const *)img->labels, img->n_labels);
        ctr_table_add(t, img->name, d ? d->media_type : "-", d ? d->digest : "-", size, platforms,
                      *labels ? labels : "-");
    }
    ctr_table_print(t, stdout);
    return 0;
}

/* ---- check -------------------------------------------------------------------------------- */

static char *
check_status(struct ctr_global *g, const image_t *img, const char *platform,
             const Berth__Supervisor__V1__CheckImageResponse *chk)
{
    size_t total = ctr_image_count_blobs(g, img, platform);
    const char *state = chk->complete ? "complete" : "incomplete";
    if (total == 0 || total < chk->n_missing)
        return xasprintf("%s (%zu missing)", state, chk->n_missing);
    return xasprintf("%s (%zu/%zu)", state, total - chk->n_missing, total);
}

/* One row of `images check`: 0 when the image is complete and unpacked, 1 when not, -1
 * when it cannot be checked (reported). */
static int
check_row(struct ctr_global *g, struct ctr_table *t, const image_t *img, const char *platform)
{
    cleanup_pb Berth__Supervisor__V1__CheckImageResponse *chk = NULL;
    struct berth_err err = BERTH_ERR_INIT;
    if (check_image(g, img->name, platform, &chk, &err) < 0) {
        ctr_report(&err);
        return -1;
    }
    cleanup_free char *status = check_status(g, img, platform, chk);
    cleanup_free char *size = human_size(chk->size);
    const Berth__Supervisor__V1__Descriptor *d = img->target;
    ctr_table_add(t, img->name, d ? d->media_type : "-", d ? d->digest : "-", status, size,
                  chk->unpacked ? "true" : "false");
    return chk->complete && chk->unpacked ? 0 : 1;
}

static int
cmd_check(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"platform", required_argument, NULL, OPT_PLATFORM},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cleanup_pb Berth__Supervisor__V1__ListImagesResponse *resp = NULL;
    const char *platform = NULL;
    bool quiet = false;
    int c;
    while ((c = getopt_long(argc, argv, "+qh", opts, NULL)) != -1) {
        switch (c) {
        case OPT_PLATFORM: platform = optarg; break;
        case 'q': quiet = true; break;
        case 'h':
            ctr_usage("images check", "[options] [REF...]",
                      "Check that images are complete (every blob of the platform's manifest\n"
                      "stored) and unpacked: REF TYPE DIGEST STATUS SIZE UNPACKED. Without\n"
                      "REF, every image. With -q, print nothing; the exit status is 1 when\n"
                      "an image is incomplete or not unpacked.\n",
                      "   --platform P    platform to check (default: the host's)\n"
                      "   --quiet, -q     print nothing\n");
            return 0;
        default: return ctr_bad_option("images check", err);
        }
    }
    bool failed = false;
    cleanup_table struct ctr_table *t =
        ctr_table_new(6, "REF", "TYPE", "DIGEST", "STATUS", "SIZE", "UNPACKED");
    if (optind == argc) {
        if (list_images(g, NULL, 0, &resp, err) < 0)
            return -1;
        for (size_t i = 0; i < resp->n_images; i++)
            failed |= check_row(g, t, resp->images[i], platform) != 0;
    }
    for (int i = optind; i < argc; i++) {
        cleanup_pb Berth__Supervisor__V1__GetImageResponse *got = NULL;
        if (get_image(g, argv[i], &got, err) < 0) {
            ctr_report(err);
            failed = true;
            continue;
        }
        failed |= check_row(g, t, got->image, platform) != 0;
    }
    if (!quiet)
        ctr_table_print(t, stdout);
    return failed ? 1 : 0;
}

/* ---- rm, tag, usage, prune ---------------------------------------------------------------- */

static int
cmd_rm(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"sync", no_argument, NULL, OPT_SYNC},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool sync = false;
    int c;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_SYNC: sync = true; break;
        case 'h':
            ctr_usage("images rm", "[options] REF...",
                      "Remove image names. Content and snapshots nothing else needs go at the\n"
                      "next garbage collection (`images prune`), or at once with --sync.\n",
                      "   --sync    collect garbage before returning\n");
            return 0;
        default: return ctr_bad_option("images rm", err);
        }
    }
    if (optind >= argc)
        return berth_err_fail(err, EINVAL, "`images rm` requires at least one image");
    bool failed = false;
    for (int i = optind; i < argc; i++) {
        Berth__Supervisor__V1__DeleteImageRequest req =
            BERTH__SUPERVISOR__V1__DELETE_IMAGE_REQUEST__INIT;
        cleanup_pb Berth__Supervisor__V1__DeleteImageResponse *resp = NULL;
        cleanup_pb Berth__Supervisor__V1__GetImageResponse *got = NULL;
        req.sync = sync && i == argc - 1; /* collecting once, after the last, is enough */
        if (get_image(g, argv[i], &got, err) == 0) {
            req.name = got->image->name;
            if (ctr_call(g, SVC, "Delete", &req.base, &resp, err) == 0)
                berth_err_clear(err);
        }
        if (err->msg) {
            ctr_report(err);
            failed = true;
            continue;
        }
        puts(argv[i]);
    }
    return failed ? 1 : 0;
}

static int
tag_one(struct ctr_global *g, const image_t *src, const char *dst, bool force,
        struct berth_err *err)
{
    image_t img = BERTH__SUPERVISOR__V1__IMAGE__INIT;
    Berth__Supervisor__V1__CreateImageRequest req =
        BERTH__SUPERVISOR__V1__CREATE_IMAGE_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__CreateImageResponse *resp = NULL;
    img.name = (char *)dst;
    img.target = src->target;
    req.image = &img;
    if (ctr_call(g, SVC, "Create", &req.base, &resp, err) == 0)
        return 0;
    if (err->code != EEXIST || !force)
        return -1;
    berth_err_clear(err);
    static char *target_mask[] = {"target"};
    Berth__Supervisor__V1__UpdateImageRequest up =
        BERTH__SUPERVISOR__V1__UPDATE_IMAGE_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__UpdateImageResponse *updated = NULL;
    up.image = &img;
    up.update_mask = target_mask;
    up.n_update_mask = 1;
    return ctr_call(g, SVC, "Update", &up.base, &updated, err);
}

static int
cmd_tag(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"force", no_argument, NULL, OPT_FORCE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool force = false;
    int c;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_FORCE: force = true; break;
        case 'h':
            ctr_usage("images tag", "[options] SOURCE TARGET...",
                      "Give the image SOURCE more names (its target, not its labels). Names\n"
                      "are stored normalized, as pulls store them (`app` is\n"
                      "docker.io/library/app:latest).\n",
                      "   --force    move a TARGET that names another image\n");
            return 0;
        default: return ctr_bad_option("images tag", err);
        }
    }
    if (argc - optind < 2)
        return berth_err_fail(err, EINVAL, "`images tag` requires a source and a target");
    cleanup_pb Berth__Supervisor__V1__GetImageResponse *src = NULL;
    if (get_image(g, argv[optind], &src, err) < 0)
        return -1;
    bool failed = false;
    for (int i = optind + 1; i < argc; i++) {
        /* Stored as pulls store names, so that run and check find it by its short name. */
        cleanup_free char *dst = normalized(argv[i]);
        if (tag_one(g, src->image, dst, force, err) < 0) {
            berth_err_wrap(err, "tag `%s`", argv[i]);
            ctr_report(err);
            failed = true;
            continue;
        }
        puts(dst);
    }
    return failed ? 1 : 0;
}

static int
cmd_usage(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"platform", required_argument, NULL, OPT_PLATFORM},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    Berth__Supervisor__V1__ImageUsageRequest req = BERTH__SUPERVISOR__V1__IMAGE_USAGE_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__ImageUsageResponse *resp = NULL;
    int c;
    req.platform = "";
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_PLATFORM: req.platform = optarg; break;
        case 'h':
            ctr_usage("images usage", "[options] REF",
                      "Print the bytes an image uses: its blobs (shared ones included) and\n"
                      "its unpacked snapshots.\n",
                      "   --platform P    platform (default: the host's)\n");
            return 0;
        default: return ctr_bad_option("images usage", err);
        }
    }
    req.name = (char *)ctr_one_arg("images usage", "image", argc, argv, err);
    if (!req.name || ctr_call(g, SVC, "Usage", &req.base, &resp, err) < 0)
        return -1;
    cleanup_free char *content = human_size(resp->content_size);
    cleanup_free char *snapshots = human_size(resp->snapshot_size);
    cleanup_free char *total = human_size(resp->content_size + resp->snapshot_size);
    cleanup_table struct ctr_table *t = ctr_table_new(3, "CONTENT", "SNAPSHOTS", "TOTAL");
    ctr_table_add(t, content, snapshots, total);
    ctr_table_print(t, stdout);
    return 0;
}

static int
cmd_prune(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    Berth__Supervisor__V1__GarbageCollectRequest req =
        BERTH__SUPERVISOR__V1__GARBAGE_COLLECT_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__GarbageCollectResponse *resp = NULL;
    int r = ctr_parse_no_options("images prune", "",
                                 "Collect garbage: remove the content and snapshots no image,\n"
                                 "container or work in progress needs.\n",
                                 argc, argv, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    if (optind < argc)
        return berth_err_fail(err, EINVAL, "`images prune` takes no arguments");
    if (ctr_call_untimed(g, SVC, "GarbageCollect", &req.base, &resp, err) < 0)
        return -1;
    cleanup_free char *freed = human_size(resp->bytes_freed);
    printf("removed %lld blobs and %lld snapshots, %s freed\n", (long long)resp->blobs_removed,
           (long long)resp->snapshots_removed, freed);
    return 0;
}

/* ---- import and export -------------------------------------------------------------------- */

/* Copy stdin into a new temporary file (the supervisor reads a path); its name in *path. */
static int
stdin_to_file(char **path, struct berth_err *err)
{
    const char *tmp = getenv("TMPDIR");
    char *p = xasprintf("%s/berth-ctr-import.XXXXXX", tmp && *tmp ? tmp : "/var/tmp");
    cleanup_close int fd = mkostemp(p, O_CLOEXEC);
    if (fd < 0) {
        berth_err_set(err, errno, "create `%s`", p);
        free(p);
        return -1;
    }
    char buf[65536];
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || (n > 0 && ctr_write_all(fd, buf, (size_t)n) < 0)) {
            berth_err_set(err, errno, n < 0 ? "read stdin" : "write `%s`", p);
            unlink(p);
            free(p);
            return -1;
        }
        if (n == 0)
            break;
    }
    *path = p;
    return 0;
}

static int
cmd_import(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"base-name", required_argument, NULL, OPT_BASE_NAME},
        {"platform", required_argument, NULL, OPT_PLATFORM},
        {"skip-unpack", no_argument, NULL, OPT_SKIP_UNPACK},
        {"label", required_argument, NULL, OPT_LABEL},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    Berth__Supervisor__V1__ImportImagesRequest req =
        BERTH__SUPERVISOR__V1__IMPORT_IMAGES_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__ImportImagesResponse *resp = NULL;
    char **kv = NULL;
    size_t n_kv = 0;
    int c;
    req.base_name = "";
    req.platform = "";
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_BASE_NAME: req.base_name = optarg; break;
        case OPT_PLATFORM: req.platform = optarg; break;
        case OPT_SKIP_UNPACK: req.skip_unpack = true; break;
        case OPT_LABEL: ctr_strv_push(&kv, &n_kv, optarg); break;
        case 'h':
            free(kv);
            ctr_usage("images import", "[options] FILE|-",
                      "Import images from a tarball (docker save, or an OCI image layout; -\n"
                      "reads stdin). Prints NAME@DIGEST for each image.\n",
                      "   --base-name N      name unnamed images N@DIGEST\n"
                      "   --platform P       platform to unpack (default: the host's)\n"
                      "   --skip-unpack      do not unpack the layers\n"
                      "   --label KEY=VALUE  label the images (repeatable)\n");
            return 0;
        default: free(kv); return ctr_bad_option("images import", err);
        }
    }
    const char *file = ctr_one_arg("images import", "file", argc, argv, err);
    ProtobufCMessage **labels = NULL;
    size_t n_labels = 0;
    if (!file ||
        ctr_map_from_args(&berth__supervisor__v1__import_images_request__labels_entry__descriptor,
                          kv, n_kv, false, &labels, &n_labels, err) < 0) {
        free(kv);
        return -1;
    }
    free(kv);
    cleanup_free char *path = NULL;
    bool from_stdin = strcmp(file, "-") == 0;
    int r = from_stdin ? stdin_to_file(&path, err) : 0;
    if (r == 0 && !from_stdin && !(path = realpath(file, NULL)))
        r = berth_err_set(err, errno, "`%s`", file);
    if (r == 0) {
        req.path = path;
        req.labels = (Berth__Supervisor__V1__ImportImagesRequest__LabelsEntry **)labels;
        req.n_labels = n_labels;
        r = ctr_call_untimed(g, SVC, "Import", &req.base, &resp, err);
    }
    if (from_stdin && path)
        unlink(path);
    ctr_map_free(labels, n_labels);
    if (r < 0)
        return berth_err_wrap(err, "import `%s`", file);
    for (size_t i = 0; i < resp->n_images; i++) {
        const image_t *img = resp->images[i];
        printf("%s@%s\n", img->name, img->target ? img->target->digest : "");
    }
    return 0;
}

static int
cmd_export(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"platform", required_argument, NULL, OPT_PLATFORM},
        {"all-platforms", no_argument, NULL, OPT_ALL_PLATFORMS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    Berth__Supervisor__V1__ExportImagesRequest req =
        BERTH__SUPERVISOR__V1__EXPORT_IMAGES_REQUEST__INIT;
    int c;
    req.platform = "";
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_PLATFORM: req.platform = optarg; break;
        case OPT_ALL_PLATFORMS: req.all_platforms = true; break;
        case 'h':
            ctr_usage("images export", "[options] FILE|- REF...",
                      "Write images as one tarball (an OCI image layout that docker load reads\n"
                      "too) to FILE, or stdout with -.\n",
                      "   --platform P       platform to export (default: the host's)\n"
                      "   --all-platforms    every platform of an index\n");
            return 0;
        default: return ctr_bad_option("images export", err);
        }
    }
    if (argc - optind < 2)
        return berth_err_fail(err, EINVAL, "`images export` requires a file and an image");
    const char *file = argv[optind];
    bool to_stdout = strcmp(file, "-") == 0;
    if (to_stdout && isatty(STDOUT_FILENO))
        return berth_err_fail(err, EINVAL, "refusing to write a tarball to a terminal");
    req.names = argv + optind + 1;
    req.n_names = (size_t)(argc - optind - 1);
    cleanup_close int fd =
        to_stdout ? dup(STDOUT_FILENO) : open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return berth_err_set(err, errno, "open `%s`", file);
    struct berth_rpc_stream *s = ctr_stream(g, SVC, "Export", &req.base, err);
    int r = s ? 1 : -1;
    while (r > 0) {
        cleanup_pb Berth__Supervisor__V1__ExportImagesResponse *m = NULL;
        r = berth_rpc_stream_next(s, (ProtobufCMessage **)&m, err);
        if (r > 0 && ctr_write_all(fd, m->data.data, m->data.len) < 0)
            r = berth_err_set(err, errno, "write `%s`", file);
    }
    berth_rpc_stream_free(s);
    if (r < 0) {
        stream_error(g, err);
        if (!to_stdout)
            unlink(file); /* a partial tarball is no tarball */
        return -1;
    }
    return 0;
}

static const struct ctr_cmd commands[] = {
    {"pull", NULL, cmd_pull, "pull an image from a registry"},
    {"push", NULL, cmd_push, "push an image to a registry"},
    {"ls", "list", cmd_ls, "list images"},
    {"check", NULL, cmd_check, "check that images are complete and unpacked"},
    {"rm", "remove delete del", cmd_rm, "remove images"},
    {"tag", NULL, cmd_tag, "give an image more names"},
    {"import", NULL, cmd_import, "import images from a tarball"},
    {"export", NULL, cmd_export, "export images as a tarball"},
    {"usage", NULL, cmd_usage, "print the disk use of an image"},
    {"prune", "gc", cmd_prune, "remove content and snapshots nothing needs"},
};

int
ctr_cmd_images(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    return ctr_dispatch("images", "Manage images.", commands, ARRAY_SIZE(commands), g, argc, argv,
                        err);
}
