/* SPDX-License-Identifier: Apache-2.0
 *
 * Container options and Containers.Create for `containers create` and `run` (create.h).
 */
#include "supervisor/ctr/create.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "berth/supervisor/v1/containers.pb-c.h"
#include "berth/supervisor/v1/snapshots.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "supervisor/ctr/client.h"
#include "supervisor/ctr/ctr.h"
#include "supervisor/ctr/rootfs.h"
#include "supervisor/ctr/spec.h"

#define CONTAINERS  (&berth__supervisor__v1__containers__descriptor)
#define SNAPSHOTTER "overlayfs"

static const char create_help[] =
    "   --rootfs DIR                 directory to use as the root filesystem (instead of an\n"
    "                                image)\n"
    "   --platform P                 platform of the image (default: the host's)\n"
    "   --snapshotter NAME           snapshotter of the container's snapshot (overlayfs)\n"
    "   --config FILE                a whole OCI config.json to start from instead of the\n"
    "                                default spec (the options below still apply)\n"
    "   --label KEY=VALUE            set a label (repeatable)\n"
    "   --env KEY=VALUE, -e ...      set an environment variable (repeatable)\n"
    "   --cwd DIR                    working directory of the process\n"
    "   --user UID[:GID], -u ...     user of the process (or NAME[:GROUP] from the rootfs)\n"
    "   --mount type=bind,src=HOST,dst=PATH,options=rbind:ro\n"
    "                                add a mount (repeatable; type defaults to bind)\n"
    "   --tty, -t                    allocate a terminal for the process\n"
    "   --runtime-binary PATH        OCI runtime to run the container with\n"
    "                                (default: the supervisor's)\n";

static const char run_help[] =
    "   --detach, -d                 do not stay attached: print nothing and return once the\n"
    "                                task has started\n"
    "   --interactive, -i            keep the process's stdin open even when nothing is\n"
    "                                attached to it, for a later `tasks attach` (with -d;\n"
    "                                otherwise a detached process reads EOF at once)\n"
    "   --rm                         delete the task and the container once the task exits\n";

enum {
    OPT_ROOTFS = 256,
    OPT_CONFIG,
    OPT_LABEL,
    OPT_CWD,
    OPT_MOUNT,
    OPT_RUNTIME_BINARY,
    OPT_RM,
    OPT_PLATFORM,
    OPT_SNAPSHOTTER,
};

static const char image_description[] =
    "IMAGE is an image pulled before (`images pull`): the container runs on a snapshot of\n"
    "it (named ID), with the image's Env, Entrypoint and Cmd (CMD replaces Cmd), WorkingDir\n"
    "and User, which --env, --cwd and --user override. With --rootfs (or --config) there is\n"
    "no IMAGE, and the command defaults to /bin/sh.\n";

