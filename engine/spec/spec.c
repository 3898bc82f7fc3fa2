/* SPDX-License-Identifier: Apache-2.0
 *
 * engine_spec_generate: the skeleton of the config.json (version, root, empty process, mounts
 * and linux sections) and the order the concerns fill it in. Namespaces come first (IpcMode
 * and NetworkMode decide mounts and sysctls), then security (Privileged and the capability
 * set), mounts, the process (Init appends its mount), resources, devices, and seccomp last,
 * since the default profile widens with the final capability set.
 */
#include "engine/spec/spec.h"

#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/spec/spec-internal.h"

#define OCI_VERSION "1.0.2"

static struct json_object *
skeleton(const struct engine_spec_input *in)
{
    struct json_object *spec = json_object_new_object();
    struct json_object *root = json_object_new_object();
    struct json_object *lin = json_object_new_object();

    spec_add_string(spec, "ociVersion", OCI_VERSION);
    spec_add_string(root, "path", in->rootfs);
    json_object_object_add(spec, "root", root);
    json_object_object_add(spec, "process", json_object_new_object());
    json_object_object_add(spec, "mounts", json_object_new_array());
    json_object_object_add(lin, "resources", json_object_new_object());
    json_object_object_add(spec, "linux", lin);
    return spec;
}

int
engine_spec_generate(const struct engine_spec_input *in, struct json_object **out,
                     struct berth_err *err)
{
    static int (*const steps[])(struct spec_ctx *, struct berth_err *) = {
        spec_namespaces, spec_security, spec_mounts,  spec_process,
        spec_resources,  spec_devices,  spec_seccomp,
    };
    cleanup_json struct json_object *spec = NULL;
    struct spec_ctx c = {.in = in};
    int r = 0;

    if (!in || !in->create || !in->id || !*in->id || !in->rootfs)
        return berth_err_fail(err, EINVAL, "generate spec: the body, id and rootfs are required");
    if (!json_object_is_type(in->create, json_type_object))
        return berth_err_fail(err, EINVAL, "the container config: expected an object, got %s",
                              spec_type_phrase(in->create));
    if (in->image_config && !json_object_is_type(in->image_config, json_type_object))
        return berth_err_fail(err, EINVAL, "the image config: expected an object, got %s",
                              spec_type_phrase(in->image_config));
    c.config = in->create;
    c.image = in->image_config;
    if (spec_get_object(in->create, "Config", "HostConfig", &c.host, err) < 0)
        return -1;

    spec = skeleton(in);
    c.spec = spec;
    json_object_object_get_ex(spec, "linux", &c.oci_linux);
    for (size_t i = 0; i < ARRAY_SIZE(steps) && r == 0; i++)
        r = steps[i](&c, err);
    if (c.caps)
        json_object_put(c.caps);
    if (c.seccomp_profile)
        json_object_put(c.seccomp_profile);
    if (r < 0)
        return -1;
    *out = steal_ptr(&spec);
    return 0;
}
