/* SPDX-License-Identifier: Apache-2.0
 *
 * Fuzz target: the JSON bodies of berthd's API (engine/api), parsed and checked by the
 * functions the handlers call, without a socket or a daemon. The first byte picks the
 * endpoint; the rest is the request body, read by eng_api_body_json as every handler does:
 *
 *   0  POST /containers/create: the body to the OCI spec (engine_spec_generate), as
 *      eng_ctr_create does once the image is known, on a tmpfs rootfs with /etc/passwd and
 *      /etc/group; volumes resolve to a directory there, nothing is created;
 *   1  the same with a fixed body and the input as the image config's "config";
 *   2  POST /containers/{id}/exec, against a created (not running) container: the checks
 *      of Cmd, Env and Privileged;
 *   3  POST /networks/create: IPAM.Config's Subnet, Gateway and IPRange as addresses;
 *   4  POST /volumes/create: Name as a volume name;
 *   5  a container name (?name= of create, POST /containers/{id}/rename), the raw bytes;
 *   6  POST /containers/{id}/update: the body merged into a created container's HostConfig
 *      and made into OCI resources (eng_api_update_parse), without the task or the store.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "engine/api/handlers.h"
#include "engine/api/request.h"
#include "engine/containers/containers.h"
#include "engine/containers/internal.h"
#include "engine/network/ipnet.h"
#include "engine/spec/spec.h"
#include "engine/volumes/volumes.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char dir[64], rootfs[96], volumes[96];

static void
cleanup_dir_tree(void)
{
    struct berth_err err = BERTH_ERR_INIT;
    if (berth_fs_rm_rf(dir, &err) < 0)
        berth_err_clear(&err);
}

static void
write_text(const char *path, const char *text)
{
    struct berth_err err = BERTH_ERR_INIT;
    if (berth_fs_write_atomic(path, text, strlen(text), 0644, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        abort();
    }
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    struct berth_err err = BERTH_ERR_INIT;
    const char *root = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof(dir), "%s/berth-fuzz-api.%d", root, (int)getpid());
    snprintf(rootfs, sizeof(rootfs), "%s/rootfs", dir);
    snprintf(volumes, sizeof(volumes), "%s/volumes", dir);
    cleanup_dir_tree();
    cleanup_free char *etc = xasprintf("%s/etc", rootfs);
    if (berth_fs_mkdir_p(etc, 0755, &err) < 0 || berth_fs_mkdir_p(volumes, 0755, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        abort();
    }
    atexit(cleanup_dir_tree);
    cleanup_free char *passwd = xasprintf("%s/passwd", etc);
    cleanup_free char *group = xasprintf("%s/group", etc);
    write_text(passwd, "root:x:0:0:root:/root:/bin/sh\n"
                       "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
                       "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
                       "app:x:1000:1000::/home/app:/bin/sh\n");
    write_text(group, "root:x:0:\ndaemon:x:1:\nwheel:x:10:app\nnogroup:x:65534:\napp:x:1000:\n");
    return 0;
}

/* Volumes resolve to one existing directory; the name is checked as the engine checks it. */
static char *
volume_cb(void *data, const char *name, const char *dest, struct berth_err *err)
{
    (void)data;
    (void)dest;
    if (*name && eng_volume_name_check(name, err) < 0)
        return NULL;
    return xstrdup(volumes);
}

static void
spec(struct json_object *body, struct json_object *image_config)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    /* As eng_ctr_create hands it over: a HostConfig always, and the default network mode
     * made "none" (a named network becomes a namespace path, which needs a daemon). */
    cleanup_json struct json_object *create = NULL;
    if (json_object_deep_copy(body, &create, NULL) < 0 || !create)
        return;
    struct json_object *host = berth_json_member(create, "HostConfig");
    if (!host || !json_object_is_type(host, json_type_object)) {
        host = json_object_new_object();
        json_object_object_add(create, "HostConfig", host);
    }
    const char *mode = berth_json_member_string(host, "NetworkMode");
    if (!mode || !*mode || strcmp(mode, "default") == 0)
        json_object_object_add(host, "NetworkMode", json_object_new_string("none"));
    struct engine_spec_input in = {
        .create = create,
        .image_config = image_config,
        .id = ID,
        .name = "fuzz",
        .rootfs = rootfs,
        .cgroup_parent = "/berth",
        .init_path = "/bin/true",
        .volume = volume_cb,
    };
    cleanup_json struct json_object *out = NULL;
    if (engine_spec_generate(&in, &out, &err) < 0) {
        if (!err.msg || out)
            abort();
        if (getenv("BERTH_FUZZ_DEBUG"))
            fprintf(stderr, "refused: %s\n", err.msg); /* to check that a seed goes deep */
        return;
    }
    /* The spec goes to the runtime as text: it must serialize. */
    if (!json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN))
        abort();
}