int
ctr_create_parse(bool run, int argc, char **argv, struct ctr_create_opts *o, struct berth_err *err)
{
    static const struct option opts[] = {
        {"rootfs", required_argument, NULL, OPT_ROOTFS},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"label", required_argument, NULL, OPT_LABEL},
        {"env", required_argument, NULL, 'e'},
        {"cwd", required_argument, NULL, OPT_CWD},
        {"user", required_argument, NULL, 'u'},
        {"mount", required_argument, NULL, OPT_MOUNT},
        {"tty", no_argument, NULL, 't'},
        {"runtime-binary", required_argument, NULL, OPT_RUNTIME_BINARY},
        {"detach", no_argument, NULL, 'd'},
        {"interactive", no_argument, NULL, 'i'},
        {"rm", no_argument, NULL, OPT_RM},
        {"platform", required_argument, NULL, OPT_PLATFORM},
        {"snapshotter", required_argument, NULL, OPT_SNAPSHOTTER},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = run ? "run" : "containers create";
    int c;
    while ((c = getopt_long(argc, argv, "+e:u:tdih", opts, NULL)) != -1) {
        switch (c) {
        case OPT_ROOTFS: o->rootfs = optarg; break;
        case OPT_CONFIG: o->config_file = optarg; break;
        case OPT_LABEL: ctr_strv_push(&o->labels, &o->n_labels, optarg); break;
        case 'e': ctr_strv_push(&o->env, &o->n_env, optarg); break;
        case OPT_CWD: o->cwd = optarg; break;
        case 'u': o->user = optarg; break;
        case OPT_MOUNT: ctr_strv_push(&o->mounts, &o->n_mounts, optarg); break;
        case 't': o->terminal = true; break;
        case OPT_RUNTIME_BINARY: o->runtime_binary = optarg; break;
        case OPT_PLATFORM: o->platform = optarg; break;
        case OPT_SNAPSHOTTER: o->snapshotter = optarg; break;
        case 'd':
            if (!run)
                return ctr_bad_option(cmd, err);
            o->detach = true;
            break;
        case 'i':
            if (!run)
                return ctr_bad_option(cmd, err);
            o->interactive = true;
            break;
        case OPT_RM:
            if (!run)
                return ctr_bad_option(cmd, err);
            o->rm = true;
            break;
        case 'h':
            if (run) {
                cleanup_free char *help = xasprintf("%s%s", run_help, create_help);
                cleanup_free char *desc =
                    xasprintf("Create a container and run its task. Unless detached, berth-ctr\n"
                              "stays attached to the process's stdio (fifos), forwards signals\n"
                              "to it, deletes the task when it exits, and exits with its exit\n"
                              "status. --rm deletes the container and its snapshot too.\n\n%s",
                              image_description);
                ctr_usage(cmd,
                          "[options] IMAGE ID [CMD [ARGS...]]\n"
                          "       berth-ctr run [options] --rootfs DIR ID [CMD [ARGS...]]",
                          desc, help);
            } else {
                cleanup_free char *desc =
                    xasprintf("Create a container (metadata only: `tasks start` runs it).\n\n%s",
                              image_description);
                ctr_usage(cmd,
                          "[options] IMAGE ID [CMD [ARGS...]]\n"
                          "       berth-ctr containers create [options] --rootfs DIR ID [CMD...]",
                          desc, create_help);
            }
            return 1;
        default: return ctr_bad_option(cmd, err);
        }
    }
    if (o->detach && o->rm)
        return berth_err_fail(err, EINVAL, "--rm and --detach cannot be used together");
    if (o->snapshotter && strcmp(o->snapshotter, SNAPSHOTTER) != 0)
        return berth_err_fail(err, EINVAL, "snapshotter `%s` not found (the only one is %s)",
                              o->snapshotter, SNAPSHOTTER);
    if (!o->rootfs && !o->config_file) {
        if (argc - optind < 2)
            return berth_err_fail(err, EINVAL, "`%s` requires an image and a container id", cmd);
        o->image = argv[optind++];
    } else if (o->platform) {
        return berth_err_fail(err, EINVAL, "--platform is for images, not --rootfs or --config");
    }
    if (optind >= argc)
        return berth_err_fail(err, EINVAL, "`%s` requires a container id", cmd);
    o->id = argv[optind];
    o->args = argv + optind + 1;
    return 0;
}

/* --rootfs as an absolute path of a directory. */
static char *
rootfs_path(const char *rootfs, struct berth_err *err)
{
    struct stat st;
    char *abs = realpath(rootfs, NULL);
    if (!abs) {
        berth_err_set(err, errno, "rootfs `%s`", rootfs);
        return NULL;
    }
    if (stat(abs, &st) < 0 || !S_ISDIR(st.st_mode)) {
        free(abs);
        berth_err_fail(err, ENOTDIR, "rootfs `%s` is not a directory", rootfs);
        return NULL;
    }
    return abs;
}

