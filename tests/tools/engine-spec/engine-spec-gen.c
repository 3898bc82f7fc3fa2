/* SPDX-License-Identifier: Apache-2.0
 *
 * engine-spec-gen: run engine_spec_generate (engine/spec) from the command line, for the
 * integration tests (tests/integration/engine/10-spec-ocirun.bats).
 *
 *   engine-spec-gen [OPTIONS] --create BODY.json --rootfs DIR --id ID > config.json
 *
 * Options:
 *   --image CONFIG.json   the image config's "config" object (or a whole image config, whose
 *                         "config" member is used)
 *   --name NAME           the container's name
 *   --hostname-file F, --hosts-file F, --resolv-conf F   files bound onto /etc/...
 *   --shm-dir DIR         /dev/shm for IpcMode shareable
 *   --cgroup-parent P     the default cgroup parent
 *   --init PATH           the init binary for HostConfig.Init
 *   --volume-dir DIR      named volume NAME is DIR/NAME, an anonymous one DIR/anon-N
 *                         (created); without it volumes are an error
 * Exit status: 0 done, 1 failed (the error on stderr), 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "engine/spec/spec.h"

struct volumes {
    const char *dir;
    int n_anon;
};

static char *
volume(void *data, const char *name, const char *dest, struct berth_err *err)
{
    struct volumes *v = data;
    char *path;

    (void)dest;
    if (strchr(name, '/') || strcmp(name, "..") == 0 || strcmp(name, ".") == 0)
        return berth_err_fail(err, EINVAL, "invalid volume name `%s`", name), NULL;
    if (*name)
        path = xasprintf("%s/%s", v->dir, name);
    else
        path = xasprintf("%s/anon-%d", v->dir, v->n_anon++);
    if (berth_fs_mkdir_p(path, 0755, err) < 0) {
        free(path);
        return NULL;
    }
    return path;
}

static void
usage(FILE *f)
{
    fputs("usage: engine-spec-gen [--image F] [--name N] [--hostname-file F] [--hosts-file F]\n"
          "       [--resolv-conf F] [--shm-dir D] [--cgroup-parent P] [--init PATH]\n"
          "       [--volume-dir D] --create BODY.json --rootfs DIR --id ID\n",
          f);
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"create", required_argument, NULL, 'c'},
        {"image", required_argument, NULL, 'i'},
        {"rootfs", required_argument, NULL, 'r'},
        {"id", required_argument, NULL, 'I'},
        {"name", required_argument, NULL, 'n'},
        {"hostname-file", required_argument, NULL, 'H'},
        {"hosts-file", required_argument, NULL, 'h'},
        {"resolv-conf", required_argument, NULL, 'R'},
        {"shm-dir", required_argument, NULL, 's'},
        {"cgroup-parent", required_argument, NULL, 'g'},
        {"init", required_argument, NULL, 'x'},
        {"volume-dir", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, '?'},
        {NULL, 0, NULL, 0},
    };
    struct engine_spec_input in = {0};
    struct volumes vols = {0};
    const char *create_path = NULL, *image_path = NULL;
    cleanup_json struct json_object *create = NULL, *image = NULL, *spec = NULL;
    struct berth_err err = BERTH_ERR_INIT;
    int o;

    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c': create_path = optarg; break;
        case 'i': image_path = optarg; break;
        case 'r': in.rootfs = optarg; break;
        case 'I': in.id = optarg; break;
        case 'n': in.name = optarg; break;
        case 'H': in.hostname_path = optarg; break;
        case 'h': in.hosts_path = optarg; break;
        case 'R': in.resolv_conf_path = optarg; break;
        case 's': in.shm_path = optarg; break;
        case 'g': in.cgroup_parent = optarg; break;
        case 'x': in.init_path = optarg; break;
        case 'v': vols.dir = optarg; break;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc || !create_path || !in.rootfs || !in.id) {
        usage(stderr);
        return 2;
    }
    if (!(create = berth_json_parse_file(create_path, &err)))
        goto fail;
    if (image_path) {
        struct json_object *cfg;
        if (!(image = berth_json_parse_file(image_path, &err)))
            goto fail;
        in.image_config = image;
        if (json_object_object_get_ex(image, "config", &cfg))
            in.image_config = cfg;
    }
    in.create = create;
    if (vols.dir) {
        in.volume = volume;
        in.volume_data = &vols;
    }
    if (engine_spec_generate(&in, &spec, &err) < 0)
        goto fail;
    puts(json_object_to_json_string_ext(spec,
                                        JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    return 0;

fail:;
    cleanup_free char *msg = berth_err_string(&err);
    fprintf(stderr, "engine-spec-gen: %s\n", msg);
    berth_err_clear(&err);
    return 1;
}