static void
exec_create(struct json_object *body)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct eng_ctr *c = ctr_new(ID, "fuzz");
    char *id = NULL;
    /* The container is not running, so a valid body ends in EBUSY, never in an exec. */
    if (eng_exec_create(NULL, c, body, &id, &err) == 0 || !err.msg)
        abort();
    eng_ctr_put(c);
}

static void
update(struct json_object *body)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct eng_ctr *c = ctr_new(ID, "fuzz");
    c->config = json_tokener_parse("{\"Image\":\"busybox\",\"Cmd\":[\"sh\"]}");
    c->host_config = json_tokener_parse("{\"Memory\":67108864,\"AutoRemove\":false,"
                                        "\"RestartPolicy\":{\"Name\":\"no\"}}");
    cleanup_json struct json_object *hc = NULL, *res = NULL;
    if (eng_api_update_parse(c, body, &hc, &res, &err) < 0) {
        if (!err.msg || hc || res)
            abort();
    } else if (!hc || !res) {
        abort();
    }
    eng_ctr_put(c);
}

static void
address(struct json_object *o, const char *key, bool net)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *s = berth_json_member_string(o, key);
    if (!s)
        return;
    struct eng_ipnet n;
    uint32_t ip;
    if (net ? eng_ipnet_parse(s, key, &n, &err) < 0 : eng_ip_parse(s, key, &ip, &err) < 0) {
        if (!err.msg)
            abort();
        return;
    }
    cleanup_free char *text = net ? eng_ipnet_string(n.addr, n.len) : eng_ip_string(ip);
    if (net && (n.len < 0 || n.len > 32 || !eng_ipnet_contains(&n, eng_ipnet_base(&n))))
        abort();
}

static void
network_create(struct json_object *body)
{
    struct json_object *configs = berth_json_member(berth_json_member(body, "IPAM"), "Config");
    if (!configs || !json_object_is_type(configs, json_type_array))
        return;
    for (size_t i = 0; i < json_object_array_length(configs) && i < 4; i++) {
        struct json_object *c = json_object_array_get_idx(configs, i);
        address(c, "Subnet", true);
        address(c, "Gateway", false);
        address(c, "IPRange", true);
    }
}

static void
volume_create(struct json_object *body)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    const char *name = NULL;
    if (berth_json_get_string(body, "Name", &name, &err) < 0 || !name)
        return;
    if (eng_volume_name_check(name, &err) < 0 && !err.msg)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned kind = data[0] % 7;
    cleanup_free char *body_text = xstrndup((const char *)data + 1, size - 1);
    if (kind == 5) {
        (void)ctr_name_valid(body_text);
        return 0;
    }
    struct eng_api_req req = {.method = "POST", .body = (char *)data + 1, .body_len = size - 1};
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    cleanup_json struct json_object *body = NULL;
    if (eng_api_body_json(&req, &body, &err) < 0) {
        if (!err.msg || body)
            abort();
        return 0;
    }
    if (!body)
        return 0;
    switch (kind) {
    case 0: spec(body, NULL); break;
    case 1: {
        cleanup_json struct json_object *create = json_tokener_parse("{\"Image\":\"busybox\"}");
        spec(create, body);
        break;
    }
    case 2: exec_create(body); break;
    case 3: network_create(body); break;
    case 4: volume_create(body); break;
    case 6: update(body); break;
    }
    return 0;
}