/* The container's root directory: --rootfs, else the config's root.path when absolute. */
static const char *
spec_root(struct json_object *spec)
{
    struct json_object *root = NULL, *path = NULL;
    if (json_object_object_get_ex(spec, "root", &root) &&
        json_object_object_get_ex(root, "path", &path) &&
        json_object_is_type(path, json_type_string)) {
        const char *s = json_object_get_string(path);
        return s[0] == '/' ? s : NULL;
    }
    return NULL;
}

/* The spec options o gives (strings borrowed from o and rootfs). */
static struct ctr_spec_opts
spec_opts(const struct ctr_create_opts *o, const char *rootfs)
{
    return (struct ctr_spec_opts){
        .id = o->id,
        .rootfs = rootfs,
        .config_file = o->config_file,
        .process = {.args = o->args,
                    .env = o->env,
                    .cwd = o->cwd,
                    .user = o->user,
                    .terminal = o->terminal},
        .mounts = o->mounts,
    };
}

/* Containers.Create: the spec on root (a directory), or on the snapshot named o->id of
 * o->image when root is NULL. */
static int
create_call(struct ctr_global *g, const struct ctr_create_opts *o, struct json_object *spec,
            const char *root, struct berth_err *err)
{
    Berth__Supervisor__V1__Container ctr = BERTH__SUPERVISOR__V1__CONTAINER__INIT;
    Berth__Supervisor__V1__Runtime runtime = BERTH__SUPERVISOR__V1__RUNTIME__INIT;
    Berth__Supervisor__V1__RuntimeOptions ropts = BERTH__SUPERVISOR__V1__RUNTIME_OPTIONS__INIT;
    Berth__Supervisor__V1__CreateContainerRequest req =
        BERTH__SUPERVISOR__V1__CREATE_CONTAINER_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__CreateContainerResponse *resp = NULL;
    ProtobufCMessage **labels = NULL;
    size_t n_labels = 0;

    if (ctr_map_from_args(&berth__supervisor__v1__container__labels_entry__descriptor, o->labels,
                          o->n_labels, false, &labels, &n_labels, err) < 0)
        return -1;
    size_t spec_len;
    const char *spec_json = json_object_to_json_string_length(
        spec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &spec_len);
    ropts.binary = (char *)(o->runtime_binary ? o->runtime_binary : "");
    runtime.name = CTR_DEFAULT_RUNTIME;
    runtime.options = &ropts;
    ctr.id = (char *)o->id;
    ctr.labels = (Berth__Supervisor__V1__Container__LabelsEntry **)labels;
    ctr.n_labels = n_labels;
    ctr.runtime = &runtime;
    ctr.spec.data = (uint8_t *)spec_json;
    ctr.spec.len = spec_len;
    if (root) {
        ctr.rootfs = (char *)root;
    } else {
        ctr.image = (char *)o->image;
        ctr.snapshotter = SNAPSHOTTER;
        ctr.snapshot_key = (char *)o->id;
    }
    req.container = &ctr;
    int r = ctr_call(g, CONTAINERS, "Create", &req.base, &resp, err);
    ctr_map_free(labels, n_labels);
    return r < 0 ? -1 : 0;
}

static int
create_on_rootfs(struct ctr_global *g, const struct ctr_create_opts *o, struct berth_err *err)
{
    cleanup_free char *rootfs = NULL;
    if (o->rootfs && !(rootfs = rootfs_path(o->rootfs, err)))
        return -1;
    struct ctr_spec_opts so = spec_opts(o, rootfs);
    cleanup_json struct json_object *spec = ctr_spec_new(&so, err);
    if (!spec)
        return -1;
    const char *root = rootfs ? rootfs : spec_root(spec);
    if (!root)
        return berth_err_fail(err, EINVAL,
                              "no root filesystem: give --rootfs, or an absolute root.path in "
                              "the config");
    return create_call(g, o, spec, root, err);
}

