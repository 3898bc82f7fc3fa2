/* SPDX-License-Identifier: Apache-2.0
 *
 * What the files of the spec generator share: the context one generation fills, the typed
 * readers of body fields whose errors name the field the way the API spells it
 * ("HostConfig.Memory: expected an integer, got a string"), and one entry point a concern,
 * called in the order spec.c gives and says why.
 */
#ifndef BERTH_ENGINE_SPEC_SPEC_INTERNAL_H
#define BERTH_ENGINE_SPEC_SPEC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/spec/spec.h"

struct spec_ctx {
    const struct engine_spec_input *in;
    struct json_object *config;    /* the body: Config fields (section "Config") */
    struct json_object *host;      /* HostConfig, or NULL */
    struct json_object *image;     /* the image config, or NULL */
    struct json_object *spec;      /* the config.json being built */
    struct json_object *oci_linux; /* spec.linux */
    bool privileged;
    bool net_host, ipc_host, pid_host, uts_host;
    bool ipc_none;
    bool readonly_rootfs;
    struct json_object *caps; /* the final capability names (array), set by security.c */
    /* SecurityOpt seccomp=: unconfined, or a profile of the caller's (owned; put at the end) */
    bool seccomp_unconfined;
    struct json_object *seccomp_profile;
};

/* Typed readers. Each returns 1 and sets *out when key is present with the right type, 0
 * when it is absent or null, -1 with EINVAL "<section>.<key>: expected <type>, got <type>". */
int spec_get_string(struct json_object *obj, const char *section, const char *key, const char **out,
                    struct berth_err *err);
int spec_get_bool(struct json_object *obj, const char *section, const char *key, bool *out,
                  struct berth_err *err);
int spec_get_int64(struct json_object *obj, const char *section, const char *key, int64_t *out,
                   struct berth_err *err);
int spec_get_object(struct json_object *obj, const char *section, const char *key,
                    struct json_object **out, struct berth_err *err);
int spec_get_array(struct json_object *obj, const char *section, const char *key,
                   struct json_object **out, struct berth_err *err);
/* An array whose items must all be strings ("<section>.<key>[2]: expected a string, ..."). */
int spec_get_string_array(struct json_object *obj, const char *section, const char *key,
                          struct json_object **out, struct berth_err *err);
/* Docker's "strslice": an array of strings, or one string standing for a one-item array.
 * *out is a new array the caller puts. */
int spec_get_strslice(struct json_object *obj, const char *section, const char *key,
                      struct json_object **out, struct berth_err *err);
/* "a string", "an object": the type of v with its article, for messages. */
const char *spec_type_phrase(struct json_object *v);

/* Small builders. */
struct json_object *spec_strv_array(const char *const *v);
void spec_add_string(struct json_object *obj, const char *key, const char *value);
struct json_object *spec_mount(const char *dest, const char *type, const char *source,
                               const char *const *options);

/* True when the engine itself holds capability cap in its effective set. */
bool spec_self_has_cap(int cap);
/* The engine's own bounding set, as a bit mask (all ones when it cannot be read). */
uint64_t spec_self_bounding(void);

/* The concerns, in the order engine_spec_generate calls them. */
int spec_namespaces(struct spec_ctx *c, struct berth_err *err);
int spec_security(struct spec_ctx *c, struct berth_err *err);
int spec_process(struct spec_ctx *c, struct berth_err *err);
int spec_mounts(struct spec_ctx *c, struct berth_err *err);
int spec_resources(struct spec_ctx *c, struct berth_err *err);
int spec_devices(struct spec_ctx *c, struct berth_err *err);
int spec_seccomp(struct spec_ctx *c, struct berth_err *err);

/* user.c: resolve Config.User and GroupAdd inside the rootfs (process.user). */
struct spec_user {
    uint32_t uid, gid;
    uint32_t *gids;
    size_t n_gids;
};
int spec_user_resolve(const char *rootfs, const char *user, struct json_object *group_add,
                      struct spec_user *out, struct berth_err *err);
void spec_user_free(struct spec_user *u);

#endif
