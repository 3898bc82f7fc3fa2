/* SPDX-License-Identifier: Apache-2.0
 *
 * docker's JSON message streams (pull, push, load) shown as docker shows them: on a terminal
 * one line per layer id, rewritten in place with its progress bar; elsewhere one line per
 * status change. An {"error": ...} message ends the stream with that error.
 */
#ifndef BERTH_ENGINE_CLI_PROGRESS_H
#define BERTH_ENGINE_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

struct berth_err;
struct cli_global;
struct cli_request;

struct cli_progress {
    FILE *out;
    bool tty;
    bool quiet; /* print nothing but errors */
    char **ids; /* the layer ids in the order their lines were printed (tty) */
    size_t n_ids;
    char *last_status; /* "id\x1fstatus" of the last line printed (not tty), to skip repeats */
};

/* Run req (its on_data is set here) and show its stream. Returns 0, or -1 with err: the
 * transport's or the stream's own error message. */
int cli_progress_run(const struct cli_global *g, struct cli_request *req, FILE *out, bool quiet,
                     struct berth_err *err);

#endif