/* The spec for an image: its config applied, user names looked up in the new snapshot
 * (mounted for that moment only, rootfs.h). */
static struct json_object *
image_spec(const struct ctr_create_opts *o, const struct ctr_image *img,
           const Berth__Supervisor__V1__PrepareSnapshotResponse *prep, struct berth_err *err)
{
    struct ctr_spec_opts so = spec_opts(o, NULL);
    cleanup_free char *dir = NULL;
    so.image_config = img->config;
    const char *user = ctr_spec_user(&so);
    if (user && !ctr_spec_user_is_numeric(user) && ctr_rootfs_mount(prep, &dir, err) < 0)
        return NULL;
    so.users_root = dir;
    struct json_object *spec = ctr_spec_new(&so, err);
    ctr_rootfs_unmount(&dir);
    return spec;
}

static bool
container_exists(struct ctr_global *g, const char *id)
{
    Berth__Supervisor__V1__GetContainerRequest req =
        BERTH__SUPERVISOR__V1__GET_CONTAINER_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__GetContainerResponse *resp = NULL;
    struct berth_err ignored = BERTH_ERR_INIT;
    req.id = (char *)id;
    int r = ctr_call(g, CONTAINERS, "Get", &req.base, &resp, &ignored);
    berth_err_clear(&ignored);
    return r == 0;
}

static int
create_from_image(struct ctr_global *g, const struct ctr_create_opts *o, struct berth_err *err)
{
    cleanup_pb Berth__Supervisor__V1__PrepareSnapshotResponse *prep = NULL;
    struct ctr_image img;
    /* Before the snapshot, whose key is the id: "snapshot exists" would name the wrong thing. */
    if (container_exists(g, o->id))
        return berth_err_fail(err, EEXIST, "container `%s` already exists", o->id);
    if (ctr_image_check(g, o->image, o->platform, &img, err) < 0)
        return -1;
    if (ctr_snapshot_prepare(g, o->id, img.chain_id, &prep, err) < 0) {
        ctr_image_release(&img);
        return -1;
    }
    cleanup_json struct json_object *spec = image_spec(o, &img, prep, err);
    ctr_image_release(&img);
    if (spec && create_call(g, o, spec, NULL, err) == 0)
        return 0;
    struct berth_err e2 = BERTH_ERR_INIT;
    if (ctr_snapshot_remove(g, o->id, &e2) < 0)
        berth_err_warn(&e2);
    return -1;
}

int
ctr_create_container(struct ctr_global *g, const struct ctr_create_opts *o, struct berth_err *err)
{
    return o->image ? create_from_image(g, o, err) : create_on_rootfs(g, o, err);
}

int
ctr_delete_container(struct ctr_global *g, const char *id, struct berth_err *err)
{
    Berth__Supervisor__V1__GetContainerRequest get =
        BERTH__SUPERVISOR__V1__GET_CONTAINER_REQUEST__INIT;
    Berth__Supervisor__V1__DeleteContainerRequest req =
        BERTH__SUPERVISOR__V1__DELETE_CONTAINER_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__GetContainerResponse *got = NULL;
    cleanup_pb Berth__Supervisor__V1__DeleteContainerResponse *resp = NULL;
    get.id = (char *)id;
    if (ctr_call(g, CONTAINERS, "Get", &get.base, &got, err) < 0)
        return -1;
    req.id = (char *)id;
    if (ctr_call(g, CONTAINERS, "Delete", &req.base, &resp, err) < 0)
        return -1;
    const Berth__Supervisor__V1__Container *c = got->container;
    if (c && c->snapshot_key && *c->snapshot_key)
        return ctr_snapshot_remove(g, c->snapshot_key, err);
    return 0;
}

void
ctr_create_opts_free(struct ctr_create_opts *o)
{
    free(o->labels);
    free(o->env);
    free(o->mounts);
    o->labels = o->env = o->mounts = NULL;
}
