/* SPDX-License-Identifier: Apache-2.0
 *
 * Container calls that several commands make (run, start -a, attach, wait).
 */
#ifndef BERTH_ENGINE_CLI_CONTAINER_H
#define BERTH_ENGINE_CLI_CONTAINER_H

#include <stdbool.h>
#include <stdint.h>

struct berth_err;
struct json_object;
struct cli_global;

/* POST /containers/{id}/wait?condition=...; *code gets StatusCode. A wait answered with an
 * "Error" object is an error naming it. */
int cli_container_wait(const struct cli_global *g, const char *id, const char *condition,
                       int64_t *code, struct berth_err *err);

/* GET /containers/{id}/json; a new reference in *out. */
int cli_container_inspect(const struct cli_global *g, const char *id, struct json_object **out,
                          struct berth_err *err);

/* Attach to a container that may not have started yet, start it when start is true, copy
 * its stdio until it ends, and leave its exit code in *code when wait is true (the wait is
 * asked for before the start, so it cannot miss the exit). tty, use_stdin: as for the pump;
 * sig_proxy: signals to berth go on to the container (without a terminal); detach_keys:
 * as for the pump (NULL: ctrl-p,ctrl-q). A detach leaves the container running and *code 0. */
int cli_container_attach_run(const struct cli_global *g, const char *id, bool start, bool tty,
                             bool use_stdin, bool wait, const char *wait_condition, bool sig_proxy,
                             const char *detach_keys, int64_t *code, struct berth_err *err);

#endif
