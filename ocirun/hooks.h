/* SPDX-License-Identifier: Apache-2.0
 *
 * OCI hooks. Who runs which, and where:
 *
 *   prestart, createRuntime  parent (runtime namespace), after the container's namespaces
 *                            and mounts exist, before pivot_root       - failure fails create
 *   createContainer          container init, in the container's namespaces, before
 *                            pivot_root (path resolved in the runtime's view)  - fails create
 *   startContainer           container init after `start`, before exec (path resolved
 *                            inside the container)                     - fails the process
 *   poststart                `start` / `run`, after the process was released - warning only
 *   poststop                 `delete`, after the container is gone     - warning only
 *
 * Each hook gets the container's state JSON on stdin, exactly its own env, its args (args[0]
 * is argv[0]), and is killed after `timeout` seconds. A failure's message carries the hook's
 * stderr.
 */
#ifndef BERTH_OCIRUN_HOOKS_H
#define BERTH_OCIRUN_HOOKS_H

#include <stddef.h>

struct berth_err;
struct json_object;

enum ocirun_hook_kind {
    OCIRUN_HOOK_PRESTART = 0,
    OCIRUN_HOOK_CREATE_RUNTIME,
    OCIRUN_HOOK_CREATE_CONTAINER,
    OCIRUN_HOOK_START_CONTAINER,
    OCIRUN_HOOK_POSTSTART,
    OCIRUN_HOOK_POSTSTOP,
    OCIRUN_HOOK_COUNT,
};

/* The spec's name of a kind ("createRuntime"). */
const char *ocirun_hook_kind_name(enum ocirun_hook_kind kind);

/* Check the `hooks` object of config.json (obj may be NULL): each kind an array of objects
 * with an absolute `path`, optional string arrays `args` and `env`, and a positive integer
 * `timeout`. */
int ocirun_hooks_check(struct json_object *hooks, struct berth_err *err);

/* Run every hook of one kind from the `hooks` object, in order, each with state_json on stdin.
 * Stops at the first failure (returns -1 with err "<kind> hook `path`: exit status 2: <stderr>").
 * A NULL hooks object or an absent kind runs nothing. */
int ocirun_hooks_run(struct json_object *hooks, enum ocirun_hook_kind kind, const char *state_json,
                     struct berth_err *err);

/* Run them as a warning-only stage: failures are logged, never returned. */
void ocirun_hooks_run_warn(struct json_object *hooks, enum ocirun_hook_kind kind,
                           const char *state_json);

#endif
