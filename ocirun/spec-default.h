/* SPDX-License-Identifier: Apache-2.0
 *
 * The configuration `ocirun spec` writes: a busybox-friendly container running `sh` with the
 * usual namespaces, mounts, masked and read-only paths; --rootless adapts it to run as the
 * calling user in a user namespace. Also the `features` document.
 */
#ifndef BERTH_OCIRUN_SPEC_DEFAULT_H
#define BERTH_OCIRUN_SPEC_DEFAULT_H

#include <stdbool.h>
#include <sys/types.h>

struct json_object;

/* A new config.json object. uid/gid are the caller's, used only when rootless. */
struct json_object *ocirun_spec_default(bool rootless, uid_t uid, gid_t gid);

/* The runtime-spec features document (features.md) describing this build of ocirun. */
struct json_object *ocirun_spec_features(void);

#endif
